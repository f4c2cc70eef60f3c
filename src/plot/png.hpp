#pragma once
// PNG pictures for `deepnet plot -o NAME.png` (docs/plots.md): an SVG document
// of our own writer (plot/svg.hpp) rendered in this process by librsvg onto a
// cairo image of the same size, and encoded as PNG by cairo.
#include <string>
#include <string_view>

namespace deepnet::plot {

// The bytes of a PNG file: `svg` rendered at width x height pixels on its own
// background (the writer paints a white one), 8 bits per channel. Throws
// std::runtime_error saying what failed (librsvg's or cairo's message).
std::string render_png(std::string_view svg, int width, int height);

}  // namespace deepnet::plot
