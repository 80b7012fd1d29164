"""`torch.special`: special functions on SciPy's `scipy.special` (imported on first use).

Integer and bool inputs compute in the default float dtype; float16/bfloat16 are computed in
float32 and rounded back. Gradients follow torch's: none for zeta (NotImplementedError, as in
torch), i1'(0) = 1/2, entr'(0) = inf, xlogy's d/dx is 0 where x == 0 and y <= 0.
softmax, log_softmax and logsumexp are the reduction family's (ember._ops.reduction); the Bessel
and Airy functions, the orthogonal polynomials and gammainc/gammaincc are in
ember._ops.special_functions (no gradients but gammainc's for `other`, as in torch).
"""
import math

import numpy as np

from ember import _dtype
from ember._backend import scipy_special
from ember._ops._helpers import is_tensor, promote, write_out
from ember._ops.pointwise import (_float_input, digamma, erf, erfc, erfinv, exp2, expm1, i0,
                                  log1p, logit, mvlgamma, polygamma, round, sigmoid, sinc,
                                  where, xlogy)
from ember._ops.pointwise_logic import broadcast_errors
from ember._ops.pointwise_unary import _const, _no_complex, _scipy, lgamma
from ember._ops.special_functions import (
    airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, chebyshev_polynomial_t,
    chebyshev_polynomial_u, chebyshev_polynomial_v, chebyshev_polynomial_w, gammainc, gammaincc,
    hermite_polynomial_h, hermite_polynomial_he, laguerre_polynomial_l, legendre_polynomial_p,
    modified_bessel_i0, modified_bessel_i1, modified_bessel_k0, modified_bessel_k1,
    scaled_modified_bessel_k0, scaled_modified_bessel_k1, shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w, spherical_bessel_j0)
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["expit", "logit", "erf", "erfc", "erfcx", "erfinv", "gammaln", "digamma", "psi",
           "polygamma", "multigammaln", "i0", "i0e", "i1", "i1e", "xlogy", "xlog1py", "entr",
           "ndtr", "ndtri", "log_ndtr", "sinc", "zeta", "softmax", "log_softmax", "logsumexp",
           "exp2", "expm1", "log1p", "round",
           # Bessel/Airy functions, orthogonal polynomials, incomplete gamma
           # (ember._ops.special_functions)
           "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
           "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p", "gammainc", "gammaincc"]

_asarray = np.asarray
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT1_2 = 0.7071067811865476   # (C's M_SQRT1_2, the Scalar torch multiplies by)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

expit = sigmoid
gammaln = lgamma
psi = digamma


def multigammaln(input, p, *, out=None):
    return mvlgamma(input, p, out=out)


def _zero_at(mask_array, t, value=0.0):
    """t with `value` where the constant NumPy mask holds."""
    if not mask_array.any():
        return t
    return where(_const(mask_array), value, t)


# ---------------------------------------------------------------------------------------------
# Unary special functions

class SpecialErfcx(ArrayFunction):
    """exp(x^2) erfc(x); d/dx = 2 x erfcx(x) - 2 / sqrt(pi)."""

    def forward(ctx, a):
        out = _scipy("erfcx", a)
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        a, y = ctx.saved_tensors
        return grad * (2 * a * y - _TWO_OVER_SQRT_PI)


class SpecialI0E(ArrayFunction):
    """exp(-|x|) I0(x); d/dx = i1e(x) - sign(x) i0e(x)."""

    def forward(ctx, a):
        out = _scipy("i0e", a)
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        a, y = ctx.saved_tensors
        return grad * (i1e(a) - a.sign() * y)


class SpecialI1(ArrayFunction):
    """Modified Bessel I1; d/dx = i0(x) - i1(x) / x, 1/2 at 0."""

    def forward(ctx, a):
        out = _scipy("i1", a)
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        a, y = ctx.saved_tensors
        zero = a._data == 0
        safe = _zero_at(zero, a, 1.0)
        return grad * _zero_at(zero, i0(a) - y / safe, 0.5)


class SpecialI1E(ArrayFunction):
    """exp(-|x|) I1(x); d/dx = i0e(x) - i1e(x) (sign(x) + 1/x), 1/2 at 0."""

    def forward(ctx, a):
        out = _scipy("i1e", a)
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        a, y = ctx.saved_tensors
        zero = a._data == 0
        safe = _zero_at(zero, a, 1.0)
        return grad * _zero_at(zero, i0e(a) - y * (a.sign() + 1 / safe), 0.5)


class SpecialNdtri(ArrayFunction):
    """The inverse of ndtr; d/dp = sqrt(2 pi) exp(y^2 / 2)."""

    def forward(ctx, a):
        out = _scipy("ndtri", a)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y * y * 0.5).exp() * _SQRT_2PI


class SpecialLogNdtr(ArrayFunction):
    """log(ndtr(x)), accurate far into the left tail; d/dx = pdf(x) / ndtr(x)."""

    def forward(ctx, a):
        out = _scipy("log_ndtr", a)
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        a, y = ctx.saved_tensors
        return grad * (a * a * -0.5 - y).exp() * _INV_SQRT_2PI


class SpecialEntr(ArrayFunction):
    """-x log x for x > 0, 0 at 0, -inf for x < 0; d/dx = -(1 + log x)."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _scipy("entr", a)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * -(a.log() + 1)


def _no_half(x, kernel):
    if x._data.dtype.itemsize == 2:
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{x.dtype._legacy.replace('Tensor', '')}'")


def _unary(cls, name, kernel, half=True, composite=False):
    """torch.special.<name>; `composite`: torch computes it out of place and copies into out=
    (so out joins the graph, as ndtr's does)."""
    def op(input, *, out=None):
        x = _float_input(input)
        _no_complex(x, kernel)
        if not half:
            _no_half(x, kernel)
        r = cls.apply(x)
        return r if out is None else write_out(out, r, grad="copy" if composite else True)
    op.__name__ = name
    op.__doc__ = f"torch.special.{name} (SciPy's {name}); integers give the default float dtype."
    return op


erfcx = _unary(SpecialErfcx, "erfcx", "erfcx_cpu", half=False)
i0e = _unary(SpecialI0E, "i0e", "i0e_cpu")
i1 = _unary(SpecialI1, "i1", "i1_cpu")
i1e = _unary(SpecialI1E, "i1e", "i1e_cpu")
def ndtr(input, *, out=None):
    """The standard normal CDF as torch composes it, (1 + erf(x / sqrt 2)) / 2, with its
    numbers as Scalar operands (so torch's values, 0 far in the left tail, and its nodes);
    integers give the default float dtype. out= copies the result (it joins the graph)."""
    from ember._ops.pointwise import erf, scalar_overload
    x = _float_input(input)
    _no_complex(x, "ndtr_cpu")
    r = scalar_overload(scalar_overload(erf(scalar_overload(x, "mul", _SQRT1_2)), "add", 1),
                        "mul", 0.5)
    return r if out is None else write_out(out, r, grad="copy")
ndtri = _unary(SpecialNdtri, "ndtri", "ndtri_cpu", half=False)
log_ndtr = _unary(SpecialLogNdtr, "log_ndtr", "log_ndtr_cpu", half=False)
entr = _unary(SpecialEntr, "entr", "entr_cpu")


# ---------------------------------------------------------------------------------------------
# Binary special functions

class SpecialXlog1Py(ArrayFunction):
    """x * log1p(y), 0 where x == 0 (unless y is NaN); d/dx = log1p(y), d/dy = x / (1 + y)."""

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        out = _asarray(scipy_special(a).xlog1py(a, b)).astype(np.result_type(a, b),
                                                             copy=False)
        return out

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = xlog1py(grad, b)
            ga = _zero_at((a._data == 0) & (_asarray(b._data if is_tensor(b) else b) <= -1), ga)
        if ctx.needs_input_grad[1]:
            gb = grad * a / (b + 1)
        return ga, gb


class Zeta(ArrayFunction):
    """Hurwitz zeta(x, q) = sum_k (k + q)^-x; torch defines no derivative."""

    def forward(ctx, a, b):
        return _asarray(scipy_special(a).zeta(a, b)).astype(np.result_type(a, b), copy=False)

    def backward(ctx, grad):
        raise NotImplementedError("the derivative for 'zeta' is not implemented.")


def _float_pair(input, other, name):
    if not is_tensor(input) and not is_tensor(other):
        raise TypeError(f"special_{name}() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__}), but expected one "
                        f"of: (Tensor input, Tensor other), (Number self, Tensor other), "
                        f"(Tensor input, Number other)")
    a, b, rd = promote(input, other)
    rd = rd or a.dtype
    if rd.is_complex:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for "
                                  f"'{rd._legacy.replace('Tensor', '')}'")
    if not rd.is_floating_point:
        rd = _dtype.get_default_dtype()
    a = _float_input(a) if is_tensor(a) else Tensor._make(_asarray(a, rd.np))
    b = _float_input(b) if is_tensor(b) else _asarray(b, rd.np)
    if a._data.dtype.itemsize < 4:   # half types: SciPy computes in float32
        from ember._ops._helpers import to_dtype
        return to_dtype(a, _dtype.float32), b.astype(np.float32) if not is_tensor(b) else \
            to_dtype(b, _dtype.float32), rd
    return a, b, rd


@broadcast_errors
def xlog1py(input, other, *, out=None):
    """input * log1p(other), with 0 where input == 0."""
    a, b, rd = _float_pair(input, other, "xlog1py")
    r = SpecialXlog1Py.apply(a, b)
    r = r if r.dtype is rd else r.to(rd)
    return r if out is None else write_out(out, r)


@broadcast_errors
def zeta(input, other, *, out=None):
    """The Hurwitz zeta function zeta(input, other) (no gradient, as in torch)."""
    a, b, rd = _float_pair(input, other, "zeta")
    if rd.np.itemsize == 2:
        raise NotImplementedError(f"\"zeta_cpu\" not implemented for "
                                  f"'{rd._legacy.replace('Tensor', '')}'")
    r = Zeta.apply(a, b)
    r = r if r.dtype is rd else r.to(rd)
    return r if out is None else write_out(out, r)


# ---------------------------------------------------------------------------------------------
# Reductions (written in the reduction family)

def softmax(input, dim, *, dtype=None):
    from ember._ops.softmax import softmax as _softmax
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    from ember._ops.softmax import log_softmax as _log_softmax
    return _log_softmax(input, dim, dtype=dtype)


def logsumexp(input, dim, keepdim=False, *, out=None):
    from ember._ops.softmax import logsumexp as _logsumexp
    return _logsumexp(input, dim, keepdim, out=out)
