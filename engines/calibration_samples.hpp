// The sample of engine configurations on which the resource model is calibrated against Yosys
// (bench/calibrate_resources) and checked (tests/engines/test_resources.cpp).
#pragma once

#include "dsl/ir.hpp"

#include <string>
#include <vector>

namespace qdf::engines {

struct CalibrationSample {
  std::string engine;  // engine kind, for the table
  std::string config;  // its parameters, for the table
  dsl::Kernel kernel;  // recorded
  // Thousands of lanes, as the planned designs have: minutes of Yosys each, so the benchmark
  // (bench/calibrate_resources) synthesizes them and the unit test leaves them out.
  bool wide = false;
};

std::vector<CalibrationSample> calibration_samples();

}  // namespace qdf::engines
