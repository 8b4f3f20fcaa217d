// Private helpers shared by kmeans.cpp and kmeans_init.cpp: fixed-size chunks (the unit of every sum,
// so that results do not depend on the thread count), squared distances with the dimension known at
// compile time for the common pixel cases, and the loop that runs chunks in parallel with cancellation
// polls from the calling thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "parallel.hpp"  // (and omp.h)

namespace pixclust::detail {

// Points per chunk. Every sum over points is a sum of per-chunk partial sums, each accumulated
// sequentially and reduced in chunk order: the same bits for any thread count.
constexpr std::size_t kChunk = 4096;

// Chunks a thread should have before a pass is split (16 chunks = 64k points, a fraction of a
// millisecond of work). Each parallel region ends in a join that waits for every thread of the team to be
// scheduled; on a busy machine that wait is a scheduler time slice, so the team is also cut to the CPUs
// that are idle (runnable_threads).
constexpr std::size_t kMinChunksPerThread = 16;

inline std::size_t n_chunks(std::size_t n) noexcept { return (n + kChunk - 1) / kChunk; }

// Whether w is a whole number in [0, 2^53) (false for NaN). Without SSE4.1 in the baseline, std::floor is
// a library call; the round trip through int64 is two instructions.
inline bool is_whole_weight(double w) noexcept {
  return w >= 0.0 && w < 9007199254740992.0 && w == static_cast<double>(static_cast<std::int64_t>(w));
}

// Squared Euclidean distance of point x to centre c, summed in coordinate order in double.
// D > 0 fixes the dimension at compile time (d is then ignored); D == 0 uses d.
template <std::size_t D, class T>
inline double sqdist(const T* x, const double* c, std::size_t d) noexcept {
  const std::size_t dim = D > 0 ? D : d;
  double s = 0.0;
  for (std::size_t j = 0; j < dim; ++j) {
    const double diff = static_cast<double>(x[j]) - c[j];
    s += diff * diff;
  }
  return s;
}

// Calls body(item) for items 0 .. items-1 in one parallel region, on a thread per min_per_thread items
// at most (a small pass is not worth waking a team for). Items are handed out dynamically: on a busy
// machine a thread that loses its core leaves its items to the others instead of holding everyone at
// the closing barrier, and since every item keeps its own partial results (reduced later in item
// order), which thread ran it cannot change a bit. The calling thread (thread 0 of the team) polls for
// Ctrl-C between its items; on cancellation every thread skips its remaining items and Cancelled is
// thrown after the region. body must not throw.
template <class Body>
void for_items(std::size_t items, std::size_t min_per_thread, int threads, CancelPoller& poller, Body&& body) {
  const std::size_t useful = std::max<std::size_t>(1, items / std::max<std::size_t>(1, min_per_thread));
  const int wanted = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), useful));
  [[maybe_unused]] const int team = ThreadRequest::is_explicit() ? wanted : runnable_threads(wanted);
  ParallelCancel cancel(&poller);
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
  for (std::ptrdiff_t si = 0; si < static_cast<std::ptrdiff_t>(items); ++si) {
    if (cancel.stopped()) continue;
    body(static_cast<std::size_t>(si));
    cancel.poll();
  }
  cancel.rethrow();
}

// Calls body(chunk, begin, end) for every chunk of n points (for_items over the chunks).
template <class Body>
void for_chunks(std::size_t n, int threads, CancelPoller& poller, Body&& body) {
  for_items(n_chunks(n), kMinChunksPerThread, threads, poller, [&](std::size_t c) {
    const std::size_t begin = c * kChunk;
    body(c, begin, std::min(n, begin + kChunk));
  });
}

// Runs f(std::integral_constant<std::size_t, D>) with D = d for the pixel dimensions 1-4, else D = 0.
template <class F>
decltype(auto) dispatch_dim(std::size_t d, F&& f) {
  switch (d) {
    case 1: return f(std::integral_constant<std::size_t, 1>{});
    case 2: return f(std::integral_constant<std::size_t, 2>{});
    case 3: return f(std::integral_constant<std::size_t, 3>{});
    case 4: return f(std::integral_constant<std::size_t, 4>{});
    default: return f(std::integral_constant<std::size_t, 0>{});
  }
}

}  // namespace pixclust::detail
