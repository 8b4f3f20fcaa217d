// Build facts and the thread count: what `pixclust.show_config()` reports.
#pragma once

#include <string>
#include <string_view>

namespace pixclust {

// The library's version, "MAJOR.MINOR.PATCH" (the project version in CMakeLists.txt).
std::string_view version() noexcept;

// How the library was built, and the OpenMP runtime it runs with.
struct BuildInfo {
  std::string version;
  std::string compiler;     // "GNU 12.2.0"
  bool openmp = false;      // built with OpenMP
  int openmp_spec = 0;      // the _OPENMP date (e.g. 201511), 0 without OpenMP
  std::string openmp_runtime;  // path of the loaded OpenMP runtime library, "" if unknown or none
};

// The build facts of this copy of the library (what `pixclust.show_config()` prints).
BuildInfo build_info();

// Threads a kernel uses when asked for 0 ("default"): omp_get_max_threads(), which threadpoolctl and
// OMP_NUM_THREADS control; 1 without OpenMP.
int max_threads() noexcept;

}  // namespace pixclust
