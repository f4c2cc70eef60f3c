// The search log (docs/search.md): a trial's record as one JSON line and back,
// the log read back (for --resume and `deepnet plot search`), and the writer
// that appends each finished trial's line.
#include "cli/search/search_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "cli/cli.hpp"
#include "cli/json_out.hpp"
#include "deepnet/files.hpp"

namespace deepnet::cli {

std::string SearchRecord::key() const {
  // Sorted keys: the same setting and context give the same key whatever the order.
  nlohmann::json k;
  k["setting"] = nlohmann::json::parse(dump_json(setting));
  k["context"] = nlohmann::json::parse(dump_json(context));
  return dump_json(k);
}

nlohmann::ordered_json SearchRecord::to_json() const {
  nlohmann::ordered_json j;
  j["trial"] = trial;
  j["round"] = round;
  j["setting"] = setting;
  j["metric"] = metric;
  j["scores"] = scores;
  j["mean"] = failed() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(mean);
  j["std"] = failed() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(std);
  j["seconds"] = seconds;
  if (failed()) j["error"] = error;
  j["context"] = context;
  return j;
}

SearchRecord SearchRecord::from_json(const nlohmann::json& line) {
  auto need = [&](const char* key) -> const nlohmann::json& {
    if (!line.contains(key)) throw std::runtime_error(std::string("no \"") + key + "\"");
    return line[key];
  };
  auto number = [&](const nlohmann::json& v, const char* key) {
    if (v.is_null()) return std::nan("");
    if (!v.is_number()) throw std::runtime_error(std::string("\"") + key + "\": expected a number, got " + dump_json(v));
    return v.get<double>();
  };
  if (!line.is_object()) throw std::runtime_error("expected a JSON object, got " + std::string(line.type_name()));
  SearchRecord r;
  const auto& trial = need("trial");
  if (!trial.is_number_integer()) throw std::runtime_error("\"trial\": expected a whole number, got " + dump_json(trial));
  r.trial = trial.get<int>();
  if (line.contains("round")) {
    if (!line["round"].is_number_integer()) throw std::runtime_error("\"round\": expected a whole number");
    r.round = line["round"].get<int>();
  }
  const auto& setting = need("setting");
  if (!setting.is_object()) throw std::runtime_error("\"setting\": expected an object, got " + dump_json(setting));
  // Keep the order the line has (nlohmann::json sorts; parse again as ordered_json for the order).
  r.setting = nlohmann::ordered_json::object();
  for (const auto& [key, value] : setting.items()) {
    if (!value.is_string() && !value.is_number())
      throw std::runtime_error("\"setting\": \"" + key + "\": expected a number or a string, got " + dump_json(value));
    r.setting[key] = nlohmann::ordered_json::parse(dump_json(value));
  }
  if (line.contains("context")) {
    if (!line["context"].is_object()) throw std::runtime_error("\"context\": expected an object");
    r.context = nlohmann::ordered_json::parse(dump_json(line["context"]));
  } else {
    r.context = nlohmann::ordered_json::object();
  }
  if (line.contains("metric")) {
    if (!line["metric"].is_string()) throw std::runtime_error("\"metric\": expected a string");
    r.metric = line["metric"].get<std::string>();
  }
  if (line.contains("error")) {
    if (!line["error"].is_string()) throw std::runtime_error("\"error\": expected a string");
    r.error = line["error"].get<std::string>();
  }
  const auto& scores = need("scores");
  if (!scores.is_array()) throw std::runtime_error("\"scores\": expected an array, got " + dump_json(scores));
  for (const auto& v : scores) r.scores.push_back(number(v, "scores"));
  r.mean = number(need("mean"), "mean");
  r.std = number(need("std"), "std");
  if (line.contains("seconds")) r.seconds = number(line["seconds"], "seconds");
  if (!r.failed() && !std::isfinite(r.mean)) throw std::runtime_error("\"mean\": a trial without \"error\" needs a score");
  return r;
}

SearchLog read_search_log(const std::string& path, bool missing_ok) {
  SearchLog log;
  std::error_code ec;
  if (missing_ok && !std::filesystem::exists(path, ec)) return log;
  const std::string text = with_exit_code(exit_data, [&] { return io::read_whole_file(path); });
  std::size_t start = 0;
  int number = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    ++number;
    if (end == std::string::npos) {  // no newline: a line a crash cut short
      log.torn = true;
      break;
    }
    std::string line = text.substr(start, end - start);
    start = end + 1;
    log.complete_bytes = start;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      // Parse ordered, so the setting keeps its order.
      const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(line);
      SearchRecord r = SearchRecord::from_json(nlohmann::json::parse(line));
      if (ordered.is_object() && ordered.contains("setting")) r.setting = ordered["setting"];
      log.records.push_back(std::move(r));
    } catch (const std::exception& e) {
      std::string message = e.what();
      if (const auto cut = message.find("] "); message.rfind("[json.exception", 0) == 0 && cut != std::string::npos)
        message = message.substr(cut + 2);
      throw CliError(exit_data, path + ": line " + std::to_string(number) + ": " + message +
                                    " (expected a trial written by 'deepnet search --log')");
    }
  }
  return log;
}

// ---------------------------------------------------------------- the writer

LogWriter::LogWriter(const std::string& path, bool append, std::size_t keep) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? 0 : O_TRUNC), 0644);
  if (fd_ < 0) throw CliError(exit_model, path + ": cannot open the log for writing: " + std::strerror(errno));
  // A line a crash left half-written is cut off before anything is appended.
  if (append && ::ftruncate(fd_, static_cast<off_t>(keep)) != 0)
    throw CliError(exit_model, path + ": cannot cut off the half-written last line: " + std::strerror(errno));
  if (::lseek(fd_, 0, SEEK_END) < 0) throw CliError(exit_model, path + ": cannot seek: " + std::strerror(errno));
}

LogWriter::~LogWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void LogWriter::append(const std::string& line) {
  const std::string text = line + "\n";
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw CliError(exit_model, path_ + ": cannot write the log: " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  ::fdatasync(fd_);
}

}  // namespace deepnet::cli
