#include "engines/stream_engines.hpp"

#include "dsl/errors.hpp"
#include "dsl/signal.hpp"
#include "engines/sliding_window.hpp"

#include <algorithm>
#include <numeric>
#include <fmt/format.h>

namespace qdf::engines {

using namespace dsl;

namespace {

// Lane i of element x: bits [i*bits, (i+1)*bits) as a value of type t.
Signal lane(const Signal& x, int i, int bits, Type t) { return cast(slice(x, i * bits + bits - 1, i * bits), t); }

// Lanes packed into one element, lane 0 lowest.
Signal pack(const std::vector<Signal>& lanes) {
  Signal out;
  for (const Signal& l : lanes) {
    Signal b = cast(l, Type::bits(l.type.width));
    out = out.valid() ? concat(b, out) : b;
  }
  return out;
}

Signal is_value(KernelBuilder& kb, const Signal& v, std::uint64_t c) { return eq(v, kb.constant(v.type, c)); }

void require(bool ok, const std::string& owner, const std::string& what) {
  if (!ok) throw UserError(fmt::format("{} requires {}", owner, what));
}

void check_frames(std::size_t n, std::size_t per_frame, const std::string& name) {
  if (per_frame == 0 || n % per_frame != 0)
    throw UserError(fmt::format("{}: {} values are not a whole number of frames of {}", name, n, per_frame));
}

}  // namespace

// ---- multi-threshold activation ------------------------------------------------------------

void ThresholdConfig::check() const {
  std::string o = fmt::format("{}<C={}, PE={}>", name, channels, pe);
  require(channels >= 1 && pe >= 1 && pixels >= 1, o, "C, PE, pixels >= 1");
  require(pe * in_bits <= 4096, o, "PE * in_bits <= 4096 bits per element");
  require(channels % pe == 0, o, fmt::format("C % PE == 0 (C must be a multiple of PE; {} is not a multiple of {})", channels, pe));
  require(in_bits >= 2 && in_bits <= 48, o, "2 <= in_bits <= 48");
  require(out_bits == 1 || out_bits == 2, o, "out_bits of 1 or 2");
}

namespace {
void check_thresholds(const ThresholdConfig& c, const Thresholds& t) {
  c.check();
  t.check_shape(c.name, c.channels, c.out_bits);
}
}  // namespace

Kernel threshold_kernel(const ThresholdConfig& c, const Thresholds& t) {
  check_thresholds(c, t);
  const int NF = c.channels / c.pe;
  KernelBuilder kb(c.name);
  for (auto [k, v] : {std::pair{"C", c.channels}, {"PE", c.pe}, {"pixels", c.pixels}, {"in_bits", c.in_bits}, {"out_bits", c.out_bits}})
    kb.set_param(k, std::to_string(v));
  Counter nf = kb.counter(static_cast<std::uint64_t>(NF), {}, "nf");
  Signal in = kb.input("in", Type::bits(c.pe * c.in_bits));
  std::vector<Signal> outs;
  for (int p = 0; p < c.pe; ++p) {
    std::vector<int> channels;
    for (int f = 0; f < NF; ++f) channels.push_back(f * c.pe + p);
    ThresholdRead th = threshold_rom_hw(kb, fmt::format("thresholds_pe{}", p), t, channels,
                                        std::int64_t{1} << (c.in_bits - 1), c.in_bits, nf.value);
    outs.push_back(threshold_count_hw(lane(in, p, c.in_bits, Type::sint(c.in_bits)), th.flip, th.t, c.out_bits));
  }
  kb.output("out", pack(outs));
  return kb.finish();
}

std::vector<std::int64_t> threshold_forward(const ThresholdConfig& c, const Thresholds& t, const std::vector<std::int64_t>& in) {
  check_thresholds(c, t);
  check_frames(in.size(), static_cast<size_t>(c.channels), c.name);
  std::vector<std::int64_t> out = in;
  const ThresholdTable table(t);
  for (size_t px = 0; px < out.size(); px += static_cast<size_t>(c.channels)) table.apply(&out[px]);  // pixel by pixel, channels fastest
  return out;
}

EngineTiming threshold_timing(const ThresholdConfig& c) {
  c.check();
  return {static_cast<std::int64_t>(c.pixels) * (c.channels / c.pe), 1};
}

// ---- window max ------------------------------------------------------------------------------

void WindowMaxConfig::check() const {
  std::string o = fmt::format("{}<K={}, C={}, SIMD={}>", name, k, c, simd);
  require(windows >= 1 && k >= 1 && c >= 1 && simd >= 1, o, "windows, K, C, SIMD >= 1");
  require(c % simd == 0, o, fmt::format("C % SIMD == 0 (C must be a multiple of SIMD; {} is not a multiple of {})", c, simd));
  require(bits >= 1 && bits <= 32, o, "1 <= bits <= 32");
  require(pixels >= 1 && (k * k) % pixels == 0, o, fmt::format("K*K % pixels == 0 (pixels = {} window pixels per element)", pixels));
  require(pixels == 1 || simd == c, o, "SIMD == C when an element holds several window pixels (pixels > 1)");
  require(simd * pixels * bits <= 4096, o, "SIMD * pixels * bits <= 4096 bits per input element");
}

Kernel window_max_kernel(const WindowMaxConfig& c) {
  c.check();
  const int CF = c.c / c.simd, KP = c.k * c.k / c.pixels;
  KernelBuilder kb(c.name);
  for (auto [k, v] : {std::pair{"K", c.k}, {"C", c.c}, {"SIMD", c.simd}, {"bits", c.bits}, {"pixels", c.pixels}, {"windows", c.windows}})
    kb.set_param(k, std::to_string(v));
  CounterChain chain(kb);
  Counter pos = chain.add(static_cast<std::uint64_t>(KP), "pos");  // window position (ky, kx) of the element's first pixel
  Counter cf = chain.add(static_cast<std::uint64_t>(CF), "cf");
  Signal first = is_value(kb, pos.value, 0).named("first");
  Signal last = is_value(kb, pos.value, static_cast<std::uint64_t>(KP - 1)).named("last");
  const Type elem_t = Type::bits(c.simd * c.bits), v_t = Type::uint(c.bits);
  Signal in = kb.input("in", Type::bits(c.simd * c.bits * c.pixels));
  // The running maximum of each channel fold; positions arrive with channel folds fastest.
  Ram best = kb.ram("running_max", elem_t, CF);
  Signal prev = best.read(cf.value);
  std::vector<Signal> lanes;
  for (int i = 0; i < c.simd; ++i) {
    // The max of the element's pixels (pixel p holds lanes p*SIMD ..), then with the running one.
    Signal a = lane(in, i, c.bits, v_t);
    for (int p = 1; p < c.pixels; ++p) {
      Signal x = lane(in, p * c.simd + i, c.bits, v_t);
      a = mux(x > a, x, a);
    }
    Signal b = lane(prev, i, c.bits, v_t);
    lanes.push_back(mux(first | (a > b), a, b));
  }
  Signal now = pack(lanes).named("window_max");
  best.write(cf.value, now, kb.constant(Type::boolean(), 1));
  kb.output("out", now, last);
  return kb.finish();
}

std::vector<std::int64_t> window_max_forward(const WindowMaxConfig& c, const std::vector<std::int64_t>& windows) {
  c.check();
  const size_t per_window = static_cast<size_t>(c.k * c.k * c.c);
  check_frames(windows.size(), per_window, c.name);
  const size_t C = static_cast<size_t>(c.c), n = windows.size() / per_window;
  std::vector<std::int64_t> out(n * C);  // values are unsigned: the max starts at 0
  const SimdPath path = best_simd_path();
  for (size_t w = 0; w < n; ++w)
    for (size_t p = 0; p < static_cast<size_t>(c.k * c.k); ++p)  // pixel by pixel, all channels at once
      max_into(path, &out[w * C], &windows[w * per_window + p * C], C);
  return out;
}

EngineTiming window_max_timing(const WindowMaxConfig& c) {
  c.check();
  return {static_cast<std::int64_t>(c.windows) * (c.k * c.k / c.pixels) * (c.c / c.simd), 1};
}

// ---- global sum pool -------------------------------------------------------------------------

void GlobalPoolConfig::check() const {
  std::string o = fmt::format("{}<H={}, W={}, C={}, SIMD={}>", name, h, w, c, simd);
  require(h >= 1 && w >= 1 && c >= 1 && simd >= 1, o, "H, W, C, SIMD >= 1");
  require(c % simd == 0, o, fmt::format("C % SIMD == 0 (C must be a multiple of SIMD; {} is not a multiple of {})", c, simd));
  require(bits >= 1 && bits <= 16, o, "1 <= bits <= 16");
}

int GlobalPoolConfig::out_bits() const {
  return bits_for(static_cast<std::uint64_t>(h) * static_cast<std::uint64_t>(w) * ((std::uint64_t{1} << bits) - 1));
}

Kernel global_pool_kernel(const GlobalPoolConfig& c) {
  c.check();
  const int CF = c.c / c.simd, ob = c.out_bits();
  KernelBuilder kb(c.name);
  for (auto [k, v] : {std::pair{"H", c.h}, {"W", c.w}, {"C", c.c}, {"SIMD", c.simd}, {"bits", c.bits}})
    kb.set_param(k, std::to_string(v));
  CounterChain chain(kb);
  Counter pix = chain.add(static_cast<std::uint64_t>(c.h) * static_cast<std::uint64_t>(c.w), "pixel");
  Counter cf = chain.add(static_cast<std::uint64_t>(CF), "cf");
  Signal first = is_value(kb, pix.value, 0).named("first");
  Signal last = is_value(kb, pix.value, static_cast<std::uint64_t>(c.h * c.w - 1)).named("last");
  Signal in = kb.input("in", Type::bits(c.simd * c.bits));
  const Type sum_t = Type::uint(ob), elem_t = Type::bits(c.simd * ob);
  Ram sums = kb.ram("sums", elem_t, CF);
  Signal prev = sums.read(cf.value);
  std::vector<Signal> lanes;
  for (int i = 0; i < c.simd; ++i) {
    Signal a = lane(in, i, c.bits, Type::uint(c.bits));
    Signal s = mux(first, kb.constant(sum_t, 0), lane(prev, i, ob, sum_t));
    lanes.push_back(cast(s + a, sum_t));
  }
  Signal now = pack(lanes).named("sum");
  sums.write(cf.value, now, kb.constant(Type::boolean(), 1));
  kb.output("out", now, last);
  return kb.finish();
}

std::vector<std::int64_t> global_pool_forward(const GlobalPoolConfig& c, const std::vector<std::int64_t>& in) {
  c.check();
  const size_t frame = static_cast<size_t>(c.h * c.w * c.c);
  check_frames(in.size(), frame, c.name);
  std::vector<std::int64_t> out;
  for (size_t f = 0; f < in.size() / frame; ++f) {
    std::vector<std::int64_t> s(static_cast<size_t>(c.c), 0);
    for (size_t i = 0; i < frame; ++i) s[i % static_cast<size_t>(c.c)] += in[f * frame + i];
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

EngineTiming global_pool_timing(const GlobalPoolConfig& c) {
  c.check();
  return {static_cast<std::int64_t>(c.h) * c.w * (c.c / c.simd), 1};
}

// ---- residual add ----------------------------------------------------------------------------

void ResidualAddConfig::check() const {
  std::string o = fmt::format("{}<lanes={}, main_bits={}, skip_bits={}{}, shift={}>", name, lanes, main_bits, skip_bits,
                              skip_signed ? " signed" : "", shift);
  require(elements >= 1 && lanes >= 1, o, "elements, lanes >= 1");
  require(main_bits >= 2 && main_bits <= 48 && skip_bits >= 1 && skip_bits <= 48, o, "2 <= main_bits <= 48, 1 <= skip_bits <= 48");
  require(!skip_signed || skip_bits >= 2, o, "skip_bits >= 2 for a signed skip");
  require(lanes * out_bits() <= 4096, o, "lanes * output bits <= 4096 bits per element");
  require(shift >= 0 && shift <= 16, o, "0 <= shift <= 16");
}

int ResidualAddConfig::out_bits() const { return std::max(main_bits, skip_bits + shift + (skip_signed ? 0 : 1)) + 1; }

Kernel residual_add_kernel(const ResidualAddConfig& c) {
  c.check();
  KernelBuilder kb(c.name);
  for (auto [k, v] : {std::pair{"lanes", c.lanes}, {"main_bits", c.main_bits}, {"skip_bits", c.skip_bits}, {"shift", c.shift},
                      {"skip_signed", int{c.skip_signed}}})
    kb.set_param(k, std::to_string(v));
  Signal main = kb.input("main", Type::bits(c.lanes * c.main_bits));
  Signal skip = kb.input("skip", Type::bits(c.lanes * c.skip_bits));
  const Type out_t = Type::sint(c.out_bits());
  std::vector<Signal> lanes;
  for (int i = 0; i < c.lanes; ++i) {
    Signal m = lane(main, i, c.main_bits, Type::sint(c.main_bits));
    Signal s = lane(skip, i, c.skip_bits, c.skip_signed ? Type::sint(c.skip_bits) : Type::uint(c.skip_bits));
    Signal scaled = cast(c.shift ? shl(s, c.shift) : s, Type::sint(c.skip_bits + c.shift + (c.skip_signed ? 0 : 1)));
    lanes.push_back(cast(m + scaled, out_t));
  }
  kb.output("out", pack(lanes));
  return kb.finish();
}

std::vector<std::int64_t> residual_add_forward(const ResidualAddConfig& c, const std::vector<std::int64_t>& main,
                                               const std::vector<std::int64_t>& skip) {
  c.check();
  if (main.size() != skip.size())
    throw UserError(fmt::format("{}: the main branch has {} values but the skip branch {}", c.name, main.size(), skip.size()));
  std::vector<std::int64_t> out(main.size());
  for (size_t i = 0; i < main.size(); ++i) out[i] = main[i] + (skip[i] << c.shift);
  return out;
}

EngineTiming residual_add_timing(const ResidualAddConfig& c) {
  c.check();
  return {c.elements, 1};
}

// ---- fork ------------------------------------------------------------------------------------

void ForkConfig::check() const {
  require(width >= 1 && width <= 4096 && elements >= 1, fmt::format("{}<width={}>", name, width),
          "1 <= width <= 4096 and elements >= 1");
}

Kernel fork_kernel(const ForkConfig& c) {
  c.check();
  KernelBuilder kb(c.name);
  kb.set_param("width", std::to_string(c.width));
  Signal in = kb.input("in", Type::bits(c.width));
  kb.output("a", in);
  kb.output("b", in);
  return kb.finish();
}

EngineTiming fork_timing(const ForkConfig& c) {
  c.check();
  return {c.elements, 1};
}

// ---- width converter -------------------------------------------------------------------------

void WidthConverterConfig::check() const {
  std::string o = fmt::format("{}<in_lanes={}, out_lanes={}>", name, in_lanes, out_lanes);
  require(in_lanes >= 1 && out_lanes >= 1 && bits >= 1, o, "lanes and bits >= 1");
  require(std::max(in_lanes, out_lanes) * bits <= 4096, o, "lanes * bits <= 4096 bits per element");
  require(in_lanes % out_lanes == 0 || out_lanes % in_lanes == 0, o,
          fmt::format("one lane count to be a multiple of the other (convert through {} lanes, their greatest common "
                      "divisor, with two converters)",
                      std::gcd(in_lanes, out_lanes)));
  require(values % (std::max(in_lanes, out_lanes)) == 0, o,
          fmt::format("values per frame ({}) to be a multiple of {}", values, std::max(in_lanes, out_lanes)));
}

Kernel width_converter_kernel(const WidthConverterConfig& c) {
  c.check();
  KernelBuilder kb(c.name);
  for (auto [k, v] : {std::pair{"in_lanes", c.in_lanes}, {"out_lanes", c.out_lanes}, {"bits", c.bits}})
    kb.set_param(k, std::to_string(v));
  const int b = c.bits;
  if (c.in_lanes == c.out_lanes) {
    kb.output("out", kb.input("in", Type::bits(c.in_lanes * b)));
  } else if (c.in_lanes > c.out_lanes) {  // one wide element out over k ticks, lowest lanes first
    const int k = c.in_lanes / c.out_lanes;
    Counter part = kb.counter(static_cast<std::uint64_t>(k), {}, "part");
    Signal first = is_value(kb, part.value, 0);
    Signal in = kb.input("in", Type::bits(c.in_lanes * b), first);
    Reg rest = kb.reg("rest", Type::bits((c.in_lanes - c.out_lanes) * b));
    Signal cur = mux(first, in, cast(rest.q(), Type::bits(c.in_lanes * b)));
    rest.next(cast(shr(cur, c.out_lanes * b), rest.q().type));
    kb.output("out", slice(cur, c.out_lanes * b - 1, 0));
  } else {  // k narrow elements gathered into one, the first in the lowest lanes
    const int k = c.out_lanes / c.in_lanes;
    Counter part = kb.counter(static_cast<std::uint64_t>(k), {}, "part");
    Signal in = kb.input("in", Type::bits(c.in_lanes * b));
    Reg gathered = kb.reg("gathered", Type::bits((c.out_lanes - c.in_lanes) * b));
    Signal cur = concat(in, gathered.q());
    gathered.next(cast(shr(cur, c.in_lanes * b), gathered.q().type));
    kb.output("out", cur, part.wrap);
  }
  return kb.finish();
}

EngineTiming width_converter_timing(const WidthConverterConfig& c) {
  c.check();
  return {c.values / std::min(c.in_lanes, c.out_lanes), 1};
}

// ---- label select ----------------------------------------------------------------------------

void LabelSelectConfig::check() const {
  std::string o = fmt::format("{}<classes={}, PE={}, k={}>", name, classes, pe, k);
  require(classes >= 1 && pe >= 1 && k >= 1, o, "classes, PE, k >= 1");
  require(classes % pe == 0, o, fmt::format("classes % PE == 0 ({} is not a multiple of {})", classes, pe));
  require(k <= classes, o, "k <= classes");
  require(k == 1 || pe == 1, o, "PE == 1 for top-k with k > 1 (put a width converter to one lane before it)");
  if (score_signed)
    require(score_bits >= 2 && score_bits <= 48, o, "2 <= score_bits <= 48 for signed scores");
  else
    require(score_bits >= 1 && score_bits <= 48, o, "1 <= score_bits <= 48");
  require(pe * score_bits <= 4096, o, "PE * score_bits <= 4096 bits per element");
}

int LabelSelectConfig::index_bits() const { return dsl::index_bits(static_cast<std::uint64_t>(classes)); }

Kernel label_select_kernel(const LabelSelectConfig& c) {
  c.check();
  const int NF = c.classes / c.pe, ib = c.index_bits();
  KernelBuilder kb(c.name);
  for (auto [key, v] : {std::pair{"classes", c.classes}, {"PE", c.pe}, {"k", c.k}, {"score_bits", c.score_bits}})
    kb.set_param(key, std::to_string(v));
  kb.set_param("score_signed", c.score_signed ? "1" : "0");
  Counter nf = kb.counter(static_cast<std::uint64_t>(NF), {}, "nf");
  Signal first = is_value(kb, nf.value, 0).named("first");
  const Type s_t = c.score_signed ? Type::sint(c.score_bits) : Type::uint(c.score_bits), i_t = Type::uint(ib);
  Signal in = kb.input("in", Type::bits(c.pe * c.score_bits));
  // Index of the first lane of this element: nf * PE.
  Signal base = cast(cast(nf.value, i_t) * kb.constant(i_t, static_cast<std::uint64_t>(c.pe)), i_t);
  if (c.k == 1) {
    // Best of the element's lanes (a tree; the lower index wins ties), then of the frame so far.
    std::vector<std::pair<Signal, Signal>> cand;
    for (int i = 0; i < c.pe; ++i)
      cand.push_back({lane(in, i, c.score_bits, s_t), cast(base + kb.constant(i_t, static_cast<std::uint64_t>(i)), i_t)});
    while (cand.size() > 1) {
      std::vector<std::pair<Signal, Signal>> next;
      for (size_t i = 0; i + 1 < cand.size(); i += 2) {
        Signal right_wins = cand[i + 1].first > cand[i].first;
        next.push_back({mux(right_wins, cand[i + 1].first, cand[i].first), mux(right_wins, cand[i + 1].second, cand[i].second)});
      }
      if (cand.size() % 2) next.push_back(cand.back());
      cand = next;
    }
    Reg best = kb.reg("best_score", s_t), best_i = kb.reg("best_index", i_t);
    Signal take = first | (cand[0].first > best.q());
    Signal score = mux(take, cand[0].first, best.q()), index = mux(take, cand[0].second, best_i.q());
    best.next(score);
    best_i.next(index);
    kb.output("out", cast(index, Type::bits(ib)), nf.wrap);
    return kb.finish();
  }
  // Top-k with one score per tick: k sorted slots; the new score is inserted after every slot
  // holding a score at least as large (so earlier indices win ties).
  Signal score = lane(in, 0, c.score_bits, s_t);
  Signal index = base;
  std::vector<Reg> ss, ii;
  std::vector<Signal> valid;
  for (int j = 0; j < c.k; ++j) {
    ss.push_back(kb.reg(fmt::format("score{}", j), s_t));
    ii.push_back(kb.reg(fmt::format("index{}", j), i_t));
  }
  // Slot j is empty on the first element and for j >= nf afterwards.
  std::vector<Signal> beats;  // the new score belongs above slot j
  for (int j = 0; j < c.k; ++j) {
    Signal empty = first | (nf.value <= kb.constant(Type::uint(bits_for(static_cast<std::uint64_t>(c.k))), static_cast<std::uint64_t>(j)));
    beats.push_back(empty | (score > ss[static_cast<size_t>(j)].q()));
  }
  std::vector<Signal> new_s, new_i;
  for (int j = 0; j < c.k; ++j) {
    Signal here = beats[static_cast<size_t>(j)];
    Signal from_above = j ? beats[static_cast<size_t>(j - 1)] : kb.constant(Type::boolean(), 0);
    // slot j keeps its value, takes the new score, or takes slot j-1's value (shifted down)
    Signal s = mux(from_above, ss[static_cast<size_t>(j ? j - 1 : 0)].q(), mux(here, score, ss[static_cast<size_t>(j)].q()));
    Signal ix = mux(from_above, ii[static_cast<size_t>(j ? j - 1 : 0)].q(), mux(here, index, ii[static_cast<size_t>(j)].q()));
    new_s.push_back(s);
    new_i.push_back(ix);
  }
  for (int j = 0; j < c.k; ++j) {
    ss[static_cast<size_t>(j)].next(new_s[static_cast<size_t>(j)]);
    ii[static_cast<size_t>(j)].next(new_i[static_cast<size_t>(j)]);
  }
  kb.output("out", pack(new_i), nf.wrap);
  return kb.finish();
}

std::vector<std::int64_t> label_select_forward(const LabelSelectConfig& c, const std::vector<std::int64_t>& scores) {
  c.check();
  check_frames(scores.size(), static_cast<size_t>(c.classes), c.name);
  // The scores are compared as the values of their lanes, as the kernel reads them: a value
  // outside them (say 3 on a signed 2-bit stream) is a bug upstream, not a score.
  const Lanes l = c.in_lanes();
  const std::int64_t lo = l.is_signed ? -(std::int64_t{1} << (l.bits - 1)) : 0;
  const std::int64_t hi = l.is_signed ? (std::int64_t{1} << (l.bits - 1)) - 1 : (std::int64_t{1} << l.bits) - 1;
  for (size_t i = 0; i < scores.size(); ++i)
    if (scores[i] < lo || scores[i] > hi)
      throw InternalError(fmt::format("{}: score {} at {} does not fit its {} {}-bit lane", c.name, scores[i], i,
                                      l.is_signed ? "signed" : "unsigned", l.bits));
  std::vector<std::int64_t> out;
  for (size_t f = 0; f < scores.size() / static_cast<size_t>(c.classes); ++f) {
    std::vector<int> idx(static_cast<size_t>(c.classes));
    for (int i = 0; i < c.classes; ++i) idx[static_cast<size_t>(i)] = i;
    const std::int64_t* s = &scores[f * static_cast<size_t>(c.classes)];
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return s[a] > s[b]; });
    for (int j = 0; j < c.k; ++j) out.push_back(idx[static_cast<size_t>(j)]);
  }
  return out;
}

EngineTiming label_select_timing(const LabelSelectConfig& c) {
  c.check();
  return {c.classes / c.pe, 1};
}

}  // namespace qdf::engines
