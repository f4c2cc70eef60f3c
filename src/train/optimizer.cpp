// Optimizers over the flat parameter buffer, and learning-rate schedules.
#include "deepnet/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "deepnet/error.hpp"
#include "deepnet/gemm.hpp"

namespace deepnet {

OptimizerKind parse_optimizer(std::string_view name) {
  if (name == "gd" || name == "sgd") return OptimizerKind::sgd;
  if (name == "momentum") return OptimizerKind::momentum;
  if (name == "nesterov") return OptimizerKind::nesterov;
  if (name == "rmsprop") return OptimizerKind::rmsprop;
  if (name == "adam") return OptimizerKind::adam;
  if (name == "adamw") return OptimizerKind::adamw;
  throw Error("optimizer: expected one of gd, sgd, momentum, nesterov, rmsprop, adam, adamw; got '" +
              std::string(name) + "'");
}

std::string_view to_string(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::sgd: return "sgd";
    case OptimizerKind::momentum: return "momentum";
    case OptimizerKind::nesterov: return "nesterov";
    case OptimizerKind::rmsprop: return "rmsprop";
    case OptimizerKind::adam: return "adam";
    case OptimizerKind::adamw: return "adamw";
  }
  return "?";
}

static void check_fraction(const char* name, double value) {
  if (!(value >= 0 && value < 1))
    throw Error(std::string(name) + ": expected a value in [0, 1), got " + std::to_string(value));
}

void OptimizerSettings::validate() const {
  check_fraction("momentum", momentum);
  check_fraction("rho", rho);
  check_fraction("beta1", beta1);
  check_fraction("beta2", beta2);
  if (!(epsilon > 0 && std::isfinite(epsilon))) throw Error("epsilon: expected a finite value > 0");
  if (!(weight_decay >= 0 && std::isfinite(weight_decay))) throw Error("weight decay: expected a finite value >= 0");
}

Optimizer::Optimizer(OptimizerSettings settings, std::size_t parameters) : settings_(settings) {
  settings_.validate();
  switch (settings_.kind) {
    case OptimizerKind::sgd: break;
    case OptimizerKind::momentum:
    case OptimizerKind::nesterov: first_.assign(parameters, 0.0); break;
    case OptimizerKind::rmsprop: second_.assign(parameters, 0.0); break;
    case OptimizerKind::adam:
    case OptimizerKind::adamw:
      first_.assign(parameters, 0.0);
      second_.assign(parameters, 0.0);
      break;
  }
}

namespace {

// The update rules over parameters [begin, end). Compiled for AVX-512, AVX2 and
// baseline x86-64, picked at load time (GCC target_clones); the build has no
// FMA contraction, so every clone gives the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)  // ifunc resolvers run before a sanitizer runtime starts
#define DEEPNET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DEEPNET_CLONES
#endif

struct UpdateArgs {
  OptimizerKind kind;
  double alpha, momentum, rho, epsilon, beta1, beta2, correction1, correction2, decay;
  double* first;
  double* second;
};

template <typename T>
inline __attribute__((always_inline)) void update_range(const UpdateArgs& a, T* theta, const T* gradient,
                                                        std::size_t begin, std::size_t end) {
  double* first = a.first;
  double* second = a.second;
  switch (a.kind) {
    case OptimizerKind::sgd:
      for (std::size_t k = begin; k < end; ++k) theta[k] -= static_cast<T>(a.alpha * gradient[k]);
      break;
    case OptimizerKind::momentum:
      for (std::size_t k = begin; k < end; ++k) {
        first[k] = a.momentum * first[k] + gradient[k];
        theta[k] -= static_cast<T>(a.alpha * first[k]);
      }
      break;
    case OptimizerKind::nesterov:
      for (std::size_t k = begin; k < end; ++k) {
        first[k] = a.momentum * first[k] + gradient[k];
        theta[k] -= static_cast<T>(a.alpha * (gradient[k] + a.momentum * first[k]));
      }
      break;
    case OptimizerKind::rmsprop:
      for (std::size_t k = begin; k < end; ++k) {
        const double g = gradient[k];
        second[k] = a.rho * second[k] + (1 - a.rho) * g * g;
        theta[k] -= static_cast<T>(a.alpha * g / (std::sqrt(second[k]) + a.epsilon));
      }
      break;
    case OptimizerKind::adam:
    case OptimizerKind::adamw:
      for (std::size_t k = begin; k < end; ++k) {
        const double g = gradient[k];
        first[k] = a.beta1 * first[k] + (1 - a.beta1) * g;
        second[k] = a.beta2 * second[k] + (1 - a.beta2) * g * g;
        const double m_hat = first[k] / a.correction1, v_hat = second[k] / a.correction2;
        double value = theta[k];
        value -= a.decay * value;
        value -= a.alpha * m_hat / (std::sqrt(v_hat) + a.epsilon);
        theta[k] = static_cast<T>(value);
      }
      break;
  }
}

DEEPNET_CLONES void update(const UpdateArgs& a, float* theta, const float* gradient, std::size_t begin,
                           std::size_t end) {
  update_range<float>(a, theta, gradient, begin, end);
}
DEEPNET_CLONES void update(const UpdateArgs& a, double* theta, const double* gradient, std::size_t begin,
                           std::size_t end) {
  update_range<double>(a, theta, gradient, begin, end);
}

}  // namespace

template <typename T>
void Optimizer::step(std::span<T> theta, std::span<const T> gradient, double alpha) {
  if (theta.size() != gradient.size())
    throw Error("optimizer: " + std::to_string(theta.size()) + " parameters but " + std::to_string(gradient.size()) +
                " gradients");
  if ((!first_.empty() && first_.size() != theta.size()) || (!second_.empty() && second_.size() != theta.size()))
    throw Error("optimizer: its state holds a different number of parameters than the network");
  ++steps_;
  const OptimizerSettings& s = settings_;
  const double t = static_cast<double>(steps_);
  const bool adam = s.kind == OptimizerKind::adam || s.kind == OptimizerKind::adamw;
  const UpdateArgs args{s.kind,
                        alpha,
                        s.momentum,
                        s.rho,
                        s.epsilon,
                        s.beta1,
                        s.beta2,
                        adam ? 1 - std::pow(s.beta1, t) : 1.0,
                        adam ? 1 - std::pow(s.beta2, t) : 1.0,
                        s.kind == OptimizerKind::adamw ? alpha * s.weight_decay : 0.0,
                        first_.data(),
                        second_.data()};
  // Element-wise, so any split gives the same bits; fixed chunks shared among threads.
  constexpr std::size_t chunk = std::size_t(1) << 15;
  const std::size_t n = theta.size();
  parallel_blocks(static_cast<Eigen::Index>((n + chunk - 1) / chunk), [&](Eigen::Index c) {
    const std::size_t begin = static_cast<std::size_t>(c) * chunk;
    update(args, theta.data(), gradient.data(), begin, std::min(n, begin + chunk));
  });
}

template void Optimizer::step<float>(std::span<float>, std::span<const float>, double);
template void Optimizer::step<double>(std::span<double>, std::span<const double>, double);

ScheduleKind parse_schedule(std::string_view name) {
  if (name == "constant") return ScheduleKind::constant;
  if (name == "step") return ScheduleKind::step;
  if (name == "exponential" || name == "exp") return ScheduleKind::exponential;
  if (name == "inverse-time" || name == "inverse_time") return ScheduleKind::inverse_time;
  if (name == "cosine") return ScheduleKind::cosine;
  throw Error("schedule: expected one of constant, step, exponential, inverse-time, cosine; got '" +
              std::string(name) + "'");
}

std::string_view to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::constant: return "constant";
    case ScheduleKind::step: return "step";
    case ScheduleKind::exponential: return "exponential";
    case ScheduleKind::inverse_time: return "inverse-time";
    case ScheduleKind::cosine: return "cosine";
  }
  return "?";
}

void Schedule::validate() const {
  if (!(alpha > 0 && std::isfinite(alpha))) throw Error("learning rate: expected a finite value > 0, got " + std::to_string(alpha));
  if (!(gamma > 0 && gamma <= 1)) throw Error("lr gamma: expected a value in (0, 1], got " + std::to_string(gamma));
  if (step_size < 1) throw Error("lr step size: expected at least 1 epoch, got " + std::to_string(step_size));
  if (!(decay >= 0 && std::isfinite(decay))) throw Error("lr decay: expected a finite value >= 0");
  if (!(min_lr >= 0 && min_lr <= alpha)) throw Error("min lr: expected a value in [0, learning rate]");
  if (warmup_epochs < 0) throw Error("warmup epochs: expected 0 or more, got " + std::to_string(warmup_epochs));
}

double Schedule::rate(int epoch, int epochs, long long step_in_epoch, long long steps_per_epoch) const {
  double lr = alpha;
  switch (kind) {
    case ScheduleKind::constant: break;
    case ScheduleKind::step: lr = alpha * std::pow(gamma, epoch / step_size); break;
    case ScheduleKind::exponential: lr = alpha * std::pow(gamma, epoch); break;
    case ScheduleKind::inverse_time: lr = alpha / (1 + decay * epoch); break;
    case ScheduleKind::cosine:
      lr = min_lr + (alpha - min_lr) * (1 + std::cos(std::numbers::pi * epoch / std::max(epochs, 1))) / 2;
      break;
  }
  if (epoch < warmup_epochs) {
    const double done = static_cast<double>(epoch) * static_cast<double>(steps_per_epoch) + static_cast<double>(step_in_epoch) + 1;
    lr *= done / (static_cast<double>(warmup_epochs) * static_cast<double>(steps_per_epoch));
  }
  return lr;
}

}  // namespace deepnet
