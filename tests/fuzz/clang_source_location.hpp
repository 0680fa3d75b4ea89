// Force-included in the fuzzing build only (QDF_FUZZ, CMakeLists.txt): clang 14, Debian 12's, has
// no __builtin_source_location, which GCC 12's <source_location> needs, so std::source_location is
// missing there. This gives it the members the DSL uses, made from the builtins clang 14 has.
// The other builds never see this file.
#pragma once

#include <version>

#if defined(__clang__) && !defined(__cpp_lib_source_location)
#include <cstdint>
#define _GLIBCXX_SRCLOC 1  // GCC's <source_location>, included after this, then defines nothing
namespace std {
struct source_location {
  static constexpr source_location current(const char* file = __builtin_FILE(), std::uint_least32_t line = __builtin_LINE(),
                                           std::uint_least32_t column = __builtin_COLUMN(),
                                           const char* function = __builtin_FUNCTION()) noexcept {
    source_location l;
    l.file_ = file;
    l.line_ = line;
    l.column_ = column;
    l.function_ = function;
    return l;
  }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr std::uint_least32_t line() const noexcept { return line_; }
  constexpr std::uint_least32_t column() const noexcept { return column_; }
  constexpr const char* function_name() const noexcept { return function_; }

 private:
  const char* file_ = "";
  std::uint_least32_t line_ = 0, column_ = 0;
  const char* function_ = "";
};
}  // namespace std
#endif
