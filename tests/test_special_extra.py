"""torch.special's Bessel/Airy functions, orthogonal polynomials and incomplete gamma functions
(plus torch.igamma/igammac and their Tensor methods) against torch: values over meaningful
ranges and at special points, dtypes, broadcasting, out=, gradients or torch's errors."""
import numpy as np
import pytest
import torch

import ember
import ember.special  # noqa: F401  (registers Tensor.igamma & co.)
from oracle import assert_close, check, check_raises, make_array, to_ember, to_torch

# torch's float64 J0/J1/Y0/Y1 (5 < |x| < 25) and Ai (-10 < x < 0) are accurate to ~1e-6 only;
# ember gives SciPy's values, so float64 is compared at float32-like tolerances there
_ROUGH64 = dict(rtol=1e-6, atol=3e-6)

# (name, float domain, float64 tolerances)
UNARY = [
    ("airy_ai", (-10, 10), _ROUGH64),
    ("bessel_j0", (-25, 25), _ROUGH64),
    ("bessel_j1", (-25, 25), _ROUGH64),
    ("bessel_y0", (0.05, 25), _ROUGH64),
    ("bessel_y1", (0.05, 25), _ROUGH64),
    ("modified_bessel_i0", (-10, 10), {}),
    ("modified_bessel_i1", (-10, 10), {}),
    ("modified_bessel_k0", (0.01, 20), {}),
    ("modified_bessel_k1", (0.01, 20), {}),
    ("scaled_modified_bessel_k0", (0.01, 50), {}),
    ("scaled_modified_bessel_k1", (0.01, 50), {}),
    ("spherical_bessel_j0", (-30, 30), {}),
]
_UIDS = [u[0] for u in UNARY]


def _unary(name):
    return lambda t, x: getattr(t.special, name)(x)


@pytest.mark.parametrize("name,dom,tol64", UNARY, ids=_UIDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_values(name, dom, tol64, dtype):
    tol = tol64 if dtype == "float64" else {}
    check(_unary(name), [(40, 25)], dtype, low=dom[0], high=dom[1], **tol)


@pytest.mark.parametrize("name", ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
                                  "airy_ai"])
def test_unary_float64_where_torch_is_exact(name):
    if name == "airy_ai":
        check(_unary(name), [(200,)], "float64", low=0, high=12)
        return
    lo = 0.05 if name.startswith("bessel_y") else -4.9
    check(_unary(name), [(200,)], "float64", low=lo, high=4.9, rtol=1e-7, atol=2e-8)


UNARY_SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, np.inf, -np.inf, np.nan, 1e-30,
                          -1e-30, 1e-5, 8.0, -8.0, 26.0, -26.0, 30.0, 100.0, -100.0, 700.0,
                          -700.0, 1e4, -1e4, 1e30])


@pytest.mark.parametrize("name", _UIDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_special_points(name, dtype):
    x = UNARY_SPECIAL.astype(dtype)
    if name == "airy_ai":   # torch's float32 Ai loses its phase for large negative x
        x = x[~((x < -30) & np.isfinite(x))]
    rtol, atol = (1e-5, 5e-6) if dtype == "float32" else (1e-6, 3e-6)
    check(_unary(name), inputs=[x], grad=False, rtol=rtol, atol=atol)


def test_unary_overflow_edges():
    # float32 I0/I1 overflow in torch once exp(|x|) does (inf although the value would fit),
    # float32 Ai underflows to 0 from 25.7709, Ai is NaN once 2 |x|^3/2 overflows
    x = np.array([88.7, 88.72281, 88.72284, 89.0, 91.0, -89.0, -91.0, np.inf, -np.inf],
                 np.float32)
    for name in ("modified_bessel_i0", "modified_bessel_i1"):
        check(_unary(name), inputs=[x], grad=False)
    a = np.array([25.7, 25.7708969, 25.7709, 26.0, 30.0, 1e30, -3.08e25, -1e30], np.float32)
    check(_unary("airy_ai"), inputs=[a], grad=False, atol=1e-45)
    b = np.array([-1e8, -1e10, 1e8, 1e10, -2.0e205, -2.01e205, -1e300])
    out = check(_unary("airy_ai"), inputs=[b], grad=False, rtol=1e-3, atol=1e-6)
    assert np.isnan(out[1].numpy()[-2:]).all()


@pytest.mark.parametrize("name", _UIDS)
def test_unary_dtypes_shapes_errors(name):
    fn = _unary(name)
    check(fn, [(5,)], "int64", low=1, high=6)
    check(fn, [(5,)], "bool")
    check(fn, [(5,)], "uint8", low=1, high=9)
    check(fn, [()], "float64", low=0.5, high=2)
    check(fn, [(0, 3)], "float32")
    base = make_array((4, 6), "float64", np.random.default_rng(3), 0.5, 3)
    check(lambda t, x: fn(t, x.t()[1::2]), inputs=[base])
    for dt in ("float16", "bfloat16", "complex64"):
        check_raises(fn, [(3,)], dt, match=f'"{name}_cpu" not implemented')
    check_raises(lambda t: getattr(t.special, name)(1.5))


@pytest.mark.parametrize("name", _UIDS)
def test_unary_has_no_gradient(name):
    results = []
    for lib in (torch, ember):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = getattr(lib.special, name)(x)
        assert not y.requires_grad and y.grad_fn is None
        with pytest.raises(RuntimeError, match="does not require grad"):
            y.sum().backward()
        results.append(y)
    assert_close(results[0], results[1])


@pytest.mark.parametrize("name", _UIDS)
def test_unary_out(name):
    check(lambda t, x, o: getattr(t.special, name)(x, out=o), [(3,), (3,)], low=0.5, high=2,
          grad=False)
    check(lambda t, x: getattr(t.special, name)(x, out=t.empty(0, dtype=t.float64)), [(3,)],
          low=0.5, high=2, grad=False, rtol=1e-6, atol=1e-6)
    # the result does not require grad, so out= accepts an input that does (as torch)
    for lib in (torch, ember):
        o = lib.empty(2)
        getattr(lib.special, name)(lib.tensor([0.5, 1.0], requires_grad=True), out=o)
    check_raises(lambda t, x, o: getattr(t.special, name)(x, out=o.long()), [(2,), (2,)])


def test_unary_argument_names():
    x = ember.tensor([0.5, 1.0])
    for name in ("airy_ai", "spherical_bessel_j0", "scaled_modified_bessel_k0",
                 "scaled_modified_bessel_k1"):   # torch names their argument x
        assert_close(getattr(torch.special, name)(x=torch.tensor([0.5, 1.0])),
                     getattr(ember.special, name)(x=x))
    for name in ("bessel_j0", "modified_bessel_k1"):
        assert_close(getattr(torch.special, name)(input=torch.tensor([0.5, 1.0])),
                     getattr(ember.special, name)(input=x))


# ---------------------------------------------------------------------------------------------
# Polynomials

POLYS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
         "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
         "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "legendre_polynomial_p"]


def _poly(name):
    return lambda t, x, n: getattr(t.special, name)(x, n)


def _x_range(name):
    if name.startswith("shifted"):
        return -0.25, 1.25
    if name.startswith("laguerre"):
        return -2.0, 6.0
    if name.startswith("hermite"):
        return -3.0, 3.0
    return -1.25, 1.25


def _poly_x(name, dtype, size=60, seed=0):
    """Random x over the interesting range plus the points torch treats exactly."""
    lo, hi = _x_range(name)
    rng = np.random.default_rng(seed)
    edges = [0.0, 1.0, -1.0, 0.5, 2.0, -2.0, 1 - 1e-7, -1 + 1e-7, 1e-7]
    return np.concatenate([rng.uniform(lo, hi, size), edges]).astype(dtype)


@pytest.mark.parametrize("name", POLYS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_polynomial_scalar_degrees(name, dtype):
    """Degrees below and above torch's switch to the closed form (6, 8, 4), negative ones."""
    x = _poly_x(name, dtype)
    # float32: n * arccos(x) magnifies one ulp of arccos (torch's is not correctly rounded)
    tol = dict(rtol=2e-5, atol=5e-5) if dtype == "float32" else {}
    for n in (-3, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 20):
        check(lambda t, a: getattr(t.special, name)(a, n), inputs=[x], grad=False, **tol)


@pytest.mark.parametrize("name", POLYS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_polynomial_tensor_degrees(name, dtype):
    """n a tensor broadcast against x, with fractions (truncated), negatives, NaN and inf."""
    x = _poly_x(name, dtype, size=20, seed=1)[None, :]
    n = np.concatenate([np.arange(-2, 16), [2.5, 7.9, -0.5, -2.7, np.nan, np.inf, -np.inf,
                                             1e19, 40, 64]])[:, None].astype(dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-9, atol=1e-9)
    check(_poly(name), inputs=[x, n], grad=False, **tol)


@pytest.mark.parametrize("name", POLYS)
def test_polynomial_infinities_and_overflow(name):
    """The recurrence's own inf and NaN: torch's loop is one fused multiply-add a step."""
    x = np.array([np.inf, -np.inf, 3.0, -3.0, 10.0, -10.0, 0.75, 1.5])
    for dtype in ("float32", "float64"):
        for n in (2, 3, 4, 30, 50, 51, 52, 100, 150, 180):
            check(lambda t, a: getattr(t.special, name)(a, n), inputs=[x.astype(dtype)],
                  grad=False, rtol=1e-4 if dtype == "float32" else 1e-9)


def test_polynomial_large_degrees():
    rng = np.random.default_rng(5)
    for name in ("chebyshev_polynomial_t", "legendre_polynomial_p", "laguerre_polynomial_l",
                 "shifted_chebyshev_polynomial_u"):
        x = rng.uniform(-0.2 if name.startswith("shifted") else -1, 1, 20)
        check(lambda t, a: getattr(t.special, name)(a, 300), inputs=[x], grad=False,
              rtol=1e-8, atol=1e-9)
    # n = 10**6 in an overflowing region: the loop stops once everything is NaN
    check(lambda t, a: t.special.hermite_polynomial_h(a, 10 ** 6),
          inputs=[np.array([0.5, 2.0, -3.0])], grad=False)


@pytest.mark.parametrize("name", POLYS)
def test_polynomial_dtypes_and_scalars(name):
    fn = _poly(name)
    rng = np.random.default_rng(2)
    xi = rng.integers(-1, 3, 4)
    check(fn, inputs=[xi, np.array([0, 1, 2, 3])], grad=False)             # int, int
    check(fn, inputs=[xi.astype(bool), np.array([2, 3, 1, 0])], grad=False)
    check(fn, inputs=[xi, np.array([2.0, 3.0, 4.0, 5.0])], grad=False)     # int, float64
    check(fn, inputs=[np.array([0.3, 0.7], np.float32), np.array(3.0)], grad=False)
    check(fn, inputs=[np.array(0.3), np.array([1, 2, 3], np.int32)], grad=False)
    for n in (3, 3.7, True):   # a Python number as n
        check(lambda t, a: getattr(t.special, name)(a, n), inputs=[np.array([0.3, 0.8])],
              grad=False)
    for x in (0.4, 2, True):   # a Python number as x
        check(lambda t, k: getattr(t.special, name)(x, k), inputs=[np.arange(-1, 9)],
              grad=False)
        check(lambda t, k: getattr(t.special, name)(x, k), inputs=[np.arange(6.0)],
              grad=False)
    check(fn, inputs=[np.zeros((0, 2)), np.array(2.0)], grad=False)
    check_raises(lambda t: getattr(t.special, name)(0.5, 2))
    check_raises(fn, [(2, 3), (4,)])
    for dt in ("float16", "bfloat16", "complex64"):
        check_raises(lambda t, a: getattr(t.special, name)(a, 2), [(3,)], dt,
                     match=f'"{name}_cpu" not implemented')
    assert_close(getattr(torch.special, name)(x=torch.tensor([0.3]), n=2),
                 getattr(ember.special, name)(x=ember.tensor([0.3]), n=2))


@pytest.mark.parametrize("name", POLYS)
def test_polynomial_has_no_gradient_and_out(name):
    for lib in (torch, ember):
        x = lib.tensor([0.25, 0.5], requires_grad=True)
        n = lib.tensor([2.0, 3.0], requires_grad=True)
        y = getattr(lib.special, name)(x, n)
        assert not y.requires_grad
        with pytest.raises(RuntimeError, match="does not require grad"):
            y.sum().backward()
    check(lambda t, x, o: getattr(t.special, name)(x, 4, out=o), [(3,), (3,)], grad=False)
    check(lambda t, x, n: getattr(t.special, name)(x, n, out=t.empty(0, dtype=t.float64)),
          [(3, 1), (2,)], low=0, high=1, grad=False)


# ---------------------------------------------------------------------------------------------
# Incomplete gamma functions

def _top(lib, name):
    """lib.igamma / lib.igammac (ember's are re-exported by ember/__init__.py; until then the
    op module's own)."""
    if lib is ember and not hasattr(ember, name):
        from ember._ops import special_functions
        return getattr(special_functions, name)
    return getattr(lib, name)


GAMMA = {"igamma": lambda t, a, x: _top(t, "igamma")(a, x),
         "igammac": lambda t, a, x: _top(t, "igammac")(a, x),
         "gammainc": lambda t, a, x: t.special.gammainc(a, x),
         "gammaincc": lambda t, a, x: t.special.gammaincc(a, x),
         "Tensor.igamma": lambda t, a, x: a.igamma(x),
         "Tensor.igammac": lambda t, a, x: a.igammac(x)}
_GTOL = {"float32": dict(rtol=1e-4, atol=2e-6), "float64": dict(rtol=1e-8, atol=1e-9)}


def _gamma_inputs(dtype, shape=(300,), seed=0):
    rng = np.random.default_rng(seed)
    a = np.exp(rng.uniform(np.log(0.05), np.log(40), shape)).astype(dtype)
    x = np.exp(rng.uniform(np.log(1e-3), np.log(60), shape)).astype(dtype)
    return a, x


@pytest.mark.parametrize("name", list(GAMMA))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gamma_values_and_grad_other(name, dtype):
    fn = GAMMA[name]
    a, x = _gamma_inputs(dtype)
    # the gradient for other only (torch has none for input): a constant a
    check(lambda t, a, x: fn(t, a.detach(), x), inputs=[a, x], **_GTOL[dtype])


def test_gamma_special_points():
    sv = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 0.5, 2.0, 1e-10, 1e10, 30.0,
                   200.0, 1e-300])
    a, x = (m.ravel() for m in np.meshgrid(sv, sv))
    for dtype in ("float32", "float64"):
        for name in ("igamma", "igammac"):
            # (torch's float32 Q(a, x) is inaccurate for a ~ 1e-10, ~5e-11 off)
            check(GAMMA[name], inputs=[a.astype(dtype), x.astype(dtype)], grad=False,
                  rtol=1e-5, atol=1e-30 if dtype == "float64" else 1e-10)


def test_gamma_grad_at_zero_and_double_backward():
    # d/dx P(a, x) at x == 0: inf for a < 1, NaN for a == 1, 0 for a > 1 (torch's formula)
    a = np.array([0.5, 1.0, 2.0, 3.0])
    x = np.array([0.0, 0.0, 0.0, 1.5])
    for name in ("igamma", "igammac"):
        check(lambda t, a, x: GAMMA[name](t, a.detach(), x), inputs=[a, x])
    a, x = _gamma_inputs("float64", (6,), seed=3)
    res = []
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        ta, tx = conv(a), conv(x, True)
        (g,) = lib.autograd.grad(_top(lib, "igammac")(ta, tx).sum(), tx, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), tx)
        res.append((g, gg))
    assert_close(res[0][0], res[1][0], rtol=1e-8, atol=1e-10, what="first derivative")
    assert_close(res[0][1], res[1][1], rtol=1e-7, atol=1e-9, what="second derivative")


@pytest.mark.parametrize("name", ["igamma", "igammac", "gammainc", "gammaincc"])
def test_gamma_input_derivative_not_implemented(name):
    base = name.replace("gammaincc", "igammac").replace("gammainc", "igamma")
    for lib in (torch, ember):
        a = lib.tensor([0.5, 2.0], requires_grad=True)
        x = lib.tensor([0.7, 1.5], requires_grad=True)
        y = GAMMA[name](lib, a, x)
        assert y.requires_grad and y.grad_fn.name() == f"{base.capitalize()}Backward0"
        with pytest.raises(NotImplementedError,
                           match=f"the derivative for '{base}: input' is not implemented"):
            y.sum().backward()


def test_gamma_dtypes_broadcasting_errors():
    fn = GAMMA["igamma"]
    rng = np.random.default_rng(7)
    for dt in ("float16", "bfloat16"):   # computed in float32 and rounded, as torch
        a, x = (make_array((6,), dt, rng, 0.5, 4) for _ in range(2))
        check(fn, inputs=[a, x], grad=False, rtol=1e-2, atol=2e-3)
    a16 = make_array((6,), "float16", rng, 0.5, 4)
    check(fn, inputs=[a16, make_array((6,), "float32", rng, 0.5, 4)], grad=False, rtol=1e-4)
    check(fn, inputs=[make_array((6,), "int64", rng, 1, 5), make_array((6,), "float64", rng,
                                                                        0.5, 4)], grad=False)
    check(fn, inputs=[np.array(2.0), make_array((6,), "float32", rng, 0.5, 4)], grad=False)
    a, x = _gamma_inputs("float64", (3, 1), seed=1)
    check(lambda t, a, x: GAMMA["igammac"](t, a, x.detach().t()), inputs=[a, x], grad=False,
          **_GTOL["float64"])
    a, x = _gamma_inputs("float64", (4,), seed=2)
    check(lambda t, a, x: t.special.gammainc(a.detach()[:2], x.reshape(2, 1, 2)), inputs=[a, x],
          **_GTOL["float64"])
    check(fn, [(0,), (1,)], "float64", grad=False)
    for dt in ("int64", "bool"):
        check_raises(fn, [(3,), (3,)], dt, match='"igamma_cpu" not implemented')
    check_raises(GAMMA["igammac"], [(3,), (3,)], "int32",
                 match='"igammac_cpu" not implemented')
    check_raises(fn, [(3,), (3,)], "complex64")
    check_raises(fn, [(3,), (4,)], "float32")
    for name in ("igamma", "gammainc"):
        lib_fn = {"igamma": lambda t: _top(t, "igamma"),
                  "gammainc": lambda t: t.special.gammainc}[name]
        check_raises(lambda t, a: lib_fn(t)(a, 2.0), [(3,)], match="must be Tensor")
        check_raises(lambda t, a: lib_fn(t)(2.0, a), [(3,)], match="must be Tensor")


def test_gamma_out_and_inplace():
    a, x = _gamma_inputs("float64", (5,), seed=4)
    for name in ("igamma", "igammac"):
        check(lambda t, a, x, o: _top(t, name)(a, x, out=o),
              inputs=[a, x, np.zeros(5)], grad=False)
        check(lambda t, a, x: getattr(t.special, "gammainc" if name == "igamma" else
                                      "gammaincc")(a, x, out=t.empty(0)),
              inputs=[a, x], grad=False)
        check_raises(lambda t, a, x: _top(t, name)(a, x.requires_grad_(), out=t.empty(5)),
                     inputs=[a, x])
        # in place: the result cast into self's dtype; self's shape must hold the result
        check(lambda t, a, x: getattr(a.clone(), name + "_")(x), inputs=[a.astype(np.float32),
                                                                         x], grad=False)
        check(lambda t, a, x: getattr(a.clone(), name + "_")(x[:1]), inputs=[a, x],
              grad=False)
        check_raises(lambda t, a, x: getattr(a, name + "_")(x.reshape(5, 1)), inputs=[a, x])
        check_raises(lambda t, a, x: getattr(a.requires_grad_(), name + "_")(x),
                     inputs=[a, x])
        # the history of an in-place result: the gradient for other
        check(lambda t, a, x: getattr(a.detach().clone(), name + "_")(x), inputs=[a, x])


def test_names_exist():
    for name in _UIDS + POLYS + ["gammainc", "gammaincc"]:
        assert callable(getattr(ember.special, name))
        assert name in ember.special.__all__
    for name in ("igamma", "igamma_", "igammac", "igammac_"):
        assert hasattr(ember.Tensor, name)
