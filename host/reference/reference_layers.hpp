// The reference layers: plain, obviously-correct integer models of each layer, written naively
// with Eigen (real ±1 arithmetic, convolution as loops, thresholds as comparisons). They share no
// code with engines/: the engines' functional models are checked against them layer by layer
// (tests/golden/golden.hpp names them `golden`), and host/reference/reference_model.cpp chains them into a
// whole network.
//
// Values are what they mean, not how a stream encodes them: a binary activation is -1 or +1, an
// unsigned activation or pixel its integer, an accumulator its signed integer.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cstdint>
#include <vector>

namespace qdf::reference {

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

// Convolution with a ±1 kernel w[oc][(ky*k + kx)*c + ch], stride s, padding p filled with `pad`.
inline Map conv(const Map& in, const Matrix& w, int k, int s, int p, std::int64_t pad = 0) {
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
              std::int64_t a = (y >= 0 && y < in.h && x >= 0 && x < in.w) ? in.at(y, x, ch) : pad;
              sum += w(oc, (ky * k + kx) * in.c + ch) * a;
            }
        out.v[static_cast<size_t>((oy * out.w + ox) * out.c + oc)] = sum;
      }
  return out;
}

// Max pool k x k, stride s, padding p filled with `pad`.
inline Map maxpool(const Map& in, int k, int s, int p = 0, std::int64_t pad = 0) {
  Map out{(in.h + 2 * p - k) / s + 1, (in.w + 2 * p - k) / s + 1, in.c, {}};
  for (int oy = 0; oy < out.h; ++oy)
    for (int ox = 0; ox < out.w; ++ox)
      for (int ch = 0; ch < in.c; ++ch) {
        std::int64_t m = 0;
        bool first = true;
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx) {
            int y = oy * s - p + ky, x = ox * s - p + kx;
            std::int64_t a = (y >= 0 && y < in.h && x >= 0 && x < in.w) ? in.at(y, x, ch) : pad;
            m = first ? a : std::max(m, a);
            first = false;
          }
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

// Indices of the k largest scores, best first; of equal scores the lower index first.
inline std::vector<std::int64_t> top_k(const std::vector<std::int64_t>& scores, int k) {
  std::vector<std::int64_t> idx;
  std::vector<bool> taken(scores.size(), false);
  for (int j = 0; j < k; ++j) {
    size_t best = scores.size();
    for (size_t i = 0; i < scores.size(); ++i)
      if (!taken[i] && (best == scores.size() || scores[i] > scores[best])) best = i;
    taken[best] = true;
    idx.push_back(static_cast<std::int64_t>(best));
  }
  return idx;
}

}  // namespace qdf::reference
