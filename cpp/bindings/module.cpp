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

  m.def(
      "set_progress_hook",
      [](py::object hook) {
        if (!hook.is_none() && !PyCallable_Check(hook.ptr())) throw py::type_error("hook: expected a callable or None");
        PyObject*& slot = pixclust::bindings::progress_hook();
        PyObject* old = slot;
        slot = hook.is_none() ? nullptr : hook.inc_ref().ptr();
        Py_XDECREF(old);
      },
      py::arg("hook"),
      "Calls hook(share) with the share (0 to 1) of its work that a running linkage kernel has done, at most "
      "every 50 ms, from the thread that called it; None stops it. An error raised by the hook stops the kernel "
      "and propagates.");
  pixclust::bindings::bind_config(m);
  pixclust::bindings::bind_pdist(m);
  pixclust::bindings::bind_dither(m);
  pixclust::bindings::bind_kmeans(m);
  pixclust::bindings::bind_color(m);
  pixclust::bindings::bind_linkage(m);
  pixclust::bindings::bind_linkage_vector(m);
}
