// A minimal test harness for the C++ tests: registration, CHECK macros that report file:line and keep
// going, and a closing "N passed, N failed" line. Each test file ends with PIXCLUST_TEST_MAIN().
#pragma once

#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace pixclust_test {

struct Case {
  const char* name;
  std::function<void()> body;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

inline int& failures_in_case() {
  static int n = 0;
  return n;
}

struct Registrar {
  Registrar(const char* name, std::function<void()> body) { registry().push_back({name, std::move(body)}); }
};

inline void fail(const char* file, int line, const std::string& what) {
  ++failures_in_case();
  std::fprintf(stderr, "  %s:%d: FAILED: %s\n", file, line, what.c_str());
}

template <class A, class B>
std::string describe(const char* expr, const A& a, const B& b) {
  std::ostringstream os;
  os.precision(17);
  os << expr << "  (" << a << " vs " << b << ")";
  return os.str();
}

inline int run_all() {
  int passed = 0, failed = 0;
  for (const Case& c : registry()) {
    failures_in_case() = 0;
    try {
      c.body();
    } catch (const std::exception& e) {
      fail(__FILE__, __LINE__, std::string("unexpected exception: ") + e.what());
    } catch (...) {
      fail(__FILE__, __LINE__, "unexpected non-standard exception");
    }
    if (failures_in_case() == 0) {
      ++passed;
      std::printf("ok   %s\n", c.name);
    } else {
      ++failed;
      std::printf("FAIL %s\n", c.name);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return (failed == 0 && passed > 0) ? 0 : 1;
}

}  // namespace pixclust_test

#define PIXCLUST_CAT_(a, b) a##b
#define PIXCLUST_CAT(a, b) PIXCLUST_CAT_(a, b)

#define TEST_CASE(name)                                                                          \
  static void PIXCLUST_CAT(test_fn_, __LINE__)();                                                \
  static const ::pixclust_test::Registrar PIXCLUST_CAT(test_reg_, __LINE__)(name,                \
                                                                            PIXCLUST_CAT(test_fn_, __LINE__)); \
  static void PIXCLUST_CAT(test_fn_, __LINE__)()

#define CHECK(cond) \
  ((cond) ? (void)0 : ::pixclust_test::fail(__FILE__, __LINE__, #cond))

#define CHECK_EQ(a, b) \
  (((a) == (b)) ? (void)0 : ::pixclust_test::fail(__FILE__, __LINE__, ::pixclust_test::describe(#a " == " #b, (a), (b))))

#define CHECK_NEAR(a, b, rel)                                                                          \
  ((std::fabs(static_cast<double>(a) - static_cast<double>(b)) <=                                      \
    (rel) * std::fmax(std::fabs(static_cast<double>(a)), std::fabs(static_cast<double>(b))))           \
       ? (void)0                                                                                       \
       : ::pixclust_test::fail(__FILE__, __LINE__, ::pixclust_test::describe(#a " ~= " #b, (a), (b))))

#define CHECK_THROWS_AS(expr, Ex)                                                       \
  do {                                                                                  \
    bool caught_ = false;                                                               \
    try {                                                                               \
      (void)(expr);                                                                     \
    } catch (const Ex&) {                                                               \
      caught_ = true;                                                                   \
    } catch (...) {                                                                     \
    }                                                                                   \
    if (!caught_) ::pixclust_test::fail(__FILE__, __LINE__, #expr " did not throw " #Ex); \
  } while (0)

#define PIXCLUST_TEST_MAIN() \
  int main() { return ::pixclust_test::run_all(); }
