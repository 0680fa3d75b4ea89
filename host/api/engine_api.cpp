#include "host/api/engine_api.hpp"

#include "dsl/errors.hpp"
#include "host/reference/reference_model.hpp"
#include "host/rtl/rtl_harness.hpp"
#include "sim/graph_values.hpp"
#include "sim/simulator.hpp"
#include "sim/thread_pool.hpp"

#include <atomic>
#include <chrono>
#include <exception>
#include <omp.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <utility>

namespace qdf::host {

using manager::Layer;
using manager::LayerKind;

Backend backend_from_name(const std::string& name) {
  if (name == "reference") return Backend::Reference;
  if (name == "sim") return Backend::Sim;
  if (name == "rtl") return Backend::Rtl;
  throw UserError(fmt::format("unknown backend '{}': expected reference (the golden integer model), sim (the cycle-approximate "
                              "simulator) or rtl (the bundle's Verilog under Verilator)",
                              name));
}

const char* to_string(Backend b) {
  switch (b) {
    case Backend::Reference: return "reference";
    case Backend::Sim: return "sim";
    case Backend::Rtl: return "rtl";
  }
  throw InternalError("to_string: a Backend that is none of reference, sim, rtl");
}

std::string InputSpec::describe() const {
  return fmt::format("input '{}' ({}, {})", name, shape.str(), binary ? "binary: values 0 = -1 and 1 = +1" : fmt::format("{}-bit unsigned", bits));
}

std::string OutputSpec::describe() const {
  if (labels) return fmt::format("top-{} label{} of {} classes", top_k, top_k == 1 ? "" : "s", classes);
  return fmt::format("{} {}scores of layer '{}'", values_per_image, binary ? "binary " : "", layer);
}

namespace {

InputSpec input_spec(const manager::Net& net) {
  if (net.layers().empty() || net.layers().front().kind != LayerKind::Input)
    throw UserError(fmt::format("network '{}' does not start with an input layer, so it takes no images", net.name));
  const Layer& in = net.layers().front();
  InputSpec s;
  s.name = in.name;
  s.shape = in.out;
  s.binary = in.out_binary;
  s.bits = in.out_binary ? 1 : in.out_bits;
  s.values_per_image = in.out.size();
  return s;
}

OutputSpec output_spec(const manager::Net& net) {
  const Layer& last = net.back();
  OutputSpec s;
  s.layer = last.name;
  s.labels = last.kind == LayerKind::LabelSelect;
  s.values_per_image = last.out.size();
  if (s.labels) {
    s.top_k = last.top_k;
    s.classes = last.in.size();
  } else {
    s.binary = last.out_binary;
  }
  return s;
}

// Where value `index` of an image sits, in the input's (row, column, channel) order.
std::string position(const InputSpec& in, std::int64_t index) {
  const std::int64_t pixel = index / in.shape.c;
  return fmt::format("row {}, column {}, channel {}", pixel / in.shape.w, pixel % in.shape.w, index % in.shape.c);
}

}  // namespace

Engine Engine::load(const std::string& bundle_dir, Backend backend) { return Engine(open_bundle(bundle_dir), backend); }

Engine::Engine(Design design, Backend backend)
    : design_(std::move(design)), backend_(backend), input_(input_spec(design_.net)), output_(output_spec(design_.net)) {
  stats_.backend = backend_;
}

void Engine::queue(std::vector<std::int64_t> image) {
  const std::size_t place = queue_.size();  // 0-based, in the queue of the next run
  if (static_cast<std::int64_t>(image.size()) != input_.values_per_image)
    throw UserError(fmt::format("queued image {} (0-based, since the last run) has {} values; {} takes {} = {} values per image, "
                                "in (row, column, channel) order",
                                place, image.size(), input_.describe(), input_.shape.str(), input_.values_per_image));
  for (std::size_t i = 0; i < image.size(); ++i)
    if (image[i] < 0 || image[i] > input_.max_value())
      throw UserError(fmt::format("queued image {} (0-based, since the last run), value {} ({}) is {}; {} takes values 0..{}", place, i,
                                  position(input_, static_cast<std::int64_t>(i)), image[i], input_.describe(), input_.max_value()));
  queue_.push_back(std::move(image));
}

void Engine::queue(const std::uint8_t* pixels, std::size_t n) {
  if (input_.binary || input_.bits != 8)
    throw UserError(fmt::format("queue(pixels, n) takes 8-bit pixels, but {} is not 8-bit unsigned: queue a vector of {} values "
                                "instead (Dataset::stream(i, {}) gives one)",
                                input_.describe(), input_.values_per_image, input_.bits));
  queue(std::vector<std::int64_t>(pixels, pixels + n));
}

std::vector<std::vector<std::int64_t>> Engine::run() { return run_split(Ranks{}); }

namespace {

// The reference model's outputs of images [first, first + n) of `queue`, on every core (the
// reference model is a pure function). `progress`, if set, from the calling thread.
std::vector<std::vector<std::int64_t>> reference_outputs(const Design& d, const std::vector<std::vector<std::int64_t>>& queue,
                                                         std::int64_t first, std::int64_t n, const std::function<void(double)>& progress) {
  std::vector<std::vector<std::int64_t>> outputs(static_cast<std::size_t>(n));
  // An exception may not leave an OpenMP region: the first is kept and thrown after it.
  std::atomic<std::size_t> done{0};
  std::exception_ptr failed;
#pragma omp parallel for schedule(dynamic, 4)
  for (std::int64_t i = 0; i < n; ++i) {
    try {
      outputs[static_cast<std::size_t>(i)] = reference_forward(d.net, d.weights, queue[static_cast<std::size_t>(first + i)]);
    } catch (...) {
#pragma omp critical(qdf_reference_failure)
      if (!failed) failed = std::current_exception();
    }
    const std::size_t k = ++done;
    if (progress && omp_get_thread_num() == 0) progress(static_cast<double>(k) / static_cast<double>(n));
  }
  if (failed) std::rethrow_exception(failed);
  if (progress) progress(1.0);
  return outputs;
}

}  // namespace

std::vector<std::vector<std::int64_t>> Engine::run_split(const Ranks& ranks) {
  if (queue_.empty())
    throw UserError(fmt::format("run() on backend {} with no image queued: expected at least one, found 0; queue images with "
                                "Engine::queue first (each run empties the queue)",
                                to_string(backend_)));
  if (ranks.size() > 1 && backend_ == Backend::Rtl)
    throw UserError(fmt::format("backend rtl runs the whole stream in one Verilator simulation and does not split over the {} MPI "
                                "ranks it was launched with: run it as one process, or use backend sim or reference",
                                ranks.size()));
  const auto t0 = std::chrono::steady_clock::now();
  RunStats st;
  st.backend = backend_;
  st.images = static_cast<int>(queue_.size());
  std::vector<std::vector<std::int64_t>> outputs;
  const sim::RunTiming* timing = nullptr;
  sim::SimResult simulated;
  RtlRun rtl;
  const auto n = static_cast<std::int64_t>(queue_.size());
  if (ranks.size() == 1) {
    switch (backend_) {
      case Backend::Reference: outputs = reference_outputs(design_, queue_, 0, n, progress_); break;
      case Backend::Sim: {
        sim::SimOptions o;
        o.progress = progress_;
        simulated = sim::simulate(design_.plan, queue_, o);
        outputs = std::move(simulated.outputs);
        timing = &simulated.timing;
        break;
      }
      case Backend::Rtl:
        rtl = run_plan_rtl(design_.plan, queue_, design_.fpga_modules);
        outputs = std::move(rtl.outputs);
        timing = &rtl.timing;
        st.rtl_build_seconds = rtl.build_seconds;
        st.rtl_run_seconds = rtl.run_seconds;
        break;
    }
  } else {
    // Each rank the values of its block of the images, with the simulator's functional models
    // (sim/graph_values.hpp) or the reference model; on sim, rank 0 times the whole stream beside
    // the others' values (block_beside_root). The simulator's timing does not depend on the
    // values (it replays each engine's tick schedule), so a timing-only run of all n images
    // gives the cycles of one process's run of them.
    const Block b = backend_ == Backend::Sim ? block_beside_root(n, ranks.rank(), ranks.size()) : block_of(n, ranks.rank(), ranks.size());
    const std::vector<std::string> parts = gather_work(ranks, [&] {
      std::vector<std::vector<std::int64_t>> mine;
      if (backend_ == Backend::Reference) {
        mine = reference_outputs(design_, queue_, b.first, b.count, ranks.root() ? progress_ : nullptr);
      } else {
        mine.resize(static_cast<std::size_t>(b.count));
        sim::parallel_for(static_cast<int>(b.count), sim::resolve_threads(0), [&](int i) {
          mine[static_cast<std::size_t>(i)] = sim::graph_forward(design_.plan.graph, queue_[static_cast<std::size_t>(b.first + i)]);
        });
        if (ranks.root()) {
          sim::SimOptions o;
          o.timing_only = true;
          o.images = static_cast<int>(n);
          o.progress = progress_;
          simulated = sim::simulate(design_.plan, {}, o);
          timing = &simulated.timing;
        }
      }
      return nlohmann::json(mine).dump();
    });
    queue_.clear();
    if (!ranks.root()) {
      stats_ = RunStats{};
      return {};
    }
    for (const std::string& p : parts)
      for (auto& out : nlohmann::json::parse(p).get<std::vector<std::vector<std::int64_t>>>()) outputs.push_back(std::move(out));
  }
  if (outputs.size() != static_cast<std::size_t>(n))
    throw InternalError(fmt::format("backend {} returned {} outputs for {} images", to_string(backend_), outputs.size(), n));
  if (timing) {
    st.timed = true;
    st.cycles_per_image = timing->cycles_per_image;
    st.latency_cycles = timing->latency_cycles;
    st.total_cycles = timing->total_cycles;
    st.clock_mhz = design_.plan.clock_mhz;
    // As the simulator's SimResult::fps, for either backend.
    st.images_per_second = timing->cycles_per_image > 0 ? st.clock_mhz * 1e6 / timing->cycles_per_image : 0;
    st.steady_state = steady(*timing);
    st.images_for_steady_state = images_for_steady_state(*timing);
  }
  st.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stats_ = st;
  queue_.clear();
  return outputs;
}

std::vector<int> Engine::run_labels(const Ranks& ranks) {
  if (!output_.labels)
    throw UserError(fmt::format("run_labels(): network '{}' ends in layer '{}', not in label select, so it gives {}, not labels: "
                                "expected a network ending in label_select(); call run() for the scores",
                                design_.net.name, output_.layer, output_.describe()));
  std::vector<int> labels;
  for (const auto& out : run_split(ranks)) labels.push_back(static_cast<int>(out.at(0)));  // best first
  return labels;
}

}  // namespace qdf::host
