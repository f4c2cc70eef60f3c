// Target encoding (deepnet/preprocess.hpp): from a data set's labels to the
// classes of an output layer, and the labels and targets the training loops take.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "deepnet/error.hpp"
#include "deepnet/preprocess.hpp"

namespace deepnet {

namespace {

// Shortest text that reads back as the same double (17 digits at most).
std::string format_value(double value) {
  char text[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

}  // namespace

int TargetEncoding::output_units() const {
  if (output == Output::softmax) return static_cast<int>(classes.size());
  return 1;
}

TargetEncoding infer_target_encoding(const Dataset& data) {
  TargetEncoding encoding = infer_target_encoding(data.targets);
  if (!data.class_names.empty() && encoding.output != Output::linear) {
    encoding.class_names.clear();
    for (double c : encoding.classes) {
      const auto index = static_cast<std::size_t>(c);
      encoding.class_names.push_back(c >= 0 && index < data.class_names.size() ? data.class_names[index]
                                                                               : format_value(c));
    }
  }
  return encoding;
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
  for (double c : encoding.classes) encoding.class_names.push_back(format_value(c));
  return encoding;
}

std::vector<double> targets_in_encoding(const Dataset& data, const TargetEncoding& encoding) {
  if (encoding.output == Output::linear || data.class_names.empty()) return data.targets;
  std::vector<double> values(data.targets.size());
  for (std::size_t j = 0; j < data.targets.size(); ++j) {
    const std::string& name = data.class_names.at(static_cast<std::size_t>(data.targets[j]));
    const auto found = std::find(encoding.class_names.begin(), encoding.class_names.end(), name);
    if (found == encoding.class_names.end()) {
      std::string known;
      for (const auto& c : encoding.class_names) known += (known.empty() ? "" : ", ") + c;
      throw Error(data.source + ": example " + std::to_string(j + 1) + ": label '" + name +
                  "' is not one of the model's classes (" + known + ")");
    }
    values[j] = encoding.classes[static_cast<std::size_t>(found - encoding.class_names.begin())];
  }
  return values;
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
    if (found == encoding.classes.end()) {
      std::string known;
      for (const auto& c : encoding.class_names) known += (known.empty() ? "" : ", ") + c;
      throw Error("example " + std::to_string(j + 1) + ": label " + format_value(targets[j]) +
                  " is not one of the model's classes (" + known + ")");
    }
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
