// A character-level language model: a GRU reads Shakespeare one character at a time and learns to
// predict the next one; then it writes some Shakespeare of its own.
//
// What it teaches:
//   - Language modelling as classification: at every position the model outputs a distribution
//     over the next character, trained with cross-entropy. The loss in nats divided by ln 2 is the
//     number of bits per character (bpc) the model would need to compress the text: a model that
//     knows nothing needs log2(96) ≈ 6.6 bits, one that knows only how often each character occurs
//     about 4.5 (the "unigram baseline", computed below from the data), and a good model of English
//     under 2.
//   - Truncated backpropagation through time. The text is one long sequence, far too long to
//     backpropagate through. Training reads random windows of --window characters, each from a
//     fresh zero state, so gradients flow back at most window − 1 steps and the model can learn
//     dependencies only that long. (Carrying the state from one window into the next, detached,
//     would give it a longer memory at run time but still no longer gradients; stateless windows
//     are simpler and enough here.)
//   - Gradient clipping (nn::utils::clip_grad_norm_): through many steps of a recurrence a gradient
//     now and then comes out many times larger than usual; clipping its norm keeps one such batch
//     from throwing the weights away.
//   - Held-out evaluation and dropout: the last 10% of the text is never trained on. Its bpc, not
//     the training loss, says whether the model learned English or memorised its 49,000 training
//     characters. Without dropout the training bpc keeps falling while the held-out bpc stalls
//     near 2.6; dropout (--dropout, between the layers and after the last) narrows that gap.
//   - Sampling with a temperature: dividing the logits by T < 1 sharpens the distribution (safer,
//     more repetitive text), T > 1 flattens it (more surprising, more misspelt).
//
// The data is examples/data/coriolanus.txt, 54,690 characters of Coriolanus (public domain; see
// examples/data/README.md). With the defaults the held-out bpc reaches about 2.46 (the target is
// ≤ 2.6; the unigram baseline is 4.74) in 800 steps, about a minute and a half on 2 cores:
//
//   build/examples/charlm --out /tmp/charlm
//   build/examples/charlm --resume /tmp/charlm/checkpoint.safetensors --temperature 0.5
//
// The second command only loads the checkpoint, evaluates it and samples. Read after
// examples/parity.cpp (the main demo) and examples/common.h.
//
// Shapes: B batch, T window, V vocabulary (96), E embedding, H hidden, L layers.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/core.h>

#include "common.h"
#include "minigrad.h"

namespace mg = minigrad;
namespace F = mg::nn::functional;

// ---- The data -------------------------------------------------------------------------------

// The vocabulary is fixed, not read from the text: newline is 0 and the printable ASCII characters
// ' ' to '~' are 1 to 95. So any ASCII text fits the same model, and a checkpoint does not depend
// on which characters its training text happened to contain.
constexpr std::int64_t kVocabulary = 96;

bool in_vocabulary(char c) { return c == '\n' || (c >= ' ' && c <= '~'); }
std::int64_t encode(char c) { return c == '\n' ? 0 : c - ' ' + 1; }
char decode(std::int64_t id) { return id == 0 ? '\n' : static_cast<char>(' ' + id - 1); }

// The text as ids; exits with a one-line message if the file is missing or not plain ASCII.
std::vector<std::int64_t> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "charlm: cannot open %s\n", path.c_str());
    std::exit(2);
  }
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<std::int64_t> ids;
  for (char c : text) {
    if (c == '\r') continue;  // a text saved with Windows line ends reads the same
    if (!in_vocabulary(c)) {
      std::fprintf(stderr, "charlm: %s: byte %d at offset %zu is not printable ASCII\n",
                   path.c_str(), static_cast<unsigned char>(c), ids.size());
      std::exit(2);
    }
    ids.push_back(encode(c));
  }
  return ids;
}

// Inputs and the targets they should predict: the same windows shifted by one character.
struct Windows {
  mg::Tensor inputs;   // (B, T) int64
  mg::Tensor targets;  // (B, T) int64
};

// A training batch: `batch` windows of window + 1 characters at random places in the training
// text; the first `window` characters are the input, the last `window` the targets.
Windows random_windows(const std::vector<std::int64_t>& train, std::int64_t batch,
                       std::int64_t window, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::size_t> start(0, train.size() - window - 1);
  std::vector<std::int64_t> inputs, targets;
  for (std::int64_t b = 0; b < batch; ++b) {
    const auto first = train.begin() + static_cast<std::ptrdiff_t>(start(rng));
    inputs.insert(inputs.end(), first, first + window);
    targets.insert(targets.end(), first + 1, first + window + 1);
  }
  return {mg::from_vector(inputs, {batch, window}), mg::from_vector(targets, {batch, window})};
}

// The held-out text cut into consecutive windows, each starting where the last one's targets
// ended, so that every character after the first is predicted exactly once, from a fresh state as
// in training. The last (held.size() − 1) mod window characters do not fill a window and are left
// out.
Windows held_out_windows(const std::vector<std::int64_t>& held, std::int64_t window) {
  const auto count = static_cast<std::int64_t>(held.size() - 1) / window;
  std::vector<std::int64_t> inputs, targets;
  for (std::int64_t w = 0; w < count; ++w) {
    const auto first = held.begin() + w * window;
    inputs.insert(inputs.end(), first, first + window);
    targets.insert(targets.end(), first + 1, first + window + 1);
  }
  return {mg::from_vector(inputs, {count, window}), mg::from_vector(targets, {count, window})};
}

// The bpc of the unigram model: each character drawn independently with its frequency in the
// training text. Every count starts at 1 (Laplace's rule of succession), so that a character the
// training text lacks gets a small probability rather than an infinite cost.
double unigram_bpc(const std::vector<std::int64_t>& train, const Windows& held) {
  std::vector<double> counts(kVocabulary, 1.0);
  for (std::int64_t id : train) counts[id] += 1.0;
  const double total = static_cast<double>(train.size() + kVocabulary);
  double bits = 0;
  const std::vector<std::int64_t> targets = held.targets.to_vector<std::int64_t>();
  for (std::int64_t id : targets) bits -= std::log2(counts[id] / total);
  return bits / static_cast<double>(targets.size());
}

// ---- The model ------------------------------------------------------------------------------

// ids → embedding → L-layer GRU (or tanh RNN) → linear: the logits of the next character at
// every position.
class CharModel : public mg::nn::Module {
 public:
  CharModel(std::int64_t embed_size, double dropout, const examples::Flags& flags)
      : Module("CharModel"), embed(kVocabulary, embed_size), drop(dropout),
        head(flags.hidden, kVocabulary) {
    if (flags.cell == "gru")
      rnn = std::make_unique<mg::nn::GRU>(mg::nn::GRUOptions(embed_size, flags.hidden)
                                              .num_layers(flags.layers)
                                              .batch_first(true)
                                              .dropout(dropout));
    else
      rnn = std::make_unique<mg::nn::RNN>(mg::nn::RNNOptions(embed_size, flags.hidden)
                                              .num_layers(flags.layers)
                                              .batch_first(true)
                                              .dropout(dropout));
    register_module("embed", embed);
    register_module("rnn", *rnn);
    register_module("drop", drop);
    register_module("head", head);
  }

  // ids (B, T) int64, h0 (L, B, H) or undefined for zeros → logits (B, T, V), h_n (L, B, H).
  std::tuple<mg::Tensor, mg::Tensor> forward(const mg::Tensor& ids, const mg::Tensor& h0 = {}) {
    const mg::Tensor x = embed(ids);                        // (B, T, E)
    const auto [output, h_n] = (*rnn)(x, h0);               // (B, T, H), (L, B, H)
    return {head(drop(output)), h_n};                       // (B, T, V), (L, B, H)
  }
  std::tuple<mg::Tensor, mg::Tensor> operator()(const mg::Tensor& ids, const mg::Tensor& h0 = {}) {
    return forward(ids, h0);
  }

  mg::nn::Embedding embed;
  std::unique_ptr<mg::nn::RecurrentBase> rnn;  // dropout between its layers
  mg::nn::Dropout drop;                        // and on its output
  mg::nn::Linear head;
};

// The mean cross-entropy of logits (B, T, V) against the next characters (B, T), in nats: one
// classification over V characters at each of the B·T positions. Divided by ln 2, it is in bits.
mg::Tensor next_character_loss(const mg::Tensor& logits, const mg::Tensor& targets) {
  return F::cross_entropy(logits.reshape({-1, kVocabulary}), targets.reshape({-1}));  // (B·T, V)
}

// Feeds the prime, then draws `length` characters one at a time, each from
// softmax(logits / temperature), feeding each back in with the state the last one left.
std::string sample(CharModel& model, const std::string& prime, std::int64_t length,
                   double temperature, std::mt19937_64& rng) {
  mg::NoGradGuard no_grad;
  std::vector<std::int64_t> ids;
  for (char c : prime) ids.push_back(encode(c));
  mg::Tensor logits, h;  // (1, P, V) for the prime, then (1, 1, V); (L, 1, H)
  std::tie(logits, h) = model(mg::from_vector(ids, {1, static_cast<std::int64_t>(ids.size())}));
  std::string text;
  for (std::int64_t i = 0; i < length; ++i) {
    const mg::Tensor last = logits.select(1, logits.size(1) - 1).reshape({kVocabulary});  // (V)
    const std::vector<float> p = mg::softmax(last / temperature, 0).to_vector<float>();
    const std::int64_t id = std::discrete_distribution<std::int64_t>(p.begin(), p.end())(rng);
    text += decode(id);
    std::tie(logits, h) = model(mg::from_vector<std::int64_t>({id}, {1, 1}), h);
  }
  return text;
}

// ---- The loop -------------------------------------------------------------------------------

int main(int argc, char** argv) {
  std::int64_t embed_size = 32, window = 64, sample_length = 400;
  double clip = 1.0, dropout = 0.25, temperature = 0.8;
  const double target = 2.6;  // held-out bpc; the defaults reach about 2.46
  std::string text_path = MG_EXAMPLES_DIR "/data/coriolanus.txt", prime = "MENENIUS:";
  examples::Flags defaults;
  defaults.steps = 800;
  defaults.batch = 32;
  defaults.hidden = 128;
  defaults.layers = 2;
  defaults.lr = 3e-3;
  examples::Example example{
      "charlm", "a character-level language model of Shakespeare, sampled with a temperature",
      "held-out bits per character", defaults,
      {{"embed", "embedding size", &embed_size, true},
       {"window", "characters per training window (how far back gradients reach)", &window},
       {"dropout", "dropout probability after each recurrent layer", &dropout},
       {"clip", "largest gradient norm; larger ones are scaled down to it", &clip},
       {"sample", "characters to sample at the end", &sample_length},
       {"temperature", "sampling temperature (< 1 safer, > 1 wilder)", &temperature},
       {"prime", "text the sample starts from", &prime},
       {"text", "an ASCII text file to learn instead of the bundled one", &text_path}}};
  const examples::Flags flags = examples::parse_flags(argc, argv, example);
  if (!(clip > 0 && temperature > 0 && dropout >= 0 && dropout < 1)) {
    std::fprintf(stderr, "charlm: --clip and --temperature expect positive numbers, --dropout a "
                         "probability below 1 (see --help)\n");
    return 2;
  }
  for (char c : prime) {
    if (!in_vocabulary(c)) {
      std::fprintf(stderr, "charlm: --prime may hold only printable ASCII (see --help)\n");
      return 2;
    }
  }
  if (prime.empty()) prime.push_back('\n');  // the sample starts a new line

  // The first 90% of the text trains, the last 10% is held out.
  const std::vector<std::int64_t> text = read_text(text_path);
  const auto split = static_cast<std::ptrdiff_t>(text.size() - text.size() / 10);
  const std::vector<std::int64_t> train(text.begin(), text.begin() + split);
  const std::vector<std::int64_t> held(text.begin() + split, text.end());
  if (static_cast<std::int64_t>(held.size()) <= window) {
    std::fprintf(stderr, "charlm: %s is too short for windows of %lld characters\n",
                 text_path.c_str(), static_cast<long long>(window));
    return 2;
  }
  const Windows held_out = held_out_windows(held, window);  // (W, T), (W, T)

  mg::manual_seed(static_cast<std::uint64_t>(flags.seed));
  CharModel model(embed_size, dropout, flags);
  mg::optim::Adam optimizer(model.parameters(), mg::optim::AdamOptions(flags.lr));

  examples::Run run(example, flags);
  fmt::print("{}: {} characters, training on the first {}, held out the last {}; "
             "unigram baseline {:.3f} bpc\n",
             text_path, text.size(), train.size(), held.size(), unigram_bpc(train, held_out));
  std::int64_t step = run.resume(model, optimizer);
  while (++step <= flags.steps) {
    std::mt19937_64 rng = examples::rng_for(flags.seed, step);
    const Windows batch = random_windows(train, flags.batch, window, rng);  // (B, T), (B, T)
    const auto [logits, h_n] = model(batch.inputs);                       // (B, T, V)
    const mg::Tensor loss = next_character_loss(logits, batch.targets);
    optimizer.zero_grad();
    loss.backward();
    mg::nn::utils::clip_grad_norm_(model.parameters(), clip);  // between backward and step
    optimizer.step();
    const double nats = loss.item<float>();
    run.record(step, nats, {"bpc", nats / std::numbers::ln2});
  }

  model.eval();
  double bpc = 0;
  {
    mg::NoGradGuard no_grad;
    const auto [logits, h_n] = model(held_out.inputs);  // (W, T, V)
    bpc = next_character_loss(logits, held_out.targets).item<float>() / std::numbers::ln2;
  }
  // The sample draws from a stream of its own (no training step is numbered −1).
  std::mt19937_64 rng = examples::rng_for(flags.seed, -1);
  fmt::print("sample at temperature {}:\n{}{}\n\n", temperature, prime,
             sample(model, prime, sample_length, temperature, rng));
  return run.finish(model, optimizer, {bpc, target, false, false});
}
