#include "host/cli/sim_flow.hpp"

#include "dsl/errors.hpp"
#include "dsl/hash.hpp"
#include "host/cli/progress.hpp"
#include "host/reference/reference_model.hpp"
#include "sim/thread_pool.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fmt/format.h>
#include <malloc.h>
#include <nlohmann/json.hpp>

namespace qdf::host {

void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

std::string compare_outputs(const std::vector<std::vector<std::int64_t>>& expected,
                            const std::vector<std::vector<std::int64_t>>& actual, const std::string& what, int max,
                            const std::vector<int>& ids) {
  std::string out;
  int n = 0;
  if (expected.size() != actual.size())
    return fmt::format("{}: {} images expected, {} given", what, expected.size(), actual.size());
  for (size_t i = 0; i < expected.size() && n < max; ++i) {
    const int image = ids.empty() ? static_cast<int>(i) : ids[i];
    if (expected[i].size() != actual[i].size()) {
      out += fmt::format("{}: image {} has {} output values, not {}\n", what, image, actual[i].size(), expected[i].size());
      ++n;
      continue;
    }
    for (size_t j = 0; j < expected[i].size() && n < max; ++j)
      if (expected[i][j] != actual[i][j]) {
        out += fmt::format("{}: image {}, output value {}: expected {}, got {}\n", what, image, j, expected[i][j], actual[i][j]);
        ++n;
      }
  }
  return out;
}

ReferenceCheck parse_reference_check(const std::string& text) {
  if (text == "all") return {ReferenceCheck::Mode::All, 0};
  if (text == "none") return {ReferenceCheck::Mode::None, 0};
  int n = 0;
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc{} || p != end || n < 1)
    throw UserError(fmt::format("--reference takes all, none or a number of images >= 1, not '{}'", text));
  return {ReferenceCheck::Mode::Count, n};
}

std::vector<int> reference_images(const manager::Net& net, int images, const ReferenceCheck& r) {
  int k = images;
  switch (r.mode) {
    case ReferenceCheck::Mode::All: break;
    case ReferenceCheck::Mode::None: k = 0; break;
    case ReferenceCheck::Mode::Count: k = std::min(r.count, images); break;
    case ReferenceCheck::Mode::Default:
      k = static_cast<int>(std::min<std::int64_t>(
          images, std::max<std::int64_t>(kReferenceSample, kReferenceBudgetMacs / std::max<std::int64_t>(net.macs(), 1))));
      break;
  }
  std::vector<int> out;
  if (k == images)
    for (int i = 0; i < images; ++i) out.push_back(i);
  else if (k == 1)
    out.push_back(0);
  else if (k > 1)  // i * (images - 1) / (k - 1): the first, the last, evenly between (distinct as k < images)
    for (int i = 0; i < k; ++i) out.push_back(static_cast<int>(static_cast<std::int64_t>(i) * (images - 1) / (k - 1)));
  return out;
}

namespace {

// One image's output values as one word (dsl/hash.hpp); outputs_digest folds these in image order.
std::uint64_t output_hash(const std::vector<std::int64_t>& out) {
  dsl::Fnv1a h;
  for (std::int64_t v : out) h.add(static_cast<std::uint64_t>(v));
  return h.value();
}

std::uint64_t outputs_digest(const std::vector<std::uint64_t>& image_hashes) {
  dsl::Fnv1a h;
  for (std::uint64_t x : image_hashes) h.add(x);
  return h.value();
}

}  // namespace

int images_for_steady_state(const SimRun& r) { return images_for_steady_state(r.result.timing); }
bool steady(const SimRun& r) { return r.images >= images_for_steady_state(r); }

SimRun simulate_design(const Design& d, int images, bool timing_only, std::uint64_t seed, int threads, const ReferenceCheck& reference,
                       bool keep_images, std::int64_t max_cycles, const Ranks& ranks) {
  if (images < 1) throw UserError(fmt::format("--images must be at least 1, not {}", images));
  if (keep_images && ranks.size() > 1) throw InternalError("simulate_design keeps the images of one process only, not split over ranks");
  SimRun r;
  r.images = images;
  r.timing_only = timing_only;
  r.threads = sim::resolve_threads(threads);
  r.ranks = ranks.size();
  ProgressBar bar("simulating");
  sim::SimOptions o;
  o.timing_only = timing_only || !keep_images;
  o.images = images;
  o.threads = r.threads;
  o.max_cycles = max_cycles;
  o.progress = [&](double f) {
    if (ranks.root()) bar.update(f);
  };
  if (!timing_only && keep_images) r.inputs = random_images(d.plan.graph, images, seed);
  if (timing_only || keep_images) {
    // Timing only is one run on rank 0 (the other ranks have nothing to do); kept images are one process's.
    if (!ranks.root()) return r;
    r.result = sim::simulate(d.plan, r.inputs, o);
    bar.finish();
    if (timing_only) return r;
  }
  r.checked = reference_images(d.net, images, reference);
  if (keep_images) {
    // The reference model on the images checked, in parallel, timed apart from the simulation.
    const auto t0 = std::chrono::steady_clock::now();
    const size_t n = r.checked.size();
    std::vector<std::vector<std::int64_t>> ref(n), got(n);
    sim::parallel_for(static_cast<int>(n), r.threads, [&](int i) {
      ref[static_cast<size_t>(i)] = reference_forward(d.net, d.weights, r.inputs[static_cast<size_t>(r.checked[static_cast<size_t>(i)])]);
    });
    for (size_t i = 0; i < n; ++i) got[i] = r.result.outputs[static_cast<size_t>(r.checked[i])];
    r.reference_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.mismatch = compare_outputs(ref, got, "simulator vs reference", 5, r.checked);
    r.outputs_match_reference = r.mismatch.empty();
    std::vector<std::uint64_t> hashes;
    for (const auto& out : r.result.outputs) hashes.push_back(output_hash(out));
    if (r.outputs_match_reference) r.outputs_digest = outputs_digest(hashes);
    return r;
  }
  // The timing of the whole run on rank 0, and beside it the values split over the other ranks,
  // each a block of the images (block_beside_root, host/distributed/ranks.hpp): the simulator's timing does not depend on
  // the values (it replays each engine's tick schedule), so the cycles are those of one process,
  // and each image's values and reference check are the same computation as in one process.
  const Block block = block_beside_root(images, ranks.rank(), ranks.size());
  const std::vector<std::string> parts = gather_work(ranks, [&] {
    if (ranks.root()) {
      r.result = sim::simulate(d.plan, r.inputs, o);
      bar.finish();
    }
    // The values a chunk of images at a time (the engines' functional models, as the simulator
    // computes them, on every thread), the checked ones compared with the reference model, and
    // dropped: a long run's memory stays bounded.
    const int chunk = 16 * r.threads;
    const int end = static_cast<int>(block.first + block.count);
    sim::RandomImages gen(d.plan.graph, seed);
    gen.skip(block.first);
    size_t next_checked = 0;
    while (next_checked < r.checked.size() && r.checked[next_checked] < block.first) ++next_checked;
    std::string mismatch;
    double value_seconds = 0, reference_seconds = 0;
    std::vector<std::uint64_t> hashes;  // of each image's outputs, in image order
    for (int first = static_cast<int>(block.first); first < end && mismatch.empty(); first += chunk) {
      const int n = std::min(chunk, end - first);
      std::vector<std::vector<std::int64_t>> imgs;
      for (int i = 0; i < n; ++i) imgs.push_back(gen.next());
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<std::vector<std::int64_t>> got(static_cast<size_t>(n));
      sim::parallel_for(n, r.threads, [&](int i) { got[static_cast<size_t>(i)] = sim::graph_forward(d.plan.graph, imgs[static_cast<size_t>(i)]); });
      const auto t1 = std::chrono::steady_clock::now();
      for (const auto& out : got) hashes.push_back(output_hash(out));
      std::vector<int> ids;
      while (next_checked < r.checked.size() && r.checked[next_checked] < first + n) ids.push_back(r.checked[next_checked++]);
      std::vector<std::vector<std::int64_t>> ref(ids.size()), sim_out(ids.size());
      sim::parallel_for(static_cast<int>(ids.size()), r.threads, [&](int i) {
        ref[static_cast<size_t>(i)] = reference_forward(d.net, d.weights, imgs[static_cast<size_t>(ids[static_cast<size_t>(i)] - first)]);
      });
      for (size_t i = 0; i < ids.size(); ++i) sim_out[i] = got[static_cast<size_t>(ids[i] - first)];
      mismatch = compare_outputs(ref, sim_out, "simulator vs reference", 5, ids);
      value_seconds += std::chrono::duration<double>(t1 - t0).count();
      reference_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    }
    return nlohmann::json{{"mismatch", mismatch}, {"value_seconds", value_seconds}, {"reference_seconds", reference_seconds},
                          {"hashes", hashes}}
        .dump();
  });
  if (!ranks.root()) return r;
  // The first mismatch in image order is in the lowest rank that has one (blocks are in rank
  // order); the ranks' values ran side by side, so their wall time is the longest rank's.
  std::vector<std::uint64_t> hashes;
  for (const std::string& p : parts) {
    const nlohmann::json j = nlohmann::json::parse(p);
    for (const auto& h : j.at("hashes")) hashes.push_back(h.get<std::uint64_t>());
    if (r.mismatch.empty()) r.mismatch = j.at("mismatch").get<std::string>();
    r.result.value_seconds = std::max(r.result.value_seconds, j.at("value_seconds").get<double>());
    r.reference_seconds = std::max(r.reference_seconds, j.at("reference_seconds").get<double>());
  }
  r.result.seconds += r.result.value_seconds;
  r.outputs_match_reference = r.mismatch.empty();
  // A run stopped at a mismatch computed only some images: no digest of the whole then.
  if (r.outputs_match_reference) r.outputs_digest = outputs_digest(hashes);
  return r;
}

sim::RunTiming steady_timing(const Design& d) {
  // One image alone gives the latency (an image behind it can only delay it), which with the
  // planned cycles per image says how many images a steady state takes; a run that turns out
  // not steady (slower than planned) is run again with as many as it says it needs.
  sim::RunTiming guess = simulate_design(d, 1, true, 1).result.timing;
  guess.cycles_per_image = static_cast<double>(d.plan.cycles_per_image);
  SimRun run = simulate_design(d, images_for_steady_state(guess), true, 1);
  if (!steady(run)) run = simulate_design(d, images_for_steady_state(run), true, 1);
  return run.result.timing;
}

manager::MeasurePlan measure_steady_timing(const DesignInputs& in, const std::string& source) {
  return [&in, source](const manager::Plan& p) {
    const sim::RunTiming t = steady_timing(Design{in.net, in.weights, p, source});
    return std::pair<double, double>{t.cycles_per_image, static_cast<double>(t.latency_cycles)};
  };
}

manager::ScaleStudy scale_design(const CompileRequest& r, const std::vector<int>& fpgas, bool simulate) {
  const DesignInputs in = design_inputs(r);
  return manager::scale_study(in.net, in.weights, in.options, fpgas,
                              simulate ? measure_steady_timing(in, "network " + r.net) : manager::MeasurePlan{});
}

namespace {

nlohmann::json stats_json(const sim::SimResult& s) {
  nlohmann::json j;
  for (const auto& e : s.engines)
    j["engines"].push_back({{"name", e.name}, {"kind", e.kind}, {"fpga", e.fpga}, {"busy", e.busy},
                            {"stalled_input", e.stalled_input}, {"stalled_output", e.stalled_output}});
  j["fifos"] = nlohmann::json::array();
  for (const auto& f : s.fifos) j["fifos"].push_back({{"name", f.name}, {"capacity", f.capacity}, {"peak", f.peak}});
  for (const auto& l : s.links) j["links"].push_back({{"name", l.name}, {"utilization", l.utilization}, {"elements", l.elements}});
  return j;
}

std::string title(const Design& d) {
  return fmt::format("{} ({}) on {} x {} at {:.0f} MHz", d.plan.graph.net, d.source, d.plan.fpgas.size(), d.plan.device.name,
                     d.plan.clock_mhz);
}

}  // namespace

nlohmann::json sim_json(const Design& d, const SimRun& r) {
  const sim::SimResult& s = r.result;
  nlohmann::json j = stats_json(s);
  j["net"] = d.plan.graph.net;
  j["source"] = d.source;
  j["fpgas"] = d.plan.fpgas.size();
  j["device"] = d.plan.device.name;
  j["clock_mhz"] = d.plan.clock_mhz;
  j["images"] = r.images;
  j["timing_only"] = r.timing_only;
  j["cycles_per_image"] = s.timing.cycles_per_image;
  j["latency_cycles"] = s.timing.latency_cycles;
  j["total_cycles"] = s.timing.total_cycles;
  j["fps"] = s.fps;
  j["predicted_cycles_per_image"] = d.plan.cycles_per_image;
  j["steady_state"] = steady(r);
  j["outputs_match_reference"] = r.timing_only || r.checked.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.outputs_match_reference);
  j["reference_images"] = r.checked;
  if (r.outputs_digest) j["outputs_digest"] = fmt::format("{:016x}", r.outputs_digest);
  j["reference_seconds"] = r.reference_seconds;
  if (!r.mismatch.empty()) j["mismatch"] = r.mismatch;
  j["threads"] = r.threads;
  j["ranks"] = r.ranks;
  j["sim_seconds"] = s.seconds;
  j["sim_value_seconds"] = s.value_seconds;
  j["sim_schedule_seconds"] = s.schedule_seconds;
  j["sim_images_moved"] = s.images_moved;
  j["sim_images_per_second"] = s.seconds > 0 ? r.images / s.seconds : 0;
  return j;
}

std::string sim_table(const Design& d, const SimRun& r) {
  const sim::SimResult& s = r.result;
  const double pred = static_cast<double>(d.plan.cycles_per_image);
  std::string t = fmt::format("qdf sim: {}\n", title(d));
  t += fmt::format("  {} images, {}, simulated in {:.3f} s ({:.1f} images/s{})\n", r.images,
                   r.timing_only ? "timing only" : "values and timing", s.seconds, r.images / std::max(s.seconds, 1e-9),
                   r.timing_only ? "" : fmt::format("; values {:.3f} s on {}{} threads", s.value_seconds,
                                                                    r.ranks > 1 ? fmt::format("{} ranks x ", r.ranks) : "", r.threads));
  if (s.images_moved > 0)
    t += fmt::format("  of which {} images in the steady state moved over at once, not simulated one by one (the same cycles)\n",
                     s.images_moved);
  t += fmt::format("  cycles per image, steady state  {:>12.1f}   (plan: {:.0f}, {:+.1f}%)\n", s.timing.cycles_per_image, pred,
                   100.0 * (s.timing.cycles_per_image - pred) / pred);
  t += fmt::format("  latency of one image            {:>12} cycles = {:.3f} ms\n", s.timing.latency_cycles,
                   static_cast<double>(s.timing.latency_cycles) / (d.plan.clock_mhz * 1e3));
  t += fmt::format("  images/s at {:.0f} MHz            {:>12.1f}\n", d.plan.clock_mhz, s.fps);
  if (!steady(r))
    t += fmt::format("  (the pipeline holds about {:.0f} images: run at least {} images for a steady state)\n",
                     static_cast<double>(s.timing.latency_cycles) / std::max(s.timing.cycles_per_image, 1.0), images_for_steady_state(r));
  if (!r.timing_only) {
    const int k = static_cast<int>(r.checked.size());
    std::string which;
    if (k == 0) which = "not checked (--reference none)";
    else if (k == r.images) which = fmt::format("{} on all {} images", r.outputs_match_reference ? "match" : "DIFFER", r.images);
    else {
      std::string ids;
      for (int i : r.checked) ids += (ids.empty() ? "" : ", ") + std::to_string(i);
      which = fmt::format("{} on {} of {} images: {} (a sample; --reference all checks every one)",
                          r.outputs_match_reference ? "match" : "DIFFER", k, r.images, ids);
    }
    t += fmt::format("  outputs vs the reference model  {}\n", which);
    if (k) t += fmt::format("  reference model check           {:>12.3f} s on {} threads, apart from the simulation\n", r.reference_seconds, r.threads);
    if (!r.outputs_match_reference) t += r.mismatch;
    if (r.outputs_digest) t += fmt::format("  digest of every image's outputs {:>16x}   (FNV-1a, the same on any number of threads and ranks)\n", r.outputs_digest);
  }
  t += "engines (FPGA: busy / stalled on input / stalled on output, % of cycles)\n";
  for (const auto& e : s.engines)
    t += fmt::format("  {:<28} {:>2}: {:5.1f} / {:5.1f} / {:5.1f}\n", e.name, e.fpga, 100 * e.busy, 100 * e.stalled_input,
                     100 * e.stalled_output);
  t += "FIFOs (peak occupancy / capacity, elements)\n";
  for (const auto& f : s.fifos) t += fmt::format("  {:<28} {:>6} / {}\n", f.name, f.peak, f.capacity);
  t += "links (utilisation of the wire)\n";
  for (const auto& l : s.links) t += fmt::format("  {:<28} {:5.1f}%  ({} elements)\n", l.name, 100 * l.utilization, l.elements);
  return t;
}

VerifyRun verify_design(const Design& d, int images, std::uint64_t seed, int threads, std::int64_t max_cycles) {
  VerifyRun v;
  v.sim = simulate_design(d, images, false, seed, threads, {}, true, max_cycles);
  v.reference_match = v.sim.outputs_match_reference;
  v.rtl = run_plan_rtl(d.plan, v.sim.inputs, d.fpga_modules);
  v.mismatch = compare_outputs(v.sim.result.outputs, v.rtl.outputs, "RTL vs simulator");
  v.bit_exact = v.mismatch.empty();
  const sim::RunTiming& s = v.sim.result.timing;
  const sim::RunTiming& h = v.rtl.timing;
  v.cycles_error = h.cycles_per_image > 0 ? (s.cycles_per_image - h.cycles_per_image) / h.cycles_per_image : 1;
  v.latency_error = h.latency_cycles > 0 ? static_cast<double>(s.latency_cycles - h.latency_cycles) / static_cast<double>(h.latency_cycles) : 1;
  return v;
}

nlohmann::json verify_json(const Design& d, const VerifyRun& v) {
  nlohmann::json j;
  j["net"] = d.plan.graph.net;
  j["source"] = d.source;
  j["fpgas"] = d.plan.fpgas.size();
  j["images"] = v.sim.images;
  j["backend"] = "rtl";
  if (!d.edited_files.empty()) j["edited_files"] = d.edited_files;
  j["bit_exact"] = v.bit_exact;
  j["reference_match"] = v.reference_match;
  if (!v.mismatch.empty()) j["mismatch"] = v.mismatch;
  j["sim_cycles_per_image"] = v.sim.result.timing.cycles_per_image;
  j["rtl_cycles_per_image"] = v.rtl.timing.cycles_per_image;
  j["sim_latency_cycles"] = v.sim.result.timing.latency_cycles;
  j["rtl_latency_cycles"] = v.rtl.timing.latency_cycles;
  j["cycles_per_image_error"] = v.cycles_error;
  j["latency_error"] = v.latency_error;
  j["sim_seconds"] = v.sim.result.seconds;
  j["rtl_build_seconds"] = v.rtl.build_seconds;
  j["rtl_run_seconds"] = v.rtl.run_seconds;
  j["rtl_cycles"] = v.rtl.cycles;
  return j;
}

std::string verify_table(const Design& d, const VerifyRun& v) {
  std::string t = fmt::format("qdf verify: {}, {} images, simulator vs RTL under Verilator\n", title(d), v.sim.images);
  for (const std::string& e : d.edited_files) t += fmt::format("  edited bundle file run as it is: {}\n", e);
  t += fmt::format("  {:<34} {:>14} {:>14} {:>8}\n", "", "simulator", "RTL", "error");
  t += fmt::format("  {:<34} {:>14.1f} {:>14.1f} {:>+7.2f}%\n", "cycles per image, steady state", v.sim.result.timing.cycles_per_image,
                   v.rtl.timing.cycles_per_image, 100 * v.cycles_error);
  t += fmt::format("  {:<34} {:>14} {:>14} {:>+7.2f}%\n", "latency of one image, cycles", v.sim.result.timing.latency_cycles,
                   v.rtl.timing.latency_cycles, 100 * v.latency_error);
  t += fmt::format("  {:<34} {:>13.3f}s {:>13.3f}s\n", "wall time (RTL: without its build)", v.sim.result.seconds, v.rtl.run_seconds);
  t += fmt::format("  outputs: {}\n", v.bit_exact ? fmt::format("bit-exact on all {} images", v.sim.images) : "DIFFER\n" + v.mismatch);
  t += fmt::format("  simulator vs reference model: {}\n", v.reference_match ? "match" : "DIFFER\n" + v.sim.mismatch);
  return t;
}

}  // namespace qdf::host
