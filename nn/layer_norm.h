// nn::LayerNorm: normalise each sample over its last dimensions, then scale and shift.
//
// For every position of the leading dimensions, the elements of the trailing
// normalized_shape block (D of them) are standardised with their own mean and biased variance:
//   y = (x − mean) / √(var + eps) ⊙ weight + bias,   mean = Σx / D,   var = Σ(x − mean)² / D
//
// $$ y = \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}} \odot \gamma + \beta, \qquad
// \mu = \frac{1}{D} \sum_{i=1}^{D} x_i, \qquad
// \sigma^2 = \frac{1}{D} \sum_{i=1}^{D} (x_i - \mu)^2 $$
//
// with weight (ones) and bias (zeros) of normalized_shape, learned elementwise unless
// elementwise_affine is off. eps keeps the division finite for a constant block; PyTorch adds
// the same eps (default 1e-5) inside the square root.
//
//   mg::nn::LayerNorm norm({4});   // or LayerNorm(LayerNormOptions({3, 4}).eps(1e-6))
//   mg::Tensor y = norm(mg::randn({2, 5, 4}));   // (2, 5, 4), each row of 4 normalised
//
// Read after nn/dropout.h; nn/sequential.h comes next.
#pragma once

#include <string>
#include <utility>

#include "nn/module.h"

namespace minigrad::nn {

class LayerNormOptions {
 public:
  explicit LayerNormOptions(Shape normalized_shape)
      : normalized_shape_(std::move(normalized_shape)) {}
  LayerNormOptions& eps(double value) {
    eps_ = value;
    return *this;
  }
  LayerNormOptions& elementwise_affine(bool on) {
    elementwise_affine_ = on;
    return *this;
  }
  const Shape& normalized_shape() const { return normalized_shape_; }
  double eps() const { return eps_; }
  bool elementwise_affine() const { return elementwise_affine_; }

 private:
  Shape normalized_shape_;
  double eps_ = 1e-5;
  bool elementwise_affine_ = true;
};

class LayerNorm : public Module {
 public:
  LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true)
      : LayerNorm(LayerNormOptions(std::move(normalized_shape))
                      .eps(eps)
                      .elementwise_affine(elementwise_affine)) {}
  explicit LayerNorm(const LayerNormOptions& options);

  //   x (*, normalized_shape)  ->  y (*, normalized_shape)
  Tensor forward(const Tensor& input) const;
  Tensor operator()(const Tensor& input) const { return forward(input); }

  // weight = ones, bias = zeros.
  void reset_parameters();

  std::string extra_repr() const override;

  const LayerNormOptions options;
  Tensor& weight;  // normalized_shape, undefined without elementwise_affine
  Tensor& bias;    // normalized_shape, undefined without elementwise_affine
};

}  // namespace minigrad::nn
