// The loops under every elementwise kernel: visiting each element of one or more strided tensors.
//
// for_each_offset(shape, {&strides_a, &strides_b}, body) calls body(offsets) once for every
// index of `shape`, in row-major order, with offsets[k] = Σ index[d] · strides_k[d], the place
// of that element in operand k. Broadcasting is nothing more than a stride of 0 (shape.h's
// broadcast_strides), so one loop serves same-shape, broadcast and transposed operands alike.
// The innermost dimension is a plain counted loop the compiler can vectorise; an odometer
// steps through the outer dimensions.
//
// map() and zip() build a fresh contiguous result from one or two operands:
//   Tensor y = map<float, float>(x, [](float v) { return std::tanh(v); });
// On large tensors they run over minigrad's threads (core/parallel.h): parallel_for_each_offset
// cuts the outermost dimension into one block per thread. That is safe for bodies that write
// only the element at offsets[0] and read nothing another element writes, as map, zip and copies
// do; a reduction, whose elements all add into one place, must use for_each_offset.
// Read after tensor.h; elementwise.cpp shows them in use.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "core/parallel.h"
#include "core/tensor.h"

namespace minigrad {

// `origin` is the offsets of the first element: zeros for a whole tensor, those of a block's
// first element for a block of it.
template <std::size_t N, class Body>
void for_each_offset(const Shape& shape, const std::array<const Shape*, N>& strides, Body&& body,
                     std::array<std::int64_t, N> origin = {}) {
  if (shape_numel(shape) == 0) return;
  const std::size_t rank = shape.size();
  std::array<std::int64_t, N> row = origin;  // offsets of the first element of the current row
  if (rank == 0) {
    body(row);
    return;
  }
  const std::int64_t inner = shape[rank - 1];
  std::array<std::int64_t, N> step{};
  for (std::size_t k = 0; k < N; ++k) step[k] = (*strides[k])[rank - 1];

  std::vector<std::int64_t> index(rank - 1, 0);  // position in the outer dimensions
  while (true) {
    std::array<std::int64_t, N> at = row;
    for (std::int64_t i = 0; i < inner; ++i) {
      body(at);
      for (std::size_t k = 0; k < N; ++k) at[k] += step[k];
    }
    // Advance the odometer: bump the last outer dimension, carrying into earlier ones.
    std::size_t d = rank - 1;
    while (d-- > 0) {
      for (std::size_t k = 0; k < N; ++k) row[k] += (*strides[k])[d];
      if (++index[d] < shape[d]) break;
      for (std::size_t k = 0; k < N; ++k) row[k] -= (*strides[k])[d] * shape[d];
      index[d] = 0;
      if (d == 0) return;
    }
    if (rank == 1) return;
  }
}

// for_each_offset over the pool, for bodies that write only their own element (see the top).
// Each thread takes a block of the outermost dimension; below 128K elements, one thread takes
// everything, since waking another costs more than the loop.
template <std::size_t N, class Body>
void parallel_for_each_offset(const Shape& shape, const std::array<const Shape*, N>& strides,
                              Body&& body) {
  const int parts = shape.empty() ? 1
                    : static_cast<int>(std::min<std::int64_t>(
                          shape[0], parts_for(static_cast<double>(shape_numel(shape)), 1 << 17)));
  if (parts <= 1) return for_each_offset<N>(shape, strides, body);
  parallel_ranges(shape[0], parts, [&](int, std::int64_t from, std::int64_t to) {
    Shape block = shape;
    block[0] = to - from;
    std::array<std::int64_t, N> origin{};
    for (std::size_t k = 0; k < N; ++k) origin[k] = from * (*strides[k])[0];
    for_each_offset<N>(block, strides, body, origin);
  });
}

// out[i] = f(a[i]) for every element, read as In and written as Out.
template <class Out, class In, class F>
Tensor map(const Tensor& a, F&& f) {
  Tensor out = empty(a.shape(), dtype_of<Out>());
  Out* o = out.data_ptr<Out>();
  const In* x = a.data_ptr<In>();
  const Shape& out_strides = out.strides();
  parallel_for_each_offset<2>(a.shape(), {&out_strides, &a.strides()},
                              [&](const auto& at) { o[at[0]] = f(x[at[1]]); });
  return out;
}

// out[i] = f(a[i], b[i]) with a and b broadcast to a common shape.
template <class Out, class A, class B, class F>
Tensor zip(const Tensor& a, const Tensor& b, F&& f) {
  const Shape shape = broadcast_shapes(a.shape(), b.shape());
  Tensor out = empty(shape, dtype_of<Out>());
  Out* o = out.data_ptr<Out>();
  const A* x = a.data_ptr<A>();
  const B* y = b.data_ptr<B>();
  const Shape out_strides = out.strides();
  const Shape a_strides = broadcast_strides(a.shape(), a.strides(), shape);
  const Shape b_strides = broadcast_strides(b.shape(), b.strides(), shape);
  parallel_for_each_offset<3>(shape, {&out_strides, &a_strides, &b_strides},
                              [&](const auto& at) { o[at[0]] = f(x[at[1]], y[at[2]]); });
  return out;
}

// One dimension d of a tensor seen as rows, for ops that work along a dimension (max over d,
// softmax along d). `shape` is the tensor's shape with size 1 at d, so that for_each_offset over
// it with the tensor's strides visits the first element of every row; the row then has `length`
// elements, `stride` apart. A 0-d tensor is one row of one element.
struct Rows {
  Shape shape;
  std::int64_t length;
  std::int64_t stride;
};

inline Rows rows_along(const Shape& shape, const Shape& strides, std::int64_t d) {
  if (shape.empty()) return {Shape{}, 1, 0};
  const auto k = static_cast<std::size_t>(d);
  Rows rows{shape, shape[k], strides[k]};
  rows.shape[k] = 1;
  return rows;
}

}  // namespace minigrad
