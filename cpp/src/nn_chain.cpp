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
// head the chain, a fraction of SciPy's scans. The pass itself reads one threshold per
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

// How many nearest neighbours each cluster remembers: a longer list means fewer rescans and costs the
// update pass nothing (see listers), only memory (n lists) and the insertion in a rescan.
inline constexpr std::size_t kNear = 8;

// Below this many points nn_chain_small.cpp's plain chain is faster: the matrix is mostly in the caches,
// where instructions cost more than memory (crossover measured by benchmarks/bench_linkage_small.py).
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
// position at_x) skipped.
template <class T, std::size_t R>
Nearest<T> nearest_list_in_range(const T* D, const Panels<R>& P, const std::size_t* L, const ActiveList& live,
                                  std::size_t lo, std::size_t hi, std::size_t x, std::size_t at_x) {
  Nearest<T> best;
  for_each_distance_to(D, P, L, live, lo, hi, x, at_x, at_x + 1, [&best](std::size_t p, T v) { best.offer(v, p); });
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

// The chain between merges: the matrix in panels, every live cluster's nearest list (near; count == 0:
// stale) and what lets one pass over the merged row keep those lists exact: thr[i], the last value near[i]
// knows (-inf when stale), read by the update pass; listers[j], the clusters whose lists may name j (a
// superset: entries go stale when a list drops j or its owner is rescanned or dies, and are checked when
// read); seen[i], the last merge that processed i.
template <class T, LinkageMethod M>
class NNChain {
 public:
  NNChain(const T* src, T* D, std::size_t n, int threads, bool adaptive, CancelPoller& poller)
      : D_(D), n_(n), dim_(n), P_(n), ident_(n), size_(n, 1), live_(n), budget_(threads, adaptive),
        poller_(poller), thr_(n), listers_(n), seen_(n, kNever) {
    std::vector<Nearest<T>> rows(n);
    const RowSink<T> sink{&nearest_above_row<T>, rows.data()};
    panels_from(src, D, n, threads, poller, &sink, safe_range<T>(M, n));
    initial_neighbours(D, P_, n, threads, rows, near_, poller);
    for (std::size_t i = 0; i < n; ++i) ident_[i] = i;
    for (std::size_t i = 0; i < n; ++i) index_near(i);
    chain_.reserve(n);
  }

  void run(double* Z) {
    for (std::size_t k = 0; k + 1 < n_; ++k) {
      if (chain_.empty()) chain_.push_back(live_.first_alive());
      const ChainPair<T> pair = reciprocal_pair<T>(
          chain_,
          [&](std::size_t x) {
            if (near_[x].count == 0) rescan(x, budget_.threads());
            return Candidate<T>{near_[x].v[0], near_[x].j[0]};
          },
          [&](std::size_t a, std::size_t b) { return a < b ? D_[P_.at(a, b)] : D_[P_.at(b, a)]; });
      const std::size_t x = pair.x, y = pair.y;
      const std::int64_t nx = size_[x], ny = size_[y];
      write_merge(Z, k, ident_[x], ident_[y], static_cast<double>(pair.d), static_cast<double>(nx + ny));
      size_[x] = 0;
      size_[y] = nx + ny;
      live_.kill(x);
      if (k + 2 == n_) {  // nothing left to update
        poller_.poll(1.0);
        break;
      }
      merge(x, y, static_cast<double>(pair.d), nx, ny, k);
      const std::size_t alive = n_ - k - 1;
      if (alive * 2 <= dim_ && alive >= kCompactMin) pack(alive);
      poller_.poll(scanned_share(k, n_));
    }
    sort_and_relabel(Z, n_);
  }

 private:
  static constexpr T kStale = -std::numeric_limits<T>::infinity();
  static constexpr std::size_t kNever = std::numeric_limits<std::size_t>::max();

  // Records near[i] in thr and listers.
  void index_near(std::size_t i) {
    const Nearest<T>& a = near_[i];
    thr_[i] = a.count ? a.last() : kStale;
    for (std::size_t q = 0; q < a.count; ++q) listers_[a.j[q]].push_back(i);
  }
  void set_near(std::size_t i, const Nearest<T>& a) {
    near_[i] = a;
    index_near(i);
  }

  // Exact nearest live neighbours of i by a full scan, chunk results merged in chunk order.
  void rescan(std::size_t i, int scan_threads) {
    const std::size_t* L = live_.data();
    const std::size_t at_i = live_.lower_bound(i);
    auto scan = [&](std::size_t lo, std::size_t hi) { return nearest_list_in_range(D_, P_, L, live_, lo, hi, i, at_i); };
    Nearest<T> best = chunked_reduce(std::size_t{0}, live_.size(), scan_threads, scratch_, scan,
                                     [](Nearest<T>& acc, const Nearest<T>& next) { acc.merge(next); });
    if (best.count == 0) throw_no_candidate();
    for (std::size_t q = 0; q < best.count; ++q) best.j[q] = L[best.j[q]];  // positions to clusters
    set_near(i, best);
  }

  // After merge k of x into y: D(i, y) <- update(D(i, x), D(i, y)) for every live i != y, each entry
  // written by one chunk. The same pass keeps the neighbour lists exact (see the top of the file); each
  // chunk keeps its own notes, read in chunk order, so the thread count cannot change a result.
  void merge(std::size_t x, std::size_t y, double d_xy, std::int64_t nx, std::int64_t ny, std::size_t k) {
    const std::size_t* L = live_.data();
    const std::size_t at_x = live_.lower_bound(x), at_y = live_.lower_bound(y);
    const int pass_threads = budget_.threads();
    const std::size_t chunk = chunk_size(live_.size(), pass_threads);
    const std::size_t chunks = (live_.size() + chunk - 1) / chunk;
    if (notes_.size() < chunks) notes_.resize(chunks);
    if (cands_.size() < chunks) cands_.resize(chunks);
    for (std::size_t c = 0; c < chunks; ++c) {
      notes_[c] = Nearest<T>{};
      cands_[c].clear();
    }
    chunked_for(0, live_.size(), chunk, pass_threads, [&](std::size_t lo, std::size_t hi) {
      Nearest<T>& note = notes_[lo / chunk];
      std::vector<std::size_t>& cand = cands_[lo / chunk];
      update_range<M>(D_, P_, L, live_, lo, hi, x, y, at_x, at_y, d_xy, nx, ny, size_.data(), [&](T d, std::size_t i) {
        // Positions are visited in increasing order within a chunk: the merged cluster's own nearest.
        if (d < note.threshold() || note.count < kNear) note.offer(d, i);
        // Lists that y may enter; those that name x or y are found through listers below.
        if (d <= thr_[i]) cand.push_back(i);
      });
    });
    // Each list is changed by the merge alone, so the order in which they are visited does not matter.
    std::vector<std::size_t> old_y;
    old_y.swap(listers_[y]);
    auto fix = [&](std::size_t i) {
      if (i == x || i == y || seen_[i] == k || !live_.alive(i)) return;
      seen_[i] = k;
      Nearest<T>& a = near_[i];
      if (a.count == 0) return;
      a.apply_merge(i < y ? D_[P_.at(i, y)] : D_[P_.at(y, i)], x, y);
      thr_[i] = a.count ? a.last() : kStale;
      if (a.lists(y)) listers_[y].push_back(i);
    };
    for (const std::size_t i : listers_[x]) fix(i);
    for (const std::size_t i : old_y) fix(i);
    for (std::size_t c = 0; c < chunks; ++c)
      for (const std::size_t i : cands_[c]) fix(i);
    std::vector<std::size_t>().swap(listers_[x]);
    Nearest<T> near_y = notes_[0];
    for (std::size_t c = 1; c < chunks; ++c) near_y.merge(notes_[c]);
    set_near(y, near_y);
  }

  // Packs the `alive` live clusters to the front (pack_live). Slots keep their order, so every
  // comparison of indices (the tie rules) is unchanged.
  void pack(std::size_t alive) {
    const Packing packing = pack_live(D_, P_, live_, dim_, poller_);
    for (std::size_t q = 0; q < alive; ++q) {
      const std::size_t s = packing.keep[q];
      ident_[q] = ident_[s];
      size_[q] = size_[s];
      Nearest<T> a = near_[s];
      for (std::size_t e = 0; e < a.count; ++e) a.j[e] = packing.renum[a.j[e]];  // listed clusters are live
      near_[q] = a;
    }
    for (std::size_t q = 0; q < dim_; ++q) std::vector<std::size_t>().swap(listers_[q]);
    for (std::size_t q = 0; q < alive; ++q) {
      index_near(q);
      seen_[q] = kNever;
    }
    for (std::size_t& c : chain_) c = packing.renum[c];
    dim_ = alive;
    P_ = Panels<kPanel>(dim_);
    live_ = ActiveList(dim_);
  }

  T* D_;
  std::size_t n_;
  std::size_t dim_;  // slots in the working matrix: live clusters are packed now and then
  Panels<kPanel> P_;
  std::vector<std::size_t> ident_;  // slot -> SciPy's index of the cluster there
  std::vector<std::int64_t> size_;
  ActiveList live_;
  ThreadBudget budget_;
  CancelPoller& poller_;
  std::vector<std::size_t> chain_;
  std::vector<Nearest<T>> near_, notes_, scratch_;
  std::vector<T> thr_;
  std::vector<std::vector<std::size_t>> listers_;
  std::vector<std::size_t> seen_;
  std::vector<std::vector<std::size_t>> cands_;  // per chunk of the update pass
};

}  // namespace

template <class T>
void nn_chain(const T* src, T* W, std::size_t n, LinkageMethod method, double* Z, int threads, bool adaptive,
              CancelPoller& poller) {
  using M = LinkageMethod;
  if (n < kSmallChain) return nn_chain_small<T>(src, W, n, method, Z, poller);
  switch (method) {
    case M::complete: return NNChain<T, M::complete>(src, W, n, threads, adaptive, poller).run(Z);
    case M::average: return NNChain<T, M::average>(src, W, n, threads, adaptive, poller).run(Z);
    case M::weighted: return NNChain<T, M::weighted>(src, W, n, threads, adaptive, poller).run(Z);
    case M::ward: return NNChain<T, M::ward>(src, W, n, threads, adaptive, poller).run(Z);
    default: throw std::invalid_argument("nn_chain: method must be complete, average, weighted or ward");
  }
}

template void nn_chain<float>(const float*, float*, std::size_t, LinkageMethod, double*, int, bool, CancelPoller&);
template void nn_chain<double>(const double*, double*, std::size_t, LinkageMethod, double*, int, bool, CancelPoller&);

}  // namespace pixclust::detail
