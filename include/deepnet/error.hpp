#pragma once
// deepnet's one exception type. Every message says what was expected, what was
// found, and where (file, line, column, layer, setting).
#include <stdexcept>
#include <string>

namespace deepnet {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Training stopped because the cost or a parameter became NaN or infinite.
class TrainingDiverged : public Error {
 public:
  using Error::Error;
};

}  // namespace deepnet
