// Fuzz target: a bundle's manifest.json and load_bundle (manager/load_bundle.hpp). The bundle of
// resnet-mini on one FPGA is written once; each input replaces its manifest. Its Verilog is
// removed (reading 2 MB of it on every input would slow the fuzzer a hundredfold), so the bundle
// is loaded as an edited one: the files' records are still parsed and checked.
#include "fuzz_support.hpp"
#include "manager/bundle.hpp"
#include "manager/load_bundle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qdf;
  static const std::string dir = [] {
    const std::string d = fuzz::scratch_dir() + "/bundle";
    const manager::Net& net = manager::builtin_net("resnet-mini").net;
    const manager::ModelWeights w = manager::random_weights(net, 3);
    manager::PlanOptions o;
    manager::write_bundle(manager::plan_network(net, w, o), net, w, d);
    std::filesystem::remove_all(d + "/fpga0");
    std::filesystem::create_directories(d + "/fpga0");
    return d;
  }();
  fuzz::write_bytes(dir + "/manifest.json", data, size);
  fuzz::rejected_only_by_user_errors([&] { manager::load_bundle(dir, true); });
  return 0;
}
