// HDF5 reading: every numeric type h5py writes, against the formulas of
// tests/data/make_hdf5_idx_fixtures.py, and the errors that name file and key.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include <hdf5.h>
#include <stdlib.h>

#include <csignal>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "deepnet/array.hpp"
#include "deepnet/error.hpp"
#include "deepnet/limits.hpp"
#include "io/hdf5_reader.hpp"
#include <H5PLpublic.h>
#include <sys/wait.h>
#include <unistd.h>

namespace deepnet {
namespace {

using test::message_of;
using test::contains;
using test::write_bytes;
using test::read_bytes;
using test::TempDir;

const std::string kCourse = std::string(DEEPNET_TEST_DATA_DIR) + "/hdf5/course.h5";






// A file with one chunked dataset that was never written: its shape is all
// the header promises, and the file stays a few KB whatever that shape is.
void write_unwritten_dataset(const std::string& path, const std::vector<hsize_t>& dims, hid_t type) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t properties = H5Pcreate(H5P_DATASET_CREATE);
  const std::vector<hsize_t> chunk(dims.size(), 1);
  H5Pset_chunk(properties, static_cast<int>(chunk.size()), chunk.data());
  const hid_t dataset = H5Dcreate2(file, "huge", type, space, H5P_DEFAULT, properties, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  ASSERT_GE(dataset, 0);
  H5Dclose(dataset);
  H5Pclose(properties);
  H5Sclose(space);
  H5Fclose(file);
}

TEST(Hdf5, ReadsCourseImagesInMhwcOrder) {
  const NumericArray x = load_hdf5_dataset(kCourse, "train_set_x");
  EXPECT_EQ(x.dtype, "uint8");
  ASSERT_EQ(x.shape, (std::vector<std::size_t>{4, 5, 5, 3}));
  ASSERT_EQ(x.values.size(), 300u);
  std::size_t n = 0;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 5; ++j)
      for (int k = 0; k < 5; ++k)
        for (int c = 0; c < 3; ++c)
          EXPECT_EQ(x.values[n++], (i * 61 + j * 17 + k * 5 + c * 3) % 256) << i << j << k << c;
}

TEST(Hdf5, ReadsInt64LabelsAsVectorAndRow) {
  const NumericArray y = load_hdf5_dataset(kCourse, "train_set_y");
  EXPECT_EQ(y.dtype, "int64");
  ASSERT_EQ(y.shape, (std::vector<std::size_t>{4}));
  const NumericArray row = load_hdf5_dataset(kCourse, "train_set_y_row");
  ASSERT_EQ(row.shape, (std::vector<std::size_t>{1, 4}));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(y.values[i], (i * 3 + 1) % 2);
    EXPECT_EQ(row.values[i], (i * 3 + 1) % 2);
  }
}

TEST(Hdf5, ConvertsBigEndianFloat32) {
  const NumericArray a = load_hdf5_dataset(kCourse, "big_endian_f32");
  EXPECT_EQ(a.dtype, "float32");
  ASSERT_EQ(a.shape, (std::vector<std::size_t>{2, 3}));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(a.values[i * 3 + j], (i * 3 + j) * 0.375 - 1.0);
}

TEST(Hdf5, ReadsCompressedDatasetInGroupWithOrWithoutLeadingSlash) {
  for (const std::string key : {"group/values", "/group/values"}) {
    const NumericArray a = load_hdf5_dataset(kCourse, key);
    EXPECT_EQ(a.dtype, "float64");
    ASSERT_EQ(a.shape, (std::vector<std::size_t>{6}));
    for (int k = 0; k < 6; ++k) EXPECT_EQ(a.values[k], (k - 2) * 0.125) << key;
  }
}

TEST(Hdf5, IntegerExtremesFloat16AndBool) {
  const auto values = [](const std::string& key) { return load_hdf5_dataset(kCourse, "types/" + key); };
  EXPECT_EQ(values("int8").values, (std::vector<double>{-128, -1, 0, 127}));
  EXPECT_EQ(values("int8").dtype, "int8");
  EXPECT_EQ(values("uint16_be").values, (std::vector<double>{0, 1, 65535}));
  EXPECT_EQ(values("uint16_be").dtype, "uint16");
  EXPECT_EQ(values("int32").values, (std::vector<double>{-2147483648.0, 2147483647.0}));
  const NumericArray u64 = values("uint64");
  EXPECT_EQ(u64.dtype, "uint64");
  EXPECT_EQ(u64.values, (std::vector<double>{std::ldexp(1.0, 64), std::ldexp(1.0, 53) + 2}));
  EXPECT_EQ(values("float16").values, (std::vector<double>{1.5, -0.25, 65504}));
  EXPECT_EQ(values("float16").dtype, "float16");
  const NumericArray flags = values("bool");
  EXPECT_EQ(flags.dtype, "bool");
  EXPECT_EQ(flags.values, (std::vector<double>{1, 0, 1}));
}

// compact (the features of a data set): uint8 integers come back as their
// bytes and float32 (any byte order) as floats, in the reader process and in
// this one; every other type as doubles, as without it.
TEST(Hdf5, CompactKeepsUint8AsBytesAndFloat32AsFloats) {
  for (bool contained : {true, false}) {
    const auto load = [&](const std::string& key) {
      return contained ? load_hdf5_dataset(kCourse, key, true) : io::load_hdf5_dataset_in_process(kCourse, key, true);
    };
    const NumericArray x = load("train_set_x");
    EXPECT_EQ(x.dtype, "uint8");
    ASSERT_EQ(x.bytes.size(), 300u);
    EXPECT_TRUE(x.values.empty());
    const NumericArray doubles = load_hdf5_dataset(kCourse, "train_set_x");
    for (std::size_t k = 0; k < 300; ++k) ASSERT_EQ(x.bytes[k], doubles.values[k]) << k;
    const NumericArray f = load("big_endian_f32");
    ASSERT_EQ(f.floats.size(), 6u);
    EXPECT_TRUE(f.values.empty());
    for (int k = 0; k < 6; ++k) EXPECT_EQ(f.floats[k], k * 0.375f - 1.0f);
    for (const std::string key : {"train_set_y", "group/values", "types/int8", "types/uint16_be", "types/float16",
                                  "types/bool", "types/scalar"}) {
      const NumericArray other = load(key);
      EXPECT_TRUE(other.bytes.empty() && other.floats.empty()) << key;
      EXPECT_EQ(other.values, load_hdf5_dataset(kCourse, key).values) << key;
    }
  }
}

TEST(Hdf5, ScalarAndEmptyDatasets) {
  const NumericArray scalar = load_hdf5_dataset(kCourse, "types/scalar");
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(scalar.values, (std::vector<double>{2.5}));
  const NumericArray empty = load_hdf5_dataset(kCourse, "types/empty");
  EXPECT_EQ(empty.shape, (std::vector<std::size_t>{0, 3}));
  EXPECT_TRUE(empty.values.empty());
}

TEST(Hdf5, CompactAndNeverWrittenDatasets) {
  const TempDir dir("deepnet-hdf5");
  const std::string path = dir.file("layouts.h5");
  {
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[1] = {10};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t compact = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_layout(compact, H5D_COMPACT);
    const hid_t in_header =
        H5Dcreate2(file, "compact", H5T_STD_I32BE, space, H5P_DEFAULT, compact, H5P_DEFAULT);
    std::vector<int> values(10);
    for (int k = 0; k < 10; ++k) values[k] = k * k - 7;
    H5Dwrite(in_header, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    const hid_t filled = H5Pcreate(H5P_DATASET_CREATE);
    const double fill = 1.5;
    H5Pset_fill_value(filled, H5T_NATIVE_DOUBLE, &fill);
    const hid_t unwritten =
        H5Dcreate2(file, "unwritten", H5T_IEEE_F64LE, space, H5P_DEFAULT, filled, H5P_DEFAULT);
    ASSERT_GE(in_header, 0);
    ASSERT_GE(unwritten, 0);
    H5Dclose(unwritten);
    H5Pclose(filled);
    H5Dclose(in_header);
    H5Pclose(compact);
    H5Sclose(space);
    H5Fclose(file);
  }
  const NumericArray compact = load_hdf5_dataset(path, "compact");
  EXPECT_EQ(compact.dtype, "int32");
  ASSERT_EQ(compact.values.size(), 10u);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(compact.values[k], k * k - 7);
  EXPECT_EQ(load_hdf5_dataset(path, "unwritten").values, std::vector<double>(10, 1.5));
}

TEST(Hdf5, ListsEveryDatasetRecursively) {
  EXPECT_EQ(hdf5_dataset_names(kCourse),
            (std::vector<std::string>{"big_endian_f32", "group/values", "list_classes", "train_set_x",
                                      "train_set_y", "train_set_y_row", "types/bool", "types/empty",
                                      "types/float16", "types/int32", "types/int8", "types/null",
                                      "types/records", "types/scalar", "types/uint16_be", "types/uint64"}));
}

TEST(Hdf5, MissingFileAndNonHdf5File) {
  const TempDir dir("deepnet-hdf5");
  const std::string missing = dir.file("absent.h5");
  EXPECT_EQ(message_of([&] { load_hdf5_dataset(missing, "x"); }),
            missing + ": cannot open the file for reading");
  EXPECT_EQ(message_of([&] { hdf5_dataset_names(missing); }), missing + ": cannot open the file for reading");
  const std::string text = dir.file("notes.h5");
  write_bytes(text, "train_set_x,train_set_y\n1,2\n");
  const std::string message = message_of([&] { load_hdf5_dataset(text, "train_set_x"); });
  EXPECT_TRUE(contains(message, text + ": not an HDF5 file")) << message;
  EXPECT_TRUE(contains(message_of([&] { hdf5_dataset_names(text); }), "not an HDF5 file"));
  EXPECT_TRUE(contains(message_of([&] { load_hdf5_dataset(dir.file(""), "x"); }), "is a directory"));
}

TEST(Hdf5, TruncatedFileIsAnErrorNamingTheFile) {
  const TempDir dir("deepnet-hdf5");
  const std::string bytes = read_bytes(kCourse);
  ASSERT_GT(bytes.size(), 4000u);
  for (const std::size_t keep : {std::size_t(8), std::size_t(100), bytes.size() / 2, bytes.size() - 1}) {
    const std::string cut = dir.file("cut.h5");
    write_bytes(cut, bytes.substr(0, keep));
    const std::string message = message_of([&] { load_hdf5_dataset(cut, "train_set_x"); });
    EXPECT_TRUE(contains(message, cut + ": ")) << keep << ": " << message;
  }
}

TEST(Hdf5, MissingKeyListsTheDatasetsPresent) {
  const std::string message = message_of([] { load_hdf5_dataset(kCourse, "test_set_x"); });
  EXPECT_TRUE(contains(message, kCourse + ": no dataset 'test_set_x'; the file has datasets: big_endian_f32, "
                                          "group/values, list_classes, train_set_x, train_set_y"))
      << message;
  EXPECT_TRUE(contains(message_of([] { load_hdf5_dataset(kCourse, "group/missing"); }),
                       "no dataset 'group/missing'"));
  EXPECT_TRUE(contains(message_of([] { load_hdf5_dataset(kCourse, ""); }), "no dataset ''"));
  EXPECT_TRUE(contains(message_of([] { load_hdf5_dataset(kCourse, "group"); }),
                       kCourse + ": 'group' is a group, not a dataset; the file has datasets: "));
}

TEST(Hdf5, NonNumericDatasetsNameTheirType) {
  EXPECT_EQ(message_of([] { load_hdf5_dataset(kCourse, "list_classes"); }),
            kCourse +
                ": dataset 'list_classes' holds fixed-length strings of 7 bytes, not numbers; "
                "expected integers, floats or an integer enum");
  EXPECT_TRUE(contains(message_of([] { load_hdf5_dataset(kCourse, "types/records"); }),
                       "dataset 'types/records' holds compound records of 2 fields, not numbers"));
  EXPECT_TRUE(contains(message_of([] { load_hdf5_dataset(kCourse, "types/null"); }),
                       "dataset 'types/null' has a null dataspace"));
}

TEST(Hdf5, RefusesShapesTheFileCannotHoldBeforeAllocating) {
  const TempDir dir("deepnet-hdf5");
  const std::string beyond_file = dir.file("beyond_file.h5");  // 64 MiB of uint8 in a few KB
  write_unwritten_dataset(beyond_file, {1 << 20, 64}, H5T_STD_U8LE);
  std::string message = message_of([&] { load_hdf5_dataset(beyond_file, "huge"); });
  EXPECT_TRUE(contains(message, beyond_file +
                                    ": dataset 'huge' has shape 1048576 x 64 of uint8 (67108864 bytes), "
                                    "more than a "))
      << message;
  const std::string beyond_limit = dir.file("beyond_limit.h5");  // 2^36 values, 512 GiB as double
  write_unwritten_dataset(beyond_limit, {1 << 18, 1 << 18}, H5T_IEEE_F64LE);
  message = message_of([&] { load_hdf5_dataset(beyond_limit, "huge"); });
  EXPECT_TRUE(
      contains(message, "dataset 'huge' has shape 262144 x 262144 (68719476736 values), more than the limit"))
      << message;
  const std::string overflowing = dir.file("overflowing.h5");  // 2^96 elements
  write_unwritten_dataset(overflowing, {hsize_t(1) << 32, hsize_t(1) << 32, hsize_t(1) << 32}, H5T_STD_U8LE);
  message = message_of([&] { load_hdf5_dataset(overflowing, "huge"); });
  EXPECT_TRUE(contains(message, "more elements than 64 bits can count")) << message;
}


// ---------------------------------------------------------------- libhdf5 crashes, filters

// Files on which libhdf5 1.10 itself crashes (tests/data/fuzz_regressions/README.md).
const std::string kRegressions = std::string(DEEPNET_TEST_DATA_DIR) + "/fuzz_regressions";
const std::vector<std::string> kCrashingFiles = {"hdf5-crash-1.h5", "hdf5-crash-2.h5", "hdf5-crash-3.h5"};

// Runs `read` in a child process: the signal that ended it, or 0 when it returned or threw.
int signal_of_in_process_read(const std::function<void()>& read) {
  const pid_t child = fork();
  if (child == 0) {
    std::signal(SIGABRT, SIG_DFL);
    try {
      read();
    } catch (...) {
    }
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

TEST(Hdf5, LibraryCrashesOnDamagedFilesAreErrorsNamingTheFile) {
  for (const std::string& name : kCrashingFiles) {
    const std::string path = kRegressions + "/" + name;
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    // What the file's crash is in this process (libhdf5 1.10.8: a signal); a
    // libhdf5 that no longer crashes on it gives an ordinary error instead.
    std::vector<std::string> keys;
    const int names_signal = signal_of_in_process_read([&] { io::hdf5_dataset_names_in_process(path); });
    std::string message;
    try {
      keys = hdf5_dataset_names(path);
    } catch (const Error& e) {
      message = e.what();
    }
    if (names_signal != 0) {
      EXPECT_EQ(message, path + ": libhdf5 crashed reading the file (signal " + std::to_string(names_signal) +
                             "): the file is damaged");
    }
    if (keys.empty()) keys = {"train_set_x", "train_set_y", "types/int8", "group/values"};
    int crashes = names_signal != 0;
    for (const std::string& key : keys) {
      const int sig = signal_of_in_process_read([&] { io::load_hdf5_dataset_in_process(path, key); });
      crashes += sig != 0;
      try {
        const NumericArray array = load_hdf5_dataset(path, key);
        EXPECT_EQ(sig, 0) << name << " " << key;
        EXPECT_EQ(array.values.size(), array.size());
      } catch (const Error& e) {
        const std::string text = e.what();
        EXPECT_EQ(text.rfind(path + ": ", 0), 0u) << text;
        EXPECT_EQ(text.find('\n'), std::string::npos) << text;
        if (sig != 0) {
          EXPECT_EQ(text, path + ": libhdf5 crashed reading the file (signal " + std::to_string(sig) +
                              "): the file is damaged");
        }
      }
    }
    EXPECT_GT(crashes, 0) << name << ": libhdf5 no longer crashes on it; the regression file tests nothing";
  }
}

TEST(Hdf5, ReaderProcessKeepsValuesErrorsAndTheMemoryLimit) {
  // Big enough to fill the pipe many times over: the parent must read while the child writes.
  const TempDir dir("deepnet-hdf5");
  const std::string path = dir.file("big.h5");
  const hsize_t dims[2] = {1000, 1000};
  std::vector<double> values(1000 * 1000);
  for (std::size_t k = 0; k < values.size(); ++k) values[k] = static_cast<double>(k) * 0.5 - 3;
  {
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dataset = H5Dcreate2(file, "v", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(dataset, 0);
    H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(dataset);
    H5Sclose(space);
    H5Fclose(file);
  }
  const NumericArray array = load_hdf5_dataset(path, "v");
  EXPECT_EQ(array.dtype, "float64");
  EXPECT_EQ(array.shape, (std::vector<std::size_t>{1000, 1000}));
  EXPECT_EQ(array.values, values);
  EXPECT_EQ(hdf5_dataset_names(path), std::vector<std::string>{"v"});
  EXPECT_EQ(message_of([&] { load_hdf5_dataset(path, "w"); }), path + ": no dataset 'w'; the file has datasets: v");
  // 8 MB of doubles under a 1 MiB limit: refused, naming the file, dataset and limit.
  set_memory_limit(1 << 20);
  const std::string message = message_of([&] { load_hdf5_dataset(path, "v"); });
  set_memory_limit(0);
  EXPECT_TRUE(contains(message, path + ": dataset 'v' has shape 1000 x 1000 (1000000 values), more than the limit"))
      << message;
  EXPECT_TRUE(contains(message, "more than the memory limit of 1.0 MiB")) << message;
}

// A stand-in for LZF (h5py's filter 32000): stores the bytes as they are.
size_t identity_filter(unsigned, size_t, const unsigned[], size_t nbytes, size_t*, void**) { return nbytes; }

TEST(Hdf5, DatasetWithAFilterThisLibhdf5LacksIsNamed) {
  const TempDir dir("deepnet-hdf5");
  const std::string path = dir.file("lzf.h5");
  const H5Z_filter_t lzf = 32000;
  ASSERT_LE(H5Zfilter_avail(lzf), 0) << "this libhdf5 has filter 32000; the test needs one it lacks";
  const H5Z_class2_t stand_in = {H5Z_CLASS_T_VERS, lzf, 1, 1, "lzf", nullptr, nullptr, identity_filter};
  ASSERT_GE(H5Zregister(&stand_in), 0);
  {
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[2] = {4, 6}, chunk[2] = {2, 6};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const std::vector<int> values(24, 7);
    // One dataset whose chunks went through the filter, one written while an
    // optional filter was missing (its chunks skip it; they read without it).
    const hid_t filtered = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(filtered, 2, chunk);
    H5Pset_filter(filtered, lzf, H5Z_FLAG_OPTIONAL, 0, nullptr);
    const hid_t train = H5Dcreate2(file, "train_set_x", H5T_STD_U8LE, space, H5P_DEFAULT, filtered, H5P_DEFAULT);
    ASSERT_GE(train, 0);
    ASSERT_GE(H5Dwrite(train, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
    H5Dclose(train);
    H5Pclose(filtered);
    H5Sclose(space);
    H5Fclose(file);
  }
  ASSERT_GE(H5Zunregister(lzf), 0);
  ASSERT_LE(H5Zfilter_avail(lzf), 0);
  const int loading = [] {
    unsigned state = 0;
    H5PLget_loading_state(&state);
    return static_cast<int>(state);
  }();
  H5PLset_loading_state(0);  // no filter plugin from HDF5_PLUGIN_PATH either
  {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hsize_t dims[1] = {5};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t skipped = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(skipped, 1, dims);
    H5Pset_filter(skipped, lzf, H5Z_FLAG_OPTIONAL, 0, nullptr);
    const hid_t dataset = H5Dcreate2(file, "skipped", H5T_IEEE_F32LE, space, H5P_DEFAULT, skipped, H5P_DEFAULT);
    const std::vector<double> values = {1, 2, 3, 4, 5};
    EXPECT_GE(dataset, 0);
    EXPECT_GE(H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
    H5Dclose(dataset);
    H5Pclose(skipped);
    H5Sclose(space);
    H5Fclose(file);
  }
  EXPECT_EQ(message_of([&] { load_hdf5_dataset(path, "train_set_x"); }),
            path + ": dataset 'train_set_x' uses HDF5 filter 32000 (lzf), which this libhdf5 does not have; "
                   "rewrite the file without it (e.g. h5repack -f NONE)");
  EXPECT_EQ(load_hdf5_dataset(path, "skipped").values, (std::vector<double>{1, 2, 3, 4, 5}));
  H5PLset_loading_state(static_cast<unsigned>(loading));
}

}  // namespace
}  // namespace deepnet
