// What every test file shares: seeded random inputs, the gradient-check wrapper and tensor
// comparisons that fail with a message naming the element, the expected and the actual value;
// and the comparisons with PyTorch's fixtures, float32 results among them (tests/README.md).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include "fixtures.h"
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

// Checks `actual` against PyTorch's float64 or integer `expected`: the same shape and dtype,
// and then
//   - int64 and bool: every element equal;
//   - float64: nan where PyTorch has nan, the same infinity where it has one, and elsewhere
//     |actual − expected| <= 1e-12 · (|expected| + scale).
// `scale` is the magnitude of the numbers the result is computed from: an element that comes
// out small by cancellation (a sum of large terms of both signs) can only be as exact as those
// terms. Outputs pass their own largest magnitude; gradients also the upstream gradient's.
// A float32 result is not compared this way: see check_float32 below. Returns whether every
// element passed.
inline bool check_matches(const mg::Tensor& actual, const mg::Tensor& expected, double scale,
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
    bool all = true;
    for (std::size_t i = 0; i < a.size(); ++i) {
      BOOST_CHECK_MESSAGE(a[i] == e[i], what << ": element " << i << " is " << a[i]
                                             << ", PyTorch has " << e[i]);
      all = all && a[i] == e[i];
    }
    return all;
  }
  BOOST_REQUIRE_MESSAGE(expected.dtype() == mg::kFloat64,
                        what << ": a float32 result is compared with check_float32");
  const double rtol = 1e-12;
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
  return wrong == 0;
}

// ---- Float32 results against PyTorch's ---------------------------------------------------------
//
// A float32 result can agree with PyTorch's float32 result only as well as PyTorch's own float32
// result is reproducible, and that moves between CPUs: another summation order in a vectorized
// kernel or another BLAS kernel changes the last bits, and an ill-conditioned step (the
// cancellation in centered RMSprop) magnifies them. So a float32 result is held not to PyTorch's
// float32 answer but to the float64 answer to the same question (Reference::exact), and is
// allowed kFloat32Factor times the distance at which PyTorch's own float32 answer lies from it
// (Reference::f32_error, measured by the fixture script), but never less than that many float32
// roundings of the result's scale:
//
//   |actual − exact| <= kFloat32Factor · max(f32_error, 2⁻²⁴ · max(max |exact|, scale))
//
// PyTorch's float32 answer on any CPU lies about f32_error from the exact one, so its spread
// between CPUs is at most about twice that. tests/README.md gives the spreads and the ratios
// measured on every OpenBLAS core type and ATEN_CPU_CAPABILITY this machine runs, and why
// kFloat32Factor is 8.
inline constexpr double kFloat32Factor = 8;
inline constexpr double kFloat32Rounding = 0x1p-24;  // a float32 rounding, relative

// With MG_FLOAT32_MARGINS=FILE, each check_float32 appends "RATIO WHAT" to FILE, RATIO being
// max |actual − exact| in units of max(f32_error, rounding): how much of kFloat32Factor the
// result used. tests/portability.sh collects them.
inline void report_float32_margin(double ratio, const std::string& what) {
  static const char* path = std::getenv("MG_FLOAT32_MARGINS");
  if (path == nullptr || *path == '\0') return;
  std::ofstream(path, std::ios::app) << fmt::format("{:.4g} {}\n", ratio, what);
}

// Checks a result computed in float32 (or from float32 results) against PyTorch's `expected` by
// the rule above; where PyTorch's answer is nan or infinite, the same is expected. Returns
// whether every element passed; the first few that did not are reported with both answers.
inline bool check_float32(const mg::Tensor& actual, const Reference& expected, double scale,
                          const std::string& what) {
  BOOST_REQUIRE_MESSAGE(actual.defined(), what << ": undefined");
  BOOST_REQUIRE_MESSAGE(actual.shape() == expected.exact.shape(),
                        what << ": shape " << mg::shape_str(actual.shape()) << ", PyTorch has "
                             << mg::shape_str(expected.exact.shape()));
  BOOST_REQUIRE_MESSAGE(expected.f32_error.defined() && expected.f32_error.dim() == 0,
                        what << ": the fixture has no measure of PyTorch's float32 error for "
                             << expected.name);
  const auto a = actual.to(mg::kFloat64).to_vector<double>();
  const auto exact = expected.exact.to(mg::kFloat64).to_vector<double>();
  const auto pytorch = expected.value.to(mg::kFloat64).to_vector<double>();
  const double error = expected.f32_error.item<double>();
  const double rounding = kFloat32Rounding * std::max(finite_max(expected.exact), scale);
  const double unit = std::max(error, rounding);
  const double bound = kFloat32Factor * unit;
  double worst = 0;
  int wrong = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    bool ok;
    if (std::isnan(pytorch[i])) {
      ok = std::isnan(a[i]);
    } else if (std::isinf(pytorch[i])) {
      ok = a[i] == pytorch[i];
    } else {
      const double gap = std::abs(a[i] - exact[i]);
      ok = gap <= bound;  // false for a nan
      worst = std::max(worst, std::isnan(gap) ? HUGE_VAL : gap);
    }
    if (!ok && wrong++ < 5)
      BOOST_ERROR(what << ": element " << i << " is " << fmt::format("{:.9g}", a[i])
                       << ", the float64 answer " << fmt::format("{:.9g}", exact[i])
                       << ", PyTorch's float32 one " << fmt::format("{:.9g}", pytorch[i])
                       << "; allowed " << fmt::format("{:.3g}", bound) << " = "
                       << kFloat32Factor << " × " << fmt::format("{:.3g}", unit));
  }
  if (unit > 0) report_float32_margin(worst / unit, what);
  BOOST_CHECK_MESSAGE(wrong == 0,
                      what << ": " << wrong << " of " << a.size() << " elements differ");
  return wrong == 0;
}

// Checks `actual` against one of PyTorch's results: by the float32 rule when either side was
// computed in float32, else by check_matches.
inline bool check_matches(const mg::Tensor& actual, const Reference& expected, double scale,
                          const std::string& what) {
  BOOST_REQUIRE_MESSAGE(actual.defined(), what << ": undefined");
  if (actual.dtype() == mg::kFloat32 || expected.from_float32()) {
    BOOST_CHECK_MESSAGE(actual.dtype() == (expected.from_float32() ? expected.value.dtype()
                                                                   : mg::kFloat32),
                        what << ": dtype " << mg::dtype_repr(actual.dtype()));
    return check_float32(actual, expected, scale, what);
  }
  return check_matches(actual, expected.value, scale, what);
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
