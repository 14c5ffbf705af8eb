// How PyTorch's reprs write numbers and shapes, for the extra_repr() of the layers:
//   python_float(1e-05) == "1e-05", python_float(1) == "1.0", python_tuple({4}) == "(4,)".
// Read with nn/module.h (Module::repr); the layers' extra_repr() functions use it.
#pragma once

#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "core/shape.h"

namespace minigrad::nn {

// Python's repr() of a float: the shortest text that reads back as the same double, with ".0"
// after a whole number written without an exponent. fmt's shortest form already switches to
// exponents where Python does (1e-05, 1e+16) and writes them the same way.
inline std::string python_float(double value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".en") == std::string::npos) text += ".0";  // not 1e+16, inf, nan
  return text;
}

// Python's repr() of a tuple of ints: "(4,)", "(3, 4)", "()".
inline std::string python_tuple(const Shape& sizes) {
  if (sizes.size() == 1) return fmt::format("({},)", sizes[0]);
  return fmt::format("({})", fmt::join(sizes, ", "));
}

}  // namespace minigrad::nn
