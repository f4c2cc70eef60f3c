// Data sets from array files written by numpy and h5py (tests/data/*): the
// flattening of (m, h, w, c) images, the course's (n_x, m) layout, labels in
// every accepted shape, and the errors.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <filesystem>
#include <algorithm>
#include <cstring>
#include <fstream>

#include "deepnet/data.hpp"
#include "deepnet/error.hpp"
#include "deepnet/limits.hpp"

namespace deepnet {
namespace {

using test::message_of;

const std::string data_dir = DEEPNET_TEST_DATA_DIR;


TEST(ArrayDataset, HdfImagesAreFlattenedRowMajorPerExample) {
  ArrayOptions options;
  options.x_key = "train_set_x";
  options.y_key = "train_set_y";
  const Dataset d = load_array_dataset(data_dir + "/hdf5/course.h5", options);
  ASSERT_EQ(d.examples(), 4);
  ASSERT_EQ(d.features(), 75);  // 5 x 5 x 3
  EXPECT_TRUE(d.has_pixels());   // kept as bytes, an eighth of the memory of doubles
  EXPECT_EQ(d.X.size(), 0);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 5; ++j)
      for (int k = 0; k < 5; ++k)
        for (int c = 0; c < 3; ++c)
          EXPECT_EQ(d.value(j * 15 + k * 3 + c, i), (i * 61 + j * 17 + k * 5 + c * 3) % 256);
  EXPECT_EQ(d.targets, (std::vector<double>{1, 0, 1, 0}));
  EXPECT_TRUE(d.uint8_pixels);  // so --normalize auto divides by 255
  options.y_key = "train_set_y_row";  // labels stored (1, m)
  EXPECT_EQ(load_array_dataset(data_dir + "/hdf5/course.h5", options).targets, d.targets);
}

TEST(ArrayDataset, ExamplesAsColumnsReadsTheCoursesLayout) {
  ArrayOptions options;
  options.x_key = "big_endian_f32";  // (2, 3): n_x = 2 features of m = 3 examples
  options.labels_optional = true;
  options.examples_as_columns = true;
  const Dataset d = load_array_dataset(data_dir + "/hdf5/course.h5", options);
  ASSERT_EQ(d.features(), 2);
  ASSERT_EQ(d.examples(), 3);
  EXPECT_FALSE(d.uint8_pixels);  // float32
  EXPECT_TRUE(d.has_singles());  // kept as floats, half the memory of doubles
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(d.value(i, j), (i * 3 + j) * 0.375 - 1.0);
  options.examples_as_columns = false;
  const Dataset rows = load_array_dataset(data_dir + "/hdf5/course.h5", options);
  EXPECT_EQ(rows.features(), 3);
  EXPECT_EQ(rows.examples(), 2);
}

TEST(ArrayDataset, IdxImagesWithASeparateLabelsFile) {
  for (const char* images : {"/idx/images-idx3-ubyte", "/idx/images-idx3-ubyte.gz"}) {
    ArrayOptions options;
    options.labels_path = data_dir + "/idx/labels-idx1-ubyte";
    const Dataset d = load_array_dataset(data_dir + images, options);
    ASSERT_EQ(d.examples(), 3);
    ASSERT_EQ(d.features(), 20);
    ASSERT_TRUE(d.has_pixels());  // 8-bit images stay bytes
    EXPECT_EQ(d.X.size(), 0);
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 4; ++j)
        for (int k = 0; k < 5; ++k) EXPECT_EQ(d.value(j * 5 + k, i), (i * 97 + j * 31 + k * 13) % 256);
      EXPECT_EQ(d.targets[static_cast<std::size_t>(i)], (i * 7 + 3) % 10);
    }
  }
}

TEST(ArrayDataset, NpzDefaultsToXAndY) {
  ArrayOptions columns;
  columns.examples_as_columns = true;  // savez.npz holds X (2, 3) and y (3,): the course's layout
  const Dataset d = load_array_dataset(data_dir + "/npy/savez.npz", columns);
  EXPECT_EQ(d.examples(), 3);
  EXPECT_EQ(d.targets.size(), static_cast<std::size_t>(d.examples()));
  EXPECT_EQ(detect_format(data_dir + "/npy/savez.npz"), FileFormat::npz);
  EXPECT_EQ(detect_format(data_dir + "/hdf5/course.h5"), FileFormat::hdf5);
  EXPECT_EQ(detect_format(data_dir + "/npy/f2.npy"), FileFormat::npy);
  EXPECT_EQ(detect_format(data_dir + "/idx/labels-idx1-ubyte"), FileFormat::idx);
  EXPECT_EQ(detect_format(data_dir + "/step-by-step-v3-cases.json"), FileFormat::csv);
}

TEST(ArrayDataset, ErrorsNameTheFileAndWhatIsMissing) {
  EXPECT_EQ(message_of([] { load_array_dataset(data_dir + "/hdf5/course.h5", {}); }).rfind(
                data_dir + "/hdf5/course.h5: give the X key (x_key); the file holds: ", 0),
            0u);
  ArrayOptions only_x;
  only_x.x_key = "train_set_x";
  EXPECT_NE(message_of([&] { load_array_dataset(data_dir + "/hdf5/course.h5", only_x); }).find("give the labels key (y_key)"),
            std::string::npos);
  ArrayOptions wrong_labels;
  wrong_labels.labels_path = data_dir + "/idx/labels-idx1-ubyte";  // 3 labels
  wrong_labels.x_key = "train_set_x";                              // 4 examples
  EXPECT_NE(message_of([&] { load_array_dataset(data_dir + "/hdf5/course.h5", wrong_labels); })
                .find("labels have shape (3,) but X has 4 examples"),
            std::string::npos);
  EXPECT_NE(message_of([] { load_array_dataset(data_dir + "/idx/images-idx3-ubyte", {}); }).find("no labels; give a labels file (labels_path)"),
            std::string::npos);
  EXPECT_NE(message_of([] { load_dataset("nowhere.npz"); }).find("nowhere.npz: cannot open"), std::string::npos);
}

// The library names its own settings, never a front end's flag (the CLI maps
// them: src/cli/flag_names.cpp, tests/cli/cli_test.cpp).
TEST(ArrayDataset, ErrorsNameSettingsNotFlags) {
  const std::string x_missing = message_of([] { load_array_dataset(data_dir + "/hdf5/course.h5", {}); });
  ArrayOptions columns;
  columns.examples_as_columns = true;
  columns.labels_optional = true;
  const std::string not_2d = message_of([&] { load_array_dataset(data_dir + "/idx/images-idx3-ubyte", columns); });
  const std::string no_labels = message_of([] { load_array_dataset(data_dir + "/idx/images-idx3-ubyte", {}); });
  EXPECT_NE(not_2d.find("examples_as_columns needs a 2-D array"), std::string::npos) << not_2d;
  const std::string no_test = message_of([] { load_builtin("iris:test"); });
  EXPECT_NE(no_test.find("builtin:iris:test: 'iris' has no test part"), std::string::npos) << no_test;
  for (const std::string& message : {x_missing, not_2d, no_labels, no_test})
    EXPECT_EQ(message.find("--"), std::string::npos) << message;
}

}  // namespace
}  // namespace deepnet

namespace deepnet {
namespace {

TEST(ArrayDataset, IdxIsRecognisedByItsMagicBytesWhateverItsName) {
  test::TempDir dir;
  const auto copy_as = [&](const std::string& from, const std::string& name) {
    const std::string to = (dir.path() / name).string();
    std::filesystem::copy_file(data_dir + "/idx/" + from, to);
    return to;
  };
  const std::string images = copy_as("images-idx3-ubyte", "train-images");
  const std::string labels = copy_as("labels-idx1-ubyte", "labels.bin");
  EXPECT_EQ(detect_format(images), FileFormat::idx);
  EXPECT_EQ(detect_format(labels), FileFormat::idx);
  ArrayOptions with_labels;
  with_labels.labels_path = labels;
  const Dataset d = load_dataset(images, {}, with_labels);
  EXPECT_EQ(d.examples(), 3);
  EXPECT_EQ(d.features(), 20);
  // Text stays CSV whatever it is called.
  const std::string text = (dir.path() / "data.bin").string();
  std::ofstream(text) << "a,y\n1,0\n";
  EXPECT_EQ(detect_format(text), FileFormat::csv);
}

}  // namespace
}  // namespace deepnet

namespace deepnet {
namespace {

// An NPY file of float32 values (C order, shape (rows, cols)) written byte by byte.
std::string npy_f4(const std::string& descr, std::size_t rows, std::size_t cols, const std::vector<float>& values) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                       std::to_string(cols) + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  for (float v : values) {
    char b[4];
    std::memcpy(b, &v, 4);
    if (descr[0] == '>') std::reverse(b, b + 4);
    out.append(b, 4);
  }
  return out;
}

// Features stay compact: a float32 array as floats (Dataset::singles), an 8-bit
// one as bytes (Dataset::pixels), each value as it reads as a double; other
// types and Fortran order as doubles. The same through load_npy_compact.
TEST(ArrayDataset, Float32AndUint8ArraysStayCompact) {
  test::TempDir dir;
  std::vector<float> values;
  for (int k = 0; k < 12; ++k) values.push_back(static_cast<float>(k * 0.37 - 1.5));
  values[5] = 1e-40f;  // a subnormal survives as it is
  const std::string little = (dir.path() / "x.npy").string(), big = (dir.path() / "xb.npy").string();
  std::ofstream(little, std::ios::binary) << npy_f4("<f4", 3, 4, values);
  std::ofstream(big, std::ios::binary) << npy_f4(">f4", 3, 4, values);
  for (const std::string& path : {little, big}) {
    const NumericArray compact = load_npy_compact(path), plain = load_npy(path);
    ASSERT_EQ(compact.floats.size(), 12u) << path;
    EXPECT_TRUE(compact.values.empty());
    for (std::size_t k = 0; k < 12; ++k) EXPECT_EQ(double(compact.floats[k]), plain.values[k]) << path << " " << k;
    ArrayOptions options;
    options.labels_optional = true;
    const Dataset d = load_array_dataset(path, options);
    ASSERT_TRUE(d.has_singles()) << path;
    EXPECT_EQ(d.X.size(), 0);
    ASSERT_EQ(d.features(), 4);
    ASSERT_EQ(d.examples(), 3);
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 4; ++i) EXPECT_EQ(d.value(i, j), plain.values[static_cast<std::size_t>(j * 4 + i)]);
    options.examples_as_columns = true;  // (n_x, m) = (3, 4)
    const Dataset columns = load_array_dataset(path, options);
    ASSERT_TRUE(columns.has_singles());
    ASSERT_EQ(columns.features(), 3);
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 3; ++i) EXPECT_EQ(columns.value(i, j), plain.values[static_cast<std::size_t>(i * 4 + j)]);
  }
  ArrayOptions options;
  options.labels_optional = true;
  const Dataset images = load_array_dataset(data_dir + "/npy/u1_images.npy", options);
  ASSERT_TRUE(images.has_pixels());  // (3, 4, 4, 3) uint8: 3 examples of 48 bytes
  EXPECT_TRUE(images.uint8_pixels);
  const NumericArray u1 = load_npy(data_dir + "/npy/u1_images.npy");
  ASSERT_EQ(images.features(), 48);
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 48; ++i) EXPECT_EQ(images.value(i, j), u1.values[static_cast<std::size_t>(j * 48 + i)]);
  for (const char* name : {"/npy/f4_fortran_2d.npy", "/npy/f8_c_2d.npy", "/npy/i8_labels.npy"}) {
    const NumericArray compact = load_npy_compact(data_dir + name);
    EXPECT_TRUE(compact.floats.empty() && compact.bytes.empty()) << name;
    EXPECT_EQ(compact.values, load_npy(data_dir + name).values) << name;
  }
  const NumericArray member = load_npz_array_compact(data_dir + "/npy/big_endian.npz", "f4");
  EXPECT_EQ(member.floats.size(), 3u);
  const NumericArray member_plain = load_npz_array(data_dir + "/npy/big_endian.npz", "f4");
  for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(double(member.floats[k]), member_plain.values[k]);
}

// An uncompressed NPY file of float32 or uint8 examples is read straight into
// the data set's features; every other file the general way. Both give the
// same values, and a damaged file the general reader's message.
TEST(ArrayDataset, NpyFeaturesReadInPlaceAgreeWithTheGeneralReader) {
  test::TempDir dir;
  std::vector<float> values;
  for (int k = 0; k < 20; ++k) values.push_back(static_cast<float>(k * 0.61 - 4.0));
  const std::string whole = npy_f4("<f4", 5, 4, values);
  const std::string f4 = (dir.path() / "f4.npy").string();
  std::ofstream(f4, std::ios::binary) << whole;
  ArrayOptions options;
  options.labels_optional = true;
  for (const std::string& path : {f4, data_dir + "/npy/u1_images.npy", data_dir + "/npy/f8_c_2d.npy",
                                  data_dir + "/npy/f8_c_2d.npy.gz", data_dir + "/npy/f4_fortran_2d.npy",
                                  data_dir + "/npy/v2.npy", data_dir + "/npy/v3.npy"}) {
    const NumericArray plain = load_npy(path);
    const Dataset d = load_array_dataset(path, options);
    ASSERT_EQ(static_cast<std::size_t>(d.examples()), plain.shape[0]) << path;
    ASSERT_EQ(static_cast<std::size_t>(d.features() * d.examples()), plain.values.size()) << path;
    for (Eigen::Index j = 0; j < d.examples(); ++j)
      for (Eigen::Index i = 0; i < d.features(); ++i)
        EXPECT_EQ(d.value(i, j), plain.values[static_cast<std::size_t>(j * d.features() + i)]) << path;
    EXPECT_EQ(d.feature_names.size(), static_cast<std::size_t>(d.features())) << path;
  }
  EXPECT_TRUE(load_array_dataset(f4, options).has_singles());
  // Truncated data, bytes after the data, a header claiming more than the file
  // holds: the messages of load_npy, which reads the whole file first.
  const std::string damaged = (dir.path() / "damaged.npy").string();
  std::string huge = whole;
  const std::size_t shape_at = huge.find("(5, 4)");
  huge.replace(shape_at, 6, "(999999999999, 4)");
  huge.erase(huge.find('\n') - 11, 11);  // the header's padding: its length stays
  for (const std::string& bytes : {whole.substr(0, whole.size() - 3), whole + "xyz", huge}) {
    std::ofstream(damaged, std::ios::binary | std::ios::trunc) << bytes;
    const std::string expected = message_of([&] { load_npy_compact(damaged); });
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(message_of([&] { load_array_dataset(damaged, options); }), expected);
  }
  // The memory limit: checked for the values before they are read.
  set_memory_limit(40);
  const std::string over = message_of([&] { load_array_dataset(f4, options); });
  set_memory_limit(0);
  EXPECT_NE(over.find(f4 + ": header: shape (5, 4) of '<f4' claims 20 values = 80 bytes as float, more than the memory limit"),
            std::string::npos)
      << over;
}

}  // namespace
}  // namespace deepnet
