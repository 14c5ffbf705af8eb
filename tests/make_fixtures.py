#!/usr/bin/python3
"""Writes tests/fixtures/core.txt: PyTorch's answers for the core tests to compare against.

Run it from the repository root with Debian's PyTorch 1.13 (the default python3 has no torch):

    /usr/bin/python3 tests/make_fixtures.py

The output is deterministic (torch.manual_seed(0) before anything is drawn) and committed, so
the tests need no Python. tests/fixtures.h reads it; test_tensor.cpp and test_parity.cpp use it.

File format, version 1. A text file of records separated by whitespace:

    minigrad-fixtures 1                          first line: the magic word and the version
    # any comment                                a line starting with '#' is skipped
    tensor NAME DTYPE RANK DIM_1 ... DIM_RANK    then the numel values, row-major,
    v v v ...                                    separated by spaces and newlines
    string NAME LENGTH                           then a newline, exactly LENGTH bytes of text
    <text, which may span lines>                 (so newlines survive), and a newline

NAME has no spaces; DTYPE is float32, float64, int64 or bool. Values are written so that they
read back exactly: float64 as Python's repr() (the shortest text that rounds back to the same
double), float32 as numpy's shortest text for the float32 (read back as float, it rounds to the
same float32), "nan", "inf" and "-inf" as such, int64 in decimal, bool as 0 or 1. A 0-d tensor
has RANK 0 and one value; an empty tensor has no values.

Names are paths: GROUP/CASE/PART, for example softmax/f32_large_dim1/x. Each case holds its
inputs (x, a, b, dim, the upstream gradient ...) and PyTorch's outputs and gradients, so the C++
test feeds PyTorch's own inputs. A result computed in float32, NAME, has two records beside it:
NAME@f64, the float64 answer to the same question (the case run again on its inputs converted to
float64), and NAME@f32_error, the largest distance max |NAME - NAME@f64| that PyTorch's float32
answer reaches on any CPU configuration this machine can run (Writer.save measures them all).
tests/README.md says why and how the tests use them. The groups:

    print/CASE/x, string print/CASE  a tensor, and PyTorch's repr of it after one of the
                                     TRANSFORMS (test_tensor.cpp has the same table); the
                                     string print/cases lists "CASE TRANSFORM", one per line
    softmax/CASE, log_softmax/CASE   x, dim, upstream -> y, grad_x (grad of (y * upstream).sum())
    matmul/CASE                      a, b, upstream -> y, grad_a, grad_b
    sum/CASE                         x, dims (empty: all), keepdim, upstream -> y, grad_x
    mean/CASE                        x, dims (empty: all, else one dim), keepdim, upstream -> ...
    max/CASE                         x, dim, keepdim, upstream -> values, indices, grad_x
    max_all/CASE                     x, upstream -> y, grad_x (ties share the gradient)
    argmax/CASE                      x, dim, keepdim -> y
    long_sum/f32                     x (2, 10000) float32 -> sum_all, sum_dim1, mean_all, mean_dim1
"""

import concurrent.futures
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

VERSION = 1
OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "core.txt")

DTYPE_NAMES = {
    torch.float32: "float32",
    torch.float64: "float64",
    torch.int64: "int64",
    torch.bool: "bool",
}

inf = math.inf
nan = math.nan


class Writer:
    """Collects records and writes them in the format described above."""

    def __init__(self):
        self.lines = [f"minigrad-fixtures {VERSION}",
                      f"# written by tests/make_fixtures.py with torch {torch.__version__}"]
        self.names = set()
        self.errors = {}  # NAME@f32_error -> tensor, written last by save()

    def _claim(self, kind, name):
        assert " " not in name and (kind, name) not in self.names, name
        self.names.add((kind, name))

    def tensor(self, name, t):
        self._claim("tensor", name)
        t = t.detach().contiguous()
        header = ["tensor", name, DTYPE_NAMES[t.dtype], str(t.dim())] + [str(s) for s in t.shape]
        self.lines.append(" ".join(header))
        values = [self._value(v, t.dtype) for v in t.reshape(-1).numpy()]
        for i in range(0, len(values), 10):
            self.lines.append(" ".join(values[i:i + 10]))

    def result(self, name, value, exact=None, per_row=False):
        """Writes one of PyTorch's results. A float32 result also needs `exact`: the float64
        answer to the same question (the same inputs converted to float64, which is exact, and
        computed in float64; see float64_twin). It is written beside the result as NAME@f64, and
        how far PyTorch's own float32 answer lies from it as NAME@f32_error (see f32_error)."""
        self.tensor(name, value)
        if value.dtype == torch.float32 or exact is not None:
            assert exact is not None and exact.dtype == torch.float64, name
            self.tensor(name + "@f64", exact)
            self.f32_error(name, value, exact, per_row)

    def f32_error(self, name, value, exact, per_row=False):
        """Records NAME@f32_error: max |value - exact| over the elements, a 0-d float64 tensor
        (or one per row of a trajectory when per_row). `value` is PyTorch's answer computed in
        float32, `exact` the float64 one. save() raises it to the largest that PyTorch's float32
        answer reaches on any of the CPU configurations of other_configurations()."""
        value, exact = value.detach().double(), exact.detach().double()
        assert value.shape == exact.shape, name
        # Where float32 gives inf or nan, so must float64 (nothing here overflows float32 only).
        assert torch.equal(torch.isfinite(value), torch.isfinite(exact)), name
        finite = torch.isfinite(value)
        gap = torch.where(finite, (value - exact).abs(), torch.zeros_like(value))
        if per_row:  # a trajectory: one row per step, never empty
            error = gap.reshape(gap.shape[0], -1).amax(1)
        else:
            error = gap.max() if gap.numel() else gap.new_zeros(())
        self._claim("tensor", name + "@f32_error")
        self.errors[name + "@f32_error"] = error

    @staticmethod
    def _value(v, dtype):
        if dtype == torch.float64:
            return repr(float(v))
        if dtype == torch.float32:
            return str(np.float32(v))
        if dtype == torch.bool:
            return "1" if v else "0"
        return str(int(v))

    def string(self, name, text):
        self._claim("string", name)
        data = text.encode("utf-8")
        self.lines.append(f"string {name} {len(data)}")
        self.lines.append(text)

    def save(self, path):
        """Writes the file, the f32_error records last: each the largest over this run and the
        same script run under other_configurations() (unless this is such a run)."""
        if os.environ.get(SPREAD_RUN) is None:
            self._widen_errors(os.path.basename(path))
        for name, error in self.errors.items():
            self.names.discard(("tensor", name))
            self.tensor(name, error)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(self.lines) + "\n")

    def _widen_errors(self, file):
        if not self.errors:
            return
        configs = other_configurations()
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:  # two cores
            runs = list(pool.map(lambda config: run_elsewhere(config, file), configs))
        widened = {}  # name -> (how many times larger, configuration)
        for config, theirs in zip(configs, runs):
            for name, mine in self.errors.items():
                other = theirs[name].reshape(mine.shape)
                if (other > mine).any():
                    factor = (other / mine).max().item()  # inf where this run was exact
                    widened[name] = max(widened.get(name, (0, "")), (factor, describe(config)))
                self.errors[name] = torch.maximum(mine, other)
        if widened:
            factor, name = max((f, n) for n, (f, _) in widened.items())
            print(f"{file}: {len(widened)} of {len(self.errors)} float32 errors grew on another "
                  f"configuration, the most {factor:.3g}-fold ({name}, {widened[name][1]})")


# ---- PyTorch's float32 error on other CPUs ------------------------------------------------------
#
# PyTorch's float32 answers differ between CPUs: its vectorized kernels (ATEN_CPU_CAPABILITY
# default, avx2, avx512) and OpenBLAS's (OPENBLAS_CORETYPE) sum in other orders. A float32 error
# measured on one machine can be luckily small, so each script runs itself again, from a copy in a
# scratch directory, under every configuration below that this CPU can run, and keeps for every
# f32_error the largest. tests/README.md says how the tests use it.

SPREAD_RUN = "MG_FIXTURE_SPREAD_RUN"  # set in the copies, which do not spread again
OPENBLAS_CORETYPES = ["Prescott", "Sandybridge", "Haswell"]  # SSE3, AVX and AVX2 kernels


def cpu_flags():
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def other_configurations():
    """Every (ATEN_CPU_CAPABILITY, OPENBLAS_CORETYPE) this CPU runs, None meaning the variable is
    left as it is, but the one this run has."""
    flags = cpu_flags()
    capabilities = ["default"] + ["avx2"] * ("avx2" in flags)
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        capabilities.append("avx512")
    coretypes = [None] + [c for c in OPENBLAS_CORETYPES if c != "Haswell" or "avx2" in flags]
    if "avx512f" in flags:
        coretypes.append("SkylakeX")
    # Unset, ATEN_CPU_CAPABILITY means the best the CPU has.
    here = (os.environ.get("ATEN_CPU_CAPABILITY") or capabilities[-1],
            os.environ.get("OPENBLAS_CORETYPE"))
    return [(cap, core) for cap in capabilities for core in coretypes if (cap, core) != here]


def describe(config):
    capability, coretype = config
    text = f"ATEN_CPU_CAPABILITY={capability}"
    return text + f" OPENBLAS_CORETYPE={coretype}" if coretype else text


def run_elsewhere(config, file):
    """The f32_error records of `file` as the calling script writes it under `config`."""
    capability, coretype = config
    script = os.path.abspath(sys.argv[0])
    with tempfile.TemporaryDirectory() as scratch:
        copy = os.path.join(scratch, "tests")
        os.makedirs(os.path.join(copy, "fixtures"))
        for name in os.listdir(os.path.dirname(script)):
            if name.endswith(".py"):
                shutil.copy(os.path.join(os.path.dirname(script), name), copy)
        env = dict(os.environ, ATEN_CPU_CAPABILITY=capability, **{SPREAD_RUN: "1"})
        env.pop("OPENBLAS_CORETYPE", None)
        if coretype:
            env["OPENBLAS_CORETYPE"] = coretype
        subprocess.run([sys.executable, os.path.join(copy, os.path.basename(script))], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        tensors = read_tensors(os.path.join(copy, "fixtures", file))
    return {name: torch.tensor(values, dtype=torch.float64)
            for name, (dtype, shape, values) in tensors.items() if name.endswith("@f32_error")}


def read_tensors(path):
    """{name: (dtype, shape, values)} of the tensor records of a fixture file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    tensors, pos = {}, 0

    def line():
        nonlocal pos
        end = text.index("\n", pos)
        out, pos = text[pos:end], end + 1
        return out

    assert line() == f"minigrad-fixtures {VERSION}", f"{path}: not a version {VERSION} file"
    while pos < len(text):
        header = line().split()
        if not header or header[0].startswith("#"):
            continue
        if header[0] == "string":  # NAME LENGTH, then LENGTH bytes of text and a newline
            pos += len(text[pos:].encode("utf-8")[:int(header[2])].decode("utf-8")) + 1
            continue
        name, dtype, rank = header[1], header[2], int(header[3])
        shape = [int(size) for size in header[4:4 + rank]]
        values = []
        while len(values) < math.prod(shape):
            values += line().split()
        tensors[name] = (dtype, shape, [float(v) for v in values])
    return tensors


def scalar(value, dtype=torch.int64):
    return torch.tensor(value, dtype=dtype)


def float64_twin(value):
    """`value` with every float32 tensor in it converted to float64 (exactly), recursively
    through lists, tuples and dicts; anything else as it is. Running a float32 case again on
    float64_twin(inputs) gives the float64 answer that Writer.result records beside it."""
    if isinstance(value, torch.Tensor):
        return value.detach().double() if value.dtype == torch.float32 else value
    if isinstance(value, (list, tuple)):
        return type(value)(float64_twin(v) for v in value)
    if isinstance(value, dict):
        return {k: float64_twin(v) for k, v in value.items()}
    return value


# ---- Printing ----------------------------------------------------------------------------------

def requires_grad(x):
    return x.requires_grad_()


def times_two(x):
    return x.requires_grad_() * 2  # grad_fn=<MulBackward0>


# How each printed tensor is made from its stored values x; test_tensor.cpp has the same table.
TRANSFORMS = {
    "plain": lambda x: x,
    "requires_grad": requires_grad,
    "times_two": times_two,
    "transpose": lambda x: x.transpose(0, 1),
    "permute_2_0_1": lambda x: x.permute(2, 0, 1),
    "narrow_1_1_3": lambda x: x.narrow(1, 1, 3),
    "select_1_2": lambda x: x.select(1, 2),
    "expand_2_3": lambda x: x.expand(2, 3),
}


def print_cases():
    """(name, x, transform): every rule of torch/_tensor_str.py that minigrad reproduces."""
    f32, f64, i64 = torch.float32, torch.float64, torch.int64
    t = torch.tensor
    return [
        # Fixed style, 4 decimals, common width, sign column.
        ("float32_matrix", t([[0.1, -2.0], [3.5, 4.0]], dtype=f32), "plain"),
        ("float64_requires_grad", t([[0.1, -2.0], [3.5, 4.0]], dtype=f64), "requires_grad"),
        # float32 values printed from their exact double value; ties round to even.
        ("float32_rounding", t([1234.5678, 3.14159, -2.71828, 1.5], dtype=f32), "plain"),
        ("float64_ties", t([0.03125, 0.96875, -2.71875, 1.40625], dtype=f64), "plain"),
        # Whole numbers print as "3.".
        ("whole_floats", t([1.0, 2.0, -3.0, 40.0]), "plain"),
        ("whole_with_nonfinite", t([1.0, nan, inf, -inf, 100.0]), "plain"),
        ("whole_inf_sticks_out", t([1.0, -inf, 2.0]), "plain"),
        ("whole_at_1e8", t([1.0e8, 1.0e6], dtype=f64), "plain"),
        ("zeros_only", torch.zeros(3), "plain"),
        ("negative_zero_whole", t([-0.0, 1.0]), "plain"),
        ("negative_zero_fixed", t([-0.0, 0.5]), "plain"),
        ("fixed_with_nonfinite", t([0.5, nan, -inf, 2.25]), "plain"),
        ("nonfinite_only", t([nan, -inf]), "plain"),
        # Scientific notation: ratio > 1000, max > 1e8, min < 1e-4, whole numbers too.
        ("sci_ratio", t([0.001, 10.0, -5.5]), "plain"),
        ("sci_large", t([123456789.5, 200000000.25], dtype=f64), "plain"),
        ("sci_small", t([1.0e-5, -5.0e-5]), "plain"),
        ("sci_whole", t([1.0, 12345.0]), "plain"),
        ("sci_with_nonfinite", t([1.0e-5, nan, inf, -1.0]), "plain"),
        ("sci_three_digit_exponent", t([1.0e-100, 1.0], dtype=f64), "plain"),
        ("sci_arange_2000", torch.arange(2000.0), "plain"),  # also summarized
        # Line wrapping at 80 columns, nesting, blank lines between blocks.
        ("long_row", torch.randn(25), "plain"),
        ("long_rows_float64", torch.randn(3, 12, dtype=f64), "plain"),
        ("suffix_on_new_line", t([-1.2345] * 8, dtype=f64), "requires_grad"),
        ("three_d", torch.randn(2, 3, 4), "plain"),
        ("four_d", torch.arange(24.0).reshape(2, 2, 2, 3), "plain"),
        # Summarization above 1000 elements.
        ("summarized_2d", torch.randn(40, 30), "plain"),
        ("summarized_wide", torch.randn(2, 600), "plain"),
        ("summarized_3d_float64", torch.randn(11, 10, 10, dtype=f64), "plain"),
        ("summarized_int64", torch.arange(1001), "plain"),
        # int64 and bool.
        ("int64_matrix", t([[1, -20], [300, 4]]), "plain"),
        ("bool_vector", t([True, False, True]), "plain"),
        ("bool_matrix", t([[True, False, False], [False, True, True]]), "plain"),
        # 0-d tensors.
        ("scalar_float", t(1.5), "plain"),
        ("scalar_zero", t(0.0), "plain"),
        ("scalar_int64", t(7), "plain"),
        ("scalar_bool", t(True), "plain"),
        ("scalar_float64_requires_grad", t(2.5, dtype=f64), "requires_grad"),
        # Empty tensors: size unless 1-D, dtype unless float32.
        ("empty_2d", torch.zeros(0, 3), "plain"),
        ("empty_int64", torch.zeros(0, dtype=i64), "plain"),
        ("empty_bool", torch.zeros(0, dtype=torch.bool), "plain"),
        ("empty_3d_float64", torch.zeros(2, 0, 4, dtype=f64), "plain"),
        # Non-contiguous tensors print their logical values.
        ("transposed", torch.randn(3, 4), "transpose"),
        ("permuted", torch.randn(2, 3, 4), "permute_2_0_1"),
        ("narrowed", torch.arange(20.0).reshape(4, 5) / 4, "narrow_1_1_3"),
        ("selected_column", torch.randn(4, 3), "select_1_2"),
        ("expanded", t([1.5, 2.0, -3.0]), "expand_2_3"),
        # A non-leaf shows its grad_fn.
        ("grad_fn_mul", torch.randn(2, 3), "times_two"),
    ]


def write_print_cases(w):
    names = []
    for name, x, how in print_cases():
        w.tensor(f"print/{name}/x", x)
        w.string(f"print/{name}", repr(TRANSFORMS[how](x.clone())))
        names.append(f"{name} {how}")
    # The table of transforms, so the C++ test can check it covers every case the same way.
    w.string("print/cases", "\n".join(names))


# ---- Softmax -----------------------------------------------------------------------------------

def with_grad(fn, inputs, upstream):
    """fn(*inputs) and the gradient of (fn(*inputs) * upstream).sum() for every input."""
    leaves = [x.detach().clone().requires_grad_() for x in inputs]
    y = fn(*leaves)
    y.backward(upstream)
    return y.detach(), [x.grad for x in leaves]


def exact_with_grad(fn, inputs, upstream):
    """with_grad on the float64 twins of a float32 case's inputs and upstream: the exact answers
    that Writer.result records beside PyTorch's float32 ones. For a float64 case, Nones."""
    if all(x.dtype != torch.float32 for x in inputs):
        return None, [None] * len(inputs)
    return with_grad(fn, float64_twin(inputs), float64_twin(upstream))


def softmax_inputs():
    """(name, x, dim): large magnitudes, rows with -inf, every dim of a 3-D tensor."""
    cases = []
    for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        # Near +1e4 exp() overflows and near -1e4 it underflows unless the maximum is
        # subtracted first; spread over ±1e4 the result is all but one-hot.
        near_large = 1.0e4 + torch.randn(4, 6, dtype=dtype) * 2
        for dim in (0, 1, -1):
            cases.append((f"{tag}_near_1e4_dim{dim}".replace("-", "minus"), near_large, dim))
        cases.append((f"{tag}_near_minus_1e4_dim1", -1.0e4 + torch.randn(4, 6, dtype=dtype) * 2, 1))
        cases.append((f"{tag}_spread_1e4_dim1", torch.randn(4, 6, dtype=dtype) * 1.0e4, 1))
        with_inf = torch.randn(3, 5, dtype=dtype) * 3
        with_inf[0, 1] = -inf
        with_inf[1, 0] = with_inf[1, 4] = -inf
        with_inf[2, 2] = -inf
        cases.append((f"{tag}_neg_inf_dim1", with_inf, 1))
        cases.append((f"{tag}_neg_inf_dim0", with_inf, 0))
        cube = torch.randn(2, 3, 4, dtype=dtype) * 3
        for dim in (0, 1, 2):
            cases.append((f"{tag}_3d_dim{dim}", cube, dim))
    return cases


def write_softmax(w):
    for name, x, dim in softmax_inputs():
        upstream = torch.randn(x.shape, dtype=x.dtype)
        for op, fn in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
            y, (grad_x,) = with_grad(lambda v: fn(v, dim), [x], upstream)
            y64, (grad_x64,) = exact_with_grad(lambda v: fn(v, dim), [x], upstream)
            w.tensor(f"{op}/{name}/x", x)
            w.tensor(f"{op}/{name}/dim", scalar(dim))
            w.tensor(f"{op}/{name}/upstream", upstream)
            w.result(f"{op}/{name}/y", y, y64)
            w.result(f"{op}/{name}/grad_x", grad_x, grad_x64)


# ---- Matmul ------------------------------------------------------------------------------------

MATMUL_SHAPES = [
    ("dot", (7,), (7,)),
    ("matrix_vector", (5, 7), (7,)),
    ("vector_matrix", (7,), (7, 4)),
    ("odd_7x13_13x5", (7, 13), (13, 5)),
    ("batched_matrix", (3, 4, 5), (5, 2)),
    ("batched_broadcast", (2, 1, 3, 4), (5, 4, 6)),
    ("batched_vector", (3, 4, 5), (5,)),
    ("vector_batched", (5,), (3, 5, 2)),
]


def write_matmul(w):
    for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        for name, shape_a, shape_b in MATMUL_SHAPES:
            a = torch.randn(shape_a, dtype=dtype)
            b = torch.randn(shape_b, dtype=dtype)
            upstream = torch.randn(torch.matmul(a, b).shape, dtype=dtype)
            y, (grad_a, grad_b) = with_grad(torch.matmul, [a, b], upstream)
            y64, (grad_a64, grad_b64) = exact_with_grad(torch.matmul, [a, b], upstream)
            case = f"matmul/{tag}_{name}"
            for part, value in (("a", a), ("b", b), ("upstream", upstream)):
                w.tensor(f"{case}/{part}", value)
            for part, value, exact in (("y", y, y64), ("grad_a", grad_a, grad_a64),
                                       ("grad_b", grad_b, grad_b64)):
                w.result(f"{case}/{part}", value, exact)


# ---- Reductions --------------------------------------------------------------------------------

def write_sum_mean(w):
    f32, f64 = torch.float32, torch.float64
    cases = [
        ("sum", "f32_dims_0_2", torch.randn(3, 4, 5, 6, dtype=f32), [0, 2], False),
        ("sum", "f64_dims_1_3_keepdim", torch.randn(3, 4, 5, 6, dtype=f64), [1, 3], True),
        ("sum", "f64_last_dim", torch.randn(4, 7, dtype=f64), [-1], False),
        ("sum", "f32_all", torch.randn(6, 50, dtype=f32) * 100, [], False),
        ("mean", "f32_dim1", torch.randn(3, 4, 5, dtype=f32), [1], False),
        ("mean", "f64_last_dim_keepdim", torch.randn(3, 4, 5, dtype=f64), [-1], True),
        ("mean", "f32_all", torch.randn(6, 50, dtype=f32) * 100, [], False),
        ("mean", "f64_all", torch.randn(7, 3, dtype=f64), [], False),
    ]
    for op, name, x, dims, keepdim in cases:
        if dims:
            fn = lambda v: getattr(v, op)(dims if op == "sum" else dims[0], keepdim=keepdim)
        else:
            fn = lambda v: getattr(v, op)()
        upstream = torch.randn(fn(x).shape, dtype=x.dtype)
        y, (grad_x,) = with_grad(fn, [x], upstream)
        y64, (grad_x64,) = exact_with_grad(fn, [x], upstream)
        case = f"{op}/{name}"
        w.tensor(f"{case}/x", x)
        w.tensor(f"{case}/dims", torch.tensor(dims, dtype=torch.int64))
        w.tensor(f"{case}/keepdim", scalar(keepdim, torch.bool))
        w.tensor(f"{case}/upstream", upstream)
        w.result(f"{case}/y", y, y64)
        w.result(f"{case}/grad_x", grad_x, grad_x64)


def write_long_sum(w):
    # Positive values spread over eight orders of magnitude: no cancellation, so PyTorch's own
    # float32 result is within a few float32 roundings of the exact sum, while a plain float32
    # running sum over 10000 of them drifts by about 1e-5 relative.
    x = torch.exp(torch.randn(2, 10000, dtype=torch.float64) * 3).to(torch.float32)
    outputs = {"sum_all": x.sum(), "sum_dim1": x.sum(1), "mean_all": x.mean(),
               "mean_dim1": x.mean(1)}
    exact = {"sum_all": x.double().sum(), "sum_dim1": x.double().sum(1),
             "mean_all": x.double().mean(), "mean_dim1": x.double().mean(1)}
    w.tensor("long_sum/f32/x", x)
    for part, y in outputs.items():
        error = ((y.double() - exact[part]).abs() / exact[part].abs()).max().item()
        assert error < 2.0e-7, (part, error)  # the reference itself is accurate
        w.result(f"long_sum/f32/{part}", y, exact[part])


def write_max(w):
    f32, f64 = torch.float32, torch.float64
    ties = torch.randint(0, 3, (4, 5)).to(f64)  # few distinct values: many ties
    with_neg_inf = torch.randn(4, 3, dtype=f32)
    with_neg_inf[:, 1] = -inf
    with_neg_inf[2, :] = -inf
    with_nan = torch.randn(3, 4, dtype=f32)
    with_nan[1, 2] = nan
    int_ties = torch.randint(-2, 3, (3, 6))
    cases = [
        ("f64_ties_dim1", ties, 1, False),
        ("f64_ties_dim0_keepdim", ties, 0, True),
        ("f32_neg_inf_dim0", with_neg_inf, 0, False),
        ("f32_nan_dim1", with_nan, 1, False),
        ("f32_3d_dim_minus1", torch.randn(2, 3, 4, dtype=f32), -1, False),
        ("int64_ties_dim1", int_ties, 1, False),
    ]
    for name, x, dim, keepdim in cases:
        case = f"max/{name}"
        w.tensor(f"{case}/x", x)
        w.tensor(f"{case}/dim", scalar(dim))
        w.tensor(f"{case}/keepdim", scalar(keepdim, torch.bool))
        values, indices = x.max(dim, keepdim=keepdim)
        exact_values = float64_twin(x).max(dim, keepdim=keepdim)[0] if x.dtype == f32 else None
        w.result(f"{case}/values", values, exact_values)
        w.tensor(f"{case}/indices", indices)
        if x.dtype.is_floating_point:
            upstream = torch.randn(values.shape, dtype=x.dtype)
            values_of = lambda v: v.max(dim, keepdim=keepdim)[0]
            _, (grad_x,) = with_grad(values_of, [x], upstream)
            _, (grad_x64,) = exact_with_grad(values_of, [x], upstream)
            w.tensor(f"{case}/upstream", upstream)
            w.result(f"{case}/grad_x", grad_x, grad_x64)
        argmax_case = f"argmax/{name}"
        w.tensor(f"{argmax_case}/x", x)
        w.tensor(f"{argmax_case}/dim", scalar(dim))
        w.tensor(f"{argmax_case}/keepdim", scalar(keepdim, torch.bool))
        w.tensor(f"{argmax_case}/y", x.argmax(dim, keepdim=keepdim))

    for name, x in (("f64_ties", ties), ("f32_distinct", torch.randn(5, 4, dtype=f32))):
        upstream = torch.randn((), dtype=x.dtype)
        y, (grad_x,) = with_grad(lambda v: v.max(), [x], upstream)
        y64, (grad_x64,) = exact_with_grad(lambda v: v.max(), [x], upstream)
        case = f"max_all/{name}"
        w.tensor(f"{case}/x", x)
        w.tensor(f"{case}/upstream", upstream)
        w.result(f"{case}/y", y, y64)
        w.result(f"{case}/grad_x", grad_x, grad_x64)


def main():
    torch.manual_seed(0)
    w = Writer()
    write_print_cases(w)
    write_softmax(w)
    write_matmul(w)
    write_sum_mean(w)
    write_long_sum(w)
    write_max(w)
    w.save(OUTPUT)
    print(f"wrote {OUTPUT} ({os.path.getsize(OUTPUT)} bytes)")


if __name__ == "__main__":
    main()
