#pragma once
// Output layer / loss pairs. Each pair has the same output gradient
// dZ[L] = A[L] - Y, which is why they are matched:
//   sigmoid + binary cross-entropy  J = -(1/m) sum[y log a + (1-y) log(1-a)]
//                                   (sum over every output unit and example)
//   softmax + categorical cross-entropy  J = -(1/m) sum_j log a[y_j, j]
//   linear  + mean squared error    J = (1/(2m)) sum (a - y)^2
//                                   (the 1/2 makes dZ[L] = A[L] - Y exact)
#include <string_view>

#include "deepnet/activation.hpp"
#include "deepnet/matrix.hpp"

namespace deepnet {

enum class Output { sigmoid, softmax, linear };

// Names: sigmoid, softmax, linear. Throws Error otherwise.
Output parse_output(std::string_view name);
std::string_view to_string(Output output);
Activation output_activation(Output output);

// Numerically stable cost computed from the logits Z[L] (n[L], m) and the
// targets Y (n[L], m): no log(0) and no overflow for |z| up to 1e4 (and beyond).
// Equals the course formulas wherever those are finite. Accumulates in double.
// With example_weights (m values), J = (1/m) sum_j w_j L_j.
template <typename T>
double cost_from_logits(Output output, MatrixCRef<T> ZL, MatrixCRef<T> Y, const T* example_weights = nullptr);

// The course's compute_cost, from probabilities AL (1 or more rows, m):
// J = -(1/m) sum[y log a + (1-y) log(1-a)]. Infinite when a hits 0 or 1 wrongly;
// training uses cost_from_logits.
template <typename T>
double binary_cross_entropy(MatrixCRef<T> AL, MatrixCRef<T> Y);

// The course's dAL = -(Y / AL - (1 - Y) / (1 - AL)), for step-by-step checks.
template <typename T>
void binary_cross_entropy_backward(MatrixCRef<T> AL, MatrixCRef<T> Y, MatrixRef<T> dAL);

// dZ[L] = A[L] - Y, for every matched pair.
template <typename T>
void output_backward(MatrixCRef<T> AL, MatrixCRef<T> Y, MatrixRef<T> dZL);

}  // namespace deepnet
