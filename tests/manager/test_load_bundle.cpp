// Loading a bundle: the plan rebuilt from its manifest and model is the plan that was written, and
// each way a bundle can be wrong is a user error that names what is at fault.
#include "dsl/errors.hpp"
#include "manager/bundle.hpp"
#include "manager/load_bundle.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>

using namespace qdf;
using namespace qdf::manager;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string temp_dir(const std::string& what) {
  return fs::temp_directory_path() / fmt::format("qdf-load-bundle-{}-{}", what, ::getpid());
}

struct Written {
  Net net;
  ModelWeights weights;
  Plan plan;
  std::string dir;
};

Written write(const std::string& name, int fpgas, const std::string& dev, double fps) {
  Written w;
  w.net = builtin_net(name).net;
  w.weights = random_weights(w.net, 17);
  PlanOptions o;
  o.fpgas = fpgas;
  o.device = device(dev);
  o.fps = fps;
  w.plan = plan_network(w.net, w.weights, o);
  w.dir = temp_dir(name);
  write_bundle(w.plan, w.net, w.weights, w.dir);
  return w;
}

void check_same_plan(const Plan& want, const Plan& got) {
  const EngineGraph &a = want.graph, &b = got.graph;
  REQUIRE(a.engines.size() == b.engines.size());
  for (size_t i = 0; i < a.engines.size(); ++i) {
    const Engine &x = a.engines[i], &y = b.engines[i];
    CAPTURE(x.name);
    CHECK(x.name == y.name);
    CHECK(x.kind() == y.kind());
    CHECK(x.layer == y.layer);
    CHECK(x.unit == y.unit);
    CHECK(x.fpga == y.fpga);
    CHECK(engine_config_json(x) == engine_config_json(y));
    CHECK(x.inputs == y.inputs);
    CHECK(x.outputs == y.outputs);
    CHECK(x.input_ports == y.input_ports);
    CHECK(x.output_ports == y.output_ports);
    CHECK(x.cycles_per_image == y.cycles_per_image);
    CHECK(bool(x.data.weights) == bool(y.data.weights));
    if (x.data.weights && y.data.weights) CHECK(x.data.weights->words == y.data.weights->words);
    CHECK(bool(x.data.thresholds) == bool(y.data.thresholds));
    if (x.data.thresholds && y.data.thresholds) CHECK((x.data.thresholds->t == y.data.thresholds->t && x.data.thresholds->flip == y.data.thresholds->flip));
  }
  REQUIRE(a.streams.size() == b.streams.size());
  for (size_t i = 0; i < a.streams.size(); ++i) {
    const StreamEdge &x = a.streams[i], &y = b.streams[i];
    CAPTURE(x.name);
    CHECK(x.name == y.name);
    CHECK((x.from == y.from && x.to == y.to && x.from_port == y.from_port && x.to_port == y.to_port));
    CHECK((x.lanes.lanes == y.lanes.lanes && x.lanes.bits == y.lanes.bits && x.lanes.is_signed == y.lanes.is_signed));
    CHECK(x.elements == y.elements);
  }
  REQUIRE(a.units.size() == b.units.size());
  for (size_t i = 0; i < a.units.size(); ++i)
    CHECK((a.units[i].name == b.units[i].name && a.units[i].engines == b.units[i].engines));
  CHECK(a.input_stream == b.input_stream);
  CHECK(a.output_stream == b.output_stream);
  CHECK(a.folding == b.folding);
  CHECK(a.net == b.net);
  REQUIRE(want.links.size() == got.links.size());
  for (size_t i = 0; i < want.links.size(); ++i) {
    const LinkUse &x = want.links[i], &y = got.links[i];
    CAPTURE(x.name);
    CHECK((x.name == y.name && x.kind == y.kind && x.streams == y.streams && x.from_fpga == y.from_fpga && x.to_fpga == y.to_fpga));
    CHECK((x.bits_per_image == y.bits_per_image && x.cycles_per_image == y.cycles_per_image && x.latency_cycles == y.latency_cycles));
  }
  REQUIRE(want.fpgas.size() == got.fpgas.size());
  for (size_t i = 0; i < want.fpgas.size(); ++i) {
    CHECK(want.fpgas[i].units == got.fpgas[i].units);
    CHECK(want.fpgas[i].cycles_per_image == got.fpgas[i].cycles_per_image);
    CHECK(want.fpgas[i].resources.lut == got.fpgas[i].resources.lut);
    CHECK(want.fpgas[i].bram_blocks == got.fpgas[i].bram_blocks);
  }
  REQUIRE(want.engine_resources.size() == got.engine_resources.size());
  for (size_t i = 0; i < want.engine_resources.size(); ++i)
    CHECK((want.engine_resources[i].lut == got.engine_resources[i].lut && want.engine_resources[i].bram18 == got.engine_resources[i].bram18));
  CHECK(want.device.name == got.device.name);
  CHECK(want.device.description == got.device.description);
  CHECK((want.device.luts == got.device.luts && want.device.bram_blocks == got.device.bram_blocks && want.device.bram_bits == got.device.bram_bits));
  CHECK(want.clock_mhz == got.clock_mhz);
  CHECK((want.ring.name == got.ring.name && want.ring.bandwidth == got.ring.bandwidth && want.ring.latency == got.ring.latency));
  CHECK((want.host.name == got.host.name && want.host.bandwidth == got.host.bandwidth && want.host.latency == got.host.latency));
  CHECK(want.cycles_per_image == got.cycles_per_image);
  CHECK(want.fps == got.fps);
  CHECK(want.bottleneck == got.bottleneck);
  CHECK(want.limit == got.limit);
}

json read_json(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

void write_json(const std::string& path, const json& j) { std::ofstream(path) << j.dump(2); }

// A copy of bundle `from` whose manifest `edit` changes.
std::string edited_copy(const std::string& from, const std::string& what, const std::function<void(json&)>& edit) {
  const std::string dir = temp_dir("edited-" + what);
  fs::remove_all(dir);
  fs::copy(from, dir, fs::copy_options::recursive);
  json m = read_json(dir + "/manifest.json");
  edit(m);
  write_json(dir + "/manifest.json", m);
  return dir;
}

}  // namespace

TEST_CASE("load_bundle: the plan rebuilt from a bundle is the plan that was written") {
  for (auto [name, fpgas, dev, fps] : {std::tuple{"cnv-w1a2", 2, "zynq", 1000.0}, {"resnet-mini", 1, "stratix", 0.0}}) {
    CAPTURE(name);
    const Written w = write(name, fpgas, dev, fps);
    REQUIRE(static_cast<int>(w.plan.fpgas.size()) == fpgas);
    const LoadedBundle b = load_bundle(w.dir);
    CHECK(b.dir == w.dir);
    CHECK(network_json(b.net) == network_json(w.net));
    CHECK(b.net.name == w.net.name);
    for (const auto& [layer, m] : w.weights.weights) CHECK(b.weights.weights.at(layer).words == m.words);
    for (const auto& [layer, t] : w.weights.thresholds) CHECK((b.weights.thresholds.at(layer).t == t.t && b.weights.thresholds.at(layer).flip == t.flip));
    check_same_plan(w.plan, b.plan);
    CHECK(b.manifest == read_json(w.dir + "/manifest.json"));
    fs::remove_all(w.dir);
  }
}

TEST_CASE("network_from_json inverts network_json on every built-in network") {
  for (const BuiltinNet& n : builtin_nets()) {
    CAPTURE(n.name);
    const Net back = network_from_json(network_json(n.net));
    CHECK(network_json(back) == network_json(n.net));
    CHECK(back.name == n.net.name);
  }
}

TEST_CASE("load_bundle: a missing, foreign, malformed or inconsistent bundle is a user error that names what is wrong") {
  const Written w = write("resnet-mini", 1, "zynq", 20000);
  const std::string missing = temp_dir("missing");
  CHECK_THROWS_WITH_AS(load_bundle(missing), doctest::Contains(fmt::format("no bundle directory '{}'", missing).c_str()), UserError);
  CHECK_THROWS_WITH_AS(load_bundle(w.dir + "/manifest.json"), doctest::Contains("is not a bundle"), UserError);
  const std::string empty = temp_dir("empty");
  fs::create_directories(empty);
  CHECK_THROWS_WITH_AS(load_bundle(empty), doctest::Contains("has no manifest.json"), UserError);
  std::ofstream(empty + "/manifest.json") << "{ not json";
  CHECK_THROWS_WITH_AS(load_bundle(empty), doctest::Contains("manifest.json: is not JSON"), UserError);
  fs::remove_all(empty);

  struct Case {
    const char* what;
    std::function<void(json&)> edit;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"format", [](json& m) { m["format"] = "something-else"; }, "is not a qdf bundle manifest: its \"format\" is \"something-else\""},
      {"version", [](json& m) { m["version"] = 1; }, "is bundle format version 1; this qdf reads version 2"},
      {"field-type", [](json& m) { m["folding"]["conv1"]["pe"] = "two"; }, "field 'folding.conv1': \"pe\" must be a positive integer, found \"two\""},
      {"field-missing", [](json& m) { m.erase("ring"); }, "field 'ring' is missing"},
      {"layer-kind", [](json& m) { m["network"]["layers"][2]["kind"] = "deconv"; }, "field 'network.layers[2].kind' is \"deconv\", not a layer kind"},
      {"layer-shape", [](json& m) { m["network"]["layers"][1]["out"] = {1, 1, 1}; },
       "field 'network.layers[1].out' is [1,1,1], but the network's layers give [12,12,8]"},
      {"branch-layer", [](json& m) { m["network"]["layers"][3]["main"][0]["outputs"] = 9; },
       "field 'network.layers[3].main[0].out' is [12,12,8], but the network's layers give [12,12,9]"},
      {"branch-shape", [](json& m) { m["network"]["layers"][3]["main"][2]["outputs"] = 9; },
       "its network does not build: layer 'res1' (residual block): its main branch gives 12x12x9 but its skip gives 12x12x8"},
      {"folding", [](json& m) { m["folding"]["conv1"]["pe"] = 3; }, "its folding does not fit its network: layer 'conv1'"},
      {"partition", [](json& m) { m["fpgas"][0]["layers"][1] = "res2"; },
       "field 'fpgas[0].layers[1]' is \"res2\", but the network's next layer is \"res1\""},
      {"engine-fpga", [](json& m) { m["engines"][3]["fpga"] = 1; }, "field 'engines[3].fpga' is 1, but the plan rebuilt"},
      {"fifo-depth",
       [](json& m) {
         for (json& e : m["engines"])
           if (e["name"] == "res1_skip_fifo") e["config"]["depth"] = 3;
       },
       ".config.depth' is 3, but the plan rebuilt from its network, folding and partition has"},
      {"cycles", [](json& m) { m["cycles_per_image"] = 1; }, "field 'cycles_per_image' is 1, but the plan rebuilt"},
      {"shift", [](json& m) { m["network"]["layers"][3]["shift"] = -1; },
       "its network does not build: layer 'res1' (residual block): its shift (skip scale 2^shift) must be 0..16, found -1"},
      {"model-outside", [](json& m) { m["model"] = "../model.qdfmodel"; },
       "field 'model' is \"../model.qdfmodel\": expected the name of a file inside the bundle directory"},
      {"model-absolute", [](json& m) { m["model"] = "/dev/zero"; },
       "field 'model' is \"/dev/zero\": expected the name of a file inside the bundle directory"},
      {"model-empty", [](json& m) { m["model"] = ""; }, "field 'model' is \"\": expected the name of a file inside the bundle directory"},
      {"device-luts", [](json& m) { m["device"]["luts"] = 0; }, "field 'device.luts' must be positive, found 0"},
      {"device-brams", [](json& m) { m["device"]["bram_blocks"] = -3; }, "field 'device.bram_blocks' must be positive, found -3"},
      {"clock", [](json& m) { m["clock_mhz"] = 0; }, "field 'clock_mhz' must be positive, found 0"},
      {"ring-bandwidth", [](json& m) { m["ring"]["bandwidth_bytes_per_s"] = 0; },
       "field 'ring.bandwidth_bytes_per_s' must be positive, found 0"},
      {"host-latency", [](json& m) { m["host"]["latency_s"] = -1e-6; }, "field 'host.latency_s' must be at least 0, found -1e-06"},
      {"device-small", [](json& m) { m["device"]["luts"] = 10; },
       "FPGA 0 needs"},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.what));
    const std::string dir = edited_copy(w.dir, c.what, c.edit);
    CHECK_THROWS_WITH_AS(load_bundle(dir), doctest::Contains(c.message), UserError);
    fs::remove_all(dir);
  }

  // A model of another network, and a model missing: named as changed and missing, and with an
  // edited bundle allowed, what the model's own checks find.
  const std::string dir = edited_copy(w.dir, "model", [](json&) {});
  const Net& sfc = builtin_net("sfc").net;
  save_model(dir + "/model.qdfmodel", sfc, random_weights(sfc, 1));
  CHECK_THROWS_WITH_AS(load_bundle(dir), doctest::Contains("model.qdfmodel: changed since the bundle was written"), UserError);
  CHECK_THROWS_WITH_AS(load_bundle(dir, true), doctest::Contains("it is a model of network 'sfc', not of 'resnet-mini'"), UserError);
  fs::remove(dir + "/model.qdfmodel");
  CHECK_THROWS_WITH_AS(load_bundle(dir), doctest::Contains("model.qdfmodel: missing (the manifest lists it)"), UserError);
  CHECK_THROWS_WITH_AS(load_bundle(dir, true), doctest::Contains(fmt::format("bundle '{}': cannot open model file", dir).c_str()), UserError);
  fs::remove_all(dir);
  fs::remove_all(w.dir);
}

TEST_CASE("plan_partition: the plan of a given folding and partition, and a partition out of order is a user error") {
  const Net& n = builtin_net("resnet-mini").net;
  const ModelWeights w = random_weights(n, 3);
  PlanOptions o;
  o.fpgas = 2;
  o.device = device("zynq");
  o.fps = 20000;
  const Plan p = plan_network(n, w, o);
  REQUIRE(p.fpgas.size() == 2);
  o.folding = p.graph.folding;
  const std::vector<int> cuts = {0, p.fpgas[1].units.front()};
  check_same_plan(p, plan_partition(n, w, o, cuts, p.limit));
  CHECK_THROWS_WITH_AS(plan_partition(n, w, o, {1}), doctest::Contains("must place its first layer on FPGA 0"), UserError);
  CHECK_THROWS_WITH_AS(plan_partition(n, w, o, {0, 3, 3}), doctest::Contains("at least one of its 10 layers, in order"), UserError);
  CHECK_THROWS_WITH_AS(plan_partition(n, w, o, {0, 10}), doctest::Contains("at least one of its 10 layers"), UserError);
}

namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// The FNV-1a 64 of `bytes` written out here, bit by bit as the standard gives it, so that the
// manifest's hashes are checked against an independent computation.
std::string naive_fnv1a(const std::string& bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

}  // namespace

TEST_CASE("write_bundle records every file it writes with its hash; load_bundle names a changed, missing or stale file") {
  const Written w = write("sfc", 2, "zynq", 20000);
  const json m = read_json(w.dir + "/manifest.json");
  REQUIRE(m.contains("files"));
  // Every file on disk but the manifest (and qdf's hidden marker) is listed, with its hash.
  std::set<std::string> on_disk;
  for (const auto& e : fs::recursive_directory_iterator(w.dir)) {
    const std::string rel = fs::relative(e.path(), w.dir).generic_string();
    if (e.is_regular_file() && rel != "manifest.json" && rel[0] != '.') on_disk.insert(rel);
  }
  std::set<std::string> listed;
  for (const auto& [name, hash] : m["files"].items()) {
    listed.insert(name);
    CAPTURE(name);
    CHECK(hash == naive_fnv1a(read_text(w.dir + "/" + name)));
  }
  CHECK(listed == on_disk);
  CHECK(listed.count("model.qdfmodel") == 1);
  const std::string top = m["fpgas"][1]["top"].get<std::string>();
  CHECK(listed.count("fpga1/" + top + ".v") == 1);
  std::string rom;
  for (const std::string& f : listed)
    if (f.rfind("fpga0/", 0) == 0 && f.find(".v") == std::string::npos) rom = f;
  REQUIRE(!rom.empty());

  // One byte of the top changed, a ROM file missing, a stale file added: each named, all at once.
  const std::string dir = temp_dir("files-edited");
  fs::remove_all(dir);
  fs::copy(w.dir, dir, fs::copy_options::recursive);
  std::string v = read_text(dir + "/fpga1/" + top + ".v");
  v[v.size() / 2] = v[v.size() / 2] == ' ' ? '\t' : ' ';
  std::ofstream(dir + "/fpga1/" + top + ".v", std::ios::binary) << v;
  fs::remove(dir + "/" + rom);
  std::ofstream(dir + "/fpga0/old_engine.v") << "module old_engine; endmodule\n";
  CHECK_THROWS_WITH_AS(load_bundle(dir), doctest::Contains("3 of its files differ from what its manifest.json records"), UserError);
  CHECK_THROWS_WITH_AS(load_bundle(dir), doctest::Contains(fmt::format("fpga1/{}.v: changed since the bundle was written", top).c_str()), UserError);
  CHECK_THROWS_WITH_AS(load_bundle(dir), doctest::Contains(fmt::format("{}: missing (the manifest lists it)", rom).c_str()), UserError);
  CHECK_THROWS_WITH_AS(load_bundle(dir), doctest::Contains("fpga0/old_engine.v: not one of the files the manifest lists"), UserError);
  CHECK_THROWS_WITH_AS(load_bundle(dir), doctest::Contains("--allow-edited-bundle"), UserError);
  // Allowed: loaded, each difference listed.
  const LoadedBundle b = load_bundle(dir, true);
  REQUIRE(b.edited.size() == 3);
  check_same_plan(w.plan, b.plan);
  // The modules run are the files on disk: the edited top as it is, the stale module too.
  const std::vector<dsl::VerilogModule> mods = bundle_fpga_modules(b, 1);
  REQUIRE(!mods.empty());
  CHECK(mods[0].top == top);
  CHECK(mods[0].verilog == v);
  const std::vector<dsl::VerilogModule> mods0 = bundle_fpga_modules(b, 0);
  CHECK(std::any_of(mods0.begin(), mods0.end(), [](const dsl::VerilogModule& x) { return x.top == "old_engine"; }));
  // An intact bundle's modules are those generated from its plan, ROM files with the module that reads them.
  const LoadedBundle intact = load_bundle(w.dir);
  CHECK(intact.edited.empty());
  for (int f = 0; f < 2; ++f) {
    const std::vector<dsl::VerilogModule> gen = fpga_modules(w.plan, f), got = bundle_fpga_modules(intact, f);
    REQUIRE(gen.size() == got.size());
    CHECK(got[0].top == gen[0].top);
    std::map<std::string, const dsl::VerilogModule*> by_name;
    for (const auto& g : got) by_name[g.top] = &g;
    for (const auto& g : gen) {
      CAPTURE(g.top);
      REQUIRE(by_name.count(g.top) == 1);
      CHECK(by_name[g.top]->verilog == g.verilog);
      CHECK(by_name[g.top]->files == g.files);
    }
  }
  // A manifest whose "files" points out of the bundle is refused.
  const std::string out = edited_copy(w.dir, "files-outside", [](json& j) { j["files"]["../x"] = "0000000000000000"; });
  CHECK_THROWS_WITH_AS(load_bundle(out), doctest::Contains("field 'files' names \"../x\""), UserError);
  fs::remove_all(out);
  fs::remove_all(dir);
  fs::remove_all(w.dir);
}
