#include "manager/model_weights.hpp"

#include "dsl/bits.hpp"
#include "dsl/errors.hpp"
#include "dsl/files.hpp"
#include "manager/bundle.hpp"
#include "manager/load_bundle.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace qdf::manager {

namespace {

constexpr char kMagic[8] = {'Q', 'D', 'F', 'M', 'O', 'D', 'E', 'L'};
constexpr std::uint32_t kVersion = 1;

void flatten_into(const std::vector<Layer>& layers, std::vector<const Layer*>& out) {
  for (const Layer& l : layers) {
    out.push_back(&l);
    if (l.kind == LayerKind::Residual) {
      flatten_into(l.main, out);
      flatten_into(l.projection, out);
    }
  }
}

int weight_cols(const Layer& l) {
  return l.kind == LayerKind::Conv ? l.k * l.k * l.in.c : static_cast<int>(l.in.size());
}

// Mean and standard deviation of the accumulators a layer gives with random +-1 weights on
// inputs spread over their range. A conv / fc sums fan-in products w*x: mean 0, variance fan-in
// times E[x^2] (1 for +-1 bits, M(2M+1)/6 for unsigned values uniform over 0..M). A residual adds
// its skip times 2^shift: a projection's accumulators, or unsigned activations of mean M/2 and
// variance M(M+2)/12.
struct Spread {
  double mean = 0, sd = 1;
};

Spread accumulator_spread(const Layer& l) {
  if (l.kind == LayerKind::Conv || l.kind == LayerKind::FullyConnected) {
    const double m = l.in_binary ? 1 : static_cast<double>((std::int64_t{1} << l.in_bits) - 1);
    const double mean_sq = l.in_binary ? 1 : m * (2 * m + 1) / 6;
    return {0, std::sqrt(weight_cols(l) * mean_sq)};
  }
  if (l.kind == LayerKind::Residual && !l.main.empty()) {
    const Spread main = accumulator_spread(l.main.back());
    const double scale = std::ldexp(1.0, l.shift);
    Spread skip;
    if (!l.projection.empty()) {
      skip = accumulator_spread(l.projection.back());
    } else {
      const double m = l.in_binary ? 1 : static_cast<double>((std::int64_t{1} << l.in_bits) - 1);
      skip = {m / 2, std::sqrt(m * (m + 2) / 12)};
    }
    return {main.mean + scale * skip.mean, std::hypot(main.sd, scale * skip.sd)};
  }
  return {0, 1};
}

// Random thresholds over the spread of `prev`'s accumulators (the layer an activation follows):
// within two standard deviations of their mean, where accumulators fall and meet thresholds
// exactly, so that the activations of random weights vary and both sides of every comparison
// are exercised. Each channel's levels ascending.
void random_thresholds(const Layer& act, const Layer* prev, std::uint64_t& s, ModelWeights& w) {
  engines::Thresholds t;
  t.channels = act.in.c;
  t.levels = (1 << act.act_bits) - 1;
  const Spread a = prev ? accumulator_spread(*prev) : Spread{};
  const std::int64_t bound = std::int64_t{1} << (act.in_bits - 1);  // the accumulator's range
  const std::int64_t lo = std::clamp<std::int64_t>(std::llround(a.mean - 2 * a.sd), -bound, bound - 1);
  const std::int64_t hi = std::clamp<std::int64_t>(std::llround(a.mean + 2 * a.sd), lo + 1, bound);
  for (int c = 0; c < t.channels; ++c) {
    std::vector<std::int64_t> v;
    for (int i = 0; i < t.levels; ++i)
      v.push_back(lo + static_cast<std::int64_t>(dsl::bits::splitmix64(s) % static_cast<std::uint64_t>(hi - lo + 1)));
    std::sort(v.begin(), v.end());
    t.t.insert(t.t.end(), v.begin(), v.end());
    t.flip.push_back(dsl::bits::splitmix64(s) % 8 == 0);
  }
  w.thresholds[act.name] = std::move(t);
}

// In the order of flatten(), one draw per matrix and levels + 1 per channel of thresholds.
void random_weights_into(const std::vector<Layer>& layers, std::uint64_t& s, ModelWeights& w) {
  const Layer* prev = nullptr;
  for (const Layer& l : layers) {
    if (l.kind == LayerKind::Conv || l.kind == LayerKind::FullyConnected) {
      w.weights[l.name] = engines::BinaryMatrix::random(l.out_channels, weight_cols(l), dsl::bits::splitmix64(s));
    } else if (l.kind == LayerKind::Activation) {
      random_thresholds(l, prev, s, w);
    } else if (l.kind == LayerKind::Residual) {
      random_weights_into(l.main, s, w);
      random_weights_into(l.projection, s, w);
    }
    prev = &l;
  }
}

}  // namespace

std::vector<const Layer*> flatten(const Net& net) {
  std::vector<const Layer*> out;
  flatten_into(net.layers(), out);
  return out;
}

ModelWeights random_weights(const Net& net, std::uint64_t seed) {
  ModelWeights w;
  std::uint64_t s = seed;
  random_weights_into(net.layers(), s, w);
  return w;
}

void check_weights(const Net& net, const ModelWeights& w) {
  std::size_t needed_w = 0, needed_t = 0;
  for (const Layer* l : flatten(net)) {
    if (l->kind == LayerKind::Conv || l->kind == LayerKind::FullyConnected) {
      ++needed_w;
      auto it = w.weights.find(l->name);
      if (it == w.weights.end()) throw UserError(fmt::format("the model has no weights for layer {}", l->describe()));
      if (it->second.rows != l->out_channels || it->second.cols != weight_cols(*l))
        throw UserError(fmt::format("layer {} needs {}x{} weights, the model has {}x{}", l->describe(), l->out_channels,
                                    weight_cols(*l), it->second.rows, it->second.cols));
    } else if (l->kind == LayerKind::Activation) {
      ++needed_t;
      auto it = w.thresholds.find(l->name);
      if (it == w.thresholds.end()) throw UserError(fmt::format("the model has no thresholds for layer {}", l->describe()));
      it->second.check_shape(fmt::format("layer {}", l->describe()), l->in.c, l->act_bits);
    }
  }
  if (w.weights.size() != needed_w || w.thresholds.size() != needed_t) {
    std::vector<std::string> names;
    for (const Layer* l : flatten(net)) names.push_back(l->name);
    for (const auto& [name, m] : w.weights)
      if (std::find(names.begin(), names.end(), name) == names.end())
        throw UserError(fmt::format("the model has weights for '{}', which is not a layer of network '{}'", name, net.name));
    for (const auto& [name, t] : w.thresholds)
      if (std::find(names.begin(), names.end(), name) == names.end())
        throw UserError(fmt::format("the model has thresholds for '{}', which is not a layer of network '{}'", name, net.name));
  }
}

void save_model(const std::string& path, const Net& net, const ModelWeights& w) {
  check_weights(net, w);
  nlohmann::json header;
  header["network"] = net.name;
  header["net"] = network_json(net);  // the network itself, for load_network_model
  header["layers"] = nlohmann::json::array();
  std::vector<std::uint64_t> payload;  // 64-bit little-endian words
  for (const Layer* l : flatten(net)) {
    if (l->kind == LayerKind::Conv || l->kind == LayerKind::FullyConnected) {
      const engines::BinaryMatrix& m = w.weights.at(l->name);
      header["layers"].push_back({{"name", l->name}, {"kind", "weights"}, {"rows", m.rows}, {"cols", m.cols},
                                  {"offset", payload.size()}, {"words", m.words.size()}});
      payload.insert(payload.end(), m.words.begin(), m.words.end());
    } else if (l->kind == LayerKind::Activation) {
      const engines::Thresholds& t = w.thresholds.at(l->name);
      header["layers"].push_back({{"name", l->name}, {"kind", "thresholds"}, {"channels", t.channels},
                                  {"levels", t.levels}, {"offset", payload.size()}});
      for (std::int64_t v : t.t) payload.push_back(static_cast<std::uint64_t>(v));
      for (std::uint8_t f : t.flip) payload.push_back(f);
    }
  }
  const std::string text = header.dump();
  dsl::write_file_atomically(path, [&](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary);
    std::uint32_t v = kVersion, reserved = 0;
    std::uint64_t n = text.size();
    f.write(kMagic, sizeof kMagic);
    f.write(reinterpret_cast<const char*>(&v), sizeof v);
    f.write(reinterpret_cast<const char*>(&reserved), sizeof reserved);
    f.write(reinterpret_cast<const char*>(&n), sizeof n);
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    f.write(reinterpret_cast<const char*>(payload.data()), static_cast<std::streamsize>(payload.size() * 8));
    f.close();
    if (!f) throw UserError(fmt::format("cannot write model file {}", path));
  });
}

ModelWeights load_model(const std::string& path, const Net& net) {
  auto bad = [&](const std::string& what) { return UserError(fmt::format("model file {}: {}", path, what)); };
  // A regular file, whose size bounds every size and offset below before anything is allocated
  // (a device such as /dev/zero would be read without end).
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) throw UserError(fmt::format("cannot open model file {}", path));
  if (!std::filesystem::is_regular_file(st))
    throw bad("expected a regular file (written by `qdf train` or save_model), found a directory, device or pipe");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw UserError(fmt::format("cannot open model file {}", path));
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.size() < 24 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw bad("not a qdf model (it does not start with QDFMODEL)");
  std::uint32_t version;
  std::uint64_t n;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&n, bytes.data() + 16, 8);
  if (version != kVersion) throw bad(fmt::format("format version {}, this qdf reads version {}", version, kVersion));
  if (n > bytes.size() - 24) throw bad(fmt::format("truncated: the header claims {} bytes, the file has {}", n, bytes.size() - 24));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 24, bytes.begin() + 24 + static_cast<std::ptrdiff_t>(n));
  } catch (const std::exception& e) {
    throw bad(std::string("malformed header: ") + e.what());
  }
  const std::size_t payload_at = 24 + n;
  if ((bytes.size() - payload_at) % 8 != 0) throw bad("truncated: the payload is not a whole number of 64-bit words");
  const std::uint64_t words = (bytes.size() - payload_at) / 8;
  auto word = [&](std::uint64_t i) {
    std::uint64_t v;
    std::memcpy(&v, bytes.data() + payload_at + i * 8, 8);
    return v;
  };
  ModelWeights w;
  try {
    if (header.at("network").get<std::string>() != net.name)
      throw bad(fmt::format("it is a model of network '{}', not of '{}'", header.at("network").get<std::string>(), net.name));
    for (const auto& e : header.at("layers")) {
      const std::string name = e.at("name").get<std::string>(), kind = e.at("kind").get<std::string>();
      // A count of `e[key]`: a non-negative integer of at most `max` (a 32-bit int, or the
      // payload's words), checked before it sizes or indexes anything.
      auto count = [&](const char* key, std::uint64_t max) {
        const nlohmann::json& v = e.at(key);
        if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<std::int64_t>() < 0) ||
            v.get<std::uint64_t>() > max)
          throw bad(fmt::format("layer '{}': '{}' must be an integer in 0..{}, found {}", name, key, max, v.dump()));
        return v.get<std::uint64_t>();
      };
      constexpr std::uint64_t int_max = std::numeric_limits<int>::max();
      const std::uint64_t offset = count("offset", words);
      // The payload's words from `offset` on: every size below is compared with it (overflow-free).
      const std::uint64_t left = words - offset;
      if (kind == "weights") {
        const std::uint64_t rows = count("rows", int_max), cols = count("cols", int_max - 63);  // (cols + 63) / 64 in an int
        const std::uint64_t size = rows * ((cols + 63) / 64);  // < 2^31 * 2^26: no overflow
        if (count("words", words) != size)
          throw bad(fmt::format("layer '{}': inconsistent weight size ({} rows of {} columns are {} words, the header says {})", name, rows,
                                cols, size, e.at("words").dump()));
        if (size > left)
          throw bad(fmt::format("truncated: the weights of layer '{}' are missing ({} words at offset {}, the payload has {})", name, size,
                                offset, words));
        engines::BinaryMatrix m(static_cast<int>(rows), static_cast<int>(cols));
        for (std::uint64_t i = 0; i < size; ++i) m.words[i] = word(offset + i);
        w.weights[name] = std::move(m);
      } else if (kind == "thresholds") {
        const std::uint64_t channels = count("channels", int_max), levels = count("levels", int_max);
        // channels * (levels + 1) words, each factor < 2^31: no overflow in 64 bits.
        if (channels * (levels + 1) > left)
          throw bad(fmt::format("truncated: the thresholds of layer '{}' are missing ({} channels of {} levels at offset {}, the payload "
                                "has {} words)",
                                name, channels, levels, offset, words));
        engines::Thresholds t;
        t.channels = static_cast<int>(channels);
        t.levels = static_cast<int>(levels);
        const std::uint64_t n_t = channels * levels;
        for (std::uint64_t i = 0; i < n_t; ++i) t.t.push_back(static_cast<std::int64_t>(word(offset + i)));
        for (std::uint64_t c = 0; c < channels; ++c) t.flip.push_back(word(offset + n_t + c) != 0);
        w.thresholds[name] = std::move(t);
      } else {
        throw bad(fmt::format("layer '{}' has an unknown kind '{}'", name, kind));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw bad(std::string("malformed header: ") + e.what());
  }
  check_weights(net, w);
  return w;
}

NetworkModel load_network_model(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f || !std::filesystem::is_regular_file(path)) throw UserError(fmt::format("cannot open model file {}", path));
  char head[24] = {};
  f.read(head, sizeof head);
  std::uint64_t n = 0;
  std::memcpy(&n, head + 16, 8);
  if (!f || std::memcmp(head, kMagic, sizeof kMagic) != 0) throw UserError(fmt::format("model file {}: not a qdf model (it does not start with QDFMODEL)", path));
  if (n > std::filesystem::file_size(path) - 24) throw UserError(fmt::format("model file {}: truncated header", path));
  std::string text(n, '\0');
  f.read(text.data(), static_cast<std::streamsize>(n));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw UserError(fmt::format("model file {}: malformed header: {}", path, e.what()));
  }
  if (!header.contains("net"))
    throw UserError(fmt::format("model file {} does not describe its network (it holds weights only); name the network and give the file "
                                "with --model",
                                path));
  NetworkModel m;
  m.net = network_from_json(header["net"]);
  m.weights = load_model(path, m.net);  // every check of the weights against the network
  return m;
}

}  // namespace qdf::manager
