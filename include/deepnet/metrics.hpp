#pragma once
// Evaluation metrics for classifiers and regressors.
#include <cstdint>
#include <string>
#include <vector>

#include "deepnet/matrix.hpp"

namespace deepnet {

struct ClassMetrics {
  std::string name;
  double precision = 0, recall = 0, f1 = 0;  // 0 when undefined (no predictions / no examples)
  std::int64_t support = 0;                  // examples whose true class this is
};

struct ClassificationReport {
  std::int64_t examples = 0;
  double accuracy = 0;
  // -(1/m) sum log p(true class), probabilities clipped to [1e-15, 1 - 1e-15].
  double log_loss = 0;
  std::vector<ClassMetrics> classes;
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
  // confusion[t][p]: examples of true class t predicted as class p.
  std::vector<std::vector<std::int64_t>> confusion;
};

// truth, predicted: class indices 0..K-1 per example; probabilities: (K, m).
// Throws Error on mismatched sizes or indices out of range.
ClassificationReport classification_report(const std::vector<int>& truth, const std::vector<int>& predicted,
                                           const Matrix<double>& probabilities,
                                           const std::vector<std::string>& class_names);

struct RegressionReport {
  std::int64_t examples = 0;
  double mse = 0;  // (1/m) sum (y - y_hat)^2 (no 1/2: the usual metric, not the training cost)
  double mae = 0;  // (1/m) sum |y - y_hat|
  double r2 = 0;   // 1 - SS_res / SS_tot; for constant targets: 1 if exact, else 0
};

RegressionReport regression_report(const std::vector<double>& truth, const std::vector<double>& predicted);

}  // namespace deepnet
