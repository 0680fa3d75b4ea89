#include "dsl/files.hpp"

#include "dsl/errors.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace qdf::dsl {

namespace {

// Written into every directory write_directory_atomically makes: only such a directory (or an
// empty one) is ever replaced, so a mistyped --out cannot delete someone's files.
constexpr const char* kMarker = ".qdf-output";

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH); }

// What runs killed midway left beside `target`: `<name>.partial.<pid>` (a write in progress) is
// removed; `<name>.old.<pid>` (the previous result, moved aside just before the new one took
// its place) is put back when nothing took its place, else removed.
void clean_up_after_dead_runs(const fs::path& target) {
  std::error_code ec;
  const std::string name = target.filename().string();
  for (const std::string kind : {".partial.", ".old."}) {
    for (const fs::directory_entry& e : fs::directory_iterator(target.parent_path(), ec)) {
      const std::string f = e.path().filename().string();
      if (f.rfind(name + kind, 0) != 0) continue;
      const std::string pid = f.substr(name.size() + kind.size());
      if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos || pid.size() > 9) continue;
      if (process_alive(std::stol(pid))) continue;  // another run, still writing
      if (kind == ".old." && !fs::exists(target, ec)) fs::rename(e.path(), target, ec);
      else fs::remove_all(e.path(), ec);
    }
  }
}

}  // namespace

void write_directory_atomically(const std::string& dir, const std::function<void(const std::string&)>& fill) {
  if (dir.empty()) throw UserError("the output directory's name is empty: name a directory to write");
  fs::path target = fs::absolute(dir).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();  // a trailing slash
  const fs::path cwd = fs::current_path().lexically_normal();
  const auto [end, at] = std::mismatch(target.begin(), target.end(), cwd.begin(), cwd.end());
  if (end == target.end())
    throw UserError(fmt::format("output directory '{}' is {}: name a new directory (or one qdf wrote before) for the output", dir,
                                target == cwd ? "the current directory" : "a directory above the current one"));
  clean_up_after_dead_runs(target);
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(target, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st))
      throw UserError(fmt::format("output directory '{}' exists and is not a directory: refusing to replace it (remove it, or name "
                                  "another directory)",
                                  dir));
    if (!fs::is_empty(target, ec) && !fs::exists(target / kMarker, ec))
      throw UserError(fmt::format("output directory '{}' holds files that qdf did not write: refusing to replace it (remove it, or "
                                  "name another directory)",
                                  dir));
  }
  fs::path tmp = target.string() + fmt::format(".partial.{}", ::getpid());
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  try {
    fill(tmp.string());
    write_text_file((tmp / kMarker).string(), "written by qdf; qdf replaces this directory when asked to write it again\n");
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  fs::path old = target.string() + fmt::format(".old.{}", ::getpid());
  if (fs::exists(target)) fs::rename(target, old);
  fs::rename(tmp, target);
  fs::remove_all(old);
}

void write_file_atomically(const std::string& path, const std::function<void(const std::string&)>& fill) {
  if (path.empty()) throw UserError("the output file's name is empty: name a file to write");
  const fs::path target = fs::absolute(path).lexically_normal();
  std::error_code ec;
  if (!target.has_filename() || fs::is_directory(target, ec))
    throw UserError(fmt::format("output file '{}' is a directory: name a file to write", path));
  clean_up_after_dead_runs(target);
  const fs::path tmp = target.string() + fmt::format(".partial.{}", ::getpid());
  try {
    fill(tmp.string());
    fs::rename(tmp, target);
  } catch (const fs::filesystem_error& e) {
    fs::remove(tmp, ec);
    throw UserError(fmt::format("cannot write '{}': {}", path, e.code().message()));
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
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
