// Factories: tensors made from a shape and a value, or from C++ data; see tensor.h.
#include <cstring>

#include "core/kernel.h"
#include "core/tensor.h"

namespace minigrad {

namespace {

Tensor make_tensor(const Shape& shape, Dtype dtype, bool zero_fill) {
  for (std::int64_t size : shape)
    check(size >= 0, "Trying to create tensor with negative dimension {}: {}", size,
          shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(
      static_cast<std::size_t>(shape_numel(shape)) * element_size(dtype), zero_fill);
  impl->dtype = dtype;
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  return Tensor(std::move(impl));
}

}  // namespace

Tensor empty(const Shape& shape, Dtype dtype) { return make_tensor(shape, dtype, false); }
Tensor zeros(const Shape& shape, Dtype dtype) { return make_tensor(shape, dtype, true); }
Tensor ones(const Shape& shape, Dtype dtype) { return full(shape, 1, dtype); }

Tensor full(const Shape& shape, Scalar value, Dtype dtype) {
  Tensor out = empty(shape, dtype);
  out.fill_(value);
  return out;
}

Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor scalar_tensor(Scalar value, Dtype dtype) { return full({}, value, dtype); }

Tensor arange(std::int64_t n, Dtype dtype) {
  check(n >= 0, "arange: upper bound and larger bound inconsistent with step sign (got end={})",
        n);
  Tensor out = empty({n}, dtype);
  dispatch_numeric(dtype, "arange", [&]<class T>() {
    T* data = out.data_ptr<T>();
    for (std::int64_t i = 0; i < n; ++i) data[i] = static_cast<T>(i);
  });
  return out;
}

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
  check(shape_numel(shape) == static_cast<std::int64_t>(values.size()),
        "from_vector: shape {} holds {} elements, but {} values were given", shape,
        shape_numel(shape), values.size());
  Tensor out = empty(shape, dtype_of<T>());
  T* data = out.data_ptr<T>();
  for (std::size_t i = 0; i < values.size(); ++i) data[i] = values[i];  // vector<bool> has no data()
  return out;
}

template Tensor from_vector(const std::vector<bool>&, const Shape&);
template Tensor from_vector(const std::vector<std::int64_t>&, const Shape&);
template Tensor from_vector(const std::vector<float>&, const Shape&);
template Tensor from_vector(const std::vector<double>&, const Shape&);

}  // namespace minigrad
