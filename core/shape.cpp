// Shape arithmetic; see shape.h.
#include "core/shape.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"

namespace minigrad {

std::int64_t shape_numel(const Shape& shape) {
  std::int64_t n = 1;
  for (std::int64_t size : shape) n *= size;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  std::int64_t stride = 1;
  for (std::size_t d = shape.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= std::max<std::int64_t>(shape[d], 1);
  }
  return strides;
}

std::int64_t checked_mul(std::int64_t a, std::int64_t b, std::string_view what) {
  std::int64_t product = 0;
  check(!__builtin_mul_overflow(a, b, &product), "{}: {} · {} does not fit in int64", what, a, b);
  return product;
}

std::int64_t checked_add(std::int64_t a, std::int64_t b, std::string_view what) {
  std::int64_t sum = 0;
  check(!__builtin_add_overflow(a, b, &sum), "{}: {} + {} does not fit in int64", what, a, b);
  return sum;
}

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

std::int64_t wrap_dim(std::int64_t dim, std::int64_t rank) {
  // PyTorch treats a 0-d tensor as having one dimension for this purpose: dims -1 and 0 work.
  const std::int64_t extent = std::max<std::int64_t>(rank, 1);
  check(dim >= -extent && dim < extent,
        "Dimension out of range (expected to be in range of [{}, {}], but got {})", -extent,
        extent - 1, dim);
  return dim < 0 ? dim + extent : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    // Align at the right: position i from the end of each shape, 1 where a shape is shorter.
    const std::int64_t sa = i < a.size() ? a[a.size() - 1 - i] : 1;
    const std::int64_t sb = i < b.size() ? b[b.size() - 1 - i] : 1;
    check(sa == sb || sa == 1 || sb == 1,
          "The size of tensor a ({}) must match the size of tensor b ({}) at non-singleton "
          "dimension {}",
          sa, sb, rank - 1 - i);
    out[rank - 1 - i] = sa == 1 ? sb : sa;
  }
  return out;
}

Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& target) {
  Shape out(target.size(), 0);
  const std::size_t lead = target.size() - shape.size();
  for (std::size_t d = 0; d < shape.size(); ++d)
    out[lead + d] = (shape[d] == 1 && target[lead + d] != 1) ? 0 : strides[d];
  return out;
}

}  // namespace minigrad
