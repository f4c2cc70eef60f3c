// A trained model (deepnet/model.hpp): its network, and prediction with it.
#include "deepnet/model.hpp"

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "deepnet/error.hpp"
#include "deepnet/preprocess.hpp"
#include "train/chunks.hpp"

namespace deepnet {

template <typename T>
Network<T> Model::network() const {
  Network<T> net(architecture);
  if (net.parameters().size() != parameters.size())
    throw Error("model: the architecture " + architecture.describe() + " has " +
                std::to_string(net.parameters().size()) + " parameters but the model holds " +
                std::to_string(parameters.size()));
  for (std::size_t k = 0; k < parameters.size(); ++k) net.parameters()[k] = static_cast<T>(parameters[k]);
  return net;
}

template <typename T>
void Model::set_parameters(const Network<T>& network) {
  architecture = network.architecture();
  float64 = sizeof(T) == 8;
  parameters.assign(network.parameters().begin(), network.parameters().end());
}

template Network<float> Model::network<float>() const;
template Network<double> Model::network<double>() const;
template void Model::set_parameters<float>(const Network<float>&);
template void Model::set_parameters<double>(const Network<double>&);

namespace {

void check_features(const Model& model, Eigen::Index rows) {
  const int n0 = model.architecture.sizes.front();
  if (rows != n0)
    throw Error("the data has " + std::to_string(rows) + " features but the model expects n[0] = " +
                std::to_string(n0));
}

// A data set's feature count against n[0], naming the data set.
void check_features(const Model& model, const Dataset& data) {
  if (data.features() != model.architecture.sizes.front())
    throw Error(data.source + ": has " + std::to_string(data.features()) + " features but the model expects n[0] = " +
                std::to_string(model.architecture.sizes.front()));
}

// K: rows of Prediction::outputs.
int output_count_of(const Model& model) {
  const int units = model.architecture.sizes.back();
  return model.architecture.output == Output::sigmoid && units == 1 ? 2 : units;
}

// One example's column of Prediction::outputs (K values) from the network's
// A[L] (n[L] values); returns its label. The one place both paths turn
// network outputs into predictions, so they agree.
double finish_example(const Model& model, const double* a, double* outputs) {
  const int units = model.architecture.sizes.back();
  switch (model.architecture.output) {
    case Output::sigmoid:
      if (units == 1) {  // one unit: P(class 1); both columns of probabilities
        outputs[0] = 1.0 - a[0];
        outputs[1] = a[0];
        return outputs[1] > 0.5 ? 1 : 0;
      }
      std::copy(a, a + units, outputs);
      return outputs[0] > 0.5 ? 1 : 0;
    case Output::softmax: {
      int best = 0;
      for (int i = 0; i < units; ++i) {
        outputs[i] = a[i];
        if (a[i] > a[best]) best = i;  // the first of equal maxima, as maxCoeff
      }
      return best;
    }
    case Output::linear:
      // Back to the data's units (targets standardised in training).
      for (int i = 0; i < units; ++i) outputs[i] = a[i] * model.target_scale + model.target_offset;
      return outputs[0];
  }
  return 0;
}

// The single-example path's state for one model: the packed predictor and
// its buffers. A copy shares the packed weights and has its own buffers.
template <typename T>
struct OneExample {
  Predictor<T> predictor;
  std::vector<T> x, a;
  std::vector<double> a_double;

  OneExample(const Network<T>& network, const PredictorOptions& options)
      : predictor(network, options),
        x(static_cast<std::size_t>(network.units(0))),
        a(static_cast<std::size_t>(network.units(network.layers()))),
        a_double(a.size()) {}
  OneExample(const OneExample& other)
      : predictor(other.predictor), x(other.x.size()), a(other.a.size()), a_double(other.a.size()) {}

  // Normalises as Normalizer::apply does, in double, then rounds to T as the
  // batch path does.
  double run(const Model& model, const double* raw, double* outputs) {
    const Normalizer& norm = model.normalizer;
    const bool normalise = norm.kind != Normalization::none;
    if (normalise && norm.offset.size() != x.size())
      throw Error("normalize: the data has " + std::to_string(x.size()) +
                  " features but the normaliser was fitted on " + std::to_string(norm.offset.size()));
    for (std::size_t i = 0; i < x.size(); ++i)
      x[i] = static_cast<T>(normalise ? (raw[i] - norm.offset[i]) / norm.scale[i] : raw[i]);
    predictor.predict_one(x.data(), a.data());
    std::copy(a.begin(), a.end(), a_double.begin());
    return finish_example(model, a_double.data(), outputs);
  }
};

template <typename T>
Prediction predict_one_example(const Model& model, OneExample<T>& one, const double* x) {
  Prediction p;
  p.outputs.resize(output_count_of(model), 1);
  p.labels.assign(1, one.run(model, x, p.outputs.data()));
  return p;
}

// Network::forward a chunk of columns at a time (detail::evaluation_chunk: the
// workspace stays within about 32 MiB however many examples come, and no copy
// of the whole batch is made), then finish_example per column. A prepared
// model's network keeps its (at most max_workspaces) chunk workspaces for the
// next call: repeated batches reuse them.
template <typename T>
Prediction predict_batch(const Model& model, Network<T>& net, MatrixCRef<double> X_raw) {
  const Eigen::Index m = X_raw.cols(), chunk = detail::evaluation_chunk(net);
  Prediction p;
  p.outputs.resize(output_count_of(model), m);
  p.labels.resize(static_cast<std::size_t>(m));
  Matrix<double> X, A;
  for (Eigen::Index first = 0; first < m; first += chunk) {
    const Eigen::Index count = std::min(chunk, m - first);
    X = X_raw.middleCols(first, count);
    model.normalizer.apply(X);
    if constexpr (sizeof(T) == sizeof(double)) {
      A = net.forward(X);
    } else {
      const Matrix<T> Xt = X.cast<T>();
      A = net.forward(Xt).template cast<double>();
    }
    for (Eigen::Index j = 0; j < count; ++j)
      p.labels[static_cast<std::size_t>(first + j)] =
          finish_example(model, A.col(j).data(), p.outputs.col(first + j).data());
  }
  return p;
}

template <typename T>
Prediction predict_unprepared(const Model& model, MatrixCRef<double> X) {
  Network<T> net = model.network<T>();
  if (X.cols() == 1) {
    OneExample<T> one(net, PredictorOptions{});
    return predict_one_example(model, one, X.col(0).data());
  }
  return predict_batch(model, net, X);
}

// A data set's features (X, pixels or floats), normalised and run a chunk of
// examples at a time (detail::evaluation_chunk: a small workspace, no copy of
// the data set; the full chunks' workspace is freed before the last, shorter one).
// release: free the full chunks' workspace before the last, shorter chunk (a
// prepared network keeps its workspaces for the next call instead).
template <typename T>
Prediction predict_dataset(const Model& model, Network<T>& net, const Dataset& data, bool release) {
  const Eigen::Index chunk = detail::evaluation_chunk(net);
  const Eigen::Index m = data.examples();
  Prediction p;
  p.outputs.resize(output_count_of(model), m);
  p.labels.resize(static_cast<std::size_t>(m));
  Matrix<double> A;
  for (Eigen::Index first = 0; first < m; first += chunk) {
    const Eigen::Index count = std::min(chunk, m - first);
    if (release && count != chunk && first > 0) net.release_workspaces();
    A = net.forward(model.normalizer.features<T>(data, first, count)).template cast<double>();
    for (Eigen::Index j = 0; j < count; ++j)
      p.labels[static_cast<std::size_t>(first + j)] =
          finish_example(model, A.col(j).data(), p.outputs.col(first + j).data());
  }
  return p;
}

}  // namespace

Prediction predict(const Model& model, MatrixCRef<double> X_raw) {
  check_features(model, X_raw.rows());
  return model.float64 ? predict_unprepared<double>(model, X_raw) : predict_unprepared<float>(model, X_raw);
}

Prediction predict(const Model& model, const Dataset& data) {
  check_features(model, data);
  if (data.examples() == 1) return predict(model, data.values());  // the single-example path
  if (model.float64) {
    Network<double> net = model.network<double>();
    return predict_dataset(model, net, data, true);
  }
  Network<float> net = model.network<float>();
  return predict_dataset(model, net, data, true);
}

// ---------------------------------------------------------------- PreparedModel

// The prepared state in the model's element type T.
template <typename T>
struct Prepared {
  Network<T> network;  // for batches
  OneExample<T> one;
  std::mutex network_busy, one_busy;

  Prepared(const Model& model, const PredictorOptions& options)
      : network(model.network<T>()), one(network, options) {}

  Prediction predict(const Model& model, MatrixCRef<double> X) {
    if (X.cols() == 1) {
      std::unique_lock lock(one_busy, std::try_to_lock);
      if (lock) return predict_one_example(model, one, X.col(0).data());
      OneExample<T> own(one);
      return predict_one_example(model, own, X.col(0).data());
    }
    std::unique_lock lock(network_busy, std::try_to_lock);
    if (lock) return predict_batch(model, network, X);
    Network<T> own(model.network<T>());
    return predict_batch(model, own, X);
  }

  Prediction predict(const Model& model, const Dataset& data) {
    if (data.examples() == 1) {
      const Matrix<double> x = data.values();
      return predict(model, x);
    }
    std::unique_lock lock(network_busy, std::try_to_lock);
    if (lock) return predict_dataset(model, network, data, false);
    Network<T> own(model.network<T>());
    return predict_dataset(model, own, data, true);
  }

  double predict_one(const Model& model, const double* x, double* outputs) {
    std::unique_lock lock(one_busy, std::try_to_lock);
    if (lock) return one.run(model, x, outputs);
    OneExample<T> own(one);
    return own.run(model, x, outputs);
  }
};

struct PreparedModel::Impl {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Prepared<float>> float32;
  std::unique_ptr<Prepared<double>> float64;

  template <typename F>
  decltype(auto) with_prepared(F&& f) {
    if (float64) return f(*float64);
    return f(*float32);
  }
};

PreparedModel::PreparedModel(Model model, const PredictorOptions& options)
    : PreparedModel(std::make_shared<const Model>(std::move(model)), options) {}

PreparedModel::PreparedModel(std::shared_ptr<const Model> model, const PredictorOptions& options)
    : impl_(std::make_unique<Impl>()) {
  if (!model) throw Error("PreparedModel: no model (a null pointer)");
  impl_->model = std::move(model);
  if (impl_->model->float64) impl_->float64 = std::make_unique<Prepared<double>>(*impl_->model, options);
  else impl_->float32 = std::make_unique<Prepared<float>>(*impl_->model, options);
}

PreparedModel::PreparedModel(PreparedModel&&) noexcept = default;
PreparedModel& PreparedModel::operator=(PreparedModel&&) noexcept = default;
PreparedModel::~PreparedModel() = default;

const Model& PreparedModel::model() const { return *impl_->model; }

const char* PreparedModel::kernel() const {
  return impl_->with_prepared([](auto& prepared) { return prepared.one.predictor.kernel(); });
}

int PreparedModel::output_count() const { return output_count_of(*impl_->model); }

Prediction PreparedModel::predict(MatrixCRef<double> X) const {
  check_features(*impl_->model, X.rows());
  return impl_->with_prepared([&](auto& prepared) { return prepared.predict(*impl_->model, X); });
}

Prediction PreparedModel::predict(const Dataset& data) const {
  check_features(*impl_->model, data);
  return impl_->with_prepared([&](auto& prepared) { return prepared.predict(*impl_->model, data); });
}

double PreparedModel::predict_one(const double* x, double* outputs) const {
  return impl_->with_prepared([&](auto& prepared) { return prepared.predict_one(*impl_->model, x, outputs); });
}

}  // namespace deepnet
