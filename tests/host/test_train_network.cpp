// Training: the folding of batch norm and quantizer into thresholds against the float rule it
// replaces, the backward passes against finite differences of the float network, short training
// runs (an MLP; a residual network with global pool) whose folded integer networks the reference
// model (and the simulator) must agree with, and the networks and data the trainer refuses.
#include "dsl/errors.hpp"
#include "host/api/engine_api.hpp"
#include "host/design/open_design.hpp"
#include "host/reference/reference_model.hpp"
#include "host/train/train_network.hpp"
#include "manager/network.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <unistd.h>
#include <zlib.h>

using namespace qdf;

TEST_CASE("train: folded thresholds give the quantizer's value for every accumulator") {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int bits : {1, 2}) {
    host::BatchNorm bn;
    const int channels = 64;
    for (int ch = 0; ch < channels; ++ch) {
      bn.mean.push_back(40 * u(rng));
      bn.var.push_back(1 + 400 * std::abs(u(rng)));
      // Positive, negative and zero scales; some so small or large that the thresholds clamp.
      const double g = ch % 8 == 0 ? 0.0 : ch % 8 == 1 ? 1e-4 * u(rng) : ch % 8 == 2 ? 50 * u(rng) : u(rng);
      bn.gamma.push_back(g);
      bn.beta.push_back(1.5 + 2 * u(rng));
    }
    const std::int64_t bound = 300;
    engines::Thresholds t = host::fold_batch_norm(bn, bits, bound);
    t.check("test");
    int mismatches = 0;
    for (int ch = 0; ch < channels; ++ch)
      for (std::int64_t acc = -bound; acc <= bound; ++acc) {
        const auto c = static_cast<size_t>(ch);
        const double y = bn.gamma[c] / std::sqrt(bn.var[c] + bn.eps) * (static_cast<double>(acc) - bn.mean[c]) + bn.beta[c];
        const int want = host::quantize(y, bits);
        const int got = engines::threshold_count(acc, t.flip[c] != 0, t.of(ch), t.levels);
        if (want != got && ++mismatches < 5) FAIL_CHECK("channel " << ch << " acc " << acc << ": quantizer " << want << ", thresholds " << got);
      }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("train: the quantizers") {
  CHECK(host::quantize(-0.1, 2) == 0);
  CHECK(host::quantize(0.49, 2) == 0);
  CHECK(host::quantize(0.5, 2) == 1);
  CHECK(host::quantize(2.5, 2) == 3);
  CHECK(host::quantize(9, 2) == 3);
  CHECK(host::quantize(-1e-9, 1) == 0);
  CHECK(host::quantize(0, 1) == 1);
}

TEST_CASE("train: a short run of the W1A1 MLP learns, and the reference model agrees with its folded network") {
  const manager::Net& net = manager::builtin_net("fashion-mlp").net;
  host::Dataset train = host::load_fashion_mnist("train"), test = host::load_fashion_mnist("test").first(500);
  host::TrainOptions opt;
  opt.epochs = 2;
  opt.train_images = 3000;
  opt.seed = 3;
  int epochs_reported = 0;
  opt.epoch_done = [&](const host::EpochReport& r) {
    ++epochs_reported;
    CHECK(r.epoch == epochs_reported);
  };
  host::TrainResult r = host::train_network(net, train, test, opt);
  CHECK(epochs_reported == 2);
  CHECK(r.epochs.back().loss < r.epochs.front().loss);
  MESSAGE("3,000 images, 2 epochs: folded integer accuracy " << r.test_accuracy);
  CHECK(r.test_accuracy > 0.70);  // chance is 0.10

  // The trainer's integer arithmetic (predict_folded) and the reference model give the same labels.
  const std::vector<int> folded = host::predict_folded(net, r.weights, test, 200);
  CHECK(std::equal(folded.begin(), folded.end(), r.test_predictions.begin()));
  int agree = 0;
  for (int i = 0; i < 200; ++i) agree += host::reference_forward(net, r.weights, test.stream(i)).at(0) == folded[static_cast<size_t>(i)];
  CHECK(agree == 200);

  // The same seed trains the same network.
  opt.epochs = 1;
  opt.train_images = 500;
  opt.epoch_done = nullptr;
  host::TrainResult a = host::train_network(net, train, test, opt), b = host::train_network(net, train, test, opt);
  CHECK(a.weights.weights.at("fc2").words == b.weights.weights.at("fc2").words);
  CHECK(a.weights.thresholds.at("fc1_act").t == b.weights.thresholds.at("fc1_act").t);
}

namespace {

// A tiny residual network on 28x28 Fashion-MNIST with every kind of block the engines build: an
// identity block and a strided one with a 1x1 projection, each with its shift, then a global
// pool and an fc.
manager::Net tiny_resnet() {
  using namespace manager;
  Net n = input("image", {28, 28, 1}, 8);
  n = n >> conv("conv1", 3, 8, 2, 0) >> act(2);  // 13x13x8
  n = n >> residual(conv("res1_conv1", 3, 8, 1, 1) >> act(2) >> conv("res1_conv2", 3, 8, 1, 1), 2, Net(), "res1") >> act(2);
  n = n >> residual(conv("res2_conv1", 3, 16, 2, 1) >> act(2) >> conv("res2_conv2", 3, 16, 1, 1), 1, conv("res2_proj", 1, 16, 2, 0),
                    "res2") >> act(2);  // 7x7x16
  n = n >> global_pool() >> fc("fc", 10) >> label_select();
  n.name = "tiny-resnet";
  return n;
}

// A short run for tiny_resnet: 3 epochs of the first `images` training images, in batches of 50.
host::TrainOptions tiny_run(std::int64_t images, std::uint64_t seed) {
  host::TrainOptions opt;
  opt.epochs = 3;
  opt.train_images = images;
  opt.batch = 50;
  opt.lr = 1e-2;
  opt.seed = seed;
  return opt;
}

}  // namespace

TEST_CASE("train: the backward passes are the gradient of the float network (finite differences), residual blocks and global pool included") {
  // The float network (latent weights, no quantizers) is smooth: its loss's central differences
  // must match the backward pass, parameter by parameter. Images: 12 random 28x28 ones.
  const manager::Net net = tiny_resnet();
  host::Dataset data;
  data.name = "random";
  data.rows = data.cols = 28;
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> pixel(0, 255), label(0, 9);
  for (int i = 0; i < 12 * 28 * 28; ++i) data.pixels.push_back(static_cast<std::uint8_t>(pixel(rng)));
  for (int i = 0; i < 12; ++i) data.labels.push_back(static_cast<std::uint8_t>(label(rng)));
  host::TrainOptions opt;
  opt.quantize = false;
  opt.seed = 4;
  host::Parameters p = host::initial_parameters(net, opt);
  // Away from the initial values (latent weights of +-0.1, batch norm scales of 1): latent weights
  // over [-1, 1], batch norm scales and shifts varied by +-30%; the label scale as it is.
  std::uniform_real_distribution<double> u(-1, 1);
  for (size_t i = 0; i < p.values.size(); ++i) {
    const std::string& l = p.layers[i];
    if (l.ends_with("_act")) p.values[i] *= 1 + 0.3 * u(rng);
    else if (!l.ends_with("_label")) p.values[i] = std::clamp(p.values[i] * 5 + 0.5 * u(rng), -1.0, 1.0);
  }
  const host::LossGradient at = host::training_loss(net, opt, data, 12, p.values);
  REQUIRE(at.gradient.size() == p.values.size());
  CHECK(std::isfinite(at.loss));
  // Per layer, the parameters with the largest gradients (where float differences are meaningful).
  std::map<std::string, std::vector<size_t>> of_layer;
  for (size_t i = 0; i < p.values.size(); ++i) of_layer[p.layers[i]].push_back(i);
  for (const char* layer : {"res1_conv1", "res1_conv2", "res1_act", "res2_conv1", "res2_conv2", "res2_proj", "res2_act", "fc", "conv1"})
    REQUIRE_MESSAGE(of_layer.count(layer), layer);
  int checked = 0;
  for (auto& [layer, idx] : of_layer) {
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return std::abs(at.gradient[a]) > std::abs(at.gradient[b]); });
    for (size_t j = 0; j < std::min<size_t>(3, idx.size()); ++j) {
      const size_t i = idx[j];
      const double h = 1e-2;
      std::vector<double> plus = p.values, minus = p.values;
      plus[i] += h;
      minus[i] -= h;
      const double fd = (host::training_loss(net, opt, data, 12, plus).loss - host::training_loss(net, opt, data, 12, minus).loss) / (2 * h);
      const double g = at.gradient[i];
      CHECK_MESSAGE(std::abs(fd - g) <= 0.05 * std::abs(g) + 2e-4,
                    layer << " parameter " << i << ": backward " << g << ", finite difference " << fd);
      ++checked;
    }
  }
  MESSAGE(checked << " parameters checked over " << of_layer.size() << " layers");
  // Not a vacuous comparison: the residual branches do get gradients.
  double res_norm = 0;
  for (size_t i : of_layer["res2_proj"]) res_norm += std::abs(at.gradient[i]);
  CHECK(res_norm > 1e-4);
}

TEST_CASE("train: a residual network with global pool trains, and its folded network is what the reference model and the simulator compute") {
  const manager::Net net = tiny_resnet();
  host::Dataset train = host::load_fashion_mnist("train"), test = host::load_fashion_mnist("test").first(300);
  const host::TrainOptions opt = tiny_run(1000, 2);
  host::TrainResult r = host::train_network(net, train, test, opt);
  MESSAGE("1,000 images, 3 epochs of 20 steps: folded integer accuracy " << r.test_accuracy);
  CHECK(r.epochs.back().loss < r.epochs.front().loss);
  CHECK(r.test_accuracy > 0.2);  // chance is 0.10
  manager::check_weights(net, r.weights);

  // The trainer's labels against two independent truths on the same 300 images: the reference
  // model, and the simulator running the engines of the planned design.
  manager::PlanOptions po;
  po.device = manager::device("zynq");
  host::Design design = host::plan_design(net, r.weights, po, "tiny-resnet trained");
  host::Engine sim(design, host::Backend::Sim);
  std::vector<std::vector<std::int64_t>> images;
  for (int i = 0; i < test.size(); ++i) {
    images.push_back(test.stream(i));
    sim.queue(images.back());
  }
  const auto sim_out = sim.run();
  REQUIRE(sim_out.size() == images.size());
  int mismatches = 0;
  std::set<int> labels;
  for (size_t i = 0; i < images.size(); ++i) {
    const std::int64_t ref = host::reference_forward(net, r.weights, images[i]).at(0);
    labels.insert(r.test_predictions[i]);
    if ((ref != r.test_predictions[i] || sim_out[i].at(0) != ref) && ++mismatches <= 5)
      FAIL_CHECK("image " << i << ": trainer " << r.test_predictions[i] << ", reference " << ref << ", simulator " << sim_out[i].at(0));
  }
  CHECK(mismatches == 0);
  CHECK(labels.size() >= 4);  // a network that gives every image one label would prove little
}

TEST_CASE("train: a run resumed from its checkpoint ends as the run never interrupted, and a wrong checkpoint is refused") {
  const manager::Net net = tiny_resnet();
  host::Dataset train = host::load_fashion_mnist("train"), test = host::load_fashion_mnist("test").first(200);
  host::TrainOptions opt = tiny_run(400, 4);
  const host::TrainResult whole = host::train_network(net, train, test, opt);

  const std::string path = (std::filesystem::temp_directory_path() / fmt::format("qdf-checkpoint.{}", ::getpid())).string();
  struct Interrupted {};
  opt.checkpoint = path;
  opt.epoch_done = [](const host::EpochReport& r) {
    if (r.epoch == 1) throw Interrupted{};  // as a run killed after its first epoch
  };
  CHECK_THROWS_AS(host::train_network(net, train, test, opt), Interrupted);
  const host::Checkpoint c = host::read_checkpoint(path);
  CHECK(c.net == "tiny-resnet");
  CHECK(c.options.epochs == 3);
  CHECK(c.options.seed == 4);
  CHECK(c.options.lr == 1e-2);
  REQUIRE(c.epochs.size() == 1);
  CHECK(c.epochs[0].loss == whole.epochs[0].loss);

  host::TrainOptions hooks;
  int reported = 0;
  hooks.epoch_done = [&](const host::EpochReport& r) { CHECK(r.epoch == 2 + reported++); };
  hooks.checkpoint = path;
  const host::TrainResult resumed = host::resume_training(net, train, test, path, hooks);
  CHECK(reported == 2);
  REQUIRE(resumed.epochs.size() == 3);
  for (size_t e = 0; e < 3; ++e) {
    CHECK(resumed.epochs[e].loss == whole.epochs[e].loss);
    CHECK(resumed.epochs[e].test_accuracy == whole.epochs[e].test_accuracy);
  }
  for (const auto& [layer, w] : whole.weights.weights) CHECK_MESSAGE(resumed.weights.weights.at(layer).words == w.words, layer);
  for (const auto& [layer, t] : whole.weights.thresholds) CHECK_MESSAGE(resumed.weights.thresholds.at(layer).t == t.t, layer);
  CHECK(resumed.test_predictions == whole.test_predictions);
  // Resumed from the last epoch's checkpoint, there is nothing left to train: the same model.
  CHECK(host::read_checkpoint(path).epochs.size() == 3);
  const host::TrainResult again = host::resume_training(net, train, test, path, {});
  CHECK(again.weights.weights.at("fc").words == whole.weights.weights.at("fc").words);
  CHECK(again.test_predictions == whole.test_predictions);

  // Other training images, another network by name or by shape.
  CHECK_THROWS_WITH_AS(host::resume_training(net, train.first(300), test, path, {}),
                       doctest::Contains("was written training on 400 images; fashion-mnist train (first 300) gives 300"), UserError);
  CHECK_THROWS_WITH_AS(host::resume_training(manager::builtin_net("fashion-mlp").net, train, test, path, {}),
                       doctest::Contains("is of network 'tiny-resnet', not 'fashion-mlp'"), UserError);
  {
    using namespace manager;
    Net other = input("image", {28, 28, 1}, 8) >> conv("conv1", 3, 4, 2, 0) >> act(2) >> global_pool() >> fc("fc", 10) >>
                label_select();
    other.name = "tiny-resnet";
    CHECK_THROWS_WITH_AS(host::resume_training(other, train, test, path, {}),
                         doctest::Contains("is not of network 'tiny-resnet': its tensor 0 is conv1.weights (8x9), the network's "
                                           "conv1.weights (4x9)"),
                         UserError);
  }
  // A damaged, a cut short and a foreign file.
  std::string bytes;
  {
    std::ifstream f(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  const auto write = [&](const std::string& b) { std::ofstream(path, std::ios::binary | std::ios::trunc) << b; };
  std::string damaged = bytes;
  damaged[damaged.size() / 2] ^= 1;
  write(damaged);
  CHECK_THROWS_WITH_AS(host::read_checkpoint(path), doctest::Contains("is damaged or cut short"), UserError);
  write(bytes.substr(0, bytes.size() - 100));
  CHECK_THROWS_WITH_AS(host::resume_training(net, train, test, path, {}), doctest::Contains("is damaged or cut short"), UserError);
  std::string short_payload = bytes.substr(0, bytes.size() - 4 - 8);  // two floats fewer, with a checksum that matches
  const auto crc = static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(short_payload.data()), static_cast<uInt>(short_payload.size())));
  short_payload.append(reinterpret_cast<const char*>(&crc), sizeof crc);
  write(short_payload);
  CHECK_THROWS_WITH_AS(host::resume_training(net, train, test, path, {}), doctest::Contains("runs past its end"), UserError);
  write("QDFMODEL and more");
  CHECK_THROWS_WITH_AS(host::read_checkpoint(path), doctest::Contains("is not a qdf training checkpoint"), UserError);
  std::filesystem::remove(path);
  CHECK_THROWS_WITH_AS(host::read_checkpoint(path), doctest::Contains("cannot read the checkpoint"), UserError);
}

TEST_CASE("train: networks and data it cannot train are errors that say why") {
  host::Dataset test = host::load_fashion_mnist("test").first(100);
  {
    using namespace manager;
    // A residual block whose sum goes straight to label select (no act between) is not trained.
    Net n = input("image", {28, 28, 1}, 8) >> conv("c", 3, 4) >> act(2) >>
            residual(conv("m", 26, 10), 0, conv("p", 26, 10), "res") >> label_select();
    CHECK_THROWS_WITH_AS(host::train_network(n, test, test, {}), doctest::Contains("not supported by the trainer yet"), UserError);
  }
  CHECK_THROWS_WITH_AS(host::train_network(manager::builtin_net("resnet-mini").net, test, test, {}),
                       doctest::Contains("is 12x12x3, but the fashion-mnist test (first 100) images are 28x28x1"), UserError);
  CHECK_THROWS_WITH_AS(host::train_network(manager::builtin_net("cnv").net, test, test, {}),
                       doctest::Contains("is 32x32x3, but the fashion-mnist test (first 100) images are 28x28x1"), UserError);
  host::TrainOptions bad;
  bad.optimizer = "rmsprop";
  CHECK_THROWS_WITH_AS(host::train_network(manager::builtin_net("fashion-mlp").net, test, test, bad),
                       doctest::Contains("'adam' and 'sgd', not 'rmsprop'"), UserError);
}
