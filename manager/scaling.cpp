#include "manager/scaling.hpp"

#include "dsl/errors.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace qdf::manager {

ScalePoint plan_point(const Net& net, const ModelWeights& weights, const PlanOptions& o, const MeasurePlan& measure) {
  ScalePoint pt;
  pt.fpgas = o.fpgas;
  Plan p;
  try {
    p = plan_network(net, weights, o);
  } catch (const UserError& e) {
    pt.error = e.what();
    return pt;
  }
  pt.used_fpgas = static_cast<int>(p.fpgas.size());
  pt.planned_cycles = p.cycles_per_image;
  pt.cycles_per_image = static_cast<double>(p.cycles_per_image);
  if (measure) {
    std::tie(pt.measured_cycles, pt.latency_cycles) = measure(p);
    if (pt.measured_cycles > 0) pt.cycles_per_image = pt.measured_cycles;
  }
  pt.fps = p.clock_mhz * 1e6 / pt.cycles_per_image;
  for (const FpgaPlan& f : p.fpgas) {
    pt.busiest_lut = std::max(pt.busiest_lut, f.lut_fraction);
    pt.busiest_bram = std::max(pt.busiest_bram, f.bram_fraction);
  }
  for (const LinkUse& l : p.links) {
    if (l.kind == "ring") pt.ring_loads.emplace_back(l.name, l.cycles_per_image / pt.cycles_per_image);
    else pt.host_cycles = std::max(pt.host_cycles, l.cycles_per_image);
  }
  pt.bottleneck = p.bottleneck;
  pt.limit = p.limit;
  return pt;
}

ScaleStudy scale_study(const Net& net, const ModelWeights& weights, const PlanOptions& base, const std::vector<int>& fpgas,
                       const MeasurePlan& measure) {
  ScaleStudy s;
  s.net = net.name;
  s.device = base.device.name;
  s.clock_mhz = base.device.clock_mhz;
  double base_fps = 0;
  // The input stream's bits of one image over the host link (its output is far smaller).
  const Layer& in = net.layers().front();
  s.host_floor_cycles = base.host.cycles_per_element(static_cast<double>(in.out.size()) * (in.out_binary ? 1 : in.out_bits), s.clock_mhz);
  for (int k : fpgas) {
    PlanOptions o = base;
    o.fpgas = k;
    o.fps = 0;
    ScalePoint pt = plan_point(net, weights, o, measure);
    if (pt.error.empty()) {
      if (!s.base_fpgas) s.base_fpgas = k, base_fps = pt.fps;
      pt.efficiency = pt.fps / (static_cast<double>(k) / s.base_fpgas * base_fps);
      s.host_floor_cycles = std::max(s.host_floor_cycles, pt.host_cycles);  // the output, if larger
    }
    s.points.push_back(pt);
  }
  return s;
}

std::vector<int> parse_fpga_counts(const std::string& text) {
  auto number = [&](const std::string& t) {
    std::size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(t, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != t.size() || t.empty() || v < 1 || v > 64)
      throw UserError(fmt::format("--fpgas '{}': expected FPGA counts from 1 to 64 as N, A..B or a list A,B,C; '{}' is not one", text, t));
    return v;
  };
  std::vector<int> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const std::size_t dots = item.find("..");
    if (dots == std::string::npos) {
      out.push_back(number(item));
    } else {
      const int a = number(item.substr(0, dots)), b = number(item.substr(dots + 2));
      if (b < a) throw UserError(fmt::format("--fpgas '{}': the range {} is empty (write the smaller count first)", text, item));
      for (int k = a; k <= b; ++k) out.push_back(k);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string scale_table(const ScaleStudy& s) {
  const bool measured = std::any_of(s.points.begin(), s.points.end(), [](const ScalePoint& p) { return p.measured_cycles > 0; });
  std::string t = fmt::format("{} on {} at {:.0f} MHz, highest throughput that fits; the host link's floor is {:.0f} cycles per image "
                              "({:.0f} images/s)\n",
                              s.net, s.device, s.clock_mhz, s.host_floor_cycles,
                              s.host_floor_cycles > 0 ? s.clock_mhz * 1e6 / s.host_floor_cycles : 0.0);
  if (s.base_fpgas > 1)
    t += fmt::format("scaling efficiency against K = {}, the fewest FPGAs it fits: images/s(K) / (K/{} x images/s({}))\n", s.base_fpgas,
                     s.base_fpgas, s.base_fpgas);
  else
    t += "scaling efficiency: images/s(K) / (K x images/s(1))\n";
  t += fmt::format("{:>3} {:>5} {:>13} {:>10} {:>10} {:>10} {:>7} {:>7}  {:<34} {}\n", "K", "used", "cycles/image",
                   measured ? "simulated" : "", "images/s", "efficiency", "LUTs", "BRAM", "ring link loads", "limited by");
  t += fmt::format("{:>3} {:>5} {:>13} {:>10} {:>10} {:>10} {:>15}\n", "", "", "", "", "", "", "busiest FPGA");
  for (const ScalePoint& p : s.points) {
    if (!p.error.empty()) {
      t += fmt::format("{:>3} {:>5} {:>13}  {}\n", p.fpgas, "-", "-", p.error);
      continue;
    }
    std::string loads;
    for (const auto& [name, load] : p.ring_loads) loads += fmt::format("{}{:.0f}%", loads.empty() ? "" : " ", 100 * load);
    const bool host_binds = s.host_floor_cycles >= p.cycles_per_image * 0.98;
    t += fmt::format("{:>3} {:>5} {:>13} {:>10} {:>10.0f} {:>10} {:>6.1f}% {:>6.1f}%  {:<34} {}{}\n", p.fpgas, p.used_fpgas,
                     std::to_string(p.planned_cycles), p.measured_cycles > 0 ? fmt::format("{:.0f}", p.measured_cycles) : "",
                     p.fps, fmt::format("{:.2f}", p.efficiency), 100 * p.busiest_lut, 100 * p.busiest_bram,
                     loads.empty() ? "-" : loads, host_binds ? "the host link; " : "", p.limit.empty() ? p.bottleneck : p.limit);
  }
  return t;
}

nlohmann::json scale_json(const ScaleStudy& s) {
  using nlohmann::json;
  json j = {{"net", s.net},
            {"device", s.device},
            {"clock_mhz", s.clock_mhz},
            {"host_floor_cycles", s.host_floor_cycles},
            {"efficiency_base_fpgas", s.base_fpgas},
            {"points", json::array()}};
  for (const ScalePoint& p : s.points) j["points"].push_back(scale_point_json(p));
  return j;
}

nlohmann::json scale_point_json(const ScalePoint& p) {
  using nlohmann::json;
  json q = {{"fpgas", p.fpgas}};
  if (!p.error.empty()) {
    q["error"] = p.error;
  } else {
    // Ring links as a list of [name, load]: an object would sort them by name, not by place.
    json loads = json::object(), order = json::array();
    for (const auto& [name, load] : p.ring_loads) loads[name] = load, order.push_back(name);
    q.update({{"used_fpgas", p.used_fpgas},
              {"planned_cycles_per_image", p.planned_cycles},
              {"cycles_per_image", p.cycles_per_image},
              {"fps", p.fps},
              {"efficiency", p.efficiency},
              {"busiest_lut_fraction", p.busiest_lut},
              {"busiest_bram_fraction", p.busiest_bram},
              {"ring_link_loads", loads},
              {"ring_links", order},
              {"host_link_cycles_per_image", p.host_cycles},
              {"bottleneck", p.bottleneck},
              {"limit", p.limit}});
    if (p.measured_cycles > 0) q["simulated_cycles_per_image"] = p.measured_cycles, q["latency_cycles"] = p.latency_cycles;
  }
  return q;
}

ScalePoint scale_point_from_json(const nlohmann::json& q) {
  ScalePoint p;
  p.fpgas = q.at("fpgas").get<int>();
  if (q.contains("error")) {
    p.error = q.at("error").get<std::string>();
    return p;
  }
  p.used_fpgas = q.at("used_fpgas").get<int>();
  p.planned_cycles = q.at("planned_cycles_per_image").get<std::int64_t>();
  p.cycles_per_image = q.at("cycles_per_image").get<double>();
  p.fps = q.at("fps").get<double>();
  p.efficiency = q.at("efficiency").get<double>();
  p.busiest_lut = q.at("busiest_lut_fraction").get<double>();
  p.busiest_bram = q.at("busiest_bram_fraction").get<double>();
  for (const auto& name : q.at("ring_links")) p.ring_loads.emplace_back(name.get<std::string>(), q.at("ring_link_loads").at(name.get<std::string>()).get<double>());
  p.host_cycles = q.at("host_link_cycles_per_image").get<double>();
  p.bottleneck = q.at("bottleneck").get<std::string>();
  p.limit = q.at("limit").get<std::string>();
  if (q.contains("simulated_cycles_per_image"))
    p.measured_cycles = q.at("simulated_cycles_per_image").get<double>(), p.latency_cycles = q.at("latency_cycles").get<double>();
  return p;
}

}  // namespace qdf::manager
