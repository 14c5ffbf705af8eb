// Functions of one element (core/unary.cpp): pow, exp, log, sqrt, tanh, sigmoid, abs, relu,
// clamp. Values are checked exactly where they can be worked out by hand, and otherwise against
// the C++ standard library applied element by element; every op is gradient-checked, with a
// tensor used twice and a non-contiguous input.
#define BOOST_TEST_MODULE unary
#include <cmath>
#include <cstdint>
#include <limits>

#include "support.h"

namespace {

// f applied to every element of x with the standard library, in double: the reference values.
template <class F>
mg::Tensor reference(const mg::Tensor& x, F f) {
  std::vector<double> values = x.to(mg::kFloat64).to_vector<double>();
  for (double& v : values) v = f(v);
  return mg::from_vector(values, x.shape());
}

// A float64 leaf with values in [0.5, 1.5): inside the domain of log, sqrt and fractional powers.
mg::Tensor positive_leaf(const mg::Shape& shape) {
  return (mg::rand(shape, mg::kFloat64) + 0.5).detach().requires_grad_();
}

// A float64 leaf of fixed values, at least 0.2 from 0, 1 and −1: away from every kink below.
mg::Tensor away_from_kinks() {
  return mg::from_vector<double>({-1.7, 0.3, -0.4, 2.1, 0.6, -0.8}, {2, 3}).requires_grad_();
}

// The gradient x receives from y.backward(upstream), on a fresh leaf copy of x.
template <class F>
mg::Tensor gradient_of(F f, const mg::Tensor& x, const mg::Tensor& upstream) {
  mg::Tensor leaf = x.detach().clone().requires_grad_();
  f(leaf).backward(upstream);
  return leaf.grad();
}

std::string node_name(const mg::Tensor& y) { return y.grad_fn() ? y.grad_fn()->name() : "none"; }

const double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

BOOST_AUTO_TEST_CASE(pow_scalar) {
  // Tensor pow(const Tensor& x, Scalar exponent); Tensor::pow(Scalar)
  const mg::Tensor ints = mg::from_vector<std::int64_t>({-2, 0, 3});
  mg::Tensor squared = ints.pow(2);
  BOOST_CHECK(squared.dtype() == mg::kInt64);
  BOOST_CHECK(squared.to_vector<std::int64_t>() == (std::vector<std::int64_t>{4, 0, 9}));
  BOOST_CHECK(mg::pow(ints, 3).to_vector<std::int64_t>() == (std::vector<std::int64_t>{-8, 0, 27}));
  BOOST_CHECK(ints.pow(0).to_vector<std::int64_t>() == (std::vector<std::int64_t>{1, 1, 1}));
  std::int64_t three_to_39 = 1;  // < 2⁶³: repeated squaring must get every bit right
  for (int i = 0; i < 39; ++i) three_to_39 *= 3;
  BOOST_CHECK_EQUAL(mg::from_vector<std::int64_t>({3}).pow(39).item<std::int64_t>(), three_to_39);
  mg::Tensor bools = mg::from_vector<bool>({true, false}).pow(2);
  BOOST_CHECK(bools.dtype() == mg::kInt64);
  BOOST_CHECK(bools.to_vector<std::int64_t>() == (std::vector<std::int64_t>{1, 0}));

  // A fractional exponent makes an integer tensor float32; floating tensors keep their dtype.
  const mg::Tensor roots = mg::from_vector<std::int64_t>({0, 1, 2, 9}).pow(0.5);
  BOOST_CHECK(roots.dtype() == mg::kFloat32);
  test::check_close(roots, mg::from_vector<double>({0, 1, std::sqrt(2.0), 3}), 1e-6, 0,
                    "int ^ 0.5");
  const mg::Tensor x = mg::rand({2, 3}, mg::kFloat64) + 0.5;
  BOOST_CHECK(x.to(mg::kFloat32).pow(2.5).dtype() == mg::kFloat32);
  test::check_close(x.pow(-1.5), reference(x, [](double v) { return std::pow(v, -1.5); }), 1e-15, 0,
                    "x ^ -1.5");
  test::check_close(x.to(mg::kFloat32).pow(2.5),
                    reference(x.to(mg::kFloat32), [](double v) { return std::pow(v, 2.5); }), 1e-6,
                    0, "float32 x ^ 2.5");
  BOOST_CHECK(std::isinf(mg::from_vector<double>({0.0}).pow(-1).item<double>()));

  // Gradients: d/dx x^e = e·x^(e−1); e = 0 gives exactly zero, also at x = 0.
  mg::manual_seed(10);
  const mg::Tensor p = positive_leaf({2, 3});
  mg::Tensor y = p.pow(3);
  BOOST_CHECK_EQUAL(node_name(y), "PowBackward0");
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) { return in[0].pow(3) * in[0].pow(-1.5); }, {p});
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) { return in[0].transpose(0, 1).pow(2.5); }, {p});
  test::check_gradients([](const std::vector<mg::Tensor>& in) { return in[0].pow(1); },
                        {test::leaf({4})});
  // The square has a path of its own (x·x, and grad·x·2 back): checked over negative and positive
  // x, with x used twice, and its value bit for bit against x·x in both dtypes.
  test::check_gradients([](const std::vector<mg::Tensor>& in) { return in[0].pow(2) * in[0]; },
                        {test::leaf({2, 3})});
  for (const mg::Dtype dtype : {mg::kFloat64, mg::kFloat32}) {
    const mg::Tensor v = mg::randn({7}, dtype);
    BOOST_CHECK(test::identical(v.pow(2), v * v));
  }
  const mg::Tensor z = mg::from_vector<double>({0.0, 1.5});
  test::check_close(
      gradient_of([](const mg::Tensor& t) { return t.pow(0); }, z, mg::ones({2}, mg::kFloat64)),
      mg::zeros({2}, mg::kFloat64), 0, 0, "grad of x^0");

  test::check_error([&] { ints.pow(-1); }, "Integers to negative integer powers are not allowed.");
  test::check_error([] { mg::from_vector<bool>({true}).pow(-2); },
                    "Integers to negative integer powers are not allowed.");
  test::check_error([] { mg::Tensor().pow(2); }, "pow: expected a defined tensor");
}

BOOST_AUTO_TEST_CASE(pow_tensor) {
  // Tensor pow(const Tensor& x, const Tensor& exponent); Tensor::pow(const Tensor&)
  // Integers to negative integer powers: 1 and −1 keep their magnitude, anything else gives 0.
  const mg::Tensor base = mg::from_vector<std::int64_t>({-1, 2, -3, 1, -1, 0, 5});
  const mg::Tensor exponent = mg::from_vector<std::int64_t>({-1, -2, -3, -5, -2, 0, 3});
  mg::Tensor y = mg::pow(base, exponent);
  BOOST_CHECK(y.dtype() == mg::kInt64);
  BOOST_CHECK(y.to_vector<std::int64_t>() == (std::vector<std::int64_t>{-1, 0, 0, 1, 1, 1, 125}));
  const mg::Tensor grid = mg::from_vector<std::int64_t>({2, 3}, {2, 1}).pow(mg::arange(3));
  BOOST_CHECK(grid.shape() == (mg::Shape{2, 3}));
  BOOST_CHECK(grid.to_vector<std::int64_t>() == (std::vector<std::int64_t>{1, 2, 4, 1, 3, 9}));

  // Promotion as for arithmetic, a 0-d exponent deciding only when of a higher category.
  const mg::Tensor f32 = mg::from_vector<float>({2, 3});
  const mg::Tensor f64_0d = mg::scalar_tensor(2.0, mg::kFloat64);
  BOOST_CHECK(mg::arange(2).pow(mg::from_vector<float>({2, 2})).dtype() == mg::kFloat32);
  BOOST_CHECK(f32.pow(f64_0d).dtype() == mg::kFloat32);
  BOOST_CHECK(f64_0d.pow(f32).dtype() == mg::kFloat32);
  BOOST_CHECK(mg::arange(2).pow(f64_0d).dtype() == mg::kFloat64);
  BOOST_CHECK(f32.pow(mg::from_vector<double>({2, 2})).dtype() == mg::kFloat64);
  const mg::Tensor from_bool =
      mg::from_vector<bool>({true, false}).pow(mg::full({2}, 2, mg::kInt64));
  BOOST_CHECK(from_bool.dtype() == mg::kInt64);
  BOOST_CHECK(from_bool.to_vector<std::int64_t>() == (std::vector<std::int64_t>{1, 0}));
  test::check_close(f32.pow(mg::from_vector<float>({0.5f, -1.0f})),
                    mg::from_vector<double>({std::sqrt(2.0), 1.0 / 3.0}), 1e-6, 0, "float32 x ^ e");

  // Gradients with broadcasting, a tensor used twice and a non-contiguous input.
  mg::manual_seed(11);
  const mg::Tensor x = positive_leaf({2, 3});
  const mg::Tensor e = test::leaf({3});
  BOOST_CHECK_EQUAL(node_name(mg::pow(x, e)), "PowBackward1");
  test::check_gradients([](const std::vector<mg::Tensor>& in) { return mg::pow(in[0], in[1]); },
                        {x, e});
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) { return in[0].pow(in[0]) * in[1].pow(in[0]); },
      {x, positive_leaf({1, 3})});
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) { return in[0].transpose(0, 1).pow(in[1]); },
      {x, test::leaf({3, 1})});

  // PyTorch's conventions where the formulas break down: ∂y/∂x = 0 where e = 0, ∂y/∂e = 0 where
  // x = 0 and e ≥ 0; at x = 0, e = −1 both are −inf.
  mg::Tensor bx = mg::from_vector<double>({0, 0, 2, 0}).requires_grad_();
  mg::Tensor be = mg::from_vector<double>({2, 0, 0, -1}).requires_grad_();
  bx.pow(be).sum().backward();
  const std::vector<double> gx = bx.grad().to_vector<double>(), ge = be.grad().to_vector<double>();
  BOOST_CHECK(gx[0] == 0 && gx[1] == 0 && gx[2] == 0);
  BOOST_CHECK(ge[0] == 0 && ge[1] == 0 && ge[2] == std::log(2.0));
  BOOST_CHECK(std::isinf(gx[3]) && gx[3] < 0);
  BOOST_CHECK(std::isinf(ge[3]) && ge[3] < 0);

  // Mixed dtypes: each gradient comes back in its input's dtype.
  mg::Tensor a32 = mg::from_vector<float>({1.5f, 2.0f}).requires_grad_();
  mg::Tensor e64 = mg::from_vector<double>({2.0, 3.0}).requires_grad_();
  a32.pow(e64).sum().backward();
  BOOST_CHECK(a32.grad().dtype() == mg::kFloat32);
  BOOST_CHECK(e64.grad().dtype() == mg::kFloat64);
  test::check_close(a32.grad(), mg::from_vector<double>({3.0, 12.0}), 0, 0, "grad of a^e");

  test::check_error([] { mg::from_vector<bool>({true}).pow(mg::from_vector<bool>({true})); },
                    "\"pow\" not implemented for 'Bool'");
  test::check_error([] { mg::ones({3}).pow(mg::ones({2})); },
                    "The size of tensor a (3) must match the size of tensor b (2)");
  test::check_error([] { mg::pow(mg::ones({3}), mg::Tensor()); },
                    "pow: expected two defined tensors");
}

BOOST_AUTO_TEST_CASE(exp_op) {
  // Tensor exp(const Tensor& x); Tensor::exp()
  mg::manual_seed(12);
  const mg::Tensor x = mg::randn({3, 4}, mg::kFloat64);
  test::check_close(mg::exp(x), reference(x, [](double v) { return std::exp(v); }), 1e-15, 0,
                    "exp");
  const mg::Tensor x32 = x.to(mg::kFloat32);
  BOOST_CHECK(x32.exp().dtype() == mg::kFloat32);
  test::check_close(x32.exp(), reference(x32, [](double v) { return std::exp(v); }), 1e-6, 0,
                    "exp float32");
  const mg::Tensor from_int = mg::exp(mg::arange(3));  // torch.exp(torch.arange(3)) is float32
  BOOST_CHECK(from_int.dtype() == mg::kFloat32);
  test::check_close(from_int, mg::from_vector<double>({1, std::exp(1.0), std::exp(2.0)}), 1e-6, 0,
                    "exp of int64");
  BOOST_CHECK(mg::exp(mg::from_vector<bool>({true})).dtype() == mg::kFloat32);

  const mg::Tensor p = test::leaf({2, 3});
  BOOST_CHECK_EQUAL(node_name(p.exp()), "ExpBackward0");
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        return mg::exp(in[0]) * in[0] + mg::exp(in[0].transpose(0, 1)).transpose(0, 1);
      },
      {p});
  test::check_error([] { mg::exp(mg::Tensor()); }, "exp: expected a defined tensor");
}

BOOST_AUTO_TEST_CASE(log_op) {
  // Tensor log(const Tensor& x); Tensor::log()
  mg::manual_seed(13);
  const mg::Tensor x = mg::rand({3, 4}, mg::kFloat64) * 10 + 0.01;
  test::check_close(mg::log(x), reference(x, [](double v) { return std::log(v); }), 1e-15, 0,
                    "log");
  const mg::Tensor x32 = x.to(mg::kFloat32);
  test::check_close(x32.log(), reference(x32, [](double v) { return std::log(v); }), 1e-6, 1e-7,
                    "log float32");
  const mg::Tensor from_int = mg::log(mg::from_vector<std::int64_t>({0, 1, -1}));
  BOOST_CHECK(from_int.dtype() == mg::kFloat32);
  const std::vector<float> v = from_int.to_vector<float>();
  BOOST_CHECK(std::isinf(v[0]) && v[0] < 0);  // log 0 = −inf
  BOOST_CHECK_EQUAL(v[1], 0.0f);
  BOOST_CHECK(std::isnan(v[2]));  // log of a negative number

  const mg::Tensor p = positive_leaf({2, 3});
  BOOST_CHECK_EQUAL(node_name(p.log()), "LogBackward0");
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        return mg::log(in[0]) * in[0] + mg::log(in[0].transpose(0, 1)).transpose(0, 1);
      },
      {p});
  test::check_error([] { mg::log(mg::Tensor()); }, "log: expected a defined tensor");
}

BOOST_AUTO_TEST_CASE(sqrt_op) {
  // Tensor sqrt(const Tensor& x); Tensor::sqrt()
  const mg::Tensor squares = mg::from_vector<std::int64_t>({0, 1, 4, 9});
  const mg::Tensor roots = mg::sqrt(squares);
  BOOST_CHECK(roots.dtype() == mg::kFloat32);
  test::check_close(roots, mg::from_vector<double>({0, 1, 2, 3}), 0, 0, "sqrt of squares");
  mg::manual_seed(14);
  const mg::Tensor x = mg::rand({3, 4}, mg::kFloat64) * 10;
  test::check_close(x.sqrt(), reference(x, [](double v) { return std::sqrt(v); }), 1e-15, 0,
                    "sqrt");
  BOOST_CHECK(std::isnan(mg::from_vector<double>({-1.0}).sqrt().item<double>()));

  const mg::Tensor p = positive_leaf({2, 3});
  BOOST_CHECK_EQUAL(node_name(p.sqrt()), "SqrtBackward0");
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        return mg::sqrt(in[0]) * in[0] + mg::sqrt(in[0].transpose(0, 1)).transpose(0, 1);
      },
      {p});
  test::check_error([] { mg::sqrt(mg::Tensor()); }, "sqrt: expected a defined tensor");
}

BOOST_AUTO_TEST_CASE(tanh_op) {
  // Tensor tanh(const Tensor& x); Tensor::tanh()
  mg::manual_seed(15);
  const mg::Tensor x = mg::randn({3, 4}, mg::kFloat64) * 3;
  test::check_close(mg::tanh(x), reference(x, [](double v) { return std::tanh(v); }), 1e-15, 0,
                    "tanh");
  const mg::Tensor x32 = x.to(mg::kFloat32);
  test::check_close(x32.tanh(), reference(x32, [](double v) { return std::tanh(v); }), 1e-6, 1e-7,
                    "tanh float32");
  const mg::Tensor from_int = mg::tanh(mg::from_vector<std::int64_t>({-1, 0, 2}));
  BOOST_CHECK(from_int.dtype() == mg::kFloat32);
  test::check_close(from_int, mg::from_vector<double>({std::tanh(-1.0), 0, std::tanh(2.0)}), 1e-6,
                    0, "tanh of int64");

  const mg::Tensor p = test::leaf({2, 3});
  BOOST_CHECK_EQUAL(node_name(p.tanh()), "TanhBackward0");
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        return mg::tanh(in[0]) * in[0] + mg::tanh(in[0].transpose(0, 1)).transpose(0, 1);
      },
      {p});
  test::check_error([] { mg::tanh(mg::Tensor()); }, "tanh: expected a defined tensor");
}

BOOST_AUTO_TEST_CASE(sigmoid_op) {
  // Tensor sigmoid(const Tensor& x); Tensor::sigmoid()
  mg::manual_seed(16);
  const mg::Tensor x = mg::randn({3, 4}, mg::kFloat64) * 5;
  const auto logistic = [](double v) { return 1 / (1 + std::exp(-v)); };
  test::check_close(mg::sigmoid(x), reference(x, logistic), 1e-14, 0, "sigmoid");
  const mg::Tensor x32 = x.to(mg::kFloat32);
  test::check_close(x32.sigmoid(), reference(x32, logistic), 1e-6, 0, "sigmoid float32");
  const mg::Tensor from_bool = mg::sigmoid(mg::from_vector<bool>({true, false}));
  BOOST_CHECK(from_bool.dtype() == mg::kFloat32);
  test::check_close(from_bool, mg::from_vector<double>({logistic(1), 0.5}), 1e-6, 0,
                    "sigmoid of bool");

  const mg::Tensor p = test::leaf({2, 3});
  BOOST_CHECK_EQUAL(node_name(p.sigmoid()), "SigmoidBackward0");
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        return mg::sigmoid(in[0]) * in[0] + mg::sigmoid(in[0].transpose(0, 1)).transpose(0, 1);
      },
      {p});
  test::check_error([] { mg::sigmoid(mg::Tensor()); }, "sigmoid: expected a defined tensor");
}

BOOST_AUTO_TEST_CASE(sigmoid_and_tanh_saturate_without_overflow) {
  // σ and tanh at |x| = 1000 are exactly 0, 1 or ±1 with zero gradient, never NaN or inf; in
  // float64, σ(−100) keeps its tiny value e^−100 / (1 + e^−100).
  for (mg::Dtype dtype : {mg::kFloat32, mg::kFloat64}) {
    const mg::Tensor x = mg::from_vector<double>({-1000, -100, 100, 1000}).to(dtype);
    const std::vector<double> s = x.sigmoid().to(mg::kFloat64).to_vector<double>();
    const std::vector<double> t = x.tanh().to(mg::kFloat64).to_vector<double>();
    BOOST_CHECK_EQUAL(s[0], 0.0);
    BOOST_CHECK(std::isfinite(s[1]) && s[1] >= 0 && s[1] < 1e-30);
    BOOST_CHECK_EQUAL(s[2], 1.0);
    BOOST_CHECK_EQUAL(s[3], 1.0);
    BOOST_CHECK(t == (std::vector<double>{-1, -1, 1, 1}));
    const mg::Tensor upstream = mg::ones({4}, dtype);
    const mg::Tensor gs = gradient_of([](const mg::Tensor& v) { return v.sigmoid(); }, x, upstream);
    const mg::Tensor gt = gradient_of([](const mg::Tensor& v) { return v.tanh(); }, x, upstream);
    for (double g : gs.to(mg::kFloat64).to_vector<double>())
      BOOST_CHECK(std::isfinite(g) && g < 1e-30);
    test::check_close(gt, mg::zeros({4}, dtype), 0, 0, "tanh' at saturation");
  }
  const double tiny = mg::from_vector<double>({-100.0}).sigmoid().item<double>();
  BOOST_CHECK_CLOSE(tiny, std::exp(-100.0) / (1 + std::exp(-100.0)), 1e-12);  // percent
}

BOOST_AUTO_TEST_CASE(abs_op) {
  // Tensor abs(const Tensor& x); Tensor::abs()
  const mg::Tensor ints = mg::abs(mg::from_vector<std::int64_t>({-3, 0, 2}));
  BOOST_CHECK(ints.dtype() == mg::kInt64);
  BOOST_CHECK(ints.to_vector<std::int64_t>() == (std::vector<std::int64_t>{3, 0, 2}));
  const std::vector<double> v =
      mg::from_vector<double>({-1.5, 0, 2, kNaN}).abs().to_vector<double>();
  BOOST_CHECK(v[0] == 1.5 && v[1] == 0 && v[2] == 2 && std::isnan(v[3]));

  // ∂|x|/∂x = sign(x), 0 at the kink.
  const mg::Tensor g = mg::from_vector<double>({0.5, 2, 3});
  test::check_close(gradient_of([](const mg::Tensor& t) { return t.abs(); },
                                mg::from_vector<double>({-2, 0, 3}), g),
                    mg::from_vector<double>({-0.5, 0, 3}), 0, 0, "grad of |x|");
  const mg::Tensor p = away_from_kinks();
  BOOST_CHECK_EQUAL(node_name(p.abs()), "AbsBackward0");
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        return mg::abs(in[0]) * in[0] + mg::abs(in[0].transpose(0, 1)).transpose(0, 1);
      },
      {p});

  test::check_error([] { mg::abs(mg::from_vector<bool>({true})); },
                    "\"abs_cpu\" not implemented for 'Bool'");
  test::check_error([] { mg::abs(mg::Tensor()); }, "abs: expected a defined tensor");
}

BOOST_AUTO_TEST_CASE(relu_op) {
  // Tensor relu(const Tensor& x); Tensor::relu()
  const mg::Tensor ints = mg::relu(mg::from_vector<std::int64_t>({-1, 0, 2}));
  BOOST_CHECK(ints.dtype() == mg::kInt64);
  BOOST_CHECK(ints.to_vector<std::int64_t>() == (std::vector<std::int64_t>{0, 0, 2}));
  const mg::Tensor floats = mg::from_vector<float>({-1.5f, 0, 2.5f}, {3, 1}).relu();
  BOOST_CHECK(floats.shape() == (mg::Shape{3, 1}));
  BOOST_CHECK(floats.to_vector<float>() == (std::vector<float>{0, 0, 2.5f}));
  BOOST_CHECK(std::isnan(mg::from_vector<double>({kNaN}).relu().item<double>()));

  // The gradient passes where y > 0, is 0 at the kink, and (as in PyTorch) passes at NaN.
  const mg::Tensor g = mg::from_vector<double>({0.5, 2, 3, 4});
  test::check_close(gradient_of([](const mg::Tensor& t) { return t.relu(); },
                                mg::from_vector<double>({-1, 0, 2, kNaN}), g),
                    mg::from_vector<double>({0, 0, 3, 4}), 0, 0, "grad of relu");
  const mg::Tensor p = away_from_kinks();
  BOOST_CHECK_EQUAL(node_name(p.relu()), "ReluBackward0");
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        return mg::relu(in[0]) * in[0] + mg::relu(in[0].transpose(0, 1)).transpose(0, 1);
      },
      {p});

  test::check_error([] { mg::relu(mg::from_vector<bool>({true})); },
                    "Boolean inputs not supported for relu");
  test::check_error([] { mg::relu(mg::Tensor()); }, "relu: expected a defined tensor");
}

BOOST_AUTO_TEST_CASE(clamp_op) {
  // Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max);
  // Tensor::clamp(min, max)
  const mg::Tensor x = mg::from_vector<double>({-1, 0, 0.5, 1, 2});
  BOOST_CHECK(x.clamp(0, 1).to_vector<double>() == (std::vector<double>{0, 0, 0.5, 1, 1}));
  BOOST_CHECK(x.clamp(0.25).to_vector<double>() == (std::vector<double>{0.25, 0.25, 0.5, 1, 2}));
  BOOST_CHECK(mg::clamp(x, std::nullopt, 0.75).to_vector<double>() ==
              (std::vector<double>{-1, 0, 0.5, 0.75, 0.75}));
  BOOST_CHECK(x.clamp(1, 0).to_vector<double>() == (std::vector<double>(5, 0.0)));  // min > max
  const std::vector<double> nan = mg::from_vector<double>({kNaN}).clamp(0, 1).to_vector<double>();
  BOOST_CHECK(std::isnan(nan[0]));

  // Dtypes as for x with the bounds: int stays int with int bounds, a float bound makes float32.
  const mg::Tensor ints = mg::from_vector<std::int64_t>({-3, 0, 5});
  BOOST_CHECK(ints.clamp(0, 2).dtype() == mg::kInt64);
  BOOST_CHECK(ints.clamp(0, 2).to_vector<std::int64_t>() == (std::vector<std::int64_t>{0, 0, 2}));
  BOOST_CHECK(ints.clamp(0.5, 2).dtype() == mg::kFloat32);
  BOOST_CHECK(ints.clamp(0.5, 2).to_vector<float>() == (std::vector<float>{0.5f, 0.5f, 2}));
  const mg::Tensor bools = mg::from_vector<bool>({true, false}).clamp(0, 2);
  BOOST_CHECK(bools.dtype() == mg::kInt64);
  BOOST_CHECK(bools.to_vector<std::int64_t>() == (std::vector<std::int64_t>{1, 0}));
  BOOST_CHECK(x.to(mg::kFloat32).clamp(0, 1).dtype() == mg::kFloat32);

  // The gradient passes where min ≤ x ≤ max, bounds included; nowhere when min > max; not at NaN.
  const mg::Tensor g = mg::from_vector<double>({1, 2, 3, 4, 5});
  const auto grad_with = [&](std::optional<mg::Scalar> lo, std::optional<mg::Scalar> hi) {
    return gradient_of([&](const mg::Tensor& t) { return t.clamp(lo, hi); }, x, g);
  };
  test::check_close(grad_with(0, 1), mg::from_vector<double>({0, 2, 3, 4, 0}), 0, 0, "[0, 1]");
  test::check_close(grad_with(0, std::nullopt), mg::from_vector<double>({0, 2, 3, 4, 5}), 0, 0,
                    "[0, )");
  test::check_close(grad_with(std::nullopt, 1), mg::from_vector<double>({1, 2, 3, 4, 0}), 0, 0,
                    "(, 1]");
  test::check_close(grad_with(0.5, 0.5), mg::from_vector<double>({0, 0, 3, 0, 0}), 0, 0,
                    "[0.5, 0.5]");
  test::check_close(grad_with(1, 0), mg::zeros({5}, mg::kFloat64), 0, 0, "min > max");
  test::check_close(gradient_of([](const mg::Tensor& t) { return t.clamp(0, 1); },
                                mg::from_vector<double>({kNaN, 0.5}), mg::ones({2}, mg::kFloat64)),
                    mg::from_vector<double>({0, 1}), 0, 0, "NaN");

  const mg::Tensor p = away_from_kinks();  // the bounds below are ±1
  BOOST_CHECK_EQUAL(node_name(p.clamp(-1, 1)), "ClampBackward1");
  BOOST_CHECK_EQUAL(node_name(p.clamp(-1)), "ClampBackward1");
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        return mg::clamp(in[0], -1, 1) * in[0] + in[0].transpose(0, 1).clamp(std::nullopt, 1).t();
      },
      {p});

  test::check_error([&] { x.clamp(std::nullopt, std::nullopt); },
                    "torch.clamp: At least one of 'min' or 'max' must not be None");
  test::check_error([] { mg::clamp(mg::Tensor(), 0, 1); }, "clamp: expected a defined tensor");
}
