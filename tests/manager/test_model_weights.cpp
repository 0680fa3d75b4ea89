// The model file: written and read back bit-exactly; malformed, truncated or mismatched files are
// user errors naming what is wrong; a failed write leaves nothing behind.
#include "dsl/errors.hpp"
#include "manager/model_weights.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

using namespace qdf;
using namespace qdf::manager;

namespace {
std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string(name) + "." + std::to_string(::getpid()))).string();
}
// A model file as docs/model_format.md lays it out, with any header and payload.
void write_model(const std::string& path, const nlohmann::json& header, const std::vector<std::uint64_t>& payload) {
  const std::string text = header.dump();
  std::ofstream f(path, std::ios::binary);
  const std::uint32_t version = 1, reserved = 0;
  const std::uint64_t n = text.size();
  f.write("QDFMODEL", 8);
  f.write(reinterpret_cast<const char*>(&version), 4);
  f.write(reinterpret_cast<const char*>(&reserved), 4);
  f.write(reinterpret_cast<const char*>(&n), 8);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  f.write(reinterpret_cast<const char*>(payload.data()), static_cast<std::streamsize>(payload.size() * 8));
}
}  // namespace

TEST_CASE("random weights fit every built-in network, and a model file round-trips") {
  for (const char* name : {"sfc", "cnv-w1a2"}) {
    const Net& net = builtin_net(name).net;
    ModelWeights w = random_weights(net, 7);
    CHECK_NOTHROW(check_weights(net, w));
    std::string path = temp_path(name);
    save_model(path, net, w);
    ModelWeights r = load_model(path, net);
    CHECK(r.weights.size() == w.weights.size());
    CHECK(r.thresholds.size() == w.thresholds.size());
    for (const auto& [layer, m] : w.weights) CHECK(r.weights.at(layer).words == m.words);
    for (const auto& [layer, t] : w.thresholds) {
      CHECK(r.thresholds.at(layer).t == t.t);
      CHECK(r.thresholds.at(layer).flip == t.flip);
    }
    std::filesystem::remove(path);
  }
  const Net& resnet = builtin_net("resnet18").net;
  ModelWeights rw = random_weights(resnet, 1);
  CHECK(rw.weights.size() == 21);  // conv1, 16 block convs, 3 projections, fc
  CHECK_NOTHROW(check_weights(resnet, rw));
}

// Random thresholds must sit where accumulators fall, about sqrt(fan-in) around their mean for
// random +-1 weights, so that outputs vary and accumulators meet thresholds exactly; thresholds
// spread over the accumulator's whole range give near-constant activations. Here a binary input
// of 784 values (sd 28) and a 2-bit input of 64 values (sd sqrt(64 * 3.5), about 15); every
// threshold within four sd, and in each layer some within one sd.
TEST_CASE("random thresholds are drawn from the accumulators' real spread") {
  for (auto [net, fan_in, mean_sq] : {std::tuple{input("img", {28, 28, 1}, 1, true) >> fc("f", 64) >> act(2), 784, 1.0},
                                      {input("x", {4, 4, 4}, 2) >> fc("f", 64) >> act(1), 64, 3.5}}) {
    const ModelWeights w = random_weights(net, 5);
    const engines::Thresholds& t = w.thresholds.at(net.back().name);
    const double sd = std::sqrt(fan_in * mean_sq);
    int near = 0;
    for (std::int64_t x : t.t) {
      CHECK_MESSAGE(std::abs(static_cast<double>(x)) <= 4 * sd, "threshold ", x, " is beyond four sd = ", 4 * sd);
      near += std::abs(static_cast<double>(x)) <= sd;
    }
    CHECK(near >= 4);
    for (int ch = 0; ch < t.channels; ++ch) CHECK(std::is_sorted(t.of(ch), t.of(ch) + t.levels));
  }
}

TEST_CASE("bad model files are user errors that name what is wrong") {
  const Net& net = builtin_net("sfc").net;
  std::string path = temp_path("bad_model");
  save_model(path, net, random_weights(net, 1));
  auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 16);
  CHECK_THROWS_WITH_AS(load_model(path, net), doctest::Contains("truncated"), UserError);
  std::ofstream(path) << "not a model at all, just some text that is long enough";
  CHECK_THROWS_WITH_AS(load_model(path, net), doctest::Contains("does not start with QDFMODEL"), UserError);
  save_model(path, net, random_weights(net, 1));
  CHECK_THROWS_WITH_AS(load_model(path, builtin_net("lfc").net), doctest::Contains("a model of network 'sfc', not of 'lfc'"),
                       UserError);
  std::filesystem::remove(path);
  CHECK_THROWS_WITH_AS(load_model(path, net), doctest::Contains("cannot open model file"), UserError);
}

TEST_CASE("weights that do not match the network are rejected before anything is written") {
  const Net& net = builtin_net("sfc").net;
  ModelWeights w = random_weights(net, 1);
  w.weights.at("fc2") = engines::BinaryMatrix::random(256, 100, 1);
  std::string path = temp_path("mismatch");
  CHECK_THROWS_WITH_AS(save_model(path, net, w), doctest::Contains("layer 'fc2' (fully connected, 256 outputs) needs 256x256 weights"),
                       UserError);
  CHECK(!std::filesystem::exists(path));
}

TEST_CASE("crafted model files: every size and offset is checked against the file before it is used") {
  // A network with one small layer: fc 4 -> 2 on binary inputs (2 rows of 1 word) and its thresholds.
  const Net net = input("in", {1, 1, 4}, 1, true) >> fc("f", 2) >> label_select();
  Net named = net;
  named.name = "tiny";
  const std::string path = temp_path("crafted_model");
  using nlohmann::json;
  auto layer = [](json fields) {
    json l = {{"name", "f"}, {"kind", "weights"}, {"rows", 2}, {"cols", 4}, {"offset", 0}, {"words", 2}};
    for (auto& [k, v] : fields.items()) l[k] = v;
    return l;
  };
  auto header = [&](json l) { return json{{"network", "tiny"}, {"layers", json::array({l})}}; };
  const std::vector<std::uint64_t> payload = {0xA, 0x5};
  write_model(path, header(layer({})), payload);
  CHECK(load_model(path, named).weights.at("f").words == payload);

  struct Case {
    const char* what;
    json header;
    const char* message;
  };
  const std::vector<Case> cases = {
      // 2^64 - 2 + 2 words wraps to 0: before, the bounds check passed and the
      // weights were read from the 24 bytes before the payload.
      {"offset-wraps", header(layer({{"offset", 18446744073709551614ull}})), "layer 'f': 'offset' must be an integer in 0..2, found 18446744073709551614"},
      {"offset-negative", header(layer({{"offset", -1}})), "layer 'f': 'offset' must be an integer in 0..2, found -1"},
      {"offset-past", header(layer({{"offset", 1}})), "truncated: the weights of layer 'f' are missing (2 words at offset 1, the payload has 2)"},
      // Sizes that would allocate tens of gigabytes before being compared with the file.
      {"rows-huge", header(layer({{"rows", 2000000000}, {"cols", 2000000000}, {"words", 62500000000000000ull}})),
       "layer 'f': 'words' must be an integer in 0..2, found 62500000000000000"},
      {"rows-huge-consistent", header(layer({{"rows", 2000000000}, {"words", 2}})),
       "layer 'f': inconsistent weight size (2000000000 rows of 4 columns are 2000000000 words, the header says 2)"},
      {"rows-too-big", header(layer({{"rows", 4000000000ull}})), "layer 'f': 'rows' must be an integer in 0..2147483647, found 4000000000"},
      {"cols-negative", header(layer({{"cols", -64}})), "layer 'f': 'cols' must be an integer in 0..2147483584, found -64"},
      {"cols-not-integer", header(layer({{"cols", 4.5}})), "layer 'f': 'cols' must be an integer in 0..2147483584, found 4.5"},
      {"thresholds-huge",
       header(json{{"name", "f"}, {"kind", "thresholds"}, {"channels", 2000000000}, {"levels", 2000000000}, {"offset", 0}}),
       "truncated: the thresholds of layer 'f' are missing (2000000000 channels of 2000000000 levels at offset 0, the payload has 2 words)"},
      {"thresholds-negative", header(json{{"name", "f"}, {"kind", "thresholds"}, {"channels", -1}, {"levels", -1}, {"offset", 0}}),
       "layer 'f': 'channels' must be an integer in 0..2147483647, found -1"},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.what));
    write_model(path, c.header, payload);
    CHECK_THROWS_WITH_AS(load_model(path, named), doctest::Contains(c.message), UserError);
  }
  std::filesystem::remove(path);

  // Not a regular file: a device read without end, a directory.
  CHECK_THROWS_WITH_AS(load_model("/dev/zero", named),
                       doctest::Contains("model file /dev/zero: expected a regular file (written by `qdf train` or save_model), found a "
                                         "directory, device or pipe"),
                       UserError);
  CHECK_THROWS_WITH_AS(load_model("/dev/null", named), doctest::Contains("expected a regular file"), UserError);
  CHECK_THROWS_WITH_AS(load_model(std::filesystem::temp_directory_path().string(), named), doctest::Contains("expected a regular file"),
                       UserError);
}

TEST_CASE("a model file describes its network: load_network_model gives both back") {
  const Net& net = builtin_net("cnv-w1a2").net;
  const ModelWeights w = random_weights(net, 3);
  std::string path = temp_path("network_model");
  save_model(path, net, w);
  NetworkModel m = load_network_model(path);
  CHECK(m.net.name == "cnv-w1a2");
  REQUIRE(m.net.layers().size() == net.layers().size());
  for (size_t i = 0; i < net.layers().size(); ++i) {
    CHECK(m.net.layers()[i].describe() == net.layers()[i].describe());
    CHECK(m.net.layers()[i].out == net.layers()[i].out);
  }
  for (const auto& [name, b] : w.weights) CHECK(m.weights.weights.at(name).words == b.words);
  for (const auto& [name, t] : w.thresholds) CHECK(m.weights.thresholds.at(name).t == t.t);
  // A file of weights only (no "net" in its header) names the way to use it.
  write_model(path, {{"network", "tiny"}, {"layers", nlohmann::json::array()}}, {});
  CHECK_THROWS_WITH_AS(load_network_model(path), doctest::Contains("does not describe its network"), UserError);
  std::filesystem::remove(path);
}
