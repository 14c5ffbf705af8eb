#!/usr/bin/python3
"""Writes tests/fixtures/rnn.txt: PyTorch's RNN and GRU over a grid of configurations.

Run it from the repository root with Debian's PyTorch 1.13 (the default python3 has no torch):

    /usr/bin/python3 tests/make_rnn_fixtures.py

The output is deterministic (torch.manual_seed(0) before anything is drawn) and committed;
tests/test_rnn.cpp reads it through tests/fixtures.h. The file format is the one
tests/make_fixtures.py documents (version 1), written by its Writer.

The grid. The options of a recurrent layer are

    mode             RNN_TANH, RNN_RELU, GRU          (PyTorch's own names for the three kinds)
    num_layers       1, 2, 3
    bidirectional    no, yes
    bias             no, yes
    batch_first      no, yes
    input_form       dense                            a batched 3-D tensor
                     unbatched                        a 2-D tensor (T, I)
                     sorted                           pack_padded_sequence, lengths in
                                                      decreasing order, enforce_sorted=True
                     unsorted                         pack_padded_sequence, lengths out of
                                                      order, enforce_sorted=False
    has_h0           no, yes

(input_form joins "packed or dense" with "batched or not": a packed batch is always batched.)
All 3·3·2·2·2·4·2 combinations would be 576 cases. Instead every one of the 18 combinations of
(mode, num_layers, bidirectional) is taken, each with CASES_PER_CELL settings of the other options
chosen greedily so that every pair of values of any two options occurs in some case (a pairwise
covering design; design() asserts it). So every value of every option meets every mode and every
layer count. Sizes are small: T ≤ 5 steps, B ≤ 3 sequences, I = 3, H = 4, all float64.

The group rnn/CASE, CASE naming its options (gru_l2_bi_bias_bf_unsorted_h0):

    string mode, string input_form              as above
    num_layers, input_size, hidden_size         int64 scalars
    bidirectional, bias, batch_first, has_h0    bool scalars
    string repr                                 PyTorch's repr of the module
    string parameter_names                      named_parameters() names, in order, one a line
    param/NAME                                  every parameter, under PyTorch's name
    input                                       (T, B, I), (B, T, I) with batch_first, or (T, I);
                                                packed cases hold the padded input, with random
                                                values in the padding (which must be ignored)
    lengths                                     int64 (B), packed cases only, in batch order
    h0                                          (L·D, B, H) or (L·D, H), when has_h0
    output                                      shaped like the input with D·H features; packed
                                                cases store pad_packed_sequence(packed_output,
                                                batch_first, total_length=T): zeros in padding
    h_n                                         (L·D, B, H) or (L·D, H)
    w_output, w_h_n                             random, shaped like output and h_n
    grad/NAME, grad_input, grad_h0              the gradients of every parameter, the input and
                                                h0 (if given) for the loss
                                                (output ⊙ w_output).sum() + (h_n ⊙ w_h_n).sum()

The group repr: string repr/NAME is PyTorch's repr of one module of REPR_CASES (test_rnn.cpp
has the same table); string repr/cases lists the NAMEs, one a line.
"""

import collections
import copy
import itertools
import os

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from make_fixtures import Writer

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "rnn.txt")
INPUT_SIZE = 3
HIDDEN_SIZE = 4
MAX_STEPS = 5
MAX_BATCH = 3
CASES_PER_CELL = 4

MODES = ["RNN_TANH", "RNN_RELU", "GRU"]
# Every option and its values, the first three spanning the full product.
FACTORS = {
    "mode": MODES,
    "num_layers": [1, 2, 3],
    "bidirectional": [False, True],
    "bias": [False, True],
    "batch_first": [False, True],
    "input_form": ["dense", "unbatched", "sorted", "unsorted"],
    "has_h0": [False, True],
}
FULL = ["mode", "num_layers", "bidirectional"]
COVERED = [name for name in FACTORS if name not in FULL]


class RnnWriter(Writer):
    def __init__(self):
        super().__init__()
        self.lines[1] = f"# written by tests/make_rnn_fixtures.py with torch {torch.__version__}"


# ---- The covering design ---------------------------------------------------------------------

def pairs_of(config):
    """Every pair ((option, value), (option, value)) that the configuration covers."""
    items = sorted(config.items(), key=lambda item: list(FACTORS).index(item[0]))
    return set(itertools.combinations(items, 2))


def all_pairs():
    pairs = set()
    for values in itertools.product(*FACTORS.values()):
        config = dict(zip(FACTORS, values))
        pairs |= pairs_of(config)
    return pairs


def design():
    """The full product of FULL, each with CASES_PER_CELL greedy choices of the other options.

    Each choice is the configuration that covers the most pairs not yet covered and, among
    those, whose pairs have occurred least so far, so that the values stay balanced once every
    pair is covered. Ties go to the first in enumeration order: the design is deterministic."""
    uses = collections.Counter()  # how many chosen configurations cover each pair
    configs = []
    for cell in itertools.product(*(FACTORS[name] for name in FULL)):
        chosen = []
        for _ in range(CASES_PER_CELL):
            best, best_score = None, None
            for rest in itertools.product(*(FACTORS[name] for name in COVERED)):
                config = dict(zip(FULL, cell)) | dict(zip(COVERED, rest))
                if config in chosen:
                    continue
                pairs = pairs_of(config)
                score = (sum(uses[p] == 0 for p in pairs), -sum(uses[p] for p in pairs))
                if best_score is None or score > best_score:
                    best, best_score = config, score
            chosen.append(best)
            uses.update(pairs_of(best))
        configs += chosen
    missing = all_pairs() - set(uses)
    assert not missing, f"the design misses {sorted(missing)[:5]}"
    return configs


def case_name(c):
    return "_".join([c["mode"].lower().replace("rnn_", ""), f"l{c['num_layers']}",
                     "bi" if c["bidirectional"] else "uni",
                     "bias" if c["bias"] else "nobias",
                     "bf" if c["batch_first"] else "tm",
                     c["input_form"],
                     "h0" if c["has_h0"] else "noh0"])


# ---- One case ----------------------------------------------------------------------------------

def make_module(c):
    options = dict(num_layers=c["num_layers"], bias=c["bias"], batch_first=c["batch_first"],
                   bidirectional=c["bidirectional"])
    if c["mode"] == "GRU":
        module = nn.GRU(INPUT_SIZE, HIDDEN_SIZE, **options)
    else:
        nonlinearity = "tanh" if c["mode"] == "RNN_TANH" else "relu"
        module = nn.RNN(INPUT_SIZE, HIDDEN_SIZE, nonlinearity=nonlinearity, **options)
    return module.double()


def random_lengths(steps, batch, input_form):
    """B lengths in 1..T, the longest T: non-increasing for sorted, out of order for unsorted."""
    lengths = [steps] + torch.randint(1, steps + 1, (batch - 1,)).tolist()
    lengths.sort(reverse=True)
    if input_form == "unsorted":
        if lengths[-1] == steps:
            lengths[-1] = steps - 1  # steps >= 2 here, so a shorter one exists
        lengths = lengths[1:] + lengths[:1]  # the longest last: not non-increasing
    return lengths


def run(module, x, h0, lengths, c, w_output=None, w_h_n=None):
    """The module on x (packed with `lengths` when given) and h0, and the backward of
    (output * w_output).sum() + (h_n * w_h_n).sum(), the weights drawn at random (after the
    forward) unless given. Returns (output, h_n, w_output, w_h_n); the gradients are left in
    .grad of x, h0 and the module's parameters."""
    if lengths is not None:
        sequence = pack_padded_sequence(x, lengths, batch_first=c["batch_first"],
                                        enforce_sorted=c["input_form"] == "sorted")
        packed_output, h_n = module(sequence, h0)
        output, _ = pad_packed_sequence(packed_output, batch_first=c["batch_first"],
                                        total_length=x.shape[1 if c["batch_first"] else 0])
    else:
        output, h_n = module(x, h0)
    if w_output is None:
        w_output = torch.randn(output.shape, dtype=torch.float64)
        w_h_n = torch.randn(h_n.shape, dtype=torch.float64)
    ((output * w_output.to(output.dtype)).sum() + (h_n * w_h_n.to(h_n.dtype)).sum()).backward()
    return output, h_n, w_output, w_h_n


def write_f32_errors(w, at, module, x, h0, lengths, c, w_output, w_h_n, exact):
    """The case again in float32, as test_rnn.cpp runs it: every parameter, input and weight
    rounded to float32. Writes PART@f32_error for each PART of `exact` (the float64 results)."""
    module32 = copy.deepcopy(module).float()
    module32.zero_grad(set_to_none=True)
    x32 = x.detach().float().requires_grad_()
    h032 = h0.detach().float().requires_grad_() if h0 is not None else None
    output, h_n, _, _ = run(module32, x32, h032, lengths, c, w_output, w_h_n)
    float32 = {"output": output, "h_n": h_n, "grad_input": x32.grad}
    if h0 is not None:
        float32["grad_h0"] = h032.grad
    for name, p in module32.named_parameters():
        float32["grad/" + name] = p.grad
    for part, value in exact.items():
        w.f32_error(at + part, float32[part], value)


def write_case(w, c):
    at = f"rnn/{case_name(c)}/"
    module = make_module(c)
    packed = c["input_form"] in ("sorted", "unsorted")
    directions = 2 if c["bidirectional"] else 1
    steps = int(torch.randint(2 if packed else 1, MAX_STEPS + 1, ()).item())
    batch = MAX_BATCH if packed else int(torch.randint(1, MAX_BATCH + 1, ()).item())

    if c["input_form"] == "unbatched":
        x_shape, h_shape = (steps, INPUT_SIZE), (c["num_layers"] * directions, HIDDEN_SIZE)
    else:
        x_shape = (batch, steps, INPUT_SIZE) if c["batch_first"] else (steps, batch, INPUT_SIZE)
        h_shape = (c["num_layers"] * directions, batch, HIDDEN_SIZE)
    x = torch.randn(x_shape, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(h_shape, dtype=torch.float64, requires_grad=True) if c["has_h0"] else None

    lengths = random_lengths(steps, batch, c["input_form"]) if packed else None
    output, h_n, w_output, w_h_n = run(module, x, h0, lengths, c)

    w.string(at + "mode", c["mode"])
    w.string(at + "input_form", c["input_form"])
    w.tensor(at + "num_layers", torch.tensor(c["num_layers"]))
    w.tensor(at + "input_size", torch.tensor(INPUT_SIZE))
    w.tensor(at + "hidden_size", torch.tensor(HIDDEN_SIZE))
    for flag in ("bidirectional", "bias", "batch_first", "has_h0"):
        w.tensor(at + flag, torch.tensor(c[flag]))
    w.string(at + "repr", repr(module))
    names = [name for name, _ in module.named_parameters()]
    w.string(at + "parameter_names", "\n".join(names))
    for name, p in module.named_parameters():
        w.tensor(at + "param/" + name, p)
    w.tensor(at + "input", x)
    if packed:
        w.tensor(at + "lengths", torch.tensor(lengths, dtype=torch.int64))
    if h0 is not None:
        w.tensor(at + "h0", h0)
    w.tensor(at + "output", output)
    w.tensor(at + "h_n", h_n)
    w.tensor(at + "w_output", w_output)
    w.tensor(at + "w_h_n", w_h_n)
    for name, p in module.named_parameters():
        w.tensor(at + "grad/" + name, p.grad)
    w.tensor(at + "grad_input", x.grad)
    if h0 is not None:
        w.tensor(at + "grad_h0", h0.grad)
    exact = {"output": output, "h_n": h_n, "grad_input": x.grad}
    if h0 is not None:
        exact["grad_h0"] = h0.grad
    for name, p in module.named_parameters():
        exact["grad/" + name] = p.grad
    write_f32_errors(w, at, module, x, h0, lengths, c, w_output, w_h_n, exact)


# ---- Reprs -------------------------------------------------------------------------------------

# NAME -> module; test_rnn.cpp builds the same modules under the same names.
REPR_CASES = {
    "rnn_default": lambda: nn.RNN(3, 4),
    "rnn_relu": lambda: nn.RNN(3, 4, nonlinearity="relu"),  # not shown by PyTorch
    "rnn_everything": lambda: nn.RNN(10, 20, num_layers=3, nonlinearity="relu", bias=False,
                                     batch_first=True, dropout=0.5, bidirectional=True),
    "gru_default": lambda: nn.GRU(10, 20),
    "gru_dropout_1": lambda: nn.GRU(3, 4, num_layers=2, dropout=1),
    "gru_dropout_0_1": lambda: nn.GRU(3, 4, num_layers=2, dropout=0.1),
    "gru_dropout_1e_4": lambda: nn.GRU(3, 4, num_layers=2, dropout=1e-4),
    "gru_dropout_1e_5": lambda: nn.GRU(3, 4, num_layers=2, dropout=1e-5),
    "gru_dropout_third": lambda: nn.GRU(3, 4, num_layers=2, dropout=1 / 3),
    "rnn_cell": lambda: nn.RNNCell(3, 4),
    "rnn_cell_relu_no_bias": lambda: nn.RNNCell(3, 4, bias=False, nonlinearity="relu"),
    "gru_cell": lambda: nn.GRUCell(3, 4),
    "gru_cell_no_bias": lambda: nn.GRUCell(3, 4, bias=False),
}


def write_reprs(w):
    for name, make in REPR_CASES.items():
        w.string(f"repr/{name}", repr(make()))
    w.string("repr/cases", "\n".join(REPR_CASES))


def main():
    torch.manual_seed(0)
    w = RnnWriter()
    configs = design()
    for c in configs:
        write_case(w, c)
    write_reprs(w)
    w.save(OUTPUT)
    print(f"wrote {OUTPUT}: {len(configs)} cases, {os.path.getsize(OUTPUT)} bytes")


if __name__ == "__main__":
    main()
