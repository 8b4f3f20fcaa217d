// Complete, average, weighted and ward linkage for inputs outside safe_range (linkage_common.hpp): SciPy's
// nearest-neighbour chain (nn_chain in scipy/cluster/_hierarchy.pyx) step for step, on the condensed
// matrix, one thread, O(n) per link.
//
// There a distance update can overflow, and a scan of the chain's head can find nothing below infinity
// (every distance infinite or NaN). SciPy's chain then goes on with the cluster its last successful scan
// found, possibly a dead one whose row it reads as it was left; its outcome is often still a valid tree.
// The fast chains (nn_chain.cpp, nn_chain_small.cpp) keep no such state, so these inputs come here,
// where it is kept as SciPy keeps it. The few places where SciPy would read or write outside its arrays,
// or merge a cluster with itself, end in InvalidSciPyTree: SciPy's result is undefined or invalid
// there. linkage() checks the finished tree (require_valid_tree).
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "linkage_common.hpp"

namespace pixclust::detail {

namespace {

template <LinkageMethod M>
void chain(double* D, std::size_t n, double* Z, CancelPoller& poller) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const Panels<1> P(n);
  // SciPy's condensed_index in either order; for i == j it returns 0, so D(x, x) reads D[0].
  auto at = [&P](std::size_t i, std::size_t j) { return i < j ? P.at(i, j) : j < i ? P.at(j, i) : 0; };
  std::vector<std::int64_t> size(n, 1);
  std::vector<std::size_t> chain;
  chain.reserve(n);
  // As in SciPy, y outlives each scan and merge: a scan that finds nothing leaves the last one found.
  std::size_t y = 0;

  for (std::size_t k = 0; k + 1 < n; ++k) {
    // A merge kills at most one cluster and only merging two live ones does, so one is always live.
    if (chain.empty())
      for (std::size_t i = 0; i < n; ++i)
        if (size[i] > 0) {
          chain.push_back(i);
          break;
        }
    std::size_t x = 0;
    double current_min = inf;
    for (;;) {
      x = chain.back();
      current_min = inf;
      if (chain.size() > 1) {
        y = chain[chain.size() - 2];
        current_min = D[at(x, y)];
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (size[i] == 0 || i == x) continue;
        const double d = D[at(x, i)];
        if (d < current_min) {
          current_min = d;
          y = i;
        }
      }
      if (chain.size() > 1 && y == chain[chain.size() - 2]) break;
      if (chain.size() == n) throw InvalidSciPyTree{"SciPy's chain would grow past its n links"};
      chain.push_back(y);
    }
    chain.pop_back();
    chain.pop_back();
    if (x > y) std::swap(x, y);
    if (x == y) throw InvalidSciPyTree{"SciPy's chain merges a cluster with itself"};

    const std::int64_t nx = size[x], ny = size[y];
    write_merge(Z, k, x, y, current_min, static_cast<double>(nx + ny));
    size[x] = 0;
    size[y] = nx + ny;
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t ni = size[i];
      if (ni == 0 || i == y) continue;
      D[at(i, y)] = lance_williams<M>(D[at(i, x)], D[at(i, y)], current_min, nx, ny, ni);
    }
    poller.poll(scanned_share(k, n));
  }
  sort_and_relabel(Z, n);
}

}  // namespace

void reference_nn_chain(double* D, std::size_t n, LinkageMethod method, double* Z, CancelPoller& poller) {
  using M = LinkageMethod;
  switch (method) {
    case M::complete: return chain<M::complete>(D, n, Z, poller);
    case M::average: return chain<M::average>(D, n, Z, poller);
    case M::weighted: return chain<M::weighted>(D, n, Z, poller);
    case M::ward: return chain<M::ward>(D, n, Z, poller);
    default: throw std::invalid_argument("reference_nn_chain: method must be complete, average, weighted or ward");
  }
}

}  // namespace pixclust::detail
