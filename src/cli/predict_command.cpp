// `deepnet predict`: a saved model's predictions as CSV, one row per example.
#include <cstdio>
#include <iostream>

#include "cli/cli.hpp"
#include "deepnet/files.hpp"
#include "deepnet/model_file.hpp"

namespace deepnet::cli {

namespace {

struct PredictSettings {
  std::string model;
  DataFlags data;
  bool proba = false;
  std::string out;
};

// CSV field: quoted when it holds a delimiter, quote or line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

int run_predict(const PredictSettings& s) {
  if (!s.out.empty()) with_exit_code(exit_model, [&] { return io::check_writable(s.out), 0; });
  const Model model = with_exit_code(exit_model, [&] { return load_model(s.model); });
  // The file may hold just the features, or the features and the label column
  // (found by the model's label name and left out); features are matched by name.
  const Dataset data = load_for_model(s.data, model, s.model, false);
  const Prediction p = with_exit_code(exit_data, [&] { return predict(model, data); });
  const bool classifier = model.architecture.output != Output::linear;
  std::string csv = "prediction";
  // One column per row of the outputs: P(class) for one sigmoid unit and softmax;
  // a sigmoid output of several units gives each unit's probability (output_1, ...).
  const bool per_class = static_cast<std::size_t>(p.outputs.rows()) == model.encoding.class_names.size();
  if (s.proba && classifier)
    for (Eigen::Index k = 0; k < p.outputs.rows(); ++k)
      csv.append(",").append(per_class ? csv_field("proba_" + model.encoding.class_names[static_cast<std::size_t>(k)])
                                       : "output_" + std::to_string(k + 1));
  csv += "\n";
  for (std::size_t j = 0; j < p.labels.size(); ++j) {
    csv += classifier ? csv_field(model.encoding.class_names.at(static_cast<std::size_t>(p.labels[j])))
                      : number(p.labels[j]);
    if (s.proba && classifier)
      for (Eigen::Index k = 0; k < p.outputs.rows(); ++k) csv.append(",").append(number(p.outputs(k, static_cast<Eigen::Index>(j))));
    csv += "\n";
  }
  if (s.out.empty()) {
    std::fwrite(csv.data(), 1, csv.size(), stdout);
  } else {
    with_exit_code(exit_model, [&] {
      io::write_file_atomically(s.out, csv);
      return 0;
    });
  }
  return exit_ok;
}

}  // namespace

Runner add_predict_command(CLI::App& app) {
  auto s = std::make_shared<PredictSettings>();
  CLI::App* cmd = app.add_subcommand(
      "predict", "Predict with a saved model: CSV with header, one row per example in input order; first column "
                 "'prediction' (class name or regression value)");
  cmd->add_option("--model", s->model, "Model file written by 'deepnet train --out'")->required();
  add_data_flags(*cmd, s->data,
                 "Input data: a CSV file with the model's feature columns, matched by name when the file and the "
                 "model have headers (a label column, found by the model's label name, is left out) or a built-in "
                 "set name");
  cmd->add_flag("--proba", s->proba, "Add one probability column per class (proba_<class>); a sigmoid output of several units: one per unit (output_1, ...)");
  cmd->add_option("--out", s->out, "Write the CSV here (atomically) instead of stdout");
  return [s] { return run_predict(*s); };
}

}  // namespace deepnet::cli
