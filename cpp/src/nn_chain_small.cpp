// Complete, average, weighted and ward linkage for small matrices: SciPy's nearest-neighbour chain
// (scipy/cluster/_hierarchy.pyx, nn_chain) on the condensed matrix as it is, on one thread, with each
// cluster's nearest neighbour remembered between links.
//
// Below a few thousand points the matrix sits in the caches, and what costs time is instructions, not
// memory: nn_chain.cpp's panel order, neighbour lists of eight, reverse index and parallel passes cost
// more than they save there (n = 200: 0.8 ms against fastcluster's 0.14 ms). Here a link costs a scan
// of the chain's head unless its nearest neighbour is still known: one pass finds every cluster's
// nearest first, and each merge's update pass, which computes every distance to the merged cluster,
// keeps the others' (a cluster whose nearest was one of the two merged ones forgets it unless the
// merged cluster is closer still) and finds the merged cluster's own.
//
// The merges are SciPy's, in SciPy's order, hence its heights to the bit: the chain starts at the
// lowest live cluster; a link is the nearest live cluster, ties to the previous link, else to the lowest
// index; merging x < y keeps the new cluster at index y; the distances are updated by SciPy's formulas
// (lance_williams_batch, operand for operand).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "linkage_common.hpp"

namespace pixclust::detail {

namespace {

template <class T, LinkageMethod M>
void chain_small(const T* src, T* D, std::size_t n, double* Z, CancelPoller& poller) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  // D(i, j), i < j, is D[row[i] + j] (row[0] wraps; the sum is right in unsigned arithmetic).
  std::vector<std::size_t> row(n);
  for (std::size_t i = 0; i < n; ++i) row[i] = n * i - i * (i + 1) / 2 - i - 1;
  auto at = [&](std::size_t i, std::size_t j) { return i < j ? row[i] + j : row[j] + i; };

  // near_v[i], near_j[i]: i's nearest live cluster (lowest index among equals) while known[i].
  std::vector<T> near_v(n, inf);
  std::vector<std::size_t> near_j(n, n);
  std::vector<unsigned char> known(n, 1);
  {
    // One pass copies the matrix (unless it is to be overwritten), checks that it is finite and finds
    // every cluster's nearest: row i offers D(i, j) to both i and j in increasing j, and a strict <
    // keeps the lowest index. Rows before i have all offered to i when row i starts (the clusters below
    // i come first, so they win ties), and row i then adds the clusters above.
    const bool copy = src != D;
    int bad = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const T* s = src + row[i];
      T* r = D + row[i];
      T best = near_v[i];
      std::size_t best_j = near_j[i];
      for (std::size_t j = i + 1; j < n; ++j) {
        const T d = s[j];
        if (copy) r[j] = d;
        bad |= static_cast<int>(!((d - d) == T(0)));  // NaN for inf and NaN, 0 otherwise
        if (d < best) {
          best = d;
          best_j = j;
        }
        if (d < near_v[j]) {
          near_v[j] = d;
          near_j[j] = i;
        }
      }
      near_v[i] = best;
      near_j[i] = best_j;
      if (i % 64 == 63) poller.poll();
    }
    if (bad != 0) throw_non_finite();
  }

  std::vector<std::size_t> live(n);  // the live clusters, in increasing order
  for (std::size_t i = 0; i < n; ++i) live[i] = i;
  std::vector<std::int64_t> size(n, 1);
  std::vector<std::size_t> chain;
  chain.reserve(n);

  // i's nearest live cluster by a full scan: down column i, then along row i.
  auto scan = [&](std::size_t i) {
    T best = inf;
    std::size_t best_j = n;
    std::size_t p = 0;
    for (; p < live.size() && live[p] < i; ++p) {
      if (p + 16 < live.size()) prefetch_value(static_cast<const T*>(D), row[live[p + 16]] + i, false);
      const T d = D[row[live[p]] + i];
      if (d < best) {
        best = d;
        best_j = live[p];
      }
    }
    const T* r = D + row[i];
    for (++p; p < live.size(); ++p) {
      const T d = r[live[p]];
      if (d < best) {
        best = d;
        best_j = live[p];
      }
    }
    near_v[i] = best;
    near_j[i] = best_j;
    known[i] = 1;
  };

  constexpr std::size_t B = 16;
  std::size_t pos[B], idx[B];
  double a[B], b[B], out[B];

  for (std::size_t k = 0; k + 1 < n; ++k) {
    if (chain.empty()) chain.push_back(live.front());
    std::size_t x = 0, y = 0;
    T current_min = inf;
    for (;;) {
      x = chain.back();
      if (!known[x]) scan(x);
      if (chain.size() > 1) {
        // SciPy starts its scan from the previous link: it wins unless something is strictly closer.
        const std::size_t prev = chain[chain.size() - 2];
        const T d_prev = D[at(x, prev)];
        if (!(near_v[x] < d_prev)) {
          y = prev;
          current_min = d_prev;
          break;
        }
      }
      y = near_j[x];
      current_min = near_v[x];
      chain.push_back(y);
    }
    chain.pop_back();
    chain.pop_back();
    if (x > y) std::swap(x, y);

    const std::int64_t nx = size[x], ny = size[y];
    double* z = Z + 4 * k;
    z[0] = static_cast<double>(x);
    z[1] = static_cast<double>(y);
    z[2] = static_cast<double>(current_min);
    z[3] = static_cast<double>(nx + ny);
    size[x] = 0;
    size[y] = nx + ny;
    live.erase(std::lower_bound(live.begin(), live.end(), x));
    if (k + 2 == n) break;  // nothing left to update

    // D(i, y) <- update(D(i, x), D(i, y)) for every live i != y, in increasing i, in batches for
    // lance_williams_batch. Each new distance is offered to y (its nearest) and to i.
    const double d_xy = static_cast<double>(current_min);
    T y_best = inf;
    std::size_t y_best_j = n;
    std::size_t cnt = 0;
    auto flush = [&] {
      lance_williams_batch<M>(cnt, a, b, d_xy, nx, ny, size.data(), idx, out);
      for (std::size_t q = 0; q < cnt; ++q) {
        const T d = static_cast<T>(out[q]);
        const std::size_t i = idx[q];
        D[pos[q]] = d;
        if (d < y_best) {
          y_best = d;
          y_best_j = i;
        }
        // Without a branch per entry (which clusters are known is irregular): a cluster whose nearest
        // was one of the two merged ones takes the merged cluster if it is closer than that was (all
        // others are at least as far), or as close when it was y itself (the others at that distance
        // have higher indices), and is otherwise forgotten (scanned again if it heads the chain);
        // any other takes it if it comes first in (distance, index) order.
        const T v = near_v[i];
        const std::size_t j = near_j[i];
        const bool gone = (j == x) | (j == y);
        const bool take = (d < v) | ((d == v) & (gone ? j == y : y < j));
        if (take | gone) {  // rare: most lists are left as they are
          near_v[i] = take ? d : v;
          near_j[i] = take ? y : j;
          known[i] = static_cast<unsigned char>(known[i] & static_cast<unsigned char>(take));
        }
      }
      cnt = 0;
    };
    auto push = [&](std::size_t i, std::size_t ax, std::size_t ay) {
      pos[cnt] = ay;
      idx[cnt] = i;
      a[cnt] = static_cast<double>(D[ax]);
      b[cnt] = static_cast<double>(D[ay]);
      if (++cnt == B) flush();
    };
    // The column reads (D(i, x) and D(i, y) for i below them) are a cache line each: prefetched
    // kAhead entries ahead, several are in flight at once.
    constexpr std::size_t kAhead = 16;
    const std::size_t m = live.size();
    const std::size_t px = static_cast<std::size_t>(std::lower_bound(live.begin(), live.end(), x) - live.begin());
    const std::size_t py = static_cast<std::size_t>(std::lower_bound(live.begin(), live.end(), y) - live.begin());
    const std::size_t* L = live.data();
    const T* Dc = D;
    for (std::size_t p = 0; p < px; ++p) {
      if (p + kAhead < px) {
        prefetch_value(Dc, row[L[p + kAhead]] + x, false);
        prefetch_value(Dc, row[L[p + kAhead]] + y, true);
      }
      push(L[p], row[L[p]] + x, row[L[p]] + y);
    }
    for (std::size_t p = px; p < py; ++p) {
      if (p + kAhead < py) prefetch_value(Dc, row[L[p + kAhead]] + y, true);
      push(L[p], row[x] + L[p], row[L[p]] + y);
    }
    for (std::size_t p = py + 1; p < m; ++p) push(L[p], row[x] + L[p], row[y] + L[p]);
    flush();
    near_v[y] = y_best;
    near_j[y] = y_best_j;
    known[y] = 1;
    poller.poll();
  }
  sort_and_relabel(Z, n);
}

}  // namespace

template <class T>
void nn_chain_small(const T* src, T* W, std::size_t n, LinkageMethod method, double* Z, CancelPoller& poller) {
  using M = LinkageMethod;
  switch (method) {
    case M::complete: return chain_small<T, M::complete>(src, W, n, Z, poller);
    case M::average: return chain_small<T, M::average>(src, W, n, Z, poller);
    case M::weighted: return chain_small<T, M::weighted>(src, W, n, Z, poller);
    case M::ward: return chain_small<T, M::ward>(src, W, n, Z, poller);
    default: throw std::invalid_argument("nn_chain_small: method must be complete, average, weighted or ward");
  }
}

template void nn_chain_small<float>(const float*, float*, std::size_t, LinkageMethod, double*, CancelPoller&);
template void nn_chain_small<double>(const double*, double*, std::size_t, LinkageMethod, double*, CancelPoller&);

}  // namespace pixclust::detail
