// Tensor's accessors, copies and in-place writes; see tensor.h.
//
// The ops live in their own files; here are the things every op leans on: reading shape and
// dtype, copying values out (to_vector, item), converting (to, clone, contiguous), and the
// in-place writes (copy_, fill_, zero_) that bump the storage's version counter.
#include "core/tensor.h"

#include "core/autograd.h"
#include "core/kernel.h"

namespace minigrad {

void Tensor::throw_undefined() {
  throw Error("this operation needs a defined tensor, but the tensor is undefined");
}

std::int64_t Tensor::size(std::int64_t d) const {
  const std::int64_t rank = dim();
  if (d >= 0 && d < rank) return shape()[static_cast<std::size_t>(d)];  // the common case
  check(rank > 0, "Dimension specified as {} but tensor has no dimensions", d);
  return shape()[static_cast<std::size_t>(wrap_dim(d, dim()))];
}

std::int64_t Tensor::stride(std::int64_t d) const {
  check(dim() > 0, "Dimension specified as {} but tensor has no dimensions", d);
  return strides()[static_cast<std::size_t>(wrap_dim(d, dim()))];
}

bool Tensor::is_contiguous() const {
  const TensorImpl& self = checked();
  // Sizes of 0 or 1 place no constraint on their stride, as in PyTorch.
  std::int64_t expected = 1;
  for (std::size_t d = self.shape.size(); d-- > 0;) {
    if (self.shape[d] == 1) continue;
    if (self.shape[d] == 0) return true;
    if (self.strides[d] != expected) return false;
    expected *= self.shape[d];
  }
  return true;
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  const TensorImpl& self = checked();
  check(self.dtype == dtype_of<T>(), "to_vector: expected scalar type {} but found {}",
        dtype_name(dtype_of<T>()), dtype_name(self.dtype));
  std::vector<T> values;
  values.reserve(static_cast<std::size_t>(numel()));
  const T* data = data_ptr<T>();
  for_each_offset<1>(self.shape, {&self.strides}, [&](const auto& at) { values.push_back(data[at[0]]); });
  return values;
}

template <class T>
T Tensor::item() const {
  check(numel() == 1, "a Tensor with {} elements cannot be converted to Scalar", numel());
  check(dtype() == dtype_of<T>(), "item: expected scalar type {} but found {}",
        dtype_name(dtype_of<T>()), dtype_name(dtype()));
  return *data_ptr<T>();
}

template std::vector<bool> Tensor::to_vector<bool>() const;
template std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const;
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template bool Tensor::item<bool>() const;
template std::int64_t Tensor::item<std::int64_t>() const;
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;

namespace {

// Writes src's values (broadcast to dst's shape, converted to dst's dtype) into dst's elements,
// through dst's strides. No checks, no autograd: the callers do both.
void copy_values(const Tensor& dst, const Tensor& src) {
  const Shape src_strides = broadcast_strides(src.shape(), src.strides(), dst.shape());
  dispatch(dst.dtype(), [&]<class To>() {
    dispatch(src.dtype(), [&]<class From>() {
      To* out = dst.data_ptr<To>();
      const From* in = src.data_ptr<From>();
      parallel_for_each_offset<2>(dst.shape(), {&dst.strides(), &src_strides},
                                  [&](const auto& at) { out[at[0]] = convert<To>(in[at[1]]); });
    });
  });
}

// The checks every in-place write makes before it changes anything.
void check_inplace(const Tensor& self, const char* op) {
  if (grad_mode_enabled() && self.requires_grad()) {
    check(!self.is_leaf(),
          "a leaf Variable that requires grad is being used in an in-place operation.");
    throw Error(fmt::format(
        "{}: in-place operations on a tensor that requires grad are not recorded by minigrad's "
        "autograd; compute a new tensor instead, or write under mg::NoGradGuard",
        op));
  }
  for (std::size_t d = 0; d < self.shape().size(); ++d)
    check(self.strides()[d] != 0 || self.shape()[d] <= 1,
          "unsupported operation: more than one element of the written-to tensor refers to a "
          "single memory location. Please clone() the tensor before performing the operation.");
}

}  // namespace

Tensor Tensor::to(Dtype dtype) const {
  const TensorImpl& self = checked();
  if (self.dtype == dtype) return *this;
  Tensor out = empty(self.shape, dtype);
  copy_values(out, *this);
  if (!is_floating(dtype)) return out;  // an integer or bool result cannot carry a gradient
  const Dtype from = self.dtype;
  // The forward was y = x converted to another dtype, so grad_x = grad_y converted back.
  return record("ToCopyBackward0", {*this}, out,
                [from](const Tensor& grad_y) { return grads(grad_y.to(from)); });
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype());
  copy_values(out, *this);
  // The forward was y = x, so grad_x = grad_y.
  return record("CloneBackward0", {*this}, out,
                [](const Tensor& grad_y) { return grads(grad_y); });
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor& Tensor::copy_(const Tensor& src) {
  checked();
  check(src.defined(), "copy_: expected a defined source tensor");
  check_inplace(*this, "copy_");
  check(!any_requires_grad({src}),
        "copy_: the source requires grad, but in-place copies are not recorded by minigrad's "
        "autograd; copy src.detach(), or copy under mg::NoGradGuard");
  const Shape broadcast = broadcast_shapes(shape(), src.shape());
  check(broadcast == shape(), "output with shape {} doesn't match the broadcast shape {}",
        shape(), broadcast);
  // A source that shares memory with this tensor is read in full before anything is written.
  const Tensor source = src.impl()->storage == impl_->storage ? src.detach().clone() : src;
  copy_values(*this, source);
  impl_->storage->bump_version();
  return *this;
}

Tensor& Tensor::fill_(Scalar value) {
  checked();
  check_inplace(*this, "fill_");
  dispatch(dtype(), [&]<class T>() {
    T* out = data_ptr<T>();
    const T v = element_value<T>(value);  // checked before anything is written
    for_each_offset<1>(shape(), {&strides()}, [&](const auto& at) { out[at[0]] = v; });
  });
  impl_->storage->bump_version();
  return *this;
}

Tensor& Tensor::zero_() { return fill_(0); }

}  // namespace minigrad
