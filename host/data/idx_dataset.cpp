#include "host/data/idx_dataset.hpp"

#include "dsl/errors.hpp"

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <zlib.h>

namespace qdf::host {

namespace {

// The whole file, decompressed if it is gzip (zlib reads a plain file as it is).
std::vector<std::uint8_t> read_file(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw UserError(fmt::format("{}: no such file", path));
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw UserError(fmt::format("{}: cannot open", path));
  std::vector<std::uint8_t> data;
  std::uint8_t buf[1 << 16];
  for (;;) {
    int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      std::string what = gzerror(f, &err);
      gzclose(f);
      throw UserError(fmt::format("{}: not a readable IDX file (gzip: {})", path, what));
    }
    if (n == 0) break;
    data.insert(data.end(), buf, buf + n);
  }
  // A truncated gzip stream reads as a short file; zlib flags it at the end.
  int err = 0;
  const char* msg = gzerror(f, &err);
  if (err != Z_OK && err != Z_STREAM_END) {
    std::string what = msg;
    gzclose(f);
    throw UserError(fmt::format("{}: the compressed file is damaged or truncated ({})", path, what));
  }
  gzclose(f);
  return data;
}

std::uint32_t be32(const std::vector<std::uint8_t>& d, size_t at) {
  return (std::uint32_t{d[at]} << 24) | (std::uint32_t{d[at + 1]} << 16) | (std::uint32_t{d[at + 2]} << 8) | d[at + 3];
}

// Checks the header of an IDX file with `dims` dimensions of unsigned bytes; returns the dimensions.
std::vector<std::uint32_t> idx_header(const std::vector<std::uint8_t>& d, const std::string& path, int dims,
                                      const char* what) {
  const std::uint32_t magic = 0x0800u + static_cast<std::uint32_t>(dims);
  const size_t header = 4 + 4 * static_cast<size_t>(dims);
  if (d.size() < header)
    throw UserError(fmt::format("{}: truncated: {} bytes, shorter than the {}-byte IDX header of {}", path, d.size(), header, what));
  if (be32(d, 0) != magic)
    throw UserError(fmt::format("{}: not an IDX file of {}: magic 0x{:08x}, expected 0x{:08x}", path, what, be32(d, 0), magic));
  std::vector<std::uint32_t> n;
  std::uint64_t bytes = 1;
  for (int i = 0; i < dims; ++i) {
    n.push_back(be32(d, 4 + 4 * static_cast<size_t>(i)));
    // Bounded so that the product cannot wrap: a dimension beyond the file's size is wrong anyway.
    if (n.back() > d.size())
      throw UserError(fmt::format("{}: dimension {} of the header is {}, more than the file's {} bytes", path, i, n.back(), d.size()));
    bytes *= n.back();
    if (bytes > d.size()) break;
  }
  if (d.size() - header != bytes)
    throw UserError(fmt::format("{}: {}: the header says {} bytes of data, the file holds {}", path,
                                d.size() - header < bytes ? "truncated" : "trailing bytes", bytes, d.size() - header));
  return n;
}

}  // namespace

std::vector<std::int64_t> Dataset::stream(std::int64_t i, int bits) const {
  const std::uint8_t* p = image(i);
  std::vector<std::int64_t> v(p, p + image_size());
  for (std::int64_t& x : v) x = bits >= 8 ? x << (bits - 8) : x >> (8 - bits);
  return v;
}

Dataset Dataset::first(std::int64_t n) const {
  if (n <= 0 || n >= size()) return *this;
  Dataset d;
  d.name = fmt::format("{} (first {})", name, n);
  d.rows = rows;
  d.cols = cols;
  d.classes = classes;
  d.pixels.assign(pixels.begin(), pixels.begin() + n * image_size());
  d.labels.assign(labels.begin(), labels.begin() + n);
  return d;
}

Dataset load_idx(const std::string& images_path, const std::string& labels_path, const std::string& name, int classes) {
  std::vector<std::uint8_t> im = read_file(images_path), lb = read_file(labels_path);
  std::vector<std::uint32_t> in = idx_header(im, images_path, 3, "images"), ln = idx_header(lb, labels_path, 1, "labels");
  if (in[0] != ln[0])
    throw UserError(fmt::format("{} holds {} images but {} holds {} labels: they are not a pair", images_path, in[0],
                                labels_path, ln[0]));
  if (in[1] == 0 || in[2] == 0) throw UserError(fmt::format("{}: empty {}x{} images", images_path, in[1], in[2]));
  Dataset d;
  d.name = name;
  d.rows = static_cast<int>(in[1]);
  d.cols = static_cast<int>(in[2]);
  d.classes = classes;
  d.pixels.assign(im.begin() + 16, im.end());
  d.labels.assign(lb.begin() + 8, lb.end());
  for (size_t i = 0; i < d.labels.size(); ++i)
    if (d.labels[i] >= classes)
      throw UserError(fmt::format("{}: label {} of image {} is out of range 0..{}", labels_path, d.labels[i], i, classes - 1));
  return d;
}

std::string fashion_mnist_dir() {
  const char* env = std::getenv("QDF_FASHION_MNIST_DIR");
  return env && *env ? env : "/usr/share/datasets/fashion-mnist";
}

Dataset load_fashion_mnist(const std::string& split, const std::string& given_dir) {
  const std::string dir = given_dir.empty() ? fashion_mnist_dir() : given_dir;
  std::string prefix;
  if (split == "train") prefix = "train";
  else if (split == "test") prefix = "t10k";
  else throw UserError(fmt::format("Fashion-MNIST has the splits 'train' and 'test', not '{}'", split));
  auto file = [&](const std::string& kind) {
    for (const char* ext : {".gz", ""}) {
      std::string p = fmt::format("{}/{}-{}{}", dir, prefix, kind, ext);
      if (std::filesystem::exists(p)) return p;
    }
    throw UserError(fmt::format("Fashion-MNIST's {} set is not in {} (expected {}-{}.gz): install Debian's "
                                "dataset-fashion-mnist (scripts/setup.sh does), or set QDF_FASHION_MNIST_DIR",
                                split, dir, prefix, kind));
  };
  return load_idx(file("images-idx3-ubyte"), file("labels-idx1-ubyte"), "fashion-mnist " + split);
}

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

}  // namespace qdf::host
