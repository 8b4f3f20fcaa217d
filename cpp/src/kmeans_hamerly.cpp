// The Lloyd iteration with Hamerly's bounds (KMeansAlgorithm::hamerly): a point whose upper bound (on
// the distance to its own centre) is below its lower bound (on the distance to every other centre), or
// below half the distance from its centre to the next one, keeps its label without a distance computed.
// The bounds carry a slack far above their rounding, so a point near a tie is always searched and the
// labels are the plain iteration's, bit for bit (tests/cpp/test_kmeans.cpp).
//
// The bounds are kept relative to the centres' cumulative drift, so a point whose bounds settle it
// costs three loads and no store: its upper bound is upper + drift[a] (its centre moved at most that
// far since), its lower bound lower - drift_max (no centre moved farther).
#include <algorithm>
#include <cmath>

#include "kmeans_lloyd.hpp"

namespace pixclust::detail {

namespace {

// The first test for m points, without branches: settled[i] = 1 when the point's upper bound (upper +
// drift of its centre, plus the slack) is below the larger of half the distance from its centre to the
// next one and its lower bound (lower - drift_max). The caller goes on with the others.
PIXCLUST_ALWAYS_INLINE void settled_block_impl(const std::int32_t* __restrict lab,
                                               const double* __restrict upper,
                                               const double* __restrict lower, const double* __restrict half,
                                               const double* __restrict drift, double drift_max, double slack_abs,
                                               std::size_t m, unsigned char* __restrict settled) {
  for (std::size_t i = 0; i < m; ++i) {
    const auto a = static_cast<std::size_t>(lab[i]);
    const double l = lower[i] - drift_max;
    const double h = half[a];
    const double mb = h > l ? h : l;
    const double slack = slack_abs + kBoundSlackRel * mb;
    settled[i] = upper[i] + drift[a] + slack < mb ? 1 : 0;
  }
}

#ifdef PIXCLUST_AVX2_DISPATCH
__attribute__((target("avx2"))) void settled_block_avx2(const std::int32_t* lab, const double* upper,
                                                        const double* lower, const double* half,
                                                        const double* drift, double drift_max, double slack_abs,
                                                        std::size_t m, unsigned char* settled) {
  settled_block_impl(lab, upper, lower, half, drift, drift_max, slack_abs, m, settled);
}
#endif

void settled_block(const std::int32_t* lab, const double* upper, const double* lower, const double* half,
                   const double* drift, double drift_max, double slack_abs, std::size_t m, unsigned char* settled) {
#ifdef PIXCLUST_AVX2_DISPATCH
  if (cpu_has_avx2()) return settled_block_avx2(lab, upper, lower, half, drift, drift_max, slack_abs, m, settled);
#endif
  settled_block_impl(lab, upper, lower, half, drift, drift_max, slack_abs, m, settled);
}

// Half the distance from each centre to its nearest other centre: a point closer than that to its own
// centre cannot be closer to any other one.
template <std::size_t D, class T>
void prepare_bounds(LloydState<D, T>& s, const double* C) {
  for (std::size_t j = 0; j < s.k; ++j) {
    double m = kInf;
    for (std::size_t jj = 0; jj < s.k; ++jj) {
      if (jj == j) continue;
      m = std::min(m, sqdist<0>(C + j * s.d, C + jj * s.d, s.d));
    }
    s.half[j] = 0.5 * std::sqrt(m);
  }
}

// The two tests on the sub-block [sb, se): lists in b.todo the points they leave for a full search. The
// second test, on the points the first left, tightens the upper bound with the exact distance to their
// own centre; those are listed first, then computed in a loop without branches.
template <std::size_t D, class T>
void filter_block(LloydState<D, T>& s, const double* C, std::size_t sb, std::size_t se, double slack_abs,
                  const std::int32_t* labels, BlockScratch& b) {
  unsigned char settled[kBlock];
  settled_block(labels + sb, s.upper.data() + sb, s.lower.data() + sb, s.half.data(), s.drift.data(), s.drift_max,
                slack_abs, se - sb, settled);
  std::uint32_t cand[kBlock];
  std::size_t nc = 0;
  for (std::size_t q = 0; q < se - sb; ++q) {
    cand[nc] = static_cast<std::uint32_t>(q);
    nc += settled[q] ? 0 : 1;
  }
  // u + slack - max(half, lower): the point needs a full search unless it is < 0 (NaN, from an infinite
  // drift of a centre given at -DBL_MAX, is searched: fuzz seed kmeans-hamerly-init-dblmax)
  double gap[kBlock];
  for (std::size_t r = 0; r < nc; ++r) {
    const std::size_t i = sb + cand[r];
    const auto ua = static_cast<std::size_t>(b.found[cand[r]]);
    const double l = s.lower[i] - s.drift_max;
    const double h = s.half[ua];
    const double mb = h > l ? h : l;
    const double slack = slack_abs + kBoundSlackRel * mb;
    const double u = std::sqrt(sqdist<D>(s.point(i), C + ua * s.d, s.d));
    s.upper[i] = u - s.drift[ua];
    gap[r] = u + slack - mb;
  }
  for (std::size_t r = 0; r < nc; ++r) {
    b.todo[b.m] = cand[r];
    b.m += gap[r] < 0.0 ? 0 : 1;
  }
}

}  // namespace

template <std::size_t D, class T>
std::size_t assign_hamerly(LloydState<D, T>& s, const double* C, std::int32_t* labels, bool bounds_valid,
                           bool accumulate, int it) {
  if (bounds_valid) prepare_bounds(s, C);
  // Rounding accumulates in the drifts, one move per iteration: the slack grows with the iteration. It
  // scales with the drifts as well as the data: bounds stored relative to a drift of 1e17 (centres
  // started far from the data) keep its rounding, 16, whatever the data's scale (fuzz seeds
  // kmeans-hamerly-init-*).
  const double slack_abs =
      (s.slack_scale + s.drift_max) * kBoundSlackAbs * (kBoundSlackIterBase + static_cast<double>(it));
  return for_blocks(s, accumulate, [&](std::size_t sb, std::size_t se, BlockScratch& blk, double* acc) {
    std::copy(labels + sb, labels + se, blk.found);  // the settled points keep theirs
    if (bounds_valid) {
      filter_block(s, C, sb, se, slack_abs, labels, blk);
    } else {
      for (std::size_t i = sb; i < se; ++i) blk.todo[blk.m++] = static_cast<std::uint32_t>(i - sb);
    }
    search_block(s, C, sb, blk);
    for (std::size_t q = 0; q < blk.m; ++q) {
      const std::size_t i = sb + blk.todo[q];
      s.upper[i] = std::sqrt(blk.best[q]) - s.drift[static_cast<std::size_t>(blk.found[blk.todo[q]])];
      s.lower[i] = std::sqrt(blk.second[q]) + s.drift_max;
    }
    return apply_block(s, labels, sb, se, blk, accumulate, acc);
  });
}

#define PIXCLUST_INSTANTIATE(D, T)                                                                         \
  template std::size_t assign_hamerly<D, T>(LloydState<D, T>&, const double*, std::int32_t*, bool, bool, int);
PIXCLUST_LLOYD_INSTANCES(PIXCLUST_INSTANTIATE)
#undef PIXCLUST_INSTANTIATE

}  // namespace pixclust::detail
