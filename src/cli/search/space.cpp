// `deepnet search`'s space (docs/search.md): the parameters table, the value
// grammar (a, a|b|c, lo..hi), each value checked as train checks it, and
// --space FILE.json read into the same dimensions.
#include "cli/search/space.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "cli/cli.hpp"
#include "deepnet/error.hpp"
#include "deepnet/files.hpp"
#include "deepnet/optimizer.hpp"

namespace deepnet::cli::search {

namespace {

// In the order of the table's columns and of each setting's keys.
const Param table[] = {
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
    {"init", Kind::text, false, "small, xavier, he, glorot, zeros, auto"},
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
  for (const Param& p : table)
    if (name == p.name) return &p;
  return nullptr;
}

std::string known_params() {
  std::string names;
  for (const Param& p : table) names += (names.empty() ? "" : ", ") + std::string(p.name);
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
                             : name == "init"             ? "small, xavier, he, glorot, zeros or auto"
                             : name == "normalize"        ? "auto, none, standard, minmax or div255"
                             : name == "schedule"         ? "constant, step, exponential, inverse-time or cosine"
                                                          : "float32 or float64";
      throw bad(expected);
    }
    return 0;
  });
  return text;
}

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

}  // namespace

std::span<const Param> params() { return table; }

// A value's text: strings as they are, numbers as JSON writes them (shortest round trip).
std::string text_of(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

// For people: as text_of, without the ".0" JSON gives a whole-valued double (1000000.0 -> 1000000).
std::string shown(const json& value) {
  std::string text = text_of(value);
  if (value.is_number_float() && text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);
  return text;
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

}  // namespace deepnet::cli::search
