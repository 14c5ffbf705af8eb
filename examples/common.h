// What every example shares, so that each example file can be only its task: data, model, loop.
//
// Every example takes the same flags, shows the same live progress line, and leaves the same
// files behind. A loop written with it looks like this:
//
//   examples::Flags flags = examples::parse_flags(argc, argv, example);  // --help, bad flags
//   mg::manual_seed(flags.seed);                    // the initial weights, dropout
//   ... build the model and the optimizer from flags ...
//   examples::Run run(example, flags);              // threads, the output directory
//   std::int64_t step = run.resume(model, optimizer);    // 0, or the step --resume saved at
//   while (++step <= flags.steps) {
//     ... one training step ...
//     run.record(step, loss, {"acc", accuracy});   // the progress line and the loss curve
//   }
//   return run.finish(model, optimizer, score);     // summary, loss.csv, loss.png, checkpoint
//
// Data is made from the seed, step by step: the batch of step s comes from rng_for(seed, s), and
// the held-out set from rng_for(seed, 0). So a run resumed from its checkpoint sees the batches
// the uninterrupted run would have seen.
//
// Read one example first (examples/parity.cpp, the main demo), then this file.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <fmt/core.h>

#include "minigrad.h"

namespace examples {

namespace mg = minigrad;

// ---- Flags ----------------------------------------------------------------------------------

// The flags every example takes; each example states its own defaults.
struct Flags {
  std::int64_t steps = 1000;      // training steps in all (a resumed run counts from the start)
  std::int64_t batch = 32;        // sequences per step
  std::int64_t hidden = 64;       // hidden size of the recurrent layers
  std::int64_t layers = 1;        // recurrent layers
  std::string cell = "gru";       // "gru" or "rnn" (tanh)
  double lr = 1e-3;               // learning rate
  std::int64_t seed = 0;          // for the weights and the data
  std::int64_t threads = 0;       // 0: every core (minigrad's default)
  std::string out;                // directory for loss.csv, loss.png, checkpoint.safetensors
  std::string resume;             // a checkpoint to start from
  std::optional<double> expect;   // exit with status 1 if the final score misses this
};

// A flag only one example has, bound to a variable of that example: an integer (≥ 1), a number,
// or a string (a file name, a text). A flag that shapes the model (a vocabulary size, say) is
// saved in the checkpoint and taken back from it on --resume.
struct ExtraFlag {
  std::string name;  // without the leading "--"
  std::string help;
  std::variant<std::int64_t*, double*, std::string*> value;
  bool shapes_model = false;
  std::int64_t smallest = 1;  // the least value an integer flag accepts
};

struct Example {
  std::string name;    // the program's name, e.g. "parity"
  std::string about;   // one line: what the example shows
  std::string score;   // what the summary reports, e.g. "held-out accuracy"
  Flags defaults;
  std::vector<ExtraFlag> extras;
};

namespace detail {

[[noreturn]] inline void fail(const Example& example, const std::string& message) {
  std::fprintf(stderr, "%s: %s (see --help)\n", example.name.c_str(), message.c_str());
  std::exit(2);
}

inline std::int64_t to_int(const Example& example, const std::string& flag,
                           const std::string& text, std::int64_t smallest) {
  std::size_t used = 0;
  std::int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || value < smallest)
    fail(example, fmt::format("--{} expects an integer ≥ {}, got '{}'", flag, smallest, text));
  return value;
}

inline double to_double(const Example& example, const std::string& flag, const std::string& text) {
  std::size_t used = 0;
  double value = NAN;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || !std::isfinite(value))
    fail(example, fmt::format("--{} expects a number, got '{}'", flag, text));
  return value;
}

inline void print_help(const Example& example) {
  const Flags& d = example.defaults;
  fmt::print("{}: {}\n\nusage: {} [flags]\n\n", example.name, example.about, example.name);
  fmt::print("  --steps N      training steps in all (default {})\n", d.steps);
  fmt::print("  --batch N      sequences per step (default {})\n", d.batch);
  fmt::print("  --hidden N     hidden size (default {})\n", d.hidden);
  fmt::print("  --layers N     recurrent layers (default {})\n", d.layers);
  fmt::print("  --cell C       gru or rnn (default {})\n", d.cell);
  fmt::print("  --lr X         learning rate (default {})\n", d.lr);
  fmt::print("  --seed N       seed of the weights and the data (default {})\n", d.seed);
  if (d.threads > 0) fmt::print("  --threads N    threads (default {})\n", d.threads);
  else fmt::print("  --threads N    threads (default: every core)\n");
  fmt::print("  --out DIR      write loss.csv, loss.png and checkpoint.safetensors to DIR\n");
  fmt::print("  --resume FILE  start from a checkpoint: continue up to --steps, or only evaluate\n");
  fmt::print("  --expect X     exit with status 1 if the {} misses X\n", example.score);
  for (const ExtraFlag& extra : example.extras) {
    const std::string value = std::visit([](auto* v) { return fmt::format("{}", *v); }, extra.value);
    fmt::print("  --{:<12} {} (default {})\n", extra.name, extra.help, value);
  }
  fmt::print("  --help         this text\n");
}

}  // namespace detail

// The flags of the command line over the example's defaults. Prints the help and exits with 0 for
// --help; prints one line and exits with 2 for an unknown flag or a bad value. With --resume, the
// flags that shape the model (and the seed) come from the checkpoint unless given.
inline Flags parse_flags(int argc, char** argv, const Example& example) {
  Flags flags = example.defaults;
  std::set<std::string> given;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      detail::print_help(example);
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) detail::fail(example, fmt::format("unexpected argument '{}'", arg));
    const std::string name = arg.substr(2);
    if (i + 1 >= argc) detail::fail(example, fmt::format("--{} expects a value", name));
    const std::string value = argv[++i];
    given.insert(name);
    if (name == "steps") flags.steps = detail::to_int(example, name, value, 0);
    else if (name == "batch") flags.batch = detail::to_int(example, name, value, 1);
    else if (name == "hidden") flags.hidden = detail::to_int(example, name, value, 1);
    else if (name == "layers") flags.layers = detail::to_int(example, name, value, 1);
    else if (name == "seed") flags.seed = detail::to_int(example, name, value, 0);
    else if (name == "threads") flags.threads = detail::to_int(example, name, value, 1);
    else if (name == "lr") flags.lr = detail::to_double(example, name, value);
    else if (name == "expect") flags.expect = detail::to_double(example, name, value);
    else if (name == "out") flags.out = value;
    else if (name == "resume") flags.resume = value;
    else if (name == "cell") {
      if (value != "gru" && value != "rnn")
        detail::fail(example, fmt::format("--cell expects gru or rnn, got '{}'", value));
      flags.cell = value;
    } else {
      bool known = false;
      for (const ExtraFlag& extra : example.extras) {
        if (extra.name != name) continue;
        known = true;
        if (auto* integer = std::get_if<std::int64_t*>(&extra.value))
          **integer = detail::to_int(example, name, value, extra.smallest);
        else if (auto* number = std::get_if<double*>(&extra.value))
          **number = detail::to_double(example, name, value);
        else
          *std::get<std::string*>(extra.value) = value;
      }
      if (!known) detail::fail(example, fmt::format("unknown flag --{}", name));
    }
  }
  if (!(flags.lr > 0)) detail::fail(example, fmt::format("--lr expects a positive number"));
  if (flags.resume.empty()) return flags;

  // The checkpoint's metadata holds the flags it was trained with, as text.
  mg::nn::Metadata saved;
  try {
    saved = mg::nn::load_tensors(flags.resume).metadata;
  } catch (const mg::Error& error) {
    detail::fail(example, fmt::format("cannot resume: {}", error.what()));
  }
  if (saved.count("example") && saved.at("example") != example.name)
    detail::fail(example, fmt::format("{} is a checkpoint of {}, not of {}", flags.resume,
                                      saved.at("example"), example.name));
  const auto adopt = [&](const std::string& name, auto& value, auto parse) {
    const auto found = saved.find(name);
    if (found == saved.end()) return;
    const auto from_checkpoint = parse(found->second);
    if (!given.count(name)) value = from_checkpoint;
    else if (value != from_checkpoint)
      detail::fail(example, fmt::format("{} was trained with --{} {}, got --{} {}", flags.resume,
                                        name, found->second, name, value));
  };
  const auto integer = [](const std::string& s) { return static_cast<std::int64_t>(std::stoll(s)); };
  const auto text = [](const std::string& s) { return s; };
  adopt("hidden", flags.hidden, integer);
  adopt("layers", flags.layers, integer);
  adopt("cell", flags.cell, text);
  adopt("seed", flags.seed, integer);
  for (const ExtraFlag& extra : example.extras) {
    if (!extra.shapes_model) continue;
    if (auto* value = std::get_if<std::int64_t*>(&extra.value)) adopt(extra.name, **value, integer);
    else if (auto* number = std::get_if<double*>(&extra.value))
      adopt(extra.name, **number, [](const std::string& s) { return std::stod(s); });
    else adopt(extra.name, *std::get<std::string*>(extra.value), text);
  }
  return flags;
}

// A random engine for one purpose: stream 0 makes the held-out data, stream s the batch of step s.
inline std::mt19937_64 rng_for(std::int64_t seed, std::int64_t stream) {
  std::seed_seq sequence{static_cast<std::uint64_t>(seed), static_cast<std::uint64_t>(stream)};
  return std::mt19937_64(sequence);
}

// ---- Progress and the loss curve ------------------------------------------------------------

// A number shown beside the loss: {"acc", 0.97, true} prints "acc 97.0%".
struct Metric {
  std::string name;
  double value = NAN;
  bool percent = false;
};

// The result an example is judged by.
struct Score {
  double value;
  double target;
  bool higher_is_better;
  bool percent;
};

inline std::string format_value(double value, bool percent) {
  return percent ? fmt::format("{:.1f}%", 100 * value) : fmt::format("{:.4g}", value);
}

inline std::string format_duration(double seconds) {
  const auto s = static_cast<long>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

class Run {
 public:
  using Clock = std::chrono::steady_clock;

  // Sets the threads, creates --out, prints what runs. (Seed minigrad's generator yourself,
  // before building the model: the initial weights come from it.)
  Run(const Example& example, const Flags& flags)
      : example_(example), flags_(flags), terminal_(isatty(STDOUT_FILENO) != 0) {
    if (flags.threads > 0) mg::set_num_threads(static_cast<int>(flags.threads));
    if (!flags.out.empty()) std::filesystem::create_directories(flags.out);
    fmt::print("{}: {}\n", example.name, example.about);
    fmt::print("{}, {} layer(s), hidden {}, batch {}, lr {}, {} steps, seed {}, {} thread(s)\n",
               flags.cell == "gru" ? "GRU" : "RNN (tanh)", flags.layers, flags.hidden, flags.batch,
               flags.lr, flags.steps, flags.seed, mg::get_num_threads());
  }

  // Loads --resume into the model and the optimizer (both built from the same flags) and returns
  // the step it was saved at; without --resume, returns 0.
  std::int64_t resume(mg::nn::Module& model, mg::optim::Optimizer& optimizer) {
    if (flags_.resume.empty()) return start_ = 0;
    mg::nn::TensorFile file = mg::nn::load_tensors(flags_.resume);
    mg::nn::NamedTensors model_state, optimizer_state;
    for (auto& [name, tensor] : file.tensors) {
      if (name.rfind("optim.", 0) == 0) optimizer_state.emplace_back(name.substr(6), tensor);
      else model_state.emplace_back(name, tensor);
    }
    mg::nn::load_state_dict(model, model_state);
    optimizer.load_state_dict(optimizer_state);
    start_ = std::stoll(file.metadata.at("step"));
    fmt::print("resumed from {} at step {}\n", flags_.resume, start_);
    if (!flags_.out.empty()) read_curve();
    return start_;
  }

  // After each step: the progress line (redrawn in place on a terminal, every 5% otherwise) and
  // one row of the loss curve.
  void record(std::int64_t step, double loss, const Metric& metric = {}) {
    if (curve_.empty() || step == start_ + 1) started_ = Clock::now();
    metric_name_ = metric.name;
    curve_.push_back({step, loss, metric.value});
    const double elapsed = seconds_since(started_);
    const double rate = static_cast<double>(step - start_) / std::max(elapsed, 1e-9);
    std::string line = fmt::format("step {}/{}  loss {:.4f}", step, flags_.steps, loss);
    if (!metric.name.empty()) line += fmt::format("  {} {}", metric.name, format_value(metric.value, metric.percent));
    line += fmt::format("  {:.1f} steps/s  {} left", rate,
                        format_duration(static_cast<double>(flags_.steps - step) / rate));
    const std::int64_t every = std::max<std::int64_t>(1, flags_.steps / 20);
    if (terminal_) {
      if (seconds_since(drawn_) >= 0.1 || step == flags_.steps) {
        fmt::print("\r\033[K{}", line);
        std::fflush(stdout);
        drawn_ = Clock::now();
      }
    } else if (step % every == 0 || step == flags_.steps) {
      fmt::print("{}\n", line);
      std::fflush(stdout);
    }
  }

  // The end of the run: the summary line, loss.csv, loss.png and checkpoint.safetensors in
  // --out. Returns the exit status: 1 if --expect was given and the score misses it, else 0.
  int finish(const mg::nn::Module& model, const mg::optim::Optimizer& optimizer, const Score& score) {
    if (terminal_ && !curve_.empty()) fmt::print("\n");
    const bool reached = score.higher_is_better ? score.value >= score.target : score.value <= score.target;
    fmt::print("{}: {} {} (target {} {}): {}, {} steps in {}\n", example_.name, example_.score,
               format_value(score.value, score.percent), score.higher_is_better ? "≥" : "≤",
               format_value(score.target, score.percent), reached ? "reached" : "not reached",
               std::max(start_, flags_.steps), format_duration(seconds_since(begun_)));
    if (!flags_.out.empty()) {
      write_curve();
      save_checkpoint(model, optimizer);
    }
    if (!flags_.expect) return 0;
    const bool met = score.higher_is_better ? score.value >= *flags_.expect : score.value <= *flags_.expect;
    if (!met)
      fmt::print("{}: expected {} {} {}, got {}\n", example_.name, example_.score,
                 score.higher_is_better ? "≥" : "≤", format_value(*flags_.expect, score.percent),
                 format_value(score.value, score.percent));
    return met ? 0 : 1;
  }

 private:
  struct Row {
    std::int64_t step;
    double loss;
    double metric;
  };

  static double seconds_since(Clock::time_point then) {
    return std::chrono::duration<double>(Clock::now() - then).count();
  }

  std::string path(const std::string& file) const {
    return (std::filesystem::path(flags_.out) / file).string();
  }

  // A resumed run keeps the rows of the curve up to the step it starts from.
  void read_curve() {
    std::ifstream in(path("loss.csv"));
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      Row row{};
      if (std::sscanf(line.c_str(), "%" SCNd64 ",%lf,%lf", &row.step, &row.loss, &row.metric) < 2) break;
      if (row.step <= start_) curve_.push_back(row);
    }
  }

  // loss.csv, and loss.png drawn by gnuplot from it when gnuplot is installed; loss.gp is kept so
  // that `gnuplot loss.gp` in --out redraws the picture.
  void write_curve() const {
    std::ofstream csv(path("loss.csv"));
    csv << "step,loss" << (metric_name_.empty() ? "" : "," + metric_name_) << "\n";
    for (const Row& row : curve_) {
      csv << fmt::format("{},{:.6g}", row.step, row.loss);
      if (!metric_name_.empty()) csv << fmt::format(",{:.6g}", row.metric);
      csv << "\n";
    }
    csv.close();  // gnuplot reads it next
    std::ofstream script(path("loss.gp"));
    script << "set terminal pngcairo size 800,480\nset output 'loss.png'\n"
           << "set datafile separator ','\nset key autotitle columnhead\n"
           << fmt::format("set title '{}: training loss'\n", example_.name)
           << "set xlabel 'step'\nset ylabel 'loss'\nset logscale y\nset format y '%g'\nset grid\n"
           << "plot 'loss.csv' using 1:2 with lines lw 1.5 title 'loss'\n";
    script.close();
    std::string drawn = "loss.csv and loss.gp (install gnuplot to draw loss.png)";
    if (std::system("command -v gnuplot >/dev/null 2>&1") == 0 &&
        std::system(fmt::format("cd '{}' && gnuplot loss.gp", flags_.out).c_str()) == 0)
      drawn = "loss.csv and loss.png";
    fmt::print("wrote {} to {}\n", drawn, flags_.out);
  }

  // The model's state under its own names and the optimizer's under "optim.", with the flags
  // that shaped the model and the step, so --resume can rebuild it (nn/serialize.h).
  void save_checkpoint(const mg::nn::Module& model, const mg::optim::Optimizer& optimizer) const {
    mg::nn::NamedTensors tensors = model.state_dict();
    for (auto& [name, tensor] : optimizer.state_dict()) tensors.emplace_back("optim." + name, tensor);
    mg::nn::Metadata metadata{{"example", example_.name},
                              {"step", std::to_string(std::max(start_, flags_.steps))},
                              {"hidden", std::to_string(flags_.hidden)},
                              {"layers", std::to_string(flags_.layers)},
                              {"cell", flags_.cell},
                              {"seed", std::to_string(flags_.seed)}};
    for (const ExtraFlag& extra : example_.extras)
      if (extra.shapes_model)
        metadata[extra.name] = std::visit([](auto* v) { return fmt::format("{}", *v); }, extra.value);
    mg::nn::save_tensors(path("checkpoint.safetensors"), tensors, metadata);
    fmt::print("wrote {} (continue with --resume {})\n", path("checkpoint.safetensors"),
               path("checkpoint.safetensors"));
  }

  const Example& example_;
  const Flags flags_;
  const bool terminal_;
  std::int64_t start_ = 0;
  std::vector<Row> curve_;
  std::string metric_name_;
  Clock::time_point begun_ = Clock::now(), started_ = Clock::now(), drawn_{};
};

}  // namespace examples
