#pragma once
// JSON text for what the CLI prints or writes. Strings in deepnet's JSON come
// from the user (file paths, class names read from a CSV, settings) and need not
// be UTF-8: a Latin-1 'é' is the single byte 0xE9. nlohmann::json's plain dump()
// throws type_error 316 on such bytes, after the work (and the model file) is
// done. dump_json never throws for that reason: each byte sequence that is not
// valid UTF-8 becomes U+FFFD (the replacement character, written as its UTF-8
// bytes EF BF BD); valid UTF-8, including non-ASCII text, is written unchanged.
// The result is always valid UTF-8 and valid JSON. (The original bytes are not
// recoverable from it; they remain in the file names and models themselves.)
#include <nlohmann/json.hpp>
#include <string>

namespace deepnet::cli {

// j as compact JSON (dump(-1)), or indented by `indent` spaces when indent >= 0.
template <class Json>
std::string dump_json(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace deepnet::cli
