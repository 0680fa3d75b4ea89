#include "dsl/verilator_runner.hpp"

#include "dsl/bits.hpp"
#include "dsl/errors.hpp"
#include "dsl/hash.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <dlfcn.h>
#include <map>
#include <set>
#include <sys/wait.h>
#include <thread>
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
  top->images = static_cast<uint32_t>(ticks);  // IMAGE_TICKS is 1 here: a run of `ticks` one-tick images
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

const char* kCxxFlags = "-std=c++20 -O1 -faligned-new -fcf-protection=none -w -DVM_COVERAGE=0 -DVM_SC=0 "
                        "-DVM_TRACE=0 -DVM_TRACE_FST=0 -DVM_TRACE_VCD=0";

std::string quote(const std::string& s) { return "'" + s + "'"; }

// Moves a finished temporary directory into place; if another process won, keeps theirs.
void publish(const fs::path& tmp, const fs::path& final_dir) {
  std::error_code ec;
  fs::rename(tmp, final_dir, ec);
  if (ec) fs::remove_all(tmp, ec);
}

// A cache entry (a simulation, a library with its ROM files, the runtime) is sealed when it is
// made: its file .seal holds the size and hash of every other file in it. An entry that does not
// match its seal (a file truncated or corrupted on disk, or no seal: an older qdf's entry) is
// removed and built again rather than trusted: a truncated library would fail to load, a changed
// ROM file would run.
std::string seal_of(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != ".seal") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::string s;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    const std::string b = std::move(bytes).str();
    s += fmt::format("{} {} {:016x}\n", fs::relative(f, dir).generic_string(), b.size(), fnv1a(b));
  }
  return s;
}
void seal(const fs::path& dir) {
  const std::string s = seal_of(dir);
  std::ofstream f(dir / ".seal");
  f << s;
  if (!f) throw UserError("cannot write " + (dir / ".seal").string());
}
// True when entry `dir` holds `artefact` and matches its seal; else the entry is removed.
bool intact_or_removed(const fs::path& artefact, const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return false;
  std::ifstream s(dir / ".seal");
  std::ostringstream want;
  want << s.rdbuf();
  if (s && fs::exists(artefact, ec) && want.str() == seal_of(dir)) return true;
  fs::remove_all(dir, ec);
  return false;
}

fs::path temp_beside(const fs::path& final_dir) {
  return final_dir.string() + fmt::format(".tmp.{}", ::getpid());
}

// What a shared library's objects add to kCxxFlags: position-independent code, and only the
// shim's C functions visible.
const char* kLibraryFlags = " -fPIC -fvisibility=hidden -fvisibility-inlines-hidden";
// Its link: every reference bound inside it, only qdf_* exported (exports.map), nothing undefined.
const char* kLibraryLinkFlags = "-shared -Wl,-Bsymbolic -Wl,--version-script=exports.map -Wl,--no-undefined";

// The Verilator runtime (verilated.cpp, verilated_threads.cpp) compiled with `flags`, once per
// cache.
std::string runtime_library(const std::string& flags = kCxxFlags) {
  fs::path dir = fs::path(cache_dir()) / fmt::format("verilator-runtime-{:016x}", fnv1a(verilator_version() + flags));
  fs::path lib = dir / "libverilated.a";
  if (intact_or_removed(lib, dir)) return lib.string();
  fs::path tmp = temp_beside(dir);
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  std::string root = QDF_VERILATOR_ROOT;
  std::string objs;
  for (const char* src : {"verilated", "verilated_threads"}) {
    std::string cmd = fmt::format("{} {} -I{}/include -I{}/include/vltstd -c {}/include/{}.cpp -o {}/{}.o 2>&1", QDF_CXX,
                                  flags, root, root, root, src, tmp.string(), src);
    std::string out;
    if (run_command(cmd, &out) != 0) throw UserError("cannot compile the Verilator runtime:\n" + cmd + "\n" + out);
    objs += fmt::format(" {}/{}.o", tmp.string(), src);
  }
  std::string out;
  if (run_command(fmt::format("ar rcs {}/libverilated.a{} 2>&1", tmp.string(), objs), &out) != 0)
    throw UserError("cannot archive the Verilator runtime: " + out);
  seal(tmp);
  publish(tmp, dir);
  return lib.string();
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
  if (!f) throw UserError("cannot write " + p.string());
}

// The C functions a design library exports (VerilatedDesign::Api holds them):
//   const char* qdf_ports()                 the port list, "name width in|out" per line
//   void* qdf_create(), qdf_destroy(void*)  one model (its own VerilatedContext)
//   void qdf_set(void*, int port, const uint64_t* words), qdf_get(void*, int port, uint64_t*)
//   void qdf_eval(void*), qdf_cycle(void*)
std::string port_list(const std::vector<DesignPort>& ports) {
  std::string s;
  for (const DesignPort& p : ports) s += fmt::format("{} {} {}\n", p.name, p.width, p.output ? "out" : "in");
  return s;
}

constexpr const char* kShimCommon = R"SHIM(
#include "verilated.h"
#include <cstdint>
#define QDF_EXPORT extern "C" __attribute__((visibility("default")))
// The shim is compiled together with some of the model's files (one translation unit), so its
// names carry a prefix.
namespace {
// Port access over Verilator's port types (CData/SData/IData/QData up to 64 bits, VlWide above).
template <class T> void qdf_put_port(T& port, const uint64_t* w) { port = static_cast<T>(w[0]); }
template <std::size_t N> void qdf_put_port(VlWide<N>& port, const uint64_t* w) {
  for (std::size_t i = 0; i < N; ++i) port[i] = static_cast<uint32_t>(w[i / 2] >> (32 * (i % 2)));
}
template <class T> void qdf_get_port(const T& port, uint64_t* w) { w[0] = static_cast<uint64_t>(port); }
template <std::size_t N> void qdf_get_port(const VlWide<N>& port, uint64_t* w) {
  for (std::size_t i = 0; i < (N + 1) / 2; ++i) w[i] = 0;
  for (std::size_t i = 0; i < N; ++i) w[i / 2] |= static_cast<uint64_t>(port[i]) << (32 * (i % 2));
}
}  // namespace
)SHIM";

std::string library_shim(const std::string& top, const std::vector<DesignPort>& ports) {
  const std::string v = "V" + top;
  std::string s = fmt::format("// Generated by qdf: the shared-library shim of module {} (dsl/verilator_runner.hpp).\n#include \"{}.h\"\n",
                              top, v);
  s += kShimCommon;
  // `low_pending`: clk went low after a rising edge but the model has not evaluated it yet. With
  // no logic on the falling edge that evaluation changes nothing but the model's record of clk,
  // so it is left to the next qdf_eval (which the caller needs anyway once inputs change), or
  // done first by the next qdf_cycle so that its rising edge is seen.
  s += fmt::format("namespace {{\nstruct QdfModel {{\n  VerilatedContext ctx;\n  {0} top{{&ctx, \"TOP\"}};\n  bool low_pending = false;\n}};\n", v);
  s += fmt::format("using QdfSet = void (*)({}&, const uint64_t*);\nusing QdfGet = void (*)(const {}&, uint64_t*);\n", v, v);
  s += "const QdfSet kSet[] = {\n";
  for (const DesignPort& p : ports)
    s += p.output ? "    nullptr,\n" : fmt::format("    []({}& t, const uint64_t* w) {{ qdf_put_port(t.{}, w); }},\n", v, p.name);
  s += "};\nconst QdfGet kGet[] = {\n";
  for (const DesignPort& p : ports) s += fmt::format("    [](const {}& t, uint64_t* w) {{ qdf_get_port(t.{}, w); }},\n", v, p.name);
  s += "};\n}  // namespace\n";
  std::string list;
  for (char c : port_list(ports)) list += c == '\n' ? std::string("\\n") : std::string(1, c);
  s += fmt::format("QDF_EXPORT const char* qdf_ports() {{ return \"{}\"; }}\n", list);
  s += "QDF_EXPORT void* qdf_create() { auto* m = new QdfModel; m->top.clk = 0; return m; }\n"
       "QDF_EXPORT void qdf_destroy(void* p) { auto* m = static_cast<QdfModel*>(p); m->top.final(); delete m; }\n"
       "QDF_EXPORT void qdf_set(void* p, int i, const uint64_t* w) { kSet[i](static_cast<QdfModel*>(p)->top, w); }\n"
       "QDF_EXPORT void qdf_get(void* p, int i, uint64_t* w) { kGet[i](static_cast<QdfModel*>(p)->top, w); }\n"
       "QDF_EXPORT void qdf_eval(void* p) { auto* m = static_cast<QdfModel*>(p); m->top.eval(); m->low_pending = false; }\n"
       "QDF_EXPORT void qdf_cycle(void* p) {\n"
       "  auto* m = static_cast<QdfModel*>(p);\n"
       "  if (m->low_pending) m->top.eval();\n"
       "  m->top.clk = 1; m->top.eval(); m->ctx.timeInc(1);\n"
       "  m->top.clk = 0; m->low_pending = true; m->ctx.timeInc(1);\n"
       "}\n";
  return s;
}

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

}  // namespace

double tool_timeout_s() {
  const char* v = std::getenv("QDF_TOOL_TIMEOUT_S");
  if (!v || !*v) return 7200;
  char* end = nullptr;
  const double t = std::strtod(v, &end);
  if (*end || !std::isfinite(t) || t <= 0)
    throw UserError(fmt::format("QDF_TOOL_TIMEOUT_S is '{}': expected the time limit of one Verilator or Yosys run, a positive number "
                                "of seconds",
                                v));
  return t;
}

int run_command(const std::string& cmd, std::string* output) { return run_command(cmd, output, tool_timeout_s()); }

int run_command(const std::string& cmd, std::string* output, double timeout_s) {
  if (!(timeout_s > 0)) throw InternalError(fmt::format("run_command: a time limit of {} s", timeout_s));
  // coreutils' timeout runs the command in its own process group and signals the whole group
  // (the compilers a build starts too): TERM at the limit, KILL 10 s later. Its status is then 124.
  std::string escaped;
  for (char c : cmd) escaped += c == '\'' ? std::string("'\\''") : std::string(1, c);
  const std::string full = fmt::format("timeout -k 10 {:.3f} sh -c '{}'", timeout_s, escaped);
  const auto t0 = std::chrono::steady_clock::now();
  FILE* pipe = ::popen(full.c_str(), "r");
  if (!pipe) throw UserError("cannot run: " + cmd);
  std::array<char, 4096> buf{};
  std::string out;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = ::pclose(pipe);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  if ((code == 124 || code == 137) && took >= timeout_s)
    throw UserError(fmt::format("a tool run took longer than its limit of {:g} s and was stopped (set QDF_TOOL_TIMEOUT_S to allow "
                                "longer): {}{}",
                                timeout_s, cmd.size() > 300 ? cmd.substr(0, 300) + "..." : cmd,
                                out.empty() ? "" : "\nits output so far:\n" + (out.size() > 2000 ? out.substr(out.size() - 2000) : out)));
  if (output) *output = out;
  return code;
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
  Fnv1a h;
  h.add(m.verilog);
  for (const auto& [name, text] : m.files) h.add(name).add(text);
  h.add(tb).add(verilator_version()).add(kCxxFlags);
  fs::path dir = fs::path(cache_dir()) / "models" / fmt::format("{}-{:016x}", m.top, h.value());
  BuiltModel model{dir.string(), (dir / "sim").string()};
  if (intact_or_removed(model.exe, dir)) return model;

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
  seal(tmp);
  publish(tmp, dir);
  return model;
}

RtlRunResult verilator_run(const BuiltModel& model, const Kernel& k, const RunSpec& spec, const RtlRunOptions& opt) {
  fs::path work = fs::path(cache_dir()) / "runs" / fmt::format("{}-{}-{}", k.name, ::getpid(), opt.seed);
  fs::create_directories(work);
  // ROM files are read at start-up, relative to the working directory.
  for (const auto& e : fs::directory_iterator(model.dir))
    if (e.path().extension() == ".hex") fs::copy_file(e.path(), work / e.path().filename(), fs::copy_options::overwrite_existing);
  // A kernel counts its run in images of IMAGE_TICKS ticks on a 32-bit port; here each image is one tick.
  if (spec.ticks > 0xffffffffu)
    throw UserError(fmt::format("kernel {}: a run of {} ticks is longer than an RTL run can count (2^32 - 1)", k.name, spec.ticks));
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

namespace qdf::dsl {

BuiltLibrary verilator_build_library(const std::vector<VerilogModule>& modules, const std::vector<DesignPort>& ports, int threads) {
  if (modules.empty()) throw InternalError("verilator_build_library: no modules");
  if (threads < 1 || threads > 64) throw InternalError(fmt::format("verilator_build_library: {} threads (1..64)", threads));
  const std::string& top = modules.front().top;
  std::map<std::string, int> port_names;
  for (const DesignPort& p : ports) {
    if (!is_identifier(p.name) || p.name == "clk" || p.width < 1 || p.width > 4096 || port_names[p.name]++)
      throw InternalError(fmt::format("verilator_build_library({}): bad port '{}' of {} bits (names distinct identifiers, "
                                      "not clk; widths 1..4096)",
                                      top, p.name, p.width));
  }
  std::set<std::string> names;
  std::map<std::string, const std::string*> roms;
  for (const VerilogModule& m : modules) {
    if (!names.insert(m.top).second) throw InternalError(fmt::format("verilator_build_library: two modules named {}", m.top));
    for (const auto& [name, text] : m.files)
      if (auto [it, fresh] = roms.emplace(name, &text); !fresh && *it->second != text)
        throw InternalError(fmt::format("verilator_build_library: two ROM files named {} with different contents", name));
  }
  const std::string shim = library_shim(top, ports);
  const std::string flags = std::string(kCxxFlags) + kLibraryFlags;
  Fnv1a h;
  h.add(shim);
  for (const VerilogModule& m : modules) {
    h.add(m.top).add("\n").add(m.verilog);
    for (const auto& [name, text] : m.files) h.add(name).add(text);
  }
  const std::string verilator_threads = threads > 1 ? fmt::format(" --threads {}", threads) : "";
  h.add(verilator_version()).add(flags).add(kLibraryLinkFlags).add(verilator_threads);
  const fs::path dir = fs::path(cache_dir()) / "libraries" / fmt::format("{}-{:016x}", top, h.value());
  BuiltLibrary lib{dir.string(), (dir / ("lib" + top + ".so")).string(), top, ports};
  if (intact_or_removed(lib.so, dir)) return lib;
  // ROM files are read when the model starts, by name relative to the working directory; a
  // library runs in its caller's, so the names become absolute paths into the cache entry.
  if (lib.dir.find_first_of("\"\\") != std::string::npos)
    throw UserError(fmt::format("the cache directory {} has a quote or backslash in its path; set QDF_CACHE_DIR to another", cache_dir()));

  const std::string runtime = runtime_library(flags);
  const fs::path tmp = temp_beside(dir);
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  std::string files;
  for (VerilogModule m : modules) {
    for (const auto& [name, text] : m.files) {
      const std::string from = fmt::format("$readmemh(\"{}\"", name), to = fmt::format("$readmemh(\"{}/{}\"", lib.dir, name);
      for (size_t at = m.verilog.find(from); at != std::string::npos; at = m.verilog.find(from, at + to.size()))
        m.verilog.replace(at, from.size(), to);
    }
    files += " " + quote(fs::path(write_verilog(m, tmp.string())).filename().string());
  }
  write(tmp / "shim.cpp", shim);
  std::string out;
  const std::string root = QDF_VERILATOR_ROOT;
  std::string cmd = fmt::format("cd {} && {} --cc -Wno-fatal -Wno-lint -Wno-style{} --top-module {}{} --Mdir obj 2>&1", quote(tmp.string()),
                                QDF_VERILATOR_BIN, verilator_threads, top, files);
  if (run_command(cmd, &out) != 0) throw UserError("verilator failed on " + top + ":\n" + out);
  // Parsing Verilator's headers costs more than compiling a small model's code, so its files
  // and the shim compile as one translation unit per core (a unity build, as Verilator's own
  // V<top>__ALL.cpp), the units balanced by size and compiled in parallel.
  const size_t jobs = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
  std::vector<std::pair<std::uintmax_t, std::string>> sources = {{fs::file_size(tmp / "shim.cpp"), "../shim.cpp"}};
  for (const auto& e : fs::directory_iterator(tmp / "obj"))
    if (e.path().extension() == ".cpp") sources.emplace_back(e.file_size(), e.path().filename().string());
  std::sort(sources.begin(), sources.end(), std::greater<>());
  std::vector<std::pair<std::uintmax_t, std::string>> units(std::min(jobs, sources.size()));
  for (const auto& [size, file] : sources) {
    auto& u = *std::min_element(units.begin(), units.end());
    u.first += size;
    u.second += fmt::format("#include \"{}\"\n", file);
  }
  std::string objects;
  for (size_t i = 0; i < units.size(); ++i) {
    write(tmp / "obj" / fmt::format("qdf_unit{}.cpp", i), units[i].second);
    objects += fmt::format(" obj/qdf_unit{}.o", i);
  }
  cmd = fmt::format("cd {} && ls obj/qdf_unit*.cpp | sed 's/[.]cpp$//' | xargs -P {} -I UNIT {} {} -Iobj -I{}/include -I{}/include/vltstd "
                    "-c UNIT.cpp -o UNIT.o 2>&1",
                    quote(tmp.string()), units.size(), QDF_CXX, flags, root, root);
  if (run_command(cmd, &out) != 0) throw UserError("cannot compile the simulation library of " + top + ":\n" + out);
  // The version script hides what the visibility flags cannot (the library's instances of
  // templates of std::, which are declared visible).
  write(tmp / "exports.map", "{ global: qdf_*; local: *; };\n");
  cmd = fmt::format("cd {} && {} {} -o {}{} {} -pthread -latomic 2>&1", quote(tmp.string()), QDF_CXX, kLibraryLinkFlags,
                    quote(fs::path(lib.so).filename().string()), objects, quote(runtime));
  if (run_command(cmd, &out) != 0) throw UserError("cannot link the simulation library of " + top + ":\n" + out);
  fs::remove_all(tmp / "obj");
  fs::remove(tmp / "exports.map");
  seal(tmp);
  publish(tmp, dir);
  return lib;
}

struct VerilatedDesign::Api {
  const char* (*ports)();
  void* (*create)();
  void (*destroy)(void*);
  void (*set)(void*, int, const std::uint64_t*);
  void (*get)(void*, int, std::uint64_t*);
  void (*eval)(void*);
  void (*cycle)(void*);
};

VerilatedDesign::VerilatedDesign(const BuiltLibrary& lib) : lib_(lib) {
  handle_ = ::dlopen(lib_.so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_) throw UserError(fmt::format("cannot load the simulation library {}: {}", lib_.so, ::dlerror()));
  auto api = std::make_unique<Api>();
  auto sym = [&](auto& fn, const char* name) {
    void* p = ::dlsym(handle_, name);
    if (!p) throw InternalError(fmt::format("the simulation library {} has no function {}", lib_.so, name));
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
  };
  try {
    sym(api->ports, "qdf_ports");
    sym(api->create, "qdf_create");
    sym(api->destroy, "qdf_destroy");
    sym(api->set, "qdf_set");
    sym(api->get, "qdf_get");
    sym(api->eval, "qdf_eval");
    sym(api->cycle, "qdf_cycle");
    if (api->ports() != port_list(lib_.ports))
      throw InternalError(fmt::format("the simulation library {} has the ports\n{}not\n{}", lib_.so, api->ports(), port_list(lib_.ports)));
  } catch (...) {
    ::dlclose(handle_);
    throw;
  }
  api_ = std::move(api);
  model_ = api_->create();
  size_t words = 1;
  for (const DesignPort& p : lib_.ports) words = std::max(words, static_cast<size_t>((p.width + 63) / 64));
  buf_.resize(words);
}

VerilatedDesign::~VerilatedDesign() {
  api_->destroy(model_);
  ::dlclose(handle_);
}

int VerilatedDesign::port(const std::string& name) const {
  std::string names;
  for (size_t i = 0; i < lib_.ports.size(); ++i) {
    if (lib_.ports[i].name == name) return static_cast<int>(i);
    names += (i ? ", " : "") + lib_.ports[i].name;
  }
  throw UserError(fmt::format("module {} has no port '{}' (its ports: {})", lib_.top, name, names));
}

void VerilatedDesign::set_words(int port, const std::uint64_t* words) {
  const DesignPort& p = port_info(port);
  std::copy(words, words + (p.width + 63) / 64, buf_.begin());
  set_from_buffer(port);
}

void VerilatedDesign::set(int port, std::uint64_t value) {
  const DesignPort& p = port_info(port);
  std::fill(buf_.begin(), buf_.begin() + (p.width + 63) / 64, 0);
  buf_[0] = value;
  set_from_buffer(port);
}

void VerilatedDesign::set_from_buffer(int port) {
  const DesignPort& p = port_info(port);
  if (p.output) throw InternalError(fmt::format("{}: cannot set output port {}", lib_.top, p.name));
  // Verilator expects the bits above a port's width to be zero.
  if (p.width % 64) buf_[static_cast<size_t>((p.width - 1) / 64)] &= (std::uint64_t{1} << (p.width % 64)) - 1;
  api_->set(model_, port, buf_.data());
}

void VerilatedDesign::get_words(int port, std::uint64_t* words) const {
  port_info(port);
  api_->get(model_, port, words);
}

std::uint64_t VerilatedDesign::get(int port) const {
  port_info(port);
  api_->get(model_, port, buf_.data());
  return buf_[0];
}

void VerilatedDesign::eval() { api_->eval(model_); }
void VerilatedDesign::cycle() { api_->cycle(model_); }

}  // namespace qdf::dsl
