// Pairwise Euclidean distances in SciPy's condensed order:
// out[n*i - i*(i+1)/2 + (j - i - 1)] = ||X[i] - X[j]||  for i < j.
#pragma once

#include <cstddef>

#include "pixclust/cancel.hpp"

namespace pixclust {

// Length of the condensed vector for n points: n*(n-1)/2.
constexpr std::size_t condensed_size(std::size_t n) noexcept { return n < 2 ? 0 : n * (n - 1) / 2; }

// X is row-major n x d. Sums of squares accumulate in double in coordinate order, then sqrt, as
// scipy.spatial.distance.pdist(X, "euclidean") does, so the results are bit-identical to SciPy's.
// n_threads = 0 uses max_threads(). The result does not depend on the thread count.
template <class T>
void pdist_euclidean(const T* X, std::size_t n, std::size_t d, double* out, int n_threads = 0,
                     const CancelCheck& cancel = {});

extern template void pdist_euclidean<float>(const float*, std::size_t, std::size_t, double*, int,
                                            const CancelCheck&);
extern template void pdist_euclidean<double>(const double*, std::size_t, std::size_t, double*, int,
                                             const CancelCheck&);

}  // namespace pixclust
