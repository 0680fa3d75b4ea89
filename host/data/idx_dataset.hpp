// Labelled image sets in the IDX format of MNIST and Fashion-MNIST (gzip-compressed or not), and
// where Debian's `dataset-fashion-mnist` puts them.
//
// IDX: a big-endian header of magic 0x00000803 (unsigned bytes, 3 dimensions: count, rows, columns)
// or 0x00000801 (labels: count), then the bytes. A file that is truncated, has another magic,
// trailing bytes, or a label out of range, and a label file whose count differs from its image
// file's, is a UserError that names the file and says what was expected and found.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qdf::host {

struct Dataset {
  std::string name;  // "fashion-mnist test"
  int rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;  // image i at i * rows * cols, row-major
  std::vector<std::uint8_t> labels;  // 0 .. classes - 1
  int classes = 10;
  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
  std::int64_t image_size() const { return static_cast<std::int64_t>(rows) * cols; }
  const std::uint8_t* image(std::int64_t i) const { return pixels.data() + i * image_size(); }
  // Image i as the values of an input stream of `bits` bits, in (row, column) order: each 8-bit
  // pixel's `bits` high bits (a binary input: bit 7, so 1 = +1 for pixels >= 128).
  std::vector<std::int64_t> stream(std::int64_t i, int bits = 8) const;
  // The first n images (all when n <= 0 or n >= size()).
  Dataset first(std::int64_t n) const;
};

// Reads an image file and a label file (each .gz or raw) into one set; `classes` bounds the labels.
Dataset load_idx(const std::string& images_path, const std::string& labels_path, const std::string& name,
                 int classes = 10);

// Where Fashion-MNIST is read from: $QDF_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist
// (Debian's dataset-fashion-mnist package).
std::string fashion_mnist_dir();
// split: "train" (60,000 images) or "test" (10,000), from `dir` (empty: fashion_mnist_dir()). A
// missing file is a UserError that says which package provides it.
Dataset load_fashion_mnist(const std::string& split, const std::string& dir = "");

// The Fashion-MNIST class names, by label.
const std::vector<std::string>& fashion_mnist_classes();

}  // namespace qdf::host
