// The IDX loader: good files (raw and gzip), and every way a file can be bad, each with a message
// that names the file and what was expected and found. And Debian's Fashion-MNIST itself.
#include "dsl/errors.hpp"
#include "host/data/idx_dataset.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <zlib.h>

namespace fs = std::filesystem;
using qdf::host::Dataset;
using qdf::host::load_idx;

namespace {

std::vector<std::uint8_t> be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}

std::vector<std::uint8_t> idx(std::uint32_t magic, std::vector<std::uint32_t> dims, std::vector<std::uint8_t> data) {
  std::vector<std::uint8_t> f = be32(magic);
  for (auto d : dims) {
    auto b = be32(d);
    f.insert(f.end(), b.begin(), b.end());
  }
  f.insert(f.end(), data.begin(), data.end());
  return f;
}

struct Files {
  fs::path dir = fs::temp_directory_path() / ("qdf-idx-test-" + std::to_string(::getpid()));
  Files() { fs::create_directories(dir); }
  ~Files() { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::vector<std::uint8_t>& bytes) {
    std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return (dir / name).string();
  }
  std::string write_gz(const std::string& name, const std::vector<std::uint8_t>& bytes) {
    const std::string p = (dir / name).string();
    gzFile f = gzopen(p.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    return p;
  }
};

// Three 2x3 images and their labels.
std::vector<std::uint8_t> pixels() {
  std::vector<std::uint8_t> p;
  for (int i = 0; i < 18; ++i) p.push_back(static_cast<std::uint8_t>(i * 14));
  return p;
}
const std::vector<std::uint8_t> kImages = idx(0x803, {3, 2, 3}, pixels());
const std::vector<std::uint8_t> kLabels = idx(0x801, {3}, {7, 0, 9});

std::string error_of(const std::string& images, const std::string& labels) {
  try {
    load_idx(images, labels, "t");
  } catch (const qdf::UserError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("idx: raw and gzip files load to the same images and labels") {
  Files f;
  for (bool gz : {false, true}) {
    const std::string im = gz ? f.write_gz("i.gz", kImages) : f.write("i", kImages);
    const std::string lb = gz ? f.write_gz("l.gz", kLabels) : f.write("l", kLabels);
    Dataset d = load_idx(im, lb, "tiny");
    CHECK(d.size() == 3);
    CHECK(d.rows == 2);
    CHECK(d.cols == 3);
    CHECK(d.labels == std::vector<std::uint8_t>{7, 0, 9});
    CHECK(d.stream(1) == std::vector<std::int64_t>{84, 98, 112, 126, 140, 154});
    CHECK(d.stream(1, 2) == std::vector<std::int64_t>{1, 1, 1, 1, 2, 2});  // the 2 high bits
    CHECK(d.stream(1, 1) == std::vector<std::int64_t>{0, 0, 0, 0, 1, 1});  // bit 7
    CHECK(d.first(2).size() == 2);
    CHECK(d.first(2).stream(1) == d.stream(1));
  }
}

TEST_CASE("idx: bad files are errors that name the file and what is wrong") {
  Files f;
  const std::string lb = f.write("l", kLabels);
  auto truncated = kImages;
  truncated.pop_back();
  std::string e = error_of(f.write("short", truncated), lb);
  CHECK(e.find("short") != std::string::npos);
  CHECK(e.find("truncated: the header says 18 bytes of data, the file holds 17") != std::string::npos);

  auto longer = kImages;
  longer.push_back(0);
  CHECK(error_of(f.write("long", longer), lb).find("trailing bytes") != std::string::npos);

  CHECK(error_of(f.write("tiny", {0, 0, 8}), lb).find("shorter than the 16-byte IDX header") != std::string::npos);
  CHECK(error_of(f.write("swapped", idx(0x801, {20}, std::vector<std::uint8_t>(20, 1))), lb).find("magic 0x00000801, expected 0x00000803") != std::string::npos);
  CHECK(error_of(f.write("i", kImages), f.write("l2", idx(0x801, {2}, {1, 2}))).find("holds 3 images but") != std::string::npos);
  CHECK(error_of(f.write("i", kImages), f.write("l3", idx(0x801, {3}, {1, 2, 10}))).find("label 10 of image 2 is out of range 0..9") !=
        std::string::npos);
  CHECK(error_of((f.dir / "missing").string(), lb).find("missing: no such file") != std::string::npos);

  // A gzip file cut short.
  std::vector<std::uint8_t> big = idx(0x803, {300, 28, 28}, std::vector<std::uint8_t>(300 * 784, 0));
  for (size_t i = 16; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
  const std::string gz = f.write_gz("big.gz", big);
  std::ifstream in(gz, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bytes.resize(bytes.size() / 2);
  const std::string cut = f.write("cut.gz", std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
  e = error_of(cut, lb);
  CHECK(e.find("cut.gz") != std::string::npos);
  CHECK((e.find("damaged or truncated") != std::string::npos || e.find("truncated") != std::string::npos));
}

TEST_CASE("idx: Fashion-MNIST from Debian's dataset-fashion-mnist") {
  Dataset test = qdf::host::load_fashion_mnist("test");
  CHECK(test.size() == 10000);
  CHECK(test.rows == 28);
  CHECK(test.cols == 28);
  std::vector<int> per_class(10, 0);
  for (auto l : test.labels) ++per_class[l];
  CHECK(per_class == std::vector<int>(10, 1000));  // the test set is balanced
  CHECK(qdf::host::fashion_mnist_classes().at(9) == "Ankle boot");
  CHECK_THROWS_WITH_AS(qdf::host::load_fashion_mnist("validation"), doctest::Contains("'train' and 'test'"), qdf::UserError);
  CHECK_THROWS_WITH_AS(qdf::host::load_fashion_mnist("test", "/nonexistent"), doctest::Contains("dataset-fashion-mnist"),
                       qdf::UserError);
}
