#include "host/api/engine_api.hpp"

#include "dsl/errors.hpp"
#include "host/reference/reference_model.hpp"
#include "host/rtl/rtl_harness.hpp"
#include "sim/simulator.hpp"

#include <atomic>
#include <chrono>
#include <exception>
#include <omp.h>
#include <fmt/format.h>
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

std::vector<std::vector<std::int64_t>> Engine::run() {
  if (queue_.empty())
    throw UserError(fmt::format("run() on backend {} with no image queued: expected at least one, found 0; queue images with "
                                "Engine::queue first (each run empties the queue)",
                                to_string(backend_)));
  const auto t0 = std::chrono::steady_clock::now();
  RunStats st;
  st.backend = backend_;
  st.images = static_cast<int>(queue_.size());
  std::vector<std::vector<std::int64_t>> outputs;
  const sim::RunTiming* timing = nullptr;
  sim::SimResult simulated;
  RtlRun rtl;
  switch (backend_) {
    case Backend::Reference: {
      // Images are independent: on every core (the reference model is a pure function).
      outputs.resize(queue_.size());
      // An exception may not leave an OpenMP region: the first is kept and thrown after it.
      std::atomic<std::size_t> done{0};
      std::exception_ptr failed;
      const auto n = static_cast<std::int64_t>(queue_.size());
#pragma omp parallel for schedule(dynamic, 4)
      for (std::int64_t i = 0; i < n; ++i) {
        try {
          outputs[static_cast<std::size_t>(i)] = reference_forward(design_.net, design_.weights, queue_[static_cast<std::size_t>(i)]);
        } catch (...) {
#pragma omp critical(qdf_reference_failure)
          if (!failed) failed = std::current_exception();
        }
        const std::size_t k = ++done;
        if (progress_ && omp_get_thread_num() == 0) progress_(static_cast<double>(k) / static_cast<double>(n));
      }
      if (failed) std::rethrow_exception(failed);
      if (progress_) progress_(1.0);
      break;
    }
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
  if (outputs.size() != queue_.size())
    throw InternalError(fmt::format("backend {} returned {} outputs for {} images", to_string(backend_), outputs.size(), queue_.size()));
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

std::vector<int> Engine::run_labels() {
  if (!output_.labels)
    throw UserError(fmt::format("run_labels(): network '{}' ends in layer '{}', not in label select, so it gives {}, not labels: "
                                "expected a network ending in label_select(); call run() for the scores",
                                design_.net.name, output_.layer, output_.describe()));
  std::vector<int> labels;
  for (const auto& out : run()) labels.push_back(static_cast<int>(out.at(0)));  // best first
  return labels;
}

}  // namespace qdf::host
