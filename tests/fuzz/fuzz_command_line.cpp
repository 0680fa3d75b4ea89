// Fuzz target: the command line (host/cli/command_line.hpp). The input is the arguments after
// `qdf`, one per line; check_command_line parses them and checks every value that needs no
// design, as `qdf` does before any work. A parse error or a UserError is a rejection (exit code 1,
// or CLI11's own for help and bad flags); exit code 2, an exception other than a UserError, is a
// crash here.
#include "host/cli/command_line.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args{"qdf"};
  std::string arg;
  for (std::size_t i = 0; i < size && args.size() < 64; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '\n') {
      args.push_back(arg);
      arg.clear();
    } else if (c != '\0') {  // an argument of argv cannot hold a NUL
      arg += c;
    }
  }
  if (!arg.empty()) args.push_back(arg);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Help and error messages are not what is tested: keep them off the terminal.
  std::ostringstream out, err;
  std::streambuf* old_out = std::cout.rdbuf(out.rdbuf());
  std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
  const int rc = qdf::host::check_command_line(static_cast<int>(args.size()), argv.data());
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  if (rc == 2) {
    std::fprintf(stderr, "check_command_line: an internal error, not a user error:\n%s\nthe arguments:\n", err.str().c_str());
    for (const std::string& a : args) std::fprintf(stderr, "  [%s]\n", a.c_str());
    std::abort();
  }
  return 0;
}
