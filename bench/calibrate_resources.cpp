// Calibrates the resource model: synthesizes the calibration sample with Yosys synth_xilinx,
// fits the per-feature LUT costs (least squares on relative error, costs kept non-negative), and
// prints the fitted costs and the table of model vs Yosys kept in docs/resource_model.md.
#include "dsl/estimate_resources.hpp"
#include "dsl/passes.hpp"
#include "dsl/yosys_runner.hpp"
#include "engines/calibration_samples.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <iostream>

using namespace qdf;

namespace {

std::vector<double> row_of(const dsl::ResourceFeatures& f) {
  return {1.0,        f.arith_bits,    f.arith_const_bits, f.compare_bits, f.compare_select_bits, f.equal_bits, f.compare_const_bits,
          f.mux_bits, f.logic_bits,    f.popcount_bits,    f.rom_lut_bits, f.ram_lut_bits,
          f.mul_bits, f.out_buffer_bits, f.ports};
}

}  // namespace

int main(int argc, char** argv) {
  const bool fit = argc > 1 && std::string(argv[1]) == "--fit";
  auto samples = engines::calibration_samples();
  std::vector<std::vector<double>> rows;
  std::vector<double> actual;
  std::vector<dsl::SynthResult> synth;
  std::cerr << "synthesizing " << samples.size() << " engines with " << dsl::yosys_version() << "\n";
  for (auto& s : samples) {
    dsl::Kernel k = dsl::compile_kernel(s.kernel);
    dsl::SynthResult r = dsl::yosys_synth(dsl::emit_verilog(k), dsl::SynthFlow::Xilinx);
    if (!r.ok) {
      std::cerr << "yosys failed on " << s.engine << " " << s.config << "\n" << r.log << "\n";
      return 1;
    }
    rows.push_back(row_of(dsl::resource_features(k)));
    actual.push_back(r.lut_equivalents());
    synth.push_back(r);
    std::cerr << "  " << s.engine << " " << s.config << ": " << actual.back() << " LUTs\n";
  }
  std::vector<double> cost = row_of(dsl::ResourceFeatures{});
  const auto& c0 = dsl::lut_costs();
  cost = {c0.fixed, c0.arith, c0.arith_const, c0.compare, c0.compare_select, c0.equal, c0.compare_const, c0.mux, c0.logic,
          c0.popcount, c0.rom, c0.ram, c0.mul, c0.out_buffer, c0.port};
  if (fit) {
    // Ridge regression on relative error, pulled towards physical priors (LUTs per unit on a
    // 6-input-LUT fabric: an adder bit is one LUT, a 2:1 mux bit one LUT, a popcount input
    // bit 2.5 LUTs of adder tree (a balanced tree of exact-width adders has about 2.6 adder
    // bits per input bit at every width), a chained compare-and-select bit 3 (its carry-chain
    // LUT and a mux LUT for each of its two selected operands), the 32-bit image counter and
    // its comparison with the run's length about 60), so that features that always come
    // together are not traded against each other.
    const std::vector<double> prior = {60, 1.0, 0.5, 1.0, 3.0, 0.35, 0.2, 0.8, 0.4, 2.5, 1.0, 1.0, 1.0, 1.5, 4.0};
    const double lambda = 0.3;
    const int n = static_cast<int>(rows.size()), m = static_cast<int>(prior.size());
    Eigen::MatrixXd A = Eigen::MatrixXd::Zero(n + m, m);
    Eigen::VectorXd b = Eigen::VectorXd::Zero(n + m);
    // Relative errors, those of engines over 1,000 LUTs weighed up by the fourth root of their
    // size in thousands of LUTs: a plan's budget goes to its wide engines.
    for (int i = 0; i < n; ++i) {
      const double y = actual[static_cast<size_t>(i)], weight = std::pow(std::max(1.0, y / 1000.0), 0.25);
      for (int j = 0; j < m; ++j) A(i, j) = weight * rows[static_cast<size_t>(i)][static_cast<size_t>(j)] / y;
      b(i) = weight;
    }
    for (int j = 0; j < m; ++j) {  // in units of the prior: (c_j / prior_j - 1) * sqrt(lambda)
      A(n + j, j) = std::sqrt(lambda) / prior[static_cast<size_t>(j)];
      b(n + j) = std::sqrt(lambda);
    }
    Eigen::VectorXd x = A.colPivHouseholderQr().solve(b);
    for (int j = 0; j < m; ++j) cost[static_cast<size_t>(j)] = std::max(0.0, x(j));
    std::cout << "fitted LUT costs {fixed, arith, arith_const, compare, compare_select, equal, compare_const, mux, logic, popcount, rom, ram, "
                 "mul, out_buffer, port}:\n  {";
    for (size_t j = 0; j < cost.size(); ++j) std::cout << fmt::format("{}{:.3f}", j ? ", " : "", cost[j]);
    std::cout << "}\n\n";
  }
  std::cout << "| engine | configuration | LUT model | LUT Yosys | error | FF model | FF Yosys | BRAM18 model | BRAM Yosys |\n";
  std::cout << "|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  double worst = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    double model = 0;
    for (size_t j = 0; j < cost.size(); ++j) model += cost[j] * rows[i][j];
    double err = (model - actual[i]) / actual[i];
    worst = std::max(worst, std::abs(err));
    dsl::Kernel k = dsl::compile_kernel(samples[i].kernel);
    dsl::Resources r = dsl::estimate_resources(k);
    int ff = synth[i].count_prefix("FD");
    int bram = synth[i].count_prefix("RAMB18") + 2 * synth[i].count_prefix("RAMB36");
    std::cout << fmt::format("| {} | {} | {:.0f} | {:.0f} | {:+.1f}% | {:.0f} | {} | {} | {} |\n", samples[i].engine,
                             samples[i].config, model, actual[i], 100 * err, r.ff, ff, r.bram18, bram);
  }
  std::cout << fmt::format("\nlargest LUT error: {:.1f}%\n", 100 * worst);
  return 0;
}
