// The one door to OpenBLAS: C = alpha · A·B + beta · C for 2-D strided views.
#pragma once

#include "core/tensor.h"

namespace minigrad {

// c (m×n) = alpha · a (m×k) · b (k×n) + beta · c. a, b and c are 2-D tensors of one floating
// dtype; a transposed view of a or b is folded into cblas's transpose flag rather than copied.
void gemm(const Tensor& a, const Tensor& b, const Tensor& c, double alpha = 1.0, double beta = 0.0);

// The same product as a plain triple loop: the reference the tests hold gemm to.
void gemm_naive(const Tensor& a, const Tensor& b, const Tensor& c, double alpha = 1.0,
                double beta = 0.0);

}  // namespace minigrad
