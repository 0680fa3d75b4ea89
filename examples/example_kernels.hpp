// Example kernels written with the static DSL, each with the inputs of a sample run.
// They are the subjects of the co-simulation tests and of `qdf demo`.
#pragma once

#include "dsl/interpreter.hpp"
#include "dsl/record.hpp"
#include "dsl/static_types.hpp"

#include <boost/hana/define_struct.hpp>
#include <functional>
#include <string>
#include <vector>

namespace qdf::examples {

using namespace qdf::dsl;

// MaxJ's moving average: y[i] = mean of x[i-1], x[i], x[i+1], of the two at either end of a
// stream whose length is a scalar set by the host. The division by 3 is a multiply by 683/2048,
// exact for sums below 1536.
struct MovingAverage {
  std::string name() const { return "moving_average"; }
  void describe(KernelBuilder& kb) const;
};

// A 3x3 box filter over a width x height image of 8-bit pixels streamed row by row: every
// output pixel is the sum of its 3x3 neighbourhood, with zeros outside the image. Its window is
// nine stream offsets from -(width+1) to +(width+1), so the lines between them become line buffers.
struct Window3x3 {
  BOOST_HANA_DEFINE_STRUCT(Window3x3, (int, width), (int, height));
  std::string name() const { return "window3x3"; }
  void describe(KernelBuilder& kb) const;
};

// A binary dot product over `words` 64-bit words of activations against weights in a ROM:
// sum = 2 * popcount(xnor(x, w)) - 64 * words, written once per vector.
struct XnorDot64 {
  BOOST_HANA_DEFINE_STRUCT(XnorDot64, (int, words), (unsigned, weight_seed));
  std::string name() const { return "xnor_dot64"; }
  std::vector<std::uint64_t> weights() const;
  void describe(KernelBuilder& kb) const;
};

// A 2-bit threshold activation over `channels` channels: out = number of the channel's three
// thresholds T with acc >= T. Thresholds come from a ROM, one 48-bit entry of three 16-bit
// signed thresholds per channel.
struct Threshold2Bit {
  BOOST_HANA_DEFINE_STRUCT(Threshold2Bit, (int, channels), (unsigned, seed));
  std::string name() const { return "threshold2bit"; }
  std::vector<std::array<std::int16_t, 3>> thresholds() const;
  void describe(KernelBuilder& kb) const;
};

// An accumulator reset by a counter: the sum of every `length` consecutive inputs.
struct BlockAccumulator {
  BOOST_HANA_DEFINE_STRUCT(BlockAccumulator, (int, length));
  std::string name() const { return "block_accumulator"; }
  void describe(KernelBuilder& kb) const;
};

// A running histogram in a RAM: for each input value, how often it has been seen so far
// (a read-modify-write loop through the RAM in one tick).
struct RunningHistogram {
  BOOST_HANA_DEFINE_STRUCT(RunningHistogram, (int, bins));
  std::string name() const { return "running_histogram"; }
  void describe(KernelBuilder& kb) const;
};

// An example with the inputs of a sample run.
struct ExampleKernel {
  std::string name;
  std::string description;
  std::function<Kernel()> record;
  std::function<RunSpec(std::uint64_t seed)> sample_run;
};

// The examples at their default sizes; the first is the demo's default.
std::vector<ExampleKernel> example_kernels();
// One example by name; a UserError listing the names if there is none.
ExampleKernel example_kernel(const std::string& name);

}  // namespace qdf::examples
