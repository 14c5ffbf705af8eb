// optim::Adam and optim::AdamW: adaptive moment estimation, with weight decay as an L2 term
// (Adam) or decoupled from the gradient (AdamW), amsgrad and maximize, by the rules of PyTorch
// 1.13's torch.optim.Adam and torch.optim.AdamW (written out in adam.cpp).
//
//   mg::optim::Adam adam(model.parameters(), mg::optim::AdamOptions(1e-3).betas({0.9, 0.999}));
//   mg::optim::AdamW adamw(model.parameters(), mg::optim::AdamWOptions(1e-3).weight_decay(0.01));
//
// The update of one parameter θ from its gradient g (negated first with maximize) at its t-th
// step, t = 1, 2, …, with learning rate η, weight decay λ, first moment m and second moment v
// (both 0 before the first step), element by element:
//   θ ← θ·(1 − η·λ)                          AdamW only: decoupled weight decay
//   g ← g + λ·θ                              Adam only: weight decay as an L2 term
//   m ← β1·m + (1 − β1)·g
//   v ← β2·v + (1 − β2)·g²                   with amsgrad, v_max ← max(v_max, v) replaces v below
//   θ ← θ − η · m̂ / (√v̂ + ε),   m̂ = m / (1 − β1ᵗ),   v̂ = v / (1 − β2ᵗ)
//
// $$
// \begin{aligned}
// m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \cr
// v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \cr
// \theta_t &= \theta_{t-1} - \eta \frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon},
// \qquad \hat m_t = \frac{m_t}{1 - \beta_1^t}, \quad \hat v_t = \frac{v_t}{1 - \beta_2^t}
// \end{aligned}
// $$
//
// The divisions by 1 − βᵗ undo the bias of averages that start at 0; docs/optimizers.md derives
// them, says why AdamW's decay differs from Adam's, and quotes adam.cpp's loop. Defaults as in
// PyTorch: lr 1e-3, betas (0.9, 0.999), eps 1e-8, amsgrad and maximize off, and weight_decay 0
// for Adam but 0.01 for AdamW. A parameter's state: "step", "exp_avg" (m), "exp_avg_sq" (v) and,
// with amsgrad, "max_exp_avg_sq", made at its first step with a gradient. Read after
// optim/sgd.h; optim/rmsprop.h comes next.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "optim/optimizer.h"

namespace minigrad::optim {

class AdamOptions : public OptimizerOptions {
 public:
  AdamOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: a plain number is the learning rate

  AdamOptions& lr(double value) {
    lr_ = value;
    return *this;
  }
  AdamOptions& betas(std::array<double, 2> value) {
    betas_ = value;
    return *this;
  }
  AdamOptions& eps(double value) {
    eps_ = value;
    return *this;
  }
  AdamOptions& weight_decay(double value) {
    weight_decay_ = value;
    return *this;
  }
  AdamOptions& amsgrad(bool on) {
    amsgrad_ = on;
    return *this;
  }
  AdamOptions& maximize(bool on) {
    maximize_ = on;
    return *this;
  }
  double lr() const { return lr_; }
  const std::array<double, 2>& betas() const { return betas_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }
  bool amsgrad() const { return amsgrad_; }
  bool maximize() const { return maximize_; }

  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::unique_ptr<OptimizerOptions> clone() const override;
  void validate() const override;
  std::vector<std::pair<std::string, double>> named_values() const override;
  void set_named_value(const std::string& name, double value) override;

 private:
  double lr_;
  std::array<double, 2> betas_ = {0.9, 0.999};
  double eps_ = 1e-8;
  double weight_decay_ = 0;
  bool amsgrad_ = false;
  bool maximize_ = false;
};

// The same options, with weight_decay defaulting to 0.01.
class AdamWOptions : public OptimizerOptions {
 public:
  AdamWOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: a plain number is the learning rate

  AdamWOptions& lr(double value) {
    lr_ = value;
    return *this;
  }
  AdamWOptions& betas(std::array<double, 2> value) {
    betas_ = value;
    return *this;
  }
  AdamWOptions& eps(double value) {
    eps_ = value;
    return *this;
  }
  AdamWOptions& weight_decay(double value) {
    weight_decay_ = value;
    return *this;
  }
  AdamWOptions& amsgrad(bool on) {
    amsgrad_ = on;
    return *this;
  }
  AdamWOptions& maximize(bool on) {
    maximize_ = on;
    return *this;
  }
  double lr() const { return lr_; }
  const std::array<double, 2>& betas() const { return betas_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }
  bool amsgrad() const { return amsgrad_; }
  bool maximize() const { return maximize_; }

  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::unique_ptr<OptimizerOptions> clone() const override;
  void validate() const override;
  std::vector<std::pair<std::string, double>> named_values() const override;
  void set_named_value(const std::string& name, double value) override;

 private:
  double lr_;
  std::array<double, 2> betas_ = {0.9, 0.999};
  double eps_ = 1e-8;
  double weight_decay_ = 0.01;
  bool amsgrad_ = false;
  bool maximize_ = false;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, const AdamOptions& defaults = {});
  Adam(std::vector<OptimizerParamGroup> param_groups, const AdamOptions& defaults = {});

  void step() override;

 protected:
  std::vector<std::string> state_names() const override;
};

class AdamW : public Optimizer {
 public:
  AdamW(std::vector<Tensor> params, const AdamWOptions& defaults = {});
  AdamW(std::vector<OptimizerParamGroup> param_groups, const AdamWOptions& defaults = {});

  void step() override;

 protected:
  std::vector<std::string> state_names() const override;
};

}  // namespace minigrad::optim
