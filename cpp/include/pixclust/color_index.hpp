// The distinct colours of an image and how often each occurs: k-means on the distinct colours, weighted by
// their counts, has exactly the objective of k-means on the pixels, on 10-100x fewer points.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pixclust/cancel.hpp"

namespace pixclust {

template <class T>
struct ColorIndex {
  std::size_t channels = 0;
  std::vector<T> colors;             // size() x channels, row-major
  std::vector<std::int64_t> counts;  // pixels of each colour
  std::size_t size() const noexcept { return counts.size(); }
};

// Pixel p has `channels` values at pixels[p * stride .. p * stride + channels) (stride >= channels lets
// the caller index the colour channels of an RGBA image without copying them out). Writes the colour
// number of every pixel to pixel_color (n entries; may be nullptr).
//
// The colours come out sorted lexicographically (first channel first), so the index depends neither on
// the pixel order nor on the thread count. Colours whose bits fit in 24 (8-bit data with up to 3
// channels, 16-bit with 1) are found with a bitmap of all possible colours in two parallel passes;
// others (16-bit colour, RGBA, floats) with a hash table in one pass, then sorted.
// Floating-point colours are compared by value (-0.0 == 0.0); NaN must be rejected by the caller.
// Throws std::length_error when n >= 2^31 (colour numbers are int32).
template <class T>
ColorIndex<T> index_colors(const T* pixels, std::size_t n, std::size_t channels, std::size_t stride,
                           std::int32_t* pixel_color, int n_threads = 0, const CancelCheck& cancel = {});

// values[i] = table[values[i]] for i < n, in parallel (colour numbers -> cluster labels, in place).
void remap_labels(std::int32_t* values, std::size_t n, const std::int32_t* table, int n_threads = 0);

extern template ColorIndex<std::uint8_t> index_colors<std::uint8_t>(const std::uint8_t*, std::size_t, std::size_t,
                                                                     std::size_t, std::int32_t*, int,
                                                                     const CancelCheck&);
extern template ColorIndex<std::uint16_t> index_colors<std::uint16_t>(const std::uint16_t*, std::size_t,
                                                                      std::size_t, std::size_t, std::int32_t*,
                                                                      int, const CancelCheck&);
extern template ColorIndex<float> index_colors<float>(const float*, std::size_t, std::size_t, std::size_t,
                                                      std::int32_t*, int, const CancelCheck&);
extern template ColorIndex<double> index_colors<double>(const double*, std::size_t, std::size_t, std::size_t,
                                                        std::int32_t*, int, const CancelCheck&);

}  // namespace pixclust
