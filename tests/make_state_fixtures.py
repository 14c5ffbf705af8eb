#!/usr/bin/python3
"""PyTorch's side of the safetensors interchange test (tests/test_serialize.cpp).

Run from the repository root with Debian's PyTorch 1.13 (the default python3 has no torch):

    /usr/bin/python3 tests/make_state_fixtures.py                # writes the two fixtures below
    /usr/bin/python3 tests/make_state_fixtures.py --verify FILE  # checks a file minigrad wrote

Without arguments it builds MLP (below) with torch.manual_seed(0) and writes
  tests/fixtures/torch_model.safetensors   the model's state_dict, in the safetensors format;
  tests/fixtures/state.txt                 in the fixture format of tests/fixtures.h (version 1,
                                           described in make_fixtures.py): state/x, an input
                                           (5, 3); state/y = model(state/x); and state/NAME, the
                                           value of each state_dict entry NAME.
Both are committed, so the C++ test needs no Python. That test rebuilds MLP from minigrad ops
with the same parameter names, loads torch_model.safetensors into it, compares its output with
state/y, and saves it again; with MG_SAVE_STATE_TO=FILE it leaves that file behind, and
--verify FILE loads it back into PyTorch's MLP (strictly: every name, dtype and shape) and
asserts that every tensor equals state/NAME and the output equals state/y, bit for bit.

Debian's torch 1.13 has no safetensors package, so the format is written and read here with
struct and json: 8 bytes of little-endian header length N, N bytes of JSON header padded with
spaces to a multiple of 8, then the tensors' bytes, largest element size first and then by name,
as the reference writer orders them. The header lists the tensors sorted by name, an order
different from that of their bytes, which a reader must not mind.
"""

import copy
import json
import math
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

from make_fixtures import Writer, float64_twin

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_FILE = os.path.join(HERE, "fixtures", "torch_model.safetensors")
STATE_FILE = os.path.join(HERE, "fixtures", "state.txt")

# safetensors dtype name and numpy dtype (little-endian) of each torch dtype minigrad has.
DTYPES = {
    torch.float32: ("F32", "<f4"),
    torch.float64: ("F64", "<f8"),
    torch.int64: ("I64", "<i8"),
    torch.bool: ("BOOL", "|b1"),
}
TORCH_DTYPE = {name: dtype for dtype, (name, _) in DTYPES.items()}


class MLP(nn.Module):
    """y = fc2(tanh(fc1(x))) / temperature * output_mask, with a step counter that is only kept.

    Its state covers every dtype minigrad stores and 0-d tensors: fc1.weight (4, 3), fc1.bias
    (4), fc2.weight (2, 4), fc2.bias (2) in float32; temperature, 0-d float64; output_mask (2),
    bool; steps, 0-d int64.
    """

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2)
        self.register_buffer("temperature", torch.tensor(1.5, dtype=torch.float64))
        self.register_buffer("output_mask", torch.tensor([True, False]))
        self.register_buffer("steps", torch.tensor(1000, dtype=torch.int64))

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x))) / self.temperature * self.output_mask


# ---- The safetensors format ---------------------------------------------------------------------

def write_safetensors(path, tensors, metadata=None):
    assert sys.byteorder == "little"  # numpy's tobytes() below writes the machine's order
    ordered = sorted(tensors.items(), key=lambda item: (-item[1].element_size(), item[0]))
    entries, chunks, offset = {}, [], 0
    for name, t in ordered:
        data = t.detach().contiguous().numpy().tobytes()
        entries[name] = {"dtype": DTYPES[t.dtype][0], "shape": list(t.shape),
                         "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header = {"__metadata__": metadata} if metadata else {}
    header.update(sorted(entries.items()))
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def no_duplicates(pairs):
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"a key appears twice in {keys}"
    return dict(pairs)


def read_safetensors(path):
    """The tensors and metadata of `path`, after checking that the byte ranges tile the data."""
    with open(path, "rb") as f:
        raw = f.read()
    assert len(raw) >= 8, f"{path}: {len(raw)} bytes, fewer than the header length's 8"
    (n,) = struct.unpack("<Q", raw[:8])
    assert 8 + n <= len(raw), f"{path}: header length {n} past the end of the file"
    header = json.loads(raw[8:8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors, covered = {}, 0
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"]):
        assert set(info) == {"dtype", "shape", "data_offsets"}, f"{name}: fields {sorted(info)}"
        begin, end = info["data_offsets"]
        assert begin == covered, f"{name}: starts at byte {begin}, expected {covered}"
        np_dtype = np.dtype(DTYPES[TORCH_DTYPE[info["dtype"]]][1])
        shape = info["shape"]
        assert end - begin == math.prod(shape) * np_dtype.itemsize, f"{name}: wrong byte count"
        values = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(shape)
        tensors[name] = torch.from_numpy(values.copy())
        covered = end
    assert covered == len(data), f"{path}: bytes [{covered}, {len(data)}) belong to no tensor"
    return tensors, metadata


# ---- The fixture format (tensors only) ----------------------------------------------------------

def read_fixture_tensors(path):
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f.read().split("\n")[1:] if not line.startswith("#")]
    tokens = " ".join(lines).split()
    tensors, i = {}, 0
    parse = {"float32": float, "float64": float, "int64": int, "bool": lambda v: v == "1"}
    numpy_dtype = {"float32": np.float32, "float64": np.float64, "int64": np.int64,
                   "bool": np.bool_}
    while i < len(tokens):
        assert tokens[i] == "tensor", f"{path}: unexpected record {tokens[i]!r}"
        name, dtype, rank = tokens[i + 1], tokens[i + 2], int(tokens[i + 3])
        shape = [int(s) for s in tokens[i + 4:i + 4 + rank]]
        i += 4 + rank
        count = math.prod(shape)
        values = [parse[dtype](v) for v in tokens[i:i + count]]
        i += count
        tensors[name] = torch.from_numpy(np.array(values, dtype=numpy_dtype[dtype]).reshape(shape))
    return tensors


# ---- The two modes ----------------------------------------------------------------------------

def write_fixtures():
    torch.manual_seed(0)
    model = MLP()
    x = torch.randn(5, 3)
    with torch.no_grad():
        y = model(x)
        exact_y = copy.deepcopy(model).double()(float64_twin(x))  # the float64 answer
    state = model.state_dict()
    write_safetensors(MODEL_FILE, state, {"written_by": "tests/make_state_fixtures.py"})
    w = Writer()
    w.lines[1] = f"# written by tests/make_state_fixtures.py with torch {torch.__version__}"
    w.tensor("state/x", x)
    w.result("state/y", y, exact_y)
    for name, t in state.items():
        w.tensor(f"state/{name}", t)
    w.save(STATE_FILE)
    print(f"wrote {MODEL_FILE} ({os.path.getsize(MODEL_FILE)} bytes)")
    print(f"wrote {STATE_FILE} ({os.path.getsize(STATE_FILE)} bytes)")


def verify(path):
    tensors, metadata = read_safetensors(path)
    print(f"{path}: metadata {metadata}")
    expected = read_fixture_tensors(STATE_FILE)
    model = MLP()
    for name, t in model.state_dict().items():  # load_state_dict would convert dtypes silently
        assert name in tensors, f"{name} is missing"
        assert tensors[name].dtype == t.dtype, f"{name}: {tensors[name].dtype}, expected {t.dtype}"
    model.load_state_dict(tensors, strict=True)
    for name, t in model.state_dict().items():
        assert torch.equal(t, expected[f"state/{name}"]), f"{name} differs from state/{name}"
        print(f"  {name:12} {str(t.dtype):14} {str(list(t.shape)):8} equals state/{name}")
    with torch.no_grad():
        y = model(expected["state/x"])
    difference = (y - expected["state/y"]).abs().max().item()
    print(f"  output on state/x: max |y - state/y| = {difference}")
    assert torch.equal(y, expected["state/y"]), "the output differs from state/y"
    print("verified: PyTorch loads the file and reproduces the recorded output exactly")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--verify":
        verify(sys.argv[2])
    elif len(sys.argv) == 1:
        write_fixtures()
    else:
        sys.exit(f"usage: {sys.argv[0]} [--verify FILE]")


if __name__ == "__main__":
    main()
