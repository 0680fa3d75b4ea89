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

CalibrationSample mvtu(int mw, int mh, int simd, int pe, InputKind in, int in_bits, int out_bits, int pixels = 1) {
  MvtuConfig c{.mw = mw, .mh = mh, .simd = simd, .pe = pe, .input = in, .in_bits = in_bits, .out_bits = out_bits,
               .pixels = pixels,
               .name = pixels == 1 ? fmt::format("mvtu_{}x{}_s{}_p{}", mw, mh, simd, pe)
                                   : fmt::format("mvtu_{}x{}_s{}_p{}_m{}", mw, mh, simd, pe, pixels)};
  Thresholds t = ramp_thresholds(mh, out_bits ? (1 << out_bits) - 1 : 1, c.max_abs_acc());
  return {"mvtu",
          fmt::format("MW={} MH={} SIMD={} PE={}{} in={}{} out={}", mw, mh, simd, pe,
                      pixels == 1 ? std::string() : fmt::format(" MMV={}", pixels), in == InputKind::Binary ? "bin" : "u",
                      in_bits, out_bits),
          mvtu_kernel(c, BinaryMatrix::random(mh, mw, 7), out_bits ? &t : nullptr)};
}

CalibrationSample window(int h, int w, int c, int k, int s, int p, int simd, int bits) {
  WindowConfig wc{.h = h, .w = w, .c = c, .k = k, .s = s, .p = p, .simd = simd, .bits = bits,
                  .name = fmt::format("swu_{}x{}x{}_k{}", h, w, c, k)};
  return {"sliding window", fmt::format("{}x{}x{} K={} S={} P={} SIMD={} bits={}", h, w, c, k, s, p, simd, bits),
          sliding_window_kernel(wc)};
}

// A sliding window in one of its wide modes: `columns` window pixels of a row, `rows` window
// rows, `windows` whole windows or `in_pixels` input pixels per element (SIMD = C).
CalibrationSample wide_window(int h, int w, int c, int k, int bits, int columns, int rows, int windows, int in_pixels) {
  WindowConfig wc{.h = h, .w = w, .c = c, .k = k, .s = 1, .p = 0, .simd = c, .bits = bits, .columns = columns, .rows = rows,
                  .in_pixels = in_pixels, .windows = windows,
                  .name = fmt::format("swu_{}x{}x{}_k{}_c{}_r{}_w{}_i{}", h, w, c, k, columns, rows, windows, in_pixels)};
  CalibrationSample s{"sliding window",
                      fmt::format("{}x{}x{} K={} SIMD={} bits={} columns={} rows={} windows={} in_pixels={}", h, w, c, k, c, bits,
                                  columns, rows, windows, in_pixels),
                      sliding_window_kernel(wc)};
  s.wide = true;
  return s;
}

CalibrationSample wide(CalibrationSample s) {
  s.wide = true;
  return s;
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
  s.push_back({"thresholds", "C=64 PE=8 in=12 out=2",
               threshold_kernel({.channels = 64, .pe = 8, .pixels = 16, .in_bits = 12, .out_bits = 2},
                                ramp_thresholds(64, 3, 2048))});
  s.push_back({"window max", "K=2 C=16 SIMD=8 bits=2",
               window_max_kernel({.windows = 64, .k = 2, .c = 16, .simd = 8, .bits = 2})});
  s.push_back({"global pool", "8x8x64 SIMD=16 bits=2",
               global_pool_kernel({.h = 8, .w = 8, .c = 64, .simd = 16, .bits = 2})});
  s.push_back({"residual add", "lanes=8 main=12 skip=2",
               residual_add_kernel({.lanes = 8, .main_bits = 12, .skip_bits = 2, .shift = 2})});
  s.push_back({"width converter", "8 -> 2 lanes of 2 bits",
               width_converter_kernel({.values = 64, .in_lanes = 8, .out_lanes = 2, .bits = 2})});
  s.push_back({"width converter", "2 -> 8 lanes of 2 bits",
               width_converter_kernel({.values = 64, .in_lanes = 2, .out_lanes = 8, .bits = 2, .name = "width_converter_up"})});
  {
    LabelSelectConfig c;
    c.classes = 10;
    c.pe = 10;
    c.score_bits = 12;
    s.push_back({"label select", "10 classes PE=10 top-1", label_select_kernel(c)});
  }
  s.push_back({"fork", "32 bits", fork_kernel({64, 32, "fork"})});

  // Wide engines, as the planned designs have them: the MVTUs of cnv's FPGA 0 on a
  // zynq-7000-xc7z020 at 10,000 images/s (conv1..conv4) and of cnv-w1a2 at its highest
  // throughput (conv2), a whole 3x3x64 window per tick, M = 2 pixels per tick, and the sliding
  // windows of the modes that feed them. Not the mode of two whole windows per element
  // (`windows` = 2): Yosys 0.23 runs out of this machine's 24 GB on it even at 8x8x16 (its line
  // buffer is read at 12 addresses a tick), so it cannot be calibrated against Yosys yet.
  s.push_back(wide(mvtu(27, 64, 27, 8, InputKind::Unsigned, 8, 1)));
  s.push_back(wide(mvtu(576, 64, 192, 16, InputKind::Binary, 1, 1)));
  s.push_back(wide(mvtu(576, 128, 192, 8, InputKind::Binary, 1, 1)));
  s.push_back(wide(mvtu(1152, 128, 384, 8, InputKind::Binary, 1, 1)));
  s.push_back(wide(mvtu(576, 64, 64, 32, InputKind::Unsigned, 2, 2)));
  s.push_back(wide(mvtu(576, 64, 576, 4, InputKind::Binary, 1, 1)));
  s.push_back(wide(mvtu(72, 32, 72, 32, InputKind::Unsigned, 2, 2, 2)));
  s.push_back(wide_window(32, 32, 3, 3, 8, 3, 3, 1, 1));
  s.push_back(wide_window(12, 12, 128, 3, 1, 3, 1, 1, 1));
  s.push_back(wide_window(16, 16, 16, 3, 2, 1, 1, 1, 2));
  s.push_back(wide({"thresholds", "C=256 PE=64 in=12 out=2",
                    threshold_kernel({.channels = 256, .pe = 64, .pixels = 16, .in_bits = 12, .out_bits = 2},
                                     ramp_thresholds(256, 3, 2048))}));
  return s;
}

}  // namespace qdf::engines
