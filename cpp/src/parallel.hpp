// Private helpers for the OpenMP kernels: thread-count resolution, exceptions out of parallel regions,
// rate-limited cancellation polls.
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <utility>

#ifdef PIXCLUST_HAVE_OPENMP
#include <omp.h>
#endif

#include "pixclust/cancel.hpp"
#include "pixclust/config.hpp"

namespace pixclust::detail {

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

// Calls the user's check at most every `interval` (the first poll always calls it): cheap enough to
// call after every block of work. Only ever call poll() from the thread that called the kernel.
class CancelPoller {
 public:
  explicit CancelPoller(const CancelCheck& check,
                        std::chrono::milliseconds interval = std::chrono::milliseconds(50))
      : check_(check), interval_(interval), last_(std::chrono::steady_clock::now() - interval) {}

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

}  // namespace pixclust::detail
