// Reductions (core/reduce.cpp): sum, mean, max and argmax — exact values on small integers,
// shapes with and without keepdim, negative dims, NaN and ties as PyTorch 1.13 has them,
// gradient checks, and PyTorch's error messages.
#define BOOST_TEST_MODULE reduce
#include <cmath>
#include <limits>

#include "support.h"

namespace {

// Checks dtype, shape and every value exactly: for results that are integers or hand-derivable.
template <class T>
void check_exact(const mg::Tensor& actual, const mg::Shape& shape, const std::vector<T>& values) {
  BOOST_REQUIRE(actual.defined());
  BOOST_CHECK_MESSAGE(actual.dtype() == mg::dtype_of<T>(),
                      "dtype " << mg::dtype_name(actual.dtype()) << ", expected "
                               << mg::dtype_name(mg::dtype_of<T>()));
  BOOST_REQUIRE_MESSAGE(actual.shape() == shape, "shape " << mg::shape_str(actual.shape())
                                                          << ", expected " << mg::shape_str(shape));
  const std::vector<T> got = actual.to_vector<T>();
  BOOST_CHECK_EQUAL_COLLECTIONS(got.begin(), got.end(), values.begin(), values.end());
}

// [[0, 1, 2], [3, 4, 5]] as int64.
mg::Tensor small_ints() { return mg::arange(6).view({2, 3}); }

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

BOOST_AUTO_TEST_CASE(sum) {
  // Tensor sum() const; sum(int64_t dim, bool keepdim = false);
  // sum(const Shape& dims, bool keepdim = false)
  const mg::Tensor x = small_ints();
  check_exact<std::int64_t>(x.sum(), {}, {15});
  check_exact<std::int64_t>(x.sum(0), {3}, {3, 5, 7});
  check_exact<std::int64_t>(x.sum(1), {2}, {3, 12});
  check_exact<std::int64_t>(x.sum(-1, true), {2, 1}, {3, 12});
  check_exact<std::int64_t>(x.sum(-2, true), {1, 3}, {3, 5, 7});
  check_exact<std::int64_t>(x.sum(mg::Shape{0, -1}), {}, {15});
  check_exact<std::int64_t>(x.sum(mg::Shape{1, 0}, true), {1, 1}, {15});
  check_exact<std::int64_t>(x.transpose(0, 1).sum(1), {3}, {3, 5, 7});  // non-contiguous
  check_exact<std::int64_t>(mg::from_vector<bool>({true, false, true}).sum(), {}, {2});
  check_exact<double>(mg::zeros({0, 3}, mg::kFloat64).sum(0), {3}, {0, 0, 0});
  check_exact<double>(mg::zeros({0, 3}, mg::kFloat64).sum(1), {0}, {});
  check_exact<double>(mg::scalar_tensor(2.5, mg::kFloat64).sum(0), {}, {2.5});

  // A float32 sum accumulates in double: a million ones are exactly a million.
  check_exact<float>(mg::ones({1000, 1000}).sum(), {}, {1e6F});
  check_exact<float>(mg::ones({1000000}).sum(0, true), {1}, {1e6F});

  mg::Tensor w = mg::randn({2, 3}).requires_grad_();
  BOOST_CHECK_EQUAL(w.sum().grad_fn()->name(), "SumBackward0");
  BOOST_CHECK_EQUAL(w.sum(0).grad_fn()->name(), "SumBackward1");

  mg::manual_seed(10);
  const mg::Tensor a = test::leaf({2, 3, 4});
  for (bool keepdim : {false, true}) {
    test::check_gradients([&](const auto& in) { return in[0].sum(); }, {a});
    test::check_gradients([&](const auto& in) { return in[0].sum(1, keepdim); }, {a});
    test::check_gradients([&](const auto& in) { return in[0].sum(-1, keepdim); }, {a});
    test::check_gradients([&](const auto& in) { return in[0].sum(mg::Shape{0, 2}, keepdim); },
                          {a});
    // A permuted (non-contiguous) input, and the same tensor feeding two sums.
    test::check_gradients(
        [&](const auto& in) {
          return in[0].permute({2, 0, 1}).sum(mg::Shape{0, 1}, keepdim) * in[0].sum(2, keepdim);
        },
        {a});
  }

  test::check_error([&] { x.sum(2); },
                    "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
  test::check_error([&] { x.sum(mg::Shape{0, -2}); },
                    "dim 0 appears multiple times in the list of dims");
  test::check_error([&] { mg::scalar_tensor(1.0).sum(1); },
                    "Dimension out of range (expected to be in range of [-1, 0], but got 1)");
}

BOOST_AUTO_TEST_CASE(mean) {
  // Tensor mean() const; mean(int64_t dim, bool keepdim = false)
  const mg::Tensor x = small_ints().to(mg::kFloat64);
  check_exact<double>(x.mean(), {}, {2.5});
  check_exact<double>(x.mean(0), {3}, {1.5, 2.5, 3.5});
  check_exact<double>(x.mean(1), {2}, {1, 4});
  check_exact<double>(x.mean(-1, true), {2, 1}, {1, 4});
  check_exact<double>(x.mean(-2, true), {1, 3}, {1.5, 2.5, 3.5});
  check_exact<double>(x.transpose(0, 1).mean(1), {3}, {1.5, 2.5, 3.5});
  check_exact<float>(small_ints().to(mg::kFloat32).mean(0), {3}, {1.5F, 2.5F, 3.5F});
  check_exact<double>(mg::scalar_tensor(2.5, mg::kFloat64).mean(0, true), {}, {2.5});

  // An empty mean is 0/0 = nan, as in PyTorch; a mean along a non-empty dimension of an empty
  // tensor is empty.
  const mg::Tensor empty = mg::zeros({0, 3});
  BOOST_CHECK(std::isnan(mg::zeros({0}).mean().item<float>()));
  const std::vector<float> nans = empty.mean(0).to_vector<float>();
  BOOST_CHECK_EQUAL(nans.size(), 3U);
  for (float v : nans) BOOST_CHECK(std::isnan(v));
  BOOST_CHECK(empty.mean(1).shape() == (mg::Shape{0}));

  mg::Tensor w = mg::randn({2, 3}).requires_grad_();
  BOOST_CHECK_EQUAL(w.mean().grad_fn()->name(), "MeanBackward0");
  BOOST_CHECK_EQUAL(w.mean(0).grad_fn()->name(), "MeanBackward1");
  // The gradient of a mean of n elements is 1/n at each.
  w.mean(1).sum().backward();
  check_exact<float>(w.grad(), {2, 3}, std::vector<float>(6, 1.0F / 3));

  mg::manual_seed(11);
  const mg::Tensor a = test::leaf({2, 3, 4});
  test::check_gradients([&](const auto& in) { return in[0].mean(); }, {a});
  for (bool keepdim : {false, true}) {
    test::check_gradients([&](const auto& in) { return in[0].mean(0, keepdim); }, {a});
    test::check_gradients([&](const auto& in) { return in[0].mean(-1, keepdim); }, {a});
    test::check_gradients(
        [&](const auto& in) { return in[0].transpose(0, 2).mean(1, keepdim) * in[0].mean(); },
        {a});
  }

  test::check_error([&] { small_ints().mean(); },
                    "mean(): could not infer output dtype. Input dtype must be either a floating "
                    "point or complex dtype. Got: Long");
  test::check_error([&] { small_ints().mean(0); }, "Got: Long");
  test::check_error([&] { mg::from_vector<bool>({true}).mean(); }, "Got: Bool");
  test::check_error([&] { x.mean(2); },
                    "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
  test::check_error([&] { x.mean(-3); },
                    "Dimension out of range (expected to be in range of [-2, 1], but got -3)");
}

BOOST_AUTO_TEST_CASE(max_over_all_elements) {
  // Tensor max() const
  const mg::Tensor ints = mg::from_vector<std::int64_t>({3, 7, 7, 9, 1, 9}, {2, 3});
  check_exact<std::int64_t>(ints.max(), {}, {9});
  check_exact<std::int64_t>(ints.transpose(0, 1).max(), {}, {9});
  check_exact<bool>(mg::from_vector<bool>({false, true}).max(), {}, {true});
  check_exact<double>(mg::from_vector<double>({-kInf, -2, -kInf}).max(), {}, {-2});
  BOOST_CHECK(std::isnan(mg::from_vector<double>({1, kNan, 5}).max().item<double>()));

  // Ties share the gradient evenly, as in PyTorch 1.13: the maximum 5 appears twice.
  mg::Tensor t = mg::from_vector<float>({1, 5, 5, 2}).requires_grad_();
  mg::Tensor top = t.max();
  BOOST_CHECK_EQUAL(top.grad_fn()->name(), "MaxBackward1");
  top.backward();
  check_exact<float>(t.grad(), {4}, {0, 0.5F, 0.5F, 0});
  // With NaNs the maximum is NaN and the gradient is shared among the NaNs.
  mg::Tensor n = mg::from_vector<double>({1, kNan, 5, kNan}).requires_grad_();
  (n.max() * 4).backward();
  check_exact<double>(n.grad(), {4}, {0, 2, 0, 2});

  mg::manual_seed(12);
  const mg::Tensor a = test::leaf({3, 4});  // random normals: no ties
  test::check_gradients([&](const auto& in) { return in[0].max(); }, {a});
  test::check_gradients([&](const auto& in) { return in[0].t().max() * in[0]; }, {a});

  test::check_error([&] { mg::zeros({0}).max(); },
                    "max(): Expected reduction dim to be specified for input.numel() == 0. "
                    "Specify the reduction dim with the 'dim' argument.");
  test::check_error([&] { mg::zeros({2, 0}).max(); }, "input.numel() == 0");
}

BOOST_AUTO_TEST_CASE(max_along_a_dimension) {
  // std::tuple<Tensor, Tensor> max(int64_t dim, bool keepdim = false) const
  const mg::Tensor ints = mg::from_vector<std::int64_t>({3, 7, 7, 9, 1, 9}, {2, 3});
  {
    auto [values, indices] = ints.max(1);  // ties: the first index, as PyTorch on CPU
    check_exact<std::int64_t>(values, {2}, {7, 9});
    check_exact<std::int64_t>(indices, {2}, {1, 0});
  }
  {
    auto [values, indices] = ints.max(-2, true);
    check_exact<std::int64_t>(values, {1, 3}, {9, 7, 9});
    check_exact<std::int64_t>(indices, {1, 3}, {1, 0, 1});
  }
  {
    auto [values, indices] = ints.transpose(0, 1).max(0);  // non-contiguous input
    check_exact<std::int64_t>(values, {2}, {7, 9});
    check_exact<std::int64_t>(indices, {2}, {1, 0});
  }
  {
    auto [values, indices] = mg::from_vector<bool>({false, true, true}).max(0);
    check_exact<bool>(values, {}, {true});
    check_exact<std::int64_t>(indices, {}, {1});
  }
  {
    // NaN wins, at its first position; a row of -inf has maximum -inf at index 0.
    auto [values, indices] =
        mg::from_vector<double>({-1, kNan, 2, kNan, -kInf, -kInf, -kInf, -kInf}, {2, 4}).max(1);
    const std::vector<double> v = values.to_vector<double>();
    BOOST_CHECK(std::isnan(v[0]));
    BOOST_CHECK_EQUAL(v[1], -kInf);
    check_exact<std::int64_t>(indices, {2}, {1, 0});
  }
  {
    auto [values, indices] = mg::scalar_tensor(3.0, mg::kFloat64).max(-1, true);  // 0-d
    check_exact<double>(values, {}, {3});
    check_exact<std::int64_t>(indices, {}, {0});
  }
  {
    auto [values, indices] = mg::zeros({0, 3}).max(1);  // empty rows are fine if none exist
    BOOST_CHECK(values.shape() == (mg::Shape{0}));
    BOOST_CHECK(indices.shape() == (mg::Shape{0}));
  }

  // The gradient goes to the index alone, even on a tie.
  mg::Tensor t = mg::from_vector<float>({1, 5, 5, 2, 0, 8}, {2, 3}).requires_grad_();
  auto [values, indices] = t.max(1);
  BOOST_CHECK_EQUAL(values.grad_fn()->name(), "MaxBackward0");
  BOOST_CHECK(!indices.requires_grad());
  values.backward(mg::from_vector<float>({10, 20}));
  check_exact<float>(t.grad(), {2, 3}, {0, 10, 0, 0, 0, 20});

  mg::manual_seed(13);
  const mg::Tensor a = test::leaf({2, 3, 4});  // random normals: no ties
  for (bool keepdim : {false, true}) {
    for (std::int64_t d : {0, 1, 2, -1})
      test::check_gradients([&](const auto& in) { return std::get<0>(in[0].max(d, keepdim)); },
                            {a});
    test::check_gradients(
        [&](const auto& in) {
          const mg::Tensor t = in[0].transpose(0, 2);  // (4, 3, 2), non-contiguous
          return std::get<0>(t.max(1, keepdim)) * t.sum(1, keepdim);
        },
        {a});
  }

  test::check_error([&] { ints.max(2); },
                    "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
  test::check_error([&] { mg::zeros({0, 3}).max(-2); },
                    "max(): Expected reduction dim 0 to have non-zero size.");
}

BOOST_AUTO_TEST_CASE(argmax) {
  // Tensor argmax(int64_t dim, bool keepdim = false) const
  const mg::Tensor ints = mg::from_vector<std::int64_t>({3, 7, 7, 9, 1, 9}, {2, 3});
  check_exact<std::int64_t>(ints.argmax(1), {2}, {1, 0});
  check_exact<std::int64_t>(ints.argmax(0, true), {1, 3}, {1, 0, 1});
  check_exact<std::int64_t>(ints.argmax(-1, true), {2, 1}, {1, 0});
  check_exact<std::int64_t>(ints.to(mg::kFloat32).t().argmax(0), {2}, {1, 0});
  check_exact<std::int64_t>(mg::from_vector<double>({1, kNan, 5, kNan}).argmax(0), {}, {1});
  check_exact<std::int64_t>(mg::scalar_tensor(3.0).argmax(0), {}, {0});
  BOOST_CHECK(!mg::randn({3}).requires_grad_().argmax(0).requires_grad());

  test::check_error([&] { ints.argmax(2); },
                    "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
  test::check_error([&] { mg::zeros({0, 3}).argmax(0); },
                    "argmax(): Expected reduction dim 0 to have non-zero size.");
  test::check_error([&] { mg::from_vector<bool>({true}).argmax(0); },
                    "\"argmax_cpu\" not implemented for 'Bool'");
}
