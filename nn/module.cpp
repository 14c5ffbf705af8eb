// nn::Module: registration, the walks over the tree, modes, dtype conversion and repr.
#include "nn/module.h"

#include <ostream>
#include <sstream>

#include "core/autograd.h"

namespace minigrad::nn {

void Module::check_new_name(const std::string& name, const char* what) const {
  check(!name.empty(), "{} name can't be empty string \"\"", what);
  check(name.find('.') == std::string::npos, "{} name can't contain \".\", got \"{}\"", what, name);
  const auto taken = [&](const auto& list) {
    for (const auto& entry : list)
      if (entry.first == name) return true;
    return false;
  };
  check(!taken(parameters_) && !taken(buffers_) && !taken(children_),
        "attribute '{}' already exists", name);
}

Tensor& Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name(name, "parameter");
  if (tensor.defined() && is_floating(tensor.dtype())) tensor.requires_grad_(requires_grad);
  parameters_.emplace_back(name, std::move(tensor));
  return parameters_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor tensor) {
  check_new_name(name, "buffer");
  buffers_.emplace_back(name, std::move(tensor));
  return buffers_.back().second;
}

void Module::register_module(const std::string& name, Module& child) {
  check_new_name(name, "module");
  check(&child != this, "register_module: a module cannot be its own child");
  children_.emplace_back(name, &child);
}

// Appends this module's parameters (or buffers), then each child's, named from `prefix`.
void Module::collect(const std::string& prefix, bool recurse, bool buffers,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [name, tensor] : buffers ? buffers_ : parameters_)
    if (tensor.defined()) out.emplace_back(prefix + name, tensor);
  if (!recurse) return;
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", true, buffers, out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", recurse, /*buffers=*/false, out);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", recurse, /*buffers=*/true, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_parameters(recurse)) out.push_back(tensor);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (const auto& [name, child] : children_)
    for (auto& [sub, module] : child->named_modules())
      out.emplace_back(sub.empty() ? name : name + "." + sub, module);
  return out;
}

std::vector<Module*> Module::children() const {
  std::vector<Module*> out;
  for (const auto& [name, child] : children_) out.push_back(child);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::state_dict() const {
  std::vector<std::pair<std::string, Tensor>> out = named_parameters();
  for (auto& entry : named_buffers()) out.push_back(std::move(entry));
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (const auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.set_grad(Tensor());
}

void Module::to(Dtype dtype) {
  check(is_floating(dtype), "nn.Module.to only accepts floating point dtypes, but got {}",
        dtype_name(dtype));
  NoGradGuard no_grad;
  for (auto& [name, tensor] : state_dict()) {
    // Only floating tensors convert, as in PyTorch (an int64 buffer stays int64).
    if (!is_floating(tensor.dtype()) || tensor.dtype() == dtype) continue;
    const Tensor converted = tensor.detach().to(dtype);
    // Rewrite the shared TensorImpl itself, so that every handle to this parameter — the module's
    // and any the caller holds — sees the new values. Its old gradient, and the accumulator node
    // made for the old dtype, no longer fit and are dropped.
    TensorImpl* impl = tensor.impl();
    impl->storage = converted.impl()->storage;
    impl->dtype = dtype;
    impl->strides = converted.strides();
    impl->offset = 0;
    impl->grad.reset();
    impl->grad_accumulator.reset();
  }
}

std::string Module::repr() const {
  // "Name(extra)" for a leaf; otherwise one line per entry, indented by two, nested reprs
  // indented with them:
  //   Name(
  //     (child): Child(...)
  //   )
  std::vector<std::string> lines;
  const std::string extra = extra_repr();
  if (!extra.empty()) lines.push_back(extra);
  for (const auto& [name, child] : children_) {
    std::string text = child->repr();
    for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1))
      text.insert(at + 1, "  ");
    lines.push_back("(" + name + "): " + text);
  }
  if (children_.empty()) return type_name_ + "(" + extra + ")";
  std::string out = type_name_ + "(";
  for (const std::string& line : lines) out += "\n  " + line;
  return out + "\n)";
}

std::ostream& operator<<(std::ostream& out, const Module& module) { return out << module.repr(); }

}  // namespace minigrad::nn
