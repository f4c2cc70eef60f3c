// The memory limit (issue #7): sizes, and for every loader a tiny file that
// claims an enormous array is refused at once, before anything is allocated,
// and a real file larger than a small limit is refused naming the limit.
#include "deepnet/limits.hpp"
#include "deepnet/files.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "deepnet/array.hpp"
#include "deepnet/data.hpp"
#include "deepnet/error.hpp"
#include "deepnet/model_file.hpp"
#include "test_util.hpp"

namespace deepnet {
namespace {

using test::contains;
using test::message_of;
using test::read_bytes;
using test::TempDir;
using test::write_bytes;

const std::string kData = std::string(DEEPNET_TEST_DATA_DIR);
constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();

// Sets the limit for one test and restores the default after it.
class Limit {
 public:
  explicit Limit(std::uint64_t bytes) { set_memory_limit(bytes); }
  Limit(const Limit&) = delete;
  Limit& operator=(const Limit&) = delete;
  ~Limit() { set_memory_limit(0); }
};

// f's error message, and that it came within a second: a loader that tried to
// allocate terabytes first would not be this quick, or would die.
std::string refused_at_once(const std::function<void()>& f) {
  const auto start = std::chrono::steady_clock::now();
  const std::string message = message_of(f);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 1.0) << message;
  EXPECT_NE(message, "(no error)");
  return message;
}

void put_le(std::string& out, std::uint64_t value, int width) {
  for (int k = 0; k < width; ++k) out += static_cast<char>((value >> (8 * k)) & 0xff);
}

std::string npy(const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  put_le(bytes, header.size(), 2);
  return bytes + header + data;
}

std::uint32_t crc32_bitwise(const std::string& bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// A zip archive with one member. With zip64_size, the central directory
// records that uncompressed size in a ZIP64 extra field.
std::string zip_one(const std::string& name, const std::string& data, int method, std::uint64_t zip64_size = 0) {
  const std::uint32_t crc = crc32_bitwise(data);
  std::string zip;
  put_le(zip, 0x04034b50, 4);
  put_le(zip, 20, 2);
  put_le(zip, 0, 2);
  put_le(zip, method, 2);
  put_le(zip, 0, 4);  // time, date
  put_le(zip, crc, 4);
  put_le(zip, data.size(), 4);
  put_le(zip, data.size(), 4);
  put_le(zip, name.size(), 2);
  put_le(zip, 0, 2);
  zip += name + data;
  const std::size_t directory_at = zip.size();
  std::string extra;
  if (zip64_size) {
    put_le(extra, 0x0001, 2);
    put_le(extra, 8, 2);
    put_le(extra, zip64_size, 8);
  }
  put_le(zip, 0x02014b50, 4);
  put_le(zip, 45, 2);
  put_le(zip, 45, 2);
  put_le(zip, 0, 2);
  put_le(zip, method, 2);
  put_le(zip, 0, 4);
  put_le(zip, crc, 4);
  put_le(zip, data.size(), 4);
  put_le(zip, zip64_size ? 0xffffffff : data.size(), 4);
  put_le(zip, name.size(), 2);
  put_le(zip, extra.size(), 2);
  put_le(zip, 0, 2);  // comment
  put_le(zip, 0, 2);  // disk
  put_le(zip, 0, 2);
  put_le(zip, 0, 4);
  put_le(zip, 0, 4);  // local header offset
  zip += name + extra;
  const std::size_t directory_size = zip.size() - directory_at;
  put_le(zip, 0x06054b50, 4);
  put_le(zip, 0, 4);
  put_le(zip, 1, 2);
  put_le(zip, 1, 2);
  put_le(zip, directory_size, 4);
  put_le(zip, directory_at, 4);
  put_le(zip, 0, 2);
  return zip;
}

std::string gzip(const std::string& data) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&stream, data.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string idx_header(unsigned char code, const std::vector<std::uint32_t>& dims) {
  std::string bytes{'\0', '\0', static_cast<char>(code), static_cast<char>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>(d >> shift & 0xFF);
  return bytes;
}

// An HDF5 file with one chunked dataset that was never written: a few KB, whatever its shape.
void write_unwritten_hdf5(const std::string& path, const std::vector<hsize_t>& dims) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t properties = H5Pcreate(H5P_DATASET_CREATE);
  const std::vector<hsize_t> chunk(dims.size(), 1);
  H5Pset_chunk(properties, static_cast<int>(chunk.size()), chunk.data());
  const hid_t dataset = H5Dcreate2(file, "X", H5T_IEEE_F32LE, space, H5P_DEFAULT, properties, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  ASSERT_GE(dataset, 0);
  H5Dclose(dataset);
  H5Pclose(properties);
  H5Sclose(space);
  H5Fclose(file);
}

// ---------------------------------------------------------------- the limit itself

TEST(MemoryLimit, ParsesSizesAsUsersWriteThem) {
  EXPECT_EQ(parse_memory_size("100000"), 100000u);
  EXPECT_EQ(parse_memory_size("512M"), 512ull << 20);
  EXPECT_EQ(parse_memory_size("2G"), 2ull << 30);
  EXPECT_EQ(parse_memory_size("1.5G"), 3ull << 29);
  EXPECT_EQ(parse_memory_size("1K"), 1024u);
  EXPECT_EQ(parse_memory_size("64KiB"), 64u << 10);
  EXPECT_EQ(parse_memory_size("3gb"), 3ull << 30);
  EXPECT_EQ(parse_memory_size("2T"), 2ull << 40);
  EXPECT_EQ(parse_memory_size(" 10m "), 10u << 20);
  EXPECT_EQ(parse_memory_size("0.5K"), 512u);
  EXPECT_EQ(parse_memory_size("100B"), 100u);
  EXPECT_EQ(parse_memory_size("unlimited"), kUnlimited);
}

TEST(MemoryLimit, RefusesWhatIsNotASize) {
  for (const char* bad : {"", "abc", "-1", "1e3", "10X", "1.5Q", "G", ".", "1..5G", "1 2", "0x10", "nan", "inf"})
    EXPECT_TRUE(contains(message_of([&] { parse_memory_size(bad); }),
                         std::string("expected a size such as 512M, 2G, 1.5G or 100000 (bytes), got '") + bad + "'"))
        << bad;
  EXPECT_EQ(message_of([] { parse_memory_size("0"); }), "expected a size above 0, got '0'");
  EXPECT_EQ(message_of([] { parse_memory_size("0G"); }), "expected a size above 0, got '0G'");
  EXPECT_EQ(message_of([] { parse_memory_size("1.5"); }), "expected a whole number of bytes, got '1.5'");
  EXPECT_EQ(message_of([] { parse_memory_size("99999999999999999999"); }),
            "'99999999999999999999' is more than 2^64 bytes");
  EXPECT_EQ(message_of([] { parse_memory_size("16E"); }), "'16E' is more than 2^64 bytes");
}

TEST(MemoryLimit, FormatsBytes) {
  EXPECT_EQ(format_bytes(0), "0 bytes");
  EXPECT_EQ(format_bytes(1), "1 byte");
  EXPECT_EQ(format_bytes(1023), "1023 bytes");
  EXPECT_EQ(format_bytes(1024), "1.0 KiB");
  EXPECT_EQ(format_bytes(3ull << 29), "1.5 GiB");
  EXPECT_EQ(format_bytes(3136000000000000ull), "2.8 PiB");
}

TEST(MemoryLimit, DefaultIsTheMemoryAvailableAndCanBeSet) {
  EXPECT_FALSE(memory_limit_is_set());
  EXPECT_GT(available_memory(), std::uint64_t(1) << 20);  // a test machine has more than 1 MiB free
  EXPECT_GT(memory_limit(), std::uint64_t(1) << 20);
  {
    const Limit limit(12345);
    EXPECT_TRUE(memory_limit_is_set());
    EXPECT_EQ(memory_limit(), 12345u);
    EXPECT_NO_THROW(check_memory(12345, "x: "));
    EXPECT_EQ(message_of([] { check_memory(12346, "f.bin: the header claims ", " as double"); }),
              "f.bin: the header claims 12.1 KiB as double, more than the memory limit of 12.1 KiB "
              "(set with set_memory_limit)");
  }
  EXPECT_FALSE(memory_limit_is_set());
  EXPECT_TRUE(contains(message_of([] { check_memory(kUnlimited, "f: "); }), "(the memory available now)"));
}

// ---------------------------------------------------------------- a trillion rows, at once

TEST(MemoryLimit, NpyClaimingATrillionRowsIsRefusedAtOnce) {
  const TempDir dir("deepnet-limits");
  const std::string path = dir.file("huge.npy");
  write_bytes(path, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 784), }",
                        std::string(16, '\0')));
  for (const auto& load : std::vector<std::function<void()>>{
           [&] { load_npy(path); }, [&] { load_dataset(path, {}, ArrayOptions{{}, {}, {}, false, true}); }}) {
    const std::string message = refused_at_once(load);
    EXPECT_TRUE(contains(message, path + ": ")) << message;
    EXPECT_TRUE(contains(message, "shape (1000000000000, 784) of '<f4'")) << message;
  }
  // Fortran order, and a file as large as it claims but for the limit: refused by the limit.
  const Limit limit(kUnlimited);
  write_bytes(path, npy("{'descr': '|u1', 'fortran_order': True, 'shape': (4, 4), }", std::string(16, '\1')));
  EXPECT_EQ(load_npy(path).values.size(), 16u);
  set_memory_limit(200);
  EXPECT_EQ(refused_at_once([&] { load_npy(path); }),
            path + ": header: shape (4, 4) of '|u1' claims 16 values = 256 bytes as double, twice while "
                   "reordering, more than the memory limit of 200 bytes (set with set_memory_limit)");
}

TEST(MemoryLimit, NpzClaimingATrillionRowsIsRefusedAtOnce) {
  const TempDir dir("deepnet-limits");
  // A stored member whose NPY header claims the rows.
  const std::string stored = dir.file("stored.npz");
  write_bytes(stored, zip_one("X.npy",
                              npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 784), }",
                                  std::string(8, '\0')),
                              0));
  std::string message = refused_at_once([&] { load_npz_array(stored, "X"); });
  EXPECT_TRUE(contains(message, stored + ": member 'X.npy': ")) << message;
  EXPECT_TRUE(contains(message, "shape (1000000000000, 784) of '<f8'")) << message;

  // A deflated member whose directory claims 10^12 bytes from a few compressed ones.
  const std::string deflated = dir.file("deflated.npz");
  write_bytes(deflated, zip_one("X.npy", std::string(10, '\0'), 8, 1000000000000ull));
  message = refused_at_once([&] { load_npz_array(deflated, "X"); });
  EXPECT_EQ(message, deflated + ": member 'X.npy': the archive records 1000000000000 bytes uncompressed "
                                "(931.3 GiB) from 10 compressed bytes, more than deflate can expand them to; "
                                "the file is corrupt");
  // The same claim, possible for the file, is still more than the limit.
  write_bytes(deflated, zip_one("X.npy", std::string(1000000, '\0'), 8, 1000000000ull));
  const Limit limit(1 << 20);
  message = refused_at_once([&] { load_npz_array(deflated, "X"); });
  EXPECT_EQ(message, deflated + ": member 'X.npy': the archive records 1000000000 bytes uncompressed "
                                "(953.7 MiB), more than the memory limit of 1.0 MiB (set with set_memory_limit)");
}

TEST(MemoryLimit, IdxClaimingATrillionRowsIsRefusedAtOnce) {
  const TempDir dir("deepnet-limits");
  const std::string path = dir.file("huge-idx3-ubyte");
  write_bytes(path, idx_header(0x0D, {1000000, 1000000, 784}) + std::string(64, '\0'));
  std::string message = refused_at_once([&] { load_idx(path); });
  EXPECT_EQ(message, path + ": the header promises 1000000 x 1000000 x 784 float32 values (3136000000000000 "
                            "bytes) of data after its 16 header bytes, but the file has 64");
  // gzip-compressed: the claim is checked against the decompressed bytes.
  const std::string gz = dir.file("huge-idx3-ubyte.gz");
  write_bytes(gz, gzip(idx_header(0x08, {4000000000u, 784}) + std::string(100, '\0')));
  message = refused_at_once([&] { load_idx(gz); });
  EXPECT_TRUE(contains(message, gz + ": the header promises 4000000000 x 784 bytes of data")) << message;
  // Dimensions whose product passes 64 bits.
  write_bytes(path, idx_header(0x0E, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}));
  message = refused_at_once([&] { load_idx(path); });
  EXPECT_TRUE(contains(message, path + ": the dimension sizes 4294967295 x 4294967295 x 4294967295 multiply past "
                                       "64 bits"))
      << message;
}

TEST(MemoryLimit, Hdf5ClaimingATrillionRowsIsRefusedAtOnce) {
  const TempDir dir("deepnet-limits");
  const std::string path = dir.file("huge.h5");
  write_unwritten_hdf5(path, {1000000000000ull, 784});
  std::string message = refused_at_once([&] { load_hdf5_dataset(path, "X"); });
  EXPECT_TRUE(contains(message, path + ": dataset 'X' has shape 1000000000000 x 784 (784000000000000 values), "
                                       "more than the limit: they take 5.6 PiB as double, more than the memory "
                                       "limit of "))
      << message;
  EXPECT_TRUE(contains(message, "(the memory available now)")) << message;
  message = refused_at_once([&] { load_dataset(path, {}, ArrayOptions{{}, {}, {}, false, true}); });
  EXPECT_TRUE(contains(message, path + ": dataset 'X' has shape 1000000000000 x 784")) << message;
  // With no memory limit, the file's size refuses it.
  const Limit limit(kUnlimited);
  message = refused_at_once([&] { load_hdf5_dataset(path, "X"); });
  EXPECT_TRUE(contains(message, path + ": dataset 'X' has shape 1000000000000 x 784 of float32 (3136000000000000 "
                                       "bytes), more than a "))
      << message;
}

TEST(MemoryLimit, GzipTrailerClaimingMoreThanTheLimitIsRefusedBeforeDecompressing) {
  const TempDir dir("deepnet-limits");
  std::string bytes = gzip("a,b,y\n1,2,0\n3,4,1\n");
  for (int k = 1; k <= 4; ++k) bytes[bytes.size() - k] = '\xff';  // ISIZE: 4 GiB - 1
  const std::string path = dir.file("claims.csv.gz");
  write_bytes(path, bytes);
  const Limit limit(1 << 20);
  EXPECT_EQ(refused_at_once([&] { load_csv(path); }),
            path + ": the gzip trailer records 4294967295 bytes of uncompressed data (4.0 GiB), more than the "
                   "memory limit of 1.0 MiB (set with set_memory_limit)");
  // A gzip bomb whose trailer hides its size stops at the limit.
  bytes = gzip(std::string(8 << 20, '0'));
  for (int k = 1; k <= 4; ++k) bytes[bytes.size() - k] = '\0';
  const std::string bomb = dir.file("bomb.csv.gz");
  write_bytes(bomb, bytes);
  EXPECT_EQ(refused_at_once([&] { load_csv(bomb); }),
            bomb + ": the gzip data decompresses to more than the memory limit of 1.0 MiB (set with set_memory_limit)");
}

// ---------------------------------------------------------------- real files, small limits

TEST(MemoryLimit, CsvLargerThanTheLimitIsRefused) {
  const TempDir dir("deepnet-limits");
  std::string text = "a,b,y\n";
  for (int k = 0; k < 300; ++k) text += std::to_string(k) + "," + std::to_string(2 * k) + "," + std::to_string(k % 2) + "\n";
  const std::string path = dir.file("rows.csv");
  write_bytes(path, text);
  EXPECT_EQ(load_csv(path).examples(), 300);
  {
    const Limit limit(1000);
    EXPECT_EQ(refused_at_once([&] { load_csv(path); }),
              path + ": the file is " + format_bytes(text.size()) + " (" + std::to_string(text.size()) +
                  " bytes), more than the memory limit of 1000 bytes (set with set_memory_limit)");
  }
  {
    // The text fits; what parsing builds from it does not.
    const Limit limit(text.size());
    const std::string message = refused_at_once([&] { load_csv(path); });
    EXPECT_TRUE(contains(message, path + ": 302 lines with up to 904 fields in all need about ")) << message;
    EXPECT_TRUE(contains(message, " to parse, more than the memory limit of " + format_bytes(text.size()) + " (set with set_memory_limit)")) << message;
  }
  const Limit limit(1 << 20);
  EXPECT_EQ(load_csv(path).examples(), 300);
}

TEST(MemoryLimit, ArrayFilesLargerThanTheLimitAreRefused) {
  // Each file fits the limit; its values as double do not.
  const std::string images = kData + "/idx/images-idx3-ubyte";
  {
    const Limit limit(read_bytes(images).size());
    EXPECT_EQ(refused_at_once([&] { load_idx(images); }),
              images + ": the header claims 3 x 4 x 5 uint8 values = 480 bytes as double, more than the memory "
                       "limit of 76 bytes (set with set_memory_limit)");
  }
  const std::string gz = kData + "/idx/images-idx3-ubyte.gz";
  {
    const Limit limit(read_bytes(gz).size());  // 87 bytes: the 76 it decompresses to fit
    EXPECT_EQ(refused_at_once([&] { load_idx(gz); }),
              gz + ": the header claims 3 x 4 x 5 uint8 values = 480 bytes as double, more than the memory "
                   "limit of 87 bytes (set with set_memory_limit)");
  }
  const std::string u1 = kData + "/npy/u1_images.npy";
  {
    const Limit limit(read_bytes(u1).size());
    const std::string message = refused_at_once([&] { load_npy(u1); });
    EXPECT_TRUE(contains(message, u1 + ": header: shape ")) << message;
    EXPECT_TRUE(contains(message, " as double, more than the memory limit of ")) << message;
  }
  const std::string npz = kData + "/npy/compressed.npz";
  {
    const Limit limit(100);
    const std::string message = refused_at_once([&] { load_npz_array(npz, "X"); });
    EXPECT_TRUE(contains(message, npz + ": member 'X.npy': the archive records ")) << message;
    EXPECT_TRUE(contains(message, "more than the memory limit of 100 bytes (set with set_memory_limit)")) << message;
  }
  const std::string h5 = kData + "/hdf5/course.h5";
  {
    const Limit limit(1000);
    EXPECT_EQ(refused_at_once([&] { load_hdf5_dataset(h5, "train_set_x"); }),
              h5 + ": dataset 'train_set_x' has shape 4 x 5 x 5 x 3 (300 values), more than the limit: they take "
                   "2.3 KiB as double, more than the memory limit of 1000 bytes (set with set_memory_limit)");
  }
  // A large limit lets them all through.
  const Limit limit(1 << 30);
  EXPECT_EQ(load_idx(images).values.size(), 60u);
  EXPECT_EQ(load_idx(gz).values.size(), 60u);
  EXPECT_FALSE(load_npy(u1).values.empty());
  EXPECT_FALSE(load_npz_array(npz, "X").values.empty());
  EXPECT_EQ(load_hdf5_dataset(h5, "train_set_x").values.size(), 300u);
}

TEST(MemoryLimit, BuiltinDigitsAndModelFilesRespectTheLimit) {
  {
    const Limit limit(1024);
    EXPECT_TRUE(contains(refused_at_once([] { load_builtin("digits"); }),
                         "builtin:digits: the gzip trailer records 264712 bytes of uncompressed data (258.5 KiB), "
                         "more than the memory limit of 1.0 KiB (set with set_memory_limit)"));
  }
  EXPECT_EQ(load_builtin("digits").examples(), 1797);

  const TempDir dir("deepnet-limits");
  Model model;
  model.architecture = Architecture{{2, 1}, {Activation::relu}, Output::sigmoid, 0.01};
  model.parameters = {0.5, -0.5, 0.1};
  model.encoding.output = Output::sigmoid;
  model.encoding.classes = {0, 1};
  model.encoding.class_names = {"no", "yes"};
  const std::string path = dir.file("m.dnn");
  save_model(path, model);
  const std::size_t size = read_bytes(path).size();
  {
    const Limit limit(size - 1);
    EXPECT_EQ(refused_at_once([&] { load_model(path); }),
              path + ": the file is " + std::to_string(size) + " bytes, more than the memory limit of " + std::to_string(size - 1) +
                  " bytes (set with set_memory_limit)");
  }
  const Limit limit(size);
  EXPECT_EQ(load_model(path).parameters.size(), 3u);
}

// io::gunzip takes one member whose trailer states its size in one go
// (libdeflate, when built with it) and everything else through zlib: both give
// the same bytes, and the odd cases still work or fail with their message.
TEST(Gunzip, OneMemberSeveralMembersAndDamagedData) {
  std::string text;
  for (int k = 0; k < 20000; ++k) text += std::to_string(k * 7919 % 10007) + (k % 13 ? "," : "\n");
  const std::string one = gzip(text);
  EXPECT_EQ(io::gunzip(one, "one.gz"), text);
  // Two members, as `cat a.gz b.gz` makes them.
  EXPECT_EQ(io::gunzip(one + gzip("tail\n"), "two.gz"), text + "tail\n");
  // A wrong size in the trailer is not trusted: zlib reads the data, whose own end decides.
  std::string wrong_size = one;
  wrong_size[wrong_size.size() - 4] = static_cast<char>(wrong_size[wrong_size.size() - 4] ^ 0x01);
  try {
    (void)io::gunzip(wrong_size, "wrong.gz");
    FAIL() << "a member whose trailer disagrees with its data was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("wrong.gz: gzip data is corrupt"), std::string::npos) << e.what();
  }
  // Damaged data and a cut-off file.
  std::string damaged = one;
  damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 0x5a);
  EXPECT_THROW((void)io::gunzip(damaged, "damaged.gz"), Error);
  try {
    (void)io::gunzip(one.substr(0, one.size() / 2), "cut.gz");
    FAIL() << "a cut-off member was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.gz"), std::string::npos) << e.what();
  }
  // The caller's byte limit holds on both paths.
  EXPECT_THROW((void)io::gunzip(one, "limited.gz", text.size() - 1), Error);
}

// io::read_maybe_gzip_bytes (the file read once, the output not zero-filled
// first) gives read_maybe_gzip's bytes and errors: one member, several members
// (zlib's way), a plain file, a damaged one, a cut-off one and the bare magic.
TEST(Gunzip, FileBytesAreReadMaybeGzipsBytes) {
  const TempDir dir("deepnet-gunzip");
  std::string text;
  for (int k = 0; k < 50000; ++k) text += std::to_string(k * 7919 % 10007) + (k % 11 ? "," : "\n");
  const std::string one = dir.file("one.csv.gz"), two = dir.file("two.csv.gz"), plain = dir.file("plain.csv"),
                    damaged = dir.file("damaged.csv.gz"), empty = dir.file("empty.csv");
  write_bytes(one, gzip(text));
  write_bytes(two, gzip(text) + gzip("tail\n"));
  write_bytes(plain, text);
  std::string bad = gzip(text);
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x5a);
  write_bytes(damaged, bad);
  write_bytes(empty, "");
  for (const std::string& path : {one, two, plain, empty}) {
    const io::FileBytes bytes = io::read_maybe_gzip_bytes(path);
    EXPECT_EQ(std::string(bytes.view()), io::read_maybe_gzip(path)) << path;
  }
  EXPECT_EQ(std::string(io::read_maybe_gzip_bytes(one).view()), text);
  EXPECT_EQ(std::string(io::read_maybe_gzip_bytes(two).view()), text + "tail\n");
  std::string expected;
  try {
    (void)io::read_maybe_gzip(damaged);
  } catch (const Error& e) {
    expected = e.what();
  }
  ASSERT_FALSE(expected.empty()) << "damaged gzip data was accepted";
  try {
    (void)io::read_maybe_gzip_bytes(damaged);
    FAIL() << "damaged gzip data was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), expected);
  }
  EXPECT_THROW((void)io::read_maybe_gzip_bytes(one, text.size() - 1), Error);
  EXPECT_THROW((void)io::read_maybe_gzip_bytes(dir.file("missing.gz")), Error);
  const std::string cut = dir.file("cut.csv.gz"), magic = dir.file("magic.gz");
  write_bytes(cut, gzip(text).substr(0, gzip(text).size() / 2));
  write_bytes(magic, "\x1f\x8b");
  for (const std::string& path : {cut, magic}) {
    std::string general, fast;
    try {
      (void)io::read_maybe_gzip(path);
    } catch (const Error& e) {
      general = e.what();
    }
    try {
      (void)io::read_maybe_gzip_bytes(path);
    } catch (const Error& e) {
      fast = e.what();
    }
    EXPECT_FALSE(general.empty()) << path << " was accepted";
    EXPECT_EQ(fast, general) << path;
  }
}

// idx_layout checks what parse_idx checks and says where the values are.
TEST(Idx, LayoutAgreesWithParse) {
  std::string file = std::string("\0\0\x08\x03", 4) + std::string("\0\0\0\x02\0\0\0\x03\0\0\0\x02", 12);
  for (int k = 0; k < 12; ++k) file += static_cast<char>(k * 20);
  const IdxLayout layout = idx_layout(file, "images.idx");
  EXPECT_EQ(layout.shape, (std::vector<std::size_t>{2, 3, 2}));
  EXPECT_EQ(layout.dtype, "uint8");
  EXPECT_EQ(layout.data_offset, 16u);
  EXPECT_EQ(layout.count, 12u);
  EXPECT_EQ(layout.dims_text, "2 x 3 x 2");
  const NumericArray parsed = parse_idx(file, "images.idx", true);
  ASSERT_EQ(parsed.bytes.size(), 12u);
  EXPECT_EQ(std::string(parsed.bytes.begin(), parsed.bytes.end()), file.substr(layout.data_offset));
  const std::string cut = file.substr(0, file.size() - 1);
  std::string from_parse, from_layout;
  try {
    (void)parse_idx(cut, "cut.idx");
  } catch (const Error& e) {
    from_parse = e.what();
  }
  try {
    (void)idx_layout(cut, "cut.idx");
  } catch (const Error& e) {
    from_layout = e.what();
  }
  EXPECT_EQ(from_layout, "cut.idx: the header promises 2 x 3 x 2 bytes of data after its 16 header bytes, but the file has 11");
  EXPECT_EQ(from_parse, from_layout);
}

}  // namespace
}  // namespace deepnet
