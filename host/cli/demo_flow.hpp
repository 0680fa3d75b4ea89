// `qdf demo`, the main job: the shipped Fashion-MNIST network end to end.
//   1. compile it for several FPGAs (fold, partition, bundle);
//   2. classify the Fashion-MNIST test images in the simulator: accuracy, images/s and latency at
//      the clock, resources per FPGA;
//   3. run a sample of them through the RTL under Verilator and the reference model, and show
//      that all three give identical predictions;
//   4. predict the throughput of resnet18 on 1..N FPGAs of the paper's platform (timing-only
//      simulation of each plan).
// The bundle and the reports (report.txt, report.json) go to one directory, written when the
// demo has finished (nothing is left there if it fails).
#pragma once

#include <iosfwd>
#include <string>

namespace qdf::host {

struct DemoOptions {
  std::string net = "fashion-cnv";  // a built-in network with a shipped model
  std::string out = "qdf-demo";
  int fpgas = 2;
  std::string device = "zynq-7000-xc7z020";
  std::int64_t images = 0;          // test images through the simulator (0: all 10,000)
  int rtl_images = 200;             // of which the first n also through the RTL and the reference model
  std::string scaling_net = "resnet18";
  std::string scaling_device = "stratix-v-5sgsd8";
  int scaling_fpgas = 8;            // 1..n FPGAs (0: skip step 4)
};

// Returns the exit status: 0 when the backends agree, 3 when they do not.
int run_demo(const DemoOptions& o, std::ostream& out);

}  // namespace qdf::host
