#pragma once
// The search picture, drawn by `deepnet plot search` and `deepnet search --plot`:
// the mean score of each finished trial against the parameters that vary.
#include <string>
#include <utility>
#include <vector>

#include "cli/search/search_log.hpp"
#include "plot/svg.hpp"

namespace deepnet::cli {

// Draws the search picture on svg: the mean score (error bars: +- the standard
// deviation over folds) against each parameter that varies, one panel each,
// or against `param` alone. A layers sweep of one hidden layer is drawn
// against the number of hidden units. Failed trials are not drawn. Throws
// CliError (usage) for a `param` the records do not have, (data) for no records.
void draw_search_plot(plot::Svg& svg, const std::vector<SearchRecord>& records, const std::string& param,
                      const std::string& title);
// The picture size search --plot uses for n panels.
std::pair<int, int> search_plot_size(const std::vector<SearchRecord>& records, const std::string& param);

}  // namespace deepnet::cli
