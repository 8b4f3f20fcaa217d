// The linkage kernels against a naive O(n^3) agglomeration with SciPy's update formulas, on tie-free
// random data; thread-count independence; overwrite == copy; float32 == float64 merges; errors.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "check.hpp"
#include "pixclust/pixclust.hpp"

namespace {

using pixclust::LinkageMethod;

const LinkageMethod kAll[] = {LinkageMethod::single,   LinkageMethod::complete, LinkageMethod::average,
                              LinkageMethod::weighted, LinkageMethod::ward,     LinkageMethod::centroid,
                              LinkageMethod::median};

std::vector<double> random_distances(std::size_t n, std::size_t d, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g;
  std::vector<double> X(n * d);
  for (double& v : X) v = g(rng);
  std::vector<double> D(pixclust::condensed_size(n));
  pixclust::pdist_euclidean(X.data(), n, d, D.data());
  return D;
}

double update(LinkageMethod m, double dxi, double dyi, double dxy, double nx, double ny, double ni) {
  switch (m) {
    case LinkageMethod::single: return std::min(dxi, dyi);
    case LinkageMethod::complete: return std::max(dxi, dyi);
    case LinkageMethod::average: return (nx * dxi + ny * dyi) / (nx + ny);
    case LinkageMethod::weighted: return 0.5 * (dxi + dyi);
    case LinkageMethod::ward: {
      const double t = 1.0 / (nx + ny + ni);
      return std::sqrt((ni + nx) * t * dxi * dxi + (ni + ny) * t * dyi * dyi - ni * t * dxy * dxy);
    }
    case LinkageMethod::centroid:
      return std::sqrt(((nx * dxi * dxi + ny * dyi * dyi) - nx * ny * dxy * dxy / (nx + ny)) / (nx + ny));
    case LinkageMethod::median: return std::sqrt(0.5 * (dxi * dxi + dyi * dyi) - 0.25 * dxy * dxy);
  }
  return 0;
}

// The textbook algorithm: merge the globally closest pair, n+k ids, rows in merge order (for the
// monotone methods that is also the height order SciPy sorts into).
std::vector<double> naive(const std::vector<double>& D, std::size_t n, LinkageMethod m) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> S(n * n, inf);
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) S[i * n + j] = S[j * n + i] = D[k++];
  std::vector<std::size_t> id(n), size(n, 1);
  std::vector<bool> live(n, true);
  for (std::size_t i = 0; i < n; ++i) id[i] = i;
  std::vector<double> Z;
  for (std::size_t step = 0; step + 1 < n; ++step) {
    double best = inf;
    std::size_t a = 0, b = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j)
        if (live[i] && live[j] && S[i * n + j] < best) {
          best = S[i * n + j];
          a = i;
          b = j;
        }
    Z.push_back(static_cast<double>(std::min(id[a], id[b])));
    Z.push_back(static_cast<double>(std::max(id[a], id[b])));
    Z.push_back(best);
    Z.push_back(static_cast<double>(size[a] + size[b]));
    for (std::size_t i = 0; i < n; ++i) {
      if (!live[i] || i == a || i == b) continue;
      const double v = update(m, S[a * n + i], S[b * n + i], best, static_cast<double>(size[a]),
                              static_cast<double>(size[b]), static_cast<double>(size[i]));
      S[b * n + i] = S[i * n + b] = v;
    }
    live[a] = false;
    size[b] += size[a];
    id[b] = n + step;
  }
  return Z;
}

std::vector<double> run(const std::vector<double>& D, std::size_t n, LinkageMethod m, int threads = 0) {
  std::vector<double> Z(4 * (n - 1));
  pixclust::linkage(D.data(), n, m, Z.data(), threads);
  return Z;
}

}  // namespace

TEST_CASE("method names round-trip and unknown names are rejected") {
  for (LinkageMethod m : kAll) CHECK(pixclust::linkage_method_from_name(pixclust::linkage_method_name(m)) == m);
  CHECK_THROWS_AS(pixclust::linkage_method_from_name("nearest"), std::invalid_argument);
}

TEST_CASE("every method equals the naive algorithm on tie-free random points") {
  for (std::size_t n : {2u, 3u, 5u, 17u, 60u}) {
    const auto D = random_distances(n, 3, static_cast<unsigned>(n));
    for (LinkageMethod m : kAll) {
      const auto Z = run(D, n, m);
      const auto ref = naive(D, n, m);
      for (std::size_t r = 0; r + 1 < n; ++r) {
        CHECK_EQ(Z[4 * r], ref[4 * r]);
        CHECK_EQ(Z[4 * r + 1], ref[4 * r + 1]);
        CHECK_NEAR(Z[4 * r + 2], ref[4 * r + 2], 1e-12);
        CHECK_EQ(Z[4 * r + 3], ref[4 * r + 3]);
      }
    }
  }
}

TEST_CASE("the result does not depend on the thread count, and overwriting equals copying") {
  const std::size_t n = 4150;  // above one scan chunk: the scans and updates are split
  const auto D = random_distances(n, 4, 99);
  // One NN-chain and one generic method (single's chunked scan is covered by the Python tests).
  for (LinkageMethod m : {LinkageMethod::average, LinkageMethod::median}) {
    const auto one = run(D, n, m, 1);
    CHECK(run(D, n, m, 2) == one);
    std::vector<double> work = D;
    std::vector<double> Z(4 * (n - 1));
    pixclust::linkage_overwrite(work.data(), n, m, Z.data(), 2);
    CHECK(Z == one);
  }
}

TEST_CASE("float32 input gives the float64 merges on well-separated data") {
  const std::size_t n = 200;
  const auto D = random_distances(n, 5, 7);
  const std::vector<float> F(D.begin(), D.end());
  for (LinkageMethod m : kAll) {
    const auto Z64 = run(D, n, m);
    // SciPy's result on the float32 values widened to double is the reference for float32 input.
    const std::vector<double> W(F.begin(), F.end());
    const auto ref = run(W, n, m);
    std::vector<double> Z32(4 * (n - 1));
    pixclust::linkage(F.data(), n, m, Z32.data());
    for (std::size_t r = 0; r + 1 < n; ++r) {
      CHECK_EQ(Z32[4 * r], ref[4 * r]);
      CHECK_EQ(Z32[4 * r + 1], ref[4 * r + 1]);
      CHECK_NEAR(Z32[4 * r + 2], ref[4 * r + 2], 1e-6);
      CHECK_EQ(Z32[4 * r + 3], ref[4 * r + 3]);
    }
    CHECK_NEAR(Z32[4 * (n - 2) + 2], Z64[4 * (n - 2) + 2], 1e-6);
  }
}

TEST_CASE("single linkage past 256 points (SLINK) equals the naive algorithm, with and without ties") {
  const std::size_t n = 300;
  const auto D = random_distances(n, 3, 5);
  const auto Z = run(D, n, LinkageMethod::single);
  const auto ref = naive(D, n, LinkageMethod::single);
  CHECK(Z == ref);  // single linkage's heights are input values: exact
  // Integer points on a line: every gap is 1, so all 299 heights tie and Prim's order decides (the
  // naive algorithm takes the lowest pair among equals, as Prim's from point 0 does here).
  std::vector<double> T(pixclust::condensed_size(n));
  for (std::size_t i = 0, k = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) T[k++] = static_cast<double>(j - i);
  CHECK(run(T, n, LinkageMethod::single) == naive(T, n, LinkageMethod::single));
}

TEST_CASE("a cancel check that fires stops every method with Cancelled; one that does not changes nothing") {
  for (std::size_t n : {100u, 300u}) {  // single linkage: Prim's, then SLINK
    const auto D = random_distances(n, 3, 11);
    for (LinkageMethod m : kAll) {
      std::vector<double> Z(4 * (n - 1));
      int calls = 0;
      const pixclust::CancelCheck always = [&calls] { ++calls; return true; };
      CHECK_THROWS_AS(pixclust::linkage(D.data(), n, m, Z.data(), 0, always), pixclust::Cancelled);
      CHECK_EQ(calls, 1);
      std::vector<double> work = D;
      CHECK_THROWS_AS(pixclust::linkage_overwrite(work.data(), n, m, Z.data(), 0, always), pixclust::Cancelled);
      const pixclust::CancelCheck never = [] { return false; };
      pixclust::linkage(D.data(), n, m, Z.data(), 0, never);
      CHECK(Z == run(D, n, m));
    }
  }
}

TEST_CASE("bad input is rejected before any work") {
  std::vector<double> Z(4);
  const std::vector<double> one = {1.0};
  CHECK_THROWS_AS(pixclust::linkage(one.data(), 1, LinkageMethod::ward, Z.data()), std::invalid_argument);
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    std::vector<double> D = {1.0, bad, 2.0};
    CHECK_THROWS_AS(pixclust::linkage(D.data(), 3, LinkageMethod::average, Z.data()), std::invalid_argument);
    CHECK_THROWS_AS(pixclust::linkage_overwrite(D.data(), 3, LinkageMethod::single, Z.data()),
                    std::invalid_argument);
  }
  CHECK_EQ(pixclust::linkage_working_bytes(10, LinkageMethod::single, 8), std::size_t{0});
  CHECK_EQ(pixclust::linkage_working_bytes(10, LinkageMethod::ward, 8), std::size_t{45 * 8});
  CHECK_EQ(pixclust::linkage_working_bytes(100000, LinkageMethod::ward, 4), std::size_t{4999950000} * 4);
  CHECK_THROWS_AS(pixclust::linkage_working_bytes(std::size_t{1} << 40, LinkageMethod::ward, 8), std::length_error);
}

TEST_CASE("distances whose updates overflow: SciPy's tree when it is valid, else LinkageOverflowError") {
  // ward on 10 equal distances of 1e200: every update is NaN, SciPy's chain merges a cluster with itself.
  const std::size_t n = 10;
  std::vector<double> Z(4 * (n - 1));
  const std::vector<double> huge(pixclust::condensed_size(n), 1e200);
  CHECK_THROWS_AS(pixclust::linkage(huge.data(), n, LinkageMethod::ward, Z.data()), pixclust::LinkageOverflowError);
  // centroid: SciPy's own ValueError (its find_min_dist finds nothing below infinity), as std::domain_error.
  const std::vector<double> three(3, 1e200);
  try {
    pixclust::linkage(three.data(), 3, LinkageMethod::centroid, Z.data());
    CHECK(false);
  } catch (const std::domain_error& e) {
    CHECK(std::string(e.what()).rfind("find_min_dist", 0) == 0);
  }
  // Outside the safe range and yet valid: the same tree as the unscaled distances (the updates are
  // homogeneous in the distances), heights scaled. 200 points, the largest distance past each method's
  // bound (ward sqrt(DBL_MAX / 4n), centroid sqrt(DBL_MAX) / n, median sqrt(DBL_MAX) / 2), below where
  // its updates on these points really overflow.
  const std::size_t m = 200;
  const auto D = random_distances(m, 3, 21);
  double top = 0;
  for (double v : D) top = std::max(top, v);
  const std::pair<LinkageMethod, double> cases[] = {
      {LinkageMethod::ward, 1e153}, {LinkageMethod::centroid, 1e152}, {LinkageMethod::median, 8e153}};
  for (const auto& [method, largest] : cases) {
    std::vector<double> scaled(D.size());
    for (std::size_t k = 0; k < D.size(); ++k) scaled[k] = D[k] / top * largest;
    const auto a = run(D, m, method), b = run(scaled, m, method);
    for (std::size_t r = 0; r + 1 < m; ++r) {
      CHECK_EQ(a[4 * r], b[4 * r]);
      CHECK_EQ(a[4 * r + 1], b[4 * r + 1]);
      CHECK(std::abs(b[4 * r + 2] / largest * top - a[4 * r + 2]) <= 1e-12 * a[4 * r + 2]);
    }
    // Negative distances leave the square roots without their guarantee: SciPy's steps, no crash.
    std::vector<double> negative = D;
    negative[7] = -negative[7];
    std::vector<double> Zn(4 * (m - 1));
    try {
      pixclust::linkage(negative.data(), m, method, Zn.data());
    } catch (const std::domain_error&) {  // SciPy's ValueError, or a tree SciPy would get wrong
    }
  }
  // float32 ward whose heights pass FLT_MAX is clustered in float64, as SciPy clusters float32.
  const float v = 3e38f;
  const std::vector<float> f = {1, v, v, v, v, v, v, 2, v, v};
  const std::vector<double> d(f.begin(), f.end());
  std::vector<double> Zf(16), Zd(16);
  pixclust::linkage(f.data(), 5, LinkageMethod::ward, Zf.data());
  pixclust::linkage(d.data(), 5, LinkageMethod::ward, Zd.data());
  CHECK(Zf == Zd);
  CHECK(Zf[14] > static_cast<double>(std::numeric_limits<float>::max()));
}

PIXCLUST_TEST_MAIN()
