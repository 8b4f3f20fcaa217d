// Bit counts on 64-bit words, with the compiler's instruction where it has one (the colour bitmap,
// color_index.cpp; the lanes a Prim's block must compute, mst_vector.cpp).
#pragma once

#include <cstdint>

namespace pixclust::detail {

inline int popcount64(std::uint64_t x) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_popcountll(x);
#else
  int c = 0;
  for (; x; x &= x - 1) ++c;
  return c;
#endif
}

// The position of the lowest set bit; x != 0.
inline int ctz64(std::uint64_t x) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_ctzll(x);
#else
  int c = 0;
  for (; !(x & 1); x >>= 1) ++c;
  return c;
#endif
}

}  // namespace pixclust::detail
