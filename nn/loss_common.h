// What nn/loss.cpp and nn/cross_entropy.cpp share; not part of the public API (not installed).
#pragma once

#include "core/tensor.h"
#include "nn/loss.h"

namespace minigrad::nn {

// The per-element losses themselves (kNone), their mean (kMean) or their sum (kSum).
Tensor apply_reduction(const Tensor& loss, Reduction reduction);

// Refuses an undefined input or target of the loss `op`.
void check_defined(const Tensor& input, const Tensor& target, const char* op);

// Refuses, in PyTorch's words, a tensor the loss treats as a constant (a class weight) that
// requires grad while grad mode is on: its gradient would silently never arrive.
void check_constant(const Tensor& t, const char* op, const char* argument);

}  // namespace minigrad::nn
