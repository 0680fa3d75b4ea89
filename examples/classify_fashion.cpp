// classify_fashion: Fashion-MNIST test images through a compiled network, on the backend of your
// choice, with the host API (host/api/engine_api.hpp). Copy it to start your own program.
//
//   qdf compile fashion-cnv --fpgas 2 --device zynq --out fashion-bundle
//   classify_fashion fashion-bundle --backend sim --images 1000
//
// The same lines run the golden model (reference), the cycle-approximate simulator (sim) and the
// bundle's Verilog under Verilator (rtl); only the statistics differ: the reference has no cycles.
#include "dsl/errors.hpp"
#include "host/api/engine_api.hpp"
#include "host/data/idx_dataset.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fmt/format.h>
#include <string>

int main(int argc, char** argv) {
  using namespace qdf::host;
  CLI::App app{"Classify Fashion-MNIST test images with a compiled qdf bundle"};
  std::string bundle, backend = "sim";
  int images = 100;
  app.add_option("BUNDLE", bundle, "directory written by `qdf compile NET --out DIR`")->required();
  app.add_option("--backend", backend, "reference, sim or rtl")->capture_default_str();
  app.add_option("--images", images, "test images to classify (the first N of 10,000)")->check(CLI::Range(1, 10000))->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    Engine engine = Engine::load(bundle, backend_from_name(backend));
    if (!engine.output().labels || engine.output().classes != 10)
      throw qdf::UserError(fmt::format("bundle '{}' gives {}; expected the top label of 10 classes (a Fashion-MNIST classifier)",
                                       bundle, engine.output().describe()));
    const Dataset test = load_fashion_mnist("test").first(images);

    // Each image as the input stream's values: 8-bit pixels, or their high bits for a narrower input.
    for (std::int64_t i = 0; i < test.size(); ++i) engine.queue(test.stream(i, engine.input().bits));
    const std::vector<int> predicted = engine.run_labels();

    std::int64_t correct = 0;
    for (std::int64_t i = 0; i < test.size(); ++i) correct += predicted[static_cast<size_t>(i)] == test.labels[static_cast<size_t>(i)];
    const RunStats& s = engine.stats();
    fmt::print("{} on backend {}: {} Fashion-MNIST test images\n", engine.design().source, to_string(s.backend), s.images);
    fmt::print("accuracy: {:.2f}% ({} of {} correct)\n", 100.0 * static_cast<double>(correct) / static_cast<double>(test.size()),
               correct, test.size());
    fmt::print("wall time: {:.3f} s ({:.1f} images/s on this machine)\n", s.wall_seconds, s.images / s.wall_seconds);
    if (s.timed) {
      fmt::print("cycles per image: {:.1f}{}, latency {} cycles\n", s.cycles_per_image,
                 s.steady_state ? " in steady state" : fmt::format(" (not yet steady: run {} images or more)", s.images_for_steady_state),
                 s.latency_cycles);
      fmt::print("at {:.0f} MHz: {:.0f} images/s, latency {:.3f} ms\n", s.clock_mhz, s.images_per_second,
                 static_cast<double>(s.latency_cycles) / (s.clock_mhz * 1e3));
    }
    if (s.backend == Backend::Rtl) fmt::print("RTL: build {:.1f} s (or found in the cache), run {:.3f} s\n", s.rtl_build_seconds, s.rtl_run_seconds);

    const auto& names = fashion_mnist_classes();
    fmt::print("first predictions:\n");
    for (std::int64_t i = 0; i < std::min<std::int64_t>(test.size(), 8); ++i) {
      const int p = predicted[static_cast<size_t>(i)], t = test.labels[static_cast<size_t>(i)];
      fmt::print("  image {:>2}: {:<12} (true: {}){}\n", i, names[static_cast<size_t>(p)], names[static_cast<size_t>(t)], p == t ? "" : "  x");
    }
  } catch (const qdf::UserError& e) {
    fmt::print(stderr, "classify_fashion: {}\n", e.what());
    return 1;
  }
  return 0;
}
