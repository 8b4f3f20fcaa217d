// Complete, average, weighted and ward linkage by the nearest-neighbour chain, step for step as SciPy's
// nn_chain (scipy/cluster/_hierarchy.pyx): the chain starts at the lowest live cluster; each link is the
// nearest live cluster, ties to the previous link in the chain, else to the lowest index; merging x < y
// keeps the new cluster at index y. The same merges in the same order give the same floating-point
// history, hence SciPy's heights to the bit.
//
// What is ours: SciPy scans a whole row of the matrix for every link of the chain (about 3n scans). We
// keep every live cluster's two nearest neighbours (in (distance, index) order) instead, so a link costs
// O(1). After a merge the cache stays exact with one pass over the merged row: the new distance to y
// is inserted; a neighbour that was x or y drops out and the second moves up (the second is then
// unknown until the next scan of that cluster); the merged cluster's own two are found by that same
// pass. Only a cluster that loses both is marked stale, and it is rescanned only if it comes to head
// the chain: about 40% of SciPy's scans (with the first neighbour alone it was two thirds). Scans
// and updates run on all threads with chunk-ordered reductions. The matrix is stored in row panels
// (linkage_common.hpp), and the live clusters are packed to its front whenever half are dead: slots keep
// their order, so the indices that the tie rules compare keep theirs.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "linkage_common.hpp"

namespace pixclust::detail {

namespace {

// How many nearest neighbours each cluster remembers: two cut the rescans by 40% (n = 10,000); four cut
// them by 60% but cost as much in the update pass as they save.
inline constexpr std::size_t kNear = 2;

// The nearest candidates of a set in (value, index) order: a prefix of that order, every candidate not
// listed after the last one listed; count == 0: unknown (stale). Offer candidates in increasing index
// (or merge such lists, lower indices first): strict < then keeps the lowest index among equal values.
template <class T>
struct Nearest {
  T v[kNear]{};
  std::size_t j[kNear]{};
  std::size_t count = 0;
  void offer(T value, std::size_t index) {
    std::size_t p = count;
    while (p > 0 && value < v[p - 1]) --p;
    if (p == kNear) return;
    if (count < kNear) ++count;
    for (std::size_t q = count - 1; q > p; --q) {
      v[q] = v[q - 1];
      j[q] = j[q - 1];
    }
    v[p] = value;
    j[p] = index;
  }
  // Offers of values not below this change nothing.
  T threshold() const { return count == kNear ? v[kNear - 1] : std::numeric_limits<T>::infinity(); }
  void merge(const Nearest& later) {
    for (std::size_t q = 0; q < later.count; ++q) offer(later.v[q], later.j[q]);
  }
};
template <class T>
bool before(T v, std::size_t j, T w, std::size_t k) {
  return v < w || (v == w && j < k);
}

// The nearest live clusters to x among list positions [lo, hi), as list positions; x itself (at
// position at_x) and dead entries skipped (see nearest_in_range).
template <class T, std::size_t R>
Nearest<T> nearest2_in_range(const T* D, const Panels<R>& P, const std::size_t* L, const ActiveList& live,
                          std::size_t lo, std::size_t hi, std::size_t x, std::size_t at_x) {
  Nearest<T> best;
  const std::size_t* rect = P.rect();
  const std::size_t col_end = std::min(hi, at_x);
  const std::size_t xR = x * R;
  for (std::size_t p = lo; p < col_end; ++p) {
    if (p + kPrefetch < col_end) prefetch_value(D, rect[L[p + kPrefetch]] + xR, false);
    const std::size_t i = L[p];
    if (live.alive(i)) best.offer(D[P.at(i, x)], p);
  }
  for (std::size_t p = std::max(lo, at_x + 1); p < hi; ++p) {
    const std::size_t i = L[p];
    if (live.alive(i)) best.offer(D[P.at(x, i)], p);
  }
  return best;
}

// Every cluster's nearest neighbours from one pass over the matrix in storage order (contiguous reads).
// Panels are grouped into fixed blocks; a block keeps its own minima for the columns it touches, and
// the blocks are combined in row order, so every cluster sees its candidates in increasing index order
// and a strict < keeps the lowest index, whatever the thread count.
template <class T>
void initial_neighbours(const T* D, const Panels<kPanel>& P, std::size_t n, int threads, std::vector<Nearest<T>>& near,
                        CancelPoller& poller) {
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
  std::vector<std::vector<Nearest<T>>> cols(blocks);
  std::vector<Nearest<T>> rows(n);
  const std::size_t* rect = P.rect();
  const auto nblocks = static_cast<std::ptrdiff_t>(blocks);
  ParallelCancel cancel(&poller);  // polled between panels: a block is a sixteenth of the matrix
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (std::ptrdiff_t sb = 0; sb < nblocks; ++sb) {
    const auto b = static_cast<std::size_t>(sb);
    std::vector<Nearest<T>>& col = cols[b];
    col.assign(n, Nearest<T>{});
    for (std::size_t ps = first[b]; ps < first[b + 1]; ps += R) {
      if (cancel.stopped()) break;
      const std::size_t pe = std::min(n, ps + R);
      // Row candidates j > i (column order visits each row's j in increasing order); column candidates
      // over the rows of the panel in increasing order.
      Nearest<T> row[R];
      auto visit = [&](std::size_t r, std::size_t j, T v) {
        row[r].offer(v, j);
        col[j].offer(v, ps + r);
      };
      for (std::size_t j = ps + 1; j < pe; ++j)
        for (std::size_t r = 0; ps + r < j; ++r) visit(r, j, D[P.at(ps + r, j)]);
      if (pe - ps == R) {
        // Most values change nothing: test them against the thresholds first (an offer of a value not
        // below the threshold of a full list is a no-op), the same offers in the same order otherwise.
        const T* cells = D + (rect[ps] + pe * R);  // D(ps + r, j) = cells[(j - pe) * R + r]
        T row_thr[R];
        for (std::size_t r = 0; r < R; ++r) row_thr[r] = row[r].threshold();
        for (std::size_t j = pe; j < n; ++j) {
          const T* c = cells + (j - pe) * R;
          for (std::size_t r = 0; r < R; ++r)
            if (c[r] < row_thr[r]) {
              row[r].offer(c[r], j);
              row_thr[r] = row[r].threshold();
            }
          T lowest = c[0];
          for (std::size_t r = 1; r < R; ++r) lowest = c[r] < lowest ? c[r] : lowest;
          if (lowest < col[j].threshold())
            for (std::size_t r = 0; r < R; ++r) col[j].offer(c[r], ps + r);
        }
      }
      // Row i's own candidates are j > i; its candidates j < i come from the columns.
      for (std::size_t r = 0; ps + r < pe; ++r) rows[ps + r] = row[r];
      cancel.poll();
    }
  }
  cancel.rethrow();
  // Combine: for cluster j, the candidates below j (from the blocks, in block order) come before the
  // candidates above j (its own row).
  near.assign(n, Nearest<T>{});
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t b = 0; b < blocks && first[b] < j; ++b) near[j].merge(cols[b][j]);
    near[j].merge(rows[j]);
  }
}

template <class T, LinkageMethod M>
void nn_chain_impl(T* D, std::size_t n, double* Z, int threads, bool adaptive, CancelPoller& poller) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  Panels<kPanel> P(n);
  std::size_t dim = n;  // slots in the working matrix: live clusters are packed now and then
  std::vector<std::size_t> ident(n);  // slot -> SciPy's index of the cluster there
  for (std::size_t i = 0; i < n; ++i) ident[i] = i;
  std::vector<std::int64_t> size(n, 1);
  ActiveList live(n);
  std::vector<std::size_t> chain;
  chain.reserve(n);
  // near[i]: i's nearest live clusters (count == 0: stale).
  std::vector<Nearest<T>> near;
  initial_neighbours(D, P, n, threads, near, poller);
  std::vector<Nearest<T>> notes, scratch;
  ThreadBudget budget(threads, adaptive);

  // Exact nearest live neighbours of i by a full scan, chunk results merged in chunk order.
  auto rescan = [&](std::size_t i, int scan_threads) {
    const std::size_t* L = live.data();
    const std::size_t at_i = live.lower_bound(i);
    auto scan = [&](std::size_t lo, std::size_t hi) { return nearest2_in_range(D, P, L, live, lo, hi, i, at_i); };
    const std::size_t m = live.size(), chunks = (m + kChunk - 1) / kChunk;
    Nearest<T> best;
    if (scan_threads <= 1 || chunks < 2) {
      best = scan(0, m);
    } else {
      scratch.resize(chunks);
      const auto nchunks = static_cast<std::ptrdiff_t>(chunks);
#pragma omp parallel for schedule(static) num_threads(scan_threads)
      for (std::ptrdiff_t c = 0; c < nchunks; ++c) {
        const std::size_t lo = static_cast<std::size_t>(c) * kChunk;
        scratch[static_cast<std::size_t>(c)] = scan(lo, std::min(m, lo + kChunk));
      }
      best = scratch[0];
      for (std::size_t c = 1; c < chunks; ++c) best.merge(scratch[c]);
    }
    for (std::size_t q = 0; q < best.count; ++q) best.j[q] = L[best.j[q]];  // positions to clusters
    near[i] = best;
  };

  for (std::size_t k = 0; k + 1 < n; ++k) {
    if (chain.empty()) chain.push_back(live.first_alive());
    std::size_t x = 0, y = 0;
    T current_min = inf;
    for (;;) {
      x = chain.back();
      if (near[x].count == 0) rescan(x, budget.threads());
      if (chain.size() > 1) {
        // SciPy starts its scan from the previous link: it wins unless something is strictly closer.
        const std::size_t prev = chain[chain.size() - 2];
        const T d_prev = x < prev ? D[P.at(x, prev)] : D[P.at(prev, x)];
        if (!(near[x].v[0] < d_prev)) {
          y = prev;
          current_min = d_prev;
          break;
        }
      }
      y = near[x].j[0];
      current_min = near[x].v[0];
      chain.push_back(y);
    }
    chain.pop_back();
    chain.pop_back();
    if (x > y) std::swap(x, y);

    const std::int64_t nx = size[x], ny = size[y];
    double* row = Z + 4 * k;
    row[0] = static_cast<double>(ident[x]);
    row[1] = static_cast<double>(ident[y]);
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
    for (std::size_t c = 0; c < chunks; ++c) notes[c] = Nearest<T>{};
    chunked_for(0, live.size(), budget.threads(), [&](std::size_t lo, std::size_t hi) {
      Nearest<T>& note = notes[lo / kChunk];
      update_range<M>(D, P, L, live, lo, hi, x, y, at_x, at_y, d_xy, nx, ny, size.data(), [&](T d, std::size_t i) {
        // Positions are visited in increasing order within a chunk: the merged cluster's own two.
        note.offer(d, i);
        Nearest<T>& a = near[i];
        if (a.count == 0) return;  // stale: rescanned when it next heads the chain
        {
          // The common case, without a store: neither x nor y listed (unused slots may give a false
          // alarm, which the full path below handles), and y not before the last one known.
          bool listed = false;
          for (std::size_t q = 0; q < kNear; ++q) listed |= (a.j[q] == x) | (a.j[q] == y);
          if (!listed && !before(d, y, a.v[a.count - 1], a.j[a.count - 1])) return;
        }
        // x and y drop out (what remains is still a prefix of the order); the merged cluster y enters
        // if it comes before the last one known, or is it: every cluster not listed comes after that one,
        // even when it was x or y and has just dropped out (else y may come after unlisted ones). So a
        // cluster whose two nearest were x and y keeps the merged one, instead of needing a rescan,
        // whenever it is no farther than the second was (for average and weighted linkage, whose merged
        // distance is a mean of the two, that fails only by rounding or a tie with x).
        const T last_v = a.v[a.count - 1];
        const std::size_t last_j = a.j[a.count - 1];
        std::size_t c = 0;
        for (std::size_t q = 0; q < a.count; ++q)
          if (a.j[q] != x && a.j[q] != y) {
            a.v[c] = a.v[q];
            a.j[c] = a.j[q];
            ++c;
          }
        if (before(d, y, last_v, last_j) || (d == last_v && y == last_j)) {
          std::size_t p = c;
          while (p > 0 && before(d, y, a.v[p - 1], a.j[p - 1])) --p;
          if (p < kNear) {
            if (c < kNear) ++c;
            for (std::size_t q = c - 1; q > p; --q) {
              a.v[q] = a.v[q - 1];
              a.j[q] = a.j[q - 1];
            }
            a.v[p] = d;
            a.j[p] = y;
          }
        }
        a.count = c;
      });
    });
    Nearest<T> near_y = notes[0];
    for (std::size_t c = 1; c < chunks; ++c) near_y.merge(notes[c]);
    near[y] = near_y;

    // Pack the live clusters once half the slots are dead (see compact_panels). Slots keep their
    // order, so every comparison of indices (the tie rules) is unchanged.
    const std::size_t alive = n - k - 1;
    if (alive * 2 <= dim && alive >= kCompactMin) {
      std::vector<std::size_t> keep;
      keep.reserve(alive);
      for (std::size_t p = 0; p < live.size(); ++p)
        if (live.alive(live.data()[p])) keep.push_back(live.data()[p]);
      compact_panels(D, P, keep, poller);
      std::vector<std::size_t> renum(dim, 0);
      for (std::size_t q = 0; q < alive; ++q) renum[keep[q]] = q;
      for (std::size_t q = 0; q < alive; ++q) {
        const std::size_t s = keep[q];
        ident[q] = ident[s];
        size[q] = size[s];
        Nearest<T> a = near[s];
        for (std::size_t e = 0; e < a.count; ++e) a.j[e] = renum[a.j[e]];  // listed clusters are live
        near[q] = a;
      }
      for (std::size_t& c : chain) c = renum[c];
      dim = alive;
      P = Panels<kPanel>(dim);
      live = ActiveList(dim);
    }
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
