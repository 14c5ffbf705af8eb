// nn::Tanh, nn::ReLU, nn::Sigmoid: the elementwise nonlinearities as modules, so that they can
// stand between layers in an nn::Sequential. Each has no parameters and applies the op of the
// same name (core/unary.cpp, where the derivatives are), elementwise, keeping the shape:
//
// $$ \tanh(x) = \frac{e^x - e^{-x}}{e^x + e^{-x}}, \qquad \operatorname{relu}(x) = \max(x, 0),
// \qquad \sigma(x) = \frac{1}{1 + e^{-x}} $$
//
//
//   mg::nn::Tanh tanh;
//   mg::Tensor y = tanh(x);   // x (*) -> y (*), y = tanh(x)
//
// Read after nn/layer_norm.h, with nn/sequential.h.
#pragma once

#include "nn/module.h"

namespace minigrad::nn {

// y = tanh(x)
class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& input) const { return tanh(input); }
  Tensor operator()(const Tensor& input) const { return forward(input); }
};

// y = max(x, 0)
class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& input) const { return relu(input); }
  Tensor operator()(const Tensor& input) const { return forward(input); }
};

// y = 1 / (1 + e^(−x))
class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& input) const { return sigmoid(input); }
  Tensor operator()(const Tensor& input) const { return forward(input); }
};

}  // namespace minigrad::nn
