// optim::SGD: stochastic gradient descent, with momentum, dampening, weight decay, Nesterov
// momentum and maximize, by the rule of PyTorch 1.13's torch.optim.SGD (written out in sgd.cpp).
//
//   mg::optim::SGD opt(model.parameters(), mg::optim::SGDOptions(0.1).momentum(0.9));
//   mg::optim::SGD plain(model.parameters(), 0.1);               // lr only, as in LibTorch
//
// The update of one parameter θ from its gradient g (negated first with maximize), with learning
// rate η, weight decay λ, momentum μ and dampening τ, element by element:
//   g ← g + λ·θ                                   weight decay, if λ ≠ 0
//   b ← g at the first step, else μ·b + (1 − τ)·g  the momentum buffer, if μ ≠ 0
//   g ← g + μ·b with nesterov, else b              (if μ ≠ 0)
//   θ ← θ − η·g
//
// $$
// \begin{aligned}
// g &\leftarrow g + \lambda \theta \cr
// b &\leftarrow g \text{ at the first step, else } \mu b + (1 - \tau) g \cr
// g &\leftarrow g + \mu b \text{ with nesterov, else } b \cr
// \theta &\leftarrow \theta - \eta g
// \end{aligned}
// $$
//
// docs/optimizers.md derives Nesterov's form and quotes sgd.cpp's loop. The learning rate has no
// default; the rest default as in PyTorch: momentum 0, dampening 0, weight_decay 0, nesterov and
// maximize off. A parameter's state is its "momentum_buffer", made at its first step with a
// gradient when momentum is on. Read after optim/optimizer.h; optim/adam.h comes next.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "optim/optimizer.h"

namespace minigrad::optim {

class SGDOptions : public OptimizerOptions {
 public:
  SGDOptions(double lr) : lr_(lr) {}  // NOLINT: a plain number is the learning rate, as in LibTorch

  SGDOptions& lr(double value) {
    lr_ = value;
    return *this;
  }
  SGDOptions& momentum(double value) {
    momentum_ = value;
    return *this;
  }
  SGDOptions& dampening(double value) {
    dampening_ = value;
    return *this;
  }
  SGDOptions& weight_decay(double value) {
    weight_decay_ = value;
    return *this;
  }
  SGDOptions& nesterov(bool on) {
    nesterov_ = on;
    return *this;
  }
  SGDOptions& maximize(bool on) {
    maximize_ = on;
    return *this;
  }
  double lr() const { return lr_; }
  double momentum() const { return momentum_; }
  double dampening() const { return dampening_; }
  double weight_decay() const { return weight_decay_; }
  bool nesterov() const { return nesterov_; }
  bool maximize() const { return maximize_; }

  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::unique_ptr<OptimizerOptions> clone() const override;
  void validate() const override;
  std::vector<std::pair<std::string, double>> named_values() const override;
  void set_named_value(const std::string& name, double value) override;

 private:
  double lr_;
  double momentum_ = 0;
  double dampening_ = 0;
  double weight_decay_ = 0;
  bool nesterov_ = false;
  bool maximize_ = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, const SGDOptions& defaults);
  SGD(std::vector<OptimizerParamGroup> param_groups, const SGDOptions& defaults);

  void step() override;

 protected:
  std::vector<std::string> state_names() const override { return {"momentum_buffer"}; }
};

}  // namespace minigrad::optim
