// Softmax and log-softmax along one dimension, and their backward.
//
//   softmax(x)_i     = exp(x_i) / Σ_j exp(x_j)
//   log_softmax(x)_i = x_i − log Σ_j exp(x_j)
// with i and j running along `dim`. Computed as written, exp(x_i) overflows float32 as soon as
// x_i passes 88.7. Both are unchanged when the same constant is subtracted from every x_j of a
// row, so the kernel subtracts the row's maximum m first: every exp(x_j − m) lies in [0, 1],
// the largest is exactly 1, and the sum lies in [1, n] — no overflow, and no 0/0 from a sum
// that underflowed. log_softmax is then x_i − m − log Σ_j exp(x_j − m), never log(softmax),
// which would turn a tiny probability into log 0 = −inf. The sum accumulates in double.
//
// Rows with NaN or +inf, and rows that are all −inf, come out NaN, as in PyTorch; a −inf in a
// row with a finite maximum gives probability 0 (log-probability −inf). Read after reduce.cpp,
// whose rows idea this file reuses.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/autograd.h"
#include "core/kernel.h"

namespace minigrad {

namespace {

// Writes softmax (or, with `log`, log_softmax) of every row of x along d into `out`, a fresh
// tensor of x's shape.
template <class T>
void softmax_kernel(const Tensor& x, const Tensor& out, std::int64_t d, bool log) {
  const Rows in = rows_along(x.shape(), x.strides(), d);
  const Rows to = rows_along(out.shape(), out.strides(), d);
  const T* src = x.data_ptr<T>();
  T* dst = out.data_ptr<T>();
  for_each_offset<2>(in.shape, {&x.strides(), &out.strides()}, [&](const auto& at) {
    const T* row = src + at[0];
    T* y = dst + at[1];
    // m = max_j x_j; a NaN is skipped here but reaches the sum below through x_j − m.
    T m = -std::numeric_limits<T>::infinity();
    for (std::int64_t k = 0; k < in.length; ++k) m = std::max(m, row[k * in.stride]);
    // total = Σ_j exp(x_j − m); softmax keeps each term in y, to be divided by the total.
    double total = 0;
    for (std::int64_t k = 0; k < in.length; ++k) {
      const T e = std::exp(row[k * in.stride] - m);
      total += e;
      if (!log) y[k * to.stride] = e;
    }
    if (log) {
      const double log_total = std::log(total);
      for (std::int64_t k = 0; k < in.length; ++k)
        y[k * to.stride] = static_cast<T>(static_cast<double>(row[k * in.stride]) - m - log_total);
    } else {
      for (std::int64_t k = 0; k < in.length; ++k)
        y[k * to.stride] = static_cast<T>(y[k * to.stride] / total);
    }
  });
}

// softmax (or, with `log`, log_softmax) of x along the wrapped dimension d, before autograd.
// A non-floating input is refused in PyTorch's words, which name the kernel PyTorch would have
// run: its own for each op along the last dimension, one shared by both along any other.
Tensor softmax_forward(const Tensor& x, std::int64_t d, bool log) {
  const bool last = x.dim() == 0 || d == x.dim() - 1;
  const char* op = !last ? "softmax_kernel_impl"
                   : log ? "log_softmax_lastdim_kernel_impl"
                         : "softmax_lastdim_kernel_impl";
  return dispatch_floating(x.dtype(), op, [&]<class T>() {
    Tensor out = empty(x.shape(), x.dtype());
    softmax_kernel<T>(x, out, d, log);
    return out;
  });
}

}  // namespace

// y = softmax(x) along dim: y_i = exp(x_i) / Σ_j exp(x_j)
Tensor softmax(const Tensor& x, std::int64_t dim) {
  const std::int64_t d = wrap_dim(dim, x.dim());
  Tensor out = softmax_forward(x, d, /*log=*/false);
  // The forward was y_i = exp(x_i) / Σ_j exp(x_j) along dim, so ∂y_i/∂x_k = y_i (δ_ik − y_k)
  // and grad_x_k = Σ_i grad_y_i y_i (δ_ik − y_k) = y_k (grad_y_k − Σ_i grad_y_i y_i):
  //   grad_x = y ⊙ (grad_y − Σ_dim(grad_y ⊙ y)).
  // Only the output is saved: the derivative is written in y alone.
  return record("SoftmaxBackward0", {x}, out, [y_saved = save(out), d](const Tensor& grad_y) {
    const Tensor y = y_saved.unpack();
    return grads(y * (grad_y - (grad_y * y).sum(d, /*keepdim=*/true)));
  });
}

// y = log_softmax(x) along dim: y_i = x_i − log Σ_j exp(x_j)
Tensor log_softmax(const Tensor& x, std::int64_t dim) {
  const std::int64_t d = wrap_dim(dim, x.dim());
  Tensor out = softmax_forward(x, d, /*log=*/true);
  // The forward was y_i = x_i − log Σ_j exp(x_j) along dim, so ∂y_i/∂x_k = δ_ik − softmax(x)_k
  // and grad_x_k = Σ_i grad_y_i (δ_ik − softmax(x)_k) = grad_y_k − softmax(x)_k Σ_i grad_y_i:
  //   grad_x = grad_y − softmax(x) ⊙ Σ_dim grad_y,   with softmax(x) = exp(y).
  // Only the output is saved; softmax(x) is recovered from it.
  return record("LogSoftmaxBackward0", {x}, out, [y_saved = save(out), d](const Tensor& grad_y) {
    const Tensor softmax_x = y_saved.unpack().exp();
    return grads(grad_y - softmax_x * grad_y.sum(d, /*keepdim=*/true));
  });
}

}  // namespace minigrad
