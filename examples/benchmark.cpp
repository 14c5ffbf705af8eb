// The benchmark: one training step of minigrad's recurrent layers against the same step in
// PyTorch, at six fixed shapes, printed as one table.
//
//   build/examples/rnn_benchmark                            every shape, minigrad and PyTorch
//   build/examples/rnn_benchmark --shapes S1,S3 --steps 5   a quick look at two shapes
//   build/examples/rnn_benchmark --help                     every flag
//
// What is measured. At each shape (S1..S6 below) both sides run the same training step on a fixed
// random input: forward through nn::GRU or nn::RNN, a loss, backward to every parameter and to the
// input. Each side reports the median time of several steps after a few warm-up steps, and does so
// in a few rounds over all the shapes; the table keeps each side's fastest round, since other work
// on a shared machine only ever slows a round down. Every measurement is a process of its own, so
// that its peak memory (read with wait4) belongs to one shape alone: this program re-executed with
// --child for minigrad, and examples/benchmark_torch.py under Debian's /usr/bin/python3 for
// PyTorch. In this process and on the same cores, three yardsticks: the arithmetic peak, the
// most multiply-adds per second the cores can do; the rate of a large square sgemm; and the GEMM
// floor of each shape, the time of nothing but the matrix products that an ideal schedule of the
// step has to do.
//
// How to read the table. "ms" is the median time of one step on each side, in its fastest round
// (the line under the table gives the range of the rounds); "speedup" is PyTorch's time over ours
// (above 1, minigrad is faster). "GFLOP/s" is the step's FLOPs over our time, and "of sgemm" that
// rate as a fraction of the sgemm rate measured here, what OpenBLAS reaches on a large square
// product (a step can pass it only with products faster than cblas's own); "of peak" the same
// fraction of the arithmetic peak, which nothing passes. "floor ms" is the GEMM floor and "/floor"
// our time over it: 1.00 would mean that nothing but the GEMMs costs any time. "MB" is each
// process's peak resident memory; PyTorch's includes Python and torch's libraries, whose share the
// header states. docs/performance.md explains every column at more length. Read after
// examples/demo.cpp.
#include <cblas.h>  // openblas_get_config, openblas_set_num_threads
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "benchmark_support.h"
#include "core/blas.h"         // mg::gemm, for the floor
#include "core/packed_gemm.h"  // PackedMatrix, for the arithmetic peak
#include "core/parallel.h"     // parallel_parts, for the floor of minigrad's schedule and the peak
#include "minigrad.h"

namespace mg = minigrad;
namespace rnn = minigrad::nn::utils::rnn;

namespace {

const char* const kPython = "/usr/bin/python3";
const std::string kTorchScript = std::string(MG_SOURCE_DIR) + "/examples/benchmark_torch.py";

// ---- The shapes -------------------------------------------------------------------------------
// Legend: L layers, I input size, H hidden size (I = H at every shape), T steps, B batch,
// G gates (3 for GRU, 1 for RNN), N tokens: T·B dense, the sum of the lengths when packed.
// All float32, with bias, batch_first. benchmark_torch.py holds the same table.

struct BenchShape {
  const char* name;
  bool gru;                    // GRU, else RNN with tanh
  std::int64_t L, size, T, B;  // size = I = H
  bool packed;                 // S4: variable lengths, packed
  int default_steps;           // timed steps without --steps: more for the quick shapes
};

constexpr BenchShape kShapes[] = {
    {"S1", true, 1, 128, 50, 32, false, 30},   {"S2", false, 2, 256, 100, 64, false, 10},
    {"S3", true, 2, 256, 100, 64, false, 10},  {"S4", true, 2, 256, 100, 64, true, 10},
    {"S5", true, 1, 512, 100, 64, false, 10},  {"S6", true, 1, 512, 25, 16, false, 30},
};

std::int64_t gates(const BenchShape& s) { return s.gru ? 3 : 1; }

// Each sequence's length. Dense: T for all. Packed (S4), unsorted, between 30 and T:
// lengths[0] = T, lengths[i] = 30 + (37·i mod (T − 30)).
std::vector<std::int64_t> lengths(const BenchShape& s) {
  std::vector<std::int64_t> result(static_cast<std::size_t>(s.B), s.T);
  if (s.packed)
    for (std::int64_t i = 1; i < s.B; ++i)
      result[static_cast<std::size_t>(i)] = 30 + (37 * i) % (s.T - 30);
  return result;
}

// batch_sizes[t], the number of sequences still running at step t: b_t in the floor below.
std::vector<std::int64_t> batch_sizes(const BenchShape& s) {
  std::vector<std::int64_t> result(static_cast<std::size_t>(s.T), 0);
  for (std::int64_t length : lengths(s))
    for (std::int64_t t = 0; t < length; ++t) ++result[static_cast<std::size_t>(t)];
  return result;
}

std::int64_t tokens(const BenchShape& s) {  // N
  std::int64_t n = 0;
  for (std::int64_t length : lengths(s)) n += length;
  return n;
}

// FLOPs of one step, GEMMs only. Per layer, the forward multiplies N rows by W_ih (G·H, I_l) and
// by W_hh (G·H, H): 2·N·G·H·(I_l + H); the backward does each product twice (the gradient with
// respect to each factor), so 6·N·G·H·(I_l + H) in all. With I_0 = I and I_l = H above it, the
// L layers sum to 6·G·N·H·(I + (2L − 1)·H): 18·T·B·H·(I + (2L − 1)·H) for a dense GRU.
double flops(const BenchShape& s) {
  return 6.0 * static_cast<double>(gates(s) * tokens(s) * s.size) *
         static_cast<double>(s.size + (2 * s.L - 1) * s.size);
}

std::string describe(const BenchShape& s) {
  return fmt::format("{}{} L={} I=H={} T{}{} B={}", s.gru ? "GRU" : "RNN tanh",
                     s.packed ? " packed" : "", s.L, s.size, s.packed ? "≤" : "=", s.T, s.B);
}

const BenchShape* find_shape(const std::string& name) {
  for (const BenchShape& s : kShapes)
    if (name == s.name) return &s;
  return nullptr;
}

// ---- The options ------------------------------------------------------------------------------
// Parsed from the flags, at the end of this file.

struct Options {
  std::vector<const BenchShape*> shapes;
  std::optional<int> steps;  // timed steps; the shape's default when not given
  int warmup = 2;
  int rounds = 3;
  int threads = 0;           // 0: minigrad's default, every core
  bool composed = false;     // --layer composed: nn::ComposedLayer instead of the default
  bool torch = true;
  bool markdown = false;
  const BenchShape* child = nullptr;  // --child S3: measure minigrad at S3 and print ms=...
};

int steps_for(const Options& options, const BenchShape& s) {
  return options.steps.value_or(s.default_steps);
}

// ---- The training step (the child process) ----------------------------------------------------
// The step, the same on both sides (benchmark_torch.py writes it in PyTorch):
//   x        (B, T, I) float32 from N(0, 1), seed 0, requires grad
//   S4       x packed with lengths(), enforce_sorted = false, inside the step (packing is part
//            of the work, and its backward carries the gradient to x)
//   forward  output (B, T, H), or the packed output's data (N, H), and h_n (L, B, H)
//   loss     mean(output²) + mean(h_n²)
//   backward to every parameter and to x, then every gradient is cleared (set to none)
// No optimizer step: it would add the same elementwise update to both sides.

std::unique_ptr<mg::nn::RecurrentBase> make_model(const BenchShape& s) {
  if (s.gru)
    return std::make_unique<mg::nn::GRU>(
        mg::nn::GRUOptions(s.size, s.size).num_layers(s.L).batch_first(true));
  return std::make_unique<mg::nn::RNN>(mg::nn::RNNOptions(s.size, s.size)
                                           .num_layers(s.L)
                                           .batch_first(true)
                                           .nonlinearity(mg::nn::kTanh));
}

// Runs the step at shape s and prints "ms=<median>" on stdout, for the parent to read.
int run_child(const BenchShape& s, const Options& options) {
  if (options.threads > 0) mg::set_num_threads(options.threads);
  mg::manual_seed(0);
  const std::unique_ptr<mg::nn::RecurrentBase> model = make_model(s);
  if (options.composed) model->set_layer_implementation(std::make_shared<mg::nn::ComposedLayer>());
  mg::Tensor x = mg::randn({s.B, s.T, s.size}).requires_grad_();  // (B, T, I)
  const std::vector<std::int64_t> lens = lengths(s);

  const auto step = [&] {
    mg::Tensor loss;
    if (s.packed) {
      const rnn::PackedSequence packed = rnn::pack_padded_sequence(x, lens, true, false);
      const auto [output, h_n] = (*model)(packed);  // data (N, H), (L, B, H)
      loss = output.data().pow(2).mean() + h_n.pow(2).mean();
    } else {
      const auto [output, h_n] = (*model)(x);       // (B, T, H), (L, B, H)
      loss = output.pow(2).mean() + h_n.pow(2).mean();
    }
    loss.backward();
    model->zero_grad();
    x.set_grad(mg::Tensor());
  };
  std::printf("ms=%.6f\n", bench::median_ms(step, options.warmup, steps_for(options, s)));
  return 0;
}

// ---- The yardsticks: sgemm rate and GEMM floor ------------------------------------------------

using bench::sgemm;  // c = op(a) · op(b), row-major, straight to cblas_sgemm

// GFLOP/s of a square n³ sgemm, median of 10 after 2 warm-ups: OpenBLAS's rate on a product of
// the best shape.
double sgemm_rate(std::int64_t n) {
  std::mt19937 generator(0);
  const std::vector<float> a = bench::random_buffer(n * n, generator);
  const std::vector<float> b = bench::random_buffer(n * n, generator);
  std::vector<float> c(static_cast<std::size_t>(n * n));
  const auto product = [&] { sgemm(false, false, n, n, n, a.data(), b.data(), c.data()); };
  const double ms = bench::median_ms(product, 2, 10);
  return 2.0 * static_cast<double>(n * n * n) / (ms * 1e6);
}

// GFLOP/s of the machine's arithmetic, the rate no product can pass: the packed kernel of
// core/packed_gemm.h multiplying 6 rows by one panel of 16 columns, k = 256, over and over, on
// every thread at once. Its operands (6 KB and 16 KB) and its result stay in the L1 cache, so the
// cores do nothing but fused multiply-adds. 0 where the kernel cannot run (no AVX2 and FMA).
double arithmetic_peak() {
  if (!mg::PackedMatrix::available()) return 0.0;
  constexpr std::int64_t k = 256, rows = 6, cols = 16, repeats = 20000;
  const int parts = mg::get_num_threads();
  std::mt19937 generator(0);
  const std::vector<float> a = bench::random_buffer(rows * k, generator);
  const std::vector<float> b = bench::random_buffer(k * cols, generator);
  const mg::PackedMatrix panel(b.data(), k, cols, cols, 1);
  // Each thread's result 4 KB from the next, so that no cache line is written by two cores.
  constexpr std::int64_t apart = 1024;
  std::vector<float> c(static_cast<std::size_t>(parts * apart));
  // Each thread times its own runs and keeps its fastest, all the threads running at once. Not the
  // median, nor the time of the region: the peak is the best a core does while the others work
  // too, and a virtual machine's host can stop any one core for a while and so only slow a run.
  std::vector<double> fastest_ms(static_cast<std::size_t>(parts),
                                 std::numeric_limits<double>::infinity());
  for (int run = 0; run <= 10; ++run)  // run 0 only warms up
    mg::parallel_parts(parts, [&](int part) {
      float* out = c.data() + part * apart;
      const auto start = std::chrono::steady_clock::now();
      for (std::int64_t i = 0; i < repeats; ++i) panel.multiply(rows, a.data(), k, out, cols, true);
      const std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - start;
      double& fastest = fastest_ms[static_cast<std::size_t>(part)];
      if (run > 0) fastest = std::min(fastest, ms.count());
    });
  double gflops = 0;
  for (const double ms : fastest_ms)
    gflops += 2.0 * static_cast<double>(repeats * rows * cols * k) / (ms * 1e6);
  return gflops;
}

// The GEMM floor: the step's matrix products alone, as an ideal schedule does them, each through
// cblas_sgemm on buffers allocated once (the values do not matter, only the sizes do). With
// GH = G·H, I_l the input size of layer l, and rows of step t at offset_t (b_t rows):
//   forward, layer by layer:
//     gi (N, GH)      = X_l (N, I_l) · W_ihᵀ                  all tokens at once
//     gh (b_t, GH)    = h_{t−1} (b_t, H) · W_hhᵀ              per step
//   backward, from the top layer down, with dG (N, GH) the gates' gradients of every step:
//     dh (b_t, H)     = dG_t (b_t, GH) · W_hh                 per step, last step first
//     dX_l (N, I_l)   = dG (N, GH) · W_ih
//     dW_ih (GH, I_l) = dGᵀ (GH, N) · X_l (N, I_l)
//     dW_hh (GH, H)   = dGᵀ (GH, N) · H_prev (N, H)
// Nothing else is counted: no gate math, no allocation, no bookkeeping.
//
// Two schedules spread these products over the threads, and the floor is the faster one:
//   - OpenBLAS's threads: every product one cblas_sgemm call, run by OpenBLAS on all threads.
//   - minigrad's split, as nn/fused_recurrent.cpp and core/blas.cpp do it: the batch cut into one
//     group of sequences per thread (equal shares of the tokens), each thread doing the per-step
//     products of its group for all steps on its own; every whole-sequence product through
//     mg::gemm, which cuts it into one block of rows or columns per thread. Each call runs on one
//     OpenBLAS thread.
// The whole-sequence products go through mg::gemm in both: with minigrad on one thread and
// OpenBLAS on all of them, mg::gemm is one cblas call that OpenBLAS spreads itself.
struct FloorLayer {
  mg::Tensor w_ih, w_hh;              // (GH, I_l), (GH, H)
  mg::Tensor grad_w_ih, grad_w_hh;    // the same shapes
  mg::Tensor gates;                   // (N, GH): gi in forward, dG in backward
  mg::Tensor output;                  // (N, H): h of every step
  mg::Tensor grad_input;              // (N, I_l)
};

enum class FloorSchedule { OpenBLAS, Split };

double gemm_floor_ms(const BenchShape& s, FloorSchedule schedule_kind, int warmup, int steps) {
  const std::int64_t H = s.size, GH = gates(s) * s.size, N = tokens(s), B = s.B;
  const std::vector<std::int64_t> sizes = batch_sizes(s);
  std::vector<std::int64_t> offsets(sizes.size(), 0);  // offset_t
  for (std::size_t t = 1; t < sizes.size(); ++t) offsets[t] = offsets[t - 1] + sizes[t - 1];
  const bool split = schedule_kind == FloorSchedule::Split;
  const int threads = mg::get_num_threads();

  // The groups of sequences of the split schedule: [cuts[g], cuts[g + 1]), equal token shares,
  // cut as nn/fused_recurrent.cpp's sequence_groups cuts them. Sequence b is the b-th longest,
  // as packing sorts them.
  std::vector<std::int64_t> sorted = lengths(s);
  std::sort(sorted.rbegin(), sorted.rend());
  std::vector<std::int64_t> cuts{0};
  std::int64_t running = 0;
  for (std::int64_t b = 0; b < B && static_cast<int>(cuts.size()) < threads; ++b) {
    running += sorted[static_cast<std::size_t>(b)];
    if (running * threads >= N * static_cast<std::int64_t>(cuts.size())) cuts.push_back(b + 1);
  }
  cuts.push_back(B);

  // U(−0.1, 0.1): values far from overflow and denormals.
  const auto buffer = [](std::int64_t rows, std::int64_t cols) {
    return mg::rand({rows, cols}) * 0.2 - 0.1;
  };
  const mg::Tensor x = buffer(N, s.size), h0 = buffer(B, H);  // (N, I), (B, H)
  const mg::Tensor gh = buffer(B, GH), dh = buffer(B, H);     // (B, GH), (B, H)
  std::vector<FloorLayer> layers;
  for (std::int64_t l = 0; l < s.L; ++l) {
    const std::int64_t in = l == 0 ? s.size : H;
    layers.push_back({buffer(GH, in), buffer(GH, H), buffer(GH, in), buffer(GH, H), buffer(N, GH),
                      buffer(N, H), buffer(N, in)});
  }
  const auto input_of = [&](std::size_t l) {  // X_l
    return l == 0 ? x : layers[l - 1].output;
  };
  const auto h_prev = [&](const FloorLayer& layer, std::size_t t) {  // h_{t−1}, first b_t rows
    return t == 0 ? h0.data_ptr<float>() : layer.output.data_ptr<float>() + offsets[t - 1] * H;
  };
  // The per-step products of rows [lo, hi) of every step: one group per thread, or all at once.
  const auto per_step = [&](const auto& step_rows) {
    if (!split) return step_rows(std::int64_t{0}, B);
    mg::parallel_parts(static_cast<int>(cuts.size()) - 1,
                       [&](int g) { step_rows(cuts[static_cast<std::size_t>(g)], cuts[g + 1u]); });
  };
  const auto rows_at = [&](std::size_t t, std::int64_t lo, std::int64_t hi) {
    return std::max<std::int64_t>(0, std::min(hi, sizes[t]) - lo);
  };

  const auto schedule = [&] {
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const FloorLayer& layer = layers[l];
      mg::gemm(input_of(l), layer.w_ih.t(), layer.gates);
      per_step([&](std::int64_t lo, std::int64_t hi) {
        for (std::size_t t = 0; t < sizes.size(); ++t)
          if (const std::int64_t m = rows_at(t, lo, hi); m > 0)
            bench::sgemm(false, true, m, GH, H, h_prev(layer, t) + lo * H,
                         layer.w_hh.data_ptr<float>(), gh.data_ptr<float>() + lo * GH);
      });
    }
    for (std::size_t l = layers.size(); l-- > 0;) {
      const FloorLayer& layer = layers[l];
      per_step([&](std::int64_t lo, std::int64_t hi) {
        for (std::size_t t = sizes.size(); t-- > 0;)
          if (const std::int64_t m = rows_at(t, lo, hi); m > 0)
            bench::sgemm(false, false, m, H, GH,
                         layer.gates.data_ptr<float>() + (offsets[t] + lo) * GH,
                         layer.w_hh.data_ptr<float>(), dh.data_ptr<float>() + lo * H);
      });
      mg::gemm(layer.gates, layer.w_ih, layer.grad_input);
      mg::gemm(layer.gates.t(), input_of(l), layer.grad_w_ih);
      mg::gemm(layer.gates.t(), layer.output, layer.grad_w_hh);
    }
  };
  // minigrad runs OpenBLAS on one thread (core/parallel.h). The first schedule turns that
  // around for the length of the measurement: minigrad on one thread, OpenBLAS on all.
  if (!split) {
    mg::set_num_threads(1);
    openblas_set_num_threads(threads);
  }
  const double ms = bench::median_ms(schedule, warmup, steps);
  if (!split) {
    openblas_set_num_threads(1);
    mg::set_num_threads(threads);
  }
  return ms;
}

// ---- The machine ------------------------------------------------------------------------------

std::string threads_text(int n) { return fmt::format("{} thread{}", n, n == 1 ? "" : "s"); }

// One line of the text around the table; a list item in markdown, so that lines stay lines.
void say(const Options& options, const std::string& text) {
  std::printf("%s%s\n", options.markdown ? "- " : "", text.c_str());
}

// PyTorch's version, thread count and the peak memory of a process that only imports torch;
// nullopt, after saying why, when /usr/bin/python3 or torch is missing.
struct TorchInfo {
  std::string version;
  int threads;
  double import_mb;
};

std::optional<TorchInfo> probe_torch(const Options& options) {
  if (access(kPython, X_OK) != 0) {
    say(options, fmt::format("PyTorch: not measured, {} is missing", kPython));
    return std::nullopt;
  }
  const bench::ProcessResult probe = bench::run_process({kPython, kTorchScript, "--info"});
  const std::optional<double> threads = bench::number_after(probe.output, "\"threads\": ");
  if (!probe.ok || !threads) {
    say(options, fmt::format("PyTorch: not measured, {} {} --info failed (is python3-torch "
                             "installed?)", kPython, kTorchScript));
    return std::nullopt;
  }
  return TorchInfo{bench::string_after(probe.output, "\"torch\": \""), static_cast<int>(*threads),
                   probe.peak_mb};
}

// Prints the machine and the settings; returns what is known of PyTorch, if it is to be run.
std::optional<TorchInfo> print_machine(const Options& options) {
  say(options, fmt::format("machine: {}, {} cores", bench::cpu_model(),
                           sysconf(_SC_NPROCESSORS_ONLN)));
  say(options, fmt::format("minigrad: {}{}, layer {}",
                           threads_text(options.threads > 0 ? options.threads
                                                            : mg::get_num_threads()),
                           options.threads > 0 ? "" : " (its default: every core)",
                           options.composed ? "composed (nn::ComposedLayer)"
                                            : "fused (the default)"));
  say(options, fmt::format("OpenBLAS: {}", openblas_get_config()));
  std::optional<TorchInfo> torch;
  if (options.torch) torch = probe_torch(options);
  if (torch)
    say(options, fmt::format("PyTorch: {}, {} (its default); importing torch alone peaks at "
                             "{:.0f} MB", torch->version, threads_text(torch->threads),
                             torch->import_mb));
  std::fflush(stdout);
  return torch;
}

// ---- The table --------------------------------------------------------------------------------

struct Row {
  const BenchShape* shape = nullptr;
  std::optional<double> ours_ms, torch_ms;  // the fastest round; nullopt: every child failed
  std::vector<double> ours_rounds, torch_rounds;  // each round's median, of the children that ran
  double ours_mb = 0, torch_mb = 0, floor_ms = 0;  // the peaks: the largest of the rounds
  bool floor_by_split = false;  // which schedule gave the floor: minigrad's split or OpenBLAS's
};

std::string ms_text(double ms) {
  return fmt::format("{:.{}f}", ms, ms < 10 ? 2 : ms < 100 ? 1 : 0);  // three digits or more
}

// One round at one shape: its two children, this program with --child and benchmark_torch.py,
// one after the other. Their medians and peaks go into the shape's row.
void measure(Row& row, const Options& options, bool torch) {
  const BenchShape& s = *row.shape;
  const std::string steps = std::to_string(steps_for(options, s));
  const std::string warmup = std::to_string(options.warmup);
  std::vector<std::string> args{bench::self_path(), "--child", s.name, "--steps", steps,
                                "--warmup", warmup, "--layer",
                                options.composed ? "composed" : "fused"};
  if (options.threads > 0) args.insert(args.end(), {"--threads", std::to_string(options.threads)});
  // The round's median into the list, and the row's time the fastest round so far.
  const auto keep = [](std::optional<double> ms, std::vector<double>& rounds,
                       std::optional<double>& fastest) {
    if (!ms) return;
    rounds.push_back(*ms);
    fastest = std::min(fastest.value_or(*ms), *ms);
  };
  const bench::ProcessResult ours = bench::run_process(args);
  const std::optional<double> ours_ms =
      ours.ok ? bench::number_after(ours.output, "ms=") : std::nullopt;
  keep(ours_ms, row.ours_rounds, row.ours_ms);
  row.ours_mb = std::max(row.ours_mb, ours.peak_mb);
  std::optional<double> torch_ms;
  if (torch) {
    const bench::ProcessResult theirs = bench::run_process(
        {kPython, kTorchScript, "--shape", s.name, "--steps", steps, "--warmup", warmup});
    if (theirs.ok) torch_ms = bench::number_after(theirs.output, "\"ms\": ");
    keep(torch_ms, row.torch_rounds, row.torch_ms);
    row.torch_mb = std::max(row.torch_mb, theirs.peak_mb);
  }
  const auto ms_or_failed = [](std::optional<double> ms) {
    return ms ? ms_text(*ms) + " ms" : std::string("failed");
  };
  std::string progress = std::string(s.name) + ": minigrad " + ms_or_failed(ours_ms);
  if (torch) progress += ", PyTorch " + ms_or_failed(torch_ms);
  std::fprintf(stderr, "%s\n", progress.c_str());
}

// "196–203" or "196": the least and the largest of a shape's rounds.
std::string range_text(const std::vector<double>& rounds) {
  if (rounds.empty()) return "failed";
  const auto [low, high] = std::minmax_element(rounds.begin(), rounds.end());
  return rounds.size() == 1 || ms_text(*low) == ms_text(*high)
             ? ms_text(*low)
             : ms_text(*low) + "–" + ms_text(*high);
}

// The table's cells, header first; PyTorch's columns only when it ran.
std::vector<std::vector<std::string>> table_cells(const std::vector<Row>& rows, bool torch,
                                                  double sgemm_gflops, double peak_gflops) {
  std::vector<std::string> header{"shape", "layer", "minigrad ms"};
  if (torch) header.insert(header.end(), {"PyTorch ms", "speedup"});
  header.insert(header.end(), {"GFLOP/s", "of sgemm", "of peak", "floor ms", "/floor", "minigrad MB"});
  if (torch) header.push_back("PyTorch MB");
  std::vector<std::vector<std::string>> cells{header};
  const std::string none = "-";
  for (const Row& row : rows) {
    const std::optional<double> ours = row.ours_ms, theirs = row.torch_ms;
    const double gflops = ours ? flops(*row.shape) / (*ours * 1e6) : 0.0;
    std::vector<std::string> line{row.shape->name, describe(*row.shape),
                                  ours ? ms_text(*ours) : "failed"};
    if (torch) {
      line.push_back(theirs ? ms_text(*theirs) : "failed");
      line.push_back(ours && theirs ? fmt::format("{:.2f}×", *theirs / *ours) : none);
    }
    line.push_back(ours ? fmt::format("{:.1f}", gflops) : none);
    line.push_back(ours ? fmt::format("{:.0f}%", 100 * gflops / sgemm_gflops) : none);
    line.push_back(ours && peak_gflops > 0 ? fmt::format("{:.0f}%", 100 * gflops / peak_gflops)
                                           : none);
    line.push_back(ms_text(row.floor_ms));
    line.push_back(ours ? fmt::format("{:.2f}", *ours / row.floor_ms) : none);
    line.push_back(fmt::format("{:.0f}", row.ours_mb));
    if (torch) line.push_back(fmt::format("{:.0f}", row.torch_mb));
    cells.push_back(line);
  }
  return cells;
}

int run_benchmark(const Options& options) {
  // The arithmetic peak first, while no child has run yet: just after a large process exits, the
  // kernel may still be busy with its memory for a moment.
  if (options.threads > 0) mg::set_num_threads(options.threads);
  const double peak_gflops = arithmetic_peak();
  const std::optional<TorchInfo> torch = print_machine(options);

  // First every child, while this process is still small: a child's peak memory includes this
  // process's at the moment the child starts (see bench::run_process). The rounds go over every
  // shape in turn, so that a burst of other work on the machine spoils one round of a shape, not
  // all of them; each side's time is its fastest round (see the flag --rounds).
  std::vector<Row> rows;
  for (const BenchShape* s : options.shapes) {
    Row row;
    row.shape = s;
    rows.push_back(row);
  }
  for (int round = 1; round <= options.rounds; ++round) {
    if (options.rounds > 1) std::fprintf(stderr, "round %d of %d\n", round, options.rounds);
    for (Row& row : rows) measure(row, options, torch.has_value());
  }

  // Then the other yardsticks, in this process, at the thread count the children used: first
  // those on minigrad's threads, then those on OpenBLAS's. OpenBLAS's threads go on spinning for a while
  // after their last product (about a tenth of a second), and would take the cores from
  // minigrad's threads if these came after them.
  const int warmup = options.warmup;
  for (Row& row : rows)
    row.floor_ms = gemm_floor_ms(*row.shape, FloorSchedule::Split, warmup,
                                 steps_for(options, *row.shape));
  openblas_set_num_threads(mg::get_num_threads());  // OpenBLAS's own threads, for its best rate
  const double sgemm_gflops = sgemm_rate(1024);
  openblas_set_num_threads(1);                      // back to one, as under minigrad
  for (Row& row : rows) {
    const double openblas = gemm_floor_ms(*row.shape, FloorSchedule::OpenBLAS, warmup,
                                          steps_for(options, *row.shape));
    row.floor_by_split = row.floor_ms < openblas;
    row.floor_ms = std::min(row.floor_ms, openblas);
  }
  say(options, fmt::format("sgemm: 1024×1024×1024 through cblas_sgemm, {}: {:.1f} GFLOP/s "
                           "(median of 10)", threads_text(mg::get_num_threads()), sgemm_gflops));
  if (peak_gflops > 0)
    say(options, fmt::format("peak: minigrad's 6×16 kernel on operands in the L1 cache, {}: "
                             "{:.1f} GFLOP/s (each thread's fastest of 10)",
                             threads_text(mg::get_num_threads()), peak_gflops));
  else
    say(options, "peak: not measured (this CPU has no AVX2 and FMA for minigrad's kernel)");

  std::printf("\n");
  bench::print_table(table_cells(rows, torch.has_value(), sgemm_gflops, peak_gflops), 2, options.markdown);
  const auto floors_by = [&](bool split) {  // the shapes whose floor came from that schedule
    std::string names;
    for (const Row& row : rows)
      if (row.floor_by_split == split)
        names += (names.empty() ? "" : ", ") + std::string(row.shape->name);
    return names.empty() ? std::string("none") : names;
  };
  std::printf("\nfloor ms: the faster of two schedules of the same products (docs/performance.md):"
              " minigrad's split at %s; OpenBLAS's threads at %s.\n",
              floors_by(true).c_str(), floors_by(false).c_str());
  if (options.rounds > 1) {
    std::printf("\nms: each side's fastest of %d rounds. Their range, minigrad | PyTorch:",
                options.rounds);
    for (const Row& row : rows) {
      std::printf("%s %s %s", &row == &rows.front() ? "" : ";", row.shape->name,
                  range_text(row.ours_rounds).c_str());
      if (torch) std::printf(" | %s", range_text(row.torch_rounds).c_str());
    }
    std::printf(".\n");
  }
  for (const Row& row : rows)
    if (row.shape->packed)
      std::printf("\n%s: FLOPs counted on its N = %lld real tokens in place of T·B = %lld.\n",
                  row.shape->name, static_cast<long long>(tokens(*row.shape)),
                  static_cast<long long>(row.shape->T * row.shape->B));
  return 0;
}

// ---- The flags --------------------------------------------------------------------------------

const char* const kHelp = R"(usage: rnn_benchmark [flags]
Times one training step (forward, loss, backward) of minigrad's GRU and RNN against PyTorch's
at the shapes S1..S6 and prints one table; docs/performance.md explains its columns.
  --shapes S1,S3     the shapes to run (default: all)
  --steps N          timed steps per shape, the median is reported (default: 30 for S1 and
                     S6, 10 for the others)
  --warmup N         untimed steps first (default: 2)
  --rounds N         times each shape is measured on each side, all shapes in turn; the
                     table shows each side's fastest round, and a line under it the range
                     (default: 3)
  --threads N        minigrad's and the yardsticks' thread count (default: every core);
                     PyTorch always runs with its own defaults
  --layer fused      the layer nn::GRU and nn::RNN run by default, the fused one (default)
  --layer composed   nn::ComposedLayer, the readable reference (slow on S4 and S5)
  --no-torch         minigrad's columns only
  --markdown         the table as a markdown table
  --help             this text
)";

struct UsageError {
  std::string message;
};

int parse_count(const std::string& flag, const std::string& text, int minimum) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < minimum)
    throw UsageError{fmt::format("{} expects an integer of at least {}, got '{}'", flag, minimum,
                                 text)};
  return value;
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const bool takes_value = flag == "--shapes" || flag == "--steps" || flag == "--warmup" ||
                             flag == "--rounds" ||
                             flag == "--threads" || flag == "--layer" || flag == "--child";
    if (takes_value && i + 1 == argc) throw UsageError{flag + " expects a value"};
    const std::string value = takes_value ? argv[++i] : "";
    if (flag == "--shapes") {
      std::size_t start = 0;
      while (start <= value.size()) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        const std::string name = value.substr(start, comma - start);
        const BenchShape* s = find_shape(name);
        if (s == nullptr) throw UsageError{"unknown shape '" + name + "' (S1 to S6)"};
        options.shapes.push_back(s);
        start = comma + 1;
      }
    } else if (flag == "--steps") {
      options.steps = parse_count(flag, value, 1);
    } else if (flag == "--warmup") {
      options.warmup = parse_count(flag, value, 0);
    } else if (flag == "--rounds") {
      options.rounds = parse_count(flag, value, 1);
    } else if (flag == "--threads") {
      options.threads = parse_count(flag, value, 1);
    } else if (flag == "--layer") {
      if (value != "fused" && value != "composed")
        throw UsageError{"--layer expects fused or composed, got '" + value + "'"};
      options.composed = value == "composed";
    } else if (flag == "--child") {
      options.child = find_shape(value);
      if (options.child == nullptr) throw UsageError{"unknown shape '" + value + "'"};
    } else if (flag == "--no-torch") {
      options.torch = false;
    } else if (flag == "--markdown") {
      options.markdown = true;
    } else {
      throw UsageError{"unknown flag '" + flag + "' (see --help)"};
    }
  }
  if (options.shapes.empty())
    for (const BenchShape& s : kShapes) options.shapes.push_back(&s);
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    for (int i = 1; i < argc; ++i)
      if (std::string(argv[i]) == "--help") {
        std::printf("%s", kHelp);
        return 0;
      }
    const Options options = parse_options(argc, argv);
    return options.child ? run_child(*options.child, options) : run_benchmark(options);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "rnn_benchmark: %s\n", e.message.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rnn_benchmark: %s\n", e.what());
    return 1;
  }
}
