// Runs of outside tools (dsl/verilator_runner.hpp's run_command, which Verilator, the compiler and
// Yosys runs all go through): a run past its time limit is stopped, with what it started, and is a
// user error naming the limit; the limit's variable is checked.
#include "dsl/errors.hpp"
#include "dsl/verilator_runner.hpp"

#include <chrono>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fmt/format.h>
#include <thread>
#include <unistd.h>

using namespace qdf;
namespace fs = std::filesystem;

TEST_CASE("run_command: output and status of a command that finishes") {
  std::string out;
  // Single quotes in the command survive its wrapping in the time limit's shell.
  CHECK(dsl::run_command("echo 'quoted text'; exit 3", &out, 10) == 3);
  CHECK(out == "quoted text\n");
}

TEST_CASE("run_command: a command past its time limit is stopped, with the processes it started, and named") {
  const fs::path mark = fs::temp_directory_path() / fmt::format("qdf-timeout-{}", ::getpid());
  fs::remove(mark);
  std::string out;
  const auto t0 = std::chrono::steady_clock::now();
  // A child that would leave a mark after 3 s: stopped with its parent, it never does.
  CHECK_THROWS_WITH_AS(dsl::run_command(fmt::format("echo started; (sleep 3; touch '{}') & sleep 30", mark.string()), &out, 0.5),
                       doctest::Contains("took longer than its limit of 0.5 s and was stopped (set QDF_TOOL_TIMEOUT_S"), UserError);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(took < 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  CHECK(!fs::exists(mark));
}

TEST_CASE("tool_timeout_s: QDF_TOOL_TIMEOUT_S, checked") {
  ::unsetenv("QDF_TOOL_TIMEOUT_S");
  CHECK(dsl::tool_timeout_s() == 7200);
  ::setenv("QDF_TOOL_TIMEOUT_S", "2.5", 1);
  CHECK(dsl::tool_timeout_s() == 2.5);
  for (const char* bad : {"0", "-1", "nan", "inf", "ten", "5s"}) {
    CAPTURE(bad);
    ::setenv("QDF_TOOL_TIMEOUT_S", bad, 1);
    CHECK_THROWS_WITH_AS(dsl::tool_timeout_s(), doctest::Contains(fmt::format("QDF_TOOL_TIMEOUT_S is '{}'", bad).c_str()), UserError);
  }
  ::unsetenv("QDF_TOOL_TIMEOUT_S");
}
