// The numbers behind the exactness and bound arguments of the k-means and colour kernels, each with the
// reason for its value. The tests that pin each argument are named beside it.
#pragma once

#include <cstdint>

namespace pixclust::detail {

// 2^53: a double holds every integer below it exactly, so sums of integers that stay below it are exact
// in any order (the incremental cluster sums, integer k-means++; tests/cpp/test_kmeans.cpp "integer
// weights equal repeated points").
constexpr double kExactIntegerLimit = 9007199254740992.0;

// 2^32: integer k-means++ keeps weights as uint32.
constexpr double kUint32Limit = 4294967296.0;

// 255^2: the largest squared difference of two 8-bit coordinates.
constexpr double kMaxSquaredU8Diff = 65025.0;

// Hamerly's bound test: a point is settled only when its bounds are apart by more than the rounding of
// the distances they come from. The absolute slack is (data_scale + drift_max) * kBoundSlackAbs * (kBoundSlackIterBase +
// iteration) (rounding accumulates in the drifts, one move per iteration); the relative slack is
// kBoundSlackRel times the bound. Both are orders of magnitude above double rounding (2^-52 per
// operation), so skipping a comparison never changes a label (tests/cpp/test_kmeans.cpp: hamerly equals
// lloyd bit for bit).
constexpr double kBoundSlackAbs = 1e-12;
constexpr double kBoundSlackIterBase = 100.0;
constexpr double kBoundSlackRel = 1e-10;

// The 8-bit colour grid. A cell is given to one centre as a whole only when its largest squared
// distance to that centre is below every other centre's smallest by kCellMargin: squared distances of
// 8-bit colours are below 2e5 and rounded to 1e-10 or better.
constexpr double kCellMargin = 1e-6;
// ... plus this fraction of the distances, for centres far outside the 8-bit range (double rounding of a
// sum of three squares is below 1e-15 of it).
constexpr double kCellMarginRel = 1e-12;
// How far apart (in distance, not squared) a whole cell's bounds must stay for its test to be skipped:
// the squared distances then differ by at least kCellGap^2 = 1e-8, far above their rounding (1e-10).
constexpr double kCellGap = 1e-4;

// Whether w is a whole number in [0, 2^53) (false for NaN). Without SSE4.1 in the baseline, std::floor is
// a library call; the round trip through int64 is two instructions.
inline bool is_whole_weight(double w) noexcept {
  return w >= 0.0 && w < kExactIntegerLimit && w == static_cast<double>(static_cast<std::int64_t>(w));
}

}  // namespace pixclust::detail
