#pragma once
// `deepnet search`'s space: the parameters a search can vary (the table of
// train's flags), the values one takes (a value, a list a|b|c, a range lo..hi)
// and --space FILE.json, each checked as train checks it.
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

namespace deepnet::cli::search {

using json = nlohmann::ordered_json;

enum class Kind { real, integer, text };

struct Param {
  const char* name;  // the flag without its dashes; the key in the log and in --space
  Kind kind;
  bool log;          // a range lo..hi is sampled log-uniformly
  const char* help;
};

// Every parameter, in the order of the table's columns and of each setting's keys.
std::span<const Param> params();

// A value's text: strings as they are, numbers as JSON writes them (shortest round trip).
std::string text_of(const json& value);
// For people: as text_of, without the ".0" JSON gives a whole-valued double (1000000.0 -> 1000000).
std::string shown(const json& value);

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

// "a|b|c", "lo..hi" or one value of parameter p; `where` names the flag in
// messages. Throws CliError (usage) for a value train would refuse.
Dimension parse_dimension(const Param& p, const std::string& text, const std::string& where);

// --space FILE.json: {"lr": [0.1, 0.01] | {"min": 1e-4, "max": 0.1, "log": true} | 0.1, "layers": ["4", "8,4"], ...}.
// Throws CliError (usage) naming the file and the key.
std::vector<Dimension> read_space_file(const std::string& path);

}  // namespace deepnet::cli::search
