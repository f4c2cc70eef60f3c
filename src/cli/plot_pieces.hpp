#pragma once
// Pictures of a training run, drawn by the pieces of `deepnet plot`
// (plot_command.cpp) for `deepnet train --plot DIR`. Each writes one SVG file
// atomically and throws CliError (with the exit code) on failure.
#include <string>

#include "deepnet/dataset.hpp"
#include "deepnet/model.hpp"

namespace deepnet::cli {

// From a history in the CSV form 'deepnet train --history' writes; `source`
// names it in titles and messages.
void plot_learning_curve(const std::string& history_csv, const std::string& source, const std::string& out);
void plot_training_diagnostics(const std::string& history_csv, const std::string& source, const std::string& out);
// Classifiers; the boundary needs data with 2 features.
void plot_confusion(const Model& model, const Dataset& data, const std::string& model_name, const std::string& out);
void plot_boundary(const Model& model, const Dataset& data, const std::string& model_name, const std::string& out);

}  // namespace deepnet::cli
