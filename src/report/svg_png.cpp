// librsvg renders the SVG onto a white cairo ARGB32 surface; cairo encodes it as PNG into memory.
#include "report/svg_png.h"

#include <cairo.h>
#include <librsvg/rsvg.h>

#include <cmath>
#include <memory>

#include "core/error.h"

namespace tune {

namespace {

struct GObjectUnref {
  void operator()(void* p) const { g_object_unref(p); }
};
struct SurfaceDestroy {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct CairoDestroy {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

std::string svg_to_png(const std::string& svg, const std::string& source) {
  GError* error = nullptr;
  std::unique_ptr<RsvgHandle, GObjectUnref> handle(
      rsvg_handle_new_from_data(reinterpret_cast<const guint8*>(svg.data()), svg.size(), &error));
  if (!handle) {
    const std::string why = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    fail(source, ": librsvg cannot read the SVG (", why, ")");
  }
  double w = 0, h = 0;
  TUNE_CHECK(rsvg_handle_get_intrinsic_size_in_pixels(handle.get(), &w, &h) && w >= 1 && h >= 1 && w <= 16384 &&
                 h <= 16384,
             source, ": the SVG has no usable pixel width and height");
  const int width = static_cast<int>(std::ceil(w)), height = static_cast<int>(std::ceil(h));
  std::unique_ptr<cairo_surface_t, SurfaceDestroy> surface(
      cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height));
  TUNE_CHECK(cairo_surface_status(surface.get()) == CAIRO_STATUS_SUCCESS, source, ": cairo cannot make a ", width,
             "x", height, " image");
  std::unique_ptr<cairo_t, CairoDestroy> cr(cairo_create(surface.get()));
  cairo_set_source_rgb(cr.get(), 1, 1, 1);  // white, as matplotlib saves LF's plots
  cairo_paint(cr.get());
  const RsvgRectangle viewport = {0, 0, static_cast<double>(width), static_cast<double>(height)};
  if (!rsvg_handle_render_document(handle.get(), cr.get(), &viewport, &error)) {
    const std::string why = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    fail(source, ": librsvg cannot render the SVG (", why, ")");
  }
  cairo_surface_flush(surface.get());
  std::string png;
  TUNE_CHECK(cairo_surface_write_to_png_stream(surface.get(), append_bytes, &png) == CAIRO_STATUS_SUCCESS, source,
             ": cairo cannot encode the PNG");
  return png;
}

}  // namespace tune
