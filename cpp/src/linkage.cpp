// linkage(): input checks, the working copy, the choice of algorithm, and SciPy's final sort + relabel.
#include "pixclust/linkage.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <cstring>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "linkage_common.hpp"
#include "pixclust/pdist.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace pixclust {

namespace {

// SciPy's message for the same input.
constexpr const char* kNonFinite = "The condensed distance matrix must contain only finite values.";

constexpr std::string_view kNames[] = {"single", "complete", "average", "weighted", "ward", "centroid", "median"};

std::string describe_bytes(std::size_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%zu bytes (%.2f GiB)", bytes, static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

// An uninitialised, RAII-owned buffer of m values. Large buffers are aligned to 2 MiB and offered to the
// kernel for transparent huge pages before they are touched: the column scans of a condensed matrix hit
// a new 4 KiB page at almost every step, and huge pages spare most of those TLB misses. Below kHugeFrom
// the matrix is within reach of the 4 KiB TLB entries, and clearing a fresh huge page costs more than a
// small run (benchmarks/bench_linkage_small.py).
inline constexpr std::size_t kHugeFrom = std::size_t{16} << 20;

template <class T>
class WorkBuffer {
 public:
  explicit WorkBuffer(std::size_t m) {
    constexpr std::size_t huge = std::size_t{1} << 21;
    const std::size_t bytes = m * sizeof(T);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const bool use_huge = bytes >= kHugeFrom;
#else
    const bool use_huge = false;  // transparent huge pages are Linux's; MSVC has no std::aligned_alloc
#endif
    const std::size_t rounded = use_huge ? (bytes + huge - 1) / huge * huge : bytes;
    void* p = use_huge ? aligned(huge, rounded) : std::malloc(bytes > 0 ? bytes : 1);
    if (p == nullptr) {
      throw LinkageMemoryError("linkage: cannot allocate the working copy of the condensed distance matrix: it "
                               "needs " + describe_bytes(bytes) + " (linkage_overwrite needs none)",
                               bytes);
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (use_huge) madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure is harmless
#endif
    data_.reset(static_cast<T*>(p));
  }
  T* get() const { return data_.get(); }

 private:
  static void* aligned(std::size_t alignment, std::size_t bytes) {
#if defined(_WIN32)
    (void)alignment;
    return std::malloc(bytes);  // not reached: use_huge is false there
#else
    return std::aligned_alloc(alignment, bytes);
#endif
  }
  struct Free {
    void operator()(T* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
};

void require_two_points(std::size_t n) {
  if (n < 2) throw std::invalid_argument("linkage: needs at least 2 observations, got " + std::to_string(n));
}

// Single linkage reads the condensed matrix in place and checks finiteness on its way through it.
template <class T>
void single(const T* D, std::size_t n, double* Z, int threads, bool adaptive, detail::CancelPoller& poller) {
  if (!detail::mst_single<T>(D, n, Z, threads, adaptive, poller)) throw std::invalid_argument(kNonFinite);
}

// The largest |value| of the m values (for the overflow message).
template <class T>
double largest_magnitude(const T* D, std::size_t m) {
  double top = 0;
  for (std::size_t k = 0; k < m; ++k) top = std::max(top, std::abs(static_cast<double>(D[k])));
  return top;
}

[[noreturn]] void throw_overflow(LinkageMethod method, double top, const char* reason) {
  char top_text[32];
  std::snprintf(top_text, sizeof top_text, "%.3g", top);
  throw LinkageOverflowError("linkage: the " + std::string(linkage_method_name(method)) +
                             " distance updates overflow on these distances (the largest magnitude is " +
                             top_text + "): working distances become infinite or NaN, and " + reason +
                             ". Dividing the distances by a constant gives the same tree, its heights divided "
                             "by it.");
}

// Throws LinkageOverflowError unless Z is a valid tree: row k merges two distinct clusters below n + k
// not merged before, at a finite height, with the sum of their counts.
void require_valid_tree(const double* Z, std::size_t n, LinkageMethod method, double top) {
  std::vector<double> count(2 * n - 1, 1.0);
  std::vector<unsigned char> used(2 * n - 1, 0);
  auto id_ok = [&](double v, std::size_t k) {
    return v >= 0 && v < static_cast<double>(n + k) && v == std::floor(v) && !used[static_cast<std::size_t>(v)];
  };
  for (std::size_t k = 0; k + 1 < n; ++k) {
    const double* row = Z + 4 * k;
    if (!std::isfinite(row[2])) throw_overflow(method, top, "SciPy would merge at a non-finite height");
    bool ok = id_ok(row[0], k) && id_ok(row[1], k) && row[0] != row[1];
    if (ok) {
      const auto a = static_cast<std::size_t>(row[0]), b = static_cast<std::size_t>(row[1]);
      used[a] = used[b] = 1;
      count[n + k] = count[a] + count[b];
      ok = row[3] == count[n + k];
    }
    if (!ok) throw_overflow(method, top, "SciPy's result would use a cluster twice");
  }
}

template <class T>
void dispatch(const T* src, T* W, std::size_t n, LinkageMethod method, double* Z, int threads, bool adaptive,
              detail::CancelPoller& poller);

// Inputs outside detail::safe_range (src intact and in condensed order; W its working copy, or src).
// float32 is clustered in float64, as SciPy clusters it; float64 by SciPy's steps (reference_nn_chain,
// or the generic algorithm in its reference mode), whose outcome is kept only when it is a valid tree.
template <class T>
void outside_safe_range(const T* src, T* W, std::size_t n, LinkageMethod method, double* Z, int threads,
                        bool adaptive, detail::CancelPoller& poller) {
  const std::size_t m = condensed_size(n);
  if constexpr (std::is_same_v<T, float>) {
    (void)W;
    WorkBuffer<double> wide(m);
    std::copy(src, src + m, wide.get());
    dispatch<double>(wide.get(), wide.get(), n, method, Z, threads, adaptive, poller);
  } else {
    if (W != src) std::copy(src, src + m, W);
    const double top = largest_magnitude(W, m);
    if (method == LinkageMethod::centroid || method == LinkageMethod::median) {
      detail::generic_linkage<double>(W, W, n, method, Z, threads, adaptive, poller, true);
    } else {
      try {
        detail::reference_nn_chain(W, n, method, Z, poller);
      } catch (const detail::InvalidSciPyTree& e) {
        throw_overflow(method, top, e.reason);
      }
    }
    require_valid_tree(Z, n, method, top);
  }
}

// The condensed matrix src, with W its working copy (W == src: overwrite it) for every method but single
// linkage, which reads src as it is.
template <class T>
void dispatch(const T* src, T* W, std::size_t n, LinkageMethod method, double* Z, int threads, bool adaptive,
              detail::CancelPoller& poller) {
  try {
    switch (method) {
      case LinkageMethod::single: return single<T>(src, n, Z, threads, adaptive, poller);
      case LinkageMethod::complete:
      case LinkageMethod::average:
      case LinkageMethod::weighted:
      case LinkageMethod::ward: return detail::nn_chain<T>(src, W, n, method, Z, threads, adaptive, poller);
      case LinkageMethod::centroid:
      case LinkageMethod::median:
        return detail::generic_linkage<T>(src, W, n, method, Z, threads, adaptive, poller, false);
    }
  } catch (const detail::OutsideSafeRange&) {
    return outside_safe_range<T>(src, W, n, method, Z, threads, adaptive, poller);
  }
  throw std::invalid_argument("linkage: unknown method");
}

}  // namespace

LinkageMethod linkage_method_from_name(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kNames); ++i)
    if (kNames[i] == name) return static_cast<LinkageMethod>(i);
  throw std::invalid_argument("Invalid method: " + std::string(name));
}

std::string_view linkage_method_name(LinkageMethod method) noexcept {
  return kNames[static_cast<std::size_t>(method)];
}

std::size_t linkage_working_bytes(std::size_t n, LinkageMethod method, std::size_t item_size) {
  if (method == LinkageMethod::single || n < 2) return 0;
  // n*(n-1)/2 * item_size must not wrap.
  const std::size_t half = n % 2 == 0 ? n / 2 : (n - 1) / 2;
  const std::size_t other = n % 2 == 0 ? n - 1 : n;
  const std::size_t limit = std::numeric_limits<std::size_t>::max();
  if (other != 0 && (half > limit / other || half * other > limit / item_size)) {
    throw std::length_error("linkage: the condensed distance matrix of " + std::to_string(n) +
                            " points does not fit in memory addressable by size_t");
  }
  return half * other * item_size;
}

template <class T>
void linkage_overwrite(T* D, std::size_t n, LinkageMethod method, double* Z, int n_threads,
                       const CancelCheck& cancel) {
  const int threads = detail::resolve_threads(n_threads);
  detail::CancelPoller poller(cancel);
  require_two_points(n);
  // Single linkage checks the input as it reads it; the others as they put it in panel order.
  dispatch<T>(D, D, n, method, Z, threads, n_threads <= 0, poller);
}

template <class T>
void linkage(const T* D, std::size_t n, LinkageMethod method, double* Z, int n_threads, const CancelCheck& cancel) {
  const int threads = detail::resolve_threads(n_threads);
  if (method == LinkageMethod::single) {
    require_two_points(n);
    detail::CancelPoller poller(cancel);
    return single<T>(D, n, Z, threads, n_threads <= 0, poller);
  }
  require_two_points(n);
  const std::size_t m = linkage_working_bytes(n, method, sizeof(T)) / sizeof(T);
  WorkBuffer<T> work(m);
  // The copy into panel order checks finiteness as it goes: one read of the input instead of two (a bad
  // input is found before any merge; the buffer is freed on the way out).
  detail::CancelPoller poller(cancel);
  dispatch<T>(D, work.get(), n, method, Z, threads, n_threads <= 0, poller);
}

template void linkage<float>(const float*, std::size_t, LinkageMethod, double*, int, const CancelCheck&);
template void linkage<double>(const double*, std::size_t, LinkageMethod, double*, int, const CancelCheck&);
template void linkage_overwrite<float>(float*, std::size_t, LinkageMethod, double*, int, const CancelCheck&);
template void linkage_overwrite<double>(double*, std::size_t, LinkageMethod, double*, int, const CancelCheck&);

namespace detail {

void sort_and_relabel(double* Z, std::size_t n) {
  const std::size_t rows = n - 1;
  std::vector<std::size_t> order(rows);
  std::iota(order.begin(), order.end(), std::size_t{0});
  // numpy's order: NaN after every number (a reference run can merge at NaN; a plain < is then no
  // ordering, and std::stable_sort's behaviour undefined).
  std::stable_sort(order.begin(), order.end(), [Z](std::size_t a, std::size_t b) {
    const double u = Z[4 * a + 2], v = Z[4 * b + 2];
    return u < v || (u == u && v != v);
  });
  std::vector<double> sorted(4 * rows);
  for (std::size_t r = 0; r < rows; ++r) std::copy_n(Z + 4 * order[r], 4, sorted.begin() + static_cast<std::ptrdiff_t>(4 * r));
  std::copy(sorted.begin(), sorted.end(), Z);
  relabel_sorted(Z, n);
}

namespace {

// Union-find over n slots (each row's a and b are slots; slot v holds observation id[v], or v): union by
// size and path halving keep the trees shallow, and each root holds its cluster's id (n + row once
// merged) and count. I: 32 bits where 2n - 1 fits (a third less memory for the random accesses to touch).
template <class I>
void relabel_ids(double* Z, std::size_t n, const std::uint32_t* id) {
  struct Set {
    I parent, count, id;
  };
  std::vector<Set> s(n);
  for (std::size_t v = 0; v < n; ++v) s[v] = {static_cast<I>(v), 1, static_cast<I>(id != nullptr ? id[v] : v)};
  auto find = [&s](std::size_t v) {
    while (s[v].parent != v) v = s[v].parent = s[s[v].parent].parent;
    return v;
  };
  for (std::size_t r = 0; r + 1 < n; ++r) {
    double* row = Z + 4 * r;
    std::size_t a = find(static_cast<std::size_t>(row[0]));
    std::size_t b = find(static_cast<std::size_t>(row[1]));
    if (s[a].count < s[b].count) std::swap(a, b);  // b joins a
    const I count = static_cast<I>(s[a].count + s[b].count);
    row[0] = static_cast<double>(std::min(s[a].id, s[b].id));
    row[1] = static_cast<double>(std::max(s[a].id, s[b].id));
    row[3] = static_cast<double>(count);
    s[b].parent = static_cast<I>(a);
    s[a] = {s[a].parent, count, static_cast<I>(n + r)};
  }
}

}  // namespace

void relabel_sorted(double* Z, std::size_t n, const std::uint32_t* id) {
  if (2 * n - 1 <= std::numeric_limits<std::uint32_t>::max()) return relabel_ids<std::uint32_t>(Z, n, id);
  relabel_ids<std::size_t>(Z, n, id);
}

template <class T>
bool all_finite(const T* D, std::size_t m, int threads) {
  const std::size_t block = std::size_t{1} << 16;
  const auto blocks = static_cast<std::ptrdiff_t>((m + block - 1) / block);
  (void)threads;  // only read by the OpenMP pragma
  int bad = 0;
  // A logical or of per-block flags: the same answer in any order.
#pragma omp parallel for schedule(static) num_threads(threads) reduction(| : bad) if (blocks > 1)
  for (std::ptrdiff_t b = 0; b < blocks; ++b) {
    const std::size_t lo = static_cast<std::size_t>(b) * block;
    const std::size_t hi = std::min(m, lo + block);
    int block_bad = 0;
    // x - x is 0 for finite x and NaN for inf or NaN; this loop vectorises where isfinite would not.
    for (std::size_t k = lo; k < hi; ++k) block_bad |= static_cast<int>(!((D[k] - D[k]) == T(0)));
    bad |= block_bad;
  }
  return bad == 0;
}

void throw_non_finite() { throw std::invalid_argument(kNonFinite); }

template bool all_finite<float>(const float*, std::size_t, int);
template bool all_finite<double>(const double*, std::size_t, int);

namespace {

// Condensed order <-> panel order, panel by panel (see to_panels); `back`: from panel order (in place).
// A null poller: not cancellable.
template <class T>
bool convert_panels(const T* src, T* dst, std::size_t n, int threads, bool back, CancelPoller* poller,
                    const RowSink<T>* rows, SafeRange<T> range) {
  constexpr std::size_t R = kPanel;
  const bool in_place = src == dst;
  const auto panels = static_cast<std::ptrdiff_t>((n + R - 1) / R);
  (void)threads;  // only read by the OpenMP pragma
  int bad = 0;
  ExceptionCatcher catcher;
  // Ctrl-C: the first copy's page faults alone can take seconds on a machine whose free memory is cold.
  ParallelCancel cancel(poller);
  // Panels go to whichever thread is free (dynamic): the first copy's page faults dominate, and a
  // descheduled thread cannot hold the others up. A small matrix is converted faster than a team starts.
  const bool team = condensed_size(n) >= kParallelFrom;
  (void)team;  // only read by the OpenMP pragma
#pragma omp parallel num_threads(threads) reduction(| : bad) if (team)
  {
    std::vector<T> buf;  // one panel, when converting in place
    catcher.run([&] {
      if (in_place) buf.resize(R * n);
    });
#pragma omp for schedule(dynamic, 8)
    for (std::ptrdiff_t sp = 0; sp < panels; ++sp) {
      if (cancel.stopped()) continue;
      const std::size_t ps = static_cast<std::size_t>(sp) * R, pe = std::min(n, ps + R), height = pe - ps;
      const std::size_t base = n * ps - ps * (ps + 1) / 2;  // the panel's segment, the same in both orders
      const std::size_t len = height * (n - 1 - ps) - height * (height - 1) / 2;
      const T* in = src + base;
      if (in_place) {
        if (buf.size() < len) continue;  // allocation failed: rethrown below
        std::copy(in, in + len, buf.data());
        in = buf.data();
      }
      // Row ps + r's value for column j is at start[r] + j in condensed order (start may wrap; the sum
      // is right); `seq` walks the panel order.
      std::size_t start[R];
      std::size_t acc = 0;
      for (std::size_t r = 0; r < height; ++r) {
        if (rows != nullptr) rows->visit(rows->context, ps + r, in + acc, n - 1 - ps - r);
        start[r] = acc - (ps + r + 1);
        acc += n - 1 - ps - r;
      }
      T* out = dst + base;
      std::size_t seq = 0;
      int panel_bad = 0;
      auto move = [&](std::size_t r, std::size_t j) {
        if (back) {
          out[start[r] + j] = in[seq++];
        } else {
          const T v = in[start[r] + j];
          out[seq++] = v;
          panel_bad |= static_cast<int>(!range.contains(v));
        }
      };
      // In Panels<R>::at order: the panel's own triangle column by column, then the full columns.
      for (std::size_t j = ps + 1; j < pe; ++j)
        for (std::size_t r = 0; ps + r < j; ++r) move(r, j);
      if (height == R)
        for (std::size_t j = pe; j < n; ++j)
          for (std::size_t r = 0; r < R; ++r) move(r, j);
      bad |= panel_bad;
      cancel.poll();
    }
  }
  catcher.rethrow();
  cancel.rethrow();
  return bad == 0;
}

}  // namespace

template <class T>
bool to_panels(const T* src, T* dst, std::size_t n, int threads, CancelPoller& poller, const RowSink<T>* rows,
               SafeRange<T> range) {
  return convert_panels(src, dst, n, threads, false, &poller, rows, range);
}

template <class T>
void from_panels(T* D, std::size_t n, int threads) {
  convert_panels<T>(D, D, n, threads, true, nullptr, nullptr, finite_range<T>());
}

template <class T>
void throw_outside_range(const T* D, std::size_t n, int threads) {
  if (!all_finite(D, condensed_size(n), threads)) throw_non_finite();
  throw OutsideSafeRange{};
}

template <class T>
void panels_from(const T* src, T* dst, std::size_t n, int threads, CancelPoller& poller, const RowSink<T>* rows,
                 SafeRange<T> range) {
  if (to_panels(src, dst, n, threads, poller, rows, range)) return;
  // The conversion checked the range as it went (one pass instead of two): a rejected input that was to
  // be overwritten is put back as it was.
  if (src == dst) from_panels(dst, n, threads);
  throw_outside_range(src, n, threads);
}

template bool to_panels<float>(const float*, float*, std::size_t, int, CancelPoller&, const RowSink<float>*,
                               SafeRange<float>);
template bool to_panels<double>(const double*, double*, std::size_t, int, CancelPoller&, const RowSink<double>*,
                                SafeRange<double>);
template void from_panels<float>(float*, std::size_t, int);
template void from_panels<double>(double*, std::size_t, int);
template void panels_from<float>(const float*, float*, std::size_t, int, CancelPoller&, const RowSink<float>*,
                                 SafeRange<float>);
template void panels_from<double>(const double*, double*, std::size_t, int, CancelPoller&, const RowSink<double>*,
                                  SafeRange<double>);
template void throw_outside_range<float>(const float*, std::size_t, int);
template void throw_outside_range<double>(const double*, std::size_t, int);

}  // namespace detail

}  // namespace pixclust
