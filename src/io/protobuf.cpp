// The protobuf wire format (src/io/protobuf.hpp).
#include "io/protobuf.hpp"

#include <bit>

#include "deepnet/error.hpp"

namespace deepnet::io::pb {

void Writer::write_varint(std::uint64_t value) {
  while (value >= 0x80) {
    out_ += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out_ += static_cast<char>(value);
}

void Writer::float_field(int field, float value) {
  tag(field, fixed32);
  const auto bits = std::bit_cast<std::uint32_t>(value);
  for (int k = 0; k < 4; ++k) out_ += static_cast<char>((bits >> (8 * k)) & 0xff);
}

void Reader::fail(std::size_t file_offset, const std::string& what) const {
  throw Error(*name_ + ": byte " + std::to_string(file_offset) + ": " + what);
}

std::uint64_t Reader::read_varint(const char* what) {
  const std::size_t start = pos_;
  std::uint64_t value = 0;
  for (int k = 0; k < 10; ++k) {
    if (pos_ >= data_.size())
      fail(base_ + start, std::string(message_) + ": the " + what + " (a varint) is cut off by the end of the message (truncated?)");
    const auto byte = static_cast<unsigned char>(data_[pos_++]);
    if (k == 9 && byte > 1) fail(base_ + start, std::string("the ") + what + " is a varint longer than 64 bits");
    value |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * k);
    if (!(byte & 0x80)) return value;
  }
  fail(base_ + start, std::string("the ") + what + " is a varint longer than 10 bytes");
}

bool Reader::next(Field& field) {
  if (pos_ >= data_.size()) return false;
  field = Field{};
  field.offset = base_ + pos_;
  const std::uint64_t key = read_varint("field key");
  const std::uint64_t number = key >> 3;
  if (number == 0 || number > 0x1fffffff) fail(field.offset, std::string(message_) + ": field number " + std::to_string(number) + " is not a valid protobuf field number");
  field.number = static_cast<int>(number);
  const auto wire = static_cast<int>(key & 7);
  switch (wire) {
    case varint:
      field.wire = varint;
      field.value = read_varint("field value");
      return true;
    case fixed64:
    case fixed32: {
      const std::size_t width = wire == fixed64 ? 8 : 4;
      if (data_.size() - pos_ < width)
        fail(field.offset, std::string(message_) + " field " + std::to_string(number) + " needs " + std::to_string(width) + " bytes, but its message has " +
                               std::to_string(data_.size() - pos_) + " left (truncated?)");
      for (std::size_t k = width; k-- > 0;) field.value = field.value << 8 | static_cast<unsigned char>(data_[pos_ + k]);
      pos_ += width;
      field.wire = wire == fixed64 ? fixed64 : fixed32;
      return true;
    }
    case length_delimited: {
      const std::uint64_t length = read_varint("field length");
      if (length > data_.size() - pos_)
        fail(field.offset, std::string(message_) + " field " + std::to_string(number) + " claims " + std::to_string(length) +
                               " bytes, but the message has " + std::to_string(data_.size() - pos_) + " left (truncated?)");
      field.wire = length_delimited;
      field.data_offset = base_ + pos_;
      field.bytes = data_.substr(pos_, static_cast<std::size_t>(length));
      pos_ += static_cast<std::size_t>(length);
      return true;
    }
    default:
      fail(field.offset, std::string(message_) + " field " + std::to_string(number) + " has wire type " + std::to_string(wire) +
                             ", which is not varint (0), fixed64 (1), length-delimited (2) or fixed32 (5)");
  }
}

}  // namespace deepnet::io::pb
