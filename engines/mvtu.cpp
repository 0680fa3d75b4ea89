#include "engines/mvtu.hpp"

#include "dsl/bits.hpp"
#include "dsl/errors.hpp"
#include "dsl/signal.hpp"

#include <bit>
#include <fmt/format.h>
#include <optional>

namespace qdf::engines {

using namespace dsl;

void MvtuConfig::check() const {
  auto req = [&](bool ok, const std::string& what) {
    if (!ok)
      throw UserError(fmt::format("{}<MW={}, MH={}, SIMD={}, PE={}> requires {}", name, mw, mh, simd, pe, what));
  };
  req(mw >= 1 && mh >= 1, "MW >= 1 and MH >= 1");
  req(simd >= 1 && pe >= 1, "SIMD >= 1 and PE >= 1");
  req(mw % simd == 0, fmt::format("MW % SIMD == 0 (MW must be a multiple of SIMD; {} is not a multiple of {})", mw, simd));
  req(mh % pe == 0, fmt::format("MH % PE == 0 (MH must be a multiple of PE; {} is not a multiple of {})", mh, pe));
  req(input != InputKind::Binary || in_bits == 1, "in_bits == 1 for binary inputs");
  req(input != InputKind::Unsigned || (in_bits >= 1 && in_bits <= 16), "1 <= in_bits <= 16 for unsigned inputs");
  req(out_bits == 0 || out_bits == 1 || out_bits == 2, "out_bits of 0 (raw), 1 or 2 (thresholds)");
  req(pixels >= 1, "pixels >= 1");
  req(pixels == 1 || (mw == simd && mh == pe),
      fmt::format("SIMD == MW and PE == MH (an unfolded MVTU) for several pixels per element (pixels = {})", pixels));
  req(simd * in_bits * pixels <= 4096, "SIMD * in_bits * pixels <= 4096 bits per input element");
}

std::int64_t MvtuConfig::max_abs_acc() const {
  return input == InputKind::Binary ? mw : static_cast<std::int64_t>(mw) * ((std::int64_t{1} << in_bits) - 1);
}

int MvtuConfig::acc_bits() const { return bits_for(static_cast<std::uint64_t>(max_abs_acc())) + 1; }

BinaryMatrix::BinaryMatrix(int r, int c) : rows(r), cols(c), words(static_cast<size_t>(r) * static_cast<size_t>((c + 63) / 64), 0) {}

void BinaryMatrix::set(int r, int c, bool v) {
  std::uint64_t& w = words[static_cast<size_t>(r * words_per_row() + c / 64)];
  if (v) w |= std::uint64_t{1} << (c % 64);
  else w &= ~(std::uint64_t{1} << (c % 64));
}

BinaryMatrix BinaryMatrix::random(int rows, int cols, std::uint64_t seed) {
  BinaryMatrix m(rows, cols);
  std::uint64_t x = seed;
  for (int r = 0; r < rows; ++r)
    for (int k = 0; k < m.words_per_row(); ++k) {
      std::uint64_t z = dsl::bits::splitmix64(x);
      int valid = std::min(64, cols - k * 64);
      m.words[static_cast<size_t>(r * m.words_per_row() + k)] = valid == 64 ? z : z & ((std::uint64_t{1} << valid) - 1);
    }
  return m;
}

namespace {

void check_weights(const MvtuConfig& c, const BinaryMatrix& w, const Thresholds* t) {
  c.check();
  if (w.rows != c.mh || w.cols != c.mw)
    throw UserError(fmt::format("{}: weights are {}x{}, expected MH x MW = {}x{}", c.name, w.rows, w.cols, c.mh, c.mw));
  if (c.out_bits) {
    if (!t) throw UserError(fmt::format("{}: out_bits = {} needs thresholds", c.name, c.out_bits));
    t->check_shape(c.name, c.mh, c.out_bits);
  }
}

// Appends bits [lo, lo + n) of row r to `out`, as ROM words of n bits (word-wise shifts).
void append_row_bits(const BinaryMatrix& w, int r, int lo, int n, std::vector<std::uint64_t>& out) {
  const std::uint64_t* row = &w.words[static_cast<size_t>(r * w.words_per_row())];
  const int words = w.words_per_row();
  for (int k = 0; k < (n + 63) / 64; ++k) {
    const int bit = lo + 64 * k, i = bit / 64, sh = bit % 64;
    std::uint64_t v = row[i] >> sh;
    if (sh && i + 1 < words) v |= row[i + 1] << (64 - sh);
    const int valid = std::min(64, n - 64 * k);
    out.push_back(valid == 64 ? v : v & ((std::uint64_t{1} << valid) - 1));
  }
}

}  // namespace

Kernel mvtu_kernel(const MvtuConfig& c, const BinaryMatrix& w, const Thresholds* t) {
  check_weights(c, w, t);
  const int NF = c.nf(), SF = c.sf(), SIMD = c.simd, PE = c.pe, B = c.in_bits;
  KernelBuilder kb(c.name);
  const int M = c.pixels;
  for (auto [k, v] : {std::pair{"MW", c.mw}, {"MH", c.mh}, {"SIMD", c.simd}, {"PE", c.pe}, {"in_bits", c.in_bits},
                      {"out_bits", c.out_bits}, {"pixels", M}})
    kb.set_param(k, std::to_string(v));
  kb.set_param("input", c.input == InputKind::Binary ? "binary" : "unsigned");

  // Folding counters: tile = nf*SF + sf walks the weight ROMs in order.
  CounterChain fold(kb);
  Counter nf = fold.add(static_cast<std::uint64_t>(NF), "nf");
  Counter sf = fold.add(static_cast<std::uint64_t>(SF), "sf");
  Counter tile = kb.counter(static_cast<std::uint64_t>(NF) * static_cast<std::uint64_t>(SF), {}, "tile");
  Signal first_rows = eq(nf.value, kb.constant(nf.value.type, 0)).named("first_rows");
  Signal first_cols = eq(sf.value, kb.constant(sf.value.type, 0)).named("first_cols");
  Signal last_cols = eq(sf.value, kb.constant(sf.value.type, static_cast<std::uint64_t>(SF - 1))).named("last_cols");

  Type elem_t = Type::bits(SIMD * B * M);
  Signal in = kb.input("in", elem_t, NF > 1 ? first_rows : Signal{});
  Signal x_all = in;
  if (NF > 1) {  // the input vector is read once and reused by every row group
    Ram buf = kb.ram("input_buffer", elem_t, SF);
    buf.write(sf.value, in, first_rows);
    x_all = mux(first_rows, in, buf.read(sf.value)).named("x");
  }
  auto pixel_name = [&](const std::string& base, int m) { return M == 1 ? base : fmt::format("{}_px{}", base, m); };

  // P accumulates matches per PE (popcount of xnor for binary, of w & a_j weighted 2^j for
  // unsigned); Q, shared by all PEs, the weighted popcounts of the planes (unsigned only).
  const std::uint64_t max_p = static_cast<std::uint64_t>(c.max_abs_acc());
  Type p_t = Type::uint(bits_for(max_p));
  auto accumulate = [&](const std::string& name, const Signal& partial) {
    Reg r = kb.reg(name, p_t);
    Signal total = cast(mux(first_cols, kb.constant(p_t, 0), r.q()) + partial, p_t).named(name + "_total");
    r.next(total);
    return total;
  };
  auto weighted = [&](const std::vector<Signal>& counts) {  // sum_j 2^j counts[j]
    Signal s;
    for (int j = 0; j < static_cast<int>(counts.size()); ++j) {
      Signal term = j ? shl(counts[static_cast<size_t>(j)], j) : counts[static_cast<size_t>(j)];
      s = s.valid() ? s + term : term;
    }
    return s;
  };
  // Weight ROM of PE p: tile (nf, sf) holds row nf*PE + p, columns sf*SIMD .. +SIMD; one read
  // serves all M pixels. Thresholds of channel nf*PE + p, one ROM entry per row group.
  std::vector<Signal> wt(static_cast<size_t>(PE));
  std::vector<ThresholdRead> th(static_cast<size_t>(PE));
  for (int p = 0; p < PE; ++p) {
    std::vector<std::uint64_t> table;
    table.reserve(static_cast<size_t>(NF) * static_cast<size_t>(SF) * static_cast<size_t>((SIMD + 63) / 64));
    for (int f = 0; f < NF; ++f)
      for (int s = 0; s < SF; ++s) append_row_bits(w, f * PE + p, s * SIMD, SIMD, table);
    wt[static_cast<size_t>(p)] = kb.rom_words(fmt::format("weights_pe{}", p), Type::bits(SIMD), NF * SF, table, tile.value);
    if (c.out_bits) {
      std::vector<int> channels;
      for (int f = 0; f < NF; ++f) channels.push_back(f * PE + p);
      th[static_cast<size_t>(p)] = threshold_rom_hw(kb, fmt::format("thresholds_pe{}", p), *t, channels, c.max_abs_acc(),
                                                    c.acc_bits(), nf.value);
    }
  }

  const Type acc_t = Type::sint(c.acc_bits());
  Signal out;
  for (int m = 0; m < M; ++m) {
    const Signal x = M == 1 ? x_all : slice(x_all, (m + 1) * SIMD * B - 1, m * SIMD * B);
    // Bit planes of the pixel's input: plane j holds bit j of every lane.
    std::vector<Signal> planes;
    for (int j = 0; j < B; ++j) {
      if (B == 1) {
        planes.push_back(x);
        break;
      }
      Signal pl;
      for (int i = SIMD - 1; i >= 0; --i) {
        Signal b = slice(x, i * B + j, i * B + j);
        pl = pl.valid() ? concat(pl, b) : b;
      }
      planes.push_back(pl.named(pixel_name(fmt::format("plane{}", j), m)));
    }
    Signal q_total;
    if (c.input == InputKind::Unsigned) {
      std::vector<Signal> pc;
      for (const Signal& pl : planes) pc.push_back(popcount(pl));
      q_total = accumulate(pixel_name("q_acc", m), weighted(pc));
    }
    for (int p = 0; p < PE; ++p) {
      Signal acc;
      if (c.input == InputKind::Binary) {
        Signal p_total = accumulate(pixel_name(fmt::format("acc_pe{}", p), m), popcount(bit_xnor(x, wt[static_cast<size_t>(p)])));
        acc = shl(p_total, 1) - kb.constant(p_t, static_cast<std::uint64_t>(c.mw));
      } else {
        std::vector<Signal> pc;
        for (const Signal& plane : planes) pc.push_back(popcount(plane & wt[static_cast<size_t>(p)]));
        Signal p_total = accumulate(pixel_name(fmt::format("acc_pe{}", p), m), weighted(pc));
        acc = shl(p_total, 1) - q_total;
      }
      acc = cast(acc, acc_t).named(pixel_name(fmt::format("dot_pe{}", p), m));
      Signal lane = c.out_bits ? threshold_count_hw(acc, th[static_cast<size_t>(p)].flip, th[static_cast<size_t>(p)].t, c.out_bits) : acc;
      Signal bitsv = cast(lane, Type::bits(lane.type.width));
      out = out.valid() ? concat(bitsv, out) : bitsv;  // lane (m, p) above the lanes before it
    }
  }
  kb.output("out", out, last_cols);
  return kb.finish();
}

std::vector<std::int64_t> mvtu_forward(const MvtuConfig& c, const BinaryMatrix& w, const Thresholds* t,
                                       const std::vector<std::int64_t>& input) {
  return mvtu_forward(c, w, t, input, best_simd_path());
}

std::vector<std::int64_t> mvtu_forward(const MvtuConfig& c, const BinaryMatrix& w, const Thresholds* t,
                                       const std::vector<std::int64_t>& input, SimdPath path) {
  c.check();  // the weights and thresholds: mvtu_forward_planes
  if (input.size() % static_cast<size_t>(c.mw) != 0)
    throw UserError(fmt::format("{}: {} input values are not a whole number of vectors of MW = {}", c.name, input.size(), c.mw));
  const size_t vectors = input.size() / static_cast<size_t>(c.mw);
  const int words = w.words_per_row();
  const size_t per_vector = static_cast<size_t>(c.in_bits) * static_cast<size_t>(words);
  // Every vector's bit planes (engines/bit_planes.hpp), then every match count at once, so that
  // the weights are read once per block of vectors rather than once per vector.
  std::vector<std::uint64_t> planes(vectors * per_vector);
  std::uint64_t too_wide = 0;
  for (size_t v = 0; v < vectors; ++v)
    too_wide |= pack_planes(path, &input[v * static_cast<size_t>(c.mw)], c.mw, c.in_bits, words, &planes[v * per_vector]);
  if (too_wide) mvtu_refuse_input(c, input);
  return mvtu_forward_planes(c, w, t, planes.data(), vectors, path);
}

void mvtu_refuse_input(const MvtuConfig& c, const std::vector<std::int64_t>& input) {
  for (std::int64_t x : input)
    if (static_cast<std::uint64_t>(x) >> c.in_bits) throw UserError(fmt::format("{}: input value {} does not fit {} bits", c.name, x, c.in_bits));
  throw InternalError(fmt::format("{}: an input value was found too wide for {} bits, and none is", c.name, c.in_bits));
}

namespace {

// Match counts (out[v*MH + r]) to the MVTU's outputs, given each vector's q (dot = 2*matches - q):
// thresholded, or the raw dot products.
template <class Q>
void finish_matches(const MvtuConfig& c, const Thresholds* t, std::vector<std::int64_t>& out, std::size_t vectors, Q q_of) {
  std::optional<ThresholdTable> table;
  if (c.out_bits) table.emplace(*t);
  for (size_t v = 0; v < vectors; ++v) {
    const std::int64_t q = q_of(v);
    std::int64_t* o = &out[v * static_cast<size_t>(c.mh)];
    if (table) table->apply_to_matches(o, q);
    else
      for (int r = 0; r < c.mh; ++r) o[r] = 2 * o[r] - q;
  }
}

}  // namespace

std::vector<std::int64_t> mvtu_forward_planes(const MvtuConfig& c, const BinaryMatrix& w, const Thresholds* t,
                                              const std::uint64_t* planes, std::size_t vectors, SimdPath path) {
  check_weights(c, w, t);
  const int words = w.words_per_row(), B = c.in_bits, MH = c.mh;
  const size_t per_vector = static_cast<size_t>(B) * static_cast<size_t>(words);
  std::vector<std::int64_t> out(vectors * static_cast<size_t>(MH));
  PackedMatVec m;
  m.weights = w.words.data();
  m.rows = MH;
  m.words = words;
  m.width = c.mw;
  m.planes = planes;
  m.vectors = static_cast<int>(vectors);
  m.bits = B;
  m.binary = c.input == InputKind::Binary;
  count_matches(path, m, out.data());
  // Binary: dot = 2*matches - MW. Unsigned: dot = 2*P - Q, Q = sum_j 2^j popcount(plane j).
  finish_matches(c, t, out, vectors, [&](size_t v) {
    std::int64_t q = c.mw;
    if (c.input == InputKind::Unsigned) {
      q = 0;
      for (int j = 0; j < B; ++j)
        for (int k = 0; k < words; ++k) q += std::int64_t{std::popcount(planes[v * per_vector + static_cast<size_t>(j * words + k)])} << j;
    }
    return q;
  });
  return out;
}

std::vector<std::int64_t> mvtu_forward_bytes(const MvtuConfig& c, const BinaryMatrix& w, const Thresholds* t,
                                             const std::uint8_t* bytes, std::size_t vectors, SimdPath path) {
  check_weights(c, w, t);
  if (c.input != InputKind::Unsigned || c.in_bits > 8)
    throw InternalError(fmt::format("{}: {}-bit {} inputs are not counted as bytes", c.name, c.in_bits,
                                    c.input == InputKind::Binary ? "binary" : "unsigned"));
  std::vector<std::int64_t> out(vectors * static_cast<size_t>(c.mh));
  ByteMatVec m;
  m.weights = w.words.data();
  m.rows = c.mh;
  m.words = w.words_per_row();
  m.width = c.mw;
  m.values = bytes;
  m.vectors = static_cast<int>(vectors);
  count_byte_matches(path, m, out.data());
  // dot = 2*P - Q, Q the vector's sum.
  finish_matches(c, t, out, vectors, [&](size_t v) {
    std::int64_t q = 0;
    for (size_t i = 0; i < static_cast<size_t>(c.mw); ++i) q += bytes[v * static_cast<size_t>(c.mw) + i];
    return q;
  });
  return out;
}

EngineTiming mvtu_timing(const MvtuConfig& c) {
  c.check();
  return {static_cast<std::int64_t>(c.nf()) * c.sf(), 1};
}

}  // namespace qdf::engines
