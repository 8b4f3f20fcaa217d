// Complete, average, weighted and ward linkage for small matrices: SciPy's nearest-neighbour chain
// (scipy/cluster/_hierarchy.pyx, nn_chain) on the condensed matrix as it is, on one thread, with each
// cluster's nearest neighbour remembered between links.
//
// Below a few thousand points the matrix sits in the caches, and what costs time is instructions, not
// memory: nn_chain.cpp's panel order, neighbour lists of eight, reverse index and parallel passes cost
// more than they save there (benchmarks/bench_linkage_small.py). Here a link costs a scan
// of the chain's head unless its nearest neighbour is still known: one pass finds every cluster's
// nearest first, and each merge's update pass, which computes every distance to the merged cluster,
// keeps the others' (a cluster whose nearest was one of the two merged ones forgets it unless the
// merged cluster is closer still) and finds the merged cluster's own.
//
// The merges are SciPy's, in SciPy's order, hence its heights to the bit: the chain starts at the
// lowest live cluster and walks as SciPy's does (reciprocal_pair); merging x < y keeps the new cluster
// at index y; the distances are updated by SciPy's formulas. The scans and the update pass are the
// panel algorithms' kernels (nearest_in_range, update_range) on the condensed order (Panels<1>), over a
// list of the live clusters from which the dead are erased (AllAlive).
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
  const Panels<1> P(n);  // condensed order: D(i, j), i < j, is D[row[i] + j]
  const std::size_t* row = P.rect();

  // near_v[i], near_j[i]: i's nearest live cluster (lowest index among equals) while known[i].
  std::vector<T> near_v(n, inf);
  std::vector<std::size_t> near_j(n, n);
  std::vector<unsigned char> known(n, 1);
  {
    // One pass copies the matrix (unless it is to be overwritten), checks that it is inside the safe
    // range (src is only read, so a rejected input is intact: see safe_range) and finds every cluster's
    // nearest: row i offers D(i, j) to both i and j in increasing j, and a strict <
    // keeps the lowest index. Rows before i have all offered to i when row i starts (the clusters below
    // i come first, so they win ties), and row i then adds the clusters above.
    const bool copy = src != D;
    const SafeRange<T> range = safe_range<T>(M, n);
    int bad = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const T* s = src + row[i];
      T* r = D + row[i];
      T best = near_v[i];
      std::size_t best_j = near_j[i];
      for (std::size_t j = i + 1; j < n; ++j) {
        const T d = s[j];
        if (copy) r[j] = d;
        bad |= static_cast<int>(!range.contains(d));
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
    if (bad != 0) throw_outside_range(src, n, 1);
  }

  std::vector<std::size_t> live(n);  // the live clusters, in increasing order
  for (std::size_t i = 0; i < n; ++i) live[i] = i;
  std::vector<std::int64_t> size(n, 1);
  std::vector<std::size_t> chain;
  chain.reserve(n);

  for (std::size_t k = 0; k + 1 < n; ++k) {
    if (chain.empty()) chain.push_back(live.front());
    const ChainPair<T> pair = reciprocal_pair<T>(
        chain,
        [&](std::size_t x) {
          if (!known[x]) {  // a full scan: down column x, then along row x
            const std::size_t at_x = static_cast<std::size_t>(std::lower_bound(live.begin(), live.end(), x) - live.begin());
            const Candidate<T> c =
                nearest_in_range(static_cast<const T*>(D), P, live.data(), AllAlive{}, 0, live.size(), x, at_x, at_x + 1);
            if (c.index >= live.size()) throw_no_candidate();
            near_v[x] = c.value;
            near_j[x] = live[c.index];
            known[x] = 1;
          }
          return Candidate<T>{near_v[x], near_j[x]};
        },
        [&](std::size_t a, std::size_t b) { return a < b ? D[P.at(a, b)] : D[P.at(b, a)]; });
    const std::size_t x = pair.x, y = pair.y;

    const std::int64_t nx = size[x], ny = size[y];
    write_merge(Z, k, x, y, static_cast<double>(pair.d), static_cast<double>(nx + ny));
    size[x] = 0;
    size[y] = nx + ny;
    live.erase(std::lower_bound(live.begin(), live.end(), x));
    if (k + 2 == n) {  // nothing left to update
      poller.poll(1.0);
      break;
    }

    // D(i, y) <- update(D(i, x), D(i, y)) for every live i != y, in increasing i; each new distance is
    // offered to y (its nearest) and to i.
    T y_best = inf;
    std::size_t y_best_j = n;
    const auto at = [&](std::size_t c) {
      return static_cast<std::size_t>(std::lower_bound(live.begin(), live.end(), c) - live.begin());
    };
    update_range<M>(D, P, live.data(), AllAlive{}, 0, live.size(), x, y, at(x), at(y), static_cast<double>(pair.d), nx,
                    ny, size.data(), [&](T d, std::size_t i) {
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
    });
    near_v[y] = y_best;
    near_j[y] = y_best_j;
    known[y] = 1;
    poller.poll(scanned_share(k, n));
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
