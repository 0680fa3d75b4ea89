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

ThresholdTable::ThresholdTable(const Thresholds& t) : channels_(t.channels), levels_(t.levels) {
  const auto C = static_cast<size_t>(t.channels);
  flip_.resize(C);
  t_.resize(static_cast<size_t>(t.levels) * C);
  for (size_t ch = 0; ch < C; ++ch) {
    flip_[ch] = t.flip[ch] ? -1 : 0;
    for (size_t i = 0; i < static_cast<size_t>(t.levels); ++i) t_[i * C + ch] = t.of(static_cast<int>(ch))[i];
  }
}

namespace {

// threshold_count over C channels of accumulators (acc << shift) - q: (v ^ f) - f is -v where
// f = -1 and v where f = 0. The common level counts (1 and 3: 1- and 2-bit activations) with the
// loop over the levels unrolled, so that the loop over the channels vectorizes.
struct Rule {
  const std::int64_t* flip;
  const std::int64_t* t;
  size_t channels, levels;
  int shift;
  std::int64_t q;
};

template <int L>
[[gnu::always_inline]] inline void apply_levels(const Rule& r, size_t L_, std::int64_t* acc) {
  const size_t C = r.channels;
  for (size_t ch = 0; ch < C; ++ch) {
    const std::int64_t a = (acc[ch] << r.shift) - r.q;
    const std::int64_t v = (a ^ r.flip[ch]) - r.flip[ch];
    std::int64_t n = 0;
    for (size_t i = 0; i < (L ? static_cast<size_t>(L) : L_); ++i) n += v >= r.t[i * C + ch];
    acc[ch] = n;
  }
}

[[gnu::always_inline]] inline void apply_rule(const Rule& r, std::int64_t* acc) {
  if (r.levels == 1) return apply_levels<1>(r, 1, acc);
  if (r.levels == 3) return apply_levels<3>(r, 3, acc);
  apply_levels<0>(r, r.levels, acc);
}

void apply_portable(const Rule& r, std::int64_t* acc) { apply_rule(r, acc); }

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) void apply_avx2(const Rule& r, std::int64_t* acc) { apply_rule(r, acc); }
const bool kHaveAvx2 = __builtin_cpu_supports("avx2");
#endif

void apply_any(const Rule& r, std::int64_t* acc) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (kHaveAvx2) return apply_avx2(r, acc);
#endif
  apply_portable(r, acc);
}

}  // namespace

void ThresholdTable::apply(std::int64_t* acc) const {
  apply_any({flip_.data(), t_.data(), static_cast<size_t>(channels_), static_cast<size_t>(levels_), 0, 0}, acc);
}

void ThresholdTable::apply_to_matches(std::int64_t* matches, std::int64_t q) const {
  apply_any({flip_.data(), t_.data(), static_cast<size_t>(channels_), static_cast<size_t>(levels_), 1, q}, matches);
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
