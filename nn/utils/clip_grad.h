// Gradient clipping: bounding the gradients between backward() and the optimizer's step(), as
// torch.nn.utils.clip_grad_norm_ and clip_grad_value_ do.
//
// A recurrent network trained through long sequences now and then meets a gradient many times
// larger than usual (the "exploding gradient"), and one such step can throw the weights far from
// where training had brought them. Clipping the norm keeps the step's direction and shortens it:
//
//   loss.backward();
//   mg::Tensor norm = mg::nn::utils::clip_grad_norm_(model.parameters(), /*max_norm=*/1.0);
//   optimizer.step();
//
// Both functions change the gradients in place (never recorded by autograd) and skip parameters
// that have no gradient. They take a list of parameters or a single one. Read after nn/module.h;
// the optimizers (optim/) come next.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace minigrad::nn::utils {

// The norm of all the gradients together, as if concatenated into one vector g:
//   ‖g‖_p = (Σ |g_i|^p)^(1/p), and ‖g‖_∞ = max |g_i| for norm_type = infinity
// (norm_type 0 and −∞ as PyTorch has them, see clip_grad.cpp), after which every gradient is
// multiplied by min(1, max_norm / (‖g‖_p + 1e-6)): unchanged if the norm is within max_norm,
// scaled down to (about) max_norm otherwise. Returns ‖g‖_p before clipping, a 0-d tensor of the
// gradients' dtype (float64 if they mix float32 and float64; a float32 0 when no parameter has a
// gradient).
// With error_if_nonfinite, a NaN or infinite norm is an error before anything changes; without
// it, as in PyTorch, the gradients are scaled by what the non-finite norm gives (NaN, or 0).
Tensor clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm,
                       double norm_type = 2.0, bool error_if_nonfinite = false);
Tensor clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// g_i = min(max(g_i, −clip_value), clip_value) for every element of every gradient.
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);
void clip_grad_value_(const Tensor& parameter, double clip_value);

}  // namespace minigrad::nn::utils
