"""Optimizer step time: one step of Adam, AdamW and SGD-momentum over 100 parameters of 100k
float32 each, torch vs ember, and the ratio ember/torch (target <= 1.0).

    python bench/optim.py [--one-thread]

Both run their plain per-parameter loop (torch's default on CPU, foreach off). The machine
may be shared: torch and ember take turns over several rounds and each keeps its best round, so
that load from other processes hits both alike.
"""
import time

import numpy as np


def _time(fns, number=20, rounds=5):
    """Best ms per call of each function in `fns`, taking turns round by round."""
    for fn in fns:   # warm up (first-step state allocation, caches)
        fn()
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t0) / number)
    return [b * 1e3 for b in best]


def _setup(lib, name, kw, arrays):
    ps = [lib.nn.Parameter(lib.tensor(a)) for a in arrays]
    for p, a in zip(ps, arrays):
        p.grad = lib.tensor(a * 0.01)
    opt = getattr(lib.optim, name)(ps, **kw)
    return opt.step


def main():
    import sys
    import torch
    import ember
    if "--one-thread" in sys.argv:   # both on one core (ember's big steps use two threads)
        torch.set_num_threads(1)
        ember.set_num_threads(1)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(100_000).astype(np.float32) for _ in range(100)]
    cases = [("Adam", "Adam", dict(lr=1e-3, foreach=False)),
             ("AdamW", "AdamW", dict(lr=1e-3, foreach=False)),
             ("SGD momentum=0.9", "SGD", dict(lr=1e-3, momentum=0.9, foreach=False))]
    print(f"threads: torch {torch.get_num_threads()}, ember {ember.get_num_threads()}")
    print(f"{'optimizer step (100 x 100k f32)':34s} {'torch ms':>9s} {'ember ms':>9s} "
          f"{'ratio':>6s}")
    for label, name, kw in cases:
        tt, te = _time([_setup(torch, name, kw, arrays), _setup(ember, name, kw, arrays)])
        print(f"{label:34s} {tt:9.2f} {te:9.2f} {te / tt:6.2f}")


if __name__ == "__main__":
    main()
