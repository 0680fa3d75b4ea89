// The engine graph, folding, partition and bundle: structure, optimality of the folding, budgets,
// links, user errors, and the bundle on disk.
#include "dsl/errors.hpp"
#include "dsl/passes.hpp"
#include "manager/bundle.hpp"
#include "manager/plan.hpp"
#include "manager/scaling.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

using namespace qdf;
using namespace qdf::manager;
namespace fs = std::filesystem;

namespace {

Plan plan(const std::string& net, int fpgas, const std::string& dev, double fps = 0) {
  const Net& n = builtin_net(net).net;
  PlanOptions o;
  o.fpgas = fpgas;
  o.device = device(dev);
  o.fps = fps;
  return plan_network(n, random_weights(n, 7), o);
}

// Every stream joins two engines (or the host) whose ports have its width, and every engine's
// ports are all connected.
void check_structure(const EngineGraph& g) {
  for (size_t s = 0; s < g.streams.size(); ++s) {
    const StreamEdge& e = g.streams[s];
    CHECK_MESSAGE((e.from >= 0 || static_cast<int>(s) == g.input_stream), e.name);
    CHECK_MESSAGE((e.to >= 0 || static_cast<int>(s) == g.output_stream), e.name);
  }
  for (const Engine& e : g.engines) {
    if (engines::is_buffer(e.config)) continue;
    dsl::Kernel k = dsl::compile_kernel(engine_kernel(e));
    REQUIRE(k.inputs.size() == e.inputs.size());
    REQUIRE(k.outputs.size() == e.outputs.size());
    for (size_t i = 0; i < e.inputs.size(); ++i) {
      const StreamEdge& s = g.streams[static_cast<size_t>(e.inputs[i])];
      CHECK_MESSAGE(k.at(k.inputs[i]).type.width == s.width(), e.name, " input ", i);
      CHECK(s.to == static_cast<int>(&e - g.engines.data()));
    }
    for (size_t i = 0; i < e.outputs.size(); ++i)
      CHECK_MESSAGE(k.at(k.outputs[i]).type.width == g.streams[static_cast<size_t>(e.outputs[i])].width(), e.name, " output ", i);
  }
}

}  // namespace

TEST_CASE("engine graph: every stream's width matches the kernels at its ends, with width converters between foldings") {
  for (const char* name : {"cnv-w1a2", "resnet-mini", "lfc-w1a2"}) {
    CAPTURE(name);
    const Net& n = builtin_net(name).net;
    ModelWeights w = random_weights(n, 3);
    Folding f;
    int i = 0;
    for (const Layer* l : flatten(n)) {
      auto c = folding_candidates(*l);
      if (c.empty() || l->kind == LayerKind::MaxPool || l->kind == LayerKind::GlobalPool) continue;
      f[l->name] = c[static_cast<size_t>(i++ * 7) % c.size()];  // mixed foldings: converters, including two-step ones
    }
    EngineGraph g = build_engine_graph(n, w, f);
    check_structure(g);
    int converters = 0;
    for (const Engine& e : g.engines) converters += e.is<engines::WidthConverterConfig>();
    CHECK(converters > 0);
  }
}

TEST_CASE("engine graph: a residual block is fork, main branch, skip FIFO, projection and add") {
  const Net& n = builtin_net("resnet-mini").net;
  Folding f;
  for (const Layer* l : flatten(n))
    if (l->kind == LayerKind::Conv || l->kind == LayerKind::FullyConnected) f[l->name] = {1, 1};
  EngineGraph g = build_engine_graph(n, random_weights(n, 1), f);
  std::map<std::string, std::string> kinds;
  for (const Engine& e : g.engines) kinds[e.name] = e.kind();
  CHECK(kinds.at("res1_fork") == "fork");
  CHECK(kinds.at("res1_skip_fifo") == "fifo");
  CHECK(kinds.at("res1_add") == "residual_add");
  CHECK(kinds.at("res2_proj_mvtu") == "mvtu");
  CHECK(kinds.at("res1_act_thr") == "thresholds");
  const Engine& add2 = *std::find_if(g.engines.begin(), g.engines.end(), [](const Engine& e) { return e.name == "res2_add"; });
  CHECK(std::get<engines::ResidualAddConfig>(add2.config).skip_signed);
  // Units: one per top-level layer, and one per layer of a block's main branch (the first named
  // after the block, with its fork); the skip path and the add are in the unit of the last.
  std::vector<std::string> units;
  for (const Unit& u : g.units) units.push_back(u.name);
  CHECK(units == std::vector<std::string>{"conv1", "res1", "res1_conv2", "res1_act", "res2", "res2_conv2", "res2_act", "res2_act_gpool",
                                          "fc", "fc_label"});
  for (const Engine& e : g.engines)
    if (e.name == "res2_fork" || e.name == "res2_conv1_mvtu") CHECK(g.units[static_cast<size_t>(e.unit)].name == "res2");
    else if (e.name == "res2_skip_fifo" || e.name == "res2_proj_mvtu" || e.name == "res2_add") CHECK(g.units[static_cast<size_t>(e.unit)].name == "res2_conv2");
}

TEST_CASE("skip FIFO depth: the rows the main branch needs ahead of the skip, plus a row and slack") {
  // Two 3x3 pad-1 convs, each window reading ahead up to its 4 buffer rows behind an input FIFO
  // of 4 rows: before output row 0 the second conv takes rows 0..7 of the first conv's output,
  // for which the first takes all 12 input rows; the skip has consumed none.
  const Net& n = builtin_net("resnet-mini").net;
  const Layer* res1 = nullptr;
  for (const Layer& l : n.layers())
    if (l.name == "res1") res1 = &l;
  REQUIRE(res1);
  CHECK(skip_fifo_depth(*res1, 8, 5) == (12 + 1) * 12 * 8 / 8 + 4 * 5 + 8);
  CHECK(skip_fifo_depth(*res1, 2, 5) == (12 + 1) * 12 * 8 / 2 + 4 * 5 + 8);
}

TEST_CASE("folding: each layer takes the cheapest folding within the target cycles") {
  const Net& n = builtin_net("cnv").net;
  ModelWeights w = random_weights(n, 7);
  PlanOptions o;
  o.device = device("zynq");
  o.fps = 2000;
  Plan p = plan_network(n, w, o);
  const std::int64_t T = static_cast<std::int64_t>(o.device.clock_mhz * 1e6 / o.fps);
  CHECK(p.cycles_per_image <= T);
  // Brute force over every candidate of every layer: none within T is cheaper (LUT + block RAM
  // fractions, the search's price) by more than 1%: the search prices candidates up to twice the
  // least parallelism, and a layer's input FIFO (one input vector) costs a little less at a
  // higher SIMD.
  const double bram_block_bits = static_cast<double>(o.device.bram_bits) / static_cast<double>(o.device.bram_blocks);
  auto price = [&](const dsl::Resources& r) {
    return r.lut / static_cast<double>(o.device.luts) +
           std::ceil(r.bram18 * 18432.0 / bram_block_bits) / static_cast<double>(o.device.bram_blocks);
  };
  for (const Layer* l : flatten(n)) {
    auto cands = folding_candidates(*l);
    if (cands.empty()) continue;
    CAPTURE(l->name);
    const Layer* act = nullptr;
    for (size_t i = 0; i + 1 < n.layers().size(); ++i)
      if (&n.layers()[i] == l && n.layers()[i + 1].kind == LayerKind::Activation && l->kind != LayerKind::MaxPool) act = &n.layers()[i + 1];
    auto cost_of = [&](const LayerFolding& f, std::int64_t* cycles) {
      dsl::Resources r;
      *cycles = 0;
      for (const Engine& e : layer_engines(*l, act, f, w)) {
        r += engine_resources(e);
        *cycles = std::max(*cycles, e.cycles_per_image);
      }
      return price(r);
    };
    std::int64_t chosen_cycles = 0;
    const double chosen = cost_of(p.graph.folding.at(l->name), &chosen_cycles);
    CHECK(chosen_cycles <= T);
    for (const LayerFolding& f : cands) {
      std::int64_t c = 0;
      const double k = cost_of(f, &c);
      if (c <= T) CHECK_MESSAGE(chosen <= 1.01 * k + 1e-12, "PE ", f.pe, " SIMD ", f.simd, " is cheaper");
    }
  }
}

TEST_CASE("plan: the highest throughput within the budget, engines no slower than the prediction") {
  Plan p = plan("cnv", 1, "zynq");
  CHECK(p.fpgas.size() == 1);
  CHECK(p.fpgas[0].lut_fraction <= 0.85 + 1e-9);
  CHECK(p.fpgas[0].bram_fraction <= 0.85 + 1e-9);
  for (const Engine& e : p.graph.engines) CHECK(e.cycles_per_image <= p.cycles_per_image);
  CHECK(p.fps == doctest::Approx(100e6 / static_cast<double>(p.cycles_per_image)));
  CHECK(p.limit.find("LUTs over 1 x 85%") != std::string::npos);  // resources, not a layer, stop it
  // A slower target uses fewer resources.
  Plan slow = plan("cnv", 1, "zynq", p.fps / 8);
  CHECK(slow.cycles_per_image <= static_cast<std::int64_t>(100e6 / (p.fps / 8)));
  CHECK(slow.fpgas[0].resources.lut < p.fpgas[0].resources.lut);
}

TEST_CASE("partition: contiguous layers per FPGA, each within budget, a link FIFO at each cut") {
  Plan p = plan("cnv-w1a2", 3, "zynq");
  REQUIRE(p.fpgas.size() == 3);
  int next = 0;
  for (const FpgaPlan& f : p.fpgas) {
    CHECK(!f.units.empty());
    for (int u : f.units) CHECK(u == next++);
    CHECK(f.lut_fraction <= 0.85 + 1e-9);
  }
  CHECK(next == static_cast<int>(p.graph.units.size()));
  REQUIRE(p.links.size() == 4);
  CHECK(p.links[1].name == "ring_0_1");
  CHECK(p.links[2].name == "ring_1_2");
  int link_fifos = 0;
  for (const Engine& e : p.graph.engines) link_fifos += e.name.find("_link_fifo") != std::string::npos;
  CHECK(link_fifos == 2);
  // More FPGAs: at least as fast.
  Plan one = plan("cnv-w1a2", 1, "zynq");
  CHECK(p.cycles_per_image <= one.cycles_per_image);
}

TEST_CASE("partition: a cut inside a residual block carries its main and skip streams over one ring link") {
  // resnet-mini's units: a residual block's main layers are units (the first with the fork), the
  // skip path and the add go with the last; a cut before res2_conv2 is inside block res2.
  const Net& n = builtin_net("resnet-mini").net;
  const ModelWeights w = random_weights(n, 3);
  PlanOptions o;
  o.device = device("zynq");
  o.fps = 2000;
  const Plan one = plan_network(n, w, o);
  std::vector<std::string> names;
  for (const Unit& u : one.graph.units) names.push_back(u.name);
  CHECK(names == std::vector<std::string>{"conv1", "res1", "res1_conv2", "res1_act", "res2", "res2_conv2", "res2_act", "res2_act_gpool",
                                          "fc", "fc_label"});
  const int cut = static_cast<int>(std::find(names.begin(), names.end(), "res2_conv2") - names.begin());
  // Two streams cross that cut: the main (res2_conv1's output) and the skip (the fork's second).
  const std::vector<std::vector<int>> crossing = cut_streams(one.graph);
  REQUIRE(crossing[static_cast<size_t>(cut)].size() == 2);
  CHECK(crossing[1].size() == 1);
  CHECK(crossing.front().empty());
  CHECK(crossing.back().empty());
  o.folding = one.graph.folding;
  o.fpgas = 2;
  const Plan p = plan_partition(n, w, o, {0, cut});
  REQUIRE(p.links.size() == 3);
  const LinkUse& ring = p.links[1];
  REQUIRE(ring.streams.size() == 2);
  std::vector<std::string> crossing_names;
  for (int s : ring.streams) crossing_names.push_back(p.graph.streams[static_cast<size_t>(s)].name);
  CHECK(crossing_names == std::vector<std::string>{"res2_fork_b", "res2_conv1_mvtu"});
  // Each stream ends in its own link FIFO on FPGA 1, as deep as its credits less the output
  // register; their widths fit the lane side by side, so each has a sub-lane of its width to
  // itself (a narrow lane, time-shared by slots, is tests/cosim/test_sim_vs_rtl.cpp's).
  for (size_t k = 0; k < 2; ++k) {
    const StreamEdge& s = p.graph.streams[static_cast<size_t>(ring.streams[k])];
    CHECK(p.graph.engines[static_cast<size_t>(s.from)].fpga == 0);
    const Engine& fifo = p.graph.engines.at(static_cast<size_t>(s.to));
    CHECK(fifo.fpga == 1);
    REQUIRE(fifo.is<engines::FifoConfig>());
    CHECK(engines::buffer_capacity(fifo.config) == ring.ring.streams[k].credits);
    CHECK(ring.ring.streams[k].width == s.width());
  }
  REQUIRE(ring.ring.streams[0].width + ring.ring.streams[1].width <= ring.ring.lane_bits);
  REQUIRE(ring.ring.sublanes.size() == 2);
  for (int k = 0; k < 2; ++k) {
    CHECK(ring.ring.sublanes[static_cast<size_t>(k)].bits == ring.ring.streams[static_cast<size_t>(k)].width);
    CHECK(ring.ring.sublanes[static_cast<size_t>(k)].slots == std::vector<int>{k});
  }
  // The link's cycles: the busier stream's elements, one a cycle.
  std::vector<std::int64_t> elements;
  for (int s : ring.streams) elements.push_back(p.graph.streams[static_cast<size_t>(s)].elements);
  CHECK(ring.cycles_per_image == doctest::Approx(engines::ring_cycles_per_image(ring.ring, elements)));
  // The ring endpoints count on their FPGAs: the plan's FPGA resources exceed their engines'.
  for (int f = 0; f < 2; ++f) {
    double engines_lut = 0;
    for (size_t e = 0; e < p.graph.engines.size(); ++e)
      if (p.graph.engines[e].fpga == f) engines_lut += p.engine_resources[e].lut;
    CHECK(p.fpgas[static_cast<size_t>(f)].resources.lut > engines_lut);
  }
  // The partition search cuts inside blocks when that balances best: resnet18 over 5 FPGAs.
  const Plan r18 = plan("resnet18", 5, "stratix-v-5sgsd8");
  int inside = 0;
  for (const LinkUse& l : r18.links) inside += l.streams.size() == 2;
  CHECK(r18.fpgas.size() == 5);
  MESSAGE(r18.fpgas.size(), " FPGAs, ", inside, " ring links inside a residual block, ", r18.cycles_per_image, " cycles per image");
}

TEST_CASE("partition: a ring link too slow for a stream limits the design, and the report names it") {
  const Net& n = builtin_net("sfc").net;
  PlanOptions o;
  o.fpgas = 2;
  o.device = device("zynq");
  o.ring.bandwidth = 1.25e7;  // 12.5 MB/s: a lane of 1 bit per cycle at 100 MHz
  Plan p = plan_network(n, random_weights(n, 1), o);
  if (p.fpgas.size() == 2) CHECK(p.bottleneck.find("ring") != std::string::npos);
  else CHECK(p.limit.find("ring") != std::string::npos);
  // Under 1 bit per cycle there is no lane: a user error naming the option.
  o.ring.bandwidth = 1e5;
  CHECK_THROWS_WITH_AS(plan_network(n, random_weights(n, 1), o), doctest::Contains("--ring-gbps 0.0001 gives 0.008 bits per cycle"),
                       UserError);
}

TEST_CASE("plan: impossible targets are user errors that say why") {
  CHECK_THROWS_WITH_AS(plan("cnv", 1, "zynq", 1e9), doctest::Contains("out of reach"), UserError);
  CHECK_THROWS_WITH_AS(plan("alexnet", 1, "zynq"), doctest::Contains("does not fit"), UserError);
  CHECK_THROWS_WITH_AS(plan("cnv", 0, "zynq"), doctest::Contains("--fpgas"), UserError);
  const Net& n = builtin_net("sfc").net;
  Folding bad{{"fc1", {3, 1}}, {"fc2", {1, 1}}, {"fc3", {1, 1}}, {"fc4", {1, 1}}};
  CHECK_THROWS_WITH_AS(build_engine_graph(n, random_weights(n, 1), bad), doctest::Contains("PE 3 must divide"), UserError);
  Folding missing{{"fc1", {1, 1}}};
  CHECK_THROWS_WITH_AS(build_engine_graph(n, random_weights(n, 1), missing), doctest::Contains("fc2"), UserError);
}

TEST_CASE("bundle: manifest, model, one top per FPGA with its engines and init files, written atomically") {
  const Net& n = builtin_net("resnet-mini").net;
  ModelWeights w = random_weights(n, 5);
  PlanOptions o;
  o.fpgas = 2;
  o.device = device("zynq");
  o.fps = 20000;
  Plan p = plan_network(n, w, o);
  const std::string dir = fs::temp_directory_path() / fmt::format("qdf-bundle-{}", ::getpid());
  write_bundle(p, n, w, dir);
  std::ifstream mf(dir + "/manifest.json");
  auto m = nlohmann::json::parse(mf);
  CHECK(m["cycles_per_image"].get<std::int64_t>() == p.cycles_per_image);
  for (const char* key : {"engines", "folding", "fpgas", "streams", "links", "clock_mhz", "fps", "network", "device"})
    CHECK_MESSAGE(m.contains(key), key);
  CHECK(m["fpgas"].size() == p.fpgas.size());
  for (size_t f = 0; f < p.fpgas.size(); ++f) {
    CHECK(fs::exists(fmt::format("{}/fpga{}/{}.v", dir, f, fpga_top_name(p, static_cast<int>(f)))));
    for (const Engine& e : p.graph.engines)
      if (e.fpga == static_cast<int>(f)) CHECK(fs::exists(fmt::format("{}/fpga{}/{}.v", dir, f, e.name)));
  }
  CHECK(fs::exists(dir + "/fpga0/conv1_mvtu_weights_pe0.hex"));
  ModelWeights back = load_model(dir + "/model.qdfmodel", n);
  CHECK(back.weights.at("fc").words == w.weights.at("fc").words);
  fs::remove_all(dir);

  // A directory that cannot be made: an error, and nothing left behind.
  const std::string file = fs::temp_directory_path() / fmt::format("qdf-file-{}", ::getpid());
  std::ofstream(file) << "x";
  CHECK_THROWS(write_bundle(p, n, w, file + "/bundle"));
  CHECK(!fs::exists(file + "/bundle"));
  fs::remove(file);
}

TEST_CASE("plan: no FPGA is over the budget it was given, link FIFOs included") {
  // A slow ring link with a long latency makes the link FIFOs deep (a round trip of credits), so
  // a plan at the edge of its budget would go over it if they were counted after the partition.
  int planned = 0;
  for (const std::string net : {"sfc", "cnv-w1a2", "resnet-mini", "lfc-w1a2"})
    for (int fpgas : {2, 3})
      for (double utilization : {0.2, 0.4, 0.85}) {
        CAPTURE(net);
        CAPTURE(fpgas);
        CAPTURE(utilization);
        const Net& n = builtin_net(net).net;
        PlanOptions o;
        o.fpgas = fpgas;
        o.device = device("zynq");
        o.utilization = utilization;
        o.ring.latency = 50e-6;
        Plan p;
        try {
          p = plan_network(n, random_weights(n, 1), o);
        } catch (const UserError&) {
          continue;  // does not fit at all: nothing to check
        }
        ++planned;
        for (const FpgaPlan& f : p.fpgas) {
          CHECK(f.lut_fraction <= utilization + 1e-9);
          CHECK(f.bram_fraction <= utilization + 1e-9);
        }
      }
  CHECK(planned >= 12);
}

TEST_CASE("scaling study: FPGA counts, efficiency against the fewest FPGAs that fit, a point per count") {
  CHECK(parse_fpga_counts("1..3,5") == std::vector<int>{1, 2, 3, 5});
  CHECK(parse_fpga_counts("4") == std::vector<int>{4});
  CHECK_THROWS_WITH_AS(parse_fpga_counts("0"), doctest::Contains("'0' is not one"), UserError);
  CHECK_THROWS_WITH_AS(parse_fpga_counts("2..x"), doctest::Contains("'x' is not one"), UserError);
  CHECK_THROWS_WITH_AS(parse_fpga_counts("3..1"), doctest::Contains("empty"), UserError);
  const Net& n = builtin_net("cnv-w1a2").net;
  PlanOptions o;
  o.device = device("zynq");
  const ScaleStudy s = scale_study(n, random_weights(n, 7), o, {1, 2, 3});
  REQUIRE(s.points.size() == 3);
  REQUIRE(s.base_fpgas == 1);
  CHECK(s.points[0].efficiency == doctest::Approx(1.0));
  for (const ScalePoint& p : s.points) {
    CAPTURE(p.fpgas);
    REQUIRE(p.error.empty());
    const Plan alone = plan("cnv-w1a2", p.fpgas, "zynq");
    CHECK(p.planned_cycles == alone.cycles_per_image);
    CHECK(p.efficiency == doctest::Approx(static_cast<double>(s.points[0].planned_cycles) / (p.fpgas * static_cast<double>(p.planned_cycles))));
    CHECK(p.ring_loads.size() == static_cast<size_t>(p.used_fpgas - 1));
  }
  CHECK(s.host_floor_cycles > 0);
}
