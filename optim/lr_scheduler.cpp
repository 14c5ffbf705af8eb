// The learning-rate schedulers: each step's formula, and the state dict.
//
// Every formula is PyTorch 1.13's chainable get_lr(), with its operations in PyTorch's order, so
// that the lrs agree with PyTorch's to the last bit (tests/test_lr_scheduler.cpp compares them
// with PyTorch's sequences). Legend: e = last_epoch after the step, lr = a group's lr before
// it, base_lr = that group's lr when the scheduler was made.
//
// Read after lr_scheduler.h.
#include "optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <set>

#include <fmt/format.h>

#include "nn/serialize.h"

namespace minigrad::optim {

namespace {

Tensor real(double value) { return from_vector(std::vector<double>{value}, Shape{}); }
Tensor integer(std::int64_t value) {
  return from_vector(std::vector<std::int64_t>{value}, Shape{});
}

// Checks that `state` holds exactly the names of `expected` (the scheduler's own state_dict()),
// each a defined tensor of the same dtype and shape, and throws with every difference in the
// words of PyTorch's Module.load_state_dict otherwise.
void check_layout(const SchedulerState& state, const SchedulerState& expected,
                  const std::string& scheduler) {
  std::map<std::string_view, const Tensor*> given;
  for (const auto& [name, t] : state) {
    check(t.defined(), "{}.load_state_dict: the tensor \"{}\" is undefined", scheduler, name);
    check(given.emplace(name, &t).second, "{}.load_state_dict: the key \"{}\" appears twice",
          scheduler, name);
  }
  std::set<std::string_view> names;
  std::vector<std::string> missing, unexpected, mismatches;
  for (const auto& [name, target] : expected) {
    names.insert(name);
    const auto it = given.find(name);
    if (it == given.end()) {
      missing.push_back(fmt::format("\"{}\"", name));
      continue;
    }
    const Tensor& t = *it->second;
    if (t.shape() != target.shape() || t.dtype() != target.dtype())
      mismatches.push_back(fmt::format("{}: expected a {}-d tensor of {}, got shape {} of {}.",
                                       name, target.dim(), dtype_repr(target.dtype()),
                                       t.shape(), dtype_repr(t.dtype())));
  }
  for (const auto& [name, t] : state)
    if (!names.contains(name)) unexpected.push_back(fmt::format("\"{}\"", name));

  nn::check_state_dict_complete(fmt::format("state_dict for {}", scheduler), missing, unexpected,
                                mismatches);
}

// The value of the 0-d tensor `name` in a state that check_layout() has passed.
template <class T>
T value_at(const SchedulerState& state, std::string_view name) {
  const auto it = std::find_if(state.begin(), state.end(),
                               [&](const auto& entry) { return entry.first == name; });
  return it->second.template item<T>();
}

// `prefix`.0, `prefix`.1, …: one float64 entry per parameter group, appended to `state`.
void add_per_group(SchedulerState& state, const std::string& prefix,
                   const std::vector<double>& values) {
  for (std::size_t g = 0; g < values.size(); ++g)
    state.emplace_back(fmt::format("{}.{}", prefix, g), real(values[g]));
}

// The values of `prefix`.0, `prefix`.1, … for `groups` groups.
std::vector<double> per_group_at(const SchedulerState& state, const std::string& prefix,
                                 std::size_t groups) {
  std::vector<double> values(groups);
  for (std::size_t g = 0; g < groups; ++g)
    values[g] = value_at<double>(state, fmt::format("{}.{}", prefix, g));
  return values;
}

std::vector<double> lrs_of(const Optimizer& optimizer) {
  std::vector<double> lrs;
  for (const OptimizerParamGroup& group : optimizer.param_groups())
    lrs.push_back(group.options().get_lr());
  return lrs;
}

// A scheduler sets one lr per group it was made for: a group added since would be left out.
void check_groups(const Optimizer& optimizer, std::size_t expected, const std::string& scheduler) {
  check(optimizer.param_groups().size() == expected,
        "{}: the optimizer has {} parameter groups, but the scheduler was made for {}", scheduler,
        optimizer.param_groups().size(), expected);
}

}  // namespace

// ---- The epoch-driven schedulers ----------------------------------------------------------------

LRScheduler::LRScheduler(Optimizer& optimizer, std::string name)
    : optimizer_(optimizer), name_(std::move(name)), base_lrs_(lrs_of(optimizer)) {}

std::vector<double> LRScheduler::group_lrs() const { return lrs_of(optimizer_); }

void LRScheduler::step() {
  check_groups(optimizer_, base_lrs_.size(), name_);
  ++last_epoch_;
  const std::vector<double> lrs = get_lr();
  std::vector<OptimizerParamGroup>& groups = optimizer_.param_groups();
  for (std::size_t g = 0; g < groups.size(); ++g) groups[g].options().set_lr(lrs[g]);
  last_lr_ = group_lrs();
}

SchedulerState LRScheduler::state_dict() const {
  SchedulerState state = options_state();
  add_per_group(state, "base_lrs", base_lrs_);
  state.emplace_back("last_epoch", integer(last_epoch_));
  add_per_group(state, "last_lr", last_lr_);
  return state;
}

void LRScheduler::load_state_dict(const SchedulerState& state) {
  check_layout(state, state_dict(), name_);
  load_options(state);
  base_lrs_ = per_group_at(state, "base_lrs", base_lrs_.size());
  last_epoch_ = value_at<std::int64_t>(state, "last_epoch");
  last_lr_ = per_group_at(state, "last_lr", last_lr_.size());
}

// ---- StepLR -------------------------------------------------------------------------------------

// PyTorch divides by step_size at the first step() and fails there ("integer modulo by zero");
// here the constructor refuses it, before anything changes.
StepLR::StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma)
    : LRScheduler(optimizer, "StepLR"), step_size_(step_size), gamma_(gamma) {
  check(step_size != 0, "StepLR: integer modulo by zero (step_size is 0)");
  step();
}

// lr_e = lr · gamma if e > 0 is a multiple of step_size, else lr
std::vector<double> StepLR::get_lr() const {
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ == 0 || last_epoch_ % step_size_ != 0) return lrs;
  for (double& lr : lrs) lr = lr * gamma_;
  return lrs;
}

SchedulerState StepLR::options_state() const {
  return {{"step_size", integer(step_size_)}, {"gamma", real(gamma_)}};
}

void StepLR::load_options(const SchedulerState& state) {
  const auto step_size = value_at<std::int64_t>(state, "step_size");
  check(step_size != 0, "StepLR: integer modulo by zero (step_size is 0)");
  step_size_ = step_size;
  gamma_ = value_at<double>(state, "gamma");
}

// ---- ExponentialLR ------------------------------------------------------------------------------

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma)
    : LRScheduler(optimizer, "ExponentialLR"), gamma_(gamma) {
  step();
}

// lr_e = lr · gamma for e > 0
std::vector<double> ExponentialLR::get_lr() const {
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ == 0) return lrs;
  for (double& lr : lrs) lr = lr * gamma_;
  return lrs;
}

SchedulerState ExponentialLR::options_state() const { return {{"gamma", real(gamma_)}}; }

void ExponentialLR::load_options(const SchedulerState& state) {
  gamma_ = value_at<double>(state, "gamma");
}

// ---- CosineAnnealingLR --------------------------------------------------------------------------

// As StepLR's step_size, T_max = 0 would fail at PyTorch's first step().
CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min)
    : LRScheduler(optimizer, "CosineAnnealingLR"), T_max_(T_max), eta_min_(eta_min) {
  check(T_max != 0, "CosineAnnealingLR: integer modulo by zero (T_max is 0)");
  step();
}

// The closed form c(e) = eta_min + (base_lr − eta_min) · (1 + cos(π e / T)) / 2, T = T_max,
// taken one step at a time:
//   lr_e = (1 + cos(π e / T)) / (1 + cos(π (e − 1) / T)) · (lr − eta_min) + eta_min,
// the ratio of c(e) − eta_min to c(e − 1) − eta_min. Where c(e − 1) is the minimum eta_min
// (e − 1 = T, 3T, 5T, …) that ratio divides by zero, and the step adds the rise of c from its
// minimum instead:
//   lr_e = lr + (base_lr − eta_min) · (1 − cos(π / T)) / 2.
std::vector<double> CosineAnnealingLR::get_lr() const {
  constexpr double pi = std::numbers::pi;
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ == 0) return lrs;
  const auto e = static_cast<double>(last_epoch_);
  const auto T = static_cast<double>(T_max_);
  if ((last_epoch_ - 1 - T_max_) % (2 * T_max_) == 0) {
    for (std::size_t g = 0; g < lrs.size(); ++g)
      lrs[g] = lrs[g] + (base_lrs_[g] - eta_min_) * (1 - std::cos(pi / T)) / 2;
    return lrs;
  }
  for (double& lr : lrs)
    lr = (1 + std::cos(pi * e / T)) / (1 + std::cos(pi * (e - 1) / T)) * (lr - eta_min_) +
         eta_min_;
  return lrs;
}

SchedulerState CosineAnnealingLR::options_state() const {
  return {{"T_max", integer(T_max_)}, {"eta_min", real(eta_min_)}};
}

void CosineAnnealingLR::load_options(const SchedulerState& state) {
  const auto T_max = value_at<std::int64_t>(state, "T_max");
  check(T_max != 0, "CosineAnnealingLR: integer modulo by zero (T_max is 0)");
  T_max_ = T_max;
  eta_min_ = value_at<double>(state, "eta_min");
}

// ---- ReduceLROnPlateau --------------------------------------------------------------------------

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// min_lr as PyTorch takes it: one lr for every group, or a list with one per group.
std::vector<double> min_lrs_for(const std::variant<double, std::vector<double>>& min_lr,
                                std::size_t groups) {
  if (const auto* one = std::get_if<double>(&min_lr)) return std::vector<double>(groups, *one);
  const auto& list = std::get<std::vector<double>>(min_lr);
  check(list.size() == groups, "expected {} min_lrs, got {}", groups, list.size());
  return list;
}

}  // namespace

// The checks in PyTorch's order, with its messages. `factor >= 1` is refused as PyTorch
// refuses it, so a NaN factor passes (and then never changes an lr: NaN comparisons are false).
ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, const std::string& mode, double factor,
                                     std::int64_t patience, double threshold,
                                     const std::string& threshold_mode, std::int64_t cooldown,
                                     std::variant<double, std::vector<double>> min_lr, double eps)
    : optimizer_(optimizer),
      factor_(factor),
      patience_(patience),
      threshold_(threshold),
      cooldown_(cooldown),
      eps_(eps),
      last_lr_(lrs_of(optimizer)) {
  check(!(factor >= 1.0), "Factor should be < 1.0.");
  min_lrs_ = min_lrs_for(min_lr, optimizer.param_groups().size());
  check(mode == "min" || mode == "max", "mode {} is unknown!", mode);
  check(threshold_mode == "rel" || threshold_mode == "abs", "threshold mode {} is unknown!",
        threshold_mode);
  mode_ = mode == "min" ? Mode::Min : Mode::Max;
  threshold_mode_ = threshold_mode == "rel" ? ThresholdMode::Rel : ThresholdMode::Abs;
  best_ = mode_ == Mode::Min ? kInf : -kInf;  // the worst value, which any metric beats
}

// One epoch: count it as good (a new best) or bad; during cooldown, count nothing and count the
// cooldown down; after more than `patience` bad epochs, reduce the lrs and start a cooldown.
void ReduceLROnPlateau::step(double metric) {
  check_groups(optimizer_, min_lrs_.size(), "ReduceLROnPlateau");
  ++last_epoch_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;
  }
  if (num_bad_epochs_ > patience_) {
    reduce_lrs();
    cooldown_counter_ = cooldown_;
    num_bad_epochs_ = 0;
  }
  last_lr_ = lrs_of(optimizer_);
}

void ReduceLROnPlateau::step(const Tensor& metric) {
  check(metric.numel() == 1, "only one element tensors can be converted to Python scalars");
  step(metric.to(kFloat64).item<double>());
}

// Whether `metric` beats best_ by the threshold:
//   min, rel: metric < best · (1 − threshold)     max, rel: metric > best · (threshold + 1)
//   min, abs: metric < best − threshold           max, abs: metric > best + threshold
// A NaN metric is never better.
bool ReduceLROnPlateau::is_better(double metric) const {
  const bool rel = threshold_mode_ == ThresholdMode::Rel;
  if (mode_ == Mode::Min)
    return rel ? metric < best_ * (1. - threshold_) : metric < best_ - threshold_;
  return rel ? metric > best_ * (threshold_ + 1.) : metric > best_ + threshold_;
}

// lr ← max(lr · factor, min_lr), for each group whose lr that lowers by more than eps.
void ReduceLROnPlateau::reduce_lrs() {
  std::vector<OptimizerParamGroup>& groups = optimizer_.param_groups();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const double old_lr = groups[g].options().get_lr();
    const double new_lr = std::max(old_lr * factor_, min_lrs_[g]);
    if (old_lr - new_lr > eps_) groups[g].options().set_lr(new_lr);
  }
}

SchedulerState ReduceLROnPlateau::state_dict() const {
  SchedulerState state = {
      {"mode", integer(static_cast<std::int64_t>(mode_))},
      {"factor", real(factor_)},
      {"patience", integer(patience_)},
      {"threshold", real(threshold_)},
      {"threshold_mode", integer(static_cast<std::int64_t>(threshold_mode_))},
      {"cooldown", integer(cooldown_)},
  };
  add_per_group(state, "min_lrs", min_lrs_);
  state.emplace_back("eps", real(eps_));
  state.emplace_back("best", real(best_));
  state.emplace_back("num_bad_epochs", integer(num_bad_epochs_));
  state.emplace_back("cooldown_counter", integer(cooldown_counter_));
  state.emplace_back("last_epoch", integer(last_epoch_));
  add_per_group(state, "last_lr", last_lr_);
  return state;
}

void ReduceLROnPlateau::load_state_dict(const SchedulerState& state) {
  check_layout(state, state_dict(), "ReduceLROnPlateau");
  const auto mode = value_at<std::int64_t>(state, "mode");
  const auto threshold_mode = value_at<std::int64_t>(state, "threshold_mode");
  const auto factor = value_at<double>(state, "factor");
  check(!(factor >= 1.0), "Factor should be < 1.0.");
  check(mode == 0 || mode == 1, "mode {} is unknown! (expected 0 for \"min\" or 1 for \"max\")",
        mode);
  check(threshold_mode == 0 || threshold_mode == 1,
        "threshold mode {} is unknown! (expected 0 for \"rel\" or 1 for \"abs\")",
        threshold_mode);
  mode_ = static_cast<Mode>(mode);
  factor_ = factor;
  patience_ = value_at<std::int64_t>(state, "patience");
  threshold_ = value_at<double>(state, "threshold");
  threshold_mode_ = static_cast<ThresholdMode>(threshold_mode);
  cooldown_ = value_at<std::int64_t>(state, "cooldown");
  min_lrs_ = per_group_at(state, "min_lrs", min_lrs_.size());
  eps_ = value_at<double>(state, "eps");
  best_ = value_at<double>(state, "best");
  num_bad_epochs_ = value_at<std::int64_t>(state, "num_bad_epochs");
  cooldown_counter_ = value_at<std::int64_t>(state, "cooldown_counter");
  last_epoch_ = value_at<std::int64_t>(state, "last_epoch");
  last_lr_ = per_group_at(state, "last_lr", last_lr_.size());
}

}  // namespace minigrad::optim
