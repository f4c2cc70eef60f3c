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
//   peak_rss_mb          the process's peak resident memory so far (getrusage)
// With --seeds N (fmnist-mlp, wide-mlp) every seed 1..N trains afresh: seconds is
// the median, value the mean, and seeds, seconds_all, values, value_min,
// value_max keep each seed's numbers (as bench/peers/common.py's over_seeds).
//
// Usage: deepnet_bench [--workload NAME|all] [--quick] [--threads N] [--dtype float32|float64|both] [--seeds N]
//                      [--double-kernel avx512|avx2|eigen|auto] [--general]
//        deepnet_bench --sweep batch|width [--quick] [--threads N] [--min-time S]
// Workloads: planar-shallow deep-fullbatch fmnist-mlp wide-mlp inference.
// --general: every Network takes the general path (Network::set_small_net_path(false)),
// to compare with the small-net path (planar-shallow is the only small net here).
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <sys/resource.h>
#include <string>
#include <vector>

#include "deepnet/data.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/init.hpp"
#include "deepnet/network.hpp"
#include "deepnet/optimizer.hpp"
#include "deepnet/predictor.hpp"
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
  int seeds = 1;       // fmnist-mlp and wide-mlp train with seeds 1..seeds
  std::string sweep;   // "batch" or "width": the sweep instead of the workloads
  double min_time = 0.5;  // seconds each sweep point trains at least
  std::string double_kernel = "auto";  // gemm_set_double_kernel: to compare the double products
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

// The process's peak resident memory so far in MB (ru_maxrss is in KiB on Linux).
double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

void emit(const Result& r) {
  const double eps = r.seconds > 0 ? r.examples / r.seconds : 0;
  const double gflops = r.seconds > 0 ? r.flops / r.seconds / 1e9 : 0;
  std::printf(
      "{\"workload\":\"%s\",\"case\":\"%s\",\"system\":\"deepnet\",\"config\":\"%s\",\"dtype\":\"%s\","
      "\"threads\":%d,\"seconds\":%.6g,\"examples\":%.0f,\"examples_per_s\":%.6g,\"flops\":%.6g,"
      "\"gflops\":%.6g,\"metric\":\"%s\",\"value\":%.8g,\"peak_rss_mb\":%.1f%s%s}\n",
      r.workload.c_str(), r.case_name.c_str(), json_escape(r.config).c_str(), r.dtype.c_str(), r.threads, r.seconds,
      r.examples, eps, r.flops, gflops, r.metric.c_str(), r.value, peak_rss_mb(), r.extra.empty() ? "" : ",",
      r.extra.c_str());
  std::fflush(stdout);
}

// One training run per seed 1..seeds: train_one(seed) returns {seconds, value, final cost}.
// The result: the median time, the mean value, and JSON fields keeping every seed's numbers.
struct OverSeeds {
  double seconds = 0, value = 0, final_cost = 0;
  std::string extra;  // "seeds":[...],"seconds_all":[...],"values":[...],"value_min":..,"value_max":..,"final_costs":[...]
};

OverSeeds over_seeds(int seeds, const std::function<std::array<double, 3>(int)>& train_one) {
  std::vector<double> seconds, values, costs;
  std::string seed_list;
  for (int seed = 1; seed <= seeds; ++seed) {
    const std::array<double, 3> run = train_one(seed);
    seconds.push_back(run[0]);
    values.push_back(run[1]);
    costs.push_back(run[2]);
    seed_list += (seed > 1 ? "," : "") + std::to_string(seed);
  }
  auto list = [](const std::vector<double>& v) {
    std::string text;
    char number[32];
    for (double x : v) {
      std::snprintf(number, sizeof number, "%.8g", x);
      text += (text.empty() ? "" : ",") + std::string(number);
    }
    return "[" + text + "]";
  };
  std::vector<double> sorted = seconds;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  OverSeeds out;
  out.seconds = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  out.value = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(n);
  out.final_cost = std::accumulate(costs.begin(), costs.end(), 0.0) / static_cast<double>(n);
  char range[96];
  std::snprintf(range, sizeof range, ",\"value_min\":%.8g,\"value_max\":%.8g",
                *std::min_element(values.begin(), values.end()), *std::max_element(values.begin(), values.end()));
  out.extra = "\"seeds\":[" + seed_list + "],\"seconds_all\":" + list(seconds) + ",\"values\":" + list(values) + range +
              ",\"final_costs\":" + list(costs);
  return out;
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
  // The images arrive as bytes (Dataset::pixels) and go to float32 once, as fit() does.
  const Normalizer normalizer = Normalizer::fit(Normalization::div255, train);
  Eigen::Index m = train.examples();
  if (s.quick) m = std::min<Eigen::Index>(m, 2000);
  const Matrix<float> X = normalizer.features<float>(train, 0, m);
  const std::vector<double> train_labels(train.targets.begin(), train.targets.begin() + m);
  const Matrix<float> Y = one_hot<float>(train_labels, 10);
  const Matrix<float> X_test = normalizer.features<float>(test);
  const Matrix<float> labels_test =
      Eigen::Map<const Matrix<double>>(test.targets.data(), 1, test.examples()).cast<float>();

  const std::vector<int> sizes = {784, 256, 128, 10};
  MiniBatchOptions options;
  options.epochs = s.quick ? 1 : 10;
  options.batch_size = 128;
  options.optimizer.kind = OptimizerKind::sgd;
  options.schedule.kind = ScheduleKind::constant;
  options.schedule.alpha = 0.1;
  const OverSeeds runs = over_seeds(s.seeds, [&](int seed) {
    Network<float> net(Architecture{sizes, {Activation::relu}, Output::softmax});
    Rng rng(static_cast<std::uint64_t>(seed));
    initialize(net, InitScheme::glorot, rng);
    options.seed = static_cast<std::uint64_t>(seed);
    const auto t0 = Clock::now();
    const TrainerState state = train_minibatch(net, X, Y, ValidationSet{}, options);
    const double sec = seconds_since(t0);
    const double acc = accuracy<float>(net.predict(X_test), labels_test);
    return std::array<double, 3>{sec, acc, state.history.empty() ? NAN : state.history.back().train_cost};
  });
  Result r;
  r.workload = "fmnist-mlp";
  r.case_name = "float32";
  r.dtype = "float32";
  r.threads = s.threads;
  r.config = "784-256-128-10 relu/softmax, float32, SGD lr 0.1, batch 128, " + std::to_string(options.epochs) +
             " ep on " + std::to_string(m) + ", glorot init, " + std::to_string(s.threads) + " thr";
  r.seconds = runs.seconds;
  r.examples = double(m) * options.epochs;
  r.flops = 6 * weights_of(sizes) * r.examples;
  r.metric = "test_accuracy";
  r.value = runs.value;
  char extra[128];
  std::snprintf(extra, sizeof extra, "\"epochs\":%d,\"final_cost\":%.6g,\"init\":\"glorot\",", options.epochs, runs.final_cost);
  r.extra = extra + runs.extra;
  emit(r);
}

// ---------------------------------------------------------------- 4. wide-mlp
void wide_mlp(const Settings& s) {
  const int m = s.quick ? 1024 : 8192;
  const int epochs = s.quick ? 1 : 2;
  const std::vector<int> sizes = {1024, 2048, 2048, 10};
  const Matrix<float> X = synthetic_pixels<float>(1024, m);
  const Matrix<float> Y = one_hot<float>(synthetic_labels(m, 10), 10);
  // float32 products, then (where the CPU has bfloat16 dot products) --precision bf16.
  for (const FloatProducts products : {FloatProducts::float32, FloatProducts::bf16}) {
    if (products == FloatProducts::bf16 && !bf16_products_available()) break;
    const bool bf16 = products == FloatProducts::bf16;
    MiniBatchOptions options;
    options.epochs = epochs;
    options.batch_size = 512;
    options.optimizer.kind = OptimizerKind::sgd;
    options.schedule.alpha = 0.01;
    set_float_products(products);
    const OverSeeds runs = over_seeds(s.seeds, [&](int seed) {
      Network<float> net(Architecture{sizes, {Activation::relu}, Output::softmax});
      Rng rng(static_cast<std::uint64_t>(seed));
      initialize(net, InitScheme::he, rng);
      options.seed = static_cast<std::uint64_t>(seed);
      const auto t0 = Clock::now();
      const TrainerState state = train_minibatch(net, X, Y, ValidationSet{}, options);
      const double sec = seconds_since(t0);
      const double cost = state.history.empty() ? NAN : state.history.back().train_cost;
      return std::array<double, 3>{sec, cost, cost};
    });
    set_float_products(FloatProducts::float32);
    Result r;
    r.workload = "wide-mlp";
    r.case_name = bf16 ? "bf16" : "float32";
    r.dtype = bf16 ? "bf16" : "float32";
    r.threads = s.threads;
    r.config = std::string("1024-2048-2048-10 relu/softmax, ") + (bf16 ? "float32 with bf16 products" : "float32") +
               ", SGD lr 0.01, batch 512, " + std::to_string(epochs) + " ep on " + std::to_string(m) + ", he init, " +
               std::to_string(s.threads) + " thr";
    r.seconds = runs.seconds;
    r.examples = double(m) * epochs;
    r.flops = 6 * weights_of(sizes) * r.examples;
    r.metric = "final_cost";
    r.value = runs.value;
    r.extra = "\"epochs\":" + std::to_string(epochs) + ",\"init\":\"he\"," + runs.extra;
    emit(r);
  }
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

  // Single-example latency: the median of individually timed calls, through
  // the single-example path (Predictor, weights packed once); the old figure,
  // Network::forward on one column, and the opt-in bfloat16 weights go into
  // the row's extra fields.
  const int calls = s.quick ? 1000 : 10000;
  const Matrix<float> x1 = X.leftCols(1);
  double sink = 0;
  auto median_call_seconds = [&](auto&& call) {
    for (int i = 0; i < 100; ++i) sink += call();  // warm-up: workspaces, caches, the worker thread
    std::vector<double> times(calls);
    for (int i = 0; i < calls; ++i) {
      const auto t0 = Clock::now();
      sink += call();
      times[i] = seconds_since(t0);
    }
    return median(times);
  };
  Predictor<float> predictor(net);
  PredictorOptions bf16_options;
  bf16_options.bfloat16_weights = true;
  Predictor<float> bf16_predictor(net, bf16_options);
  float out[10];
  const double forward_lat = median_call_seconds([&] { return double(net.forward(x1)(0, 0)); });
  const double lat = median_call_seconds([&] {
    predictor.predict_one(x1.data(), out);
    return double(out[0]);
  });
  const double bf16_lat = median_call_seconds([&] {
    bf16_predictor.predict_one(x1.data(), out);
    return double(out[0]);
  });
  Result r;
  r.workload = "inference";
  r.case_name = "latency";
  r.dtype = "float32";
  r.threads = s.threads;
  r.config = "784-256-128-10, float32, 1 example, Predictor (" + std::string(predictor.kernel()) + "), median of " +
             std::to_string(calls) + " calls, " + std::to_string(s.threads) + " thr";
  r.seconds = lat;
  r.examples = 1;
  r.flops = 2 * w;
  r.metric = "latency_us";
  r.value = lat * 1e6;
  char extra[200];
  std::snprintf(extra, sizeof extra, "\"calls\":%d,\"kernel\":\"%s\",\"forward_us\":%.4g,\"bf16_us\":%.4g", calls,
                predictor.kernel(), forward_lat * 1e6, bf16_lat * 1e6);
  r.extra = extra;
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

// ---------------------------------------------------------------- sweeps (scripts/bench --sweep)
// Training examples/s of a 784-W-W-10 relu/softmax net (plain SGD lr 0.01, float32, he init) on
// synthetic data, against the batch size (1, 2, 4, ..., 4096 on 784-256-128-10, the fmnist-mlp
// net) or the hidden width (W = 16, 32, ..., 4096 at batch 128). The same points and the same
// measurement as bench/peers/common.py (sweep_points, sweep_measure): a warm-up run of 2 steps,
// one of 4 steps to estimate a step's time, then enough steps for min_time seconds (at least 4)
// as one epoch, or whole epochs over all sweep_examples when they are not enough.
constexpr int sweep_examples = 16384;  // a multiple of every batch size

void sweep(const Settings& s) {
  std::vector<std::pair<std::vector<int>, int>> points;  // (sizes, batch)
  if (s.sweep == "batch") {
    const std::vector<int> batches = s.quick ? std::vector<int>{1, 64, 4096}
                                             : std::vector<int>{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
    for (int b : batches) points.push_back({{784, 256, 128, 10}, b});
  } else {
    const std::vector<int> widths = s.quick ? std::vector<int>{16, 256}
                                            : std::vector<int>{16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
    for (int w : widths) points.push_back({{784, w, w, 10}, 128});
  }
  const Matrix<float> X_all = synthetic_pixels<float>(784, sweep_examples);
  const Matrix<float> Y_all = one_hot<float>(synthetic_labels(sweep_examples, 10), 10);
  for (const auto& [sizes, batch] : points) {
    Network<float> net(Architecture{sizes, {Activation::relu}, Output::softmax});
    Rng rng(1);
    initialize(net, InitScheme::he, rng);
    MiniBatchOptions options;
    options.batch_size = batch;
    options.optimizer.kind = OptimizerKind::sgd;
    options.schedule.alpha = 0.01;
    auto run = [&](int examples, int epochs) {
      const Matrix<float> X = X_all.leftCols(examples);  // copies outside the timed part
      const Matrix<float> Y = Y_all.leftCols(examples);
      options.epochs = epochs;
      const auto t0 = Clock::now();
      train_minibatch(net, X, Y, ValidationSet{}, options);
      return seconds_since(t0);
    };
    run(2 * batch, 1);
    const double step = run(4 * batch, 1) / 4;
    const long long steps = std::max(4LL, static_cast<long long>(std::ceil(s.min_time / std::max(step, 1e-9))));
    int examples = sweep_examples, epochs = 1;
    if (steps * batch <= sweep_examples)
      examples = static_cast<int>(steps * batch);
    else
      epochs = static_cast<int>((steps * batch + sweep_examples - 1) / sweep_examples);
    const double sec = run(examples, epochs);
    std::string name;
    for (int n : sizes) name += (name.empty() ? "" : "-") + std::to_string(n);
    std::printf("{\"kind\":\"sweep\",\"sweep\":\"%s\",\"system\":\"deepnet\",\"threads\":\"%d\",\"config\":\"%d thr\","
                "\"sizes\":\"%s\",\"batch\":%d,\"width\":%d,\"examples\":%lld,\"seconds\":%.6g,"
                "\"examples_per_s\":%.6g}\n",
                s.sweep.c_str(), s.threads, s.threads, name.c_str(), batch, sizes[1],
                static_cast<long long>(examples) * epochs, sec, static_cast<double>(examples) * epochs / sec);
    std::fflush(stdout);
  }
}

int usage(const char* message) {
  if (message) std::fprintf(stderr, "deepnet_bench: %s\n", message);
  std::fprintf(stderr,
               "usage: deepnet_bench [--workload NAME|all] [--quick] [--threads N] [--dtype float32|float64|both] "
               "[--seeds N]\n"
               "                     [--double-kernel avx512|avx2|eigen|auto]   (double products; default auto: the CPU's best)\n"
               "                     [--general]   (no small-net path, for comparison)\n"
               "       deepnet_bench --sweep batch|width [--quick] [--threads N] [--min-time SECONDS]\n"
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
      else if (a == "--seeds") s.seeds = std::stoi(value());
      else if (a == "--sweep") s.sweep = value();
      else if (a == "--min-time") s.min_time = std::stod(value());
      else if (a == "--double-kernel") s.double_kernel = value();
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
  if (s.seeds < 1) return usage("--seeds: expected at least 1");
  if (!s.sweep.empty() && s.sweep != "batch" && s.sweep != "width") return usage("--sweep: batch or width");
  if (s.dtype != "float32" && s.dtype != "float64" && s.dtype != "both") return usage("--dtype: float32, float64 or both");
  const std::vector<std::string> known = {"planar-shallow", "deep-fullbatch", "fmnist-mlp", "wide-mlp", "inference"};
  if (s.workload != "all" && std::find(known.begin(), known.end(), s.workload) == known.end())
    return usage(("unknown workload " + s.workload).c_str());
  if (!deepnet::gemm_set_double_kernel(s.double_kernel))
    return usage(("--double-kernel: " + s.double_kernel + " is not built in or not run by this CPU").c_str());
  if (s.info) {
    // How deepnet was built: Eigen's version, SIMD instruction sets (Eigen's
    // own products: float without oneDNN, double where no deepnet kernel
    // runs), the products' backends on this CPU, OpenMP.
    std::printf("{\"kind\":\"deepnet_build\",\"preset\":\"%s\",\"eigen\":\"%d.%d.%d\",\"simd\":\"%s\","
                "\"float_gemm\":\"%s\",\"double_gemm\":\"%s\",\"openmp\":%s,\"compiler\":\"%s\"}\n",
                json_escape(s.preset).c_str(), EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION,
                Eigen::SimdInstructionSetsInUse(), json_escape(deepnet::gemm_backend(true)).c_str(),
                json_escape(deepnet::gemm_backend(false)).c_str(),
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
    if (!s.sweep.empty()) {
      sweep(s);
      return 0;
    }
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
