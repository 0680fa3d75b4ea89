#include "dsl/files.hpp"

#include "dsl/errors.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace qdf::dsl {

void write_directory_atomically(const std::string& dir, const std::function<void(const std::string&)>& fill) {
  fs::path target = fs::absolute(dir);
  fs::path tmp = target.string() + fmt::format(".partial.{}", ::getpid());
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  try {
    fill(tmp.string());
  } catch (...) {
    fs::remove_all(tmp);
    throw;
  }
  fs::path old = target.string() + fmt::format(".old.{}", ::getpid());
  if (fs::exists(target)) fs::rename(target, old);
  fs::rename(tmp, target);
  fs::remove_all(old);
}

void write_text_file(const std::string& path, const std::string& text) {
  fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f << text;
  f.close();
  if (!f) throw UserError(fmt::format("cannot write '{}'", path));
}

}  // namespace qdf::dsl
