// Joining and indexing: cat, stack, index_select and gather, and their backward.
//
// cat and stack put tensors side by side; their backward cuts the gradient back into the pieces
// (a narrow() per input). index_select and gather read elements chosen by an int64 index; their
// backward is the reverse, a scatter-add: each gradient element is added back into the place it
// was read from, so a place read twice gets both gradients.
//
// One pair of kernels serves both indexing ops. gather reads, for every position p of the
// output, the input at p with its coordinate along `dim` replaced by index[p]:
//   dim 0:  out[i][j][k] = x[index[i][j][k]][j][k]
// index_select is the same read with a 1-D index broadcast along the other dimensions (a stride
// of 0, as in kernel.h), so that out[i][j][k] = x[i][index[j]][k] for dim 1. Read after
// reduce.cpp; matmul.cpp comes next.
#include <algorithm>
#include <optional>

#include "core/autograd.h"
#include "core/kernel.h"

namespace minigrad {

namespace {

// ---- Kernels ----------------------------------------------------------------------------------

// out[p] = x[p with its coordinate along d replaced by index[p]], for every position p of
// `shape`. The index is read through `index_strides`, given over `shape`.
//   x (…, X_d, …)   index and out: `shape`, of x's rank, sizes no larger than x's apart from d
Tensor gather_values(const Tensor& x, std::size_t d, const Tensor& index,
                     const Shape& index_strides, const Shape& shape) {
  Tensor out = empty(shape, x.dtype());
  // Along d, x's offset comes from the index, not from p: stride 0 there, and step per index.
  Shape x_strides = x.strides();
  const std::int64_t step = x_strides[d];
  x_strides[d] = 0;
  const std::int64_t* idx = index.data_ptr<std::int64_t>();
  dispatch(x.dtype(), [&]<class T>() {
    T* y = out.data_ptr<T>();
    const T* src = x.data_ptr<T>();
    for_each_offset<3>(shape, {&out.strides(), &index_strides, &x_strides},
                       [&](const auto& at) { y[at[0]] = src[at[2] + idx[at[1]] * step]; });
  });
  return out;
}

// The reverse of gather_values: grad_x starts as zeros of `x_shape`, and for every position p
// of grad's shape, grad_x[p with its coordinate along d replaced by index[p]] += grad[p].
// Places named twice by the index receive the sum.
//   grad and index: grad's shape   grad_x: x_shape
Tensor scatter_add_values(const Tensor& grad, std::size_t d, const Tensor& index,
                          const Shape& index_strides, const Shape& x_shape) {
  Tensor grad_x = zeros(x_shape, grad.dtype());
  Shape grad_x_strides = grad_x.strides();
  const std::int64_t step = grad_x_strides[d];
  grad_x_strides[d] = 0;
  const std::int64_t* idx = index.data_ptr<std::int64_t>();
  dispatch_floating(grad.dtype(), "scatter_add", [&]<class T>() {
    T* gx = grad_x.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    for_each_offset<3>(grad.shape(), {&grad_x_strides, &index_strides, &grad.strides()},
                       [&](const auto& at) { gx[at[0] + idx[at[1]] * step] += g[at[2]]; });
  });
  return grad_x;
}

// The first value of an int64 `index` outside [0, size), if there is one.
std::optional<std::int64_t> first_out_of_range(const Tensor& index, std::int64_t size) {
  const std::int64_t* idx = index.data_ptr<std::int64_t>();
  std::optional<std::int64_t> bad;
  for_each_offset<1>(index.shape(), {&index.strides()}, [&](const auto& at) {
    const std::int64_t i = idx[at[0]];
    if (!bad && (i < 0 || i >= size)) bad = i;
  });
  return bad;
}

// PyTorch's legacy rule: a 1-D empty tensor (shape (0,)) in cat's list stands for "nothing" and
// is skipped, whatever the rank of the others — once the only empty tensor there was.
bool skipped_by_cat(const Tensor& t) { return t.dim() == 1 && t.numel() == 0; }

}  // namespace

// ---- Joining ------------------------------------------------------------------------------------

// y = [x_0, x_1, …] laid end to end along `dim`
//   x_i (…, N_i, …)  ->  y (…, N_0 + N_1 + …, …)
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  for (std::size_t i = 0; i < tensors.size(); ++i)
    check(tensors[i].dim() > 0, "zero-dimensional tensor (at position {}) cannot be concatenated",
          i);
  // The first tensor that is not skipped sets the rank; when every one is skipped the result is
  // a (0,) tensor and `dim` is never used, so PyTorch leaves it unchecked.
  const auto first = std::find_if(tensors.begin(), tensors.end(),
                                  [](const Tensor& t) { return !skipped_by_cat(t); });
  const bool all_skipped = first == tensors.end();
  const std::int64_t d = all_skipped ? dim : wrap_dim(dim, first->dim());
  check(!tensors.empty(), "torch.cat(): expected a non-empty list of Tensors");

  Shape shape_out{0};
  if (!all_skipped) {
    shape_out = first->shape();
    shape_out[d] = 0;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      const Tensor& t = tensors[i];
      if (skipped_by_cat(t)) continue;
      check(t.dim() == first->dim(), "Tensors must have same number of dimensions: got {} and {}",
            first->dim(), t.dim());
      for (std::int64_t k = 0; k < t.dim(); ++k)
        check(k == d || t.size(k) == first->size(k),
              "Sizes of tensors must match except in dimension {}. Expected size {} but got size "
              "{} for tensor number {} in the list.",
              d, first->size(k), t.size(k), i);
      shape_out[d] += t.size(d);
    }
  }
  // Mixed dtypes promote as in PyTorch (bool < int64 < float32 < float64), skipped tensors
  // included. The conversions are recorded, so each gradient goes back in its input's dtype.
  Dtype dtype = tensors[0].dtype();
  for (const Tensor& t : tensors) dtype = promote_types(dtype, t.dtype());
  std::vector<Tensor> inputs;
  for (const Tensor& t : tensors) inputs.push_back(t.to(dtype));

  Tensor out = empty(shape_out, dtype);
  dispatch(dtype, [&]<class T>() {
    T* y = out.data_ptr<T>();
    std::int64_t start = 0;  // where the current input begins along d
    for (const Tensor& x : inputs) {
      if (skipped_by_cat(x)) continue;
      const T* src = x.data_ptr<T>();
      T* dst = y + start * out.strides()[d];  // y.narrow(d, start, N_i) begins here
      for_each_offset<2>(x.shape(), {&out.strides(), &x.strides()},
                         [&](const auto& at) { dst[at[0]] = src[at[1]]; });
      start += x.size(d);
    }
  });

  // The forward was y = [x_0, x_1, …] along d, so each element of y is one element of one x_i,
  // copied: grad_x_i is the slice of grad_y that x_i filled, grad_y.narrow(d, start_i, N_i). A
  // skipped (0,) input filled nothing and gets an empty gradient.
  std::vector<std::optional<std::int64_t>> lengths;  // N_i, or nothing for a skipped input
  for (const Tensor& x : inputs)
    lengths.push_back(skipped_by_cat(x) ? std::nullopt : std::optional(x.size(d)));
  return record("CatBackward0", inputs, out,
                [d, lengths](const Tensor& grad, const NeedsGrad& needs) {
                  std::vector<Tensor> grad_inputs;
                  std::int64_t start = 0;
                  for (std::size_t i = 0; i < lengths.size(); ++i) {
                    if (!lengths[i]) {
                      grad_inputs.push_back(needs[i] ? zeros({0}, grad.dtype()) : Tensor());
                      continue;
                    }
                    grad_inputs.push_back(needs[i] ? grad.narrow(d, start, *lengths[i])
                                                   : Tensor());
                    start += *lengths[i];
                  }
                  return grad_inputs;
                });
}

// y = [x_0, x_1, …] side by side along a new dimension `dim`
//   x_i (A, B)  ->  y (n, A, B) for dim 0, (A, n, B) for dim 1, (A, B, n) for dim 2
// It is cat of the tensors each unsqueezed at `dim`; its backward is theirs.
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim) {
  check(!tensors.empty(), "stack expects a non-empty TensorList");
  const std::int64_t d = wrap_dim(dim, tensors[0].dim() + 1);
  for (std::size_t i = 1; i < tensors.size(); ++i)
    check(tensors[i].shape() == tensors[0].shape(),
          "stack expects each tensor to be equal size, but got {} at entry 0 and {} at entry {}",
          tensors[0].shape(), tensors[i].shape(), i);
  std::vector<Tensor> unsqueezed;
  for (const Tensor& t : tensors) unsqueezed.push_back(t.unsqueeze(d));
  return cat(unsqueezed, d);
}

// ---- Indexing -----------------------------------------------------------------------------------

// y = x with the slices along `dim` chosen by a 1-D index, in its order, repeats allowed
//   dim 1:  x (A, B, C), index (K)  ->  y (A, K, C),  y[i][j][k] = x[i][index[j]][k]
Tensor Tensor::index_select(std::int64_t dim_, const Tensor& index) const {
  const auto d = static_cast<std::size_t>(wrap_dim(dim_, dim()));
  check(index.dim() <= 1, "index_select(): Index is supposed to be a vector");
  // PyTorch also takes int32 indices; minigrad has no int32, but keeps PyTorch's words.
  check(index.dtype() == kInt64, "index_select(): Expected dtype int32 or int64 for index");
  if (dim() == 0) {
    // A 0-d tensor has one element, index 0. PyTorch 1.13 returns it, still 0-d, for any
    // number of indices (all must be 0); it is y = x, and grad_x = grad_y.
    check(!first_out_of_range(index, 1), "index out of range in self");
    return clone();
  }
  check(dim() == 1 || shape()[d] > 0 || index.numel() == 0,
        "index_select(): self indexing axis dim should be positive");
  // PyTorch 1.13 words this error differently for dim 1 of a CPU tensor ("INDICES element is
  // out of DATA bounds"); this is its message for every other dim.
  check(!first_out_of_range(index, shape()[d]), "index out of range in self");

  Shape shape_out = shape();
  shape_out[d] = index.numel();
  // The index read over y's shape: it moves along d only.
  Shape index_strides(shape().size(), 0);
  if (index.dim() == 1) index_strides[d] = index.stride(0);
  Tensor out = gather_values(*this, d, index, index_strides, shape_out);

  // The forward was y[…, j, …] = x[…, index[j], …], so slice index[j] of x fed slice j of y:
  // grad_x is zero, with each grad_y slice j added into slice index[j] (index_add). A slice
  // chosen twice gets both gradients. Saves the index (not x): only where x was read matters.
  return record("IndexSelectBackward0", {*this}, out,
                [in = shape(), d, index = save(index), index_strides](const Tensor& grad) {
                  return grads(scatter_add_values(grad, d, index.unpack(), index_strides, in));
                });
}

// y = x read along `dim` at the places the index names, one per element of the index
//   dim 0:  y[i][j][k] = x[index[i][j][k]][j][k]     dim 1:  y[i][j][k] = x[i][index[i][j][k]][k]
//   x (A, B, C), index (I, J, K) with J <= B and K <= C for dim 0  ->  y (I, J, K)
Tensor Tensor::gather(std::int64_t dim_, const Tensor& index) const {
  const auto d = static_cast<std::size_t>(wrap_dim(dim_, dim()));
  check(index.dtype() == kInt64, "gather(): Expected dtype int64 for index");
  // As in PyTorch, a 0-d x or index counts as 1-D of size 1.
  const Tensor x = dim() == 0 ? reshape({1}) : *this;
  const Tensor idx = index.dim() == 0 ? index.reshape({1}) : index;
  // An empty index reads nothing, and PyTorch checks its shape only when it is not empty.
  if (idx.numel() > 0) {
    check(idx.dim() == x.dim(),
          "Index tensor must have the same number of dimensions as input tensor");
    for (std::size_t k = 0; k < x.shape().size(); ++k)
      check(k == d || idx.shape()[k] <= x.shape()[k],
            "Size does not match at dimension {} expected index {} to be smaller than self {} "
            "apart from dimension {}",
            k, index.shape(), shape(), d);
  }
  const std::optional<std::int64_t> bad = first_out_of_range(idx, x.shape()[d]);
  check(!bad, "index {} is out of bounds for dimension {} with size {}", bad.value_or(0), d,
        x.shape()[d]);

  Tensor out = gather_values(x, d, idx, idx.strides(), idx.shape());
  // The forward was y[p] = x[p with coordinate d replaced by index[p]], so each element of y is
  // a copy of one element of x: grad_x is zero, with grad_y[p] added at that element (a
  // scatter-add). An element read twice gets both gradients. Saves the index (not x).
  Tensor y = record("GatherBackward0", {x}, out,
                    [in = x.shape(), d, index = save(idx)](const Tensor& grad) {
                      const Tensor i = index.unpack();
                      return grads(scatter_add_values(grad, d, i, i.strides(), in));
                    });
  return index.dim() == 0 ? y.reshape({}) : y;
}

}  // namespace minigrad
