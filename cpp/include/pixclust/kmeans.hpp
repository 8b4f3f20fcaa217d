// Weighted k-means (Lloyd's algorithm) with scikit-learn's conventions, exact and thread-count independent.
//
// Points are row-major n x d arrays of uint8, uint16, float or double; all arithmetic is in double. The
// result does not depend on the number of threads: every per-point quantity is computed by one thread
// with fixed arithmetic, and every sum is taken per fixed-size chunk of points and reduced in chunk order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pixclust/cancel.hpp"

namespace pixclust {

// How kmeans_lloyd finds the nearest centres; both give the same bits.
enum class KMeansAlgorithm {
  lloyd,    // every point compares itself with every centre, every iteration
  hamerly,  // Hamerly's bounds skip most comparisons (8-bit RGB with integer weights: whole 4x4x4 colour
            // cells instead); the same labels and centres as `lloyd`, bit for bit
};

// The knobs of one kmeans_lloyd run (scikit-learn's `max_iter` and `tol`, the algorithm, the threads).
struct KMeansOptions {
  int max_iter = 300;
  // Absolute tolerance on the sum of squared centre shifts between two iterations (scikit-learn's
  // `_tol`, i.e. `tol * mean variance of the data`; the caller scales it). 0 stops only when no label changes.
  double tol = 0.0;
  KMeansAlgorithm algorithm = KMeansAlgorithm::hamerly;
  int n_threads = 0;  // 0: max_threads()
  // The weights are whole counts of unit-weight samples (distinct points and their multiplicities): an
  // empty cluster is re-seeded with one sample of a far point, not the whole point, so that the run is
  // scikit-learn's on the samples themselves.
  bool sample_counts = false;
};

// What one kmeans_lloyd run reports besides its centres and labels.
struct KMeansStats {
  double inertia = 0.0;             // sum of w_i * ||x_i - c_{label_i}||^2 to the returned centres
  int n_iter = 0;                   // iterations run (scikit-learn's n_iter_)
  bool strict_convergence = false;  // stopped because no label changed
};

// One run of weighted k-means from the given centres, as scikit-learn's `_kmeans_single_lloyd` defines it:
// assign, update, re-seed empty clusters with the points farthest from their centres, stop when no label
// changes or the squared centre shift is <= tol; then re-assign so that the labels are those of the final
// centres. Ties go to the lowest centre index.
//   X        n x d points; weights: n finite, non-negative weights or nullptr (all 1). The weights are
//            not checked (a pass over them per call): others give unspecified centres, never an
//            out-of-bounds access. n, d, k >= 1, options.max_iter >= 1, options.tol >= 0 are checked
//            (std::invalid_argument).
//   centers  k x d, in: the initial centres, out: the final ones
//   labels   n outputs
template <class T>
KMeansStats kmeans_lloyd(const T* X, std::size_t n, std::size_t d, const double* weights, double* centers,
                         std::size_t k, std::int32_t* labels, const KMeansOptions& options = {},
                         const CancelCheck& cancel = {});

// Labels of the nearest centres (lowest index on ties) and the weighted inertia to them (predict/score).
template <class T>
double kmeans_assign(const T* X, std::size_t n, std::size_t d, const double* weights, const double* centers,
                     std::size_t k, std::int32_t* labels, int n_threads = 0, const CancelCheck& cancel = {});

// Euclidean distances of every point to every centre: out is n x k (transform).
template <class T>
void kmeans_distances(const T* X, std::size_t n, std::size_t d, const double* centers, std::size_t k,
                      double* out, int n_threads = 0, const CancelCheck& cancel = {});

// The order in which k-means++ draws: by default the points themselves; for k-means on distinct
// colours, the pixels (sample s is point `point[s]` with weight `weight[s]`, 1 when weight is nullptr).
// Drawing along the pixels with the random numbers scikit-learn would use picks the centres
// scikit-learn picks on the pixels, so the same seed gives the same clustering.
struct SamplingOrder {
  const std::int32_t* point = nullptr;
  const double* weight = nullptr;
  std::size_t size = 0;
};

// Greedy k-means++ (Arthur & Vassilvitskii, with scikit-learn's local trials): the first centre is drawn
// with probability proportional to the weights, each further one as the best of `n_local_trials`
// candidates drawn proportionally to weight * squared distance to the nearest chosen centre.
// `uniforms` holds the random numbers in [0, 1) in the order they are used: 1 + (k - 1) * n_local_trials
// (the caller draws them, so that its random stream is the one scikit-learn consumes).
// Writes up to k centres (k x d) and their point indices. Returns how many centres it chose: fewer than
// k only when every point with positive weight is at squared distance 0 from a chosen centre: fewer than
// k distinct points, or points so close that their squared distance underflows. With a sampling order,
// `weights` must be the per-point sums of the samples' weights.
template <class T>
std::size_t kmeans_plusplus(const T* X, std::size_t n, std::size_t d, const double* weights, std::size_t k,
                            std::size_t n_local_trials, const double* uniforms, double* centers,
                            std::int64_t* indices, const SamplingOrder& order = {}, int n_threads = 0,
                            const CancelCheck& cancel = {});

#define PIXCLUST_KMEANS_EXTERN(T)                                                                         \
  extern template KMeansStats kmeans_lloyd<T>(const T*, std::size_t, std::size_t, const double*, double*, \
                                              std::size_t, std::int32_t*, const KMeansOptions&,            \
                                              const CancelCheck&);                                         \
  extern template double kmeans_assign<T>(const T*, std::size_t, std::size_t, const double*,             \
                                          const double*, std::size_t, std::int32_t*, int,                 \
                                          const CancelCheck&);                                             \
  extern template void kmeans_distances<T>(const T*, std::size_t, std::size_t, const double*, std::size_t, \
                                           double*, int, const CancelCheck&);                             \
  extern template std::size_t kmeans_plusplus<T>(const T*, std::size_t, std::size_t, const double*,      \
                                                 std::size_t, std::size_t, const double*, double*,        \
                                                 std::int64_t*, const SamplingOrder&, int, const CancelCheck&);
PIXCLUST_KMEANS_EXTERN(std::uint8_t)
PIXCLUST_KMEANS_EXTERN(std::uint16_t)
PIXCLUST_KMEANS_EXTERN(float)
PIXCLUST_KMEANS_EXTERN(double)
#undef PIXCLUST_KMEANS_EXTERN

}  // namespace pixclust
