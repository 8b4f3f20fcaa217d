// The Lloyd iteration for 8-bit RGB colours on a grid of cells (KMeansAlgorithm::hamerly with integer
// weights, at least kGridMinPoints colours).
//
// The colours are points of the 256^3 lattice. They are grouped once into cells of 4 x 4 x 4 values; at
// each step a cell that lies wholly inside one centre's Voronoi region, with a margin far above the
// rounding of any distance, is given that centre as a whole: every colour in it would get the same label
// from nearest(), and no distance needs computing (most colours of a photo are in such cells:
// benchmarks/bench_kmeans.py). A cell that was already whole in the same cluster changes nothing and is
// skipped. The other cells' colours are searched as the plain iteration does. The sums are exact
// integers, kept up to date from the colours that change cluster, so the grouping cannot change a bit of
// the result (tests/cpp/test_kmeans.cpp).
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
  cell_start_.push_back(static_cast<std::uint32_t>(n));
  cell_whole_.assign(cell_key_.size(), -1);
  cell_whole_next_.assign(cell_key_.size(), -1);
  cell_upper_.assign(cell_key_.size(), 0.0);
  cell_upper_next_.assign(cell_key_.size(), 0.0);
  cell_lower_.assign(cell_key_.size(), 0.0);
  cell_lower_next_.assign(cell_key_.size(), 0.0);
}

// The centre whose Voronoi region holds the whole cell, or -1: the centre with the smallest largest
// squared distance to the cell's box, when that is below every other centre's smallest one.
// far_out, near_out: the largest squared distance to that centre, the smallest to the others.
std::int32_t ColorGrid::whole_cell_label(std::uint32_t key, const double* C, std::size_t k, double& far_out,
                                         double& near_out) const {
  const double lo[3] = {static_cast<double>((key >> 12) << 2), static_cast<double>(((key >> 6) & 63) << 2),
                        static_cast<double>((key & 63) << 2)};
  auto box = [&](std::size_t j, double& near, double& far) {
    const double* c = C + j * 3;
    near = 0.0;
    far = 0.0;
    for (std::size_t t = 0; t < 3; ++t) {
      const double a = lo[t] - c[t], b = lo[t] + 3.0 - c[t];
      const double in = a > 0.0 ? a : (b < 0.0 ? b : 0.0);
      near += in * in;
      far += std::max(a * a, b * b);
    }
  };
  // One pass over the centres: the smallest largest distance (the first of equals), and the two
  // smallest smallest distances with the first's centre, so that the smallest over the centres other
  // than `best` is known whichever centre `best` turns out to be.
  double best_far = kInf, near = 0.0, far = 0.0;
  std::size_t best = 0;
  TwoSmallest nearest_box;
  for (std::size_t j = 0; j < k; ++j) {
    box(j, near, far);
    if (far < best_far) {
      best_far = far;
      best = j;
    }
    nearest_box.offer(near, j);
  }
  const double other_near = nearest_box.at == best ? nearest_box.second : nearest_box.first;
  // the relative term: centres far from the data (given as init) round these sums far above kCellMargin
  if (!(best_far + kCellMargin + kCellMarginRel * other_near < other_near)) return -1;
  far_out = best_far;
  near_out = other_near;
  return static_cast<std::int32_t>(best);
}

std::size_t ColorGrid::assign(LloydState<3, std::uint8_t>& s, const double* C, std::int32_t* labels,
                              bool accumulate) {
  const std::size_t cells = cell_key_.size();
  for_chunks(s.n, s.threads, s.poller, [&](std::size_t c, std::size_t b, std::size_t e) {
    double* acc = s.chunk_sums(c, accumulate);
    std::size_t n_changed = 0;
    auto set_label = [&](std::size_t i, std::int32_t a) {
      const std::int32_t old = labels[i];
      if (a == old) return;
      ++n_changed;
      labels[i] = a;
      if (accumulate) move_point(acc, s.point(i), s.weight(i), 3, a, old);
    };
    double xs[3 * kBlock], best[kBlock], second[kBlock];
    std::uint32_t who[kBlock];
    std::int32_t lab[kBlock];
    std::size_t m = 0;
    auto flush = [&] {
      nearest_block<3>(xs, m, C, s.k, lab, best, second);
      for (std::size_t q = 0; q < m; ++q) set_label(who[q], lab[q]);
      m = 0;
    };
    // The cells that meet positions [b, e) of the cell order; a cell's flag is written by the chunk
    // holding its first position.
    std::size_t cell = static_cast<std::size_t>(
        std::upper_bound(cell_start_.begin(), cell_start_.end(), static_cast<std::uint32_t>(b)) - cell_start_.begin() - 1);
    for (; cell < cells && cell_start_[cell] < e; ++cell) {
      const std::size_t s0 = std::max<std::size_t>(b, cell_start_[cell]);
      const std::size_t s1 = std::min<std::size_t>(e, cell_start_[cell + 1]);
      const bool owner = cell_start_[cell] >= b;  // writes the cell's next flag and bounds
      // A cell whole in cluster a at its last test stays whole while its bounds, moved by how far
      // the centres have moved since (as Hamerly's are), stay apart by kCellGap: then no colour of it
      // is within kCellGap of being as close to another centre, far above any rounding.
      const std::int32_t was = cell_whole_[cell];
      const double gap = kCellGap + kBoundSlackRel * s.drift_max;  // the drifts' rounding, as in Hamerly's
      if (was >= 0 && cell_upper_[cell] + s.drift[static_cast<std::size_t>(was)] + gap <
                          cell_lower_[cell] - s.drift_max) {
        if (owner) {
          cell_whole_next_[cell] = was;
          cell_upper_next_[cell] = cell_upper_[cell];
          cell_lower_next_[cell] = cell_lower_[cell];
        }
        continue;  // every colour already there
      }
      double far = 0.0, near = 0.0;
      const std::int32_t whole = whole_cell_label(cell_key_[cell], C, s.k, far, near);
      if (owner) {
        cell_whole_next_[cell] = whole;
        if (whole >= 0) {
          cell_upper_next_[cell] = std::sqrt(far) - s.drift[static_cast<std::size_t>(whole)];
          cell_lower_next_[cell] = std::sqrt(near) + s.drift_max;
        }
      }
      if (whole >= 0) {
        if (whole == cell_whole_[cell]) continue;  // every colour already there
        for (std::size_t q = s0; q < s1; ++q) set_label(perm_[q], whole);
        continue;
      }
      for (std::size_t q = s0; q < s1; ++q) {
        const std::uint32_t i = perm_[q];
        const std::uint8_t* x = s.point(i);
        for (std::size_t t = 0; t < 3; ++t) xs[t * kBlock + m] = static_cast<double>(x[t]);
        who[m++] = i;
        if (m == kBlock) flush();
      }
    }
    if (m > 0) flush();
    s.changed[c] = n_changed;
  });
  cell_whole_.swap(cell_whole_next_);
  cell_upper_.swap(cell_upper_next_);
  cell_lower_.swap(cell_lower_next_);
  return s.total_changed();
}

}  // namespace pixclust::detail
