// Writing results to disk so that a failure leaves nothing half-written.
#pragma once

#include <functional>
#include <string>

namespace qdf::dsl {

// Writes a directory atomically: `fill` writes into a temporary sibling which then replaces `dir`.
// On any exception nothing is left at `dir` (an existing `dir` is kept as it was), and what a
// run killed midway left (a partial sibling, or the previous result moved aside) is cleaned up
// or put back by the next write. Refused, with a UserError naming `dir`: an empty name, the
// current directory or one above it, a path that exists and is not a directory, and a
// directory that is neither empty nor written by this function (it leaves a marker file).
void write_directory_atomically(const std::string& dir, const std::function<void(const std::string&)>& fill);

// Writes a file atomically: `fill` writes the temporary sibling it is given (<path>.partial.<pid>),
// which then replaces `path`. On any exception nothing is left (an existing file at `path` is kept
// as it was), and what a run killed midway left (a <path>.partial.<pid> of a process that is
// gone) is removed by the next write. A `path` that is a directory is refused with a UserError.
void write_file_atomically(const std::string& path, const std::function<void(const std::string&)>& fill);

// Writes `text` to `path` (creating parent directories); a UserError names the path on failure.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace qdf::dsl
