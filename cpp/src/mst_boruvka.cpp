// Single linkage from observations in low dimension: the minimum spanning tree by Borůvka's rounds over
// a kd-tree (kd_tree.hpp). First every point's kKnn nearest others (searched from its own leaf upwards);
// then each round every point finds its least edge out of its component: last round's if its far end is
// still outside, else the first listed neighbour outside, else the tree, pruned by box bounds and by the
// best edge its component has found so far; the components join along their least edges.
//
// Exact: edges are ordered by (key, lower index, higher index), a total order (the key is the squared
// distance for euclidean), so the tree is the one minimum spanning tree of that order whatever the
// thread count or the pruning order (a prune needs a bound strictly above a candidate already found).
// When its heights are all different, every minimum spanning tree gives SciPy's matrix (the merge at
// each height is then forced), so the result is SciPy's bit for bit; with tied heights SciPy's matrix
// depends on Prim's visiting order, and the caller runs Prim's instead (mst_vector.cpp;
// tests/test_linkage_vector.py, test_boruvka_*).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "default_init_allocator.hpp"
#include "kd_tree.hpp"
#include "linkage_vector_common.hpp"
#include "parallel.hpp"

namespace pixclust::detail {

namespace {

constexpr std::uint32_t kNoPos = static_cast<std::uint32_t>(-1);
constexpr std::uint64_t kNoEnds = static_cast<std::uint64_t>(-1);
constexpr std::size_t kLeafSize = 16;
constexpr std::size_t kPointsPerItem = 512;  // tree positions per parallel work item

// Edges are compared by key: the squared distance for euclidean (the root is monotone, so the order is
// only finer, and the heights are the roots of the same sums, as pdist takes them), else the distance.
template <VectorMetric M>
constexpr VectorMetric key_metric() {
  return M == VectorMetric::euclidean ? VectorMetric::sqeuclidean : M;
}

// vector_distance<K> on the tree's double copies, with the dimension D fixed at compile time when not 0.
template <VectorMetric K, std::size_t D>
inline double key_distance(const double* a, const double* b, std::size_t d) {
  const std::size_t dd = D != 0 ? D : d;
  double s = 0.0;
  for (std::size_t k = 0; k < dd; ++k) s = fold_coordinate<K>(s, a[k] - b[k]);
  return s;
}

struct Edge {
  double key;
  std::uint32_t a, b;  // observation indices, a < b
};

constexpr Edge kNoEdge{std::numeric_limits<double>::infinity(), kNoPos, kNoPos};

inline bool less(const Edge& x, const Edge& y) {
  if (x.key != y.key) return x.key < y.key;
  return x.a < y.a || (x.a == y.a && x.b < y.b);
}

template <class V>
inline void lower_to(std::atomic<V>& bound, V value) {
  V cur = bound.load(std::memory_order_relaxed);
  while (value < cur && !bound.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
}

class UnionFind {
 public:
  explicit UnionFind(std::size_t n) : parent_(n) {
    for (std::size_t i = 0; i < n; ++i) parent_[i] = static_cast<std::uint32_t>(i);
  }
  std::size_t find(std::size_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  bool join(std::size_t a, std::size_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return false;
    parent_[std::max(a, b)] = static_cast<std::uint32_t>(std::min(a, b));
    return true;
  }

 private:
  std::vector<std::uint32_t> parent_;  // tree positions: n < 2^32
};

// Each point's kKnn nearest others in (key, index) order, found once: in a later round a point's
// least edge out of its component is the first of them outside it, and a point whose whole list is
// inside needs the tree only if its last listed key could still beat its component's best edge.
constexpr std::size_t kKnn = 6;

template <VectorMetric K, std::size_t D>
class Boruvka {
 public:
  // position_of: by observation, its tree position
  using Tree = KdTree<kd_width(D)>;

  Boruvka(const Tree& tree, std::size_t n, const std::uint32_t* position_of)
      : t_(tree), position_of_(position_of), n_(n), k_(std::min(kKnn, n - 1)), comp_(n),
        node_comp_(tree.nodes().size()), bound_(n), ends_(n), best_key_(n), other_(n, kNoPos), sure_(n, 0),
        cursor_(n, 0), knn_pos_(n * k_), last_key_(n), parent_(tree.nodes().size(), 0), leaf_of_(n) {
    const auto& nodes = tree.nodes();
    for (std::size_t id = 0; id < nodes.size(); ++id) {
      if (nodes[id].left != kKdLeaf) {
        parent_[nodes[id].left] = parent_[nodes[id].right] = static_cast<std::uint32_t>(id);
      } else {
        for (std::size_t p = nodes[id].begin; p < nodes[id].end; ++p) leaf_of_[p] = static_cast<std::uint32_t>(id);
      }
    }
  }

  // The n - 1 edges, in the order they were found.
  std::vector<Edge> run(int threads, CancelPoller& poller) {
    // the list length fixed at compile time in the common case: the insertion unrolls
    if (k_ == kKnn) {
      parallel_points(threads, poller, [&](std::size_t p) { nearest_k<kKnn>(p); });
    } else {
      parallel_points(threads, poller, [&](std::size_t p) { nearest_k<0>(p); });
    }
    // components are named by their least tree position: near points have near names, so the early
    // rounds (many small components) touch bound_, ends_ and the union-find locally
    std::vector<std::uint32_t> roots(n_);
    for (std::size_t p = 0; p < n_; ++p) roots[p] = comp_[p] = static_cast<std::uint32_t>(p);
    UnionFind uf(n_);  // over tree positions
    std::vector<Edge> edges;
    edges.reserve(n_ - 1);
    while (edges.size() + 1 < n_) {
      label_nodes();
      for (const std::uint32_t r : roots) {
        bound_[r].store(std::numeric_limits<double>::infinity(), std::memory_order_relaxed);
        ends_[r].store(kNoEnds, std::memory_order_relaxed);
      }
      // first what is known without the tree (its minima are a deterministic bound), then the tree where needed
      parallel_points(threads, poller, [&](std::size_t p) { known_outside(p); });
      parallel_points(threads, poller, [&](std::size_t p) {
        if (other_[p] == kNoPos && last_key_[p] <= bound_[comp_[p]].load(std::memory_order_relaxed))
          nearest_outside(p);
      });
      // each component's least edge: its bound is the least key found, and the ends break a tie in key
      parallel_points(threads, poller, [&](std::size_t p) {
        const std::size_t c = comp_[p];
        if (other_[p] != kNoPos && best_key_[p] == bound_[c].load(std::memory_order_relaxed)) {
          const Edge e = edge_to(p, other_[p], best_key_[p]);
          lower_to(ends_[c], (std::uint64_t{e.a} << 32) | e.b);
        }
      });
      for (const std::uint32_t r : roots) {
        const std::uint64_t ends = ends_[r].load(std::memory_order_relaxed);
        const Edge e{bound_[r].load(std::memory_order_relaxed), static_cast<std::uint32_t>(ends >> 32),
                     static_cast<std::uint32_t>(ends & 0xffffffffu)};
        if (ends != kNoEnds && uf.join(position_of_[e.a], position_of_[e.b])) edges.push_back(e);
      }
      relabel(uf, roots, threads, poller);
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

  // comp_ after the joins: each old root's new root, found once, then read by every point.
  void relabel(UnionFind& uf, std::vector<std::uint32_t>& roots, int threads, CancelPoller& poller) {
    std::vector<std::uint32_t>& root_of = scratch_;
    root_of.resize(n_);
    std::size_t kept = 0;
    for (const std::uint32_t r : roots) {
      root_of[r] = static_cast<std::uint32_t>(uf.find(r));
      if (root_of[r] == r) roots[kept++] = r;
    }
    roots.resize(kept);
    parallel_points(threads, poller, [&](std::size_t p) { comp_[p] = root_of[comp_[p]]; });
  }

  // node_comp_: the component of every point under a node, or kNoPos when they differ
  void label_nodes() {
    const auto& nodes = t_.nodes();
    for (std::size_t id = nodes.size(); id-- > 0;) {  // children come after their parent
      const KdNode& nd = nodes[id];
      if (nd.left == kKdLeaf) {
        std::uint32_t c = comp_[nd.begin];
        for (std::size_t p = nd.begin + 1; p < nd.end && c != kNoPos; ++p)
          if (comp_[p] != c) c = kNoPos;
        node_comp_[id] = c;
      } else {
        node_comp_[id] = node_comp_[nd.left] == node_comp_[nd.right] ? node_comp_[nd.left] : kNoPos;
      }
    }
  }

  Edge edge_to(std::size_t p, std::size_t r, double key) const {
    const auto i = static_cast<std::uint32_t>(t_.index(p)), j = static_cast<std::uint32_t>(t_.index(r));
    return Edge{key, std::min(i, j), std::max(i, j)};
  }

  void keep(std::size_t p, double key, std::size_t r, bool sure) {
    best_key_[p] = key;
    other_[p] = static_cast<std::uint32_t>(r);
    sure_[p] = sure;
  }

  // p's least edge out of its component when known without the tree: last round's, if its far end is
  // still outside (the component has only grown, so nothing new can beat it), else the first listed
  // neighbour outside, in (key, index) order, which for a fixed p is the edge order.
  void known_outside(std::size_t p) {
    const std::size_t c = comp_[p];
    if (sure_[p]) {
      if (comp_[other_[p]] != c) {
        lower_to(bound_[c], best_key_[p]);
        return;
      }
      last_key_[p] = std::max(last_key_[p], best_key_[p]);  // the components only grow: no edge out is below it
    }
    keep(p, kNoEdge.key, kNoPos, false);
    for (std::size_t s = cursor_[p]; s < k_; ++s) {
      const std::size_t r = knn_pos_[p * k_ + s];
      if (comp_[r] != c) {
        keep(p, key_distance<K, D>(t_.point(p), t_.point(r), t_.dim()), r, true);
        lower_to(bound_[c], best_key_[p]);
        cursor_[p] = static_cast<std::uint8_t>(s + 1);  // if it joins p's component, it stays inside
        return;
      }
    }
    cursor_[p] = static_cast<std::uint8_t>(k_);  // inside for good: components only grow
  }

  // The k_ nearest other points of p by (key, index), kept as a sorted list (k_ is small; empty slots
  // have an infinite key, and every key is finite). From p's leaf upwards: each ancestor's other child,
  // until nothing outside the node reached can make the list.
  // L: k_ when known at compile time, else 0.
  template <std::size_t L>
  void nearest_k(std::size_t p) {
    const std::size_t k = L != 0 ? L : k_;
    const std::size_t last = k - 1;
    // the list in locals (copied out at the end) and its last key in `worst`: kept in registers
    double key[kKnn];
    std::uint32_t pos[kKnn];
    std::fill_n(key, k, std::numeric_limits<double>::infinity());
    double worst = key[last];
    const double* q = t_.point(p);
    auto insert = [&](double dr, std::size_t r) {
      std::size_t s = last;
      for (; s > 0 && (dr < key[s - 1] || (dr == key[s - 1] && t_.index(r) < t_.index(pos[s - 1]))); --s) {
        key[s] = key[s - 1];
        pos[s] = pos[s - 1];
      }
      key[s] = dr;
      pos[s] = static_cast<std::uint32_t>(r);
      worst = key[last];
    };
    auto limit = [&](std::size_t) { return worst; };
    auto visit = [&](std::size_t begin, std::size_t end) {
      for (std::size_t r = begin; r < end; ++r) {
        const double dr = key_distance<K, D>(q, t_.point(r), t_.dim());
        if (dr > worst || r == p) continue;  // the common case: nothing to do
        if (dr < worst || t_.index(r) < t_.index(pos[last])) insert(dr, r);
      }
    };
    const auto& nodes = t_.nodes();
    std::size_t node = leaf_of_[p];
    visit(nodes[node].begin, nodes[node].end);
    // strictly above: a point at the bound may still win on its index
    while (node != 0 && !(t_.template exit_bound<K, D>(q, node) > worst)) {
      const KdNode& up = nodes[parent_[node]];
      const std::size_t other = up.left == node ? up.right : up.left;
      if (!(t_.template box_bound<K, D>(q, other) > worst)) descend(q, other, limit, visit);
      node = parent_[node];
    }
    std::copy_n(pos, k, knn_pos_.data() + p * k);
    last_key_[p] = worst;
  }

  // p's least edge to a point outside its component, by the tree. Sure only if nothing was pruned by
  // the component's bound below it (the bound only falls, and it is at most the edge found).
  void nearest_outside(std::size_t p) {
    const std::size_t c = comp_[p];
    Edge best = kNoEdge;
    std::size_t other = kNoPos;
    std::atomic<double>& shared = bound_[c];
    const double* q = t_.point(p);
    search(q,
           [&](std::size_t id) {
             return node_comp_[id] == c ? -1.0 : std::min(best.key, shared.load(std::memory_order_relaxed));
           },
           [&](std::size_t begin, std::size_t end) {
             for (std::size_t r = begin; r < end; ++r) {
               if (comp_[r] == c) continue;
               const Edge e = edge_to(p, r, key_distance<K, D>(q, t_.point(r), t_.dim()));
               if (less(e, best)) {
                 best = e;
                 other = r;
                 lower_to(shared, e.key);
               }
             }
           });
    keep(p, best.key, other, best.a != kNoPos && best.key <= shared.load(std::memory_order_relaxed));
  }

  // Depth-first from the root, nearer child first, skipping a node whose box bound is above limit(node)
  // (strictly: a point at the limit may still win on its index); visit(begin, end) for each leaf reached.
  template <class Limit, class Visit>
  void search(const double* q, const Limit& limit, const Visit& visit) const {
    if (!(t_.template box_bound<K, D>(q, 0) > limit(0))) descend(q, 0, limit, visit);
  }

  template <class Limit, class Visit>
  void descend(const double* q, std::size_t id, const Limit& limit, const Visit& visit) const {
    const KdNode& nd = t_.nodes()[id];
    if (nd.left == kKdLeaf) {
      visit(nd.begin, nd.end);
      return;
    }
    double near_bound = t_.template box_bound<K, D>(q, nd.left), far_bound = t_.template box_bound<K, D>(q, nd.right);
    std::size_t near = nd.left, far = nd.right;
    if (far_bound < near_bound) {
      std::swap(near, far);
      std::swap(near_bound, far_bound);
    }
    if (!(near_bound > limit(near))) descend(q, near, limit, visit);
    if (!(far_bound > limit(far))) descend(q, far, limit, visit);
  }

  // RawVector: buffers written before they are read, not zeroed first
  const Tree& t_;
  const std::uint32_t* position_of_;
  std::size_t n_, k_;
  RawVector<std::uint32_t> comp_;              // by tree position: the component's root (its least position)
  RawVector<std::uint32_t> node_comp_;         // by node
  RawVector<std::atomic<double>> bound_;       // by component root: the least key found so far this round
  RawVector<std::atomic<std::uint64_t>> ends_;  // and the least (a, b) of its edges at that key, a << 32 | b
  RawVector<double> best_key_;                 // by tree position: the key of the point's least edge out found
  std::vector<std::uint32_t> other_;        // this round, and the tree position of its far end (or kNoPos)
  std::vector<std::uint8_t> sure_;          // whether that is the point's least edge out (not pruned)
  std::vector<std::uint8_t> cursor_;        // the first listed neighbour that may be outside
  RawVector<std::uint32_t> knn_pos_;           // by tree position: k_ neighbours' tree positions, nearest first
  RawVector<double> last_key_;                 // and the last one's key
  std::vector<std::uint32_t> parent_;       // by node (the root's is 0)
  RawVector<std::uint32_t> leaf_of_;           // by tree position
  std::vector<std::uint32_t> scratch_;
};

// The largest distance any two observations can have is at most the distance between the corners of
// their bounding box (the same monotone operations): finite there, finite everywhere.
template <VectorMetric M, class Tree>
bool distances_finite(const Tree& tree) {
  return std::isfinite(vector_distance<M>(tree.lo(0), tree.hi(0), tree.dim(), 0.0, 0.0));
}

// The edges in order, sorted in kSortPieces pieces on the threads, then merged pairwise: the order is
// total, so there is one sorted sequence whatever the thread count.
constexpr std::size_t kSortPieces = 8;

void sort_edges(std::vector<Edge>& edges, int threads, CancelPoller& poller) {
  const auto at = [&](std::size_t piece) {
    return edges.begin() + static_cast<std::ptrdiff_t>(edges.size() * piece / kSortPieces);
  };
  for_items(kSortPieces, 1, threads, poller, [&](std::size_t i) { std::sort(at(i), at(i + 1), less); });
  for (std::size_t width = 1; width < kSortPieces; width *= 2)
    for_items(kSortPieces / (2 * width), 1, threads, poller, [&](std::size_t j) {
      std::inplace_merge(at(2 * j * width), at((2 * j + 1) * width), at((2 * j + 2) * width), less);
    });
}

// The tree's edges as SciPy's matrix, or false when two heights tie (SciPy's matrix then depends on
// Prim's visiting order). Its rows name the merged points by tree position, the union-find's slots in
// relabel_sorted: near points merge first, and their slots are near in memory.
template <VectorMetric M, class Tree>
bool write_edges(std::vector<Edge>& edges, const Tree& tree, const std::uint32_t* position_of, double* Z,
                 std::size_t n, int threads, CancelPoller& poller) {
  sort_edges(edges, threads, poller);  // heights ascending: sqrt is monotone
  for (std::size_t k = 0; k < edges.size(); ++k) {
    const double h = M == VectorMetric::euclidean ? std::sqrt(edges[k].key) : edges[k].key;
    if (k > 0 && h == Z[4 * (k - 1) + 2]) return false;
    write_merge(Z, k, position_of[edges[k].a], position_of[edges[k].b], h, 0.0);
  }
  std::vector<std::uint32_t, DefaultInitAllocator<std::uint32_t>> id(n);  // by tree position: the observation
  for (std::size_t p = 0; p < n; ++p) id[p] = static_cast<std::uint32_t>(tree.index(p));
  relabel_sorted(Z, n, id.data());
  return true;
}

template <VectorMetric M, class T>
bool boruvka(const T* X, std::size_t n, std::size_t d, double* Z, int threads, CancelPoller& poller) {
  if (n > std::numeric_limits<std::uint32_t>::max()) return false;  // neighbour lists hold 32-bit positions
  if (d > kKdMaxDim) return false;  // the tree's rows hold up to kKdMaxDim coordinates
  return dispatch_dim(d, [&](auto dim) {
    constexpr std::size_t D = decltype(dim)::value;
    const KdTree<kd_width(D)> tree(X, n, d, kLeafSize, threads, poller);
    if (!distances_finite<M>(tree)) return false;
    std::vector<std::uint32_t, DefaultInitAllocator<std::uint32_t>> position_of(n);  // by observation
    for_items((n + kPointsPerItem - 1) / kPointsPerItem, 1, threads, poller, [&](std::size_t item) {
      for (std::size_t p = item * kPointsPerItem; p < std::min(n, (item + 1) * kPointsPerItem); ++p)
        position_of[tree.index(p)] = static_cast<std::uint32_t>(p);
    });
    std::vector<Edge> edges = Boruvka<key_metric<M>(), D>(tree, n, position_of.data()).run(threads, poller);
    return write_edges<M>(edges, tree, position_of.data(), Z, n, threads, poller);
  });
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
