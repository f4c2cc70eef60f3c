// CSV reader: header row, numeric columns, one target column.
// Handles a UTF-8 byte-order mark, CRLF line ends, quoted fields ("" escapes a
// quote), and the delimiters ',', ';' and tab (detected from the header line).
// The memory parsing needs follows from the text's size and is checked against
// the memory limit (deepnet/limits.hpp) first.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "deepnet/data.hpp"
#include "deepnet/error.hpp"
#include "deepnet/limits.hpp"
#include "io/read_file.hpp"

namespace deepnet {

namespace {

struct Field {
  std::string text;
  bool quoted = false;
};

struct Record {
  int line = 0;  // 1-based line where the record starts
  std::vector<Field> fields;
};

char detect_delimiter(std::string_view text) {
  int comma = 0, semicolon = 0, tab = 0;
  bool in_quotes = false;
  for (char c : text) {
    if (c == '"') in_quotes = !in_quotes;
    if (in_quotes) continue;
    if (c == '\n') break;
    comma += c == ',';
    semicolon += c == ';';
    tab += c == '\t';
  }
  if (semicolon > comma && semicolon >= tab) return ';';
  if (tab > comma && tab > semicolon) return '\t';
  return ',';
}

std::vector<Record> split_records(std::string_view text, char delimiter, const std::string& name) {
  std::vector<Record> records;
  Record current;
  Field field;
  int line = 1;
  current.line = 1;
  bool in_quotes = false, field_started = false;
  auto end_field = [&] {
    current.fields.push_back(std::move(field));
    field = Field{};
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    // A blank line (one empty, unquoted field) is skipped.
    if (!(current.fields.size() == 1 && current.fields[0].text.empty() && !current.fields[0].quoted))
      records.push_back(std::move(current));
    current = Record{};
    current.line = line;
  };
  for (std::size_t k = 0; k < text.size(); ++k) {
    const char c = text[k];
    if (in_quotes) {
      if (c == '"') {
        if (k + 1 < text.size() && text[k + 1] == '"') {
          field.text += '"';
          ++k;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.text += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = true;
      field.quoted = true;
      field_started = true;
    } else if (c == delimiter) {
      end_field();
    } else if (c == '\r' && k + 1 < text.size() && text[k + 1] == '\n') {
      // CRLF: the '\n' ends the record
    } else if (c == '\n') {
      ++line;
      end_record();
    } else {
      field.text += c;
      field_started = true;
    }
  }
  if (in_quotes)
    throw Error(name + ": line " + std::to_string(current.line) +
                ": a quoted field is not closed before the end of the file");
  if (field_started || !current.fields.empty()) end_record();
  return records;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

bool parse_number(const std::string& text, double& value) {
  const std::string t = trim(text);
  if (t.empty()) return false;
  const char* begin = t.data();
  if (*begin == '+') ++begin;
  const auto [end, ec] = std::from_chars(begin, t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size()) {
    return false;
  }
  return true;
}

int resolve_label_column(const std::vector<std::string>& header, bool named, const std::string& wanted,
                         const std::string& name) {
  const int columns = static_cast<int>(header.size());
  if (wanted.empty()) return columns - 1;
  if (named)
    for (int c = 0; c < columns; ++c)
      if (header[c] == wanted) return c;
  int index = 0;
  const auto [end, ec] = std::from_chars(wanted.data(), wanted.data() + wanted.size(), index);
  if (ec == std::errc() && end == wanted.data() + wanted.size()) {
    if (index < 0) index += columns;  // -1 is the last column
    if (index >= 0 && index < columns) return index;
    throw Error(name + ": label column index " + wanted + " is out of range: the file has " +
                std::to_string(columns) + " columns (0.." + std::to_string(columns - 1) + ")");
  }
  if (!named)
    throw Error(name + ": no header row, so the label column must be an index, got '" + wanted + "'");
  std::string known;
  for (int c = 0; c < columns; ++c) known += (c ? ", " : "") + header[c];
  throw Error(name + ": no column named '" + wanted + "' for the label; the header has: " + known);
}

bool all_numbers(const Record& record) {
  double ignored = 0;
  for (const Field& f : record.fields)
    if (!parse_number(f.text, ignored)) return false;
  return true;
}

}  // namespace

Dataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& options) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  const char delimiter = options.delimiter ? options.delimiter : detect_delimiter(text);
  // Parsing holds every field as a string in a record, then the values as
  // doubles. Each field ends at a delimiter or a line end, so the text bounds
  // the fields, and the memory they need is checked before any is allocated.
  std::uint64_t lines = 1, fields = 1;
  for (const char c : text) {
    lines += c == '\n';
    fields += c == '\n' || c == delimiter;
  }
  check_memory(text.size() + fields * (sizeof(Field) + sizeof(double)) + lines * sizeof(Record),
               name + ": " + std::to_string(lines) + " lines with up to " + std::to_string(fields) +
                   " fields in all need about ",
               " to parse");
  const std::vector<Record> records = split_records(text, delimiter, name);
  if (records.empty()) throw Error(name + ": the file is empty; expected a header row and data rows");
  const bool has_header = options.header == CsvHeader::present ||
                          (options.header == CsvHeader::detect && !all_numbers(records[0]));
  const int columns = static_cast<int>(records[0].fields.size());
  std::vector<std::string> header;
  for (int c = 0; c < columns; ++c)
    header.push_back(has_header ? trim(records[0].fields[c].text)
                                : (c == columns - 1 ? std::string("y") : std::string("x").append(std::to_string(c + 1))));
  if (columns < (options.features_only ? 1 : 2))
    throw Error(name + ": line " + std::to_string(records[0].line) +
                ": expected at least 2 columns (features and a label), found " +
                std::to_string(columns) +
                (delimiter == ',' ? "" : std::string(" (delimiter '") + (delimiter == '\t' ? "\\t" : std::string(1, delimiter)) + "')"));
  const std::size_t first = has_header ? 1 : 0;
  if (records.size() <= first) throw Error(name + ": no data rows after the header");
  const int label = options.features_only ? -1 : resolve_label_column(header, has_header, options.label_column, name);
  const int weight = options.weight_column.empty() ? -1 : resolve_label_column(header, has_header, options.weight_column, name);
  if (weight >= 0 && weight == label)
    throw Error(name + ": column '" + header[weight] + "' cannot be both the label and the sample weight");

  Dataset data;
  data.source = name;
  data.target_name = label >= 0 ? header[label] : "";
  for (int c = 0; c < columns; ++c)
    if (c != label && c != weight) data.feature_names.push_back(header[c]);
  const Eigen::Index m = static_cast<Eigen::Index>(records.size() - first);
  data.X.resize(static_cast<Eigen::Index>(data.feature_names.size()), m);
  if (weight >= 0) data.weights.resize(static_cast<std::size_t>(m));
  data.targets.resize(label >= 0 ? static_cast<std::size_t>(m) : 0);

  auto where = [&](const Record& record, int c) {
    return name + ": line " + std::to_string(record.line) + ", column " + std::to_string(c + 1) +
           (has_header ? " ('" + header[c] + "')" : std::string());
  };
  // The label column holds numbers, or names when any label is not a number.
  bool named_classes = false;
  for (std::size_t r = first; r < records.size() && !named_classes && label >= 0; ++r) {
    double ignored = 0;
    if (static_cast<int>(records[r].fields.size()) == columns &&
        !parse_number(records[r].fields[label].text, ignored))
      named_classes = true;
  }
  if (named_classes) {
    std::vector<std::string> names;
    for (std::size_t r = first; r < records.size(); ++r)
      if (static_cast<int>(records[r].fields.size()) == columns)
        names.push_back(trim(records[r].fields[label].text));
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    data.class_names = names;
  }

  for (Eigen::Index j = 0; j < m; ++j) {
    const Record& record = records[static_cast<std::size_t>(j) + first];
    if (static_cast<int>(record.fields.size()) != columns)
      throw Error(name + ": line " + std::to_string(record.line) + ": expected " +
                  std::to_string(columns) + " fields as in the " +
                  (has_header ? "header" : "first line") + ", found " +
                  std::to_string(record.fields.size()));
    Eigen::Index feature = 0;
    for (int c = 0; c < columns; ++c) {
      if (c == label && named_classes) {
        const std::string label_text = trim(record.fields[c].text);
        if (label_text.empty()) throw Error(where(record, c) + ": the label is empty");
        const auto found = std::lower_bound(data.class_names.begin(), data.class_names.end(), label_text);
        data.targets[static_cast<std::size_t>(j)] = static_cast<double>(found - data.class_names.begin());
        continue;
      }
      double value = 0;
      if (!parse_number(record.fields[c].text, value))
        throw Error(where(record, c) + ": expected a number, got '" + record.fields[c].text + "'");
      if (!std::isfinite(value))
        throw Error(where(record, c) + ": expected a finite number, got '" + trim(record.fields[c].text) + "'");
      if (c == label) {
        data.targets[static_cast<std::size_t>(j)] = value;
      } else if (c == weight) {
        if (value < 0) throw Error(where(record, c) + ": expected a sample weight >= 0, got '" + trim(record.fields[c].text) + "'");
        data.weights[static_cast<std::size_t>(j)] = value;
      } else {
        data.X(feature++, j) = value;
      }
    }
  }
  return data;
}

Dataset load_csv(const std::string& path, const CsvOptions& options) {
  return parse_csv(io::read_maybe_gzip(path), path, options);
}

}  // namespace deepnet
