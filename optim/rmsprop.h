// optim::RMSprop: gradients divided by a running root mean square of themselves, with weight
// decay, momentum, the centered variant and maximize, by the rule of PyTorch 1.13's
// torch.optim.RMSprop (written out in rmsprop.cpp).
//
//   mg::optim::RMSprop opt(model.parameters(), mg::optim::RMSpropOptions(0.01).alpha(0.99));
//
// The update of one parameter θ from its gradient g (negated first with maximize), with learning
// rate η, weight decay λ, smoothing α, running mean square s, running mean ḡ (centered) and
// momentum buffer b, element by element:
//   g ← g + λ·θ                               weight decay, if λ ≠ 0
//   s ← α·s + (1 − α)·g²
//   a = √(s − ḡ²) + ε with ḡ ← α·ḡ + (1 − α)·g when centered, else a = √s + ε
//   θ ← θ − η·g/a, or with momentum μ > 0:  b ← μ·b + g/a,  θ ← θ − η·b
//
// $$
// \begin{aligned}
// s_t &= \alpha s_{t-1} + (1 - \alpha) g_t^2 \cr
// a_t &= \sqrt{s_t - \bar g_t^2} + \varepsilon \text{ (centered)}, \quad
// \text{else } \sqrt{s_t} + \varepsilon \cr
// \theta_t &= \theta_{t-1} - \eta \frac{g_t}{a_t}, \quad \text{or with momentum: }
// b_t = \mu b_{t-1} + \frac{g_t}{a_t}, \quad \theta_t = \theta_{t-1} - \eta b_t
// \end{aligned}
// $$
//
// Unlike Adam's, the average s is not corrected for starting at 0 (PyTorch's is not either), so
// the first steps are the largest. docs/optimizers.md quotes rmsprop.cpp's loop. Defaults as in
// PyTorch: lr 0.01, alpha 0.99, eps 1e-8, weight_decay 0, momentum 0, centered and maximize off.
// A parameter's state: "step", "square_avg", and "momentum_buffer" with momentum, "grad_avg"
// when centered, made at its first step with a gradient. Read after optim/adam.h.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "optim/optimizer.h"

namespace minigrad::optim {

class RMSpropOptions : public OptimizerOptions {
 public:
  RMSpropOptions(double lr = 1e-2) : lr_(lr) {}  // NOLINT: a plain number is the learning rate

  RMSpropOptions& lr(double value) {
    lr_ = value;
    return *this;
  }
  RMSpropOptions& alpha(double value) {
    alpha_ = value;
    return *this;
  }
  RMSpropOptions& eps(double value) {
    eps_ = value;
    return *this;
  }
  RMSpropOptions& weight_decay(double value) {
    weight_decay_ = value;
    return *this;
  }
  RMSpropOptions& momentum(double value) {
    momentum_ = value;
    return *this;
  }
  RMSpropOptions& centered(bool on) {
    centered_ = on;
    return *this;
  }
  RMSpropOptions& maximize(bool on) {
    maximize_ = on;
    return *this;
  }
  double lr() const { return lr_; }
  double alpha() const { return alpha_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }
  double momentum() const { return momentum_; }
  bool centered() const { return centered_; }
  bool maximize() const { return maximize_; }

  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::unique_ptr<OptimizerOptions> clone() const override;
  void validate() const override;
  std::vector<std::pair<std::string, double>> named_values() const override;
  void set_named_value(const std::string& name, double value) override;

 private:
  double lr_;
  double alpha_ = 0.99;
  double eps_ = 1e-8;
  double weight_decay_ = 0;
  double momentum_ = 0;
  bool centered_ = false;
  bool maximize_ = false;
};

class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, const RMSpropOptions& defaults = {});
  RMSprop(std::vector<OptimizerParamGroup> param_groups, const RMSpropOptions& defaults = {});

  void step() override;

 protected:
  std::vector<std::string> state_names() const override {
    return {"step", "square_avg", "momentum_buffer", "grad_avg"};
  }
};

}  // namespace minigrad::optim
