// IDX reading: each element type against the formulas of
// tests/data/make_hdf5_idx_fixtures.py, gzip, and malformed headers that must
// be errors naming the file, never crashes or huge allocations.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "deepnet/array.hpp"
#include "deepnet/error.hpp"

namespace deepnet {
namespace {

using test::message_of;
using test::contains;
using test::write_bytes;
using test::read_bytes;
using test::TempDir;

const std::string kIdxDir = std::string(DEEPNET_TEST_DATA_DIR) + "/idx/";






// An IDX header: 00 00, type code, dimension count, sizes as big-endian uint32.
std::string header(unsigned char code, const std::vector<std::uint32_t>& dims) {
  std::string bytes{'\0', '\0', static_cast<char>(code), static_cast<char>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>(d >> shift & 0xFF);
  return bytes;
}

void expect_images(const NumericArray& a) {
  EXPECT_EQ(a.dtype, "uint8");
  ASSERT_EQ(a.shape, (std::vector<std::size_t>{3, 4, 5}));
  ASSERT_EQ(a.values.size(), 60u);
  std::size_t n = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 5; ++k) EXPECT_EQ(a.values[n++], (i * 97 + j * 31 + k * 13) % 256) << i << j << k;
}

TEST(Idx, ReadsUint8ImagesRawAndGzipped) {
  expect_images(load_idx(kIdxDir + "images-idx3-ubyte"));
  expect_images(load_idx(kIdxDir + "images-idx3-ubyte.gz"));
}

TEST(Idx, ReadsUint8Labels) {
  const NumericArray labels = load_idx(kIdxDir + "labels-idx1-ubyte");
  ASSERT_EQ(labels.shape, (std::vector<std::size_t>{3}));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(labels.values[i], (i * 7 + 3) % 10);
}

TEST(Idx, ReadsSignedIntegersBigEndian) {
  const NumericArray i8 = load_idx(kIdxDir + "int8-idx2");
  const NumericArray i16 = load_idx(kIdxDir + "int16-idx2");
  const NumericArray i32 = load_idx(kIdxDir + "int32-idx2");
  EXPECT_EQ(i8.dtype, "int8");
  EXPECT_EQ(i16.dtype, "int16");
  EXPECT_EQ(i32.dtype, "int32");
  ASSERT_EQ(i8.shape, (std::vector<std::size_t>{2, 3}));
  ASSERT_EQ(i16.shape, (std::vector<std::size_t>{2, 3}));
  ASSERT_EQ(i32.shape, (std::vector<std::size_t>{2, 2}));
  for (int n = 0; n < 6; ++n) {
    EXPECT_EQ(i8.values[n], n * 50 - 128);
    EXPECT_EQ(i16.values[n], n * 13000 - 32768);
  }
  for (std::int64_t n = 0; n < 4; ++n) EXPECT_EQ(i32.values[n], double(n * 1000000007 - 2147483648));
}

TEST(Idx, ReadsFloatsBigEndian) {
  const NumericArray f32 = load_idx(kIdxDir + "float32-idx2");
  const NumericArray f64 = load_idx(kIdxDir + "float64-idx2");
  EXPECT_EQ(f32.dtype, "float32");
  EXPECT_EQ(f64.dtype, "float64");
  ASSERT_EQ(f32.shape, (std::vector<std::size_t>{2, 3}));
  ASSERT_EQ(f64.shape, (std::vector<std::size_t>{2, 2}));
  for (int n = 0; n < 6; ++n) EXPECT_EQ(f32.values[n], double(static_cast<float>(n / 3.0)));
  for (int n = 0; n < 4; ++n) EXPECT_EQ(f64.values[n], n / 7.0 - 2.0);
}

TEST(Idx, ZeroSizedDimensionGivesAnEmptyArray) {
  const TempDir dir("deepnet-idx");
  const std::string path = dir.file("empty-idx2");
  write_bytes(path, header(0x0D, {0, 28}));
  const NumericArray a = load_idx(path);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{0, 28}));
  EXPECT_TRUE(a.values.empty());
}

TEST(Idx, TruncatedOrOverlongData) {
  const TempDir dir("deepnet-idx");
  const std::string images = read_bytes(kIdxDir + "images-idx3-ubyte");
  const std::string path = dir.file("cut-idx3-ubyte");
  write_bytes(path, images.substr(0, images.size() - 7));
  EXPECT_EQ(
      message_of([&] { load_idx(path); }),
      path + ": the header promises 3 x 4 x 5 bytes of data after its 16 header bytes, but the file has 53");
  write_bytes(path, images + "x");
  EXPECT_TRUE(contains(message_of([&] { load_idx(path); }), "but the file has 61"));
  write_bytes(path, header(0x0B, {2, 3}) + std::string(11, '\0'));
  EXPECT_EQ(message_of([&] { load_idx(path); }),
            path +
                ": the header promises 2 x 3 int16 values (12 bytes) of data after its 12 header bytes, "
                "but the file has 11");
}

TEST(Idx, BadMagicAndTypeCode) {
  const TempDir dir("deepnet-idx");
  const std::string path = dir.file("bad");
  write_bytes(path, header(0x07, {3}) + "abc");
  EXPECT_EQ(message_of([&] { load_idx(path); }),
            path + ": byte 2: unknown IDX type code 0x07; expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E");
  write_bytes(path, "P4\n3 1\n");
  EXPECT_EQ(message_of([&] { load_idx(path); }),
            path + ": bytes 0-1: expected 00 00, the IDX magic; found 0x50 0x34");
  for (const std::string& tiny : {std::string(), std::string(3, '\0')}) {
    write_bytes(path, tiny);
    EXPECT_TRUE(contains(message_of([&] { load_idx(path); }), "an IDX header needs at least 4"));
  }
  EXPECT_EQ(message_of([&] { load_idx(dir.file("absent")); }),
            dir.file("absent") + ": cannot open the file for reading");
}

TEST(Idx, DimensionCountZeroOrBeyondTheFile) {
  const TempDir dir("deepnet-idx");
  const std::string path = dir.file("dims");
  write_bytes(path, header(0x08, {}));
  EXPECT_EQ(message_of([&] { load_idx(path); }),
            path + ": byte 3: the dimension count is 0; expected at least 1");
  write_bytes(path, std::string{'\0', '\0', '\x08', '\xFF'} + std::string(40, '\1'));
  EXPECT_EQ(
      message_of([&] { load_idx(path); }),
      path +
          ": byte 3: the header declares 255 dimensions, which need 1024 header bytes, but the file has 44");
}

TEST(Idx, HugeOrOverflowingSizesAreRefusedBeforeAllocating) {
  const TempDir dir("deepnet-idx");
  const std::string path = dir.file("huge");
  write_bytes(path, header(0x0E, {0xFFFFFFFF, 0xFFFFFFFF}) + std::string(8, '\0'));
  EXPECT_EQ(
      message_of([&] { load_idx(path); }),
      path + ": the dimension sizes 4294967295 x 4294967295 multiply past 64 bits; the header is corrupt");
  write_bytes(path, header(0x08, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}));
  EXPECT_TRUE(contains(message_of([&] { load_idx(path); }), "multiply past 64 bits"));
  // 2^64 elements: the product wraps to exactly 0 in 64 bits.
  write_bytes(path, header(0x08, {65536, 65536, 65536, 65536}));
  EXPECT_TRUE(contains(message_of([&] { load_idx(path); }), "multiply past 64 bits"));
  // Huge sizes with a zero among them: an empty array, not an error.
  write_bytes(path, header(0x08, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0}));
  EXPECT_EQ(load_idx(path).shape, (std::vector<std::size_t>{0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0}));
  write_bytes(path, header(0x08, {60000, 28, 28}) + std::string(1234, '\0'));
  EXPECT_EQ(message_of([&] { load_idx(path); }), path +
                                                     ": the header promises 60000 x 28 x 28 bytes of data "
                                                     "after its 16 header bytes, but the file has 1234");
}

TEST(Idx, EveryPrefixAndHeaderCorruptionIsLoadedOrAnError) {
  const TempDir dir("deepnet-idx");
  const std::string images = read_bytes(kIdxDir + "images-idx3-ubyte");
  const std::string path = dir.file("mangled");
  for (std::size_t keep = 0; keep < images.size(); ++keep) {
    write_bytes(path, images.substr(0, keep));
    EXPECT_TRUE(contains(message_of([&] { load_idx(path); }), path + ": ")) << keep;
  }
  for (std::size_t at = 0; at < 16; ++at)
    for (const unsigned char byte : {0x00, 0x01, 0x0D, 0x7F, 0x80, 0xFF}) {
      std::string mangled = images;
      mangled[at] = static_cast<char>(byte);
      write_bytes(path, mangled);
      try {
        const NumericArray a = load_idx(path);
        EXPECT_EQ(a.values.size(), a.size());
      } catch (const Error& e) {
        EXPECT_TRUE(contains(e.what(), path + ": ")) << e.what();
      }
    }
}

}  // namespace
}  // namespace deepnet
