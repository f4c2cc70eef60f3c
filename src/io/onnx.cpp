// A model as an ONNX graph (deepnet/onnx.hpp; docs/model-format.md, "ONNX
// export"). The field numbers are those of onnx.proto (ModelProto, GraphProto,
// NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto); the
// bytes are protobuf's wire format (src/io/protobuf.hpp).
#include "deepnet/onnx.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "deepnet/error.hpp"
#include "deepnet/files.hpp"
#include "deepnet/limits.hpp"
#include "io/byte_text.hpp"
#include "io/protobuf.hpp"

namespace deepnet {

namespace {

using io::pb::Field;
using io::pb::Reader;
using io::pb::Writer;

// onnx.proto's numbers.
namespace model_f {
constexpr int ir_version = 1, producer_name = 2, producer_version = 3, doc_string = 6, graph = 7, opset_import = 8,
              metadata_props = 14;
}
namespace opset_f {
constexpr int domain = 1, version = 2;
}
namespace entry_f {
constexpr int key = 1, value = 2;
}
namespace graph_f {
constexpr int node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12, sparse_initializer = 15;
}
namespace node_f {
constexpr int input = 1, output = 2, name = 3, op_type = 4, attribute = 5, domain = 7;
}
namespace attr_f {
constexpr int name = 1, f = 2, i = 3, s = 4, t = 5, g = 6, floats = 7, ints = 8, strings = 9, tensors = 10,
              graphs = 11, type = 20, sparse_tensor = 22, sparse_tensors = 23, ref_attr_name = 21;
}
namespace tensor_f {
constexpr int dims = 1, data_type = 2, segment = 3, float_data = 4, int32_data = 5, string_data = 6, int64_data = 7,
              name = 8, raw_data = 9, double_data = 10, external_data = 13, data_location = 14;
}
namespace value_f {
constexpr int name = 1, type = 2;
}
namespace type_f {
constexpr int tensor_type = 1;
}
namespace tensor_type_f {
constexpr int elem_type = 1, shape = 2;
}
namespace shape_f {
constexpr int dim = 1;
}
namespace dim_f {
constexpr int dim_value = 1, dim_param = 2;
}
// TensorProto.DataType and AttributeProto.AttributeType.
constexpr int type_float = 1, type_int32 = 6, type_int64 = 7, type_string = 8, type_double = 11;
constexpr int attribute_float = 1, attribute_int = 2, attribute_tensor = 4;

std::string number_text(double value) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// ------------------------------------------------------------------ JSON (metadata values)

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string json_strings(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t k = 0; k < values.size(); ++k) out += (k ? "," : "") + json_string(values[k]);
  return out + "]";
}

std::string json_numbers(const std::vector<double>& values) {
  std::string out = "[";
  for (std::size_t k = 0; k < values.size(); ++k) out += (k ? "," : "") + number_text(values[k]);
  return out + "]";
}

// Reads back what the two functions above write (and any JSON array of
// strings or of numbers); nullopt for anything else. Metadata is a hint on
// import, never the source of a computed value, so a malformed one is ignored.
class JsonArray {
 public:
  explicit JsonArray(std::string_view text) : text_(text) {}

  std::optional<std::vector<std::string>> strings() {
    std::vector<std::string> out;
    if (!items([&] {
          std::string value;
          if (!string(value)) return false;
          out.push_back(std::move(value));
          return true;
        }))
      return std::nullopt;
    return out;
  }
  std::optional<std::vector<double>> numbers() {
    std::vector<double> out;
    if (!items([&] {
          const std::size_t start = pos_;
          while (pos_ < text_.size() && text_[pos_] != '\0' && std::strchr("+-0123456789.eE", text_[pos_]) != nullptr) ++pos_;
          if (pos_ == start) return false;
          const std::string token(text_.substr(start, pos_ - start));
          char* end = nullptr;
          const double value = std::strtod(token.c_str(), &end);
          if (end != token.c_str() + token.size() || !std::isfinite(value)) return false;
          out.push_back(value);
          return true;
        }))
      return std::nullopt;
    return out;
  }

 private:
  template <typename F>
  bool items(F item) {
    space();
    if (!take('[')) return false;
    space();
    if (!take(']')) {
      do {
        space();
        if (!item()) return false;
        space();
      } while (take(','));
      if (!take(']')) return false;
    }
    space();
    return pos_ == text_.size();
  }
  bool take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) return ++pos_, true;
    return false;
  }
  void space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' || text_[pos_] == '\r'))
      ++pos_;
  }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  void utf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xc0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xe0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    }
  }
  bool unit(unsigned& code) {
    if (text_.size() - pos_ < 4) return false;
    code = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = hex(text_[pos_++]);
      if (h < 0) return false;
      code = code << 4 | static_cast<unsigned>(h);
    }
    return true;
  }
  bool string(std::string& out) {
    if (!take('"')) return false;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ == text_.size()) return false;
      const char e = text_[pos_++];
      switch (e) {
        case '"': case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned code = 0;
          if (!unit(code)) return false;
          if (code >= 0xd800 && code < 0xdc00) {  // a surrogate pair
            unsigned low = 0;
            if (!take('\\') || !take('u') || !unit(low) || low < 0xdc00 || low >= 0xe000) return false;
            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          } else if (code >= 0xdc00 && code < 0xe000) {
            return false;
          }
          utf8(out, code);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// ------------------------------------------------------------------ writing

// The element type's bytes, little-endian, as raw_data.
std::string raw_values(const std::vector<double>& values, bool float64) {
  std::string out;
  out.reserve(values.size() * (float64 ? 8 : 4));
  for (const double v : values) {
    const std::uint64_t bits = float64 ? std::bit_cast<std::uint64_t>(v) : std::bit_cast<std::uint32_t>(static_cast<float>(v));
    for (int k = 0; k < (float64 ? 8 : 4); ++k) out += static_cast<char>((bits >> (8 * k)) & 0xff);
  }
  return out;
}

class GraphWriter {
 public:
  explicit GraphWriter(bool float64) : float64_(float64), elem_(float64 ? type_double : type_float) {}

  void numbers(const std::string& name, const std::vector<std::int64_t>& dims, const std::vector<double>& values) {
    Writer t;
    for (const std::int64_t d : dims) t.int_field(tensor_f::dims, d);
    t.int_field(tensor_f::data_type, elem_);
    t.bytes_field(tensor_f::name, name);
    t.bytes_field(tensor_f::raw_data, raw_values(values, float64_));
    initializers_.message_field(graph_f::initializer, t);
  }
  void strings(const std::string& name, const std::vector<std::string>& values) {
    Writer t;
    t.int_field(tensor_f::dims, static_cast<std::int64_t>(values.size()));
    t.int_field(tensor_f::data_type, type_string);
    for (const std::string& v : values) t.bytes_field(tensor_f::string_data, v);
    t.bytes_field(tensor_f::name, name);
    initializers_.message_field(graph_f::initializer, t);
  }

  struct Attr {
    std::string name;
    bool is_float;
    double value;
  };
  void node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
            const std::vector<std::string>& outputs, const std::vector<Attr>& attrs = {}) {
    Writer n;
    for (const std::string& in : inputs) n.bytes_field(node_f::input, in);
    for (const std::string& out : outputs) n.bytes_field(node_f::output, out);
    n.bytes_field(node_f::name, name);
    n.bytes_field(node_f::op_type, op);
    for (const Attr& a : attrs) {
      Writer w;
      w.bytes_field(attr_f::name, a.name);
      if (a.is_float) {
        w.float_field(attr_f::f, static_cast<float>(a.value));
        w.int_field(attr_f::type, attribute_float);
      } else {
        w.int_field(attr_f::i, static_cast<std::int64_t>(a.value));
        w.int_field(attr_f::type, attribute_int);
      }
      n.message_field(node_f::attribute, w);
    }
    nodes_.push_back(n);
  }

  // dims: a number, or a symbolic name (dim_param) when `symbolic` holds one.
  void value(int field, const std::string& name, int elem, const std::vector<std::pair<std::int64_t, std::string>>& dims) {
    Writer shape;
    for (const auto& [size, symbol] : dims) {
      Writer d;
      if (symbol.empty()) d.int_field(dim_f::dim_value, size);
      else d.bytes_field(dim_f::dim_param, symbol);
      shape.message_field(shape_f::dim, d);
    }
    Writer tensor_type;
    tensor_type.int_field(tensor_type_f::elem_type, elem);
    tensor_type.message_field(tensor_type_f::shape, shape);
    Writer type;
    type.message_field(type_f::tensor_type, tensor_type);
    Writer v;
    v.bytes_field(value_f::name, name);
    v.message_field(value_f::type, type);
    io_.push_back({field, v});
  }

  void finish(const std::string& name, const std::string& doc) {
    Writer head;
    for (const Writer& n : nodes_) head.message_field(graph_f::node, n);
    head.bytes_field(graph_f::name, name);
    head.bytes_field(graph_f::doc_string, doc);
    Writer tail;
    for (const auto& [field, v] : io_) tail.message_field(field, v);
    bytes_ = head.bytes() + initializers_.bytes() + tail.bytes();
  }
  const std::string& bytes() const { return bytes_; }
  int elem() const { return elem_; }

 private:
  bool float64_;
  int elem_;
  Writer initializers_;
  std::vector<Writer> nodes_;
  std::vector<std::pair<int, Writer>> io_;
  std::string bytes_;
};

std::size_t parameter_count(const Architecture& arch) {
  std::size_t count = 0;
  for (int l = 1; l <= arch.layers(); ++l)
    count += static_cast<std::size_t>(arch.sizes[l]) * (static_cast<std::size_t>(arch.sizes[l - 1]) + 1);
  return count;
}

const char* activation_op(Activation g) {
  switch (g) {
    case Activation::sigmoid: return "Sigmoid";
    case Activation::tanh: return "Tanh";
    case Activation::relu: return "Relu";
    case Activation::leaky_relu: return "LeakyRelu";
    case Activation::linear: return "Identity";
    case Activation::softmax: return "Softmax";
  }
  return "Identity";
}

}  // namespace

std::string serialize_onnx(const Model& model) {
  const Architecture& arch = model.architecture;
  arch.validate();
  const int L = arch.layers();
  const auto& n = arch.sizes;
  if (parameter_count(arch) != model.parameters.size())
    throw Error("model: the architecture " + arch.describe() + " has " + std::to_string(parameter_count(arch)) +
                " parameters but the model holds " + std::to_string(model.parameters.size()));
  for (std::size_t k = 0; k < model.parameters.size(); ++k)
    if (!std::isfinite(model.parameters[k]))
      throw Error("model: parameter " + std::to_string(k) + " is " + number_text(model.parameters[k]) +
                  "; an ONNX graph holds finite parameters only");
  const bool float64 = model.float64;
  GraphWriter g(float64);
  const auto n0 = static_cast<std::size_t>(n[0]);
  std::string x = "input";

  // The normaliser: x' = (x - offset) / scale, as Sub and Div (a zero offset, as div255's, has no Sub).
  const Normalizer& norm = model.normalizer;
  if (norm.kind != Normalization::none) {
    if (norm.offset.size() != n0 || norm.scale.size() != n0)
      throw Error("model: the normaliser holds " + std::to_string(norm.offset.size()) + " offsets and " +
                  std::to_string(norm.scale.size()) + " scales for n[0] = " + std::to_string(n0) + " inputs");
    for (std::size_t i = 0; i < n0; ++i)
      if (!std::isfinite(norm.offset[i]) || !std::isfinite(norm.scale[i]) || norm.scale[i] == 0)
        throw Error("model: the normaliser's feature " + std::to_string(i) + " has offset " + number_text(norm.offset[i]) +
                    " and scale " + number_text(norm.scale[i]) + "; expected finite values and a non-zero scale");
    bool any_offset = false;
    for (const double v : norm.offset) any_offset = any_offset || v != 0;
    if (any_offset) {
      g.numbers("normalizer_offset", {static_cast<std::int64_t>(n0)}, norm.offset);
      g.node("Sub", "normalize_sub", {x, "normalizer_offset"}, {"input_centered"});
      x = "input_centered";
    }
    g.numbers("normalizer_scale", {static_cast<std::int64_t>(n0)}, norm.scale);
    g.node("Div", "normalize_div", {x, "normalizer_scale"}, {"input_normalized"});
    x = "input_normalized";
  }

  // Each layer: Z[l] = A[l-1] W[l]^T + b[l] (Gemm, transB = 1, W[l] in the course's shape (n[l], n[l-1])).
  std::size_t offset = 0;
  const bool classifier = arch.output != Output::linear;
  const int units = n[L];
  std::string probabilities = classifier ? "probabilities" : "predictions";
  bool leaky_constants = false;
  for (int l = 1; l <= L; ++l) {
    const auto rows = static_cast<std::size_t>(n[l]), cols = static_cast<std::size_t>(n[l - 1]);
    std::vector<double> W(rows * cols);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) W[i * cols + j] = model.parameters[offset + j * rows + i];
    offset += rows * cols;
    const std::vector<double> b(model.parameters.begin() + static_cast<std::ptrdiff_t>(offset),
                                model.parameters.begin() + static_cast<std::ptrdiff_t>(offset + rows));
    offset += rows;
    const std::string ls = std::to_string(l), Z = "Z" + ls;
    g.numbers("W" + ls, {static_cast<std::int64_t>(rows), static_cast<std::int64_t>(cols)}, W);
    g.numbers("b" + ls, {static_cast<std::int64_t>(rows)}, b);
    g.node("Gemm", "layer" + ls, {x, "W" + ls, "b" + ls}, {Z}, {{"transB", false, 1}});
    if (l < L) {
      const Activation a = arch.activation(l);
      x = "A" + ls;
      if (a == Activation::leaky_relu && float64) {
        // onnxruntime has no double LeakyRelu: Where(Z > 0, Z, Z * slope), the same function, the slope exact.
        if (!leaky_constants) {
          g.numbers("zero", {1}, {0.0});
          g.numbers("leaky_slope", {1}, {arch.leaky_slope});
          leaky_constants = true;
        }
        g.node("Greater", "activation" + ls + "_positive", {Z, "zero"}, {Z + "_positive"});
        g.node("Mul", "activation" + ls + "_negative", {Z, "leaky_slope"}, {Z + "_negative"});
        g.node("Where", "activation" + ls, {Z + "_positive", Z, Z + "_negative"}, {x});
        continue;
      }
      std::vector<GraphWriter::Attr> attrs;
      if (a == Activation::leaky_relu) attrs.push_back({"alpha", true, arch.leaky_slope});
      g.node(activation_op(a), "activation" + ls, {Z}, {x}, attrs);
      continue;
    }
    switch (arch.output) {
      case Output::sigmoid:
        if (units == 1) {  // P(class 1) and, before it, P(class 0) = 1 - P(class 1), as predict --proba
          g.numbers("one", {1}, {1.0});
          g.node("Sigmoid", "activation" + ls, {Z}, {"probability_1"});
          g.node("Sub", "probability_0", {"one", "probability_1"}, {"probability_0"});
          g.node("Concat", "concat_probabilities", {"probability_0", "probability_1"}, {probabilities}, {{"axis", false, 1}});
        } else {
          g.node("Sigmoid", "activation" + ls, {Z}, {probabilities});
        }
        break;
      case Output::softmax:
        g.node("Softmax", "activation" + ls, {Z}, {probabilities}, {{"axis", false, 1}});
        break;
      case Output::linear:
        // Back to the data's units: Z[L] * target_scale + target_offset.
        if (model.target_scale != 1 || model.target_offset != 0) {
          if (!std::isfinite(model.target_scale) || !std::isfinite(model.target_offset) || model.target_scale == 0)
            throw Error("model: target_scale " + number_text(model.target_scale) + " and target_offset " +
                        number_text(model.target_offset) + "; expected finite values and a non-zero scale");
          g.numbers("target_scale", {1}, {model.target_scale});
          g.numbers("target_offset", {1}, {model.target_offset});
          g.node("Mul", "scale_target", {Z, "target_scale"}, {"predictions_scaled"});
          g.node("Add", "offset_target", {"predictions_scaled", "target_offset"}, {probabilities});
        } else {
          g.node("Identity", "activation" + ls, {Z}, {probabilities});
        }
        break;
    }
  }
  // The class of each example: the first of equal maxima (ArgMax), as deepnet's
  // label (for one sigmoid unit: class 1 when P(class 1) > 0.5), by name.
  const std::size_t K = arch.output == Output::softmax ? static_cast<std::size_t>(units) : 2;
  const bool label = arch.output == Output::softmax || (arch.output == Output::sigmoid && units == 1);
  std::vector<std::string> class_names = model.encoding.class_names;
  if (classifier) {
    class_names.resize(K);
    for (std::size_t k = 0; k < K; ++k)
      if (class_names[k].empty() && k >= model.encoding.class_names.size()) class_names[k] = std::to_string(k);
  }
  if (label) {
    g.strings("class_names", class_names);
    g.node("ArgMax", "label_index", {probabilities}, {"label_index"}, {{"axis", false, 1}, {"keepdims", false, 0}});
    g.node("Gather", "label", {"class_names", "label_index"}, {"label"}, {{"axis", false, 0}});
  }
  const int elem = g.elem();
  const std::string batch = "batch";
  g.value(graph_f::input, "input", elem, {{0, batch}, {n[0], ""}});
  const std::int64_t columns = arch.output == Output::sigmoid && units == 1 ? 2 : units;
  g.value(graph_f::output, probabilities, elem, {{0, batch}, {columns, ""}});
  if (label) g.value(graph_f::output, "label", type_string, {{0, batch}});
  g.finish("deepnet " + arch.describe(),
           classifier ? "probabilities: P(class k) per column, in the order of the metadata 'classes'; label: the "
                        "class name of the most probable class"
                      : "predictions: the regression outputs in the data's units");

  Writer m;
  m.int_field(model_f::ir_version, onnx_ir_version);
  Writer opset;
  opset.bytes_field(opset_f::domain, "");
  opset.int_field(opset_f::version, onnx_opset);
  m.message_field(model_f::opset_import, opset);
  m.bytes_field(model_f::producer_name, "deepnet");
  m.bytes_field(model_f::producer_version, DEEPNET_VERSION);
  m.bytes_field(model_f::doc_string, "a deepnet model: " + arch.describe());
  const auto meta = [&](const std::string& key, const std::string& value) {
    Writer e;
    e.bytes_field(entry_f::key, key);
    e.bytes_field(entry_f::value, value);
    m.message_field(model_f::metadata_props, e);
  };
  meta("architecture", arch.describe());
  meta("element_type", float64 ? "float64" : "float32");
  if (classifier && (arch.output == Output::softmax || units == 1)) {  // not for several sigmoid units (no classes)
    meta("classes", json_strings(class_names));
    std::vector<double> values = model.encoding.classes;
    values.resize(K);
    for (std::size_t k = model.encoding.classes.size(); k < K; ++k) values[k] = static_cast<double>(k);
    meta("class_values", json_numbers(values));
  }
  if (!model.feature_names.empty()) meta("feature_names", json_strings(model.feature_names));
  meta("target_name", model.target_name);
  meta("normalization", std::string(to_string(norm.kind)));
  // The exact values behind the graph's constants (which are in the element type).
  if (norm.kind != Normalization::none) {
    meta("normalization_offset", json_numbers(norm.offset));
    meta("normalization_scale", json_numbers(norm.scale));
  }
  bool leaky = false;
  for (int l = 1; l < L; ++l) leaky = leaky || arch.activation(l) == Activation::leaky_relu;
  if (leaky) meta("leaky_slope", number_text(arch.leaky_slope));
  if (!classifier && (model.target_scale != 1 || model.target_offset != 0)) {
    meta("target_offset", number_text(model.target_offset));
    meta("target_scale", number_text(model.target_scale));
  }
  // The graph last: a file cut anywhere loses part of the graph, which is then refused.
  std::string bytes = m.bytes();
  Writer graph_key;
  graph_key.tag(model_f::graph, io::pb::length_delimited);
  graph_key.write_varint(g.bytes().size());
  bytes += graph_key.bytes();
  bytes += g.bytes();
  return bytes;
}

void save_onnx(const std::string& path, const Model& model) {
  io::write_file_atomically(path, serialize_onnx(model));
}


// ------------------------------------------------------------------ reading

namespace {

// The parts of the protobuf messages that the import looks at.
struct Tensor {
  std::string name;
  std::vector<std::int64_t> dims;
  int type = 0;
  std::vector<double> values;        // float, double, int32, int64 data
  std::vector<std::string> strings;  // string data
  bool external = false;
  std::size_t offset = 0;  // the TensorProto's first byte in the file
};

struct Attribute {
  std::string name;
  int type = 0;
  std::optional<double> f;
  std::optional<std::int64_t> i;
  std::optional<Tensor> t;
  bool other = false;  // a value of another kind (string, graph, lists)
};

struct Node {
  std::vector<std::string> inputs, outputs;
  std::string name, op, domain;
  std::vector<Attribute> attributes;
};

struct ValueInfo {
  std::string name;
  bool tensor = false;
  int elem = 0;
  bool has_shape = false;
  std::vector<std::optional<std::int64_t>> dims;  // nullopt: symbolic or unknown
};

struct Graph {
  std::vector<Node> nodes;
  std::vector<Tensor> initializers;
  std::vector<ValueInfo> inputs, outputs;
  bool sparse = false;
};

struct ModelProto {
  std::optional<std::int64_t> ir_version;
  std::optional<std::int64_t> opset;  // the default domain's
  std::vector<std::pair<std::string, std::int64_t>> other_opsets;
  std::optional<Graph> graph;
  std::size_t graph_offset = 0;
  std::map<std::string, std::string> metadata;
};

class Parser {
 public:
  Parser(const std::string& bytes, const std::string& name) : bytes_(bytes), name_(name) {}

  ModelProto model() {
    ModelProto m;
    Reader r(bytes_, 0, name_, "ModelProto (the file)");
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case model_f::ir_version: m.ir_version = int_value(r, f, "ModelProto.ir_version"); break;
        case model_f::opset_import: {
          std::string domain;
          std::optional<std::int64_t> version;
          Reader o = sub(r, f, "ModelProto.opset_import", "OperatorSetIdProto");
          Field g;
          while (o.next(g)) {
            if (g.number == opset_f::domain) domain = text(o, g, "OperatorSetIdProto.domain");
            if (g.number == opset_f::version) version = int_value(o, g, "OperatorSetIdProto.version");
          }
          if (!version) r.fail(f.offset, "an opset_import without a version");
          if (domain.empty() || domain == "ai.onnx") m.opset = *version;
          else m.other_opsets.emplace_back(domain, *version);
          break;
        }
        case model_f::graph:
          if (m.graph) r.fail(f.offset, "a second ModelProto.graph");
          m.graph = graph(sub(r, f, "ModelProto.graph", "GraphProto"));
          m.graph_offset = f.offset;
          break;
        case model_f::metadata_props: {
          std::string key, value;
          Reader e = sub(r, f, "ModelProto.metadata_props", "StringStringEntryProto");
          Field g;
          while (e.next(g)) {
            if (g.number == entry_f::key) key = text(e, g, "StringStringEntryProto.key");
            if (g.number == entry_f::value) value = text(e, g, "StringStringEntryProto.value");
          }
          m.metadata[key] = value;
          break;
        }
        default: break;  // producer, doc string, training info, functions: not needed
      }
    }
    return m;
  }

 private:
  // The message in field f; `what` names the field ("ModelProto.graph", "GraphProto"), `type` its message type.
  Reader sub(const Reader& r, const Field& f, const char* what, const char* type = "the message") {
    if (f.wire != io::pb::length_delimited)
      r.fail(f.offset, std::string(what) + " has wire type " + std::to_string(f.wire) + "; expected a message (length-delimited)");
    return Reader(f.bytes, f.data_offset, name_, type);
  }
  std::string text(const Reader& r, const Field& f, const char* what) {
    if (f.wire != io::pb::length_delimited)
      r.fail(f.offset, std::string(what) + " has wire type " + std::to_string(f.wire) + "; expected a string (length-delimited)");
    return std::string(f.bytes);
  }
  std::int64_t int_value(const Reader& r, const Field& f, const char* what) {
    if (f.wire != io::pb::varint)
      r.fail(f.offset, std::string(what) + " has wire type " + std::to_string(f.wire) + "; expected an integer (varint)");
    return io::pb::as_int(f);
  }
  // A repeated integer field, packed (one length-delimited field) or not.
  void ints(const Reader& r, const Field& f, const char* what, std::vector<std::int64_t>& out) {
    if (f.wire == io::pb::varint) {
      out.push_back(io::pb::as_int(f));
      return;
    }
    Reader packed = sub(r, f, what);
    // Each varint takes at least one byte: at most f.bytes.size() values.
    std::string_view data = f.bytes;
    std::size_t pos = 0;
    while (pos < data.size()) {
      std::uint64_t value = 0;
      int k = 0;
      for (;; ++k) {
        if (k == 10 || pos >= data.size())
          packed.fail(f.data_offset + pos, std::string(what) + ": a packed varint is cut off or longer than 10 bytes");
        const auto byte = static_cast<unsigned char>(data[pos++]);
        value |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * k);
        if (!(byte & 0x80)) break;
      }
      out.push_back(static_cast<std::int64_t>(value));
    }
  }
  // A repeated float (width 4) or double (width 8) field, packed or not.
  void reals(const Reader& r, const Field& f, const char* what, std::size_t width, std::vector<double>& out) {
    const io::pb::Wire single = width == 4 ? io::pb::fixed32 : io::pb::fixed64;
    if (f.wire == single) {
      out.push_back(width == 4 ? static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(f.value)))
                               : std::bit_cast<double>(f.value));
      return;
    }
    if (f.wire != io::pb::length_delimited)
      r.fail(f.offset, std::string(what) + " has wire type " + std::to_string(f.wire) + "; expected " +
                           (width == 4 ? "fixed32" : "fixed64") + " values");
    if (f.bytes.size() % width != 0)
      r.fail(f.offset, std::string(what) + " holds " + std::to_string(f.bytes.size()) + " bytes, not a multiple of " +
                           std::to_string(width));
    decode(f.bytes, width, out, f.data_offset, what);
  }
  void decode(std::string_view data, std::size_t width, std::vector<double>& out, std::size_t offset, const char* what) {
    const std::size_t count = data.size() / width;
    check_memory((out.size() + count) * sizeof(double), name_ + ": byte " + std::to_string(offset) + ": " + what + " needs ");
    out.reserve(out.size() + count);
    for (std::size_t k = 0; k < count; ++k) {
      const std::uint64_t bits = io::little_endian(data, k * width, width);
      out.push_back(width == 4 ? static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)))
                               : std::bit_cast<double>(bits));
    }
  }

  Tensor tensor(Reader r, std::size_t offset) {
    Tensor t;
    t.offset = offset;
    Field f;
    std::string_view raw;
    std::size_t raw_offset = 0;
    bool has_raw = false;
    std::vector<std::int64_t> int_data;
    while (r.next(f)) {
      switch (f.number) {
        case tensor_f::dims: ints(r, f, "TensorProto.dims", t.dims); break;
        case tensor_f::data_type: t.type = static_cast<int>(int_value(r, f, "TensorProto.data_type")); break;
        case tensor_f::name: t.name = text(r, f, "TensorProto.name"); break;
        case tensor_f::raw_data:
          if (f.wire != io::pb::length_delimited) r.fail(f.offset, "TensorProto.raw_data is not length-delimited");
          raw = f.bytes;
          raw_offset = f.data_offset;
          has_raw = true;
          break;
        case tensor_f::float_data: reals(r, f, "TensorProto.float_data", 4, t.values); break;
        case tensor_f::double_data: reals(r, f, "TensorProto.double_data", 8, t.values); break;
        case tensor_f::int32_data: ints(r, f, "TensorProto.int32_data", int_data); break;
        case tensor_f::int64_data: ints(r, f, "TensorProto.int64_data", int_data); break;
        case tensor_f::string_data: t.strings.push_back(text(r, f, "TensorProto.string_data")); break;
        case tensor_f::data_location: t.external = t.external || int_value(r, f, "TensorProto.data_location") == 1; break;
        case tensor_f::external_data: t.external = true; break;
        case tensor_f::segment: t.external = true; break;  // a part of a tensor: not read
        default: break;
      }
    }
    // A tensor holds its values either as raw_data or in the typed field, never both (onnx.proto).
    if (has_raw && (!t.values.empty() || !int_data.empty() || !t.strings.empty()))
      r.fail(raw_offset, "tensor '" + io::printable(t.name) + "' holds values both in raw_data and in a typed field; "
                         "expected one of them");
    if (has_raw) {
      const std::size_t width = t.type == type_float ? 4 : t.type == type_double ? 8 : t.type == type_int64 ? 8 : t.type == type_int32 ? 4 : 0;
      if (width != 0) {
        if (raw.size() % width != 0)
          r.fail(raw_offset, "tensor '" + io::printable(t.name) + "': raw_data holds " + std::to_string(raw.size()) +
                                 " bytes, not a multiple of its element size " + std::to_string(width));
        if (t.type == type_float || t.type == type_double) {
          decode(raw, width, t.values, raw_offset, "raw_data");
        } else {
          check_memory(raw.size() / width * sizeof(double), name_ + ": byte " + std::to_string(raw_offset) + ": raw_data needs ");
          for (std::size_t k = 0; k < raw.size() / width; ++k) {
            const std::uint64_t bits = io::little_endian(raw, k * width, width);
            t.values.push_back(width == 4 ? static_cast<double>(static_cast<std::int32_t>(bits))
                                          : static_cast<double>(static_cast<std::int64_t>(bits)));
          }
        }
      }
    }
    for (const std::int64_t v : int_data) t.values.push_back(static_cast<double>(v));
    return t;
  }

  Attribute attribute(Reader r) {
    Attribute a;
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case attr_f::name: a.name = text(r, f, "AttributeProto.name"); break;
        case attr_f::type: a.type = static_cast<int>(int_value(r, f, "AttributeProto.type")); break;
        case attr_f::f:
          if (f.wire != io::pb::fixed32) r.fail(f.offset, "AttributeProto.f is not a fixed32 float");
          a.f = static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(f.value)));
          break;
        case attr_f::i: a.i = int_value(r, f, "AttributeProto.i"); break;
        case attr_f::t: a.t = tensor(sub(r, f, "AttributeProto.t", "TensorProto"), f.data_offset); break;
        case attr_f::s: case attr_f::g: case attr_f::floats: case attr_f::ints: case attr_f::strings:
        case attr_f::tensors: case attr_f::graphs: case attr_f::sparse_tensor: case attr_f::sparse_tensors:
        case attr_f::ref_attr_name:
          a.other = true;  // not read: no node deepnet imports has such an attribute
          break;
        default: break;
      }
    }
    return a;
  }

  Node node(Reader r) {
    Node n;
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case node_f::input: n.inputs.push_back(text(r, f, "NodeProto.input")); break;
        case node_f::output: n.outputs.push_back(text(r, f, "NodeProto.output")); break;
        case node_f::name: n.name = text(r, f, "NodeProto.name"); break;
        case node_f::op_type: n.op = text(r, f, "NodeProto.op_type"); break;
        case node_f::domain: n.domain = text(r, f, "NodeProto.domain"); break;
        case node_f::attribute: n.attributes.push_back(attribute(sub(r, f, "NodeProto.attribute", "AttributeProto"))); break;
        default: break;
      }
    }
    return n;
  }

  ValueInfo value_info(Reader r) {
    ValueInfo v;
    Field f;
    while (r.next(f)) {
      if (f.number == value_f::name) v.name = text(r, f, "ValueInfoProto.name");
      if (f.number != value_f::type) continue;
      Reader type = sub(r, f, "ValueInfoProto.type", "TypeProto");
      Field g;
      while (type.next(g)) {
        if (g.number != type_f::tensor_type) continue;
        v.tensor = true;
        Reader tt = sub(type, g, "TypeProto.tensor_type", "TypeProto.Tensor");
        Field h;
        while (tt.next(h)) {
          if (h.number == tensor_type_f::elem_type) v.elem = static_cast<int>(int_value(tt, h, "TypeProto.Tensor.elem_type"));
          if (h.number != tensor_type_f::shape) continue;
          v.has_shape = true;
          Reader shape = sub(tt, h, "TypeProto.Tensor.shape", "TensorShapeProto");
          Field d;
          while (shape.next(d)) {
            if (d.number != shape_f::dim) continue;
            std::optional<std::int64_t> size;
            Reader dim = sub(shape, d, "TensorShapeProto.dim", "TensorShapeProto.Dimension");
            Field e;
            while (dim.next(e))
              if (e.number == dim_f::dim_value) size = int_value(dim, e, "TensorShapeProto.Dimension.dim_value");
            v.dims.push_back(size);
          }
        }
      }
    }
    return v;
  }

  Graph graph(Reader r) {
    Graph g;
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case graph_f::node: g.nodes.push_back(node(sub(r, f, "GraphProto.node", "NodeProto"))); break;
        case graph_f::initializer: g.initializers.push_back(tensor(sub(r, f, "GraphProto.initializer", "TensorProto"), f.data_offset)); break;
        case graph_f::sparse_initializer: g.sparse = true; break;
        case graph_f::input: g.inputs.push_back(value_info(sub(r, f, "GraphProto.input", "ValueInfoProto"))); break;
        case graph_f::output: g.outputs.push_back(value_info(sub(r, f, "GraphProto.output", "ValueInfoProto"))); break;
        default: break;
      }
    }
    return g;
  }

  const std::string& bytes_;
  const std::string& name_;
};

// ------------------------------------------------------------------ the graph as a network

const char* const supported =
    "deepnet imports chains of Gemm (or MatMul + Add) layers with Sigmoid, Tanh, Relu, LeakyRelu, Identity or a final "
    "Softmax, after an optional Sub/Div normalisation (docs/model-format.md, \"ONNX export\")";

std::string type_name(int type) {
  switch (type) {
    case type_float: return "float";
    case type_double: return "double";
    case type_int64: return "int64";
    case type_int32: return "int32";
    case type_string: return "string";
    default: return "type " + std::to_string(type);
  }
}

struct Layer {
  std::size_t rows = 0, cols = 0;  // n[l], n[l-1]
  std::vector<double> W;           // row-major (n[l], n[l-1])
  std::vector<double> b;           // n[l]
  std::optional<Activation> activation;  // none yet: linear
  double slope = 0.01;
};

class Importer {
 public:
  Importer(const ModelProto& proto, const std::string& name) : proto_(proto), name_(name), g_(*proto.graph) {}

  Model run() {
    check_header();
    for (const Tensor& t : g_.initializers) constants_[t.name] = &t;
    find_input();
    std::size_t k = 0;
    normalisation(k);
    layers(k);
    tail(k);
    check_outputs();
    return model();
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(name_ + ": " + what); }
  std::string node_name(std::size_t k) const {
    const Node& n = g_.nodes[k];
    std::string text = "node " + std::to_string(k) + " (" + (n.op.empty() ? std::string("no op_type") : io::printable(n.op));
    if (!n.name.empty()) text += " '" + io::printable(n.name) + "'";
    return text + ")";
  }
  [[noreturn]] void fail_node(std::size_t k, const std::string& what) const { fail(node_name(k) + ": " + what); }

  void check_header() {
    if (!proto_.ir_version)
      fail("not an ONNX model: no ir_version (ModelProto field 1); expected an ONNX file (ModelProto)");
    if (*proto_.ir_version < 3)
      fail("ONNX IR version " + std::to_string(*proto_.ir_version) + " is older than this import reads (3 or later)");
    if (!proto_.opset) fail("no opset_import for the default ONNX domain; expected one (e.g. version 13)");
    if (*proto_.opset < 7)
      fail("opset " + std::to_string(*proto_.opset) + " is older than this import reads (7 or later)");
    if (g_.sparse) fail("the graph has sparse initializers; " + std::string(supported));
    for (const Tensor& t : g_.initializers)
      if (t.external)
        fail("initializer '" + io::printable(t.name) + "' keeps its data outside the file (external data); expected it in the file");
  }

  void find_input() {
    const ValueInfo* input = nullptr;
    for (const ValueInfo& v : g_.inputs) {
      if (constants_.count(v.name)) continue;  // an initializer listed as an input (IR < 4)
      if (input)
        fail("the graph has more than one input ('" + io::printable(input->name) + "', '" + io::printable(v.name) +
             "'); expected one input (batch, n[0])");
      input = &v;
    }
    if (!input) fail("the graph has no input; expected one input (batch, n[0])");
    if (!input->tensor || (input->elem != type_float && input->elem != type_double))
      fail("the graph input '" + io::printable(input->name) + "' is " +
           (input->tensor ? "a " + type_name(input->elem) + " tensor" : std::string("not a tensor")) +
           "; expected a float or double tensor (batch, n[0])");
    if (input->has_shape && input->dims.size() != 2)
      fail("the graph input '" + io::printable(input->name) + "' has " + std::to_string(input->dims.size()) +
           " dimensions; expected 2, (batch, n[0])");
    float64_ = input->elem == type_double;
    input_ = input;
    current_ = input->name;
    if (input->has_shape && input->dims[1]) {
      if (*input->dims[1] < 1 || *input->dims[1] > (1 << 24))
        fail("the graph input '" + io::printable(input->name) + "' has " + std::to_string(*input->dims[1]) +
             " columns; expected n[0] between 1 and 2^24");
      width_ = static_cast<std::size_t>(*input->dims[1]);
    }
  }

  const Node& at(std::size_t k) const { return g_.nodes[k]; }
  bool has(std::size_t k) const { return k < g_.nodes.size(); }

  // The node's attribute `name`, or null; any other attribute than `allowed` is refused.
  const Attribute* attribute(std::size_t k, const std::string& name) const {
    for (const Attribute& a : at(k).attributes)
      if (a.name == name) return &a;
    return nullptr;
  }
  void only_attributes(std::size_t k, std::initializer_list<const char*> allowed) const {
    for (const Attribute& a : at(k).attributes) {
      bool ok = false;
      for (const char* name : allowed) ok = ok || a.name == name;
      if (!ok) fail_node(k, "has the attribute '" + io::printable(a.name) + "', which this import does not read");
    }
  }
  std::int64_t int_attribute(std::size_t k, const char* name, std::int64_t fallback) const {
    const Attribute* a = attribute(k, name);
    if (!a) return fallback;
    if (!a->i || a->other) fail_node(k, std::string("attribute '") + name + "' is not an integer");
    return *a->i;
  }
  double float_attribute(std::size_t k, const char* name, double fallback) const {
    const Attribute* a = attribute(k, name);
    if (!a) return fallback;
    if (!a->f || a->other) fail_node(k, std::string("attribute '") + name + "' is not a float");
    return *a->f;
  }

  // The constant (initializer or Constant node) named by input `index` of node k, or null.
  const Tensor* constant(std::size_t k, std::size_t index) const {
    if (index >= at(k).inputs.size()) return nullptr;
    const auto it = constants_.find(at(k).inputs[index]);
    return it == constants_.end() ? nullptr : it->second;
  }
  // The numbers of a float/double constant, checked finite.
  const std::vector<double>& numbers(std::size_t k, const Tensor& t) const {
    if (t.type != type_float && t.type != type_double)
      fail_node(k, "the constant '" + io::printable(t.name) + "' is " + type_name(t.type) + "; expected float or double");
    if (t.type != (float64_ ? type_double : type_float))
      fail_node(k, "the constant '" + io::printable(t.name) + "' is " + type_name(t.type) + " but the input is " +
                       (float64_ ? "double" : "float") + "; expected one element type throughout");
    std::size_t count = 1;
    for (const std::int64_t d : t.dims) {
      if (d < 0 || (d > 0 && count > t.values.size() / static_cast<std::size_t>(d)))
        fail_node(k, "the constant '" + io::printable(t.name) + "' has dims that do not fit its " +
                         std::to_string(t.values.size()) + " values");
      count *= static_cast<std::size_t>(d);
    }
    if (count != t.values.size())
      fail_node(k, "the constant '" + io::printable(t.name) + "' has dims for " + std::to_string(count) +
                       " values but holds " + std::to_string(t.values.size()));
    for (std::size_t i = 0; i < t.values.size(); ++i)
      if (!std::isfinite(t.values[i]))
        fail_node(k, "the constant '" + io::printable(t.name) + "' holds the non-finite value " + number_text(t.values[i]) +
                         " at flat index " + std::to_string(i) + "; a model holds finite parameters only");
    return t.values;
  }
  // A per-column constant for `width` columns: shape (), (1,), (width,), (1, 1) or (1, width); broadcast to width values.
  std::vector<double> row(std::size_t k, const Tensor& t, std::size_t width, const std::string& what) const {
    const std::vector<double>& v = numbers(k, t);
    std::vector<std::int64_t> dims = t.dims;
    if (dims.size() == 2 && dims[0] == 1) dims.erase(dims.begin());
    const bool fits = dims.size() <= 1 && (v.size() == 1 || v.size() == width);
    if (!fits)
      fail_node(k, what + " '" + io::printable(t.name) + "' has " + std::to_string(v.size()) + " values in " +
                       std::to_string(t.dims.size()) + " dimensions; expected one value or one per column, " +
                       std::to_string(width));
    return v.size() == width ? v : std::vector<double>(width, v[0]);
  }
  // Node k reads the chain's current value as input `index` (and has the inputs it should).
  void expect_input(std::size_t k, std::size_t index, std::size_t inputs) const {
    const Node& n = at(k);
    if (n.inputs.size() != inputs)
      fail_node(k, "has " + std::to_string(n.inputs.size()) + " inputs; expected " + std::to_string(inputs));
    if (n.inputs[index] != current_)
      fail_node(k, "input " + std::to_string(index) + " is '" + io::printable(n.inputs[index]) + "'; expected '" +
                       io::printable(current_) + "', the output of the step before");
    if (n.outputs.size() != 1 || n.outputs[0].empty()) fail_node(k, "expected one output");
    if (!n.domain.empty() && n.domain != "ai.onnx")
      fail_node(k, "is in the domain '" + io::printable(n.domain) + "'; " + supported);
  }
  void advance(std::size_t k) { current_ = at(k).outputs[0]; }

  // Constant nodes and Identity are taken as they come, anywhere.
  bool passive(std::size_t& k) {
    const Node& n = at(k);
    if (n.op == "Constant" && n.domain.empty()) {
      const Attribute* value = attribute(k, "value");
      if (n.outputs.size() != 1 || n.attributes.size() != 1 || !value || !value->t)
        fail_node(k, "a Constant node reads here only with one tensor 'value' and one output");
      constant_nodes_.push_back(*value->t);
      constants_[n.outputs[0]] = &constant_nodes_.back();
      ++k;
      return true;
    }
    if (n.op == "Identity" && n.domain.empty() && n.inputs.size() == 1 && n.inputs[0] == current_) {
      expect_input(k, 0, 1);
      advance(k);
      ++k;
      return true;
    }
    return false;
  }

  void normalisation(std::size_t& k) {
    while (has(k)) {
      if (passive(k)) continue;
      const Node& n = at(k);
      if ((n.op != "Sub" && n.op != "Div") || n.inputs.size() != 2 || n.inputs[0] != current_ || !constant(k, 1)) return;
      expect_input(k, 0, 2);
      only_attributes(k, {});
      const bool sub = n.op == "Sub";
      if (sub && (offset_ || scale_)) fail_node(k, "a second Sub or a Sub after the Div; expected (x - offset) / scale");
      if (!sub && scale_) fail_node(k, "a second Div; expected (x - offset) / scale");
      // The width: the input's, else the constant's (one value is broadcast once the weights give n[0]).
      const Tensor& c = *constant(k, 1);
      if (!width_ && numbers(k, c).size() > 1) width_ = numbers(k, c).size();
      std::vector<double> v = row(k, c, width_.value_or(1), sub ? "the offset" : "the scale");
      if (!sub)
        for (std::size_t i = 0; i < v.size(); ++i)
          if (v[i] == 0) fail_node(k, "the scale of column " + std::to_string(i) + " is 0; expected a non-zero scale");
      (sub ? offset_ : scale_) = std::move(v);
      advance(k);
      ++k;
    }
  }

  // Gemm, or MatMul (+ Add), then an optional activation; as many as come.
  void layers(std::size_t& k) {
    while (has(k)) {
      if (passive(k)) continue;
      const Node& n = at(k);
      if (n.op != "Gemm" && n.op != "MatMul") break;
      if (!layers_.empty() && layers_.back().activation == Activation::softmax)
        fail_node(k, "a layer after a Softmax; Softmax is only the output layer's activation");
      Layer layer;
      const std::size_t in = layers_.empty() ? width_.value_or(0) : layers_.back().rows;
      if (n.op == "Gemm") {
        if (n.inputs.size() != 2 && n.inputs.size() != 3)
          fail_node(k, "has " + std::to_string(n.inputs.size()) + " inputs; expected 2 or 3 (A, B and C)");
        expect_input(k, 0, n.inputs.size());
        only_attributes(k, {"alpha", "beta", "transA", "transB"});
        if (int_attribute(k, "transA", 0) != 0) fail_node(k, "transA is 1; expected 0 (the examples as rows)");
        const std::int64_t trans_b = int_attribute(k, "transB", 0);
        if (trans_b != 0 && trans_b != 1) fail_node(k, "transB is " + std::to_string(trans_b) + "; expected 0 or 1");
        weights(k, layer, in, trans_b == 1);
        const double alpha = float_attribute(k, "alpha", 1.0), beta = float_attribute(k, "beta", 1.0);
        if (n.inputs.size() == 3 && !n.inputs[2].empty()) {
          const Tensor* c = constant(k, 2);
          if (!c) fail_node(k, "input C '" + io::printable(n.inputs[2]) + "' is not a constant; expected the biases");
          layer.b = row(k, *c, layer.rows, "the bias");
          for (double& v : layer.b) v = round(v * beta);
        } else {
          layer.b.assign(layer.rows, 0.0);
        }
        if (alpha != 1)
          for (double& v : layer.W) v = round(v * alpha);
        advance(k);
        ++k;
      } else {
        expect_input(k, 0, 2);
        only_attributes(k, {});
        weights(k, layer, in, false);
        advance(k);
        ++k;
        layer.b.assign(layer.rows, 0.0);
        while (has(k) && passive(k)) {
        }
        if (has(k) && at(k).op == "Add" && at(k).inputs.size() == 2 &&
            (at(k).inputs[0] == current_ || at(k).inputs[1] == current_)) {
          const std::size_t bias_at = at(k).inputs[0] == current_ ? 1 : 0;
          expect_input(k, 1 - bias_at, 2);
          only_attributes(k, {});
          const Tensor* c = constant(k, bias_at);
          if (!c) fail_node(k, "adds '" + io::printable(at(k).inputs[bias_at]) + "', which is not a constant; expected the biases");
          layer.b = row(k, *c, layer.rows, "the bias");
          advance(k);
          ++k;
        }
      }
      while (has(k) && passive(k)) {
      }
      if (has(k)) activation(k, layer);
      layers_.push_back(std::move(layer));
    }
    if (layers_.empty()) {
      if (has(k)) fail_node(k, "unsupported here; " + std::string(supported));
      fail("the graph has no layer (no Gemm or MatMul node); " + std::string(supported));
    }
  }

  // Reads W from input 1 of node k: (in, out) for MatMul or Gemm without transB, (out, in) with it.
  void weights(std::size_t k, Layer& layer, std::size_t in, bool transposed) {
    const Tensor* w = constant(k, 1);
    if (!w) fail_node(k, "input B '" + io::printable(at(k).inputs[1]) + "' is not a constant; expected the weights");
    const std::vector<double>& v = numbers(k, *w);
    if (w->dims.size() != 2 || w->dims[0] < 1 || w->dims[1] < 1)
      fail_node(k, "the weights '" + io::printable(w->name) + "' have " + std::to_string(w->dims.size()) +
                       " dimensions; expected a 2-D (" + (transposed ? "n[l], n[l-1]" : "n[l-1], n[l]") + ") matrix");
    const auto d0 = static_cast<std::size_t>(w->dims[0]), d1 = static_cast<std::size_t>(w->dims[1]);
    const std::size_t rows = transposed ? d0 : d1, cols = transposed ? d1 : d0;
    if (rows > (1u << 24) || cols > (1u << 24))
      fail_node(k, "the weights '" + io::printable(w->name) + "' are larger than deepnet's layers (at most 2^24 units)");
    if (in != 0 && cols != in)
      fail_node(k, "the weights '" + io::printable(w->name) + "' have shape (" + std::to_string(d0) + ", " +
                       std::to_string(d1) + "), for " + std::to_string(cols) + " inputs, but the step before gives " +
                       std::to_string(in) + (transposed ? " (transB = 1: (n[l], n[l-1]))" : " ((n[l-1], n[l]))"));
    if (layers_.empty()) {
      width_ = cols;
      for (auto* v : {&offset_, &scale_})
        if (*v && (*v)->size() == 1 && cols > 1) (*v)->assign(cols, (**v)[0]);  // one value for every column
    }
    layer.rows = rows;
    layer.cols = cols;
    layer.W.resize(rows * cols);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) layer.W[i * cols + j] = transposed ? v[i * cols + j] : v[j * rows + i];
  }

  double round(double v) const { return float64_ ? v : static_cast<double>(static_cast<float>(v)); }

  // LeakyRelu as deepnet writes it for double (onnxruntime has no double
  // LeakyRelu): Greater(Z, 0), Mul(Z, slope), Where(Z > 0, Z, Z * slope).
  bool where_leaky_relu(std::size_t& k, Layer& layer) {
    if (k + 2 >= g_.nodes.size()) return false;
    const Node &greater = at(k), &mul = at(k + 1), &where = at(k + 2);
    if (greater.op != "Greater" || mul.op != "Mul" || where.op != "Where") return false;
    if (greater.inputs.size() != 2 || greater.inputs[0] != current_ || !constant(k, 1)) return false;
    expect_input(k, 0, 2);
    only_attributes(k, {});
    const std::vector<double> zero = row(k, *constant(k, 1), 1, "the constant");
    if (zero[0] != 0) fail_node(k, "compares with " + number_text(zero[0]) + "; expected Z > 0 (LeakyRelu as Where)");
    expect_input(k + 1, 0, 2);
    only_attributes(k + 1, {});
    if (!constant(k + 1, 1)) fail_node(k + 1, "expected Z times the constant slope (LeakyRelu as Where)");
    const std::vector<double> slope = row(k + 1, *constant(k + 1, 1), 1, "the slope");
    only_attributes(k + 2, {});
    if (where.inputs.size() != 3 || where.inputs[0] != greater.outputs[0] || where.inputs[1] != current_ ||
        where.inputs[2] != mul.outputs[0] || where.outputs.size() != 1)
      fail_node(k + 2, "expected Where(Z > 0, Z, Z * slope) (LeakyRelu as Where)");
    layer.activation = Activation::leaky_relu;
    layer.slope = slope[0];
    activation_node_ = k + 2;
    current_ = where.outputs[0];
    k += 3;
    return true;
  }

  void activation(std::size_t& k, Layer& layer) {
    if (where_leaky_relu(k, layer)) return;
    const Node& n = at(k);
    if (n.inputs.size() != 1 || n.inputs[0] != current_) return;
    std::optional<Activation> g;
    if (n.op == "Sigmoid") g = Activation::sigmoid;
    else if (n.op == "Tanh") g = Activation::tanh;
    else if (n.op == "Relu") g = Activation::relu;
    else if (n.op == "LeakyRelu") g = Activation::leaky_relu;
    else if (n.op == "Softmax") g = Activation::softmax;
    if (!g) return;
    expect_input(k, 0, 1);
    if (*g == Activation::leaky_relu) {
      only_attributes(k, {"alpha"});
      layer.slope = float_attribute(k, "alpha", 0.01);
    } else if (*g == Activation::softmax) {
      only_attributes(k, {"axis"});
      const std::int64_t axis = int_attribute(k, "axis", *proto_.opset >= 13 ? -1 : 1);
      if (axis != 1 && axis != -1) fail_node(k, "axis is " + std::to_string(axis) + "; expected 1 or -1 (over the classes)");
    } else {
      only_attributes(k, {});
    }
    layer.activation = g;
    activation_node_ = k;
    advance(k);
    ++k;
  }

  // After the last layer: P(class 0) = 1 - P(class 1) and the Concat (one
  // sigmoid unit), the target scale and offset (linear output), the label
  // (ArgMax, and a Gather of the class names). Nothing else.
  void tail(std::size_t& k) {
    const Layer& last = layers_.back();
    const std::optional<Activation> g = last.activation;
    probability_1_ = current_;
    while (has(k)) {
      if (passive(k)) continue;
      const Node& n = at(k);
      const std::string before = current_;
      if (n.op == "Sub" && g == Activation::sigmoid && last.rows == 1 && !complement_ && n.inputs.size() == 2 &&
          n.inputs[1] == current_ && constant(k, 0)) {
        expect_input(k, 1, 2);
        only_attributes(k, {});
        const std::vector<double> one = row(k, *constant(k, 0), 1, "the constant");
        if (one[0] != 1) fail_node(k, "subtracts from " + number_text(one[0]) + "; expected 1 - P(class 1)");
        complement_ = n.outputs[0];
        ++k;
        continue;
      }
      if (n.op == "Concat" && complement_ && n.inputs.size() == 2 && n.inputs[0] == *complement_ &&
          n.inputs[1] == probability_1_ && current_ == probability_1_) {
        only_attributes(k, {"axis"});
        const std::int64_t axis = int_attribute(k, "axis", 0);
        if (axis != 1 && axis != -1) fail_node(k, "axis is " + std::to_string(axis) + "; expected 1 (the columns)");
        if (n.outputs.size() != 1) fail_node(k, "expected one output");
        advance(k);
        two_columns_ = true;
        ++k;
        continue;
      }
      if ((n.op == "Mul" || n.op == "Add") && !g && n.inputs.size() == 2 && n.inputs[0] == current_ && constant(k, 1)) {
        expect_input(k, 0, 2);
        only_attributes(k, {});
        const bool mul = n.op == "Mul";
        if (mul && (target_scale_ || target_offset_)) fail_node(k, "a second Mul or a Mul after the Add; expected y * scale + offset");
        if (!mul && target_offset_) fail_node(k, "a second Add; expected y * scale + offset");
        const std::vector<double> v = row(k, *constant(k, 1), last.rows, mul ? "the target scale" : "the target offset");
        for (const double x : v)
          if (x != v[0]) fail_node(k, "holds different values per output; deepnet has one target scale and offset");
        if (mul && v[0] == 0) fail_node(k, "scales by 0; expected a non-zero target scale");
        (mul ? target_scale_ : target_offset_) = v[0];
        advance(k);
        ++k;
        continue;
      }
      if (n.op == "ArgMax" && n.domain.empty() && n.inputs.size() == 1 && !argmax_ &&
          (n.inputs[0] == current_ || n.inputs[0] == probability_1_)) {
        only_attributes(k, {"axis", "keepdims", "select_last_index"});
        // deepnet's label: the first of equal maxima over each example's class probabilities.
        if (n.inputs[0] != current_ || (g == Activation::sigmoid && last.rows == 1 && !two_columns_))
          fail_node(k, "takes the ArgMax of one probability column; expected it over every class's column");
        const std::int64_t axis = int_attribute(k, "axis", 0);
        if (axis != 1 && axis != -1) fail_node(k, "axis is " + std::to_string(axis) + "; expected 1 (over the classes of each example)");
        if (int_attribute(k, "select_last_index", 0) != 0)
          fail_node(k, "select_last_index is set; deepnet's label is the first of equal maxima");
        if (n.outputs.size() != 1) fail_node(k, "expected one output");
        argmax_ = n.outputs[0];
        ++k;
        continue;
      }
      if (n.op == "Gather" && n.domain.empty() && argmax_ && n.inputs.size() == 2 && n.inputs[1] == *argmax_ &&
          constant(k, 0) && constant(k, 0)->type == type_string && !label_) {
        only_attributes(k, {"axis"});
        if (int_attribute(k, "axis", 0) != 0) fail_node(k, "axis is not 0; expected the class names by index");
        if (n.outputs.size() != 1) fail_node(k, "expected one output");
        class_names_ = constant(k, 0)->strings;
        label_ = n.outputs[0];
        ++k;
        continue;
      }
      (void)before;
      fail_node(k, "unsupported here; " + std::string(supported));
    }
  }

  void check_outputs() {
    bool main = false;
    for (const ValueInfo& v : g_.outputs) {
      if (v.name == current_) {
        main = true;
        continue;
      }
      if ((argmax_ && v.name == *argmax_) || (label_ && v.name == *label_)) continue;
      fail("the graph output '" + io::printable(v.name) + "' is not the network's output ('" + io::printable(current_) +
           "') or its label; " + supported);
    }
    if (!main)
      fail("no graph output is the network's output '" + io::printable(current_) + "'; expected it among the outputs");
  }

  // A metadata value that is JSON numbers and, rounded to the element type, equals `graph`: the exact values; else graph.
  std::vector<double> exact(const char* key, const std::vector<double>& graph) const {
    const auto it = proto_.metadata.find(key);
    if (it == proto_.metadata.end()) return graph;
    const std::optional<std::vector<double>> values = JsonArray(it->second).numbers();
    if (!values || values->size() != graph.size()) return graph;
    for (std::size_t i = 0; i < graph.size(); ++i)
      if (round((*values)[i]) != graph[i]) return graph;
    return *values;
  }
  double exact(const char* key, double graph) const {
    const auto it = proto_.metadata.find(key);
    if (it == proto_.metadata.end()) return graph;
    const std::optional<std::vector<double>> values = JsonArray("[" + it->second + "]").numbers();
    if (!values || values->size() != 1) return graph;
    return round((*values)[0]) == round(graph) ? (*values)[0] : graph;
  }

  Model model() {
    Model m;
    m.float64 = float64_;
    Architecture& arch = m.architecture;
    arch.sizes.assign(1, static_cast<int>(layers_.front().cols));
    arch.hidden_activations.clear();
    std::optional<double> slope;
    const std::size_t L = layers_.size();
    for (std::size_t l = 0; l < L; ++l) {
      const Layer& layer = layers_[l];
      arch.sizes.push_back(static_cast<int>(layer.rows));
      const Activation g = layer.activation.value_or(Activation::linear);
      if (g == Activation::leaky_relu && l + 1 < L) {
        if (slope && *slope != layer.slope)
          fail("the LeakyRelu layers have different slopes (" + number_text(*slope) + " and " + number_text(layer.slope) +
               "); deepnet has one slope for all layers");
        slope = layer.slope;
      }
      if (l + 1 < L) {
        if (g == Activation::softmax) fail("a Softmax before the last layer; " + std::string(supported));
        arch.hidden_activations.push_back(g);
      }
    }
    if (arch.hidden_activations.empty()) arch.hidden_activations.push_back(Activation::relu);
    const Activation out = layers_.back().activation.value_or(Activation::linear);
    switch (out) {
      case Activation::sigmoid: arch.output = Output::sigmoid; break;
      case Activation::softmax: arch.output = Output::softmax; break;
      case Activation::linear: arch.output = Output::linear; break;
      default:
        fail_node(activation_node_, "as the output layer's activation; deepnet's output layer is Sigmoid, Softmax or none (linear)");
    }
    if (slope) arch.leaky_slope = exact("leaky_slope", *slope);
    for (const Layer& layer : layers_) {
      // The flat buffer: W[l] column-major (n[l], n[l-1]), then b[l].
      for (std::size_t j = 0; j < layer.cols; ++j)
        for (std::size_t i = 0; i < layer.rows; ++i) m.parameters.push_back(round(layer.W[i * layer.cols + j]));
      for (const double v : layer.b) m.parameters.push_back(round(v));
    }
    for (std::size_t k = 0; k < m.parameters.size(); ++k)
      if (!std::isfinite(m.parameters[k]))
        fail("parameter " + std::to_string(k) + " is not finite after applying Gemm's alpha and beta");

    const auto n0 = static_cast<std::size_t>(arch.sizes[0]);
    const auto text = [&](const char* key) {
      const auto it = proto_.metadata.find(key);
      return it == proto_.metadata.end() ? std::string() : it->second;
    };
    if (offset_ || scale_) {
      Normalizer& norm = m.normalizer;
      norm.offset = exact("normalization_offset", offset_.value_or(std::vector<double>(n0, 0.0)));
      norm.scale = exact("normalization_scale", scale_.value_or(std::vector<double>(n0, 1.0)));
      std::optional<Normalization> kind;
      try {
        kind = parse_normalization(text("normalization"));
      } catch (const Error&) {
      }
      if (!kind || *kind == Normalization::none) {
        bool div255 = true;
        for (std::size_t i = 0; i < n0; ++i) div255 = div255 && norm.offset[i] == 0 && norm.scale[i] == 255;
        kind = div255 ? Normalization::div255 : Normalization::standard;
      }
      norm.kind = *kind;
    }
    if (arch.output == Output::linear) {
      if (target_scale_) m.target_scale = exact("target_scale", *target_scale_);
      if (target_offset_) m.target_offset = exact("target_offset", *target_offset_);
    }
    m.encoding.output = arch.output;
    if (arch.output != Output::linear) {
      const std::size_t K = arch.output == Output::softmax ? layers_.back().rows : 2;
      std::vector<std::string> names;
      if (class_names_.size() == K) names = class_names_;
      if (names.empty())
        if (const auto stored = JsonArray(text("classes")).strings(); stored && stored->size() == K) names = *stored;
      std::vector<double> values;
      if (const auto stored = JsonArray(text("class_values")).numbers(); stored && stored->size() == K) values = *stored;
      for (std::size_t c = 0; c < K; ++c) {
        m.encoding.classes.push_back(values.empty() ? static_cast<double>(c) : values[c]);
        m.encoding.class_names.push_back(names.empty() ? std::to_string(c) : names[c]);
      }
    }
    if (const auto names = JsonArray(text("feature_names")).strings(); names && names->size() == n0) m.feature_names = *names;
    m.target_name = text("target_name");
    m.training.optimizer = "imported";
    m.training.deepnet_version = DEEPNET_VERSION;
    try {
      arch.validate();
    } catch (const Error& e) {
      fail(e.what());
    }
    return m;
  }

  const ModelProto& proto_;
  const std::string& name_;
  const Graph& g_;
  std::map<std::string, const Tensor*> constants_;
  std::deque<Tensor> constant_nodes_;  // stable addresses: constants_ points into it
  const ValueInfo* input_ = nullptr;
  bool float64_ = false;
  std::string current_;
  std::optional<std::size_t> width_;
  std::optional<std::vector<double>> offset_, scale_;
  std::vector<Layer> layers_;
  std::size_t activation_node_ = 0;
  std::string probability_1_;
  std::optional<std::string> complement_, argmax_, label_;
  bool two_columns_ = false;
  std::optional<double> target_scale_, target_offset_;
  std::vector<std::string> class_names_;
};

}  // namespace

Model parse_onnx(const std::string& bytes, const std::string& name) {
  if (bytes.empty()) throw Error(name + ": the file is empty; expected an ONNX model");
  if (bytes.rfind("DEEPNETM", 0) == 0 || bytes.rfind("DEEPNETC", 0) == 0)
    throw Error(name + ": byte 0: a deepnet model or checkpoint file, not an ONNX model");
  const ModelProto proto = Parser(bytes, name).model();
  if (!proto.ir_version)
    throw Error(name + ": not an ONNX model: no ir_version (ModelProto field 1); expected an ONNX file (ModelProto)");
  if (!proto.graph) throw Error(name + ": no graph (ModelProto field 7); expected an ONNX model with its graph");
  return Importer(proto, name).run();
}

Model load_onnx(const std::string& path) { return parse_onnx(io::read_whole_file(path), path); }

}  // namespace deepnet
