// The two kinds of error. A UserError is the user's to fix (a bad kernel, file, flag): its text
// says what was expected, what was found, where, and how to fix it. An InternalError is a bug in
// qdf and says so.
#pragma once

#include <stdexcept>
#include <string>

namespace qdf {

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& what)
      : std::logic_error("internal error (a bug in qdf, please report it): " + what) {}
};

}  // namespace qdf
