#include "plot/png.hpp"

#include <cairo.h>
#include <librsvg/rsvg.h>

#include <stdexcept>
#include <string>

namespace deepnet::plot {

namespace {

// Collects what cairo encodes; a failed append (out of memory) stops the encoder.
cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  try {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
  } catch (...) {
    return CAIRO_STATUS_NO_MEMORY;
  }
}

std::string take_message(GError* error) {
  std::string message = error != nullptr && error->message != nullptr ? error->message : "no reason given";
  if (error != nullptr) g_error_free(error);
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  return message;
}

}  // namespace

std::string render_png(std::string_view svg, int width, int height) {
  if (width <= 0 || height <= 0) throw std::invalid_argument("render_png: the size must be positive");
  GError* error = nullptr;
  RsvgHandle* handle =
      rsvg_handle_new_from_data(reinterpret_cast<const guint8*>(svg.data()), svg.size(), &error);
  if (handle == nullptr) throw std::runtime_error("librsvg cannot read the SVG: " + take_message(error));

  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  cairo_t* cr = cairo_create(surface);
  const RsvgRectangle viewport{0, 0, static_cast<double>(width), static_cast<double>(height)};
  std::string failure;
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS)
    failure = std::string("cairo cannot make a ") + std::to_string(width) + " x " + std::to_string(height) +
              " image: " + cairo_status_to_string(cairo_surface_status(surface));
  else if (!rsvg_handle_render_document(handle, cr, &viewport, &error))
    failure = "librsvg cannot render the SVG: " + take_message(error);
  std::string png;
  if (failure.empty()) {
    cairo_surface_flush(surface);
    const cairo_status_t status = cairo_surface_write_to_png_stream(surface, append_bytes, &png);
    if (status != CAIRO_STATUS_SUCCESS) failure = std::string("cairo cannot encode the PNG: ") + cairo_status_to_string(status);
  }
  cairo_destroy(cr);
  cairo_surface_destroy(surface);
  g_object_unref(handle);
  if (!failure.empty()) throw std::runtime_error(failure);
  return png;
}

}  // namespace deepnet::plot
