#include "examples/example_kernels.hpp"

#include "dsl/bits.hpp"
#include "dsl/cosim.hpp"
#include "dsl/errors.hpp"

#include <fmt/format.h>

namespace qdf::examples {
void MovingAverage::describe(KernelBuilder&) const {
  using namespace literals;
  auto x = io::input<UInt<8>>("x");
  auto size = io::scalar<UInt<32>>("size");
  Register<UInt<32>> count("count");
  auto at_end = (count.q() + 1_u == size).named("at_end");
  count.next(mux(at_end, constant<UInt<32>>(0), cast<UInt<32>>(count.q() + 1_u)));
  auto has_prev = (count.q() > 0_u).named("has_prev");
  auto has_next = (~at_end).named("has_next");
  auto prev = mux(has_prev, offset(x, -1), constant<UInt<8>>(0));
  auto next = mux(has_next, offset(x, +1), constant<UInt<8>>(0));
  auto sum = (prev + x + next).named("sum");  // UInt<10>: no bits lost
  auto third = shr<11>(sum * constant<UInt<10>>(683));
  auto half = shr<1>(sum);
  io::output("y", cast<UInt<8>>(mux(has_prev & has_next, third, half)));
}

void Window3x3::describe(KernelBuilder& kb) const {
  // Sizes are run-time parameters here, so this kernel uses the dynamic API (signals whose
  // widths are checked when the kernel is recorded).
  if (width < 2 || height < 2) throw UserError(fmt::format("window3x3 needs width and height >= 2, found {}x{}", width, height));
  kb.set_max_offset(width + 1);
  Signal x = kb.input("pixel", Type::uint(8));
  CounterChain chain(kb);
  Signal row = chain.add(static_cast<std::uint64_t>(height), "row").value;
  Signal col = chain.add(static_cast<std::uint64_t>(width), "col").value;
  auto is = [&](const Signal& v, std::uint64_t c) { return eq(v, kb.constant(v.type, c)); };
  Signal zero = kb.constant(Type::uint(8), 0);
  std::vector<Signal> terms;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      Signal v = kb.offset(x, dy * width + dx);
      std::vector<Signal> inside;
      if (dy == -1) inside.push_back(~is(row, 0));
      if (dy == +1) inside.push_back(~is(row, static_cast<std::uint64_t>(height - 1)));
      if (dx == -1) inside.push_back(~is(col, 0));
      if (dx == +1) inside.push_back(~is(col, static_cast<std::uint64_t>(width - 1)));
      if (inside.empty()) {
        terms.push_back(v);
        continue;
      }
      Signal ok = inside[0];
      for (size_t i = 1; i < inside.size(); ++i) ok = ok & inside[i];
      terms.push_back(mux(ok, v, zero));
    }
  }
  while (terms.size() > 1) {  // adder tree; each level one bit wider
    std::vector<Signal> next;
    for (size_t i = 0; i + 1 < terms.size(); i += 2) next.push_back(terms[i] + terms[i + 1]);
    if (terms.size() % 2) next.push_back(terms.back());
    terms = next;
  }
  kb.output("sum", cast(terms[0], Type::uint(12)));
}

std::vector<std::uint64_t> XnorDot64::weights() const {
  std::uint64_t s = weight_seed;
  std::vector<std::uint64_t> w;
  for (int i = 0; i < words; ++i) w.push_back(dsl::bits::splitmix64(s));
  return w;
}

void XnorDot64::describe(KernelBuilder& kb) const {
  if (words < 1) throw UserError(fmt::format("xnor_dot64 needs at least one word, found {}", words));
  Signal x = kb.input("x", Type::bits(64));
  Counter word = kb.counter(static_cast<std::uint64_t>(words), {}, "word");
  Signal w = kb.rom("weights", Type::bits(64), weights(), word.value);
  Signal matches = popcount(bit_xnor(x, w)).named("matches");  // UInt<7>
  Type acc_t = Type::uint(bits_for(64ull * static_cast<std::uint64_t>(words)));
  Reg acc = kb.reg("acc", acc_t);
  Signal first = eq(word.value, kb.constant(word.value.type, 0));
  Signal total = cast(mux(first, kb.constant(acc_t, 0), acc.q()) + matches, acc_t).named("total");
  acc.next(total);
  Signal dot = shl(total, 1) - kb.constant(Type::uint(bits_for(64ull * static_cast<std::uint64_t>(words))), 64ull * static_cast<std::uint64_t>(words));
  kb.output("dot", dot.named("dot"), word.wrap);
}

std::vector<std::array<std::int16_t, 3>> Threshold2Bit::thresholds() const {
  std::uint64_t s = seed;
  std::vector<std::array<std::int16_t, 3>> t;
  for (int c = 0; c < channels; ++c) {
    std::array<std::int16_t, 3> v{};
    for (auto& x : v) x = static_cast<std::int16_t>(static_cast<std::int64_t>(dsl::bits::splitmix64(s) % 2001) - 1000);
    std::sort(v.begin(), v.end());
    t.push_back(v);
  }
  return t;
}

void Threshold2Bit::describe(KernelBuilder& kb) const {
  if (channels < 1) throw UserError(fmt::format("threshold2bit needs at least one channel, found {}", channels));
  Signal acc = kb.input("acc", Type::sint(16));
  Counter ch = kb.counter(static_cast<std::uint64_t>(channels), {}, "channel");
  std::vector<std::uint64_t> table;
  for (const auto& t : thresholds()) {
    std::uint64_t e = 0;
    for (int i = 0; i < 3; ++i) e |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(t[static_cast<size_t>(i)])) << (16 * i);
    table.push_back(e);
  }
  Signal t = kb.rom("thresholds", Type::bits(48), table, ch.value);
  Signal count;
  for (int i = 0; i < 3; ++i) {
    Signal ti = cast(slice(t, 16 * i + 15, 16 * i), Type::sint(16));
    Signal bit = cast(ge(acc, ti), Type::uint(1));  // the one comparison a threshold uses: acc >= T
    count = count.valid() ? count + bit : bit;
  }
  kb.output("q", cast(count, Type::uint(2)));
}

void BlockAccumulator::describe(KernelBuilder& kb) const {
  if (length < 1) throw UserError(fmt::format("block_accumulator needs a length of at least 1, found {}", length));
  Signal x = kb.input("x", Type::uint(8));
  Counter pos = kb.counter(static_cast<std::uint64_t>(length), {}, "pos");
  Type acc_t = Type::uint(bits_for(255ull * static_cast<std::uint64_t>(length)));
  Reg acc = kb.reg("acc", acc_t);
  Signal first = eq(pos.value, kb.constant(pos.value.type, 0));
  Signal total = cast(mux(first, kb.constant(acc_t, 0), acc.q()) + x, acc_t).named("total");
  acc.next(total);
  kb.output("sum", total, pos.wrap);
}

void RunningHistogram::describe(KernelBuilder& kb) const {
  if (bins < 1) throw UserError(fmt::format("running_histogram needs at least one bin, found {}", bins));
  Signal v = kb.input("value", Type::uint(index_bits(static_cast<std::uint64_t>(bins))));
  Ram ram = kb.ram("bins", Type::uint(16), bins);
  Signal seen = ram.read(v);
  Signal now = cast(seen + kb.constant(Type::uint(1), 1), Type::uint(16)).named("now");
  ram.write(v, now, kb.constant(Type::boolean(), 1));
  kb.output("count", now);
}

std::vector<ExampleKernel> example_kernels() {
  std::vector<ExampleKernel> ex;
  ex.push_back({"window3x3", "3x3 box filter over a 32x8 image via stream offsets (line buffers)",
                [] { return record(Window3x3{32, 8}); },
                [](std::uint64_t seed) {
                  RunSpec s;
                  s.ticks = 32 * 8 * 4;  // four images
                  s.inputs["pixel"] = random_stream(8, s.ticks, seed);
                  return s;
                }});
  ex.push_back({"moving_average", "MaxJ's moving average over a stream of 64 bytes (offsets -1, +1, a counter)",
                [] { return record(MovingAverage{}); },
                [](std::uint64_t seed) {
                  RunSpec s;
                  s.ticks = 64;
                  s.scalars["size"] = 64;
                  s.inputs["x"] = random_stream(8, 64, seed);
                  return s;
                }});
  ex.push_back({"xnor_dot64", "XNOR-popcount dot product of 4 64-bit words against ROM weights",
                [] { return record(XnorDot64{4, 7}); },
                [](std::uint64_t seed) {
                  RunSpec s;
                  s.ticks = 4 * 32;
                  s.inputs["x"] = random_stream(64, s.ticks, seed);
                  return s;
                }});
  ex.push_back({"threshold2bit", "2-bit threshold activation over 5 channels (thresholds in a ROM)",
                [] { return record(Threshold2Bit{5, 11}); },
                [](std::uint64_t seed) {
                  RunSpec s;
                  s.ticks = 5 * 40;
                  Stream acc = random_stream(16, s.ticks, seed);
                  for (auto& w : acc.words) w = static_cast<std::uint16_t>(static_cast<std::int16_t>(w % 2401) - 1200);
                  s.inputs["acc"] = acc;
                  return s;
                }});
  ex.push_back({"block_accumulator", "accumulator reset by a counter: sums of 7 consecutive bytes",
                [] { return record(BlockAccumulator{7}); },
                [](std::uint64_t seed) {
                  RunSpec s;
                  s.ticks = 7 * 20;
                  s.inputs["x"] = random_stream(8, s.ticks, seed);
                  return s;
                }});
  ex.push_back({"running_histogram", "running histogram of 10 bins in a RAM (read-modify-write in one tick)",
                [] { return record(RunningHistogram{10}); },
                [](std::uint64_t seed) {
                  RunSpec s;
                  s.ticks = 200;
                  Stream v = random_stream(4, s.ticks, seed);
                  for (auto& w : v.words) w %= 10;
                  s.inputs["value"] = v;
                  return s;
                }});
  return ex;
}

ExampleKernel example_kernel(const std::string& name) {
  std::string names;
  for (ExampleKernel& e : example_kernels()) {
    if (e.name == name) return e;
    names += (names.empty() ? "" : ", ") + e.name;
  }
  throw UserError(fmt::format("no example kernel named '{}'; the examples are: {}", name, names));
}

}  // namespace qdf::examples
