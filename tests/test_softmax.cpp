// softmax and log_softmax (core/softmax.cpp): properties that hold exactly or to rounding
// (rows sum to 1, log_softmax = log softmax, invariance to a constant added along dim),
// hand-derivable values at ±inf and large magnitudes, gradient checks along every dimension,
// and PyTorch's error messages. Comparisons with PyTorch's own outputs live with the fixtures.
#define BOOST_TEST_MODULE softmax
#include <cmath>
#include <limits>

#include "support.h"

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr float kInfF = std::numeric_limits<float>::infinity();
constexpr float kNanF = std::numeric_limits<float>::quiet_NaN();

// The values of a tensor as float64.
std::vector<double> values(const mg::Tensor& t) { return t.to(mg::kFloat64).to_vector<double>(); }

// Checks that each row of `p` along `dim` sums to 1 within `tol`.
void check_rows_sum_to_one(const mg::Tensor& p, std::int64_t dim, double tol) {
  for (double total : values(p.sum(dim))) BOOST_CHECK_SMALL(total - 1, tol);
}

}  // namespace

BOOST_AUTO_TEST_CASE(softmax) {
  // Tensor softmax(const Tensor& x, int64_t dim)
  mg::manual_seed(20);
  const mg::Tensor x = mg::randn({3, 4, 5}, mg::kFloat64) * 3;
  for (std::int64_t d : {0, 1, 2, -1, -3}) {
    const mg::Tensor p = mg::softmax(x, d);
    BOOST_CHECK(p.shape() == x.shape());
    for (double v : values(p)) BOOST_CHECK(v > 0 && v < 1);
    check_rows_sum_to_one(p, d, 1e-14);
    // Adding a different constant to each row leaves it unchanged.
    mg::Shape one_per_row = x.shape();
    one_per_row[static_cast<std::size_t>(d < 0 ? d + 3 : d)] = 1;
    const mg::Tensor shift = mg::randn(one_per_row, mg::kFloat64) * 50;
    test::check_close(mg::softmax(x + shift, d), p, 1e-12, 1e-15, "softmax(x + c)");
  }
  check_rows_sum_to_one(mg::softmax(x.to(mg::kFloat32), 1), 1, 1e-6);
  check_rows_sum_to_one(mg::softmax(x.permute({2, 0, 1}), 0), 0, 1e-14);  // non-contiguous

  // Hand-derivable values: equal entries share evenly; exp(-inf) = 0.
  test::check_close(mg::softmax(mg::zeros({2, 4}), 1), mg::full({2, 4}, 0.25), 0, 0, "uniform");
  test::check_close(mg::softmax(mg::from_vector<float>({-kInfF, 1, -kInfF}), 0),
                    mg::from_vector<float>({0, 1, 0}), 0, 0, "softmax with -inf");
  // |x| ~ 1e4 would overflow exp without the max subtracted: 1e4 − (−1e4) leaves exp(−2e4) = 0.
  test::check_close(mg::softmax(mg::from_vector<float>({1e4F, -1e4F}), 0),
                    mg::from_vector<float>({1, 0}), 0, 0, "softmax at 1e4");
  test::check_close(mg::softmax(mg::from_vector<float>({1e4F, 1e4F}), 0),
                    mg::from_vector<float>({0.5F, 0.5F}), 0, 0, "softmax at 1e4, tied");
  // PyTorch gives NaN for a row that is all -inf, or holds +inf or NaN.
  for (const auto& row : {std::vector<float>{-kInfF, -kInfF}, {kInfF, 1}, {kNanF, 1}})
    for (double v : values(mg::softmax(mg::from_vector<float>(row), 0)))
      BOOST_CHECK(std::isnan(v));
  // A 0-d tensor is a row of one; an empty tensor gives an empty result.
  test::check_close(mg::softmax(mg::scalar_tensor(7.0), 0), mg::scalar_tensor(1.0), 0, 0, "0-d");
  test::check_close(mg::softmax(mg::scalar_tensor(7.0), -1), mg::scalar_tensor(1.0), 0, 0, "0-d");
  BOOST_CHECK(mg::softmax(mg::zeros({0, 3}), 1).shape() == (mg::Shape{0, 3}));

  // Backward. At [-inf, 1] the output is [0, 1] and grad_x = y ⊙ (g − Σ g ⊙ y) = [0, 0]: no NaN.
  mg::Tensor t = mg::from_vector<double>({-kInf, 1}).requires_grad_();
  mg::Tensor y = mg::softmax(t, 0);
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "SoftmaxBackward0");
  y.backward(mg::from_vector<double>({3, 5}));
  test::check_close(t.grad(), mg::zeros({2}, mg::kFloat64), 0, 0, "grad at -inf");

  const mg::Tensor a = test::leaf({2, 3, 4});
  for (std::int64_t d : {0, 1, 2, -1})
    test::check_gradients([&](const auto& in) { return mg::softmax(in[0], d); }, {a});
  test::check_gradients(
      [](const auto& in) { return mg::softmax(in[0].permute({2, 0, 1}), 1) * in[0].sum(2); },
      {a});
  test::check_gradients([](const auto& in) { return mg::softmax(in[0], 0); },
                        {test::leaf({})});

  test::check_error([] { mg::softmax(mg::arange(3), 0); },
                    "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'");
  test::check_error([] { mg::softmax(mg::arange(6).view({2, 3}), 0); },
                    "\"softmax_kernel_impl\" not implemented for 'Long'");
  test::check_error([] { mg::softmax(mg::from_vector<bool>({true}), 0); },
                    "\"softmax_lastdim_kernel_impl\" not implemented for 'Bool'");
  test::check_error([&] { mg::softmax(mg::zeros({2, 3}), 2); },
                    "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
  test::check_error([] { mg::softmax(mg::scalar_tensor(1.0), 1); },
                    "Dimension out of range (expected to be in range of [-1, 0], but got 1)");
}

BOOST_AUTO_TEST_CASE(log_softmax) {
  // Tensor log_softmax(const Tensor& x, int64_t dim)
  mg::manual_seed(21);
  const mg::Tensor x = mg::randn({3, 4, 5}, mg::kFloat64) * 3;
  for (std::int64_t d : {0, 1, 2, -1}) {
    // log_softmax = log(softmax) where softmax is not tiny.
    const std::vector<double> p = values(mg::softmax(x, d));
    std::vector<double> log_p(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) log_p[i] = std::log(p[i]);
    const mg::Tensor l = mg::log_softmax(x, d);
    test::check_close(l, mg::from_vector(log_p, x.shape()), 1e-12, 1e-14, "log(softmax)");
    mg::Shape one_per_row = x.shape();
    one_per_row[static_cast<std::size_t>(d < 0 ? d + 3 : d)] = 1;
    const mg::Tensor shift = mg::randn(one_per_row, mg::kFloat64) * 50;
    test::check_close(mg::log_softmax(x + shift, d), l, 1e-12, 1e-13, "log_softmax(x + c)");
  }
  const mg::Tensor x32 = x.to(mg::kFloat32).transpose(0, 2);  // non-contiguous float32
  const std::vector<double> p32 = values(mg::softmax(x32, 1));
  std::vector<double> log_p32(p32.size());
  for (std::size_t i = 0; i < p32.size(); ++i) log_p32[i] = std::log(p32[i]);
  test::check_close(mg::log_softmax(x32, 1), mg::from_vector(log_p32, x32.shape()), 1e-5, 1e-6,
                    "float32 log(softmax)");

  // Hand-derivable values: −log n for n equal entries; −inf stays −inf; at |x| ~ 1e4 the
  // exact results are 0 and −2e4 (log(1 + exp(−2e4)) = 0), where log(softmax) would be −inf.
  test::check_close(mg::log_softmax(mg::zeros({4}, mg::kFloat64), 0),
                    mg::full({4}, -std::log(4.0), mg::kFloat64), 0, 0, "uniform");
  const std::vector<float> with_inf =
      mg::log_softmax(mg::from_vector<float>({-kInfF, 1}), 0).to_vector<float>();
  BOOST_CHECK_EQUAL(with_inf[0], -kInfF);
  BOOST_CHECK_EQUAL(with_inf[1], 0.0F);
  test::check_close(mg::log_softmax(mg::from_vector<float>({1e4F, -1e4F}), 0),
                    mg::from_vector<float>({0, -2e4F}), 0, 0, "log_softmax at 1e4");
  for (const auto& row : {std::vector<float>{-kInfF, -kInfF}, {kInfF, 1}, {kNanF, 1}})
    for (double v : values(mg::log_softmax(mg::from_vector<float>(row), 0)))
      BOOST_CHECK(std::isnan(v));
  test::check_close(mg::log_softmax(mg::scalar_tensor(7.0), -1), mg::scalar_tensor(0.0), 0, 0,
                    "0-d");

  // Backward. At [-inf, 1]: softmax = [0, 1], so grad_x = g − softmax ⊙ Σ g = [g0, −g0].
  mg::Tensor t = mg::from_vector<double>({-kInf, 1}).requires_grad_();
  mg::Tensor y = mg::log_softmax(t, 0);
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "LogSoftmaxBackward0");
  y.backward(mg::from_vector<double>({3, 5}));
  test::check_close(t.grad(), mg::from_vector<double>({3, -3}), 0, 0, "grad at -inf");

  const mg::Tensor a = test::leaf({2, 3, 4});
  for (std::int64_t d : {0, 1, 2, -1})
    test::check_gradients([&](const auto& in) { return mg::log_softmax(in[0], d); }, {a});
  test::check_gradients(
      [](const auto& in) {
        return mg::log_softmax(in[0].transpose(0, 2), 0) * in[0].transpose(0, 2);
      },
      {a});
  test::check_gradients([](const auto& in) { return mg::log_softmax(in[0], -1); },
                        {test::leaf({})});

  test::check_error([] { mg::log_softmax(mg::arange(3), 0); },
                    "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Long'");
  test::check_error([] { mg::log_softmax(mg::arange(6).view({2, 3}), 0); },
                    "\"softmax_kernel_impl\" not implemented for 'Long'");  // sic, as PyTorch
  test::check_error([&] { mg::log_softmax(mg::zeros({2, 3}), -3); },
                    "Dimension out of range (expected to be in range of [-2, 1], but got -3)");
}
