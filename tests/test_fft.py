"""Differential tests of ember.fft against torch.fft: values, dtypes, n/s/dim/norm handling,
gradients (including the Hermitian weighting of rfft/irfft and hfftn), out= kinds, errors."""
import numpy as np
import pytest
import torch

import ember
from oracle import check, check_raises

NORMS = (None, "backward", "ortho", "forward")


@pytest.mark.parametrize("dt", ("float32", "float64", "complex64", "complex128"))
@pytest.mark.parametrize("norm", NORMS)
def test_fft_ifft(dt, norm):
    check(lambda t, x: t.fft.fft(x, norm=norm), [(3, 8)], dt)
    check(lambda t, x: t.fft.ifft(x, norm=norm), [(3, 8)], dt)
    check(lambda t, x: t.fft.fft(x, n=5, dim=0, norm=norm), [(3, 4)], dt)
    check(lambda t, x: t.fft.ifft(x.mT, n=6, norm=norm), [(3, 4)], dt)


@pytest.mark.parametrize("dt", ("float32", "float64"))
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n", (None, 5, 6, 12))
def test_rfft_irfft(dt, norm, n):
    check(lambda t, x: t.fft.rfft(x, n=n, norm=norm), [(2, 8)], dt)
    check(lambda t, x: t.fft.irfft(x, n=n, norm=norm), [(2, 5)], "complex64" if dt ==
          "float32" else "complex128")
    check(lambda t, x: t.fft.irfft(x, n=n, dim=0, norm=norm), [(5, 2)], dt)
    check(lambda t, x: t.fft.hfft(x, n=n, norm=norm), [(2, 5)], "complex128")
    check(lambda t, x: t.fft.ihfft(x, n=n, norm=norm), [(2, 8)], dt)


@pytest.mark.parametrize("norm", NORMS)
def test_nd(norm):
    check(lambda t, x: t.fft.fft2(x, norm=norm), [(2, 3, 4)], "complex64")
    check(lambda t, x: t.fft.ifft2(x, s=(4, 2), norm=norm), [(2, 3, 4)], "float64")
    check(lambda t, x: t.fft.fftn(x, norm=norm), [(2, 3, 4)], "complex128")
    check(lambda t, x: t.fft.ifftn(x, s=(3, -1), dim=(0, 2), norm=norm), [(2, 3, 4)],
          "complex128")
    check(lambda t, x: t.fft.fftn(x, s=(5, 3)), [(2, 3, 4)], "float32")
    check(lambda t, x: t.fft.rfft2(x, norm=norm), [(2, 3, 4)], "float32")
    check(lambda t, x: t.fft.rfftn(x, s=(4, 6), norm=norm), [(2, 3, 4)], "float64")
    check(lambda t, x: t.fft.rfftn(x, dim=(2, 0), norm=norm), [(2, 3, 4)], "float64")
    check(lambda t, x: t.fft.irfft2(x, norm=norm), [(2, 3, 4)], "complex64")
    check(lambda t, x: t.fft.irfftn(x, s=(4, 7), norm=norm), [(2, 3, 4)], "complex128")
    check(lambda t, x: t.fft.irfftn(x, dim=(0, 1), norm=norm), [(3, 4, 2)], "complex128")


@pytest.mark.parametrize("norm", NORMS)
def test_hfftn_ihfftn(norm):
    check(lambda t, x: t.fft.hfft2(x, norm=norm), [(2, 3, 4)], "complex128")
    check(lambda t, x: t.fft.hfftn(x, norm=norm), [(2, 3, 4)], "complex64")
    check(lambda t, x: t.fft.hfftn(x, s=(3, 7), norm=norm), [(2, 3, 4)], "complex128")
    check(lambda t, x: t.fft.hfftn(x, s=(-1, 6), dim=(2, 0), norm=norm), [(4, 3, 5)],
          "complex128")
    check(lambda t, x: t.fft.hfftn(x, s=(5,), norm=norm), [(2, 3, 4)], "complex128")
    check(lambda t, x: t.fft.hfft2(x.mT, s=(4, 4), norm=norm), [(2, 3, 4)], "float64")
    check(lambda t, x: t.fft.ihfft2(x, norm=norm), [(2, 3, 4)], "float32")
    check(lambda t, x: t.fft.ihfftn(x, norm=norm), [(2, 3, 5)], "float64")
    check(lambda t, x: t.fft.ihfftn(x, s=(4, 7), norm=norm), [(2, 3, 5)], "float64")
    check(lambda t, x: t.fft.ihfftn(x, dim=(2, 0), norm=norm), [(2, 3, 5)], "float64")
    check(lambda t, x: t.fft.ihfft2(x, s=(-1, 3), dim=(0, 1), norm=norm), [(2, 6, 5)],
          "float32")


def test_hfftn_ihfftn_dtypes_and_inverse():
    check(lambda t, x: t.fft.hfftn(x), [(3, 4)], "int64")
    check(lambda t, x: t.fft.ihfftn(x), [(3, 4)], "int32")
    check(lambda t, x: t.fft.ihfft2(x), [(3, 4)], "bool")
    check(lambda t, x: t.fft.hfftn(x, s=(2, 1)), [(3, 4)], "complex64")
    x = ember.randn(3, 4, 6, dtype=ember.float64)
    for norm in NORMS:   # hfftn undoes ihfftn for an even last length
        y = ember.fft.hfftn(ember.fft.ihfftn(x, norm=norm), s=x.shape, norm=norm)
        np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-12)


def test_hfftn_double_backward():
    x = np.random.default_rng(2).standard_normal((3, 4)) + 0j
    res = []
    for lib in (ember, torch):
        v = lib.tensor(x, requires_grad=True)
        y = lib.fft.hfftn(v * v, s=(3, 5)).pow(2).sum() + lib.fft.ihfftn(
            lib.fft.hfft2(v).pow(3)).abs().sum()
        (g,) = lib.autograd.grad(y, v, create_graph=True)
        (gg,) = lib.autograd.grad((g * g.conj()).real.sum(), v)
        res.append(gg.detach().numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-8, atol=1e-9)


_REAL_OUT = ("irfft", "irfft2", "irfftn", "hfft", "hfft2", "hfftn")


@pytest.mark.parametrize("name", ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft",
                                  "rfft2", "rfftn", "ihfft", "ihfft2", "ihfftn") + _REAL_OUT)
def test_out_kinds(name):
    dt = "complex64" if name in _REAL_OUT else "float32"
    good = "float32" if name in _REAL_OUT else "complex64"
    check(lambda t, x: getattr(t.fft, name)(x, out=t.empty(0, dtype=getattr(t, good))),
          [(3, 4)], dt, grad=False)
    for bad in ("int64", "complex64" if name in _REAL_OUT else "float32"):
        te, ee = check_raises(lambda t, x: getattr(t.fft, name)(
            x, out=t.empty(0, dtype=getattr(t, bad))), [(3, 4)], dt)
        assert str(te) == str(ee)
    if name in _REAL_OUT:   # a wider float out is fine (float32 values, float32 tolerances)
        check(lambda t, x: getattr(t.fft, name)(x, out=t.empty(0, dtype=t.float64)), [(3, 4)],
              dt, grad=False, rtol=1e-5, atol=1e-6)


def test_dtypes_and_int_inputs():
    check(lambda t, x: t.fft.fft(x), [(4,)], "int64")
    check(lambda t, x: t.fft.rfft(x), [(4,)], "int32")
    check(lambda t, x: t.fft.fft(x), [(4,)], "bool")
    check(lambda t, x: t.fft.irfft(x), [(4,)], "float32")
    check(lambda t, x: t.fft.fft(x), [(1,)])
    check(lambda t, x: t.fft.fftn(x), [()])


def test_double_backward():
    x = ember.randn(6, dtype=ember.float64, requires_grad=True)
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    res = []
    for lib, v in ((ember, x), (torch, xt)):
        y = lib.fft.irfft(lib.fft.rfft(v * v), n=6).pow(2).sum() + lib.fft.fft(v).abs().sum()
        (g,) = lib.autograd.grad(y, v, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), v)
        res.append(gg.detach().numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-8, atol=1e-10)


def test_freq_and_shift():
    for n in (1, 4, 5):
        check(lambda t: t.fft.fftfreq(n), [])
        check(lambda t: t.fft.rfftfreq(n, d=0.5, dtype=t.float64), [])
    check(lambda t, x: t.fft.fftshift(x), [(4, 5)])
    check(lambda t, x: t.fft.ifftshift(x), [(4, 5)])
    check(lambda t, x: t.fft.fftshift(x, dim=1), [(4, 5)])
    check(lambda t, x: t.fft.ifftshift(x, dim=(0,)), [(5, 4)], "complex64")
    check(lambda t, x: t.fft.ifftshift(t.fft.fftshift(x)), [(3, 5)])


@pytest.mark.parametrize("fn,shape,dt", [
    (lambda t, x: t.fft.fft(x, norm="bad"), (4,), "float32"),
    (lambda t, x: t.fft.fft(x, n=0), (4,), "float32"),
    (lambda t, x: t.fft.fft(x, dim=3), (4,), "float32"),
    (lambda t, x: t.fft.fft(x), (), "float32"),
    (lambda t, x: t.fft.fft(x), (0,), "float32"),
    (lambda t, x: t.fft.fft(x), (4,), "float16"),
    (lambda t, x: t.fft.rfft(x), (4,), "complex64"),
    (lambda t, x: t.fft.ihfft(x), (4,), "complex64"),
    (lambda t, x: t.fft.irfft(x), (1,), "complex64"),
    (lambda t, x: t.fft.fftn(x, s=(2,), dim=(0, 1)), (3, 4), "float32"),
    (lambda t, x: t.fft.fftn(x, dim=(0, 0)), (3, 4), "float32"),
    (lambda t, x: t.fft.ihfftn(x), (3, 4), "complex64"),
    (lambda t, x: t.fft.ihfft2(x), (3, 4), "complex128"),
    (lambda t, x: t.fft.ihfftn(x), (3, 4), "float16"),
    (lambda t, x: t.fft.hfftn(x), (3, 4), "float16"),
    (lambda t, x: t.fft.hfftn(x, dim=()), (3, 4), "complex64"),
    (lambda t, x: t.fft.ihfftn(x, dim=()), (3, 4), "float32"),
    (lambda t, x: t.fft.hfftn(x), (), "complex64"),
    (lambda t, x: t.fft.ihfftn(x), (), "float32"),
    (lambda t, x: t.fft.hfft2(x), (4,), "complex64"),
    (lambda t, x: t.fft.ihfft2(x), (4,), "float32"),
    (lambda t, x: t.fft.hfftn(x), (3, 1), "complex64"),
    (lambda t, x: t.fft.hfftn(x, s=(0, 4)), (3, 4), "complex64"),
    (lambda t, x: t.fft.ihfftn(x, s=(3, 0)), (3, 4), "float32"),
    (lambda t, x: t.fft.hfftn(x, s=(1, 2, 3)), (3, 4), "complex64"),
    (lambda t, x: t.fft.ihfftn(x, s=(2, 3), dim=(0,)), (3, 4), "float32"),
    (lambda t, x: t.fft.hfft2(x, dim=(1, 1)), (3, 4), "complex64"),
    (lambda t, x: t.fft.hfftn(x, norm="bad"), (3, 4), "complex64"),
    (lambda t, x: t.fft.ihfftn(x, norm="bad"), (3, 4), "float32"),
])
def test_errors(fn, shape, dt):
    te, ee = check_raises(fn, [shape], dt)
    assert str(te) == str(ee)
