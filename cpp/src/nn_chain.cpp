// Complete, average, weighted and ward linkage by the nearest-neighbour chain, step for step as SciPy's
// nn_chain (scipy/cluster/_hierarchy.pyx): the chain starts at the lowest live cluster; each link is the
// nearest live cluster, ties to the previous link in the chain, else to the lowest index; merging x < y
// keeps the new cluster at index y. The same merges in the same order give the same floating-point
// history, hence SciPy's heights to the bit.
//
// What is ours: SciPy scans a whole row of the matrix for every link of the chain (about 3n scans). We
// keep every live cluster's kNear nearest neighbours (in (distance, index) order) instead, so a link
// costs O(1). After a merge the cache stays exact with one pass over the merged row: the new distance to
// y is inserted where it belongs; neighbours that were x or y drop out and the rest move up (the list is
// then shorter until the next scan of that cluster); the merged cluster's own list is found by that same
// pass. Only a cluster that loses its whole list is marked stale, and it is rescanned only if it comes to
// head the chain: 14% of SciPy's scans at n = 20,000 (ward). The pass itself reads one threshold per
// cluster: the lists that name x or y are found through a reverse index (listers), so a longer list costs
// the pass nothing. Scans and updates run on all threads with chunk-ordered reductions. The matrix is
// stored in row panels (linkage_common.hpp), and the live clusters are packed to its front whenever half
// are dead: slots keep their order, so the indices that the tie rules compare keep theirs. Below
// kSmallChain points, where the matrix fits in the caches, nn_chain_small.cpp's plain chain is faster.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "linkage_common.hpp"

namespace pixclust::detail {

namespace {

// How many nearest neighbours each cluster remembers. Ward at n = 20,000 rescans 25,051 times with two,
// 16,380 with four and 10,574 with eight (SciPy scans about 3n = 60,000 times); a list costs the update
// pass nothing (see listers), only memory (n lists) and the insertion in a rescan.
inline constexpr std::size_t kNear = 8;

// Below this many points nn_chain_small.cpp's plain chain is faster: the matrix (25 MB here) is mostly
// in the caches, where instructions cost more than memory. Ward, 2 threads, best of 10: n = 1000,
// 4.4 ms against 8.7 ms; n = 2000, 21.0 against 25.3 ms; n = 2500, 37.4 against 37.5 ms; n = 3000,
// 59.3 against 53.7 ms.
inline constexpr std::size_t kSmallChain = 2500;

template <class T>
bool before(T v, std::size_t j, T w, std::size_t k) {
  return v < w || (v == w && j < k);
}

// The nearest candidates of a set in (value, index) order: a prefix of that order, every candidate not
// listed after the last one listed; count == 0: unknown (stale). Offer candidates in increasing index
// (or merge such lists, lower indices first): an offer goes after the values equal to it, which keeps
// the lowest index among equals. Positions from count on hold +infinity, so an offer finds its place by
// counting the values not above it, without a branch per entry.
template <class T>
struct Nearest {
  static constexpr T inf = std::numeric_limits<T>::infinity();
  T v[kNear];
  std::size_t j[kNear]{};
  std::size_t count = 0;
  Nearest() { std::fill(v, v + kNear, inf); }
  void offer(T value, std::size_t index) {
    std::size_t p = 0;
    for (std::size_t q = 0; q < kNear; ++q) p += static_cast<std::size_t>(v[q] <= value);
    insert_at(std::min(p, count), value, index);
  }
  // Offers of values not below this change nothing.
  T threshold() const { return v[kNear - 1]; }
  void merge(const Nearest& later) {
    for (std::size_t q = 0; q < later.count; ++q) offer(later.v[q], later.j[q]);
  }
  bool lists(std::size_t k) const {
    for (std::size_t q = 0; q < count; ++q)
      if (j[q] == k) return true;
    return false;
  }
  // The last value known (count > 0).
  T last() const { return v[count - 1]; }
  // After x and y merged into y, at distance d from this cluster: x and y drop out (what remains is still
  // a prefix of the order); the merged cluster y enters if it comes before the last one known, or is it:
  // every cluster not listed comes after that one, even when it was x or y and has just dropped out
  // (else y may come after unlisted ones). So a cluster whose nearest were all x and y keeps the merged
  // one, instead of needing a rescan, whenever it is no farther than the last was (for average and
  // weighted linkage, whose merged distance is a mean of the two, that fails only by rounding or a tie
  // with x). A list that neither names x nor y nor has y come before its last is left as it is.
  void apply_merge(T d, std::size_t x, std::size_t y);

 private:
  // Puts (value, index) at position p, moving the later ones down (the last falls off a full list).
  void insert_at(std::size_t p, T value, std::size_t index) {
    if (p >= kNear) return;
    if (count < kNear) ++count;
    // A fixed trip count (the +infinity past count moves down with the rest): the compiler unrolls it
    // into conditional moves, where a variable one became a memmove call.
    for (std::size_t q = kNear - 1; q > 0; --q)
      if (q > p) {
        v[q] = v[q - 1];
        j[q] = j[q - 1];
      }
    v[p] = value;
    j[p] = index;
  }
};
template <class T>
void Nearest<T>::apply_merge(T d, std::size_t x, std::size_t y) {
  const T last_v = v[count - 1];
  const std::size_t last_j = j[count - 1];
  std::size_t c = 0;
  for (std::size_t q = 0; q < count; ++q)
    if (j[q] != x && j[q] != y) {
      v[c] = v[q];
      j[c] = j[q];
      ++c;
    }
  count = c;
  for (std::size_t q = c; q < kNear; ++q) v[q] = inf;
  if (before(d, y, last_v, last_j) || (d == last_v && y == last_j)) {
    std::size_t p = c;
    while (p > 0 && before(d, y, v[p - 1], j[p - 1])) --p;
    insert_at(p, d, y);
  }
}

// The nearest live clusters to x among list positions [lo, hi), as list positions; x itself (at
// position at_x) and dead entries skipped (see nearest_in_range).
template <class T, std::size_t R>
Nearest<T> nearest_list_in_range(const T* D, const Panels<R>& P, const std::size_t* L, const ActiveList& live,
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

// Row i's nearest clusters above it, from its values in condensed order (a RowSink for panels_from):
// values[k] = D(i, i + 1 + k), offered in increasing index, so a strict < keeps the lowest among equals.
// Most values change nothing: they are tested against the threshold first (an offer of a value not
// below the threshold of a full list is a no-op).
template <class T>
void nearest_above_row(void* context, std::size_t i, const T* values, std::size_t count) {
  Nearest<T> a;
  T thr = a.threshold();
  for (std::size_t k = 0; k < count; ++k)
    if (values[k] < thr) {
      a.offer(values[k], i + 1 + k);
      thr = a.threshold();
    }
  static_cast<Nearest<T>*>(context)[i] = a;
}

// Every cluster's nearest neighbours: rows[i] holds those above i (seen while the matrix was put in
// panel order); the clusters below each one come from a pass over strips of columns. A strip's values
// for one panel are contiguous (R values per column), so the pass reads contiguous runs of kStrip * R
// values, on all threads, with results that do not depend on how the work is split: candidates are
// offered in increasing index order, so a strict < keeps the lowest index among equal values, and a
// cluster's list is its column list (lower indices) merged with its row list. Beyond the lists
// themselves this needs nothing of order n per thread.
inline constexpr std::size_t kStrip = 1024;

template <class T>
void initial_neighbours(const T* D, const Panels<kPanel>& P, std::size_t n, int threads,
                        const std::vector<Nearest<T>>& rows, std::vector<Nearest<T>>& near, CancelPoller& poller) {
  constexpr std::size_t R = kPanel;
  (void)threads;  // only read by the OpenMP pragma
  const std::size_t* rect = P.rect();
  near.resize(n);
  const auto strips = static_cast<std::ptrdiff_t>((n + kStrip - 1) / kStrip);
  ParallelCancel cancel(&poller);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (strips > 1)
  for (std::ptrdiff_t ss = 0; ss < strips; ++ss) {
    if (cancel.stopped()) continue;
    const std::size_t c0 = static_cast<std::size_t>(ss) * kStrip, c1 = std::min(n, c0 + kStrip);
    std::vector<Nearest<T>> col(c1 - c0);
    std::vector<T> thr(c1 - c0, std::numeric_limits<T>::infinity());
    // Panels whose rows lie below some column of the strip, in increasing row order.
    for (std::size_t ps = 0; ps + 1 < c1; ps += R) {
      const std::size_t pe = std::min(n, ps + R);
      // The panel's own triangle and the strip's columns inside the panel.
      const std::size_t jt = std::min(c1, pe);
      for (std::size_t j = std::max(c0, ps + 1); j < jt; ++j)
        for (std::size_t r = 0; ps + r < j; ++r) {
          col[j - c0].offer(D[P.at(ps + r, j)], ps + r);
          thr[j - c0] = col[j - c0].threshold();
        }
      if (pe - ps < R) continue;
      const std::size_t j0 = std::max(c0, pe);
      const T* cells = D + (rect[ps] + j0 * R);  // D(ps + r, j) = cells[(j - j0) * R + r]
      for (std::size_t j = j0; j < c1; ++j) {
        const T* c = cells + (j - j0) * R;
        T lowest = c[0];
        for (std::size_t r = 1; r < R; ++r) lowest = c[r] < lowest ? c[r] : lowest;
        if (lowest < thr[j - c0]) {
          for (std::size_t r = 0; r < R; ++r) col[j - c0].offer(c[r], ps + r);
          thr[j - c0] = col[j - c0].threshold();
        }
      }
      if ((ps / R) % 1024 == 1023) cancel.poll();
    }
    for (std::size_t j = c0; j < c1; ++j) {
      Nearest<T> a = col[j - c0];
      a.merge(rows[j]);
      near[j] = a;
    }
    cancel.poll();
  }
  cancel.rethrow();
}

template <class T, LinkageMethod M>
void nn_chain_impl(const T* src, T* D, std::size_t n, double* Z, int threads, bool adaptive, CancelPoller& poller) {
  Panels<kPanel> P(n);
  // near[i]: i's nearest live clusters (count == 0: stale).
  std::vector<Nearest<T>> near;
  {
    std::vector<Nearest<T>> rows(n);
    const RowSink<T> sink{&nearest_above_row<T>, rows.data()};
    panels_from(src, D, n, threads, poller, &sink, safe_range<T>(M, n));
    initial_neighbours(D, P, n, threads, rows, near, poller);
  }
  std::size_t dim = n;  // slots in the working matrix: live clusters are packed now and then
  std::vector<std::size_t> ident(n);  // slot -> SciPy's index of the cluster there
  for (std::size_t i = 0; i < n; ++i) ident[i] = i;
  std::vector<std::int64_t> size(n, 1);
  ActiveList live(n);
  std::vector<std::size_t> chain;
  chain.reserve(n);
  std::vector<Nearest<T>> notes, scratch;
  ThreadBudget budget(threads, adaptive);
  // thr[i]: the last value near[i] knows (-inf when stale), read by the update pass; listers[j]: the
  // clusters whose lists may name j (a superset: entries go stale when a list drops j or its owner is
  // rescanned or dies, and are checked when read); seen[i]: the last merge that processed i.
  constexpr T stale_thr = -std::numeric_limits<T>::infinity();
  constexpr std::size_t never = std::numeric_limits<std::size_t>::max();
  std::vector<T> thr(n);
  std::vector<std::vector<std::size_t>> listers(n);
  std::vector<std::size_t> seen(n, never);
  std::vector<std::vector<std::size_t>> cands;  // per chunk of the update pass
  // Records near[i] in thr and listers.
  auto index_near = [&](std::size_t i) {
    const Nearest<T>& a = near[i];
    thr[i] = a.count ? a.last() : stale_thr;
    for (std::size_t q = 0; q < a.count; ++q) listers[a.j[q]].push_back(i);
  };
  auto set_near = [&](std::size_t i, const Nearest<T>& a) {
    near[i] = a;
    index_near(i);
  };
  for (std::size_t i = 0; i < n; ++i) index_near(i);

  // Exact nearest live neighbours of i by a full scan, chunk results merged in chunk order.
  auto rescan = [&](std::size_t i, int scan_threads) {
    const std::size_t* L = live.data();
    const std::size_t at_i = live.lower_bound(i);
    auto scan = [&](std::size_t lo, std::size_t hi) { return nearest_list_in_range(D, P, L, live, lo, hi, i, at_i); };
    const std::size_t m = live.size(), chunk = chunk_size(m, scan_threads), chunks = (m + chunk - 1) / chunk;
    Nearest<T> best;
    if (scan_threads <= 1 || chunks < 2) {
      best = scan(0, m);
    } else {
      scratch.resize(chunks);
      const auto nchunks = static_cast<std::ptrdiff_t>(chunks);
#pragma omp parallel for schedule(dynamic, 1) num_threads(scan_threads)
      for (std::ptrdiff_t c = 0; c < nchunks; ++c) {
        const std::size_t lo = static_cast<std::size_t>(c) * chunk;
        scratch[static_cast<std::size_t>(c)] = scan(lo, std::min(m, lo + chunk));
      }
      best = scratch[0];
      for (std::size_t c = 1; c < chunks; ++c) best.merge(scratch[c]);
    }
    if (best.count == 0) throw_no_candidate();
    for (std::size_t q = 0; q < best.count; ++q) best.j[q] = L[best.j[q]];  // positions to clusters
    set_near(i, best);
  };

  for (std::size_t k = 0; k + 1 < n; ++k) {
    if (chain.empty()) chain.push_back(live.first_alive());
    const ChainPair<T> pair = reciprocal_pair<T>(
        chain,
        [&](std::size_t x) {
          if (near[x].count == 0) rescan(x, budget.threads());
          return Candidate<T>{near[x].v[0], near[x].j[0]};
        },
        [&](std::size_t a, std::size_t b) { return a < b ? D[P.at(a, b)] : D[P.at(b, a)]; });
    const std::size_t x = pair.x, y = pair.y;
    const T current_min = pair.d;

    const std::int64_t nx = size[x], ny = size[y];
    write_merge(Z, k, ident[x], ident[y], static_cast<double>(current_min), static_cast<double>(nx + ny));
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
    const int pass_threads = budget.threads();
    const std::size_t chunk = chunk_size(live.size(), pass_threads);
    const std::size_t chunks = (live.size() + chunk - 1) / chunk;
    if (notes.size() < chunks) notes.resize(chunks);
    for (std::size_t c = 0; c < chunks; ++c) notes[c] = Nearest<T>{};
    if (cands.size() < chunks) cands.resize(chunks);
    for (std::size_t c = 0; c < chunks; ++c) cands[c].clear();
    chunked_for(0, live.size(), chunk, pass_threads, [&](std::size_t lo, std::size_t hi) {
      Nearest<T>& note = notes[lo / chunk];
      std::vector<std::size_t>& cand = cands[lo / chunk];
      update_range<M>(D, P, L, live, lo, hi, x, y, at_x, at_y, d_xy, nx, ny, size.data(), [&](T d, std::size_t i) {
        // Positions are visited in increasing order within a chunk: the merged cluster's own nearest.
        if (d < note.threshold() || note.count < kNear) note.offer(d, i);
        // Lists that y may enter; those that name x or y are found through listers below.
        if (d <= thr[i]) cand.push_back(i);
      });
    });
    // Each list is changed by the merge alone, so the order in which they are visited does not matter.
    std::vector<std::size_t> old_y;
    old_y.swap(listers[y]);
    auto fix = [&](std::size_t i) {
      if (i == x || i == y || seen[i] == k || !live.alive(i)) return;
      seen[i] = k;
      Nearest<T>& a = near[i];
      if (a.count == 0) return;
      a.apply_merge(i < y ? D[P.at(i, y)] : D[P.at(y, i)], x, y);
      thr[i] = a.count ? a.last() : stale_thr;
      if (a.lists(y)) listers[y].push_back(i);
    };
    for (const std::size_t i : listers[x]) fix(i);
    for (const std::size_t i : old_y) fix(i);
    for (std::size_t c = 0; c < chunks; ++c)
      for (const std::size_t i : cands[c]) fix(i);
    std::vector<std::size_t>().swap(listers[x]);
    Nearest<T> near_y = notes[0];
    for (std::size_t c = 1; c < chunks; ++c) near_y.merge(notes[c]);
    set_near(y, near_y);

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
      for (std::size_t q = 0; q < dim; ++q) std::vector<std::size_t>().swap(listers[q]);
      for (std::size_t q = 0; q < alive; ++q) {
        index_near(q);
        seen[q] = never;
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
void nn_chain(const T* src, T* W, std::size_t n, LinkageMethod method, double* Z, int threads, bool adaptive,
              CancelPoller& poller) {
  using M = LinkageMethod;
  if (n < kSmallChain) return nn_chain_small<T>(src, W, n, method, Z, poller);
  switch (method) {
    case M::complete: return nn_chain_impl<T, M::complete>(src, W, n, Z, threads, adaptive, poller);
    case M::average: return nn_chain_impl<T, M::average>(src, W, n, Z, threads, adaptive, poller);
    case M::weighted: return nn_chain_impl<T, M::weighted>(src, W, n, Z, threads, adaptive, poller);
    case M::ward: return nn_chain_impl<T, M::ward>(src, W, n, Z, threads, adaptive, poller);
    default: throw std::invalid_argument("nn_chain: method must be complete, average, weighted or ward");
  }
}

template void nn_chain<float>(const float*, float*, std::size_t, LinkageMethod, double*, int, bool, CancelPoller&);
template void nn_chain<double>(const double*, double*, std::size_t, LinkageMethod, double*, int, bool, CancelPoller&);

}  // namespace pixclust::detail
