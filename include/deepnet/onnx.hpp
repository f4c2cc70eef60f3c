#pragma once
// A model as an ONNX graph (io room, src/io/onnx.cpp; docs/model-format.md,
// "ONNX export"): deepnet writes the protobuf bytes itself.
//
// The graph, in the model's element type (float32 or float64 throughout):
//   input (batch, n[0])  -> Sub(offset) -> Div(scale)        the stored normaliser, when there is one
//   -> Gemm(W[l], b[l], transB = 1) -> activation, l = 1..L   Sigmoid, Tanh, Relu, LeakyRelu, Identity, Softmax
//   sigmoid output (one unit p): probabilities = Concat(1 - p, p), (batch, 2)
//   softmax output: probabilities = the Softmax, (batch, K)
//   classifiers: label = Gather(class names, ArgMax(probabilities)), strings, (batch,)
//   linear output: predictions = Z[L] * target_scale + target_offset, (batch, n[L])
// as `deepnet predict --proba` computes them. Opset 13, IR version 8.
#include <string>

#include "deepnet/model.hpp"

namespace deepnet {

constexpr int onnx_ir_version = 8;
constexpr int onnx_opset = 13;

// The model's ONNX bytes. Throws Error when the model does not fit its
// architecture (parameter count) or holds a non-finite value.
std::string serialize_onnx(const Model& model);
// Writes serialize_onnx(model) atomically (deepnet/files.hpp). Throws Error naming the path.
void save_onnx(const std::string& path, const Model& model);

// Reads an ONNX graph of the shape above back into a Model: deepnet's own, and
// the common variants of the same network (MatMul + Add for Gemm, Gemm with
// transB 0 or 1, alpha and beta, Sub/Div normalisation, Identity anywhere).
// Anything else is refused with an Error naming the file and the first node
// that does not fit ("m.onnx: node 3 (Conv 'conv1'): ..."); damaged bytes with
// the byte offset. Sizes are checked against the bytes there and against the
// memory limit (deepnet/limits.hpp) before anything is allocated.
Model parse_onnx(const std::string& bytes, const std::string& name);
Model load_onnx(const std::string& path);

}  // namespace deepnet
