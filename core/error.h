// mg::Error and check(): how minigrad refuses bad input.
//
// Every public entry point validates its arguments before it touches any data, and says what
// went wrong in the shape "<operation>: expected <this>, got <that>" — in PyTorch's own words
// wherever PyTorch has a message for the same mistake, so that a search for the message finds
// the same explanations. Read this first; everything else in core/ uses it.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>  // shapes (std::vector<int64_t>) format as [2, 3]

namespace minigrad {

// The one exception type minigrad throws for bad input and misuse.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws Error with a formatted message unless `condition` holds.
//   check(a.dim() == 2, "mm: expected a 2-D tensor, got {}-D", a.dim());
// The message is formatted only on failure, so pass shapes themselves (they print as [2, 3]),
// not strings made from them: an argument is evaluated on every call, failing or not.
template <class... Args>
void check(bool condition, fmt::format_string<Args...> format, Args&&... args) {
  if (!condition) throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Prints a warning on stderr the way Python's warnings module does by default: each distinct
// message from each place once per program, so a warning in a training loop shows once.
//   warn_once("GRU", "UserWarning: dropout option adds dropout after all but last ...");
void warn_once(const std::string& where, const std::string& message);

}  // namespace minigrad
