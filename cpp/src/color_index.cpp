// Distinct colours and their counts: a bitmap over all possible colours for 8-bit data, a hash table
// for everything else. Never a float copy of the image.
#include "pixclust/color_index.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "bits.hpp"
#include "numeric_constants.hpp"
#include "parallel.hpp"

#ifdef PIXCLUST_HAVE_OPENMP
#include <omp.h>
#endif

namespace pixclust {

namespace {

using detail::ctz64;
using detail::popcount64;

// out[i] = table[values[i]], in parallel (out may be values); the caller has checked the entries.
template <class Out, class Entry>
void remap_into(const std::int32_t* values, std::size_t n, const Entry* table, Out* out, [[maybe_unused]] int threads) {
#pragma omp parallel for schedule(dynamic, 65536) num_threads(threads)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i)
    out[i] = static_cast<Out>(table[static_cast<std::size_t>(values[i])]);
}

template <class Entry>
void remap_with(std::int32_t* values, std::size_t n, const Entry* table, int threads) {
  remap_into(values, n, table, values, threads);
}

// C > 0 fixes the channel count at compile time (the 8-bit RGB hot loop).
template <std::size_t C, class T>
std::uint32_t pack_code(const T* px, std::size_t channels) noexcept {
  std::uint32_t code = 0;
  for (std::size_t t = 0; t < (C > 0 ? C : channels); ++t)
    code = (code << (8 * sizeof(T))) | static_cast<std::uint32_t>(px[t]);
  return code;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && (defined(__GNUC__) || defined(__clang__))
#define PIXCLUST_WIDE_RGB 1
#endif

// The code of pixel p; with Wide (8-bit RGB only), from one 4-byte load (its fourth byte is the next
// pixel's or alpha, and is shifted out), which the caller allows where those 4 bytes are in the buffer.
template <bool Wide, std::size_t C, class T>
inline std::uint32_t code_at(const T* pixels, std::size_t p, std::size_t stride, std::size_t channels) noexcept {
#ifdef PIXCLUST_WIDE_RGB
  if constexpr (Wide && C == 3 && std::is_same_v<T, std::uint8_t>) {
    std::uint32_t v;
    std::memcpy(&v, pixels + p * stride, 4);
    return __builtin_bswap32(v) >> 8;  // bytes R G B x -> R << 16 | G << 8 | B
  }
#endif
  return pack_code<C>(pixels + p * stride, channels);
}

// Runs f(std::bool_constant<Wide>{}, b, e) over [b, e) split where 4-byte loads stop being safe: pixel p
// may use one when its 4 bytes lie inside the n pixels' buffer.
template <std::size_t C, class T, class F>
inline void split_wide(std::size_t b, std::size_t e, std::size_t n, std::size_t stride, F&& f) {
  const std::size_t wide_end = (C == 3 && std::is_same_v<T, std::uint8_t>) ? (stride >= 4 ? n : n - 1) : 0;
  const std::size_t mid = std::max(b, std::min(e, wide_end));
  if (b < mid) f(std::true_type{}, b, mid);
  if (mid < e) f(std::false_type{}, mid, e);
}

// Runs body(tid, begin, end) over the pixel chunks on `team` threads, chunks handed out dynamically (a
// thread that loses its core on a busy machine holds nobody up). tid indexes per-thread scratch; callers
// combine that scratch with order-free operations (OR, integer sums), so the result does not depend on
// which thread ran which chunk.
template <class Body>
void for_chunks_with_tid(std::size_t n, [[maybe_unused]] int team, Body&& body) {
  const std::size_t chunks = detail::n_chunks(n);
#pragma omp parallel num_threads(team)
  {
#ifdef PIXCLUST_HAVE_OPENMP
    const auto tid = static_cast<std::size_t>(omp_get_thread_num());
#else
    const std::size_t tid = 0;
#endif
#pragma omp for schedule(dynamic, 4)
    for (std::ptrdiff_t sc = 0; sc < static_cast<std::ptrdiff_t>(chunks); ++sc) {
      const std::size_t b = static_cast<std::size_t>(sc) * detail::kPointsPerChunk;
      body(tid, b, std::min(n, b + detail::kPointsPerChunk));
    }
  }
}

// Pass 2 of the bitmap path over pixels [b, e): each pixel's rank among the colours present (the
// words' prefix ranks plus a popcount within the word) and the counts. The popcount runs once per pixel;
// without the instruction the compiler calls a slow library routine, so on x86 a copy compiled for
// the POPCNT instruction is used when the CPU has it (all x86-64 CPUs of the last 15 years).
template <std::size_t C, class T>
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
inline void rank_and_count(const T* pixels, std::size_t b, std::size_t e, std::size_t n, std::size_t channels,
                           std::size_t stride, const std::uint64_t* map, const std::uint32_t* rank,
                           std::int32_t* pixel_color, std::uint32_t* cnt) {
  split_wide<C, T>(b, e, n, stride, [&](auto wide, std::size_t lo, std::size_t hi) {
    for (std::size_t p = lo; p < hi; ++p) {
      const std::uint32_t code = code_at<decltype(wide)::value, C>(pixels, p, stride, channels);
      const std::uint64_t word = map[code >> 6];
      const auto below = static_cast<std::uint32_t>(popcount64(word & ((std::uint64_t{1} << (code & 63)) - 1)));
      const std::uint32_t idx = rank[code >> 6] + below;
      if (pixel_color) pixel_color[p] = static_cast<std::int32_t>(idx);
      ++cnt[idx];
    }
  });
}

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define PIXCLUST_POPCNT_DISPATCH 1
template <std::size_t C, class T>
__attribute__((target("popcnt"))) void rank_and_count_popcnt(const T* pixels, std::size_t b, std::size_t e,
                                                             std::size_t n, std::size_t channels, std::size_t stride,
                                                             const std::uint64_t* map, const std::uint32_t* rank,
                                                             std::int32_t* pixel_color, std::uint32_t* cnt) {
  rank_and_count<C>(pixels, b, e, n, channels, stride, map, rank, pixel_color, cnt);
}
#endif

// The set bits of words[0, n), with the POPCNT instruction when hw (the same dispatch as rank_and_count).
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
inline std::uint32_t count_bits_sw(const std::uint64_t* words, std::size_t n) {
  std::uint32_t c = 0;
  for (std::size_t w = 0; w < n; ++w) c += static_cast<std::uint32_t>(popcount64(words[w]));
  return c;
}
#ifdef PIXCLUST_POPCNT_DISPATCH
__attribute__((target("popcnt"))) std::uint32_t count_bits_hw(const std::uint64_t* words, std::size_t n) {
  return count_bits_sw(words, n);
}
#endif
inline std::uint32_t count_bits(const std::uint64_t* words, std::size_t n, [[maybe_unused]] bool hw) {
#ifdef PIXCLUST_POPCNT_DISPATCH
  if (hw) return count_bits_hw(words, n);
#endif
  return count_bits_sw(words, n);
}

// Bitmap path: colours with at most 24 bits. Pass 1 marks the colours present (per-thread bitmaps,
// OR-ed: the same bitmap for any thread count); a prefix popcount ranks them in code order; pass 2 gives
// each pixel its rank and counts (integer sums: exact in any order).
template <std::size_t C, class T>
ColorIndex<T> index_bitmap(const T* pixels, std::size_t n, std::size_t channels, std::size_t stride,
                           std::int32_t* pixel_color, int threads, detail::CancelPoller& poller) {
  const std::size_t bits = channels * 8 * sizeof(T);
  const std::size_t words = std::max<std::size_t>(1, (std::size_t{1} << bits) / 64);
  // Bitmaps are 2 MiB each at 24 bits: bound their number, not the thread count's effect on the result.
  const int mark_threads = std::min(threads, 8);
  std::vector<std::uint64_t> maps(static_cast<std::size_t>(mark_threads) * words, 0);
  // Each thread marks its own bitmap; OR does not care who marked what.
  for_chunks_with_tid(n, mark_threads, [&](std::size_t tid, std::size_t b, std::size_t e) {
    std::uint64_t* own = maps.data() + tid * words;
    split_wide<C, T>(b, e, n, stride, [&](auto wide, std::size_t lo, std::size_t hi) {
      for (std::size_t p = lo; p < hi; ++p) {
        const std::uint32_t code = code_at<decltype(wide)::value, C>(pixels, p, stride, channels);
        own[code >> 6] |= std::uint64_t{1} << (code & 63);
      }
    });
  });
  poller.poll();
  // Merge the bitmaps and rank the colours in code order, in parallel over spans of words: each span's
  // count, a prefix over the spans, then each span's ranks and colours (integer counts: exact, and the
  // same for any thread count).
  std::uint64_t* map = maps.data();
  constexpr std::size_t kSpans = 64;
  const std::size_t span = (words + kSpans - 1) / kSpans;
  const std::size_t spans = (words + span - 1) / span;
  std::vector<std::uint32_t> span_first(spans + 1, 0);
#ifdef PIXCLUST_POPCNT_DISPATCH
  const bool hw_popcount = __builtin_cpu_supports("popcnt") != 0;
#else
  const bool hw_popcount = false;
#endif
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::ptrdiff_t si = 0; si < static_cast<std::ptrdiff_t>(spans); ++si) {
    const auto sp = static_cast<std::size_t>(si);
    const std::size_t w0 = sp * span, w1 = std::min(words, w0 + span);
    for (int t = 1; t < mark_threads; ++t) {
      const std::uint64_t* other = maps.data() + static_cast<std::size_t>(t) * words;
      for (std::size_t w = w0; w < w1; ++w) map[w] |= other[w];
    }
    span_first[sp + 1] = count_bits(map + w0, w1 - w0, hw_popcount);
  }
  for (std::size_t sp = 0; sp < spans; ++sp) span_first[sp + 1] += span_first[sp];
  const std::uint32_t m = span_first[spans];

  std::vector<std::uint32_t> rank(words);
  ColorIndex<T> out;
  out.channels = channels;
  out.counts.assign(m, 0);
  out.colors.resize(std::size_t{m} * channels);
  const std::size_t vbits = 8 * sizeof(T);
  const std::uint32_t vmask = (std::uint32_t{1} << vbits) - 1;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::ptrdiff_t si = 0; si < static_cast<std::ptrdiff_t>(spans); ++si) {
    const auto sp = static_cast<std::size_t>(si);
    std::size_t r = span_first[sp];
    for (std::size_t w = sp * span; w < std::min(words, (sp + 1) * span); ++w) {
      rank[w] = static_cast<std::uint32_t>(r);
      std::uint64_t word = map[w];
      while (word) {
        const auto bit = static_cast<std::uint32_t>(ctz64(word));
        word &= word - 1;
        const std::uint32_t code = static_cast<std::uint32_t>(w) * 64 + bit;
        for (std::size_t t = 0; t < channels; ++t)
          out.colors[r * channels + t] = static_cast<T>((code >> (vbits * (channels - 1 - t))) & vmask);
        ++r;
      }
    }
  }

  // Per-thread counts when they are small next to the image; else one thread counts.
  const bool split = static_cast<std::size_t>(threads) * m <= std::max<std::size_t>(n, std::size_t{1} << 20);
  const int count_threads = split ? threads : 1;
  // 32-bit counts (n < 2^31 is checked by the caller): half the bytes of the randomly updated table.
  std::vector<std::uint32_t> counts(static_cast<std::size_t>(count_threads) * m, 0);
  for_chunks_with_tid(n, count_threads, [&](std::size_t tid, std::size_t b, std::size_t e) {
    std::uint32_t* cnt = counts.data() + tid * m;
#ifdef PIXCLUST_POPCNT_DISPATCH
    if (hw_popcount) {
      rank_and_count_popcnt<C>(pixels, b, e, n, channels, stride, map, rank.data(), pixel_color, cnt);
      return;
    }
#endif
    rank_and_count<C>(pixels, b, e, n, channels, stride, map, rank.data(), pixel_color, cnt);
  });
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::ptrdiff_t sj = 0; sj < static_cast<std::ptrdiff_t>(m); ++sj) {
    const auto j = static_cast<std::size_t>(sj);
    std::int64_t c = 0;
    for (int t = 0; t < count_threads; ++t) c += counts[static_cast<std::size_t>(t) * m + j];
    out.counts[j] = c;
  }
  poller.poll();
  return out;
}

// Hash path: one pass in pixel order numbers the colours by first appearance; then they are sorted
// (lexicographically, as the bitmap path orders them) and the pixels renumbered, so that the index does
// not depend on the pixel order.
template <class T>
ColorIndex<T> index_hash(const T* pixels, std::size_t n, std::size_t channels, std::size_t stride,
                         std::int32_t* pixel_color, int threads, detail::CancelPoller& poller) {
  ColorIndex<T> out;
  out.channels = channels;
  std::size_t cap = 1 << 16;
  std::vector<std::int32_t> table(cap, -1);
  T px[4];
  auto hash = [&](const T* v) {
    std::uint64_t h = 0x9E3779B97F4A7C15ull;
    for (std::size_t t = 0; t < channels; ++t) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, v + t, sizeof(T));
      h = (h ^ bits) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 29;
    }
    return h;
  };
  auto equal = [&](const T* a, const T* b) {
    for (std::size_t t = 0; t < channels; ++t)
      if (!(a[t] == b[t])) return false;
    return true;
  };
  auto insert_slot = [&](const T* v) -> std::size_t {
    std::size_t s = static_cast<std::size_t>(hash(v)) & (cap - 1);
    while (table[s] >= 0 && !equal(out.colors.data() + static_cast<std::size_t>(table[s]) * channels, v))
      s = (s + 1) & (cap - 1);
    return s;
  };
  for (std::size_t p = 0; p < n; ++p) {
    for (std::size_t t = 0; t < channels; ++t) {
      T v = pixels[p * stride + t];
      if constexpr (std::is_floating_point_v<T>) {
        if (v == T(0)) v = T(0);  // -0.0 and 0.0 are one colour
      }
      px[t] = v;
    }
    const std::size_t s = insert_slot(px);
    std::int32_t id = table[s];
    if (id < 0) {
      id = static_cast<std::int32_t>(out.counts.size());
      table[s] = id;
      out.colors.insert(out.colors.end(), px, px + channels);
      out.counts.push_back(0);
      if (out.counts.size() * 2 > cap) {  // keep the load under one half
        cap *= 2;
        table.assign(cap, -1);
        for (std::size_t j = 0; j < out.counts.size(); ++j)
          table[insert_slot(out.colors.data() + j * channels)] = static_cast<std::int32_t>(j);
      }
    }
    ++out.counts[static_cast<std::size_t>(id)];
    if (pixel_color) pixel_color[p] = id;
    if ((p & ((std::size_t{1} << 20) - 1)) == 0) poller.poll();
  }
  table = std::vector<std::int32_t>();
  const std::size_t m = out.size();
  std::vector<std::int32_t> order(m);
  for (std::size_t j = 0; j < m; ++j) order[j] = static_cast<std::int32_t>(j);
  const T* cols = out.colors.data();
  std::sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
    const T* ca = cols + static_cast<std::size_t>(a) * channels;
    const T* cb = cols + static_cast<std::size_t>(b) * channels;
    return std::lexicographical_compare(ca, ca + channels, cb, cb + channels);
  });
  poller.poll();
  std::vector<std::int32_t> rank(m);
  ColorIndex<T> sorted;
  sorted.channels = channels;
  sorted.colors.resize(m * channels);
  sorted.counts.resize(m);
  for (std::size_t r = 0; r < m; ++r) {
    const auto j = static_cast<std::size_t>(order[r]);
    rank[j] = static_cast<std::int32_t>(r);
    std::copy(cols + j * channels, cols + (j + 1) * channels, sorted.colors.data() + r * channels);
    sorted.counts[r] = out.counts[j];
  }
  if (pixel_color) remap_with(pixel_color, n, rank.data(), threads);
  return sorted;
}

}  // namespace

template <class T>
ColorIndex<T> index_colors(const T* pixels, std::size_t n, std::size_t channels, std::size_t stride,
                           std::int32_t* pixel_color, int n_threads, const CancelCheck& cancel) {
  if (channels < 1 || channels > 4) throw std::invalid_argument("index_colors: channels must be 1 to 4");
  if (stride < channels) throw std::invalid_argument("index_colors: stride must be >= channels");
  if (n >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw std::length_error("index_colors: 2^31 pixels or more");
  detail::CancelPoller poller(cancel);
  if (n == 0) {
    ColorIndex<T> out;
    out.channels = channels;
    return out;
  }
  if constexpr (std::is_integral_v<T>) {
    if (channels * 8 * sizeof(T) <= 24) {
      [[maybe_unused]] const int threads = detail::resolve_threads(n_threads);
      if (channels == 3) return index_bitmap<3>(pixels, n, channels, stride, pixel_color, threads, poller);
      return index_bitmap<0>(pixels, n, channels, stride, pixel_color, threads, poller);
    }
  }
  return index_hash(pixels, n, channels, stride, pixel_color, detail::resolve_threads(n_threads), poller);
}

bool indices_in_range(const std::int32_t* values, std::size_t n, std::int64_t limit, int n_threads) {
  if (n == 0) return true;
  constexpr std::size_t kSpan = 1 << 16;
  const std::size_t spans = (n + kSpan - 1) / kSpan;
  std::vector<std::int32_t> lo(spans), hi(spans);
  [[maybe_unused]] const int threads = detail::resolve_threads(n_threads);
  // Each span's min and max (a loop without an early exit, which the compiler vectorises), then the test.
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
  for (std::ptrdiff_t ss = 0; ss < static_cast<std::ptrdiff_t>(spans); ++ss) {
    const auto sp = static_cast<std::size_t>(ss);
    const std::size_t b = sp * kSpan, e = std::min(n, b + kSpan);
    std::int32_t l = values[b], h = values[b];
    for (std::size_t i = b + 1; i < e; ++i) {
      l = std::min(l, values[i]);
      h = std::max(h, values[i]);
    }
    lo[sp] = l;
    hi[sp] = h;
  }
  return *std::min_element(lo.begin(), lo.end()) >= 0 &&
         static_cast<std::int64_t>(*std::max_element(hi.begin(), hi.end())) < limit;
}

namespace {

// Whether every table entry is a byte (cluster labels of k <= 256).
bool all_bytes(const std::int32_t* table, std::size_t n) {
  return std::all_of(table, table + n, [](std::int32_t v) { return v >= 0 && v < 256; });
}

}  // namespace

void remap_labels(std::int32_t* values, std::size_t n, const std::int32_t* table, std::size_t table_size,
                  int n_threads) {
  const int threads = detail::resolve_threads(n_threads);
  if (!indices_in_range(values, n, static_cast<std::int64_t>(table_size), threads))
    throw std::invalid_argument("remap_labels: an entry of values is not an index into table");
  // Cluster labels below 256 (k <= 256): a byte table, a quarter of the bytes that the random reads
  // (one per value) pull through the caches.
  if (all_bytes(table, table_size) && table_size >= 4096) {
    const std::vector<std::uint8_t> narrow(table, table + table_size);
    remap_with(values, n, narrow.data(), threads);
  } else {
    remap_with(values, n, table, threads);
  }
}

void remap_labels_u8(const std::int32_t* values, std::size_t n, const std::int32_t* table, std::size_t table_size,
                     std::uint8_t* out, int n_threads) {
  const int threads = detail::resolve_threads(n_threads);
  if (!all_bytes(table, table_size))
    throw std::invalid_argument("remap_labels_u8: an entry of table is not in [0, 256)");
  if (!indices_in_range(values, n, static_cast<std::int64_t>(table_size), threads))
    throw std::invalid_argument("remap_labels_u8: an entry of values is not an index into table");
  const std::vector<std::uint8_t> narrow(table, table + table_size);
  remap_into(values, n, narrow.data(), out, threads);
}

namespace {

// Whether the n colours are strictly increasing and their counts non-negative: what a linear merge needs.
template <class T>
bool sorted_index(const T* colors, const std::int64_t* counts, std::size_t n, std::size_t channels) {
  for (std::size_t j = 0; j < n; ++j) {
    if (counts[j] < 0) return false;
    const T* c = colors + j * channels;
    if (j > 0 && !std::lexicographical_compare(c - channels, c, c, c + channels)) return false;
  }
  return true;
}

}  // namespace

template <class T>
ColorIndex<T> merge_color_counts(const T* colors_a, const std::int64_t* counts_a, std::size_t n_a,
                                 const T* colors_b, const std::int64_t* counts_b, std::size_t n_b,
                                 std::size_t channels) {
  if (channels < 1) throw std::invalid_argument("merge_color_counts: channels must be >= 1");
  if (!sorted_index(colors_a, counts_a, n_a, channels) || !sorted_index(colors_b, counts_b, n_b, channels))
    throw std::invalid_argument(
        "merge_color_counts: the colours must be strictly increasing and the counts non-negative");
  ColorIndex<T> out;
  out.channels = channels;
  out.colors.reserve((n_a + n_b) * channels);
  out.counts.reserve(n_a + n_b);
  std::size_t i = 0, j = 0;
  while (i < n_a || j < n_b) {
    const T* ca = colors_a + i * channels;
    const T* cb = colors_b + j * channels;
    const bool take_a = j == n_b || (i < n_a && !std::lexicographical_compare(cb, cb + channels, ca, ca + channels));
    const bool take_b = i == n_a || (j < n_b && !std::lexicographical_compare(ca, ca + channels, cb, cb + channels));
    std::int64_t count = 0;
    if (take_a) count = counts_a[i];
    if (take_b) {
      // both are non-negative (checked above), so this is the whole overflow test
      if (counts_b[j] > std::numeric_limits<std::int64_t>::max() - count)
        throw std::overflow_error("merge_color_counts: a summed count passes 2^63 - 1");
      count += counts_b[j];
    }
    const T* c = take_a ? ca : cb;
    out.colors.insert(out.colors.end(), c, c + channels);
    out.counts.push_back(count);
    i += take_a ? 1 : 0;
    j += take_b ? 1 : 0;
  }
  return out;
}

template <class T>
void paint_pixels(const std::int32_t* labels, std::size_t n, const T* palette, std::size_t channels,
                  const T* src, std::size_t stride, T* out, int n_threads) {
  [[maybe_unused]] const int threads = detail::resolve_threads(n_threads);
  const bool keep = stride > channels && src != nullptr;
#pragma omp parallel for schedule(dynamic, 65536) num_threads(threads)
  for (std::ptrdiff_t sp = 0; sp < static_cast<std::ptrdiff_t>(n); ++sp) {
    const auto p = static_cast<std::size_t>(sp);
    const T* colour = palette + static_cast<std::size_t>(labels[p]) * channels;
    T* o = out + p * stride;
    for (std::size_t t = 0; t < channels; ++t) o[t] = colour[t];
    if (keep)
      for (std::size_t t = channels; t < stride; ++t) o[t] = src[p * stride + t];
  }
}

template <class T>
IntegerMoments integer_moments(const T* points, std::size_t n, std::size_t d, const std::int64_t* weights) {
  // Every sum is at most sum(w) * max(T)^2, and each partial total is checked before it is used: no
  // int64 operation below can overflow (fuzz seed core_index-moments-past-bound, UBSan).
  constexpr auto top = static_cast<std::int64_t>(std::numeric_limits<T>::max());
  constexpr std::int64_t limit = std::numeric_limits<std::int64_t>::max() / (top * top);
  IntegerMoments out;
  out.s1.assign(d, 0);
  out.s2.assign(d, 0);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (weights[i] < 0) throw std::invalid_argument("integer_moments: weights must be non-negative");
    if (weights[i] > limit - total)
      throw std::invalid_argument("integer_moments: sum(weights) * max(T)^2 must stay below 2^63");
    total += weights[i];
  }
  out.total = total;
  // One pass, no temporary (a fresh 4 MB buffer costs more in page faults than the sums). The pixel
  // widths get the width at compile time and the sums in locals (registers).
  detail::dispatch_dim(d, [&](auto width) {
    constexpr std::size_t D = decltype(width)::value;
    const std::size_t dim = D > 0 ? D : d;
    std::int64_t a1[D > 0 ? D : 1] = {}, a2[D > 0 ? D : 1] = {};
    std::int64_t* t1 = D > 0 ? a1 : out.s1.data();
    std::int64_t* t2 = D > 0 ? a2 : out.s2.data();
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t iw = weights[i];
      for (std::size_t t = 0; t < dim; ++t) {
        const auto v = static_cast<std::int64_t>(points[i * dim + t]);
        t1[t] += iw * v;
        t2[t] += iw * v * v;
      }
    }
    if (D > 0) {
      std::copy(a1, a1 + dim, out.s1.begin());
      std::copy(a2, a2 + dim, out.s2.begin());
    }
  });
  return out;
}

template IntegerMoments integer_moments<std::uint8_t>(const std::uint8_t*, std::size_t, std::size_t,
                                                      const std::int64_t*);
template IntegerMoments integer_moments<std::uint16_t>(const std::uint16_t*, std::size_t, std::size_t,
                                                       const std::int64_t*);

#define PIXCLUST_PAINT_INSTANTIATE(T)                                                                 \
  template void paint_pixels<T>(const std::int32_t*, std::size_t, const T*, std::size_t, const T*, \
                                std::size_t, T*, int);
PIXCLUST_PAINT_INSTANTIATE(std::uint8_t)
PIXCLUST_PAINT_INSTANTIATE(std::uint16_t)
PIXCLUST_PAINT_INSTANTIATE(float)
PIXCLUST_PAINT_INSTANTIATE(double)
#undef PIXCLUST_PAINT_INSTANTIATE

#define PIXCLUST_MERGE_INSTANTIATE(T)                                                              \
  template ColorIndex<T> merge_color_counts<T>(const T*, const std::int64_t*, std::size_t, const T*, \
                                               const std::int64_t*, std::size_t, std::size_t);
PIXCLUST_MERGE_INSTANTIATE(std::uint8_t)
PIXCLUST_MERGE_INSTANTIATE(std::uint16_t)
#undef PIXCLUST_MERGE_INSTANTIATE

template ColorIndex<std::uint8_t> index_colors<std::uint8_t>(const std::uint8_t*, std::size_t, std::size_t,
                                                             std::size_t, std::int32_t*, int, const CancelCheck&);
template ColorIndex<std::uint16_t> index_colors<std::uint16_t>(const std::uint16_t*, std::size_t, std::size_t,
                                                               std::size_t, std::int32_t*, int, const CancelCheck&);
template ColorIndex<float> index_colors<float>(const float*, std::size_t, std::size_t, std::size_t, std::int32_t*,
                                               int, const CancelCheck&);
template ColorIndex<double> index_colors<double>(const double*, std::size_t, std::size_t, std::size_t,
                                                 std::int32_t*, int, const CancelCheck&);

}  // namespace pixclust
