// gradcheck: numerical against analytical Jacobians; see gradcheck.h.
#include "core/gradcheck.h"

#include <cmath>

#include "core/autograd.h"

namespace minigrad {

namespace {

// "(1, 2)" for flat index 5 of shape (2, 3): the coordinates a failure message names.
std::string coordinates(std::int64_t flat, const Shape& shape) {
  Shape index(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] == 0 ? 0 : flat % shape[d];
    flat = shape[d] == 0 ? 0 : flat / shape[d];
  }
  return fmt::format("({})", fmt::join(index, ", "));
}

// f's output as float64 values, computed without recording a graph.
std::vector<double> evaluate(const GradcheckFn& fn, const std::vector<Tensor>& inputs) {
  NoGradGuard no_grad;
  return fn(inputs).contiguous().to(kFloat64).to_vector<double>();
}

}  // namespace

bool gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs,
               const GradcheckOptions& options) {
  bool any = false;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    check(x.defined(), "gradcheck: input {} is undefined", k);
    if (!x.requires_grad()) continue;
    any = true;
    check(x.dtype() == kFloat64,
          "gradcheck: input {} requires grad but is {}; gradcheck needs float64 (Double) inputs, "
          "where central differences are accurate",
          k, dtype_name(x.dtype()));
    check(x.is_leaf() && x.is_contiguous(), "gradcheck: input {} must be a contiguous leaf", k);
  }
  check(any, "gradcheck expects at least one input tensor to require gradient, but none of "
             "the them have requires_grad=True.");

  // The gradients the caller had accumulated are put back at the end: checking is not training.
  std::vector<std::shared_ptr<TensorImpl>> saved_grads;
  for (const Tensor& x : inputs) saved_grads.push_back(x.impl()->grad);
  struct Restore {
    const std::vector<Tensor>& inputs;
    std::vector<std::shared_ptr<TensorImpl>>& grads;
    ~Restore() {
      for (std::size_t k = 0; k < inputs.size(); ++k) inputs[k].impl()->grad = grads[k];
    }
  } restore{inputs, saved_grads};

  // The output once, to learn its size.
  const Tensor probe = [&] {
    NoGradGuard no_grad;
    return fn(inputs);
  }();
  check(is_floating(probe.dtype()), "gradcheck: the function must return a floating tensor");
  const std::int64_t n_out = probe.numel();

  // Analytical Jacobian rows: one backward per output element, with upstream gradient e_j.
  // analytical[k][j][i] = ∂out_j / ∂(input k)_i.
  std::vector<std::vector<std::vector<double>>> analytical(inputs.size());
  for (std::int64_t j = 0; j < n_out; ++j) {
    for (const Tensor& x : inputs)
      if (x.requires_grad()) x.impl()->grad.reset();
    const Tensor out = fn(inputs);
    check(out.requires_grad(), "gradcheck: the output does not depend on any input that "
                               "requires grad");
    std::vector<double> e(static_cast<std::size_t>(n_out), 0.0);
    e[static_cast<std::size_t>(j)] = 1.0;
    out.backward(from_vector(e, out.shape()).to(out.dtype()));
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      const Tensor& x = inputs[k];
      if (!x.requires_grad()) continue;
      const Tensor g = x.grad();
      analytical[k].push_back(g.defined() ? g.contiguous().to_vector<double>()
                                          : std::vector<double>(static_cast<std::size_t>(x.numel()), 0.0));
    }
  }

  // Numerical columns: nudge one input element at a time, in place, and put it back.
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    double* data = x.data_ptr<double>();
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      const double original = data[i];
      data[i] = original + options.eps;
      const std::vector<double> plus = evaluate(fn, inputs);
      data[i] = original - options.eps;
      const std::vector<double> minus = evaluate(fn, inputs);
      data[i] = original;
      for (std::int64_t j = 0; j < n_out; ++j) {
        const auto jj = static_cast<std::size_t>(j);
        const double numerical = (plus[jj] - minus[jj]) / (2 * options.eps);
        const double analytic = analytical[k][jj][static_cast<std::size_t>(i)];
        if (std::abs(numerical - analytic) <= options.atol + options.rtol * std::abs(numerical))
          continue;
        if (!options.raise_exception) return false;
        throw Error(fmt::format(
            "gradcheck: Jacobian mismatch for input {} (shape {}), element {} {}, output element "
            "{}: numerical {:.10g}, analytical {:.10g} (atol {}, rtol {})",
            k, x.shape(), i, coordinates(i, x.shape()), j, numerical, analytic,
            options.atol, options.rtol));
      }
    }
  }
  return true;
}

}  // namespace minigrad
