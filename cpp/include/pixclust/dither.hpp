// Error-diffusion dithering onto a fixed palette: Floyd-Steinberg, optionally serpentine.
//
// The arithmetic is integer and fully specified, so any implementation that follows it (the NumPy
// reference in tests/test_dither.py does) gives the same labels bit for bit:
//
//   Values are carried in fixed point, 16 units per intensity level. err[y][x][c] starts at 0.
//   Rows go top to bottom; row y goes left to right, or right to left when serpentine and y is odd
//   (dir = +1 or -1). For each pixel x of row y, for each colour channel c:
//     X_c = clamp(16 * image[y][x][c] + err[y][x][c], 0, 16 * max(T))
//   label = the palette index j minimising sum_c (X_c - 16 * palette[j][c])^2 (lowest j on ties);
//   E_c = X_c - 16 * palette[label][c]; below full strength (s < kDitherStrengthOne) it is damped first:
//     E_c = floor((s * E_c + kDitherStrengthOne / 2) / kDitherStrengthOne)
//   and then split as
//     e7 = floor((7 E + 8) / 16), e3 = floor((3 E + 8) / 16), e5 = floor((5 E + 8) / 16),
//     e1 = E - e7 - e3 - e5          (the four shares sum to E exactly: no error is created or lost)
//   and added to err[y][x+dir] (e7), err[y+1][x-dir] (e3), err[y+1][x] (e5), err[y+1][x+dir] (e1);
//   shares that fall outside the image are dropped.
//
// Clamping the target colour keeps the carried error bounded (|err| <= 16 * max(T)) when the palette
// does not span the image's range, which is what keeps 64-bit distances exact for uint16 images.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pixclust/cancel.hpp"

namespace pixclust {

// The unit of the dithering strength: kDitherStrengthOne diffuses the whole error (plain
// Floyd-Steinberg), 0 none of it (each pixel its nearest colour), and s a share s / kDitherStrengthOne.
inline constexpr std::int32_t kDitherStrengthOne = 1024;

// image: height x width pixels of `stride` interleaved values of type T (uint8_t or uint16_t); the first
// `channels` of each pixel (1 to 4, <= stride) are dithered, the rest (alpha) are copied to `out`.
// palette: n_colors x channels values of type T. labels: height x width palette indices (written).
// out: height x width x stride image (the palette colours, extra channels copied), or nullptr.
// The pass is inherently sequential (each pixel depends on the ones before it), so it runs on the
// calling thread; the nearest-colour search is exact (see dither.cpp). Throws std::invalid_argument on
// bad sizes or a strength outside [0, kDitherStrengthOne], and pixclust::Cancelled when `cancel` returns
// true (checked between rows).
template <class T>
void dither_floyd_steinberg(const T* image, std::size_t height, std::size_t width, std::size_t stride,
                            std::size_t channels, const T* palette, std::size_t n_colors,
                            std::int32_t* labels, T* out = nullptr, bool serpentine = true,
                            const CancelCheck& cancel = {}, std::int32_t strength = kDitherStrengthOne);

extern template void dither_floyd_steinberg<std::uint8_t>(const std::uint8_t*, std::size_t, std::size_t,
                                                          std::size_t, std::size_t, const std::uint8_t*,
                                                          std::size_t, std::int32_t*, std::uint8_t*, bool,
                                                          const CancelCheck&, std::int32_t);
extern template void dither_floyd_steinberg<std::uint16_t>(const std::uint16_t*, std::size_t, std::size_t,
                                                           std::size_t, std::size_t, const std::uint16_t*,
                                                           std::size_t, std::int32_t*, std::uint16_t*, bool,
                                                           const CancelCheck&, std::int32_t);

}  // namespace pixclust
