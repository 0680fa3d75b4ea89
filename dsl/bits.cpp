#include "dsl/bits.hpp"

#include <fmt/format.h>

namespace qdf::dsl::bits {

bool parse(const std::string& text, int width, Word* out) {
  std::string s = text;
  unsigned base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s = s.substr(2);
  }
  if (s.empty()) return false;
  const int n = words(width);
  std::vector<Word> v(static_cast<size_t>(n) + 1, 0);
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9') d = unsigned(c - '0');
    else if (base == 16 && c >= 'a' && c <= 'f') d = unsigned(c - 'a' + 10);
    else if (base == 16 && c >= 'A' && c <= 'F') d = unsigned(c - 'A' + 10);
    else return false;
    // v = v * base + d over n+1 words; overflow into the spare word means it does not fit
    Wide carry = d;
    for (auto& w : v) {
      Wide p = static_cast<Wide>(w) * base + carry;
      w = static_cast<Word>(p);
      carry = p >> 64;
    }
    if (carry || v[static_cast<size_t>(n)] != 0) return false;
  }
  if ((v[static_cast<size_t>(n - 1)] & ~top_mask(width)) != 0) return false;
  for (int i = 0; i < n; ++i) out[i] = v[static_cast<size_t>(i)];
  return true;
}

std::string to_hex(const Word* v, int width) {
  std::string s;
  for (int i = words(width) - 1; i >= 0; --i) s += fmt::format("{:016x}", v[i]);
  auto nz = s.find_first_not_of('0');
  return nz == std::string::npos ? "0" : s.substr(nz);
}

}  // namespace qdf::dsl::bits
