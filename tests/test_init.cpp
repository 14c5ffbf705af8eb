// nn::init: every initialiser's distribution, its exact bounds, the fans and gains, orthogonal_'s
// orthogonality and QR, determinism under manual_seed, and every error.
//
// The statistical checks use 10^5 samples and bounds that cannot fail by chance: a sample mean
// is checked to within about ten of its standard errors, a sample standard deviation to within
// 5% (its own relative standard error here is under 0.3%).
#define BOOST_TEST_MODULE init
#include <algorithm>
#include <cmath>

#include "core/random.h"
#include "support.h"

namespace init = mg::nn::init;

namespace {

struct Stats {
  double mean, std, min, max;
};

// Mean, standard deviation (of the sample, divided by n), minimum and maximum of t's values.
Stats stats_of(const mg::Tensor& t) {
  const std::vector<double> v = t.detach().to(mg::kFloat64).to_vector<double>();
  double sum = 0;
  for (double x : v) sum += x;
  const double mean = sum / static_cast<double>(v.size());
  double squares = 0;
  for (double x : v) squares += (x - mean) * (x - mean);
  return {mean, std::sqrt(squares / static_cast<double>(v.size())),
          *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())};
}

// Checks that a sample of 10^5 values has standard deviation `std` (within 5%) and mean `mean`
// (within 10 standard errors, std / √n · 10 = std / 31.6, so std / 30).
void check_moments(const mg::Tensor& t, double mean, double std, const std::string& what) {
  BOOST_REQUIRE_EQUAL(t.numel(), 100000);
  const Stats s = stats_of(t);
  BOOST_CHECK_MESSAGE(std::abs(s.mean - mean) < std / 30,
                      what << ": mean " << s.mean << ", expected " << mean);
  BOOST_CHECK_MESSAGE(std::abs(s.std - std) < 0.05 * std,
                      what << ": std " << s.std << ", expected " << std);
}

// Checks that every value lies in [−bound, bound] and that the extremes come close to both ends
// (for 10^5 uniform draws, missing the outer 0.1% on one side has probability e^−100).
void check_uniform_bounds(const mg::Tensor& t, double bound, const std::string& what) {
  const Stats s = stats_of(t);
  BOOST_CHECK_MESSAGE(s.min >= -bound && s.max <= bound,
                      what << ": values in [" << s.min << ", " << s.max << "], bound " << bound);
  BOOST_CHECK_MESSAGE(s.min < -0.998 * bound && s.max > 0.998 * bound,
                      what << ": extremes " << s.min << ", " << s.max << " far from ±" << bound);
}

// Checks that `product` is the identity matrix times `scale` within 1e-5 · scale.
void check_identity(const mg::Tensor& product, double scale, const std::string& what) {
  const std::int64_t n = product.size(0);
  const std::vector<double> v = product.to(mg::kFloat64).to_vector<double>();
  int wrong = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      const double expected = i == j ? scale : 0.0;
      const double got = v[static_cast<std::size_t>(i * n + j)];
      if (std::abs(got - expected) > 1e-5 * scale && wrong++ < 5)
        BOOST_ERROR(what << ": element (" << i << ", " << j << ") is " << got << ", expected "
                         << expected);
    }
  BOOST_CHECK_MESSAGE(wrong == 0, what << ": " << wrong << " elements off the identity");
}

}  // namespace

BOOST_AUTO_TEST_CASE(calculate_gain_values) {
  // calculate_gain(nonlinearity, param), name(nonlinearity), name(mode)
  for (auto n : {init::kLinear, init::kConv1D, init::kConv2D, init::kConv3D, init::kConvTranspose1D,
                 init::kConvTranspose2D, init::kConvTranspose3D, init::kSigmoid})
    BOOST_CHECK_EQUAL(init::calculate_gain(n), 1.0);
  BOOST_CHECK_EQUAL(init::calculate_gain(init::kTanh), 5.0 / 3);
  BOOST_CHECK_EQUAL(init::calculate_gain(init::kReLU), std::sqrt(2.0));
  BOOST_CHECK_EQUAL(init::calculate_gain(init::kSELU), 0.75);
  // leaky_relu: √(2 / (1 + slope²)), slope 0.01 by default.
  BOOST_CHECK_EQUAL(init::calculate_gain(init::kLeakyReLU), std::sqrt(2.0 / (1 + 0.01 * 0.01)));
  BOOST_CHECK_EQUAL(init::calculate_gain(init::kLeakyReLU, 0.2), std::sqrt(2.0 / (1 + 0.2 * 0.2)));
  BOOST_CHECK_EQUAL(init::calculate_gain(init::kLeakyReLU, 0.0), std::sqrt(2.0));
  BOOST_CHECK_CLOSE(init::calculate_gain(init::kLeakyReLU, std::sqrt(5.0)), 1 / std::sqrt(3.0),
                    1e-12);
  BOOST_CHECK_EQUAL(init::name(init::kLeakyReLU), "leaky_relu");
  BOOST_CHECK_EQUAL(init::name(init::kConvTranspose2D), "conv_transpose2d");
  BOOST_CHECK_EQUAL(init::name(init::kFanOut), "fan_out");
  // An enum value outside the list is PyTorch's unknown name.
  const auto unknown = static_cast<init::Nonlinearity>(99);
  test::check_error([&] { init::calculate_gain(unknown); }, "Unsupported nonlinearity 99");
  test::check_error([&] { init::name(unknown); }, "Unsupported nonlinearity 99");
}

BOOST_AUTO_TEST_CASE(fan_in_and_fan_out) {
  // calculate_fan_in_and_fan_out(tensor): (size(1) · receptive field, size(0) · receptive field)
  using Fans = std::pair<std::int64_t, std::int64_t>;
  BOOST_CHECK((init::calculate_fan_in_and_fan_out(mg::zeros({3, 4})) == Fans{4, 3}));
  BOOST_CHECK((init::calculate_fan_in_and_fan_out(mg::zeros({5, 3, 2, 2})) == Fans{12, 20}));
  BOOST_CHECK((init::calculate_fan_in_and_fan_out(mg::zeros({2, 0, 7})) == Fans{0, 14}));
  const std::string message =
      "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions";
  test::check_error([] { init::calculate_fan_in_and_fan_out(mg::zeros({3})); }, message);
  test::check_error([] { init::calculate_fan_in_and_fan_out(mg::zeros({})); }, message);
}

BOOST_AUTO_TEST_CASE(uniform) {
  // uniform_(tensor, a, b): U(a, b)
  mg::manual_seed(1);
  mg::Tensor t = mg::zeros({100000});
  BOOST_CHECK_EQUAL(init::uniform_(t, -2, 3).impl(), t.impl());  // the same tensor, returned
  const Stats s = stats_of(t);
  BOOST_CHECK(s.min >= -2 && s.max <= 3);
  BOOST_CHECK(s.min < -2 + 0.005 && s.max > 3 - 0.005);
  check_moments(t, 0.5, 5 / std::sqrt(12.0), "U(-2, 3)");
  check_moments(init::uniform_(mg::zeros({100, 1000}, mg::kFloat64)), 0.5, 1 / std::sqrt(12.0),
                "U(0, 1)");
  // A non-contiguous view is filled through its strides.
  mg::Tensor base = mg::zeros({4, 6});
  init::uniform_(base.t().narrow(0, 1, 2), 1, 2);
  const std::vector<float> v = base.to_vector<float>();
  for (std::size_t i = 0; i < v.size(); ++i) {
    const bool filled = i % 6 == 1 || i % 6 == 2;
    BOOST_CHECK_MESSAGE(filled ? (v[i] >= 1 && v[i] <= 2) : v[i] == 0,
                        "element " << i << " = " << v[i]);
  }
}

BOOST_AUTO_TEST_CASE(normal) {
  // normal_(tensor, mean, std): N(mean, std²)
  mg::manual_seed(2);
  check_moments(init::normal_(mg::zeros({100000}), 3, 0.5), 3, 0.5, "N(3, 0.25)");
  check_moments(init::normal_(mg::zeros({1000, 100}, mg::kFloat64)), 0, 1, "N(0, 1)");
  const std::vector<float> zero_std = init::normal_(mg::zeros({5}), -1.5, 0).to_vector<float>();
  for (float x : zero_std) BOOST_CHECK_EQUAL(x, -1.5f);
}

BOOST_AUTO_TEST_CASE(constant_zeros_ones) {
  // constant_(tensor, value), zeros_(tensor), ones_(tensor), on a leaf that requires grad
  mg::Tensor w = mg::randn({2, 3}).requires_grad_();
  const std::uint64_t before = w.version();
  init::constant_(w, 2.5);
  BOOST_CHECK(w.version() > before);
  BOOST_CHECK(w.is_leaf() && w.requires_grad());
  for (float x : w.to_vector<float>()) BOOST_CHECK_EQUAL(x, 2.5f);
  for (float x : init::zeros_(w).to_vector<float>()) BOOST_CHECK_EQUAL(x, 0.0f);
  for (float x : init::ones_(w).to_vector<float>()) BOOST_CHECK_EQUAL(x, 1.0f);
  // Integer tensors take constants too, as in PyTorch.
  for (std::int64_t x : init::constant_(mg::zeros({3}, mg::kInt64), 7).to_vector<std::int64_t>())
    BOOST_CHECK_EQUAL(x, 7);
}

BOOST_AUTO_TEST_CASE(xavier) {
  // xavier_uniform_(tensor, gain), xavier_normal_(tensor, gain)
  // (200, 500): fan_in 500, fan_out 200, std = gain · √(2 / 700), uniform bound √3 · std.
  mg::manual_seed(3);
  const double std = std::sqrt(2.0 / 700);
  mg::Tensor u = init::xavier_uniform_(mg::zeros({200, 500}, mg::kFloat64));
  check_uniform_bounds(u, std::sqrt(3.0) * std, "xavier_uniform_");
  check_moments(u, 0, std, "xavier_uniform_");
  mg::Tensor u2 = init::xavier_uniform_(mg::zeros({200, 500}, mg::kFloat64), 2);
  check_uniform_bounds(u2, 2 * std::sqrt(3.0) * std, "xavier_uniform_ gain 2");
  check_moments(init::xavier_normal_(mg::zeros({200, 500})), 0, std, "xavier_normal_");
  // (200, 5, 10, 10): receptive field 100, fan_in 5 · 100, fan_out 200 · 100.
  check_moments(init::xavier_normal_(mg::zeros({200, 5, 10, 10}), 0.5), 0,
                0.5 * std::sqrt(2.0 / (500 + 20000)), "xavier_normal_ 4-D, gain 0.5");
}

BOOST_AUTO_TEST_CASE(kaiming) {
  // kaiming_uniform_(tensor, a, mode, nonlinearity), kaiming_normal_(...)
  mg::manual_seed(4);
  // nn.Linear's default, a = √5 on (out, in) = (250, 400): gain 1/√3, so bound = 1/√in = 0.05.
  mg::Tensor w = init::kaiming_uniform_(mg::zeros({250, 400}, mg::kFloat64), std::sqrt(5.0));
  const double bound = std::sqrt(3.0) * (std::sqrt(2.0 / 6) / std::sqrt(400.0));
  BOOST_CHECK_CLOSE(bound, 0.05, 1e-12);
  check_uniform_bounds(w, bound, "kaiming_uniform_ a=√5");
  // In float32 the values round to float, and so does the bound: rounding keeps the order.
  mg::Tensor w32 = init::kaiming_uniform_(mg::zeros({250, 400}), std::sqrt(5.0));
  check_uniform_bounds(w32, static_cast<float>(bound), "kaiming_uniform_ a=√5 float32");
  // Defaults: leaky_relu with a = 0 is relu's gain √2; fan_in = 400.
  check_moments(init::kaiming_uniform_(mg::zeros({250, 400})), 0, std::sqrt(2.0 / 400),
                "kaiming_uniform_");
  // fan_out of (400, 250) is 400; tanh's gain 5/3.
  check_moments(init::kaiming_normal_(mg::zeros({400, 250}), 0, init::kFanOut, init::kTanh), 0,
                5.0 / 3 / std::sqrt(400.0), "kaiming_normal_ fan_out tanh");
  check_moments(init::kaiming_normal_(mg::zeros({400, 250}), 0.3), 0,
                std::sqrt(2.0 / 1.09) / std::sqrt(250.0), "kaiming_normal_ a=0.3");
  // A tensor with a zero size is left alone, even 1-D (PyTorch returns before the fans).
  BOOST_CHECK_EQUAL(init::kaiming_uniform_(mg::zeros({3, 0})).numel(), 0);
  BOOST_CHECK_EQUAL(init::kaiming_normal_(mg::zeros({0})).numel(), 0);
}

BOOST_AUTO_TEST_CASE(orthogonal) {
  // orthogonal_(tensor, gain): QᵀQ = I (tall), QQᵀ = I (wide), gain² · I with a gain
  mg::manual_seed(5);
  mg::Tensor square = init::orthogonal_(mg::zeros({6, 6}));
  check_identity(mg::matmul(square.t(), square), 1, "square QᵀQ");
  check_identity(mg::matmul(square, square.t()), 1, "square QQᵀ");
  mg::Tensor tall = init::orthogonal_(mg::zeros({40, 7}));
  check_identity(mg::matmul(tall.t(), tall), 1, "tall QᵀQ");
  mg::Tensor wide = init::orthogonal_(mg::zeros({7, 40}));
  check_identity(mg::matmul(wide, wide.t()), 1, "wide QQᵀ");
  // More than 2-D: (3, 2, 5) is a (3, 10) matrix with orthonormal rows.
  mg::Tensor cube = init::orthogonal_(mg::zeros({3, 2, 5}));
  BOOST_CHECK(cube.shape() == (mg::Shape{3, 2, 5}));
  check_identity(mg::matmul(cube.view({3, 10}), cube.view({3, 10}).t()), 1, "3-D rows");
  mg::Tensor scaled = init::orthogonal_(mg::zeros({5, 3}, mg::kFloat64), 2);
  check_identity(mg::matmul(scaled.t(), scaled), 4, "gain 2");
  BOOST_CHECK_EQUAL(init::orthogonal_(mg::zeros({3, 0})).numel(), 0);
}

BOOST_AUTO_TEST_CASE(orthogonal_is_the_q_of_the_drawn_normal_matrix) {
  // orthogonal_ draws A ~ N(0, 1) row-major, as randn does, and returns the Q of A = QR with
  // R's diagonal positive (the transpose's, for a wide A). So R = QᵀA must come out upper
  // triangular with a positive diagonal.
  for (const auto& [rows, cols] : {std::pair<std::int64_t, std::int64_t>{9, 4}, {4, 9}, {5, 5}}) {
    mg::manual_seed(6);
    const mg::Tensor a = mg::randn({rows, cols}, mg::kFloat64);
    mg::manual_seed(6);
    const mg::Tensor q = init::orthogonal_(mg::zeros({rows, cols}, mg::kFloat64));
    const bool wide = rows < cols;
    const mg::Tensor r = wide ? mg::matmul(q, a.t()) : mg::matmul(q.t(), a);  // (n, n)
    const std::int64_t n = r.size(0);
    const std::vector<double> v = r.to_vector<double>();
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        const double x = v[static_cast<std::size_t>(i * n + j)];
        const bool ok = i == j ? x > 0.01 : (i < j || std::abs(x) < 1e-12);
        BOOST_CHECK_MESSAGE(ok, rows << "x" << cols << ": R(" << i << ", " << j << ") = " << x);
      }
  }
}

BOOST_AUTO_TEST_CASE(the_same_seed_gives_the_same_values) {
  // manual_seed(s) before an initialiser fixes its values
  const auto draw = [](std::uint64_t seed) {
    mg::manual_seed(seed);
    mg::Tensor t = mg::zeros({4, 5});
    init::kaiming_uniform_(t);
    init::orthogonal_(t);
    return t.to_vector<float>();
  };
  BOOST_CHECK(draw(11) == draw(11));
  BOOST_CHECK(draw(11) != draw(12));
}

BOOST_AUTO_TEST_CASE(errors_change_nothing) {
  // Every refusal, in PyTorch's words, before any value is written or drawn.
  mg::Tensor t = mg::full({2, 3}, 7.0);
  mg::Tensor ints = mg::zeros({2, 3}, mg::kInt64);
  mg::Tensor vector = mg::full({3}, 7.0);
  mg::manual_seed(8);
  const double expected_next = mg::next_uniform();
  mg::manual_seed(8);
  test::check_error([&] { init::uniform_(t, 1, 0); },
                    "uniform_ expects to return a [from, to) range, but found from=1 > to=0");
  test::check_error([&] { init::uniform_(ints, 1, 0); },
                    "\"check_uniform_bounds\" not implemented for 'Long'");
  test::check_error([&] { init::normal_(t, 0, -1.5); },
                    "normal expects std >= 0.0, but found std -1.5");
  test::check_error([&] { init::normal_(ints); },
                    "\"normal_kernel_cpu\" not implemented for 'Long'");
  test::check_error([&] { init::xavier_uniform_(vector); },
                    "Fan in and fan out can not be computed");
  test::check_error([&] { init::xavier_normal_(vector); },
                    "Fan in and fan out can not be computed");
  test::check_error([&] { init::kaiming_uniform_(vector); },
                    "Fan in and fan out can not be computed");
  test::check_error([&] { init::kaiming_normal_(vector); },
                    "Fan in and fan out can not be computed");
  test::check_error([&] { init::kaiming_uniform_(ints); },
                    "\"check_uniform_bounds\" not implemented for 'Long'");
  test::check_error([&] { init::kaiming_uniform_(t, 0, static_cast<init::FanMode>(7)); },
                    "Mode 7 not supported, please use one of ['fan_in', 'fan_out']");
  const auto unknown = static_cast<init::Nonlinearity>(42);
  test::check_error([&] { init::kaiming_normal_(t, 0, init::kFanIn, unknown); },
                    "Unsupported nonlinearity 42");
  test::check_error([&] { init::orthogonal_(vector); },
                    "Only tensors with 2 or more dimensions are supported");
  test::check_error([&] { init::orthogonal_(ints); },
                    "\"normal_kernel_cpu\" not implemented for 'Long'");
  for (float x : t.to_vector<float>()) BOOST_CHECK_EQUAL(x, 7.0f);
  for (float x : vector.to_vector<float>()) BOOST_CHECK_EQUAL(x, 7.0f);
  BOOST_CHECK_EQUAL(mg::next_uniform(), expected_next);  // nothing was drawn
}
