// Matching a data file's columns to the ones a model (or the training data)
// was made with: by name where both sides have names, by position otherwise.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "deepnet/preprocess.hpp"
#include "deepnet/error.hpp"

namespace deepnet {

namespace {

std::string quoted_list(const std::vector<std::string>& names, std::size_t most = 8) {
  std::string text;
  for (std::size_t k = 0; k < names.size() && k < most; ++k) text += (k ? ", '" : "'") + names[k] + "'";
  if (names.size() > most) text += ", ... (" + std::to_string(names.size()) + " in all)";
  return text;
}

}  // namespace

void match_features(Dataset& data, const std::vector<std::string>& names, const std::string& reference) {
  const std::size_t n = names.size();
  if (!data.named_features || names.empty()) {
    // One side has no header: the columns can only be taken by position.
    if (static_cast<std::size_t>(data.features()) != n && !names.empty())
      throw Error(data.source + ": has " + std::to_string(data.features()) + " feature columns but " + reference +
                  " expects " + std::to_string(n) + (data.named_features ? "" : " (the file has no header, so columns are taken by position)"));
    return;
  }
  std::map<std::string, Eigen::Index> column;
  for (std::size_t c = 0; c < data.feature_names.size(); ++c) column.emplace(data.feature_names[c], static_cast<Eigen::Index>(c));
  std::vector<std::string> missing, extra;
  std::vector<Eigen::Index> order;
  for (const std::string& name : names) {
    const auto found = column.find(name);
    if (found == column.end())
      missing.push_back(name);
    else
      order.push_back(found->second);
  }
  for (const std::string& name : data.feature_names)
    if (std::find(names.begin(), names.end(), name) == names.end()) extra.push_back(name);
  if (!missing.empty() || !extra.empty()) {
    std::string message = data.source + ": the columns do not match " + reference + "'s features by name:";
    if (!missing.empty()) message += " missing " + quoted_list(missing) + (extra.empty() ? "" : ";");
    if (!extra.empty())
      message += " not among them " + quoted_list(extra) + " (a row id or another column: remove it, or name it as the label)";
    throw Error(message);
  }
  bool same_order = true;
  for (std::size_t k = 0; k < order.size(); ++k) same_order = same_order && order[k] == static_cast<Eigen::Index>(k);
  if (same_order) return;
  data.expand_pixels();  // rare: images whose pixel columns come in another order
  Matrix<double> X(static_cast<Eigen::Index>(n), data.examples());
  for (std::size_t k = 0; k < n; ++k) X.row(static_cast<Eigen::Index>(k)) = data.X.row(order[k]);
  data.X = std::move(X);
  data.feature_names = names;
  data.notes.push_back("columns matched to " + reference + "'s features by name (their order differs)");
}

}  // namespace deepnet
