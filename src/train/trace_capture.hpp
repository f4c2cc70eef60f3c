#pragma once
// trace_step's look inside the training loop (deepnet/trace.hpp): fills a
// StepTrace from the network at the probed step. Private to the train room.
#include "deepnet/network.hpp"
#include "deepnet/trace.hpp"

namespace deepnet::detail {

// Before the update: X, Y, W/b, Z/A, the cost and the backward pass.
template <typename T>
void capture_step(const Network<T>& network, const Matrix<T>& X, const Matrix<T>& Y, double cost, StepTrace& out);
// After the update: W1_next, b1_next, ...
template <typename T>
void capture_update(const Network<T>& network, StepTrace& out);

}  // namespace deepnet::detail
