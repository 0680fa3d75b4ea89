// Quantization-aware training (host/train/train_network.hpp). A feature map of a batch is a row-major
// float matrix with one row per pixel (image, row, column) and one column per channel, so that
// an image's row-major block is the (row, column, channel) order the streams and the weight
// columns use, and an fc's input is the same buffer seen as one row per image. Every value a
// layer computes from ±1 weights and integer activations is an integer below 2^24, exact in float.
#include "host/train/train_network.hpp"

#include "dsl/errors.hpp"
#include "dsl/files.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <sstream>
#include <zlib.h>

namespace qdf::host {

using manager::Layer;
using manager::LayerKind;
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Row = Eigen::Matrix<float, 1, Eigen::Dynamic>;

int quantize(double y, int act_bits) {
  if (act_bits == 1) return y >= 0 ? 1 : 0;
  return static_cast<int>(std::clamp(std::floor(y + 0.5), 0.0, static_cast<double>((1 << act_bits) - 1)));
}

engines::Thresholds fold_batch_norm(const BatchNorm& bn, int act_bits, std::int64_t bound) {
  engines::Thresholds t;
  t.channels = static_cast<int>(bn.mean.size());
  t.levels = (1 << act_bits) - 1;
  const double never = static_cast<double>(bound + 1);
  for (int ch = 0; ch < t.channels; ++ch) {
    const auto c = static_cast<size_t>(ch);
    const double k = bn.gamma[c] / std::sqrt(bn.var[c] + bn.eps);
    t.flip.push_back(k < 0 ? 1 : 0);
    for (int i = 0; i < t.levels; ++i) {
      // y >= level: the levels of the quantizer are 0 (1-bit) and i + 1/2 (2-bit).
      const double level = act_bits == 1 ? 0.0 : i + 0.5;
      double x;  // the threshold on s * acc, before rounding to the integers acc takes
      if (k > 0) x = std::ceil(bn.mean[c] + (level - bn.beta[c]) / k);
      else if (k < 0) x = -std::floor(bn.mean[c] + (level - bn.beta[c]) / k);
      else x = bn.beta[c] >= level ? -never : never;
      t.t.push_back(static_cast<std::int64_t>(std::clamp(x, -never, never)));
    }
  }
  return t;
}

namespace {

// A trained parameter with its optimizer state.
struct Param {
  Mat value, grad, m, v;
  void init(Mat x) {
    value = std::move(x);
    grad = m = v = Mat::Zero(value.rows(), value.cols());
  }
};

struct Map {  // a batch of feature maps
  Mat v;      // rows: (image, y, x); columns: channels
  int h = 1, w = 1, c = 1;
};

// One layer of the network as trained.
struct Stage {
  const Layer* layer = nullptr;
  // conv / fc
  Param w;        // latent weights, outputs x fan-in
  Mat sign;       // ±1
  Mat cols;       // the layer's input as rows of fan-in (conv: im2col)
  float pad = 0;  // value of padding (0, or -1 in a binary map)
  std::int64_t bound = 0;  // largest |accumulator|
  // act
  Param gamma, beta;
  Row mean, var;     // running averages
  Mat xhat, y;       // normalised accumulators, batch norm outputs
  Row inv_std;
  int bits = 0;
  engines::Thresholds folded;
  // max pool: the input row of each output element's maximum
  std::vector<int> argmax;
  // label select
  Param log_scale;
  // residual: the branches, each a list of stages on the block's input
  std::vector<Stage> main, projection;
  Map in;  // the stage's input (kept where the backward pass needs it)
};

// Every stage of a list and of the branches inside it, in order (a residual block before its
// main branch, then its projection).
template <class Stages, class F>
void for_each_stage(Stages& stages, F f) {
  for (auto& st : stages) {
    f(st);
    for_each_stage(st.main, f);
    for_each_stage(st.projection, f);
  }
}

constexpr float kEps = 1e-5f, kMomentum = 0.1f;

// The window taps of a k x k, stride s, padding p window over a batch of b h x w maps, to an
// oh x ow output: f(r, tap, in_row) for output pixel r (image, y, x) and tap ky * k + kx, with
// in_row the input pixel's row, or -1 where the tap falls on padding. Images run in parallel,
// and f touches only rows of its own image.
template <class F>
void for_each_window_tap(int b, int h, int w, int k, int s, int p, int oh, int ow, F f) {
#pragma omp parallel for
  for (int i = 0; i < b; ++i)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        const Eigen::Index r = (static_cast<Eigen::Index>(i) * oh + oy) * ow + ox;
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx) {
            const int y = oy * s - p + ky, x = ox * s - p + kx;
            const bool inside = y >= 0 && y < h && x >= 0 && x < w;
            f(r, ky * k + kx, inside ? (static_cast<Eigen::Index>(i) * h + y) * w + x : Eigen::Index{-1});
          }
      }
}

Mat im2col(const Map& in, int b, int k, int s, int p, float pad, int oh, int ow) {
  Mat cols(static_cast<Eigen::Index>(b) * oh * ow, static_cast<Eigen::Index>(k) * k * in.c);
  for_each_window_tap(b, in.h, in.w, k, s, p, oh, ow, [&](Eigen::Index r, int tap, Eigen::Index in_row) {
    auto dst = cols.row(r).segment(tap * in.c, in.c);
    if (in_row >= 0) dst = in.v.row(in_row);
    else dst.setConstant(pad);
  });
  return cols;
}

// The transpose of im2col: each window column's gradient added back to its input pixel.
Map col2im(const Mat& dcols, int b, int h, int w, int c, int k, int s, int p, int oh, int ow) {
  Map d{Mat::Zero(static_cast<Eigen::Index>(b) * h * w, c), h, w, c};
  for_each_window_tap(b, h, w, k, s, p, oh, ow, [&](Eigen::Index r, int tap, Eigen::Index in_row) {
    if (in_row >= 0) d.v.row(in_row) += dcols.row(r).segment(tap * c, c);
  });
  return d;
}

// The checkpoint file: "QDFTRAIN", a version (u32), the header's length (u64), the header (JSON:
// the network, options, progress and the tensors' names and shapes), the tensors (float32), and a
// CRC-32 (zlib's) of everything before it; numbers little-endian.
constexpr char kCheckpointMagic[8] = {'Q', 'D', 'F', 'T', 'R', 'A', 'I', 'N'};
constexpr std::uint32_t kCheckpointVersion = 1;
static_assert(std::endian::native == std::endian::little, "checkpoints are written in little-endian byte order");

template <class T>
void append_le(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
T read_le(const std::string& s, size_t at) {
  T v;
  std::memcpy(&v, s.data() + at, sizeof v);
  return v;
}

nlohmann::json options_json(const TrainOptions& o) {
  return {{"epochs", o.epochs}, {"batch", o.batch},         {"optimizer", o.optimizer}, {"lr", o.lr},
          {"momentum", o.momentum}, {"seed", o.seed}, {"flip", o.flip},         {"train_images", o.train_images},
          {"quantize", o.quantize}};
}

// A checkpoint read and checked whole: its header, and where its tensors lie in `bytes`.
struct CheckpointFile {
  std::string path, bytes;
  nlohmann::json header;
  size_t payload_at = 0, payload_end = 0;
  Checkpoint info;
};

CheckpointFile read_checkpoint_file(const std::string& path) {
  CheckpointFile c;
  c.path = path;
  std::ifstream f(path, std::ios::binary);
  if (!f) throw UserError(fmt::format("qdf train: cannot read the checkpoint {}", path));
  c.bytes.assign(std::istreambuf_iterator<char>(f), {});
  const size_t fixed = sizeof kCheckpointMagic + 4 + 8;
  if (c.bytes.size() < fixed + 4 || std::memcmp(c.bytes.data(), kCheckpointMagic, sizeof kCheckpointMagic) != 0)
    throw UserError(fmt::format("qdf train: {} is not a qdf training checkpoint (from `qdf train --checkpoint`)", path));
  const auto version = read_le<std::uint32_t>(c.bytes, sizeof kCheckpointMagic);
  if (version != kCheckpointVersion)
    throw UserError(fmt::format("qdf train: the checkpoint {} is of version {}; this qdf reads version {}", path, version,
                                kCheckpointVersion));
  c.payload_end = c.bytes.size() - 4;
  const auto crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(c.bytes.data()), static_cast<uInt>(c.payload_end)));
  if (crc != read_le<std::uint32_t>(c.bytes, c.payload_end))
    throw UserError(fmt::format("qdf train: the checkpoint {} is damaged or cut short (its checksum does not match)", path));
  const auto header_size = read_le<std::uint64_t>(c.bytes, sizeof kCheckpointMagic + 4);
  if (header_size > c.payload_end - fixed) throw UserError(fmt::format("qdf train: the checkpoint {} is damaged (its header runs past its end)", path));
  c.payload_at = fixed + header_size;
  try {
    c.header = nlohmann::json::parse(c.bytes.substr(fixed, header_size));
    const nlohmann::json& o = c.header.at("options");
    TrainOptions& t = c.info.options;
    t.epochs = o.at("epochs").get<int>();
    t.batch = o.at("batch").get<int>();
    t.optimizer = o.at("optimizer").get<std::string>();
    t.lr = o.at("lr").get<double>();
    t.momentum = o.at("momentum").get<double>();
    t.seed = o.at("seed").get<std::uint64_t>();
    t.flip = o.at("flip").get<bool>();
    t.train_images = o.at("train_images").get<std::int64_t>();
    t.quantize = o.at("quantize").get<bool>();
    c.info.net = c.header.at("network").get<std::string>();
    c.info.seconds = c.header.at("seconds").get<double>();
    for (const nlohmann::json& r : c.header.at("reports"))
      c.info.epochs.push_back({r.at("epoch").get<int>(), r.at("loss").get<double>(), r.at("train_accuracy").get<double>(),
                               r.at("test_accuracy").get<double>(), r.at("lr").get<double>(), r.at("seconds").get<double>()});
    if (c.info.epochs.size() != c.header.at("epochs_done").get<size_t>() || c.info.epochs.empty() ||
        c.info.epochs.size() > static_cast<size_t>(t.epochs))
      throw UserError("its epochs do not add up");
  } catch (const nlohmann::json::exception& e) {
    throw UserError(fmt::format("qdf train: the checkpoint {} has a bad header: {}", path, e.what()));
  } catch (const UserError& e) {
    throw UserError(fmt::format("qdf train: the checkpoint {} has a bad header: {}", path, e.what()));
  }
  return c;
}

class Trainer {
 public:
  Trainer(const manager::Net& net, const TrainOptions& opt) : net_(net), opt_(opt), rng_(opt.seed) {
    const auto& layers = net.layers();
    if (layers.empty() || layers.front().kind != LayerKind::Input) throw UserError("qdf train: the network has no input");
    input_ = &layers.front();
    if (layers.back().kind != LayerKind::LabelSelect)
      throw UserError("qdf train: the network must end in label_select() (a classifier) to be trained");
    stages_ = build_stages(layers, 1, false);
    if (input_->out.h * input_->out.w * input_->out.c <= 0) throw InternalError("empty input");
  }

  // The stages of layers[from..]: the network's (top level) or a residual branch's, whose last
  // conv gives its accumulators to the add.
  std::vector<Stage> build_stages(const std::vector<Layer>& layers, size_t from, bool branch) {
    std::vector<Stage> stages;
    for (size_t i = from; i < layers.size(); ++i) {
      const Layer& l = layers[i];
      const LayerKind next = i + 1 < layers.size() ? layers[i + 1].kind : LayerKind::Input;  // Input: none
      Stage st;
      st.layer = &l;
      switch (l.kind) {
        case LayerKind::Conv:
        case LayerKind::FullyConnected: {
          const int fan_in = l.kind == LayerKind::Conv ? l.k * l.k * l.in.c : static_cast<int>(l.in.size());
          std::uniform_real_distribution<float> u(-0.1f, 0.1f);
          Mat w(l.out_channels, fan_in);
          for (Eigen::Index j = 0; j < w.size(); ++j) w.data()[j] = u(rng_);
          st.w.init(std::move(w));
          st.pad = l.in_binary ? -1.0f : 0.0f;
          st.bound = l.in_binary ? fan_in : fan_in * ((std::int64_t{1} << l.in_bits) - 1);
          check_exact(l, st.bound);
          const bool ends_branch = branch && i + 1 == layers.size();
          if (!ends_branch && next != LayerKind::Activation && !(!branch && next == LayerKind::LabelSelect))
            throw UserError(fmt::format("qdf train: layer {} must be followed by an act(), or end a residual branch, or, as the "
                                        "last layer, a label_select(); other uses are not supported by the trainer yet",
                                        l.describe()));
          break;
        }
        case LayerKind::Activation: {
          const int c = l.in.c;
          st.bits = l.act_bits;
          st.gamma.init(Mat::Ones(1, c));
          st.beta.init(Mat::Constant(1, c, l.act_bits == 1 ? 0.0f : 1.5f));
          st.mean = Row::Zero(c);
          st.var = Row::Ones(c);
          break;
        }
        case LayerKind::MaxPool:
        case LayerKind::GlobalPool: break;
        case LayerKind::Residual: {
          if (next != LayerKind::Activation)
            throw UserError(fmt::format("qdf train: layer {} must be followed by an act(); other uses are not supported by the "
                                        "trainer yet", l.describe()));
          st.main = build_stages(l.main, 0, true);
          st.projection = build_stages(l.projection, 0, true);
          // The add's largest |value|: the main branch's, plus the skip's (the projection's
          // accumulators, or the block's unsigned input activations) times 2^shift.
          const std::int64_t skip = st.projection.empty() ? (std::int64_t{1} << l.in_bits) - 1 : st.projection.back().bound;
          st.bound = st.main.back().bound + (skip << l.shift);
          check_exact(l, st.bound);
          break;
        }
        case LayerKind::LabelSelect: {
          if (l.top_k != 1) throw UserError(fmt::format("qdf train: layer {}: training needs top-1 labels", l.describe()));
          const Layer& fc = layers[i - 1];
          if (branch || (fc.kind != LayerKind::Conv && fc.kind != LayerKind::FullyConnected))
            throw UserError(fmt::format("qdf train: layer {} must follow a conv or fc; other uses are not supported by the "
                                        "trainer yet", l.describe()));
          const double fan_in = static_cast<double>(fc.kind == LayerKind::Conv ? fc.k * fc.k * fc.in.c : fc.in.size());
          // Typical magnitude of an input value: a ±1, a 2-bit activation, or a global pool's sum
          // of the 2-bit activations of every pixel.
          const Layer& before = layers[i - 2];
          const double act = fc.in_binary ? 1.0 : before.kind == LayerKind::GlobalPool ? 1.5 * before.in.h * before.in.w : 1.5;
          st.log_scale.init(Mat::Constant(1, 1, static_cast<float>(-std::log(std::sqrt(fan_in) * act))));
          if (i + 1 != layers.size()) throw UserError(fmt::format("qdf train: layer {} must be last", l.describe()));
          break;
        }
        case LayerKind::Input: throw InternalError(fmt::format("qdf train: input {} inside the network", l.describe()));
      }
      stages.push_back(std::move(st));
    }
    return stages;
  }

  // Every value the float network computes must be an integer that float holds exactly.
  static void check_exact(const Layer& l, std::int64_t bound) {
    if (bound >= (std::int64_t{1} << 24))
      throw UserError(fmt::format("qdf train: layer {} has accumulators up to {}, beyond the 2^24 that float holds exactly; "
                                  "the trainer needs smaller inputs, fan-in or shift",
                                  l.describe(), bound));
  }

  void check_data(const Dataset& d) const {
    const manager::Shape s = input_->out;
    if (s.c != 1 || s.h != d.rows || s.w != d.cols)
      throw UserError(fmt::format("qdf train: the network's input '{}' is {}, but the {} images are {}x{}x1", input_->name,
                                  s.str(), d.name, d.rows, d.cols));
    const Layer& last = net_.layers()[net_.layers().size() - 2];
    if (last.out.c != d.classes)
      throw UserError(fmt::format("qdf train: layer {} gives {} scores, but {} has {} classes", last.describe(),
                                  last.out.c, d.name, d.classes));
  }

  // The input maps of images idx[from, to), optionally flipped left-right.
  Map input_batch(const Dataset& d, const std::vector<std::int64_t>& idx, size_t from, size_t to, bool augment) {
    const int h = d.rows, w = d.cols;
    Map m{Mat(static_cast<Eigen::Index>(to - from) * h * w, 1), h, w, 1};
    std::bernoulli_distribution coin(0.5);
    for (size_t i = from; i < to; ++i) {
      std::vector<std::int64_t> v = d.stream(idx[i], input_->out_bits);
      const bool flip = augment && coin(rng_);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          float value = static_cast<float>(v[static_cast<size_t>(y * w + (flip ? w - 1 - x : x))]);
          if (input_->out_binary) value = value > 0 ? 1.0f : -1.0f;
          m.v(static_cast<Eigen::Index>((i - from) * static_cast<size_t>(h * w) + static_cast<size_t>(y * w + x)), 0) = value;
        }
    }
    return m;
  }

  // Forward through every stage. Training: batch statistics and caches for backward; folded:
  // the integer network, thresholds in place of batch norm. Returns the last fc's accumulators.
  Mat forward(Map x, int batch, bool training, bool folded) { return std::move(forward(stages_, std::move(x), batch, training, folded).v); }

  Map forward(std::vector<Stage>& stages, Map x, int batch, bool training, bool folded) {
    for (Stage& st : stages) {
      const Layer& l = *st.layer;
      switch (l.kind) {
        case LayerKind::Conv:
        case LayerKind::FullyConnected: {
          if (opt_.quantize) st.sign = st.w.value.unaryExpr([](float v) { return v >= 0 ? 1.0f : -1.0f; });
          else st.sign = st.w.value;
          Map out;
          if (l.kind == LayerKind::Conv) {
            st.cols = im2col(x, batch, l.k, l.s, l.p, st.pad, l.out.h, l.out.w);
            out = {st.cols * st.sign.transpose(), l.out.h, l.out.w, l.out.c};
          } else {
            st.cols = Eigen::Map<const Mat>(x.v.data(), batch, x.v.size() / batch);
            out = {st.cols * st.sign.transpose(), 1, 1, l.out.c};
          }
          if (training) st.in = {Mat(), x.h, x.w, x.c};
          x = std::move(out);
          break;
        }
        case LayerKind::Activation: {
          Mat& acc = x.v;
          if (folded) {
#pragma omp parallel for
            for (Eigen::Index r = 0; r < acc.rows(); ++r)
              for (int ch = 0; ch < x.c; ++ch) {
                const int q = engines::threshold_count(static_cast<std::int64_t>(acc(r, ch)), st.folded.flip[static_cast<size_t>(ch)] != 0,
                                                       st.folded.of(ch), st.folded.levels);
                acc(r, ch) = st.bits == 1 ? (q ? 1.0f : -1.0f) : static_cast<float>(q);
              }
            break;
          }
          Row mean, var;
          if (training) {
            mean = acc.colwise().mean();
            var = (acc.rowwise() - mean).array().square().colwise().mean();
            st.mean = (1 - kMomentum) * st.mean + kMomentum * mean;
            st.var = (1 - kMomentum) * st.var + kMomentum * var;
          } else {
            mean = st.mean;
            var = st.var;
          }
          st.inv_std = (var.array() + kEps).rsqrt().matrix();
          st.xhat = (acc.rowwise() - mean).array().rowwise() * st.inv_std.array();
          st.y = (st.xhat.array().rowwise() * st.gamma.value.row(0).array()).rowwise() + st.beta.value.row(0).array();
          const int bits = st.bits;
          if (!opt_.quantize) {
            acc = st.y;
            break;
          }
          acc = st.y.unaryExpr([bits](float y) {
            const int q = quantize(y, bits);
            return bits == 1 ? (q ? 1.0f : -1.0f) : static_cast<float>(q);
          });
          break;
        }
        case LayerKind::MaxPool: {
          const int oh = l.out.h, ow = l.out.w, c = x.c;
          const float pad = l.in_binary ? -1.0f : 0.0f;
          Map out{Mat(static_cast<Eigen::Index>(batch) * oh * ow, c), oh, ow, c};
          st.argmax.assign(static_cast<size_t>(out.v.size()), -1);
#pragma omp parallel for
          for (int i = 0; i < batch; ++i)
            for (int oy = 0; oy < oh; ++oy)
              for (int ox = 0; ox < ow; ++ox) {
                const Eigen::Index r = (static_cast<Eigen::Index>(i) * oh + oy) * ow + ox;
                for (int ch = 0; ch < c; ++ch) {
                  float best = 0;
                  int arg = -1;
                  for (int ky = 0; ky < l.k; ++ky)
                    for (int kx = 0; kx < l.k; ++kx) {
                      const int y = oy * l.s - l.p + ky, xx = ox * l.s - l.p + kx;
                      const bool inside = y >= 0 && y < x.h && xx >= 0 && xx < x.w;
                      const int row = inside ? (i * x.h + y) * x.w + xx : -1;
                      const float v = inside ? x.v(row, ch) : pad;
                      if ((ky == 0 && kx == 0) || v > best) {
                        best = v;
                        arg = row;
                      }
                    }
                  out.v(r, ch) = best;
                  st.argmax[static_cast<size_t>(r * c + ch)] = arg;
                }
              }
          if (training) st.in = {Mat(), x.h, x.w, x.c};
          x = std::move(out);
          break;
        }
        case LayerKind::GlobalPool: {
          const Eigen::Index pixels = static_cast<Eigen::Index>(x.h) * x.w;
          Map out{Mat(batch, x.c), 1, 1, x.c};
          for (Eigen::Index i = 0; i < batch; ++i) out.v.row(i) = x.v.middleRows(i * pixels, pixels).colwise().sum();
          if (training) st.in = {Mat(), x.h, x.w, x.c};
          x = std::move(out);
          break;
        }
        case LayerKind::Residual: {
          // The block's output: main branch accumulators + skip * 2^shift (reference_model.hpp).
          Map skip = st.projection.empty() ? x : forward(st.projection, x, batch, training, folded);
          Map main = forward(st.main, std::move(x), batch, training, folded);
          main.v += skip.v * static_cast<float>(std::int64_t{1} << st.layer->shift);
          x = std::move(main);
          break;
        }
        case LayerKind::LabelSelect: break;
        case LayerKind::Input: throw InternalError("an input stage in forward");
      }
    }
    return x;
  }

  // Backward from d(loss)/d(last accumulators); fills the parameters' gradients.
  void backward(Mat d, int batch) { backward(stages_, std::move(d), batch, false); }

  // Backward through `stages` from d(loss)/d(their output); returns d(loss)/d(their input), or
  // nothing when `input_gradient` is false (the network's input).
  Mat backward(std::vector<Stage>& stages, Mat d, int batch, bool input_gradient) {
    for (size_t si = stages.size(); si-- > 0;) {
      Stage& st = stages[si];
      const Layer& l = *st.layer;
      switch (l.kind) {
        case LayerKind::LabelSelect: break;
        case LayerKind::Activation: {
          const int bits = st.bits;
          const bool quantize = opt_.quantize;
          Mat dy = d.array() * st.y.unaryExpr([bits, quantize](float y) {
                                  const bool pass = !quantize || (bits == 1 ? std::abs(y) <= 1.0f : (y >= 0.0f && y <= 3.0f));
                                  return pass ? 1.0f : 0.0f;
                                }).array();
          st.gamma.grad = (dy.array() * st.xhat.array()).colwise().sum();
          st.beta.grad = dy.colwise().sum();
          const float n = static_cast<float>(dy.rows());
          Mat dxhat = dy.array().rowwise() * st.gamma.value.row(0).array();
          Row sum_dxhat = dxhat.colwise().sum();
          Row sum_dxhat_xhat = (dxhat.array() * st.xhat.array()).colwise().sum();
          d = ((dxhat * n).rowwise() - sum_dxhat - (st.xhat.array().rowwise() * sum_dxhat_xhat.array()).matrix()).array().rowwise() *
              (st.inv_std.array() / n);
          break;
        }
        case LayerKind::Conv:
        case LayerKind::FullyConnected: {
          Mat gw = d.transpose() * st.cols;
          st.w.grad = std::move(gw);  // straight through the sign (the latent weights stay in [-1, 1])
          if (si == 0 && !input_gradient) return {};
          Mat dcols = d * st.sign;
          if (l.kind == LayerKind::Conv)
            d = col2im(dcols, batch, st.in.h, st.in.w, st.in.c, l.k, l.s, l.p, l.out.h, l.out.w).v;
          else
            d = Eigen::Map<const Mat>(dcols.data(), static_cast<Eigen::Index>(batch) * st.in.h * st.in.w, st.in.c);
          break;
        }
        case LayerKind::MaxPool: {
          Mat din = Mat::Zero(static_cast<Eigen::Index>(batch) * st.in.h * st.in.w, st.in.c);
          const int c = st.in.c;
          for (Eigen::Index r = 0; r < d.rows(); ++r)
            for (int ch = 0; ch < c; ++ch) {
              const int row = st.argmax[static_cast<size_t>(r * c + ch)];
              if (row >= 0) din(row, ch) += d(r, ch);
            }
          d = std::move(din);
          break;
        }
        case LayerKind::GlobalPool: {
          // Every pixel of an image gets its sum's gradient.
          const Eigen::Index pixels = static_cast<Eigen::Index>(st.in.h) * st.in.w;
          Mat din(batch * pixels, st.in.c);
          for (Eigen::Index i = 0; i < batch; ++i) din.middleRows(i * pixels, pixels).rowwise() = d.row(i);
          d = std::move(din);
          break;
        }
        case LayerKind::Residual: {
          Mat dskip = d * static_cast<float>(std::int64_t{1} << st.layer->shift);
          if (!st.projection.empty()) dskip = backward(st.projection, std::move(dskip), batch, true);
          d = backward(st.main, std::move(d), batch, true) + dskip;
          break;
        }
        case LayerKind::Input: throw InternalError("an input stage in backward");
      }
    }
    return d;
  }

  std::vector<Param*> params() {
    std::vector<Param*> p;
    for_each_stage(stages_, [&](Stage& st) {
      if (st.w.value.size()) p.push_back(&st.w);
      if (st.gamma.value.size()) p.insert(p.end(), {&st.gamma, &st.beta});
      if (st.log_scale.value.size()) p.push_back(&st.log_scale);
    });
    return p;
  }

  void step(double lr) {
    ++t_;
    const bool adam = opt_.optimizer == "adam";
    const float b1 = 0.9f, b2 = 0.999f;
    const float c1 = 1 - std::pow(b1, static_cast<float>(t_)), c2 = 1 - std::pow(b2, static_cast<float>(t_));
    for (Param* p : params()) {
      if (adam) {
        p->m = b1 * p->m + (1 - b1) * p->grad;
        p->v = b2 * p->v + (1 - b2) * p->grad.cwiseAbs2();
        p->value.array() -= static_cast<float>(lr) * (p->m.array() / c1) / ((p->v.array() / c2).sqrt() + 1e-8f);
      } else {
        p->m = static_cast<float>(opt_.momentum) * p->m + p->grad;
        p->value -= static_cast<float>(lr) * p->m;
      }
    }
    for_each_stage(stages_, [](Stage& st) {
      if (st.w.value.size()) st.w.value = st.w.value.cwiseMax(-1.0f).cwiseMin(1.0f);
    });
  }

  // Softmax cross-entropy of the scaled accumulators: loss (summed), correct count, and d(loss)/d(acc) / batch.
  std::pair<double, int> loss(const Mat& acc, const Dataset& d, const std::vector<std::int64_t>& idx, size_t from, Mat& dacc) {
    Stage& ls = stages_.back();
    const float scale = std::exp(ls.log_scale.value(0, 0));
    Mat z = acc * scale;
    dacc.resize(acc.rows(), acc.cols());
    double total = 0, dscale = 0;
    int correct = 0;
    const float n = static_cast<float>(acc.rows());
    for (Eigen::Index r = 0; r < z.rows(); ++r) {
      const int label = d.labels[static_cast<size_t>(idx[from + static_cast<size_t>(r)])];
      Eigen::Index best;
      const float m = z.row(r).maxCoeff(&best);
      correct += best == label;
      Row e = (z.row(r).array() - m).exp();
      const float sum = e.sum();
      total += std::log(sum) - (z(r, label) - m);
      Row g = e / sum;
      g(label) -= 1;
      g /= n;
      dscale += g.dot(z.row(r));
      dacc.row(r) = g * scale;
    }
    ls.log_scale.grad(0, 0) = static_cast<float>(dscale);
    return {total, correct};
  }

  void fold() { fold(stages_); }

  // An act's thresholds cover the accumulators of the stage before it (a conv, fc or residual add).
  void fold(std::vector<Stage>& stages) {
    for (Stage& st : stages) {
      fold(st.main);
      fold(st.projection);
      if (st.layer->kind == LayerKind::Activation) {
        const Stage& prev = *(&st - 1);
        BatchNorm bn;
        bn.eps = kEps;
        for (int ch = 0; ch < st.mean.size(); ++ch) {
          bn.mean.push_back(st.mean(ch));
          bn.var.push_back(st.var(ch));
          bn.gamma.push_back(st.gamma.value(0, ch));
          bn.beta.push_back(st.beta.value(0, ch));
        }
        st.folded = fold_batch_norm(bn, st.bits, prev.bound);
      }
    }
  }

  manager::ModelWeights weights() const {
    manager::ModelWeights w;
    for_each_stage(stages_, [&](const Stage& st) {
      if (st.w.value.size()) {
        engines::BinaryMatrix m(static_cast<int>(st.w.value.rows()), static_cast<int>(st.w.value.cols()));
        for (int r = 0; r < m.rows; ++r)
          for (int c = 0; c < m.cols; ++c) m.set(r, c, st.w.value(r, c) >= 0);
        w.weights[st.layer->name] = std::move(m);
      }
      if (st.layer->kind == LayerKind::Activation) w.thresholds[st.layer->name] = st.folded;
    });
    return w;
  }

  void load(const manager::ModelWeights& w) {
    manager::check_weights(net_, w);
    for_each_stage(stages_, [&](Stage& st) {
      if (st.w.value.size()) {
        const engines::BinaryMatrix& m = w.weights.at(st.layer->name);
        for (int r = 0; r < m.rows; ++r)
          for (int c = 0; c < m.cols; ++c) st.w.value(r, c) = m.at(r, c) ? 1.0f : -1.0f;
      }
      if (st.layer->kind == LayerKind::Activation) st.folded = w.thresholds.at(st.layer->name);
    });
  }

  std::vector<int> predict(const Dataset& d, std::int64_t n) {
    n = n <= 0 ? d.size() : std::min(n, d.size());
    std::vector<std::int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    std::vector<int> labels;
    const size_t batch = 500;
    for (size_t from = 0; from < idx.size(); from += batch) {
      const size_t to = std::min(idx.size(), from + batch);
      Mat acc = forward(input_batch(d, idx, from, to, false), static_cast<int>(to - from), false, true);
      for (Eigen::Index r = 0; r < acc.rows(); ++r) {
        Eigen::Index best = 0;  // the first maximum: ties go to the lower label, as label select does
        for (Eigen::Index c = 1; c < acc.cols(); ++c)
          if (acc(r, c) > acc(r, best)) best = c;
        labels.push_back(static_cast<int>(best));
      }
    }
    return labels;
  }

  Parameters parameters() {
    Parameters p;
    for_each_stage(stages_, [&](Stage& st) {
      for (Param* q : {&st.w, &st.gamma, &st.beta, &st.log_scale})
        for (Eigen::Index j = 0; j < q->value.size(); ++j) {
          p.values.push_back(q->value.data()[j]);
          p.layers.push_back(st.layer->name);
        }
    });
    return p;
  }

  void set_parameters(const std::vector<double>& theta) {
    size_t at = 0;
    for_each_stage(stages_, [&](Stage& st) {
      for (Param* q : {&st.w, &st.gamma, &st.beta, &st.log_scale})
        for (Eigen::Index j = 0; j < q->value.size(); ++j) {
          if (at >= theta.size()) throw UserError(fmt::format("qdf train: {} parameters given, the network has more", theta.size()));
          q->value.data()[j] = static_cast<float>(theta[at++]);
        }
    });
    if (at != theta.size()) throw UserError(fmt::format("qdf train: {} parameters given, the network has {}", theta.size(), at));
  }

  LossGradient loss_gradient(const Dataset& data, std::int64_t n) {
    n = std::clamp<std::int64_t>(n, 2, data.size());
    std::vector<std::int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    const int b = static_cast<int>(n);
    Mat acc = forward(input_batch(data, idx, 0, idx.size(), false), b, true, false), dacc;
    auto [l, c] = loss(acc, data, idx, 0, dacc);
    backward(std::move(dacc), b);
    LossGradient r;
    r.loss = l / static_cast<double>(n);
    for_each_stage(stages_, [&](Stage& st) {
      for (Param* q : {&st.w, &st.gamma, &st.beta, &st.log_scale})
        for (Eigen::Index j = 0; j < q->grad.size(); ++j) r.gradient.push_back(q->grad.data()[j]);
    });
    return r;
  }

  // Where a run stands after some epochs: with the tensors (state()), what a checkpoint holds.
  struct Progress {
    int epochs_done = 0;
    std::int64_t step_index = 0;
    std::vector<std::int64_t> order;  // the training images' order, as the last epoch shuffled it
    std::vector<EpochReport> reports;
    double seconds = 0;
  };

  TrainResult run(const Dataset& train, const Dataset& test) { return run(train, test, Progress{}); }

  // Trains from `done` to the last epoch.
  TrainResult run(const Dataset& train, const Dataset& test, Progress done) {
    check_data(train);
    check_data(test);
    const auto start = std::chrono::steady_clock::now();
    const std::int64_t n = opt_.train_images > 0 ? std::min(opt_.train_images, train.size()) : train.size();
    const int batch = std::max(1, opt_.batch);
    const std::int64_t steps_per_epoch = (n + batch - 1) / batch, total_steps = steps_per_epoch * opt_.epochs;
    const double peak = opt_.lr > 0 ? opt_.lr : (opt_.optimizer == "adam" ? 2e-3 : 0.05);
    if (opt_.optimizer != "adam" && opt_.optimizer != "sgd")
      throw UserError(fmt::format("qdf train: the optimizers are 'adam' and 'sgd', not '{}'", opt_.optimizer));
    if (opt_.epochs < 1) throw UserError("qdf train: needs at least one epoch");
    TrainResult result;
    std::vector<std::int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    if (done.epochs_done > 0) {
      if (done.order.size() != order.size())
        throw UserError(fmt::format("qdf train: the checkpoint was written training on {} images; {} gives {}", done.order.size(),
                                    train.name, order.size()));
      order = std::move(done.order);
    }
    std::int64_t step_index = done.step_index;
    result.epochs = done.reports;
    for (int epoch = done.epochs_done + 1; epoch <= opt_.epochs; ++epoch) {
      const auto epoch_start = std::chrono::steady_clock::now();
      std::shuffle(order.begin(), order.end(), rng_);
      double total_loss = 0, lr = peak;
      std::int64_t correct = 0, seen = 0;
      for (size_t from = 0; from < order.size(); from += static_cast<size_t>(batch)) {
        const size_t to = std::min(order.size(), from + static_cast<size_t>(batch));
        const int b = static_cast<int>(to - from);
        if (b < 2 && from > 0) break;  // batch norm needs two images: a last batch of one is left out
        Mat acc = forward(input_batch(train, order, from, to, opt_.flip), b, true, false);
        Mat dacc;
        auto [l, c] = loss(acc, train, order, from, dacc);
        backward(std::move(dacc), b);
        lr = peak * 0.5 * (1 + std::cos(M_PI * static_cast<double>(step_index) / static_cast<double>(total_steps)));
        step(lr);
        ++step_index;
        if (!std::isfinite(l))
          throw UserError(fmt::format("qdf train: training diverged in epoch {} (the loss is not finite); try a lower --lr", epoch));
        total_loss += l;
        correct += c;
        seen += b;
        if (opt_.progress)
          opt_.progress(epoch, static_cast<double>(to) / static_cast<double>(order.size()), total_loss / static_cast<double>(seen),
                        static_cast<double>(correct) / static_cast<double>(seen));
      }
      fold();
      std::vector<int> predicted = predict(test, 0);
      std::int64_t right = 0;
      for (size_t i = 0; i < predicted.size(); ++i) right += predicted[i] == test.labels[i];
      EpochReport rep;
      rep.epoch = epoch;
      rep.loss = total_loss / static_cast<double>(seen);
      rep.train_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
      rep.test_accuracy = static_cast<double>(right) / static_cast<double>(test.size());
      rep.lr = lr;
      rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
      result.epochs.push_back(rep);
      result.test_predictions = std::move(predicted);
      if (!opt_.checkpoint.empty())
        save_checkpoint(opt_.checkpoint,
                        {epoch, step_index, order, result.epochs,
                         done.seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
      if (opt_.epoch_done) opt_.epoch_done(rep);
    }
    if (result.test_predictions.empty()) {  // resumed from the last epoch's checkpoint
      fold();
      result.test_predictions = predict(test, 0);
    }
    result.weights = weights();
    manager::check_weights(net_, result.weights);
    result.test_accuracy = result.epochs.back().test_accuracy;
    result.seconds = done.seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }

  // Every tensor of the training state: weights and batch norm parameters with their optimizer
  // moments, and the running averages, named by layer and role, in one fixed order.
  struct Tensor {
    std::string name;
    float* data;
    Eigen::Index rows, cols;
  };
  std::vector<Tensor> state() {
    std::vector<Tensor> s;
    for_each_stage(stages_, [&](Stage& st) {
      const std::string& l = st.layer->name;
      for (auto [p, role] : {std::pair<Param*, const char*>{&st.w, "weights"}, {&st.gamma, "gamma"}, {&st.beta, "beta"},
                             {&st.log_scale, "log_scale"}})
        if (p->value.size())
          for (auto [m, what] : {std::pair<Mat*, const char*>{&p->value, ""}, {&p->m, ".m"}, {&p->v, ".v"}})
            s.push_back({fmt::format("{}.{}{}", l, role, what), m->data(), m->rows(), m->cols()});
      if (st.layer->kind == LayerKind::Activation) {
        s.push_back({l + ".mean", st.mean.data(), 1, st.mean.cols()});
        s.push_back({l + ".var", st.var.data(), 1, st.var.cols()});
      }
    });
    return s;
  }

  void save_checkpoint(const std::string& path, const Progress& p) {
    nlohmann::json h = {{"network", net_.name},         {"options", options_json(opt_)}, {"epochs_done", p.epochs_done},
                        {"step_index", p.step_index},  {"adam_steps", t_},              {"seconds", p.seconds},
                        {"order", p.order},            {"reports", nlohmann::json::array()}};
    std::ostringstream rng;
    rng << rng_;
    h["rng"] = rng.str();
    for (const EpochReport& r : p.reports)
      h["reports"].push_back({{"epoch", r.epoch}, {"loss", r.loss}, {"train_accuracy", r.train_accuracy},
                              {"test_accuracy", r.test_accuracy}, {"lr", r.lr}, {"seconds", r.seconds}});
    std::string payload;
    for (const Tensor& t : state()) {
      h["tensors"].push_back({{"name", t.name}, {"rows", t.rows}, {"cols", t.cols}});
      payload.append(reinterpret_cast<const char*>(t.data), static_cast<size_t>(t.rows * t.cols) * sizeof(float));
    }
    const std::string header = h.dump();
    std::string bytes(kCheckpointMagic, sizeof kCheckpointMagic);
    append_le(bytes, kCheckpointVersion);
    append_le(bytes, static_cast<std::uint64_t>(header.size()));
    bytes += header;
    bytes += payload;
    append_le(bytes, static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()))));
    dsl::write_file_atomically(path, [&](const std::string& tmp) {
      std::ofstream f(tmp, std::ios::binary);
      f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      f.close();
      if (!f) throw UserError(fmt::format("qdf train: cannot write the checkpoint {}", path));
    });
  }

  // Puts the state of checkpoint `c` in place, and says where its run stands.
  Progress restore(const CheckpointFile& c) {
    const std::string& path = c.path;
    std::vector<Tensor> s = state();
    const nlohmann::json& names = c.header.at("tensors");
    size_t at = c.payload_at;
    for (size_t i = 0; i < std::max(s.size(), names.size()); ++i) {
      const std::string want = i < s.size() ? fmt::format("{} ({}x{})", s[i].name, s[i].rows, s[i].cols) : "nothing";
      const std::string got = i < names.size() ? fmt::format("{} ({}x{})", names[i].at("name").get<std::string>(),
                                                             names[i].at("rows").get<std::int64_t>(), names[i].at("cols").get<std::int64_t>())
                                               : "nothing";
      if (want != got)
        throw UserError(fmt::format("qdf train: the checkpoint {} is not of network '{}': its tensor {} is {}, the network's {}",
                                    path, net_.name, i, got, want));
      const size_t n = static_cast<size_t>(s[i].rows * s[i].cols) * sizeof(float);
      if (n > c.payload_end - at)
        throw UserError(fmt::format("qdf train: the checkpoint {} is damaged (its tensor {} runs past its end)", path,
                                    names[i].at("name").get<std::string>()));
      std::memcpy(s[i].data, c.bytes.data() + at, n);
      at += n;
    }
    if (at != c.payload_end) throw UserError(fmt::format("qdf train: the checkpoint {} has {} bytes after its tensors", path, c.payload_end - at));
    Progress p;
    const nlohmann::json& h = c.header;
    p.epochs_done = h.at("epochs_done").get<int>();
    p.step_index = h.at("step_index").get<std::int64_t>();
    p.order = h.at("order").get<std::vector<std::int64_t>>();
    p.seconds = h.at("seconds").get<double>();
    p.reports = c.info.epochs;
    t_ = h.at("adam_steps").get<std::int64_t>();
    std::istringstream rng(h.at("rng").get<std::string>());
    rng >> rng_;
    if (!rng) throw UserError(fmt::format("qdf train: the checkpoint {} has no valid random generator state", path));
    return p;
  }

 private:
  const manager::Net& net_;
  TrainOptions opt_;
  std::mt19937_64 rng_;
  const Layer* input_ = nullptr;
  std::vector<Stage> stages_;
  std::int64_t t_ = 0;
};

}  // namespace

Parameters initial_parameters(const manager::Net& net, const TrainOptions& opt) {
  Trainer t(net, opt);
  return t.parameters();
}

LossGradient training_loss(const manager::Net& net, const TrainOptions& opt, const Dataset& data, std::int64_t n,
                           const std::vector<double>& theta) {
  Trainer t(net, opt);
  t.check_data(data);
  t.set_parameters(theta);
  return t.loss_gradient(data, n);
}

TrainResult train_network(const manager::Net& net, const Dataset& train, const Dataset& test, const TrainOptions& opt) {
  Trainer t(net, opt);
  return t.run(train, test);
}

Checkpoint read_checkpoint(const std::string& path) { return read_checkpoint_file(path).info; }

TrainResult resume_training(const manager::Net& net, const Dataset& train, const Dataset& test, const std::string& path,
                            const TrainOptions& hooks) {
  CheckpointFile c = read_checkpoint_file(path);
  if (c.info.net != net.name)
    throw UserError(fmt::format("qdf train: the checkpoint {} is of network '{}', not '{}'", path, c.info.net, net.name));
  TrainOptions opt = c.info.options;
  opt.progress = hooks.progress;
  opt.epoch_done = hooks.epoch_done;
  opt.checkpoint = hooks.checkpoint;
  Trainer t(net, opt);
  Trainer::Progress p = t.restore(c);
  return t.run(train, test, std::move(p));
}

std::vector<int> predict_folded(const manager::Net& net, const manager::ModelWeights& w, const Dataset& data, std::int64_t n) {
  Trainer t(net, TrainOptions{});
  t.check_data(data);
  t.load(w);
  return t.predict(data, n);
}

}  // namespace qdf::host
