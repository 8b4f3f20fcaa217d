// Greedy k-means++ seeding, weighted, as scikit-learn's `_kmeans_plusplus` does it; the random numbers
// come from the caller.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "bits.hpp"
#include "kmeans_detail.hpp"
#include "pixclust/color_index.hpp"
#include "pixclust/kmeans.hpp"

namespace pixclust {

namespace {

using detail::kPointsPerChunk;
using detail::sqdist;

// The first index whose running sum of mass(i) passes target, found through the per-chunk sums
// (fixed chunks, so the running sum, and the index, do not depend on the thread count). "Passes" is
// ">=" when `reached` (numpy's searchsorted(side="left"): scikit-learn's draws of candidates) and ">"
// otherwise (side="right": numpy's choice, which draws the first centre). When rounding leaves target
// beyond the total, the last point with positive mass.
inline bool passes(double run, double target, bool reached) noexcept { return reached ? run >= target : run > target; }

template <class Mass>
std::size_t scan_chunk(std::size_t n, std::size_t c, double run, double target, bool reached, Mass&& mass) {
  const std::size_t end = std::min(n, (c + 1) * kPointsPerChunk);
  for (std::size_t i = c * kPointsPerChunk; i < end; ++i) {
    run += mass(i);
    if (passes(run, target, reached)) return i;
  }
  return n;
}

template <class Mass>
std::size_t last_with_mass(std::size_t n, Mass&& mass) {
  for (std::size_t i = n; i-- > 0;)
    if (mass(i) > 0.0) return i;
  return n - 1;
}

template <class Mass>
std::size_t sample_index(std::size_t n, const std::vector<double>& chunk_sums, double target, bool reached,
                         Mass&& mass) {
  double run = 0.0;
  std::size_t c = 0;
  for (; c < chunk_sums.size(); ++c) {
    if (passes(run + chunk_sums[c], target, reached)) break;
    run += chunk_sums[c];
  }
  if (c < chunk_sums.size()) {
    const std::size_t i = scan_chunk(n, c, run, target, reached, mass);
    if (i < n) return i;
  }
  return last_with_mass(n, mass);
}

// Sums the candidates' per-chunk potentials in chunk order (cand_part is chunks x trials) and returns
// the candidate with the lowest potential, the first of equals. Sum is double or an exact integer type.
template <class Sum>
std::size_t best_candidate(const std::vector<Sum>& cand_part, std::size_t chunks, std::size_t trials,
                           std::vector<Sum>& cand_pot) {
  std::fill(cand_pot.begin(), cand_pot.end(), Sum{0});
  for (std::size_t c = 0; c < chunks; ++c)
    for (std::size_t t = 0; t < trials; ++t) cand_pot[t] += cand_part[c * trials + t];
  std::size_t best = 0;
  for (std::size_t t = 1; t < trials; ++t)
    if (cand_pot[t] < cand_pot[best]) best = t;
  return best;
}

// Chunks are summed for the draws a slice (1/32 of them, at least enough to share out) at a time.
std::size_t draw_slice(std::size_t chunks) {
  constexpr std::size_t kSlices = 32;
  return std::max<std::size_t>(4 * detail::kMinChunksPerThread, (chunks + kSlices - 1) / kSlices);
}

// sums[c] = chunk_sum(chunk c's samples) for the chunks [first, last), in parallel.
template <class ChunkSum>
void sum_chunks(std::size_t n_draw, std::vector<double>& sums, std::size_t first, std::size_t last, int threads,
                detail::CancelPoller& poller, ChunkSum& chunk_sum) {
  detail::for_items(last - first, detail::kMinChunksPerThread, threads, poller, [&](std::size_t j) {
    const std::size_t c = first + j;
    sums[c] = chunk_sum(c * kPointsPerChunk, std::min(n_draw, (c + 1) * kPointsPerChunk));
  });
}

// Draw sums along the samples, only as far as the draws will look. A draw stops at the first chunk
// where the running sum of the chunk sums passes its target, so for targets up to `reach` the chunks
// after the one where the running sum (the same additions, in the same order) passes `reach` are never
// read. Chunks are summed a slice at a time, in order, and the summing stops after the
// slice that passes `reach`: with u uniform, the largest of the draws' targets is on average
// trials / (trials + 1) of the way (k-means++'s passes along the pixels are most of its time on a
// photo). chunk_sum(begin, end) -> double. Returns how many chunks, from the first, are summed.
template <class ChunkSum>
std::size_t draw_sums_upto(std::size_t n_draw, std::vector<double>& sums, double reach, int threads,
                           detail::CancelPoller& poller, ChunkSum&& chunk_sum) {
  const std::size_t chunks = sums.size(), slice = draw_slice(chunks);
  double run = 0.0;
  std::size_t head = 0;
  while (head < chunks) {
    const std::size_t last = std::min(chunks, head + slice);
    sum_chunks(n_draw, sums, head, last, threads, poller, chunk_sum);
    for (std::size_t c = head; c < last; ++c) run += sums[c];
    head = last;
    if (run >= reach) break;
  }
  return head;
}

// The draws of one centre along the samples when every mass is an integer and `total` is their exact
// sum, so that running sums are exact in any order: each target is found from whichever end of the
// samples is nearer. The sorted targets split at the widest gap of 0, t1, ..., tT, total: those below
// it are found from the start through the running sum of the chunk sums (as sample_index does), those
// above it from the end, the running sum before a chunk being total minus the chunks after it; the
// chunks in the gap are never summed. With u uniform and T = 4 draws, the widest of the 5 gaps is on
// average 0.46 of the total, so a pass reads 0.54 of the samples instead of the 0.8 up to the largest
// target. chunk_sum(begin, end) and mass(i) are exact integers as doubles; picks[t] gets target t's
// sample, the same as sample_index(..., reached = true) gives.
template <class ChunkSum, class Mass>
void draw_from_both_ends(std::size_t n_draw, std::vector<double>& sums, const double* targets, std::size_t trials,
                         double total, int threads, detail::CancelPoller& poller, ChunkSum&& chunk_sum,
                         Mass&& mass, std::size_t* picks) {
  const std::size_t chunks = sums.size();
  std::vector<double> sorted(targets, targets + trials);
  std::sort(sorted.begin(), sorted.end());
  std::size_t below = trials;  // targets found from the start
  double widest = total - sorted[trials - 1];
  for (std::size_t a = 0; a < trials; ++a) {
    const double gap = sorted[a] - (a > 0 ? sorted[a - 1] : 0.0);
    if (gap > widest) {
      widest = gap;
      below = a;
    }
  }
  // From the start, until the running sum reaches the largest target below the gap.
  const std::size_t head = below > 0 ? draw_sums_upto(n_draw, sums, sorted[below - 1], threads, poller, chunk_sum) : 0;
  // From the end, until the running sum before the slice is below the smallest target above the gap.
  if (below < trials) {
    const std::size_t slice = draw_slice(chunks);
    double after = 0.0;
    std::size_t tail = chunks;  // chunks [tail, chunks) are summed
    while (tail > head) {
      const std::size_t first = tail > head + slice ? tail - slice : head;
      sum_chunks(n_draw, sums, first, tail, threads, poller, chunk_sum);
      for (std::size_t c = tail; c-- > first;) after += sums[c];
      tail = first;
      if (total - after < sorted[below]) break;
    }
  }
  for (std::size_t t = 0; t < trials; ++t) {
    const double target = targets[t];
    if (below > 0 && target <= sorted[below - 1]) {
      picks[t] = sample_index(n_draw, sums, target, true, mass);
      continue;
    }
    std::size_t pick = n_draw;
    double after = 0.0;
    for (std::size_t c = chunks; c-- > 0;) {
      const double before = total - (after + sums[c]);
      if (c == 0 || before < target) {
        pick = scan_chunk(n_draw, c, before, target, true, mass);
        break;
      }
      after += sums[c];
    }
    picks[t] = pick < n_draw ? pick : last_with_mass(n_draw, mass);
  }
}

// The largest of the draws' targets u[t] * total, computed as draw() computes them.
inline double largest_target(const double* u, std::size_t trials, double total) {
  double reach = 0.0;
  for (std::size_t t = 0; t < trials; ++t) reach = std::max(reach, u[t] * total);
  return reach;
}

// Writes point i of X (d coordinates) as centre `slot`.
template <class T>
inline void put_center(const T* X, std::size_t d, double* centers, std::int64_t* indices, std::size_t slot,
                       std::size_t i) {
  for (std::size_t t = 0; t < d; ++t) centers[slot * d + t] = static_cast<double>(X[i * d + t]);
  indices[slot] = static_cast<std::int64_t>(i);
}

// The steps both seedings share: draws go along the samples when a sampling order is given, else along
// the points; `sums` holds the per-chunk sums of the mass drawn from.
struct Draws {
  Draws(const SamplingOrder& o, std::size_t n)
      : order(o), along_samples(o.point != nullptr), n_draw(along_samples ? o.size : n),
        sums(detail::n_chunks(n_draw), 0.0) {}
  // The point drawn by u along the running sum of mass (whose total is `total`).
  template <class Mass>
  std::size_t draw(double u, double total, bool reached, Mass&& mass) const {
    const std::size_t s = sample_index(n_draw, sums, u * total, reached, mass);
    return along_samples ? static_cast<std::size_t>(order.point[s]) : s;
  }
  // Unit weights along the samples: each chunk weighs its length.
  void unit_sums() {
    for (std::size_t c = 0; c < sums.size(); ++c)
      sums[c] = static_cast<double>(std::min(n_draw, (c + 1) * kPointsPerChunk) - c * kPointsPerChunk);
  }
  const SamplingOrder& order;
  bool along_samples;
  std::size_t n_draw;
  std::vector<double> sums;
};

template <std::size_t D, class T>
std::size_t plusplus(const T* X, std::size_t n, std::size_t d, const double* w, std::size_t k, std::size_t trials,
                     const double* uniforms, double* centers, std::int64_t* indices, const SamplingOrder& order,
                     int threads, detail::CancelPoller& poller) {
  const std::size_t chunks = detail::n_chunks(n);
  auto weight = [w](std::size_t i) { return w ? w[i] : 1.0; };
  Draws draws(order, n);
  const bool along_samples = draws.along_samples;
  const std::size_t n_draw = draws.n_draw;
  std::vector<double>& draw_sums = draws.sums;
  auto sample_weight = [&](std::size_t s) { return order.weight ? order.weight[s] : 1.0; };
  auto draw = [&](double u, double total, bool reached, auto&& mass) { return draws.draw(u, total, reached, mass); };

  // First centre: drawn with probability proportional to the weights.
  std::vector<double> chunk_sums(chunks, 0.0);
  if (along_samples) {
    if (order.weight) {
      detail::for_chunks(n_draw, threads, poller, [&](std::size_t c, std::size_t b, std::size_t e) {
        double s = 0.0;
        for (std::size_t i = b; i < e; ++i) s += sample_weight(i);
        draw_sums[c] = s;
      });
    } else {
      draws.unit_sums();
    }
    double total = 0.0;
    for (double s : draw_sums) total += s;
    put_center(X, d, centers, indices, 0, draw(uniforms[0], total, false, sample_weight));
  } else {
    detail::for_chunks(n, threads, poller, [&](std::size_t c, std::size_t b, std::size_t e) {
      double s = 0.0;
      for (std::size_t i = b; i < e; ++i) s += weight(i);
      draw_sums[c] = s;
    });
    double total = 0.0;
    for (double s : draw_sums) total += s;
    put_center(X, d, centers, indices, 0, draw(uniforms[0], total, false, weight));
  }

  // closest[i]: squared distance of point i to its nearest chosen centre.
  std::vector<double> closest(n);
  double pot = 0.0;
  auto update_closest = [&](const double* c0, bool first) {
    detail::for_chunks(n, threads, poller, [&](std::size_t c, std::size_t b, std::size_t e) {
      double s = 0.0;
      for (std::size_t i = b; i < e; ++i) {
        const double dist = sqdist<D>(X + i * d, c0, d);
        closest[i] = first ? dist : std::min(closest[i], dist);
        s += weight(i) * closest[i];
      }
      chunk_sums[c] = s;
    });
    pot = 0.0;
    for (double s : chunk_sums) pot += s;
  };
  update_closest(centers, true);

  auto mass = [&](std::size_t i) { return weight(i) * closest[i]; };
  auto sample_mass = [&](std::size_t s) {
    return sample_weight(s) * closest[static_cast<std::size_t>(order.point[s])];
  };
  std::vector<std::size_t> cand(trials);
  std::vector<double> cand_pot(trials), cand_part(chunks * trials), cand_c(trials * d);
  for (std::size_t slot = 1; slot < k; ++slot) {
    // Every remaining point with positive weight sits on a chosen centre: there are only `slot` distinct
    // points (with positive weight), and no further centre would be new.
    if (!(pot > 0.0)) return slot;
    const double* u = uniforms + 1 + (slot - 1) * trials;
    if (along_samples) {
      // A pass along the samples for their per-chunk masses (the points' sums do not give them).
      draw_sums_upto(n_draw, draw_sums, largest_target(u, trials, pot), threads, poller,
                     [&](std::size_t b, std::size_t e) {
                       double s = 0.0;
                       for (std::size_t i = b; i < e; ++i) s += sample_mass(i);
                       return s;
                     });
    } else {
      draw_sums = chunk_sums;
    }
    for (std::size_t t = 0; t < trials; ++t) {
      cand[t] = along_samples ? draw(u[t], pot, true, sample_mass) : draw(u[t], pot, true, mass);
      for (std::size_t q = 0; q < d; ++q) cand_c[t * d + q] = static_cast<double>(X[cand[t] * d + q]);
    }
    // The potential each candidate would leave, to keep the best (the first of equals).
    detail::for_chunks(n, threads, poller, [&](std::size_t c, std::size_t b, std::size_t e) {
      double* part = cand_part.data() + c * trials;
      std::fill(part, part + trials, 0.0);
      for (std::size_t i = b; i < e; ++i) {
        const T* x = X + i * d;
        for (std::size_t t = 0; t < trials; ++t) {
          const double dist = sqdist<D>(x, cand_c.data() + t * d, d);
          part[t] += weight(i) * std::min(closest[i], dist);
        }
      }
    });
    const std::size_t best = best_candidate(cand_part, chunks, trials, cand_pot);
    put_center(X, d, centers, indices, slot, cand[best]);
    update_closest(centers + slot * d, false);
  }
  return k;
}

// The points' Morton (bit-interleaved) order: points close in it are close in every channel, so that
// boxes of consecutive points in it are small (on a photo's colours, about 23 units across against 98
// along the colours sorted by value) and the box tests skip more. A stable LSD radix sort, a byte a pass.
template <std::size_t D>
std::vector<std::uint32_t> morton_order(const std::uint8_t* X, std::size_t n) {
  std::uint32_t spread[D][256];
  for (std::size_t t = 0; t < D; ++t) {
    for (std::uint32_t v = 0; v < 256; ++v) {
      std::uint32_t bits = 0;
      for (std::uint32_t b = 0; b < 8; ++b)
        bits |= ((v >> b) & 1u) << (b * static_cast<std::uint32_t>(D) + static_cast<std::uint32_t>(D - 1 - t));
      spread[t][v] = bits;
    }
  }
  std::vector<std::uint32_t> key(n), order(n), key_next(n), order_next(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t kv = 0;
    for (std::size_t t = 0; t < D; ++t) kv |= spread[t][X[i * D + t]];
    key[i] = kv;
    order[i] = static_cast<std::uint32_t>(i);
  }
  for (std::size_t pass = 0; pass < D; ++pass) {
    const auto shift = static_cast<unsigned>(8 * pass);
    std::size_t at[257] = {};
    for (std::size_t i = 0; i < n; ++i) ++at[((key[i] >> shift) & 255u) + 1];
    for (std::size_t v = 0; v < 256; ++v) at[v + 1] += at[v];
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t to = at[(key[i] >> shift) & 255u]++;
      key_next[to] = key[i];
      order_next[to] = order[i];
    }
    key.swap(key_next);
    order.swap(order_next);
  }
  return order;
}

// The per-box kernels of plusplus_u8's passes, built for the widest instructions this CPU runs (AVX2:
// twice SSE2's integer lanes; the same integers from each).

// Squared distances from the positions [b, e) of D 8-bit columns of n values to the point c, into
// out[0, e - b).
template <std::size_t D>
PIXCLUST_ALWAYS_INLINE void column_distances_impl(const std::uint8_t* __restrict col, std::size_t n,
                                                  const std::int32_t* c,
                                                  std::size_t b, std::size_t e, std::uint32_t* __restrict out) {
  for (std::size_t i = b; i < e; ++i) {
    std::uint32_t s = 0;
    for (std::size_t t = 0; t < D; ++t) {
      const std::int32_t diff = static_cast<std::int32_t>(col[t * n + i]) - c[t];
      s += static_cast<std::uint32_t>(diff * diff);
    }
    out[i - b] = s;
  }
}

// The sum of wt[q] * min(closest[q], dist[q]) for q < m: the potential a candidate leaves on a box.
PIXCLUST_ALWAYS_INLINE std::uint64_t capped_potential_impl(const std::uint32_t* __restrict dist,
                                                           const std::uint32_t* __restrict closest,
                                                           const std::uint32_t* __restrict wt, std::size_t m) {
  std::uint64_t s = 0;
  for (std::size_t q = 0; q < m; ++q) s += static_cast<std::uint64_t>(wt[q]) * std::min(closest[q], dist[q]);
  return s;
}

#ifdef PIXCLUST_AVX2_DISPATCH
template <std::size_t D>
__attribute__((target("avx2"))) void column_distances_avx2(const std::uint8_t* col, std::size_t n,
                                                           const std::int32_t* c, std::size_t b, std::size_t e,
                                                           std::uint32_t* out) {
  column_distances_impl<D>(col, n, c, b, e, out);
}
__attribute__((target("avx2"))) std::uint64_t capped_potential_avx2(const std::uint32_t* dist,
                                                                    const std::uint32_t* closest,
                                                                    const std::uint32_t* wt, std::size_t m) {
  return capped_potential_impl(dist, closest, wt, m);
}
#endif

template <std::size_t D>
void column_distances(const std::uint8_t* col, std::size_t n, const std::int32_t* c, std::size_t b, std::size_t e,
                      std::uint32_t* out) {
#ifdef PIXCLUST_AVX2_DISPATCH
  if (detail::cpu_has_avx2()) return column_distances_avx2<D>(col, n, c, b, e, out);
#endif
  column_distances_impl<D>(col, n, c, b, e, out);
}

std::uint64_t capped_potential(const std::uint32_t* dist, const std::uint32_t* closest, const std::uint32_t* wt,
                               std::size_t m) {
#ifdef PIXCLUST_AVX2_DISPATCH
  if (detail::cpu_has_avx2()) return capped_potential_avx2(dist, closest, wt, m);
#endif
  return capped_potential_impl(dist, closest, wt, m);
}

// plusplus_u8's view of the points: coordinates as separate 8-bit columns (widened in the loops), weights
// and distances as 32-bit integers (4 * 255^2 < 2^32), all in Morton order (perm[q]: the point at
// position q), and the positions in boxes of kBox with each box's bounding box: when a centre is at
// least as far from a box as the farthest of its points is from its nearest chosen centre, no point of
// the box comes closer, and the box's sum is known without a distance. Every sum the seeding compares
// is an exact integer, so the order changes none of them.
template <std::size_t D>
struct U8Columns {
  static constexpr std::size_t kBox = 256;
  static_assert(kPointsPerChunk % kBox == 0, "chunks hold whole boxes");

  U8Columns(const std::uint8_t* X, std::size_t n, const double* w, int threads, detail::CancelPoller& poller)
      : perm(morton_order<D>(X, n)), col(D * n), wt(n), boxes((n + kBox - 1) / kBox), box_lo(boxes * D),
        box_hi(boxes * D) {
    detail::for_chunks(n, threads, poller, [&](std::size_t, std::size_t b, std::size_t e) {
      for (std::size_t q = b; q < e; ++q) {
        const std::size_t i = perm[q];
        for (std::size_t t = 0; t < D; ++t) col[t * n + q] = X[i * D + t];
        wt[q] = w ? static_cast<std::uint32_t>(w[i]) : 1u;
      }
      for (std::size_t bx = b / kBox; bx * kBox < e; ++bx) {
        for (std::size_t t = 0; t < D; ++t) {
          const std::uint8_t* x = col.data() + t * n;
          std::uint8_t lo = 255, hi = 0;
          for (std::size_t i = bx * kBox; i < std::min(e, (bx + 1) * kBox); ++i) {
            lo = std::min(lo, x[i]);
            hi = std::max(hi, x[i]);
          }
          box_lo[bx * D + t] = lo;
          box_hi[bx * D + t] = hi;
        }
      }
    });
  }

  // The squared distance from point ci to box bx's bounding box: a lower bound of its points' distances.
  std::uint32_t box_bound(const std::uint8_t* X, std::size_t bx, std::size_t ci) const {
    std::uint32_t lb = 0;
    for (std::size_t t = 0; t < D; ++t) {
      const std::int32_t v = X[ci * D + t], lo = box_lo[bx * D + t], hi = box_hi[bx * D + t];
      const std::int32_t gap = v < lo ? lo - v : (v > hi ? v - hi : 0);
      lb += static_cast<std::uint32_t>(gap * gap);
    }
    return lb;
  }

  // Squared distances from the points at positions [b, e) to point `ci`, into out[0, e - b).
  void distances_to(const std::uint8_t* X, std::size_t n, std::size_t ci, std::size_t b, std::size_t e,
                    std::uint32_t* out) const {
    std::int32_t c[D];
    for (std::size_t t = 0; t < D; ++t) c[t] = X[ci * D + t];
    column_distances<D>(col.data(), n, c, b, e, out);
  }

  // pos[p]: the position of point p (perm's inverse).
  std::vector<std::uint32_t> positions(int threads, detail::CancelPoller& poller) const {
    std::vector<std::uint32_t> pos(perm.size());
    detail::for_chunks(perm.size(), threads, poller, [&](std::size_t, std::size_t b, std::size_t e) {
      for (std::size_t q = b; q < e; ++q) pos[perm[q]] = static_cast<std::uint32_t>(q);
    });
    return pos;
  }

  std::vector<std::uint32_t> perm;
  std::vector<std::uint8_t> col;
  std::vector<std::uint32_t> wt;
  std::size_t boxes;
  std::vector<std::uint8_t> box_lo, box_hi;
};

// Per-chunk integer sums that a parallel pass adds into, each thread into its own row (exact in any
// order, so the same for any thread count), then added onto or taken off running per-chunk totals.
struct ThreadRows {
  // team: the most threads of the passes that add into the rows (detail::max_team), a row each
  ThreadRows(std::size_t chunks_, std::size_t team) : chunks(chunks_), rows(team * chunks_, 0), used(team, 0) {}
  // The calling thread's row (once per chunk of work: it marks the row used).
  std::uint64_t* row() noexcept {
    const std::size_t t = detail::thread_index();
    assert(t < used.size());
    used[t] = 1;
    return rows.data() + t * chunks;
  }
  // Adds every used row onto total (or takes it off), and clears it.
  void drain(std::vector<std::uint64_t>& total, bool add) noexcept {
    for (std::size_t t = 0; t < used.size(); ++t) {
      if (!used[t]) continue;
      std::uint64_t* r = rows.data() + t * chunks;
      for (std::size_t c = 0; c < chunks; ++c) total[c] = add ? total[c] + r[c] : total[c] - r[c];
      std::fill(r, r + chunks, std::uint64_t{0});
      used[t] = 0;
    }
  }
  std::size_t chunks;
  std::vector<std::uint64_t> rows;
  std::vector<unsigned char> used;
};

// The most threads of a pass over the chunks of n points (for_chunks).
inline std::size_t pass_team(std::size_t n, int threads) noexcept {
  return detail::max_team(detail::n_chunks(n), detail::kMinChunksPerThread, threads);
}

// Along the samples, plusplus_u8's per-chunk sums of the samples' masses (each sample's point's
// distance), kept up to date from the points whose distance fell: each point's samples are stored as
// runs of (chunk, samples of the point in it), so that a change costs the point's runs, not a pass
// over every sample per centre. The runs are kept by the points' Morton positions (U8Columns), the
// order in which the seeding's passes meet the points, so that the falls of a pass read them in
// order. Exact: every sum is an integer below 2^53 (integer_seeding), so the sums, and the draws
// through them, are those of a pass over the samples, whatever order the runs and the falls are added
// in. Built in parts (contiguous ranges of chunks) in parallel; the runs are laid out in chunk order,
// the same arrays for any number of parts.
struct SampleChunkSums {
  // At most this many parts: each holds an array of n while the runs are built.
  static constexpr int kMaxParts = 4;
  // A run is one 32-bit word, its chunk above its samples less one (at most kPointsPerChunk): half the
  // bytes to build and to read at each fall.
  static constexpr unsigned kCountBits = 12;
  static_assert(kPointsPerChunk == std::size_t{1} << kCountBits, "a run's samples fill the low bits");
  // Samples the packed runs (and 32-bit run positions) can hold.
  static bool fits(std::size_t samples) noexcept { return samples <= std::size_t{0xffffffffu}; }

  // pos[p]: point p's position; the rows take the falls of passes over the positions' chunks and set's.
  SampleChunkSums(const SamplingOrder& order, const std::vector<std::uint32_t>& pos, int threads,
                  detail::CancelPoller& poller)
      : start(pos.size() + 1), pot(detail::n_chunks(order.size), 0),
        parts(std::min<std::size_t>(pot.size(), static_cast<std::size_t>(std::clamp(threads, 1, kMaxParts)))),
        rows(pot.size(), std::max(parts, pass_team(pos.size(), threads))) {
    const std::size_t n = pos.size();
    // per part and position: the chunk of its latest run in the part and, first, its runs in the part,
    // then where its next run goes (side by side: one cache miss per stretch)
    detail::RawVector<Cursor> cursor(parts * n);
    detail::for_items(parts, 1, threads, poller, [&](std::size_t part) {
      Cursor* cur = cursor.data() + part * n;
      std::fill(cur, cur + n, Cursor{kNone, 0});
      each_run(order, pos, part, cur,
               [&](Cursor& at, std::uint32_t, bool fresh, std::uint32_t) { at.next += fresh ? 1 : 0; });
    });
    // a position's runs in part j follow its runs in the parts before
    start[0] = 0;
    for (std::size_t q = 0; q < n; ++q) {
      std::uint32_t at = start[q];
      for (std::size_t part = 0; part < parts; ++part) {
        Cursor& c = cursor[part * n + q];
        const std::uint32_t runs = c.next;
        c = Cursor{kNone, at};
        at += runs;
      }
      start[q + 1] = at;
    }
    // every run is written below (where it starts), by the parts in parallel
    run.resize(start[n]);
    detail::for_items(parts, 1, threads, poller, [&](std::size_t part) {
      each_run(order, pos, part, cursor.data() + part * n,
               [&](Cursor& at, std::uint32_t c, bool fresh, std::uint32_t samples) {
                 if (fresh) run[at.next++] = (c << kCountBits) | (samples - 1);
                 else run[at.next - 1] += samples;
               });
    });
  }
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  struct Cursor {
    std::uint32_t last, next;
  };
  // f(cursor of the position, chunk, whether a new run starts, samples) for each stretch of consecutive
  // samples of one point within a chunk (more than half a photo's pixels repeat their left neighbour's
  // colour), over the part's chunks in order (cur: the part's cursors).
  template <class F>
  void each_run(const SamplingOrder& order, const std::vector<std::uint32_t>& pos, std::size_t part, Cursor* cur,
                F&& f) const {
    const std::size_t chunks = pot.size();
    std::uint64_t starts[kPointsPerChunk / 64];
    for (std::size_t c = part * chunks / parts; c < (part + 1) * chunks / parts; ++c) {
      const std::size_t b = c * kPointsPerChunk, e = std::min(order.size, b + kPointsPerChunk);
      const std::int32_t* point = order.point + b;
      const std::size_t m = e - b, words = (m + 63) / 64;
      stretch_starts(point, m, starts);
      const auto cc = static_cast<std::uint32_t>(c);
      // the stretches between set bits, found without a branch per stretch (their lengths are
      // unpredictable: a loop over the samples mispredicted once a stretch, most of the build's time)
      std::size_t from = 0;
      auto emit = [&](std::size_t to) {
        Cursor& at = cur[pos[static_cast<std::size_t>(point[from])]];
        f(at, cc, at.last != cc, static_cast<std::uint32_t>(to - from));
        at.last = cc;
        from = to;
      };
      for (std::size_t w = 0; w < words; ++w) {
        for (std::uint64_t bits = starts[w]; bits != 0; bits &= bits - 1)
          emit(w * 64 + static_cast<std::size_t>(detail::ctz64(bits)) + 1);
      }
      emit(m);
    }
  }
  // Bit i of starts (64 to a word): whether sample i + 1 of the m begins a new stretch (another point
  // than sample i), so that bit i stands for position i + 1 and sample 0, always a start, is left out.
  static void stretch_starts(const std::int32_t* point, std::size_t m, std::uint64_t* starts) noexcept {
    const std::size_t words = (m + 63) / 64;
    for (std::size_t w = 0; w < words; ++w) {
      std::uint64_t bits = 0;
      const std::size_t b = w * 64, e = std::min(m - 1, b + 64);
      for (std::size_t i = b; i < e; ++i) bits |= static_cast<std::uint64_t>(point[i + 1] != point[i]) << (i - b);
      starts[w] = bits;
    }
  }
  // Every chunk's sum from the masses by position: each part of the positions adds its runs per chunk
  // into its thread's row, then the rows are summed.
  void set(const detail::RawVector<std::uint32_t>& mass, int threads, detail::CancelPoller& poller) {
    const std::size_t n = start.size() - 1;
    detail::for_items(parts, 1, threads, poller, [&](std::size_t part) {
      std::uint64_t* row = rows.row();
      for (std::size_t q = part * n / parts; q < (part + 1) * n / parts; ++q) fall(q, mass[q], row);
    });
    std::fill(pot.begin(), pot.end(), 0);
    rows.drain(pot, true);
  }
  // Adds `by` times the samples of position q to their chunks in row (a ThreadRows row of pot's chunks).
  void fall(std::size_t q, std::uint64_t by, std::uint64_t* row) const noexcept {
    constexpr std::uint32_t kMask = (1u << kCountBits) - 1;
    for (std::uint32_t r = start[q]; r < start[q + 1]; ++r) row[run[r] >> kCountBits] += by * ((run[r] & kMask) + 1);
  }
  // The running sums of the chunks' sums before each chunk, and in all, for draw.
  void set_running() {
    running.resize(pot.size() + 1);
    running[0] = 0;
    for (std::size_t c = 0; c < pot.size(); ++c) running[c + 1] = running[c] + pot[c];
  }
  // The first of the n samples where the running sum of mass(sample) reaches target, as sample_index(...,
  // reached = true) finds it through the chunk sums. Every running sum is an exact integer in double
  // there and here, so the chunk is found by a binary search over set_running's sums instead of a walk.
  template <class Mass>
  std::size_t draw(std::size_t n, double target, Mass&& mass) const {
    const auto after = std::lower_bound(running.begin() + 1, running.end(), target,
                                        [](std::uint64_t sum, double t) { return static_cast<double>(sum) < t; });
    if (after != running.end()) {
      const auto c = static_cast<std::size_t>(after - running.begin()) - 1;
      const std::size_t i = scan_chunk(n, c, static_cast<double>(running[c]), target, true, mass);
      if (i < n) return i;
    }
    return last_with_mass(n, mass);
  }

  detail::RawVector<std::uint32_t> start;  // the runs of position q: [start[q], start[q + 1])
  detail::RawVector<std::uint32_t> run;    // chunk << kCountBits | samples - 1
  std::vector<std::uint64_t> pot, running;
  std::size_t parts;
  ThreadRows rows;  // the falls of a pass, per thread, taken off pot after it
};

// plusplus_u8's draws of the candidates of one centre along the samples (closest: the points' distances
// to their nearest centres, pot: their exact total): through the running sums when kept, else from both
// ends of the samples.
void draw_along_samples(Draws& draws, SampleChunkSums* sample_sums,
                        const detail::RawVector<std::uint32_t>& closest, const double* u, std::size_t trials,
                        std::uint64_t pot, int threads, detail::CancelPoller& poller, std::size_t* cand) {
  const SamplingOrder& order = draws.order;
  auto sample_mass = [&](std::size_t s) {
    return static_cast<double>(closest[static_cast<std::size_t>(order.point[s])]);
  };
  if (sample_sums) {  // every chunk's sum is known: no pass along the samples, the draws in parallel
    sample_sums->set_running();
    detail::for_items(trials, 1, threads, poller, [&](std::size_t t) {
      const std::size_t smp = sample_sums->draw(draws.n_draw, u[t] * static_cast<double>(pot), sample_mass);
      cand[t] = static_cast<std::size_t>(order.point[smp]);
    });
    return;
  }
  std::vector<double> targets(trials);
  for (std::size_t t = 0; t < trials; ++t) targets[t] = u[t] * static_cast<double>(pot);
  draw_from_both_ends(
      draws.n_draw, draws.sums, targets.data(), trials, static_cast<double>(pot), threads, poller,
      [&](std::size_t b, std::size_t e) {
        std::uint64_t s = 0;
        for (std::size_t i = b; i < e; ++i) s += closest[static_cast<std::size_t>(order.point[i])];
        return static_cast<double>(s);
      },
      sample_mass, cand);
  for (std::size_t t = 0; t < trials; ++t) cand[t] = static_cast<std::size_t>(order.point[cand[t]]);
}

// plusplus_u8's first centre: drawn proportionally to the integer weights (to 1 per sample along the
// samples).
template <class Weight>
void draw_first_u8(Draws& draws, const std::uint8_t* X, std::size_t d, std::size_t n, double u, Weight&& weight,
                   double* centers, std::int64_t* indices) {
  if (draws.along_samples) {
    draws.unit_sums();
    put_center(X, d, centers, indices, 0,
               draws.draw(u, static_cast<double>(draws.n_draw), false, [](std::size_t) { return 1.0; }));
    return;
  }
  std::uint64_t total = 0;
  for (std::size_t c = 0; c < draws.sums.size(); ++c) {
    std::uint64_t s = 0;
    for (std::size_t i = c * kPointsPerChunk; i < std::min(n, (c + 1) * kPointsPerChunk); ++i) s += weight(i);
    draws.sums[c] = static_cast<double>(s);
    total += s;
  }
  put_center(X, d, centers, indices, 0,
             draws.draw(u, static_cast<double>(total), false, [&](std::size_t i) { return static_cast<double>(weight(i)); }));
}

// Centres from which plusplus_u8 keeps SampleChunkSums (its making costs a few passes along the samples,
// a draw without it about half of one per centre).
constexpr std::size_t kRunsMinCenters = 32;

// The same seeding for 8-bit points with integer weights (pixel colours weighted by their counts), in
// integers. Every quantity of the double version above is then an integer below 2^53 (checked by the
// caller), so that version computes it exactly too: the two choose the very same centres. This one
// keeps the coordinates as separate 8-bit columns and the distances as 32-bit integers, which the
// compiler turns into vector code, and its per-sample draws read half the bytes.
template <std::size_t D>
std::size_t plusplus_u8(const std::uint8_t* X, std::size_t n, const double* w, std::size_t k, std::size_t trials,
                        const double* uniforms, double* centers, std::int64_t* indices, const SamplingOrder& order,
                        int threads, detail::CancelPoller& poller) {
  static_assert(D >= 1 && D <= 4, "pixel dimensions only");
  const std::size_t chunks = detail::n_chunks(n);
  const U8Columns<D> cols(X, n, w, threads, poller);
  const std::vector<std::uint32_t>& wt = cols.wt;
  const std::vector<std::uint32_t>& perm = cols.perm;
  constexpr std::size_t kBox = U8Columns<D>::kBox;
  const std::size_t boxes = cols.boxes;
  Draws draws(order, n);
  const bool along_samples = draws.along_samples;
  std::vector<double>& draw_sums = draws.sums;
  auto draw = [&](double u, double total, bool reached, auto&& mass) { return draws.draw(u, total, reached, mass); };
  auto weight = [w](std::size_t i) -> std::uint64_t { return w ? static_cast<std::uint64_t>(w[i]) : 1u; };

  draw_first_u8(draws, X, D, n, uniforms[0], weight, centers, indices);

  // Each point's distance to its nearest centre, by point (for the draws) and by position (for the boxes).
  // (set in full by the first update)
  detail::RawVector<std::uint32_t> closest(n), closest_at(n);
  // per chunk of positions: the sum of weight * distance; per chunk of points, for draws along them
  std::vector<std::uint64_t> chunk_pot(chunks), point_pot(along_samples ? 0 : chunks);
  // Per box: the largest distance of its points to their nearest centre, and the sum of weight * that.
  std::vector<std::uint32_t> box_max(boxes);
  std::vector<std::uint64_t> box_pot(boxes);
  std::uint64_t pot = 0;
  std::optional<SampleChunkSums> sample_sums;
  if (along_samples && k >= kRunsMinCenters && SampleChunkSums::fits(order.size))
    sample_sums.emplace(order, cols.positions(threads, poller), threads, poller);
  // the falls of a pass along the points, per chunk of points (their draws' per-chunk sums)
  ThreadRows point_falls(along_samples ? 0 : chunks, along_samples ? 0 : pass_team(n, threads));
  auto update_closest = [&](std::size_t ci, bool first) {
    detail::for_chunks(n, threads, poller, [&](std::size_t c, std::size_t b, std::size_t e) {
      std::uint32_t dist[kBox];
      std::uint64_t s = 0;
      std::uint64_t* row = nullptr;
      if (!first && sample_sums) row = sample_sums->rows.row();
      if (!first && !along_samples) row = point_falls.row();
      for (std::size_t bx = b / kBox; bx * kBox < e; ++bx) {
        if (!first && cols.box_bound(X, bx, ci) >= box_max[bx]) {  // no point of the box comes closer
          s += box_pot[bx];
          continue;
        }
        const std::size_t bb = bx * kBox, be = std::min(e, bb + kBox);
        cols.distances_to(X, n, ci, bb, be, dist);
        std::uint64_t bs = 0;
        std::uint32_t bm = 0;
        for (std::size_t q = bb; q < be; ++q) {
          const std::uint32_t was = first ? 0 : closest_at[q];  // (unset before the first update)
          const std::uint32_t m = first ? dist[q - bb] : std::min(was, dist[q - bb]);
          if (first || m < was) closest[perm[q]] = m;
          if (!first && m < was) {
            if (sample_sums) sample_sums->fall(q, was - m, row);
            else if (!along_samples) row[perm[q] / kPointsPerChunk] += std::uint64_t{wt[q]} * (was - m);
          }
          closest_at[q] = m;
          bs += static_cast<std::uint64_t>(wt[q]) * m;
          bm = std::max(bm, m);
        }
        box_pot[bx] = bs;
        box_max[bx] = bm;
        s += bs;
      }
      chunk_pot[c] = s;
    });
    pot = 0;
    for (std::uint64_t s : chunk_pot) pot += s;
    if (first) {
      if (sample_sums) sample_sums->set(closest_at, threads, poller);
      for (std::size_t i = 0; i < n && !along_samples; ++i) point_pot[i / kPointsPerChunk] += weight(i) * closest[i];
      return;
    }
    if (sample_sums) sample_sums->rows.drain(sample_sums->pot, false);
    if (!along_samples) point_falls.drain(point_pot, false);
  };
  update_closest(static_cast<std::size_t>(indices[0]), true);

  auto mass = [&](std::size_t i) { return static_cast<double>(weight(i) * closest[i]); };
  std::vector<std::size_t> cand(trials);
  std::vector<std::uint64_t> cand_pot(trials), cand_part(chunks * trials);
  for (std::size_t slot = 1; slot < k; ++slot) {
    if (pot == 0) return slot;  // every weighted point sits on a chosen centre
    const double* u = uniforms + 1 + (slot - 1) * trials;
    if (along_samples) {
      draw_along_samples(draws, sample_sums ? &*sample_sums : nullptr, closest, u, trials, pot, threads, poller,
                         cand.data());
    } else {
      for (std::size_t c = 0; c < chunks; ++c) draw_sums[c] = static_cast<double>(point_pot[c]);
      for (std::size_t t = 0; t < trials; ++t) cand[t] = draw(u[t], static_cast<double>(pot), true, mass);
    }
    detail::for_chunks(n, threads, poller, [&](std::size_t c, std::size_t b, std::size_t e) {
      std::uint32_t dist[kBox];
      for (std::size_t t = 0; t < trials; ++t) {
        std::uint64_t s = 0;
        for (std::size_t bx = b / kBox; bx * kBox < e; ++bx) {
          if (cols.box_bound(X, bx, cand[t]) >= box_max[bx]) {  // the candidate changes no point of the box
            s += box_pot[bx];
            continue;
          }
          const std::size_t bb = bx * kBox, be = std::min(e, bb + kBox);
          cols.distances_to(X, n, cand[t], bb, be, dist);
          s += capped_potential(dist, closest_at.data() + bb, wt.data() + bb, be - bb);
        }
        cand_part[c * trials + t] = s;
      }
    });
    const std::size_t best = best_candidate(cand_part, chunks, trials, cand_pot);
    put_center(X, D, centers, indices, slot, cand[best]);
    update_closest(cand[best], false);
  }
  return k;
}

// Whether plusplus_u8 applies: integer weights below 2^32 whose total times the largest squared
// distance stays below 2^53, and no per-sample weights.
bool integer_seeding(const double* w, std::size_t n, std::size_t d, const SamplingOrder& order) {
  if (d < 1 || d > 4 || order.weight != nullptr) return false;
  double total = 0.0;
  if (w) {
    for (std::size_t i = 0; i < n; ++i) {
      if (!(detail::is_whole_weight(w[i]) && w[i] < detail::kUint32Limit)) return false;
      total += w[i];
    }
  } else {
    total = static_cast<double>(n);
  }
  if (order.point) total = std::max(total, static_cast<double>(order.size));
  return total * static_cast<double>(d) * detail::kMaxSquaredU8Diff < detail::kExactIntegerLimit;
}

}  // namespace

template <class T>
std::size_t kmeans_plusplus(const T* X, std::size_t n, std::size_t d, const double* weights, std::size_t k,
                            std::size_t n_local_trials, const double* uniforms, double* centers,
                            std::int64_t* indices, const SamplingOrder& order, int n_threads,
                            const CancelCheck& cancel) {
  if (n == 0) throw std::invalid_argument("k-means++: no points");
  if (d == 0) throw std::invalid_argument("k-means++: points have no coordinates");
  if (k == 0) throw std::invalid_argument("k-means++: k must be >= 1");
  if (n_local_trials == 0) throw std::invalid_argument("k-means++: n_local_trials must be >= 1");
  const detail::ThreadRequest request(n_threads);
  const int threads = detail::resolve_threads(n_threads);
  detail::CancelPoller poller(cancel);
  if (order.point) {
    if (order.size == 0) throw std::invalid_argument("k-means++: the sampling order is empty");
    // one parallel pass (48 MB on a 12-MP photo)
    if (!indices_in_range(order.point, order.size, static_cast<std::int64_t>(n), threads))
      throw std::invalid_argument("k-means++: the sampling order names a point that does not exist");
  }
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    if (integer_seeding(weights, n, d, order)) {
      return detail::dispatch_dim(d, [&](auto dim) -> std::size_t {
        constexpr std::size_t D = decltype(dim)::value;
        if constexpr (D >= 1 && D <= 4) {
          return plusplus_u8<D>(X, n, weights, k, n_local_trials, uniforms, centers, indices, order, threads,
                                poller);
        } else {
          return 0;  // unreachable: integer_seeding checked d
        }
      });
    }
  }
  return detail::dispatch_dim(d, [&](auto dim) {
    return plusplus<decltype(dim)::value, T>(X, n, d, weights, k, n_local_trials, uniforms, centers, indices,
                                             order, threads, poller);
  });
}

template std::size_t kmeans_plusplus<std::uint8_t>(const std::uint8_t*, std::size_t, std::size_t, const double*,
                                                   std::size_t, std::size_t, const double*, double*,
                                                   std::int64_t*, const SamplingOrder&, int, const CancelCheck&);
template std::size_t kmeans_plusplus<std::uint16_t>(const std::uint16_t*, std::size_t, std::size_t,
                                                    const double*, std::size_t, std::size_t, const double*,
                                                    double*, std::int64_t*, const SamplingOrder&, int, const CancelCheck&);
template std::size_t kmeans_plusplus<float>(const float*, std::size_t, std::size_t, const double*, std::size_t,
                                            std::size_t, const double*, double*, std::int64_t*,
                                            const SamplingOrder&, int, const CancelCheck&);
template std::size_t kmeans_plusplus<double>(const double*, std::size_t, std::size_t, const double*,
                                             std::size_t, std::size_t, const double*, double*, std::int64_t*,
                                             const SamplingOrder&, int, const CancelCheck&);

}  // namespace pixclust
