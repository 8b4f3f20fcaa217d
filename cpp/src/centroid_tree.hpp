// A kd-tree over the live clusters' centroids for Ward's nearest-neighbour chain and the generic
// algorithm of centroid and median (centroid_linkage.cpp): exact searches, (key, lowest index) as the
// linear scans find them, that skip a subtree only when a proven lower bound of every key in it is
// strictly above the best key found (or, for the generic update, not below any bound in it).
//
// For the generic algorithm each node also holds its smallest and largest slot (of the build: dead slots
// only widen the range) and an upper bound of the live clusters' bounds under it: raised on the path of a
// bound that grows, left as it is when one shrinks, and made exact again in every subtree the update
// visits. The box gap is summed with sq_dist's operations in its order on per-coordinate gaps at most
// the true differences, so by the monotonicity of rounding it never exceeds a squared distance computed
// from a centroid inside the box: pruning on it drops no candidate and no tie.
//
// The tree follows the merges without a rebuild: a merged cluster keeps its slot and its centroid moves
// to the weighted mean. After each death and move the boxes and smallest sizes on the slot's path are
// made exact again over the live clusters (a leaf's from its points, a parent's from its live children),
// so a region a large cluster has swallowed no longer draws its searches; the tree is rebuilt over the
// live clusters once half of them have merged.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "linkage_vector_common.hpp"

namespace pixclust::detail {

// |A||B| / (|A| + |B|) ||c_A - c_B||^2, half the squared Ward distance, from the sizes and the squared
// distance; zero for a size-zero cluster. The one formula of the scan and the tree.
inline double ward_key(double size_a, double size_b, double sq_dist) {
  const double p = size_a * size_b;
  return p == 0 ? 0.0 : p / (size_a + size_b) * sq_dist;
}

// The searches' order: the key, then the lowest index.
inline bool key_less(const Candidate<double>& a, const Candidate<double>& b) {
  return a.value < b.value || (a.value == b.value && a.index < b.index);
}

// Inserts c into `least` (sorted by key_less) when it is among the m least; at most m are kept.
inline void keep_least(std::vector<Candidate<double>>& least, Candidate<double> c, std::size_t m) {
  if (least.size() == m && !key_less(c, least.back())) return;
  auto at = least.end();
  while (at != least.begin() && key_less(c, *(at - 1))) --at;
  least.insert(at, c);
  if (least.size() > m) least.pop_back();
}

// what the tree reads of the clusters: centroid(i) (d doubles), size(i), alive(i)
template <class Clusters>
class CentroidTree {
  struct Pending {
    std::size_t node;
    double bound;
  };

 public:
  using Stack = std::vector<Pending>;  // a search's scratch: one per thread

  // leaf_size: the most clusters a leaf holds.
  CentroidTree(const Clusters& C, std::size_t n, std::size_t d, std::size_t leaf_size = 8)
      : C_(C), d_(d), leaf_size_(leaf_size), leaf_of_(n, kNone), pos_of_(n) {}

  // Builds the tree over the live clusters in `slots`.
  void build(std::vector<std::size_t> slots) {
    slots_ = std::move(slots);
    nodes_.clear();
    box_.clear();
    if (!slots_.empty()) build_node(0, slots_.size(), kNone);
    copy_in_tree_order();
    built_live_ = slots_.size();
    live_ = slots_.size();
  }
  bool stale() const { return 2 * live_ < built_live_ && built_live_ > leaf_size_; }

  void remove(std::size_t slot) {
    --live_;
    on_[pos_of_[slot]] = 0;
    for (std::size_t id = leaf_of_[slot]; id != kNone; id = nodes_[id].parent) --nodes_[id].live;
    refresh(slot);
  }
  // The slot's centroid has moved (and its size grown).
  void moved(std::size_t slot) {
    const double* c = C_.centroid(slot);
    std::copy(c, c + d_, point(pos_of_[slot]));
    size_[pos_of_[slot]] = C_.size(slot);
    refresh(slot);
  }

  // The m live clusters i != x with the least (ward_key(x, i), i), in that order (fewer when fewer are
  // left; a NaN key never counts).
  void nearest(std::size_t x, std::size_t m, std::vector<Candidate<double>>& best) {
    best.clear();
    const double* q = C_.centroid(x);
    const double sx = C_.size(x);
    auto worst = [&] { return best.size() < m ? kInf : best.back().value; };
    stack_.clear();
    if (!nodes_.empty()) stack_.push_back({0, 0.0});
    while (!stack_.empty()) {
      const auto [id, bound] = stack_.back();
      stack_.pop_back();
      if (bound > worst()) continue;
      const Node& nd = nodes_[id];
      if (nd.left == kNone) {
        for (std::size_t p = nd.begin; p < nd.end; ++p) {
          const std::size_t i = slots_[p];
          if (i == x || !on_[p]) continue;
          const double v = ward_key(sx, size_[p], sq_dist(q, p));
          if (v == v) keep_least(best, {v, i}, m);
        }
        continue;
      }
      const double bl = key_bound(q, sx, nd.left), br = key_bound(q, sx, nd.right);
      // the nearer child is searched first: pushed last
      if (bl <= br) {
        push(nd.right, br, worst());
        push(nd.left, bl, worst());
      } else {
        push(nd.left, bl, worst());
        push(nd.right, br, worst());
      }
    }
  }

  // The generic algorithm's queries. The live cluster i > x with the least sq_dist(x, i), the lowest
  // index among equals; {inf, none} when there is none. Reads only: safe on several threads at once.
  Candidate<double> nearest_above(std::size_t x, Stack& stack) const {
    Candidate<double> best{kInf, kNone};
    const double* q = C_.centroid(x);
    stack.clear();
    if (!nodes_.empty() && nodes_[0].max_slot > x) stack.push_back({0, 0.0});
    while (!stack.empty()) {
      const auto [id, bound] = stack.back();
      stack.pop_back();
      if (bound > best.value) continue;
      const Node& nd = nodes_[id];
      if (nd.left == kNone) {
        for (std::size_t p = nd.begin; p < nd.end; ++p) {
          const std::size_t i = slots_[p];
          if (i <= x || !on_[p]) continue;
          const double v = sq_dist(q, p);
          if (v < best.value || (v == best.value && i < best.index)) best = {v, i};
        }
        continue;
      }
      const double bl = above_bound(q, x, nd.left), br = above_bound(q, x, nd.right);
      // the nearer child is searched first: pushed last
      push_above(bl <= br ? nd.right : nd.left, bl <= br ? br : bl, best.value, stack);
      push_above(bl <= br ? nd.left : nd.right, bl <= br ? bl : br, best.value, stack);
    }
    return best.value < kInf ? best : Candidate<double>{kInf, kNone};
  }

  // The live clusters' bounds (by slot) copied in, and the upper bounds made exact, after a build.
  void reset_bounds(const double* bound) {
    bound_.resize(slots_.size());
    for (std::size_t p = 0; p < slots_.size(); ++p) bound_[p] = bound[slots_[p]];
    max_bound_.assign(nodes_.size(), -kInf);
    for (std::size_t id = nodes_.size(); id-- > 0;) {
      const Node& nd = nodes_[id];
      max_bound_[id] = nd.left == kNone ? leaf_max(nd) : std::max(max_bound_[nd.left], max_bound_[nd.right]);
    }
  }
  // The slot's bound is now b. When it grew, the nodes on its path hold it (a parent never holds less
  // than a child); a bound that shrank leaves them as they are, still upper bounds.
  void set_bound(std::size_t slot, double b) {
    bound_[pos_of_[slot]] = b;
    for (std::size_t id = leaf_of_[slot]; id != kNone && b > max_bound_[id]; id = nodes_[id].parent)
      max_bound_[id] = b;
  }

  // take(i, v) for every live i < y with v = sq_dist(i, y) below i's bound, which becomes v.
  template <class Take>
  void below(std::size_t y, const Take& take) {
    if (!nodes_.empty()) below(0, y, C_.centroid(y), take);
  }

 private:
  // A lower bound of sq_dist(x, i) for the nodes' slots i > x, or infinity when it has none alive.
  double above_bound(const double* q, std::size_t x, std::size_t id) const {
    return nodes_[id].live == 0 || nodes_[id].max_slot <= x ? kInf : gap_sq(q, id);
  }
  void push_above(std::size_t id, double bound, double best, Stack& stack) const {
    if (bound < kInf && !(bound > best)) stack.push_back({id, bound});
  }

  // Returns the node's max_bound_, made exact when the node is visited.
  template <class Take>
  double below(std::size_t id, std::size_t y, const double* q, const Take& take) {
    const Node& nd = nodes_[id];
    if (nd.live == 0 || nd.min_slot >= y || gap_sq(q, id) >= max_bound_[id]) return max_bound_[id];
    if (nd.left == kNone) {
      for (std::size_t p = nd.begin; p < nd.end; ++p) {
        if (slots_[p] >= y || !on_[p]) continue;
        const double v = sq_dist(q, p);
        if (v < bound_[p]) bound_[p] = v, take(slots_[p], v);
      }
      return max_bound_[id] = leaf_max(nd);
    }
    const double l = below(nd.left, y, q, take), r = below(nd.right, y, q, take);
    return max_bound_[id] = std::max(l, r);
  }

  // The box and the smallest size of the live clusters under each node on the slot's path, made exact
  // again after the slot died or moved: a dead cluster's box and size would still be bounds, but loose
  // ones once a large cluster has swallowed its neighbourhood.
  void refresh(std::size_t slot) {
    std::size_t id = leaf_of_[slot];
    leaf_box(id);
    for (id = nodes_[id].parent; id != kNone; id = nodes_[id].parent)
      if (!join_children(id)) return;  // nothing changed: neither does anything above
  }

  // The leaf's box and smallest size over its live clusters (a box of no extent when none is left).
  void leaf_box(std::size_t id) {
    Node& nd = nodes_[id];
    double* l = lo(id);
    double* h = hi(id);
    double m = kInf;
    bool first = true;
    for (std::size_t p = nd.begin; p < nd.end; ++p) {
      if (!on_[p]) continue;
      const double* c = point(p);
      for (std::size_t k = 0; k < d_; ++k) {
        l[k] = first ? c[k] : std::min(l[k], c[k]);
        h[k] = first ? c[k] : std::max(h[k], c[k]);
      }
      first = false;
      m = std::min(m, size_[p]);
    }
    nd.min_size = m;
  }

  // The node's box and smallest size from its children's (those with a live cluster); whether they changed.
  bool join_children(std::size_t id) {
    Node& nd = nodes_[id];
    const std::size_t a = nd.left, b = nd.right;
    if (nodes_[a].live == 0 || nodes_[b].live == 0) {
      const std::size_t c = nodes_[a].live == 0 ? b : a;  // an empty node's box is never read
      return set_box(id, lo(c), hi(c), nodes_[c].min_size);
    }
    join_.resize(2 * d_);
    double* l = join_.data();
    double* h = l + d_;
    for (std::size_t k = 0; k < d_; ++k) {
      l[k] = std::min(lo(a)[k], lo(b)[k]);
      h[k] = std::max(hi(a)[k], hi(b)[k]);
    }
    return set_box(id, l, h, std::min(nodes_[a].min_size, nodes_[b].min_size));
  }

  bool set_box(std::size_t id, const double* l, const double* h, double min_size) {
    bool changed = nodes_[id].min_size != min_size;
    nodes_[id].min_size = min_size;
    for (std::size_t k = 0; k < d_; ++k) {
      changed |= lo(id)[k] != l[k] || hi(id)[k] != h[k];
      lo(id)[k] = l[k];
      hi(id)[k] = h[k];
    }
    return changed;
  }

  // The centroids, live flags and positions by slot in tree order, so that a leaf reads one run of memory.
  void copy_in_tree_order() {
    pts_.resize(slots_.size() * d_);
    size_.resize(slots_.size());
    on_.assign(slots_.size(), 1);
    for (std::size_t p = 0; p < slots_.size(); ++p) {
      pos_of_[slots_[p]] = p;
      size_[p] = C_.size(slots_[p]);
      std::copy(C_.centroid(slots_[p]), C_.centroid(slots_[p]) + d_, point(p));
    }
  }
  double* point(std::size_t p) { return pts_.data() + p * d_; }
  // sq_dist(x, slots_[p]) for x's centroid q: the same operations on the same values (copies).
  double sq_dist(const double* q, std::size_t p) const {
    return vector_distance<VectorMetric::sqeuclidean>(q, pts_.data() + p * d_, d_, 0.0, 0.0);
  }

  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  // A relative margin far above the few roundings by which the bound's arithmetic could exceed a key
  // computed from a point inside the box (ward_key's products and quotient are not monotone bit by bit).
  static constexpr double kBoundMargin = 1.0 - 0x1p-40;

  static constexpr double kInf = std::numeric_limits<double>::infinity();

  struct Node {
    std::size_t begin, end, left, right, parent, live, min_slot, max_slot;
    double min_size;
  };

  void push(std::size_t id, double bound, double best) {
    if (nodes_[id].live > 0 && !(bound > best)) stack_.push_back({id, bound});
  }

  double* lo(std::size_t id) { return box_.data() + 2 * id * d_; }
  double* hi(std::size_t id) { return box_.data() + (2 * id + 1) * d_; }
  const double* lo(std::size_t id) const { return box_.data() + 2 * id * d_; }
  const double* hi(std::size_t id) const { return box_.data() + (2 * id + 1) * d_; }

  // A lower bound of sq_dist from q to every centroid in the node's box (see the top of this file).
  double gap_sq(const double* q, std::size_t id) const {
    const double* l = lo(id);
    const double* h = hi(id);
    double s = 0.0;
    for (std::size_t k = 0; k < d_; ++k) {
      const double g = q[k] < l[k] ? l[k] - q[k] : (q[k] > h[k] ? q[k] - h[k] : 0.0);
      s += g * g;
    }
    return s;
  }

  // The largest live bound in a leaf; NaN never counts (no distance is below it).
  double leaf_max(const Node& nd) const {
    double m = -kInf;
    for (std::size_t p = nd.begin; p < nd.end; ++p)
      if (on_[p] && bound_[p] > m) m = bound_[p];
    return m;
  }

  // A lower bound of ward_key(x, i) for every live i under the node: Ward's size factor ab/(a+b) grows
  // with b, so the subtree's smallest size bounds it, and the box bounds the squared distance with the
  // same monotone operations as sq_dist.
  double key_bound(const double* q, double sx, std::size_t id) const {
    const double s = gap_sq(q, id);
    const double sm = nodes_[id].min_size;
    const double p = sx * sm;
    return p == 0 ? 0.0 : p / (sx + sm) * s * kBoundMargin;
  }

  std::size_t build_node(std::size_t begin, std::size_t end, std::size_t parent) {
    const std::size_t id = nodes_.size();
    nodes_.push_back({begin, end, kNone, kNone, parent, end - begin, slots_[begin], slots_[begin], 0.0});
    box_.resize(box_.size() + 2 * d_);
    double* l = lo(id);
    double* h = hi(id);
    double min_size = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < d_; ++k) l[k] = h[k] = C_.centroid(slots_[begin])[k];
    for (std::size_t p = begin; p < end; ++p) {
      const double* c = C_.centroid(slots_[p]);
      for (std::size_t k = 0; k < d_; ++k) {
        l[k] = std::min(l[k], c[k]);
        h[k] = std::max(h[k], c[k]);
      }
      min_size = std::min(min_size, C_.size(slots_[p]));
      nodes_[id].min_slot = std::min(nodes_[id].min_slot, slots_[p]);
      nodes_[id].max_slot = std::max(nodes_[id].max_slot, slots_[p]);
    }
    nodes_[id].min_size = min_size;
    std::size_t axis = 0;
    for (std::size_t k = 1; k < d_; ++k)
      if (h[k] - l[k] > h[axis] - l[axis]) axis = k;
    if (end - begin <= leaf_size_ || !(h[axis] > l[axis])) {
      for (std::size_t p = begin; p < end; ++p) leaf_of_[slots_[p]] = id;
      return id;
    }
    const std::size_t mid = begin + (end - begin) / 2;
    const auto first = slots_.begin() + static_cast<std::ptrdiff_t>(begin);
    std::nth_element(first, slots_.begin() + static_cast<std::ptrdiff_t>(mid),
                     slots_.begin() + static_cast<std::ptrdiff_t>(end), [&](std::size_t a, std::size_t b) {
                       const double va = C_.centroid(a)[axis], vb = C_.centroid(b)[axis];
                       return va < vb || (va == vb && a < b);
                     });
    return split(id, begin, mid, end);
  }

  std::size_t split(std::size_t id, std::size_t begin, std::size_t mid, std::size_t end) {
    const std::size_t left = build_node(begin, mid, id);
    const std::size_t right = build_node(mid, end, id);
    nodes_[id].left = left;
    nodes_[id].right = right;
    return id;
  }

  const Clusters& C_;
  std::size_t d_;
  std::size_t leaf_size_;
  std::vector<std::size_t> leaf_of_;  // by slot: its leaf, in the current build
  std::vector<std::size_t> slots_;    // tree order
  std::vector<Node> nodes_;
  std::vector<double> box_;        // per node: d lows, then d highs
  std::vector<std::size_t> pos_of_;   // by slot: its position in tree order, in the current build
  std::vector<double> pts_;           // by position: the centroid (a copy)
  std::vector<double> size_;          // by position: the size (a copy)
  std::vector<unsigned char> on_;     // by position: alive
  std::vector<double> bound_;         // by position, the generic algorithm's: the bound (a copy)
  std::vector<double> max_bound_;     // per node, the same: at least every live bound under it
  std::vector<Pending> stack_;
  std::vector<double> join_;  // join_children's scratch box
  std::size_t built_live_ = 0, live_ = 0;
};

}  // namespace pixclust::detail
