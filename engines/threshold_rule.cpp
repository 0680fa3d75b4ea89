#include "engines/threshold_rule.hpp"

#include "dsl/errors.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace qdf::engines {

void Thresholds::check(const char* owner) const {
  if (levels != 1 && levels != 3)
    throw UserError(fmt::format("{}: thresholds need 1 level (1-bit output) or 3 levels (2-bit output), found {}", owner, levels));
  if (t.size() != static_cast<size_t>(channels) * static_cast<size_t>(levels))
    throw UserError(fmt::format("{}: {} thresholds given, expected {} channels x {} levels", owner, t.size(), channels, levels));
  if (flip.size() != static_cast<size_t>(channels))
    throw UserError(fmt::format("{}: {} sign flags given, expected one per channel ({})", owner, flip.size(), channels));
  for (int c = 0; c < channels; ++c)
    for (int i = 1; i < levels; ++i)
      if (of(c)[i] < of(c)[i - 1])
        throw UserError(fmt::format("{}: thresholds of channel {} must be ascending, found {} after {}", owner, c, of(c)[i],
                                    of(c)[i - 1]));
}

void Thresholds::check_shape(const std::string& owner, int expect_channels, int out_bits) const {
  check(owner.c_str());
  if (channels != expect_channels || levels != (1 << out_bits) - 1)
    throw UserError(fmt::format("{}: thresholds are {} channels x {} levels, expected {} x {}", owner, channels, levels,
                                expect_channels, (1 << out_bits) - 1));
}

ThresholdRead threshold_rom_hw(dsl::KernelBuilder& kb, const std::string& name, const Thresholds& t,
                               const std::vector<int>& channels, std::int64_t bound, int acc_bits, const dsl::Signal& addr) {
  using namespace dsl;
  const Type thr_t = Type::sint(acc_bits + 1);
  const int tw = thr_t.width, entry_bits = t.levels * tw + 1, entry_words = (entry_bits + 63) / 64;
  auto set = [](std::vector<std::uint64_t>& e, int bit) { e[static_cast<size_t>(bit / 64)] |= std::uint64_t{1} << (bit % 64); };
  std::vector<std::uint64_t> table;
  for (int ch : channels) {
    std::vector<std::uint64_t> e(static_cast<size_t>(entry_words), 0);
    for (int i = 0; i < t.levels; ++i) {
      auto v = static_cast<std::uint64_t>(clamp_threshold(t.of(ch)[i], bound));
      for (int b = 0; b < tw; ++b)
        if ((v >> b) & 1) set(e, i * tw + b);
    }
    if (t.flip[static_cast<size_t>(ch)]) set(e, t.levels * tw);
    table.insert(table.end(), e.begin(), e.end());
  }
  Signal entry = kb.rom_words(name, Type::bits(entry_bits), static_cast<std::int64_t>(channels.size()), table, addr);
  ThresholdRead r;
  for (int i = 0; i < t.levels; ++i) r.t.push_back(cast(slice(entry, i * tw + tw - 1, i * tw), thr_t));
  r.flip = cast(slice(entry, t.levels * tw, t.levels * tw), Type::boolean());
  return r;
}

dsl::Signal threshold_count_hw(const dsl::Signal& acc, const dsl::Signal& flip, const std::vector<dsl::Signal>& t,
                               int out_bits) {
  using namespace dsl;
  Type wide = Type::sint(acc.type.width + 1);
  Signal v = mux(flip, -acc, cast(acc, wide));
  Signal count;
  for (const Signal& ti : t) {
    Signal hit = cast(v >= ti, Type::uint(1));
    count = count.valid() ? count + hit : hit;
  }
  return cast(count, Type::uint(out_bits));
}

std::int64_t clamp_threshold(std::int64_t t, std::int64_t bound) { return std::clamp(t, -(bound + 1), bound + 1); }

}  // namespace qdf::engines
