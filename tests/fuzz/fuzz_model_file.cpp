// Fuzz target: the model file reader (manager/model_weights.hpp, docs/model_format.md), an input
// read as the model file of resnet-mini (convolutions, a residual block with a projection, fc).
#include "fuzz_support.hpp"
#include "manager/model_weights.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qdf;
  static const manager::Net& net = manager::builtin_net("resnet-mini").net;
  const std::string path = fuzz::scratch_dir() + "/model.qdfmodel";
  fuzz::write_bytes(path, data, size);
  fuzz::rejected_only_by_user_errors([&] {
    const manager::ModelWeights w = manager::load_model(path, net);
    manager::check_weights(net, w);  // what load_model accepted is a whole model of the network
  });
  return 0;
}
