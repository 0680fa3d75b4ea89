#include "host/cli/eval_flow.hpp"

#include "dsl/errors.hpp"
#include "dsl/files.hpp"
#include "host/cli/progress.hpp"

#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

namespace qdf::host {

EvalRun evaluate(Engine& e, const Dataset& data, std::int64_t n, bool show_progress, const Ranks& ranks) {
  const InputSpec& in = e.input();
  if (in.shape != manager::Shape{data.rows, data.cols, 1})
    throw UserError(fmt::format("the design takes {}, but the {} images are {}x{}x1", in.describe(), data.name, data.rows, data.cols));
  const OutputSpec& out = e.output();
  if (!out.labels || out.classes != data.classes)
    throw UserError(fmt::format("the design gives {}, but {} needs a label of its {} classes", out.describe(), data.name, data.classes));
  n = n <= 0 ? data.size() : std::min(n, data.size());
  EvalRun r;
  r.dataset = data.name;
  r.images = n;
  e.clear();
  for (std::int64_t i = 0; i < n; ++i) e.queue(data.stream(i, in.bits));
  ProgressBar bar(fmt::format("{} images on {}", n, to_string(e.backend())));
  if (show_progress && ranks.root()) e.on_progress([&](double f) { bar.update(f); });
  struct Unhook {  // the callback refers to `bar`: remove it however run_labels() ends
    Engine& e;
    ~Unhook() { e.on_progress(nullptr); }
  } unhook{e};
  r.predicted = e.run_labels(ranks);
  bar.finish();
  if (!ranks.root()) {  // rank 0 has the predictions
    r.images = 0;
    return r;
  }
  r.stats = e.stats();
  r.confusion.assign(static_cast<size_t>(data.classes), std::vector<std::int64_t>(static_cast<size_t>(data.classes), 0));
  for (std::int64_t i = 0; i < n; ++i) {
    const int label = data.labels[static_cast<size_t>(i)], p = r.predicted[static_cast<size_t>(i)];
    if (p < 0 || p >= data.classes)
      throw UserError(fmt::format("backend {} gave label {} for image {}, outside the {} classes 0..{}", to_string(e.backend()), p,
                                  i, data.classes, data.classes - 1));
    r.labels.push_back(label);
    r.correct += label == p;
    ++r.confusion[static_cast<size_t>(label)][static_cast<size_t>(p)];
  }
  r.accuracy = static_cast<double>(r.correct) / static_cast<double>(n);
  return r;
}

void write_predictions(const std::string& path, const EvalRun& r) {
  std::string text;
  for (int p : r.predicted) text += std::to_string(p) + "\n";
  dsl::write_file_atomically(path, [&](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary);
    f << text;
    f.close();
    if (!f) throw UserError(fmt::format("--predictions {}: could not write the file", path));
  });
}

namespace {

std::string class_name(const EvalRun& r, size_t c) {
  // Names for Fashion-MNIST; another set's classes go by number.
  return r.dataset.rfind("fashion-mnist", 0) == 0 && c < fashion_mnist_classes().size() ? fashion_mnist_classes()[c]
                                                                                          : std::to_string(c);
}

}  // namespace

nlohmann::json eval_json(const Engine& e, const EvalRun& r) {
  nlohmann::json j;
  j["net"] = e.design().net.name;
  j["source"] = e.design().source;
  j["backend"] = to_string(e.backend());
  j["dataset"] = r.dataset;
  j["images"] = r.images;
  j["correct"] = r.correct;
  j["accuracy"] = r.accuracy;
  j["per_class"] = nlohmann::json::array();
  for (size_t c = 0; c < r.confusion.size(); ++c) {
    std::int64_t total = 0;
    for (auto v : r.confusion[c]) total += v;
    j["per_class"].push_back({{"label", c}, {"name", class_name(r, c)}, {"images", total},
                              {"accuracy", total ? static_cast<double>(r.confusion[c][c]) / static_cast<double>(total) : 0.0}});
  }
  j["confusion"] = r.confusion;
  j["wall_seconds"] = r.stats.wall_seconds;
  if (r.stats.timed) {
    j["cycles_per_image"] = r.stats.cycles_per_image;
    j["latency_cycles"] = r.stats.latency_cycles;
    j["clock_mhz"] = r.stats.clock_mhz;
    j["fps"] = r.stats.images_per_second;
    j["steady_state"] = r.stats.steady_state;
  }
  return j;
}

std::string eval_table(const Engine& e, const EvalRun& r) {
  std::string t = fmt::format("qdf eval: {} ({}) on backend {}\n", e.design().net.name, e.design().source, to_string(e.backend()));
  t += fmt::format("  {}: {} images, {} correct: accuracy {:.2f}%\n", r.dataset, r.images, r.correct, 100 * r.accuracy);
  t += fmt::format("  {:<14} {:>7} {:>9}   most often mistaken for\n", "class", "images", "accuracy");
  for (size_t c = 0; c < r.confusion.size(); ++c) {
    std::int64_t total = 0;
    size_t worst = c;
    for (size_t p = 0; p < r.confusion[c].size(); ++p) {
      total += r.confusion[c][p];
      if (p != c && (worst == c || r.confusion[c][p] > r.confusion[c][worst])) worst = p;
    }
    t += fmt::format("  {:<14} {:>7} {:>8.2f}%   {}\n", class_name(r, c), total,
                     total ? 100.0 * static_cast<double>(r.confusion[c][c]) / static_cast<double>(total) : 0.0,
                     worst != c && r.confusion[c][worst] > 0 ? fmt::format("{} ({})", class_name(r, worst), r.confusion[c][worst]) : "-");
  }
  if (r.stats.timed)
    t += fmt::format("  at {:.0f} MHz: {:.1f} images/s ({:.1f} cycles per image{}), latency {} cycles = {:.3f} ms\n", r.stats.clock_mhz,
                     r.stats.images_per_second, r.stats.cycles_per_image, r.stats.steady_state ? "" : ", not yet steady",
                     r.stats.latency_cycles, static_cast<double>(r.stats.latency_cycles) / (r.stats.clock_mhz * 1e3));
  t += fmt::format("  wall time {:.1f} s{}\n", r.stats.wall_seconds,
                   e.backend() == Backend::Rtl ? fmt::format(" (Verilator build {:.1f} s, run {:.1f} s)", r.stats.rtl_build_seconds,
                                                             r.stats.rtl_run_seconds)
                                               : "");
  return t;
}

}  // namespace qdf::host
