// The recurrent machinery under nn::RNN and nn::GRU: Cell → Layer → Stack.
//
//   Cell   one time step:   h' = cell(x_t, h)                       (B, I), (B, H) → (B, H)
//   Layer  one direction of one layer, the cell scanned over time   (N, I) → (N, H), h_n
//   Stack  layers × directions, dropout between layers              (N, I) → (N, D·H), h_n
//
// The cells, in PyTorch's equations and gate order (r, z, n), with W_i· the input weights, W_h·
// the hidden weights and b the biases (all optional together):
//   RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh),   act = tanh or relu
//   GRU:  r  = σ(W_ir x + b_ir + W_hr h + b_hr)      reset gate
//         z  = σ(W_iz x + b_iz + W_hz h + b_hz)      update gate
//         n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))   candidate; b_hn inside the product
//         h' = (1 − z) ⊙ n + z ⊙ h
//
// $$ \text{RNN:} \quad h' = \operatorname{act}(W_{ih} x + b_{ih} + W_{hh} h + b_{hh}) $$
// $$
// \text{GRU:} \quad
// \begin{aligned}
// r &= \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \cr
// z &= \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \cr
// n &= \tanh\bigl(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})\bigr) \cr
// h' &= (1 - z) \odot n + z \odot h
// \end{aligned}
// $$
//
// The three gates' weights are stacked in one matrix, r on top: W_ih is (3H, I), W_hh (3H, H).
//
// A layer always scans a *packed* batch (nn/utils/rnn.h): the rows of all sequences at step 0,
// then at step 1, ..., with batch_sizes[t] the number of sequences still running at step t,
// longest first. A dense (T, B, I) input is the packed batch whose batch sizes are all B, so one
// scan serves both. At step t only the first batch_sizes[t] rows of the state are advanced; a
// sequence that has ended keeps its state, which is its h_n. In reverse the scan starts at the
// last step, and a sequence joins the state (from h0) at its own last element.
//
// Legend: B batch (sequences), T steps, N = Σ_t batch_sizes[t] tokens, I input, H hidden,
// G gates (1 for RNN, 3 for GRU), L layers, D directions (2 if bidirectional).
// Read after nn/utils/rnn.h and docs/packing.md; nn/rnn.h builds the modules on this,
// docs/rnn.md has the pictures, nn/fused_recurrent.h is the fast layer and docs/bptt.md its
// derivation.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace minigrad::nn {

enum class CellKind { RNNTanh, RNNReLU, GRU };

// 1 for an RNN cell, 3 for a GRU cell (r, z, n).
int gate_count(CellKind kind);

// The weights of one layer in one direction; b_ih and b_hh are undefined without bias.
struct LayerWeights {
  Tensor w_ih;  // (G·H, I)
  Tensor w_hh;  // (G·H, H)
  Tensor b_ih;  // (G·H)
  Tensor b_hh;  // (G·H)
};

// ---- Cell ---------------------------------------------------------------------------------------

// One step from the input projection gi = W_ih x + b_ih (B, G·H), already computed, and the state
// h (B, H): returns h' (B, H). Layers project every input row at once and call this per step.
Tensor cell_step(CellKind kind, const Tensor& gi, const Tensor& h, const LayerWeights& w);

// One step from the raw input x (B, I): the cell modules' forward.
Tensor cell_forward(CellKind kind, const Tensor& x, const Tensor& h, const LayerWeights& w);

// ---- Layer ---------------------------------------------------------------------------------------

// One direction of one layer scanned over a packed batch. This is the swappable part: the
// composed layer below is built from autograd ops, the readable reference; FusedLayer
// (nn/fused_recurrent.h: one node per layer and direction, hand-written backpropagation through
// time, docs/bptt.md) implements the same interface and is what RNN and GRU run by default.
class RecurrentLayer {
 public:
  virtual ~RecurrentLayer() = default;
  // data (N, I) with N = Σ batch_sizes, batch_sizes non-increasing, h0 (B, H) with
  // B = batch_sizes[0]. Returns output (N, H), row for row with data, and h_n (B, H).
  virtual std::pair<Tensor, Tensor> run(CellKind kind, const LayerWeights& w, const Tensor& data,
                                        const std::vector<std::int64_t>& batch_sizes,
                                        const Tensor& h0, bool reverse) const = 0;
};

// The readable reference: the cell applied step by step, autograd doing the backward. The tests
// hold FusedLayer to it (tests/test_fused.cpp).
class ComposedLayer final : public RecurrentLayer {
 public:
  std::pair<Tensor, Tensor> run(CellKind kind, const LayerWeights& w, const Tensor& data,
                                const std::vector<std::int64_t>& batch_sizes, const Tensor& h0,
                                bool reverse) const override;
};

// ---- Stack ---------------------------------------------------------------------------------------

struct StackConfig {
  CellKind kind;
  std::int64_t num_layers;
  bool bidirectional;
  double dropout;  // applied to each layer's output but the last's, in training only
  bool training;
};

// Runs every layer and direction. `weights` holds L·D entries, index layer·D + direction;
// data (N, I); h0 (L·D, B, H). Returns output (N, D·H) — forward direction in [:, :H], reverse
// in [:, H:] — and h_n (L·D, B, H).
std::pair<Tensor, Tensor> run_stack(const RecurrentLayer& layer, const StackConfig& config,
                                    const std::vector<LayerWeights>& weights, const Tensor& data,
                                    const std::vector<std::int64_t>& batch_sizes, const Tensor& h0);

}  // namespace minigrad::nn
