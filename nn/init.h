// nn::init: filling a parameter with its starting values, by PyTorch's formulas (torch.nn.init).
//
// A layer is only as trainable as its first weights: too large and activations saturate, too
// small and gradients vanish. Each function here draws from one distribution whose scale comes
// from the tensor's shape (its fans) and the nonlinearity that follows, writes the values in
// place under NoGradGuard (so a parameter that requires grad can be filled), and returns the
// tensor. The numbers come from minigrad's seeded generator (core/random.h): the same
// mg::manual_seed gives the same weights, though not PyTorch's numbers for the same seed.
//
//   mg::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));   // nn.Linear's default
//   mg::nn::init::orthogonal_(w_hh, mg::nn::init::calculate_gain(mg::nn::init::kTanh));
//
// The fans of a weight of shape (out, in, k1, k2, ...) are
//   fan_in = in · k1 · k2 · ...     fan_out = out · k1 · k2 · ...
// (a Linear weight (out, in) has fan_in = in). Read after nn/module.h; nn/linear.h uses it next.
#pragma once

#include <optional>
#include <string_view>
#include <utility>

#include "core/tensor.h"

namespace minigrad::nn::init {

// The nonlinearity a layer's output goes through, as named in torch.nn.functional.
enum class Nonlinearity {
  kLinear,
  kConv1D,
  kConv2D,
  kConv3D,
  kConvTranspose1D,
  kConvTranspose2D,
  kConvTranspose3D,
  kSigmoid,
  kTanh,
  kReLU,
  kLeakyReLU,
  kSELU,
};
inline constexpr Nonlinearity kLinear = Nonlinearity::kLinear;
inline constexpr Nonlinearity kConv1D = Nonlinearity::kConv1D;
inline constexpr Nonlinearity kConv2D = Nonlinearity::kConv2D;
inline constexpr Nonlinearity kConv3D = Nonlinearity::kConv3D;
inline constexpr Nonlinearity kConvTranspose1D = Nonlinearity::kConvTranspose1D;
inline constexpr Nonlinearity kConvTranspose2D = Nonlinearity::kConvTranspose2D;
inline constexpr Nonlinearity kConvTranspose3D = Nonlinearity::kConvTranspose3D;
inline constexpr Nonlinearity kSigmoid = Nonlinearity::kSigmoid;
inline constexpr Nonlinearity kTanh = Nonlinearity::kTanh;
inline constexpr Nonlinearity kReLU = Nonlinearity::kReLU;
inline constexpr Nonlinearity kLeakyReLU = Nonlinearity::kLeakyReLU;
inline constexpr Nonlinearity kSELU = Nonlinearity::kSELU;

// Which fan the Kaiming initialisations keep the variance of: the forward pass's (fan_in) or
// the backward pass's (fan_out).
enum class FanMode { kFanIn, kFanOut };
inline constexpr FanMode kFanIn = FanMode::kFanIn;
inline constexpr FanMode kFanOut = FanMode::kFanOut;

// PyTorch's name for a nonlinearity ("leaky_relu") or a mode ("fan_in").
std::string_view name(Nonlinearity nonlinearity);
std::string_view name(FanMode mode);

// The factor by which the nonlinearity shrinks the standard deviation, to be undone by the
// initial weights:
//   linear, conv*, sigmoid  1          tanh  5/3          relu  √2
//   leaky_relu              √(2 / (1 + negative_slope²)), negative_slope = param or 0.01
//   selu                    3/4
double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param = std::nullopt);

// (fan_in, fan_out) of a tensor of at least two dimensions, as above.
std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);

// Each function below fills `tensor` in place and returns it.

Tensor uniform_(Tensor tensor, double a = 0, double b = 1);      // U(a, b)
Tensor normal_(Tensor tensor, double mean = 0, double std = 1);  // N(mean, std²)
Tensor constant_(Tensor tensor, Scalar value);
Tensor zeros_(Tensor tensor);
Tensor ones_(Tensor tensor);

// Glorot & Bengio (2010): keep the variance of both passes, std = gain · √(2 / (fan_in + fan_out)).
Tensor xavier_uniform_(Tensor tensor, double gain = 1);  // U(−√3·std, √3·std)
Tensor xavier_normal_(Tensor tensor, double gain = 1);   // N(0, std²)

// He et al. (2015): keep the variance of one pass, std = gain / √fan, fan per `mode`, gain from
// calculate_gain(nonlinearity, a). A tensor with a zero-size dimension is left as it is.
Tensor kaiming_uniform_(Tensor tensor, double a = 0, FanMode mode = kFanIn,
                        Nonlinearity nonlinearity = kLeakyReLU);  // U(−√3·std, √3·std)
Tensor kaiming_normal_(Tensor tensor, double a = 0, FanMode mode = kFanIn,
                       Nonlinearity nonlinearity = kLeakyReLU);  // N(0, std²)

// Saxe et al. (2013): a (semi-)orthogonal matrix times `gain`. The tensor, of at least two
// dimensions, is seen as a (rows, cols) matrix with rows = size(0): its rows are orthonormal if
// rows <= cols, its columns otherwise. Drawn uniformly (Haar measure): the Q of the QR
// factorisation of a standard normal matrix, with R's diagonal made positive.
Tensor orthogonal_(Tensor tensor, double gain = 1);

}  // namespace minigrad::nn::init
