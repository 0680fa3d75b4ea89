// The Verilator cache (dsl/verilator_runner.hpp): an entry damaged on disk (a library truncated, a
// ROM file changed, its seal gone) is built again, not trusted; a multithreaded model is an entry
// of its own.
#include "dsl/errors.hpp"
#include "dsl/verilator_runner.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <unistd.h>

using namespace qdf;
using namespace qdf::dsl;
namespace fs = std::filesystem;

namespace {

// A module that outputs its ROM's one word, registered: q = rom[0] after a cycle.
std::vector<VerilogModule> rom_design(const std::string& word) {
  VerilogModule m;
  m.top = fmt::format("qdf_cache_check_{}", ::getpid());
  m.verilog = fmt::format(
      "module {} (input wire clk, output reg [7:0] q);\n"
      "  reg [7:0] rom [0:0];\n"
      "  initial $readmemh(\"cache_check.hex\", rom);\n"
      "  always @(posedge clk) q <= rom[0];\n"
      "endmodule\n",
      m.top);
  m.files["cache_check.hex"] = word + "\n";
  return {m};
}

std::uint64_t run_once(const BuiltLibrary& lib) {
  VerilatedDesign d(lib);
  d.eval();
  d.cycle();
  d.eval();
  return d.get(d.port("q"));
}

}  // namespace

TEST_CASE("a damaged Verilator cache entry is built again, not trusted") {
  const std::vector<DesignPort> ports = {{"q", 8, true}};
  const BuiltLibrary lib = verilator_build_library(rom_design("5a"), ports);
  CHECK(run_once(lib) == 0x5a);

  // The library truncated: loading it would fail.
  fs::resize_file(lib.so, fs::file_size(lib.so) / 2);
  const BuiltLibrary again = verilator_build_library(rom_design("5a"), ports);
  CHECK(again.so == lib.so);
  CHECK(run_once(again) == 0x5a);

  // The ROM file changed in the entry: it would run.
  std::ofstream(fs::path(lib.dir) / "cache_check.hex") << "33\n";
  CHECK(run_once(verilator_build_library(rom_design("5a"), ports)) == 0x5a);

  // The seal gone (an entry of an older qdf, or one damaged): rebuilt, then sealed again.
  fs::remove(fs::path(lib.dir) / ".seal");
  CHECK(run_once(verilator_build_library(rom_design("5a"), ports)) == 0x5a);
  CHECK(fs::exists(fs::path(lib.dir) / ".seal"));
  fs::remove_all(lib.dir);
}

TEST_CASE("a multithreaded model (Verilator --threads) is an entry of its own and runs as the single-threaded one") {
  const std::vector<DesignPort> ports = {{"q", 8, true}};
  const BuiltLibrary one = verilator_build_library(rom_design("6b"), ports);
  const BuiltLibrary two = verilator_build_library(rom_design("6b"), ports, 2);
  CHECK(two.dir != one.dir);
  CHECK(run_once(one) == 0x6b);
  CHECK(run_once(two) == 0x6b);
  CHECK_THROWS_AS(verilator_build_library(rom_design("6b"), ports, 0), InternalError);
  fs::remove_all(one.dir);
  fs::remove_all(two.dir);
}
