"""float16/bfloat16 activations and unary math bit for bit against torch (see half_oracle).

torch computes the half types in float32 with its vectorised (SLEEF) exp/log/tanh and its own
erf approximation, parameters taken as float32, rounded once per kernel; backward formulas
written as chains of ops round after every op. The inputs are padded to a multiple of 64
elements: torch's vectorised loop then covers every element (its scalar tail loop computes
rsqrt and gelu differently, and gives other NaN gradients for piecewise functions, so NaN is
left out of the gradient tests).

Where a count of elements is allowed to differ (by one ulp), torch's float32 function itself
differs from the exactly rounded one that ember uses in the last bit (SLEEF is within 1 ulp),
and the half result sits on a rounding tie.
"""
import copy

import numpy as np
import pytest
import torch

import ember
from half_oracle import HALF_DTYPES, compare, sample, to_lib

_KINKS = [0.0, -0.0, 3.0, -3.0, 6.0, -6.0, 0.5, -0.5, 1.0, -1.0, 20.0, -20.0, 0.3, -0.3]


def _values(extra=(), lo=None, hi=None):
    """Normals at three scales, the kinks of the piecewise activations and +-inf (clipped to
    [lo, hi] when given), padded to a multiple of 64 elements."""
    x = np.concatenate([sample(4096, 0, 3.0), sample(1024, 1, 30.0), sample(1024, 2, 0.01),
                        np.array(_KINKS + [np.inf, -np.inf] + list(extra), np.float32)])
    if lo is not None or hi is not None:
        x = np.clip(x, lo, hi)
    return np.concatenate([x, np.full(-len(x) % 64, 0.25, np.float32)]).astype(np.float32)


def _f(lib):
    return lib.nn.functional


# (name, fn(lib, x), inputs, {dtype: allowed differing elements (1 ulp)})
ACTIVATIONS = [
    ("leaky_relu", lambda t, x: _f(t).leaky_relu(x, 0.2), _values(), {}),
    ("leaky_relu_", lambda t, x: _f(t).leaky_relu(x * 1, 0.01, inplace=True), _values(), {}),
    ("rrelu_eval", lambda t, x: _f(t).rrelu(x, 0.1, 0.6), _values(), {}),
    # bounds compared in float32: a half value between the bound and its rounding
    ("hardtanh", lambda t, x: _f(t).hardtanh(x, -0.3001, 0.7002), _values(extra=[0.7002]), {}),
    # (bfloat16 compared in float32 already)
    ("threshold", lambda t, x: _f(t).threshold(x, 0.29999, -0.7), _values(),
     {"bfloat16": None}),
    # lambd rounded to the half type (float16: as NumPy compared it already)
    ("hardshrink", lambda t, x: _f(t).hardshrink(x, 0.3), _values(), {"float16": None}),
    ("softshrink", lambda t, x: _f(t).softshrink(x, 0.3), _values(), {}),
    ("hardsigmoid", lambda t, x: _f(t).hardsigmoid(x), _values(), {}),
    ("hardswish", lambda t, x: _f(t).hardswish(x), _values(), {}),
    ("elu", lambda t, x: _f(t).elu(x, 0.3), _values(), {}),
    ("elu_", lambda t, x: _f(t).elu(x * 1, 1.7, inplace=True), _values(), {}),
    ("selu", lambda t, x: _f(t).selu(x), _values(), {}),
    ("selu_", lambda t, x: _f(t).selu(x * 1, inplace=True), _values(), {}),
    ("celu", lambda t, x: _f(t).celu(x, 0.3), _values(), {}),
    ("celu_", lambda t, x: _f(t).celu(x * 1, 0.3, inplace=True), _values(), {}),
    ("softplus", lambda t, x: _f(t).softplus(x), _values(), {}),
    # (one float16 value sits on a tie where SLEEF's log1p and the exact one round apart)
    ("softplus_beta", lambda t, x: _f(t).softplus(x, 1.7, 5.0), _values(), {"float16": 1}),
    # (bfloat16: see test_gelu_native_kernel)
    ("gelu", lambda t, x: _f(t).gelu(x), _values(), {"bfloat16": None}),
    # (1 - tanh^2 cancels: SLEEF's tanh's last bit shows)
    ("gelu_tanh", lambda t, x: _f(t).gelu(x, approximate="tanh"), _values(),
     {"float16": 13, "bfloat16": 1}),
    ("silu", lambda t, x: _f(t).silu(x), _values(), {}),
    # (SLEEF's tanh and log1p of small values)
    ("mish", lambda t, x: _f(t).mish(x), _values(), {"float16": 2}),
    ("logsigmoid", lambda t, x: _f(t).logsigmoid(x), _values(), {}),
    ("tanhshrink", lambda t, x: _f(t).tanhshrink(x), _values(), {}),
    ("glu", lambda t, x: _f(t).glu(x.reshape(2, -1), 0), _values(), {}),
    ("glu_dim1", lambda t, x: _f(t).glu(x.reshape(32, -1), 1), _values(), {}),
    ("silu_strided", lambda t, x: _f(t).silu(x.reshape(-1, 2)[:, 0]), _values(), {}),
    ("elu_transposed", lambda t, x: _f(t).elu(x.reshape(64, -1).t(), 0.3), _values(), {}),
]


def _allowed(allow, dtype):
    n = allow.get(dtype, 0)
    return dict(max_ulp=1, max_count=n) if n else {}


def _cases(table):
    """(case, dtype) pairs, without those a case marks None for that dtype."""
    return [pytest.param(*case, dtype, id=f"{case[0]}-{dtype}") for case in table
            for dtype in HALF_DTYPES if case[3].get(dtype, 0) is not None]


@pytest.mark.parametrize("name,fn,x,allow,dtype", _cases(ACTIVATIONS))
def test_activation(name, fn, x, allow, dtype):
    compare(fn, dtype, [x], grad=True, **_allowed(allow, dtype))


@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_gelu_native_kernel(dtype):
    # torch sends a contiguous bfloat16 gelu (erf) to oneDNN on CPUs with AVX512-BF16, whose
    # own erf/exp approximations ember does not reproduce; with oneDNN off (as on other CPUs,
    # and for strided inputs) ember matches bit for bit
    with torch.backends.mkldnn.flags(enabled=False):
        compare(lambda t, x: _f(t).gelu(x), dtype, [_values()], grad=True)


def test_rrelu_training_formula():
    """bfloat16: y = x r with r drawn in float32, gradient grad * noise, noise = r rounded
    (torch uses the unrounded r forward, the rounded noise backward); float16 has no kernel."""
    x = _values(lo=-1e4, hi=1e4)
    with pytest.raises(NotImplementedError, match="'Half'"):
        ember.nn.functional.rrelu(to_lib(ember, x, "float16"), training=True)
    ember.manual_seed(3)
    draws = copy.deepcopy(ember.nn.init._rng())
    xe = to_lib(ember, x, "bfloat16").requires_grad_()
    y = ember.nn.functional.rrelu(xe, 0.1, 0.3, training=True)
    g = to_lib(ember, sample(x.size, 1), "bfloat16")
    y.backward(g)
    r = draws.uniform(0.1, 0.3, size=x.shape).astype(np.float32)
    xb = xe.detach().float().numpy()
    to_bf16 = lambda a: ember.from_numpy(np.asarray(a, np.float32)).bfloat16().float().numpy()
    neg = xb < 0
    assert np.array_equal(y.detach().float().numpy(), np.where(neg, to_bf16(xb * r), xb))
    noise = np.where(neg, to_bf16(r), 1)
    assert np.array_equal(xe.grad.float().numpy(), to_bf16(g.float().numpy() * noise))
    assert type(y.grad_fn).__name__ == "RreluWithNoiseBackward0"


def test_softshrink_bfloat16_and_lambda_checks():
    x = ember.tensor([0.7, -0.2, 0.3], dtype=ember.bfloat16)
    assert ember.nn.functional.softshrink(x).dtype is ember.bfloat16   # (raised ValueError)
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match=r"\[0, 3.38953e\+38\] for input dtype BFloat16"):
            _f(lib).softshrink(lib.ones(2, dtype=lib.bfloat16), -1.0)


# Every value of the half type through each function
UNARY_FORWARD = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
                 "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
                 "tanh", "asinh", "acosh", "atanh", "sigmoid", "erf", "erfc", "erfinv", "lgamma",
                 "digamma", "i0"]
# float16 values where torch's float32 function (SLEEF's asinh, its own lgamma, i0 series and
# trigamma's sin) sits on the other side of a rounding tie: 1 ulp apart
_TIES = {"asinh": 4, "lgamma": 1, "i0": 2, "trigamma": 1}


def _every_value(dtype):
    bits = np.arange(1 << 16, dtype=np.uint32)
    if dtype == "float16":
        return bits.astype(np.uint16).view(np.float16).astype(np.float32)
    return (bits << 16).view(np.float32)


@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_unary_every_value(dtype):
    x = _every_value(dtype)
    ties = _TIES if dtype == "float16" else {}
    for op in UNARY_FORWARD:
        compare(lambda t, x: getattr(t, op)(x), dtype, [x], **_allowed(ties, op))
    # digamma and trigamma as polygamma (torch's float32 series, not SciPy's)
    compare(lambda t, x: t.polygamma(0, x), dtype, [x])
    compare(lambda t, x: t.polygamma(1, x), dtype, [x], **_allowed(ties, "trigamma"))


_POS = _values(lo=0.0)
_UNIT = _values(lo=-0.999, hi=0.999)
# gradients written as torch's chains of ops (rounded after each) or fused kernels
UNARY_GRAD = [
    ("exp2", lambda t, x: t.exp2(x), _values(hi=120.0), {}),
    ("rsqrt", lambda t, x: t.rsqrt(x), _POS, {}),
    ("asin", lambda t, x: t.asin(x), _UNIT, {}),
    ("acos", lambda t, x: t.acos(x), _UNIT, {}),
    ("asinh", lambda t, x: t.asinh(x), _values(), {}),
    ("acosh", lambda t, x: t.acosh(x), _values(lo=1.0), {}),
    ("erf", lambda t, x: t.erf(x), _values(), {}),
    ("erfc", lambda t, x: t.erfc(x), _values(), {}),
    ("erfinv", lambda t, x: t.erfinv(x), _UNIT, {}),
    ("sigmoid", lambda t, x: t.sigmoid(x), _values(), {}),
    ("sigmoid_", lambda t, x: (x * 1).sigmoid_(), _values(), {}),
    ("tanh", lambda t, x: t.tanh(x), _values(), {}),
    ("tanh_", lambda t, x: (x * 1).tanh_(), _values(), {}),
    ("digamma", lambda t, x: t.digamma(x), _values(lo=-40.0), {}),
    ("mvlgamma", lambda t, x: t.mvlgamma(x, 3), _values(lo=1.001, hi=1e4), {}),
    ("logit", lambda t, x: t.logit(x), _values(lo=-0.5, hi=1.5, extra=[1e-5, 0.99]), {}),
    # (1 - eps in the half type from eps rounded: a different bound for this eps)
    ("logit_eps", lambda t, x: t.logit(x, 0.1272), _values(lo=-0.5, hi=1.5, extra=[0.8728]),
     {}),
]


@pytest.mark.parametrize("name,fn,x,allow,dtype", _cases(UNARY_GRAD))
def test_unary_grad(name, fn, x, allow, dtype):
    compare(fn, dtype, [x], grad=True, **_allowed(allow, dtype))
