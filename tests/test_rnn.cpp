// RNN and GRU (nn/rnn.h) against PyTorch 1.13: nn.RNN and nn.GRU over 72 configurations, the
// covering design of tests/make_rnn_fixtures.py, which writes tests/fixtures/rnn.txt and
// documents the grid. Each case builds the module with minigrad's options, copies PyTorch's
// parameters in, runs PyTorch's input (and h0) and compares output, h_n and the gradients of
// every parameter, the input and h0 for PyTorch's random loss weights, within 1e-6 in float64,
// once with the default fused layer and once with the composed one.
// Also here: parameter names, shapes, order and initialisation, and reprs against PyTorch's text.
// What needs no reference is in tests/test_rnn_properties.cpp (gradcheck, metamorphic
// relations) and tests/test_rnn_usage.cpp (the first steps, the errors). Read after nn/rnn.h,
// nn/utils/rnn.h and tests/test_module.cpp.
#define BOOST_TEST_MODULE rnn
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "fixtures.h"
#include "support.h"

namespace {

namespace nn = mg::nn;
namespace rnn = mg::nn::utils::rnn;

// The bound for parity in float64: |actual − expected| <= 1e-6 + 1e-6·|expected|.
constexpr double kTolerance = 1e-6;

bool flag(const test::Fixtures& fx, const std::string& name) {
  return fx.tensor(name).item<bool>();
}

std::int64_t integer(const test::Fixtures& fx, const std::string& name) {
  return fx.tensor(name).item<std::int64_t>();
}

std::string joined_names(const nn::Module& module) {
  std::string text;
  for (const auto& [name, p] : module.named_parameters()) text += (text.empty() ? "" : "\n") + name;
  return text;
}

// The module of fixture case `at`, built from its stored options with minigrad's options.
std::unique_ptr<nn::RecurrentBase> make_module(const test::Fixtures& fx, const std::string& at) {
  const std::string mode = fx.text(at + "mode");
  const std::int64_t in = integer(fx, at + "input_size"), hidden = integer(fx, at + "hidden_size");
  const std::int64_t layers = integer(fx, at + "num_layers");
  const bool bias = flag(fx, at + "bias"), batch_first = flag(fx, at + "batch_first");
  const bool bidirectional = flag(fx, at + "bidirectional");
  if (mode == "GRU")
    return std::make_unique<nn::GRU>(nn::GRUOptions(in, hidden).num_layers(layers).bias(bias)
                                         .batch_first(batch_first).bidirectional(bidirectional));
  BOOST_REQUIRE_MESSAGE(mode == "RNN_TANH" || mode == "RNN_RELU", at << ": unknown mode " << mode);
  return std::make_unique<nn::RNN>(nn::RNNOptions(in, hidden).num_layers(layers).bias(bias)
                                       .batch_first(batch_first).bidirectional(bidirectional)
                                       .nonlinearity(mode == "RNN_TANH" ? nn::kTanh : nn::kReLU));
}

// Converts `module` to `dtype` and copies PyTorch's parameters in, checking that both have the
// same names in the same order and the same shapes (copy_ would broadcast a wrong shape).
void load_parameters(nn::Module& module, const test::Fixtures& fx, const std::string& at,
                     mg::Dtype dtype) {
  BOOST_REQUIRE_EQUAL(joined_names(module), fx.text(at + "parameter_names"));
  module.to(dtype);
  mg::NoGradGuard no_grad;
  for (auto& [name, p] : module.named_parameters()) {
    const mg::Tensor value = fx.tensor(at + "param/" + name);
    BOOST_REQUIRE_MESSAGE(p.shape() == value.shape(),
                          at << name << ": shape " << mg::shape_str(p.shape()) << ", PyTorch has "
                             << mg::shape_str(value.shape()));
    p.copy_(value);
  }
}

// float64 within kTolerance of PyTorch's float64 result; float32 by the float32 rule
// (support.h), against the same float64 result and PyTorch's own float32 error.
void check_parity(const mg::Tensor& actual, const test::Fixtures& fx, const std::string& name,
                  mg::Dtype dtype) {
  BOOST_REQUIRE_MESSAGE(actual.defined(), name << ": undefined");
  BOOST_CHECK_MESSAGE(actual.dtype() == dtype,
                      name << ": dtype " << mg::dtype_repr(actual.dtype()));
  if (dtype == mg::kFloat64)
    test::check_close(actual, fx.tensor(name), kTolerance, kTolerance, name);
  else
    test::check_float32(actual, fx.reference(name), 0, name);
}

// True when both index tensors are undefined, or both hold the same values.
bool same_indices(const mg::Tensor& a, const mg::Tensor& b) {
  if (!a.defined() || !b.defined()) return a.defined() == b.defined();
  return a.to_vector<std::int64_t>() == b.to_vector<std::int64_t>();
}

// The module run on the case's input as PyTorch ran it. A packed case packs the padded input
// with its lengths (enforce_sorted for "sorted") and pads the packed output back to the input's
// T, as make_rnn_fixtures.py stored it. Returns output and h_n.
std::tuple<mg::Tensor, mg::Tensor> run_case(nn::RecurrentBase& module, const test::Fixtures& fx,
                                            const std::string& at, const mg::Tensor& input,
                                            const mg::Tensor& h0) {
  const std::string form = fx.text(at + "input_form");
  if (form != "sorted" && form != "unsorted") return module(input, h0);
  const bool batch_first = flag(fx, at + "batch_first");
  const rnn::PackedSequence packed = rnn::pack_padded_sequence(
      input, fx.tensor(at + "lengths"), batch_first, /*enforce_sorted=*/form == "sorted");
  const auto [packed_output, h_n] = module(packed, h0);
  // The output is packed like the input: the same batch sizes and permutation.
  BOOST_CHECK(same_indices(packed_output.batch_sizes(), packed.batch_sizes()));
  BOOST_CHECK(same_indices(packed_output.sorted_indices(), packed.sorted_indices()));
  BOOST_CHECK(same_indices(packed_output.unsorted_indices(), packed.unsorted_indices()));
  BOOST_CHECK_EQUAL(packed.sorted_indices().defined(), form == "unsorted");
  const auto [output, lengths] =
      rnn::pad_packed_sequence(packed_output, batch_first, 0.0, input.size(batch_first ? 1 : 0));
  BOOST_CHECK(lengths.to_vector<std::int64_t>() ==
              fx.tensor(at + "lengths").to_vector<std::int64_t>());
  return {output, h_n};
}

// Runs fixture case `c` in `dtype`, from PyTorch's float64 values rounded to it, and compares
// output, h_n and every gradient (check_parity); with the default (fused) layer, or the
// composed one if `composed`.
void check_case(const test::Fixtures& fx, const std::string& c, mg::Dtype dtype, bool composed) {
  const std::string at = "rnn/" + c + "/";
  const auto module = make_module(fx, at);
  if (composed) module->set_layer_implementation(std::make_shared<nn::ComposedLayer>());
  BOOST_CHECK_EQUAL(module->repr(), fx.text(at + "repr"));
  load_parameters(*module, fx, at, dtype);

  // Fresh leaves (clone): to(float64) of a float64 tensor is the fixture's own tensor, whose
  // grad would accumulate over the two layer implementations.
  const mg::Tensor input = fx.tensor(at + "input").to(dtype).clone().requires_grad_();
  const bool has_h0 = flag(fx, at + "has_h0");
  const mg::Tensor h0 =
      has_h0 ? fx.tensor(at + "h0").to(dtype).clone().requires_grad_() : mg::Tensor();
  const auto [output, h_n] = run_case(*module, fx, at, input, h0);
  const auto check = [&](const mg::Tensor& actual, const std::string& part) {
    check_parity(actual, fx, at + part, dtype);
  };
  check(output, "output");
  check(h_n, "h_n");

  const mg::Tensor w_output = fx.tensor(at + "w_output").to(dtype);
  const mg::Tensor w_h_n = fx.tensor(at + "w_h_n").to(dtype);
  ((output * w_output).sum() + (h_n * w_h_n).sum()).backward();
  for (const auto& [name, p] : module->named_parameters()) check(p.grad(), "grad/" + name);
  check(input.grad(), "grad_input");
  if (has_h0) check(h0.grad(), "grad_h0");
}

// Every fixture case whose input_form is `form`, through both layer implementations; there must
// be some.
void check_cases(const std::string& form, mg::Dtype dtype = mg::kFloat64) {
  const test::Fixtures fx("rnn.txt");
  int checked = 0;
  for (const std::string& c : fx.cases("rnn")) {
    if (fx.text("rnn/" + c + "/input_form") != form) continue;
    for (const bool composed : {false, true})
      BOOST_TEST_CONTEXT(c << (composed ? " composed" : " fused")) {
        check_case(fx, c, dtype, composed);
      }
    ++checked;
  }
  BOOST_CHECK_MESSAGE(checked >= 12, "only " << checked << " " << form << " cases");
}

}  // namespace

// ---- Parity with PyTorch ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(dense_input_matches_pytorch) {
  // RNN/GRU forward(input (T, B, I) or (B, T, I), h0 = {}) and backward
  check_cases("dense");
}

BOOST_AUTO_TEST_CASE(unbatched_input_matches_pytorch) {
  // RNN/GRU forward(input (T, I), h0 (L·D, H) = {}) and backward
  check_cases("unbatched");
}

BOOST_AUTO_TEST_CASE(sorted_packed_input_matches_pytorch) {
  // RNN/GRU forward(pack_padded_sequence(input, lengths in decreasing order), h0 = {}), the
  // output padded back with pad_packed_sequence, and backward through all three
  check_cases("sorted");
}

BOOST_AUTO_TEST_CASE(unsorted_packed_input_matches_pytorch) {
  // The same with lengths out of order and enforce_sorted = false: h0 and h_n in the caller's
  // batch order
  check_cases("unsorted");
}

BOOST_AUTO_TEST_CASE(float32_matches_pytorch_to_float32_precision) {
  // Every case again in float32, the default dtype: PyTorch's float64 parameters and inputs
  // rounded to float32 (a relative change of up to 6e-8), compared with PyTorch's float64
  // results within a multiple of how far PyTorch's own float32 run lies from them
  for (const std::string form : {"dense", "unbatched", "sorted", "unsorted"})
    check_cases(form, mg::kFloat32);
}

BOOST_AUTO_TEST_CASE(fixture_grid_covers_every_option_pair) {
  // The design of make_rnn_fixtures.py, checked on the file: every value of each option meets
  // every mode and every layer count.
  const test::Fixtures fx("rnn.txt");
  std::map<std::string, std::set<std::string>> seen;  // "option=value" -> {"mode", "l2", ...}
  for (const std::string& c : fx.cases("rnn")) {
    const std::string at = "rnn/" + c + "/";
    const std::vector<std::string> options{
        "input_form=" + fx.text(at + "input_form"),
        fmt::format("bidirectional={}", flag(fx, at + "bidirectional")),
        fmt::format("bias={}", flag(fx, at + "bias")),
        fmt::format("batch_first={}", flag(fx, at + "batch_first")),
        fmt::format("has_h0={}", flag(fx, at + "has_h0"))};
    for (const std::string& option : options) {
      seen[option].insert(fx.text(at + "mode"));
      seen[option].insert(fmt::format("l{}", integer(fx, at + "num_layers")));
    }
  }
  BOOST_CHECK_EQUAL(seen.size(), 12u);  // 4 input forms and 2 values of four flags
  for (const auto& [option, partners] : seen)
    BOOST_CHECK_MESSAGE(partners.size() == 6u, option << " meets " << partners.size() << " of 6");
}

// ---- Parameters and reprs -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(parameter_names_shapes_and_order) {
  // GRU(10, 20, num_layers 2, bidirectional) and the cells: PyTorch's names, shapes, order
  // (the fixtures check the names of all 72 configurations against PyTorch's own list)
  nn::GRU gru(nn::GRUOptions(10, 20).num_layers(2).bidirectional(true));
  const std::vector<std::pair<std::string, mg::Shape>> expected{
      {"weight_ih_l0", {60, 10}},         {"weight_hh_l0", {60, 20}},
      {"bias_ih_l0", {60}},               {"bias_hh_l0", {60}},
      {"weight_ih_l0_reverse", {60, 10}}, {"weight_hh_l0_reverse", {60, 20}},
      {"bias_ih_l0_reverse", {60}},       {"bias_hh_l0_reverse", {60}},
      {"weight_ih_l1", {60, 40}},         {"weight_hh_l1", {60, 20}},
      {"bias_ih_l1", {60}},               {"bias_hh_l1", {60}},
      {"weight_ih_l1_reverse", {60, 40}}, {"weight_hh_l1_reverse", {60, 20}},
      {"bias_ih_l1_reverse", {60}},       {"bias_hh_l1_reverse", {60}}};
  const auto params = gru.named_parameters();
  BOOST_REQUIRE_EQUAL(params.size(), expected.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    BOOST_CHECK_EQUAL(params[i].first, expected[i].first);
    BOOST_CHECK_MESSAGE(params[i].second.shape() == expected[i].second, expected[i].first);
  }
  nn::RNN rnn(nn::RNNOptions(10, 20).bias(false));
  BOOST_CHECK_EQUAL(joined_names(rnn), "weight_ih_l0\nweight_hh_l0");
  BOOST_CHECK(rnn.parameters()[0].shape() == (mg::Shape{20, 10}));
  nn::GRUCell gru_cell(10, 20);
  BOOST_CHECK_EQUAL(joined_names(gru_cell), "weight_ih\nweight_hh\nbias_ih\nbias_hh");
  BOOST_CHECK(gru_cell.parameters()[0].shape() == (mg::Shape{60, 10}));
  BOOST_CHECK(gru_cell.parameters()[3].shape() == (mg::Shape{60}));
  nn::RNNCell rnn_cell(nn::RNNCellOptions(10, 20).bias(false));
  BOOST_CHECK_EQUAL(joined_names(rnn_cell), "weight_ih\nweight_hh");
  BOOST_CHECK(rnn_cell.parameters()[1].shape() == (mg::Shape{20, 20}));
}

BOOST_AUTO_TEST_CASE(initialisation_is_uniform_within_one_over_sqrt_hidden) {
  // Every parameter of RNN, GRU, RNNCell, GRUCell: float32 leaves requiring grad, drawn from
  // U(−1/√H, 1/√H): inside the bounds, not all equal, spread over the range, each drawn anew;
  // the same seed gives the same parameters
  mg::manual_seed(10);
  nn::GRU gru(nn::GRUOptions(10, 20).num_layers(2).bidirectional(true));
  nn::RNN rnn(nn::RNNOptions(3, 4).num_layers(3));
  nn::GRUCell gru_cell(5, 16);
  nn::RNNCell rnn_cell(5, 9);
  const std::vector<std::pair<nn::Module*, double>> modules{
      {&gru, 20}, {&rnn, 4}, {&gru_cell, 16}, {&rnn_cell, 9}};
  for (const auto& [module, hidden] : modules) {
    // The bound rounded to float32, as the values are; they may reach it from below.
    const double bound = static_cast<float>(1 / std::sqrt(hidden));
    std::vector<std::vector<float>> seen;
    for (const auto& [name, p] : module->named_parameters()) {
      BOOST_TEST_CONTEXT(module->repr() << " " << name) {
        BOOST_CHECK(p.dtype() == mg::kFloat32);
        BOOST_CHECK(p.is_leaf() && p.requires_grad());
        const std::vector<float> values = p.to_vector<float>();
        const auto [min, max] = std::minmax_element(values.begin(), values.end());
        BOOST_CHECK_GE(*min, -bound);
        BOOST_CHECK_LE(*max, bound);
        BOOST_CHECK_LT(*min, *max);
        if (values.size() >= 40) {  // then missing a half of the range is a 2·(1/2)^40 chance
          BOOST_CHECK_LT(*min, -bound / 2);
          BOOST_CHECK_GT(*max, bound / 2);
        }
        for (const std::vector<float>& other : seen) BOOST_CHECK(values != other);
        seen.push_back(values);
      }
    }
  }
  mg::manual_seed(10);
  nn::GRU again(nn::GRUOptions(10, 20).num_layers(2).bidirectional(true));
  for (std::size_t i = 0; i < gru.parameters().size(); ++i)
    BOOST_CHECK(again.parameters()[i].to_vector<float>() == gru.parameters()[i].to_vector<float>());
}

BOOST_AUTO_TEST_CASE(reprs_match_pytorch) {
  // repr() of RNN, GRU, RNNCell, GRUCell against PyTorch's text (fixture group repr)
  const test::Fixtures fx("rnn.txt");
  using Make = std::function<std::unique_ptr<nn::Module>()>;
  const std::map<std::string, Make> modules{
      {"rnn_default", [] { return std::make_unique<nn::RNN>(3, 4); }},
      {"rnn_relu",
       [] { return std::make_unique<nn::RNN>(nn::RNNOptions(3, 4).nonlinearity(nn::kReLU)); }},
      {"rnn_everything",
       [] {
         return std::make_unique<nn::RNN>(nn::RNNOptions(10, 20).num_layers(3).nonlinearity("relu")
                                              .bias(false).batch_first(true).dropout(0.5)
                                              .bidirectional(true));
       }},
      {"gru_default", [] { return std::make_unique<nn::GRU>(10, 20); }},
      {"gru_dropout_1",
       [] { return std::make_unique<nn::GRU>(nn::GRUOptions(3, 4).num_layers(2).dropout(1)); }},
      {"gru_dropout_0_1",
       [] { return std::make_unique<nn::GRU>(nn::GRUOptions(3, 4).num_layers(2).dropout(0.1)); }},
      {"gru_dropout_1e_4",
       [] { return std::make_unique<nn::GRU>(nn::GRUOptions(3, 4).num_layers(2).dropout(1e-4)); }},
      {"gru_dropout_1e_5",
       [] { return std::make_unique<nn::GRU>(nn::GRUOptions(3, 4).num_layers(2).dropout(1e-5)); }},
      {"gru_dropout_third",
       [] {
         return std::make_unique<nn::GRU>(nn::GRUOptions(3, 4).num_layers(2).dropout(1.0 / 3));
       }},
      {"rnn_cell", [] { return std::make_unique<nn::RNNCell>(3, 4); }},
      {"rnn_cell_relu_no_bias",
       [] {
         return std::make_unique<nn::RNNCell>(
             nn::RNNCellOptions(3, 4).bias(false).nonlinearity(nn::kReLU));
       }},
      {"gru_cell", [] { return std::make_unique<nn::GRUCell>(3, 4); }},
      {"gru_cell_no_bias",
       [] { return std::make_unique<nn::GRUCell>(nn::GRUCellOptions(3, 4).bias(false)); }},
  };
  std::string names;
  for (const auto& [name, make] : modules) {
    names += (names.empty() ? "" : "\n") + name;
    const auto module = make();
    BOOST_CHECK_EQUAL(module->repr(), fx.text("repr/" + name));
    std::ostringstream printed;
    printed << *module;
    BOOST_CHECK_EQUAL(printed.str(), fx.text("repr/" + name));
  }
  // The same table as make_rnn_fixtures.py's REPR_CASES (which this map sorts by name).
  std::vector<std::string> stored;
  std::istringstream lines(fx.text("repr/cases"));
  for (std::string line; std::getline(lines, line);) stored.push_back(line);
  std::sort(stored.begin(), stored.end());
  std::string stored_names;
  for (const std::string& name : stored) stored_names += (stored_names.empty() ? "" : "\n") + name;
  BOOST_CHECK_EQUAL(names, stored_names);
}
