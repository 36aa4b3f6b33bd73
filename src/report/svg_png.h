// SVG text -> PNG bytes, rendered by librsvg onto a cairo image surface (the plots' PNG twins, as LF writes PNGs).
#pragma once
#include <string>

namespace tune {

// Renders an SVG document at its own width x height (pixels) on a white background and returns the PNG file bytes.
// `source` names the document in the tune::Error thrown when librsvg cannot read it or cairo cannot encode it.
std::string svg_to_png(const std::string& svg, const std::string& source);

}  // namespace tune
