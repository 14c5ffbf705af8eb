// Reverse-mode automatic differentiation: the graph that ops record, and how backward walks it.
//
// Define-by-run: each op whose input requires grad (while grad mode is on) records a Node in the
// graph. The node's edges point at the nodes that produced its inputs; it keeps only what its
// backward needs, as SavedTensors. backward() walks the graph from the loss towards the leaves:
// every node receives ∂loss/∂(its outputs) and returns ∂loss/∂(its inputs), the chain rule one
// link at a time. A leaf that requires grad is reached through its AccumulateGrad node, which
// adds (never assigns) into the leaf's grad().
//
// An op records itself with record(), giving its backward as a lambda right under its forward:
//
//   // y = tanh(x)
//   Tensor y = ...compute...;
//   // The forward was y = tanh(x), so dy/dx = 1 − y² and grad_x = grad_y ⊙ (1 − y²).
//   return record("TanhBackward0", {x}, y, [y = save(y)](const Tensor& grad_y) {
//     Tensor out = y.unpack();
//     return grads(grad_y * (1 - out * out));
//   });
//
// The engine itself (autograd.cpp) is documented in docs/autograd.md. Read after tensor.h; then
// any op file, elementwise.cpp first.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace minigrad {

// ---- Grad mode --------------------------------------------------------------------------------

// Whether ops record the graph right now, on this thread.
bool grad_mode_enabled();

// Turns recording off for its scope, as torch.no_grad() does:
//   { mg::NoGradGuard guard; w.copy_(w - lr * w.grad()); }
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// ---- Saved tensors ----------------------------------------------------------------------------

// A tensor kept for backward, with the version its storage had when it was saved. unpack()
// refuses if the storage has been written in place since, because backward would then use
// values the forward never saw. It keeps the values only (a detached alias), so a node that
// saves its own output does not keep itself alive through it. With grad mode off it keeps
// nothing, since no node will be recorded.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t);
  Tensor unpack() const;
  bool defined() const { return data_.defined(); }

 private:
  Tensor data_;
  std::uint64_t version_ = 0;
};

inline SavedTensor save(const Tensor& t) { return SavedTensor(t); }

// ---- The graph ----------------------------------------------------------------------------------

// Where a gradient goes: input number `input_nr` of `node`. An edge without a node leads to an
// input that needs no gradient.
struct Edge {
  std::shared_ptr<Node> node;
  int input_nr = 0;
};

// The shape and dtype of one input or output of a node: what its gradient must look like.
struct TensorMeta {
  Shape shape;
  Dtype dtype;
};

class Node {
 public:
  Node(std::string name, int num_outputs) : name_(std::move(name)), num_outputs_(num_outputs) {}
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // PyTorch's name for the node ("MulBackward0"), shown in errors and in a tensor's repr.
  const std::string& name() const { return name_; }
  int num_outputs() const { return num_outputs_; }

  // Given ∂loss/∂(each output of the forward) (undefined where an output got no gradient),
  // returns ∂loss/∂(each input), one per edge (undefined where none is needed).
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grad_outputs) = 0;

  // Frees what the node saved for backward; called after it ran unless retain_graph was set.
  // Running a released node again is the error PyTorch gives for a second backward.
  virtual void release_saved() {}

  // One edge per input of the forward, in the order the op took them, and what each input and
  // output looked like.
  std::vector<Edge> next_edges;
  std::vector<TensorMeta> input_meta;
  std::vector<TensorMeta> output_meta;

 private:
  std::string name_;
  int num_outputs_;
};

// The edge along which the gradient for `t` travels: to t's grad_fn, to the AccumulateGrad of a
// leaf that requires grad, or nowhere.
Edge gradient_edge(const Tensor& t);

// Whether an op on `inputs` must record itself: grad mode is on and some input requires grad.
bool any_requires_grad(const std::vector<Tensor>& inputs);

// ---- Recording an op ------------------------------------------------------------------------

// The list of input gradients a backward lambda returns: grads(grad_a, grad_b).
template <class... Ts>
std::vector<Tensor> grads(Ts&&... ts) {
  return std::vector<Tensor>{std::forward<Ts>(ts)...};
}

// Which inputs need a gradient, so a backward can skip work (a matmul need not compute the
// gradient of a constant operand).
using NeedsGrad = std::vector<bool>;

// A node whose backward is a lambda: the form every op in minigrad uses.
class LambdaNode final : public Node {
 public:
  using Backward = std::function<std::vector<Tensor>(const std::vector<Tensor>&, const NeedsGrad&)>;
  LambdaNode(std::string name, int num_outputs, Backward backward)
      : Node(std::move(name), num_outputs), backward_(std::move(backward)) {}
  std::vector<Tensor> apply(std::vector<Tensor>&& grad_outputs) override;
  void release_saved() override {
    backward_ = nullptr;
    released_ = true;
  }

 private:
  Backward backward_;
  bool released_ = false;
};

// Connects `outputs` (the results of one op) to a new node, if any input requires grad, and
// returns them. `backward` maps the gradients of the outputs to those of the inputs.
std::vector<Tensor> record_node(std::string name, const std::vector<Tensor>& inputs,
                                std::vector<Tensor> outputs, LambdaNode::Backward backward);

// The single-output form. `backward` takes (grad_output) or (grad_output, needs_grad) and
// returns one gradient per input. An output that gets no gradient is passed to it as zeros.
template <class Fn>
Tensor record(std::string name, const std::vector<Tensor>& inputs, Tensor output, Fn&& backward) {
  if (!any_requires_grad(inputs)) return output;
  LambdaNode::Backward wrapped = [fn = std::forward<Fn>(backward)](
                                     const std::vector<Tensor>& grad_outputs,
                                     const NeedsGrad& needs) {
    if constexpr (std::is_invocable_v<Fn&, const Tensor&, const NeedsGrad&>)
      return fn(grad_outputs[0], needs);
    else
      return fn(grad_outputs[0]);
  };
  return record_node(std::move(name), inputs, {std::move(output)}, std::move(wrapped))[0];
}

// ---- Running backward --------------------------------------------------------------------------

// Backpropagates from `roots` with the given gradients (see Tensor::backward).
void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
                  bool retain_graph);

}  // namespace minigrad
