// The autograd engine: leaves, accumulation, detach, NoGradGuard, retain_graph, version counters,
// deep graphs, and gradcheck itself (that it catches a wrong backward).
#define BOOST_TEST_MODULE autograd
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
