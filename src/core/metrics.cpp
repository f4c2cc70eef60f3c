// Classification and regression metrics.
#include "deepnet/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "deepnet/error.hpp"

namespace deepnet {

ClassificationReport classification_report(const std::vector<int>& truth, const std::vector<int>& predicted,
                                           const Matrix<double>& probabilities,
                                           const std::vector<std::string>& class_names) {
  const std::size_t m = truth.size();
  const int K = static_cast<int>(class_names.size());
  if (predicted.size() != m || static_cast<std::size_t>(probabilities.cols()) != m ||
      probabilities.rows() != K)
    throw Error("metrics: " + std::to_string(m) + " true labels, " + std::to_string(predicted.size()) +
                " predictions and probabilities (" + std::to_string(probabilities.rows()) + ", " +
                std::to_string(probabilities.cols()) + ") for " + std::to_string(K) + " classes do not match");
  if (m == 0) throw Error("metrics: no examples");
  ClassificationReport report;
  report.examples = static_cast<std::int64_t>(m);
  report.confusion.assign(static_cast<std::size_t>(K), std::vector<std::int64_t>(static_cast<std::size_t>(K), 0));
  double log_loss = 0;
  std::int64_t correct = 0;
  for (std::size_t j = 0; j < m; ++j) {
    const int t = truth[j], p = predicted[j];
    if (t < 0 || t >= K || p < 0 || p >= K)
      throw Error("metrics: example " + std::to_string(j) + " has class " + std::to_string(t) + " / " +
                  std::to_string(p) + ", expected 0.." + std::to_string(K - 1));
    ++report.confusion[static_cast<std::size_t>(t)][static_cast<std::size_t>(p)];
    correct += t == p;
    const double probability = std::clamp(probabilities(t, static_cast<Eigen::Index>(j)), 1e-15, 1 - 1e-15);
    log_loss -= std::log(probability);
  }
  report.accuracy = static_cast<double>(correct) / static_cast<double>(m);
  report.log_loss = log_loss / static_cast<double>(m);
  for (int k = 0; k < K; ++k) {
    ClassMetrics c;
    c.name = class_names[static_cast<std::size_t>(k)];
    std::int64_t predicted_k = 0;
    for (int t = 0; t < K; ++t) predicted_k += report.confusion[static_cast<std::size_t>(t)][static_cast<std::size_t>(k)];
    for (int p = 0; p < K; ++p) c.support += report.confusion[static_cast<std::size_t>(k)][static_cast<std::size_t>(p)];
    const double tp = static_cast<double>(report.confusion[static_cast<std::size_t>(k)][static_cast<std::size_t>(k)]);
    c.precision = predicted_k ? tp / static_cast<double>(predicted_k) : 0.0;
    c.recall = c.support ? tp / static_cast<double>(c.support) : 0.0;
    c.f1 = c.precision + c.recall > 0 ? 2 * c.precision * c.recall / (c.precision + c.recall) : 0.0;
    report.macro_precision += c.precision / K;
    report.macro_recall += c.recall / K;
    report.macro_f1 += c.f1 / K;
    report.classes.push_back(c);
  }
  return report;
}

RegressionReport regression_report(const std::vector<double>& truth, const std::vector<double>& predicted) {
  const std::size_t m = truth.size();
  if (predicted.size() != m)
    throw Error("metrics: " + std::to_string(m) + " targets but " + std::to_string(predicted.size()) + " predictions");
  if (m == 0) throw Error("metrics: no examples");
  RegressionReport report;
  report.examples = static_cast<std::int64_t>(m);
  double mean = 0;
  for (double y : truth) mean += y;
  mean /= static_cast<double>(m);
  double ss_res = 0, ss_tot = 0, abs_sum = 0;
  for (std::size_t j = 0; j < m; ++j) {
    const double residual = truth[j] - predicted[j];
    ss_res += residual * residual;
    abs_sum += std::abs(residual);
    ss_tot += (truth[j] - mean) * (truth[j] - mean);
  }
  report.mse = ss_res / static_cast<double>(m);
  report.mae = abs_sum / static_cast<double>(m);
  report.r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : (ss_res == 0 ? 1.0 : 0.0);
  return report;
}

}  // namespace deepnet
