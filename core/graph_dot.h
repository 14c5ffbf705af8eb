// mg::autograd::to_dot: the graph that produced a tensor, as a Graphviz picture.
//
// The graph autograd.h records is invisible while a program runs; to_dot writes it out as DOT
// text, the language of Graphviz's `dot`, as PyTorch users draw theirs with torchviz:
//
//   mg::Tensor loss = ...;
//   std::ofstream("loss.dot") << mg::autograd::to_dot(loss, model.named_parameters());
//   $ dot -Tsvg loss.dot -o loss.svg          (Debian package graphviz)
//
// What the picture shows:
//   - one grey box per recorded op: its backward's name as PyTorch's grad_fn names it
//     (MmBackward0; a fused recurrent layer is one FusedGRUBackward), the shape and dtype of
//     each output, and the shape and dtype of each tensor it saved for backward (see SavedTensor
//     in autograd.h), or "saved: freed" once a backward without retain_graph has run through it;
//   - one blue box per leaf that requires grad (the AccumulateGrad node that backward ends at):
//     its name when it is one of `named`, its shape and dtype, requires_grad=True;
//   - arrows the way backward runs: from the node that made `t` (green, at the top) towards the
//     leaves, one per input that needs a gradient, in the order the op took its inputs. An arrow
//     into a node of several outputs says which output's gradient it carries ("output 1").
//     torchviz draws its arrows the other way, the way the forward ran.
// Inputs that need no gradient (data, constants) are not drawn: backward never goes there.
// A tensor no op made is a graph of one box: itself, as a leaf, with its requires_grad.
// The output is the same text for the same graph: boxes are numbered n0, n1, ... in the order a
// walk from t meets them (breadth first, inputs in order), never by address.
//
// Read after autograd.h and docs/autograd.md; examples/graph.cpp draws an expression and a GRU
// step, composed of ops and fused, with it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace minigrad::autograd {

// The graph behind `t` as DOT text. Throws mg::Error if t is undefined.
std::string to_dot(const Tensor& t);

// The same, with each leaf that is one of `named` labelled with its name, as
// to_dot(loss, model.named_parameters()) labels the parameters "encoder.weight_ih_l0".
std::string to_dot(const Tensor& t, const std::vector<std::pair<std::string, Tensor>>& named);

}  // namespace minigrad::autograd
