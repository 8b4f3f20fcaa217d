#include <cmath>
#include <string>

#include "common.hpp"
#include "pixclust/linkage.hpp"
#include "pixclust/pdist.hpp"

namespace pixclust::bindings {

namespace {

// n with n*(n-1)/2 == m, or throw: the Python layer has already given SciPy's message, this guards
// direct callers of the private module.
std::size_t observations_for(std::size_t m) {
  auto n = static_cast<std::size_t>(std::ceil(std::sqrt(2.0 * static_cast<double>(m))));
  if (condensed_size(n) != m || n < 2) {
    throw py::value_error("y: the length of a condensed distance matrix must be n*(n-1)/2 for some n >= 2, got " +
                          std::to_string(m));
  }
  return n;
}

template <class T>
py::array_t<double> linkage_impl(const py::array& y, LinkageMethod method, bool overwrite, int n_threads) {
  // Overwriting needs the caller's own buffer; a strided input is copied by as_contiguous, and that
  // private copy may then be overwritten instead.
  auto d = as_contiguous<T>(y, "y");
  const std::size_t n = observations_for(static_cast<std::size_t>(d.size()));
  if (overwrite && !d.writeable()) throw py::value_error("y: overwrite_input=True needs a writeable array");
  py::array_t<double> Z({static_cast<py::ssize_t>(n - 1), py::ssize_t{4}});
  double* z = Z.mutable_data();
  const CancelCheck cancel = python_cancel_check();
  try {
    if (overwrite) {
      T* work = d.mutable_data();
      // Safe: d and Z are kept alive by this frame and no Python object is touched while the GIL is
      // released (the cancel check takes the GIL itself).
      py::gil_scoped_release release;
      linkage_overwrite<T>(work, n, method, z, n_threads, cancel);
    } else {
      const T* src = d.data();
      py::gil_scoped_release release;
      linkage<T>(src, n, method, z, n_threads, cancel);
    }
  } catch (const LinkageMemoryError& e) {
    // The core's message names its C++ functions; a Python caller needs no copy with overwrite_input.
    const std::string message = "pixclust.linkage: cannot allocate the working copy of the condensed distance "
                                "matrix: it needs " + std::to_string(e.bytes()) +
                                " bytes (overwrite_input=True needs none)";
    PyErr_SetString(PyExc_MemoryError, message.c_str());
    throw py::error_already_set();
  }
  return Z;
}

}  // namespace

void bind_linkage(py::module_& m) {
  m.def(
      "linkage",
      [](const py::array& y, const std::string& method, bool overwrite_input, int n_threads) -> py::array_t<double> {
        require_ndim(y, "y", 1);
        check_threads(n_threads);
        const LinkageMethod code = linkage_method_from_name(method);
        if (has_dtype<double>(y)) return linkage_impl<double>(y, code, overwrite_input, n_threads);
        if (has_dtype<float>(y)) return linkage_impl<float>(y, code, overwrite_input, n_threads);
        throw py::type_error("y: expected dtype float32 or float64, got " + dtype_name(y));
      },
      py::arg("y"), py::arg("method"), py::arg("overwrite_input") = false, py::arg("n_threads") = 0,
      "SciPy's (n-1, 4) linkage matrix of a condensed distance vector (float32 or float64). With "
      "overwrite_input the vector itself is the working matrix and is left scrambled.");
}

}  // namespace pixclust::bindings
