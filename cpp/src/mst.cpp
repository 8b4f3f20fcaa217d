// Single linkage. The distances are only read, never copied.
//
// SciPy (mst_single_linkage) grows Prim's minimum spanning tree from point 0: at each step it folds the
// newest point's distances into every outside point's distance to the tree and takes the closest outside
// point, ties to the lowest index. Reading the newest point's distances to lower-numbered points walks
// down a column of the condensed matrix, a cache line per value, so Prim's is bound by memory latency.
//
// SLINK (Sibson 1973) computes the same hierarchy in the pointer representation, adding one point at a
// time; each step needs the new point's distances to the points already added and O(n) bookkeeping that
// stays in cache. Adding the points from last to first, those distances are one row of the condensed
// matrix, read front to back: the whole run is one sequential pass over the input (which also checks
// that it is finite), several times faster than Prim's (benchmarks/bench_linkage.py).
//
// The two agree exactly when the n - 1 merge heights are distinct: every single-linkage hierarchy then
// has the same merges in the same order, and SciPy's matrix (rows sorted by height, ids by row) is
// determined by them. When two heights are equal, SciPy's matrix depends on the order in which Prim's
// meets them, and the matrix is recomputed with Prim's (below), so ties follow SciPy too.
//
// Prim's, ours: the outside points are kept in a list so that finished ones are not scanned, and the
// scan runs on all threads with a chunk-ordered (value, lowest index) reduction. Below 2000 points,
// where the matrix sits in the caches, a plain one-thread Prim's (prim_small) is faster than either.
#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

#include "linkage_common.hpp"

namespace pixclust::detail {

namespace {


// True when all len values are finite (NaN and infinities fail x - x == 0). Vectorised.
template <class T>
bool finite_run(const T* x, std::size_t len) {
  bool ok = true;
  for (std::size_t k = 0; k < len; ++k) ok &= (x[k] - x[k] == T(0));
  return ok;
}

enum class SlinkOutcome { distinct, tied, not_finite };

// SLINK over the points n-1, n-2, ..., 0. After the step that adds point i, for every point j > i:
// pi[j] is the last point (in adding order, so the lowest index >= i) of the cluster that j joins at
// height lambda[j], when j stops being its cluster's last point. Writes the rows (j, pi[j], lambda[j])
// to Z in SciPy's final form when the heights are distinct.
template <class T>
SlinkOutcome slink(const T* D, std::size_t n, double* Z, CancelPoller& poller) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  std::vector<T> lambda(n, inf), extra(n, inf);
  std::vector<std::uint32_t> pi(n);
  std::iota(pi.begin(), pi.end(), std::uint32_t{0});
  T* L = lambda.data();
  T* M = extra.data();  // the step's M(j) is min(D(i, j), M[j]); M[j] is reset to inf once read
  std::uint32_t* P = pi.data();
  // Sibson's step ends with "pi[j] = i where lambda[j] >= lambda[pi[j]]", a pass of its own. It depends
  // on values the next step has not yet changed when it reaches j (pi[j] < j, and the loop runs down),
  // so it is folded into the next step's loop: `last` is the point whose pass is pending.
  std::uint32_t last = static_cast<std::uint32_t>(n - 1);
  for (std::size_t i = n - 1; i-- > 0;) {
    const std::size_t len = n - 1 - i;
    const T* row = D + (i * (2 * n - i - 1)) / 2;  // row[k] = D(i, i + 1 + k)
    if (!finite_run(row, len)) return SlinkOutcome::not_finite;  // the row now sits in cache
    const auto ui = static_cast<std::uint32_t>(i);
    for (std::size_t k = len; k-- > 0;) {
      const std::size_t j = i + 1 + k;
      const T l = L[j];
      std::uint32_t p = P[j];
      if (l >= L[p]) p = last;  // the pending pass of the previous step
      const T m = std::min(row[k], M[j]);
      M[j] = inf;
      // If lambda[j] >= M(j): j now joins i's cluster at M(j), and M(p) takes lambda[j]; otherwise
      // M(p) takes M(j). Either way M(p) = min(M(p), max(lambda[j], M(j))). Written without branches.
      const bool joins = l >= m;
      const T high = joins ? l : m;
      M[p] = std::min(M[p], high);
      L[j] = joins ? m : l;
      P[j] = joins ? ui : p;
    }
    last = ui;
    const double rows = static_cast<double>(len) / static_cast<double>(n - 1);  // each row one longer
    poller.poll(rows * rows);
  }
  for (std::size_t j = 1; j < n; ++j) {
    if (L[j] >= L[P[j]]) P[j] = 0;
  }
  // Rows in order of height; stop at the first tie.
  std::vector<std::uint32_t> order(n - 1);
  for (std::size_t r = 0; r + 1 < n; ++r) order[r] = static_cast<std::uint32_t>(r + 1);
  std::sort(order.begin(), order.end(), [L](std::uint32_t a, std::uint32_t b) { return L[a] < L[b]; });
  for (std::size_t r = 1; r + 1 < n; ++r) {
    if (!(L[order[r - 1]] < L[order[r]])) return SlinkOutcome::tied;
  }
  for (std::size_t r = 0; r + 1 < n; ++r) {
    const std::uint32_t j = order[r];
    write_merge(Z, r, j, P[j], static_cast<double>(L[j]), 0.0);
  }
  sort_and_relabel(Z, n);  // already in order: this assigns the ids and counts
  return SlinkOutcome::distinct;
}

// One step of Prim's over the outside points at list positions [lo, hi): folds the newest tree point
// x's distances into their distances to the tree and returns the closest (distance, position), the
// lowest position among equals. Positions below at_x hold points i < x, read down column x. Live:
// ActiveList (dead entries skipped) or AllAlive.
template <class T, std::size_t R, class Live>
Candidate<T> prim_scan(const T* D, const Panels<R>& P, const std::size_t* L, const Live& live, std::size_t lo,
                       std::size_t hi, std::size_t x, std::size_t at_x, T* tree) {
  Candidate<T> b{std::numeric_limits<T>::infinity(), hi};
  for_each_distance_to(D, P, L, live, lo, hi, x, at_x, at_x, [&](std::size_t p, T d) {
    const std::size_t i = L[p];
    T t = tree[i];
    if (t > d) tree[i] = t = d;
    if (t < b.value) b = {t, p};
  });
  return b;
}

template <class T, std::size_t R>
void mst_impl(const T* D, std::size_t n, double* Z, int threads, bool adaptive, CancelPoller& poller) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  const Panels<R> P(n);
  std::vector<T> to_tree(n, inf);  // distance from each outside point to the tree
  ActiveList outside(n);
  std::vector<Candidate<T>> scratch;
  ThreadBudget budget(threads, adaptive);

  std::size_t x = 0;
  for (std::size_t k = 0; k + 1 < n; ++k) {
    outside.kill(x);
    const std::size_t* L = outside.data();
    const std::size_t at_x = outside.lower_bound(x);  // entries before it are < x
    T* tree = to_tree.data();
    // Each outside point's to_tree entry is read and written by the one call that owns its position.
    const Candidate<T> best = chunked_argmin<T>(0, outside.size(), budget.threads(), scratch, [&](std::size_t lo, std::size_t hi) {
      return prim_scan(D, P, L, outside, lo, hi, x, at_x, tree);
    });
    if (best.index >= outside.size()) throw_no_candidate();
    const std::size_t y = L[best.index];
    write_merge(Z, k, x, y, static_cast<double>(best.value), 0.0);  // the counts come with the sort
    x = y;
    poller.poll(scanned_share(k, n));
  }
  sort_and_relabel(Z, n);
}

// Prim's below kSmallPrim points, where the matrix sits in the caches: plain loops on one thread over
// the outside points kept in order (SciPy's loop without the finished points), instead of mst_impl's
// chunked scans, or SLINK's longer step (crossover measured by benchmarks/bench_linkage_small.py).
inline constexpr std::size_t kSmallPrim = 2000;

template <class T>
void prim_small(const T* D, std::size_t n, double* Z, CancelPoller& poller) {
  const Panels<1> P(n);  // condensed order
  std::vector<T> to_tree(n, std::numeric_limits<T>::infinity());  // distance from each outside point to the tree
  std::vector<std::size_t> outside(n - 1);  // in increasing order; a point leaves when it joins the tree
  std::iota(outside.begin(), outside.end(), std::size_t{1});
  std::size_t x = 0;
  for (std::size_t k = 0; k + 1 < n; ++k) {
    const std::size_t at_x = static_cast<std::size_t>(std::lower_bound(outside.begin(), outside.end(), x) - outside.begin());
    const Candidate<T> best = prim_scan(D, P, outside.data(), AllAlive{}, 0, outside.size(), x, at_x, to_tree.data());
    if (best.index >= outside.size()) throw_no_candidate();
    const std::size_t y = outside[best.index];
    write_merge(Z, k, x, y, static_cast<double>(best.value), 0.0);  // the counts come with the sort
    outside.erase(outside.begin() + static_cast<std::ptrdiff_t>(best.index));
    x = y;
    poller.poll(scanned_share(k, n));
  }
  sort_and_relabel(Z, n);
}

}  // namespace

template <class T>
bool mst_single(const T* D, std::size_t n, double* Z, int threads, bool adaptive, CancelPoller& poller) {
  if (n < kSmallPrim) {
    if (!all_finite(D, n * (n - 1) / 2, 1)) return false;
    prim_small(D, n, Z, poller);
    return true;
  }
  if (n <= std::numeric_limits<std::uint32_t>::max()) {
    switch (slink(D, n, Z, poller)) {
      case SlinkOutcome::distinct: return true;
      case SlinkOutcome::not_finite: return false;
      case SlinkOutcome::tied: break;  // known finite; Prim's reports its own pass from 0
    }
  } else if (!all_finite(D, n * (n - 1) / 2, threads)) {
    return false;
  }
  mst_impl<T, 1>(D, n, Z, threads, adaptive, poller);
  return true;
}

template bool mst_single<float>(const float*, std::size_t, double*, int, bool, CancelPoller&);
template bool mst_single<double>(const double*, std::size_t, double*, int, bool, CancelPoller&);

}  // namespace pixclust::detail
