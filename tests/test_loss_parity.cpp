// The losses against PyTorch 1.13: outputs and gradients for every loss, reduction and option in
// float32 and float64 (tests/fixtures/loss.txt, written by tests/make_loss_fixtures.py, which
// lists the cases), and PyTorch's error messages for bad shapes, dtypes, targets and weights.
//
// Each case feeds PyTorch's own inputs, runs the loss, backpropagates PyTorch's upstream gradient
// and compares: float64 within 1e-12, relative to the size of the numbers involved, and float32
// within a measured multiple of PyTorch's own float32 error (test::check_matches and
// test::check_float32 in support.h say exactly how, tests/README.md why).
#define BOOST_TEST_MODULE loss_parity
#include <algorithm>
#include <cmath>
#include <iostream>
#include <sstream>

#include "fixtures.h"
#include "support.h"

namespace F = mg::nn::functional;

namespace {

constexpr mg::nn::Reduction kReductions[] = {mg::nn::kNone, mg::nn::kMean, mg::nn::kSum};

// Runs every case of `group` through `loss` (which reads the options from the case) and
// compares the output and the gradients of (output ⊙ upstream).sum() with PyTorch's.
template <class Loss>
void check_group(const std::string& group, Loss loss) {
  const test::Fixtures fx("loss.txt");
  const std::vector<std::string> cases = fx.cases(group);
  BOOST_REQUIRE_MESSAGE(!cases.empty(), "no fixtures for " << group);
  for (const std::string& c : cases) {
    const std::string at = group + "/" + c + "/";
    const auto has = [&](const std::string& part) {
      return fx.tensor(at + "has_" + part).item<bool>();
    };
    mg::Tensor input = fx.tensor(at + "input").requires_grad_();
    mg::Tensor target = fx.tensor(at + "target");
    if (has("grad_target")) target.requires_grad_();
    const mg::nn::Reduction reduction =
        kReductions[fx.tensor(at + "reduction").item<std::int64_t>()];
    const mg::Tensor output = loss(fx, at, input, target, reduction);
    const test::Reference expected = fx.reference(at + "output");
    const double scale = std::max(test::finite_max(expected.exact), test::finite_max(input));
    test::check_matches(output, expected, scale, at + "output");
    const mg::Tensor upstream = fx.tensor(at + "upstream");
    output.backward(upstream);
    const auto check_gradient = [&](const mg::Tensor& actual, const std::string& part) {
      const test::Reference g = fx.reference(at + part);
      const double grad_scale = std::max(test::finite_max(g.exact), test::finite_max(upstream));
      test::check_matches(actual, g, grad_scale, at + part);
    };
    check_gradient(input.grad(), "grad_input");
    if (has("grad_target")) check_gradient(target.grad(), "grad_target");
  }
}

// The weight part of a case, or an undefined tensor if it has none.
mg::Tensor optional_part(const test::Fixtures& fx, const std::string& at, const std::string& part) {
  return fx.tensor(at + "has_" + part).item<bool>() ? fx.tensor(at + part) : mg::Tensor();
}

// Sends std::cerr to a buffer for its lifetime: the broadcast cases of mse_loss and l1_loss print
// PyTorch's warning, which test_loss.cpp checks.
class SilenceStderr {
 public:
  SilenceStderr() : previous_(std::cerr.rdbuf(buffer_.rdbuf())) {}
  ~SilenceStderr() { std::cerr.rdbuf(previous_); }
  SilenceStderr(const SilenceStderr&) = delete;
  SilenceStderr& operator=(const SilenceStderr&) = delete;

 private:
  std::ostringstream buffer_;
  std::streambuf* previous_;
};

}  // namespace

// ---- Parity with PyTorch ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(mse_loss_matches_pytorch) {
  // mse_loss: same shapes, input or target broadcast, 0-d, empty; float32 and float64
  const SilenceStderr silence;
  check_group("mse_loss", [](const test::Fixtures&, const std::string&, const mg::Tensor& input,
                             const mg::Tensor& target,
                             mg::nn::Reduction r) { return F::mse_loss(input, target, r); });
}

BOOST_AUTO_TEST_CASE(l1_loss_matches_pytorch) {
  // l1_loss: the same cases
  const SilenceStderr silence;
  check_group("l1_loss", [](const test::Fixtures&, const std::string&, const mg::Tensor& input,
                            const mg::Tensor& target,
                            mg::nn::Reduction r) { return F::l1_loss(input, target, r); });
}

BOOST_AUTO_TEST_CASE(binary_cross_entropy_with_logits_matches_pytorch) {
  // binary_cross_entropy_with_logits: weights per class and per element, pos_weight per class and
  // per element, logits at 0 and up to ±1000, 3-D, 0-d, empty
  check_group("binary_cross_entropy_with_logits",
              [](const test::Fixtures& fx, const std::string& at, const mg::Tensor& input,
                 const mg::Tensor& target, mg::nn::Reduction r) {
                return F::binary_cross_entropy_with_logits(input, target,
                                                           optional_part(fx, at, "weight"),
                                                           optional_part(fx, at, "pos_weight"), r);
              });
}

BOOST_AUTO_TEST_CASE(nll_loss_matches_pytorch) {
  // nll_loss: weights, targets ignored (at -100 and inside [0, C)), (N, C, d), (N, C, d1, d2),
  // unbatched, all ignored (the mean is nan), empty
  check_group("nll_loss",
              [](const test::Fixtures& fx, const std::string& at, const mg::Tensor& input,
                 const mg::Tensor& target, mg::nn::Reduction r) {
                return F::nll_loss(input, target, optional_part(fx, at, "weight"),
                                   fx.tensor(at + "ignore_index").item<std::int64_t>(), r);
              });
}

BOOST_AUTO_TEST_CASE(cross_entropy_matches_pytorch) {
  // cross_entropy: the nll_loss cases, and logits of ±1000, a class masked with -inf, label
  // smoothing with weights and ignored targets in every shape, class probabilities
  check_group("cross_entropy",
              [](const test::Fixtures& fx, const std::string& at, const mg::Tensor& input,
                 const mg::Tensor& target, mg::nn::Reduction r) {
                return F::cross_entropy(input, target, optional_part(fx, at, "weight"),
                                        fx.tensor(at + "ignore_index").item<std::int64_t>(), r,
                                        fx.tensor(at + "label_smoothing").item<double>());
              });
}

// ---- Errors -------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(regression_loss_errors) {
  test::check_error([] { F::mse_loss(mg::randn({3}), mg::randn({4})); },
                    "The size of tensor a (3) must match the size of tensor b (4) at non-singleton "
                    "dimension 0");
  test::check_error([] { F::l1_loss(mg::randn({3}), mg::randn({4})); },
                    "The size of tensor a (3) must match the size of tensor b (4)");
  test::check_error([] { F::mse_loss(mg::arange(3), mg::arange(3)); },
                    "\"mse_cpu\" not implemented for 'Long'");
  test::check_error([] { F::l1_loss(mg::arange(3), mg::arange(3)); },
                    "mean(): could not infer output dtype.");
  test::check_error([] { F::mse_loss(mg::Tensor(), mg::randn({3})); },
                    "mse_loss: expected a defined input and target");
}

BOOST_AUTO_TEST_CASE(binary_cross_entropy_with_logits_errors) {
  const mg::Tensor x = mg::randn({2, 3}), t = mg::rand({2, 3});
  const auto bce = [](const mg::Tensor& input, const mg::Tensor& target,
                      const mg::Tensor& weight = {}, const mg::Tensor& pos_weight = {}) {
    return F::binary_cross_entropy_with_logits(input, target, weight, pos_weight);
  };
  test::check_error(
      [&] { bce(x, mg::rand({3})); },
      "Target size (torch.Size([3])) must be the same as input size (torch.Size([2, 3]))");
  test::check_error(
      [&] {
        bce(x, mg::ones({2, 3}, mg::kInt64));
      },
      "result type Float can't be cast to the desired output type Long");
  test::check_error([&] { bce(x, t, mg::rand({4})); },
                    "The size of tensor a (3) must match the size of tensor b (4) at non-singleton "
                    "dimension 1");
  test::check_error([&] { bce(x, t, {}, mg::rand({4})); },
                    "The size of tensor a (4) must match the size of tensor b (3) at non-singleton "
                    "dimension 1");
  test::check_error(
      [&] {
        bce(x, t, mg::rand({5, 2, 3}));
      },
      "output with shape [2, 3] doesn't match the broadcast shape [5, 2, 3]");
  test::check_error([&] { bce(x, t, {}, mg::rand({3}).requires_grad_()); },
                    "The function 'binary_cross_entropy_with_logits' is not differentiable with "
                    "respect to argument 'pos_weight'. This input cannot have requires_grad True.");
  mg::NoGradGuard no_grad;  // as in PyTorch, allowed when nothing is recorded
  BOOST_CHECK(bce(x, t, mg::rand({3}).requires_grad_()).defined());
}

BOOST_AUTO_TEST_CASE(classification_loss_errors) {
  // nll_loss and cross_entropy share every check of a class-index target.
  using Loss = mg::Tensor (*)(const mg::Tensor&, const mg::Tensor&, const mg::Tensor&);
  const Loss nll = [](const mg::Tensor& a, const mg::Tensor& b, const mg::Tensor& w) {
    return F::nll_loss(a, b, w);
  };
  const Loss ce = [](const mg::Tensor& a, const mg::Tensor& b, const mg::Tensor& w) {
    return F::cross_entropy(a, b, w);
  };
  const mg::Tensor x = mg::randn({3, 4}), t = mg::from_vector<std::int64_t>({0, 2, 3});
  for (const auto& [name, loss] : {std::pair{"nll_loss", nll}, std::pair{"cross_entropy", ce}}) {
    BOOST_TEST_CONTEXT(name) {
      test::check_error([&] { loss(x, t.to(mg::kFloat32), {}); },
                        "expected scalar type Long but found Float");
      test::check_error(
          [&] {
            loss(x, mg::from_vector<std::int64_t>({0, 5, 3}), {});
          },
          "Target 5 is out of bounds.");
      test::check_error(
          [&] {
            loss(x, mg::from_vector<std::int64_t>({0, -1, 3}), {});
          },
          "Target -1 is out of bounds.");
      test::check_error(
          [&] { loss(x, t, mg::ones({3})); },
          "weight tensor should be defined either for all 4 classes or no classes but "
          "got weight tensor of shape: [3]");
      test::check_error([&] { loss(x, t, mg::ones({4}, mg::kFloat64)); },
                        "expected scalar type Float but found Double");
      test::check_error([&] { loss(x, t, mg::ones({4}).requires_grad_()); },
                        "is not differentiable with respect to argument 'weight'");
      test::check_error(
          [&] {
            loss(x, mg::from_vector<std::int64_t>({0, 1}), {});
          },
          "Expected input batch_size (3) to match target batch_size (2).");
      test::check_error(
          [&] {
            loss(x, mg::zeros({3, 2}, mg::kInt64), {});
          },
          "0D or 1D target tensor expected, multi-target not supported");
      test::check_error([&] { loss(x, mg::scalar_tensor(1, mg::kInt64), {}); },
                        "size mismatch (got input: [3, 4], target: [])");
      test::check_error(
          [&] {
            loss(mg::randn({2, 4, 5}), mg::zeros({2, 3}, mg::kInt64), {});
          },
          "Expected target size [2, 5], got [2, 3]");
      test::check_error([&] { loss(mg::randn({4}), mg::from_vector<std::int64_t>({1}), {}); },
                        "size mismatch (got input: [4], target: [1])");
      test::check_error(
          [&] { loss(mg::scalar_tensor(1.0F), mg::scalar_tensor(0, mg::kInt64), {}); },
          "Expected 1 or more dimensions (got 0)");
    }
  }
  // The ignored index may lie outside [0, C).
  BOOST_CHECK(std::isfinite(
      F::cross_entropy(x, mg::from_vector<std::int64_t>({0, 5, 3}), {}, 5).item<float>()));
  test::check_error(
      [&] {
        F::nll_loss(mg::ones({3, 4}, mg::kInt64), t);
      },
      "\"nll_loss_out_frame\" not implemented for 'Long'");
  test::check_error(
      [&] {
        F::cross_entropy(mg::ones({3, 4}, mg::kInt64), t);
      },
      "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Long'");
  // A float target of another shape than the input's is meant as class indices: a clear error.
  test::check_error(
      [&] { F::cross_entropy(x, mg::zeros({3})); },
      "cross_entropy takes class indices as an int64 target of shape (N) or (N, d1, "
      "...), or class probabilities as a floating target of the input's shape [3, 4]");
  test::check_error([&] { F::cross_entropy(x, t, {}, -100, mg::nn::kMean, 1.5); },
                    "label_smoothing must be between 0.0 and 1.0. Got: 1.5");
  test::check_error([&] { F::cross_entropy(x, t, {}, -100, mg::nn::kMean, -0.5); },
                    "label_smoothing must be between 0.0 and 1.0. Got: -0.5");
  // A target of the input's shape holds probabilities.
  test::check_error(
      [&] {
        F::cross_entropy(x, mg::zeros({3, 4}, mg::kInt64));
      },
      "Expected floating point type for target with class probabilities, got Long");
  test::check_error(
      [&] {
        F::cross_entropy(x, mg::rand({3, 4}), {}, 0);
      },
      "ignore_index is not supported for floating point target");
  test::check_error(
      [&] {
        F::cross_entropy(x, mg::rand({3, 4}), mg::ones({3}));
      },
      "cross_entropy: weight tensor should be defined either for all 4 classes or no "
      "classes but got weight tensor of shape: [3]");
  test::check_error(
      [&] {
        F::cross_entropy(x, mg::rand({3, 4}), {}, -100, mg::nn::kMean, 2.0);
      },
      "label_smoothing must be between 0.0 and 1.0. Got: 2");
}
