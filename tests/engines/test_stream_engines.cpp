// The smaller engines: functional models against the golden reference (or a naive loop where the
// engine only moves data), RTL against the functional model under random stalls, cycles per
// frame against the timing model.
#include "dsl/errors.hpp"
#include "engine_test_support.hpp"
#include "dsl/verilator_runner.hpp"
#include "dsl/yosys_runner.hpp"
#include "engines/fifo.hpp"
#include "engines/sliding_window.hpp"
#include "engines/stream_engines.hpp"
#include "golden/golden.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace qdf;
using namespace qdf::engines;

namespace {

std::vector<std::int64_t> random_values(size_t n, int bits, bool is_signed, std::uint64_t seed) {
  std::vector<std::int64_t> v;
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    std::int64_t x = static_cast<std::int64_t>((seed >> 20) % (1ull << bits));
    v.push_back(is_signed ? x - (std::int64_t{1} << (bits - 1)) : x);
  }
  return v;
}

// Runs frames of one engine through the RTL: `make(frames)` gives inputs and expected outputs.
struct Frames {
  dsl::RunSpec spec;
  std::map<std::string, dsl::Stream> expected;
};

void rtl_matches(const dsl::Kernel& k, const EngineTiming& tm, const std::function<Frames(int)>& make) {
  Frames one = make(1), three = make(3);
  one.spec.ticks = static_cast<std::uint64_t>(tm.ticks_per_frame);
  three.spec.ticks = static_cast<std::uint64_t>(3 * tm.ticks_per_frame);
  testing::RtlCheck r = testing::check_rtl(k, one.spec, three.spec, three.expected);
  CHECK(r.cycles_per_frame == tm.ticks_per_frame);
  MESSAGE(k.name << ": cycles per frame RTL " << r.cycles_per_frame << ", model " << tm.ticks_per_frame << "; latency "
                 << r.latency_cycles);
}

Thresholds random_thresholds(int channels, int levels, std::int64_t range, std::uint64_t seed) {
  Thresholds t;
  t.channels = channels;
  t.levels = levels;
  for (int c = 0; c < channels; ++c) {
    auto v = random_values(static_cast<size_t>(levels), 16, false, seed + static_cast<std::uint64_t>(c));
    for (auto& x : v) x = x % (2 * range + 3) - range - 1;
    std::sort(v.begin(), v.end());
    t.t.insert(t.t.end(), v.begin(), v.end());
    t.flip.push_back(c % 3 == 1);
  }
  return t;
}

}  // namespace

TEST_CASE("the threshold table applies threshold_count to every channel, to accumulators and to an MVTU's match counts") {
  for (int levels : {1, 3, 7}) {
    Thresholds t = random_thresholds(37, levels, 300, 3 + static_cast<std::uint64_t>(levels));
    for (size_t c = 0; c < t.flip.size(); c += 3) t.flip[c] = 1;
    const ThresholdTable table(t);
    const auto acc = random_values(37, 10, true, 21);
    auto got = acc;
    table.apply(got.data());
    auto matches = random_values(37, 9, false, 22);
    auto got_m = matches;
    const std::int64_t q = 300;
    table.apply_to_matches(got_m.data(), q);
    for (int c = 0; c < 37; ++c) {
      CAPTURE(c);
      CHECK(got[static_cast<size_t>(c)] == threshold_count(acc[static_cast<size_t>(c)], t.flip[static_cast<size_t>(c)] != 0, t.of(c), levels));
      CHECK(got_m[static_cast<size_t>(c)] ==
            threshold_count(2 * matches[static_cast<size_t>(c)] - q, t.flip[static_cast<size_t>(c)] != 0, t.of(c), levels));
    }
  }
}

TEST_CASE("multi-threshold activation: functional == golden, RTL == functional") {
  for (int out_bits : {1, 2}) {
    ThresholdConfig c;
    c.channels = 6;
    c.pe = 3;
    c.pixels = 5;
    c.in_bits = 9;
    c.out_bits = out_bits;
    Thresholds t = random_thresholds(6, (1 << out_bits) - 1, 256, 7);
    auto in = random_values(static_cast<size_t>(c.pixels * c.channels), c.in_bits, true, 3);
    auto got = threshold_forward(c, t, in);
    for (size_t i = 0; i < in.size(); ++i) {
      int ch = static_cast<int>(i % 6);
      REQUIRE(got[i] == golden::activate(in[i], t.flip[static_cast<size_t>(ch)], std::vector<std::int64_t>(t.of(ch), t.of(ch) + t.levels)));
    }
    rtl_matches(threshold_kernel(c, t), threshold_timing(c), [&](int frames) {
      auto v = random_values(static_cast<size_t>(frames * c.pixels * c.channels), c.in_bits, true, 11);
      Frames f;
      f.spec.inputs["in"] = pack_lanes(v, c.in_lanes());
      f.expected["out"] = pack_lanes(threshold_forward(c, t, v), c.out_lanes());
      return f;
    });
  }
}

// Accumulators exactly on every threshold and one either side, with both signs of the scale:
// pixel p holds, for each channel, T_(p/3) + (p%3 - 1) (negated where the channel flips). The
// expected outputs follow from that construction alone (T_i - 1 counts i thresholds, T_i and
// T_i + 1 count i + 1), so a `>` for `>=` in the golden model, the functional model or the RTL fails.
TEST_CASE("multi-threshold activation with accumulators on its thresholds: functional, golden and RTL give the rule") {
  for (int out_bits : {1, 2}) {
    const int levels = (1 << out_bits) - 1, channels = 4;
    ThresholdConfig c;
    c.channels = channels;
    c.pe = 2;
    c.pixels = 3 * levels;
    c.in_bits = 8;
    c.out_bits = out_bits;
    c.name = fmt::format("thresholds_on_boundaries_{}", out_bits);
    Thresholds t;
    t.channels = channels;
    t.levels = levels;
    for (int ch = 0; ch < channels; ++ch) {
      for (int i = 0; i < levels; ++i) t.t.push_back(ch * 7 - 12 + 5 * i);  // ascending, 5 apart, both signs
      t.flip.push_back(ch % 2 == 1);
    }
    std::vector<std::int64_t> in, want;
    for (int p = 0; p < c.pixels; ++p)
      for (int ch = 0; ch < channels; ++ch) {
        const int i = p / 3, delta = p % 3 - 1;
        const std::int64_t v = t.of(ch)[i] + delta;
        in.push_back(t.flip[static_cast<size_t>(ch)] ? -v : v);
        want.push_back(delta < 0 ? i : i + 1);
      }
    CHECK(threshold_forward(c, t, in) == want);
    for (size_t k = 0; k < in.size(); ++k) {
      const int ch = static_cast<int>(k % static_cast<size_t>(channels));
      CHECK(golden::activate(in[k], t.flip[static_cast<size_t>(ch)] != 0, std::vector<std::int64_t>(t.of(ch), t.of(ch) + levels)) ==
            want[k]);
    }
    rtl_matches(threshold_kernel(c, t), threshold_timing(c), [&](int frames) {
      Frames f;
      std::vector<std::int64_t> v, e;
      for (int r = 0; r < frames; ++r) {
        v.insert(v.end(), in.begin(), in.end());
        e.insert(e.end(), want.begin(), want.end());
      }
      f.spec.inputs["in"] = pack_lanes(v, c.in_lanes());
      f.expected["out"] = pack_lanes(e, c.out_lanes());
      return f;
    });
  }
}

TEST_CASE("max pool as sliding window then window max: functional == golden, RTL == functional") {
  // (K, S, SIMD, window columns, window rows): one pixel per element, a window row, the whole window
  for (auto [k, s, simd, columns, rows] : {std::tuple{2, 2, 2, 1, 1}, {3, 2, 2, 1, 1}, {3, 2, 4, 3, 1}, {2, 2, 4, 2, 2}}) {
    CAPTURE(k);
    CAPTURE(columns);
    CAPTURE(rows);
    WindowConfig wc;
    wc.h = 7;
    wc.w = 9;
    wc.c = 4;
    wc.k = k;
    wc.s = s;
    wc.simd = simd;
    wc.bits = 2;
    wc.columns = columns;
    wc.rows = rows;
    WindowMaxConfig mc;
    mc.windows = wc.out_h() * wc.out_w();
    mc.k = k;
    mc.c = 4;
    mc.simd = simd;
    mc.bits = 2;
    mc.pixels = columns * rows;
    auto in = random_values(static_cast<size_t>(wc.h * wc.w * wc.c), 2, false, 5);
    auto got = window_max_forward(mc, sliding_window_forward(wc, in));
    golden::Map m{wc.h, wc.w, wc.c, in};
    CHECK(got == golden::maxpool(m, k, s).v);
    rtl_matches(window_max_kernel(mc), window_max_timing(mc), [&](int frames) {
      auto v = random_values(static_cast<size_t>(frames * wc.h * wc.w * wc.c), 2, false, 13);
      auto windows = sliding_window_forward(wc, v);
      Frames f;
      f.spec.inputs["in"] = pack_lanes(windows, mc.in_lanes());
      f.expected["out"] = pack_lanes(window_max_forward(mc, windows), mc.lanes());
      return f;
    });
  }
}

TEST_CASE("global sum pool: functional == golden, RTL == functional") {
  GlobalPoolConfig c;
  c.h = 3;
  c.w = 5;
  c.c = 6;
  c.simd = 3;
  c.bits = 2;
  auto in = random_values(static_cast<size_t>(c.h * c.w * c.c), 2, false, 1);
  CHECK(global_pool_forward(c, in) == golden::global_sum(golden::Map{c.h, c.w, c.c, in}));
  rtl_matches(global_pool_kernel(c), global_pool_timing(c), [&](int frames) {
    auto v = random_values(static_cast<size_t>(frames * c.h * c.w * c.c), 2, false, 2);
    Frames f;
    f.spec.inputs["in"] = pack_lanes(v, c.in_lanes());
    f.expected["out"] = pack_lanes(global_pool_forward(c, v), c.out_lanes());
    return f;
  });
}

TEST_CASE("residual add: main + skip * 2^shift, RTL == functional") {
  ResidualAddConfig c;
  c.elements = 12;
  c.lanes = 4;
  c.main_bits = 10;
  c.skip_bits = 2;
  c.shift = 3;
  auto main = random_values(48, 10, true, 4), skip = random_values(48, 2, false, 5);
  auto got = residual_add_forward(c, main, skip);
  for (size_t i = 0; i < main.size(); ++i) REQUIRE(got[i] == main[i] + skip[i] * 8);
  rtl_matches(residual_add_kernel(c), residual_add_timing(c), [&](int frames) {
    auto m = random_values(static_cast<size_t>(frames * 48), 10, true, 6), s = random_values(static_cast<size_t>(frames * 48), 2, false, 7);
    Frames f;
    f.spec.inputs["main"] = pack_lanes(m, c.main_lanes());
    f.spec.inputs["skip"] = pack_lanes(s, c.skip_lanes());
    f.expected["out"] = pack_lanes(residual_add_forward(c, m, s), c.out_lanes());
    return f;
  });
}

TEST_CASE("residual add with a signed skip (a projection conv's accumulators), RTL == functional") {
  ResidualAddConfig c{.elements = 6, .lanes = 2, .main_bits = 9, .skip_bits = 7, .shift = 1, .skip_signed = true};
  CHECK(c.out_bits() == 10);
  auto main = random_values(12, 9, true, 14), skip = random_values(12, 7, true, 15);
  auto got = residual_add_forward(c, main, skip);
  for (size_t i = 0; i < main.size(); ++i) REQUIRE(got[i] == main[i] + skip[i] * 2);
  rtl_matches(residual_add_kernel(c), residual_add_timing(c), [&](int frames) {
    auto m = random_values(static_cast<size_t>(frames * 12), 9, true, 16), s = random_values(static_cast<size_t>(frames * 12), 7, true, 17);
    Frames f;
    f.spec.inputs["main"] = pack_lanes(m, c.main_lanes());
    f.spec.inputs["skip"] = pack_lanes(s, c.skip_lanes());
    f.expected["out"] = pack_lanes(residual_add_forward(c, m, s), c.out_lanes());
    return f;
  });
}

TEST_CASE("stream fork copies every element to both outputs") {
  ForkConfig c{20, 12, "fork"};
  rtl_matches(fork_kernel(c), fork_timing(c), [&](int frames) {
    Frames f;
    f.spec.inputs["in"] = dsl::random_stream(12, static_cast<size_t>(frames * 20), 3);
    f.expected["a"] = f.spec.inputs["in"];
    f.expected["b"] = f.spec.inputs["in"];
    return f;
  });
}

TEST_CASE("width converter: the same values in the same order, in other lanes") {
  for (auto [in_l, out_l] : {std::pair{6, 2}, std::pair{2, 6}, std::pair{4, 4}}) {
    WidthConverterConfig c;
    c.values = 24;
    c.in_lanes = in_l;
    c.out_lanes = out_l;
    c.bits = 3;
    c.name = fmt::format("dwc_{}_to_{}", in_l, out_l);
    rtl_matches(width_converter_kernel(c), width_converter_timing(c), [&](int frames) {
      auto v = random_values(static_cast<size_t>(frames * 24), 3, false, 8);
      Frames f;
      f.spec.inputs["in"] = pack_lanes(v, {in_l, 3, false});
      f.expected["out"] = pack_lanes(v, {out_l, 3, false});
      return f;
    });
  }
  WidthConverterConfig bad;
  bad.values = 12;
  bad.in_lanes = 4;
  bad.out_lanes = 6;
  CHECK_THROWS_WITH_AS(bad.check(), doctest::Contains("convert through 2 lanes"), UserError);
}

TEST_CASE("label select: top-1 and top-k indices, ties to the lower index") {
  for (auto [pe, k] : {std::pair{5, 1}, std::pair{1, 3}, std::pair{1, 1}}) {
    LabelSelectConfig c;
    c.classes = 10;
    c.pe = pe;
    c.k = k;
    c.score_bits = 4;  // few values: many ties
    auto s = random_values(40, 4, true, 9);
    auto got = label_select_forward(c, s);
    for (size_t f = 0; f < 4; ++f) {
      std::vector<std::int64_t> sc(s.begin() + static_cast<long>(f * 10), s.begin() + static_cast<long>(f * 10 + 10));
      std::vector<bool> used(10, false);
      for (int j = 0; j < k; ++j) {  // naive: repeated first maximum among unused
        int best = -1;
        for (int i = 0; i < 10; ++i)
          if (!used[static_cast<size_t>(i)] && (best < 0 || sc[static_cast<size_t>(i)] > sc[static_cast<size_t>(best)])) best = i;
        used[static_cast<size_t>(best)] = true;
        REQUIRE(got[f * static_cast<size_t>(k) + static_cast<size_t>(j)] == best);
      }
    }
    c.name = fmt::format("label_select_pe{}_k{}", pe, k);
    rtl_matches(label_select_kernel(c), label_select_timing(c), [&](int frames) {
      auto v = random_values(static_cast<size_t>(frames * 10), 4, true, 10);
      Frames f;
      f.spec.inputs["in"] = pack_lanes(v, c.in_lanes());
      f.expected["out"] = pack_lanes(label_select_forward(c, v), c.out_lanes());
      return f;
    });
  }
}

// Scores of an unsigned stream (a 2-bit activation's 0..3, a global pool's sums) are compared as
// unsigned: 2 and 3 beat 0 and 1, though their top bit is set. A 1-bit stream (a binary
// activation, 0 meaning -1) is unsigned too. Each frame below has a winner with its top bit set
// and ties among such scores.
TEST_CASE("label select of unsigned scores: values with the top bit set are the largest, RTL == functional") {
  for (auto [bits, pe, k] : {std::tuple{2, 5, 1}, {2, 1, 3}, {6, 2, 1}, {1, 5, 1}, {1, 1, 2}}) {
    LabelSelectConfig c;
    c.classes = 10;
    c.pe = pe;
    c.k = k;
    c.score_bits = bits;
    c.score_signed = false;
    const std::int64_t top = (std::int64_t{1} << bits) - 1, half = std::int64_t{1} << (bits - 1);
    // Frame 0 by hand: the maximum at index 7, the runner-up (a tie at half) at 2 and 9, small
    // scores elsewhere.
    std::vector<std::int64_t> s(10, 0);
    s[7] = top;
    s[2] = s[9] = half;
    const std::vector<std::int64_t> want0 = bits == 1 ? std::vector<std::int64_t>{2, 7, 9} : std::vector<std::int64_t>{7, 2, 9};
    auto got = label_select_forward(c, s);
    for (int j = 0; j < k; ++j) CHECK(got[static_cast<size_t>(j)] == want0[static_cast<size_t>(j)]);
    c.name = fmt::format("label_select_u{}_pe{}_k{}", bits, pe, k);
    rtl_matches(label_select_kernel(c), label_select_timing(c), [&](int frames) {
      auto v = random_values(static_cast<size_t>(frames * 10), bits, false, 12);
      std::copy(s.begin(), s.end(), v.begin());
      Frames f;
      f.spec.inputs["in"] = pack_lanes(v, c.in_lanes());
      f.expected["out"] = pack_lanes(label_select_forward(c, v), c.out_lanes());
      return f;
    });
  }
}

TEST_CASE("FIFO primitive: every element once, in order, under random stalls, and it lints and synthesizes") {
  for (int depth : {2, 5, 600}) {
    FifoConfig c;
    c.width = 10;
    c.depth = depth;
    c.name = fmt::format("fifo_d{}", depth);
    dsl::VerilogModule m = fifo_module(c);
    CHECK(dsl::verilator_lint(m).empty());
    dsl::SynthResult syn = dsl::yosys_synth(m, dsl::SynthFlow::Xilinx);
    CHECK(syn.ok);
    CHECK(syn.latches == 0);
    if (depth >= 512) CHECK(syn.count_prefix("RAMB") > 0);  // a deep FIFO is a block RAM
    dsl::Kernel ports = fifo_ports(c);
    dsl::BuiltModel model = dsl::verilator_build(m, ports);
    dsl::RunSpec s;
    s.inputs["in"] = dsl::random_stream(10, 1500, 3);
    s.ticks = 1500;  // elements to pass
    for (auto [gap, stall] : {std::pair{0.0, 0.0}, {0.5, 0.2}, {0.1, 0.8}}) {
      dsl::RtlRunOptions o;
      o.input_gap = gap;
      o.output_stall = stall;
      o.seed = 4;
      dsl::RtlRunResult r = dsl::verilator_run(model, ports, s, o);
      CHECK(r.done);
      CHECK(dsl::compare_streams("out", s.inputs["in"], r.outputs.at("out"), 5).empty());
      if (gap == 0.0 && stall == 0.0) CHECK(r.cycles <= 1500 + 3);  // one element per cycle
    }
  }
}
