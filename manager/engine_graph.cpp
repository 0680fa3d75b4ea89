#include "manager/engine_graph.hpp"

#include "dsl/errors.hpp"
#include "dsl/passes.hpp"

#include <cctype>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <numeric>

namespace qdf::manager {

using namespace engines;

std::string verilog_identifier(const std::string& s) {
  std::string out;
  for (char ch : s) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "l" + out;
  return out;
}

namespace {

std::string ident(const std::string& s) { return verilog_identifier(s); }

// Where a stream stands while the graph is built: its id and how its values travel.
struct Cursor {
  int stream = -1;
  Lanes lanes;
  std::int64_t values = 0;  // per image
};

class Builder {
 public:
  Builder(EngineGraph& g, const ModelWeights& w, const Folding& f) : g_(g), w_(w), f_(f) {}

  // A stream entering the graph from outside (the network input, or a layer built alone).
  Cursor source(const std::string& name, Lanes lanes, std::int64_t values) {
    return {new_stream(name, -1, 0, lanes, values / lanes.lanes), lanes, values};
  }
  void begin_unit(const std::string& name) {
    g_.units.push_back({name, {}});
    unit_ = static_cast<int>(g_.units.size()) - 1;
  }

  // Builds `layers` from `cur`; with `units`, each layer (with its fused act) begins a
  // partition unit, except the first when `units` is `after_first` (a residual block's main
  // branch, whose first layer shares the unit of the block's fork).
  enum class Units { none, each, after_first };
  Cursor layers(const std::vector<Layer>& ls, Cursor cur, Units units) {
    bool first = true;
    for (size_t i = 0; i < ls.size(); ++i) {
      const Layer& l = ls[i];
      if (l.kind == LayerKind::Input) continue;
      const Layer* fused = i + 1 < ls.size() && ls[i + 1].kind == LayerKind::Activation &&
                                   (l.kind == LayerKind::Conv || l.kind == LayerKind::FullyConnected)
                               ? &ls[i + 1]
                               : nullptr;
      if (units == Units::each || (units == Units::after_first && !first)) begin_unit(ident(l.name));
      first = false;
      const bool outer = unit_level_;
      unit_level_ = units == Units::each;
      cur = layer(l, fused, cur);
      unit_level_ = outer;
      if (fused) ++i;
    }
    return cur;
  }

  Cursor layer(const Layer& l, const Layer* act, Cursor cur) {
    const std::string n = ident(l.name);
    rows_ = std::max(1, l.out.h);
    switch (l.kind) {
      case LayerKind::Conv:
      case LayerKind::FullyConnected: {
        auto it = f_.find(l.name);
        if (it == f_.end()) throw UserError(fmt::format("the folding has no entry for layer {}", l.describe()));
        const LayerFolding fo = it->second;
        const bool conv = l.kind == LayerKind::Conv;
        const int bits = l.in_binary ? 1 : l.in_bits;
        const int mw = conv ? l.k * l.k * l.in.c : static_cast<int>(l.in.size());
        // A conv's SIMD is that of a window mode (window_mode); an fc's divides its inputs.
        const std::optional<WindowMode> mode = conv ? window_mode(fo.simd, l.in.c, l.k) : std::nullopt;
        if (fo.pe < 1 || fo.simd < 1 || l.out_channels % fo.pe || (conv ? !mode : mw % fo.simd != 0))
          throw UserError(fmt::format("layer {}: PE {} must divide its {} outputs and SIMD {} its {} {}", l.describe(), fo.pe,
                                      l.out_channels, fo.simd, conv ? l.in.c : mw,
                                      conv ? "input channels (or be the channels times a divisor of K, or K times the channels "
                                             "times a divisor of K)"
                                           : "inputs"));
        if (!conv && (fo.in_pixels != 1 || fo.mmv != 1))
          throw UserError(fmt::format("layer {}: in_pixels {} and mmv {} apply to a conv's sliding window; an fc reads SIMD inputs "
                                      "per element (give 1)",
                                      l.describe(), fo.in_pixels, fo.mmv));
        std::int64_t vectors = 1;
        if (conv) {
          cur = window(l, *mode, fo.in_pixels, bits, cur, n, fo.mmv);
          vectors = static_cast<std::int64_t>(l.out.h) * l.out.w;
          // A window FIFO of one output row of windows when the MVTU takes a window only every
          // NF*SF ticks (NF > 1): the sliding window stalls as a whole, so without it the reader
          // waits on the MVTU too and falls behind (the simulator found resnet18 at 29% over the
          // plan's cycles without it).
          if (l.out_channels / fo.pe > 1) cur = window_fifo(cur, l.out.w * (mw / fo.simd), n);
        } else {
          cur = convert(cur, fo.simd, n);
          if (l.out_channels / fo.pe > 1) cur = input_fifo(cur, mw / fo.simd, n);
        }
        MvtuConfig mc{.mw = mw, .mh = l.out_channels, .simd = fo.simd, .pe = fo.pe,
                      .input = l.in_binary ? InputKind::Binary : InputKind::Unsigned, .in_bits = bits,
                      .out_bits = act ? act->act_bits : 0, .pixels = fo.mmv, .name = n + "_mvtu"};
        auto wi = w_.weights.find(l.name);
        if (wi == w_.weights.end()) throw UserError(fmt::format("the model has no weights for layer {}", l.describe()));
        std::shared_ptr<const Thresholds> th;
        if (act) {
          auto ti = w_.thresholds.find(act->name);
          if (ti == w_.thresholds.end()) throw UserError(fmt::format("the model has no thresholds for layer {}", act->describe()));
          th = share(ti->second);
        }
        cur = add(l.name, mc, {cur}, mc.out_lanes(), vectors * l.out_channels, vectors / fo.mmv);  // a frame is mmv vectors
        g_.engines.back().data = {share(wi->second), th};
        return cur;
      }
      case LayerKind::Activation: {
        cur = per_channel_lanes(cur, l.in.c, n);
        ThresholdConfig tc{.channels = l.in.c, .pe = cur.lanes.lanes, .pixels = l.in.h * l.in.w, .in_bits = cur.lanes.bits,
                           .out_bits = l.act_bits, .name = n + "_thr"};
        auto ti = w_.thresholds.find(l.name);
        if (ti == w_.thresholds.end()) throw UserError(fmt::format("the model has no thresholds for layer {}", l.describe()));
        cur = add(l.name, tc, {cur}, tc.out_lanes(), cur.values);
        g_.engines.back().data.thresholds = share(ti->second);
        return cur;
      }
      case LayerKind::MaxPool: {
        // Its folding's SIMD and in_pixels if it has one, else the lanes of its input.
        auto it = f_.find(l.name);
        // (lanes of several pixels that are no window mode: the channels of one pixel)
        const int lanes = window_mode(cur.lanes.lanes, l.in.c, l.k) ? cur.lanes.lanes : std::gcd(cur.lanes.lanes, l.in.c);
        const LayerFolding fo = it == f_.end() ? LayerFolding{lanes, lanes} : it->second;
        const std::optional<WindowMode> mode = window_mode(fo.simd, l.in.c, l.k);
        if (!mode)
          throw UserError(fmt::format("layer {}: SIMD {} must divide its {} channels (or be the channels times a divisor of K, or K "
                                      "times the channels times a divisor of K)",
                                      l.describe(), fo.simd, l.in.c));
        const int bits = cur.lanes.bits;
        cur = window(l, *mode, fo.in_pixels, bits, cur, n);
        const std::int64_t windows = static_cast<std::int64_t>(l.out.h) * l.out.w;
        WindowMaxConfig mc{.windows = static_cast<int>(windows), .k = l.k, .c = l.in.c, .simd = mode->lanes, .bits = bits,
                           .pixels = mode->columns * mode->rows, .name = n + "_max"};
        return add(l.name, mc, {cur}, mc.lanes(), windows * l.in.c);
      }
      case LayerKind::GlobalPool: {
        cur = convert(cur, lanes_of(l, cur), n);
        GlobalPoolConfig pc{.h = l.in.h, .w = l.in.w, .c = l.in.c, .simd = cur.lanes.lanes, .bits = cur.lanes.bits, .name = n};
        return add(l.name, pc, {cur}, pc.out_lanes(), l.in.c);
      }
      case LayerKind::LabelSelect: {
        cur = per_channel_lanes(cur, l.in.c, n);
        const int pe = l.top_k == 1 ? cur.lanes.lanes : 1;
        cur = convert(cur, pe, n);
        LabelSelectConfig lc{.classes = l.in.c, .pe = pe, .score_bits = cur.lanes.bits, .score_signed = cur.lanes.is_signed,
                             .k = l.top_k, .name = n};
        return add(l.name, lc, {cur}, lc.out_lanes(), l.top_k);
      }
      case LayerKind::Residual: return residual(l, cur);
      case LayerKind::Input: break;
    }
    throw InternalError(fmt::format("layer {} has no engine mapping", l.describe()));
  }

 private:
  // A pool's lanes: its folding's SIMD if it has one, else those of its input.
  int lanes_of(const Layer& l, const Cursor& cur) const {
    auto it = f_.find(l.name);
    if (it == f_.end()) return std::gcd(cur.lanes.lanes, l.in.c);  // several pixels per element: the channels of one
    if (it->second.simd < 1 || l.in.c % it->second.simd)
      throw UserError(fmt::format("layer {}: SIMD {} must divide its {} channels", l.describe(), it->second.simd, l.in.c));
    return it->second.simd;
  }

  // The sliding window of a conv or max pool in window mode `mode`, reading `in_pixels` pixels
  // per element, after the width converters and input FIFO its input needs.
  Cursor window(const Layer& l, const WindowMode& mode, int in_pixels, int bits, Cursor cur, const std::string& n, int windows = 1) {
    cur = convert(cur, mode.lanes * in_pixels, n);
    cur = input_fifo(cur, WindowConfig{.k = l.k, .s = l.s}.buffer_rows() * (l.in.w / in_pixels) * (l.in.c / mode.lanes), n);
    WindowConfig wc{.h = l.in.h, .w = l.in.w, .c = l.in.c, .k = l.k, .s = l.s, .p = l.p, .simd = mode.lanes, .bits = bits,
                    .columns = mode.columns, .rows = mode.rows, .in_pixels = in_pixels, .windows = windows, .name = n + "_swu"};
    const std::int64_t pixels = static_cast<std::int64_t>(l.out.h) * l.out.w;
    return add(l.name, wc, {cur}, wc.out_lanes(), pixels * l.k * l.k * l.in.c);
  }

  Cursor residual(const Layer& l, Cursor cur) {
    const std::string n = ident(l.name);
    const std::int64_t elements = cur.values / cur.lanes.lanes;
    ForkConfig fc{.elements = static_cast<int>(elements), .width = cur.lanes.element_bits(), .name = n + "_fork"};
    add(l.name, fc, {cur}, cur.lanes, cur.values);
    const int fork = static_cast<int>(g_.engines.size()) - 1;
    Cursor a = cur, b = cur;
    a.stream = g_.engines[static_cast<size_t>(fork)].outputs[0];
    b.stream = g_.engines[static_cast<size_t>(fork)].outputs[1];
    const size_t first_main = g_.engines.size();
    // A block of the top level is cut like its layers: its main branch's layers are units (the
    // first with the fork); its skip path and add are in the unit of the last, so that a cut
    // inside the block carries the skip stream over the ring link beside the main stream.
    Cursor main = layers(l.main, a, unit_level_ ? Units::after_first : Units::none);
    const int main_engines = static_cast<int>(g_.engines.size() - first_main);
    FifoConfig fifo{.width = cur.lanes.element_bits(), .depth = skip_fifo_depth(l, cur.lanes.lanes, main_engines),
                    .name = n + "_skip_fifo"};
    Cursor skip = add(l.name, fifo, {b}, cur.lanes, cur.values, elements);  // a FIFO's frame is one element
    skip = layers(l.projection, skip, Units::none);
    skip = convert(skip, main.lanes.lanes, n + "_skip");
    ResidualAddConfig rc{.elements = static_cast<int>(main.values / main.lanes.lanes), .lanes = main.lanes.lanes,
                         .main_bits = main.lanes.bits, .skip_bits = skip.lanes.bits, .shift = l.shift,
                         .skip_signed = skip.lanes.is_signed, .name = n + "_add"};
    if (rc.out_bits() != l.out_bits)
      throw InternalError(fmt::format("residual {}: the add gives {} bits, the network says {}", l.name, rc.out_bits(), l.out_bits));
    return add(l.name, rc, {main, skip}, rc.out_lanes(), main.values);
  }

  // An input FIFO of `depth` elements, unless the stream comes from the host (whose link has
  // its own buffer). Why: a kernel stalls as a whole, so an MVTU that takes its input vector in
  // the first SF of its NF x SF ticks, or a sliding window that reads rows while it writes
  // windows, passes its stalls upstream; with only the two-entry output buffers between them,
  // the simulator finds sfc, cnv and resnet-mini at 1.7 to 3 times the cycles per image of
  // their slowest engine. One input vector before an MVTU (fc, NF > 1) and R rows before a
  // sliding window (conv or max pool; R its buffer rows) bring them to within 2%.
  // When a layer is priced alone (layer_engines) its FIFO is counted too, so a first layer is
  // priced with a FIFO it will not have.
  Cursor input_fifo(Cursor cur, int depth, const std::string& n) {
    const int from = g_.streams[static_cast<size_t>(cur.stream)].from;
    if (cur.stream == g_.input_stream || depth < 2) return cur;
    if (from >= 0 && is_buffer(g_.engines[static_cast<size_t>(from)].config)) return cur;  // a skip FIFO already decouples
    FifoConfig fc{.width = cur.lanes.element_bits(), .depth = depth, .name = n + "_in_fifo"};
    return add("", fc, {cur}, cur.lanes, cur.values, cur.values / cur.lanes.lanes);
  }

  // A stream of several pixels per element (an MMV conv's output) converted to lanes that divide
  // the channels, for the engines that index channels by lane (thresholds, label select).
  Cursor per_channel_lanes(Cursor cur, int channels, const std::string& n) {
    return channels % cur.lanes.lanes ? convert(cur, std::gcd(cur.lanes.lanes, channels), n) : cur;
  }

  // A FIFO of `depth` elements after a sliding window (see the conv's mapping).
  Cursor window_fifo(Cursor cur, int depth, const std::string& n) {
    if (depth < 2) return cur;
    FifoConfig fc{.width = cur.lanes.element_bits(), .depth = depth, .name = n + "_window_fifo"};
    return add("", fc, {cur}, cur.lanes, cur.values, cur.values / cur.lanes.lanes);
  }

  // Width converters from cur's lanes to `lanes` (through their least common multiple when
  // neither divides the other; it divides the values per image as both do).
  Cursor convert(Cursor cur, int lanes, const std::string& n) {
    if (cur.lanes.lanes == lanes) return cur;
    const int a = cur.lanes.lanes;
    std::vector<int> steps;
    if (a % lanes == 0 || lanes % a == 0) steps = {lanes};
    else steps = {std::lcm(a, lanes), lanes};
    for (int to : steps) {
      WidthConverterConfig wc{.values = static_cast<int>(cur.values), .in_lanes = cur.lanes.lanes, .out_lanes = to,
                              .bits = cur.lanes.bits, .name = fmt::format("{}_wc{}", n, to)};
      Lanes out = cur.lanes;
      out.lanes = to;
      cur = add("", wc, {cur}, out, cur.values);
    }
    return cur;
  }

  // Adds an engine of configuration `cfg` (its kind's ports, engines/engine_kinds.hpp) reading
  // `ins`; its output streams carry `out_values` values per image in `out` lanes. Its cycles per
  // image are its timing model's ticks per frame times `frames` frames per image.
  Cursor add(const std::string& layer, EngineConfig cfg, std::vector<Cursor> ins, Lanes out, std::int64_t out_values,
             std::int64_t frames = 1) {
    Engine e;
    e.name = instance_name(cfg);
    for (const Engine& o : g_.engines)
      if (o.name == e.name) throw UserError(fmt::format("two engines are named '{}': rename a layer", e.name));
    e.layer = layer.empty() ? g_.units[static_cast<size_t>(unit_)].name : layer;
    e.unit = unit_;
    e.input_ports = input_ports(cfg);
    e.output_ports = output_ports(cfg);
    e.cycles_per_image = engine_timing(cfg).ticks_per_frame * frames;
    e.config = std::move(cfg);
    const int id = static_cast<int>(g_.engines.size());
    for (size_t i = 0; i < ins.size(); ++i) {
      StreamEdge& s = g_.streams[static_cast<size_t>(ins[i].stream)];
      if (s.to != -1) throw InternalError(fmt::format("stream {} has two consumers", s.name));
      s.to = id;
      s.to_port = static_cast<int>(i);
      e.inputs.push_back(ins[i].stream);
    }
    if (out.element_bits() > 4096 && !is_buffer(e.config))
      throw UserError(fmt::format("engine {}: {} bits per element is over the 4096 the engines support", e.name, out.element_bits()));
    g_.engines.push_back(std::move(e));
    Cursor c{-1, out, out_values};
    const Engine& added = g_.engines.back();
    for (size_t p = 0; p < added.output_ports.size(); ++p) {
      const std::string sn = added.output_ports.size() == 1 ? added.name : added.name + "_" + added.output_ports[p];
      const int s = new_stream(sn, id, static_cast<int>(p), out, out_values / out.lanes);
      g_.engines.back().outputs.push_back(s);
      if (p == 0) c.stream = s;
    }
    g_.units[static_cast<size_t>(unit_)].engines.push_back(id);
    return c;
  }

  int new_stream(const std::string& name, int from, int from_port, Lanes lanes, std::int64_t elements) {
    StreamEdge s;
    s.name = name;
    s.from = from;
    s.from_port = from_port;
    s.lanes = lanes;
    s.elements = elements;
    s.row_elements = std::max<std::int64_t>(1, (elements + rows_ - 1) / rows_);
    g_.streams.push_back(s);
    return static_cast<int>(g_.streams.size()) - 1;
  }

  template <class T>
  std::shared_ptr<const T> share(const T& v) {
    return std::make_shared<const T>(v);
  }

  EngineGraph& g_;
  const ModelWeights& w_;
  const Folding& f_;
  int unit_ = 0;
  bool unit_level_ = false;  // the layer being built is one of the top level's
  // Output rows of the layer being built: no stream of its engines has fewer rows (a layer's
  // input has at least as many as its output), so elements / rows_ is at least one of its rows.
  int rows_ = 1;
};

// The lanes of the first engine of layer `l` at folding `f`: its sliding window's input (a
// conv's or max pool's), else SIMD; 1 for a SIMD that is no window mode (the builder reports it).
int first_engine_lanes(const Layer& l, const LayerFolding& f) {
  if (l.kind != LayerKind::Conv && l.kind != LayerKind::MaxPool) return f.simd;
  const std::optional<WindowMode> mode = window_mode(f.simd, l.in.c, l.k);
  return mode ? mode->lanes * f.in_pixels : 1;
}

// Rows of a branch's input that must have arrived before it gives the first element of its
// output row `row`, at least (each window waits for the rows it covers).
int rows_needed(const std::vector<Layer>& branch, int row) {
  int r = row;
  for (auto it = branch.rbegin(); it != branch.rend(); ++it)
    if (it->kind == LayerKind::Conv || it->kind == LayerKind::MaxPool) r = std::min(it->in.h, r * it->s - it->p + it->k) - 1;
  return r + 1;
}

// The same, at most: a sliding window also reads ahead, up to its R buffer rows from the top of
// the current windows (engines/sliding_window.hpp), and as a kernel stalls as a whole, a read
// that waits for its row also holds back the windows it could already give; the window's input
// FIFO holds R rows more.
int rows_taken(const std::vector<Layer>& branch, int row) {
  int r = row;
  for (auto it = branch.rbegin(); it != branch.rend(); ++it)
    if (it->kind == LayerKind::Conv || it->kind == LayerKind::MaxPool) {
      const int buffer_rows = WindowConfig{.k = it->k, .s = it->s}.buffer_rows();
      const int fifo_rows = buffer_rows;  // its input FIFO (Builder::input_fifo)
      // A conv's window FIFO (Builder::window_fifo) holds an output row of windows, so its
      // sliding window may be an output row, S input rows, further on.
      const int window_fifo_rows = it->kind == LayerKind::Conv ? it->s : 0;
      r = std::min(it->in.h, std::max(r * it->s - it->p, 0) + buffer_rows + fifo_rows + window_fifo_rows) - 1;
    }
  return r + 1;
}

}  // namespace

int skip_fifo_depth(const Layer& res, int input_lanes, int main_engines) {
  int rows = 0;
  for (int r = 0; r < res.out.h; ++r) {
    const int consumed = r == 0 ? 0 : rows_needed(res.projection, r - 1);
    rows = std::max(rows, rows_taken(res.main, r) - consumed);
  }
  const std::int64_t row_elements = static_cast<std::int64_t>(res.in.w) * res.in.c / input_lanes;
  return static_cast<int>((rows + 1) * row_elements + 4 * main_engines + 8);
}

std::optional<WindowMode> window_mode(int simd, int channels, int k) {
  if (simd < 1 || channels < 1 || k < 1) return std::nullopt;
  if (simd <= channels) return channels % simd == 0 ? std::optional<WindowMode>(WindowMode{simd, 1, 1}) : std::nullopt;
  if (simd % channels) return std::nullopt;
  const int g = simd / channels;  // window pixels per element
  if (g <= k) return k % g == 0 ? std::optional<WindowMode>(WindowMode{channels, g, 1}) : std::nullopt;
  if (g % k || k % (g / k)) return std::nullopt;
  return WindowMode{channels, k, g / k};
}

nlohmann::json folding_json(const Folding& f) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [layer, lf] : f) {
    j[layer] = {{"pe", lf.pe}, {"simd", lf.simd}};
    if (lf.in_pixels != 1) j[layer]["in_pixels"] = lf.in_pixels;  // written only when used: older manifests stay valid
    if (lf.mmv != 1) j[layer]["mmv"] = lf.mmv;
  }
  return j;
}

LayerFolding layer_folding_from_json(const nlohmann::json& v, const std::string& where) {
  auto integer = [&](const char* key, bool required, int otherwise) {
    if (!v.is_object()) throw UserError(fmt::format("{} needs integer \"pe\" and \"simd\" in an object, found {}", where, v.dump()));
    auto it = v.find(key);
    if (it == v.end()) {
      if (required) throw UserError(fmt::format("{} needs integer \"pe\" and \"simd\" (and may have \"in_pixels\" and \"mmv\")", where));
      return otherwise;
    }
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > (1 << 20))
      throw UserError(fmt::format("{}: \"{}\" must be a positive integer, found {}", where, key, it->dump()));
    return it->get<int>();
  };
  return {integer("pe", true, 1), integer("simd", true, 1), integer("in_pixels", false, 1), integer("mmv", false, 1)};
}

EngineGraph build_engine_graph(const Net& net, const ModelWeights& weights, const Folding& folding) {
  check_weights(net, weights);
  const std::vector<Layer>& ls = net.layers();
  if (ls.empty() || ls.front().kind != LayerKind::Input) throw UserError("a network must start with an input");
  EngineGraph g;
  g.net = net.name;
  g.folding = folding;
  g.input_shape = ls.front().out;
  g.input_bits = ls.front().out_bits;
  g.input_binary = ls.front().out_binary;
  g.output_shape = net.shape();
  Builder b(g, weights, folding);
  // The host sends the input at the lanes of the first engine that reads it.
  const Layer& in_layer = ls.front();
  int lanes = 1;
  if (ls.size() > 1) {
    auto it = folding.find(ls[1].name);
    if (it != folding.end()) lanes = first_engine_lanes(ls[1], it->second);
  }
  const bool flat = ls.size() > 1 && ls[1].kind == LayerKind::FullyConnected;  // a vector: any divisor of its size
  if ((flat ? in_layer.out.size() : static_cast<std::int64_t>(in_layer.out.w) * in_layer.out.c) % lanes) lanes = 1;
  Cursor in = b.source(ident(in_layer.name), Lanes{lanes, in_layer.out_binary ? 1 : in_layer.out_bits, false}, in_layer.out.size());
  g.input_stream = in.stream;
  Cursor out = b.layers(ls, in, Builder::Units::each);
  g.output_stream = out.stream;
  return g;
}

std::vector<Engine> layer_engines(const Layer& l, const Layer* act, const LayerFolding& f, const ModelWeights& weights) {
  EngineGraph g;
  Folding folding{{l.name, f}};
  Builder b(g, weights, folding);
  b.begin_unit(ident(l.name));
  // An activation thresholds signed accumulators; a label select's scores are signed unless they
  // are bits (a binary activation's; a 2-bit activation's or a pool's differ only in signedness,
  // which costs the same).
  const bool signed_in = l.kind == LayerKind::Activation || (l.kind == LayerKind::LabelSelect && !l.in_binary);
  Lanes lanes{first_engine_lanes(l, f), l.in_binary ? 1 : l.in_bits, signed_in};
  b.layer(l, act, b.source("in", lanes, l.in.size()));
  return g.engines;
}

std::vector<std::vector<int>> cut_streams(const EngineGraph& g) {
  std::vector<std::vector<int>> out(g.units.size() + 1);
  for (int s = 0; s < static_cast<int>(g.streams.size()); ++s) {
    const StreamEdge& e = g.streams[static_cast<size_t>(s)];
    if (e.from < 0 || e.to < 0) continue;  // the host's
    const int a = g.engines[static_cast<size_t>(e.from)].unit, b = g.engines[static_cast<size_t>(e.to)].unit;
    for (int i = a + 1; i <= b; ++i) out[static_cast<size_t>(i)].push_back(s);
  }
  return out;
}

int insert_fifo(EngineGraph& g, int stream, int depth, const std::string& name, int unit, int fpga) {
  StreamEdge s = g.streams[static_cast<size_t>(stream)];
  Engine e;
  FifoConfig fc{.width = s.width(), .depth = depth, .name = name};
  fc.check();
  e.name = name;
  e.input_ports = input_ports(fc);
  e.output_ports = output_ports(fc);
  e.cycles_per_image = engine_timing(fc).ticks_per_frame * s.elements;
  e.config = fc;
  const int consumer = s.to;
  e.layer = consumer >= 0 ? g.engines[static_cast<size_t>(consumer)].layer : "output";
  e.unit = consumer >= 0 ? g.engines[static_cast<size_t>(consumer)].unit : g.engines[static_cast<size_t>(s.from)].unit;
  e.fpga = consumer >= 0 ? g.engines[static_cast<size_t>(consumer)].fpga : g.engines[static_cast<size_t>(s.from)].fpga;
  if (unit >= 0) e.unit = unit, e.fpga = fpga;
  const int id = static_cast<int>(g.engines.size());
  // The old stream now ends at the FIFO; a new one leaves it for the old consumer.
  StreamEdge out = s;
  out.name = name;
  out.from = id;
  out.from_port = 0;
  g.streams[static_cast<size_t>(stream)].to = id;
  g.streams[static_cast<size_t>(stream)].to_port = 0;
  g.streams.push_back(out);
  const int out_id = static_cast<int>(g.streams.size()) - 1;
  e.inputs = {stream};
  e.outputs = {out_id};
  if (consumer >= 0) {
    for (int& in : g.engines[static_cast<size_t>(consumer)].inputs)
      if (in == stream) in = out_id;
  } else if (g.output_stream == stream) {
    g.output_stream = out_id;
  }
  g.engines.push_back(std::move(e));
  g.units[static_cast<size_t>(g.engines.back().unit)].engines.push_back(id);
  return id;
}

dsl::Kernel engine_kernel(const Engine& e) { return engines::engine_kernel(e.config, e.data); }
dsl::Resources engine_resources(const Engine& e) { return engines::engine_resources(e.config, e.data); }
nlohmann::json engine_config_json(const Engine& e) { return engines::engine_config_json(e.config); }

}  // namespace qdf::manager
