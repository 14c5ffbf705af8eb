// Printing tensors the way PyTorch's repr does:
//   tensor([[ 0.1000, -2.0000],
//           [ 3.5000,  4.0000]], dtype=torch.float64, requires_grad=True)
// with `std::cout << t` or `fmt::print("{}", t)`. See print.cpp for the formatting rules.
#pragma once

#include <ostream>
#include <string>

#include <fmt/ostream.h>

#include "core/tensor.h"

namespace minigrad {

std::string repr(const Tensor& t);
std::ostream& operator<<(std::ostream& out, const Tensor& t);

}  // namespace minigrad

template <>
struct fmt::formatter<minigrad::Tensor> : fmt::ostream_formatter {};
