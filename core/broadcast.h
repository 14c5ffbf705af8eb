// The one rule every broadcasting backward shares.
//
// If an input of shape (3, 1) was broadcast to (2, 3, 4) in the forward, each of its elements
// fed 2·4 outputs, so its gradient is the sum of theirs: sum_to(grad, {3, 1}) sums grad over
// the leading dimension and over the last, keeping it as a size-1 dimension.
#pragma once

#include "core/tensor.h"

namespace minigrad {

// Sums `grad` down to `shape`, which must broadcast to grad's shape.
Tensor sum_to(const Tensor& grad, const Shape& shape);

}  // namespace minigrad
