// The sliding-window unit: SWU + MVTU functional models compute the golden convolution over a
// grid of K, S, P and odd sizes; the SWU's RTL equals its functional model under random stalls,
// with cycles per frame equal to the timing model's.
#include "dsl/errors.hpp"
#include "dsl/passes.hpp"
#include "dsl/verilator_runner.hpp"
#include "dsl/yosys_runner.hpp"
#include "engine_test_support.hpp"
#include "engines/engine_kinds.hpp"
#include "engines/mvtu.hpp"
#include "engines/sliding_window.hpp"
#include "engines/stream_engines.hpp"
#include "golden/golden.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace qdf;
using namespace qdf::engines;

namespace {

std::vector<std::int64_t> random_values(size_t n, int bits, std::uint64_t seed) {
  std::vector<std::int64_t> v;
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    v.push_back(static_cast<std::int64_t>((seed >> 33) % (1ull << bits)));
  }
  return v;
}

WindowConfig window(int h, int w, int c, int k, int s, int p, int simd, int bits, int columns = 1, int rows = 1, int in_pixels = 1,
                    int windows = 1) {
  return {.h = h, .w = w, .c = c, .k = k, .s = s, .p = p, .simd = simd, .bits = bits, .columns = columns, .rows = rows,
          .in_pixels = in_pixels, .windows = windows};
}

std::string describe(const WindowConfig& c) {
  return fmt::format("H={} W={} C={} K={} S={} P={} SIMD={} bits={} columns={} rows={} in_pixels={} windows={}", c.h, c.w, c.c, c.k,
                     c.s, c.p, c.simd, c.bits, c.columns, c.rows, c.in_pixels, c.windows);
}

}  // namespace

TEST_CASE("convolution as SWU then MVTU (functional models) == golden convolution") {
  const std::vector<WindowConfig> grid = {
      window(7, 9, 3, 3, 1, 1, 3, 2),  window(8, 8, 4, 1, 1, 0, 2, 2),  window(9, 7, 5, 5, 2, 2, 5, 2),
      window(11, 11, 2, 7, 2, 3, 1, 2), window(6, 5, 6, 3, 2, 0, 3, 2),  window(5, 5, 3, 3, 1, 1, 1, 8),
      window(10, 6, 8, 3, 3, 1, 4, 2),
      window(11, 11, 3, 7, 2, 3, 3, 8, 7),  // a whole window row per element: MVTU SIMD = 21
      window(9, 8, 2, 3, 1, 1, 2, 2, 3),
      window(11, 12, 3, 7, 2, 3, 3, 8, 7, 7, 4),  // the whole window per element, 4 pixels per input element
      window(9, 8, 2, 3, 1, 1, 2, 2, 3, 3),       // the whole 3x3 window: MVTU SIMD = 18
      window(11, 12, 3, 7, 2, 3, 3, 8, 7, 7, 4, 2),  // two whole windows per element (MMV)
  };
  for (const WindowConfig& wc : grid) {
    INFO(describe(wc));
    const int mw = wc.k * wc.k * wc.c, mh = 6;
    MvtuConfig mc;
    mc.mw = mw;
    mc.mh = mh;
    mc.simd = wc.out_lanes().lanes / wc.windows;
    mc.pixels = wc.windows;
    mc.pe = wc.windows > 1 ? mh : 3;  // several pixels per element: an unfolded MVTU
    mc.input = InputKind::Unsigned;
    mc.in_bits = wc.bits;
    BinaryMatrix w = BinaryMatrix::random(mh, mw, 3);
    auto in = random_values(static_cast<size_t>(2 * wc.h * wc.w * wc.c), wc.bits, 11);
    auto windows = sliding_window_forward(wc, in);
    auto got = mvtu_forward(mc, w, nullptr, windows);
    golden::Matrix W(mh, mw);
    for (int r = 0; r < mh; ++r)
      for (int k = 0; k < mw; ++k) W(r, k) = w.at(r, k) ? 1 : -1;
    std::vector<std::int64_t> want;
    for (int f = 0; f < 2; ++f) {
      golden::Map m{wc.h, wc.w, wc.c, {}};
      m.v.assign(in.begin() + f * wc.h * wc.w * wc.c, in.begin() + (f + 1) * wc.h * wc.w * wc.c);
      golden::Map o = golden::conv(m, W, wc.k, wc.s, wc.p);
      CHECK(o.h == wc.out_h());
      want.insert(want.end(), o.v.begin(), o.v.end());
    }
    CHECK(got == want);
  }
}

TEST_CASE("fused: windows as bit planes into the MVTU, and a max pool, give what the window's values do") {
  std::vector<WindowConfig> grid = {
      window(7, 9, 3, 3, 1, 1, 3, 2),  window(9, 7, 5, 5, 2, 2, 5, 2), window(5, 5, 3, 3, 1, 1, 1, 8),  // through bytes
      window(8, 8, 3, 3, 1, 1, 3, 8),  window(9, 9, 3, 7, 2, 3, 3, 8), window(6, 6, 5, 3, 1, 0, 5, 4),  // bytes into the MVTU
      window(6, 6, 64, 3, 1, 1, 64, 1), window(5, 7, 64, 3, 2, 0, 32, 2), window(4, 4, 128, 3, 1, 1, 64, 1),  // whole words
      window(6, 5, 96, 2, 2, 0, 96, 1),  // pixels of a word and a half
  };
  for (const WindowConfig& wc : grid) {
    INFO(describe(wc));
    const int frames = 2;
    const auto in = random_values(static_cast<size_t>(frames * wc.h * wc.w * wc.c), wc.bits, 17);
    const auto windows = sliding_window_forward(wc, in);
    // The planes on every SIMD path: the windows' values packed vector by vector.
    const int mw = wc.k * wc.k * wc.c, words = (mw + 63) / 64;
    std::vector<std::uint64_t> want(windows.size() / static_cast<size_t>(mw) * static_cast<size_t>(wc.bits * words));
    for (size_t v = 0; v * static_cast<size_t>(mw) < windows.size(); ++v)
      pack_planes(SimdPath::Portable, &windows[v * static_cast<size_t>(mw)], mw, wc.bits, words,
                  &want[v * static_cast<size_t>(wc.bits * words)]);
    for (SimdPath path : available_simd_paths()) {
      const WindowPlanes p = sliding_window_planes(wc, in, path);
      CHECK(p.windows == static_cast<size_t>(frames * wc.out_h() * wc.out_w()));
      CHECK(p.words == words);
      CHECK(!p.too_wide);
      CHECK(p.planes == want);
    }
    // The windows as bytes: the values themselves.
    const WindowBytes wb = sliding_window_bytes(wc, in);
    CHECK(wb.windows == static_cast<size_t>(frames * wc.out_h() * wc.out_w()));
    CHECK(!wb.too_wide);
    CHECK(std::vector<std::int64_t>(wb.bytes.begin(), wb.bytes.end()) == windows);
    // Through the registry, against the two engines' models in turn.
    MvtuConfig mc;
    mc.mw = mw;
    mc.mh = 10;
    mc.simd = mw;
    mc.pe = 10;
    mc.input = wc.bits == 1 ? InputKind::Binary : InputKind::Unsigned;
    mc.in_bits = wc.bits;
    EngineData d;
    d.weights = std::make_shared<const BinaryMatrix>(BinaryMatrix::random(mc.mh, mw, 4));
    REQUIRE(fuses(wc, mc));
    CHECK(fused_forward(wc, mc, d, {in}) == engine_forward(mc, d, engine_forward(wc, {}, {in})));
    WindowMaxConfig xc;
    xc.windows = wc.out_h() * wc.out_w();
    xc.k = wc.k;
    xc.c = wc.c;
    xc.simd = wc.simd;
    xc.bits = wc.bits;
    REQUIRE(fuses(wc, xc));
    CHECK(fused_forward(wc, xc, {}, {in}) == engine_forward(xc, {}, engine_forward(wc, {}, {in})));
    // A value too wide for the MVTU is refused naming it, as the MVTU's own model refuses it.
    auto bad = in;
    bad[bad.size() / 2] = std::int64_t{1} << wc.bits;
    mc.name = "conv_x";
    CHECK_THROWS_WITH_AS(fused_forward(wc, mc, d, {bad}), doctest::Contains("conv_x: input value"), UserError);
  }
  // Pairs that do not fuse: other bits, another vector size, another kind.
  MvtuConfig m8;
  m8.mw = 27;
  m8.mh = 4;
  m8.simd = 27;
  m8.pe = 4;
  m8.input = InputKind::Unsigned;
  m8.in_bits = 8;
  CHECK(fuses(window(5, 5, 3, 3, 1, 1, 3, 8), m8));
  CHECK_FALSE(fuses(window(5, 5, 3, 3, 1, 1, 3, 2), m8));
  CHECK_FALSE(fuses(window(5, 5, 4, 3, 1, 1, 4, 8), m8));
  CHECK_FALSE(fuses(m8, window(5, 5, 3, 3, 1, 1, 3, 8)));
}

TEST_CASE("sliding window parameters are checked with a message that says what is required") {
  CHECK_THROWS_WITH_AS(window(8, 8, 6, 3, 1, 1, 4, 2).check(), doctest::Contains("requires C % SIMD == 0"), UserError);
  CHECK_THROWS_WITH_AS(window(8, 8, 4, 3, 1, 3, 4, 2).check(), doctest::Contains("requires P < K"), UserError);
  CHECK_THROWS_WITH_AS(window(2, 8, 4, 5, 1, 1, 4, 2).check(), doctest::Contains("K <= H + 2P"), UserError);
  CHECK_THROWS_WITH_AS(window(8, 8, 4, 3, 1, 1, 2, 2, 3).check(), doctest::Contains("SIMD == C"), UserError);
  CHECK_THROWS_WITH_AS(window(8, 8, 4, 3, 1, 1, 4, 2, 2).check(), doctest::Contains("K % columns == 0"), UserError);
  CHECK_THROWS_WITH_AS(window(8, 8, 4, 3, 1, 1, 4, 2, 1, 3).check(), doctest::Contains("columns == K"), UserError);
  CHECK_THROWS_WITH_AS(window(8, 8, 4, 4, 1, 1, 4, 2, 4, 3).check(), doctest::Contains("K % rows == 0"), UserError);
  CHECK_THROWS_WITH_AS(window(8, 6, 4, 3, 1, 1, 4, 2, 1, 1, 4).check(), doctest::Contains("power of two dividing W"), UserError);
  CHECK_THROWS_WITH_AS(window(8, 8, 4, 3, 1, 1, 2, 2, 1, 1, 2).check(), doctest::Contains("in_pixels > 1"), UserError);
  CHECK_THROWS_WITH_AS(window(8, 8, 4, 3, 1, 1, 4, 2, 3, 1, 1, 2).check(), doctest::Contains("rows = columns = K"), UserError);
  CHECK_THROWS_WITH_AS(window(8, 7, 4, 3, 1, 1, 4, 2, 3, 3, 1, 2).check(), doctest::Contains("OW (7) % windows (2) == 0"), UserError);
}

TEST_CASE("SWU RTL == functional model, cycles per frame == timing model") {
  const std::vector<WindowConfig> grid = {
      window(5, 7, 3, 3, 1, 1, 3, 2),  // odd sizes, C = 3 in one element
      window(6, 6, 4, 3, 2, 0, 2, 2),  // stride 2, channel folding 2
      window(7, 5, 2, 5, 1, 2, 1, 1),  // K = 5, 1-bit values, one channel per element
      window(9, 9, 3, 7, 2, 3, 3, 2),  // K = 7, S = 2, P = 3 (ResNet's first layer shape)
      window(4, 4, 5, 1, 1, 0, 5, 2),  // K = 1
      window(8, 6, 2, 2, 2, 0, 2, 2),  // non-overlapping 2x2 (max pool's window)
      window(7, 8, 2, 2, 3, 1, 2, 2),  // stride larger than the window
      window(9, 9, 3, 7, 2, 3, 3, 8, 7),  // ResNet's first layer with a window row per element
      window(6, 7, 2, 3, 1, 1, 2, 2, 3),  // 3 pixels per element, padding on both sides
      window(9, 8, 3, 7, 2, 3, 3, 8, 7, 7, 4),  // ResNet's first layer: the whole window per element, 4 pixels per input
      window(6, 8, 2, 3, 1, 1, 2, 2, 3, 3),     // the whole 3x3 window, padding on all sides
      window(7, 8, 2, 3, 2, 0, 2, 1, 1, 1, 2),  // 2 pixels per input element, one window pixel per output element
      window(9, 8, 3, 7, 2, 3, 3, 8, 7, 7, 4, 2),  // two whole windows per element (MMV): ResNet's first layer at M = 2
      window(6, 6, 2, 3, 1, 1, 2, 2, 3, 3, 1, 3),  // three whole 3x3 windows per element, stride 1
  };
  for (const WindowConfig& wc : grid) {
    SUBCASE(describe(wc).c_str()) {
      EngineTiming tm = sliding_window_timing(wc);
      dsl::Kernel k = sliding_window_kernel(wc);
      auto run = [&](int frames, std::vector<std::int64_t>& expected) {
        auto in = random_values(static_cast<size_t>(frames * wc.h * wc.w * wc.c), wc.bits, 5);
        dsl::RunSpec s;
        s.ticks = static_cast<std::uint64_t>(frames * tm.ticks_per_frame);
        s.inputs["in"] = pack_lanes(in, wc.lanes());
        expected = sliding_window_forward(wc, in);
        return s;
      };
      std::vector<std::int64_t> e1, e3;
      dsl::RunSpec one = run(1, e1), three = run(3, e3);
      // the interpreter agrees with the functional model on the tick count of the timing model
      dsl::RunResult ref = dsl::interpret(k, three);
      CHECK(unpack_lanes(ref.outputs.at("out"), wc.out_lanes()) == e3);
      testing::RtlCheck r = testing::check_rtl(k, one, three, "out", pack_lanes(e3, wc.out_lanes()));
      CHECK(r.cycles_per_frame == tm.ticks_per_frame);
      const std::int64_t outputs =
          static_cast<std::int64_t>(wc.out_h()) * (wc.out_w() / wc.windows) * (wc.k / wc.rows) * (wc.k / wc.columns) * wc.cf();
      MESSAGE(describe(wc) << ": cycles per frame RTL " << r.cycles_per_frame << ", model " << tm.ticks_per_frame
                           << " (" << outputs << " output elements, " << wc.h * (wc.w / wc.in_pixels) * wc.cf() << " input elements)");
    }
  }
}

TEST_CASE("the wide window modes lint clean and synthesize with no latches") {
  // The whole window with two pixels per input element, and whole window rows of a max pool
  // with its window max over the element's pixels.
  WindowConfig whole = window(9, 8, 3, 3, 1, 1, 3, 8, 3, 3, 2);
  whole.name = "swu_whole";
  WindowConfig pool = window(8, 8, 4, 2, 2, 0, 4, 2, 2, 2, 4);
  pool.name = "swu_pool";
  WindowMaxConfig max{.windows = pool.out_h() * pool.out_w(), .k = 2, .c = 4, .simd = 4, .bits = 2, .pixels = 4, .name = "max_pixels"};
  for (const dsl::Kernel& k : std::vector<dsl::Kernel>{sliding_window_kernel(whole), sliding_window_kernel(pool), window_max_kernel(max)}) {
    SUBCASE(k.name.c_str()) {
      dsl::VerilogModule m = dsl::emit_verilog(dsl::compile_kernel(k));
      const std::string lint = dsl::verilator_lint(m);
      INFO(lint);
      CHECK(lint.empty());
      dsl::SynthResult r = dsl::yosys_synth(m);
      INFO(r.log.substr(r.log.size() > 3000 ? r.log.size() - 3000 : 0));
      CHECK(r.ok);
      CHECK(r.latches == 0);
    }
  }
}
