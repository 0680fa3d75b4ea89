#include "host/cli/sweep_flow.hpp"

#include "dsl/errors.hpp"
#include "host/cli/sim_flow.hpp"
#include "manager/devices.hpp"
#include "sim/thread_pool.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <numeric>
#include <tuple>

namespace qdf::host {

namespace {

// The items of a comma-separated list; a UserError naming `flag` when it or an item is empty.
std::vector<std::string> list_items(const std::string& text, const std::string& flag, const std::string& expected) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (out.back().empty())
      throw UserError(fmt::format("{} '{}': expected {} separated by commas; item {} is empty", flag, text, expected, out.size()));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> parse_device_list(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& d : list_items(text, "--device", "devices (see `qdf devices`)")) {
    try {
      out.push_back(manager::device(d).name);
    } catch (const UserError& e) {
      throw UserError(fmt::format("--device '{}': {}", text, e.what()));
    }
  }
  return out;
}

std::vector<double> parse_fps_list(const std::string& text) {
  std::vector<double> out;
  for (const std::string& f : list_items(text, "--fps", "targets in images per second > 0, or max")) {
    if (f == "max") {
      out.push_back(0);
      continue;
    }
    double v = 0;
    const auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (ec != std::errc{} || p != f.data() + f.size() || !std::isfinite(v) || v <= 0)
      throw UserError(fmt::format("--fps '{}': expected targets in images per second > 0, or max (the highest throughput), "
                                  "separated by commas; '{}' is not one",
                                  text, f));
    out.push_back(v);
  }
  return out;
}

std::vector<std::string> parse_folding_list(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& f : list_items(text, "--folding", "folding files (or search)")) {
    if (f != "search" && !std::filesystem::is_regular_file(f))
      throw UserError(fmt::format("--folding '{}': '{}' is not a file (expected folding files, JSON {{\"layer\": {{\"pe\": P, "
                                  "\"simd\": S}}}}, or search for the folding search)",
                                  text, f));
    out.push_back(f == "search" ? "" : f);
  }
  return out;
}

SweepStudy sweep(const SweepRequest& r, const Ranks& ranks) {
  if (r.devices.empty() || r.fpgas.empty() || r.fps.empty() || r.foldings.empty())
    throw InternalError("sweep: a request with an empty list (the flags' parsers refuse them)");
  // The inputs of each device and folding, checked on every rank before any point is planned
  // (a bad folding file is the same error on every rank, and no rank waits on another).
  struct Group {
    std::string device, folding;
    DesignInputs in;
  };
  std::vector<Group> groups;
  for (const std::string& device : r.devices)
    for (const std::string& folding : r.foldings) {
      CompileRequest c = r.base;
      c.device = device;
      c.folding = folding;
      c.fpgas = 1;
      c.fps = 0;
      groups.push_back({device, folding, design_inputs(c)});
    }
  const auto per_group = static_cast<std::int64_t>(r.fps.size() * r.fpgas.size());
  const auto points = static_cast<std::int64_t>(groups.size()) * per_group;
  // Point i, in the table's order: the indices of its group (device and folding), fps target and
  // FPGA count.
  struct At {
    size_t group, fps, fpgas;
  };
  auto at = [&](std::int64_t i) {
    const std::int64_t j = i % per_group, k = static_cast<std::int64_t>(r.fpgas.size());
    return At{static_cast<size_t>(i / per_group), static_cast<size_t>(j / k), static_cast<size_t>(j % k)};
  };
  struct Where {
    const Group* group;
    double fps;
    int fpgas;
  };
  auto where = [&](std::int64_t i) {
    const At a = at(i);
    return Where{&groups[a.group], r.fps[a.fps], r.fpgas[a.fpgas]};
  };
  auto plan_at = [&](std::int64_t i) {
    const Where w = where(i);
    manager::PlanOptions o = w.group->in.options;
    o.fpgas = w.fpgas;
    o.fps = w.fps;
    return manager::plan_point(w.group->in.net, w.group->in.weights, o,
                               r.simulate ? measure_steady_timing(w.group->in, "network " + r.base.net) : manager::MeasurePlan{});
  };
  // Dealt round-robin: the points of many FPGAs plan slower, and each rank gets some of them.
  const std::vector<std::int64_t> mine = dealt_items(points, ranks.rank(), ranks.size());
  // A rank's points on its threads, each into its own slot: the same results on any number.
  const int threads = sim::resolve_threads(r.threads);
  // The threads take them FPGA count by FPGA count (each count's fps targets one after the other),
  // so that points planned side by side are mostly of different targets: the points of one
  // target price the same foldings, and a thread would wait for the other to price them.
  std::vector<size_t> order(mine.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto fpgas_major = [&](size_t k) {
    const At a = at(mine[k]);
    return std::tuple{a.group, a.fpgas, a.fps};
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return fpgas_major(a) < fpgas_major(b); });
  const std::vector<std::string> parts = gather_work(ranks, [&] {
    std::vector<nlohmann::json> done(mine.size());
    sim::parallel_for(static_cast<int>(mine.size()), threads, [&](int t) {
      const size_t k = order[static_cast<size_t>(t)];
      done[k] = manager::scale_point_json(plan_at(mine[k]));
    });
    return nlohmann::json(done).dump();
  });
  SweepStudy s;
  if (!ranks.root()) return s;
  s.net = groups.front().in.net.name;
  s.simulated = r.simulate;
  std::vector<nlohmann::json> got;
  for (const std::string& p : parts) got.push_back(nlohmann::json::parse(p));
  for (std::int64_t i = 0; i < points; ++i) {
    // Item i went to rank i % P as its (i / P)-th (dealt_items).
    const nlohmann::json& q = got[static_cast<size_t>(i % ranks.size())].at(static_cast<size_t>(i / ranks.size()));
    const Where w = where(i);
    s.points.push_back({w.group->device, w.group->folding, w.fps, manager::scale_point_from_json(q)});
  }
  return s;
}

namespace {

std::string fps_target_text(double fps) { return fps > 0 ? fmt::format("{:g}", fps) : "max"; }

}  // namespace

std::string sweep_table(const SweepStudy& s) {
  bool foldings = false;
  for (const SweepPoint& p : s.points) foldings |= !p.folding.empty();
  std::string t = fmt::format("qdf sweep: {}, {} design points{}\n", s.net, s.points.size(),
                              s.simulated ? "; cycles per image simulated (timing only, steady state)" : "; cycles per image as planned");
  t += fmt::format("{:<24} {:>3} {:>10} {:>13} {:>12} {:>7} {:>7}  {:<5}", "device", "K", "fps target", "cycles/image", "images/s", "LUTs",
                   "BRAM", "fits");
  if (foldings) t += fmt::format(" {:<20}", "folding");
  t += "  limited by / why not\n";
  for (const SweepPoint& p : s.points) {
    const manager::ScalePoint& q = p.plan;
    const std::string folding = foldings ? fmt::format(" {:<20}", p.folding.empty() ? "search" : p.folding) : "";
    if (!q.error.empty()) {
      t += fmt::format("{:<24} {:>3} {:>10} {:>13} {:>12} {:>7} {:>7}  {:<5}{}  {}\n", p.device, q.fpgas, fps_target_text(p.fps_target), "-",
                       "-", "-", "-", "no", folding, q.error);
      continue;
    }
    t += fmt::format("{:<24} {:>3} {:>10} {:>13.0f} {:>12.1f} {:>6.1f}% {:>6.1f}%  {:<5}{}  {}\n", p.device, q.fpgas,
                     fps_target_text(p.fps_target), q.cycles_per_image, q.fps, 100 * q.busiest_lut, 100 * q.busiest_bram, "yes",
                     folding, q.limit.empty() ? q.bottleneck : q.limit);
  }
  return t;
}

nlohmann::json sweep_json(const SweepStudy& s) {
  nlohmann::json j = {{"net", s.net}, {"simulated", s.simulated}, {"points", nlohmann::json::array()}};
  for (const SweepPoint& p : s.points) {
    nlohmann::json q = manager::scale_point_json(p.plan);
    q.erase("efficiency");  // a figure of a scaling study, not of one point
    q["device"] = p.device;
    q["fps_target"] = p.fps_target > 0 ? nlohmann::json(p.fps_target) : nlohmann::json("max");
    q["folding"] = p.folding.empty() ? "search" : p.folding;
    q["fits"] = p.plan.error.empty();
    j["points"].push_back(q);
  }
  return j;
}

}  // namespace qdf::host
