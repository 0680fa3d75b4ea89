// Speed of the engines' functional models on one core: binary MACs per second of the MVTU's
// bit-packed model (engines/bit_planes.hpp) on every SIMD path this CPU has, on layer shapes of
// ResNet-18 and CNV, beside the machine's own limit measured in the same run (a plain
// XNOR-popcount matrix-vector loop over 64-bit words compiled for this CPU, bench/machine_limit.cpp).
// A binary MAC of a W1A2 layer takes two bit operations (one per activation bit plane), so the
// table also gives bit-ops/s, the figure comparable with the limit. Each figure is the best of
// several runs (the machine may be shared).
#include "engines/engine_kinds.hpp"
#include "engines/mvtu.hpp"
#include "engines/sliding_window.hpp"
#include "machine_limit.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <iostream>

using namespace qdf::engines;

namespace {

using Clock = std::chrono::steady_clock;

// The least time of one call of f, over runs that take at least `budget` seconds in all.
template <class F>
double best_seconds(F&& f, double budget = 0.3) {
  double best = 1e30, total = 0;
  for (int runs = 0; runs < 3 || total < budget; ++runs) {
    const auto t0 = Clock::now();
    f();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::min(best, s);
    total += s;
  }
  return best;
}

std::vector<std::int64_t> random_values(size_t n, int bits, std::uint64_t x) {
  std::vector<std::int64_t> v(n);
  for (auto& e : v) {
    x = x * 6364136223846793005ull + 1;
    e = static_cast<std::int64_t>((x >> 40) % (1u << bits));
  }
  return v;
}

}  // namespace

int main() {
  // The machine's limit: XNOR-popcount of a 512 x 4608 binary matrix with a vector.
  const int rows = 512, words = 4608 / 64;
  std::vector<std::uint64_t> lw(static_cast<size_t>(rows * words)), lx(static_cast<size_t>(words));
  std::uint64_t s = 3;
  for (auto& e : lw) e = s = s * 6364136223846793005ull + 1442695040888963407ull;
  for (auto& e : lx) e = s = s * 6364136223846793005ull + 1442695040888963407ull;
  std::vector<std::int64_t> lo(static_cast<size_t>(rows));
  volatile std::int64_t sink = 0;  // keeps the limit loop's work observable
  const int reps = 50;
  const double limit_s = best_seconds([&] {
    for (int i = 0; i < reps; ++i) {
      lx[0] ^= static_cast<std::uint64_t>(i);
      sink = sink + xnor_popcount_matvec(lw.data(), rows, words, lx.data(), lo.data());
    }
  });
  const double limit = static_cast<double>(rows) * words * 64 * reps / limit_s;
  std::cout << fmt::format("machine limit (plain XNOR-popcount matrix-vector loop, 64-bit words, -O3 -march=native): {:.3g} bit-ops/s on one core\n\n",
                           limit);

  struct Shape {
    const char* name;
    int mw, mh, vectors;
    InputKind in;
    int bits;
  };
  const Shape shapes[] = {
      {"resnet18 conv 3x3x512 -> 512, W1A2", 4608, 512, 49, InputKind::Unsigned, 2},
      {"resnet18 conv 3x3x64 -> 64, W1A2", 576, 64, 3136, InputKind::Unsigned, 2},
      {"cnv conv 3x3x64 -> 64, W1A1", 576, 64, 784, InputKind::Binary, 1},
      {"cnv conv1 3x3x3 -> 64, 8-bit pixels", 27, 64, 900, InputKind::Unsigned, 8},
      {"lfc fc 1024 -> 1024, W1A1", 1024, 1024, 200, InputKind::Binary, 1},
  };
  std::cout << fmt::format("{:<40} {:<16} {:>10} {:>11} {:>11} {:>11} {:>9}\n", "MVTU functional model", "path", "binary MACs",
                           "seconds", "MACs/s", "bit-ops/s", "of limit");
  double resnet_best = 0;
  for (const Shape& sh : shapes) {
    MvtuConfig c;
    c.mw = sh.mw;
    c.mh = sh.mh;
    c.input = sh.in;
    c.in_bits = sh.bits;
    BinaryMatrix w = BinaryMatrix::random(sh.mh, sh.mw, 1);
    const std::vector<std::int64_t> in = random_values(static_cast<size_t>(sh.mw) * static_cast<size_t>(sh.vectors), sh.bits, 5);
    const double macs = static_cast<double>(sh.mw) * sh.mh * sh.vectors;
    for (SimdPath path : available_simd_paths()) {
      size_t outs = 0;
      const double secs = best_seconds([&] { outs += mvtu_forward(c, w, nullptr, in, path).size(); });
      const double rate = macs / secs;
      if (&sh == &shapes[0]) resnet_best = std::max(resnet_best, rate);
      std::cout << fmt::format("{:<40} {:<16} {:>10.3g} {:>11.5f} {:>11.3g} {:>11.3g} {:>8.0f}%{}\n", sh.name, simd_path_name(path),
                               macs, secs, rate, rate * sh.bits, 100 * rate * sh.bits / limit, outs ? "" : " (no output)");
    }
    // Many-bit inputs as bytes, as a fused first layer counts them where the CPU has VNNI.
    if (sh.bits >= 4 && byte_matches_fast(best_simd_path())) {
      const std::vector<std::uint8_t> bytes(in.begin(), in.end());
      size_t outs = 0;
      const double secs =
          best_seconds([&] { outs += mvtu_forward_bytes(c, w, nullptr, bytes.data(), static_cast<size_t>(sh.vectors), best_simd_path()).size(); });
      const double rate = macs / secs;
      std::cout << fmt::format("{:<40} {:<16} {:>10.3g} {:>11.5f} {:>11.3g} {:>11.3g} {:>8.0f}%{}\n", "  as bytes (count_byte_matches)",
                               "avx512-vnni", macs, secs, rate, rate * sh.bits, 100 * rate * sh.bits / limit, outs ? "" : " (no output)");
    }
  }

  // The whole layer with its sliding window and thresholds, on the default (fastest) path: the
  // window's im2col as values then the MVTU, and fused as the simulator runs it (the windows
  // handed over as bit planes, engines/engine_kinds.hpp).
  {
    WindowConfig wc;
    wc.h = wc.w = 7;
    wc.c = 512;
    wc.k = 3;
    wc.p = 1;
    wc.bits = 2;
    MvtuConfig c;
    c.mw = 4608;
    c.mh = 512;
    c.input = InputKind::Unsigned;
    c.in_bits = 2;
    c.out_bits = 2;
    EngineData d;
    d.weights = std::make_shared<const BinaryMatrix>(BinaryMatrix::random(c.mh, c.mw, 1));
    auto t = std::make_shared<Thresholds>();
    t->channels = c.mh;
    t->levels = 3;
    for (int ch = 0; ch < c.mh; ++ch) {
      t->t.insert(t->t.end(), {-40, 0, 40});
      t->flip.push_back(ch % 3 == 0);
    }
    d.thresholds = t;
    const std::vector<std::int64_t> map = random_values(7 * 7 * 512, 2, 9);
    const double macs = 4608.0 * 512 * 49;
    for (bool fused : {false, true}) {
      size_t outs = 0;
      const double secs = best_seconds([&] {
        outs += fused ? fused_forward(wc, c, d, {map})[0].size() : mvtu_forward(c, *d.weights, t.get(), sliding_window_forward(wc, map)).size();
      });
      std::cout << fmt::format("{:<40} {:<16} {:>10.3g} {:>11.5f} {:>11.3g} {:>11.3g} {:>8.0f}%{}\n",
                               fused ? "  + window and thresholds, fused" : "  + window (as values) and thresholds", simd_path_name(best_simd_path()),
                               macs, secs, macs / secs, 2 * macs / secs, 100 * 2 * macs / secs / limit, outs ? "" : " (no output)");
    }
  }
  std::cout << fmt::format("\nresnet18 3x3x512 W1A2: {:.3g} binary MACs/s per core (target >= 1.5e11: {}); limit for W1A2 (two planes): {:.3g}\n",
                           resnet_best, resnet_best >= 1.5e11 ? "met" : "NOT met", limit / 2);
  return 0;
}
