// `deepnet evaluate`: metrics of a saved model on a labelled data file.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/json_out.hpp"
#include "deepnet/metrics.hpp"
#include "deepnet/model_file.hpp"

namespace deepnet::cli {

namespace {

struct EvaluateSettings {
  std::string model;
  DataFlags data;
  bool json = false;
};

Model load_model_or_exit(const std::string& path) {
  return with_exit_code(exit_model, [&] { return load_model(path); });
}

int run_evaluate(const EvaluateSettings& s) {
  const Model model = load_model_or_exit(s.model);
  const Dataset data = load_for_model(s.data, model, s.model, true);
  const Prediction prediction = with_exit_code(exit_data, [&] { return predict(model, data); });
  // Class indices (or values), matched to the model's classes by name; a file
  // whose labels cannot be the model's is refused, naming the line.
  const std::vector<double> truth = with_exit_code(exit_data, [&] { return labels_for(data, model.encoding, "the model " + s.model); });
  nlohmann::ordered_json j;
  j["model"] = s.model;
  j["data"] = data.source;
  j["examples"] = data.examples();
  if (model.architecture.output == Output::linear) {
    const RegressionReport r = regression_report(truth, prediction.labels);
    if (s.json) {
      j["mse"] = r.mse;
      j["mae"] = r.mae;
      j["r2"] = r.r2;
      std::cout << dump_json(j) << '\n';
    } else {
      std::printf("examples: %lld\nmse: %.6g\nmae: %.6g\nr2: %.6f\n", static_cast<long long>(r.examples), r.mse,
                  r.mae, r.r2);
    }
    return exit_ok;
  }
  std::vector<int> true_class(truth.size()), predicted_class(truth.size());
  for (std::size_t k = 0; k < truth.size(); ++k) {
    true_class[k] = static_cast<int>(truth[k]);
    predicted_class[k] = static_cast<int>(prediction.labels[k]);
  }
  const ClassificationReport r =
      classification_report(true_class, predicted_class, prediction.outputs, model.encoding.class_names);
  if (s.json) {
    j["accuracy"] = r.accuracy;
    j["log_loss"] = r.log_loss;
    j["macro_precision"] = r.macro_precision;
    j["macro_recall"] = r.macro_recall;
    j["macro_f1"] = r.macro_f1;
    nlohmann::ordered_json classes = nlohmann::ordered_json::array();
    for (const ClassMetrics& c : r.classes)
      classes.push_back({{"class", c.name}, {"precision", c.precision}, {"recall", c.recall}, {"f1", c.f1},
                         {"support", c.support}});
    j["classes"] = classes;
    j["confusion_matrix"] = r.confusion;
    std::cout << dump_json(j) << '\n';
    return exit_ok;
  }
  std::printf("examples: %lld\naccuracy: %.4f\nlog-loss: %.6f\n\n", static_cast<long long>(r.examples), r.accuracy,
              r.log_loss);
  std::size_t width = 9;
  for (const ClassMetrics& c : r.classes) width = std::max(width, c.name.size());
  std::printf("%-*s  precision  recall  f1      support\n", static_cast<int>(width), "class");
  for (const ClassMetrics& c : r.classes)
    std::printf("%-*s  %9.4f  %6.4f  %6.4f  %7lld\n", static_cast<int>(width), c.name.c_str(), c.precision,
                c.recall, c.f1, static_cast<long long>(c.support));
  std::printf("%-*s  %9.4f  %6.4f  %6.4f  %7lld\n\n", static_cast<int>(width), "macro avg", r.macro_precision,
              r.macro_recall, r.macro_f1, static_cast<long long>(r.examples));
  std::size_t cell = 6;
  for (const ClassMetrics& c : r.classes) cell = std::max(cell, c.name.size());
  std::printf("confusion matrix (rows: true class, columns: predicted)\n%-*s", static_cast<int>(width), "");
  for (const ClassMetrics& c : r.classes) std::printf(" %*s", static_cast<int>(cell), c.name.c_str());
  std::printf("\n");
  for (std::size_t t = 0; t < r.classes.size(); ++t) {
    std::printf("%-*s", static_cast<int>(width), r.classes[t].name.c_str());
    for (std::int64_t count : r.confusion[t]) std::printf(" %*lld", static_cast<int>(cell), static_cast<long long>(count));
    std::printf("\n");
  }
  return exit_ok;
}

}  // namespace

Runner add_evaluate_command(CLI::App& app) {
  auto s = std::make_shared<EvaluateSettings>();
  CLI::App* cmd = app.add_subcommand(
      "evaluate", "Metrics of a saved model on labelled data: accuracy, log-loss, per-class precision/recall/F1, "
                  "confusion matrix (classifiers); MSE, MAE, R^2 (regression)");
  cmd->add_option("--model", s->model, "Model file written by 'deepnet train --out'")->required();
  add_data_flags(*cmd, s->data,
                 "Labelled data: a CSV file or a built-in set name; the label column is found by the model's label "
                 "name (else the last column), the features are matched to the model's by name");
  cmd->add_flag("--json", s->json, "Print the metrics as one JSON object");
  return [s] { return run_evaluate(*s); };
}

}  // namespace deepnet::cli
