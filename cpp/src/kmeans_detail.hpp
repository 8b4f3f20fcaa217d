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

// Calls body(chunk, begin, end) for every chunk in one parallel region. Chunks are handed out
// dynamically: on a busy machine a thread that loses its core leaves its chunks to the others instead
// of holding everyone at the closing barrier, and since every chunk keeps its own partial results
// (reduced later in chunk order), which thread ran it cannot change a bit. The calling thread (thread 0 of the team) polls for Ctrl-C
// between its chunks; on cancellation every thread skips its remaining chunks and Cancelled is thrown
// after the region. body must not throw.
template <class Body>
void for_chunks(std::size_t n, int threads, CancelPoller& poller, Body&& body) {
  const std::size_t chunks = n_chunks(n);
  // A thread per kMinChunksPerThread chunks at most: a small pass is not worth waking a team for.
  const std::size_t useful = std::max<std::size_t>(1, chunks / kMinChunksPerThread);
  const int wanted = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), useful));
  [[maybe_unused]] const int team = ThreadRequest::is_explicit() ? wanted : runnable_threads(wanted);
  ParallelCancel cancel(&poller);
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
  for (std::ptrdiff_t sc = 0; sc < static_cast<std::ptrdiff_t>(chunks); ++sc) {
    if (cancel.stopped()) continue;
    const auto c = static_cast<std::size_t>(sc);
    const std::size_t begin = c * kChunk;
    body(c, begin, std::min(n, begin + kChunk));
    cancel.poll();
  }
  cancel.rethrow();
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
