// A kd-tree over observations, for exact nearest-neighbour searches (mst_boruvka.cpp): the points copied
// in tree order as double (float widens exactly, so vector_distance gives the same bits on the copy),
// each beside its observation index in a row of W >= d coordinates, each node's bounding box, and a
// lower bound of the distance from a point to anything in a box.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "default_init_allocator.hpp"
#include "parallel.hpp"
#include "pixclust/linkage_vector.hpp"

namespace pixclust::detail {

struct KdNode {
  std::size_t begin, end;  // positions [begin, end) in tree order
  std::size_t left, right;  // child nodes; kKdLeaf for a leaf
};
constexpr std::size_t kKdLeaf = static_cast<std::size_t>(-1);

// The row width for dimension D (0: known at run time only, up to kKdMaxDim).
constexpr std::size_t kKdMaxDim = 8;
constexpr std::size_t kd_width(std::size_t D) { return D != 0 ? D : kKdMaxDim; }

template <std::size_t W>
class KdTree {
 public:
  using Node = KdNode;

  // Built on `threads` threads below the top levels; the tree depends on the data only. n < 2^32, d <= W.
  template <class T>
  KdTree(const T* X, std::size_t n, std::size_t d, std::size_t leaf_size, int threads, CancelPoller& poller)
      : d_(d), rows_(n) {
    build(X, n, leaf_size, threads, poller);
  }

  std::size_t dim() const noexcept { return d_; }
  const std::vector<Node>& nodes() const noexcept { return nodes_; }
  // the observation at tree position p, and its coordinates
  std::size_t index(std::size_t p) const noexcept { return rows_[p].index; }
  const double* point(std::size_t p) const noexcept { return rows_[p].x; }
  const double* lo(std::size_t node) const noexcept { return box_.data() + 2 * node * d_; }
  const double* hi(std::size_t node) const noexcept { return box_.data() + (2 * node + 1) * d_; }

  // A lower bound of vector_distance<M>(q, p) for every p in the node's box, computed with the same
  // operations in the same order on per-coordinate gaps that are at most the true differences, so by
  // the monotonicity of rounding never above a distance computed from a point inside.
  // D: the dimension when known at compile time, else 0.
  template <VectorMetric M, std::size_t D = 0>
  double box_bound(const double* q, std::size_t node) const noexcept {
    const std::size_t d = D != 0 ? D : d_;
    const double* l = box_.data() + 2 * node * d;
    const double* h = l + d;
    double s = 0.0;
    for (std::size_t k = 0; k < d; ++k) {
      const double g = q[k] < l[k] ? l[k] - q[k] : (q[k] > h[k] ? q[k] - h[k] : 0.0);
      if constexpr (M == VectorMetric::euclidean || M == VectorMetric::sqeuclidean) {
        s += g * g;
      } else if constexpr (M == VectorMetric::cityblock) {
        s += g;
      } else {
        s = g > s ? g : s;
      }
    }
    if constexpr (M == VectorMetric::euclidean) return std::sqrt(s);
    return s;
  }

  // For q inside the node's box, a lower bound of vector_distance<M>(q, p) for every p outside the node:
  // p lies beyond some ancestor's split, on whose axis the node's points are all on one side of p's
  // value, so p's difference there is at least q's gap to that face of the box (the same rounding
  // argument as box_bound's).
  template <VectorMetric M, std::size_t D = 0>
  double exit_bound(const double* q, std::size_t node) const noexcept {
    const std::size_t d = D != 0 ? D : d_;
    const double* l = box_.data() + 2 * node * d;
    const double* h = l + d;
    double g = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < d; ++k) g = std::min(g, std::min(q[k] - l[k], h[k] - q[k]));
    if constexpr (M == VectorMetric::euclidean) return g;
    if constexpr (M == VectorMetric::sqeuclidean) return g * g;
    return g;
  }

 private:
  // A subtree built apart (nodes numbered from 0, its root first), and a node left to build so.
  struct Piece {
    std::vector<Node> nodes;
    std::vector<double> box;
  };
  struct Part {
    std::size_t node, begin, end;
  };
  // An observation: its coordinates (W >= d, the rest unused) beside its index, so that a split of the
  // build moves each row once, and a search finds the index beside the point.
  struct Row {
    double x[W];
    std::uint32_t index;
  };
  using Rows = RawVector<Row>;
  static constexpr std::size_t kTopDepth = 3;  // then 8 subtrees built in parallel
  static constexpr std::size_t kBlock = std::size_t{1} << 16;  // rows per work item of the copy in
  static std::size_t blocks(std::size_t n) noexcept { return (n + kBlock - 1) / kBlock; }
  static constexpr std::size_t kNoStop = static_cast<std::size_t>(-1);

  template <class T>
  void build(const T* X, std::size_t n, std::size_t leaf_size, int threads, CancelPoller& poller) {
    for_items(blocks(n), 1, threads, poller, [&](std::size_t b) {
      for (std::size_t i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i) {
        for (std::size_t k = 0; k < d_; ++k) rows_[i].x[k] = static_cast<double>(X[i * d_ + k]);
        rows_[i].index = static_cast<std::uint32_t>(i);
      }
    });
    Piece top;
    std::vector<Part> parts;
    grow(top, 0, n, leaf_size, 0, &parts);
    nodes_ = std::move(top.nodes);
    box_ = std::move(top.box);
    reserve(nodes_, box_, n, leaf_size);
    // one level per step at the top (1, 2, 4 ... parts side by side), then the rest of each part
    for (std::size_t level = 0; level <= kTopDepth && !parts.empty(); ++level) {
      const std::size_t depth = level == kTopDepth ? kNoStop : 1;
      std::vector<Piece> pieces(parts.size());
      std::vector<std::vector<Part>> below(parts.size());
      for_items(parts.size(), 1, threads, poller, [&](std::size_t i) {
        if (depth == kNoStop) reserve(pieces[i].nodes, pieces[i].box, parts[i].end - parts[i].begin, leaf_size);
        grow(pieces[i], parts[i].begin, parts[i].end, leaf_size, depth, &below[i]);
      });
      std::vector<Part> next;
      for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::size_t offset = splice(parts[i].node, pieces[i]);
        for (const Part& part : below[i]) next.push_back({offset + part.node, part.begin, part.end});
      }
      parts = std::move(next);
    }
  }

  // Room for the nodes of a subtree of m points, so that they are written once (a reserve touches no
  // page): a node splits only above leaf_size points, into halves, so every leaf has at least
  // (leaf_size + 1) / 2 of them.
  void reserve(std::vector<Node>& nodes, std::vector<double>& box, std::size_t m, std::size_t leaf_size) const {
    const std::size_t most = nodes.size() + 2 * (m / ((leaf_size + 1) / 2) + 1);
    nodes.reserve(most);
    box.reserve(2 * d_ * most);
  }

  // Builds the node of [begin, end) and, down to `depth` levels, its subtree in `out` (preorder: children
  // after their parent); a node met at depth 0 that needs splitting is listed in `parts` instead.
  std::size_t grow(Piece& out, std::size_t begin, std::size_t end, std::size_t leaf_size,
                   std::size_t depth, std::vector<Part>* parts) {
    const std::size_t id = out.nodes.size();
    out.nodes.push_back({begin, end, kKdLeaf, kKdLeaf});
    out.box.resize(out.box.size() + 2 * d_);
    double* l = out.box.data() + 2 * id * d_;
    double* h = l + d_;
    std::copy_n(rows_[begin].x, d_, l);
    std::copy_n(rows_[begin].x, d_, h);
    for (std::size_t p = begin + 1; p < end; ++p)
      for (std::size_t k = 0; k < d_; ++k) {
        l[k] = std::min(l[k], rows_[p].x[k]);
        h[k] = std::max(h[k], rows_[p].x[k]);
      }
    if (end - begin <= leaf_size) return id;
    std::size_t axis = 0;
    for (std::size_t k = 1; k < d_; ++k)
      if (h[k] - l[k] > h[axis] - l[axis]) axis = k;
    if (!(h[axis] > l[axis])) return id;  // every point the same: a leaf, however many
    if (depth == 0) {
      parts->push_back({id, begin, end});
      return id;
    }
    const std::size_t mid = begin + (end - begin) / 2;
    // the mid - begin least rows by (value on axis, index) first: nth_element is deterministic for a
    // given input, so the tree (and the search order) is too
    const auto at = [&](std::size_t p) { return rows_.begin() + static_cast<std::ptrdiff_t>(p); };
    std::nth_element(at(begin), at(mid), at(end), [axis](const Row& a, const Row& b) {
      return a.x[axis] < b.x[axis] || (a.x[axis] == b.x[axis] && a.index < b.index);
    });
    const std::size_t next = depth == kNoStop ? kNoStop : depth - 1;
    const std::size_t left = grow(out, begin, mid, leaf_size, next, parts);
    const std::size_t right = grow(out, mid, end, leaf_size, next, parts);
    out.nodes[id].left = left;
    out.nodes[id].right = right;
    return id;
  }

  // The piece's nodes after the ones already here, its root's children given to `node`.
  // Returns the offset: piece node j (j >= 1) is now node offset + j.
  std::size_t splice(std::size_t node, const Piece& piece) {
    const std::size_t offset = nodes_.size() - 1;  // piece node j (j >= 1) becomes offset + j
    auto map = [&](std::size_t j) { return j == kKdLeaf ? kKdLeaf : offset + j; };
    nodes_[node].left = map(piece.nodes[0].left);
    nodes_[node].right = map(piece.nodes[0].right);
    for (std::size_t j = 1; j < piece.nodes.size(); ++j) {
      const Node& nd = piece.nodes[j];
      nodes_.push_back({nd.begin, nd.end, map(nd.left), map(nd.right)});
    }
    box_.insert(box_.end(), piece.box.begin() + static_cast<std::ptrdiff_t>(2 * d_), piece.box.end());
    return offset;
  }

  std::size_t d_;
  Rows rows_;  // in tree order
  std::vector<Node> nodes_;
  std::vector<double> box_;  // per node: d lows, then d highs
};

}  // namespace pixclust::detail
