// Arithmetic on values of any width held in 64-bit words, least significant word first.
// Invariant: bits above a value's width are zero in its last word (for SInt too: the value is
// stored as its two's complement truncated to the width). Used by the interpreter's wide path
// and by constant handling; the interpreter has its own single-word fast path.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

namespace qdf::dsl::bits {

using Word = std::uint64_t;
__extension__ typedef unsigned __int128 Wide;  // a GCC/Clang extension: 64x64 -> 128-bit products

inline int words(int width) { return (width + 63) / 64; }
inline Word top_mask(int width) {
  int r = width % 64;
  return r == 0 ? ~Word{0} : ((Word{1} << r) - 1);
}
inline void mask(Word* v, int width) { v[words(width) - 1] &= top_mask(width); }
inline bool sign_bit(const Word* v, int width) { return (v[(width - 1) / 64] >> ((width - 1) % 64)) & 1; }

// dst (dw bits) = src (sw bits) extended by sign (if is_signed) or zero, or truncated.
inline void resize(Word* dst, int dw, const Word* src, int sw, bool is_signed) {
  const int dn = words(dw), sn = words(sw);
  const bool neg = is_signed && sign_bit(src, sw);
  for (int i = 0; i < dn; ++i) dst[i] = i < sn ? src[i] : (neg ? ~Word{0} : 0);
  if (neg && dw > sw) {
    // fill the bits above sw inside the source's last word
    int r = sw % 64;
    if (r != 0) dst[sn - 1] |= ~((Word{1} << r) - 1);
  }
  mask(dst, dw);
}

inline void add(Word* d, const Word* a, const Word* b, int w) {
  Word carry = 0;
  for (int i = 0; i < words(w); ++i) {
    Word s = a[i] + carry;
    Word c1 = s < carry;
    Word t = s + b[i];
    carry = c1 | (t < s);
    d[i] = t;
  }
  mask(d, w);
}
inline void sub(Word* d, const Word* a, const Word* b, int w) {
  Word borrow = 0;
  for (int i = 0; i < words(w); ++i) {
    Word t = a[i] - b[i];
    Word b1 = a[i] < b[i];
    Word u = t - borrow;
    Word b2 = t < borrow;
    borrow = b1 | b2;
    d[i] = u;
  }
  mask(d, w);
}
// d = a * b mod 2^w, a and b already resized to w bits.
inline void mul(Word* d, const Word* a, const Word* b, int w) {
  const int n = words(w);
  std::vector<Word> acc(static_cast<size_t>(n), 0);
  for (int i = 0; i < n; ++i) {
    Wide carry = 0;
    for (int j = 0; i + j < n; ++j) {
      Wide p = static_cast<Wide>(a[i]) * b[j] + acc[static_cast<size_t>(i + j)] + carry;
      acc[static_cast<size_t>(i + j)] = static_cast<Word>(p);
      carry = p >> 64;
    }
  }
  for (int i = 0; i < n; ++i) d[i] = acc[static_cast<size_t>(i)];
  mask(d, w);
}

inline bool equal(const Word* a, const Word* b, int w) {
  for (int i = 0; i < words(w); ++i)
    if (a[i] != b[i]) return false;
  return true;
}
// a < b for values of w bits, signed or not.
inline bool less(const Word* a, const Word* b, int w, bool is_signed) {
  if (is_signed) {
    bool sa = sign_bit(a, w), sb = sign_bit(b, w);
    if (sa != sb) return sa;
  }
  for (int i = words(w) - 1; i >= 0; --i)
    if (a[i] != b[i]) return a[i] < b[i];
  return false;
}

inline bool get_bit(const Word* v, int i) { return (v[i / 64] >> (i % 64)) & 1; }
inline void set_bit(Word* v, int i, bool b) {
  if (b) v[i / 64] |= Word{1} << (i % 64);
  else v[i / 64] &= ~(Word{1} << (i % 64));
}

// d (dw bits) = bits [lo, lo+dw) of s (sw bits); bits past sw read as fill.
inline void extract(Word* d, int dw, const Word* s, int sw, int lo, bool fill = false) {
  const int sn = words(sw);
  for (int i = 0; i < words(dw); ++i) {
    int bit = lo + i * 64;
    int wi = bit / 64, sh = bit % 64;
    auto word_at = [&](int k) -> Word {
      if (k < sn) {
        Word v = s[k];
        if (k == sn - 1 && fill) v |= ~top_mask(sw);
        return v;
      }
      return fill ? ~Word{0} : 0;
    };
    Word lo_w = word_at(wi);
    Word hi_w = sh ? word_at(wi + 1) : 0;
    d[i] = sh ? (lo_w >> sh) | (hi_w << (64 - sh)) : lo_w;
  }
  mask(d, dw);
}
// d (dw bits) = s (sw bits) << k, truncated to dw bits.
inline void shift_left(Word* d, int dw, const Word* s, int sw, int k) {
  const int dn = words(dw), sn = words(sw);
  const int ws = k / 64, bs = k % 64;
  for (int i = dn - 1; i >= 0; --i) {
    int j = i - ws;
    Word lo = (j >= 0 && j < sn) ? s[j] : 0;
    Word lo2 = (j - 1 >= 0 && j - 1 < sn) ? s[j - 1] : 0;
    d[i] = bs ? (lo << bs) | (lo2 >> (64 - bs)) : lo;
  }
  mask(d, dw);
}
inline int popcount(const Word* v, int w) {
  int c = 0;
  for (int i = 0; i < words(w); ++i) c += std::popcount(v[i]);
  return c;
}

// The next value of a splitmix64 sequence: the seeded generator of every random stream, weight
// and threshold in qdf, so that a seed means the same thing everywhere.
inline constexpr Word kSplitmix64Increment = 0x9e3779b97f4a7c15ull;
inline Word splitmix64(Word& state) {
  state += kSplitmix64Increment;
  Word z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The state after n more values of the sequence (it advances by the increment whatever it returns).
inline void splitmix64_skip(Word& state, std::uint64_t n) { state += n * kSplitmix64Increment; }

// Parse "0x1f" / "31" into words of the given width; false if it does not fit.
bool parse(const std::string& text, int width, Word* out);
// Lower-case hex without leading zeros ("0" for zero).
std::string to_hex(const Word* v, int width);

}  // namespace qdf::dsl::bits
