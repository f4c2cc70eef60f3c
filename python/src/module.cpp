// deepnet._core: the Python binding of the library (docs/python.md). It only
// wires numpy arrays and Python values to the library's pipeline: fit and
// partial_fit (deepnet/fit.hpp), predict (deepnet/model.hpp: a Model is
// prepared once, PreparedModel, on its first prediction) and the model file
// (deepnet/model_file.hpp). The scikit-learn estimators are Python, in
// python/deepnet/estimators.py, on top of this module.
//
// Arrays: X arrives as an (m, n) array. A C-ordered float64 array is the
// library's (n, m) column-major matrix as it lies in memory: predict reads it
// in place; fit copies it once into the Dataset it trains on, except a
// C-ordered float32 array, which the Dataset borrows as it lies (the array
// outlives the call; no second copy of the data set). Other layouts (Fortran
// order, integers, strided views) are converted first, one copy; predict reads a
// C-ordered float32 array as it lies too, a chunk of examples at a time. The
// GIL is released while training and predicting; Ctrl-C is checked about
// every 0.1 s during training and stops it with KeyboardInterrupt.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "deepnet/activation.hpp"
#include "deepnet/data.hpp"
#include "deepnet/error.hpp"
#include "deepnet/fit.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/init.hpp"
#include "deepnet/loss.hpp"
#include "deepnet/model.hpp"
#include "deepnet/model_file.hpp"
#include "deepnet/optimizer.hpp"
#include "deepnet/preprocess.hpp"
#include "deepnet/rng.hpp"

namespace py = pybind11;
using deepnet::Checkpoint;
using deepnet::Dataset;
using deepnet::FitSettings;
using deepnet::Model;

namespace {

// The Python Model: a Model, and the PreparedModel (deepnet/model.hpp) made
// from it on the first prediction and kept for the next ones (the network
// built and its weights packed once). A Python Model never changes, so the
// prepared one stays valid; PreparedModel is safe for concurrent calls.
class PyModel {
 public:
  explicit PyModel(Model model) : model_(std::make_shared<const Model>(std::move(model))) {}
  const Model& model() const { return *model_; }
  const deepnet::PreparedModel& prepared() const {
    std::call_once(prepare_once_, [this] { prepared_ = std::make_unique<deepnet::PreparedModel>(model_); });
    return *prepared_;
  }

 private:
  std::shared_ptr<const Model> model_;
  mutable std::once_flag prepare_once_;
  mutable std::unique_ptr<deepnet::PreparedModel> prepared_;
};
using PyModelPtr = std::shared_ptr<PyModel>;

using InputArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

// The estimators' parameter for a library setting, where the names differ.
std::string parameter_for_setting(const std::string& setting) {
  static const std::pair<const char*, const char*> names[] = {
      {"hidden_layers", "layers"},         {"architecture", "layers"},        {"network", "layers"},
      {"hidden_activations", "hidden_activation"}, {"tolerance", "tol"},    {"validation_fraction", "val_split"},
      {"normalization", "normalize"},      {"class_weights", "class_weight"}, {"float64", "dtype"}, {"float_products", "precision"},
      {"record_every", "print_every"},     {"full_batch_gd", "iterations"},   {"mode", "iterations/epochs"}};
  for (const auto& [name, parameter] : names)
    if (setting == name) return parameter;
  return setting;
}

// Thrown from a training callback when Python has a pending KeyboardInterrupt.
struct Interrupted {};

// The (m, n) array as the library's (n, m) matrix, without a copy.
Eigen::Map<const deepnet::Matrix<double>> as_matrix(const InputArray& X, const char* name) {
  if (X.ndim() != 2)
    throw py::value_error(std::string(name) + ": expected a 2-D array (examples, features), got " +
                          std::to_string(X.ndim()) + " dimensions");
  return {X.data(), static_cast<Eigen::Index>(X.shape(1)), static_cast<Eigen::Index>(X.shape(0))};
}

// A C-ordered, aligned float32 array: the library's (n, m) column-major floats as it lies.
bool borrowable_float32(const py::array& X_any) {
  return py::isinstance<py::array_t<float>>(X_any) && (X_any.flags() & py::array::c_style) != 0 &&
         (X_any.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_) != 0;
}

// X into the Dataset: a C-ordered, aligned float32 array borrowed as it lies, no copy
// (Dataset::borrowed_singles: the (n, m) column-major floats; X_any, the
// caller's array, lives until the call returns, and the Dataset no longer);
// anything else copied once into the (n, m) double matrix through float64.
void fill_features(Dataset& data, const py::array& X_any) {
  if (borrowable_float32(X_any)) {
    data.borrowed_singles = static_cast<const float*>(X_any.data());
    data.borrowed_features = static_cast<Eigen::Index>(X_any.shape(1));
    data.borrowed_examples = static_cast<Eigen::Index>(X_any.shape(0));
    return;
  }
  const InputArray X = InputArray::ensure(X_any);
  if (!X) throw py::value_error("X: expected an array of numbers");
  data.X = as_matrix(X, "X");
}

Dataset make_dataset(const py::array& X, const InputArray& y, const std::vector<std::string>& class_names,
                     const std::vector<std::string>& feature_names, const std::string& target_name,
                     const py::object& weights, const std::string& source) {
  Dataset data;
  data.source = source;
  if (X.ndim() != 2)
    throw py::value_error("X: expected a 2-D array (examples, features), got " + std::to_string(X.ndim()) +
                          " dimensions");
  fill_features(data, X);
  if (y.ndim() != 1 || y.shape(0) != X.shape(0))
    throw py::value_error("y: expected " + std::to_string(X.shape(0)) + " labels, one per row of X");
  data.targets.assign(y.data(), y.data() + y.shape(0));
  data.class_names = class_names;
  if (!feature_names.empty()) {
    if (static_cast<py::ssize_t>(feature_names.size()) != X.shape(1))
      throw py::value_error("feature_names: " + std::to_string(feature_names.size()) + " names for " +
                            std::to_string(X.shape(1)) + " features");
    data.feature_names = feature_names;
    data.named_features = true;
  } else {
    for (py::ssize_t i = 0; i < X.shape(1); ++i) data.feature_names.push_back("x" + std::to_string(i + 1));
  }
  data.target_name = target_name;
  if (!weights.is_none()) {
    const InputArray w = weights.cast<InputArray>();
    if (w.ndim() != 1 || w.shape(0) != X.shape(0))
      throw py::value_error("sample_weight: expected " + std::to_string(X.shape(0)) + " weights, one per row of X");
    data.weights.assign(w.data(), w.data() + w.shape(0));
  }
  return data;
}

template <typename T>
T get(const py::dict& d, const char* key, T fallback) {
  return d.contains(key) && !d[key].is_none() ? d[key].cast<T>() : fallback;
}

// A name parsed by the library; its Error becomes a SettingError for `setting`.
template <typename F>
auto parsed(const char* setting, F&& parse) {
  try {
    return parse();
  } catch (const deepnet::SettingError&) {
    throw;
  } catch (const deepnet::Error& e) {
    throw deepnet::SettingError(setting, e.what());
  }
}

// The library's settings from the estimator's parameters, already in the
// library's names (python/deepnet/estimators.py maps them).
FitSettings settings_from(const py::dict& d) {
  FitSettings s;
  // The estimators report no training-set score (scikit-learn's do not
  // either; score(X, y) is the user's call): no pass over the data after fit.
  s.training_score = deepnet::TrainingScore::none;
  s.task = parsed("task", [&] { return deepnet::parse_task(get<std::string>(d, "task", "auto")); });
  s.hidden_layers = get<std::vector<int>>(d, "hidden_layers", {});
  s.hidden_activations.clear();
  for (const std::string& name : get<std::vector<std::string>>(d, "hidden_activations", {"relu"}))
    s.hidden_activations.push_back(parsed("hidden_activations", [&] { return deepnet::parse_activation(name); }));
  if (d.contains("output") && !d["output"].is_none()) s.output = parsed("output", [&] { return deepnet::parse_output(d["output"].cast<std::string>()); });
  s.leaky_slope = get<double>(d, "leaky_slope", s.leaky_slope);
  if (d.contains("init") && !d["init"].is_none()) s.init = parsed("init", [&] { return deepnet::parse_init_scheme(d["init"].cast<std::string>()); });
  s.init_scale = get<double>(d, "init_scale", s.init_scale);
  s.rng = parsed("rng", [&] { return deepnet::parse_rng_kind(get<std::string>(d, "rng", "portable")); });
  s.seed = get<std::uint64_t>(d, "seed", s.seed);
  s.float64 = get<bool>(d, "float64", false);
  {
    const std::string products = get<std::string>(d, "float_products", std::string("float32"));
    if (products != "float32" && products != "bf16")
      throw deepnet::SettingError("float_products", "expected float32 or bf16, got '" + products + "'");
    s.float_products = products == "bf16" ? deepnet::FloatProducts::bf16 : deepnet::FloatProducts::float32;
  }
  if (d.contains("normalization") && !d["normalization"].is_none())
    s.normalization = parsed("normalization", [&] { return deepnet::parse_normalization(d["normalization"].cast<std::string>()); });
  if (d.contains("scale_target") && !d["scale_target"].is_none()) s.scale_target = d["scale_target"].cast<bool>();
  s.validation_fraction = get<double>(d, "validation_fraction", 0);
  s.full_batch_gd = get<bool>(d, "full_batch_gd", false);
  s.iterations = get<int>(d, "iterations", s.iterations);
  s.record_every = get<int>(d, "record_every", s.record_every);
  s.learning_rate = get<double>(d, "learning_rate", 0);
  s.epochs = get<int>(d, "epochs", 0);
  s.max_epochs = get<int>(d, "max_epochs", s.max_epochs);
  s.tolerance = get<double>(d, "tolerance", s.tolerance);
  s.n_iter_no_change = get<int>(d, "n_iter_no_change", s.n_iter_no_change);
  s.batch_size = get<long long>(d, "batch_size", -1);
  s.drop_last = get<bool>(d, "drop_last", false);
  s.diagnose = get<bool>(d, "diagnose", false);
  s.optimizer.kind = parsed("optimizer", [&] { return deepnet::parse_optimizer(get<std::string>(d, "optimizer", s.full_batch_gd ? "gd" : "adam")); });
  s.optimizer.momentum = get<double>(d, "momentum", s.optimizer.momentum);
  s.optimizer.rho = get<double>(d, "rho", s.optimizer.rho);
  s.optimizer.beta1 = get<double>(d, "beta1", s.optimizer.beta1);
  s.optimizer.beta2 = get<double>(d, "beta2", s.optimizer.beta2);
  s.optimizer.epsilon = get<double>(d, "epsilon", s.optimizer.epsilon);
  s.optimizer.weight_decay = get<double>(d, "weight_decay", s.optimizer.weight_decay);
  s.schedule.kind = parsed("schedule", [&] { return deepnet::parse_schedule(get<std::string>(d, "schedule", "constant")); });
  s.schedule.gamma = get<double>(d, "lr_gamma", s.schedule.gamma);
  s.schedule.step_size = get<int>(d, "lr_step", s.schedule.step_size);
  s.schedule.decay = get<double>(d, "lr_decay", s.schedule.decay);
  s.schedule.min_lr = get<double>(d, "min_lr", s.schedule.min_lr);
  s.schedule.warmup_epochs = get<int>(d, "warmup", s.schedule.warmup_epochs);
  s.l2 = get<double>(d, "l2", 0);
  s.dropout = get<std::vector<double>>(d, "dropout", {});
  s.clip_norm = get<double>(d, "clip_norm", 0);
  s.balanced_class_weights = get<bool>(d, "balanced_class_weights", false);
  s.class_weights = get<std::vector<double>>(d, "class_weights", {});
  s.patience = get<int>(d, "patience", 0);
  s.min_delta = get<double>(d, "min_delta", 0);
  // Every class from the start (partial_fit): numbers, or names with the
  // examples' labels given as indices into them.
  if (d.contains("class_values") && !d["class_values"].is_none()) {
    deepnet::TargetEncoding encoding = deepnet::infer_target_encoding(d["class_values"].cast<std::vector<double>>());
    if (d.contains("class_names") && !d["class_names"].is_none())
      encoding.class_names = d["class_names"].cast<std::vector<std::string>>();
    s.encoding = encoding;
  }
  return s;
}

// Checks for Ctrl-C from inside training (the GIL is released there).
class SignalCheck {
 public:
  void operator()() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw Interrupted{};  // the KeyboardInterrupt stays pending
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

py::dict result_dict(deepnet::FitResult&& result) {
  py::dict out;
  std::vector<double> loss, validation_loss, validation_accuracy;
  if (result.plan.full_batch_gd) {
    for (const auto& r : result.cost_history) loss.push_back(r.cost);
    out["n_iter"] = result.model.training.iterations;
  } else {
    for (const auto& r : result.state.history) {
      loss.push_back(r.train_cost);
      validation_loss.push_back(r.validation_cost);
      validation_accuracy.push_back(r.validation_accuracy);
    }
    out["n_iter"] = result.state.history.size();
  }
  out["loss_curve"] = loss;
  out["validation_loss"] = validation_loss;
  out["validation_accuracy"] = validation_accuracy;
  out["best_epoch"] = result.best_epoch;
  out["converged"] = result.converged;
  // The library's warnings, then the training-health warnings (docs/training.md,
  // "Diagnostics"): one list, as the CLI prints them.
  std::vector<std::string> warnings = result.warnings;
  for (const auto& w : result.health.warnings) warnings.push_back(w.message);
  out["warnings"] = warnings;
  // With diagnose: the per-layer records as columns, one row per record and
  // layer (docs/training.md "Diagnostics"; a pandas.DataFrame(d) away).
  if (result.health.records() > 0) {
    std::vector<long long> at, layer;
    std::vector<double> dead, saturated, a_mean, a_std, dw_norm, w_norm, update_ratio;
    for (std::size_t r = 0; r < result.health.records(); ++r)
      for (int l = 1; l <= result.health.layers; ++l) {
        const deepnet::LayerHealth& h = result.health.of(r, l);
        at.push_back(result.health.at[r]);
        layer.push_back(l);
        dead.push_back(h.dead);
        saturated.push_back(h.saturated);
        a_mean.push_back(h.a_mean);
        a_std.push_back(h.a_std);
        dw_norm.push_back(h.dw_norm);
        w_norm.push_back(h.w_norm);
        update_ratio.push_back(h.update_ratio);
      }
    py::dict d;
    d[result.plan.full_batch_gd ? "iteration" : "epoch"] = at;
    d["layer"] = layer;
    d["dead"] = dead;
    d["saturated"] = saturated;
    d["a_mean"] = a_mean;
    d["a_std"] = a_std;
    d["dw_norm"] = dw_norm;
    d["w_norm"] = w_norm;
    d["update_ratio"] = update_ratio;
    out["diagnostics"] = d;
  } else {
    out["diagnostics"] = py::none();
  }
  out["task_reason"] = result.plan.task.reason;
  out["normalization"] = std::string(deepnet::to_string(result.plan.normalization));
  out["batch_size"] = result.plan.batch_size;
  out["learning_rate"] = result.plan.learning_rate;
  if (!result.plan.full_batch_gd) {
    Checkpoint checkpoint;
    checkpoint.model = result.model;
    checkpoint.state = std::move(result.state);
    out["state"] = py::bytes(deepnet::serialize_checkpoint(checkpoint));
  } else {
    out["state"] = py::none();
  }
  out["model"] = std::make_shared<PyModel>(std::move(result.model));
  return out;
}

deepnet::FitCallbacks callbacks_for(SignalCheck& check, bool verbose) {
  deepnet::FitCallbacks callbacks;
  callbacks.on_step = [&check](long long, long long) { check(); };
  callbacks.on_iteration = [&check](int) { check(); };
  if (verbose) {
    callbacks.on_epoch = [](const deepnet::EpochRecord& r) {
      py::gil_scoped_acquire gil;
      py::print("epoch", r.epoch, ": training cost", r.train_cost,
                std::isnan(r.validation_cost) ? py::str("") : py::str(", validation cost {}").format(r.validation_cost));
    };
    callbacks.on_record = [](const deepnet::CostRecord& r) {
      py::gil_scoped_acquire gil;
      py::print("iteration", r.iteration, ": cost", r.cost);
    };
  }
  return callbacks;
}

py::dict fit_py(const py::array& X, const InputArray& y, const std::vector<std::string>& class_names,
                const std::vector<std::string>& feature_names, const std::string& target_name, const py::dict& settings,
                const py::object& sample_weight, bool verbose, const py::object& previous_state, bool partial) {
  const Dataset data = make_dataset(X, y, class_names, feature_names, target_name, sample_weight, "X");
  const FitSettings s = settings_from(settings);
  std::unique_ptr<Checkpoint> previous;
  if (!previous_state.is_none())
    previous = std::make_unique<Checkpoint>(
        deepnet::parse_checkpoint(previous_state.cast<std::string>(), "the estimator's training state"));
  SignalCheck check;
  const deepnet::FitCallbacks callbacks = callbacks_for(check, verbose);
  deepnet::FitResult result;
  try {
    py::gil_scoped_release release;
    result = partial ? deepnet::partial_fit(data, s, previous.get(), callbacks)
                     : deepnet::fit(data, nullptr, s, callbacks, nullptr);
  } catch (const Interrupted&) {
    throw py::error_already_set();
  }
  return result_dict(std::move(result));
}

// (outputs (m, K), labels (m,)) as numpy arrays that own the library's buffers.
// X: a C-ordered float32 array is read as it lies (a Dataset borrowing it, a
// chunk of examples at a time converted by the library), a C-ordered float64
// one in place; anything else is converted to float64 first.
py::tuple predict_py(const PyModel& model, const py::array& X_any) {
  auto prediction = std::make_unique<deepnet::Prediction>();
  if (X_any.ndim() == 2 && borrowable_float32(X_any)) {
    Dataset data;
    data.source = "X";
    fill_features(data, X_any);
    py::gil_scoped_release release;
    *prediction = model.prepared().predict(data);
  } else {
    const InputArray X = InputArray::ensure(X_any);
    if (!X) throw py::value_error("X: expected an array of numbers");
    const auto matrix = as_matrix(X, "X");
    py::gil_scoped_release release;
    *prediction = model.prepared().predict(matrix);
  }
  deepnet::Prediction* p = prediction.release();
  py::capsule owner(p, [](void* pointer) { delete static_cast<deepnet::Prediction*>(pointer); });
  const py::ssize_t K = p->outputs.rows(), m = p->outputs.cols();
  // The (K, m) column-major outputs are an (m, K) row-major array as they lie.
  py::array_t<double> outputs({m, K}, {static_cast<py::ssize_t>(K * sizeof(double)), static_cast<py::ssize_t>(sizeof(double))},
                              p->outputs.data(), owner);
  py::array_t<double> labels({m}, {static_cast<py::ssize_t>(sizeof(double))}, p->labels.data(), owner);
  return py::make_tuple(outputs, labels);
}

// W[l] (n[l], n[l-1]) and b[l] (n[l], 1) in the course's shapes, as float64 copies.
py::list weights_py(const PyModel& model) {
  py::list layers;
  const deepnet::Network<double> net = model.model().network<double>();
  for (int l = 1; l <= net.layers(); ++l) {
    const auto W = net.W(l);
    const auto b = net.b(l);
    py::array_t<double> w_array({W.rows(), W.cols()});
    py::array_t<double> b_array({b.rows(), b.cols()});
    auto w = w_array.mutable_unchecked<2>();
    auto bb = b_array.mutable_unchecked<2>();
    for (Eigen::Index i = 0; i < W.rows(); ++i)
      for (Eigen::Index j = 0; j < W.cols(); ++j) w(i, j) = W(i, j);
    for (Eigen::Index i = 0; i < b.rows(); ++i)
      for (Eigen::Index j = 0; j < b.cols(); ++j) bb(i, j) = b(i, j);
    layers.append(py::make_tuple(w_array, b_array));
  }
  return layers;
}

PyModelPtr load_py(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    PyErr_SetString(PyExc_FileNotFoundError, (path + ": no such model file").c_str());
    throw py::error_already_set();
  }
  py::gil_scoped_release release;
  return std::make_shared<PyModel>(deepnet::load_model(path));
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "deepnet's C++ library: the training pipeline, prediction and the model file";

  // Library errors become Python exceptions with the library's message; a
  // setting error names the estimator's parameter.
  static py::exception<deepnet::TrainingDiverged> diverged(m, "TrainingDiverged", PyExc_ArithmeticError);
  py::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const deepnet::SettingError& e) {
      PyErr_SetString(PyExc_ValueError, (parameter_for_setting(e.setting()) + ": " + e.message()).c_str());
    } catch (const deepnet::TrainingDiverged& e) {
      diverged(e.what());
    } catch (const deepnet::Error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  py::class_<PyModel, PyModelPtr>(m, "Model", "A trained model: network, normaliser, classes, feature names and settings")
      .def("predict", &predict_py, py::arg("X"),
           "(outputs (m, K), labels (m,)): class probabilities or values, and class indices or values. "
           "The first call prepares the model (deepnet::PreparedModel: network built, weights packed for the "
           "single-example path), later calls reuse it")
      .def("to_bytes", [](const PyModel& model) { return py::bytes(deepnet::serialize_model(model.model())); },
           "The model file's bytes (magic, format version, CRC-32C)")
      .def_static("from_bytes",
                  [](const std::string& bytes, const std::string& name) {
                    return std::make_shared<PyModel>(deepnet::parse_model(bytes, name));
                  },
                  py::arg("data"), py::arg("name") = "model bytes")
      .def("save",
           [](const PyModel& model, const std::string& path) {
             py::gil_scoped_release release;
             deepnet::save_model(path, model.model());
           },
           py::arg("path"), "Writes the model file atomically (the same file as deepnet train --out)")
      .def("weights", &weights_py, "[(W[l], b[l]) for l = 1..L], W[l] of shape (n[l], n[l-1]), b[l] (n[l], 1)")
      .def_property_readonly("n_features", [](const PyModel& self) { return self.model().architecture.sizes.front(); })
      .def_property_readonly("sizes", [](const PyModel& self) { return self.model().architecture.sizes; })
      .def_property_readonly("architecture", [](const PyModel& self) { return self.model().architecture.describe(); })
      .def_property_readonly("output", [](const PyModel& self) { return std::string(deepnet::to_string(self.model().architecture.output)); })
      .def_property_readonly("classes", [](const PyModel& self) { return self.model().encoding.classes; })
      .def_property_readonly("class_names", [](const PyModel& self) { return self.model().encoding.class_names; })
      .def_property_readonly("feature_names", [](const PyModel& self) { return self.model().feature_names; })
      .def_property_readonly("target_name", [](const PyModel& self) { return self.model().target_name; })
      .def_property_readonly("float64", [](const PyModel& self) { return self.model().float64; })
      .def_property_readonly("settings", [](const PyModel& self) { return self.model().training.settings; })
      .def_property_readonly("deepnet_version", [](const PyModel& self) { return self.model().training.deepnet_version; })
      .def("__repr__", [](const PyModel& self) {
        const Model& model = self.model();
        return "<deepnet.Model " + model.architecture.describe() + (model.float64 ? " float64" : " float32") + ">";
      });

  m.def("fit",
        [](const py::array& X, const InputArray& y, const std::vector<std::string>& class_names,
           const std::vector<std::string>& feature_names, const std::string& target_name, const py::dict& settings,
           const py::object& sample_weight, bool verbose) {
          return fit_py(X, y, class_names, feature_names, target_name, settings, sample_weight, verbose, py::none(), false);
        },
        py::arg("X"), py::arg("y"), py::arg("class_names"), py::arg("feature_names"), py::arg("target_name"),
        py::arg("settings"), py::arg("sample_weight") = py::none(), py::arg("verbose") = false,
        "deepnet::fit on (m, n) X and m labels; settings by the library's names");
  m.def("partial_fit",
        [](const py::array& X, const InputArray& y, const std::vector<std::string>& class_names,
           const std::vector<std::string>& feature_names, const std::string& target_name, const py::dict& settings,
           const py::object& sample_weight, bool verbose, const py::object& state) {
          return fit_py(X, y, class_names, feature_names, target_name, settings, sample_weight, verbose, state, true);
        },
        py::arg("X"), py::arg("y"), py::arg("class_names"), py::arg("feature_names"), py::arg("target_name"),
        py::arg("settings"), py::arg("sample_weight") = py::none(), py::arg("verbose") = false,
        py::arg("state") = py::none(), "deepnet::partial_fit: one more epoch over (X, y), continuing `state`");
  m.def("load", &load_py, py::arg("path"), "Reads and verifies a model file (deepnet train --out writes them)");
  m.def("set_threads", &deepnet::set_threads, py::arg("threads"),
        "Threads for matrix products (a process-wide setting; results have the same bits with any count)");
  m.def("threads", &deepnet::threads);
  m.def("bf16_products_available", [] { return deepnet::bf16_products_available(); },
        "Whether this CPU and build run precision='bf16' (AVX512_BF16 or AMX, oneDNN)");
  m.attr("__version__") = DEEPNET_VERSION;
}
