// RMSprop's options and its update rule, in the order of operations of PyTorch 1.13's
// _single_tensor_rmsprop (torch/optim/rmsprop.py), so that a trajectory matches PyTorch's step
// by step. Read after adam.cpp.
#include "optim/rmsprop.h"

#include <cmath>

#include "core/autograd.h"
#include "nn/repr.h"

namespace minigrad::optim {

// ---- Options --------------------------------------------------------------------------------

std::unique_ptr<OptimizerOptions> RMSpropOptions::clone() const {
  return std::make_unique<RMSpropOptions>(*this);
}

// PyTorch's checks and messages, in its order (values written as Python writes a float); a
// condition written `x >= 0` refuses NaN as well.
void RMSpropOptions::validate() const {
  check(lr_ >= 0, "Invalid learning rate: {}", nn::python_float(lr_));
  check(eps_ >= 0, "Invalid epsilon value: {}", nn::python_float(eps_));
  check(momentum_ >= 0, "Invalid momentum value: {}", nn::python_float(momentum_));
  check(weight_decay_ >= 0, "Invalid weight_decay value: {}",
        nn::python_float(weight_decay_));
  check(alpha_ >= 0, "Invalid alpha value: {}", nn::python_float(alpha_));
}

std::vector<std::pair<std::string, double>> RMSpropOptions::named_values() const {
  return {{"lr", lr_},
          {"alpha", alpha_},
          {"eps", eps_},
          {"weight_decay", weight_decay_},
          {"momentum", momentum_},
          {"centered", centered_ ? 1.0 : 0.0},
          {"maximize", maximize_ ? 1.0 : 0.0}};
}

void RMSpropOptions::set_named_value(const std::string& name, double value) {
  if (name == "lr") lr_ = value;
  else if (name == "alpha") alpha_ = value;
  else if (name == "eps") eps_ = value;
  else if (name == "weight_decay") weight_decay_ = value;
  else if (name == "momentum") momentum_ = value;
  else if (name == "centered") centered_ = option_flag(name, value);
  else if (name == "maximize") maximize_ = option_flag(name, value);
  else throw Error(fmt::format("RMSpropOptions has no option named \"{}\"", name));
}

// ---- The update -----------------------------------------------------------------------------

RMSprop::RMSprop(std::vector<Tensor> params, const RMSpropOptions& defaults)
    : Optimizer(std::move(params), defaults.clone()) {}

RMSprop::RMSprop(std::vector<OptimizerParamGroup> param_groups, const RMSpropOptions& defaults)
    : Optimizer(std::move(param_groups), defaults.clone()) {}

namespace {

// One parameter θ (n elements) with its gradient ∇, running mean square s and, if on, the
// running mean ḡ of the gradient (centered) and the momentum buffer b:
//
//   g ← −∇ if maximize, else ∇
//   g ← g + λ·θ                              weight decay λ, if λ ≠ 0
//   s ← α·s + (1 − α)·g·g
//   centered:  ḡ ← α·ḡ + (1 − α)·g,  a = √(s − ḡ·ḡ) + ε
//   otherwise:                         a = √s + ε
//   momentum μ > 0:  b ← μ·b + g/a,  θ ← θ − lr·b
//   otherwise:                       θ ← θ − lr·g/a
//
// ε is the caller's (1e-8 by default), added where PyTorch adds it.
template <class T>
void rmsprop_update(T* theta, const T* grad, T* s, T* grad_avg, T* buf, std::int64_t n,
                    const RMSpropOptions& o) {
  const T lr = static_cast<T>(o.lr());
  const T alpha = static_cast<T>(o.alpha());
  const T one_minus_alpha = static_cast<T>(1 - o.alpha());
  const T eps = static_cast<T>(o.eps());
  const T weight_decay = static_cast<T>(o.weight_decay());
  const T momentum = static_cast<T>(o.momentum());
  const bool maximize = o.maximize(), centered = o.centered();
  const bool decay = o.weight_decay() != 0, with_momentum = o.momentum() > 0;
  for (std::int64_t k = 0; k < n; ++k) {
    T g = maximize ? -grad[k] : grad[k];
    if (decay) g = g + weight_decay * theta[k];
    s[k] = alpha * s[k] + one_minus_alpha * g * g;
    T a;
    if (centered) {
      grad_avg[k] = alpha * grad_avg[k] + one_minus_alpha * g;
      a = std::sqrt(s[k] - grad_avg[k] * grad_avg[k]) + eps;
    } else {
      a = std::sqrt(s[k]) + eps;
    }
    if (with_momentum) {
      buf[k] = momentum * buf[k] + g / a;
      theta[k] -= lr * buf[k];
    } else {
      theta[k] -= lr * (g / a);
    }
  }
}

}  // namespace

void RMSprop::step() {
  check_step();
  NoGradGuard no_grad;
  for (OptimizerParamGroup& group : param_groups()) {
    const auto& o = static_cast<const RMSpropOptions&>(group.options());
    for (const Tensor& param : group.params()) {
      if (!param.grad().defined()) continue;  // skipped, and no state is made for it
      const Tensor grad = param.grad().contiguous();
      ParamState& s = state(param);
      state_step(s) += 1;
      Tensor& square_avg = state_buffer(s, "square_avg", param);
      Tensor grad_avg = o.centered() ? state_buffer(s, "grad_avg", param) : Tensor();
      Tensor buf = o.momentum() > 0 ? state_buffer(s, "momentum_buffer", param) : Tensor();
      dispatch_floating(param.dtype(), "rmsprop", [&]<class T>() {
        rmsprop_update<T>(param.data_ptr<T>(), grad.data_ptr<T>(), square_avg.data_ptr<T>(),
                          grad_avg.defined() ? grad_avg.data_ptr<T>() : nullptr,
                          buf.defined() ? buf.data_ptr<T>() : nullptr, param.numel(), o);
      });
      param.impl()->storage->bump_version();  // an in-place write, as copy_ would count it
    }
  }
}

}  // namespace minigrad::optim
