#include "common.hpp"
#include "pixclust/pdist.hpp"

namespace pixclust::bindings {

namespace {

template <class T>
py::array_t<double> pdist_impl(const py::array& X, int n_threads) {
  const auto x = as_contiguous<T>(X, "X");
  const auto n = static_cast<std::size_t>(x.shape(0));
  const auto d = static_cast<std::size_t>(x.shape(1));
  py::array_t<double> out(static_cast<py::ssize_t>(condensed_size(n)));
  const T* src = x.data();
  double* dst = out.mutable_data();
  const CancelCheck cancel = python_cancel_check();
  {
    // Safe: src and dst belong to arrays this frame keeps alive; no Python object is touched until
    // the GIL is back (the cancel check takes it itself).
    py::gil_scoped_release release;
    pdist_euclidean<T>(src, n, d, dst, n_threads, cancel);
  }
  return out;
}

}  // namespace

void bind_pdist(py::module_& m) {
  m.def(
      "pdist_euclidean",
      [](const py::array& X, int n_threads) -> py::array_t<double> {
        require_ndim(X, "X", 2);
        check_threads(n_threads);
        if (has_dtype<double>(X)) return pdist_impl<double>(X, n_threads);
        if (has_dtype<float>(X)) return pdist_impl<float>(X, n_threads);
        throw py::type_error("X: expected dtype float32 or float64, got " + dtype_name(X));
      },
      py::arg("X"), py::arg("n_threads") = 0,
      "Condensed Euclidean distances of the rows of X (float64 result, SciPy's order and arithmetic).");
}

}  // namespace pixclust::bindings
