// Built-in data sets, and load_dataset (a built-in name or a file of any format).
#include <filesystem>
#include <string>

#include "deepnet/data.hpp"
#include "deepnet/error.hpp"
#include "deepnet/files.hpp"

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
    throw Error(source + ": '" + name + "' has no test part");
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
  // A file of that name in the working directory wins over a built-in set; a
  // folder does not (e.g. `train --data iris --plot iris` made one).
  std::error_code error;
  if (is_builtin_dataset(name_or_path) &&
      (!std::filesystem::exists(name_or_path, error) || std::filesystem::is_directory(name_or_path, error)))
    return load_builtin(name_or_path, options);
  if (detect_format(name_or_path) == FileFormat::csv) {
    if (!arrays.labels_path.empty() || !arrays.x_key.empty() || !arrays.y_key.empty())
      throw Error(name_or_path + ": a CSV file holds its labels in a column; a separate labels file and the keys "
                  "of X and y are for NPY, NPZ, HDF5 and IDX files");
    return load_csv(name_or_path, options);
  }
  return load_array_dataset(name_or_path, arrays);
}

}  // namespace deepnet
