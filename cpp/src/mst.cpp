// Single linkage by Prim's minimum spanning tree, as SciPy's mst_single_linkage: grow the tree from
// point 0; at each step fold the newest point's distances into every outside point's distance to the
// tree, and take the closest outside point (ties to the lowest index). The distances are only read.
// What is ours: the outside points are kept in a list so that finished ones are not scanned, and the
// scan runs on all threads with a chunk-ordered (value, lowest index) reduction.
#include <algorithm>
#include <limits>
#include <vector>

#include "linkage_common.hpp"

namespace pixclust::detail {

namespace {

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
    const std::size_t* rect = P.rect();
    const std::size_t xR = x * R;
    T* tree = to_tree.data();
    // Each outside point's to_tree entry is read and written by the one call that owns its position.
    const Candidate<T> best = chunked_argmin<T>(0, outside.size(), budget.threads(), scratch, [&](std::size_t lo, std::size_t hi) {
      Candidate<T> b{inf, hi};
      const std::size_t col_end = std::min(hi, at_x);
      for (std::size_t p = lo; p < col_end; ++p) {
        if (p + kPrefetch < col_end) prefetch_value(D, rect[L[p + kPrefetch]] + xR, false);
        const std::size_t i = L[p];
        if (!outside.alive(i)) continue;
        const T d = D[P.at(i, x)];
        T t = tree[i];
        if (t > d) tree[i] = t = d;
        if (t < b.value) b = {t, p};
      }
      for (std::size_t p = std::max(lo, at_x); p < hi; ++p) {
        const std::size_t i = L[p];
        if (!outside.alive(i)) continue;
        const T d = D[P.at(x, i)];
        T t = tree[i];
        if (t > d) tree[i] = t = d;
        if (t < b.value) b = {t, p};
      }
      return b;
    });
    const std::size_t y = L[best.index];
    double* row = Z + 4 * k;
    row[0] = static_cast<double>(x);
    row[1] = static_cast<double>(y);
    row[2] = static_cast<double>(best.value);
    row[3] = 0.0;
    x = y;
    poller.poll();
  }
  sort_and_relabel(Z, n);
}

}  // namespace

template <class T>
void mst_single(const T* D, std::size_t n, double* Z, int threads, bool adaptive, CancelPoller& poller) {
  mst_impl<T, 1>(D, n, Z, threads, adaptive, poller);
}

template void mst_single<float>(const float*, std::size_t, double*, int, bool, CancelPoller&);
template void mst_single<double>(const double*, std::size_t, double*, int, bool, CancelPoller&);

}  // namespace pixclust::detail
