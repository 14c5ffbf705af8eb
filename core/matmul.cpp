// Matrix products: mg::matmul with torch.matmul's rules, and its backward.
//
// Shapes: a is (…, m, k) and b is (…, k, n); k is the dimension the product sums over.
// matmul reads the ranks of its operands as torch.matmul does:
//   (k)·(k)                    → ()               dot product
//   (m, k)·(k)                 → (m)              matrix times vector
//   (k)·(k, n)                 → (n)              vector times matrix
//   (m, k)·(k, n)              → (m, n)           matrix product
//   (batch…, m, k)·(k, n)      → (batch…, m, n)   a batch of matrices times one matrix (or ·(k))
//   (batch_a…, m, k)·(batch_b…, k, n) → (broadcast(batch_a, batch_b)…, m, n)
// and a vector in a batched product is a one-row matrix whose row is dropped again.
//
// Only two functions here record a node: mm (2-D·2-D, MmBackward0) and bmm (a batch of 2-D
// products, BmmBackward0). Every other case is one of them wrapped in differentiable views: a
// vector becomes a one-row or one-column matrix (unsqueeze) and loses it again (squeeze), a batch
// times one matrix is folded into one tall matrix (reshape), and broadcast batch dimensions are
// expand views, whose backward sums the gradient back over the copies (sum_to, broadcast.h). So
// autograd does the chain rule for those cases, and only the two products need a derivation.
// Both compute with gemm (blas.h); int64 products, which BLAS lacks, use its naive twin.
// Read after blas.h (and indexing.cpp in the op order of tensor.h); softmax.cpp comes next.
#include "core/autograd.h"
#include "core/blas.h"
#include "core/kernel.h"

namespace minigrad {

namespace {

// ---- Checks ---------------------------------------------------------------------------------

// What PyTorch's kernels check after the shapes: that the first operand is not bool (the
// kernel has no bool version), then that the second has the first one's dtype.
void check_dtypes(const Tensor& first, const Tensor& second, const char* kernel) {
  check(first.dtype() != kBool, "\"{}\" not implemented for 'Bool'", kernel);
  check(first.dtype() == second.dtype(), "expected scalar type {} but found {}",
        dtype_name(first.dtype()), dtype_name(second.dtype()));
}

// The checks torch.matmul makes, in its order and in its words, before anything is computed.
// PyTorch turns each case into one kernel call (dot, mv, mm or bmm) and its messages describe
// that call: a batch times a matrix or vector is first folded into one tall matrix, so
// (2, 2, 3)·(4, 5) reports "4x3 and 4x5"; a vector or matrix times a batch is computed
// transposed, as bᵀ·aᵀ with bᵀ folded, so (3)·(2, 4, 5) reports "size mismatch, got 10, 10x4,3".
void check_matmul(const Tensor& a, const Tensor& b) {
  check(a.defined() && b.defined(), "matmul: expected two defined tensors");
  const std::int64_t da = a.dim(), db = b.dim();
  check(da >= 1 && db >= 1,
        "both arguments to matmul need to be at least 1D, but they are {}D and {}D", da, db);

  if (da == 1 && db == 1) {  // dot checks the dtypes first
    check(a.dtype() == b.dtype(),
          "dot : expected both vectors to have same dtype, but found {} and {}",
          dtype_name(a.dtype()), dtype_name(b.dtype()));
    check(a.numel() == b.numel(),
          "inconsistent tensor size, expected tensor [{}] and src [{}] to have the same number "
          "of elements, but got {} and {} elements respectively",
          a.numel(), b.numel(), a.numel(), b.numel());
    check(a.dtype() != kBool, "\"dot\" not implemented for 'Bool'");
    return;
  }

  if (da >= 3 && db >= 3) {  // bmm over the broadcast batch
    const Shape batch_a(a.shape().begin(), a.shape().end() - 2);
    const Shape batch_b(b.shape().begin(), b.shape().end() - 2);
    const std::int64_t count = shape_numel(broadcast_shapes(batch_a, batch_b));
    check(a.size(-1) == b.size(-2),
          "Expected size for first two dimensions of batch2 tensor to be: [{}, {}] but got: "
          "[{}, {}].",
          count, a.size(-1), count, b.size(-2));
    check_dtypes(a, b, "bmm");
    return;
  }

  // One mv or mm: `first` is a (rows × inner) matrix, `second` a vector or a matrix.
  const bool transposed = db >= 3;
  const Tensor& first = transposed ? b : a;
  const Tensor& second = transposed ? a : b;
  std::int64_t rows = 1, inner = 0;
  if (transposed) {  // bᵀ, folded: (batch·n, k)
    for (std::int64_t d = 0; d < db - 2; ++d) rows *= b.size(d);
    rows *= b.size(-1);
    inner = b.size(-2);
  } else {  // a, folded: (batch·m, k); a vector is one row
    for (std::int64_t d = 0; d < da - 1; ++d) rows *= a.size(d);
    inner = a.size(-1);
  }
  if (second.dim() == 1) {
    check(inner == second.size(0), "size mismatch, got {}, {}x{},{}", rows, rows, inner,
          second.size(0));
    check_dtypes(first, second, "addmv_impl_cpu");
  } else {  // the matrix is b, or aᵀ in the transposed case
    const std::int64_t r2 = second.size(transposed ? 1 : 0), c2 = second.size(transposed ? 0 : 1);
    check(inner == r2, "mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{})", rows, inner,
          r2, c2);
    check_dtypes(first, second, "addmm_impl_cpu_");
  }
}

// ---- Kernels ----------------------------------------------------------------------------------

// out = a·b for 2-D views: OpenBLAS for floating point, the plain loop for int64.
void product(const Tensor& a, const Tensor& b, const Tensor& out) {
  if (is_floating(out.dtype()))
    gemm(a, b, out);
  else
    gemm_naive(a, b, out);
}

// A 2-D view of the last two dimensions of t, starting where t starts. It records nothing.
Tensor matrix_view(const Tensor& t) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl()->storage;
  impl->dtype = t.dtype();
  impl->shape = {t.size(-2), t.size(-1)};
  impl->strides = {t.stride(-2), t.stride(-1)};
  impl->offset = t.storage_offset();
  return Tensor(std::move(impl));
}

// out (batch…, m, n) = a (batch…, m, k) · b (batch…, k, n), all three of one batch shape: one
// product per batch index, on 2-D views of the three. The views are made once and their offsets
// moved through the batch, so the loop copies and allocates nothing; an expanded batch
// dimension (stride 0) simply visits the same matrix again.
void batched_product(const Tensor& a, const Tensor& b, const Tensor& out) {
  const Shape batch(out.shape().begin(), out.shape().end() - 2);
  const Shape a_strides(a.strides().begin(), a.strides().end() - 2);
  const Shape b_strides(b.strides().begin(), b.strides().end() - 2);
  const Shape out_strides(out.strides().begin(), out.strides().end() - 2);
  Tensor a_mat = matrix_view(a), b_mat = matrix_view(b), out_mat = matrix_view(out);
  for_each_offset<3>(batch, {&a_strides, &b_strides, &out_strides}, [&](const auto& at) {
    a_mat.impl()->offset = a.storage_offset() + at[0];
    b_mat.impl()->offset = b.storage_offset() + at[1];
    out_mat.impl()->offset = out.storage_offset() + at[2];
    product(a_mat, b_mat, out_mat);
  });
}

// ---- The two recorded products ----------------------------------------------------------------

// C = A·B: (m, k)·(k, n) → (m, n)
Tensor mm(const Tensor& a, const Tensor& b) {
  Tensor out = empty({a.size(0), b.size(1)}, a.dtype());
  product(a, b, out);
  // The forward was C = A·B, that is C_ij = Σ_p A_ip·B_pj, so ∂C_ij/∂A_ip = B_pj and
  // ∂C_ij/∂B_pj = A_ip. Summing over the elements of C that each input element fed:
  //   grad_A_ip = Σ_j grad_C_ij·B_pj, so grad_A = grad_C·Bᵀ   (m, n)·(n, k) → (m, k)
  //   grad_B_pj = Σ_i A_ip·grad_C_ij, so grad_B = Aᵀ·grad_C   (k, m)·(m, n) → (k, n)
  // A is needed only for grad_B and B only for grad_A, so each is saved only if the other
  // operand needs a gradient (and nothing is saved when nothing is recorded). Bᵀ and Aᵀ are
  // transposed views: gemm folds them into its transpose flags instead of copying them.
  const bool need_a = grad_mode_enabled() && a.requires_grad();
  const bool need_b = grad_mode_enabled() && b.requires_grad();
  return record("MmBackward0", {a, b}, out,
                [a_saved = need_b ? save(a) : SavedTensor(),
                 b_saved = need_a ? save(b) : SavedTensor()](const Tensor& grad,
                                                             const NeedsGrad& needs) {
                  Tensor grad_a, grad_b;
                  if (needs[0]) {
                    const Tensor mat_b = b_saved.unpack();
                    grad_a = empty({grad.size(0), mat_b.size(0)}, grad.dtype());
                    gemm(grad, mat_b.t(), grad_a);
                  }
                  if (needs[1]) {
                    const Tensor mat_a = a_saved.unpack();
                    grad_b = empty({mat_a.size(1), grad.size(1)}, grad.dtype());
                    gemm(mat_a.t(), grad, grad_b);
                  }
                  return grads(grad_a, grad_b);
                });
}

// C[i] = A[i]·B[i] for every batch index i: (batch…, m, k)·(batch…, k, n) → (batch…, m, n)
Tensor bmm(const Tensor& a, const Tensor& b) {
  Shape shape = a.shape();
  shape.back() = b.size(-1);
  Tensor out = empty(shape, a.dtype());
  batched_product(a, b, out);
  // The forward was C[i] = A[i]·B[i], one independent mm per batch index i, so mm's rule holds
  // slice by slice: grad_A[i] = grad_C[i]·B[i]ᵀ and grad_B[i] = A[i]ᵀ·grad_C[i]. What each
  // input saves, and why, is as in mm.
  const bool need_a = grad_mode_enabled() && a.requires_grad();
  const bool need_b = grad_mode_enabled() && b.requires_grad();
  return record("BmmBackward0", {a, b}, out,
                [a_saved = need_b ? save(a) : SavedTensor(),
                 b_saved = need_a ? save(b) : SavedTensor()](const Tensor& grad,
                                                             const NeedsGrad& needs) {
                  Tensor grad_a, grad_b;
                  if (needs[0]) {
                    const Tensor mat_b = b_saved.unpack();
                    Shape shape_a = grad.shape();  // (batch…, m, k)
                    shape_a.back() = mat_b.size(-2);
                    grad_a = empty(shape_a, grad.dtype());
                    batched_product(grad, mat_b.transpose(-2, -1), grad_a);
                  }
                  if (needs[1]) {
                    const Tensor mat_a = a_saved.unpack();
                    Shape shape_b = grad.shape();  // (batch…, k, n)
                    shape_b[shape_b.size() - 2] = mat_a.size(-1);
                    grad_b = empty(shape_b, grad.dtype());
                    batched_product(mat_a.transpose(-2, -1), grad, grad_b);
                  }
                  return grads(grad_a, grad_b);
                });
}

}  // namespace

// y = a·b, with torch.matmul's rules for the ranks (see the table above)
Tensor matmul(const Tensor& a, const Tensor& b) {
  check_matmul(a, b);
  const std::int64_t da = a.dim(), db = b.dim();
  if (da == 1 && db == 1) return mm(a.unsqueeze(0), b.unsqueeze(1)).reshape({});  // (1, 1) → ()
  if (da == 2 && db == 1) return mm(a, b.unsqueeze(1)).squeeze(1);  // (m, 1) → (m)
  if (da == 1 && db == 2) return mm(a.unsqueeze(0), b).squeeze(0);  // (1, n) → (n)
  if (da == 2 && db == 2) return mm(a, b);

  if (db <= 2) {
    // (batch…, m, k)·(k, n): every row of every matrix of a meets the same b, so a is folded
    // into one tall (batch·m, k) matrix: one GEMM, and in backward one GEMM for grad_b with no
    // sum over the batch. The fold is a view when a's batch dimensions can merge, else a copy.
    Shape out_shape(a.shape().begin(), a.shape().end() - 1);  // (batch…, m)
    const Tensor folded = a.reshape({shape_numel(out_shape), a.size(-1)});
    if (db == 1) return mm(folded, b.unsqueeze(1)).reshape(out_shape);
    out_shape.push_back(b.size(1));
    return mm(folded, b).reshape(out_shape);  // (batch…, m, n)
  }

  // b is a batch (batch_b…, k, n); a is a vector, one matrix or a batch (batch_a…, m, k). Both
  // are expanded (no copy) to the broadcast batch, and each batch index is one mm.
  const Tensor a_mat = da == 1 ? a.unsqueeze(0) : a;  // a vector is one row: (1, k)
  const Shape batch = broadcast_shapes(Shape(a_mat.shape().begin(), a_mat.shape().end() - 2),
                                       Shape(b.shape().begin(), b.shape().end() - 2));
  Shape shape_a = batch, shape_b = batch;
  shape_a.insert(shape_a.end(), {a_mat.size(-2), a_mat.size(-1)});  // (batch…, m, k)
  shape_b.insert(shape_b.end(), {b.size(-2), b.size(-1)});          // (batch…, k, n)
  const Tensor a_batch = a_mat.shape() == shape_a ? a_mat : a_mat.expand(shape_a);
  const Tensor b_batch = b.shape() == shape_b ? b : b.expand(shape_b);
  const Tensor out = bmm(a_batch, b_batch);  // (batch…, m, n)
  return da == 1 ? out.squeeze(-2) : out;    // drop the vector's row: (batch…, n)
}

}  // namespace minigrad
