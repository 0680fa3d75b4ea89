// Writing results: a directory replaced atomically, never a file or a directory qdf did not
// write, and nothing left behind by a run that failed or was killed.
#include "dsl/errors.hpp"
#include "dsl/files.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace qdf;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Names in `dir` other than `keep`.
std::vector<std::string> others(const fs::path& dir, const std::string& keep) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename() != keep) out.push_back(e.path().filename().string());
  return out;
}

// The pid of a process that has ended.
long dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

struct Scratch {
  fs::path dir = fs::temp_directory_path() / fmt::format("qdf-files-{}", ::getpid());
  Scratch() {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() { fs::remove_all(dir); }
};

void write_a(const std::string& d) { dsl::write_text_file(d + "/a.txt", "new"); }

}  // namespace

TEST_CASE("write_directory_atomically: replaces its own directory, refuses files and directories it did not write") {
  Scratch s;
  const fs::path out = s.dir / "out";
  dsl::write_directory_atomically(out.string(), write_a);
  CHECK(read(out / "a.txt") == "new");
  dsl::write_directory_atomically(out.string() + "/", [](const std::string& d) { dsl::write_text_file(d + "/a.txt", "again"); });
  CHECK(read(out / "a.txt") == "again");  // a trailing slash names the same directory
  CHECK(others(s.dir, "out").empty());    // and leaves nothing beside it

  const fs::path file = s.dir / "file.txt";
  std::ofstream(file) << "keep";
  CHECK_THROWS_WITH_AS(dsl::write_directory_atomically(file.string(), write_a), doctest::Contains("is not a directory"), UserError);
  CHECK(read(file) == "keep");

  const fs::path foreign = s.dir / "home";
  fs::create_directories(foreign);
  std::ofstream(foreign / "thesis.tex") << "years of work";
  CHECK_THROWS_WITH_AS(dsl::write_directory_atomically(foreign.string(), write_a), doctest::Contains("did not write"), UserError);
  CHECK(read(foreign / "thesis.tex") == "years of work");

  const fs::path here = fs::current_path();
  fs::current_path(out);
  CHECK_THROWS_WITH_AS(dsl::write_directory_atomically(".", write_a), doctest::Contains("the current directory"), UserError);
  CHECK_THROWS_WITH_AS(dsl::write_directory_atomically("..", write_a), doctest::Contains("above the current one"), UserError);
  fs::current_path(here);
  CHECK(read(out / "a.txt") == "again");
  CHECK_THROWS_WITH_AS(dsl::write_directory_atomically("", write_a), doctest::Contains("empty"), UserError);
}

TEST_CASE("write_directory_atomically: a failed write keeps the previous result, and what killed runs left is cleaned up") {
  Scratch s;
  const fs::path out = s.dir / "out";
  dsl::write_directory_atomically(out.string(), write_a);
  CHECK_THROWS(dsl::write_directory_atomically(out.string(), [](const std::string& d) {
    dsl::write_text_file(d + "/a.txt", "half");
    throw UserError("the fill failed");
  }));
  CHECK(read(out / "a.txt") == "new");
  CHECK(others(s.dir, "out").empty());

  // A run killed while writing left a partial sibling; one killed between moving the previous
  // result aside and putting the new one in place left only the previous result, aside.
  const long dead = dead_pid();
  fs::create_directories(s.dir / fmt::format("out.partial.{}", dead));
  fs::rename(out, s.dir / fmt::format("out.old.{}", dead));
  dsl::write_directory_atomically((s.dir / "other").string(), write_a);  // another output: not touched
  CHECK(fs::exists(s.dir / fmt::format("out.old.{}", dead)));
  dsl::write_directory_atomically(out.string(), [&](const std::string& d) {
    CHECK(read(out / "a.txt") == "new");  // the previous result was put back before this write
    dsl::write_text_file(d + "/a.txt", "newer");
  });
  CHECK(read(out / "a.txt") == "newer");
  CHECK(!fs::exists(s.dir / fmt::format("out.partial.{}", dead)));
  CHECK(!fs::exists(s.dir / fmt::format("out.old.{}", dead)));
}
