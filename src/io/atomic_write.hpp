#pragma once
// Writes a whole file so that readers see either the old file or the complete
// new one, never a half-written file: write a temporary beside it, flush and
// sync, then rename over the target.
#include <string>
#include <string_view>

namespace deepnet::io {

// Throws deepnet::Error naming the path on any failure; the old file (if any) stays intact.
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace deepnet::io
