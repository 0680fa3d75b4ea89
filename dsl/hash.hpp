// FNV-1a, the one hash of the project: it names cache entries that outlive a process (Verilator
// builds and runtimes, synthesis logs, in QDF_CACHE_DIR or ~/.cache/qdf), derives stable names of
// unnamed IR nodes in generated Verilog, and keys the planner's resource estimates. Not for
// security or for hash tables under attack.
//
// A string is hashed byte by byte (standard 64-bit FNV-1a: fnv1a("a") == 0xaf63dc4c8601ec8c). A
// 64-bit word is one step, h = (h ^ word) * prime, FNV-1a's step on a wider symbol. Hashing pieces
// one after the other gives the hash of their concatenation, so `Fnv1a().add(a).add(b)` equals
// `fnv1a(a + b)`. Changing any of this renames the cache entries (they are rebuilt, nothing else)
// and the unnamed nodes of generated Verilog.
#pragma once

#include <cstdint>
#include <string_view>

namespace qdf::dsl {

class Fnv1a {
 public:
  static constexpr std::uint64_t kOffsetBasis = 0xcbf29ce484222325ull;
  static constexpr std::uint64_t kPrime = 0x100000001b3ull;

  Fnv1a& add(std::string_view bytes) {
    for (unsigned char c : bytes) add(std::uint64_t{c});
    return *this;
  }
  Fnv1a& add(std::uint64_t word) {
    h_ = (h_ ^ word) * kPrime;
    return *this;
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = kOffsetBasis;
};

inline std::uint64_t fnv1a(std::string_view bytes) { return Fnv1a().add(bytes).value(); }

}  // namespace qdf::dsl
