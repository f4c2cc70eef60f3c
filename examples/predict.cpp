// Loads a model file and predicts with it: the first predictions by class
// name, and the accuracy (or, for a regression model, the mean squared error)
// on labelled data. The companion of train.cpp (docs/api.md).
//   predict MODEL_FILE [DATA]    DATA: a built-in data set or a CSV/NPY/NPZ/HDF5/IDX file
//                                (default: breast-cancer)
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "deepnet/data.hpp"        // load_dataset
#include "deepnet/dataset.hpp"     // Dataset
#include "deepnet/error.hpp"       // Error
#include "deepnet/fit.hpp"         // labels_for, accuracy_of, mse_of
#include "deepnet/model.hpp"       // Model, predict, Prediction
#include "deepnet/model_file.hpp"  // load_model
#include "deepnet/preprocess.hpp"  // match_features

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: predict MODEL_FILE [DATA]\n");
    return 2;
  }
  const std::string model_path = argv[1];
  const std::string data_name = argc > 2 ? argv[2] : "breast-cancer";
  try {
    const deepnet::Model model = deepnet::load_model(model_path);  // verified: magic, version, checksum
    deepnet::Dataset data = deepnet::load_dataset(data_name);
    // Columns in the model's order (by name when both have names).
    deepnet::match_features(data, model.feature_names, "the model " + model_path);

    // Raw features in, normalised with the model's own normaliser inside.
    const deepnet::Prediction prediction = deepnet::predict(model, data.X);
    const bool classifier = model.encoding.output != deepnet::Output::linear;
    const std::size_t shown = std::min<std::size_t>(5, prediction.labels.size());
    for (std::size_t j = 0; j < shown; ++j) {
      const double label = prediction.labels[j];
      if (classifier)
        std::printf("example %zu: %s\n", j + 1, model.encoding.class_names.at(static_cast<std::size_t>(label)).c_str());
      else
        std::printf("example %zu: %g\n", j + 1, label);
    }

    const std::vector<double> truth = deepnet::labels_for(data, model.encoding, "the model " + model_path);
    if (classifier)
      std::printf("accuracy: %.4f (%zu examples)\n", deepnet::accuracy_of(prediction.labels, truth), truth.size());
    else
      std::printf("mse: %g (%zu examples)\n", deepnet::mse_of(prediction.labels, truth), truth.size());
    return 0;
  } catch (const deepnet::Error& e) {  // unreadable or damaged model, bad data, feature mismatch
    std::fprintf(stderr, "predict: %s\n", e.what());
    return 1;
  }
}
