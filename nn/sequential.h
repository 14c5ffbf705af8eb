// nn::Sequential: modules run one after the other, each one's output the next one's input.
//
// It owns its modules and registers them as children named "0", "1", ..., so a Sequential of
// Linear, Tanh, Linear has the parameters 0.weight, 0.bias, 2.weight, 2.bias, as in PyTorch.
// Any module with a `Tensor forward(const Tensor&)` can be added; Sequential remembers, for
// each, how to call that forward (a std::function made when the module is added), because
// Module itself has no forward: each layer declares its own, with its own arguments.
//
//   mg::nn::Sequential mlp;
//   mlp.emplace_back<mg::nn::Linear>(3, 4);
//   mlp.emplace_back<mg::nn::Tanh>();
//   mlp.push_back(std::make_unique<mg::nn::Linear>(4, 2));
//   mg::Tensor y = mlp(mg::randn({5, 3}));   // (5, 3) -> (5, 4) -> (5, 4) -> (5, 2)
//
// Read after nn/activation.h.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace minigrad::nn {

// A module that Sequential can chain: it maps one tensor to one tensor.
template <class M>
concept ChainableModule = std::derived_from<M, Module> && requires(M& module, const Tensor& x) {
  { module.forward(x) } -> std::convertible_to<Tensor>;
};

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  // Sequential(std::make_unique<Linear>(3, 4), std::make_unique<Tanh>())
  template <ChainableModule... Ms>
  explicit Sequential(std::unique_ptr<Ms>... modules) : Sequential() {
    (push_back(std::move(modules)), ...);
  }

  // Appends `module`, registered under the next number, and returns it.
  template <ChainableModule M>
  M& push_back(std::unique_ptr<M> module) {
    check(module != nullptr, "Sequential: cannot add a null module");
    M& added = *module;
    register_module(std::to_string(modules_.size()), added);
    forwards_.emplace_back([&added](const Tensor& x) -> Tensor { return added.forward(x); });
    modules_.push_back(std::move(module));
    return added;
  }

  // Builds an M from `args` in place and appends it: seq.emplace_back<Linear>(3, 4).
  template <ChainableModule M, class... Args>
  M& emplace_back(Args&&... args) {
    return push_back(std::make_unique<M>(std::forward<Args>(args)...));
  }

  // y = f_n(… f_1(f_0(x)))
  Tensor forward(const Tensor& input) const;
  Tensor operator()(const Tensor& input) const { return forward(input); }

  // Module number `index`; a negative index counts from the end, as in PyTorch.
  Module& operator[](std::int64_t index) const;
  std::size_t size() const { return modules_.size(); }

 private:
  std::vector<std::unique_ptr<Module>> modules_;
  std::vector<std::function<Tensor(const Tensor&)>> forwards_;  // forwards_[i] runs modules_[i]
};

}  // namespace minigrad::nn
