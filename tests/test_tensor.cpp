// The tensor itself: factories, copies in and out, dtype conversion, clone and contiguous, views
// and their errors, shapes and strides, the random generator, and printing checked character by
// character against PyTorch's repr (tests/fixtures/core.txt, written by make_fixtures.py).
#define BOOST_TEST_MODULE tensor
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>

#include "fixtures.h"
#include "support.h"

BOOST_AUTO_TEST_CASE(factories) {
  // zeros, ones, full, arange, empty, scalar_tensor, zeros_like, ones_like; dtype kFloat32 unless
  // given
  const mg::Tensor z = mg::zeros({2, 3});
  BOOST_CHECK(z.shape() == (mg::Shape{2, 3}));
  BOOST_CHECK(z.dtype() == mg::kFloat32);
  BOOST_CHECK(z.to_vector<float>() == std::vector<float>(6, 0.0f));
  BOOST_CHECK(mg::ones({4}, mg::kInt64).to_vector<std::int64_t>() ==
              std::vector<std::int64_t>(4, 1));
  BOOST_CHECK(mg::full({2, 2}, 2.5, mg::kFloat64).to_vector<double>() ==
              std::vector<double>(4, 2.5));
  BOOST_CHECK(mg::full({3}, true, mg::kBool).to_vector<bool>() == std::vector<bool>(3, true));
  BOOST_CHECK(mg::arange(4).dtype() == mg::kInt64);
  BOOST_CHECK(mg::arange(4).to_vector<std::int64_t>() == (std::vector<std::int64_t>{0, 1, 2, 3}));
  BOOST_CHECK(mg::arange(3, mg::kFloat64).to_vector<double>() == (std::vector<double>{0, 1, 2}));
  BOOST_CHECK_EQUAL(mg::arange(0).numel(), 0);

  const mg::Tensor e = mg::empty({3, 0, 2}, mg::kFloat64);
  BOOST_CHECK(e.shape() == (mg::Shape{3, 0, 2}));
  BOOST_CHECK_EQUAL(e.numel(), 0);
  BOOST_CHECK(e.dtype() == mg::kFloat64);

  const mg::Tensor s = mg::scalar_tensor(4, mg::kInt64);
  BOOST_CHECK_EQUAL(s.dim(), 0);
  BOOST_CHECK_EQUAL(s.numel(), 1);
  BOOST_CHECK_EQUAL(s.item<std::int64_t>(), 4);
  BOOST_CHECK(mg::zeros({}).shape().empty());

  const mg::Tensor like = mg::ones_like(mg::zeros({2, 5}, mg::kFloat64));
  BOOST_CHECK(like.shape() == (mg::Shape{2, 5}));
  BOOST_CHECK(like.dtype() == mg::kFloat64);
  BOOST_CHECK(like.to_vector<double>() == std::vector<double>(10, 1.0));
  BOOST_CHECK(mg::zeros_like(like).to_vector<double>() == std::vector<double>(10, 0.0));

  test::check_error([] { mg::zeros({2, -1}); },
                    "Trying to create tensor with negative dimension -1: [2, -1]");
  test::check_error([] { mg::ones({-3}); }, "negative dimension -3");
  test::check_error([] { mg::full({-1, 2}, 1.0); }, "negative dimension -1");
  test::check_error([] { mg::empty({-2}); }, "negative dimension -2");
  test::check_error([] { mg::randn({-2}); }, "negative dimension -2");
  test::check_error([] { mg::arange(-1); },
                    "upper bound and larger bound inconsistent with step sign");
  test::check_error([] { mg::randn({2}, mg::kInt64); },
                    "\"normal_kernel_cpu\" not implemented for 'Long'");
  test::check_error([] { mg::rand({2}, mg::kBool); },
                    "\"check_uniform_bounds\" not implemented for 'Bool'");
}

BOOST_AUTO_TEST_CASE(from_vector_to_vector_and_item) {
  // from_vector(values, shape), t.to_vector<T>(), t.item<T>()
  const std::vector<double> values{1.5, -2.0, 3.25, 4.0, 0.0, -0.5};
  const mg::Tensor x = mg::from_vector(values, {2, 3});
  BOOST_CHECK(x.dtype() == mg::kFloat64);
  BOOST_CHECK(x.shape() == (mg::Shape{2, 3}));
  BOOST_CHECK(x.to_vector<double>() == values);
  BOOST_CHECK(mg::from_vector(values).shape() == (mg::Shape{6}));  // 1-D without a shape
  BOOST_CHECK(mg::from_vector(std::vector<float>{1.5f}).dtype() == mg::kFloat32);
  BOOST_CHECK(mg::from_vector(std::vector<std::int64_t>{7}).dtype() == mg::kInt64);
  const std::vector<bool> bools{true, false, true};
  BOOST_CHECK(mg::from_vector(bools).dtype() == mg::kBool);
  BOOST_CHECK(mg::from_vector(bools).to_vector<bool>() == bools);
  BOOST_CHECK_EQUAL(mg::from_vector(std::vector<double>{2.5}, {}).item<double>(), 2.5);
  BOOST_CHECK_EQUAL(x.select(1, 2).select(0, 1).item<double>(), -0.5);

  // to_vector reads a non-contiguous tensor in its logical (row-major) order.
  BOOST_CHECK(x.transpose(0, 1).to_vector<double>() ==
              (std::vector<double>{1.5, 4.0, -2.0, 0.0, 3.25, -0.5}));

  test::check_error([&] { x.to_vector<float>(); }, "expected scalar type Float but found Double");
  test::check_error([&] { x.to_vector<std::int64_t>(); },
                    "expected scalar type Long but found Double");
  test::check_error([&] { x.item<double>(); },
                    "a Tensor with 6 elements cannot be converted to Scalar");
  test::check_error([&] { x.select(0, 0).select(0, 0).item<float>(); },
                    "expected scalar type Float but found Double");
  test::check_error([&] { mg::from_vector(values, {2, 2}); },
                    "from_vector: shape [2, 2] holds 4 elements, but 6 values were given");
  test::check_error([&] { mg::from_vector(values, {7}); }, "but 6 values were given");
}

BOOST_AUTO_TEST_CASE(to_dtype) {
  // t.to(dtype): converts values, returns the same tensor for the same dtype, differentiable
  // between floating dtypes
  const mg::Tensor x = mg::from_vector(std::vector<float>{-1.75f, 2.5f, 0.0f, 3.0f});
  BOOST_CHECK(x.to(mg::kFloat32).impl() == x.impl());
  const mg::Tensor d = x.to(mg::kFloat64);
  BOOST_CHECK(d.dtype() == mg::kFloat64);
  BOOST_CHECK(d.to_vector<double>() == (std::vector<double>{-1.75, 2.5, 0.0, 3.0}));
  BOOST_CHECK(d.to(mg::kFloat32).to_vector<float>() == x.to_vector<float>());  // round trip
  // To int64 truncates toward zero, to bool tests for nonzero, as PyTorch does.
  BOOST_CHECK(x.to(mg::kInt64).to_vector<std::int64_t>() ==
              (std::vector<std::int64_t>{-1, 2, 0, 3}));
  BOOST_CHECK(x.to(mg::kBool).to_vector<bool>() == (std::vector<bool>{true, true, false, true}));
  BOOST_CHECK(x.to(mg::kInt64).to(mg::kFloat32).to_vector<float>() ==
              (std::vector<float>{-1.0f, 2.0f, 0.0f, 3.0f}));
  // float64 -> float32 rounds to nearest: 0.1 becomes the float closest to it.
  BOOST_CHECK_EQUAL(mg::from_vector(std::vector<double>{0.1}).to(mg::kFloat32).item<float>(), 0.1f);

  // The gradient comes back in the input's dtype.
  mg::Tensor leaf = x.detach().requires_grad_();
  const mg::Tensor upstream = mg::randn({4}, mg::kFloat64);
  leaf.to(mg::kFloat64).backward(upstream);
  BOOST_CHECK(leaf.grad().dtype() == mg::kFloat32);
  BOOST_CHECK(leaf.grad().to_vector<float>() == upstream.to(mg::kFloat32).to_vector<float>());
  BOOST_CHECK(!leaf.to(mg::kInt64).requires_grad());  // integers carry no gradient

  // Through float32 and back: the step must be large enough for float32's rounding.
  mg::GradcheckOptions coarse;
  coarse.eps = 1e-3;
  coarse.atol = 1e-3;
  test::check_gradients([](const auto& in) { return in[0].to(mg::kFloat32) * in[0]; },
                        {test::leaf({3, 2})}, coarse);
  test::check_gradients([](const auto& in) { return in[0].transpose(0, 1).to(mg::kFloat64); },
                        {test::leaf({3, 2})});
}

BOOST_AUTO_TEST_CASE(clone_and_contiguous) {
  // t.clone(), t.contiguous()
  const mg::Tensor x = mg::randn({3, 4});
  BOOST_CHECK(x.contiguous().impl() == x.impl());  // already contiguous: itself
  const mg::Tensor xt = x.transpose(0, 1);
  BOOST_CHECK(!xt.is_contiguous());
  const mg::Tensor c = xt.contiguous();
  BOOST_CHECK(c.is_contiguous());
  BOOST_CHECK(c.strides() == (mg::Shape{3, 1}));
  BOOST_CHECK(c.impl()->storage != x.impl()->storage);  // a copy
  BOOST_CHECK(c.to_vector<float>() == xt.to_vector<float>());

  const mg::Tensor k = x.clone();
  BOOST_CHECK(k.impl()->storage != x.impl()->storage);
  BOOST_CHECK(k.to_vector<float>() == x.to_vector<float>());
  test::check_gradients([](const auto& in) { return in[0].transpose(0, 1).clone() * in[0].t(); },
                        {test::leaf({3, 3})});
  test::check_gradients([](const auto& in) { return in[0].narrow(1, 1, 2).contiguous(); },
                        {test::leaf({3, 4})});
}

BOOST_AUTO_TEST_CASE(views_share_storage) {
  // view, reshape, transpose, select, narrow, unsqueeze, squeeze, expand: no copy
  mg::Tensor base = mg::zeros({2, 3});
  mg::Tensor row = base.select(0, 1);
  mg::Tensor col = base.narrow(1, 2, 1);
  const mg::Tensor flat = base.view({6});
  BOOST_CHECK(row.impl()->storage == base.impl()->storage);
  BOOST_CHECK(flat.impl()->storage == base.impl()->storage);
  BOOST_CHECK(base.transpose(0, 1).impl()->storage == base.impl()->storage);
  BOOST_CHECK(base.unsqueeze(0).squeeze(0).impl()->storage == base.impl()->storage);
  BOOST_CHECK(base.select(1, 0).expand({4, 2}).impl()->storage == base.impl()->storage);
  BOOST_CHECK(base.reshape({3, 2}).impl()->storage == base.impl()->storage);
  BOOST_CHECK(base.t().reshape({6}).impl()->storage != base.impl()->storage);  // must copy

  const std::uint64_t before = base.version();
  {
    mg::NoGradGuard guard;
    row.fill_(5.0);
  }
  BOOST_CHECK(base.to_vector<float>() == (std::vector<float>{0, 0, 0, 5, 5, 5}));
  BOOST_CHECK_EQUAL(base.version(), before + 1);  // one counter for the storage
  BOOST_CHECK_EQUAL(row.version(), base.version());
  BOOST_CHECK_EQUAL(flat.version(), base.version());
  col.copy_(mg::full({2, 1}, -1.0));
  BOOST_CHECK(flat.to_vector<float>() == (std::vector<float>{0, 0, -1, 5, 5, -1}));
  BOOST_CHECK_EQUAL(col.version(), before + 2);
}

BOOST_AUTO_TEST_CASE(is_contiguous) {
  // t.is_contiguous(): row-major strides, ignoring dimensions of size 0 and 1
  const mg::Tensor x = mg::zeros({2, 3});
  BOOST_CHECK(x.is_contiguous());
  BOOST_CHECK(!x.transpose(0, 1).is_contiguous());
  BOOST_CHECK(x.narrow(0, 1, 1).is_contiguous());
  BOOST_CHECK(!x.narrow(1, 1, 1).is_contiguous());
  BOOST_CHECK(x.select(0, 1).is_contiguous());
  BOOST_CHECK(!x.select(1, 1).is_contiguous());
  BOOST_CHECK(x.unsqueeze(0).is_contiguous());
  BOOST_CHECK(!mg::zeros({3, 1}).expand({3, 4}).is_contiguous());
  BOOST_CHECK(!mg::zeros({1, 3}).expand({4, 3}).is_contiguous());
  BOOST_CHECK(mg::zeros({3, 1}).t().is_contiguous());  // the moved dimension has size 1
  BOOST_CHECK(mg::zeros({0, 3}).t().is_contiguous());  // no elements
  BOOST_CHECK(mg::zeros({}).is_contiguous());
}

BOOST_AUTO_TEST_CASE(size_and_stride) {
  // t.size(d), t.stride(d), t.dim(), t.numel(): negative d counts from the end
  const mg::Tensor x = mg::zeros({2, 3, 4});
  BOOST_CHECK_EQUAL(x.dim(), 3);
  BOOST_CHECK_EQUAL(x.numel(), 24);
  BOOST_CHECK_EQUAL(x.size(0), 2);
  BOOST_CHECK_EQUAL(x.size(-1), 4);
  BOOST_CHECK_EQUAL(x.size(-3), 2);
  BOOST_CHECK_EQUAL(x.stride(0), 12);
  BOOST_CHECK_EQUAL(x.stride(-1), 1);
  BOOST_CHECK_EQUAL(x.stride(-2), 4);
  BOOST_CHECK_EQUAL(x.transpose(0, 2).stride(0), 1);
  BOOST_CHECK_EQUAL(x.narrow(1, 1, 2).storage_offset(), 4);
  test::check_error([&] { x.size(3); },
                    "Dimension out of range (expected to be in range of [-3, 2], but got 3)");
  test::check_error([&] { x.stride(-4); },
                    "Dimension out of range (expected to be in range of [-3, 2], but got -4)");
  test::check_error([] { mg::zeros({}).size(0); }, "Dimension specified as 0 but tensor has no dimensions");
}

BOOST_AUTO_TEST_CASE(view_errors) {
  // view, select, narrow, permute, expand, squeeze: PyTorch's messages for bad arguments
  const mg::Tensor x = mg::zeros({2, 3});
  test::check_error([&] { x.transpose(0, 1).view({6}); },
                    "view size is not compatible with input tensor's size and stride (at least "
                    "one dimension spans across two contiguous subspaces). Use .reshape(...) "
                    "instead.");
  test::check_error([&] { x.view({-1, -1}); }, "only one dimension can be inferred");
  test::check_error([&] { x.view({2, 5}); }, "shape '[2, 5]' is invalid for input of size 6");
  test::check_error([&] { x.view({-1, 4}); }, "shape '[-1, 4]' is invalid for input of size 6");
  BOOST_CHECK(x.view({-1, 2}).shape() == (mg::Shape{3, 2}));
  // A non-contiguous tensor has a view wherever its contiguous runs can be cut into the new
  // dimensions: (2, 3, 2) with strides (12, 4, 1) reads as (6, 2), but not as (12).
  const mg::Tensor part = mg::zeros({2, 3, 4}).narrow(2, 0, 2);
  BOOST_CHECK(part.view({6, 2}).strides() == (mg::Shape{4, 1}));
  test::check_error([&] { part.view({12}); }, "view size is not compatible");

  test::check_error([&] { x.select(0, 5); },
                    "select(): index 5 out of range for tensor of size [2, 3] at dimension 0");
  test::check_error([&] { x.select(1, -4); },
                    "select(): index -4 out of range for tensor of size [2, 3] at dimension 1");
  test::check_error([&] { x.select(2, 0); }, "Dimension out of range");
  test::check_error([&] { x.narrow(1, 2, 3); },
                    "start (2) + length (3) exceeds dimension size (3).");
  test::check_error([&] { x.narrow(1, 4, 0); }, "out of range");
  BOOST_CHECK(x.narrow(1, -1, 1).shape() == (mg::Shape{2, 1}));

  test::check_error([&] { x.permute({0, 0}); }, "permute(): duplicate dims are not allowed.");
  test::check_error([&] { x.permute({0, 1, 2}); },
                    "number of dimensions in the tensor input does not match the length of the "
                    "desired ordering of dimensions i.e. input.dim() = 2 is not equal to "
                    "len(dims) = 3");

  test::check_error([&] { x.expand({2, 4}); },
                    "The expanded size of the tensor (4) must match the existing size (3) at "
                    "non-singleton dimension 1.  Target sizes: [2, 4].  Tensor sizes: [2, 3]");
  test::check_error([&] { x.expand({3}); },
                    "the number of sizes provided (1) must be greater or equal to the number of "
                    "dimensions in the tensor (2)");
  test::check_error([&] { x.expand({-1, 2, 3}); },
                    "The expanded size of the tensor (-1) isn't allowed in a leading, "
                    "non-existing dimension 0");

  // Squeezing a dimension that is not 1 changes nothing, and is no error.
  const mg::Tensor s = x.squeeze(0);
  BOOST_CHECK(s.shape() == (mg::Shape{2, 3}));
  BOOST_CHECK(s.impl()->storage == x.impl()->storage);
  BOOST_CHECK(mg::zeros({1, 3, 1}).squeeze().shape() == (mg::Shape{3}));
}

BOOST_AUTO_TEST_CASE(manual_seed_determinism) {
  // manual_seed(s), randn, rand: the same seed gives the same numbers
  mg::manual_seed(42);
  const auto a = mg::randn({1000}).to_vector<float>();
  const auto u = mg::rand({1000}, mg::kFloat64).to_vector<double>();
  mg::manual_seed(42);
  BOOST_CHECK(mg::randn({1000}).to_vector<float>() == a);
  BOOST_CHECK(mg::rand({1000}, mg::kFloat64).to_vector<double>() == u);
  mg::manual_seed(43);
  BOOST_CHECK(mg::randn({1000}).to_vector<float>() != a);
  BOOST_CHECK(std::all_of(u.begin(), u.end(), [](double v) { return v >= 0.0 && v < 1.0; }));
}

BOOST_AUTO_TEST_CASE(random_statistics) {
  // randn ~ N(0, 1), rand ~ U[0, 1) over 10^5 samples. The standard error of the mean is
  // 1/sqrt(10^5) ≈ 0.0032 for randn (0.0009 for rand) and that of the standard deviation about
  // 0.0022, so a bound of 0.02 is more than six standard errors: it cannot fail by chance.
  mg::manual_seed(7);
  const mg::Tensor n = mg::randn({100000}, mg::kFloat64);
  const double mean = n.sum().item<double>() / 1e5;
  const double var = ((n - mean) * (n - mean)).sum().item<double>() / 1e5;
  BOOST_CHECK_SMALL(mean, 0.02);
  BOOST_CHECK_SMALL(std::sqrt(var) - 1.0, 0.02);

  const mg::Tensor u = mg::rand({100000}, mg::kFloat64);
  const double u_mean = u.sum().item<double>() / 1e5;
  const double u_var = ((u - u_mean) * (u - u_mean)).sum().item<double>() / 1e5;
  BOOST_CHECK_SMALL(u_mean - 0.5, 0.02);
  BOOST_CHECK_SMALL(u_var - 1.0 / 12.0, 0.02);
}

// ---- Printing --------------------------------------------------------------------------------

// How each printed tensor is made from its stored values: the same table as TRANSFORMS in
// tests/make_fixtures.py, whose "print/cases" text lists every case with its transform.
mg::Tensor transform(const std::string& how, mg::Tensor x) {
  static const std::map<std::string, std::function<mg::Tensor(mg::Tensor)>> transforms = {
      {"plain", [](mg::Tensor t) { return t; }},
      {"requires_grad", [](mg::Tensor t) { return t.requires_grad_(); }},
      {"times_two", [](mg::Tensor t) { return t.requires_grad_() * 2; }},
      {"transpose", [](mg::Tensor t) { return t.transpose(0, 1); }},
      {"permute_2_0_1", [](mg::Tensor t) { return t.permute({2, 0, 1}); }},
      {"narrow_1_1_3", [](mg::Tensor t) { return t.narrow(1, 1, 3); }},
      {"select_1_2", [](mg::Tensor t) { return t.select(1, 2); }},
      {"expand_2_3", [](mg::Tensor t) { return t.expand({2, 3}); }},
  };
  const auto it = transforms.find(how);
  BOOST_REQUIRE_MESSAGE(it != transforms.end(), "unknown print transform " << how);
  return it->second(std::move(x));
}

BOOST_AUTO_TEST_CASE(printing_matches_pytorch) {
  // repr(t), as PyTorch 1.13 prints the same tensor
  const test::Fixtures fx("core.txt");
  std::istringstream cases(fx.text("print/cases"));
  std::string name, how;
  int count = 0;
  while (cases >> name >> how) {
    const mg::Tensor t = transform(how, fx.tensor("print/" + name + "/x"));
    const std::string& expected = fx.text("print/" + name);
    BOOST_CHECK_MESSAGE(mg::repr(t) == expected, "print/" << name << ": got\n"
                                                          << mg::repr(t) << "\nexpected\n"
                                                          << expected);
    ++count;
  }
  BOOST_CHECK_EQUAL(count, static_cast<int>(fx.cases("print").size()));
  BOOST_CHECK_GE(count, 40);
}

BOOST_AUTO_TEST_CASE(printing_through_streams_and_fmt) {
  // std::cout << t, fmt::format("{}", t)
  const mg::Tensor t = mg::from_vector(std::vector<float>{0.5f, -1.0f});
  std::ostringstream out;
  out << t;
  BOOST_CHECK_EQUAL(out.str(), mg::repr(t));
  BOOST_CHECK_EQUAL(fmt::format("{}", t), mg::repr(t));
  BOOST_CHECK_EQUAL(mg::repr(t), "tensor([ 0.5000, -1.0000])");
  BOOST_CHECK_EQUAL(mg::repr(mg::Tensor()), "[ Tensor (undefined) ]");
}

BOOST_AUTO_TEST_CASE(fixture_loader_errors) {
  // test::Fixtures: a missing file, a wrong version and a missing name are clear errors
  auto check_throws = [](auto&& statement, const std::string& fragment) {
    try {
      statement();
      BOOST_ERROR("expected an error containing \"" << fragment << "\"");
    } catch (const std::runtime_error& e) {
      BOOST_CHECK_MESSAGE(std::string(e.what()).find(fragment) != std::string::npos, e.what());
    }
  };
  check_throws([] { test::Fixtures("no_such_file.txt"); }, "cannot open the file");
  const test::Fixtures fx("core.txt");
  check_throws([&] { fx.tensor("no/such/tensor"); }, "no tensor named \"no/such/tensor\"");
  check_throws([&] { fx.text("no/such/text"); }, "no string named \"no/such/text\"");

  // A file of our own (named uniquely: two builds may run their tests at the same time).
  const auto path = std::filesystem::temp_directory_path() /
                    ("minigrad_fixtures_" + std::to_string(std::random_device()()) + ".txt");
  std::ofstream(path) << "minigrad-fixtures 99\n";
  check_throws([&] { test::Fixtures(path.string()); },
               "expected a first line \"minigrad-fixtures 1\"");
  std::ofstream(path) << "minigrad-fixtures 1\ntensor x float32 1 3\n1.0 2.0\n";
  check_throws([&] { test::Fixtures(path.string()); }, "tensor \"x\": the file ends before");
  std::ofstream(path) << "minigrad-fixtures 1\ntensor x int64 1 2\n1 2.5\n";
  check_throws([&] { test::Fixtures(path.string()); }, "tensor \"x\": cannot read \"2.5\"");
  std::filesystem::remove(path);
}
