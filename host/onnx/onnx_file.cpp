#include "host/onnx/onnx_file.hpp"

#include "dsl/errors.hpp"

#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <onnx/onnx_pb.h>
#include <unistd.h>

namespace qdf::host {

std::int64_t Tensor::size() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

void read_onnx_file(const std::string& path, onnx::ModelProto& m) {
  if (!std::filesystem::is_regular_file(path)) throw UserError(fmt::format("{}: no such ONNX file", path));
  std::ifstream f(path, std::ios::binary);
  if (!f || !m.ParseFromIstream(&f))
    throw UserError(fmt::format("{}: not an ONNX model (the protobuf does not parse as onnx.ModelProto)", path));
  if (!m.has_graph() || m.graph().node_size() == 0) throw UserError(fmt::format("{}: the ONNX model has an empty graph", path));
}

void write_onnx_file(const std::string& path, const onnx::ModelProto& m) {
  const std::filesystem::path tmp = path + fmt::format(".partial.{}", ::getpid());
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f || !m.SerializeToOstream(&f) || !f.flush()) {
      std::filesystem::remove(tmp);
      throw UserError(fmt::format("cannot write ONNX file {}", path));
    }
  }
  std::filesystem::rename(tmp, path);
}

namespace {

template <class T>
std::vector<double> raw_values(const std::string& raw, const std::string& what) {
  if (raw.size() % sizeof(T) != 0)
    throw UserError(fmt::format("tensor {}: its raw data holds {} bytes, not a whole number of {}-byte values", what, raw.size(), sizeof(T)));
  std::vector<double> v(raw.size() / sizeof(T));
  for (size_t i = 0; i < v.size(); ++i) {
    T x;
    std::memcpy(&x, raw.data() + i * sizeof(T), sizeof(T));  // ONNX raw data is little-endian, as this machine
    v[i] = static_cast<double>(x);
  }
  return v;
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& t, const std::string& what) {
  Tensor x;
  for (std::int64_t d : t.dims()) x.shape.push_back(d);
  const bool raw = t.has_raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      x.v = raw ? raw_values<float>(t.raw_data(), what) : std::vector<double>(t.float_data().begin(), t.float_data().end());
      break;
    case onnx::TensorProto::DOUBLE:
      x.v = raw ? raw_values<double>(t.raw_data(), what) : std::vector<double>(t.double_data().begin(), t.double_data().end());
      break;
    case onnx::TensorProto::INT64:
      x.v = raw ? raw_values<std::int64_t>(t.raw_data(), what) : std::vector<double>(t.int64_data().begin(), t.int64_data().end());
      break;
    case onnx::TensorProto::INT32:
      x.v = raw ? raw_values<std::int32_t>(t.raw_data(), what) : std::vector<double>(t.int32_data().begin(), t.int32_data().end());
      break;
    default:
      throw UserError(fmt::format("tensor {}: element type {} is not supported (float, double, int32 and int64 are)", what,
                                  static_cast<int>(t.data_type())));
  }
  if (t.has_data_location() && t.data_location() == onnx::TensorProto::EXTERNAL)
    throw UserError(fmt::format("tensor {}: external data is not supported; save the model with its tensors inside", what));
  if (static_cast<std::int64_t>(x.v.size()) != x.size())
    throw UserError(fmt::format("tensor {}: {} values for a shape of {}", what, x.v.size(), x.size()));
  return x;
}

void tensor_to_proto(const Tensor& x, const std::string& name, onnx::TensorProto& t, bool int64) {
  t.set_name(name);
  for (std::int64_t d : x.shape) t.add_dims(d);
  // As raw little-endian bytes (this machine's order), the compact form readers load fastest.
  std::string raw;
  if (int64) {
    t.set_data_type(onnx::TensorProto::INT64);
    for (double v : x.v) {
      const auto i = static_cast<std::int64_t>(v);
      raw.append(reinterpret_cast<const char*>(&i), sizeof i);
    }
  } else {
    t.set_data_type(onnx::TensorProto::FLOAT);
    for (double v : x.v) {
      const auto f = static_cast<float>(v);
      raw.append(reinterpret_cast<const char*>(&f), sizeof f);
    }
  }
  t.set_raw_data(raw);
}

std::string describe_node(const onnx::NodeProto& n) {
  return fmt::format("'{}' ({})", n.name().empty() ? (n.output_size() ? n.output(0) : std::string("unnamed")) : n.name(), n.op_type());
}

}  // namespace qdf::host
