// Comparisons and masks (core/compare.cpp): == != < <= > >= and their methods, where,
// masked_fill. Every value here is worked out by hand; where and masked_fill are
// gradient-checked with broadcasting, a tensor used twice and a non-contiguous input.
#define BOOST_TEST_MODULE compare
#include <cmath>
#include <cstdint>
#include <limits>

#include "support.h"

namespace {

std::vector<bool> bools(const mg::Tensor& t) {
  BOOST_REQUIRE(t.dtype() == mg::kBool);
  return t.to_vector<bool>();
}

std::string node_name(const mg::Tensor& y) { return y.grad_fn() ? y.grad_fn()->name() : "none"; }

const double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

BOOST_AUTO_TEST_CASE(comparisons) {
  // Tensor Tensor::eq/ne/lt/le/gt/ge(const Tensor& other); operators == != < <= > >=
  // a (2, 1) against b (3,) broadcasts to (2, 3).
  const mg::Tensor a = mg::from_vector<double>({1, 2}, {2, 1});
  const mg::Tensor b = mg::from_vector<double>({0, 1, 2});
  const mg::Tensor lt = a < b;
  BOOST_CHECK(lt.dtype() == mg::kBool);
  BOOST_CHECK(lt.shape() == (mg::Shape{2, 3}));
  using B = std::vector<bool>;
  BOOST_CHECK(bools(lt) == (B{false, false, true, false, false, false}));
  BOOST_CHECK(bools(a <= b) == (B{false, true, true, false, false, true}));
  BOOST_CHECK(bools(a > b) == (B{true, false, false, true, true, false}));
  BOOST_CHECK(bools(a >= b) == (B{true, true, false, true, true, true}));
  BOOST_CHECK(bools(a == b) == (B{false, true, false, false, false, true}));
  BOOST_CHECK(bools(a != b) == (B{true, false, true, true, true, false}));
  BOOST_CHECK(bools(a.lt(b)) == bools(lt));
  BOOST_CHECK(bools(a.le(b)) == bools(a <= b));
  BOOST_CHECK(bools(a.gt(b)) == bools(a > b));
  BOOST_CHECK(bools(a.ge(b)) == bools(a >= b));
  BOOST_CHECK(bools(a.eq(b)) == bools(a == b));
  BOOST_CHECK(bools(a.ne(b)) == bools(a != b));

  // Non-contiguous operands: (2, 3) transposed to (3, 2) against a (3, 2) tensor.
  const mg::Tensor m = mg::from_vector<std::int64_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  const mg::Tensor n = mg::from_vector<std::int64_t>({1, 4, 2, 5, 0, 0}, {3, 2});
  BOOST_CHECK(bools(m.t() == n) == (B{true, true, true, true, false, false}));

  // Compared in the promoted dtype: int64 against float32 compares in float32, and a 0-d
  // float64 against a float32 tensor compares in float32 (0.1f == 0.1 there, not in float64).
  const mg::Tensor ints = mg::from_vector<std::int64_t>({1, 2, 3});
  BOOST_CHECK(bools(ints < mg::from_vector<float>({2.5f})) == (B{true, true, false}));
  const mg::Tensor tenth32 = mg::from_vector<float>({0.1f});
  BOOST_CHECK(bools(tenth32 == mg::scalar_tensor(0.1, mg::kFloat64)) == (B{true}));
  BOOST_CHECK(bools(mg::scalar_tensor(0.1, mg::kFloat64) == tenth32) == (B{true}));
  BOOST_CHECK(bools(tenth32 == mg::from_vector<double>({0.1})) == (B{false}));
  BOOST_CHECK(bools(mg::from_vector<bool>({true, false}) < mg::from_vector<bool>({true, true})) ==
              (B{false, true}));

  // NaN is unequal to everything, itself included.
  const mg::Tensor nan = mg::from_vector<double>({kNaN, 1});
  BOOST_CHECK(bools(nan == nan) == (B{false, true}));
  BOOST_CHECK(bools(nan != nan) == (B{true, false}));
  BOOST_CHECK(bools(nan < mg::from_vector<double>({2, 2})) == (B{false, true}));

  // Never recorded by autograd.
  const mg::Tensor x = mg::randn({3}).requires_grad_();
  const mg::Tensor c = x > b.to(mg::kFloat32);
  BOOST_CHECK(!c.requires_grad());
  BOOST_CHECK(c.is_leaf());

  test::check_error([&] { (void)(ints < mg::ones({2})); },
                    "The size of tensor a (3) must match the size of tensor b (2) at "
                    "non-singleton dimension 0");
  test::check_error([&] { (void)(ints == mg::Tensor()); }, "eq: expected two defined tensors");
  test::check_error([&] { (void)mg::Tensor().ge(ints); }, "ge: expected two defined tensors");
}

BOOST_AUTO_TEST_CASE(comparisons_with_numbers) {
  // Tensor operator<(const Tensor&, Scalar) and (Scalar, const Tensor&), likewise == != <= > >=
  using B = std::vector<bool>;
  const mg::Tensor ints = mg::from_vector<std::int64_t>({1, 2, 3});
  BOOST_CHECK(bools(ints < 2.5) == (B{true, true, false}));  // compared in float32
  BOOST_CHECK(bools(ints <= 2) == (B{true, true, false}));
  BOOST_CHECK(bools(ints > 2) == (B{false, false, true}));
  BOOST_CHECK(bools(ints >= 2) == (B{false, true, true}));
  BOOST_CHECK(bools(ints == 2) == (B{false, true, false}));
  BOOST_CHECK(bools(ints != 2) == (B{true, false, true}));
  BOOST_CHECK(bools(2 < ints) == (B{false, false, true}));
  BOOST_CHECK(bools(2 <= ints) == (B{false, true, true}));
  BOOST_CHECK(bools(2 > ints) == (B{true, false, false}));
  BOOST_CHECK(bools(2 >= ints) == (B{true, true, false}));
  BOOST_CHECK(bools(2 == ints) == (B{false, true, false}));
  BOOST_CHECK(bools(2 != ints) == (B{true, false, true}));
  // A float number against a float32 tensor is read as float32, as in PyTorch.
  BOOST_CHECK(bools(mg::from_vector<float>({0.1f}) == 0.1) == (B{true}));
  BOOST_CHECK(bools(mg::from_vector<double>({0.1f}) == 0.1) == (B{false}));
  BOOST_CHECK(bools(mg::from_vector<bool>({true, false}) == 1) == (B{true, false}));
  test::check_error([] { (void)(mg::Tensor() < 1); }, "lt: expected a defined tensor");
  test::check_error([] { (void)(1 < mg::Tensor()); }, "lt: expected a defined tensor");
}

BOOST_AUTO_TEST_CASE(where_op) {
  // Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b)
  // condition (2, 1), a (3,), b 0-d broadcast to (2, 3); int64 with float32 promotes to float32.
  const mg::Tensor cond = mg::from_vector<bool>({true, false}, {2, 1});
  const mg::Tensor y = mg::where(cond, mg::from_vector<std::int64_t>({1, 2, 3}),
                                 mg::scalar_tensor(0.5, mg::kFloat32));
  BOOST_CHECK(y.shape() == (mg::Shape{2, 3}));
  BOOST_CHECK(y.dtype() == mg::kFloat32);
  BOOST_CHECK(y.to_vector<float>() == (std::vector<float>{1, 2, 3, 0.5f, 0.5f, 0.5f}));
  const mg::Tensor pick = mg::where(mg::from_vector<bool>({true, false, true}),
                                    mg::from_vector<bool>({false, false, false}),
                                    mg::from_vector<bool>({true, true, true}));
  BOOST_CHECK(pick.dtype() == mg::kBool);
  BOOST_CHECK(pick.to_vector<bool>() == (std::vector<bool>{false, true, false}));
  BOOST_CHECK(
      mg::where(cond, mg::ones({3}, mg::kInt64), mg::scalar_tensor(2.0, mg::kFloat64)).dtype() ==
      mg::kFloat64);  // a 0-d float64 outranks int64

  // Gradients: a's where the condition holds, b's elsewhere, summed to each input's shape.
  mg::Tensor a = mg::zeros({2, 3}, mg::kFloat64).requires_grad_();
  mg::Tensor b = mg::zeros({3}, mg::kFloat64).requires_grad_();
  const mg::Tensor g = mg::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  const mg::Tensor out = mg::where(cond, a, b);
  BOOST_CHECK_EQUAL(node_name(out), "WhereBackward0");
  out.backward(g);
  test::check_close(a.grad(), mg::from_vector<double>({1, 2, 3, 0, 0, 0}, {2, 3}), 0, 0, "grad_a");
  test::check_close(b.grad(), mg::from_vector<double>({4, 5, 6}), 0, 0, "grad_b");

  mg::manual_seed(20);
  const mg::Tensor mask = mg::rand({2, 3}) > 0.5;
  test::check_gradients(
      [&](const std::vector<mg::Tensor>& in) { return mg::where(mask, in[0], in[1]); },
      {test::leaf({2, 3}), test::leaf({3})});
  test::check_gradients(
      [&](const std::vector<mg::Tensor>& in) {
        return mg::where(mask, in[0], in[0] * 2) + mg::where(mask.t(), in[1].t(), in[0].t()).t();
      },
      {test::leaf({2, 3}), test::leaf({2, 3})});

  // Mixed dtypes: each gradient comes back in its input's dtype.
  mg::Tensor a32 = mg::ones({2}, mg::kFloat32).requires_grad_();
  mg::Tensor b64 = mg::ones({2}, mg::kFloat64).requires_grad_();
  mg::where(mg::from_vector<bool>({true, false}), a32, b64).sum().backward();
  BOOST_CHECK(a32.grad().dtype() == mg::kFloat32);
  BOOST_CHECK(b64.grad().dtype() == mg::kFloat64);
  BOOST_CHECK(a32.grad().to_vector<float>() == (std::vector<float>{1, 0}));

  test::check_error([] { mg::where(mg::ones({2}), mg::ones({2}), mg::zeros({2})); },
                    "where expected condition to be a boolean tensor, but got a tensor with dtype "
                    "Float");
  test::check_error([] { mg::where(mg::arange(2), mg::ones({2}), mg::zeros({2})); },
                    "but got a tensor with dtype Long");
  const mg::Tensor three = mg::from_vector<bool>({true, false, true});
  test::check_error([&] { mg::where(three, mg::ones({2}), mg::zeros({})); },
                    "The size of tensor a (3) must match the size of tensor b (2) at non-singleton "
                    "dimension 0");
  test::check_error([] { mg::where(mg::Tensor(), mg::ones({2}), mg::zeros({2})); },
                    "where: expected three defined tensors");
}

BOOST_AUTO_TEST_CASE(masked_fill_op) {
  // Tensor Tensor::masked_fill(const Tensor& mask, Scalar value)
  const mg::Tensor x = mg::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  const mg::Tensor row = mg::from_vector<bool>({true, false, true});  // broadcast over rows
  const mg::Tensor y = x.masked_fill(row, -1);
  BOOST_CHECK(y.dtype() == mg::kFloat64);
  BOOST_CHECK(y.to_vector<double>() == (std::vector<double>{-1, 2, -1, -1, 5, -1}));
  BOOST_CHECK(x.to_vector<double>() == (std::vector<double>{1, 2, 3, 4, 5, 6}));  // out of place
  const mg::Tensor column = mg::from_vector<bool>({false, true}, {2, 1});
  BOOST_CHECK(x.t().masked_fill(row.view({3, 1}), 0).to_vector<double>() ==
              (std::vector<double>{0, 0, 2, 5, 0, 0}));  // non-contiguous x
  BOOST_CHECK(x.masked_fill(column, std::numeric_limits<double>::infinity()).to_vector<double>() ==
              (std::vector<double>{1, 2, 3, INFINITY, INFINITY, INFINITY}));
  // The value is converted to x's dtype: 2.5 into int64 is 2, 5 into bool is true.
  const mg::Tensor ints = mg::arange(3).masked_fill(row, 2.5);
  BOOST_CHECK(ints.dtype() == mg::kInt64);
  BOOST_CHECK(ints.to_vector<std::int64_t>() == (std::vector<std::int64_t>{2, 1, 2}));
  BOOST_CHECK(mg::from_vector<bool>({false, false, false}).masked_fill(row, 5).to_vector<bool>() ==
              (std::vector<bool>{true, false, true}));

  // A mask bigger than x broadcasts x (out of place, as PyTorch's masked_fill does); the
  // gradient sums back down to x's shape: grad_x = [0 + 3, 2 + 4].
  mg::Tensor small = mg::ones({2}, mg::kFloat64).requires_grad_();
  const mg::Tensor big_mask = mg::from_vector<bool>({true, false, false, false}, {2, 2});
  const mg::Tensor filled = small.masked_fill(big_mask, 0);
  BOOST_CHECK(filled.shape() == (mg::Shape{2, 2}));
  BOOST_CHECK_EQUAL(node_name(filled), "MaskedFillBackward0");
  filled.backward(mg::from_vector<double>({1, 2, 3, 4}, {2, 2}));
  test::check_close(small.grad(), mg::from_vector<double>({3, 6}), 0, 0, "grad_x");

  mg::manual_seed(21);
  const mg::Tensor mask = mg::rand({2, 3}) > 0.5;
  test::check_gradients(
      [&](const std::vector<mg::Tensor>& in) {
        return in[0].masked_fill(mask, 0.5) * in[0] + in[1].t().masked_fill(column, -2);
      },
      {test::leaf({2, 3}), test::leaf({3, 2})});
  test::check_gradients(
      [&](const std::vector<mg::Tensor>& in) { return in[0].masked_fill(mask, 1); },
      {test::leaf({3})});

  test::check_error([&] { x.masked_fill(mg::ones({3}), 0); },
                    "masked_fill_ only supports boolean masks, but got mask with dtype Float");
  const mg::Tensor two = mg::from_vector<bool>({true, false});
  test::check_error([&] { x.masked_fill(two, 0); },
                    "The size of tensor a (3) must match the size of tensor b (2) at non-singleton "
                    "dimension 1");
  test::check_error([&] { mg::arange(3).masked_fill(row, std::nan("")); },
                    "value cannot be converted to type int64_t without overflow");
  test::check_error([&] { mg::arange(3).masked_fill(row, 1e30); },
                    "value cannot be converted to type int64_t without overflow");
  test::check_error([&] { mg::ones({3}).masked_fill(row, -1e300); },
                    "value cannot be converted to type float without overflow");
  BOOST_CHECK_EQUAL(mg::ones({3}, mg::kFloat64).masked_fill(row, 1e300).to_vector<double>()[0],
                    1e300);
  test::check_error([&] { x.masked_fill(mg::Tensor(), 0); },
                    "masked_fill: expected a defined mask");
  test::check_error([&] { mg::Tensor().masked_fill(row, 0); }, "the tensor is undefined");
}
