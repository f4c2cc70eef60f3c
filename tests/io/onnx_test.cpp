// The ONNX writer and reader (deepnet/onnx.hpp, src/io/protobuf.hpp): the wire
// format against the protobuf spec's own examples, round trips of every
// activation and output kind, and refusals of damaged or foreign bytes. The
// graphs themselves are checked by onnx's checker and run in onnxruntime by
// tests/onnx/onnx_test.py (ctest Onnx.*).
#include "deepnet/onnx.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "deepnet/error.hpp"
#include "deepnet/init.hpp"
#include "deepnet/limits.hpp"
#include "deepnet/model.hpp"
#include "deepnet/preprocess.hpp"
#include "io/protobuf.hpp"
#include "test_util.hpp"

namespace deepnet {
namespace {

using test::contains;
using test::message_of;

std::string hex(const std::string& bytes) {
  std::string out;
  char text[4];
  for (unsigned char c : bytes) {
    std::snprintf(text, sizeof text, "%02x", c);
    out += text;
  }
  return out;
}

// ---------------------------------------------------------------- wire format

TEST(Protobuf, EncodesAsTheSpecsExamples) {
  // protobuf's "Encoding" page: field 1 = 150 is 08 96 01; field 2 = "testing" is 12 07 74 65 73 74 69 6e 67.
  io::pb::Writer w;
  w.int_field(1, 150);
  EXPECT_EQ(hex(w.bytes()), "089601");
  io::pb::Writer s;
  s.bytes_field(2, "testing");
  EXPECT_EQ(hex(s.bytes()), "120774657374696e67");
  // A negative int64 takes ten bytes (two's complement); -2 is fe ff ff ff ff ff ff ff ff 01.
  io::pb::Writer n;
  n.int_field(1, -2);
  EXPECT_EQ(hex(n.bytes()), "08feffffffffffffffff01");
  // A float is fixed32, little-endian: 1.0f = 00 00 80 3f.
  io::pb::Writer f;
  f.float_field(2, 1.0f);
  EXPECT_EQ(hex(f.bytes()), "150000803f");
}

TEST(Protobuf, ReadsBackWhatItWrites) {
  io::pb::Writer inner;
  inner.int_field(3, std::numeric_limits<std::int64_t>::min());
  io::pb::Writer w;
  for (const std::uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, 1ull << 35, ~0ull}) w.int_field(1, static_cast<std::int64_t>(v));
  w.message_field(5, inner);
  w.float_field(7, -0.5f);
  const std::string name = "t.onnx";
  io::pb::Reader r(w.bytes(), 0, name);
  io::pb::Field field;
  std::vector<std::uint64_t> values;
  while (r.next(field) && field.number == 1) values.push_back(field.value);
  EXPECT_EQ(values, (std::vector<std::uint64_t>{0, 1, 127, 128, 300, 1ull << 35, ~0ull}));
  ASSERT_EQ(field.number, 5);
  io::pb::Reader sub(field.bytes, field.data_offset, name);
  io::pb::Field g;
  ASSERT_TRUE(sub.next(g));
  EXPECT_EQ(io::pb::as_int(g), std::numeric_limits<std::int64_t>::min());
  ASSERT_TRUE(r.next(field));
  EXPECT_EQ(field.wire, io::pb::fixed32);
  EXPECT_EQ(field.value, 0xbf000000u);
  EXPECT_FALSE(r.next(field));
}

std::string read_error(const std::string& bytes) {
  const std::string name = "bad.onnx";
  return message_of([&] {
    io::pb::Reader r(bytes, 0, name);
    io::pb::Field f;
    while (r.next(f)) {
    }
  });
}

TEST(Protobuf, RefusesMalformedFieldsNamingTheByte) {
  EXPECT_EQ(read_error(std::string("\x08\x96", 2)),
            "bad.onnx: byte 1: the message: the field value (a varint) is cut off by the end of the message (truncated?)");
  EXPECT_EQ(read_error(std::string("\x08\x00\x12\x05" "abc", 7)),
            "bad.onnx: byte 2: the message field 2 claims 5 bytes, but the message has 3 left (truncated?)");
  // A length of 2^62: refused before anything is allocated.
  EXPECT_TRUE(contains(read_error(std::string("\x12\x80\x80\x80\x80\x80\x80\x80\x80\x40", 10)),
                       "claims 4611686018427387904 bytes"));
  EXPECT_TRUE(contains(read_error(std::string("\x0b", 1)), "byte 0: the message field 1 has wire type 3"));
  EXPECT_TRUE(contains(read_error(std::string("\x00", 1)), "field number 0 is not a valid protobuf field number"));
  EXPECT_TRUE(contains(read_error(std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11)), "longer than 64 bits"));
  EXPECT_TRUE(contains(read_error(std::string("\x0d\x01\x02", 3)), "needs 4 bytes"));
}

// ---------------------------------------------------------------- round trips

Model make_model(const Architecture& arch, bool float64, Normalization kind, std::uint32_t seed) {
  Model model;
  model.architecture = arch;
  model.float64 = float64;
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::size_t count = 0;
  for (int l = 1; l <= arch.layers(); ++l) count += static_cast<std::size_t>(arch.sizes[l]) * (arch.sizes[l - 1] + 1);
  for (std::size_t k = 0; k < count; ++k) {
    const double v = normal(rng);
    model.parameters.push_back(float64 ? v : static_cast<double>(static_cast<float>(v)));
  }
  const auto n0 = static_cast<std::size_t>(arch.sizes[0]);
  model.normalizer.kind = kind;
  if (kind != Normalization::none) {
    for (std::size_t i = 0; i < n0; ++i) {
      model.normalizer.offset.push_back(kind == Normalization::div255 ? 0.0 : 0.1 * static_cast<double>(i) + 1.0 / 3);
      model.normalizer.scale.push_back(kind == Normalization::div255 ? 255.0 : 0.7 + 0.3 * static_cast<double>(i));
    }
  }
  model.encoding.output = arch.output;
  if (arch.output != Output::linear) {
    const int K = arch.output == Output::softmax ? arch.sizes.back() : 2;
    for (int k = 0; k < K; ++k) {
      model.encoding.classes.push_back(10.0 * k + 0.5);
      model.encoding.class_names.push_back(k == 1 ? "a \"quoted\", back\\slash\nline é" : "class " + std::to_string(k));
    }
  } else {
    model.target_offset = 3.25;
    model.target_scale = 1.0 / 7;
  }
  for (std::size_t i = 0; i < n0; ++i) model.feature_names.push_back("feature " + std::to_string(i) + (i == 1 ? ",\t\"x\"" : ""));
  model.target_name = "target";
  return model;
}

Matrix<double> inputs(int n0, int m) {
  Matrix<double> X(n0, m);
  std::mt19937 rng(5);
  std::normal_distribution<double> normal(1.0, 2.0);
  for (Eigen::Index j = 0; j < X.cols(); ++j)
    for (Eigen::Index i = 0; i < X.rows(); ++i) X(i, j) = normal(rng);
  return X;
}

void expect_same_model(const Model& a, const Model& b) {
  EXPECT_EQ(a.architecture.describe(), b.architecture.describe());
  EXPECT_EQ(a.architecture.sizes, b.architecture.sizes);
  EXPECT_EQ(a.architecture.output, b.architecture.output);
  EXPECT_EQ(a.float64, b.float64);
  EXPECT_EQ(a.parameters, b.parameters);
  EXPECT_EQ(a.normalizer.kind, b.normalizer.kind);
  EXPECT_EQ(a.normalizer.offset, b.normalizer.offset);
  EXPECT_EQ(a.normalizer.scale, b.normalizer.scale);
  EXPECT_EQ(a.encoding.classes, b.encoding.classes);
  EXPECT_EQ(a.encoding.class_names, b.encoding.class_names);
  EXPECT_EQ(a.feature_names, b.feature_names);
  EXPECT_EQ(a.target_name, b.target_name);
  EXPECT_EQ(a.target_offset, b.target_offset);
  EXPECT_EQ(a.target_scale, b.target_scale);
}

TEST(Onnx, RoundTripKeepsEveryActivationOutputAndElementType) {
  const Activation hidden[] = {Activation::sigmoid, Activation::tanh, Activation::relu, Activation::leaky_relu,
                               Activation::linear};
  const Normalization kinds[] = {Normalization::none, Normalization::standard, Normalization::minmax,
                                 Normalization::div255};
  std::uint32_t seed = 1;
  for (const Output output : {Output::sigmoid, Output::softmax, Output::linear})
    for (const Activation g : hidden)
      for (const bool float64 : {false, true}) {
        const Normalization kind = kinds[seed % 4];
        Architecture arch{{4, 6, 5, output == Output::sigmoid ? 1 : 3}, {g, Activation::tanh}, output, 0.2 / 3};
        const Model model = make_model(arch, float64, kind, seed++);
        SCOPED_TRACE(arch.describe() + (float64 ? " float64 " : " float32 ") + std::string(to_string(kind)));
        const Model back = parse_onnx(serialize_onnx(model), "m.onnx");
        expect_same_model(model, back);
        if (g == Activation::leaky_relu) {
          EXPECT_EQ(back.architecture.leaky_slope, model.architecture.leaky_slope);
        }
        // The same model: the same predictions, to the bit.
        const Matrix<double> X = inputs(4, 9);
        const Prediction p = predict(model, X), q = predict(back, X);
        EXPECT_TRUE(p.outputs == q.outputs);
        EXPECT_EQ(p.labels, q.labels);
      }
}

TEST(Onnx, SingleLayerAndWideSoftmax) {
  Architecture arch{{3, 10}, {Activation::relu}, Output::softmax, 0.01};
  const Model model = make_model(arch, false, Normalization::standard, 9);
  expect_same_model(model, parse_onnx(serialize_onnx(model), "m.onnx"));
}

TEST(Onnx, ExactNormaliserWhenTheMetadataDisagreesWithTheGraphIsTheGraphs) {
  // The metadata's exact values are taken only when they round to the graph's
  // constants; an edited graph wins over stale metadata.
  Architecture arch{{2, 3, 1}, {Activation::tanh}, Output::sigmoid, 0.01};
  Model model = make_model(arch, true, Normalization::standard, 3);
  std::string bytes = serialize_onnx(model);
  const std::string stale = "[0.33333333333333331,0.43333333333333335]";
  const std::string edited = "[0.33333333333333331,0.93333333333333335]";
  ASSERT_EQ(stale.size(), edited.size());
  const auto at = bytes.find(stale);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, stale.size(), edited);
  const Model back = parse_onnx(bytes, "m.onnx");
  EXPECT_EQ(back.normalizer.offset, model.normalizer.offset);
}

TEST(Onnx, RefusesModelsItCannotWrite) {
  Architecture arch{{2, 3, 1}, {Activation::tanh}, Output::sigmoid, 0.01};
  Model model = make_model(arch, false, Normalization::none, 3);
  model.parameters.pop_back();
  EXPECT_TRUE(contains(message_of([&] { serialize_onnx(model); }), "has 13 parameters but the model holds 12"));
  model = make_model(arch, false, Normalization::none, 3);
  model.parameters[4] = std::nan("");
  EXPECT_TRUE(contains(message_of([&] { serialize_onnx(model); }), "parameter 4 is nan"));
}

// ---------------------------------------------------------------- refusals

Model small_model() {
  Architecture arch{{3, 4, 3}, {Activation::relu}, Output::softmax, 0.01};
  return make_model(arch, false, Normalization::standard, 11);
}

// The bytes with one same-length text replaced (protobuf lengths stay right).
std::string edited(std::string bytes, const std::string& from, const std::string& to) {
  EXPECT_EQ(from.size(), to.size());
  const auto at = bytes.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) bytes.replace(at, from.size(), to);
  return bytes;
}

TEST(Onnx, RefusesTheFirstUnsupportedNodeByIndexOpAndName) {
  const std::string bytes = serialize_onnx(small_model());
  // Nodes: 0 Sub, 1 Div, 2 Gemm layer1, 3 Relu activation1, 4 Gemm layer2, 5 Softmax, 6 ArgMax, 7 Gather.
  EXPECT_EQ(message_of([&] { parse_onnx(edited(bytes, "Relu", "Relx"), "m.onnx"); }),
            "m.onnx: node 3 (Relx 'activation1'): unsupported here; deepnet imports chains of Gemm (or MatMul + "
            "Add) layers with Sigmoid, Tanh, Relu, LeakyRelu, Identity or a final Softmax, after an optional Sub/Div "
            "normalisation (docs/model-format.md, \"ONNX export\")");
  EXPECT_TRUE(contains(message_of([&] { parse_onnx(edited(bytes, "transB", "transA"), "m.onnx"); }),
                       "m.onnx: node 2 (Gemm 'layer1'): transA is 1; expected 0"));
  EXPECT_TRUE(contains(message_of([&] { parse_onnx(edited(bytes, "Softmax", "Hardmax"), "m.onnx"); }),
                       "m.onnx: node 5 (Hardmax 'activation2'): unsupported here"));
  // The graph input renamed: the first node no longer reads the chain.
  EXPECT_TRUE(contains(message_of([&] { parse_onnx(edited(bytes, "\x0a\x05input\x12", "\x0a\x05inpux\x12"), "m.onnx"); }),
                       "m.onnx: node 0 (Sub 'normalize_sub')"));
  // An output that the chain does not compute.
  EXPECT_TRUE(contains(message_of([&] { parse_onnx(edited(bytes, "\x0a\x05label\x12", "\x0a\x05lapel\x12"), "m.onnx"); }),
                       "m.onnx: the graph output 'lapel' is not the network's output"));
}

TEST(Onnx, RefusesOtherElementTypesAndOldOpsets) {
  const std::string bytes = serialize_onnx(small_model());
  // The input as int32 (TypeProto.Tensor.elem_type 1 -> 6).
  io::pb::Writer elem_float;
  elem_float.int_field(1, 1);
  const std::string from = "\x0a\x05input\x12", at_input = bytes.substr(bytes.find(from));
  const auto type_at = at_input.find(elem_float.bytes());
  ASSERT_NE(type_at, std::string::npos);
  std::string int_input = bytes;
  int_input[bytes.find(from) + type_at + 1] = 6;
  EXPECT_TRUE(contains(message_of([&] { parse_onnx(int_input, "m.onnx"); }),
                       "m.onnx: the graph input 'input' is a int32 tensor; expected a float or double tensor"));
  // opset_import { domain "" version 13 } -> version 6.
  EXPECT_EQ(message_of([&] { parse_onnx(edited(bytes, std::string("\x42\x04\x0a\x00\x10\x0d", 6), std::string("\x42\x04\x0a\x00\x10\x06", 6)), "m.onnx"); }),
            "m.onnx: opset 6 is older than this import reads (7 or later)");
}

TEST(Onnx, EveryTruncationIsRefused) {
  const std::string bytes = serialize_onnx(small_model());
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    const std::string message = message_of([&] { parse_onnx(bytes.substr(0, size), "cut.onnx"); });
    EXPECT_TRUE(contains(message, "cut.onnx: ")) << size << ": " << message;
  }
}

TEST(Onnx, FlippedBitsNeverCrash) {
  const std::string bytes = serialize_onnx(small_model());
  int refused = 0, read = 0;
  // Per byte, its top bit (a varint's continuation) and one other, in turn.
  for (std::size_t k = 0; k < bytes.size() * 2; ++k) {
    std::string damaged = bytes;
    damaged[k / 2] = static_cast<char>(damaged[k / 2] ^ (k % 2 ? 0x80 : 1 << (k / 2 % 7)));
    try {
      const Model m = parse_onnx(damaged, "flip.onnx");
      m.architecture.validate();  // a read model is a whole model
      ++read;
    } catch (const Error& e) {
      EXPECT_TRUE(contains(e.what(), "flip.onnx: ")) << e.what();
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(read, 0);  // flips inside weights or names leave a readable file
}

TEST(Onnx, GarbageIsRefused) {
  std::mt19937 rng(16);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes(1 + rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const std::string message = message_of([&] { parse_onnx(bytes, "junk.onnx"); });
    EXPECT_TRUE(contains(message, "junk.onnx: ")) << message;
  }
  EXPECT_EQ(message_of([&] { parse_onnx("", "e.onnx"); }), "e.onnx: the file is empty; expected an ONNX model");
  EXPECT_EQ(message_of([&] { parse_onnx("DEEPNETM....", "m.dnn"); }),
            "m.dnn: byte 0: a deepnet model or checkpoint file, not an ONNX model");
  // A well-formed protobuf that is not a ModelProto.
  io::pb::Writer w;
  w.bytes_field(3, "hello");
  EXPECT_TRUE(contains(message_of([&] { parse_onnx(w.bytes(), "p.onnx"); }), "p.onnx: not an ONNX model: no ir_version"));
}

TEST(Onnx, LargeTensorsRespectTheMemoryLimit) {
  Architecture arch{{200, 300, 3}, {Activation::relu}, Output::softmax, 0.01};
  const std::string bytes = serialize_onnx(make_model(arch, false, Normalization::none, 2));
  set_memory_limit(64 * 1024);
  const std::string message = message_of([&] { parse_onnx(bytes, "big.onnx"); });
  set_memory_limit(0);
  EXPECT_TRUE(contains(message, "big.onnx: byte ")) << message;
  EXPECT_TRUE(contains(message, "memory limit")) << message;
}

}  // namespace
}  // namespace deepnet
