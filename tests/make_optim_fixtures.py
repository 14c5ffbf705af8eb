#!/usr/bin/python3
"""Writes tests/fixtures/optim.txt: torch.optim's trajectories, for tests/test_optim.cpp.

Run it from the repository root with Debian's PyTorch 1.13 (the default python3 has no torch):

    /usr/bin/python3 tests/make_optim_fixtures.py

The output is deterministic (torch.manual_seed(0) before anything is drawn) and committed. The
file format is the one tests/make_fixtures.py documents (version 1), written by its Writer.

The model is a small two-layer network in float64, with five parameters:

    W1 (3, 4), b1 (4), W2 (4, 2), c (2), u (3)
    loss_k = mean((tanh(x W1 + b1) W2 + c - y)^2)      at step k = 0, 1, ..., STEPS - 1,
             with "+ c" left out when k % 3 == 2

so that c gets no gradient at every third step and u never gets one: optimizers skip them then,
and make no state for them until they have a gradient. Each step is zero_grad(set_to_none=True),
backward, step(). The records:

    init/W1, init/b1, init/W2, init/c, init/u   the initial parameters (float64)
    data/x (6, 3), data/y (6, 2)                 the inputs and targets (float64)
    optim/CASE/W1 ... optim/CASE/u               the parameter after every step: shape
                                                 (STEPS + 1, *shape), [0] the initial value,
                                                 [k] the value after step k
    optim/CASE/loss (STEPS)                      loss_k, computed before step k + 1

Each CASE is one optimizer with one set of options (CASES below; test_optim.cpp has the same
table written with minigrad's options). A case with group options trains [W1, b1] with the
defaults and [W2, c, u] as a second group with its own options. A case named f32_* runs the
same model in float32: its trajectories are float32, and its initial values and data are the
float64 ones converted to float32. Beside each float32 trajectory NAME, NAME@f64 is the float64
trajectory from the same float32 start and data, and NAME@f32_error (STEPS + 1, or STEPS for the
loss) how far PyTorch's float32 trajectory lies from it after each step (tests/README.md).
"""

import os

import torch

from make_fixtures import Writer, float64_twin

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "optim.txt")
STEPS = 30
NAMES = ["W1", "b1", "W2", "c", "u"]

SGD, Adam, AdamW, RMSprop = torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW, torch.optim.RMSprop

# (name, optimizer, default options, options of the second group or None)
CASES = [
    ("sgd_lr", SGD, dict(lr=0.1), None),
    ("sgd_momentum", SGD, dict(lr=0.05, momentum=0.9), None),
    ("sgd_dampening", SGD, dict(lr=0.05, momentum=0.9, dampening=0.3), None),
    ("sgd_nesterov", SGD, dict(lr=0.05, momentum=0.8, nesterov=True), None),
    ("sgd_weight_decay", SGD, dict(lr=0.1, weight_decay=0.05), None),
    ("sgd_momentum_weight_decay", SGD,
     dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.02), None),
    ("sgd_maximize", SGD, dict(lr=0.01, momentum=0.5, maximize=True), None),
    ("sgd_nesterov_weight_decay_maximize", SGD,
     dict(lr=0.01, momentum=0.7, nesterov=True, weight_decay=0.01, maximize=True), None),
    ("sgd_groups", SGD, dict(lr=0.1, momentum=0.9), dict(lr=0.02, momentum=0.5)),
    ("adam_defaults", Adam, dict(), None),
    ("adam_lr", Adam, dict(lr=0.02), None),
    ("adam_betas_eps", Adam, dict(lr=0.02, betas=(0.8, 0.95), eps=1e-3), None),
    ("adam_weight_decay", Adam, dict(lr=0.02, weight_decay=0.1), None),
    ("adam_amsgrad", Adam, dict(lr=0.02, amsgrad=True), None),
    ("adam_maximize", Adam, dict(lr=0.01, maximize=True), None),
    ("adam_amsgrad_weight_decay_maximize", Adam,
     dict(lr=0.01, betas=(0.85, 0.99), weight_decay=0.05, amsgrad=True, maximize=True), None),
    ("adam_groups", Adam, dict(lr=0.02), dict(lr=0.005, amsgrad=True)),
    ("adamw_defaults", AdamW, dict(), None),
    ("adamw_weight_decay", AdamW, dict(lr=0.02, weight_decay=0.3), None),
    ("adamw_no_weight_decay", AdamW, dict(lr=0.02, weight_decay=0.0), None),
    ("adamw_betas_eps", AdamW, dict(lr=0.02, betas=(0.8, 0.95), eps=1e-3), None),
    ("adamw_amsgrad", AdamW, dict(lr=0.02, amsgrad=True), None),
    ("adamw_maximize", AdamW, dict(lr=0.01, maximize=True), None),
    ("adamw_groups", AdamW, dict(lr=0.02), dict(lr=0.005, weight_decay=0.1)),
    ("rmsprop_defaults", RMSprop, dict(), None),
    ("rmsprop_alpha_eps", RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-4), None),
    ("rmsprop_weight_decay", RMSprop, dict(lr=0.01, weight_decay=0.1), None),
    ("rmsprop_momentum", RMSprop, dict(lr=0.005, momentum=0.9), None),
    ("rmsprop_centered", RMSprop, dict(lr=0.01, centered=True), None),
    ("rmsprop_centered_momentum_weight_decay", RMSprop,
     dict(lr=0.005, centered=True, momentum=0.8, weight_decay=0.05), None),
    ("rmsprop_maximize", RMSprop, dict(lr=0.005, maximize=True), None),
    ("rmsprop_groups", RMSprop, dict(lr=0.01), dict(lr=0.002, momentum=0.5, centered=True)),
    ("f32_sgd_nesterov", SGD, dict(lr=0.05, momentum=0.8, nesterov=True), None),
    ("f32_adam_amsgrad", Adam, dict(lr=0.02, amsgrad=True), None),
    ("f32_adamw_weight_decay", AdamW, dict(lr=0.02, weight_decay=0.3), None),
    ("f32_rmsprop_centered_momentum", RMSprop, dict(lr=0.005, centered=True, momentum=0.8), None),
]


def loss_at(k, p, x, y):
    out = torch.tanh(x @ p["W1"] + p["b1"]) @ p["W2"]
    if k % 3 != 2:
        out = out + p["c"]
    return ((out - y) ** 2).mean()


def run_case(optimizer, defaults, group_options, init, x, y, dtype):
    p = {name: init[name].to(dtype).clone().requires_grad_() for name in NAMES}
    x, y = x.to(dtype), y.to(dtype)
    if group_options is None:
        opt = optimizer([p[name] for name in NAMES], **defaults)
    else:
        opt = optimizer([{"params": [p["W1"], p["b1"]]},
                         dict(params=[p["W2"], p["c"], p["u"]], **group_options)], **defaults)
    trajectory = {name: [p[name].detach().clone()] for name in NAMES}
    losses = []
    for k in range(STEPS):
        opt.zero_grad(set_to_none=True)
        loss = loss_at(k, p, x, y)
        loss.backward()
        opt.step()
        losses.append(loss.detach())
        for name in NAMES:
            trajectory[name].append(p[name].detach().clone())
    assert p["u"].grad is None and len(opt.state[p["u"]]) == 0
    return {name: torch.stack(values) for name, values in trajectory.items()}, torch.stack(losses)


def main():
    torch.manual_seed(0)
    f64 = torch.float64
    init = {
        "W1": torch.randn(3, 4, dtype=f64) * 0.7,
        "b1": torch.randn(4, dtype=f64) * 0.1,
        "W2": torch.randn(4, 2, dtype=f64) * 0.7,
        "c": torch.randn(2, dtype=f64) * 0.1,
        "u": torch.randn(3, dtype=f64),
    }
    x = torch.randn(6, 3, dtype=f64)
    y = torch.randn(6, 2, dtype=f64)

    w = Writer()
    w.lines[1] = f"# written by tests/make_optim_fixtures.py with torch {torch.__version__}"
    for name in NAMES:
        w.tensor(f"init/{name}", init[name])
    w.tensor("data/x", x)
    w.tensor("data/y", y)
    for case, optimizer, defaults, group_options in CASES:
        if not case.startswith("f32_"):
            trajectory, losses = run_case(optimizer, defaults, group_options, init, x, y, f64)
            for name in NAMES:
                w.tensor(f"optim/{case}/{name}", trajectory[name])
            w.tensor(f"optim/{case}/loss", losses)
            continue
        # The float32 trajectory, and the float64 one from the same float32 start and data.
        trajectory, losses = run_case(optimizer, defaults, group_options, init, x, y,
                                      torch.float32)
        start = {name: init[name].to(torch.float32) for name in NAMES}
        exact, exact_losses = run_case(optimizer, defaults, group_options, float64_twin(start),
                                       x.to(torch.float32).double(), y.to(torch.float32).double(),
                                       f64)
        for name in NAMES:
            w.result(f"optim/{case}/{name}", trajectory[name], exact[name], per_row=True)
        w.result(f"optim/{case}/loss", losses, exact_losses, per_row=True)
    w.save(OUTPUT)


if __name__ == "__main__":
    main()
