// gradcheck: does backward compute the derivative that the forward actually has?
//
// For a function f of some float64 tensors, gradcheck compares two Jacobians, input by input and
// element by element:
//   numerical:  ∂f_j/∂x_i ≈ (f(x + ε e_i)_j − f(x − ε e_i)_j) / 2ε   (central differences)
//   analytical: row j of the Jacobian is what backward returns for the upstream gradient e_j.
// They must agree within atol + rtol·|numerical|. On the first disagreement it names the input,
// the element (flat index and coordinates), the output element, and both values.
//
//   auto f = [](const std::vector<mg::Tensor>& in) { return (in[0] * in[1]).tanh(); };
//   mg::gradcheck(f, {a, b});   // a, b: float64 tensors with requires_grad_()
//
// Tests wrap f in a random upstream gradient — (f(x) ⊙ w).sum() — so that one backward covers
// every output and a gradient that lands on the wrong element cannot pass (STYLE.md, rule 6).
#pragma once

#include <functional>
#include <vector>

#include "core/tensor.h"

namespace minigrad {

struct GradcheckOptions {
  double eps = 1e-6;   // the step of the central difference, PyTorch's default
  double atol = 1e-5;  // PyTorch's defaults for both tolerances
  double rtol = 1e-3;
  bool raise_exception = true;  // throw Error with the details, else return false
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

// True when every analytical gradient matches its numerical estimate.
bool gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs,
               const GradcheckOptions& options = {});

}  // namespace minigrad
