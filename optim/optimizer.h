// stand-in; replaced by the real optimizer on merge
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/tensor.h"

namespace minigrad::optim {

class OptimizerOptions {
 public:
  virtual ~OptimizerOptions() = default;
  virtual double get_lr() const = 0;
  virtual void set_lr(double lr) = 0;
  virtual std::unique_ptr<OptimizerOptions> clone() const = 0;
};

class OptimizerParamGroup {
 public:
  explicit OptimizerParamGroup(std::vector<Tensor> params) : params_(std::move(params)) {}
  OptimizerParamGroup(std::vector<Tensor> params, std::unique_ptr<OptimizerOptions> options)
      : params_(std::move(params)), options_(std::move(options)) {}
  std::vector<Tensor>& params() { return params_; }
  bool has_options() const { return options_ != nullptr; }
  OptimizerOptions& options() { return *options_; }
  const OptimizerOptions& options() const { return *options_; }
  void set_options(std::unique_ptr<OptimizerOptions> options) { options_ = std::move(options); }

 private:
  std::vector<Tensor> params_;
  std::unique_ptr<OptimizerOptions> options_;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  std::vector<OptimizerParamGroup>& param_groups() { return param_groups_; }
  const std::vector<OptimizerParamGroup>& param_groups() const { return param_groups_; }
  void add_param_group(OptimizerParamGroup group) {
    if (!group.has_options()) group.set_options(defaults_->clone());
    param_groups_.push_back(std::move(group));
  }
  void zero_grad() {
    for (OptimizerParamGroup& group : param_groups_)
      for (Tensor& p : group.params()) p.set_grad(Tensor());
  }
  virtual void step() = 0;

 protected:
  Optimizer(std::vector<OptimizerParamGroup> param_groups,
            std::unique_ptr<OptimizerOptions> defaults)
      : defaults_(std::move(defaults)) {
    for (OptimizerParamGroup& group : param_groups) add_param_group(std::move(group));
  }

 private:
  std::unique_ptr<OptimizerOptions> defaults_;
  std::vector<OptimizerParamGroup> param_groups_;
};

}  // namespace minigrad::optim
