"""Differential tests of ember.fft against torch.fft: values, dtypes, n/s/dim/norm handling,
gradients (including the Hermitian weighting of rfft/irfft), errors."""
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
])
def test_errors(fn, shape, dt):
    te, ee = check_raises(fn, [shape], dt)
    assert str(te) == str(ee)
