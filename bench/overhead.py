"""Per-op overhead: microseconds per call on torch and ember, and the ratio ember/torch.

    python bench/overhead.py

Small tensors, so the time is the framework's own Python/C++ overhead, not arithmetic.
Target (issue #3): every ratio <= 1.0.
"""
import sys
import time

import numpy as np


def _time(fn, number):
    for _ in range(min(number // 10, 200)):
        fn()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best * 1e6


def cases(lib):
    x10 = lib.ones(10)
    g10 = lib.ones(10, requires_grad=True)
    x1000 = lib.ones(1000)
    y1000 = lib.ones(1000)
    x12 = lib.ones(12)
    x5 = lib.ones(5, 4)

    def chain():
        h = lib.ones(10, requires_grad=True)
        y = h
        for _ in range(100):
            y = y * 1.0001
        y.sum().backward()

    return {
        "add 10 elems": (lambda: x10 + x10, 100000),
        "add 10 elems, requires_grad": (lambda: g10 + g10, 100000),
        "mul 1000 elems": (lambda: x1000 * y1000, 100000),
        "100-op chain fwd+bwd": (chain, 300),
        "x.view(3, 4)": (lambda: x12.view(3, 4), 100000),
        "x[1:3]": (lambda: x5[1:3], 100000),
    }


def main():
    import torch
    import ember
    torch.set_num_threads(1) if "--one-thread" in sys.argv else None
    t_cases, e_cases = cases(torch), cases(ember)
    print(f"{'op':32s} {'torch us':>10s} {'ember us':>10s} {'ratio':>7s}")
    for name in t_cases:
        fn_t, n = t_cases[name]
        fn_e, _ = e_cases[name]
        # alternate the libraries over rounds and keep each one's best, so that a change in
        # the machine's load during the run hits both alike
        tt = te = float("inf")
        for _ in range(3):
            tt, te = min(tt, _time(fn_t, n)), min(te, _time(fn_e, n))
        print(f"{name:32s} {tt:10.2f} {te:10.2f} {te / tt:7.2f}")


if __name__ == "__main__":
    main()
