#!/usr/bin/python3
"""Writes tests/fixtures/loss.txt: PyTorch's losses and gradients, for tests/test_loss_parity.cpp.

Run it from the repository root with Debian's PyTorch 1.13 (the default python3 has no torch):

    /usr/bin/python3 tests/make_loss_fixtures.py

The output is deterministic (torch.manual_seed(0) before anything is drawn) and committed. The
file format is the one tests/make_fixtures.py documents (version 1), written by its Writer.

Every case is GROUP/CASE/PART, GROUP one of mse_loss, l1_loss, binary_cross_entropy_with_logits,
nll_loss, cross_entropy, and CASE "<dtype>_<what>_<reduction>". Its parts:

    input, target                  PyTorch's inputs (target int64 for class indices)
    has_weight, weight             bool; the class or element weight when has_weight is 1
    has_pos_weight, pos_weight     the same for pos_weight (binary_cross_entropy_with_logits)
    reduction                      int64: 0 none, 1 mean, 2 sum
    ignore_index                   int64 (nll_loss, cross_entropy)
    label_smoothing                float64 (cross_entropy)
    upstream                       the gradient of some scalar with respect to the output (random,
                                   of the output's shape: 0-d for mean and sum)
    output                         the loss
    grad_input                     the gradient of (output * upstream).sum() with respect to input
    has_grad_target, grad_target   the same for a floating target
"""

import math
import os
import warnings

import torch
import torch.nn.functional as F

from make_fixtures import Writer, float64_twin

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "loss.txt")

REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}
DTYPES = {"f32": torch.float32, "f64": torch.float64}


def run_loss(fn, inputs, options, reduction, upstream=None):
    """fn(input, target, reduction, **options and weights) and the gradients of
    (output * upstream).sum() for input and a floating target; upstream is drawn at random
    (after the output) unless given. Returns (input, target, output, upstream, gradients)."""
    x = inputs["input"].clone().requires_grad_()
    t = inputs["target"].clone()
    if t.is_floating_point():
        t.requires_grad_()
    kwargs = dict(options)
    for key in ("weight", "pos_weight"):
        if key in inputs:
            kwargs[key] = inputs[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the broadcasting warning; test_loss.cpp checks ours
        out = fn(x, t, reduction=reduction, **kwargs)
    if upstream is None:
        upstream = torch.randn(out.shape, dtype=out.dtype)
    wanted = [x] + ([t] if t.requires_grad else [])
    got = torch.autograd.grad(out, wanted, upstream, allow_unused=True)
    return x, t, out, upstream, got


def write_case(w, group, name, fn, inputs, options):
    """Runs fn(input, target, **kwargs) for each reduction and writes every part of the case.

    `inputs` maps "input", "target" and optionally "weight", "pos_weight" to tensors; `options`
    holds ignore_index and label_smoothing where the loss has them. A float32 case is run again
    on its inputs' float64 twins, for the exact answers recorded beside PyTorch's."""
    for reduction, code in REDUCTIONS.items():
        at = f"{group}/{name}_{reduction}/"
        x, t, out, upstream, got = run_loss(fn, inputs, options, reduction)
        exact_out, exact_got = None, [None] * len(got)
        if x.dtype == torch.float32:
            _, _, exact_out, _, exact_got = run_loss(fn, float64_twin(inputs), options,
                                                     reduction, float64_twin(upstream))
        w.tensor(at + "input", x)
        w.tensor(at + "target", t)
        for key in ("weight", "pos_weight"):
            w.tensor(at + "has_" + key, torch.tensor(key in inputs))
            if key in inputs:
                w.tensor(at + key, inputs[key])
        w.tensor(at + "reduction", torch.tensor(code))
        if "ignore_index" in options:
            w.tensor(at + "ignore_index", torch.tensor(options["ignore_index"]))
        if "label_smoothing" in options:
            w.tensor(at + "label_smoothing",
                     torch.tensor(options["label_smoothing"], dtype=torch.float64))
        w.tensor(at + "upstream", upstream)
        w.result(at + "output", out, exact_out)
        w.result(at + "grad_input", got[0], exact_got[0])
        w.tensor(at + "has_grad_target", torch.tensor(len(got) == 2))
        if len(got) == 2:
            w.result(at + "grad_target", got[1], exact_got[1])


# ---- Regression losses ----------------------------------------------------------------------

def write_regression(w):
    for group, fn in (("mse_loss", F.mse_loss), ("l1_loss", F.l1_loss)):
        for dname, dt in DTYPES.items():
            def randn(*shape):
                return torch.randn(*shape, dtype=dt)
            cases = {
                "same_shape": (randn(3, 4), randn(3, 4)),
                "broadcast_column_row": (randn(3, 1), randn(4)),  # a (3, 4) loss
                "target_broadcasts_input": (randn(4), randn(2, 4)),
                "scalar": (randn(()), randn(())),
                "empty": (randn(0, 3), randn(0, 3)),
            }
            for what, (x, t) in cases.items():
                write_case(w, group, f"{dname}_{what}", fn, {"input": x, "target": t}, {})


# ---- Binary cross-entropy on logits ---------------------------------------------------------

def write_bce(w):
    fn = F.binary_cross_entropy_with_logits
    for dname, dt in DTYPES.items():
        def randn(*shape):
            return torch.randn(*shape, dtype=dt)

        def rand(*shape):
            return torch.rand(*shape, dtype=dt)

        hard = torch.tensor([[0.0, 1.0, 0.3], [1.0, 0.0, 0.7], [0.5, 1.0, 0.0], [0.0, 0.2, 1.0]],
                            dtype=dt)
        large = torch.tensor([[-1000.0, 1000.0, -50.0], [50.0, -200.0, 200.0],
                              [30.0, -30.0, 0.0], [100.0, -100.0, 17.0]], dtype=dt)
        cases = {
            "plain": {"input": randn(4, 3), "target": rand(4, 3)},
            "hard_targets": {"input": randn(4, 3), "target": hard},
            "weight_per_class": {"input": randn(4, 3), "target": rand(4, 3), "weight": rand(3)},
            "weight_full": {"input": randn(4, 3), "target": rand(4, 3), "weight": rand(4, 3)},
            "pos_weight": {"input": randn(4, 3), "target": rand(4, 3), "pos_weight": rand(3) * 3},
            "both_weights": {"input": randn(4, 3), "target": rand(4, 3), "weight": rand(4, 1),
                             "pos_weight": rand(3) * 3},
            "pos_weight_full": {"input": randn(4, 3), "target": hard,
                                "pos_weight": rand(4, 3) * 3},
            "large_logits": {"input": large, "target": hard, "pos_weight": rand(3) * 3},
            "zero_logits": {"input": torch.zeros(4, 3, dtype=dt), "target": hard,
                            "pos_weight": rand(3) * 3},
            "three_dims": {"input": randn(2, 3, 4), "target": rand(2, 3, 4),
                           "pos_weight": rand(4) * 3, "weight": rand(3, 1)},
            "scalar": {"input": randn(()), "target": rand(())},
            "empty": {"input": randn(0, 3), "target": rand(0, 3), "pos_weight": rand(3)},
        }
        for what, inputs in cases.items():
            write_case(w, "binary_cross_entropy_with_logits", f"{dname}_{what}", fn, inputs, {})


# ---- Classification losses -------------------------------------------------------------------

def with_ignored(t, every=3, index=-100):
    """t with every `every`-th position (from the first) set to `index`."""
    t = t.clone()
    t.view(-1)[::every] = index
    return t


def class_cases(dt, log_probs):
    """(what, inputs, options) for nll_loss (log_probs) or cross_entropy (logits)."""
    def scores(*shape, scale=1.0):
        x = torch.randn(*shape, dtype=dt) * scale
        return x.log_softmax(1 if x.dim() > 1 else 0) if log_probs else x

    def labels(classes, *shape):
        return torch.randint(0, classes, shape)

    def weight(classes):
        return torch.rand(classes, dtype=dt) + 0.1

    cases = [
        ("plain", {"input": scores(5, 4), "target": labels(4, 5)}, {}),
        ("weight", {"input": scores(5, 4), "target": labels(4, 5), "weight": weight(4)}, {}),
        ("ignored", {"input": scores(6, 4), "target": with_ignored(labels(4, 6))}, {}),
        ("ignore_index_in_range", {"input": scores(6, 4), "target": labels(4, 6)},
         {"ignore_index": 2}),
        ("weight_ignored", {"input": scores(6, 4), "target": with_ignored(labels(4, 6)),
                            "weight": weight(4)}, {}),
        ("spatial", {"input": scores(3, 4, 5), "target": labels(4, 3, 5)}, {}),
        ("spatial_2d_weight_ignored", {"input": scores(2, 4, 3, 2),
                                       "target": with_ignored(labels(4, 2, 3, 2), every=4),
                                       "weight": weight(4)}, {}),
        ("unbatched", {"input": scores(4), "target": torch.tensor(2)}, {}),
        ("unbatched_ignored", {"input": scores(4), "target": torch.tensor(-100)}, {}),
        ("all_ignored", {"input": scores(3, 4), "target": torch.full((3,), -100),
                         "weight": weight(4)}, {}),
        ("empty", {"input": scores(0, 4), "target": labels(4, 0)}, {}),
    ]
    if not log_probs:
        ls = "label_smoothing"
        masked = scores(4, 5)
        masked[0, 1] = -math.inf  # a class masked out: no smoothing, so the loss stays finite
        masked[2, 4] = -math.inf
        cases += [
            ("large_logits", {"input": scores(5, 4, scale=1000.0), "target": labels(4, 5)}, {}),
            ("masked_class", {"input": masked, "target": torch.tensor([0, 2, 3, 1])}, {}),
            ("smoothing", {"input": scores(5, 4), "target": labels(4, 5)}, {ls: 0.1}),
            ("smoothing_weight", {"input": scores(5, 4), "target": labels(4, 5),
                                  "weight": weight(4)}, {ls: 0.3}),
            ("smoothing_weight_ignored", {"input": scores(6, 4),
                                          "target": with_ignored(labels(4, 6)),
                                          "weight": weight(4)}, {ls: 0.2}),
            ("smoothing_ignore_index_in_range", {"input": scores(6, 4), "target": labels(4, 6),
                                                 "weight": weight(4)},
             {ls: 0.25, "ignore_index": 1}),
            ("smoothing_full", {"input": scores(5, 4), "target": labels(4, 5)}, {ls: 1.0}),
            ("smoothing_spatial_2d", {"input": scores(2, 4, 3, 2),
                                      "target": with_ignored(labels(4, 2, 3, 2), every=5),
                                      "weight": weight(4)}, {ls: 0.15}),
            ("smoothing_unbatched", {"input": scores(4), "target": torch.tensor(1),
                                     "weight": weight(4)}, {ls: 0.4}),
            ("smoothing_large_logits", {"input": scores(5, 4, scale=1000.0),
                                        "target": labels(4, 5)}, {ls: 0.1}),
            ("smoothing_all_ignored", {"input": scores(3, 4), "target": torch.full((3,), -100),
                                       "weight": weight(4)}, {ls: 0.2}),
            ("probabilities", {"input": scores(5, 4),
                               "target": torch.rand(5, 4, dtype=dt).softmax(1)}, {}),
            ("probabilities_weight_smoothing", {"input": scores(5, 4),
                                                "target": torch.rand(5, 4, dtype=dt).softmax(1),
                                                "weight": weight(4)}, {ls: 0.2}),
            ("probabilities_spatial", {"input": scores(2, 4, 3),
                                       "target": torch.rand(2, 4, 3, dtype=dt).softmax(1)}, {}),
            ("probabilities_unbatched", {"input": scores(4),
                                         "target": torch.rand(4, dtype=dt).softmax(0)}, {ls: 0.1}),
        ]
    return cases


def write_classification(w):
    for group, fn, log_probs in (("nll_loss", F.nll_loss, True),
                                 ("cross_entropy", F.cross_entropy, False)):
        for dname, dt in DTYPES.items():
            for what, inputs, options in class_cases(dt, log_probs):
                options = {"ignore_index": -100, **options}
                if not log_probs:
                    options.setdefault("label_smoothing", 0.0)
                write_case(w, group, f"{dname}_{what}", fn, inputs, options)


def main():
    torch.manual_seed(0)
    w = Writer()
    w.lines[1] = f"# written by tests/make_loss_fixtures.py with torch {torch.__version__}"
    write_regression(w)
    write_bce(w)
    write_classification(w)
    w.save(OUTPUT)


if __name__ == "__main__":
    main()
