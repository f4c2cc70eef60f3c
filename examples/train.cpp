// Trains a classifier with deepnet::fit on a built-in data set, scores it on a
// held-out quarter and saves the model. A program that uses the installed
// library: examples/CMakeLists.txt builds it with find_package(deepnet), the
// top-level build as example_train; docs/api.md walks through it.
//   train [MODEL_FILE [DATA_SET]]    defaults: model.dnn, breast-cancer
#include <cstdio>
#include <string>

#include "deepnet/data.hpp"        // load_builtin
#include "deepnet/dataset.hpp"     // Dataset: X is (n_x, m), one column per example
#include "deepnet/error.hpp"       // Error
#include "deepnet/fit.hpp"         // FitSettings, fit, FitResult, score_model, SettingError
#include "deepnet/model_file.hpp"  // save_model
#include "deepnet/preprocess.hpp"  // split_dataset
#include "deepnet/version.hpp"     // DEEPNET_VERSION_STRING

int main(int argc, char** argv) {
  const std::string model_path = argc > 1 ? argv[1] : "model.dnn";
  const std::string data_name = argc > 2 ? argv[2] : "breast-cancer";
  try {
    const deepnet::Dataset data = deepnet::load_builtin(data_name);
    // A quarter of the examples held out for the final score, stratified by class.
    const auto [train, test] = deepnet::split_dataset(data, 0.25, /*stratify=*/true, /*seed=*/7);

    deepnet::FitSettings settings;  // mini-batch Adam until the training cost converges
    settings.hidden_layers = {16};  // one hidden layer of 16 relu units
    settings.learning_rate = 0.01;  // Adam (the default optimizer) at 1e-2 instead of 1e-3
    settings.seed = 7;
    const deepnet::FitResult result = deepnet::fit(train, /*validation=*/nullptr, settings);

    for (const std::string& warning : result.warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
    const deepnet::PartScore score = deepnet::score_model(result.model, test, "test");
    std::printf("deepnet %s: %s on %s, %d epochs\n", DEEPNET_VERSION_STRING,
                result.model.architecture.describe().c_str(), data_name.c_str(), result.state.epochs_done);
    std::printf("training accuracy: %.4f\n", result.scores.front().accuracy);
    std::printf("test accuracy: %.4f (%lld examples)\n", score.accuracy, static_cast<long long>(score.examples));

    deepnet::save_model(model_path, result.model);  // atomic: the old file or the new one
    std::printf("saved %s\n", model_path.c_str());
    return 0;
  } catch (const deepnet::SettingError& e) {  // names the FitSettings member: e.setting()
    std::fprintf(stderr, "train: bad setting %s: %s\n", e.setting().c_str(), e.message().c_str());
  } catch (const deepnet::Error& e) {  // every other failure: bad data, unwritable file, ...
    std::fprintf(stderr, "train: %s\n", e.what());
  }
  return 1;
}
