#pragma once
// What the CLI tests share: running the built deepnet binary (DEEPNET_BINARY)
// as a user would in a fresh temporary directory and capturing its stdout,
// stderr and exit status; writing and reading files there; and starting a
// child directly (fork + execve) for the tests that SIGKILL it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.hpp"

extern char** environ;

namespace deepnet::test {

namespace fs = std::filesystem;

// What a run of the binary left: its exit status and what it printed.
struct CliResult {
  int status = -1;  // the exit code, or 128 + the signal that ended it (as a shell reports it)
  std::string out, err;
};

// A wait status (std::system, waitpid) as a shell reports it: the exit code or 128 + the signal.
inline int exit_status(int raw) { return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw); }

// A wait status in words, for failure messages.
inline std::string describe_status(int raw) {
  if (WIFEXITED(raw)) return "exit " + std::to_string(WEXITSTATUS(raw));
  if (WIFSIGNALED(raw)) return "signal " + std::to_string(WTERMSIG(raw));
  return "status " + std::to_string(raw);
}

// TEXT in single quotes for sh, with each ' inside written as '\''.
inline std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// fork + execve of argv[0] (a path, not searched in PATH) in `cwd`, with this
// process's environment changed by `env`: "NAME=value" sets NAME, a bare "NAME"
// removes it. stdin and stdout are /dev/null; stderr is appended to `err_log`,
// or /dev/null when it is empty. Returns the child's pid; the caller waits for it.
inline pid_t spawn(const std::vector<std::string>& args, const fs::path& cwd, const std::vector<std::string>& env = {},
                   const fs::path& err_log = {}) {
  if (args.empty()) throw std::runtime_error("spawn: no program");
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    bool changed = false;
    for (const std::string& change : env) changed = changed || change.substr(0, change.find('=')) == name;
    if (!changed) environment.push_back(entry);
  }
  for (const std::string& change : env)
    if (change.find('=') != std::string::npos) environment.push_back(change);
  std::vector<char*> argv, envp;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string dir = cwd.string();
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const int err_fd =
      err_log.empty() ? ::fcntl(null_fd, F_DUPFD_CLOEXEC, 0) : ::open(err_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (null_fd < 0 || err_fd < 0) throw std::runtime_error("spawn: cannot open the child's stderr log or /dev/null");
  const pid_t pid = ::fork();
  if (pid == 0) {  // only async-signal-safe calls from here on
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(err_fd);
  ::close(null_fd);
  if (pid < 0) throw std::runtime_error("spawn: fork failed");
  return pid;
}

// A test in its own temporary directory (removed afterwards) that runs the
// built binary there. dir_ is that directory.
class CliTest : public ::testing::Test {
 protected:
  explicit CliTest(const std::string& prefix = "deepnet-cli") : tmp_(prefix), dir_(tmp_.path()) {}

  // Runs `deepnet ARGS` (ARGS already shell-quoted) in the temporary directory.
  CliResult run(const std::string& args) { return run_with_env("", args); }

  // The same with shell text in front, such as environment assignments ("NAME=value ...").
  CliResult run_with_env(const std::string& env, const std::string& args) {
    const std::string command = "cd " + shell_quote(dir_.string()) + " && " + env + " " +
                                shell_quote(DEEPNET_BINARY) + " " + args + " >stdout.txt 2>stderr.txt";
    CliResult r;
    r.status = exit_status(std::system(command.c_str()));
    r.out = read("stdout.txt");
    r.err = read("stderr.txt");
    return r;
  }

  // Runs `deepnet ARGS` under a pseudo-terminal (util-linux `script`); out holds what the terminal showed.
  CliResult run_in_terminal(const std::string& args) {
    const std::string inner = shell_quote(DEEPNET_BINARY) + " " + args;
    const std::string command =
        "cd " + shell_quote(dir_.string()) + " && script -qec " + shell_quote(inner) + " /dev/null >terminal.txt 2>&1";
    CliResult r;
    r.status = exit_status(std::system(command.c_str()));
    r.out = read("terminal.txt");
    return r;
  }

  // Runs a shell command in the temporary directory; its exit status as a shell reports it.
  int shell(const std::string& command) {
    return exit_status(std::system(("cd " + shell_quote(dir_.string()) + " && " + command).c_str()));
  }

  // Writes, or reads back ("" when absent), a file in the temporary directory.
  void write(const std::string& name, const std::string& content) { write_bytes((dir_ / name).string(), content); }
  std::string read(const std::string& name) const { return read_bytes((dir_ / name).string()); }

  TempDir tmp_;
  fs::path dir_;
};

}  // namespace deepnet::test
