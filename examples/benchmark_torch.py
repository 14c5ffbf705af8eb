"""PyTorch's side of the benchmark: the training step of examples/benchmark.cpp, at one shape.

benchmark.cpp runs this script under Debian's /usr/bin/python3 (the one with torch), once per
shape and as a process of its own, so that the process's peak memory belongs to that shape; it
reads the one JSON line this prints:

    /usr/bin/python3 examples/benchmark_torch.py --shape S3 --steps 10 --warmup 2
    {"shape": "S3", "ms": 347.1}
    /usr/bin/python3 examples/benchmark_torch.py --info
    {"torch": "1.13.0a0", "threads": 1}

The step is benchmark.cpp's, written in PyTorch: x (B, T, I) float32 from N(0, 1) with a fixed
seed, requiring grad; at S4, x packed with pack_padded_sequence(enforce_sorted=False) inside the
step; forward through nn.GRU or nn.RNN (bias, batch_first); loss mean(output²) + mean(h_n²), on
the packed output's data at S4; backward to every parameter and to x; every gradient cleared
(set to None). The reported time is the median of the timed steps after the warm-up steps.
PyTorch's thread settings are left at its defaults.
"""
import argparse
import json
import statistics
import sys
import time

try:
    import torch
except ImportError:
    sys.exit(f"benchmark_torch.py: {sys.executable} cannot import torch")

# The shapes of benchmark.cpp (keep the two tables equal):
# name: (GRU, else RNN tanh; L layers; I = H; T steps; B batch; packed).
SHAPES = {
    "S1": (True, 1, 128, 50, 32, False),
    "S2": (False, 2, 256, 100, 64, False),
    "S3": (True, 2, 256, 100, 64, False),
    "S4": (True, 2, 256, 100, 64, True),
    "S5": (True, 1, 512, 100, 64, False),
    "S6": (True, 1, 512, 25, 16, False),
}


def lengths(T, B, packed):
    """Dense: T each. Packed: lengths[0] = T, lengths[i] = 30 + (37·i mod (T − 30)), unsorted."""
    if not packed:
        return [T] * B
    return [T] + [30 + (37 * i) % (T - 30) for i in range(1, B)]


def median_ms(step, warmup, steps):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def measure(name, steps, warmup):
    gru, L, size, T, B, packed = SHAPES[name]
    torch.manual_seed(0)
    layer = torch.nn.GRU if gru else torch.nn.RNN
    model = layer(size, size, num_layers=L, bias=True, batch_first=True)
    x = torch.randn(B, T, size, requires_grad=True)  # (B, T, I)
    lens = lengths(T, B, packed)

    def step():
        if packed:
            sequence = torch.nn.utils.rnn.pack_padded_sequence(
                x, lens, batch_first=True, enforce_sorted=False)
            output, h_n = model(sequence)  # data (N, H), (L, B, H)
            loss = output.data.pow(2).mean() + h_n.pow(2).mean()
        else:
            output, h_n = model(x)  # (B, T, H), (L, B, H)
            loss = output.pow(2).mean() + h_n.pow(2).mean()
        loss.backward()
        model.zero_grad(set_to_none=True)
        x.grad = None

    return median_ms(step, warmup, steps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--info", action="store_true",
                        help="print torch's version and thread count, measure nothing")
    args = parser.parse_args()
    if args.info:
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}))
    elif args.shape is None:
        parser.error("give --shape or --info")
    elif args.steps < 1 or args.warmup < 0:
        parser.error("--steps must be at least 1 and --warmup at least 0")
    else:
        ms = measure(args.shape, args.steps, args.warmup)
        print(json.dumps({"shape": args.shape, "ms": ms}))


if __name__ == "__main__":
    main()
