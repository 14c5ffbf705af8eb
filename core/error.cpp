// warn_once(), declared in core/error.h with mg::Error and check().
#include "core/error.h"

#include <iostream>
#include <mutex>
#include <set>

namespace minigrad {

void warn_once(const std::string& where, const std::string& message) {
  static std::mutex mutex;
  static std::set<std::pair<std::string, std::string>> printed;  // (where, message)
  const std::lock_guard<std::mutex> lock(mutex);
  if (printed.emplace(where, message).second) std::cerr << message << '\n';
}

}  // namespace minigrad
