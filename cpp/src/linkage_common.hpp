// Private pieces shared by the linkage algorithms (mst.cpp, nn_chain.cpp, nn_chain_small.cpp,
// generic_linkage.cpp, reference_linkage.cpp): condensed indexing, the range of inputs on which the
// fast algorithms are safe, SciPy's Lance-Williams updates, the list of live clusters,
// the prefetching row and column kernels with their deterministic chunked parallel wrappers, the
// load-aware thread budget, and SciPy's final "stable sort by height, then relabel" step (linkage.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "parallel.hpp"
#include "pixclust/linkage.hpp"

namespace pixclust::detail {

// The working matrix is stored in row panels. The condensed (row-major upper-triangle) order puts D(i, x)
// for i < x one row apart, so reading cluster x's distances down its column costs a cache line per
// value: most of the time of every algorithm here. Panels of R consecutive rows keep the same segment of
// the buffer as in condensed order (so the conversion is in place, one panel at a time) but store it
// column by column: D(i, j) for the R rows of a panel and one column j are R neighbours, a column read
// costs a line per R values, and a row read still streams (R values of other rows interleaved). Inside
// the panel, the triangle of pairs i < j that both belong to it is stored first, column by column.
// R = 1 is condensed order itself (single linkage reads its input in place that way).
inline constexpr std::size_t kPanel = 4;

template <std::size_t R>
class Panels {
  static_assert(R >= 1 && (R & (R - 1)) == 0, "the panel height is a power of two");

 public:
  explicit Panels(std::size_t n) : rect_(n), tri_(n) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t ps = first_row(i), r = i - ps;
      const std::size_t base = n * ps - ps * (ps + 1) / 2;  // where row ps starts in condensed order
      tri_[i] = base + r;
      // May wrap; the sum with j * R, j past the panel, is right in unsigned arithmetic.
      rect_[i] = base + R * (R - 1) / 2 - (ps + R) * R + r;
    }
  }
  static constexpr std::size_t first_row(std::size_t i) { return i & ~(R - 1); }
  // The first column past i's panel: D(i, j) for j >= end_of(i) is at rect()[i] + j * R.
  static constexpr std::size_t end_of(std::size_t i) { return (i | (R - 1)) + 1; }
  const std::size_t* rect() const { return rect_.data(); }
  // Position of D(i, j), i < j.
  std::size_t at(std::size_t i, std::size_t j) const {
    if constexpr (R == 1) {
      return rect_[i] + j;
    } else {
      const std::size_t c = j - first_row(i);
      return j >= end_of(i) ? rect_[i] + j * R : tri_[i] + c * (c - 1) / 2;
    }
  }

 private:
  std::vector<std::size_t> rect_, tri_;
};

// Shown every row's distances to the clusters above it while to_panels has them at hand, in condensed
// order: values[k] = D(i, i + 1 + k) for k < count = n - 1 - i. Called once per row, from any thread
// (the rows of one panel in order, on one thread), so an algorithm's first look along the rows costs no
// pass of its own over the matrix.
template <class T>
struct RowSink {
  void (*visit)(void* context, std::size_t i, const T* values, std::size_t count);
  void* context;
};

// The inputs on which every distance update of a method stays finite and >= 0 for n points, whatever the
// merges: inside it the fast algorithms never meet an infinity or a NaN (a scan that finds nothing below
// infinity would leave them no valid index); outside it linkage() runs SciPy's steps literally
// (reference_linkage.cpp), where a NaN or infinity plays out as in SciPy. See safe_range.
template <class T>
struct SafeRange {
  T lo, hi;
  bool contains(T v) const { return (v >= lo) & (v <= hi); }  // false for NaN and infinities
};

// Why these bounds hold, for M = the largest |input| (d are the working distances):
//  - single, complete: min and max of inputs; average, weighted: means, |d| <= M, and the sums in their
//    formulas stay within n M and 2 M.
//  - centroid, median: the merged pair is the closest of all (Mullner's generic algorithm merges the
//    global minimum), so d_xy <= d_xi, d_yi and the square root's argument is >= 3/4 d_xy^2 >= 0; the
//    merged distance is <= max(d_xi, d_yi) <= M; centroid's n_x n_y d_xy^2 term is <= n^2 M^2 / 4.
//  - ward: the merged pair are reciprocal nearest neighbours, so the argument is >= 0; s = d^2 (a+b)/(2ab)
//    (the squared centroid distance for sizes a, b) is a weighted mean minus a square under the update,
//    so s <= M^2 throughout and d^2 <= 2ab/(a+b) M^2 <= n/2 M^2; the formula's sums stay below n M^2.
//  - float32 stores the updates as float32: ward's heights, up to sqrt(n/2) M, must stay below FLT_MAX.
// Each bound keeps a factor of 2 or more in hand for rounding; negative inputs leave the square roots of
// ward, centroid and median without their guarantee, so they are outside too. tests/test_linkage.py
// checks the edges against SciPy.
template <class T>
SafeRange<T> safe_range(LinkageMethod method, std::size_t n) {
  const double big = std::numeric_limits<double>::max();
  const double top = static_cast<double>(std::numeric_limits<T>::max());
  const double nd = static_cast<double>(n);
  double lo = -top, hi = top;
  switch (method) {
    case LinkageMethod::single:
    case LinkageMethod::complete: break;
    case LinkageMethod::average: hi = std::min(top, big / (2 * nd)), lo = -hi; break;
    case LinkageMethod::weighted: hi = std::min(top, big / 4), lo = -hi; break;
    case LinkageMethod::ward: lo = 0, hi = std::min(top / std::sqrt(2 * nd), std::sqrt(big / (4 * nd))); break;
    case LinkageMethod::centroid: lo = 0, hi = std::min(top, std::sqrt(big) / nd); break;
    case LinkageMethod::median: lo = 0, hi = std::min(top, std::sqrt(big) / 2); break;
  }
  return {static_cast<T>(lo), static_cast<T>(hi)};
}

// Every finite value: what the reference algorithms accept.
template <class T>
SafeRange<T> finite_range() {
  return {std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max()};
}

// Thrown by reference_nn_chain where SciPy's chain would leave its arrays or merge a cluster with itself;
// linkage() turns it into LinkageOverflowError. Never leaves the library.
struct InvalidSciPyTree {
  const char* reason;
};

// Thrown by the fast algorithms, before they change anything, for an input outside their safe range;
// linkage() catches it and runs the reference algorithms instead. Never leaves the library.
struct OutsideSafeRange {};

// Copies the condensed matrix src into dst in panel order (dst == src: in place, through a buffer of
// one panel per thread) and says whether every value is inside `range`; rows, when given, sees every row.
// Panels are disjoint segments of the same size in both orders, so they are converted independently,
// on all threads. Ctrl-C is polled as it goes (Cancelled; in place, D is then left part converted).
template <class T>
bool to_panels(const T* src, T* dst, std::size_t n, int threads, CancelPoller& poller, const RowSink<T>* rows,
               SafeRange<T> range);
// The inverse, in place.
template <class T>
void from_panels(T* D, std::size_t n, int threads);
// to_panels for the algorithms. For a value outside `range` it puts src back in condensed order when it
// is dst, then throws SciPy's ValueError (std::invalid_argument) for a value that is not finite, else
// OutsideSafeRange.
template <class T>
void panels_from(const T* src, T* dst, std::size_t n, int threads, CancelPoller& poller, const RowSink<T>* rows,
                 SafeRange<T> range);
// The throw of panels_from for condensed input that failed a range check.
template <class T>
[[noreturn]] void throw_outside_range(const T* D, std::size_t n, int threads);

// SciPy's distance updates (scipy/cluster/_hierarchy_distance_update.pxi), operand for operand and in
// the same order, in double: with -ffp-contract=off the compiler may not reorder or fuse them, so a
// float64 run reproduces SciPy's bits. Sizes are converted to double as C converts SciPy's ints.
template <LinkageMethod M>
inline double lance_williams(double d_xi, double d_yi, double d_xy, std::int64_t nx, std::int64_t ny,
                             std::int64_t ni) {
  if constexpr (M == LinkageMethod::single) {
    return d_yi < d_xi ? d_yi : d_xi;
  } else if constexpr (M == LinkageMethod::complete) {
    return d_yi > d_xi ? d_yi : d_xi;
  } else if constexpr (M == LinkageMethod::average) {
    return (static_cast<double>(nx) * d_xi + static_cast<double>(ny) * d_yi) / static_cast<double>(nx + ny);
  } else if constexpr (M == LinkageMethod::weighted) {
    return 0.5 * (d_xi + d_yi);
  } else if constexpr (M == LinkageMethod::ward) {
    const double t = 1.0 / static_cast<double>(nx + ny + ni);
    return std::sqrt(static_cast<double>(ni + nx) * t * d_xi * d_xi +
                     static_cast<double>(ni + ny) * t * d_yi * d_yi - static_cast<double>(ni) * t * d_xy * d_xy);
  } else if constexpr (M == LinkageMethod::centroid) {
    const double nxy = static_cast<double>(nx + ny);
    return std::sqrt(((static_cast<double>(nx) * d_xi * d_xi + static_cast<double>(ny) * d_yi * d_yi) -
                      static_cast<double>(nx * ny) * d_xy * d_xy / nxy) /
                     nxy);
  } else {  // median
    return std::sqrt(0.5 * (d_xi * d_xi + d_yi * d_yi) - 0.25 * d_xy * d_xy);
  }
}

// lance_williams<M> for cnt pairs (a[q], b[q]) = (d(x, i), d(y, i)) with i = idx[q] of size size[i].
// The square roots and divisions of ward, centroid and median are most of the update's arithmetic: they
// run two at a time in SSE2 (every x86-64 CPU has it), with the same operations in the same order and
// correctly rounded like the scalar ones, hence the same bits. Sizes enter as doubles: they and their
// sums and products stay below 2^53, so converting before or after adding gives the same value.
template <LinkageMethod M>
inline void lance_williams_batch(std::size_t cnt, const double* a, const double* b, double d_xy, std::int64_t nx,
                                 std::int64_t ny, const std::int64_t* size, const std::size_t* idx, double* out) {
  std::size_t q = 0;
#if defined(__SSE2__)
  if constexpr (M == LinkageMethod::ward || M == LinkageMethod::centroid || M == LinkageMethod::median) {
    const __m128d nxd = _mm_set1_pd(static_cast<double>(nx)), nyd = _mm_set1_pd(static_cast<double>(ny));
    const __m128d dxy = _mm_set1_pd(d_xy);
    for (; q + 2 <= cnt; q += 2) {
      const __m128d A = _mm_loadu_pd(a + q), B = _mm_loadu_pd(b + q);
      __m128d r;
      if constexpr (M == LinkageMethod::ward) {
        const __m128d ni = _mm_set_pd(static_cast<double>(size[idx[q + 1]]), static_cast<double>(size[idx[q]]));
        const __m128d t = _mm_div_pd(_mm_set1_pd(1.0), _mm_add_pd(_mm_add_pd(nxd, nyd), ni));
        const __m128d u = _mm_mul_pd(_mm_mul_pd(_mm_mul_pd(_mm_add_pd(ni, nxd), t), A), A);
        const __m128d v = _mm_mul_pd(_mm_mul_pd(_mm_mul_pd(_mm_add_pd(ni, nyd), t), B), B);
        const __m128d w = _mm_mul_pd(_mm_mul_pd(_mm_mul_pd(ni, t), dxy), dxy);
        r = _mm_sqrt_pd(_mm_sub_pd(_mm_add_pd(u, v), w));
      } else if constexpr (M == LinkageMethod::centroid) {
        const __m128d nxy = _mm_set1_pd(static_cast<double>(nx + ny));
        const __m128d pxy = _mm_set1_pd(static_cast<double>(nx * ny));
        const __m128d u = _mm_add_pd(_mm_mul_pd(_mm_mul_pd(nxd, A), A), _mm_mul_pd(_mm_mul_pd(nyd, B), B));
        const __m128d w = _mm_div_pd(_mm_mul_pd(_mm_mul_pd(pxy, dxy), dxy), nxy);
        r = _mm_sqrt_pd(_mm_div_pd(_mm_sub_pd(u, w), nxy));
      } else {
        const __m128d u = _mm_mul_pd(_mm_set1_pd(0.5), _mm_add_pd(_mm_mul_pd(A, A), _mm_mul_pd(B, B)));
        const __m128d w = _mm_mul_pd(_mm_mul_pd(_mm_set1_pd(0.25), dxy), dxy);
        r = _mm_sqrt_pd(_mm_sub_pd(u, w));
      }
      _mm_storeu_pd(out + q, r);
    }
  }
#endif
  for (; q < cnt; ++q) out[q] = lance_williams<M>(a[q], b[q], d_xy, nx, ny, size[idx[q]]);
}

// The live clusters as a sorted list of indices. A merge only marks a cluster dead; the list is compacted
// (order kept) once an eighth of it is dead, so scans skip almost no dead entries at O(1) amortised cost.
class ActiveList {
 public:
  explicit ActiveList(std::size_t n) : alive_(n, 1), list_(n) {
    for (std::size_t i = 0; i < n; ++i) list_[i] = i;
  }
  bool alive(std::size_t i) const { return alive_[i] != 0; }
  const std::size_t* data() const { return list_.data(); }
  std::size_t size() const { return list_.size(); }  // entries, dead ones included
  std::size_t first_alive() const {
    for (std::size_t i : list_)
      if (alive_[i]) return i;
    return list_.size();
  }
  void kill(std::size_t i) {
    alive_[i] = 0;
    if (++dead_ * 8 > list_.size()) {
      list_.erase(std::remove_if(list_.begin(), list_.end(), [this](std::size_t k) { return alive_[k] == 0; }),
                  list_.end());
      dead_ = 0;
    }
  }
  // Position of the first entry >= i.
  std::size_t lower_bound(std::size_t i) const {
    return static_cast<std::size_t>(std::lower_bound(list_.begin(), list_.end(), i) - list_.begin());
  }

 private:
  std::vector<unsigned char> alive_;
  std::vector<std::size_t> list_;
  std::size_t dead_ = 0;
};

// For a list without dead entries (the one-thread algorithms for small n erase a cluster when it dies):
// what the kernels below ask of an ActiveList, always true.
struct AllAlive {
  static constexpr bool alive(std::size_t) { return true; }
};

// The scans and row updates are short (tens of microseconds) and end in a barrier: on a machine whose
// CPUs are all busy with other work, a helper thread that has been descheduled holds every barrier for a
// whole time slice, and two threads run ten times slower than one. So these fine-grained phases use the
// extra threads only while there are idle CPUs for them (runnable_threads, parallel.hpp). An explicit
// thread count (n_threads > 0) is used as given. The results never depend on the thread count.
class ThreadBudget {
 public:
  ThreadBudget(int requested, bool adaptive) : requested_(requested), adaptive_(adaptive) {}
  int threads() const { return adaptive_ ? runnable_threads(requested_) : requested_; }

 private:
  int requested_;
  bool adaptive_;
};

template <class T>
struct Candidate {
  T value;
  std::size_t index;
};

// Entries per chunk of a parallel pass over m entries on `threads` threads. Chunks, not threads, are the
// unit of the reduction: partial minima are combined in chunk order, so 1 thread and 16 find the same
// (value, lowest index), and so does any chunk size. Larger chunks cost less per entry (each restarts
// the prefetch stream and its per-chunk notes: benchmarks/bench_linkage.py), so a chunk is kChunk
// entries unless that leaves a thread fewer than four, and no fewer than kMinChunk.
inline constexpr std::size_t kChunk = 2048;
inline constexpr std::size_t kMinChunk = 1024;
inline std::size_t chunk_size(std::size_t m, int threads) {
  const std::size_t share = m / (4 * static_cast<std::size_t>(threads > 1 ? threads : 1));
  return std::min(kChunk, std::max(kMinChunk, share));
}

// One-off passes over fewer entries than this (the conversion to panels of n < 362) run on the calling
// thread: starting a team costs more than they do.
inline constexpr std::size_t kParallelFrom = std::size_t{1} << 16;

// Column accesses D(i, x), i < x, land on a new cache line (and often a new page) at every step, and
// the out-of-order window covers only a few of them: prefetching this many entries ahead keeps enough
// misses in flight.
inline constexpr std::size_t kPrefetch = 32;

inline void prefetch_read(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 0, 0);
#else
  (void)p;
#endif
}
inline void prefetch_write(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 1, 0);
#else
  (void)p;
#endif
}

// scan(lo, hi) -> Acc over [begin, end), in chunks on all threads when there is enough work; the chunks'
// results are folded in chunk order by combine(acc, next), so the thread count cannot change the result.
template <class Acc, class Scan, class Combine>
Acc chunked_reduce(std::size_t begin, std::size_t end, int threads, std::vector<Acc>& scratch, const Scan& scan,
                   const Combine& combine) {
  const std::size_t chunk = chunk_size(end - begin, threads);
  const std::size_t chunks = (end - begin + chunk - 1) / chunk;
  if (threads <= 1 || chunks < 2) return scan(begin, end);
  scratch.resize(chunks);
  const auto nchunks = static_cast<std::ptrdiff_t>(chunks);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (std::ptrdiff_t c = 0; c < nchunks; ++c) {
    const std::size_t lo = begin + static_cast<std::size_t>(c) * chunk;
    scratch[static_cast<std::size_t>(c)] = scan(lo, std::min(end, lo + chunk));
  }
  Acc acc = scratch[0];
  for (std::size_t c = 1; c < chunks; ++c) combine(acc, scratch[c]);
  return acc;
}

// chunked_reduce of scan(lo, hi) -> Candidate<T> (value, list position; ties to the lowest position).
template <class T, class Scan>
Candidate<T> chunked_argmin(std::size_t begin, std::size_t end, int threads, std::vector<Candidate<T>>& scratch,
                            const Scan& scan) {
  if (end <= begin) return {std::numeric_limits<T>::infinity(), end};
  return chunked_reduce(begin, end, threads, scratch, scan, [](Candidate<T>& best, const Candidate<T>& next) {
    if (next.value < best.value) best = next;
  });
}

// body(lo, hi) over [begin, end) in chunks of `chunk` entries, on all threads when there is enough work.
// Each entry is written by one call only, so the thread count cannot change a result.
template <class Body>
void chunked_for(std::size_t begin, std::size_t end, std::size_t chunk, int threads, const Body& body) {
  if (end <= begin) return;
  const std::size_t chunks = (end - begin + chunk - 1) / chunk;
  if (threads <= 1 || chunks < 2) {
    body(begin, end);
    return;
  }
  const auto nchunks = static_cast<std::ptrdiff_t>(chunks);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (std::ptrdiff_t c = 0; c < nchunks; ++c) {
    const std::size_t lo = begin + static_cast<std::size_t>(c) * chunk;
    body(lo, std::min(end, lo + chunk));
  }
}

// Moves the distances among the clusters `keep` (increasing slots of the current layout P) to the
// front of D, in the panel layout of keep.size() clusters (the q-th kept cluster becomes slot q). As
// live clusters die, fewer of the values in each cache line are still needed; packing the live ones
// when half are dead keeps the scans and updates at a line per R values, and the matrix shrinks. In
// place and safe in one forward pass: a value's new position never exceeds its old one (both orders are
// by panel, then column, then row, and no index grows), and positions are written in increasing order,
// so no value is overwritten before it is read. (A parallel pass would not be safe.)
// Below this many live clusters the matrix is small and packing it again does not pay.
inline constexpr std::size_t kCompactMin = 256;

// Polls for Ctrl-C between panels (the first packing moves a quarter of the matrix on one thread).
template <class T, std::size_t R>
void compact_panels(T* D, const Panels<R>& P, const std::vector<std::size_t>& keep, CancelPoller& poller) {
  const std::size_t m = keep.size();
  T* out = D;
  for (std::size_t ps = 0; ps < m; ps += R) {
    poller.poll();
    const std::size_t pe = std::min(m, ps + R);
    for (std::size_t j = ps + 1; j < pe; ++j)
      for (std::size_t r = 0; ps + r < j; ++r) *out++ = D[P.at(keep[ps + r], keep[j])];
    if (pe - ps == R)
      for (std::size_t j = pe; j < m; ++j) {
        const std::size_t kj = keep[j];
        for (std::size_t r = 0; r < R; ++r) *out++ = D[P.at(keep[ps + r], kj)];
      }
  }
}

// The live clusters packed to the front of D (compact_panels) once half the slots are dead: keep[q] is
// the old slot of new slot q, renum its inverse (0 for the dead).
struct Packing {
  std::vector<std::size_t> keep, renum;
};

template <class T, std::size_t R>
Packing pack_live(T* D, const Panels<R>& P, const ActiveList& live, std::size_t dim, CancelPoller& poller) {
  Packing packing;
  for (std::size_t p = 0; p < live.size(); ++p)
    if (live.alive(live.data()[p])) packing.keep.push_back(live.data()[p]);
  compact_panels(D, P, packing.keep, poller);
  packing.renum.assign(dim, 0);
  for (std::size_t q = 0; q < packing.keep.size(); ++q) packing.renum[packing.keep[q]] = q;
  return packing;
}

// Prefetch the value at D + k. The offset is formed in integers: for clusters in x's own panel the
// rect() formula gives a meaningless (possibly wrapped) address, which a prefetch ignores.
template <class T>
inline void prefetch_value(const T* D, std::size_t k, bool write) {
  const auto* p = reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(D) + k * sizeof(T));
  if (write)
    prefetch_write(p);
  else
    prefetch_read(p);
}

// visit(p, D(L[p], x)) for the live clusters at list positions [lo, hi) below col_end (clusters below x,
// read down column x, prefetched ahead), then visit(p, D(x, L[p])) for those from row_from on (clusters
// above x, read along row x). Live: ActiveList (dead entries skipped) or AllAlive.
template <class T, std::size_t R, class Live, class Visit>
void for_each_distance_to(const T* D, const Panels<R>& P, const std::size_t* L, const Live& live, std::size_t lo,
                          std::size_t hi, std::size_t x, std::size_t col_end, std::size_t row_from,
                          const Visit& visit) {
  const std::size_t* rect = P.rect();
  const std::size_t col_stop = std::min(hi, col_end);
  const std::size_t xR = x * R;
  for (std::size_t p = lo; p < col_stop; ++p) {
    if (p + kPrefetch < col_stop) prefetch_value(D, rect[L[p + kPrefetch]] + xR, false);
    const std::size_t i = L[p];
    if (live.alive(i)) visit(p, D[P.at(i, x)]);
  }
  for (std::size_t p = std::max(lo, row_from); p < hi; ++p) {
    const std::size_t i = L[p];
    if (live.alive(i)) visit(p, D[P.at(x, i)]);
  }
}

// The nearest live cluster to x among list positions [lo, hi) (col_end, row_from as for
// for_each_distance_to): (distance, position), ties to the lowest position; (inf, hi) if none is closer.
template <class T, std::size_t R, class Live>
Candidate<T> nearest_in_range(const T* D, const Panels<R>& P, const std::size_t* L, const Live& live,
                              std::size_t lo, std::size_t hi, std::size_t x, std::size_t col_end,
                              std::size_t row_from) {
  Candidate<T> best{std::numeric_limits<T>::infinity(), hi};
  for_each_distance_to(D, P, L, live, lo, hi, x, col_end, row_from, [&best](std::size_t p, T v) {
    if (v < best.value) best = {v, p};
  });
  return best;
}

// For list positions [lo, hi): d(i, y) <- update(d(i, x), d(i, y)) for every live i other than x and y
// (x < y; at_x, at_y their positions, at_x == at_y possible when x is already compacted away), then
// note(new d(i, y), i) in increasing i. The values are gathered in small batches for
// lance_williams_batch<M>.
template <LinkageMethod M, class T, std::size_t R, class Live, class Note>
void update_range(T* D, const Panels<R>& P, const std::size_t* L, const Live& live, std::size_t lo,
                  std::size_t hi, std::size_t x, std::size_t y, std::size_t at_x, std::size_t at_y, double d_xy,
                  std::int64_t nx, std::int64_t ny, const std::int64_t* size, const Note& note) {
  constexpr std::size_t B = 16;
  std::size_t pos[B], idx[B];
  double a[B], b[B], out[B];
  std::size_t cnt = 0;
  auto flush = [&] {
    lance_williams_batch<M>(cnt, a, b, d_xy, nx, ny, size, idx, out);
    for (std::size_t q = 0; q < cnt; ++q) {
      const T d = static_cast<T>(out[q]);
      D[pos[q]] = d;
      note(d, idx[q]);
    }
    cnt = 0;
  };
  auto push = [&](std::size_t i, std::size_t at_xi, std::size_t at_yi) {
    pos[cnt] = at_yi;
    idx[cnt] = i;
    a[cnt] = static_cast<double>(D[at_xi]);
    b[cnt] = static_cast<double>(D[at_yi]);
    if (++cnt == B) flush();
  };
  const std::size_t* rect = P.rect();
  const std::size_t xR = x * R, yR = y * R;
  // i < x: columns x and y.
  const std::size_t e1 = std::min(hi, at_x);
  for (std::size_t p = lo; p < e1; ++p) {
    if (p + kPrefetch < e1) {
      const std::size_t base = rect[L[p + kPrefetch]];
      prefetch_value(D, base + xR, false);
      prefetch_value(D, base + yR, true);
    }
    const std::size_t i = L[p];
    if (live.alive(i)) push(i, P.at(i, x), P.at(i, y));
  }
  // x < i < y: d(x, i) along row x, d(i, y) down column y.
  const std::size_t e2 = std::min(hi, at_y);
  for (std::size_t p = std::max(lo, at_x); p < e2; ++p) {
    if (p + kPrefetch < e2) prefetch_value(D, rect[L[p + kPrefetch]] + yR, true);
    const std::size_t i = L[p];
    if (i != x && live.alive(i)) push(i, P.at(x, i), P.at(i, y));
  }
  // i > y: along rows x and y.
  for (std::size_t p = std::max(lo, at_y + 1); p < hi; ++p) {
    const std::size_t i = L[p];
    if (live.alive(i)) push(i, P.at(x, i), P.at(y, i));
  }
  flush();
}

// A scan that found no cluster below infinity: impossible on finite distances inside the safe range, so
// a bug; thrown instead of indexing with the scan's "nothing found" position.
[[noreturn]] inline void throw_no_candidate() {
  throw std::logic_error("linkage: internal error: a nearest-neighbour scan found no cluster");
}

// Row k of the linkage matrix: clusters a and b merged at `height` into one of `count` points.
inline void write_merge(double* Z, std::size_t k, std::size_t a, std::size_t b, double height, double count) {
  double* row = Z + 4 * k;
  row[0] = static_cast<double>(a);
  row[1] = static_cast<double>(b);
  row[2] = height;
  row[3] = count;
}

// The share of a linkage's work done once merge k (of n - 1) is written, for the progress bar
// (kernel_progress()): where each merge costs about the same (the trees' searches) ...
inline double merged_share(std::size_t k, std::size_t n) {
  return static_cast<double>(k + 1) / static_cast<double>(n - 1);
}
// ... and where each merge scans the clusters still live, so that the merges left cost the square of
// their number (Prim's, the chains over a matrix).
inline double scanned_share(std::size_t k, std::size_t n) {
  const double left = static_cast<double>(n - 2 - k) / static_cast<double>(n - 1);
  return 1.0 - left * left;
}

// A reciprocal pair x < y at distance d (the next merge of the nearest-neighbour chain).
template <class T>
struct ChainPair {
  std::size_t x, y;
  T d;
};

// One merge of SciPy's nearest-neighbour chain (nn_chain in scipy/cluster/_hierarchy.pyx), from a chain
// that holds at least its first link: each next link is the nearest live cluster of the last, and the
// previous link wins unless something is strictly closer (SciPy starts its scan from it), until the last
// two links are each other's nearest; those two are popped. nearest(x): x's nearest live cluster,
// (distance, index) with the lowest index among equals; distance(a, b): the current D(a, b).
template <class T, class NearestOf, class Distance>
ChainPair<T> reciprocal_pair(std::vector<std::size_t>& chain, const NearestOf& nearest, const Distance& distance) {
  for (;;) {
    const std::size_t x = chain.back();
    const Candidate<T> c = nearest(x);
    if (chain.size() > 1) {
      const std::size_t prev = chain[chain.size() - 2];
      const T d_prev = distance(x, prev);
      if (!(c.value < d_prev)) {
        chain.pop_back();
        chain.pop_back();
        return {std::min(x, prev), std::max(x, prev), d_prev};
      }
    }
    chain.push_back(c.index);
  }
}

// SciPy's last step for single and the NN-chain methods: a stable sort of the merges by height (numpy's
// mergesort), then cluster ids by union-find in row order, the smaller root first, and the counts.
// Z holds (a, b, height, *) with a, b the indices of the merged clusters' representatives.
void sort_and_relabel(double* Z, std::size_t n);
// Its second half, for rows already in that order. With `id`, the rows' a and b are slots and slot v
// holds observation id[v] (a permutation): a caller that numbers the points by place (a kd-tree's
// order) keeps the union-find's accesses near in memory; the matrix is the same.
void relabel_sorted(double* Z, std::size_t n, const std::uint32_t* id = nullptr);

// True when every one of the m values is finite (checked in parallel; order does not matter for a
// logical and).
template <class T>
bool all_finite(const T* D, std::size_t m, int threads);

// The three algorithms. nn_chain and generic_linkage put the condensed matrix src into panel order
// (kPanel) in W (panels_from; W == src: in place) and work there, overwriting it; mst_single reads the
// condensed matrix as it is (it reads every value once: converting would cost as much as it saves).
// `adaptive`: the thread count was not given explicitly, so ThreadBudget may lower it while the CPUs are
// busy.
// mst_single also checks that the input is finite (it reads each value once anyway): false when not.
template <class T>
bool mst_single(const T* D, std::size_t n, double* Z, int threads, bool adaptive, CancelPoller& poller);
// Throws SciPy's ValueError (std::invalid_argument) for a matrix with a value that is not finite.
[[noreturn]] void throw_non_finite();
// nn_chain below kSmallChain points (nn_chain.cpp calls it): the condensed matrix as it is, one thread.
// nn_chain and nn_chain_small throw OutsideSafeRange for an input outside safe_range, W untouched.
template <class T>
void nn_chain_small(const T* src, T* W, std::size_t n, LinkageMethod method, double* Z, CancelPoller& poller);
template <class T>
void nn_chain(const T* src, T* W, std::size_t n, LinkageMethod method, double* Z, int threads, bool adaptive,
              CancelPoller& poller);
// `reference`: any finite input, SciPy's steps without the packing of live clusters (a NaN can leave a
// dead cluster in SciPy's heap, and its steps then read dead clusters' rows); else OutsideSafeRange for
// an input outside safe_range. Throws LinkageOverflowError where SciPy raises its ValueError.
template <class T>
void generic_linkage(const T* src, T* W, std::size_t n, LinkageMethod method, double* Z, int threads, bool adaptive,
                     CancelPoller& poller, bool reference);
// SciPy's nn_chain step for step on the condensed matrix D (overwritten), for inputs outside safe_range
// (reference_linkage.cpp). Throws InvalidSciPyTree where SciPy would index outside its arrays.
void reference_nn_chain(double* D, std::size_t n, LinkageMethod method, double* Z, CancelPoller& poller);

}  // namespace pixclust::detail
