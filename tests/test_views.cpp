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
