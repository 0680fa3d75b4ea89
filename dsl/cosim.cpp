#include "dsl/cosim.hpp"

#include "dsl/bits.hpp"
#include "dsl/errors.hpp"

#include <cerrno>
#include <cstdlib>
#include <fmt/format.h>

namespace qdf::dsl {

std::uint64_t stall_seed() {
  const char* v = std::getenv("QDF_SEED");
  if (!v || !*v) return 1;
  char* end = nullptr;
  errno = 0;
  const unsigned long long s = std::strtoull(v, &end, 10);
  if (*end || errno || v[0] == '-' || v[0] == '+' || v[0] == ' ')
    throw UserError(fmt::format("QDF_SEED is '{}': expected the seed of the co-simulations' random stalls, an unsigned integer", v));
  return s;
}

std::vector<StallPattern> seeded_patterns(const std::vector<std::pair<double, double>>& gaps_and_stalls) {
  const std::uint64_t base = stall_seed();
  std::vector<StallPattern> out;
  for (const auto& [gap, stall] : gaps_and_stalls) out.push_back({gap, stall, base + out.size()});
  return out;
}

std::string compare_streams(const std::string& name, const Stream& expected, const Stream& actual, std::size_t max) {
  std::string out;
  std::size_t shown = 0, differ = 0;
  const std::size_t n = std::min(expected.size(), actual.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (bits::equal(expected.at(i), actual.at(i), expected.width)) continue;
    ++differ;
    if (shown++ < max)
      out += fmt::format("  {}[{}]: expected 0x{}, got 0x{}\n", name, i, bits::to_hex(expected.at(i), expected.width),
                         bits::to_hex(actual.at(i), actual.width));
  }
  if (differ > max) out += fmt::format("  {}: {} more differing elements\n", name, differ - max);
  if (expected.size() != actual.size())
    out += fmt::format("  {}: expected {} elements, got {}\n", name, expected.size(), actual.size());
  return out;
}

Stream random_stream(int width, std::size_t n, std::uint64_t seed) {
  Stream s(width);
  std::uint64_t x = seed;
  auto next = [&] { return bits::splitmix64(x); };
  std::vector<std::uint64_t> w(static_cast<size_t>(s.words_per_element()));
  for (std::size_t i = 0; i < n; ++i) {
    for (auto& v : w) v = next();
    bits::mask(w.data(), width);
    s.push_words(w.data());
  }
  return s;
}

std::string CosimReport::summary() const {
  std::string s;
  for (const CosimRun& r : runs) {
    s += fmt::format("gap {:.2f} stall {:.2f} seed {}: {} in {} cycles{}\n", r.pattern.input_gap, r.pattern.output_stall,
                     r.pattern.seed, r.match ? "bit-exact" : "MISMATCH", r.cycles, r.done ? "" : " (did not finish)");
    s += r.mismatches;
  }
  if (!match) s += fmt::format("(the stalls' seeds start at QDF_SEED={}: set it to replay them)\n", stall_seed());
  return s;
}

CosimReport cosimulate(const Kernel& recorded, const RunSpec& spec, const CosimOptions& opt) {
  CosimReport rep;
  rep.reference = interpret(recorded, spec);
  Kernel hw = compile_kernel(recorded, opt.compile);
  VerilogModule m = emit_verilog(hw);
  BuiltModel model = verilator_build(m, hw);
  rep.match = true;
  for (const StallPattern& p : opt.patterns) {
    RtlRunOptions ro;
    ro.seed = p.seed;
    ro.input_gap = p.input_gap;
    ro.output_stall = p.output_stall;
    RtlRunResult rr = verilator_run(model, hw, spec, ro);
    CosimRun run{p, rr.cycles, rr.done, rr.done, ""};
    if (!rr.done) run.mismatches += "  the RTL did not finish (max cycles reached)\n";
    for (const auto& [name, expected] : rep.reference.outputs) {
      std::string diff = compare_streams(name, expected, rr.outputs.at(name), opt.max_reported);
      if (!diff.empty()) {
        run.match = false;
        run.mismatches += diff;
      }
    }
    rep.match = rep.match && run.match;
    rep.runs.push_back(std::move(run));
  }
  return rep;
}

}  // namespace qdf::dsl
