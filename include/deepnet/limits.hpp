#pragma once
// The memory limit the loaders respect. Before a loader allocates for what a
// file claims (rows x columns, dimensions, an uncompressed size, the file's own
// size), it compares the bytes with this limit and throws Error naming the
// file, the claim and the limit, instead of letting the machine run out of
// memory. The CLI sets the limit with --max-memory SIZE.
//
// The limit applies to each large block a loader allocates (the file's bytes,
// the decompressed bytes, the array of values as double), not to their sum.
#include <cstdint>
#include <string>
#include <string_view>

namespace deepnet {

// Memory this process can still get, in bytes: the least of MemAvailable
// (/proc/meminfo; free pages from sysconf where that is missing), the cgroup's
// limit less its non-file usage (v2 memory.max, v1 memory.limit_in_bytes) and
// RLIMIT_AS less the address space in use. Read anew on each call; UINT64_MAX
// when nothing can be read.
std::uint64_t available_memory();

// The limit: the value of set_memory_limit when one is set, else available_memory().
std::uint64_t memory_limit();
// Sets the process-wide limit in bytes; 0 goes back to the default (available memory).
void set_memory_limit(std::uint64_t bytes);
bool memory_limit_is_set();

// A size as a user writes it: "100000" (bytes), "512M", "2G", "1.5G", "64KiB",
// "1GB", "unlimited". K, M, G, T, P, E are powers of 1024 (with or without a
// trailing "B" or "iB", any case). Throws Error (a message without the flag's
// name) for anything else, for 0, fractions of a byte and sizes past 2^64.
std::uint64_t parse_memory_size(std::string_view text);

// "512 bytes", "1.0 KiB", "12.3 GiB", "2.8 PiB".
std::string format_bytes(std::uint64_t bytes);

// "more than the memory limit of 1.0 KiB (set with set_memory_limit)", or "... (the
// memory available now)" when no limit was set. Names no front end's flag: the
// CLI adds its own (src/cli/flag_names.cpp).
std::string over_memory_limit(std::uint64_t limit);

// Throws Error(before + format_bytes(bytes) + after + ", " + over_memory_limit(limit))
// when bytes is more than memory_limit(). `before` starts with the file's name.
void check_memory(std::uint64_t bytes, const std::string& before, const std::string& after = "");

}  // namespace deepnet
