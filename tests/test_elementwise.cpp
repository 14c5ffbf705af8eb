// + − × ÷ and unary minus: values, PyTorch's type promotion, broadcasting, errors, gradients.
#define BOOST_TEST_MODULE elementwise
#include "support.h"

namespace {
mg::Tensor ints(std::vector<std::int64_t> v, mg::Shape s) { return mg::from_vector(v, s); }
mg::Tensor floats(std::vector<float> v, mg::Shape s) { return mg::from_vector(v, s); }

using Binary = mg::Tensor (*)(const mg::Tensor&, const mg::Tensor&);
}  // namespace

BOOST_AUTO_TEST_CASE(add_sub_mul_div_values) {
  // add(a, b), sub(a, b), mul(a, b), div(a, b) on small exact values
  const mg::Tensor a = floats({1, 2, 3, 4}, {2, 2});
  const mg::Tensor b = floats({4, -2, 0.5, 8}, {2, 2});
  test::check_close(a + b, floats({5, 0, 3.5, 12}, {2, 2}), 0, 0, "a + b");
  test::check_close(a - b, floats({-3, 4, 2.5, -4}, {2, 2}), 0, 0, "a - b");
  test::check_close(a * b, floats({4, -4, 1.5, 32}, {2, 2}), 0, 0, "a * b");
  test::check_close(a / b, floats({0.25, -1, 6, 0.5}, {2, 2}), 0, 0, "a / b");
  test::check_close(-a, floats({-1, -2, -3, -4}, {2, 2}), 0, 0, "-a");
  test::check_close(mg::add(a, b), a + b, 0, 0, "mg::add");
}

BOOST_AUTO_TEST_CASE(scalars_on_either_side) {
  // tensor op number and number op tensor
  const mg::Tensor a = floats({1, 2, 4}, {3});
  test::check_close(a + 1, floats({2, 3, 5}, {3}), 0, 0, "a + 1");
  test::check_close(1 - a, floats({0, -1, -3}, {3}), 0, 0, "1 - a");
  test::check_close(a * 0.5, floats({0.5, 1, 2}, {3}), 0, 0, "a * 0.5");
  test::check_close(2 / a, floats({2, 1, 0.5}, {3}), 0, 0, "2 / a");
}

BOOST_AUTO_TEST_CASE(broadcasting_values) {
  // (2, 1) + (3,) -> (2, 3)
  const mg::Tensor col = floats({10, 20}, {2, 1});
  const mg::Tensor row = floats({1, 2, 3}, {3});
  test::check_close(col + row, floats({11, 12, 13, 21, 22, 23}, {2, 3}), 0, 0, "col + row");
  // A transposed (non-contiguous) operand reads its logical values.
  const mg::Tensor m = floats({1, 2, 3, 4, 5, 6}, {2, 3});
  test::check_close(m.t() * 1, floats({1, 4, 2, 5, 3, 6}, {3, 2}), 0, 0, "m.t() * 1");
}

BOOST_AUTO_TEST_CASE(type_promotion_follows_pytorch) {
  // The result dtypes PyTorch 1.13 gives for these operand pairs.
  const mg::Tensor i = ints({1, 2}, {2});
  const mg::Tensor f = floats({1, 2}, {2});
  const mg::Tensor d = mg::ones({2}, mg::kFloat64);
  const mg::Tensor b = mg::from_vector(std::vector<bool>{true, false}, {2});
  BOOST_CHECK(i.dtype() == mg::kInt64);
  BOOST_CHECK((i + i).dtype() == mg::kInt64);
  BOOST_CHECK((i + f).dtype() == mg::kFloat32);
  BOOST_CHECK((f + d).dtype() == mg::kFloat64);
  BOOST_CHECK((i * 2).dtype() == mg::kInt64);      // an integer scalar keeps int64
  BOOST_CHECK((i * 2.5).dtype() == mg::kFloat32);  // a float scalar makes float32
  BOOST_CHECK((f * 2.5).dtype() == mg::kFloat32);  // never float64 from a scalar
  BOOST_CHECK((i / i).dtype() == mg::kFloat32);    // true division
  BOOST_CHECK((b + i).dtype() == mg::kInt64);
  // A 0-d tensor decides only when it is of a higher category.
  BOOST_CHECK((f + mg::scalar_tensor(2.0, mg::kFloat64)).dtype() == mg::kFloat32);
  BOOST_CHECK((i + mg::scalar_tensor(2.0, mg::kFloat64)).dtype() == mg::kFloat64);
  test::check_close(i / ints({2, 4}, {2}), floats({0.5, 0.5}, {2}), 0, 0, "int / int");
  BOOST_CHECK((i * 3).to_vector<std::int64_t>() == (std::vector<std::int64_t>{3, 6}));
}

BOOST_AUTO_TEST_CASE(errors_before_anything_is_computed) {
  const mg::Tensor a = mg::zeros({2, 3});
  const mg::Tensor b = mg::zeros({4});
  for (Binary op : {Binary(mg::add), Binary(mg::sub), Binary(mg::mul), Binary(mg::div)})
    test::check_error([&] { op(a, b); },
                      "The size of tensor a (3) must match the size of tensor b (4) at "
                      "non-singleton dimension 1");
  test::check_error([&] { mg::add(a, mg::Tensor()); }, "add: expected two defined tensors");
  const mg::Tensor mask = mg::from_vector(std::vector<bool>{true}, {1});
  test::check_error([&] { mask + mask; }, "arithmetic on two bool tensors is not supported");
  test::check_error([&] { -mask; }, "Negation, the `-` operator, on a bool tensor is not supported");
}

BOOST_AUTO_TEST_CASE(gradcheck_add) {
  // add(a, b): broadcast (2, 3) + (3), a used twice, b transposed from (1, 3)
  mg::manual_seed(11);
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) { return in[0] + in[1].t().squeeze(1) + in[0]; },
      {test::leaf({2, 3}), test::leaf({1, 3})});
}

BOOST_AUTO_TEST_CASE(gradcheck_sub) {
  // sub(a, b): broadcast (4, 1) − (2, 1, 3), non-contiguous a
  mg::manual_seed(12);
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) { return in[0].t().t() - in[1] - 2 * in[1]; },
      {test::leaf({4, 1}), test::leaf({2, 1, 3})});
}

BOOST_AUTO_TEST_CASE(gradcheck_mul) {
  // mul(a, b): broadcast, a used twice (a ⊙ a ⊙ b), transposed b
  mg::manual_seed(13);
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) { return in[0] * in[0] * in[1].transpose(0, 1); },
      {test::leaf({3, 2}), test::leaf({2, 3})});
}

BOOST_AUTO_TEST_CASE(gradcheck_div) {
  // div(a, b): b kept away from 0, broadcast (2, 3) / (3), a / b / a
  mg::manual_seed(14);
  mg::Tensor b = (mg::rand({3}, mg::kFloat64) + 1.0).detach().requires_grad_();
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) { return in[0] / in[1] + 1 / (in[1] * in[0] + 5); },
      {test::leaf({2, 3}), b});
}

BOOST_AUTO_TEST_CASE(gradcheck_neg) {
  // neg(x) on a narrowed view
  mg::manual_seed(15);
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) { return -in[0].narrow(1, 1, 2) * in[0].narrow(1, 0, 2); },
      {test::leaf({2, 3})});
}

BOOST_AUTO_TEST_CASE(integer_overflow_wraps_and_conversions_are_defined) {
  // PyTorch 1.13 on x86 (values printed by torch): int64 arithmetic wraps modulo 2^64;
  // NaN and out-of-range floats convert to the lowest int64; a double beyond float's range
  // converts to inf; a number that does not fit is refused by full/fill_.
  const std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
  BOOST_CHECK_EQUAL((mg::from_vector(std::vector<std::int64_t>{std::int64_t{1} << 62}) * 4)
                        .item<std::int64_t>(), 0);
  BOOST_CHECK_EQUAL((-mg::from_vector(std::vector<std::int64_t>{lowest})).item<std::int64_t>(),
                    lowest);
  const mg::Tensor odd = mg::from_vector(std::vector<float>{NAN, 1e30f, -1e30f, 3.7f, -3.7f});
  BOOST_CHECK(odd.to(mg::kInt64).to_vector<std::int64_t>() ==
              (std::vector<std::int64_t>{lowest, lowest, lowest, 3, -3}));
  BOOST_CHECK(std::isinf(mg::full({1}, 1e300, mg::kFloat64).to(mg::kFloat32).item<float>()));
  test::check_error([] { mg::full({2}, 1e300); },
                    "value cannot be converted to type float without overflow");
  test::check_error([] { mg::full({2}, 1e30, mg::kInt64); },
                    "value cannot be converted to type int64_t without overflow");
  mg::Tensor target = mg::zeros({2}, mg::kInt64);
  test::check_error([&] { target.fill_(NAN); },
                    "value cannot be converted to type int64_t without overflow");
}
