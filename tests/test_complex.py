"""Complex tensors against torch: construction (complex, polar), real/imag views, angle, abs,
view_as_real/view_as_complex, conj, complex arithmetic and its gradients."""
import numpy as np
import pytest
import torch

import ember
from oracle import check, check_raises, make_array, to_ember, to_torch

CDTYPES = ["complex64", "complex128"]


def _tol(dt):
    return dict(rtol=1e-4, atol=1e-5) if dt == "complex64" else {}


@pytest.mark.parametrize("dt", CDTYPES)
def test_real_imag_views(dt):
    check(lambda t, z: t.real(z), [(3, 4)], dt)
    check(lambda t, z: t.imag(z), [(3, 4)], dt)
    check(lambda t, z: z.real * 2 + z.imag, [(3, 4)], dt, check_stride=True)
    check(lambda t, z: z.t().imag, [(3, 4)], dt, check_stride=True)
    check(lambda t, z: z.real, [()], dt)
    check(lambda t, z: z.imag, [(0, 3)], dt)
    z = ember.tensor(make_array((2, 3), dt))
    r, i = z.real, z.imag
    assert r._base is z and i._base is z
    r[0, 0] = 7.0
    i.mul_(0)
    assert z[0, 0].item() == 7.0 and not z.imag.any().item()
    assert z._version > 0


def test_real_of_real_and_imag_errors():
    x = ember.ones(3)
    assert ember.real(x) is x and x.real is x
    check_raises(lambda t, x: t.imag(x), [(3,)])
    check_raises(lambda t, x: x.imag, [(3,)])


def test_real_imag_setters():
    for dt in CDTYPES:
        a = make_array((3,), dt)
        tz, ez = to_torch(a), to_ember(a)
        tz.real = torch.zeros(3)
        ez.real = ember.zeros(3)
        tz.imag = torch.arange(3.0)
        ez.imag = ember.arange(3.0)
        np.testing.assert_allclose(ez.numpy(), tz.numpy())


@pytest.mark.parametrize("dt", CDTYPES)
def test_abs_angle_sgn(dt):
    check(lambda t, z: t.abs(z), [(3, 4)], dt, **_tol(dt))
    check(lambda t, z: z.abs(), [(5,)], dt, **_tol(dt))
    check(lambda t, z: t.angle(z), [(3, 4)], dt, **_tol(dt))
    check(lambda t, z: t.sgn(z), [(3, 4)], dt, **_tol(dt))
    zero = np.array([0j, 1 + 1j, -2j], dt)
    check(lambda t, z: t.sgn(z), inputs=[zero])
    check(lambda t, z: t.abs(z), inputs=[zero[1:]])


def test_angle_real_inputs():
    x = np.array([-1.0, 0.0, -0.0, 2.0, np.nan, -np.inf])
    check(lambda t, a: t.angle(a), inputs=[x], grad=False)
    check(lambda t, a: t.angle(a), inputs=[np.array([-2, 0, 3])])
    check(lambda t, a: a.angle(), inputs=[x.astype(np.float32)[[0, 3]]])


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_complex_and_polar(dt):
    check(lambda t, re, im: t.complex(re, im), [(3, 4), (3, 4)], dt)
    check(lambda t, re, im: t.complex(re, im), [(3, 4), (4,)], dt)
    check(lambda t, re, im: t.complex(re, im), [(), ()], dt)
    check(lambda t, r, th: t.polar(r.abs(), th), [(3, 4), (3, 4)], dt)
    check(lambda t, r, th: t.polar(r.abs(), th), [(2, 1), (3,)], dt)
    check(lambda t, re, im, o: t.complex(re, im, out=o),
          inputs=[make_array((3,), dt), make_array((3,), dt),
                  np.zeros(3, "complex64" if dt == "float32" else "complex128")], grad=False)


def test_complex_errors():
    check_raises(lambda t, a, b: t.complex(a, b), [(3,), (3,)], ["float32", "float64"])
    check_raises(lambda t, a, b: t.complex(a, b), [(3,), (3,)], "int64")
    check_raises(lambda t, a, b: t.polar(a, b), [(3,), (3,)], ["float32", "float64"])
    check_raises(lambda t, a, b: t.complex(a, b), [(3,), (4,)])


@pytest.mark.parametrize("dt", CDTYPES)
def test_view_as_real(dt):
    check(lambda t, z: t.view_as_real(z), [(3, 4)], dt, check_stride=True)
    check(lambda t, z: t.view_as_real(z.t()), [(3, 4)], dt, check_stride=True)
    check(lambda t, z: t.view_as_real(z[::2]), [(5,)], dt, check_stride=True)
    check(lambda t, z: t.view_as_real(z), [()], dt, check_stride=True)
    check(lambda t, z: t.view_as_real(z) * 3, [(0, 2)], dt)
    z = ember.tensor(make_array((2,), dt))
    r = ember.view_as_real(z)
    r[1, 1] = 5.0
    assert z[1].item().imag == 5.0 and r._base is z


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_view_as_complex(dt):
    check(lambda t, x: t.view_as_complex(x), [(3, 2)], dt, check_stride=True)
    check(lambda t, x: t.view_as_complex(x), [(2, 3, 2)], dt, check_stride=True)
    check(lambda t, x: t.view_as_complex(x[::2]), [(4, 2)], dt, check_stride=True)
    check(lambda t, x: t.view_as_complex(x), [(2,)], dt)
    check(lambda t, x: t.view_as_complex(x) * (1 + 2j), [(3, 2)], dt)
    check(lambda t, x: t.view_as_real(t.view_as_complex(x)), [(3, 2)], dt, check_stride=True)
    x = ember.zeros(2, 2, dtype=getattr(ember, dt))
    z = ember.view_as_complex(x)
    z.mul_(0).add_(1 + 1j)
    assert x.sum().item() == 4.0


def test_view_as_complex_errors():
    check_raises(lambda t, x: t.view_as_complex(x), [(3,)])
    check_raises(lambda t, x: t.view_as_complex(x.t()), [(2, 3)])
    check_raises(lambda t, x: t.view_as_complex(x.t().contiguous().t()), [(3, 2)])
    check_raises(lambda t, x: t.view_as_complex(x[:, 1:]), [(3, 3)])
    check_raises(lambda t, x: t.view_as_complex(x), [(3, 2)], "int64")
    check_raises(lambda t, x: t.view_as_real(x), [(3,)])
    check_raises(lambda t, x: t.view_as_complex(x[:, :, 1:]), [(2, 3, 3)])


@pytest.mark.parametrize("dt", CDTYPES)
def test_conj(dt):
    check(lambda t, z: t.conj(z), [(3, 4)], dt)
    check(lambda t, z: z.conj() * z, [(3, 4)], dt, **_tol(dt))
    check(lambda t, z: t.conj_physical(z), [(3,)], dt)
    check(lambda t, z: z.conj().resolve_conj(), [(3,)], dt)
    check(lambda t, z: t.resolve_neg(z), [(3,)], dt)
    check(lambda t, z: z.clone().conj_physical_(), [(3,)], dt)
    x = ember.ones(3)
    assert ember.conj(x) is x and not ember.is_conj(x)
    check(lambda t, x: t.conj_physical(x), [(3,)], "int64")


BIN = [
    ("add", lambda t, a, b: a + b), ("sub", lambda t, a, b: a - b),
    ("mul", lambda t, a, b: a * b), ("div", lambda t, a, b: a / b),
    ("pow", lambda t, a, b: a ** b), ("add alpha", lambda t, a, b: t.add(a, b, alpha=2 - 1j)),
    ("lerp", lambda t, a, b: t.lerp(a, b, 0.25)), ("addcmul", lambda t, a, b: t.addcmul(a, a, b)),
    ("eq", lambda t, a, b: a == b), ("where", lambda t, a, b: t.where(a.abs() > 1, a, b)),
]


@pytest.mark.parametrize("name,fn", BIN, ids=[b[0] for b in BIN])
@pytest.mark.parametrize("dt", CDTYPES)
def test_complex_arithmetic(name, fn, dt):
    check(fn, [(3, 4), (4,)], dt, **_tol(dt), grad_rtol=1e-4 if dt == "complex64" else None,
          grad_atol=1e-5 if dt == "complex64" else None)


@pytest.mark.parametrize("name,fn", BIN, ids=[b[0] for b in BIN])
def test_mixed_real_complex(name, fn):
    if name in ("lerp", "addcmul", "where"):
        check_raises(lambda t, a, b: t.lerp(a, b, 0.5), [(3,), (3,)], ["complex64", "float32"]) \
            if name == "lerp" else None
        return
    check(fn, [(3,), (3,)], ["float32", "complex64"], grad=False, rtol=1e-4, atol=1e-5)
    check(fn, [(3,), (3,)], ["complex128", "float32"], grad=False)
    check(fn, [(3,), (3,)], ["int64", "complex64"], grad=False, rtol=1e-4, atol=1e-5)


def test_complex_scalars():
    for fn in (lambda t, x: x * 1j, lambda t, x: x + (1 - 2j), lambda t, x: (2 + 1j) / (x + 3),
               lambda t, x: x.to(t.complex64) * 2.5, lambda t, x: t.exp(x * 1j)):
        check(fn, [(3,)], "float32", grad=False, rtol=1e-5, atol=1e-6)
        check(fn, [(3,)], "float64", grad=False)
        check(fn, [(3,)], "int64", grad=False, rtol=1e-5, atol=1e-6)
    check(lambda t, z: z * 1j, [(3,)], "complex128")


def test_complex_unary_gradients():
    fns = [lambda t, z: t.exp(z), lambda t, z: t.log(z), lambda t, z: t.sqrt(z),
           lambda t, z: t.sin(z) * t.cos(z), lambda t, z: t.tanh(z), lambda t, z: t.sigmoid(z),
           lambda t, z: z.abs() * z.angle(), lambda t, z: t.reciprocal(z),
           lambda t, z: t.view_as_real(z * z), lambda t, z: (z.real - z.imag) * z.abs()]
    for fn in fns:
        check(fn, [(2, 3)], "complex128")


def test_is_complex_and_dtypes():
    for dt in CDTYPES:
        z = ember.zeros(2, dtype=getattr(ember, dt))
        assert z.is_complex() and ember.is_complex(z) and not z.is_floating_point()
        assert z.abs().dtype is (ember.float32 if dt == "complex64" else ember.float64)
        assert z.real.dtype is z.abs().dtype and z.angle().dtype is z.abs().dtype
    check_raises(lambda t, z: t.floor(z), [(3,)], "complex64")
    check_raises(lambda t, z: z < z, [(3,)], "complex64")
    check_raises(lambda t, z: t.clamp(z, 0, 1), [(3,)], "complex64")
    check(lambda t, z: t.isclose(z, z * (1 + 1e-9)), [(3,)], "complex128")
    check(lambda t, z: t.nan_to_num(z), inputs=[np.array([complex(np.nan, 1), complex(1, np.inf)])],
          grad=False)
