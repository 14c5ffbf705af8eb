// A program written outside the tree, built only from what `meson install` put in place and the
// flags `pkg-config --cflags --libs minigrad` gives: it proves the headers and library install.
#include <cstdio>

#include "minigrad.h"

namespace mg = minigrad;

int main() {
  mg::Tensor x = mg::from_vector(std::vector<double>{1.0, 2.0, 3.0}).requires_grad_();
  (x * x).sum().backward();  // d/dx Σ x² = 2x
  const auto grad = x.grad().to_vector<double>();
  const bool ok = grad == std::vector<double>{2.0, 4.0, 6.0};
  std::printf("installed minigrad: grad of sum(x*x) at [1, 2, 3] is [%g, %g, %g]: %s\n", grad[0],
              grad[1], grad[2], ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
