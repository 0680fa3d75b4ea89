#include "dsl/emit_verilog.hpp"

#include "dsl/bits.hpp"
#include "dsl/errors.hpp"
#include "dsl/hash.hpp"
#include "dsl/passes.hpp"
#include "dsl/verilog_writer.hpp"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <set>

namespace qdf::dsl {
namespace {

// SystemVerilog (IEEE 1800-2017) keywords, which Verilator and Yosys reserve even in .v files, and
// the names of the module's own control signals.
const std::set<std::string>& reserved() {
  static const std::set<std::string> words = {
      "accept_on", "alias", "always", "always_comb", "always_ff", "always_latch", "and", "assert", "assign",
      "assume", "automatic", "before", "begin", "bind", "bins", "binsof", "bit", "break", "buf", "bufif0",
      "bufif1", "byte", "case", "casex", "casez", "cell", "chandle", "checker", "class", "clocking", "cmos",
      "config", "const", "constraint", "context", "continue", "cover", "covergroup", "coverpoint", "cross",
      "deassign", "default", "defparam", "design", "disable", "dist", "do", "edge", "else", "end", "endcase",
      "endchecker", "endclass", "endclocking", "endconfig", "endfunction", "endgenerate", "endgroup",
      "endinterface", "endmodule", "endpackage", "endprimitive", "endprogram", "endproperty", "endspecify",
      "endsequence", "endtable", "endtask", "enum", "event", "eventually", "expect", "export", "extends",
      "extern", "final", "first_match", "for", "force", "foreach", "forever", "fork", "forkjoin", "function",
      "generate", "genvar", "global", "highz0", "highz1", "if", "iff", "ifnone", "ignore_bins", "illegal_bins",
      "implements", "implies", "import", "incdir", "include", "initial", "inout", "input", "inside",
      "instance", "int", "integer", "interconnect", "interface", "intersect", "join", "join_any", "join_none",
      "large", "let", "liblist", "library", "local", "localparam", "logic", "longint", "macromodule",
      "matches", "medium", "modport", "module", "nand", "negedge", "nettype", "new", "nexttime", "nmos", "nor",
      "noshowcancelled", "not", "notif0", "notif1", "null", "or", "output", "package", "packed", "parameter",
      "pmos", "posedge", "primitive", "priority", "program", "property", "protected", "pull0", "pull1",
      "pulldown", "pullup", "pulsestyle_ondetect", "pulsestyle_onevent", "pure", "rand", "randc", "randcase",
      "randsequence", "rcmos", "real", "realtime", "ref", "reg", "reject_on", "release", "repeat", "restrict",
      "return", "rnmos", "rpmos", "rtran", "rtranif0", "rtranif1", "s_always", "s_eventually", "s_nexttime",
      "s_until", "s_until_with", "scalared", "sequence", "shortint", "shortreal", "showcancelled", "signed",
      "small", "soft", "solve", "specify", "specparam", "static", "string", "strong", "strong0", "strong1",
      "struct", "super", "supply0", "supply1", "sync_accept_on", "sync_reject_on", "table", "tagged", "task",
      "this", "throughout", "time", "timeprecision", "timeunit", "tran", "tranif0", "tranif1", "tri", "tri0",
      "tri1", "triand", "trior", "trireg", "type", "typedef", "union", "unique", "unique0", "unsigned",
      "until", "until_with", "untyped", "use", "uwire", "var", "vectored", "virtual", "void", "wait",
      "wait_order", "wand", "weak", "weak0", "weak1", "while", "wildcard", "wire", "with", "within", "wor",
      "xnor", "xor",
      "clk", "rst", "images", "done", "image", "image_tick", "flushed", "IMAGE_TICKS", "TW", "LAST", "LAST_TICK", "ONE_TICK", "adv", "run_active", "finished", "in_ok", "out_ok"};
  return words;
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "v_" + out;
  if (reserved().count(out)) out += "_v";
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string literal(int w, const std::uint64_t* v) { return fmt::format("{}'h{}", w, bits::to_hex(v, w)); }
std::string zeros(int w) { return fmt::format("{}'d0", w); }

// Stable names: a named node keeps its C++ name; an unnamed one is called after its operation
// and a hash of its structure (operation, type, attributes, operands' names), so that a change
// elsewhere in a kernel does not rename it.
class Namer {
 public:
  explicit Namer(const Kernel& k) : k_(k), hash_(k.nodes.size(), 0), state_(k.nodes.size(), 0) {}

  // `taken`: names the module already uses (its own name), which no wire may hide.
  std::map<NodeId, std::string> run(const std::set<std::string>& taken) {
    std::map<NodeId, std::string> names;
    std::set<std::string> used = taken;
    // Port nodes are named first, so that the wires derived from them (x_data, y_valid, ...)
    // are known before any other node picks a name.
    for (const std::vector<NodeId>* ports : {&k_.scalars, &k_.inputs, &k_.outputs})
      for (NodeId p : *ports) {
        std::string base = sanitize(k_.at(p).name), name = base;
        for (int i = 2; used.count(name); ++i) name = fmt::format("{}_{}", base, i);
        names[p] = name;
        used.insert(name);
        for (const char* suffix : {"_data", "_valid", "_ready", "_slot0", "_slot1", "_wp", "_rp", "_count", "_push", "_pop"})
          used.insert(name + suffix);
      }
    for (NodeId v = 0; v < static_cast<NodeId>(k_.nodes.size()); ++v) {
      const Node& n = k_.at(v);
      if (n.dead || names.count(v)) continue;
      std::string base;
      if (!n.name.empty()) base = sanitize(n.name);
      else if (n.op == Op::RunActive) base = "run_active";
      else base = fmt::format("{}_{:06x}", lower(op_name(n.op)), hash(v) & 0xffffff);
      if (n.op == Op::RunActive) {
        names[v] = base;
        continue;
      }
      // A node's name and the names derived from it (memories, shift registers, adder trees)
      // must all be free.
      auto derived = [&](const std::string& nm) {
        std::vector<std::string> d = {nm};
        for (const char* suffix : {"_mem", "_rom", "_sr", "_ptr", "_fill", "_q"}) d.push_back(nm + suffix);
        if (n.op == Op::Popcount)
          for (int i = 0; i < k_.at(n.args[0]).type.width; ++i) d.push_back(fmt::format("{}_p{}", nm, i));
        return d;
      };
      auto free_name = [&](const std::string& nm) {
        for (const std::string& d : derived(nm))
          if (used.count(d)) return false;
        return true;
      };
      std::string name = base;
      for (int i = 2; !free_name(name); ++i) name = fmt::format("{}_{}", base, i);
      for (const std::string& d : derived(name)) used.insert(d);
      names[v] = name;
    }
    return names;
  }

 private:
  std::uint64_t hash(NodeId v) {
    const Node& n = k_.at(v);
    if (!n.name.empty()) return fnv1a(n.name);
    if (state_[static_cast<size_t>(v)] == 2) return hash_[static_cast<size_t>(v)];
    Fnv1a h;
    h.add(op_name(n.op));
    h.add(static_cast<std::uint64_t>(n.type.width) * 4 + static_cast<std::uint64_t>(n.type.kind));
    h.add(static_cast<std::uint64_t>(n.a0));
    h.add(static_cast<std::uint64_t>(n.a1));
    for (std::uint64_t b : n.bits) h.add(b);
    if (state_[static_cast<size_t>(v)] == 1) return h.value();  // a loop of unnamed nodes: stop here
    state_[static_cast<size_t>(v)] = 1;
    for (NodeId a : n.args) h.add(a == kNoNode ? std::uint64_t{0} : hash(a));
    state_[static_cast<size_t>(v)] = 2;
    hash_[static_cast<size_t>(v)] = h.value();
    return h.value();
  }
  const Kernel& k_;
  std::vector<std::uint64_t> hash_;
  std::vector<char> state_;
};

class Emitter {
 public:
  explicit Emitter(const Kernel& k) : k_(k), w_(sanitize(k.name)) {}

  VerilogModule run() {
    if (!k_.scheduled) throw InternalError("emit_verilog needs a lowered kernel");
    m_.top = w_.name();
    m_.names = Namer(k_).run({m_.top});
    header();
    ports();
    body();
    control();
    m_.verilog = w_.text();
    return m_;
  }

 private:
  const std::string& nm(NodeId v) { return m_.names.at(v); }
  int w(NodeId v) const { return k_.at(v).type.width; }
  static VerilogWidth vec(std::int64_t width) { return VerilogWidth::vec(static_cast<int>(width)); }
  // A node's source location after a comment of our own on the same line.
  static std::string also(const std::string& loc) { return loc.empty() ? "" : "  // " + loc; }
  void line(const std::string& s) { w_.line(s); }

  // `v` resized to `to` bits by its own signedness.
  std::string ext(NodeId v, int to) {
    int from = w(v);
    if (from == to) return nm(v);
    if (from > to) return fmt::format("{}[{}:0]", nm(v), to - 1);
    if (k_.at(v).type.is_signed()) return fmt::format("{{{{{}{{{}[{}]}}}}, {}}}", to - from, nm(v), from - 1, nm(v));
    return fmt::format("{{{}'d0, {}}}", to - from, nm(v));
  }
  // An index of exactly index_bits(depth) bits from address node `a`.
  std::string index(NodeId a, std::int64_t depth) { return ext(a, index_bits(static_cast<std::uint64_t>(depth))); }
  // Whether address `a` can exceed depth-1 (then reads return 0 and writes are dropped).
  bool needs_guard(NodeId a, std::int64_t depth) {
    return w(a) >= 63 || (std::int64_t{1} << w(a)) > depth;
  }
  std::string guard(NodeId a, std::int64_t depth) {
    return fmt::format("({} < {}'d{})", nm(a), w(a), depth);
  }

  void header() {
    w_.comment("Generated by qdf (quantized dataflow) from kernel '" + k_.name + "'. Do not edit.");
    for (const auto& [key, value] : k_.params) w_.comment(fmt::format("  parameter {} = {}", key, value));
    size_t live = std::count_if(k_.nodes.begin(), k_.nodes.end(), [](const Node& n) { return !n.dead; });
    w_.comment(fmt::format("  {} inputs, {} outputs, {} scalars, {} IR nodes, pipeline latency {} ticks", k_.inputs.size(),
                           k_.outputs.size(), k_.scalars.size(), live, k_.latency));
    w_.comment("Execution model: the kernel advances one tick when every enabled input has data and every");
    w_.comment("enabled output has room; otherwise it stalls as a whole. A run lasts `images` x IMAGE_TICKS ticks");
    w_.comment("(images = 0: forever), then the pipeline is flushed and `done` rises once every output element");
    w_.comment("has been taken. The run is counted in images and ticks of an image, so that its length needs no");
    w_.comment("multiplier.");
  }

  void ports() {
    w_.input("clk", VerilogWidth::bit());
    w_.input("rst", VerilogWidth::bit());
    w_.parameter("IMAGE_TICKS", 1, "ticks per image");
    w_.input("images", vec(32), "the run's length in images (0: forever), held from reset on");
    w_.output("done", VerilogWidth::bit());
    for (NodeId s : k_.scalars) w_.input(nm(s), vec(w(s)));
    for (NodeId i : k_.inputs) w_.stream_input(nm(i), vec(w(i)));
    for (NodeId o : k_.outputs) w_.stream_output(nm(o), vec(w(o)));
    line("  wire adv;          // the kernel advances one tick in this cycle");
    line("  localparam TW = IMAGE_TICKS > 1 ? $clog2(IMAGE_TICKS) : 1;");
    line("  localparam integer LAST = IMAGE_TICKS - 1;\n  localparam [TW-1:0] LAST_TICK = LAST[TW-1:0], ONE_TICK = 1;");
    line("  reg  [TW-1:0] image_tick;  // ticks advanced in the current image");
    w_.reg(vec(32), "image", "images run since reset");
    w_.reg(vec(flush_bits()), "flushed", "ticks advanced after the run, up to the pipeline latency");
    line("  wire run_active = (images == 32'd0) || (image < images);");
    // Scalars and inputs that no logic reads are still part of the declared interface.
    line("  // verilator lint_off UNUSEDSIGNAL");
    line("  // Slices, casts and shifts keep only some bits of their operands by design, and ports the");
    line("  // kernel declares but does not read are kept so that the interface is the declared one.");
  }

  void body() {
    auto users = users_of(k_);
    for (NodeId v = 0; v < static_cast<NodeId>(k_.nodes.size()); ++v) {
      const Node& n = k_.at(v);
      if (n.dead) continue;
      const std::string loc = n.loc.file.empty() ? "" : n.loc.str();  // the node's C++ source, as a comment
      const int W = n.type.width;
      auto A = [&](int i) { return n.args[static_cast<size_t>(i)]; };
      auto wire = [&](const std::string& expr) { w_.wire(vec(W), nm(v), expr, loc); };
      switch (n.op) {
        case Op::Scalar: case Op::RunActive: case Op::Output: break;
        case Op::Started: wire("1'b1"); break;
        case Op::Const: wire(literal(W, n.bits.data())); break;
        case Op::Input: wire(fmt::format("{} ? {}_data : {}", nm(A(0)), nm(v), zeros(W))); break;
        case Op::Add: wire(fmt::format("{} + {}", ext(A(0), W), ext(A(1), W))); break;
        case Op::Sub: wire(fmt::format("{} - {}", ext(A(0), W), ext(A(1), W))); break;
        case Op::Mul: wire(fmt::format("{} * {}", ext(A(0), W), ext(A(1), W))); break;
        case Op::Neg: wire(fmt::format("-{}", ext(A(0), W))); break;
        case Op::And: wire(fmt::format("{} & {}", nm(A(0)), nm(A(1)))); break;
        case Op::Or: wire(fmt::format("{} | {}", nm(A(0)), nm(A(1)))); break;
        case Op::Xor: wire(fmt::format("{} ^ {}", nm(A(0)), nm(A(1)))); break;
        case Op::Xnor: wire(fmt::format("~({} ^ {})", nm(A(0)), nm(A(1)))); break;
        case Op::Not: wire(fmt::format("~{}", nm(A(0)))); break;
        case Op::Eq: case Op::Ne: {
          int m = std::max(w(A(0)), w(A(1)));
          wire(fmt::format("{} {} {}", ext(A(0), m), n.op == Op::Eq ? "==" : "!=", ext(A(1), m)));
          break;
        }
        case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: {
          int m = std::max(w(A(0)), w(A(1)));
          const char* sym = n.op == Op::Lt ? "<" : n.op == Op::Le ? "<=" : n.op == Op::Gt ? ">" : ">=";
          if (k_.at(A(0)).type.is_signed())
            wire(fmt::format("$signed({}) {} $signed({})", ext(A(0), m), sym, ext(A(1), m)));
          else
            wire(fmt::format("{} {} {}", ext(A(0), m), sym, ext(A(1), m)));
          break;
        }
        case Op::Mux: wire(fmt::format("{} ? {} : {}", nm(A(0)), nm(A(1)), nm(A(2)))); break;
        case Op::Shl:
          wire(n.a0 == 0 ? nm(A(0)) : fmt::format("{{{}, {}'d0}}", nm(A(0)), n.a0));
          break;
        case Op::Shr: wire(fmt::format("{}[{}:{}]", nm(A(0)), w(A(0)) - 1, n.a0)); break;
        case Op::ShlKeep: wire(fmt::format("{} << {}", nm(A(0)), nm(A(1)))); break;
        case Op::ShrKeep:
          if (n.type.is_signed()) wire(fmt::format("$unsigned($signed({}) >>> {})", nm(A(0)), nm(A(1))));
          else wire(fmt::format("{} >> {}", nm(A(0)), nm(A(1))));
          break;
        case Op::Popcount: popcount(v, A(0), loc); break;
        case Op::Slice: wire(fmt::format("{}[{}:{}]", nm(A(0)), n.a0, n.a1)); break;
        case Op::Concat: wire(fmt::format("{{{}, {}}}", nm(A(0)), nm(A(1)))); break;
        case Op::ReduceAnd: wire(fmt::format("&{}", nm(A(0)))); break;
        case Op::ReduceOr: wire(fmt::format("|{}", nm(A(0)))); break;
        case Op::ReduceXor: wire(fmt::format("^{}", nm(A(0)))); break;
        case Op::Cast: wire(ext(A(0), W)); break;
        case Op::Register:
          w_.reg(vec(W), nm(v), loc);
          line(fmt::format("  always @(posedge clk) if (rst) {} <= {}; else if (adv && {}) {} <= {};", nm(v),
                           literal(W, n.bits.data()), nm(A(1)), nm(v), nm(A(0))));
          break;
        case Op::Delay: delay(v, loc); break;
        case Op::Ram: ram(v, loc); break;
        case Op::RamRead: {
          const Node& r = k_.at(A(0));
          std::string mem = nm(A(0)) + "_mem";
          std::string read = fmt::format("{}[{}]", mem, index(A(1), r.a0));
          if (needs_guard(A(1), r.a0)) read = fmt::format("{} ? {} : {}", guard(A(1), r.a0), read, zeros(W));
          if (n.a1) {
            w_.reg(vec(W), nm(v), loc);
            line(fmt::format("  always @(posedge clk) if (adv) {} <= {};", nm(v), read));
          } else {
            wire(read);
          }
          break;
        }
        case Op::Rom: rom(v, loc); break;
        case Op::Offset: throw InternalError("offset reached the Verilog backend");
      }
    }
    line("  // verilator lint_on UNUSEDSIGNAL");
  }

  // Balanced adder tree: each level's sums are exactly as wide as their counts need.
  void popcount(NodeId v, NodeId x, const std::string& loc) {
    const int n = w(x);
    int counter = 0;
    std::function<std::pair<std::string, int>(int, int)> tree = [&](int lo, int cnt) -> std::pair<std::string, int> {
      if (cnt == 1) return {fmt::format("{}[{}]", nm(x), lo), 1};
      auto [l, lw] = tree(lo, cnt / 2);
      auto [r, rw] = tree(lo + cnt / 2, cnt - cnt / 2);
      int sw = bits_for(static_cast<std::uint64_t>(cnt));
      std::string name = fmt::format("{}_p{}", nm(v), counter++);
      auto pad = [&](const std::string& e, int ew) { return ew == sw ? e : fmt::format("{{{}'d0, {}}}", sw - ew, e); };
      w_.wire(vec(sw), name, fmt::format("{} + {}", pad(l, lw), pad(r, rw)));
      return {name, sw};
    };
    auto [e, ew] = tree(0, n);
    const int W = k_.at(v).type.width;
    w_.wire(vec(W), nm(v), ew == W ? e : fmt::format("{{{}'d0, {}}}", W - ew, e), loc);
  }

  void delay(NodeId v, const std::string& loc) {
    const Node& n = k_.at(v);
    const int W = n.type.width;
    const std::int64_t d = n.a0;
    const std::string& x = nm(n.args[0]);
    if (d == 0) {  // offset(x, +k) already aligned by the schedule: a wire
      w_.wire(vec(W), nm(v), x, fmt::format("x(t{:+}){}", n.a2, also(loc)));
      return;
    }
    if (n.a1 == 0) {  // shift register
      std::string sr = nm(v) + "_sr";
      w_.reg(vec(W * d), sr, fmt::format("{} x {} ticks{}", W, d, also(loc)));
      std::string shifted = d == 1 ? x : fmt::format("{{{}[{}:0], {}}}", sr, W * (d - 1) - 1, x);
      line(fmt::format("  always @(posedge clk) if (rst) {} <= {}; else if (adv) {} <= {};", sr,
                       zeros(static_cast<int>(W * d)), sr, shifted));
      w_.wire(vec(W), nm(v), fmt::format("{}[{}:{}]", sr, W * d - 1, W * (d - 1)));
      return;
    }
    // Line buffer in memory: a circular buffer of d-1 entries read before written, plus its
    // output register; it reads zero until d ticks have been stored.
    const std::int64_t depth = d - 1;
    const int aw = index_bits(static_cast<std::uint64_t>(depth));
    const int cw = bits_for(static_cast<std::uint64_t>(d));
    std::string b = nm(v);
    line(fmt::format("  // line buffer: {} bits x {} ticks in memory{}", W, d, also(loc)));
    w_.memory(vec(W), b + "_mem", depth);
    w_.reg(vec(aw), b + "_ptr");
    w_.reg(vec(cw), b + "_fill");
    w_.reg(vec(W), b + "_q");
    line(fmt::format("  always @(posedge clk) if (adv) begin {}_q <= {}_mem[{}_ptr]; {}_mem[{}_ptr] <= {}; end", b, b, b,
                     b, b, x));
    line(fmt::format("  always @(posedge clk) if (rst) begin {0}_ptr <= {1}; {0}_fill <= {2}; end else if (adv) begin",
                     b, zeros(aw), zeros(cw)));
    line(fmt::format("    {0}_ptr <= ({0}_ptr == {1}'d{2}) ? {3} : {0}_ptr + {1}'d1;", b, aw, depth - 1, zeros(aw)));
    line(fmt::format("    if ({0}_fill != {1}'d{2}) {0}_fill <= {0}_fill + {1}'d1;", b, cw, d));
    line("  end");
    w_.wire(vec(W), b, fmt::format("({}_fill == {}'d{}) ? {}_q : {}", b, cw, d, b, zeros(W)));
  }

  void ram(NodeId v, const std::string& loc) {
    const Node& n = k_.at(v);
    NodeId addr = n.args[0], data = n.args[1], en = n.args[2];
    std::string mem = nm(v) + "_mem";
    w_.memory(vec(n.type.width), mem, n.a0, fmt::format("RAM '{}'{}", n.name, also(loc)));
    // Zero when the device is configured (ir.hpp); a reset does not clear it.
    std::string file = fmt::format("{}_{}.hex", m_.top, nm(v));
    std::string zeros_text;
    for (std::int64_t i = 0; i < n.a0; ++i) zeros_text += "0\n";
    m_.files[file] = zeros_text;
    line(fmt::format("  initial $readmemh(\"{}\", {});", file, mem));
    std::string cond = fmt::format("adv && {}", nm(en));
    if (needs_guard(addr, n.a0)) cond += " && " + guard(addr, n.a0);
    line(fmt::format("  always @(posedge clk) if ({}) {}[{}] <= {};", cond, mem, index(addr, n.a0), nm(data)));
  }

  void rom(NodeId v, const std::string& loc) {
    const Node& n = k_.at(v);
    const int W = n.type.width;
    const int words = words_of(n.type);
    std::string file = fmt::format("{}_{}.hex", m_.top, nm(v));
    std::string text;
    for (std::int64_t i = 0; i < n.a0; ++i) text += bits::to_hex(&n.bits[static_cast<size_t>(i * words)], W) + "\n";
    m_.files[file] = text;
    std::string mem = nm(v) + "_rom";
    w_.memory(vec(W), mem, n.a0, fmt::format("ROM '{}', {} entries{}", n.name, n.a0, also(loc)));
    line(fmt::format("  initial $readmemh(\"{}\", {});", file, mem));
    NodeId addr = n.args[0];
    std::string read = fmt::format("{}[{}]", mem, index(addr, n.a0));
    if (needs_guard(addr, n.a0)) read = fmt::format("{} ? {} : {}", guard(addr, n.a0), read, zeros(W));
    if (n.a1) {
      w_.reg(vec(W), nm(v));
      line(fmt::format("  always @(posedge clk) if (adv) {} <= {};", nm(v), read));
    } else {
      w_.wire(vec(W), nm(v), read);
    }
  }

  void control() {
    line("  // ---- stall logic and output buffers ----");
    std::vector<std::string> in_terms, out_terms, empty_terms;
    for (NodeId i : k_.inputs) {
      const std::string& en = nm(k_.at(i).args[0]);
      in_terms.push_back(fmt::format("(!{} || {}_valid)", en, nm(i)));
      line(fmt::format("  assign {}_ready = adv && {};", nm(i), en));
    }
    for (NodeId o : k_.outputs) {
      const Node& n = k_.at(o);
      const std::string b = nm(o);
      const std::string& en = nm(n.args[1]);
      const std::string& val = nm(n.args[0]);
      const int W = n.type.width;
      line(fmt::format("  // output '{}': two-entry buffer, so that `adv` does not depend on {}_ready", n.name, b));
      w_.reg(vec(W), fmt::format("{0}_slot0, {0}_slot1", b), "written with an enable only: no data muxes");
      line(fmt::format("  reg  {0}_wp, {0}_rp;", b));
      w_.reg(vec(2), b + "_count");
      line(fmt::format("  wire {0}_push = adv && {1};", b, en));
      line(fmt::format("  wire {0}_pop = {0}_valid && {0}_ready;", b));
      line(fmt::format("  assign {0}_valid = {0}_count != 2'd0;", b));
      line(fmt::format("  assign {0}_data = {0}_rp ? {0}_slot1 : {0}_slot0;", b));
      line(fmt::format("  always @(posedge clk) if ({0}_push && !{0}_wp) {0}_slot0 <= {1};", b, val));
      line(fmt::format("  always @(posedge clk) if ({0}_push && {0}_wp) {0}_slot1 <= {1};", b, val));
      line(fmt::format("  always @(posedge clk) begin"));
      line(fmt::format("    if (rst) begin"));
      line(fmt::format("      {0}_count <= 2'd0; {0}_wp <= 1'b0; {0}_rp <= 1'b0;", b));
      line(fmt::format("    end else begin"));
      line(fmt::format("      if ({0}_push) {0}_wp <= !{0}_wp;", b));
      line(fmt::format("      if ({0}_pop) {0}_rp <= !{0}_rp;", b));
      line(fmt::format("      if ({0}_push && !{0}_pop) {0}_count <= {0}_count + 2'd1;", b));
      line(fmt::format("      if (!{0}_push && {0}_pop) {0}_count <= {0}_count - 2'd1;", b));
      line(fmt::format("    end"));
      line(fmt::format("  end"));
      out_terms.push_back(fmt::format("(!{} || {}_count != 2'd2)", en, b));
      empty_terms.push_back(fmt::format("{}_count == 2'd0", b));
    }
    auto all = [](const std::vector<std::string>& t) {
      if (t.empty()) return std::string("1'b1");
      std::string s;
      for (size_t i = 0; i < t.size(); ++i) s += (i ? " && " : "") + t[i];
      return s;
    };
    line(fmt::format("  wire finished = !run_active && (flushed == {}'d{});", flush_bits(), k_.latency));
    line(fmt::format("  wire in_ok = {};", all(in_terms)));
    line(fmt::format("  wire out_ok = {};", all(out_terms)));
    line("  assign adv = !finished && in_ok && out_ok;");
    line(fmt::format("  assign done = finished && {};", all(empty_terms)));
    line("  always @(posedge clk) begin");
    line(fmt::format("    if (rst) begin image_tick <= {{TW{{1'b0}}}}; image <= 32'd0; flushed <= {}'d0; end", flush_bits()));
    line(fmt::format("    else if (adv && !run_active) flushed <= flushed + {}'d1;", flush_bits()));
    line("    else if (adv && image_tick == LAST_TICK) begin image_tick <= {TW{1'b0}}; image <= image + 32'd1; end");
    line("    else if (adv) image_tick <= image_tick + ONE_TICK;");
    line("  end");
  }

  // Width of the flush counter: it counts to the pipeline latency.
  int flush_bits() const { return std::max(1, bits_for(static_cast<std::uint64_t>(k_.latency))); }

  const Kernel& k_;
  VerilogModuleWriter w_;
  VerilogModule m_;
};

}  // namespace

VerilogModule emit_verilog(const Kernel& k) { return Emitter(k).run(); }

std::string write_verilog(const VerilogModule& m, const std::string& dir) {
  std::filesystem::create_directories(dir);
  auto put = [&](const std::string& name, const std::string& text) {
    std::string path = dir + "/" + name;
    std::ofstream f(path);
    f << text;
    if (!f) throw UserError("cannot write " + path);
  };
  put(m.top + ".v", m.verilog);
  for (const auto& [name, text] : m.files) put(name, text);
  return dir + "/" + m.top + ".v";
}

}  // namespace qdf::dsl
