// What the Lloyd driver (kmeans_lloyd.cpp) shares with its iteration kernels: the run's state, the
// running-sum update for a point that changes cluster, and the search-then-update step of a block of
// points. One kernel per file, as scikit-learn lays out its k-means:
//   kmeans_plain.cpp    every point compared with every centre (KMeansAlgorithm::lloyd)
//   kmeans_hamerly.cpp  Hamerly's bounds skip most comparisons (KMeansAlgorithm::hamerly)
//   kmeans_grid.cpp     8-bit RGB colours taken a whole 4x4x4 cell at a time (hamerly, integer weights)
// Every kernel gives every point the label nearest() gives it, so all three give the same bits.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kmeans_detail.hpp"
#include "pixclust/kmeans.hpp"

namespace pixclust::detail {

template <std::size_t D, class T>
struct LloydState {
  LloydState(const T* X_, std::size_t n_, std::size_t d_, const double* w_, std::size_t k_,
             const KMeansOptions& opt_, const CancelCheck& cancel)
      : X(X_), n(n_), d(d_), w(w_), k(k_), opt(opt_), threads(resolve_threads(opt_.n_threads)), poller(cancel),
        stride(k_ * (d_ + 1)), chunks(n_chunks(n_)), partial(chunks * stride), changed(chunks), half(k_, kInf),
        drift(k_, 0.0), shift(k_, 0.0) {}

  bool hamerly() const noexcept { return opt.algorithm == KMeansAlgorithm::hamerly; }
  double weight(std::size_t i) const noexcept { return w ? w[i] : 1.0; }
  const T* point(std::size_t i) const noexcept { return X + i * d; }
  std::size_t dim() const noexcept { return D > 0 ? D : d; }
  // Rows of `partial` a pass fills: one per chunk, reduced in chunk order, for full sums; one per thread
  // for incremental sums, exact in any order, so that a step clears and adds up a few rows, not one per
  // chunk (benchmarks/bench_kmeans.py --large-k).
  std::size_t sum_rows() const noexcept {
    return incremental ? max_team(chunks, kMinChunksPerThread, threads) : chunks;  // for_chunks' team at most
  }
  // Before a pass that accumulates incremental sums: the threads' rows cleared (full sums: each chunk
  // clears its own row in chunk_sums).
  void start_pass(bool accumulate) noexcept {
    if (accumulate && incremental) std::fill(partial.data(), partial.data() + sum_rows() * stride, 0.0);
  }
  // Where chunk c, run by this thread, adds its sums of w*x and w per cluster (k x (d + 1)): its own row,
  // cleared when the pass accumulates, or (incremental) the thread's.
  double* chunk_sums(std::size_t c, bool accumulate) noexcept {
    if (incremental) return partial.data() + thread_index() * stride;
    double* acc = partial.data() + c * stride;
    if (accumulate) std::fill(acc, acc + stride, 0.0);
    return acc;
  }
  std::size_t total_changed() const noexcept {
    std::size_t total = 0;
    for (std::size_t c = 0; c < chunks; ++c) total += changed[c];
    return total;
  }

  const T* X;
  std::size_t n, d;
  const double* w;  // nullptr: all 1
  std::size_t k;
  KMeansOptions opt;
  int threads;
  CancelPoller poller;
  std::size_t stride, chunks;
  std::vector<double> partial;  // sum_rows() (at most chunks) x k x (d + 1): sums of w*x and w
  std::vector<std::size_t> changed;  // per chunk: labels changed in the last pass
  // Integer coordinates and weights whose sums stay below 2^53: the rows (one per thread) hold only the
  // changes of the points that moved (exact in any order), not full sums.
  bool incremental = false;
  // Hamerly: half the distance from each centre to its nearest other one; each centre's drift (how far
  // it has moved in all) and the largest drift. Bounds are kept relative to the drifts: a point's own
  // centre is at most upper + drift[a] away, every other one at least lower - drift_max.
  std::vector<double> half, drift;
  double drift_max = 0.0;
  std::vector<double> shift;  // how far each centre moved in the last update
  std::vector<double> upper, lower;
  double slack_scale = 0.0;  // the scale of every distance (data_scale), for the bounds' slack
};

// Adds point x with weight wi to one cluster's sums s (dim sums of w*x, then the sum of w).
template <class T>
inline void add_point(double* s, const T* x, double wi, std::size_t dim) noexcept {
  for (std::size_t j = 0; j < dim; ++j) s[j] += static_cast<double>(x[j]) * wi;
  s[dim] += wi;
}

// Moves point x with weight wi from cluster `from` (none when < 0) to cluster `to` in a row of sums acc
// (clusters of dim + 1 sums): the change the incremental sums add up.
template <class T>
inline void move_point(double* acc, const T* x, double wi, std::size_t dim, std::int32_t to,
                       std::int32_t from) noexcept {
  add_point(acc + static_cast<std::size_t>(to) * (dim + 1), x, wi, dim);
  if (from >= 0) {
    double* so = acc + static_cast<std::size_t>(from) * (dim + 1);
    for (std::size_t j = 0; j < dim; ++j) so[j] -= static_cast<double>(x[j]) * wi;
    so[dim] -= wi;
  }
}

// Scratch of one sub-block of points [sb, sb + kBlock): the points to search (offsets from sb), their
// nearest centres and squared distances to the nearest and second-nearest.
struct BlockScratch {
  std::int32_t found[kBlock];
  std::uint32_t todo[kBlock];
  double best[kBlock], second[kBlock];
  std::size_t m = 0;  // entries of todo
};

// Searches the listed points of the sub-block starting at sb for their nearest centres (vectorised for
// the pixel dimensions) into found, best and second.
template <std::size_t D, class T>
inline void search_block(const LloydState<D, T>& s, const double* C, std::size_t sb, BlockScratch& b) {
  if constexpr (D > 0) {
    if (b.m == 0) return;
    double xs[D * kBlock];
    for (std::size_t q = 0; q < b.m; ++q) {
      const T* x = s.point(sb + b.todo[q]);
      for (std::size_t t = 0; t < D; ++t) xs[t * kBlock + q] = static_cast<double>(x[t]);
    }
    std::int32_t lab[kBlock];
    nearest_block<D>(xs, b.m, C, s.k, lab, b.best, b.second);
    for (std::size_t q = 0; q < b.m; ++q) b.found[b.todo[q]] = lab[q];
  } else {
    for (std::size_t q = 0; q < b.m; ++q)
      b.found[b.todo[q]] = nearest<D>(s.point(sb + b.todo[q]), C, s.k, s.d, b.best[q], b.second[q]);
  }
}

// Gives the points of [sb, se) their found labels and returns how many changed; with accumulate, adds
// to the sums acc (chunk_sums): every point of the sub-block in order (full sums), or, with incremental
// sums, the moves of the points searched (labels change only among them).
template <std::size_t D, class T>
inline std::size_t apply_block(const LloydState<D, T>& s, std::int32_t* labels, std::size_t sb, std::size_t se,
                               const BlockScratch& b, bool accumulate, double* acc) {
  const bool full_sums = accumulate && !s.incremental;
  const bool delta_sums = accumulate && s.incremental;
  const std::size_t dim = s.dim();
  std::size_t n_changed = 0;
  auto update = [&](std::size_t i) {
    const T* x = s.point(i);
    const std::int32_t old = labels[i];
    const std::int32_t a = b.found[i - sb];
    if (a != old) {
      ++n_changed;
      labels[i] = a;
      if (delta_sums) move_point(acc, x, s.weight(i), dim, a, old);
    }
    if (full_sums) add_point(acc + static_cast<std::size_t>(a) * (dim + 1), x, s.weight(i), dim);
  };
  if (full_sums) {
    for (std::size_t i = sb; i < se; ++i) update(i);
  } else {
    for (std::size_t q = 0; q < b.m; ++q) update(sb + b.todo[q]);
  }
  return n_changed;
}

// The pass every per-point kernel makes: for each chunk of points (in parallel), each sub-block [sb, se)
// of it in order, f(sb, se, scratch, acc) returns how many labels it changed; acc is where the chunk
// adds its sums (chunk_sums: its own row, or its thread's for incremental sums).
template <std::size_t D, class T, class F>
std::size_t for_blocks(LloydState<D, T>& s, bool accumulate, F&& f) {
  s.start_pass(accumulate);
  for_chunks(s.n, s.threads, s.poller, [&](std::size_t c, std::size_t b, std::size_t e) {
    double* acc = s.chunk_sums(c, accumulate);
    std::size_t n_changed = 0;
    BlockScratch blk;
    for (std::size_t sb = b; sb < e; sb += kBlock) {
      blk.m = 0;
      n_changed += f(sb, std::min(e, sb + kBlock), blk, acc);
    }
    s.changed[c] = n_changed;
  });
  return s.total_changed();
}

// The iteration kernels. Each assigns every point to its nearest centre of C and returns how many
// labels changed; with accumulate, also fills the rows of sums (full or incremental: chunk_sums).
template <std::size_t D, class T>
std::size_t assign_plain(LloydState<D, T>& s, const double* C, std::int32_t* labels, bool accumulate);

// bounds_valid: the bounds hold for C (false on the first pass, which searches every point and sets
// them); it: the iteration, for the slack.
template <std::size_t D, class T>
std::size_t assign_hamerly(LloydState<D, T>& s, const double* C, std::int32_t* labels, bool bounds_valid,
                           bool accumulate, int it);

// Lloyd on the grid of 8-bit RGB colours (kmeans_grid.cpp): cells of 4 x 4 x 4 colours, each given to one
// centre as a whole when it lies wholly inside that centre's Voronoi region with a margin; the colours
// of the other cells are compared with their cell's candidate centres only, found through the blocks
// of 16 x 16 x 16 colours that hold the cells.
class ColorGrid {
 public:
  // Groups the points into cells (a stable counting sort, in parallel; the same for any thread count).
  explicit ColorGrid(LloydState<3, std::uint8_t>& s);
  // Needs incremental sums. The labels are kept in cell order: write_labels gives them in point order.
  std::size_t assign(LloydState<3, std::uint8_t>& s, const double* C, bool accumulate);
  void write_labels(LloydState<3, std::uint8_t>& s, std::int32_t* labels) const;

 private:
  // A cell's candidates: the centres that may be nearest to one of its colours, in index order.
  struct Candidates {
    std::vector<std::int32_t> index;
    std::vector<double> near, xyz;  // the box's smallest squared distance to each; their coordinates
    std::size_t size = 0;
    double out_near = kInf;  // the smallest squared distance from the box to the centres left out
    double best_far = kInf;  // the smallest largest squared distance from the box, and its centre
    std::int32_t best = -1;
    // the block candidates' coordinates as 3 columns of k (of block col_block), the boxes' largest
    // squared distances
    std::vector<double> col, far;
    std::size_t col_block = ~std::size_t{0};
  };
  struct Chunk;
  void prepare_blocks(LloydState<3, std::uint8_t>& s, const double* C);
  void prepare_block(LloydState<3, std::uint8_t>& s, std::size_t b, std::vector<double>& near,
                     std::vector<double>& far, std::vector<std::int32_t>& fresh);
  bool find_block_candidates(LloydState<3, std::uint8_t>& s, std::size_t b, std::vector<double>& near,
                             std::vector<double>& far, std::vector<std::int32_t>& fresh);
  double left_out_lower(const LloydState<3, std::uint8_t>& s, std::size_t b) const;
  void rebase(std::size_t cell, std::size_t s0, std::size_t s1, bool owner, double cap);
  std::int32_t whole_cell_label(std::size_t cell, const double* C, double& far_out, double& near_out,
                                Candidates& out) const;
  void visit_cell(Chunk& ch, const double* C, std::size_t cell, std::size_t s0, std::size_t s1, bool owner);
  bool settled(Chunk& ch, std::size_t s0, std::size_t s1) const;
  bool kept_candidates(Chunk& ch, const double* C, std::size_t cell) const;
  void keep_candidates(const Chunk& ch, std::size_t cell);
  void search(Chunk& ch);

  // Points in cell order, each occupied cell's key and first position, and whether all its colours were
  // in one cluster (that cluster) or not (-1).
  std::vector<std::uint32_t> perm_, cell_key_, cell_start_;
  std::size_t max_cell_ = 0;  // the most points in a cell (more than 64 when points repeat)
  // The colours, their weights and their labels in cell order (-1: none yet).
  RawVector<std::uint8_t> xyz_;
  RawVector<double> weight_;
  RawVector<std::int32_t> label_;
  std::vector<std::int32_t> cell_whole_, cell_whole_next_;
  // The lower bounds below (of whole cells, colours and kept candidates) are kept relative to their
  // block's drift, not to drift_max: a block's drift grows at each step by the largest move among the
  // block's candidates at that step, and a bound kept as lower stands for min(lower - block_drift_,
  // block_out_dist_). Sound because (1) a centre left out of the block's candidates is at least
  // block_out_dist_ away now, found afresh; (2) a candidate that was one at every step since the bound
  // was set has moved at most the drift added since; (3) at a step where a centre joins the
  // candidates, every bound of the block is first lowered to min(lower, last step's block_out_dist_ +
  // block_drift_), what it was worth at the last step for every centre, so that (2) holds again from
  // there (tests/test_kmeans.py::test_grid_bounds_follow_centres_that_move_unevenly).
  // Whole cells' bounds at their last test, relative to the drifts (as Hamerly's): every colour within
  // cell_upper_ + drift[a] of its centre a, at least cell_lower_ (block-relative) from the others.
  std::vector<double> cell_upper_, cell_upper_next_, cell_lower_, cell_lower_next_;
  // Each colour's bounds (at its position in cell order), as the cells' are: its label's centre within
  // upper + drift[label], every other at least lower (block-relative) away (none yet: upper infinite).
  RawVector<double> upper_, lower_;
  // The occupied blocks of 16 x 16 x 16 colours (their keys), each cell's block, and per block at each
  // step: its candidate centres (block b's at b * k, block_count_[b] of them) and the smallest squared
  // distance from the block to the centres left out (none: infinity).
  std::vector<std::uint32_t> block_key_, cell_block_, block_count_;
  std::vector<std::int32_t> block_cand_;
  std::vector<double> block_out_near_;
  // Per block: its drift (see above), the square root of block_out_near_, and the cap its bounds are
  // lowered to at this step (infinite: none, no centre joined its candidates).
  std::vector<double> block_drift_, block_out_dist_, block_cap_;
  // A candidate list stays valid while its box's best centre b and the centres left out stay apart,
  // as a whole cell's bounds do: every colour within upper + drift[b] of b, the others at least
  // lower - drift_max away for a block, lower (block-relative) for a cell (b < 0: none kept). Per
  // block, and per cell not whole (up to kKeptCandidates of them; written and read by the chunk
  // holding the cell's first position only).
  std::vector<std::int32_t> block_best_, kept_best_, kept_cand_;
  std::vector<double> block_upper_, block_lower_, kept_upper_, kept_lower_;
  // Per block (k each): for a centre left out of its candidates, its distance to the block's box when
  // the list was made plus its drift then (infinite for a candidate): left_out_lower.
  std::vector<double> block_out_rel_;
  std::vector<std::uint8_t> kept_count_;
  std::vector<double> center_col_;  // the centres as 3 columns of k
};

// The most candidates a cell keeps from one step to the next.
constexpr std::size_t kKeptCandidates = 16;

// Distinct 8-bit colours from which Lloyd runs on the colour grid.
constexpr std::size_t kGridMinPoints = 4096;

// M(D, T) for every instantiation of the kernels: the pixel dimensions 1-4 and any other (0), for each
// point type.
#define PIXCLUST_LLOYD_DIMS(M, T) M(0, T) M(1, T) M(2, T) M(3, T) M(4, T)
#define PIXCLUST_LLOYD_INSTANCES(M)       \
  PIXCLUST_LLOYD_DIMS(M, std::uint8_t)    \
  PIXCLUST_LLOYD_DIMS(M, std::uint16_t)   \
  PIXCLUST_LLOYD_DIMS(M, float)           \
  PIXCLUST_LLOYD_DIMS(M, double)

}  // namespace pixclust::detail
