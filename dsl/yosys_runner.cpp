#include "dsl/yosys_runner.hpp"

#include "dsl/hash.hpp"
#include "dsl/verilator_runner.hpp"

#include <filesystem>
#include <fstream>
#include <fmt/format.h>
#include <regex>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace qdf::dsl {

int SynthResult::count_prefix(const std::string& prefix) const {
  int n = 0;
  for (const auto& [type, count] : cells)
    if (type.rfind(prefix, 0) == 0) n += count;
  return n;
}

int SynthResult::lut_equivalents() const {
  static const std::map<std::string, int> lutram = {
      {"RAM32M", 4},    {"RAM64M", 4},    {"RAM32X1D", 2}, {"RAM64X1D", 2},  {"RAM128X1D", 4}, {"RAM32X1S", 1},
      {"RAM64X1S", 1},  {"RAM128X1S", 2}, {"RAM256X1S", 4}, {"RAM32M16", 8}, {"RAM64M8", 8},   {"SRL16E", 1},
      {"SRLC32E", 1}};
  int n = count_prefix("LUT");
  for (const auto& [type, count] : cells)
    if (auto it = lutram.find(type); it != lutram.end()) n += it->second * count;
  return n;
}

std::string yosys_version() {
  static const std::string v = [] {
    std::string out;
    run_command(std::string(QDF_YOSYS_BIN) + " -V 2>&1", &out);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }();
  return v;
}

SynthResult yosys_synth(const VerilogModule& m, SynthFlow flow) {
  // Synthesis results are cached by everything that determines them, like Verilator builds.
  Fnv1a h;
  h.add(m.verilog);
  for (const auto& [name, text] : m.files) h.add(name).add(text);
  h.add(yosys_version()).add(flow == SynthFlow::Generic ? "generic" : "xilinx");
  fs::path cached = fs::path(cache_dir()) / "synth-logs" / fmt::format("{}-{:016x}.log", m.top, h.value());
  fs::path dir = fs::path(cache_dir()) / "synth" / fmt::format("{}-{}", m.top, ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_verilog(m, dir.string());
  // `proc` turns processes into cells; a latch there means a combinational always block that does
  // not assign in every path, which the generator must never emit.
  std::string script = flow == SynthFlow::Generic
                           ? fmt::format("read_verilog {0}.v; hierarchy -check -top {0}; synth -top {0}; stat", m.top)
                           : fmt::format("read_verilog {0}.v; hierarchy -check -top {0}; synth_xilinx -top {0} -family xc7; stat", m.top);
  SynthResult r;
  if (fs::exists(cached)) {
    std::ifstream in(cached);
    std::stringstream ss;
    ss << in.rdbuf();
    r.log = ss.str();
    r.ok = true;
  } else {
    int rc = run_command(fmt::format("cd '{}' && {} -p '{}' 2>&1", dir.string(), QDF_YOSYS_BIN, script), &r.log);
    r.ok = rc == 0;
    if (r.ok) {  // only successful runs are cached; written whole, then renamed into place
      fs::create_directories(cached.parent_path());
      fs::path tmp = cached.string() + fmt::format(".tmp.{}", ::getpid());
      std::ofstream(tmp) << r.log;
      fs::rename(tmp, cached);
    }
  }
  // Parse the last `stat` block: lines "     <count>   <cell type>" after "Number of cells:".
  size_t at = r.log.rfind("Number of cells:");
  if (at != std::string::npos) {
    std::istringstream in(r.log.substr(at));
    std::string line;
    std::getline(in, line);
    std::regex cell(R"(^\s+(\$?[A-Za-z_][\w$]*)\s+(\d+)\s*$)");
    while (std::getline(in, line)) {
      std::smatch mm;
      if (std::regex_match(line, mm, cell)) r.cells[mm[1]] = std::stoi(mm[2]);
      else if (!line.empty() && line.find_first_not_of(' ') != std::string::npos && r.cells.size() > 0) break;
    }
  }
  for (const auto& [type, count] : r.cells)
    if (type.find("dlatch") != std::string::npos || type == "$sr" || type.rfind("LD", 0) == 0 ||
        type.find("_DLATCH") != std::string::npos)
      r.latches += count;
  if (r.log.find("Latch inferred") != std::string::npos) r.latches = std::max(r.latches, 1);
  fs::remove_all(dir);
  return r;
}

}  // namespace qdf::dsl
