// The fused recurrent layer: one direction of one RNN or GRU layer as ONE autograd node, with
// backpropagation through time written by hand. It is the default layer of nn::RNN and nn::GRU;
// ComposedLayer (nn/recurrent.h), built from autograd ops, is the readable reference it is tested
// against (tests/test_fused.cpp: equal outputs and gradients on every option).
//
//   mg::nn::FusedLayer layer;
//   auto [output, h_n] = layer.run(mg::nn::CellKind::GRU, weights, data, batch_sizes, h0, false);
//
// Forward: the input projection of all N tokens in one GEMM, then per step one GEMM of the
// running rows' state by W_hhᵀ (all gates at once) and one loop doing the gate math, writing the
// new state straight into the output. Backward: per step (in reverse scan order) one loop turning
// ∂loss/∂h' into the gates' gradients and one GEMM for ∂loss/∂h; then dX, dW_ih and dW_hh as one
// GEMM each over all steps. What it saves: for a GRU r, z, n and W_hn h + b_hn per token (4·H
// numbers), for an RNN nothing beyond its own output. docs/bptt.md derives every line.
// Threads: each of minigrad's threads (core/parallel.h) scans its own group of sequences, with
// no waiting between steps; docs/performance.md measures what that bought.
//
// Read after nn/recurrent.h and docs/rnn.md; then nn/fused_recurrent.cpp and docs/bptt.md.
#pragma once

#include "nn/recurrent.h"

namespace minigrad::nn {

class FusedLayer final : public RecurrentLayer {
 public:
  // As RecurrentLayer::run: data (N, I), h0 (B, H) → output (N, H), h_n (B, H); float32 or
  // float64. Checks every shape and dtype first and throws mg::Error on a mismatch.
  std::pair<Tensor, Tensor> run(CellKind kind, const LayerWeights& w, const Tensor& data,
                                const std::vector<std::int64_t>& batch_sizes, const Tensor& h0,
                                bool reverse) const override;
};

}  // namespace minigrad::nn
