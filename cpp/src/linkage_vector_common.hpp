// Private pieces of linkage_vector (linkage_vector.cpp, mst_vector.cpp, centroid_linkage.cpp): the
// distances between observations, computed as scipy.spatial.distance.pdist computes them, and the
// algorithms' entry points.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "linkage_common.hpp"
#include "pixclust/linkage_vector.hpp"

namespace pixclust::detail {

// The dot product as SciPy's compiled pdist computes it for cosine: two interleaved partial sums over the
// even-length prefix, added, then the last coordinate if d is odd. Its C source sums in order, but the
// wheel's build vectorises that loop in two lanes; measured bit for bit against scipy 1.17's pdist for
// d = 2..33 (tests/test_linkage_vector.py, test_single_matches_scipy, cosine).
template <class T>
inline double pdist_dot(const T* a, const T* b, std::size_t d) {
  double s0 = 0.0, s1 = 0.0;
  std::size_t k = 0;
  for (; k + 1 < d; k += 2) {
    s0 += static_cast<double>(a[k]) * static_cast<double>(b[k]);
    s1 += static_cast<double>(a[k + 1]) * static_cast<double>(b[k + 1]);
  }
  double s = s0 + s1;
  if (k < d) s += static_cast<double>(a[k]) * static_cast<double>(b[k]);
  return s;
}

// pdist's step of the sum over coordinates: acc with the difference of one coordinate folded in.
template <VectorMetric M>
inline double fold_coordinate(double acc, double diff) {
  if constexpr (M == VectorMetric::euclidean || M == VectorMetric::sqeuclidean) {
    return acc + diff * diff;
  } else if constexpr (M == VectorMetric::cityblock) {
    return acc + std::fabs(diff);
  } else {  // chebyshev: a maximum, exact in any order
    const double a_diff = std::fabs(diff);
    return a_diff > acc ? a_diff : acc;
  }
}

// The distance between rows a and b (d values each) with pdist's operations in pdist's order: for the
// differences, a sum over the coordinates from the first, in double, from 0.0 (SciPy's
// distance_metrics.h accumulates each pair sequentially; its unrolling runs across pairs, not
// coordinates), so a float64 input gives pdist's bits (tests/test_linkage_vector.py,
// test_single_matches_scipy). float32 values are widened first, as pdist widens float32 observations.
// norm_a, norm_b: the rows' norms, read by cosine only.
template <VectorMetric M, class T>
inline double vector_distance(const T* a, const T* b, std::size_t d, double norm_a, double norm_b) {
  if constexpr (M == VectorMetric::cosine) {
    const double dot = pdist_dot(a, b, d);
    double cosine = dot / (norm_a * norm_b);
    if (std::fabs(cosine) > 1.0) cosine = std::copysign(1.0, cosine);  // SciPy clips the rounding error
    return 1.0 - cosine;
  } else {
    (void)norm_a;
    (void)norm_b;
    double s = 0.0;
    for (std::size_t k = 0; k < d; ++k)
      s = fold_coordinate<M>(s, static_cast<double>(a[k]) - static_cast<double>(b[k]));
    if constexpr (M == VectorMetric::euclidean) return std::sqrt(s);
    return s;
  }
}

// pdist's row norms for cosine: sqrt of the row's dot product with itself (the same two-lane sum).
template <class T>
std::vector<double> row_norms(const T* X, std::size_t n, std::size_t d) {
  std::vector<double> norms(n);
  for (std::size_t i = 0; i < n; ++i) norms[i] = std::sqrt(pdist_dot(X + i * d, X + i * d, d));
  return norms;
}

// SciPy's error for a distance that is not finite (linkage.cpp's message).
[[noreturn]] void throw_non_finite();

// Single linkage by Prim's on distances computed on the fly (mst_vector.cpp). Z: rows sorted and
// relabelled, counts of points (linkage_vector puts the weights in).
template <class T>
void mst_vector(const T* X, std::size_t n, std::size_t d, VectorMetric metric, double* Z, int threads,
                bool adaptive, CancelPoller& poller);

// Single linkage by Borůvka's rounds over a kd-tree (mst_boruvka.cpp), for euclidean, sqeuclidean,
// cityblock and chebyshev. Returns false, Z unspecified, when it cannot give SciPy's matrix bit for bit
// (tied heights, or distances that may overflow): the caller then runs Prim's.
template <class T>
bool mst_boruvka(const T* X, std::size_t n, std::size_t d, VectorMetric metric, double* Z, int threads,
                 CancelPoller& poller);

// Ward, centroid, median on cluster centroids (centroid_linkage.cpp); size: each point's weight.
// Z: complete, counts = sums of size.
template <class T>
void centroid_linkage(const T* X, std::size_t n, std::size_t d, LinkageMethod method, const double* size,
                      double* Z, int threads, bool adaptive, CancelPoller& poller);

}  // namespace pixclust::detail
