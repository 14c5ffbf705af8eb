// Joining and indexing (core/indexing.cpp): cat, stack, index_select, gather. Values against
// explicit loops or hand-derived numbers, gradients by gradcheck (with repeated indices, so that
// accumulation is exercised), and every error with PyTorch 1.13's words.
#define BOOST_TEST_MODULE indexing
#include <array>

#include "support.h"

namespace {

using Index3 = std::array<std::int64_t, 3>;

// A float64 tensor of `shape` holding base, base + 1, base + 2, ...: every element is distinct,
// so a value read from the wrong place shows.
mg::Tensor counting(const mg::Shape& shape, double base = 0) {
  std::vector<double> values(static_cast<std::size_t>(mg::shape_numel(shape)));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = base + static_cast<double>(i);
  return mg::from_vector(values, shape);
}

mg::Tensor indices(const std::vector<std::int64_t>& values, const mg::Shape& shape) {
  return mg::from_vector(values, shape);
}

// The same with every value taken modulo `size`, to fit a dimension of that size.
mg::Tensor indices_below(std::int64_t size, std::vector<std::int64_t> values,
                         const mg::Shape& shape) {
  for (std::int64_t& v : values) v %= size;
  return mg::from_vector(values, shape);
}

// Row-major position of (i, j, k) in a tensor of 3-D `shape`.
std::size_t flat(const mg::Shape& shape, const Index3& p) {
  return static_cast<std::size_t>((p[0] * shape[1] + p[1]) * shape[2] + p[2]);
}

// Calls body(p) for every (i, j, k) of a 3-D shape.
template <class Body>
void for_each_index(const mg::Shape& shape, Body&& body) {
  for (std::int64_t i = 0; i < shape[0]; ++i)
    for (std::int64_t j = 0; j < shape[1]; ++j)
      for (std::int64_t k = 0; k < shape[2]; ++k) body(Index3{i, j, k});
}

std::size_t wrapped(std::int64_t dim, std::int64_t rank) {
  return static_cast<std::size_t>(dim < 0 ? dim + rank : dim);
}

}  // namespace

BOOST_AUTO_TEST_CASE(cat_values) {
  // Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim = 0)
  // Along each dim of 3-D inputs, negative dims too, against a loop that finds the source.
  for (std::int64_t dim : {0, 1, 2, -1, -2, -3}) {
    const std::size_t d = wrapped(dim, 3);
    const std::array<std::int64_t, 3> lengths = {2, 3, 1};  // the inputs' sizes along d
    std::vector<mg::Tensor> inputs;
    std::vector<std::vector<double>> input_values;
    for (std::size_t n = 0; n < 3; ++n) {
      mg::Shape shape = {2, 3, 4};
      shape[d] = lengths[n];
      inputs.push_back(counting(shape, 100.0 * static_cast<double>(n)));
      input_values.push_back(inputs.back().to_vector<double>());
    }
    const mg::Tensor y = mg::cat(inputs, dim);
    mg::Shape shape_out = {2, 3, 4};
    shape_out[d] = 6;
    BOOST_REQUIRE(y.shape() == shape_out);
    const auto values = y.to_vector<double>();
    for_each_index(shape_out, [&](const Index3& q) {
      Index3 p = q;  // q's place in input n
      std::size_t n = 0;
      while (p[d] >= lengths[n]) p[d] -= lengths[n++];
      BOOST_CHECK_EQUAL(values[flat(shape_out, q)], input_values[n][flat(inputs[n].shape(), p)]);
    });
  }
  // A hand-checked case: [[0, 1], [2, 3]] and [[4], [5]] along dim 1.
  const mg::Tensor y = mg::cat({counting({2, 2}), counting({2, 1}, 4)}, 1);
  test::check_close(y, mg::from_vector<double>({0, 1, 4, 2, 3, 5}, {2, 3}), 0, 0, "cat dim 1");
  // A non-contiguous input is read through its strides.
  const mg::Tensor t = counting({3, 2}).t();  // (2, 3): [[0, 2, 4], [1, 3, 5]]
  test::check_close(mg::cat({t, t}, 0),
                    mg::from_vector<double>({0, 2, 4, 1, 3, 5, 0, 2, 4, 1, 3, 5}, {4, 3}), 0, 0,
                    "cat of a transpose");
}

BOOST_AUTO_TEST_CASE(cat_promotes_dtypes_and_skips_1d_empty_tensors) {
  // Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim = 0)
  // PyTorch 1.13: float32 with float64 gives float64, int64 with float32 gives float32, bool
  // with int64 gives int64.
  const mg::Tensor f = mg::from_vector<float>({1.5f, 2.5f});
  const mg::Tensor d = mg::from_vector<double>({3.25});
  const mg::Tensor i = mg::from_vector<std::int64_t>({7});
  const mg::Tensor b = mg::from_vector<bool>({true, false});
  const mg::Tensor fd = mg::cat({f, d});
  BOOST_CHECK(fd.dtype() == mg::kFloat64);
  test::check_close(fd, mg::from_vector<double>({1.5, 2.5, 3.25}), 0, 0, "float32 + float64");
  const mg::Tensor fi = mg::cat({i, f});
  BOOST_CHECK(fi.dtype() == mg::kFloat32);
  test::check_close(fi, mg::from_vector<float>({7, 1.5f, 2.5f}), 0, 0, "int64 + float32");
  const mg::Tensor bi = mg::cat({b, i});
  BOOST_CHECK(bi.dtype() == mg::kInt64);
  BOOST_CHECK(bi.to_vector<std::int64_t>() == (std::vector<std::int64_t>{1, 0, 7}));
  BOOST_CHECK(mg::cat({b, b}).dtype() == mg::kBool);

  // A (0,) tensor is skipped next to tensors of any rank, in any dim, but its dtype still
  // counts; other empty shapes are not skipped.
  const mg::Tensor a = counting({2, 3}).to(mg::kFloat32);
  const mg::Tensor skipped = mg::zeros({0}, mg::kFloat64);
  const mg::Tensor y = mg::cat({skipped, a, skipped}, 1);
  BOOST_CHECK(y.dtype() == mg::kFloat64);
  test::check_close(y, a.to(mg::kFloat64), 0, 0, "cat with (0,) tensors");
  test::check_close(mg::cat({mg::zeros({0, 3}), a}, 0), a, 0, 0, "cat with a (0, 3) tensor");
  // All skipped: a (0,) result, and the dim is never checked.
  BOOST_CHECK(mg::cat({mg::zeros({0}), mg::zeros({0})}, 5).shape() == (mg::Shape{0}));
}

BOOST_AUTO_TEST_CASE(cat_gradients) {
  // Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim = 0)
  // Three inputs, one non-contiguous, one used twice, along a middle and a negative dim.
  mg::manual_seed(11);
  mg::Tensor a = test::leaf({2, 3, 4});
  mg::Tensor b = test::leaf({2, 4, 1});  // transposed inside fn: (2, 1, 4)
  mg::Tensor c = test::leaf({2, 2, 4});
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        return mg::cat({in[0], in[1].transpose(1, 2), in[2], in[0]}, 1);
      },
      {a, b, c});
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        const mg::Tensor bt = in[1].transpose(1, 2);  // (2, 1, 4)
        return mg::cat({bt, in[0].narrow(1, 2, 1), bt}, -1);
      },
      {a, b});

  // Each input's gradient comes back in its own dtype and shape, a skipped one's too; the node
  // is PyTorch's CatBackward0.
  mg::Tensor f = mg::randn({2, 2}).requires_grad_();
  mg::Tensor g = mg::randn({2, 1}, mg::kFloat64).requires_grad_();
  mg::Tensor e = mg::zeros({0}).requires_grad_();
  const mg::Tensor y = mg::cat({f, e, g}, 1);
  BOOST_REQUIRE(y.grad_fn());
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "CatBackward0");
  y.backward(counting({2, 3}));
  test::check_close(f.grad(), mg::from_vector<float>({0, 1, 3, 4}, {2, 2}), 0, 0, "grad_f");
  test::check_close(g.grad(), mg::from_vector<double>({2, 5}, {2, 1}), 0, 0, "grad_g");
  BOOST_CHECK(e.grad().shape() == (mg::Shape{0}));
}

BOOST_AUTO_TEST_CASE(cat_errors) {
  // Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim = 0)
  const mg::Tensor a = mg::zeros({2, 3});
  test::check_error([&] { mg::cat({}); }, "torch.cat(): expected a non-empty list of Tensors");
  test::check_error([&] { mg::cat({a, mg::zeros({3, 3})}, 1); },
                    "Sizes of tensors must match except in dimension 1. Expected size 2 but got "
                    "size 3 for tensor number 1 in the list.");
  // The tensor number counts skipped (0,) tensors; the dim is reported wrapped.
  test::check_error([&] { mg::cat({a, mg::zeros({0}), mg::zeros({2, 4})}, -2); },
                    "Sizes of tensors must match except in dimension 0. Expected size 3 but got "
                    "size 4 for tensor number 2 in the list.");
  // A (0, 2) tensor is empty but not skipped: its size 2 is checked.
  test::check_error([&] { mg::cat({mg::zeros({0, 2}), a}); },
                    "Sizes of tensors must match except in dimension 0. Expected size 2 but got "
                    "size 3 for tensor number 1 in the list.");
  test::check_error([&] { mg::cat({a, mg::zeros({2, 3, 1})}); },
                    "Tensors must have same number of dimensions: got 2 and 3");
  test::check_error([&] { mg::cat({a, a}, 2); },
                    "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
  test::check_error([&] { mg::cat({a, a}, -3); },
                    "Dimension out of range (expected to be in range of [-2, 1], but got -3)");
  test::check_error([&] { mg::cat({a, mg::zeros({})}); },
                    "zero-dimensional tensor (at position 1) cannot be concatenated");
}

BOOST_AUTO_TEST_CASE(stack_values) {
  // Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim = 0)
  // At every position of the new dimension, y.select(dim, n) is input n.
  std::vector<mg::Tensor> inputs;
  for (int n = 0; n < 3; ++n) inputs.push_back(counting({2, 4}, 10.0 * n));
  for (std::int64_t dim : {0, 1, 2, -1, -2, -3}) {
    const std::size_t d = wrapped(dim, 3);
    const mg::Tensor y = mg::stack(inputs, dim);
    mg::Shape shape_out = {2, 4};
    shape_out.insert(shape_out.begin() + static_cast<std::ptrdiff_t>(d), 3);
    BOOST_REQUIRE(y.shape() == shape_out);
    const auto values = y.to_vector<double>();
    for_each_index(shape_out, [&](const Index3& q) {
      Index3 p = q;  // q without its d-th coordinate, which is the input number
      const auto n = static_cast<std::size_t>(q[d]);
      for (std::size_t k = d; k < 2; ++k) p[k] = p[k + 1];
      BOOST_CHECK_EQUAL(values[flat(shape_out, q)],
                        inputs[n].to_vector<double>()[static_cast<std::size_t>(p[0] * 4 + p[1])]);
    });
  }
  // 0-d tensors stack into a vector; hand-checked.
  test::check_close(mg::stack({mg::scalar_tensor(1.0, mg::kFloat64),
                               mg::scalar_tensor(2.0, mg::kFloat64)}),
                    mg::from_vector<double>({1, 2}), 0, 0, "stack of 0-d tensors");
  BOOST_CHECK(mg::stack({mg::zeros({2}), mg::zeros({2}, mg::kFloat64)}, 1).dtype() ==
              mg::kFloat64);
}

BOOST_AUTO_TEST_CASE(stack_gradients) {
  // Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim = 0)
  mg::manual_seed(12);
  mg::Tensor a = test::leaf({3, 2});
  mg::Tensor b = test::leaf({2, 3});  // transposed inside fn
  for (std::int64_t dim : {0, 1, 2, -1})
    test::check_gradients(
        [dim](const std::vector<mg::Tensor>& in) {
          return mg::stack({in[0], in[1].t(), in[0]}, dim);
        },
        {a, b});
}

BOOST_AUTO_TEST_CASE(stack_errors) {
  // Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim = 0)
  const mg::Tensor a = mg::zeros({2, 3});
  test::check_error([&] { mg::stack({}); }, "stack expects a non-empty TensorList");
  test::check_error([&] { mg::stack({a, mg::zeros({2, 4})}, 1); },
                    "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and "
                    "[2, 4] at entry 1");
  test::check_error([&] { mg::stack({a, a, mg::zeros({2, 3, 1})}, 2); },
                    "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and "
                    "[2, 3, 1] at entry 2");
  test::check_error([&] { mg::stack({a, a}, 3); },
                    "Dimension out of range (expected to be in range of [-3, 2], but got 3)");
  test::check_error([&] { mg::stack({a, a}, -4); },
                    "Dimension out of range (expected to be in range of [-3, 2], but got -4)");
}

BOOST_AUTO_TEST_CASE(index_select_values) {
  // Tensor Tensor::index_select(std::int64_t dim, const Tensor& index) const
  // Along each dim of a 3-D input, with a repeated index, against a loop.
  const mg::Tensor x = counting({2, 3, 4});
  const auto x_values = x.to_vector<double>();
  const std::vector<std::int64_t> chosen = {1, 0, 1, 1};
  for (std::int64_t dim : {0, 1, 2, -1}) {
    const std::size_t d = wrapped(dim, 3);
    const mg::Tensor y = x.index_select(dim, indices(chosen, {4}));
    mg::Shape shape_out = x.shape();
    shape_out[d] = 4;
    BOOST_REQUIRE(y.shape() == shape_out);
    const auto values = y.to_vector<double>();
    for_each_index(shape_out, [&](const Index3& q) {
      Index3 p = q;
      p[d] = chosen[static_cast<std::size_t>(q[d])];
      BOOST_CHECK_EQUAL(values[flat(shape_out, q)], x_values[flat(x.shape(), p)]);
    });
  }
  // Hand-checked: columns 2, 0, 2 of [[0, 1, 2], [3, 4, 5]], from a non-contiguous x and a
  // strided index.
  const mg::Tensor m = counting({3, 2}).t();            // [[0, 2, 4], [1, 3, 5]]
  const mg::Tensor every_other = indices({2, 9, 0, 9, 2, 9}, {3, 2}).select(1, 0);  // stride 2
  test::check_close(m.index_select(1, every_other),
                    mg::from_vector<double>({4, 0, 4, 5, 1, 5}, {2, 3}), 0, 0,
                    "index_select of a transpose");
  // A 0-d index keeps the dimension with size 1; an empty index gives size 0.
  test::check_close(counting({2, 3}).index_select(0, mg::scalar_tensor(1, mg::kInt64)),
                    mg::from_vector<double>({3, 4, 5}, {1, 3}), 0, 0, "0-d index");
  BOOST_CHECK(counting({2, 3}).index_select(1, mg::zeros({0}, mg::kInt64)).shape() ==
              (mg::Shape{2, 0}));
  // Integer and bool tensors, and a 0-d x (index 0 only, the result 0-d, as in PyTorch 1.13).
  BOOST_CHECK(mg::arange(5).index_select(0, indices({4, 4, 0}, {3})).to_vector<std::int64_t>() ==
              (std::vector<std::int64_t>{4, 4, 0}));
  const mg::Tensor bools = mg::from_vector<bool>({true, false});
  BOOST_CHECK(bools.index_select(0, indices({1, 0}, {2})).to_vector<bool>() ==
              (std::vector<bool>{false, true}));
  const mg::Tensor s = mg::scalar_tensor(5.0).index_select(0, indices({0, 0}, {2}));
  BOOST_CHECK(s.shape() == mg::Shape{});
  BOOST_CHECK_EQUAL(s.item<float>(), 5.0f);
}

BOOST_AUTO_TEST_CASE(index_select_gradients) {
  // Tensor Tensor::index_select(std::int64_t dim, const Tensor& index) const
  // Repeated indices: a slice chosen twice must get both gradients (index_add).
  mg::manual_seed(13);
  mg::Tensor x = test::leaf({3, 4, 2});
  const std::vector<std::int64_t> chosen = {2, 0, 2, 2, 1};
  for (std::int64_t dim : {0, 1, 2}) {
    const mg::Tensor index = indices_below(x.size(dim), chosen, {5});
    test::check_gradients(
        [&](const std::vector<mg::Tensor>& in) {
          return in[0].index_select(dim, index) * in[0].sum(dim, true);  // x used twice
        },
        {x});
  }
  // A non-contiguous x, and a 0-d x (y = x).
  test::check_gradients(
      [&](const std::vector<mg::Tensor>& in) {
        return in[0].permute({2, 0, 1}).index_select(2, indices(chosen, {5}));
      },
      {x});
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        return in[0].index_select(0, mg::scalar_tensor(0, mg::kInt64));
      },
      {test::leaf({})});

  // Hand-checked: columns 2, 2, 0 of a (2, 3) x with upstream gradient [[1, 2, 3], [4, 5, 6]]:
  // column 2 collects 1 + 2 and 4 + 5, column 0 collects 3 and 6, column 1 nothing.
  mg::Tensor m = mg::zeros({2, 3}, mg::kFloat64).requires_grad_();
  const mg::Tensor y = m.index_select(1, indices({2, 2, 0}, {3}));
  BOOST_REQUIRE(y.grad_fn());
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "IndexSelectBackward0");
  y.backward(counting({2, 3}, 1));
  test::check_close(m.grad(), mg::from_vector<double>({3, 0, 3, 6, 0, 9}, {2, 3}), 0, 0,
                    "grad of index_select");

  // The index is saved for backward: changing it in place afterwards is caught.
  mg::Tensor changed = indices({0, 1}, {2});
  const mg::Tensor z = m.index_select(0, changed).sum();
  changed.fill_(0);
  test::check_error([&] { z.backward(); },
                    "one of the variables needed for gradient computation has been modified");
}

BOOST_AUTO_TEST_CASE(index_select_errors) {
  // Tensor Tensor::index_select(std::int64_t dim, const Tensor& index) const
  const mg::Tensor x = mg::zeros({2, 3});
  test::check_error([&] { x.index_select(1, indices({1}, {1, 1})); },
                    "index_select(): Index is supposed to be a vector");
  test::check_error([&] { x.index_select(1, mg::from_vector<double>({1})); },
                    "index_select(): Expected dtype int32 or int64 for index");
  test::check_error([&] { x.index_select(0, indices({0, 2}, {2})); },
                    "index out of range in self");
  test::check_error([&] { x.index_select(0, indices({-1}, {1})); },
                    "index out of range in self");
  test::check_error([&] { x.index_select(-1, indices({3}, {1})); }, "index out of range in self");
  test::check_error([&] { mg::scalar_tensor(5.0).index_select(0, indices({1}, {1})); },
                    "index out of range in self");
  test::check_error([&] { x.index_select(2, indices({0}, {1})); },
                    "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
  test::check_error([&] { mg::zeros({0, 3}).index_select(0, indices({0}, {1})); },
                    "index_select(): self indexing axis dim should be positive");
}

BOOST_AUTO_TEST_CASE(gather_values) {
  // Tensor Tensor::gather(std::int64_t dim, const Tensor& index) const
  // Along each dim of a 3-D input, with an index smaller than x in the other dims and
  // repeated values, against the definition y[p] = x[p with coordinate dim = index[p]].
  const mg::Tensor x = counting({3, 4, 5});
  const auto x_values = x.to_vector<double>();
  for (std::int64_t dim : {0, 1, 2, -2}) {
    const std::size_t d = wrapped(dim, 3);
    const mg::Shape index_shape = {2, 3, 4};
    std::vector<std::int64_t> chosen(24);
    for (std::size_t n = 0; n < chosen.size(); ++n)
      chosen[n] = static_cast<std::int64_t>((n * 7 + 1) % 3);  // 1, 2, 0, 1, ...: repeats
    const mg::Tensor y = x.gather(dim, indices(chosen, index_shape));
    BOOST_REQUIRE(y.shape() == index_shape);
    const auto values = y.to_vector<double>();
    for_each_index(index_shape, [&](const Index3& q) {
      Index3 p = q;
      p[d] = chosen[flat(index_shape, q)];
      BOOST_CHECK_EQUAL(values[flat(index_shape, q)], x_values[flat(x.shape(), p)]);
    });
  }
  // Hand-checked, x = [[0, 1, 2], [3, 4, 5]]: along dim 1 each row picks its own columns.
  const mg::Tensor m = counting({2, 3});
  test::check_close(m.gather(1, indices({2, 0, 2, 1, 1, 1, 0, 0}, {2, 4})),
                    mg::from_vector<double>({2, 0, 2, 1, 4, 4, 3, 3}, {2, 4}), 0, 0,
                    "gather dim 1");
  test::check_close(m.gather(0, indices({1, 0, 1, 1, 1, 0}, {2, 3})),
                    mg::from_vector<double>({3, 1, 5, 3, 4, 2}, {2, 3}), 0, 0, "gather dim 0");
  // A non-contiguous x and index.
  test::check_close(m.t().gather(0, indices({2, 0, 1, 2}, {2, 2}).t()),
                    mg::from_vector<double>({2, 4, 0, 5}, {2, 2}), 0, 0, "gather of transposes");
  // 0-d tensors count as 1-D of size 1; an empty index may have any shape.
  test::check_close(mg::from_vector<double>({7, 8, 9}).gather(0, mg::scalar_tensor(2, mg::kInt64)),
                    mg::scalar_tensor(9.0, mg::kFloat64), 0, 0, "0-d index");
  test::check_close(mg::scalar_tensor(5.0, mg::kFloat64).gather(0, indices({0, 0}, {2})),
                    mg::from_vector<double>({5, 5}), 0, 0, "0-d x");
  BOOST_CHECK(m.gather(1, mg::zeros({3, 0}, mg::kInt64)).shape() == (mg::Shape{3, 0}));
  BOOST_CHECK(m.gather(1, mg::zeros({0, 0, 0}, mg::kInt64)).shape() == (mg::Shape{0, 0, 0}));
  BOOST_CHECK(mg::arange(4).gather(0, indices({3, 3}, {2})).to_vector<std::int64_t>() ==
              (std::vector<std::int64_t>{3, 3}));
}

BOOST_AUTO_TEST_CASE(gather_gradients) {
  // Tensor Tensor::gather(std::int64_t dim, const Tensor& index) const
  // Repeated indices: an element read twice must get both gradients (scatter-add).
  mg::manual_seed(14);
  mg::Tensor x = test::leaf({3, 4, 2});
  const std::vector<std::int64_t> chosen = {0, 2, 2, 1, 0, 0, 1, 1, 2, 2, 2, 0};
  for (std::int64_t dim : {0, 1, 2}) {
    const mg::Tensor index = indices_below(x.size(dim), chosen, {2, 3, 2});
    test::check_gradients(
        [&](const std::vector<mg::Tensor>& in) {
          // x is used twice: gathered, and its (2, 3, 2) corner as a factor.
          return in[0].gather(dim, index) * in[0].narrow(0, 0, 2).narrow(1, 0, 3);
        },
        {x});
  }
  // A non-contiguous x: (2, 3, 4) from a permute.
  test::check_gradients(
      [&](const std::vector<mg::Tensor>& in) {
        return in[0].permute({2, 0, 1}).gather(1, indices(chosen, {2, 3, 2}));
      },
      {x});
  // A 0-d x read twice, and a 0-d index.
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) { return in[0].gather(0, indices({0, 0}, {2})); },
      {test::leaf({})});
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        return in[0].gather(0, mg::scalar_tensor(2, mg::kInt64));
      },
      {test::leaf({4})});

  // Hand-checked: x (2, 3), index [[2, 2, 2, 0]], upstream [[1, 2, 3, 4]]: element (0, 2)
  // collects 1 + 2 + 3, element (0, 0) collects 4.
  mg::Tensor m = mg::zeros({2, 3}, mg::kFloat64).requires_grad_();
  const mg::Tensor y = m.gather(1, indices({2, 2, 2, 0}, {1, 4}));
  BOOST_REQUIRE(y.grad_fn());
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "GatherBackward0");
  y.backward(counting({1, 4}, 1));
  test::check_close(m.grad(), mg::from_vector<double>({4, 0, 6, 0, 0, 0}, {2, 3}), 0, 0,
                    "grad of gather");
}

BOOST_AUTO_TEST_CASE(gather_errors) {
  // Tensor Tensor::gather(std::int64_t dim, const Tensor& index) const
  const mg::Tensor x = mg::zeros({2, 3});
  test::check_error([&] { x.gather(1, indices({1}, {1})); },
                    "Index tensor must have the same number of dimensions as input tensor");
  test::check_error([&] { x.gather(1, indices({0, 0, 0, 0, 0, 0}, {3, 2})); },
                    "Size does not match at dimension 0 expected index [3, 2] to be smaller than "
                    "self [2, 3] apart from dimension 1");
  test::check_error([&] { x.gather(1, indices({5}, {1, 1})); },
                    "index 5 is out of bounds for dimension 1 with size 3");
  test::check_error([&] { x.gather(-2, indices({-1}, {1, 1})); },
                    "index -1 is out of bounds for dimension 0 with size 2");
  test::check_error([&] { mg::scalar_tensor(5.0).gather(0, indices({0, 1}, {2})); },
                    "index 1 is out of bounds for dimension 0 with size 1");
  test::check_error([&] { x.gather(1, mg::from_vector<double>({1}, {1, 1})); },
                    "gather(): Expected dtype int64 for index");
  test::check_error([&] { x.gather(2, indices({0}, {1, 1})); },
                    "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
}
