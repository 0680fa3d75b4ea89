// The host API (host/api/engine_api.hpp) on the reference and sim backends: a bundle written by
// compile_network (as `qdf compile` writes it) gives the same outputs on both, image by image, and
// its statistics are the simulator's; each way a program can misuse it is a user error whose text
// names what was expected and what was found. The rtl backend is in tests/cosim/test_engine_api_rtl.cpp.
#include "dsl/errors.hpp"
#include "host/design/compile_flow.hpp"
#include "host/api/engine_api.hpp"
#include "host/cli/sim_flow.hpp"
#include "host/data/idx_dataset.hpp"
#include "host/reference/reference_model.hpp"
#include "sim/graph_values.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <unistd.h>

using namespace qdf;
using namespace qdf::host;
namespace fs = std::filesystem;
using doctest::Contains;

namespace {

std::string temp_dir(const std::string& what) {
  return fs::temp_directory_path() / fmt::format("qdf-engine-api-{}-{}", what, ::getpid());
}

// A bundle written once per test process and removed at its exit.
struct Bundle {
  std::string dir;
  explicit Bundle(CompileRequest r, const std::string& what) : dir(temp_dir(what)) {
    fs::remove_all(dir);
    r.out = dir;
    compile_network(r);
  }
  ~Bundle() { fs::remove_all(dir); }
};

// sfc (binary 28x28 input, 10 labels) on two FPGAs of the xc7z020: a ring link in the stream,
// about 4,096 cycles per image; planned and simulated in well under a second.
const std::string& sfc_bundle() {
  static const Bundle b(
      [] {
        CompileRequest r;
        r.net = "sfc";
        r.seed = 3;
        r.fpgas = 2;
        r.device = "zynq";
        r.fps = 20000;
        return r;
      }(),
      "sfc");
  return b.dir;
}

// fashion-cnv (8-bit 28x28 input, W1A2 CNN) on one xc7z020 at a modest rate: random weights or
// its shipped model, the API does not care.
const std::string& fashion_bundle() {
  static const Bundle b(
      [] {
        CompileRequest r;
        r.net = "fashion-cnv";
        r.seed = 5;
        r.device = "zynq";
        r.fps = 2000;
        return r;
      }(),
      "fashion-cnv");
  return b.dir;
}

// A small network that ends in scores, not labels: a 4-bit 2x2x4 input, fc, 2-bit activation, fc.
Design scores_design() {
  manager::Net net = manager::input("x", {2, 2, 4}, 4) >> manager::fc("fc1", 16) >> manager::act(2) >> manager::fc("fc2", 5);
  net.name = "scores";
  manager::PlanOptions o;
  o.device = manager::device("zynq");
  manager::ModelWeights w = manager::random_weights(net, 9);
  return plan_design(std::move(net), std::move(w), o, "network scores");
}

// The outputs of `images` on the reference and sim backends of `design` must be the same; the
// reference backend's must be the reference model's, image by image. Returns them.
std::vector<std::vector<std::int64_t>> check_backends_agree(const Design& design, const std::vector<std::vector<std::int64_t>>& images) {
  Engine ref(design, Backend::Reference), sim(design, Backend::Sim);
  for (const auto& img : images) {
    ref.queue(img);
    sim.queue(img);
  }
  const auto want = ref.run();
  REQUIRE(want.size() == images.size());
  for (size_t i = 0; i < images.size(); ++i) CHECK(want[i] == reference_forward(design.net, design.weights, images[i]));
  const auto got = sim.run();
  const std::string diff = compare_outputs(want, got, "sim vs reference backend");
  CHECK_MESSAGE(diff.empty(), diff);
  return want;
}

// How many different outputs: a comparison of outputs that are all alike proves little.
size_t distinct(const std::vector<std::vector<std::int64_t>>& outputs) {
  return std::set<std::vector<std::int64_t>>(outputs.begin(), outputs.end()).size();
}

// The design of `d`'s network up to and including layer `last`, with its weights, planned on one
// xc7z020: the values of an inner layer, a stronger comparison than the labels (random weights
// give many images one label; fashion-cnv's give every image the same scores).
Design prefix_of(const Design& d, const std::string& last) {
  manager::Net net;
  manager::ModelWeights w;
  for (const manager::Layer& l : d.net.layers()) {
    net.append(l);
    if (d.weights.weights.count(l.name)) w.weights[l.name] = d.weights.weights.at(l.name);
    if (d.weights.thresholds.count(l.name)) w.thresholds[l.name] = d.weights.thresholds.at(l.name);
    if (l.name == last) break;
  }
  REQUIRE_MESSAGE(net.back().name == last, "no layer ", last, " in ", d.net.name);
  net.name = d.net.name + "-to-" + last;
  manager::PlanOptions o;
  o.device = manager::device("zynq");
  o.fps = 2000;
  const std::string source = "network " + net.name;
  return plan_design(std::move(net), std::move(w), o, source);
}

}  // namespace

TEST_CASE("backend names: reference, sim and rtl, and an unknown one lists them") {
  for (Backend b : {Backend::Reference, Backend::Sim, Backend::Rtl}) CHECK(backend_from_name(to_string(b)) == b);
  CHECK_THROWS_WITH_AS(backend_from_name("fpga"), Contains("unknown backend 'fpga': expected reference"), UserError);
  std::string m;
  try {
    backend_from_name("Sim");  // names are lower case
  } catch (const UserError& e) {
    m = e.what();
  }
  REQUIRE_MESSAGE(!m.empty(), "backend_from_name(\"Sim\") did not throw");
  for (const char* name : {"'Sim'", "reference", "sim", "rtl"}) CHECK_MESSAGE(m.find(name) != std::string::npos, m);
}

TEST_CASE("the input and output of a loaded bundle are its network's") {
  const Engine e = Engine::load(sfc_bundle(), Backend::Reference);
  CHECK(e.input().name == "image");
  CHECK(e.input().shape == manager::Shape{28, 28, 1});
  CHECK(e.input().binary);
  CHECK(e.input().bits == 1);
  CHECK(e.input().values_per_image == 784);
  CHECK(e.input().max_value() == 1);
  CHECK(e.output().labels);
  CHECK(e.output().top_k == 1);
  CHECK(e.output().classes == 10);
  CHECK(e.output().values_per_image == 1);
  CHECK(e.output().describe() == "top-1 label of 10 classes");
  CHECK(e.design().source == "bundle " + sfc_bundle());

  const Engine f = Engine::load(fashion_bundle(), Backend::Sim);
  CHECK(f.input().shape == manager::Shape{28, 28, 1});
  CHECK_FALSE(f.input().binary);
  CHECK(f.input().bits == 8);
  CHECK(f.input().max_value() == 255);
  CHECK(f.input().describe() == "input 'image' (28x28x1, 8-bit unsigned)");

  const Engine s(scores_design(), Backend::Reference);
  CHECK_FALSE(s.output().labels);
  CHECK(s.output().layer == "fc2");
  CHECK(s.output().values_per_image == 5);
  CHECK(s.output().describe() == "5 scores of layer 'fc2'");
}

TEST_CASE("sfc bundle on two FPGAs: the sim backend gives the reference backend's labels and scores on 40 random images") {
  const Design d = Engine::load(sfc_bundle(), Backend::Sim).design();
  const auto images = sim::random_images(d.plan.graph, 40, 21);
  check_backends_agree(d, images);
  const auto scores = check_backends_agree(prefix_of(d, "fc4"), images);
  CHECK(scores.at(0).size() == 10);
  CHECK(distinct(scores) >= 30);
}

TEST_CASE("fashion-cnv bundle: sim and reference backends agree on the labels and inner maps of 24 Fashion-MNIST test images") {
  const Dataset test = load_fashion_mnist("test").first(24);
  std::vector<std::vector<std::int64_t>> images;
  for (std::int64_t i = 0; i < test.size(); ++i) images.push_back(test.stream(i, 8));
  const Design d = Engine::load(fashion_bundle(), Backend::Sim).design();
  check_backends_agree(d, images);
  const Design to_conv4 = prefix_of(d, "conv4_act");
  const auto maps = check_backends_agree(to_conv4, images);
  CHECK(maps.at(0).size() == 8 * 8 * 64);
  CHECK(distinct(maps) == images.size());

  // queue(pixels, n) queues what queue(stream(i, 8)) does.
  Engine pixels(to_conv4, Backend::Sim);
  for (std::int64_t i = 0; i < test.size(); ++i) pixels.queue(test.image(i), static_cast<size_t>(test.image_size()));
  CHECK(pixels.run() == maps);
}

TEST_CASE("a network that ends in scores: sim and reference backends agree on the scores") {
  const Design d = scores_design();
  const auto scores = check_backends_agree(d, sim::random_images(d.plan.graph, 20, 4));
  CHECK(scores.at(0).size() == 5);
  CHECK(distinct(scores) >= 15);  // two images may share their scores
}

TEST_CASE("run: outputs in queue order, the queue emptied, the statistics of the run") {
  Engine e = Engine::load(sfc_bundle(), Backend::Sim);
  const auto images = sim::random_images(e.design().plan.graph, 16, 8);
  CHECK(e.stats().images == 0);
  for (const auto& img : images) e.queue(img);
  CHECK(e.queued() == 16);
  std::vector<double> progress;
  e.on_progress([&](double f) { progress.push_back(f); });
  const auto first = e.run();
  CHECK(e.queued() == 0);
  REQUIRE(first.size() == 16);
  for (const auto& out : first) {
    REQUIRE(out.size() == 1);
    CHECK((out[0] >= 0 && out[0] <= 9));
  }
  for (double f : progress) CHECK((f >= 0 && f <= 1));

  // The statistics are the simulator's (sim_flow's simulate_design runs the same images).
  const RunStats& s = e.stats();
  CHECK(s.backend == Backend::Sim);
  CHECK(s.images == 16);
  CHECK(s.timed);
  CHECK(s.wall_seconds > 0);
  CHECK(s.clock_mhz == e.design().plan.clock_mhz);
  const double planned = static_cast<double>(e.design().plan.cycles_per_image);
  CHECK(s.cycles_per_image >= 0.98 * planned);
  CHECK(s.cycles_per_image <= 1.02 * planned);
  CHECK(s.latency_cycles > 0);
  CHECK(s.total_cycles >= s.latency_cycles);
  CHECK(s.images_per_second == doctest::Approx(s.clock_mhz * 1e6 / s.cycles_per_image));
  CHECK(s.images_for_steady_state > 1);
  CHECK(s.steady_state == (16 >= s.images_for_steady_state));
  CHECK(s.rtl_build_seconds == 0);
  const SimRun direct = simulate_design(e.design(), 16, true, 0);
  CHECK(s.cycles_per_image == direct.result.timing.cycles_per_image);
  CHECK(s.latency_cycles == direct.result.timing.latency_cycles);
  CHECK(s.images_for_steady_state == images_for_steady_state(direct));

  // A second run of the same images in reverse: the outputs reverse, and the labels are the first.
  for (auto it = images.rbegin(); it != images.rend(); ++it) e.queue(*it);
  const std::vector<int> labels = e.run_labels();
  REQUIRE(labels.size() == 16);
  for (size_t i = 0; i < 16; ++i) CHECK(labels[15 - i] == first[i][0]);

  // One image: no steady state, and the run says how many it needs.
  e.queue(images[0]);
  e.run();
  CHECK(e.stats().images == 1);
  CHECK_FALSE(e.stats().steady_state);
  CHECK(e.stats().cycles_per_image == e.stats().latency_cycles);
}

TEST_CASE("the reference backend has no cycles and reports progress up to 1") {
  Engine e = Engine::load(sfc_bundle(), Backend::Reference);
  for (const auto& img : sim::random_images(e.design().plan.graph, 4, 2)) e.queue(img);
  std::vector<double> progress;
  e.on_progress([&](double f) { progress.push_back(f); });
  e.run();
  REQUIRE_FALSE(progress.empty());
  CHECK(std::is_sorted(progress.begin(), progress.end()));
  CHECK(progress.front() > 0);
  CHECK(progress.back() == 1.0);
  CHECK(e.stats().backend == Backend::Reference);
  CHECK(e.stats().images == 4);
  CHECK_FALSE(e.stats().timed);
  CHECK(e.stats().cycles_per_image == 0);
  CHECK(e.stats().clock_mhz == 0);
}

TEST_CASE("Engine::load: a missing directory, a file, a directory without a manifest, a manifest of another version") {
  const std::string missing = temp_dir("missing");
  CHECK_THROWS_WITH_AS(Engine::load(missing, Backend::Sim),
                       Contains(fmt::format("no bundle directory '{}': expected the directory that `qdf compile NET --out DIR` writes, "
                                            "found nothing at that path",
                                            missing)
                                    .c_str()),
                       UserError);
  CHECK_THROWS_WITH_AS(Engine::load(sfc_bundle() + "/manifest.json", Backend::Sim),
                       Contains("is not a bundle: expected the directory that `qdf compile NET --out DIR` writes, found a file"), UserError);

  const std::string empty = temp_dir("empty");
  fs::create_directories(empty);
  CHECK_THROWS_WITH_AS(Engine::load(empty, Backend::Reference), Contains("has no manifest.json: expected the directory"), UserError);
  CHECK_THROWS_WITH_AS(Engine::load(empty, Backend::Reference), Contains("found a directory without one"), UserError);
  fs::remove_all(empty);

  // A bundle from another qdf: the same files, the manifest's version changed.
  const std::string other = temp_dir("other-version");
  fs::remove_all(other);
  fs::copy(sfc_bundle(), other, fs::copy_options::recursive);
  nlohmann::json m;
  std::ifstream(other + "/manifest.json") >> m;
  m["version"] = 99;
  std::ofstream(other + "/manifest.json") << m.dump(2);
  CHECK_THROWS_WITH_AS(Engine::load(other, Backend::Sim), Contains(fmt::format("is bundle format version 99; this qdf reads version {}", manager::kBundleVersion).c_str()), UserError);
  fs::remove_all(other);
}

TEST_CASE("queue: an image of the wrong size names the input, its shape and both counts") {
  Engine e = Engine::load(fashion_bundle(), Backend::Sim);
  e.queue(std::vector<std::int64_t>(784, 0));
  e.queue(std::vector<std::int64_t>(784, 255));
  CHECK_THROWS_WITH_AS(e.queue(std::vector<std::int64_t>(783, 0)),
                       Contains("queued image 2 (0-based, since the last run) has 783 values; input 'image' (28x28x1, 8-bit unsigned) "
                                "takes 28x28x1 = 784 values per image"),
                       UserError);
  std::vector<std::uint8_t> pixels(900, 7);
  CHECK_THROWS_WITH_AS(e.queue(pixels.data(), pixels.size()), Contains("queued image 2 (0-based, since the last run) has 900 values"),
                       UserError);
  CHECK(e.queued() == 2);  // a refused image is not queued
}

TEST_CASE("queue: a value out of range names the image, the index, its place, the value and the range") {
  Engine f = Engine::load(fashion_bundle(), Backend::Sim);
  std::vector<std::int64_t> img(784, 100);
  img[30] = 256;
  CHECK_THROWS_WITH_AS(f.queue(img), Contains("queued image 0 (0-based, since the last run), value 30 (row 1, column 2, channel 0) is "
                                              "256; input 'image' (28x28x1, 8-bit unsigned) takes values 0..255"),
                       UserError);
  img[30] = -1;
  CHECK_THROWS_WITH_AS(f.queue(img), Contains("value 30 (row 1, column 2, channel 0) is -1;"), UserError);

  // A binary input takes bits: 2 is neither -1 nor +1.
  Engine s = Engine::load(sfc_bundle(), Backend::Reference);
  s.queue(std::vector<std::int64_t>(784, 1));
  std::vector<std::int64_t> bits(784, 0);
  bits[783] = 2;
  CHECK_THROWS_WITH_AS(s.queue(bits), Contains("queued image 1 (0-based, since the last run), value 783 (row 27, column 27, channel 0) "
                                               "is 2; input 'image' (28x28x1, binary: values 0 = -1 and 1 = +1) takes values 0..1"),
                       UserError);

  // A 4-bit input with 4 channels: the channel is named too.
  Engine n(scores_design(), Backend::Reference);
  std::vector<std::int64_t> x(16, 15);
  x[7] = 16;
  CHECK_THROWS_WITH_AS(n.queue(x), Contains("value 7 (row 0, column 1, channel 3) is 16; input 'x' (2x2x4, 4-bit unsigned) takes values 0..15"),
                       UserError);
}

TEST_CASE("queue(pixels, n) on an input that is not 8-bit is a user error that says what to queue instead") {
  Engine s = Engine::load(sfc_bundle(), Backend::Sim);
  const std::vector<std::uint8_t> pixels(784, 0);
  CHECK_THROWS_WITH_AS(s.queue(pixels.data(), pixels.size()),
                       Contains("queue(pixels, n) takes 8-bit pixels, but input 'image' (28x28x1, binary: values 0 = -1 and 1 = +1) is not "
                                "8-bit unsigned: queue a vector of 784 values instead"),
                       UserError);
  CHECK(s.queued() == 0);
}

TEST_CASE("run with nothing queued, and run_labels on a network without label select, are user errors") {
  for (Backend b : {Backend::Reference, Backend::Sim, Backend::Rtl}) {
    Engine e = Engine::load(sfc_bundle(), b);
    CHECK_THROWS_WITH_AS(e.run(), Contains(fmt::format("run() on backend {} with no image queued: expected at least one, found 0", to_string(b)).c_str()),
                         UserError);
    CHECK_THROWS_WITH_AS(e.run_labels(), Contains("with no image queued"), UserError);
  }
  Engine n(scores_design(), Backend::Sim);
  n.queue(std::vector<std::int64_t>(16, 3));
  CHECK_THROWS_WITH_AS(n.run_labels(),
                       Contains("run_labels(): network 'scores' ends in layer 'fc2', not in label select, so it gives 5 scores of layer "
                                "'fc2', not labels: expected a network ending in label_select()"),
                       UserError);
  CHECK(n.queued() == 1);  // refused before running: the image is still queued
  CHECK(n.run().size() == 1);
}
