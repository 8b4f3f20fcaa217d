// Complete, average, weighted and ward linkage by the nearest-neighbour chain, step for step as SciPy's
// nn_chain (scipy/cluster/_hierarchy.pyx): the chain starts at the lowest live cluster; each link is the
// nearest live cluster, ties to the previous link in the chain, else to the lowest index; merging x < y
// keeps the new cluster at index y. The same merges in the same order give the same floating-point
// history, hence SciPy's heights to the bit.
//
// What is ours: SciPy scans a whole row of the matrix for every link of the chain (about 3n scans). We
// keep every live cluster's exact nearest neighbour (distance, lowest index) instead, so a link costs
// O(1). After a merge the cache stays exact with one pass over the merged row: an entry whose
// neighbour was neither x nor y can only be beaten by the new distance to y; the merged cluster's own
// neighbour is the minimum of that same pass; the clusters whose neighbour was x or y are marked stale
// and rescanned only if they come to head the chain. That is about half of SciPy's scans. Scans and
// updates run on all threads with chunk-ordered reductions.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "linkage_common.hpp"

namespace pixclust::detail {

namespace {

template <class T>
struct UpdateNotes {
  Candidate<T> nearest{std::numeric_limits<T>::infinity(), 0};  // of the merged cluster
};

// Every cluster's nearest neighbour from one pass over the matrix in storage order (contiguous reads).
// Panels are grouped into fixed blocks; a block keeps its own minima for the columns it touches, and
// the blocks are combined in row order, so every cluster sees its candidates in increasing index order
// and a strict < keeps the lowest index, whatever the thread count.
template <class T>
void initial_neighbours(const T* D, const Panels<kPanel>& P, std::size_t n, int threads, std::vector<T>& nn_val,
                        std::vector<std::size_t>& nn_idx) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  constexpr std::size_t R = kPanel;
  (void)threads;  // only read by the OpenMP pragma
  // Blocks of about equal area (row i has n-1-i entries), cut at panel boundaries.
  const std::size_t blocks = std::min<std::size_t>(16, (n - 1 + R - 1) / R);
  std::vector<std::size_t> first(blocks + 1, n);
  first[0] = 0;
  {
    const double total = static_cast<double>(n) * static_cast<double>(n - 1) / 2.0;
    std::size_t b = 1;
    double acc = 0.0;
    for (std::size_t i = 0; i < n && b < blocks; ++i) {
      acc += static_cast<double>(n - 1 - i);
      if ((i + 1) % R == 0 && acc >= total * static_cast<double>(b) / static_cast<double>(blocks)) first[b++] = i + 1;
    }
  }
  std::vector<std::vector<T>> col_val(blocks);
  std::vector<std::vector<std::size_t>> col_idx(blocks);
  nn_val.assign(n, inf);
  nn_idx.assign(n, n);
  const std::size_t* rect = P.rect();
  const auto nblocks = static_cast<std::ptrdiff_t>(blocks);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (std::ptrdiff_t sb = 0; sb < nblocks; ++sb) {
    const auto b = static_cast<std::size_t>(sb);
    std::vector<T>& cv = col_val[b];
    std::vector<std::size_t>& ci = col_idx[b];
    cv.assign(n, inf);
    ci.assign(n, n);
    for (std::size_t ps = first[b]; ps < first[b + 1]; ps += R) {
      const std::size_t pe = std::min(n, ps + R);
      // Row minima over j > i (column order visits each row's j in increasing order); column minima
      // over the rows of the panel in increasing order.
      T best[R];
      std::size_t arg[R];
      for (std::size_t r = 0; r < R; ++r) {
        best[r] = inf;
        arg[r] = n;
      }
      auto visit = [&](std::size_t r, std::size_t j, T v) {
        if (v < best[r]) {
          best[r] = v;
          arg[r] = j;
        }
        if (v < cv[j]) {
          cv[j] = v;
          ci[j] = ps + r;
        }
      };
      for (std::size_t j = ps + 1; j < pe; ++j)
        for (std::size_t r = 0; ps + r < j; ++r) visit(r, j, D[P.at(ps + r, j)]);
      if (pe - ps == R) {
        const T* col = D + (rect[ps] + pe * R);  // D(ps + r, j) = col[(j - pe) * R + r]
        for (std::size_t j = pe; j < n; ++j)
          for (std::size_t r = 0; r < R; ++r) visit(r, j, col[(j - pe) * R + r]);
      }
      // Row i's own minimum is over j > i; its candidates j < i come from the columns.
      for (std::size_t r = 0; ps + r < pe; ++r) {
        nn_val[ps + r] = best[r];  // provisional: combined with the column minima below
        nn_idx[ps + r] = arg[r];
      }
    }
  }
  // Combine: for cluster j, the candidates below j (from the blocks, in block order) come before the
  // candidates above j (its own row).
  for (std::size_t j = 0; j < n; ++j) {
    T best = inf;
    std::size_t arg = n;
    for (std::size_t b = 0; b < blocks && first[b] < j; ++b)
      if (col_val[b][j] < best) {
        best = col_val[b][j];
        arg = col_idx[b][j];
      }
    if (j + 1 < n && nn_val[j] < best) {
      best = nn_val[j];
      arg = nn_idx[j];
    }
    nn_val[j] = best;
    nn_idx[j] = arg;
  }
}

template <class T, LinkageMethod M>
void nn_chain_impl(T* D, std::size_t n, double* Z, int threads, bool adaptive, CancelPoller& poller) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  const Panels<kPanel> P(n);
  std::vector<std::int64_t> size(n, 1);
  ActiveList live(n);
  std::vector<std::size_t> chain;
  chain.reserve(n);
  std::vector<T> nn_val;
  std::vector<std::size_t> nn_idx;
  initial_neighbours(D, P, n, threads, nn_val, nn_idx);
  std::vector<unsigned char> stale(n, 0);  // neighbour was merged away: rescan before use
  std::vector<UpdateNotes<T>> notes;
  std::vector<Candidate<T>> scratch;
  ThreadBudget budget(threads, adaptive);

  // Exact nearest live neighbour of i (distance, lowest index) by a full scan.
  auto rescan = [&](std::size_t i, int scan_threads) {
    const std::size_t* L = live.data();
    const std::size_t at_i = live.lower_bound(i);
    const Candidate<T> best = chunked_argmin<T>(0, live.size(), scan_threads, scratch,
                                                [&](std::size_t lo, std::size_t hi) {
                                                  return nearest_in_range(D, P, L, live, lo, hi, i, at_i);
                                                });
    nn_val[i] = best.value;
    nn_idx[i] = best.value < inf ? L[best.index] : n;
  };

  for (std::size_t k = 0; k + 1 < n; ++k) {
    if (chain.empty()) chain.push_back(live.first_alive());
    std::size_t x = 0, y = 0;
    T current_min = inf;
    for (;;) {
      x = chain.back();
      if (stale[x]) {
        rescan(x, budget.threads());
        stale[x] = 0;
      }
      if (chain.size() > 1) {
        // SciPy starts its scan from the previous link: it wins unless something is strictly closer.
        const std::size_t prev = chain[chain.size() - 2];
        const T d_prev = x < prev ? D[P.at(x, prev)] : D[P.at(prev, x)];
        if (!(nn_val[x] < d_prev)) {
          y = prev;
          current_min = d_prev;
          break;
        }
      }
      y = nn_idx[x];
      current_min = nn_val[x];
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
    if (k + 2 == n) break;  // nothing left to update

    // D(i, y) <- update(D(i, x), D(i, y)) for every live i != y, each entry written by one chunk. The
    // same pass keeps the neighbour cache exact (see the top of the file); each chunk keeps its own
    // notes, read in chunk order below, so the thread count cannot change a result.
    const double d_xy = static_cast<double>(current_min);
    const std::size_t* L = live.data();
    const std::size_t at_x = live.lower_bound(x), at_y = live.lower_bound(y);
    const std::size_t chunks = (live.size() + kChunk - 1) / kChunk;
    if (notes.size() < chunks) notes.resize(chunks);
    for (std::size_t c = 0; c < chunks; ++c) {
      notes[c].nearest = {inf, 0};
    }
    chunked_for(0, live.size(), budget.threads(), [&](std::size_t lo, std::size_t hi) {
      UpdateNotes<T>& note = notes[lo / kChunk];
      update_range(D, P, L, live, lo, hi, x, y, at_x, at_y, [&](T d_xi, T d_yi, std::size_t i) {
        const T d = static_cast<T>(
            lance_williams<M>(static_cast<double>(d_xi), static_cast<double>(d_yi), d_xy, nx, ny, size[i]));
        // Positions are visited in increasing order within a chunk, so strict < keeps the lowest index.
        if (d < note.nearest.value) note.nearest = {d, i};
        const std::size_t j = nn_idx[i];
        if (stale[i]) {
          // rescanned when it next heads the chain
        } else if (j == x || j == y) {
          stale[i] = 1;
        } else if (d < nn_val[i] || (d == nn_val[i] && y < j)) {
          nn_val[i] = d;
          nn_idx[i] = y;
        }
        return d;
      });
    });
    Candidate<T> nearest_y = notes[0].nearest;
    for (std::size_t c = 1; c < chunks; ++c)
      if (notes[c].nearest.value < nearest_y.value) nearest_y = notes[c].nearest;
    nn_val[y] = nearest_y.value;
    nn_idx[y] = nearest_y.index;
    stale[y] = 0;

    poller.poll();
  }
  sort_and_relabel(Z, n);
}

}  // namespace

template <class T>
void nn_chain(T* D, std::size_t n, LinkageMethod method, double* Z, int threads, bool adaptive, CancelPoller& poller) {
  switch (method) {
    case LinkageMethod::complete: return nn_chain_impl<T, LinkageMethod::complete>(D, n, Z, threads, adaptive, poller);
    case LinkageMethod::average: return nn_chain_impl<T, LinkageMethod::average>(D, n, Z, threads, adaptive, poller);
    case LinkageMethod::weighted: return nn_chain_impl<T, LinkageMethod::weighted>(D, n, Z, threads, adaptive, poller);
    case LinkageMethod::ward: return nn_chain_impl<T, LinkageMethod::ward>(D, n, Z, threads, adaptive, poller);
    default: throw std::invalid_argument("nn_chain: method must be complete, average, weighted or ward");
  }
}

template void nn_chain<float>(float*, std::size_t, LinkageMethod, double*, int, bool, CancelPoller&);
template void nn_chain<double>(double*, std::size_t, LinkageMethod, double*, int, bool, CancelPoller&);

}  // namespace pixclust::detail
