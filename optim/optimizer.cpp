// The Optimizer base: checking and keeping parameter groups, clearing gradients, and writing and
// reading the state dict laid out in optimizer.h. The update rules themselves are in sgd.cpp,
// adam.cpp and rmsprop.cpp; read this file after optimizer.h and before them.
#include "optim/optimizer.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>
#include <typeinfo>
#include <unordered_set>

#include "core/autograd.h"
#include "nn/serialize.h"

namespace minigrad::optim {

namespace {

// Whether `options` are of the same kind (SGDOptions, AdamOptions, ...) as `defaults`.
bool same_kind(const OptimizerOptions& options, const OptimizerOptions& defaults) {
  return typeid(options) == typeid(defaults);
}

// The checks every parameter passes, when it is added and again before each step: the update
// loops write a floating-point contiguous leaf in place, element by element.
void check_param(const Tensor& param) {
  check(param.defined(), "optimizer can only optimize Tensors, but one of the params is undefined");
  check(param.is_leaf(), "can't optimize a non-leaf Tensor");
  check(is_floating(param.dtype()),
        "optimizer can only optimize Tensors of floating point dtype, but one of the params is {}",
        dtype_name(param.dtype()));
  check(param.is_contiguous(),
        "optimizer can only optimize contiguous Tensors, but one of the params has shape {} and "
        "strides {}",
        param.shape(), param.strides());
}

// Reads "<digits>." off the front of `rest` and returns the number, or nothing (leaving `rest`
// as it was) if `rest` does not start that way.
std::optional<std::size_t> take_index(std::string_view& rest) {
  std::size_t value = 0;
  const char* end = rest.data() + rest.size();
  const auto [ptr, ec] = std::from_chars(rest.data(), end, value);
  if (ec != std::errc() || ptr == rest.data() || ptr == end || *ptr != '.') return std::nullopt;
  rest.remove_prefix(static_cast<std::size_t>(ptr - rest.data()) + 1);
  return value;
}

bool is_scalar_of(const Tensor& t, Dtype dtype) { return t.dim() == 0 && t.dtype() == dtype; }

}  // namespace

// ---- Options and groups -------------------------------------------------------------------------

bool option_flag(const std::string& name, double value) {
  check(value == 0 || value == 1, "optimizer option {} is a flag: expected 0 or 1, got {}", name,
        value);
  return value == 1;
}

OptimizerParamGroup::OptimizerParamGroup(std::vector<Tensor> params)
    : params_(std::move(params)) {}

OptimizerParamGroup::OptimizerParamGroup(std::vector<Tensor> params,
                                         std::unique_ptr<OptimizerOptions> options)
    : params_(std::move(params)), options_(std::move(options)) {}

OptimizerParamGroup::OptimizerParamGroup(const OptimizerParamGroup& other)
    : params_(other.params_), options_(other.options_ ? other.options_->clone() : nullptr) {}

OptimizerParamGroup& OptimizerParamGroup::operator=(const OptimizerParamGroup& other) {
  if (this != &other) {
    params_ = other.params_;
    options_ = other.options_ ? other.options_->clone() : nullptr;
  }
  return *this;
}

OptimizerOptions& OptimizerParamGroup::options() {
  check(options_ != nullptr, "this parameter group has no options yet");
  return *options_;
}

const OptimizerOptions& OptimizerParamGroup::options() const {
  check(options_ != nullptr, "this parameter group has no options yet");
  return *options_;
}

// ---- Per-parameter state ------------------------------------------------------------------------

std::int64_t& state_step(ParamState& state) {
  Tensor& step = state["step"];
  if (!step.defined()) step = scalar_tensor(0, kInt64);
  return *step.data_ptr<std::int64_t>();
}

Tensor& state_buffer(ParamState& state, const std::string& name, const Tensor& param) {
  Tensor& buffer = state[name];
  if (!buffer.defined()) buffer = zeros_like(param);
  return buffer;
}

// ---- The optimizer ------------------------------------------------------------------------------

// PyTorch checks the options first (in SGD.__init__ and the others), then the parameters.
Optimizer::Optimizer(std::vector<OptimizerParamGroup> param_groups,
                     std::unique_ptr<OptimizerOptions> defaults)
    : defaults_(std::move(defaults)) {
  defaults_->validate();
  check(!param_groups.empty(), "optimizer got an empty parameter list");
  for (OptimizerParamGroup& group : param_groups) add_param_group(std::move(group));
}

Optimizer::Optimizer(std::vector<Tensor> params, std::unique_ptr<OptimizerOptions> defaults)
    : defaults_(std::move(defaults)) {
  defaults_->validate();
  check(!params.empty(), "optimizer got an empty parameter list");
  add_param_group(OptimizerParamGroup(std::move(params)));
}

void Optimizer::add_param_group(OptimizerParamGroup group) {
  if (!group.has_options()) group.set_options(defaults_->clone());
  check(same_kind(group.options(), *defaults_),
        "add_param_group: the group's options are those of another optimizer");
  group.options().validate();
  std::unordered_set<const TensorImpl*> in_group;
  for (const Tensor& param : group.params()) {
    check_param(param);
    // PyTorch 1.13 only warns, and then updates such a parameter twice per step.
    check(in_group.insert(param.impl()).second,
          "optimizer contains a parameter group with duplicate parameters");
  }
  for (const OptimizerParamGroup& other : param_groups_)
    for (const Tensor& param : other.params())
      check(!in_group.contains(param.impl()),
            "some parameters appear in more than one parameter group");
  param_groups_.push_back(std::move(group));
}

void Optimizer::zero_grad() {
  for (OptimizerParamGroup& group : param_groups_)
    for (Tensor& param : group.params()) param.set_grad(Tensor());
}

void Optimizer::check_step() const {
  for (std::size_t g = 0; g < param_groups_.size(); ++g) {
    const OptimizerParamGroup& group = param_groups_[g];
    check(group.has_options() && same_kind(group.options(), *defaults_),
          "step: parameter group {} has no options of this optimizer's kind", g);
    for (std::size_t i = 0; i < group.params().size(); ++i) {
      const Tensor& param = group.params()[i];
      check_param(param);
      const auto found = state_.find(param.impl());
      if (!param.grad().defined() || found == state_.end()) continue;
      for (const auto& [name, value] : found->second)
        check(name == "step" || (value.shape() == param.shape() && value.dtype() == param.dtype()),
              "step: the state \"{}\" of parameter {} of group {} is {} {}, but the parameter is "
              "now {} {}; convert a model before making its optimizer",
              name, i, g, dtype_name(value.dtype()), value.shape(), dtype_name(param.dtype()),
              param.shape());
    }
  }
}

// ---- The state dict -----------------------------------------------------------------------------

NamedTensors Optimizer::state_dict() const {
  NamedTensors out;
  for (std::size_t g = 0; g < param_groups_.size(); ++g) {
    const std::vector<Tensor>& params = param_groups_[g].params();
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto found = state_.find(params[i].impl());
      if (found == state_.end()) continue;
      for (const auto& [name, value] : found->second)
        out.emplace_back(fmt::format("state.{}.{}.{}", g, i, name), value);
    }
  }
  for (std::size_t g = 0; g < param_groups_.size(); ++g) {
    const OptimizerParamGroup& group = param_groups_[g];
    for (const auto& [name, value] : group.options().named_values())
      out.emplace_back(fmt::format("param_groups.{}.{}", g, name), scalar_tensor(value, kFloat64));
    out.emplace_back(fmt::format("param_groups.{}.num_params", g),
                     scalar_tensor(static_cast<std::int64_t>(group.params().size()), kInt64));
  }
  return out;
}

void Optimizer::load_state_dict(const NamedTensors& state) {
  const std::size_t num_groups = param_groups_.size();
  std::vector<std::string> unexpected, missing, mismatches;

  // 1. Sort the entries by what they name: a group's option or size, or a parameter's state.
  std::size_t groups_in_state = 0;  // one more than the largest <g> of param_groups.<g>.*
  std::vector<std::map<std::string, Tensor>> group_entries(num_groups);
  struct StateEntry {
    const std::string* full_name;
    std::size_t group, index;
    std::string name;
    Tensor value;
  };
  std::vector<StateEntry> state_entries;
  for (const auto& [name, value] : state) {
    std::string_view rest = name;
    if (rest.starts_with("param_groups.")) {
      rest.remove_prefix(std::string_view("param_groups.").size());
      if (const auto g = take_index(rest)) {
        groups_in_state = std::max(groups_in_state, *g + 1);
        if (*g < num_groups) group_entries[*g].emplace(rest, value);
        continue;
      }
    } else if (rest.starts_with("state.")) {
      rest.remove_prefix(std::string_view("state.").size());
      const auto g = take_index(rest);
      const auto i = g ? take_index(rest) : std::nullopt;
      if (i) {
        state_entries.push_back({&name, *g, *i, std::string(rest), value});
        continue;
      }
    }
    unexpected.push_back(fmt::format("\"{}\"", name));
  }
  check(groups_in_state == num_groups,
        "loaded state dict has a different number of parameter groups");

  // 2. Each group: its size, then its options into a copy that is validated below.
  std::vector<std::unique_ptr<OptimizerOptions>> options(num_groups);
  for (std::size_t g = 0; g < num_groups; ++g) {
    std::map<std::string, Tensor>& entries = group_entries[g];
    const std::string size_name = fmt::format("param_groups.{}.num_params", g);
    const auto size = entries.find("num_params");
    if (size == entries.end()) {
      missing.push_back(fmt::format("\"{}\"", size_name));
    } else {
      check(is_scalar_of(size->second, kInt64), "{}: expected a 0-d int64 tensor", size_name);
      check(size->second.item<std::int64_t>() ==
                static_cast<std::int64_t>(param_groups_[g].params().size()),
            "loaded state dict contains a parameter group that doesn't match the size of "
            "optimizer's group");
      entries.erase(size);
    }
    options[g] = param_groups_[g].options().clone();
    for (const auto& [option, current] : options[g]->named_values()) {
      const std::string full_name = fmt::format("param_groups.{}.{}", g, option);
      const auto found = entries.find(option);
      if (found == entries.end()) {
        missing.push_back(fmt::format("\"{}\"", full_name));
        continue;
      }
      if (is_scalar_of(found->second, kFloat64))
        options[g]->set_named_value(option, found->second.item<double>());
      else
        mismatches.push_back(fmt::format("{}: expected a 0-d float64 tensor, got {} {}", full_name,
                                         dtype_name(found->second.dtype()), found->second.shape()));
      entries.erase(found);
    }
    for (const auto& [option, value] : entries)
      unexpected.push_back(fmt::format("\"param_groups.{}.{}\"", g, option));
  }

  // 3. The state of each parameter, copied into fresh tensors of the parameter's dtype.
  NoGradGuard no_grad;
  const std::vector<std::string> names = state_names();
  std::unordered_map<const TensorImpl*, ParamState> new_state;
  for (const StateEntry& entry : state_entries) {
    if (entry.group >= num_groups || entry.index >= param_groups_[entry.group].params().size() ||
        std::find(names.begin(), names.end(), entry.name) == names.end()) {
      unexpected.push_back(fmt::format("\"{}\"", *entry.full_name));
      continue;
    }
    const Tensor& param = param_groups_[entry.group].params()[entry.index];
    if (entry.name == "step") {
      if (is_scalar_of(entry.value, kInt64) && entry.value.item<std::int64_t>() >= 0)
        new_state[param.impl()]["step"] = entry.value.detach().clone();
      else
        mismatches.push_back(fmt::format("{}: expected a 0-d int64 tensor >= 0", *entry.full_name));
    } else if (entry.value.shape() != param.shape()) {
      mismatches.push_back(fmt::format(
          "size mismatch for {}: copying a tensor with shape {} from the state dict, the shape of "
          "the parameter is {}",
          *entry.full_name, entry.value.shape(), param.shape()));
    } else if (!is_floating(entry.value.dtype())) {
      mismatches.push_back(fmt::format("{}: expected a floating-point tensor, got {}",
                                       *entry.full_name, dtype_name(entry.value.dtype())));
    } else {
      Tensor copy = empty(param.shape(), param.dtype());
      copy.copy_(entry.value);
      new_state[param.impl()][entry.name] = copy;
    }
  }

  nn::check_state_dict_complete("the optimizer's state_dict", missing, unexpected, mismatches);
  for (const auto& group_options : options) group_options->validate();

  // 4. Everything checked: replace.
  for (std::size_t g = 0; g < num_groups; ++g) param_groups_[g].set_options(std::move(options[g]));
  state_ = std::move(new_state);
}

}  // namespace minigrad::optim
