// Adam's and AdamW's options and their update rule, in the order of operations of PyTorch
// 1.13's _single_tensor_adam (torch/optim/adam.py) and _single_tensor_adamw (adamw.py), so that a
// trajectory matches PyTorch's step by step. The two differ in one line, where the weight decay
// goes, so they share everything below; AdamOptions and AdamWOptions, two classes with the same
// members, share their checks and names through templates. Read after sgd.cpp; rmsprop.cpp next.
#include "optim/adam.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "nn/repr.h"

namespace minigrad::optim {

namespace {

// ---- Options, for AdamOptions and AdamWOptions alike ----------------------------------------

// PyTorch's checks and messages, in its order (values written as Python writes a float); a
// condition written `x >= 0` refuses NaN as well.
template <class Options>
void validate_adam(const Options& o) {
  check(o.lr() >= 0, "Invalid learning rate: {}", nn::python_float(o.lr()));
  check(o.eps() >= 0, "Invalid epsilon value: {}", nn::python_float(o.eps()));
  check(o.betas()[0] >= 0 && o.betas()[0] < 1, "Invalid beta parameter at index 0: {}",
        nn::python_float(o.betas()[0]));
  check(o.betas()[1] >= 0 && o.betas()[1] < 1, "Invalid beta parameter at index 1: {}",
        nn::python_float(o.betas()[1]));
  check(o.weight_decay() >= 0, "Invalid weight_decay value: {}",
        nn::python_float(o.weight_decay()));
}

template <class Options>
std::vector<std::pair<std::string, double>> adam_named_values(const Options& o) {
  return {{"lr", o.lr()},
          {"betas.0", o.betas()[0]},
          {"betas.1", o.betas()[1]},
          {"eps", o.eps()},
          {"weight_decay", o.weight_decay()},
          {"amsgrad", o.amsgrad() ? 1.0 : 0.0},
          {"maximize", o.maximize() ? 1.0 : 0.0}};
}

template <class Options>
void set_adam_named_value(Options& o, const std::string& name, double value) {
  if (name == "lr") o.lr(value);
  else if (name == "betas.0") o.betas({value, o.betas()[1]});
  else if (name == "betas.1") o.betas({o.betas()[0], value});
  else if (name == "eps") o.eps(value);
  else if (name == "weight_decay") o.weight_decay(value);
  else if (name == "amsgrad") o.amsgrad(option_flag(name, value));
  else if (name == "maximize") o.maximize(option_flag(name, value));
  else throw Error(fmt::format("Adam's options have no option named \"{}\"", name));
}

const std::vector<std::string> kAdamStateNames = {"step", "exp_avg", "exp_avg_sq",
                                                  "max_exp_avg_sq"};

// ---- The update -----------------------------------------------------------------------------

// Where the weight decay λ goes: into the gradient (Adam) or straight onto θ (AdamW).
enum class WeightDecay { kL2, kDecoupled };

// One parameter θ (n elements) with its gradient ∇, first moment m, second moment v and, with
// amsgrad, the running maximum v_max of v, at its t-th step (t counts from 1, per parameter):
//
//   g ← −∇ if maximize, else ∇
//   θ ← θ·(1 − lr·λ)                                AdamW only (decoupled weight decay)
//   g ← g + λ·θ                                     Adam only, if λ ≠ 0 (L2 weight decay)
//   m ← β1·m + (1 − β1)·g
//   v ← β2·v + (1 − β2)·g·g
//   v_max ← max(v_max, v)                           amsgrad only; v_max stands for v below
//   θ ← θ − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
//
// The bias corrections 1 − β1ᵗ and 1 − β2ᵗ are computed in double, as PyTorch computes them in
// Python; ε is the caller's (1e-8 by default), added where PyTorch adds it.
template <class T, class Options>
void adam_update(T* theta, const T* grad, T* m, T* v, T* v_max, std::int64_t n, const Options& o,
                 WeightDecay decay, std::int64_t t) {
  const double bias_correction1 = 1 - std::pow(o.betas()[0], static_cast<double>(t));
  const double bias_correction2 = 1 - std::pow(o.betas()[1], static_cast<double>(t));
  const T step_size = static_cast<T>(o.lr() / bias_correction1);
  const T bias_correction2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
  const T beta1 = static_cast<T>(o.betas()[0]), beta2 = static_cast<T>(o.betas()[1]);
  const T one_minus_beta1 = static_cast<T>(1 - o.betas()[0]);
  const T one_minus_beta2 = static_cast<T>(1 - o.betas()[1]);
  const T weight_decay = static_cast<T>(o.weight_decay());
  const T decay_factor = static_cast<T>(1 - o.lr() * o.weight_decay());
  const T eps = static_cast<T>(o.eps());
  const bool maximize = o.maximize(), amsgrad = o.amsgrad();
  const bool decoupled = decay == WeightDecay::kDecoupled;
  const bool l2 = decay == WeightDecay::kL2 && o.weight_decay() != 0;
  for (std::int64_t k = 0; k < n; ++k) {
    T g = maximize ? -grad[k] : grad[k];
    if (decoupled) theta[k] *= decay_factor;
    if (l2) g = g + weight_decay * theta[k];
    m[k] = beta1 * m[k] + one_minus_beta1 * g;
    v[k] = beta2 * v[k] + one_minus_beta2 * g * g;
    T second_moment = v[k];
    if (amsgrad) {
      v_max[k] = std::max(v_max[k], v[k]);
      second_moment = v_max[k];
    }
    const T denom = std::sqrt(second_moment) / bias_correction2_sqrt + eps;
    theta[k] -= step_size * (m[k] / denom);
  }
}

// Adam's or AdamW's step over every group (the loop of PyTorch's Adam.step): each parameter with
// a gradient takes one step; one without is skipped, and no state is made for it.
// `state_of(param)` is the optimizer's state of `param`.
template <class Options, class StateOf>
void adam_step(std::vector<OptimizerParamGroup>& groups, StateOf state_of, WeightDecay decay) {
  NoGradGuard no_grad;
  for (OptimizerParamGroup& group : groups) {
    const auto& o = static_cast<const Options&>(group.options());
    for (const Tensor& param : group.params()) {
      if (!param.grad().defined()) continue;
      const Tensor grad = param.grad().contiguous();
      ParamState& state = state_of(param);
      std::int64_t& t = state_step(state);
      t += 1;
      Tensor& m = state_buffer(state, "exp_avg", param);
      Tensor& v = state_buffer(state, "exp_avg_sq", param);
      Tensor v_max = o.amsgrad() ? state_buffer(state, "max_exp_avg_sq", param) : Tensor();
      dispatch_floating(param.dtype(), "adam", [&]<class T>() {
        adam_update<T>(param.data_ptr<T>(), grad.data_ptr<T>(), m.data_ptr<T>(), v.data_ptr<T>(),
                       v_max.defined() ? v_max.data_ptr<T>() : nullptr, param.numel(), o, decay,
                       t);
      });
      param.impl()->storage->bump_version();  // an in-place write, as copy_ would count it
    }
  }
}

}  // namespace

// ---- Adam -----------------------------------------------------------------------------------

std::unique_ptr<OptimizerOptions> AdamOptions::clone() const {
  return std::make_unique<AdamOptions>(*this);
}
void AdamOptions::validate() const { validate_adam(*this); }
std::vector<std::pair<std::string, double>> AdamOptions::named_values() const {
  return adam_named_values(*this);
}
void AdamOptions::set_named_value(const std::string& name, double value) {
  set_adam_named_value(*this, name, value);
}

Adam::Adam(std::vector<Tensor> params, const AdamOptions& defaults)
    : Optimizer(std::move(params), defaults.clone()) {}

Adam::Adam(std::vector<OptimizerParamGroup> param_groups, const AdamOptions& defaults)
    : Optimizer(std::move(param_groups), defaults.clone()) {}

std::vector<std::string> Adam::state_names() const { return kAdamStateNames; }

void Adam::step() {
  check_step();
  adam_step<AdamOptions>(
      param_groups(), [this](const Tensor& p) -> ParamState& { return state(p); },
      WeightDecay::kL2);
}

// ---- AdamW ----------------------------------------------------------------------------------

std::unique_ptr<OptimizerOptions> AdamWOptions::clone() const {
  return std::make_unique<AdamWOptions>(*this);
}
void AdamWOptions::validate() const { validate_adam(*this); }
std::vector<std::pair<std::string, double>> AdamWOptions::named_values() const {
  return adam_named_values(*this);
}
void AdamWOptions::set_named_value(const std::string& name, double value) {
  set_adam_named_value(*this, name, value);
}

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& defaults)
    : Optimizer(std::move(params), defaults.clone()) {}

AdamW::AdamW(std::vector<OptimizerParamGroup> param_groups, const AdamWOptions& defaults)
    : Optimizer(std::move(param_groups), defaults.clone()) {}

std::vector<std::string> AdamW::state_names() const { return kAdamStateNames; }

void AdamW::step() {
  check_step();
  adam_step<AdamWOptions>(
      param_groups(), [this](const Tensor& p) -> ParamState& { return state(p); },
      WeightDecay::kDecoupled);
}

}  // namespace minigrad::optim
