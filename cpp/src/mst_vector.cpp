// Single linkage from observations: SciPy's mst_single_linkage (Prim's minimum spanning tree from point
// 0: fold the newest tree point's distances into every outside point's distance to the tree, take the
// closest, ties to the lowest index) with each distance computed when Prim's reads it, as pdist would
// have computed it. The same tree edges in the same order as SciPy's, hence its matrix after the same
// sort and relabelling (tests/test_linkage_vector.py, test_single_matches_scipy).
//
// What is ours: the outside points are kept in an increasing list (ActiveList, compacted as points
// leave), and each step's scan runs on all threads with a chunk-ordered (value, lowest position)
// reduction, so the result does not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "linkage_vector_common.hpp"

namespace pixclust::detail {

namespace {

// Where the kd-tree's Borůvka beats Prim's quadratic scan: the tree's cost grows steeply with the
// dimension, Prim's with n^2, so the crossover moves up with d (measured on normal data, 2 threads;
// benchmarks/bench_linkage_vector.py has the single rows). Beyond 8 dimensions Prim's always.
bool tree_pays(std::size_t n, std::size_t d) {
  if (d <= 4) return n >= 2048;
  if (d <= 6) return n >= 8192;
  return d <= 8 && n >= 40000;
}

// A chunk's closest outside point (value, list position) and whether it met a distance that is not
// finite (pdist would have put it in the matrix, and SciPy's linkage would reject the matrix).
struct PrimBest {
  double value;
  std::size_t index;
  bool bad;
};

// The closest outside point of a step from the chunks' scans (ties to the lowest position); SciPy's
// error if a distance read on the way was not finite.
template <class Scan>
PrimBest closest_outside(std::size_t size, int threads, std::vector<PrimBest>& scratch, const Scan& scan) {
  auto combine = [](PrimBest& acc, const PrimBest& next) {
    const bool bad = acc.bad || next.bad;
    if (next.value < acc.value) acc = next;
    acc.bad = bad;
  };
  const PrimBest best = chunked_reduce(std::size_t{0}, size, threads, scratch, scan, combine);
  if (best.bad || best.index >= size) throw_non_finite();
  return best;
}

template <VectorMetric M, class T>
void prim(const T* X, std::size_t n, std::size_t d, double* Z, int threads, bool adaptive, CancelPoller& poller) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> norms = M == VectorMetric::cosine ? row_norms(X, n, d) : std::vector<double>(n, 0.0);
  std::vector<double> to_tree(n, inf);  // each outside point's distance to the tree
  ActiveList outside(n);
  std::vector<PrimBest> scratch;
  ThreadBudget budget(threads, adaptive);
  std::size_t x = 0;
  for (std::size_t k = 0; k + 1 < n; ++k) {
    outside.kill(x);
    const std::size_t* L = outside.data();
    const T* xr = X + x * d;
    const double norm_x = norms[x];
    double* tree = to_tree.data();
    // Each outside point's to_tree entry is read and written by the one chunk that owns its position.
    auto scan = [&](std::size_t lo, std::size_t hi) {
      PrimBest b{inf, hi, false};
      for (std::size_t p = lo; p < hi; ++p) {
        const std::size_t i = L[p];
        if (!outside.alive(i)) continue;
        const double dist = vector_distance<M>(xr, X + i * d, d, norm_x, norms[i]);
        b.bad |= !std::isfinite(dist);
        double t = tree[i];
        if (t > dist) tree[i] = t = dist;
        if (t < b.value) b = {t, p, b.bad};
      }
      return b;
    };
    const PrimBest best = closest_outside(outside.size(), budget.threads(), scratch, scan);
    const std::size_t y = L[best.index];
    write_merge(Z, k, x, y, best.value, 0.0);  // the counts come with the sort
    x = y;
    poller.poll(scanned_share(k, n));
  }
  sort_and_relabel(Z, n);
}

// Prim's over a transposed, compacted copy of the outside points (cols[t * cap + s]: coordinate t of
// slot s, slots in increasing point order): the scan computes kLanes distances side by side, each
// summed over the coordinates in vector_distance's order with the same operations, so every distance
// keeps its bits and the loop over lanes vectorises (the scalar scan is one dependent chain of adds per
// point; benchmarks/bench_linkage_vector.py, 16-D rows). Not for cosine, whose dot product pdist sums
// in two lanes.
constexpr std::size_t kLanes = 8;

class OutsideSlots {
 public:
  template <class T>
  OutsideSlots(const T* X, std::size_t n, std::size_t d) : d_(d), ids_(n), tree_(n), alive_(n, 1), slot_(n) {
    for (std::size_t i = 0; i < n; ++i) ids_[i] = slot_[i] = i;
    std::fill(tree_.begin(), tree_.end(), std::numeric_limits<double>::infinity());
    cap_ = n + kLanes;  // a block that starts at the last slot reads kLanes slots
    cols_.assign(d * cap_, 0.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t t = 0; t < d; ++t) cols_[t * cap_ + i] = static_cast<double>(X[i * d + t]);
  }
  std::size_t size() const { return ids_.size(); }
  std::size_t id(std::size_t s) const { return ids_[s]; }
  bool alive(std::size_t s) const { return alive_[s] != 0; }
  double* tree() { return tree_.data(); }
  const double* col(std::size_t t) const { return cols_.data() + t * cap_; }

  void kill(std::size_t i) {
    alive_[slot_[i]] = 0;
    if (++dead_ * 8 > ids_.size()) compact();
  }

 private:
  void compact() {
    std::size_t m = 0;
    for (std::size_t s = 0; s < ids_.size(); ++s) {
      if (!alive_[s]) continue;
      for (std::size_t t = 0; t < d_; ++t) cols_[t * cap_ + m] = cols_[t * cap_ + s];
      ids_[m] = ids_[s];
      tree_[m] = tree_[s];
      slot_[ids_[m]] = m;
      ++m;
    }
    ids_.resize(m);
    tree_.resize(m);
    alive_.assign(m, 1);
    dead_ = 0;
  }

  std::size_t d_, cap_ = 0, dead_ = 0;
  std::vector<std::size_t> ids_;
  std::vector<double> tree_;
  std::vector<unsigned char> alive_;
  std::vector<std::size_t> slot_;  // by point: its slot while outside
  std::vector<double> cols_;
};

// The distances from q to the kLanes slots from s on, exactly as vector_distance<M>(q, x_slot).
template <VectorMetric M>
inline void lane_distances(const OutsideSlots& out, std::size_t d, const double* q, std::size_t s, double* dist) {
  double acc[kLanes] = {};
  for (std::size_t t = 0; t < d; ++t) {
    const double* c = out.col(t) + s;
    const double qt = q[t];
    for (std::size_t l = 0; l < kLanes; ++l) {
      const double diff = qt - c[l];
      if constexpr (M == VectorMetric::euclidean || M == VectorMetric::sqeuclidean) {
        acc[l] += diff * diff;
      } else if constexpr (M == VectorMetric::cityblock) {
        acc[l] += std::fabs(diff);
      } else {
        const double a_diff = std::fabs(diff);
        acc[l] = a_diff > acc[l] ? a_diff : acc[l];
      }
    }
  }
  for (std::size_t l = 0; l < kLanes; ++l) dist[l] = M == VectorMetric::euclidean ? std::sqrt(acc[l]) : acc[l];
}

template <VectorMetric M, class T>
void prim_lanes(const T* X, std::size_t n, std::size_t d, double* Z, int threads, bool adaptive, CancelPoller& poller) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  OutsideSlots outside(X, n, d);
  std::vector<double> q(d);
  std::vector<PrimBest> scratch;
  ThreadBudget budget(threads, adaptive);
  std::size_t x = 0;
  for (std::size_t k = 0; k + 1 < n; ++k) {
    outside.kill(x);
    for (std::size_t t = 0; t < d; ++t) q[t] = static_cast<double>(X[x * d + t]);
    double* tree = outside.tree();
    // Each slot's tree entry is read and written by the one chunk that owns it.
    auto scan = [&](std::size_t lo, std::size_t hi) {
      PrimBest b{inf, hi, false};
      double dist[kLanes];
      for (std::size_t j = lo; j < hi; j += kLanes) {
        lane_distances<M>(outside, d, q.data(), j, dist);
        const std::size_t end = std::min(hi, j + kLanes);
        for (std::size_t s = j; s < end; ++s) {
          if (!outside.alive(s)) continue;
          const double dd = dist[s - j];
          b.bad |= !std::isfinite(dd);
          double t = tree[s];
          if (t > dd) tree[s] = t = dd;
          if (t < b.value) b = {t, s, b.bad};
        }
      }
      return b;
    };
    const PrimBest best = closest_outside(outside.size(), budget.threads(), scratch, scan);
    const std::size_t y = outside.id(best.index);
    write_merge(Z, k, x, y, best.value, 0.0);  // the counts come with the sort
    x = y;
    poller.poll(scanned_share(k, n));
  }
  sort_and_relabel(Z, n);
}

}  // namespace

template <class T>
void mst_vector(const T* X, std::size_t n, std::size_t d, VectorMetric metric, double* Z, int threads,
                bool adaptive, CancelPoller& poller) {
  if (tree_pays(n, d) && mst_boruvka(X, n, d, metric, Z, threads, poller)) return;
  switch (metric) {
    case VectorMetric::euclidean: return prim_lanes<VectorMetric::euclidean>(X, n, d, Z, threads, adaptive, poller);
    case VectorMetric::sqeuclidean: return prim_lanes<VectorMetric::sqeuclidean>(X, n, d, Z, threads, adaptive, poller);
    case VectorMetric::cityblock: return prim_lanes<VectorMetric::cityblock>(X, n, d, Z, threads, adaptive, poller);
    case VectorMetric::chebyshev: return prim_lanes<VectorMetric::chebyshev>(X, n, d, Z, threads, adaptive, poller);
    case VectorMetric::cosine: return prim<VectorMetric::cosine>(X, n, d, Z, threads, adaptive, poller);
  }
}

template void mst_vector<float>(const float*, std::size_t, std::size_t, VectorMetric, double*, int, bool,
                                CancelPoller&);
template void mst_vector<double>(const double*, std::size_t, std::size_t, VectorMetric, double*, int, bool,
                                 CancelPoller&);

}  // namespace pixclust::detail
