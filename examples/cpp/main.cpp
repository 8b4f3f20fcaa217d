// The tutorial's ten points: their pairwise distances and the closest pair.
#include <pixclust/pixclust.hpp>

#include <cstdio>
#include <vector>

int main() {
  const std::vector<double> points = {2, 2, 15, 4, 2, 3, 4, 5, 5, 5, 20, 4, 22, 7, 17, 7, 20, 10, 3, 3};
  const std::size_t n = 10, d = 2;

  std::vector<double> dist(pixclust::condensed_size(n));
  pixclust::pdist_euclidean(points.data(), n, d, dist.data());

  std::size_t best = 0;
  for (std::size_t k = 1; k < dist.size(); ++k)
    if (dist[k] < dist[best]) best = k;
  std::printf("pixclust %s: %zu distances, the smallest is %g (pair index %zu)\n",
              std::string(pixclust::version()).c_str(), dist.size(), dist[best], best);
  return 0;
}
