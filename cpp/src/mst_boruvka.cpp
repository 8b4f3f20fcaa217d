// Single linkage from observations in low dimension: the minimum spanning tree by Borůvka's rounds over
// a kd-tree (kd_tree.hpp). Each round, every point finds its nearest point in another component, pruned
// by box bounds and by the best edge its component has found so far; each component keeps the least
// edge of its points; the components join along them.
//
// Exact: edges are ordered by (distance, lower index, higher index), a total order, so the tree is the
// one minimum spanning tree of that order whatever the thread count or the pruning order (a prune needs
// a bound strictly above a candidate already found). When its distances are all different, every
// minimum spanning tree gives SciPy's matrix (the merge at each height is then forced), so the result is
// SciPy's bit for bit; with tied heights SciPy's matrix depends on Prim's visiting order, and the caller
// runs Prim's instead (mst_vector.cpp; tests/test_linkage_vector.py, test_boruvka_*).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kd_tree.hpp"
#include "linkage_vector_common.hpp"
#include "parallel.hpp"

namespace pixclust::detail {

namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);
constexpr std::size_t kLeafSize = 16;
constexpr std::size_t kPointsPerItem = 512;  // tree positions per parallel work item

struct Edge {
  double dist;
  std::size_t a, b;  // observation indices, a < b
};

inline bool less(const Edge& x, const Edge& y) {
  if (x.dist != y.dist) return x.dist < y.dist;
  return x.a < y.a || (x.a == y.a && x.b < y.b);
}

inline void lower_to(std::atomic<double>& bound, double value) {
  double cur = bound.load(std::memory_order_relaxed);
  while (value < cur && !bound.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
}

class UnionFind {
 public:
  explicit UnionFind(std::size_t n) : parent_(n) {
    for (std::size_t i = 0; i < n; ++i) parent_[i] = i;
  }
  std::size_t find(std::size_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  bool join(std::size_t a, std::size_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return false;
    parent_[std::max(a, b)] = std::min(a, b);
    return true;
  }

 private:
  std::vector<std::size_t> parent_;
};

// Each point's kKnn nearest others in (distance, index) order, found once: in a later round a point's
// least edge out of its component is the first of them outside it, and a point whose whole list is
// inside needs the tree only if its last listed distance could still beat its component's best edge.
constexpr std::size_t kKnn = 8;

template <VectorMetric M>
class Boruvka {
 public:
  Boruvka(const KdTree& tree, std::size_t n)
      : t_(tree), n_(n), k_(std::min(kKnn, n - 1)), comp_(n), node_comp_(tree.nodes().size()), bound_(n),
        best_(n), knn_dist_(n * k_), knn_pos_(n * k_) {}

  // The n - 1 edges, in the order they were found.
  std::vector<Edge> run(int threads, CancelPoller& poller) {
    parallel_points(threads, poller, [&](std::size_t p) { nearest_k(p); });
    UnionFind uf(n_);
    std::vector<Edge> edges;
    edges.reserve(n_ - 1);
    std::vector<Edge> least(n_);
    while (edges.size() + 1 < n_) {
      for (std::size_t p = 0; p < n_; ++p) comp_[p] = uf.find(t_.index(p));
      label_nodes();
      // first from the lists (their minima are a deterministic bound), then the tree where still needed
      for (auto& b : bound_) b.store(std::numeric_limits<double>::infinity(), std::memory_order_relaxed);
      parallel_points(threads, poller, [&](std::size_t p) { best_[p] = listed_outside(p); });
      parallel_points(threads, poller, [&](std::size_t p) {
        if (best_[p].a == kNone && knn_dist_[p * k_ + k_ - 1] <= bound_[comp_[p]].load(std::memory_order_relaxed))
          best_[p] = nearest_outside(p);
      });
      // each component's least edge, folded in position order (the order cannot matter: a total order)
      std::fill(least.begin(), least.end(), Edge{std::numeric_limits<double>::infinity(), kNone, kNone});
      for (std::size_t p = 0; p < n_; ++p)
        if (best_[p].a != kNone && less(best_[p], least[comp_[p]])) least[comp_[p]] = best_[p];
      for (const Edge& e : least)
        if (e.a != kNone && uf.join(e.a, e.b)) edges.push_back(e);
      poller.poll(static_cast<double>(edges.size()) / static_cast<double>(n_ - 1));
    }
    return edges;
  }

 private:
  template <class Body>
  void parallel_points(int threads, CancelPoller& poller, const Body& body) {
    const std::size_t items = (n_ + kPointsPerItem - 1) / kPointsPerItem;
    for_items(items, 1, threads, poller, [&](std::size_t item) {
      const std::size_t end = std::min(n_, (item + 1) * kPointsPerItem);
      for (std::size_t p = item * kPointsPerItem; p < end; ++p) body(p);
    });
    poller.poll();
  }

  // node_comp_: the component of every point under a node, or kNone when they differ
  void label_nodes() {
    const auto& nodes = t_.nodes();
    for (std::size_t id = nodes.size(); id-- > 0;) {  // children come after their parent
      const KdTree::Node& nd = nodes[id];
      if (nd.left == KdTree::kLeaf) {
        std::size_t c = comp_[nd.begin];
        for (std::size_t p = nd.begin + 1; p < nd.end && c != kNone; ++p)
          if (comp_[p] != c) c = kNone;
        node_comp_[id] = c;
      } else {
        node_comp_[id] = node_comp_[nd.left] == node_comp_[nd.right] ? node_comp_[nd.left] : kNone;
      }
    }
  }

  Edge edge_to(std::size_t p, std::size_t r, double dist) const {
    const std::size_t i = t_.index(p), j = t_.index(r);
    return Edge{dist, std::min(i, j), std::max(i, j)};
  }

  // The first listed neighbour outside p's component: in (distance, index) order, which for a fixed p is
  // the edge order, so it is p's least edge out.
  Edge listed_outside(std::size_t p) {
    for (std::size_t s = 0; s < k_; ++s) {
      const std::size_t r = knn_pos_[p * k_ + s];
      if (comp_[r] != comp_[p]) {
        const Edge e = edge_to(p, r, knn_dist_[p * k_ + s]);
        lower_to(bound_[comp_[p]], e.dist);
        return e;
      }
    }
    return Edge{std::numeric_limits<double>::infinity(), kNone, kNone};
  }

  // The k_ nearest other points of p by (distance, index), kept as a sorted list (k_ is small).
  void nearest_k(std::size_t p) {
    double* dist = knn_dist_.data() + p * k_;
    std::uint32_t* pos = knn_pos_.data() + p * k_;
    std::size_t found = 0;
    const double* q = t_.point(p);
    auto before = [&](double d1, std::size_t r1, double d2, std::size_t r2) {
      return d1 < d2 || (d1 == d2 && t_.index(r1) < t_.index(r2));
    };
    search(q, [&](std::size_t) { return found < k_ ? std::numeric_limits<double>::infinity() : dist[k_ - 1]; },
           [&](std::size_t r) {
             if (r == p) return;
             const double dr = vector_distance<M>(q, t_.point(r), t_.dim(), 0.0, 0.0);
             if (found == k_ && !before(dr, r, dist[k_ - 1], pos[k_ - 1])) return;
             std::size_t s = found < k_ ? found++ : k_ - 1;
             for (; s > 0 && before(dr, r, dist[s - 1], pos[s - 1]); --s) {
               dist[s] = dist[s - 1];
               pos[s] = pos[s - 1];
             }
             dist[s] = dr;
             pos[s] = static_cast<std::uint32_t>(r);
           });
  }

  // p's least edge to a point outside its component, by the tree.
  Edge nearest_outside(std::size_t p) {
    const std::size_t c = comp_[p];
    Edge best{std::numeric_limits<double>::infinity(), kNone, kNone};
    std::atomic<double>& shared = bound_[c];
    const double* q = t_.point(p);
    search(q,
           [&](std::size_t id) {
             return node_comp_[id] == c ? -1.0 : std::min(best.dist, shared.load(std::memory_order_relaxed));
           },
           [&](std::size_t r) {
             if (comp_[r] == c) return;
             const Edge e = edge_to(p, r, vector_distance<M>(q, t_.point(r), t_.dim(), 0.0, 0.0));
             if (less(e, best)) {
               best = e;
               lower_to(shared, e.dist);
             }
           });
    return best;
  }

  // Depth-first over the tree, nearer child first, skipping a node whose box bound is above limit(node)
  // (strictly: a point at the limit may still win on its index); visit(r) for each position r reached.
  template <class Limit, class Visit>
  void search(const double* q, const Limit& limit, const Visit& visit) const {
    thread_local std::vector<std::size_t> stack;
    stack.clear();
    stack.push_back(0);
    const auto& nodes = t_.nodes();
    while (!stack.empty()) {
      const std::size_t id = stack.back();
      stack.pop_back();
      if (t_.box_bound<M>(q, id) > limit(id)) continue;
      const KdTree::Node& nd = nodes[id];
      if (nd.left == KdTree::kLeaf) {
        for (std::size_t r = nd.begin; r < nd.end; ++r) visit(r);
        continue;
      }
      const bool left_first = t_.box_bound<M>(q, nd.left) <= t_.box_bound<M>(q, nd.right);
      stack.push_back(left_first ? nd.right : nd.left);  // pushed last, searched first: the nearer one
      stack.push_back(left_first ? nd.left : nd.right);
    }
  }

  const KdTree& t_;
  std::size_t n_, k_;
  std::vector<std::size_t> comp_;           // by tree position: the component's root observation
  std::vector<std::size_t> node_comp_;      // by node
  std::vector<std::atomic<double>> bound_;  // by component root: the least edge found so far this round
  std::vector<Edge> best_;                  // by tree position: the point's least edge out of its component
  std::vector<double> knn_dist_;            // by tree position: k_ distances, ascending
  std::vector<std::uint32_t> knn_pos_;      // and the neighbours' tree positions
};

// The largest distance any two observations can have is at most the distance between the corners of
// their bounding box (the same monotone operations): finite there, finite everywhere.
template <VectorMetric M>
bool distances_finite(const KdTree& tree) {
  return std::isfinite(vector_distance<M>(tree.lo(0), tree.hi(0), tree.dim(), 0.0, 0.0));
}

template <VectorMetric M, class T>
bool boruvka(const T* X, std::size_t n, std::size_t d, double* Z, int threads, CancelPoller& poller) {
  if (n > std::numeric_limits<std::uint32_t>::max()) return false;  // neighbour lists hold 32-bit positions
  const KdTree tree(X, n, d, kLeafSize);
  if (!distances_finite<M>(tree)) return false;
  const std::vector<Edge> edges = Boruvka<M>(tree, n).run(threads, poller);
  std::vector<double> heights(edges.size());
  for (std::size_t k = 0; k < edges.size(); ++k) heights[k] = edges[k].dist;
  std::sort(heights.begin(), heights.end());
  if (std::adjacent_find(heights.begin(), heights.end()) != heights.end()) return false;
  for (std::size_t k = 0; k < edges.size(); ++k) write_merge(Z, k, edges[k].a, edges[k].b, edges[k].dist, 0.0);
  sort_and_relabel(Z, n);
  return true;
}

}  // namespace

template <class T>
bool mst_boruvka(const T* X, std::size_t n, std::size_t d, VectorMetric metric, double* Z, int threads,
                 CancelPoller& poller) {
  switch (metric) {
    case VectorMetric::euclidean: return boruvka<VectorMetric::euclidean>(X, n, d, Z, threads, poller);
    case VectorMetric::sqeuclidean: return boruvka<VectorMetric::sqeuclidean>(X, n, d, Z, threads, poller);
    case VectorMetric::cityblock: return boruvka<VectorMetric::cityblock>(X, n, d, Z, threads, poller);
    case VectorMetric::chebyshev: return boruvka<VectorMetric::chebyshev>(X, n, d, Z, threads, poller);
    case VectorMetric::cosine: return false;  // no box bound: Prim's
  }
  return false;
}

template bool mst_boruvka<float>(const float*, std::size_t, std::size_t, VectorMetric, double*, int, CancelPoller&);
template bool mst_boruvka<double>(const double*, std::size_t, std::size_t, VectorMetric, double*, int, CancelPoller&);

}  // namespace pixclust::detail
