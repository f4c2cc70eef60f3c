#pragma once
// The library's errors name its own settings (x_key, examples_as_columns, the
// memory limit, ...) and never a command-line flag (docs/architecture.md).
// Before the CLI prints such an error it puts its flags in their place.
#include <string>

namespace deepnet::cli {

// `message` with the library's setting names replaced by the CLI's flags, and
// the flag that helps added where the library states a limit
// ("... (set with set_memory_limit)" -> "... (--max-memory); --max-memory raises it").
// Text that names no setting is returned unchanged.
std::string with_flag_names(std::string message);

}  // namespace deepnet::cli
