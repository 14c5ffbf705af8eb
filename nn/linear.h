// nn::Linear: the affine map y = x Wᵀ + b, the first layer built on nn::Module.
//
// Its weight W is (out_features, in_features), so that row o of W holds the weights of output
// o, as in PyTorch; its bias b is (out_features) and can be left out. The input may have any
// number of leading dimensions: each vector along the last one is mapped on its own, output o
// being y_o = Σ_i W[o][i]·x_i + b_o:
//
// $$ y = x W^\top + b, \qquad y_o = \sum_i W_{oi} x_i + b_o $$
//
//   mg::nn::Linear lin(3, 4);                                          // or
//   mg::nn::Linear lin(mg::nn::LinearOptions(3, 4).bias(false));
//   mg::Tensor y = lin(mg::randn({2, 3}));                             // (2, 4)
//
// Read after nn/module.h and nn/init.h; nn/embedding.h comes next.
#pragma once

#include <cstdint>
#include <string>

#include "nn/module.h"

namespace minigrad::nn {

class LinearOptions {
 public:
  LinearOptions(std::int64_t in_features, std::int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  LinearOptions& bias(bool on) {
    bias_ = on;
    return *this;
  }
  std::int64_t in_features() const { return in_features_; }
  std::int64_t out_features() const { return out_features_; }
  bool bias() const { return bias_; }

 private:
  std::int64_t in_features_;
  std::int64_t out_features_;
  bool bias_ = true;
};

class Linear : public Module {
 public:
  Linear(std::int64_t in_features, std::int64_t out_features)
      : Linear(LinearOptions(in_features, out_features)) {}
  explicit Linear(const LinearOptions& options);

  // y = x Wᵀ + b:  x (*, in_features)  ->  y (*, out_features)
  Tensor forward(const Tensor& input) const;
  Tensor operator()(const Tensor& input) const { return forward(input); }

  // PyTorch's default: W ~ U(−1/√in, 1/√in) (kaiming_uniform_ with a = √5) and
  // b ~ U(−1/√in, 1/√in), drawn in that order.
  void reset_parameters();

  std::string extra_repr() const override;

  const LinearOptions options;
  Tensor& weight;  // (out_features, in_features)
  Tensor& bias;    // (out_features), undefined when built with bias(false)
};

}  // namespace minigrad::nn
