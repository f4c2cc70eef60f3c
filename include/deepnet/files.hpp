#pragma once
// Whole-file reading and crash-safe writing (io room, src/io/read_file.cpp and
// src/io/atomic_write.cpp): the primitives the library's own loaders and
// savers use, public so that front ends write their outputs the same way.
//
// Every function throws deepnet::Error whose message starts with the path (or
// the given name) and says what failed; none prints or exits.
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

namespace deepnet::io {

// ---------------------------------------------------------------- reading

// The file's bytes as they are. Throws Error "PATH: cannot open the file for
// reading", and, before reading, when the file is larger than the memory limit
// (deepnet/limits.hpp).
std::string read_whole_file(const std::string& path);

// The file's bytes, gunzipped when they start with the gzip magic. The
// decompressed size is limited to the memory limit (and to max_bytes when
// given): a gzip bomb is an Error, not an out-of-memory kill. A gzip trailer
// recording more than the limit is refused before decompressing.
std::string read_maybe_gzip(const std::string& path, std::size_t max_bytes = std::numeric_limits<std::size_t>::max());

// read_maybe_gzip's bytes in memory that is not zero-filled before it is
// written: a large gzip file's output pages are touched once, by the
// decompressor, and the compressed file is read with read() into memory not
// zero-filled either (the large binary files: IDX images).
struct FileBytes {
  std::unique_ptr<char[]> data;
  std::size_t size = 0;
  std::string_view view() const { return {data.get(), size}; }
};
FileBytes read_maybe_gzip_bytes(const std::string& path,
                                std::size_t max_bytes = std::numeric_limits<std::size_t>::max());

// Whether the bytes start with the gzip magic (1f 8b).
bool is_gzip(std::string_view bytes);

// Gunzips in-memory gzip data (one or more members); `name` is used in messages.
// Limits as read_maybe_gzip.
std::string gunzip(std::string_view bytes, const std::string& name,
                   std::size_t max_bytes = std::numeric_limits<std::size_t>::max());

// ---------------------------------------------------------------- writing

// Writes a whole file so that readers, and a crash at any moment, see either
// the old file (or none) or the complete new one, never a half-written file:
// the content goes to a hidden temporary ".NAME.tmp-XXXXXX" in the target's
// folder, is fsync'ed, renamed over the target, and the folder is fsync'ed.
// A writer killed mid-write leaves its temporary; the next write of the same
// target removes it (temporaries of live writers are locked and kept).
// The file gets mode 0644. Throws Error naming the path on any failure; the
// old file, if any, stays intact.
void write_file_atomically(const std::string& path, std::string_view content);

// Checks, before any work, that write_file_atomically(path, ...) can succeed
// as far as the file system says now: path names a file (not a folder), and
// its folder exists, is a folder and is writable. Throws Error naming the path.
// A later write can still fail (disk full, permissions changed meanwhile).
void check_writable(const std::string& path);

}  // namespace deepnet::io
