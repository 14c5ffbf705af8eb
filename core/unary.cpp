// Functions of one element: pow, exp, log, sqrt, tanh, sigmoid, abs, relu and clamp, with
// their backward.
//
// Each op maps every element on its own, y_i = f(x_i), so each backward is the chain rule one
// element at a time: grad_x = grad ⊙ f'(x), where grad = ∂loss/∂y and x, y, grad and grad_x all
// have one shape. Where f' is cheapest to write in terms of the output (exp, sqrt, tanh,
// sigmoid), the node saves y instead of x. abs, relu and clamp are piecewise linear: their
// derivative is a step, 0, 1 or −1 per element, computed in the backward by derivative() below.
// pow with a tensor exponent is the one binary op here; it broadcasts and promotes like
// elementwise.cpp.
//
// Dtypes: the transcendental functions (exp, log, sqrt, tanh, sigmoid) exist for floating point
// only, so an integer or bool input is first converted to float32, as torch.exp(torch.arange(3))
// is; abs, relu, clamp and pow keep integers as integers. Read after elementwise.cpp;
// compare.cpp comes next.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <type_traits>

#include "core/autograd.h"
#include "core/broadcast.h"
#include "core/kernel.h"

namespace minigrad {

namespace {

// x itself if it is floating point, else x converted to float32 (PyTorch's default dtype).
Tensor to_floating(const Tensor& x) { return is_floating(x.dtype()) ? x : x.to(kFloat32); }

// y = f(x) elementwise, for x of a floating dtype; f is a generic lambda.
template <class F>
Tensor floating_map(const Tensor& x, const char* op, F f) {
  return dispatch_floating(x.dtype(), op, [&]<class T>() { return map<T, T>(x, f); });
}

// y = f(x) elementwise, for x of any dtype but bool.
template <class F>
Tensor numeric_map(const Tensor& x, const char* op, F f) {
  return dispatch_numeric(x.dtype(), op, [&]<class T>() { return map<T, T>(x, f); });
}

// A local derivative ∂y/∂x = f(x) as a tensor of x's floating dtype, for the backward of a
// piecewise op, where f gives a step value (0, 1 or −1) per element.
template <class F>
Tensor derivative(const Tensor& x, F f) {
  return dispatch_floating(x.dtype(), "derivative",
                           [&]<class T>() { return map<T, T>(x, [&](T v) -> T { return f(v); }); });
}

// A local derivative f(x, e) of two broadcast operands of one floating dtype (pow's).
template <class F>
Tensor derivative(const Tensor& x, const Tensor& e, F f) {
  return dispatch_floating(x.dtype(), "derivative", [&]<class T>() {
    return zip<T, T, T>(x, e, [&](T u, T v) -> T { return f(u, v); });
  });
}

// base^exponent in integers, by repeated squaring; the products wrap around on overflow as they
// do in PyTorch. A negative exponent follows PyTorch's integer rule: 1 and −1 keep their
// magnitude, any other base gives 0.
std::int64_t integer_pow(std::int64_t base, std::int64_t exponent) {
  if (exponent < 0) {
    if (base == 1) return 1;
    if (base == -1) return exponent % 2 == 0 ? 1 : -1;
    return 0;
  }
  std::uint64_t result = 1, square = static_cast<std::uint64_t>(base);
  for (auto bits = static_cast<std::uint64_t>(exponent); bits != 0; bits >>= 1) {
    if (bits & 1) result *= square;
    square *= square;
  }
  return static_cast<std::int64_t>(result);
}

// σ(v) = 1 / (1 + e^−v), evaluated so that e is never raised to a positive power: for v < 0 the
// same value is written e^v / (1 + e^v). Nothing overflows, and σ saturates to exactly 0 or 1.
template <class T>
T stable_sigmoid(T v) {
  if (v >= 0) return T(1) / (T(1) + std::exp(-v));
  const T e = std::exp(v);
  return e / (T(1) + e);
}

}  // namespace

// ---- Powers ---------------------------------------------------------------------------------

// y = x^e for a number e
Tensor pow(const Tensor& input, Scalar exponent) {
  check(input.defined(), "pow: expected a defined tensor");
  const Dtype dtype = exponent.result_dtype(input.dtype());  // int ^ 0.5 is float32
  check(is_floating(dtype) || exponent.to_double() >= 0,
        "Integers to negative integer powers are not allowed.");
  const Tensor x = input.to(dtype);
  Tensor out = dispatch_numeric(dtype, "pow", [&]<class T>() {
    if constexpr (std::is_integral_v<T>) {
      const auto e = convert<std::int64_t>(exponent.to_double());
      return map<T, T>(x, [e](T v) { return integer_pow(v, e); });
    } else {
      const auto e = static_cast<T>(exponent.to_double());
      // The square, the commonest power (every squared error), as one product instead of a call
      // to pow: the same value, correctly rounded, several times faster. PyTorch does the same.
      if (e == 2) return map<T, T>(x, [](T v) { return v * v; });
      return map<T, T>(x, [e](T v) { return std::pow(v, e); });
    }
  });
  // The forward was y = x^e, so ∂y/∂x = e·x^(e−1) and grad_x = grad ⊙ e·x^(e−1). For e = 0, y
  // is the constant 1 and grad_x = 0, as in PyTorch (the formula would give 0·0^−1 = NaN at 0).
  return record("PowBackward0", {x}, out,
                [x_saved = save(x), e = exponent.to_double()](const Tensor& grad) {
                  const Tensor base = x_saved.unpack();
                  if (e == 0) return grads(zeros_like(base));
                  if (e == 2) return grads(grad * base * 2.0);  // x^1 = x: no pow needed
                  return grads(grad * base.pow(e - 1) * e);
                });
}

// y = x^e elementwise, with x and e broadcast to a common shape
Tensor pow(const Tensor& base, const Tensor& exponent) {
  check(base.defined() && exponent.defined(), "pow: expected two defined tensors");
  const Dtype dtype = result_type(base, exponent);
  const Tensor x = base.to(dtype), e = exponent.to(dtype);  // recorded: grads convert back
  Tensor out = dispatch_numeric(dtype, "pow", [&]<class T>() {
    if constexpr (std::is_integral_v<T>)
      return zip<T, T, T>(x, e, integer_pow);
    else
      return zip<T, T, T>(x, e, [](T u, T v) { return std::pow(u, v); });
  });
  // The forward was y = x^e, so ∂y/∂x = e·x^(e−1) and ∂y/∂e = x^e·ln x; each gradient is grad
  // times its local derivative, summed down to its input's shape. Where these formulas give
  // NaN for a function that is flat, PyTorch takes 0, and so do we: ∂y/∂x = 0 where e = 0 (y is
  // the constant 1), and ∂y/∂e = 0 where x = 0 and e ≥ 0 (y is the constant 0, or 1 at e = 0).
  return record("PowBackward1", {x, e}, out,
                [x_saved = save(x), e_saved = save(e)](const Tensor& grad, const NeedsGrad& needs) {
                  const Tensor u = x_saved.unpack(), v = e_saved.unpack();
                  Tensor grad_x, grad_e;
                  if (needs[0]) {
                    const Tensor dy_dx = derivative(
                        u, v, [](auto a, auto b) { return b == 0 ? 0 : b * std::pow(a, b - 1); });
                    grad_x = sum_to(grad * dy_dx, u.shape());
                  }
                  if (needs[1]) {
                    const Tensor dy_de = derivative(u, v, [](auto a, auto b) {
                      return a == 0 && b >= 0 ? 0 : std::pow(a, b) * std::log(a);
                    });
                    grad_e = sum_to(grad * dy_de, v.shape());
                  }
                  return grads(grad_x, grad_e);
                });
}

Tensor Tensor::pow(Scalar exponent) const { return minigrad::pow(*this, exponent); }
Tensor Tensor::pow(const Tensor& exponent) const { return minigrad::pow(*this, exponent); }

// ---- Exponential, logarithm, square root ------------------------------------------------------

// y = eˣ
Tensor exp(const Tensor& input) {
  check(input.defined(), "exp: expected a defined tensor");
  const Tensor x = to_floating(input);
  Tensor out = floating_map(x, "exp", [](auto v) { return std::exp(v); });
  // The forward was y = eˣ, so ∂y/∂x = eˣ = y and grad_x = grad ⊙ y. The node saves y.
  return record("ExpBackward0", {x}, out,
                [y = save(out)](const Tensor& grad) { return grads(grad * y.unpack()); });
}

// y = ln x
Tensor log(const Tensor& input) {
  check(input.defined(), "log: expected a defined tensor");
  const Tensor x = to_floating(input);
  Tensor out = floating_map(x, "log", [](auto v) { return std::log(v); });
  // The forward was y = ln x, so ∂y/∂x = 1/x and grad_x = grad / x. The node saves x.
  return record("LogBackward0", {x}, out,
                [x_saved = save(x)](const Tensor& grad) { return grads(grad / x_saved.unpack()); });
}

// y = √x
Tensor sqrt(const Tensor& input) {
  check(input.defined(), "sqrt: expected a defined tensor");
  const Tensor x = to_floating(input);
  Tensor out = floating_map(x, "sqrt", [](auto v) { return std::sqrt(v); });
  // The forward was y = √x, so ∂y/∂x = 1 / (2√x) = 1 / (2y) and grad_x = grad / (2y). The node
  // saves y.
  return record("SqrtBackward0", {x}, out,
                [y = save(out)](const Tensor& grad) { return grads(grad / (y.unpack() * 2)); });
}

Tensor Tensor::exp() const { return minigrad::exp(*this); }
Tensor Tensor::log() const { return minigrad::log(*this); }
Tensor Tensor::sqrt() const { return minigrad::sqrt(*this); }

// ---- Squashing activations ---------------------------------------------------------------------

// y = tanh x
Tensor tanh(const Tensor& input) {
  check(input.defined(), "tanh: expected a defined tensor");
  const Tensor x = to_floating(input);
  Tensor out = floating_map(x, "tanh", [](auto v) { return std::tanh(v); });
  // The forward was y = tanh x, so ∂y/∂x = 1 − tanh²x = 1 − y² and grad_x = grad ⊙ (1 − y²).
  // The node saves y.
  return record("TanhBackward0", {x}, out, [y = save(out)](const Tensor& grad) {
    const Tensor out_y = y.unpack();
    return grads(grad * (1 - out_y * out_y));
  });
}

// y = σ(x) = 1 / (1 + e^−x)
Tensor sigmoid(const Tensor& input) {
  check(input.defined(), "sigmoid: expected a defined tensor");
  const Tensor x = to_floating(input);
  Tensor out = floating_map(x, "sigmoid", [](auto v) { return stable_sigmoid(v); });
  // The forward was y = 1 / (1 + e^−x), so ∂y/∂x = e^−x / (1 + e^−x)² = y·(1 − y) and
  // grad_x = grad ⊙ y ⊙ (1 − y). The node saves y.
  return record("SigmoidBackward0", {x}, out, [y = save(out)](const Tensor& grad) {
    const Tensor out_y = y.unpack();
    return grads(grad * out_y * (1 - out_y));
  });
}

Tensor Tensor::tanh() const { return minigrad::tanh(*this); }
Tensor Tensor::sigmoid() const { return minigrad::sigmoid(*this); }

// ---- Piecewise linear: abs, relu, clamp ---------------------------------------------------------

// y = |x|
Tensor abs(const Tensor& x) {
  check(x.defined(), "abs: expected a defined tensor");
  Tensor out = numeric_map(x, "abs_cpu", [](auto v) { return std::abs(v); });
  // The forward was y = |x|, so ∂y/∂x = sign(x): 1 for x > 0, −1 for x < 0, and 0 at the kink
  // x = 0 (PyTorch's choice). grad_x = grad ⊙ sign(x). The node saves x.
  return record("AbsBackward0", {x}, out, [x_saved = save(x)](const Tensor& grad) {
    const Tensor sign = derivative(x_saved.unpack(), [](auto v) { return (v > 0) - (v < 0); });
    return grads(grad * sign);
  });
}

// y = max(x, 0)
Tensor relu(const Tensor& x) {
  check(x.defined(), "relu: expected a defined tensor");
  check(x.dtype() != kBool, "Boolean inputs not supported for relu");
  Tensor out = numeric_map(x, "relu", [](auto v) { return v < 0 ? 0 : v; });  // NaN stays NaN
  // The forward was y = max(x, 0), so ∂y/∂x = 1 where y > 0 and 0 where y ≤ 0 (the kink at 0
  // gets 0): grad_x = grad where y > 0, else 0. PyTorch tests y ≤ 0 for the zeros, so a NaN
  // element passes its gradient; written the same way here. The node saves y.
  return record("ReluBackward0", {x}, out, [y = save(out)](const Tensor& grad) {
    const Tensor step = derivative(y.unpack(), [](auto v) { return v <= 0 ? 0 : 1; });
    return grads(grad * step);
  });
}

// y = min(max(x, min), max); either bound may be left out, not both
Tensor clamp(const Tensor& input, std::optional<Scalar> min, std::optional<Scalar> max) {
  check(input.defined(), "clamp: expected a defined tensor");
  check(min.has_value() || max.has_value(),
        "torch.clamp: At least one of 'min' or 'max' must not be None");
  // The dtype of x with the bounds, as for x + bound: an int tensor with a bound 0.5 is float32.
  Dtype dtype = input.dtype();
  if (min) dtype = min->result_dtype(dtype);
  if (max) dtype = max->result_dtype(dtype);
  const Tensor x = input.to(dtype);
  const bool has_min = min.has_value(), has_max = max.has_value();
  const double lo = has_min ? min->to_double() : 0, hi = has_max ? max->to_double() : 0;
  // max is applied last, so when min > max every element becomes max, as in PyTorch.
  Tensor out = dispatch_numeric(dtype, "clamp", [&]<class T>() {
    const T lo_t = convert<T>(lo), hi_t = convert<T>(hi);
    return map<T, T>(x, [=](T v) {
      if (has_min) v = std::max(v, lo_t);  // NaN stays NaN: it is the first argument
      if (has_max) v = std::min(v, hi_t);
      return v;
    });
  });
  // The forward was y = x where min ≤ x ≤ max and a constant bound elsewhere, so ∂y/∂x = 1 in
  // that range (bounds included, as in PyTorch) and 0 outside it: grad_x = grad where
  // min ≤ x ≤ max, else 0. When min > max no x is in range, and grad_x = 0 everywhere. The bounds
  // are compared in x's dtype, as the forward used them. The node saves x.
  return record("ClampBackward1", {x}, out,
                [x_saved = save(x), has_min, has_max, lo, hi](const Tensor& grad) {
                  const Tensor step = derivative(x_saved.unpack(), [=](auto v) {
                    using T = decltype(v);
                    const bool above_min = !has_min || v >= convert<T>(lo);
                    const bool below_max = !has_max || v <= convert<T>(hi);
                    return above_min && below_max ? 1 : 0;
                  });
                  return grads(grad * step);
                });
}

Tensor Tensor::abs() const { return minigrad::abs(*this); }
Tensor Tensor::relu() const { return minigrad::relu(*this); }
Tensor Tensor::clamp(std::optional<Scalar> min, std::optional<Scalar> max) const {
  return minigrad::clamp(*this, min, max);
}

}  // namespace minigrad
