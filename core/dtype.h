// Element types, and how one kernel template is run for whichever type a tensor holds.
//
// minigrad's tensors hold float32 (the default), float64 (for gradient checks), int64 (indices,
// lengths, class labels) or bool (the result of a comparison, the mask of masked_fill). Kernels
// are written once as templates over the element type T and dispatched on the dtype at run time:
//
//   dispatch(t.dtype(), "exp", [&]<class T>() { ... code using T ... });
//
// Arithmetic between different dtypes promotes the way PyTorch does (bool < int64 < float32 <
// float64), and a plain C++ number in an expression (`x * 2`, `x + 0.5`) is a Scalar that
// remembers whether it was written as an integer. Read after error.h; shape.h comes next.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>

#include "core/error.h"

namespace minigrad {

enum class Dtype : std::uint8_t { Bool, Int64, Float32, Float64 };

inline constexpr Dtype kBool = Dtype::Bool;
inline constexpr Dtype kInt64 = Dtype::Int64;
inline constexpr Dtype kFloat32 = Dtype::Float32;
inline constexpr Dtype kFloat64 = Dtype::Float64;

// PyTorch's short names, used in error messages ("expected scalar type Float but found Double").
constexpr std::string_view dtype_name(Dtype d) {
  switch (d) {
    case kBool: return "Bool";
    case kInt64: return "Long";
    case kFloat32: return "Float";
    case kFloat64: return "Double";
  }
  return "?";
}

// The names PyTorch prints in a tensor's repr ("dtype=torch.float64").
constexpr std::string_view dtype_repr(Dtype d) {
  switch (d) {
    case kBool: return "torch.bool";
    case kInt64: return "torch.int64";
    case kFloat32: return "torch.float32";
    case kFloat64: return "torch.float64";
  }
  return "?";
}

constexpr bool is_floating(Dtype d) { return d == kFloat32 || d == kFloat64; }

constexpr std::size_t element_size(Dtype d) {
  switch (d) {
    case kBool: return sizeof(bool);
    case kInt64: return sizeof(std::int64_t);
    case kFloat32: return sizeof(float);
    case kFloat64: return sizeof(double);
  }
  return 0;
}

// The dtype of a C++ element type: dtype_of<float> == kFloat32.
template <class T>
constexpr Dtype dtype_of() {
  if constexpr (std::is_same_v<T, bool>) return kBool;
  else if constexpr (std::is_same_v<T, std::int64_t>) return kInt64;
  else if constexpr (std::is_same_v<T, float>) return kFloat32;
  else if constexpr (std::is_same_v<T, double>) return kFloat64;
  else static_assert(!sizeof(T), "minigrad tensors hold bool, int64_t, float or double");
}

// Runs body.template operator()<T>() with T the element type of `d`.
template <class Body>
decltype(auto) dispatch(Dtype d, Body&& body) {
  switch (d) {
    case kBool: return body.template operator()<bool>();
    case kInt64: return body.template operator()<std::int64_t>();
    case kFloat32: return body.template operator()<float>();
    case kFloat64: return body.template operator()<double>();
  }
  throw Error("dispatch: unknown dtype");
}

// The same for operations defined only on floating point; `op` names the operation in the error.
template <class Body>
decltype(auto) dispatch_floating(Dtype d, std::string_view op, Body&& body) {
  switch (d) {
    case kFloat32: return body.template operator()<float>();
    case kFloat64: return body.template operator()<double>();
    default: throw Error(fmt::format("\"{}\" not implemented for '{}'", op, dtype_name(d)));
  }
}

// The same for arithmetic: every dtype but bool.
template <class Body>
decltype(auto) dispatch_numeric(Dtype d, std::string_view op, Body&& body) {
  switch (d) {
    case kInt64: return body.template operator()<std::int64_t>();
    case kFloat32: return body.template operator()<float>();
    case kFloat64: return body.template operator()<double>();
    default: throw Error(fmt::format("\"{}\" not implemented for '{}'", op, dtype_name(d)));
  }
}

// Converts one element between element types with a defined result for every input. A plain
// static_cast is undefined behaviour for a float out of the target's range (NaN or 1e30 to
// int64, 1e300 to float); here those give what PyTorch gives on x86: the lowest int64 for any
// NaN or out-of-range float, and ±inf for a double too large for float.
template <class To, class From>
To convert(From value) {
  if constexpr (std::is_same_v<To, bool>) {
    return value != From{0};
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    // 2^63 is exactly representable; int64 holds [−2^63, 2^63).
    constexpr double limit = 9223372036854775808.0;
    const double v = static_cast<double>(value);
    if (!(v >= -limit && v < limit)) return std::numeric_limits<To>::min();
    return static_cast<To>(value);
  } else if constexpr (std::is_same_v<To, float> && std::is_same_v<From, double>) {
    if (std::isfinite(value) && std::abs(value) > std::numeric_limits<float>::max())
      return value > 0 ? std::numeric_limits<float>::infinity()
                       : -std::numeric_limits<float>::infinity();
    return static_cast<To>(value);
  } else {
    return static_cast<To>(value);
  }
}

// Signed overflow is undefined behaviour in C++, while PyTorch's int64 arithmetic wraps around.
// Integers are therefore computed in the unsigned type, where wrapping is defined:
//   wrapping(a, b, std::plus<>()) is a + b, modulo 2^64 for int64.
template <class T, class Op>
T wrapping(T a, T b, Op op) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(op(static_cast<U>(a), static_cast<U>(b)));
  } else {
    return op(a, b);
  }
}

// The dtype two tensor operands are computed in: the later of the two in bool < int64 <
// float32 < float64, as PyTorch's type promotion does for these four types.
constexpr Dtype promote_types(Dtype a, Dtype b) { return a > b ? a : b; }

// A plain number standing in an expression with tensors. It keeps whether it was written as an
// integer, because PyTorch does: int_tensor * 2 stays int64, int_tensor * 2.5 becomes float32.
class Scalar {
 public:
  template <class T>
    requires std::is_arithmetic_v<T>
  Scalar(T value)  // NOLINT(google-explicit-constructor): numbers convert implicitly, as in PyTorch
      : value_(static_cast<double>(value)), integral_(std::is_integral_v<T>) {}

  double to_double() const { return value_; }
  bool is_integral() const { return integral_; }

  // The dtype `tensor_dtype op scalar` is computed in: a float scalar makes an integer tensor's
  // result float32 (PyTorch's default dtype); otherwise the tensor's dtype wins.
  Dtype result_dtype(Dtype tensor_dtype) const {
    if (!integral_ && !is_floating(tensor_dtype)) return kFloat32;
    if (integral_ && tensor_dtype == kBool) return kInt64;
    return tensor_dtype;
  }

 private:
  double value_;
  bool integral_;
};

// `value` as an element of type T, refusing with PyTorch's message a number T cannot hold:
// int64 holds the integers in [−2⁶³, 2⁶³) (not NaN, not ±inf); float holds ±inf, NaN and
// |v| ≤ FLT_MAX. Used wherever a number is written into a tensor (fill_, full, masked_fill).
template <class T>
T element_value(Scalar value) {
  const double v = value.to_double();
  if constexpr (std::is_same_v<T, std::int64_t>) {
    check(v >= -0x1p63 && v < 0x1p63, "value cannot be converted to type int64_t without overflow");
  } else if constexpr (std::is_same_v<T, float>) {
    check(!std::isfinite(v) || std::abs(v) <= std::numeric_limits<float>::max(),
          "value cannot be converted to type float without overflow");
  }
  return convert<T>(v);
}

}  // namespace minigrad
