#include "manager/network.hpp"

#include "dsl/errors.hpp"
#include "manager/layer_precision.hpp"

#include <fmt/format.h>

namespace qdf::manager {

std::string Shape::str() const { return fmt::format("{}x{}x{}", h, w, c); }

std::string Layer::describe() const {
  switch (kind) {
    case LayerKind::Input: return fmt::format("'{}' (input {}, {} bits)", name, out.str(), out_bits);
    case LayerKind::Conv: return fmt::format("'{}' (conv {}x{}/{} pad {}, {} channels)", name, k, k, s, p, out_channels);
    case LayerKind::FullyConnected: return fmt::format("'{}' (fully connected, {} outputs)", name, out_channels);
    case LayerKind::Activation: return fmt::format("'{}' ({}-bit activation)", name, act_bits);
    case LayerKind::MaxPool: return fmt::format("'{}' (max pool {}x{}/{} pad {})", name, k, k, s, p);
    case LayerKind::GlobalPool: return fmt::format("'{}' (global pool)", name);
    case LayerKind::Residual: return fmt::format("'{}' (residual block)", name);
    case LayerKind::LabelSelect: return fmt::format("'{}' (label select, top-{})", name, top_k);
  }
  return name;
}

const Layer& Net::back() const {
  if (layers_.empty()) throw UserError("an empty network has no output");
  return layers_.back();
}

namespace {

[[noreturn]] void shape_error(const Layer& l, const std::string& what) {
  throw UserError(fmt::format("layer {}: {}", l.describe(), what));
}

void require_activations(const Layer& l) {
  if (!l.in_binary && l.in_bits > 0 && l.in_bits > precision::kMaxActivationBits)
    shape_error(l, fmt::format("needs activations of at most {} bits, found {} bits", precision::kMaxActivationBits, l.in_bits));
}

void check_residual_shift(const Layer& l) {
  if (l.shift < 0 || l.shift > precision::kMaxResidualShift)
    throw UserError(fmt::format("layer {}: its shift (skip scale 2^shift) must be 0..{}, found {}", l.describe(),
                                precision::kMaxResidualShift, l.shift));
}

// Output shape and precision of `l` on input (shape, bits, binary, signed accumulator?).
void infer(Layer& l, const Layer& prev, int index) {
  l.in = prev.out;
  l.in_bits = prev.out_bits;
  l.in_binary = prev.out_binary;
  const bool raw = prev.kind == LayerKind::Conv || prev.kind == LayerKind::FullyConnected || prev.kind == LayerKind::Residual;
  if (l.name.empty()) {  // named after what they follow, so that names stay unique in branches
    switch (l.kind) {
      case LayerKind::Activation: l.name = prev.name + "_act"; break;
      case LayerKind::MaxPool: l.name = prev.name + "_pool"; break;
      case LayerKind::GlobalPool: l.name = prev.name + "_gpool"; break;
      case LayerKind::LabelSelect: l.name = prev.name + "_label"; break;
      case LayerKind::Residual: l.name = prev.name + "_res"; break;
      default: l.name = fmt::format("layer{}", index);
    }
  }
  auto window = [&](int size) { return precision::window_out(size, l.k, l.s, l.p); };
  auto acc_bits = [&](std::int64_t fan_in) { return precision::accumulator_bits(fan_in, l.in_bits, l.in_binary); };
  switch (l.kind) {
    case LayerKind::Input: shape_error(l, "an input can only start a network");
    case LayerKind::Conv:
    case LayerKind::FullyConnected: {
      if (raw)
        shape_error(l, fmt::format("needs activations, but layer {} gives raw accumulators: put an act() between them",
                                   prev.describe()));
      require_activations(l);
      if (l.kind == LayerKind::Conv) {
        if (l.k < 1 || l.s < 1 || l.p < 0 || l.p >= l.k) shape_error(l, "needs K >= 1, S >= 1 and 0 <= P < K");
        if (l.in.h + 2 * l.p < l.k || l.in.w + 2 * l.p < l.k)
          shape_error(l, fmt::format("a {}x{} window with padding {} does not fit its {} input", l.k, l.k, l.p, l.in.str()));
        l.out = {window(l.in.h), window(l.in.w), l.out_channels};
        l.out_bits = acc_bits(static_cast<std::int64_t>(l.k) * l.k * l.in.c);
      } else {
        l.out = {1, 1, l.out_channels};
        l.out_bits = acc_bits(l.in.size());
      }
      if (l.out_channels < 1) shape_error(l, "needs at least one output channel");
      l.out_binary = false;
      return;
    }
    case LayerKind::Activation:
      if (!raw) shape_error(l, fmt::format("thresholds raw accumulators, but layer {} gives activations", prev.describe()));
      if (l.act_bits != 1 && l.act_bits != 2) shape_error(l, "activations are 1 or 2 bits");
      l.out = l.in;
      l.out_bits = l.act_bits;
      l.out_binary = l.act_bits == 1;
      return;
    case LayerKind::MaxPool:
      if (raw) shape_error(l, "pools activations: put an act() before it");
      if (l.in.h + 2 * l.p < l.k || l.in.w + 2 * l.p < l.k)
        shape_error(l, fmt::format("a {}x{} window with padding {} does not fit its {} input", l.k, l.k, l.p, l.in.str()));
      l.out = {window(l.in.h), window(l.in.w), l.in.c};
      l.out_bits = l.in_bits;
      l.out_binary = l.in_binary;
      return;
    case LayerKind::GlobalPool:
      if (raw || l.in_binary) shape_error(l, "pools unsigned activations");
      l.out = {1, 1, l.in.c};
      l.out_bits = precision::global_pool_bits(static_cast<std::int64_t>(l.in.h) * l.in.w, l.in_bits);
      l.out_binary = false;
      return;
    case LayerKind::LabelSelect:
      if (l.in.h != 1 || l.in.w != 1) shape_error(l, fmt::format("selects among a vector, found a {} map", l.in.str()));
      if (l.top_k < 1 || l.top_k > l.in.c) shape_error(l, fmt::format("top-{} of {} classes", l.top_k, l.in.c));
      l.out = {1, 1, l.top_k};
      l.out_bits = precision::label_bits(l.in.c);
      l.out_binary = false;
      return;
    case LayerKind::Residual: {
      if (raw || l.in_binary) shape_error(l, "adds a skip of unsigned activations: its input must be an act() output");
      check_residual_shift(l);
      // The skip FIFO's depth (engine_graph.cpp, skip_fifo_depth) follows the rows of the
      // windows in a branch, not those of a block nested in it: such a FIFO could be too small.
      for (auto [branch, what] : {std::pair{&l.main, "main branch"}, {&l.projection, "skip projection"}})
        for (const Layer& m : *branch)
          if (m.kind == LayerKind::Residual)
            shape_error(l, fmt::format("a residual block inside its {} ('{}') is not supported yet: put the blocks one after the "
                                       "other",
                                       what, m.name.empty() ? "unnamed" : m.name));
      Net block = input(l.name + ".in", l.in, l.in_bits);
      Net main_net = block;
      for (const Layer& m : l.main) main_net.append(m);
      Net skip = block;
      for (const Layer& m : l.projection) skip.append(m);
      l.main.assign(main_net.layers().begin() + 1, main_net.layers().end());
      l.projection.assign(skip.layers().begin() + 1, skip.layers().end());
      if (l.main.empty() || l.main.back().kind != LayerKind::Conv)
        shape_error(l, "its main branch must end in a conv (the add comes before the thresholds)");
      if (!l.projection.empty() && l.projection.back().kind != LayerKind::Conv)
        shape_error(l, "its skip projection must be a conv");
      if (main_net.shape() != skip.shape())
        shape_error(l, fmt::format("its main branch gives {} but its skip gives {}: add a projection conv to the skip",
                                   main_net.shape().str(), skip.shape().str()));
      l.out = main_net.shape();
      l.out_bits = precision::residual_bits(main_net.back().out_bits, l.in_bits, l.shift, !l.projection.empty(), skip.back().out_bits);
      l.out_binary = false;
      return;
    }
  }
}

Net expr(Layer l) {
  Net n;
  n.append(std::move(l));
  return n;
}

}  // namespace

Net& Net::append(Layer l) {
  if (l.kind == LayerKind::Input) {
    if (!layers_.empty()) throw UserError(fmt::format("input '{}' can only start a network", l.name));
    layers_.push_back(std::move(l));
    return *this;
  }
  if (layers_.empty() || open_) {  // a branch not yet attached: shapes come later
    open_ = true;
    layers_.push_back(std::move(l));
    return *this;
  }
  infer(l, layers_.back(), static_cast<int>(layers_.size()));
  layers_.push_back(std::move(l));
  return *this;
}

Net operator>>(Net net, const Net& next) {
  if (!next.layers_.empty() && next.layers_.front().kind == LayerKind::Input)
    throw UserError(fmt::format("input '{}' can only start a network", next.layers_.front().name));
  for (const Layer& l : next.layers_) net.append(l);
  return net;
}

namespace {

// Multiply-accumulates per image of `layers`, each weight use counted `per_use(layer)` times.
template <class PerUse>
std::int64_t count_macs(const std::vector<Layer>& layers, PerUse per_use) {
  std::int64_t n = 0;
  for (const Layer& l : layers) {
    if (l.kind == LayerKind::Conv)
      n += static_cast<std::int64_t>(l.out.h) * l.out.w * l.out.c * l.k * l.k * l.in.c * per_use(l);
    else if (l.kind == LayerKind::FullyConnected)
      n += l.in.size() * l.out.c * per_use(l);
    else if (l.kind == LayerKind::Residual)
      n += count_macs(l.main, per_use) + count_macs(l.projection, per_use);
  }
  return n;
}

}  // namespace

std::int64_t Net::macs() const {
  return count_macs(layers_, [](const Layer&) { return 1; });
}

std::int64_t Net::binary_macs() const {
  // The MVTU computes an unsigned k-bit input from its k bit planes (engines/mvtu.hpp): k binary
  // MACs per weight use; a binary (±1) input is one plane.
  return count_macs(layers_, [](const Layer& l) { return l.in_binary ? 1 : l.in_bits; });
}

Net input(const std::string& name, Shape shape, int bits, bool binary) {
  if (shape.h < 1 || shape.w < 1 || shape.c < 1) throw UserError(fmt::format("input '{}' has an empty shape {}", name, shape.str()));
  if (bits < 1 || bits > 16) throw UserError(fmt::format("input '{}' needs 1..16 bits, found {}", name, bits));
  Layer l;
  l.name = name;
  l.kind = LayerKind::Input;
  l.out = shape;
  l.out_bits = bits;
  l.out_binary = binary;
  Net n;
  n.append(std::move(l));
  return n;
}

Net conv(const std::string& name, int k, int out_channels, int stride, int pad) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::Conv;
  l.k = k;
  l.out_channels = out_channels;
  l.s = stride;
  l.p = pad;
  return expr(l);
}

Net fc(const std::string& name, int outputs) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::FullyConnected;
  l.out_channels = outputs;
  return expr(l);
}

Net act(int bits) {
  Layer l;
  l.kind = LayerKind::Activation;
  l.act_bits = bits;
  return expr(l);
}

Net maxpool(int k, int stride, int pad) {
  Layer l;
  l.kind = LayerKind::MaxPool;
  l.k = k;
  l.s = stride < 0 ? k : stride;
  l.p = pad;
  return expr(l);
}

Net global_pool() {
  Layer l;
  l.kind = LayerKind::GlobalPool;
  return expr(l);
}

Net residual(const Net& main, int shift, const Net& projection, const std::string& name) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::Residual;
  l.main = main.layers();
  l.projection = projection.layers();
  l.shift = shift;
  if (!name.empty()) check_residual_shift(l);  // early, where the block is written; an unnamed one when attached and named
  return expr(l);
}

Net label_select(int k) {
  Layer l;
  l.kind = LayerKind::LabelSelect;
  l.top_k = k;
  return expr(l);
}

namespace {

Net mlp(const std::string& name, int hidden, int act_bits) {
  Net n = input("image", {28, 28, 1}, 1, true);
  for (int i = 1; i <= 3; ++i) n = n >> fc(fmt::format("fc{}", i), hidden) >> act(act_bits);
  n = n >> fc("fc4", 10) >> label_select();
  n.name = name;
  return n;
}

Net cnv(const std::string& name, int act_bits) {
  Net n = input("image", {32, 32, 3}, 8);
  n = n >> conv("conv1", 3, 64) >> act(act_bits) >> conv("conv2", 3, 64) >> act(act_bits) >> maxpool(2);
  n = n >> conv("conv3", 3, 128) >> act(act_bits) >> conv("conv4", 3, 128) >> act(act_bits) >> maxpool(2);
  n = n >> conv("conv5", 3, 256) >> act(act_bits) >> conv("conv6", 3, 256) >> act(act_bits);
  n = n >> fc("fc1", 512) >> act(act_bits) >> fc("fc2", 512) >> act(act_bits) >> fc("fc3", 10) >> label_select();
  n.name = name;
  return n;
}

Net resnet_stage(int index, int channels, bool downsample) {
  auto c = [&](int b, int j) { return fmt::format("res{}{}_conv{}", index, static_cast<char>('a' + b), j); };
  Net first_main = conv(c(0, 1), 3, channels, downsample ? 2 : 1, 1) >> act(2) >> conv(c(0, 2), 3, channels, 1, 1);
  Net proj = downsample ? conv(fmt::format("res{}a_proj", index), 1, channels, 2, 0) : Net();
  Net second_main = conv(c(1, 1), 3, channels, 1, 1) >> act(2) >> conv(c(1, 2), 3, channels, 1, 1);
  return residual(first_main, 0, proj, fmt::format("res{}a", index)) >> act(2) >>
         residual(second_main, 0, Net(), fmt::format("res{}b", index)) >> act(2);
}

// A small residual network for 28x28 Fashion-MNIST, W1A2: a stem conv and pool to 14x14xC, an
// identity block, a strided block to 7x7x2C with a 1x1 projection, an identity block, then pool
// and fc 256, 10 (C = 32; 64 in the wide one). Without skips it is the same convs one after the
// other (no projection): what the skips cost is the difference of the two.
Net fashion_resnet(const std::string& name, bool skips, int channels = 32) {
  // The skip's scale 2^shift makes it comparable to the main branch's accumulators (up to
  // 3 x fan-in: 864 and 1728 at C = 32, a typical one near sqrt(3 x fan-in)) against the 2-bit
  // activations (0..3) of an identity skip, and a 1x1 projection's accumulators.
  auto block = [&](const std::string& b, int width, int stride, int shift) {
    Net main = conv(b + "_conv1", 3, width, stride, 1) >> act(2) >> conv(b + "_conv2", 3, width, 1, 1);
    if (!skips) return main >> act(2);
    Net proj = stride == 1 ? Net() : conv(b + "_proj", 1, width, stride, 0);
    return residual(main, shift, proj, b) >> act(2);
  };
  Net n = input("image", {28, 28, 1}, 8);
  n = n >> conv("conv1", 3, channels, 1, 1) >> act(2) >> maxpool(2);
  n = n >> block("res1", channels, 1, 4) >> block("res2", 2 * channels, 2, 2) >> block("res3", 2 * channels, 1, 4);
  n = n >> maxpool(2, 2, 1) >> fc("fc1", 256) >> act(2) >> fc("fc2", 10) >> label_select();
  n.name = name;
  return n;
}

}  // namespace

std::vector<BuiltinNet> builtin_nets() {
  std::vector<BuiltinNet> nets;
  nets.push_back({"sfc", "FINN's SFC: 784-256-256-256-10 MLP on 28x28 binarized images, W1A1", mlp("sfc", 256, 1)});
  nets.push_back({"lfc", "FINN's LFC: 784-1024-1024-1024-10 MLP, W1A1", mlp("lfc", 1024, 1)});
  nets.push_back({"lfc-w1a2", "FINN's LFC with 2-bit activations, W1A2", mlp("lfc-w1a2", 1024, 2)});
  nets.push_back({"cnv", "FINN's CNV on 32x32x3: 64,64,pool,128,128,pool,256,256,fc 512,512,10, W1A1", cnv("cnv", 1)});
  nets.push_back({"cnv-w1a2", "FINN's CNV with 2-bit activations, W1A2", cnv("cnv-w1a2", 2)});
  {
    // Trained on Fashion-MNIST (host/models/, `qdf train`): the shipped default.
    Net n = input("image", {28, 28, 1}, 8);
    n = n >> conv("conv1", 3, 32) >> act(2) >> conv("conv2", 3, 32) >> act(2) >> maxpool(2);
    n = n >> conv("conv3", 3, 64) >> act(2) >> conv("conv4", 3, 64) >> act(2) >> maxpool(2);
    n = n >> fc("fc1", 256) >> act(2) >> fc("fc2", 10) >> label_select();
    n.name = "fashion-cnv";
    nets.push_back({"fashion-cnv", "W1A2 CNN for 28x28 Fashion-MNIST: 32,32,pool,64,64,pool,fc 256,10 (trained, the default)", n});
  }
  nets.push_back({"fashion-resnet",
                  "W1A2 ResNet for 28x28 Fashion-MNIST: conv 32, pool, residual blocks 32, 64/2 (projection), 64, pool, fc 256, "
                  "10 (trained)",
                  fashion_resnet("fashion-resnet", true)});
  nets.push_back({"fashion-resnet-noskip", "fashion-resnet without its skip connections: the same convs one after the other",
                  fashion_resnet("fashion-resnet-noskip", false)});
  nets.push_back({"fashion-resnet-wide", "fashion-resnet with twice the channels: conv 64, pool, residual blocks 64, 128/2 "
                                         "(projection), 128, pool, fc 256, 10 (trained)",
                  fashion_resnet("fashion-resnet-wide", true, 64)});
  {
    Net n = input("image", {28, 28, 1}, 8);
    n = n >> fc("fc1", 512) >> act(1) >> fc("fc2", 512) >> act(1) >> fc("fc3", 10) >> label_select();
    n.name = "fashion-mlp";
    nets.push_back({"fashion-mlp", "W1A1 MLP for 28x28 Fashion-MNIST: 784-512-512-10, 8-bit pixels in (trained)", n});
  }
  {
    Net n = input("image", {224, 224, 3}, 8);
    n = n >> conv("conv1", 11, 96, 4, 0) >> act(2) >> maxpool(3, 2);
    n = n >> conv("conv2", 5, 256, 1, 2) >> act(2) >> maxpool(3, 2);
    n = n >> conv("conv3", 3, 384, 1, 1) >> act(2) >> conv("conv4", 3, 384, 1, 1) >> act(2);
    n = n >> conv("conv5", 3, 256, 1, 1) >> act(2) >> maxpool(3, 2);
    n = n >> fc("fc6", 4096) >> act(2) >> fc("fc7", 4096) >> act(2) >> fc("fc8", 1000) >> label_select();
    n.name = "alexnet";
    nets.push_back({"alexnet", "AlexNet at 224x224, 1-bit weights and 2-bit activations (Baskin et al.)", n});
  }
  {
    Net n = input("image", {224, 224, 3}, 8);
    n = n >> conv("conv1", 7, 64, 2, 3) >> act(2) >> maxpool(3, 2, 1);
    n = n >> resnet_stage(2, 64, false) >> resnet_stage(3, 128, true) >> resnet_stage(4, 256, true) >>
        resnet_stage(5, 512, true);
    n = n >> global_pool() >> fc("fc", 1000) >> label_select();
    n.name = "resnet18";
    nets.push_back({"resnet18", "ResNet-18 at 224x224 with its skip connections, W1A2 (Baskin et al.)", n});
  }
  {
    // Small enough for RTL simulation in tests: both kinds of residual block (identity skip,
    // and a strided block with a 1x1 projection on the skip).
    Net n = input("image", {12, 12, 3}, 8);
    n = n >> conv("conv1", 3, 8, 1, 1) >> act(2);
    n = n >> residual(conv("res1_conv1", 3, 8, 1, 1) >> act(2) >> conv("res1_conv2", 3, 8, 1, 1), 0, Net(), "res1") >> act(2);
    n = n >> residual(conv("res2_conv1", 3, 16, 2, 1) >> act(2) >> conv("res2_conv2", 3, 16, 1, 1), 0,
                      conv("res2_proj", 1, 16, 2, 0), "res2") >> act(2);
    n = n >> global_pool() >> fc("fc", 10) >> label_select();
    n.name = "resnet-mini";
    nets.push_back({"resnet-mini", "a small ResNet on 12x12x3 with an identity and a projection block, W1A2 (for tests)", n});
  }
  return nets;
}

const BuiltinNet& builtin_net(const std::string& name) {
  static const std::vector<BuiltinNet> nets = builtin_nets();
  std::string names;
  for (const BuiltinNet& n : nets) {
    if (n.name == name) return n;
    names += (names.empty() ? "" : ", ") + n.name;
  }
  throw UserError(fmt::format("no network named '{}'; the networks are: {}", name, names));
}

}  // namespace qdf::manager
