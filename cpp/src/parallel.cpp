// The load-aware thread count of parallel.hpp.
//
// What other work occupies the CPUs is measured over time, not sampled: over each window of at least
// 100 ms, the CPU time the whole machine spent busy (/proc/stat) less the CPU time this process spent
// (CLOCK_PROCESS_CPUTIME_ID, every thread of ours included, spinning OpenMP workers too), divided by
// the window's length. Instantaneous readings (/proc/loadavg against this process's runnable threads)
// are taken at different instants and mistake our own OpenMP workers, going from spinning to sleeping,
// for other work, so an idle machine would run passes on fewer threads than it has
// (benchmarks/bench_threads.py shows the scaling).
#include "parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

namespace pixclust::detail {

namespace {

struct CpuSample {
  double busy = 0;   // CPU-seconds the machine spent busy (all CPUs, every process)
  double total = 0;  // CPU-seconds elapsed on all CPUs, busy or idle
  double own = 0;    // CPU-seconds spent by this process
};

// False where /proc/stat or the process clock is not available.
bool sample(CpuSample& s) noexcept {
#if defined(__linux__)
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return false;
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice", in clock ticks; guest time
  // is already counted in user.
  unsigned long long v[8] = {};
  const int got = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                              &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (got < 4) return false;
  // Steal (time the hypervisor gave to other guests) is as lost to us as another process's time.
  const double busy = static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
  const double idle = static_cast<double>(v[3] + v[4]);
  timespec ts{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return false;
  // /proc/stat counts in USER_HZ, 100 on every Linux ABI (sysconf(_SC_CLK_TCK)).
  constexpr double kTick = 0.01;
  s.busy = busy * kTick;
  s.total = (busy + idle) * kTick;
  s.own = static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  return true;
#else
  (void)s;
  return false;
#endif
}

}  // namespace

int runnable_threads(int wanted) noexcept {
  if (wanted <= 1) return 1;
  // The measurement state is the measuring caller's (under the mutex); the figure is read by all.
  static std::mutex mutex;
  static CpuSample last;
  static bool have_last = false;
  static std::chrono::steady_clock::time_point last_time;
  static std::atomic<bool> known{false};
  static std::atomic<double> others{0.0};  // CPUs' worth of other work over the last window
  // Looked up once: glibc answers hardware_concurrency() by reading a /sys file, and the linkage
  // kernels ask twice per merge (benchmarks/bench_linkage.py).
  static const int hw = static_cast<int>(std::thread::hardware_concurrency());
  const int cpus = hw > 0 ? hw : wanted;
  {
    // A caller that finds another one measuring uses the last figure.
    std::unique_lock<std::mutex> lock(mutex, std::try_to_lock);
    if (lock.owns_lock()) {
      const auto now = std::chrono::steady_clock::now();
      if (!have_last || now - last_time >= std::chrono::milliseconds(100)) {
        CpuSample s;
        if (sample(s)) {
          if (have_last && s.total > last.total) {
            const double wall = std::chrono::duration<double>(now - last_time).count();
            const double busy_cpus = static_cast<double>(cpus) * (s.busy - last.busy) / (s.total - last.total);
            const double own_cpus = (s.own - last.own) / wall;
            others.store(std::max(0.0, busy_cpus - own_cpus), std::memory_order_relaxed);
            known.store(true, std::memory_order_relaxed);
          }
          last = s;
          last_time = now;
          have_last = true;
        }
      }
    }
  }
  // Until the first window has passed nothing is known: every CPU is offered.
  if (!known.load(std::memory_order_relaxed)) return wanted;
  // Rounded: the tick counts are coarse (a tick per CPU in 100 ms is 0.1 CPU).
  const int free_cpus = static_cast<int>(std::lround(static_cast<double>(cpus) - others.load(std::memory_order_relaxed)));
  return std::max(1, std::min(wanted, free_cpus));
}

double& progress_share() noexcept {
  thread_local double share = -1.0;
  return share;
}

}  // namespace pixclust::detail

double pixclust::kernel_progress() noexcept { return detail::progress_share(); }
