// Reductions: sum, mean and max over all elements or along dimensions, and their backward.
//
// A reduction along some dimensions is one loop over the input in which every element is added
// into the output cell it collapses onto. That cell is found with the same stride trick as
// broadcasting, in reverse: the output, viewed with stride 0 along the reduced dimensions, has
// one cell for every input element. Float sums accumulate in double, so a long sum in float32
// loses no more than one rounding. Read after views.cpp.
#include <algorithm>

#include "core/autograd.h"
#include "core/broadcast.h"
#include "core/kernel.h"

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

// Strides of a contiguous tensor of `kept` with 0 along the reduced dimensions: every input
// element's offset in it is the output cell the element is summed into.
Shape collapsing_strides(const Shape& kept, const std::vector<bool>& reduced) {
  Shape strides = contiguous_strides(kept);
  for (std::size_t d = 0; d < kept.size(); ++d)
    if (reduced[d]) strides[d] = 0;
  return strides;
}

}  // namespace

// y = Σ x over the dimensions in `dims` (all of them when `dims` is empty)
Tensor Tensor::sum(const Shape& dims, bool keepdim) const {
  checked();
  Shape all(static_cast<std::size_t>(dim()));
  for (std::size_t d = 0; d < all.size(); ++d) all[d] = static_cast<std::int64_t>(d);
  const std::vector<bool> reduced = reduced_mask(dims.empty() ? all : dims, dim());
  const Shape kept = kept_shape(shape(), reduced);
  const Shape strides_in = collapsing_strides(kept, reduced);
  // Integers and bools sum to int64, as in PyTorch.
  const Dtype out_dtype = is_floating(dtype()) ? dtype() : kInt64;

  Tensor out = empty(kept, out_dtype);
  dispatch(dtype(), [&]<class T>() {
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;
    using Out = std::conditional_t<std::is_floating_point_v<T>, T, std::int64_t>;
    std::vector<Acc> acc(static_cast<std::size_t>(shape_numel(kept)), Acc{0});
    const T* x = data_ptr<T>();
    for_each_offset<2>(shape(), {&strides_in, &strides()},
                       [&](const auto& at) { acc[at[0]] += static_cast<Acc>(x[at[1]]); });
    Out* y = out.data_ptr<Out>();
    for (std::size_t i = 0; i < acc.size(); ++i) y[i] = static_cast<Out>(acc[i]);
  });
  if (!keepdim) out = out.view(dropped_shape(shape(), reduced));

  // The forward was y = Σ x over some dimensions, so ∂y/∂x = 1 for every element that was
  // summed: grad_x is grad_y copied back along the reduced dimensions (an expand; no copy).
  return record("SumBackward1", {*this}, out, [in = shape(), kept](const Tensor& grad) {
    return grads(grad.reshape(kept).expand(in));
  });
}

Tensor Tensor::sum() const { return sum(Shape{}, false); }
Tensor Tensor::sum(std::int64_t d, bool keepdim) const { return sum(Shape{d}, keepdim); }

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

}  // namespace minigrad
