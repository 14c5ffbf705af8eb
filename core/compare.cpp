// Comparisons, where and masked_fill: the ops that make bool masks and the ops that use them.
//
// A comparison (== != < <= > >=) broadcasts its operands like arithmetic, compares them in
// their promoted dtype (int64 2 < float32 2.5 compares in float32) and gives a bool tensor
// (kBool). Its result is piecewise constant in its inputs, so it has no useful gradient and
// autograd never records it, as in PyTorch.
//
// A mask then chooses between values: where(condition, a, b) takes a where the condition holds
// and b elsewhere; x.masked_fill(mask, value) writes a number where the mask holds. Both are
// differentiable in the values they pass on — the gradient flows to whichever input each output
// element came from — and not in the mask. Shapes: condition, a and b (mask and x) broadcast
// to the shape of y, and each gradient is summed back down to its input's shape with sum_to,
// as in elementwise.cpp (sum_to is in reduce.cpp). Read after unary.cpp.
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <type_traits>

#include "core/autograd.h"
#include "core/broadcast.h"
#include "core/kernel.h"

namespace minigrad {

namespace {

// y = (a ≶ b) elementwise in the promoted dtype, with a and b broadcast; y is bool.
template <class Compare>
Tensor compare(const Tensor& a, const Tensor& b, const char* op, Compare relation) {
  check(a.defined() && b.defined(), "{}: expected two defined tensors", op);
  const Dtype dtype = result_type(a, b);
  // Comparisons are not differentiable: the operands are read as plain values (detached), so
  // converting them records nothing.
  const Tensor x = a.detach().to(dtype), y = b.detach().to(dtype);
  return dispatch(dtype, [&]<class T>() { return zip<bool, T, T>(x, y, relation); });
}

// A number compared with a tensor becomes a 0-d tensor of the dtype PyTorch would use:
// int_tensor < 2.5 compares in float32, float_tensor == 0.1 in the tensor's own dtype.
Tensor scalar_operand(Scalar s, const Tensor& t, const char* op) {
  check(t.defined(), "{}: expected a defined tensor", op);
  return scalar_tensor(s, s.result_dtype(t.dtype()));
}

}  // namespace

// ---- Comparisons: y_i = (a_i ≶ b_i), bool ---------------------------------------------------

Tensor Tensor::eq(const Tensor& other) const {
  return compare(*this, other, "eq", std::equal_to<>());
}
Tensor Tensor::ne(const Tensor& other) const {
  return compare(*this, other, "ne", std::not_equal_to<>());
}
Tensor Tensor::lt(const Tensor& other) const { return compare(*this, other, "lt", std::less<>()); }
Tensor Tensor::le(const Tensor& other) const {
  return compare(*this, other, "le", std::less_equal<>());
}
Tensor Tensor::gt(const Tensor& other) const {
  return compare(*this, other, "gt", std::greater<>());
}
Tensor Tensor::ge(const Tensor& other) const {
  return compare(*this, other, "ge", std::greater_equal<>());
}

Tensor operator==(const Tensor& a, const Tensor& b) { return a.eq(b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return a.ne(b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return a.lt(b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return a.le(b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return a.gt(b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return a.ge(b); }
Tensor operator==(const Tensor& a, Scalar b) { return a.eq(scalar_operand(b, a, "eq")); }
Tensor operator!=(const Tensor& a, Scalar b) { return a.ne(scalar_operand(b, a, "ne")); }
Tensor operator<(const Tensor& a, Scalar b) { return a.lt(scalar_operand(b, a, "lt")); }
Tensor operator<=(const Tensor& a, Scalar b) { return a.le(scalar_operand(b, a, "le")); }
Tensor operator>(const Tensor& a, Scalar b) { return a.gt(scalar_operand(b, a, "gt")); }
Tensor operator>=(const Tensor& a, Scalar b) { return a.ge(scalar_operand(b, a, "ge")); }
Tensor operator==(Scalar a, const Tensor& b) { return scalar_operand(a, b, "eq").eq(b); }
Tensor operator!=(Scalar a, const Tensor& b) { return scalar_operand(a, b, "ne").ne(b); }
Tensor operator<(Scalar a, const Tensor& b) { return scalar_operand(a, b, "lt").lt(b); }
Tensor operator<=(Scalar a, const Tensor& b) { return scalar_operand(a, b, "le").le(b); }
Tensor operator>(Scalar a, const Tensor& b) { return scalar_operand(a, b, "gt").gt(b); }
Tensor operator>=(Scalar a, const Tensor& b) { return scalar_operand(a, b, "ge").ge(b); }

// ---- where ----------------------------------------------------------------------------------

// y = condition ? a : b elementwise, with condition, a and b broadcast to one shape
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  check(condition.defined() && a.defined() && b.defined(), "where: expected three defined tensors");
  check(condition.dtype() == kBool,
        "where expected condition to be a boolean tensor, but got a tensor with dtype {}",
        dtype_name(condition.dtype()));
  const Shape shape = broadcast_shapes(broadcast_shapes(condition.shape(), a.shape()), b.shape());
  const Dtype dtype = result_type(a, b);
  const Tensor x = a.to(dtype), y = b.to(dtype);  // recorded: grads convert back

  Tensor out = empty(shape, dtype);
  const Shape out_strides = out.strides();
  const Shape c_strides = broadcast_strides(condition.shape(), condition.strides(), shape);
  const Shape x_strides = broadcast_strides(x.shape(), x.strides(), shape);
  const Shape y_strides = broadcast_strides(y.shape(), y.strides(), shape);
  dispatch(dtype, [&]<class T>() {
    T* o = out.data_ptr<T>();
    const bool* c = condition.data_ptr<bool>();
    const T* u = x.data_ptr<T>();
    const T* v = y.data_ptr<T>();
    for_each_offset<4>(shape, {&out_strides, &c_strides, &x_strides, &y_strides},
                       [&](const auto& at) { o[at[0]] = c[at[1]] ? u[at[2]] : v[at[3]]; });
  });
  // The forward was y = condition ? a : b, so ∂y/∂a = 1 where the condition holds and 0
  // elsewhere, and ∂y/∂b the other way round: grad_a = grad where condition, else 0, and
  // grad_b = 0 where condition, else grad, each summed down to its input's shape. The node
  // saves the condition.
  return record("WhereBackward0", {x, y}, out,
                [cond = save(condition), sa = x.shape(), sb = y.shape()](const Tensor& grad,
                                                                         const NeedsGrad& needs) {
                  const Tensor c = cond.unpack();
                  const Tensor zero = zeros({}, grad.dtype());
                  return grads(needs[0] ? sum_to(where(c, grad, zero), sa) : Tensor(),
                               needs[1] ? sum_to(where(c, zero, grad), sb) : Tensor());
                });
}

// ---- masked_fill --------------------------------------------------------------------------------

// y = x with `value` where the mask holds: y_i = mask_i ? value : x_i. A new tensor (x is left
// as it was) of the broadcast shape of x and mask, in x's dtype.
Tensor Tensor::masked_fill(const Tensor& mask, Scalar value) const {
  checked();
  check(mask.defined(), "masked_fill: expected a defined mask");
  check(mask.dtype() == kBool,
        "masked_fill_ only supports boolean masks, but got mask with dtype {}",
        dtype_name(mask.dtype()));
  const Shape out_shape = broadcast_shapes(shape(), mask.shape());
  Tensor out = dispatch(dtype(), [&]<class T>() {
    const T fill = element_value<T>(value);
    Tensor filled = empty(out_shape, dtype());
    T* o = filled.data_ptr<T>();
    const T* x = data_ptr<T>();
    const bool* m = mask.data_ptr<bool>();
    const Shape out_strides = filled.strides();
    const Shape x_strides = broadcast_strides(shape(), strides(), out_shape);
    const Shape m_strides = broadcast_strides(mask.shape(), mask.strides(), out_shape);
    for_each_offset<3>(out_shape, {&out_strides, &x_strides, &m_strides},
                       [&](const auto& at) { o[at[0]] = m[at[2]] ? fill : x[at[1]]; });
    return filled;
  });
  // The forward was y = mask ? value : x, so ∂y/∂x = 0 where the mask holds (y is the constant
  // value there) and 1 elsewhere: grad_x = grad with the masked places zeroed, summed down to
  // x's shape (a bigger mask broadcasts x). The node saves the mask.
  return record("MaskedFillBackward0", {*this}, out,
                [m = save(mask), in = shape()](const Tensor& grad) {
                  return grads(sum_to(grad.masked_fill(m.unpack(), 0), in));
                });
}

}  // namespace minigrad
