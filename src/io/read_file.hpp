#pragma once
// Reading whole files, with gzip decompression when the file starts with the
// gzip magic bytes. Errors name the file.
#include <cstddef>
#include <string>

namespace deepnet::io {

// The file's bytes as they are. Throws Error "PATH: cannot open the file for reading".
std::string read_whole_file(const std::string& path);

// The file's bytes, gunzipped when it is gzip data. The decompressed size is
// limited to max_bytes (default 16 GiB): a gzip bomb is an error, not an OOM.
std::string read_maybe_gzip(const std::string& path, std::size_t max_bytes = std::size_t(16) << 30);

// Whether the bytes start with the gzip magic (1f 8b).
bool is_gzip(const std::string& bytes);

// Gunzips in-memory gzip data (one or more members); `name` is used in messages.
std::string gunzip(const std::string& bytes, const std::string& name,
                   std::size_t max_bytes = std::size_t(16) << 30);

}  // namespace deepnet::io
