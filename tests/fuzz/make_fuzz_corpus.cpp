// Writes the fuzz targets' seed corpus (tests/fuzz/corpus/<target>/), made by qdf itself: a model
// file, a bundle's manifest and a folding of resnet-mini (random weights, seed 3, as the targets
// use), and small IDX files. Run again when a format changes:
//   build/tests/make_fuzz_corpus tests/fuzz/corpus
#include "manager/bundle.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace qdf;

namespace {

void put(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}
std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
// An IDX fuzz input: mode byte, 16-bit split, images file, labels file (fuzz_idx_dataset.cpp).
std::string idx_input(int mode, int images, int rows, int cols, bool bad_label) {
  std::string img = be32(0x803) + be32(static_cast<std::uint32_t>(images)) + be32(static_cast<std::uint32_t>(rows)) +
                    be32(static_cast<std::uint32_t>(cols));
  for (int i = 0; i < images * rows * cols; ++i) img += static_cast<char>((i * 37) & 0xff);
  std::string lab = be32(0x801) + be32(static_cast<std::uint32_t>(images));
  for (int i = 0; i < images; ++i) lab += static_cast<char>(bad_label && i == 0 ? 10 : i % 10);
  return std::string{static_cast<char>(mode), static_cast<char>(img.size() >> 8), static_cast<char>(img.size() & 0xff)} + img + lab;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_corpus DIR\n");
    return 1;
  }
  const fs::path out = argv[1];
  const manager::Net& net = manager::builtin_net("resnet-mini").net;
  const manager::ModelWeights w = manager::random_weights(net, 3);
  const manager::Plan plan = manager::plan_network(net, w, manager::PlanOptions{});
  const fs::path tmp = fs::temp_directory_path() / "qdf-make-fuzz-corpus";
  fs::remove_all(tmp);
  manager::write_bundle(plan, net, w, tmp.string());
  const std::string model = read(tmp / "model.qdfmodel");
  put(out / "model_file" / "resnet-mini", model);
  put(out / "model_file" / "resnet-mini-truncated", model.substr(0, model.size() / 3));
  put(out / "bundle_manifest" / "resnet-mini", read(tmp / "manifest.json"));
  put(out / "folding_json" / "resnet-mini", manager::folding_json(plan.graph.folding).dump(1) + "\n");
  put(out / "idx_dataset" / "raw-3x4x5", idx_input(0, 3, 4, 5, false));
  put(out / "idx_dataset" / "gzip-2x3x3", idx_input(3 | 8, 2, 3, 3, false));
  put(out / "idx_dataset" / "label-out-of-range", idx_input(0, 1, 2, 2, true));
  fs::remove_all(tmp);
  std::printf("fuzz corpus written to %s\n", out.c_str());
  return 0;
}
