// The golden reference: plain, obviously-correct integer models of each layer, written naively
// with Eigen (real ±1 arithmetic, convolution as loops, thresholds as comparisons). It shares
// no code with engines/ and is what the engines' functional models are checked against.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

namespace qdf::golden {

using Matrix = Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic>;
using Vector = Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>;

// y = W x for a ±1 matrix W.
inline Vector matvec(const Matrix& w, const Vector& x) { return w * x; }

// A multi-threshold activation: the number of thresholds t with (flip ? -acc : acc) >= t.
inline std::int64_t activate(std::int64_t acc, bool flip, const std::vector<std::int64_t>& t) {
  std::int64_t v = flip ? -acc : acc;
  std::int64_t n = 0;
  for (std::int64_t x : t)
    if (v >= x) ++n;
  return n;
}

// A feature map: h x w pixels of c channels, value(y, x, ch).
struct Map {
  int h = 0, w = 0, c = 0;
  std::vector<std::int64_t> v;  // (y * w + x) * c + ch
  std::int64_t at(int y, int x, int ch) const { return v[static_cast<size_t>((y * w + x) * c + ch)]; }
};

// Convolution with a ±1 kernel w[oc][(ky*k + kx)*c + ch], zero padding p, stride s.
inline Map conv(const Map& in, const Matrix& w, int k, int s, int p) {
  Map out;
  out.h = (in.h + 2 * p - k) / s + 1;
  out.w = (in.w + 2 * p - k) / s + 1;
  out.c = static_cast<int>(w.rows());
  out.v.assign(static_cast<size_t>(out.h * out.w * out.c), 0);
  for (int oy = 0; oy < out.h; ++oy)
    for (int ox = 0; ox < out.w; ++ox)
      for (int oc = 0; oc < out.c; ++oc) {
        std::int64_t sum = 0;
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx)
            for (int ch = 0; ch < in.c; ++ch) {
              int y = oy * s - p + ky, x = ox * s - p + kx;
              std::int64_t a = (y >= 0 && y < in.h && x >= 0 && x < in.w) ? in.at(y, x, ch) : 0;
              sum += w(oc, (ky * k + kx) * in.c + ch) * a;
            }
        out.v[static_cast<size_t>((oy * out.w + ox) * out.c + oc)] = sum;
      }
  return out;
}

// Max pool k x k, stride s, no padding.
inline Map maxpool(const Map& in, int k, int s) {
  Map out{(in.h - k) / s + 1, (in.w - k) / s + 1, in.c, {}};
  for (int oy = 0; oy < out.h; ++oy)
    for (int ox = 0; ox < out.w; ++ox)
      for (int ch = 0; ch < in.c; ++ch) {
        std::int64_t m = in.at(oy * s, ox * s, ch);
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx) m = std::max(m, in.at(oy * s + ky, ox * s + kx, ch));
        out.v.push_back(m);
      }
  return out;
}

// Sum over all pixels per channel (global average pool before its scale).
inline std::vector<std::int64_t> global_sum(const Map& in) {
  std::vector<std::int64_t> s(static_cast<size_t>(in.c), 0);
  for (int y = 0; y < in.h; ++y)
    for (int x = 0; x < in.w; ++x)
      for (int ch = 0; ch < in.c; ++ch) s[static_cast<size_t>(ch)] += in.at(y, x, ch);
  return s;
}

}  // namespace qdf::golden
