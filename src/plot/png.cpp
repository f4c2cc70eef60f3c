#include "plot/png.hpp"

#include <cairo.h>
#include <dlfcn.h>
#include <librsvg/rsvg.h>

#include <mutex>
#include <stdexcept>
#include <string>

namespace deepnet::plot {

namespace {

// librsvg (and, through it, cairo and GLib) is opened on the first PNG, not
// linked: its 50 libraries cost every deepnet command about 10 ms of start-up,
// and only `plot -o NAME.png` and `train --plot` need them. The functions are
// looked up by their names in the headers' types.
#define DEEPNET_RSVG_FUNCTIONS(X)                                                                      \
  X(rsvg_handle_new_from_data) X(rsvg_handle_render_document) X(cairo_image_surface_create)           \
  X(cairo_create) X(cairo_surface_status) X(cairo_status_to_string) X(cairo_surface_flush)            \
  X(cairo_surface_write_to_png_stream) X(cairo_destroy) X(cairo_surface_destroy) X(g_object_unref)    \
  X(g_error_free)

struct Rsvg {
#define DEEPNET_RSVG_POINTER(name) decltype(&::name) name = nullptr;
  DEEPNET_RSVG_FUNCTIONS(DEEPNET_RSVG_POINTER)
#undef DEEPNET_RSVG_POINTER
};

// The library's file name: its soname, which CMake read from the library it found.
#ifndef DEEPNET_RSVG_SONAME
#define DEEPNET_RSVG_SONAME "librsvg-2.so.2"
#endif

const Rsvg& rsvg() {
  static Rsvg functions;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    void* library = ::dlopen(DEEPNET_RSVG_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
      const char* why = ::dlerror();
      failure = std::string("PNG output needs librsvg (" DEEPNET_RSVG_SONAME ", Debian package librsvg2-2): ") +
                (why ? why : "it cannot be loaded");
      return;
    }
#define DEEPNET_RSVG_LOOKUP(name)                                                                \
  if (failure.empty()) {                                                                        \
    functions.name = reinterpret_cast<decltype(functions.name)>(::dlsym(library, #name));        \
    if (functions.name == nullptr) failure = "PNG output: " DEEPNET_RSVG_SONAME " has no " #name; \
  }
    DEEPNET_RSVG_FUNCTIONS(DEEPNET_RSVG_LOOKUP)
#undef DEEPNET_RSVG_LOOKUP
  });
  if (!failure.empty()) throw std::runtime_error(failure);
  return functions;
}

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
  if (error != nullptr) rsvg().g_error_free(error);
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  return message;
}

}  // namespace

std::string render_png(std::string_view svg, int width, int height) {
  if (width <= 0 || height <= 0) throw std::invalid_argument("render_png: the size must be positive");
  const Rsvg& r = rsvg();
  GError* error = nullptr;
  RsvgHandle* handle =
      r.rsvg_handle_new_from_data(reinterpret_cast<const guint8*>(svg.data()), svg.size(), &error);
  if (handle == nullptr) throw std::runtime_error("librsvg cannot read the SVG: " + take_message(error));

  cairo_surface_t* surface = r.cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  cairo_t* cr = r.cairo_create(surface);
  const RsvgRectangle viewport{0, 0, static_cast<double>(width), static_cast<double>(height)};
  std::string failure;
  if (r.cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS)
    failure = std::string("cairo cannot make a ") + std::to_string(width) + " x " + std::to_string(height) +
              " image: " + r.cairo_status_to_string(r.cairo_surface_status(surface));
  else if (!r.rsvg_handle_render_document(handle, cr, &viewport, &error))
    failure = "librsvg cannot render the SVG: " + take_message(error);
  std::string png;
  if (failure.empty()) {
    r.cairo_surface_flush(surface);
    const cairo_status_t status = r.cairo_surface_write_to_png_stream(surface, append_bytes, &png);
    if (status != CAIRO_STATUS_SUCCESS) failure = std::string("cairo cannot encode the PNG: ") + r.cairo_status_to_string(status);
  }
  r.cairo_destroy(cr);
  r.cairo_surface_destroy(surface);
  r.g_object_unref(handle);
  if (!failure.empty()) throw std::runtime_error(failure);
  return png;
}

}  // namespace deepnet::plot
