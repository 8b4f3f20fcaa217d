#include "common.hpp"
#include "pixclust/config.hpp"

namespace pixclust::bindings {

void bind_config(py::module_& m) {
  m.def("version", [] { return std::string(pixclust::version()); }, "The C++ core's version.");
  m.def(
      "build_info",
      [] {
        const BuildInfo info = pixclust::build_info();
        py::dict d;
        d["version"] = info.version;
        d["compiler"] = info.compiler;
        d["openmp"] = info.openmp;
        d["openmp_spec"] = info.openmp_spec;
        d["openmp_runtime"] = info.openmp_runtime;
        return d;
      },
      "How the core was built: version, compiler, OpenMP.");
  m.def("max_threads", &pixclust::max_threads,
        "Threads a kernel uses by default (omp_get_max_threads(); threadpoolctl limits it).");
}

}  // namespace pixclust::bindings
