// Views: new shapes and strides over the same memory, and their backward.
//
// A view copies nothing: transpose swaps two strides, narrow moves the offset and shrinks one
// size, expand sets a stride to 0, and view/reshape find strides that read the same elements in
// a new shape. Writing through a view writes the original (they share Storage). Each view's
// backward puts the gradient back into the input's shape: the inverse view, or for select and
// narrow a zero tensor with the gradient copied into the selected part. Read after
// elementwise.cpp.
#include <algorithm>
#include <numeric>

#include "core/autograd.h"
#include "core/broadcast.h"

namespace minigrad {

namespace {

Tensor make_view(const Tensor& self, Shape shape, Shape strides, std::int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = self.impl()->storage;
  impl->dtype = self.dtype();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  return Tensor(std::move(impl));
}

// Resolves a single -1 in `shape` from the number of elements.
Shape infer_size(const Shape& shape, std::int64_t numel) {
  Shape out = shape;
  std::int64_t known = 1;
  std::optional<std::size_t> inferred;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      check(!inferred, "only one dimension can be inferred");
      inferred = d;
    } else {
      check(shape[d] >= 0, "invalid shape dimension {}", shape[d]);
      known *= shape[d];
    }
  }
  const bool fits = inferred ? (known > 0 && numel % known == 0) : known == numel;
  check(fits, "shape '{}' is invalid for input of size {}", shape, numel);
  if (inferred) out[*inferred] = numel / known;
  return out;
}

// Strides that read the elements of (old_shape, old_strides) in row-major order as `shape`, if
// there are any. The old dimensions fall into chunks that are contiguous with each other (each
// stride is the next one times its size); a new shape is a view exactly when each chunk is cut
// into whole new dimensions, which are then laid out contiguously within the chunk.
std::optional<Shape> view_strides(const Shape& old_shape, const Shape& old_strides,
                                  const Shape& shape) {
  if (old_shape.empty() || shape_numel(old_shape) == 0) return contiguous_strides(shape);
  Shape strides(shape.size());
  std::int64_t new_d = static_cast<std::int64_t>(shape.size()) - 1;
  std::int64_t chunk_base = old_strides.back();  // stride of the chunk's last dimension
  std::int64_t chunk_numel = 1, new_numel = 1;
  for (std::int64_t d = static_cast<std::int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    chunk_numel *= old_shape[d];
    const bool chunk_ends =
        d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != chunk_numel * chunk_base);
    if (!chunk_ends) continue;
    // Lay new dimensions over this chunk until they cover it exactly.
    while (new_d >= 0 && (new_numel < chunk_numel || shape[new_d] == 1)) {
      strides[new_d] = new_numel * chunk_base;
      new_numel *= shape[new_d];
      --new_d;
    }
    if (new_numel != chunk_numel) return std::nullopt;
    if (d > 0) {
      chunk_base = old_strides[d - 1];
      chunk_numel = new_numel = 1;
    }
  }
  if (new_d != -1) return std::nullopt;
  return strides;
}

}  // namespace

// y = x read in a new shape
Tensor Tensor::view(const Shape& new_shape) const {
  const Shape shape_out = infer_size(new_shape, numel());
  const auto strides_out = view_strides(shape(), strides(), shape_out);
  check(strides_out.has_value(),
        "view size is not compatible with input tensor's size and stride (at least one "
        "dimension spans across two contiguous subspaces). Use .reshape(...) instead.");
  Tensor out = make_view(*this, shape_out, *strides_out, storage_offset());
  // The forward only renamed the elements, so the gradient is grad_y read in x's shape.
  return record("ViewBackward0", {*this}, out,
                [in = shape()](const Tensor& grad) { return grads(grad.reshape(in)); });
}

// A view when the strides allow one, otherwise a copy (PyTorch's rule).
Tensor Tensor::reshape(const Shape& new_shape) const {
  const Shape shape_out = infer_size(new_shape, numel());
  if (view_strides(shape(), strides(), shape_out)) return view(shape_out);
  return clone().view(shape_out);
}

Tensor Tensor::flatten(std::int64_t start_dim, std::int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  const std::int64_t start = wrap_dim(start_dim, dim()), end = wrap_dim(end_dim, dim());
  check(start <= end, "flatten() has invalid args: start_dim cannot come after end_dim");
  Shape out(shape().begin(), shape().begin() + start);
  out.push_back(std::accumulate(shape().begin() + start, shape().begin() + end + 1,
                                std::int64_t{1}, std::multiplies<>()));
  out.insert(out.end(), shape().begin() + end + 1, shape().end());
  return reshape(out);
}

// y = x with dimensions dim0 and dim1 swapped
Tensor Tensor::transpose(std::int64_t dim0, std::int64_t dim1) const {
  const auto a = static_cast<std::size_t>(wrap_dim(dim0, dim()));
  const auto b = static_cast<std::size_t>(wrap_dim(dim1, dim()));
  Shape shape_out = shape(), strides_out = strides();
  std::swap(shape_out[a], shape_out[b]);
  std::swap(strides_out[a], strides_out[b]);
  Tensor out = make_view(*this, shape_out, strides_out, storage_offset());
  // Swapping is its own inverse: grad_x is grad_y with the same two dimensions swapped.
  return record("TransposeBackward0", {*this}, out, [dim0, dim1](const Tensor& grad) {
    return grads(grad.transpose(dim0, dim1));
  });
}

Tensor Tensor::t() const {
  check(dim() <= 2, "t() expects a tensor with <= 2 dimensions, but self is {}D", dim());
  return dim() < 2 ? *this : transpose(0, 1);
}

// y = x with its dimensions reordered: y's dimension i is x's dimension dims[i]
Tensor Tensor::permute(const Shape& dims) const {
  check(static_cast<std::int64_t>(dims.size()) == dim(),
        "permute(sparse_coo): number of dimensions in the tensor input does not match the "
        "length of the desired ordering of dimensions i.e. input.dim() = {} is not equal to "
        "len(dims) = {}",
        dim(), dims.size());
  Shape shape_out(dims.size()), strides_out(dims.size()), inverse(dims.size());
  std::vector<bool> used(dims.size(), false);
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const auto d = static_cast<std::size_t>(wrap_dim(dims[i], dim()));
    check(!used[d], "permute(): duplicate dims are not allowed.");
    used[d] = true;
    shape_out[i] = shape()[d];
    strides_out[i] = strides()[d];
    inverse[d] = static_cast<std::int64_t>(i);
  }
  Tensor out = make_view(*this, shape_out, strides_out, storage_offset());
  // Undo the reordering: x's dimension d is y's dimension inverse[d].
  return record("PermuteBackward0", {*this}, out,
                [inverse](const Tensor& grad) { return grads(grad.permute(inverse)); });
}

// y = x[..., index, ...] along `dim`, which disappears
Tensor Tensor::select(std::int64_t dim_, std::int64_t index) const {
  check(dim() > 0, "select() cannot be applied to a 0-dim tensor.");
  const auto d = static_cast<std::size_t>(wrap_dim(dim_, dim()));
  const std::int64_t size = shape()[d];
  check(index >= -size && index < size,
        "select(): index {} out of range for tensor of size {} at dimension {}", index,
        shape(), dim_);
  const std::int64_t i = index < 0 ? index + size : index;
  Shape shape_out = shape(), strides_out = strides();
  shape_out.erase(shape_out.begin() + static_cast<std::ptrdiff_t>(d));
  strides_out.erase(strides_out.begin() + static_cast<std::ptrdiff_t>(d));
  Tensor out = make_view(*this, shape_out, strides_out, storage_offset() + i * strides()[d]);
  // Only the selected slice fed y: grad_x is zero except there, where it is grad_y.
  return record("SelectBackward0", {*this}, out,
                [in = shape(), dtype = dtype(), d, i](const Tensor& grad) {
                  Tensor grad_x = zeros(in, dtype);
                  grad_x.select(static_cast<std::int64_t>(d), i).copy_(grad);
                  return grads(grad_x);
                });
}

// y = x[start : start + length] along `dim`
Tensor Tensor::narrow(std::int64_t dim_, std::int64_t start, std::int64_t length) const {
  check(dim() > 0, "narrow() cannot be applied to a 0-dim tensor.");
  check(length >= 0, "narrow(): length must be non-negative.");
  const auto d = static_cast<std::size_t>(wrap_dim(dim_, dim()));
  const std::int64_t size = shape()[d];
  check(start >= -size && start <= size,
        "start out of range (expected to be in range of [{}, {}], but got {})", -size, size,
        start);
  const std::int64_t begin = start < 0 ? start + size : start;
  check(begin + length <= size, "start ({}) + length ({}) exceeds dimension size ({}).", begin,
        length, size);
  Shape shape_out = shape();
  shape_out[d] = length;
  Tensor out = make_view(*this, shape_out, strides(), storage_offset() + begin * strides()[d]);
  // Only the narrowed range fed y: grad_x is grad_y there and zero elsewhere.
  return record("SliceBackward0", {*this}, out,
                [in = shape(), dtype = dtype(), d, begin, length](const Tensor& grad) {
                  Tensor grad_x = zeros(in, dtype);
                  grad_x.narrow(static_cast<std::int64_t>(d), begin, length).copy_(grad);
                  return grads(grad_x);
                });
}

// y = x with a new dimension of size 1 at `dim`
Tensor Tensor::unsqueeze(std::int64_t dim_) const {
  const auto d = static_cast<std::size_t>(wrap_dim(dim_, dim() + 1));
  Shape shape_out = shape(), strides_out = strides();
  const std::int64_t stride = d < shape().size() ? shape()[d] * strides()[d] : 1;
  shape_out.insert(shape_out.begin() + static_cast<std::ptrdiff_t>(d), 1);
  strides_out.insert(strides_out.begin() + static_cast<std::ptrdiff_t>(d), stride);
  Tensor out = make_view(*this, shape_out, strides_out, storage_offset());
  return record("UnsqueezeBackward0", {*this}, out, [d](const Tensor& grad) {
    return grads(grad.squeeze(static_cast<std::int64_t>(d)));
  });
}

// y = x without its size-1 dimensions (all of them, or only `dim` if it has size 1)
Tensor Tensor::squeeze() const {
  Shape shape_out, strides_out;
  for (std::size_t d = 0; d < shape().size(); ++d) {
    if (shape()[d] == 1) continue;
    shape_out.push_back(shape()[d]);
    strides_out.push_back(strides()[d]);
  }
  Tensor out = make_view(*this, shape_out, strides_out, storage_offset());
  return record("SqueezeBackward0", {*this}, out,
                [in = shape()](const Tensor& grad) { return grads(grad.reshape(in)); });
}

Tensor Tensor::squeeze(std::int64_t dim_) const {
  const auto d = static_cast<std::size_t>(wrap_dim(dim_, dim()));
  if (dim() == 0 || shape()[d] != 1) return view(shape());  // nothing to squeeze: an alias
  Shape shape_out = shape(), strides_out = strides();
  shape_out.erase(shape_out.begin() + static_cast<std::ptrdiff_t>(d));
  strides_out.erase(strides_out.begin() + static_cast<std::ptrdiff_t>(d));
  Tensor out = make_view(*this, shape_out, strides_out, storage_offset());
  return record("SqueezeBackward1", {*this}, out,
                [in = shape()](const Tensor& grad) { return grads(grad.reshape(in)); });
}

// y = x repeated along size-1 (or new leading) dimensions, by stride 0: no copy is made
Tensor Tensor::expand(const Shape& new_shape) const {
  const auto rank = static_cast<std::int64_t>(new_shape.size());
  check(rank >= dim(),
        "expand: the number of sizes provided ({}) must be greater or equal to the number of "
        "dimensions in the tensor ({})",
        rank, dim());
  Shape shape_out(new_shape.size()), strides_out(new_shape.size());
  const std::int64_t lead = rank - dim();
  for (std::int64_t i = 0; i < rank; ++i) {
    const std::int64_t want = new_shape[static_cast<std::size_t>(i)];
    if (i < lead) {
      check(want >= 0,
            "The expanded size of the tensor ({}) isn't allowed in a leading, non-existing "
            "dimension {}",
            want, i);
      shape_out[i] = want;
      strides_out[i] = 0;
      continue;
    }
    const std::int64_t have = shape()[static_cast<std::size_t>(i - lead)];
    const std::int64_t size = want == -1 ? have : want;
    check(have == size || have == 1,
          "The expanded size of the tensor ({}) must match the existing size ({}) at "
          "non-singleton dimension {}.  Target sizes: {}.  Tensor sizes: {}",
          want, have, i, new_shape, shape());
    shape_out[i] = size;
    strides_out[i] = have == size ? strides()[static_cast<std::size_t>(i - lead)] : 0;
  }
  Tensor out = make_view(*this, shape_out, strides_out, storage_offset());
  // Each element of x fed every copy of itself in y: grad_x sums grad_y over the copies.
  return record("ExpandBackward0", {*this}, out,
                [in = shape()](const Tensor& grad) { return grads(sum_to(grad, in)); });
}

Tensor Tensor::expand_as(const Tensor& other) const { return expand(other.shape()); }

// ys[k] = x[offset_k : offset_k + sizes[k]] along `dim`, offset_k = sizes[0] + … + sizes[k−1]
std::vector<Tensor> Tensor::split_with_sizes(const Shape& sizes, std::int64_t dim_) const {
  check(dim() > 0, "split_with_sizes() cannot be applied to a 0-dim tensor.");
  const auto d = static_cast<std::size_t>(wrap_dim(dim_, dim()));
  std::int64_t total = 0;
  for (std::int64_t size : sizes) {
    check(size >= 0, "split_with_sizes expects split_sizes have only non-negative entries, but "
          "got split_sizes={}", sizes);
    total += size;
  }
  check(total == shape()[d], "split_with_sizes expects split_sizes to sum exactly to {} (input "
        "tensor's size at dimension {}), but got split_sizes={}", shape()[d], dim_, sizes);
  std::vector<Tensor> pieces;
  std::int64_t offset = 0;
  for (std::int64_t size : sizes) {
    Shape shape_out = shape();
    shape_out[d] = size;
    pieces.push_back(make_view(*this, shape_out, strides(), storage_offset() + offset * strides()[d]));
    offset += size;
  }
  // The pieces tile x along dim, so grad_x is their gradients laid side by side: one cat. (A
  // narrow per piece would instead make one zero tensor of x's size per piece in backward.)
  return record_node("SplitWithSizesBackward0", {*this}, std::move(pieces),
                     [d](const std::vector<Tensor>& grad_pieces, const NeedsGrad&) {
                       return grads(cat(grad_pieces, static_cast<std::int64_t>(d)));
                     });
}

std::vector<Tensor> Tensor::split(std::int64_t split_size, std::int64_t dim_) const {
  check(dim() > 0, "split() cannot be applied to a 0-dim tensor.");
  const std::int64_t size = this->size(dim_);
  check(split_size > 0 || size == 0, "split_size can only be 0 if dimension size is 0, but got "
        "dimension size of {}", size);
  check(split_size >= 0, "split expects split_size be non-negative, but got split_size={}",
        split_size);
  Shape sizes;
  for (std::int64_t offset = 0; offset < size; offset += split_size)
    sizes.push_back(std::min(split_size, size - offset));
  if (sizes.empty()) sizes.push_back(0);
  return split_with_sizes(sizes, dim_);
}

}  // namespace minigrad
