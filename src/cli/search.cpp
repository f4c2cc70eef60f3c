// `deepnet search`: hyperparameter search over the settings of `train`
// (docs/search.md). The space comes from train's flags, each taking one value,
// a list a|b|c or a range lo..hi, or from --space FILE.json; the strategies
// are grid, random and successive halving; each setting is scored by k-fold
// cross-validation (stratified for classes), a validation split, or on the
// training data. Trials run on --jobs threads, each single-threaded; every
// trial is seeded from --seed only, so the results never depend on timing or
// on --jobs. Finished trials go to a JSON-lines log that --resume continues.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli.hpp"
#include "cli/json_out.hpp"
#include "cli/search.hpp"
#include "deepnet/error.hpp"
#include "deepnet/files.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/model_file.hpp"
#include "deepnet/optimizer.hpp"
#include "deepnet/search.hpp"
#include "deepnet/train.hpp"

namespace deepnet::cli {

namespace {

using json = nlohmann::ordered_json;

// ---------------------------------------------------------------- the parameters

enum class Kind { real, integer, text };

struct Param {
  const char* name;  // the flag without its dashes; the key in the log and in --space
  Kind kind;
  bool log;          // a range lo..hi is sampled log-uniformly
  const char* help;
};

// In the order of the table's columns and of each setting's keys.
const Param params[] = {
    {"layers", Kind::text, false, "Hidden layer sizes as train's --layers, a list of them: '4|8,4|20,7,5' (\"\" = none)"},
    {"hidden-activation", Kind::text, false, "Hidden activation(s): 'relu|tanh', per layer with commas"},
    {"lr", Kind::real, true,
     "Learning rate: a value, a list '0.1|0.01' or a range '1e-4..1e-1' (log-uniform); default as train"},
    {"optimizer", Kind::text, false, "gd, momentum, nesterov, rmsprop, adam, adamw: 'adam|momentum'"},
    {"batch-size", Kind::integer, false, "Examples per mini-batch ('full' or 0: all): '32|128' or '16..256'"},
    {"epochs", Kind::integer, false, "Mini-batch epochs: '20|50' or '10..100' (the budget of successive halving)"},
    {"iterations", Kind::integer, false,
     "Full-batch gradient descent (the course's loop) for N iterations: '1000|5000' (the budget of successive "
     "halving); excludes the mini-batch parameters"},
    {"l2", Kind::real, true, "L2 lambda: '0|1e-3' or '1e-5..1e-1' (log-uniform)"},
    {"dropout", Kind::real, false, "Dropout probability: '0|0.2|0.5' or '0..0.5' (one per hidden layer with commas)"},
    {"init", Kind::text, false, "small, xavier, he, zeros, auto"},
    {"init-scale", Kind::real, true, "Scale of --init small"},
    {"normalize", Kind::text, false, "auto, none, standard, minmax, div255 (fitted on each fold's training part)"},
    {"schedule", Kind::text, false, "constant, step, exponential, inverse-time, cosine"},
    {"momentum", Kind::real, false, "beta of momentum and nesterov"},
    {"leaky-slope", Kind::real, false, "Slope of leaky_relu for z <= 0"},
    {"dtype", Kind::text, false, "float32 or float64"},
};

const Param* find_param(std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  if (name == "learning-rate") name = "lr";
  for (const Param& p : params)
    if (name == p.name) return &p;
  return nullptr;
}

std::string known_params() {
  std::string names;
  for (const Param& p : params) names += (names.empty() ? "" : ", ") + std::string(p.name);
  return names;
}

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

bool parse_real(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(value) && errno != ERANGE;
}

bool parse_integer(const std::string& text, long long& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  value = std::strtoll(text.c_str(), &end, 10);
  return end == text.c_str() + text.size() && errno != ERANGE;
}

// A value's text: strings as they are, numbers as JSON writes them (shortest round trip).
std::string text_of(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

// For people: as text_of, without the ".0" JSON gives a whole-valued double (1000000.0 -> 1000000).
std::string shown(const json& value) {
  std::string text = text_of(value);
  if (value.is_number_float() && text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);
  return text;
}

// Checks one value of a parameter; `where` names the flag or the space file's key.
// Returns it typed: a number for numeric parameters, else the text.
json checked_value(const Param& p, const std::string& text, const std::string& where) {
  const std::string name = p.name;
  auto bad = [&](const std::string& expected) {
    return CliError(exit_usage, where + ": expected " + expected + ", got '" + text + "'");
  };
  double real = 0;
  long long integer = 0;
  if (name == "lr" || name == "init-scale") {
    if (!parse_real(text, real) || real <= 0) throw bad("a number > 0");
    return real;
  }
  if (name == "l2") {
    if (!parse_real(text, real) || real < 0) throw bad("a number >= 0");
    return real;
  }
  if (name == "momentum") {
    if (!parse_real(text, real) || real < 0 || real >= 1) throw bad("a number in [0, 1)");
    return real;
  }
  if (name == "leaky-slope") {
    if (!parse_real(text, real)) throw bad("a number");
    return real;
  }
  if (name == "dropout") {
    const std::vector<std::string> items = split_list(text);
    if (items.empty()) throw bad("a probability in [0, 1), or one per hidden layer");
    for (const std::string& item : items)
      if (!parse_real(trim(item), real) || real < 0 || real >= 1) throw bad("a probability in [0, 1), or one per hidden layer");
    if (items.size() == 1) return real;
    return text;
  }
  if (name == "epochs" || name == "iterations") {
    if (!parse_integer(text, integer) || integer < 1 || integer > 1000000000) throw bad("a whole number >= 1");
    return integer;
  }
  if (name == "batch-size") {
    if (text == "full") return text;
    if (!parse_integer(text, integer) || integer < 0) throw bad("a number of examples, 0 or 'full'");
    return integer;
  }
  // Text parameters: checked as train checks them.
  if (name == "layers") {
    if (!text.empty())
      for (const std::string& item : split_list(text)) {
        long long units = 0;
        if (!parse_integer(trim(item), units) || units < 1 || units > 100000000)
          throw bad("hidden layer sizes such as 4 or 8,4 (\"\" for none)");
      }
    return text;
  }
  with_exit_code(exit_usage, [&] {
    try {
      if (name == "hidden-activation") {
        for (const std::string& item : split_list(text)) parse_activation(trim(item));
        if (text.empty()) throw Error("");
      } else if (name == "optimizer") {
        parse_optimizer(text);
      } else if (name == "init") {
        if (text != "auto") parse_init_scheme(text);
      } else if (name == "normalize") {
        if (text != "auto") parse_normalization(text);
      } else if (name == "schedule") {
        parse_schedule(text);
      } else if (name == "dtype") {
        if (text != "float32" && text != "float64") throw Error("");
      }
    } catch (const Error&) {
      const char* expected = name == "hidden-activation" ? "sigmoid, tanh, relu, leaky_relu or linear (one per hidden layer with commas)"
                             : name == "optimizer"        ? "gd, sgd, momentum, nesterov, rmsprop, adam or adamw"
                             : name == "init"             ? "small, xavier, he, zeros or auto"
                             : name == "normalize"        ? "auto, none, standard, minmax or div255"
                             : name == "schedule"         ? "constant, step, exponential, inverse-time or cosine"
                                                          : "float32 or float64";
      throw bad(expected);
    }
    return 0;
  });
  return text;
}

// One parameter of the space: a list of values (one value is a list of one) or a range.
struct Dimension {
  const Param* param = nullptr;
  std::string where;        // "--lr" or "space.json: lr", for messages
  std::string given;        // as given, for messages
  std::vector<json> values;  // a list
  bool range = false;
  double lo = 0, hi = 0;
  bool log = false;
};

void check_range(Dimension& d) {
  const std::string what = d.where + ": bad range '" + d.given + "': ";
  if (!(d.lo < d.hi)) throw CliError(exit_usage, what + "expected lo..hi with lo < hi");
  if (d.log && d.lo <= 0) throw CliError(exit_usage, what + "a log-uniform range needs lo > 0");
  if (d.param->kind == Kind::integer && (d.lo != std::floor(d.lo) || d.hi != std::floor(d.hi)))
    throw CliError(exit_usage, what + "expected whole numbers");
  char text[64];
  for (double end : {d.lo, d.hi}) {
    std::snprintf(text, sizeof text, "%.17g", end);
    try {
      checked_value(*d.param, text, d.where);
    } catch (const CliError& e) {
      throw CliError(exit_usage, what + std::string(e.what()).substr(d.where.size() + 2));
    }
  }
}

// "a|b|c", "lo..hi" or one value.
Dimension parse_dimension(const Param& p, const std::string& text, const std::string& where) {
  Dimension d;
  d.param = &p;
  d.where = where;
  d.given = text;
  const std::size_t dots = text.find("..");
  if (dots != std::string::npos && text.find('|') == std::string::npos) {
    if (p.kind == Kind::text)
      throw CliError(exit_usage, where + ": bad range '" + text + "': ranges lo..hi are for numeric parameters; give a "
                                 "list such as " + (std::string(p.name) == "layers" ? "4|8,4|20,7,5" : "a|b|c"));
    const std::string lo = trim(text.substr(0, dots)), hi = trim(text.substr(dots + 2));
    long long ilo = 0, ihi = 0;
    const bool numbers = p.kind == Kind::integer ? parse_integer(lo, ilo) && parse_integer(hi, ihi)
                                                 : parse_real(lo, d.lo) && parse_real(hi, d.hi);
    if (!numbers) throw CliError(exit_usage, where + ": bad range '" + text + "': expected lo..hi with two numbers");
    if (p.kind == Kind::integer) d.lo = static_cast<double>(ilo), d.hi = static_cast<double>(ihi);
    d.range = true;
    d.log = p.log;
    check_range(d);
    return d;
  }
  std::set<std::string> seen;
  for (const std::string& raw : split_list(text, '|')) {
    const std::string item = trim(raw);
    if (item.empty() && std::string(p.name) != "layers")
      throw CliError(exit_usage, where + ": empty value in the list '" + text + "'");
    json value = checked_value(p, item, where);
    if (seen.insert(value.dump()).second) d.values.push_back(std::move(value));
  }
  if (d.values.empty()) d.values.push_back(checked_value(p, "", where));  // --layers ""
  return d;
}

// --space FILE.json: {"lr": [0.1, 0.01] | {"min": 1e-4, "max": 0.1, "log": true} | 0.1, "layers": ["4", "8,4"], ...}
std::vector<Dimension> read_space_file(const std::string& path) {
  const std::string text = with_exit_code(exit_usage, [&] { return io::read_whole_file(path); });
  nlohmann::json space;
  try {
    space = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string message = e.what();
    if (const auto end = message.find("] "); message.rfind("[json.exception", 0) == 0 && end != std::string::npos)
      message = message.substr(end + 2);
    throw CliError(exit_usage, "--space " + path + ": " + message);
  }
  if (!space.is_object())
    throw CliError(exit_usage, "--space " + path + ": expected a JSON object of parameters, got " + std::string(space.type_name()));
  std::vector<Dimension> dims;
  // nlohmann::json keeps keys sorted; the table order comes from `params` anyway.
  for (const auto& [key, value] : space.items()) {
    const std::string where = path + ": \"" + key + "\"";
    const Param* p = find_param(key);
    if (!p) throw CliError(exit_usage, where + ": unknown parameter (known: " + known_params() + ")");
    auto item_text = [&](const nlohmann::json& v) -> std::string {
      if (v.is_string()) return v.get<std::string>();
      if (v.is_number()) return v.dump();
      throw CliError(exit_usage, where + ": expected numbers or strings, got " + v.dump());
    };
    if (value.is_object()) {
      if (!value.contains("min") || !value.contains("max") || !value["min"].is_number() || !value["max"].is_number())
        throw CliError(exit_usage, where + ": a range is {\"min\": lo, \"max\": hi} with two numbers, optionally \"log\": true");
      for (const auto& [k, v] : value.items())
        if (k != "min" && k != "max" && k != "log")
          throw CliError(exit_usage, where + ": unknown key \"" + k + "\" in a range (min, max, log)");
      if (p->kind == Kind::text)
        throw CliError(exit_usage, where + ": ranges are for numeric parameters; give a list of values");
      Dimension d;
      d.param = p;
      d.where = where;
      d.given = value.dump();
      d.range = true;
      d.lo = value["min"].get<double>();
      d.hi = value["max"].get<double>();
      d.log = p->log;
      if (value.contains("log")) {
        if (!value["log"].is_boolean()) throw CliError(exit_usage, where + ": \"log\" must be true or false");
        d.log = value["log"].get<bool>();
      }
      check_range(d);
      dims.push_back(std::move(d));
    } else if (value.is_array()) {
      if (value.empty()) throw CliError(exit_usage, where + ": the list is empty");
      Dimension d;
      d.param = p;
      d.where = where;
      d.given = value.dump();
      std::set<std::string> seen;
      for (const auto& v : value) {
        json typed = checked_value(*p, trim(item_text(v)), where);
        if (seen.insert(typed.dump()).second) d.values.push_back(std::move(typed));
      }
      dims.push_back(std::move(d));
    } else {
      Dimension d;
      d.param = p;
      d.where = where;
      d.given = value.dump();
      d.values.push_back(checked_value(*p, trim(item_text(value)), where));
      dims.push_back(std::move(d));
    }
  }
  return dims;
}

// ---------------------------------------------------------------- settings

using Setting = json;  // parameter -> value, in the order of `params`

std::optional<std::string> get(const Setting& s, const char* name) {
  if (!s.contains(name)) return std::nullopt;
  return text_of(s[name]);
}

std::string describe(const Setting& s) {
  std::string text;
  for (const auto& [key, value] : s.items()) {
    std::string v = shown(value);
    if (v.empty()) v = "\"\"";
    text += (text.empty() ? "" : ", ") + key + " " + v;
  }
  return text.empty() ? "(defaults)" : text;
}

long long grid_size(const std::vector<Dimension>& dims) {
  long long n = 1;
  for (const Dimension& d : dims) {
    n *= static_cast<long long>(d.values.size());
    if (n > 1000000000LL) return n;
  }
  return n;
}

// The cartesian product; the last parameter changes fastest.
std::vector<Setting> grid_settings(const std::vector<Dimension>& dims) {
  std::vector<Setting> out;
  std::vector<std::size_t> at(dims.size(), 0);
  for (;;) {
    Setting s = json::object();
    for (std::size_t k = 0; k < dims.size(); ++k) s[dims[k].param->name] = dims[k].values[at[k]];
    out.push_back(std::move(s));
    std::size_t k = dims.size();
    while (k > 0) {
      if (++at[k - 1] < dims[k - 1].values.size()) break;
      at[k - 1] = 0;
      --k;
    }
    if (k == 0) break;
  }
  return out;
}

json sample(const Dimension& d, Rng& rng) {
  if (!d.range) return d.values[static_cast<std::size_t>(rng.below(d.values.size()))];
  if (d.param->kind == Kind::integer) {
    if (d.log) {
      const double v = std::exp(std::log(d.lo) + rng.uniform() * (std::log(d.hi + 1) - std::log(d.lo)));
      return std::min(static_cast<long long>(d.hi), static_cast<long long>(std::floor(v)));
    }
    return static_cast<long long>(d.lo) + static_cast<long long>(rng.below(static_cast<std::uint64_t>(d.hi - d.lo) + 1));
  }
  const double u = rng.uniform();
  const double v = d.log ? std::exp(std::log(d.lo) + u * (std::log(d.hi) - std::log(d.lo))) : d.lo + u * (d.hi - d.lo);
  // Four significant digits: what the table and the log show is exactly what was trained.
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", v);
  return std::strtod(text, nullptr);
}

// `trials` distinct settings drawn with a generator seeded from --seed (the
// whole grid, in grid order, when the space is finite and not larger).
std::vector<Setting> random_settings(const std::vector<Dimension>& dims, int trials, std::uint64_t seed) {
  const bool finite = std::none_of(dims.begin(), dims.end(), [](const Dimension& d) { return d.range; });
  if (finite && grid_size(dims) <= trials) return grid_settings(dims);
  Rng rng(seed);
  std::vector<Setting> out;
  std::set<std::string> seen;
  for (long long attempt = 0; static_cast<int>(out.size()) < trials && attempt < 100LL * trials + 1000; ++attempt) {
    Setting s = json::object();
    for (const Dimension& d : dims) s[d.param->name] = sample(d, rng);
    if (seen.insert(s.dump()).second) out.push_back(std::move(s));
  }
  return out;
}

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
};

// A setting made concrete: the library's settings for it.
struct TrialSpec {
  FitSettings fit;
};

TrialSpec resolve(const Setting& s, const SearchSettings& f, bool course) {
  TrialSpec t;
  NetworkFlags network;
  network.layers = get(s, "layers").value_or("");
  network.hidden_activation = get(s, "hidden-activation").value_or("relu");
  network.init = get(s, "init").value_or("auto");
  network.init_scale = std::stod(get(s, "init-scale").value_or("0.01"));
  network.leaky_slope = std::stod(get(s, "leaky-slope").value_or("0.01"));
  network.dtype = get(s, "dtype").value_or("float32");
  network.rng = f.rng;
  network.seed = f.seed;
  network.output = f.output;
  FitSettings& fit = t.fit;
  apply_network_flags(network, fit);
  const std::string normalize = get(s, "normalize").value_or("auto");
  if (normalize != "auto") fit.normalization = parse_normalization(normalize);
  fit.full_batch_gd = course;
  fit.optimizer.kind = parse_optimizer(get(s, "optimizer").value_or(course ? "gd" : "adam"));
  if (const auto lr = get(s, "lr")) fit.learning_rate = std::stod(*lr);
  if (course) {
    fit.iterations = static_cast<int>(std::stoll(get(s, "iterations").value_or("2500")));
    fit.record_every = fit.iterations;
    fit.batch_size = 0;
  } else {
    fit.epochs = static_cast<int>(std::stoll(get(s, "epochs").value_or("10")));
    const std::string batch = get(s, "batch-size").value_or("128");
    fit.batch_size = batch == "full" ? 0 : std::stoll(batch);
    fit.l2 = std::stod(get(s, "l2").value_or("0"));
    for (const std::string& item : split_list(get(s, "dropout").value_or("0"))) fit.dropout.push_back(std::stod(item));
    if (fit.dropout.size() == 1 && fit.dropout[0] == 0) fit.dropout.clear();
    fit.schedule.kind = parse_schedule(get(s, "schedule").value_or("constant"));
    // momentum is a dimension of the momentum optimizers only; beside adam it is left out.
    if (fit.optimizer.kind == OptimizerKind::momentum || fit.optimizer.kind == OptimizerKind::nesterov)
      fit.optimizer.momentum = std::stod(get(s, "momentum").value_or("0.9"));
  }
  return t;
}

// ---------------------------------------------------------------- one trial

struct Part {
  std::shared_ptr<const Dataset> train, held_out;  // the same object when scoring on the training data
};

// Trains a setting with the library's fit and scores it on the held-out part
// (or, when it is the training part itself, on the training data).
double train_and_score(const TrialSpec& spec, const Dataset& train, const Dataset& held_out, bool same) {
  const FitResult result = fit(train, nullptr, spec.fit);
  const PartScore score = same ? result.scores.front() : score_model(result.model, held_out, "held-out");
  return score.name.empty() || std::isnan(score.accuracy) ? score.mse : score.accuracy;
}

// ---------------------------------------------------------------- the log

class LogWriter {
 public:
  // Starts a new log (truncate) or appends to one whose complete lines end at `keep` bytes.
  LogWriter(const std::string& path, bool append, std::size_t keep) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? 0 : O_TRUNC), 0644);
    if (fd_ < 0) throw CliError(exit_other, path + ": cannot open the log for writing: " + std::strerror(errno));
    // A line a crash left half-written is cut off before anything is appended.
    if (append && ::ftruncate(fd_, static_cast<off_t>(keep)) != 0)
      throw CliError(exit_other, path + ": cannot cut off the half-written last line: " + std::strerror(errno));
    if (::lseek(fd_, 0, SEEK_END) < 0) throw CliError(exit_other, path + ": cannot seek: " + std::strerror(errno));
  }
  ~LogWriter() {
    if (fd_ >= 0) ::close(fd_);
  }
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // One line, written with one write() where possible and synced, so a crash
  // leaves whole lines and at most one torn last line.
  void append(const std::string& line) {
    const std::string text = line + "\n";
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw CliError(exit_other, path_ + ": cannot write the log: " + std::strerror(errno));
      done += static_cast<std::size_t>(n);
    }
    ::fdatasync(fd_);
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// ---------------------------------------------------------------- running trials

struct Trial {
  Setting setting;
  TrialSpec spec;
  SearchRecord record;
  bool from_log = false;
};

class TrialRunner {
 public:
  TrialRunner(const SearchSettings& s, const std::vector<Part>& parts, json context,
         std::string metric, std::map<std::string, SearchRecord> logged, LogWriter* log)
      : s_(s), parts_(parts), context_(std::move(context)), metric_(std::move(metric)),
        logged_(std::move(logged)), log_(log) {}

  // Runs the trials (those the log already holds are taken from it), on up to --jobs threads.
  void run(std::vector<Trial*>& batch) {
    for (Trial* t : batch) {
      t->record.setting = t->setting;
      t->record.context = context_;
      t->record.metric = metric_;
      const auto found = logged_.find(t->record.key());
      if (found != logged_.end()) {
        const int trial = t->record.trial, round = t->record.round;
        t->record = found->second;
        t->record.trial = trial;
        t->record.round = round;
        t->from_log = true;
        ++from_log_;
        progress(*t);
      }
    }
    struct Task {
      Trial* trial;
      std::size_t part;
    };
    std::vector<Task> tasks;
    for (Trial* t : batch)
      if (!t->from_log)
        for (std::size_t p = 0; p < parts_.size(); ++p) tasks.push_back({t, p});
    if (tasks.empty()) return;

    struct Pending {
      std::vector<double> scores;
      std::vector<std::string> errors;
      std::vector<double> seconds;
      int remaining = 0;
    };
    std::map<Trial*, Pending> pending;
    for (const Task& task : tasks) {
      Pending& p = pending[task.trial];
      p.scores.assign(parts_.size(), std::nan(""));
      p.errors.assign(parts_.size(), "");
      p.seconds.assign(parts_.size(), 0.0);
      p.remaining = static_cast<int>(parts_.size());
    }
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::exception_ptr failure;
    auto work = [&] {
      for (;;) {
        const std::size_t k = next.fetch_add(1);
        if (k >= tasks.size() || stop.load()) return;
        const Task& task = tasks[k];
        const Part& part = parts_[task.part];
        double score = std::nan("");
        std::string error;
        const auto start = std::chrono::steady_clock::now();
        try {
          score = train_and_score(task.trial->spec, *part.train, *part.held_out, part.train == part.held_out);
          if (!std::isfinite(score)) error = "the score is not a finite number";
        } catch (const std::exception& e) {
          error = e.what();
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const std::lock_guard lock(mutex_);
        Pending& p = pending[task.trial];
        p.scores[task.part] = score;
        p.errors[task.part] = error;
        p.seconds[task.part] = seconds;
        if (--p.remaining > 0) continue;
        try {
          finish(*task.trial, p.scores, p.errors, p.seconds);
        } catch (...) {
          if (!failure) failure = std::current_exception();
          stop.store(true);
        }
      }
    };
    const int workers = std::max(1, std::min<int>(s_.jobs, static_cast<int>(tasks.size())));
    std::vector<std::thread> threads;
    for (int w = 1; w < workers; ++w) threads.emplace_back(work);
    work();
    for (std::thread& t : threads) t.join();
    if (failure) std::rethrow_exception(failure);
  }

  int from_log() const { return from_log_; }
  void set_total(int total) { total_ = total; }

 private:
  void finish(Trial& t, const std::vector<double>& scores, const std::vector<std::string>& errors,
              const std::vector<double>& seconds) {
    SearchRecord& r = t.record;
    r.seconds = 0;
    for (double x : seconds) r.seconds += x;
    r.seconds = std::round(r.seconds * 1000) / 1000;
    r.error.clear();
    for (std::size_t p = 0; p < errors.size() && r.error.empty(); ++p)
      if (!errors[p].empty()) r.error = (parts_.size() > 1 ? "fold " + std::to_string(p + 1) + ": " : "") + errors[p];
    if (r.failed()) {
      r.scores.clear();
      r.mean = r.std = std::nan("");
    } else {
      r.scores = scores;
      const MeanStd ms = mean_std(scores);
      r.mean = ms.mean;
      r.std = ms.std;
    }
    if (log_) log_->append(dump_json(r.to_json()));
    progress(t);
  }

  void progress(const Trial& t) {
    ++done_;
    if (s_.quiet) return;
    const SearchRecord& r = t.record;
    std::string line = "[" + std::to_string(done_) + (total_ > 0 ? "/" + std::to_string(total_) : "") + "] trial " +
                       std::to_string(r.trial) + ": " + describe(r.setting) + ": ";
    char text[96];
    if (r.failed()) {
      line += "failed: " + r.error;
    } else {
      std::snprintf(text, sizeof text, metric_ == "accuracy" ? "%s %.4f +- %.4f" : "%s %.6g +- %.3g", metric_.c_str(),
                    r.mean, r.std);
      line += text;
    }
    if (t.from_log) {
      line += " (from the log)";
    } else {
      std::snprintf(text, sizeof text, " (%.2f s)", r.seconds);
      line += text;
    }
    std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
  }

  const SearchSettings& s_;
  const std::vector<Part>& parts_;
  json context_;
  std::string metric_;
  std::map<std::string, SearchRecord> logged_;
  LogWriter* log_;
  std::mutex mutex_;
  int from_log_ = 0;
  int done_ = 0;
  int total_ = 0;
};

// ---------------------------------------------------------------- ranking and output

// Better first: higher accuracy (lower mse), failed trials last, ties by trial number.
bool better(const SearchRecord& a, const SearchRecord& b) {
  if (a.failed() != b.failed()) return !a.failed();
  if (!a.failed() && a.mean != b.mean) return a.metric == "mse" ? a.mean < b.mean : a.mean > b.mean;
  return a.trial < b.trial;
}

std::string score_text(const std::string& metric, double v) {
  char text[48];
  std::snprintf(text, sizeof text, metric == "accuracy" ? "%.4f" : "%.6g", v);
  return text;
}

void print_table(const std::vector<const SearchRecord*>& rows, const std::vector<std::string>& columns, bool rounds,
                 const std::string& metric) {
  std::vector<std::string> header{"rank", "trial"};
  for (const std::string& c : columns) header.push_back(c);
  if (rounds) header.push_back("round");
  header.push_back(metric);
  header.push_back("std");
  header.push_back("seconds");
  std::vector<std::vector<std::string>> cells;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const SearchRecord& r = *rows[k];
    std::vector<std::string> line{std::to_string(k + 1), std::to_string(r.trial)};
    for (const std::string& c : columns) {
      std::string v = r.setting.contains(c) ? shown(r.setting[c]) : "";
      line.push_back(v.empty() && c == "layers" ? "none" : v);
    }
    if (rounds) line.push_back(std::to_string(r.round));
    line.push_back(r.failed() ? "failed" : score_text(metric, r.mean));
    line.push_back(r.failed() ? "-" : score_text(metric, r.std));
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f", r.seconds);
    line.push_back(seconds);
    cells.push_back(std::move(line));
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& line : cells) width[c] = std::max(width[c], line[c].size());
  }
  auto print_line = [&](const std::vector<std::string>& line) {
    std::string text;
    for (std::size_t c = 0; c < line.size(); ++c) {
      const bool last = c + 1 == line.size();
      text += line[c];
      if (!last) text += std::string(width[c] - line[c].size() + 2, ' ');
    }
    std::printf("%s\n", text.c_str());
  };
  print_line(header);
  for (const auto& line : cells) print_line(line);
}

int run_search(SearchSettings& s) {
  // ---- settings first (usage errors, exit 2), then the data (exit 3)
  std::vector<Dimension> dims;
  std::set<std::string> given;
  if (!s.space_file.empty())
    for (Dimension& d : read_space_file(s.space_file)) {
      given.insert(d.param->name);
      dims.push_back(std::move(d));
    }
  for (const Param& p : params)
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
      specs.push_back(resolve(setting, s, course));
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
    log = std::make_unique<LogWriter>(s.log, s.resume, keep);
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
  TrialRunner runner(s, parts, context, metric, std::move(logged), log.get());
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
    with_exit_code(exit_other, [&] {
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
        // The default title names the model file (its trial) and the accuracy on all the data.
        plot_boundary(stem + ".dnn", s.data, stem + "-boundary.svg", "");
      }
    }
  }

  // ---- the result
  const SearchRecord& best = winner->record;
  if (s.json) {
    json j;
    j["strategy"] = s.strategy;
    j["evaluation"] = evaluation;
    j["metric"] = metric;
    j["trials"] = trials.size();
    json b;
    b["trial"] = best.trial;
    b["setting"] = best.setting;
    b["mean"] = best.mean;
    b["std"] = best.std;
    b["scores"] = best.scores;
    j["best"] = b;
    if (!s.log.empty()) j["log"] = s.log;
    if (!s.out.empty()) j["model"] = s.out;
    if (!s.plot.empty()) j["plot"] = (std::filesystem::path(s.plot) / "search.svg").string();
    std::cout << dump_json(j) << '\n';
    return exit_ok;
  }
  std::vector<std::string> columns;
  for (const auto& [key, value] : trials.front()->setting.items()) columns.push_back(key);
  std::vector<const SearchRecord*> rows;
  for (const Trial* t : shown) rows.push_back(&t->record);
  const std::string scoring = s.train_score ? metric + " on the training data"
                              : val_split_given ? metric + " on a " + evaluation.substr(10) + " validation split"
                                                : std::string(s.folds > 1 && classification ? "stratified " : "") +
                                                      evaluation + " cross-validated " + metric;
  std::printf("search: %s, %zu trials, %s (mean and std over %zu %s)\n", s.strategy.c_str(), trials.size(),
              scoring.c_str(), parts.size(), parts.size() == 1 ? "part" : "folds");
  print_table(rows, columns, s.strategy == "halving", metric);
  for (const Trial* t : shown)
    if (t->record.failed()) std::printf("trial %d failed: %s\n", t->record.trial, t->record.error.c_str());
  std::printf("best: trial %d: %s: %s %s (std %s)\n", best.trial, describe(best.setting).c_str(), metric.c_str(),
              score_text(metric, best.mean).c_str(), score_text(metric, best.std).c_str());
  if (!s.out.empty()) std::printf("model saved to %s (the best setting retrained on all %lld examples)\n", s.out.c_str(),
                                  static_cast<long long>(data.examples()));
  if (!s.plot.empty())
    std::printf("picture: %s\n", (std::filesystem::path(s.plot) / "search.svg").string().c_str());
  return exit_ok;
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
  for (const Param& p : params) {
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
  cmd->add_option("--jobs", s->jobs, "Trials (folds) run in parallel, each single-threaded (default: all cores); "
                                     "the results are the same with any count");
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
  return [s, folds] {
    s->folds_given = folds->count() > 0;
    return run_search(*s);
  };
}

}  // namespace deepnet::cli
