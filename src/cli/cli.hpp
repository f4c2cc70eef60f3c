#pragma once
// Shared pieces of the command line: exit codes and the error type that carries one.
#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>

namespace deepnet::cli {

// Exit codes (DESIGN.md): usage 2, data 3, model file 4, anything else 1.
enum ExitCode { exit_ok = 0, exit_other = 1, exit_usage = 2, exit_data = 3, exit_model = 4 };

// An error the CLI prints as one line "deepnet: error: ..." with its exit code.
struct CliError : std::runtime_error {
  CliError(ExitCode code, const std::string& message) : std::runtime_error(message), code(code) {}
  ExitCode code;
};

// Each subcommand registers its flags and returns the function that runs it.
using Runner = std::function<int()>;
Runner add_train_command(CLI::App& app);

}  // namespace deepnet::cli
