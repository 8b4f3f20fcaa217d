// The plain Lloyd iteration (KMeansAlgorithm::lloyd): every point compared with every centre.
#include <algorithm>

#include "kmeans_lloyd.hpp"

namespace pixclust::detail {

template <std::size_t D, class T>
std::size_t assign_plain(LloydState<D, T>& s, const double* C, std::int32_t* labels, bool accumulate) {
  return for_blocks(s, accumulate, [&](std::size_t sb, std::size_t se, BlockScratch& blk, double* acc) {
    for (std::size_t i = sb; i < se; ++i) blk.todo[blk.m++] = static_cast<std::uint32_t>(i - sb);
    search_block(s, C, sb, blk);
    return apply_block(s, labels, sb, se, blk, accumulate, acc);
  });
}

#define PIXCLUST_INSTANTIATE(D, T) \
  template std::size_t assign_plain<D, T>(LloydState<D, T>&, const double*, std::int32_t*, bool);
PIXCLUST_LLOYD_INSTANCES(PIXCLUST_INSTANTIATE)
#undef PIXCLUST_INSTANTIATE

}  // namespace pixclust::detail
