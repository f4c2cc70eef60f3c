#pragma once
// Activation functions g and their derivatives g', side by side.
//
// Each activation is a small struct with value(z) = g(z) and
// derivative(z, a) = g'(z), where a = g(z) is passed in so that sigmoid and
// tanh reuse the forward result. Adding an activation means adding one struct
// here and one case in dispatch_activation().
#include <cmath>
#include <string>
#include <string_view>

#include "deepnet/matrix.hpp"

namespace deepnet {

enum class Activation { sigmoid, tanh, relu, leaky_relu, linear, softmax };

// Names: sigmoid, tanh, relu, leaky_relu, linear, softmax. Throws Error otherwise.
Activation parse_activation(std::string_view name);
std::string_view to_string(Activation activation);

// sigmoid(z) = 1 / (1 + e^-z); written to never overflow. g' = a (1 - a)
struct SigmoidFn {
  template <typename T>
  T value(T z) const {
    if (z >= T(0)) return T(1) / (T(1) + std::exp(-z));
    const T e = std::exp(z);
    return e / (T(1) + e);
  }
  template <typename T>
  T derivative(T, T a) const { return a * (T(1) - a); }
};

// tanh(z). g' = 1 - a^2
struct TanhFn {
  template <typename T>
  T value(T z) const { return std::tanh(z); }
  template <typename T>
  T derivative(T, T a) const { return T(1) - a * a; }
};

// relu(z) = max(0, z). g' = 1 for z > 0, else 0 (the course's choice at z = 0)
struct ReluFn {
  template <typename T>
  T value(T z) const { return z > T(0) ? z : T(0); }
  template <typename T>
  T derivative(T z, T) const { return z > T(0) ? T(1) : T(0); }
};

// leaky_relu(z) = z for z > 0, else slope * z. g' = 1 for z > 0, else slope
struct LeakyReluFn {
  double slope = 0.01;
  template <typename T>
  T value(T z) const { return z > T(0) ? z : T(slope) * z; }
  template <typename T>
  T derivative(T z, T) const { return z > T(0) ? T(1) : T(slope); }
};

// linear(z) = z. g' = 1
struct LinearFn {
  template <typename T>
  T value(T z) const { return z; }
  template <typename T>
  T derivative(T, T) const { return T(1); }
};

// Calls f(fn) with the struct of an element-wise activation. Softmax is not
// element-wise and only pairs with cross-entropy at the output: Error.
template <typename F>
decltype(auto) dispatch_activation(Activation activation, double leaky_slope, F&& f) {
  switch (activation) {
    case Activation::sigmoid: return f(SigmoidFn{});
    case Activation::tanh: return f(TanhFn{});
    case Activation::relu: return f(ReluFn{});
    case Activation::leaky_relu: return f(LeakyReluFn{leaky_slope});
    case Activation::linear: return f(LinearFn{});
    case Activation::softmax: break;
  }
  return f(LinearFn{});  // unreachable for valid input; callers reject softmax first
}

// A = g(Z). Z, A: (n[l], m). Softmax normalises each column (max-shifted).
template <typename T>
void activation_forward(Activation g, MatrixCRef<T> Z, MatrixRef<T> A, double leaky_slope = 0.01);

// dZ = dA * g'(Z) element-wise. dA, Z, dZ: (n[l], m). Not defined for softmax
// (its gradient is taken together with the loss: dZ[L] = A[L] - Y).
template <typename T>
void activation_backward(Activation g, MatrixCRef<T> dA, MatrixCRef<T> Z, MatrixRef<T> dZ,
                         double leaky_slope = 0.01);

}  // namespace deepnet
