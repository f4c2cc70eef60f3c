// Fashion-MNIST from the Debian package dataset-fashion-mnist (IDX files, gzip).
#include <cstring>
#include <filesystem>
#include <string>

#include "deepnet/array.hpp"
#include "deepnet/data.hpp"
#include "deepnet/error.hpp"
#include "deepnet/files.hpp"
#include "deepnet/limits.hpp"

namespace deepnet {

namespace {

// Where the Debian package installs the files; DEEPNET_FASHION_MNIST_DIR overrides it.
std::filesystem::path fashion_mnist_dir() {
  if (const char* dir = std::getenv("DEEPNET_FASHION_MNIST_DIR"); dir && *dir) return dir;
  return "/usr/share/datasets/fashion-mnist";
}

}  // namespace

Dataset load_fashion_mnist(bool test_part) {
  const std::filesystem::path dir = fashion_mnist_dir();
  const std::string prefix = test_part ? "t10k" : "train";
  const std::filesystem::path images = dir / (prefix + "-images-idx3-ubyte.gz");
  const std::filesystem::path labels = dir / (prefix + "-labels-idx1-ubyte.gz");
  if (!std::filesystem::exists(images) || !std::filesystem::exists(labels))
    throw Error(images.string() + ": not found; Fashion-MNIST comes from the Debian package "
                "dataset-fashion-mnist (apt-get install dataset-fashion-mnist)");
  // The images straight from the decompressed file into Dataset::pixels: one
  // copy, no NumericArray in between (a 47 MB copy less at start-up).
  const io::FileBytes image_bytes = io::read_maybe_gzip_bytes(images.string());
  const IdxLayout x = idx_layout(image_bytes.view(), images.string());
  const NumericArray y = load_idx(labels.string());
  if (x.shape.size() != 3 || y.shape.size() != 1 || x.shape[0] != y.shape[0])
    throw Error(images.string() + ": expected images (m, 28, 28) and labels (m,), found " +
                std::to_string(x.shape.size()) + "-D images and " + std::to_string(y.shape.size()) +
                "-D labels");
  const Eigen::Index m = static_cast<Eigen::Index>(x.shape[0]);
  const Eigen::Index n = static_cast<Eigen::Index>(x.shape[1] * x.shape[2]);
  Dataset data;
  // Row-major (m, h, w) is, read column-major as (h*w, m), exactly X with examples as columns.
  if (x.type_code == 0x08) {
    check_memory(x.count, images.string() + ": the header claims " + x.dims_text + " uint8 values = ", "");
    data.pixels.resize(n, m);
    if (x.count > 0)
      std::memcpy(data.pixels.data(), image_bytes.data.get() + x.data_offset, static_cast<std::size_t>(x.count));
  } else {
    const NumericArray values = parse_idx(image_bytes.view(), images.string());
    data.X = Eigen::Map<const Matrix<double>>(values.values.data(), n, m);
  }
  data.targets = y.values;
  data.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  for (Eigen::Index r = 0; r < static_cast<Eigen::Index>(x.shape[1]); ++r)
    for (Eigen::Index c = 0; c < static_cast<Eigen::Index>(x.shape[2]); ++c)
      data.feature_names.push_back("pixel_" + std::to_string(r) + "_" + std::to_string(c));
  data.named_features = true;
  data.target_name = "label";
  data.uint8_pixels = x.type_code == 0x08;
  data.source = std::string("builtin:fashion-mnist:") + (test_part ? "test" : "train");
  return data;
}

}  // namespace deepnet
