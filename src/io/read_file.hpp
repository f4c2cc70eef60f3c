#pragma once
// Reading whole files, with gzip decompression when the file starts with the
// gzip magic bytes. Errors name the file.
#include <cstddef>
#include <limits>
#include <string>

namespace deepnet::io {

// The file's bytes as they are. Throws Error "PATH: cannot open the file for reading",
// and, before reading, when the file is larger than the memory limit (deepnet/limits.hpp).
std::string read_whole_file(const std::string& path);

// The file's bytes, gunzipped when it is gzip data. The decompressed size is
// limited to the memory limit (and to max_bytes when given): a gzip bomb is
// an error, not an OOM. A gzip trailer recording more than the memory
// limit is refused before decompressing.
std::string read_maybe_gzip(const std::string& path, std::size_t max_bytes = std::numeric_limits<std::size_t>::max());

// Whether the bytes start with the gzip magic (1f 8b).
bool is_gzip(const std::string& bytes);

// Gunzips in-memory gzip data (one or more members); `name` is used in messages.
// Limits as read_maybe_gzip.
std::string gunzip(const std::string& bytes, const std::string& name,
                   std::size_t max_bytes = std::numeric_limits<std::size_t>::max());

}  // namespace deepnet::io
