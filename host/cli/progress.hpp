// A progress bar on stderr for long runs: shown only when stderr is a terminal and the work has
// taken more than a second. Hand-written because Debian 12 packages no C++ progress-bar library;
// it is a dozen lines.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace qdf::host {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)), tty_(::isatty(2) != 0) {}
  ~ProgressBar() { finish(); }
  // fraction in 0..1; `note` follows the bar (say, a running loss)
  void update(double fraction, const std::string& note = "") {
    if (!tty_) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (s < 1.0) return;
    const int width = 40, done = static_cast<int>(fraction * width);
    std::fprintf(stderr, "\r%s [%s%s] %3d%% %.1f s %s", label_.c_str(), std::string(static_cast<size_t>(done), '#').c_str(),
                 std::string(static_cast<size_t>(width - done), ' ').c_str(), static_cast<int>(fraction * 100), s, note.c_str());
    shown_ = true;
  }
  void finish() {
    if (shown_) std::fprintf(stderr, "\n");
    shown_ = false;
  }

 private:
  std::string label_;
  bool tty_ = false, shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace qdf::host
