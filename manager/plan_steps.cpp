// The steps of the compile pipeline: pricing, the folding space, the partition over FPGAs.
#include "manager/plan_steps.hpp"

#include "dsl/errors.hpp"
#include "dsl/hash.hpp"
#include "dsl/once_cache.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace qdf::manager {

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

namespace {

// The SIMDs of a sliding window's modes (window_mode): channel folds of a pixel, pixels of a
// window row, whole window rows.
std::vector<int> window_simds(const Layer& l) {
  std::vector<int> simds = divisors(l.in.c);
  for (int g : divisors(l.k))
    if (g > 1) simds.push_back(g * l.in.c);
  for (int r : divisors(l.k))
    if (r > 1) simds.push_back(r * l.k * l.in.c);
  return simds;
}

// The pixels per input element worth trying for a sliding window at `simd`: 1, and powers of two
// dividing W (when SIMD takes whole pixels) for as long as the reader, H*W/q elements, would
// still be slower than the writer's windows with half as many (`windows` whole windows per
// element).
std::vector<int> in_pixel_options(const Layer& l, int simd, int bits, int windows = 1) {
  std::vector<int> q{1};
  const std::optional<WindowMode> mode = window_mode(simd, l.in.c, l.k);
  if (!mode || mode->lanes != l.in.c) return q;
  const std::int64_t writer = static_cast<std::int64_t>(l.out.h) * (l.out.w / windows) * (l.k / mode->rows) * (l.k / mode->columns);
  for (int p = 2; l.in.w % p == 0 && static_cast<std::int64_t>(p) * l.in.c * bits <= 4096; p *= 2) {
    if (static_cast<std::int64_t>(l.in.h) * (l.in.w / (p / 2)) <= writer) break;
    q.push_back(p);
  }
  return q;
}

}  // namespace

std::vector<LayerFolding> folding_candidates(const Layer& l) {
  std::vector<LayerFolding> out;
  const int bits = l.in_binary ? 1 : l.in_bits;
  switch (l.kind) {
    case LayerKind::Conv:
    case LayerKind::FullyConnected: {
      const bool conv = l.kind == LayerKind::Conv;
      const std::int64_t mw = conv ? static_cast<std::int64_t>(l.k) * l.k * l.in.c : l.in.size();
      for (int simd : conv ? window_simds(l) : divisors(static_cast<int>(mw))) {
        if (simd * bits > 4096) continue;
        const std::int64_t words = mw * l.out_channels / simd * ((simd + 63) / 64);
        if (words > kMaxRomWords) continue;
        for (int q : conv ? in_pixel_options(l, simd, bits) : std::vector<int>{1})
          for (int pe : divisors(l.out_channels))
            if (pe * (l.out_bits + 2) <= 4096) out.push_back({pe, simd, q});
        // Several output pixels per element (MMV, up to 8): whole windows into an unfolded MVTU.
        if (conv && simd == mw)
          for (int m : divisors(l.out.w))
            if (m > 1 && m <= 8 && static_cast<std::int64_t>(m) * simd * bits <= 4096 &&
                static_cast<std::int64_t>(m) * l.out_channels * (l.out_bits + 2) <= 4096)
              for (int q : in_pixel_options(l, simd, bits, m)) out.push_back({l.out_channels, simd, q, m});
      }
      break;
    }
    case LayerKind::MaxPool:
      for (int simd : window_simds(l))
        if (simd * std::max(bits, l.out_bits) <= 4096)
          for (int q : in_pixel_options(l, simd, bits)) out.push_back({simd, simd, q});
      break;
    case LayerKind::GlobalPool:
      for (int simd : divisors(l.in.c))
        if (simd * std::max(bits, l.out_bits) <= 4096) out.push_back({simd, simd});
      break;
    default: break;
  }
  return out;
}

namespace steps {

Pricing::Pricing(const Device& d) : device_(d) {
  block_bits_ = static_cast<double>(d.bram_bits) / static_cast<double>(std::max<std::int64_t>(1, d.bram_blocks));
}

dsl::Resources Pricing::price(const Engine& e) const {
  dsl::Fnv1a h;
  if (e.data.weights)
    for (std::uint64_t w : e.data.weights->words) h.add(w);
  if (e.data.thresholds) {
    for (std::int64_t t : e.data.thresholds->t) h.add(static_cast<std::uint64_t>(t));
    for (std::uint8_t f : e.data.thresholds->flip) h.add(std::uint64_t{f});
  }
  const std::string key = fmt::format("{}/{}/{:016x}", e.name, engine_config_json(e).dump(), h.value());
  // Priced once per key even when several threads ask at once (a sweep plans its points in
  // parallel, and their engines are mostly alike).
  static dsl::OnceCache<dsl::Resources> prices;
  return prices.get(key, [&] { return engine_resources(e); });
}

std::int64_t Pricing::blocks(std::int64_t bram18) const {
  return static_cast<std::int64_t>(std::ceil(static_cast<double>(bram18) * 18432.0 / block_bits_));
}

double Pricing::cost(const dsl::Resources& r) const {
  return r.lut / static_cast<double>(device_.luts) +
         static_cast<double>(blocks(r.bram18)) / static_cast<double>(std::max<std::int64_t>(1, device_.bram_blocks));
}

namespace {

void collect_foldables(const std::vector<Layer>& ls, const ModelWeights& w, std::vector<Foldable>& out) {
  for (size_t i = 0; i < ls.size(); ++i) {
    const Layer& l = ls[i];
    if (l.kind == LayerKind::Residual) {
      collect_foldables(l.main, w, out);
      collect_foldables(l.projection, w, out);
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
      c.parallelism = l.kind == LayerKind::Conv || l.kind == LayerKind::FullyConnected ? std::int64_t{lf.pe} * lf.simd * lf.mmv : lf.simd;
      for (const Engine& e : layer_engines(l, f.act, lf, w)) c.cycles = std::max(c.cycles, e.cycles_per_image);
      f.candidates.push_back(c);
    }
    if (f.candidates.empty()) throw UserError(fmt::format("layer {} has no folding the engines support", l.describe()));
    std::stable_sort(f.candidates.begin(), f.candidates.end(), [](const Candidate& a, const Candidate& b) { return a.cycles > b.cycles; });
    out.push_back(std::move(f));
  }
}

}  // namespace

std::vector<Foldable> folding_space(const Net& net, const ModelWeights& w) {
  std::vector<Foldable> out;
  collect_foldables(net.layers(), w, out);
  return out;
}

const Candidate* cheapest_within(Foldable& f, std::int64_t T, const ModelWeights& w, const Pricing& pricing) {
  std::int64_t least = -1;
  for (const Candidate& c : f.candidates)
    if (c.cycles <= T && (least < 0 || c.parallelism < least)) least = c.parallelism;
  if (least < 0) return nullptr;
  const Candidate* best = nullptr;
  double best_cost = 0;
  for (Candidate& c : f.candidates) {
    if (c.cycles > T || c.parallelism > 2 * least) continue;
    if (!c.priced) {
      for (const Engine& e : layer_engines(*f.layer, f.act, c.f, w)) c.res += pricing.price(e);
      c.priced = true;
    }
    const double k = pricing.cost(c.res);
    if (!best || k < best_cost) best = &c, best_cost = k;
  }
  return best;
}

double link_cycles(const Link& link, const EngineGraph& g, int stream, double clock_mhz) {
  const StreamEdge& s = g.streams[static_cast<size_t>(stream)];
  return static_cast<double>(s.elements) * link.cycles_per_element(s.width(), clock_mhz);
}

engines::RingLinkConfig ring_link(const PlanOptions& opt, const EngineGraph& g, const std::vector<int>& streams, const std::string& name) {
  engines::RingLinkConfig c;
  c.name = name;
  c.lane_bits = engines::ring_lane_bits(opt.ring.bandwidth, opt.device.clock_mhz);
  c.latency = std::max<std::int64_t>(1, std::llround(opt.ring.latency_cycles(opt.device.clock_mhz)));
  std::vector<std::int64_t> flits;
  std::vector<int> widths;
  for (int s : streams) {
    const StreamEdge& e = g.streams[static_cast<size_t>(s)];
    c.streams.push_back({e.width(), 1});
    widths.push_back(e.width());
    flits.push_back(e.elements * ((e.width() + c.lane_bits - 1) / c.lane_bits));
  }
  c.sublanes = engines::ring_sublanes(c.lane_bits, widths, flits);
  for (int k = 0; k < static_cast<int>(c.streams.size()); ++k) c.streams[static_cast<size_t>(k)].credits = engines::ring_full_rate_credits(c, k);
  c.check();
  return c;
}

double ring_cycles(const engines::RingLinkConfig& c, const EngineGraph& g, const std::vector<int>& streams) {
  std::vector<std::int64_t> elements;
  for (int s : streams) elements.push_back(g.streams[static_cast<size_t>(s)].elements);
  return engines::ring_cycles_per_image(c, elements);
}

engines::FifoConfig link_fifo(const engines::RingLinkConfig& c, int k, const std::string& name) {
  const engines::RingStream& s = c.streams.at(static_cast<size_t>(k));
  return {.width = s.width, .depth = static_cast<int>(s.credits - 1), .name = name};
}

std::optional<engines::FifoConfig> send_fifo(const engines::RingLinkConfig& c, int k, const StreamEdge& s, const std::string& name) {
  if (engines::ring_stream_rate(c, k) >= 1) return std::nullopt;
  // A row, at most the image's elements, and at least the 2 entries a FIFO needs (a stream of one
  // element per image, as an MLP layer's at full folding, has fewer).
  const std::int64_t depth = std::max<std::int64_t>(2, std::min(s.row_elements, s.elements));
  return engines::FifoConfig{.width = s.width(), .depth = static_cast<int>(depth), .name = name};
}

Partition partition_units(const EngineGraph& g, const std::vector<dsl::Resources>& unit_res, std::int64_t T, const PlanOptions& opt,
                        const Pricing& pricing) {
  Partition v;
  const int n = static_cast<int>(g.units.size());
  const int K = std::max(1, std::min(opt.fpgas, n));
  std::vector<double> lut(static_cast<size_t>(n + 1), 0);
  std::vector<std::int64_t> b18(static_cast<size_t>(n + 1), 0);
  for (int i = 0; i < n; ++i) {
    lut[static_cast<size_t>(i + 1)] = lut[static_cast<size_t>(i)] + unit_res[static_cast<size_t>(i)].lut;
    b18[static_cast<size_t>(i + 1)] = b18[static_cast<size_t>(i)] + unit_res[static_cast<size_t>(i)].bram18;
  }
  const double lut_cap = opt.utilization * static_cast<double>(opt.device.luts);
  const double bram_cap = opt.utilization * static_cast<double>(opt.device.bram_blocks);
  // A cut before unit i > 0 brings a ring link: the FPGA whose first unit is i holds its
  // receiving endpoint and a link FIFO per stream, the FPGA before it the sending endpoint
  // (placed after the partition, counted here so that the budget holds with them).
  const std::vector<std::vector<int>> crossing = cut_streams(g);
  std::vector<dsl::Resources> recv_at(static_cast<size_t>(n + 1)), send_at(static_cast<size_t>(n + 1));
  std::vector<bool> cut_ok(static_cast<size_t>(n + 1), true);
  for (int i = 1; i < n; ++i) {
    const std::vector<int>& streams = crossing[static_cast<size_t>(i)];
    if (streams.empty()) throw InternalError(fmt::format("no stream crosses the cut before unit {}", g.units[static_cast<size_t>(i)].name));
    const engines::RingLinkConfig c = ring_link(opt, g, streams, "ring");
    dsl::Resources& r = recv_at[static_cast<size_t>(i)];
    for (int k = 0; k < static_cast<int>(streams.size()); ++k) r += engines::engine_resources(link_fifo(c, k, "link_fifo"), {});
    r += engines::ring_rx_resources(c);
    send_at[static_cast<size_t>(i)] = engines::ring_tx_resources(c);
    for (int k = 0; k < static_cast<int>(streams.size()); ++k)
      if (const auto f = send_fifo(c, k, g.streams[static_cast<size_t>(streams[static_cast<size_t>(k)])], "send_fifo"))
        send_at[static_cast<size_t>(i)] += engines::engine_resources(*f, {});
    cut_ok[static_cast<size_t>(i)] = ring_cycles(c, g, streams) <= static_cast<double>(T);
  }
  auto load = [&](int i, int j, int which) {  // units [i, j); which: 0 both, 1 LUT, 2 BRAM
    dsl::Resources links = recv_at[static_cast<size_t>(i)];
    if (j < n) links += send_at[static_cast<size_t>(j)];
    const double l = (lut[static_cast<size_t>(j)] - lut[static_cast<size_t>(i)] + links.lut) / lut_cap;
    const double b =
        static_cast<double>(pricing.blocks(b18[static_cast<size_t>(j)] - b18[static_cast<size_t>(i)] + links.bram18)) / bram_cap;
    return which == 1 ? l : which == 2 ? b : std::max(l, b);
  };
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
    return v;
  }
  // Name what does not fit: a unit alone, the LUTs, the block RAMs, or the links.
  for (int i = 0; i < n; ++i)
    if (load(i, i + 1, 0) > 1.0) {
      v.reason = fmt::format("layer {} alone needs {:.0f} LUTs and {} block RAMs, over {:.0f}% of one {}", g.units[static_cast<size_t>(i)].name,
                             unit_res[static_cast<size_t>(i)].lut, pricing.blocks(unit_res[static_cast<size_t>(i)].bram18),
                             opt.utilization * 100, opt.device.name);
      return v;
    }
  const bool luts = solve(1, nullptr) > 1.0, brams = solve(2, nullptr) > 1.0;
  std::fill(cut_ok.begin(), cut_ok.end(), true);
  const bool links = solve(0, nullptr) <= 1.0;
  // Whether the total would fit K devices: if it would, the layers are too coarse to balance.
  const bool total_fits = lut[static_cast<size_t>(n)] <= K * lut_cap &&
                          static_cast<double>(pricing.blocks(b18[static_cast<size_t>(n)])) <= K * bram_cap;
  int largest = 0;
  for (int i = 1; i < n; ++i)
    if (load(i, i + 1, 0) > load(largest, largest + 1, 0)) largest = i;
  v.reason = links        ? fmt::format("the ring link ({:.2g} GB/s) cannot carry the streams at the cuts that would fit {} FPGAs",
                                        opt.ring.bandwidth / 1e9, K)
             : total_fits ? fmt::format("the layers cannot be spread over {} x {:.0f}% of a {} ({:.0f} LUTs, {} block RAMs in all would fit, "
                                        "but not in contiguous groups; the largest layer, {}, needs {:.0f}% of one)",
                                        K, opt.utilization * 100, opt.device.name, lut[static_cast<size_t>(n)],
                                        pricing.blocks(b18[static_cast<size_t>(n)]), g.units[static_cast<size_t>(largest)].name,
                                        100 * opt.utilization * load(largest, largest + 1, 0))
                          : fmt::format("{} over {} x {:.0f}% of a {} ({:.0f} LUTs, {} block RAMs in all)",
                                 luts && brams ? "LUTs and block RAMs"
                                 : luts        ? "LUTs"
                                 : brams       ? "block RAMs"
                                               : "LUTs with block RAMs",
                                 K, opt.utilization * 100, opt.device.name, lut[static_cast<size_t>(n)],
                                 pricing.blocks(b18[static_cast<size_t>(n)]));
  return v;
}

}  // namespace steps

}  // namespace qdf::manager
