// to_dot: one walk over the graph behind a tensor, writing a DOT statement per box and arrow.
//
// The walk starts at the node that made the tensor and follows next_edges, the way backward
// does, but visits each node once, breadth first, with a queue and no recursion (a graph from a
// long sequence can be 100,000 nodes deep). A node gets its number when the walk first meets
// it, so the numbers, and with them the whole text, depend only on the graph's shape. The text:
//
//   digraph autograd {
//     node [shape=box, ...];
//     n0 [label="SumBackward0\nout () float32", fillcolor=darkolivegreen1];
//     n1 [label="MulBackward0\nout (3) float32\nsaved (3) float32\nsaved (3) float32"];
//     n2 [label="x\n(3) float32\nrequires_grad=True", fillcolor=lightblue];
//     n0 -> n1;
//     n1 -> n2;
//     ...
//   }
//
// Read after graph_dot.h.
#include "core/graph_dot.h"

#include <string_view>
#include <unordered_map>

#include "core/autograd.h"

namespace minigrad::autograd {

namespace {

using Named = std::vector<std::pair<std::string, Tensor>>;

// "(2, 3) float32": the shape as torchviz writes it, the dtype as torch names it (torch.float32).
std::string describe(const Shape& shape, Dtype dtype) {
  std::string_view name = dtype_repr(dtype);
  name.remove_prefix(std::string_view("torch.").size());
  return fmt::format("({}) {}", fmt::join(shape, ", "), name);
}

// A label is a DOT string in double quotes, its lines joined by \n. Inside, a quote and a
// backslash are escaped (an unescaped backslash would start an escape of dot's own, such as \N
// for the node's name), and any other control character becomes a space.
std::string label(const std::vector<std::string>& lines) {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "\\n";
    for (const char c : lines[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
  }
  return out;
}

// A leaf's lines: its names (a tensor may be given under more than one), shape and dtype, and
// whether it requires grad.
std::vector<std::string> leaf_lines(const Tensor& leaf, const Named& named) {
  std::vector<std::string> lines;
  for (const auto& [name, tensor] : named)
    if (tensor.defined() && tensor.impl() == leaf.impl()) lines.push_back(name);
  lines.push_back(describe(leaf.shape(), leaf.dtype()));
  lines.push_back(leaf.requires_grad() ? "requires_grad=True" : "requires_grad=False");
  return lines;
}

// An op's lines: the backward's name, each output ("out 1 ..." when there are several), and
// what it saved for backward, or that backward has freed it.
std::vector<std::string> op_lines(const Node& node) {
  std::vector<std::string> lines{node.name()};
  const std::size_t outputs = node.output_meta.size();
  for (std::size_t i = 0; i < outputs; ++i) {
    const TensorMeta& out = node.output_meta[i];
    lines.push_back(fmt::format("out{} {}", outputs > 1 ? fmt::format(" {}", i) : "",
                                describe(out.shape, out.dtype)));
  }
  const auto* lambda = dynamic_cast<const LambdaNode*>(&node);
  if (lambda != nullptr && lambda->released() && !node.saved_meta.empty()) {
    lines.push_back("saved: freed");
    return lines;
  }
  for (const TensorMeta& saved : node.saved_meta)
    lines.push_back("saved " + describe(saved.shape, saved.dtype));
  return lines;
}

// The lines of the graph's own settings, and a legend for whoever opens the file.
constexpr std::string_view kHeader =
    "// The autograd graph, written by mg::autograd::to_dot (core/graph_dot.h). Grey: an op's\n"
    "// backward node (outputs, saved tensors); blue: a leaf that requires grad; green: where\n"
    "// backward starts. Arrows run the way backward does. Render with: dot -Tsvg file.dot\n"
    "digraph autograd {\n"
    "  graph [ordering=out, nodesep=0.25, ranksep=0.35];\n"
    "  node [shape=box, style=\"filled,rounded\", fillcolor=lightgrey, fontname=\"monospace\", "
    "fontsize=10, margin=\"0.12,0.06\"];\n"
    "  edge [fontname=\"monospace\", fontsize=9, arrowsize=0.7];\n";

constexpr std::string_view kRootColour = "darkolivegreen1";
constexpr std::string_view kLeafColour = "lightblue";

}  // namespace

std::string to_dot(const Tensor& t) { return to_dot(t, {}); }

std::string to_dot(const Tensor& t, const Named& named) {
  check(t.defined(), "to_dot: expected a defined tensor, got an undefined one");
  std::string nodes, edges;
  const auto add_node = [&](std::size_t id, const std::vector<std::string>& lines,
                            std::string_view colour) {
    nodes += fmt::format("  n{} [label=\"{}\"", id, label(lines));
    if (!colour.empty()) nodes += fmt::format(", fillcolor={}", colour);
    nodes += "];\n";
  };

  if (!t.grad_fn()) {
    // No op made t: the graph is t itself.
    add_node(0, leaf_lines(t, named), kRootColour);
  } else {
    // Breadth first from t's node: `order` is the queue, and a node's place in it its number.
    std::vector<const Node*> order{t.grad_fn().get()};
    std::unordered_map<const Node*, std::size_t> number{{order[0], 0}};
    for (std::size_t id = 0; id < order.size(); ++id) {
      const Node& node = *order[id];
      if (const auto* leaf = dynamic_cast<const AccumulateGrad*>(&node))
        add_node(id, leaf_lines(leaf->variable(), named), kLeafColour);
      else
        add_node(id, op_lines(node), id == 0 ? kRootColour : "");
      for (const Edge& edge : node.next_edges) {
        if (!edge.node) continue;  // an input that needs no gradient
        const auto [next, fresh] = number.try_emplace(edge.node.get(), order.size());
        if (fresh) order.push_back(edge.node.get());
        edges += fmt::format("  n{} -> n{}", id, next->second);
        if (edge.node->num_outputs() > 1)
          edges += fmt::format(" [label=\"output {}\"]", edge.input_nr);
        edges += ";\n";
      }
    }
  }
  return fmt::format("{}{}{}}}\n", kHeader, nodes, edges);
}

}  // namespace minigrad::autograd
