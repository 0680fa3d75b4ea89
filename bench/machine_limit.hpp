// The machine's own limit for the functional models' hot loop (bench_engines prints it beside
// them): a plain XNOR-popcount matrix-vector product over 64-bit words, compiled with
// -O3 -march=native (bench/CMakeLists.txt) so that the compiler vectorizes it for the CPU the
// benchmark runs on. It shares no code with engines/.
#pragma once

#include <cstdint>

// out[r] = number of equal bits of row r of `w` (rows x words) and `x` (words). Returns the sum
// of out, so that the work cannot be optimized away.
std::int64_t xnor_popcount_matvec(const std::uint64_t* w, int rows, int words, const std::uint64_t* x, std::int64_t* out);
