// deepnet's side of the benchmark harness (scripts/bench, docs/performance.md).
//
// Runs the workloads of issue #6 in-process through the public API and prints
// one JSON object per measurement on stdout (diagnostics go to stderr). The
// schema is shared with the peers in bench/peers/*.py and merged by
// bench/report.py:
//   workload, case       which workload, and the variant compared across systems
//   system, config       "deepnet", and how it ran (dtype, threads, batch, ...)
//   dtype, threads
//   seconds              timed part only (training loop, or the forward passes):
//                        data loading, initialisation and evaluation are outside it
//   examples             examples processed in the timed part
//   examples_per_s
//   flops, gflops        FLOPs model: training 6 x weights per example, inference
//                        2 x weights per example (weights = sum n[l] n[l-1])
//   metric, value        final_cost, test_accuracy or latency_us
//
// Usage: deepnet_bench [--workload NAME|all] [--quick] [--threads N] [--dtype float32|float64|both] [--general]
// Workloads: planar-shallow deep-fullbatch fmnist-mlp wide-mlp inference.
// --general: every Network takes the general path (Network::set_small_net_path(false)),
// to compare with the small-net path (planar-shallow is the only small net here).
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "deepnet/data.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/init.hpp"
#include "deepnet/network.hpp"
#include "deepnet/optimizer.hpp"
#include "deepnet/preprocess.hpp"
#include "deepnet/rng.hpp"
#include "deepnet/train.hpp"

namespace {

using namespace deepnet;
using Clock = std::chrono::steady_clock;

struct Settings {
  std::string workload = "all";
  bool quick = false;
  int threads = 1;
  std::string dtype = "both";  // deep-fullbatch only; the others have a fixed dtype
  bool info = false;
  std::string preset;  // the CMake preset the program was built with (reported by --info)
  bool general = false;  // --general: no small-net path
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

template <typename T>
constexpr const char* dtype_name() {
  return sizeof(T) == 4 ? "float32" : "float64";
}

// Weights of a fully connected net: sum n[l] n[l-1] (biases are not counted).
double weights_of(const std::vector<int>& sizes) {
  double w = 0;
  for (std::size_t l = 1; l < sizes.size(); ++l) w += double(sizes[l]) * double(sizes[l - 1]);
  return w;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

struct Result {
  std::string workload, case_name, config, dtype, metric;
  int threads = 1;
  double seconds = 0, examples = 0, flops = 0, value = 0;
  std::string extra;  // more "key":value pairs, already JSON, without a leading comma
};

void emit(const Result& r) {
  const double eps = r.seconds > 0 ? r.examples / r.seconds : 0;
  const double gflops = r.seconds > 0 ? r.flops / r.seconds / 1e9 : 0;
  std::printf(
      "{\"workload\":\"%s\",\"case\":\"%s\",\"system\":\"deepnet\",\"config\":\"%s\",\"dtype\":\"%s\","
      "\"threads\":%d,\"seconds\":%.6g,\"examples\":%.0f,\"examples_per_s\":%.6g,\"flops\":%.6g,"
      "\"gflops\":%.6g,\"metric\":\"%s\",\"value\":%.8g%s%s}\n",
      r.workload.c_str(), r.case_name.c_str(), json_escape(r.config).c_str(), r.dtype.c_str(), r.threads, r.seconds,
      r.examples, eps, r.flops, gflops, r.metric.c_str(), r.value, r.extra.empty() ? "" : ",", r.extra.c_str());
  std::fflush(stdout);
}

// ---------------------------------------------------------------- synthetic data
// The same integer hash in bench/peers/common.py, so every system trains on
// identical "random" data: murmur3's fmix32 of k * 0x9E3779B1 (mod 2^32).
std::uint32_t hash32(std::uint32_t k) {
  std::uint32_t x = k * 0x9E3779B1u;
  x ^= x >> 16;
  x *= 0x85EBCA6Bu;
  x ^= x >> 13;
  x *= 0xC2B2AE35u;
  x ^= x >> 16;
  return x;
}

// X (n, m): example j, feature i is pixel (hash(j*n + i) & 255) / 255, i.e. the
// row-major (m, n) array of the peers, as in the course's flattened images.
template <typename T>
Matrix<T> synthetic_pixels(int n, int m) {
  Matrix<T> X(n, m);
  for (int j = 0; j < m; ++j)
    for (int i = 0; i < n; ++i)
      X(i, j) = static_cast<T>(static_cast<double>(hash32(static_cast<std::uint32_t>(j) * n + i) & 255u) / 255.0);
  return X;
}

// Labels 0..classes-1 for m examples: hash(0x80000000 + j) % classes.
std::vector<double> synthetic_labels(int m, int classes) {
  std::vector<double> y(m);
  for (int j = 0; j < m; ++j) y[j] = static_cast<double>(hash32(0x80000000u + static_cast<std::uint32_t>(j)) % classes);
  return y;
}

// One-hot (classes, m) from class indices.
template <typename T>
Matrix<T> one_hot(const std::vector<double>& labels, int classes) {
  Matrix<T> Y = Matrix<T>::Zero(classes, static_cast<Eigen::Index>(labels.size()));
  for (std::size_t j = 0; j < labels.size(); ++j) Y(static_cast<Eigen::Index>(labels[j]), static_cast<Eigen::Index>(j)) = T(1);
  return Y;
}

// ---------------------------------------------------------------- 1. planar-shallow
void planar_shallow(const Settings& s) {
  const Dataset data = load_builtin("planar");  // X (2, 400), labels 0/1
  const Matrix<double> Y = Eigen::Map<const Matrix<double>>(data.targets.data(), 1, data.examples());
  const std::vector<int> sizes = {2, 4, 1};
  Network<double> net(Architecture{sizes, {Activation::tanh}, Output::sigmoid});
  net.set_small_net_path(!s.general);
  Rng rng(2, RngKind::numpy);  // the course's np.random.seed(2)
  initialize(net, InitScheme::small, rng, 0.01);
  GradientDescentOptions options;
  options.learning_rate = 1.2;
  options.iterations = s.quick ? 50 : 10000;
  options.record_every = 1;  // the cost of every iteration, as the course's loop (and the peers) compute it
  const auto t0 = Clock::now();
  const std::vector<CostRecord> costs = train_gradient_descent(net, data.X, Y, options);
  const double sec = seconds_since(t0);
  const double acc = accuracy<double>(net.predict(data.X), Y);
  const double m = static_cast<double>(data.examples());
  Result r;
  r.workload = "planar-shallow";
  r.case_name = "float64";
  r.dtype = "float64";
  r.threads = s.threads;
  r.config = "2-4-1 tanh/sigmoid, float64, full batch m=400, " + std::to_string(options.iterations) +
             " it, lr 1.2, " + std::to_string(s.threads) + " thr";
  r.seconds = sec;
  r.examples = m * options.iterations;
  r.flops = 6 * weights_of(sizes) * r.examples;
  r.metric = "final_cost";
  r.value = costs.back().cost;
  char extra[128];
  std::snprintf(extra, sizeof extra, "\"iterations\":%d,\"train_accuracy\":%.6g", options.iterations, acc);
  r.extra = extra;
  emit(r);
}

// ---------------------------------------------------------------- 2. deep-fullbatch
template <typename T>
void deep_fullbatch(const Settings& s) {
  const int m = 209;
  const std::vector<int> sizes = {12288, 20, 7, 5, 1};
  const Matrix<T> X = synthetic_pixels<T>(12288, m);
  const std::vector<double> labels = synthetic_labels(m, 2);
  const Matrix<T> Y = Eigen::Map<const Matrix<double>>(labels.data(), 1, m).cast<T>();
  Network<T> net(Architecture{sizes, {Activation::relu}, Output::sigmoid});
  net.set_small_net_path(!s.general);
  Rng rng(1, RngKind::numpy);  // the course's np.random.seed(1); W = randn / sqrt(n[l-1])
  initialize(net, InitScheme::xavier, rng);
  GradientDescentOptions options;
  options.learning_rate = 0.0075;
  options.iterations = s.quick ? 50 : 2500;
  options.record_every = 1;  // the cost of every iteration, as the course's loop (and the peers) compute it
  const auto t0 = Clock::now();
  const std::vector<CostRecord> costs = train_gradient_descent(net, X, Y, options);
  const double sec = seconds_since(t0);
  Result r;
  r.workload = "deep-fullbatch";
  r.case_name = dtype_name<T>();
  r.dtype = dtype_name<T>();
  r.threads = s.threads;
  r.config = std::string("12288-20-7-5-1 relu/sigmoid, ") + dtype_name<T>() + ", full batch m=209, " +
             std::to_string(options.iterations) + " it, lr 0.0075, " + std::to_string(s.threads) + " thr";
  r.seconds = sec;
  r.examples = double(m) * options.iterations;
  r.flops = 6 * weights_of(sizes) * r.examples;
  r.metric = "final_cost";
  r.value = costs.back().cost;
  r.extra = "\"iterations\":" + std::to_string(options.iterations);
  emit(r);
}

// ---------------------------------------------------------------- 3. fmnist-mlp
void fmnist_mlp(const Settings& s) {
  Dataset train = load_builtin("fashion-mnist");
  const Dataset test = load_builtin("fashion-mnist:test");
  const Normalizer normalizer = Normalizer::fit(Normalization::div255, train.X);
  Eigen::Index m = train.examples();
  if (s.quick) m = std::min<Eigen::Index>(m, 2000);
  Matrix<double> Xd = train.X.leftCols(m);
  normalizer.apply(Xd);
  const Matrix<float> X = Xd.cast<float>();
  Xd.resize(0, 0);
  const std::vector<double> train_labels(train.targets.begin(), train.targets.begin() + m);
  const Matrix<float> Y = one_hot<float>(train_labels, 10);
  Matrix<double> Xt = test.X;
  normalizer.apply(Xt);
  const Matrix<float> X_test = Xt.cast<float>();
  const Matrix<float> labels_test =
      Eigen::Map<const Matrix<double>>(test.targets.data(), 1, test.examples()).cast<float>();

  const std::vector<int> sizes = {784, 256, 128, 10};
  Network<float> net(Architecture{sizes, {Activation::relu}, Output::softmax});
  Rng rng(1);
  initialize(net, InitScheme::he, rng);
  MiniBatchOptions options;
  options.epochs = s.quick ? 1 : 10;
  options.batch_size = 128;
  options.optimizer.kind = OptimizerKind::sgd;
  options.schedule.kind = ScheduleKind::constant;
  options.schedule.alpha = 0.1;
  options.seed = 1;
  const auto t0 = Clock::now();
  const TrainerState state = train_minibatch(net, X, Y, ValidationSet{}, options);
  const double sec = seconds_since(t0);
  const double acc = accuracy<float>(net.predict(X_test), labels_test);
  Result r;
  r.workload = "fmnist-mlp";
  r.case_name = "float32";
  r.dtype = "float32";
  r.threads = s.threads;
  r.config = "784-256-128-10 relu/softmax, float32, SGD lr 0.1, batch 128, " + std::to_string(options.epochs) +
             " ep on " + std::to_string(m) + ", he init, " + std::to_string(s.threads) + " thr";
  r.seconds = sec;
  r.examples = double(m) * options.epochs;
  r.flops = 6 * weights_of(sizes) * r.examples;
  r.metric = "test_accuracy";
  r.value = acc;
  char extra[128];
  std::snprintf(extra, sizeof extra, "\"epochs\":%d,\"final_cost\":%.6g", options.epochs,
                state.history.empty() ? NAN : state.history.back().train_cost);
  r.extra = extra;
  emit(r);
}

// ---------------------------------------------------------------- 4. wide-mlp
void wide_mlp(const Settings& s) {
  const int m = s.quick ? 1024 : 8192;
  const int epochs = s.quick ? 1 : 2;
  const std::vector<int> sizes = {1024, 2048, 2048, 10};
  const Matrix<float> X = synthetic_pixels<float>(1024, m);
  const Matrix<float> Y = one_hot<float>(synthetic_labels(m, 10), 10);
  Network<float> net(Architecture{sizes, {Activation::relu}, Output::softmax});
  Rng rng(1);
  initialize(net, InitScheme::he, rng);
  MiniBatchOptions options;
  options.epochs = epochs;
  options.batch_size = 512;
  options.optimizer.kind = OptimizerKind::sgd;
  options.schedule.alpha = 0.01;
  options.seed = 1;
  const auto t0 = Clock::now();
  const TrainerState state = train_minibatch(net, X, Y, ValidationSet{}, options);
  const double sec = seconds_since(t0);
  Result r;
  r.workload = "wide-mlp";
  r.case_name = "float32";
  r.dtype = "float32";
  r.threads = s.threads;
  r.config = "1024-2048-2048-10 relu/softmax, float32, SGD lr 0.01, batch 512, " + std::to_string(epochs) +
             " ep on " + std::to_string(m) + ", " + std::to_string(s.threads) + " thr";
  r.seconds = sec;
  r.examples = double(m) * epochs;
  r.flops = 6 * weights_of(sizes) * r.examples;
  r.metric = "final_cost";
  r.value = state.history.empty() ? NAN : state.history.back().train_cost;
  r.extra = "\"epochs\":" + std::to_string(epochs);
  emit(r);
}

// ---------------------------------------------------------------- 5. inference
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void inference(const Settings& s) {
  const std::vector<int> sizes = {784, 256, 128, 10};
  Network<float> net(Architecture{sizes, {Activation::relu}, Output::softmax});
  Rng rng(1);
  initialize(net, InitScheme::he, rng);
  const int batch = 10000;
  const Matrix<float> X = synthetic_pixels<float>(784, batch);
  const double w = weights_of(sizes);

  // Single-example latency: the median of individually timed calls.
  const int calls = s.quick ? 1000 : 10000;
  const Matrix<float> x1 = X.leftCols(1);
  double sink = 0;
  for (int i = 0; i < 100; ++i) sink += net.forward(x1)(0, 0);  // warm-up, sizes the workspace
  std::vector<double> times(calls);
  for (int i = 0; i < calls; ++i) {
    const auto t0 = Clock::now();
    sink += net.forward(x1)(0, 0);
    times[i] = seconds_since(t0);
  }
  const double lat = median(times);
  Result r;
  r.workload = "inference";
  r.case_name = "latency";
  r.dtype = "float32";
  r.threads = s.threads;
  r.config = "784-256-128-10, float32, 1 example, median of " + std::to_string(calls) + " calls, " +
             std::to_string(s.threads) + " thr";
  r.seconds = lat;
  r.examples = 1;
  r.flops = 2 * w;
  r.metric = "latency_us";
  r.value = lat * 1e6;
  r.extra = "\"calls\":" + std::to_string(calls);
  emit(r);

  // Batch throughput: the median of several forward passes over 10000 columns.
  const int reps = s.quick ? 3 : 10;
  sink += net.forward(X)(0, 0);  // warm-up
  std::vector<double> batch_times(reps);
  for (int i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    sink += net.forward(X)(0, 0);
    batch_times[i] = seconds_since(t0);
  }
  const double bt = median(batch_times);
  Result b;
  b.workload = "inference";
  b.case_name = "batch";
  b.dtype = "float32";
  b.threads = s.threads;
  b.config = "784-256-128-10, float32, batch 10000, median of " + std::to_string(reps) + " passes, " +
             std::to_string(s.threads) + " thr";
  b.seconds = bt;
  b.examples = batch;
  b.flops = 2 * w * batch;
  b.metric = "batch_ms";
  b.value = bt * 1e3;
  b.extra = "\"reps\":" + std::to_string(reps);
  emit(b);
  if (!std::isfinite(sink)) std::fprintf(stderr, "deepnet_bench: non-finite output\n");
}

int usage(const char* message) {
  if (message) std::fprintf(stderr, "deepnet_bench: %s\n", message);
  std::fprintf(stderr,
               "usage: deepnet_bench [--workload NAME|all] [--quick] [--threads N] [--dtype float32|float64|both]\n"
               "                     [--general]   (no small-net path, for comparison)\n"
               "       deepnet_bench --info [--preset NAME]   (how it was built, as JSON)\n"
               "workloads: planar-shallow deep-fullbatch fmnist-mlp wide-mlp inference\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + ": needs a value");
      return argv[++i];
    };
    try {
      if (a == "--workload") s.workload = value();
      else if (a == "--quick") s.quick = true;
      else if (a == "--threads") s.threads = std::stoi(value());
      else if (a == "--dtype") s.dtype = value();
      else if (a == "--info") s.info = true;
      else if (a == "--preset") s.preset = value();
      else if (a == "--general") s.general = true;
      else if (a == "--help" || a == "-h") {
        usage(nullptr);
        return 0;
      }
      else return usage(("unknown argument " + a).c_str());
    } catch (const std::exception& e) {
      return usage(e.what());
    }
  }
  if (s.threads < 1) return usage("--threads: expected at least 1");
  if (s.dtype != "float32" && s.dtype != "float64" && s.dtype != "both") return usage("--dtype: float32, float64 or both");
  const std::vector<std::string> known = {"planar-shallow", "deep-fullbatch", "fmnist-mlp", "wide-mlp", "inference"};
  if (s.workload != "all" && std::find(known.begin(), known.end(), s.workload) == known.end())
    return usage(("unknown workload " + s.workload).c_str());
  if (s.info) {
    // How deepnet was built: Eigen's version, SIMD instruction sets, OpenMP.
    std::printf("{\"kind\":\"deepnet_build\",\"preset\":\"%s\",\"eigen\":\"%d.%d.%d\",\"simd\":\"%s\",\"openmp\":%s,"
                "\"compiler\":\"%s\"}\n",
                json_escape(s.preset).c_str(), EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION,
                Eigen::SimdInstructionSetsInUse(),
#ifdef _OPENMP
                "true",
#else
                "false",
#endif
                json_escape(__VERSION__).c_str());
    return 0;
  }
  deepnet::set_threads(s.threads);
  auto want = [&](const char* w) { return s.workload == "all" || s.workload == w; };
  try {
    if (want("planar-shallow")) planar_shallow(s);
    if (want("deep-fullbatch")) {
      if (s.dtype != "float64") deep_fullbatch<float>(s);
      if (s.dtype != "float32") deep_fullbatch<double>(s);
    }
    if (want("fmnist-mlp")) fmnist_mlp(s);
    if (want("wide-mlp")) wide_mlp(s);
    if (want("inference")) inference(s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "deepnet_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
