// Built-in data sets and the mapping from labels to output targets.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>

#include "deepnet/data.hpp"
#include "deepnet/error.hpp"
#include "io/read_file.hpp"

namespace deepnet {

namespace detail {
// Generated at build time by cmake/embed_files.cmake.
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_files();
}  // namespace detail

namespace {

std::string_view embedded(std::string_view key) {
  for (const auto& [name, text] : detail::embedded_files())
    if (name == key) return text;
  throw Error("built-in data '" + std::string(key) + "' is missing from this build");
}

// scikit-learn's own CSV layout: a first line "n_samples,n_features,class_0,class_1,...",
// then rows of n_features numbers and the class index.
Dataset parse_sklearn_csv(std::string_view text, const std::string& name,
                          const std::vector<std::string>& feature_names) {
  const std::size_t end_of_first = text.find('\n');
  const std::string first(text.substr(0, end_of_first));
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (start <= first.size()) {
    const std::size_t comma = first.find(',', start);
    fields.push_back(first.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  CsvOptions options;
  options.header = CsvHeader::absent;
  Dataset data = parse_csv(text.substr(end_of_first + 1), name, options);
  data.class_names.assign(fields.begin() + 2, fields.end());
  for (auto& c : data.class_names)
    if (!c.empty() && c.back() == '\r') c.pop_back();
  if (data.examples() != std::stol(fields[0]) || data.features() != std::stol(fields[1]))
    throw Error(name + ": line 1 promises " + fields[0] + " examples of " + fields[1] +
                " features, found " + std::to_string(data.examples()) + " of " +
                std::to_string(data.features()));
  if (feature_names.size() == static_cast<std::size_t>(data.features())) {
    data.feature_names = feature_names;
    data.named_features = true;  // scikit-learn's names: other files are matched to them by name
  }
  data.target_name = "class";
  return data;
}

const std::vector<std::string> breast_cancer_features = [] {
  std::vector<std::string> names;
  const char* base[] = {"radius", "texture", "perimeter", "area", "smoothness", "compactness",
                        "concavity", "concave_points", "symmetry", "fractal_dimension"};
  for (const char* kind : {"mean_", "se_", "worst_"})
    for (const char* b : base) names.push_back(std::string(kind) + b);
  return names;
}();

// "NAME", "NAME:train" -> (NAME, false); "NAME:test" -> (NAME, true)
std::pair<std::string, bool> split_part(std::string_view spec) {
  const std::size_t colon = spec.rfind(':');
  if (colon == std::string_view::npos) return {std::string(spec), false};
  const std::string_view part = spec.substr(colon + 1);
  if (part == "train") return {std::string(spec.substr(0, colon)), false};
  if (part == "test") return {std::string(spec.substr(0, colon)), true};
  return {std::string(spec), false};
}

}  // namespace

std::vector<BuiltinDataset> builtin_datasets() {
  return {
      {"planar",
       "the course's planar 'flower': 400 points in 2-D, 2 classes (rose curve r = 4 sin 4t with "
       "noise, numpy seed 1); generated here from the published recipe",
       false},
      {"breast-cancer",
       "Breast Cancer Wisconsin (Diagnostic), UCI: 569 examples, 30 features, 2 classes "
       "(0 malignant, 1 benign); scikit-learn's copy (BSD-3-Clause), Debian python3-sklearn",
       false},
      {"iris", "Fisher's iris: 150 examples, 4 features (cm), 3 classes; scikit-learn's copy", false},
      {"wine",
       "UCI wine recognition: 178 examples, 13 features, 3 classes (standardise it: proline is in "
       "the hundreds); scikit-learn's copy",
       false},
      {"digits",
       "UCI optical handwritten digits: 1797 8x8 images (values 0..16), 10 classes; scikit-learn's copy",
       false},
      {"fashion-mnist",
       "Fashion-MNIST (Zalando, MIT licence): 60000 training and 10000 test 28x28 grey images "
       "(values 0..255), 10 classes; read from the Debian package dataset-fashion-mnist",
       true},
  };
}

bool is_builtin_dataset(std::string_view name) {
  const std::string base = split_part(name).first;
  for (const auto& d : builtin_datasets())
    if (d.name == base) return true;
  return false;
}

Dataset load_fashion_mnist(bool test_part);  // fashion_mnist.cpp

Dataset load_builtin(std::string_view spec, const CsvOptions& options) {
  const auto [name, test_part] = split_part(spec);
  const std::string source = "builtin:" + std::string(spec);
  if (!is_builtin_dataset(name)) {
    std::string known;
    for (const auto& d : builtin_datasets()) known += (known.empty() ? "" : ", ") + d.name;
    throw Error("no built-in data set named '" + name + "'; built-in sets: " + known);
  }
  if (name == "fashion-mnist") return load_fashion_mnist(test_part);
  if (test_part)
    throw Error(source + ": '" + name + "' has no test part; use --val-split or --test FILE");
  Dataset data;
  if (name == "planar") {
    data = parse_csv(embedded("planar"), source, options);
  } else if (name == "digits") {
    CsvOptions no_header;
    no_header.header = CsvHeader::absent;
    data = parse_csv(io::gunzip(std::string(embedded("digits")), source), source, no_header);
    data.feature_names.clear();
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c < 8; ++c)
        data.feature_names.push_back("pixel_" + std::to_string(r) + "_" + std::to_string(c));
    data.named_features = true;
    data.target_name = "digit";
  } else if (name == "breast-cancer") {
    data = parse_sklearn_csv(embedded("breast-cancer"), source, breast_cancer_features);
  } else if (name == "iris") {
    data = parse_sklearn_csv(embedded("iris"), source,
                             {"sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"});
  } else if (name == "wine") {
    data = parse_sklearn_csv(
        embedded("wine"), source,
        {"alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
         "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
         "od280_od315_of_diluted_wines", "proline"});
  }
  data.source = source;
  return data;
}

Dataset load_dataset(const std::string& name_or_path, const CsvOptions& options, const ArrayOptions& arrays) {
  // A file of that name in the working directory wins over a built-in set.
  if (is_builtin_dataset(name_or_path) && !std::filesystem::exists(name_or_path))
    return load_builtin(name_or_path, options);
  if (detect_format(name_or_path) == FileFormat::csv) {
    if (!arrays.labels_path.empty() || !arrays.x_key.empty() || !arrays.y_key.empty())
      throw Error(name_or_path + ": a CSV file holds its labels in a column; a separate labels file and the keys "
                  "of X and y are for NPY, NPZ, HDF5 and IDX files");
    return load_csv(name_or_path, options);
  }
  return load_array_dataset(name_or_path, arrays);
}

// Shortest text that reads back as the same double (17 digits at most).
static std::string format_value(double value) {
  char text[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

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
