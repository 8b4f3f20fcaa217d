// The Lloyd driver (scikit-learn's `_kmeans_single_lloyd`): it loops over the iteration kernels
// (kmeans_plain.cpp, kmeans_hamerly.cpp, kmeans_grid.cpp), reduces their rows of sums in order (a row
// per chunk, or per thread for exact integer sums), re-seeds empty clusters and moves the centres.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "kmeans_lloyd.hpp"
#include "pixclust/kmeans.hpp"

namespace pixclust {

namespace {

using detail::sqdist;

template <std::size_t D, class T>
class LloydRun {
 public:
  LloydRun(const T* X, std::size_t n, std::size_t d, const double* w, std::size_t k, const KMeansOptions& opt,
           const CancelCheck& cancel)
      : s_(X, n, d, w, k, opt, cancel), sums_(s_.stride), base_sums_(s_.stride, 0.0), new_centers_(k * d) {
    s_.incremental = exact_integer_sums();
    if constexpr (std::is_same_v<T, std::uint8_t> && D == 3) {
      if (s_.hamerly() && s_.incremental && n >= detail::kGridMinPoints) grid_.emplace(s_);
    }
    if (s_.hamerly() && !grid_) {  // the grid keeps bounds per cell, not per point
      s_.upper.assign(n, 0.0);
      s_.lower.assign(n, 0.0);
    }
  }

  KMeansStats run(double* centers, std::int32_t* labels) {
    KMeansStats stats;
    std::fill(labels, labels + s_.n, std::int32_t{-1});
    if (s_.hamerly() && !grid_) s_.slack_scale = data_scale();
    bool bounds_valid = false;  // Hamerly's bounds are set by the first full assignment
    bool stale = false;         // labels unchanged, but a re-seeded cluster took a point's weight
    int it = 0;
    for (; it < s_.opt.max_iter; ++it) {
      const std::size_t changed = assign(centers, labels, bounds_valid, /*accumulate=*/true, it);
      bounds_valid = s_.hamerly();
      const bool relocated = update_centers(centers, labels);
      double shift_total = 0.0, shift_max = 0.0;
      for (std::size_t j = 0; j < s_.k; ++j) {
        shift_total += s_.shift[j] * s_.shift[j];
        shift_max = std::max(shift_max, s_.shift[j]);
        s_.drift[j] += s_.shift[j];
      }
      s_.drift_max += shift_max;
      std::copy(new_centers_.begin(), new_centers_.end(), centers);
      if (changed == 0) {
        // A re-seeded cluster moved a point's weight away from its label's centre: the labels are stale
        // (scikit-learn returns them so; tests/test_kmeans.py::test_labels_after_a_last_relocation).
        stats.strict_convergence = true;
        stale = relocated;
        break;
      }
      if (shift_total <= s_.opt.tol) break;
    }
    stats.n_iter = std::min(it + 1, s_.opt.max_iter);
    // The centres moved after the last assignment: give every point the label of its final centre.
    if (!stats.strict_convergence || stale) assign(centers, labels, bounds_valid, /*accumulate=*/false, it);
    sync_labels(labels);
    stats.inertia = inertia(centers, labels);
    return stats;
  }

 private:
  std::size_t assign(const double* C, std::int32_t* labels, bool bounds_valid, bool accumulate, int it) {
    if constexpr (std::is_same_v<T, std::uint8_t> && D == 3) {
      if (grid_) return grid_->assign(s_, C, accumulate);
    }
    if (s_.hamerly()) return detail::assign_hamerly(s_, C, labels, bounds_valid, accumulate, it);
    return detail::assign_plain(s_, C, labels, accumulate);
  }

  // The grid keeps its labels in cell order: they are written out where they are read (scattered
  // writes at every change cost more than the searches that find them).
  void sync_labels(std::int32_t* labels) {
    if constexpr (std::is_same_v<T, std::uint8_t> && D == 3) {
      if (grid_) grid_->write_labels(s_, labels);
    }
  }

  // Integer coordinates with integer weights whose weighted sums stay below 2^53: every sum of w*x is
  // then an integer computed exactly in double, whatever the order. The cluster sums can be kept up to
  // date from the points that changed cluster alone, with the very bits a full recomputation gives.
  bool exact_integer_sums() {
    if constexpr (!std::is_integral_v<T>) {
      return false;
    } else {
      // Per chunk: whether every weight is an integer, and their sum (exact: integers below 2^53).
      std::vector<double> chunk_total(s_.chunks, 0.0);
      std::vector<unsigned char> chunk_whole(s_.chunks, 1);
      detail::for_chunks(s_.n, s_.threads, s_.poller, [&](std::size_t c, std::size_t b, std::size_t e) {
        double t = 0.0;
        bool whole = true;
        for (std::size_t i = b; i < e; ++i) {
          const double wi = s_.weight(i);
          whole &= detail::is_whole_weight(wi);
          t += wi;
        }
        chunk_total[c] = t;
        chunk_whole[c] = whole ? 1 : 0;
      });
      double total = 0.0;
      for (std::size_t c = 0; c < s_.chunks; ++c) {
        if (!chunk_whole[c]) return false;
        total += chunk_total[c];
      }
      return total * static_cast<double>(std::numeric_limits<T>::max()) < detail::kExactIntegerLimit;
    }
  }

  // The largest coordinate magnitude times sqrt(d): the scale of every distance, for the bound slack.
  double data_scale() {
    std::vector<double> chunk_max(s_.chunks, 0.0);
    detail::for_chunks(s_.n, s_.threads, s_.poller, [&](std::size_t c, std::size_t b, std::size_t e) {
      double m = 0.0;
      for (std::size_t i = b * s_.d; i < e * s_.d; ++i) m = std::max(m, std::fabs(static_cast<double>(s_.X[i])));
      chunk_max[c] = m;
    });
    const double m = *std::max_element(chunk_max.begin(), chunk_max.end());
    return m * std::sqrt(static_cast<double>(s_.d));
  }

  // Sums the rows in order, re-seeds empty clusters, divides; new_centers_ and s_.shift result. True when
  // a cluster was re-seeded.
  bool update_centers(const double* C, std::int32_t* labels) {
    // A row per chunk, in order: the float sums do not depend on the thread count. With exact integer
    // sums a row per thread holds the changes since the last iteration, added to the running sums (exact
    // in any order).
    std::vector<double>& target = s_.incremental ? base_sums_ : sums_;
    if (!s_.incremental) std::fill(sums_.begin(), sums_.end(), 0.0);
    for (std::size_t c = 0; c < s_.sum_rows(); ++c) {
      const double* acc = s_.partial.data() + c * s_.stride;
      for (std::size_t e = 0; e < s_.stride; ++e) target[e] += acc[e];
    }
    // Re-seeding changes the sums of this update only, not the sums of the labels' clusters.
    if (s_.incremental) sums_ = base_sums_;
    const std::size_t d = s_.d;
    std::vector<std::size_t> empty;
    for (std::size_t j = 0; j < s_.k; ++j)
      if (sums_[j * (d + 1) + d] == 0.0) empty.push_back(j);
    if (!empty.empty()) {
      sync_labels(labels);
      relocate(C, labels, empty);
    }
    for (std::size_t j = 0; j < s_.k; ++j) {
      const double* s = sums_.data() + j * (d + 1);
      const double wj = s[d];
      double* out = new_centers_.data() + j * d;
      for (std::size_t t = 0; t < d; ++t) out[t] = wj > 0.0 ? s[t] / wj : s[t];
      s_.shift[j] = std::sqrt(sqdist<0>(out, C + j * d, d));
    }
    return !empty.empty();
  }

  // scikit-learn's rule: the empty clusters take, in order, the points farthest from their centres
  // (ties: lowest index first, so the choice is deterministic); each point's weighted sum moves from its
  // cluster to the new one. Labels are left as they are, as scikit-learn does. With sample counts a point
  // stands for that many unit samples, and each empty cluster takes one of them, as scikit-learn's rule
  // does on the samples (several empty clusters can take copies of one point).
  void relocate(const double* C, const std::int32_t* labels, const std::vector<std::size_t>& empty) {
    const std::size_t d = s_.d;
    // Distinct points to rank: each gives at least one sample, so the m farthest are enough.
    const std::size_t m = std::min(empty.size(), s_.n);
    using Far = std::pair<double, std::size_t>;
    auto farther = [](const Far& p, const Far& q) { return p.first > q.first || (p.first == q.first && p.second < q.second); };
    std::vector<std::vector<Far>> best(s_.chunks);
    detail::for_chunks(s_.n, s_.threads, s_.poller, [&](std::size_t c, std::size_t b, std::size_t e) {
      std::vector<Far>& top = best[c];
      top.reserve(m + 1);
      for (std::size_t i = b; i < e; ++i) {
        const Far f{sqdist<D>(s_.point(i), C + static_cast<std::size_t>(labels[i]) * d, d), i};
        if (top.size() < m || farther(f, top.back())) {
          top.insert(std::upper_bound(top.begin(), top.end(), f, farther), f);
          if (top.size() > m) top.pop_back();
        }
      }
    });
    std::vector<Far> all;
    for (const auto& top : best) all.insert(all.end(), top.begin(), top.end());
    std::sort(all.begin(), all.end(), farther);
    std::size_t r = 0;
    for (std::size_t a = 0; a < m && r < empty.size(); ++a) {
      const std::size_t i = all[a].second;
      const std::size_t from = static_cast<std::size_t>(labels[i]);
      const double wi = s_.opt.sample_counts ? 1.0 : s_.weight(i);
      const double copies = s_.opt.sample_counts ? s_.weight(i) : 1.0;
      for (double c = 0.0; c < copies && r < empty.size(); c += 1.0, ++r) {
        double* sf = sums_.data() + from * (d + 1);
        double* st = sums_.data() + empty[r] * (d + 1);
        for (std::size_t t = 0; t < d; ++t) {
          const double v = static_cast<double>(s_.point(i)[t]) * wi;
          sf[t] -= v;
          st[t] = v;
        }
        sf[d] -= wi;
        st[d] = wi;
      }
    }
  }

  double inertia(const double* C, const std::int32_t* labels) {
    std::vector<double> part(s_.chunks, 0.0);
    detail::for_chunks(s_.n, s_.threads, s_.poller, [&](std::size_t c, std::size_t b, std::size_t e) {
      double s = 0.0;
      for (std::size_t i = b; i < e; ++i)
        s += s_.weight(i) * sqdist<D>(s_.point(i), C + static_cast<std::size_t>(labels[i]) * s_.d, s_.d);
      part[c] = s;
    });
    double total = 0.0;
    for (double p : part) total += p;
    return total;
  }

  detail::LloydState<D, T> s_;
  std::optional<detail::ColorGrid> grid_;  // 8-bit RGB with incremental sums (kmeans_grid.cpp)
  std::vector<double> sums_;               // this update's sums of w*x and w per cluster
  std::vector<double> base_sums_;          // incremental sums: those of the current labels' clusters
  std::vector<double> new_centers_;
};

}  // namespace

template <class T>
KMeansStats kmeans_lloyd(const T* X, std::size_t n, std::size_t d, const double* weights, double* centers,
                         std::size_t k, std::int32_t* labels, const KMeansOptions& options,
                         const CancelCheck& cancel) {
  detail::check_sizes(n, d, k);
  const detail::ThreadRequest request(options.n_threads);
  if (options.max_iter < 1) throw std::invalid_argument("kmeans_lloyd: KMeansOptions::max_iter must be >= 1");
  if (!(options.tol >= 0.0)) throw std::invalid_argument("kmeans_lloyd: KMeansOptions::tol must be >= 0");
  return detail::dispatch_dim(d, [&](auto dim) {
    LloydRun<decltype(dim)::value, T> run(X, n, d, weights, k, options, cancel);
    return run.run(centers, labels);
  });
}

#define PIXCLUST_KMEANS_INSTANTIATE(T)                                                              \
  template KMeansStats kmeans_lloyd<T>(const T*, std::size_t, std::size_t, const double*, double*, \
                                       std::size_t, std::int32_t*, const KMeansOptions&, const CancelCheck&);
PIXCLUST_KMEANS_INSTANTIATE(std::uint8_t)
PIXCLUST_KMEANS_INSTANTIATE(std::uint16_t)
PIXCLUST_KMEANS_INSTANTIATE(float)
PIXCLUST_KMEANS_INSTANTIATE(double)
#undef PIXCLUST_KMEANS_INSTANTIATE

}  // namespace pixclust
