// The `deepnet search` command (docs/search.md): its flags, and run_search,
// which checks them, builds the settings (space.hpp, settings.hpp), loads the
// data and splits it into the parts each setting is scored on, runs the trials
// (runner.hpp) with grid, random or successive halving, retrains the best, and
// prints the result (report.hpp). Trials run on --jobs threads, each
// single-threaded; every trial is seeded from --seed only, so the results never
// depend on timing or on --jobs. Finished trials go to a JSON-lines log
// (search_log.hpp) that --resume continues.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli.hpp"
#include "cli/search/interrupt.hpp"
#include "cli/search/report.hpp"
#include "cli/search/runner.hpp"
#include "cli/search/search_log.hpp"
#include "cli/search/search_picture.hpp"
#include "cli/search/settings.hpp"
#include "cli/search/space.hpp"
#include "deepnet/error.hpp"
#include "deepnet/files.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/model_file.hpp"
#include "deepnet/search.hpp"
#include "deepnet/train.hpp"
#include "plot/boundary.hpp"
#include "plot/svg.hpp"

namespace deepnet::cli {

namespace {

using namespace search;

// ---------------------------------------------------------------- flags

struct SearchSettings {
  DataFlags data;
  std::map<std::string, std::string> space_flags;  // parameter -> text, as given
  std::map<std::string, CLI::Option*> space_options;
  std::string space_file;
  std::string rng = "portable";
  std::string output;
  std::string task = "auto";
  std::uint64_t seed = 1;
  int folds = 5;
  bool folds_given = false;
  double val_split = 0;
  bool train_score = false;
  std::string strategy = "grid";
  int trials = 20;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string log;
  bool resume = false;
  std::string out;
  bool json = false;
  std::string plot;
  bool quiet = false;
  bool jobs_given = false;
};

// Ends an interrupted search (called off the signal handler, with the log
// stopped): says on stderr what was kept and how to continue, then exits
// 128 + the signal (130 for SIGINT, 143 for SIGTERM) at once.
[[noreturn]] void interrupted(int signo, int finished, const std::string& log) {
  const std::string message =
      log.empty() ? "deepnet: search interrupted; nothing was kept: give --log FILE to make a search resumable\n"
                  : "deepnet: search interrupted after " + std::to_string(finished) +
                        (finished == 1 ? " finished trial; it is in " : " finished trials; they are in ") + log +
                        ": run the same command with --resume to continue\n";
  std::fflush(stderr);
  std::size_t done = 0;
  while (done < message.size()) {
    const ssize_t n = ::write(STDERR_FILENO, message.data() + done, message.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::_exit(128 + signo);
}

int run_search_here(SearchSettings& s, Communicator* comm) {
  // Under MPI rank 0 alone prints and writes (the log, the model, the pictures);
  // every rank reads a log it resumes and ends with every trial's record.
  const bool writer = !comm || comm->rank() == 0;
  if (!writer) {
    s.out.clear();
    s.plot.clear();
    s.quiet = true;
  }
  if (comm && comm->size() > 1 && !s.jobs_given) s.jobs = cores_per_local_rank(*comm);
  // ---- settings first (usage errors, exit 2), then the data (exit 3)
  std::vector<Dimension> dims;
  std::set<std::string> given;
  if (!s.space_file.empty())
    for (Dimension& d : read_space_file(s.space_file)) {
      given.insert(d.param->name);
      dims.push_back(std::move(d));
    }
  for (const Param& p : params())
    if (s.space_options.at(p.name)->count() > 0) {
      if (given.count(p.name))
        throw CliError(exit_usage, std::string("--") + p.name + ": also given in " + s.space_file + "; give it once");
      given.insert(p.name);
      dims.push_back(parse_dimension(p, s.space_flags.at(p.name), std::string("--") + p.name));
    }
  // The table's order.
  std::stable_sort(dims.begin(), dims.end(), [](const Dimension& a, const Dimension& b) { return a.param < b.param; });

  if (s.strategy != "grid" && s.strategy != "random" && s.strategy != "halving")
    throw CliError(exit_usage, "--strategy: expected grid, random or halving, got '" + s.strategy + "'");
  if (s.strategy == "grid")
    for (const Dimension& d : dims)
      if (d.range)
        throw CliError(exit_usage, d.where + " " + d.given + ": a range needs --strategy random or halving; grid search "
                                   "takes lists such as a|b|c");
  if (s.trials < 1) throw CliError(exit_usage, "--trials: expected at least 1, got " + std::to_string(s.trials));
  if (s.jobs < 1) throw CliError(exit_usage, "--jobs: expected at least 1, got " + std::to_string(s.jobs));
  if (s.resume && s.log.empty()) throw CliError(exit_usage, "--resume needs --log FILE: the log of the search to continue");
  const bool val_split_given = s.val_split != 0;
  if (val_split_given && !(s.val_split > 0 && s.val_split < 1))
    throw CliError(exit_usage, "--val-split: expected a fraction between 0 and 1, got " + std::to_string(s.val_split));
  if (s.folds_given && s.folds == 0) s.train_score = true;
  if (s.folds_given && s.folds != 0 && s.folds < 2)
    throw CliError(exit_usage, "--folds: expected at least 2 folds (0: score on the training data), got " + std::to_string(s.folds));
  if (int(s.folds_given && !s.train_score) + int(val_split_given) + int(s.train_score) > 1)
    throw CliError(exit_usage, "--folds, --val-split and --train-score each choose how settings are scored; give one of them");
  with_exit_code(exit_usage, [&] { return parse_rng_kind(s.rng); });
  if (!s.output.empty()) with_exit_code(exit_usage, [&] { return parse_output(s.output); });

  // Mode: the course's full-batch loop when --iterations is searched, else mini-batch training.
  const bool course = given.count("iterations") > 0;
  if (course) {
    if (given.count("epochs"))
      throw CliError(exit_usage, "--iterations is full-batch gradient descent (the course's loop) and --epochs mini-batch "
                                 "training; search one of them");
    for (const char* flag : {"batch-size", "l2", "dropout", "schedule", "momentum"})
      if (given.count(flag))
        throw CliError(exit_usage, std::string("--") + flag + " belongs to mini-batch training: search --epochs "
                                   "instead of --iterations");
    for (const Dimension& d : dims)
      if (std::string(d.param->name) == "optimizer")
        for (const json& v : d.values)
          if (text_of(v) != "gd" && text_of(v) != "sgd")
            throw CliError(exit_usage, "--optimizer " + text_of(v) + " needs mini-batch training: search --epochs "
                                       "instead of --iterations");
  }
  const char* budget_name = course ? "iterations" : "epochs";

  std::vector<Setting> settings;
  if (s.strategy == "grid") {
    const long long n = grid_size(dims);
    if (n > 100000)
      throw CliError(exit_usage, "the grid has " + std::to_string(n) + " settings; narrow the lists or use --strategy random");
    settings = grid_settings(dims);
  } else {
    settings = random_settings(dims, s.trials, s.seed);
  }
  // Every setting checked now, before any training.
  std::vector<TrialSpec> specs;
  for (const Setting& setting : settings) {
    try {
      specs.push_back(resolve(setting, course, s.rng, s.seed, s.output));
    } catch (const CliError& e) {
      std::string message = e.what();
      if (message.find("(setting: ") == std::string::npos && settings.size() > 1) message += " (setting: " + describe(setting) + ")";
      throw CliError(e.code, message);
    } catch (const Error& e) {
      throw CliError(exit_usage, std::string(e.what()) + " (setting: " + describe(setting) + ")");
    }
  }

  // ---- the data and how settings are scored
  Dataset data = load_data(s.data, s.data.data);
  // The task and classes come from all of the data, shared by every setting and fold.
  FitSettings data_settings;
  data_settings.task = with_exit_code(exit_usage, [&] { return parse_task(s.task); });
  if (!s.output.empty()) data_settings.output = parse_output(s.output);
  const FitPlan data_plan = with_fit_errors(exit_data, [&] { return plan_fit(data, data_settings); });
  const TargetEncoding encoding = data_plan.encoding;
  const bool classification = encoding.output != Output::linear;
  for (std::size_t k = 0; k < settings.size(); ++k) {
    specs[k].fit.encoding = encoding;
    try {
      with_fit_errors(exit_usage, [&] { return plan_fit(data, specs[k].fit); });
    } catch (const CliError& e) {
      throw CliError(e.code, std::string(e.what()) + (settings.size() > 1 ? " (setting: " + describe(settings[k]) + ")" : ""));
    }
  }
  std::vector<Part> parts;
  std::string evaluation;
  auto shared = std::make_shared<const Dataset>(data);
  if (s.train_score) {
    parts.push_back({shared, shared});
    evaluation = "training";
  } else if (val_split_given) {
    auto split = with_exit_code(exit_data, [&] { return split_dataset(data, s.val_split, classification, s.seed); });
    parts.push_back({std::make_shared<const Dataset>(std::move(split.first)),
                     std::make_shared<const Dataset>(std::move(split.second))});
    char text[48];
    std::snprintf(text, sizeof text, "val-split %g", s.val_split);
    evaluation = text;
  } else {
    const auto folds = with_exit_code(exit_data, [&] { return kfold_indices(data, s.folds, classification, s.seed); });
    for (std::size_t f = 0; f < folds.size(); ++f) {
      auto pair = fold_parts(data, folds, f);
      parts.push_back({std::make_shared<const Dataset>(std::move(pair.first)),
                       std::make_shared<const Dataset>(std::move(pair.second))});
    }
    evaluation = std::to_string(s.folds) + "-fold";
  }
  const std::string metric = classification ? "accuracy" : "mse";

  json context = json::object();
  context["data"] = s.data.data;
  for (const auto& [key, value] :
       {std::pair<const char*, std::string>{"label-column", s.data.label_column}, {"delimiter", s.data.delimiter},
        {"x-key", s.data.arrays.x_key}, {"y-key", s.data.arrays.y_key}, {"labels", s.data.arrays.labels_path},
        {"output", s.output}, {"task", s.task == "auto" ? std::string() : s.task}})
    if (!value.empty()) context[key] = value;
  if (s.data.no_header) context["no-header"] = true;
  if (s.data.arrays.examples_as_columns) context["examples-as-columns"] = true;
  context["evaluation"] = evaluation;
  context["seed"] = s.seed;
  context["rng"] = s.rng;

  // ---- the log
  std::map<std::string, SearchRecord> logged;
  std::unique_ptr<LogWriter> log;
  if (!s.log.empty()) {
    std::size_t keep = 0;
    if (s.resume) {
      const SearchLog previous = read_search_log(s.log, true);
      for (const SearchRecord& r : previous.records) logged.emplace(r.key(), r);
      keep = previous.complete_bytes;
      if (!s.quiet && previous.torn)
        std::fprintf(stderr, "%s: skipped a half-written last line (a search stopped while writing it)\n", s.log.c_str());
    }
    if (writer) log = std::make_unique<LogWriter>(s.log, s.resume, keep);
  }

  // ---- the trials, each single-threaded (the bits do not depend on the thread count)
  set_threads(1);
  Eigen::initParallel();  // Eigen is called from several threads at once
  // What was decided from the labels, before the first trial line.
  if (!s.quiet) {
    std::fprintf(stderr, "task: %s: %s%s\n", std::string(to_string(data_plan.task.task)).c_str(),
                 data_plan.task.reason.c_str(), data_settings.task == Task::automatic ? " (--task classify|regress overrides)" : "");
    for (const std::string& w : data_plan.task.warnings) std::fprintf(stderr, "deepnet: warning: %s\n", w.c_str());
  }
  if (!s.quiet && comm && comm->size() > 1)
    std::fprintf(stderr, "search: %s x %d job%s; the trials (and their folds) are dealt out to the ranks in turn, "
                 "rank 0 writes the log; the results are those of one process\n",
                 comm->describe().c_str(), s.jobs, s.jobs == 1 ? "" : "s");
  TrialRunner runner(s.jobs, s.quiet, parts, context, metric, std::move(logged), log.get(), comm);
  // Ctrl-C or SIGTERM during the trials: one line on how to go on, exit 128 + the signal.
  std::optional<InterruptWatch> interrupts;
  interrupts.emplace([&](int signo) { interrupted(signo, runner.stop_logging(), s.log); });
  std::vector<std::unique_ptr<Trial>> trials;
  auto add_trial = [&](const Setting& setting, const TrialSpec& spec, int round) {
    auto t = std::make_unique<Trial>();
    t->setting = setting;
    t->spec = spec;
    t->record.trial = static_cast<int>(trials.size());
    t->record.round = round;
    trials.push_back(std::move(t));
    return trials.back().get();
  };
  const Trial* winner = nullptr;
  std::vector<const Trial*> shown;  // the table's rows
  if (s.strategy != "halving") {
    runner.set_total(static_cast<int>(settings.size()));
    std::vector<Trial*> batch;
    for (std::size_t k = 0; k < settings.size(); ++k) batch.push_back(add_trial(settings[k], specs[k], 0));
    runner.run(batch);
    for (const auto& t : trials) shown.push_back(t.get());
  } else {
    const std::vector<HalvingRound> rounds = halving_rounds(static_cast<int>(settings.size()), 3);
    int total = 0;
    for (const HalvingRound& r : rounds) total += r.settings;
    runner.set_total(total);
    std::vector<std::size_t> alive(settings.size());
    for (std::size_t k = 0; k < alive.size(); ++k) alive[k] = k;
    std::vector<const Trial*> last_of(settings.size(), nullptr);
    for (std::size_t r = 0; r < rounds.size(); ++r) {
      std::vector<Trial*> batch;
      for (std::size_t k : alive) {
        Setting setting = settings[k];
        TrialSpec spec = specs[k];
        int& budget = course ? spec.fit.iterations : spec.fit.epochs;
        budget = static_cast<int>(halving_budget(budget, rounds[r].divisor));
        if (course) spec.fit.record_every = budget;
        setting[budget_name] = budget;
        Trial* t = add_trial(setting, spec, static_cast<int>(r));
        batch.push_back(t);
        last_of[k] = t;
      }
      runner.run(batch);
      if (r + 1 == rounds.size()) break;
      std::vector<std::size_t> ranked = alive;
      std::stable_sort(ranked.begin(), ranked.end(),
                       [&](std::size_t a, std::size_t b) { return better(last_of[a]->record, last_of[b]->record); });
      ranked.resize(static_cast<std::size_t>(rounds[r + 1].settings));
      std::sort(ranked.begin(), ranked.end());
      alive = ranked;
    }
    winner = last_of[alive.front()];
    for (const Trial* t : last_of) shown.push_back(t);
  }

  interrupts.reset();  // the trials are over

  std::stable_sort(shown.begin(), shown.end(), [](const Trial* a, const Trial* b) {
    if (a->record.round != b->record.round) return a->record.round > b->record.round;
    return better(a->record, b->record);
  });
  if (!winner) winner = shown.front();
  if (winner->record.failed()) {
    const Trial* best_ok = nullptr;
    for (const Trial* t : shown)
      if (!t->record.failed()) {
        best_ok = t;
        break;
      }
    if (!best_ok)
      throw CliError(exit_other, "every trial failed; the first: trial " + std::to_string(trials.front()->record.trial) +
                                     ": " + trials.front()->record.error);
    winner = best_ok;
  }
  if (!s.quiet && runner.from_log() > 0)
    std::fprintf(stderr, "%d of %zu trials taken from %s\n", runner.from_log(), trials.size(), s.log.c_str());

  // ---- a setting retrained on all of the data, as a model
  auto model_of = [&](const TrialSpec& spec) {
    return with_fit_errors(exit_other, [&] { return fit(data, nullptr, spec.fit).model; });
  };
  if (!s.out.empty()) {
    set_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    const Model model = model_of(winner->spec);
    with_exit_code(exit_model, [&] {
      save_model(s.out, model);
      return 0;
    });
  }

  // ---- the picture
  std::vector<SearchRecord> records;
  for (const auto& t : trials) records.push_back(t->record);
  if (!s.plot.empty()) {
    with_exit_code(exit_model, [&] {
      std::error_code ec;
      std::filesystem::create_directories(s.plot, ec);
      if (ec) throw Error(s.plot + ": cannot create the folder: " + ec.message());
      const auto [width, height] = search_plot_size(records, "");
      plot::Svg svg(width, height);
      draw_search_plot(svg, records, "", "search: " + std::filesystem::path(s.data.data).filename().string() + ", " +
                                             evaluation + " " + metric);
      io::write_file_atomically((std::filesystem::path(s.plot) / "search.svg").string(), svg.str());
      return 0;
    });
    // 2-D classification data: each final setting's decision boundary, trained on all
    // the data (the course's one picture per hidden size), with its model beside it.
    if (data.features() == 2 && encoding.output != Output::linear) {
      set_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
      for (const auto& t : trials) {
        if (t->record.failed() || (winner && t->record.round != winner->record.round)) continue;
        const std::string stem = (std::filesystem::path(s.plot) / ("trial-" + std::to_string(t->record.trial))).string();
        const Model model = model_of(t->spec);
        with_exit_code(exit_model, [&] {
          save_model(stem + ".dnn", model);
          return 0;
        });
        // As `deepnet plot boundary --model FOLDER/trial-N.dnn` draws it: the title names
        // the model file (its trial) and the accuracy on all the data.
        const plot::ClassifiedExamples answers =
            with_exit_code(exit_data, [&] { return plot::classify_examples(model, data); });
        plot::Svg svg(plot::picture_width, plot::picture_height);
        with_exit_code(exit_data, [&] {
          plot::draw_boundary(svg, plot::boundary_title(stem + ".dnn", s.data.data, answers.accuracy), model, data.values(),
                              answers.truth, data.feature_names);
          return 0;
        });
        with_exit_code(exit_model, [&] {
          io::write_file_atomically(stem + "-boundary.svg", svg.str());
          return 0;
        });
      }
    }
  }

  // ---- the result
  SearchResult result;
  result.strategy = s.strategy;
  result.evaluation = evaluation;
  result.metric = metric;
  result.scoring = s.train_score ? metric + " on the training data"
                   : val_split_given ? metric + " on a " + evaluation.substr(10) + " validation split"
                                     : std::string(s.folds > 1 && classification ? "stratified " : "") + evaluation +
                                           " cross-validated " + metric;
  result.trials = trials.size();
  result.parts = parts.size();
  for (const auto& [key, value] : trials.front()->setting.items()) result.columns.push_back(key);
  for (const Trial* t : shown) result.rows.push_back(&t->record);
  result.best = &winner->record;
  result.log = s.log;
  result.model = s.out;
  if (!s.plot.empty()) result.picture = (std::filesystem::path(s.plot) / "search.svg").string();
  result.examples = static_cast<long long>(data.examples());
  if (s.json)
    print_json_result(result);
  else
    print_result(result);
  return exit_ok;
}

// Under MPI the whole search is one agreed phase: an error every rank meets
// (a bad flag, bad data) is printed once; one only rank 0 meets (writing the
// model) ends every rank with its message.
int run_search(SearchSettings& s) {
  Communicator* comm = cli_communicator();
  if (!comm || comm->size() == 1) return run_search_here(s, comm);
  int code = exit_ok;
  agree(comm, [&] { code = run_search_here(s, comm); });
  return code;
}

}  // namespace

Runner add_search_command(CLI::App& app) {
  auto s = std::make_shared<SearchSettings>();
  CLI::App* cmd = app.add_subcommand(
      "search", "Hyperparameter search: grid, random or successive halving over train's settings, scored by "
                "(stratified) k-fold cross-validation; a table sorted by score, a log to resume, the best model");
  add_data_flags(*cmd, s->data,
                 "Training data: a CSV file or a built-in set (planar, breast-cancer, iris, wine, digits, "
                 "fashion-mnist); see 'deepnet datasets'");
  for (const Param& p : params()) {
    std::string flag = std::string("--") + p.name;
    if (std::string(p.name) == "lr") flag += ",--learning-rate";
    s->space_options[p.name] = cmd->add_option(flag, s->space_flags[p.name], p.help);
  }
  cmd->add_option("--space", s->space_file,
                  "The space as JSON: {\"lr\": [0.1, 0.01] or {\"min\": 1e-4, \"max\": 0.1, \"log\": true}, "
                  "\"layers\": [\"4\", \"8,4\"], ...}; together with the flags, each parameter once");
  cmd->add_option("--strategy", s->strategy,
                  "grid (every combination of the lists), random (--trials settings drawn from --seed; ranges "
                  "allowed), halving (successive halving: --trials settings on 1/3^k of the epochs or iterations, "
                  "the best third goes on, until one remains at the full budget)")
      ->capture_default_str();
  cmd->add_option("--trials", s->trials, "Settings drawn by random and halving")->capture_default_str();
  CLI::Option* folds = cmd->add_option(
      "--folds", s->folds, "k-fold cross-validation, stratified by class (0: score on the training data)");
  folds->capture_default_str();
  cmd->add_option("--val-split", s->val_split,
                  "Score on one held-out fraction instead (stratified by class, seeded by --seed)");
  cmd->add_flag("--train-score", s->train_score, "Score each setting on the data it was trained on");
  CLI::Option* jobs = cmd->add_option("--jobs", s->jobs, "Trials (folds) run in parallel, each single-threaded (default: all cores, "
                                     "shared among the MPI ranks on a machine); the results are the same with any count; "
                                     "under mpirun -np N the trials are also shared among the N ranks (docs/scaling.md)");
  cmd->add_option("--log", s->log,
                  "Append one JSON line per finished trial here (setting, fold scores, mean, std, seconds); "
                  "a new search starts the file afresh");
  cmd->add_flag("--resume", s->resume,
                "Continue the search in --log: trials it holds are not trained again; a half-written last "
                "line (a crash) is dropped");
  cmd->add_option("--out", s->out, "Retrain the best setting on all of --data and save the model here");
  cmd->add_flag("--json", s->json, "Print the best setting and its score as one JSON object (progress on stderr)");
  cmd->add_option("--plot", s->plot, "Also draw the search as FOLDER/search.svg (see 'deepnet plot search'); for 2-feature classification data also each setting's decision boundary, trained on all the data, as FOLDER/trial-N-boundary.svg with its model FOLDER/trial-N.dnn");
  cmd->add_option("--seed", s->seed,
                  "Seed of every trial (initialisation, shuffling, dropout: as train --seed), of the folds and of "
                  "random sampling")
      ->capture_default_str();
  cmd->add_option("--rng", s->rng, "Random generator of the initialisation: portable or numpy")->capture_default_str();
  cmd->add_option("--output", s->output, "Output layer: sigmoid, softmax or linear (default: inferred)");
  cmd->add_option("--task", s->task, "classify, regress or auto (as train's --task)")->capture_default_str();
  cmd->add_flag("--quiet", s->quiet, "No progress lines on stderr");
  return [s, folds, jobs] {
    s->folds_given = folds->count() > 0;
    s->jobs_given = jobs->count() > 0;
    return run_search(*s);
  };
}

}  // namespace deepnet::cli
