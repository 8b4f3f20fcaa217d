#include "pixclust/dither.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "parallel.hpp"

namespace pixclust {

namespace {

// 16 fixed-point units per intensity level (see dither.hpp).
constexpr std::int32_t kScale = 16;

// floor(v / 16) for either sign; integer division in C++ truncates toward zero.
inline std::int32_t floor_div16(std::int32_t v) noexcept { return v >= 0 ? v / 16 : -((15 - v) / 16); }

// Exact nearest palette colour for a fixed-point target colour.
//
// The hot loop of dithering is "which of k colours is nearest to this one", once per pixel, and the
// targets wander (the carried error changes them), so no per-colour memo helps. Instead colour space is
// cut into a grid of boxes (32 per axis for RGB) and, the first time a box is visited, the palette is
// pruned to the colours that can be nearest to *some* point of that box: colour j stays only if its
// smallest possible distance to the box is <= U, where U is the smallest over all colours of the largest
// possible distance to the box. The true nearest colour of any point in the box is at distance <= U
// (the colour achieving U is that close), so it always survives; candidates keep palette order, so ties
// still go to the lowest index. A typical box keeps a handful of colours out of k.
class NearestColor {
 public:
  NearestColor(const std::vector<std::int32_t>& palette16, std::size_t n_colors, std::size_t channels,
               std::int32_t max_value16)
      : pal_(palette16), k_(n_colors), ch_(channels), max16_(max_value16) {
    // Box counts per axis: enough boxes to keep candidate lists short, few enough that building them
    // stays cheap next to the image (2^15 boxes at most).
    static constexpr int kBitsPerAxis[5] = {0, 8, 7, 5, 4};
    bits_ = kBitsPerAxis[ch_];
    while ((max16_ >> shift_) >= (std::int32_t{1} << bits_)) ++shift_;
    const std::size_t n_boxes = std::size_t{1} << (static_cast<std::size_t>(bits_) * ch_);
    first_.assign(n_boxes, 0);
    count_.assign(n_boxes, -1);
  }

  std::int32_t nearest(const std::int32_t* x) {
    std::size_t box = 0;
    for (std::size_t c = 0; c < ch_; ++c)
      box = (box << bits_) | static_cast<std::size_t>(x[c] >> shift_);
    if (count_[box] < 0) build(box);
    const std::int32_t* cand = candidates_.data() + first_[box];
    const std::int32_t n = count_[box];
    std::int32_t best = cand[0];
    std::int64_t best_d = distance(x, best);
    for (std::int32_t i = 1; i < n; ++i) {
      const std::int64_t d = distance(x, cand[i]);
      if (d < best_d) {
        best_d = d;
        best = cand[i];
      }
    }
    return best;
  }

 private:
  std::int64_t distance(const std::int32_t* x, std::int32_t j) const noexcept {
    const std::int32_t* p = pal_.data() + static_cast<std::size_t>(j) * ch_;
    std::int64_t s = 0;
    for (std::size_t c = 0; c < ch_; ++c) {
      const std::int64_t diff = std::int64_t{x[c]} - p[c];
      s += diff * diff;
    }
    return s;
  }

  void build(std::size_t index) {
    std::int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {0, 0, 0, 0};
    std::size_t rest = index;
    for (std::size_t c = ch_; c-- > 0;) {
      const auto i = static_cast<std::int32_t>(rest & ((std::size_t{1} << bits_) - 1));
      rest >>= bits_;
      lo[c] = i << shift_;
      hi[c] = std::min(((i + 1) << shift_) - 1, max16_);
    }

    min_d_.resize(k_);
    std::int64_t bound = std::numeric_limits<std::int64_t>::max();
    for (std::size_t j = 0; j < k_; ++j) {
      const std::int32_t* p = pal_.data() + j * ch_;
      std::int64_t near = 0, far = 0;
      for (std::size_t c = 0; c < ch_; ++c) {
        const std::int64_t below = std::int64_t{lo[c]} - p[c];  // > 0: the colour is below the box
        const std::int64_t above = std::int64_t{p[c]} - hi[c];  // > 0: the colour is above the box
        const std::int64_t gap = std::max<std::int64_t>({below, above, 0});
        near += gap * gap;
        const std::int64_t span = std::max(std::int64_t{hi[c]} - p[c], std::int64_t{p[c]} - lo[c]);
        far += span * span;
      }
      min_d_[j] = near;
      bound = std::min(bound, far);
    }
    first_[index] = static_cast<std::uint32_t>(candidates_.size());
    for (std::size_t j = 0; j < k_; ++j)
      if (min_d_[j] <= bound) candidates_.push_back(static_cast<std::int32_t>(j));
    const std::size_t n = candidates_.size() - first_[index];
    if (candidates_.size() > std::numeric_limits<std::uint32_t>::max())
      throw std::length_error("dither: palette too large for the nearest-colour index");
    count_[index] = static_cast<std::int32_t>(n);
  }

  const std::vector<std::int32_t>& pal_;
  std::size_t k_, ch_;
  std::int32_t max16_;
  int bits_ = 0;
  int shift_ = 0;
  std::vector<std::uint32_t> first_;
  std::vector<std::int32_t> count_;
  std::vector<std::int32_t> candidates_;
  std::vector<std::int64_t> min_d_;
};

}  // namespace

template <class T>
void dither_floyd_steinberg(const T* image, std::size_t height, std::size_t width, std::size_t stride,
                            std::size_t channels, const T* palette, std::size_t n_colors,
                            std::int32_t* labels, T* out, bool serpentine, const CancelCheck& cancel) {
  static_assert(std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint16_t>,
                "dithering is defined for uint8 and uint16 images");
  if (channels < 1 || channels > 4) throw std::invalid_argument("dither: channels must be 1 to 4");
  if (stride < channels) throw std::invalid_argument("dither: stride must be >= channels");
  if (n_colors < 1) throw std::invalid_argument("dither: the palette is empty");
  if (n_colors > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw std::invalid_argument("dither: too many palette colours");
  if (height == 0 || width == 0) return;
  if (width > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) - 2)
    throw std::invalid_argument("dither: image too wide");

  const std::int32_t max16 = kScale * std::int32_t{std::numeric_limits<T>::max()};
  std::vector<std::int32_t> pal16(n_colors * channels);
  for (std::size_t i = 0; i < pal16.size(); ++i) pal16[i] = kScale * std::int32_t{palette[i]};
  NearestColor index(pal16, n_colors, channels, max16);

  // Carried error for this row and the next, with one padding pixel on each side: shares pushed past
  // the edges land there and are never read, which drops them as the definition says.
  const std::size_t row_len = (width + 2) * channels;
  std::vector<std::int32_t> cur(row_len, 0), nxt(row_len, 0);
  detail::CancelPoller poller(cancel);
  std::int32_t target[4] = {0, 0, 0, 0};
  const auto w = static_cast<std::ptrdiff_t>(width);
  const auto ch = static_cast<std::ptrdiff_t>(channels);

  for (std::size_t y = 0; y < height; ++y) {
    const bool backward = serpentine && (y % 2 == 1);
    const std::ptrdiff_t dir = backward ? -1 : 1;
    const std::ptrdiff_t x0 = backward ? w - 1 : 0;
    const T* src_row = image + y * width * stride;
    std::int32_t* lab_row = labels + y * width;
    for (std::ptrdiff_t step = 0; step < w; ++step) {
      const std::ptrdiff_t x = x0 + dir * step;
      const T* px = src_row + static_cast<std::size_t>(x) * stride;
      // Padded positions of x and its neighbours in the error rows.
      std::int32_t* here = cur.data() + (x + 1) * ch;
      for (std::ptrdiff_t c = 0; c < ch; ++c) {
        const std::int32_t v = kScale * std::int32_t{px[c]} + here[c];
        target[c] = std::clamp(v, std::int32_t{0}, max16);
      }
      const std::int32_t j = index.nearest(target);
      lab_row[x] = j;
      const std::int32_t* p = pal16.data() + static_cast<std::size_t>(j) * channels;
      std::int32_t* ahead = cur.data() + (x + 1 + dir) * ch;
      std::int32_t* below_behind = nxt.data() + (x + 1 - dir) * ch;
      std::int32_t* below = nxt.data() + (x + 1) * ch;
      std::int32_t* below_ahead = nxt.data() + (x + 1 + dir) * ch;
      for (std::ptrdiff_t c = 0; c < ch; ++c) {
        const std::int32_t e = target[c] - p[c];
        const std::int32_t e7 = floor_div16(7 * e + 8);
        const std::int32_t e3 = floor_div16(3 * e + 8);
        const std::int32_t e5 = floor_div16(5 * e + 8);
        ahead[c] += e7;
        below_behind[c] += e3;
        below[c] += e5;
        below_ahead[c] += e - e7 - e3 - e5;
      }
    }
    std::swap(cur, nxt);
    std::fill(nxt.begin(), nxt.end(), 0);
    poller.poll();
  }

  if (out != nullptr) {
    for (std::size_t i = 0; i < height * width; ++i) {
      const T* pc = palette + static_cast<std::size_t>(labels[i]) * channels;
      T* o = out + i * stride;
      for (std::size_t c = 0; c < channels; ++c) o[c] = pc[c];
      for (std::size_t c = channels; c < stride; ++c) o[c] = image[i * stride + c];
    }
  }
}

template void dither_floyd_steinberg<std::uint8_t>(const std::uint8_t*, std::size_t, std::size_t, std::size_t,
                                                   std::size_t, const std::uint8_t*, std::size_t, std::int32_t*,
                                                   std::uint8_t*, bool, const CancelCheck&);
template void dither_floyd_steinberg<std::uint16_t>(const std::uint16_t*, std::size_t, std::size_t, std::size_t,
                                                    std::size_t, const std::uint16_t*, std::size_t,
                                                    std::int32_t*, std::uint16_t*, bool, const CancelCheck&);

}  // namespace pixclust
