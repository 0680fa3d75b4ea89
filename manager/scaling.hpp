// How a network's throughput grows with the FPGAs given to it: the plan at the highest
// throughput on K = 1, 2, ... FPGAs, with its scaling efficiency, the busiest FPGA, each ring
// link's load and what limits a faster design. `qdf scale`, `qdf demo` and bench_manager print it.
#pragma once

#include "manager/plan.hpp"

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace qdf::manager {

struct ScalePoint {
  int fpgas = 0;                // FPGAs given
  std::string error;            // why no plan fits (then nothing below is set)
  int used_fpgas = 0;           // FPGAs the plan uses (the partition may leave some empty)
  std::int64_t planned_cycles = 0;   // per image, from the plan
  double measured_cycles = 0;        // per image, from a measurement (the simulator), 0 if none
  double cycles_per_image = 0;       // the measured figure if there is one, else the planned
  double fps = 0;                    // images per second at the clock
  double efficiency = 0;             // fps(K) / ((K / K0) * fps(K0)), K0 the fewest FPGAs that fit (ScaleStudy::base_fpgas)
  double latency_cycles = 0;         // of one image, measured; 0 if none
  double busiest_lut = 0, busiest_bram = 0;  // the largest fractions of one FPGA's LUTs and block RAMs
  std::vector<std::pair<std::string, double>> ring_loads;  // each ring link's busy fraction: its cycles per image / cycles per image
  double host_cycles = 0;  // the busier host link's cycles per image (input or output)
  std::string bottleneck;  // the slowest engine or link
  std::string limit;       // what stops a faster design
};

struct ScaleStudy {
  std::string net, device;
  double clock_mhz = 0;
  // The host link's floor: cycles per image to carry one image's input (and output) over the
  // host link at its bandwidth; no number of FPGAs goes below it.
  double host_floor_cycles = 0;
  // The fewest FPGAs of the study on which the network fits, against which efficiency is
  // measured (1 unless the network needs more: AlexNet's weights exceed one Stratix V's block
  // RAM); 0 when it fits on none.
  int base_fpgas = 0;
  std::vector<ScalePoint> points;
};

// Measures a plan's cycles per image and the latency of one image (e.g. by simulation).
using MeasurePlan = std::function<std::pair<double, double>(const Plan&)>;

// One plan of `net` with the options `o` (FPGAs, fps target, device, folding as given), measured
// with `measure` if set: a point whose `error` says why nothing fits, if nothing does
// (efficiency is left 0: it is a figure of a study).
ScalePoint plan_point(const Net& net, const ModelWeights& weights, const PlanOptions& o, const MeasurePlan& measure = {});

// The plans of `net` at the highest throughput on each of `fpgas` FPGAs with the options `base`
// (its fpgas and fps are set here). A K on which nothing fits is a point with an error.
ScaleStudy scale_study(const Net& net, const ModelWeights& weights, const PlanOptions& base, const std::vector<int>& fpgas,
                       const MeasurePlan& measure = {});

// "1..8", "3" or "1,2,4": FPGA counts, each >= 1 and at most 64 (a UserError otherwise).
std::vector<int> parse_fpga_counts(const std::string& text);

std::string scale_table(const ScaleStudy& s);
nlohmann::json scale_json(const ScaleStudy& s);
// One point as scale_json writes it, and back (what a point sent between processes is).
nlohmann::json scale_point_json(const ScalePoint& p);
ScalePoint scale_point_from_json(const nlohmann::json& j);

}  // namespace qdf::manager
