#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "pixclust/pixclust.hpp"

namespace {

template <class T>
std::vector<T> blobs(std::size_t n, std::size_t d, std::size_t k, unsigned seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> centers(k * d);
  for (double& c : centers) c = 5.0 * normal(rng);
  std::vector<T> X(n * d);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = i % k;
    for (std::size_t j = 0; j < d; ++j) {
      const double v = (centers[c * d + j] + normal(rng)) * scale;
      if constexpr (std::is_integral_v<T>)
        X[i * d + j] = static_cast<T>(std::clamp(std::round(v + 128.0), 0.0, 255.0));
      else
        X[i * d + j] = static_cast<T>(v);
    }
  }
  return X;
}

template <class T>
double brute_inertia(const std::vector<T>& X, std::size_t d, const std::vector<double>& C,
                     const std::vector<std::int32_t>& labels, const std::vector<double>* w = nullptr) {
  double s = 0.0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    double dist = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      const double diff = static_cast<double>(X[i * d + j]) - C[static_cast<std::size_t>(labels[i]) * d + j];
      dist += diff * diff;
    }
    s += (w ? (*w)[i] : 1.0) * dist;
  }
  return s;
}

template <class T>
std::int32_t brute_nearest(const T* x, std::size_t d, const std::vector<double>& C, std::size_t k) {
  double best = std::numeric_limits<double>::infinity();
  std::int32_t a = 0;
  for (std::size_t c = 0; c < k; ++c) {
    double s = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      const double diff = static_cast<double>(x[j]) - C[c * d + j];
      s += diff * diff;
    }
    if (s < best) {
      best = s;
      a = static_cast<std::int32_t>(c);
    }
  }
  return a;
}

struct Fit {
  std::vector<double> centers;
  std::vector<std::int32_t> labels;
  pixclust::KMeansStats stats;
};

template <class T>
Fit fit(const std::vector<T>& X, std::size_t d, const std::vector<double>& init, pixclust::KMeansOptions opt,
        const std::vector<double>* w = nullptr) {
  Fit f{init, std::vector<std::int32_t>(X.size() / d), {}};
  f.stats = pixclust::kmeans_lloyd(X.data(), X.size() / d, d, w ? w->data() : nullptr, f.centers.data(),
                                   init.size() / d, f.labels.data(), opt);
  return f;
}

template <class T>
std::vector<double> first_rows(const std::vector<T>& X, std::size_t d, std::size_t k, std::size_t step) {
  std::vector<double> C(k * d);
  for (std::size_t c = 0; c < k; ++c)
    for (std::size_t j = 0; j < d; ++j) C[c * d + j] = static_cast<double>(X[(c * step) * d + j]) + 0.125;
  return C;
}

}  // namespace

TEST_CASE("Lloyd: labels are the nearest final centres and the inertia is exact") {
  const std::size_t d = 3, k = 6;
  const auto X = blobs<double>(20000, d, k, 1);
  pixclust::KMeansOptions opt;
  opt.tol = 1e-4;
  const Fit f = fit(X, d, first_rows(X, d, k, 7), opt);
  CHECK(f.stats.n_iter >= 1);
  for (std::size_t i = 0; i < f.labels.size(); ++i)
    if (f.labels[i] != brute_nearest(X.data() + i * d, d, f.centers, k)) {
      CHECK(false);
      break;
    }
  CHECK_NEAR(f.stats.inertia, brute_inertia(X, d, f.centers, f.labels), 1e-12);
}

TEST_CASE("Hamerly's bounds give Lloyd's bits, for floats and pixels, any dimension") {
  for (std::size_t d : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{5}}) {
    const auto X = blobs<double>(30000, d, 7, static_cast<unsigned>(d));
    const auto init = first_rows(X, d, 7, 11);
    pixclust::KMeansOptions a, b;
    a.algorithm = pixclust::KMeansAlgorithm::lloyd;
    b.algorithm = pixclust::KMeansAlgorithm::hamerly;
    const Fit fa = fit(X, d, init, a), fb = fit(X, d, init, b);
    CHECK(fa.centers == fb.centers);
    CHECK(fa.labels == fb.labels);
    CHECK_EQ(fa.stats.inertia, fb.stats.inertia);
    CHECK_EQ(fa.stats.n_iter, fb.stats.n_iter);
    CHECK(fa.stats.strict_convergence);
  }
  const auto P = blobs<std::uint8_t>(40000, 3, 5, 9, 8.0);
  const auto init = first_rows(P, 3, 5, 13);
  pixclust::KMeansOptions a, b;
  a.algorithm = pixclust::KMeansAlgorithm::lloyd;
  const Fit fa = fit(P, 3, init, a), fb = fit(P, 3, init, b);
  CHECK(fa.centers == fb.centers);
  CHECK(fa.labels == fb.labels);
  CHECK_EQ(fa.stats.inertia, fb.stats.inertia);
}

// 6 x 6 x 6 centres 11 apart on half steps in the 64^3 corner: colours midway between two centres tie.
std::vector<double> half_step_lattice() {
  std::vector<double> C;
  for (int a = 0; a < 6; ++a)
    for (int b = 0; b < 6; ++b)
      for (int c = 0; c < 6; ++c) C.insert(C.end(), {a * 11 + 0.5, b * 11 + 0.5, c * 11 + 0.5});
  return C;
}

TEST_CASE("8-bit RGB colours on the cell grid give Lloyd's bits, ties and empty clusters included") {
  // Distinct colours (the dedupe path's input) with integer counts: Lloyd runs on 4x4x4 cells, whole
  // cells taking one label. Centres on lattice half-steps put many colours exactly between two of them,
  // so ties (lowest index) fall inside and on the edges of cells.
  std::mt19937_64 rng(21);
  std::vector<std::uint8_t> P;
  std::vector<double> w;
  std::vector<bool> seen(std::size_t{1} << 24, false);
  while (w.size() < 20000) {
    const auto r = static_cast<std::uint32_t>(rng() & 0xFFFFFF);
    if (seen[r]) continue;
    seen[r] = true;
    // Half of them in a 64^3 corner, so that cells hold several colours.
    const std::uint32_t code = w.size() % 2 ? r : (r & 0x3F3F3F);
    if (code != r && seen[code]) continue;
    seen[code] = true;
    P.push_back(static_cast<std::uint8_t>(code >> 16));
    P.push_back(static_cast<std::uint8_t>(code >> 8));
    P.push_back(static_cast<std::uint8_t>(code));
    w.push_back(static_cast<double>(1 + rng() % 50));
  }
  const std::vector<std::vector<double>> inits = {
      {30.5, 30.5, 30.5, 32.5, 30.5, 30.5},                                  // k = 2, a tie plane at x = 31.5
      first_rows(P, 3, 8, 997),                                              // k = 8
      {10, 10, 10, 12, 10, 10, 10, 12, 10, 200, 200, 200, 255, 255, 255},    // k = 5, integer centres
      first_rows(P, 3, 33, 301),                                             // k = 33
      first_rows(P, 3, 256, 71),                                             // k = 256: cells' candidates
      half_step_lattice(),                                                   // k = 216, ties between candidates
  };
  for (const auto& init : inits) {
    for (int threads : {1, 3}) {
      pixclust::KMeansOptions a, b;
      a.algorithm = pixclust::KMeansAlgorithm::lloyd;
      b.algorithm = pixclust::KMeansAlgorithm::hamerly;
      a.n_threads = b.n_threads = threads;
      a.tol = b.tol = 0.0;  // to strict convergence: every step compared
      const Fit fa = fit(P, 3, init, a, &w), fb = fit(P, 3, init, b, &w);
      CHECK(fa.centers == fb.centers);
      CHECK(fa.labels == fb.labels);
      CHECK_EQ(fa.stats.inertia, fb.stats.inertia);
      CHECK_EQ(fa.stats.n_iter, fb.stats.n_iter);
    }
  }
  // A cell whose farthest corner from one centre (index 1, at 33,1,1) is exactly as far from the
  // other (index 0, at 37,5,5): the colour at that corner ties and goes to index 0, so the cell is not
  // whole, although the largest distance to centre 1 equals the smallest distance to centre 0.
  std::vector<std::uint8_t> Q;
  for (int x = 32; x < 36; ++x)
    for (int y = 0; y < 4; ++y)
      for (int z = 0; z < 4; ++z) Q.insert(Q.end(), {std::uint8_t(x), std::uint8_t(y), std::uint8_t(z)});
  for (int r = 0; r < 5000; ++r) {  // past the grid's minimum size: distinct colours far away
    const auto v = static_cast<std::uint32_t>(r);
    Q.insert(Q.end(), {std::uint8_t(100 + v % 150), std::uint8_t(100 + (v / 150) % 150), std::uint8_t(100 + v / 22500)});
  }
  const std::vector<double> wq(Q.size() / 3, 1.0);
  pixclust::KMeansOptions a, b;
  a.algorithm = pixclust::KMeansAlgorithm::lloyd;
  a.max_iter = b.max_iter = 1;
  const std::vector<double> corner = {37, 5, 5, 33, 1, 1, 180, 180, 180};
  const Fit fa = fit(Q, 3, corner, a, &wq), fb = fit(Q, 3, corner, b, &wq);
  CHECK_EQ(fa.labels[63], 0);  // (35, 3, 3): the tie, to the lower index
  CHECK(fa.labels == fb.labels);
  CHECK(fa.centers == fb.centers);
}

TEST_CASE("the same bits for 1, 2, 3 and 4 threads") {
  const auto X = blobs<float>(50000, 3, 5, 3);
  const auto init = first_rows(X, 3, 5, 17);
  std::vector<Fit> fits;
  for (int t : {1, 2, 3, 4}) {
    pixclust::KMeansOptions opt;
    opt.n_threads = t;
    opt.tol = 1e-6;
    fits.push_back(fit(X, 3, init, opt));
  }
  for (const Fit& f : fits) {
    CHECK(f.centers == fits[0].centers);
    CHECK(f.labels == fits[0].labels);
    CHECK_EQ(f.stats.inertia, fits[0].stats.inertia);
  }
  std::vector<double> u(1 + 4 * 3);
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = std::fmod(0.37 * static_cast<double>(i + 1), 1.0);
  std::vector<double> c1(5 * 3), c4(5 * 3);
  std::vector<std::int64_t> i1(5), i4(5);
  pixclust::kmeans_plusplus(X.data(), 50000, 3, nullptr, 5, 3, u.data(), c1.data(), i1.data(), {}, 1);
  pixclust::kmeans_plusplus(X.data(), 50000, 3, nullptr, 5, 3, u.data(), c4.data(), i4.data(), {}, 4);
  CHECK(c1 == c4);
  CHECK(i1 == i4);
}

TEST_CASE("integer weights equal repeated points, bit for bit on pixel data") {
  const auto P = blobs<std::uint8_t>(3000, 3, 4, 5, 6.0);
  std::mt19937 rng(1);
  std::vector<double> w(3000);
  std::vector<std::uint8_t> R;
  for (std::size_t i = 0; i < w.size(); ++i) {
    w[i] = static_cast<double>(rng() % 4);
    for (std::size_t r = 0; r < static_cast<std::size_t>(w[i]); ++r) R.insert(R.end(), P.begin() + static_cast<std::ptrdiff_t>(i * 3), P.begin() + static_cast<std::ptrdiff_t>(i * 3 + 3));
  }
  const auto init = first_rows(P, 3, 4, 101);
  pixclust::KMeansOptions opt;
  const Fit a = fit(P, 3, init, opt, &w);
  const Fit b = fit(R, 3, init, opt);
  CHECK(a.centers == b.centers);
  CHECK_NEAR(a.stats.inertia, b.stats.inertia, 1e-12);  // a float sum over other chunks: to rounding
  CHECK_EQ(a.stats.n_iter, b.stats.n_iter);
  CHECK_NEAR(a.stats.inertia, brute_inertia(P, 3, a.centers, a.labels, &w), 1e-12);
}

TEST_CASE("an empty cluster takes the point farthest from its centre") {
  const std::vector<double> X = {0, 0, 1, 0, 0, 1, 10, 10};
  const std::vector<double> init = {0.3, 0.3, 100, 100};  // the second centre attracts nothing
  pixclust::KMeansOptions opt;
  opt.max_iter = 1;
  Fit f = fit(X, 2, init, opt);
  // after one step the far centre sits on (10, 10), the farthest point from the first centre
  CHECK_EQ(f.centers[2], 10.0);
  CHECK_EQ(f.centers[3], 10.0);
  opt.max_iter = 50;
  f = fit(X, 2, init, opt);
  CHECK_EQ(f.labels[3], 1);
  CHECK_NEAR(f.stats.inertia, 4.0 / 3.0, 1e-12);
}

TEST_CASE("with sample counts, empty clusters take one sample each, as on the repeated points") {
  // (0, 0) three times and (10, 10) twice, as distinct points with counts and as the samples themselves;
  // three centres on (0, 0): the two empty clusters each take a copy of (10, 10), the farthest sample.
  const std::vector<double> P = {0, 0, 10, 10}, w = {3, 2};
  const std::vector<double> R = {0, 0, 0, 0, 0, 0, 10, 10, 10, 10};
  const std::vector<double> init(3 * 2, 0.0);
  pixclust::KMeansOptions opt;
  opt.max_iter = 1;
  const Fit on_samples = fit(R, 2, init, opt);
  CHECK((on_samples.centers == std::vector<double>{0, 0, 10, 10, 10, 10}));
  opt.sample_counts = true;
  const Fit on_counts = fit(P, 2, init, opt, &w);
  CHECK(on_counts.centers == on_samples.centers);
  CHECK_EQ(on_counts.stats.inertia, on_samples.stats.inertia);
}

TEST_CASE("k-means++ picks data points, and says when there are fewer distinct points than k") {
  const std::vector<double> X = {0, 0, 0, 0, 5, 5, 5, 5, 9, 1};
  std::vector<double> u(1 + 3 * 3, 0.5);
  std::vector<double> C(4 * 2);
  std::vector<std::int64_t> idx(4);
  const std::size_t chosen = pixclust::kmeans_plusplus(X.data(), 5, 2, nullptr, 4, 3, u.data(), C.data(), idx.data());
  CHECK_EQ(chosen, std::size_t{3});
  const std::size_t got3 = pixclust::kmeans_plusplus(X.data(), 5, 2, nullptr, 3, 3, u.data(), C.data(), idx.data());
  CHECK_EQ(got3, std::size_t{3});
  std::vector<bool> seen(3, false);
  for (int c = 0; c < 3; ++c) {
    const auto i = static_cast<std::size_t>(idx[static_cast<std::size_t>(c)]);
    CHECK_EQ(C[static_cast<std::size_t>(c) * 2], X[i * 2]);
    seen[X[i * 2] == 0 ? 0 : X[i * 2] == 5 ? 1 : 2] = true;
  }
  CHECK(seen[0] && seen[1] && seen[2]);
}

TEST_CASE("k-means++ along an identity sampling order is k-means++ along the points") {
  const auto X = blobs<double>(10000, 3, 6, 8);
  std::vector<std::int32_t> order(10000);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int32_t>(i);
  std::vector<double> u(1 + 5 * 3);
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = std::fmod(0.61 * static_cast<double>(i + 1), 1.0);
  std::vector<double> a(6 * 3), b(6 * 3);
  std::vector<std::int64_t> ia(6), ib(6);
  pixclust::kmeans_plusplus(X.data(), 10000, 3, nullptr, 6, 3, u.data(), a.data(), ia.data());
  pixclust::SamplingOrder so;
  so.point = order.data();
  so.size = order.size();
  pixclust::kmeans_plusplus(X.data(), 10000, 3, nullptr, 6, 3, u.data(), b.data(), ib.data(), so);
  CHECK(ia == ib);
}

TEST_CASE("k-means++ on 8-bit colours along the pixels picks the double path's centres, any k") {
  // Colours with repeats in runs along the pixels, as in an image: the integer path (its per-chunk sums
  // along the pixels kept up to date from 32 centres on) must draw what the double path's passes draw.
  std::mt19937_64 rng(5);
  const std::size_t n_colors = 3000;
  std::vector<std::uint8_t> P(n_colors * 3);
  for (auto& v : P) v = static_cast<std::uint8_t>(rng() % 256);
  const std::vector<double> Pd(P.begin(), P.end());
  std::vector<std::int32_t> pixel;
  while (pixel.size() < 70000) {
    const auto c = static_cast<std::int32_t>(rng() % n_colors);
    for (std::uint64_t r = 1 + rng() % 8; r > 0; --r) pixel.push_back(c);
  }
  std::vector<double> w(n_colors, 0.0);
  for (const std::int32_t c : pixel) w[static_cast<std::size_t>(c)] += 1.0;
  pixclust::SamplingOrder so;
  so.point = pixel.data();
  so.size = pixel.size();
  for (const std::size_t k : {std::size_t{8}, std::size_t{40}, std::size_t{200}}) {
    const std::size_t trials = 2 + static_cast<std::size_t>(std::log(static_cast<double>(k)));
    std::vector<double> u(1 + (k - 1) * trials);
    for (auto& x : u) x = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    std::vector<double> a(k * 3), b(k * 3);
    std::vector<std::int64_t> ia(k), ib(k);
    const std::size_t na = pixclust::kmeans_plusplus(P.data(), n_colors, 3, w.data(), k, trials, u.data(), a.data(),
                                                     ia.data(), so, 2);
    const std::size_t nb = pixclust::kmeans_plusplus(Pd.data(), n_colors, 3, w.data(), k, trials, u.data(), b.data(),
                                                     ib.data(), so, 2);
    CHECK_EQ(na, k);
    CHECK_EQ(nb, k);
    CHECK(ia == ib);
    CHECK(a == b);
  }
}

TEST_CASE("bad arguments throw, a cancel check stops the run") {
  std::vector<double> X = {0, 1, 2, 3};
  std::vector<double> C = {0, 1};
  std::vector<std::int32_t> L(4);
  CHECK_THROWS_AS(pixclust::kmeans_lloyd(X.data(), 0, 1, nullptr, C.data(), 2, L.data()), std::invalid_argument);
  CHECK_THROWS_AS(pixclust::kmeans_lloyd(X.data(), 4, 1, nullptr, C.data(), 0, L.data()), std::invalid_argument);
  pixclust::KMeansOptions bad;
  bad.max_iter = 0;
  CHECK_THROWS_AS(pixclust::kmeans_lloyd(X.data(), 4, 1, nullptr, C.data(), 2, L.data(), bad), std::invalid_argument);
  const auto Y = blobs<double>(100000, 3, 4, 2);
  auto init = first_rows(Y, 3, 4, 3);
  std::vector<std::int32_t> labels(100000);
  const pixclust::CancelCheck always = [] { return true; };
  CHECK_THROWS_AS(pixclust::kmeans_lloyd(Y.data(), 100000, 3, nullptr, init.data(), 4, labels.data(), {}, always),
                  pixclust::Cancelled);
}

TEST_CASE("assign and distances agree with brute force") {
  const auto X = blobs<std::uint16_t>(5000, 4, 3, 4);
  const std::vector<double> C = {120, 130, 128, 127, 140, 120, 125, 131, 110, 128, 135, 129};
  std::vector<std::int32_t> L(5000);
  const double inertia = pixclust::kmeans_assign(X.data(), 5000, 4, nullptr, C.data(), 3, L.data());
  std::vector<double> D(5000 * 3);
  pixclust::kmeans_distances(X.data(), 5000, 4, C.data(), 3, D.data());
  for (std::size_t i = 0; i < 5000; ++i) {
    CHECK_EQ(L[i], brute_nearest(X.data() + i * 4, 4, C, 3));
    CHECK(D[i * 3 + static_cast<std::size_t>(L[i])] <= D[i * 3] && D[i * 3 + static_cast<std::size_t>(L[i])] <= D[i * 3 + 2]);
  }
  CHECK_NEAR(inertia, brute_inertia(X, 4, C, L), 1e-12);
}

PIXCLUST_TEST_MAIN()
