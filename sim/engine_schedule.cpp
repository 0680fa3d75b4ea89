#include "sim/engine_schedule.hpp"

#include "dsl/errors.hpp"
#include "dsl/interpreter.hpp"
#include "dsl/once_cache.hpp"
#include "dsl/passes.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace qdf::sim {

namespace {

// Ticks per frame of a kernel engine (engines/engine_kinds.hpp: an MVTU's frame is one input
// vector, every other kernel's one image).
std::int64_t frame_ticks(const manager::Engine& e) { return engines::engine_timing(e.config).ticks_per_frame; }

// The kernel's control alone: every output's value replaced by a constant zero and the logic that
// only fed values removed, so that what is left computes the enables (counters and comparisons).
// Nothing reads an output's value (an output is a sink), so no enable changes: the trace below,
// which reads only which ports move, is the whole kernel's tick for tick, in a fraction of the
// time on wide engines, whose values are thousands of bits a tick.
dsl::Kernel control_only(dsl::Kernel k) {
  for (dsl::NodeId o : k.outputs) {
    const dsl::NodeId v = k.at(o).args[0];
    dsl::Node zero;
    zero.op = dsl::Op::Const;
    zero.type = k.at(v).type;
    zero.bits.assign(static_cast<size_t>(dsl::words_of(zero.type)), 0);
    const dsl::NodeId z = k.add(std::move(zero));
    k.shift.push_back(k.shift.at(static_cast<size_t>(v)));
    k.op_latency.push_back(0);
    k.at(o).args[0] = z;
  }
  dsl::remove_dead_nodes(k);
  return k;
}

std::shared_ptr<const EngineSchedule> trace_schedule(const manager::EngineGraph& g, const manager::Engine& e) {
  auto s = std::make_shared<EngineSchedule>();
  s->period = frame_ticks(e);
  s->ticks_per_image = e.cycles_per_image;
  if (s->period < 1 || s->ticks_per_image % s->period)
    throw InternalError(fmt::format("engine {}: {} ticks per image is not a whole number of frames of {}", e.name,
                                    s->ticks_per_image, s->period));
  const std::int64_t frames_per_image = s->ticks_per_image / s->period;
  const dsl::Kernel k = dsl::compile_kernel(manager::engine_kernel(e));
  s->latency = k.latency;
  s->inputs = static_cast<int>(e.inputs.size());
  s->outputs = static_cast<int>(e.outputs.size());
  if (s->inputs > 8 || s->outputs > 8) throw InternalError(fmt::format("engine {}: too many ports", e.name));

  // The kernel's ports in the engine's port order.
  std::vector<int> in_bit(static_cast<size_t>(s->inputs)), out_bit(static_cast<size_t>(s->outputs));
  auto position = [&](const std::vector<dsl::NodeId>& ports, const std::string& name) {
    for (size_t i = 0; i < ports.size(); ++i)
      if (k.at(ports[i]).name == name) return static_cast<int>(i);
    throw InternalError(fmt::format("engine {}: its kernel has no port '{}'", e.name, name));
  };
  for (int i = 0; i < s->inputs; ++i) in_bit[static_cast<size_t>(i)] = position(k.inputs, e.input_ports[static_cast<size_t>(i)]);
  for (int j = 0; j < s->outputs; ++j) out_bit[static_cast<size_t>(j)] = position(k.outputs, e.output_ports[static_cast<size_t>(j)]);

  // Enough frames that the steady state (outputs of a frame's own ticks) shows at least twice.
  const std::int64_t frames = 2 + (s->latency + s->period - 1) / s->period;
  dsl::RunSpec spec;
  spec.ticks = static_cast<std::uint64_t>(frames * s->period);
  spec.trace = true;
  for (int i = 0; i < s->inputs; ++i) {
    const manager::StreamEdge& st = g.streams[static_cast<size_t>(e.inputs[static_cast<size_t>(i)])];
    dsl::Stream zeros(k.at(k.inputs[static_cast<size_t>(in_bit[static_cast<size_t>(i)])]).type.width);
    zeros.words.assign(static_cast<size_t>(st.elements / frames_per_image * frames) * static_cast<size_t>(zeros.words_per_element()), 0);
    spec.inputs[e.input_ports[static_cast<size_t>(i)]] = std::move(zeros);
  }
  const dsl::RunResult r = dsl::Interpreter(control_only(k)).run(spec);
  const std::int64_t T = static_cast<std::int64_t>(spec.ticks), L = s->latency, P = s->period;
  if (static_cast<std::int64_t>(r.trace.size()) != T + L)
    throw InternalError(fmt::format("engine {}: traced {} ticks, expected {}", e.name, r.trace.size(), T + L));
  auto ins = [&](std::int64_t t) {
    std::uint8_t m = 0;
    for (int i = 0; i < s->inputs; ++i)
      if (r.trace[static_cast<size_t>(t)] >> in_bit[static_cast<size_t>(i)] & 1) m |= static_cast<std::uint8_t>(1u << i);
    return m;
  };
  auto outs = [&](std::int64_t t) {
    std::uint8_t m = 0;
    for (int j = 0; j < s->outputs; ++j)
      if (r.trace[static_cast<size_t>(t)] >> (dsl::RunResult::kTraceOutputBit + out_bit[static_cast<size_t>(j)]) & 1)
        m |= static_cast<std::uint8_t>(1u << j);
    return m;
  };
  s->in_pattern.resize(static_cast<size_t>(P));
  s->out_pattern.resize(static_cast<size_t>(P));
  for (std::int64_t u = 0; u < P; ++u) {
    s->in_pattern[static_cast<size_t>(u)] = ins(u);
    s->out_pattern[static_cast<size_t>(u)] = outs(u + L);
  }
  // The whole trace must be the periodic form the simulator replays.
  for (std::int64_t t = 0; t < T + L; ++t) {
    const std::uint8_t want_in = t < T ? s->in_pattern[static_cast<size_t>(t % P)] : 0;
    const std::uint8_t want_out = t >= L ? s->out_pattern[static_cast<size_t>((t - L) % P)] : 0;
    if (ins(t) != want_in || outs(t) != want_out)
      throw InternalError(fmt::format("engine {}: tick {} of its trace is not periodic in {} ticks per frame", e.name, t, P));
  }
  for (std::int64_t u = 0; u < P; ++u) {
    const std::uint32_t in = s->in_pattern[static_cast<size_t>(u)];
    const std::uint32_t out = s->out_pattern[static_cast<size_t>(((u - L) % P + P) % P)];
    if (in || out) s->steps.push_back({u, in, out});
  }
  return s;
}

}  // namespace

std::shared_ptr<const EngineSchedule> engine_schedule(const manager::EngineGraph& g, const manager::Engine& e) {
  if (engines::is_buffer(e.config)) throw InternalError(fmt::format("engine {}: a FIFO has no tick schedule", e.name));
  // The schedule depends on the configuration (not the name, weights or thresholds) and the
  // elements per image of the inputs.
  nlohmann::json key = manager::engine_config_json(e);
  key.erase("name");
  key["kind"] = e.kind();
  for (int s : e.inputs) key["in"].push_back(g.streams[static_cast<size_t>(s)].elements);
  const std::string ks = key.dump();
  // Traced once per key even when several threads ask at once (the simulator traces a graph's
  // engines in parallel, and equal configurations are common).
  static dsl::OnceCache<std::shared_ptr<const EngineSchedule>> schedules;
  return schedules.get(ks, [&] { return trace_schedule(g, e); });
}

}  // namespace qdf::sim
