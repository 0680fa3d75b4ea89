// An ONNX file read with Debian's ONNX protobuf classes (libonnx-dev), and its tensors as plain
// arrays: what the QONNX importer (import_qonnx.hpp) reads and the exporter (export_qonnx.hpp)
// writes. Nothing here knows about qdf's networks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
class TensorProto;
class NodeProto;
}  // namespace onnx

namespace qdf::host {

// A constant tensor: its shape and its values in row-major order (integers held exactly as
// doubles; ONNX shapes and indices stay far below 2^53).
struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<double> v;
  std::int64_t size() const;
  static Tensor scalar(double x) { return Tensor{{}, {x}}; }
};

// Reads `path` into `m`; a UserError names a missing file or one that is not an ONNX model.
void read_onnx_file(const std::string& path, onnx::ModelProto& m);
// Writes `m` to `path` atomically (a temporary file renamed into place).
void write_onnx_file(const std::string& path, const onnx::ModelProto& m);

// The values of a TensorProto (float, double, int32, int64, raw or typed fields); `what` names it
// in the UserError of an unsupported type.
Tensor tensor_from_proto(const onnx::TensorProto& t, const std::string& what);
// A float32 (or int64) TensorProto named `name`.
void tensor_to_proto(const Tensor& x, const std::string& name, onnx::TensorProto& t, bool int64 = false);

// "'MatMul_16' (MatMul)": how errors name a node.
std::string describe_node(const onnx::NodeProto& n);

}  // namespace qdf::host
