// The bit-exact interpreter: runs a lowered kernel tick by tick on input streams, with the
// execution model of ir.hpp. It has infinite room on its outputs, so it never stalls on them.
// In a run of `ticks` ticks an enabled input with no data left is an error (the run needs more
// input than was given); with ticks == 0 the run simply ends there.
// Used as the reference that the Verilog of a kernel is checked against.
#pragma once

#include "dsl/ir.hpp"
#include "dsl/passes.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qdf::dsl {

// A sequence of elements of one width, element i in words [i*W, (i+1)*W), W = words per element.
struct Stream {
  int width = 0;
  std::vector<std::uint64_t> words;

  Stream() = default;
  explicit Stream(int w) : width(w) {}
  int words_per_element() const { return (width + 63) / 64; }
  std::size_t size() const { return width ? words.size() / static_cast<size_t>(words_per_element()) : 0; }
  const std::uint64_t* at(std::size_t i) const { return &words[i * static_cast<size_t>(words_per_element())]; }
  std::uint64_t value(std::size_t i) const { return *at(i); }  // low 64 bits
  void push_words(const std::uint64_t* w) { words.insert(words.end(), w, w + words_per_element()); }
  void push(std::uint64_t v);  // value of at most 64 bits, masked to the width
};

struct RunSpec {
  std::map<std::string, Stream> inputs;
  std::map<std::string, std::uint64_t> scalars;
  std::uint64_t ticks = 0;  // logical ticks of the run; 0 = until the inputs run out
  bool trace = false;       // record, per tick, which ports moved an element (RunResult::trace)
};

struct RunResult {
  std::map<std::string, Stream> outputs;
  std::uint64_t ticks = 0;  // ticks advanced, including the flush of the pipeline
  // With RunSpec::trace, one entry per tick: bit i set when input i (in the kernel's order of
  // inputs) took an element in that tick, bit kTraceOutputBit + j when output j wrote one.
  std::vector<std::uint32_t> trace;
  static constexpr int kTraceOutputBit = 16;
};

class Interpreter {
 public:
  // `k` must be lowered (compile_kernel). Compiles it once into flat tables over an array of
  // value words, so that a tick looks nothing up by node or by name.
  explicit Interpreter(const Kernel& k);
  RunResult run(const RunSpec& spec) const;
  const Kernel& kernel() const { return k_; }

 private:
  struct Program;  // interpreter.cpp; immutable, so copies of the interpreter share it
  Kernel k_;
  std::shared_ptr<const Program> prog_;
};

// Records nothing: compiles `recorded` with the zero-latency model (the logical semantics)
// and runs it.
RunResult interpret(const Kernel& recorded, const RunSpec& spec);

}  // namespace qdf::dsl
