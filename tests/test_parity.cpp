// Parity with PyTorch: softmax, log_softmax, matmul and the reductions, outputs and gradients,
// against the values PyTorch 1.13 computed from the same inputs (tests/fixtures/core.txt,
// written by tests/make_fixtures.py, which lists every case).
//
// Each case feeds PyTorch's own inputs, runs the op, backpropagates PyTorch's upstream gradient
// and compares. float64 must agree within 1e-12, relative to the size of the numbers involved;
// float32 within a measured multiple of PyTorch's own float32 error (test::check_matches and
// test::check_float32 in support.h say exactly how, tests/README.md why); integers and indices
// exactly.
#define BOOST_TEST_MODULE parity
#include <algorithm>
#include <cmath>

#include "fixtures.h"
#include "support.h"

namespace {

void check_output(const mg::Tensor& actual, const test::Reference& expected) {
  test::check_matches(actual, expected, test::finite_max(expected.exact), expected.name);
}

void check_gradient(const mg::Tensor& actual, const test::Reference& expected,
                    const mg::Tensor& upstream) {
  const double scale = std::max(test::finite_max(expected.exact), test::finite_max(upstream));
  test::check_matches(actual, expected, scale, expected.name);
}

// A fixture tensor as a fresh leaf that requires grad.
mg::Tensor leaf(const test::Fixtures& fx, const std::string& name) {
  return fx.tensor(name).requires_grad_();
}

std::int64_t integer(const test::Fixtures& fx, const std::string& name) {
  return fx.tensor(name).item<std::int64_t>();
}

bool flag(const test::Fixtures& fx, const std::string& name) {
  return fx.tensor(name).item<bool>();
}

// The cases of `group`, which must not be empty (an empty list would test nothing).
std::vector<std::string> cases_of(const test::Fixtures& fx, const std::string& group) {
  std::vector<std::string> cases = fx.cases(group);
  BOOST_REQUIRE_MESSAGE(!cases.empty(), "no fixtures for " << group);
  return cases;
}

// softmax and log_softmax share their fixtures' layout.
void check_softmax_family(const std::string& group,
                          mg::Tensor (*op)(const mg::Tensor&, std::int64_t)) {
  const test::Fixtures fx("core.txt");
  for (const std::string& c : cases_of(fx, group)) {
    const std::string at = group + "/" + c + "/";
    mg::Tensor x = leaf(fx, at + "x");
    const mg::Tensor upstream = fx.tensor(at + "upstream");
    const mg::Tensor y = op(x, integer(fx, at + "dim"));
    check_output(y, fx.reference(at + "y"));
    y.backward(upstream);
    check_gradient(x.grad(), fx.reference(at + "grad_x"), upstream);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(softmax_matches_pytorch) {
  // softmax(x, dim): values near ±1e4 and spread over ±1e4, rows with -inf, every dim
  check_softmax_family("softmax", mg::softmax);
}

BOOST_AUTO_TEST_CASE(log_softmax_matches_pytorch) {
  // log_softmax(x, dim): the same inputs as softmax
  check_softmax_family("log_softmax", mg::log_softmax);
}

BOOST_AUTO_TEST_CASE(matmul_matches_pytorch) {
  // matmul(a, b): 1-D·1-D, 2-D·1-D, 1-D·2-D, 7×13·13×5, batched, broadcast batches
  const test::Fixtures fx("core.txt");
  for (const std::string& c : cases_of(fx, "matmul")) {
    const std::string at = "matmul/" + c + "/";
    mg::Tensor a = leaf(fx, at + "a");
    mg::Tensor b = leaf(fx, at + "b");
    const mg::Tensor upstream = fx.tensor(at + "upstream");
    const mg::Tensor y = mg::matmul(a, b);
    check_output(y, fx.reference(at + "y"));
    y.backward(upstream);
    check_gradient(a.grad(), fx.reference(at + "grad_a"), upstream);
    check_gradient(b.grad(), fx.reference(at + "grad_b"), upstream);
  }
}

BOOST_AUTO_TEST_CASE(sum_matches_pytorch) {
  // t.sum(), t.sum(dims, keepdim): several dims at once, keepdim, negative dims
  const test::Fixtures fx("core.txt");
  for (const std::string& c : cases_of(fx, "sum")) {
    const std::string at = "sum/" + c + "/";
    mg::Tensor x = leaf(fx, at + "x");
    const mg::Shape dims = fx.tensor(at + "dims").to_vector<std::int64_t>();
    const mg::Tensor upstream = fx.tensor(at + "upstream");
    const mg::Tensor y = dims.empty() ? x.sum() : x.sum(dims, flag(fx, at + "keepdim"));
    check_output(y, fx.reference(at + "y"));
    y.backward(upstream);
    check_gradient(x.grad(), fx.reference(at + "grad_x"), upstream);
  }
}

BOOST_AUTO_TEST_CASE(mean_matches_pytorch) {
  // t.mean(), t.mean(dim, keepdim)
  const test::Fixtures fx("core.txt");
  for (const std::string& c : cases_of(fx, "mean")) {
    const std::string at = "mean/" + c + "/";
    mg::Tensor x = leaf(fx, at + "x");
    const mg::Shape dims = fx.tensor(at + "dims").to_vector<std::int64_t>();
    BOOST_REQUIRE(dims.size() <= 1);
    const mg::Tensor upstream = fx.tensor(at + "upstream");
    const mg::Tensor y = dims.empty() ? x.mean() : x.mean(dims[0], flag(fx, at + "keepdim"));
    check_output(y, fx.reference(at + "y"));
    y.backward(upstream);
    check_gradient(x.grad(), fx.reference(at + "grad_x"), upstream);
  }
}

BOOST_AUTO_TEST_CASE(long_float32_reductions_match_pytorch) {
  // t.sum(), t.sum(1), t.mean(), t.mean(1) over 2 × 10000 float32 values spread over eight
  // orders of magnitude. A plain float32 running sum is off by about 5e-6 here; PyTorch's
  // result is within 2e-7 of the exact sum, and ours must be within a few times as close.
  const test::Fixtures fx("core.txt");
  const mg::Tensor x = fx.tensor("long_sum/f32/x");
  const auto check = [&](const mg::Tensor& actual, const std::string& part) {
    test::check_matches(actual, fx.reference("long_sum/f32/" + part), 0, "long_sum/f32/" + part);
  };
  check(x.sum(), "sum_all");
  check(x.sum(1), "sum_dim1");
  check(x.mean(), "mean_all");
  check(x.mean(1), "mean_dim1");
}

BOOST_AUTO_TEST_CASE(max_along_a_dim_matches_pytorch) {
  // t.max(dim, keepdim) -> (values, indices): ties give the first index, nan wins, -inf rows;
  // the gradient goes to the element each index names
  const test::Fixtures fx("core.txt");
  for (const std::string& c : cases_of(fx, "max")) {
    const std::string at = "max/" + c + "/";
    mg::Tensor x = fx.tensor(at + "x");
    const bool floating = mg::is_floating(x.dtype());
    if (floating) x.requires_grad_();
    const auto [values, indices] = x.max(integer(fx, at + "dim"), flag(fx, at + "keepdim"));
    check_output(values, fx.reference(at + "values"));
    check_output(indices, fx.reference(at + "indices"));
    if (!floating) continue;
    const mg::Tensor upstream = fx.tensor(at + "upstream");
    values.backward(upstream);
    check_gradient(x.grad(), fx.reference(at + "grad_x"), upstream);
  }
}

BOOST_AUTO_TEST_CASE(max_of_all_elements_matches_pytorch) {
  // t.max(): the gradient is shared evenly among tied maxima, as in PyTorch
  const test::Fixtures fx("core.txt");
  for (const std::string& c : cases_of(fx, "max_all")) {
    const std::string at = "max_all/" + c + "/";
    mg::Tensor x = leaf(fx, at + "x");
    const mg::Tensor upstream = fx.tensor(at + "upstream");
    const mg::Tensor y = x.max();
    check_output(y, fx.reference(at + "y"));
    y.backward(upstream);
    check_gradient(x.grad(), fx.reference(at + "grad_x"), upstream);
  }
}

BOOST_AUTO_TEST_CASE(argmax_matches_pytorch) {
  // t.argmax(dim, keepdim): the first index of the maximum, nan counting as the maximum
  const test::Fixtures fx("core.txt");
  for (const std::string& c : cases_of(fx, "argmax")) {
    const std::string at = "argmax/" + c + "/";
    const mg::Tensor x = fx.tensor(at + "x");
    const mg::Tensor y = x.argmax(integer(fx, at + "dim"), flag(fx, at + "keepdim"));
    check_output(y, fx.reference(at + "y"));
  }
}
