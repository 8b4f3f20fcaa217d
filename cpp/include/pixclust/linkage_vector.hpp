// Hierarchical clustering from observations in O(n d) memory: the distances are computed as they are
// needed, never stored, so no n(n-1)/2 matrix is allocated. The result is the (n-1) x 4 linkage matrix
// of scipy.cluster.hierarchy.linkage: row i merges clusters Z[i,0] < Z[i,1] at height Z[i,2] into cluster
// n + i of Z[i,3] observations.
//
// Contract, on float64 input:
//  - single: SciPy's linkage(X, "single", metric) bit for bit, ties included, each distance computed
//    with the operations of scipy.spatial.distance.pdist for that metric, in its order, then SciPy's
//    stable sort by height and relabelling. In up to 8 dimensions and from a few thousand points
//    (not cosine) the minimum spanning tree comes from Borůvka's rounds over a kd-tree; when two of its
//    heights are equal, SciPy's matrix depends on Prim's visiting order, and Prim's tree from point 0
//    (O(n^2) time) is computed instead, as it is in every other case.
//  - ward, centroid, median (euclidean only): SciPy's merges whenever no two candidate distances tie,
//    and heights within about 1e-12 relative. The distances are those between cluster centroids (ward:
//    sqrt(2 |A||B| / (|A| + |B|)) ||c_A - c_B||; centroid: ||c_A - c_B|| with the size-weighted merged
//    centroid; median: the same with the midpoint), which round differently from SciPy's Lance-Williams
//    updates of stored distances. Ward runs the nearest-neighbour chain, centroid and median Müllner's
//    generic algorithm; the row order and ids follow SciPy's for each.
// float32 input: every distance and centroid is computed in double from the float32 values, as pdist
// computes on float32 observations converted to float64, so the result is that of the float64 input.
//
// Preconditions (std::invalid_argument otherwise): n >= 1 (n == 1 writes nothing), d >= 1, every value
// of X finite, method single, ward, centroid or median (complete, average and weighted need the distance
// matrix), metric euclidean for ward, centroid and median. Every distance must come out finite (a cosine
// distance to an all-zero row is NaN, a euclidean one between values near 1e200 overflows): SciPy's
// message for a non-finite distance matrix is thrown otherwise.
//
// weights: nullptr, or n whole numbers >= 0 with a positive sum below 2^53: the number of copies of
// each point. The tree above the zero-height merges of the copies is that of the repeated points (ward and
// centroid use the weights as cluster sizes); Z[:,3] still counts the observations (leaves), which
// SciPy's validity check, fcluster and dendrogram require. A zero-weight point is a cluster
// of size zero (ward: at distance zero from every cluster).
//
// n_threads = 0 uses up to max_threads(), fewer while other work keeps the CPUs busy; n_threads > 0 uses
// exactly that many. The result does not depend on the thread count. Throws Cancelled when `cancel` says
// so (polled between merges).
#pragma once

#include <cstddef>
#include <string_view>

#include "pixclust/cancel.hpp"
#include "pixclust/linkage.hpp"

namespace pixclust {

// The distances linkage_vector computes, each as scipy.spatial.distance.pdist defines it.
enum class VectorMetric { euclidean, sqeuclidean, cityblock, chebyshev, cosine };

// "euclidean", "sqeuclidean", ... ; throws std::invalid_argument for any other name.
VectorMetric vector_metric_from_name(std::string_view name);
std::string_view vector_metric_name(VectorMetric metric) noexcept;

// X: n x d, row-major. Z: room for (n-1) * 4 doubles, written row-major.
template <class T>
void linkage_vector(const T* X, std::size_t n, std::size_t d, LinkageMethod method, VectorMetric metric,
                    const double* weights, double* Z, int n_threads = 0, const CancelCheck& cancel = {});

extern template void linkage_vector<float>(const float*, std::size_t, std::size_t, LinkageMethod, VectorMetric,
                                           const double*, double*, int, const CancelCheck&);
extern template void linkage_vector<double>(const double*, std::size_t, std::size_t, LinkageMethod, VectorMetric,
                                            const double*, double*, int, const CancelCheck&);

}  // namespace pixclust
