// Views: each one's gradient, checked in float64 with a random upstream gradient, through a
// non-contiguous input where that is possible and with the input used twice.
// (Values, storage sharing and errors of views are in test_tensor.cpp.)
#define BOOST_TEST_MODULE views
#include "support.h"

namespace {
using Inputs = std::vector<mg::Tensor>;
}

BOOST_AUTO_TEST_CASE(gradcheck_view) {
  // view(shape), including an inferred -1, on a narrowed (non-contiguous but viewable) input
  mg::manual_seed(21);
  test::check_gradients(
      [](const Inputs& in) {
        return in[0].narrow(0, 1, 2).view({-1, 4}) * in[0].view({12, 2}).narrow(0, 0, 8).view({4, 4});
      },
      {test::leaf({3, 2, 4})});
}

BOOST_AUTO_TEST_CASE(gradcheck_reshape_and_flatten) {
  // reshape(shape) on a permuted input (a copy), flatten(start, end)
  mg::manual_seed(22);
  test::check_gradients(
      [](const Inputs& in) {
        return in[0].permute({2, 0, 1}).reshape({4, 6}) * in[0].flatten(1).t().flatten().view({4, 6});
      },
      {test::leaf({2, 3, 4})});
}

BOOST_AUTO_TEST_CASE(gradcheck_transpose_and_t) {
  // transpose(dim0, dim1) with negative dims, t()
  mg::manual_seed(23);
  test::check_gradients(
      [](const Inputs& in) { return in[0].transpose(-1, 0) * in[0].t(); }, {test::leaf({3, 3})});
}

BOOST_AUTO_TEST_CASE(gradcheck_permute) {
  // permute(dims), including negative entries
  mg::manual_seed(24);
  test::check_gradients(
      [](const Inputs& in) { return in[0].permute({1, -1, 0}) + in[0].permute({1, 2, 0}) * in[0].permute({1, 2, 0}); },
      {test::leaf({2, 3, 4})});
}

BOOST_AUTO_TEST_CASE(gradcheck_select) {
  // select(dim, index) with a negative index, twice from the same input
  mg::manual_seed(25);
  test::check_gradients(
      [](const Inputs& in) { return in[0].select(1, -1) * in[0].select(1, 0) + in[0].t().select(0, 1); },
      {test::leaf({4, 3})});
}

BOOST_AUTO_TEST_CASE(gradcheck_narrow) {
  // narrow(dim, start, length) with a negative start, overlapping ranges
  mg::manual_seed(26);
  test::check_gradients(
      [](const Inputs& in) { return in[0].narrow(1, -3, 2) * in[0].narrow(1, 1, 2); },
      {test::leaf({2, 4})});
}

BOOST_AUTO_TEST_CASE(gradcheck_unsqueeze_and_squeeze) {
  // unsqueeze(dim), squeeze(), squeeze(dim) including a no-op squeeze(dim) of a size-3 dim
  mg::manual_seed(27);
  test::check_gradients(
      [](const Inputs& in) {
        return in[0].unsqueeze(0).unsqueeze(-1).squeeze() * in[0].squeeze(1).squeeze(0).unsqueeze(1);
      },
      {test::leaf({3, 1})});
}

BOOST_AUTO_TEST_CASE(gradcheck_expand) {
  // expand(shape) along a new leading dim and a size-1 dim, with -1 keeping a size
  mg::manual_seed(28);
  test::check_gradients(
      [](const Inputs& in) { return in[0].expand({2, -1, 4}) * in[0].t().expand({2, 3, 3}).sum(2, true); },
      {test::leaf({3, 1})});
}

BOOST_AUTO_TEST_CASE(gradcheck_contiguous_and_clone) {
  // contiguous() of a transposed input (a copy), clone()
  mg::manual_seed(29);
  test::check_gradients(
      [](const Inputs& in) { return in[0].t().contiguous() * in[0].clone().t(); },
      {test::leaf({2, 3})});
}

BOOST_AUTO_TEST_CASE(gradcheck_split_with_sizes_and_split) {
  // split_with_sizes(sizes, dim), split(split_size, dim): one piece unused (its gradient is zero),
  // one used twice, a zero-size piece, a transposed input
  mg::manual_seed(30);
  test::check_gradients(
      [](const Inputs& in) {
        const auto pieces = in[0].t().split_with_sizes({2, 0, 1, 2}, 0);  // of (5, 3)
        const auto halves = in[0].split(2, -1);                          // (3, 2), (3, 2), (3, 1)
        return pieces[0].t() * halves[1] + pieces[3].t() * pieces[3].t() + halves[2].sum();
      },
      {test::leaf({3, 5})});
}

BOOST_AUTO_TEST_CASE(split_values_views_and_errors) {
  // the pieces are views of consecutive ranges, recorded by one SplitWithSizesBackward0 node
  const mg::Tensor x = mg::arange(10).view({5, 2});
  const auto pieces = x.split_with_sizes({1, 4});
  BOOST_REQUIRE_EQUAL(pieces.size(), 2u);
  BOOST_CHECK(pieces[1].to_vector<std::int64_t>() == (std::vector<std::int64_t>{2, 3, 4, 5, 6, 7, 8, 9}));
  BOOST_CHECK_EQUAL(pieces[1].data_ptr<std::int64_t>(), x.data_ptr<std::int64_t>() + 2);
  BOOST_CHECK_EQUAL(x.split(2).size(), 3u);
  BOOST_CHECK(x.split(2)[2].shape() == (mg::Shape{1, 2}));
  mg::Tensor y = mg::randn({4}).requires_grad_();
  const auto parts = y.split(2);
  BOOST_REQUIRE(parts[0].grad_fn());
  BOOST_CHECK_EQUAL(parts[0].grad_fn()->name(), "SplitWithSizesBackward0");
  BOOST_CHECK_EQUAL(parts[0].grad_fn(), parts[1].grad_fn());
  test::check_error([&] { x.split_with_sizes({2, 2}); },
                    "split_with_sizes expects split_sizes to sum exactly to 5 (input tensor's size "
                    "at dimension 0), but got split_sizes=[2, 2]");
  test::check_error([&] { x.split_with_sizes({6, -1}); },
                    "split_with_sizes expects split_sizes have only non-negative entries, but got "
                    "split_sizes=[6, -1]");
  test::check_error([&] { x.split(0); },
                    "split_size can only be 0 if dimension size is 0, but got dimension size of 5");
}
