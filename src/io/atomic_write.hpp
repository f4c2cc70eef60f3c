#pragma once
// Writes a whole file so that readers see either the old file or the complete
// new one, never a half-written file: write a temporary beside it
// (".NAME.tmp-XXXXXX"), fsync it, rename it over the target, fsync the folder.
// A writer killed mid-write leaves its hidden temporary; the next write of the
// same target removes it. Test-only: DEEPNET_TEST_SLOW_WRITE_MS (see the .cpp).
#include <string>
#include <string_view>

namespace deepnet::io {

// Throws deepnet::Error naming the path on any failure; the old file (if any) stays intact.
void write_file_atomically(const std::string& path, std::string_view content);

// Checks, before any work, that write_file_atomically(path, ...) can succeed
// as far as the file system says now: the folder exists, is a folder and is
// writable, and path is not a folder. Throws deepnet::Error naming the path.
void check_writable(const std::string& path);

}  // namespace deepnet::io
