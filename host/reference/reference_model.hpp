// The reference model of a whole network: rung 1 of the verification ladder (DESIGN.md). The
// layers of host/reference/reference_layers.hpp chained as the network says, in plain integer arithmetic,
// sharing no code with engines/: the functional models, the simulator and the RTL are all checked
// against it on the same images.
//
// What each layer means (the semantics the engines must give, written down once here):
//   input        unsigned pixels 0 .. 2^bits - 1; a binary input carries bits, 1 = +1, 0 = -1
//   conv, fc     sum of w * a over the window (or the whole input, in (row, column, channel)
//                order for an fc after a map) with w = ±1; padding holds 0 in an unsigned map
//                and -1 in a binary one (its padding is the zero bit: a ±1 map has no 0)
//   act          out = #{i : s * acc >= T_i}, s = -1 where the channel's flip is set; 1-bit
//                activations are binary: 0 means -1, 1 means +1
//   max pool     the max of each window; padding as for conv (it never wins over a real pixel)
//   global pool  the sum over all pixels of each channel
//   residual     main branch accumulators + skip * 2^shift, the skip being the block's input
//                activations, or the raw accumulators of its projection conv
//   label select the indices of the top-k scores, best first, ties to the lower index
#pragma once

#include "manager/model_weights.hpp"
#include "manager/network.hpp"

#include <cstdint>
#include <vector>

namespace qdf::host {

// The network's output for one image: values of the output stream in stream order (label select:
// the top-k indices; otherwise the last layer's values, a binary output as bits). `image`: the
// input values in (row, column, channel) order as the input stream carries them (unsigned pixels;
// a binary input as bits, 1 = +1). A UserError names an image of the wrong size or a value out of
// range.
std::vector<std::int64_t> reference_forward(const manager::Net& net, const manager::ModelWeights& w,
                                            const std::vector<std::int64_t>& image);

}  // namespace qdf::host
