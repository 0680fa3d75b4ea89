// The table of engine kinds (engine_kinds.hpp says what an entry provides and why).
#include "engines/engine_kinds.hpp"

#include "dsl/errors.hpp"
#include "dsl/passes.hpp"

#include <concepts>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace qdf::engines {

using nlohmann::json;

template <class Config>
struct EngineKind;  // an entry per alternative of EngineConfig, below

namespace {

const std::vector<std::string> kIn{"in"}, kOut{"out"};

// The output streams of a functional model, moved into the list (a braced list would copy each:
// its elements are const).
template <class... V>
std::vector<Values> streams(V&&... v) {
  std::vector<Values> out;
  out.reserve(sizeof...(V));
  (out.push_back(std::forward<V>(v)), ...);
  return out;
}

// A weight matrix or thresholds that the configuration needs and the engine lacks is a bug of
// whoever built the engine.
template <class T>
const T& need(const std::shared_ptr<const T>& p, const std::string& engine, const char* what) {
  if (!p) throw InternalError(fmt::format("engine {} has no {}", engine, what));
  return *p;
}

}  // namespace

// ---- the table ---------------------------------------------------------------------------------

template <>
struct EngineKind<WindowConfig> {
  static constexpr std::string_view name = "sliding_window";
  static const std::vector<std::string>& input_ports() { return kIn; }
  static const std::vector<std::string>& output_ports() { return kOut; }
  static dsl::Kernel kernel(const WindowConfig& c, const EngineData&) { return sliding_window_kernel(c); }
  static std::vector<Values> forward(const WindowConfig& c, const EngineData&, std::vector<Values> in) {
    return streams(sliding_window_forward(c, in[0]));
  }
  static EngineTiming timing(const WindowConfig& c) { return sliding_window_timing(c); }
  static json to_json(const WindowConfig& c) {
    json j = {{"h", c.h}, {"w", c.w}, {"c", c.c}, {"k", c.k}, {"s", c.s}, {"p", c.p}, {"simd", c.simd}, {"bits", c.bits},
              {"columns", c.columns}};
    if (c.rows != 1) j["rows"] = c.rows;  // written only when used: older manifests stay valid
    if (c.in_pixels != 1) j["in_pixels"] = c.in_pixels;
    if (c.windows != 1) j["windows"] = c.windows;
    return j;
  }
};

template <>
struct EngineKind<MvtuConfig> {
  static constexpr std::string_view name = "mvtu";
  static const std::vector<std::string>& input_ports() { return kIn; }
  static const std::vector<std::string>& output_ports() { return kOut; }
  static dsl::Kernel kernel(const MvtuConfig& c, const EngineData& d) {
    return mvtu_kernel(c, need(d.weights, c.name, "weights"), d.thresholds.get());
  }
  static std::vector<Values> forward(const MvtuConfig& c, const EngineData& d, std::vector<Values> in) {
    return streams(mvtu_forward(c, need(d.weights, c.name, "weights"), d.thresholds.get(), in[0]));
  }
  static EngineTiming timing(const MvtuConfig& c) { return mvtu_timing(c); }
  static json to_json(const MvtuConfig& c) {
    json j = {{"mw", c.mw},           {"mh", c.mh},          {"pe", c.pe}, {"simd", c.simd}, {"input", c.input == InputKind::Binary ? "binary" : "unsigned"},
              {"in_bits", c.in_bits}, {"out_bits", c.out_bits}};
    if (c.pixels != 1) j["pixels"] = c.pixels;  // written only when used: older manifests stay valid
    return j;
  }
};

template <>
struct EngineKind<ThresholdConfig> {
  static constexpr std::string_view name = "thresholds";
  static const std::vector<std::string>& input_ports() { return kIn; }
  static const std::vector<std::string>& output_ports() { return kOut; }
  static dsl::Kernel kernel(const ThresholdConfig& c, const EngineData& d) {
    return threshold_kernel(c, need(d.thresholds, c.name, "thresholds"));
  }
  static std::vector<Values> forward(const ThresholdConfig& c, const EngineData& d, std::vector<Values> in) {
    return streams(threshold_forward(c, need(d.thresholds, c.name, "thresholds"), in[0]));
  }
  static EngineTiming timing(const ThresholdConfig& c) { return threshold_timing(c); }
  static json to_json(const ThresholdConfig& c) {
    return {{"channels", c.channels}, {"pe", c.pe}, {"pixels", c.pixels}, {"in_bits", c.in_bits}, {"out_bits", c.out_bits}};
  }
};

template <>
struct EngineKind<WindowMaxConfig> {
  static constexpr std::string_view name = "window_max";
  static const std::vector<std::string>& input_ports() { return kIn; }
  static const std::vector<std::string>& output_ports() { return kOut; }
  static dsl::Kernel kernel(const WindowMaxConfig& c, const EngineData&) { return window_max_kernel(c); }
  static std::vector<Values> forward(const WindowMaxConfig& c, const EngineData&, std::vector<Values> in) {
    return streams(window_max_forward(c, in[0]));
  }
  static EngineTiming timing(const WindowMaxConfig& c) { return window_max_timing(c); }
  static json to_json(const WindowMaxConfig& c) {
    json j = {{"windows", c.windows}, {"k", c.k}, {"c", c.c}, {"simd", c.simd}, {"bits", c.bits}};
    if (c.pixels != 1) j["pixels"] = c.pixels;  // written only when used: older manifests stay valid
    return j;
  }
};

template <>
struct EngineKind<GlobalPoolConfig> {
  static constexpr std::string_view name = "global_pool";
  static const std::vector<std::string>& input_ports() { return kIn; }
  static const std::vector<std::string>& output_ports() { return kOut; }
  static dsl::Kernel kernel(const GlobalPoolConfig& c, const EngineData&) { return global_pool_kernel(c); }
  static std::vector<Values> forward(const GlobalPoolConfig& c, const EngineData&, std::vector<Values> in) {
    return streams(global_pool_forward(c, in[0]));
  }
  static EngineTiming timing(const GlobalPoolConfig& c) { return global_pool_timing(c); }
  static json to_json(const GlobalPoolConfig& c) { return {{"h", c.h}, {"w", c.w}, {"c", c.c}, {"simd", c.simd}, {"bits", c.bits}}; }
};

template <>
struct EngineKind<ResidualAddConfig> {
  static constexpr std::string_view name = "residual_add";
  static const std::vector<std::string>& input_ports() {
    static const std::vector<std::string> p{"main", "skip"};
    return p;
  }
  static const std::vector<std::string>& output_ports() { return kOut; }
  static dsl::Kernel kernel(const ResidualAddConfig& c, const EngineData&) { return residual_add_kernel(c); }
  static std::vector<Values> forward(const ResidualAddConfig& c, const EngineData&, std::vector<Values> in) {
    return streams(residual_add_forward(c, in[0], in[1]));
  }
  static EngineTiming timing(const ResidualAddConfig& c) { return residual_add_timing(c); }
  static json to_json(const ResidualAddConfig& c) {
    return {{"elements", c.elements}, {"lanes", c.lanes},  {"main_bits", c.main_bits},
            {"skip_bits", c.skip_bits}, {"shift", c.shift}, {"skip_signed", c.skip_signed}};
  }
};

template <>
struct EngineKind<ForkConfig> {
  static constexpr std::string_view name = "fork";
  static const std::vector<std::string>& input_ports() { return kIn; }
  static const std::vector<std::string>& output_ports() {
    static const std::vector<std::string> p{"a", "b"};
    return p;
  }
  static dsl::Kernel kernel(const ForkConfig& c, const EngineData&) { return fork_kernel(c); }
  static std::vector<Values> forward(const ForkConfig&, const EngineData&, std::vector<Values> in) {
    Values copy = in[0];
    return streams(std::move(in[0]), std::move(copy));
  }
  static EngineTiming timing(const ForkConfig& c) { return fork_timing(c); }
  static json to_json(const ForkConfig& c) { return {{"elements", c.elements}, {"width", c.width}}; }
};

template <>
struct EngineKind<WidthConverterConfig> {
  static constexpr std::string_view name = "width_converter";
  static const std::vector<std::string>& input_ports() { return kIn; }
  static const std::vector<std::string>& output_ports() { return kOut; }
  static dsl::Kernel kernel(const WidthConverterConfig& c, const EngineData&) { return width_converter_kernel(c); }
  static constexpr bool passes_values = true;  // the same values in other lanes
  static std::vector<Values> forward(const WidthConverterConfig&, const EngineData&, std::vector<Values> in) {
    return streams(std::move(in[0]));
  }
  static EngineTiming timing(const WidthConverterConfig& c) { return width_converter_timing(c); }
  static json to_json(const WidthConverterConfig& c) {
    return {{"values", c.values}, {"in_lanes", c.in_lanes}, {"out_lanes", c.out_lanes}, {"bits", c.bits}};
  }
};

template <>
struct EngineKind<LabelSelectConfig> {
  static constexpr std::string_view name = "label_select";
  static const std::vector<std::string>& input_ports() { return kIn; }
  static const std::vector<std::string>& output_ports() { return kOut; }
  static dsl::Kernel kernel(const LabelSelectConfig& c, const EngineData&) { return label_select_kernel(c); }
  static std::vector<Values> forward(const LabelSelectConfig& c, const EngineData&, std::vector<Values> in) {
    return streams(label_select_forward(c, in[0]));
  }
  static EngineTiming timing(const LabelSelectConfig& c) { return label_select_timing(c); }
  static json to_json(const LabelSelectConfig& c) {
    json j = {{"classes", c.classes}, {"pe", c.pe}, {"score_bits", c.score_bits}, {"k", c.k}};
    if (!c.score_signed) j["score_signed"] = false;  // written when not the default, so that older bundles read the same
    return j;
  }
};

template <>
struct EngineKind<FifoConfig> {
  static constexpr std::string_view name = "fifo";
  static const std::vector<std::string>& input_ports() { return kIn; }
  static const std::vector<std::string>& output_ports() { return kOut; }
  static constexpr bool passes_values = true;
  static std::vector<Values> forward(const FifoConfig&, const EngineData&, std::vector<Values> in) {
    return streams(std::move(in[0]));
  }
  static EngineTiming timing(const FifoConfig&) { return {1, 1}; }  // one element per tick
  static json to_json(const FifoConfig& c) { return {{"width", c.width}, {"depth", c.depth}}; }
  static dsl::VerilogModule module(const FifoConfig& c) { return fifo_module(c); }
  static dsl::Kernel ports(const FifoConfig& c) { return fifo_ports(c); }
  static dsl::Resources resources(const FifoConfig& c) { return fifo_resources(c); }
  static int depth(const FifoConfig& c) { return c.depth; }
  static int capacity(const FifoConfig& c) { return c.capacity(); }
};

// ---- what an entry must provide ----------------------------------------------------------------

template <class E, class C>
concept EngineKindCommon = requires(const C& c, const EngineData& d, std::vector<Values> in) {
  { E::name } -> std::convertible_to<std::string_view>;
  { E::input_ports() } -> std::same_as<const std::vector<std::string>&>;
  { E::output_ports() } -> std::same_as<const std::vector<std::string>&>;
  { E::forward(c, d, std::move(in)) } -> std::same_as<std::vector<Values>>;
  { E::timing(c) } -> std::same_as<EngineTiming>;
  { E::to_json(c) } -> std::same_as<json>;
};
template <class E, class C>
concept KernelKind = requires(const C& c, const EngineData& d) {
  { E::kernel(c, d) } -> std::same_as<dsl::Kernel>;
};
template <class E, class C>
concept BufferKind = requires(const C& c) {
  { E::module(c) } -> std::same_as<dsl::VerilogModule>;
  { E::ports(c) } -> std::same_as<dsl::Kernel>;
  { E::resources(c) } -> std::same_as<dsl::Resources>;
  { E::depth(c) } -> std::same_as<int>;
  { E::capacity(c) } -> std::same_as<int>;
};
template <class C>
concept EngineKindEntry = EngineKindCommon<EngineKind<C>, C> && (KernelKind<EngineKind<C>, C> != BufferKind<EngineKind<C>, C>);

template <class... C>
constexpr bool every_kind_has_an_entry(std::variant<C...>*) {
  static_assert((EngineKindEntry<C> && ...), "each alternative of EngineConfig needs an EngineKind<Config> entry (see engine_kinds.hpp)");
  return true;
}
static_assert(every_kind_has_an_entry(static_cast<EngineConfig*>(nullptr)));

// ---- the generic faces -------------------------------------------------------------------------

namespace {

// Calls f(entry, config) with the entry of c's kind.
template <class F>
decltype(auto) with_kind(const EngineConfig& c, F&& f) {
  return std::visit([&](const auto& cfg) -> decltype(auto) { return f(EngineKind<std::decay_t<decltype(cfg)>>{}, cfg); }, c);
}

}  // namespace

std::string_view kind_name(const EngineConfig& c) {
  return with_kind(c, [](auto e, const auto&) { return std::string_view(decltype(e)::name); });
}

const std::string& instance_name(const EngineConfig& c) {
  return std::visit([](const auto& cfg) -> const std::string& { return cfg.name; }, c);
}

const std::vector<std::string>& input_ports(const EngineConfig& c) {
  return with_kind(c, [](auto e, const auto&) -> const std::vector<std::string>& { return decltype(e)::input_ports(); });
}

const std::vector<std::string>& output_ports(const EngineConfig& c) {
  return with_kind(c, [](auto e, const auto&) -> const std::vector<std::string>& { return decltype(e)::output_ports(); });
}

std::vector<Values> engine_forward(const EngineConfig& c, const EngineData& d, std::vector<Values> inputs) {
  return with_kind(c, [&](auto e, const auto& cfg) {
    using E = decltype(e);
    if (inputs.size() != E::input_ports().size())
      throw InternalError(fmt::format("engine {} ({}) takes {} input streams, given {}", cfg.name, E::name, E::input_ports().size(),
                                      inputs.size()));
    std::vector<Values> out = E::forward(cfg, d, std::move(inputs));
    if (out.size() != E::output_ports().size())
      throw InternalError(fmt::format("engine {} ({}) gave {} output streams, not {}", cfg.name, E::name, out.size(),
                                      E::output_ports().size()));
    return out;
  });
}

bool passes_values(const EngineConfig& c) {
  return with_kind(c, [](auto e, const auto&) {
    if constexpr (requires { decltype(e)::passes_values; }) return decltype(e)::passes_values;
    else return false;
  });
}

namespace {

// The fused pairs (engine_kinds.hpp): a sliding window into an MVTU that reads its windows, and
// into a window max over them (a max pool).
std::pair<const WindowConfig*, const MvtuConfig*> window_into_mvtu(const EngineConfig& producer, const EngineConfig& consumer) {
  const auto* w = std::get_if<WindowConfig>(&producer);
  const auto* m = std::get_if<MvtuConfig>(&consumer);
  if (w && m && w->bits == m->in_bits && w->k * w->k * w->c == m->mw) return {w, m};
  return {nullptr, nullptr};
}

std::pair<const WindowConfig*, const WindowMaxConfig*> window_into_max(const EngineConfig& producer, const EngineConfig& consumer) {
  const auto* w = std::get_if<WindowConfig>(&producer);
  const auto* m = std::get_if<WindowMaxConfig>(&consumer);
  if (w && m && w->k == m->k && w->c == m->c) return {w, m};
  return {nullptr, nullptr};
}

}  // namespace

bool fuses(const EngineConfig& producer, const EngineConfig& consumer) {
  return window_into_mvtu(producer, consumer).first || window_into_max(producer, consumer).first;
}

std::vector<Values> fused_forward(const EngineConfig& producer, const EngineConfig& consumer, const EngineData& consumer_data,
                                  std::vector<Values> inputs) {
  if (inputs.size() != 1)
    throw InternalError(fmt::format("engine {} takes 1 input stream, given {}", instance_name(producer), inputs.size()));
  if (const auto [w, m] = window_into_mvtu(producer, consumer); w) {
    const SimdPath path = best_simd_path();
    // Many-bit pixels (a first layer's 8-bit ones) as bytes, where bytes are counted by dot
    // products: a byte dot product does four values of any width; a popcount, 64 values of one bit
    // of width, so the planes win below about 3 bits.
    if (m->input == InputKind::Unsigned && m->in_bits >= 4 && m->in_bits <= 8 && byte_matches_fast(path)) {
      const WindowBytes b = sliding_window_bytes(*w, inputs[0]);
      if (b.too_wide) mvtu_refuse_input(*m, inputs[0]);
      return streams(mvtu_forward_bytes(*m, need(consumer_data.weights, m->name, "weights"), consumer_data.thresholds.get(),
                                        b.bytes.data(), b.windows, path));
    }
    const WindowPlanes p = sliding_window_planes(*w, inputs[0], path);
    if (p.too_wide) mvtu_refuse_input(*m, inputs[0]);
    return streams(mvtu_forward_planes(*m, need(consumer_data.weights, m->name, "weights"), consumer_data.thresholds.get(),
                                       p.planes.data(), p.windows, path));
  }
  if (const auto [w, m] = window_into_max(producer, consumer); w) return streams(sliding_window_max(*w, inputs[0]));
  throw InternalError(fmt::format("engines {} and {} do not fuse", instance_name(producer), instance_name(consumer)));
}

EngineTiming engine_timing(const EngineConfig& c) {
  return with_kind(c, [](auto e, const auto& cfg) { return decltype(e)::timing(cfg); });
}

json engine_config_json(const EngineConfig& c) {
  return with_kind(c, [](auto e, const auto& cfg) { return decltype(e)::to_json(cfg); });
}

int buffer_depth(const EngineConfig& c) {
  return with_kind(c, [](auto e, const auto& cfg) {
    using E = decltype(e);
    if constexpr (BufferKind<E, std::decay_t<decltype(cfg)>>) return E::depth(cfg);
    else return 0;
  });
}

int buffer_capacity(const EngineConfig& c) {
  return with_kind(c, [](auto e, const auto& cfg) {
    using E = decltype(e);
    if constexpr (BufferKind<E, std::decay_t<decltype(cfg)>>) return E::capacity(cfg);
    else return 0;
  });
}

dsl::Kernel engine_kernel(const EngineConfig& c, const EngineData& d) {
  return with_kind(c, [&](auto e, const auto& cfg) -> dsl::Kernel {
    using E = decltype(e);
    if constexpr (KernelKind<E, std::decay_t<decltype(cfg)>>) return E::kernel(cfg, d);
    else throw InternalError(fmt::format("engine {} is a {}, a Verilog primitive with no kernel", cfg.name, E::name));
  });
}

EngineRtl engine_rtl(const EngineConfig& c, const EngineData& d) {
  return with_kind(c, [&](auto e, const auto& cfg) -> EngineRtl {
    using E = decltype(e);
    if constexpr (KernelKind<E, std::decay_t<decltype(cfg)>>) {
      dsl::Kernel k = dsl::compile_kernel(E::kernel(cfg, d));
      dsl::VerilogModule m = dsl::emit_verilog(k);
      return {std::move(m), std::move(k)};
    } else {
      return {E::module(cfg), E::ports(cfg)};
    }
  });
}

dsl::Resources engine_resources(const EngineConfig& c, const EngineData& d) {
  return with_kind(c, [&](auto e, const auto& cfg) -> dsl::Resources {
    using E = decltype(e);
    if constexpr (KernelKind<E, std::decay_t<decltype(cfg)>>) return dsl::estimate_resources(dsl::compile_kernel(E::kernel(cfg, d)));
    else return E::resources(cfg);
  });
}

}  // namespace qdf::engines
