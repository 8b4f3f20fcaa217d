// Private helpers shared by the k-means kernels (the Lloyd driver, its iteration kernels and k-means++):
// squared distances with the dimension known at compile time for the common pixel cases, and the
// nearest-centre search, one point at a time or a block of points at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "default_init_allocator.hpp"  // RawVector
#include "numeric_constants.hpp"
#include "parallel.hpp"  // (and omp.h)

namespace pixclust::detail {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The sizes every k-means entry point needs (k also bounds the int32 labels).
inline void check_sizes(std::size_t n, std::size_t d, std::size_t k) {
  if (n == 0) throw std::invalid_argument("k-means: no points");
  if (d == 0) throw std::invalid_argument("k-means: points have no coordinates");
  if (k == 0) throw std::invalid_argument("k-means: k must be >= 1");
  if (k > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw std::invalid_argument("k-means: k does not fit the int32 labels");
}

// Squared Euclidean distance of point x to centre c, summed in coordinate order in double.
// D > 0 fixes the dimension at compile time (d is then ignored); D == 0 uses d.
template <std::size_t D, class T>
inline double sqdist(const T* x, const double* c, std::size_t d) noexcept {
  const std::size_t dim = D > 0 ? D : d;
  double s = 0.0;
  for (std::size_t j = 0; j < dim; ++j) {
    const double diff = static_cast<double>(x[j]) - c[j];
    s += diff * diff;
  }
  return s;
}

// The smallest and second-smallest of values offered in index order, and the index of the smallest
// (the first of equals: strict <).
struct TwoSmallest {
  double first = kInf, second = kInf;
  std::size_t at = 0;
  void offer(double v, std::size_t j) noexcept {
    if (v < first) {
      second = first;
      first = v;
      at = j;
    } else if (v < second) {
      second = v;
    }
  }
};

// Nearest centre of x (lowest index on ties) with the smallest and second-smallest squared distances.
template <std::size_t D, class T>
inline std::int32_t nearest(const T* x, const double* C, std::size_t k, std::size_t d, double& best,
                            double& second) noexcept {
  TwoSmallest m;
  for (std::size_t j = 0; j < k; ++j) m.offer(sqdist<D>(x, C + j * d, d), j);
  best = m.first;
  second = m.second;
  return static_cast<std::int32_t>(m.at);
}

// A kernel body that each instruction-set copy below inlines into itself (its loops then vectorised for
// that copy's instructions).
#if defined(__GNUC__) || defined(__clang__)
#define PIXCLUST_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define PIXCLUST_ALWAYS_INLINE inline
#endif

// Points per sub-block of the vectorised nearest-centre search (its scratch lives on the stack).
constexpr std::size_t kBlock = 256;

// nearest() for m points at once, given as D coordinate columns (column t at xs + t * kBlock): the centre
// loop outside, the point loop inside, so that the compiler computes several points per instruction.
// Each point still sees the arithmetic of sqdist<D> (0 + d0^2 + d1^2 + ..., in coordinate order, no
// fused multiply-add) and the centres in index order with the same comparisons, so labels and distances
// are those of nearest(), bit for bit.
template <std::size_t D>
PIXCLUST_ALWAYS_INLINE void nearest_block_impl(const double* __restrict xs, std::size_t m,
                                               const double* __restrict C, std::size_t k,
                                               std::int32_t* __restrict lab, double* __restrict best,
                                               double* __restrict second) {
  for (std::size_t i = 0; i < m; ++i) {
    best[i] = kInf;
    second[i] = kInf;
    lab[i] = 0;
  }
  for (std::size_t j = 0; j < k; ++j) {
    double c[D];
    for (std::size_t t = 0; t < D; ++t) c[t] = C[j * D + t];
    const auto label = static_cast<std::int32_t>(j);
    for (std::size_t i = 0; i < m; ++i) {
      double s = 0.0;
      for (std::size_t t = 0; t < D; ++t) {
        const double diff = xs[t * kBlock + i] - c[t];
        s += diff * diff;
      }
      const double b = best[i], sc = second[i];
      const bool closer = s < b;
      second[i] = closer ? b : (s < sc ? s : sc);
      best[i] = closer ? s : b;
      lab[i] = closer ? label : lab[i];
    }
  }
}

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define PIXCLUST_AVX2_DISPATCH 1
// Whether this CPU runs the AVX2 copies of the kernels (asked once).
inline bool cpu_has_avx2() noexcept {
  static const bool avx2 = __builtin_cpu_supports("avx2") != 0;
  return avx2;
}
template <std::size_t D>
__attribute__((target("avx2"))) void nearest_block_avx2(const double* xs, std::size_t m, const double* C, std::size_t k,
                                                        std::int32_t* lab, double* best, double* second) {
  nearest_block_impl<D>(xs, m, C, k, lab, best, second);
}
#endif

template <std::size_t D>
void nearest_block_default(const double* xs, std::size_t m, const double* C, std::size_t k, std::int32_t* lab,
                           double* best, double* second) {
  nearest_block_impl<D>(xs, m, C, k, lab, best, second);
}

// The widest copy this CPU runs (the same results from each: the arithmetic is element by element).
template <std::size_t D>
void nearest_block(const double* xs, std::size_t m, const double* C, std::size_t k, std::int32_t* lab,
                   double* best, double* second) {
#ifdef PIXCLUST_AVX2_DISPATCH
  if (cpu_has_avx2()) return nearest_block_avx2<D>(xs, m, C, k, lab, best, second);
#endif
  nearest_block_default<D>(xs, m, C, k, lab, best, second);
}

}  // namespace pixclust::detail
