"""arange, linspace and logspace value for value as torch computes them (its kernels round
vector bases to the dtype and fuse multiply-adds; the obvious formula in double differs from
torch's float32 results in most calls)."""
import numpy as np
import pytest
import torch

import ember
from half_oracle import REFERENCE_HOST

FLOATS = ["float32", "float64", "float16", "bfloat16"]


def _values(t):
    return t.float().numpy() if t.dtype in (torch.bfloat16, ember.bfloat16) else t.numpy()


def _same(fn, dtype):
    a = fn(torch, getattr(torch, dtype))
    b = fn(ember, getattr(ember, dtype))
    assert str(b.dtype).split(".")[-1] == dtype
    va, vb = _values(a), _values(b)
    assert va.shape == vb.shape
    if not REFERENCE_HOST:   # (other CPUs: torch's kernels may take other vector widths)
        np.testing.assert_allclose(vb, va, rtol=1e-2 if "16" in dtype else 1e-6, atol=1e-6)
        return
    bad = np.flatnonzero(~((va == vb) | (np.isnan(va) & np.isnan(vb))))
    assert bad.size == 0, f"{bad.size} values differ, first at {bad[0]}: {va[bad[0]]!r} vs " \
                          f"{vb[bad[0]]!r}"


def _draws(n, seed):
    rng = np.random.default_rng(seed)
    return [(float(rng.uniform(-5, 5)), float(rng.uniform(-5, 5)), int(rng.integers(2, 300)))
            for _ in range(n)]


@pytest.mark.parametrize("dtype", FLOATS)
def test_arange(dtype):
    for s, _, n in _draws(60, 0):
        step = float(np.random.default_rng(n).uniform(0.001, 0.3))
        _same(lambda t, dt: t.arange(s, s + step * n, step, dtype=dt), dtype)
    _same(lambda t, dt: t.arange(-2.5, 40.1, 0.1, dtype=dt), dtype)
    _same(lambda t, dt: t.arange(7, dtype=dt), dtype)


@pytest.mark.parametrize("dtype", FLOATS + ["int64", "int32", "int8"])
def test_linspace(dtype):
    for s, e, n in _draws(60, 1):
        if dtype == "int8":
            s, e = s * 20, e * 20
        _same(lambda t, dt: t.linspace(s, e, n, dtype=dt), dtype)
    _same(lambda t, dt: t.linspace(0, 1, 1, dtype=dt), dtype)


def test_linspace_default_dtype_and_edges():
    _same(lambda t, dt: t.linspace(-1.3, 2.7, 40), "float32")
    for args in ((0, float("inf"), 5), (float("-inf"), 1, 4), (1e308, -1e308, 5)):
        _same(lambda t, dt: t.linspace(*args, dtype=dt), "float64")


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int64"])
def test_logspace(dtype):
    for s, e, n in _draws(60, 2):
        if dtype == "int64":
            s, e = abs(s), abs(e)
        for base in (10.0, 2.0):
            _same(lambda t, dt: t.logspace(s / 2, e / 2, n, base=base, dtype=dt), dtype)


def test_logspace_float64_within_an_ulp():
    # torch's float64 power differs from C's pow by an ulp in some elements (a vectorized pow)
    for s, e, n in _draws(20, 3):
        a = torch.logspace(s / 2, e / 2, n, dtype=torch.float64).numpy()
        b = ember.logspace(s / 2, e / 2, n, dtype=ember.float64).numpy()
        np.testing.assert_allclose(b, a, rtol=3e-16, atol=0)


def test_complex_logspace_keeps_its_dtype():
    a = ember.logspace(0, 1 + 1j, 3, dtype=ember.complex64)
    assert a.dtype is ember.complex64
    np.testing.assert_allclose(a.numpy(), torch.logspace(0, 1 + 1j, 3,
                                                         dtype=torch.complex64).numpy(),
                               rtol=1e-6)
