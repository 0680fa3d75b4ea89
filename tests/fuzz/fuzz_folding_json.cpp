// Fuzz target: the folding JSON of `--folding FILE` (host/design/compile_flow.hpp), an input read
// as the folding of resnet-mini and the engine graph built at it.
#include "fuzz_support.hpp"
#include "host/design/compile_flow.hpp"
#include "manager/engine_graph.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qdf;
  const std::string path = fuzz::scratch_dir() + "/folding.json";
  fuzz::write_bytes(path, data, size);
  fuzz::rejected_only_by_user_errors([&] {
    host::CompileRequest r;
    r.net = "resnet-mini";
    r.random_weights = true;
    r.folding = path;
    const host::DesignInputs in = host::design_inputs(r);
    (void)manager::build_engine_graph(in.net, in.weights, *in.options.folding);
  });
  return 0;
}
