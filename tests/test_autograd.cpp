// The autograd engine: leaves, accumulation, detach, NoGradGuard, retain_graph, version counters,
// deep graphs, gradcheck itself (that it catches a wrong backward), and the graph drawn by
// mg::autograd::to_dot with the saved tensors each node lists. Read with core/autograd.h and
// core/graph_dot.h; the op files' tests (test_elementwise.cpp first) come next.
#define BOOST_TEST_MODULE autograd
#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "support.h"

BOOST_AUTO_TEST_CASE(leaves_and_requires_grad) {
  // requires_grad_(), requires_grad(), is_leaf()
  mg::Tensor x = mg::randn({2, 3});
  BOOST_CHECK(!x.requires_grad());
  BOOST_CHECK(x.is_leaf());
  x.requires_grad_();
  BOOST_CHECK(x.requires_grad());
  mg::Tensor y = x * 2;
  BOOST_CHECK(y.requires_grad());
  BOOST_CHECK(!y.is_leaf());
  BOOST_REQUIRE(y.grad_fn());
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "MulBackward0");
  BOOST_CHECK(!x.grad().defined());  // undefined until a backward reaches it
  test::check_error([&] { mg::arange(3).requires_grad_(); },
                    "only Tensors of floating point dtype can require gradients");
  test::check_error([&] { y.requires_grad_(false); },
                    "you can only change requires_grad flags of leaf variables");
}

BOOST_AUTO_TEST_CASE(backward_of_a_product) {
  // loss = Σ x ⊙ w, so grad_x = w and grad_w = x
  mg::Tensor x = mg::randn({3, 4}).requires_grad_();
  mg::Tensor w = mg::randn({3, 4}).requires_grad_();
  (x * w).sum().backward();
  test::check_close(x.grad(), w.detach(), 0, 0, "grad_x");
  test::check_close(w.grad(), x.detach(), 0, 0, "grad_w");
}

BOOST_AUTO_TEST_CASE(gradients_accumulate) {
  // Two backward passes add: the second grad is twice the first.
  mg::Tensor x = mg::randn({5}, mg::kFloat64).requires_grad_();
  (x * x).sum().backward();
  const mg::Tensor first = x.grad().clone();
  (x * x).sum().backward();
  test::check_close(x.grad(), first * 2, 1e-15, 0, "accumulated grad");
  test::check_close(first, x.detach() * 2, 1e-15, 0, "d(x²)/dx");
}

BOOST_AUTO_TEST_CASE(a_tensor_used_twice_gets_the_sum_of_both_paths) {
  // y = x ⊙ x + 3x, so dy/dx = 2x + 3
  mg::Tensor x = mg::randn({4}, mg::kFloat64).requires_grad_();
  const mg::Tensor upstream = mg::randn({4}, mg::kFloat64);
  (x * x + x * 3).backward(upstream);
  test::check_close(x.grad(), upstream * (x.detach() * 2 + 3), 1e-14, 0, "grad_x");
}

BOOST_AUTO_TEST_CASE(backward_with_an_explicit_gradient) {
  // t.backward(grad) for a non-scalar t; a scalar needs none; shape and scalar errors.
  mg::Tensor x = mg::randn({2, 3}, mg::kFloat64).requires_grad_();
  mg::Tensor y = x * 3;
  test::check_error([&] { y.backward(); }, "grad can be implicitly created only for scalar outputs");
  test::check_error([&] { y.backward(mg::ones({3}, mg::kFloat64)); }, "Mismatch in shape");
  const mg::Tensor g = mg::randn({2, 3}, mg::kFloat64);
  y.backward(g);
  test::check_close(x.grad(), g * 3, 1e-15, 0, "grad_x");
  test::check_error([&] { mg::randn({1}).backward(); },
                    "element 0 of tensors does not require grad and does not have a grad_fn");
}

BOOST_AUTO_TEST_CASE(detach_and_no_grad_record_nothing) {
  mg::Tensor x = mg::randn({3}).requires_grad_();
  mg::Tensor d = x.detach();
  BOOST_CHECK(!d.requires_grad());
  BOOST_CHECK(d.is_leaf());
  BOOST_CHECK_EQUAL(d.data_ptr<float>(), x.data_ptr<float>());  // same memory
  {
    mg::NoGradGuard guard;
    mg::Tensor y = x * 2;
    BOOST_CHECK(!y.requires_grad());
    BOOST_CHECK(!mg::grad_mode_enabled());
  }
  BOOST_CHECK(mg::grad_mode_enabled());
  BOOST_CHECK((x * 2).requires_grad());
}

BOOST_AUTO_TEST_CASE(a_second_backward_needs_retain_graph) {
  mg::Tensor x = mg::randn({3}, mg::kFloat64).requires_grad_();
  mg::Tensor loss = (x * x).sum();
  loss.backward(mg::Tensor(), /*retain_graph=*/true);
  loss.backward();  // allowed: the graph was retained
  test::check_close(x.grad(), x.detach() * 4, 1e-15, 0, "grad after two passes");
  test::check_error([&] { loss.backward(); },
                    "Trying to backward through the graph a second time");
}

BOOST_AUTO_TEST_CASE(changing_a_saved_tensor_in_place_is_an_error_at_backward) {
  mg::Tensor x = mg::randn({3}).requires_grad_();
  mg::Tensor w = mg::randn({3});
  mg::Tensor loss = (x * w).sum();  // MulBackward0 saves w
  const std::uint64_t before = w.version();
  w.fill_(1.0);
  BOOST_CHECK_EQUAL(w.version(), before + 1);
  test::check_error([&] { loss.backward(); },
                    "one of the variables needed for gradient computation has been modified by "
                    "an inplace operation");
  BOOST_CHECK(!x.grad().defined());  // nothing was accumulated
}

BOOST_AUTO_TEST_CASE(in_place_writes_respect_autograd) {
  mg::Tensor leaf = mg::randn({3}).requires_grad_();
  test::check_error([&] { leaf.zero_(); },
                    "a leaf Variable that requires grad is being used in an in-place operation.");
  mg::Tensor target = mg::zeros({3});
  test::check_error([&] { target.copy_(leaf); }, "copy_: the source requires grad");
  {
    mg::NoGradGuard guard;  // the way optimizers write parameters
    leaf.copy_(leaf * 2);
  }
  BOOST_CHECK(leaf.requires_grad());
}

BOOST_AUTO_TEST_CASE(a_chain_of_100000_ops_backpropagates_and_frees_without_recursion) {
  // y = x + 1 + 1 + ... : dy/dx = 1. Both backward and the graph's destruction must walk the
  // chain with loops, not recursion, or this overflows the stack.
  mg::Tensor x = mg::randn({1}, mg::kFloat64).requires_grad_();
  {
    mg::Tensor y = x;
    for (int i = 0; i < 100000; ++i) y = y + 1;
    y.sum().backward();
  }
  BOOST_CHECK_EQUAL(x.grad().item<double>(), 1.0);
}

BOOST_AUTO_TEST_CASE(broadcasting_backward_reduces_to_each_input_shape) {
  // a (2, 1, 4) + b (3, 1): the result is (2, 3, 4); grad_a sums over dim 1, grad_b over 0 and 2.
  mg::Tensor a = mg::randn({2, 1, 4}, mg::kFloat64).requires_grad_();
  mg::Tensor b = mg::randn({3, 1}, mg::kFloat64).requires_grad_();
  const mg::Tensor g = mg::randn({2, 3, 4}, mg::kFloat64);
  (a + b).backward(g);
  BOOST_CHECK(a.grad().shape() == (mg::Shape{2, 1, 4}));
  BOOST_CHECK(b.grad().shape() == (mg::Shape{3, 1}));
  test::check_close(a.grad(), g.sum(1, true), 1e-14, 0, "grad_a");
  test::check_close(b.grad(), g.sum(mg::Shape{0, 2}).view({3, 1}), 1e-14, 0, "grad_b");
}

BOOST_AUTO_TEST_CASE(mixed_dtypes_send_gradients_back_in_each_inputs_dtype) {
  mg::Tensor a = mg::randn({3}, mg::kFloat32).requires_grad_();
  mg::Tensor b = mg::randn({3}, mg::kFloat64).requires_grad_();
  mg::Tensor y = a * b;
  BOOST_CHECK(y.dtype() == mg::kFloat64);
  y.sum().backward();
  BOOST_CHECK(a.grad().dtype() == mg::kFloat32);
  BOOST_CHECK(b.grad().dtype() == mg::kFloat64);
  test::check_close(a.grad(), b.detach().to(mg::kFloat32), 1e-7, 0, "grad_a");
}

BOOST_AUTO_TEST_CASE(gradcheck_catches_a_wrong_backward) {
  // A deliberately wrong op: forward 2x, backward claims 3·grad. gradcheck must say so, naming
  // the input and element.
  auto wrong = [](const std::vector<mg::Tensor>& in) {
    const mg::Tensor& x = in[0];
    mg::Tensor y = [&] {
      mg::NoGradGuard no_grad;
      return x * 2;
    }();
    return mg::record("WrongBackward", {x}, y,
                      [](const mg::Tensor& g) { return mg::grads(g * 3); });
  };
  mg::Tensor x = test::leaf({2, 2});
  test::check_error([&] { mg::gradcheck(wrong, {x}); },
                    "gradcheck: Jacobian mismatch for input 0 (shape [2, 2]), element 0 (0, 0)");
  mg::GradcheckOptions quiet;
  quiet.raise_exception = false;
  BOOST_CHECK(!mg::gradcheck(wrong, {x}, quiet));
  test::check_error([&] { mg::gradcheck(wrong, {mg::randn({2}, mg::kFloat64)}); },
                    "gradcheck expects at least one input tensor to require gradient");
  test::check_error([&] { mg::gradcheck(wrong, {mg::randn({2}).requires_grad_()}); },
                    "gradcheck needs float64");
}

// ---- The graph as a picture: mg::autograd::to_dot --------------------------------------------

namespace {

// A DOT text from to_dot, read back: each box's label (its \n escapes turned back into line
// breaks) and fill colour by id, and each arrow as (tail's label, head's label, arrow's label).
// Every line must be one to_dot writes; any other fails the check, so that a text dot could
// not read cannot pass.
struct Picture {
  std::map<std::string, std::string> label;   // n3 → "TanhBackward0\nout (2, 3) float32\n..."
  std::map<std::string, std::string> colour;  // n3 → "lightblue", or "" for the default grey
  std::multiset<std::string> nodes;           // the labels
  std::multiset<std::tuple<std::string, std::string, std::string>> edges;
};

std::string unescape(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char next = text[++i];
    out += next == 'n' ? '\n' : next;  // \n is a line break; \" and \\ stand for themselves
  }
  return out;
}

Picture parse_dot(const std::string& dot) {
  static const std::regex node(
      R"re(^  (n[0-9]+) \[label="((?:[^"\\]|\\.)*)"(?:, fillcolor=([a-z0-9]+))?\];$)re");
  static const std::regex edge(R"re(^  (n[0-9]+) -> (n[0-9]+)(?: \[label="([^"\\]*)"\])?;$)re");
  static const std::regex other(
      R"re(^(//.*|digraph autograd \{|  (graph|node|edge) \[.*\];|\})$)re");
  Picture picture;
  std::vector<std::array<std::string, 3>> arrows;
  std::istringstream lines(dot);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, node)) {
      BOOST_CHECK_MESSAGE(!picture.label.count(m[1]), "node " << m[1] << " declared twice");
      picture.label[m[1]] = unescape(m[2]);
      picture.colour[m[1]] = m[3];
      picture.nodes.insert(unescape(m[2]));
    } else if (std::regex_match(line, m, edge)) {
      arrows.push_back({m[1], m[2], m[3]});
    } else {
      BOOST_CHECK_MESSAGE(std::regex_match(line, other), "not a line of to_dot's: " << line);
    }
  }
  BOOST_CHECK_MESSAGE(dot.ends_with("}\n"), "the graph is not closed");
  for (const auto& [from, to, text] : arrows) {
    BOOST_REQUIRE_MESSAGE(picture.label.count(from) && picture.label.count(to),
                          "arrow " << from << " -> " << to << " to an undeclared node");
    picture.edges.insert({picture.label[from], picture.label[to], text});
  }
  return picture;
}

// A label on one line, and an arrow, as a failure message shows them.
std::string show(const std::string& label) {
  std::string out = label;
  std::replace(out.begin(), out.end(), '\n', '|');
  return "\"" + out + "\"";
}
std::string show(const std::tuple<std::string, std::string, std::string>& arrow) {
  const auto& [from, to, text] = arrow;
  return show(from) + " -> " + show(to) + (text.empty() ? "" : " [" + text + "]");
}

// Checks that `actual` holds exactly the elements of `expected`, each as often; a failure lists
// what is missing and what should not be there.
template <class T>
void check_same(const std::multiset<T>& actual, const std::multiset<T>& expected,
                const std::string& what) {
  std::vector<T> missing, extra;
  std::set_difference(expected.begin(), expected.end(), actual.begin(), actual.end(),
                      std::back_inserter(missing));
  std::set_difference(actual.begin(), actual.end(), expected.begin(), expected.end(),
                      std::back_inserter(extra));
  std::string report;
  for (const T& item : missing) report += "\n  missing: " + show(item);
  for (const T& item : extra) report += "\n  not expected: " + show(item);
  BOOST_CHECK_MESSAGE(report.empty(), what << ":" << report);
}

// The first line of every label: the op names and the leaves' names.
std::multiset<std::string> first_lines(const Picture& picture) {
  std::multiset<std::string> out;
  for (const std::string& text : picture.nodes) out.insert(text.substr(0, text.find('\n')));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(to_dot_draws_each_op_leaf_and_arrow_of_the_graph) {
  // to_dot(t), to_dot(t, named): y = tanh(x·w + b)·w with w used twice and x data (no grad).
  // The expected picture follows from the ops' definitions: each op is one box with its output
  // and what its backward saved; mm saves each operand only if the other one needs a gradient
  // (the inner product saves x, not w, since x needs none), tanh saves its output, add nothing;
  // the arrows run from y's node to the leaves, and x, which needs no gradient, has no box.
  // PyTorch 1.13 names these nodes the same, and saves the same tensors (checked by hand with
  // torch: the inner MmBackward0 has _saved_self (2, 3) and _saved_mat2 None).
  const mg::Tensor x = mg::randn({2, 3});
  const mg::Tensor w = mg::randn({3, 3}).requires_grad_();
  const mg::Tensor b = mg::randn({3}).requires_grad_();
  const mg::Tensor y = mg::matmul(mg::tanh(mg::matmul(x, w) + b), w);

  const std::string outer =
      "MmBackward0\nout (2, 3) float32\nsaved (2, 3) float32\nsaved (3, 3) float32";
  const std::string tanh = "TanhBackward0\nout (2, 3) float32\nsaved (2, 3) float32";
  const std::string add = "AddBackward0\nout (2, 3) float32";
  const std::string inner = "MmBackward0\nout (2, 3) float32\nsaved (2, 3) float32";
  const std::string leaf_w = "(3, 3) float32\nrequires_grad=True";
  const std::string leaf_b = "(3) float32\nrequires_grad=True";
  const Picture plain = parse_dot(mg::autograd::to_dot(y));
  check_same(plain.nodes, {outer, tanh, add, inner, leaf_w, leaf_b}, "the boxes");
  using Arrow = std::tuple<std::string, std::string, std::string>;
  const std::multiset<Arrow> arrows{{outer, tanh, ""}, {outer, leaf_w, ""}, {tanh, add, ""},
                                    {add, inner, ""},  {add, leaf_b, ""},   {inner, leaf_w, ""}};
  check_same(plain.edges, arrows, "the arrows");
  BOOST_CHECK_EQUAL(plain.label.at("n0"), outer);  // the walk starts at y's node, drawn green
  BOOST_CHECK_EQUAL(plain.colour.at("n0"), "darkolivegreen1");
  for (const auto& [id, text] : plain.label) {
    const std::string expected = id == "n0" ? "darkolivegreen1"
                                 : text.ends_with("requires_grad=True") ? "lightblue"
                                                                        : "";
    BOOST_CHECK_EQUAL(plain.colour.at(id), expected);
  }

  // Named leaves carry their names; a named tensor that is not in the graph (x) changes nothing.
  const Picture named = parse_dot(mg::autograd::to_dot(y, {{"x", x}, {"w", w}, {"b", b}}));
  check_same(named.nodes, {outer, tanh, add, inner, "w\n" + leaf_w, "b\n" + leaf_b},
             "the boxes, named");
  BOOST_CHECK_EQUAL(named.edges.size(), arrows.size());

  // An op that takes one tensor twice sends a gradient to it along each: two arrows.
  const std::string square =
      "MulBackward0\nout (3, 3) float32\nsaved (3, 3) float32\nsaved (3, 3) float32";
  check_same(parse_dot(mg::autograd::to_dot(w * w)).edges,
             {{square, leaf_w, ""}, {square, leaf_w, ""}}, "the arrows of w ⊙ w");

  // The same graph built again, at other addresses, is the same text.
  const mg::Tensor again = mg::matmul(mg::tanh(mg::matmul(x, w) + b), w);
  BOOST_CHECK_EQUAL(mg::autograd::to_dot(again), mg::autograd::to_dot(y));

  // After a backward without retain_graph, what the nodes saved is gone, and the picture says so.
  (y * mg::randn({2, 3})).sum().backward();
  const Picture after = parse_dot(mg::autograd::to_dot(y));
  check_same(after.nodes,
             {"MmBackward0\nout (2, 3) float32\nsaved: freed",
              "TanhBackward0\nout (2, 3) float32\nsaved: freed", add,
              "MmBackward0\nout (2, 3) float32\nsaved: freed", leaf_w, leaf_b},
             "the boxes after backward");
}

BOOST_AUTO_TEST_CASE(to_dot_of_a_fused_gru_step_is_one_node_where_the_composed_layer_is_many) {
  // One GRU step (T = 1, B = 2, I = 3, H = 4) and loss = Σ output, through the fused layer and
  // through the composed one, with the parameters named.
  mg::manual_seed(3);
  mg::nn::GRU gru(3, 4);
  const mg::Tensor x = mg::randn({1, 2, 3});  // data: no box
  const auto loss = [&] {
    auto [output, h_n] = gru(x);
    return output.sum();
  };
  const auto names = gru.named_parameters();
  const Picture fused = parse_dot(mg::autograd::to_dot(loss(), names));
  gru.set_layer_implementation(std::make_shared<mg::nn::ComposedLayer>());
  const Picture composed = parse_dot(mg::autograd::to_dot(loss(), names));

  // Fused (nn/fused_recurrent.cpp): Σ, the view back to (T, B, H), and one node for the layer
  // with its two outputs (output rows, h_n) and its six saves: X, h0, W_ih, W_hh, the output and
  // the gates [r, z, W_hn h + b_hn, n] (N, 4H). Its arrows go straight to the four parameters.
  const std::string node =
      "FusedGRUBackward\nout 0 (2, 4) float32\nout 1 (2, 4) float32\nsaved (2, 3) float32\n"
      "saved (2, 4) float32\nsaved (12, 3) float32\nsaved (12, 4) float32\n"
      "saved (2, 4) float32\nsaved (2, 16) float32";
  const std::string sum = "SumBackward0\nout () float32";
  const std::string view = "ViewBackward0\nout (1, 2, 4) float32";
  const std::string w_ih = "weight_ih_l0\n(12, 3) float32\nrequires_grad=True";
  const std::string w_hh = "weight_hh_l0\n(12, 4) float32\nrequires_grad=True";
  const std::string b_ih = "bias_ih_l0\n(12) float32\nrequires_grad=True";
  const std::string b_hh = "bias_hh_l0\n(12) float32\nrequires_grad=True";
  check_same(fused.nodes, {sum, view, node, w_ih, w_hh, b_ih, b_hh}, "the fused layer's boxes");
  check_same(fused.edges,
             {{sum, view, ""}, {view, node, "output 0"}, {node, w_ih, ""}, {node, w_hh, ""},
              {node, b_ih, ""}, {node, b_hh, ""}},
             "the fused layer's arrows");

  // Composed (nn/recurrent.cpp), op by op: gi = X·W_ihᵀ + b_ih (transpose, mm, add) cut into
  // steps (split); gh = h·W_hhᵀ + b_hh (transpose, mm, add); r and z, each two slices, an add
  // and a sigmoid; n = tanh(slice + r ⊙ slice) (two slices, mul, add, tanh); h' = n + z ⊙ (h − n)
  // (sub, mul, add); the steps' outputs joined (cat); then the view and Σ, as above.
  std::multiset<std::string> ops{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                 "SumBackward0", "ViewBackward0", "CatBackward0",
                                 "SplitWithSizesBackward0", "SubBackward0", "TanhBackward0"};
  for (const char* twice :
       {"TransposeBackward0", "MmBackward0", "SigmoidBackward0", "MulBackward0"})
    ops.insert({twice, twice});
  for (int i = 0; i < 6; ++i) ops.insert({"AddBackward0", "SliceBackward0"});
  check_same(first_lines(composed), ops, "the composed layer's boxes");
  BOOST_CHECK_EQUAL(composed.nodes.size(), 30u);
  // Each weight reaches its box through its transpose, each bias through its add.
  const std::pair<std::string, std::string> routes[] = {
      {w_ih, "TransposeBackward0"}, {w_hh, "TransposeBackward0"},
      {b_ih, "AddBackward0"},       {b_hh, "AddBackward0"}};
  for (const auto& [leaf, via] : routes) {
    int arrows = 0;
    for (const auto& [from, to, text] : composed.edges)
      if (to == leaf) {
        ++arrows;
        BOOST_CHECK_EQUAL(from.substr(0, from.find('\n')), via);
      }
    BOOST_CHECK_EQUAL(arrows, 1);
  }
}

BOOST_AUTO_TEST_CASE(a_node_lists_exactly_the_tensors_its_own_backward_saved) {
  // Node::saved_meta: the saves inside the node's own lambda, and no other op's.
  mg::Tensor x = mg::randn({2, 3}).requires_grad_();
  const auto shapes = [](const mg::Tensor& t) {  // "[2, 3] [2]"
    std::string out;
    for (const mg::TensorMeta& meta : t.grad_fn()->saved_meta)
      out += (out.empty() ? "" : " ") + mg::shape_str(meta.shape);
    return out;
  };

  // tanh of a constant saves its output but records nothing (no input requires grad); a save
  // kept outside any lambda is nobody's. Neither reaches the next node.
  const mg::Tensor constant = mg::tanh(mg::randn({5}));
  BOOST_CHECK(!constant.requires_grad());
  const mg::SavedTensor stray = mg::save(mg::randn({9}));
  const mg::Tensor y = mg::tanh(x);
  BOOST_CHECK_EQUAL(shapes(y), "[2, 3]");

  // An op whose capture list runs another op: x.sum(1) records SumBackward1 (which saves no
  // tensor) after the first save of OuterBackward's lambda and before its node. Each node gets
  // its own: SumBackward1 none, OuterBackward both, in the order they were saved.
  mg::Tensor doubled;
  {
    mg::NoGradGuard no_grad;
    doubled = x * 2;
  }
  mg::Tensor summed;
  const mg::Tensor outer = mg::record(
      "OuterBackward", {x}, doubled,
      [first = mg::save(x), second = mg::save(summed = x.sum(1))](const mg::Tensor& grad) {
        return mg::grads(grad * 2);
      });
  BOOST_REQUIRE(summed.grad_fn());
  BOOST_CHECK_EQUAL(summed.grad_fn()->name(), "SumBackward1");
  BOOST_CHECK_EQUAL(shapes(summed), "");
  BOOST_CHECK_EQUAL(shapes(outer), "[2, 3] [2]");
  BOOST_CHECK(stray.defined());
}

BOOST_AUTO_TEST_CASE(to_dot_of_a_tensor_without_a_graph_and_of_an_undefined_one) {
  // A tensor no op made is a picture of one box, itself; an undefined tensor is an error.
  const mg::Tensor c = mg::zeros({2, 3}, mg::kFloat64);
  const Picture constant = parse_dot(mg::autograd::to_dot(c, {{"c", c}}));
  check_same(constant.nodes, {"c\n(2, 3) float64\nrequires_grad=False"}, "a constant");
  BOOST_CHECK(constant.edges.empty());
  const mg::Tensor leaf = mg::randn({4}).requires_grad_();
  const Picture alone = parse_dot(mg::autograd::to_dot(leaf));
  check_same(alone.nodes, {"(4) float32\nrequires_grad=True"}, "a leaf");
  test::check_error([] { mg::autograd::to_dot(mg::Tensor()); },
                    "to_dot: expected a defined tensor, got an undefined one");
}

BOOST_AUTO_TEST_CASE(to_dot_escapes_quotes_backslashes_and_line_breaks_in_labels) {
  // An op's name and a leaf's name may hold any character; the text must still be one label
  // each, which reads back as the original (a line break in a name becomes a space).
  const mg::Tensor w = mg::randn({2}).requires_grad_();
  mg::Tensor out;
  {
    mg::NoGradGuard no_grad;
    out = w * 1;
  }
  const mg::Tensor y = mg::record("My\"Odd\\Backward", {w}, out,
                                  [](const mg::Tensor& grad) { return mg::grads(grad); });
  const std::string dot = mg::autograd::to_dot(y, {{"layer \"one\"\nweight", w}});
  BOOST_CHECK(dot.find(R"(label="My\"Odd\\Backward\nout (2) float32")") != std::string::npos);
  const Picture picture = parse_dot(dot);
  check_same(picture.nodes,
             {"My\"Odd\\Backward\nout (2) float32",
              "layer \"one\" weight\n(2) float32\nrequires_grad=True"},
             "the odd names");
}
