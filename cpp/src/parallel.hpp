// Private helpers for the OpenMP kernels: thread-count resolution, exceptions out of parallel regions,
// rate-limited cancellation polls, and the loop over fixed-size chunks of points that the k-means and
// colour kernels share.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <mutex>
#include <type_traits>
#include <utility>

#ifdef PIXCLUST_HAVE_OPENMP
#include <omp.h>
#endif

#include "pixclust/cancel.hpp"
#include "pixclust/config.hpp"

namespace pixclust::detail {

// The calling thread's number in its OpenMP team (0 outside a region or without OpenMP): in for_items,
// below max_team().
inline std::size_t thread_index() noexcept {
#ifdef PIXCLUST_HAVE_OPENMP
  return static_cast<std::size_t>(omp_get_thread_num());
#else
  return 0;
#endif
}

inline int resolve_threads(int requested) noexcept {
  if (requested > 0) return requested;
  return max_threads();
}

// How many of `wanted` threads can run right now: `wanted` less the CPUs that other work occupied over
// the last 100 ms or more (Linux: the machine's busy time in /proc/stat less this process's CPU time;
// see parallel.cpp), at least 1. A short
// parallel pass ends in a join that waits until every thread of the team has been scheduled; on a machine
// whose CPUs are busy, that wait is a scheduler time slice, longer than the pass. Speed only: callers
// must not let a result depend on the thread count. Elsewhere than Linux it returns `wanted`.
int runnable_threads(int wanted) noexcept;

// Whether the kernel running on this thread was given an explicit thread count, which is then obeyed
// as given (tests compare teams of 1, 2 and 4), or left it to the default, which short passes may cut
// to the idle CPUs (runnable_threads). Set at a kernel's entry, restored at its exit.
class ThreadRequest {
 public:
  explicit ThreadRequest(int requested) noexcept : saved_(flag()) { flag() = requested > 0; }
  ~ThreadRequest() { flag() = saved_; }
  ThreadRequest(const ThreadRequest&) = delete;
  ThreadRequest& operator=(const ThreadRequest&) = delete;
  static bool is_explicit() noexcept { return flag(); }

 private:
  static bool& flag() noexcept {
    static thread_local bool value = false;
    return value;
  }
  bool saved_;
};

// An exception must never leave an OpenMP region (that terminates the process). Run the body through
// `run`, which keeps the first exception; rethrow() after the region.
class ExceptionCatcher {
 public:
  template <class F>
  void run(F&& f) noexcept {
    try {
      std::forward<F>(f)();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
};

// What kernel_progress() returns on this thread (the poller of the running kernel sets it): a function
// over a thread_local in parallel.cpp, since UBSan saw an extern thread_local here as a null pointer in
// the sanitized tests/cpp/test_parallel (tests/test_cpp.py).
double& progress_share() noexcept;

// Calls the user's check at most every `interval` (the first poll always calls it): cheap enough to
// call after every block of work. Only ever call poll() from the thread that called the kernel. While
// it lives, kernel_progress() reports the share given to the latest poll(share), -1 before any; the
// first share and the whole (1) always reach the check, so that a bar starts and ends where it should.
class CancelPoller {
 public:
  explicit CancelPoller(const CancelCheck& check,
                        std::chrono::milliseconds interval = std::chrono::milliseconds(50))
      : check_(check), interval_(interval), last_(std::chrono::steady_clock::now() - interval),
        outer_share_(progress_share()) {
    progress_share() = -1.0;
  }
  ~CancelPoller() { progress_share() = outer_share_; }  // back to the calling kernel's share, or -1
  CancelPoller(const CancelPoller&) = delete;
  CancelPoller& operator=(const CancelPoller&) = delete;

  // poll(), having done `share` (0 to 1) of the kernel's work.
  void poll(double share) {
    double& now = progress_share();
    const bool edge = now < 0.0 || (share >= 1.0 && now < 1.0);
    now = share;
    if (edge) last_ = std::chrono::steady_clock::now() - interval_;
    poll();
  }

  void poll() {
    if (!check_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < interval_) return;
    last_ = now;
    if (check_()) throw Cancelled();
  }

 private:
  const CancelCheck& check_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_;
  double outer_share_;
};

// Ctrl-C inside a parallel loop. The thread that called the kernel (thread 0 of the team) polls after
// each of its iterations; once the user's check fires, every thread skips the iterations it has not
// started, and rethrow() after the region throws Cancelled. A null poller never cancels.
class ParallelCancel {
 public:
  explicit ParallelCancel(CancelPoller* poller) noexcept : poller_(poller) {}
  // At the top of an iteration: skip it?
  bool stopped() const noexcept { return stop_.load(std::memory_order_relaxed); }
  // After an iteration, on any thread (only the caller polls).
  void poll() noexcept {
    if (poller_ == nullptr) return;
#ifdef PIXCLUST_HAVE_OPENMP
    if (omp_get_thread_num() != 0) return;
#endif
    catcher_.run([&] {
      try {
        poller_->poll();
      } catch (...) {
        stop_.store(true, std::memory_order_relaxed);
        throw;
      }
    });
  }
  void rethrow() const { catcher_.rethrow(); }

 private:
  CancelPoller* poller_;
  std::atomic<bool> stop_{false};
  ExceptionCatcher catcher_;
};

// Points per chunk of the k-means and colour kernels. Every sum over points is a sum of per-chunk
// partial sums, each accumulated sequentially and reduced in chunk order: the same bits for any thread
// count. (The linkage kernels have their own chunk, linkage_common.hpp's kChunk.)
constexpr std::size_t kPointsPerChunk = 4096;

// Chunks a thread should have before a pass is split (64k points, a fraction of a millisecond of
// work): each parallel region ends in a join that waits for every thread of the team to be scheduled,
// which on a busy machine is a scheduler time slice; the team is also cut to the idle CPUs
// (runnable_threads).
constexpr std::size_t kMinChunksPerThread = 16;

inline std::size_t n_chunks(std::size_t n) noexcept { return (n + kPointsPerChunk - 1) / kPointsPerChunk; }

// The most threads for_items(items, min_per_thread, threads, ...) runs: thread_index() stays below it.
inline std::size_t max_team(std::size_t items, std::size_t min_per_thread, int threads) noexcept {
  const std::size_t useful = std::max<std::size_t>(1, items / std::max<std::size_t>(1, min_per_thread));
  return std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), useful);
}

// Calls body(item) for items 0 .. items-1 in one parallel region, on a thread per min_per_thread items
// at most (a small pass is not worth waking a team for). Items are handed out dynamically: on a busy
// machine a thread that loses its core leaves its items to the others instead of holding everyone at
// the closing barrier, and since every item keeps its own partial results (reduced later in item
// order), which thread ran it cannot change a bit. (Exact integer sums are the exception: an item may
// add them into its thread's row, thread_index(), since they come out the same in any order.) The
// calling thread (thread 0 of the team) polls for Ctrl-C between its items; on cancellation every
// thread skips its remaining items and Cancelled is thrown after the region. An exception from body
// (std::bad_alloc from a per-item buffer) likewise stops the loop and is rethrown after it, never
// inside the region (tests/cpp/test_parallel.cpp).
template <class Body>
void for_items(std::size_t items, std::size_t min_per_thread, int threads, CancelPoller& poller, Body&& body) {
  const int wanted = static_cast<int>(max_team(items, min_per_thread, threads));
  [[maybe_unused]] const int team = ThreadRequest::is_explicit() ? wanted : runnable_threads(wanted);
  ParallelCancel cancel(&poller);
  ExceptionCatcher failure;
  std::atomic<bool> failed{false};
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
  for (std::ptrdiff_t si = 0; si < static_cast<std::ptrdiff_t>(items); ++si) {
    if (cancel.stopped() || failed.load(std::memory_order_relaxed)) continue;
    failure.run([&] {
      try {
        body(static_cast<std::size_t>(si));
      } catch (...) {
        failed.store(true, std::memory_order_relaxed);
        throw;
      }
    });
    cancel.poll();
  }
  failure.rethrow();
  cancel.rethrow();
}

// Calls body(chunk, begin, end) for every chunk of n points (for_items over the chunks).
template <class Body>
void for_chunks(std::size_t n, int threads, CancelPoller& poller, Body&& body) {
  for_items(n_chunks(n), kMinChunksPerThread, threads, poller, [&](std::size_t c) {
    const std::size_t begin = c * kPointsPerChunk;
    body(c, begin, std::min(n, begin + kPointsPerChunk));
  });
}

// Runs f(std::integral_constant<std::size_t, D>) with D = d for the pixel dimensions 1-4, else D = 0:
// the kernels' inner loops get the pixel widths at compile time.
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
