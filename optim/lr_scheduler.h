// Learning-rate schedulers: StepLR, ExponentialLR, CosineAnnealingLR and ReduceLROnPlateau, with
// PyTorch 1.13's step semantics to the last detail (torch/optim/lr_scheduler.py).
//
// A scheduler changes the lr of each of an optimizer's parameter groups once per epoch, through
// options().get_lr() and set_lr() and nothing else. Call it after the optimizer's step:
//
//   mg::optim::CosineAnnealingLR scheduler(optimizer, /*T_max=*/100);
//   for (int epoch = 0; epoch < 100; ++epoch) {
//     train_one_epoch(model, optimizer);    // optimizer.step() inside, with the current lrs
//     scheduler.step();                     // the lrs of the next epoch
//   }
//
// The epoch-driven schedulers count epochs in last_epoch(). Their constructor takes each group's
// current lr as its base lr and performs a first step, as PyTorch's does, which moves last_epoch
// from −1 to 0 and leaves the lrs as they are. Each later step() computes the new lrs from the
// groups' current ones ("chainable" form): multiply by gamma, or for the cosine schedule take one
// step along the cosine. Another scheduler may change the lrs in between, and the two compose.
// ReduceLROnPlateau instead watches a metric passed to step(metric) and divides the lrs when the
// metric has stopped improving.
//
// Differences from PyTorch: no last_epoch or verbose constructor arguments (resume with the state
// dict), and base lrs are the lrs at construction, not a group's "initial_lr" left there by an
// earlier scheduler (the two agree when every scheduler is made before the first step).
//
// The state dict (state_dict(), load_state_dict()) holds every field of the scheduler, options
// included, as named 0-d tensors: int64 for counts and codes, float64 for the rest. Loading it
// replaces every field, as PyTorch's load_state_dict does. The groups' lrs are not in it: they
// are the optimizer's state. Saved next to the model, under a prefix:
//
//   for (auto& [name, t] : scheduler.state_dict()) tensors.emplace_back("sched." + name, t);
//   mg::nn::save_tensors(path, tensors);
//
// The names, with <g> the index of a parameter group:
//   every epoch-driven scheduler   last_epoch, base_lrs.<g>, last_lr.<g>
//   StepLR                         step_size, gamma
//   ExponentialLR                  gamma
//   CosineAnnealingLR              T_max, eta_min
//   ReduceLROnPlateau              mode (0 "min", 1 "max"), factor, patience, threshold,
//                                  threshold_mode (0 "rel", 1 "abs"), cooldown, min_lrs.<g>, eps,
//                                  best, num_bad_epochs, cooldown_counter, last_epoch,
//                                  last_lr.<g>
//
// Read after optim/optimizer.h and an optimizer (sgd.h); lr_scheduler.cpp has the formulas.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/tensor.h"
#include "optim/optimizer.h"

namespace minigrad::optim {

// A scheduler's state: named tensors, in a fixed order.
using SchedulerState = std::vector<std::pair<std::string, Tensor>>;

// The base of the schedulers that step once per epoch. Not copyable: it refers to its optimizer.
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // last_epoch += 1, then every group's lr = get_lr()[g].
  void step();

  // The lrs the last step() set, one per group.
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  // The number of steps since construction (0 right after it).
  std::int64_t last_epoch() const { return last_epoch_; }
  // Each group's lr when the scheduler was made.
  const std::vector<double>& base_lrs() const { return base_lrs_; }

  SchedulerState state_dict() const;
  // Checks the names, dtypes, shapes and values of `state` and only then replaces every field.
  void load_state_dict(const SchedulerState& state);

 protected:
  // `name` ("StepLR") starts the scheduler's error messages. The derived constructor checks its
  // options and then calls step(), the initial step.
  LRScheduler(Optimizer& optimizer, std::string name);

  // The new lr of every group, last_epoch having just been advanced.
  virtual std::vector<double> get_lr() const = 0;
  // The scheduler's own options, as state entries.
  virtual SchedulerState options_state() const = 0;
  // Reads the options back from `state` (already checked to hold the names, dtypes and shapes of
  // state_dict()), checks their values, and only then stores them.
  virtual void load_options(const SchedulerState& state) = 0;

  // The current lr of every group.
  std::vector<double> group_lrs() const;

  Optimizer& optimizer_;
  std::string name_;
  std::vector<double> base_lrs_;
  std::int64_t last_epoch_ = -1;
  std::vector<double> last_lr_;
};

// Multiplies the lrs by gamma every step_size epochs:
//   lr_e = lr_{e−1} · gamma if e is a multiple of step_size (e > 0), else lr_{e−1};
// alone, that is base_lr · gamma^⌊e / step_size⌋. With η for an lr, γ for gamma and s for
// step_size:
//
// $$ \eta_e = \begin{cases} \gamma \eta_{e-1} & e > 0 \text{ a multiple of } s \cr
// \eta_{e-1} & \text{otherwise} \end{cases} $$
// $$ \text{alone: } \eta_e = \eta_{\text{base}} \gamma^{\lfloor e / s \rfloor} $$
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1);

 private:
  std::vector<double> get_lr() const override;
  SchedulerState options_state() const override;
  void load_options(const SchedulerState& state) override;

  std::int64_t step_size_;
  double gamma_;
};

// Multiplies the lrs by gamma every epoch: lr_e = lr_{e−1} · gamma; alone, base_lr · gamma^e.
//
// $$ \eta_e = \gamma \eta_{e-1} $$
// $$ \text{alone: } \eta_e = \eta_{\text{base}} \gamma^e $$
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);

 private:
  std::vector<double> get_lr() const override;
  SchedulerState options_state() const override;
  void load_options(const SchedulerState& state) override;

  double gamma_;
};

// Anneals the lrs from base_lr down to eta_min along half a cosine over T_max epochs, then back
// up over the next T_max, and so on; alone, that is
//   lr_e = eta_min + (base_lr − eta_min) · (1 + cos(π e / T_max)) / 2.
// Each step takes the ratio of two consecutive values of that curve instead (the chainable form,
// lr_e − eta_min = (lr_{e−1} − eta_min) · (1 + cos(π e / T_max)) / (1 + cos(π (e−1) / T_max))),
// except where the denominator is 0, at e − 1 = T_max, 3 T_max, …, which adds the first rise of
// the next half period instead. With η for an lr and T for T_max:
//
// $$ \eta_e = \eta_{\min} + (\eta_{\text{base}} - \eta_{\min}) \frac{1 + \cos(\pi e / T)}{2} $$
//
// and in the chainable form
//
// $$
// \begin{aligned}
// \eta_e - \eta_{\min} &= (\eta_{e-1} - \eta_{\min}) \cr
// &\quad \cdot \frac{1 + \cos(\pi e / T)}{1 + \cos(\pi (e - 1) / T)}
// \end{aligned}
// $$
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min = 0.0);

 private:
  std::vector<double> get_lr() const override;
  SchedulerState options_state() const override;
  void load_options(const SchedulerState& state) override;

  std::int64_t T_max_;
  double eta_min_;
};

// Reduces the lrs by `factor` when a metric has stopped improving for more than `patience`
// epochs, then waits `cooldown` epochs before counting again:
//
//   mg::optim::ReduceLROnPlateau scheduler(optimizer, "min", /*factor=*/0.5, /*patience=*/3);
//   for (...) { train(...); scheduler.step(validation_loss); }
//
// mode "min": the metric improves by going down (a loss); "max": by going up (an accuracy).
// An improvement must beat the best value so far by the threshold: in "rel" mode a metric below
// best · (1 − threshold) ("min") or above best · (1 + threshold) ("max"); in "abs" mode below
// best − threshold or above best + threshold. The lr of group g becomes
// max(lr · factor, min_lr[g]), unless that changes it by eps or less. min_lr is one lr for every
// group, or a std::vector<double> with one per group. With η_g for group g's lr:
//
// $$ \eta_g \leftarrow \max(\eta_g \cdot \text{factor}, \eta_{\min, g}) $$
class ReduceLROnPlateau {
 public:
  ReduceLROnPlateau(Optimizer& optimizer, const std::string& mode = "min", double factor = 0.1,
                    std::int64_t patience = 10, double threshold = 1e-4,
                    const std::string& threshold_mode = "rel", std::int64_t cooldown = 0,
                    std::variant<double, std::vector<double>> min_lr = 0.0, double eps = 1e-8);
  ReduceLROnPlateau(const ReduceLROnPlateau&) = delete;
  ReduceLROnPlateau& operator=(const ReduceLROnPlateau&) = delete;

  // One epoch with this value of the metric.
  void step(double metric);
  // The same with a one-element tensor (a loss), read as a double.
  void step(const Tensor& metric);

  // The groups' lrs after the last step (at construction, the lrs then).
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  std::int64_t last_epoch() const { return last_epoch_; }
  // The best metric so far (+inf in mode "min", −inf in "max", before the first step).
  double best() const { return best_; }
  // Epochs since the last improvement, not counting those in cooldown.
  std::int64_t num_bad_epochs() const { return num_bad_epochs_; }
  // Epochs of cooldown left.
  std::int64_t cooldown_counter() const { return cooldown_counter_; }

  SchedulerState state_dict() const;
  // Checks the names, dtypes, shapes and values of `state` and only then replaces every field.
  void load_state_dict(const SchedulerState& state);

 private:
  enum class Mode : std::int64_t { Min = 0, Max = 1 };
  enum class ThresholdMode : std::int64_t { Rel = 0, Abs = 1 };

  bool is_better(double metric) const;
  void reduce_lrs();

  Optimizer& optimizer_;
  Mode mode_;
  double factor_;
  std::int64_t patience_;
  double threshold_;
  ThresholdMode threshold_mode_;
  std::int64_t cooldown_;
  std::vector<double> min_lrs_;
  double eps_;
  double best_;
  std::int64_t num_bad_epochs_ = 0;
  std::int64_t cooldown_counter_ = 0;
  std::int64_t last_epoch_ = 0;
  std::vector<double> last_lr_;
};

}  // namespace minigrad::optim
