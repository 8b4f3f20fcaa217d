#include "pixclust/pdist.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "parallel.hpp"

namespace pixclust {

template <class T>
void pdist_euclidean(const T* X, std::size_t n, std::size_t d, double* out, int n_threads,
                     const CancelCheck& cancel) {
  if (n < 2) return;
  [[maybe_unused]] const int threads = detail::resolve_threads(n_threads);  // only read by omp pragmas
  detail::CancelPoller poller(cancel);
  // Rows in blocks so that Ctrl-C is seen between blocks; inside a block, rows are shared out
  // dynamically (row i has n-1-i entries). Every output is written by exactly one thread with the
  // same arithmetic, so the thread count cannot change a bit.
  const std::size_t block = 256;
  for (std::size_t first = 0; first + 1 < n; first += block) {
    const auto last = static_cast<std::ptrdiff_t>(std::min(n - 1, first + block));
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
    for (std::ptrdiff_t si = static_cast<std::ptrdiff_t>(first); si < last; ++si) {
      const auto i = static_cast<std::size_t>(si);
      const T* xi = X + i * d;
      double* row = out + (n * i - i * (i + 1) / 2);
      for (std::size_t j = i + 1; j < n; ++j) {
        const T* xj = X + j * d;
        double s = 0.0;
        for (std::size_t k = 0; k < d; ++k) {
          const double diff = static_cast<double>(xi[k]) - static_cast<double>(xj[k]);
          s += diff * diff;
        }
        row[j - i - 1] = std::sqrt(s);
      }
    }
    poller.poll();
  }
}

template void pdist_euclidean<float>(const float*, std::size_t, std::size_t, double*, int,
                                     const CancelCheck&);
template void pdist_euclidean<double>(const double*, std::size_t, std::size_t, double*, int,
                                      const CancelCheck&);

}  // namespace pixclust
