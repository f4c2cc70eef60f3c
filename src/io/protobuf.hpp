#pragma once
// The protobuf wire format, as much as the ONNX file needs (src/io/onnx.cpp):
// varints, 64-bit and 32-bit fixed fields and length-delimited fields. Written
// from the format's description (protobuf's "Encoding" page); no generated
// code, no schema. Private to the io room (tests may include it).
//
// The reader takes untrusted bytes: every length is checked against the bytes
// left before anything is read, a varint is at most 10 bytes, groups (wire
// types 3 and 4) are refused, and errors name the byte offset in the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace deepnet::io::pb {

enum Wire : int { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

class Writer {
 public:
  void write_varint(std::uint64_t value);
  void tag(int field, Wire wire) { write_varint(static_cast<std::uint64_t>(field) << 3 | static_cast<unsigned>(wire)); }
  // int32 and int64 fields: negative values as their 64-bit two's complement (10 bytes), as protobuf does.
  void int_field(int field, std::int64_t value) {
    tag(field, varint);
    write_varint(static_cast<std::uint64_t>(value));
  }
  void bytes_field(int field, std::string_view bytes) {
    tag(field, length_delimited);
    write_varint(bytes.size());
    out_.append(bytes);
  }
  void message_field(int field, const Writer& message) { bytes_field(field, message.out_); }
  void float_field(int field, float value);
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

// One field as read: its number, wire type, and value (varint, fixed32 and
// fixed64 in `number`; a length-delimited field's bytes in `bytes`).
struct Field {
  int number = 0;
  Wire wire = varint;
  std::uint64_t value = 0;
  std::string_view bytes;
  std::size_t offset = 0;      // the field's tag, as a byte offset in the file
  std::size_t data_offset = 0;  // a length-delimited field's first byte in the file
};

// Reads the fields of one message in order. `base` is the offset of the
// message's first byte in the file; `name` starts every error message
// ("model.onnx: byte 12: ...").
class Reader {
 public:
  // `message` names the message type in errors ("GraphProto").
  Reader(std::string_view bytes, std::size_t base, const std::string& name, const char* message = "the message")
      : data_(bytes), base_(base), name_(&name), message_(message) {}
  // The next field, or false at the end of the message. Throws Error for a
  // malformed field: a truncated varint or length, a length past the end, a
  // group or an unknown wire type, field number 0.
  bool next(Field& field);
  [[noreturn]] void fail(std::size_t file_offset, const std::string& what) const;
  const std::string& name() const { return *name_; }

 private:
  std::uint64_t read_varint(const char* what);

  std::string_view data_;
  std::size_t pos_ = 0;
  std::size_t base_;
  const std::string* name_;
  const char* message_;
};

// A varint field's value as a signed 64-bit integer (int32/int64 fields).
inline std::int64_t as_int(const Field& field) { return static_cast<std::int64_t>(field.value); }

}  // namespace deepnet::io::pb
