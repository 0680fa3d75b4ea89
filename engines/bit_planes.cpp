#include "engines/bit_planes.hpp"

#include "dsl/errors.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fmt/format.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QDF_X86_SIMD 1
#endif

namespace qdf::engines {

namespace {

// Input vectors per block: each weight word read is used by this many vectors (register
// blocking: the weights, which do not fit L1 for big layers, are read once per block).
constexpr int kBlock = 4;

// Binary inputs count XOR (mismatches) over whole words; the bits of the last weight word past
// `width` meet zero input bits (packing leaves them 0) and count as mismatches, which this
// takes back.
std::int64_t tail_mismatches(const PackedMatVec& m, int r) {
  if (m.width % 64 == 0) return 0;
  const std::uint64_t last = m.weights[static_cast<size_t>(r) * static_cast<size_t>(m.words) + static_cast<size_t>(m.words - 1)];
  return std::popcount(last & ~((std::uint64_t{1} << (m.width % 64)) - 1));
}

void check(const PackedMatVec& m) {
  if (m.rows < 0 || m.vectors < 0 || m.words != (m.width + 63) / 64 || m.bits < 1 || m.bits > 16 || (m.binary && m.bits != 1))
    throw InternalError(fmt::format("count_matches: {} rows of {} words for width {}, {} vectors of {} bits{}", m.rows, m.words,
                                    m.width, m.vectors, m.bits, m.binary ? " (binary)" : ""));
}

// ---- portable: 64-bit words and std::popcount ---------------------------------------------

// Values as int64 (the streams') or as bytes (a sliding window's gathered windows).
template <class T>
std::uint64_t pack_portable(const T* values, int n, int bits, int words, std::uint64_t* planes) {
  std::uint64_t too_wide = 0;
  for (int k = 0; k < words; ++k) {
    const int lo = k * 64, cnt = std::clamp(n - lo, 0, 64);
    for (int j = 0; j < bits; ++j) {
      std::uint64_t plane = 0;
      for (int i = 0; i < cnt; ++i) plane |= ((static_cast<std::uint64_t>(values[lo + i]) >> j) & 1) << i;
      planes[static_cast<size_t>(j) * static_cast<size_t>(words) + static_cast<size_t>(k)] = plane;
    }
    for (int i = 0; i < cnt; ++i) too_wide |= static_cast<std::uint64_t>(values[lo + i]) >> bits;
  }
  return too_wide;
}

template <int NV, bool Binary>
void block_portable(const PackedMatVec& m, int v0, std::int64_t* out) {
  const size_t W = static_cast<size_t>(m.words);
  for (int r = 0; r < m.rows; ++r) {
    const std::uint64_t* w = m.weights + static_cast<size_t>(r) * W;
    std::int64_t total[NV] = {};
    for (int j = 0; j < m.bits; ++j) {
      const std::uint64_t* a[NV];
      std::int64_t acc[NV] = {};
      for (int i = 0; i < NV; ++i) a[i] = m.planes + (static_cast<size_t>(v0 + i) * static_cast<size_t>(m.bits) + static_cast<size_t>(j)) * W;
      for (size_t k = 0; k < W; ++k)
        for (int i = 0; i < NV; ++i) acc[i] += std::popcount(Binary ? a[i][k] ^ w[k] : a[i][k] & w[k]);
      for (int i = 0; i < NV; ++i) total[i] += acc[i] << j;
    }
    for (int i = 0; i < NV; ++i)
      out[static_cast<size_t>(v0 + i) * static_cast<size_t>(m.rows) + static_cast<size_t>(r)] =
          Binary ? m.width - (total[i] - tail_mismatches(m, r)) : total[i];
  }
}

template <bool Binary>
void count_portable(const PackedMatVec& m, std::int64_t* out) {
  int v = 0;
  for (; v + kBlock <= m.vectors; v += kBlock) block_portable<kBlock, Binary>(m, v, out);
  for (; v < m.vectors; ++v) block_portable<1, Binary>(m, v, out);
}

// ---- AVX-512: eight words per instruction, VPOPCNTQ ---------------------------------------

#ifdef QDF_X86_SIMD

// Values of up to 8 bits go through bytes: eight values narrowed to bytes per instruction, then
// one byte test per plane gives a whole 64-bit plane word. Wider ones: a 64-bit test per plane
// and eight values.
__attribute__((target("avx512f,avx512bw"))) std::uint64_t pack_avx512(const std::int64_t* values, int n, int bits, int words,
                                                                          std::uint64_t* planes) {
  // (Reductions and shifts by a register are spelled with stores and compares: GCC 12's
  // versions of those intrinsics trip its own uninitialized-value warnings.)
  const __m512i top = _mm512_set1_epi64(static_cast<std::int64_t>((std::uint64_t{1} << bits) - 1));
  std::uint64_t too_wide = 0;
  alignas(64) std::uint8_t bytes[64];
  std::uint64_t plane[16];
  for (int k = 0; k < words; ++k) {
    const int lo = k * 64, cnt = std::clamp(n - lo, 0, 64);
    if (bits <= 8) {
      for (int g = 0; g < 8; ++g) {
        const int m = std::clamp(cnt - g * 8, 0, 8);
        const __m512i x = m ? _mm512_maskz_loadu_epi64(static_cast<__mmask8>((1u << m) - 1), values + lo + g * 8) : _mm512_setzero_si512();
        too_wide |= _mm512_cmpgt_epu64_mask(x, top);
        _mm512_mask_cvtepi64_storeu_epi8(bytes + g * 8, static_cast<__mmask8>(0xff), x);
      }
      const __m512i b = _mm512_load_si512(bytes);
      for (int j = 0; j < bits; ++j)
        planes[static_cast<size_t>(j) * static_cast<size_t>(words) + static_cast<size_t>(k)] =
            _mm512_test_epi8_mask(b, _mm512_set1_epi8(static_cast<char>(1 << j)));
      continue;
    }
    std::fill(plane, plane + bits, 0);
    for (int g = 0; g * 8 < cnt; ++g) {
      const int m = std::min(8, cnt - g * 8);
      const __m512i x = _mm512_maskz_loadu_epi64(static_cast<__mmask8>((1u << m) - 1), values + lo + g * 8);
      too_wide |= _mm512_cmpgt_epu64_mask(x, top);
      for (int j = 0; j < bits; ++j)
        plane[j] |= static_cast<std::uint64_t>(_mm512_test_epi64_mask(x, _mm512_set1_epi64(std::int64_t{1} << j))) << (g * 8);
    }
    for (int j = 0; j < bits; ++j) planes[static_cast<size_t>(j) * static_cast<size_t>(words) + static_cast<size_t>(k)] = plane[j];
  }
  return too_wide;
}

// Sixty-four bytes a load, one byte test per plane.
__attribute__((target("avx512f,avx512bw"))) void pack_bytes_avx512(const std::uint8_t* values, int n, int bits, int words,
                                                                    std::uint64_t* planes) {
  for (int k = 0; k < words; ++k) {
    const int lo = k * 64, cnt = std::clamp(n - lo, 0, 64);
    const __mmask64 live = cnt == 64 ? ~__mmask64{0} : (__mmask64{1} << cnt) - 1;
    const __m512i b = cnt ? _mm512_maskz_loadu_epi8(live, values + lo) : _mm512_setzero_si512();
    for (int j = 0; j < bits; ++j)
      planes[static_cast<size_t>(j) * static_cast<size_t>(words) + static_cast<size_t>(k)] =
          _mm512_test_epi8_mask(b, _mm512_set1_epi8(static_cast<char>(1 << j)));
  }
}

__attribute__((target("avx512f"))) void max_avx512(std::int64_t* acc, const std::int64_t* x, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm512_storeu_si512(acc + i, _mm512_maskz_max_epi64(0xff, _mm512_loadu_si512(acc + i), _mm512_loadu_si512(x + i)));  // maskz: see pack_avx512
  for (; i < n; ++i) acc[i] = std::max(acc[i], x[i]);
}

template <int NV, bool Binary>
__attribute__((target("avx512f,avx512vpopcntdq"))) void block_avx512(const PackedMatVec& m, int v0, std::int64_t* out) {
  const size_t W = static_cast<size_t>(m.words), full = W / 8 * 8;
  const auto tail = static_cast<__mmask8>((1u << (W - full)) - 1);
  for (int r = 0; r < m.rows; ++r) {
    const std::uint64_t* w = m.weights + static_cast<size_t>(r) * W;
    std::int64_t total[NV] = {};
    for (int j = 0; j < m.bits; ++j) {
      const std::uint64_t* a[NV];
      __m512i acc[NV];
      for (int i = 0; i < NV; ++i) {
        a[i] = m.planes + (static_cast<size_t>(v0 + i) * static_cast<size_t>(m.bits) + static_cast<size_t>(j)) * W;
        acc[i] = _mm512_setzero_si512();
      }
      for (size_t k = 0; k < full; k += 8) {
        const __m512i wk = _mm512_loadu_si512(w + k);
        for (int i = 0; i < NV; ++i) {
          const __m512i x = _mm512_loadu_si512(a[i] + k);
          acc[i] = _mm512_add_epi64(acc[i], _mm512_popcnt_epi64(Binary ? _mm512_xor_si512(x, wk) : _mm512_and_si512(x, wk)));
        }
      }
      if (tail) {
        const __m512i wk = _mm512_maskz_loadu_epi64(tail, w + full);
        for (int i = 0; i < NV; ++i) {
          const __m512i x = _mm512_maskz_loadu_epi64(tail, a[i] + full);
          acc[i] = _mm512_add_epi64(acc[i], _mm512_popcnt_epi64(Binary ? _mm512_xor_si512(x, wk) : _mm512_and_si512(x, wk)));
        }
      }
      for (int i = 0; i < NV; ++i) {
        alignas(64) std::int64_t lane[8];
        _mm512_store_si512(lane, acc[i]);
        total[i] += (lane[0] + lane[1] + lane[2] + lane[3] + lane[4] + lane[5] + lane[6] + lane[7]) << j;
      }
    }
    for (int i = 0; i < NV; ++i)
      out[static_cast<size_t>(v0 + i) * static_cast<size_t>(m.rows) + static_cast<size_t>(r)] =
          Binary ? m.width - (total[i] - tail_mismatches(m, r)) : total[i];
  }
}

// out[i] = the sum of the eight lanes of s[i], for eight vectors at once (a transpose by
// unpacks and 128-bit shuffles; the maskz forms because GCC 12's plain ones warn, see above).
__attribute__((target("avx512f"))) inline void reduce8(const __m512i* s, std::int64_t* out) {
  const __mmask8 all = 0xff;
  __m512i t[4];
  for (int i = 0; i < 4; ++i)  // per 128-bit lane: (sum of s[2i]'s pair, sum of s[2i+1]'s pair)
    t[i] = _mm512_add_epi64(_mm512_maskz_unpacklo_epi64(all, s[2 * i], s[2 * i + 1]), _mm512_maskz_unpackhi_epi64(all, s[2 * i], s[2 * i + 1]));
  __m512i u[2];
  for (int i = 0; i < 2; ++i)  // lanes 0+1 and 2+3 of t[2i], t[2i+1]
    u[i] = _mm512_add_epi64(_mm512_maskz_shuffle_i64x2(all, t[2 * i], t[2 * i + 1], 0x88),
                            _mm512_maskz_shuffle_i64x2(all, t[2 * i], t[2 * i + 1], 0xdd));
  const __m512i r = _mm512_add_epi64(_mm512_maskz_shuffle_i64x2(all, u[0], u[1], 0x88), _mm512_maskz_shuffle_i64x2(all, u[0], u[1], 0xdd));
  _mm512_storeu_si512(out, r);
}

// A tile of NR weight rows x NV input vectors of B planes (B = 1 or 2, the common precisions):
// NR*NV*B accumulators in registers, so that each chunk of eight words loads NR weight words and
// NV*B input words for NR*NV*B popcounts.
template <int NR, int NV, int B, bool Binary>
__attribute__((target("avx512f,avx512vpopcntdq"))) void tile_avx512(const PackedMatVec& m, int r0, int v0, std::int64_t* out) {
  const size_t W = static_cast<size_t>(m.words), full = W / 8 * 8;
  const auto tail = static_cast<__mmask8>((1u << (W - full)) - 1);
  const std::uint64_t* w[NR];
  const std::uint64_t* a[NV][B];
  __m512i acc[NR][NV][B];
  for (int r = 0; r < NR; ++r) w[r] = m.weights + static_cast<size_t>(r0 + r) * W;
  for (int v = 0; v < NV; ++v)
    for (int j = 0; j < B; ++j) a[v][j] = m.planes + (static_cast<size_t>(v0 + v) * B + static_cast<size_t>(j)) * W;
  for (int r = 0; r < NR; ++r)
    for (int v = 0; v < NV; ++v)
      for (int j = 0; j < B; ++j) acc[r][v][j] = _mm512_setzero_si512();
  for (size_t k = 0; k <= full; k += 8) {
    if (k == full && !tail) break;
    const __mmask8 mask = k < full ? static_cast<__mmask8>(0xff) : tail;
    __m512i wk[NR];
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) wk[r] = _mm512_maskz_loadu_epi64(mask, w[r] + k);
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v)
#pragma GCC unroll 2
      for (int j = 0; j < B; ++j) {
        const __m512i x = _mm512_maskz_loadu_epi64(mask, a[v][j] + k);
#pragma GCC unroll 4
        for (int r = 0; r < NR; ++r)
          acc[r][v][j] = _mm512_add_epi64(acc[r][v][j], _mm512_popcnt_epi64(Binary ? _mm512_xor_si512(x, wk[r]) : _mm512_and_si512(x, wk[r])));
      }
  }
  __m512i sum[NR * NV];  // the planes weighted: sum_j 2^j acc[r][v][j]
  for (int r = 0; r < NR; ++r)
    for (int v = 0; v < NV; ++v) {
      __m512i x = acc[r][v][0];
      for (int j = 1; j < B; ++j) {
        __m512i t = acc[r][v][j];
        for (int d = 0; d < j; ++d) t = _mm512_add_epi64(t, t);
        x = _mm512_add_epi64(x, t);
      }
      sum[r * NV + v] = x;
    }
  std::int64_t total[8 * ((NR * NV + 7) / 8)];
  for (int i = 0; i + 8 <= NR * NV; i += 8) reduce8(sum + i, total + i);
  for (int i = NR * NV / 8 * 8; i < NR * NV; ++i) {
    alignas(64) std::int64_t lane[8];
    _mm512_store_si512(lane, sum[i]);
    total[i] = lane[0] + lane[1] + lane[2] + lane[3] + lane[4] + lane[5] + lane[6] + lane[7];
  }
  for (int r = 0; r < NR; ++r)
    for (int v = 0; v < NV; ++v)
      out[static_cast<size_t>(v0 + v) * static_cast<size_t>(m.rows) + static_cast<size_t>(r0 + r)] =
          Binary ? m.width - (total[r * NV + v] - tail_mismatches(m, r0 + r)) : total[r * NV + v];
}

// Blocks of kBlock vectors (their planes stay in L1) against every row, two rows at a time.
template <int B, bool Binary>
void tiles_avx512(const PackedMatVec& m, std::int64_t* out) {
  int v = 0;
  for (; v + kBlock <= m.vectors; v += kBlock) {
    int r = 0;
    for (; r + 2 <= m.rows; r += 2) tile_avx512<2, kBlock, B, Binary>(m, r, v, out);
    for (; r < m.rows; ++r) tile_avx512<1, kBlock, B, Binary>(m, r, v, out);
  }
  for (; v < m.vectors; ++v) {
    int r = 0;
    for (; r + 2 <= m.rows; r += 2) tile_avx512<2, 1, B, Binary>(m, r, v, out);
    for (; r < m.rows; ++r) tile_avx512<1, 1, B, Binary>(m, r, v, out);
  }
}

// Input vectors in a register's lanes: eight vectors side by side (their planes transposed: word
// k of plane j of vector v0 + i at t[(j*words + k)*8 + i], 0 for i >= nv) against each weight word
// broadcast, NR rows at a time. No sums across lanes, and no lanes idle when a row is not a
// multiple of eight words (a 3x3x64 window is nine, which the tiles above take as eight and one).
template <int NR, int B, bool Binary>
__attribute__((target("avx512f,avx512vpopcntdq"))) void lanes_avx512(const PackedMatVec& m, const std::uint64_t* t, int r0, int v0,
                                                                        int nv, const std::int64_t* tails, std::int64_t* out) {
  const size_t W = static_cast<size_t>(m.words);
  const std::uint64_t* w[NR];
  __m512i acc[NR][B];
  for (int r = 0; r < NR; ++r) {
    w[r] = m.weights + static_cast<size_t>(r0 + r) * W;
    for (int j = 0; j < B; ++j) acc[r][j] = _mm512_setzero_si512();
  }
  for (size_t k = 0; k < W; ++k) {
    __m512i x[B];
#pragma GCC unroll 2
    for (int j = 0; j < B; ++j) x[j] = _mm512_loadu_si512(t + (static_cast<size_t>(j) * W + k) * 8);
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) {
      const __m512i wk = _mm512_set1_epi64(static_cast<std::int64_t>(w[r][k]));
#pragma GCC unroll 2
      for (int j = 0; j < B; ++j)
        acc[r][j] = _mm512_add_epi64(acc[r][j], _mm512_popcnt_epi64(Binary ? _mm512_xor_si512(x[j], wk) : _mm512_and_si512(x[j], wk)));
    }
  }
  for (int r = 0; r < NR; ++r) {
    __m512i total = acc[r][B - 1];
    for (int j = B - 2; j >= 0; --j) total = _mm512_add_epi64(_mm512_add_epi64(total, total), acc[r][j]);  // sum_j 2^j count_j
    alignas(64) std::int64_t lane[8];
    _mm512_store_si512(lane, total);
    for (int i = 0; i < nv; ++i)
      out[static_cast<size_t>(v0 + i) * static_cast<size_t>(m.rows) + static_cast<size_t>(r0 + r)] =
          Binary ? m.width - (lane[i] - tails[r0 + r]) : lane[i];
  }
}

template <int B, bool Binary>
void all_lanes_avx512(const PackedMatVec& m, std::int64_t* out) {
  const size_t W = static_cast<size_t>(m.words);
  std::vector<std::int64_t> tails(static_cast<size_t>(m.rows));
  if (Binary)
    for (int r = 0; r < m.rows; ++r) tails[static_cast<size_t>(r)] = tail_mismatches(m, r);
  std::vector<std::uint64_t> t(static_cast<size_t>(B) * W * 8);
  for (int v0 = 0; v0 < m.vectors; v0 += 8) {
    const int nv = std::min(8, m.vectors - v0);
    for (int i = 0; i < 8; ++i)
      for (size_t jk = 0; jk < static_cast<size_t>(B) * W; ++jk)  // plane j's word k: jk = j*W + k, as in the vector's planes
        t[jk * 8 + static_cast<size_t>(i)] = i < nv ? m.planes[static_cast<size_t>(v0 + i) * B * W + jk] : 0;
    int r = 0;
    for (; r + 4 <= m.rows; r += 4) lanes_avx512<4, B, Binary>(m, t.data(), r, v0, nv, tails.data(), out);
    for (; r < m.rows; ++r) lanes_avx512<1, B, Binary>(m, t.data(), r, v0, nv, tails.data(), out);
  }
}

// Narrow rows (fewer than eight words, as a first layer's 3x3x3 window of 8-bit pixels): eight
// rows side by side in a register's lanes against each input word broadcast, so that a row's
// words need no sum across lanes. wt holds the weights transposed: word k of row 8g + i at
// wt[(g*words + k)*8 + i], 0 past the last row.
template <bool Binary>
__attribute__((target("avx512f,avx512vpopcntdq"))) void narrow_avx512(const PackedMatVec& m, const std::uint64_t* wt,
                                                                         std::int64_t* out) {
  const size_t W = static_cast<size_t>(m.words), groups = (static_cast<size_t>(m.rows) + 7) / 8;
  for (int v = 0; v < m.vectors; ++v) {
    const std::uint64_t* a = m.planes + static_cast<size_t>(v) * static_cast<size_t>(m.bits) * W;
    std::int64_t* o = out + static_cast<size_t>(v) * static_cast<size_t>(m.rows);
    for (size_t g = 0; g < groups; ++g) {
      // The planes weighted 2^j by Horner's rule from the top plane down: total = 2*total + count_j.
      __m512i total = _mm512_setzero_si512();
      for (int j = m.bits - 1; j >= 0; --j) {
        __m512i acc = _mm512_setzero_si512();
        for (size_t k = 0; k < W; ++k) {
          const __m512i x = _mm512_set1_epi64(static_cast<std::int64_t>(a[static_cast<size_t>(j) * W + k]));
          const __m512i w = _mm512_loadu_si512(wt + (g * W + k) * 8);
          acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(Binary ? _mm512_xor_si512(x, w) : _mm512_and_si512(x, w)));
        }
        total = _mm512_add_epi64(_mm512_add_epi64(total, total), acc);
      }
      const int r0 = static_cast<int>(g) * 8;
      if (!Binary && r0 + 8 <= m.rows) {
        _mm512_storeu_si512(o + r0, total);
        continue;
      }
      alignas(64) std::int64_t lane[8];
      _mm512_store_si512(lane, total);
      for (int i = 0; i < 8 && r0 + i < m.rows; ++i) o[r0 + i] = Binary ? m.width - (lane[i] - tail_mismatches(m, r0 + i)) : lane[i];
    }
  }
}

template <bool Binary>
void count_avx512(const PackedMatVec& m, std::int64_t* out) {
  if (m.words < 8) {
    const size_t W = static_cast<size_t>(m.words), groups = (static_cast<size_t>(m.rows) + 7) / 8;
    std::vector<std::uint64_t> wt(groups * W * 8, 0);
    for (size_t r = 0; r < static_cast<size_t>(m.rows); ++r)
      for (size_t k = 0; k < W; ++k) wt[((r / 8) * W + k) * 8 + r % 8] = m.weights[r * W + k];
    return narrow_avx512<Binary>(m, wt.data(), out);
  }
  // Rows of whole eight-word chunks: the tiles; others, with vectors enough to fill the lanes, in
  // lanes.
  const bool lanes = m.words % 8 != 0 && m.vectors >= 8;
  if (m.bits == 1) return lanes ? all_lanes_avx512<1, Binary>(m, out) : tiles_avx512<1, Binary>(m, out);
  if (m.bits == 2) return lanes ? all_lanes_avx512<2, Binary>(m, out) : tiles_avx512<2, Binary>(m, out);
  // Wider inputs (an 8-bit first layer): plane by plane.
  int v = 0;
  for (; v + kBlock <= m.vectors; v += kBlock) block_avx512<kBlock, Binary>(m, v, out);
  for (; v < m.vectors; ++v) block_avx512<1, Binary>(m, v, out);
}

// Bytes against weight rows with VPDPBUSD: the weights transposed to a dword per four values
// and row (each byte 0 or 1), 16 rows a register; each vector's four values broadcast.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void byte_matches_vnni(const ByteMatVec& m, std::int64_t* out) {
  const int groups = (m.width + 3) / 4, blocks = (m.rows + 15) / 16, stride = blocks * 16;
  std::vector<std::int32_t> wt(static_cast<size_t>(groups) * static_cast<size_t>(stride), 0);
  for (int r = 0; r < m.rows; ++r)
    for (int i = 0; i < m.width; ++i)
      if (m.weights[static_cast<size_t>(r) * static_cast<size_t>(m.words) + static_cast<size_t>(i / 64)] >> (i % 64) & 1)
        wt[static_cast<size_t>(i / 4) * static_cast<size_t>(stride) + static_cast<size_t>(r)] |= std::int32_t{1} << (8 * (i % 4));
  std::vector<std::uint8_t> x(static_cast<size_t>(groups) * 4, 0);  // a vector, padded with zeros to whole groups
  for (int v = 0; v < m.vectors; ++v) {
    std::copy_n(m.values + static_cast<size_t>(v) * static_cast<size_t>(m.width), m.width, x.begin());
    std::int64_t* o = out + static_cast<size_t>(v) * static_cast<size_t>(m.rows);
    // Four blocks of 16 rows at a time, so that four sums are in flight rather than one chain.
    for (int b0 = 0; b0 < blocks; b0 += 4) {
      const int nb = std::min(4, blocks - b0);
      __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
      for (int g = 0; g < groups; ++g) {
        std::int32_t four;
        std::memcpy(&four, &x[static_cast<size_t>(g) * 4], 4);
        const __m512i xs = _mm512_set1_epi32(four);
        const std::int32_t* wg = &wt[static_cast<size_t>(g) * static_cast<size_t>(stride) + static_cast<size_t>(b0) * 16];
        for (int k = 0; k < 4; ++k)
          if (k < nb) acc[k] = _mm512_dpbusd_epi32(acc[k], xs, _mm512_loadu_si512(wg + k * 16));
      }
      for (int k = 0; k < nb; ++k) {
        const int b = b0 + k, left = std::min(16, m.rows - b * 16);
        const __mmask8 lo = static_cast<__mmask8>(left >= 8 ? 0xff : (1u << left) - 1);
        const __mmask8 hi = static_cast<__mmask8>(left <= 8 ? 0 : left >= 16 ? 0xff : (1u << (left - 8)) - 1);
        // (GCC 12 warns of the unmasked forms' undefined operand: the maskz forms, all lanes kept.)
        _mm512_mask_storeu_epi64(o + b * 16, lo, _mm512_maskz_cvtepi32_epi64(0xff, _mm512_maskz_extracti64x4_epi64(0xf, acc[k], 0)));
        _mm512_mask_storeu_epi64(o + b * 16 + 8, hi, _mm512_maskz_cvtepi32_epi64(0xff, _mm512_maskz_extracti64x4_epi64(0xf, acc[k], 1)));
      }
    }
  }
}

#endif

}  // namespace

std::string_view simd_path_name(SimdPath p) { return p == SimdPath::Avx512 ? "avx512-vpopcntq" : "portable"; }

bool simd_path_available(SimdPath p) {
  if (p == SimdPath::Portable) return true;
#ifdef QDF_X86_SIMD
  static const bool avx512 =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vpopcntdq");
  return avx512;
#else
  return false;
#endif
}

SimdPath best_simd_path() {
  static const SimdPath best = simd_path_available(SimdPath::Avx512) ? SimdPath::Avx512 : SimdPath::Portable;
  return best;
}

std::vector<SimdPath> available_simd_paths() {
  std::vector<SimdPath> out{SimdPath::Portable};
  if (simd_path_available(SimdPath::Avx512)) out.push_back(SimdPath::Avx512);
  return out;
}

std::uint64_t pack_planes(SimdPath p, const std::int64_t* values, int n, int bits, int words, std::uint64_t* planes) {
  if (bits < 1 || bits > 16 || n < 0 || words * 64 < n)
    throw InternalError(fmt::format("pack_planes: {} values of {} bits into {} words", n, bits, words));
  if (!simd_path_available(p)) throw InternalError(fmt::format("pack_planes: the {} path is not available on this CPU", simd_path_name(p)));
#ifdef QDF_X86_SIMD
  if (p == SimdPath::Avx512) return pack_avx512(values, n, bits, words, planes);
#endif
  return pack_portable(values, n, bits, words, planes);
}

void pack_planes_bytes(SimdPath p, const std::uint8_t* values, int n, int bits, int words, std::uint64_t* planes) {
  if (bits < 1 || bits > 8 || n < 0 || words * 64 < n)
    throw InternalError(fmt::format("pack_planes_bytes: {} values of {} bits into {} words", n, bits, words));
  if (!simd_path_available(p))
    throw InternalError(fmt::format("pack_planes_bytes: the {} path is not available on this CPU", simd_path_name(p)));
#ifdef QDF_X86_SIMD
  if (p == SimdPath::Avx512) return pack_bytes_avx512(values, n, bits, words, planes);
#endif
  pack_portable(values, n, bits, words, planes);
}

void max_into(SimdPath p, std::int64_t* acc, const std::int64_t* x, std::size_t n) {
#ifdef QDF_X86_SIMD
  if (p == SimdPath::Avx512 && simd_path_available(p)) return max_avx512(acc, x, n);
#endif
  for (std::size_t i = 0; i < n; ++i) acc[i] = std::max(acc[i], x[i]);
}

bool byte_matches_fast(SimdPath p) {
#ifdef QDF_X86_SIMD
  static const bool vnni = __builtin_cpu_supports("avx512vnni");
  return p == SimdPath::Avx512 && simd_path_available(p) && vnni;
#else
  (void)p;
  return false;
#endif
}

void count_byte_matches(SimdPath p, const ByteMatVec& m, std::int64_t* out) {
  if (m.rows < 0 || m.vectors < 0 || m.width < 0 || m.words * 64 < m.width)
    throw InternalError(fmt::format("count_byte_matches: {} rows of {} words for {} values", m.rows, m.words, m.width));
  if (!simd_path_available(p))
    throw InternalError(fmt::format("count_byte_matches: the {} path is not available on this CPU", simd_path_name(p)));
#ifdef QDF_X86_SIMD
  if (byte_matches_fast(p)) return byte_matches_vnni(m, out);
#endif
  for (int v = 0; v < m.vectors; ++v)
    for (int r = 0; r < m.rows; ++r) {
      const std::uint64_t* w = m.weights + static_cast<size_t>(r) * static_cast<size_t>(m.words);
      const std::uint8_t* x = m.values + static_cast<size_t>(v) * static_cast<size_t>(m.width);
      std::int64_t n = 0;
      for (int i = 0; i < m.width; ++i) n += (w[i / 64] >> (i % 64) & 1) ? x[i] : 0;
      out[static_cast<size_t>(v) * static_cast<size_t>(m.rows) + static_cast<size_t>(r)] = n;
    }
}

void count_matches(SimdPath p, const PackedMatVec& m, std::int64_t* out) {
  check(m);
  if (!simd_path_available(p)) throw InternalError(fmt::format("count_matches: the {} path is not available on this CPU", simd_path_name(p)));
#ifdef QDF_X86_SIMD
  if (p == SimdPath::Avx512) return m.binary ? count_avx512<true>(m, out) : count_avx512<false>(m, out);
#endif
  m.binary ? count_portable<true>(m, out) : count_portable<false>(m, out);
}

}  // namespace qdf::engines
