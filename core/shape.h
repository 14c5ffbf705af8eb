// Shapes and strides: the arithmetic of where element (i, j, k) lives in memory.
//
// A tensor of shape (d0, d1, ..., dn) stores element (i0, i1, ..., in) at
//   offset + i0·s0 + i1·s1 + ... + in·sn
// where s are its strides. A fresh tensor is contiguous (row-major): the last stride is 1 and
// each stride is the product of the sizes after it. Views (transpose, narrow, expand, ...) make
// new shapes and strides over the same memory; an expanded dimension has stride 0.
// This file also holds the rules PyTorch uses to wrap a negative dimension and to broadcast two
// shapes. Read after dtype.h; storage.h and tensor.h come next.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace minigrad {

using Shape = std::vector<std::int64_t>;

// The number of elements: the product of the sizes (1 for a 0-d tensor).
std::int64_t shape_numel(const Shape& shape);

// Row-major strides for `shape`: (2, 3, 4) -> (12, 4, 1).
Shape contiguous_strides(const Shape& shape);

// "[2, 3, 4]", as PyTorch writes shapes in its messages.
std::string shape_str(const Shape& shape);

// Turns a possibly negative dimension into 0..rank-1; `rank` 0 accepts -1 and 0 as PyTorch does.
// Throws "Dimension out of range (expected to be in range of [-2, 1], but got 2)".
std::int64_t wrap_dim(std::int64_t dim, std::int64_t rank);

// The broadcast of two shapes under NumPy's rules: align at the right, sizes equal or one is 1.
// Throws "The size of tensor a (3) must match the size of tensor b (4) at non-singleton
// dimension 1".
Shape broadcast_shapes(const Shape& a, const Shape& b);

// Strides that read a tensor of (shape, strides) as if it had the broadcast shape `target`:
// new leading dimensions and expanded size-1 dimensions get stride 0.
Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& target);

// ---- Checked arithmetic -------------------------------------------------------------------------

// Sizes, counts and offsets often come from the user, and a product or sum of them that does
// not fit in int64 wraps round to a small number: a tensor would believe it has far more
// elements than its memory holds. Such arithmetic goes through these, which throw mg::Error
// "<what>: <a> · <b> does not fit in int64" (or "+") instead of wrapping.
std::int64_t checked_mul(std::int64_t a, std::int64_t b, std::string_view what);
std::int64_t checked_add(std::int64_t a, std::int64_t b, std::string_view what);

}  // namespace minigrad
