// The model file: see docs/model-format.md for the byte layout.
#include "deepnet/model_file.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "deepnet/error.hpp"
#include "deepnet/files.hpp"
#include "io/crc32c.hpp"

namespace deepnet {

namespace {

constexpr char model_magic[8] = {'D', 'E', 'E', 'P', 'N', 'E', 'T', 'M'};
constexpr char checkpoint_magic[8] = {'D', 'E', 'E', 'P', 'N', 'E', 'T', 'C'};
// 2: the training settings as (name, value) pairs after the final cost.
constexpr std::uint32_t format_version = 2;
constexpr std::uint32_t byte_order_mark = 0x01020304;
constexpr std::size_t header_size = 24;  // magic, version, byte order mark, payload size
constexpr std::size_t trailer_size = 4;  // CRC-32C

// Stable one-byte codes: the enums' order in C++ may change, the file's may not.
constexpr Activation activation_codes[] = {Activation::sigmoid, Activation::tanh, Activation::relu,
                                           Activation::leaky_relu, Activation::linear, Activation::softmax};
constexpr Output output_codes[] = {Output::sigmoid, Output::softmax, Output::linear};
constexpr Normalization normalization_codes[] = {Normalization::none, Normalization::standard,
                                                 Normalization::minmax, Normalization::div255};

template <typename E, std::size_t N>
std::uint8_t code_of(const E (&codes)[N], E value) {
  for (std::size_t k = 0; k < N; ++k)
    if (codes[k] == value) return static_cast<std::uint8_t>(k);
  throw Error("model file: no code for an enum value");
}

class Writer {
 public:
  void u8(std::uint8_t v) { bytes_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) {
    for (int k = 0; k < 4; ++k) u8(static_cast<std::uint8_t>(v >> (8 * k)));
  }
  void u64(std::uint64_t v) {
    for (int k = 0; k < 8; ++k) u8(static_cast<std::uint8_t>(v >> (8 * k)));
  }
  void f32(float v) { u32(std::bit_cast<std::uint32_t>(v)); }
  void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
  void str(const std::string& s) {
    u32(static_cast<std::uint32_t>(s.size()));
    bytes_ += s;
  }
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

class Reader {
 public:
  Reader(const std::string& bytes, std::size_t begin, std::size_t end, const std::string& name)
      : bytes_(bytes), position_(begin), end_(end), name_(name) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw Error(name_ + ": byte " + std::to_string(position_) + " (" + field + "): " + what);
  }
  std::size_t remaining() const { return end_ - position_; }
  void need(std::size_t count, const std::string& field) const {
    if (count > remaining())
      fail(field, "needs " + std::to_string(count) + " bytes but only " + std::to_string(remaining()) +
                      " remain; the file is truncated or corrupt");
  }
  std::uint64_t little_endian(int width, const std::string& field) {
    need(static_cast<std::size_t>(width), field);
    std::uint64_t v = 0;
    for (int k = 0; k < width; ++k)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[position_ + k])) << (8 * k);
    position_ += static_cast<std::size_t>(width);
    return v;
  }
  std::uint8_t u8(const std::string& f) { return static_cast<std::uint8_t>(little_endian(1, f)); }
  std::uint32_t u32(const std::string& f) { return static_cast<std::uint32_t>(little_endian(4, f)); }
  std::uint64_t u64(const std::string& f) { return little_endian(8, f); }
  float f32(const std::string& f) { return std::bit_cast<float>(u32(f)); }
  double f64(const std::string& f) { return std::bit_cast<double>(u64(f)); }
  std::string str(const std::string& field) {
    const std::uint32_t size = u32(field);
    need(size, field);
    std::string s = bytes_.substr(position_, size);
    position_ += size;
    return s;
  }
  // A count of items, each at least min_item_bytes long, checked against the
  // bytes left before anyone allocates for it.
  std::size_t count(const std::string& field, std::size_t min_item_bytes, bool wide = false) {
    const std::size_t at = position_;
    const std::uint64_t n = wide ? u64(field) : u32(field);
    if (min_item_bytes && n > remaining() / min_item_bytes) {
      position_ = at;
      fail(field, "claims " + std::to_string(n) + " items, more than the " + std::to_string(remaining()) +
                      " bytes left can hold");
    }
    return static_cast<std::size_t>(n);
  }
  template <typename E, std::size_t N>
  E code(const E (&codes)[N], const std::string& field) {
    const std::uint8_t c = u8(field);
    if (c >= N) {
      --position_;
      fail(field, "unknown code " + std::to_string(c) + ", expected 0.." + std::to_string(N - 1));
    }
    return codes[c];
  }
  std::size_t position() const { return position_; }

 private:
  const std::string& bytes_;
  std::size_t position_, end_;
  const std::string& name_;
};


// Header, payload, CRC-32C: the frame shared by model and checkpoint files.
std::string seal(const char (&magic)[8], const std::string& payload) {
  Writer w;
  for (char c : magic) w.u8(static_cast<std::uint8_t>(c));
  w.u32(format_version);
  w.u32(byte_order_mark);
  w.u64(payload.size());
  w.bytes() += payload;
  w.u32(io::crc32c(w.bytes().data(), w.bytes().size()));
  return std::move(w.bytes());
}

// Checks the frame; returns the offset just past the payload (where the CRC sits).
std::size_t unseal(const std::string& bytes, const char (&magic)[8], const std::string& name, const char* kind,
                   std::uint32_t* version_out = nullptr) {
  if (bytes.size() < 8 || std::memcmp(bytes.data(), magic, 8) != 0)
    throw Error(name + ": byte 0: not a deepnet " + kind + " file (expected the magic bytes '" +
                std::string(magic, 8) + "')");
  Reader header(bytes, 8, bytes.size(), name);
  const std::uint32_t version = header.u32("format version");
  if (version > format_version)
    throw Error(name + ": byte 8: format version " + std::to_string(version) +
                " is newer than this deepnet reads (" + std::to_string(format_version) +
                "); upgrade deepnet to load it");
  if (version == 0) throw Error(name + ": byte 8: format version 0 is not valid");
  if (version_out) *version_out = version;
  if (header.u32("byte order mark") != byte_order_mark)
    throw Error(name + ": byte 12: byte order mark is wrong; expected 04 03 02 01 (little endian)");
  const std::uint64_t payload = header.u64("payload size");
  if (payload > bytes.size() || bytes.size() - header_size - trailer_size != payload)
    throw Error(name + ": byte 16: the header promises a " + std::to_string(payload) +
                "-byte payload, so a file of " + std::to_string(payload + header_size + trailer_size) +
                " bytes, but the file has " + std::to_string(bytes.size()) + " bytes (truncated?)");
  const std::size_t crc_at = header_size + static_cast<std::size_t>(payload);
  Reader trailer(bytes, crc_at, bytes.size(), name);
  const std::uint32_t stored = trailer.u32("checksum");
  const std::uint32_t actual = io::crc32c(bytes.data(), crc_at);
  if (stored != actual)
    throw Error(name + ": byte " + std::to_string(crc_at) + ": checksum mismatch (stored CRC-32C " +
                std::to_string(stored) + ", computed " + std::to_string(actual) + "); the file is corrupt");
  return crc_at;
}

}  // namespace

std::string serialize_model(const Model& model) {
  model.architecture.validate();
  const Architecture& arch = model.architecture;
  const int L = arch.layers();
  for (std::size_t k = 0; k < model.parameters.size(); ++k)
    if (!std::isfinite(model.parameters[k]))
      throw Error("model: parameter " + std::to_string(k) + " is " + std::to_string(model.parameters[k]) +
                  "; a model file never holds a non-finite parameter (training diverged?)");
  Writer w;
  w.str(model.training.deepnet_version);
  w.u8(model.float64 ? 8 : 4);
  w.u32(static_cast<std::uint32_t>(L));
  for (int n : arch.sizes) w.u32(static_cast<std::uint32_t>(n));
  for (int l = 1; l <= L; ++l) w.u8(code_of(activation_codes, arch.activation(l)));
  w.u8(code_of(output_codes, arch.output));
  w.f64(arch.leaky_slope);
  w.u8(code_of(normalization_codes, model.normalizer.kind));
  w.u32(static_cast<std::uint32_t>(model.normalizer.offset.size()));
  for (double v : model.normalizer.offset) w.f64(v);
  for (double v : model.normalizer.scale) w.f64(v);
  w.u32(static_cast<std::uint32_t>(model.feature_names.size()));
  for (const auto& s : model.feature_names) w.str(s);
  w.str(model.target_name);
  w.u32(static_cast<std::uint32_t>(model.encoding.classes.size()));
  for (double v : model.encoding.classes) w.f64(v);
  for (std::size_t k = 0; k < model.encoding.classes.size(); ++k)
    w.str(k < model.encoding.class_names.size() ? model.encoding.class_names[k] : std::string());
  w.u64(model.training.seed);
  w.str(model.training.rng);
  w.str(model.training.init);
  w.str(model.training.optimizer);
  w.f64(model.training.learning_rate);
  w.u64(static_cast<std::uint64_t>(model.training.iterations));
  w.f64(model.training.final_cost);
  w.f64(model.target_offset);
  w.f64(model.target_scale);
  w.u32(static_cast<std::uint32_t>(model.training.settings.size()));
  for (const auto& [key, value] : model.training.settings) {
    w.str(key);
    w.str(value);
  }
  w.u64(model.parameters.size());
  for (double v : model.parameters) model.float64 ? w.f64(v) : w.f32(static_cast<float>(v));
  return seal(model_magic, w.bytes());
}

void save_model(const std::string& path, const Model& model) {
  io::write_file_atomically(path, serialize_model(model));
}


Model parse_model(const std::string& bytes, const std::string& name) {
  std::uint32_t version = 0;
  const std::size_t crc_at = unseal(bytes, model_magic, name, "model", &version);
  Reader r(bytes, header_size, crc_at, name);
  Model model;
  model.training.deepnet_version = r.str("deepnet version");
  const std::uint8_t element = r.u8("element size");
  if (element != 4 && element != 8) r.fail("element size", "expected 4 (float32) or 8 (float64), got " + std::to_string(element));
  model.float64 = element == 8;
  Architecture& arch = model.architecture;
  const std::size_t L = r.count("layer count L", 4);
  if (L < 1) r.fail("layer count L", "expected at least 1 layer");
  for (std::size_t l = 0; l <= L; ++l) {
    const std::uint32_t n = r.u32("n[" + std::to_string(l) + "]");
    if (n < 1 || n > (1u << 24)) r.fail("n[" + std::to_string(l) + "]", "expected 1..16777216 units, got " + std::to_string(n));
    arch.sizes.push_back(static_cast<int>(n));
  }
  arch.hidden_activations.clear();
  for (std::size_t l = 1; l <= L; ++l) {
    const Activation g = r.code(activation_codes, "activation of layer " + std::to_string(l));
    if (l < L) arch.hidden_activations.push_back(g);
  }
  if (arch.hidden_activations.empty()) arch.hidden_activations.push_back(Activation::relu);
  arch.output = r.code(output_codes, "output");
  arch.leaky_slope = r.f64("leaky slope");
  try {
    arch.validate();
  } catch (const Error& e) {
    throw Error(name + ": architecture: " + e.what());
  }
  // The parameter count follows from the sizes; compare it with the bytes left now.
  // Checked after every layer, so the sum stays below the file size and cannot wrap
  // (each term is below 2^49: sizes are at most 2^24).
  std::uint64_t expected_parameters = 0;
  for (std::size_t l = 1; l <= L; ++l) {
    expected_parameters += static_cast<std::uint64_t>(arch.sizes[l]) * (static_cast<std::uint64_t>(arch.sizes[l - 1]) + 1);
    if (expected_parameters > r.remaining() / element)
      r.fail("architecture", "n[0.." + std::to_string(l) + "] need " + std::to_string(expected_parameters) +
                                 " parameters, more than the file holds");
  }

  model.normalizer.kind = r.code(normalization_codes, "normalizer");
  const std::size_t features = r.count("normalizer size", 16);
  if (features != 0 && features != static_cast<std::size_t>(arch.sizes[0]))
    r.fail("normalizer size", "expected 0 or n[0] = " + std::to_string(arch.sizes[0]) + ", got " + std::to_string(features));
  model.normalizer.offset.resize(features);
  model.normalizer.scale.resize(features);
  for (auto& v : model.normalizer.offset) v = r.f64("normalizer offset");
  for (auto& v : model.normalizer.scale) {
    v = r.f64("normalizer scale");
    if (!(std::isfinite(v) && v != 0)) r.fail("normalizer scale", "expected a finite non-zero scale");
  }
  if (model.normalizer.kind != Normalization::none && features == 0)
    r.fail("normalizer size", "a " + std::string(to_string(model.normalizer.kind)) + " normaliser needs n[0] entries");
  const std::size_t names = r.count("feature name count", 4);
  for (std::size_t k = 0; k < names; ++k) model.feature_names.push_back(r.str("feature name"));
  model.target_name = r.str("target name");
  const std::size_t classes = r.count("class count", 12);
  model.encoding.output = arch.output;
  for (std::size_t k = 0; k < classes; ++k) model.encoding.classes.push_back(r.f64("class value"));
  for (std::size_t k = 0; k < classes; ++k) model.encoding.class_names.push_back(r.str("class name"));
  const std::size_t expected_classes =
      arch.output == Output::linear ? 0 : arch.output == Output::softmax ? static_cast<std::size_t>(arch.sizes.back()) : 2;
  if (classes != expected_classes)
    r.fail("class count", "a " + std::string(to_string(arch.output)) + " output with n[L] = " +
                              std::to_string(arch.sizes.back()) + " does not fit " + std::to_string(classes) + " classes");
  model.training.seed = r.u64("seed");
  model.training.rng = r.str("rng");
  model.training.init = r.str("init");
  model.training.optimizer = r.str("optimizer");
  model.training.learning_rate = r.f64("learning rate");
  model.training.iterations = static_cast<std::int64_t>(r.u64("iterations"));
  model.training.final_cost = r.f64("final cost");
  if (version >= 2) {
    model.target_offset = r.f64("target offset");
    model.target_scale = r.f64("target scale");
    if (!std::isfinite(model.target_offset)) r.fail("target offset", "expected a finite value");
    if (!(std::isfinite(model.target_scale) && model.target_scale != 0)) r.fail("target scale", "expected a finite non-zero scale");
    if (arch.output != Output::linear && (model.target_offset != 0 || model.target_scale != 1))
      r.fail("target scale", "a classifier's targets are classes, not scaled values");
    const std::size_t settings = r.count("setting count", 8);
    for (std::size_t k = 0; k < settings; ++k) {
      std::string key = r.str("setting name");
      model.training.settings.emplace_back(std::move(key), r.str("setting value"));
    }
  }
  const std::size_t count = r.count("parameter count", element, true);
  if (count != expected_parameters)
    r.fail("parameter count", "expected " + std::to_string(expected_parameters) + " for " + arch.describe() +
                                  ", got " + std::to_string(count));
  model.parameters.resize(count);
  for (std::size_t k = 0; k < count; ++k) {
    model.parameters[k] = element == 8 ? r.f64("parameters") : static_cast<double>(r.f32("parameters"));
    if (!std::isfinite(model.parameters[k])) r.fail("parameters", "parameter " + std::to_string(k) + " is not finite");
  }
  if (r.remaining() != 0)
    r.fail("end of payload", std::to_string(r.remaining()) + " unexpected bytes before the checksum");
  return model;
}

Model load_model(const std::string& path) { return parse_model(io::read_whole_file(path), path); }

std::string serialize_checkpoint(const Checkpoint& c) {
  const TrainerState& s = c.state;
  Writer w;
  w.str(serialize_model(c.model));
  auto doubles = [&](const std::vector<double>& values) {
    w.u64(values.size());
    for (double v : values) w.f64(v);
  };
  w.u32(static_cast<std::uint32_t>(s.epochs_done));
  doubles(s.parameters);
  w.u64(s.optimizer_steps);
  doubles(s.first_moment);
  doubles(s.second_moment);
  w.str(s.shuffle_rng);
  w.str(s.dropout_rng);
  doubles(s.best_parameters);
  w.u32(static_cast<std::uint32_t>(s.best_epoch));
  w.f64(s.best_cost);
  w.u32(static_cast<std::uint32_t>(s.bad_epochs));
  w.u32(static_cast<std::uint32_t>(s.history.size()));
  for (const EpochRecord& r : s.history) {
    w.u32(static_cast<std::uint32_t>(r.epoch));
    w.f64(r.train_cost);
    w.f64(r.validation_cost);
    w.f64(r.validation_accuracy);
    w.f64(r.learning_rate);
    w.f64(r.seconds);
  }
  return seal(checkpoint_magic, w.bytes());
}

Checkpoint parse_checkpoint(const std::string& bytes, const std::string& name) {
  const std::size_t crc_at = unseal(bytes, checkpoint_magic, name, "checkpoint");
  Reader r(bytes, header_size, crc_at, name);
  Checkpoint c;
  c.model = parse_model(r.str("model"), name + " (model inside the checkpoint)");
  auto doubles = [&](const std::string& field, std::vector<double>& values) {
    values.resize(r.count(field, 8, true));
    for (double& v : values) v = r.f64(field);
  };
  TrainerState& s = c.state;
  s.epochs_done = static_cast<int>(r.u32("epochs done"));
  doubles("parameters", s.parameters);
  if (s.parameters.size() != c.model.parameters.size())
    r.fail("parameters", "expected " + std::to_string(c.model.parameters.size()) + " values as in the model");
  s.optimizer_steps = r.u64("optimizer steps");
  doubles("first moment", s.first_moment);
  doubles("second moment", s.second_moment);
  for (const auto* moment : {&s.first_moment, &s.second_moment})
    if (!moment->empty() && moment->size() != s.parameters.size())
      r.fail("optimizer state", "expected " + std::to_string(s.parameters.size()) + " values per moment");
  s.shuffle_rng = r.str("shuffle rng");
  s.dropout_rng = r.str("dropout rng");
  doubles("best parameters", s.best_parameters);
  s.best_epoch = static_cast<int>(r.u32("best epoch"));
  s.best_cost = r.f64("best cost");
  s.bad_epochs = static_cast<int>(r.u32("bad epochs"));
  const std::size_t records = r.count("history", 44);
  for (std::size_t k = 0; k < records; ++k) {
    EpochRecord e;
    e.epoch = static_cast<int>(r.u32("history epoch"));
    e.train_cost = r.f64("history");
    e.validation_cost = r.f64("history");
    e.validation_accuracy = r.f64("history");
    e.learning_rate = r.f64("history");
    e.seconds = r.f64("history");
    s.history.push_back(e);
  }
  if (r.remaining() != 0) r.fail("end of payload", std::to_string(r.remaining()) + " unexpected bytes before the checksum");
  try {
    Rng::restore(s.shuffle_rng);
    Rng::restore(s.dropout_rng);
  } catch (const Error& e) {
    throw Error(name + ": " + e.what());
  }
  return c;
}

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  io::write_file_atomically(path, serialize_checkpoint(checkpoint));
}

Checkpoint load_checkpoint(const std::string& path) {
  return parse_checkpoint(io::read_whole_file(path), path);
}

}  // namespace deepnet
