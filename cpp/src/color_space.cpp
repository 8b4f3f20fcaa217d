// sRGB (IEC 61966-2-1) <-> CIE XYZ (D65) <-> CIELAB, in double.
#include "pixclust/color_space.hpp"

#include <cmath>

namespace pixclust {

namespace {

constexpr double kEps = 216.0 / 24389.0;  // (6/29)^3
constexpr double kKappa = 24389.0 / 27.0;

// sRGB primaries to XYZ (IEC 61966-2-1). The inverse is computed from this matrix rather than taken from
// the standard's rounded one, so that a round trip returns the input to ~1e-13.
constexpr double kM[3][3] = {{0.4124564, 0.3575761, 0.1804375},
                             {0.2126729, 0.7151522, 0.0721750},
                             {0.0193339, 0.1191920, 0.9503041}};

struct Inverse {
  double m[3][3];
  Inverse() noexcept {
    const double det = kM[0][0] * (kM[1][1] * kM[2][2] - kM[1][2] * kM[2][1]) -
                       kM[0][1] * (kM[1][0] * kM[2][2] - kM[1][2] * kM[2][0]) +
                       kM[0][2] * (kM[1][0] * kM[2][1] - kM[1][1] * kM[2][0]);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        // cofactor of (j, i) over the determinant
        const int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
        m[i][j] = (kM[r0][c0] * kM[r1][c1] - kM[r0][c1] * kM[r1][c0]) / det;
      }
  }
};

// The D65 white is sRGB (1, 1, 1) through kM, summed as srgb_to_lab sums it, so that white maps to
// a* = b* = 0 exactly.
const double kXn = kM[0][0] + kM[0][1] + kM[0][2];
const double kYn = kM[1][0] + kM[1][1] + kM[1][2];
const double kZn = kM[2][0] + kM[2][1] + kM[2][2];

const Inverse& inverse() noexcept {
  static const Inverse inv;
  return inv;
}

double srgb_to_linear(double c) noexcept {
  return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}
double linear_to_srgb(double c) noexcept {
  return c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1.0 / 2.4) - 0.055;
}
double f(double t) noexcept { return t > kEps ? std::cbrt(t) : (kKappa * t + 16.0) / 116.0; }
double f_inv(double t) noexcept {
  const double t3 = t * t * t;
  return t3 > kEps ? t3 : (116.0 * t - 16.0) / kKappa;
}

}  // namespace

void srgb_to_lab(const double* rgb, std::size_t n, double* lab) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const double r = srgb_to_linear(rgb[3 * i]), g = srgb_to_linear(rgb[3 * i + 1]),
                 b = srgb_to_linear(rgb[3 * i + 2]);
    const double x = kM[0][0] * r + kM[0][1] * g + kM[0][2] * b;
    const double y = kM[1][0] * r + kM[1][1] * g + kM[1][2] * b;
    const double z = kM[2][0] * r + kM[2][1] * g + kM[2][2] * b;
    const double fx = f(x / kXn), fy = f(y / kYn), fz = f(z / kZn);
    lab[3 * i] = 116.0 * fy - 16.0;
    lab[3 * i + 1] = 500.0 * (fx - fy);
    lab[3 * i + 2] = 200.0 * (fy - fz);
  }
}

void lab_to_srgb(const double* lab, std::size_t n, double* rgb) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const double fy = (lab[3 * i] + 16.0) / 116.0;
    const double fx = fy + lab[3 * i + 1] / 500.0;
    const double fz = fy - lab[3 * i + 2] / 200.0;
    const double x = kXn * f_inv(fx), y = kYn * f_inv(fy), z = kZn * f_inv(fz);
    const auto& mi = inverse().m;
    const double r = mi[0][0] * x + mi[0][1] * y + mi[0][2] * z;
    const double g = mi[1][0] * x + mi[1][1] * y + mi[1][2] * z;
    const double b = mi[2][0] * x + mi[2][1] * y + mi[2][2] * z;
    rgb[3 * i] = linear_to_srgb(r);
    rgb[3 * i + 1] = linear_to_srgb(g);
    rgb[3 * i + 2] = linear_to_srgb(b);
  }
}

}  // namespace pixclust
