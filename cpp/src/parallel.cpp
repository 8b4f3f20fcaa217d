// The load-aware thread count of parallel.hpp.
#include "parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#if defined(__linux__)
#include <dirent.h>
#endif

namespace pixclust::detail {

namespace {

// Runnable tasks of this process (its threads in state R, the caller included; OpenMP's idle workers
// spin for a while after a region and count too), from /proc/self/task; -1 when unknown.
int own_runnable() noexcept {
#if defined(__linux__)
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    char path[300];  // "/proc/self/task/" and a name of up to 255 bytes
    std::snprintf(path, sizeof path, "/proc/self/task/%s/stat", entry->d_name);
    std::FILE* f = std::fopen(path, "r");
    if (f == nullptr) continue;
    char buf[512];
    const std::size_t got = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[got] = '\0';
    // "tid (comm) S ...": the state follows the last ')' (comm may contain spaces and parentheses)
    const char* close = std::strrchr(buf, ')');
    if (close != nullptr && close[1] == ' ' && close[2] == 'R') ++count;
  }
  closedir(dir);
  return count;
#else
  return -1;
#endif
}

// Runnable tasks on the machine that are not ours, from /proc/loadavg; -1 when unknown.
int other_runnable() noexcept {
#if defined(__linux__)
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return -1;
  double l1 = 0, l5 = 0, l15 = 0;
  int running = 0, total = 0;
  const int got = std::fscanf(f, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total);
  std::fclose(f);
  if (got != 5 || running < 1) return -1;
  const int own = own_runnable();
  return own < 0 ? running - 1 : std::max(0, running - std::max(own, 1));
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
  const long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
  if (now - last_ms.load(std::memory_order_relaxed) >= 100) {
    others.store(other_runnable(), std::memory_order_relaxed);
    last_ms.store(now, std::memory_order_relaxed);
  }
  const int busy = others.load(std::memory_order_relaxed);
  if (busy < 0) return wanted;
  const unsigned hw = std::thread::hardware_concurrency();
  const int cpus = hw > 0 ? static_cast<int>(hw) : wanted;
  return std::max(1, std::min(wanted, cpus - busy));
}

}  // namespace pixclust::detail
