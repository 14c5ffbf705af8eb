// Gradient clipping: clip_grad_norm_ and clip_grad_value_, PyTorch 1.13's semantics to the
// detail (torch/nn/utils/clip_grad.py).
//
// clip_grad_norm_ takes the norm of every gradient on its own and then the norm of those norms,
// as PyTorch does. For p ≠ 0 that is the norm of all gradients concatenated, since
// ‖g_k‖_p^p = Σ_i |g_ki|^p and so (Σ_k ‖g_k‖_p^p)^(1/p) = (Σ_k Σ_i |g_ki|^p)^(1/p), and the
// same holds for the max and the min; for p = 0 PyTorch's order gives the number of gradients
// that are not all zero, and so does this one. Each gradient's norm is rounded to that gradient's dtype, as PyTorch computes
// it, and the total to the dtype the gradients promote to. Sums accumulate in double.
//
// Read after clip_grad.h; the optimizers (optim/) come next.
#include "nn/utils/clip_grad.h"

#include <cmath>
#include <limits>

#include "core/autograd.h"
#include "core/kernel.h"
#include "nn/repr.h"

namespace minigrad::nn::utils {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// fold(…fold(fold(init, |x_0|), |x_1|)…, |x_n−1|) over x's elements, in double.
template <class Fold>
double fold_abs(const Tensor& x, double init, Fold fold) {
  double acc = init;
  dispatch_floating(x.dtype(), "norm", [&]<class T>() {
    const T* data = x.data_ptr<T>();
    for_each_offset<1>(x.shape(), {&x.strides()}, [&](const auto& at) {
      acc = fold(acc, std::abs(static_cast<double>(data[at[0]])));
    });
  });
  return acc;
}

// The p-norm of x's elements seen as one vector, with torch.norm's definitions:
//   ‖x‖_p = (Σ |x_i|^p)^(1/p),  ‖x‖_∞ = max |x_i|,  ‖x‖_−∞ = min |x_i|,
//   ‖x‖_0 = the number of nonzero x_i,
// and 0 for an empty x, whatever p. A NaN element makes the norm NaN (for p = 0 it counts as
// nonzero, as in PyTorch). p = 1 and p = 2 are the general formula written without pow, which
// is slow.
double vector_norm(const Tensor& x, double p) {
  if (x.numel() == 0) return 0;
  if (p == kInf)
    return fold_abs(x, 0, [](double acc, double a) { return a > acc || std::isnan(a) ? a : acc; });
  if (p == -kInf)
    return fold_abs(x, kInf,
                    [](double acc, double a) { return a < acc || std::isnan(a) ? a : acc; });
  if (p == 0) return fold_abs(x, 0, [](double acc, double a) { return acc + (a != 0 ? 1 : 0); });
  if (p == 1) return fold_abs(x, 0, [](double acc, double a) { return acc + a; });
  if (p == 2) return std::sqrt(fold_abs(x, 0, [](double acc, double a) { return acc + a * a; }));
  return std::pow(fold_abs(x, 0, [p](double acc, double a) { return acc + std::pow(a, p); }),
                  1 / p);
}

// `value` rounded to `dtype` (float32 or float64), a number that float32 cannot hold becoming
// ±inf as a float32 computation would.
double round_to(Dtype dtype, double value) {
  return dtype == kFloat32 ? static_cast<double>(convert<float>(value)) : value;
}

// A 0-d tensor of `dtype` holding `value`, rounded as round_to() does.
Tensor zero_dim(double value, Dtype dtype) {
  return dispatch_floating(dtype, "clip_grad_norm_", [&]<class T>() {
    return from_vector(std::vector<T>{convert<T>(value)}, Shape{});
  });
}

}  // namespace

// total = ‖(‖g_1‖_p, ‖g_2‖_p, …)‖_p, then g_k ← g_k · min(1, max_norm / (total + 1e-6))
Tensor clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  std::vector<Tensor> grads;  // the defined gradients; parameters without one are skipped
  for (const Tensor& p : parameters)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return zero_dim(0, kFloat32);

  // The norm of each gradient in its own dtype, and the dtype they promote to when stacked.
  std::vector<double> norms;
  Dtype dtype = grads[0].dtype();
  for (const Tensor& g : grads) {
    // PyTorch takes the ∞-norm as g.abs().max(), which has no answer for an empty gradient.
    check(norm_type != kInf || g.numel() > 0,
          "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
          "reduction dim with the 'dim' argument.");
    norms.push_back(round_to(g.dtype(), vector_norm(g, norm_type)));
    dtype = promote_types(dtype, g.dtype());
  }
  const double total = round_to(dtype, vector_norm(from_vector(norms), norm_type));
  check(!error_if_nonfinite || std::isfinite(total),
        "The total norm of order {} for gradients from `parameters` is non-finite, so it cannot "
        "be clipped. To disable this error and scale the gradients by the non-finite norm "
        "anyway, set `error_if_nonfinite=False`",
        python_float(norm_type));

  // The 1e-6 is PyTorch's too: it keeps the division finite when every gradient is zero
  // (total = 0), where the coefficient is then huge and the clamp below leaves the gradients be.
  const double clip_coef = max_norm / (total + 1e-6);
  // PyTorch multiplies every gradient by clamp(clip_coef, max=1). A factor of 1 changes nothing,
  // so here only a coefficient below 1 is applied — or a NaN one (from a NaN norm), which the
  // clamp keeps and which so makes every gradient NaN, as in PyTorch.
  if (clip_coef < 1 || std::isnan(clip_coef)) {
    NoGradGuard no_grad;
    for (Tensor& g : grads) g.copy_(g * clip_coef);
  }
  return zero_dim(total, dtype);
}

Tensor clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  return clip_grad_norm_(std::vector<Tensor>{parameter}, max_norm, norm_type, error_if_nonfinite);
}

// g ← clamp(g, −clip_value, clip_value). With a negative clip_value the lower bound is above the
// upper one and every element becomes the upper bound, clip_value, as in PyTorch.
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
  NoGradGuard no_grad;
  for (const Tensor& p : parameters) {
    Tensor g = p.grad();
    if (g.defined()) g.copy_(g.clamp(-clip_value, clip_value));
  }
}

void clip_grad_value_(const Tensor& parameter, double clip_value) {
  clip_grad_value_(std::vector<Tensor>{parameter}, clip_value);
}

}  // namespace minigrad::nn::utils
