// FPGA device models: the resource budget and default clock of each part the manager can map a
// network onto. Every number names its source beside it in devices.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qdf::manager {

struct Device {
  std::string name;         // contains the part number, e.g. "stratix-v-5sgsd8"
  std::string description;
  std::string lut_kind;     // "ALUT" (Intel: two per ALM) or "LUT6" (Xilinx)
  std::int64_t luts = 0;    // logic LUTs (ALUTs for Intel parts)
  std::int64_t ffs = 0;     // registers
  std::int64_t bram_blocks = 0;  // block RAMs (M20K for Intel, 36 Kbit for Xilinx)
  std::int64_t bram_bits = 0;    // their capacity in bits
  std::int64_t dsps = 0;
  double clock_mhz = 0;     // default clock of the streaming engines
};

// A device whose figures are all positive (DSPs may be 0) and clock finite; else a UserError
// naming `where` ("the manifest's device") and the figure.
void check_device(const Device& d, const std::string& where);

const std::vector<Device>& devices();
// The device whose name is `name` (or contains it); a UserError listing the devices otherwise.
const Device& device(const std::string& name);

}  // namespace qdf::manager
