// What the fuzz targets share (tests/fuzz/: each a LLVMFuzzerTestOneInput over a parser of outside
// input). An input may be rejected only with a UserError: any other exception escapes the target,
// and libFuzzer (or the corpus replay driver) reports it as a crash, as it does an abort or a
// sanitizer's report.
#pragma once

#include "dsl/errors.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <string>
#include <unistd.h>

namespace qdf::fuzz {

// A scratch directory of this process, made once.
inline const std::string& scratch_dir() {
  static const std::string d = [] {
    const std::filesystem::path p = std::filesystem::temp_directory_path() / fmt::format("qdf-fuzz-{}", ::getpid());
    std::filesystem::remove_all(p);
    std::filesystem::create_directories(p);
    return p.string();
  }();
  return d;
}

inline void write_bytes(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f) throw InternalError("fuzz: cannot write " + path);
}

// Runs `f`; a UserError is a rejection, which is fine.
template <class F>
void rejected_only_by_user_errors(F&& f) {
  try {
    f();
  } catch (const UserError&) {
  }
}

}  // namespace qdf::fuzz
