// A trained model (deepnet/model.hpp): its network, and prediction with it.
#include "deepnet/model.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "deepnet/error.hpp"
#include "deepnet/preprocess.hpp"

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

// Labels and probabilities from the network's outputs (n[L], m).
Prediction from_outputs(const Model& model, Matrix<double> outputs);

// The network's outputs for examples [first, first + count) of data, normalised in the model's precision.
template <typename T>
void outputs_of(const Model& model, Network<T>& net, const Dataset& data, Eigen::Index first, Eigen::Index count,
                Matrix<double>& outputs) {
  outputs.middleCols(first, count) = net.forward(model.normalizer.features<T>(data, first, count)).template cast<double>();
}

}  // namespace

Prediction predict(const Model& model, MatrixCRef<double> X_raw) {
  const int n0 = model.architecture.sizes.front();
  if (X_raw.rows() != n0)
    throw Error("the data has " + std::to_string(X_raw.rows()) + " features but the model expects n[0] = " +
                std::to_string(n0));
  Matrix<double> X = X_raw;
  model.normalizer.apply(X);
  Matrix<double> outputs;
  if (model.float64) {
    Network<double> net = model.network<double>();
    outputs = net.forward(X);
  } else {
    Network<float> net = model.network<float>();
    const Matrix<float> Xf = X.cast<float>();
    outputs = net.forward(Xf).cast<double>();
  }
  return from_outputs(model, std::move(outputs));
}

Prediction predict(const Model& model, const Dataset& data) {
  const int n0 = model.architecture.sizes.front();
  if (data.features() != n0)
    throw Error(data.source + ": has " + std::to_string(data.features()) + " features but the model expects n[0] = " +
                std::to_string(n0));
  constexpr Eigen::Index chunk = 4096;  // examples per forward pass: a small workspace, no copy of the data set
  const Eigen::Index m = data.examples();
  Matrix<double> outputs(model.architecture.sizes.back(), m);
  if (model.float64) {
    Network<double> net = model.network<double>();
    for (Eigen::Index first = 0; first < m; first += chunk) outputs_of(model, net, data, first, std::min(chunk, m - first), outputs);
  } else {
    Network<float> net = model.network<float>();
    for (Eigen::Index first = 0; first < m; first += chunk) outputs_of(model, net, data, first, std::min(chunk, m - first), outputs);
  }
  return from_outputs(model, std::move(outputs));
}

namespace {

Prediction from_outputs(const Model& model, Matrix<double> outputs) {
  Prediction p;
  const Eigen::Index m = outputs.cols();
  p.labels.resize(static_cast<std::size_t>(m));
  switch (model.architecture.output) {
    case Output::sigmoid: {
      if (outputs.rows() == 1) {  // one unit: P(class 1); keep both columns of probabilities
        Matrix<double> both(2, m);
        both.row(0) = (1.0 - outputs.row(0).array()).matrix();
        both.row(1) = outputs.row(0);
        outputs = both;
        for (Eigen::Index j = 0; j < m; ++j) p.labels[static_cast<std::size_t>(j)] = outputs(1, j) > 0.5 ? 1 : 0;
      } else {
        for (Eigen::Index j = 0; j < m; ++j) p.labels[static_cast<std::size_t>(j)] = outputs(0, j) > 0.5 ? 1 : 0;
      }
      break;
    }
    case Output::softmax:
      for (Eigen::Index j = 0; j < m; ++j) {
        Eigen::Index best = 0;
        outputs.col(j).maxCoeff(&best);
        p.labels[static_cast<std::size_t>(j)] = static_cast<double>(best);
      }
      break;
    case Output::linear:
      // Back to the data's units (targets standardised in training).
      outputs = (outputs.array() * model.target_scale + model.target_offset).matrix();
      for (Eigen::Index j = 0; j < m; ++j) p.labels[static_cast<std::size_t>(j)] = outputs(0, j);
      break;
  }
  p.outputs = std::move(outputs);
  return p;
}

}  // namespace

}  // namespace deepnet
