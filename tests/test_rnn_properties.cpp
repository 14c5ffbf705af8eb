// RNN, GRU, RNNCell and GRUCell (nn/rnn.h) checked against themselves, with no reference values:
//   - gradcheck of each cell, each layer kind, a stack and a packed batch;
//   - metamorphic relations: the reverse direction is a forward layer on the reversed sequence, a
//     packed batch is its sequences run alone, dropout does nothing in eval and acts between
//     layers in training, a swapped-in layer implementation runs every layer and direction.
// tests/test_rnn.cpp compares with PyTorch, tests/test_rnn_usage.cpp has the first steps and the
// errors. Read after nn/rnn.h and tests/test_module.cpp.
#define BOOST_TEST_MODULE rnn_properties
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "support.h"

namespace {

namespace nn = mg::nn;
namespace rnn = mg::nn::utils::rnn;

using test::identical;


// What every gradcheck below sums: output and h_n, flattened into one tensor.
mg::Tensor both(const std::tuple<mg::Tensor, mg::Tensor>& result) {
  const auto& [output, h_n] = result;
  return mg::cat({output.reshape({-1}), h_n.reshape({-1})}, 0);
}

// `inputs` followed by the module's parameters, converted to float64: gradcheck's leaves. The
// function ignores the parameters among its inputs: the module reads the same tensors.
std::vector<mg::Tensor> with_parameters(nn::Module& module, std::vector<mg::Tensor> inputs) {
  module.to(mg::kFloat64);
  for (const mg::Tensor& p : module.parameters()) inputs.push_back(p);
  return inputs;
}

// Copies source's parameters into target's, in order; the two have the same layout.
void copy_parameters(const nn::Module& source, nn::Module& target) {
  const std::vector<mg::Tensor> from = source.parameters();
  std::vector<mg::Tensor> to = target.parameters();
  BOOST_REQUIRE_EQUAL(from.size(), to.size());
  mg::NoGradGuard no_grad;
  for (std::size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
}

// The rows of x (T, ...) in reverse order along dim 0.
mg::Tensor reversed_in_time(const mg::Tensor& x) {
  std::vector<std::int64_t> index;
  for (std::int64_t t = x.size(0); t-- > 0;) index.push_back(t);
  return x.index_select(0, mg::from_vector(index));
}

// Everything written to stderr (file descriptor 2) while `f` runs.
template <class F>
std::string captured_stderr(F&& f) {
  std::fflush(stderr);
  FILE* file = std::tmpfile();
  BOOST_REQUIRE(file != nullptr);
  const int saved = dup(2);
  dup2(fileno(file), 2);
  f();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::rewind(file);
  std::string text;
  for (int c; (c = std::fgetc(file)) != EOF;) text += static_cast<char>(c);
  std::fclose(file);
  return text;
}

}  // namespace

// ---- Gradient checks ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(rnn_cell_gradcheck) {
  // RNNCell(x (B, I) or (I), h (B, H) or (H) = zeros): tanh and relu, with and without bias
  mg::manual_seed(1);
  for (const nn::Nonlinearity f : {nn::kTanh, nn::kReLU}) {
    for (const bool bias : {true, false}) {
      BOOST_TEST_CONTEXT("relu " << (f == nn::kReLU) << ", bias " << bias) {
        nn::RNNCell cell(nn::RNNCellOptions(3, 4).nonlinearity(f).bias(bias));
        const auto step = [&](const std::vector<mg::Tensor>& in) { return cell(in[0], in[1]); };
        test::check_gradients(step,
                              with_parameters(cell, {test::leaf({2, 3}), test::leaf({2, 4})}));
        test::check_gradients(step, with_parameters(cell, {test::leaf({3}), test::leaf({4})}));
        // No h: it starts from zeros. x arrives transposed, a non-contiguous view.
        const auto from_zeros = [&](const std::vector<mg::Tensor>& in) { return cell(in[0].t()); };
        test::check_gradients(from_zeros, with_parameters(cell, {test::leaf({3, 2})}));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(gru_cell_gradcheck) {
  // GRUCell(x (B, I) or (I), h (B, H) or (H) = zeros): with and without bias
  mg::manual_seed(2);
  for (const bool bias : {true, false}) {
    BOOST_TEST_CONTEXT("bias " << bias) {
      nn::GRUCell cell(nn::GRUCellOptions(3, 4).bias(bias));
      const auto step = [&](const std::vector<mg::Tensor>& in) { return cell(in[0], in[1]); };
      test::check_gradients(step, with_parameters(cell, {test::leaf({2, 3}), test::leaf({2, 4})}));
      test::check_gradients(step, with_parameters(cell, {test::leaf({3}), test::leaf({4})}));
      const auto from_zeros = [&](const std::vector<mg::Tensor>& in) { return cell(in[0].t()); };
      test::check_gradients(from_zeros, with_parameters(cell, {test::leaf({3, 2})}));
    }
  }
}

BOOST_AUTO_TEST_CASE(cell_gradcheck_with_input_used_as_state) {
  // GRUCell(x, x) and RNNCell(x, x) with input_size == hidden_size: one tensor used twice
  mg::manual_seed(3);
  nn::GRUCell gru(4, 4);
  nn::RNNCell rnn(4, 4);
  test::check_gradients([&](const auto& in) { return gru(in[0], in[0]); },
                        with_parameters(gru, {test::leaf({2, 4})}));
  test::check_gradients([&](const auto& in) { return rnn(in[0], in[0]); },
                        with_parameters(rnn, {test::leaf({2, 4})}));
}

BOOST_AUTO_TEST_CASE(layer_gradcheck) {
  // RNN (tanh, relu) and GRU, one layer, uni- and bidirectional: forward(x (T, B, I), h0)
  // and forward(x (T, I)) unbatched
  mg::manual_seed(4);
  for (const bool bidirectional : {false, true}) {
    const std::int64_t d = bidirectional ? 2 : 1;
    nn::RNN tanh_rnn(nn::RNNOptions(3, 3).bidirectional(bidirectional));
    nn::RNN relu_rnn(nn::RNNOptions(3, 3).bidirectional(bidirectional).nonlinearity(nn::kReLU));
    nn::GRU gru(nn::GRUOptions(3, 3).bidirectional(bidirectional));
    for (nn::RecurrentBase* layer : std::vector<nn::RecurrentBase*>{&tanh_rnn, &relu_rnn, &gru}) {
      BOOST_TEST_CONTEXT(layer->repr()) {
        const auto run = [&](const auto& in) { return both((*layer)(in[0], in[1])); };
        test::check_gradients(
            run, with_parameters(*layer, {test::leaf({4, 2, 3}), test::leaf({d, 2, 3})}));
        const auto unbatched = [&](const auto& in) { return both((*layer)(in[0])); };
        test::check_gradients(unbatched, with_parameters(*layer, {test::leaf({4, 3})}));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(stack_gradcheck) {
  // RNN and GRU with 2 layers, bidirectional, batch_first: forward(x (B, T, I), h0 (4, B, H)),
  // x and h0 transposed (non-contiguous) views of (T, B, I) and (B, 4, H) leaves
  mg::manual_seed(5);
  nn::RNN rnn(nn::RNNOptions(3, 3).num_layers(2).bidirectional(true).batch_first(true));
  nn::GRU gru(nn::GRUOptions(3, 3).num_layers(2).bidirectional(true).batch_first(true));
  for (nn::RecurrentBase* stack : std::vector<nn::RecurrentBase*>{&rnn, &gru}) {
    BOOST_TEST_CONTEXT(stack->repr()) {
      const auto run = [&](const auto& in) {
        return both((*stack)(in[0].transpose(0, 1), in[1].transpose(0, 1)));
      };
      test::check_gradients(
          run, with_parameters(*stack, {test::leaf({3, 2, 3}), test::leaf({2, 4, 3})}));
    }
  }
}

BOOST_AUTO_TEST_CASE(packed_gradcheck) {
  // RNN (relu, bidirectional) and GRU (2 layers, bidirectional) on pack_padded_sequence(x,
  // lengths out of order, enforce_sorted = false) with h0: packed output data and h_n
  mg::manual_seed(12);
  nn::RNN rnn(nn::RNNOptions(3, 3).bidirectional(true).nonlinearity(nn::kReLU));
  nn::GRU gru(nn::GRUOptions(3, 3).num_layers(2).bidirectional(true));
  const std::vector<std::int64_t> lengths{2, 4, 1};
  for (nn::RecurrentBase* module : std::vector<nn::RecurrentBase*>{&rnn, &gru}) {
    BOOST_TEST_CONTEXT(module->repr()) {
      const std::int64_t states = module == &gru ? 4 : 2;
      const auto run = [&](const auto& in) {
        const auto packed = rnn::pack_padded_sequence(in[0], lengths, false, false);
        const auto [output, h_n] = (*module)(packed, in[1]);
        return mg::cat({output.data().reshape({-1}), h_n.reshape({-1})}, 0);
      };
      test::check_gradients(
          run, with_parameters(*module, {test::leaf({4, 3, 3}), test::leaf({states, 3, 3})}));
    }
  }
}

// ---- Metamorphic relations ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(directions_of_a_bidirectional_gru_are_two_unidirectional_grus) {
  // GRU(bidirectional)(x, h0): output[..., :H] and h_n[0] are a forward GRU with the _l0
  // weights on x; output[..., H:] and h_n[1] a forward GRU with the _l0_reverse weights on x
  // reversed in time, its output reversed back
  mg::manual_seed(6);
  const std::int64_t hidden = 4;
  nn::GRU bi(nn::GRUOptions(3, hidden).bidirectional(true));
  nn::GRU forward_gru(3, hidden), reverse_gru(3, hidden);
  bi.to(mg::kFloat64);
  forward_gru.to(mg::kFloat64);
  reverse_gru.to(mg::kFloat64);
  {
    mg::NoGradGuard no_grad;
    const auto params = bi.named_parameters();  // per direction: w_ih, w_hh, b_ih, b_hh
    std::vector<mg::Tensor> forward_params = forward_gru.parameters();
    std::vector<mg::Tensor> reverse_params = reverse_gru.parameters();
    for (std::size_t i = 0; i < 4; ++i) {
      BOOST_REQUIRE(params[i + 4].first == params[i].first + "_reverse");
      forward_params[i].copy_(params[i].second);
      reverse_params[i].copy_(params[i + 4].second);
    }
  }
  const mg::Tensor x = mg::randn({5, 2, 3}, mg::kFloat64);
  const mg::Tensor h0 = mg::randn({2, 2, hidden}, mg::kFloat64);
  const auto [output, h_n] = bi(x, h0);
  const auto [forward_output, forward_h_n] = forward_gru(x, h0.narrow(0, 0, 1));
  const auto [reverse_output, reverse_h_n] = reverse_gru(reversed_in_time(x), h0.narrow(0, 1, 1));
  test::check_close(output.narrow(2, 0, hidden), forward_output, 1e-12, 1e-12, "forward output");
  test::check_close(h_n.select(0, 0), forward_h_n.select(0, 0), 1e-12, 1e-12, "forward h_n");
  test::check_close(output.narrow(2, hidden, hidden), reversed_in_time(reverse_output), 1e-12,
                    1e-12, "reverse output");
  test::check_close(h_n.select(0, 1), reverse_h_n.select(0, 0), 1e-12, 1e-12, "reverse h_n");
}

BOOST_AUTO_TEST_CASE(packed_batch_equals_each_sequence_alone) {
  // GRU (2 layers, bidirectional) on a packed batch with lengths {2, 5, 3} (unsorted): each
  // sequence's output and h_n are what the module gives for that sequence alone, and the
  // padding after its end is 0
  mg::manual_seed(13);
  const std::int64_t hidden = 4;
  nn::GRU gru(nn::GRUOptions(3, hidden).num_layers(2).bidirectional(true));
  gru.to(mg::kFloat64);
  const std::vector<std::int64_t> lengths{2, 5, 3};
  const mg::Tensor x = mg::randn({5, 3, 3}, mg::kFloat64);
  const mg::Tensor h0 = mg::randn({4, 3, hidden}, mg::kFloat64);
  const auto [packed_output, h_n] = gru(rnn::pack_padded_sequence(x, lengths, false, false), h0);
  const auto [output, output_lengths] = rnn::pad_packed_sequence(packed_output);  // (5, 3, 2H)
  BOOST_CHECK(output_lengths.to_vector<std::int64_t>() == lengths);
  for (std::int64_t b = 0; b < 3; ++b) {
    BOOST_TEST_CONTEXT("sequence " << b) {
      const std::int64_t length = lengths[static_cast<std::size_t>(b)];
      const auto [alone, alone_h_n] =
          gru(x.narrow(0, 0, length).narrow(1, b, 1), h0.narrow(1, b, 1));
      test::check_close(output.narrow(0, 0, length).narrow(1, b, 1), alone, 1e-12, 1e-12, "output");
      test::check_close(h_n.narrow(1, b, 1), alone_h_n, 1e-12, 1e-12, "h_n");
      if (length < 5)
        BOOST_CHECK(identical(output.narrow(0, length, 5 - length).select(1, b),
                              mg::zeros({5 - length, 2 * hidden}, mg::kFloat64)));
    }
  }
}

BOOST_AUTO_TEST_CASE(dropout_with_one_layer_warns_once_per_message) {
  // GRU(GRUOptions(3, 4).dropout(p)) with one layer: PyTorch's UserWarning on stderr, once for
  // each distinct message, as Python shows warnings. The values of p here are used by no other
  // test, so the test holds in any order.
  const std::string expected =
      "UserWarning: dropout option adds dropout after all but last recurrent layer, so non-zero "
      "dropout expects num_layers greater than 1, but got dropout=0.375 and num_layers=1\n";
  const std::string first = captured_stderr([] { nn::GRU gru(nn::GRUOptions(3, 4).dropout(0.375)); });
  BOOST_CHECK_EQUAL(first, expected);
  const std::string again = captured_stderr([] { nn::RNN rnn(nn::RNNOptions(3, 4).dropout(0.375)); });
  BOOST_CHECK_EQUAL(again, "");
  const std::string other = captured_stderr([] { nn::RNN rnn(nn::RNNOptions(3, 4).dropout(0.625)); });
  BOOST_CHECK_EQUAL(other,
                    "UserWarning: dropout option adds dropout after all but last recurrent layer, "
                    "so non-zero dropout expects num_layers greater than 1, but got dropout=0.625 "
                    "and num_layers=1\n");
  const std::string two_layers = captured_stderr(
      [] { nn::GRU gru(nn::GRUOptions(3, 4).num_layers(2).dropout(0.375)); });
  BOOST_CHECK_EQUAL(two_layers, "");
}

BOOST_AUTO_TEST_CASE(dropout_acts_between_layers_in_training_only) {
  // GRU(dropout = 0.5, 2 layers): in eval the same as dropout = 0; in training the output
  // changes from call to call, the first layer's h_n does not; with 1 layer nothing changes
  mg::manual_seed(7);
  nn::GRU with_dropout(nn::GRUOptions(3, 4).num_layers(2).dropout(0.5));
  nn::GRU without(nn::GRUOptions(3, 4).num_layers(2));
  copy_parameters(with_dropout, without);
  const mg::Tensor x = mg::randn({5, 3, 3});
  const auto [reference, reference_h_n] = without(x);
  with_dropout.eval();
  const auto [eval_output, eval_h_n] = with_dropout(x);
  BOOST_CHECK(identical(eval_output, reference));
  BOOST_CHECK(identical(eval_h_n, reference_h_n));

  with_dropout.train();
  const auto [first, first_h_n] = with_dropout(x);
  const auto [second, second_h_n] = with_dropout(x);
  BOOST_CHECK(!identical(first, reference));
  BOOST_CHECK(!identical(first, second));
  BOOST_CHECK(identical(first_h_n.select(0, 0), reference_h_n.select(0, 0)));  // before dropout
  BOOST_CHECK(!identical(first_h_n.select(0, 1), reference_h_n.select(0, 1)));

  // One layer: no layer follows, so dropout has nowhere to act (PyTorch warns about it).
  nn::GRU one_layer(nn::GRUOptions(3, 4).dropout(0.5));
  nn::GRU one_layer_reference(3, 4);
  copy_parameters(one_layer, one_layer_reference);
  BOOST_CHECK(one_layer.is_training());
  BOOST_CHECK(identical(std::get<0>(one_layer(x)), std::get<0>(one_layer_reference(x))));
}

BOOST_AUTO_TEST_CASE(layer_implementation_is_swappable) {
  // set_layer_implementation(layer): the module runs every layer and direction through it
  mg::manual_seed(11);
  // Delegates to the default (fused) layer and counts the calls.
  struct CountingLayer final : nn::RecurrentLayer {
    mutable int calls = 0;
    nn::FusedLayer inner;
    std::pair<mg::Tensor, mg::Tensor> run(nn::CellKind kind, const nn::LayerWeights& w,
                                          const mg::Tensor& data,
                                          const std::vector<std::int64_t>& batch_sizes,
                                          const mg::Tensor& h0, bool reverse) const override {
      ++calls;
      return inner.run(kind, w, data, batch_sizes, h0, reverse);
    }
  };
  nn::GRU gru(nn::GRUOptions(3, 4).num_layers(2).bidirectional(true));
  const mg::Tensor x = mg::randn({5, 2, 3});
  const auto [output, h_n] = gru(x);
  const auto counting = std::make_shared<CountingLayer>();
  gru.set_layer_implementation(counting);
  const auto [counted_output, counted_h_n] = gru(x);
  BOOST_CHECK_EQUAL(counting->calls, 4);  // 2 layers × 2 directions
  BOOST_CHECK(identical(counted_output, output));
  BOOST_CHECK(identical(counted_h_n, h_n));
}
