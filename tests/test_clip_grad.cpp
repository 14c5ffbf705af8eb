// Gradient clipping against PyTorch 1.13: clip_grad_norm_ for norm types 2, ∞, 1, 3, 0.5, 0 and
// −∞, large and small max_norm, float32, float64 and both mixed, NaN and infinite gradients, a
// parameter listed twice; clip_grad_value_; and the errors (tests/fixtures/sched.txt, written by
// tests/make_sched_fixtures.py, which lists the cases).
//
// float64 results agree within 1e-12 relative. A case with a float32 gradient is compared by the
// float32 rule (support.h) with the same case run in float64, every result of it, float64 ones
// included, since a float32 norm goes into the total: minigrad sums in double where PyTorch sums
// in the gradient's dtype, and rounds once at the end.
#define BOOST_TEST_MODULE clip_grad
#include <cmath>
#include <limits>

#include "fixtures.h"
#include "support.h"

namespace utils = mg::nn::utils;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The parameters of a fixture case, each with its gradient (or none) as PyTorch had it before
// clipping. A parameter that is the same tensor as an earlier one (same_K) is that tensor again.
std::vector<mg::Tensor> case_parameters(const test::Fixtures& fx, const std::string& at) {
  const auto count = fx.tensor(at + "count").item<std::int64_t>();
  std::vector<mg::Tensor> params;
  for (std::int64_t k = 0; k < count; ++k) {
    const std::string K = std::to_string(k);
    const auto same = fx.tensor(at + "same_" + K).item<std::int64_t>();
    if (same != k) {
      params.push_back(params[static_cast<std::size_t>(same)]);
      continue;
    }
    mg::Tensor p = mg::zeros({1});
    if (fx.tensor(at + "has_grad_" + K).item<bool>()) {
      const mg::Tensor grad = fx.tensor(at + "grad_" + K);
      p = mg::zeros(grad.shape(), grad.dtype());
      p.set_grad(grad.clone());
    }
    params.push_back(p.requires_grad_());
  }
  return params;
}

// Every gradient after clipping is PyTorch's, and a parameter without one still has none.
void check_clipped(const test::Fixtures& fx, const std::string& at,
                   const std::vector<mg::Tensor>& params) {
  for (std::size_t k = 0; k < params.size(); ++k) {
    const std::string K = std::to_string(k);
    if (!fx.tensor(at + "has_grad_" + K).item<bool>()) {
      BOOST_CHECK_MESSAGE(!params[k].grad().defined(), at << ": parameter " << k << " got a grad");
      continue;
    }
    test::check_matches(params[k].grad(), fx.reference(at + "clipped_" + K), 0,
                        at + "clipped_" + K);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(clip_grad_norm_matches_pytorch) {
  // Tensor clip_grad_norm_(parameters, max_norm, norm_type = 2, error_if_nonfinite = false)
  const test::Fixtures fx("sched.txt");
  const std::vector<std::string> cases = fx.cases("clip_grad_norm");
  BOOST_REQUIRE_GE(cases.size(), 20u);
  for (const std::string& c : cases) {
    const std::string at = "clip_grad_norm/" + c + "/";
    std::vector<mg::Tensor> params = case_parameters(fx, at);
    const double max_norm = fx.tensor(at + "max_norm").item<double>();
    const double norm_type = fx.tensor(at + "norm_type").item<double>();
    const mg::Tensor norm = fx.tensor(at + "single").item<bool>()
                                ? utils::clip_grad_norm_(params[0], max_norm, norm_type)
                                : utils::clip_grad_norm_(params, max_norm, norm_type);
    BOOST_CHECK(!norm.requires_grad());
    test::check_matches(norm, fx.reference(at + "total_norm"), 0, at + "total_norm");
    check_clipped(fx, at, params);
  }
}

BOOST_AUTO_TEST_CASE(clip_grad_norm_within_max_norm_leaves_gradients_unchanged) {
  // clip_grad_norm_ with max_norm above the norm: PyTorch multiplies by 1.0, which changes no
  // bit; here the gradients are not touched at all.
  const test::Fixtures fx("sched.txt");
  for (const std::string c : {"f64_norm2_large", "f64_inf_large", "f32_norm1_large"}) {
    const std::string at = "clip_grad_norm/" + c + "/";
    std::vector<mg::Tensor> params = case_parameters(fx, at);
    const std::uint64_t version = params[0].grad().version();
    utils::clip_grad_norm_(params, fx.tensor(at + "max_norm").item<double>(),
                           fx.tensor(at + "norm_type").item<double>());
    test::check_close(params[0].grad(), fx.tensor(at + "grad_0"), 0, 0, at + "grad_0");
    BOOST_CHECK_EQUAL(params[0].grad().version(), version);
  }
}

BOOST_AUTO_TEST_CASE(clip_grad_norm_small_max_norm_gives_max_norm) {
  // After clipping to a small max_norm, the norm of the clipped gradients is max_norm, to within
  // the 1e-6 PyTorch adds: max_norm · total / (total + 1e-6).
  const test::Fixtures fx("sched.txt");
  const std::string at = "clip_grad_norm/f64_norm2_small/";
  std::vector<mg::Tensor> params = case_parameters(fx, at);
  const double total = utils::clip_grad_norm_(params, 0.5).item<double>();
  const double after = utils::clip_grad_norm_(params, 1e9).item<double>();
  BOOST_CHECK_CLOSE(after, 0.5 * total / (total + 1e-6), 1e-10);  // percent
}

BOOST_AUTO_TEST_CASE(clip_grad_norm_of_a_non_contiguous_gradient) {
  // clip_grad_norm_ reads and scales a gradient through its strides: a transposed view gives
  // PyTorch's numbers for the contiguous one.
  const test::Fixtures fx("sched.txt");
  const std::string at = "clip_grad_norm/f64_norm2_small/";
  std::vector<mg::Tensor> params = case_parameters(fx, at);
  const mg::Tensor grad = fx.tensor(at + "grad_0");                  // (3, 4)
  params[0].set_grad(grad.t().contiguous().t());                      // (3, 4), strides (1, 3)
  BOOST_REQUIRE(!params[0].grad().is_contiguous());
  const mg::Tensor norm = utils::clip_grad_norm_(params, 0.5);
  test::check_close(norm, fx.tensor(at + "total_norm"), 1e-12, 0, "total_norm");
  check_clipped(fx, at, params);
}

BOOST_AUTO_TEST_CASE(clip_grad_norm_without_gradients) {
  // clip_grad_norm_ of parameters without gradients, or of none: a float32 0, as in PyTorch
  mg::Tensor p = mg::zeros({3}, mg::kFloat64).requires_grad_();
  for (const mg::Tensor& norm : {utils::clip_grad_norm_(std::vector<mg::Tensor>{p}, 1.0),
                                 utils::clip_grad_norm_(std::vector<mg::Tensor>{}, 1.0),
                                 utils::clip_grad_norm_(p, 1.0, kInf)}) {
    BOOST_CHECK(norm.dtype() == mg::kFloat32);
    BOOST_CHECK_EQUAL(norm.dim(), 0);
    BOOST_CHECK_EQUAL(norm.item<float>(), 0.0f);
  }
  BOOST_CHECK(!p.grad().defined());
}

BOOST_AUTO_TEST_CASE(clip_grad_norm_errors) {
  // error_if_nonfinite = true with a NaN or infinite norm; the ∞-norm of an empty gradient.
  // Nothing changes before the error.
  const test::Fixtures fx("sched.txt");
  const std::string message =
      "is non-finite, so it cannot be clipped. To disable this error and scale the gradients by "
      "the non-finite norm anyway, set `error_if_nonfinite=False`";
  for (const std::string c : {"f64_nan_grad", "f64_inf_grad"}) {
    const std::string at = "clip_grad_norm/" + c + "/";
    std::vector<mg::Tensor> params = case_parameters(fx, at);
    for (const auto& [norm_type, order] :
         {std::pair{2.0, "2.0"}, std::pair{kInf, "inf"}, std::pair{1.0, "1.0"}}) {
      test::check_error([&] { utils::clip_grad_norm_(params, 1.0, norm_type, true); },
                        "The total norm of order " + std::string(order) +
                            " for gradients from `parameters` " + message);
      test::check_close(params[0].grad(), fx.tensor(at + "grad_0"), 0, 0, at + "unchanged");
    }
  }
  mg::Tensor empty = mg::zeros({0, 3}).requires_grad_();
  empty.set_grad(mg::zeros({0, 3}));
  mg::Tensor full = mg::ones({2}).requires_grad_();
  full.set_grad(mg::ones({2}));
  test::check_error([&] { utils::clip_grad_norm_({full, empty}, 1.0, kInf); },
                    "max(): Expected reduction dim to be specified for input.numel() == 0. "
                    "Specify the reduction dim with the 'dim' argument.");
  // The other norms of an empty gradient are 0, as in PyTorch: √(1² + 1²) here.
  BOOST_CHECK_CLOSE(utils::clip_grad_norm_({full, empty}, 10.0).item<float>(), std::sqrt(2.0f),
                    1e-5);
}

BOOST_AUTO_TEST_CASE(clip_grad_value_matches_pytorch) {
  // void clip_grad_value_(parameters, clip_value)
  const test::Fixtures fx("sched.txt");
  const std::vector<std::string> cases = fx.cases("clip_grad_value");
  BOOST_REQUIRE_GE(cases.size(), 5u);
  for (const std::string& c : cases) {
    const std::string at = "clip_grad_value/" + c + "/";
    std::vector<mg::Tensor> params = case_parameters(fx, at);
    const double clip_value = fx.tensor(at + "clip_value").item<double>();
    if (fx.tensor(at + "single").item<bool>())
      utils::clip_grad_value_(params[0], clip_value);
    else
      utils::clip_grad_value_(params, clip_value);
    for (std::size_t k = 0; k < params.size(); ++k) {
      const std::string K = std::to_string(k);
      if (!fx.tensor(at + "has_grad_" + K).item<bool>()) {
        BOOST_CHECK(!params[k].grad().defined());
        continue;
      }
      // Clamping only chooses among the element and the bounds: exact.
      test::check_close(params[k].grad(), fx.tensor(at + "clipped_" + K), 0, 0,
                        at + "clipped_" + K);
    }
  }
}

BOOST_AUTO_TEST_CASE(clipping_is_not_recorded) {
  // clip_grad_norm_ and clip_grad_value_ under grad mode: the gradients stay plain leaves.
  mg::Tensor p = mg::zeros({4}, mg::kFloat64).requires_grad_();
  (p * mg::from_vector<double>({3, -4, 0, 12})).sum().backward();
  utils::clip_grad_norm_(std::vector<mg::Tensor>{p}, 1.0);
  utils::clip_grad_value_(std::vector<mg::Tensor>{p}, 0.5);
  BOOST_CHECK(!p.grad().requires_grad());
  BOOST_CHECK(!p.grad().grad_fn());
  // ‖(3, −4, 0, 12)‖ = 13, so the gradient became (3, −4, 0, 12) / (13 + 1e-6), then clamped.
  const auto g = p.grad().to_vector<double>();
  BOOST_CHECK_CLOSE(g[0], 3 / (13 + 1e-6), 1e-12);
  BOOST_CHECK_CLOSE(g[1], -4 / (13 + 1e-6), 1e-12);
  BOOST_CHECK_EQUAL(g[2], 0.0);
  BOOST_CHECK_EQUAL(g[3], 0.5);
}
