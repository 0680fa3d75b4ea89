#include "manager/load_bundle.hpp"

#include "dsl/errors.hpp"
#include "manager/bundle.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace qdf::manager {

using nlohmann::json;

namespace {

std::string field_path(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
std::string item_path(const std::string& path, size_t i) { return fmt::format("{}[{}]", path, i); }

std::string shown(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Typed fields of a JSON document; a missing or mistyped field is a UserError that names the
// document ("bundle 'b': manifest.json") and the field's path ("engines[3].config.depth").
class Fields {
 public:
  explicit Fields(std::string doc) : doc_(std::move(doc)) {}

  [[noreturn]] void fail(const std::string& what) const { throw UserError(fmt::format("{}: {}", doc_, what)); }

  const json& get(const json& obj, const std::string& path, const std::string& key) const {
    if (!obj.is_object()) fail(fmt::format("'{}' must be an object, found {}", path.empty() ? "the document" : path, shown(obj)));
    auto it = obj.find(key);
    if (it == obj.end()) fail(fmt::format("field '{}' is missing", field_path(path, key)));
    return *it;
  }
  std::int64_t int64(const json& obj, const std::string& path, const std::string& key) const {
    const json& v = get(obj, path, key);
    if (!v.is_number_integer()) wrong(path, key, "an integer", v);
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      wrong(path, key, "a 64-bit integer", v);
    return v.get<std::int64_t>();
  }
  int integer(const json& obj, const std::string& path, const std::string& key) const {
    const std::int64_t v = int64(obj, path, key);
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) wrong(path, key, "a 32-bit integer", json(v));
    return static_cast<int>(v);
  }
  double number(const json& obj, const std::string& path, const std::string& key) const {
    const json& v = get(obj, path, key);
    if (!v.is_number()) wrong(path, key, "a number", v);
    return v.get<double>();
  }
  // A figure that must be positive (or, with `zero_ok`, at least 0) and finite.
  std::int64_t positive_int64(const json& obj, const std::string& path, const std::string& key, bool zero_ok = false) const {
    const std::int64_t v = int64(obj, path, key);
    if (zero_ok ? v < 0 : v <= 0) range(path, key, zero_ok, json(v));
    return v;
  }
  double positive_number(const json& obj, const std::string& path, const std::string& key, bool zero_ok = false) const {
    const double v = number(obj, path, key);
    if (!(std::isfinite(v) && (zero_ok ? v >= 0 : v > 0))) range(path, key, zero_ok, get(obj, path, key));
    return v;
  }
  std::string text(const json& obj, const std::string& path, const std::string& key) const {
    const json& v = get(obj, path, key);
    if (!v.is_string()) wrong(path, key, "a string", v);
    return v.get<std::string>();
  }
  bool boolean(const json& obj, const std::string& path, const std::string& key) const {
    const json& v = get(obj, path, key);
    if (!v.is_boolean()) wrong(path, key, "true or false", v);
    return v.get<bool>();
  }
  const json& array(const json& obj, const std::string& path, const std::string& key) const {
    const json& v = get(obj, path, key);
    if (!v.is_array()) wrong(path, key, "an array", v);
    return v;
  }
  const json& object(const json& obj, const std::string& path, const std::string& key) const {
    const json& v = get(obj, path, key);
    if (!v.is_object()) wrong(path, key, "an object", v);
    return v;
  }

 private:
  [[noreturn]] void range(const std::string& path, const std::string& key, bool zero_ok, const json& found) const {
    fail(fmt::format("field '{}' must be {}, found {}: the manifest was edited, or written by another qdf", field_path(path, key),
                     zero_ok ? "at least 0" : "positive", shown(found)));
  }
  [[noreturn]] void wrong(const std::string& path, const std::string& key, const char* expected, const json& found) const {
    fail(fmt::format("field '{}' must be {}, found {}", field_path(path, key), expected, shown(found)));
  }
  std::string doc_;
};

std::vector<Layer> layers_from_json(const Fields& f, const json& a, const std::string& path);

Layer layer_from_json(const Fields& f, const json& j, const std::string& path) {
  Layer l;
  l.name = f.text(j, path, "name");
  const std::string kind = f.text(j, path, "kind");
  if (kind == "conv") {
    l.kind = LayerKind::Conv;
    l.k = f.integer(j, path, "k");
    l.s = f.integer(j, path, "s");
    l.p = f.integer(j, path, "p");
    l.out_channels = f.integer(j, path, "outputs");
  } else if (kind == "fc") {
    l.kind = LayerKind::FullyConnected;
    l.out_channels = f.integer(j, path, "outputs");
  } else if (kind == "act") {
    l.kind = LayerKind::Activation;
    l.act_bits = f.integer(j, path, "bits");
  } else if (kind == "maxpool") {
    l.kind = LayerKind::MaxPool;
    l.k = f.integer(j, path, "k");
    l.s = f.integer(j, path, "s");
    l.p = f.integer(j, path, "p");
  } else if (kind == "global_pool") {
    l.kind = LayerKind::GlobalPool;
  } else if (kind == "label_select") {
    l.kind = LayerKind::LabelSelect;
    l.top_k = f.integer(j, path, "top_k");
  } else if (kind == "residual") {
    l.kind = LayerKind::Residual;
    l.shift = f.integer(j, path, "shift");
    l.main = layers_from_json(f, f.array(j, path, "main"), field_path(path, "main"));
    l.projection = layers_from_json(f, f.array(j, path, "projection"), field_path(path, "projection"));
  } else if (kind == "input") {
    f.fail(fmt::format("'{}' is an input, which can only start the network", path));
  } else {
    f.fail(fmt::format("field '{}' is \"{}\", not a layer kind (input, conv, fc, act, maxpool, global_pool, residual, label_select)",
                       field_path(path, "kind"), kind));
  }
  return l;
}

std::vector<Layer> layers_from_json(const Fields& f, const json& a, const std::string& path) {
  std::vector<Layer> out;
  for (size_t i = 0; i < a.size(); ++i) out.push_back(layer_from_json(f, a[i], item_path(path, i)));
  return out;
}

// The first path where `want` and `got` differ (keys of `want` only, "resources" left out: an
// estimate, not the design), or nothing.
std::optional<std::string> first_difference(const json& want, const json& got, const std::string& path) {
  if (want.is_object() && got.is_object()) {
    for (auto it = want.begin(); it != want.end(); ++it) {
      if (it.key() == "resources") continue;
      if (!got.contains(it.key())) return field_path(path, it.key());
      if (auto d = first_difference(it.value(), got[it.key()], field_path(path, it.key()))) return d;
    }
    return std::nullopt;
  }
  auto flat = [](const json& a) { return std::none_of(a.begin(), a.end(), [](const json& v) { return v.is_structured(); }); };
  if (want.is_array() && got.is_array() && !(flat(want) && flat(got))) {  // a shape or list of names differs as a whole
    for (size_t i = 0; i < std::min(want.size(), got.size()); ++i)
      if (auto d = first_difference(want[i], got[i], item_path(path, i))) return d;
    if (want.size() != got.size()) return path;
    return std::nullopt;
  }
  if (want != got) return path;
  return std::nullopt;
}

const json* at_path(const json& j, const std::string& path) {
  // Paths are made of keys and [indices] joined by '.', as made above.
  const json* cur = &j;
  size_t i = 0;
  while (i < path.size() && cur) {
    if (path[i] == '.') ++i;
    if (path[i] == '[') {
      const size_t close = path.find(']', i);
      const size_t index = std::stoul(path.substr(i + 1, close - i - 1));
      cur = cur->is_array() && index < cur->size() ? &(*cur)[index] : nullptr;
      i = close + 1;
    } else {
      const size_t end = std::min(path.find('.', i), path.find('[', i));
      const std::string key = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
      cur = cur->is_object() && cur->contains(key) ? &(*cur)[key] : nullptr;
      i = end == std::string::npos ? path.size() : end;
    }
  }
  return cur;
}

Net network_from(const Fields& f, const json& j, const std::string& path) {
  Net net;
  const json& ls = f.array(j, path, "layers");
  const std::string lpath = field_path(path, "layers");
  if (ls.empty()) f.fail(fmt::format("'{}' is empty: a network starts with an input", lpath));
  const std::string first = item_path(lpath, 0);
  if (f.text(ls[0], first, "kind") != "input") f.fail(fmt::format("'{}' must be the network's input", first));
  const json& shape = f.array(ls[0], first, "out");
  if (shape.size() != 3 || !shape[0].is_number_integer() || !shape[1].is_number_integer() || !shape[2].is_number_integer())
    f.fail(fmt::format("field '{}.out' must be [height, width, channels], found {}", first, shown(shape)));
  std::vector<Layer> rest;
  for (size_t i = 1; i < ls.size(); ++i) rest.push_back(layer_from_json(f, ls[i], item_path(lpath, i)));
  try {
    net = input(f.text(ls[0], first, "name"), {shape[0].get<int>(), shape[1].get<int>(), shape[2].get<int>()},
                f.integer(ls[0], first, "out_bits"), f.boolean(ls[0], first, "binary"));
    for (Layer& l : rest) net.append(std::move(l));
  } catch (const UserError& e) {
    f.fail(fmt::format("its network does not build: {}", e.what()));
  }
  net.name = f.text(j, path, "name");
  // The shapes and precisions inferred again must be those stated.
  const json again = network_json(net);
  if (auto d = first_difference(j["layers"], again["layers"], "layers")) {
    const json* want = at_path(j, *d);
    const json* got = at_path(again, *d);
    f.fail(fmt::format("field '{}' is {}, but the network's layers give {}", field_path(path, *d), want ? shown(*want) : "missing",
                       got ? shown(*got) : "nothing there"));
  }
  return net;
}

Link link_from(const Fields& f, const json& m, const std::string& key) {
  const json& j = f.object(m, "", key);
  Link l;
  l.name = f.text(j, key, "name");
  l.description = f.text(j, key, "description");
  l.bandwidth = f.positive_number(j, key, "bandwidth_bytes_per_s");
  l.latency = f.positive_number(j, key, "latency_s", true);
  try {
    check_link(l, "--" + key);
  } catch (const UserError& e) {
    f.fail(fmt::format("field '{}': {}", key, e.what()));
  }
  return l;
}

Device device_from(const Fields& f, const json& m) {
  const json& j = f.object(m, "", "device");
  Device d;
  d.name = f.text(j, "device", "name");
  d.description = f.text(j, "device", "description");
  d.lut_kind = f.text(j, "device", "lut_kind");
  d.luts = f.positive_int64(j, "device", "luts");
  d.ffs = f.positive_int64(j, "device", "ffs");
  d.bram_blocks = f.positive_int64(j, "device", "bram_blocks");
  d.bram_bits = f.positive_int64(j, "device", "bram_bits");
  d.dsps = f.positive_int64(j, "device", "dsps", true);
  d.clock_mhz = f.positive_number(m, "", "clock_mhz");
  return d;
}

Folding folding_from(const Fields& f, const json& m) {
  Folding out;
  for (const auto& [layer, v] : f.object(m, "", "folding").items()) {
    try {
      out[layer] = layer_folding_from_json(v, fmt::format("field 'folding.{}'", layer));
    } catch (const UserError& e) {
      f.fail(e.what());
    }
  }
  return out;
}

// The first unit of each FPGA, from the FPGAs' layers (unit names) in the manifest.
std::vector<int> partition_from(const Fields& f, const json& m, const EngineGraph& g) {
  const json& fpgas = f.array(m, "", "fpgas");
  if (fpgas.empty()) f.fail("field 'fpgas' is empty: a plan has at least one FPGA");
  std::vector<int> first;
  size_t next = 0;
  for (size_t i = 0; i < fpgas.size(); ++i) {
    const std::string path = item_path("fpgas", i);
    const json& units = f.array(fpgas[i], path, "layers");
    if (units.empty()) f.fail(fmt::format("field '{}.layers' is empty: every FPGA holds at least one layer", path));
    first.push_back(static_cast<int>(next));
    for (size_t k = 0; k < units.size(); ++k, ++next) {
      const std::string upath = item_path(path + ".layers", k);
      if (!units[k].is_string()) f.fail(fmt::format("field '{}' must be a layer's name, found {}", upath, shown(units[k])));
      if (next >= g.units.size())
        f.fail(fmt::format("field '{}' is \"{}\", but the network's {} layers are all placed before it", upath, units[k].get<std::string>(),
                           g.units.size()));
      if (units[k].get<std::string>() != g.units[next].name)
        f.fail(fmt::format("field '{}' is \"{}\", but the network's next layer is \"{}\": the FPGAs hold the layers in order", upath,
                           units[k].get<std::string>(), g.units[next].name));
    }
  }
  if (next != g.units.size())
    f.fail(fmt::format("the FPGAs hold {} of the network's {} layers; \"{}\" and after are on none", next, g.units.size(),
                       g.units[next].name));
  return first;
}

bool hidden(const std::filesystem::path& p) {
  for (const auto& part : p)
    if (!part.empty() && part.string()[0] == '.' && part != "." && part != "..") return true;
  return false;
}

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) throw UserError(fmt::format("cannot read '{}'", p.string()));
  return std::move(bytes).str();
}

// The bundle's files against the manifest's "files": what differs, one line each.
std::vector<std::string> check_files(const Fields& f, const json& m, const std::string& dir) {
  namespace fs = std::filesystem;
  const json& files = f.object(m, "", "files");
  const size_t fpgas = f.array(m, "", "fpgas").size();
  std::vector<std::string> out;
  std::set<std::string> listed;
  for (const auto& [name, hash] : files.items()) {
    // A plain file name, or fpga<i>/<file name>: never a path out of the bundle.
    const size_t slash = name.find('/');
    const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    auto plain = [](const std::string& s) {
      return !s.empty() && s[0] != '.' &&
             std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; });
    };
    bool ok = plain(base) && base != "manifest.json";
    if (ok && slash != std::string::npos) {
      const std::string d = name.substr(0, slash);
      ok = false;
      for (size_t i = 0; i < fpgas; ++i) ok = ok || d == fmt::format("fpga{}", i);
    }
    if (!ok)
      f.fail(fmt::format("field 'files' names \"{}\": expected a file of the bundle, \"NAME\" or \"fpga<i>/NAME\" (letters, digits, "
                         "'_', '-', '.')",
                         name));
    if (!hash.is_string() || hash.get<std::string>().size() != 16)
      f.fail(fmt::format("field 'files.{}' must be a hash of 16 hex digits, found {}", name, shown(hash)));
    listed.insert(name);
    const fs::path p = fs::path(dir) / name;
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) {
      out.push_back(fmt::format("{}: missing (the manifest lists it)", name));
      continue;
    }
    const std::string got = file_hash(read_bytes(p));
    if (got != hash.get<std::string>())
      out.push_back(fmt::format("{}: changed since the bundle was written (hash {}, the manifest records {})", name, got,
                                hash.get<std::string>()));
  }
  // Files the manifest does not list (hidden ones aside: qdf's marker, editors' swap files).
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path rel = fs::relative(it->path(), dir);
    if (hidden(rel)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory() || rel == "manifest.json" || listed.count(rel.generic_string())) continue;
    out.push_back(fmt::format("{}: not one of the files the manifest lists (stale, or added by hand)", rel.generic_string()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Net network_from_json(const json& j) { return network_from(Fields("network JSON"), j, ""); }

LoadedBundle load_bundle(const std::string& dir, bool allow_edited) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec))
    throw UserError(fmt::format("no bundle directory '{}': expected the directory that `qdf compile NET --out DIR` writes, found "
                                "nothing at that path",
                                dir));
  if (!fs::is_directory(dir, ec))
    throw UserError(fmt::format("'{}' is not a bundle: expected the directory that `qdf compile NET --out DIR` writes, found a file",
                                dir));
  const std::string manifest_path = dir + "/manifest.json";
  if (!fs::exists(manifest_path, ec))
    throw UserError(fmt::format("bundle '{}' has no manifest.json: expected the directory that `qdf compile NET --out DIR` writes "
                                "(manifest.json, model, Verilog), found a directory without one",
                                dir));
  std::ifstream in(manifest_path);
  if (!in) throw UserError(fmt::format("cannot read {}", manifest_path));

  LoadedBundle b;
  b.dir = dir;
  const Fields f(fmt::format("bundle '{}': manifest.json", dir));
  try {
    b.manifest = json::parse(in);
  } catch (const json::exception& e) {
    f.fail(fmt::format("is not JSON: {}", e.what()));
  }
  const json& m = b.manifest;
  if (!m.is_object() || !m.contains("format") || m["format"] != "qdf-bundle")
    f.fail(fmt::format("is not a qdf bundle manifest: its \"format\" is {}, expected \"qdf-bundle\"",
                       m.is_object() && m.contains("format") ? shown(m["format"]) : "missing"));
  const json& version = f.get(m, "", "version");
  if (version != kBundleVersion)
    f.fail(fmt::format("is bundle format version {}; this qdf reads version {}: write the bundle again with this qdf (qdf compile)",
                       shown(version), kBundleVersion));
  // The files first: a changed model or Verilog is named as such, before what it breaks.
  b.edited = check_files(f, m, dir);
  if (!b.edited.empty() && !allow_edited)
    throw UserError(fmt::format("bundle '{}': {} of its files differ{} from what its manifest.json records:\n  {}\ncompile the bundle "
                                "again (qdf compile), or run it as it is with --allow-edited-bundle",
                                dir, b.edited.size(), b.edited.size() == 1 ? "s" : "", fmt::join(b.edited, "\n  ")));

  // Ordered so that each step reads only what the ones before have checked: the network, then
  // its weights, then the design choices (device, links, folding, partition), then the plan
  // from them, which must be the one the manifest describes.
  b.net = network_from(f, f.object(m, "", "network"), "network");
  // The model is a file of the bundle: a plain name, neither a path out of it nor a device.
  const std::string model = f.text(m, "", "model");
  if (model.empty() || model == "." || model == ".." || model.find('/') != std::string::npos || model.find('\0') != std::string::npos)
    f.fail(fmt::format("field 'model' is {}: expected the name of a file inside the bundle directory, such as \"model.qdfmodel\"",
                       shown(json(model))));
  if (!m["files"].contains(model)) f.fail(fmt::format("field 'files' does not list the model, \"{}\"", model));
  try {
    b.weights = load_model(dir + "/" + model, b.net);
  } catch (const UserError& e) {
    throw UserError(fmt::format("bundle '{}': {}", dir, e.what()));
  }
  PlanOptions opt;
  opt.device = device_from(f, m);
  opt.ring = link_from(f, m, "ring");
  opt.host = link_from(f, m, "host");
  opt.folding = folding_from(f, m);
  EngineGraph unplaced;
  try {
    unplaced = build_engine_graph(b.net, b.weights, *opt.folding);
  } catch (const UserError& e) {
    f.fail(fmt::format("its folding does not fit its network: {}", e.what()));
  }
  const std::vector<int> first_units = partition_from(f, m, unplaced);
  opt.fpgas = static_cast<int>(first_units.size());
  b.plan = plan_partition(b.net, b.weights, opt, first_units, f.text(m, "", "limit"));
  // The plan's FPGAs within the device's budget: the manifest's device is not part of the plan
  // compared below (its resources are estimates), so a smaller device would pass unseen.
  for (size_t i = 0; i < b.plan.fpgas.size(); ++i) {
    const FpgaPlan& fp = b.plan.fpgas[i];
    if (!(fp.lut_fraction <= 1 && fp.bram_fraction <= 1))
      f.fail(fmt::format("FPGA {} needs {:.0f} LUTs and {} block RAMs, but the manifest's device '{}' has {} LUTs and {} block RAMs: "
                         "the manifest was edited, or written by another qdf; compile the network again for this device",
                         i, fp.resources.lut, fp.bram_blocks, opt.device.name, opt.device.luts, opt.device.bram_blocks));
  }

  const json again = bundle_manifest(b.plan, b.net);
  for (const char* key : {"net", "input", "output", "folding", "fpgas", "engines", "streams", "links", "cycles_per_image", "fps",
                          "bottleneck"}) {
    const json& want = f.get(m, "", key);
    if (auto d = first_difference(want, again[key], key)) {
      const json* w = at_path(m, *d);
      const json* g = at_path(again, *d);
      f.fail(fmt::format("field '{}' is {}, but the plan rebuilt from its network, folding and partition has {}: the manifest was "
                         "edited, or written by another qdf",
                         *d, w ? shown(*w) : "missing", g ? shown(*g) : "nothing there"));
    }
  }
  return b;
}

std::vector<dsl::VerilogModule> bundle_fpga_modules(const LoadedBundle& b, int fpga) {
  namespace fs = std::filesystem;
  const std::string top = fpga_top_name(b.plan, fpga);
  const fs::path d = fs::path(b.dir) / fmt::format("fpga{}", fpga);
  std::vector<dsl::VerilogModule> mods;
  std::map<std::string, std::string> roms;
  std::vector<fs::path> paths;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(d, ec))
    if (!hidden(e.path().filename()) && e.is_regular_file()) paths.push_back(e.path());
  if (ec) throw UserError(fmt::format("bundle '{}': cannot read its directory fpga{}: {}", b.dir, fpga, ec.message()));
  std::sort(paths.begin(), paths.end());
  for (const fs::path& p : paths) {
    if (p.extension() == ".v") mods.push_back({p.stem().string(), read_bytes(p), {}, {}});
    else roms[p.filename().string()] = read_bytes(p);
  }
  auto it = std::find_if(mods.begin(), mods.end(), [&](const dsl::VerilogModule& m) { return m.top == top; });
  if (it == mods.end())
    throw UserError(fmt::format("bundle '{}': FPGA {}'s top, fpga{}/{}.v, is missing", b.dir, fpga, fpga, top));
  std::rotate(mods.begin(), it, it + 1);
  // Each ROM file goes with the module that reads it, whose $readmemh the RTL build points at it.
  for (auto& [name, text] : roms) {
    dsl::VerilogModule* reader = &mods[0];
    for (dsl::VerilogModule& m : mods)
      if (m.verilog.find(fmt::format("$readmemh(\"{}\"", name)) != std::string::npos) reader = &m;
    reader->files[name] = std::move(text);
  }
  return mods;
}

}  // namespace qdf::manager
