// Loss functions: how far a prediction is from its target, as functions and as modules.
//
// Each loss exists twice, as in LibTorch: a function in mg::nn::functional, and a module in
// mg::nn that holds the options and calls the function.
//
//   namespace F = mg::nn::functional;
//   mg::Tensor loss = F::cross_entropy(logits, labels);                  // (N, C), (N) int64
//
//   mg::nn::CrossEntropyLoss criterion(
//       mg::nn::CrossEntropyLossOptions().ignore_index(0).label_smoothing(0.1));
//   mg::Tensor loss = criterion(logits, labels);
//   loss.backward();
//
// Every loss first computes one value per element (per position, for the classification losses)
// and then applies its reduction: kNone keeps them all, kMean averages them (the default), kSum
// adds them up.
//
// Shapes: N batch, C classes, d1 ... dk further dimensions of a position (the pixels of an image,
// the time steps of a sequence); the class dimension of a classification input is dimension 1,
// or dimension 0 for a single unbatched sample of shape (C).
//
// Where they are defined: mse_loss, l1_loss, binary_cross_entropy_with_logits and the modules in
// nn/loss.cpp; nll_loss and cross_entropy in nn/cross_entropy.cpp, whose fused backward is
// derived in docs/cross_entropy.md. Read after nn/module.h and core/softmax.cpp; nn/loss.cpp
// comes next.
#pragma once

#include <cstdint>
#include <utility>

#include "core/tensor.h"
#include "nn/module.h"

namespace minigrad::nn {

// What a loss does with its per-element values: keep them, average them, or add them up.
enum class Reduction : std::uint8_t { None, Mean, Sum };

inline constexpr Reduction kNone = Reduction::None;
inline constexpr Reduction kMean = Reduction::Mean;
inline constexpr Reduction kSum = Reduction::Sum;

namespace functional {

// loss = reduce((input − target)²). input and target broadcast as in PyTorch, which warns when
// their shapes differ (so do we, once per message, on std::cerr); the mean divides by the number
// of elements of the broadcast shape. Differentiable in both.
//
// $$ \ell = \operatorname{reduce}\bigl((x - y)^2\bigr) $$
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = kMean);

// loss = reduce(|input − target|), with mse_loss's broadcasting rule. Differentiable in both.
//
// $$ \ell = \operatorname{reduce}(\lvert x - y \rvert) $$
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = kMean);

// loss = reduce(−w ⊙ [pos_weight ⊙ t ⊙ log σ(x) + (1 − t) ⊙ log(1 − σ(x))]) for logits x and
// targets t in [0, 1] of the same shape, computed without overflow for any x. `weight` and
// `pos_weight` broadcast to x's shape; pos_weight of shape (C) weighs the positives of each class
// (the last dimension). Differentiable in x and t; weight and pos_weight are constants. With w
// the weight and q the pos_weight:
//
// $$
// \begin{aligned}
// \ell &= \operatorname{reduce}(-w \odot b), \cr
// b &= q \odot t \odot \log \sigma(x) \cr
// &\quad + (1 - t) \odot \log\bigl(1 - \sigma(x)\bigr)
// \end{aligned}
// $$
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight = {}, const Tensor& pos_weight = {},
                                        Reduction reduction = kMean);

// loss_n = −weight[t_n] · input[n, t_n] for log-probabilities `input` of shape (N, C),
// (N, C, d1, ..., dk) or (C) and int64 class indices `target` of shape (N), (N, d1, ..., dk) or
// (). A target equal to ignore_index contributes 0 and is left out of the mean, which divides by
// the summed weight of the targets taken (so by their number without `weight`):
//
// $$ \ell_n = -w_{t_n} x_{n, t_n}, \qquad \ell_{\text{mean}} = \frac{\sum_n \ell_n}{\sum_n w_{t_n}} $$
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                std::int64_t ignore_index = -100, Reduction reduction = kMean);

// nll_loss(log_softmax(input, class dim), ...) for logits `input`, computed as one operation with
// one backward: grad = (softmax(x) − target distribution) scaled by the weights. With
// label_smoothing ε the target distribution is (1 − ε) · one_hot(t) + ε / C. A floating `target`
// of the input's own shape holds class probabilities instead of indices (then ignore_index must
// stay negative, and the mean divides by the number of positions). The loss L at one position,
// with ℓ_c = log softmax(x)_c, and its gradient, with r_c = w_c·((1 − ε)·[c = t] + ε/C) and
// S = Σ_c r_c (docs/cross_entropy.md derives it):
//
// $$
// \begin{aligned}
// L &= (1 - \varepsilon) w_t (-\ell_t) \cr
// &\quad + \frac{\varepsilon}{C} \sum_c w_c (-\ell_c) \cr
// \frac{\partial L}{\partial x} &= S \operatorname{softmax}(x) - r
// \end{aligned}
// $$
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                     std::int64_t ignore_index = -100, Reduction reduction = kMean,
                     double label_smoothing = 0.0);

}  // namespace functional

// ---- Options ------------------------------------------------------------------------------------
// Chained setters with LibTorch's names: CrossEntropyLossOptions().weight(w).label_smoothing(0.1).

class MSELossOptions {
 public:
  MSELossOptions(Reduction reduction = kMean) : reduction_(reduction) {}  // NOLINT: as LibTorch's
  MSELossOptions& reduction(Reduction reduction) {
    reduction_ = reduction;
    return *this;
  }
  Reduction reduction() const { return reduction_; }

 private:
  Reduction reduction_;
};

class L1LossOptions {
 public:
  L1LossOptions(Reduction reduction = kMean) : reduction_(reduction) {}  // NOLINT: as LibTorch's
  L1LossOptions& reduction(Reduction reduction) {
    reduction_ = reduction;
    return *this;
  }
  Reduction reduction() const { return reduction_; }

 private:
  Reduction reduction_;
};

class BCEWithLogitsLossOptions {
 public:
  BCEWithLogitsLossOptions& weight(Tensor weight) {
    weight_ = std::move(weight);
    return *this;
  }
  BCEWithLogitsLossOptions& reduction(Reduction reduction) {
    reduction_ = reduction;
    return *this;
  }
  BCEWithLogitsLossOptions& pos_weight(Tensor pos_weight) {
    pos_weight_ = std::move(pos_weight);
    return *this;
  }
  const Tensor& weight() const { return weight_; }
  Reduction reduction() const { return reduction_; }
  const Tensor& pos_weight() const { return pos_weight_; }

 private:
  Tensor weight_;
  Reduction reduction_ = kMean;
  Tensor pos_weight_;
};

class NLLLossOptions {
 public:
  NLLLossOptions& weight(Tensor weight) {
    weight_ = std::move(weight);
    return *this;
  }
  NLLLossOptions& ignore_index(std::int64_t index) {
    ignore_index_ = index;
    return *this;
  }
  NLLLossOptions& reduction(Reduction reduction) {
    reduction_ = reduction;
    return *this;
  }
  const Tensor& weight() const { return weight_; }
  std::int64_t ignore_index() const { return ignore_index_; }
  Reduction reduction() const { return reduction_; }

 private:
  Tensor weight_;
  std::int64_t ignore_index_ = -100;
  Reduction reduction_ = kMean;
};

class CrossEntropyLossOptions {
 public:
  CrossEntropyLossOptions& weight(Tensor weight) {
    weight_ = std::move(weight);
    return *this;
  }
  CrossEntropyLossOptions& ignore_index(std::int64_t index) {
    ignore_index_ = index;
    return *this;
  }
  CrossEntropyLossOptions& reduction(Reduction reduction) {
    reduction_ = reduction;
    return *this;
  }
  CrossEntropyLossOptions& label_smoothing(double epsilon) {
    label_smoothing_ = epsilon;
    return *this;
  }
  const Tensor& weight() const { return weight_; }
  std::int64_t ignore_index() const { return ignore_index_; }
  Reduction reduction() const { return reduction_; }
  double label_smoothing() const { return label_smoothing_; }

 private:
  Tensor weight_;
  std::int64_t ignore_index_ = -100;
  Reduction reduction_ = kMean;
  double label_smoothing_ = 0.0;
};

// ---- Modules ------------------------------------------------------------------------------------
// Each calls its function with its options. A class weight (and BCEWithLogitsLoss's pos_weight)
// is registered as a buffer under PyTorch's name, so it is saved with the model and follows
// to(dtype); `weight` below is that buffer. They print as PyTorch prints them: "MSELoss()".

//   mg::nn::MSELoss criterion;  mg::Tensor loss = criterion(prediction, target);
class MSELoss : public Module {
 public:
  explicit MSELoss(MSELossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target) const;
  Tensor operator()(const Tensor& input, const Tensor& target) const {
    return forward(input, target);
  }
  MSELossOptions options;
};

//   mg::nn::L1Loss criterion(mg::nn::kSum);  mg::Tensor loss = criterion(prediction, target);
class L1Loss : public Module {
 public:
  explicit L1Loss(L1LossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target) const;
  Tensor operator()(const Tensor& input, const Tensor& target) const {
    return forward(input, target);
  }
  L1LossOptions options;
};

//   mg::nn::BCEWithLogitsLoss criterion(mg::nn::BCEWithLogitsLossOptions().pos_weight(pw));
class BCEWithLogitsLoss : public Module {
 public:
  explicit BCEWithLogitsLoss(BCEWithLogitsLossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target) const;
  Tensor operator()(const Tensor& input, const Tensor& target) const {
    return forward(input, target);
  }
  BCEWithLogitsLossOptions options;
  Tensor& weight;      // buffer "weight", undefined if none was given
  Tensor& pos_weight;  // buffer "pos_weight", undefined if none was given
};

//   mg::nn::NLLLoss criterion;  mg::Tensor loss = criterion(mg::log_softmax(logits, 1), labels);
class NLLLoss : public Module {
 public:
  explicit NLLLoss(NLLLossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target) const;
  Tensor operator()(const Tensor& input, const Tensor& target) const {
    return forward(input, target);
  }
  NLLLossOptions options;
  Tensor& weight;  // buffer "weight", undefined if none was given
};

//   mg::nn::CrossEntropyLoss criterion;  mg::Tensor loss = criterion(logits, labels);
class CrossEntropyLoss : public Module {
 public:
  explicit CrossEntropyLoss(CrossEntropyLossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target) const;
  Tensor operator()(const Tensor& input, const Tensor& target) const {
    return forward(input, target);
  }
  CrossEntropyLossOptions options;
  Tensor& weight;  // buffer "weight", undefined if none was given
};

}  // namespace minigrad::nn
