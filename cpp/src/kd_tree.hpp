// A kd-tree over observations, for exact nearest-neighbour searches (mst_boruvka.cpp): the points copied
// in tree order as double (float widens exactly, so vector_distance gives the same bits on the copy),
// each node's bounding box, and a lower bound of the distance from a point to anything in a box.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "pixclust/linkage_vector.hpp"

namespace pixclust::detail {

class KdTree {
 public:
  struct Node {
    std::size_t begin, end;  // positions [begin, end) in tree order
    std::size_t left, right;  // child nodes; kLeaf for a leaf
  };
  static constexpr std::size_t kLeaf = static_cast<std::size_t>(-1);

  template <class T>
  KdTree(const T* X, std::size_t n, std::size_t d, std::size_t leaf_size) : d_(d), order_(n), points_(n * d) {
    for (std::size_t i = 0; i < n; ++i) order_[i] = i;
    nodes_.reserve(2 * (n / leaf_size + 1));
    build(X, 0, n, leaf_size);
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t k = 0; k < d; ++k) points_[p * d + k] = static_cast<double>(X[order_[p] * d + k]);
  }

  std::size_t dim() const noexcept { return d_; }
  const std::vector<Node>& nodes() const noexcept { return nodes_; }
  // the observation at tree position p, and its coordinates
  std::size_t index(std::size_t p) const noexcept { return order_[p]; }
  const double* point(std::size_t p) const noexcept { return points_.data() + p * d_; }
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
  template <class T>
  std::size_t build(const T* X, std::size_t begin, std::size_t end, std::size_t leaf_size) {
    const std::size_t id = nodes_.size();
    nodes_.push_back({begin, end, kLeaf, kLeaf});
    box_.resize(box_.size() + 2 * d_);
    double* l = box_.data() + 2 * id * d_;
    double* h = l + d_;
    for (std::size_t k = 0; k < d_; ++k) {
      l[k] = h[k] = static_cast<double>(X[order_[begin] * d_ + k]);
      for (std::size_t p = begin + 1; p < end; ++p) {
        const double v = static_cast<double>(X[order_[p] * d_ + k]);
        l[k] = std::min(l[k], v);
        h[k] = std::max(h[k], v);
      }
    }
    if (end - begin <= leaf_size) return id;
    std::size_t axis = 0;
    for (std::size_t k = 1; k < d_; ++k)
      if (h[k] - l[k] > h[axis] - l[axis]) axis = k;
    if (!(h[axis] > l[axis])) return id;  // every point the same: a leaf, however many
    const std::size_t mid = begin + (end - begin) / 2;
    // nth_element is deterministic for a given input, so the tree (and the search order) is too
    std::nth_element(order_.begin() + static_cast<std::ptrdiff_t>(begin), order_.begin() + static_cast<std::ptrdiff_t>(mid),
                     order_.begin() + static_cast<std::ptrdiff_t>(end), [&](std::size_t a, std::size_t b) {
                       const T va = X[a * d_ + axis], vb = X[b * d_ + axis];
                       return va < vb || (va == vb && a < b);
                     });
    const std::size_t left = build(X, begin, mid, leaf_size);
    const std::size_t right = build(X, mid, end, leaf_size);
    nodes_[id].left = left;
    nodes_[id].right = right;
    return id;
  }

  std::size_t d_;
  std::vector<std::size_t> order_;
  std::vector<double> points_;
  std::vector<Node> nodes_;
  std::vector<double> box_;  // per node: d lows, then d highs
};

}  // namespace pixclust::detail
