// The interpreter against naive C++ models of the example kernels, written from the kernels'
// descriptions (not from their code), and against plain integer arithmetic for every operator.
#include "dsl/bits.hpp"
#include "dsl/errors.hpp"
#include "dsl/cosim.hpp"
#include "dsl/interpreter.hpp"
#include "dsl/static_types.hpp"
#include "examples/example_kernels.hpp"
#include "kernels_for_tests.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace qdf::dsl;
using namespace qdf::examples;

namespace {

std::vector<std::uint64_t> values(const Stream& s) {
  std::vector<std::uint64_t> v;
  for (size_t i = 0; i < s.size(); ++i) v.push_back(s.value(i));
  return v;
}

// The first few differences, with their index, so that a failure is readable.
std::string diff(const std::vector<std::uint64_t>& expected, const std::vector<std::uint64_t>& got) {
  std::string out;
  int shown = 0;
  for (size_t i = 0; i < std::min(expected.size(), got.size()) && shown < 5; ++i)
    if (expected[i] != got[i]) {
      out += fmt::format("[{}] expected {} got {}; ", i, expected[i], got[i]);
      ++shown;
    }
  if (expected.size() != got.size()) out += fmt::format("sizes {} vs {}", expected.size(), got.size());
  return out;
}

#define CHECK_SAME(expected, got) CHECK_MESSAGE(diff(expected, got).empty(), diff(expected, got))

}  // namespace

TEST_CASE("moving average matches its definition, including both ends of the stream") {
  for (std::uint64_t size : {1u, 2u, 3u, 64u}) {
    RunSpec s;
    s.ticks = size;
    s.scalars["size"] = size;
    s.inputs["x"] = random_stream(8, size, 5 + size);
    auto x = values(s.inputs["x"]);
    std::vector<std::uint64_t> expected;
    for (size_t i = 0; i < size; ++i) {
      bool has_prev = i > 0, has_next = i + 1 < size;
      std::uint64_t sum = x[i] + (has_prev ? x[i - 1] : 0) + (has_next ? x[i + 1] : 0);
      expected.push_back(has_prev && has_next ? sum / 3 : sum / 2);
    }
    CHECK_SAME(expected, values(interpret(record(MovingAverage{}), s).outputs["y"]));
  }
}

TEST_CASE("3x3 window sums the zero-padded neighbourhood of every pixel, over several images") {
  for (auto [w, h] : {std::pair{32, 8}, std::pair{5, 3}, std::pair{100, 4}}) {
    const int images = 3;
    RunSpec s;
    s.ticks = static_cast<std::uint64_t>(w * h * images);
    s.inputs["pixel"] = random_stream(8, s.ticks, 17);
    auto px = values(s.inputs["pixel"]);
    std::vector<std::uint64_t> expected;
    for (int img = 0; img < images; ++img)
      for (int r = 0; r < h; ++r)
        for (int c = 0; c < w; ++c) {
          std::uint64_t sum = 0;
          for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx)
              if (r + dy >= 0 && r + dy < h && c + dx >= 0 && c + dx < w)
                sum += px[static_cast<size_t>(img * w * h + (r + dy) * w + c + dx)];
          expected.push_back(sum);
        }
    CHECK_SAME(expected, values(interpret(record(Window3x3{w, h}), s).outputs["sum"]));
  }
}

TEST_CASE("xnor dot product equals the +-1 dot product of the bits") {
  XnorDot64 def{4, 7};
  RunSpec s;
  s.ticks = 4 * 10;
  s.inputs["x"] = random_stream(64, s.ticks, 3);
  auto x = values(s.inputs["x"]);
  auto w = def.weights();
  std::vector<std::uint64_t> expected;
  for (size_t v = 0; v < 10; ++v) {
    std::int64_t dot = 0;
    for (size_t k = 0; k < 4; ++k)
      for (int b = 0; b < 64; ++b) dot += (((x[v * 4 + k] >> b) & 1) == ((w[k] >> b) & 1)) ? 1 : -1;
    expected.push_back(static_cast<std::uint64_t>(dot) & ((1ull << 11) - 1));  // SInt<11>
  }
  Stream out = interpret(record(def), s).outputs["dot"];
  CHECK(out.width == 11);
  CHECK_SAME(expected, values(out));
}

TEST_CASE("2-bit threshold counts the thresholds at or below the accumulator") {
  Threshold2Bit def{5, 11};
  RunSpec s;
  s.ticks = 5 * 30;
  Stream acc = random_stream(16, s.ticks, 9);
  for (auto& v : acc.words) v = static_cast<std::uint16_t>(static_cast<std::int16_t>(v % 2401) - 1200);
  s.inputs["acc"] = acc;
  auto t = def.thresholds();
  std::vector<std::uint64_t> expected;
  for (size_t i = 0; i < s.ticks; ++i) {
    auto a = static_cast<std::int16_t>(acc.value(i));
    int q = 0;
    for (std::int16_t th : t[i % 5]) q += a >= th;
    expected.push_back(static_cast<std::uint64_t>(q));
  }
  CHECK_SAME(expected, values(interpret(record(def), s).outputs["q"]));
}

TEST_CASE("block accumulator sums each block of consecutive inputs") {
  RunSpec s;
  s.ticks = 7 * 9;
  s.inputs["x"] = random_stream(8, s.ticks, 2);
  auto x = values(s.inputs["x"]);
  std::vector<std::uint64_t> expected;
  for (size_t b = 0; b < 9; ++b) {
    std::uint64_t sum = 0;
    for (size_t i = 0; i < 7; ++i) sum += x[b * 7 + i];
    expected.push_back(sum);
  }
  CHECK_SAME(expected, values(interpret(record(BlockAccumulator{7}), s).outputs["sum"]));
}

TEST_CASE("running histogram counts earlier occurrences (a RAM read sees every earlier write)") {
  RunSpec s = example_kernel("running_histogram").sample_run(4);
  auto v = values(s.inputs["value"]);
  std::vector<std::uint64_t> expected, bins(10, 0);
  for (auto x : v) expected.push_back(++bins[x]);
  CHECK_SAME(expected, values(interpret(record(RunningHistogram{10}), s).outputs["count"]));
}

// ---- operators against plain integer arithmetic ---------------------------------------------

namespace {

using qdf::testing::operator_kernel;

std::int64_t sx(std::uint64_t v, int w) { return static_cast<std::int64_t>(v << (64 - w)) >> (64 - w); }
std::uint64_t m(std::int64_t v, int w) { return static_cast<std::uint64_t>(v) & ((1ull << w) - 1); }

}  // namespace

TEST_CASE("every operator agrees with integer arithmetic on random operands") {
  const size_t n = 500;
  RunSpec s = qdf::testing::operator_run(n, 1);
  RunResult r = interpret(operator_kernel(), s);
  auto out = [&](const char* name, size_t i) { return r.outputs.at(name).value(i); };
  for (size_t i = 0; i < n; ++i) {
    std::int64_t a = sx(s.inputs["a"].value(i), 13), b = sx(s.inputs["b"].value(i), 9);
    std::uint64_t u = s.inputs["u"].value(i), v = s.inputs["v"].value(i);
    CAPTURE(a); CAPTURE(b); CAPTURE(u); CAPTURE(v);
    REQUIRE(out("add", i) == m(a + b, 14));
    REQUIRE(out("sub", i) == m(a - b, 14));
    REQUIRE(out("mul", i) == m(a * b, 22));
    REQUIRE(out("neg", i) == m(-b, 10));
    REQUIRE(out("usub", i) == m(static_cast<std::int64_t>(u) - static_cast<std::int64_t>(v), 13));
    REQUIRE(out("lt", i) == (a < b));
    REQUIRE(out("ge", i) == (u >= v));
    REQUIRE(out("eq", i) == (a == b));
    REQUIRE(out("shr_a", i) == m(a >> 3, 10));
    REQUIRE(out("shl_u", i) == u << 4);
    REQUIRE(out("shl0", i) == v);
    REQUIRE(out("shrk", i) == m(a >> std::min<std::uint64_t>(v, 63), 13));
    REQUIRE(out("shlk", i) == (v >= 12 ? 0 : m(static_cast<std::int64_t>(u << v), 12)));
    REQUIRE(out("pop", i) == static_cast<std::uint64_t>(__builtin_popcountll(u)));
    REQUIRE(out("cat", i) == ((v << 6) | ((u >> 2) & 63)));
    REQUIRE(out("sext", i) == m(b, 20));
    REQUIRE(out("trunc", i) == m(a, 6));
    REQUIRE(out("xn", i) == m(static_cast<std::int64_t>(~(u ^ m(a, 12))), 12));
    REQUIRE(out("red", i) == ((static_cast<std::uint64_t>(v == 31) << 2) | (static_cast<std::uint64_t>(v != 0) << 1) |
                              static_cast<std::uint64_t>(__builtin_popcountll(u) & 1)));
  }
}

TEST_CASE("values wider than 64 bits: add, compare, shift, popcount, slice against __int128") {
  RunSpec s = qdf::testing::wide_run(200, 1);
  RunResult r = interpret(qdf::testing::wide_kernel(), s);
  using u128 = bits::Wide;
  __extension__ typedef __int128 s128;
  auto get = [](const Stream& st, size_t i) {
    const std::uint64_t* w = st.at(i);
    return static_cast<u128>(w[0]) | (st.words_per_element() > 1 ? static_cast<u128>(w[1]) << 64 : 0);
  };
  auto mask = [](u128 v, int w) { return w >= 128 ? v : v & ((static_cast<u128>(1) << w) - 1); };
  for (size_t i = 0; i < 200; ++i) {
    u128 a_ = get(s.inputs["a"], i), b_ = get(s.inputs["b"], i), c_ = get(s.inputs["c"], i);
    s128 cs = static_cast<s128>(c_ << 58) >> 58;  // sign-extend 70 bits
    REQUIRE(get(r.outputs["sum"], i) == mask(a_ + b_, 101));
    REQUIRE(get(r.outputs["diff"], i) == mask(a_ - b_, 102));
    REQUIRE(get(r.outputs["lt"], i) == (b_ < a_));
    int pop = __builtin_popcountll(static_cast<std::uint64_t>(a_)) + __builtin_popcountll(static_cast<std::uint64_t>(a_ >> 64));
    REQUIRE(get(r.outputs["pop"], i) == static_cast<u128>(pop));
    REQUIRE(get(r.outputs["mid"], i) == mask(a_ >> 40, 56));
    REQUIRE(get(r.outputs["neg"], i) == mask(static_cast<u128>(-cs), 71));
    REQUIRE(get(r.outputs["shl"], i) == mask(b_ << 30, 120));
  }
}

TEST_CASE("a run that needs more input than it was given is a clear error") {
  RunSpec s;
  s.ticks = 10;
  s.inputs["x"] = random_stream(8, 9, 1);
  CHECK_THROWS_WITH_AS(interpret(record(BlockAccumulator{3}), s),
                       doctest::Contains("needs more input at tick 9 on 'x' (all 9 elements consumed)"), qdf::UserError);
}

TEST_CASE("the interpreter rejects streams that do not fit the kernel's ports") {
  RunSpec s;
  s.ticks = 3;
  s.inputs["x"] = random_stream(9, 3, 1);
  CHECK_THROWS_WITH_AS(interpret(record(BlockAccumulator{3}), s), doctest::Contains("input 'x' is UInt<8>"), qdf::UserError);
  s.inputs.clear();
  s.inputs["y"] = random_stream(8, 3, 1);
  CHECK_THROWS_WITH_AS(interpret(record(BlockAccumulator{3}), s), doctest::Contains("no data given for input 'x'"),
                       qdf::UserError);
}

TEST_CASE("conditional reads and writes: enables from counters and from data") {
  RunSpec s = qdf::testing::enables_run(30, 3);
  RunResult r = interpret(qdf::testing::enables_kernel(), s);
  std::vector<std::uint64_t> sum, odd;
  std::uint64_t held = 0;
  for (size_t t = 0; t < 30; ++t) {
    std::uint64_t a = s.inputs["a"].value(t);
    if (t % 3 == 0) held = s.inputs["b"].value(t / 3);
    sum.push_back(a + held + 9);
    if (a & 1) odd.push_back(a + 9);
  }
  CHECK_SAME(sum, values(r.outputs["sum"]));
  CHECK_SAME(odd, values(r.outputs["odd"]));
}

TEST_CASE("a RAM read before write at the same address is a delay of the RAM's depth") {
  RunSpec s = qdf::testing::ram_delay_run(50, 8);
  RunResult r = interpret(qdf::testing::ram_delay_kernel(7), s);
  std::vector<std::uint64_t> expected;
  for (size_t t = 0; t < 50; ++t) expected.push_back(t >= 7 ? s.inputs["x"].value(t - 7) : 0);
  CHECK_SAME(expected, values(r.outputs["delayed"]));
}
