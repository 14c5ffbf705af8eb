// RNN, GRU, RNNCell, GRUCell: parameters, the checks at the module boundary, and reprs; see rnn.h.
#include "nn/rnn.h"

#include <cmath>
#include <cstdio>

#include "core/autograd.h"
#include "nn/fused_recurrent.h"
#include "nn/init.h"
#include "nn/repr.h"

namespace minigrad::nn {

namespace {

// U(−1/√H, 1/√H), PyTorch's initialisation of every recurrent weight and bias.
Tensor uniform_init(const Shape& shape, std::int64_t hidden_size) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  return init::uniform_(empty(shape), -bound, bound);
}

}  // namespace

RNNOptions& RNNOptions::nonlinearity(const std::string& name) {
  if (name == "tanh") return nonlinearity(kTanh);
  if (name == "relu") return nonlinearity(kReLU);
  throw Error(fmt::format("Unknown nonlinearity '{}'", name));
}

// ---- RNN and GRU ----------------------------------------------------------------------------------

RecurrentBase::RecurrentBase(std::string type_name, const Config& config)
    : Module(std::move(type_name)), config_(config), layer_(std::make_shared<FusedLayer>()) {
  check(config.hidden_size > 0, "hidden_size must be greater than zero");
  check(config.num_layers > 0, "num_layers must be greater than zero");
  check(config.input_size >= 0, "input_size must be non-negative, got {}", config.input_size);
  check(config.dropout >= 0 && config.dropout <= 1,
        "dropout should be a number in range [0, 1] representing the probability of an element "
        "being zeroed");
  if (config.dropout > 0 && config.num_layers == 1)
    warn_once("RNNBase",
              fmt::format("UserWarning: dropout option adds dropout after all but last recurrent "
                          "layer, so non-zero dropout expects num_layers greater than 1, but got "
                          "dropout={} and num_layers=1",
                          python_float(config.dropout)));

  // PyTorch's order: for each layer, for each direction, w_ih, w_hh, b_ih, b_hh.
  const std::int64_t gates = gate_count(config.kind) * config.hidden_size;  // G·H rows
  for (std::int64_t l = 0; l < config.num_layers; ++l) {
    const std::int64_t in = l == 0 ? config.input_size : config.hidden_size * directions();
    for (std::int64_t d = 0; d < directions(); ++d) {
      const std::string suffix = fmt::format("_l{}{}", l, d == 1 ? "_reverse" : "");
      const std::int64_t h = config.hidden_size;
      LayerWeights w;
      w.w_ih = register_parameter("weight_ih" + suffix, uniform_init({gates, in}, h));
      w.w_hh = register_parameter("weight_hh" + suffix, uniform_init({gates, h}, h));
      if (config.bias) {
        w.b_ih = register_parameter("bias_ih" + suffix, uniform_init({gates}, h));
        w.b_hh = register_parameter("bias_hh" + suffix, uniform_init({gates}, h));
      }
      weights_.push_back(std::move(w));
    }
  }
}

void RecurrentBase::set_layer_implementation(std::shared_ptr<const RecurrentLayer> layer) {
  check(layer != nullptr, "set_layer_implementation: expected a layer implementation");
  layer_ = std::move(layer);
}

void RecurrentBase::check_input(const Tensor& input, const Tensor& hx) const {
  check(input.size(-1) == config_.input_size,
        "input.size(-1) must be equal to input_size. Expected {}, got {}", config_.input_size,
        input.size(-1));
  const Dtype dtype = weights_[0].w_ih.dtype();
  check(input.dtype() == dtype, "input must have the type {}, got type {}", dtype_repr(dtype),
        dtype_repr(input.dtype()));
  if (hx.defined())
    check(hx.dtype() == dtype, "hx must have the type {}, got type {}", dtype_repr(dtype),
          dtype_repr(hx.dtype()));
}

Tensor RecurrentBase::initial_state(const Tensor& h0, std::int64_t batch) const {
  const Shape shape{config_.num_layers * directions(), batch, config_.hidden_size};  // (L·D, B, H)
  if (!h0.defined()) return zeros(shape, weights_[0].w_ih.dtype());
  check(h0.shape() == shape, "Expected hidden size ({}, {}, {}), got {}", shape[0], shape[1],
        shape[2], h0.shape());
  return h0;
}

std::pair<Tensor, Tensor> RecurrentBase::run(const Tensor& data,
                                             const std::vector<std::int64_t>& batch_sizes,
                                             const Tensor& h0) const {
  const StackConfig stack{config_.kind, config_.num_layers, config_.bidirectional,
                          config_.dropout, is_training()};
  return run_stack(*layer_, stack, weights_, data, batch_sizes, h0);
}

std::tuple<Tensor, Tensor> RecurrentBase::forward(const Tensor& input, const Tensor& hx) {
  // ---- Checks, before anything is computed ----
  check(input.defined(), "{}: expected a defined input tensor", type_name());
  const std::int64_t rank = input.dim();
  check(rank == 2 || rank == 3, "Expected input to be 2D or 3D, got {}D tensor instead", rank);
  const bool batched = rank == 3;
  check_input(input, hx);
  if (hx.defined()) {
    if (batched)
      check(hx.dim() == 3, "For batched 3-D input, hx should also be 3-D but got {}-D tensor",
            hx.dim());
    else
      check(hx.dim() == 2, "For unbatched 2-D input, hx should also be 2-D but got {}-D tensor",
            hx.dim());
  }

  // ---- To time-major (T, B, I): the one place batch_first and unbatched inputs are handled ----
  const Tensor x = !batched ? input.unsqueeze(1)
                   : config_.batch_first ? input.transpose(0, 1)
                                         : input;
  const std::int64_t steps = x.size(0), batch = x.size(1);
  check(steps > 0, "Expected sequence length to be larger than 0 in RNN");
  const Tensor h0 = initial_state(hx.defined() && !batched ? hx.unsqueeze(1) : hx, batch);

  // ---- The stack, on the dense batch seen as a packed one whose batch sizes are all B ----
  const std::vector<std::int64_t> batch_sizes(static_cast<std::size_t>(steps), batch);
  auto [data, h_n] = run(x.reshape({steps * batch, x.size(2)}), batch_sizes, h0);
  Tensor output = data.view({steps, batch, data.size(1)});                 // (T, B, D·H)

  if (!batched) return {output.squeeze(1), h_n.squeeze(1)};
  if (config_.batch_first) output = output.transpose(0, 1);               // (B, T, D·H)
  return {output, h_n};
}

std::tuple<utils::rnn::PackedSequence, Tensor> RecurrentBase::forward(
    const utils::rnn::PackedSequence& input, const Tensor& hx) {
  const Tensor& data = input.data();                                       // (N, I)
  check(data.dim() == 2, "input must have 2 dimensions, got {}", data.dim());
  check_input(data, hx);  // an h0 of the wrong rank fails initial_state's shape check, as in PyTorch
  const std::vector<std::int64_t>& batch_sizes = input.batch_size_list();
  check(!batch_sizes.empty(), "Expected sequence length to be larger than 0 in RNN");

  // The packed rows are sorted longest first; h0 and h_n are in the caller's order. Row i of the
  // sorted batch is the caller's sequence sorted_indices[i].
  const Tensor& sorted = input.sorted_indices();
  const Tensor& unsorted = input.unsorted_indices();
  Tensor h0 = initial_state(hx, batch_sizes[0]);
  if (hx.defined() && sorted.defined()) h0 = h0.index_select(1, sorted);

  auto [output, h_n] = run(data, batch_sizes, h0);                         // (N, D·H)
  if (unsorted.defined()) h_n = h_n.index_select(1, unsorted);
  return {utils::rnn::PackedSequence(output, input.batch_sizes(), sorted, unsorted), h_n};
}

std::string RecurrentBase::extra_repr() const {
  // PyTorch's RNNBase.extra_repr: sizes, then only the options that differ from the defaults.
  std::string text = fmt::format("{}, {}", config_.input_size, config_.hidden_size);
  if (config_.num_layers != 1) text += fmt::format(", num_layers={}", config_.num_layers);
  if (!config_.bias) text += ", bias=False";
  if (config_.batch_first) text += ", batch_first=True";
  if (config_.dropout != 0) text += ", dropout=" + python_float(config_.dropout);
  if (config_.bidirectional) text += ", bidirectional=True";
  return text;
}

RNN::RNN(const RNNOptions& o)
    : RecurrentBase("RNN", {o.nonlinearity() == kTanh ? CellKind::RNNTanh : CellKind::RNNReLU,
                            o.input_size(), o.hidden_size(), o.num_layers(), o.bias(),
                            o.batch_first(), o.bidirectional(), o.dropout()}),
      options_(o) {}

GRU::GRU(const GRUOptions& o)
    : RecurrentBase("GRU", {CellKind::GRU, o.input_size(), o.hidden_size(), o.num_layers(),
                            o.bias(), o.batch_first(), o.bidirectional(), o.dropout()}),
      options_(o) {}

// ---- Cells ----------------------------------------------------------------------------------------

CellBase::CellBase(std::string type_name, CellKind kind, std::int64_t input_size,
                   std::int64_t hidden_size, bool bias)
    : Module(std::move(type_name)),
      kind_(kind),
      input_size_(input_size),
      hidden_size_(hidden_size),
      bias_(bias) {
  check(hidden_size > 0, "hidden_size must be greater than zero");
  check(input_size >= 0, "input_size must be non-negative, got {}", input_size);
  const std::int64_t gates = gate_count(kind) * hidden_size;
  weights_.w_ih = register_parameter("weight_ih", uniform_init({gates, input_size}, hidden_size));
  weights_.w_hh = register_parameter("weight_hh", uniform_init({gates, hidden_size}, hidden_size));
  if (bias) {
    weights_.b_ih = register_parameter("bias_ih", uniform_init({gates}, hidden_size));
    weights_.b_hh = register_parameter("bias_hh", uniform_init({gates}, hidden_size));
  }
}

Tensor CellBase::forward(const Tensor& x, const Tensor& hx) {
  check(x.defined(), "{}: expected a defined input tensor", type_name());
  check(x.dim() == 1 || x.dim() == 2,
        "{}: Expected input to be 1-D or 2-D but received {}-D tensor", type_name(), x.dim());
  check(x.size(-1) == input_size_, "input has inconsistent input_size: got {} expected {}",
        x.size(-1), input_size_);
  const Dtype dtype = weights_.w_ih.dtype();
  check(x.dtype() == dtype, "input must have the type {}, got type {}", dtype_repr(dtype),
        dtype_repr(x.dtype()));
  const bool batched = x.dim() == 2;
  const Tensor input = batched ? x : x.unsqueeze(0);                       // (B, I)
  const std::int64_t batch = input.size(0);
  Tensor h;
  if (hx.defined()) {
    check(hx.dim() == x.dim(), "{}: Expected hidden to be {}-D like the input, but received {}-D "
          "tensor", type_name(), x.dim(), hx.dim());
    check(hx.dtype() == dtype, "hx must have the type {}, got type {}", dtype_repr(dtype),
          dtype_repr(hx.dtype()));
    h = batched ? hx : hx.unsqueeze(0);                                    // (B, H)
    check(h.size(0) == batch, "Input batch size {} doesn't match hidden0 batch size {}", batch,
          h.size(0));
    check(h.size(1) == hidden_size_, "hidden0 has inconsistent hidden_size: got {}, expected {}",
          h.size(1), hidden_size_);
  } else {
    h = zeros({batch, hidden_size_}, dtype);
  }
  const Tensor h1 = cell_forward(kind_, input, h, weights_);
  return batched ? h1 : h1.squeeze(0);
}

std::string CellBase::extra_repr() const {
  std::string text = fmt::format("{}, {}", input_size_, hidden_size_);
  if (!bias_) text += ", bias=False";
  if (kind_ == CellKind::RNNReLU) text += ", nonlinearity=relu";
  return text;
}

RNNCell::RNNCell(const RNNCellOptions& o)
    : CellBase("RNNCell", o.nonlinearity() == kTanh ? CellKind::RNNTanh : CellKind::RNNReLU,
               o.input_size(), o.hidden_size(), o.bias()) {}

GRUCell::GRUCell(const GRUCellOptions& o)
    : CellBase("GRUCell", CellKind::GRU, o.input_size(), o.hidden_size(), o.bias()) {}

}  // namespace minigrad::nn
