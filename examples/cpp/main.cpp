// The tutorial's ten points, clustered by Ward's method: SciPy's (n-1) x 4 linkage matrix, one merge a
// row (the two clusters, their distance, the size of the new cluster n+row).
#include <pixclust/pixclust.hpp>

#include <cstdio>
#include <vector>

int main() {
  const std::vector<double> points = {2, 2, 15, 4, 2, 3, 4, 5, 5, 5, 20, 4, 22, 7, 17, 7, 20, 10, 3, 3};
  const std::size_t n = 10, d = 2;

  std::vector<double> dist(pixclust::condensed_size(n));
  pixclust::pdist_euclidean(points.data(), n, d, dist.data());

  std::vector<double> Z(4 * (n - 1));
  pixclust::linkage(dist.data(), n, pixclust::LinkageMethod::ward, Z.data());

  std::printf("pixclust %s: ward linkage of %zu points\n", std::string(pixclust::version()).c_str(), n);
  for (std::size_t row = 0; row + 1 < n; ++row) {
    const double* z = &Z[4 * row];
    std::printf("%3.0f %3.0f %10.6f %3.0f\n", z[0], z[1], z[2], z[3]);
  }
  return 0;
}
