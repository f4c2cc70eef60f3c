// The memory limit of the loaders (include/deepnet/limits.hpp).
#include "deepnet/limits.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <string>

#include "deepnet/error.hpp"

namespace deepnet {

namespace {

constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();
// cgroup v1 writes "no limit" as a number near 2^63; anything this large is none.
constexpr std::uint64_t kNoCgroupLimit = std::uint64_t(1) << 62;

std::atomic<std::uint64_t> user_limit{0};  // 0: not set

std::uint64_t saturating_multiply(std::uint64_t a, std::uint64_t b) {
  std::uint64_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? kUnlimited : product;
}

std::optional<std::uint64_t> to_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  return value;
}

// The first word of a file as a number; "max" (cgroup v2: no limit) is kUnlimited.
std::optional<std::uint64_t> read_number(const std::string& path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word)) return std::nullopt;
  if (word == "max") return kUnlimited;
  return to_number(word);
}

// The number after `key` in a file of "key value" lines (/proc/meminfo, memory.stat).
std::optional<std::uint64_t> read_field(const std::string& path, std::string_view key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() <= key.size() || line.compare(0, key.size(), key) != 0) continue;
    if (line[key.size()] != ' ' && line[key.size()] != '\t') continue;
    const std::size_t digits = line.find_first_not_of(" \t", key.size());
    if (digits == std::string::npos) return std::nullopt;
    return to_number(std::string_view(line).substr(digits));
  }
  return std::nullopt;
}

std::uint64_t system_available() {
  if (const auto kib = read_field("/proc/meminfo", "MemAvailable:")) return saturating_multiply(*kib, 1024);
  const long pages = ::sysconf(_SC_AVPHYS_PAGES), page_size = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0)
    return saturating_multiply(static_cast<std::uint64_t>(pages), static_cast<std::uint64_t>(page_size));
  return kUnlimited;
}

// Room left under one cgroup's limit; page cache counts as free, since the
// kernel reclaims it before the cgroup runs out of memory.
std::uint64_t cgroup_room(const std::string& dir, const char* limit_file, const char* usage_file,
                          std::string_view cache_key) {
  const std::optional<std::uint64_t> limit = read_number(dir + "/" + limit_file);
  if (!limit || *limit >= kNoCgroupLimit) return kUnlimited;
  std::uint64_t usage = read_number(dir + "/" + usage_file).value_or(0);
  usage -= std::min(usage, read_field(dir + "/memory.stat", cache_key).value_or(0));
  return *limit > usage ? *limit - usage : 0;
}

std::uint64_t cgroup_available() {
  std::uint64_t room = kUnlimited;
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {  // "0::/path" (v2) or "4:memory:/path" (v1)
    const std::size_t first = line.find(':'), second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string id = line.substr(0, first), controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (path.empty() || path[0] != '/') continue;
    if (id == "0" && controllers.empty()) {
      // Every ancestor's memory.max applies too.
      while (true) {
        room = std::min(room, cgroup_room("/sys/fs/cgroup" + path, "memory.max", "memory.current", "file"));
        if (path == "/") break;
        const std::size_t slash = path.rfind('/');
        path = slash == 0 ? "/" : path.substr(0, slash);
      }
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      // Inside a container the hierarchy's root is the container's own group.
      for (const std::string& dir : {"/sys/fs/cgroup/memory" + path, std::string("/sys/fs/cgroup/memory")})
        room = std::min(room, cgroup_room(dir, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_cache"));
    }
  }
  return room;
}

std::uint64_t address_space_room() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return kUnlimited;
  const std::uint64_t cap = static_cast<std::uint64_t>(limit.rlim_cur);
  const std::uint64_t used = saturating_multiply(read_field("/proc/self/status", "VmSize:").value_or(0), 1024);
  return cap > used ? cap - used : 0;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::uint64_t available_memory() {
  return std::min({system_available(), cgroup_available(), address_space_room()});
}

std::uint64_t memory_limit() {
  const std::uint64_t set = user_limit.load(std::memory_order_relaxed);
  return set != 0 ? set : available_memory();
}

void set_memory_limit(std::uint64_t bytes) { user_limit.store(bytes, std::memory_order_relaxed); }

bool memory_limit_is_set() { return user_limit.load(std::memory_order_relaxed) != 0; }

std::uint64_t parse_memory_size(std::string_view text) {
  const std::string shown(text);
  const auto bad = [&] {
    return Error("expected a size such as 512M, 2G, 1.5G or 100000 (bytes), got '" + shown + "'");
  };
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (lower(text) == "unlimited") return kUnlimited;

  std::size_t at = 0;
  while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) ++at;
  const std::string_view whole = text.substr(0, at);
  std::string_view fraction;
  if (at < text.size() && text[at] == '.') {
    const std::size_t start = ++at;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) ++at;
    fraction = text.substr(start, at - start);
  }
  if (whole.empty() && fraction.empty()) throw bad();

  std::string unit = lower(text.substr(at));
  if (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);  // "1.5 G"
  std::uint64_t multiplier = 0;
  if (unit.empty() || unit == "b") {
    multiplier = 1;
  } else {
    static constexpr char kPrefixes[] = "kmgtpe";
    const char* prefix = unit.size() <= 3 && unit[0] != '\0' ? std::strchr(kPrefixes, unit[0]) : nullptr;
    const std::string suffix = unit.substr(1);
    if (prefix == nullptr || !(suffix.empty() || suffix == "b" || suffix == "ib")) throw bad();
    multiplier = std::uint64_t(1) << (10 * (prefix - kPrefixes + 1));
  }

  std::uint64_t bytes = 0;
  if (!whole.empty()) {
    const std::optional<std::uint64_t> value = to_number(whole);
    if (!value || __builtin_mul_overflow(*value, multiplier, &bytes))
      throw Error("'" + shown + "' is more than 2^64 bytes");
  }
  if (!fraction.empty()) {
    long double part = 0, scale = 1;
    for (char c : fraction.substr(0, 30)) part += (c - '0') * (scale /= 10);
    const long double extra = std::floor(part * static_cast<long double>(multiplier));
    if (multiplier == 1 && part > 0) throw Error("expected a whole number of bytes, got '" + shown + "'");
    if (__builtin_add_overflow(bytes, static_cast<std::uint64_t>(extra), &bytes))
      throw Error("'" + shown + "' is more than 2^64 bytes");
  }
  if (bytes == 0) throw Error("expected a size above 0, got '" + shown + "'");
  return bytes;
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes == 1) return "1 byte";
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024;
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  return text;
}

std::string over_memory_limit(std::uint64_t limit) {
  return "more than the memory limit of " + format_bytes(limit) +
         (memory_limit_is_set() ? " (set with set_memory_limit)" : " (the memory available now)");
}

void check_memory(std::uint64_t bytes, const std::string& before, const std::string& after) {
  const std::uint64_t limit = memory_limit();
  if (bytes > limit) throw Error(before + format_bytes(bytes) + after + ", " + over_memory_limit(limit));
}

}  // namespace deepnet
