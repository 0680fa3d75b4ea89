// A network of one's own as a C++ program, built against the installed qdf package: a small
// residual network for 28x28 grayscale images (Fashion-MNIST's), run as a tool by qdf::main:
//
//   ./my_net train --epochs 3 --out my_net.qdfmodel   train it on Fashion-MNIST
//   ./my_net compile --fpgas 2 --out my_bundle        plan over 2 FPGAs, write the bundle
//   ./my_net sim                                      images through the simulator: values and timing
//   ./my_net verify --backend rtl --images 2          the simulator against the RTL under Verilator
//   ./my_net eval --model my_net.qdfmodel             its accuracy on the 10,000 test images
//   ./my_net --help                                   every subcommand and flag
//
// Its weights are seeded random weights (--weights-seed N), or a model file (--model FILE).
#include <qdf/qdf.hpp>

// 28x28x1 8-bit pixels -> a 3x3 stride-2 conv to 8 channels (13x13) -> a residual block (two 3x3
// convs; the skip, an identity, scaled by 2^2) -> 2x2 max pool (6x6) -> 10 scores -> the best
// label. W1A2: ±1 weights, 2-bit activations.
qdf::Net my_net() {
  using namespace qdf;
  Net net = input("image", {28, 28, 1}, 8) >> conv("conv1", 3, 8, 2, 0) >> act(2) >>
            residual(conv("block_a", 3, 8, 1, 1) >> act(2) >> conv("block_b", 3, 8, 1, 1), 2, Net(), "block") >> act(2) >>
            maxpool(2) >> fc("fc", 10) >> label_select();
  net.name = "my_net";
  return net;
}

int main(int argc, char** argv) { return qdf::main(argc, argv, my_net()); }
