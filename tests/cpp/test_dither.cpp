#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "pixclust/pixclust.hpp"

namespace {

// The definition in dither.hpp written as plainly as possible: full error image, brute-force nearest
// colour over the whole palette, bounds checks instead of padding.
template <class T>
std::vector<std::int32_t> reference(const std::vector<T>& img, std::size_t h, std::size_t w, std::size_t stride,
                                    std::size_t ch, const std::vector<T>& pal, bool serpentine) {
  const long long top = 16LL * std::numeric_limits<T>::max();
  const std::size_t k = pal.size() / ch;
  std::vector<long long> err(h * w * ch, 0);
  std::vector<std::int32_t> labels(h * w, -1);
  auto floor_div = [](long long a, long long b) {
    long long q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
  };
  for (long long y = 0; y < static_cast<long long>(h); ++y) {
    const bool back = serpentine && (y % 2 == 1);
    const long long dir = back ? -1 : 1;
    for (long long s = 0; s < static_cast<long long>(w); ++s) {
      const long long x = back ? static_cast<long long>(w) - 1 - s : s;
      const std::size_t at = static_cast<std::size_t>(y) * w + static_cast<std::size_t>(x);
      long long t[4];
      for (std::size_t c = 0; c < ch; ++c) {
        long long v = 16LL * img[at * stride + c] + err[at * ch + c];
        t[c] = v < 0 ? 0 : (v > top ? top : v);
      }
      std::size_t best = 0;
      long long best_d = -1;
      for (std::size_t j = 0; j < k; ++j) {
        long long d = 0;
        for (std::size_t c = 0; c < ch; ++c) {
          const long long diff = t[c] - 16LL * pal[j * ch + c];
          d += diff * diff;
        }
        if (best_d < 0 || d < best_d) {
          best_d = d;
          best = j;
        }
      }
      labels[at] = static_cast<std::int32_t>(best);
      auto push = [&](long long yy, long long xx, std::size_t c, long long e) {
        if (yy < static_cast<long long>(h) && xx >= 0 && xx < static_cast<long long>(w))
          err[(static_cast<std::size_t>(yy) * w + static_cast<std::size_t>(xx)) * ch + c] += e;
      };
      for (std::size_t c = 0; c < ch; ++c) {
        const long long e = t[c] - 16LL * pal[best * ch + c];
        const long long e7 = floor_div(7 * e + 8, 16), e3 = floor_div(3 * e + 8, 16), e5 = floor_div(5 * e + 8, 16);
        push(y, x + dir, c, e7);
        push(y + 1, x - dir, c, e3);
        push(y + 1, x, c, e5);
        push(y + 1, x + dir, c, e - e7 - e3 - e5);
      }
    }
  }
  return labels;
}

template <class T>
bool matches_reference(std::mt19937_64& rng, std::size_t h, std::size_t w, std::size_t stride, std::size_t ch,
                       std::size_t k, bool serpentine, bool narrow_palette) {
  std::uniform_int_distribution<unsigned> any(0, std::numeric_limits<T>::max());
  const unsigned top = std::numeric_limits<T>::max();
  std::uniform_int_distribution<unsigned> mid(top / 4, top / 2);
  std::vector<T> img(h * w * stride), pal(k * ch);
  for (T& v : img) v = static_cast<T>(any(rng));
  // A narrow palette (not spanning the range) exercises the clamp.
  for (T& v : pal) v = static_cast<T>(narrow_palette ? mid(rng) : any(rng));
  const auto expected = reference(img, h, w, stride, ch, pal, serpentine);
  std::vector<std::int32_t> labels(h * w, -1);
  std::vector<T> out(h * w * stride);
  pixclust::dither_floyd_steinberg(img.data(), h, w, stride, ch, pal.data(), k, labels.data(), out.data(),
                                   serpentine);
  bool ok = labels == expected;
  for (std::size_t i = 0; ok && i < h * w; ++i) {
    for (std::size_t c = 0; c < ch; ++c)
      ok = ok && out[i * stride + c] == pal[static_cast<std::size_t>(labels[i]) * ch + c];
    for (std::size_t c = ch; c < stride; ++c) ok = ok && out[i * stride + c] == img[i * stride + c];
  }
  return ok;
}

}  // namespace

TEST_CASE("labels equal the plain reference: uint8 RGB, RGBA, gray; serpentine or not") {
  std::mt19937_64 rng(1);
  for (bool serp : {true, false}) {
    CHECK(matches_reference<std::uint8_t>(rng, 37, 53, 3, 3, 8, serp, false));
    CHECK(matches_reference<std::uint8_t>(rng, 20, 31, 4, 3, 16, serp, false));
    CHECK(matches_reference<std::uint8_t>(rng, 25, 19, 1, 1, 5, serp, false));
    CHECK(matches_reference<std::uint8_t>(rng, 16, 16, 2, 1, 3, serp, true));
    CHECK(matches_reference<std::uint8_t>(rng, 30, 40, 3, 3, 200, serp, false));
    CHECK(matches_reference<std::uint8_t>(rng, 30, 40, 3, 3, 6, serp, true));
  }
}

TEST_CASE("labels equal the plain reference: uint16") {
  std::mt19937_64 rng(2);
  for (bool serp : {true, false}) {
    CHECK(matches_reference<std::uint16_t>(rng, 23, 29, 1, 1, 7, serp, false));
    CHECK(matches_reference<std::uint16_t>(rng, 23, 29, 3, 3, 12, serp, false));
    CHECK(matches_reference<std::uint16_t>(rng, 11, 13, 4, 3, 4, serp, true));
  }
}

TEST_CASE("one-pixel rows and columns, one-colour palette") {
  std::mt19937_64 rng(3);
  CHECK(matches_reference<std::uint8_t>(rng, 1, 40, 3, 3, 4, true, false));
  CHECK(matches_reference<std::uint8_t>(rng, 40, 1, 3, 3, 4, true, false));
  CHECK(matches_reference<std::uint8_t>(rng, 9, 9, 3, 3, 1, true, false));
}

TEST_CASE("an image already in palette colours is returned unchanged") {
  const std::vector<std::uint8_t> pal = {0, 0, 0, 255, 0, 0, 10, 200, 30};
  std::vector<std::uint8_t> img;
  std::vector<std::int32_t> want;
  for (int i = 0; i < 60; ++i) {
    const int j = (i * 7) % 3;
    want.push_back(j);
    img.insert(img.end(), pal.begin() + 3 * j, pal.begin() + 3 * j + 3);
  }
  std::vector<std::int32_t> labels(60);
  pixclust::dither_floyd_steinberg(img.data(), 6, 10, 3, 3, pal.data(), 3, labels.data());
  CHECK(labels == want);
}

TEST_CASE("mid grey on black and white comes out half white") {
  const std::size_t h = 64, w = 64;
  std::vector<std::uint8_t> img(h * w, 128);
  const std::vector<std::uint8_t> pal = {0, 255};
  std::vector<std::int32_t> labels(h * w);
  pixclust::dither_floyd_steinberg(img.data(), h, w, 1, 1, pal.data(), 2, labels.data());
  std::size_t white = 0;
  for (auto l : labels) white += static_cast<std::size_t>(l);
  // 128/255 of the pixels, up to the error dropped at the edges.
  CHECK(white > h * w * 128 / 255 - 64 && white < h * w * 128 / 255 + 64);
}

TEST_CASE("bad sizes throw, cancellation throws Cancelled") {
  std::vector<std::uint8_t> img(12, 0), pal(3, 0);
  std::vector<std::int32_t> labels(4);
  CHECK_THROWS_AS(pixclust::dither_floyd_steinberg(img.data(), 2, 2, 3, 0, pal.data(), 1, labels.data()),
                  std::invalid_argument);
  CHECK_THROWS_AS(pixclust::dither_floyd_steinberg(img.data(), 2, 2, 2, 3, pal.data(), 1, labels.data()),
                  std::invalid_argument);
  CHECK_THROWS_AS(pixclust::dither_floyd_steinberg(img.data(), 2, 2, 3, 3, pal.data(), 0, labels.data()),
                  std::invalid_argument);
  for (const std::int32_t strength : {-1, pixclust::kDitherStrengthOne + 1})
    CHECK_THROWS_AS(pixclust::dither_floyd_steinberg(img.data(), 2, 2, 3, 3, pal.data(), 1, labels.data(),
                                                     static_cast<std::uint8_t*>(nullptr), true, {}, strength),
                    std::invalid_argument);
  const pixclust::CancelCheck stop = [] { return true; };
  CHECK_THROWS_AS(pixclust::dither_floyd_steinberg(img.data(), 2, 2, 3, 3, pal.data(), 1, labels.data(), static_cast<std::uint8_t*>(nullptr),
                                                   true, stop),
                  pixclust::Cancelled);
}

PIXCLUST_TEST_MAIN()
