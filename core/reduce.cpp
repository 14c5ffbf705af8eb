// Reductions: sum, mean and max over all elements or along dimensions, and their backward.
//
// A sum along some dimensions is one loop over the input in which every element is added into
// the output cell it collapses onto. That cell is found with the same stride trick as
// broadcasting, in reverse: the output, viewed with stride 0 along the reduced dimensions, has
// one cell for every input element. Float sums accumulate in double, so a long sum in float32
// loses no more than one rounding. A mean is that sum divided by the count, as in PyTorch.
//
// max along one dimension works row by row instead: a row is the line of elements that differ
// only in their index along that dimension, and its maximum is found with a plain loop that
// also remembers where the maximum was. That index is what the backward needs: the gradient of
// a row goes to its winner alone. Read after views.cpp; softmax.cpp reuses the rows idea.
#include <algorithm>
#include <functional>
#include <cmath>

#include "core/autograd.h"
#include "core/broadcast.h"
#include "core/kernel.h"
#include "core/parallel.h"

namespace minigrad {

namespace {

// Marks the dimensions listed in `dims` (negative allowed) among `rank`.
std::vector<bool> reduced_mask(const Shape& dims, std::int64_t rank) {
  std::vector<bool> mask(static_cast<std::size_t>(std::max<std::int64_t>(rank, 1)), false);
  for (std::int64_t d : dims) {
    const auto w = static_cast<std::size_t>(wrap_dim(d, rank));
    check(!mask[w], "dim {} appears multiple times in the list of dims", w);
    mask[w] = true;
  }
  return mask;
}

// All dimensions of a tensor of `rank`: what a reduction without dims reduces.
Shape all_dims(std::int64_t rank) {
  Shape dims(static_cast<std::size_t>(rank));
  for (std::size_t d = 0; d < dims.size(); ++d) dims[d] = static_cast<std::int64_t>(d);
  return dims;
}

// The shape with the reduced dimensions kept as size 1.
Shape kept_shape(const Shape& shape, const std::vector<bool>& reduced) {
  Shape out = shape;
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (reduced[d]) out[d] = 1;
  return out;
}

// The shape with the reduced dimensions removed.
Shape dropped_shape(const Shape& shape, const std::vector<bool>& reduced) {
  Shape out;
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (!reduced[d]) out.push_back(shape[d]);
  return out;
}

// How many elements collapse onto each output cell: the product of the reduced sizes.
std::int64_t reduced_count(const Shape& shape, const std::vector<bool>& reduced) {
  std::int64_t n = 1;
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (reduced[d]) n *= shape[d];
  return n;
}

// Strides of a contiguous tensor of `kept` with 0 along the reduced dimensions: every input
// element's offset in it is the output cell the element is summed into.
Shape collapsing_strides(const Shape& kept, const std::vector<bool>& reduced) {
  Shape strides = contiguous_strides(kept);
  for (std::size_t d = 0; d < kept.size(); ++d)
    if (reduced[d]) strides[d] = 0;
  return strides;
}

// Σ of n contiguous floating values in double: the loss of a training step (mean of a whole
// output) takes this path. Eight running sums side by side, so that the compiler can keep them
// in vector registers without reordering any one sum, and one block of the values per thread
// (core/parallel.h) above 256K of them; the blocks' sums are added in order at the end.
template <class T>
double contiguous_sum(const T* x, std::int64_t n) {
  const int parts = parts_for(static_cast<double>(n), 1 << 18);
  std::vector<double> block_sums(static_cast<std::size_t>(parts), 0.0);
  parallel_ranges(n, parts, [&](int part, std::int64_t from, std::int64_t to) {
    double lanes[8] = {};
    std::int64_t i = from;
    for (; i + 8 <= to; i += 8)
      for (int j = 0; j < 8; ++j) lanes[j] += static_cast<double>(x[i + j]);
    double total = 0;
    for (; i < to; ++i) total += static_cast<double>(x[i]);
    for (double lane : lanes) total += lane;
    block_sums[static_cast<std::size_t>(part)] = total;
  });
  double total = 0;
  for (double block : block_sums) total += block;
  return total;
}

// The sums of x over the reduced dimensions, as a fresh tensor of shape `kept` (x's shape with
// size 1 along them). Integers and bools sum to int64, as in PyTorch.
Tensor sum_kernel(const Tensor& x, const std::vector<bool>& reduced, const Shape& kept) {
  if (is_floating(x.dtype()) && x.is_contiguous() && shape_numel(kept) == 1) {
    Tensor out = empty(kept, x.dtype());
    dispatch_floating(x.dtype(), "sum", [&]<class T>() {
      *out.data_ptr<T>() = static_cast<T>(contiguous_sum(x.data_ptr<T>(), x.numel()));
    });
    return out;
  }
  const Shape strides_in = collapsing_strides(kept, reduced);
  const Dtype out_dtype = is_floating(x.dtype()) ? x.dtype() : kInt64;
  Tensor out = empty(kept, out_dtype);
  dispatch(x.dtype(), [&]<class T>() {
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;
    using Out = std::conditional_t<std::is_floating_point_v<T>, T, std::int64_t>;
    std::vector<Acc> acc(static_cast<std::size_t>(shape_numel(kept)), Acc{0});
    const T* in = x.data_ptr<T>();
    for_each_offset<2>(x.shape(), {&strides_in, &x.strides()},
                       [&](const auto& at) {
                         acc[at[0]] = wrapping(acc[at[0]], static_cast<Acc>(in[at[1]]), std::plus<>());
                       });
    Out* y = out.data_ptr<Out>();
    for (std::size_t i = 0; i < acc.size(); ++i) y[i] = convert<Out>(acc[i]);
  });
  return out;
}

// y = Σ x over `dims`, recorded under PyTorch's node name for the overload that was called.
Tensor sum_over(const Tensor& x, const Shape& dims, bool keepdim, const char* node) {
  const std::vector<bool> reduced = reduced_mask(dims, x.dim());
  const Shape kept = kept_shape(x.shape(), reduced);
  Tensor out = sum_kernel(x, reduced, kept);
  if (!keepdim) out = out.view(dropped_shape(x.shape(), reduced));

  // The forward was y = Σ x over some dimensions, so ∂y/∂x = 1 for every element that was
  // summed: grad_x is grad_y copied back along the reduced dimensions (an expand; no copy).
  return record(node, {x}, out, [in = x.shape(), kept](const Tensor& grad) {
    return grads(grad.reshape(kept).expand(in));
  });
}

// y = (1/n) Σ x over `dims`, n the number of elements summed into each output.
Tensor mean_over(const Tensor& x, const Shape& dims, bool keepdim, const char* node) {
  check(is_floating(x.dtype()),
        "mean(): could not infer output dtype. Input dtype must be either a floating point or "
        "complex dtype. Got: {}",
        dtype_name(x.dtype()));
  const std::vector<bool> reduced = reduced_mask(dims, x.dim());
  const Shape kept = kept_shape(x.shape(), reduced);
  const std::int64_t n = reduced_count(x.shape(), reduced);
  // PyTorch rounds the sum to x's dtype and then divides, so do we (an empty mean is 0/0 = nan).
  Tensor out = sum_kernel(x, reduced, kept);
  dispatch_floating(x.dtype(), "mean", [&]<class T>() {
    T* y = out.data_ptr<T>();
    for (std::int64_t i = 0; i < out.numel(); ++i) y[i] /= static_cast<T>(n);
  });
  if (!keepdim) out = out.view(dropped_shape(x.shape(), reduced));

  // The forward was y = (1/n) Σ x over some dimensions, so ∂y/∂x = 1/n for every element that
  // was averaged: grad_x is grad_y / n copied back along the reduced dimensions.
  return record(node, {x}, out, [in = x.shape(), kept, n](const Tensor& grad) {
    return grads((grad / n).reshape(kept).expand(in));
  });
}

// Whether v replaces best as the running maximum. NaN beats every number, so that max, like
// PyTorch's, propagates NaN; on ties the earlier element stays, so its index is the first.
template <class T>
bool beats(T v, T best) {
  if constexpr (std::is_floating_point_v<T>)
    return v > best || (std::isnan(v) && !std::isnan(best));
  else
    return v > best;
}

// The maximum of every row of x along d and its index, as fresh tensors of the rows' shape
// (x's shape with size 1 at d). Every row must be non-empty.
std::tuple<Tensor, Tensor> max_kernel(const Tensor& x, std::int64_t d) {
  const Rows rows = rows_along(x.shape(), x.strides(), d);
  Tensor values = empty(rows.shape, x.dtype());
  Tensor indices = empty(rows.shape, kInt64);
  const Shape& out_strides = values.strides();  // indices has the same
  dispatch(x.dtype(), [&]<class T>() {
    const T* in = x.data_ptr<T>();
    T* best_value = values.data_ptr<T>();
    std::int64_t* best_index = indices.data_ptr<std::int64_t>();
    for_each_offset<2>(rows.shape, {&x.strides(), &out_strides}, [&](const auto& at) {
      const T* row = in + at[0];
      T best = row[0];
      std::int64_t index = 0;
      for (std::int64_t k = 1; k < rows.length; ++k) {
        if (beats(row[k * rows.stride], best)) {
          best = row[k * rows.stride];
          index = k;
        }
      }
      best_value[at[1]] = best;
      best_index[at[1]] = index;
    });
  });
  return {values, indices};
}

// The backward of max along d: zeros of x's shape (`in`) with each row's gradient written at
// the index of that row's maximum. `grad` and `indices` have the rows' shape.
Tensor scatter_rows(const Tensor& grad, const Tensor& indices, const Shape& in, std::int64_t d) {
  Tensor grad_x = zeros(in, grad.dtype());
  const Rows rows = rows_along(grad_x.shape(), grad_x.strides(), d);
  dispatch_floating(grad.dtype(), "max_backward", [&]<class T>() {
    T* gx = grad_x.data_ptr<T>();
    const T* gy = grad.data_ptr<T>();
    const std::int64_t* index = indices.data_ptr<std::int64_t>();
    for_each_offset<3>(rows.shape, {&grad_x.strides(), &grad.strides(), &indices.strides()},
                       [&](const auto& at) { gx[at[0] + index[at[2]] * rows.stride] = gy[at[1]]; });
  });
  return grad_x;
}

// The backward of the full max: zeros of x's shape with grad / k at each of the k elements
// equal to the maximum y (at each NaN, when y is NaN). grad and y are 0-d.
Tensor share_among_maxima(const Tensor& grad, const Tensor& x, const Tensor& y) {
  Tensor grad_x = zeros(x.shape(), x.dtype());
  dispatch_floating(x.dtype(), "max_backward", [&]<class T>() {
    const T* in = x.data_ptr<T>();
    const T top = y.item<T>();
    auto wins = [top](T v) { return v == top || (std::isnan(v) && std::isnan(top)); };
    std::int64_t k = 0;
    for_each_offset<1>(x.shape(), {&x.strides()}, [&](const auto& at) {
      if (wins(in[at[0]])) ++k;
    });
    const T share = grad.item<T>() / static_cast<T>(k);
    T* gx = grad_x.data_ptr<T>();
    for_each_offset<2>(x.shape(), {&grad_x.strides(), &x.strides()}, [&](const auto& at) {
      if (wins(in[at[1]])) gx[at[0]] = share;
    });
  });
  return grad_x;
}

}  // namespace

// ---- sum ------------------------------------------------------------------------------------

// y = Σ x over the dimensions in `dims` (all of them when `dims` is empty)
Tensor Tensor::sum(const Shape& dims, bool keepdim) const {
  return sum_over(*this, dims.empty() ? all_dims(dim()) : dims, keepdim, "SumBackward1");
}

Tensor Tensor::sum() const { return sum_over(*this, all_dims(dim()), false, "SumBackward0"); }
Tensor Tensor::sum(std::int64_t d, bool keepdim) const {
  return sum_over(*this, Shape{d}, keepdim, "SumBackward1");
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const std::size_t lead = grad.shape().size() - shape.size();
  Shape dims;
  for (std::size_t d = 0; d < grad.shape().size(); ++d)
    if (d < lead || (shape[d - lead] == 1 && grad.shape()[d] != 1))
      dims.push_back(static_cast<std::int64_t>(d));
  if (dims.empty()) return grad.reshape(shape);
  return grad.sum(dims, true).reshape(shape);
}

// ---- mean -----------------------------------------------------------------------------------

Tensor Tensor::mean() const { return mean_over(*this, all_dims(dim()), false, "MeanBackward0"); }
Tensor Tensor::mean(std::int64_t d, bool keepdim) const {
  return mean_over(*this, Shape{d}, keepdim, "MeanBackward1");
}

// ---- max and argmax -------------------------------------------------------------------------

// y = max x over all elements (0-d)
Tensor Tensor::max() const {
  check(numel() > 0,
        "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
        "reduction dim with the 'dim' argument.");
  Tensor out = empty({}, dtype());
  dispatch(dtype(), [&]<class T>() {
    const T* in = data_ptr<T>();
    T best = in[0];
    for_each_offset<1>(shape(), {&strides()}, [&](const auto& at) {
      if (beats(in[at[0]], best)) best = in[at[0]];
    });
    *out.data_ptr<T>() = best;
  });

  // The forward was y = max x, so ∂y/∂x_i = 1 where x_i is the maximum and 0 elsewhere. When k
  // elements tie for the maximum, PyTorch shares the gradient evenly: grad_x_i = grad_y / k at
  // each of them (at the NaNs, when the maximum is NaN). Saves x and y to find the winners.
  return record("MaxBackward1", {*this}, out,
                [x_saved = save(*this), y_saved = save(out)](const Tensor& grad) {
                  return grads(share_among_maxima(grad, x_saved.unpack(), y_saved.unpack()));
                });
}

// (values, indices) = the maximum of x along `dim` and where it is (the first, on ties)
std::tuple<Tensor, Tensor> Tensor::max(std::int64_t dim_, bool keepdim) const {
  const std::int64_t d = wrap_dim(dim_, dim());
  check(dim() == 0 || size(d) > 0, "max(): Expected reduction dim {} to have non-zero size.", d);
  auto [values, indices] = max_kernel(*this, d);  // x's shape with size 1 at d
  const Shape kept = values.shape();
  const Tensor kept_indices = indices;
  if (!keepdim && dim() > 0) {
    Shape dropped = kept;
    dropped.erase(dropped.begin() + d);
    values = values.view(dropped);
    indices = indices.view(dropped);
  }

  // The forward was y = x_{index} along dim, one element picked per row, so ∂y/∂x is 1 at the
  // picked element and 0 elsewhere: grad_x is zero except at each row's index, where it is
  // that row's grad_y. Saves only the indices.
  values = record("MaxBackward0", {*this}, values,
                  [indices_saved = save(kept_indices), in = shape(), kept, d](const Tensor& grad) {
                    return grads(scatter_rows(grad.reshape(kept), indices_saved.unpack(), in, d));
                  });
  return {values, indices};
}

// y = the index of the maximum of x along `dim` (the first, on ties); int64, not differentiable
Tensor Tensor::argmax(std::int64_t dim_, bool keepdim) const {
  const std::int64_t d = wrap_dim(dim_, dim());
  check(dim() == 0 || size(d) > 0, "argmax(): Expected reduction dim {} to have non-zero size.",
        d);
  check(dtype() != kBool, "\"argmax_cpu\" not implemented for 'Bool'");
  Tensor indices = std::get<1>(max_kernel(*this, d));
  if (keepdim || dim() == 0) return indices;
  Shape dropped = indices.shape();
  dropped.erase(dropped.begin() + d);
  return indices.view(dropped);
}

}  // namespace minigrad
