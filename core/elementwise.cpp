// Arithmetic between tensors: + − × ÷ with NumPy broadcasting, and their backward.
//
// This is the first op file to read; every other one follows its pattern. Each op computes its
// result with a kernel from kernel.h, then record()s its backward right under it, with the
// derivation in the comment above.
//
// Broadcasting makes one rule appear in every backward here: if an input of shape (3, 1) was
// stretched to (2, 3, 4) in the forward, each of its elements fed 2·4 outputs, so its gradient
// is the sum of theirs — sum_to(grad, input_shape) (reduce.cpp). The mixed-dtype rule is
// PyTorch's: both operands are first converted (differentiably) to the common dtype, so the
// nodes below always see two inputs of one dtype. Read after kernel.h; unary.cpp comes next.
#include <functional>

#include "core/autograd.h"
#include "core/broadcast.h"
#include "core/kernel.h"

namespace minigrad {

namespace {

// out = f(x, y) elementwise, for two operands already converted to `dtype`.
template <class F>
Tensor binary_kernel(const Tensor& x, const Tensor& y, Dtype dtype, const char* op, F f) {
  return dispatch_numeric(dtype, op, [&]<class T>() { return zip<T, T, T>(x, y, f); });
}

void check_operands(const Tensor& a, const Tensor& b, const char* op) {
  check(a.defined() && b.defined(), "{}: expected two defined tensors", op);
  check(a.dtype() != kBool || b.dtype() != kBool,
        "{}: arithmetic on two bool tensors is not supported; convert one with .to(mg::kInt64)",
        op);
}

}  // namespace

// The dtype PyTorch computes `a op b` in: the promotion of the two dtypes, except that a 0-d
// tensor decides only when it is of a higher category (bool < integer < floating) than the
// other operand — x_float32 + tensor(2.0, float64) stays float32.
Dtype result_type(const Tensor& a, const Tensor& b) {
  const auto category = [](Dtype d) { return d == kBool ? 0 : (is_floating(d) ? 2 : 1); };
  if (a.dim() == 0 && b.dim() > 0 && category(a.dtype()) <= category(b.dtype())) return b.dtype();
  if (b.dim() == 0 && a.dim() > 0 && category(b.dtype()) <= category(a.dtype())) return a.dtype();
  return promote_types(a.dtype(), b.dtype());
}

// y = a + b
Tensor add(const Tensor& a, const Tensor& b) {
  check_operands(a, b, "add");
  const Dtype dtype = result_type(a, b);
  const Tensor x = a.to(dtype), y = b.to(dtype);  // recorded: grads convert back
  Tensor out = binary_kernel(x, y, dtype, "add", [](auto u, auto v) { return wrapping(u, v, std::plus<>()); });
  // The forward was y = a + b, so ∂y/∂a = ∂y/∂b = 1: grad_a = grad_y and grad_b = grad_y, each
  // summed over the dimensions that input was broadcast along.
  return record("AddBackward0", {x, y}, out,
                [sa = x.shape(), sb = y.shape()](const Tensor& grad) {
                  return grads(sum_to(grad, sa), sum_to(grad, sb));
                });
}

// y = a − b
Tensor sub(const Tensor& a, const Tensor& b) {
  check_operands(a, b, "sub");
  const Dtype dtype = result_type(a, b);
  const Tensor x = a.to(dtype), y = b.to(dtype);  // recorded: grads convert back
  Tensor out = binary_kernel(x, y, dtype, "sub", [](auto u, auto v) { return wrapping(u, v, std::minus<>()); });
  // The forward was y = a − b, so ∂y/∂a = 1 and ∂y/∂b = −1.
  return record("SubBackward0", {x, y}, out,
                [sa = x.shape(), sb = y.shape()](const Tensor& grad, const NeedsGrad& needs) {
                  return grads(sum_to(grad, sa), needs[1] ? sum_to(-grad, sb) : Tensor());
                });
}

// y = a ⊙ b
Tensor mul(const Tensor& a, const Tensor& b) {
  check_operands(a, b, "mul");
  const Dtype dtype = result_type(a, b);
  const Tensor x = a.to(dtype), y = b.to(dtype);  // recorded: grads convert back
  Tensor out = binary_kernel(x, y, dtype, "mul", [](auto u, auto v) { return wrapping(u, v, std::multiplies<>()); });
  // The forward was y = a ⊙ b, so ∂y/∂a = b and ∂y/∂b = a: grad_a = grad_y ⊙ b and
  // grad_b = grad_y ⊙ a. Each input saves the other.
  return record("MulBackward0", {x, y}, out,
                [a_saved = save(x), b_saved = save(y)](const Tensor& grad, const NeedsGrad& needs) {
                  const Tensor u = a_saved.unpack(), v = b_saved.unpack();
                  return grads(needs[0] ? sum_to(grad * v, u.shape()) : Tensor(),
                               needs[1] ? sum_to(grad * u, v.shape()) : Tensor());
                });
}

// y = a / b (true division: integers divide into float32, as in PyTorch)
Tensor div(const Tensor& a, const Tensor& b) {
  check_operands(a, b, "div");
  Dtype dtype = result_type(a, b);
  if (!is_floating(dtype)) dtype = kFloat32;
  const Tensor x = a.to(dtype), y = b.to(dtype);  // recorded: grads convert back
  Tensor out = binary_kernel(x, y, dtype, "div", [](auto u, auto v) { return u / v; });
  // The forward was y = a / b, so ∂y/∂a = 1/b and ∂y/∂b = −a/b²: grad_a = grad_y / b and
  // grad_b = −grad_y ⊙ a / b².
  return record("DivBackward0", {x, y}, out,
                [a_saved = save(x), b_saved = save(y)](const Tensor& grad, const NeedsGrad& needs) {
                  const Tensor u = a_saved.unpack(), v = b_saved.unpack();
                  return grads(needs[0] ? sum_to(grad / v, u.shape()) : Tensor(),
                               needs[1] ? sum_to(-grad * u / (v * v), v.shape()) : Tensor());
                });
}

// y = −x
Tensor neg(const Tensor& x) {
  check(x.defined(), "neg: expected a defined tensor");
  check(x.dtype() != kBool,
        "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
        "invert a mask, use the `~` or `logical_not()` operator instead.");
  Tensor out = dispatch_numeric(x.dtype(), "neg",
                                [&]<class T>() {
    return map<T, T>(x, [](T v) { return wrapping(T{0}, v, std::minus<>()); });
  });
  // The forward was y = −x, so grad_x = −grad_y.
  return record("NegBackward0", {x}, out, [](const Tensor& grad) { return grads(-grad); });
}

Tensor Tensor::neg() const { return minigrad::neg(*this); }

// ---- Operators: a number in an expression becomes a 0-d tensor of the dtype PyTorch would use.

namespace {
Tensor scalar_like(Scalar s, const Tensor& t) {
  check(t.defined(), "arithmetic with a number: expected a defined tensor");
  return scalar_tensor(s, s.result_dtype(t.dtype()));
}
}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, Scalar b) { return add(a, scalar_like(b, a)); }
Tensor operator-(const Tensor& a, Scalar b) { return sub(a, scalar_like(b, a)); }
Tensor operator*(const Tensor& a, Scalar b) { return mul(a, scalar_like(b, a)); }
Tensor operator/(const Tensor& a, Scalar b) { return div(a, scalar_like(b, a)); }
Tensor operator+(Scalar a, const Tensor& b) { return add(scalar_like(a, b), b); }
Tensor operator-(Scalar a, const Tensor& b) { return sub(scalar_like(a, b), b); }
Tensor operator*(Scalar a, const Tensor& b) { return mul(scalar_like(a, b), b); }
Tensor operator/(Scalar a, const Tensor& b) { return div(scalar_like(a, b), b); }
Tensor operator-(const Tensor& x) { return neg(x); }

}  // namespace minigrad
