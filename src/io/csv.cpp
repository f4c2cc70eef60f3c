// CSV reader: header row, numeric columns, one target column.
// Handles a UTF-8 byte-order mark, UTF-16 text with its byte-order mark
// (converted to UTF-8), CRLF and CR-only line ends, quoted fields ("" escapes
// a quote), and the delimiters ',', ';', tab and runs of spaces (detected from
// the first lines). It guesses whether the first row is a header, drops an
// unnamed row-index column, and refuses missing labels unless asked to drop
// those rows; what it guessed or did is in Dataset::notes.
// The memory parsing needs follows from the text's size and is checked against
// the memory limit (deepnet/limits.hpp) first.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "deepnet/data.hpp"
#include "deepnet/error.hpp"
#include "deepnet/files.hpp"
#include "deepnet/limits.hpp"

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

std::string_view trim_view(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

std::string trim(std::string_view s) { return std::string(trim_view(s)); }

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A value as an error message shows it: on one line, and not too long.
std::string shown(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (out.size() >= 40) return out + "...";
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20) out += '?';
    else out += c;
  }
  return out;
}

// How spreadsheets, pandas, R and databases write a missing value.
bool is_missing_marker(std::string_view text) {
  const std::string_view t = trim_view(text);
  if (t.size() > 4) return false;
  const std::string l = lower(std::string(t));
  return l.empty() || l == "na" || l == "n/a" || l == "#n/a" || l == "nan" || l == "?" || l == "null" ||
         l == "none";
}

std::string missing_text(std::string_view text) {
  const std::string t = trim(text);
  return t.empty() ? std::string("an empty field (a missing value)")
                   : "'" + shown(t) + "', a missing-value marker";
}

bool parse_number(std::string_view text, double& value) {
  const std::string_view t = trim_view(text);
  if (t.empty()) return false;
  const char* begin = t.data();
  if (*begin == '+') ++begin;
  const auto [end, ec] = std::from_chars(begin, t.data() + t.size(), value);
  return ec == std::errc() && end == t.data() + t.size();
}

bool is_number(std::string_view text) {
  double ignored = 0;
  return parse_number(text, ignored);
}

// Text that is neither a number nor a missing-value marker: a name.
bool is_text(const Field& field) { return !is_missing_marker(field.text) && !is_number(field.text); }

// A non-negative integer written with digits only.
bool parse_count(std::string_view text, long long& value) {
  const std::string_view t = trim_view(text);
  if (t.empty() || t.size() > 15) return false;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  return ec == std::errc() && end == t.data() + t.size() && value >= 0;
}

void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | code >> 6);
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | code >> 12);
    out += static_cast<char>(0x80 | (code >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | code >> 18);
    out += static_cast<char>(0x80 | (code >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (code >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

// UTF-16 text after its byte-order mark, as UTF-8.
std::string utf16_to_utf8(std::string_view bytes, bool little_endian, const std::string& name) {
  const char* bom = little_endian ? "FF FE" : "FE FF";
  if (bytes.size() % 2 != 0)
    throw Error(name + ": UTF-16 text (byte-order mark " + bom + ") has an odd number of bytes (" +
                std::to_string(bytes.size() + 2) + "); expected 2 bytes per character unit");
  check_memory(bytes.size() / 2 * 3, name + ": UTF-16 text converted to UTF-8 needs about ", "");
  std::string out;
  out.reserve(bytes.size() / 2);
  int line = 1;
  const auto unit = [&](std::size_t k) -> std::uint32_t {
    const auto a = static_cast<unsigned char>(bytes[k]), b = static_cast<unsigned char>(bytes[k + 1]);
    return little_endian ? (b << 8 | a) : (a << 8 | b);
  };
  for (std::size_t k = 0; k < bytes.size(); k += 2) {
    std::uint32_t code = unit(k);
    if (code >= 0xD800 && code <= 0xDBFF && k + 3 < bytes.size() && unit(k + 2) >= 0xDC00 &&
        unit(k + 2) <= 0xDFFF) {
      code = 0x10000 + ((code - 0xD800) << 10) + (unit(k + 2) - 0xDC00);
      k += 2;
    } else if (code >= 0xD800 && code <= 0xDFFF) {
      throw Error(name + ": line " + std::to_string(line) + ": UTF-16 text holds a lone surrogate " +
                  "(byte " + std::to_string(k + 2) + "); expected a pair of surrogates or a character");
    }
    if (code == '\n') ++line;
    append_utf8(out, code);
  }
  return out;
}

struct Dialect {
  char delimiter = ',';
  bool runs = false;  // runs of spaces and tabs separate fields
};

// The fields of one line split at runs of spaces and tabs (quotes ignored: this is for guessing).
std::vector<std::string> space_tokens(std::string_view line) {
  std::vector<std::string> tokens;
  std::string token;
  for (const char c : line) {
    if (c == ' ' || c == '\t') {
      if (!token.empty()) tokens.push_back(std::move(token));
      token.clear();
    } else {
      token += c;
    }
  }
  if (!token.empty()) tokens.push_back(std::move(token));
  return tokens;
}

bool numbers_side_by_side(const std::vector<std::string>& tokens) {
  for (std::size_t k = 0; k + 1 < tokens.size(); ++k)
    if (is_number(tokens[k]) && is_number(tokens[k + 1])) return true;
  return false;
}

// ',' ';' or tab, whichever the first line has most of; spaces when it has
// none of them but spaces between numbers (on it or the line below).
char detect_delimiter(std::string_view text) {
  int comma = 0, semicolon = 0, tab = 0;
  bool in_quotes = false;
  std::size_t end = text.size();
  for (std::size_t k = 0; k < text.size(); ++k) {
    const char c = text[k];
    if (c == '"') in_quotes = !in_quotes;
    if (in_quotes) continue;
    if (c == '\n' || c == '\r') {
      end = k;
      break;
    }
    comma += c == ',';
    semicolon += c == ';';
    tab += c == '\t';
  }
  if (semicolon > comma && semicolon >= tab) return ';';
  if (tab > comma && tab > semicolon) return '\t';
  if (comma > 0) return ',';
  const std::vector<std::string> first = space_tokens(text.substr(0, end));
  if (first.size() < 2) return ',';
  if (numbers_side_by_side(first)) return ' ';
  // A header of names over rows of numbers.
  std::size_t start = end;
  while (start < text.size() && (text[start] == '\n' || text[start] == '\r')) ++start;
  const std::size_t next_end = std::min(text.find_first_of("\r\n", start), text.size());
  const std::string_view second = text.substr(start, next_end - start);
  if (second.find_first_of(",;\t") == std::string_view::npos && numbers_side_by_side(space_tokens(second)))
    return ' ';
  return ',';
}

std::vector<Record> split_records(std::string_view text, const Dialect& dialect, const std::string& name) {
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
    if (!dialect.runs || field_started) end_field();
    // A blank line (one empty, unquoted field, or none) is skipped.
    const bool blank = current.fields.empty() || (current.fields.size() == 1 && !current.fields[0].quoted &&
                                                  trim_view(current.fields[0].text).empty());
    if (!blank) records.push_back(std::move(current));
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
        if (c == '\n' || (c == '\r' && !(k + 1 < text.size() && text[k + 1] == '\n'))) ++line;
        field.text += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = true;
      field.quoted = true;
      field_started = true;
    } else if (dialect.runs && (c == ' ' || c == '\t')) {
      if (field_started) end_field();
    } else if (!dialect.runs && c == dialect.delimiter) {
      end_field();
    } else if (c == '\r' && k + 1 < text.size() && text[k + 1] == '\n') {
      // CRLF: the '\n' ends the record
    } else if (c == '\n' || c == '\r') {  // LF, or CR alone (classic Mac OS)
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

int resolve_label_column(const std::vector<std::string>& header, bool named, const std::string& wanted,
                         const std::string& name, const char* what) {
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
    throw Error(name + ": " + what + " column index " + wanted + " is out of range: the file has " +
                std::to_string(columns) + " columns (0.." + std::to_string(columns - 1) + ")");
  }
  if (!named)
    throw Error(name + ": no header row, so the " + what + " column must be an index, got '" + wanted + "'");
  std::string known;
  for (int c = 0; c < columns; ++c) known += (c ? ", " : "") + header[c];
  throw Error(name + ": no column named '" + wanted + "' for the " + what + "; the header has: " + known);
}

// Whether the fields but `skip` are 0, 1, 2, ... or 1, 2, 3, ... (the first
// field may be empty: an index column's header), as pandas names the columns
// of a DataFrame without names. At least 3 numbers, or 2 after an empty field,
// so that a short first row of data such as "0,1" is not taken for one.
bool numbers_columns(const Record& record, int skip, long long& from, long long& to) {
  long long expected = -1;
  int numbers = 0;
  bool empty_first = false;
  for (int c = 0; c < static_cast<int>(record.fields.size()); ++c) {
    if (c == skip) continue;
    const std::string text = trim(record.fields[c].text);
    if (c == 0 && text.empty()) {
      empty_first = true;
      continue;
    }
    long long value = 0;
    if (!parse_count(text, value)) return false;
    if (expected < 0) {
      if (value > 1) return false;
      from = expected = value;
    }
    if (value != expected) return false;
    to = value;
    ++expected;
    ++numbers;
  }
  return numbers >= 3 || (empty_first && numbers >= 2);
}

struct HeaderGuess {
  bool present = false;
  std::string note;
};

// CsvHeader::detect; `label` is the label column as far as it is known
// without a header (-1: none).
HeaderGuess detect_header(const std::vector<Record>& records, int label) {
  const Record& first = records[0];
  const int columns = static_cast<int>(first.fields.size());
  const bool text_label = label >= 0 && label < columns && is_text(first.fields[label]);
  const int skip = text_label ? label : -1;
  long long from = 0, to = 0;
  if (numbers_columns(first, skip, from, to)) {
    bool below = false;
    long long ignored_from = 0, ignored_to = 0;
    for (std::size_t r = 1; r < records.size() && r <= 5; ++r)
      below = below || numbers_columns(records[r], skip, ignored_from, ignored_to);
    if (!below)
      return {true, "line " + std::to_string(first.line) + " (" + std::to_string(from) + ", " +
                        std::to_string(from + 1) + ", ..., " + std::to_string(to) +
                        ") is read as a header of column numbers, as pandas writes for a DataFrame "
                        "without column names"};
  }
  for (int c = 0; c < columns; ++c)
    if (c != label && is_text(first.fields[c])) return {true, ""};
  if (!text_label) return {false, ""};
  // Numbers and a name in the label column: a header when the labels below
  // are numbers, data (a headerless file of named classes) when they are names.
  bool text_below = false, seen_below = false;
  const std::string first_label = trim(first.fields[label].text);
  for (std::size_t r = 1; r < records.size() && !(text_below && seen_below); ++r)
    if (static_cast<int>(records[r].fields.size()) == columns) {
      text_below = text_below || is_text(records[r].fields[label]);
      seen_below = seen_below || trim(records[r].fields[label].text) == first_label;
    }
  if (!text_below) return {true, ""};
  return {false, "line " + std::to_string(first.line) +
                     " is read as data, not a header: its fields are numbers but for the label '" +
                     shown(first_label) + "', and the labels below are names too" +
                     (seen_below ? std::string()
                                 : "; that label occurs on no other line: if line 1 is a header, say the file has one")};
}

std::string line_list(const std::vector<int>& lines) {
  std::string text;
  for (std::size_t k = 0; k < lines.size() && k < 5; ++k) text += (k ? ", " : "") + std::to_string(lines[k]);
  return text + (lines.size() > 5 ? ", ..." : "");
}

}  // namespace

Dataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& options) {
  std::vector<std::string> notes;
  std::string converted;
  if (text.size() >= 2 && (text.substr(0, 2) == "\xFF\xFE" || text.substr(0, 2) == "\xFE\xFF")) {
    const bool little_endian = text[0] == '\xFF';
    converted = utf16_to_utf8(text.substr(2), little_endian, name);
    text = converted;
    notes.push_back(std::string("read as UTF-16") + (little_endian ? "LE" : "BE") + " text (byte-order mark " +
                    (little_endian ? "FF FE" : "FE FF") + "), converted to UTF-8");
  } else if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  const std::size_t nul = text.substr(0, 4096).find('\0');
  if (nul != std::string_view::npos)
    throw Error(name + ": byte " + std::to_string(nul + 1) +
                " is 00: expected text, found binary data (or UTF-16 text without a byte-order mark)");
  Dialect dialect;
  dialect.delimiter = options.delimiter ? options.delimiter : detect_delimiter(text);
  dialect.runs = dialect.delimiter == ' ';
  if (dialect.runs && !options.delimiter)
    notes.push_back("columns are separated by spaces (line 1 has no ',', ';' or tab)");
  if (text.find('\n') == std::string_view::npos && text.find('\r') != text.rfind('\r'))
    notes.push_back("lines end in CR alone (classic Mac OS), read as line ends");
  // Parsing holds every field as a string in a record, then the values as
  // doubles. Each field ends at a delimiter or a line end, so the text bounds
  // the fields, and the memory they need is checked before any is allocated.
  std::uint64_t lines = 1, fields = 1;
  for (const char c : text) {
    const bool line_end = c == '\n' || c == '\r';
    lines += line_end;
    fields += line_end || c == dialect.delimiter || (dialect.runs && c == '\t');
  }
  check_memory(text.size() + fields * (sizeof(Field) + sizeof(double)) + lines * sizeof(Record),
               name + ": " + std::to_string(lines) + " lines with up to " + std::to_string(fields) +
                   " fields in all need about ",
               " to parse");
  std::vector<Record> records = split_records(text, dialect, name);
  if (records.empty()) throw Error(name + ": the file is empty; expected a header row and data rows");

  // Every line ending in a delimiter (some exporters write that): an empty last column.
  const std::size_t width = records[0].fields.size();
  if (!dialect.runs && width >= 3 && std::all_of(records.begin(), records.end(), [&](const Record& r) {
        return r.fields.size() == width && r.fields.back().text.empty() && !r.fields.back().quoted;
      })) {
    for (Record& r : records) r.fields.pop_back();
    notes.push_back("every line ends with the delimiter; the empty last column is ignored");
  }
  const int columns = static_cast<int>(records[0].fields.size());

  // The label column as far as it is known before the header is.
  int label_guess = -1;
  bool label_named_in_first = false;
  if (!options.features_only) {
    label_guess = columns - 1;
    const std::string& wanted = options.label_column;
    int index = 0;
    const auto [end, ec] = std::from_chars(wanted.data(), wanted.data() + wanted.size(), index);
    if (wanted.empty()) {
    } else if (ec == std::errc() && end == wanted.data() + wanted.size()) {
      if (index < 0) index += columns;
      if (index >= 0 && index < columns) label_guess = index;
    } else {
      for (int c = 0; c < columns; ++c)
        if (trim(records[0].fields[c].text) == wanted) {
          label_guess = c;
          label_named_in_first = true;
        }
    }
  }
  bool has_header = options.header == CsvHeader::present;
  if (options.header == CsvHeader::detect) {
    HeaderGuess guess = label_named_in_first ? HeaderGuess{true, ""} : detect_header(records, label_guess);
    has_header = guess.present;
    if (!guess.note.empty()) notes.push_back(std::move(guess.note));
  }
  std::vector<std::string> header;
  for (int c = 0; c < columns; ++c)
    header.push_back(has_header ? trim(records[0].fields[c].text)
                                : (c == columns - 1 ? std::string("y") : std::string("x").append(std::to_string(c + 1))));
  if (columns < (options.features_only ? 1 : 2)) {
    const std::string shown_delimiter = dialect.runs ? "spaces" : dialect.delimiter == '\t' ? "tab" : std::string("'") + dialect.delimiter + "'";
    throw Error(name + ": line " + std::to_string(records[0].line) +
                ": expected at least 2 columns (features and a label), found " + std::to_string(columns) +
                (dialect.delimiter == ',' ? "" : " (delimiter " + shown_delimiter + ")"));
  }
  if (has_header) {
    std::vector<std::pair<std::string, std::vector<int>>> seen;  // in the order of first appearance
    std::map<std::string, std::size_t> position;
    for (int c = 0; c < columns; ++c) {
      if (header[c].empty()) continue;
      const auto [found, added] = position.emplace(header[c], seen.size());
      if (added) seen.push_back({header[c], {c + 1}});
      else seen[found->second].second.push_back(c + 1);
    }
    std::string repeated;
    for (const auto& [column_name, at] : seen) {
      if (at.size() < 2) continue;
      repeated += (repeated.empty() ? "" : "; ") + ("'" + shown(column_name) + "' in columns ");
      for (std::size_t k = 0; k < at.size(); ++k)
        repeated += (k == 0 ? "" : k + 1 == at.size() ? " and " : ", ") + std::to_string(at[k]);
    }
    if (!repeated.empty())
      throw Error(name + ": line " + std::to_string(records[0].line) + ": the header names columns alike: " +
                  repeated + "; expected a distinct name for each column");
  }
  const std::size_t first = has_header ? 1 : 0;
  if (records.size() <= first) throw Error(name + ": no data rows after the header");
  // A label column named by a model may be absent from prediction input: then there is none.
  const bool label_absent = options.label_optional && !options.label_column.empty() &&
                            (!has_header || std::find(header.begin(), header.end(), options.label_column) == header.end());
  const int label = options.features_only || label_absent
                        ? -1
                        : resolve_label_column(header, has_header, options.label_column, name, "label");
  const int weight = options.weight_column.empty() ? -1 : resolve_label_column(header, has_header, options.weight_column, name, "sample weight");
  if (weight >= 0 && weight == label)
    throw Error(name + ": column '" + header[weight] + "' cannot be both the label and the sample weight");

  auto where = [&](const Record& record, int c) {
    return name + ": line " + std::to_string(record.line) + ", column " + std::to_string(c + 1) +
           (has_header ? " ('" + shown(header[c]) + "')" : std::string());
  };
  for (std::size_t r = first; r < records.size(); ++r)
    if (records[r].fields.size() != static_cast<std::size_t>(columns))
      throw Error(name + ": line " + std::to_string(records[r].line) + ": expected " + std::to_string(columns) +
                  " fields as in the " + (has_header ? "header" : "first line") + ", found " +
                  std::to_string(records[r].fields.size()));

  // An unnamed first column of row numbers: the index pandas' to_csv writes
  // (0, 1, 2, ...; after shuffling or splitting, distinct numbers in any
  // order), or R's write.csv row names ("1", "2", ...). Not a feature.
  int index_column = -1;
  if (has_header && columns >= 2 && label != 0 && weight != 0 && (header[0].empty() || header[0] == "Unnamed: 0")) {
    std::vector<long long> values;
    bool counts = true;
    for (std::size_t r = first; r < records.size() && counts; ++r) {
      long long value = 0;
      counts = parse_count(records[r].fields[0].text, value);
      values.push_back(value);
    }
    bool sequential = counts && values[0] <= 1;
    for (std::size_t k = 1; k < values.size() && sequential; ++k) sequential = values[k] == values[0] + static_cast<long long>(k);
    std::vector<long long> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    const bool distinct = counts && values.size() >= 2 && std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
    const std::string what = header[0].empty() ? "unnamed" : "'Unnamed: 0'";
    if (sequential) {
      index_column = 0;
      notes.push_back("dropped column 1 (" + what + ", " + std::to_string(values[0]) + ", " +
                      std::to_string(values[0] + 1) + ", " + std::to_string(values[0] + 2) +
                      ", ...: a row index written by pandas or R)");
    } else if (distinct) {
      index_column = 0;
      notes.push_back("dropped column 1 (" + what + ", distinct whole numbers " + std::to_string(values[0]) + ", " +
                      std::to_string(values[1]) + ", ...: a row index written by pandas, of shuffled or split rows)");
    }
  }

  // Rows whose label is missing: an error, or dropped when asked.
  std::vector<std::size_t> rows;
  rows.reserve(records.size() - first);
  std::vector<int> dropped_lines;
  std::vector<std::string> markers;
  for (std::size_t r = first; r < records.size(); ++r) {
    if (label >= 0 && is_missing_marker(records[r].fields[label].text)) {
      if (!options.drop_missing_labels)
        throw Error(where(records[r], label) + ": the label is missing (" +
                    (trim_view(records[r].fields[label].text).empty() ? std::string("an empty field")
                                                                       : missing_text(records[r].fields[label].text)) +
                    "); expected a class name or a number (rows with a missing label can be dropped instead)");
      dropped_lines.push_back(records[r].line);
      const std::string t = trim(records[r].fields[label].text);
      const std::string marker = t.empty() ? "empty" : shown(t);
      if (std::find(markers.begin(), markers.end(), marker) == markers.end()) markers.push_back(marker);
      continue;
    }
    rows.push_back(r);
  }
  std::string marker_list;
  for (const auto& m : markers) marker_list += (marker_list.empty() ? "" : ", ") + m;
  if (rows.empty())
    throw Error(name + ": every row's label is missing (" + marker_list + "); expected rows with a label");
  if (!dropped_lines.empty())
    notes.push_back("dropped " + std::to_string(dropped_lines.size()) + " of " + std::to_string(records.size() - first) +
                    " rows whose label is missing (" + marker_list + "): line" + (dropped_lines.size() > 1 ? "s " : " ") +
                    line_list(dropped_lines));

  Dataset data;
  data.source = name;
  data.named_features = has_header;
  data.target_name = label >= 0 ? header[label] : "";
  for (int c = 0; c < columns; ++c)
    if (c != label && c != weight && c != index_column) data.feature_names.push_back(header[c]);
  if (data.feature_names.empty())
    throw Error(name + ": line " + std::to_string(records[0].line) +
                ": expected feature columns besides the label, the sample weight and the row index; found none");
  const Eigen::Index m = static_cast<Eigen::Index>(rows.size());
  data.X.resize(static_cast<Eigen::Index>(data.feature_names.size()), m);
  if (weight >= 0) data.weights.resize(static_cast<std::size_t>(m));
  data.targets.resize(label >= 0 ? static_cast<std::size_t>(m) : 0);

  // The label column holds numbers, or names when any label is not a number.
  bool named_classes = false;
  for (std::size_t r : rows)
    if (label >= 0 && !is_number(records[r].fields[label].text)) {
      named_classes = true;
      break;
    }
  if (named_classes) {
    std::vector<std::string> names;
    for (std::size_t r : rows) names.push_back(trim(records[r].fields[label].text));
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    data.class_names = names;
    // Spellings that differ only in case stay distinct classes; say so.
    std::map<std::string, std::vector<std::string>> by_case;
    for (const auto& n : names) by_case[lower(n)].push_back(n);
    std::string alike;
    for (const auto& [key, spellings] : by_case) {
      if (spellings.size() < 2) continue;
      alike += alike.empty() ? "" : "; ";
      for (std::size_t k = 0; k < spellings.size(); ++k)
        alike += (k == 0 ? "" : k + 1 == spellings.size() ? " and " : ", ") + ("'" + shown(spellings[k]) + "'");
    }
    if (!alike.empty())
      notes.push_back("labels that differ only in case are kept as distinct classes: " + alike);
  }

  data.lines.resize(static_cast<std::size_t>(m));
  for (Eigen::Index j = 0; j < m; ++j) {
    const Record& record = records[rows[static_cast<std::size_t>(j)]];
    data.lines[static_cast<std::size_t>(j)] = record.line;
    Eigen::Index feature = 0;
    for (int c = 0; c < columns; ++c) {
      if (c == index_column) continue;
      if (c == label && named_classes) {
        const std::string label_text = trim(record.fields[c].text);
        const auto found = std::lower_bound(data.class_names.begin(), data.class_names.end(), label_text);
        data.targets[static_cast<std::size_t>(j)] = static_cast<double>(found - data.class_names.begin());
        continue;
      }
      const std::string& text = record.fields[c].text;
      double value = 0;
      const bool number = parse_number(text, value);
      if (!number || std::isnan(value)) {
        const char* expected = c == weight ? "a sample weight" : "a number";
        if (is_missing_marker(text)) throw Error(where(record, c) + ": expected " + expected + ", got " + missing_text(text));
        if (!number) throw Error(where(record, c) + ": expected " + expected + ", got '" + shown(trim(text)) + "'");
      }
      if (!std::isfinite(value))
        throw Error(where(record, c) + ": expected a finite number, got '" + shown(trim(text)) + "'");
      if (c == label) {
        data.targets[static_cast<std::size_t>(j)] = value;
      } else if (c == weight) {
        if (value < 0) throw Error(where(record, c) + ": expected a sample weight >= 0, got '" + shown(trim(text)) + "'");
        data.weights[static_cast<std::size_t>(j)] = value;
      } else {
        data.X(feature++, j) = value;
      }
    }
  }
  data.notes = std::move(notes);
  return data;
}

Dataset load_csv(const std::string& path, const CsvOptions& options) {
  return parse_csv(io::read_maybe_gzip(path), path, options);
}

}  // namespace deepnet
