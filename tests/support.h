// What every test file shares: seeded random inputs, the gradient-check wrapper and tensor
// comparisons that fail with a message naming the element, the expected and the actual value.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include "minigrad.h"

namespace mg = minigrad;

namespace test {

// A float64 leaf of the given shape, N(0, 1) from the global generator, requiring grad.
inline mg::Tensor leaf(const mg::Shape& shape) {
  return mg::randn(shape, mg::kFloat64).requires_grad_();
}

// Runs mg::gradcheck on (fn(inputs) ⊙ w).sum() with w ~ N(0, 1) fixed for the check: a random
// upstream gradient, so that a gradient sent to the wrong element or transposed cannot pass.
// A failure is reported through Boost with gradcheck's message (input, element, both values).
inline void check_gradients(const std::function<mg::Tensor(const std::vector<mg::Tensor>&)>& fn,
                            const std::vector<mg::Tensor>& inputs,
                            mg::GradcheckOptions options = {}) {
  mg::Tensor weights;
  {
    mg::NoGradGuard no_grad;
    weights = mg::randn(fn(inputs).shape(), mg::kFloat64);
  }
  auto weighted = [&](const std::vector<mg::Tensor>& in) { return (fn(in) * weights).sum(); };
  try {
    BOOST_CHECK(mg::gradcheck(weighted, inputs, options));
  } catch (const mg::Error& e) {
    BOOST_ERROR(e.what());
  }
}

// Checks that `actual` has `expected`'s shape and that every element agrees within
// atol + rtol·|expected|; reports the first few mismatches with their flat index.
inline void check_close(const mg::Tensor& actual, const mg::Tensor& expected, double rtol = 1e-6,
                        double atol = 1e-8, const std::string& what = "tensor") {
  BOOST_REQUIRE_MESSAGE(actual.defined(), what << ": actual tensor is undefined");
  BOOST_REQUIRE_MESSAGE(actual.shape() == expected.shape(),
                        what << ": shape " << mg::shape_str(actual.shape()) << ", expected "
                             << mg::shape_str(expected.shape()));
  const auto a = actual.to(mg::kFloat64).to_vector<double>();
  const auto e = expected.to(mg::kFloat64).to_vector<double>();
  int reported = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const bool ok = (std::isnan(e[i]) && std::isnan(a[i])) || a[i] == e[i] ||  // ±inf, exact
                    std::abs(a[i] - e[i]) <= atol + rtol * std::abs(e[i]);
    if (!ok && reported++ < 5)
      BOOST_ERROR(what << ": element " << i << " is " << a[i] << ", expected " << e[i]);
  }
  BOOST_CHECK_MESSAGE(reported == 0, what << ": " << reported << " elements differ");
}

// True when a and b have the same dtype, shape and values, bit for bit (no NaN in them).
inline bool identical(const mg::Tensor& a, const mg::Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         a.to(mg::kFloat64).to_vector<double>() == b.to(mg::kFloat64).to_vector<double>();
}

// ---- Comparing with PyTorch's fixtures -----------------------------------------------------------

// The largest finite magnitude in t (0 if there is none).
inline double finite_max(const mg::Tensor& t) {
  double max = 0;
  for (double v : t.to(mg::kFloat64).to_vector<double>())
    if (std::isfinite(v)) max = std::max(max, std::abs(v));
  return max;
}

// Checks `actual` against PyTorch's `expected`: the same shape and dtype, and then
//   - int64 and bool: every element equal;
//   - floating point: nan where PyTorch has nan, the same infinity where it has one, and
//     elsewhere |actual − expected| <= rtol · (|expected| + scale), with rtol 1e-12 for
//     float64 and 1e-6 for float32 (about 16 float32 roundings).
// `scale` is the magnitude of the numbers the result is computed from: an element that comes
// out small by cancellation (a sum of large terms of both signs) can only be as exact as those
// terms. Outputs pass their own largest magnitude; gradients also the upstream gradient's.
inline void check_matches(const mg::Tensor& actual, const mg::Tensor& expected, double scale,
                   const std::string& what) {
  BOOST_REQUIRE_MESSAGE(actual.defined(), what << ": undefined");
  BOOST_REQUIRE_MESSAGE(actual.shape() == expected.shape(),
                        what << ": shape " << mg::shape_str(actual.shape()) << ", PyTorch has "
                             << mg::shape_str(expected.shape()));
  BOOST_REQUIRE_MESSAGE(actual.dtype() == expected.dtype(),
                        what << ": dtype " << mg::dtype_repr(actual.dtype()) << ", PyTorch has "
                             << mg::dtype_repr(expected.dtype()));
  if (!mg::is_floating(expected.dtype())) {
    const auto a = actual.to(mg::kInt64).to_vector<std::int64_t>();
    const auto e = expected.to(mg::kInt64).to_vector<std::int64_t>();
    for (std::size_t i = 0; i < a.size(); ++i)
      BOOST_CHECK_MESSAGE(a[i] == e[i], what << ": element " << i << " is " << a[i]
                                             << ", PyTorch has " << e[i]);
    return;
  }
  const double rtol = expected.dtype() == mg::kFloat64 ? 1e-12 : 1e-6;
  const auto a = actual.to(mg::kFloat64).to_vector<double>();
  const auto e = expected.to(mg::kFloat64).to_vector<double>();
  int wrong = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    bool ok;
    if (std::isnan(e[i])) ok = std::isnan(a[i]);
    else if (std::isinf(e[i])) ok = a[i] == e[i];
    else ok = std::abs(a[i] - e[i]) <= rtol * (std::abs(e[i]) + scale);
    if (!ok && wrong++ < 5)
      BOOST_ERROR(what << ": element " << i << " is " << fmt::format("{:.17g}", a[i])
                       << ", PyTorch has " << fmt::format("{:.17g}", e[i]));
  }
  BOOST_CHECK_MESSAGE(wrong == 0,
                      what << ": " << wrong << " of " << a.size() << " elements differ");
}

// Checks that `statement` throws mg::Error whose message contains `fragment`.
template <class F>
void check_error(F&& statement, const std::string& fragment) {
  try {
    statement();
    BOOST_ERROR("expected mg::Error containing \"" << fragment << "\", but nothing was thrown");
  } catch (const mg::Error& e) {
    BOOST_CHECK_MESSAGE(std::string(e.what()).find(fragment) != std::string::npos,
                        "error message \"" << e.what() << "\" does not contain \"" << fragment
                                           << "\"");
  }
}

}  // namespace test
