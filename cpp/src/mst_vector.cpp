// Single linkage from observations: SciPy's mst_single_linkage (Prim's minimum spanning tree from point
// 0: fold the newest tree point's distances into every outside point's distance to the tree, take the
// closest, ties to the lowest index) with each distance computed when Prim's reads it, as pdist would
// have computed it. The same tree edges in the same order as SciPy's, hence its matrix after the same
// sort and relabelling (tests/test_linkage_vector.py, test_single_matches_scipy).
//
// What is ours: the outside points are kept in an increasing list (ActiveList, compacted as points
// leave), and each step's scan runs on all threads with a chunk-ordered (value, lowest position)
// reduction, so the result does not depend on the thread count. For every metric but cosine a byte grid
// of the coordinates rules out most outside points before their distance is computed (prim_lanes).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define PIXCLUST_SSE2 1
#else
#define PIXCLUST_SSE2 0
#endif

#include "bits.hpp"
#include "linkage_vector_common.hpp"

namespace pixclust::detail {

namespace {

// Where the kd-tree's Borůvka beats Prim's quadratic scan: the tree's cost grows steeply with the
// dimension, Prim's with n^2, so the crossover moves up with d (measured on normal data, 2 threads;
// benchmarks/bench_linkage_vector.py has the single rows). Beyond 8 dimensions Prim's always.
bool tree_pays(std::size_t n, std::size_t d) {
  if (d <= 4) return n >= 2048;
  if (d <= 5) return n >= 8192;
  if (d <= 6) return n >= 20000;
  if (d <= 7) return n >= 60000;
  return d <= 8 && n >= 100000;
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

// Prim's with a coarse first look at each outside point (OutsideSlots): every coordinate is kept as a
// byte (its cell on a common grid, in columns), and each step computes, kLanes points side by side, a
// lower bound on their distance to the new tree point from the cells alone. Only a point whose bound
// does not rule out coming closer to the tree gets its distance computed, by vector_distance<M> on its
// row, with pdist's bits: a 16-D point costs 16 bytes to rule out instead of its 128 (issue 16).
// Not for cosine (prim above).
constexpr std::size_t kLanes = 16;
// Cells per coordinate at most: a cell index fits a byte, a squared cell gap fits 16 bits.
constexpr double kCells = 250.0;

// The grid, per metric: a cell index per coordinate, and the threshold a point's bound (an integer in
// grid units) must reach to prove its computed distance >= its tree value. Why that proof holds: a
// coordinate's cell, floor((v - lo) / step) in doubles, is within 1e-13 cells of the exact quotient's
// (kSlack covers it), so coordinates whose cells are g + 1 apart differ by at least g (1 - kSlack)
// steps. The exact sum of squares (euclidean, sqeuclidean) is then at least per_unit_ times the sum of
// the g^2, and pdist's, every term and addition rounded, at least 1 - (d + 2) u of the exact (no term
// that counts is subnormal: a cell's squared width is a normal double, or the grid is not used);
// cityblock and chebyshev likewise with the g and their maximum. threshold(t) asks for per_unit_ times
// the bound to reach t^2 (t) with a relative margin over its own roundings, so a ruled-out squared
// distance exceeds t^2, its correctly rounded sqrt is >= t, and Prim's strict update would keep t.
template <VectorMetric M>
class Grid {
 public:
  template <class T>
  Grid(const T* X, std::size_t n, std::size_t d) : lo_(d), hi_(d) {
    for (std::size_t t = 0; t < d; ++t) lo_[t] = hi_[t] = static_cast<double>(X[t]);
    for (std::size_t i = 1; i < n; ++i) {
      for (std::size_t t = 0; t < d; ++t) {
        const double v = static_cast<double>(X[i * d + t]);
        lo_[t] = std::min(lo_[t], v);
        hi_[t] = std::max(hi_[t], v);
      }
    }
    double widest = 0.0, bound = 0.0;
    for (std::size_t t = 0; t < d; ++t) {
      widest = std::max(widest, hi_[t] - lo_[t]);
      bound = fold_coordinate<M>(bound, hi_[t] - lo_[t]);
    }
    step_ = widest / kCells;
    inv_step_ = 1.0 / step_;
    const double scale = M == VectorMetric::euclidean || M == VectorMetric::sqeuclidean ? step_ * step_ : step_;
    // twice pdist's (d + 2) u: per_unit_'s own roundings too
    per_unit_ = scale * (1.0 - 2.0 * kSlack) * (1.0 - static_cast<double>(d + 2) * kUnitRoundoff * 2.0);
    usable_ = std::isfinite(bound) && per_unit_ >= std::numeric_limits<double>::min() && std::isfinite(inv_step_) &&
              d <= kMaxDims;
  }
  unsigned char cell(double v, std::size_t t) const {
    return usable_ ? static_cast<unsigned char>(std::min(kCells, std::floor((v - lo_[t]) * inv_step_))) : 0;
  }
  // The least bound that proves a computed distance >= t (kNever: none, as for t infinite). For t > 0
  // at least 1, and t^2 raised to kTinyKey, below which its rounding is no longer relative.
  std::int32_t threshold(double t) const {
    if (!usable_) return kNever;
    if (!(t > 0.0)) return 0;  // no distance is below 0
    const double key = std::max(M == VectorMetric::euclidean ? t * t : t, kTinyKey);
    const double units = std::ceil(key * (1.0 + kMargin) / per_unit_);
    return units < static_cast<double>(kNever) ? std::max(std::int32_t{1}, static_cast<std::int32_t>(units)) : kNever;
  }
  static constexpr std::int32_t kNever = std::numeric_limits<std::int32_t>::max();

 private:
  static constexpr std::size_t kMaxDims = 30000;  // d * 250^2 below kNever
  static constexpr double kSlack = 1e-6;          // cells: a coordinate's cell index rounds by far less
  static constexpr double kUnitRoundoff = 0x1p-53;
  static constexpr double kMargin = 1e-9;         // covers the rounding of threshold() itself
  static constexpr double kTinyKey = 1e-300;
  std::vector<double> lo_, hi_;
  double step_ = 0.0, inv_step_ = 0.0, per_unit_ = 0.0;
  // Every distance finite (else a ruled-out one could hide SciPy's error: kNever then) and per_unit_ normal.
  bool usable_ = false;
};

// The outside points, in slots in increasing point order, compacted as points leave: each slot's cells
// (cells[t * cap + s]), point, tree value (the distance to the tree; NaN, which no comparison passes,
// once the point is in it) and threshold (Grid::threshold of the tree value; 0 once in the tree, so
// the slot is always ruled out), and each block of kLanes slots' closest slot, so that a step reads
// the tree values of the blocks it updates only.
template <VectorMetric M>
class OutsideSlots {
 public:
  template <class T>
  OutsideSlots(const T* X, std::size_t n, std::size_t d, const Grid<M>& grid)
      : grid_(grid), d_(d), size_(n), cap_(padded(n)), ids_(n), slot_(n) {
    for (std::size_t i = 0; i < n; ++i) ids_[i] = slot_[i] = i;
    cells_.assign(d * cap_, 0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t t = 0; t < d; ++t) cells_[t * cap_ + i] = grid.cell(static_cast<double>(X[i * d + t]), t);
    tree_.assign(cap_, kJoined);
    thresholds_.assign(cap_, 0);
    std::fill(tree_.begin(), tree_.begin() + static_cast<std::ptrdiff_t>(n), std::numeric_limits<double>::infinity());
    std::fill(thresholds_.begin(), thresholds_.begin() + static_cast<std::ptrdiff_t>(n), Grid<M>::kNever);
    block_best_.resize(cap_ / kLanes);
    for (std::size_t b = 0; b < block_best_.size(); ++b) refresh(b);
  }
  std::size_t size() const { return size_; }
  std::size_t blocks() const { return padded(size_) / kLanes; }
  std::size_t id(std::size_t s) const { return ids_[s]; }
  const unsigned char* cells(std::size_t t) const { return cells_.data() + t * cap_; }
  const std::int32_t* thresholds() const { return thresholds_.data(); }
  const Candidate<double>& block_best(std::size_t b) const { return block_best_[b]; }

  // Slot s of block b now at distance dd from the tree, if that is closer (Prim's update, strict).
  void offer(std::size_t b, std::size_t s, double dd) {
    if (!(tree_[s] > dd)) return;
    tree_[s] = dd;
    thresholds_[s] = grid_.threshold(dd);
    Candidate<double>& best = block_best_[b];
    if (dd < best.value || (dd == best.value && s < best.index)) best = {dd, s};
  }

  void kill(std::size_t i) {
    const std::size_t s = slot_[i];
    tree_[s] = kJoined;
    thresholds_[s] = 0;
    refresh(s / kLanes);
    if (++dead_ * 8 > size_) compact();
  }

 private:
  static constexpr double kJoined = std::numeric_limits<double>::quiet_NaN();
  static std::size_t padded(std::size_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

  void refresh(std::size_t b) {
    Candidate<double> best{std::numeric_limits<double>::infinity(), b * kLanes};
    for (std::size_t s = b * kLanes; s < (b + 1) * kLanes; ++s)
      if (tree_[s] < best.value) best = {tree_[s], s};
    block_best_[b] = best;
  }

  void compact() {
    std::size_t m = 0;
    for (std::size_t s = 0; s < size_; ++s) {
      if (std::isnan(tree_[s])) continue;
      for (std::size_t t = 0; t < d_; ++t) cells_[t * cap_ + m] = cells_[t * cap_ + s];
      ids_[m] = ids_[s];
      tree_[m] = tree_[s];
      thresholds_[m] = thresholds_[s];
      slot_[ids_[m]] = m;
      ++m;
    }
    std::fill(tree_.begin() + static_cast<std::ptrdiff_t>(m), tree_.end(), kJoined);
    std::fill(thresholds_.begin() + static_cast<std::ptrdiff_t>(m), thresholds_.end(), 0);
    size_ = m;
    dead_ = 0;
    for (std::size_t b = 0; b < blocks(); ++b) refresh(b);
  }

  const Grid<M>& grid_;
  std::size_t d_, size_, cap_, dead_ = 0;
  std::vector<std::size_t> ids_;
  std::vector<std::size_t> slot_;  // by point: its slot while outside
  std::vector<unsigned char> cells_;
  std::vector<double> tree_;
  std::vector<std::int32_t> thresholds_;
  std::vector<Candidate<double>> block_best_;
};

// The new tree point's cells, as the scan reads them: for each coordinate t, kLanes copies of the cell
// above it (qc[2 * kLanes * t + l]) and kLanes of the cell below it, or 0 (qc[(2 * t + 1) * kLanes + l]),
// so that a cell c is max(0, c - above, below - c) cells' width from the point's own cell.
template <VectorMetric M, class T>
void query_cells(const Grid<M>& grid, const T* xr, std::size_t d, std::vector<unsigned char>& qc) {
  qc.resize(2 * kLanes * d);
  for (std::size_t t = 0; t < d; ++t) {
    const unsigned char q = grid.cell(static_cast<double>(xr[t]), t);
    std::fill_n(qc.begin() + static_cast<std::ptrdiff_t>(2 * kLanes * t), kLanes, static_cast<unsigned char>(q + 1));
    std::fill_n(qc.begin() + static_cast<std::ptrdiff_t>((2 * t + 1) * kLanes), kLanes,
                static_cast<unsigned char>(q > 0 ? q - 1 : 0));
  }
}

#if PIXCLUST_SSE2
// SSE2 by hand: GCC 12 vectorises the portable byte loop across coordinates, with gathers.
// The gaps (query_cells) of coordinate t for the kLanes slots from s.
inline __m128i cell_gaps(const unsigned char* cells, const unsigned char* qc, std::size_t t) {
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(cells));
  const __m128i above = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qc + 2 * kLanes * t));
  const __m128i below = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qc + (2 * t + 1) * kLanes));
  return _mm_or_si128(_mm_subs_epu8(c, above), _mm_subs_epu8(below, c));  // one of the two is 0
}

// Adds the squares (or, !squares, the values) of the gaps g0 and g1 of two coordinates to acc, by lane.
template <bool squares>
inline void add_gap_pair(__m128i g0, __m128i g1, __m128i* acc) {
  const __m128i zero = _mm_setzero_si128(), ones = _mm_set1_epi16(1);
  const __m128i lo = _mm_unpacklo_epi8(g0, g1), hi = _mm_unpackhi_epi8(g0, g1);
  const __m128i w[4] = {_mm_unpacklo_epi8(lo, zero), _mm_unpackhi_epi8(lo, zero), _mm_unpacklo_epi8(hi, zero),
                        _mm_unpackhi_epi8(hi, zero)};
  for (std::size_t k = 0; k < 4; ++k) acc[k] = _mm_add_epi32(acc[k], _mm_madd_epi16(w[k], squares ? w[k] : ones));
}

// The lanes' bounds (may_improve) in four vectors of four.
template <VectorMetric M>
inline void lane_bounds(const OutsideSlots<M>& out, std::size_t d, const unsigned char* qc, std::size_t s,
                        __m128i* acc) {
  const __m128i zero = _mm_setzero_si128();
  for (std::size_t k = 0; k < 4; ++k) acc[k] = zero;
  if constexpr (M == VectorMetric::chebyshev) {
    __m128i top = zero;
    for (std::size_t t = 0; t < d; ++t) top = _mm_max_epu8(top, cell_gaps(out.cells(t) + s, qc, t));
    const __m128i lo = _mm_unpacklo_epi8(top, zero), hi = _mm_unpackhi_epi8(top, zero);
    acc[0] = _mm_unpacklo_epi16(lo, zero);
    acc[1] = _mm_unpackhi_epi16(lo, zero);
    acc[2] = _mm_unpacklo_epi16(hi, zero);
    acc[3] = _mm_unpackhi_epi16(hi, zero);
  } else {
    constexpr bool squares = M != VectorMetric::cityblock;
    std::size_t t = 0;
    for (; t + 1 < d; t += 2)
      add_gap_pair<squares>(cell_gaps(out.cells(t) + s, qc, t), cell_gaps(out.cells(t + 1) + s, qc, t + 1), acc);
    if (t < d) add_gap_pair<squares>(cell_gaps(out.cells(t) + s, qc, t), zero, acc);
  }
}
#endif

// Which of the kLanes slots of block b may come closer to the tree (a bit each): their lower bounds, in
// grid units, on the distance from the point with cells qc (query_cells) stay below their thresholds.
// A coordinate whose cells are g + 1 apart differs by more than g cells' width (less a rounding slack,
// in Grid), so the g's squares (euclidean), sum (cityblock) or maximum (chebyshev) bound the distance
// from below. Integers: every vectorisation of them gives the same bounds.
template <VectorMetric M>
inline unsigned may_improve(const OutsideSlots<M>& out, std::size_t d, const unsigned char* qc, std::size_t b) {
  const std::size_t s = b * kLanes;
  const std::int32_t* thr = out.thresholds() + s;
  unsigned mask = 0;
#if PIXCLUST_SSE2
  __m128i acc[4];
  lane_bounds<M>(out, d, qc, s, acc);
  for (std::size_t k = 0; k < 4; ++k) {
    const __m128i below = _mm_cmplt_epi32(acc[k], _mm_loadu_si128(reinterpret_cast<const __m128i*>(thr + 4 * k)));
    mask |= static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(below))) << (4 * k);
  }
#else
  std::int32_t acc[kLanes] = {};
  for (std::size_t t = 0; t < d; ++t) {
    const unsigned char* c = out.cells(t) + s;
    const int above = qc[2 * kLanes * t], below = qc[(2 * t + 1) * kLanes];
    for (std::size_t l = 0; l < kLanes; ++l) {
      const int gap = std::max({0, c[l] - above, below - c[l]});
      if constexpr (M == VectorMetric::euclidean || M == VectorMetric::sqeuclidean) {
        acc[l] += gap * gap;
      } else if constexpr (M == VectorMetric::cityblock) {
        acc[l] += gap;
      } else {
        acc[l] = std::max(acc[l], gap);
      }
    }
  }
  for (std::size_t l = 0; l < kLanes; ++l) mask |= static_cast<unsigned>(acc[l] < thr[l]) << l;
#endif
  return mask;
}

// One chunk's scan over the blocks that start in [lo, hi) (so each block has one owner): a slot whose
// bound stays below its threshold gets its distance as pdist computes it, and the tree values are
// updated; returns the closest slot (ties to the lowest) and whether a distance was not finite. Joined
// and padding slots have threshold 0, which no bound is below.
template <VectorMetric M, class T>
PrimBest scan_blocks(OutsideSlots<M>& out, const T* X, std::size_t d, const T* xr, const unsigned char* qc,
                     std::size_t lo, std::size_t hi) {
  PrimBest best{std::numeric_limits<double>::infinity(), hi, false};
  for (std::size_t b = (lo + kLanes - 1) / kLanes; b * kLanes < hi; ++b) {
    for (unsigned mask = may_improve<M>(out, d, qc, b); mask != 0; mask &= mask - 1) {
      const std::size_t s = b * kLanes + static_cast<std::size_t>(ctz64(mask));
      const double dd = vector_distance<M>(xr, X + out.id(s) * d, d, 0.0, 0.0);
      best.bad |= !std::isfinite(dd);
      out.offer(b, s, dd);
    }
    const Candidate<double>& c = out.block_best(b);
    if (c.value < best.value) best = {c.value, c.index, best.bad};
  }
  return best;
}

template <VectorMetric M, class T>
void prim_lanes(const T* X, std::size_t n, std::size_t d, double* Z, int threads, bool adaptive, CancelPoller& poller) {
  const Grid<M> grid(X, n, d);
  OutsideSlots<M> outside(X, n, d, grid);
  std::vector<unsigned char> qc;
  std::vector<PrimBest> scratch;
  ThreadBudget budget(threads, adaptive);
  std::size_t x = 0;
  for (std::size_t k = 0; k + 1 < n; ++k) {
    outside.kill(x);
    const T* xr = X + x * d;
    query_cells(grid, xr, d, qc);
    auto scan = [&](std::size_t lo, std::size_t hi) { return scan_blocks<M>(outside, X, d, xr, qc.data(), lo, hi); };
    const PrimBest best = closest_outside(outside.blocks() * kLanes, budget.threads(), scratch, scan);
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
