// The autograd engine: recording nodes, and running backward over the graph they form.
//
// backward() in four steps (docs/autograd.md draws them):
//   1. Seed: the gradient of the root with respect to itself goes to the root's grad_fn.
//   2. Count: walk every node reachable from the root once and count, for each node, how many
//      edges point at it — how many gradients it must wait for.
//   3. Run: a node whose count has reached zero has all of its gradients, summed; apply() turns
//      them into gradients for its inputs, which are added into the waiting buffers of the nodes
//      behind it, whose counts go down by one.
//   4. Leaves: an AccumulateGrad node adds the gradient that reaches it into its leaf's grad().
// The walks in steps 2 and 3 use explicit stacks, never recursion, so a graph 100,000 ops deep
// (a long sequence through an RNN) cannot overflow the call stack; the same holds for freeing
// such a graph (Node::~Node).
#include "core/autograd.h"

#include <cstdint>
#include <iterator>
#include <unordered_map>
#include <unordered_set>

namespace minigrad {

// ---- Grad mode --------------------------------------------------------------------------------

namespace {
thread_local bool grad_mode = true;
}

bool grad_mode_enabled() { return grad_mode; }

NoGradGuard::NoGradGuard() : previous_(grad_mode) { grad_mode = false; }
NoGradGuard::~NoGradGuard() { grad_mode = previous_; }

// ---- Saved tensors ----------------------------------------------------------------------------

namespace {

// The calling thread's unclaimed saves (see SavedTensor in autograd.h): where each SavedTensor
// that keeps something lives now, and what it keeps. The list stays short: an op's saves are
// claimed by its own node, or destroyed with its lambda, before the op returns. Each thread has
// its own, so a save made on one thread is never claimed by a node recorded on another.
struct Unclaimed {
  const SavedTensor* where;
  TensorMeta meta;
};
thread_local std::vector<Unclaimed> unclaimed;

}  // namespace

SavedTensor::SavedTensor(const Tensor& t) {
  // With grad mode off no node will be recorded, so there is nothing to keep.
  if (!t.defined() || !grad_mode_enabled()) return;
  data_ = t.detach();
  version_ = t.version();
  unclaimed.push_back({this, {data_.shape(), data_.dtype()}});
}

SavedTensor::SavedTensor(SavedTensor&& other) noexcept
    : data_(std::move(other.data_)), version_(other.version_) {
  if (!data_.defined()) return;
  for (Unclaimed& entry : unclaimed)
    if (entry.where == &other) {
      entry.where = this;
      return;
    }
}

SavedTensor::~SavedTensor() {
  if (!data_.defined()) return;
  for (auto entry = unclaimed.rbegin(); entry != unclaimed.rend(); ++entry)
    if (entry->where == this) {
      unclaimed.erase(std::next(entry).base());
      return;
    }
}

std::vector<TensorMeta> claim_saved_tensors(const void* object, std::size_t size) {
  // Addresses compared as integers: `where` is inside the object when its offset from the
  // object's first byte is below the object's size (an address below the first byte wraps round
  // to a huge offset).
  const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(object);
  const auto inside = [first, size](const Unclaimed& entry) {
    return reinterpret_cast<std::uintptr_t>(entry.where) - first < size;
  };
  std::vector<TensorMeta> claimed;
  for (Unclaimed& entry : unclaimed)
    if (inside(entry)) claimed.push_back(std::move(entry.meta));
  std::erase_if(unclaimed, inside);
  return claimed;
}

Tensor SavedTensor::unpack() const {
  if (!data_.defined()) return data_;
  if (data_.version() != version_) {
    static constexpr std::string_view kTypeNames[] = {"Bool", "Long", "Float", "Double"};
    throw Error(fmt::format(
        "one of the variables needed for gradient computation has been modified by an inplace "
        "operation: [torch.{}Tensor {}] is at version {}; expected version {} instead. Hint: "
        "the tensor was saved for backward when it was used, and changed in place (copy_, "
        "fill_, zero_, ...) before backward ran; change a clone instead.",
        kTypeNames[static_cast<int>(data_.dtype())], data_.shape(), data_.version(), version_));
  }
  return data_;
}

// ---- Nodes ------------------------------------------------------------------------------------

// Freeing a graph: letting each node's edges release the next node would recurse once per node
// and overflow the stack on a long chain. Instead a node hands its edges to a worklist, and the
// outermost destructor drains it in a loop.
Node::~Node() {
  thread_local std::vector<std::shared_ptr<Node>> pending;
  thread_local bool draining = false;
  for (Edge& edge : next_edges)
    if (edge.node) pending.push_back(std::move(edge.node));
  if (draining) return;
  draining = true;
  while (!pending.empty()) {
    std::shared_ptr<Node> last = std::move(pending.back());
    pending.pop_back();
    last.reset();  // may run ~Node, which only appends to `pending`
  }
  draining = false;
}

AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> leaf)
    : Node("AccumulateGrad", 1), leaf_(std::move(leaf)) {
  output_meta.push_back({leaf_->shape, leaf_->dtype});
}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grad_outputs) {
  const Tensor& grad = grad_outputs[0];
  if (!grad.defined()) return {};
  if (!leaf_->grad) {
    // The first gradient is copied into fresh memory, so that it never aliases a tensor the user
    // holds (the upstream gradient they passed, say).
    leaf_->grad = grad.clone().impl_ptr();
  } else {
    // Gradients accumulate: grad += incoming.
    Tensor accumulated(leaf_->grad);
    accumulated.copy_(accumulated + grad);
  }
  return {};
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined()) return {};
  TensorImpl* impl = t.impl();
  if (impl->grad_fn) return {impl->grad_fn, impl->output_nr};
  if (!impl->requires_grad) return {};
  std::shared_ptr<Node> accumulator = impl->grad_accumulator.lock();
  if (!accumulator) {
    accumulator = std::make_shared<AccumulateGrad>(t.impl_ptr());
    impl->grad_accumulator = accumulator;
  }
  return {accumulator, 0};
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_mode_enabled()) return false;
  for (const Tensor& input : inputs)
    if (input.defined() && input.requires_grad()) return true;
  return false;
}

std::vector<Tensor> LambdaNode::apply(std::vector<Tensor>&& grad_outputs) {
  check(!released_,
        "Trying to backward through the graph a second time (or directly access saved tensors "
        "after they have already been freed). Saved intermediate values of the graph are freed "
        "when you call .backward(). Specify retain_graph=true if you need to backward through "
        "the graph a second time or if you need to access saved tensors after calling "
        "backward. (while running {})",
        name());
  // An output that received no gradient contributes nothing: zeros keep the lambdas simple.
  for (std::size_t i = 0; i < grad_outputs.size(); ++i)
    if (!grad_outputs[i].defined()) grad_outputs[i] = zeros(output_meta[i].shape, output_meta[i].dtype);
  NeedsGrad needs(next_edges.size());
  for (std::size_t i = 0; i < next_edges.size(); ++i) needs[i] = next_edges[i].node != nullptr;
  return backward_(grad_outputs, needs);
}

std::vector<Tensor> record_node(std::string name, const std::vector<Tensor>& inputs,
                                std::vector<Tensor> outputs, LambdaNode::Backward backward) {
  if (!any_requires_grad(inputs)) return outputs;
  auto node = std::make_shared<LambdaNode>(std::move(name), static_cast<int>(outputs.size()),
                                           std::move(backward));
  for (const Tensor& input : inputs) {
    node->next_edges.push_back(gradient_edge(input));
    node->input_meta.push_back(input.defined() ? TensorMeta{input.shape(), input.dtype()}
                                               : TensorMeta{{}, kFloat32});
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    TensorImpl* out = outputs[i].impl();
    out->grad_fn = node;
    out->output_nr = static_cast<int>(i);
    node->output_meta.push_back({out->shape, out->dtype});
  }
  return outputs;
}

// ---- The engine -------------------------------------------------------------------------------

namespace {

// Adds `grad` into slot `index` of a node's waiting gradients.
void accumulate_into(std::vector<Tensor>& buffer, int index, Tensor grad) {
  Tensor& slot = buffer[static_cast<std::size_t>(index)];
  slot = slot.defined() ? slot + grad : std::move(grad);
}

void check_gradient(const Node& node, std::size_t i, const Tensor& grad) {
  const TensorMeta& meta = node.input_meta[i];
  check(grad.shape() == meta.shape && grad.dtype() == meta.dtype,
        "Function {} returned an invalid gradient at index {} - got {} {} but expected {} {}",
        node.name(), i, dtype_name(grad.dtype()), grad.shape(), dtype_name(meta.dtype),
        meta.shape);
}

}  // namespace

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
                  bool retain_graph) {
  NoGradGuard no_grad;  // backward computes with plain ops; it records no graph of its own

  // 1. Seed each root's node with the root's gradient.
  std::unordered_map<Node*, std::vector<Tensor>> waiting;  // gradients arriving at each node
  std::vector<std::shared_ptr<Node>> seeds;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    const Edge edge = gradient_edge(roots[i]);
    check(edge.node != nullptr,
          "element {} of tensors does not require grad and does not have a grad_fn", i);
    auto [slot, fresh] = waiting.try_emplace(edge.node.get());
    if (fresh) slot->second.resize(static_cast<std::size_t>(edge.node->num_outputs()));
    accumulate_into(slot->second, edge.input_nr, grad_roots[i]);
    seeds.push_back(edge.node);
  }

  // 2. Count, for every reachable node, the edges that lead into it.
  std::unordered_map<Node*, int> dependencies;
  std::unordered_set<Node*> seen;
  std::vector<Node*> to_visit;
  for (const auto& seed : seeds)
    if (seen.insert(seed.get()).second) to_visit.push_back(seed.get());
  while (!to_visit.empty()) {
    Node* node = to_visit.back();
    to_visit.pop_back();
    for (const Edge& edge : node->next_edges) {
      if (!edge.node) continue;
      ++dependencies[edge.node.get()];
      if (seen.insert(edge.node.get()).second) to_visit.push_back(edge.node.get());
    }
  }

  // 3. Run each node once all the gradients it waits for have arrived.
  std::vector<std::shared_ptr<Node>> ready;
  for (const auto& seed : seeds)
    if (dependencies[seed.get()] == 0 &&
        std::find(ready.begin(), ready.end(), seed) == ready.end())
      ready.push_back(seed);
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();

    std::vector<Tensor> grad_outputs;
    if (auto it = waiting.find(node.get()); it != waiting.end()) {
      grad_outputs = std::move(it->second);
      waiting.erase(it);
    }
    const bool any_gradient = std::any_of(grad_outputs.begin(), grad_outputs.end(),
                                          [](const Tensor& g) { return g.defined(); });
    std::vector<Tensor> grad_inputs;
    if (any_gradient) {
      grad_outputs.resize(static_cast<std::size_t>(node->num_outputs()));
      grad_inputs = node->apply(std::move(grad_outputs));
      if (!retain_graph) node->release_saved();
    }

    for (std::size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& edge = node->next_edges[i];
      if (!edge.node) continue;
      if (i < grad_inputs.size() && grad_inputs[i].defined()) {
        check_gradient(*node, i, grad_inputs[i]);
        auto [slot, fresh] = waiting.try_emplace(edge.node.get());
        if (fresh) slot->second.resize(static_cast<std::size_t>(edge.node->num_outputs()));
        accumulate_into(slot->second, edge.input_nr, std::move(grad_inputs[i]));
      }
      if (--dependencies[edge.node.get()] == 0) ready.push_back(edge.node);
    }
  }
}

// ---- Tensor's autograd methods ------------------------------------------------------------------

Tensor& Tensor::requires_grad_(bool requires_grad) {
  const TensorImpl& self = checked();
  if (!is_leaf()) {
    check(requires_grad,
          "you can only change requires_grad flags of leaf variables. If you want to use a "
          "computed variable in a subgraph that doesn't require differentiation use "
          "var_no_grad = var.detach().");
    return *this;
  }
  check(!requires_grad || is_floating(self.dtype),
        "only Tensors of floating point dtype can require gradients (got {})",
        dtype_name(self.dtype));
  impl_->requires_grad = requires_grad;
  return *this;
}

bool Tensor::requires_grad() const {
  const TensorImpl& self = checked();
  return self.requires_grad || self.grad_fn != nullptr;
}

bool Tensor::is_leaf() const { return checked().grad_fn == nullptr; }

Tensor Tensor::grad() const { return Tensor(checked().grad); }

void Tensor::set_grad(const Tensor& grad) {
  checked();
  if (grad.defined())
    check(grad.shape() == shape() && grad.dtype() == dtype(),
          "assigned grad has data of a different size or type: expected {} {}, got {} {}",
          dtype_name(dtype()), shape(), dtype_name(grad.dtype()),
          grad.shape());
  impl_->grad = grad.impl_ptr();
}

const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked().grad_fn; }

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  checked();
  Tensor seed = gradient;
  if (!seed.defined()) {
    check(numel() == 1, "grad can be implicitly created only for scalar outputs");
    seed = ones(shape(), dtype());
  }
  check(seed.shape() == shape(),
        "Mismatch in shape: grad_output[0] has a shape of {} and output[0] has a shape of {}.",
        seed.shape(), shape());
  check(seed.dtype() == dtype(),
        "backward: expected the gradient to have dtype {} like the tensor, got {}",
        dtype_name(dtype()), dtype_name(seed.dtype()));
  run_backward({*this}, {seed}, retain_graph);
}

Tensor Tensor::detach() const {
  const TensorImpl& self = checked();
  auto out = std::make_shared<TensorImpl>();
  out->storage = self.storage;
  out->dtype = self.dtype;
  out->shape = self.shape;
  out->strides = self.strides;
  out->offset = self.offset;
  return Tensor(std::move(out));
}

std::uint64_t Tensor::version() const { return checked().storage->version(); }

}  // namespace minigrad
