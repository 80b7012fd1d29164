"""Op throughput: ms per call on torch and ember in one process, and the ratio ember/torch.

    python bench/ops.py [--quick] [--repeat N] [NAME-SUBSTRING ...]

Only workloads whose name contains one of the substrings run (all when none is given). With
--repeat N each workload is measured N times (torch and ember alternating) and the median ratio
is reported: the machine is shared, so single measurements are noisy.

Targets (issue #4): matmul 1024^2 <= 1.0; elementwise on 4M floats <= 1.5; reductions over each
dim of 1024^2 <= 1.5; fancy indexing and scatter_add on 1M elements <= 2.0; softmax-like chains
with backward <= 1.5.
"""
import sys
import time

import numpy as np

QUICK = "--quick" in sys.argv
REPEAT = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 1
_skip = {sys.argv.index("--repeat") + 1} if "--repeat" in sys.argv else set()
FILTERS = [a for i, a in enumerate(sys.argv[1:], 1) if not a.startswith("--") and i not in _skip]


def _time(fn, min_time=0.2 if not QUICK else 0.05):
    fn()
    n, total = 0, 0.0
    best = float("inf")
    while total < min_time or n < 3:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best = min(best, dt)
        total += dt
        n += 1
    return best * 1e3


def workloads(lib, arrays):
    a, b = lib.from_numpy(arrays["a"]), lib.from_numpy(arrays["b"])
    ba, bb = lib.from_numpy(arrays["ba"]), lib.from_numpy(arrays["bb"])
    x, y = lib.from_numpy(arrays["x"]), lib.from_numpy(arrays["y"])
    idx = lib.from_numpy(arrays["idx"])
    small_idx = lib.from_numpy(arrays["idx"] % (1 << 16))
    src = lib.from_numpy(arrays["src"])
    logits = lib.from_numpy(arrays["logits"]).requires_grad_()

    def softmax_chain():
        z = logits - logits.amax(dim=1, keepdim=True) if hasattr(lib, "amax") else logits
        e = z.exp()
        p = e / e.sum(dim=1, keepdim=True)
        loss = -(p.log() * 0.01).sum()
        loss.backward()
        logits.grad = None

    w = {
        "matmul 1024x1024 f32": lambda: a @ b,
        "bmm 64x128x128 f32": lambda: ba @ bb,
        "add 4M f32": lambda: x + y,
        "mul 4M f32": lambda: x * y,
        "exp 4M f32": lambda: x.exp(),
        "sum dim0 1024^2": lambda: a.sum(0),
        "sum dim1 1024^2": lambda: a.sum(1),
        "mean dim0 1024^2": lambda: a.mean(0),
        "mean dim1 1024^2": lambda: a.mean(1),
        "fancy index 1M": lambda: x[idx],
        "scatter_add 1M": lambda: lib.zeros(1 << 16).scatter_add(0, small_idx, src),
        "softmax chain fwd+bwd 256x1000": softmax_chain,
    }
    if hasattr(lib, "amax"):
        w["max dim0 1024^2"] = lambda: a.amax(0)
        w["max dim1 1024^2"] = lambda: a.amax(1)
    return w


def main():
    import torch
    import ember
    rng = np.random.default_rng(0)
    arrays = {
        "a": rng.standard_normal((1024, 1024), dtype=np.float32),
        "b": rng.standard_normal((1024, 1024), dtype=np.float32),
        "ba": rng.standard_normal((64, 128, 128), dtype=np.float32),
        "bb": rng.standard_normal((64, 128, 128), dtype=np.float32),
        "x": rng.standard_normal(1 << 22, dtype=np.float32),
        "y": rng.standard_normal(1 << 22, dtype=np.float32),
        "idx": rng.integers(0, 1 << 22, size=1 << 20),
        "src": rng.standard_normal(1 << 20, dtype=np.float32),
        "logits": rng.standard_normal((256, 1000), dtype=np.float32),
    }
    t_w, e_w = workloads(torch, arrays), workloads(ember, arrays)
    print(f"{'workload':34s} {'torch ms':>9s} {'ember ms':>9s} {'ratio':>6s}")
    for name, fn in e_w.items():
        if FILTERS and not any(f in name for f in FILTERS):
            continue
        runs = sorted(((te / tt, tt, te) for tt, te in
                       ((_time(t_w[name]), _time(fn)) for _ in range(REPEAT))))
        ratio, tt, te = runs[len(runs) // 2]
        print(f"{name:34s} {tt:9.3f} {te:9.3f} {ratio:6.2f}")


if __name__ == "__main__":
    main()
