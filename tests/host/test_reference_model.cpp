// The network reference model (rung 1) against the engines' functional models (rung 2) chained by
// the simulator's values (sim::graph_forward) over the engine graph: on the built-in networks with random weights, and on small
// networks that reach what those do not (binary padding, binary max pool with padding, a shifted
// skip, top-k).
#include "dsl/bits.hpp"
#include "dsl/errors.hpp"
#include "host/reference/reference_model.hpp"
#include "manager/engine_graph.hpp"
#include "manager/plan.hpp"
#include "sim/graph_values.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace qdf;
using namespace qdf::manager;

namespace {

std::vector<std::int64_t> random_image(const Net& net, std::uint64_t seed) {
  const Layer& in = net.layers().front();
  const int bits = in.out_binary ? 1 : in.out_bits;
  std::vector<std::int64_t> v;
  for (std::int64_t i = 0; i < in.out.size(); ++i) v.push_back(static_cast<std::int64_t>(dsl::bits::splitmix64(seed) >> (64 - bits)));
  return v;
}

// The network without its label select: the scores, a stronger comparison than the label.
Net without_label_select(const Net& net) {
  Net n;
  for (const Layer& l : net.layers())
    if (l.kind != LayerKind::LabelSelect) n.append(l);
  n.name = net.name;
  return n;
}

// Every conv / fc at PE = SIMD = 1, a mixed folding from the candidates (width converters between
// layers), and the most parallel (several window pixels per element in a first layer).
std::vector<Folding> foldings(const Net& net) {
  Folding ones, mixed, widest;
  int i = 0;
  for (const Layer* l : flatten(net)) {
    auto c = folding_candidates(*l);
    if (c.empty() || l->kind == LayerKind::MaxPool || l->kind == LayerKind::GlobalPool) continue;
    ones[l->name] = {1, 1};
    mixed[l->name] = c[static_cast<size_t>(i++ * 7 + 3) % c.size()];
    widest[l->name] = c.back();
  }
  return {ones, mixed, widest};
}

// The first few positions where two outputs differ.
std::string mismatches(const std::vector<std::int64_t>& want, const std::vector<std::int64_t>& got) {
  if (want.size() != got.size()) return fmt::format("{} values from the reference, {} from the engines", want.size(), got.size());
  std::string s;
  int n = 0;
  for (size_t i = 0; i < want.size() && n < 5; ++i)
    if (want[i] != got[i]) s += fmt::format("  [{}]: reference {}, engines {}\n", i, want[i], got[i]), ++n;
  return s;
}

void check_network(const Net& net, int images, std::uint64_t seed) {
  const ModelWeights w = random_weights(net, seed);
  const Net scores = without_label_select(net);
  for (const Folding& f : foldings(net)) {
    const EngineGraph g = build_engine_graph(net, w, f), gs = build_engine_graph(scores, w, f);
    for (int i = 0; i < images; ++i) {
      const auto image = random_image(net, seed * 100 + static_cast<std::uint64_t>(i));
      const auto want = host::reference_forward(net, w, image), got = sim::graph_forward(g, image);
      CHECK_MESSAGE(want == got, net.name, " image ", i, ", output:\n", mismatches(want, got));
      const auto want_s = host::reference_forward(scores, w, image), got_s = sim::graph_forward(gs, image);
      CHECK_MESSAGE(want_s == got_s, net.name, " image ", i, ", scores:\n", mismatches(want_s, got_s));
    }
  }
}

}  // namespace

TEST_CASE("reference == functional models on the built-in sfc, cnv-w1a2 and resnet-mini") {
  for (const char* name : {"sfc", "cnv-w1a2", "resnet-mini"}) {
    CAPTURE(name);
    check_network(builtin_net(name).net, 2, 11);
  }
}

TEST_CASE("reference == functional models where the built-in networks do not reach") {
  // A binary input into a padded conv, a binary max pool with padding, a residual block with a
  // shifted identity skip, a global pool, top-3 of 5.
  Net a = input("bits", {7, 7, 2}, 1, true) >> conv("c1", 3, 4, 1, 1) >> act(1) >> maxpool(3, 2, 1) >> conv("c2", 3, 6, 1, 1) >>
          act(2) >> residual(conv("r1", 3, 6, 1, 1) >> act(2) >> conv("r2", 3, 6, 1, 1), 1, Net(), "res") >> act(2) >>
          global_pool() >> fc("f", 5) >> label_select(3);
  a.name = "binary-padding";
  check_network(a, 4, 5);
  // A binary map into a fully connected layer (row, column, channel order), and a binary output.
  Net b = input("img", {5, 4, 3}, 4) >> conv("c", 2, 3, 1, 0) >> act(1) >> fc("f", 6) >> act(1);
  b.name = "binary-out";
  check_network(b, 4, 9);
}

// Thresholds placed exactly on accumulators that the images produce, half the channels with a
// negative scale (flip): the rule is `acc >= T` (engines/threshold_rule.hpp), so an accumulator
// equal to T_i counts T_i. The expected outputs are counted here with std::upper_bound, not by
// the rule's loop, so that a `>` in the reference or in a functional model fails this test.
TEST_CASE("reference == functional models == the rule when accumulators sit exactly on the thresholds") {
  for (int bits : {1, 2}) {
    CAPTURE(bits);
    const Net raw = input("x", {1, 1, 12}, 2) >> fc("f", 6);
    Net net = raw >> act(bits);
    net.name = fmt::format("on-thresholds-a{}", bits);
    ModelWeights w = random_weights(net, 4);
    const int channels = 6, levels = (1 << bits) - 1, images = 10;
    ModelWeights w_raw;  // the fc's weights alone
    w_raw.weights = w.weights;
    std::vector<std::vector<std::int64_t>> inputs, accs;
    for (int i = 0; i < images; ++i) {
      inputs.push_back(random_image(net, 70 + static_cast<std::uint64_t>(i)));
      accs.push_back(host::reference_forward(raw, w_raw, inputs.back()));
    }
    engines::Thresholds& t = w.thresholds.at(net.back().name);
    for (int ch = 0; ch < channels; ++ch) {
      const bool flip = ch % 2 == 1;
      std::vector<std::int64_t> seen;  // the values compared, flip applied
      for (const auto& a : accs) seen.push_back(flip ? -a[static_cast<size_t>(ch)] : a[static_cast<size_t>(ch)]);
      std::sort(seen.begin(), seen.end());
      seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
      REQUIRE_MESSAGE(static_cast<int>(seen.size()) >= levels, "channel ", ch, " has too few distinct accumulators");
      for (int l = 0; l < levels; ++l)  // spread over the values seen, each one of them
        t.t[static_cast<size_t>(ch * levels + l)] = seen[static_cast<size_t>((l + 1) * (static_cast<int>(seen.size()) - 1) / (levels + 1))];
      t.flip[static_cast<size_t>(ch)] = flip;
    }
    Folding ones;
    ones["f"] = {1, 1};
    const EngineGraph g = build_engine_graph(net, w, ones);
    int on_threshold = 0;
    for (int i = 0; i < images; ++i) {
      std::vector<std::int64_t> want;
      for (int ch = 0; ch < channels; ++ch) {
        const std::int64_t a = accs[static_cast<size_t>(i)][static_cast<size_t>(ch)], v = t.flip[static_cast<size_t>(ch)] ? -a : a;
        const std::int64_t* lo = t.of(ch);
        const auto n = std::upper_bound(lo, lo + levels, v) - lo;  // thresholds <= v
        on_threshold += std::binary_search(lo, lo + levels, v);
        want.push_back(n);  // a binary output is given as its bit (1 = +1)
      }
      const auto ref = host::reference_forward(net, w, inputs[static_cast<size_t>(i)]);
      const auto got = sim::graph_forward(g, inputs[static_cast<size_t>(i)]);
      CHECK_MESSAGE(ref == want, "image ", i, ", reference:\n", mismatches(want, ref));
      CHECK_MESSAGE(got == want, "image ", i, ", functional models:\n", mismatches(want, got));
    }
    CHECK(on_threshold >= channels * levels);  // every threshold is met by at least one accumulator
  }
}

TEST_CASE("reference: a label select ranks ties to the lower index") {
  // One class per output channel of an fc with identical rows: every score ties.
  Net n = input("img", {1, 1, 4}, 2) >> fc("f", 4) >> label_select(4);
  n.name = "ties";
  ModelWeights w;
  w.weights["f"] = engines::BinaryMatrix(4, 4);
  CHECK(host::reference_forward(n, w, {1, 2, 3, 0}) == std::vector<std::int64_t>{0, 1, 2, 3});
  w.weights["f"].set(2, 0, true);  // row 2 has one +1: its score is the highest
  CHECK(host::reference_forward(n, w, {1, 2, 3, 0}) == std::vector<std::int64_t>{2, 0, 1, 3});
}

TEST_CASE("reference: an image of the wrong size or with values out of range is a user error") {
  const Net& n = builtin_net("sfc").net;
  const ModelWeights w = random_weights(n, 1);
  CHECK_THROWS_WITH_AS(host::reference_forward(n, w, std::vector<std::int64_t>(100, 0)),
                       doctest::Contains("takes images of 28x28x1 = 784 values (input image), found 100"), UserError);
  std::vector<std::int64_t> image(784, 1);
  image[30] = 2;
  CHECK_THROWS_WITH_AS(host::reference_forward(n, w, image), doctest::Contains("value 2 at row 1, column 2, channel 0"), UserError);
}
