// `deepnet export` and `deepnet import`: a model to and from an ONNX graph
// (deepnet/onnx.hpp; docs/model-format.md, "ONNX export"), or to and from NPZ with the
// course's names W1, b1, W2, b2, ... in the course's shapes (W[l]: (n[l], n[l-1]),
// b[l]: (n[l], 1)), so weights move between numpy and deepnet; beside them the
// rest of the model (normaliser, classes, feature names, activations), so that
// an exported model imports back whole (docs/model-format.md, "NPZ export").
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "cli/cli.hpp"
#include "deepnet/array.hpp"
#include "deepnet/model_file.hpp"
#include "deepnet/onnx.hpp"

namespace deepnet::cli {

namespace {

struct ExportSettings {
  std::string model, npz, onnx;
};

struct ImportSettings {
  std::string npz, onnx, out;
  std::string hidden_activation, output, dtype, classes;
  double leaky_slope = 0.01;
  // Options that mean nothing on import; given, they are refused.
  std::string layers, init, init_scale, rng, seed;
  CLI::Option *hidden_activation_option = nullptr, *output_option = nullptr, *leaky_slope_option = nullptr,
              *dtype_option = nullptr, *classes_option = nullptr;
  std::vector<std::pair<const char*, CLI::Option*>> refused;
};

// A column-major (rows, cols) block of the flat buffer as a row-major array.
NumericArray course_array(const std::vector<double>& flat, std::size_t offset, std::size_t rows, std::size_t cols,
                          bool float64) {
  NumericArray a;
  a.shape = {rows, cols};
  a.dtype = float64 ? "<f8" : "<f4";
  a.values.resize(rows * cols);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) a.values[i * cols + j] = flat[offset + j * rows + i];
  return a;
}

NumericArray column(const std::vector<double>& values) {
  NumericArray a;
  a.shape = {values.size(), 1};
  a.dtype = "<f8";
  a.values = values;
  return a;
}

NumericArray scalar(double value) {
  NumericArray a;
  a.dtype = "<f8";
  a.values = {value};
  return a;
}

StringArray strings(const std::vector<std::string>& values) {
  StringArray a;
  a.shape = {values.size()};
  a.values = values;
  return a;
}

StringArray text(const std::string& value) {
  StringArray a;  // shape (): a 0-d array, as np.array('...')
  a.values = {value};
  return a;
}

// The graph of docs/model-format.md, "ONNX export": normalisation as Sub/Div (not folded into the first Gemm).
int run_export_onnx(const ExportSettings& s) {
  const Model model = with_exit_code(exit_model, [&] { return load_model(s.model); });
  with_exit_code(exit_model, [&] {
    save_onnx(s.onnx, model);
    return 0;
  });
  const Architecture& arch = model.architecture;
  const bool classifier = arch.output != Output::linear;
  const bool label = arch.output == Output::softmax || (arch.output == Output::sigmoid && arch.sizes.back() == 1);
  const std::string normalisation =
      model.normalizer.kind == Normalization::none
          ? "no normalisation"
          : "normalisation " + std::string(to_string(model.normalizer.kind)) +
                (model.normalizer.kind == Normalization::div255 ? " as Div" : " as Sub/Div") + " (not folded)";
  std::printf("exported %s (%s, %s) to %s: ONNX opset %d, IR %d; input 'input' (batch, %d), %s, %d Gemm layers, "
              "outputs '%s'%s\n",
              s.model.c_str(), arch.describe().c_str(), model.float64 ? "float64" : "float32", s.onnx.c_str(),
              onnx_opset, onnx_ir_version, arch.sizes[0], normalisation.c_str(), arch.layers(),
              classifier ? "probabilities" : "predictions", label ? " and 'label'" : "");
  return exit_ok;
}

int run_export(const ExportSettings& s) {
  if (s.npz.empty() == s.onnx.empty())
    throw CliError(exit_usage, s.npz.empty() ? "export: give --onnx FILE or --npz FILE (one of them)"
                                             : "export: --npz and --onnx go one at a time; export twice for both");
  if (!s.onnx.empty()) return run_export_onnx(s);
  const Model model = with_exit_code(exit_model, [&] { return load_model(s.model); });
  std::vector<std::pair<std::string, NpzArray>> arrays;
  const Architecture& arch = model.architecture;
  const auto& n = arch.sizes;
  std::size_t offset = 0;
  for (int l = 1; l <= arch.layers(); ++l) {
    const auto rows = static_cast<std::size_t>(n[l]), cols = static_cast<std::size_t>(n[l - 1]);
    arrays.emplace_back("W" + std::to_string(l), course_array(model.parameters, offset, rows, cols, model.float64));
    offset += rows * cols;
    arrays.emplace_back("b" + std::to_string(l), course_array(model.parameters, offset, rows, 1, model.float64));
    offset += rows;
  }
  // The normaliser, x' = (x - offset) / scale, under the names numpy code uses.
  const Normalizer& norm = model.normalizer;
  arrays.emplace_back("normalization", text(std::string(to_string(norm.kind))));
  switch (norm.kind) {
    case Normalization::none:
      break;
    case Normalization::standard:
      arrays.emplace_back("mu", column(norm.offset));
      arrays.emplace_back("sigma", column(norm.scale));
      break;
    case Normalization::minmax: {
      std::vector<double> max(norm.offset.size());
      for (std::size_t i = 0; i < max.size(); ++i) max[i] = norm.offset[i] + norm.scale[i];
      arrays.emplace_back("min", column(norm.offset));
      arrays.emplace_back("max", column(max));
      arrays.emplace_back("scale", column(norm.scale));  // the exact divisor: max - min may round
      break;
    }
    case Normalization::div255:
      arrays.emplace_back("scale", column(norm.scale));
      break;
  }
  std::vector<std::string> hidden;
  for (int l = 1; l < arch.layers(); ++l) hidden.emplace_back(to_string(arch.activation(l)));
  arrays.emplace_back("hidden_activations", strings(hidden));
  arrays.emplace_back("output", text(std::string(to_string(arch.output))));
  arrays.emplace_back("leaky_slope", scalar(arch.leaky_slope));
  // A regression model trained on standardised targets: y = output * target_scale + target_offset.
  if (model.target_offset != 0 || model.target_scale != 1) {
    arrays.emplace_back("target_offset", scalar(model.target_offset));
    arrays.emplace_back("target_scale", scalar(model.target_scale));
  }
  if (!model.encoding.classes.empty()) {
    std::vector<std::string> names = model.encoding.class_names;
    names.resize(model.encoding.classes.size());
    arrays.emplace_back("classes", strings(names));
    NumericArray values;
    values.shape = {model.encoding.classes.size()};
    values.dtype = "<f8";
    values.values = model.encoding.classes;
    arrays.emplace_back("class_values", values);
  }
  // A model trained on a file without a header takes its columns by position: no names to write.
  if (!model.feature_names.empty()) arrays.emplace_back("feature_names", strings(model.feature_names));
  arrays.emplace_back("target_name", text(model.target_name));
  with_exit_code(exit_model, [&] {
    save_npz(s.npz, arrays);
    return 0;
  });
  std::printf("exported %s (%s) to %s: W1..W%d, b1..b%d, normalisation %s\n", s.model.c_str(),
              arch.describe().c_str(), s.npz.c_str(), arch.layers(), arch.layers(),
              std::string(to_string(norm.kind)).c_str());
  return exit_ok;
}

// ------------------------------------------------------------------ import

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string text = "(";
  for (std::size_t k = 0; k < shape.size(); ++k) text += (k ? ", " : "") + std::to_string(shape[k]);
  if (shape.size() == 1) text += ",";
  return text + ")";
}

// "W12" -> 12; nullopt for anything else (W0, W01, Wx, w1).
std::optional<int> layer_of(const std::string& key, char letter) {
  if (key.size() < 2 || key.size() > 8 || key[0] != letter || key[1] == '0') return std::nullopt;
  int l = 0;
  for (std::size_t k = 1; k < key.size(); ++k) {
    if (key[k] < '0' || key[k] > '9') return std::nullopt;
    l = l * 10 + (key[k] - '0');
  }
  return l;
}

// The NPZ being imported: its members, read on demand, errors naming the file.
class ImportFile {
 public:
  explicit ImportFile(const std::string& path) : path_(path) {
    for (const std::string& key : npz_keys(path)) keys_.insert(key);
  }
  const std::string& path() const { return path_; }
  bool has(const std::string& key) const { return keys_.count(key) > 0; }
  const std::set<std::string>& keys() const { return keys_; }
  NumericArray numbers(const std::string& key) const { return load_npz_array(path_, key); }
  StringArray strings(const std::string& key) const { return load_npz_strings(path_, key); }
  std::string text(const std::string& key) const {
    const StringArray a = strings(key);
    if (a.values.size() != 1) fail(key + " has shape " + shape_text(a.shape) + "; expected one string");
    return a.values[0];
  }
  // A vector of `count` values: shape (count,), (count, 1) or (1, count).
  std::vector<double> vector(const std::string& key, std::size_t count, const std::string& expected) const {
    const NumericArray a = numbers(key);
    check_vector(key, a.shape, count, expected);
    return a.values;
  }
  std::vector<std::string> string_vector(const std::string& key, std::size_t count, const std::string& expected) const {
    const StringArray a = strings(key);
    check_vector(key, a.shape, count, expected);
    return a.values;
  }
  [[noreturn]] void fail(const std::string& what) const { throw Error(path_ + ": " + what); }

 private:
  void check_vector(const std::string& key, const std::vector<std::size_t>& shape, std::size_t count,
                    const std::string& expected) const {
    const bool fits = (shape.empty() && count == 1) || (shape.size() == 1 && shape[0] == count) ||
                      (shape.size() == 2 && ((shape[0] == count && shape[1] == 1) || (shape[0] == 1 && shape[1] == count)));
    if (!fits)
      fail(key + " has shape " + shape_text(shape) + "; expected (" + std::to_string(count) + ", 1) = " + expected);
  }

  std::string path_;
  std::set<std::string> keys_;
};

// The layers W1, b1, ..., WL, bL: no gaps, each W with its b, in the course's shapes.
void read_layers(const ImportFile& file, Model& model) {
  std::set<int> w_layers, b_layers;
  for (const std::string& key : file.keys()) {
    if (const auto l = layer_of(key, 'W')) w_layers.insert(*l);
    if (const auto l = layer_of(key, 'b')) b_layers.insert(*l);
  }
  if (w_layers.empty())
    file.fail("no member 'W1'; expected the course's names W1, b1, W2, b2, ... (W[l]: (n[l], n[l-1]), b[l]: (n[l], 1))");
  const int L = std::max(*w_layers.rbegin(), b_layers.empty() ? 0 : *b_layers.rbegin());
  for (int l = 1; l <= L; ++l) {
    const std::string wl = "W" + std::to_string(l), bl = "b" + std::to_string(l);
    const bool w = w_layers.count(l) > 0, b = b_layers.count(l) > 0;
    if (!w && !b)
      file.fail(wl + " is missing (and " + bl + "), but layer " + std::to_string(L) +
                " is there; expected W1, b1, ..., W" + std::to_string(L) + ", b" + std::to_string(L) + " without gaps");
    if (!w) file.fail(wl + " is missing: " + bl + " is there without its weights");
    if (!b) file.fail(bl + " is missing: " + wl + " is there without its biases");
  }
  std::vector<int>& n = model.architecture.sizes;
  n.assign(1, 0);
  std::vector<NumericArray> W, b;
  for (int l = 1; l <= L; ++l) {
    const std::string ls = std::to_string(l), wl = "W" + ls, bl = "b" + ls;
    b.push_back(file.numbers(bl));
    const NumericArray& bias = b.back();
    const bool b_column = bias.shape.size() == 1 || (bias.shape.size() == 2 && bias.shape[1] == 1);
    if (!b_column || bias.shape[0] == 0)
      file.fail(bl + " has shape " + shape_text(bias.shape) + "; expected (n[" + ls + "], 1) or (n[" + ls + "],)");
    const std::size_t rows = bias.shape[0];
    W.push_back(file.numbers(wl));
    const NumericArray& w = W.back();
    const std::string course = "(n[" + ls + "], n[" + std::to_string(l - 1) + "])";
    const std::string transposed = " — transposed? deepnet stores W[l] as (n[l], n[l-1])";
    if (w.shape.size() != 2) file.fail(wl + " has shape " + shape_text(w.shape) + "; expected a 2-D array " + course);
    if (l == 1) {
      if (w.shape[0] != rows && w.shape[1] == rows)
        file.fail(wl + " has shape " + shape_text(w.shape) + "; expected " + shape_text({rows, w.shape[0]}) + " = " +
                  course + transposed);
      if (w.shape[0] != rows || w.shape[1] == 0)
        file.fail(wl + " has shape " + shape_text(w.shape) + "; expected (" + std::to_string(rows) + ", n[0]) = " +
                  course + ", as " + bl + " has " + std::to_string(rows) + " rows");
      n[0] = static_cast<int>(w.shape[1]);
    } else {
      const auto cols = static_cast<std::size_t>(n.back());
      const std::vector<std::size_t> expected{rows, cols};
      if (w.shape != expected)
        file.fail(wl + " has shape " + shape_text(w.shape) + "; expected " + shape_text(expected) + " = " + course +
                  (w.shape == std::vector<std::size_t>{cols, rows} ? transposed : ""));
    }
    n.push_back(static_cast<int>(rows));
    for (const auto& [array, name] : {std::pair{&w, &wl}, std::pair{&bias, &bl}})
      for (std::size_t k = 0; k < array->values.size(); ++k)
        if (!std::isfinite(array->values[k]))
          file.fail(*name + " holds the non-finite value " + std::to_string(array->values[k]) + " at flat index " +
                    std::to_string(k) + "; a model holds finite parameters only");
  }
  for (std::size_t l = 0; l < W.size(); ++l) {
    const std::size_t rows = W[l].shape[0], cols = W[l].shape[1];
    for (std::size_t j = 0; j < cols; ++j)
      for (std::size_t i = 0; i < rows; ++i) model.parameters.push_back(W[l].values[i * cols + j]);
    for (std::size_t i = 0; i < rows; ++i) model.parameters.push_back(b[l].values[i]);
  }
  // Written by deepnet export: keep its element type (float32 unless every array is float64).
  model.float64 = std::all_of(W.begin(), W.end(), [](const NumericArray& a) { return a.dtype == "<f8"; });
}

// The normaliser from mu/sigma, min/max(/scale) or scale; `normalization` names
// the kind when present (export writes it), else the members say. False when
// the file has none of them.
bool read_normalizer(const ImportFile& file, Model& model) {
  const auto n0 = static_cast<std::size_t>(model.architecture.sizes[0]);
  const std::string columns = "(n[0], 1) = (" + std::to_string(n0) + ", 1)";
  Normalizer& norm = model.normalizer;
  std::optional<Normalization> kind;
  if (file.has("normalization")) {
    const std::string name = file.text("normalization");
    try {
      kind = parse_normalization(name);
    } catch (const Error&) {
      file.fail("normalization is '" + name + "'; expected none, standard, minmax or div255");
    }
  } else if (file.has("mu") || file.has("sigma")) {
    kind = Normalization::standard;
  } else if (file.has("min") || file.has("max")) {
    kind = Normalization::minmax;
  } else if (file.has("scale")) {
    kind = Normalization::div255;
  }
  if (!kind) return false;
  norm.kind = *kind;
  const auto need = [&](const std::string& key) {
    if (!file.has(key))
      file.fail("has no member '" + key + "', which " + std::string(to_string(*kind)) +
                " normalisation needs; expected it as " + columns);
    return file.vector(key, n0, columns);
  };
  switch (*kind) {
    case Normalization::none:
      break;
    case Normalization::standard:
      norm.offset = need("mu");
      norm.scale = need("sigma");
      break;
    case Normalization::minmax:
      norm.offset = need("min");
      if (file.has("scale")) {
        norm.scale = need("scale");
      } else {
        const std::vector<double> max = need("max");
        norm.scale.resize(n0);
        for (std::size_t i = 0; i < n0; ++i) norm.scale[i] = max[i] - norm.offset[i];
      }
      break;
    case Normalization::div255:
      norm.scale = need("scale");
      norm.offset.assign(n0, 0.0);
      break;
  }
  const char* scale_name = *kind == Normalization::standard ? "sigma" : *kind == Normalization::minmax ? (file.has("scale") ? "scale" : "max - min") : "scale";
  for (std::size_t i = 0; i < norm.scale.size(); ++i) {
    if (!std::isfinite(norm.offset[i]))
      file.fail(std::string(*kind == Normalization::standard ? "mu" : "min") + "[" + std::to_string(i) + "] is " +
                std::to_string(norm.offset[i]) + "; expected a finite value");
    if (!std::isfinite(norm.scale[i]) || norm.scale[i] == 0)
      file.fail(std::string(scale_name) + "[" + std::to_string(i) + "] is " + std::to_string(norm.scale[i]) +
                "; expected a finite non-zero scale");
  }
  return true;
}

[[noreturn]] void conflict(const std::string& flag, const std::string& given, const ImportFile& file,
                           const std::string& member, const std::string& stored) {
  throw CliError(exit_usage, flag + " " + given + " contradicts " + file.path() + ", whose member '" + member +
                                 "' says " + stored + "; leave " + flag + " out to import the model as it was exported");
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ",") + name;
  return text;
}

// An ONNX graph (deepnet's, or one of the same shape): it fixes everything the flags could say.
int run_import_onnx(const ImportSettings& s) {
  for (const auto& [flag, option] :
       {std::pair{"--hidden-activation", s.hidden_activation_option}, std::pair{"--output", s.output_option},
        std::pair{"--leaky-slope", s.leaky_slope_option}, std::pair{"--dtype", s.dtype_option},
        std::pair{"--classes", s.classes_option}})
    if (option->count())
      throw CliError(exit_usage, std::string(flag) +
                                     " is for --npz: with --onnx the graph gives the activations, the output, the "
                                     "element type and the classes; leave it out");
  const Model model = with_exit_code(exit_data, [&] { return load_onnx(s.onnx); });
  with_exit_code(exit_model, [&] {
    save_model(s.out, model);
    return 0;
  });
  if (model.normalizer.kind == Normalization::none)
    std::fprintf(stderr,
                 "deepnet: warning: %s has no normalisation (no Sub/Div before the first layer): the model takes "
                 "its inputs as they are\n",
                 s.onnx.c_str());
  std::printf("imported %s as %s (%s, normalisation %s) into %s\n", s.onnx.c_str(),
              model.architecture.describe().c_str(), model.float64 ? "float64" : "float32",
              std::string(to_string(model.normalizer.kind)).c_str(), s.out.c_str());
  return exit_ok;
}

int run_import(const ImportSettings& s) {
  for (const auto& [flag, option] : s.refused)
    if (option->count())
      throw CliError(exit_usage, std::string(flag) +
                                     " means nothing on import: the file's arrays fix the layers and every "
                                     "parameter (nothing is initialised or drawn at random); leave it out");
  if (s.npz.empty() == s.onnx.empty())
    throw CliError(exit_usage, s.npz.empty() ? "import: give --onnx FILE or --npz FILE (one of them)"
                                             : "import: --npz and --onnx go one at a time");
  if (!s.onnx.empty()) return run_import_onnx(s);
  Model model;
  Architecture& arch = model.architecture;
  bool normalized = false;
  std::optional<ImportFile> opened;
  with_exit_code(exit_data, [&] {
    opened.emplace(s.npz);
    read_layers(*opened, model);
    normalized = read_normalizer(*opened, model);
    return 0;
  });
  const ImportFile& file = *opened;
  const auto data = [&](auto f) { return with_exit_code(exit_data, f); };
  const int L = arch.layers();
  const int units = arch.sizes.back();

  // Activations: the file's (export writes them), else the flags, else relu.
  const std::vector<std::string> flag_hidden = split_list(s.hidden_activation);
  if (file.has("hidden_activations")) {
    const std::vector<std::string> names = data([&] {
      return file.string_vector("hidden_activations", static_cast<std::size_t>(L - 1),
                                "one per hidden layer, L - 1 = " + std::to_string(L - 1));
    });
    if (s.hidden_activation_option->count() && flag_hidden != names &&
        !(flag_hidden.size() == 1 && std::all_of(names.begin(), names.end(), [&](const auto& g) { return g == flag_hidden[0]; })))
      conflict("--hidden-activation", s.hidden_activation, file, "hidden_activations", joined(names));
    arch.hidden_activations.clear();
    for (const std::string& name : names) {
      try {
        arch.hidden_activations.push_back(parse_activation(name));
      } catch (const Error& e) {
        throw CliError(exit_data, file.path() + ": hidden_activations: " + e.what());
      }
    }
    if (arch.hidden_activations.empty()) arch.hidden_activations.push_back(Activation::relu);
  } else {
    arch.hidden_activations.clear();
    for (const std::string& name : flag_hidden)
      arch.hidden_activations.push_back(with_exit_code(exit_usage, [&] { return parse_activation(name); }));
  }

  // Output: the file's, else --output, else one unit -> sigmoid, several -> softmax.
  if (file.has("output")) {
    const std::string name = data([&] { return file.text("output"); });
    if (s.output_option->count() && s.output != name) conflict("--output", s.output, file, "output", name);
    try {
      arch.output = parse_output(name);
    } catch (const Error& e) {
      throw CliError(exit_data, file.path() + ": output: " + e.what());
    }
  } else {
    arch.output = s.output.empty() ? (units == 1 ? Output::sigmoid : Output::softmax)
                                   : with_exit_code(exit_usage, [&] { return parse_output(s.output); });
  }
  arch.leaky_slope = s.leaky_slope;
  if (file.has("leaky_slope")) {
    const std::vector<double> slope = data([&] { return file.vector("leaky_slope", 1, "one value"); });
    if (s.leaky_slope_option->count() && s.leaky_slope != slope[0])
      conflict("--leaky-slope", s.leaky_slope_option->as<std::string>(), file, "leaky_slope", std::to_string(slope[0]));
    arch.leaky_slope = slope[0];
  }
  if (file.has("target_offset") != file.has("target_scale"))
    throw CliError(exit_data, s.npz + ": target_offset and target_scale come together; found only one of them");
  if (file.has("target_offset")) {
    model.target_offset = data([&] { return file.vector("target_offset", 1, "one value"); })[0];
    model.target_scale = data([&] { return file.vector("target_scale", 1, "one value"); })[0];
    if (!(std::isfinite(model.target_offset) && std::isfinite(model.target_scale) && model.target_scale != 0))
      throw CliError(exit_data, s.npz + ": target_scale must be finite and non-zero, target_offset finite");
  }
  try {
    arch.validate();
  } catch (const Error& e) {
    // The layer count comes from the file; the activations from the file or the flags.
    throw CliError(file.has("hidden_activations") ? exit_data : exit_usage, file.path() + ": " + e.what());
  }

  // Classes: the file's names and values, else --classes, else 0, 1, ...
  model.encoding.output = arch.output;
  if (arch.output != Output::linear) {
    const auto classes = static_cast<std::size_t>(arch.output == Output::softmax ? units : 2);
    const std::string expected = std::to_string(classes) + " classes (" + std::string(to_string(arch.output)) +
                                 " with n[L] = " + std::to_string(units) + ")";
    std::vector<std::string> names = s.classes.empty() ? std::vector<std::string>{} : split_list(s.classes);
    if (file.has("classes")) {
      const std::vector<std::string> stored = data([&] { return file.string_vector("classes", classes, expected); });
      if (s.classes_option->count() && names != stored) conflict("--classes", s.classes, file, "classes", joined(stored));
      names = stored;
    } else if (!names.empty() && names.size() != classes) {
      throw CliError(exit_usage, "--classes: " + std::to_string(names.size()) + " names for " + expected);
    }
    std::vector<double> values;
    if (file.has("class_values")) values = data([&] { return file.vector("class_values", classes, expected); });
    for (std::size_t k = 0; k < classes; ++k) {
      model.encoding.classes.push_back(values.empty() ? static_cast<double>(k) : values[k]);
      model.encoding.class_names.push_back(names.empty() ? std::to_string(k) : names[k]);
    }
  }

  const auto n0 = static_cast<std::size_t>(arch.sizes[0]);
  if (file.has("feature_names"))
    model.feature_names =
        data([&] { return file.string_vector("feature_names", n0, "one per input, n[0] = " + std::to_string(n0)); });
  // Without names the model takes its inputs by position (and its label as the last column).
  model.target_name = file.has("target_name") ? data([&] { return file.text("target_name"); }) : "";

  // Element type: --dtype, else the file's when export wrote it, else float32.
  if (s.dtype_option->count()) {
    if (s.dtype != "float32" && s.dtype != "float64")
      throw CliError(exit_usage, "--dtype: expected float32 or float64, got '" + s.dtype + "'");
    model.float64 = s.dtype == "float64";
  } else if (!file.has("output")) {
    model.float64 = false;
  }
  if (!model.float64)
    for (double& v : model.parameters) v = static_cast<double>(static_cast<float>(v));
  model.training.optimizer = "imported";
  model.training.deepnet_version = DEEPNET_VERSION;
  with_exit_code(exit_model, [&] {
    save_model(s.out, model);
    return 0;
  });
  if (!normalized)
    std::fprintf(stderr,
                 "deepnet: warning: %s has no normalisation (no members normalization, mu/sigma, min/max or "
                 "scale): the model takes its inputs as they are, so inputs must be pre-scaled the way the "
                 "weights were trained (e.g. standardised) before predict or evaluate\n",
                 s.npz.c_str());
  std::printf("imported %s as %s (%s, normalisation %s) into %s\n", s.npz.c_str(), arch.describe().c_str(),
              model.float64 ? "float64" : "float32", std::string(to_string(model.normalizer.kind)).c_str(),
              s.out.c_str());
  return exit_ok;
}

}  // namespace

Runner add_export_command(CLI::App& app) {
  auto s = std::make_shared<ExportSettings>();
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Write a model as an ONNX graph (--onnx: input 'input' (batch, n[0]); the normaliser as Sub/Div; a Gemm and "
      "its activation per layer; outputs 'probabilities' and 'label' (classifiers) or 'predictions' (regression), "
      "as predict --proba computes them; class and feature names as metadata; opset 13, IR 8) or to NPZ (--npz: W1 "
      "(n[1], n[0]), b1 (n[1], 1), ... in the course's names and shapes, and beside them the normaliser (mu/sigma, "
      "min/max/scale or scale, as (n[0], 1) float64 columns), classes, feature_names, hidden_activations, output "
      "and leaky_slope). docs/model-format.md");
  cmd->add_option("--model", s->model, "Model file")->required();
  cmd->add_option("--onnx", s->onnx, "ONNX file to write (atomically); one of --onnx and --npz");
  cmd->add_option("--npz", s->npz, "NPZ file to write (atomically); one of --onnx and --npz");
  return [s] { return run_export(*s); };
}

Runner add_import_command(CLI::App& app) {
  auto s = std::make_shared<ImportSettings>();
  CLI::App* cmd = app.add_subcommand(
      "import",
      "Make a model file from an ONNX graph (--onnx: as export writes it, or the same network with MatMul + Add; "
      "anything else is refused naming the first unsupported node) or from an NPZ of W1, b1, W2, b2, ... in the "
      "course's shapes (--npz: e.g. from numpy, or written by export, whose normaliser, classes and activations "
      "come back with it). The layers come from the file, so --layers, --init, --init-scale, --rng and --seed "
      "are refused here.");
  cmd->add_option("--onnx", s->onnx, "ONNX file to read; one of --onnx and --npz");
  cmd->add_option("--npz", s->npz, "NPZ file with W1, b1, ...; one of --onnx and --npz");
  cmd->add_option("--out", s->out, "Model file to write")->required();
  s->hidden_activation_option = cmd->add_option(
      "--hidden-activation", s->hidden_activation,
      "--npz only. Hidden activation: sigmoid, tanh, relu, leaky_relu or linear; one for all hidden layers or one per "
      "layer, comma-separated (default: the NPZ's hidden_activations, else relu)");
  s->hidden_activation = "relu";
  s->output_option = cmd->add_option("--output", s->output,
                                     "--npz only. Output layer: sigmoid, softmax or linear (default: the NPZ's output, else "
                                     "one unit -> sigmoid, several -> softmax)");
  s->leaky_slope_option =
      cmd->add_option("--leaky-slope", s->leaky_slope, "--npz only. Slope of leaky_relu for z <= 0 (default: the NPZ's leaky_slope, else 0.01)");
  s->dtype_option = cmd->add_option("--dtype", s->dtype,
                                    "--npz only. Element type: float32 or float64 (default: as export wrote the arrays, "
                                    "float32 for an NPZ without deepnet's members)");
  s->classes_option = cmd->add_option("--classes", s->classes,
                                      "--npz only. Class names, comma-separated (default: the NPZ's classes, else 0, 1, ...)");
  // Accepted by the parser only to be refused with a reason (not listed in --help).
  for (const auto& [flag, target] : {std::pair{"--layers", &s->layers}, std::pair{"--init", &s->init},
                                     std::pair{"--init-scale", &s->init_scale}, std::pair{"--rng", &s->rng},
                                     std::pair{"--seed", &s->seed}})
    s->refused.emplace_back(flag, cmd->add_option(flag, *target)->group(""));
  return [s] { return run_import(*s); };
}

}  // namespace deepnet::cli
