// SGD's options and its update rule, in the order of operations of PyTorch 1.13's
// _single_tensor_sgd (torch/optim/sgd.py), so that a trajectory matches PyTorch's step by step.
// Read after optimizer.cpp; adam.cpp comes next.
#include "optim/sgd.h"

#include "core/autograd.h"
#include "nn/repr.h"

namespace minigrad::optim {

// ---- Options --------------------------------------------------------------------------------

std::unique_ptr<OptimizerOptions> SGDOptions::clone() const {
  return std::make_unique<SGDOptions>(*this);
}

// PyTorch's checks and messages, in its order (values written as Python writes a float); a
// condition written `x >= 0` refuses NaN as well.
void SGDOptions::validate() const {
  check(lr_ >= 0, "Invalid learning rate: {}", nn::python_float(lr_));
  check(momentum_ >= 0, "Invalid momentum value: {}", nn::python_float(momentum_));
  check(weight_decay_ >= 0, "Invalid weight_decay value: {}",
        nn::python_float(weight_decay_));
  check(!nesterov_ || (momentum_ > 0 && dampening_ == 0),
        "Nesterov momentum requires a momentum and zero dampening");
}

std::vector<std::pair<std::string, double>> SGDOptions::named_values() const {
  return {{"lr", lr_},
          {"momentum", momentum_},
          {"dampening", dampening_},
          {"weight_decay", weight_decay_},
          {"nesterov", nesterov_ ? 1.0 : 0.0},
          {"maximize", maximize_ ? 1.0 : 0.0}};
}

void SGDOptions::set_named_value(const std::string& name, double value) {
  if (name == "lr") lr_ = value;
  else if (name == "momentum") momentum_ = value;
  else if (name == "dampening") dampening_ = value;
  else if (name == "weight_decay") weight_decay_ = value;
  else if (name == "nesterov") nesterov_ = option_flag(name, value);
  else if (name == "maximize") maximize_ = option_flag(name, value);
  else throw Error(fmt::format("SGDOptions has no option named \"{}\"", name));
}

// ---- The update -----------------------------------------------------------------------------

SGD::SGD(std::vector<Tensor> params, const SGDOptions& defaults)
    : Optimizer(std::move(params), defaults.clone()) {}

SGD::SGD(std::vector<OptimizerParamGroup> param_groups, const SGDOptions& defaults)
    : Optimizer(std::move(param_groups), defaults.clone()) {}

namespace {

// One parameter θ (n elements) with its gradient ∇ and, if momentum μ is on, its buffer b:
//
//   g ← −∇ if maximize, else ∇
//   g ← g + λ·θ                              weight decay λ, if λ ≠ 0
//   if μ ≠ 0:
//     b ← g at the parameter's first step,   (no dampening the first time)
//         μ·b + (1 − τ)·g after it           dampening τ
//     g ← g + μ·b if nesterov, else b
//   θ ← θ − lr·g
//
// The numbers are converted to the parameter's type once, as PyTorch does with its scalars.
template <class T>
void sgd_update(T* theta, const T* grad, T* buf, std::int64_t n, const SGDOptions& o,
                bool first_step) {
  const T lr = static_cast<T>(o.lr());
  const T weight_decay = static_cast<T>(o.weight_decay());
  const T momentum = static_cast<T>(o.momentum());
  const T one_minus_dampening = static_cast<T>(1 - o.dampening());
  const bool maximize = o.maximize(), nesterov = o.nesterov();
  const bool decay = o.weight_decay() != 0, with_momentum = o.momentum() != 0;
  for (std::int64_t k = 0; k < n; ++k) {
    T g = maximize ? -grad[k] : grad[k];
    if (decay) g = g + weight_decay * theta[k];
    if (with_momentum) {
      buf[k] = first_step ? g : momentum * buf[k] + one_minus_dampening * g;
      g = nesterov ? g + momentum * buf[k] : buf[k];
    }
    theta[k] -= lr * g;
  }
}

}  // namespace

void SGD::step() {
  check_step();
  NoGradGuard no_grad;
  for (OptimizerParamGroup& group : param_groups()) {
    const auto& o = static_cast<const SGDOptions&>(group.options());
    for (const Tensor& param : group.params()) {
      if (!param.grad().defined()) continue;  // skipped, and no state is made for it
      const Tensor grad = param.grad().contiguous();
      // Without momentum SGD keeps no state at all.
      Tensor buf;
      bool first_step = false;
      if (o.momentum() != 0) {
        ParamState& s = state(param);
        first_step = !s.contains("momentum_buffer");
        buf = state_buffer(s, "momentum_buffer", param);
      }
      dispatch_floating(param.dtype(), "sgd", [&]<class T>() {
        sgd_update<T>(param.data_ptr<T>(), grad.data_ptr<T>(),
                      buf.defined() ? buf.data_ptr<T>() : nullptr, param.numel(), o, first_step);
      });
      param.impl()->storage->bump_version();  // an in-place write, as copy_ would count it
    }
  }
}

}  // namespace minigrad::optim
