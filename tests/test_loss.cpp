// The losses (nn/loss.h): gradient checks for every loss and reduction with every option,
// properties that tie the forms together (fused = composed, ignored = left out, label smoothing =
// smoothed probabilities), hand-derivable values, the broadcasting warning, and the modules.
// Parity with PyTorch's numbers and error messages is in test_loss_parity.cpp.
#define BOOST_TEST_MODULE loss
#include <cmath>
#include <iostream>
#include <limits>
#include <sstream>

#include "support.h"

namespace F = mg::nn::functional;

namespace {

constexpr mg::nn::Reduction kReductions[] = {mg::nn::kNone, mg::nn::kMean, mg::nn::kSum};
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---- Inputs for the gradient checks -----------------------------------------------------------

// int64 class indices in [0, classes) of `shape`, with every `every`-th set to `ignored`
// (every = 0: none).
mg::Tensor labels(const mg::Shape& shape, std::int64_t classes, int every = 0,
                  std::int64_t ignored = -100) {
  std::vector<std::int64_t> values(static_cast<std::size_t>(mg::shape_numel(shape)));
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = every > 0 && i % static_cast<std::size_t>(every) == 0
                    ? ignored
                    : static_cast<std::int64_t>((i * 7 + 3) % static_cast<std::size_t>(classes));
  return mg::from_vector(values, shape);
}

// Positive class weights, float64.
mg::Tensor class_weight(std::int64_t classes) { return mg::rand({classes}, mg::kFloat64) + 0.2; }

// A float64 leaf that differs from `x` by at least 0.5 everywhere, in both directions: l1_loss
// stays away from its kink at input = target.
mg::Tensor away_from(const mg::Tensor& x) {
  const mg::Tensor sign = (mg::randn(x.shape(), mg::kFloat64) > 0).to(mg::kFloat64) * 2 - 1;
  return (x.detach() + sign * (mg::rand(x.shape(), mg::kFloat64) + 0.5)).requires_grad_();
}

// The one-hot rows of class indices t (N) among `classes`, float64 (N, C).
mg::Tensor one_hot(const mg::Tensor& t, std::int64_t classes) {
  const auto indices = t.to_vector<std::int64_t>();
  std::vector<double> values(indices.size() * static_cast<std::size_t>(classes), 0.0);
  for (std::size_t n = 0; n < indices.size(); ++n)
    values[n * static_cast<std::size_t>(classes) + static_cast<std::size_t>(indices[n])] = 1.0;
  return mg::from_vector(values, {static_cast<std::int64_t>(indices.size()), classes});
}

// Captures what is written to std::cerr during its lifetime.
class CaptureStderr {
 public:
  CaptureStderr() : previous_(std::cerr.rdbuf(captured_.rdbuf())) {}
  ~CaptureStderr() { std::cerr.rdbuf(previous_); }
  CaptureStderr(const CaptureStderr&) = delete;
  CaptureStderr& operator=(const CaptureStderr&) = delete;
  std::string text() const { return captured_.str(); }

 private:
  std::ostringstream captured_;
  std::streambuf* previous_;
};

}  // namespace

// ---- Gradient checks ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(mse_loss_gradients) {
  // Tensor mse_loss(input, target, reduction): both arguments, every reduction, broadcasting,
  // a non-contiguous input, and a tensor on both sides
  mg::manual_seed(1);
  const mg::Tensor a = test::leaf({3, 4}), b = test::leaf({3, 4}), row = test::leaf({4});
  for (mg::nn::Reduction r : kReductions) {
    test::check_gradients([&](const auto& in) { return F::mse_loss(in[0], in[1], r); }, {a, b});
    test::check_gradients([&](const auto& in) { return F::mse_loss(in[0], in[1], r); }, {a, row});
    test::check_gradients(
        [&](const auto& in) { return F::mse_loss(in[0].transpose(0, 1), in[1].t(), r); }, {a, b});
    test::check_gradients(
        [&](const auto& in) { return F::mse_loss(in[0], in[0] * 0.5 + in[1], r); }, {a, b});
  }
}

BOOST_AUTO_TEST_CASE(l1_loss_gradients) {
  // Tensor l1_loss(input, target, reduction), away from the kink input = target
  mg::manual_seed(2);
  const mg::Tensor a = test::leaf({3, 4});
  const mg::Tensor b = away_from(a);
  for (mg::nn::Reduction r : kReductions) {
    test::check_gradients([&](const auto& in) { return F::l1_loss(in[0], in[1], r); }, {a, b});
    test::check_gradients(
        [&](const auto& in) { return F::l1_loss(in[0].transpose(0, 1), in[1].t(), r); }, {a, b});
    // a appears on both sides: |a − (0.5a + (b − 0.5a))| is |a − b| rebuilt from a twice.
    test::check_gradients(
        [&](const auto& in) { return F::l1_loss(in[0], in[0] * 0.5 + (in[1] - in[0] * 0.5), r); },
        {a, b});
  }
}

BOOST_AUTO_TEST_CASE(binary_cross_entropy_with_logits_gradients) {
  // Tensor binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction):
  // input and target, with and without the weights, logits at exactly 0 and at ±30
  mg::manual_seed(3);
  const mg::Tensor x = test::leaf({4, 3});
  const mg::Tensor t = mg::rand({4, 3}, mg::kFloat64).requires_grad_();
  const mg::Tensor special =
      mg::from_vector<double>({0, 0, 30, -30, 0.5, -2, 0, 5, -5, 1, 0, -0.25}, {4, 3})
          .requires_grad_();
  const mg::Tensor w = mg::rand({4, 1}, mg::kFloat64), pw = mg::rand({3}, mg::kFloat64) * 3;
  const mg::Tensor none;
  for (mg::nn::Reduction r : kReductions) {
    for (const auto& [weight, pos_weight] :
         {std::pair{none, none}, {w, none}, {none, pw}, {w, pw}}) {
      const auto bce = [&](const mg::Tensor& input, const mg::Tensor& target) {
        return F::binary_cross_entropy_with_logits(input, target, weight, pos_weight, r);
      };
      test::check_gradients([&](const auto& in) { return bce(in[0], in[1]); }, {x, t});
      test::check_gradients([&](const auto& in) { return bce(in[0], in[1]); }, {special, t});
      test::check_gradients([&](const auto& in) { return bce(in[0], in[0].sigmoid()); }, {x});
    }
  }
  // (N, C, d) with pos_weight along the last dimension, and a non-contiguous input.
  const mg::Tensor x3 = test::leaf({2, 4, 3});
  const mg::Tensor t3 = mg::rand({2, 3, 4}, mg::kFloat64).requires_grad_();
  const mg::Tensor pw4 = mg::rand({4}, mg::kFloat64) * 3;
  test::check_gradients(
      [&](const auto& in) {
        return F::binary_cross_entropy_with_logits(in[0].transpose(1, 2), in[1], {}, pw4,
                                                   mg::nn::kNone);
      },
      {x3, t3});
}

BOOST_AUTO_TEST_CASE(nll_loss_gradients) {
  // Tensor nll_loss(input, target, weight, ignore_index, reduction): (N, C), (N, C, d),
  // (N, C, d1, d2), (C); weights; targets ignored at -100 and at an index inside [0, C)
  mg::manual_seed(4);
  const mg::Tensor x = test::leaf({6, 4}), spatial = test::leaf({2, 4, 3, 2}),
                   single = test::leaf({4});
  const mg::Tensor w = class_weight(4);
  for (mg::nn::Reduction r : kReductions) {
    test::check_gradients(
        [&](const auto& in) { return F::nll_loss(in[0], labels({6}, 4), {}, -100, r); }, {x});
    test::check_gradients(
        [&](const auto& in) { return F::nll_loss(in[0], labels({6}, 4, 3), w, -100, r); }, {x});
    test::check_gradients(
        [&](const auto& in) { return F::nll_loss(in[0], labels({6}, 4), w, 2, r); }, {x});
    test::check_gradients(
        [&](const auto& in) {
          return F::nll_loss(in[0], labels({2, 3, 2}, 4, 5), w, -100, r);
        },
        {spatial});
    test::check_gradients(
        [&](const auto& in) {
          return F::nll_loss(in[0], mg::scalar_tensor(1, mg::kInt64), w, -100, r);
        },
        {single});
    test::check_gradients(
        [&](const auto& in) { return F::nll_loss(in[0] * in[0], labels({6}, 4, 4), w, -100, r); },
        {x});
  }
}

BOOST_AUTO_TEST_CASE(cross_entropy_gradients) {
  // Tensor cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing):
  // every reduction with weights, ignored targets, label smoothing and all three together, on
  // (N, C), (N, C, d), (N, C, d1, d2) and (C) inputs, non-contiguous, and x used twice
  mg::manual_seed(5);
  const mg::Tensor x = test::leaf({6, 4}), by_class = test::leaf({4, 6});
  const mg::Tensor spatial = test::leaf({2, 3, 4}), spatial2 = test::leaf({2, 4, 3, 2});
  const mg::Tensor single = test::leaf({4});
  const mg::Tensor w = class_weight(4);
  for (mg::nn::Reduction r : kReductions) {
    for (double ls : {0.0, 0.2, 1.0}) {
      const auto ce = [&](const mg::Tensor& input, const mg::Tensor& target,
                          const mg::Tensor& weight, std::int64_t ignore_index = -100) {
        return F::cross_entropy(input, target, weight, ignore_index, r, ls);
      };
      test::check_gradients([&](const auto& in) { return ce(in[0], labels({6}, 4), {}); }, {x});
      test::check_gradients([&](const auto& in) { return ce(in[0], labels({6}, 4), w); }, {x});
      test::check_gradients([&](const auto& in) { return ce(in[0], labels({6}, 4, 3), {}); }, {x});
      test::check_gradients([&](const auto& in) { return ce(in[0], labels({6}, 4, 3), w); }, {x});
      test::check_gradients([&](const auto& in) { return ce(in[0], labels({6}, 4), w, 1); }, {x});
      test::check_gradients([&](const auto& in) { return ce(in[0].t(), labels({6}, 4, 4), w); },
                            {by_class});
      // (N, C, d) from a (N, d, C) leaf: the classes are not contiguous.
      test::check_gradients(
          [&](const auto& in) {
            return ce(in[0].transpose(1, 2), labels({2, 3}, 4, 4), w);
          },
          {spatial});
      test::check_gradients(
          [&](const auto& in) {
            return ce(in[0], labels({2, 3, 2}, 4, 5), w);
          },
          {spatial2});
      test::check_gradients(
          [&](const auto& in) { return ce(in[0], mg::scalar_tensor(3, mg::kInt64), w); }, {single});
      test::check_gradients(
          [&](const auto& in) { return ce(in[0] * in[0].sum(1, true), labels({6}, 4, 5), w); },
          {x});
    }
  }
}

BOOST_AUTO_TEST_CASE(cross_entropy_with_probabilities_gradients) {
  // cross_entropy(input, probabilities of input's shape, weight, -100, reduction, label_smoothing):
  // gradients for the input and for the target; the entropy cross_entropy(x, softmax(x)) uses x
  // twice
  mg::manual_seed(6);
  const mg::Tensor x = test::leaf({5, 4}), spatial = test::leaf({2, 4, 3}),
                   single = test::leaf({4});
  const mg::Tensor q = mg::softmax(mg::randn({5, 4}, mg::kFloat64), 1).requires_grad_();
  const mg::Tensor q3 = mg::softmax(mg::randn({2, 4, 3}, mg::kFloat64), 1).requires_grad_();
  const mg::Tensor w = class_weight(4);
  for (mg::nn::Reduction r : kReductions) {
    for (double ls : {0.0, 0.3}) {
      for (const mg::Tensor& weight : {mg::Tensor(), w}) {
        const auto ce = [&](const mg::Tensor& input, const mg::Tensor& target) {
          return F::cross_entropy(input, target, weight, -100, r, ls);
        };
        test::check_gradients([&](const auto& in) { return ce(in[0], in[1]); }, {x, q});
        test::check_gradients([&](const auto& in) { return ce(in[0], in[1]); }, {spatial, q3});
        test::check_gradients([&](const auto& in) { return ce(in[0], mg::softmax(in[0], 0)); },
                              {single});
        test::check_gradients([&](const auto& in) { return ce(in[0], mg::softmax(in[0] * 2, 1)); },
                              {x});
      }
    }
  }
}

// ---- Properties ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(cross_entropy_is_nll_loss_of_log_softmax) {
  // The fused node against its two-op composition: values and gradients, every reduction
  mg::manual_seed(7);
  const mg::Tensor t = labels({2, 3, 2}, 5, 4), w = class_weight(5);
  for (mg::nn::Reduction r : kReductions) {
    mg::Tensor a = mg::randn({2, 5, 3, 2}, mg::kFloat64).requires_grad_();
    mg::Tensor b = a.detach().clone().requires_grad_();
    const mg::Tensor fused = F::cross_entropy(a, t, w, -100, r);
    const mg::Tensor composed = F::nll_loss(mg::log_softmax(b, 1), t, w, -100, r);
    test::check_close(fused, composed, 1e-14, 1e-15, "value");
    BOOST_CHECK_EQUAL(fused.grad_fn()->name(), "CrossEntropyLossBackward0");
    const mg::Tensor upstream = mg::randn(fused.shape(), mg::kFloat64);
    fused.backward(upstream);
    composed.backward(upstream);
    test::check_close(a.grad(), b.grad(), 1e-13, 1e-15, "grad");
  }
}

BOOST_AUTO_TEST_CASE(label_smoothing_is_a_smoothed_probability_target) {
  // Class index t with smoothing ε is the probability target (1 − ε)·one_hot(t) + ε/C, which the
  // probability form smooths itself from one_hot(t): the two code paths agree (kSum, since the
  // weighted means divide by different things, as in PyTorch).
  mg::manual_seed(8);
  const mg::Tensor x = mg::randn({6, 4}, mg::kFloat64), t = labels({6}, 4), w = class_weight(4);
  for (double ls : {0.0, 0.1, 0.5, 1.0}) {
    const mg::Tensor by_index = F::cross_entropy(x, t, w, -100, mg::nn::kSum, ls);
    const mg::Tensor by_probability = F::cross_entropy(x, one_hot(t, 4), w, -100, mg::nn::kSum, ls);
    test::check_close(by_index, by_probability, 1e-14, 0, fmt::format("ε = {}", ls));
  }
  // Without weights the means agree too: both divide by N.
  test::check_close(F::cross_entropy(x, t, {}, -100, mg::nn::kMean, 0.2),
                    F::cross_entropy(x, one_hot(t, 4), {}, -100, mg::nn::kMean, 0.2), 1e-14, 0,
                    "mean");
}

BOOST_AUTO_TEST_CASE(ignored_targets_are_left_out) {
  // An ignored position contributes 0 and leaves the mean's denominator: the mean over all six
  // positions equals the mean over the four kept; its gradient row is 0.
  mg::manual_seed(9);
  const mg::Tensor t = labels({6}, 4, 3);  // positions 0 and 3 ignored
  const mg::Tensor kept = mg::from_vector<std::int64_t>({1, 2, 4, 5});
  const mg::Tensor w = class_weight(4);
  mg::Tensor x = mg::randn({6, 4}, mg::kFloat64).requires_grad_();
  for (double ls : {0.0, 0.3}) {
    const mg::Tensor all = F::cross_entropy(x, t, w, -100, mg::nn::kMean, ls);
    const mg::Tensor some = F::cross_entropy(x.index_select(0, kept), t.index_select(0, kept), w,
                                             -100, mg::nn::kMean, ls);
    test::check_close(all, some, 1e-14, 0, "mean without the ignored");
  }
  F::cross_entropy(x, t, w, -100, mg::nn::kMean, 0.3).backward();
  for (std::int64_t row : {0, 3})
    test::check_close(x.grad().select(0, row), mg::zeros({4}, mg::kFloat64), 0, 0, "ignored row");
  // All ignored: the mean is 0/0 = nan, the sum 0, and the gradient 0 (not nan).
  mg::Tensor y = mg::randn({3, 4}, mg::kFloat64).requires_grad_();
  const mg::Tensor ignored = mg::full({3}, -100, mg::kInt64);
  BOOST_CHECK(std::isnan(F::cross_entropy(y, ignored).item<double>()));
  BOOST_CHECK_EQUAL(F::cross_entropy(y, ignored, {}, -100, mg::nn::kSum).item<double>(), 0.0);
  F::cross_entropy(y, ignored, w, -100, mg::nn::kMean, 0.2).backward();
  test::check_close(y.grad(), mg::zeros({3, 4}, mg::kFloat64), 0, 0, "all ignored");
}

BOOST_AUTO_TEST_CASE(hand_derivable_values) {
  // Equal logits give every class 1/C, so the loss is log C; ±inf cases of the stable forms.
  for (std::int64_t classes : {2, 5, 10})
    test::check_close(F::cross_entropy(mg::zeros({3, classes}, mg::kFloat64), labels({3}, classes)),
                      mg::scalar_tensor(std::log(static_cast<double>(classes)), mg::kFloat64),
                      1e-15, 0, "log C");
  // A logit 1e4 above the rest: exp would overflow without the maximum subtracted; the loss of
  // that class is exp(−1e4) ≈ 0, of another class 1e4.
  const mg::Tensor far = mg::from_vector<float>({1e4F, 0, 0}, {1, 3});
  test::check_close(F::cross_entropy(far, mg::from_vector<std::int64_t>({0})),
                    mg::scalar_tensor(0.0F), 0, 0, "winner");
  test::check_close(F::cross_entropy(far, mg::from_vector<std::int64_t>({1})),
                    mg::scalar_tensor(1e4F), 0, 0, "loser");
  // A class masked with -inf costs nothing without smoothing, and infinitely much with it.
  const mg::Tensor masked = mg::from_vector<double>({-kInf, 0, 0}, {1, 3});
  test::check_close(F::cross_entropy(masked, mg::from_vector<std::int64_t>({1})),
                    mg::scalar_tensor(std::log(2.0), mg::kFloat64), 1e-15, 0, "masked class");
  BOOST_CHECK_EQUAL(
      F::cross_entropy(masked, mg::from_vector<std::int64_t>({1}), {}, -100, mg::nn::kMean, 0.1)
          .item<double>(),
      kInf);
  // BCE at logit 0 is log 2 for any target; at logit ±1000 with the matching target, 0.
  test::check_close(
      F::binary_cross_entropy_with_logits(mg::zeros({3}), mg::from_vector<float>({0, 0.5F, 1}), {},
                                          {}, mg::nn::kNone),
      mg::full({3}, std::log(2.0)), 1e-7, 0, "log 2");
  test::check_close(
      F::binary_cross_entropy_with_logits(mg::from_vector<float>({1000, -1000}),
                                          mg::from_vector<float>({1, 0}), {}, {}, mg::nn::kNone),
      mg::zeros({2}), 0, 0, "saturated");
  // mse and l1 of [1, 2] against [3, 5]: differences 2 and 3.
  const mg::Tensor a = mg::from_vector<double>({1, 2}), b = mg::from_vector<double>({3, 5});
  BOOST_CHECK_EQUAL(F::mse_loss(a, b).item<double>(), 6.5);
  BOOST_CHECK_EQUAL(F::mse_loss(a, b, mg::nn::kSum).item<double>(), 13.0);
  BOOST_CHECK_EQUAL(F::l1_loss(a, b).item<double>(), 2.5);
  test::check_close(F::l1_loss(a, b, mg::nn::kNone), mg::from_vector<double>({2, 3}), 0, 0,
                    "l1 none");
  // PyTorch's dtypes: a float64 target promotes; integers keep l1's |diff| integral.
  BOOST_CHECK(F::mse_loss(mg::ones({2}), b).dtype() == mg::kFloat64);
  BOOST_CHECK(F::l1_loss(mg::arange(3), mg::zeros({3}, mg::kInt64), mg::nn::kSum).dtype() ==
              mg::kInt64);
  // The mean of nothing is nan.
  BOOST_CHECK(std::isnan(F::mse_loss(mg::zeros({0}), mg::zeros({0})).item<float>()));
}

BOOST_AUTO_TEST_CASE(broadcasting_warns_once_per_message) {
  // mse_loss and l1_loss broadcast a target of another shape, with PyTorch's warning on stderr,
  // printed once for each distinct message (as Python's warnings module does).
  const std::string warning =
      "UserWarning: Using a target size (torch.Size([3])) that is different to the input size "
      "(torch.Size([2, 1])). This will likely lead to incorrect results due to broadcasting. "
      "Please ensure they have the same size.\n";
  const mg::Tensor input = mg::randn({2, 1}), target = mg::randn({3});
  CaptureStderr capture;
  BOOST_CHECK(F::mse_loss(input, target, mg::nn::kNone).shape() == (mg::Shape{2, 3}));
  BOOST_CHECK_EQUAL(capture.text(), warning);
  F::mse_loss(input, target);
  F::mse_loss(input.t().t(), target);
  BOOST_CHECK_EQUAL(capture.text(), warning);  // not again
  F::l1_loss(input, target);
  BOOST_CHECK_EQUAL(capture.text(), warning + warning);  // l1_loss warns once too
  F::mse_loss(input, target.view({1, 3}));               // another message
  BOOST_CHECK_GT(capture.text().size(), 2 * warning.size());
  const std::size_t before = capture.text().size();
  F::mse_loss(target, target);
  BOOST_CHECK_EQUAL(capture.text().size(), before);  // equal shapes: no warning
}

// ---- Modules ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(modules_call_their_functions) {
  // MSELoss, L1Loss, BCEWithLogitsLoss, NLLLoss, CrossEntropyLoss: forward and operator() give
  // the function's result for the options they were built with
  mg::manual_seed(10);
  const mg::Tensor x = mg::randn({6, 4}), y = mg::randn({6, 4}), p = mg::rand({6, 4});
  const mg::Tensor t = labels({6}, 4, 3), w = mg::rand({4}) + 0.1F;
  namespace nn = mg::nn;

  BOOST_CHECK_EQUAL(nn::MSELoss()(x, y).item<float>(), F::mse_loss(x, y).item<float>());
  test::check_close(nn::MSELoss(nn::kNone)(x, y), F::mse_loss(x, y, nn::kNone), 0, 0, "MSELoss");
  BOOST_CHECK_EQUAL(nn::L1Loss(nn::L1LossOptions().reduction(nn::kSum)).forward(x, y).item<float>(),
                    F::l1_loss(x, y, nn::kSum).item<float>());

  nn::BCEWithLogitsLoss bce(
      nn::BCEWithLogitsLossOptions().weight(w).pos_weight(w * 2).reduction(nn::kSum));
  BOOST_CHECK_EQUAL(bce(x, p).item<float>(),
                    F::binary_cross_entropy_with_logits(x, p, w, w * 2, nn::kSum).item<float>());

  const mg::Tensor t1 = labels({6}, 4, 3, /*ignored=*/1);
  nn::NLLLoss nll(nn::NLLLossOptions().weight(w).ignore_index(1).reduction(nn::kNone));
  test::check_close(nll(x, t1), F::nll_loss(x, t1, w, 1, nn::kNone), 0, 0, "NLLLoss");

  nn::CrossEntropyLoss ce(
      nn::CrossEntropyLossOptions().weight(w).ignore_index(-100).label_smoothing(0.1).reduction(
          nn::kMean));
  BOOST_CHECK_EQUAL(ce.options.label_smoothing(), 0.1);
  BOOST_CHECK_EQUAL(ce.options.ignore_index(), -100);
  BOOST_CHECK(ce.options.reduction() == nn::kMean);
  BOOST_CHECK_EQUAL(ce(x, t).item<float>(),
                    F::cross_entropy(x, t, w, -100, nn::kMean, 0.1).item<float>());
  BOOST_CHECK_EQUAL(nn::CrossEntropyLoss()(x, t).item<float>(),
                    F::cross_entropy(x, t).item<float>());

  // Gradients flow through a module as through the function.
  mg::Tensor logits = x.clone().requires_grad_();
  ce(logits, t).backward();
  BOOST_CHECK(logits.grad().defined());
}

BOOST_AUTO_TEST_CASE(module_reprs_and_buffers) {
  // repr() as PyTorch prints them; the weights are buffers under PyTorch's names, saved in the
  // state dict and converted by to(dtype)
  namespace nn = mg::nn;
  const mg::Tensor w = mg::ones({3});
  BOOST_CHECK_EQUAL(nn::MSELoss().repr(), "MSELoss()");
  BOOST_CHECK_EQUAL(nn::L1Loss().repr(), "L1Loss()");
  BOOST_CHECK_EQUAL(nn::BCEWithLogitsLoss().repr(), "BCEWithLogitsLoss()");
  BOOST_CHECK_EQUAL(nn::NLLLoss().repr(), "NLLLoss()");
  nn::CrossEntropyLoss ce(nn::CrossEntropyLossOptions().weight(w).label_smoothing(0.1));
  BOOST_CHECK_EQUAL(ce.repr(), "CrossEntropyLoss()");

  BOOST_CHECK(nn::CrossEntropyLoss().state_dict().empty());
  const auto state = ce.state_dict();
  BOOST_REQUIRE_EQUAL(state.size(), 1u);
  BOOST_CHECK_EQUAL(state[0].first, "weight");
  BOOST_CHECK(ce.parameters().empty());
  nn::BCEWithLogitsLoss bce(nn::BCEWithLogitsLossOptions().pos_weight(w));
  BOOST_REQUIRE_EQUAL(bce.named_buffers().size(), 1u);
  BOOST_CHECK_EQUAL(bce.named_buffers()[0].first, "pos_weight");

  ce.to(mg::kFloat64);
  BOOST_CHECK(ce.weight.dtype() == mg::kFloat64);
  const mg::Tensor x = mg::randn({2, 3}, mg::kFloat64);
  BOOST_CHECK(ce(x, mg::from_vector<std::int64_t>({0, 2})).dtype() == mg::kFloat64);
}
