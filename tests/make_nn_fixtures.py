#!/usr/bin/python3
"""Writes tests/fixtures/nn.txt: PyTorch's answers for the layer tests (tests/test_layers.cpp).

Run it from the repository root with Debian's PyTorch 1.13 (the default python3 has no torch):

    /usr/bin/python3 tests/make_nn_fixtures.py

The output is deterministic (torch.manual_seed(0) before anything is drawn) and committed, so
the tests need no Python. The file format is the one tests/make_fixtures.py documents (version
1), written by its Writer and read by tests/fixtures.h.

Each module case is a group of records under CASE = MODULE/DTYPE_NAME:

    CASE/param/NAME      the module's parameters after PyTorch's initialisation (NAME as in
                         named_parameters(), e.g. 0.weight), which the C++ test copies into its
                         own module
    CASE/x               the input (float, or int64 indices for Embedding)
    CASE/upstream        a random gradient for the output
    CASE/y               the output
    CASE/grad_x          the gradient of (y * upstream).sum() for x (float inputs only)
    CASE/grad/NAME       the same for each parameter
    string CASE/names    the parameters as "NAME SIZE_1 ... SIZE_K" lines, in PyTorch's order

and the strings repr/NAME hold PyTorch's repr of one module each (test_layers.cpp builds the
same modules).
"""

import copy
import os

import torch

from make_fixtures import Writer, float64_twin

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "nn.txt")

DTYPES = ((torch.float32, "f32"), (torch.float64, "f64"))


def module_cases():
    """(name, build, input): build() makes the module in float32, input(dtype) its input."""
    nn = torch.nn

    def randn(*shape):
        return lambda dtype: torch.randn(*shape, dtype=dtype)

    def ids(values):
        return lambda dtype: torch.tensor(values, dtype=torch.int64)

    def layer_norm_affine(shape):
        # Random weight and bias, so that their gradients and their effect are not trivial.
        def build():
            m = nn.LayerNorm(shape)
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.weight.shape))
                m.bias.copy_(torch.randn(m.bias.shape))
            return m
        return build

    return [
        ("linear_2d", lambda: nn.Linear(5, 4), randn(3, 5)),
        ("linear_3d", lambda: nn.Linear(5, 4), randn(2, 3, 5)),
        ("linear_1d_no_bias", lambda: nn.Linear(5, 4, bias=False), randn(5)),
        # Repeated ids and the padding row (2), read several times.
        ("embedding_padding", lambda: nn.Embedding(7, 3, padding_idx=2),
         ids([[2, 0, 5, 2], [6, 5, 5, 1], [2, 3, 0, 6]])),
        ("embedding_padding_minus1", lambda: nn.Embedding(5, 4, padding_idx=-1),
         ids([4, 0, 4, 3, 1, 4])),
        ("embedding_plain", lambda: nn.Embedding(6, 2), ids([[1, 1], [5, 0], [3, 1]])),
        ("layer_norm_1d", layer_norm_affine(4), randn(3, 4)),
        ("layer_norm_2d", layer_norm_affine([3, 4]), randn(2, 3, 4)),
        ("layer_norm_no_affine", lambda: nn.LayerNorm(5, elementwise_affine=False),
         lambda dtype: torch.randn(2, 5, dtype=dtype) * 3 + 1),
        ("sequential", lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)),
         randn(5, 3)),
    ]


def run_module(m, x, upstream=None):
    """m(x) and the gradients of (m(x) * upstream).sum() for x (when floating) and every
    parameter; upstream is drawn at random (after the output) unless given. Returns
    (y, upstream, grad_x or None, {name: grad})."""
    leaf = x.clone().requires_grad_() if x.is_floating_point() else x
    m.zero_grad()
    y = m(leaf)
    if upstream is None:
        upstream = torch.randn(y.shape, dtype=y.dtype)
    y.backward(upstream)
    grad_x = leaf.grad if x.is_floating_point() else None
    return y, upstream, grad_x, {pname: p.grad for pname, p in m.named_parameters()}


def write_module_case(w, name, build, make_input):
    # One module and one input, drawn in float32 and converted, so both dtypes hold the same
    # values (float32 to float64 is exact). The float32 case is run again on a float64 copy of
    # the module with the same upstream gradient, for the exact answers recorded beside it.
    m = build()
    x = make_input(torch.float32)
    for dtype, tag in DTYPES:
        case = f"{name}/{tag}"
        m.to(dtype)
        xd = x.to(dtype) if x.is_floating_point() else x
        for pname, p in m.named_parameters():
            w.tensor(f"{case}/param/{pname}", p)
        y, upstream, grad_x, grads = run_module(m, xd)
        exact_y, exact_grad_x, exact_grads = None, None, {pname: None for pname in grads}
        if dtype == torch.float32:
            exact_y, _, exact_grad_x, exact_grads = run_module(
                copy.deepcopy(m).double(), float64_twin(xd), float64_twin(upstream))
        w.tensor(f"{case}/x", xd)
        w.tensor(f"{case}/upstream", upstream)
        w.result(f"{case}/y", y, exact_y)
        if grad_x is not None:
            w.result(f"{case}/grad_x", grad_x, exact_grad_x)
        for pname, grad in grads.items():
            w.result(f"{case}/grad/{pname}", grad, exact_grads[pname])
        w.string(f"{case}/names",
                 "\n".join(" ".join([pname] + [str(s) for s in p.shape])
                           for pname, p in m.named_parameters()))


def reprs():
    """(name, module): PyTorch's repr of each; test_layers.cpp builds the same ones."""
    nn = torch.nn
    return [
        ("linear", nn.Linear(3, 4)),
        ("linear_no_bias", nn.Linear(3, 4, bias=False)),
        ("embedding", nn.Embedding(10, 3)),
        ("embedding_padding", nn.Embedding(10, 3, padding_idx=0)),
        ("embedding_padding_minus1", nn.Embedding(10, 3, padding_idx=-1)),
        ("dropout", nn.Dropout()),
        ("dropout_0.1", nn.Dropout(0.1)),
        ("dropout_1", nn.Dropout(1.0)),
        ("layer_norm", nn.LayerNorm(4)),
        ("layer_norm_2d", nn.LayerNorm([3, 4], eps=1e-6, elementwise_affine=False)),
        ("layer_norm_eps_0.001", nn.LayerNorm(8, eps=0.001)),
        ("tanh", nn.Tanh()),
        ("relu", nn.ReLU()),
        ("sigmoid", nn.Sigmoid()),
        ("sequential", nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))),
        ("sequential_empty", nn.Sequential()),
        ("sequential_nested", nn.Sequential(nn.Embedding(10, 3, padding_idx=0),
                                            nn.Sequential(nn.LayerNorm(3), nn.Dropout(0.1)),
                                            nn.ReLU(), nn.Linear(3, 1), nn.Sigmoid())),
    ]


def main():
    torch.manual_seed(0)
    w = Writer()
    w.lines[1] = f"# written by tests/make_nn_fixtures.py with torch {torch.__version__}"
    for name, build, make_input in module_cases():
        write_module_case(w, name, build, make_input)
    for name, module in reprs():
        w.string(f"repr/{name}", repr(module))
    w.save(OUTPUT)
    print(f"wrote {OUTPUT} ({os.path.getsize(OUTPUT)} bytes)")


if __name__ == "__main__":
    main()
