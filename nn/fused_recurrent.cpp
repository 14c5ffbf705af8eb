// FusedLayer: one RNN or GRU layer in one direction, forward and hand-written backpropagation
// through time (BPTT) as one autograd node. docs/bptt.md derives every gradient below step by
// step; nn/recurrent.h has the cells' equations and the packed layout.
//
// The equations, per token, with gi = W_ih x + b_ih and gh = W_hh h + b_hh (gates r, z, n):
//   RNN:  h' = act(gi + gh)                                      act = tanh or relu
//   GRU:  r = σ(gi_r + gh_r),  z = σ(gi_z + gh_z),  n = tanh(gi_n + r ⊙ gh_n),
//         h' = (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
// and their gradients, with g = ∂loss/∂h' (from the output at this step plus from the next step):
//   RNN:  dG = g ⊙ act'                    (∂loss/∂(gi + gh); dGi = dGh = dG)
//   GRU:  dn_pre = g ⊙ (1 − z) ⊙ (1 − n²),   dz_pre = g ⊙ (h − n) ⊙ z(1 − z),
//         dr_pre = dn_pre ⊙ gh_n ⊙ r(1 − r)
//         dGi = [dr_pre, dz_pre, dn_pre],    dGh = [dr_pre, dz_pre, dn_pre ⊙ r]
//   both: ∂loss/∂h = dGh·W_hh (+ g ⊙ z for the GRU), carried to the step before,
//         dX = dGi·W_ih, dW_ih = dGiᵀ·X, dW_hh = dGhᵀ·H_prev,
//         db_ih = Σ_rows dGi, db_hh = Σ_rows dGh
// where H_prev (N, H) holds, for every token, the state its step started from.
//
// How the work is laid out (the reason this layer exists; nn/recurrent.cpp is the same math as
// separate autograd ops):
//   forward:  gi for all N tokens in one GEMM, biases folded in; per step one GEMM of the running
//             rows by W_hhᵀ (all gates at once) and one loop doing the gate math, writing h'
//             straight into the output rows.
//   backward: per step, in reverse scan order, one loop turning g into the rows of dGi and dGh,
//             and one GEMM for ∂loss/∂h; after the loop dX, dW_ih and dW_hh each as one GEMM over
//             all steps, and the bias gradients as column sums.
// Every buffer is allocated once per call, before the step loop; a step works on raw pointers to
// its rows. Both scans run on minigrad's threads, each thread taking a group of whole
// sequences from the first step to the last (the threads section below); the products over all
// steps are split by gemm() itself. The pointwise loops are written for gcc's auto-vectoriser (nn/fused_math.h) and
// compiled twice, for AVX2 and for the baseline x86-64, the right one chosen when the program
// starts (see kernels below).
//
// Legend: N tokens, B sequences (= batch_sizes[0]), T steps, I input, H hidden, G gates (1 or 3).
#include "nn/fused_recurrent.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

#include "core/autograd.h"
#include "core/blas.h"
#include "core/packed_gemm.h"
#include "core/parallel.h"
#include "nn/fused_math.h"

namespace minigrad::nn {

namespace {

// ---- The packed layout --------------------------------------------------------------------------

// Where each step's rows lie in the (N, ·) buffers, and which steps border it in the scan.
struct Schedule {
  std::vector<std::int64_t> sizes;    // rows of step t: batch_sizes[t]
  std::vector<std::int64_t> offsets;  // first row of step t
  bool reverse = false;

  Schedule(const std::vector<std::int64_t>& batch_sizes, bool reverse_scan)
      : sizes(batch_sizes), offsets(batch_sizes.size()), reverse(reverse_scan) {
    for (std::size_t t = 1; t < sizes.size(); ++t) offsets[t] = offsets[t - 1] + sizes[t - 1];
  }
  std::int64_t steps() const { return static_cast<std::int64_t>(sizes.size()); }
  std::int64_t size(std::int64_t t) const { return sizes[static_cast<std::size_t>(t)]; }
  std::int64_t offset(std::int64_t t) const { return offsets[static_cast<std::size_t>(t)]; }
  // Step number k of the scan: 0, 1, ..., T − 1 forward; T − 1, ..., 0 in reverse.
  std::int64_t scanned(std::int64_t k) const { return reverse ? steps() - 1 - k : k; }
  // The step scanned just before / after t, or −1 at the ends.
  std::int64_t before(std::int64_t t) const {
    const std::int64_t u = reverse ? t + 1 : t - 1;
    return u >= 0 && u < steps() ? u : -1;
  }
  std::int64_t after(std::int64_t t) const {
    const std::int64_t u = reverse ? t - 1 : t + 1;
    return u >= 0 && u < steps() ? u : -1;
  }
  // Rows of step t that also run at step u (the first ones: the batch is sorted longest first).
  std::int64_t shared(std::int64_t t, std::int64_t u) const {
    return u < 0 ? 0 : std::min(size(t), size(u));
  }
  // Step t's rows [0, carried(t)) start from the state the step before left; rows
  // [carried(t), size(t)) start a sequence, from h0. Forward only step 0 starts sequences; in
  // reverse a sequence starts at its own last element.
  std::int64_t carried(std::int64_t t) const { return shared(t, before(t)); }
  // Step t's rows [continuing(t), size(t)) are the last step of their sequence: their state
  // after step t is their h_n.
  std::int64_t continuing(std::int64_t t) const { return shared(t, after(t)); }
};

// ---- One step's product with W_hh -------------------------------------------------------------

// The product every step does with the same W_hh (G·H × H, row-major), on raw pointers into the
// preallocated buffers (a Tensor view of a step's rows would be an allocation per step):
//   forward   c (m × G·H) = a (m × H) · W_hhᵀ     the gates' share from the state
//   backward  c (m × H)   = a (m × G·H) · W_hh     ∂loss/∂h from the gates' gradients
// In float32 on a CPU with AVX2 and FMA, W_hh is packed once, when the layer call starts, and
// every step multiplies straight from it (core/packed_gemm.h): a cblas call would copy all of
// W_hh into its own layout again at every step, for a few dozen rows. Otherwise (float64, or
// another CPU) each step is one cblas call.
template <class T>
class StepProduct {
 public:
  StepProduct(const T* w_hh, std::int64_t width, std::int64_t hidden, bool transposed)
      : w_(w_hh), hidden_(hidden), transposed_(transposed),
        n_(transposed ? width : hidden), k_(transposed ? hidden : width) {
    if constexpr (std::is_same_v<T, float>)
      if (PackedMatrix::available())  // B = W_hhᵀ: element (p, j) is W_hh[j][p]; B = W_hh: as is
        packed_.emplace(w_hh, k_, n_, transposed ? 1 : hidden, transposed ? hidden : 1);
  }

  // c (m × n, rows ldc apart) = a (m × k, rows lda apart) · B, or c += a · B when accumulate.
  void operator()(std::int64_t m, const T* a, std::int64_t lda, T* c, std::int64_t ldc,
                  bool accumulate) const {
    if (m <= 0) return;
    if constexpr (std::is_same_v<T, float>)
      if (packed_) return packed_->multiply(m, a, lda, c, ldc, accumulate);
    const auto i = [](std::int64_t v) { return static_cast<blasint>(v); };
    const CBLAS_TRANSPOSE op = transposed_ ? CblasTrans : CblasNoTrans;
    const T beta = accumulate ? T(1) : T(0);
    if constexpr (std::is_same_v<T, float>)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, op, i(m), i(n_), i(k_), 1.0f, a, i(lda), w_,
                  i(hidden_), beta, c, i(ldc));
    else
      cblas_dgemm(CblasRowMajor, CblasNoTrans, op, i(m), i(n_), i(k_), 1.0, a, i(lda), w_,
                  i(hidden_), beta, c, i(ldc));
  }

 private:
  const T* w_;
  std::int64_t hidden_;  // W_hh's row length, its leading dimension for cblas
  bool transposed_;
  std::int64_t n_, k_;
  std::optional<PackedMatrix> packed_;
};

// ---- The pointwise kernels ----------------------------------------------------------------------
//
// Plain loops over raw, non-aliasing (__restrict) pointers, which gcc -O3 vectorises. The build
// targets baseline x86-64 (SSE2: 4 floats at a time) so that the binary runs anywhere; the
// target_clones attribute compiles each kernel a second time for AVX2 (8 at a time) and picks the
// version for the CPU once, when the program is loaded. Both versions compute the same values:
// without FMA (not enabled by "avx2") every operation rounds as in the baseline code.

// GRU forward, one row: from gi = [W_ir x + b_ir + b_hr, W_iz x + b_iz + b_hz, W_in x + b_in]
// (3H), gates = [W_hr h, W_hz h, W_hn h, ·] (4H, from the step's GEMM), the state h (H) and b_hn
// (H), writes gates = [r, z, W_hn h + b_hn, n] (what backward needs) and h' (H).
template <class T>
__attribute__((target_clones("avx2", "default"))) void gru_forward_row(
    std::int64_t hidden, const T* __restrict gi, T* __restrict gates, const T* __restrict h,
    const T* __restrict b_hn, T* __restrict h_next) {
  for (std::int64_t j = 0; j < hidden; ++j) {
    const T r = fused_math::sigmoid(gi[j] + gates[j]);
    const T z = fused_math::sigmoid(gi[hidden + j] + gates[hidden + j]);
    const T hn = gates[2 * hidden + j] + b_hn[j];
    const T n = fused_math::tanh(gi[2 * hidden + j] + r * hn);
    gates[j] = r;
    gates[hidden + j] = z;
    gates[2 * hidden + j] = hn;
    gates[3 * hidden + j] = n;
    h_next[j] = n + z * (h[j] - n);  // (1 − z) ⊙ n + z ⊙ h with one product fewer
  }
}

// GRU backward, one row: from ∂loss/∂h' = dh + d_out (the next step's and this step's output's
// share), the saved gates [r, z, gh_n = W_hn h + b_hn, n] and the state h, writes the row of dGi
// and of dGh (3H each) and the direct part of ∂loss/∂h (H); the step's GEMM adds dGh·W_hh to it.
template <class T>
__attribute__((target_clones("avx2", "default"))) void gru_backward_row(
    std::int64_t hidden, const T* __restrict dh, const T* __restrict d_out,
    const T* __restrict gates, const T* __restrict h, T* __restrict dgi, T* __restrict dgh,
    T* __restrict dh_before) {
  for (std::int64_t j = 0; j < hidden; ++j) {
    const T g = dh[j] + d_out[j];
    const T r = gates[j], z = gates[hidden + j], hn = gates[2 * hidden + j];
    const T n = gates[3 * hidden + j];
    // The forward was h' = (1 − z) ⊙ n + z ⊙ h, so ∂h'/∂n = 1 − z, ∂h'/∂z = h − n, ∂h'/∂h = z.
    const T dn = g * (1 - z);
    const T dz = g * (h[j] - n);
    dh_before[j] = g * z;
    // The forward was n = tanh(a_n), a_n = gi_n + r ⊙ gh_n, so ∂a_n = dn ⊙ (1 − n²); a_n takes
    // gi_n as is and gh_n scaled by r, so dGi_n = ∂a_n, dGh_n = ∂a_n ⊙ r and ∂r = ∂a_n ⊙ gh_n.
    const T dn_pre = dn * (1 - n * n);
    // The forward was r = σ(a_r), z = σ(a_z), so ∂a = ∂gate ⊙ σ(1 − σ); a_r and a_z are sums of
    // gi and gh, which receive the same gradient.
    const T dr_pre = dn_pre * hn * r * (1 - r);
    const T dz_pre = dz * z * (1 - z);
    dgi[j] = dr_pre;
    dgi[hidden + j] = dz_pre;
    dgi[2 * hidden + j] = dn_pre;
    dgh[j] = dr_pre;
    dgh[hidden + j] = dz_pre;
    dgh[2 * hidden + j] = dn_pre * r;
  }
}

// RNN forward: the step's rows hold gi + gh; apply the activation in place.
template <class T>
__attribute__((target_clones("avx2", "default"))) void tanh_in_place(std::int64_t count,
                                                                       T* __restrict x) {
  for (std::int64_t i = 0; i < count; ++i) x[i] = fused_math::tanh(x[i]);
}

template <class T>
__attribute__((target_clones("avx2", "default"))) void relu_in_place(std::int64_t count,
                                                                       T* __restrict x) {
  for (std::int64_t i = 0; i < count; ++i) x[i] = fused_math::select(x[i] < 0, T(0), x[i]);
}

// RNN backward: dG = (dh + d_out) ⊙ act'(pre), act' written with the output y = act(pre).
template <class T>
__attribute__((target_clones("avx2", "default"))) void tanh_backward(
    std::int64_t count, const T* __restrict dh, const T* __restrict d_out, const T* __restrict y,
    T* __restrict dg) {
  // The forward was y = tanh(pre), so ∂y/∂pre = 1 − y².
  for (std::int64_t i = 0; i < count; ++i) dg[i] = (dh[i] + d_out[i]) * (1 - y[i] * y[i]);
}

template <class T>
__attribute__((target_clones("avx2", "default"))) void relu_backward(
    std::int64_t count, const T* __restrict dh, const T* __restrict d_out, const T* __restrict y,
    T* __restrict dg) {
  // The forward was y = max(pre, 0), so ∂y/∂pre = 1 where y > 0 and 0 where y ≤ 0 (the kink gets
  // 0, and a NaN passes its gradient: unary.cpp's relu, and PyTorch's).
  for (std::int64_t i = 0; i < count; ++i)
    dg[i] = fused_math::select(y[i] <= 0, T(0), dh[i] + d_out[i]);
}

// ---- The threads: a group of sequences each -----------------------------------------------------
//
// During a scan, sequences never exchange anything: row b's state at a step depends on row b's
// state at the step before and on nothing else. So the scan splits into groups of sequences, each
// scanned from the first step to the last by a thread of its own (core/parallel.h), running its own
// small GEMMs (one OpenBLAS thread each) and its own gate loops, with no thread ever waiting for
// another until the scan ends. A GEMM of half the rows runs a little slower per FLOP than one of
// all of them, but nothing else is serial any more.
//
// The batch is sorted longest first, so equal numbers of sequences would give the first group the
// most work. The cuts are made where the running count of tokens reaches each group's share.

// Group g is sequences [starts[g], starts[g + 1]); as many groups as threads are worth using.
std::vector<std::int64_t> sequence_groups(const Schedule& s, std::int64_t hidden,
                                          std::int64_t width) {
  const std::int64_t batch = s.size(0), tokens = s.offset(s.steps() - 1) + s.size(s.steps() - 1);
  // The scan's products with W_hh, forward and backward: 4·N·(G·H)·H FLOPs. Each group should
  // carry at least some milliseconds of them.
  const double flops = 4.0 * static_cast<double>(tokens * width * hidden);
  const std::int64_t parts = std::min<std::int64_t>(batch, parts_for(flops, 4e6));
  std::vector<std::int64_t> starts{0};
  std::int64_t running = 0;  // the tokens of sequences [0, b]
  for (std::int64_t b = 0; b < batch && static_cast<std::int64_t>(starts.size()) < parts; ++b) {
    std::int64_t length = 0;  // the steps sequence b runs: those with more than b rows
    while (length < s.steps() && s.size(length) > b) ++length;
    running += length;
    // The next cut once the groups so far hold their share of the tokens.
    if (running * parts >= tokens * static_cast<std::int64_t>(starts.size()))
      starts.push_back(b + 1);
  }
  starts.push_back(batch);
  return starts;
}

// Runs scan(lo, hi) for every group of sequences [lo, hi) at once, one per thread.
template <class Scan>
void for_each_group(const std::vector<std::int64_t>& starts, const Scan& scan) {
  parallel_parts(static_cast<int>(starts.size()) - 1,
                 [&](int g) { scan(starts[static_cast<std::size_t>(g)], starts[g + 1u]); });
}

// ---- Small helpers ------------------------------------------------------------------------------

// Σ over the rows of a (rows, cols) matrix, as the product 1ᵀ·m (1, cols): BLAS does the sums.
Tensor column_sums(const Tensor& m) {
  Tensor sums = empty({m.size(1)}, m.dtype());                              // (cols)
  gemm(ones({1, m.size(0)}, m.dtype()), m, sums.view({1, m.size(1)}));
  return sums;
}

// How many threads share a copy of `bytes`, for the copies of whole buffers around the scans
// (filling gi with the bias, putting H_prev together): they only move memory, and one core alone
// moves it at a fraction of the speed two do. Below 256 KB, waking a thread costs more.
int parts_for_copy(std::int64_t bytes) {
  return parts_for(static_cast<double>(bytes), 256.0 * 1024);
}

// Copies rows [from, to) of one (·, H) buffer into the same rows of another.
template <class T>
void copy_rows(const T* source, T* target, std::int64_t from, std::int64_t to,
               std::int64_t hidden) {
  if (to > from)
    std::memcpy(target + from * hidden, source + from * hidden,
                static_cast<std::size_t>((to - from) * hidden) * sizeof(T));
}

// What backward needs besides the inputs: the output, and for the GRU the gates (N, 4H).
struct Forward {
  Tensor output, h_n, gates;
};

// ---- Forward ------------------------------------------------------------------------------------

template <class T>
Forward forward(CellKind kind, const LayerWeights& w, const Tensor& data, const Schedule& s,
                const Tensor& h0_in, bool keep_gates) {
  const bool gru = kind == CellKind::GRU;
  const std::int64_t hidden = w.w_hh.size(1), width = gate_count(kind) * hidden;  // H, G·H
  const std::int64_t tokens = data.size(0), batch = s.size(0);
  const Tensor h0 = h0_in.detach().contiguous();    // (B, H)
  const Tensor w_hh = w.w_hh.detach().contiguous();  // (G·H, H)
  Tensor output = empty({tokens, hidden}, dtype_of<T>());                   // (N, H)

  // gi = X·W_ihᵀ + b_ih for every token, with b_hh added too where it is simply summed: all of
  // it for the RNN, the r and z parts for the GRU (b_hn sits inside r ⊙ (W_hn h + b_hn)). The
  // rows start as the bias, and the GEMM adds the product (beta = 1). The RNN's gi goes straight
  // into the output, where each step adds gh and applies the activation.
  Tensor gi = gru ? empty({tokens, width}, dtype_of<T>()) : output;        // (N, G·H)
  const bool bias = w.b_ih.defined();
  if (bias) {
    const Tensor b_ih = w.b_ih.detach().contiguous(), b_hh = w.b_hh.detach().contiguous();
    const T *bi = b_ih.data_ptr<T>(), *bh = b_hh.data_ptr<T>();
    std::vector<T> folded(static_cast<std::size_t>(width));
    for (std::int64_t j = 0; j < width; ++j)
      folded[static_cast<std::size_t>(j)] = bi[j] + (j < 2 * hidden || !gru ? bh[j] : T(0));
    T* rows = gi.data_ptr<T>();
    const std::int64_t bytes = tokens * width * static_cast<std::int64_t>(sizeof(T));
    parallel_ranges(tokens, parts_for_copy(bytes),
                    [&](int, std::int64_t from, std::int64_t to) {
                      for (std::int64_t i = from; i < to; ++i)
                        std::copy(folded.begin(), folded.end(), rows + i * width);
                    });
  }
  gemm(data.detach(), w.w_ih.detach().t(), gi, 1.0, bias ? 1.0 : 0.0);

  // The GRU's gates: one row of 4H per token if backward will need them, else one step's rows.
  Tensor gates = gru ? empty({keep_gates ? tokens : batch, 4 * hidden}, dtype_of<T>()) : Tensor();
  std::vector<T> b_hn(static_cast<std::size_t>(hidden), T(0));                // (H)
  if (gru && bias) {
    const Tensor b_hh = w.b_hh.detach().contiguous();
    std::copy_n(b_hh.data_ptr<T>() + 2 * hidden, hidden, b_hn.begin());
  }

  T* out = output.data_ptr<T>();
  const T *h0_rows = h0.data_ptr<T>(), *gi_rows = gi.data_ptr<T>();
  const StepProduct<T> by_w_hh(w_hh.data_ptr<T>(), width, hidden, true);  // rows · W_hhᵀ
  T* gate_rows = gru ? gates.data_ptr<T>() : nullptr;
  // The scan of sequences [lo, hi): at step t their rows are [lo, end), end = min(hi, rows).
  const auto scan = [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t k = 0; k < s.steps(); ++k) {
      const std::int64_t t = s.scanned(k), end = std::min(hi, s.size(t));
      if (end <= lo) continue;  // none of the group's sequences runs at this step
      // The state rows: [0, carried) continue from the step before, the rest start from h0.
      // Within the group: [lo, mid) continue, [mid, end) start.
      const std::int64_t carried = s.carried(t), mid = std::clamp(carried, lo, end);
      const T* previous = carried > 0 ? out + s.offset(s.before(t)) * hidden : h0_rows;
      const auto state = [&](std::int64_t b) {
        return (b < carried ? previous : h0_rows) + b * hidden;
      };
      T* step_out = out + s.offset(t) * hidden;                             // (rows, H)
      if (gru) {
        // gh = h·W_hhᵀ into the gates' first 3H columns, rows 4H apart.   (rows, 3H)
        T* step_gates = gate_rows + (keep_gates ? s.offset(t) : 0) * 4 * hidden;
        by_w_hh(mid - lo, state(lo), hidden, step_gates + lo * 4 * hidden, 4 * hidden, false);
        by_w_hh(end - mid, h0_rows + mid * hidden, hidden, step_gates + mid * 4 * hidden,
                4 * hidden, false);
        for (std::int64_t b = lo; b < end; ++b)
          gru_forward_row<T>(hidden, gi_rows + (s.offset(t) + b) * width,
                             step_gates + b * 4 * hidden, state(b), b_hn.data(),
                             step_out + b * hidden);
      } else {
        // pre = gi + h·W_hhᵀ, added onto the step's rows of the output, then h' = act(pre).
        by_w_hh(mid - lo, state(lo), hidden, step_out + lo * hidden, hidden, true);
        by_w_hh(end - mid, h0_rows + mid * hidden, hidden, step_out + mid * hidden, hidden, true);
        T* group_out = step_out + lo * hidden;
        if (kind == CellKind::RNNTanh) tanh_in_place<T>((end - lo) * hidden, group_out);
        else relu_in_place<T>((end - lo) * hidden, group_out);
      }
    }
  };
  for_each_group(sequence_groups(s, hidden, width), scan);

  // h_n: each sequence's state after its last step.                                  (B, H)
  Tensor h_n = empty({batch, hidden}, dtype_of<T>());
  for (std::int64_t t = 0; t < s.steps(); ++t)
    copy_rows<T>(out + s.offset(t) * hidden, h_n.data_ptr<T>(), s.continuing(t), s.size(t),
                 hidden);
  return {output, h_n, keep_gates ? gates : Tensor()};
}

// ---- Backward -----------------------------------------------------------------------------------

// What the node saved, unpacked (its version counters checked).
struct Saved {
  Tensor data, h0, w_ih, w_hh, output, gates;
};

// Returns the gradients of (data, h0, w_ih, w_hh, b_ih, b_hh), those in `needs` only.
template <class T>
std::vector<Tensor> backward(CellKind kind, const Schedule& s, const Saved& saved,
                             const Tensor& grad_output_in, const Tensor& grad_h_n_in,
                             const NeedsGrad& needs) {
  const bool gru = kind == CellKind::GRU;
  const std::int64_t hidden = saved.w_hh.size(1), width = gate_count(kind) * hidden;
  const std::int64_t tokens = saved.output.size(0), batch = s.size(0);
  const Dtype dtype = dtype_of<T>();
  const Tensor h0 = saved.h0.contiguous(), w_hh = saved.w_hh.contiguous();
  const Tensor grad_output = grad_output_in.contiguous(), grad_h_n = grad_h_n_in.contiguous();
  const T *out = saved.output.data_ptr<T>(), *h0_rows = h0.data_ptr<T>();
  const T *d_out = grad_output.data_ptr<T>(), *d_h_n = grad_h_n.data_ptr<T>();
  const StepProduct<T> by_w_hh(w_hh.data_ptr<T>(), width, hidden, false);  // rows · W_hh
  const T* gates = gru ? saved.gates.data_ptr<T>() : nullptr;

  // The gate gradients of every token, kept for the GEMMs over all steps. The RNN's gi and gh
  // enter as a sum, so one buffer serves both.
  Tensor dgi = empty({tokens, width}, dtype);                               // (N, G·H)
  Tensor dgh = gru ? empty({tokens, width}, dtype) : dgi;                   // (N, G·H)
  // ∂loss/∂(state after the step being walked) and ∂loss/∂(state before it), swapped each step.
  Tensor dh_after = empty({batch, hidden}, dtype), dh_before = empty({batch, hidden}, dtype);
  Tensor grad_h0 = needs[1] ? empty({batch, hidden}, dtype) : Tensor();    // (B, H)

  // The scan of sequences [lo, hi), last step first, on rows [lo, end) of each step as in forward.
  const auto scan = [&](std::int64_t lo, std::int64_t hi) {
    T *dh = dh_after.data_ptr<T>(), *dh_prev = dh_before.data_ptr<T>();  // swapped per step
    for (std::int64_t k = s.steps(); k-- > 0;) {
      const std::int64_t t = s.scanned(k), end = std::min(hi, s.size(t));
      if (end <= lo) continue;
      const std::int64_t carried = s.carried(t), mid = std::clamp(carried, lo, end);
      const std::int64_t at = s.offset(t);
      // The forward was h_n[b] = the state of sequence b after its last step, so for the rows
      // whose sequence ends here ∂loss/∂h' starts as grad_h_n; the other rows got theirs from the
      // step walked before (the next one in scan order).
      copy_rows<T>(d_h_n, dh, std::max(lo, s.continuing(t)), end, hidden);
      const T* previous = carried > 0 ? out + s.offset(s.before(t)) * hidden : h0_rows;
      T *step_dgi = dgi.data_ptr<T>() + at * width, *step_dgh = dgh.data_ptr<T>() + at * width;
      if (gru) {
        for (std::int64_t b = lo; b < end; ++b)
          gru_backward_row<T>(hidden, dh + b * hidden, d_out + (at + b) * hidden,
                              gates + (at + b) * 4 * hidden,
                              (b < carried ? previous : h0_rows) + b * hidden,
                              step_dgi + b * width, step_dgh + b * width, dh_prev + b * hidden);
      } else if (kind == CellKind::RNNTanh) {
        tanh_backward<T>((end - lo) * hidden, dh + lo * hidden, d_out + (at + lo) * hidden,
                         out + (at + lo) * hidden, step_dgi + lo * width);
      } else {
        relu_backward<T>((end - lo) * hidden, dh + lo * hidden, d_out + (at + lo) * hidden,
                         out + (at + lo) * hidden, step_dgi + lo * width);
      }
      // The forward was gh = h·W_hhᵀ, so ∂loss/∂h = dGh·W_hh (added to the GRU's direct g ⊙ z).
      // Rows [lo, mid) carry it to the step before; rows [mid, end) hand it to h0, and need it
      // only if h0 needs a gradient.
      const std::int64_t needed_end = needs[1] ? end : mid;
      by_w_hh(needed_end - lo, step_dgh + lo * width, width, dh_prev + lo * hidden, hidden, gru);
      // The forward started rows [mid, end) from h0: theirs is ∂loss/∂h0.
      if (needs[1]) copy_rows<T>(dh_prev, grad_h0.data_ptr<T>(), mid, end, hidden);
      std::swap(dh, dh_prev);
    }
  };
  for_each_group(sequence_groups(s, hidden, width), scan);

  // The gradients over all steps, each one GEMM (or a column sum).
  Tensor grad_data, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh;
  // The forward was gi = X·W_ihᵀ + b_ih, so dX = dGi·W_ih, dW_ih = dGiᵀ·X, db_ih = Σ_rows dGi.
  if (needs[0]) {
    grad_data = empty({tokens, saved.w_ih.size(1)}, dtype);               // (N, I)
    gemm(dgi, saved.w_ih, grad_data);
  }
  if (needs[2]) {
    grad_w_ih = empty(saved.w_ih.shape(), dtype);                          // (G·H, I)
    gemm(dgi.t(), saved.data, grad_w_ih);
  }
  if (needs[4]) grad_b_ih = column_sums(dgi);
  // The forward was gh = H_prev·W_hhᵀ + b_hh, so dW_hh = dGhᵀ·H_prev and db_hh = Σ_rows dGh.
  // H_prev, every token's starting state, is put together from the output and h0.
  if (needs[3]) {
    Tensor h_prev = empty({tokens, hidden}, dtype);                        // (N, H)
    T* rows_out = h_prev.data_ptr<T>();
    const std::int64_t bytes = tokens * hidden * static_cast<std::int64_t>(sizeof(T));
    parallel_ranges(s.steps(), parts_for_copy(bytes),
                    [&](int, std::int64_t from, std::int64_t to) {
                      for (std::int64_t t = from; t < to; ++t) {
                        T* step = rows_out + s.offset(t) * hidden;
                        const std::int64_t carried = s.carried(t);
                        if (carried > 0)
                          copy_rows<T>(out + s.offset(s.before(t)) * hidden, step, 0, carried,
                                       hidden);
                        copy_rows<T>(h0_rows, step, carried, s.size(t), hidden);
                      }
                    });
    grad_w_hh = empty(saved.w_hh.shape(), dtype);                          // (G·H, H)
    gemm(dgh.t(), h_prev, grad_w_hh);
  }
  if (needs[5]) grad_b_hh = gru || !needs[4] ? column_sums(dgh) : grad_b_ih.clone();
  return grads(grad_data, grad_h0, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh);
}

// ---- Checks -------------------------------------------------------------------------------------

void check_inputs(CellKind kind, const LayerWeights& w, const Tensor& data,
                  const std::vector<std::int64_t>& batch_sizes, const Tensor& h0) {
  check(data.defined() && h0.defined() && w.w_ih.defined() && w.w_hh.defined(),
        "FusedLayer: expected defined data, h0, w_ih and w_hh");
  const std::int64_t gates = gate_count(kind);
  check(w.w_hh.dim() == 2 && w.w_hh.size(0) == gates * w.w_hh.size(1),
        "FusedLayer: expected w_hh of shape ({}·H, H), got {}", gates, w.w_hh.shape());
  const std::int64_t hidden = w.w_hh.size(1);
  check(data.dim() == 2, "FusedLayer: expected data of shape (N, I), got {}", data.shape());
  check(w.w_ih.dim() == 2 && w.w_ih.size(0) == gates * hidden && w.w_ih.size(1) == data.size(1),
        "FusedLayer: expected w_ih of shape ({}, {}), got {}", gates * hidden, data.size(1),
        w.w_ih.shape());
  check(w.b_ih.defined() == w.b_hh.defined(), "FusedLayer: expected both biases or neither");
  if (w.b_ih.defined())
    check(w.b_ih.shape() == Shape{gates * hidden} && w.b_hh.shape() == Shape{gates * hidden},
          "FusedLayer: expected biases of shape ({}), got {} and {}", gates * hidden,
          w.b_ih.shape(), w.b_hh.shape());
  check(!batch_sizes.empty(), "FusedLayer: expected at least one step");
  std::int64_t tokens = 0;
  for (std::size_t t = 0; t < batch_sizes.size(); ++t) {
    check(batch_sizes[t] >= 0 && (t == 0 || batch_sizes[t] <= batch_sizes[t - 1]),
          "FusedLayer: batch_sizes must be non-negative and non-increasing, got {} at step {}",
          batch_sizes[t], t);
    tokens += batch_sizes[t];
  }
  check(tokens == data.size(0), "FusedLayer: batch_sizes sum to {} but data has {} rows", tokens,
        data.size(0));
  check(h0.shape() == Shape{batch_sizes[0], hidden},
        "FusedLayer: expected h0 of shape ({}, {}), got {}", batch_sizes[0], hidden, h0.shape());
  const Dtype dtype = data.dtype();
  for (const Tensor* t : {&h0, &w.w_ih, &w.w_hh, &w.b_ih, &w.b_hh})
    if (t->defined())
      check(t->dtype() == dtype,
            "FusedLayer: expected data, h0 and weights of one dtype, got {} and {}",
            dtype_name(dtype), dtype_name(t->dtype()));
  // The per-step products index rows 4H apart and B rows with cblas's integer.
  check(4 * hidden <= std::numeric_limits<blasint>::max() &&
            batch_sizes[0] <= std::numeric_limits<blasint>::max(),
        "FusedLayer: hidden size {} or batch {} exceeds what cblas can index", hidden,
        batch_sizes[0]);
}

const char* node_name(CellKind kind) {
  switch (kind) {
    case CellKind::RNNTanh: return "FusedRNNTanhBackward";
    case CellKind::RNNReLU: return "FusedRNNReLUBackward";
    case CellKind::GRU: return "FusedGRUBackward";
  }
  return "?";
}

}  // namespace

// ---- The layer ----------------------------------------------------------------------------------

std::pair<Tensor, Tensor> FusedLayer::run(CellKind kind, const LayerWeights& w, const Tensor& data,
                                          const std::vector<std::int64_t>& batch_sizes,
                                          const Tensor& h0, bool reverse) const {
  check_inputs(kind, w, data, batch_sizes, h0);
  const Schedule schedule(batch_sizes, reverse);
  const std::vector<Tensor> inputs{data, h0, w.w_ih, w.w_hh, w.b_ih, w.b_hh};
  // Nothing is kept for backward unless a node will be recorded.
  const bool record = any_requires_grad(inputs);
  return dispatch_floating(data.dtype(), "FusedLayer", [&]<class T>() -> std::pair<Tensor, Tensor> {
    Forward result = forward<T>(kind, w, data, schedule, h0, record && kind == CellKind::GRU);
    if (!record) return {result.output, result.h_n};
    // Saved: the inputs the gradients are products with (X, h0, W_ih, W_hh), the output (the
    // states, and the RNN's activation derivative) and the GRU's gates. Not the biases.
    LambdaNode::Backward backward_fn =
        [kind, schedule, data = save(data), h0 = save(h0), w_ih = save(w.w_ih),
         w_hh = save(w.w_hh), output = save(result.output),
         gates = save(result.gates)](const std::vector<Tensor>& grad_outputs,
                                     const NeedsGrad& needs) {
          const Saved unpacked{data.unpack(), h0.unpack(), w_ih.unpack(),
                               w_hh.unpack(), output.unpack(), gates.unpack()};
          return backward<T>(kind, schedule, unpacked, grad_outputs[0], grad_outputs[1], needs);
        };
    std::vector<Tensor> outputs = record_node(node_name(kind), inputs,
                                              {result.output, result.h_n}, std::move(backward_fn));
    return {outputs[0], outputs[1]};
  });
}

}  // namespace minigrad::nn
