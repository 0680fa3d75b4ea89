#include "engines/calibration_samples.hpp"

#include "engines/mvtu.hpp"
#include "engines/sliding_window.hpp"
#include "engines/stream_engines.hpp"

#include <fmt/format.h>

namespace qdf::engines {

namespace {

Thresholds ramp_thresholds(int channels, int levels, std::int64_t range) {
  Thresholds t;
  t.channels = channels;
  t.levels = levels;
  for (int c = 0; c < channels; ++c) {
    for (int i = 0; i < levels; ++i) t.t.push_back((c * 7 % 11 - 5) + (i - levels / 2) * range / 4);
    t.flip.push_back(c % 5 == 3);
  }
  return t;
}

CalibrationSample mvtu(int mw, int mh, int simd, int pe, InputKind in, int in_bits, int out_bits) {
  MvtuConfig c;
  c.mw = mw;
  c.mh = mh;
  c.simd = simd;
  c.pe = pe;
  c.input = in;
  c.in_bits = in_bits;
  c.out_bits = out_bits;
  c.name = fmt::format("mvtu_{}x{}_s{}_p{}", mw, mh, simd, pe);
  Thresholds t = ramp_thresholds(mh, out_bits ? (1 << out_bits) - 1 : 1, c.max_abs_acc());
  return {"mvtu", fmt::format("MW={} MH={} SIMD={} PE={} in={}{} out={}", mw, mh, simd, pe,
                              in == InputKind::Binary ? "bin" : "u", in_bits, out_bits),
          mvtu_kernel(c, BinaryMatrix::random(mh, mw, 7), out_bits ? &t : nullptr)};
}

CalibrationSample window(int h, int w, int c, int k, int s, int p, int simd, int bits) {
  WindowConfig wc;
  wc.h = h;
  wc.w = w;
  wc.c = c;
  wc.k = k;
  wc.s = s;
  wc.p = p;
  wc.simd = simd;
  wc.bits = bits;
  wc.name = fmt::format("swu_{}x{}x{}_k{}", h, w, c, k);
  return {"sliding window", fmt::format("{}x{}x{} K={} S={} P={} SIMD={} bits={}", h, w, c, k, s, p, simd, bits),
          sliding_window_kernel(wc)};
}

}  // namespace

std::vector<CalibrationSample> calibration_samples() {
  std::vector<CalibrationSample> s;
  s.push_back(mvtu(64, 16, 16, 4, InputKind::Binary, 1, 0));
  s.push_back(mvtu(64, 16, 16, 4, InputKind::Binary, 1, 1));
  s.push_back(mvtu(256, 32, 32, 8, InputKind::Binary, 1, 1));
  s.push_back(mvtu(27, 10, 9, 5, InputKind::Unsigned, 2, 2));
  s.push_back(mvtu(144, 16, 16, 4, InputKind::Unsigned, 2, 2));
  s.push_back(mvtu(48, 8, 3, 2, InputKind::Unsigned, 8, 2));
  s.push_back(window(16, 16, 8, 3, 1, 1, 4, 2));
  s.push_back(window(32, 32, 16, 3, 1, 1, 16, 2));
  s.push_back(window(15, 15, 3, 7, 2, 3, 3, 8));
  {
    ThresholdConfig c;
    c.channels = 64;
    c.pe = 8;
    c.pixels = 16;
    c.in_bits = 12;
    c.out_bits = 2;
    s.push_back({"thresholds", "C=64 PE=8 in=12 out=2", threshold_kernel(c, ramp_thresholds(64, 3, 2048))});
  }
  {
    WindowMaxConfig c;
    c.windows = 64;
    c.k = 2;
    c.c = 16;
    c.simd = 8;
    c.bits = 2;
    s.push_back({"window max", "K=2 C=16 SIMD=8 bits=2", window_max_kernel(c)});
  }
  {
    GlobalPoolConfig c;
    c.h = 8;
    c.w = 8;
    c.c = 64;
    c.simd = 16;
    c.bits = 2;
    s.push_back({"global pool", "8x8x64 SIMD=16 bits=2", global_pool_kernel(c)});
  }
  {
    ResidualAddConfig c;
    c.lanes = 8;
    c.main_bits = 12;
    c.skip_bits = 2;
    c.shift = 2;
    s.push_back({"residual add", "lanes=8 main=12 skip=2", residual_add_kernel(c)});
  }
  {
    WidthConverterConfig c;
    c.values = 64;
    c.in_lanes = 8;
    c.out_lanes = 2;
    c.bits = 2;
    s.push_back({"width converter", "8 -> 2 lanes of 2 bits", width_converter_kernel(c)});
    c.in_lanes = 2;
    c.out_lanes = 8;
    c.name = "width_converter_up";
    s.push_back({"width converter", "2 -> 8 lanes of 2 bits", width_converter_kernel(c)});
  }
  {
    LabelSelectConfig c;
    c.classes = 10;
    c.pe = 10;
    c.score_bits = 12;
    s.push_back({"label select", "10 classes PE=10 top-1", label_select_kernel(c)});
  }
  s.push_back({"fork", "32 bits", fork_kernel({64, 32, "fork"})});
  return s;
}

}  // namespace qdf::engines
