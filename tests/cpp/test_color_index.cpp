#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "pixclust/pixclust.hpp"

namespace {

// The reference: an ordered map from colour to count.
template <class T>
std::map<std::vector<T>, std::int64_t> reference(const std::vector<T>& px, std::size_t channels, std::size_t stride) {
  std::map<std::vector<T>, std::int64_t> m;
  for (std::size_t p = 0; p < px.size() / stride; ++p)
    ++m[std::vector<T>(px.begin() + static_cast<std::ptrdiff_t>(p * stride),
                       px.begin() + static_cast<std::ptrdiff_t>(p * stride + channels))];
  return m;
}

template <class T>
void check_index(const std::vector<T>& px, std::size_t channels, std::size_t stride) {
  const std::size_t n = px.size() / stride;
  const auto ref = reference(px, channels, stride);
  std::vector<std::int32_t> first;
  pixclust::ColorIndex<T> first_index;
  for (int threads : {1, 2, 4}) {
    std::vector<std::int32_t> pc(n, -1);
    const auto index = pixclust::index_colors(px.data(), n, channels, stride, pc.data(), threads);
    CHECK_EQ(index.size(), ref.size());
    std::size_t r = 0;
    bool same = index.size() == ref.size();
    for (auto it = ref.begin(); same && it != ref.end(); ++it, ++r) {
      const std::vector<T> col(index.colors.begin() + static_cast<std::ptrdiff_t>(r * channels),
                               index.colors.begin() + static_cast<std::ptrdiff_t>((r + 1) * channels));
      same = col == it->first && index.counts[r] == it->second;  // sorted, with the right counts
    }
    CHECK(same);
    bool mapped = true;
    for (std::size_t p = 0; p < n && mapped; ++p)
      for (std::size_t t = 0; t < channels; ++t)
        mapped = mapped && index.colors[static_cast<std::size_t>(pc[p]) * channels + t] == px[p * stride + t];
    CHECK(mapped);
    if (first.empty()) {
      first = pc;
      first_index = index;
    } else {
      CHECK(pc == first);
      CHECK(index.colors == first_index.colors);
    }
  }
}

}  // namespace

TEST_CASE("8-bit colours (bitmap path): 1, 2 and 3 channels, RGB out of RGBA") {
  std::mt19937 rng(1);
  for (std::size_t channels : {std::size_t{1}, std::size_t{2}, std::size_t{3}}) {
    std::vector<std::uint8_t> px(70001 * channels);
    for (auto& v : px) v = static_cast<std::uint8_t>(rng() % 23 * 11);
    check_index(px, channels, channels);
  }
  std::vector<std::uint8_t> rgba(50000 * 4);
  for (auto& v : rgba) v = static_cast<std::uint8_t>(rng() % 7 * 40);
  check_index(rgba, 3, 4);
}

TEST_CASE("16-bit colours, RGBA and floats (hash path), sorted like the bitmap path") {
  std::mt19937 rng(2);
  std::vector<std::uint16_t> px16(60000 * 3);
  for (auto& v : px16) v = static_cast<std::uint16_t>(rng() % 9 * 7000);
  check_index(px16, 3, 3);
  std::vector<std::uint8_t> rgba(60000 * 4);
  for (auto& v : rgba) v = static_cast<std::uint8_t>(rng() % 5 * 60);
  check_index(rgba, 4, 4);
  std::vector<float> f(40000 * 3);
  for (auto& v : f) v = static_cast<float>(rng() % 6) / 5.0f;
  check_index(f, 3, 3);
}

TEST_CASE("-0.0 and 0.0 are one colour") {
  const std::vector<double> px = {0.0, 1.0, -0.0, 1.0, 0.5, 0.5};
  std::vector<std::int32_t> pc(3);
  const auto index = pixclust::index_colors(px.data(), 3, 2, 2, pc.data());
  CHECK_EQ(index.size(), std::size_t{2});
  CHECK_EQ(pc[0], pc[1]);
}

TEST_CASE("remap_labels, bad arguments") {
  std::vector<std::int32_t> v = {2, 0, 1, 2};
  const std::vector<std::int32_t> table = {7, 8, 9};
  pixclust::remap_labels(v.data(), v.size(), table.data(), table.size(), 2);
  CHECK((v == std::vector<std::int32_t>{9, 7, 8, 9}));
  // an entry outside the table: refused before anything is written
  std::vector<std::int32_t> bad = {2, 0, 3, 1};
  CHECK_THROWS_AS(pixclust::remap_labels(bad.data(), bad.size(), table.data(), table.size(), 2), std::invalid_argument);
  CHECK((bad == std::vector<std::int32_t>{2, 0, 3, 1}));
  bad[2] = -1;
  CHECK(!pixclust::indices_in_range(bad.data(), bad.size(), 3, 2));
  bad[2] = 2;
  CHECK(pixclust::indices_in_range(bad.data(), bad.size(), 3, 2));
  // the byte table (labels below 256, a table of at least 4096 entries) and the int32 one agree
  std::vector<std::int32_t> big(5000), wide_table(5000), narrow_table(5000);
  for (std::size_t j = 0; j < big.size(); ++j) {
    narrow_table[j] = static_cast<std::int32_t>((j * 7) % 256);
    wide_table[j] = narrow_table[j] + (j == 4999 ? 1000 : 0);
  }
  std::vector<std::int32_t> vals(70000);
  for (std::size_t i = 0; i < vals.size(); ++i) vals[i] = static_cast<std::int32_t>((i * 31) % 5000);
  std::vector<std::int32_t> a = vals, b = vals;
  pixclust::remap_labels(a.data(), a.size(), narrow_table.data(), narrow_table.size(), 2);
  pixclust::remap_labels(b.data(), b.size(), wide_table.data(), wide_table.size(), 2);
  bool agree = true;
  for (std::size_t i = 0; i < vals.size(); ++i) {
    const auto j = static_cast<std::size_t>(vals[i]);
    agree = agree && a[i] == narrow_table[j] && b[i] == wide_table[j];
  }
  CHECK(agree);
  // the byte map: the int32 remap's values as bytes, and refused (nothing written) for labels >= 256
  std::vector<std::uint8_t> bytes(vals.size(), 255);
  pixclust::remap_labels_u8(vals.data(), vals.size(), narrow_table.data(), narrow_table.size(), bytes.data(), 2);
  CHECK(std::equal(bytes.begin(), bytes.end(), a.begin(), [](std::uint8_t x, std::int32_t y) { return x == y; }));
  std::vector<std::uint8_t> untouched(vals.size(), 7);
  CHECK_THROWS_AS(pixclust::remap_labels_u8(vals.data(), vals.size(), wide_table.data(), wide_table.size(),
                                            untouched.data(), 2),
                  std::invalid_argument);
  CHECK_THROWS_AS(pixclust::remap_labels_u8(bad.data(), bad.size(), table.data(), 2, untouched.data(), 2),
                  std::invalid_argument);
  CHECK(std::all_of(untouched.begin(), untouched.end(), [](std::uint8_t x) { return x == 7; }));
  const std::vector<std::uint8_t> px(12);
  CHECK_THROWS_AS(pixclust::index_colors(px.data(), 4, 5, 5, nullptr), std::invalid_argument);
  CHECK_THROWS_AS(pixclust::index_colors(px.data(), 4, 3, 2, nullptr), std::invalid_argument);
}

TEST_CASE("integer_moments: exact int64 sums, the bound 2^63 checked before any sum") {
  const std::vector<std::uint16_t> pts = {65535, 1, 2, 3, 65535, 5};  // two points of 3 values
  const std::vector<std::int64_t> w = {3, 4};
  const auto m = pixclust::integer_moments(pts.data(), 2, 3, w.data());
  CHECK_EQ(m.total, 7);
  CHECK((m.s1 == std::vector<std::int64_t>{3 * 65535 + 4 * 3, 3 * 1 + 4 * 65535, 3 * 2 + 4 * 5}));
  CHECK((m.s2 == std::vector<std::int64_t>{3LL * 65535 * 65535 + 4 * 9, 3 + 4LL * 65535 * 65535, 3 * 4 + 4 * 25}));
  // sum(w) * 65535^2 < 2^63 holds up to limit and fails one past it; a negative count is refused
  const std::int64_t limit = std::numeric_limits<std::int64_t>::max() / (65535LL * 65535LL);
  const std::vector<std::int64_t> at = {limit - 1, 1}, past = {limit, 1}, negative = {-1, 1};
  CHECK_EQ(pixclust::integer_moments(pts.data(), 2, 3, at.data()).total, limit);
  CHECK_THROWS_AS(pixclust::integer_moments(pts.data(), 2, 3, past.data()), std::invalid_argument);
  CHECK_THROWS_AS(pixclust::integer_moments(pts.data(), 2, 3, negative.data()), std::invalid_argument);
}

TEST_CASE("merge_color_counts: the index of two chunks is the index of the whole") {
  std::mt19937 rng(3);
  for (std::size_t channels : {std::size_t{1}, std::size_t{3}, std::size_t{4}}) {
    std::vector<std::uint8_t> px(30000 * channels);
    for (auto& v : px) v = static_cast<std::uint8_t>(rng() % 6 * 50);
    const std::size_t n = px.size() / channels, cut = n / 3;  // uneven halves
    const auto whole = pixclust::index_colors(px.data(), n, channels, channels, nullptr, 2);
    const auto a = pixclust::index_colors(px.data(), cut, channels, channels, nullptr, 2);
    const auto b = pixclust::index_colors(px.data() + cut * channels, n - cut, channels, channels, nullptr, 2);
    const auto ab = pixclust::merge_color_counts(a.colors.data(), a.counts.data(), a.size(), b.colors.data(),
                                                 b.counts.data(), b.size(), channels);
    const auto ba = pixclust::merge_color_counts(b.colors.data(), b.counts.data(), b.size(), a.colors.data(),
                                                 a.counts.data(), a.size(), channels);
    CHECK(ab.colors == whole.colors);
    CHECK(ab.counts == whole.counts);
    CHECK(ba.colors == whole.colors);
    CHECK(ba.counts == whole.counts);
  }
  // an empty side, disjoint sides
  const std::vector<std::uint8_t> ca = {1, 2, 5}, cb = {3, 4};
  const std::vector<std::int64_t> wa = {10, 20, 30}, wb = {7, 8};
  const auto e = pixclust::merge_color_counts(ca.data(), wa.data(), 3, cb.data(), wb.data(), 0, 1);
  CHECK(e.colors == ca);
  CHECK(e.counts == wa);
  const auto d = pixclust::merge_color_counts(ca.data(), wa.data(), 3, cb.data(), wb.data(), 2, 1);
  CHECK((d.colors == std::vector<std::uint8_t>{1, 2, 3, 4, 5}));
  CHECK((d.counts == std::vector<std::int64_t>{10, 20, 7, 8, 30}));
}

TEST_CASE("merge_color_counts: unsorted input, negative and overflowing counts refused") {
  const std::vector<std::uint16_t> sorted = {1, 1, 1, 2}, unsorted = {1, 2, 1, 1}, repeated = {1, 1, 1, 1};
  const std::vector<std::int64_t> w = {1, 1}, negative = {1, -1};
  const std::vector<std::int64_t> huge = {std::numeric_limits<std::int64_t>::max(), 1};
  CHECK_EQ(pixclust::merge_color_counts(sorted.data(), w.data(), 2, sorted.data(), w.data(), 2, 2).size(),
           std::size_t{2});
  CHECK_THROWS_AS(pixclust::merge_color_counts(unsorted.data(), w.data(), 2, sorted.data(), w.data(), 2, 2),
                  std::invalid_argument);
  CHECK_THROWS_AS(pixclust::merge_color_counts(sorted.data(), w.data(), 2, repeated.data(), w.data(), 2, 2),
                  std::invalid_argument);
  CHECK_THROWS_AS(pixclust::merge_color_counts(sorted.data(), negative.data(), 2, sorted.data(), w.data(), 2, 2),
                  std::invalid_argument);
  CHECK_THROWS_AS(pixclust::merge_color_counts(sorted.data(), huge.data(), 2, sorted.data(), w.data(), 2, 2),
                  std::overflow_error);
}

TEST_CASE("sRGB <-> CIELAB: white, black, a round trip") {
  const std::vector<double> rgb = {1, 1, 1, 0, 0, 0, 0.2, 0.5, 0.9, 1, 0, 0};
  std::vector<double> lab(rgb.size()), back(rgb.size());
  pixclust::srgb_to_lab(rgb.data(), 4, lab.data());
  CHECK(std::fabs(lab[0] - 100.0) < 1e-9 && std::fabs(lab[1]) < 1e-9 && std::fabs(lab[2]) < 1e-9);
  CHECK(std::fabs(lab[3]) < 1e-12);
  CHECK(std::fabs(lab[9] - 53.24) < 0.01);  // sRGB red: L* 53.24
  pixclust::lab_to_srgb(lab.data(), 4, back.data());
  for (std::size_t i = 0; i < rgb.size(); ++i) CHECK(std::fabs(back[i] - rgb[i]) < 1e-12);
}

PIXCLUST_TEST_MAIN()
