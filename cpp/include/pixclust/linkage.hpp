// Agglomerative hierarchical clustering on a condensed distance matrix, returning the very linkage
// matrix scipy.cluster.hierarchy.linkage returns: (n-1) rows of (id_a, id_b, height, count), id_a <
// id_b, cluster n+i formed by row i.
//
// The arithmetic, search order and tie rules are SciPy's (Lance-Williams updates written as SciPy writes
// them; single linkage by Prim's minimum spanning tree, complete/average/weighted/ward by the
// nearest-neighbour chain, centroid/median by Müllner's generic algorithm), so float64 input gives
// SciPy's bits. Single linkage on 2000 points or more first runs SLINK, one sequential pass over the
// input, whose matrix is SciPy's whenever the merge heights are distinct; Prim's runs only when two
// are equal. float32 input is kept as float32: the updates are computed in double and stored as
// float32, which halves the memory and matches SciPy to float32 precision.
//
// Distances so large that an update may overflow (float64: from about 1e150 for ward, centroid and
// median, DBL_MAX / 2n for average, DBL_MAX / 4 for weighted; float32 ward: FLT_MAX / sqrt(2n)), and
// negative distances for ward, centroid and median (whose square roots may then see a negative
// argument), are clustered by SciPy's own steps, in float64, so that a working distance that becomes
// infinite or NaN plays out exactly as in SciPy: the result is SciPy's matrix when SciPy's is a valid
// tree with finite heights; where SciPy raises its ValueError ("find_min_dist cannot find any
// neighbors ..."), and where SciPy's result would use a cluster twice, merge a cluster with itself or
// have a non-finite height, LinkageOverflowError is thrown. Single and complete linkage never overflow.
#pragma once

#include <cstddef>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "pixclust/cancel.hpp"

namespace pixclust {

// The linkage criteria, named and defined as in scipy.cluster.hierarchy.linkage.
enum class LinkageMethod { single, complete, average, weighted, ward, centroid, median };

// "single", "complete", ... ; throws std::invalid_argument for any other name.
LinkageMethod linkage_method_from_name(std::string_view name);
std::string_view linkage_method_name(LinkageMethod method) noexcept;

// Thrown when the working copy cannot be allocated; what() says how many bytes were needed.
class LinkageMemoryError : public std::bad_alloc {
 public:
  LinkageMemoryError(std::string message, std::size_t bytes) : message_(std::move(message)), bytes_(bytes) {}
  const char* what() const noexcept override { return message_.c_str(); }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  std::string message_;
  std::size_t bytes_;
};

// Thrown when the distance updates overflow and SciPy's result would be no valid linkage matrix (or
// SciPy itself raises). Scaling the distances down by a constant gives the same tree, heights scaled.
class LinkageOverflowError : public std::domain_error {
 public:
  using std::domain_error::domain_error;
};

// Bytes of order n^2 that linkage() allocates besides its input: one copy of the condensed matrix, or 0
// for single linkage (which only reads it). Throws std::length_error when that does not fit a size_t.
std::size_t linkage_working_bytes(std::size_t n, LinkageMethod method, std::size_t item_size);

// D: the condensed distances of n >= 2 points (n*(n-1)/2 values, SciPy's order), all finite.
// Z: room for (n-1)*4 doubles, written row-major. n_threads = 0 uses up to max_threads(), fewer in the
// short parallel phases while other work keeps the CPUs busy; n_threads > 0 uses exactly that many. The
// result does not depend on the thread count. Throws std::invalid_argument for n < 2 or a non-finite distance,
// LinkageOverflowError when the updates overflow (see the top of this file), LinkageMemoryError when the
// working copy cannot be allocated, Cancelled when `cancel` says so.
//
// linkage() leaves D untouched and works on one copy of it (none for single linkage);
// linkage_overwrite() works on D itself and leaves it in an unspecified state (single linkage only reads
// it), so the peak extra memory is O(n). Either needs a float64 copy of a float32 input whose ward
// updates may exceed float32's range (clustered in float64 then, as SciPy does).
template <class T>
void linkage(const T* D, std::size_t n, LinkageMethod method, double* Z, int n_threads = 0,
             const CancelCheck& cancel = {});
template <class T>
void linkage_overwrite(T* D, std::size_t n, LinkageMethod method, double* Z, int n_threads = 0,
                       const CancelCheck& cancel = {});

extern template void linkage<float>(const float*, std::size_t, LinkageMethod, double*, int,
                                    const CancelCheck&);
extern template void linkage<double>(const double*, std::size_t, LinkageMethod, double*, int,
                                     const CancelCheck&);
extern template void linkage_overwrite<float>(float*, std::size_t, LinkageMethod, double*, int,
                                              const CancelCheck&);
extern template void linkage_overwrite<double>(double*, std::size_t, LinkageMethod, double*, int,
                                               const CancelCheck&);

}  // namespace pixclust
