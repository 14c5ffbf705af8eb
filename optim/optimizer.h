// optim::Optimizer: the base of SGD, Adam, AdamW and RMSprop — parameter groups, per-parameter
// state, and the state dict that lets training resume exactly where it stopped.
//
// An optimizer holds the parameters it trains in groups (PyTorch's param_groups), each group with
// its own options — its own learning rate, say — and updates them from their gradients:
//
//   mg::optim::SGD opt(model.parameters(), mg::optim::SGDOptions(0.1).momentum(0.9));
//   for (...) {
//     opt.zero_grad();                    // every gradient set to undefined
//     loss_fn(model(x), y).backward();
//     opt.step();                         // a parameter without a gradient is left alone
//   }
//
// What an optimizer remembers between steps is kept per parameter, by name, as PyTorch keeps
// optimizer.state[p]: a step count and buffers of the parameter's shape ("momentum_buffer",
// "exp_avg", ...). A parameter's state is made at its first step with a gradient, so a parameter
// that never gets a gradient never has any.
//
// state_dict() lays everything out as named tensors; <g> numbers the groups from 0 in the order
// of param_groups(), <i> the parameters within group <g> in their order:
//
//   state.<g>.<i>.step             0-d int64: the steps parameter i of group g has taken
//                                  (Adam, AdamW, RMSprop; SGD does not count)
//   state.<g>.<i>.<buffer>         its buffers ("exp_avg", ...), of its shape and dtype
//   param_groups.<g>.<option>      0-d float64: each option of group g ("lr", "momentum",
//                                  "betas.0", "betas.1", ...); flags ("nesterov") as 0 or 1
//   param_groups.<g>.num_params    0-d int64: how many parameters group g holds
//
// A parameter without state has no state.* entries. These are PyTorch's state_dict() entries,
// with a parameter named by its group and place instead of one index across all groups, and the
// step an int64 where PyTorch keeps a float32. The tensors share memory with the optimizer's own
// state (as Module::state_dict() does), so save them, or clone() them for a snapshot. A model
// and its optimizer go into one safetensors file with the optimizer's entries under "optim."
// (see nn/serialize.h):
//
//   auto tensors = model.state_dict();
//   for (auto& [name, t] : opt.state_dict()) tensors.emplace_back("optim." + name, t);
//   mg::nn::save_tensors(path, tensors);
//   ...
//   mg::nn::NamedTensors model_state, optim_state;
//   for (auto& [name, t] : mg::nn::load_tensors(path).tensors) {
//     if (name.starts_with("optim.")) optim_state.emplace_back(name.substr(6), t);
//     else model_state.emplace_back(name, t);
//   }
//   mg::nn::load_state_dict(model, model_state);
//   opt.load_state_dict(optim_state);       // the next step is the one that would have come
//
// Read after nn/serialize.h; optim/sgd.h is the first optimizer built on this.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace minigrad::optim {

// Named tensors in order, as Module::state_dict() and nn::save_tensors use them.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// ---- Options ------------------------------------------------------------------------------------

// The base of SGDOptions, AdamOptions, AdamWOptions and RMSpropOptions: what a parameter group
// and the state dict need to know of any optimizer's options.
class OptimizerOptions {
 public:
  virtual ~OptimizerOptions() = default;
  // The learning rate, by LibTorch's names (a scheduler changes it between steps).
  virtual double get_lr() const = 0;
  virtual void set_lr(double lr) = 0;
  virtual std::unique_ptr<OptimizerOptions> clone() const = 0;
  // Throws mg::Error, in PyTorch's words, for a value the optimizer cannot work with
  // ("Invalid learning rate: -0.1"). Every group's options are validated when they are added.
  virtual void validate() const = 0;
  // Every option as a number, for the state dict: {"lr", 0.1}, ..., {"nesterov", 1}.
  virtual std::vector<std::pair<std::string, double>> named_values() const = 0;
  // Sets the option called `name` (one of named_values()) from such a number.
  virtual void set_named_value(const std::string& name, double value) = 0;

 protected:
  OptimizerOptions() = default;
  OptimizerOptions(const OptimizerOptions&) = default;
  OptimizerOptions& operator=(const OptimizerOptions&) = default;
};

// A flag option read back from its number in a state dict: 0 is false, 1 is true, anything else
// is refused (for set_named_value).
bool option_flag(const std::string& name, double value);

// ---- Parameter groups ---------------------------------------------------------------------------

// Some parameters and the options they are trained with. A group made without options takes a
// copy of the optimizer's defaults when it is added.
class OptimizerParamGroup {
 public:
  OptimizerParamGroup(std::vector<Tensor> params);  // NOLINT: a list of tensors is a group
  OptimizerParamGroup(std::vector<Tensor> params, std::unique_ptr<OptimizerOptions> options);
  // Copies hold their own copy of the options (the parameters are shared handles, as ever).
  OptimizerParamGroup(const OptimizerParamGroup& other);
  OptimizerParamGroup& operator=(const OptimizerParamGroup& other);
  OptimizerParamGroup(OptimizerParamGroup&&) = default;
  OptimizerParamGroup& operator=(OptimizerParamGroup&&) = default;
  ~OptimizerParamGroup() = default;

  std::vector<Tensor>& params() { return params_; }
  const std::vector<Tensor>& params() const { return params_; }
  bool has_options() const { return options_ != nullptr; }
  // The group's own options; throws if it has none yet.
  OptimizerOptions& options();
  const OptimizerOptions& options() const;
  void set_options(std::unique_ptr<OptimizerOptions> options) { options_ = std::move(options); }

 private:
  std::vector<Tensor> params_;
  std::unique_ptr<OptimizerOptions> options_;
};

// ---- Per-parameter state ------------------------------------------------------------------------

// What an optimizer remembers about one parameter, by name: "step", a 0-d int64 tensor, and
// buffers of the parameter's shape and dtype.
using ParamState = std::map<std::string, Tensor>;

// The step count of `state`, made 0 if it has none yet.
std::int64_t& state_step(ParamState& state);

// The buffer `name` of `state`, made zeros of `param`'s shape and dtype if it has none yet.
Tensor& state_buffer(ParamState& state, const std::string& name, const Tensor& param);

// ---- The optimizer ------------------------------------------------------------------------------

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Not copyable: two optimizers would update one set of parameters with one set of buffers.
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  Optimizer(Optimizer&&) = default;
  Optimizer& operator=(Optimizer&&) = default;

  std::vector<OptimizerParamGroup>& param_groups() { return param_groups_; }
  const std::vector<OptimizerParamGroup>& param_groups() const { return param_groups_; }
  // Adds a group (options: its own, or a copy of defaults()), after checking that its options
  // are this optimizer's kind and valid, and that each parameter is a floating-point,
  // contiguous leaf tensor found in no group yet.
  void add_param_group(OptimizerParamGroup group);
  // The options a group added without its own gets a copy of.
  const OptimizerOptions& defaults() const { return *defaults_; }

  // Sets the gradient of every parameter to undefined (PyTorch's zero_grad(set_to_none=True)),
  // so that the next backward writes fresh ones and a parameter it does not reach has none.
  void zero_grad();

  // Updates every parameter that has a gradient, by the optimizer's rule.
  virtual void step() = 0;

  // The state as named tensors, laid out as the header of this file says.
  virtual NamedTensors state_dict() const;
  // Replaces the state and every group's options with those of `state`, which must come from
  // state_dict() of an optimizer of the same kind over parameters of the same groups, sizes,
  // shapes and order. Everything is checked before anything changes; buffers are copied (and
  // converted to their parameter's dtype), never shared with `state`.
  virtual void load_state_dict(const NamedTensors& state);

 protected:
  // The derived constructors: one group of all `params`, or the groups given. The defaults are
  // validated first, then each group as add_param_group() does.
  Optimizer(std::vector<Tensor> params, std::unique_ptr<OptimizerOptions> defaults);
  Optimizer(std::vector<OptimizerParamGroup> param_groups,
            std::unique_ptr<OptimizerOptions> defaults);

  // The names a parameter's state may hold: "step" and the buffer names, for load_state_dict.
  virtual std::vector<std::string> state_names() const = 0;

  // Checks what step() relies on before it changes anything: every group has options of this
  // optimizer's kind, every parameter is still a floating-point contiguous leaf, and the state
  // of every parameter with a gradient still has its shape and dtype.
  void check_step() const;

  // The state of `param`, empty until the optimizer puts something in it.
  ParamState& state(const Tensor& param) { return state_[param.impl()]; }

 private:
  std::vector<OptimizerParamGroup> param_groups_;
  std::unique_ptr<OptimizerOptions> defaults_;
  std::unordered_map<const TensorImpl*, ParamState> state_;  // by parameter identity
};

}  // namespace minigrad::optim
