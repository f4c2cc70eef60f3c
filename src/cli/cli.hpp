#pragma once
// Shared pieces of the command line: exit codes, the error type that carries
// one, and the flag groups several subcommands share.
#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "deepnet/data.hpp"
#include "deepnet/error.hpp"
#include "deepnet/fit.hpp"
#include "deepnet/model_file.hpp"
#include "deepnet/init.hpp"
#include "deepnet/network.hpp"
#include "deepnet/preprocess.hpp"
#include "deepnet/rng.hpp"

namespace deepnet::cli {

// Exit codes (DESIGN.md): usage 2, data 3, model file 4, anything else 1.
// exit_model (4) is also every failed write of an output file (model, history,
// predictions, export, pictures, search log): one code for "a file could not be
// read as a model or written".
enum ExitCode { exit_ok = 0, exit_other = 1, exit_usage = 2, exit_data = 3, exit_model = 4 };

// An error the CLI prints as one line "deepnet: error: ..." with its exit code.
struct CliError : std::runtime_error {
  CliError(ExitCode code, const std::string& message) : std::runtime_error(message), code(code) {}
  ExitCode code;
};

// An error every rank of an MPI job found (or learned of) at the same point
// (cli/mpi_support.cpp agree()): each rank exits with it, rank 0 prints it.
struct AgreedError : CliError {
  using CliError::CliError;
};

// ---- MPI (cli/mpi_support.cpp)
// The MPI world when this process was started by an MPI launcher (null
// otherwise). Ranks other than 0 print nothing from then on (their stdout and
// stderr go to /dev/null; fatal errors of their own still reach the terminal).
// CliError (usage) when started by mpirun with several ranks but built
// without MPI.
Communicator* cli_communicator();
// Runs `phase` on every rank, then shares the outcome: when any rank failed,
// every rank throws AgreedError with the message and exit code of the lowest
// failing rank. Without MPI (comm null or 1 rank) it just runs phase.
void agree(Communicator* comm, const std::function<void()>& phase);
// The machine's cores shared among the ranks of `comm` on this machine (the
// launcher's local rank count; all ranks when it does not say): the default
// threads (train) or jobs (search) of one rank.
int cores_per_local_rank(const Communicator& comm);
// main()'s last word on an error: under MPI with several ranks, an error not
// agreed by all ranks ends the whole job (MPI_Abort) so that none waits forever.
void end_job_after_error(int code, bool agreed, const std::string& message);

// Runs f; turns a deepnet::Error into a CliError with `code`.
template <typename F>
auto with_exit_code(ExitCode code, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const CliError&) {
    throw;
  } catch (const Error& e) {
    throw CliError(code, e.what());
  }
}

// --data, --label-column, --delimiter, --header, --no-header, --drop-missing, --x-key, --y-key, --labels, --examples-as-columns,
// --max-memory
struct DataFlags {
  std::string data;
  std::string label_column;
  std::string delimiter;
  bool no_header = false;     // --no-header: the same as --header no
  std::string header;         // --header yes|no|auto; empty: auto
  bool drop_missing = false;  // --drop-missing: drop rows whose label is missing
  ArrayOptions arrays;
  std::string max_memory;  // as given; empty: the default limit (the memory available)
};
// --max-memory SIZE (512M, 2G, 1.5G, 100000, unlimited): the loaders' memory limit
// (deepnet/limits.hpp), set for the whole process as the command line is parsed,
// so it covers model files read before the data too. A bad SIZE is a usage error
// (exit 2). add_data_flags adds it; commands without data flags may add it alone.
void add_max_memory_flag(CLI::App& cmd, std::string& value);
void add_data_flags(CLI::App& cmd, DataFlags& flags, const std::string& data_help);
CsvOptions csv_options(const DataFlags& flags);  // CliError(usage) on a bad --delimiter
// Loads --data (or `path` with the same CSV options); errors exit with 3.
// Prints the loader's notes (print_notes).
Dataset load_data(const DataFlags& flags, const std::string& path);
// The same with explicit loader options; notes: print the loader's notes.
Dataset load_data(const DataFlags& flags, const std::string& path, const CsvOptions& options,
                  const ArrayOptions& arrays, bool notes);
// Data for a saved model (evaluate, predict): the label column found by the
// model's label name (or the last column when the file lacks that name), the
// features matched to the model's by name (position for headerless files),
// refusing missing and extra columns. need_labels: evaluating (labels required).
Dataset load_for_model(const DataFlags& flags, const Model& model, const std::string& model_path, bool need_labels);
// The same for any reference: feature names (empty: by position), label name,
// feature count and how to name it in messages ("the training data d.csv").
Dataset load_like(const DataFlags& flags, const std::string& path, const std::vector<std::string>& feature_names,
                  const std::string& target_name, int features, const std::string& reference, bool need_labels);
// Prints each of the data set's notes to stderr: "deepnet: note: SOURCE: NOTE".
void print_notes(const Dataset& data);
// Throws Error naming the example and feature of the first non-finite value.
void check_finite_features(const Dataset& data);

// --layers, --hidden-activation, --output, --leaky-slope, --init, --init-scale, --rng, --seed, --dtype, --precision
struct NetworkFlags {
  std::string layers;
  std::string hidden_activation = "relu";
  std::string output;  // empty: inferred from the labels
  double leaky_slope = 0.01;
  std::string init = "auto";
  double init_scale = 0.01;
  std::string rng = "portable";
  std::uint64_t seed = 1;
  std::string dtype = "float32";
  std::string precision = "float32";  // --precision: float32 or bf16 products
};
void add_network_flags(CLI::App& cmd, NetworkFlags& flags);
// --precision (train only: the commands that train).
void add_precision_flag(CLI::App& cmd, NetworkFlags& flags);

// The settings of NetworkFlags, checked (CliError with exit 2 otherwise).
struct NetworkPlan {
  std::vector<int> hidden;
  std::vector<Activation> activations;
  InitScheme init = InitScheme::xavier;
  RngKind rng = RngKind::portable;
};
NetworkPlan plan_network(const NetworkFlags& flags);
// The architecture for data with n_x features.
Architecture make_architecture(const NetworkFlags& flags, const NetworkPlan& plan, int features,
                               const TargetEncoding& encoding);

// The network part of the library's FitSettings from these flags (CliError exit 2 on a bad value).
void apply_network_flags(const NetworkFlags& flags, FitSettings& settings);

// The flag that sets a FitSettings field (for the library's SettingError), e.g. learning_rate -> --lr.
std::string flag_for_setting(const std::string& setting);

// Runs f, mapping the library's errors to the CLI's: SettingError -> exit 2
// with the flag's name, TrainingDiverged -> 1, any other Error -> `data_code`.
template <typename F>
auto with_fit_errors(ExitCode data_code, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const CliError&) {
    throw;
  } catch (const SettingError& e) {
    throw CliError(exit_usage, flag_for_setting(e.setting()) + ": " + e.message());
  } catch (const TrainingDiverged& e) {
    throw CliError(exit_other, e.what());
  } catch (const Error& e) {
    throw CliError(data_code, e.what());
  }
}

std::vector<std::string> split_list(const std::string& text, char separator = ',');

using Runner = std::function<int()>;

// train's flags on a command that trains as train does (trace; train_command.cpp).
struct TrainingInputs {
  FitSettings settings;     // checked as train checks them (usage errors exit 2)
  Dataset train;            // loaded as train loads it (exit 3)
  Dataset validation;       // --validation, when has_validation
  bool has_validation = false;
  std::optional<Checkpoint> resume;  // --resume
  std::string out;          // --out as given (checked writable, exit 4)
  bool quiet = false;
};
// Adds every flag of train to cmd, with out_help as --out's help. The
// returned function, called after parsing, refuses the flags of `refused`
// that were given (flag -> why, a usage error "FLAG: why"), then checks the
// settings and loads the data.
std::function<TrainingInputs()> add_train_flags(CLI::App& cmd, const std::string& out_help,
                                                const std::vector<std::pair<std::string, std::string>>& refused);
Runner add_train_command(CLI::App& app);
Runner add_evaluate_command(CLI::App& app);
Runner add_predict_command(CLI::App& app);
Runner add_summary_command(CLI::App& app);
Runner add_gradcheck_command(CLI::App& app);
Runner add_info_command(CLI::App& app);
Runner add_datasets_command(CLI::App& app);
Runner add_export_command(CLI::App& app);
Runner add_import_command(CLI::App& app);
Runner add_plot_command(CLI::App& app);
Runner add_search_command(CLI::App& app);
Runner add_trace_command(CLI::App& app);

}  // namespace deepnet::cli
