#pragma once
// The decision-boundary picture of a classifier on two features, drawn by
// `deepnet plot boundary` and by `deepnet search --plot` for each setting:
// the classes' regions (the model evaluated on a grid of cells), the examples
// on top coloured by their true class, and a legend of the classes.
#include <string>
#include <vector>

#include "deepnet/dataset.hpp"
#include "deepnet/matrix.hpp"
#include "deepnet/model.hpp"
#include "plot/svg.hpp"

namespace deepnet::plot {

// A classifier's answers on labelled examples: what its pictures show.
struct ClassifiedExamples {
  std::vector<int> truth;      // true class index per example (into the model's class names)
  std::vector<int> predicted;  // predicted class index per example
  Prediction prediction;
  double accuracy = 0;  // the share of examples predicted right
};

// The model on the data. Throws deepnet::Error when the data's features do not
// fit the model, or naming the example whose label is not one of its classes.
ClassifiedExamples classify_examples(const Model& model, const Dataset& data);

// The default title: "decision boundary: MODEL on DATA, accuracy 0.9125", the
// model and the data named by the last part of their paths.
std::string boundary_title(const std::string& model_path, const std::string& data_path, double accuracy);

// Cells per side of the grid the model is evaluated on, unless told otherwise.
inline constexpr int boundary_grid = 200;

// Draws the picture on svg (its size is the picture's): `title` on top, the
// model's regions on a grid x grid cells over the plot area, the examples
// (X: 2 x m, truth: their class indices) on top, and the legend at the right.
// feature_names label the axes ("feature 1" where missing). Throws
// deepnet::Error when the model cannot be evaluated on two features.
void draw_boundary(Svg& svg, const std::string& title, const Model& model, const Matrix<double>& X,
                   const std::vector<int>& truth, const std::vector<std::string>& feature_names,
                   int grid = boundary_grid);

}  // namespace deepnet::plot
