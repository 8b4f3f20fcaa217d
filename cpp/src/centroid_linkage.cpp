// Ward, centroid and median linkage from observations, on cluster centroids and sizes instead of a
// distance matrix: O(n d) memory.
//
// Every distance is a function of two clusters' centroids and sizes: ward's is
// sqrt(2 |A||B| / (|A| + |B|)) ||c_A - c_B||, centroid's and median's ||c_A - c_B||; a merge replaces the
// two centroids by their size-weighted mean (ward, centroid) or their midpoint (median). These are the
// quantities SciPy's Lance-Williams updates track, rounded differently (heights within 1e-12 relative,
// tests/test_linkage_vector.py). The comparisons use the squared forms (the square root is monotone) and
// the heights take the root once.
//
// Ward is reducible, and runs SciPy's nearest-neighbour chain (reciprocal_pair: ties to the previous
// link, else the lowest index); the rows are then sorted by height and relabelled as SciPy does.
// Centroid and median are not (a merge can bring clusters closer) and run Müllner's generic algorithm:
// every cluster keeps a candidate nearest neighbour above it and a lower bound of that distance; the
// smallest bound is merged once its distance is confirmed, else recomputed. Merging x < y keeps the new
// cluster in slot y, and the ids are assigned as the merges happen, as SciPy's fast_linkage does. Instead
// of SciPy's heap, the smallest bound is found by a scan of the bounds (ties to the lowest index), which
// costs less than the O(n d) update pass that each merge needs anyway.
//
// In low dimension (generic_tree_pays) the same algorithm runs on the centroid kd-tree, with the same
// choices bit for bit (tests/test_linkage_vector.py): a nearest above and the clusters whose new distance
// to y is below their bound are searches that skip only subtrees that provably hold no candidate (box gaps
// with sq_dist's monotone operations, centroid_tree.hpp), the smallest bound is a tournament over the
// slots with the scan's tie rule, and the clusters that pointed at x follow it to y when read (they all
// lie below x, so the scan moves every one of them to y too).
//
// Every scan runs on all threads with chunk-ordered reductions, and every per-cluster write belongs to
// one chunk: the result does not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "centroid_tree.hpp"
#include "linkage_vector_common.hpp"

namespace pixclust::detail {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<std::size_t> live_slots(const ActiveList& live) {
  std::vector<std::size_t> slots;
  for (std::size_t p = 0; p < live.size(); ++p)
    if (live.alive(live.data()[p])) slots.push_back(live.data()[p]);
  return slots;
}

// Rows of initial-neighbour scans handed out at a time (row i scans n - 1 - i others).
constexpr std::size_t kRowsPerChunk = 16;

class Centroids {
 public:
  template <class T>
  Centroids(const T* X, std::size_t n, std::size_t d, const double* size)
      : d_(d), c_(X, X + n * d), size_(size, size + n) {}

  double sq_dist(std::size_t a, std::size_t b) const {
    return vector_distance<VectorMetric::sqeuclidean>(c_.data() + a * d_, c_.data() + b * d_, d_, 0.0, 0.0);
  }
  // Half the squared ward distance (centroid_tree.hpp's ward_key).
  double ward_key(std::size_t a, std::size_t b) const {
    return detail::ward_key(size_[a], size_[b], sq_dist(a, b));
  }
  double size(std::size_t a) const { return size_[a]; }
  const double* centroid(std::size_t a) const { return c_.data() + a * d_; }
  std::size_t dim() const { return d_; }

  // Cluster x merged into slot y: the size-weighted mean (midpoint: median, or two empty clusters). A
  // coordinate the two share is kept as it is (the mean of 3 copies would round): copies of a point then
  // stay at distance exactly 0, as weights require (test_weights_are_repeated_points).
  void merge(std::size_t x, std::size_t y, bool midpoint) {
    const double sx = size_[x], sy = size_[y], s = sx + sy;
    const double* cx = c_.data() + x * d_;
    double* cy = c_.data() + y * d_;
    for (std::size_t k = 0; k < d_; ++k) {
      if (cx[k] == cy[k]) continue;
      cy[k] = midpoint || s == 0 ? 0.5 * (cx[k] + cy[k]) : (sx * cx[k] + sy * cy[k]) / s;
    }
    size_[y] = s;
    size_[x] = 0;
  }

 private:
  std::size_t d_;
  std::vector<double> c_;
  std::vector<double> size_;
};

// What the centroid tree reads: the centroids and the live list.
struct LiveCentroids {
  const Centroids& C;
  const ActiveList& live;
  const double* centroid(std::size_t i) const { return C.centroid(i); }
  double size(std::size_t i) const { return C.size(i); }
  bool alive(std::size_t i) const { return live.alive(i); }
};

// Where the centroid tree's pruned search beats the scan of every live cluster (about n d operations
// per nearest, on all threads): from a few thousand points in up to 4 dimensions, from 16k in 5 and 6;
// in 8 the scan still wins at 30k (measured on normal data, 2 threads; commit message).
bool ward_tree_pays(std::size_t n, std::size_t d) { return (d <= 4 && n >= 2048) || (d <= 6 && n >= 16384); }

// Ward's nearest for the links of the chain, over the centroid tree. A link stays unchanged while it is
// in the chain, and so do its keys to every cluster that has not merged since: each link keeps its
// kKept nearest (key_less order) and a limit that every live cluster outside the list is not below.
// After a merge the dead cluster leaves every list and the merged one is measured again, so the list's
// first entry is the full search's answer until the list runs dry; a hub that many outliers link to
// is searched once per kKept merges instead of once per merge.
class ChainNearest {
 public:
  ChainNearest(const Centroids& C, const LiveCentroids& view, std::size_t n)
      : C_(C), n_(n), tree_(view, n, C.dim(), kLeafSize) {}

  void build(std::vector<std::size_t> slots) { tree_.build(std::move(slots)); }
  CentroidTree<LiveCentroids>& tree() { return tree_; }

  // x's nearest live cluster, x the link at position pos of the chain; {inf, n} when none.
  Candidate<double> nearest(std::size_t x, std::size_t pos) {
    if (kept_.size() <= pos) kept_.resize(pos + 1);
    Kept& k = kept_[pos];
    if (k.slot != x || k.near.empty()) {
      k.want = k.slot == x ? std::min(2 * k.want, kMostKept) : 1;  // a link searched again keeps more
      tree_.nearest(x, k.want, k.near);
      k.slot = x;
      k.limit = k.near.size() == k.want ? k.near.back() : Candidate<double>{kInf, kNone};
    }
    return k.near.empty() ? Candidate<double>{kInf, n_} : k.near.front();
  }

  // x has merged into y, and the chain keeps its first `links` links: their lists follow.
  void merged(std::size_t x, std::size_t y, std::size_t links) {
    for (std::size_t pos = 0; pos < kept_.size(); ++pos) {
      Kept& k = kept_[pos];
      if (pos >= links) k.slot = kNone;  // the link has gone (or merged)
      if (k.slot == kNone) continue;
      auto gone = [&](const Candidate<double>& c) { return c.index == x || c.index == y; };
      k.near.erase(std::remove_if(k.near.begin(), k.near.end(), gone), k.near.end());
      const Candidate<double> c{C_.ward_key(k.slot, y), y};
      if (c.value == c.value && key_less(c, k.limit)) keep_least(k.near, c, 2 * kMostKept);
      if (k.near.size() == 2 * kMostKept) k.slot = kNone;  // searched again: a list this long scans slowly
    }
  }

 private:
  static constexpr std::size_t kMostKept = 32;
  // Ward's leaves hold more than the generic algorithm's 8: fewer nodes per search (measured: commit message).
  static constexpr std::size_t kLeafSize = 16;
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  struct Kept {
    std::size_t slot = kNone;
    std::size_t want = 1;  // how many the last search kept
    Candidate<double> limit{kInf, kNone};
    std::vector<Candidate<double>> near;  // key_less order
  };
  const Centroids& C_;
  std::size_t n_;
  CentroidTree<LiveCentroids> tree_;
  std::vector<Kept> kept_;  // by position in the chain
};

void ward_chain(Centroids& C, std::size_t n, double* Z, int threads, bool adaptive, CancelPoller& poller) {
  ActiveList live(n);
  ThreadBudget budget(threads, adaptive);
  std::vector<Candidate<double>> scratch;
  std::vector<std::size_t> chain;
  const LiveCentroids view{C, live};
  ChainNearest search(C, view, n);
  const bool use_tree = ward_tree_pays(n, C.dim());
  if (use_tree) search.build(std::vector<std::size_t>(live.data(), live.data() + live.size()));
  auto scan = [&](std::size_t x) {
    const std::size_t* L = live.data();
    const Candidate<double> best =
        chunked_argmin<double>(0, live.size(), budget.threads(), scratch, [&](std::size_t lo, std::size_t hi) {
          Candidate<double> b{kInf, hi};
          for (std::size_t p = lo; p < hi; ++p) {
            const std::size_t i = L[p];
            if (i == x || !live.alive(i)) continue;
            const double v = C.ward_key(x, i);
            if (v < b.value) b = {v, p};
          }
          return b;
        });
    if (best.index >= live.size()) throw_non_finite();
    return Candidate<double>{best.value, L[best.index]};
  };
  auto nearest = [&](std::size_t x) {
    if (!use_tree) return scan(x);
    const Candidate<double> best = search.nearest(x, chain.size() - 1);
    if (best.index >= n) throw_non_finite();
    return best;
  };
  auto distance = [&](std::size_t a, std::size_t b) { return C.ward_key(a, b); };
  for (std::size_t k = 0; k + 1 < n; ++k) {
    if (chain.empty()) chain.push_back(live.first_alive());
    const ChainPair<double> pair = reciprocal_pair<double>(chain, nearest, distance);
    write_merge(Z, k, pair.x, pair.y, std::sqrt(2.0 * pair.d), 0.0);  // the counts come with the sort
    C.merge(pair.x, pair.y, false);
    live.kill(pair.x);
    if (use_tree) {
      search.tree().remove(pair.x);
      search.tree().moved(pair.y);
      search.merged(pair.x, pair.y, chain.size());
      if (search.tree().stale()) search.build(live_slots(live));
    }
    poller.poll(use_tree ? merged_share(k, n) : scanned_share(k, n));
  }
  sort_and_relabel(Z, n);
}

// Where the generic algorithm's kd-tree (nearest above, update and the smallest bound in O(log n))
// beats its scans: from 2k points in up to 3 dimensions, 4k in 4, 8k in 5; in 6 the scan still wins at
// 32k (measured on normal data, 2 threads; commit message).
bool generic_tree_pays(std::size_t n, std::size_t d) {
  return (d <= 3 && n >= 2048) || (d == 4 && n >= 4096) || (d == 5 && n >= 8192);
}

// The live cluster with the smallest bound below infinity, the lowest slot among equals (the scan's
// choice), in O(log n) per changed bound: a tournament over the slots.
class SmallestBound {
 public:
  SmallestBound(const std::vector<double>& bound) : bound_(bound), n_(bound.size()) {
    while (leaves_ < n_) leaves_ *= 2;
    win_.assign(2 * leaves_, n_);
    for (std::size_t i = 0; i < n_; ++i) win_[leaves_ + i] = i;
    for (std::size_t p = leaves_; p-- > 1;) win_[p] = winner(win_[2 * p], win_[2 * p + 1]);
  }
  void changed(std::size_t i) {
    for (std::size_t p = (leaves_ + i) / 2; p >= 1; p /= 2) win_[p] = winner(win_[2 * p], win_[2 * p + 1]);
  }
  // {bound, slot}; slot n when every bound is infinite or NaN
  Candidate<double> top() const {
    const std::size_t i = win_[1];
    return i < n_ && bound_[i] < kInf ? Candidate<double>{bound_[i], i} : Candidate<double>{kInf, n_};
  }

 private:
  double key(std::size_t i) const { return i < n_ && bound_[i] < kInf ? bound_[i] : kInf; }
  std::size_t winner(std::size_t a, std::size_t b) const {
    const double ka = key(a), kb = key(b);
    return kb < ka || (kb == ka && b < a) ? b : a;
  }
  const std::vector<double>& bound_;
  std::size_t n_, leaves_ = 1;
  std::vector<std::size_t> win_;
};

// Müllner's generic algorithm on centroids (see the top of this file).
class Generic {
 public:
  Generic(Centroids& C, std::size_t n, bool median, int threads, bool adaptive, CancelPoller& poller)
      : C_(C), n_(n), median_(median), live_(n), budget_(threads, adaptive), poller_(poller), neighbor_(n, n),
        bound_(n, kInf), id_(n), view_{C, live_}, tree_(view_, n, C.dim()),
        use_tree_(generic_tree_pays(n, C.dim())) {
    for (std::size_t i = 0; i < n; ++i) id_[i] = i;
    if (use_tree_) {
      init_tree(threads);
      return;
    }
    // Each cluster's nearest above it, lowest index among equals; each row written by one chunk.
    chunked_for(0, n, kRowsPerChunk, threads, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i)
        for (std::size_t j = i + 1; j < n; ++j) {
          const double v = C_.sq_dist(i, j);
          if (v < bound_[i]) bound_[i] = v, neighbor_[i] = j;
        }
    });
  }

  void run(double* Z) {
    for (std::size_t k = 0; k + 1 < n_; ++k) {
      const auto [x, y, key] = closest_pair();
      const std::size_t a = id_[x], b = id_[y];
      write_merge(Z, k, a < b ? a : b, a < b ? b : a, std::sqrt(key), C_.size(x) + C_.size(y));
      C_.merge(x, y, median_);
      id_[y] = n_ + k;
      live_.kill(x);
      bound_[x] = kInf;
      if (use_tree_) {
        update_tree(x, y);
      } else {
        update(x, y);
      }
      poller_.poll(use_tree_ ? merged_share(k, n_) : scanned_share(k, n_));
    }
  }

 private:
  // Rows of initial nearest-above searches in the tree handed out at a time.
  static constexpr std::size_t kTreeRowsPerChunk = 256;

  void init_tree(int threads) {
    tree_.build(std::vector<std::size_t>(live_.data(), live_.data() + n_));
    chunked_for(0, n_, kTreeRowsPerChunk, threads, [&](std::size_t lo, std::size_t hi) {
      CentroidTree<LiveCentroids>::Stack stack;
      for (std::size_t i = lo; i < hi; ++i) set_nearest(i, tree_.nearest_above(i, stack));
    });
    tree_.reset_bounds(bound_.data());
    smallest_.emplace(bound_);
    merged_into_.assign(n_, n_);
  }

  void set_nearest(std::size_t i, Candidate<double> c) {
    bound_[i] = c.value;
    neighbor_[i] = c.index < n_ ? c.index : n_;
  }

  // The smallest bound once its distance is confirmed (recomputing the unconfirmed ones).
  ChainPair<double> closest_pair() {
    for (;;) {
      const Candidate<double> m = smallest();
      if (m.index >= n_) throw_non_finite();  // only NaN or infinite distances are left
      const std::size_t x = m.index, y = use_tree_ ? follow(neighbor_[x]) : neighbor_[x];
      const double v = C_.sq_dist(x, y);
      if (v == m.value) return {x, y, v};
      set_nearest(x, nearest_above(x));
      if (use_tree_) changed(x);
    }
  }

  // {bound, slot} of the smallest bound; slot n when none is finite.
  Candidate<double> smallest() {
    if (use_tree_) return smallest_->top();
    const std::size_t* L = live_.data();
    const Candidate<double> m =
        chunked_argmin<double>(0, live_.size(), budget_.threads(), scratch_, [&](std::size_t lo, std::size_t hi) {
          Candidate<double> b{kInf, hi};
          for (std::size_t p = lo; p < hi; ++p)
            if (live_.alive(L[p]) && bound_[L[p]] < b.value) b = {bound_[L[p]], p};
          return b;
        });
    return m.value < kInf ? Candidate<double>{m.value, L[m.index]} : Candidate<double>{kInf, n_};
  }

  Candidate<double> nearest_above(std::size_t x) {
    if (use_tree_) return tree_.nearest_above(x, stack_);
    const std::size_t* L = live_.data();
    const std::size_t from = live_.lower_bound(x + 1);
    const Candidate<double> best =
        chunked_argmin<double>(from, live_.size(), budget_.threads(), scratch_, [&](std::size_t lo, std::size_t hi) {
          Candidate<double> b{kInf, hi};
          for (std::size_t p = lo; p < hi; ++p) {
            if (!live_.alive(L[p])) continue;
            const double v = C_.sq_dist(x, L[p]);
            if (v < b.value) b = {v, p};
          }
          return b;
        });
    return best.index < live_.size() ? Candidate<double>{best.value, L[best.index]} : Candidate<double>{kInf, n_};
  }

  // After x merged into y: clusters below y that pointed at x point at y (their bound stays a lower
  // bound), a new distance to y below a bound replaces it, and y's own nearest above is found.
  void update(std::size_t x, std::size_t y) {
    const std::size_t* L = live_.data();
    const Candidate<double> above = chunked_argmin<double>(
        0, live_.size(), budget_.threads(), scratch_, [&](std::size_t lo, std::size_t hi) {
          Candidate<double> b{kInf, hi};
          for (std::size_t p = lo; p < hi; ++p) {
            const std::size_t z = L[p];
            if (z == y || !live_.alive(z)) continue;
            const double v = C_.sq_dist(z, y);
            if (z > y) {
              if (v < b.value) b = {v, p};
              continue;
            }
            if (neighbor_[z] == x) neighbor_[z] = y;
            if (v < bound_[z]) bound_[z] = v, neighbor_[z] = y;
          }
          return b;
        });
    if (above.index < live_.size()) {
      bound_[y] = above.value;
      neighbor_[y] = L[above.index];
    } else {
      bound_[y] = kInf;
      neighbor_[y] = n_;
    }
  }

  // update() with the tree. The clusters that pointed at x follow it to y when their bound is next
  // confirmed (follow): every one of them is below x, so the scan would have moved them all to y too.
  void update_tree(std::size_t x, std::size_t y) {
    merged_into_[x] = y;
    smallest_->changed(x);
    tree_.remove(x);
    tree_.moved(y);
    tree_.below(y, [&](std::size_t z, double v) {
      bound_[z] = v;
      neighbor_[z] = y;
      smallest_->changed(z);
    });
    set_nearest(y, tree_.nearest_above(y, stack_));
    changed(y);
    if (tree_.stale()) {
      tree_.build(live_slots(live_));
      tree_.reset_bounds(bound_.data());
    }
  }

  void changed(std::size_t i) {
    smallest_->changed(i);
    tree_.set_bound(i, bound_[i]);
  }

  // The live cluster that slot j has merged into (j itself while alive), compressing the path.
  std::size_t follow(std::size_t j) {
    std::size_t r = j;
    while (r < n_ && !live_.alive(r)) r = merged_into_[r];
    while (j != r) j = std::exchange(merged_into_[j], r);
    return r;
  }

  Centroids& C_;
  std::size_t n_;
  bool median_;
  ActiveList live_;
  ThreadBudget budget_;
  CancelPoller& poller_;
  std::vector<std::size_t> neighbor_;
  std::vector<double> bound_;
  std::vector<std::size_t> id_;
  std::vector<Candidate<double>> scratch_;
  LiveCentroids view_;
  CentroidTree<LiveCentroids> tree_;
  bool use_tree_;
  std::optional<SmallestBound> smallest_;
  std::vector<std::size_t> merged_into_;  // by dead slot: the slot it merged into
  CentroidTree<LiveCentroids>::Stack stack_;
};

}  // namespace

template <class T>
void centroid_linkage(const T* X, std::size_t n, std::size_t d, LinkageMethod method, const double* size, double* Z,
                      int threads, bool adaptive, CancelPoller& poller) {
  Centroids C(X, n, d, size);
  if (method == LinkageMethod::ward) return ward_chain(C, n, Z, threads, adaptive, poller);
  Generic(C, n, method == LinkageMethod::median, threads, adaptive, poller).run(Z);
}

template void centroid_linkage<float>(const float*, std::size_t, std::size_t, LinkageMethod, const double*, double*,
                                      int, bool, CancelPoller&);
template void centroid_linkage<double>(const double*, std::size_t, std::size_t, LinkageMethod, const double*,
                                       double*, int, bool, CancelPoller&);

}  // namespace pixclust::detail
