// Per-class offsets of a classifier's scores, added exactly through constant channels: what the
// QONNX importer needs when the scores are `acc[c] + e[c]` (a ternary activation before the last
// layer shifts each class by the sum of its weights), since qdf's label select ranks the last
// layer's accumulators as they are.
#pragma once

#include "manager/model_weights.hpp"
#include "manager/network.hpp"

#include <string>
#include <vector>

namespace qdf::host {

// Per-class offsets e[c] of the scores (in accumulator steps) as constant channels: the layer
// before the last gets channels whose activation is a constant v (thresholds always or never
// met), and the last layer's ±1 weights on them add V - 2 * (the values it weighs by -1), so
// the scores become acc[c] + e[c] + a constant. With ±1 weights that sum moves in steps of 2,
// so the offsets must share their parity (they do when they come from a ternary activation).
// `net` must end in a fully connected layer, an activation and a fully connected layer; a UserError,
// prefixed by `where`, otherwise or when the offsets differ by odd amounts.
void add_score_offsets(manager::Net& net, manager::ModelWeights& w, const std::vector<std::int64_t>& offsets, const std::string& where);

}  // namespace qdf::host
