#!/usr/bin/python3
"""Writes tests/fixtures/packing.txt: PyTorch's answers for tests/test_packing.cpp.

Run it from the repository root with Debian's PyTorch 1.13 (the default python3 has no torch):

    /usr/bin/python3 tests/make_packing_fixtures.py

The file format (version 1) and its writer are those of tests/make_fixtures.py, which documents
them; tests/fixtures.h reads it. The output is deterministic (torch.manual_seed(0)) and
committed. Flags are stored as 0-d int64 tensors (1 for True), lists of sequences as
seq0, seq1, ... with their number in `count`. The groups:

    pack_padded/CASE    x, lengths, batch_first, enforce_sorted
                        -> data, batch_sizes, sorted_indices and unsorted_indices (only where
                           PyTorch has them, i.e. enforce_sorted = 0),
                           padded, padded_lengths        pad_packed_sequence(p, batch_first)
                           total_length, padding_value,  pad_packed_sequence(p, batch_first,
                           padded_total                    padding_value, total_length)
                           upstream -> grad_x            gradient of (data * upstream).sum()
                                                         (floating-point x only)
    pad_sequence/CASE   count, seq0..., batch_first, padding_value -> padded
    pack_sequence/CASE  count, seq0..., enforce_sorted -> data, batch_sizes, and the indices
                        as above

The cases with 30 and 100 sequences of few distinct lengths pin the order PyTorch's unstable
sort leaves ties in (with 16 sequences or fewer, std::sort is an insertion sort, stable).
"""

import os

import torch
from torch.nn.utils import rnn

from make_fixtures import Writer, scalar

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "packing.txt")
f64 = torch.float64


def write_indices(w, case, packed):
    if packed.sorted_indices is not None:
        w.tensor(f"{case}/sorted_indices", packed.sorted_indices)
        w.tensor(f"{case}/unsorted_indices", packed.unsorted_indices)


def write_pack_padded(w):
    # (name, x, lengths, batch_first, enforce_sorted); x is (T, B, *) or (B, T, *).
    many_ties_sorted, _ = torch.sort(torch.randint(1, 5, (30,)), descending=True)
    cases = [
        ("time_sorted", torch.randn(5, 3, 2, dtype=f64), [5, 3, 1], False, True),
        ("time_sorted_ties", torch.randn(4, 4, 3, dtype=f64), [4, 2, 2, 1], False, True),
        ("batch_first_unsorted_ties", torch.randn(4, 6, 2, 3, dtype=f64), [3, 6, 3, 1], True,
         False),
        ("time_unsorted_rank2", torch.randn(5, 3, 2, 3, dtype=f64), [2, 5, 4], False, False),
        ("sorted_with_enforce_false", torch.randn(4, 3, 2, dtype=f64), [4, 4, 2], False, False),
        ("input_longer_than_lengths", torch.randn(7, 3, 2, dtype=f64), [4, 2, 1], False, True),
        ("ties_30_sorted_enforce_false", torch.randn(4, 30, dtype=f64),
         many_ties_sorted.tolist(), False, False),
        ("ties_100_batch_first", torch.randn(100, 3, 2, dtype=f64),
         torch.randint(1, 4, (100,)).tolist(), True, False),
        ("float32_batch_first", torch.randn(2, 3, 2), [2, 3], True, False),
        ("int64_labels", torch.randint(0, 10, (3, 2)), [3, 1], False, True),
    ]
    for name, x, lengths, batch_first, enforce_sorted in cases:
        case = f"pack_padded/{name}"
        x = x.clone().requires_grad_(x.dtype.is_floating_point)
        packed = rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
        w.tensor(f"{case}/x", x)
        w.tensor(f"{case}/lengths", torch.tensor(lengths))
        w.tensor(f"{case}/batch_first", scalar(int(batch_first)))
        w.tensor(f"{case}/enforce_sorted", scalar(int(enforce_sorted)))
        w.tensor(f"{case}/data", packed.data)
        w.tensor(f"{case}/batch_sizes", packed.batch_sizes)
        write_indices(w, case, packed)
        padded, padded_lengths = rnn.pad_packed_sequence(packed, batch_first)
        w.tensor(f"{case}/padded", padded)
        w.tensor(f"{case}/padded_lengths", padded_lengths)
        total_length = x.size(1 if batch_first else 0) + 2
        padding_value = -1.5
        padded_total, _ = rnn.pad_packed_sequence(packed, batch_first, padding_value, total_length)
        w.tensor(f"{case}/total_length", scalar(total_length))
        w.tensor(f"{case}/padding_value", scalar(padding_value, f64))
        w.tensor(f"{case}/padded_total", padded_total)
        if x.dtype.is_floating_point:
            upstream = torch.randn(packed.data.shape, dtype=x.dtype)
            (packed.data * upstream).sum().backward()
            w.tensor(f"{case}/upstream", upstream)
            w.tensor(f"{case}/grad_x", x.grad)


def write_sequences(w, case, sequences):
    w.tensor(f"{case}/count", scalar(len(sequences)))
    for i, s in enumerate(sequences):
        w.tensor(f"{case}/seq{i}", s)


def write_pad_sequence(w):
    # (name, lengths, trailing dimensions, batch_first, padding_value)
    cases = [
        ("time_major", [3, 1, 4], (2,), False, 0.0),
        ("batch_first_rank2_empty_sequence", [2, 0, 3], (2, 3), True, -1.5),
        ("no_features", [4, 2], (), False, 7.0),
    ]
    for name, lengths, trailing, batch_first, padding_value in cases:
        case = f"pad_sequence/{name}"
        sequences = [torch.randn(length, *trailing, dtype=f64) for length in lengths]
        write_sequences(w, case, sequences)
        w.tensor(f"{case}/batch_first", scalar(int(batch_first)))
        w.tensor(f"{case}/padding_value", scalar(padding_value, f64))
        w.tensor(f"{case}/padded", rnn.pad_sequence(sequences, batch_first, padding_value))


def write_pack_sequence(w):
    # (name, lengths, trailing dimensions, enforce_sorted)
    cases = [
        ("sorted", [3, 2, 1], (), True),
        ("unsorted_rank2", [2, 4, 1, 4], (2, 3), False),
    ]
    for name, lengths, trailing, enforce_sorted in cases:
        case = f"pack_sequence/{name}"
        sequences = [torch.randn(length, *trailing, dtype=f64) for length in lengths]
        write_sequences(w, case, sequences)
        w.tensor(f"{case}/enforce_sorted", scalar(int(enforce_sorted)))
        packed = rnn.pack_sequence(sequences, enforce_sorted)
        w.tensor(f"{case}/data", packed.data)
        w.tensor(f"{case}/batch_sizes", packed.batch_sizes)
        write_indices(w, case, packed)


def main():
    torch.manual_seed(0)
    w = Writer()
    w.lines[1] = f"# written by tests/make_packing_fixtures.py with torch {torch.__version__}"
    write_pack_padded(w)
    write_pad_sequence(w)
    write_pack_sequence(w)
    w.save(OUTPUT)
    print(f"wrote {OUTPUT} ({os.path.getsize(OUTPUT)} bytes)")


if __name__ == "__main__":
    main()
