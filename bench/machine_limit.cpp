#include "machine_limit.hpp"

std::int64_t xnor_popcount_matvec(const std::uint64_t* w, int rows, int words, const std::uint64_t* x, std::int64_t* out) {
  std::int64_t all = 0;
  for (int r = 0; r < rows; ++r) {
    std::int64_t s = 0;
    for (int k = 0; k < words; ++k) s += __builtin_popcountll(~(w[static_cast<long>(r) * words + k] ^ x[k]));
    out[r] = s;
    all += s;
  }
  return all;
}
