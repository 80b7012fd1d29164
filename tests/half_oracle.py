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


def sample(n=4096, seed=0, scale=3.0):
    """float32 normals (scaled) from which both libraries' half inputs are cast."""
    return (np.random.default_rng(seed).standard_normal(n) * scale).astype(np.float32)


def to_lib(lib, array, dtype):
    return lib.from_numpy(np.ascontiguousarray(array)).to(getattr(lib, dtype))


def ulps(a, b, dtype):
    """Per-element distance between two half-type value arrays (given as float32) in units
    in the last place: NaNs of both count 0, a NaN of one alone counts a huge distance."""
    fmt = np.float16 if dtype == "float16" else np.int16
    if dtype == "float16":
        ia = a.astype(np.float16).view(np.int16).astype(np.int64)
        ib = b.astype(np.float16).view(np.int16).astype(np.int64)
    else:   # bfloat16 is the top half of a float32
        ia = (a.astype(np.float32).view(np.int32) >> 16).astype(np.int64)
        ib = (b.astype(np.float32).view(np.int32) >> 16).astype(np.int64)
    del fmt
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
        assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
        d = ulps(a, b, dtype)
        bad = np.flatnonzero(d > 0)
        worst = int(d.max()) if d.size else 0
        assert len(bad) <= max_count and worst <= (max_ulp if max_count else 0), (
            f"{what}: {len(bad)} of {d.size} elements differ (allowed {max_count}), worst "
            f"{worst} ulp (allowed {max_ulp}); first at {bad[:1]}: torch {a[bad[:1]]} "
            f"ember {b[bad[:1]]}")
