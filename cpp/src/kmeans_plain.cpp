// The plain Lloyd iteration (KMeansAlgorithm::lloyd): every point compared with every centre.
#include <algorithm>

#include "kmeans_lloyd.hpp"

namespace pixclust::detail {

template <std::size_t D, class T>
std::size_t assign_plain(LloydState<D, T>& s, const double* C, std::int32_t* labels, bool accumulate) {
  for_chunks(s.n, s.threads, s.poller, [&](std::size_t c, std::size_t b, std::size_t e) {
    double* acc = s.chunk_sums(c, accumulate);
    std::size_t n_changed = 0;
    BlockScratch blk;
    for (std::size_t sb = b; sb < e; sb += kBlock) {
      const std::size_t se = std::min(e, sb + kBlock);
      blk.m = 0;
      for (std::size_t i = sb; i < se; ++i) blk.todo[blk.m++] = static_cast<std::uint32_t>(i - sb);
      search_block(s, C, sb, blk);
      n_changed += apply_block(s, labels, sb, se, blk, accumulate, acc);
    }
    s.changed[c] = n_changed;
  });
  return s.total_changed();
}

#define PIXCLUST_INSTANTIATE(D, T) \
  template std::size_t assign_plain<D, T>(LloydState<D, T>&, const double*, std::int32_t*, bool);
PIXCLUST_LLOYD_INSTANCES(PIXCLUST_INSTANTIATE)
#undef PIXCLUST_INSTANTIATE

}  // namespace pixclust::detail
