// The classification losses: nll_loss, and cross_entropy as one fused node.
//
// Both take a score for every class at every position (log-probabilities for nll_loss, logits
// for cross_entropy) and one class index per position:
//   input (N, C)              target (N)               one position per sample
//   input (N, C, d1, ..., dk) target (N, d1, ..., dk)  a position for each sample and (d1, ...)
//   input (C)                 target ()                a single unbatched sample
// The kernels see every input as (N, C, D), D = d1···dk (1 without extra dimensions): the scores
// of position p = n·D + d are the C elements (n, c, d), D apart in a contiguous tensor.
//
// cross_entropy is log_softmax over the classes followed by nll_loss, recorded as ONE node whose
// backward is the well-known softmax − target (docs/cross_entropy.md derives it, with the class
// weights, ignore_index and label smoothing). A floating target of the input's own shape holds
// class probabilities instead; that form is written with autograd ops, as PyTorch writes it.
// Read after nn/loss.cpp.
#include <cmath>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "nn/loss.h"
#include "nn/loss_common.h"

namespace minigrad::nn {

namespace {

// ---- Checks -----------------------------------------------------------------------------------

// A classification input seen as (N, C, D), and the shape of its unreduced loss.
struct ClassLayout {
  std::int64_t classes = 0;    // C
  std::int64_t positions = 1;  // D, the positions per sample
  std::int64_t class_dim = 0;  // 1, or 0 for an unbatched (C) input
  Shape loss_shape;            // the input's shape without the class dimension: (N, d1, ...)
};

// The layout of `input` with a class-index `target`, refusing a target of the wrong shape in
// PyTorch's words.
ClassLayout class_layout(const Tensor& input, const Tensor& target) {
  const std::int64_t rank = input.dim();
  check(rank >= 1, "Expected 1 or more dimensions (got {})", rank);
  ClassLayout layout;
  if (rank == 1) {
    check(target.dim() == 0, "size mismatch (got input: {}, target: {})", input.shape(),
          target.shape());
    layout.classes = input.size(0);
    return layout;
  }
  check(target.dim() >= 1, "size mismatch (got input: {}, target: {})", input.shape(),
        target.shape());
  check(input.size(0) == target.size(0),
        "Expected input batch_size ({}) to match target batch_size ({}).", input.size(0),
        target.size(0));
  layout.classes = input.size(1);
  layout.class_dim = 1;
  layout.loss_shape = input.shape();
  layout.loss_shape.erase(layout.loss_shape.begin() + 1);
  for (std::int64_t d = 2; d < rank; ++d) layout.positions *= input.size(d);
  if (rank == 2)
    check(target.dim() == 1, "0D or 1D target tensor expected, multi-target not supported");
  else
    check(target.shape() == layout.loss_shape, "Expected target size {}, got {}", layout.loss_shape,
          target.shape());
  return layout;
}

// Refuses a class weight that is not one number per class of the input's dtype.
void check_class_weight(const Tensor& weight, std::int64_t classes, Dtype dtype) {
  if (!weight.defined()) return;
  check(weight.dim() == 1 && weight.numel() == classes,
        "weight tensor should be defined either for all {} classes or no classes but got weight "
        "tensor of shape: {}",
        classes, weight.shape());
  check(weight.dtype() == dtype, "expected scalar type {} but found {}", dtype_name(dtype),
        dtype_name(weight.dtype()));
}

// Refuses a class index outside [0, C) that is not ignore_index. `target` is contiguous int64.
void check_targets_in_range(const Tensor& target, std::int64_t classes, std::int64_t ignore_index) {
  const std::int64_t* t = target.data_ptr<std::int64_t>();
  for (std::int64_t p = 0; p < target.numel(); ++p)
    check(t[p] == ignore_index || (t[p] >= 0 && t[p] < classes), "Target {} is out of bounds.",
          t[p]);
}

void check_label_smoothing(double epsilon) {
  check(epsilon >= 0.0 && epsilon <= 1.0, "label_smoothing must be between 0.0 and 1.0. Got: {}",
        epsilon);
}

// ---- Kernels ----------------------------------------------------------------------------------

// Where the scores of position p start in a contiguous (N, C, D) tensor; they are D apart.
std::int64_t row_start(std::int64_t p, const ClassLayout& layout) {
  const std::int64_t D = layout.positions;
  return (p / D) * layout.classes * D + p % D;
}

// The loss of every position, from log-probabilities logp (N, C, D) and class indices t (N·D):
//   loss_p = (1 − ε) · w_t · (−logp_t) + (ε / C) · Σ_c w_c · (−logp_c)
// and 0 where t = ignore_index. Returns the losses (N·D) and Σ w_t over the positions not
// ignored, the denominator of the mean. A missing weight is 1. With ε = 0 (always, for nll_loss)
// the sum over classes is skipped, so a class whose logp is −inf (masked out) does no harm.
template <class T>
std::pair<Tensor, double> class_losses(const Tensor& logp, const Tensor& target,
                                       const Tensor& weight, const ClassLayout& layout,
                                       std::int64_t ignore_index, double epsilon) {
  const std::int64_t C = layout.classes, D = layout.positions;
  const std::int64_t P = target.numel();
  Tensor losses = empty({P}, logp.dtype());
  T* loss = losses.data_ptr<T>();
  const T* lp = logp.data_ptr<T>();
  const std::int64_t* t = target.data_ptr<std::int64_t>();
  const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;
  const auto weight_of = [w](std::int64_t c) { return w ? static_cast<double>(w[c]) : 1.0; };
  double total_weight = 0;
  for (std::int64_t p = 0; p < P; ++p) {
    if (t[p] == ignore_index) {
      loss[p] = 0;
      continue;
    }
    const T* row = lp + row_start(p, layout);
    double value = (1 - epsilon) * weight_of(t[p]) * -static_cast<double>(row[t[p] * D]);
    if (epsilon > 0) {
      double smooth = 0;  // Σ_c w_c · (−logp_c)
      for (std::int64_t c = 0; c < C; ++c) smooth -= weight_of(c) * row[c * D];
      value += epsilon / static_cast<double>(C) * smooth;
    }
    loss[p] = static_cast<T>(value);
    total_weight += weight_of(t[p]);
  }
  return {losses, total_weight};
}

// The per-position losses reduced: kept in the loss shape, summed, or summed and divided by the
// total weight of the targets taken (0/0 = nan when there are none, as in PyTorch).
Tensor reduce_losses(const Tensor& losses, const ClassLayout& layout, Reduction reduction,
                     double total_weight) {
  NoGradGuard no_grad;
  switch (reduction) {
    case kNone:
      return losses.view(layout.loss_shape);
    case kSum:
      return losses.sum();
    case kMean:
      return losses.sum() / total_weight;
  }
  throw Error("reduce_losses: unknown reduction");
}

// The factor the gradient of position p's loss carries: the upstream gradient of that position
// (kNone), or the single upstream gradient g, divided by the total weight for the mean.
struct UpstreamScale {
  std::vector<double> per_position;  // kNone: the upstream gradient of every position
  double shared = 0;                 // kSum: g; kMean: g / Σ w_t
  double operator()(std::int64_t p) const {
    return per_position.empty() ? shared : per_position[static_cast<std::size_t>(p)];
  }
};

UpstreamScale upstream_scale(const Tensor& grad, Reduction reduction, double total_weight) {
  if (reduction == kNone) return {grad.to(kFloat64).contiguous().to_vector<double>(), 0};
  const double g = grad.to(kFloat64).item<double>();
  return {{}, reduction == kMean ? g / total_weight : g};
}

// Adds −scale_p · (1 − ε) · w_t at (p, t) for every position not ignored: the part of the
// gradient that comes from the target's own term, −(1 − ε) · w_t · logp_t.
template <class T>
void add_target_term(T* grad, const Tensor& target, const Tensor& weight, const ClassLayout& layout,
                     std::int64_t ignore_index, double epsilon, const UpstreamScale& scale) {
  const std::int64_t* t = target.data_ptr<std::int64_t>();
  const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;
  for (std::int64_t p = 0; p < target.numel(); ++p) {
    if (t[p] == ignore_index) continue;
    const double w_t = w ? static_cast<double>(w[t[p]]) : 1.0;
    T& g = grad[row_start(p, layout) + t[p] * layout.positions];
    g = static_cast<T>(g - scale(p) * (1 - epsilon) * w_t);
  }
}

// Writes scale_p · (S_p · softmax_c − (ε / C) · w_c) at every (p, c) of a position not ignored,
// with softmax_c = exp(logp_c) and S_p = (1 − ε) · w_t + (ε / C) · Σ_c w_c; add_target_term
// then completes the gradient of cross_entropy. `grad` starts as zeros.
template <class T>
void add_softmax_term(T* grad, const Tensor& logp, const Tensor& target, const Tensor& weight,
                      const ClassLayout& layout, std::int64_t ignore_index, double epsilon,
                      const UpstreamScale& scale) {
  const std::int64_t C = layout.classes, D = layout.positions;
  const T* lp = logp.data_ptr<T>();
  const std::int64_t* t = target.data_ptr<std::int64_t>();
  const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;
  const auto weight_of = [w](std::int64_t c) { return w ? static_cast<double>(w[c]) : 1.0; };
  double weight_sum = 0;  // Σ_c w_c
  for (std::int64_t c = 0; c < C; ++c) weight_sum += weight_of(c);
  const double share = epsilon / static_cast<double>(C);  // ε / C
  for (std::int64_t p = 0; p < target.numel(); ++p) {
    if (t[p] == ignore_index) continue;
    const std::int64_t start = row_start(p, layout);
    // Per position in double: k = scale_p, k·S_p and k·ε/C; per element in T, one exp each.
    const double k = scale(p);
    const auto k_s = static_cast<T>(k * ((1 - epsilon) * weight_of(t[p]) + share * weight_sum));
    const auto k_share = static_cast<T>(k * share);
    for (std::int64_t c = 0; c < C; ++c) {
      const T w_c = w ? w[c] : T{1};
      grad[start + c * D] = k_s * std::exp(lp[start + c * D]) - k_share * w_c;
    }
  }
}

// ---- Class probabilities ----------------------------------------------------------------------

// loss = reduce(−Σ_c w_c · q̃_c · logp_c) over the class dimension, q̃ = (1 − ε) · q + ε / C for
// target probabilities q of the input's shape; the mean is over positions. Autograd ops, as in
// PyTorch, so q and the weight receive gradients as well.
Tensor cross_entropy_with_probabilities(const Tensor& input, const Tensor& target,
                                        const Tensor& weight, std::int64_t ignore_index,
                                        Reduction reduction, double epsilon) {
  check(is_floating(target.dtype()),
        "Expected floating point type for target with class probabilities, got {}",
        dtype_name(target.dtype()));
  check(ignore_index < 0, "ignore_index is not supported for floating point target");
  const std::int64_t class_dim = input.dim() == 1 ? 0 : 1;
  const std::int64_t classes = input.size(class_dim);
  if (weight.defined())
    check(weight.dim() == 1 && weight.numel() == classes,
          "cross_entropy: weight tensor should be defined either for all {} classes or no "
          "classes but got weight tensor of shape: {}",
          classes, weight.shape());
  check_label_smoothing(epsilon);

  const Tensor logp = log_softmax(input, class_dim);  // the input's shape
  const Tensor q =
      epsilon > 0 ? target * (1 - epsilon) + epsilon / static_cast<double>(classes) : target;
  Tensor terms = logp * q;  // the input's shape
  if (weight.defined()) {
    Shape along_classes(static_cast<std::size_t>(input.dim()), 1);
    along_classes[static_cast<std::size_t>(class_dim)] = classes;
    terms = terms * weight.view(along_classes);
  }
  return apply_reduction(-terms.sum(class_dim), reduction);  // (N, d1, ...) before reduction
}

}  // namespace

namespace functional {

// loss_p = −w_t · input[p, t] for each position p with class index t; see class_losses
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight,
                std::int64_t ignore_index, Reduction reduction) {
  check_defined(input, target, "nll_loss");
  const ClassLayout layout = class_layout(input, target);
  check(target.dtype() == kInt64, "expected scalar type Long but found {}",
        dtype_name(target.dtype()));
  check(is_floating(input.dtype()), "\"nll_loss_out_frame\" not implemented for '{}'",
        dtype_name(input.dtype()));
  check_class_weight(weight, layout.classes, input.dtype());
  check_constant(weight, "nll_loss_forward", "weight");
  const Tensor t = target.contiguous(), w = weight.defined() ? weight.contiguous() : Tensor();
  check_targets_in_range(t, layout.classes, ignore_index);

  Tensor x;
  {
    NoGradGuard no_grad;
    x = input.contiguous();
  }
  const auto [losses, total_weight] = dispatch_floating(input.dtype(), "nll_loss", [&]<class T>() {
    return class_losses<T>(x, t, w, layout, ignore_index, /*epsilon=*/0.0);
  });
  const Tensor out = reduce_losses(losses, layout, reduction, total_weight);
  // The forward was loss_p = −w_t · x[p, t], so ∂loss_p/∂x[p, c] = −w_t where c = t and 0
  // elsewhere: grad_x is zero except at each target taken, where it is −w_t times the upstream
  // gradient of that position (divided by Σ w_t for the mean). Saves the target and the weight;
  // the values of x are not needed.
  return record("NllLossBackward0", {input}, out,
                [t_saved = save(t), w_saved = save(w), layout, ignore_index, reduction,
                 total_weight, shape = input.shape()](const Tensor& grad) {
                  const Tensor t = t_saved.unpack(), w = w_saved.unpack();
                  const UpstreamScale scale = upstream_scale(grad, reduction, total_weight);
                  Tensor grad_x = zeros(shape, grad.dtype());
                  dispatch_floating(grad.dtype(), "nll_loss_backward", [&]<class T>() {
                    add_target_term(grad_x.data_ptr<T>(), t, w, layout, ignore_index, 0.0, scale);
                  });
                  return grads(grad_x);
                });
}

// loss_p = (1 − ε) · w_t · (−logp_t) + (ε / C) · Σ_c w_c · (−logp_c),  logp = log_softmax(x)
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                     std::int64_t ignore_index, Reduction reduction, double label_smoothing) {
  check_defined(input, target, "cross_entropy");
  if (input.dim() > 0 && target.shape() == input.shape())
    return cross_entropy_with_probabilities(input, target, weight, ignore_index, reduction,
                                            label_smoothing);
  const double epsilon = label_smoothing;
  check_label_smoothing(epsilon);
  const ClassLayout layout = class_layout(input, target);
  check(target.dtype() == kInt64,
        "expected scalar type Long but found {}: cross_entropy takes class indices as an int64 "
        "target of shape (N) or (N, d1, ...), or class probabilities as a floating target of the "
        "input's shape {}",
        dtype_name(target.dtype()), input.shape());
  const bool last = layout.class_dim == input.dim() - 1;
  check(is_floating(input.dtype()), "\"{}\" not implemented for '{}'",
        last ? "log_softmax_lastdim_kernel_impl" : "softmax_kernel_impl",
        dtype_name(input.dtype()));
  check_class_weight(weight, layout.classes, input.dtype());
  check_constant(weight, "cross_entropy", "weight");
  const Tensor t = target.contiguous(), w = weight.defined() ? weight.contiguous() : Tensor();
  check_targets_in_range(t, layout.classes, ignore_index);

  Tensor logp;  // the input's shape, contiguous
  {
    NoGradGuard no_grad;
    logp = log_softmax(input, layout.class_dim);
  }
  const auto [losses, total_weight] = dispatch_floating(
      input.dtype(), "cross_entropy",
      [&]<class T>() { return class_losses<T>(logp, t, w, layout, ignore_index, epsilon); });
  const Tensor out = reduce_losses(losses, layout, reduction, total_weight);
  // The forward was loss_p = −Σ_c r_c · logp_c with r_c = w_c · ((1 − ε) · [c = t] + ε / C) and
  // logp = log_softmax(x), so (docs/cross_entropy.md)
  //   ∂loss_p/∂x_c = S_p · softmax(x)_c − r_c,   S_p = Σ_c r_c = (1 − ε) · w_t + (ε / C) · Σ_c w_c,
  // times the upstream gradient of p (divided by Σ w_t for the mean); zero at ignored positions.
  // Without weights or smoothing this is softmax(x) − one_hot(t). Saves logp (softmax is
  // exp(logp)), the target and the weight.
  return record("CrossEntropyLossBackward0", {input}, out,
                [logp_saved = save(logp), t_saved = save(t), w_saved = save(w), layout,
                 ignore_index, reduction, epsilon, total_weight](const Tensor& grad) {
                  const Tensor logp = logp_saved.unpack(), t = t_saved.unpack();
                  const Tensor w = w_saved.unpack();
                  const UpstreamScale scale = upstream_scale(grad, reduction, total_weight);
                  Tensor grad_x = zeros(logp.shape(), logp.dtype());
                  dispatch_floating(logp.dtype(), "cross_entropy_backward", [&]<class T>() {
                    T* g = grad_x.data_ptr<T>();
                    add_softmax_term(g, logp, t, w, layout, ignore_index, epsilon, scale);
                    add_target_term(g, t, w, layout, ignore_index, epsilon, scale);
                  });
                  return grads(grad_x);
                });
}

}  // namespace functional

}  // namespace minigrad::nn
