// sRGB <-> CIELAB (D65 white, the sRGB standard's transfer curve): quantize(space="lab") clusters in a
// space where Euclidean distance follows perceived colour difference better than in RGB.
#pragma once

#include <cstddef>

namespace pixclust {

// rgb: n x 3 sRGB values in [0, 1]; lab: n x 3 (L in [0, 100]). In-place (rgb == lab) is allowed.
void srgb_to_lab(const double* rgb, std::size_t n, double* lab) noexcept;
// The inverse; the result is not clipped (out-of-gamut Lab colours give values outside [0, 1]).
void lab_to_srgb(const double* lab, std::size_t n, double* rgb) noexcept;

}  // namespace pixclust
