// `qdf sweep`: a design-space sweep of a network over devices, FPGA counts, fps targets (and the
// highest throughput) and foldings. Each point is one plan (manager::plan_point, as `qdf scale`
// plans), measured in the simulator (timing only, steady state) when asked; under an MPI job the
// points are dealt over the ranks and gathered back in order, so the output is the same on any
// number of ranks.
#pragma once

#include "host/design/compile_flow.hpp"
#include "host/distributed/ranks.hpp"
#include "manager/scaling.hpp"

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace qdf::host {

struct SweepRequest {
  CompileRequest base;               // the network, its weights, links and utilization (device, fpgas, fps and folding: below)
  std::vector<std::string> devices;  // device names as given (manager::device resolves each)
  std::vector<int> fpgas;            // FPGA counts
  std::vector<double> fps;           // targets in images/s; 0: the highest throughput that fits
  std::vector<std::string> foldings; // folding files; "" the folding search
  bool simulate = false;             // each plan timed in the simulator, steady state
  int threads = 0;                   // points planned (and timed) at once: 0 = every core, else 1 .. 256
};

// The flags' lists, each a UserError naming its flag when empty or when an item is bad:
// `--device A,B` (devices of `qdf devices`, resolved to their full names), `--fps 1000,max`
// (targets > 0, `max` the highest throughput), `--folding F,G` (files; `search` the folding
// search). FPGA counts are manager::parse_fpga_counts's.
std::vector<std::string> parse_device_list(const std::string& text);
std::vector<double> parse_fps_list(const std::string& text);
std::vector<std::string> parse_folding_list(const std::string& text);

struct SweepPoint {
  std::string device, folding;  // folding: the file, "" the search
  double fps_target = 0;        // 0: the highest throughput
  manager::ScalePoint plan;     // its error says why nothing fits
};

struct SweepStudy {
  std::string net;
  bool simulated = false;
  std::vector<SweepPoint> points;  // devices, then foldings, then fps targets, then FPGA counts, each in the order given
};

// Plans every point (dealt over `ranks`, gathered to rank 0 in order): rank 0 gets the whole
// study, the other ranks an empty one.
SweepStudy sweep(const SweepRequest& r, const Ranks& ranks = Ranks{});

std::string sweep_table(const SweepStudy& s);
nlohmann::json sweep_json(const SweepStudy& s);

}  // namespace qdf::host
