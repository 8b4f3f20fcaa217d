// Weighted Lloyd iterations (scikit-learn's `_kmeans_single_lloyd`), optionally with Hamerly's bounds.
#include "pixclust/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "kmeans_detail.hpp"

namespace pixclust {

namespace {

using detail::sqdist;

constexpr double kInf = std::numeric_limits<double>::infinity();

void check_sizes(std::size_t n, std::size_t d, std::size_t k) {
  if (n == 0) throw std::invalid_argument("k-means: no points");
  if (d == 0) throw std::invalid_argument("k-means: points have no coordinates");
  if (k == 0) throw std::invalid_argument("k-means: k must be >= 1");
  if (k > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw std::invalid_argument("k-means: k does not fit the int32 labels");
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

// Points per sub-block of the vectorised nearest-centre search (its scratch lives on the stack).
constexpr std::size_t kBlock = 256;

// Distinct 8-bit colours from which Lloyd runs on the colour grid (LloydRun::assign_grid).
constexpr std::size_t kGridMinPoints = 4096;
// How far apart (in distance, not squared) a whole cell's bounds must stay for its test to be skipped:
// the squared distances then differ by at least kCellGap^2 = 1e-8, far above their rounding (1e-10).
constexpr double kCellGap = 1e-4;

// nearest() for m points at once, given as D coordinate columns (column t at xs + t * kBlock): the centre
// loop outside, the point loop inside, so that the compiler computes several points per instruction.
// Each point still sees the arithmetic of sqdist<D> (0 + d0^2 + d1^2 + ..., in coordinate order, no
// fused multiply-add) and the centres in index order with the same comparisons, so labels and distances
// are those of nearest(), bit for bit.
template <std::size_t D>
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
inline void nearest_block_impl(const double* __restrict xs, std::size_t m, const double* __restrict C, std::size_t k,
                               std::int32_t* __restrict lab, double* __restrict best, double* __restrict second) {
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
  static const bool avx2 = __builtin_cpu_supports("avx2") != 0;
  if (avx2) return nearest_block_avx2<D>(xs, m, C, k, lab, best, second);
#endif
  nearest_block_default<D>(xs, m, C, k, lab, best, second);
}

// Hamerly's first test for m points, without branches: settled[i] = 1 when the point's upper bound
// (upper + drift of its centre, plus the slack) is below the larger of half the distance from its centre
// to the next one and its lower bound (lower - drift_max). The caller goes on with the others.
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
inline void settled_block_impl(const std::int32_t* __restrict lab, const double* __restrict upper,
                               const double* __restrict lower, const double* __restrict half,
                               const double* __restrict drift, double drift_max, double slack_abs, std::size_t m,
                               unsigned char* __restrict settled) {
  for (std::size_t i = 0; i < m; ++i) {
    const auto a = static_cast<std::size_t>(lab[i]);
    const double l = lower[i] - drift_max;
    const double h = half[a];
    const double mb = h > l ? h : l;
    const double slack = slack_abs + 1e-10 * mb;
    settled[i] = upper[i] + drift[a] + slack < mb ? 1 : 0;
  }
}

#ifdef PIXCLUST_AVX2_DISPATCH
__attribute__((target("avx2"))) void settled_block_avx2(const std::int32_t* lab, const double* upper,
                                                        const double* lower, const double* half,
                                                        const double* drift, double drift_max, double slack_abs,
                                                        std::size_t m, unsigned char* settled) {
  settled_block_impl(lab, upper, lower, half, drift, drift_max, slack_abs, m, settled);
}
#endif

void settled_block(const std::int32_t* lab, const double* upper, const double* lower, const double* half,
                   const double* drift, double drift_max, double slack_abs, std::size_t m, unsigned char* settled) {
#ifdef PIXCLUST_AVX2_DISPATCH
  static const bool avx2 = __builtin_cpu_supports("avx2") != 0;
  if (avx2) return settled_block_avx2(lab, upper, lower, half, drift, drift_max, slack_abs, m, settled);
#endif
  settled_block_impl(lab, upper, lower, half, drift, drift_max, slack_abs, m, settled);
}

template <std::size_t D, class T>
class LloydRun {
 public:
  LloydRun(const T* X, std::size_t n, std::size_t d, const double* w, std::size_t k, const KMeansOptions& opt,
           const CancelCheck& cancel)
      : X_(X), n_(n), d_(d), w_(w), k_(k), opt_(opt), threads_(detail::resolve_threads(opt.n_threads)),
        poller_(cancel), stride_(k * (d + 1)), chunks_(detail::n_chunks(n)), partial_(chunks_ * stride_),
        changed_(chunks_), sums_(stride_), base_sums_(stride_, 0.0), new_centers_(k * d), shift_(k, 0.0),
        half_(k, kInf), drift_(k, 0.0) {
    incremental_ = exact_integer_sums();
    if constexpr (std::is_same_v<T, std::uint8_t> && D == 3) {
      grid_ = hamerly() && incremental_ && n_ >= kGridMinPoints;
      if (grid_) build_grid();
    }
    if (hamerly() && !grid_) {  // the grid keeps bounds per cell, not per point
      upper_.assign(n, 0.0);
      lower_.assign(n, 0.0);
    }
  }

  KMeansStats run(double* centers, std::int32_t* labels) {
    KMeansStats stats;
    std::fill(labels, labels + n_, std::int32_t{-1});
    if (hamerly() && !grid_) slack_scale_ = data_scale();
    bool bounds_valid = false;  // Hamerly's bounds are set by the first full assignment
    int it = 0;
    for (; it < opt_.max_iter; ++it) {
      const std::size_t changed =
          grid_ ? assign_grid(centers, labels, /*accumulate=*/true) : assign(centers, labels, bounds_valid, true, it);
      bounds_valid = hamerly();
      update_centers(centers, labels);
      double shift_total = 0.0, shift_max = 0.0;
      for (std::size_t j = 0; j < k_; ++j) {
        shift_total += shift_[j] * shift_[j];
        shift_max = std::max(shift_max, shift_[j]);
        drift_[j] += shift_[j];
      }
      drift_max_ += shift_max;
      std::copy(new_centers_.begin(), new_centers_.end(), centers);
      if (changed == 0) {
        stats.strict_convergence = true;
        break;
      }
      if (shift_total <= opt_.tol) break;
    }
    stats.n_iter = std::min(it + 1, opt_.max_iter);
    if (!stats.strict_convergence) {
      // The centres moved after the last assignment: give every point the label of its final centre.
      if (grid_) {
        assign_grid(centers, labels, /*accumulate=*/false);
      } else {
        assign(centers, labels, bounds_valid, /*accumulate=*/false, it);
      }
    }
    stats.inertia = inertia(centers, labels);
    return stats;
  }

 private:
  bool hamerly() const noexcept { return opt_.algorithm == KMeansAlgorithm::hamerly; }
  double weight(std::size_t i) const noexcept { return w_ ? w_[i] : 1.0; }
  const T* point(std::size_t i) const noexcept { return X_ + i * d_; }

  // Integer coordinates with integer weights whose weighted sums stay below 2^53: every sum of w*x is
  // then an integer computed exactly in double, whatever the order. The cluster sums can be kept up to
  // date from the points that changed cluster alone, with the very bits a full recomputation gives.
  bool exact_integer_sums() {
    if constexpr (!std::is_integral_v<T>) {
      return false;
    } else {
      // Per chunk: whether every weight is an integer, and their sum (exact: integers below 2^53).
      std::vector<double> chunk_total(chunks_, 0.0);
      std::vector<unsigned char> chunk_whole(chunks_, 1);
      detail::for_chunks(n_, threads_, poller_, [&](std::size_t c, std::size_t b, std::size_t e) {
        double t = 0.0;
        bool whole = true;
        for (std::size_t i = b; i < e; ++i) {
          const double wi = weight(i);
          whole &= detail::is_whole_weight(wi);
          t += wi;
        }
        chunk_total[c] = t;
        chunk_whole[c] = whole ? 1 : 0;
      });
      double total = 0.0;
      for (std::size_t c = 0; c < chunks_; ++c) {
        if (!chunk_whole[c]) return false;
        total += chunk_total[c];
      }
      return total * static_cast<double>(std::numeric_limits<T>::max()) < 9007199254740992.0;  // 2^53
    }
  }

  // The largest coordinate magnitude times sqrt(d): the scale of every distance, for the bound slack.
  double data_scale() {
    std::vector<double> chunk_max(chunks_, 0.0);
    detail::for_chunks(n_, threads_, poller_, [&](std::size_t c, std::size_t b, std::size_t e) {
      double m = 0.0;
      for (std::size_t i = b * d_; i < e * d_; ++i) m = std::max(m, std::fabs(static_cast<double>(X_[i])));
      chunk_max[c] = m;
    });
    const double m = *std::max_element(chunk_max.begin(), chunk_max.end());
    return m * std::sqrt(static_cast<double>(d_));
  }

  // Assigns every point to its nearest centre and returns how many labels changed. With accumulate,
  // also the per-chunk sums of w*x and w per cluster (or, with exact integer sums, their changes).
  //
  // Hamerly's bounds are kept relative to the centres' cumulative drift, so a point whose bounds
  // settle it costs three loads and no store: its upper bound is upper_ + drift_[a] (its centre moved
  // at most that far since), its lower bound lower_ - drift_max_ (no centre moved farther).
  std::size_t assign(const double* C, std::int32_t* labels, bool bounds_valid, bool accumulate, int it) {
    if (hamerly() && bounds_valid) prepare_bounds(C);
    // Rounding in the bounds is far below this slack; a point within it of a tie is compared with
    // every centre, so skipping never changes a label (the result is Lloyd's, bit for bit).
    const double slack_abs = slack_scale_ * 1e-12 * (100.0 + static_cast<double>(it));
    const bool use_bounds = hamerly() && bounds_valid;
    const bool set_bounds = hamerly();
    const bool full_sums = accumulate && !incremental_;
    const bool delta_sums = accumulate && incremental_;
    const std::size_t dim = D > 0 ? D : d_;
    detail::for_chunks(n_, threads_, poller_, [&](std::size_t c, std::size_t b, std::size_t e) {
      double* acc = partial_.data() + c * stride_;
      if (accumulate) std::fill(acc, acc + stride_, 0.0);
      std::size_t n_changed = 0;
      // Sub-blocks: first the bounds settle what they can; the points left are searched together
      // (vectorised for the pixel dimensions); then labels and sums are updated in point order.
      std::int32_t found[kBlock];
      std::uint32_t todo[kBlock];
      [[maybe_unused]] double xs[(D > 0 ? D : 1) * kBlock];
      double best[kBlock], second[kBlock];
      for (std::size_t sb = b; sb < e; sb += kBlock) {
        const std::size_t se = std::min(e, sb + kBlock);
        std::size_t m = 0;
        std::copy(labels + sb, labels + se, found);
        if (use_bounds) {
          unsigned char settled[kBlock];
          settled_block(labels + sb, upper_.data() + sb, lower_.data() + sb, half_.data(), drift_.data(), drift_max_,
                        slack_abs, se - sb, settled);
          // The second test, on the points the first left: the exact distance to their own centre
          // tightens the upper bound. Listed first, then computed in a loop without branches.
          std::uint32_t cand[kBlock];
          std::size_t nc = 0;
          for (std::size_t q = 0; q < se - sb; ++q) {
            cand[nc] = static_cast<std::uint32_t>(q);
            nc += settled[q] ? 0 : 1;
          }
          double gap[kBlock];  // u + slack - max(half, lower): the point needs a full search when >= 0
          for (std::size_t r = 0; r < nc; ++r) {
            const std::size_t i = sb + cand[r];
            const auto ua = static_cast<std::size_t>(found[cand[r]]);
            const double l = lower_[i] - drift_max_;
            const double h = half_[ua];
            const double mb = h > l ? h : l;
            const double slack = slack_abs + 1e-10 * mb;
            const double u = std::sqrt(sqdist<D>(point(i), C + ua * d_, d_));
            upper_[i] = u - drift_[ua];
            gap[r] = u + slack - mb;
          }
          for (std::size_t r = 0; r < nc; ++r) {
            todo[m] = cand[r];
            m += gap[r] >= 0.0 ? 1 : 0;
          }
        } else {
          for (std::size_t i = sb; i < se; ++i) todo[m++] = static_cast<std::uint32_t>(i - sb);
        }
        if constexpr (D > 0) {
          if (m > 0) {
            for (std::size_t q = 0; q < m; ++q) {
              const T* x = point(sb + todo[q]);
              for (std::size_t t = 0; t < D; ++t) xs[t * kBlock + q] = static_cast<double>(x[t]);
            }
            std::int32_t lab[kBlock];
            nearest_block<D>(xs, m, C, k_, lab, best, second);
            for (std::size_t q = 0; q < m; ++q) found[todo[q]] = lab[q];
          }
        } else {
          for (std::size_t q = 0; q < m; ++q)
            found[todo[q]] = nearest<D>(point(sb + todo[q]), C, k_, d_, best[q], second[q]);
        }
        if (set_bounds) {
          for (std::size_t q = 0; q < m; ++q) {
            const std::size_t i = sb + todo[q];
            upper_[i] = std::sqrt(best[q]) - drift_[static_cast<std::size_t>(found[todo[q]])];
            lower_[i] = std::sqrt(second[q]) + drift_max_;
          }
        }
        // Labels change only among the points searched (the others kept theirs): with full sums every
        // point is added in order, else only the searched ones are looked at (in order too).
        auto update = [&](std::size_t i) {
          const T* x = point(i);
          const std::int32_t old = labels[i];
          const std::int32_t a = found[i - sb];
          if (a != old) {
            ++n_changed;
            labels[i] = a;
            if (delta_sums) {
              const double wi = weight(i);
              double* s = acc + static_cast<std::size_t>(a) * (d_ + 1);
              for (std::size_t j = 0; j < dim; ++j) s[j] += static_cast<double>(x[j]) * wi;
              s[dim] += wi;
              if (old >= 0) {
                double* so = acc + static_cast<std::size_t>(old) * (d_ + 1);
                for (std::size_t j = 0; j < dim; ++j) so[j] -= static_cast<double>(x[j]) * wi;
                so[dim] -= wi;
              }
            }
          }
          if (full_sums) {
            const double wi = weight(i);
            double* s = acc + static_cast<std::size_t>(a) * (d_ + 1);
            for (std::size_t j = 0; j < dim; ++j) s[j] += static_cast<double>(x[j]) * wi;
            s[dim] += wi;
          }
        };
        if (full_sums) {
          for (std::size_t i = sb; i < se; ++i) update(i);
        } else {
          for (std::size_t q = 0; q < m; ++q) update(sb + todo[q]);
        }
      }
      changed_[c] = n_changed;
    });
    std::size_t total = 0;
    for (std::size_t c = 0; c < chunks_; ++c) total += changed_[c];
    return total;
  }

  // --- 8-bit RGB colours: Lloyd on a grid of cells ------------------------------------------------
  //
  // The colours are points of the 256^3 lattice. They are grouped once into cells of 4 x 4 x 4 values;
  // at each step a cell that lies wholly inside one centre's Voronoi region, with a margin far above the
  // rounding of any distance, is given that centre as a whole: every colour in it would get the same
  // label from nearest(), and no distance needs computing. (On photos, at k = 8, about 90% of the
  // colours are in such cells.) A cell that was already whole in the same cluster changes nothing and is
  // skipped. The other cells' colours are searched as before. The sums are exact integers, kept up to
  // date from the colours that change cluster, so the grouping cannot change a bit of the result.

  void build_grid() {
    constexpr std::size_t kKeys = std::size_t{1} << 18;
    auto key_of = [&](std::size_t i) {
      const T* x = point(i);
      return (static_cast<std::uint32_t>(x[0] >> 2) << 12) | (static_cast<std::uint32_t>(x[1] >> 2) << 6) |
             static_cast<std::uint32_t>(x[2] >> 2);
    };
    // A counting sort by key, stable (points of a cell in index order), in parallel: each thread counts
    // and then places the keys of its own range of points, at offsets that put the ranges in order
    // within every key, so that the permutation is the serial sort's whatever the thread count.
    const int wanted = std::max(1, std::min(threads_, static_cast<int>(n_ / kGridMinPoints)));
    const int team = detail::ThreadRequest::is_explicit() ? wanted : detail::runnable_threads(wanted);
    std::vector<std::uint32_t> at(static_cast<std::size_t>(team) * kKeys, 0);  // counts, then offsets
    auto range = [&](int t) {
      return std::pair<std::size_t, std::size_t>(n_ * static_cast<std::size_t>(t) / static_cast<std::size_t>(team),
                                                 n_ * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(team));
    };
#pragma omp parallel for schedule(static, 1) num_threads(team)
    for (int t = 0; t < team; ++t) {
      std::uint32_t* own = at.data() + static_cast<std::size_t>(t) * kKeys;
      const auto [b, e] = range(t);
      for (std::size_t i = b; i < e; ++i) ++own[key_of(i)];
    }
    std::uint32_t run = 0;
    for (std::size_t c = 0; c < kKeys; ++c) {
      const std::uint32_t first = run;
      for (int t = 0; t < team; ++t) {
        std::uint32_t& slot = at[static_cast<std::size_t>(t) * kKeys + c];
        const std::uint32_t count = slot;
        slot = run;
        run += count;
      }
      if (run == first) continue;
      cell_key_.push_back(static_cast<std::uint32_t>(c));
      cell_start_.push_back(first);
    }
    perm_.resize(n_);
#pragma omp parallel for schedule(static, 1) num_threads(team)
    for (int t = 0; t < team; ++t) {
      std::uint32_t* own = at.data() + static_cast<std::size_t>(t) * kKeys;
      const auto [b, e] = range(t);
      for (std::size_t i = b; i < e; ++i) perm_[own[key_of(i)]++] = static_cast<std::uint32_t>(i);
    }
    cell_start_.push_back(static_cast<std::uint32_t>(n_));
    cell_whole_.assign(cell_key_.size(), -1);
    cell_whole_next_.assign(cell_key_.size(), -1);
    cell_upper_.assign(cell_key_.size(), 0.0);
    cell_upper_next_.assign(cell_key_.size(), 0.0);
    cell_lower_.assign(cell_key_.size(), 0.0);
    cell_lower_next_.assign(cell_key_.size(), 0.0);
  }

  // The centre whose Voronoi region holds the whole cell, or -1: the centre with the smallest largest
  // squared distance to the cell's box, when that is below every other centre's smallest one.
  // far_out, near_out: the largest squared distance to that centre, the smallest to the others.
  std::int32_t whole_cell_label(std::uint32_t key, const double* C, double& far_out, double& near_out) const {
    const double lo[3] = {static_cast<double>((key >> 12) << 2), static_cast<double>(((key >> 6) & 63) << 2),
                          static_cast<double>((key & 63) << 2)};
    auto box = [&](std::size_t j, double& near, double& far) {
      const double* c = C + j * 3;
      near = 0.0;
      far = 0.0;
      for (std::size_t t = 0; t < 3; ++t) {
        const double a = lo[t] - c[t], b = lo[t] + 3.0 - c[t];
        const double in = a > 0.0 ? a : (b < 0.0 ? b : 0.0);
        near += in * in;
        far += std::max(a * a, b * b);
      }
    };
    // One pass over the centres: the smallest largest distance (the first of equals), and the two
    // smallest smallest distances with the first's centre, so that the smallest over the centres other
    // than `best` is known whichever centre `best` turns out to be.
    double best_far = kInf, near = 0.0, far = 0.0;
    std::size_t best = 0;
    TwoSmallest nearest_box;
    for (std::size_t j = 0; j < k_; ++j) {
      box(j, near, far);
      if (far < best_far) {
        best_far = far;
        best = j;
      }
      nearest_box.offer(near, j);
    }
    const double other_near = nearest_box.at == best ? nearest_box.second : nearest_box.first;
    // Squared distances here are below 2e5 and rounded to 1e-10 or better: a margin of 1e-6 keeps every
    // colour of the cell strictly closer to `best` in nearest()'s own arithmetic.
    if (!(best_far + 1e-6 < other_near)) return -1;
    far_out = best_far;
    near_out = other_near;
    return static_cast<std::int32_t>(best);
  }

  std::size_t assign_grid(const double* C, std::int32_t* labels, bool accumulate) {
    const std::size_t cells = cell_key_.size();
    detail::for_chunks(n_, threads_, poller_, [&](std::size_t c, std::size_t b, std::size_t e) {
      double* acc = partial_.data() + c * stride_;
      if (accumulate) std::fill(acc, acc + stride_, 0.0);
      std::size_t n_changed = 0;
      auto set_label = [&](std::size_t i, std::int32_t a) {
        const std::int32_t old = labels[i];
        if (a == old) return;
        ++n_changed;
        labels[i] = a;
        if (!accumulate) return;
        const T* x = point(i);
        const double wi = weight(i);
        double* sa = acc + static_cast<std::size_t>(a) * 4;
        for (std::size_t t = 0; t < 3; ++t) sa[t] += static_cast<double>(x[t]) * wi;
        sa[3] += wi;
        if (old >= 0) {
          double* so = acc + static_cast<std::size_t>(old) * 4;
          for (std::size_t t = 0; t < 3; ++t) so[t] -= static_cast<double>(x[t]) * wi;
          so[3] -= wi;
        }
      };
      double xs[3 * kBlock], best[kBlock], second[kBlock];
      std::uint32_t who[kBlock];
      std::int32_t lab[kBlock];
      std::size_t m = 0;
      auto flush = [&] {
        nearest_block<3>(xs, m, C, k_, lab, best, second);
        for (std::size_t q = 0; q < m; ++q) set_label(who[q], lab[q]);
        m = 0;
      };
      // The cells that meet positions [b, e) of the cell order; a cell's flag is written by the chunk
      // holding its first position.
      std::size_t cell = static_cast<std::size_t>(
          std::upper_bound(cell_start_.begin(), cell_start_.end(), static_cast<std::uint32_t>(b)) - cell_start_.begin() - 1);
      for (; cell < cells && cell_start_[cell] < e; ++cell) {
        const std::size_t s0 = std::max<std::size_t>(b, cell_start_[cell]);
        const std::size_t s1 = std::min<std::size_t>(e, cell_start_[cell + 1]);
        const bool owner = cell_start_[cell] >= b;  // writes the cell's next flag and bounds
        // A cell whole in cluster a at its last test stays whole while its bounds, moved by how far
        // the centres have moved since (as Hamerly's are), stay apart by kCellGap: then no colour of it
        // is within kCellGap of being as close to another centre, far above any rounding.
        const std::int32_t was = cell_whole_[cell];
        if (was >= 0 && cell_upper_[cell] + drift_[static_cast<std::size_t>(was)] + kCellGap <
                            cell_lower_[cell] - drift_max_) {
          if (owner) {
            cell_whole_next_[cell] = was;
            cell_upper_next_[cell] = cell_upper_[cell];
            cell_lower_next_[cell] = cell_lower_[cell];
          }
          continue;  // every colour already there
        }
        double far = 0.0, near = 0.0;
        const std::int32_t whole = whole_cell_label(cell_key_[cell], C, far, near);
        if (owner) {
          cell_whole_next_[cell] = whole;
          if (whole >= 0) {
            cell_upper_next_[cell] = std::sqrt(far) - drift_[static_cast<std::size_t>(whole)];
            cell_lower_next_[cell] = std::sqrt(near) + drift_max_;
          }
        }
        if (whole >= 0) {
          if (whole == cell_whole_[cell]) continue;  // every colour already there
          for (std::size_t q = s0; q < s1; ++q) set_label(perm_[q], whole);
          continue;
        }
        for (std::size_t q = s0; q < s1; ++q) {
          const std::uint32_t i = perm_[q];
          const T* x = point(i);
          for (std::size_t t = 0; t < 3; ++t) xs[t * kBlock + m] = static_cast<double>(x[t]);
          who[m++] = i;
          if (m == kBlock) flush();
        }
      }
      if (m > 0) flush();
      changed_[c] = n_changed;
    });
    cell_whole_.swap(cell_whole_next_);
    cell_upper_.swap(cell_upper_next_);
    cell_lower_.swap(cell_lower_next_);
    std::size_t total = 0;
    for (std::size_t c = 0; c < chunks_; ++c) total += changed_[c];
    return total;
  }

  // Half the distance from each centre to its nearest other centre: a point closer than that to its
  // own centre cannot be closer to any other one.
  void prepare_bounds(const double* C) {
    for (std::size_t j = 0; j < k_; ++j) {
      double m = kInf;
      for (std::size_t jj = 0; jj < k_; ++jj) {
        if (jj == j) continue;
        m = std::min(m, sqdist<0>(C + j * d_, C + jj * d_, d_));
      }
      half_[j] = 0.5 * std::sqrt(m);
    }
  }

  // Sums the chunks in order, re-seeds empty clusters, divides; new_centers_ and shift_ result.
  void update_centers(const double* C, const std::int32_t* labels) {
    // Chunks in order: the float sums do not depend on the thread count. With exact integer sums the
    // chunks hold the changes since the last iteration, added to the running sums (exact in any order).
    std::vector<double>& target = incremental_ ? base_sums_ : sums_;
    if (!incremental_) std::fill(sums_.begin(), sums_.end(), 0.0);
    for (std::size_t c = 0; c < chunks_; ++c) {
      const double* acc = partial_.data() + c * stride_;
      for (std::size_t e = 0; e < stride_; ++e) target[e] += acc[e];
    }
    // Re-seeding changes the sums of this update only, not the sums of the labels' clusters.
    if (incremental_) sums_ = base_sums_;
    std::vector<std::size_t> empty;
    for (std::size_t j = 0; j < k_; ++j)
      if (sums_[j * (d_ + 1) + d_] == 0.0) empty.push_back(j);
    if (!empty.empty()) relocate(C, labels, empty);
    for (std::size_t j = 0; j < k_; ++j) {
      const double* s = sums_.data() + j * (d_ + 1);
      const double wj = s[d_];
      double* out = new_centers_.data() + j * d_;
      for (std::size_t t = 0; t < d_; ++t) out[t] = wj > 0.0 ? s[t] / wj : s[t];
      shift_[j] = std::sqrt(sqdist<0>(out, C + j * d_, d_));
    }
  }

  // scikit-learn's rule: the empty clusters take, in order, the points farthest from their centres
  // (ties: lowest index first, so the choice is deterministic); each point's weighted sum moves from its
  // cluster to the new one. Labels are left as they are, as scikit-learn does. With sample counts a point
  // stands for that many unit samples, and each empty cluster takes one of them, as scikit-learn's rule
  // does on the samples (several empty clusters can take copies of one point).
  void relocate(const double* C, const std::int32_t* labels, const std::vector<std::size_t>& empty) {
    // Distinct points to rank: each gives at least one sample, so the m farthest are enough.
    const std::size_t m = std::min(empty.size(), n_);
    using Far = std::pair<double, std::size_t>;
    auto farther = [](const Far& p, const Far& q) { return p.first > q.first || (p.first == q.first && p.second < q.second); };
    std::vector<std::vector<Far>> best(chunks_);
    detail::for_chunks(n_, threads_, poller_, [&](std::size_t c, std::size_t b, std::size_t e) {
      std::vector<Far>& top = best[c];
      top.reserve(m + 1);
      for (std::size_t i = b; i < e; ++i) {
        const Far f{sqdist<D>(point(i), C + static_cast<std::size_t>(labels[i]) * d_, d_), i};
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
      const double wi = opt_.sample_counts ? 1.0 : weight(i);
      const double copies = opt_.sample_counts ? weight(i) : 1.0;
      for (double c = 0.0; c < copies && r < empty.size(); c += 1.0, ++r) {
        double* sf = sums_.data() + from * (d_ + 1);
        double* st = sums_.data() + empty[r] * (d_ + 1);
        for (std::size_t t = 0; t < d_; ++t) {
          const double v = static_cast<double>(point(i)[t]) * wi;
          sf[t] -= v;
          st[t] = v;
        }
        sf[d_] -= wi;
        st[d_] = wi;
      }
    }
  }

  double inertia(const double* C, const std::int32_t* labels) {
    std::vector<double> part(chunks_, 0.0);
    detail::for_chunks(n_, threads_, poller_, [&](std::size_t c, std::size_t b, std::size_t e) {
      double s = 0.0;
      for (std::size_t i = b; i < e; ++i)
        s += weight(i) * sqdist<D>(point(i), C + static_cast<std::size_t>(labels[i]) * d_, d_);
      part[c] = s;
    });
    double total = 0.0;
    for (double p : part) total += p;
    return total;
  }

  const T* X_;
  std::size_t n_, d_;
  const double* w_;
  std::size_t k_;
  KMeansOptions opt_;
  int threads_;
  detail::CancelPoller poller_;
  std::size_t stride_, chunks_;
  std::vector<double> partial_;     // chunks x k x (d + 1): per-chunk sums of w*x and w
  std::vector<std::size_t> changed_;
  std::vector<double> sums_;
  std::vector<double> base_sums_;  // exact integer sums: w*x and w per cluster of the current labels
  std::vector<double> new_centers_;
  std::vector<double> shift_;       // how far each centre moved in the last update
  std::vector<double> half_;
  std::vector<double> upper_, lower_;  // Hamerly: own centre at most upper_ + drift_[a] away, others at
                                       // least lower_ - drift_max_
  std::vector<double> drift_;          // how far each centre has moved in all, summed over iterations
  double drift_max_ = 0.0;             // the sum over iterations of the largest move
  double slack_scale_ = 0.0;
  bool incremental_ = false;
  // The grid of 8-bit RGB colours (assign_grid): points in cell order, each occupied cell's key and
  // first position, and whether all its colours were in one cluster (that cluster) or not (-1).
  bool grid_ = false;
  std::vector<std::uint32_t> perm_, cell_key_, cell_start_;
  std::vector<std::int32_t> cell_whole_, cell_whole_next_;
  // Whole cells' bounds at their last test, relative to the drifts (as Hamerly's): every colour within
  // cell_upper_ + drift_[a] of its centre a, at least cell_lower_ - drift_max_ from the others.
  std::vector<double> cell_upper_, cell_upper_next_, cell_lower_, cell_lower_next_;
};

}  // namespace

template <class T>
KMeansStats kmeans_lloyd(const T* X, std::size_t n, std::size_t d, const double* weights, double* centers,
                         std::size_t k, std::int32_t* labels, const KMeansOptions& options,
                         const CancelCheck& cancel) {
  check_sizes(n, d, k);
  const detail::ThreadRequest request(options.n_threads);
  if (options.max_iter < 1) throw std::invalid_argument("k-means: max_iter must be >= 1");
  if (!(options.tol >= 0.0)) throw std::invalid_argument("k-means: tol must be >= 0");
  return detail::dispatch_dim(d, [&](auto dim) {
    LloydRun<decltype(dim)::value, T> run(X, n, d, weights, k, options, cancel);
    return run.run(centers, labels);
  });
}

template <class T>
double kmeans_assign(const T* X, std::size_t n, std::size_t d, const double* weights, const double* centers,
                     std::size_t k, std::int32_t* labels, int n_threads, const CancelCheck& cancel) {
  check_sizes(n, d, k);
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
  check_sizes(n, d, k);
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
  template KMeansStats kmeans_lloyd<T>(const T*, std::size_t, std::size_t, const double*, double*,        \
                                       std::size_t, std::int32_t*, const KMeansOptions&, const CancelCheck&); \
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
