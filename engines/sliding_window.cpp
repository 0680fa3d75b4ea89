#include "engines/sliding_window.hpp"

#include "dsl/errors.hpp"
#include "dsl/signal.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace qdf::engines {

using namespace dsl;

void WindowConfig::check() const {
  auto req = [&](bool ok, const std::string& what) {
    if (!ok)
      throw UserError(fmt::format("{}<H={}, W={}, C={}, K={}, S={}, P={}, SIMD={}> requires {}", name, h, w, c, k, s, p,
                                  simd, what));
  };
  req(h >= 1 && w >= 1 && c >= 1, "H, W, C >= 1");
  req(k >= 1 && s >= 1 && p >= 0, "K >= 1, S >= 1, P >= 0");
  req(p < k, "P < K (a window must overlap the image)");
  req(k <= h + 2 * p && k <= w + 2 * p, "K <= H + 2P and K <= W + 2P");
  req(simd >= 1 && c % simd == 0, fmt::format("C % SIMD == 0 (C must be a multiple of SIMD; {} is not a multiple of {})", c, simd));
  req(bits >= 1 && simd * bits <= 4096, "1 <= bits and SIMD * bits <= 4096");
  req(columns >= 1 && k % columns == 0, fmt::format("K % columns == 0 (columns = {} window pixels per element)", columns));
  req(columns == 1 || simd == c, "SIMD == C when an element holds several window pixels (columns > 1)");
  req(rows >= 1 && k % rows == 0, fmt::format("K % rows == 0 (rows = {} window rows per element)", rows));
  req(rows == 1 || columns == k, "columns == K when an element holds several window rows (rows > 1)");
  req(simd * columns * rows * bits <= 4096, "SIMD * columns * rows * bits <= 4096 bits per output element");
  req(in_pixels >= 1 && (in_pixels & (in_pixels - 1)) == 0 && w % in_pixels == 0,
      fmt::format("in_pixels ({}) to be a power of two dividing W", in_pixels));
  req(in_pixels == 1 || simd == c, "SIMD == C when an input element holds several pixels (in_pixels > 1)");
  req(simd * in_pixels * bits <= 4096, "SIMD * in_pixels * bits <= 4096 bits per input element");
  req(windows >= 1 && (windows == 1 || (rows == k && columns == k)),
      fmt::format("the whole window per element (rows = columns = K) for several windows per element (windows = {})", windows));
  req(windows >= 1 && out_w() % windows == 0, fmt::format("OW ({}) % windows ({}) == 0", out_w(), windows));
  req(simd * columns * rows * windows * bits <= 4096, "SIMD * K * K * windows * bits <= 4096 bits per output element");
}

int WindowConfig::buffer_rows() const {
  int r = 1;
  while (r < k + s) r *= 2;
  return r;
}

namespace {

// A counter 0..max-1 that advances when `inc` holds and returns to 0 when `reset` holds.
struct LoopCounter {
  Signal value, at_max;
  Reg reg;
  LoopCounter(KernelBuilder& kb, const std::string& name, std::int64_t max) : reg(kb.reg(name, Type::uint(index_bits(static_cast<std::uint64_t>(max))))) {
    value = reg.q();
    at_max = eq(value, kb.constant(value.type, static_cast<std::uint64_t>(max - 1)));
    max_ = max;
  }
  void connect(KernelBuilder& kb, const Signal& inc, const Signal& reset) {
    Type t = value.type;
    Signal step = mux(at_max, kb.constant(t, 0), cast(value + kb.constant(Type::uint(1), 1), t));
    Signal nxt = mux(reset, kb.constant(t, 0), step);
    reg.next(nxt, inc | reset);
  }
  std::int64_t max_;
};

}  // namespace

Kernel sliding_window_kernel(const WindowConfig& c) {
  c.check();
  const int H = c.h, W = c.w, K = c.k, S = c.s, P = c.p, CF = c.cf(), R = c.buffer_rows();
  const int OH = c.out_h(), OW = c.out_w();
  KernelBuilder kb(c.name);
  const int G = c.columns, KG = K / G, RW = c.rows, KR = K / RW, Q = c.in_pixels, MW = c.windows;
  const int WE = W / Q;  // input elements of a row of one channel fold
  for (auto [key, v] : {std::pair{"H", H}, {"W", W}, {"C", c.c}, {"K", K}, {"S", S}, {"P", P}, {"SIMD", c.simd},
                        {"bits", c.bits}, {"columns", G}, {"rows", RW}, {"in_pixels", Q}, {"windows", MW}, {"buffer_rows", R}})
    kb.set_param(key, std::to_string(v));
  const Type pixel_t = Type::bits(c.simd * c.bits);     // one pixel's channel fold
  const Type elem_t = Type::bits(c.simd * c.bits * Q);  // an input element, a line buffer entry
  // Signed row and column positions: wide enough for -P .. max(H, W) + S + K.
  const Type pos_t = Type::sint(bits_for(static_cast<std::uint64_t>(std::max(H, W) + S + K + P + R)) + 1);
  auto k_pos = [&](std::int64_t v) { return kb.constant(pos_t, static_cast<std::uint64_t>(v)); };

  // Reader state.
  Reg in_row = kb.reg("in_row", Type::uint(bits_for(static_cast<std::uint64_t>(H))));
  LoopCounter in_pos(kb, "in_pos", static_cast<std::int64_t>(WE) * CF);
  LoopCounter wptr(kb, "wptr", static_cast<std::int64_t>(R) * WE * CF);
  // Writer state: window position (oy, ox, ky, kx, cf), top = oy*S - P, left = ox*S - P; ky
  // counts groups of `rows` window rows and kx groups of `columns` window pixels.
  LoopCounter oy(kb, "oy", OH), ox(kb, "ox", OW / MW), ky(kb, "ky", KR), kx(kb, "kx", KG), cf(kb, "cf", CF);
  Reg top = kb.reg("top", pos_t, static_cast<std::uint64_t>(-P));
  Reg left = kb.reg("left", pos_t, static_cast<std::uint64_t>(-P));
  Reg out_done = kb.reg("out_done", Type::boolean());

  Signal row_in = cast(in_row.q(), pos_t);
  Signal reading = ne(in_row.q(), kb.constant(in_row.q().type, static_cast<std::uint64_t>(H))).named("reading");
  Signal top_q = top.q();
  Signal free_row = mux(top_q < k_pos(0), k_pos(0), top_q).named("free_row");
  Signal last_needed = cast(top_q + k_pos(K - 1), pos_t);
  Signal need = mux(last_needed > k_pos(H - 1), k_pos(H - 1), last_needed).named("need");
  Signal read_en = (reading & (row_in < cast(free_row + k_pos(R), pos_t))).named("read_en");
  Signal out_en = (~out_done.q() & (row_in > need)).named("out_en");
  Signal reset = (out_done.q() & ~reading).named("frame_reset");

  Signal in = kb.input("in", elem_t, read_en);
  Ram buf = kb.ram("line_buffer", elem_t, static_cast<std::int64_t>(R) * WE * CF);
  buf.write(wptr.value, in, read_en);

  // Reader updates.
  in_pos.connect(kb, read_en, reset);
  wptr.connect(kb, read_en, reset);
  Signal row_done = read_en & in_pos.at_max;
  in_row.next(mux(reset, kb.constant(in_row.q().type, 0), cast(in_row.q() + kb.constant(Type::uint(1), 1), in_row.q().type)),
              row_done | reset);

  // Writer: cf fastest, then kx, ky, ox, oy.
  Signal cf_wrap = out_en & cf.at_max;
  Signal kx_wrap = cf_wrap & kx.at_max;
  Signal ky_wrap = kx_wrap & ky.at_max;
  Signal ox_wrap = ky_wrap & ox.at_max;
  Signal oy_wrap = ox_wrap & oy.at_max;
  Signal no = kb.constant(Type::boolean(), 0);
  cf.connect(kb, out_en, no);
  kx.connect(kb, cf_wrap, no);
  ky.connect(kb, kx_wrap, no);
  ox.connect(kb, ky_wrap, no);
  oy.connect(kb, ox_wrap, no);
  top.next(mux(reset, k_pos(-P), cast(top_q + k_pos(S), pos_t)), ox_wrap | reset);
  left.next(mux(ox_wrap, k_pos(-P), cast(left.q() + k_pos(S * MW), pos_t)), ky_wrap);
  out_done.next(~reset, oy_wrap | reset);

  // Window element address and padding, for each of the rows x G pixels of the element.
  Signal ky0 = RW == 1 ? cast(ky.value, pos_t) : cast(cast(ky.value, pos_t) * k_pos(RW), pos_t);
  Signal kx0 = G == 1 ? cast(kx.value, pos_t) : cast(cast(kx.value, pos_t) * k_pos(G), pos_t);
  const int rb = index_bits(static_cast<std::uint64_t>(R)), qb = index_bits(static_cast<std::uint64_t>(Q));
  Type addr_t = Type::uint(index_bits(static_cast<std::uint64_t>(R) * WE * CF) + 1);
  // Pixel (i, j) of the element's window rows: each distinct one read once; window m of an
  // element covers columns m*S .. m*S + K-1 of them.
  const int GJ = (MW - 1) * S + G;
  std::vector<std::vector<Signal>> pixel(static_cast<size_t>(RW), std::vector<Signal>(static_cast<size_t>(GJ)));
  for (int i = 0; i < RW; ++i) {
    const std::string rsfx = RW == 1 ? "" : std::to_string(i);
    Signal row = cast(top_q + (i ? cast(ky0 + k_pos(i), pos_t) : ky0), pos_t).named("row" + rsfx);
    Signal row_pad = ((row < k_pos(0)) | (row > k_pos(H - 1))).named("row_pad" + rsfx);
    Signal slot = R == 1 ? kb.constant(Type::uint(1), 0) : cast(slice(row, rb - 1, 0), Type::uint(rb));
    for (int j = 0; j < GJ; ++j) {
      const std::string sfx = RW == 1 && G == 1 ? "" : RW == 1 ? std::to_string(j) : rsfx + "_" + std::to_string(j);
      Signal col = cast(left.q() + (j ? cast(kx0 + k_pos(j), pos_t) : kx0), pos_t).named("col" + sfx);
      Signal pad = (row_pad | (col < k_pos(0)) | (col > k_pos(W - 1))).named("pad" + sfx);
      Signal col_u = cast(slice(col, pos_t.width - 2, 0), addr_t);
      // The element of the pixel (col / q) and the pixel within it (col % q); q is a power of two.
      Signal col_e = Q == 1 ? col_u : cast(shr(col_u, qb), addr_t);
      Signal entry = cast(cast(slot, addr_t) * kb.constant(addr_t, static_cast<std::uint64_t>(WE)) + col_e, addr_t);
      Signal addr = cast(entry * kb.constant(addr_t, static_cast<std::uint64_t>(CF)) + cast(cf.value, addr_t), addr_t).named("addr" + sfx);
      Signal word = buf.read(addr);
      Signal px = word;
      if (Q > 1) {
        Signal sub = cast(slice(col_u, qb - 1, 0), Type::uint(qb));
        px = slice(word, c.simd * c.bits - 1, 0);
        for (int q = 1; q < Q; ++q)
          px = mux(eq(sub, kb.constant(sub.type, static_cast<std::uint64_t>(q))),
                   slice(word, (q + 1) * c.simd * c.bits - 1, q * c.simd * c.bits), px);
      }
      pixel[static_cast<size_t>(i)][static_cast<size_t>(j)] = mux(pad, kb.constant(pixel_t, 0), px);
    }
  }
  Signal out;
  for (int m = 0; m < MW; ++m)
    for (int i = 0; i < RW; ++i)
      for (int j = 0; j < G; ++j) {
        const Signal& data = pixel[static_cast<size_t>(i)][static_cast<size_t>(m * S + j)];
        out = out.valid() ? concat(data, out) : data;  // each pixel above the ones before it
      }
  kb.output("out", out, out_en);
  return kb.finish();
}

namespace {

// Values per input frame; a UserError unless the input is a whole number of frames.
size_t frame_values(const WindowConfig& c, const std::vector<std::int64_t>& input) {
  c.check();
  const size_t frame = static_cast<size_t>(c.h) * static_cast<size_t>(c.w) * static_cast<size_t>(c.c);
  if (input.size() % frame != 0)
    throw UserError(fmt::format("{}: {} values are not a whole number of {}x{}x{} frames", c.name, input.size(), c.h, c.w, c.c));
  return frame;
}

// Window row ky of output pixel (oy, ox): its map row y, and its columns lo..hi-1 (of 0..K-1)
// that lie inside the map; none when the row is padding (lo == hi).
struct WindowRow {
  int y, x0, lo, hi;
};
inline WindowRow window_row(const WindowConfig& c, int oy, int ox, int ky) {
  const int y = oy * c.s - c.p + ky, x0 = ox * c.s - c.p;
  const int lo = std::clamp(-x0, 0, c.k), hi = std::clamp(c.w - x0, lo, c.k);
  if (y < 0 || y >= c.h) return {y, x0, 0, 0};
  return {y, x0, lo, hi};
}

}  // namespace

std::vector<std::int64_t> sliding_window_forward(const WindowConfig& c, const std::vector<std::int64_t>& input) {
  const size_t frame = frame_values(c, input);
  const int OH = c.out_h(), OW = c.out_w(), K = c.k, C = c.c;
  const size_t window = static_cast<size_t>(K) * static_cast<size_t>(K) * static_cast<size_t>(C);
  std::vector<std::int64_t> out(input.size() / frame * static_cast<size_t>(OH) * static_cast<size_t>(OW) * window);
  // im2col a window row at a time: the K*C values of a window row are contiguous in the input
  // (row-major, channels fastest), so each row is one copy and its padding one fill.
  std::int64_t* o = out.data();
  for (size_t f = 0; f < input.size() / frame; ++f) {
    const std::int64_t* img = &input[f * frame];
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox)
        for (int ky = 0; ky < K; ++ky, o += static_cast<size_t>(K) * static_cast<size_t>(C)) {
          const auto [y, x0, lo, hi] = window_row(c, oy, ox, ky);
          if (lo == hi) {
            std::fill_n(o, static_cast<size_t>(K) * static_cast<size_t>(C), 0);
            continue;
          }
          std::fill_n(o, static_cast<size_t>(lo) * static_cast<size_t>(C), 0);
          std::copy_n(img + (static_cast<size_t>(y) * static_cast<size_t>(c.w) + static_cast<size_t>(x0 + lo)) * static_cast<size_t>(C),
                      static_cast<size_t>(hi - lo) * static_cast<size_t>(C), o + static_cast<size_t>(lo) * static_cast<size_t>(C));
          std::fill_n(o + static_cast<size_t>(hi) * static_cast<size_t>(C), static_cast<size_t>(K - hi) * static_cast<size_t>(C), 0);
        }
  }
  return out;
}

WindowPlanes sliding_window_planes(const WindowConfig& c, const std::vector<std::int64_t>& input, SimdPath path) {
  const size_t frame = frame_values(c, input), frames = input.size() / frame;
  const int OH = c.out_h(), OW = c.out_w(), K = c.k, C = c.c, B = c.bits, row_values = c.w * C;
  WindowPlanes out;
  out.words = (K * K * C + 63) / 64;
  out.windows = frames * static_cast<size_t>(OH) * static_cast<size_t>(OW);
  const size_t per_window = static_cast<size_t>(B) * static_cast<size_t>(out.words);
  out.planes.assign(out.windows * per_window, 0);
  std::uint64_t* o = out.planes.data();
  // Pixels of whole words (C*bits a multiple of 64, as 64 binary channels) are copied a window
  // row at a time from the rows packed into planes, a word per chunk. Others (a first layer's 3
  // channels of 8 bits: 9-bit chunks) through bytes: the window's values gathered as bytes a
  // window row at a time, then packed at once.
  if (B <= 8 && (C * B) % 64 != 0) {
    const WindowBytes b = sliding_window_bytes(c, input);
    const size_t window_values = static_cast<size_t>(K) * static_cast<size_t>(K) * static_cast<size_t>(C);
    for (size_t v = 0; v < b.windows; ++v, o += per_window)
      pack_planes_bytes(path, &b.bytes[v * window_values], static_cast<int>(window_values), B, out.words, o);
    out.too_wide = b.too_wide;
    return out;
  }
  // Every row of a frame packed: row y's plane j at rows[(y*B + j)*row_words], with a word past
  // the row for or_bits.
  const int row_words = (row_values + 63) / 64 + 1;
  std::vector<std::uint64_t> rows(static_cast<size_t>(c.h) * static_cast<size_t>(B) * static_cast<size_t>(row_words));
  std::uint64_t too_wide = 0;
  for (size_t f = 0; f < frames; ++f) {
    const std::int64_t* img = &input[f * frame];
    for (int y = 0; y < c.h; ++y)
      too_wide |= pack_planes(path, img + static_cast<size_t>(y) * static_cast<size_t>(row_values), row_values, B, row_words,
                              &rows[static_cast<size_t>(y) * static_cast<size_t>(B) * static_cast<size_t>(row_words)]);
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox, o += per_window)
        for (int ky = 0; ky < K; ++ky) {
          const auto [y, x0, lo, hi] = window_row(c, oy, ox, ky);
          if (lo == hi) continue;  // padding: the planes are zero
          for (int j = 0; j < B; ++j)
            or_bits(o + static_cast<size_t>(j) * static_cast<size_t>(out.words), static_cast<std::int64_t>(ky * K + lo) * C,
                    &rows[(static_cast<size_t>(y) * static_cast<size_t>(B) + static_cast<size_t>(j)) * static_cast<size_t>(row_words)],
                    static_cast<std::int64_t>(x0 + lo) * C, static_cast<std::int64_t>(hi - lo) * C);
        }
  }
  out.too_wide = too_wide != 0;
  return out;
}

WindowBytes sliding_window_bytes(const WindowConfig& c, const std::vector<std::int64_t>& input) {
  if (c.bits > 8) throw InternalError(fmt::format("{}: windows of {}-bit values are not bytes", c.name, c.bits));
  const size_t frame = frame_values(c, input), frames = input.size() / frame, C = static_cast<size_t>(c.c);
  const int OH = c.out_h(), OW = c.out_w(), K = c.k;
  const size_t window_values = static_cast<size_t>(K) * static_cast<size_t>(K) * C;
  WindowBytes out;
  out.windows = frames * static_cast<size_t>(OH) * static_cast<size_t>(OW);
  out.bytes.assign(out.windows * window_values, 0);  // padding: zero
  std::vector<std::uint8_t> bytes(frame);
  std::uint64_t too_wide = 0;
  std::uint8_t* o = out.bytes.data();
  for (size_t f = 0; f < frames; ++f) {
    const std::int64_t* img = &input[f * frame];
    for (size_t i = 0; i < frame; ++i) {
      too_wide |= static_cast<std::uint64_t>(img[i]) >> c.bits;
      bytes[i] = static_cast<std::uint8_t>(img[i]);
    }
    // A window row at a time.
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox, o += window_values)
        for (int ky = 0; ky < K; ++ky) {
          const auto [y, x0, lo, hi] = window_row(c, oy, ox, ky);
          if (lo == hi) continue;
          std::copy_n(&bytes[(static_cast<size_t>(y) * static_cast<size_t>(c.w) + static_cast<size_t>(x0 + lo)) * C],
                      static_cast<size_t>(hi - lo) * C, o + (static_cast<size_t>(ky) * static_cast<size_t>(K) + static_cast<size_t>(lo)) * C);
        }
  }
  out.too_wide = too_wide != 0;
  return out;
}

std::vector<std::int64_t> sliding_window_max(const WindowConfig& c, const std::vector<std::int64_t>& input) {
  const size_t frame = frame_values(c, input), frames = input.size() / frame, C = static_cast<size_t>(c.c);
  const int OH = c.out_h(), OW = c.out_w();
  std::vector<std::int64_t> out(frames * static_cast<size_t>(OH) * static_cast<size_t>(OW) * C);  // 0: below every value
  std::int64_t* o = out.data();
  const SimdPath path = best_simd_path();
  for (size_t f = 0; f < frames; ++f)
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox, o += C)
        for (int ky = 0; ky < c.k; ++ky) {
          const auto [y, x0, lo, hi] = window_row(c, oy, ox, ky);
          for (int x = x0 + lo; x < x0 + hi; ++x)
            max_into(path, o, &input[f * frame + (static_cast<size_t>(y) * static_cast<size_t>(c.w) + static_cast<size_t>(x)) * C], C);
        }
  return out;
}

EngineTiming sliding_window_timing(const WindowConfig& c) {
  c.check();
  const std::int64_t H = c.h, K = c.k, S = c.s, P = c.p, R = c.buffer_rows(), OH = c.out_h();
  const std::int64_t row_ticks = static_cast<std::int64_t>(c.w / c.in_pixels) * c.cf();
  const std::int64_t window_row_ticks = static_cast<std::int64_t>(c.out_w() / c.windows) * (K / c.rows) * (K / c.columns) * c.cf();
  auto need = [&](std::int64_t oy) { return std::min(oy * S - P + K - 1, H - 1); };
  auto free_row = [&](std::int64_t oy) { return std::max(oy * S - P, std::int64_t{0}); };
  // Row-level events: reader row r occupies ticks [rs, re]; writer row oy may start at ws
  // (when its top is set) and emits [wb, we]. Dependences are acyclic because R >= K + S.
  std::vector<std::int64_t> re(static_cast<size_t>(H), -1), we(static_cast<size_t>(OH), -1);
  std::vector<std::int64_t> ws(static_cast<size_t>(OH) + 1, -1);
  ws[0] = 0;
  std::int64_t r = 0, oy = 0;
  while (r < H || oy < OH) {
    bool progressed = false;
    if (r < H) {
      // the first writer state whose free row lets row r into the buffer
      std::int64_t wait = 0;
      bool known = true;
      if (r - R + 1 > 0) {
        std::int64_t o = 0;
        while (o < OH && free_row(o) < r - R + 1) ++o;
        known = ws[static_cast<size_t>(o)] >= 0;
        wait = ws[static_cast<size_t>(o)];
      }
      if (known) {
        std::int64_t start = std::max(r ? re[static_cast<size_t>(r - 1)] + 1 : 0, wait);
        re[static_cast<size_t>(r)] = start + row_ticks - 1;
        ++r;
        progressed = true;
      }
    }
    if (oy < OH && need(oy) < r) {
      std::int64_t start = std::max(ws[static_cast<size_t>(oy)], re[static_cast<size_t>(need(oy))] + 1);
      we[static_cast<size_t>(oy)] = start + window_row_ticks - 1;
      ws[static_cast<size_t>(oy) + 1] = we[static_cast<size_t>(oy)] + 1;
      ++oy;
      progressed = true;
    }
    if (!progressed) throw InternalError(fmt::format("{}: the window timing model made no progress", c.name));
  }
  // One tick sees both processes finished and resets them; the next frame starts after it.
  return {std::max(we[static_cast<size_t>(OH - 1)], re[static_cast<size_t>(H - 1)]) + 2, 1};
}

}  // namespace qdf::engines
