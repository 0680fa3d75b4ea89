// The MVTU: functional model == golden over a grid of foldings and precisions; RTL == functional
// model under random stalls, with cycles per frame equal to the timing model's.
#include "engine_test_support.hpp"
#include "dsl/bits.hpp"
#include "dsl/errors.hpp"
#include "engines/mvtu.hpp"
#include "golden/golden.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace qdf;
using namespace qdf::engines;

namespace {

std::uint64_t next(std::uint64_t& x) { return dsl::bits::splitmix64(x); }

std::vector<std::int64_t> random_inputs(const MvtuConfig& c, int vectors, std::uint64_t seed) {
  std::vector<std::int64_t> v;
  for (int i = 0; i < vectors * c.mw; ++i) v.push_back(static_cast<std::int64_t>(next(seed) % (1ull << c.in_bits)));
  return v;
}

Thresholds random_thresholds(const MvtuConfig& c, std::uint64_t seed) {
  Thresholds t;
  t.channels = c.mh;
  t.levels = c.out_bits ? (1 << c.out_bits) - 1 : 0;
  const std::int64_t range = c.max_abs_acc();
  for (int ch = 0; ch < c.mh; ++ch) {
    std::vector<std::int64_t> lv;
    // a few thresholds outside the reachable range, to exercise clamping
    for (int i = 0; i < t.levels; ++i)
      lv.push_back(static_cast<std::int64_t>(next(seed) % static_cast<std::uint64_t>(2 * range + 5)) - range - 2);
    std::sort(lv.begin(), lv.end());
    t.t.insert(t.t.end(), lv.begin(), lv.end());
    t.flip.push_back(next(seed) % 4 == 0);
  }
  return t;
}

std::vector<std::int64_t> golden_mvtu(const MvtuConfig& c, const BinaryMatrix& w, const Thresholds& t,
                                      const std::vector<std::int64_t>& in) {
  golden::Matrix W(c.mh, c.mw);
  for (int r = 0; r < c.mh; ++r)
    for (int k = 0; k < c.mw; ++k) W(r, k) = w.at(r, k) ? 1 : -1;
  std::vector<std::int64_t> out;
  for (size_t v = 0; v < in.size() / static_cast<size_t>(c.mw); ++v) {
    golden::Vector x(c.mw);
    for (int k = 0; k < c.mw; ++k) {
      std::int64_t a = in[v * static_cast<size_t>(c.mw) + static_cast<size_t>(k)];
      x(k) = c.input == InputKind::Binary ? (a ? 1 : -1) : a;
    }
    golden::Vector y = golden::matvec(W, x);
    for (int r = 0; r < c.mh; ++r) {
      if (!c.out_bits) {
        out.push_back(y(r));
        continue;
      }
      std::vector<std::int64_t> th(t.of(r), t.of(r) + t.levels);
      out.push_back(golden::activate(y(r), t.flip[static_cast<size_t>(r)], th));
    }
  }
  return out;
}

std::string describe(const MvtuConfig& c) {
  return fmt::format("MW={} MH={} SIMD={} PE={} in={}{} out_bits={} pixels={}", c.mw, c.mh, c.simd, c.pe,
                     c.input == InputKind::Binary ? "binary" : "unsigned", c.in_bits, c.out_bits, c.pixels);
}

MvtuConfig config(int mw, int mh, int simd, int pe, InputKind in, int in_bits, int out_bits, int pixels = 1) {
  return {.mw = mw, .mh = mh, .simd = simd, .pe = pe, .input = in, .in_bits = in_bits, .out_bits = out_bits, .pixels = pixels};
}

}  // namespace

TEST_CASE("MVTU functional model == golden over foldings, precisions and outputs, on every SIMD path") {
  const std::vector<std::array<int, 4>> shapes = {
      {64, 16, 64, 16}, {64, 16, 8, 4}, {27, 10, 3, 5}, {130, 6, 13, 2}, {200, 7, 40, 7}, {9, 4, 1, 1}, {1100, 9, 100, 9}};
  int checked = 0;
  const std::vector<SimdPath> paths = available_simd_paths();
  MESSAGE("SIMD paths on this CPU: ", paths.size(), " (best: ", simd_path_name(best_simd_path()), ")");
  for (SimdPath path : paths)
    for (auto [mw, mh, simd, pe] : shapes)
      for (auto [kind, bits] : {std::pair{InputKind::Binary, 1}, {InputKind::Unsigned, 2}, {InputKind::Unsigned, 8}})
        for (int out_bits : {0, 1, 2}) {
          MvtuConfig c = config(mw, mh, simd, pe, kind, bits, out_bits);
          BinaryMatrix w = BinaryMatrix::random(mh, mw, static_cast<std::uint64_t>(mw * 131 + mh));
          Thresholds t = random_thresholds(c, 5);
          auto in = random_inputs(c, 7, static_cast<std::uint64_t>(mw + pe));
          auto got = mvtu_forward(c, w, out_bits ? &t : nullptr, in, path);
          auto want = golden_mvtu(c, w, t, in);
          INFO(describe(c), " on ", simd_path_name(path));
          REQUIRE(got == want);
          ++checked;
        }
  CHECK(checked == 63 * static_cast<int>(paths.size()));
}

TEST_CASE("MVTU parameters are checked with a message that says what is required") {
  MvtuConfig c = config(64, 10, 8, 4, InputKind::Binary, 1, 0);
  CHECK_THROWS_WITH_AS(c.check(), doctest::Contains("mvtu<MW=64, MH=10, SIMD=8, PE=4> requires MH % PE == 0"), UserError);
  c = config(60, 8, 16, 4, InputKind::Binary, 1, 0);
  CHECK_THROWS_WITH_AS(c.check(), doctest::Contains("requires MW % SIMD == 0"), UserError);
  c = config(64, 8, 16, 4, InputKind::Binary, 1, 3);
  CHECK_THROWS_WITH_AS(c.check(), doctest::Contains("out_bits of 0 (raw), 1 or 2"), UserError);
  c = config(64, 8, 16, 8, InputKind::Binary, 1, 0, 2);
  CHECK_THROWS_WITH_AS(c.check(), doctest::Contains("an unfolded MVTU"), UserError);
  c = config(64, 8, 16, 4, InputKind::Binary, 1, 0);
  CHECK_THROWS_WITH_AS(mvtu_kernel(c, BinaryMatrix::random(8, 32, 1)), doctest::Contains("weights are 8x32, expected MH x MW = 8x64"),
                       UserError);
}

TEST_CASE("MVTU RTL == functional model, and cycles per frame == NF*SF") {
  const std::vector<MvtuConfig> cases = {
      config(64, 16, 64, 16, InputKind::Binary, 1, 0),   // PE = MH, SIMD = MW: one tick per vector
      config(64, 16, 16, 4, InputKind::Binary, 1, 1),    // NF = 4, SF = 4, 1-bit thresholds
      config(27, 10, 9, 5, InputKind::Unsigned, 2, 2),   // 2-bit inputs and outputs, C not a power of two
      config(48, 6, 3, 2, InputKind::Unsigned, 8, 2),    // 8-bit first layer
      config(96, 3, 32, 1, InputKind::Unsigned, 2, 0),   // raw output, one PE
      config(16, 12, 16, 4, InputKind::Binary, 1, 2),    // NF = 3, SF = 1: the input buffer of one element
      config(27, 8, 27, 8, InputKind::Unsigned, 8, 2, 2),  // two pixels per element (MMV), a first layer's whole window
      config(18, 4, 18, 4, InputKind::Binary, 1, 0, 3),    // three pixels, raw outputs
  };
  for (const MvtuConfig& c : cases) {
    SUBCASE(describe(c).c_str()) {
      BinaryMatrix w = BinaryMatrix::random(c.mh, c.mw, 42);
      Thresholds t = random_thresholds(c, 3);
      const Thresholds* tp = c.out_bits ? &t : nullptr;
      dsl::Kernel k = mvtu_kernel(c, w, tp);
      EngineTiming tm = mvtu_timing(c);
      auto run = [&](int frames, std::vector<std::int64_t>& expected) {
        auto in = random_inputs(c, frames * c.pixels, 9);  // a frame is `pixels` vectors
        dsl::RunSpec s;
        s.ticks = static_cast<std::uint64_t>(frames * tm.ticks_per_frame);
        s.inputs["in"] = pack_lanes(in, c.in_lanes());
        expected = mvtu_forward(c, w, tp, in);
        return s;
      };
      std::vector<std::int64_t> e1, e3;
      dsl::RunSpec one = run(1, e1), three = run(3, e3);
      testing::RtlCheck r = testing::check_rtl(k, one, three, "out", pack_lanes(e3, c.out_lanes()));
      CHECK(r.cycles_per_frame == tm.ticks_per_frame);
      MESSAGE(describe(c) << ": cycles per frame RTL " << r.cycles_per_frame << ", model " << tm.ticks_per_frame
                          << "; latency " << r.latency_cycles << " cycles");
    }
  }
}

// Thresholds placed exactly on accumulators that the inputs produce (every one of them met by
// some vector), half the rows with a negative scale (flip). The expected outputs are counted with
// std::upper_bound over the thresholds, not by the rule's loop, so that a `>` for `>=` in the
// functional model, the golden model or the RTL fails this test.
TEST_CASE("MVTU with accumulators on its thresholds: functional, golden and RTL give the rule acc >= T") {
  const std::vector<MvtuConfig> cases = {
      config(16, 4, 4, 2, InputKind::Binary, 1, 2),
      config(16, 4, 16, 4, InputKind::Binary, 1, 1),
      config(9, 4, 3, 2, InputKind::Unsigned, 2, 2),
      config(6, 2, 6, 1, InputKind::Unsigned, 8, 2),
  };
  for (const MvtuConfig& c : cases) {
    SUBCASE(describe(c).c_str()) {
      const int vectors = 16, levels = (1 << c.out_bits) - 1;
      const BinaryMatrix w = BinaryMatrix::random(c.mh, c.mw, 77);
      const auto in = random_inputs(c, vectors, 31);
      MvtuConfig raw = c;
      raw.out_bits = 0;
      const auto acc = golden_mvtu(raw, w, Thresholds{}, in);  // vectors x MH accumulators
      Thresholds t;
      t.channels = c.mh;
      t.levels = levels;
      for (int r = 0; r < c.mh; ++r) {
        const bool flip = r % 2 == 1;
        std::vector<std::int64_t> seen;  // the values compared, flip applied
        for (int v = 0; v < vectors; ++v) {
          const std::int64_t a = acc[static_cast<size_t>(v * c.mh + r)];
          seen.push_back(flip ? -a : a);
        }
        std::sort(seen.begin(), seen.end());
        seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
        REQUIRE_MESSAGE(static_cast<int>(seen.size()) >= levels, "row ", r, " has too few distinct accumulators");
        for (int l = 0; l < levels; ++l)
          t.t.push_back(seen[static_cast<size_t>((l + 1) * (static_cast<int>(seen.size()) - 1) / (levels + 1))]);
        t.flip.push_back(flip);
      }
      std::vector<std::int64_t> want;
      int on_threshold = 0;
      for (int v = 0; v < vectors; ++v)
        for (int r = 0; r < c.mh; ++r) {
          const std::int64_t a = acc[static_cast<size_t>(v * c.mh + r)], x = t.flip[static_cast<size_t>(r)] ? -a : a;
          want.push_back(std::upper_bound(t.of(r), t.of(r) + levels, x) - t.of(r));
          on_threshold += std::binary_search(t.of(r), t.of(r) + levels, x);
        }
      CHECK(on_threshold >= c.mh * levels);
      CHECK(mvtu_forward(c, w, &t, in) == want);
      CHECK(golden_mvtu(c, w, t, in) == want);
      dsl::Kernel k = mvtu_kernel(c, w, &t);
      const EngineTiming tm = mvtu_timing(c);
      dsl::RunSpec one, all;
      one.ticks = static_cast<std::uint64_t>(tm.ticks_per_frame);
      one.inputs["in"] = pack_lanes(std::vector<std::int64_t>(in.begin(), in.begin() + c.mw), c.in_lanes());
      all.ticks = static_cast<std::uint64_t>(vectors * tm.ticks_per_frame);
      all.inputs["in"] = pack_lanes(in, c.in_lanes());
      testing::check_rtl(k, one, all, "out", pack_lanes(want, c.out_lanes()));
    }
  }
}
