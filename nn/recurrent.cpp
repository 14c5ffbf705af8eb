// Cell, composed Layer and Stack; see recurrent.h for the equations and the packed layout.
//
// Everything here is built from autograd ops (matmul, narrow, sigmoid, tanh, cat), so autograd
// derives backpropagation through time by itself: this file is the readable reference that the
// fused layer (nn/fused_recurrent.cpp, the modules' default) is tested against.
#include "nn/recurrent.h"

#include <algorithm>

#include "nn/dropout.h"

namespace minigrad::nn {

int gate_count(CellKind kind) { return kind == CellKind::GRU ? 3 : 1; }

// ---- Cell -----------------------------------------------------------------------------------------

Tensor cell_step(CellKind kind, const Tensor& gi, const Tensor& h, const LayerWeights& w) {
  // The hidden projection gh = W_hh h + b_hh, all gates at once.          gi, gh: (B, G·H)
  Tensor gh = matmul(h, w.w_hh.t());
  if (w.b_hh.defined()) gh = gh + w.b_hh;

  if (kind != CellKind::GRU) {
    // RNN: h' = act(gi + gh)
    const Tensor pre = gi + gh;                                            // (B, H)
    return kind == CellKind::RNNTanh ? tanh(pre) : relu(pre);
  }

  // GRU, gates r, z, n in this order along dim 1.
  const std::int64_t hidden = h.size(1);
  const auto gate = [hidden](const Tensor& g, std::int64_t k) { return g.narrow(1, k * hidden, hidden); };
  const Tensor r = sigmoid(gate(gi, 0) + gate(gh, 0));                     // (B, H)
  const Tensor z = sigmoid(gate(gi, 1) + gate(gh, 1));                     // (B, H)
  const Tensor n = tanh(gate(gi, 2) + r * gate(gh, 2));                    // (B, H)
  // h' = (1 − z) ⊙ n + z ⊙ h, written as n + z ⊙ (h − n): one product fewer.
  return n + z * (h - n);
}

Tensor cell_forward(CellKind kind, const Tensor& x, const Tensor& h, const LayerWeights& w) {
  Tensor gi = matmul(x, w.w_ih.t());                                       // (B, G·H)
  if (w.b_ih.defined()) gi = gi + w.b_ih;
  return cell_step(kind, gi, h, w);
}

// ---- Composed layer -------------------------------------------------------------------------------

std::pair<Tensor, Tensor> ComposedLayer::run(CellKind kind, const LayerWeights& w,
                                             const Tensor& data,
                                             const std::vector<std::int64_t>& batch_sizes,
                                             const Tensor& h0, bool reverse) const {
  // The input projection of every token at once: one GEMM instead of one per step.
  Tensor gi = matmul(data, w.w_ih.t());                                    // (N, G·H)
  if (w.b_ih.defined()) gi = gi + w.b_ih;

  // Step t's rows, (batch_sizes[t], G·H) each: views, whose gradients backward puts back
  // together with one cat.
  const std::vector<Tensor> gi_steps = gi.split_with_sizes(batch_sizes, 0);
  const std::size_t steps = batch_sizes.size();

  std::vector<Tensor> outputs(steps);
  Tensor h_n;
  if (!reverse) {
    // Forward in time. When the batch shrinks, the sequences that ended are the last rows of the
    // state; their state is final and is set aside.
    Tensor h = h0;                                                         // (B_t, H)
    std::vector<Tensor> finished;  // final states, in the order the sequences ended
    for (std::size_t t = 0; t < steps; ++t) {
      const std::int64_t running = batch_sizes[t];
      if (running < h.size(0)) {
        finished.push_back(h.narrow(0, running, h.size(0) - running));
        h = h.narrow(0, 0, running);
      }
      h = cell_step(kind, gi_steps[t], h, w);
      outputs[t] = h;
    }
    finished.push_back(h);
    // Later-ending sequences have lower batch indices: reversed, the pieces are rows 0..B−1.
    std::reverse(finished.begin(), finished.end());
    h_n = finished.size() == 1 ? finished[0] : cat(finished, 0);          // (B, H)
  } else {
    // Backward in time. A sequence enters the state at its own last element: when the batch
    // grows, the new rows start from their h0.
    Tensor h = h0.narrow(0, 0, batch_sizes.back());
    for (std::size_t t = steps; t-- > 0;) {
      const std::int64_t running = batch_sizes[t];
      if (running > h.size(0)) h = cat({h, h0.narrow(0, h.size(0), running - h.size(0))}, 0);
      h = cell_step(kind, gi_steps[t], h, w);
      outputs[t] = h;
    }
    h_n = h;  // every sequence's state after its first element              (B, H)
  }
  return {cat(outputs, 0), h_n};                                           // (N, H), (B, H)
}

// ---- Stack ----------------------------------------------------------------------------------------

std::pair<Tensor, Tensor> run_stack(const RecurrentLayer& layer, const StackConfig& config,
                                    const std::vector<LayerWeights>& weights, const Tensor& data,
                                    const std::vector<std::int64_t>& batch_sizes, const Tensor& h0) {
  const std::int64_t directions = config.bidirectional ? 2 : 1;
  Tensor x = data;                                                         // (N, I), then (N, D·H)
  std::vector<Tensor> h_n;                                                 // L·D of (B, H)
  for (std::int64_t l = 0; l < config.num_layers; ++l) {
    std::vector<Tensor> outputs;
    for (std::int64_t d = 0; d < directions; ++d) {
      const std::int64_t index = l * directions + d;
      auto [output, last] = layer.run(config.kind, weights[static_cast<std::size_t>(index)], x,
                                      batch_sizes, h0.select(0, index), /*reverse=*/d == 1);
      outputs.push_back(std::move(output));
      h_n.push_back(std::move(last));
    }
    x = directions == 2 ? cat(outputs, 1) : outputs[0];
    if (config.training && config.dropout > 0 && l + 1 < config.num_layers)
      x = functional::dropout(x, config.dropout);
  }
  return {x, stack(h_n, 0)};
}

}  // namespace minigrad::nn
