// PackedMatrix: one float32 matrix B copied once into the layout a GEMM kernel reads fastest, then
// multiplied by many small matrices A.
//
// Why: a recurrent layer multiplies the same W_hh by a few dozen rows of state at every one of
// hundreds of steps. Each cblas_sgemm call first copies ("packs") both operands into its own
// blocked layout, and with 32 rows against a 768 × 256 W_hh the copy of W_hh costs a third as
// much as the multiplication itself: 14% of a GRU training step at the benchmark's S3, all of it
// repeated work. Here W_hh is packed once per layer call and every step runs straight from it.
//
//   const PackedMatrix w(w_hh, k, n, 1, ld);    // B = W_hhᵀ (k × n), read from W_hh's rows
//   w.multiply(rows, h, H, gates, 4 * H, false); // gates (rows × n) = h (rows × k) · B
//
// The kernel is the classic one of BLIS and OpenBLAS, written for AVX2 with FMA: six rows of A
// against a panel of sixteen columns of B, the 6 × 16 block of C held in twelve vector registers
// for the whole sum over k. It exists only where the CPU has AVX2 and FMA (checked once, when the
// program runs; nothing is compiled with -march=native). Elsewhere available() is false and the
// caller uses cblas; MG_CPU_CAPABILITY=default in the environment makes it false everywhere, so
// that the cblas path can be tested on any CPU (tests/portability.sh). Read after blas.h;
// nn/fused_recurrent.cpp is the user.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace minigrad {

class PackedMatrix {
 public:
  // Whether the kernel can run on this CPU (x86-64 with AVX2 and FMA).
  static bool available();

  // Packs B (k × n), whose element (p, j) is data[p·row_stride + j·col_stride]: B itself when
  // col_stride = 1, the transpose of a row-major matrix when row_stride = 1. Expects available().
  PackedMatrix(const float* data, std::int64_t k, std::int64_t n, std::int64_t row_stride,
               std::int64_t col_stride);

  // c (m × n, rows ldc apart) = a (m × k, rows lda apart) · B, or c += a · B when accumulate.
  // Raw pointers, no checks: the caller (a layer's scan) has checked the shapes once.
  void multiply(std::int64_t m, const float* a, std::int64_t lda, float* c, std::int64_t ldc,
                bool accumulate) const;

 private:
  std::int64_t k_, n_;
  Tensor panels_;  // ⌈n / 16⌉ panels, each k rows of 16 floats; columns past n are zero
};

}  // namespace minigrad
