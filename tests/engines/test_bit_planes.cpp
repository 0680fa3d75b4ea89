// The packed-word loops (engines/bit_planes.hpp): every SIMD path this CPU has against a plain
// bit-by-bit count written here, and the paths against each other, over widths that leave
// partial words and partial eight-word chunks, and over every block of vectors (some of them
// more than the eight a register holds side by side, and not a multiple of it).
#include "dsl/bits.hpp"
#include "engines/bit_planes.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace qdf;
using namespace qdf::engines;

namespace {

std::uint64_t next(std::uint64_t& x) { return dsl::bits::splitmix64(x); }

// Bit i of value v, one bit at a time.
int bit_of(std::int64_t v, int i) { return static_cast<int>((static_cast<std::uint64_t>(v) >> i) & 1); }

// `vectors` vectors of `width` values packed into planes on the portable path (checked below).
std::vector<std::uint64_t> packed(const std::vector<std::int64_t>& values, int vectors, int width, int bits, int words) {
  std::vector<std::uint64_t> planes(static_cast<size_t>(vectors * bits * words));
  for (int v = 0; v < vectors; ++v)
    pack_planes(SimdPath::Portable, &values[static_cast<size_t>(v * width)], width, bits, words, &planes[static_cast<size_t>(v * bits * words)]);
  return planes;
}

PackedMatVec mat_vec(const std::vector<std::uint64_t>& w, int rows, int words, int width, const std::vector<std::uint64_t>& planes,
                     int vectors, int bits, bool binary) {
  PackedMatVec m;
  m.weights = w.data();
  m.rows = rows;
  m.words = words;
  m.width = width;
  m.planes = planes.data();
  m.vectors = vectors;
  m.bits = bits;
  m.binary = binary;
  return m;
}

}  // namespace

TEST_CASE("pack_planes puts bit j of value i at plane j, word i/64, bit i%64, and flags values too wide") {
  std::uint64_t seed = 7;
  for (SimdPath path : available_simd_paths())
    for (int bits : {1, 2, 3, 8, 16})
      for (int n : {1, 7, 8, 9, 63, 64, 65, 130, 577}) {
        const int words = (n + 63) / 64 + (n % 3 == 0);  // sometimes a spare word, which must come out 0
        std::vector<std::int64_t> v(static_cast<size_t>(n));
        for (auto& x : v) x = static_cast<std::int64_t>(next(seed) % (std::uint64_t{1} << bits));
        std::vector<std::uint64_t> planes(static_cast<size_t>(bits * words), ~std::uint64_t{0});
        INFO(simd_path_name(path), " bits=", bits, " n=", n);
        CHECK(pack_planes(path, v.data(), n, bits, words, planes.data()) == 0);
        for (int j = 0; j < bits; ++j)
          for (int i = 0; i < words * 64; ++i) {
            const int got = static_cast<int>((planes[static_cast<size_t>(j * words + i / 64)] >> (i % 64)) & 1);
            const int want = i < n ? bit_of(v[static_cast<size_t>(i)], j) : 0;
            if (got != want) FAIL("plane ", j, ", value ", i, ": bit ", got, ", expected ", want);
          }
        v[static_cast<size_t>(n / 2)] = std::int64_t{1} << bits;  // one value too wide
        CHECK(pack_planes(path, v.data(), n, bits, words, planes.data()) != 0);
        v[static_cast<size_t>(n / 2)] = -1;
        CHECK(pack_planes(path, v.data(), n, bits, words, planes.data()) != 0);
      }
}

TEST_CASE("pack_planes_bytes packs bytes as pack_planes packs the same values, on every SIMD path") {
  std::uint64_t seed = 9;
  for (SimdPath path : available_simd_paths())
    for (int bits : {1, 2, 5, 8})
      for (int n : {1, 27, 63, 64, 65, 130, 577}) {
        const int words = (n + 63) / 64 + (n % 3 == 0);
        std::vector<std::int64_t> v(static_cast<size_t>(n));
        std::vector<std::uint8_t> b(static_cast<size_t>(n));
        for (size_t i = 0; i < v.size(); ++i) b[i] = static_cast<std::uint8_t>(v[i] = static_cast<std::int64_t>(next(seed) % (std::uint64_t{1} << bits)));
        std::vector<std::uint64_t> want(static_cast<size_t>(bits * words)), got(want.size(), ~std::uint64_t{0});
        pack_planes(SimdPath::Portable, v.data(), n, bits, words, want.data());
        pack_planes_bytes(path, b.data(), n, bits, words, got.data());
        INFO(simd_path_name(path), " bits=", bits, " n=", n);
        CHECK(got == want);
      }
}

TEST_CASE("max_into takes the larger of each pair on every SIMD path") {
  std::uint64_t seed = 3;
  for (SimdPath path : available_simd_paths())
    for (std::size_t n : {0, 1, 7, 8, 9, 64, 67}) {
      std::vector<std::int64_t> acc(n), x(n);
      for (std::size_t i = 0; i < n; ++i) acc[i] = static_cast<std::int64_t>(next(seed) % 7) - 3, x[i] = static_cast<std::int64_t>(next(seed) % 7) - 3;
      auto want = acc;
      for (std::size_t i = 0; i < n; ++i) want[i] = std::max(acc[i], x[i]);
      max_into(path, acc.data(), x.data(), n);
      INFO(simd_path_name(path), " n=", n);
      CHECK(acc == want);
    }
}

TEST_CASE("or_bits copies a bit range at any two alignments and leaves the bits around it") {
  std::uint64_t seed = 5;
  std::vector<std::uint64_t> src(6);
  for (auto& x : src) x = next(seed);
  auto bit = [](const std::vector<std::uint64_t>& v, std::int64_t i) { return (v[static_cast<size_t>(i / 64)] >> (i % 64)) & 1; };
  int cases = 0;
  for (std::int64_t from : {0, 1, 9, 63, 64, 100})
    for (std::int64_t to : {0, 5, 63, 64, 127})
      for (std::int64_t n : {1, 9, 63, 64, 65, 130, 191}) {
        if (from + n > 5 * 64) continue;  // src's last word stays readable past the range
        std::vector<std::uint64_t> dst(5, 0);
        or_bits(dst.data(), to, src.data(), from, n);
        for (std::int64_t i = 0; i < 5 * 64; ++i) {
          const auto want = i >= to && i < to + n ? bit(src, from + i - to) : 0;
          if (bit(dst, i) != want) FAIL("from ", from, " to ", to, " n ", n, ": bit ", i, " is ", bit(dst, i));
        }
        ++cases;
      }
  CHECK(cases > 150);
}

TEST_CASE("count_matches on every SIMD path == a bit-by-bit count, binary (XNOR) and unsigned (AND) planes") {
  std::uint64_t seed = 11;
  int cases = 0;
  const std::vector<SimdPath> paths = available_simd_paths();
  for (int width : {1, 63, 64, 65, 511, 512, 513, 576, 1000, 1152})
    for (auto [binary, bits] : {std::pair{true, 1}, {false, 1}, {false, 2}, {false, 8}})
      for (int vectors : {1, 4, 6, 9, 17}) {
        const int rows = 1 + static_cast<int>(next(seed) % 7), words = (width + 63) / 64;
        // Random weights, with random bits past `width` too: they must not count.
        std::vector<std::uint64_t> w(static_cast<size_t>(rows * words));
        for (auto& x : w) x = next(seed);
        // Input values and their planes (packed on the portable path, checked above).
        std::vector<std::int64_t> values(static_cast<size_t>(vectors * width));
        for (auto& x : values) x = static_cast<std::int64_t>(next(seed) % (std::uint64_t{1} << bits));
        const std::vector<std::uint64_t> planes = packed(values, vectors, width, bits, words);
        std::vector<std::int64_t> want(static_cast<size_t>(vectors * rows));
        for (int v = 0; v < vectors; ++v)
          for (int r = 0; r < rows; ++r) {
            std::int64_t n = 0;
            for (int i = 0; i < width; ++i) {
              const int wb = static_cast<int>((w[static_cast<size_t>(r * words + i / 64)] >> (i % 64)) & 1);
              const std::int64_t a = values[static_cast<size_t>(v * width + i)];
              n += binary ? (wb == a) : wb * a;  // unsigned: sum_j 2^j (w & a_j) = w * a
            }
            want[static_cast<size_t>(v * rows + r)] = n;
          }
        const PackedMatVec m = mat_vec(w, rows, words, width, planes, vectors, bits, binary);
        std::vector<std::vector<std::int64_t>> got;
        for (SimdPath path : paths) {
          got.emplace_back(static_cast<size_t>(vectors * rows), -1);
          count_matches(path, m, got.back().data());
          INFO(simd_path_name(path), " width=", width, binary ? " binary" : " unsigned", " bits=", bits, " vectors=", vectors,
               " rows=", rows);
          for (size_t i = 0; i < want.size(); ++i)
            if (got.back()[i] != want[i])
              FAIL("vector ", i / static_cast<size_t>(rows), ", row ", i % static_cast<size_t>(rows), ": ", got.back()[i],
                   ", expected ", want[i]);
        }
        for (size_t p = 1; p < got.size(); ++p) CHECK(got[p] == got[0]);  // the paths agree bit-exactly
        ++cases;
      }
  CHECK(cases == 10 * 4 * 5);
}

TEST_CASE("count_byte_matches on every SIMD path == count_matches of the same vectors packed (unsigned)") {
  std::uint64_t seed = 23;
  const std::vector<SimdPath> paths = available_simd_paths();
  MESSAGE(fmt::format("byte dot products on this CPU: {}", byte_matches_fast(best_simd_path()) ? "AVX-512 VNNI" : "none (portable only)"));
  for (int width : {1, 3, 4, 27, 64, 147, 200})
    for (int bits : {4, 8})
      for (int rows : {1, 15, 16, 17, 64})
        for (int vectors : {1, 5}) {
          const int words = (width + 63) / 64;
          std::vector<std::uint64_t> w(static_cast<size_t>(rows * words));
          for (auto& x : w) x = next(seed);  // bits past `width` too: they must not count
          std::vector<std::int64_t> values(static_cast<size_t>(vectors * width));
          std::vector<std::uint8_t> bytes(values.size());
          for (size_t i = 0; i < values.size(); ++i) {
            values[i] = static_cast<std::int64_t>(next(seed) % (std::uint64_t{1} << bits));
            bytes[i] = static_cast<std::uint8_t>(values[i]);
          }
          const std::vector<std::uint64_t> planes = packed(values, vectors, width, bits, words);
          std::vector<std::int64_t> want(static_cast<size_t>(vectors * rows));
          count_matches(SimdPath::Portable, mat_vec(w, rows, words, width, planes, vectors, bits, false), want.data());  // checked bit by bit above
          const ByteMatVec bm{.weights = w.data(), .rows = rows, .words = words, .width = width, .values = bytes.data(), .vectors = vectors};
          for (SimdPath path : paths) {
            INFO(simd_path_name(path), " width=", width, " bits=", bits, " rows=", rows, " vectors=", vectors);
            std::vector<std::int64_t> got(want.size(), -1);
            count_byte_matches(path, bm, got.data());
            CHECK(got == want);
          }
        }
}
