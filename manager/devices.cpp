#include "manager/devices.hpp"

#include "dsl/errors.hpp"

#include <cmath>
#include <fmt/format.h>

namespace qdf::manager {

const std::vector<Device>& devices() {
  static const std::vector<Device> all = {
      {
          "stratix-v-5sgsd8",
          "Intel (Altera) Stratix V GS 5SGSD8, the FPGA of Maxeler's MAX4 (Maia) dataflow engines used by Baskin et al.",
          "ALUT",
          // Stratix V Device Overview (SV51001), GS family table: 262,400 ALMs, two ALUTs each.
          524'800,
          // Same table: 1,049,600 registers (four per ALM).
          1'049'600,
          // Same table: 2,567 M20K blocks of 20,480 bits.
          2'567,
          2'567LL * 20'480,
          // Same table: 1,963 variable-precision DSP blocks (27x27).
          1'963,
          // An assumption derived from the paper: 1.85e6 clocks per ResNet-18 image in 16.1 ms
          // is a 115 MHz stream clock.
          115.0,
      },
      {
          "zynq-7000-xc7z020",
          "AMD (Xilinx) Zynq-7000 XC7Z020, the FPGA of the PYNQ-Z1 board used by FINN's BNN-PYNQ",
          "LUT6",
          // 7 Series Product Selection Guide / Zynq-7000 Product Table: 53,200 LUTs, 106,400 FFs,
          // 140 36 Kb block RAMs (4.9 Mb), 220 DSP48E1 slices.
          53'200,
          106'400,
          140,
          140LL * 36'864,
          220,
          // BNN-PYNQ runs its accelerators at 100 MHz.
          100.0,
      },
      {
          "virtex-ultrascale-plus-xcvu9p",
          "AMD (Xilinx) Virtex UltraScale+ XCVU9P (VCU118, AWS F1), a large UltraScale+ part",
          "LUT6",
          // UltraScale+ product table (DS890 / product selection guide): 1,182,240 LUTs,
          // 2,364,480 FFs, 2,160 36 Kb block RAMs (75.9 Mb), 6,840 DSP48E2 slices.
          // UltraRAM (270 Mb) is not counted as block RAM here.
          1'182'240,
          2'364'480,
          2'160,
          2'160LL * 36'864,
          6'840,
          // An assumption: 250 MHz, a common clock for streaming designs on this family.
          250.0,
      },
  };
  return all;
}

void check_device(const Device& d, const std::string& where) {
  for (auto [what, v] : {std::pair{"LUTs", d.luts}, {"flip-flops", d.ffs}, {"block RAMs", d.bram_blocks}, {"block RAM bits", d.bram_bits}})
    if (v <= 0) throw UserError(fmt::format("{}: its {} must be positive, found {}", where, what, v));
  if (d.dsps < 0) throw UserError(fmt::format("{}: its DSPs must be 0 or more, found {}", where, d.dsps));
  if (!(std::isfinite(d.clock_mhz) && d.clock_mhz > 0))
    throw UserError(fmt::format("{}: its clock must be a finite number of MHz > 0, found {}", where, d.clock_mhz));
}

const Device& device(const std::string& name) {
  const Device* found = nullptr;
  for (const Device& d : devices()) {
    if (d.name == name) return d;
    if (d.name.find(name) != std::string::npos) {
      if (found)
        throw UserError(fmt::format("device '{}' is ambiguous: it matches '{}' and '{}'", name, found->name, d.name));
      found = &d;
    }
  }
  if (found) return *found;
  std::string names;
  for (const Device& d : devices()) names += (names.empty() ? "" : ", ") + d.name;
  throw UserError(fmt::format("no device named '{}'; the devices are: {}", name, names));
}

}  // namespace qdf::manager
