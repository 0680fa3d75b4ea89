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

namespace {

int count_with_prefix(const CellCounts& cells, const std::string& prefix) {
  int n = 0;
  for (const auto& [type, count] : cells)
    if (type.rfind(prefix, 0) == 0) n += count;
  return n;
}

// The cell counts of a `stat` block from its "Number of cells:" line on: lines
// "     <cell type>   <count>", up to the first line of another form.
CellCounts parse_cell_counts(const std::string& block) {
  CellCounts cells;
  std::istringstream in(block);
  std::string line;
  std::getline(in, line);
  static const std::regex cell(R"(^\s+(\$?[A-Za-z_][\w$]*)\s+(\d+)\s*$)");
  while (std::getline(in, line)) {
    std::smatch mm;
    if (std::regex_match(line, mm, cell)) cells[mm[1]] += std::stoi(mm[2]);
    else if (!line.empty() && line.find_first_not_of(' ') != std::string::npos && !cells.empty()) break;
  }
  return cells;
}

}  // namespace

int SynthResult::count_prefix(const std::string& prefix) const { return count_with_prefix(cells, prefix); }

int lut_equivalents(const CellCounts& cells) {
  static const std::map<std::string, int> lutram = {
      {"RAM32M", 4},    {"RAM64M", 4},    {"RAM32X1D", 2}, {"RAM64X1D", 2},  {"RAM128X1D", 4}, {"RAM32X1S", 1},
      {"RAM64X1S", 1},  {"RAM128X1S", 2}, {"RAM256X1S", 4}, {"RAM32M16", 8}, {"RAM64M8", 8},   {"SRL16E", 1},
      {"SRLC32E", 1}};
  int n = count_with_prefix(cells, "LUT");
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
  // A directory of this run alone: modules of one name (and different text) may be synthesized at once.
  fs::path dir = fs::path(cache_dir()) / "synth" / fmt::format("{}-{}-{:016x}", m.top, ::getpid(), h.value());
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
  // The last `stat` report: one block per module ("=== name ===") and, when there are several,
  // a "design hierarchy" block with the whole design's counts; its last "Number of cells:" is
  // the whole design's.
  const size_t report = r.log.rfind("Printing statistics");
  if (report != std::string::npos) {
    static const std::regex header(R"(\n=== (\S+) ===\n)");  // not "=== design hierarchy ==="
    const std::string text = r.log.substr(report);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), header); it != std::sregex_iterator(); ++it) {
      // A module instanced with parameters is reported as $paramod\NAME\PARAM=VALUE...: by NAME.
      std::string name = (*it)[1];
      if (name.rfind("$paramod\\", 0) == 0) name = name.substr(9, name.find('\\', 9) - 9);
      const size_t at = text.find("Number of cells:", static_cast<size_t>(it->position()));
      if (at != std::string::npos) r.module_cells[name] = parse_cell_counts(text.substr(at));
    }
  }
  if (size_t at = r.log.rfind("Number of cells:"); at != std::string::npos) r.cells = parse_cell_counts(r.log.substr(at));
  for (const auto& [type, count] : r.cells)
    if (type.find("dlatch") != std::string::npos || type == "$sr" || type.rfind("LD", 0) == 0 ||
        type.find("_DLATCH") != std::string::npos)
      r.latches += count;
  if (r.log.find("Latch inferred") != std::string::npos) r.latches = std::max(r.latches, 1);
  fs::remove_all(dir);
  return r;
}

}  // namespace qdf::dsl
