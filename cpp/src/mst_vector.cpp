// Single linkage from observations: SciPy's mst_single_linkage (Prim's minimum spanning tree from point
// 0: fold the newest tree point's distances into every outside point's distance to the tree, take the
// closest, ties to the lowest index) with each distance computed when Prim's reads it, as pdist would
// have computed it. The same tree edges in the same order as SciPy's, hence its matrix after the same
// sort and relabelling (tests/test_linkage_vector.py, test_single_matches_scipy).
//
// What is ours: the outside points are kept in an increasing list (ActiveList, compacted as points
// leave), and each step's scan runs on all threads with a chunk-ordered (value, lowest position)
// reduction, so the result does not depend on the thread count.
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
    const PrimBest best = chunked_reduce(std::size_t{0}, outside.size(), budget.threads(), scratch, scan,
                                         [](PrimBest& acc, const PrimBest& next) {
                                           const bool bad = acc.bad || next.bad;
                                           if (next.value < acc.value) acc = next;
                                           acc.bad = bad;
                                         });
    if (best.bad || best.index >= outside.size()) throw_non_finite();
    const std::size_t y = L[best.index];
    write_merge(Z, k, x, y, best.value, 0.0);  // the counts come with the sort
    x = y;
    poller.poll();
  }
  sort_and_relabel(Z, n);
}

}  // namespace

template <class T>
void mst_vector(const T* X, std::size_t n, std::size_t d, VectorMetric metric, double* Z, int threads,
                bool adaptive, CancelPoller& poller) {
  if (tree_pays(n, d) && mst_boruvka(X, n, d, metric, Z, threads, poller)) return;
  switch (metric) {
    case VectorMetric::euclidean: return prim<VectorMetric::euclidean>(X, n, d, Z, threads, adaptive, poller);
    case VectorMetric::sqeuclidean: return prim<VectorMetric::sqeuclidean>(X, n, d, Z, threads, adaptive, poller);
    case VectorMetric::cityblock: return prim<VectorMetric::cityblock>(X, n, d, Z, threads, adaptive, poller);
    case VectorMetric::chebyshev: return prim<VectorMetric::chebyshev>(X, n, d, Z, threads, adaptive, poller);
    case VectorMetric::cosine: return prim<VectorMetric::cosine>(X, n, d, Z, threads, adaptive, poller);
  }
}

template void mst_vector<float>(const float*, std::size_t, std::size_t, VectorMetric, double*, int, bool,
                                CancelPoller&);
template void mst_vector<double>(const double*, std::size_t, std::size_t, VectorMetric, double*, int, bool,
                                 CancelPoller&);

}  // namespace pixclust::detail
