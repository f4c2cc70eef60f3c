// NPY and NPZ: files written by numpy (tests/data/make_npy_fixtures.py fills
// them by formulas that these tests recompute), malformed files built here,
// and archives written by save_npz.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include <stdlib.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "deepnet/array.hpp"
#include "deepnet/error.hpp"

namespace deepnet {
namespace {

using test::message_of;
using test::contains;

namespace fs = std::filesystem;

const std::string kFixtures = std::string(DEEPNET_TEST_DATA_DIR) + "/npy/";

using Shape = std::vector<std::size_t>;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string fixture_bytes(const std::string& name) {
  const std::string bytes = read_bytes(kFixtures + name);
  EXPECT_FALSE(bytes.empty()) << "missing fixture " << name << "; run tests/data/make_npy_fixtures.py";
  return bytes;
}


bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

std::string little_endian_bytes(std::uint64_t value, int width) {
  std::string bytes;
  for (int k = 0; k < width; ++k) bytes += static_cast<char>((value >> (8 * k)) & 0xff);
  return bytes;
}

std::uint64_t little_endian_at(const std::string& bytes, std::size_t at, int width) {
  std::uint64_t value = 0;
  for (int k = width; k-- > 0;) value = value << 8 | static_cast<unsigned char>(bytes.at(at + k));
  return value;
}

void put_little_endian(std::string& bytes, std::size_t at, std::uint64_t value, int width) {
  bytes.replace(at, width, little_endian_bytes(value, width));
}

// Bitwise CRC-32 (the zip polynomial, reflected), independent of zlib.
std::uint32_t crc32_of(const std::string& data) {
  std::uint32_t crc = 0xffffffff;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// An NPY 1.0 file: magic, version, header length, the dict padded as numpy pads it, data.
std::string npy_file(const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  return std::string("\x93NUMPY\x01\x00", 8) + little_endian_bytes(header.size(), 2) + header + data;
}

std::string float64_data(const std::vector<double>& values) {
  std::string data;
  for (double v : values) data += little_endian_bytes(std::bit_cast<std::uint64_t>(v), 8);
  return data;
}

std::string header_with_shape(const std::string& shape, const std::string& descr = "<f8") {
  return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
}

// ---------------------------------------------------------------------------
// NPY files written by numpy

TEST(Npy, Float64InCOrder) {
  const NumericArray a = load_npy(kFixtures + "f8_c_2d.npy");
  EXPECT_EQ(a.dtype, "<f8");
  ASSERT_EQ(a.shape, (Shape{3, 4}));
  ASSERT_EQ(a.values.size(), 12u);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(a.values[i * 4 + j], 10.0 * i + j + 0.25) << i << "," << j;
}

TEST(Npy, Float32InFortranOrderComesBackInCOrder) {
  ASSERT_TRUE(contains(fixture_bytes("f4_fortran_2d.npy"), "'fortran_order': True"));
  const NumericArray a = load_npy(kFixtures + "f4_fortran_2d.npy");
  EXPECT_EQ(a.dtype, "<f4");
  ASSERT_EQ(a.shape, (Shape{3, 5}));
  ASSERT_EQ(a.values.size(), 15u);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 5; ++j) EXPECT_EQ(a.values[i * 5 + j], 10.0 * i + j - 0.5) << i << "," << j;
}

TEST(Npy, ThreeDimensionalFortranOrder) {
  ASSERT_TRUE(contains(fixture_bytes("f8_fortran_3d.npy"), "'fortran_order': True"));
  const NumericArray a = load_npy(kFixtures + "f8_fortran_3d.npy");
  ASSERT_EQ(a.shape, (Shape{2, 3, 4}));
  ASSERT_EQ(a.values.size(), 24u);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) EXPECT_EQ(a.values[(i * 3 + j) * 4 + k], 100.0 * i + 10 * j + k);
}

TEST(Npy, BigEndianInt16) {
  const NumericArray a = load_npy(kFixtures + "i2_big_endian.npy");
  EXPECT_EQ(a.dtype, ">i2");
  ASSERT_EQ(a.shape, (Shape{2, 3}));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(a.values[i * 3 + j], 1000.0 * i - 300 * j);
}

TEST(Npy, Uint8ImagesInMHWCLayout) {
  const NumericArray a = load_npy(kFixtures + "u1_images.npy");
  EXPECT_EQ(a.dtype, "|u1");
  ASSERT_EQ(a.shape, (Shape{3, 4, 4, 3}));
  ASSERT_EQ(a.values.size(), 144u);
  for (int m = 0; m < 3; ++m)
    for (int h = 0; h < 4; ++h)
      for (int w = 0; w < 4; ++w)
        for (int c = 0; c < 3; ++c)
          EXPECT_EQ(a.values[((m * 4 + h) * 4 + w) * 3 + c], 64.0 * m + 16 * h + 4 * w + c);
}

TEST(Npy, BoolAsZeroAndOne) {
  const NumericArray a = load_npy(kFixtures + "b1.npy");
  EXPECT_EQ(a.dtype, "|b1");
  ASSERT_EQ(a.shape, (Shape{2, 3}));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(a.values[i * 3 + j], (i + j) % 2 == 0 ? 1.0 : 0.0);
}

TEST(Npy, Float16IncludingSubnormalsInfinitiesAndNan) {
  const NumericArray a = load_npy(kFixtures + "f2.npy");
  EXPECT_EQ(a.dtype, "<f2");
  ASSERT_EQ(a.shape, (Shape{10}));
  EXPECT_EQ(a.values[0], 0.0);
  EXPECT_FALSE(std::signbit(a.values[0]));
  EXPECT_EQ(a.values[1], 0.0);
  EXPECT_TRUE(std::signbit(a.values[1]));
  EXPECT_EQ(a.values[2], 1.0);
  EXPECT_EQ(a.values[3], -2.5);
  EXPECT_EQ(a.values[4], 65504.0);               // (2 - 2^-10) * 2^15, the largest half
  EXPECT_EQ(a.values[5], std::ldexp(1.0, -14));  // the smallest normal half
  EXPECT_EQ(a.values[6], std::ldexp(1.0, -24));  // the smallest subnormal half
  EXPECT_EQ(a.values[7], std::numeric_limits<double>::infinity());
  EXPECT_EQ(a.values[8], -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(a.values[9]));
}

TEST(Npy, Int64Labels) {
  const NumericArray a = load_npy(kFixtures + "i8_labels.npy");
  EXPECT_EQ(a.dtype, "<i8");
  ASSERT_EQ(a.shape, (Shape{10}));
  for (int k = 0; k < 10; ++k) EXPECT_EQ(a.values[k], k % 3);
}

TEST(Npy, ScalarHasEmptyShapeAndOneValue) {
  const NumericArray a = load_npy(kFixtures + "scalar.npy");
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(a.values, (std::vector<double>{3.25}));
}

TEST(Npy, EmptyArrayKeepsItsShape) {
  const NumericArray a = load_npy(kFixtures + "empty.npy");
  EXPECT_EQ(a.dtype, "<f4");
  EXPECT_EQ(a.shape, (Shape{0, 3}));
  EXPECT_TRUE(a.values.empty());
}

TEST(Npy, FormatVersions2And3) {
  ASSERT_EQ(fixture_bytes("v2.npy").at(6), 2);
  ASSERT_EQ(fixture_bytes("v3.npy").at(6), 3);
  const NumericArray v2 = load_npy(kFixtures + "v2.npy");
  EXPECT_EQ(v2.dtype, "<i4");
  EXPECT_EQ(v2.shape, (Shape{2, 2}));
  EXPECT_EQ(v2.values, (std::vector<double>{-1, 2147483647, -2147483648.0, 7}));
  const NumericArray v3 = load_npy(kFixtures + "v3.npy");
  EXPECT_EQ(v3.dtype, "<u2");
  EXPECT_EQ(v3.values, (std::vector<double>{0, 1, 65535}));
}

TEST(Npy, ParseNpyReadsBytesAsLoadNpyReadsTheFile) {
  const NumericArray parsed = parse_npy(fixture_bytes("f4_fortran_2d.npy"), "bytes");
  const NumericArray loaded = load_npy(kFixtures + "f4_fortran_2d.npy");
  EXPECT_EQ(parsed.shape, loaded.shape);
  EXPECT_EQ(parsed.values, loaded.values);
  EXPECT_EQ(parsed.dtype, loaded.dtype);
}

TEST(Npy, NativeByteOrderMark) {
  std::string bytes = fixture_bytes("f8_c_2d.npy");
  const std::size_t at = bytes.find("'<f8'");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] = '=';
  const NumericArray a = parse_npy(bytes, "native.npy");
  EXPECT_EQ(a.dtype, "=f8");
  EXPECT_EQ(a.values, load_npy(kFixtures + "f8_c_2d.npy").values);
}

TEST(Npy, OtherWritersHeaderSpellings) {
  // double quotes, keys in another order, no trailing comma, Python 2 longs
  const std::string data = little_endian_bytes(5, 4) + little_endian_bytes(static_cast<std::uint32_t>(-6), 4);
  const NumericArray a = parse_npy(
      npy_file("{\"descr\": \"<i4\", \"shape\": (2L, 1L), \"fortran_order\": False}", data), "x.npy");
  EXPECT_EQ(a.shape, (Shape{2, 1}));
  EXPECT_EQ(a.values, (std::vector<double>{5, -6}));
}

// ---------------------------------------------------------------------------
// Malformed NPY

TEST(NpyErrors, MissingFileNamesThePath) {
  const std::string path = kFixtures + "no-such-file.npy";
  EXPECT_EQ(message_of([&] { load_npy(path); }), path + ": cannot open the file for reading");
}

TEST(NpyErrors, BadMagicAndUnsupportedVersion) {
  std::string bytes = fixture_bytes("f8_c_2d.npy");
  bytes[0] = 'X';
  EXPECT_EQ(message_of([&] { parse_npy(bytes, "bad.npy"); }),
            "bad.npy: byte 0: expected the NPY magic string \\x93NUMPY, found 'X'; this is not an NPY file");
  EXPECT_EQ(message_of([] { parse_npy("a,b\n1,2\n", "data.csv"); }),
            "data.csv: byte 0: expected the NPY magic string \\x93NUMPY, found 'a'; this is not an NPY file");
  bytes = fixture_bytes("f8_c_2d.npy");
  bytes[6] = 4;
  EXPECT_EQ(message_of([&] { parse_npy(bytes, "v4.npy"); }),
            "v4.npy: byte 6: NPY format version 4.0 is not supported; expected 1.0, 2.0 or 3.0");
}

TEST(NpyErrors, TruncatedAtEveryLength) {
  const std::string bytes = fixture_bytes("f8_c_2d.npy");
  ASSERT_EQ(bytes.size(), 128u + 96u);  // 128-byte header, 3 x 4 float64
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const std::string message = message_of([&] { parse_npy(bytes.substr(0, n), "cut.npy"); });
    EXPECT_TRUE(starts_with(message, "cut.npy: byte ")) << n << ": " << message;
  }
  EXPECT_EQ(message_of([&] { parse_npy(bytes.substr(0, 3), "cut.npy"); }),
            "cut.npy: byte 3: the file ends inside the NPY magic string \\x93NUMPY; it is truncated or not "
            "an NPY file");
  EXPECT_EQ(message_of([&] { parse_npy(bytes.substr(0, 9), "cut.npy"); }),
            "cut.npy: byte 8: expected the 2-byte header length, found the end of the file");
  EXPECT_EQ(message_of([&] { parse_npy(bytes.substr(0, 100), "cut.npy"); }),
            "cut.npy: byte 8: the header length is 118 bytes, but only 90 bytes follow; "
            "the file is truncated or the length is corrupt");
  EXPECT_EQ(message_of([&] { parse_npy(bytes.substr(0, 200), "cut.npy"); }),
            "cut.npy: byte 128: expected 96 bytes of array data (shape (3, 4) of '<f8'), found 72; "
            "the file is truncated");
}

TEST(NpyErrors, BytesAfterTheData) {
  const std::string bytes = fixture_bytes("f8_c_2d.npy") + "xyz";
  EXPECT_EQ(message_of([&] { parse_npy(bytes, "long.npy"); }),
            "long.npy: byte 224: expected the end of the file after the array data (shape (3, 4) of '<f8'), "
            "found 3 more bytes");
}

TEST(NpyErrors, HeaderLengthPastTheEnd) {
  std::string v1 = fixture_bytes("f8_c_2d.npy");
  put_little_endian(v1, 8, 0xffff, 2);
  EXPECT_EQ(message_of([&] { parse_npy(v1, "h.npy"); }),
            "h.npy: byte 8: the header length is 65535 bytes, but only 214 bytes follow; "
            "the file is truncated or the length is corrupt");
  std::string v2 = fixture_bytes("v2.npy");
  put_little_endian(v2, 8, 0xffffffff, 4);
  EXPECT_TRUE(starts_with(message_of([&] { parse_npy(v2, "h.npy"); }),
                          "h.npy: byte 8: the header length is 4294967295 bytes, but only "));
}

TEST(NpyErrors, MalformedHeaderDicts) {
  const std::string tail = "'fortran_order': False, 'shape': (3,), }";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"'descr': '<f8', " + tail, "header: expected '{', the start of the header dict, found '''"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), ",
       "expected a quoted key or '}', found the end of the header"},
      {"{'descr': '<f8', 'fortran_order': False}",
       "header: no 'shape' key; expected the keys 'descr', 'fortran_order' and 'shape'"},
      {"{'descr': '<f8', " + tail.substr(0, tail.size() - 1) + "'extra': 1}",
       "header: unexpected key 'extra'; expected only 'descr', 'fortran_order' and 'shape'"},
      {"{'descr': '<f8', 'descr': '<f4', " + tail, "header: the key 'descr' appears twice"},
      {"{'descr': '<f8', 'fortran_order': 0, 'shape': (3,)}",
       "expected True or False for 'fortran_order', found '0'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': [3]}",
       "expected a tuple such as (3, 4) for 'shape', found '['"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (3, x)}",
       "expected a dimension (a non-negative integer) in 'shape', found 'x'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (3 4)}",
       "expected ',' or ')' in the 'shape' tuple, found '4'"},
      {"{'descr': 8, " + tail, "expected a dtype string such as '<f8' for 'descr', found '8'"},
      {"{'descr': \"<f8}", "expected the closing \" of the string, found the end of the header"},
      {"{'descr': '<f\\x38', " + tail, "expected a string without backslash escapes, found '\\'"},
      {"{'descr': '<f8' 'fortran_order': False}",
       "expected ',' or '}' after the value of 'descr', found '''"},
      {"{'descr': '<f8', " + tail + " x",
       "expected only spaces after the closing '}' of the header, found 'x'"},
      {"{'descr': '<f8', \x01" + tail, "expected a quoted key or '}', found '\\x01'"},
  };
  for (const auto& [dict, expected] : cases) {
    const std::string file = npy_file(dict, float64_data({1, 2, 3}));
    const std::string message = message_of([&] { parse_npy(file, "m.npy"); });
    EXPECT_TRUE(starts_with(message, "m.npy: ")) << message;
    EXPECT_TRUE(contains(message, expected))
        << dict << "\n  gave: " << message << "\n  expected: " << expected;
  }
  // syntax errors name the byte in the file: 10 bytes of magic, version and length come first
  const std::string dict = "{'descr': '<f8', 'fortran_order': 0, 'shape': (3,)}";
  EXPECT_TRUE(starts_with(message_of([&] { parse_npy(npy_file(dict, ""), "m.npy"); }),
                          "m.npy: byte " + std::to_string(10 + dict.find('0')) + ": header: "));
}

TEST(NpyErrors, NegativeAbsurdAndOverflowingShapes) {
  const auto message_for = [](const std::string& shape, const std::string& data = "") {
    return message_of([&] { parse_npy(npy_file(header_with_shape(shape), data), "s.npy"); });
  };
  EXPECT_EQ(message_for("(-3,)"),
            "s.npy: header: 'shape' has the negative dimension -3; expected sizes >= 0");
  EXPECT_EQ(message_for("(99999999999999999999999,)"),
            "s.npy: header: 'shape' has the dimension 99999999999999999999999, which is too large");
  EXPECT_EQ(message_for("(1000000000000, 1000000000000)"),
            "s.npy: header: 'shape' (1000000000000, 1000000000000) has more elements than can be addressed "
            "in memory");
  // 2^61 float64 elements: the count fits in 64 bits, their bytes do not
  EXPECT_EQ(
      message_for("(2305843009213693952,)"),
      "s.npy: header: 'shape' (2305843009213693952,) has more elements than can be addressed in memory");
  // Claimed sizes are checked against the bytes present before anything is allocated.
  EXPECT_TRUE(
      contains(message_for("(1000000000000,)", float64_data({1, 2})),
               ": expected 8000000000000 bytes of array data (shape (1000000000000,) of '<f8'), found 16; "
               "the file is truncated"));
  std::string many = "(";
  for (int k = 0; k < 65; ++k) many += "1, ";
  EXPECT_EQ(message_for(many + ")"),
            "s.npy: header: 'shape' has more than 64 dimensions, the most numpy allows");
  // a zero dimension makes the array empty whatever the others are
  const NumericArray empty = parse_npy(npy_file(header_with_shape("(0, 99999999999999)"), ""), "s.npy");
  EXPECT_EQ(empty.shape, (Shape{0, 99999999999999}));
  EXPECT_TRUE(empty.values.empty());
}

TEST(NpyErrors, UnsupportedDtypesAreNamed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"<c16", "'<c16' (complex numbers)"},
      {"|O", "'|O' (Python objects)"},
      {"<U5", "'<U5' (strings)"},
      {"|S3", "'|S3' (strings)"},
      {"|V8", "'|V8' (raw bytes or a structured type)"},
      {"<M8[ns]", "'<M8[ns]' (dates or times)"},
      {"<f16", "'<f16'"},
      {"<i3", "'<i3'"},
      {"|b2", "'|b2'"},
      {"", "''"},
      {"f", "'f'"},
      {"<f8x", "'<f8x'"},
  };
  for (const auto& [descr, named] : cases) {
    const std::string file = npy_file(header_with_shape("(1,)", descr), std::string(16, '\0'));
    const std::string message = message_of([&] { parse_npy(file, "d.npy"); });
    EXPECT_EQ(message,
              "d.npy: header: 'descr' is " + named +
                  ", which is not supported; expected bool, int8-64, uint8-64 or float16/32/64 (e.g. '<f8')");
  }
  EXPECT_EQ(message_of([] {
              parse_npy(
                  npy_file("{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }",
                           std::string(12, '\0')),
                  "d.npy");
            }),
            "d.npy: header: 'descr' is a list of fields (a structured dtype), which is not supported; "
            "expected a plain numeric dtype such as '<f8'");
}

// A corrupted copy: a few bytes overwritten, one inserted, or the end cut off.
std::string mutated(std::string bytes, std::mt19937& rng) {
  const auto position = [&] { return std::uniform_int_distribution<std::size_t>(0, bytes.size() - 1)(rng); };
  const auto byte = [&] { return static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng)); };
  switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
    case 0:
      bytes[position()] = byte();
      break;
    case 1:
      for (int k = 0; k < 4; ++k) bytes[position()] = k % 2 ? '\xff' : byte();
      break;
    case 2:
      bytes.insert(position(), 1, byte());
      break;
    default:
      bytes.resize(position());
  }
  return bytes;
}

TEST(NpyErrors, CorruptedFilesGiveErrorsNotCrashes) {
  std::mt19937 rng(20240601);
  for (const char* name : {"f8_c_2d.npy", "f4_fortran_2d.npy", "f8_fortran_3d.npy", "u1_images.npy", "f2.npy",
                           "i2_big_endian.npy", "scalar.npy", "v2.npy"}) {
    const std::string bytes = fixture_bytes(name);
    for (int trial = 0; trial < 1500; ++trial) {
      const std::string input = mutated(bytes, rng);
      try {
        const NumericArray a = parse_npy(input, name);
        EXPECT_EQ(a.values.size(), a.size()) << name << " trial " << trial;
      } catch (const Error& e) {
        EXPECT_TRUE(starts_with(e.what(), std::string(name) + ": ")) << e.what();
      }
    }
  }
}

// ---------------------------------------------------------------------------
// NPZ

class Npz : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "deepnet-npy-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }

  fs::path dir_;
};

std::size_t central_directory_at(const std::string& zip) { return zip.find("PK\x01\x02"); }
std::size_t end_record_at(const std::string& zip) { return zip.rfind("PK\x05\x06"); }
// The first member's data: after its 30-byte local header, name and extra field.
std::size_t first_member_data_at(const std::string& zip) {
  return 30 + little_endian_at(zip, 26, 2) + little_endian_at(zip, 28, 2);
}

TEST_F(Npz, SavezKeysAndArrays) {
  const std::string file = kFixtures + "savez.npz";
  EXPECT_EQ(npz_keys(file), (std::vector<std::string>{"X", "y"}));
  const NumericArray X = load_npz_array(file, "X");
  EXPECT_EQ(X.dtype, "<f8");
  ASSERT_EQ(X.shape, (Shape{2, 3}));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(X.values[i * 3 + j], 10.0 * i + j);
  const NumericArray y = load_npz_array(file, "y");
  EXPECT_EQ(y.dtype, "<i8");
  EXPECT_EQ(y.shape, (Shape{3}));
  EXPECT_EQ(y.values, (std::vector<double>{0, 1, 0}));
  // numpy.load also takes the member's full name
  EXPECT_EQ(load_npz_array(file, "X.npy").values, X.values);
}

TEST_F(Npz, SavezCompressedIsDeflated) {
  const std::string file = kFixtures + "compressed.npz";
  ASSERT_EQ(little_endian_at(fixture_bytes("compressed.npz"), 8, 2), 8u);  // method 8: deflate
  EXPECT_EQ(npz_keys(file), (std::vector<std::string>{"X", "y"}));
  const NumericArray X = load_npz_array(file, "X");
  EXPECT_EQ(X.dtype, "<f4");
  ASSERT_EQ(X.shape, (Shape{4, 5}));
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 5; ++j) EXPECT_EQ(X.values[i * 5 + j], 10.0 * i + j);
  const NumericArray y = load_npz_array(file, "y");
  EXPECT_EQ(y.dtype, "|u1");
  EXPECT_EQ(y.values, (std::vector<double>{0, 1, 0, 1, 0}));
}

TEST_F(Npz, IntegerTypesAtTheirExtremes) {
  const std::string file = kFixtures + "int_types.npz";
  EXPECT_EQ(npz_keys(file), (std::vector<std::string>{"i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"}));
  const auto values = [&](const std::string& key) { return load_npz_array(file, key).values; };
  using V = std::vector<double>;
  EXPECT_EQ(values("i1"), (V{-128, -1, 0, 1, 127}));
  EXPECT_EQ(values("i2"), (V{-32768, -1, 0, 1, 32767}));
  EXPECT_EQ(values("i4"), (V{-2147483648.0, -1, 0, 1, 2147483647}));
  EXPECT_EQ(values("i8"), (V{-std::ldexp(1.0, 63), -1, 0, 1,
                             static_cast<double>(std::numeric_limits<std::int64_t>::max())}));
  EXPECT_EQ(values("u1"), (V{0, 1, 255}));
  EXPECT_EQ(values("u2"), (V{0, 1, 65535}));
  EXPECT_EQ(values("u4"), (V{0, 1, 4294967295.0}));
  EXPECT_EQ(values("u8"), (V{0, 1, static_cast<double>(std::numeric_limits<std::uint64_t>::max())}));
  EXPECT_EQ(load_npz_array(file, "u8").dtype, "<u8");
}

TEST_F(Npz, BigEndianFloatsAndIntegers) {
  const std::string file = kFixtures + "big_endian.npz";
  using V = std::vector<double>;
  const NumericArray f2 = load_npz_array(file, "f2");
  EXPECT_EQ(f2.dtype, ">f2");
  EXPECT_EQ(f2.values, (V{1.5, -2.0}));
  EXPECT_EQ(load_npz_array(file, "f4").values, (V{1.5, -2.25, 0.125}));
  EXPECT_EQ(load_npz_array(file, "f8").values, (V{1.5, -2.25, 1e300, 0.1}));
  EXPECT_EQ(load_npz_array(file, "u4").values, (V{0, 1, 4294967295.0}));
  EXPECT_EQ(load_npz_array(file, "i8").values,
            (V{-std::ldexp(1.0, 63), -1, static_cast<double>(std::int64_t{0x0102030405060708})}));
}

TEST_F(Npz, MissingKeyListsTheKeys) {
  const std::string file = kFixtures + "savez.npz";
  EXPECT_EQ(message_of([&] { load_npz_array(file, "W3"); }),
            file + ": no array named 'W3'; the archive has: X, y");
}

TEST_F(Npz, MissingFileAndNonZipFiles) {
  const std::string missing = path("absent.npz");
  EXPECT_EQ(message_of([&] { npz_keys(missing); }), missing + ": cannot open the file for reading");
  const std::string npy = kFixtures + "f8_c_2d.npy";
  EXPECT_EQ(message_of([&] { npz_keys(npy); }),
            npy +
                ": not a zip archive (no end-of-central-directory record); expected an NPZ file "
                "(this is an NPY file, for load_npy)");
  const std::string empty = write("empty.npz", "");
  EXPECT_TRUE(contains(message_of([&] { load_npz_array(empty, "X"); }), "not a zip archive"));
}

TEST_F(Npz, CrcMismatchNamesTheMember) {
  std::string bytes = fixture_bytes("savez.npz");
  bytes[first_member_data_at(bytes) + 150] ^= 0x01;  // inside X's float64 data
  const std::string file = write("crc.npz", bytes);
  const std::string message = message_of([&] { load_npz_array(file, "X"); });
  EXPECT_TRUE(starts_with(message, file + ": member 'X.npy': CRC-32 mismatch: the archive records 0x"))
      << message;
  EXPECT_TRUE(contains(message, "; the file is corrupt"));
  EXPECT_EQ(load_npz_array(file, "y").values, (std::vector<double>{0, 1, 0}));  // the other member is intact
}

TEST_F(Npz, CorruptOrMisSizedDeflateData) {
  const std::string original = fixture_bytes("compressed.npz");
  std::string bytes = original;
  const std::size_t data = first_member_data_at(bytes);
  for (std::size_t k = 10; k < 30; ++k) bytes[data + k] = '\xff';
  std::string file = write("corrupt.npz", bytes);
  EXPECT_TRUE(starts_with(message_of([&] { load_npz_array(file, "X"); }), file + ": member 'X.npy': "));

  const std::size_t size_field = central_directory_at(original) + 24;
  const std::uint64_t size = little_endian_at(original, size_field, 4);
  bytes = original;
  put_little_endian(bytes, size_field, size - 1, 4);
  file = write("short.npz", bytes);
  EXPECT_EQ(message_of([&] { load_npz_array(file, "X"); }),
            file + ": member 'X.npy': decompresses to more than the " + std::to_string(size - 1) +
                " bytes the archive records");
  bytes = original;
  put_little_endian(bytes, size_field, size + 1, 4);
  file = write("long.npz", bytes);
  EXPECT_EQ(message_of([&] { load_npz_array(file, "X"); }),
            file + ": member 'X.npy': decompresses to " + std::to_string(size) +
                " bytes, but the archive records " + std::to_string(size + 1));
}

TEST_F(Npz, DirectoryFieldsPointingOutside) {
  const std::string original = fixture_bytes("savez.npz");
  const std::size_t entry = central_directory_at(original), end = end_record_at(original);

  std::string bytes = original;
  put_little_endian(bytes, entry + 42, 0x7fffffff, 4);  // X's local header offset
  std::string file = write("offset.npz", bytes);
  EXPECT_EQ(message_of([&] { load_npz_array(file, "X"); }),
            file + ": member 'X.npy': byte 2147483647: the local header lies past the end of the file (" +
                std::to_string(original.size()) + " bytes)");

  bytes = original;
  put_little_endian(bytes, entry + 20, 0x10000, 4);  // X's stored size, both fields
  put_little_endian(bytes, entry + 24, 0x10000, 4);
  file = write("size.npz", bytes);
  EXPECT_TRUE(contains(message_of([&] { load_npz_array(file, "X"); }),
                       ": the member's 65536 bytes of data run past the end of the file"));

  bytes = original;
  put_little_endian(bytes, end + 16, 0x7fff0000, 4);  // the central directory's offset
  file = write("directory.npz", bytes);
  EXPECT_TRUE(contains(message_of([&] { npz_keys(file); }), "lies past the end of the file"));

  bytes = original;
  put_little_endian(bytes, end + 8, 0xfffe, 2);  // member counts
  put_little_endian(bytes, end + 10, 0xfffe, 2);
  file = write("count.npz", bytes);
  EXPECT_TRUE(
      contains(message_of([&] { npz_keys(file); }), "the archive claims 65534 members, more than its"));
}

TEST_F(Npz, UnsupportedMethodAndEncryption) {
  const std::string original = fixture_bytes("savez.npz");
  const std::size_t entry = central_directory_at(original);
  std::string bytes = original;
  put_little_endian(bytes, entry + 10, 12, 2);  // bzip2
  std::string file = write("bzip2.npz", bytes);
  EXPECT_EQ(
      message_of([&] { load_npz_array(file, "X"); }),
      file + ": member 'X.npy': compression method 12 is not supported; expected 0 (stored) or 8 (deflate)");
  bytes = original;
  put_little_endian(bytes, entry + 8, 1, 2);
  file = write("encrypted.npz", bytes);
  EXPECT_EQ(message_of([&] { load_npz_array(file, "X"); }),
            file + ": member 'X.npy': is encrypted; expected an unencrypted NPZ");
}

TEST_F(Npz, TruncatedAtEveryLength) {
  const std::string bytes = fixture_bytes("savez.npz");
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const std::string file = write("cut.npz", bytes.substr(0, n));
    const std::string message = message_of([&] { load_npz_array(file, "X"); });
    EXPECT_TRUE(starts_with(message, file + ": ")) << n << ": " << message;
  }
}

TEST_F(Npz, CorruptedArchivesGiveErrorsNotCrashes) {
  std::mt19937 rng(7);
  for (const char* name : {"savez.npz", "compressed.npz", "int_types.npz"}) {
    const std::string bytes = fixture_bytes(name);
    for (int trial = 0; trial < 400; ++trial) {
      const std::string file = write("mutated.npz", mutated(bytes, rng));
      try {
        for (const std::string& key : npz_keys(file)) {
          const NumericArray a = load_npz_array(file, key);
          EXPECT_EQ(a.values.size(), a.size());
        }
      } catch (const Error& e) {
        EXPECT_TRUE(starts_with(e.what(), file + ": ")) << e.what();
      }
    }
  }
}

// One stored member with every size and offset in ZIP64 fields, as zip
// writers store members of 4 GiB and more (APPNOTE 4.3.14-4.3.15, 4.5.3).
std::string zip64_archive(const std::string& name, const std::string& content, bool short_extra = false) {
  const auto le = little_endian_bytes;
  const std::uint64_t size = content.size();
  const std::uint32_t crc = crc32_of(content);
  std::string zip = "PK\x03\x04" + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0x21, 2) + le(crc, 4) +
                    le(0xffffffff, 4) + le(0xffffffff, 4) + le(name.size(), 2) + le(20, 2) + name + le(1, 2) +
                    le(16, 2) + le(size, 8) + le(size, 8) + content;
  const std::string extra = short_extra ? le(1, 2) + le(16, 2) + le(size, 8) + le(size, 8)
                                        : le(1, 2) + le(24, 2) + le(size, 8) + le(size, 8) + le(0, 8);
  const std::string directory = "PK\x01\x02" + le(0x032d, 2) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 2) +
                                le(0x21, 2) + le(crc, 4) + le(0xffffffff, 4) + le(0xffffffff, 4) +
                                le(name.size(), 2) + le(extra.size(), 2) + le(0, 2) + le(0, 2) + le(0, 2) +
                                le(0, 4) + le(0xffffffff, 4) + name + extra;
  const std::uint64_t directory_offset = zip.size();
  zip += directory;
  const std::uint64_t record_offset = zip.size();
  zip += "PK\x06\x06" + le(44, 8) + le(0x032d, 2) + le(45, 2) + le(0, 4) + le(0, 4) + le(1, 8) + le(1, 8) +
         le(directory.size(), 8) + le(directory_offset, 8);
  zip += "PK\x06\x07" + le(0, 4) + le(record_offset, 8) + le(1, 4);
  zip += "PK\x05\x06" + le(0, 2) + le(0, 2) + le(0xffff, 2) + le(0xffff, 2) + le(0xffffffff, 4) +
         le(0xffffffff, 4) + le(0, 2);
  return zip;
}

TEST_F(Npz, Zip64RecordsAndExtraFields) {
  const std::string npy = npy_file(header_with_shape("(2,)"), float64_data({1.5, -4}));
  const std::string file = write("zip64.npz", zip64_archive("w.npy", npy));
  EXPECT_EQ(npz_keys(file), (std::vector<std::string>{"w"}));
  EXPECT_EQ(load_npz_array(file, "w").values, (std::vector<double>{1.5, -4}));
  const std::string broken = write("short-extra.npz", zip64_archive("w.npy", npy, true));
  EXPECT_TRUE(contains(message_of([&] { npz_keys(broken); }),
                       "central directory entry 1: the ZIP64 extra field is too short"));
}

// ---------------------------------------------------------------------------
// save_npz

NumericArray array_of(Shape shape, std::vector<double> values, std::string dtype = "") {
  NumericArray a;
  a.shape = std::move(shape);
  a.values = std::move(values);
  a.dtype = std::move(dtype);
  return a;
}

TEST_F(Npz, SaveThenLoadKeepsKeysShapesValuesAndTypes) {
  std::vector<double> w1, t;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) w1.push_back(10 * i + j + 0.125);
  for (int k = 0; k < 8; ++k) t.push_back(k - 3.5);
  const std::string file = path("params.npz");
  save_npz(file, {{"W1", array_of({2, 3}, w1)},
                  {"b1", array_of({2, 1}, {0.1, -3}, "<f4")},
                  {"s", array_of({}, {2.5}, "<f8")},
                  {"t", array_of({2, 2, 2}, t)},
                  {"none", array_of({0, 4}, {})}});
  EXPECT_EQ(npz_keys(file), (std::vector<std::string>{"W1", "b1", "s", "t", "none"}));
  const NumericArray W1 = load_npz_array(file, "W1");
  EXPECT_EQ(W1.dtype, "<f8");  // the default
  EXPECT_EQ(W1.shape, (Shape{2, 3}));
  EXPECT_EQ(W1.values, w1);
  const NumericArray b1 = load_npz_array(file, "b1");
  EXPECT_EQ(b1.dtype, "<f4");
  EXPECT_EQ(b1.shape, (Shape{2, 1}));
  EXPECT_EQ(b1.values, (std::vector<double>{static_cast<double>(0.1f), -3}));
  const NumericArray s = load_npz_array(file, "s");
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(s.values, (std::vector<double>{2.5}));
  EXPECT_EQ(load_npz_array(file, "t").shape, (Shape{2, 2, 2}));
  EXPECT_EQ(load_npz_array(file, "t").values, t);
  EXPECT_EQ(load_npz_array(file, "none").shape, (Shape{0, 4}));
}

TEST_F(Npz, SavedMembersAreStoredAndByteIdenticalToNumpys) {
  std::vector<double> x;  // X of savez.npz: 10*i + j, shape (2, 3), float64
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) x.push_back(10 * i + j);
  const std::string file = path("layout.npz");
  save_npz(file, {{"X", array_of({2, 3}, x)}});
  const std::string bytes = read_bytes(file);
  ASSERT_EQ(bytes.substr(0, 4), "PK\x03\x04");
  EXPECT_EQ(little_endian_at(bytes, 8, 2), 0u);  // stored
  EXPECT_EQ(bytes.substr(30, 5), "X.npy");
  const std::string npy = bytes.substr(first_member_data_at(bytes), little_endian_at(bytes, 18, 4));
  EXPECT_EQ(little_endian_at(bytes, 14, 4), crc32_of(npy));
  const std::string numpy_zip = fixture_bytes("savez.npz");
  const std::string numpys =
      numpy_zip.substr(first_member_data_at(numpy_zip), little_endian_at(numpy_zip, 18, 4));
  EXPECT_EQ(npy, numpys);
  // the same arrays give the same bytes
  save_npz(path("again.npz"), {{"X", array_of({2, 3}, x)}});
  EXPECT_EQ(read_bytes(path("again.npz")), bytes);
}

TEST_F(Npz, SaveRejectsBadArraysAndKeepsTheOldFile) {
  const std::string file = path("keep.npz");
  save_npz(file, {{"ok", array_of({1}, {1})}});
  const std::string before = read_bytes(file);
  EXPECT_EQ(message_of([&] {
              save_npz(file, {{"W", array_of({1}, {1}, "<i4")}});
            }),
            file + ": array 'W': dtype '<i4' cannot be saved; expected '<f4' or '<f8'");
  EXPECT_EQ(message_of([&] {
              save_npz(file, {{"W", array_of({2, 3}, {1, 2, 3, 4, 5})}});
            }),
            file + ": array 'W': has 5 values, but its shape (2, 3) needs 6");
  EXPECT_EQ(message_of([&] {
              save_npz(file, {{"W", array_of({1}, {1})}, {"W", array_of({1}, {2})}});
            }),
            file + ": array 'W': the key appears twice; keys must be unique");
  EXPECT_EQ(message_of([&] {
              save_npz(file, {{"", array_of({1}, {1})}});
            }),
            file + ": an array with an empty key; every array needs a name");
  EXPECT_EQ(read_bytes(file), before);
  const std::string unwritable = (dir_ / "no-such-dir" / "x.npz").string();
  EXPECT_TRUE(starts_with(message_of([&] {
                            save_npz(unwritable, {{"W", array_of({1}, {1})}});
                          }),
                          unwritable + ": "));
}

TEST_F(Npz, SaveEmptyArchiveAndNonAsciiKeys) {
  const std::string empty = path("empty.npz");
  save_npz(empty, {});
  EXPECT_TRUE(npz_keys(empty).empty());
  EXPECT_EQ(message_of([&] { load_npz_array(empty, "X"); }),
            empty + ": no array named 'X'; the archive is empty");
  const std::string file = path("utf8.npz");
  save_npz(file, {{"gr\xc3\xb6\xc3\x9f"
                   "e",
                   array_of({1}, {7})}});
  EXPECT_EQ(little_endian_at(read_bytes(file), 6, 2), 0x800u);  // the UTF-8 name flag
  EXPECT_EQ(npz_keys(file), (std::vector<std::string>{"gr\xc3\xb6\xc3\x9f"
                                                      "e"}));
  EXPECT_EQ(load_npz_array(file,
                           "gr\xc3\xb6\xc3\x9f"
                           "e")
                .values,
            (std::vector<double>{7}));
}

// ---------------------------------------------------------------------------
// String arrays and gzip-compressed NPY

TEST(Npy, GzipCompressedNpyLoadsAsThePlainFile) {
  const NumericArray packed = load_npy(kFixtures + "f8_c_2d.npy.gz");
  const NumericArray plain = load_npy(kFixtures + "f8_c_2d.npy");
  EXPECT_EQ(packed.shape, plain.shape);
  EXPECT_EQ(packed.values, plain.values);
  EXPECT_EQ(packed.dtype, "<f8");
}

TEST_F(Npz, GzipCompressedNpyErrorsNameTheFile) {
  const std::string packed = fixture_bytes("f8_c_2d.npy.gz");
  const std::string cut = write("cut.npy.gz", packed.substr(0, packed.size() / 2));
  EXPECT_TRUE(starts_with(message_of([&] { load_npy(cut); }), cut + ": ")) << message_of([&] { load_npy(cut); });
}

TEST_F(Npz, NumpysStringArraysReadAsUtf8) {
  const std::string file = kFixtures + "strings.npz";
  const StringArray names = load_npz_strings(file, "names");
  EXPECT_EQ(names.shape, (Shape{4}));
  EXPECT_EQ(names.values, (std::vector<std::string>{"benign", "malignant", "gr\xc3\xb6\xc3\x9f" "e \xe2\x9c\x93", ""}));
  EXPECT_EQ(load_npz_strings(file, "big").values, (std::vector<std::string>{"ab", "c"}));
  const StringArray fortran = load_npz_strings(file, "fortran");
  EXPECT_EQ(fortran.shape, (Shape{2, 3}));
  EXPECT_EQ(fortran.values, (std::vector<std::string>{"a", "bb", "ccc", "dd", "e", ""}));
  EXPECT_EQ(load_npz_strings(file, "raw").values, (std::vector<std::string>{"xy", "z"}));
  const StringArray scalar = load_npz_strings(file, "scalar");
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(scalar.values, (std::vector<std::string>{"standard"}));
  // Numbers are not strings, and strings are not numbers: each reader says what it expected.
  EXPECT_TRUE(contains(message_of([&] { load_npz_strings(file, "numbers"); }),
                       file + ": member 'numbers.npy': header: 'descr' is '<f8'; expected a string dtype"));
  EXPECT_TRUE(contains(message_of([&] { load_npz_array(file, "names"); }), "(strings), which is not supported"));
}

TEST(Npy, StringArrayErrorsNameTheByte) {
  std::string data = little_endian_bytes('a', 4) + little_endian_bytes(0xd800, 4);  // a lone surrogate
  EXPECT_EQ(message_of([&] { parse_npy_strings(npy_file(header_with_shape("(1,)", "<U2"), data), "s.npy"); }),
            "s.npy: byte 132: element 0 holds 0x0000d800, which is not a Unicode character");
  EXPECT_TRUE(contains(message_of([&] { parse_npy_strings(npy_file(header_with_shape("(3,)", "<U2"), data), "s.npy"); }),
                       "s.npy: byte 128: expected 24 bytes of array data"));
  // '<U0' elements take no bytes; a huge count of them is refused before allocating.
  EXPECT_TRUE(contains(message_of([&] { parse_npy_strings(npy_file(header_with_shape("(99999999999999,)", "<U0"), ""), "z.npy"); }),
                       "z.npy: header: "));
}

TEST_F(Npz, SavedStringArraysRoundTripAndNumpyReadsThem) {
  const std::string file = path("text.npz");
  StringArray names;
  names.shape = {3};
  names.values = {"benign", "gr\xc3\xb6\xc3\x9f" "e", ""};
  StringArray one;
  one.values = {"standard"};
  save_npz(file, {{"W1", array_of({1, 2}, {0.5, -1})}, {"classes", names}, {"kind", one}});
  EXPECT_EQ(npz_keys(file), (std::vector<std::string>{"W1", "classes", "kind"}));
  const StringArray back = load_npz_strings(file, "classes");
  EXPECT_EQ(back.shape, names.shape);
  EXPECT_EQ(back.values, names.values);
  EXPECT_TRUE(load_npz_strings(file, "kind").shape.empty());
  EXPECT_EQ(load_npz_strings(file, "kind").values, one.values);
  EXPECT_EQ(load_npz_array(file, "W1").values, (std::vector<double>{0.5, -1}));
  // numpy's own layout: '<U6' (the longest name), 4 bytes a character.
  const std::string bytes = read_bytes(file);
  EXPECT_TRUE(contains(bytes, "{'descr': '<U6', 'fortran_order': False, 'shape': (3,), }"));

  StringArray bad;
  bad.shape = {1};
  bad.values = {"\xff"};
  EXPECT_EQ(message_of([&] { save_npz(path("bad.npz"), {{"names", bad}}); }),
            path("bad.npz") + ": array 'names': string 0 is not valid UTF-8 at byte 0");
  bad.values = {"a", "b"};
  EXPECT_EQ(message_of([&] { save_npz(path("bad.npz"), {{"names", bad}}); }),
            path("bad.npz") + ": array 'names': has 2 values, but its shape (1,) needs 1");
  EXPECT_FALSE(fs::exists(path("bad.npz")));
}

}  // namespace
}  // namespace deepnet
