// nn::LayerNorm: the forward pass composed of autograd ops, so that its backward is theirs.
//
// Written out of sums, a product and a power, the layer needs no hand-derived backward: the
// chain rule through (x − mean), the variance and (var + eps)^(−1/2) is what autograd runs.
// (The gradient it computes is the well-known
//   grad_x = (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)) / √(var + eps),   g = grad_y ⊙ weight,
// with x̂ the normalised input and the means over the normalised block.) Read after layer_norm.h.
#include "nn/layer_norm.h"

#include <fmt/format.h>

#include "core/autograd.h"
#include "nn/init.h"
#include "nn/repr.h"

namespace minigrad::nn {

namespace {

// The options, once PyTorch's check on them has passed.
const LayerNormOptions& checked(const LayerNormOptions& options) {
  check(!options.normalized_shape().empty(),
        "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
        "element, but got normalized_shape = {}",
        options.normalized_shape());
  return options;
}

Tensor affine_parameter(const LayerNormOptions& options) {
  return options.elementwise_affine() ? empty(options.normalized_shape()) : Tensor();
}

}  // namespace

LayerNorm::LayerNorm(const LayerNormOptions& options)
    : Module("LayerNorm"),
      options(checked(options)),
      weight(register_parameter("weight", affine_parameter(options))),
      bias(register_parameter("bias", affine_parameter(options))) {
  reset_parameters();
}

void LayerNorm::reset_parameters() {
  if (!weight.defined()) return;
  init::ones_(weight);
  init::zeros_(bias);
}

// y = (x − mean) / √(var + eps) ⊙ weight + bias, over the last k = len(normalized_shape) dims
//   x (*, S_1 … S_k)   weight, bias (S_1 … S_k)   mean, var (*, 1 … 1)   ->   y (*, S_1 … S_k)
Tensor LayerNorm::forward(const Tensor& input) const {
  const Shape& normalized = options.normalized_shape();
  const auto k = static_cast<std::int64_t>(normalized.size());
  const bool matches =
      input.dim() >= k && Shape(input.shape().end() - k, input.shape().end()) == normalized;
  check(matches,
        "Given normalized_shape={}, expected input with shape [*, {}], but got input of size{}",
        normalized, fmt::join(normalized, ", "), input.shape());
  check(is_floating(input.dtype()), "\"LayerNormKernelImpl\" not implemented for '{}'",
        dtype_name(input.dtype()));
  if (weight.defined())
    check(input.dtype() == weight.dtype(), "expected scalar type {} but found {}",
          dtype_name(input.dtype()), dtype_name(weight.dtype()));

  Shape dims;  // the last k dimensions of x
  for (std::int64_t d = input.dim() - k; d < input.dim(); ++d) dims.push_back(d);
  const double count = static_cast<double>(shape_numel(normalized));  // D
  const Tensor mean = input.sum(dims, /*keepdim=*/true) / count;      // (*, 1 … 1)
  const Tensor centered = input - mean;                               // (*, S_1 … S_k)
  const Tensor var = (centered * centered).sum(dims, true) / count;   // (*, 1 … 1), biased
  const Tensor normalised = centered * (var + options.eps()).pow(-0.5);
  return weight.defined() ? normalised * weight + bias : normalised;
}

std::string LayerNorm::extra_repr() const {
  return fmt::format("{}, eps={}, elementwise_affine={}", python_tuple(options.normalized_shape()),
                     python_float(options.eps()), options.elementwise_affine() ? "True" : "False");
}

}  // namespace minigrad::nn
