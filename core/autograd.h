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
// The engine itself (autograd.cpp) is documented in docs/autograd.md; core/graph_dot.h draws the
// graph that ops record. Read after tensor.h; then any op file, elementwise.cpp first.
#pragma once

#include <cstddef>
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

// The shape and dtype of a tensor a node deals with: one of its inputs or outputs (what their
// gradients must look like), or one of the tensors it saved.
struct TensorMeta {
  Shape shape;
  Dtype dtype;
};

// A tensor kept for backward, with the version its storage had when it was saved. unpack()
// refuses if the storage has been written in place since, because backward would then use
// values the forward never saw. It keeps the values only (a detached alias), so a node that
// saves its own output does not keep itself alive through it. With grad mode off it keeps
// nothing, since no node will be recorded.
//
// A node also lists the shapes and dtypes of what it saved (Node::saved_meta, which
// core/graph_dot.h draws). The saved tensors themselves are captures of the node's backward
// lambda, and C++ cannot list a lambda's captures, so the list is found by address: a
// SavedTensor that keeps something is entered, with its address, in its thread's list of
// unclaimed saves (a move updates the address, destruction removes the entry), and when the
// lambda is handed to record() or record_node() the node claims the entries that lie inside the
// lambda object: exactly its captures. An op that saves and then records nothing, because no
// input requires grad, leaves nothing behind, since its lambda and the saves in it are destroyed;
// and no node can claim another op's saves, which live in another lambda. So: save() in the
// capture list, as every op does. (A SavedTensor kept elsewhere, in a vector say, is not listed.)
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t);
  SavedTensor(const SavedTensor& other) = default;  // a copy is not listed; the original is
  SavedTensor(SavedTensor&& other) noexcept;        // takes over the original's entry
  SavedTensor& operator=(const SavedTensor&) = delete;
  SavedTensor& operator=(SavedTensor&&) = delete;
  ~SavedTensor();

  Tensor unpack() const;
  bool defined() const { return data_.defined(); }

 private:
  Tensor data_;
  std::uint64_t version_ = 0;
};

inline SavedTensor save(const Tensor& t) { return SavedTensor(t); }

// Takes out of the calling thread's list the unclaimed saves that lie in the `size` bytes at
// `object` (a backward lambda), and returns their shapes and dtypes in the order they were saved.
std::vector<TensorMeta> claim_saved_tensors(const void* object, std::size_t size);

// ---- The graph ----------------------------------------------------------------------------------

// Where a gradient goes: input number `input_nr` of `node`. An edge without a node leads to an
// input that needs no gradient.
struct Edge {
  std::shared_ptr<Node> node;
  int input_nr = 0;
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
  // output looked like; and what the node saved for backward (see SavedTensor), in the order
  // it saved them.
  std::vector<Edge> next_edges;
  std::vector<TensorMeta> input_meta;
  std::vector<TensorMeta> output_meta;
  std::vector<TensorMeta> saved_meta;

 private:
  std::string name_;
  int num_outputs_;
};

// The node at the end of every path to a leaf that requires grad: adds the gradient into the
// leaf's grad(). It holds the leaf; the leaf holds it only weakly (TensorImpl::grad_accumulator),
// so every path through the graph to one leaf ends at the same node, and there is no cycle.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf);
  std::vector<Tensor> apply(std::vector<Tensor>&& grad_outputs) override;
  // The leaf, as PyTorch's AccumulateGrad.variable.
  Tensor variable() const { return Tensor(leaf_); }

 private:
  std::shared_ptr<TensorImpl> leaf_;
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

// A backward lambda on its way into a node, and what it saved. A lambda converts to it, and
// converting claims the lambda's saves (see SavedTensor) before the lambda is moved away.
struct BackwardFunction {
  using Signature = std::vector<Tensor>(const std::vector<Tensor>& grad_outputs,
                                        const NeedsGrad& needs);
  template <class Lambda>
    requires(!std::is_same_v<std::remove_cvref_t<Lambda>, BackwardFunction>)
  BackwardFunction(Lambda&& lambda)  // implicit: ops pass their lambda as it is
      : saved(claim_saved_tensors(std::addressof(lambda), sizeof(lambda))),
        call(std::forward<Lambda>(lambda)) {}

  std::vector<TensorMeta> saved;  // claimed first: the member initialisers run in this order
  std::function<Signature> call;
};

// A node whose backward is a lambda: the form every op in minigrad uses.
class LambdaNode final : public Node {
 public:
  using Backward = BackwardFunction;
  LambdaNode(std::string name, int num_outputs, Backward backward)
      : Node(std::move(name), num_outputs), backward_(std::move(backward.call)) {
    saved_meta = std::move(backward.saved);
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& grad_outputs) override;
  void release_saved() override {
    backward_ = nullptr;
    released_ = true;
  }
  // Whether release_saved() has run: saved_meta then lists what the node no longer holds.
  bool released() const { return released_; }

 private:
  std::function<BackwardFunction::Signature> backward_;
  bool released_ = false;
};

// Connects `outputs` (the results of one op) to a new node, if any input requires grad, and
// returns them. `backward` maps the gradients of the outputs to those of the inputs.
std::vector<Tensor> record_node(std::string name, const std::vector<Tensor>& inputs,
                                std::vector<Tensor> outputs, LambdaNode::Backward backward);

// The single-output form. `backward` takes (grad_output) or (grad_output, needs_grad) and
// returns one gradient per input. An output that gets no gradient is passed to it as zeros.
// Pass the lambda itself (or std::move it): it is moved into the node with its saves.
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
