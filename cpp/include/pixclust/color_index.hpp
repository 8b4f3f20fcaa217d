// The distinct colours of an image and how often each occurs: k-means on the distinct colours, weighted by
// their counts, has exactly the objective of k-means on the pixels, on 10-100x fewer points.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pixclust/cancel.hpp"

namespace pixclust {

// What index_colors returns: the distinct colours, `channels` values each, sorted lexicographically,
// and the number of pixels of each.
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

// The union of two colour indexes (two chunks of one image): the colours of both, sorted, with the
// counts of a colour present in both summed. Each input holds n_a (n_b) distinct colours of `channels`
// values, sorted lexicographically as index_colors returns them, with non-negative counts; a linear
// merge, so merging chunk indexes in a fixed order gives the index of the whole image exactly.
// Throws std::invalid_argument, before merging, when an input is not strictly sorted or a count is
// negative, and std::overflow_error when a summed count passes 2^63 - 1.
template <class T>
ColorIndex<T> merge_color_counts(const T* colors_a, const std::int64_t* counts_a, std::size_t n_a,
                                 const T* colors_b, const std::int64_t* counts_b, std::size_t n_b,
                                 std::size_t channels);

// Whether every values[i] (i < n) lies in [0, limit): the check before the entries index anything, in
// parallel.
bool indices_in_range(const std::int32_t* values, std::size_t n, std::int64_t limit, int n_threads = 0);

// values[i] = table[values[i]] for i < n, in parallel (colour numbers -> cluster labels, in place).
// Throws std::invalid_argument, before writing anything, when an entry is not an index into the table
// (table_size entries).
void remap_labels(std::int32_t* values, std::size_t n, const std::int32_t* table, std::size_t table_size,
                  int n_threads = 0);

// out[i] = table[values[i]] as bytes (table entries in [0, 256): a palette image's index map without the
// int32 map in between). Throws std::invalid_argument, before writing anything, on an entry out of range.
void remap_labels_u8(const std::int32_t* values, std::size_t n, const std::int32_t* table, std::size_t table_size,
                     std::uint8_t* out, int n_threads = 0);

// The weighted moments of integer points (distinct colours and their counts) in exact integers: the
// total weight, and per column the sums of w * x and of w * x^2 (the mean variance behind k-means' tol,
// exactly). n points of d values; weights (counts) must be non-negative with sum(w) * max(T)^2 below 2^63,
// which keeps every sum exact in int64 (std::invalid_argument otherwise, before any sum).
struct IntegerMoments {
  std::int64_t total = 0;
  std::vector<std::int64_t> s1, s2;  // d values each
};
template <class T>
IntegerMoments integer_moments(const T* points, std::size_t n, std::size_t d, const std::int64_t* weights);

// The quantized image: out pixel p gets palette row labels[p] in its first `channels` values and keeps
// src's remaining values (alpha) when stride > channels. out and src are n x stride; src may be nullptr
// when stride == channels.
template <class T>
void paint_pixels(const std::int32_t* labels, std::size_t n, const T* palette, std::size_t channels,
                  const T* src, std::size_t stride, T* out, int n_threads = 0);

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

extern template IntegerMoments integer_moments<std::uint8_t>(const std::uint8_t*, std::size_t, std::size_t,
                                                            const std::int64_t*);
extern template IntegerMoments integer_moments<std::uint16_t>(const std::uint16_t*, std::size_t, std::size_t,
                                                             const std::int64_t*);

#define PIXCLUST_MERGE_EXTERN(T)                                                                          \
  extern template ColorIndex<T> merge_color_counts<T>(const T*, const std::int64_t*, std::size_t, const T*, \
                                                      const std::int64_t*, std::size_t, std::size_t);
PIXCLUST_MERGE_EXTERN(std::uint8_t)
PIXCLUST_MERGE_EXTERN(std::uint16_t)
#undef PIXCLUST_MERGE_EXTERN

#define PIXCLUST_PAINT_EXTERN(T)                                                                       \
  extern template void paint_pixels<T>(const std::int32_t*, std::size_t, const T*, std::size_t, const T*, \
                                       std::size_t, T*, int);
PIXCLUST_PAINT_EXTERN(std::uint8_t)
PIXCLUST_PAINT_EXTERN(std::uint16_t)
PIXCLUST_PAINT_EXTERN(float)
PIXCLUST_PAINT_EXTERN(double)
#undef PIXCLUST_PAINT_EXTERN

}  // namespace pixclust
