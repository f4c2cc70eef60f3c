// deepnet command line: subcommand dispatch and error reporting. No math here.
#include <Eigen/Core>
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>

#include <thread>

#include "cli/cli.hpp"
#include "cli/flag_names.hpp"
#include "deepnet/error.hpp"
#include "deepnet/gemm.hpp"

int main(int argc, char** argv) {
  using namespace deepnet::cli;
  // deepnet shares out the work itself (deepnet::set_threads; all cores unless
  // --threads says otherwise); Eigen never starts threads of its own. The bits
  // do not depend on the thread count.
  Eigen::setNbThreads(1);
  deepnet::set_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  // Eigen's matrix products allocate packing buffers on every call; with glibc's
  // defaults the large ones are mmap'ed and unmapped each time, and the page
  // faults cost about a tenth of a training step. Keep them in the heap instead.
  ::mallopt(M_MMAP_THRESHOLD, 256 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 512 << 20);
  CLI::App app{"deepnet: fully connected neural networks (logistic regression, shallow and deep "
               "L-layer nets) in the course's notation"};
  app.name("deepnet");
  app.set_version_flag("--version", std::string("deepnet ") + DEEPNET_VERSION);
  app.require_subcommand(1);
  std::map<CLI::App*, Runner> runners;
  const std::pair<const char*, Runner (*)(CLI::App&)> commands[] = {
      {"train", add_train_command},       {"evaluate", add_evaluate_command},
      {"predict", add_predict_command},   {"summary", add_summary_command},
      {"gradcheck", add_gradcheck_command}, {"info", add_info_command},
      {"datasets", add_datasets_command}, {"export", add_export_command},
      {"import", add_import_command},     {"plot", add_plot_command},
      {"search", add_search_command},     {"trace", add_trace_command}};
  // Setting up every subcommand's flags costs about 0.7 ms (a sixth of what
  // a short training run's start was): when the first argument names a
  // subcommand, only that one is set up. The parse, the help and the errors
  // of that subcommand are the same; anything else (no subcommand, --help,
  // --version, a misspelt name) gets all of them.
  const auto* only = argc > 1 ? std::find_if(std::begin(commands), std::end(commands),
                                             [&](const auto& c) { return std::strcmp(c.first, argv[1]) == 0; })
                              : std::end(commands);
  for (const auto& [name, add] : commands) {
    if (only != std::end(commands) && name != only->first) continue;
    Runner run = add(app);
    runners[app.get_subcommand(name)] = run;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    if (message.empty()) message = "invalid command line";
    std::cerr << "deepnet: error: " << message << " (see 'deepnet --help')\n";
    return exit_usage;
  }
  try {
    for (auto& [command, run] : runners)
      if (command->parsed()) return run();
    std::cerr << "deepnet: error: no subcommand given (see 'deepnet --help')\n";
    return exit_usage;
  } catch (const CliError& e) {
    const std::string message = with_flag_names(e.what());
    std::cerr << "deepnet: error: " << message << '\n';
    end_job_after_error(e.code, dynamic_cast<const AgreedError*>(&e) != nullptr, message);
    return e.code;
  } catch (const deepnet::Error& e) {
    const std::string message = with_flag_names(e.what());
    std::cerr << "deepnet: error: " << message << '\n';
    end_job_after_error(exit_other, false, message);
    return exit_other;
  } catch (const std::bad_alloc&) {
    std::cerr << "deepnet: error: out of memory\n";
    end_job_after_error(exit_other, false, "out of memory");
    return exit_other;
  } catch (const std::exception& e) {
    std::cerr << "deepnet: error: " << e.what() << '\n';
    end_job_after_error(exit_other, false, e.what());
    return exit_other;
  }
}
