// Fuzz target: the IDX reader (host/data/idx_dataset.hpp), raw and gzip-compressed. The input's
// first byte chooses how each of the two files is written (bit 0: the images gzip-compressed,
// bit 1: the labels), the next two where the input splits into the images and the labels.
#include "fuzz_support.hpp"
#include "host/data/idx_dataset.hpp"

#include <vector>
#include <zlib.h>

namespace {

std::vector<std::uint8_t> gzip(const std::uint8_t* data, std::size_t size) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw qdf::InternalError("fuzz: deflateInit2");
  std::vector<std::uint8_t> out(deflateBound(&z, static_cast<uLong>(size)) + 32);
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw qdf::InternalError("fuzz: deflate");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qdf;
  if (size < 3) return 0;
  const int mode = data[0];
  const std::size_t split = std::min<std::size_t>((std::size_t{data[1]} << 8 | data[2]), size - 3);
  const std::uint8_t* images = data + 3;
  const std::uint8_t* labels = images + split;
  const std::size_t labels_size = size - 3 - split;
  const std::string dir = fuzz::scratch_dir();
  auto put = [&](const std::string& name, const std::uint8_t* p, std::size_t n, bool compressed) {
    const std::string path = dir + "/" + name + (compressed ? ".gz" : "");
    if (compressed) {
      const std::vector<std::uint8_t> z = gzip(p, n);
      fuzz::write_bytes(path, z.data(), z.size());
    } else {
      fuzz::write_bytes(path, p, n);
    }
    return path;
  };
  const std::string ip = put("images-idx3-ubyte", images, split, mode & 1);
  const std::string lp = put("labels-idx1-ubyte", labels, labels_size, mode & 2);
  fuzz::rejected_only_by_user_errors([&] {
    const host::Dataset d = host::load_idx(ip, lp, "fuzz");
    // What was accepted holds what it says: every image's stream is readable.
    for (std::int64_t i = 0; i < d.size(); ++i) (void)d.stream(i, 1 + (mode >> 2) % 8);
  });
  return 0;
}
