// `qdf train`: quantization-aware training of a network written with the network expressions
// (manager/network.hpp), in C++ with Eigen.
//
// What is trained is the network the hardware runs, in float arithmetic that stays exact:
//   conv, fc     the accumulators of ±1 weights (the sign of a latent float weight, clipped to
//                [-1, 1] after each step) times the integer activations; gradients reach the
//                latent weights straight through the sign (the straight-through estimator)
//   act          batch norm of the accumulators (batch statistics in training, running averages
//                after), then the quantizer q(y): 2-bit = clamp(floor(y + 1/2), 0, 3), 1-bit =
//                +1 if y >= 0 else -1; its gradient passes through where 0 <= y <= 3 (2-bit) or
//                |y| <= 1 (1-bit)
//   max pool     the max, its gradient to the first maximum (none when that is padding)
//   global pool  the sum over the pixels of each channel, its gradient to every pixel
//   residual     the main branch's accumulators plus the skip (the block's input activations or
//                its projection conv's accumulators) times 2^shift, as the reference model adds
//                them; the gradient flows into both branches and the two sum at the block's input
//   label select softmax cross-entropy of the last fc's accumulators times a learned scale (which
//                does not change the label: the hardware takes the argmax of the accumulators)
// At the end batch norm and the quantizer fold into the threshold rule (fold_batch_norm), and
// the accuracy reported is the folded integer network's on the test set.
//
// Supported: an input of unsigned pixels or bits, conv, fc, act (1 and 2 bits), max pool, global
// pool, residual blocks (with or without a projection, any shift) followed by an act, label
// select after a conv or fc. Other uses are a UserError ("not supported by the trainer yet").
#pragma once

#include "host/data/idx_dataset.hpp"
#include "manager/model_weights.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qdf::host {

struct EpochReport {
  int epoch = 0;                // 1-based
  double loss = 0;              // mean training loss over the epoch (float network)
  double train_accuracy = 0;    // of the float network on the training batches, as it trained
  double test_accuracy = 0;     // of the folded integer network on the test set
  double lr = 0;                // learning rate at the epoch's end
  double seconds = 0;
};

struct TrainOptions {
  int epochs = 10;
  int batch = 100;
  std::string optimizer = "adam";  // "adam", or "sgd" (with momentum)
  double lr = 0;                   // peak learning rate; 0: 2e-3 for adam, 0.05 for sgd (cosine decay to 0)
  double momentum = 0.9;           // sgd
  std::uint64_t seed = 1;          // weights, batch order, flips
  bool flip = true;                // random horizontal flips of the training images
  std::int64_t train_images = 0;   // use the first n training images (0: all)
  // false: the float network, with the latent weights in place of their signs and the batch norm
  // outputs in place of the quantizers (and their full gradients): a smooth function whose
  // gradients finite differences can check (training_loss)
  bool quantize = true;
  // Called after every batch: epoch (1-based), fraction of the epoch done, running loss, accuracy.
  std::function<void(int, double, double, double)> progress;
  // Called after every epoch, once its checkpoint (if any) is written.
  std::function<void(const EpochReport&)> epoch_done;
  // A file the whole training state is written to after every epoch, atomically (a run killed
  // midway leaves the last epoch's), for resume_training to continue from. Empty: none.
  std::string checkpoint;
};

struct TrainResult {
  manager::ModelWeights weights;  // folded: ±1 weights and thresholds
  std::vector<EpochReport> epochs;
  double test_accuracy = 0;       // the folded integer network's, on the whole test set
  std::vector<int> test_predictions;
  double seconds = 0;
};

TrainResult train_network(const manager::Net& net, const Dataset& train, const Dataset& test, const TrainOptions& opt);

// A checkpoint (TrainOptions::checkpoint, docs/model_format.md): the network it belongs to, the
// options that fix the run (epochs, batch, optimizer, lr, momentum, seed, flip, train_images;
// the hooks and `checkpoint` are left empty) and the epochs done, with their reports. A file that
// is not a whole checkpoint is a UserError naming it.
struct Checkpoint {
  std::string net;
  TrainOptions options;
  std::vector<EpochReport> epochs;  // the epochs done
  double seconds = 0;               // their training time
};
Checkpoint read_checkpoint(const std::string& path);

// Continues the run a checkpoint holds to its last epoch, with the options it was written with
// and the hooks and `checkpoint` of `hooks`. On the same machine and number of threads, the result
// (weights, epochs' reports, predictions) is that of the run never interrupted. A checkpoint of
// another network (other layer names or shapes) is a UserError.
TrainResult resume_training(const manager::Net& net, const Dataset& train, const Dataset& test, const std::string& path,
                            const TrainOptions& hooks);

// The labels the folded integer network gives (the same arithmetic as training, with the
// thresholds of `w` in place of batch norm and quantizer), for the first n images (0: all).
std::vector<int> predict_folded(const manager::Net& net, const manager::ModelWeights& w, const Dataset& data,
                                std::int64_t n = 0);

// The trainable parameters (each conv's and fc's latent weights, each act's batch norm scales and
// shifts, the label select's log scale), in one fixed order, as opt.seed initialises them;
// layers[i] names the layer of values[i].
struct Parameters {
  std::vector<double> values;
  std::vector<std::string> layers;
};
Parameters initial_parameters(const manager::Net& net, const TrainOptions& opt);

// The training loss (mean softmax cross-entropy, batch statistics, no flips) of the first n
// images of `data` as one batch, with the parameters `theta` (in the order of
// initial_parameters), and its gradient from the backward pass: what gradient checks compare
// with finite differences.
struct LossGradient {
  double loss = 0;
  std::vector<double> gradient;
};
LossGradient training_loss(const manager::Net& net, const TrainOptions& opt, const Dataset& data, std::int64_t n,
                           const std::vector<double>& theta);

// One activation's batch norm (per channel) and quantizer.
struct BatchNorm {
  std::vector<double> mean, var, gamma, beta;
  double eps = 1e-5;
};
// The quantizer: the activation's value (2-bit: 0..3; 1-bit: 0 for -1, 1 for +1) for a batch norm
// output y.
int quantize(double y, int act_bits);
// The thresholds with #{i : s * acc >= T_i} == quantize(bn(acc)) for every integer |acc| <= bound
// (engines/threshold_rule.hpp): for scale k = gamma / sqrt(var + eps), y >= t holds when
// acc >= mean + (t - beta) / k (k > 0) or acc <= mean + (t - beta) / k (k < 0, flipped).
engines::Thresholds fold_batch_norm(const BatchNorm& bn, int act_bits, std::int64_t bound);

}  // namespace qdf::host
