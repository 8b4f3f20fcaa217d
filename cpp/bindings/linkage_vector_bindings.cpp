#include <optional>
#include <string>

#include "common.hpp"
#include "pixclust/linkage_vector.hpp"

namespace pixclust::bindings {

namespace {

// Checks only what memory safety needs (dtype, shape, lengths): the Python layer validates the values.
template <class T>
py::array_t<double> linkage_vector_impl(const py::array& X, LinkageMethod method, VectorMetric metric,
                                        const py::object& sample_weight, int n_threads) {
  auto x = as_contiguous<T>(X, "X");
  const auto n = static_cast<std::size_t>(x.shape(0)), d = static_cast<std::size_t>(x.shape(1));
  std::optional<py::array_t<double, py::array::c_style>> w;
  if (!sample_weight.is_none()) {
    if (!py::isinstance<py::array>(sample_weight)) throw py::type_error("sample_weight: expected None or a numpy array");
    const auto weights = py::reinterpret_borrow<py::array>(sample_weight);
    require_ndim(weights, "sample_weight", 1);
    w = as_contiguous<double>(weights, "sample_weight");
    if (static_cast<std::size_t>(w->shape(0)) != n) {
      throw py::value_error("sample_weight: expected " + std::to_string(n) + " values, got " +
                            std::to_string(w->shape(0)));
    }
  }
  const py::ssize_t rows = n > 0 ? static_cast<py::ssize_t>(n - 1) : 0;
  py::array_t<double> Z({rows, py::ssize_t{4}});
  double* z = Z.mutable_data();
  const T* data = x.data();
  const double* weights = w ? w->data() : nullptr;
  const CancelCheck cancel = python_cancel_check();
  // Safe: x, w and Z are kept alive by this frame and no Python object is touched while the GIL is
  // released (the cancel check takes the GIL itself).
  without_gil([&] { linkage_vector<T>(data, n, d, method, metric, weights, z, n_threads, cancel); });
  return Z;
}

}  // namespace

void bind_linkage_vector(py::module_& m) {
  m.def(
      "linkage_vector",
      [](const py::array& X, const std::string& method, const std::string& metric,
         const py::object& sample_weight, int n_threads) -> py::array_t<double> {
        require_ndim(X, "X", 2);
        check_threads(n_threads);
        const LinkageMethod code = linkage_method_from_name(method);
        const VectorMetric metric_code = vector_metric_from_name(metric);
        if (has_dtype<double>(X)) return linkage_vector_impl<double>(X, code, metric_code, sample_weight, n_threads);
        if (has_dtype<float>(X)) return linkage_vector_impl<float>(X, code, metric_code, sample_weight, n_threads);
        throw py::type_error("X: expected dtype float32 or float64, got " + dtype_name(X));
      },
      py::arg("X"), py::arg("method"), py::arg("metric"), py::arg("sample_weight") = py::none(),
      py::arg("n_threads") = 0,
      "SciPy's (n-1, 4) linkage matrix of an (n, d) float32 or float64 array of observations, without the "
      "distance matrix (single, ward, centroid, median); sample_weight: None or n float64 whole counts.");
}

}  // namespace pixclust::bindings
