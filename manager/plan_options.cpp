// The plan's options checked in one place, so that every way of planning (the command line, a
// user's program, a bundle's manifest) refuses the same values with the same words.
#include "dsl/errors.hpp"
#include "manager/plan.hpp"

#include <cmath>
#include <fmt/format.h>

namespace qdf::manager {

void check_plan_options(const PlanOptions& opt) {
  if (opt.fpgas < 1) throw UserError(fmt::format("--fpgas must be at least 1, found {}", opt.fpgas));
  check_device(opt.device, fmt::format("device '{}'", opt.device.name));
  if (!(std::isfinite(opt.fps) && opt.fps >= 0))
    throw UserError(fmt::format("--fps must be a finite number of images per second > 0 (or 0: the highest throughput), found {}",
                                opt.fps));
  if (!(opt.utilization > 0 && opt.utilization <= 1))
    throw UserError(fmt::format("--utilization must be a fraction in (0, 1] of each FPGA's LUTs and block RAMs, found {}",
                                opt.utilization));
  check_link(opt.ring, "--ring");
  check_link(opt.host, "--host");
  // A ring link's lane carries whole bits each cycle (engines/ring_link.hpp).
  const double ring_bits = opt.ring.bandwidth * 8 / (opt.device.clock_mhz * 1e6);
  if (opt.fpgas > 1 && ring_bits < 1)
    throw UserError(fmt::format("--ring-gbps {} gives {:.3g} bits per cycle at the {}'s {} MHz; a ring link's lane carries at least "
                                "1 bit per cycle ({} GB/s)",
                                opt.ring.bandwidth / 1e9, ring_bits, opt.device.name, opt.device.clock_mhz,
                                opt.device.clock_mhz * 1e6 / 8 / 1e9));
}

}  // namespace qdf::manager
