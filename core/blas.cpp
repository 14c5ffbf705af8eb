// gemm() over OpenBLAS, and gemm_naive(), its triple-loop twin; see blas.h.
//
// cblas_sgemm(CblasRowMajor, trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
// reads each operand as a row-major matrix X whose rows lie ld elements apart, and multiplies
// op(X): X itself (CblasNoTrans) or its transpose (CblasTrans). A 2-D view of shape (r, c) with
// strides (s0, s1) is one of these exactly when one stride is 1:
//   - s1 = 1: its rows are rows of memory. op = NoTrans, ld = s0.
//   - s0 = 1: its columns are rows of memory; it is the transpose of a row-major (c, r) matrix
//     with ld = s1. op = Trans.
//   - otherwise (or when ld is below what cblas accepts, max(1, row length)) it is copied into
//     a contiguous matrix first.
// Worked example: x is a contiguous (3, 2) tensor, strides (2, 1), and a = x.t() is (2, 3) with
// strides (1, 2). Its stride along dim 0 is 1, so gemm passes x's own memory with CblasTrans and
// lda = 2: cblas reads the (3, 2) row-major matrix x and multiplies its transpose, which is a.
// A narrowed y = z.narrow(1, 0, 3) of a contiguous (4, 5) z has strides (5, 1): NoTrans with
// lda = 5, the rows of z skipping their last two elements. Neither is copied.
// A size-1 dimension is never stepped along, so its stride is ignored. The output has no flag,
// so a column-major c is handled by transposing the whole equation: cᵀ = bᵀ·aᵀ is a row-major
// product with the roles of a and b swapped and both flags flipped.
//
// Read after blas.h; matmul.cpp is the first user.
#include "core/blas.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>

#include <fmt/ranges.h>

#include "core/kernel.h"
#include "core/parallel.h"

namespace minigrad {

namespace {

// How cblas reads one operand in place: op(X) for the row-major X whose rows are `ld` apart.
struct Layout {
  CBLAS_TRANSPOSE trans;
  blasint ld;
};

bool fits_blasint(std::int64_t value) { return value <= std::numeric_limits<blasint>::max(); }

// The layout of a (rows × cols) view with strides (row_stride, col_stride), if cblas can read it
// where it lies. cblas requires ld ≥ max(1, length of a row of X).
std::optional<Layout> blas_layout(std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
                                  std::int64_t col_stride) {
  if (col_stride == 1 || cols == 1) {  // rows of the view are rows of memory: X = the view
    const std::int64_t ld = rows == 1 ? std::max<std::int64_t>(cols, 1) : row_stride;
    if (ld >= std::max<std::int64_t>(cols, 1) && fits_blasint(ld))
      return Layout{CblasNoTrans, static_cast<blasint>(ld)};
  }
  if (row_stride == 1 || rows == 1) {  // columns of the view are rows of memory: X = the viewᵀ
    const std::int64_t ld = cols == 1 ? std::max<std::int64_t>(rows, 1) : col_stride;
    if (ld >= std::max<std::int64_t>(rows, 1) && fits_blasint(ld))
      return Layout{CblasTrans, static_cast<blasint>(ld)};
  }
  return std::nullopt;
}

// The layout of the transposed view: the same memory with the other flag.
Layout flipped(Layout layout) {
  return {layout.trans == CblasNoTrans ? CblasTrans : CblasNoTrans, layout.ld};
}

// The first and last storage element a view touches, or nothing if it is empty.
std::optional<std::pair<std::int64_t, std::int64_t>> span(const Tensor& t) {
  const Shape &shape = t.shape(), &strides = t.strides();
  std::int64_t last = t.storage_offset();
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return std::nullopt;
    last += (shape[d] - 1) * strides[d];
  }
  return std::pair{t.storage_offset(), last};
}

// Whether two views may share an element. It compares their spans, so it also refuses two views
// whose elements interleave without coinciding (pass a copy of one of them instead).
bool overlaps(const Tensor& x, const Tensor& y) {
  if (x.impl()->storage != y.impl()->storage) return false;
  const auto sx = span(x), sy = span(y);
  return sx && sy && sx->first <= sy->second && sy->first <= sx->second;
}

// The checks gemm and gemm_naive share, all made before anything is written. They run on every
// call (once per time step in a recurrent layer), so they read each shape once, and their
// message arguments are references and numbers, formatted only on failure (fmt prints a Shape
// as "[2, 3]").
void check_operands(const Tensor& a, const Tensor& b, const Tensor& c, const char* op) {
  check(a.defined() && b.defined() && c.defined(), "{}: expected defined tensors a, b and c", op);
  const Shape &sa = a.shape(), &sb = b.shape(), &sc = c.shape();
  check(sa.size() == 2 && sb.size() == 2 && sc.size() == 2,
        "{}: expected 2-D tensors a (m×k), b (k×n) and c (m×n), got a {}, b {} and c {}", op, sa,
        sb, sc);
  check(sa[1] == sb[0] && sc[0] == sa[0] && sc[1] == sb[1],
        "{}: expected a (m×k), b (k×n) and c (m×n), got a {}, b {} and c {}", op, sa, sb, sc);
  check(a.dtype() == c.dtype() && b.dtype() == c.dtype(),
        "{}: expected a, b and c of one dtype, got {}, {} and {}", op, dtype_name(a.dtype()),
        dtype_name(b.dtype()), dtype_name(c.dtype()));
  for (std::size_t d = 0; d < 2; ++d)
    check(c.strides()[d] != 0 || sc[d] <= 1,
          "{}: c is an expanded view (stride 0 along dimension {}): more than one of its "
          "elements refers to a single memory location, so it cannot be written",
          op, d);
  check(!overlaps(c, a), "{}: the output c shares memory with the input a", op);
  check(!overlaps(c, b), "{}: the output c shares memory with the input b", op);
}

// c = beta · c: the whole result when k = 0, since an empty sum is 0. beta = 0 writes zeros
// without reading c, as BLAS does.
template <class T>
void scale(const Tensor& c, T beta) {
  T* out = c.data_ptr<T>();
  for_each_offset<1>(c.shape(), {&c.strides()}, [&](const auto& at) {
    out[at[0]] = beta == T(0) ? T(0) : beta * out[at[0]];
  });
}

// An operand as cblas will read it: the tensor itself if it can, else a contiguous copy (kept
// alive here for the duration of the call).
template <class T>
struct Operand {
  Tensor tensor;
  Layout layout;
  const T* data() const { return tensor.data_ptr<T>(); }
};

template <class T>
Operand<T> as_operand(const Tensor& x) {
  const Shape &shape = x.shape(), &strides = x.strides();
  if (auto layout = blas_layout(shape[0], shape[1], strides[0], strides[1])) return {x, *layout};
  const Tensor copy = x.detach().contiguous();  // row-major, rows `cols` apart
  return {copy, Layout{CblasNoTrans, static_cast<blasint>(shape[1])}};
}

// One row-major cblas call, sgemm or dgemm by T.
template <class T>
void cblas_gemm(Layout la, Layout lb, blasint m, blasint n, blasint k, T alpha, const T* a,
                const T* b, T beta, T* c, blasint ldc) {
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, la.trans, lb.trans, m, n, k, alpha, a, la.ld, b, lb.ld, beta, c,
                ldc);
  else
    cblas_dgemm(CblasRowMajor, la.trans, lb.trans, m, n, k, alpha, a, la.ld, b, lb.ld, beta, c,
                ldc);
}

// The same call split over the pool (core/parallel.h): the rows of c into blocks when c has at
// least as many rows as columns, else its columns, one block per thread, each a cblas call of its
// own on one thread. Row i of op(A) lies at a + i·lda when A is read as is, at a + i when it is
// read transposed (its columns are rows of memory); column j of op(B) at b + j, or b + j·ldb.
// Small products stay whole: a part under ~4 MFLOP would cost more to wake a thread for.
template <class T>
void parallel_gemm(Layout la, Layout lb, blasint m, blasint n, blasint k, T alpha, const T* a,
                   const T* b, T beta, T* c, blasint ldc) {
  const double flops = 2.0 * m * n * k;
  const int parts = parts_for(flops, 4e6);
  if (parts == 1) {
    cblas_gemm<T>(la, lb, m, n, k, alpha, a, b, beta, c, ldc);
    return;
  }
  const bool by_rows = m >= n;
  const std::int64_t length = by_rows ? m : n;
  // Blocks of whole 16s of rows or columns, what the kernels work on at a time.
  const std::int64_t block = ((length + parts - 1) / parts + 15) / 16 * 16;
  parallel_parts(parts, [&](int part) {
    const std::int64_t from = std::min(length, part * block);
    const std::int64_t size = std::min(length, from + block) - from;
    if (size == 0) return;
    if (by_rows)
      cblas_gemm<T>(la, lb, static_cast<blasint>(size), n, k, alpha,
                    a + from * (la.trans == CblasNoTrans ? la.ld : 1), b, beta, c + from * ldc,
                    ldc);
    else
      cblas_gemm<T>(la, lb, m, static_cast<blasint>(size), k, alpha, a,
                    b + from * (lb.trans == CblasNoTrans ? 1 : lb.ld), beta, c + from, ldc);
  });
}

}  // namespace

// c = alpha · a·b + beta · c
void gemm(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta) {
  check_operands(a, b, c, "gemm");
  dispatch_floating(c.dtype(), "gemm", [&]<class T>() {
    const Shape &sc = c.shape(), &stc = c.strides();
    const std::int64_t m = sc[0], n = sc[1], k = a.shape()[1];
    check(fits_blasint(m) && fits_blasint(n) && fits_blasint(k),
          "gemm: sizes m = {}, n = {}, k = {} exceed what cblas can index", m, n, k);
    if (m == 0 || n == 0) return;  // nothing to write
    if (k == 0) {
      scale<T>(c, static_cast<T>(beta));
      c.impl()->storage->bump_version();
      return;
    }
    const auto lc = blas_layout(m, n, stc[0], stc[1]);
    if (!lc) {
      // c has unit stride along neither dimension: compute into a contiguous temporary (which
      // holds c's values if beta needs them) and copy it back.
      Tensor tmp = beta == 0 ? empty({m, n}, c.dtype()) : c.detach().clone();
      gemm(a, b, tmp, alpha, beta);
      c.detach().copy_(tmp);
      return;
    }
    const Operand<T> oa = as_operand<T>(a), ob = as_operand<T>(b);
    T* out = c.data_ptr<T>();
    const auto mm = static_cast<blasint>(m), nn = static_cast<blasint>(n),
               kk = static_cast<blasint>(k);
    if (lc->trans == CblasNoTrans)
      parallel_gemm<T>(oa.layout, ob.layout, mm, nn, kk, static_cast<T>(alpha), oa.data(),
                       ob.data(), static_cast<T>(beta), out, lc->ld);
    else  // c is column-major: write cᵀ (n×m, row-major) = bᵀ·aᵀ
      parallel_gemm<T>(flipped(ob.layout), flipped(oa.layout), nn, mm, kk,
                       static_cast<T>(alpha), ob.data(), oa.data(), static_cast<T>(beta), out,
                       lc->ld);
    c.impl()->storage->bump_version();
  });
}

// c = alpha · a·b + beta · c, one dot product per element of c
void gemm_naive(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta) {
  check_operands(a, b, c, "gemm_naive");
  dispatch_numeric(c.dtype(), "gemm_naive", [&]<class T>() {
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;
    if constexpr (std::is_integral_v<T>)
      check(alpha == std::trunc(alpha) && beta == std::trunc(beta),
            "gemm_naive: int64 tensors need whole-number alpha and beta, got {} and {}", alpha,
            beta);
    const std::int64_t m = c.size(0), n = c.size(1), k = a.size(1);
    const T* x = a.data_ptr<T>();
    const T* y = b.data_ptr<T>();
    T* out = c.data_ptr<T>();
    const std::int64_t as0 = a.stride(0), as1 = a.stride(1), bs0 = b.stride(0),
                       bs1 = b.stride(1), cs0 = c.stride(0), cs1 = c.stride(1);
    const auto scale_ab = static_cast<Acc>(alpha), scale_c = static_cast<Acc>(beta);
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        // As in BLAS, alpha = 0 reads neither a nor b, and beta = 0 does not read c.
        Acc sum = 0;
        if (alpha != 0)
          for (std::int64_t p = 0; p < k; ++p)
            sum += static_cast<Acc>(x[i * as0 + p * as1]) * static_cast<Acc>(y[p * bs0 + j * bs1]);
        T& cell = out[i * cs0 + j * cs1];
        const Acc kept = beta == 0 ? Acc{0} : scale_c * static_cast<Acc>(cell);
        cell = static_cast<T>(scale_ab * sum + kept);
      }
    }
    if (m > 0 && n > 0) c.impl()->storage->bump_version();
  });
}

}  // namespace minigrad
