// FNV-1a names cache entries that outlive a process, so its values are pinned here: the published
// 64-bit FNV-1a test vectors, and the word step the Verilog namer and the planner use.
#include "dsl/hash.hpp"

#include <doctest/doctest.h>

using qdf::dsl::Fnv1a;
using qdf::dsl::fnv1a;

TEST_CASE("fnv1a of strings gives the published 64-bit FNV-1a values") {
  CHECK(fnv1a("") == Fnv1a::kOffsetBasis);  // its value is pinned by the two vectors below
  CHECK(fnv1a("a") == 0xaf63dc4c8601ec8cull);
  CHECK(fnv1a("foobar") == 0x85944171f73967e8ull);
}

TEST_CASE("hashing pieces one after the other hashes their concatenation") {
  CHECK(Fnv1a().add("foo").add("bar").value() == fnv1a("foobar"));
  CHECK(Fnv1a().add("").add("a").value() == fnv1a("a"));
}

TEST_CASE("a 64-bit word is one step: (h ^ word) * prime") {
  // A word below 256 is the same step as the byte of that value.
  CHECK(Fnv1a().add(std::uint64_t{'a'}).value() == fnv1a("a"));
  const std::uint64_t w = 0x0123456789abcdefull;
  CHECK(Fnv1a().add(w).value() == (Fnv1a::kOffsetBasis ^ w) * Fnv1a::kPrime);
  CHECK(Fnv1a().add(w).add("x").value() == (((Fnv1a::kOffsetBasis ^ w) * Fnv1a::kPrime) ^ 'x') * Fnv1a::kPrime);
}
