// The load-aware thread count of parallel.hpp.
#include "parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace pixclust::detail {

namespace {

// Runnable tasks on the machine, other than the caller, from /proc/loadavg; -1 when unknown.
int other_runnable() noexcept {
#if defined(__linux__)
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return -1;
  double l1 = 0, l5 = 0, l15 = 0;
  int running = 0, total = 0;
  const int got = std::fscanf(f, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total);
  std::fclose(f);
  if (got != 5 || running < 1) return -1;
  return running - 1;  // the caller is running while it reads
#else
  return -1;
#endif
}

}  // namespace

int runnable_threads(int wanted) noexcept {
  if (wanted <= 1) return 1;
  // Cached for 100 ms: the file is cheap to read, but kernels call this once per pass.
  static std::atomic<long long> last_ms{-1000000};
  static std::atomic<int> others{0};
  // Our own helper threads spin for a while after a region and show as runnable: the team size last
  // granted is taken for ours, not for other work.
  static std::atomic<int> last_team{1};
  const long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
  if (now - last_ms.load(std::memory_order_relaxed) >= 100) {
    const int seen = other_runnable();
    others.store(seen < 0 ? -1 : std::max(0, seen - (last_team.load(std::memory_order_relaxed) - 1)),
                 std::memory_order_relaxed);
    last_ms.store(now, std::memory_order_relaxed);
  }
  const int busy = others.load(std::memory_order_relaxed);
  if (busy < 0) return wanted;
  const unsigned hw = std::thread::hardware_concurrency();
  const int cpus = hw > 0 ? static_cast<int>(hw) : wanted;
  const int team = std::max(1, std::min(wanted, cpus - busy));
  last_team.store(team, std::memory_order_relaxed);
  return team;
}

}  // namespace pixclust::detail
