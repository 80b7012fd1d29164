"""Bit-level comparison of float16/bfloat16 results with torch's.

torch's CPU kernels compute the half types in float32 ("opmath": numbers such as a slope or
an alpha are taken as float32, not rounded to the half type) and round once, at the end of
each kernel. `oracle.check`'s tolerances (1e-2) hide a kernel that rounds in between; these
helpers count the elements that differ and how far apart they are, in units in the last
place of the half type.

    compare(lambda t, x: t.nn.functional.silu(x), "float16")
"""
import numpy as np
import torch

import ember

HALF_DTYPES = ("float16", "bfloat16")


def _reference_host():
    """Whether this machine is the kind the bit-for-bit claims were measured on: an x86-64
    CPU with AVX512 (BF16 included: torch's oneDNN takes some bfloat16 ops there) and torch
    running 2 threads (it splits large reductions per thread)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return (torch.backends.cpu.get_cpu_capability() == "AVX512" and " avx512_bf16" in flags
            and torch.get_num_threads() == 2)


# Elsewhere torch's kernels may take other vector widths, thread splits or oneDNN paths, and
# its results move by an ulp here and there: `compare` then allows up to 4 ulp in up to a
# tenth of the elements, which still catches a kernel that rounds in the wrong places.
REFERENCE_HOST = _reference_host()


def sample(n=4096, seed=0, scale=3.0):
    """float32 normals (scaled) from which both libraries' half inputs are cast."""
    return (np.random.default_rng(seed).standard_normal(n) * scale).astype(np.float32)


def to_lib(lib, array, dtype):
    return lib.from_numpy(np.array(array, order="C")).to(getattr(lib, dtype))   # (0-d kept)


def ulps(a, b, dtype):
    """Per-element distance between two half-type value arrays (given as float32) in units
    in the last place: NaNs of both count 0, a NaN of one alone counts a huge distance."""
    if dtype == "float16":
        ia = a.astype(np.float16).view(np.int16).astype(np.int64)
        ib = b.astype(np.float16).view(np.int16).astype(np.int64)
    else:   # bfloat16 is the top half of a float32
        ia = (a.astype(np.float32).view(np.int32) >> 16).astype(np.int64)
        ib = (b.astype(np.float32).view(np.int32) >> 16).astype(np.int64)
    # sign-magnitude to a monotonic integer line
    ia = np.where(ia < 0, -(ia & 0x7FFF), ia)
    ib = np.where(ib < 0, -(ib & 0x7FFF), ib)
    d = np.abs(ia - ib)
    both_nan = np.isnan(a) & np.isnan(b)
    one_nan = np.isnan(a) ^ np.isnan(b)
    return np.where(both_nan, 0, np.where(one_nan, 1 << 20, d))


def _as_f32(t):
    """A tensor's values as a flat float32 array (an absent gradient: an empty one)."""
    return np.zeros(0, np.float32) if t is None else t.detach().float().numpy().ravel()


def compare(fn, dtype, inputs=None, max_ulp=0, max_count=0, grad=False):
    """Run fn(lib, *inputs) on both libraries with inputs cast to `dtype` (inputs: float32
    arrays, default one `sample()`), and assert that at most `max_count` elements differ and
    none by more than `max_ulp` units. With grad=True the same upstream gradient is
    back-propagated and the input gradients are held to the same bounds."""
    inputs = [sample()] if inputs is None else inputs
    outs = {}
    for lib in (torch, ember):
        xs = [to_lib(lib, a, dtype).requires_grad_(grad) for a in inputs]
        y = fn(lib, *xs)
        assert str(y.dtype).split(".")[-1] == dtype, f"{lib.__name__}: dtype {y.dtype}"
        got = [_as_f32(y)]
        if grad:
            g = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)
            y.backward(to_lib(lib, g, dtype))
            got += [_as_f32(x.grad) for x in xs]
        outs[lib] = got
    for i, (a, b) in enumerate(zip(outs[torch], outs[ember])):
        what = "output" if i == 0 else f"gradient of input {i - 1}"
        assert_same_values(a, b, dtype, max_ulp, max_count, what)


def assert_same_values(a, b, dtype, max_ulp=0, max_count=0, what="values"):
    """torch's values a and ember's b (float32 arrays of half-type values) differ in at most
    max_count elements, by at most max_ulp ulp each (off the reference host: see above)."""
    a, b = np.asarray(a, np.float32).ravel(), np.asarray(b, np.float32).ravel()
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    d = ulps(a, b, dtype)
    if not REFERENCE_HOST:
        max_count, max_ulp = max(max_count, d.size // 10), max(max_ulp, 4)
    bad = np.flatnonzero(d > 0)
    worst = int(d.max()) if d.size else 0
    assert len(bad) <= max_count and worst <= (max_ulp if max_count else 0), (
        f"{what}: {len(bad)} of {d.size} elements differ (allowed {max_count}), worst "
        f"{worst} ulp (allowed {max_ulp}); first at {bad[:1]}: torch {a[bad[:1]]} "
        f"ember {b[bad[:1]]}")
