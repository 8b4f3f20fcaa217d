#include <cstdint>
#include <string>
#include <utility>

#include <pybind11/typing.h>

#include "common.hpp"
#include "pixclust/dither.hpp"

namespace pixclust::bindings {

namespace {

// (labels, image): the stub then says what the tuple holds.
using DitherResult = py::typing::Tuple<py::array_t<std::int32_t>, py::array>;

// The labels, and the dithered image unless paint is false (a palette file needs the labels alone).
template <class T>
std::pair<py::array_t<std::int32_t>, py::object> dither_impl(const py::array& image, const py::array& palette,
                                                             bool serpentine, std::int32_t strength, bool paint) {
  const auto img = as_contiguous<T>(image, "image");
  const auto pal = as_contiguous<T>(palette, "palette");
  const auto h = static_cast<std::size_t>(img.shape(0));
  const auto w = static_cast<std::size_t>(img.shape(1));
  const auto stride = static_cast<std::size_t>(img.shape(2));
  const auto k = static_cast<std::size_t>(pal.shape(0));
  const auto channels = static_cast<std::size_t>(pal.shape(1));
  py::array_t<std::int32_t> labels({img.shape(0), img.shape(1)});
  py::object out = py::none();
  T* dst = nullptr;
  if (paint) {
    py::array_t<T> painted({img.shape(0), img.shape(1), img.shape(2)});
    dst = painted.mutable_data();
    out = std::move(painted);
  }
  const T* src = img.data();
  const T* p = pal.data();
  std::int32_t* lab = labels.mutable_data();
  const CancelCheck cancel = python_cancel_check();
  {
    // Safe: every pointer belongs to an array this frame keeps alive; no Python object is touched
    // until the GIL is back (the cancel check takes it itself).
    py::gil_scoped_release release;
    dither_floyd_steinberg<T>(src, h, w, stride, channels, p, k, lab, dst, serpentine, cancel, strength);
  }
  return {std::move(labels), std::move(out)};
}

std::pair<py::array_t<std::int32_t>, py::object> checked_dither(const py::array& image, const py::array& palette,
                                                                bool serpentine, std::int32_t strength, bool paint) {
  require_ndim(image, "image", 3);
  require_ndim(palette, "palette", 2);
  const py::ssize_t stride = image.shape(2), channels = palette.shape(1);
  if (channels < 1 || channels > 4 || channels > stride) {
    throw py::value_error("palette: expected 1 to 4 columns and no more than the image's " + std::to_string(stride) +
                          " channels, got " + std::to_string(channels));
  }
  if (palette.shape(0) < 1) throw py::value_error("palette: must have at least one colour");
  if (!image.dtype().equal(palette.dtype())) {
    throw py::type_error("palette: dtype " + dtype_name(palette) + " differs from the image's " + dtype_name(image));
  }
  if (strength < 0 || strength > kDitherStrengthOne) {
    throw py::value_error("strength: expected 0 to " + std::to_string(kDitherStrengthOne) + ", got " +
                          std::to_string(strength));
  }
  if (has_dtype<std::uint8_t>(image)) return dither_impl<std::uint8_t>(image, palette, serpentine, strength, paint);
  if (has_dtype<std::uint16_t>(image)) return dither_impl<std::uint16_t>(image, palette, serpentine, strength, paint);
  throw py::type_error("image: expected dtype uint8 or uint16, got " + dtype_name(image));
}

}  // namespace

void bind_dither(py::module_& m) {
  m.def(
      "dither_floyd_steinberg",
      [](const py::array& image, const py::array& palette, bool serpentine, std::int32_t strength) -> DitherResult {
        auto [labels, out] = checked_dither(image, palette, serpentine, strength, true);
        return DitherResult(py::make_tuple(std::move(labels), std::move(out)));
      },
      py::arg("image"), py::arg("palette"), py::arg("serpentine") = true, py::arg("strength") = kDitherStrengthOne,
      "Floyd-Steinberg error diffusion of an (H, W, C) uint8/uint16 image onto a (k, c) palette of the same "
      "dtype (c <= C colour channels; the rest are copied), the error damped to strength / 1024 of itself "
      "(1024: all of it). Returns (labels (H, W) int32, image).");
  m.def(
      "dither_labels",
      [](const py::array& image, const py::array& palette, bool serpentine, std::int32_t strength) {
        return checked_dither(image, palette, serpentine, strength, false).first;
      },
      py::arg("image"), py::arg("palette"), py::arg("serpentine") = true, py::arg("strength") = kDitherStrengthOne,
      "dither_floyd_steinberg's labels alone, the image not painted (a palette file needs only the labels).");
  m.attr("DITHER_STRENGTH_ONE") = kDitherStrengthOne;
}

}  // namespace pixclust::bindings
