// k-means and k-means++: numpy in, numpy out, the GIL released around every kernel; one helper
// (with_points) checks and dispatches the points for every binding.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <pybind11/stl.h>

#include "common.hpp"
#include "pixclust/kmeans.hpp"

namespace pixclust::bindings {

namespace {

using Weights = std::optional<py::array>;

// Points as the kernels take them: X (n, d) C-contiguous in its own dtype, the optional weights.
template <class T>
struct Points {
  py::array_t<T, py::array::c_style> x;
  py::array_t<double, py::array::c_style> w;  // empty: all 1
  std::size_t n, d;
  const T* data() const { return x.data(); }
  const double* weights() const { return w.size() ? w.data() : nullptr; }
};

// The weights as a contiguous float64 vector of length n, or an empty array for "all ones". Only what
// memory safety needs is checked here; the values are the Python layer's to check (KMeans._check_weight).
py::array_t<double, py::array::c_style> check_weights(const Weights& w, py::ssize_t n, const char* name) {
  if (!w) return py::array_t<double, py::array::c_style>(0);
  require_ndim(*w, name, 1);
  auto a = as_contiguous<double>(*w, name);
  if (a.shape(0) != n)
    throw py::value_error(std::string(name) + ": expected " + std::to_string(n) + " weights, got " +
                          std::to_string(a.shape(0)));
  return a;
}

// The one place the k-means bindings check their points: X must be a non-empty 2-D array of uint8, uint16,
// float32 or float64 (never converted), sample_weight a float64 vector of len(X) or None. Calls
// f(Points<T>) with T the dtype's C++ type.
template <class F>
py::object with_points(const py::array& X, const Weights& sample_weight, F&& f) {
  require_ndim(X, "X", 2);
  if (X.shape(0) < 1) throw py::value_error("X: no points (0 rows)");
  if (X.shape(1) < 1) throw py::value_error("X: points have no coordinates (0 columns)");
  auto run = [&](auto tag) -> py::object {
    using T = decltype(tag);
    Points<T> p{as_contiguous<T>(X, "X"), check_weights(sample_weight, X.shape(0), "sample_weight"),
                static_cast<std::size_t>(X.shape(0)), static_cast<std::size_t>(X.shape(1))};
    return f(p);
  };
  if (has_dtype<std::uint8_t>(X)) return run(std::uint8_t{});
  if (has_dtype<std::uint16_t>(X)) return run(std::uint16_t{});
  if (has_dtype<float>(X)) return run(float{});
  if (has_dtype<double>(X)) return run(double{});
  throw py::type_error("X: expected dtype uint8, uint16, float32 or float64, got " + dtype_name(X));
}

py::array_t<double, py::array::c_style> check_centers(const py::array& C, std::size_t d) {
  require_ndim(C, "centers", 2);
  auto c = as_contiguous<double>(C, "centers");
  if (c.shape(0) < 1) throw py::value_error("centers: need at least one centre");
  if (static_cast<std::size_t>(c.shape(1)) != d)
    throw py::value_error("centers: expected " + std::to_string(d) + " columns, got " + std::to_string(c.shape(1)));
  return c;
}

KMeansAlgorithm parse_algorithm(const std::string& a) {
  if (a == "lloyd") return KMeansAlgorithm::lloyd;
  if (a == "hamerly") return KMeansAlgorithm::hamerly;
  throw py::value_error("algorithm: expected 'lloyd' or 'hamerly', got '" + a + "'");
}

// max_iter and tol are checked by the Python layer (and, for C++ callers, by the core): not here.
py::object lloyd(const py::array& X, const Weights& sample_weight, const py::array& centers_init, int max_iter,
                 double tol, const std::string& algorithm, int n_threads, bool sample_counts) {
  check_threads(n_threads);
  KMeansOptions opt;
  opt.max_iter = max_iter;
  opt.tol = tol;
  opt.algorithm = parse_algorithm(algorithm);
  opt.n_threads = n_threads;
  opt.sample_counts = sample_counts;
  return with_points(X, sample_weight, [&](const auto& p) -> py::object {
    using T = typename std::decay_t<decltype(p.x)>::value_type;
    const auto c0 = check_centers(centers_init, p.d);
    const auto k = static_cast<std::size_t>(c0.shape(0));
    py::array_t<double> centers({c0.shape(0), c0.shape(1)});
    std::copy(c0.data(), c0.data() + k * p.d, centers.mutable_data());
    py::array_t<std::int32_t> labels(static_cast<py::ssize_t>(p.n));
    double* cp = centers.mutable_data();
    std::int32_t* lp = labels.mutable_data();
    const KMeansStats stats = without_gil([&, cancel = python_cancel_check()] {
      return kmeans_lloyd<T>(p.data(), p.n, p.d, p.weights(), cp, k, lp, opt, cancel);
    });
    return py::make_tuple(centers, labels, stats.inertia, stats.n_iter, stats.strict_convergence);
  });
}

py::object plusplus(const py::array& X, const Weights& sample_weight, std::size_t n_clusters,
                    std::size_t n_local_trials, const py::array& uniforms, const std::optional<py::array>& sample_point,
                    const Weights& sample_point_weight, int n_threads) {
  check_threads(n_threads);
  // The number of uniforms read follows from these two: checked here, where the buffer is.
  if (n_clusters < 1) throw py::value_error("n_clusters: must be >= 1");
  if (n_local_trials < 1) throw py::value_error("n_local_trials: must be >= 1");
  require_ndim(uniforms, "uniforms", 1);
  const auto u = as_contiguous<double>(uniforms, "uniforms");
  const auto need = 1 + (n_clusters - 1) * n_local_trials;
  if (static_cast<std::size_t>(u.shape(0)) < need)
    throw py::value_error("uniforms: need " + std::to_string(need) + " numbers, got " + std::to_string(u.shape(0)));
  if (!sample_point && sample_point_weight) throw py::value_error("sample_point_weight: given without sample_point");
  py::array_t<std::int32_t, py::array::c_style> sp(0);
  py::array_t<double, py::array::c_style> spw(0);
  SamplingOrder order;
  if (sample_point) {
    require_ndim(*sample_point, "sample_point", 1);
    sp = as_contiguous<std::int32_t>(*sample_point, "sample_point");
    if (sp.shape(0) < 1) throw py::value_error("sample_point: empty");
    // Entries outside [0, len(X)) are refused by the core (ValueError), in its one pass over them.
    spw = check_weights(sample_point_weight, sp.shape(0), "sample_point_weight");
    order.point = sp.data();
    order.weight = spw.size() ? spw.data() : nullptr;
    order.size = static_cast<std::size_t>(sp.shape(0));
  }
  return with_points(X, sample_weight, [&](const auto& p) -> py::object {
    using T = typename std::decay_t<decltype(p.x)>::value_type;
    py::array_t<double> centers({static_cast<py::ssize_t>(n_clusters), static_cast<py::ssize_t>(p.d)});
    py::array_t<std::int64_t> indices(static_cast<py::ssize_t>(n_clusters));
    double* cp = centers.mutable_data();
    std::int64_t* ip = indices.mutable_data();
    const std::size_t chosen = without_gil([&, cancel = python_cancel_check()] {
      return kmeans_plusplus<T>(p.data(), p.n, p.d, p.weights(), n_clusters, n_local_trials, u.data(), cp, ip, order,
                                n_threads, cancel);
    });
    return py::make_tuple(centers, indices, chosen);
  });
}

py::object assign(const py::array& X, const Weights& sample_weight, const py::array& centers, int n_threads) {
  check_threads(n_threads);
  return with_points(X, sample_weight, [&](const auto& p) -> py::object {
    using T = typename std::decay_t<decltype(p.x)>::value_type;
    const auto c = check_centers(centers, p.d);
    py::array_t<std::int32_t> labels(static_cast<py::ssize_t>(p.n));
    std::int32_t* lp = labels.mutable_data();
    const double inertia = without_gil([&, cancel = python_cancel_check()] {
      return kmeans_assign<T>(p.data(), p.n, p.d, p.weights(), c.data(), static_cast<std::size_t>(c.shape(0)), lp,
                              n_threads, cancel);
    });
    return py::make_tuple(labels, inertia);
  });
}

py::object distances(const py::array& X, const py::array& centers, int n_threads) {
  check_threads(n_threads);
  return with_points(X, std::nullopt, [&](const auto& p) -> py::object {
    using T = typename std::decay_t<decltype(p.x)>::value_type;
    const auto c = check_centers(centers, p.d);
    py::array_t<double> out({static_cast<py::ssize_t>(p.n), c.shape(0)});
    double* op = out.mutable_data();
    without_gil([&, cancel = python_cancel_check()] {
      kmeans_distances<T>(p.data(), p.n, p.d, c.data(), static_cast<std::size_t>(c.shape(0)), op, n_threads, cancel);
    });
    return out;
  });
}

}  // namespace

void bind_kmeans(py::module_& m) {
  m.def("kmeans_lloyd", &lloyd, py::arg("X"), py::arg("sample_weight"), py::arg("centers_init"),
        py::arg("max_iter") = 300, py::arg("tol") = 0.0, py::arg("algorithm") = "hamerly", py::arg("n_threads") = 0,
        py::arg("sample_counts") = false,
        "One weighted k-means run from centers_init: (centers, labels, inertia, n_iter, strict_convergence).\n"
        "tol is absolute (on the sum of squared centre shifts). sample_counts: the weights are whole counts of\n"
        "unit samples, and an empty cluster takes one sample of a far point instead of the whole point.");
  m.def("kmeans_plusplus", &plusplus, py::arg("X"), py::arg("sample_weight"), py::arg("n_clusters"),
        py::arg("n_local_trials"), py::arg("uniforms"), py::arg("sample_point") = py::none(),
        py::arg("sample_point_weight") = py::none(), py::arg("n_threads") = 0,
        "Greedy k-means++: (centers, indices, n_chosen); n_chosen < n_clusters when every point with positive\n"
        "weight is at squared distance 0 from a chosen centre (fewer distinct points than n_clusters, or\n"
        "distances that underflow), and only the first n_chosen rows are set.\n"
        "sample_point (int32) draws along samples (e.g. pixels) mapped to rows of X, with sample_point_weight.");
  m.def("kmeans_assign", &assign, py::arg("X"), py::arg("sample_weight"), py::arg("centers"), py::arg("n_threads") = 0,
        "Labels of the nearest centres (lowest index on ties) and the weighted inertia: (labels, inertia).");
  m.def("kmeans_distances", &distances, py::arg("X"), py::arg("centers"), py::arg("n_threads") = 0,
        "Euclidean distances of every row of X to every centre, (n, k) float64.");
}

}  // namespace pixclust::bindings
