"""Save/load speed and peak memory, ember vs torch, in one process.

    python bench/serialization.py [--quick]

Two checkpoints: 100 float32 tensors of 1M elements (400 MB) and 10,000 small tensors. For each:
save time, load time, ember/torch ratio (target <= 1.0), and the peak resident memory added
during load (VmHWM after resetting it through /proc/self/clear_refs) as a multiple of the data
size (target <= 1.1; with mmap=True about 0).
"""
import collections
import gc
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import torch  # noqa: E402  (the oracle, imported first so its start-up is not timed)

import ember  # noqa: E402
import ember.serialization  # noqa: E402,F401


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def _peak_during(fn):
    """(result, seconds, peak bytes above the resident size before fn)."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = _status("VmRSS:")
    t0 = time.perf_counter()
    result = fn()
    dt = time.perf_counter() - t0
    return result, dt, max(0, _status("VmHWM:") - before)


def _best_pair(torch_fn, ember_fn, repeat):
    """Best-of-`repeat` seconds of each, the two runs alternating so that load from other
    processes on a shared machine (and the page cache's state) affects both alike."""
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for i, fn in enumerate((torch_fn, ember_fn)):
            gc.collect()
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def bench(label, n, numel, folder, repeat):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(numel, dtype=np.float32) for _ in range(n)]
    sd_t = collections.OrderedDict((f"layer{i}.weight", torch.from_numpy(a))
                                   for i, a in enumerate(arrays))
    sd_e = collections.OrderedDict((f"layer{i}.weight", ember.from_numpy(a))
                                   for i, a in enumerate(arrays))
    data_bytes = n * numel * 4
    pt, pe = os.path.join(folder, "t.pt"), os.path.join(folder, "e.pt")
    rows = []
    ts, es = _best_pair(lambda: torch.save(sd_t, pt), lambda: ember.save(sd_e, pe), repeat)
    rows.append((f"{label}: save", ts, es, None, None))
    tl, el = _best_pair(lambda: torch.load(pt, weights_only=True), lambda: ember.load(pe),
                        repeat)
    _, _, tpeak = _peak_during(lambda: torch.load(pt, weights_only=True))
    got, _, epeak = _peak_during(lambda: ember.load(pe))
    assert np.array_equal(got["layer0.weight"]._data, arrays[0])
    del got
    rows.append((f"{label}: load", tl, el, tpeak / data_bytes, epeak / data_bytes))
    tm, em = _best_pair(lambda: torch.load(pt, weights_only=True, mmap=True),
                        lambda: ember.load(pe, mmap=True), repeat)
    _, _, tpeak = _peak_during(lambda: torch.load(pt, weights_only=True, mmap=True))
    _, _, epeak = _peak_during(lambda: ember.load(pe, mmap=True))
    rows.append((f"{label}: load mmap", tm, em, tpeak / data_bytes, epeak / data_bytes))
    # cross-check: each library reads the other's file
    assert torch.equal(torch.load(pe)["layer1.weight"], sd_t["layer1.weight"])
    assert np.array_equal(ember.load(pt)["layer1.weight"]._data, arrays[1])
    return rows


def main():
    quick = "--quick" in sys.argv
    repeat = 1 if quick else 5
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as folder:
        rows = bench("100 x 1M float32 (400 MB)" if not quick else "10 x 1M float32",
                     10 if quick else 100, 1_000_000, folder, repeat)
        rows += bench("10,000 small tensors", 10_000, 16, folder, repeat)
    print(f"| case | torch s | ember s | ember/torch | peak/data torch | peak/data ember |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, t, e, tp, ep in rows:
        peaks = (f"{tp:.2f} | {ep:.2f}" if tp is not None else "- | -")
        print(f"| {name} | {t:.3f} | {e:.3f} | {e / t:.2f} | {peaks} |")


if __name__ == "__main__":
    main()
