// Nearest centres and distances to them for given centres (predict, score, transform); the fitting
// itself is kmeans_lloyd.cpp's.
#include "pixclust/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kmeans_detail.hpp"

namespace pixclust {

using detail::kBlock;
using detail::nearest;
using detail::nearest_block;
using detail::sqdist;

template <class T>
double kmeans_assign(const T* X, std::size_t n, std::size_t d, const double* weights, const double* centers,
                     std::size_t k, std::int32_t* labels, int n_threads, const CancelCheck& cancel) {
  detail::check_sizes(n, d, k);
  const detail::ThreadRequest request(n_threads);
  const int threads = detail::resolve_threads(n_threads);
  detail::CancelPoller poller(cancel);
  std::vector<double> part(detail::n_chunks(n), 0.0);
  detail::dispatch_dim(d, [&](auto dim) {
    constexpr std::size_t D = decltype(dim)::value;
    detail::for_chunks(n, threads, poller, [&](std::size_t c, std::size_t b, std::size_t e) {
      double s = 0.0;
      if constexpr (D > 0) {
        double xs[D * kBlock], best[kBlock], second[kBlock];
        for (std::size_t sb = b; sb < e; sb += kBlock) {
          const std::size_t m = std::min(e, sb + kBlock) - sb;
          for (std::size_t q = 0; q < m; ++q)
            for (std::size_t t = 0; t < D; ++t) xs[t * kBlock + q] = static_cast<double>(X[(sb + q) * D + t]);
          nearest_block<D>(xs, m, centers, k, labels + sb, best, second);
          for (std::size_t q = 0; q < m; ++q) s += (weights ? weights[sb + q] : 1.0) * best[q];
        }
      } else {
        for (std::size_t i = b; i < e; ++i) {
          double best, second;
          labels[i] = nearest<D>(X + i * d, centers, k, d, best, second);
          s += (weights ? weights[i] : 1.0) * best;
        }
      }
      part[c] = s;
    });
  });
  double total = 0.0;
  for (double p : part) total += p;
  return total;
}

template <class T>
void kmeans_distances(const T* X, std::size_t n, std::size_t d, const double* centers, std::size_t k,
                      double* out, int n_threads, const CancelCheck& cancel) {
  detail::check_sizes(n, d, k);
  const detail::ThreadRequest request(n_threads);
  const int threads = detail::resolve_threads(n_threads);
  detail::CancelPoller poller(cancel);
  detail::dispatch_dim(d, [&](auto dim) {
    constexpr std::size_t D = decltype(dim)::value;
    detail::for_chunks(n, threads, poller, [&](std::size_t, std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i)
        for (std::size_t j = 0; j < k; ++j) out[i * k + j] = std::sqrt(sqdist<D>(X + i * d, centers + j * d, d));
    });
  });
}

#define PIXCLUST_KMEANS_INSTANTIATE(T)                                                                     \
  template double kmeans_assign<T>(const T*, std::size_t, std::size_t, const double*, const double*,      \
                                   std::size_t, std::int32_t*, int, const CancelCheck&);                   \
  template void kmeans_distances<T>(const T*, std::size_t, std::size_t, const double*, std::size_t, double*, \
                                    int, const CancelCheck&);
PIXCLUST_KMEANS_INSTANTIATE(std::uint8_t)
PIXCLUST_KMEANS_INSTANTIATE(std::uint16_t)
PIXCLUST_KMEANS_INSTANTIATE(float)
PIXCLUST_KMEANS_INSTANTIATE(double)
#undef PIXCLUST_KMEANS_INSTANTIATE

}  // namespace pixclust
