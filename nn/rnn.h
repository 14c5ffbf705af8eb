// The recurrent modules: RNNCell and GRUCell (one step), RNN and GRU (whole sequences).
//
//   mg::nn::GRU gru(mg::nn::GRUOptions(10, 20).num_layers(2).batch_first(true));
//   auto [output, h_n] = gru(x);          // x (B, T, 10) → output (B, T, 20), h_n (2, B, 20)
//   mg::nn::GRUCell cell(10, 20);
//   mg::Tensor h1 = cell(x_t, h0);        // (B, 10), (B, 20) → (B, 20)
//
// Everything a PyTorch user relies on holds: parameter names (weight_ih_l{k}, weight_hh_l{k},
// bias_ih_l{k}, bias_hh_l{k}, "_reverse" for the backward direction), shapes, registration order,
// gate order (r, z, n), initialisation U(−1/√H, 1/√H), inputs time-major unless batch_first,
// unbatched 2-D inputs, h0 always (L·D, B, H) — batch is never first for hidden states — and the
// bidirectional layout (output[..., :H] forward, output[..., H:] reverse, h_n[layer·D + direction]).
// The batch_first and unbatched forms are turned into time-major ones here, once, at the module
// boundary; the machinery below (nn/recurrent.h) only ever sees a packed, time-major batch.
// Read after nn/recurrent.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "nn/module.h"
#include "nn/recurrent.h"
#include "nn/utils/rnn.h"

namespace minigrad::nn {

enum class Nonlinearity { Tanh, ReLU };
inline constexpr Nonlinearity kTanh = Nonlinearity::Tanh;
inline constexpr Nonlinearity kReLU = Nonlinearity::ReLU;

// The options every recurrent layer shares, with LibTorch's chained setters: each setter returns
// the options (as the derived type), each getter of the same name reads one.
template <class Derived>
class RecurrentOptionsBase {
 public:
  RecurrentOptionsBase(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  Derived& num_layers(std::int64_t n) { num_layers_ = n; return self(); }
  Derived& bias(bool on) { bias_ = on; return self(); }
  Derived& batch_first(bool on) { batch_first_ = on; return self(); }
  Derived& dropout(double p) { dropout_ = p; return self(); }
  Derived& bidirectional(bool on) { bidirectional_ = on; return self(); }
  std::int64_t input_size() const { return input_size_; }
  std::int64_t hidden_size() const { return hidden_size_; }
  std::int64_t num_layers() const { return num_layers_; }
  bool bias() const { return bias_; }
  bool batch_first() const { return batch_first_; }
  double dropout() const { return dropout_; }
  bool bidirectional() const { return bidirectional_; }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  std::int64_t input_size_, hidden_size_;
  std::int64_t num_layers_ = 1;
  bool bias_ = true;
  bool batch_first_ = false;
  double dropout_ = 0.0;
  bool bidirectional_ = false;
};

class RNNOptions : public RecurrentOptionsBase<RNNOptions> {
 public:
  using RecurrentOptionsBase::RecurrentOptionsBase;
  RNNOptions& nonlinearity(Nonlinearity f) { nonlinearity_ = f; return *this; }
  // PyTorch's spelling, "tanh" or "relu"; anything else is "Unknown nonlinearity 'sigmoid'".
  RNNOptions& nonlinearity(const std::string& name);
  Nonlinearity nonlinearity() const { return nonlinearity_; }

 private:
  Nonlinearity nonlinearity_ = kTanh;
};

class GRUOptions : public RecurrentOptionsBase<GRUOptions> {
 public:
  using RecurrentOptionsBase::RecurrentOptionsBase;
};

// ---- Sequence modules ---------------------------------------------------------------------------

// What RNN and GRU share: the parameters of every layer and direction, the checks at the module
// boundary, and the call into the stack. Layer l runs its cell over the output of layer l − 1,
// step by step, from its own row of h0 (the input x_t feeds layer 0; dropout, when set, sits
// between layers in training), and the output at step t is the last layer's state:
//   h_t^(l) = cell(h_t^(l−1), h_{t−1}^(l))
//   h_t^(0) = x_t,   h_{−1}^(l) = h0[l]
//   output_t = h_t^(L),   h_n[l] = h_{T−1}^(l)
// The reverse direction of a bidirectional module runs t = T − 1, …, 0 from its own h0 rows.
//
// $$
// \begin{aligned}
// h_t^{(l)} &= \operatorname{cell}\bigl(h_t^{(l-1)}, h_{t-1}^{(l)}\bigr) \cr
// h_t^{(0)} &= x_t, \quad h_{-1}^{(l)} = h_0[l] \cr
// \text{output}_t &= h_t^{(L)}, \quad h_n[l] = h_{T-1}^{(l)}
// \end{aligned}
// $$
class RecurrentBase : public Module {
 public:
  // input (T, B, I), or (B, T, I) with batch_first, or unbatched (T, I); h0 (L·D, B, H) or, for
  // unbatched input, (L·D, H); zeros when left out. Returns output (T, B, D·H) (batch-major with
  // batch_first, (T, D·H) unbatched) and h_n shaped like h0.
  std::tuple<Tensor, Tensor> forward(const Tensor& input, const Tensor& h0 = Tensor());
  std::tuple<Tensor, Tensor> operator()(const Tensor& input, const Tensor& h0 = Tensor()) {
    return forward(input, h0);
  }
  // A packed batch (nn/utils/rnn.h): data (N, I); h0 (L·D, B, H) in the caller's batch order.
  // Returns the packed output, data (N, D·H) with the input's batch sizes and indices, and h_n
  // (L·D, B, H), each sequence's state at its own last step, in the caller's batch order.
  std::tuple<utils::rnn::PackedSequence, Tensor> forward(const utils::rnn::PackedSequence& input,
                                                         const Tensor& h0 = Tensor());
  std::tuple<utils::rnn::PackedSequence, Tensor> operator()(
      const utils::rnn::PackedSequence& input, const Tensor& h0 = Tensor()) {
    return forward(input, h0);
  }
  std::string extra_repr() const override;

  // The implementation each layer runs: FusedLayer (nn/fused_recurrent.h) by default;
  //   gru.set_layer_implementation(std::make_shared<mg::nn::ComposedLayer>());
  // runs the readable reference of nn/recurrent.h instead (same values, slower).
  void set_layer_implementation(std::shared_ptr<const RecurrentLayer> layer);

 protected:
  struct Config {
    CellKind kind;
    std::int64_t input_size, hidden_size, num_layers;
    bool bias, batch_first, bidirectional;
    double dropout;
  };
  RecurrentBase(std::string type_name, const Config& config);

 private:
  std::int64_t directions() const { return config_.bidirectional ? 2 : 1; }
  // The checks both forms share: input size and dtype of `input`, and hx's dtype.
  void check_input(const Tensor& input, const Tensor& hx) const;
  // h0 given or zeros, checked against (L·D, batch, H).
  Tensor initial_state(const Tensor& h0, std::int64_t batch) const;
  // The stack over a packed, time-major batch.
  std::pair<Tensor, Tensor> run(const Tensor& data, const std::vector<std::int64_t>& batch_sizes,
                                const Tensor& h0) const;
  Config config_;
  std::vector<LayerWeights> weights_;  // index layer·D + direction; handles to the parameters
  std::shared_ptr<const RecurrentLayer> layer_;
};

class RNN : public RecurrentBase {
 public:
  explicit RNN(const RNNOptions& options);
  RNN(std::int64_t input_size, std::int64_t hidden_size) : RNN(RNNOptions(input_size, hidden_size)) {}
  const RNNOptions& options() const { return options_; }

 private:
  RNNOptions options_;
};

class GRU : public RecurrentBase {
 public:
  explicit GRU(const GRUOptions& options);
  GRU(std::int64_t input_size, std::int64_t hidden_size) : GRU(GRUOptions(input_size, hidden_size)) {}
  const GRUOptions& options() const { return options_; }

 private:
  GRUOptions options_;
};

// ---- Cells ----------------------------------------------------------------------------------------

class RNNCellOptions {
 public:
  RNNCellOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  RNNCellOptions& bias(bool on) { bias_ = on; return *this; }
  RNNCellOptions& nonlinearity(Nonlinearity f) { nonlinearity_ = f; return *this; }
  std::int64_t input_size() const { return input_size_; }
  std::int64_t hidden_size() const { return hidden_size_; }
  bool bias() const { return bias_; }
  Nonlinearity nonlinearity() const { return nonlinearity_; }

 private:
  std::int64_t input_size_, hidden_size_;
  bool bias_ = true;
  Nonlinearity nonlinearity_ = kTanh;
};

class GRUCellOptions {
 public:
  GRUCellOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  GRUCellOptions& bias(bool on) { bias_ = on; return *this; }
  std::int64_t input_size() const { return input_size_; }
  std::int64_t hidden_size() const { return hidden_size_; }
  bool bias() const { return bias_; }

 private:
  std::int64_t input_size_, hidden_size_;
  bool bias_ = true;
};

// What the two cells share: parameters weight_ih, weight_hh, bias_ih, bias_hh, and the forward.
class CellBase : public Module {
 public:
  // x (B, I) and h (B, H), or unbatched x (I) and h (H); h zeros when left out. Returns h'.
  Tensor forward(const Tensor& x, const Tensor& h = Tensor());
  Tensor operator()(const Tensor& x, const Tensor& h = Tensor()) { return forward(x, h); }
  std::string extra_repr() const override;

 protected:
  CellBase(std::string type_name, CellKind kind, std::int64_t input_size, std::int64_t hidden_size,
           bool bias);

 private:
  CellKind kind_;
  std::int64_t input_size_, hidden_size_;
  bool bias_;
  LayerWeights weights_;
};

// One step of an RNN, act being tanh (or relu):  h' = act(W_ih x + b_ih + W_hh h + b_hh).
//
// $$ h' = \operatorname{act}(W_{ih} x + b_{ih} + W_{hh} h + b_{hh}) $$
class RNNCell : public CellBase {
 public:
  explicit RNNCell(const RNNCellOptions& options);
  RNNCell(std::int64_t input_size, std::int64_t hidden_size)
      : RNNCell(RNNCellOptions(input_size, hidden_size)) {}
};

// One step of a GRU, gates r (reset), z (update) and n (candidate), PyTorch's order:
//   r  = σ(W_ir x + b_ir + W_hr h + b_hr)
//   z  = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//   h' = (1 − z) ⊙ n + z ⊙ h
//
// $$
// \begin{aligned}
// r &= \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \cr
// z &= \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \cr
// n &= \tanh\bigl(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})\bigr) \cr
// h' &= (1 - z) \odot n + z \odot h
// \end{aligned}
// $$
class GRUCell : public CellBase {
 public:
  explicit GRUCell(const GRUCellOptions& options);
  GRUCell(std::int64_t input_size, std::int64_t hidden_size)
      : GRUCell(GRUCellOptions(input_size, hidden_size)) {}
};

}  // namespace minigrad::nn
