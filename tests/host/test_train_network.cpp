// Training: the folding of batch norm and quantizer into thresholds against the float rule it
// replaces, a short training run whose folded integer network the reference model must agree
// with, and the networks and data the trainer refuses.
#include "dsl/errors.hpp"
#include "host/reference/reference_model.hpp"
#include "host/train/train_network.hpp"
#include "manager/network.hpp"

#include <cmath>
#include <doctest/doctest.h>
#include <random>

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

TEST_CASE("train: networks and data it cannot train are errors that say why") {
  host::Dataset test = host::load_fashion_mnist("test").first(100);
  CHECK_THROWS_WITH_AS(host::train_network(manager::builtin_net("resnet-mini").net, test, test, {}),
                       doctest::Contains("not supported by the trainer yet"), UserError);
  CHECK_THROWS_WITH_AS(host::train_network(manager::builtin_net("cnv").net, test, test, {}),
                       doctest::Contains("is 32x32x3, but the fashion-mnist test (first 100) images are 28x28x1"), UserError);
  host::TrainOptions bad;
  bad.optimizer = "rmsprop";
  CHECK_THROWS_WITH_AS(host::train_network(manager::builtin_net("fashion-mlp").net, test, test, bad),
                       doctest::Contains("'adam' and 'sgd', not 'rmsprop'"), UserError);
}
