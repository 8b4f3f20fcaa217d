#include "pixclust/config.hpp"

#ifdef PIXCLUST_HAVE_OPENMP
#include <omp.h>
#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#define PIXCLUST_HAVE_DLADDR 1
#endif
#endif

namespace pixclust {

std::string_view version() noexcept { return PIXCLUST_VERSION_STRING; }

BuildInfo build_info() {
  BuildInfo info;
  info.version = std::string(version());
  info.compiler = PIXCLUST_CXX_COMPILER;
#ifdef PIXCLUST_HAVE_OPENMP
  info.openmp = true;
  info.openmp_spec = _OPENMP;
#ifdef PIXCLUST_HAVE_DLADDR
  // Which runtime really answers our omp_* calls (a wheel bundles its own copy; several copies may be
  // loaded in one process): ask the dynamic linker where omp_get_max_threads came from.
  Dl_info where{};
  if (dladdr(reinterpret_cast<void*>(&omp_get_max_threads), &where) != 0 && where.dli_fname != nullptr) {
    info.openmp_runtime = where.dli_fname;
  }
#endif
#endif
  return info;
}

int max_threads() noexcept {
#ifdef PIXCLUST_HAVE_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

}  // namespace pixclust
