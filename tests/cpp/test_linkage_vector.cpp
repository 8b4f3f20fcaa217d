// linkage_vector against the matrix path: single linkage bit for bit (Prim's on distances computed on the
// fly is the matrix path's Prim's on pdist's matrix), ward/centroid/median merges and heights within
// 1e-12; thread-count independence; weights as counts; the invalid_argument cases.
#include <cmath>
#include <cstddef>
#include <random>
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "pixclust/pixclust.hpp"

namespace {

using pixclust::LinkageMethod;
using pixclust::VectorMetric;

std::vector<double> random_points(std::size_t n, std::size_t d, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g;
  std::vector<double> X(n * d);
  for (double& v : X) v = g(rng);
  return X;
}

std::vector<double> via_matrix(const std::vector<double>& X, std::size_t n, std::size_t d, LinkageMethod m) {
  std::vector<double> D(pixclust::condensed_size(n)), Z(4 * (n - 1));
  pixclust::pdist_euclidean(X.data(), n, d, D.data());
  pixclust::linkage(D.data(), n, m, Z.data());
  return Z;
}

std::vector<double> via_vector(const std::vector<double>& X, std::size_t n, std::size_t d, LinkageMethod m,
                               int threads = 0, const double* w = nullptr) {
  std::vector<double> Z(4 * (n - 1));
  pixclust::linkage_vector(X.data(), n, d, m, VectorMetric::euclidean, w, Z.data(), threads);
  return Z;
}

}  // namespace

TEST_CASE("single linkage from observations is the matrix path's, bit for bit") {
  for (std::size_t n : {2u, 3u, 50u, 700u, 2500u}) {
    for (std::size_t d : {1u, 3u, 8u}) {
      const std::vector<double> X = random_points(n, d, static_cast<unsigned>(n * 31 + d));
      CHECK(via_vector(X, n, d, LinkageMethod::single) == via_matrix(X, n, d, LinkageMethod::single));
    }
  }
}

TEST_CASE("ward, centroid, median: the matrix path's merges, heights within 1e-12") {
  for (LinkageMethod m : {LinkageMethod::ward, LinkageMethod::centroid, LinkageMethod::median}) {
    const std::size_t n = 400, d = 3;
    const std::vector<double> X = random_points(n, d, 7);
    const std::vector<double> a = via_vector(X, n, d, m), b = via_matrix(X, n, d, m);
    for (std::size_t r = 0; r + 1 < n; ++r) {
      CHECK_EQ(a[4 * r], b[4 * r]);
      CHECK_EQ(a[4 * r + 1], b[4 * r + 1]);
      CHECK_NEAR(a[4 * r + 2], b[4 * r + 2], 1e-12);
      CHECK_EQ(a[4 * r + 3], b[4 * r + 3]);
    }
  }
}

TEST_CASE("the thread count does not change a bit") {
  const std::size_t n = 5000, d = 2;
  const std::vector<double> X = random_points(n, d, 3);
  for (LinkageMethod m : {LinkageMethod::single, LinkageMethod::ward, LinkageMethod::centroid})
    CHECK(via_vector(X, n, d, m, 1) == via_vector(X, n, d, m, 3));
}

TEST_CASE("with weights the count column still counts leaves") {
  const std::size_t n = 20, d = 2;
  const std::vector<double> X = random_points(n, d, 5);
  std::vector<double> w(n, 2.0);
  w[3] = 0.0;
  for (LinkageMethod m : {LinkageMethod::single, LinkageMethod::ward, LinkageMethod::centroid}) {
    const std::vector<double> Z = via_vector(X, n, d, m, 0, w.data());
    CHECK_EQ(Z[4 * (n - 2) + 3], 20.0);
  }
}

TEST_CASE("bad arguments throw std::invalid_argument") {
  const std::vector<double> X = random_points(4, 2, 1);
  std::vector<double> Z(12);
  auto run = [&](LinkageMethod m, VectorMetric metric, const double* w = nullptr, std::size_t n = 4,
                 std::size_t d = 2) { pixclust::linkage_vector(X.data(), n, d, m, metric, w, Z.data()); };
  for (LinkageMethod m : {LinkageMethod::complete, LinkageMethod::average, LinkageMethod::weighted})
    CHECK_THROWS_AS(run(m, VectorMetric::euclidean), std::invalid_argument);
  for (LinkageMethod m : {LinkageMethod::ward, LinkageMethod::centroid, LinkageMethod::median})
    CHECK_THROWS_AS(run(m, VectorMetric::cityblock), std::invalid_argument);
  CHECK_THROWS_AS(run(LinkageMethod::single, VectorMetric::euclidean, nullptr, 0), std::invalid_argument);
  CHECK_THROWS_AS(run(LinkageMethod::single, VectorMetric::euclidean, nullptr, 4, 0), std::invalid_argument);
  const double half[] = {1, 0.5, 1, 1}, negative[] = {1, -1, 1, 1}, zeros[] = {0, 0, 0, 0};
  for (const double* w : {half, negative, zeros})
    CHECK_THROWS_AS(run(LinkageMethod::ward, VectorMetric::euclidean, w), std::invalid_argument);
  std::vector<double> bad = X;
  bad[5] = std::nan("");
  CHECK_THROWS_AS(pixclust::linkage_vector(bad.data(), 4, 2, LinkageMethod::single, VectorMetric::euclidean, nullptr,
                                           Z.data()),
                  std::invalid_argument);
  const double zero_row[] = {0, 0, 1, 2, 3, 1};  // a cosine distance to a zero row is NaN
  CHECK_THROWS_AS(pixclust::linkage_vector(zero_row, 3, 2, LinkageMethod::single, VectorMetric::cosine, nullptr,
                                           Z.data()),
                  std::invalid_argument);
  CHECK_THROWS_AS(pixclust::vector_metric_from_name("minkowski"), std::invalid_argument);
}

TEST_CASE("a cancel check sees kernel_progress() grow to 1 during a linkage, and -1 outside one") {
  CHECK_EQ(pixclust::kernel_progress(), -1.0);
  const std::size_t n = 3000, d = 3;
  const std::vector<double> X = random_points(n, d, 41);
  for (LinkageMethod m : {LinkageMethod::single, LinkageMethod::ward, LinkageMethod::centroid}) {
    std::vector<double> shares;
    const pixclust::CancelCheck record = [&] {
      const double s = pixclust::kernel_progress();
      if (s >= 0.0) shares.push_back(s);
      return false;
    };
    std::vector<double> Z(4 * (n - 1));
    pixclust::linkage_vector(X.data(), n, d, m, VectorMetric::euclidean, nullptr, Z.data(), 1, record);
    CHECK(!shares.empty());
    if (shares.empty()) continue;
    for (std::size_t i = 1; i < shares.size(); ++i) CHECK(shares[i - 1] <= shares[i]);
    CHECK(shares.front() > 0.0);
    CHECK_EQ(shares.back(), 1.0);
    CHECK_EQ(pixclust::kernel_progress(), -1.0);  // back to "no kernel" once it returns
  }
}

PIXCLUST_TEST_MAIN()
