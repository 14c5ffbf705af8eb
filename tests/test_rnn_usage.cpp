// RNN, GRU, RNNCell and GRUCell (nn/rnn.h) as a newcomer meets them:
//   - the behaviours tried first (shapes, batch_first, h0, layers, the last output, padding and
//     packing), one test each;
//   - every error, in PyTorch's words, and that none leaves a module or a tensor changed.
// tests/test_rnn.cpp compares with PyTorch, tests/test_rnn_properties.cpp checks gradients and
// metamorphic relations. Read after nn/rnn.h and tests/test_module.cpp.
#define BOOST_TEST_MODULE rnn_usage
#include <cmath>
#include <vector>

#include "support.h"

namespace {

namespace nn = mg::nn;
namespace rnn = mg::nn::utils::rnn;

using test::identical;


// Copies of every parameter, to show that a failed call changed none of them.
std::vector<mg::Tensor> snapshot(const nn::Module& module) {
  std::vector<mg::Tensor> copies;
  for (const mg::Tensor& p : module.parameters()) copies.push_back(p.detach().clone());
  return copies;
}

void check_unchanged(const nn::Module& module, const std::vector<mg::Tensor>& before) {
  const std::vector<mg::Tensor> now = module.parameters();
  BOOST_REQUIRE_EQUAL(now.size(), before.size());
  for (std::size_t i = 0; i < now.size(); ++i) {
    BOOST_CHECK_MESSAGE(identical(now[i], before[i]), "parameter " << i << " changed");
    BOOST_CHECK_MESSAGE(!now[i].grad().defined(), "parameter " << i << " has a gradient");
    BOOST_CHECK(now[i].requires_grad());
  }
}

// check_error, and that neither the module nor the given tensors changed.
template <class F>
void check_error_changes_nothing(const nn::Module& module, const std::vector<mg::Tensor>& tensors,
                                 F&& statement, const std::string& fragment) {
  const std::vector<mg::Tensor> parameters = snapshot(module);
  std::vector<mg::Tensor> copies;
  for (const mg::Tensor& t : tensors) copies.push_back(t.detach().clone());
  const bool training = module.is_training();
  test::check_error(statement, fragment);
  check_unchanged(module, parameters);
  BOOST_CHECK_EQUAL(module.is_training(), training);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    BOOST_CHECK_MESSAGE(identical(tensors[i], copies[i]), "tensor " << i << " changed");
    BOOST_CHECK_MESSAGE(!tensors[i].grad().defined(), "tensor " << i << " has a gradient");
  }
}

}  // namespace

// ---- What a newcomer tries first ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(gru_10_20_on_5_3_10) {
  // GRU(10, 20)(x (5, 3, 10)) -> output (5, 3, 20), h_n (1, 3, 20)
  nn::GRU gru(10, 20);
  const auto [output, h_n] = gru(mg::randn({5, 3, 10}));
  BOOST_CHECK(output.shape() == (mg::Shape{5, 3, 20}));
  BOOST_CHECK(h_n.shape() == (mg::Shape{1, 3, 20}));
}

BOOST_AUTO_TEST_CASE(batch_first_input_4_7_5) {
  // GRU(GRUOptions(5, 3).batch_first(true))(x (4, 7, 5)) -> output (4, 7, 3); h_n stays
  // (1, 4, 3): batch is never first for hidden states
  nn::GRU gru(nn::GRUOptions(5, 3).batch_first(true));
  const auto [output, h_n] = gru(mg::randn({4, 7, 5}));
  BOOST_CHECK(output.shape() == (mg::Shape{4, 7, 3}));
  BOOST_CHECK(h_n.shape() == (mg::Shape{1, 4, 3}));
}

BOOST_AUTO_TEST_CASE(time_major_by_default) {
  // RNN(8, 6)(x (5, 10, 8)) is 5 steps of a batch of 10: output (5, 10, 6), h_n (1, 10, 6), and
  // changing step 4 changes no output before it, while changing sequence 9 changes no other
  mg::manual_seed(8);
  nn::RNN rnn(8, 6);
  const mg::Tensor x = mg::randn({5, 10, 8});
  const auto [output, h_n] = rnn(x);
  BOOST_CHECK(output.shape() == (mg::Shape{5, 10, 6}));
  BOOST_CHECK(h_n.shape() == (mg::Shape{1, 10, 6}));

  mg::Tensor later = x.clone();
  later.select(0, 4).fill_(3.0);
  const mg::Tensor changed_step = std::get<0>(rnn(later));
  BOOST_CHECK(identical(changed_step.narrow(0, 0, 4), output.narrow(0, 0, 4)));
  BOOST_CHECK(!identical(changed_step.select(0, 4), output.select(0, 4)));

  mg::Tensor other = x.clone();
  other.select(1, 9).fill_(3.0);
  const mg::Tensor changed_sequence = std::get<0>(rnn(other));
  BOOST_CHECK(identical(changed_sequence.narrow(1, 0, 9), output.narrow(1, 0, 9)));
  BOOST_CHECK(!identical(changed_sequence.select(1, 9), output.select(1, 9)));
}

BOOST_AUTO_TEST_CASE(input_of_the_wrong_size_is_an_error) {
  // GRU(8, 20)(x (5, 3, 10)) throws, in PyTorch's words
  nn::GRU gru(8, 20);
  test::check_error([&] { gru(mg::randn({5, 3, 10})); },
                    "input.size(-1) must be equal to input_size. Expected 8, got 10");
}

BOOST_AUTO_TEST_CASE(zero_h0_is_the_default) {
  // GRU(10, 20)(x (5, 3, 10), zeros(1, 3, 20)) works and equals leaving h0 out
  mg::manual_seed(9);
  nn::GRU gru(10, 20);
  const mg::Tensor x = mg::randn({5, 3, 10});
  const auto [output, h_n] = gru(x, mg::zeros({1, 3, 20}));
  const auto [default_output, default_h_n] = gru(x);
  BOOST_CHECK(identical(output, default_output));
  BOOST_CHECK(identical(h_n, default_h_n));
}

BOOST_AUTO_TEST_CASE(two_layers_batch_first) {
  // GRU(GRUOptions(10, 20).num_layers(2).batch_first(true))(x (3, 5, 10)) -> output
  // (3, 5, 20), h_n (2, 3, 20); the output is the last layer's, so it ends in h_n[1]
  nn::GRU gru(nn::GRUOptions(10, 20).num_layers(2).batch_first(true));
  const auto [output, h_n] = gru(mg::randn({3, 5, 10}));
  BOOST_CHECK(output.shape() == (mg::Shape{3, 5, 20}));
  BOOST_CHECK(h_n.shape() == (mg::Shape{2, 3, 20}));
  BOOST_CHECK(identical(output.select(1, -1), h_n.select(0, 1)));
  BOOST_CHECK(!identical(h_n.select(0, 0), h_n.select(0, 1)));
}

BOOST_AUTO_TEST_CASE(last_output_is_last_hidden_state) {
  // output[:, -1, :] (batch_first) is (batch, hidden) and equals h_n[-1], for RNN and GRU
  nn::RNN rnn(nn::RNNOptions(5, 7).batch_first(true));
  nn::GRU gru(nn::GRUOptions(5, 7).batch_first(true));
  const mg::Tensor x = mg::randn({4, 6, 5});
  for (nn::RecurrentBase* module : std::vector<nn::RecurrentBase*>{&rnn, &gru}) {
    const auto [output, h_n] = (*module)(x);
    const mg::Tensor last = output.select(1, -1);
    BOOST_CHECK(last.shape() == (mg::Shape{4, 7}));
    BOOST_CHECK(identical(last, h_n.select(0, -1)));
  }
}

BOOST_AUTO_TEST_CASE(padding_and_packing_sequences_of_different_lengths) {
  // pad_sequence({a (4, 5), b (2, 5), c (3, 5)}, batch_first), pack_padded_sequence(padded,
  // {4, 2, 3}, batch_first, enforce_sorted = false), gru(packed), pad_packed_sequence: output
  // (3, 4, 7) with each sequence's last output equal to its h_n, zeros after its end
  mg::manual_seed(14);
  nn::GRU gru(nn::GRUOptions(5, 7).batch_first(true));
  const std::vector<std::int64_t> lengths{4, 2, 3};
  std::vector<mg::Tensor> sequences;
  for (std::int64_t length : lengths) sequences.push_back(mg::randn({length, 5}));
  const mg::Tensor padded = rnn::pad_sequence(sequences, /*batch_first=*/true);  // (3, 4, 5)
  BOOST_CHECK(padded.shape() == (mg::Shape{3, 4, 5}));
  const auto packed = rnn::pack_padded_sequence(padded, lengths, true, false);
  const auto [packed_output, h_n] = gru(packed);
  BOOST_CHECK(h_n.shape() == (mg::Shape{1, 3, 7}));
  const auto [output, output_lengths] = rnn::pad_packed_sequence(packed_output, true);
  BOOST_CHECK(output.shape() == (mg::Shape{3, 4, 7}));
  BOOST_CHECK(output_lengths.to_vector<std::int64_t>() == lengths);
  for (std::int64_t b = 0; b < 3; ++b) {
    const std::int64_t length = lengths[static_cast<std::size_t>(b)];
    BOOST_CHECK(identical(output.select(0, b).select(0, length - 1),
                          h_n.select(0, 0).select(0, b)));
    if (length < 4)
      BOOST_CHECK(identical(output.select(0, b).narrow(0, length, 4 - length),
                            mg::zeros({4 - length, 7})));
  }
}

BOOST_AUTO_TEST_CASE(empty_batch_and_empty_features_work_as_in_pytorch) {
  // GRU(10, 20)(x (5, 0, 10)) -> output (5, 0, 20), h_n (1, 0, 20); GRU(0, 20) on (5, 2, 0)
  // runs on the biases alone; GRUCell(10, 20)(x (0, 10)) -> (0, 20)
  nn::GRU gru(10, 20);
  const auto [output, h_n] = gru(mg::randn({5, 0, 10}));
  BOOST_CHECK(output.shape() == (mg::Shape{5, 0, 20}));
  BOOST_CHECK(h_n.shape() == (mg::Shape{1, 0, 20}));
  nn::GRU featureless(0, 20);
  const auto [bias_output, bias_h_n] = featureless(mg::randn({5, 2, 0}));
  BOOST_CHECK(bias_output.shape() == (mg::Shape{5, 2, 20}));
  BOOST_CHECK(identical(bias_output.select(1, 0), bias_output.select(1, 1)));  // same input: none
  nn::GRUCell cell(10, 20);
  BOOST_CHECK(cell(mg::randn({0, 10})).shape() == (mg::Shape{0, 20}));
}

// ---- Errors -------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(sequence_module_errors_change_nothing) {
  // RNN/GRU forward(input, h0) with a bad input or h0: PyTorch's message, nothing changed
  nn::GRU gru(10, 20);
  nn::RNN rnn(nn::RNNOptions(10, 20).num_layers(2).batch_first(true).nonlinearity(nn::kReLU));
  const mg::Tensor x = mg::randn({5, 3, 10}).requires_grad_();
  const mg::Tensor h0 = mg::zeros({1, 3, 20}).requires_grad_();
  const auto check = [&](nn::RecurrentBase& m, const std::vector<mg::Tensor>& inputs,
                         const std::string& fragment) {
    const mg::Tensor hx = inputs.size() > 1 ? inputs[1] : mg::Tensor();
    check_error_changes_nothing(m, inputs, [&] { m(inputs[0], hx); }, fragment);
  };
  check(gru, {mg::randn({5, 3, 8})},
        "input.size(-1) must be equal to input_size. Expected 10, got 8");
  check(rnn, {mg::randn({3, 5, 8})},
        "input.size(-1) must be equal to input_size. Expected 10, got 8");
  check(gru, {mg::randn({2, 5, 3, 10})}, "Expected input to be 2D or 3D, got 4D tensor instead");
  check(gru, {mg::randn({10})}, "Expected input to be 2D or 3D, got 1D tensor instead");
  check(gru, {mg::scalar_tensor(1.0)}, "Expected input to be 2D or 3D, got 0D tensor instead");
  check(gru, {x, mg::zeros({3, 1, 20})}, "Expected hidden size (1, 3, 20), got [3, 1, 20]");
  check(gru, {x, mg::zeros({1, 3, 21})}, "Expected hidden size (1, 3, 20), got [1, 3, 21]");
  check(rnn, {mg::randn({3, 5, 10}), mg::zeros({1, 3, 20})},
        "Expected hidden size (2, 3, 20), got [1, 3, 20]");
  check(gru, {mg::randn({5, 10}), mg::zeros({2, 20})},
        "Expected hidden size (1, 1, 20), got [2, 1, 20]");
  check(gru, {x, mg::zeros({3, 20})},
        "For batched 3-D input, hx should also be 3-D but got 2-D tensor");
  check(gru, {mg::randn({5, 10}), mg::zeros({1, 1, 20})},
        "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor");
  check(gru, {mg::randn({5, 3, 10}, mg::kFloat64)},
        "input must have the type torch.float32, got type torch.float64");
  check(gru, {x, mg::zeros({1, 3, 20}, mg::kFloat64)},
        "hx must have the type torch.float32, got type torch.float64");
  check(gru, {mg::zeros({0, 3, 10})}, "Expected sequence length to be larger than 0 in RNN");
  check(rnn, {mg::zeros({3, 0, 10})}, "Expected sequence length to be larger than 0 in RNN");
  check(gru, {mg::zeros({0, 10})}, "Expected sequence length to be larger than 0 in RNN");
  check_error_changes_nothing(gru, {}, [&] { gru(mg::Tensor()); },
                              "GRU: expected a defined input tensor");
  // The module still works afterwards.
  const auto [output, h_n] = gru(x, h0);
  BOOST_CHECK(output.shape() == (mg::Shape{5, 3, 20}));
}

BOOST_AUTO_TEST_CASE(float64_module_rejects_float32_input) {
  // module.to(kFloat64) then forward(float32 input): the message names both dtypes
  nn::RNN rnn(4, 5);
  rnn.to(mg::kFloat64);
  const mg::Tensor x = mg::randn({2, 3, 4});
  check_error_changes_nothing(rnn, {x}, [&] { rnn(x); },
                              "input must have the type torch.float64, got type torch.float32");
}

BOOST_AUTO_TEST_CASE(cell_errors_change_nothing) {
  // RNNCell/GRUCell forward(x, h) with a bad x or h
  nn::GRUCell gru(10, 20);
  nn::RNNCell rnn(10, 20);
  const mg::Tensor x = mg::randn({3, 10});
  for (nn::CellBase* cell : std::vector<nn::CellBase*>{&gru, &rnn}) {
    const std::string name = cell->type_name();
    const auto check = [&](const std::vector<mg::Tensor>& inputs, const std::string& fragment) {
      const mg::Tensor h = inputs.size() > 1 ? inputs[1] : mg::Tensor();
      check_error_changes_nothing(*cell, inputs, [&] { (*cell)(inputs[0], h); }, fragment);
    };
    check({mg::randn({3, 8})}, "input has inconsistent input_size: got 8 expected 10");
    check({mg::randn({3, 10, 1})},
          name + ": Expected input to be 1-D or 2-D but received 3-D tensor");
    check({mg::scalar_tensor(1.0)},
          name + ": Expected input to be 1-D or 2-D but received 0-D tensor");
    check({x, mg::zeros({2, 20})}, "Input batch size 3 doesn't match hidden0 batch size 2");
    check({x, mg::zeros({3, 21})}, "hidden0 has inconsistent hidden_size: got 21, expected 20");
    check({mg::randn({10}), mg::zeros({21})},
          "hidden0 has inconsistent hidden_size: got 21, expected 20");
    check({x, mg::zeros({20})},
          name + ": Expected hidden to be 2-D like the input, but received 1-D");
    check({mg::randn({10}), mg::zeros({1, 20})},
          name + ": Expected hidden to be 1-D like the input, but received 2-D");
    check({mg::randn({3, 10}, mg::kFloat64)},
          "input must have the type torch.float32, got type torch.float64");
    check({x, mg::zeros({3, 20}, mg::kFloat64)},
          "hx must have the type torch.float32, got type torch.float64");
    check_error_changes_nothing(*cell, {x}, [&] { (*cell)(mg::Tensor()); },
                                name + ": expected a defined input tensor");
  }
}

BOOST_AUTO_TEST_CASE(constructor_errors) {
  // RNN/GRU/RNNCell/GRUCell options out of range, in PyTorch's (2.x) words
  test::check_error([] { nn::GRU(10, 0); }, "hidden_size must be greater than zero");
  test::check_error([] { nn::RNN(10, -1); }, "hidden_size must be greater than zero");
  test::check_error([] { nn::GRU(nn::GRUOptions(10, 20).num_layers(0)); },
                    "num_layers must be greater than zero");
  test::check_error([] { nn::RNN(nn::RNNOptions(-1, 20)); },
                    "input_size must be non-negative, got -1");
  const std::string dropout = "dropout should be a number in range [0, 1] representing the "
                              "probability of an element being zeroed";
  test::check_error([] { nn::GRU(nn::GRUOptions(10, 20).num_layers(2).dropout(1.5)); }, dropout);
  test::check_error([] { nn::RNN(nn::RNNOptions(10, 20).num_layers(2).dropout(-0.1)); }, dropout);
  test::check_error([] { nn::GRU(nn::GRUOptions(10, 20).num_layers(2).dropout(std::nan(""))); },
                    dropout);
  test::check_error([] { nn::GRUCell(10, 0); }, "hidden_size must be greater than zero");
  test::check_error([] { nn::RNNCell(-2, 3); }, "input_size must be non-negative, got -2");
  // An unknown nonlinearity by name leaves the options as they were.
  nn::RNNOptions options(10, 20);
  options.nonlinearity(nn::kReLU);
  test::check_error([&] { options.nonlinearity("sigmoid"); }, "Unknown nonlinearity 'sigmoid'");
  BOOST_CHECK(options.nonlinearity() == nn::kReLU);
  BOOST_CHECK(options.nonlinearity("tanh").nonlinearity() == nn::kTanh);
  nn::GRU gru(3, 4);
  check_error_changes_nothing(gru, {}, [&] { gru.set_layer_implementation(nullptr); },
                              "set_layer_implementation: expected a layer implementation");
}

BOOST_AUTO_TEST_CASE(packed_input_errors_change_nothing) {
  // RNN/GRU forward(packed, h0) with a bad packed input or h0, and pack_padded_sequence with bad
  // lengths (tests/test_packing.cpp has every packing error): nothing changed
  nn::GRU gru(2, 4);
  const mg::Tensor x = mg::randn({5, 3, 2}).requires_grad_();
  const rnn::PackedSequence packed = rnn::pack_padded_sequence(x, {5, 3, 2});
  const auto check = [&](const rnn::PackedSequence& input, const mg::Tensor& h0,
                         const std::string& fragment) {
    std::vector<mg::Tensor> tensors{x, input.data()};
    if (h0.defined()) tensors.push_back(h0);
    check_error_changes_nothing(gru, tensors, [&] { gru(input, h0); }, fragment);
  };
  check(packed, mg::zeros({1, 2, 4}), "Expected hidden size (1, 3, 4), got [1, 2, 4]");
  check(packed, mg::zeros({2, 3, 4}), "Expected hidden size (1, 3, 4), got [2, 3, 4]");
  check(packed, mg::zeros({3, 4}), "Expected hidden size (1, 3, 4), got [3, 4]");  // PyTorch's words
  check(packed, mg::zeros({1, 3, 4}, mg::kFloat64),
        "hx must have the type torch.float32, got type torch.float64");
  check(rnn::pack_padded_sequence(mg::randn({5, 3, 3}), {5, 3, 2}), mg::Tensor(),
        "input.size(-1) must be equal to input_size. Expected 2, got 3");
  check(rnn::pack_padded_sequence(mg::randn({5, 3, 2, 1}), {5, 3, 2}), mg::Tensor(),
        "input must have 2 dimensions, got 3");
  check(rnn::pack_padded_sequence(mg::randn({5, 3, 2}, mg::kFloat64), {5, 3, 2}), mg::Tensor(),
        "input must have the type torch.float32, got type torch.float64");
  // Unsorted h0 batch order still has to match the batch size.
  check(rnn::pack_padded_sequence(x, {2, 5, 3}, false, false), mg::zeros({1, 2, 4}),
        "Expected hidden size (1, 3, 4), got [1, 2, 4]");

  const auto check_packing = [&](const std::vector<std::int64_t>& lengths, bool enforce_sorted,
                                 const std::string& fragment) {
    check_error_changes_nothing(
        gru, {x}, [&] { gru(rnn::pack_padded_sequence(x, lengths, false, enforce_sorted)); },
        fragment);
  };
  check_packing({2, 5, 3}, true, "`lengths` array must be sorted in decreasing order when "
                                 "`enforce_sorted` is True.");
  check_packing({5, 0, 3}, false, "Length of all samples has to be greater than 0, but found an "
                                  "element in 'lengths' that is <= 0");
  check_packing({5, 3}, true, "Expected `len(lengths)` to be equal to batch_size, but got 2 "
                              "(batch_size=3)");
  check_packing({6, 3, 2}, true, "length 6 of sequence 0 is longer than the padded input's time "
                                 "dimension (5)");
}
