// The one writer of Verilog module text: a header comment, the port list, declarations, instances
// with named port connections, and body lines as given where a process or an assign is needed.
// Every generated module (kernels, the FIFO, the FPGA tops, the simulation system) is laid out by
// it, so that port lists and instances are written in one place and look the same everywhere.
//
// Layout: two-space indent; ports and declarations keep their names in one column (`input `,
// `output`, `wire`, `reg ` then the range column, six characters wide as "[63:0]"). Body lines
// appear in the order they were added; instances and declarations among them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qdf::dsl {

// How a signal's width is written: as a range [bits-1:0], or as a single bit without one.
struct VerilogWidth {
  int bits = 1;
  bool range = false;

  static VerilogWidth bit() { return {1, false}; }
  static VerilogWidth vec(int bits) { return {bits, true}; }  // [bits-1:0], also for one bit
  static VerilogWidth fit(int bits) { return bits == 1 ? bit() : vec(bits); }
  std::string text() const;  // "[7:0]", or blanks as wide as "[63:0]" for a bit
};

// A named port connection of an instance: .port(signal).
struct VerilogConnection {
  std::string port, signal;
};
// The three connections of a valid/ready stream: .<port>_data(<signal>_data), _valid, _ready.
std::vector<VerilogConnection> stream_connections(const std::string& port, const std::string& signal);

class VerilogModuleWriter {
 public:
  explicit VerilogModuleWriter(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  // One line of the comment above `module`, written "// " + text.
  void comment(const std::string& text);

  // A parameter of the module (`#(parameter NAME = value)`), in order; the comment ends its line.
  void parameter(const std::string& name, std::int64_t default_value, const std::string& comment = "");

  // Ports, in order; a non-empty comment is written on its own line above the port.
  void input(const std::string& name, VerilogWidth w, const std::string& comment = "");
  void output(const std::string& name, VerilogWidth w, const std::string& comment = "");
  // A valid/ready stream into the module (<prefix>_data, _valid in; _ready out) or out of it.
  void stream_input(const std::string& prefix, VerilogWidth data);
  void stream_output(const std::string& prefix, VerilogWidth data);

  // Declarations; `names` is one name or several separated by ", ". A comment ends the line.
  void wire(VerilogWidth w, const std::string& names, const std::string& value = "", const std::string& comment = "");
  void reg(VerilogWidth w, const std::string& names, const std::string& comment = "");
  // reg <w> name [0:depth-1]
  void memory(VerilogWidth w, const std::string& name, std::int64_t depth, const std::string& comment = "");

  // An instance of `module` named `name`; a non-empty comment is written on a line above it.
  // `parameters` set the module's parameters by name (.NAME(value)); none: the defaults.
  void instance(const std::string& module, const std::string& name, const std::vector<VerilogConnection>& connections,
                const std::string& comment = "", const std::vector<VerilogConnection>& parameters = {});

  // A body line as given (indent included, no newline): a process, an assign, a comment.
  void line(const std::string& text);

  // The module: header comment, `module name (`, the ports, `);`, the body, `endmodule`.
  std::string text() const;

 private:
  void port(const char* direction, const std::string& name, VerilogWidth w, const std::string& comment);

  std::string name_;
  std::string header_;
  std::vector<std::string> parameters_;  // each without the separating comma
  std::vector<std::string> ports_;  // each with its comment line, without the separating comma
  std::string body_;
};

}  // namespace qdf::dsl
