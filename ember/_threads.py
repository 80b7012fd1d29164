"""A second thread for big NumPy/SciPy work: torch's kernels split a tensor over its intra-op
threads; ember does the same, two ways, where it pays.

NumPy's ufuncs, copies and BLAS calls (and SciPy's special-function ufuncs) release the GIL,
so two halves of one job run on two cores. Handing a half to the helper thread and waiting
for it costs tens of microseconds, so callers only split work above a size they measured.
`ember.set_num_threads(1)` turns splitting off.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["num_threads", "set_num_threads", "helper", "two_way", "elementwise",
           "blas_num_threads", "set_blas_num_threads"]

_num_threads = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else (os.cpu_count() or 1))
_pool = None


def num_threads():
    return _num_threads


def set_num_threads(n):
    """Threads for intra-op work: ember's own splitting and OpenBLAS's GEMMs (as torch's
    count covers all of its kernels)."""
    global _num_threads
    _num_threads = n
    set_blas_num_threads(n)


def helper():
    """The one persistent helper thread (an executor), started on first use."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(1, thread_name_prefix="ember-intra-op")
    return _pool


def _forget_helper():
    """A forked child (e.g. Hogwild-style training processes) has no helper thread: start
    anew rather than wait on the parent's."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helper)


# --- OpenBLAS's own threads ---------------------------------------------------------------------
# OpenBLAS splits each large GEMM over its own threads, as many as it found cores at start-up.
# `set_num_threads` sets that count too, so that `ember.set_num_threads(1)` keeps every kernel
# on one thread, as torch's does. NumPy (and SciPy, with a copy of its own) load OpenBLAS under
# one of a few symbol prefixes; each copy is found among the process's loaded libraries, when
# first asked for. With another BLAS (MKL, Accelerate) nothing is changed. (Dropping OpenBLAS
# to one thread only while two_way runs two halves made those halves 15% faster, but the next
# threaded GEMM then waited ~1-2 ms for OpenBLAS's sleeping threads: a training step got
# slower.)

_BLAS_SYMBOLS = (("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
                 ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
                 ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
                 ("openblas_set_num_threads", "openblas_get_num_threads"))


def _blas_controls():
    """[(set_num_threads, get_num_threads)] of each OpenBLAS loaded, NumPy's first."""
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:   # (not Linux)
        return []
    found = []
    for path in sorted(paths, key=lambda p: "numpy" not in p):
        try:
            lib = ctypes.CDLL(path)   # (the library already loaded: no second copy)
        except OSError:
            continue
        for set_name, get_name in _BLAS_SYMBOLS:
            setter, getter = getattr(lib, set_name, None), getattr(lib, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                found.append((setter, getter))
                break
    return found


def blas_num_threads():
    """How many threads NumPy's OpenBLAS gives a GEMM (None if it uses another BLAS)."""
    controls = _blas_controls()
    return controls[0][1]() if controls else None


def set_blas_num_threads(n):
    """Sets the thread count of every OpenBLAS loaded (NumPy's, SciPy's)."""
    for setter, _ in _blas_controls():
        setter(n)


def two_way(fn, n, work, min_work):
    """[fn(0, n)], or [fn(0, h), fn(h, n)] with the second half run on the helper thread when
    `work` (the caller's measure of the job's size) reaches `min_work` and two threads are
    allowed. Returns the results in order; an error in either half is raised here."""
    if n < 2 or work < min_work or _num_threads < 2:
        return [fn(0, n)]
    h = n // 2
    second = helper().submit(fn, h, n)
    try:
        first = fn(0, h)
    finally:
        rest = second.result()
    return [first, rest]


_ELEMENTWISE_MIN = 1 << 21   # measured: two threads win on a 4M-element add, break even at ~1M


def elementwise(fn, a, b):
    """fn(a, b) for a binary ufunc whose result has a's dtype: a large C-contiguous `a` (with
    `b` a scalar or an array of a's shape and layout) is done in two halves on two threads,
    which also spreads the page faults of the fresh result over both cores."""
    if (a.size < _ELEMENTWISE_MIN or _num_threads < 2 or not a.flags.c_contiguous
            or (hasattr(b, "shape") and (b.shape != a.shape or not b.flags.c_contiguous))):
        return fn(a, b)
    out = np.empty(a.shape, a.dtype)
    fa, fo = a.reshape(-1), out.reshape(-1)
    fb = b.reshape(-1) if hasattr(b, "shape") else b
    if hasattr(b, "shape"):
        two_way(lambda lo, hi: fn(fa[lo:hi], fb[lo:hi], out=fo[lo:hi]), fa.size, fa.size, 0)
    else:
        two_way(lambda lo, hi: fn(fa[lo:hi], fb, out=fo[lo:hi]), fa.size, fa.size, 0)
    return out
