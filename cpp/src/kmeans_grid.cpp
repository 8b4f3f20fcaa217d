// The Lloyd iteration for 8-bit RGB colours on a grid of cells (KMeansAlgorithm::hamerly with integer
// weights, at least kGridMinPoints colours).
//
// The colours are points of the 256^3 lattice. They are grouped once into cells of 4 x 4 x 4 values; at
// each step a cell that lies wholly inside one centre's Voronoi region, with a margin far above the
// rounding of any distance, is given that centre as a whole: every colour in it would get the same label
// from nearest(), and no distance needs computing (most colours of a photo are in such cells:
// benchmarks/bench_kmeans.py). A cell that was already whole in the same cluster changes nothing and is
// skipped. The other cells' colours are compared with their cell's candidates alone: the centres whose
// smallest distance to the cell is not beyond every colour's distance to the centre nearest the whole
// cell by the margin. Every other centre is farther from every colour of the cell than that one, so the
// nearest among the candidates (in index order, with nearest()'s arithmetic) is nearest()'s own. The
// cells' candidates are taken from those of their block of 16 x 16 x 16 colours, found by the same test
// once per step, so a cell tests a few centres, not k. Bounds relative to the centres' drifts (as
// Hamerly's) skip the work that cannot change anything: per colour (its label stays), per cell and per
// block (their candidate lists stay valid). The sums are exact integers, kept up to date from the
// colours that change cluster, so the grouping cannot change a bit of the result
// (tests/cpp/test_kmeans.cpp).
#include <algorithm>
#include <cmath>
#include <utility>

#include "kmeans_lloyd.hpp"

namespace pixclust::detail {

ColorGrid::ColorGrid(LloydState<3, std::uint8_t>& s) {
  constexpr std::size_t kKeys = std::size_t{1} << 18;
  const std::size_t n = s.n;
  auto key_of = [&](std::size_t i) {
    const std::uint8_t* x = s.point(i);
    return (static_cast<std::uint32_t>(x[0] >> 2) << 12) | (static_cast<std::uint32_t>(x[1] >> 2) << 6) |
           static_cast<std::uint32_t>(x[2] >> 2);
  };
  // A counting sort by key, stable (points of a cell in index order), in parallel: each thread counts
  // and then places the keys of its own range of points, at offsets that put the ranges in order
  // within every key, so that the permutation is the serial sort's whatever the thread count.
  const int wanted = std::max(1, std::min(s.threads, static_cast<int>(n / kGridMinPoints)));
  const int team = ThreadRequest::is_explicit() ? wanted : runnable_threads(wanted);
  std::vector<std::uint32_t> at(static_cast<std::size_t>(team) * kKeys, 0);  // counts, then offsets
  auto range = [&](int t) {
    return std::pair<std::size_t, std::size_t>(n * static_cast<std::size_t>(t) / static_cast<std::size_t>(team),
                                               n * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(team));
  };
#pragma omp parallel for schedule(static, 1) num_threads(team)
  for (int t = 0; t < team; ++t) {
    std::uint32_t* own = at.data() + static_cast<std::size_t>(t) * kKeys;
    const auto [b, e] = range(t);
    for (std::size_t i = b; i < e; ++i) ++own[key_of(i)];
  }
  std::uint32_t run = 0;
  for (std::size_t c = 0; c < kKeys; ++c) {
    const std::uint32_t first = run;
    for (int t = 0; t < team; ++t) {
      std::uint32_t& slot = at[static_cast<std::size_t>(t) * kKeys + c];
      const std::uint32_t count = slot;
      slot = run;
      run += count;
    }
    if (run == first) continue;
    cell_key_.push_back(static_cast<std::uint32_t>(c));
    cell_start_.push_back(first);
  }
  perm_.resize(n);
#pragma omp parallel for schedule(static, 1) num_threads(team)
  for (int t = 0; t < team; ++t) {
    std::uint32_t* own = at.data() + static_cast<std::size_t>(t) * kKeys;
    const auto [b, e] = range(t);
    for (std::size_t i = b; i < e; ++i) perm_[own[key_of(i)]++] = static_cast<std::uint32_t>(i);
  }
  // the colours in cell order, so that the bound tests and searches read them in sequence
  // (and the per-colour state set here too: written in full in parallel, its pages faulted in by the
  // threads)
  xyz_.resize(3 * n);
  weight_.resize(n);
  label_.resize(n);
  upper_.resize(n);
  lower_.resize(n);
  for_chunks(n, s.threads, s.poller, [&](std::size_t, std::size_t b, std::size_t e) {
    for (std::size_t q = b; q < e; ++q) {
      std::copy_n(s.point(perm_[q]), 3, xyz_.data() + 3 * q);
      weight_[q] = s.weight(perm_[q]);
    }
    std::fill(label_.data() + b, label_.data() + e, -1);  // none yet
    std::fill(upper_.data() + b, upper_.data() + e, kInf);
    std::fill(lower_.data() + b, lower_.data() + e, 0.0);
  });
  cell_start_.push_back(static_cast<std::uint32_t>(n));
  for (std::size_t c = 0; c + 1 < cell_start_.size(); ++c)
    max_cell_ = std::max<std::size_t>(max_cell_, cell_start_[c + 1] - cell_start_[c]);
  constexpr std::uint32_t kNoBlock = ~std::uint32_t{0};
  std::vector<std::uint32_t> block_of(std::size_t{1} << 12, kNoBlock);
  cell_block_.reserve(cell_key_.size());
  for (const std::uint32_t key : cell_key_) {
    const std::uint32_t block = ((key >> 14) << 8) | (((key >> 8) & 15) << 4) | ((key >> 2) & 15);
    if (block_of[block] == kNoBlock) {
      block_of[block] = static_cast<std::uint32_t>(block_key_.size());
      block_key_.push_back(block);
    }
    cell_block_.push_back(block_of[block]);
  }
  block_count_.assign(block_key_.size(), 0);
  block_cand_.assign(block_key_.size() * s.k, 0);
  block_out_near_.assign(block_key_.size(), kInf);
  block_drift_.assign(block_key_.size(), 0.0);
  block_out_dist_.assign(block_key_.size(), 0.0);
  block_cap_.assign(block_key_.size(), 0.0);
  block_best_.assign(block_key_.size(), -1);
  block_upper_.assign(block_key_.size(), 0.0);
  block_lower_.assign(block_key_.size(), 0.0);
  block_out_rel_.assign(block_key_.size() * s.k, kInf);
  kept_best_.assign(cell_key_.size(), -1);
  kept_upper_.assign(cell_key_.size(), 0.0);
  kept_lower_.assign(cell_key_.size(), 0.0);
  kept_count_.assign(cell_key_.size(), 0);
  kept_cand_.assign(cell_key_.size() * kKeptCandidates, 0);
  cell_whole_.assign(cell_key_.size(), -1);
  cell_whole_next_.assign(cell_key_.size(), -1);
  cell_upper_.assign(cell_key_.size(), 0.0);
  cell_upper_next_.assign(cell_key_.size(), 0.0);
  cell_lower_.assign(cell_key_.size(), 0.0);
  cell_lower_next_.assign(cell_key_.size(), 0.0);
}

namespace {

// near[j], far[j]: the smallest and largest squared distances from centre j (coordinates in the columns
// x, y, z) to the box of colours lo[t] to lo[t] + side, for j < m. Centre by centre, so that the
// compiler computes several per instruction.
PIXCLUST_ALWAYS_INLINE void box_distances_impl(const double* lo, double side, const double* __restrict x,
                                               const double* __restrict y,
                                               const double* __restrict z, std::size_t m, double* __restrict near,
                                               double* __restrict far) {
  const double lx = lo[0], ly = lo[1], lz = lo[2];
  const double hx = lx + side, hy = ly + side, hz = lz + side;
  for (std::size_t j = 0; j < m; ++j) {
    const double ax = lx - x[j], bx = hx - x[j], ay = ly - y[j], by = hy - y[j], az = lz - z[j], bz = hz - z[j];
    const double ix = ax > 0.0 ? ax : (bx < 0.0 ? bx : 0.0);
    const double iy = ay > 0.0 ? ay : (by < 0.0 ? by : 0.0);
    const double iz = az > 0.0 ? az : (bz < 0.0 ? bz : 0.0);
    near[j] = ix * ix + iy * iy + iz * iz;
    far[j] = std::max(ax * ax, bx * bx) + std::max(ay * ay, by * by) + std::max(az * az, bz * bz);
  }
}

#ifdef PIXCLUST_AVX2_DISPATCH
__attribute__((target("avx2"))) void box_distances_avx2(const double* lo, double side, const double* x,
                                                        const double* y, const double* z, std::size_t m,
                                                        double* near, double* far) {
  box_distances_impl(lo, side, x, y, z, m, near, far);
}
#endif

void box_distances(const double* lo, double side, const double* x, const double* y, const double* z, std::size_t m,
                   double* near, double* far) {
#ifdef PIXCLUST_AVX2_DISPATCH
  if (cpu_has_avx2()) return box_distances_avx2(lo, side, x, y, z, m, near, far);
#endif
  box_distances_impl(lo, side, x, y, z, m, near, far);
}

// Whether a centre at smallest squared distance `near` from a box may be nearest to one of its colours,
// when every colour of the box lies within best_far of one centre. The relative term: centres far from
// the data (given as init) round these sums far above kCellMargin.
inline bool may_be_nearest(double near, double best_far) {
  return !(best_far + kCellMargin + kCellMarginRel * near < near);
}

}  // namespace

// Whether kept bounds (relative to the drifts) still keep their box's candidates apart from the rest.
inline bool still_apart(std::int32_t best, double upper, double lower, const double* drift, double drift_max) {
  const double gap = kCellGap + kBoundSlackRel * drift_max;  // as a whole cell's test
  return best >= 0 && upper + drift[static_cast<std::size_t>(best)] + gap < lower - drift_max;
}

// Block b's candidates for the centres C, recomputed: those that may be nearest to one of its colours.
// Returns whether a centre joined that was not a candidate at the last step.
bool ColorGrid::find_block_candidates(LloydState<3, std::uint8_t>& s, std::size_t b, std::vector<double>& near,
                                      std::vector<double>& far, std::vector<std::int32_t>& fresh) {
  const std::size_t k = s.k;
  const std::uint32_t key = block_key_[b];
  const double lo[3] = {static_cast<double>((key >> 8) << 4), static_cast<double>(((key >> 4) & 15) << 4),
                        static_cast<double>((key & 15) << 4)};
  box_distances(lo, 15.0, center_col_.data(), center_col_.data() + k, center_col_.data() + 2 * k, k, near.data(),
                far.data());
  double best_far = kInf;
  std::size_t best = 0;
  for (std::size_t j = 0; j < k; ++j) {
    if (far[j] < best_far) {
      best_far = far[j];
      best = j;
    }
  }
  fresh.clear();
  double out_near = kInf;
  double* out_rel = block_out_rel_.data() + b * k;
  for (std::size_t j = 0; j < k; ++j) {
    if (may_be_nearest(near[j], best_far)) {
      fresh.push_back(static_cast<std::int32_t>(j));
      out_rel[j] = kInf;
    } else {
      out_near = std::min(out_near, near[j]);
      out_rel[j] = std::sqrt(near[j]) + s.drift[j];
    }
  }
  std::int32_t* cand = block_cand_.data() + b * k;
  const std::int32_t* old_begin = cand;
  const std::int32_t* old_end = cand + block_count_[b];
  // both lists in index order
  const bool joined = !std::includes(old_begin, old_end, fresh.begin(), fresh.end());
  std::copy(fresh.begin(), fresh.end(), cand);
  block_count_[b] = static_cast<std::uint32_t>(fresh.size());
  block_out_near_[b] = out_near;
  block_best_[b] = static_cast<std::int32_t>(best);
  block_upper_[b] = std::sqrt(best_far) - s.drift[best];
  block_lower_[b] = std::sqrt(out_near) + s.drift_max;
  return joined;
}

// The smallest distance from block b's box to a centre left out of its candidates, bounded through
// each such centre's own distance when the list was made and its own drift since (block_out_rel_):
// still_apart bounds them all by drift_max, the drift of whichever centre moved most, and about half
// the blocks failed it at each late step while a centre joined a handful (bench_kmeans.py --large-k).
double ColorGrid::left_out_lower(const LloydState<3, std::uint8_t>& s, std::size_t b) const {
  const double* rel = block_out_rel_.data() + b * s.k;
  const double* drift = s.drift.data();
  // four running minima: independent chains, not one min after another (a candidate's rel is infinite)
  double m[4] = {kInf, kInf, kInf, kInf};
  std::size_t j = 0;
  for (; j + 4 <= s.k; j += 4)
    for (std::size_t t = 0; t < 4; ++t) m[t] = std::min(m[t], rel[j + t] - drift[j + t]);
  for (; j < s.k; ++j) m[0] = std::min(m[0], rel[j] - drift[j]);
  return std::min(std::min(m[0], m[1]), std::min(m[2], m[3]));
}

// Each block's candidates for the centres C: those that may be nearest to one of its colours (kept
// from the last step while its bounds allow), and its drift and rebase (see block_drift_).
void ColorGrid::prepare_blocks(LloydState<3, std::uint8_t>& s, const double* C) {
  const std::size_t k = s.k;
  center_col_.resize(3 * k);
  for (std::size_t j = 0; j < k; ++j)
    for (std::size_t t = 0; t < 3; ++t) center_col_[t * k + j] = C[j * 3 + t];
  ExceptionCatcher failed;  // (an allocation) must not leave the parallel region
  // blocks a group at a time, so that the scratch is allocated once per group, not per block and step
  constexpr std::size_t kBlocksPerGroup = 8;
  const std::size_t blocks = block_key_.size();
  const std::size_t groups = (blocks + kBlocksPerGroup - 1) / kBlocksPerGroup;
  for_items(groups, 1, s.threads, s.poller, [&](std::size_t g) { failed.run([&] {
    std::vector<double> near, far;
    std::vector<std::int32_t> fresh;
    for (std::size_t b = g * kBlocksPerGroup; b < std::min(blocks, (g + 1) * kBlocksPerGroup); ++b)
      prepare_block(s, b, near, far, fresh);
  }); });
  failed.rethrow();
}

// Block b's step of prepare_blocks (near, far, fresh: scratch, sized here when first needed).
void ColorGrid::prepare_block(LloydState<3, std::uint8_t>& s, std::size_t b, std::vector<double>& near,
                              std::vector<double>& far, std::vector<std::int32_t>& fresh) {
  const std::size_t k = s.k;
  bool joined = false;
  if (still_apart(block_best_[b], block_upper_[b], block_lower_[b], s.drift.data(), s.drift_max)) {
    const double l = block_lower_[b] - s.drift_max;  // > 0: above upper + drift + gap
    block_out_near_[b] = l * l;
  } else if (const double lower = left_out_lower(s, b) + s.drift_max;
             still_apart(block_best_[b], block_upper_[b], lower, s.drift.data(), s.drift_max)) {
    // the centres left out, each bounded by its own drift, are still apart: the list stands, and its
    // bound restarts from this step
    block_lower_[b] = lower;
    const double l = lower - s.drift_max;
    block_out_near_[b] = l * l;
  } else {
    if (near.size() < k) {
      near.resize(k);
      far.resize(k);
      fresh.reserve(k);
    }
    joined = find_block_candidates(s, b, near, far, fresh);
  }
  // A centre that joined may have moved farther than the block's drift since a bound was set: the
  // bounds are first lowered to what they were worth at the last step (block_drift_).
  block_cap_[b] = joined ? block_out_dist_[b] + block_drift_[b] : kInf;
  const std::int32_t* cand = block_cand_.data() + b * k;
  double moved = 0.0;
  for (std::size_t q = 0; q < block_count_[b]; ++q) moved = std::max(moved, s.shift[static_cast<std::size_t>(cand[q])]);
  block_drift_[b] += moved;
  block_out_dist_[b] = std::sqrt(block_out_near_[b]);
}

// The centre whose Voronoi region holds the whole cell, or -1: the candidate with the smallest largest
// squared distance to the cell's box, when that is below every other centre's smallest one (the other
// candidates' and the block's left-out ones'). far_out, near_out: the largest squared distance to that
// centre, the smallest to the others. When -1, `out` gets the cell's own candidates.
std::int32_t ColorGrid::whole_cell_label(std::size_t cell, const double* C, double& far_out, double& near_out,
                                         Candidates& out) const {
  const std::uint32_t key = cell_key_[cell];
  const std::size_t block = cell_block_[cell], k = out.index.size();
  const std::int32_t* cand = block_cand_.data() + block * k;
  const std::size_t count = block_count_[block];
  const double lo[3] = {static_cast<double>((key >> 12) << 2), static_cast<double>(((key >> 6) & 63) << 2),
                        static_cast<double>((key & 63) << 2)};
  // One pass over the candidates: the smallest largest distance (the first of equals), and the two
  // smallest smallest distances with the first's position, so that the smallest over the centres other
  // than `best` is known whichever candidate `best` turns out to be.
  if (out.col_block != block) {  // consecutive cells often share a block
    for (std::size_t q = 0; q < count; ++q)
      for (std::size_t t = 0; t < 3; ++t) out.col[t * k + q] = C[static_cast<std::size_t>(cand[q]) * 3 + t];
    out.col_block = block;
  }
  box_distances(lo, 3.0, out.col.data(), out.col.data() + k, out.col.data() + 2 * k, count, out.near.data(),
                out.far.data());
  double best_far = kInf;
  std::size_t best = 0;
  TwoSmallest nearest_box;
  for (std::size_t q = 0; q < count; ++q) {
    if (out.far[q] < best_far) {
      best_far = out.far[q];
      best = q;
    }
    nearest_box.offer(out.near[q], q);
  }
  const double other_near =
      std::min(nearest_box.at == best ? nearest_box.second : nearest_box.first, block_out_near_[block]);
  if (best_far + kCellMargin + kCellMarginRel * other_near < other_near) {
    far_out = best_far;
    near_out = other_near;
    return cand[best];
  }
  out.size = 0;
  out.out_near = block_out_near_[block];
  out.best_far = best_far;
  out.best = cand[best];
  for (std::size_t q = 0; q < count; ++q) {
    if (!may_be_nearest(out.near[q], best_far)) {
      out.out_near = std::min(out.out_near, out.near[q]);
      continue;
    }
    const auto j = static_cast<std::size_t>(cand[q]);
    out.index[out.size] = cand[q];
    for (std::size_t t = 0; t < 3; ++t) out.xyz[out.size * 3 + t] = C[j * 3 + t];
    ++out.size;
  }
  return -1;
}

// One chunk of positions in cell order: its sums, how many labels it changed, its scratch.
struct ColorGrid::Chunk {
  Chunk(ColorGrid& grid_, LloydState<3, std::uint8_t>& s_, double* acc_, bool accumulate_)
      : grid(grid_), s(s_), acc(acc_), accumulate(accumulate_) {
    cand.index.resize(s.k);
    cand.near.resize(s.k);
    cand.far.resize(s.k);
    cand.xyz.resize(s.k * 3);
    cand.col.resize(s.k * 3);
    todo.resize(grid.max_cell_);
  }
  // Gives the colour at position q of the cell order label a.
  void set_label(std::size_t q, std::int32_t a) {
    const std::int32_t old = grid.label_[q];
    if (a == old) return;
    ++n_changed;
    grid.label_[q] = a;
    if (accumulate) move_point(acc, grid.xyz_.data() + 3 * q, grid.weight_[q], 3, a, old);
  }
  // the bounds' margin: kCellGap, plus the drifts' rounding, as in Hamerly's
  double gap() const { return kCellGap + kBoundSlackRel * s.drift_max; }
  // Whether an upper bound u is below a lower bound kept relative to the block's drift (NaN fails).
  // Both comparisons, no branch: settled runs it on every colour, where the outcome is unpredictable.
  bool below(double u, double lower) const { return (u < lower - block_drift) & (u < block_out); }
  // That lower bound now.
  double lower_now(double lower) const { return std::min(lower - block_drift, block_out); }

  ColorGrid& grid;
  LloydState<3, std::uint8_t>& s;
  double* acc;
  bool accumulate;
  std::size_t n_changed = 0;
  // the block of the cell visited: its drift and the distance within which no centre outside its
  // candidates comes (block_drift_, block_out_dist_)
  double block_drift = 0.0, block_out = 0.0;
  Candidates cand;
  std::vector<std::uint32_t> todo;  // positions to search: the first todo_size (room for a whole cell)
  std::size_t todo_size = 0;
};

// Whether every colour at positions [s0, s1) (of one cell) keeps its label by its bounds; lists in the
// chunk's todo those that may not.
bool ColorGrid::settled(Chunk& ch, std::size_t s0, std::size_t s1) const {
  const double gap = ch.gap();
  const double* drift = ch.s.drift.data();
  std::size_t m = 0;
  // without branches: whether a colour is listed is data the predictor cannot learn
  for (std::size_t q = s0; q < s1; ++q) {
    const std::int32_t a = label_[q];  // -1 before the first step (its upper bound is then infinite)
    const double up = upper_[q] + drift[static_cast<std::size_t>(std::max(a, 0))] + gap;
    // NaN (from an infinite drift) fails: the colour is searched
    const bool keep = (a >= 0) & ch.below(up, lower_[q]);
    ch.todo[m] = static_cast<std::uint32_t>(q);
    m += keep ? 0 : 1;
  }
  ch.todo_size = m;
  return m == 0;
}

// Searches the colours at the listed positions among the chunk's candidates, and sets their bounds.
void ColorGrid::search(Chunk& ch) {
  double xs[3 * kBlock], best[kBlock], second[kBlock];
  std::int32_t lab[kBlock];
  const Candidates& cand = ch.cand;
  const std::uint32_t* todo = ch.todo.data();
  for (std::size_t q0 = 0; q0 < ch.todo_size; q0 += kBlock) {
    const std::size_t m = std::min(ch.todo_size, q0 + kBlock) - q0;
    for (std::size_t q = 0; q < m; ++q) {
      const std::uint8_t* x = xyz_.data() + 3 * todo[q0 + q];
      for (std::size_t t = 0; t < 3; ++t) xs[t * kBlock + q] = static_cast<double>(x[t]);
    }
    nearest_block<3>(xs, m, cand.xyz.data(), cand.size, lab, best, second);
    // the square roots first, in a loop of their own: independent, they overlap
    for (std::size_t q = 0; q < m; ++q) {
      best[q] = std::sqrt(best[q]);
      second[q] = std::sqrt(std::min(second[q], cand.out_near));
    }
    for (std::size_t q = 0; q < m; ++q) {
      const std::size_t at = todo[q0 + q];
      const auto a = static_cast<std::size_t>(cand.index[static_cast<std::size_t>(lab[q])]);
      ch.set_label(at, static_cast<std::int32_t>(a));
      upper_[at] = best[q] - ch.s.drift[a];
      lower_[at] = second[q] + ch.block_drift;
    }
  }
}

// Loads the candidates the cell kept at an earlier step into the chunk's, when its bounds still keep
// them apart from the rest (the owner's only).
bool ColorGrid::kept_candidates(Chunk& ch, const double* C, std::size_t cell) const {
  const std::size_t count = kept_count_[cell];
  const std::int32_t best = kept_best_[cell];
  if (count == 0 || best < 0 ||
      !ch.below(kept_upper_[cell] + ch.s.drift[static_cast<std::size_t>(best)] + ch.gap(), kept_lower_[cell]))
    return false;
  Candidates& cand = ch.cand;
  cand.size = count;
  for (std::size_t q = 0; q < count; ++q) {
    const std::int32_t j = kept_cand_[cell * kKeptCandidates + q];
    cand.index[q] = j;
    for (std::size_t t = 0; t < 3; ++t) cand.xyz[q * 3 + t] = C[static_cast<std::size_t>(j) * 3 + t];
  }
  const double l = ch.lower_now(kept_lower_[cell]);  // > 0: above upper + drift + gap
  cand.out_near = l * l;
  return true;
}

// Keeps the chunk's candidates for the cell (when few enough), with the bounds that keep them valid.
void ColorGrid::keep_candidates(const Chunk& ch, std::size_t cell) {
  const Candidates& cand = ch.cand;
  kept_count_[cell] = 0;
  if (cand.size > kKeptCandidates) return;
  for (std::size_t q = 0; q < cand.size; ++q) kept_cand_[cell * kKeptCandidates + q] = cand.index[q];
  kept_count_[cell] = static_cast<std::uint8_t>(cand.size);
  kept_best_[cell] = cand.best;
  kept_upper_[cell] = std::sqrt(cand.best_far) - ch.s.drift[static_cast<std::size_t>(cand.best)];
  kept_lower_[cell] = std::sqrt(cand.out_near) + ch.block_drift;
}

// Lowers the bounds of the cell's colours, and its kept candidates' (owner), to what they were worth
// at the last step when a centre joined its block's candidates (see block_drift_).
void ColorGrid::rebase(std::size_t cell, std::size_t s0, std::size_t s1, bool owner, double cap) {
  for (std::size_t q = s0; q < s1; ++q) lower_[q] = std::min(lower_[q], cap);
  if (owner) kept_lower_[cell] = std::min(kept_lower_[cell], cap);
}

// One step of the cell at positions [s0, s1) of the chunk (owner: the chunk holds its first position
// and writes its next flag and bounds).
void ColorGrid::visit_cell(Chunk& ch, const double* C, std::size_t cell, std::size_t s0, std::size_t s1,
                           bool owner) {
  LloydState<3, std::uint8_t>& s = ch.s;
  const std::size_t block = cell_block_[cell];
  ch.block_drift = block_drift_[block];
  ch.block_out = block_out_dist_[block];
  const double cap = block_cap_[block];
  if (cap < kInf) rebase(cell, s0, s1, owner, cap);
  // A cell whole in cluster a at its last test stays whole while its bounds, moved by how far the
  // centres have moved since (as Hamerly's are), stay apart by the gap: then no colour of it is within
  // kCellGap of being as close to another centre, far above any rounding. (Read by every chunk that
  // meets the cell, so rebased as it is read.)
  const std::int32_t was = cell_whole_[cell];
  const double was_lower = std::min(cell_lower_[cell], cap);
  if (was >= 0 && ch.below(cell_upper_[cell] + s.drift[static_cast<std::size_t>(was)] + ch.gap(), was_lower)) {
    if (owner) {
      cell_whole_next_[cell] = was;
      cell_upper_next_[cell] = cell_upper_[cell];
      cell_lower_next_[cell] = was_lower;
    }
    return;  // every colour already there
  }
  if (owner) cell_whole_next_[cell] = -1;
  if (settled(ch, s0, s1)) return;  // every colour keeps its label by its own bounds
  if (owner && kept_candidates(ch, C, cell)) return search(ch);
  double far = 0.0, near = 0.0;
  const std::int32_t whole = whole_cell_label(cell, C, far, near, ch.cand);
  if (whole < 0) {
    if (owner) keep_candidates(ch, cell);
    return search(ch);
  }
  const double up = std::sqrt(far) - s.drift[static_cast<std::size_t>(whole)], low = std::sqrt(near) + ch.block_drift;
  if (owner) {
    cell_whole_next_[cell] = whole;
    cell_upper_next_[cell] = up;
    cell_lower_next_[cell] = low;
  }
  for (std::size_t q = s0; q < s1; ++q) {
    ch.set_label(q, whole);
    upper_[q] = up;
    lower_[q] = low;
  }
}

std::size_t ColorGrid::assign(LloydState<3, std::uint8_t>& s, const double* C, bool accumulate) {
  const std::size_t cells = cell_key_.size();
  prepare_blocks(s, C);
  ExceptionCatcher failed;  // (an allocation) must not leave the parallel region
  s.start_pass(accumulate);
  for_chunks(s.n, s.threads, s.poller, [&](std::size_t c, std::size_t b, std::size_t e) { failed.run([&] {
    Chunk ch(*this, s, s.chunk_sums(c, accumulate), accumulate);
    // The cells that meet positions [b, e) of the cell order.
    std::size_t cell = static_cast<std::size_t>(
        std::upper_bound(cell_start_.begin(), cell_start_.end(), static_cast<std::uint32_t>(b)) - cell_start_.begin() - 1);
    for (; cell < cells && cell_start_[cell] < e; ++cell)
      visit_cell(ch, C, cell, std::max<std::size_t>(b, cell_start_[cell]),
                 std::min<std::size_t>(e, cell_start_[cell + 1]), cell_start_[cell] >= b);
    s.changed[c] = ch.n_changed;
  }); });
  failed.rethrow();
  cell_whole_.swap(cell_whole_next_);
  cell_upper_.swap(cell_upper_next_);
  cell_lower_.swap(cell_lower_next_);
  return s.total_changed();
}

void ColorGrid::write_labels(LloydState<3, std::uint8_t>& s, std::int32_t* labels) const {
  for_chunks(s.n, s.threads, s.poller, [&](std::size_t, std::size_t b, std::size_t e) {
    for (std::size_t q = b; q < e; ++q) labels[perm_[q]] = label_[q];
  });
}

}  // namespace pixclust::detail
