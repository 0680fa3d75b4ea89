#include "dsl/verilator_runner.hpp"

#include "dsl/bits.hpp"
#include "dsl/errors.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace qdf::dsl {
namespace {

// The part of every testbench that does not depend on the kernel. Port access is generic over
// Verilator's port types (CData/SData/IData/QData for up to 64 bits, VlWide for wider).
constexpr const char* kTestbenchCommon = R"TB(
#include "verilated.h"
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

template <class T> static void put(T& port, const uint64_t* w) { port = static_cast<T>(w[0]); }
template <std::size_t N> static void put(VlWide<N>& port, const uint64_t* w) {
  for (std::size_t i = 0; i < N; ++i) port[i] = static_cast<uint32_t>(w[i / 2] >> (32 * (i % 2)));
}
template <class T> static void get(const T& port, uint64_t* w) { w[0] = static_cast<uint64_t>(port); }
template <std::size_t N> static void get(const VlWide<N>& port, uint64_t* w) {
  for (std::size_t i = 0; i < (N + 1) / 2; ++i) w[i] = 0;
  for (std::size_t i = 0; i < N; ++i) w[i / 2] |= static_cast<uint64_t>(port[i]) << (32 * (i % 2));
}

struct InPort {
  std::string name; int words; std::function<void(const uint64_t*)> set; CData* valid; CData* ready;
  std::vector<uint64_t> data; size_t next = 0;
};
struct OutPort {
  std::string name; int words; std::function<void(uint64_t*)> read; CData* valid; CData* ready;
  std::vector<uint64_t> data;
};
struct ScalarPort { std::string name; int words; std::function<void(const uint64_t*)> set; };

// xorshift64*: the same sequence on every machine
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed ? seed : 0x9e3779b97f4a7c15ull) {}
  double uniform() { s ^= s >> 12; s ^= s << 25; s ^= s >> 27; return double((s * 2685821657736338717ull) >> 11) / 9007199254740992.0; }
};

static std::vector<uint64_t> parse_words(std::istringstream& in, int words) {
  std::vector<uint64_t> w(static_cast<size_t>(words), 0);
  for (int i = 0; i < words; ++i) { std::string h; in >> h; w[static_cast<size_t>(i)] = std::stoull(h, nullptr, 16); }
  return w;
}

template <class Top>
static int run_testbench(Top* top, VerilatedContext* ctx, std::vector<InPort>& ins, std::vector<OutPort>& outs,
                         std::vector<ScalarPort>& scalars, const char* stim_path, const char* out_path) {
  std::ifstream stim(stim_path);
  uint64_t ticks = 0, seed = 1, max_cycles = 0; double gap = 0, stall = 0;
  std::string line;
  while (std::getline(stim, line)) {
    std::istringstream in(line); std::string key; in >> key;
    if (key == "ticks") in >> ticks;
    else if (key == "seed") in >> seed;
    else if (key == "gap") in >> gap;
    else if (key == "stall") in >> stall;
    else if (key == "max_cycles") in >> max_cycles;
    else if (key == "scalar") {
      std::string name; in >> name;
      for (auto& s : scalars) if (s.name == name) { auto w = parse_words(in, s.words); s.set(w.data()); }
    } else if (key == "in") {
      std::string name; in >> name;
      for (auto& p : ins) if (p.name == name) { auto w = parse_words(in, p.words); p.data.insert(p.data.end(), w.begin(), w.end()); }
    }
  }
  Rng rng(seed);
  top->ticks = ticks;
  top->clk = 0; top->rst = 1;
  for (auto& p : ins) *p.valid = 0;
  for (auto& p : outs) *p.ready = 0;
  for (int i = 0; i < 4; ++i) { top->clk = 0; top->eval(); top->clk = 1; top->eval(); }
  top->clk = 0; top->rst = 0; top->eval();
  auto present = [&](InPort& p) {
    size_t n = p.data.size() / static_cast<size_t>(p.words);
    if (p.next < n && rng.uniform() >= gap) { p.set(&p.data[p.next * static_cast<size_t>(p.words)]); *p.valid = 1; }
    else *p.valid = 0;
  };
  for (auto& p : ins) present(p);
  uint64_t cycles = 0;
  bool done = false;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<uint64_t> buf(1024);
  while (!done && cycles < max_cycles) {
    for (auto& p : outs) *p.ready = rng.uniform() >= stall;
    top->eval();
    done = top->done;
    if (done) break;
    std::vector<char> took(ins.size(), 0);
    for (size_t i = 0; i < ins.size(); ++i) took[i] = *ins[i].valid && *ins[i].ready;
    for (auto& p : outs) if (*p.valid && *p.ready) { p.read(buf.data()); p.data.insert(p.data.end(), buf.begin(), buf.begin() + p.words); }
    top->clk = 1; top->eval(); ctx->timeInc(1);
    top->clk = 0; top->eval(); ctx->timeInc(1);
    ++cycles;
    for (size_t i = 0; i < ins.size(); ++i) {
      if (took[i]) { ++ins[i].next; present(ins[i]); }
      else if (!*ins[i].valid) present(ins[i]);  // a valid element stays until it is taken
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::ofstream out(out_path);
  out << "cycles " << cycles << "\ndone " << (done ? 1 : 0) << "\nseconds " << secs << "\n";
  for (auto& p : ins) out << "consumed " << p.name << " " << p.next << "\n";
  for (auto& p : outs) {
    size_t n = p.data.size() / static_cast<size_t>(p.words);
    out << "out " << p.name << " " << n << "\n";
    char hex[24];
    for (size_t i = 0; i < n; ++i) {
      for (int j = 0; j < p.words; ++j) { std::snprintf(hex, sizeof hex, "%llx", (unsigned long long)p.data[i * p.words + j]); out << (j ? " " : "") << hex; }
      out << "\n";
    }
  }
  return out ? 0 : 1;
}
)TB";

std::string testbench_for(const VerilogModule& m, const Kernel& k) {
  std::string tb = fmt::format("// Generated by qdf: testbench for module {}\n#include \"V{}.h\"\n", m.top, m.top);
  tb += kTestbenchCommon;
  tb += fmt::format("int main(int argc, char** argv) {{\n  if (argc != 3) return 2;\n"
                    "  auto* ctx = new VerilatedContext;\n  auto* top = new V{0}{{ctx}};\n"
                    "  std::vector<InPort> ins; std::vector<OutPort> outs; std::vector<ScalarPort> scalars;\n",
                    m.top);
  for (NodeId s : k.scalars) {
    const std::string& nm = m.names.at(s);
    tb += fmt::format("  scalars.push_back({{\"{0}\", {1}, [&](const uint64_t* w) {{ put(top->{2}, w); }}}});\n",
                      k.at(s).name, words_of(k.at(s).type), nm);
  }
  for (NodeId i : k.inputs) {
    const std::string& nm = m.names.at(i);
    tb += fmt::format(
        "  ins.push_back({{\"{0}\", {1}, [&](const uint64_t* w) {{ put(top->{2}_data, w); }}, &top->{2}_valid, "
        "&top->{2}_ready}});\n",
        k.at(i).name, words_of(k.at(i).type), nm);
  }
  for (NodeId o : k.outputs) {
    const std::string& nm = m.names.at(o);
    tb += fmt::format(
        "  outs.push_back({{\"{0}\", {1}, [&](uint64_t* w) {{ get(top->{2}_data, w); }}, &top->{2}_valid, "
        "&top->{2}_ready}});\n",
        k.at(o).name, words_of(k.at(o).type), nm);
  }
  tb += "  int rc = run_testbench(top, ctx, ins, outs, scalars, argv[1], argv[2]);\n"
        "  top->final(); delete top; delete ctx; return rc;\n}\n";
  return tb;
}

std::uint64_t fnv(const std::string& s, std::uint64_t h = 0xcbf29ce484222325ull) {
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

const char* kCxxFlags = "-std=c++20 -O1 -faligned-new -fcf-protection=none -w -DVM_COVERAGE=0 -DVM_SC=0 "
                        "-DVM_TRACE=0 -DVM_TRACE_FST=0 -DVM_TRACE_VCD=0";

std::string quote(const std::string& s) { return "'" + s + "'"; }

// Moves a finished temporary directory into place; if another process won, keeps theirs.
void publish(const fs::path& tmp, const fs::path& final_dir) {
  std::error_code ec;
  fs::rename(tmp, final_dir, ec);
  if (ec) fs::remove_all(tmp, ec);
}

fs::path temp_beside(const fs::path& final_dir) {
  return final_dir.string() + fmt::format(".tmp.{}", ::getpid());
}

// The Verilator runtime (verilated.cpp, verilated_threads.cpp) compiled once per cache.
std::string runtime_library() {
  fs::path dir = fs::path(cache_dir()) / fmt::format("verilator-runtime-{:016x}", fnv(verilator_version() + kCxxFlags));
  fs::path lib = dir / "libverilated.a";
  if (fs::exists(lib)) return lib.string();
  fs::path tmp = temp_beside(dir);
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  std::string root = QDF_VERILATOR_ROOT;
  std::string objs;
  for (const char* src : {"verilated", "verilated_threads"}) {
    std::string cmd = fmt::format("{} {} -I{}/include -I{}/include/vltstd -c {}/include/{}.cpp -o {}/{}.o 2>&1", QDF_CXX,
                                  kCxxFlags, root, root, root, src, tmp.string(), src);
    std::string out;
    if (run_command(cmd, &out) != 0) throw UserError("cannot compile the Verilator runtime:\n" + cmd + "\n" + out);
    objs += fmt::format(" {}/{}.o", tmp.string(), src);
  }
  std::string out;
  if (run_command(fmt::format("ar rcs {}/libverilated.a{} 2>&1", tmp.string(), objs), &out) != 0)
    throw UserError("cannot archive the Verilator runtime: " + out);
  publish(tmp, dir);
  return lib.string();
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
  if (!f) throw UserError("cannot write " + p.string());
}

}  // namespace

int run_command(const std::string& cmd, std::string* output) {
  std::string full = cmd;
  FILE* pipe = ::popen(full.c_str(), "r");
  if (!pipe) throw UserError("cannot run: " + cmd);
  std::array<char, 4096> buf{};
  std::string out;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = ::pclose(pipe);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string cache_dir() {
  if (const char* d = std::getenv("QDF_CACHE_DIR"); d && *d) return fs::absolute(d).string();  // builds run in other directories
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/qdf";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/qdf";
  return "/tmp/qdf-cache";
}

std::string verilator_version() {
  static const std::string v = [] {
    std::string out;
    run_command(std::string(QDF_VERILATOR_BIN) + " --version 2>&1", &out);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }();
  return v;
}

std::string verilator_lint(const VerilogModule& m) { return verilator_lint(std::vector<VerilogModule>{m}); }

std::string verilator_lint(const std::vector<VerilogModule>& modules) {
  if (modules.empty()) throw InternalError("verilator_lint: no modules");
  const VerilogModule& m = modules.front();
  fs::path dir = fs::path(cache_dir()) / "lint" / fmt::format("{}-{}", m.top, ::getpid());
  fs::create_directories(dir);
  std::string files;
  for (const VerilogModule& each : modules) files += " " + quote(write_verilog(each, dir.string()));
  std::string out;
  int rc = run_command(fmt::format("cd {} && {} --lint-only -Wall --top-module {}{} 2>&1", quote(dir.string()),
                                   QDF_VERILATOR_BIN, m.top, files),
                       &out);
  fs::remove_all(dir);
  if (rc != 0 && out.empty()) out = fmt::format("verilator exited with status {}", rc);
  return out;
}

BuiltModel verilator_build(const VerilogModule& m, const Kernel& k) {
  std::string tb = testbench_for(m, k);
  std::uint64_t h = fnv(m.verilog);
  for (const auto& [name, text] : m.files) h = fnv(name + text, h);
  h = fnv(tb, h);
  h = fnv(verilator_version() + kCxxFlags, h);
  fs::path dir = fs::path(cache_dir()) / "models" / fmt::format("{}-{:016x}", m.top, h);
  BuiltModel model{dir.string(), (dir / "sim").string()};
  if (fs::exists(model.exe)) return model;

  std::string runtime = runtime_library();
  fs::path tmp = temp_beside(dir);
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  write_verilog(m, tmp.string());
  write(tmp / "tb.cpp", tb);
  std::string out;
  std::string root = QDF_VERILATOR_ROOT;
  std::string cmd = fmt::format("cd {} && {} --cc -Wno-fatal -Wno-lint -Wno-style --top-module {} {}.v --Mdir obj 2>&1",
                                quote(tmp.string()), QDF_VERILATOR_BIN, m.top, m.top);
  if (run_command(cmd, &out) != 0) throw UserError("verilator failed on " + m.top + ".v:\n" + out);
  cmd = fmt::format("cd {} && {} {} -Iobj -I{}/include -I{}/include/vltstd obj/V{}*.cpp tb.cpp {} -o sim -pthread -latomic 2>&1",
                    quote(tmp.string()), QDF_CXX, kCxxFlags, root, root, m.top, quote(runtime));
  if (run_command(cmd, &out) != 0) throw UserError("cannot compile the simulation of " + m.top + ":\n" + out);
  fs::remove_all(tmp / "obj");
  publish(tmp, dir);
  return model;
}

RtlRunResult verilator_run(const BuiltModel& model, const Kernel& k, const RunSpec& spec, const RtlRunOptions& opt) {
  fs::path work = fs::path(cache_dir()) / "runs" / fmt::format("{}-{}-{}", k.name, ::getpid(), opt.seed);
  fs::create_directories(work);
  // ROM files are read at start-up, relative to the working directory.
  for (const auto& e : fs::directory_iterator(model.dir))
    if (e.path().extension() == ".hex") fs::copy_file(e.path(), work / e.path().filename(), fs::copy_options::overwrite_existing);
  std::uint64_t max_cycles = opt.max_cycles;
  if (max_cycles == 0) {
    std::uint64_t elems = 0;
    for (const auto& [n, s] : spec.inputs) elems += s.size();
    max_cycles = 100 * (spec.ticks + elems + static_cast<std::uint64_t>(k.latency)) + 10000;
  }
  {
    std::ofstream st(work / "stim.txt");
    st << "ticks " << spec.ticks << "\nseed " << opt.seed << "\ngap " << opt.input_gap << "\nstall " << opt.output_stall
       << "\nmax_cycles " << max_cycles << "\n";
    for (const auto& [name, v] : spec.scalars) st << "scalar " << name << " " << std::hex << v << std::dec << "\n";
    for (const auto& [name, s] : spec.inputs) {
      for (size_t i = 0; i < s.size(); ++i) {
        st << "in " << name;
        for (int j = 0; j < s.words_per_element(); ++j) st << " " << std::hex << s.at(i)[j] << std::dec;
        st << "\n";
      }
    }
  }
  std::string out;
  int rc = run_command(fmt::format("cd {} && {} stim.txt result.txt 2>&1", quote(work.string()), quote(model.exe)), &out);
  if (rc != 0) throw UserError(fmt::format("the Verilator simulation of {} failed (status {}):\n{}", k.name, rc, out));
  RtlRunResult res;
  for (NodeId o : k.outputs) res.outputs.emplace(k.at(o).name, Stream(k.at(o).type.width));
  std::ifstream in(work / "result.txt");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key;
    ls >> key;
    if (key == "cycles") ls >> res.cycles;
    else if (key == "seconds") ls >> res.sim_seconds;
    else if (key == "done") { int d; ls >> d; res.done = d != 0; }
    else if (key == "out") {
      std::string name;
      size_t n;
      ls >> name >> n;
      Stream& s = res.outputs.at(name);
      std::vector<std::uint64_t> w(static_cast<size_t>(s.words_per_element()));
      for (size_t i = 0; i < n; ++i) {
        std::getline(in, line);
        std::istringstream es(line);
        for (auto& x : w) { std::string hx; es >> hx; x = std::stoull(hx, nullptr, 16); }
        s.push_words(w.data());
      }
    }
  }
  fs::remove_all(work);
  return res;
}

}  // namespace qdf::dsl
