// Centroid and median linkage, which are not reducible (a merge can bring clusters closer), by Müllner's
// generic algorithm as SciPy's fast_linkage runs it: every cluster keeps a candidate nearest neighbour
// among higher indices and a lower bound of that distance in a binary heap; the heap's minimum is
// merged once its candidate distance is confirmed, else recomputed. Same heap, same sift rules, same
// update order as SciPy, hence SciPy's merges and bits; the rows are not re-sorted (heights need not be
// monotone) and the ids are assigned as the merges happen. What is ours: live clusters in a list,
// row scans and the matrix update on all threads; the matrix in row panels, the live clusters packed to
// its front whenever half are dead (in order, so the tie rules see the same order).
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "linkage_common.hpp"

namespace pixclust::detail {

namespace {

// A binary min-heap of values keyed 0..m-1, with SciPy's sift rules (strict comparisons, the right
// child only when strictly smaller), so that equal values leave it in SciPy's order.
template <class T>
class KeyedHeap {
 public:
  explicit KeyedHeap(const std::vector<T>& values)
      : values_(values), key_at_(values.size()), index_of_(values.size()), size_(values.size()) {
    for (std::size_t i = 0; i < size_; ++i) key_at_[i] = index_of_[i] = i;
    for (std::size_t i = size_ / 2; i-- > 0;) sift_down(i);
  }
  std::size_t min_key() const { return key_at_[0]; }
  T min_value() const { return values_[0]; }
  void remove_min() {
    swap(0, size_ - 1);
    --size_;
    sift_down(0);
  }
  // New names for the keys still in the heap (an order-keeping renumbering: the heap is unchanged).
  void relabel(const std::vector<std::size_t>& renum) {
    for (std::size_t i = 0; i < size_; ++i) {
      key_at_[i] = renum[key_at_[i]];
      index_of_[key_at_[i]] = i;
    }
  }
  void change_value(std::size_t key, T value) {
    const std::size_t i = index_of_[key];
    const T old = values_[i];
    values_[i] = value;
    if (value < old)
      sift_up(i);
    else
      sift_down(i);
  }

 private:
  void sift_up(std::size_t i) {
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!(values_[parent] > values_[i])) break;
      swap(i, parent);
      i = parent;
    }
  }
  void sift_down(std::size_t i) {
    for (std::size_t child = 2 * i + 1; child < size_; child = 2 * i + 1) {
      if (child + 1 < size_ && values_[child + 1] < values_[child]) ++child;
      if (!(values_[i] > values_[child])) break;
      swap(i, child);
      i = child;
    }
  }
  void swap(std::size_t i, std::size_t j) {
    std::swap(values_[i], values_[j]);
    std::swap(key_at_[i], key_at_[j]);
    index_of_[key_at_[i]] = i;
    index_of_[key_at_[j]] = j;
  }

  std::vector<T> values_;
  std::vector<std::size_t> key_at_, index_of_;
  std::size_t size_;
};

// SciPy's first scan, as a RowSink: row i's minimum over the clusters above it and where it is (the
// lowest index among equals: strict <).
template <class T>
struct FirstScan {
  std::size_t* neighbor;
  T* min_dist;
  static void visit(void* context, std::size_t i, const T* values, std::size_t count) {
    if (count == 0) return;  // the last row
    auto* self = static_cast<FirstScan*>(context);
    // Four independent minima (k mod 4), each keeping its lowest k among equals, then the lowest k
    // among equal minima: the same answer as one scan, without one long chain of dependent compares.
    constexpr std::size_t L = 4;
    T best[L];
    std::size_t arg[L];
    for (std::size_t l = 0; l < L; ++l) {
      best[l] = std::numeric_limits<T>::infinity();
      arg[l] = count;
    }
    std::size_t k = 0;
    for (; k + L <= count; k += L)
      for (std::size_t l = 0; l < L; ++l)
        if (values[k + l] < best[l]) {
          best[l] = values[k + l];
          arg[l] = k + l;
        }
    for (std::size_t l = 0; k + l < count; ++l)
      if (values[k + l] < best[l]) {
        best[l] = values[k + l];
        arg[l] = k + l;
      }
    std::size_t q = 0;
    for (std::size_t l = 1; l < L; ++l)
      if (best[l] < best[q] || (best[l] == best[q] && arg[l] < arg[q])) q = l;
    // A row of infinities (rejected by panels_from anyway) keeps its first column, as one scan would.
    self->neighbor[i] = i + 1 + (arg[q] < count ? arg[q] : 0);
    self->min_dist[i] = best[q];
  }
};

// SciPy's ValueError where its find_min_dist finds no cluster closer than infinity (a NaN or infinite
// distance), word for word so that code written against SciPy's message still matches it.
[[noreturn]] void throw_no_neighbour() {
  throw LinkageOverflowError(
      "find_min_dist cannot find any neighbors closer than inf away. Check that distances contain no "
      "negative/infinite/NaN entries. ");
}

template <class T, LinkageMethod M>
void generic_impl(const T* src, T* D, std::size_t n, double* Z, int threads, bool adaptive, CancelPoller& poller,
                  bool reference) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  constexpr std::size_t R = kPanel;
  Panels<R> P(n);
  std::size_t dim = n;  // slots in the working matrix: live clusters are packed now and then
  std::vector<std::int64_t> size(n, 1);
  std::vector<std::size_t> cluster_id(n);
  for (std::size_t i = 0; i < n; ++i) cluster_id[i] = i;
  ActiveList live(n);
  std::vector<Candidate<T>> scratch;
  ThreadBudget budget(threads, adaptive);
  std::vector<std::vector<std::size_t>> undercut;  // per chunk of the update
  std::vector<Candidate<T>> above_y;               // per chunk of the update

  // The nearest live cluster above x: (distance, index), or (inf, none).
  auto nearest_above = [&](std::size_t x) {
    const std::size_t* L = live.data();
    const std::size_t from = live.lower_bound(x + 1);
    const Candidate<T> best = chunked_argmin<T>(from, live.size(), budget.threads(), scratch, [&](std::size_t lo, std::size_t hi) {
      // All positions are above x: nearest_in_range reads them along row x.
      return nearest_in_range(D, P, L, live, lo, hi, x, from - 1);
    });
    return best.value < inf ? Candidate<T>{best.value, L[best.index]} : Candidate<T>{inf, none};
  };

  // Each row's nearest cluster above it, lowest index among equals, seen while the matrix is put in
  // panel order (SciPy's first scan).
  std::vector<std::size_t> neighbor(n - 1);
  std::vector<T> min_dist(n - 1);
  {
    FirstScan<T> first{neighbor.data(), min_dist.data()};
    const RowSink<T> sink{&FirstScan<T>::visit, &first};
    panels_from(src, D, n, threads, poller, &sink, reference ? finite_range<T>() : safe_range<T>(M, n));
  }
  KeyedHeap<T> heap(min_dist);

  for (std::size_t k = 0; k + 1 < n; ++k) {
    std::size_t x = 0, y = 0;
    T dist = 0;
    // At most n - k re-checks, as SciPy bounds it.
    for (std::size_t attempt = 0; attempt < n - k; ++attempt) {
      x = heap.min_key();
      dist = heap.min_value();
      y = neighbor[x];
      if (dist == D[P.at(x, y)]) break;
      const Candidate<T> c = nearest_above(x);
      if (c.index == none) throw_no_neighbour();
      y = c.index;
      dist = c.value;
      neighbor[x] = y;
      min_dist[x] = dist;
      heap.change_value(x, dist);
    }
    heap.remove_min();

    std::size_t id_x = cluster_id[x], id_y = cluster_id[y];
    const std::int64_t nx = size[x], ny = size[y];
    if (id_x > id_y) std::swap(id_x, id_y);
    write_merge(Z, k, id_x, id_y, static_cast<double>(dist), static_cast<double>(nx + ny));
    size[x] = 0;
    size[y] = nx + ny;
    cluster_id[y] = n + k;
    live.kill(x);

    const double d_xy = static_cast<double>(dist);
    const std::size_t* L = live.data();
    const std::size_t at_x = live.lower_bound(x), at_y = live.lower_bound(y);
    // One pass over the live clusters z does all of a merge's per-cluster work, each chunk on its own
    // clusters (so no two threads touch the same entry), with what needs an order noted per chunk and
    // taken in chunk order below:
    //  - the new distances d(z, y);
    //  - candidates that pointed at x now point at its successor y (a guess, checked when popped);
    //  - the bounds that the new distances to y undercut (SciPy's second pass over z < y), noted in
    //    increasing z: the heap operations below depend on their order;
    //  - y's nearest cluster above it (SciPy's scan of row y after the update), from the values just
    //    written: the lowest z among equals within a chunk (strict <), and across chunks in chunk order.
    const int pass_threads = budget.threads();
    const std::size_t chunk = chunk_size(live.size(), pass_threads);
    const std::size_t chunks = (live.size() + chunk - 1) / chunk;
    if (undercut.size() < chunks) undercut.resize(chunks);
    above_y.assign(chunks, Candidate<T>{inf, none});
    for (std::size_t c = 0; c < chunks; ++c) undercut[c].clear();
    chunked_for(0, live.size(), chunk, pass_threads, [&](std::size_t lo, std::size_t hi) {
      std::vector<std::size_t>& notes = undercut[lo / chunk];
      Candidate<T>& nearest = above_y[lo / chunk];
      update_range<M>(D, P, L, live, lo, hi, x, y, at_x, at_y, d_xy, nx, ny, size.data(), [&](T d, std::size_t z) {
        if (z < y) {
          if (z < x && neighbor[z] == x) neighbor[z] = y;
          if (d < min_dist[z]) notes.push_back(z);
        } else if (d < nearest.value) {
          nearest = {d, z};
        }
      });
    });

    for (std::size_t c = 0; c < chunks; ++c) {
      for (const std::size_t z : undercut[c]) {
        const T d = D[P.at(z, y)];
        neighbor[z] = y;
        min_dist[z] = d;
        heap.change_value(z, d);
      }
    }
    Candidate<T> c{inf, none};
    for (const Candidate<T>& a : above_y)
      if (a.value < c.value) c = a;
    if (c.index != none) {
      neighbor[y] = c.index;
      min_dist[y] = c.value;
      heap.change_value(y, c.value);
    } else if (y + 1 < dim) {
      throw_no_neighbour();  // SciPy scans above y unless y is the last cluster (which never dies)
    }

    // Pack the live clusters once half the slots are dead (see compact_panels). Slots keep their
    // order, so the tie rules are unchanged. Every candidate neighbour is live (one that pointed at
    // x now points at y), and the heap holds every live cluster but the last (SciPy's n - 1: the
    // larger of a pair survives, so it never dies).
    const std::size_t alive = n - k - 1;
    if (!reference && alive * 2 <= dim && alive >= kCompactMin) {
      std::vector<std::size_t> keep;
      keep.reserve(alive);
      for (std::size_t p = 0; p < live.size(); ++p)
        if (live.alive(live.data()[p])) keep.push_back(live.data()[p]);
      compact_panels(D, P, keep, poller);
      std::vector<std::size_t> renum(dim, 0);
      for (std::size_t q = 0; q < alive; ++q) renum[keep[q]] = q;
      for (std::size_t q = 0; q < alive; ++q) {
        const std::size_t s = keep[q];
        cluster_id[q] = cluster_id[s];
        size[q] = size[s];
        if (q + 1 < alive) {
          neighbor[q] = renum[neighbor[s]];
          min_dist[q] = min_dist[s];
        }
      }
      heap.relabel(renum);
      dim = alive;
      P = Panels<R>(dim);
      live = ActiveList(dim);
    }
    poller.poll();
  }
}

}  // namespace

template <class T>
void generic_linkage(const T* src, T* W, std::size_t n, LinkageMethod method, double* Z, int threads, bool adaptive,
                     CancelPoller& poller, bool reference) {
  using M = LinkageMethod;
  switch (method) {
    case M::centroid: return generic_impl<T, M::centroid>(src, W, n, Z, threads, adaptive, poller, reference);
    case M::median: return generic_impl<T, M::median>(src, W, n, Z, threads, adaptive, poller, reference);
    default: throw std::invalid_argument("generic_linkage: method must be centroid or median");
  }
}

template void generic_linkage<float>(const float*, float*, std::size_t, LinkageMethod, double*, int, bool,
                                     CancelPoller&, bool);
template void generic_linkage<double>(const double*, double*, std::size_t, LinkageMethod, double*, int, bool,
                                      CancelPoller&, bool);

}  // namespace pixclust::detail
