// nn::Linear: construction, PyTorch's default initialisation and the forward pass.
//
// The forward is two autograd ops, matmul (core/matmul.cpp, which hands Wᵀ to the BLAS as a
// transpose flag rather than a copy) and a broadcast add, so its backward comes from theirs:
//   grad_x = grad_y W,   grad_W = Σ grad_yᵀ x over the leading dimensions,   grad_b = Σ grad_y.
// Read after linear.h.
#include "nn/linear.h"

#include <cmath>

#include <fmt/format.h>

#include "nn/init.h"

namespace minigrad::nn {

Linear::Linear(const LinearOptions& options)
    : Module("Linear"),
      options(options),
      weight(register_parameter("weight", empty({options.out_features(), options.in_features()}))),
      bias(
          register_parameter("bias", options.bias() ? empty({options.out_features()}) : Tensor())) {
  reset_parameters();
}

void Linear::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (!bias.defined()) return;
  const std::int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).first;
  const double bound = fan_in > 0 ? 1 / std::sqrt(static_cast<double>(fan_in)) : 0;
  init::uniform_(bias, -bound, bound);
}

// y = x Wᵀ + b
//   x (*, in)   W (out, in)   b (out)   ->   y (*, out)
Tensor Linear::forward(const Tensor& input) const {
  // The checks PyTorch's F.linear makes, in its order and words. It computes 2-D input (and
  // contiguous 3-D input, folded to 2-D) with a bias as one addmm, which checks the dtypes
  // before the shapes; every other case goes through matmul, which checks the shapes first.
  // Both describe the product as (rows × in) times Wᵀ (in × out), the leading dimensions of x
  // folded into rows.
  check(input.dim() >= 1,
        "both arguments to matmul need to be at least 1D, but they are {}D and 2D", input.dim());
  const bool addmm =
      bias.defined() && (input.dim() == 2 || (input.dim() == 3 && input.is_contiguous()));
  if (addmm) check(input.dtype() == weight.dtype(), "mat1 and mat2 must have the same dtype");
  std::int64_t rows = 1;
  for (std::int64_t d = 0; d + 1 < input.dim(); ++d) rows *= input.size(d);
  check(input.size(-1) == weight.size(1),
        "mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{})", rows, input.size(-1),
        weight.size(1), weight.size(0));
  check(input.dtype() == weight.dtype(), "expected scalar type {} but found {}",
        dtype_name(input.dtype()), dtype_name(weight.dtype()));

  const Tensor y = matmul(input, weight.t());  // (*, out)
  return bias.defined() ? y + bias : y;
}

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", options.in_features(),
                     options.out_features(), bias.defined() ? "True" : "False");
}

}  // namespace minigrad::nn
