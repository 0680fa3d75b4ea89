// The manager's compile pipeline, in order: what plan_network does, one named step a line, each
// with why it is where it is (the steps themselves are in plan_steps.cpp, engine_graph.cpp and
// bundle.cpp). For a target of T cycles per image:
//
//   fold -> map layers to engines -> check timing -> estimate -> partition and check budgets
//
// and, once the search has chosen T (the least T for which those steps succeed, or the --fps
// target), on the design at T:
//
//   place on FPGAs -> links and their FIFOs -> sum resources and predict -> (emit: write_bundle)
#include "manager/plan.hpp"

#include "dsl/errors.hpp"
#include "manager/plan_steps.hpp"

#include <chrono>
#include <cmath>
#include <fmt/format.h>

namespace qdf::manager {

PlanOptions::PlanOptions() : device(devices().front()), ring(default_link("ring")), host(default_link("host")) {}

namespace {

using steps::Pricing;

// The design at one target T, as far as the search needs it; `reason` says why T is out of
// reach when !ok.
struct Attempt {
  bool ok = false;
  std::string reason;
  Folding folding;
  EngineGraph graph;
  std::vector<dsl::Resources> unit_res;
  std::vector<int> cuts;  // first unit of each FPGA
};

class Pipeline {
 public:
  Pipeline(const Net& net, const ModelWeights& w, const PlanOptions& opt)
      : net_(net), w_(w), opt_(opt), pricing_(opt.device), space_(opt.folding ? std::vector<steps::Foldable>{} : steps::folding_space(net, w)) {}

  // The steps at target T, in order; each needs what the one before gives.
  Attempt design_at(std::int64_t T) {
    Attempt a;
    // Fold: each layer's cheapest folding within T, priced by the engines it makes (a fixed
    // folding is taken as it is). First, because the engines depend on it.
    if (!fold(T, a)) return a;
    // Map layers to engines at that folding: the engine graph, with the FIFOs that decouple
    // kernels (input FIFOs of their buffer rows, skip FIFOs of the row rule; engine_graph.hpp).
    a.graph = build_engine_graph(net_, w_, a.folding);
    // Check timing: converters, forks and the host link can be slower than the folded layers.
    if (!check_timing(T, a)) return a;
    // Estimate: each partition unit's resources, which the partition balances.
    estimate_units(a);
    // Partition and check budgets: cut the units over the FPGAs within each one's budget (with
    // the link FIFOs the cuts bring) and where the ring link carries the stream in T.
    steps::Partition part = steps::partition_units(a.graph, a.unit_res, T, opt_, pricing_);
    a.ok = part.ok;
    a.reason = part.reason;
    a.cuts = part.cuts;
    return a;
  }

  // The plan once folding and partition are chosen, steps in order.
  Plan assemble(EngineGraph graph, const std::vector<int>& cuts, const std::string& limit, std::chrono::steady_clock::time_point t0) {
    Plan p;
    p.device = opt_.device;
    p.ring = opt_.ring;
    p.host = opt_.host;
    p.clock_mhz = opt_.device.clock_mhz;
    p.limit = limit;
    p.graph = std::move(graph);
    // Place: engines on the FPGA of their unit; links are known only once engines are placed.
    place_on_fpgas(p, cuts);
    // Links and their FIFOs: host in, ring links at the cuts (a FIFO at each receiving end for
    // a round trip of credits), host out. After placement, before resources: FIFOs cost too.
    add_links(p, cuts);
    // Sum resources per FPGA and predict: the slowest engine or link sets cycles per image.
    sum_resources_and_predict(p);
    p.plan_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return p;
  }

  // The folding's cycles bounds: the fastest and the slowest any layer can be.
  std::int64_t fastest() const {
    std::int64_t t = 1;
    for (const steps::Foldable& f : space_) t = std::max(t, f.candidates.back().cycles);
    return t;
  }
  std::int64_t slowest() const {
    std::int64_t t = 1;
    for (const steps::Foldable& f : space_) t = std::max(t, f.candidates.front().cycles);
    return t;
  }
  double link_cycles(const Link& l, const EngineGraph& g, int stream) const {
    return steps::link_cycles(l, g, stream, opt_.device.clock_mhz);
  }

 private:
  bool fold(std::int64_t T, Attempt& a) {
    if (opt_.folding) {
      a.folding = *opt_.folding;
      return true;
    }
    for (steps::Foldable& f : space_) {
      const steps::Candidate* best = steps::cheapest_within(f, T, w_, pricing_);
      if (!best) {
        const steps::Candidate& fast = f.candidates.back();
        a.reason = fmt::format("layer {} needs at least {} cycles per image (PE {}, SIMD {})", f.layer->describe(), fast.cycles,
                               fast.f.pe, fast.f.simd);
        return false;
      }
      a.folding[f.layer->name] = best->f;
    }
    return true;
  }

  bool check_timing(std::int64_t T, Attempt& a) const {
    const EngineGraph& g = a.graph;
    for (const Engine& e : g.engines)
      if (e.cycles_per_image > T) {
        a.reason = fmt::format("engine {} needs {} cycles per image", e.name, e.cycles_per_image);
        return false;
      }
    for (auto [s, what] : {std::pair{g.input_stream, "in"}, {g.output_stream, "out"}}) {
      const double c = link_cycles(opt_.host, g, s);
      if (c > static_cast<double>(T)) {
        a.reason = fmt::format("the host link ({}) needs {:.4g} cycles per image to carry the network's {}put", opt_.host.name, c, what);
        return false;
      }
    }
    return true;
  }

  void estimate_units(Attempt& a) const {
    for (const Unit& u : a.graph.units) {
      dsl::Resources r;
      for (int e : u.engines) r += pricing_.price(a.graph.engines[static_cast<size_t>(e)]);
      a.unit_res.push_back(r);
    }
  }

  static int fpga_of_unit(const std::vector<int>& cuts, int unit) {
    int f = 0;
    for (int i = 0; i < static_cast<int>(cuts.size()); ++i)
      if (unit >= cuts[static_cast<size_t>(i)]) f = i;
    return f;
  }

  static void place_on_fpgas(Plan& p, const std::vector<int>& cuts) {
    for (Engine& e : p.graph.engines) e.fpga = fpga_of_unit(cuts, e.unit);
    p.fpgas.resize(cuts.size());
    for (int u = 0; u < static_cast<int>(p.graph.units.size()); ++u) p.fpgas[static_cast<size_t>(fpga_of_unit(cuts, u))].units.push_back(u);
  }

  void add_links(Plan& p, const std::vector<int>& cuts) const {
    EngineGraph& g = p.graph;
    const int nf = static_cast<int>(cuts.size());
    auto add_link = [&](const std::string& name, const Link& l, std::vector<int> streams, int from, int to) {
      LinkUse u;
      u.name = name;
      u.kind = l.name;
      u.from_fpga = from;
      u.to_fpga = to;
      for (int s : streams) {
        const StreamEdge& e = g.streams[static_cast<size_t>(s)];
        u.bits_per_image += static_cast<double>(e.elements * e.width());
      }
      u.latency_cycles = l.latency_cycles(p.clock_mhz);
      if (from >= 0 && to >= 0) {
        u.ring = steps::ring_link(opt_, g, streams, name);
        u.cycles_per_image = steps::ring_cycles(u.ring, g, streams);
      } else {
        u.cycles_per_image = link_cycles(l, g, streams.at(0));
      }
      u.streams = std::move(streams);
      p.links.push_back(std::move(u));
      return p.links.size() - 1;
    };
    add_link("host_in", opt_.host, {g.input_stream}, -1, 0);
    // Cut by cut, in order: a stream that crosses several cuts (a skip stream over a residual
    // block spread over three FPGAs) gets a link FIFO on each FPGA it passes, whose output
    // crosses the next cut. A stream the link moves at under an element a cycle first passes a
    // send FIFO on the FPGA it leaves (steps::send_fifo).
    for (int i = 1; i < nf; ++i) {
      const int unit = cuts[static_cast<size_t>(i)];
      std::vector<int> streams = cut_streams(g)[static_cast<size_t>(unit)];
      const size_t l = add_link(fmt::format("ring_{}_{}", i - 1, i), opt_.ring, streams, i - 1, i);
      for (int k = 0; k < static_cast<int>(streams.size()); ++k) {
        const bool one = streams.size() == 1;
        int& s = p.links[l].streams[static_cast<size_t>(k)];
        const std::string send = one ? fmt::format("fpga{}_send_fifo", i - 1) : fmt::format("fpga{}_send{}_fifo", i - 1, k);
        if (const auto f = steps::send_fifo(p.links[l].ring, k, g.streams[static_cast<size_t>(s)], send))
          s = g.engines[static_cast<size_t>(insert_fifo(g, s, f->depth, f->name, unit - 1, i - 1))].outputs.at(0);
        const std::string name = one ? fmt::format("fpga{}_link_fifo", i) : fmt::format("fpga{}_link{}_fifo", i, k);
        const engines::FifoConfig fifo = steps::link_fifo(p.links[l].ring, k, name);
        insert_fifo(g, s, fifo.depth, fifo.name, unit, i);
      }
    }
    add_link("host_out", opt_.host, {g.output_stream}, nf - 1, -1);
  }

  void sum_resources_and_predict(Plan& p) const {
    for (const Engine& e : p.graph.engines) {
      FpgaPlan& f = p.fpgas[static_cast<size_t>(e.fpga)];
      p.engine_resources.push_back(pricing_.price(e));
      f.resources += p.engine_resources.back();
      f.cycles_per_image = std::max(f.cycles_per_image, e.cycles_per_image);
      if (e.cycles_per_image > p.cycles_per_image) {
        p.cycles_per_image = e.cycles_per_image;
        p.bottleneck = fmt::format("engine {}", e.name);
      }
    }
    // The ring links' endpoints are in the FPGA tops, beside the engines.
    for (const LinkUse& l : p.links)
      if (l.kind == "ring") {
        p.fpgas[static_cast<size_t>(l.from_fpga)].resources += engines::ring_tx_resources(l.ring);
        p.fpgas[static_cast<size_t>(l.to_fpga)].resources += engines::ring_rx_resources(l.ring);
      }
    for (FpgaPlan& f : p.fpgas) {
      f.bram_blocks = pricing_.blocks(f.resources.bram18);
      f.lut_fraction = f.resources.lut / static_cast<double>(p.device.luts);
      f.bram_fraction = static_cast<double>(f.bram_blocks) / static_cast<double>(p.device.bram_blocks);
    }
    for (const LinkUse& l : p.links)
      if (l.cycles_per_image > static_cast<double>(p.cycles_per_image)) {
        p.cycles_per_image = static_cast<std::int64_t>(std::ceil(l.cycles_per_image));
        p.bottleneck = fmt::format("link {}", l.name);
      }
    p.fps = p.clock_mhz * 1e6 / static_cast<double>(p.cycles_per_image);
  }

  const Net& net_;
  const ModelWeights& w_;
  const PlanOptions& opt_;
  Pricing pricing_;
  std::vector<steps::Foldable> space_;  // empty with a fixed folding
};

// The least T in [lo, hi] for which the design fits (a larger T never needs more).
std::int64_t least_fitting(Pipeline& pipe, std::int64_t lo, std::int64_t hi) {
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (pipe.design_at(mid).ok) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

}  // namespace

Plan plan_network(const Net& net, const ModelWeights& weights, const PlanOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  check_plan_options(opt);  // every entry point: NaN, infinities, empty devices and links refused by name
  const double clock_hz = opt.device.clock_mhz * 1e6;
  // The folding space: every layer's candidate foldings with their timing (none if fixed).
  Pipeline pipe(net, weights, opt);

  // An upper bound on T that fits: the slowest folding, widened while a converter, fork or
  // link is slower still.
  std::int64_t hi;
  if (opt.folding) {
    Attempt a0 = pipe.design_at(INT64_MAX / 4);
    std::int64_t t = 1;
    for (const Engine& e : a0.graph.engines) t = std::max(t, e.cycles_per_image);
    double l = 0;
    const std::vector<std::vector<int>> crossing = cut_streams(a0.graph);
    for (size_t i = 1; i + 1 < crossing.size(); ++i)
      l = std::max(l, steps::ring_cycles(steps::ring_link(opt, a0.graph, crossing[i], "ring"), a0.graph, crossing[i]));
    hi = std::max<std::int64_t>(t, static_cast<std::int64_t>(std::ceil(l)));
  } else {
    hi = pipe.slowest();
  }
  Attempt top = pipe.design_at(hi);
  for (int i = 0; i < 64 && !top.ok && top.reason.rfind("engine ", 0) == 0; ++i) top = pipe.design_at(hi *= 2);
  for (auto [s, l] : {std::pair{top.graph.input_stream, &opt.host}, {top.graph.output_stream, &opt.host}})
    if (!top.graph.engines.empty()) hi = std::max(hi, static_cast<std::int64_t>(std::ceil(pipe.link_cycles(*l, top.graph, s))));
  top = pipe.design_at(hi);
  if (!top.ok)
    throw UserError(fmt::format("{} does not fit on {} x {} at any folding: {}", net.name.empty() ? "the network" : net.name, opt.fpgas,
                                opt.device.name, top.reason));

  // The target: clock / fps, or the least T that fits (binary search); `limit` says what stops
  // a faster design.
  std::int64_t T;
  std::string limit;
  if (opt.fps > 0) {
    T = static_cast<std::int64_t>(std::floor(clock_hz / opt.fps));
    Attempt a = T >= 1 ? pipe.design_at(T) : Attempt{};
    if (!a.ok) {
      const std::int64_t best = least_fitting(pipe, 1, hi);  // the best there is, for the message
      throw UserError(fmt::format("{} fps ({} cycles per image at {} MHz) is out of reach on {} x {}: {}; the most is {:.1f} fps",
                                  opt.fps, T, opt.device.clock_mhz, opt.fpgas, opt.device.name,
                                  T >= 1 ? a.reason : "under one cycle per image", clock_hz / static_cast<double>(best)));
    }
    limit = fmt::format("the target of {} fps", opt.fps);
  } else {
    const std::int64_t lo = opt.folding ? 1 : pipe.fastest();
    T = least_fitting(pipe, std::min(lo, hi), hi);
    if (T > 1) {
      Attempt faster = pipe.design_at(T - 1);
      limit = faster.ok ? "" : faster.reason;
    }
    if (opt.folding) limit = fmt::format("the given folding ({})", limit.empty() ? "its slowest engine" : limit);
  }
  Attempt a = pipe.design_at(T);
  return pipe.assemble(std::move(a.graph), a.cuts, limit, t0);
}

Plan plan_partition(const Net& net, const ModelWeights& weights, const PlanOptions& opt, const std::vector<int>& first_units,
                    const std::string& limit) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!opt.folding) throw InternalError("plan_partition needs a folding");
  EngineGraph g = build_engine_graph(net, weights, *opt.folding);
  const int units = static_cast<int>(g.units.size());
  if (first_units.empty() || first_units.front() != 0)
    throw UserError(fmt::format("a partition of {} must place its first layer on FPGA 0", net.name));
  for (size_t i = 1; i < first_units.size(); ++i)
    if (first_units[i] <= first_units[i - 1] || first_units[i] >= units)
      throw UserError(fmt::format("a partition of {} over {} FPGAs must give each FPGA at least one of its {} layers, in order", net.name,
                                  first_units.size(), units));
  Pipeline pipe(net, weights, opt);
  return pipe.assemble(std::move(g), first_units, limit, t0);
}

}  // namespace qdf::manager
