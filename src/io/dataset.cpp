// Built-in data sets and the mapping from labels to output targets.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>

#include "deepnet/data.hpp"
#include "deepnet/error.hpp"

namespace deepnet {

namespace detail {
// Generated at build time by cmake/embed_files.cmake.
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_files();
}  // namespace detail

std::vector<BuiltinDataset> builtin_datasets() {
  return {{"planar",
           "the course's planar 'flower' set: 400 points in 2-D, 2 classes (rose curve "
           "r = 4 sin 4t with noise, numpy seed 1); data/planar_flower.csv"}};
}

bool is_builtin_dataset(std::string_view name) {
  for (const auto& [key, text] : detail::embedded_files())
    if (key == name) return true;
  return false;
}

Dataset load_builtin(std::string_view name, const CsvOptions& options) {
  for (const auto& [key, text] : detail::embedded_files())
    if (key == name) return parse_csv(text, "builtin:" + std::string(name), options);
  std::string known;
  for (const auto& d : builtin_datasets()) known += (known.empty() ? "" : ", ") + d.name;
  throw Error("no built-in data set named '" + std::string(name) + "'; built-in sets: " + known);
}

Dataset load_dataset(const std::string& name_or_path, const CsvOptions& options) {
  // A file of that name in the working directory wins over a built-in set.
  if (is_builtin_dataset(name_or_path) && !std::filesystem::exists(name_or_path))
    return load_builtin(name_or_path, options);
  return load_csv(name_or_path, options);
}

int TargetEncoding::output_units() const {
  if (output == Output::softmax) return static_cast<int>(classes.size());
  return 1;
}

TargetEncoding infer_target_encoding(const std::vector<double>& targets) {
  if (targets.empty()) throw Error("targets: no examples");
  TargetEncoding encoding;
  std::set<double> distinct;
  bool integral = true;
  for (double t : targets) {
    if (!std::isfinite(t)) throw Error("targets: a target is not finite (" + std::to_string(t) + ")");
    if (t != std::floor(t)) integral = false;
    distinct.insert(t);
  }
  if (!integral) {
    encoding.output = Output::linear;
    return encoding;
  }
  encoding.classes.assign(distinct.begin(), distinct.end());
  if (encoding.classes.size() < 2)
    throw Error("targets: every example has the label " + std::to_string(encoding.classes[0]) +
                "; a classifier needs at least 2 classes");
  encoding.output = encoding.classes.size() == 2 ? Output::sigmoid : Output::softmax;
  return encoding;
}

template <typename T>
Matrix<T> encode_labels(const TargetEncoding& encoding, const std::vector<double>& targets) {
  Matrix<T> labels(1, static_cast<Eigen::Index>(targets.size()));
  for (std::size_t j = 0; j < targets.size(); ++j) {
    if (encoding.output == Output::linear) {
      labels(0, static_cast<Eigen::Index>(j)) = static_cast<T>(targets[j]);
      continue;
    }
    const auto found = std::find(encoding.classes.begin(), encoding.classes.end(), targets[j]);
    if (found == encoding.classes.end())
      throw Error("example " + std::to_string(j) + ": label " + std::to_string(targets[j]) +
                  " is not one of the classes the model knows");
    labels(0, static_cast<Eigen::Index>(j)) = static_cast<T>(found - encoding.classes.begin());
  }
  return labels;
}

template <typename T>
Matrix<T> make_targets(Output output, int output_units, MatrixCRef<T> labels) {
  const Eigen::Index m = labels.cols();
  if (output == Output::softmax) {
    if (labels.rows() != 1)
      throw Error("targets: softmax labels must be one row of class indices, got " +
                  std::to_string(labels.rows()) + " rows");
    Matrix<T> Y = Matrix<T>::Zero(output_units, m);
    for (Eigen::Index j = 0; j < m; ++j) {
      const T k = labels(0, j);
      if (!(k >= 0 && k < output_units && k == std::floor(k)))
        throw Error("example " + std::to_string(j) + ": label " + std::to_string(k) +
                    " is outside the output's range: expected a class index in 0.." +
                    std::to_string(output_units - 1));
      Y(static_cast<Eigen::Index>(k), j) = T(1);
    }
    return Y;
  }
  if (labels.rows() != output_units)
    throw Error("targets: labels have " + std::to_string(labels.rows()) +
                " rows but the output layer has n[L] = " + std::to_string(output_units) + " units");
  if (output == Output::sigmoid)
    for (Eigen::Index j = 0; j < m; ++j)
      for (Eigen::Index i = 0; i < labels.rows(); ++i)
        if (!(labels(i, j) >= 0 && labels(i, j) <= 1))
          throw Error("example " + std::to_string(j) + ", output " + std::to_string(i) +
                      ": label " + std::to_string(labels(i, j)) +
                      " is outside the sigmoid output's range [0, 1]");
  return labels;
}

template Matrix<float> encode_labels<float>(const TargetEncoding&, const std::vector<double>&);
template Matrix<double> encode_labels<double>(const TargetEncoding&, const std::vector<double>&);
template Matrix<float> make_targets<float>(Output, int, MatrixCRef<float>);
template Matrix<double> make_targets<double>(Output, int, MatrixCRef<double>);

}  // namespace deepnet
