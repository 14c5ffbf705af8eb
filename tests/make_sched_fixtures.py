#!/usr/bin/python3
"""Writes tests/fixtures/sched.txt: PyTorch's learning-rate schedules and gradient clipping, for
tests/test_lr_scheduler.cpp and tests/test_clip_grad.cpp.

Run it from the repository root with Debian's PyTorch 1.13 (the default python3 has no torch):

    /usr/bin/python3 tests/make_sched_fixtures.py

The output is deterministic (torch.manual_seed(0) before anything is drawn) and committed. The
file format is the one tests/make_fixtures.py documents (version 1), written by its Writer.

Every case is GROUP/CASE/PART. Each scheduler case runs an SGD optimizer with two parameter
groups (lrs0) through STEPS steps, and stores, as float64 unless said otherwise:

    lrs0                    (2,) the groups' lrs when the scheduler is made
    lrs                     (STEPS + 1, 2) row 0: get_last_lr() after the constructor (for
                            ReduceLROnPlateau, which has none in 1.13, the groups' lrs);
                            row k: get_last_lr() after the k-th step
    step_lr/CASE            step_size (int64), gamma
    exponential_lr/CASE     gamma
    cosine_annealing_lr/CASE
                            T_max (int64), eta_min
    chained/CASE            two schedulers on one optimizer, stepped in turn (write_chained
                            says which); lrs holds the second one's get_last_lr()
    reduce_lr_on_plateau/CASE
                            mode (int64: 0 "min", 1 "max"), factor, patience (int64), threshold,
                            threshold_mode (int64: 0 "rel", 1 "abs"), cooldown (int64),
                            min_lr (2,), min_lr_is_list (bool: given as a list, one per group,
                            rather than one number), eps, metrics (STEPS,) the value passed to
                            each step, and after each step: best (STEPS,), num_bad_epochs
                            (STEPS,) int64, cooldown_counter (STEPS,) int64
    (STEPS = 45 everywhere)

clip_grad_norm/CASE and clip_grad_value/CASE hold a list of parameters and their gradients:

    count                   int64, the number of parameters
    same_K                  int64, the index of the first parameter that is the
                            same tensor as parameter K (K itself if none is)
    single                  bool: pass the one parameter as a Tensor rather than a list
    has_grad_K, grad_K      bool, and the gradient of parameter K before clipping (when it has one)
    clipped_K               the gradient after clipping
    max_norm, norm_type     float64 (clip_grad_norm; norm_type may be inf or -inf)
    total_norm              0-d, what clip_grad_norm_ returned, in its dtype
    clip_value              float64 (clip_grad_value)
"""

import math
import os

import torch
from torch.nn.utils import clip_grad_norm_, clip_grad_value_
from torch.optim import lr_scheduler

from make_fixtures import Writer, float64_twin

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "sched.txt")

STEPS = 45
MODES = {"min": 0, "max": 1}
THRESHOLD_MODES = {"rel": 0, "abs": 1}


def f64(value):
    return torch.tensor(value, dtype=torch.float64)


def i64(value):
    return torch.tensor(value, dtype=torch.int64)


def optimizer(lrs0):
    """Plain SGD with one parameter group per lr."""
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs0]
    return torch.optim.SGD(groups, lr=lrs0[0])


def group_lrs(opt):
    return [group["lr"] for group in opt.param_groups]


# ---- StepLR, ExponentialLR, CosineAnnealingLR ----------------------------------------------------

def write_schedule(w, at, lrs0, make):
    """Runs the scheduler `make(opt)` for STEPS steps (optimizer step first, as PyTorch asks)."""
    opt = optimizer(lrs0)
    sched = make(opt)
    lrs = [sched.get_last_lr()]
    for _ in range(STEPS):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    w.tensor(at + "lrs0", f64(lrs0))
    w.tensor(at + "lrs", f64(lrs))


def write_step_lr(w):
    for step_size, gamma in [(3, 0.1), (7, 0.5), (1, 0.9), (10, 2.0)]:
        at = f"step_lr/step{step_size}_gamma{gamma}/"
        write_schedule(w, at, [0.1, 0.02],
                       lambda opt: lr_scheduler.StepLR(opt, step_size, gamma=gamma))
        w.tensor(at + "step_size", i64(step_size))
        w.tensor(at + "gamma", f64(gamma))


def write_exponential_lr(w):
    for gamma in [0.9, 0.5, 0.99, 1.1]:
        at = f"exponential_lr/gamma{gamma}/"
        write_schedule(w, at, [0.1, 0.02], lambda opt: lr_scheduler.ExponentialLR(opt, gamma))
        w.tensor(at + "gamma", f64(gamma))


def write_cosine_annealing_lr(w):
    # T_max 10 and 7 pass the restart branch (T_cur = (2k + 1) T_max) within the steps; eta_min
    # 0.05 lies between the two groups' lrs, so one group anneals upwards.
    for t_max, eta_min in [(10, 0.0), (7, 0.001), (1, 0.0), (30, 0.05), (45, 0.0)]:
        at = f"cosine_annealing_lr/T{t_max}_eta_min{eta_min}/"
        write_schedule(w, at, [0.1, 0.02],
                       lambda opt: lr_scheduler.CosineAnnealingLR(opt, t_max, eta_min=eta_min))
        w.tensor(at + "T_max", i64(t_max))
        w.tensor(at + "eta_min", f64(eta_min))


def write_chained(w):
    """Two schedulers on one optimizer, both made before the first step and stepped in turn:
    each takes the lrs the other left, which the chainable form composes and a closed form
    base_lr · f(e) would not."""
    cases = {
        "step3_then_cosine10": (lambda opt: lr_scheduler.StepLR(opt, 3, gamma=0.5),
                                lambda opt: lr_scheduler.CosineAnnealingLR(opt, 10, eta_min=0.001)),
        "exponential_then_step5": (lambda opt: lr_scheduler.ExponentialLR(opt, 0.95),
                                   lambda opt: lr_scheduler.StepLR(opt, 5, gamma=0.5)),
    }
    for name, (make_first, make_second) in cases.items():
        at = f"chained/{name}/"
        lrs0 = [0.1, 0.02]
        opt = optimizer(lrs0)
        first, second = make_first(opt), make_second(opt)
        lrs = [second.get_last_lr()]
        for _ in range(STEPS):
            opt.step()
            first.step()
            second.step()
            lrs.append(second.get_last_lr())
        w.tensor(at + "lrs0", f64(lrs0))
        w.tensor(at + "lrs", f64(lrs))


# ---- ReduceLROnPlateau ---------------------------------------------------------------------------

def plateau_metrics(mode):
    """A loss that improves for ten steps, then wanders on a plateau with two late improvements
    (for "max", its negative: an accuracy that stops rising)."""
    noise = torch.rand(STEPS, dtype=torch.float64) * 0.02
    values = []
    for k in range(STEPS):
        if k < 10:
            v = 1.0 / (1.0 + 0.3 * k)
        elif k < 25:
            v = 0.28
        elif k < 35:
            v = 0.2
        else:
            v = 0.15
        values.append(v + float(noise[k]))
    return [v if mode == "min" else -v for v in values]


PLATEAU_CASES = {
    # name: (lrs0, constructor options)
    "min_rel_defaults": ([0.1, 0.02], {}),
    "min_rel_patience2_cooldown3": ([0.1, 0.02], dict(factor=0.5, patience=2, cooldown=3,
                                                       min_lr=1e-3, threshold=0.05)),
    "min_abs_patience1": ([0.1, 0.02], dict(threshold=0.05, threshold_mode="abs", patience=1,
                                            factor=0.3, min_lr=[0.01, 0.001], eps=1e-4)),
    "max_rel_patience3_cooldown1": ([0.1, 0.02], dict(mode="max", factor=0.2, patience=3,
                                                       cooldown=1, threshold=0.01)),
    "max_abs_patience0_cooldown2": ([0.1, 0.02], dict(mode="max", threshold_mode="abs",
                                                       threshold=0.1, patience=0, cooldown=2,
                                                       factor=0.7)),
    # eps large enough to stop the reductions of the first group halfway and of the second at once
    "min_rel_eps_blocks": ([1.0, 0.1], dict(factor=0.5, patience=1, eps=0.06)),
}


def write_reduce_lr_on_plateau(w):
    for name, (lrs0, options) in PLATEAU_CASES.items():
        at = f"reduce_lr_on_plateau/{name}/"
        mode = options.get("mode", "min")
        metrics = plateau_metrics(mode)
        opt = optimizer(lrs0)
        sched = lr_scheduler.ReduceLROnPlateau(opt, **options)
        lrs = [group_lrs(opt)]
        best, bad, cooldown = [], [], []
        for metric in metrics:
            opt.step()
            sched.step(metric)
            lrs.append(sched._last_lr)
            best.append(sched.best)
            bad.append(sched.num_bad_epochs)
            cooldown.append(sched.cooldown_counter)
        assert lrs[-1] != lrs[0], name  # every case reduces at least once
        min_lr = options.get("min_lr", 0.0)
        w.tensor(at + "lrs0", f64(lrs0))
        w.tensor(at + "mode", i64(MODES[mode]))
        w.tensor(at + "factor", f64(options.get("factor", 0.1)))
        w.tensor(at + "patience", i64(options.get("patience", 10)))
        w.tensor(at + "threshold", f64(options.get("threshold", 1e-4)))
        w.tensor(at + "threshold_mode", i64(THRESHOLD_MODES[options.get("threshold_mode", "rel")]))
        w.tensor(at + "cooldown", i64(options.get("cooldown", 0)))
        w.tensor(at + "min_lr", f64(min_lr if isinstance(min_lr, list) else [min_lr] * 2))
        w.tensor(at + "min_lr_is_list", torch.tensor(isinstance(min_lr, list)))
        w.tensor(at + "eps", f64(options.get("eps", 1e-8)))
        w.tensor(at + "metrics", f64(metrics))
        w.tensor(at + "lrs", f64(lrs))
        w.tensor(at + "best", f64(best))
        w.tensor(at + "num_bad_epochs", i64(bad))
        w.tensor(at + "cooldown_counter", i64(cooldown))


# ---- Gradient clipping ---------------------------------------------------------------------------

def parameters(dtypes, with_grad):
    """One parameter per dtype, of shapes (3, 4), (5,), (2, 2, 2), ..., each with a gradient
    N(0, 1) where with_grad says so."""
    shapes = [(3, 4), (5,), (2, 2, 2), (4,)]
    params = []
    for k, (dt, has) in enumerate(zip(dtypes, with_grad)):
        p = torch.zeros(shapes[k], dtype=dt, requires_grad=True)
        if has:
            p.grad = torch.randn(shapes[k], dtype=dt)
        params.append(p)
    return params


def write_params(w, at, before, params, single, exact=None):
    """The parameters of a case before and after clipping; `exact`, for a case with float32
    gradients, is the same case run on their float64 twins (float64_twin_of)."""
    w.tensor(at + "count", i64(len(params)))
    w.tensor(at + "single", torch.tensor(single))
    for k, (g, p) in enumerate(zip(before, params)):
        w.tensor(at + f"same_{k}", i64(next(j for j, q in enumerate(params) if q is p)))
        w.tensor(at + f"has_grad_{k}", torch.tensor(g is not None))
        if g is not None:
            w.tensor(at + f"grad_{k}", g)
            w.result(at + f"clipped_{k}", p.grad, None if exact is None else exact[k].grad)


def float64_twin_of(params, before):
    """New float64 parameters with the float64 twins of the gradients `before` (a parameter
    listed twice stays one tensor listed twice), or None when every gradient is float64: then
    the case is its own exact answer."""
    if all(g is None or g.dtype == torch.float64 for g in before):
        return None
    twins = []
    for p, g in zip(params, before):
        same = next((twins[j] for j, q in enumerate(params[:len(twins)]) if q is p), None)
        if same is None:
            same = torch.zeros(p.shape, dtype=torch.float64, requires_grad=True)
            if g is not None:
                same.grad = float64_twin(g).clone()
        twins.append(same)
    return twins


def write_clip_grad_norm(w):
    f32, f64_ = torch.float32, torch.float64
    three = [f64_, f64_, f64_, f64_]
    skipping = [True, False, True, True]  # the second parameter has no gradient: skipped
    cases = {
        # name: (dtypes, which have grads, max_norm, norm_type, a change to the first gradient)
        "f64_norm2_small": (three, skipping, 0.5, 2.0, None),
        "f64_norm2_large": (three, skipping, 100.0, 2.0, None),
        "f64_inf_small": (three, skipping, 0.5, math.inf, None),
        "f64_inf_large": (three, skipping, 100.0, math.inf, None),
        "f64_norm1_small": (three, skipping, 0.5, 1.0, None),
        "f64_norm1_large": (three, skipping, 100.0, 1.0, None),
        "f64_norm3_small": (three, skipping, 1.0, 3.0, None),
        "f64_norm0.5_small": (three, skipping, 1.0, 0.5, None),
        # PyTorch takes the norm of the per-gradient norms: for p = 0 that counts the gradients
        # that are not all zero (here 2 of 3), and for -inf it is the smallest |g| anywhere.
        "f64_norm0": (three, skipping, 1.0, 0.0, "zero_first"),
        "f64_neginf": (three, skipping, 0.1, -math.inf, None),
        "f64_negative_max_norm": (three, skipping, -1.0, 2.0, None),
        "f64_zero_grads": (three, skipping, 1.0, 2.0, "zero"),
        "f64_nan_grad": (three, skipping, 1.0, 2.0, "nan"),
        "f64_inf_grad": (three, skipping, 1.0, 2.0, "inf"),
        "f32_norm2_small": ([f32] * 4, skipping, 0.5, 2.0, None),
        "f32_inf_small": ([f32] * 4, skipping, 0.5, math.inf, None),
        "f32_norm1_large": ([f32] * 4, skipping, 100.0, 1.0, None),
        "mixed_norm2_small": ([f32, f64_, f32, f64_], [True] * 4, 0.5, 2.0, None),
        # the first parameter listed twice: its gradient counts twice and is scaled twice
        "f64_twice_norm2_small": (three, skipping, 0.5, 2.0, "twice"),
    }
    for name, (dtypes, with_grad, max_norm, norm_type, change) in cases.items():
        at = f"clip_grad_norm/{name}/"
        params = parameters(dtypes, with_grad)
        if change == "zero":
            for p in params:
                if p.grad is not None:
                    p.grad.zero_()
        elif change == "zero_first":
            params[0].grad.zero_()
        elif change == "twice":
            params[1] = params[0]
        elif change is not None:
            params[0].grad[1, 2] = float(change)
        before = [None if p.grad is None else p.grad.clone() for p in params]
        exact = float64_twin_of(params, before)
        total = clip_grad_norm_(params, max_norm, norm_type)
        exact_total = None if exact is None else clip_grad_norm_(exact, max_norm, norm_type)
        write_params(w, at, before, params, False, exact)
        w.tensor(at + "max_norm", f64(max_norm))
        w.tensor(at + "norm_type", f64(norm_type))
        w.result(at + "total_norm", total, exact_total)
    for dt, dname in [(f64_, "f64"), (f32, "f32")]:
        at = f"clip_grad_norm/{dname}_single_norm2_small/"
        p = torch.zeros(3, 4, dtype=dt, requires_grad=True)
        p.grad = torch.randn(3, 4, dtype=dt)
        before = [p.grad.clone()]
        exact = float64_twin_of([p], before)
        total = clip_grad_norm_(p, 0.5)
        exact_total = None if exact is None else clip_grad_norm_(exact[0], 0.5)
        write_params(w, at, before, [p], True, exact)
        w.tensor(at + "max_norm", f64(0.5))
        w.tensor(at + "norm_type", f64(2.0))
        w.result(at + "total_norm", total, exact_total)


def write_clip_grad_value(w):
    skipping = [True, False, True, True]
    for dt, dname in [(torch.float64, "f64"), (torch.float32, "f32")]:
        for clip_value in [0.5, 1.5]:
            at = f"clip_grad_value/{dname}_value{clip_value}/"
            params = parameters([dt] * 4, skipping)
            before = [None if p.grad is None else p.grad.clone() for p in params]
            exact = float64_twin_of(params, before)
            clip_grad_value_(params, clip_value)
            if exact is not None:
                clip_grad_value_(exact, clip_value)
            write_params(w, at, before, params, False, exact)
            w.tensor(at + "clip_value", f64(clip_value))
    # A negative clip_value clamps to [v, -v] with v > -v: every element becomes the upper bound.
    at = "clip_grad_value/f64_negative/"
    p = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    p.grad = torch.randn(5, dtype=torch.float64)
    before = [p.grad.clone()]
    clip_grad_value_(p, -0.5)
    write_params(w, at, before, [p], True)
    w.tensor(at + "clip_value", f64(-0.5))


def main():
    torch.manual_seed(0)
    w = Writer()
    w.lines[1] = f"# written by tests/make_sched_fixtures.py with torch {torch.__version__}"
    write_step_lr(w)
    write_exponential_lr(w)
    write_cosine_annealing_lr(w)
    write_chained(w)
    write_reduce_lr_on_plateau(w)
    write_clip_grad_norm(w)
    write_clip_grad_value(w)
    w.save(OUTPUT)


if __name__ == "__main__":
    main()
