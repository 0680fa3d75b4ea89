#include "dsl/verilog_writer.hpp"

#include <fmt/format.h>

namespace qdf::dsl {

namespace {
std::string end_comment(const std::string& comment) { return comment.empty() ? "" : "  // " + comment; }
}  // namespace

std::string VerilogWidth::text() const { return range ? fmt::format("[{}:0]", bits - 1) : "      "; }

std::vector<VerilogConnection> stream_connections(const std::string& port, const std::string& signal) {
  std::vector<VerilogConnection> c;
  for (const char* s : {"_data", "_valid", "_ready"}) c.push_back({port + s, signal + s});
  return c;
}

void VerilogModuleWriter::comment(const std::string& text) { header_ += "// " + text + "\n"; }

void VerilogModuleWriter::parameter(const std::string& name, std::int64_t default_value, const std::string& comment) {
  parameters_.push_back(fmt::format("  parameter {} = {}{}", name, default_value, end_comment(comment)));
}

void VerilogModuleWriter::port(const char* direction, const std::string& name, VerilogWidth w, const std::string& comment) {
  std::string p = comment.empty() ? "" : "  // " + comment + "\n";
  ports_.push_back(p + fmt::format("  {} wire {} {}", direction, w.text(), name));
}
void VerilogModuleWriter::input(const std::string& name, VerilogWidth w, const std::string& comment) {
  port("input ", name, w, comment);
}
void VerilogModuleWriter::output(const std::string& name, VerilogWidth w, const std::string& comment) {
  port("output", name, w, comment);
}
void VerilogModuleWriter::stream_input(const std::string& prefix, VerilogWidth data) {
  input(prefix + "_data", data);
  input(prefix + "_valid", VerilogWidth::bit());
  output(prefix + "_ready", VerilogWidth::bit());
}
void VerilogModuleWriter::stream_output(const std::string& prefix, VerilogWidth data) {
  output(prefix + "_data", data);
  output(prefix + "_valid", VerilogWidth::bit());
  input(prefix + "_ready", VerilogWidth::bit());
}

void VerilogModuleWriter::wire(VerilogWidth w, const std::string& names, const std::string& value, const std::string& comment) {
  line(fmt::format("  wire {} {}{};{}", w.text(), names, value.empty() ? "" : " = " + value, end_comment(comment)));
}
void VerilogModuleWriter::reg(VerilogWidth w, const std::string& names, const std::string& comment) {
  line(fmt::format("  reg  {} {};{}", w.text(), names, end_comment(comment)));
}
void VerilogModuleWriter::memory(VerilogWidth w, const std::string& name, std::int64_t depth, const std::string& comment) {
  line(fmt::format("  reg  {} {} [0:{}];{}", w.text(), name, depth - 1, end_comment(comment)));
}

void VerilogModuleWriter::instance(const std::string& module, const std::string& name,
                                   const std::vector<VerilogConnection>& connections, const std::string& comment,
                                   const std::vector<VerilogConnection>& parameters) {
  if (!comment.empty()) line("  // " + comment);
  std::string with;
  for (size_t i = 0; i < parameters.size(); ++i) with += fmt::format("{}.{}({})", i ? ", " : "", parameters[i].port, parameters[i].signal);
  line(parameters.empty() ? fmt::format("  {} {} (", module, name) : fmt::format("  {} #({}) {} (", module, with, name));
  for (size_t i = 0; i < connections.size(); ++i)
    line(fmt::format("    .{}({}){}", connections[i].port, connections[i].signal, i + 1 < connections.size() ? "," : ""));
  line("  );");
}

void VerilogModuleWriter::line(const std::string& text) { body_ += text + "\n"; }

std::string VerilogModuleWriter::text() const {
  std::string v = header_ + fmt::format("module {} ", name_);
  if (!parameters_.empty()) {
    // A comment ends a parameter's line, so the separating comma goes before it.
    v += "#(\n";
    for (size_t i = 0; i < parameters_.size(); ++i) {
      std::string line = parameters_[i];
      if (i + 1 < parameters_.size()) {
        const size_t c = line.find("  //");
        line.insert(c == std::string::npos ? line.size() : c, ",");
      }
      v += line + "\n";
    }
    v += ") ";
  }
  v += "(\n";
  for (size_t i = 0; i < ports_.size(); ++i) v += ports_[i] + (i + 1 < ports_.size() ? ",\n" : "\n");
  return v + ");\n" + body_ + "endmodule\n";
}

}  // namespace qdf::dsl
