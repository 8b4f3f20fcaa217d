// pixclust._core: the compiled half of pixclust. Private; the public API is the pixclust package.
#include <pybind11/pybind11.h>

#include "common.hpp"

namespace py = pybind11;

namespace pixclust::bindings {
void bind_config(py::module_& m);
void bind_pdist(py::module_& m);
void bind_dither(py::module_& m);
void bind_kmeans(py::module_& m);
void bind_color(py::module_& m);
void bind_linkage(py::module_& m);
void bind_linkage_vector(py::module_& m);
}  // namespace pixclust::bindings

PYBIND11_MODULE(_core, m) {
  m.doc() = "pixclust's C++ kernels (private: use the pixclust package)";
  m.attr("__version__") = PIXCLUST_VERSION_STRING;

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const pixclust::Cancelled&) {
      // The Ctrl-C check already set KeyboardInterrupt; keep it rather than replace it.
      if (!PyErr_Occurred()) PyErr_SetString(PyExc_KeyboardInterrupt, "pixclust: cancelled");
    }
  });

  pixclust::bindings::bind_config(m);
  pixclust::bindings::bind_pdist(m);
  pixclust::bindings::bind_dither(m);
  pixclust::bindings::bind_kmeans(m);
  pixclust::bindings::bind_color(m);
  pixclust::bindings::bind_linkage(m);
  pixclust::bindings::bind_linkage_vector(m);
}
