#include "engines/stream_layout.hpp"

#include "dsl/bits.hpp"
#include "dsl/errors.hpp"

#include <fmt/format.h>

namespace qdf::engines {

dsl::Stream pack_lanes(const std::vector<std::int64_t>& values, const Lanes& l) {
  if (l.lanes < 1 || l.bits < 1 || l.bits > 63)
    throw UserError(fmt::format("a stream needs 1..63 bits per lane and at least one lane, found {} x {}", l.lanes, l.bits));
  if (values.size() % static_cast<size_t>(l.lanes) != 0)
    throw UserError(fmt::format("{} values do not fill elements of {} lanes", values.size(), l.lanes));
  const std::int64_t lo = l.is_signed ? -(std::int64_t{1} << (l.bits - 1)) : 0;
  const std::int64_t hi = l.is_signed ? (std::int64_t{1} << (l.bits - 1)) - 1 : (std::int64_t{1} << l.bits) - 1;
  dsl::Stream s(l.element_bits());
  std::vector<std::uint64_t> w(static_cast<size_t>(s.words_per_element()));
  for (size_t e = 0; e < values.size() / static_cast<size_t>(l.lanes); ++e) {
    std::fill(w.begin(), w.end(), 0);
    for (int i = 0; i < l.lanes; ++i) {
      std::int64_t v = values[e * static_cast<size_t>(l.lanes) + static_cast<size_t>(i)];
      if (v < lo || v > hi)
        throw UserError(fmt::format("value {} does not fit a {} {}-bit lane", v, l.is_signed ? "signed" : "unsigned", l.bits));
      std::uint64_t u = static_cast<std::uint64_t>(v) & ((std::uint64_t{1} << l.bits) - 1);
      for (int b = 0; b < l.bits; ++b)
        if ((u >> b) & 1) dsl::bits::set_bit(w.data(), i * l.bits + b, true);
    }
    s.push_words(w.data());
  }
  return s;
}

std::vector<std::int64_t> unpack_lanes(const dsl::Stream& s, const Lanes& l) {
  if (s.width != l.element_bits())
    throw UserError(fmt::format("a stream of {}-bit elements does not hold {} lanes of {} bits", s.width, l.lanes, l.bits));
  std::vector<std::int64_t> out;
  out.reserve(s.size() * static_cast<size_t>(l.lanes));
  for (size_t e = 0; e < s.size(); ++e)
    for (int i = 0; i < l.lanes; ++i) {
      std::uint64_t u = 0;
      dsl::bits::extract(&u, l.bits, s.at(e), s.width, i * l.bits);
      std::int64_t v = static_cast<std::int64_t>(u);
      if (l.is_signed && ((u >> (l.bits - 1)) & 1)) v -= std::int64_t{1} << l.bits;
      out.push_back(v);
    }
  return out;
}

std::vector<std::int64_t> bipolar_to_bits(const std::vector<std::int64_t>& v) {
  std::vector<std::int64_t> b;
  b.reserve(v.size());
  for (std::int64_t x : v) {
    if (x != 1 && x != -1) throw UserError(fmt::format("a bipolar value must be -1 or +1, found {}", x));
    b.push_back(x > 0);
  }
  return b;
}

}  // namespace qdf::engines
