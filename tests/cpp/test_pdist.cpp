#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include "check.hpp"
#include "pixclust/pixclust.hpp"

namespace {

std::vector<double> brute_force(const std::vector<double>& X, std::size_t n, std::size_t d) {
  std::vector<double> out;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < d; ++k) s += (X[i * d + k] - X[j * d + k]) * (X[i * d + k] - X[j * d + k]);
      out.push_back(std::sqrt(s));
    }
  return out;
}

}  // namespace

TEST_CASE("condensed_size") {
  CHECK_EQ(pixclust::condensed_size(0), std::size_t{0});
  CHECK_EQ(pixclust::condensed_size(1), std::size_t{0});
  CHECK_EQ(pixclust::condensed_size(2), std::size_t{1});
  CHECK_EQ(pixclust::condensed_size(10), std::size_t{45});
  CHECK_EQ(pixclust::condensed_size(100000), std::size_t{4999950000});
}

TEST_CASE("pdist of the tutorial's points: a 3-4-5 triangle and the full order") {
  const std::vector<double> X = {0, 0, 3, 0, 0, 4};
  std::vector<double> out(3);
  pixclust::pdist_euclidean(X.data(), 3, 2, out.data());
  CHECK_EQ(out[0], 3.0);
  CHECK_EQ(out[1], 4.0);
  CHECK_EQ(out[2], 5.0);
}

TEST_CASE("pdist equals a brute-force loop bit for bit, for any thread count") {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  const std::size_t n = 301, d = 5;
  std::vector<double> X(n * d);
  for (double& x : X) x = normal(rng);
  const auto expected = brute_force(X, n, d);
  for (int threads : {1, 2, 3, 4}) {
    std::vector<double> out(pixclust::condensed_size(n), -1.0);
    pixclust::pdist_euclidean(X.data(), n, d, out.data(), threads);
    bool same = true;
    for (std::size_t i = 0; i < out.size(); ++i) same = same && (out[i] == expected[i]);
    CHECK(same);
  }
}

TEST_CASE("float input accumulates in double") {
  const std::vector<float> X = {0.1f, 0.2f, 0.7f, 0.9f};
  std::vector<double> out(1);
  pixclust::pdist_euclidean(X.data(), 2, 2, out.data());
  const double dx = double(0.1f) - double(0.7f), dy = double(0.2f) - double(0.9f);
  CHECK_EQ(out[0], std::sqrt(dx * dx + dy * dy));
}

TEST_CASE("a cancel check that fires stops the kernel with Cancelled") {
  const std::size_t n = 3000, d = 2;
  std::vector<double> X(n * d, 1.0), out(pixclust::condensed_size(n));
  int calls = 0;
  const pixclust::CancelCheck always = [&calls] { ++calls; return true; };
  CHECK_THROWS_AS(pixclust::pdist_euclidean(X.data(), n, d, out.data(), 0, always), pixclust::Cancelled);
  CHECK_EQ(calls, 1);
  const pixclust::CancelCheck never = [] { return false; };
  pixclust::pdist_euclidean(X.data(), n, d, out.data(), 0, never);
  CHECK_EQ(out.back(), 0.0);
}

PIXCLUST_TEST_MAIN()
