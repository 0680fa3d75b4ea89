// The host API, in the manner of Maxeler's SLiC: a program loads a compiled bundle (the directory
// `qdf compile NET --out DIR` writes), picks a backend, queues images, runs them and reads their
// outputs and the run's statistics. The backend is a value, not a type, so that the same program
// runs on each without changing a line:
//
//   auto e = qdf::host::Engine::load("fashion-bundle", qdf::host::Backend::Sim);
//   for (int i = 0; i < 100; ++i) e.queue(test.image(i), test.image_size());
//   std::vector<int> labels = e.run_labels();
//   std::cout << e.stats().images_per_second << " images/s at " << e.stats().clock_mhz << " MHz\n";
//
// Backends (the verification ladder of DESIGN.md, each an existing execution of the same design):
//   reference  host/reference/reference_model.hpp, the golden integer model, image by image (no timing)
//   sim        sim/simulator.hpp, the cycle-approximate simulator: values and cycles
//   rtl        host/rtl/rtl_harness.hpp, the bundle's Verilog under Verilator: values and cycles;
//              built on first use and cached in $QDF_CACHE_DIR (default ~/.cache/qdf)
// All three give the same outputs on the same images; the tests check it.
//
// Every image is checked when it is queued, so that a bad image is reported by its place in the
// queue before any backend starts, and a run never fails half-way on input it could have refused.
#pragma once

#include "host/design/open_design.hpp"
#include "host/distributed/ranks.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qdf::host {

enum class Backend { Reference, Sim, Rtl };

// "reference", "sim" or "rtl"; anything else is a UserError that lists them.
Backend backend_from_name(const std::string& name);
const char* to_string(Backend b);

// The input stream of a design: what one queued image is.
struct InputSpec {
  std::string name;               // the network's input layer ("image")
  manager::Shape shape;           // height x width x channels; values in (row, column, channel) order
  int bits = 0;                   // bits per value (1 when binary)
  bool binary = false;            // values are bits: 1 = +1, 0 = -1
  std::int64_t values_per_image = 0;  // shape.size()
  std::int64_t max_value() const { return (std::int64_t{1} << bits) - 1; }  // values are 0 .. max_value()
  std::string describe() const;   // "input 'image' (28x28x1, 8-bit unsigned)"
};

// The output stream of a design: what run() returns per image.
struct OutputSpec {
  std::string layer;              // the network's last layer
  bool labels = false;            // true: the network ends in label select, values are label indices
  int top_k = 0;                  // labels: label indices per image, best first
  std::int64_t classes = 0;       // labels: the scores chosen from (indices are 0 .. classes - 1)
  bool binary = false;            // scores: values are bits (1 = +1), from a 1-bit activation
  std::int64_t values_per_image = 0;  // labels: top_k; scores: the last layer's size
  std::string describe() const;   // "top-1 label of 10 classes" or "10 scores of layer 'fc2'"
};

// What the last run measured. Cycle figures are those of sim/run_timing.hpp, from the simulator
// or from the RTL under Verilator; the reference backend has none (timed == false, all zero).
struct RunStats {
  Backend backend = Backend::Reference;
  int images = 0;
  double wall_seconds = 0;         // the whole run() call on this machine, RTL build included
  bool timed = false;              // sim and rtl: the cycle figures below are set
  double cycles_per_image = 0;     // steady state: the median gap between consecutive images' last outputs
  std::int64_t latency_cycles = 0; // the first image, pipeline empty: first input element sent to last output received
  std::int64_t total_cycles = 0;   // until the last output reached the host
  double clock_mhz = 0;            // the design's clock
  double images_per_second = 0;    // at that clock in steady state: clock / cycles_per_image
  bool steady_state = false;       // the run had enough images for cycles_per_image to be the steady state's
  int images_for_steady_state = 0; // how many it needs (host/design/open_design.hpp)
  double rtl_build_seconds = 0;    // rtl: generating and building the Verilog, or finding it in the cache
  double rtl_run_seconds = 0;      // rtl: the cycle loop only
};

class Engine {
 public:
  // Loads the bundle in `bundle_dir` (manager/load_bundle.hpp): a UserError names a missing
  // directory, a directory that is not a bundle, or a bundle written by an incompatible qdf.
  static Engine load(const std::string& bundle_dir, Backend backend);
  // A design opened some other way: a built-in network planned on the spot (open_design).
  Engine(Design design, Backend backend);

  const InputSpec& input() const { return input_; }
  const OutputSpec& output() const { return output_; }
  Backend backend() const { return backend_; }
  const Design& design() const { return design_; }

  // Queues one image: input().values_per_image values in stream order, each 0 .. max_value().
  // A UserError names the image's place in the queue and what is wrong with it.
  void queue(std::vector<std::int64_t> image);
  // Queues one image of 8-bit pixels (an 8-bit unsigned input only: a UserError otherwise).
  void queue(const std::uint8_t* pixels, std::size_t n);
  std::size_t queued() const { return queue_.size(); }
  // Drops the queued images without running them.
  void clear() { queue_.clear(); }

  // Runs every queued image as one stream through the backend and returns their outputs in
  // queue order (each output().values_per_image values); the queue is then empty. An empty
  // queue is a UserError; if the backend fails, the queue is left as it was.
  std::vector<std::vector<std::int64_t>> run();
  // run() split over the ranks of an MPI job (host/distributed/ranks.hpp), every rank having
  // queued the same images: each rank computes the outputs of its block of them (on sim, the
  // ranks but 0, which times the whole stream beside them), and rank 0 returns every output in queue order with the stats()
  // of run() (wall time aside); the other ranks return nothing. Backend rtl does not split (a
  // UserError with several ranks). With one rank, run().
  std::vector<std::vector<std::int64_t>> run_split(const Ranks& ranks);
  // run() (or run_split() over `ranks`), keeping each image's best label. A UserError, before
  // anything runs, if the network does not end in label select.
  std::vector<int> run_labels(const Ranks& ranks = Ranks{});
  // The last run's statistics (all zero before the first run).
  const RunStats& stats() const { return stats_; }

  // Called now and then with the fraction done (0..1) during a sim run, and on the reference
  // backend (which runs images on every core) from the calling thread, ending with 1; not called
  // by the rtl backend. Empty: no calls.
  void on_progress(std::function<void(double)> f) { progress_ = std::move(f); }

 private:
  Design design_;
  Backend backend_;
  InputSpec input_;
  OutputSpec output_;
  std::vector<std::vector<std::int64_t>> queue_;
  RunStats stats_;
  std::function<void(double)> progress_;
};

}  // namespace qdf::host
