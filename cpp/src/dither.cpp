#include "pixclust/dither.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "parallel.hpp"

namespace pixclust {

namespace {

// 16 fixed-point units per intensity level (see dither.hpp).
constexpr std::int32_t kScale = 16;

// floor(v / 16) for either sign. An arithmetic right shift is exactly that (C++20 guarantees it for
// negative values; every C++17 compiler pixclust supports already does it), and it is branch-free, which
// matters in the hottest loop.
static_assert((-17 >> 4) == -2 && (-16 >> 4) == -1, "arithmetic right shift expected");
inline std::int32_t floor_div16(std::int32_t v) noexcept { return v >> 4; }

// floor((strength * e + one / 2) / one), strength in units of 1 / kDitherStrengthOne (a power of two, so the
// division is the same arithmetic shift); 64-bit: |e| reaches 16 * 65535 for uint16 images.
constexpr int kStrengthShift = 10;
static_assert(kDitherStrengthOne == (1 << kStrengthShift), "the strength unit is a power of two");
inline std::int32_t damp(std::int32_t e, std::int32_t strength) noexcept {
  return static_cast<std::int32_t>((std::int64_t{e} * strength + kDitherStrengthOne / 2) >> kStrengthShift);
}

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
template <std::size_t CH>
class NearestColor {
 public:
  NearestColor(const std::vector<std::int32_t>& palette16, std::size_t n_colors, std::int32_t max_value16)
      : pal_(palette16), k_(n_colors), max16_(max_value16) {
    // Boxes per axis: enough to keep candidate lists short, few enough that the table stays in cache
    // (2^15 boxes, 256 KB, for RGB): the lookups follow the wandering target colours, so a table
    // larger than L2 costs more in misses than the longer candidate lists it saves.
    static constexpr int kBitsPerAxis[5] = {0, 10, 7, 5, 4};
    bits_ = kBitsPerAxis[CH];
    while ((max16_ >> shift_) >= (std::int32_t{1} << bits_)) ++shift_;
    boxes_.assign(std::size_t{1} << (static_cast<std::size_t>(bits_) * CH), Box{0, -1});
  }

  const std::int32_t* nearest(const std::int32_t* x, std::int32_t& label) {
    std::size_t box = 0;
    for (std::size_t c = 0; c < CH; ++c) box = (box << bits_) | static_cast<std::size_t>(x[c] >> shift_);
    if (boxes_[box].count < 0) build(box);
    const Box b = boxes_[box];
    // Exact pruning leaves one or two colours in most boxes, so a plain scan is cheapest (padding the
    // lists for a branch-free scan was measured slower). Ties go to the lowest index, whatever the order.
    const Candidate* cand = candidates_.data() + b.first;
    const Candidate* const end = cand + b.count;
    const Candidate* best = cand;
    std::int64_t best_d = std::numeric_limits<std::int64_t>::max();
    for (; cand != end; ++cand) {
      const std::int64_t d = distance(x, *cand);
      if (d < best_d || (d == best_d && cand->index < best->index)) {
        best_d = d;
        best = cand;
      }
    }
    label = best->index;
    return best->color;
  }

 private:
  // A candidate carries its colour, so the search never leaves the candidate list.
  struct Candidate {
    std::int32_t index;
    std::int32_t color[CH];
  };
  struct Box {
    std::uint32_t first;  // into candidates_
    std::int32_t count;   // -1: not built yet
  };

  static std::int64_t distance(const std::int32_t* x, const Candidate& p) noexcept {
    std::int64_t s = 0;
    for (std::size_t c = 0; c < CH; ++c) {
      const std::int64_t diff = std::int64_t{x[c]} - p.color[c];
      s += diff * diff;
    }
    return s;
  }

  void build(std::size_t index) {
    std::int32_t lo[CH], hi[CH];
    std::size_t rest = index;
    for (std::size_t c = CH; c-- > 0;) {
      const auto i = static_cast<std::int32_t>(rest & ((std::size_t{1} << bits_) - 1));
      rest >>= bits_;
      lo[c] = i << shift_;
      hi[c] = std::min(((i + 1) << shift_) - 1, max16_);
    }
    min_d_.resize(k_);
    std::int64_t bound = std::numeric_limits<std::int64_t>::max();
    for (std::size_t j = 0; j < k_; ++j) {
      const std::int32_t* p = pal_.data() + j * CH;
      std::int64_t near = 0, far = 0;
      for (std::size_t c = 0; c < CH; ++c) {
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
    // Second pass: drop colour j when another candidate i is at least as close everywhere in the box
    // (strictly closer, or as close with a lower index: j could then never be the answer). The
    // difference of squared distances |x - p_i|^2 - |x - p_j|^2 is linear in x, so its maximum over
    // the box is found axis by axis at one of the two faces.
    survivors_.clear();
    for (std::size_t j = 0; j < k_; ++j)
      if (min_d_[j] <= bound) survivors_.push_back(j);
    const std::size_t first = candidates_.size();
    if (first > std::numeric_limits<std::uint32_t>::max() - k_)
      throw std::length_error("dither: palette too large for the nearest-colour index");
    for (const std::size_t j : survivors_) {
      const std::int32_t* pj = pal_.data() + j * CH;
      bool dominated = false;
      for (const std::size_t i : survivors_) {
        if (i == j) continue;
        const std::int32_t* pi = pal_.data() + i * CH;
        std::int64_t worst = 0;  // max over the box of |x - p_i|^2 - |x - p_j|^2
        for (std::size_t c = 0; c < CH; ++c) {
          const std::int64_t slope = -2 * (std::int64_t{pi[c]} - pj[c]);
          worst += std::max(slope * lo[c], slope * hi[c]) + std::int64_t{pi[c]} * pi[c] - std::int64_t{pj[c]} * pj[c];
        }
        if (worst < 0 || (worst == 0 && i < j)) {
          dominated = true;
          break;
        }
      }
      if (dominated) continue;
      Candidate cand{};
      cand.index = static_cast<std::int32_t>(j);
      for (std::size_t c = 0; c < CH; ++c) cand.color[c] = pj[c];
      candidates_.push_back(cand);
    }
    // Nearest the box's centre first: the scan then rarely replaces its best, a branch it predicts
    // (12-MP photo, k = 256: 10% less CPU; ties still go to the lowest index, test_dither.py).
    std::int64_t mid2[CH];
    for (std::size_t c = 0; c < CH; ++c) mid2[c] = std::int64_t{lo[c]} + hi[c];
    auto to_mid = [&](const Candidate& p) {
      std::int64_t s = 0;
      for (std::size_t c = 0; c < CH; ++c) {
        const std::int64_t twice = 2 * std::int64_t{p.color[c]} - mid2[c];
        s += twice * twice;
      }
      return s;
    };
    std::sort(candidates_.begin() + static_cast<std::ptrdiff_t>(first), candidates_.end(),
              [&](const Candidate& a, const Candidate& b) {
                const std::int64_t da = to_mid(a), db = to_mid(b);
                return da < db || (da == db && a.index < b.index);
              });
    boxes_[index] = Box{static_cast<std::uint32_t>(first), static_cast<std::int32_t>(candidates_.size() - first)};
  }

  const std::vector<std::int32_t>& pal_;
  std::size_t k_;
  std::int32_t max16_;
  int bits_ = 0;
  int shift_ = 0;
  std::vector<Box> boxes_;
  std::vector<Candidate> candidates_;
  std::vector<std::int64_t> min_d_;
  std::vector<std::size_t> survivors_;
};

// Damped is a template argument so that full strength runs the undamped loop, unchanged.
template <std::size_t CH, bool Damped, class T>
void dither_rows(const T* image, std::size_t height, std::size_t width, std::size_t stride,
                 const std::vector<std::int32_t>& pal16, std::size_t n_colors, std::int32_t* labels,
                 bool serpentine, std::int32_t strength, detail::CancelPoller& poller) {
  const std::int32_t max16 = kScale * std::int32_t{std::numeric_limits<T>::max()};
  NearestColor<CH> index(pal16, n_colors, max16);
  // Carried error for this row and the next, with one padding pixel on each side: shares pushed past
  // the edges land there and are never read, which drops them as the definition says (the 7/16 share
  // pushed past the row's end is simply not carried on).
  const std::size_t row_len = (width + 2) * CH;
  std::vector<std::int32_t> cur(row_len, 0), nxt(row_len, 0);
  const auto w = static_cast<std::ptrdiff_t>(width);
  constexpr auto ch = static_cast<std::ptrdiff_t>(CH);
  std::int32_t target[CH];

  for (std::size_t y = 0; y < height; ++y) {
    const bool backward = serpentine && (y % 2 == 1);
    const std::ptrdiff_t dir = backward ? -1 : 1;
    const std::ptrdiff_t x0 = backward ? w - 1 : 0;
    const T* src_row = image + y * width * stride;
    std::int32_t* lab_row = labels + y * width;
    // The 7/16 share for the next pixel of the row stays in a register (`carry`) instead of a round
    // trip through memory: the pass is one long dependency chain, so every cycle on it counts.
    std::int32_t carry[CH] = {};
    for (std::ptrdiff_t step = 0; step < w; ++step) {
      const std::ptrdiff_t x = x0 + dir * step;
      const T* px = src_row + static_cast<std::size_t>(x) * stride;
      const std::int32_t* here = cur.data() + (x + 1) * ch;
      for (std::size_t c = 0; c < CH; ++c) {
        const std::int32_t v = kScale * std::int32_t{px[c]} + here[c] + carry[c];
        target[c] = std::clamp(v, std::int32_t{0}, max16);
      }
      // The chosen colour comes with the candidate (already in cache), not from the palette array.
      const std::int32_t* p = index.nearest(target, lab_row[x]);
      std::int32_t* below_behind = nxt.data() + (x + 1 - dir) * ch;
      std::int32_t* below = nxt.data() + (x + 1) * ch;
      std::int32_t* below_ahead = nxt.data() + (x + 1 + dir) * ch;
      for (std::size_t c = 0; c < CH; ++c) {
        const std::int32_t e = Damped ? damp(target[c] - p[c], strength) : target[c] - p[c];
        const std::int32_t e7 = floor_div16(7 * e + 8);
        const std::int32_t e3 = floor_div16(3 * e + 8);
        const std::int32_t e5 = floor_div16(5 * e + 8);
        carry[c] = e7;
        below_behind[c] += e3;
        below[c] += e5;
        below_ahead[c] += e - e7 - e3 - e5;
      }
    }
    std::swap(cur, nxt);
    std::fill(nxt.begin(), nxt.end(), 0);
    poller.poll();
  }
}

// The channel count is a template argument so that the per-channel loops unroll.
template <bool Damped, class T>
void dither_channels(const T* image, std::size_t height, std::size_t width, std::size_t stride, std::size_t channels,
                     const std::vector<std::int32_t>& pal16, std::size_t n_colors, std::int32_t* labels,
                     bool serpentine, std::int32_t strength, detail::CancelPoller& poller) {
  switch (channels) {
    case 1: dither_rows<1, Damped>(image, height, width, stride, pal16, n_colors, labels, serpentine, strength, poller); break;
    case 2: dither_rows<2, Damped>(image, height, width, stride, pal16, n_colors, labels, serpentine, strength, poller); break;
    case 3: dither_rows<3, Damped>(image, height, width, stride, pal16, n_colors, labels, serpentine, strength, poller); break;
    default: dither_rows<4, Damped>(image, height, width, stride, pal16, n_colors, labels, serpentine, strength, poller); break;
  }
}

}  // namespace

template <class T>
void dither_floyd_steinberg(const T* image, std::size_t height, std::size_t width, std::size_t stride,
                            std::size_t channels, const T* palette, std::size_t n_colors,
                            std::int32_t* labels, T* out, bool serpentine, const CancelCheck& cancel,
                            std::int32_t strength) {
  static_assert(std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint16_t>,
                "dithering is defined for uint8 and uint16 images");
  if (channels < 1 || channels > 4) throw std::invalid_argument("dither: channels must be 1 to 4");
  if (stride < channels) throw std::invalid_argument("dither: stride must be >= channels");
  if (n_colors < 1) throw std::invalid_argument("dither: the palette is empty");
  if (n_colors > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw std::invalid_argument("dither: too many palette colours");
  if (strength < 0 || strength > kDitherStrengthOne)
    throw std::invalid_argument("dither: strength must be 0 to " + std::to_string(kDitherStrengthOne));
  if (height == 0 || width == 0) return;
  if (width > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / 8 - 2)
    throw std::invalid_argument("dither: image too wide");

  std::vector<std::int32_t> pal16(n_colors * channels);
  for (std::size_t i = 0; i < pal16.size(); ++i) pal16[i] = kScale * std::int32_t{palette[i]};
  detail::CancelPoller poller(cancel);
  if (strength == kDitherStrengthOne)
    dither_channels<false>(image, height, width, stride, channels, pal16, n_colors, labels, serpentine, strength, poller);
  else
    dither_channels<true>(image, height, width, stride, channels, pal16, n_colors, labels, serpentine, strength, poller);

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
                                                   std::uint8_t*, bool, const CancelCheck&,
                                                   std::int32_t);
template void dither_floyd_steinberg<std::uint16_t>(const std::uint16_t*, std::size_t, std::size_t, std::size_t,
                                                    std::size_t, const std::uint16_t*, std::size_t,
                                                    std::int32_t*, std::uint16_t*, bool, const CancelCheck&,
                                                    std::int32_t);

}  // namespace pixclust
