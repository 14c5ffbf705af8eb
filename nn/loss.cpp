// The regression losses (mse_loss, l1_loss), binary cross-entropy on logits, and the loss modules.
//
// mse_loss and l1_loss are written with autograd ops, which is all they need: the difference,
// its square or absolute value, and the reduction each record their own backward.
// binary_cross_entropy_with_logits is one node with a hand-derived backward, because the form
// that never overflows is made of pieces (max, |x|) whose derivatives are wrong at x = 0 when
// taken one by one, though their sum is smooth there.
//
// Read after nn/loss.h; nn/cross_entropy.cpp comes next.
#include "nn/loss.h"

#include <cmath>
#include <string>
#include <utility>

#include "core/autograd.h"
#include "core/kernel.h"
#include "nn/loss_common.h"

namespace minigrad::nn {

namespace {

// PyTorch's warning for a target that is broadcast against the input of `op`.
void warn_if_broadcast(const Tensor& input, const Tensor& target, const char* op) {
  if (input.shape() == target.shape()) return;
  const std::string message = fmt::format(
      "UserWarning: Using a target size (torch.Size({})) that is different to the input size "
      "(torch.Size({})). This will likely lead to incorrect results due to broadcasting. Please "
      "ensure they have the same size.",
      target.shape(), input.shape());
  warn_once(op, message);
}

// softplus(−x) = log(1 + exp(−x)), written as max(−x, 0) + log1p(exp(−|x|)) so that exp never
// overflows, elementwise.
Tensor softplus_of_minus(const Tensor& x) {
  return dispatch_floating(x.dtype(), "softplus", [&]<class T>() {
    return map<T, T>(x,
                     [](T v) { return std::max(-v, T{0}) + std::log1p(std::exp(-std::abs(v))); });
  });
}

}  // namespace

// ---- Shared with nn/cross_entropy.cpp (nn/loss_common.h) ----------------------------------------

Tensor apply_reduction(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case kNone:
      return loss;
    case kMean:
      return loss.mean();
    case kSum:
      return loss.sum();
  }
  throw Error("apply_reduction: unknown reduction");
}

void check_defined(const Tensor& input, const Tensor& target, const char* op) {
  check(input.defined() && target.defined(), "{}: expected a defined input and target", op);
}

void check_constant(const Tensor& t, const char* op, const char* argument) {
  check(!t.defined() || !t.requires_grad() || !grad_mode_enabled(),
        "The function '{}' is not differentiable with respect to argument '{}'. This input "
        "cannot have requires_grad True.",
        op, argument);
}

namespace functional {

// loss = reduce((input − target)²)
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_defined(input, target, "mse_loss");
  broadcast_shapes(input.shape(), target.shape());  // throws if they do not broadcast
  const Dtype dtype = result_type(input, target);
  check(is_floating(dtype), "\"mse_cpu\" not implemented for '{}'", dtype_name(dtype));
  warn_if_broadcast(input, target, "mse_loss");
  const Tensor diff = input - target;
  return apply_reduction(diff * diff, reduction);
}

// loss = reduce(|input − target|)
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_defined(input, target, "l1_loss");
  broadcast_shapes(input.shape(), target.shape());  // throws if they do not broadcast
  warn_if_broadcast(input, target, "l1_loss");
  return apply_reduction((input - target).abs(), reduction);
}

// loss = reduce(w ⊙ [(1 − t) ⊙ x + l ⊙ softplus(−x)]),  l = 1 + (pos_weight − 1) ⊙ t
//
// The binary cross-entropy of p = σ(x) is −[pos_weight·t·log p + (1 − t)·log(1 − p)]. With
// −log σ(x) = softplus(−x) and −log(1 − σ(x)) = softplus(x) = x + softplus(−x), it is
//   pos_weight·t·softplus(−x) + (1 − t)·(x + softplus(−x)) = (1 − t)·x + l·softplus(−x),
// the form PyTorch computes. Nothing in it overflows: softplus(−x) is max(−x, 0) + log1p(e) with
// e = exp(−|x|) ≤ 1 (PyTorch writes log(1 + e), which loses e's digits for large |x|).
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight, const Tensor& pos_weight,
                                        Reduction reduction) {
  const char* op = "binary_cross_entropy_with_logits";
  check_defined(input, target, op);
  check(target.shape() == input.shape(),
        "Target size (torch.Size({})) must be the same as input size (torch.Size({}))",
        target.shape(), input.shape());
  for (const Tensor* t : {&input, &target})
    check(is_floating(t->dtype()), "result type Float can't be cast to the desired output type {}",
          dtype_name(t->dtype()));
  // Each weight broadcasts to the input's shape, and no further: the loss has the input's shape.
  // (The operands are in PyTorch's order, so that a mismatch names the sizes as PyTorch does.)
  const auto check_fits = [&](const Shape& broadcast) {
    check(broadcast == input.shape(), "output with shape {} doesn't match the broadcast shape {}",
          input.shape(), broadcast);
  };
  if (weight.defined()) check_fits(broadcast_shapes(input.shape(), weight.shape()));
  if (pos_weight.defined()) check_fits(broadcast_shapes(pos_weight.shape(), input.shape()));
  check_constant(weight, op, "weight");
  check_constant(pos_weight, op, "pos_weight");

  const Dtype dtype = promote_types(input.dtype(), target.dtype());
  const Tensor x = input.to(dtype), t = target.to(dtype);  // recorded: grads convert back
  // An absent weight is a weight of 1, which leaves every term exactly as it was.
  const Tensor w = weight.defined() ? weight.to(dtype) : scalar_tensor(1, dtype);
  const Tensor pw = pos_weight.defined() ? pos_weight.to(dtype) : scalar_tensor(1, dtype);
  Tensor loss;
  {
    NoGradGuard no_grad;
    const Tensor l = 1 + (pw - 1) * t;
    loss = w * ((1 - t) * x + l * softplus_of_minus(x));  // x's shape
  }
  // The forward was loss = w ⊙ [(1 − t) ⊙ x + l ⊙ softplus(−x)] with l = 1 + (pw − 1) ⊙ t, so
  //   ∂loss/∂x = w ⊙ [(1 − t) − l ⊙ σ(−x)] = w ⊙ [l ⊙ σ(x) − pw ⊙ t]   (σ(−x) = 1 − σ(x), and
  //              1 − t − l = −pw ⊙ t),
  //   ∂loss/∂t = w ⊙ [−x + (pw − 1) ⊙ softplus(−x)].
  // Saves x and t, and the weights to see that they are not changed in place before backward.
  loss = record("BinaryCrossEntropyWithLogitsBackward0", {x, t}, loss,
                [x_saved = save(x), t_saved = save(t), w_saved = save(w), pw_saved = save(pw)](
                    const Tensor& grad, const NeedsGrad& needs) {
                  const Tensor x = x_saved.unpack(), t = t_saved.unpack();
                  const Tensor w = w_saved.unpack(), pw = pw_saved.unpack();
                  const Tensor l = 1 + (pw - 1) * t;
                  const Tensor grad_x = needs[0] ? grad * w * (l * x.sigmoid() - pw * t) : Tensor();
                  const Tensor grad_t =
                      needs[1] ? grad * w * ((pw - 1) * softplus_of_minus(x) - x) : Tensor();
                  return grads(grad_x, grad_t);
                });
  return apply_reduction(loss, reduction);
}

}  // namespace functional

// ---- Modules ------------------------------------------------------------------------------------

MSELoss::MSELoss(MSELossOptions options_) : Module("MSELoss"), options(options_) {}

Tensor MSELoss::forward(const Tensor& input, const Tensor& target) const {
  return functional::mse_loss(input, target, options.reduction());
}

L1Loss::L1Loss(L1LossOptions options_) : Module("L1Loss"), options(options_) {}

Tensor L1Loss::forward(const Tensor& input, const Tensor& target) const {
  return functional::l1_loss(input, target, options.reduction());
}

BCEWithLogitsLoss::BCEWithLogitsLoss(BCEWithLogitsLossOptions options_)
    : Module("BCEWithLogitsLoss"),
      options(std::move(options_)),
      weight(register_buffer("weight", options.weight())),
      pos_weight(register_buffer("pos_weight", options.pos_weight())) {}

Tensor BCEWithLogitsLoss::forward(const Tensor& input, const Tensor& target) const {
  return functional::binary_cross_entropy_with_logits(input, target, weight, pos_weight,
                                                      options.reduction());
}

NLLLoss::NLLLoss(NLLLossOptions options_)
    : Module("NLLLoss"),
      options(std::move(options_)),
      weight(register_buffer("weight", options.weight())) {}

Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) const {
  return functional::nll_loss(input, target, weight, options.ignore_index(), options.reduction());
}

CrossEntropyLoss::CrossEntropyLoss(CrossEntropyLossOptions options_)
    : Module("CrossEntropyLoss"),
      options(std::move(options_)),
      weight(register_buffer("weight", options.weight())) {}

Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) const {
  return functional::cross_entropy(input, target, weight, options.ignore_index(),
                                   options.reduction(), options.label_smoothing());
}

}  // namespace minigrad::nn
