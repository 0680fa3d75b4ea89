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

dsl::Signal threshold_count_hw(const dsl::Signal& acc, const dsl::Signal& flip, const std::vector<dsl::Signal>& t,
                               int out_bits) {
  using namespace dsl;
  KernelBuilder& kb = *acc.kb;
  Type wide = Type::sint(acc.type.width + 1);
  Signal v = mux(flip, -acc, cast(acc, wide));
  Signal count;
  for (const Signal& ti : t) {
    Signal hit = cast(v >= ti, Type::uint(1));
    count = count.valid() ? count + hit : hit;
  }
  (void)kb;
  return cast(count, Type::uint(out_bits));
}

std::int64_t clamp_threshold(std::int64_t t, std::int64_t bound) { return std::clamp(t, -(bound + 1), bound + 1); }

}  // namespace qdf::engines
