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

// Müllner's generic algorithm between merges: each live cluster's candidate neighbour above it and a
// lower bound of that distance (neighbor, min_dist), the bounds in a heap; the matrix in panels.
// `reference`: no packing (see generic_linkage in linkage_common.hpp).
template <class T, LinkageMethod M>
class GenericLinkage {
 public:
  GenericLinkage(const T* src, T* D, std::size_t n, int threads, bool adaptive, CancelPoller& poller, bool reference)
      : D_(D), n_(n), dim_(n), P_(n), size_(n, 1), cluster_id_(n), live_(n), budget_(threads, adaptive),
        poller_(poller), reference_(reference), neighbor_(n - 1), min_dist_(n - 1) {
    for (std::size_t i = 0; i < n; ++i) cluster_id_[i] = i;
    // Each row's nearest cluster above it, lowest index among equals, seen while the matrix is put in
    // panel order (SciPy's first scan).
    FirstScan<T> first{neighbor_.data(), min_dist_.data()};
    const RowSink<T> sink{&FirstScan<T>::visit, &first};
    panels_from(src, D, n, threads, poller, &sink, reference ? finite_range<T>() : safe_range<T>(M, n));
  }

  void run(double* Z) {
    KeyedHeap<T> heap(min_dist_);
    for (std::size_t k = 0; k + 1 < n_; ++k) {
      const auto [x, y, dist] = closest_pair(heap, k);
      std::size_t id_x = cluster_id_[x], id_y = cluster_id_[y];
      const std::int64_t nx = size_[x], ny = size_[y];
      if (id_x > id_y) std::swap(id_x, id_y);
      write_merge(Z, k, id_x, id_y, static_cast<double>(dist), static_cast<double>(nx + ny));
      size_[x] = 0;
      size_[y] = nx + ny;
      cluster_id_[y] = n_ + k;
      live_.kill(x);
      update(heap, x, y, static_cast<double>(dist), nx, ny);
      // Every candidate neighbour is live (one that pointed at x now points at y), and the heap holds
      // every live cluster but the last (SciPy's n - 1: the larger of a pair survives, so it never dies).
      const std::size_t alive = n_ - k - 1;
      if (!reference_ && alive * 2 <= dim_ && alive >= kCompactMin) pack(heap, alive);
      poller_.poll(scanned_share(k, n_));
    }
  }

 private:
  static constexpr T kInf = std::numeric_limits<T>::infinity();
  static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

  // The nearest live cluster above x: (distance, index), or (inf, none).
  Candidate<T> nearest_above(std::size_t x) {
    const std::size_t* L = live_.data();
    const std::size_t from = live_.lower_bound(x + 1);
    const Candidate<T> best = chunked_argmin<T>(from, live_.size(), budget_.threads(), scratch_, [&](std::size_t lo, std::size_t hi) {
      // All positions are above x (x itself may be gone from the list): read along row x.
      return nearest_in_range(D_, P_, L, live_, lo, hi, x, from, from);
    });
    return best.value < kInf ? Candidate<T>{best.value, L[best.index]} : Candidate<T>{kInf, kNone};
  }

  // The heap's minimum once its candidate distance is confirmed, recomputing unconfirmed ones: at most
  // n - k re-checks, as SciPy bounds it. Removes it from the heap.
  ChainPair<T> closest_pair(KeyedHeap<T>& heap, std::size_t k) {
    std::size_t x = 0, y = 0;
    T dist = 0;
    for (std::size_t attempt = 0; attempt < n_ - k; ++attempt) {
      x = heap.min_key();
      dist = heap.min_value();
      y = neighbor_[x];
      if (dist == D_[P_.at(x, y)]) break;
      const Candidate<T> c = nearest_above(x);
      if (c.index == kNone) throw_no_neighbour();
      y = c.index;
      dist = c.value;
      neighbor_[x] = y;
      min_dist_[x] = dist;
      heap.change_value(x, dist);
    }
    heap.remove_min();
    return {x, y, dist};
  }

  // One pass over the live clusters z does all of a merge's per-cluster work, each chunk on its own
  // clusters (so no two threads touch the same entry), with what needs an order noted per chunk and
  // taken in chunk order after:
  //  - the new distances d(z, y);
  //  - candidates that pointed at x now point at its successor y (a guess, checked when popped);
  //  - the bounds that the new distances to y undercut (SciPy's second pass over z < y), noted in
  //    increasing z: the heap operations depend on their order;
  //  - y's nearest cluster above it (SciPy's scan of row y after the update), from the values just
  //    written: the lowest z among equals within a chunk (strict <), and across chunks in chunk order.
  void update(KeyedHeap<T>& heap, std::size_t x, std::size_t y, double d_xy, std::int64_t nx, std::int64_t ny) {
    const std::size_t* L = live_.data();
    const std::size_t at_x = live_.lower_bound(x), at_y = live_.lower_bound(y);
    const int pass_threads = budget_.threads();
    const std::size_t chunk = chunk_size(live_.size(), pass_threads);
    const std::size_t chunks = (live_.size() + chunk - 1) / chunk;
    if (undercut_.size() < chunks) undercut_.resize(chunks);
    above_y_.assign(chunks, Candidate<T>{kInf, kNone});
    for (std::size_t c = 0; c < chunks; ++c) undercut_[c].clear();
    chunked_for(0, live_.size(), chunk, pass_threads, [&](std::size_t lo, std::size_t hi) {
      std::vector<std::size_t>& notes = undercut_[lo / chunk];
      Candidate<T>& nearest = above_y_[lo / chunk];
      update_range<M>(D_, P_, L, live_, lo, hi, x, y, at_x, at_y, d_xy, nx, ny, size_.data(), [&](T d, std::size_t z) {
        if (z < y) {
          if (z < x && neighbor_[z] == x) neighbor_[z] = y;
          if (d < min_dist_[z]) notes.push_back(z);
        } else if (d < nearest.value) {
          nearest = {d, z};
        }
      });
    });
    for (std::size_t c = 0; c < chunks; ++c) {
      for (const std::size_t z : undercut_[c]) {
        const T d = D_[P_.at(z, y)];
        neighbor_[z] = y;
        min_dist_[z] = d;
        heap.change_value(z, d);
      }
    }
    Candidate<T> c{kInf, kNone};
    for (const Candidate<T>& a : above_y_)
      if (a.value < c.value) c = a;
    if (c.index != kNone) {
      neighbor_[y] = c.index;
      min_dist_[y] = c.value;
      heap.change_value(y, c.value);
    } else if (y + 1 < dim_) {
      throw_no_neighbour();  // SciPy scans above y unless y is the last cluster (which never dies)
    }
  }

  // Packs the `alive` live clusters to the front (pack_live). Slots keep their order, so the tie rules
  // are unchanged.
  void pack(KeyedHeap<T>& heap, std::size_t alive) {
    const Packing packing = pack_live(D_, P_, live_, dim_, poller_);
    for (std::size_t q = 0; q < alive; ++q) {
      const std::size_t s = packing.keep[q];
      cluster_id_[q] = cluster_id_[s];
      size_[q] = size_[s];
      if (q + 1 < alive) {
        neighbor_[q] = packing.renum[neighbor_[s]];
        min_dist_[q] = min_dist_[s];
      }
    }
    heap.relabel(packing.renum);
    dim_ = alive;
    P_ = Panels<kPanel>(dim_);
    live_ = ActiveList(dim_);
  }

  T* D_;
  std::size_t n_;
  std::size_t dim_;  // slots in the working matrix: live clusters are packed now and then
  Panels<kPanel> P_;
  std::vector<std::int64_t> size_;
  std::vector<std::size_t> cluster_id_;
  ActiveList live_;
  ThreadBudget budget_;
  CancelPoller& poller_;
  bool reference_;
  std::vector<std::size_t> neighbor_;
  std::vector<T> min_dist_;
  std::vector<Candidate<T>> scratch_;
  std::vector<std::vector<std::size_t>> undercut_;  // per chunk of the update
  std::vector<Candidate<T>> above_y_;               // per chunk of the update
};

}  // namespace

template <class T>
void generic_linkage(const T* src, T* W, std::size_t n, LinkageMethod method, double* Z, int threads, bool adaptive,
                     CancelPoller& poller, bool reference) {
  using M = LinkageMethod;
  switch (method) {
    case M::centroid: return GenericLinkage<T, M::centroid>(src, W, n, threads, adaptive, poller, reference).run(Z);
    case M::median: return GenericLinkage<T, M::median>(src, W, n, threads, adaptive, poller, reference).run(Z);
    default: throw std::invalid_argument("generic_linkage: method must be centroid or median");
  }
}

template void generic_linkage<float>(const float*, float*, std::size_t, LinkageMethod, double*, int, bool,
                                     CancelPoller&, bool);
template void generic_linkage<double>(const double*, double*, std::size_t, LinkageMethod, double*, int, bool,
                                      CancelPoller&, bool);

}  // namespace pixclust::detail
