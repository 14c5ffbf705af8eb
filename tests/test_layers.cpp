// The layers: Linear, Embedding, Dropout, LayerNorm, Sequential and the activation modules.
// For each: gradient checks in float64 with the module's parameters among the inputs, default
// initialisation, parameter names, shapes and order, behaviour, every error, the repr, and
// parity with PyTorch 1.13 (tests/fixtures/nn.txt, written by tests/make_nn_fixtures.py): the
// C++ module is loaded with PyTorch's weights and must give PyTorch's output and gradients.
#define BOOST_TEST_MODULE layers
#include <algorithm>
#include <cmath>

#include "fixtures.h"
#include "support.h"

namespace nn = mg::nn;

namespace {

using Inputs = std::vector<mg::Tensor>;

const test::Fixtures& fixtures() {
  static const test::Fixtures fx("nn.txt");
  return fx;
}

// Sets every parameter to N(0, 1) values, so that a gradient check does not start from the
// special values (ones, zeros) of an initialisation.
void randomize(const nn::Module& module) {
  mg::NoGradGuard no_grad;
  for (mg::Tensor p : module.parameters()) p.copy_(mg::randn(p.shape(), p.dtype()));
}

// The module's parameters in float64, after `inputs`: what gradcheck perturbs.
Inputs with_parameters(nn::Module& module, Inputs inputs) {
  module.to(mg::kFloat64);
  for (const mg::Tensor& p : module.parameters()) inputs.push_back(p);
  return inputs;
}

// "NAME SIZE_1 ... SIZE_K" per parameter, one per line, as make_nn_fixtures.py writes them.
std::string parameter_list(const nn::Module& module) {
  std::vector<std::string> lines;
  for (const auto& [name, p] : module.named_parameters())
    lines.push_back(fmt::format("{}{}{}", name, p.dim() > 0 ? " " : "", fmt::join(p.shape(), " ")));
  return fmt::format("{}", fmt::join(lines, "\n"));
}

// Runs the fixture case NAME/f32 and NAME/f64 on `module`: loads PyTorch's parameters (after
// checking their names, shapes and order), feeds PyTorch's input, backpropagates its upstream
// gradient, and compares the output and the gradients of the input and every parameter.
template <class M>
void check_parity(M& module, const std::string& name) {
  const test::Fixtures& fx = fixtures();
  for (const auto& [dtype, tag] : {std::pair{mg::kFloat32, "f32"}, {mg::kFloat64, "f64"}}) {
    const std::string c = name + "/" + tag;
    module.to(dtype);
    BOOST_CHECK_EQUAL(parameter_list(module), fx.text(c + "/names"));
    {
      mg::NoGradGuard no_grad;
      for (auto& [pname, p] : module.named_parameters()) p.copy_(fx.tensor(c + "/param/" + pname));
    }
    module.zero_grad();
    mg::Tensor x = fx.tensor(c + "/x");
    if (mg::is_floating(x.dtype())) x.requires_grad_();
    const mg::Tensor upstream = fx.tensor(c + "/upstream");
    const test::Reference expected_y = fx.reference(c + "/y");
    const mg::Tensor y = module(x);
    test::check_matches(y, expected_y, test::finite_max(expected_y.exact), expected_y.name);
    y.backward(upstream);
    const auto check_gradient = [&](const mg::Tensor& actual, const std::string& name) {
      const test::Reference g = fx.reference(name);
      const double scale = std::max(test::finite_max(g.exact), test::finite_max(upstream));
      test::check_matches(actual, g, scale, name);
    };
    if (mg::is_floating(x.dtype())) check_gradient(x.grad(), c + "/grad_x");
    for (const auto& [pname, p] : module.named_parameters())
      check_gradient(p.grad(), c + "/grad/" + pname);
  }
}

mg::Tensor ids(const std::vector<std::int64_t>& values, const mg::Shape& shape) {
  return mg::from_vector(values, shape);
}

}  // namespace

// ---- Linear ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(linear_gradcheck) {
  // Linear(in, out)(x): y = x Wᵀ + b, for 2-D, 3-D and 1-D input, with and without bias
  mg::manual_seed(31);
  nn::Linear lin(5, 4);
  test::check_gradients([&](const Inputs& in) { return lin(in[0]); },
                        with_parameters(lin, {test::leaf({3, 5})}));
  test::check_gradients([&](const Inputs& in) { return lin(in[0]); },
                        with_parameters(lin, {test::leaf({2, 3, 5})}));
  // A transposed (non-contiguous) input; a 1-D input.
  test::check_gradients([&](const Inputs& in) { return lin(in[0].t()); },
                        with_parameters(lin, {test::leaf({5, 3})}));
  test::check_gradients([&](const Inputs& in) { return lin(in[0]); },
                        with_parameters(lin, {test::leaf({5})}));
  nn::Linear no_bias(nn::LinearOptions(4, 4).bias(false));
  // x used twice: as the layer's input and as a factor of its output.
  test::check_gradients([&](const Inputs& in) { return no_bias(in[0]) * in[0]; },
                        with_parameters(no_bias, {test::leaf({2, 3, 4})}));
}

BOOST_AUTO_TEST_CASE(linear_parameters_and_default_init) {
  // weight (out, in), bias (out), in that order; W and b ~ U(−1/√in, 1/√in)
  mg::manual_seed(32);
  nn::Linear lin(16, 50000);
  BOOST_CHECK_EQUAL(parameter_list(lin), "weight 50000 16\nbias 50000");
  BOOST_CHECK(lin.weight.requires_grad() && lin.weight.is_leaf());
  BOOST_CHECK(lin.weight.dtype() == mg::kFloat32);
  // kaiming_uniform_(a = √5): bound √3 · (√(2/6) / √16) = 1/4, as float; the bias's 1/√16 = 1/4.
  const float bound = static_cast<float>(std::sqrt(3.0) * (std::sqrt(2.0 / 6) / 4.0));
  for (const auto& [name, p] : lin.named_parameters()) {
    const std::vector<float> v = p.to_vector<float>();
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    BOOST_CHECK_MESSAGE(*lo >= -bound && *hi <= bound,
                        name << " in [" << *lo << ", " << *hi << "]");
    BOOST_CHECK_MESSAGE(*lo < -0.998f * bound && *hi > 0.998f * bound,
                        name << " extremes " << *lo << ", " << *hi);
  }
  BOOST_CHECK_CLOSE(bound, 0.25, 1e-5);
  nn::Linear no_bias(nn::LinearOptions(3, 2).bias(false));
  BOOST_CHECK_EQUAL(parameter_list(no_bias), "weight 2 3");
  BOOST_CHECK(!no_bias.bias.defined());
  // No input features: a (out, 0) weight and a zero bias bound, as in PyTorch.
  nn::Linear empty(0, 3);
  for (float b : empty.bias.to_vector<float>()) BOOST_CHECK_EQUAL(b, 0.0f);
  BOOST_CHECK(empty(mg::zeros({2, 0})).shape() == (mg::Shape{2, 3}));
}

BOOST_AUTO_TEST_CASE(linear_errors) {
  // The checks of F.linear, in PyTorch's order and words
  nn::Linear lin(3, 4);
  nn::Linear no_bias(nn::LinearOptions(3, 4).bias(false));
  test::check_error([&] { lin(mg::ones({2, 5})); },
                    "mat1 and mat2 shapes cannot be multiplied (2x5 and 3x4)");
  test::check_error([&] { lin(mg::ones({2, 3, 5})); },
                    "mat1 and mat2 shapes cannot be multiplied (6x5 and 3x4)");
  test::check_error([&] { lin(mg::ones({5})); },
                    "mat1 and mat2 shapes cannot be multiplied (1x5 and 3x4)");
  test::check_error([&] { lin(mg::ones({0, 5})); },
                    "mat1 and mat2 shapes cannot be multiplied (0x5 and 3x4)");
  test::check_error([&] { lin(mg::ones({})); },
                    "both arguments to matmul need to be at least 1D, but they are 0D and 2D");
  // With a bias, 2-D (and contiguous 3-D) input goes to addmm, which checks the dtypes first.
  test::check_error([&] { lin(mg::ones({2, 5}, mg::kFloat64)); },
                    "mat1 and mat2 must have the same dtype");
  test::check_error([&] { lin(mg::ones({2, 3, 5}, mg::kFloat64)); },
                    "mat1 and mat2 must have the same dtype");
  test::check_error([&] { lin(mg::ones({2, 3}, mg::kInt64)); },
                    "mat1 and mat2 must have the same dtype");
  test::check_error([&] { lin(mg::ones({5}, mg::kFloat64)); },
                    "mat1 and mat2 shapes cannot be multiplied (1x5 and 3x4)");
  test::check_error([&] { lin(mg::ones({3}, mg::kFloat64)); },
                    "expected scalar type Double but found Float");
  test::check_error([&] { no_bias(mg::ones({2, 5}, mg::kFloat64)); },
                    "mat1 and mat2 shapes cannot be multiplied (2x5 and 3x4)");
  test::check_error([&] { no_bias(mg::ones({2, 3}, mg::kFloat64)); },
                    "expected scalar type Double but found Float");
  test::check_error([&] { no_bias(mg::ones({2, 3}, mg::kInt64)); },
                    "expected scalar type Long but found Float");
  test::check_error([] { nn::Linear(-1, 4); },
                    "Trying to create tensor with negative dimension -1: [4, -1]");
}

BOOST_AUTO_TEST_CASE(linear_parity) {
  // Linear against PyTorch: 2-D, 3-D, and 1-D input without bias
  nn::Linear lin(5, 4);
  check_parity(lin, "linear_2d");
  check_parity(lin, "linear_3d");
  nn::Linear no_bias(nn::LinearOptions(5, 4).bias(false));
  check_parity(no_bias, "linear_1d_no_bias");
}

// ---- Embedding ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(embedding_gradcheck) {
  // Embedding(num, dim)(index): y[p] = W[index[p]], with repeated ids and the weight used
  // twice. The padding row (1) is not read here: its gradient is zero by definition while the
  // output does depend on it, so a numerical derivative would rightly disagree; the test
  // embedding_padding_row checks it exactly instead.
  mg::manual_seed(41);
  nn::Embedding embed(nn::EmbeddingOptions(6, 3).padding_idx(1));
  const mg::Tensor a = ids({2, 4, 4, 0, 3, 5}, {2, 3});
  const mg::Tensor b = ids({5, 5, 2, 3, 0, 3}, {3, 2});
  test::check_gradients([&](const Inputs&) { return embed(a) * embed(b.t()) + embed(a); },
                        with_parameters(embed, {}));
  nn::Embedding plain(4, 2);
  test::check_gradients([&](const Inputs&) { return plain(ids({3, 3, 0}, {3})); },
                        with_parameters(plain, {}));
}

BOOST_AUTO_TEST_CASE(embedding_padding_row) {
  // The padding row: zeros at first, read like any other row, never given a gradient
  mg::manual_seed(42);
  nn::Embedding embed(nn::EmbeddingOptions(5, 3).padding_idx(-2));  // row 3
  BOOST_CHECK_EQUAL(*embed.options.padding_idx(), 3);
  for (float v : embed.weight.select(0, 3).to_vector<float>()) BOOST_CHECK_EQUAL(v, 0.0f);
  {
    mg::NoGradGuard no_grad;
    embed.weight.select(0, 3).fill_(5.0);
  }
  const mg::Tensor index = ids({3, 0, 3, 3, 2, 0}, {2, 3});
  const mg::Tensor y = embed(index);
  BOOST_CHECK(y.shape() == (mg::Shape{2, 3, 3}));
  for (float v : y.select(0, 0).select(0, 0).to_vector<float>()) BOOST_CHECK_EQUAL(v, 5.0f);
  const mg::Tensor upstream = mg::randn({2, 3, 3});
  y.backward(upstream);
  const mg::Tensor grad = embed.weight.grad();
  for (float v : grad.select(0, 3).to_vector<float>()) BOOST_CHECK_EQUAL(v, 0.0f);
  // Row 0 was read at (0, 1) and (1, 2): its gradient is the sum of those two upstream rows.
  const mg::Tensor read_at_0_1 = upstream.select(0, 0).select(0, 1);
  const mg::Tensor read_at_1_2 = upstream.select(0, 1).select(0, 2);
  test::check_close(grad.select(0, 0), read_at_0_1 + read_at_1_2, 1e-6, 0, "row 0");
  test::check_close(grad.select(0, 2), upstream.select(0, 1).select(0, 1), 0, 0, "row 2");
  for (std::int64_t unused : {1, 4})
    for (float v : grad.select(0, unused).to_vector<float>()) BOOST_CHECK_EQUAL(v, 0.0f);
}

BOOST_AUTO_TEST_CASE(embedding_shapes_and_default_init) {
  // weight (num, dim) ~ N(0, 1); any index shape, 0-d and empty included
  mg::manual_seed(43);
  nn::Embedding embed(1000, 100);
  BOOST_CHECK_EQUAL(parameter_list(embed), "weight 1000 100");
  const std::vector<float> w = embed.weight.to_vector<float>();
  double sum = 0, squares = 0;
  for (float v : w) {
    sum += v;
    squares += static_cast<double>(v) * v;
  }
  const double mean = sum / 1e5, std = std::sqrt(squares / 1e5 - mean * mean);
  BOOST_CHECK_MESSAGE(std::abs(mean) < 1.0 / 30, "mean " << mean);
  BOOST_CHECK_MESSAGE(std::abs(std - 1) < 0.05, "std " << std);
  BOOST_CHECK(embed(ids({7}, {})).shape() == (mg::Shape{100}));
  BOOST_CHECK(embed(mg::zeros({2, 0}, mg::kInt64)).shape() == (mg::Shape{2, 0, 100}));
  test::check_close(embed(ids({7}, {})), embed.weight.select(0, 7), 0, 0, "0-d index");
}

BOOST_AUTO_TEST_CASE(embedding_errors) {
  // Ids out of range, ids that are not int64, a padding_idx outside the table
  nn::Embedding embed(10, 3);
  test::check_error([&] { embed(ids({1, 10}, {2})); }, "index out of range in self");
  test::check_error([&] { embed(ids({-1}, {1})); }, "index out of range in self");
  test::check_error([&] { embed(mg::ones({2})); },
                    "Expected tensor for argument #1 'indices' to have one of the following scalar "
                    "types: Long, Int; but got torch.FloatTensor instead (while checking arguments "
                    "for embedding)");
  test::check_error([&] { embed(mg::ones({2}, mg::kFloat64)); },
                    "but got torch.DoubleTensor instead");
  test::check_error([] { nn::Embedding(nn::EmbeddingOptions(10, 3).padding_idx(10)); },
                    "Padding_idx must be within num_embeddings");
  test::check_error([] { nn::Embedding(nn::EmbeddingOptions(10, 3).padding_idx(-11)); },
                    "Padding_idx must be within num_embeddings");
}

BOOST_AUTO_TEST_CASE(embedding_parity) {
  // Embedding against PyTorch: repeated ids, padding_idx 2 and −1, no padding
  nn::Embedding padded(nn::EmbeddingOptions(7, 3).padding_idx(2));
  check_parity(padded, "embedding_padding");
  nn::Embedding last(nn::EmbeddingOptions(5, 4).padding_idx(-1));
  check_parity(last, "embedding_padding_minus1");
  nn::Embedding plain(6, 2);
  check_parity(plain, "embedding_plain");
}

// ---- Dropout --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(dropout_gradcheck) {
  // Dropout(p)(x) in training: y = x ⊙ m / (1 − p), the mask fixed by seeding inside fn
  nn::Dropout dropout(0.4);
  mg::manual_seed(51);
  test::check_gradients(
      [&](const Inputs& in) {
        mg::manual_seed(52);
        return dropout(in[0]) * in[0] + dropout(in[0].t()).t();
      },
      {test::leaf({6, 7})});
}

BOOST_AUTO_TEST_CASE(dropout_train_and_eval) {
  // Training drops about p of the elements and scales the rest by exactly 1/(1 − p);
  // evaluation returns the input itself.
  mg::manual_seed(53);
  nn::Dropout dropout(0.3);
  BOOST_CHECK(dropout.is_training());
  const mg::Tensor x = (mg::rand({100000}) + 1).requires_grad_();  // no zeros of its own
  const mg::Tensor y = dropout(x);
  const std::vector<float> xs = x.to_vector<float>(), ys = y.to_vector<float>();
  const float scale = static_cast<float>(1 / (1 - 0.3));
  std::int64_t kept = 0;
  int wrong = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (ys[i] != 0) ++kept;
    if (ys[i] != 0 && ys[i] != xs[i] * scale && wrong++ < 5)
      BOOST_ERROR("element " << i << ": " << ys[i] << " is not " << xs[i] << " · " << scale);
  }
  // 0.7 of 10^5 kept, with standard deviation √(10^5 · 0.21) ≈ 145: 1000 is 7 of them.
  BOOST_CHECK_MESSAGE(std::abs(kept - 70000) < 1000, kept << " of 100000 kept");
  // Backward: grad_x = grad_y ⊙ m / (1 − p), the same mask.
  const mg::Tensor upstream = mg::randn({100000});
  y.backward(upstream);
  const std::vector<float> g = x.grad().to_vector<float>(), u = upstream.to_vector<float>();
  for (std::size_t i = 0; i < g.size(); ++i)
    if (g[i] != (ys[i] != 0 ? u[i] * scale : 0.0f) && wrong++ < 5)
      BOOST_ERROR("grad element " << i << " is " << g[i]);
  BOOST_CHECK_EQUAL(wrong, 0);

  dropout.eval();
  const mg::Tensor z = dropout(x);
  BOOST_CHECK_EQUAL(z.impl(), x.impl());  // the same tensor
  const mg::Tensor ints = mg::arange(5);
  BOOST_CHECK_EQUAL(dropout(ints).impl(), ints.impl());
}

BOOST_AUTO_TEST_CASE(dropout_p_0_and_1) {
  // p = 0 keeps every value; p = 1 gives zeros and zero gradients.
  const mg::Tensor x = mg::randn({4, 5}).requires_grad_();
  test::check_close(nn::Dropout(0.0)(x), x.detach(), 0, 0, "p = 0");
  const mg::Tensor y = nn::Dropout(1.0)(x);
  for (float v : y.to_vector<float>()) BOOST_CHECK_EQUAL(v, 0.0f);
  y.backward(mg::randn({4, 5}));
  for (float v : x.grad().to_vector<float>()) BOOST_CHECK_EQUAL(v, 0.0f);
}

BOOST_AUTO_TEST_CASE(dropout_errors) {
  // Dropout(p) with p outside [0, 1]; an integer input while training
  test::check_error([] { nn::Dropout(1.5); },
                    "dropout probability has to be between 0 and 1, but got 1.5");
  test::check_error([] { nn::Dropout(-0.5); },
                    "dropout probability has to be between 0 and 1, but got -0.5");
  nn::Dropout dropout(0.5);
  test::check_error([&] { dropout(mg::arange(3)); },
                    "result type Float can't be cast to the desired output type Long");
}

// ---- LayerNorm ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(layer_norm_gradcheck) {
  // LayerNorm(shape)(x): normalised over the last dims, with and without the affine parameters
  mg::manual_seed(61);
  nn::LayerNorm one({4});
  randomize(one);
  test::check_gradients([&](const Inputs& in) { return one(in[0]); },
                        with_parameters(one, {test::leaf({3, 4})}));
  // A transposed input, used twice.
  test::check_gradients([&](const Inputs& in) { return one(in[0].t()) * in[0].t(); },
                        with_parameters(one, {test::leaf({4, 3})}));
  nn::LayerNorm two({3, 4});
  randomize(two);
  test::check_gradients([&](const Inputs& in) { return two(in[0]); },
                        with_parameters(two, {test::leaf({2, 3, 4})}));
  nn::LayerNorm plain({5}, 1e-5, false);
  test::check_gradients([&](const Inputs& in) { return plain(in[0]); },
                        with_parameters(plain, {test::leaf({2, 2, 5})}));
  nn::LayerNorm plain2(nn::LayerNormOptions({2, 3}).elementwise_affine(false).eps(1e-3));
  test::check_gradients([&](const Inputs& in) { return plain2(in[0]); },
                        with_parameters(plain2, {test::leaf({4, 2, 3})}));
}

BOOST_AUTO_TEST_CASE(layer_norm_values_and_parameters) {
  // weight = ones and bias = zeros of normalized_shape; each block comes out with mean 0 and
  // variance var / (var + eps)
  nn::LayerNorm norm({3, 4});
  BOOST_CHECK_EQUAL(parameter_list(norm), "weight 3 4\nbias 3 4");
  for (float v : norm.weight.to_vector<float>()) BOOST_CHECK_EQUAL(v, 1.0f);
  for (float v : norm.bias.to_vector<float>()) BOOST_CHECK_EQUAL(v, 0.0f);
  BOOST_CHECK_EQUAL(parameter_list(nn::LayerNorm({5}, 1e-5, false)), "");
  mg::manual_seed(62);
  const mg::Tensor x = mg::randn({5, 3, 4}, mg::kFloat64) * 3 + 2;
  norm.to(mg::kFloat64);
  const mg::Tensor y = norm(x);
  const mg::Tensor mean = x.sum(mg::Shape{1, 2}) / 12;
  const mg::Tensor var = ((x - mean.view({5, 1, 1})).pow(2)).sum(mg::Shape{1, 2}) / 12;
  const mg::Tensor y_mean = y.sum(mg::Shape{1, 2}) / 12;
  const mg::Tensor y_var = y.pow(2).sum(mg::Shape{1, 2}) / 12;
  test::check_close(y_mean, mg::zeros({5}, mg::kFloat64), 0, 1e-14, "mean of y");
  test::check_close(y_var, var / (var + 1e-5), 1e-13, 0, "variance of y");
}

BOOST_AUTO_TEST_CASE(layer_norm_errors) {
  // An input whose last dims are not normalized_shape, of a dtype that is not the parameters',
  // an empty normalized_shape
  nn::LayerNorm norm({3, 4});
  test::check_error([&] { norm(mg::ones({2, 4, 3})); },
                    "Given normalized_shape=[3, 4], expected input with shape [*, 3, 4], but got "
                    "input of size[2, 4, 3]");
  test::check_error([&] { norm(mg::ones({4})); },
                    "Given normalized_shape=[3, 4], expected input with shape [*, 3, 4], but got "
                    "input of size[4]");
  test::check_error([&] { norm(mg::ones({3, 4}, mg::kInt64)); },
                    "\"LayerNormKernelImpl\" not implemented for 'Long'");
  test::check_error([&] { norm(mg::ones({3, 4}, mg::kFloat64)); },
                    "expected scalar type Double but found Float");
  test::check_error([] { nn::LayerNorm(mg::Shape{}); },
                    "Expected normalized_shape to be at least 1-dimensional, i.e., containing at "
                    "least one element, but got normalized_shape = []");
}

BOOST_AUTO_TEST_CASE(layer_norm_parity) {
  // LayerNorm against PyTorch: 1-D and 2-D normalized_shape with random affine parameters, and
  // without them
  nn::LayerNorm one({4});
  check_parity(one, "layer_norm_1d");
  nn::LayerNorm two({3, 4});
  check_parity(two, "layer_norm_2d");
  nn::LayerNorm plain({5}, 1e-5, false);
  check_parity(plain, "layer_norm_no_affine");
}

// ---- Sequential and activations -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(sequential_gradcheck) {
  // Sequential(Linear, Tanh, Linear)(x)
  mg::manual_seed(71);
  nn::Sequential mlp;
  mlp.emplace_back<nn::Linear>(3, 4);
  mlp.emplace_back<nn::Tanh>();
  mlp.push_back(std::make_unique<nn::Linear>(4, 2));
  test::check_gradients([&](const Inputs& in) { return mlp(in[0]); },
                        with_parameters(mlp, {test::leaf({5, 3})}));
  nn::Sequential gates(std::make_unique<nn::ReLU>(), std::make_unique<nn::Sigmoid>());
  test::check_gradients(
      [&](const Inputs& in) { return gates(in[0].abs() + 0.5) * gates(-in[0].abs() - 0.5); },
      {test::leaf({3, 4})});
}

BOOST_AUTO_TEST_CASE(sequential_structure) {
  // children "0", "1", ...; operator[] with negative indices; size(); train/eval reach all
  nn::Sequential seq;
  BOOST_CHECK_EQUAL(seq.size(), 0u);
  const mg::Tensor x = mg::randn({2, 3});
  BOOST_CHECK_EQUAL(seq(x).impl(), x.impl());  // an empty chain is the identity
  nn::Linear& first = seq.emplace_back<nn::Linear>(3, 4);
  seq.emplace_back<nn::Dropout>(0.5);
  seq.emplace_back<nn::Linear>(4, 2);
  BOOST_CHECK_EQUAL(seq.size(), 3u);
  BOOST_CHECK_EQUAL(&seq[0], &first);
  BOOST_CHECK_EQUAL(&seq[-3], &first);
  BOOST_CHECK_EQUAL(seq[1].type_name(), "Dropout");
  BOOST_CHECK_EQUAL(parameter_list(seq), "0.weight 4 3\n0.bias 4\n2.weight 2 4\n2.bias 2");
  seq.eval();
  BOOST_CHECK(!seq[1].is_training());
  // In evaluation the chain is Linear then Linear.
  const auto& last = dynamic_cast<nn::Linear&>(seq[2]);
  test::check_close(seq(x), last(first(x)), 0, 0, "eval chain");
  test::check_error([&] { seq[3]; }, "index 3 is out of range");
  test::check_error([&] { seq[-4]; }, "index -4 is out of range");
  test::check_error([&] { seq.push_back(std::unique_ptr<nn::Tanh>()); },
                    "Sequential: cannot add a null module");
  BOOST_CHECK_EQUAL(seq.size(), 3u);
}

BOOST_AUTO_TEST_CASE(activation_values) {
  // Tanh, ReLU, Sigmoid: the ops of the same names
  const mg::Tensor x = mg::from_vector<float>({-1, 0, 2});
  test::check_close(nn::ReLU()(x), mg::from_vector<float>({0, 0, 2}), 0, 0, "relu");
  test::check_close(nn::Tanh()(x), mg::tanh(x), 0, 0, "tanh");
  test::check_close(nn::Sigmoid()(x), mg::sigmoid(x), 0, 0, "sigmoid");
  BOOST_CHECK(nn::Tanh().parameters().empty());
}

BOOST_AUTO_TEST_CASE(sequential_parity) {
  // Sequential(Linear(3, 4), Tanh(), Linear(4, 2)) against PyTorch
  nn::Sequential mlp(std::make_unique<nn::Linear>(3, 4), std::make_unique<nn::Tanh>(),
                     std::make_unique<nn::Linear>(4, 2));
  check_parity(mlp, "sequential");
}

// ---- repr -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(reprs_match_pytorch) {
  // repr() of each layer: the text PyTorch prints for the same module (fixture repr/NAME)
  const test::Fixtures& fx = fixtures();
  const auto check_repr = [&](const nn::Module& module, const std::string& name) {
    BOOST_CHECK_EQUAL(module.repr(), fx.text("repr/" + name));
  };
  check_repr(nn::Linear(3, 4), "linear");
  check_repr(nn::Linear(nn::LinearOptions(3, 4).bias(false)), "linear_no_bias");
  check_repr(nn::Embedding(10, 3), "embedding");
  check_repr(nn::Embedding(nn::EmbeddingOptions(10, 3).padding_idx(0)), "embedding_padding");
  check_repr(nn::Embedding(nn::EmbeddingOptions(10, 3).padding_idx(-1)),
             "embedding_padding_minus1");
  check_repr(nn::Dropout(), "dropout");
  check_repr(nn::Dropout(0.1), "dropout_0.1");
  check_repr(nn::Dropout(1.0), "dropout_1");
  check_repr(nn::LayerNorm({4}), "layer_norm");
  check_repr(nn::LayerNorm({3, 4}, 1e-6, false), "layer_norm_2d");
  check_repr(nn::LayerNorm(nn::LayerNormOptions({8}).eps(0.001)), "layer_norm_eps_0.001");
  check_repr(nn::Tanh(), "tanh");
  check_repr(nn::ReLU(), "relu");
  check_repr(nn::Sigmoid(), "sigmoid");
  check_repr(nn::Sequential(std::make_unique<nn::Linear>(3, 4), std::make_unique<nn::Tanh>(),
                            std::make_unique<nn::Linear>(4, 2)),
             "sequential");
  check_repr(nn::Sequential(), "sequential_empty");
  auto inner = std::make_unique<nn::Sequential>(std::make_unique<nn::LayerNorm>(mg::Shape{3}),
                                                std::make_unique<nn::Dropout>(0.1));
  auto embed = std::make_unique<nn::Embedding>(nn::EmbeddingOptions(10, 3).padding_idx(0));
  check_repr(nn::Sequential(std::move(embed), std::move(inner), std::make_unique<nn::ReLU>(),
                            std::make_unique<nn::Linear>(3, 1), std::make_unique<nn::Sigmoid>()),
             "sequential_nested");
}
