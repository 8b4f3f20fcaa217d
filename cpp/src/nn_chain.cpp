// Complete, average, weighted and ward linkage by the nearest-neighbour chain, step for step as SciPy's
// nn_chain (scipy/cluster/_hierarchy.pyx): the chain starts at the lowest live cluster; each link is the
// nearest live cluster, ties to the previous link in the chain, else to the lowest index; merging x < y
// keeps the new cluster at index y. The same merges in the same order give the same floating-point
// history, hence SciPy's heights to the bit. What is ours: live clusters are kept in a list so dead ones
// are not scanned, and the scans and the row update run on all threads.
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "linkage_common.hpp"

namespace pixclust::detail {

namespace {

template <class T, LinkageMethod M>
void nn_chain_impl(T* D, std::size_t n, double* Z, int threads, CancelPoller& poller) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  const std::vector<std::size_t> off = condensed_row_offsets(n);
  std::vector<std::int64_t> size(n, 1);
  ActiveList live(n);
  std::vector<std::size_t> chain;
  chain.reserve(n);
  std::vector<Candidate<T>> scratch;

  for (std::size_t k = 0; k + 1 < n; ++k) {
    if (chain.empty()) chain.push_back(live.first_alive());
    std::size_t x = 0, y = 0;
    T current_min = inf;
    for (;;) {
      x = chain.back();
      const std::size_t* L = live.data();
      const std::size_t at_x = live.lower_bound(x);  // L[at_x] == x
      const Candidate<T> best = chunked_argmin<T>(0, live.size(), threads, scratch, [&](std::size_t lo, std::size_t hi) {
        return nearest_in_range(D, off.data(), L, live, lo, hi, x, at_x);
      });
      if (chain.size() > 1) {
        // SciPy starts its scan from the previous link: it wins unless something is strictly closer.
        const std::size_t prev = chain[chain.size() - 2];
        const T d_prev = x < prev ? D[off[x] + prev] : D[off[prev] + x];
        if (!(best.value < d_prev)) {
          y = prev;
          current_min = d_prev;
          break;
        }
      }
      y = L[best.index];
      current_min = best.value;
      chain.push_back(y);
    }
    chain.pop_back();
    chain.pop_back();
    if (x > y) std::swap(x, y);

    const std::int64_t nx = size[x], ny = size[y];
    double* row = Z + 4 * k;
    row[0] = static_cast<double>(x);
    row[1] = static_cast<double>(y);
    row[2] = static_cast<double>(current_min);
    row[3] = static_cast<double>(nx + ny);
    size[x] = 0;
    size[y] = nx + ny;
    live.kill(x);

    // D(i, y) <- update(D(i, x), D(i, y)) for every live i != y; each entry is written once, by one
    // thread, so the update cannot depend on the thread count.
    const double d_xy = static_cast<double>(current_min);
    const std::size_t* L = live.data();
    const std::size_t at_x = live.lower_bound(x), at_y = live.lower_bound(y);
    chunked_for(0, live.size(), threads, [&](std::size_t lo, std::size_t hi) {
      update_range(D, off.data(), L, live, lo, hi, x, y, at_x, at_y, [&](T d_xi, T d_yi, std::size_t i) {
        return static_cast<T>(
            lance_williams<M>(static_cast<double>(d_xi), static_cast<double>(d_yi), d_xy, nx, ny, size[i]));
      });
    });
    poller.poll();
  }
  sort_and_relabel(Z, n);
}

}  // namespace

template <class T>
void nn_chain(T* D, std::size_t n, LinkageMethod method, double* Z, int threads, CancelPoller& poller) {
  switch (method) {
    case LinkageMethod::complete: return nn_chain_impl<T, LinkageMethod::complete>(D, n, Z, threads, poller);
    case LinkageMethod::average: return nn_chain_impl<T, LinkageMethod::average>(D, n, Z, threads, poller);
    case LinkageMethod::weighted: return nn_chain_impl<T, LinkageMethod::weighted>(D, n, Z, threads, poller);
    case LinkageMethod::ward: return nn_chain_impl<T, LinkageMethod::ward>(D, n, Z, threads, poller);
    default: throw std::invalid_argument("nn_chain: method must be complete, average, weighted or ward");
  }
}

template void nn_chain<float>(float*, std::size_t, LinkageMethod, double*, int, CancelPoller&);
template void nn_chain<double>(double*, std::size_t, LinkageMethod, double*, int, CancelPoller&);

}  // namespace pixclust::detail
