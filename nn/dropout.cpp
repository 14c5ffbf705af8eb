// nn::Dropout: drawing the mask and applying it. Read after dropout.h.
//
// The output is x ⊙ s, where s is a constant tensor holding 1/(1 − p) where the mask keeps an
// element and 0 where it drops one. The product is an ordinary autograd op (core/elementwise.cpp),
// so the backward is the one of a product with a constant: grad_x = grad_y ⊙ s, the gradient
// flows exactly through the elements that were kept, scaled the same way.
#include "nn/dropout.h"

#include <fmt/format.h>

#include "core/random.h"
#include "nn/repr.h"

namespace minigrad::nn {

namespace {
void check_probability(double p) {
  check(p >= 0 && p <= 1, "dropout probability has to be between 0 and 1, but got {}",
        python_float(p));
}
}  // namespace

Dropout::Dropout(double p) : Module("Dropout"), p(p) { check_probability(p); }

// y = x ⊙ m / (1 − p) while training, y = x in evaluation mode
Tensor Dropout::forward(const Tensor& input) const { return functional::dropout(input, p, is_training()); }

Tensor functional::dropout(const Tensor& input, double p, bool training) {
  check_probability(p);
  if (!training) return input;
  // PyTorch multiplies in place by a float mask, which an integer tensor cannot hold.
  check(is_floating(input.dtype()), "result type Float can't be cast to the desired output type {}",
        dtype_name(input.dtype()));
  // s_i = 1/(1 − p) with probability 1 − p (u_i < 1 − p for u_i ~ U[0, 1)), else 0. With p = 1
  // no element is kept and s is all zeros.
  const double keep = 1 - p;
  const double scale = keep > 0 ? 1 / keep : 0;
  Tensor s = empty(input.shape(), input.dtype());  // (*)
  dispatch_floating(input.dtype(), "dropout", [&]<class T>() {
    T* data = s.data_ptr<T>();
    for (std::int64_t i = 0; i < s.numel(); ++i)
      data[i] = next_uniform() < keep ? static_cast<T>(scale) : T{0};
  });
  return input * s;
}

std::string Dropout::extra_repr() const {
  return fmt::format("p={}, inplace=False", python_float(p));
}

}  // namespace minigrad::nn
