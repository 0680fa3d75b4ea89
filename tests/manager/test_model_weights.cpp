// The model file: written and read back bit-exactly; malformed, truncated or mismatched files are
// user errors naming what is wrong; a failed write leaves nothing behind.
#include "dsl/errors.hpp"
#include "manager/model_weights.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace qdf;
using namespace qdf::manager;

namespace {
std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string(name) + "." + std::to_string(::getpid()))).string();
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
