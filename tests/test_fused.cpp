// The fused recurrent layer (nn/fused_recurrent.h) against the composed one, its reference:
//   - the modules RNN and GRU with the fused layer (the default) and with ComposedLayer agree on
//     every combination of their options: outputs, h_n and every gradient;
//   - gradcheck of FusedLayer::run itself, packed, forward and reverse;
//   - edge cases: one step, one sequence, hidden size 1, a length-1 sequence among long ones,
//     inputs that need no gradient, retain_graph, the version counter, no recording under
//     NoGradGuard, bad arguments;
//   - the float32 σ and tanh of nn/fused_math.h against the double-precision std:: functions.
// tests/test_rnn.cpp runs both layers over the PyTorch fixtures. Read after nn/fused_recurrent.h.
#define BOOST_TEST_MODULE fused
#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <memory>

#include "core/parallel.h"
#include "nn/fused_math.h"
#include "support.h"

namespace {

namespace nn = mg::nn;
namespace rnn = mg::nn::utils::rnn;

// |actual − expected| ≤ rtol·(|expected| + scale), scale = max(1, max |expected|): relative to
// the element, or to the numbers it is computed from for one that comes out small. Inputs,
// weights and upstream gradients are all of order 1 here, so a gradient element of 0.003 is a
// sum of terms of order 1 that cancel, and the two layers may differ by roundings of those terms
// (test_rnn.cpp's parity check uses the same absolute floor).
void check_same(const mg::Tensor& actual, const mg::Tensor& expected, double rtol,
                const std::string& what) {
  const double scale = std::max(1.0, test::finite_max(expected));
  test::check_close(actual, expected, rtol, rtol * scale, what);
}

double tolerance(mg::Dtype dtype) { return dtype == mg::kFloat64 ? 1e-10 : 1e-5; }

// ---- The option grid ----------------------------------------------------------------------------

enum class Form { Dense, Unbatched, Sorted, Unsorted };

struct Options {
  nn::CellKind kind;
  std::int64_t layers;
  bool bidirectional, bias, batch_first;
  Form form;
  bool has_h0;
  double dropout;  // > 0 only with 2 layers; the modules run in eval mode
};

std::string describe(const Options& o) {
  static const char* kinds[] = {"tanh", "relu", "gru"};
  static const char* forms[] = {"dense", "unbatched", "sorted", "unsorted"};
  return fmt::format("{} L={} bi={} bias={} batch_first={} {} h0={} dropout={}",
                     kinds[static_cast<int>(o.kind)], o.layers, o.bidirectional, o.bias,
                     o.batch_first, forms[static_cast<int>(o.form)], o.has_h0, o.dropout);
}

std::unique_ptr<nn::RecurrentBase> make_module(const Options& o) {
  const std::int64_t input = 3, hidden = 4;
  if (o.kind == nn::CellKind::GRU)
    return std::make_unique<nn::GRU>(nn::GRUOptions(input, hidden).num_layers(o.layers)
                                         .bidirectional(o.bidirectional).bias(o.bias)
                                         .batch_first(o.batch_first).dropout(o.dropout));
  return std::make_unique<nn::RNN>(
      nn::RNNOptions(input, hidden).num_layers(o.layers).bidirectional(o.bidirectional)
          .bias(o.bias).batch_first(o.batch_first).dropout(o.dropout)
          .nonlinearity(o.kind == nn::CellKind::RNNTanh ? nn::kTanh : nn::kReLU));
}

// The module's output and h_n for the option's input form; output is the packed data for the
// packed forms.
std::pair<mg::Tensor, mg::Tensor> run_form(nn::RecurrentBase& module, const Options& o,
                                           const mg::Tensor& x, const mg::Tensor& h0) {
  const std::vector<std::int64_t> lengths =
      o.form == Form::Sorted ? std::vector<std::int64_t>{5, 3, 3, 1}
                             : std::vector<std::int64_t>{3, 5, 1, 4};
  if (o.form == Form::Dense || o.form == Form::Unbatched) {
    auto [output, h_n] = module(x, h0);
    return {output, h_n};
  }
  const auto packed = rnn::pack_padded_sequence(x, lengths, o.batch_first, o.form == Form::Sorted);
  auto [output, h_n] = module(packed, h0);
  return {output.data(), h_n};
}

// Runs one option set with both layers in `dtype` and compares everything.
void check_fused_equals_composed(const Options& o, mg::Dtype dtype) {
  const auto fused = make_module(o);
  const auto composed = make_module(o);
  composed->set_layer_implementation(std::make_shared<nn::ComposedLayer>());
  fused->to(dtype);
  composed->to(dtype);
  fused->eval();
  composed->eval();
  {
    mg::NoGradGuard no_grad;
    const auto from = fused->parameters();
    auto to = composed->parameters();
    for (std::size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  }
  const std::int64_t steps = 5, batch = 4, states = o.layers * (o.bidirectional ? 2 : 1);
  const bool unbatched = o.form == Form::Unbatched;
  const mg::Shape x_shape = unbatched ? mg::Shape{steps, 3}
                            : o.batch_first ? mg::Shape{batch, steps, 3}
                                            : mg::Shape{steps, batch, 3};
  const mg::Shape h_shape = unbatched ? mg::Shape{states, 4} : mg::Shape{states, batch, 4};
  const mg::Tensor x_value = mg::randn(x_shape, dtype), h_value = mg::randn(h_shape, dtype);

  // Each layer gets its own leaves with the same values.
  std::vector<mg::Tensor> results, leaves;
  for (nn::RecurrentBase* module : {fused.get(), composed.get()}) {
    const mg::Tensor x = x_value.clone().requires_grad_();
    const mg::Tensor h0 = o.has_h0 ? h_value.clone().requires_grad_() : mg::Tensor();
    const auto [output, h_n] = run_form(*module, o, x, h0);
    results.push_back(output);
    results.push_back(h_n);
    leaves.push_back(x);
    leaves.push_back(h0);
  }
  const double rtol = tolerance(dtype);
  check_same(results[0], results[2], rtol, "output");
  check_same(results[1], results[3], rtol, "h_n");

  // A random upstream gradient for output and h_n, the same for both.
  const mg::Tensor w_output = mg::randn(results[0].shape(), dtype);
  const mg::Tensor w_h_n = mg::randn(results[1].shape(), dtype);
  for (std::size_t k = 0; k < 2; ++k)
    ((results[2 * k] * w_output).sum() + (results[2 * k + 1] * w_h_n).sum()).backward();
  check_same(leaves[0].grad(), leaves[2].grad(), rtol, "grad input");
  if (o.has_h0) check_same(leaves[1].grad(), leaves[3].grad(), rtol, "grad h0");
  const auto fused_params = fused->named_parameters();
  const auto composed_params = composed->named_parameters();
  for (std::size_t i = 0; i < fused_params.size(); ++i)
    check_same(fused_params[i].second.grad(), composed_params[i].second.grad(), rtol,
               "grad " + fused_params[i].first);
}

// ---- Direct runs of one layer -------------------------------------------------------------------

// Float64 leaves for one layer's weights, N(0, scale²).
nn::LayerWeights leaf_weights(nn::CellKind kind, std::int64_t input, std::int64_t hidden,
                              bool bias, double scale = 1.0) {
  const std::int64_t rows = nn::gate_count(kind) * hidden;
  const auto leaf = [scale](const mg::Shape& shape) {
    return (mg::randn(shape, mg::kFloat64) * scale).requires_grad_();
  };
  nn::LayerWeights w{leaf({rows, input}), leaf({rows, hidden}), {}, {}};
  if (bias) {
    w.b_ih = leaf({rows});
    w.b_hh = leaf({rows});
  }
  return w;
}

std::int64_t total(const std::vector<std::int64_t>& batch_sizes) {
  std::int64_t n = 0;
  for (std::int64_t b : batch_sizes) n += b;
  return n;
}

// FusedLayer and ComposedLayer on the same leaves: output, h_n and the gradient of every leaf
// for random upstream gradients, within 1e-10 (float64).
void check_layers_agree(nn::CellKind kind, std::int64_t input, std::int64_t hidden,
                        const std::vector<std::int64_t>& batch_sizes, bool reverse, bool bias,
                        double weight_scale = 1.0) {
  const nn::LayerWeights w = leaf_weights(kind, input, hidden, bias, weight_scale);
  const mg::Tensor x = test::leaf({total(batch_sizes), input});
  const mg::Tensor h0 = test::leaf({batch_sizes[0], hidden});
  const std::vector<mg::Tensor> inputs{x, h0, w.w_ih, w.w_hh, w.b_ih, w.b_hh};
  std::vector<std::vector<mg::Tensor>> grads(2);
  std::vector<std::pair<mg::Tensor, mg::Tensor>> results;
  const mg::Tensor w_output = mg::randn({x.size(0), hidden}, mg::kFloat64);
  const mg::Tensor w_h_n = mg::randn({batch_sizes[0], hidden}, mg::kFloat64);
  const nn::FusedLayer fused;
  const nn::ComposedLayer composed;
  const std::vector<const nn::RecurrentLayer*> layers{&fused, &composed};
  for (std::size_t k = 0; k < 2; ++k) {
    for (mg::Tensor t : inputs)  // a handle: clears the leaf's own grad
      if (t.defined()) t.set_grad(mg::Tensor());
    const auto result = layers[k]->run(kind, w, x, batch_sizes, h0, reverse);
    ((result.first * w_output).sum() + (result.second * w_h_n).sum()).backward();
    results.push_back(result);
    for (const mg::Tensor& t : inputs) grads[k].push_back(t.defined() ? t.grad() : mg::Tensor());
  }
  check_same(results[0].first, results[1].first, 1e-10, "output");
  check_same(results[0].second, results[1].second, 1e-10, "h_n");
  const char* names[] = {"x", "h0", "w_ih", "w_hh", "b_ih", "b_hh"};
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined()) check_same(grads[0][i], grads[1][i], 1e-10, names[i]);
}

}  // namespace

// ---- Fused equals composed ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(fused_equals_composed_on_every_option) {
  // RNN/GRU forward(input, h0) and backward with FusedLayer (the default) and ComposedLayer: the
  // full product kind (tanh, relu, gru) × layers (1, 2) × bidirectional × bias × batch_first ×
  // input form (dense, unbatched, packed sorted, packed unsorted) × h0 given or not, plus every
  // 2-layer combination again with dropout 0.5 in eval mode: 576 configurations, each in float64
  // (within 1e-10) and float32 (within 1e-5). The sizes are small (T = 5, B = 4, I = 3, H = 4),
  // so the whole product runs in seconds and no pairwise selection is needed.
  mg::manual_seed(20);
  int configurations = 0;
  for (const nn::CellKind kind : {nn::CellKind::RNNTanh, nn::CellKind::RNNReLU, nn::CellKind::GRU})
    for (const std::int64_t layers : {1, 2})
      for (const double dropout : {0.0, 0.5}) {
        if (dropout > 0 && layers == 1) continue;
        for (const bool bidirectional : {false, true})
          for (const bool bias : {false, true})
            for (const bool batch_first : {false, true})
              for (const Form form : {Form::Dense, Form::Unbatched, Form::Sorted, Form::Unsorted})
                for (const bool has_h0 : {false, true}) {
                  const Options o{kind, layers, bidirectional, bias, batch_first, form, has_h0,
                                  dropout};
                  for (const mg::Dtype dtype : {mg::kFloat64, mg::kFloat32})
                    BOOST_TEST_CONTEXT(describe(o) << " " << mg::dtype_name(dtype)) {
                      check_fused_equals_composed(o, dtype);
                    }
                  ++configurations;
                }
      }
  BOOST_CHECK_EQUAL(configurations, 576);
}

// ---- The scan split over threads ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(groups_of_sequences_on_two_threads_agree_with_composed) {
  // With two threads and enough work, the fused layer scans the batch as two groups of sequences,
  // one per thread (nn/fused_recurrent.cpp, sequence_groups). Here: 16 packed sequences of 20 to
  // 80 steps, I = 8, H = 64, forward and reverse, every kind, with and without bias, in float64:
  // the same outputs and gradients as the composed layer within 1e-10, and as the fused layer on
  // one thread. The cut between the groups falls inside the batch, so rows on both sides of it
  // start, continue and end at different steps.
  const int before = mg::get_num_threads();
  mg::set_num_threads(2);
  mg::manual_seed(31);
  std::vector<std::int64_t> lengths;  // sorted longest first, as packing leaves them
  for (std::int64_t i = 0; i < 16; ++i) lengths.push_back(80 - (i * 37) % 64);
  std::sort(lengths.rbegin(), lengths.rend());
  std::vector<std::int64_t> batch_sizes(static_cast<std::size_t>(lengths[0]), 0);
  for (std::int64_t length : lengths)
    for (std::int64_t t = 0; t < length; ++t) ++batch_sizes[static_cast<std::size_t>(t)];
  const std::int64_t input = 8, hidden = 64, tokens = total(batch_sizes);
  // Weights of PyTorch's scale, 1/√H: with N(0, 1) weights a 64-unit recurrence over 80 steps is
  // chaotic, and any two roundings, however equal the math, drift apart.
  const double weight_scale = 1.0 / std::sqrt(static_cast<double>(hidden));
  // The split really happens: the layer's scan work is worth two threads (4·N·G·H·H FLOPs
  // against the 4 MFLOP grain), even for the RNN (G = 1).
  BOOST_REQUIRE_EQUAL(mg::parts_for(4.0 * static_cast<double>(tokens * hidden * hidden), 4e6), 2);
  for (const nn::CellKind kind : {nn::CellKind::RNNTanh, nn::CellKind::RNNReLU, nn::CellKind::GRU})
    for (const bool reverse : {false, true})
      for (const bool bias : {false, true})
        BOOST_TEST_CONTEXT("kind " << static_cast<int>(kind) << " reverse " << reverse << " bias "
                                   << bias) {
          check_layers_agree(kind, input, hidden, batch_sizes, reverse, bias, weight_scale);
          // And the same layer on one thread, one group: the same numbers within 1e-12.
          const nn::LayerWeights w = leaf_weights(kind, input, hidden, bias, weight_scale);
          const mg::Tensor x = test::leaf({tokens, input}), h0 = test::leaf({16, hidden});
          const std::vector<mg::Tensor> leaves{x, h0, w.w_ih, w.w_hh};
          const nn::FusedLayer fused;
          std::vector<std::pair<mg::Tensor, mg::Tensor>> results;
          std::vector<std::vector<mg::Tensor>> grads;
          for (const int threads : {1, 2}) {
            mg::set_num_threads(threads);
            for (mg::Tensor leaf : leaves) leaf.set_grad(mg::Tensor());  // a handle to the leaf
            const auto result = fused.run(kind, w, x, batch_sizes, h0, reverse);
            (result.first.sum() + (result.second * result.second).sum()).backward();
            results.push_back(result);
            grads.emplace_back();
            for (const mg::Tensor& leaf : leaves) grads.back().push_back(leaf.grad());
          }
          check_same(results[1].first, results[0].first, 1e-12, "output, 2 threads against 1");
          check_same(results[1].second, results[0].second, 1e-12, "h_n, 2 threads against 1");
          for (std::size_t i = 0; i < leaves.size(); ++i)
            check_same(grads[1][i], grads[0][i], 1e-12, "a gradient, 2 threads against 1");
        }
  mg::set_num_threads(before);
}

// ---- Gradient checks ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(fused_layer_gradcheck) {
  // FusedLayer::run(kind, w, data (8, 3), batch_sizes {3, 2, 2, 1}, h0 (3, 3), reverse) for every
  // kind, both directions, with and without bias; h0 is computed from data itself through a
  // Linear (rows 0..2 of data, transposed twice: a non-contiguous view), so one tensor reaches
  // the node along two paths
  mg::manual_seed(21);
  const std::vector<std::int64_t> batch_sizes{3, 2, 2, 1};
  nn::Linear to_state(3, 3);
  to_state.to(mg::kFloat64);
  const nn::FusedLayer layer;
  for (const nn::CellKind kind : {nn::CellKind::RNNTanh, nn::CellKind::RNNReLU, nn::CellKind::GRU})
    for (const bool reverse : {false, true})
      for (const bool bias : {false, true}) {
        BOOST_TEST_CONTEXT("kind " << static_cast<int>(kind) << " reverse " << reverse << " bias "
                                   << bias) {
          const nn::LayerWeights w = leaf_weights(kind, 3, 3, bias);
          std::vector<mg::Tensor> inputs{test::leaf({8, 3}), w.w_ih, w.w_hh};
          if (bias) {
            inputs.push_back(w.b_ih);
            inputs.push_back(w.b_hh);
          }
          for (const mg::Tensor& p : to_state.parameters()) inputs.push_back(p);
          const auto run = [&](const std::vector<mg::Tensor>& in) {
            // ReLU: data shifted so that no pre-activation sits at the kink.
            const mg::Tensor data = kind == nn::CellKind::RNNReLU ? in[0] + 0.5 : in[0];
            const mg::Tensor h0 = to_state(in[0].narrow(0, 0, 3).t().t());
            const nn::LayerWeights lw{in[1], in[2], bias ? in[3] : mg::Tensor(),
                                      bias ? in[4] : mg::Tensor()};
            const auto [output, h_n] = layer.run(kind, lw, data, batch_sizes, h0, reverse);
            return mg::cat({output.reshape({-1}), h_n.reshape({-1})}, 0);
          };
          test::check_gradients(run, inputs);
        }
      }
}

// ---- Edge cases ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(edge_shapes_agree_with_composed) {
  // FusedLayer::run against ComposedLayer::run, every kind, both directions, with and without
  // bias, on: T = 1; a single sequence; hidden size 1; a length-1 sequence among long ones
  // (lengths 5, 4, 1: batch_sizes {3, 2, 2, 2, 1}); a dense batch; input size 1
  mg::manual_seed(22);
  struct Shape {
    std::int64_t input, hidden;
    std::vector<std::int64_t> batch_sizes;
  };
  const std::vector<Shape> shapes{{3, 4, {3}},          {3, 4, {1, 1, 1, 1}},
                                  {2, 1, {3, 2, 1}},    {3, 4, {3, 2, 2, 2, 1}},
                                  {3, 2, {2, 2, 2}},    {1, 3, {2, 1}}};
  for (const Shape& shape : shapes)
    for (const nn::CellKind kind :
         {nn::CellKind::RNNTanh, nn::CellKind::RNNReLU, nn::CellKind::GRU})
      for (const bool reverse : {false, true})
        for (const bool bias : {false, true})
          BOOST_TEST_CONTEXT("I " << shape.input << " H " << shape.hidden << " steps "
                                  << shape.batch_sizes.size() << " kind "
                                  << static_cast<int>(kind) << " reverse " << reverse << " bias "
                                  << bias) {
            check_layers_agree(kind, shape.input, shape.hidden, shape.batch_sizes, reverse, bias);
          }
}

BOOST_AUTO_TEST_CASE(only_the_gradients_needed_are_computed) {
  // FusedLayer::run with data and h0 constants and the weights leaves (and the reverse: data and
  // h0 leaves, the weights constants): the leaves' gradients equal the composed layer's, the
  // constants get none
  mg::manual_seed(27);
  const std::vector<std::int64_t> batch_sizes{3, 3, 2, 1};
  for (const nn::CellKind kind : {nn::CellKind::RNNTanh, nn::CellKind::GRU})
    for (const bool weights_learn : {true, false}) {
      BOOST_TEST_CONTEXT("kind " << static_cast<int>(kind) << " weights_learn " << weights_learn) {
        nn::LayerWeights w = leaf_weights(kind, 3, 4, true);
        mg::Tensor x = mg::randn({9, 3}, mg::kFloat64), h0 = mg::randn({3, 4}, mg::kFloat64);
        std::vector<mg::Tensor> learned{w.w_ih, w.w_hh, w.b_ih, w.b_hh}, fixed{x, h0};
        if (!weights_learn) std::swap(learned, fixed);
        for (mg::Tensor t : learned) t.requires_grad_(true);
        for (mg::Tensor t : fixed) t.requires_grad_(false);
        const mg::Tensor w_output = mg::randn({9, 4}, mg::kFloat64);
        std::vector<mg::Tensor> expected;
        const nn::ComposedLayer composed;
        const nn::FusedLayer fused;
        for (const nn::RecurrentLayer* layer :
             std::vector<const nn::RecurrentLayer*>{&composed, &fused}) {
          for (mg::Tensor t : learned) t.set_grad(mg::Tensor());
          const auto [output, h_n] = layer->run(kind, w, x, batch_sizes, h0, true);
          ((output * w_output).sum() + h_n.sum()).backward();
          if (expected.empty())
            for (const mg::Tensor& t : learned) expected.push_back(t.grad());
        }
        for (std::size_t i = 0; i < learned.size(); ++i)
          check_same(learned[i].grad(), expected[i], 1e-10, "learned " + std::to_string(i));
        for (const mg::Tensor& t : fixed) BOOST_CHECK(!t.grad().defined());
      }
    }
}

BOOST_AUTO_TEST_CASE(one_node_per_layer_and_direction) {
  // FusedLayer::run records one node, shared by output and h_n, named after the cell
  mg::manual_seed(23);
  const nn::FusedLayer layer;
  const nn::LayerWeights w = leaf_weights(nn::CellKind::GRU, 3, 4, true);
  const auto [output, h_n] = layer.run(nn::CellKind::GRU, w, test::leaf({6, 3}), {2, 2, 2},
                                       test::leaf({2, 4}), false);
  BOOST_REQUIRE(output.grad_fn());
  BOOST_CHECK(output.grad_fn() == h_n.grad_fn());
  BOOST_CHECK_EQUAL(output.grad_fn()->name(), "FusedGRUBackward");
  BOOST_CHECK_EQUAL(output.grad_fn()->next_edges.size(), 6u);
  const nn::LayerWeights v = leaf_weights(nn::CellKind::RNNReLU, 3, 4, false);
  const auto [relu_output, relu_h_n] = layer.run(nn::CellKind::RNNReLU, v, test::leaf({6, 3}),
                                                 {2, 2, 2}, test::leaf({2, 4}), true);
  BOOST_CHECK_EQUAL(relu_output.grad_fn()->name(), "FusedRNNReLUBackward");
}

BOOST_AUTO_TEST_CASE(retain_graph_runs_backward_twice) {
  // backward(retain_graph = true) through the fused node, then again: every gradient doubles
  mg::manual_seed(24);
  for (const nn::CellKind kind : {nn::CellKind::RNNTanh, nn::CellKind::GRU}) {
    nn::GRU gru(nn::GRUOptions(3, 4).num_layers(2).bidirectional(true));
    nn::RNN rnn(nn::RNNOptions(3, 4).num_layers(2).bidirectional(true));
    nn::RecurrentBase& module = kind == nn::CellKind::GRU ? static_cast<nn::RecurrentBase&>(gru)
                                                          : static_cast<nn::RecurrentBase&>(rnn);
    const mg::Tensor x = mg::randn({5, 2, 3}).requires_grad_();
    const auto [output, h_n] = module(x);
    const mg::Tensor loss = (output * mg::randn(output.shape())).sum() + h_n.sum();
    loss.backward(mg::Tensor(), /*retain_graph=*/true);
    const mg::Tensor first_x = x.grad().clone();
    std::vector<mg::Tensor> first;
    for (const mg::Tensor& p : module.parameters()) first.push_back(p.grad().clone());
    loss.backward();
    test::check_close(x.grad(), first_x * 2, 0, 0, "grad x");
    for (std::size_t i = 0; i < first.size(); ++i)
      test::check_close(module.parameters()[i].grad(), first[i] * 2, 0, 0, "grad parameter");
    test::check_error([&] { loss.backward(); },
                      "Trying to backward through the graph a second time");
  }
}

BOOST_AUTO_TEST_CASE(saved_tensor_changed_in_place_is_an_error) {
  // GRU forward on x, x changed in place before backward: the version counter refuses, since
  // dW_ih = dGiᵀ·X needs the X the forward saw
  mg::manual_seed(25);
  nn::GRU gru(3, 4);
  mg::Tensor x = mg::randn({5, 2, 3});
  const auto [output, h_n] = gru(x);
  x.fill_(1.0);
  test::check_error([&] { output.sum().backward(); },
                    "one of the variables needed for gradient computation has been modified by an "
                    "inplace operation");
}

BOOST_AUTO_TEST_CASE(no_grad_forward_records_nothing) {
  // Under NoGradGuard, and when nothing requires grad, the fused layer records no node and keeps
  // no reference to its inputs; the values are those of the recording forward
  mg::manual_seed(26);
  nn::GRU gru(nn::GRUOptions(3, 4).num_layers(2));
  const mg::Tensor x = mg::randn({5, 2, 3});
  const auto [recorded, recorded_h_n] = gru(x);
  BOOST_CHECK(recorded.grad_fn() != nullptr);
  const long before = x.impl()->storage.use_count();
  {
    mg::NoGradGuard no_grad;
    const auto [output, h_n] = gru(x);
    BOOST_CHECK(output.grad_fn() == nullptr && h_n.grad_fn() == nullptr);
    BOOST_CHECK(!output.requires_grad());
    BOOST_CHECK_EQUAL(x.impl()->storage.use_count(), before);
    test::check_close(output, recorded, 0, 0, "output");
    test::check_close(h_n, recorded_h_n, 0, 0, "h_n");
  }
  const nn::FusedLayer layer;
  const nn::LayerWeights w{mg::randn({12, 3}), mg::randn({12, 4}), {}, {}};
  const auto [output, h_n] = layer.run(nn::CellKind::GRU, w, x.reshape({10, 3}),
                                       {2, 2, 2, 2, 2}, mg::zeros({2, 4}), false);
  BOOST_CHECK(output.grad_fn() == nullptr && h_n.grad_fn() == nullptr);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused) {
  // FusedLayer::run with shapes, batch sizes or dtypes that do not fit
  const nn::FusedLayer layer;
  const nn::LayerWeights w{mg::randn({12, 3}), mg::randn({12, 4}), mg::randn({12}),
                           mg::randn({12})};
  const mg::Tensor x = mg::randn({6, 3}), h0 = mg::zeros({2, 4});
  const auto run = [&](const nn::LayerWeights& weights, const mg::Tensor& data,
                       const std::vector<std::int64_t>& sizes, const mg::Tensor& h) {
    return [&, weights, data, sizes, h] {
      layer.run(nn::CellKind::GRU, weights, data, sizes, h, false);
    };
  };
  test::check_error(run(w, x, {2, 3, 1}, h0),
                    "batch_sizes must be non-negative and non-increasing");
  test::check_error(run(w, x, {2, 2}, h0), "batch_sizes sum to 4 but data has 6 rows");
  test::check_error(run(w, x, {}, h0), "expected at least one step");
  test::check_error(run(w, x, {2, 2, 2}, mg::zeros({3, 4})), "expected h0 of shape (2, 4)");
  test::check_error(run(w, mg::randn({6, 2}), {2, 2, 2}, h0), "expected w_ih of shape (12, 2)");
  test::check_error(run({w.w_ih, mg::randn({12, 3}), {}, {}}, x, {2, 2, 2}, h0),
                    "expected w_hh of shape (3·H, H)");
  test::check_error(run({w.w_ih, w.w_hh, w.b_ih, {}}, x, {2, 2, 2}, h0), "both biases or neither");
  test::check_error(run(w, x.to(mg::kFloat64), {2, 2, 2}, h0), "of one dtype");
}

// ---- The float32 activations --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(float32_activations_are_within_three_ulps) {
  // fused_math::sigmoid(float), fused_math::tanh(float) against 1/(1 + e^−x) and tanh in double
  // over every 4099th float of magnitude up to 200 (about a million), with relative error below
  // 3·2^−24 (1.8e-7, under 3 float32 ulps) where the result is a normal float, and below FLT_MIN
  // in absolute terms where it is not; and the special values
  namespace fm = nn::fused_math;
  const double unit = std::numeric_limits<float>::epsilon() / 2;  // 2^−24, relative
  const double tiny = std::numeric_limits<float>::min();
  double worst_sigmoid = 0, worst_tanh = 0;
  int checked = 0;
  for (std::uint64_t bits = 0; bits <= 0xffffffffu; bits += 4099) {
    const float x = std::bit_cast<float>(static_cast<std::uint32_t>(bits));
    if (!std::isfinite(x) || std::abs(x) > 200) continue;
    ++checked;
    const double s = 1 / (1 + std::exp(-static_cast<double>(x)));
    const double t = std::tanh(static_cast<double>(x));
    const double ds = std::abs(fm::sigmoid(x) - s), dt = std::abs(fm::tanh(x) - t);
    if (s >= tiny) worst_sigmoid = std::max(worst_sigmoid, ds / s / unit);
    else BOOST_CHECK_MESSAGE(ds < tiny, "sigmoid(" << x << ") is off by " << ds);
    if (std::abs(t) >= tiny) worst_tanh = std::max(worst_tanh, dt / std::abs(t) / unit);
    else BOOST_CHECK_MESSAGE(dt < tiny, "tanh(" << x << ") is off by " << dt);
  }
  BOOST_CHECK_GT(checked, 500000);
  BOOST_CHECK_MESSAGE(worst_sigmoid < 3, "sigmoid: " << worst_sigmoid << "·2^−24");
  BOOST_CHECK_MESSAGE(worst_tanh < 3, "tanh: " << worst_tanh << "·2^−24");

  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  BOOST_CHECK_EQUAL(fm::sigmoid(inf), 1.0f);
  BOOST_CHECK_EQUAL(fm::sigmoid(-inf), 0.0f);
  BOOST_CHECK_EQUAL(fm::sigmoid(1e30f), 1.0f);
  BOOST_CHECK_EQUAL(fm::sigmoid(-1e30f), 0.0f);
  BOOST_CHECK_EQUAL(fm::sigmoid(0.0f), 0.5f);
  BOOST_CHECK(std::isnan(fm::sigmoid(nan)));
  BOOST_CHECK_EQUAL(fm::tanh(inf), 1.0f);
  BOOST_CHECK_EQUAL(fm::tanh(-inf), -1.0f);
  BOOST_CHECK_EQUAL(fm::tanh(1e30f), 1.0f);
  BOOST_CHECK_EQUAL(fm::tanh(-1e30f), -1.0f);
  BOOST_CHECK(std::isnan(fm::tanh(nan)));
  BOOST_CHECK(fm::tanh(0.0f) == 0.0f && !std::signbit(fm::tanh(0.0f)));
  BOOST_CHECK(fm::tanh(-0.0f) == 0.0f && std::signbit(fm::tanh(-0.0f)));
  BOOST_CHECK_EQUAL(fm::tanh(1e-30f), 1e-30f);  // tanh x = x to float precision for tiny x
  const float subnormal = std::numeric_limits<float>::denorm_min() * 1000;
  BOOST_CHECK_LE(std::abs(fm::tanh(subnormal) - subnormal), tiny);
}
