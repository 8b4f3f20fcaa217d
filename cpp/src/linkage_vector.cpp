// linkage_vector(): argument checks, the choice of algorithm, and the count column.
#include "pixclust/linkage_vector.hpp"

#include <cmath>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "linkage_vector_common.hpp"
#include "numeric_constants.hpp"

namespace pixclust {

namespace {

constexpr std::string_view kMetricNames[] = {"euclidean", "sqeuclidean", "cityblock", "chebyshev", "cosine"};


void check_arguments(std::size_t n, std::size_t d, LinkageMethod method, VectorMetric metric) {
  if (n < 1) throw std::invalid_argument("linkage_vector: needs at least 1 observation");
  if (d < 1) throw std::invalid_argument("linkage_vector: observations need at least 1 coordinate");
  if (method == LinkageMethod::complete || method == LinkageMethod::average || method == LinkageMethod::weighted) {
    throw std::invalid_argument("linkage_vector: method " + std::string(linkage_method_name(method)) +
                                " needs the distance matrix; use linkage()");
  }
  if (method != LinkageMethod::single && metric != VectorMetric::euclidean) {
    throw std::invalid_argument("linkage_vector: method " + std::string(linkage_method_name(method)) +
                                " needs the euclidean metric");
  }
}

template <class T>
void check_finite(const T* X, std::size_t m) {
  for (std::size_t k = 0; k < m; ++k)
    if (!std::isfinite(X[k])) throw std::invalid_argument("linkage_vector: the observations must be finite");
}

// Every centroid lies in the observations' bounding box, so no squared distance exceeds its squared
// diagonal, nor a ward key the diagonal times the total size: when that product is finite, no distance
// the algorithms compute overflows.
template <class T>
void check_range(const T* X, std::size_t n, std::size_t d, double total) {
  double diag = 0;
  for (std::size_t k = 0; k < d; ++k) {
    double lo = static_cast<double>(X[k]), hi = lo;
    for (std::size_t i = 1; i < n; ++i) {
      const double v = static_cast<double>(X[i * d + k]);
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    diag += (hi - lo) * (hi - lo);
  }
  if (!std::isfinite(2.0 * diag * total))
    throw std::invalid_argument("linkage_vector: the observations are so spread out that the distances overflow");
}

void check_weights(const double* w, std::size_t n) {
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!(w[i] >= 0) || w[i] != std::floor(w[i]) || !std::isfinite(w[i]))
      throw std::invalid_argument("linkage_vector: weights must be whole numbers >= 0");
    sum += w[i];
  }
  if (!(sum > 0) || sum > detail::kExactIntegerLimit)  // whole numbers below 2^53 add exactly in double
    throw std::invalid_argument("linkage_vector: the weights must have a positive sum of at most 2^53");
}

// Z[:,3] as the number of leaves (Z's ids are final): the weighted sizes would fail SciPy's validity check
// ("excessive observations in a cluster"), and fcluster and dendrogram with it (tests/test_linkage_vector.py).
void count_leaves(double* Z, std::size_t n) {
  std::vector<double> count(2 * n - 1, 1.0);
  for (std::size_t r = 0; r + 1 < n; ++r) {
    double* row = Z + 4 * r;
    count[n + r] = count[static_cast<std::size_t>(row[0])] + count[static_cast<std::size_t>(row[1])];
    row[3] = count[n + r];
  }
}

}  // namespace

VectorMetric vector_metric_from_name(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kMetricNames); ++i)
    if (kMetricNames[i] == name) return static_cast<VectorMetric>(i);
  throw std::invalid_argument("Unknown metric for linkage_vector: " + std::string(name));
}

std::string_view vector_metric_name(VectorMetric metric) noexcept {
  return kMetricNames[static_cast<std::size_t>(metric)];
}

template <class T>
void linkage_vector(const T* X, std::size_t n, std::size_t d, LinkageMethod method, VectorMetric metric,
                    const double* weights, double* Z, int n_threads, const CancelCheck& cancel) {
  check_arguments(n, d, method, metric);
  check_finite(X, n * d);
  if (weights != nullptr) check_weights(weights, n);
  if (n == 1) return;
  const int threads = detail::resolve_threads(n_threads);
  const bool adaptive = n_threads <= 0;
  detail::CancelPoller poller(cancel);
  if (method == LinkageMethod::single) {
    detail::mst_vector(X, n, d, metric, Z, threads, adaptive, poller);
    if (weights != nullptr) count_leaves(Z, n);
    return;
  }
  const std::vector<double> size = weights != nullptr ? std::vector<double>(weights, weights + n)
                                                      : std::vector<double>(n, 1.0);
  double total = 0;
  for (const double s : size) total += s;
  check_range(X, n, d, total);
  detail::centroid_linkage(X, n, d, method, size.data(), Z, threads, adaptive, poller);
  if (weights != nullptr) count_leaves(Z, n);
}

template void linkage_vector<float>(const float*, std::size_t, std::size_t, LinkageMethod, VectorMetric,
                                    const double*, double*, int, const CancelCheck&);
template void linkage_vector<double>(const double*, std::size_t, std::size_t, LinkageMethod, VectorMetric,
                                     const double*, double*, int, const CancelCheck&);

}  // namespace pixclust
