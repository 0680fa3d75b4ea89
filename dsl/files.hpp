// Writing results to disk so that a failure leaves nothing half-written.
#pragma once

#include <functional>
#include <string>

namespace qdf::dsl {

// Writes a directory atomically: `fill` writes into a temporary sibling which then replaces `dir`.
// On any exception nothing is left at `dir` (an existing `dir` is kept as it was).
void write_directory_atomically(const std::string& dir, const std::function<void(const std::string&)>& fill);

// Writes `text` to `path` (creating parent directories); a UserError names the path on failure.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace qdf::dsl
