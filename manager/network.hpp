// A network as a C++ expression of layers, with shapes flowing through it:
//
//   Net cnv = input("image", {32, 32, 3}, 8)
//             >> conv("conv1", 3, 64) >> act(1) >> conv("conv2", 3, 64) >> act(1) >> maxpool(2)
//             >> ... >> fc("fc3", 10) >> label_select();
//   Net block = residual(conv("a", 3, 64, 1, 1) >> act(2) >> conv("b", 3, 64, 1, 1));
//
// Shapes are known when the expression is built (here at run time: a shape that does not fit
// is a user error naming the layer and both shapes). Precision travels with the shape: `bits`
// of the values on the stream, `binary` when they are ±1 (1-bit activations).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qdf::manager {

struct Shape {
  int h = 1, w = 1, c = 1;  // a vector is 1 x 1 x c
  std::int64_t size() const { return static_cast<std::int64_t>(h) * w * c; }
  bool operator==(const Shape&) const = default;
  std::string str() const;  // "32x32x3"
};

enum class LayerKind { Input, Conv, FullyConnected, Activation, MaxPool, GlobalPool, Residual, LabelSelect };

struct Layer {
  std::string name;
  LayerKind kind = LayerKind::Input;
  // conv / fully connected: output channels, kernel, stride, padding; pools: kernel and stride
  int out_channels = 0, k = 1, s = 1, p = 0;
  int act_bits = 0;   // activation: output bits (1 = binary)
  int shift = 0;      // residual: skip scale 2^shift
  int top_k = 1;      // label select
  std::vector<Layer> main, projection;  // residual: main branch, optional skip projection
  Shape in, out;
  int in_bits = 0, out_bits = 0;
  bool in_binary = false, out_binary = false;
  std::string describe() const;  // "conv3 (conv 3x3/1 pad 1, 64 channels)"
};

class Net {
 public:
  Net() = default;
  const std::vector<Layer>& layers() const { return layers_; }
  const Layer& back() const;
  Shape shape() const { return back().out; }
  // Appends a layer, inferring its shapes from the current output; a UserError if it does not fit.
  Net& append(Layer l);
  friend Net operator>>(Net net, const Net& next);  // concatenation of two expressions

  std::string name;
  // Multiply-accumulates per image: one per weight use (convs, fully connected layers and the
  // branches of residual blocks), as papers count them.
  std::int64_t macs() const;
  // Binary (1-bit) multiply-accumulates per image, what the hardware computes: one per weight use
  // of a binary input, k per weight use of an unsigned k-bit input (its k bit planes, 8 for an
  // 8-bit first layer).
  std::int64_t binary_macs() const;

 private:
  std::vector<Layer> layers_;
  bool open_ = false;  // an expression not yet attached to an input (a residual branch)
};

Net input(const std::string& name, Shape shape, int bits, bool binary = false);
Net conv(const std::string& name, int k, int out_channels, int stride = 1, int pad = 0);
Net fc(const std::string& name, int outputs);
Net act(int bits);  // thresholds to `bits`-bit activations (1 = binary)
Net maxpool(int k, int stride = -1, int pad = 0);
Net global_pool();
// A residual block; unnamed, it is named after the layer before it (`<prev>_res`).
Net residual(const Net& main, int shift = 0, const Net& projection = Net(), const std::string& name = "");
Net label_select(int k = 1);

// The built-in networks: sfc, lfc (W1A1 and W1A2), cnv (W1A1, W1A2), alexnet, resnet18, resnet-mini.
struct BuiltinNet {
  std::string name, description;
  Net net;
};
std::vector<BuiltinNet> builtin_nets();
const BuiltinNet& builtin_net(const std::string& name);

}  // namespace qdf::manager
