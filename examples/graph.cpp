// Pictures of the autograd graph: three small computations, each written out as a Graphviz file
// by mg::autograd::to_dot (core/graph_dot.h).
//
// Autograd records a graph while the forward runs (docs/autograd.md); backward walks it from the
// loss to the leaves. This program builds three such graphs and writes each one down:
//   expression.dot    the chapter's example, loss = Σ (x ⊙ w + x): a leaf used twice;
//   gru_composed.dot  one step of a GRU built from autograd ops (nn/recurrent.cpp), the
//                     readable reference: every gate's product, sum and activation is a node;
//   gru_fused.dot     the same step through the fused layer the GRU runs by default
//                     (nn/fused_recurrent.cpp): one FusedGRUBackward node, whose hand-written
//                     backward does the work of all of those, and what it saves to do so.
// The last two have the same leaves, the four parameters, labelled with their names.
//
//   build/examples/graph [DIR]                  (DIR defaults to the current directory)
//   dot -Tsvg DIR/gru_fused.dot -o gru_fused.svg
//
// `dot` is Graphviz's (Debian package graphviz); the annotated edition (scripts/docs.sh) runs
// this program and renders all three.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>

#include "minigrad.h"

namespace mg = minigrad;

namespace {

// The boxes in a DOT text from to_dot: its lines that declare a node, `  n7 [label=...]` (an
// arrow's line is `  n3 -> n7 ...`).
int count_nodes(const std::string& dot) {
  static const std::regex node_line(R"(^  n[0-9]+ \[label=)");
  std::istringstream lines(dot);
  int nodes = 0;
  for (std::string line; std::getline(lines, line);)
    if (std::regex_search(line, node_line)) ++nodes;
  return nodes;
}

// Writes `dot` to DIR/name and says so, with the number of boxes; false if it could not.
bool write(const std::filesystem::path& dir, const std::string& name, const std::string& dot) {
  const std::filesystem::path path = dir / name;
  std::ofstream file(path);
  file << dot;
  file.close();
  if (!file) {
    std::fprintf(stderr, "graph: cannot write %s\n", path.c_str());
    return false;
  }
  std::printf("%s: %d nodes\n", path.c_str(), count_nodes(dot));
  return true;
}

// One GRU step and a loss on its output: x (T = 1, B = 2, I = 3) → output (1, 2, H = 4).
mg::Tensor gru_step_loss(mg::nn::GRU& gru, const mg::Tensor& x) {
  auto [output, h_n] = gru(x);
  return output.pow(2).mean();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2) {
    std::fprintf(stderr, "usage: %s [DIR]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argc == 2 ? argv[1] : ".";
  std::error_code error;  // a directory that cannot be made shows below, as files not written
  std::filesystem::create_directories(dir, error);
  mg::manual_seed(0);

  // 1. An expression: x and w are leaves; x feeds the product and the sum, so two arrows end at
  //    its box, and backward adds what arrives along them.
  mg::Tensor x = mg::randn({3}).requires_grad_();
  mg::Tensor w = mg::randn({3}).requires_grad_();
  mg::Tensor loss = (x * w + x).sum();
  bool ok = write(dir, "expression.dot", mg::autograd::to_dot(loss, {{"x", x}, {"w", w}}));

  // 2. and 3. One step of a GRU, I = 3 → H = 4, on a batch of two: the same module, the same
  //    input, through each of the two layer implementations. The input is data, not a leaf
  //    that requires grad, so it has no box.
  mg::nn::GRU gru(3, 4);
  const mg::Tensor input = mg::randn({1, 2, 3});                                  // (T, B, I)
  const mg::Tensor fused_loss = gru_step_loss(gru, input);
  gru.set_layer_implementation(std::make_shared<mg::nn::ComposedLayer>());
  const mg::Tensor composed_loss = gru_step_loss(gru, input);
  const auto names = gru.named_parameters();  // "weight_ih_l0", ...
  ok = write(dir, "gru_composed.dot", mg::autograd::to_dot(composed_loss, names)) && ok;
  ok = write(dir, "gru_fused.dot", mg::autograd::to_dot(fused_loss, names)) && ok;
  return ok ? 0 : 1;
}
