#include "manager/plan.hpp"

#include "dsl/errors.hpp"
#include "dsl/hash.hpp"

#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <mutex>
#include <nlohmann/json.hpp>

namespace qdf::manager {

PlanOptions::PlanOptions() : device(devices().front()), ring(default_link("ring")), host(default_link("host")) {}

namespace {

std::vector<int> divisors(int n) {
  std::vector<int> d;
  for (int i = 1; i <= n; ++i)
    if (n % i == 0) d.push_back(i);
  return d;
}

// Weight ROM words of an MVTU folding; the search leaves out foldings whose ROM tables would be
// too big to build (over 4M words: SIMD under about MW*MH/4M, millions of cycles per image).
constexpr std::int64_t kMaxRomWords = std::int64_t{1} << 22;

}  // namespace

std::vector<LayerFolding> folding_candidates(const Layer& l) {
  std::vector<LayerFolding> out;
  const int bits = l.in_binary ? 1 : l.in_bits;
  switch (l.kind) {
    case LayerKind::Conv:
    case LayerKind::FullyConnected: {
      const bool conv = l.kind == LayerKind::Conv;
      const std::int64_t mw = conv ? static_cast<std::int64_t>(l.k) * l.k * l.in.c : l.in.size();
      std::vector<int> simds = divisors(conv ? l.in.c : static_cast<int>(mw));
      if (conv)  // several window pixels per element, all channels each
        for (int g : divisors(l.k))
          if (g > 1) simds.push_back(g * l.in.c);
      for (int simd : simds) {
        if (simd * bits > 4096) continue;
        const std::int64_t words = mw * l.out_channels / simd * ((simd + 63) / 64);
        if (words > kMaxRomWords) continue;
        for (int pe : divisors(l.out_channels))
          if (pe * (l.out_bits + 2) <= 4096) out.push_back({pe, simd});
      }
      break;
    }
    case LayerKind::MaxPool:
    case LayerKind::GlobalPool:
      for (int simd : divisors(l.in.c))
        if (simd * std::max(bits, l.out_bits) <= 4096) out.push_back({simd, simd});
      break;
    default: break;
  }
  return out;
}

namespace {

struct Candidate {
  LayerFolding f;
  std::int64_t cycles = 0;
  std::int64_t parallelism = 0;
  bool priced = false;
  dsl::Resources res;
};

struct Foldable {
  const Layer* layer = nullptr;
  const Layer* act = nullptr;
  std::vector<Candidate> candidates;  // by cycles, descending
};

// Why a target is out of reach (empty when it is not).
struct Verdict {
  bool ok = false;
  std::string reason;
  Folding folding;
  EngineGraph graph;
  std::vector<int> cuts;  // first unit of each FPGA
  std::vector<dsl::Resources> unit_res;
};

class Search {
 public:
  Search(const Net& net, const ModelWeights& w, const PlanOptions& opt) : net_(net), w_(w), opt_(opt) {
    if (!opt.folding) collect(net.layers());  // a fixed folding needs no candidates
    block_bits_ = static_cast<double>(opt.device.bram_bits) / static_cast<double>(std::max<std::int64_t>(1, opt.device.bram_blocks));
  }

  // The folding's cycles bounds: the fastest and the slowest any layer can be.
  std::int64_t fastest() const {
    std::int64_t t = 1;
    for (const Foldable& f : foldables_) t = std::max(t, f.candidates.back().cycles);
    return t;
  }
  std::int64_t slowest() const {
    std::int64_t t = 1;
    for (const Foldable& f : foldables_) t = std::max(t, f.candidates.front().cycles);
    return t;
  }

  std::int64_t blocks(int bram18) const { return static_cast<std::int64_t>(std::ceil(bram18 * 18432.0 / block_bits_)); }

  Verdict evaluate(std::int64_t T) {
    Verdict v;
    if (opt_.folding) {
      v.folding = *opt_.folding;
    } else {
      for (Foldable& f : foldables_) {
        const Candidate* best = choose(f, T);
        if (!best) {
          const Candidate& fast = f.candidates.back();
          v.reason = fmt::format("layer {} needs at least {} cycles per image (PE {}, SIMD {})", f.layer->describe(), fast.cycles,
                                 fast.f.pe, fast.f.simd);
          return v;
        }
        v.folding[f.layer->name] = best->f;
      }
    }
    v.graph = build_engine_graph(net_, w_, v.folding);
    const EngineGraph& g = v.graph;
    for (const Engine& e : g.engines)
      if (e.cycles_per_image > T) {
        v.reason = fmt::format("engine {} needs {} cycles per image", e.name, e.cycles_per_image);
        return v;
      }
    for (auto [s, what] : {std::pair{g.input_stream, "in"}, {g.output_stream, "out"}}) {
      const double c = link_cycles(opt_.host, s, g);
      if (c > static_cast<double>(T)) {
        v.reason = fmt::format("the host link ({}) needs {:.0f} cycles per image to carry the network's {}put", opt_.host.name, c, what);
        return v;
      }
    }
    // Resources per unit.
    for (const Unit& u : g.units) {
      dsl::Resources r;
      for (int e : u.engines) r += price(g.engines[static_cast<size_t>(e)]);
      v.unit_res.push_back(r);
    }
    partition(v, T);
    return v;
  }

  double link_cycles(const Link& link, int stream, const EngineGraph& g) const {
    const StreamEdge& s = g.streams[static_cast<size_t>(stream)];
    return static_cast<double>(s.elements) * link.cycles_per_element(s.width(), opt_.device.clock_mhz);
  }

  // Resources of an engine, estimated once per process for each configuration and content
  // (a sweep over FPGA counts or targets prices each engine once).
  dsl::Resources price(const Engine& e) {
    dsl::Fnv1a h;
    if (e.weights)
      for (std::uint64_t w : e.weights->words) h.add(w);
    if (e.thresholds) {
      for (std::int64_t t : e.thresholds->t) h.add(static_cast<std::uint64_t>(t));
      for (std::uint8_t f : e.thresholds->flip) h.add(std::uint64_t{f});
    }
    const std::string key = fmt::format("{}/{}/{:016x}", e.name, engine_config_json(e).dump(), h.value());
    static std::mutex mutex;
    static std::map<std::string, dsl::Resources> cache;
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = cache.find(key);
      if (it != cache.end()) return it->second;
    }
    dsl::Resources r = engine_resources(e);
    std::lock_guard<std::mutex> lock(mutex);
    cache.emplace(key, r);
    return r;
  }

 private:
  void collect(const std::vector<Layer>& ls) {
    for (size_t i = 0; i < ls.size(); ++i) {
      const Layer& l = ls[i];
      if (l.kind == LayerKind::Residual) {
        collect(l.main);
        collect(l.projection);
        continue;
      }
      if (l.kind != LayerKind::Conv && l.kind != LayerKind::FullyConnected && l.kind != LayerKind::MaxPool &&
          l.kind != LayerKind::GlobalPool)
        continue;
      Foldable f;
      f.layer = &l;
      if ((l.kind == LayerKind::Conv || l.kind == LayerKind::FullyConnected) && i + 1 < ls.size() &&
          ls[i + 1].kind == LayerKind::Activation)
        f.act = &ls[i + 1];
      for (const LayerFolding& lf : folding_candidates(l)) {
        Candidate c;
        c.f = lf;
        c.parallelism = l.kind == LayerKind::Conv || l.kind == LayerKind::FullyConnected ? std::int64_t{lf.pe} * lf.simd : lf.simd;
        for (const Engine& e : layer_engines(l, f.act, lf, w_)) c.cycles = std::max(c.cycles, e.cycles_per_image);
        f.candidates.push_back(c);
      }
      if (f.candidates.empty()) throw UserError(fmt::format("layer {} has no folding the engines support", l.describe()));
      std::stable_sort(f.candidates.begin(), f.candidates.end(),
                       [](const Candidate& a, const Candidate& b) { return a.cycles > b.cycles; });
      foldables_.push_back(std::move(f));
    }
  }

  double cost(const dsl::Resources& r) const {
    return r.lut / static_cast<double>(opt_.device.luts) +
           static_cast<double>(blocks(r.bram18)) / static_cast<double>(std::max<std::int64_t>(1, opt_.device.bram_blocks));
  }

  // The cheapest candidate within T cycles: among those of least parallelism up to twice it
  // (more parallel foldings cost more), priced by their engines.
  const Candidate* choose(Foldable& f, std::int64_t T) {
    std::int64_t least = -1;
    for (const Candidate& c : f.candidates)
      if (c.cycles <= T && (least < 0 || c.parallelism < least)) least = c.parallelism;
    if (least < 0) return nullptr;
    const Candidate* best = nullptr;
    double best_cost = 0;
    for (Candidate& c : f.candidates) {
      if (c.cycles > T || c.parallelism > 2 * least) continue;
      if (!c.priced) {
        for (const Engine& e : layer_engines(*f.layer, f.act, c.f, w_)) c.res += price(e);
        c.priced = true;
      }
      const double k = cost(c.res);
      if (!best || k < best_cost) best = &c, best_cost = k;
    }
    return best;
  }

  // Cuts the units into at most K contiguous groups (dynamic programming over cut points),
  // minimising the load of the most loaded FPGA; a cut is allowed only where the ring link
  // carries the stream within T cycles per image.
  void partition(Verdict& v, std::int64_t T) {
    const EngineGraph& g = v.graph;
    const int n = static_cast<int>(g.units.size());
    const int K = std::max(1, std::min(opt_.fpgas, n));
    std::vector<double> lut(static_cast<size_t>(n + 1), 0);
    std::vector<std::int64_t> b18(static_cast<size_t>(n + 1), 0);
    for (int i = 0; i < n; ++i) {
      lut[static_cast<size_t>(i + 1)] = lut[static_cast<size_t>(i)] + v.unit_res[static_cast<size_t>(i)].lut;
      b18[static_cast<size_t>(i + 1)] = b18[static_cast<size_t>(i)] + v.unit_res[static_cast<size_t>(i)].bram18;
    }
    const double lut_cap = opt_.utilization * static_cast<double>(opt_.device.luts);
    const double bram_cap = opt_.utilization * static_cast<double>(opt_.device.bram_blocks);
    auto load = [&](int i, int j, int which) {  // units [i, j); which: 0 both, 1 LUT, 2 BRAM
      const double l = (lut[static_cast<size_t>(j)] - lut[static_cast<size_t>(i)]) / lut_cap;
      const double b = static_cast<double>(blocks(static_cast<int>(b18[static_cast<size_t>(j)] - b18[static_cast<size_t>(i)]))) / bram_cap;
      return which == 1 ? l : which == 2 ? b : std::max(l, b);
    };
    std::vector<bool> cut_ok(static_cast<size_t>(n + 1), true);
    for (int i = 1; i < n; ++i)
      cut_ok[static_cast<size_t>(i)] = link_cycles(opt_.ring, g.units[static_cast<size_t>(i)].input_stream, g) <= static_cast<double>(T);
    auto solve = [&](int which, std::vector<int>* cuts) {
      const double inf = 1e300;
      // best[k][j]: least max load placing units [0, j) on at most k FPGAs; from[k][j]: last cut
      std::vector<std::vector<double>> best(static_cast<size_t>(K + 1), std::vector<double>(static_cast<size_t>(n + 1), inf));
      std::vector<std::vector<int>> from(static_cast<size_t>(K + 1), std::vector<int>(static_cast<size_t>(n + 1), -1));
      best[0][0] = 0;
      for (int k = 1; k <= K; ++k) {
        best[static_cast<size_t>(k)][0] = 0;
        for (int j = 1; j <= n; ++j) {
          best[static_cast<size_t>(k)][static_cast<size_t>(j)] = best[static_cast<size_t>(k - 1)][static_cast<size_t>(j)];
          from[static_cast<size_t>(k)][static_cast<size_t>(j)] = -2;  // fewer FPGAs
          for (int i = 0; i < j; ++i) {
            if (i > 0 && !cut_ok[static_cast<size_t>(i)]) continue;
            const double prev = best[static_cast<size_t>(k - 1)][static_cast<size_t>(i)];
            if (prev >= inf) continue;
            const double m = std::max(prev, load(i, j, which));
            if (m < best[static_cast<size_t>(k)][static_cast<size_t>(j)] - 1e-12) {
              best[static_cast<size_t>(k)][static_cast<size_t>(j)] = m;
              from[static_cast<size_t>(k)][static_cast<size_t>(j)] = i;
            }
          }
        }
      }
      if (cuts) {
        cuts->clear();
        int k = K, j = n;
        while (j > 0) {
          int i = from[static_cast<size_t>(k)][static_cast<size_t>(j)];
          if (i == -2) {
            --k;
            continue;
          }
          cuts->insert(cuts->begin(), i);
          j = i;
          --k;
        }
      }
      return best[static_cast<size_t>(K)][static_cast<size_t>(n)];
    };
    const double worst = solve(0, &v.cuts);
    if (worst <= 1.0) {
      v.ok = true;
      return;
    }
    // Name what does not fit: a unit alone, the LUTs, the block RAMs, or the links.
    for (int i = 0; i < n; ++i)
      if (load(i, i + 1, 0) > 1.0) {
        v.reason = fmt::format("layer {} alone needs {:.0f} LUTs and {} block RAMs, over {:.0f}% of one {}", g.units[static_cast<size_t>(i)].name,
                               v.unit_res[static_cast<size_t>(i)].lut, blocks(v.unit_res[static_cast<size_t>(i)].bram18),
                               opt_.utilization * 100, opt_.device.name);
        return;
      }
    const bool luts = solve(1, nullptr) > 1.0, brams = solve(2, nullptr) > 1.0;
    std::fill(cut_ok.begin(), cut_ok.end(), true);
    const bool links = solve(0, nullptr) <= 1.0;
    v.reason = links ? fmt::format("the ring link ({:.2g} GB/s) cannot carry the streams at the cuts that would fit {} FPGAs",
                                   opt_.ring.bandwidth / 1e9, K)
                     : fmt::format("{} over {} x {:.0f}% of a {} ({:.0f} LUTs, {} block RAMs in all)",
                                   luts && brams ? "LUTs and block RAMs"
                                   : luts        ? "LUTs"
                                   : brams       ? "block RAMs"
                                                 : "LUTs with block RAMs",
                                   K, opt_.utilization * 100, opt_.device.name, lut[static_cast<size_t>(n)],
                                   blocks(static_cast<int>(b18[static_cast<size_t>(n)])));
  }

  const Net& net_;
  const ModelWeights& w_;
  const PlanOptions& opt_;
  std::vector<Foldable> foldables_;
  double block_bits_ = 1;
};

// The plan once folding and partition are chosen: engines placed, links and their FIFOs added,
// resources and the prediction summed. `cuts`: the first unit of each FPGA.
Plan assemble_plan(Search& search, EngineGraph graph, const std::vector<int>& cuts, const PlanOptions& opt, const std::string& limit,
                   std::chrono::steady_clock::time_point t0) {
  const double clock_hz = opt.device.clock_mhz * 1e6;
  Plan p;
  p.device = opt.device;
  p.ring = opt.ring;
  p.host = opt.host;
  p.clock_mhz = opt.device.clock_mhz;
  p.limit = limit;
  p.graph = std::move(graph);
  EngineGraph& g = p.graph;
  const int nf = static_cast<int>(cuts.size());
  auto fpga_of_unit = [&](int u) {
    int f = 0;
    for (int i = 0; i < nf; ++i)
      if (u >= cuts[static_cast<size_t>(i)]) f = i;
    return f;
  };
  for (Engine& e : g.engines) e.fpga = fpga_of_unit(e.unit);
  p.fpgas.resize(static_cast<size_t>(nf));
  for (int u = 0; u < static_cast<int>(g.units.size()); ++u) p.fpgas[static_cast<size_t>(fpga_of_unit(u))].units.push_back(u);
  // Links: host in, ring between neighbours (a FIFO at the receiving end holds the elements in
  // flight: credits for a round trip), host out.
  auto add_link = [&](const std::string& name, const Link& l, int stream, int from, int to) {
    LinkUse u;
    u.name = name;
    u.kind = l.name;
    u.stream = stream;
    u.from_fpga = from;
    u.to_fpga = to;
    u.bits_per_image = static_cast<double>(g.streams[static_cast<size_t>(stream)].elements * g.streams[static_cast<size_t>(stream)].width());
    u.cycles_per_image = search.link_cycles(l, stream, g);
    u.latency_cycles = l.latency_cycles(p.clock_mhz);
    p.links.push_back(u);
  };
  add_link("host_in", opt.host, g.input_stream, -1, 0);
  for (int i = 1; i < nf; ++i) {
    const int stream = g.units[static_cast<size_t>(cuts[static_cast<size_t>(i)])].input_stream;
    add_link(fmt::format("ring_{}_{}", i - 1, i), opt.ring, stream, i - 1, i);
    const int depth = opt.ring.round_trip_elements(g.streams[static_cast<size_t>(stream)].width(), p.clock_mhz);
    insert_fifo(g, stream, depth, fmt::format("fpga{}_link_fifo", i));
  }
  add_link("host_out", opt.host, g.output_stream, nf - 1, -1);

  for (const Engine& e : g.engines) {
    FpgaPlan& f = p.fpgas[static_cast<size_t>(e.fpga)];
    p.engine_resources.push_back(search.price(e));
    f.resources += p.engine_resources.back();
    f.cycles_per_image = std::max(f.cycles_per_image, e.cycles_per_image);
    if (e.cycles_per_image > p.cycles_per_image) {
      p.cycles_per_image = e.cycles_per_image;
      p.bottleneck = fmt::format("engine {}", e.name);
    }
  }
  for (FpgaPlan& f : p.fpgas) {
    f.bram_blocks = search.blocks(f.resources.bram18);
    f.lut_fraction = f.resources.lut / static_cast<double>(p.device.luts);
    f.bram_fraction = static_cast<double>(f.bram_blocks) / static_cast<double>(p.device.bram_blocks);
  }
  for (const LinkUse& l : p.links)
    if (l.cycles_per_image > static_cast<double>(p.cycles_per_image)) {
      p.cycles_per_image = static_cast<std::int64_t>(std::ceil(l.cycles_per_image));
      p.bottleneck = fmt::format("link {}", l.name);
    }
  p.fps = clock_hz / static_cast<double>(p.cycles_per_image);
  p.plan_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return p;
}

}  // namespace

Plan plan_network(const Net& net, const ModelWeights& weights, const PlanOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  if (opt.fpgas < 1) throw UserError(fmt::format("--fpgas must be at least 1, found {}", opt.fpgas));
  if (opt.utilization <= 0 || opt.utilization > 1) throw UserError(fmt::format("utilization must be in (0, 1], found {}", opt.utilization));
  if (opt.fps < 0) throw UserError(fmt::format("--fps must be positive, found {}", opt.fps));
  const double clock_hz = opt.device.clock_mhz * 1e6;
  Search search(net, weights, opt);

  // The least T (cycles per image) that fits, by binary search between bounds.
  std::int64_t hi;
  if (opt.folding) {
    Verdict v0 = search.evaluate(INT64_MAX / 4);
    std::int64_t t = 1;
    for (const Engine& e : v0.graph.engines) t = std::max(t, e.cycles_per_image);
    double l = 0;
    for (const Unit& u : v0.graph.units) l = std::max(l, search.link_cycles(opt.ring, u.input_stream, v0.graph));
    hi = std::max<std::int64_t>(t, static_cast<std::int64_t>(std::ceil(l)));
  } else {
    hi = search.slowest();
  }
  // Slower engines than the folded layers (converters, forks) and links can set T: widen hi.
  Verdict top = search.evaluate(hi);
  for (int i = 0; i < 64 && !top.ok && top.reason.rfind("engine ", 0) == 0; ++i) top = search.evaluate(hi *= 2);
  for (auto [s, l] : {std::pair{top.graph.input_stream, &opt.host}, {top.graph.output_stream, &opt.host}})
    if (!top.graph.engines.empty()) hi = std::max(hi, static_cast<std::int64_t>(std::ceil(search.link_cycles(*l, s, top.graph))));
  top = search.evaluate(hi);
  if (!top.ok)
    throw UserError(fmt::format("{} does not fit on {} x {} at any folding: {}", net.name.empty() ? "the network" : net.name, opt.fpgas,
                                opt.device.name, top.reason));
  std::int64_t T;
  std::string limit;
  if (opt.fps > 0) {
    T = static_cast<std::int64_t>(std::floor(clock_hz / opt.fps));
    Verdict v = T >= 1 ? search.evaluate(T) : Verdict{};
    if (!v.ok) {
      std::int64_t lo = 1, h = hi;  // the best there is, for the message
      while (lo < h) {
        std::int64_t mid = lo + (h - lo) / 2;
        if (search.evaluate(mid).ok) h = mid;
        else lo = mid + 1;
      }
      throw UserError(fmt::format("{} fps ({} cycles per image at {} MHz) is out of reach on {} x {}: {}; the most is {:.1f} fps",
                                  opt.fps, T, opt.device.clock_mhz, opt.fpgas, opt.device.name,
                                  T >= 1 ? v.reason : "under one cycle per image", clock_hz / static_cast<double>(lo)));
    }
    limit = fmt::format("the target of {} fps", opt.fps);
  } else {
    std::int64_t lo = opt.folding ? 1 : search.fastest(), h = hi;
    if (lo > h) lo = h;
    while (lo < h) {
      std::int64_t mid = lo + (h - lo) / 2;
      if (search.evaluate(mid).ok) h = mid;
      else lo = mid + 1;
    }
    T = lo;
    if (T > 1) {
      Verdict faster = search.evaluate(T - 1);
      limit = faster.ok ? "" : faster.reason;
    }
    if (opt.folding) limit = fmt::format("the given folding ({})", limit.empty() ? "its slowest engine" : limit);
  }
  Verdict v = search.evaluate(T);
  return assemble_plan(search, std::move(v.graph), v.cuts, opt, limit, t0);
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
  Search search(net, weights, opt);
  return assemble_plan(search, std::move(g), first_units, opt, limit, t0);
}

}  // namespace qdf::manager
