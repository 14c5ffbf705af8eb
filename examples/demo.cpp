// The smallest complete training loop: fit y = sin(x) with a two-layer network, using nothing but
// tensors and autograd.
//
// It shows the three steps every minigrad program repeats:
//   1. forward:  compute the loss from the parameters with ordinary tensor ops;
//   2. backward: loss.backward() fills each parameter's grad() with ∂loss/∂parameter;
//   3. update:   step each parameter against its gradient, under NoGradGuard so that the update
//                itself is not recorded, then clear the gradients (they accumulate otherwise).
// The nn and optim packages wrap exactly these steps (nn::Linear, optim::SGD); here they are
// written out by hand.
//
//   build/examples/demo
#include <cmath>
#include <cstdio>
#include <vector>

#include "minigrad.h"

namespace mg = minigrad;

int main() {
  mg::manual_seed(0);

  // The data: 64 points of sin on [−π, π], made as C++ vectors.
  std::vector<float> xs, ys;
  for (int i = 0; i < 64; ++i) {
    xs.push_back(static_cast<float>((i / 63.0 * 2.0 - 1.0) * M_PI));
    ys.push_back(std::sin(xs.back()));
  }
  const mg::Tensor inputs = mg::from_vector(xs, {64, 1});                            // (64, 1)
  const mg::Tensor targets = mg::from_vector(ys, {64, 1});                           // (64, 1)

  // The model: 1 → 32 → 1, tanh in between, weights scaled by 1/√fan_in.
  const int hidden = 32;
  mg::Tensor w1 = mg::randn({1, hidden}).requires_grad_();                          // (1, 32)
  mg::Tensor b1 = mg::zeros({hidden}).requires_grad_();                             // (32)
  mg::Tensor w2 = (mg::randn({hidden, 1}) / std::sqrt(hidden)).requires_grad_();    // (32, 1)
  mg::Tensor b2 = mg::zeros({1}).requires_grad_();                                  // (1)
  std::vector<mg::Tensor> parameters{w1, b1, w2, b2};

  // Plain gradient descent is stable only below 2 / (the loss's largest curvature). For the output
  // layer that curvature is about 2·Σ_j h_j² ≈ 32 here, so the step must stay under ~0.06; 0.04
  // leaves a margin, and the loss falls smoothly.
  const double learning_rate = 0.04;
  std::printf("fitting sin(x) with a 1-%d-1 tanh network, plain gradient descent\n", hidden);
  for (int step = 0; step <= 5000; ++step) {
    // 1. Forward: prediction and mean squared error.
    const mg::Tensor h = mg::tanh(mg::matmul(inputs, w1) + b1);                     // (64, 32)
    const mg::Tensor prediction = mg::matmul(h, w2) + b2;                          // (64, 1)
    const mg::Tensor error = prediction - targets;
    const mg::Tensor loss = (error * error).mean();

    // 2. Backward.
    loss.backward();

    // 3. Update, then clear the gradients for the next step.
    {
      mg::NoGradGuard no_grad;
      for (mg::Tensor& p : parameters) {
        p.copy_(p - learning_rate * p.grad());
        p.set_grad(mg::Tensor());
      }
    }
    if (step % 500 == 0) std::printf("step %4d   loss %.6f\n", step, loss.item<float>());
  }
  return 0;
}
