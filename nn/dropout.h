// nn::Dropout: while training, zero each element with probability p and scale the survivors.
//
// Inverted dropout: an element survives with probability 1 − p and is then multiplied by
// 1/(1 − p), so that each element's expected value is unchanged and evaluation needs no
// rescaling. In evaluation mode (module.eval()) the layer is the identity and returns its input
// itself. The mask comes from minigrad's generator (core/random.h), so mg::manual_seed makes it
// repeat. p = 1 drops everything (the output is zeros, as in PyTorch).
//
// $$ y = \frac{x \odot m}{1 - p}, \qquad m_i \sim \operatorname{Bernoulli}(1 - p), \qquad
// \mathbb{E}[y_i] = (1 - p) \frac{x_i}{1 - p} = x_i $$
//
//   mg::nn::Dropout dropout(0.1);
//   mg::Tensor y = dropout(x);   // x (*) -> y (*), the same shape
//
// Read after nn/embedding.h; nn/layer_norm.h comes next.
#pragma once

#include <string>

#include "nn/module.h"

namespace minigrad::nn {

namespace functional {
// Inverted dropout as a function, torch.nn.functional.dropout: y = x ⊙ m / (1 − p) with
// m_i ~ Bernoulli(1 − p) when `training`, else y = x. The RNN stack uses it between layers.
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true);
}  // namespace functional

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);

  // Training: y = x ⊙ m / (1 − p), m_i ~ Bernoulli(1 − p).  Evaluation: y = x.
  //   x (*)  ->  y (*)
  Tensor forward(const Tensor& input) const;
  Tensor operator()(const Tensor& input) const { return forward(input); }

  std::string extra_repr() const override;

  const double p;
};

}  // namespace minigrad::nn
