// The colour helpers of quantization: the colour index, exact moments, label remapping, painting and the
// colour-space conversions. numpy in, numpy out, the GIL released around every kernel.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/stl.h>

#include "common.hpp"
#include "pixclust/color_index.hpp"
#include "pixclust/color_space.hpp"

namespace pixclust::bindings {

namespace {

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

// The quantized pixels: the labels are checked against the palette in one pass before any is read. src
// None: the palette covers every channel, so nothing would be read from a source (a lazily painted image).
py::object paint(const py::array& labels, const py::array& palette, const py::object& src_or_none, int n_threads) {
  require_ndim(labels, "labels", 1);
  require_ndim(palette, "palette", 2);
  check_threads(n_threads);
  const auto lab = as_contiguous<std::int32_t>(labels, "labels");
  const bool has_src = !src_or_none.is_none();
  const py::array src = has_src ? py::cast<py::array>(src_or_none) : palette;  // without src: palette's dtype
  if (has_src) {
    require_ndim(src, "src", 2);
    if (src.shape(0) != lab.shape(0))
      throw py::value_error("src: expected " + std::to_string(lab.shape(0)) + " rows, got " + std::to_string(src.shape(0)));
  }
  const py::ssize_t width = has_src ? src.shape(1) : palette.shape(1);
  if (palette.shape(1) < 1 || palette.shape(1) > width)
    throw py::value_error("palette: expected 1 to src.shape[1] columns");
  if (!palette.dtype().equal(src.dtype())) throw py::type_error("palette: must have src's dtype");
  const std::int32_t* lp = lab.data();
  const auto k = palette.shape(0);
  bool in_range = false;
  {
    py::gil_scoped_release release;  // safe: see without_gil (common.hpp)
    in_range = indices_in_range(lp, static_cast<std::size_t>(lab.shape(0)), k, n_threads);
  }
  if (!in_range) throw py::value_error("labels: an entry is not a row of palette");
  return dispatch_points(src, "src", [&](auto tag) -> py::object {
    using T = decltype(tag);
    const auto pal = as_contiguous<T>(palette, "palette");
    py::array_t<T, py::array::c_style> s_;
    if (has_src) s_ = as_contiguous<T>(src, "src");
    py::array_t<T> out = heap_array<T>({lab.shape(0), width});
    const T* pp = pal.data();
    const T* sp = has_src ? s_.data() : nullptr;
    T* op = out.mutable_data();
    const auto n = static_cast<std::size_t>(lab.shape(0));
    const auto ch = static_cast<std::size_t>(pal.shape(1)), stride = static_cast<std::size_t>(width);
    {
      py::gil_scoped_release release;  // safe: see without_gil (common.hpp)
      paint_pixels<T>(lp, n, pp, ch, sp, stride, op, n_threads);
    }
    return out;
  });
}

// table[values] as bytes: a palette image's index map, without the int32 label map in between.
py::array remap_bytes(const py::array& values, const py::array& table, int n_threads) {
  require_ndim(values, "values", 1);
  require_ndim(table, "table", 1);
  check_threads(n_threads);
  const auto v = as_contiguous<std::int32_t>(values, "values");
  const auto t = as_contiguous<std::int32_t>(table, "table");
  const auto n = static_cast<std::size_t>(v.shape(0));
  py::array_t<std::uint8_t> out(static_cast<py::ssize_t>(n));
  const std::int32_t* vp = v.data();
  const std::int32_t* tp = t.data();
  std::uint8_t* op = out.mutable_data();
  const auto m_ = static_cast<std::size_t>(t.shape(0));
  {
    py::gil_scoped_release release;  // safe: see without_gil (common.hpp)
    remap_labels_u8(vp, n, tp, m_, op, n_threads);  // entries out of range: ValueError, nothing written
  }
  return out;
}

// The union of two sorted colour indexes (uint8 or uint16 colours, int64 counts) of one dtype.
py::tuple merge_counts(const py::array& colors_a, const py::array& counts_a, const py::array& colors_b,
                       const py::array& counts_b) {
  require_ndim(colors_a, "colors_a", 2);
  require_ndim(colors_b, "colors_b", 2);
  require_ndim(counts_a, "counts_a", 1);
  require_ndim(counts_b, "counts_b", 1);
  if (colors_a.shape(1) != colors_b.shape(1) || colors_a.shape(1) < 1)
    throw py::value_error("colors_b: expected " + std::to_string(colors_a.shape(1)) + " columns (as colors_a), got " +
                          std::to_string(colors_b.shape(1)));
  if (!colors_a.dtype().equal(colors_b.dtype())) throw py::type_error("colors_b: must have colors_a's dtype");
  const auto wa = as_contiguous<std::int64_t>(counts_a, "counts_a");
  const auto wb = as_contiguous<std::int64_t>(counts_b, "counts_b");
  if (wa.shape(0) != colors_a.shape(0)) throw py::value_error("counts_a: expected one count per row of colors_a");
  if (wb.shape(0) != colors_b.shape(0)) throw py::value_error("counts_b: expected one count per row of colors_b");
  auto run = [&](auto tag) -> py::tuple {
    using T = decltype(tag);
    const auto a = as_contiguous<T>(colors_a, "colors_a");
    const auto b = as_contiguous<T>(colors_b, "colors_b");
    const auto channels = static_cast<std::size_t>(a.shape(1));
    ColorIndex<T> merged;
    {
      py::gil_scoped_release release;  // safe: see without_gil (common.hpp)
      // unsorted input or a negative count: std::invalid_argument (ValueError) before merging
      merged = merge_color_counts<T>(a.data(), wa.data(), static_cast<std::size_t>(a.shape(0)), b.data(), wb.data(),
                                     static_cast<std::size_t>(b.shape(0)), channels);
    }
    const auto m_ = static_cast<py::ssize_t>(merged.size());
    return py::make_tuple(vector_array<T>(std::move(merged.colors), {m_, static_cast<py::ssize_t>(channels)}),
                          vector_array<std::int64_t>(std::move(merged.counts), {m_}));
  };
  if (has_dtype<std::uint8_t>(colors_a)) return run(std::uint8_t{});
  if (has_dtype<std::uint16_t>(colors_a)) return run(std::uint16_t{});
  throw py::type_error("colors_a: expected uint8 or uint16, got " + dtype_name(colors_a));
}

}  // namespace

void bind_color(py::module_& m) {
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
            py::gil_scoped_release release;  // safe: see without_gil (common.hpp)
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

  m.def("merge_color_counts", &merge_counts, py::arg("colors_a"), py::arg("counts_a"), py::arg("colors_b"),
        py::arg("counts_b"),
        "The union of two sorted colour indexes (as index_colors returns them): (colors (m, C), counts (m,)\n"
        "int64), sorted, the counts of a colour in both summed. uint8 or uint16 colours, int64 counts;\n"
        "ValueError unless each input is strictly sorted with non-negative counts.");

  m.def(
      "integer_moments",
      [](const py::array& points, const py::array& weights) {
        require_ndim(points, "points", 2);
        require_ndim(weights, "weights", 1);
        const auto w = as_contiguous<std::int64_t>(weights, "weights");
        if (w.shape(0) != points.shape(0))
          throw py::value_error("weights: expected " + std::to_string(points.shape(0)) + " values, got " +
                                std::to_string(w.shape(0)));
        auto run = [&](auto tag) -> py::object {
          using T = decltype(tag);
          const auto p = as_contiguous<T>(points, "points");
          const auto n = static_cast<std::size_t>(p.shape(0)), d = static_cast<std::size_t>(p.shape(1));
          const IntegerMoments mo = integer_moments<T>(p.data(), n, d, w.data());
          return py::make_tuple(mo.total, mo.s1, mo.s2);
        };
        if (has_dtype<std::uint8_t>(points)) return run(std::uint8_t{});
        if (has_dtype<std::uint16_t>(points)) return run(std::uint16_t{});
        throw py::type_error("points: expected uint8 or uint16, got " + dtype_name(points));
      },
      py::arg("points"), py::arg("weights"),
      "(sum w, per-column sums of w*x, per-column sums of w*x^2) in exact integers, for uint8/uint16 points\n"
      "with int64 weights (counts); ValueError unless they are non-negative and sum(w) * max(dtype)^2 < 2^63.");

  m.def(
      "remap_labels",
      [](py::array_t<std::int32_t, py::array::c_style> values, const py::array& table, int n_threads) {
        require_ndim(values, "values", 1);
        require_ndim(table, "table", 1);
        check_threads(n_threads);
        const auto t = as_contiguous<std::int32_t>(table, "table");
        if (!values.writeable()) throw py::value_error("values: must be writeable");
        // Written in place, so a misaligned array cannot be copied first (UB as an int32_t*): refused.
        if (reinterpret_cast<std::uintptr_t>(values.data()) % alignof(std::int32_t) != 0) {
          throw py::value_error("values: must be aligned to 4 bytes (it is written in place)");
        }
        const auto n = static_cast<std::size_t>(values.shape(0));
        std::int32_t* vp = values.mutable_data();
        const std::int32_t* tp = t.data();
        const auto m_ = static_cast<std::size_t>(t.shape(0));
        {
          py::gil_scoped_release release;  // safe: see without_gil (common.hpp)
          // entries outside the table: std::invalid_argument (ValueError) before anything is written
          remap_labels(vp, n, tp, m_, n_threads);
        }
      },
      py::arg("values").noconvert(), py::arg("table"), py::arg("n_threads") = 0,
      "values[i] = table[values[i]], in place (int32 arrays).");

  m.def("remap_labels_u8", &remap_bytes, py::arg("values"), py::arg("table"), py::arg("n_threads") = 0,
        "table[values] as a new uint8 array (int32 values and table, table entries in [0, 256)): a palette\n"
        "image's index map without an int32 map in between.");

  m.def("paint_pixels", &paint,
      py::arg("labels"), py::arg("palette"), py::arg("src"), py::arg("n_threads") = 0,
      "The quantized pixels: palette[labels] in the first palette.shape[1] columns, src's other columns kept\n"
      "(src None: palette[labels] alone).");

  m.def(
      "srgb_to_lab", [](const py::array& rgb) { return convert_colours(rgb, "rgb", srgb_to_lab); }, py::arg("rgb"),
      "sRGB in [0, 1] (n, 3) -> CIELAB (D65), float64.");
  m.def(
      "lab_to_srgb", [](const py::array& lab) { return convert_colours(lab, "lab", lab_to_srgb); }, py::arg("lab"),
      "CIELAB (D65) (n, 3) -> sRGB in [0, 1] (not clipped), float64.");
}

}  // namespace pixclust::bindings
