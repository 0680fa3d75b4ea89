// Speed of the engines' functional models: binary MACs per second of the MVTU's bit-packed
// model (64-bit words and popcount) on layer shapes of ResNet-18 and CNV, on one core.
#include "engines/mvtu.hpp"

#include <chrono>
#include <fmt/format.h>
#include <iostream>

using namespace qdf::engines;

int main() {
  struct Shape {
    const char* name;
    int mw, mh, vectors;
    InputKind in;
    int bits;
  };
  const Shape shapes[] = {
      {"resnet18 conv 3x3x512 -> 512, W1A2", 4608, 512, 49, InputKind::Unsigned, 2},
      {"resnet18 conv 3x3x64 -> 64, W1A2", 576, 64, 3136, InputKind::Unsigned, 2},
      {"cnv conv 3x3x64 -> 64, W1A1", 576, 64, 784, InputKind::Binary, 1},
      {"lfc fc 1024 -> 1024, W1A1", 1024, 1024, 200, InputKind::Binary, 1},
  };
  std::cout << fmt::format("{:<40} {:>14} {:>10} {:>16}\n", "MVTU functional model", "binary MACs", "seconds", "MACs/s");
  for (const Shape& s : shapes) {
    MvtuConfig c;
    c.mw = s.mw;
    c.mh = s.mh;
    c.simd = 1;
    c.pe = 1;
    c.input = s.in;
    c.in_bits = s.bits;
    BinaryMatrix w = BinaryMatrix::random(s.mh, s.mw, 1);
    std::vector<std::int64_t> in(static_cast<size_t>(s.mw) * static_cast<size_t>(s.vectors));
    std::uint64_t x = 5;
    for (auto& v : in) {
      x = x * 6364136223846793005ull + 1;
      v = static_cast<std::int64_t>((x >> 40) % (1u << s.bits));
    }
    auto t0 = std::chrono::steady_clock::now();
    auto out = mvtu_forward(c, w, nullptr, in);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double macs = static_cast<double>(s.mw) * s.mh * s.vectors;
    std::cout << fmt::format("{:<40} {:>14.3g} {:>10.3f} {:>16.3g}{}\n", s.name, macs, secs, macs / secs,
                             out.empty() ? " (no output)" : "");
  }
  return 0;
}
