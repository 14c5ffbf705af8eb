// The one door to OpenBLAS: c = alpha · a·b + beta · c for 2-D strided views.
//
// Every matrix product in minigrad goes through gemm(): matmul and its backward (matmul.cpp),
// Linear, and the fused recurrent layers, which call it once per time step. It hands strided
// views to cblas_sgemm / cblas_dgemm without copying whenever cblas can read them as they lie
// (blas.cpp explains how a transposed view becomes a transpose flag). gemm_naive() is its
// readable twin, a triple loop, that the tests hold gemm() to. Read before matmul.cpp.
#pragma once

#include "core/tensor.h"

namespace minigrad {

// c (m×n) = alpha · a (m×k) · b (k×n) + beta · c, through OpenBLAS.
//   - a, b and c are 2-D tensors of one floating dtype (float32 → sgemm, float64 → dgemm).
//   - a and b may be any strided views: a view with unit stride along one of its two dimensions
//     (contiguous, transposed, narrowed) is read in place; any other is copied first.
//   - c is written in place (its version counter moves, as with every in-place write); it must
//     not overlap a or b, nor be an expanded view (stride 0).
//   - As in BLAS, beta = 0 overwrites c without reading it (NaN in c does not survive), and
//     with k = 0 the product is empty: c = beta · c.
// Bad shapes or dtypes throw mg::Error before c is touched. Nothing is recorded for autograd:
// this is a kernel, and the ops that call it record their own backward.
void gemm(const Tensor& a, const Tensor& b, const Tensor& c, double alpha = 1.0, double beta = 0.0);

// The same product as a plain triple loop over the strided views, accumulating in double
// (int64 for int64 tensors), with the same checks and the same beta = 0 rule. It is the
// reference the tests hold gemm() to, and the path for int64 matmul, which BLAS does not have;
// for int64, alpha and beta must be whole numbers.
void gemm_naive(const Tensor& a, const Tensor& b, const Tensor& c, double alpha = 1.0,
                double beta = 0.0);

}  // namespace minigrad
