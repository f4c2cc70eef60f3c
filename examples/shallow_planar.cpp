// The course's shallow net on the planar flower set, through the library API.
// Built with the project (target example_shallow_planar); the README shows it.
#include <cstdio>

#include "deepnet/data.hpp"
#include "deepnet/init.hpp"
#include "deepnet/network.hpp"
#include "deepnet/preprocess.hpp"
#include "deepnet/train.hpp"

int main() {
  using namespace deepnet;
  const Dataset data = load_builtin("planar");  // X: (2, 400)
  const TargetEncoding encoding = infer_target_encoding(data.targets);
  const Matrix<double> Y = encode_labels<double>(encoding, data.targets);  // (1, 400)

  Network<double> net(Architecture{{2, 4, 1}, {Activation::tanh}, Output::sigmoid});
  Rng rng(2, RngKind::numpy);  // np.random.seed(2)
  initialize(net, InitScheme::small, rng, 0.01);

  GradientDescentOptions options;
  options.learning_rate = 1.2;
  options.iterations = 10000;
  options.record_every = 1000;
  options.on_record = [](const CostRecord& r) { std::printf("iteration %d: cost %.6f\n", r.iteration, r.cost); };
  train_gradient_descent(net, data.X, Y, options);

  std::printf("training accuracy: %.4f\n", accuracy<double>(net.predict(data.X), Y));
  return 0;
}
