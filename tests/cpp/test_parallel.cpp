// The parallel loop helper (cpp/src/parallel.hpp): an exception thrown by an item's body must leave
// the OpenMP region as an ordinary exception after it, not end the process.
#include <atomic>
#include <cstddef>
#include <new>
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "parallel.hpp"

namespace {

const pixclust::CancelCheck kNever;

}  // namespace

TEST_CASE("for_items rethrows a body's bad_alloc after the region, for any thread count") {
  for (int threads : {1, 2, 4}) {
    pixclust::detail::CancelPoller poller(kNever);
    std::atomic<std::size_t> ran{0};
    CHECK_THROWS_AS(pixclust::detail::for_items(1000, 1, threads, poller,
                                                [&](std::size_t i) {
                                                  ran.fetch_add(1);
                                                  if (i == 7) throw std::bad_alloc();
                                                }),
                    std::bad_alloc);
    CHECK(ran.load() >= 1);
  }
}

TEST_CASE("for_items runs every item once when no body throws") {
  pixclust::detail::CancelPoller poller(kNever);
  std::vector<int> seen(5000, 0);
  pixclust::detail::for_items(seen.size(), 1, 4, poller, [&](std::size_t i) { seen[i] += 1; });
  for (int s : seen) CHECK_EQ(s, 1);
}

TEST_CASE("for_chunks rethrows a body's exception") {
  pixclust::detail::CancelPoller poller(kNever);
  CHECK_THROWS_AS(pixclust::detail::for_chunks(100000, 4, poller,
                                               [&](std::size_t c, std::size_t, std::size_t) {
                                                 if (c == 3) throw std::length_error("vector");
                                               }),
                  std::length_error);
}

PIXCLUST_TEST_MAIN()
