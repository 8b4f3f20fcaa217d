// k-means, k-means++ and the colour index: numpy in, numpy out, the GIL released around every kernel.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <pybind11/stl.h>

#include "common.hpp"
#include "pixclust/color_index.hpp"
#include "pixclust/color_space.hpp"
#include "pixclust/kmeans.hpp"

namespace pixclust::bindings {

namespace {

using Weights = std::optional<py::array>;

// An (n, 3) float64 array of colours through one of the colour-space conversions.
py::array_t<double> convert_colours(const py::array& in, const char* name,
                                    void (*convert)(const double*, std::size_t, double*)) {
  require_ndim(in, name, 2);
  const auto a = as_contiguous<double>(in, name);
  if (a.shape(1) != 3) throw py::value_error(std::string(name) + ": expected 3 columns, got " + std::to_string(a.shape(1)));
  py::array_t<double> out({a.shape(0), py::ssize_t{3}});
  convert(a.data(), static_cast<std::size_t>(a.shape(0)), out.mutable_data());
  return out;
}

// Calls f(T{}) with the C++ type of X's dtype (uint8, uint16, float32, float64).
template <class F>
decltype(auto) dispatch_points(const py::array& X, const char* name, F&& f) {
  if (has_dtype<std::uint8_t>(X)) return f(std::uint8_t{});
  if (has_dtype<std::uint16_t>(X)) return f(std::uint16_t{});
  if (has_dtype<float>(X)) return f(float{});
  if (has_dtype<double>(X)) return f(double{});
  throw py::type_error(std::string(name) + ": expected dtype uint8, uint16, float32 or float64, got " +
                       dtype_name(X));
}

// The weights as a contiguous float64 vector of length n, or an empty array for "all ones".
py::array_t<double, py::array::c_style> check_weights(const Weights& w, py::ssize_t n) {
  if (!w) return py::array_t<double, py::array::c_style>(0);
  require_ndim(*w, "sample_weight", 1);
  auto a = as_contiguous<double>(*w, "sample_weight");
  if (a.shape(0) != n)
    throw py::value_error("sample_weight: expected " + std::to_string(n) + " weights, got " +
                          std::to_string(a.shape(0)));
  const double* p = a.data();
  for (py::ssize_t i = 0; i < n; ++i)
    if (!(p[i] >= 0.0) || !std::isfinite(p[i]))
      throw py::value_error("sample_weight: weights must be finite and >= 0");
  return a;
}

py::array_t<double, py::array::c_style> check_centers(const py::array& C, py::ssize_t d) {
  require_ndim(C, "centers", 2);
  auto c = as_contiguous<double>(C, "centers");
  if (c.shape(0) < 1) throw py::value_error("centers: need at least one centre");
  if (c.shape(1) != d)
    throw py::value_error("centers: expected " + std::to_string(d) + " columns, got " + std::to_string(c.shape(1)));
  return c;
}

KMeansAlgorithm parse_algorithm(const std::string& a) {
  if (a == "lloyd") return KMeansAlgorithm::lloyd;
  if (a == "hamerly") return KMeansAlgorithm::hamerly;
  throw py::value_error("algorithm: expected 'lloyd' or 'hamerly', got '" + a + "'");
}

void require_points(const py::array& X) {
  require_ndim(X, "X", 2);
  if (X.shape(0) < 1) throw py::value_error("X: no points (0 rows)");
  if (X.shape(1) < 1) throw py::value_error("X: points have no coordinates (0 columns)");
}

}  // namespace

void bind_kmeans(py::module_& m) {
  m.def(
      "kmeans_lloyd",
      [](const py::array& X, const Weights& sample_weight, const py::array& centers_init, int max_iter, double tol,
         const std::string& algorithm, int n_threads, bool sample_counts) {
        require_points(X);
        check_threads(n_threads);
        if (max_iter < 1) throw py::value_error("max_iter: must be >= 1, got " + std::to_string(max_iter));
        if (!(tol >= 0.0)) throw py::value_error("tol: must be >= 0");
        KMeansOptions opt;
        opt.max_iter = max_iter;
        opt.tol = tol;
        opt.algorithm = parse_algorithm(algorithm);
        opt.n_threads = n_threads;
        opt.sample_counts = sample_counts;
        return dispatch_points(X, "X", [&](auto tag) -> py::object {
          using T = decltype(tag);
          const auto x = as_contiguous<T>(X, "X");
          const auto n = static_cast<std::size_t>(x.shape(0)), d = static_cast<std::size_t>(x.shape(1));
          const auto w = check_weights(sample_weight, x.shape(0));
          const auto c0 = check_centers(centers_init, x.shape(1));
          const auto k = static_cast<std::size_t>(c0.shape(0));
          py::array_t<double> centers({c0.shape(0), c0.shape(1)});
          std::copy(c0.data(), c0.data() + k * d, centers.mutable_data());
          py::array_t<std::int32_t> labels(x.shape(0));
          const T* xp = x.data();
          const double* wp = w.size() ? w.data() : nullptr;
          double* cp = centers.mutable_data();
          std::int32_t* lp = labels.mutable_data();
          const CancelCheck cancel = python_cancel_check();
          KMeansStats stats;
          {
            // Safe: every pointer belongs to an array this frame keeps alive; no Python object is
            // touched until the GIL is back (the cancel check takes it itself).
            py::gil_scoped_release release;
            stats = kmeans_lloyd<T>(xp, n, d, wp, cp, k, lp, opt, cancel);
          }
          return py::make_tuple(centers, labels, stats.inertia, stats.n_iter, stats.strict_convergence);
        });
      },
      py::arg("X"), py::arg("sample_weight"), py::arg("centers_init"), py::arg("max_iter") = 300,
      py::arg("tol") = 0.0, py::arg("algorithm") = "hamerly", py::arg("n_threads") = 0,
      py::arg("sample_counts") = false,
      "One weighted k-means run from centers_init: (centers, labels, inertia, n_iter, strict_convergence).\n"
      "tol is absolute (on the sum of squared centre shifts). sample_counts: the weights are whole counts of\n"
      "unit samples, and an empty cluster takes one sample of a far point instead of the whole point.");

  m.def(
      "kmeans_plusplus",
      [](const py::array& X, const Weights& sample_weight, std::size_t n_clusters, std::size_t n_local_trials,
         const py::array& uniforms, const std::optional<py::array>& sample_point,
         const Weights& sample_point_weight, int n_threads) {
        require_points(X);
        check_threads(n_threads);
        if (n_clusters < 1) throw py::value_error("n_clusters: must be >= 1");
        if (n_local_trials < 1) throw py::value_error("n_local_trials: must be >= 1");
        require_ndim(uniforms, "uniforms", 1);
        const auto u = as_contiguous<double>(uniforms, "uniforms");
        const auto need = 1 + (n_clusters - 1) * n_local_trials;
        if (static_cast<std::size_t>(u.shape(0)) < need)
          throw py::value_error("uniforms: need " + std::to_string(need) + " numbers, got " + std::to_string(u.shape(0)));
        return dispatch_points(X, "X", [&](auto tag) -> py::object {
          using T = decltype(tag);
          const auto x = as_contiguous<T>(X, "X");
          const auto n = static_cast<std::size_t>(x.shape(0)), d = static_cast<std::size_t>(x.shape(1));
          const auto w = check_weights(sample_weight, x.shape(0));
          py::array_t<std::int32_t, py::array::c_style> sp(0);
          py::array_t<double, py::array::c_style> spw(0);
          SamplingOrder order;
          if (sample_point) {
            require_ndim(*sample_point, "sample_point", 1);
            sp = as_contiguous<std::int32_t>(*sample_point, "sample_point");
            if (sp.shape(0) < 1) throw py::value_error("sample_point: empty");
            // Entries outside [0, len(X)) are refused by the core (ValueError), in its one pass over them.
            spw = check_weights(sample_point_weight, sp.shape(0));
            order.point = sp.data();
            order.weight = spw.size() ? spw.data() : nullptr;
            order.size = static_cast<std::size_t>(sp.shape(0));
          } else if (sample_point_weight) {
            throw py::value_error("sample_point_weight: given without sample_point");
          }
          py::array_t<double> centers({static_cast<py::ssize_t>(n_clusters), x.shape(1)});
          py::array_t<std::int64_t> indices(static_cast<py::ssize_t>(n_clusters));
          const T* xp = x.data();
          const double* wp = w.size() ? w.data() : nullptr;
          const double* up = u.data();
          double* cp = centers.mutable_data();
          std::int64_t* ip = indices.mutable_data();
          const CancelCheck cancel = python_cancel_check();
          std::size_t chosen;
          {
            py::gil_scoped_release release;  // safe: see kmeans_lloyd
            chosen = kmeans_plusplus<T>(xp, n, d, wp, n_clusters, n_local_trials, up, cp, ip, order, n_threads, cancel);
          }
          return py::make_tuple(centers, indices, chosen);
        });
      },
      py::arg("X"), py::arg("sample_weight"), py::arg("n_clusters"), py::arg("n_local_trials"), py::arg("uniforms"),
      py::arg("sample_point") = py::none(), py::arg("sample_point_weight") = py::none(), py::arg("n_threads") = 0,
      "Greedy k-means++: (centers, indices, n_chosen); n_chosen < n_clusters when every point with positive\n"
      "weight is at squared distance 0 from a chosen centre (fewer distinct points than n_clusters, or\n"
      "distances that underflow), and only the first n_chosen rows are set.\n"
      "sample_point (int32) draws along samples (e.g. pixels) mapped to rows of X, with sample_point_weight.");

  m.def(
      "kmeans_assign",
      [](const py::array& X, const Weights& sample_weight, const py::array& centers, int n_threads) {
        require_points(X);
        check_threads(n_threads);
        return dispatch_points(X, "X", [&](auto tag) -> py::object {
          using T = decltype(tag);
          const auto x = as_contiguous<T>(X, "X");
          const auto n = static_cast<std::size_t>(x.shape(0)), d = static_cast<std::size_t>(x.shape(1));
          const auto w = check_weights(sample_weight, x.shape(0));
          const auto c = check_centers(centers, x.shape(1));
          py::array_t<std::int32_t> labels(x.shape(0));
          const T* xp = x.data();
          const double* wp = w.size() ? w.data() : nullptr;
          const double* cp = c.data();
          const auto k = static_cast<std::size_t>(c.shape(0));
          std::int32_t* lp = labels.mutable_data();
          const CancelCheck cancel = python_cancel_check();
          double inertia;
          {
            py::gil_scoped_release release;  // safe: see kmeans_lloyd
            inertia = kmeans_assign<T>(xp, n, d, wp, cp, k, lp, n_threads, cancel);
          }
          return py::make_tuple(labels, inertia);
        });
      },
      py::arg("X"), py::arg("sample_weight"), py::arg("centers"), py::arg("n_threads") = 0,
      "Labels of the nearest centres (lowest index on ties) and the weighted inertia: (labels, inertia).");

  m.def(
      "kmeans_distances",
      [](const py::array& X, const py::array& centers, int n_threads) {
        require_points(X);
        check_threads(n_threads);
        return dispatch_points(X, "X", [&](auto tag) -> py::object {
          using T = decltype(tag);
          const auto x = as_contiguous<T>(X, "X");
          const auto n = static_cast<std::size_t>(x.shape(0)), d = static_cast<std::size_t>(x.shape(1));
          const auto c = check_centers(centers, x.shape(1));
          const auto k = static_cast<std::size_t>(c.shape(0));
          py::array_t<double> out({x.shape(0), c.shape(0)});
          const T* xp = x.data();
          const double* cp = c.data();
          double* op = out.mutable_data();
          const CancelCheck cancel = python_cancel_check();
          {
            py::gil_scoped_release release;  // safe: see kmeans_lloyd
            kmeans_distances<T>(xp, n, d, cp, k, op, n_threads, cancel);
          }
          return out;
        });
      },
      py::arg("X"), py::arg("centers"), py::arg("n_threads") = 0,
      "Euclidean distances of every row of X to every centre, (n, k) float64.");

  m.def(
      "index_colors",
      [](const py::array& pixels, std::size_t channels, int n_threads) {
        require_ndim(pixels, "pixels", 2);
        check_threads(n_threads);
        if (channels < 1 || channels > 4 || static_cast<py::ssize_t>(channels) > pixels.shape(1))
          throw py::value_error("channels: expected 1 to min(4, pixels.shape[1]), got " + std::to_string(channels));
        return dispatch_points(pixels, "pixels", [&](auto tag) -> py::object {
          using T = decltype(tag);
          const auto p = as_contiguous<T>(pixels, "pixels");
          const auto n = static_cast<std::size_t>(p.shape(0)), stride = static_cast<std::size_t>(p.shape(1));
          py::array_t<std::int32_t> pixel_color = heap_array<std::int32_t>({p.shape(0)});
          const T* pp = p.data();
          std::int32_t* out = pixel_color.mutable_data();
          const CancelCheck cancel = python_cancel_check();
          ColorIndex<T> index;
          {
            py::gil_scoped_release release;  // safe: see kmeans_lloyd
            index = index_colors<T>(pp, n, channels, stride, out, n_threads, cancel);
          }
          const auto m_ = static_cast<py::ssize_t>(index.size());
          // The index's own vectors become the arrays (no copy).
          py::array_t<T> colors = vector_array<T>(std::move(index.colors), {m_, static_cast<py::ssize_t>(channels)});
          py::array_t<std::int64_t> counts = vector_array<std::int64_t>(std::move(index.counts), {m_});
          return py::make_tuple(colors, counts, pixel_color);
        });
      },
      py::arg("pixels"), py::arg("channels"), py::arg("n_threads") = 0,
      "Distinct colours of the first `channels` columns of a (n, C) pixel array:\n"
      "(colors (m, channels), counts (m,) int64, pixel_color (n,) int32).");

  m.def(
      "integer_moments",
      [](const py::array& points, const py::array& weights) {
        require_ndim(points, "points", 2);
        require_ndim(weights, "weights", 1);
        const auto w = as_contiguous<double>(weights, "weights");
        if (w.shape(0) != points.shape(0))
          throw py::value_error("weights: expected " + std::to_string(points.shape(0)) + " values, got " +
                                std::to_string(w.shape(0)));
        auto run = [&](auto tag) -> py::object {
          using T = decltype(tag);
          const auto p = as_contiguous<T>(points, "points");
          const auto n = static_cast<std::size_t>(p.shape(0)), d = static_cast<std::size_t>(p.shape(1));
          // Exact in int64 while sum(w) * max^2 < 2^63: the caller checks that bound first.
          const IntegerMoments mo = integer_moments<T>(p.data(), n, d, w.data());
          return py::make_tuple(mo.total, mo.s1, mo.s2);
        };
        if (has_dtype<std::uint8_t>(points)) return run(std::uint8_t{});
        if (has_dtype<std::uint16_t>(points)) return run(std::uint16_t{});
        throw py::type_error("points: expected uint8 or uint16, got " + dtype_name(points));
      },
      py::arg("points"), py::arg("weights"),
      "(sum w, per-column sums of w*x, per-column sums of w*x^2) in exact integers, for uint8/uint16 points\n"
      "with integer weights whose sum times the largest squared value stays below 2^63.");

  m.def(
      "remap_labels",
      [](py::array_t<std::int32_t, py::array::c_style> values, const py::array& table, int n_threads) {
        require_ndim(values, "values", 1);
        require_ndim(table, "table", 1);
        check_threads(n_threads);
        const auto t = as_contiguous<std::int32_t>(table, "table");
        if (!values.writeable()) throw py::value_error("values: must be writeable");
        const auto n = static_cast<std::size_t>(values.shape(0));
        std::int32_t* vp = values.mutable_data();
        const std::int32_t* tp = t.data();
        const auto m_ = static_cast<std::size_t>(t.shape(0));
        {
          py::gil_scoped_release release;  // safe: see kmeans_lloyd
          // entries outside the table: std::invalid_argument (ValueError) before anything is written
          remap_labels(vp, n, tp, m_, n_threads);
        }
      },
      py::arg("values").noconvert(), py::arg("table"), py::arg("n_threads") = 0,
      "values[i] = table[values[i]], in place (int32 arrays).");

  m.def(
      "paint_pixels",
      [](const py::array& labels, const py::array& palette, const py::array& src, int n_threads) {
        require_ndim(labels, "labels", 1);
        require_ndim(palette, "palette", 2);
        require_ndim(src, "src", 2);
        check_threads(n_threads);
        const auto lab = as_contiguous<std::int32_t>(labels, "labels");
        if (src.shape(0) != lab.shape(0))
          throw py::value_error("src: expected " + std::to_string(lab.shape(0)) + " rows, got " + std::to_string(src.shape(0)));
        if (palette.shape(1) < 1 || palette.shape(1) > src.shape(1))
          throw py::value_error("palette: expected 1 to src.shape[1] columns");
        if (!palette.dtype().equal(src.dtype())) throw py::type_error("palette: must have src's dtype");
        const std::int32_t* lp = lab.data();
        const auto k = palette.shape(0);
        bool in_range = false;
        {
          py::gil_scoped_release release;  // safe: see kmeans_lloyd
          in_range = indices_in_range(lp, static_cast<std::size_t>(lab.shape(0)), k, n_threads);
        }
        if (!in_range) throw py::value_error("labels: an entry is not a row of palette");
        return dispatch_points(src, "src", [&](auto tag) -> py::object {
          using T = decltype(tag);
          const auto pal = as_contiguous<T>(palette, "palette");
          const auto s_ = as_contiguous<T>(src, "src");
          py::array_t<T> out = heap_array<T>({s_.shape(0), s_.shape(1)});
          const T* pp = pal.data();
          const T* sp = s_.data();
          T* op = out.mutable_data();
          const auto n = static_cast<std::size_t>(s_.shape(0));
          const auto ch = static_cast<std::size_t>(pal.shape(1)), stride = static_cast<std::size_t>(s_.shape(1));
          {
            py::gil_scoped_release release;  // safe: see kmeans_lloyd
            paint_pixels<T>(lp, n, pp, ch, sp, stride, op, n_threads);
          }
          return out;
        });
      },
      py::arg("labels"), py::arg("palette"), py::arg("src"), py::arg("n_threads") = 0,
      "The quantized pixels: palette[labels] in the first palette.shape[1] columns, src's other columns kept.");

  m.def(
      "srgb_to_lab", [](const py::array& rgb) { return convert_colours(rgb, "rgb", srgb_to_lab); }, py::arg("rgb"),
      "sRGB in [0, 1] (n, 3) -> CIELAB (D65), float64.");
  m.def(
      "lab_to_srgb", [](const py::array& lab) { return convert_colours(lab, "lab", lab_to_srgb); }, py::arg("lab"),
      "CIELAB (D65) (n, 3) -> sRGB in [0, 1] (not clipped), float64.");
}

}  // namespace pixclust::bindings
