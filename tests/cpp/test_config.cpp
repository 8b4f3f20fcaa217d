#include <string>

#include "check.hpp"
#include "pixclust/pixclust.hpp"

TEST_CASE("version is MAJOR.MINOR.PATCH") {
  const std::string v(pixclust::version());
  int dots = 0;
  for (char c : v) {
    if (c == '.') ++dots;
    else CHECK(c >= '0' && c <= '9');
  }
  CHECK_EQ(dots, 2);
  CHECK_EQ(pixclust::build_info().version, v);
}

TEST_CASE("max_threads is positive and follows OpenMP") {
  const auto info = pixclust::build_info();
  CHECK_EQ(info.openmp, PIXCLUST_TEST_EXPECT_OPENMP == 1);
  CHECK(pixclust::max_threads() >= 1);
  if (!info.openmp) CHECK_EQ(pixclust::max_threads(), 1);
  else CHECK(info.openmp_spec >= 200805);
  CHECK(!info.compiler.empty());
}

PIXCLUST_TEST_MAIN()
