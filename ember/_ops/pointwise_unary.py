"""Unary pointwise math: abs/sign, powers and roots, exp/log, trig and hyperbolic functions,
relu/sigmoid/tanh/logit, erf and gamma functions, rounding, clamp, nan_to_num.

Torch's traps kept here:
- integer and bool inputs of float functions (sqrt, exp, sin, erf ...) compute in the default
  float dtype; abs/sign/square/relu/rounding keep integer dtypes (square of bool is int64).
- complex gradients follow torch's convention: for a holomorphic f the input gradient is
  grad * conj(f'(z)); for a real-valued f of z = x + iy it is grad * (df/dx + i df/dy).
- kinks: abs'(0) = 0, relu'(0) = 0, clamp passes the gradient at its bounds (min <= x <= max).
- NumPy returns scalars from 0-d inputs: every forward wraps with np.asarray.
- out=: ops without promotion (abs, sign, rounding, clamp with number bounds) need exactly the
  result dtype ("Found dtype Long but expected Int"); float functions cast into any dtype the
  result may be cast to, and report a cast they cannot make before a dtype they lack.
- half types (float16, bfloat16) compute in float32 and round once, as torch's opmath does
  (see "Half types" below); a few kernels compute in the half type itself, rounding every
  step (logit; float16's sigmoid backward). Backward formulas that torch writes as a chain
  of ops (derivatives.yaml) round after every op, so they are written in the same order.
"""
import math

import numpy as np

from ember import _dtype
from ember._backend import scipy_special
from ember._ops._helpers import (_scalar_for, c_name, check_cast_back, check_inplace,
                                 check_out_same, fma32 as _fma32, in_memory_order, inplace,
                                 is_half, is_tensor, not_a_tensor, opmath_tensors,
                                 out_cast_first, select, to_dtype, vectorised_count,
                                 write_out, zero_of, zeros_of)
from ember._tensor import Tensor, _check_scalar
from ember._threads import two_way
from ember.autograd.function import ArrayFunction, rename_result
from ember.autograd.grad_mode import state as _grad_state

__all__ = []

_asarray = np.asarray
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _type_name(t):
    """'Float', 'Long', 'ComplexFloat' ...: the name torch's kernel errors use."""
    return t.dtype._legacy.replace("Tensor", "")


def _float_input(t):
    """Integer and bool tensors become the default float dtype (torch's float functions)."""
    if t._data.dtype.kind in "iub":
        return to_dtype(t, _dtype.get_default_dtype())
    return t


def _no_complex(t, kernel):
    if t._data.dtype.kind == "c":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_name(t)}\'')


def _const(array):
    return Tensor._make(_asarray(array))


def _where(mask, a, b):
    """where() on a constant NumPy mask (masks of piecewise functions never need gradients)."""
    from ember._ops.pointwise_logic import Where
    return Where.apply(a, b, cond=_asarray(mask))


_SPLIT_MIN = 1 << 15   # SciPy's special functions take ~15 ns an element: split from here


def _scipy(name, a, *args):
    """scipy.special.<name>(*args, a) in a's dtype (half types computed in float32). SciPy
    evaluates these one element at a time, so a large input is split in two halves run on
    two threads."""
    fn = getattr(scipy_special(a), name)
    src = a if a.dtype in (np.float32, np.float64) else a.astype(np.float32)
    if args or src.size < _SPLIT_MIN or type(src) is not np.ndarray:
        return _asarray(fn(*args, src)).astype(a.dtype, copy=False)
    flat = np.ascontiguousarray(src).reshape(-1)
    out = np.empty(flat.shape, fn(flat[:1]).dtype)
    two_way(lambda lo, hi: fn(flat[lo:hi], out=out[lo:hi]), flat.size, flat.size, _SPLIT_MIN)
    return out.reshape(src.shape).astype(a.dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# Half types (float16, bfloat16): torch computes them in float32 and rounds once. Its float32
# exp/log/tanh/... are SLEEF's vectorised functions, within 1 ulp of exact: NumPy's float64
# function rounded to float32 reproduces them far more often than NumPy's float32 loops (on
# every float16 value, float32 exp differs from torch's for 26% that way, 0.6% this way), and
# so reproduces the rounded half results.

_F32 = np.float32
_F32_TINY = np.finfo(np.float32).tiny
_EXP_MAX32 = math.log(float(np.finfo(np.float32).max))   # exp overflows float32 beyond this


def _via64(fn, x):
    """fn of a float32 or half array, evaluated in float64 and rounded to float32."""
    return _asarray(fn(x.astype(np.float64)), _F32)


def _half_math(fn, a):
    """fn(a) for a half-type (or float32) array as torch's float32 kernels compute it, in a's
    dtype (half types: rounded once from float32)."""
    return _via64(fn, a).astype(a.dtype, copy=False)


_TANH_ONE = 8.664339742   # SLEEF's float32 tanh is +-1 beyond this


def _tanh64(x):
    """tanh (on float64) saturating as SLEEF's float32 tanh does."""
    return select(np.abs(x) > _TANH_ONE, np.sign(x), np.tanh(x))


def _exp32(x):
    return _via64(np.exp, x)


def _tanh32(x):
    return _via64(_tanh64, x)


def _log1p64(x):
    """log1p (on float64 copies of float32 values) as SLEEF's float32 log1p: it rounds a
    subnormal argument to an even multiple of the smallest subnormal (log1p(2**-149) is 0)."""
    out = _asarray(np.log1p(x))
    tiny = np.abs(x) < _F32_TINY
    if tiny.any():
        out[tiny] = x[tiny].astype(_F32) * _F32(0.5) * _F32(2)
    return out


def _log1p32(x):
    return _via64(_log1p64, x)


# erf(x) = 1 - t P(t) exp(-x^2), t = 1 / (1 + p |x|): Abramowitz & Stegun 7.1.26 (absolute
# error < 1.5e-7), the formula of torch's vectorised float32 erf, which the half types use
_AS_P = _F32(0.3275911)
_AS_COEFFS = tuple(_F32(c) for c in (1.061405429, -1.453152027, 1.421413741, -0.284496736,
                                     0.254829592))


def _erf32(x):
    """erf of a float32 array as torch's vectorised kernel computes it (fused multiply-adds
    included): the erf of the half types, and of their gelu."""
    t = _F32(1) / _fma32(np.abs(x), _AS_P, _F32(1))
    poly = np.full_like(t, _AS_COEFFS[0])
    for c in _AS_COEFFS[1:]:
        poly = _fma32(poly, t, c)
    minus_e = -_exp32(-(x * x))
    return np.copysign(_fma32(minus_e * t, poly, _F32(1)), x)


def _opmath_grad(fn, grad, *saved):
    """fn(grad, *saved) (Tensor ops), computed as torch's fused backward kernels do for the
    half types: in float32, rounded once to grad's dtype."""
    if not is_half(grad._data.dtype):
        return fn(grad, *saved)
    return fn(*opmath_tensors(grad, *saved)).to(grad.dtype)


# ---------------------------------------------------------------------------------------------
# Unary ops. `_SavesInput` / `_SavesOutput` give forward = ufunc, saving what backward needs.

# The half types compute as torch's float32 kernels (`_half_math(fn64, a)`: fn64 is fn, or
# `half` where torch's float32 function differs from the exact one; `half_loop`: NumPy's own
# half-type loop, where it agrees with torch on every value and the float64 route does not).
# torch32=True gives a float32 input the same treatment: for formulas of the half types
# computed in float32 (`exp32` ...).

def _torch32_forward(ctx, a):
    return _asarray(ctx.fn(a)) if ctx.half_loop else _half_math(ctx.half or ctx.fn, a)


class _SavesInput(ArrayFunction):
    fn = None
    half = None
    half_loop = False

    def forward(ctx, a, *, torch32=False):
        ctx.save_for_backward(a)
        if torch32 or is_half(a.dtype):
            return _torch32_forward(ctx, a)
        return _asarray(ctx.fn(a))


class _SavesOutput(ArrayFunction):
    fn = None
    half = None
    half_loop = False

    def forward(ctx, a, *, torch32=False):
        out = _torch32_forward(ctx, a) if torch32 or is_half(a.dtype) else _asarray(ctx.fn(a))
        ctx.save_for_backward(out)
        return out


class Abs(ArrayFunction):
    """|x|; d/dx = sgn(x) (0 at 0); for complex z the gradient is grad * z / |z|."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _asarray(np.abs(a))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * a.sgn()


class Sign(ArrayFunction):
    """Zero gradient everywhere (torch's convention, also at 0)."""

    def forward(ctx, a):
        return _real_sign(a)

    def backward(ctx, grad):
        return zeros_of(grad)


def _real_sign(a):
    """np.sign, except that torch's sign(nan) is 0."""
    if a.dtype.kind == "b":
        return a.copy()
    out = _asarray(np.sign(a))
    if a.dtype.kind in "fV":
        out[np.isnan(out)] = 0
        if a.dtype.kind == "V":
            out += 0   # -0.0 -> +0.0, as torch's (0 < x) - (x < 0)
    return out


class Sgn(ArrayFunction):
    """z / |z| (0 at 0); for real inputs this is sign(x) with a zero gradient."""

    def forward(ctx, a):
        if a.dtype.kind != "c":
            return _real_sign(a)
        mag = np.abs(a)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = _asarray(select(mag == 0, 0, a / mag).astype(a.dtype, copy=False))
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        if not ctx._saved:
            return zeros_of(grad)
        a, s = ctx.saved_tensors
        mag = a.abs()
        # remove the radial part of grad, divide by |z|; 0 where z == 0
        g = (grad - (grad * s.conj()).real * s) / mag
        return _where(mag._data == 0, zero_of(grad), g)


class Sqrt(_SavesOutput):
    fn = np.sqrt

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (2 * y.conj())


def _half_rsqrt(a):
    """Rsqrt of a half-type array: see Rsqrt (memory order decides the scalar tail)."""
    if not a.flags.c_contiguous:
        b, undo = in_memory_order(a)
        if b.flags.c_contiguous:
            return _half_rsqrt(b).transpose(undo)
    out = (1 / np.sqrt(a.astype(_F32))).astype(a.dtype)
    k = vectorised_count(a)
    if k < a.size:   # the scalar loop: the sqrt rounded to the half type first
        tail = np.sqrt(a.reshape(-1)[k:] if k else a)
        tail = (1 / tail.astype(_F32)).astype(a.dtype)
        if not k:
            return _asarray(tail)
        out.reshape(-1)[k:] = tail
    return _asarray(out)


class Rsqrt(_SavesOutput):
    """1 / sqrt(x); the half types as torch's loops compute them: its vectorised loop takes
    1 / sqrt(x) in float32, rounded once, its scalar loop (the elements past the last whole
    block, or a strided input) rounds the sqrt first. Gradient: torch's -0.5 * grad * y^3."""

    def forward(ctx, a):
        with np.errstate(divide="ignore", invalid="ignore"):
            if is_half(a.dtype):
                out = _half_rsqrt(a)
            elif a.dtype.kind == "c":
                # 1 / z: NumPy's reciprocal gives NaN at 0, torch (and divide) inf
                out = _asarray(np.divide(1, np.sqrt(a)).astype(a.dtype, copy=False))
            else:
                out = np.reciprocal(np.sqrt(a))
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        if is_half(y._data.dtype):   # torch's order of ops, each rounded
            return -0.5 * grad * y.pow(3)
        return grad * (-0.5 * y * y * y).conj()


class Reciprocal(_SavesOutput):
    def forward(ctx, a):
        with np.errstate(divide="ignore", invalid="ignore"):
            # 1 / z for complex: NumPy's reciprocal gives NaN at 0, torch (and divide) inf
            out = _asarray(np.divide(1, a).astype(a.dtype, copy=False) if a.dtype.kind == "c"
                           else np.reciprocal(a))
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (-(y * y)).conj()


class Exp(_SavesOutput):
    """d/dx exp(x) = exp(x): saves the result, not the input."""
    fn = np.exp

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y.conj()


class Exp2(_SavesOutput):
    fn = np.exp2

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y.conj() * _LN2   # (torch's order: rounds after each op)


class Expm1(_SavesOutput):
    fn = np.expm1

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y + 1).conj()


class Log(_SavesInput):
    fn = np.log

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / a.conj()


class Log2(_SavesInput):
    fn = np.log2

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (a * _LN2).conj()


class Log10(_SavesInput):
    fn = np.log10

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (a * _LN10).conj()


class Log1P(_SavesInput):   # torch's node: Log1PBackward0
    fn = np.log1p
    half = staticmethod(_log1p64)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (a + 1).conj()


# --- trigonometric and hyperbolic ------------------------------------------------------------

class Sin(_SavesInput):
    fn = np.sin
    half_loop = True

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * a.cos().conj()


class Cos(_SavesInput):
    fn = np.cos

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * -a.sin().conj()


class Tan(_SavesOutput):
    fn = np.tan

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 + y * y).conj()


class Asin(_SavesInput):
    fn = np.arcsin
    half_loop = True

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * (1 - a * a).rsqrt().conj()


class Acos(_SavesInput):
    fn = np.arccos

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * -(1 - a * a).rsqrt().conj()


class Atan(_SavesInput):
    fn = np.arctan

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (1 + a * a).conj()


def _overflows_exp32(fn):
    """fn (on float64) infinite where exp(|x|) overflows float32, as torch's float32 sinh and
    cosh (SLEEF's) are, although the value itself may still fit (bfloat16's range)."""
    def f(x):
        out = fn(x)
        return select(np.abs(x) > _EXP_MAX32, out * np.inf, out)
    return staticmethod(f)


class Sinh(_SavesInput):
    fn = np.sinh
    half = _overflows_exp32(np.sinh)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * a.cosh().conj()


class Cosh(_SavesInput):
    fn = np.cosh
    half = _overflows_exp32(np.cosh)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * a.sinh().conj()


class Tanh(_SavesOutput):
    """d/dx tanh(x) = 1 - tanh(x)^2, from the saved output (torch's fused tanh_backward:
    half types in float32, rounded once)."""
    fn = np.tanh
    half = staticmethod(_tanh64)

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        if is_half(y._data.dtype):
            return _opmath_grad(lambda g, y: g * (1 - y * y), grad, y)
        return grad * (1 - y * y).conj()


class Asinh(_SavesInput):
    fn = np.arcsinh

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * (a * a + 1).rsqrt().conj()


class Acosh(_SavesInput):
    fn = np.arccosh

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        if is_half(a._data.dtype):   # torch's formula, rounded after each op
            return grad * (a * a - 1).rsqrt()
        return grad * ((a - 1).rsqrt() * (a + 1).rsqrt()).conj()


class Atanh(_SavesInput):
    fn = np.arctanh

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (1 - a * a).conj()


# --- activations ------------------------------------------------------------------------------

def _masked_array(a, mask):
    """a where mask else +0 (NaN and inf outside the mask become 0, as torch's where does),
    by `select`'s bit AND: ~10x faster than np.where on the random masks activations make."""
    return np.asarray(select(mask, a, 0))


class MaskedGrad(ArrayFunction):
    """grad where mask else 0: the backward of piecewise activations (relu, hardtanh, ...).
    Linear in grad, so its own backward masks the same way. `source` (the activation's input
    or output the mask came from) is an input too, as in torch: its derivative is zero, but
    the graph reaches it, so a second derivative gives zeros there rather than None."""

    def forward(ctx, grad, source=None, *, mask):
        ctx.mask = mask
        return _masked_array(grad, mask)

    def backward(ctx, gg):
        g = MaskedGrad.apply(gg, mask=ctx.mask) if ctx.needs_input_grad[0] else None
        zero = None
        if len(ctx.needs_input_grad) > 1 and ctx.needs_input_grad[1]:
            zero = Tensor._make(np.zeros(ctx.mask.shape, gg._data.dtype))
        return g, zero

    def name(self):
        return "ThresholdBackwardBackward0"


def _mask_grad(grad, mask, source=None):
    return MaskedGrad.apply(grad, source, mask=mask)


_ZEROS = {}   # dtype -> a read-only flat array of zeros, grown to the largest size asked


def _zeros_for(a):
    """Zeros of a's (C-contiguous) shape and dtype without allocating: a view of a cached
    buffer. NumPy's maximum runs its SIMD loop only for two contiguous arrays; against a
    scalar 0 it is 3-4x slower."""
    z = _ZEROS.get(a.dtype)
    if z is None or z.size < a.size:
        z = _ZEROS[a.dtype] = np.zeros(max(a.size, 1024), a.dtype)
        z.flags.writeable = False
    return z[:a.size].reshape(a.shape)


_ZERO_FIRST = {}


def _zero_first(dt):
    """Whether np.maximum(0, x) (rather than (x, 0)) keeps x = -0.0 for this dtype: which
    operand NumPy returns for equal zeros differs between its SIMD (float32/64) and scalar
    (float16) loops. Probed once per dtype, on the contiguous and the strided loop."""
    first = _ZERO_FIRST.get(dt)
    if first is None:
        x = np.array([-0.0, -1.0] * 64, dt)
        first = _ZERO_FIRST[dt] = bool(np.signbit(np.maximum(np.zeros(128, dt), x)[0])
                                       and np.signbit(np.maximum(0, x[::2])[0]))
    return first


class Relu(ArrayFunction):
    """max(x, 0), as torch's clamp_min: -0.0 and NaN pass through; the gradient flows where
    the output is not <= 0 (NaN included), so it is 0 at 0."""

    def forward(ctx, a):
        if a.dtype.kind in "fV":
            zero = _zeros_for(a) if a.flags.c_contiguous else 0
            out = np.maximum(zero, a) if _zero_first(a.dtype) else np.maximum(a, zero)
        else:
            out = np.maximum(a, 0)
        out = _asarray(out)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors   # (y >= 0 or NaN: y != 0 is torch's "not y <= 0")
        return _mask_grad(grad, y._data != 0, y)


class Sigmoid(_SavesOutput):
    """1 / (1 + exp(-x)) without overflow; d = y * (1 - y) from the saved output."""

    def forward(ctx, a):
        if a.dtype.kind == "c":
            out = _asarray(1 / (1 + np.exp(-a)))
        elif a.dtype == np.float32 or a.dtype == np.float64:
            out = _scipy("expit", a)   # one stable ufunc (on two threads when large)
        else:   # half types: in float32 as torch's opmath, rounded once
            out = _asarray(scipy_special(a).expit(a.astype(np.float32)).astype(a.dtype))
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        dt = y._data.dtype
        if dt == np.float16:   # torch's float16 sigmoid_backward rounds every step
            return grad * (1 - y) * y
        if is_half(dt):
            return _opmath_grad(lambda g, y: g * (1 - y) * y, grad, y)
        if not _grad_state.enabled and dt.kind == "f" and grad._data.dtype == dt:
            d = 1 - y._data   # first order: (y (1 - y)) g in NumPy
            d *= y._data
            d *= grad._data
            return Tensor._make(d)
        return grad * (y * (1 - y)).conj()


class Logit(ArrayFunction):
    """log(x / (1 - x)), x first clamped to [lo, hi] = [eps, 1 - eps] when eps is given;
    with eps the gradient is 0 outside that interval, without it NaN outside [0, 1]. The
    bounds are taken in x's dtype, and the half types compute in their own dtype, rounding
    every step, as torch's kernels do."""

    def forward(ctx, a, *, eps):
        ctx.save_for_backward(a)
        ctx.bounds = None
        if eps is not None:
            lo = _asarray(eps, a.dtype)
            ctx.bounds = lo, _asarray(1, a.dtype) - lo
            a = np.clip(a, *ctx.bounds).astype(a.dtype, copy=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _asarray(np.log(a / (1 - a)))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        g = grad / (a * (1 - a))
        x = a._data
        if ctx.bounds is None:
            return _where((x < 0) | (x > 1), grad * np.nan, g)
        lo, hi = ctx.bounds
        return _where((x < lo) | (x > hi), zero_of(grad), g)


# --- error and gamma functions (scipy.special) ------------------------------------------------

class Erf(_SavesInput):
    """erf (the half types: torch's float32 approximation, `_erf32`); gradient as torch
    orders it, 2/sqrt(pi) * exp(-x^2) * grad."""

    def forward(ctx, a, *, torch32=False):
        ctx.save_for_backward(a)
        if torch32 or is_half(a.dtype):
            return _erf32(a.astype(_F32)).astype(a.dtype, copy=False)
        return _scipy("erf", a)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return _TWO_OVER_SQRT_PI * (-(a * a)).exp() * grad


class Erfc(_SavesInput):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _scipy("erfc", a)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return -_TWO_OVER_SQRT_PI * (-(a * a)).exp() * grad


class Erfinv(_SavesOutput):
    def forward(ctx, a):
        out = _scipy("erfinv", a)
        zero = a == 0
        if zero.any():   # an odd function: erfinv(-0.0) is -0.0 (SciPy gives +0.0)
            out[zero] = a[zero]
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return _SQRT_PI_OVER_2 * (y * y).exp() * grad


_LGAMMA_MAX32 = 4.0371e36   # glibc's lgammaf overflows from here on (measured)


def _lgamma(a):
    out = _scipy("gammaln", a)
    out[np.isneginf(a)] = np.inf   # torch: lgamma(-inf) = inf (SciPy: -inf)
    if is_half(a.dtype):   # (torch computes them with glibc's float32 lgammaf)
        out[a > _LGAMMA_MAX32] = np.inf
    return out


class Lgamma(_SavesInput):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _lgamma(a)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * digamma(a)


# digamma psi and trigamma psi' of the half types as torch's float32 kernels compute them
# (SciPy's double results, rounded, differ for a few values): x shifted up by the recurrences
# psi(x) = psi(x + 1) - 1/x and psi'(x) = psi'(x + 1) + 1/x^2, then asymptotic series.
_PSI_SERIES = tuple(_F32(c) for c in (1 / 12, -691 / 32760, 1 / 132, -1 / 240, 1 / 252,
                                      -1 / 120, 1 / 12))   # in z = 1/x^2, highest power first
_PSI_10 = _F32(2.25175258906672110764)   # psi(10)


def _digamma32(x):
    """psi of a float32 array: x < 0 by reflection, psi(1 - x) - pi / tan(pi frac(x)) (the
    tangent in float64); x shifted to >= 10; then ln x - 1/(2x) - z P(z), z = 1/x^2."""
    neg = x < 0
    refl = (math.pi / np.tan(math.pi * np.fmod(x, 1.0, dtype=np.float64))).astype(_F32)
    y = select(neg, 1 - x, x)
    acc = np.zeros_like(y)
    for _ in range(10):   # (at most 10 steps: a loop over the shift, not over elements)
        low = y < 10
        acc = select(low, acc - 1 / y, acc)
        y = select(low, y + 1, y)
    z = 1 / (y * y)
    poly = np.full_like(z, _PSI_SERIES[0])
    for c in _PSI_SERIES[1:]:
        poly = poly * z + c
    series = select(y < _F32(1e17), z * poly, 0)
    out = select(y == 10, acc + _PSI_10, acc + _via64(np.log, y) - _F32(0.5) / y - series)
    out = select(neg, out - refl, out)
    out = select(x == 0, np.copysign(_F32(np.inf), -x), out)   # -inf at +0, inf at -0
    return select(neg & (x == np.trunc(x)), _F32(np.nan), out)


def _trigamma32(x):
    """psi' of a float32 array: x < 1/2 by reflection, pi^2 / sin(pi x)^2 - psi'(1 - x);
    six shifts; then (1 + 1/(2x) + 1/(6x^2) - 1/(30x^4) + 1/(42x^6)) / x."""
    small = x < _F32(0.5)
    pi = _F32(math.pi)
    s = _via64(np.sin, pi * x)
    acc = select(small, -(pi * pi) / (s * s), 0).astype(_F32)
    y = select(small, 1 - x, x)
    for _ in range(6):
        acc = acc + 1 / (y * y)
        y = y + 1
    ixx = 1 / (y * y)
    tail = (1 + 1 / (2 * y) + ixx * (_F32(1 / 6) - ixx * (_F32(1 / 30) - ixx * _F32(1 / 42)))) / y
    return select(small, -(acc + tail), acc + tail)


def _half_gamma_fn(fn, a):
    return fn(a.astype(_F32)).astype(a.dtype)


class Digamma(_SavesInput):
    """psi(x): -inf at +0, inf at -0, nan at negative integers (SciPy agrees with torch)."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        if is_half(a.dtype):
            return _half_gamma_fn(_digamma32, a)
        return _scipy("psi", a)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * polygamma(1, a)


class Polygamma(_SavesInput):
    """The n-th derivative of digamma; n = 0 is digamma itself."""

    def forward(ctx, a, *, n):
        ctx.n = n
        ctx.save_for_backward(a)
        if n <= 1 and is_half(a.dtype):
            return _half_gamma_fn(_trigamma32 if n else _digamma32, a)
        if n == 0:
            return _scipy("psi", a)
        out = _scipy("polygamma", a, n)
        # torch: NaN for trigamma at -inf and for higher orders at +inf (SciPy: inf, 0)
        out[np.isneginf(a) if n == 1 else np.isposinf(a)] = np.nan
        return out

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * polygamma(ctx.n + 1, a)


class Mvlgamma(ArrayFunction):
    """log of the multivariate gamma function of order p:
    sum_{i < p} lgamma(x - i / 2) + p (p - 1) / 4 log(pi). Like torch, no domain check
    (SciPy's multigammaln refuses x <= (p - 1) / 2, so it is not used). Computed as torch
    composes it: the terms x - i/2 and their lgamma in x's dtype (i = p - 1 first), summed in
    float32 for the half types and rounded, then the constant added in x's dtype (torch's
    half + number rounds the number first); the gradient likewise sums the terms' digammas."""

    def forward(ctx, a, *, p):
        ctx.p = p
        ctx.save_for_backward(a)
        acc = np.float32 if is_half(a.dtype) else a.dtype
        total = np.zeros(a.shape, acc)
        for t in _mvlgamma_terms(a, p):   # a loop over the order p, not over elements
            total += _lgamma(t)
        const = np.asarray(p * (p - 1) / 4 * math.log(math.pi), a.dtype)
        return _asarray(total.astype(a.dtype, copy=False) + const)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        total = None
        for t in _mvlgamma_terms(a, ctx.p):
            d = digamma(t)
            d = d.float() if is_half(d._data.dtype) else d
            total = d if total is None else total + d
        return grad * total.to(grad.dtype)


def _mvlgamma_terms(a, p):
    """x - (p - 1)/2, ..., x - 1/2, x in x's dtype (arrays or Tensors), torch's order."""
    for i in range(p - 1, -1, -1):
        yield a - np.asarray(i / 2, a.dtype) if isinstance(a, np.ndarray) else a - i / 2


class I0(_SavesInput):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        out = _scipy("i0", a)
        if is_half(a.dtype):   # torch's float32 kernel scales by exp(|x|), which overflows
            out[np.abs(a) > _EXP_MAX32] = np.inf
        out[np.isinf(a)] = np.nan   # torch's i0(+-inf) is nan (SciPy: inf)
        return out

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        from ember.special import i1
        return grad * i1(a)


# --- float32 functions as torch's kernels compute them (Tensors; differentiable) --------------

def exp32(t):
    """exp of a float32 Tensor as torch's vectorised float32 kernel gives it: for backward
    formulas of the half types computed in float32."""
    return Exp.apply(t, torch32=True)


def tanh32(t):
    return Tanh.apply(t, torch32=True)


def log1p32(t):
    return Log1P.apply(t, torch32=True)


def erf32(t):
    return Erf.apply(t, torch32=True)


# --- rounding (zero gradients, except frac) ---------------------------------------------------

class _Rounding(ArrayFunction):
    fn = None

    def forward(ctx, a):
        if a.dtype.kind in "iu":
            return a.copy()
        return _asarray(ctx.fn(a))

    def backward(ctx, grad):
        return zeros_of(grad)


class Floor(_Rounding):
    fn = np.floor


class Ceil(_Rounding):
    fn = np.ceil


class Trunc(_Rounding):
    fn = np.trunc


class Round(ArrayFunction):
    """Round half to even; with decimals, x * 10^d rounded then divided back (torch's way)."""

    def forward(ctx, a, *, decimals=0):
        if a.dtype.kind in "iu":
            return a.copy()
        if decimals == 0:
            return _asarray(np.rint(a))
        w = np.float32 if a.dtype.itemsize < 4 else a.dtype   # half types: float32 opmath
        x = a.astype(w, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):
            if decimals > 0:
                s = np.asarray(10.0 ** decimals, w)
                return _asarray((np.rint(x * s) / s).astype(a.dtype, copy=False))
            s = np.asarray(10.0 ** -decimals, w)
            return _asarray((np.rint(x / s) * s).astype(a.dtype, copy=False))

    def backward(ctx, grad):
        return zeros_of(grad)


class Frac(ArrayFunction):
    """x - trunc(x); the gradient passes through unchanged."""

    def forward(ctx, a):
        return _asarray(a - np.trunc(a))

    def backward(ctx, grad):
        return grad


# --- clamp and nan_to_num ---------------------------------------------------------------------

class Clamp(ArrayFunction):
    """min(max(x, lo), hi) (all hi where lo > hi). The input's gradient passes where
    lo <= x <= hi (boundaries included); a tensor bound gets it where it is the result."""

    def forward(ctx, a, lo=None, hi=None, *, numbers=False):
        # number bounds come as parameters (lo=, hi=): torch's ClampBackward1 has one edge
        ctx.save_for_backward(a, lo, hi)
        ctx.numbers = numbers
        if np.ndim(lo) == 0 and np.ndim(hi) == 0:
            # number bounds: NumPy's clip loop is 5-15x faster than maximum then minimum with
            # a number, and keeps the input's -0.0 or 0.0 at a zero bound, as torch does (a
            # missing float bound is infinite: clip with one bound drops -0.0). bfloat16's
            # clip returns float32, the selected values exactly: cast back.
            if a.dtype.kind in "fV":
                lo, hi = -np.inf if lo is None else lo, np.inf if hi is None else hi
            return _asarray(np.clip(a, lo, hi).astype(a.dtype, copy=False))
        out = a
        if lo is not None:
            out = np.maximum(out, lo)
        if hi is not None:
            out = np.minimum(out, hi)
        return _asarray(out) if out is not a else a.copy()

    def backward(ctx, grad):
        a, lo, hi = ctx.saved_tensors
        x = a._data
        lo_d = lo._data if is_tensor(lo) else lo
        hi_d = hi._data if is_tensor(hi) else hi
        keep = np.ones(x.shape, bool)
        if lo is not None:
            keep = keep & (x >= lo_d)
        if hi is not None:
            keep = keep & (x <= hi_d)
        zero = zero_of(grad)
        g_a = _where(keep, grad, zero) if ctx.needs_input_grad[0] else None
        if ctx.numbers:
            return g_a
        g_lo = g_hi = None
        if ctx.needs_input_grad[1]:
            m = x < lo_d
            if hi is not None:
                m = m & (lo_d < hi_d)
            g_lo = _where(m, grad, zero)
        if ctx.needs_input_grad[2]:
            m = x > hi_d
            if lo is not None:
                m = m | (hi_d < lo_d)
            g_hi = _where(m, grad, zero)
        return g_a, g_lo, g_hi

    def name(self):   # torch's overloads: Scalar bounds (1) or Tensor bounds (0); clamp_min/max
        return getattr(self, "_name", None) or ("ClampBackward1" if self.numbers
                                                else "ClampBackward0")


class NanToNum(ArrayFunction):
    """nan -> nan, +inf -> posinf, -inf -> neginf (the dtype's extremes by default); the
    gradient is zero where the input was not finite."""

    def forward(ctx, a, *, nan, posinf, neginf):
        ctx.save_for_backward(a)
        if a.dtype.kind not in "fcV":
            return a.copy()
        if a.dtype.kind == "V":   # bfloat16: in float32 with bfloat16's extremes
            import ml_dtypes
            big = float(ml_dtypes.finfo(a.dtype).max)
            return _asarray(np.nan_to_num(
                a.astype(np.float32), nan=nan, posinf=big if posinf is None else posinf,
                neginf=-big if neginf is None else neginf).astype(a.dtype))
        return _asarray(np.nan_to_num(a, copy=True, nan=nan, posinf=posinf, neginf=neginf))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return _where(np.isfinite(a._data), grad, grad * 0)   # (torch: grad * isfinite(x))


# ---------------------------------------------------------------------------------------------
# Public functions

def _result(r, out):
    return r if out is None else write_out(out, r)


def _float_op(cls, name, kernel=None, real_only=False):
    """torch.<name>(input, *, out=None) for a float function (ints -> default float)."""
    def op(input, *, out=None):
        try:
            kind = input._data.dtype.kind
        except AttributeError:
            raise not_a_tensor(input, name) from None
        x = to_dtype(input, _dtype.get_default_dtype()) if kind in "iub" else input
        try:
            if real_only:
                _no_complex(x, kernel or name)
            r = cls.apply(x)
        except NotImplementedError:   # out_cast_first's order of checks, without its frame
            if out is not None:
                check_cast_back(out, (input,), promote_with_out=False)
            raise
        return r if out is None else write_out(out, r)
    op.__name__ = name
    op.__doc__ = f"torch.{name}: elementwise, integer inputs computed in the default float dtype."
    return op


sqrt = _float_op(Sqrt, "sqrt")
rsqrt = _float_op(Rsqrt, "rsqrt")
reciprocal = _float_op(Reciprocal, "reciprocal")
exp = _float_op(Exp, "exp")
exp2 = _float_op(Exp2, "exp2")
expm1 = _float_op(Expm1, "expm1")
log = _float_op(Log, "log")
log2 = _float_op(Log2, "log2")
log10 = _float_op(Log10, "log10")
log1p = _float_op(Log1P, "log1p")
sin = _float_op(Sin, "sin")
cos = _float_op(Cos, "cos")
tan = _float_op(Tan, "tan")
asin = arcsin = _float_op(Asin, "asin")
acos = arccos = _float_op(Acos, "acos")
atan = arctan = _float_op(Atan, "atan")
sinh = _float_op(Sinh, "sinh")
cosh = _float_op(Cosh, "cosh")
tanh = _float_op(Tanh, "tanh")
asinh = arcsinh = _float_op(Asinh, "asinh")
acosh = arccosh = _float_op(Acosh, "acosh")
atanh = arctanh = _float_op(Atanh, "atanh")
sigmoid = _float_op(Sigmoid, "sigmoid")
erf = _float_op(Erf, "erf", "erf_vml_cpu", True)
erfc = _float_op(Erfc, "erfc", "erfc_vml_cpu", True)
erfinv = _float_op(Erfinv, "erfinv", "erfinv_vml_cpu", True)
lgamma = _float_op(Lgamma, "lgamma", "lgamma_vml_cpu", True)
digamma = _float_op(Digamma, "digamma", "digamma", True)
i0 = _float_op(I0, "i0", "i0_vml_cpu", True)


def abs(input, *, out=None):
    """|x|; keeps integer dtypes, complex gives the matching real dtype; bool is an error.
    out= must have the input's dtype (a complex input: any floating dtype, or its own)."""
    try:
        k = input._data.dtype.kind
    except AttributeError:
        raise not_a_tensor(input) from None
    if out is not None and (k != "c" or out.dtype.is_complex):
        check_out_same(out, input.dtype)
    if k == "b":
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return _result(Abs.apply(input), out)


absolute = abs


def sign(input, *, out=None):
    """-1, 0 or 1 in the input's dtype; complex inputs need sgn instead (as in torch)."""
    try:
        k = input._data.dtype.kind
    except AttributeError:
        raise not_a_tensor(input) from None
    if k == "c":
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex "
                                  "numbers. Please use torch.sgn instead.")
    check_out_same(out, input.dtype)
    return _result(Sign.apply(input), out)


def sgn(input, *, out=None):
    """z / |z| (0 at 0) in the input's dtype; sign for real inputs."""
    if not is_tensor(input):
        raise not_a_tensor(input)
    check_out_same(out, input.dtype)
    return _result(Sgn.apply(input), out)


def square(input, *, out=None):
    """pow(x, 2), as torch computes it (a PowBackward0 node); bool squares to int64."""
    from ember._ops.pointwise import pow
    try:
        k = input._data.dtype.kind
    except AttributeError:
        raise not_a_tensor(input) from None
    if k == "b":
        input = to_dtype(input, _dtype.int64)
    return _result(pow(input, 2), out)


def relu(input):
    """max(x, 0), keeping the dtype (ints too); the gradient at 0 is 0."""
    try:
        k = input._data.dtype.kind
    except AttributeError:
        raise not_a_tensor(input) from None
    if k == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    if k == "c":
        raise NotImplementedError("clamp is not supported for complex types")
    return Relu.apply(input)


@out_cast_first
def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)); with eps, p is clamped to [eps, 1 - eps] first."""
    if not is_tensor(input):
        raise not_a_tensor(input)
    x = _float_input(input)
    _no_complex(x, "logit_cpu")
    return _result(Logit.apply(x, eps=eps), out)


@out_cast_first
def polygamma(n, input, *, out=None):
    if not is_tensor(input):
        raise not_a_tensor(input, "polygamma", pos=2)
    if not isinstance(n, int) or n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    x = _float_input(input)
    _no_complex(x, {0: "digamma", 1: "trigamma"}.get(n, "polygamma"))
    return _result(Polygamma.apply(x, n=n), out)


def mvlgamma(input, p, *, out=None):
    """Multivariate log-gamma of order p; every element must exceed (p - 1) / 2."""
    try:
        k = input._data.dtype.kind
    except AttributeError:
        raise not_a_tensor(input) from None
    if k == "b":
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = _float_input(input)
    _no_complex(x, "arange_cpu")   # (torch sums lgamma over an arange in x's dtype)
    r = Mvlgamma.apply(x, p=p)
    if out is not None:
        _mvlgamma_cast(input, r, out)
    return _result(r, out)


def _mvlgamma_cast(input, r, dst):
    """torch's own (oddly worded) check that the result casts into out= or in-place `input`."""
    if not _dtype.can_cast(r.dtype, dst.dtype):
        raise RuntimeError(f"mvlgamma: result type {input.dtype._legacy} can't be cast to the "
                           f"desired output type {r.dtype._legacy}")


def _mvlgamma_(self, p):
    r = mvlgamma(self, p)
    _mvlgamma_cast(self, r, self)
    return inplace(self, r)


def _rounding_op(cls, name, kernel):
    def op(input, *, out=None):
        try:
            k = input._data.dtype.kind
        except AttributeError:
            raise not_a_tensor(input, name) from None
        if k == "c":
            raise NotImplementedError(f"{name} is not supported for complex inputs")
        check_out_same(out, input.dtype)
        if k == "b":
            raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
        return _result(cls.apply(input), out)
    op.__name__ = name
    return op


floor = _rounding_op(Floor, "floor", "floor_vml_cpu")
ceil = _rounding_op(Ceil, "ceil", "ceil_vml_cpu")
trunc = _rounding_op(Trunc, "trunc", "trunc_vml_cpu")
fix = trunc


def round(input, *, decimals=None, out=None):
    """Round half to even (0.5 -> 0, 2.5 -> 2); decimals= needs a float input. Given
    decimals= (even 0), torch records its other overload's node, RoundBackward1."""
    overload = decimals is not None
    decimals = decimals or 0
    try:
        k = input._data.dtype.kind
    except AttributeError:
        raise not_a_tensor(input) from None
    check_out_same(out, input.dtype)
    if k == "b" or (k in "iu" and decimals != 0):
        kernel = "round_cpu" if decimals else "round_vml_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(input)}'")
    if k == "c":
        kernel = "round_cpu" if decimals else "round_vml_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(input)}'")
    r = Round.apply(input, decimals=decimals)
    return _result(r if not overload else rename_result(r, "RoundBackward1"), out)


def frac(input, *, out=None):
    try:
        k = input._data.dtype.kind
    except AttributeError:
        raise not_a_tensor(input) from None
    check_out_same(out, input.dtype)
    if k in "iubc":
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{_type_name(input)}'")
    return _result(Frac.apply(input), out)


def positive(input):
    try:
        k = input._data.dtype.kind
    except AttributeError:
        raise not_a_tensor(input) from None
    if k == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def clamp(input, min=None, max=None, *, out=None):
    """Clamp to [min, max] (numbers or tensors, broadcast); min > max gives max everywhere.
    The result dtype promotes input with the bounds (int tensor, float bound -> float). With
    number bounds out= must have exactly that dtype; tensor bounds cast into it."""
    try:
        k = input._data.dtype.kind
    except AttributeError:
        raise not_a_tensor(input) from None
    if k == "f" and type(min) in _NUMBERS and type(max) in _NUMBERS:
        # the hot path: float tensor, number bounds -> the input's dtype, no promotion
        npd = input._data.dtype
        _check_bounds((min, max), npd)
        lo = min if min is None or npd.itemsize >= 4 else _asarray(min, npd)
        hi = max if max is None or npd.itemsize >= 4 else _asarray(max, npd)
        if lo is not None or hi is not None:
            if out is not None:
                check_out_same(out, input.dtype)
            return _result(Clamp.apply(input, lo=lo, hi=hi, numbers=True), out)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if k == "c":
        raise NotImplementedError("clamp is not supported for complex types")
    bounds = [b for b in (min, max) if b is not None]
    rd = _dtype.result_type_of([input] + bounds)
    tensors = [b for b in bounds if is_tensor(b)]
    if rd.is_complex:
        if k in "fV" and any(type(b) is complex for b in bounds):
            raise RuntimeError("value cannot be converted to type double without overflow")
        raise NotImplementedError("clamp is not supported for complex types")
    if rd is _dtype.bool and k == "b" and len(tensors) != 1:
        kernel = ("clamp_cpu" if tensors else "clamp_scalar_cpu" if len(bounds) == 2 else
                  "clamp_min_scalar_cpu" if min is not None else "clamp_max_scalar_cpu")
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if not tensors:
        check_out_same(out, rd)
    _check_bounds(bounds, rd.np)
    x = to_dtype(input, rd)
    lo = _bound(min, rd)
    hi = _bound(max, rd)
    if not tensors:
        return _result(Clamp.apply(x, lo=lo, hi=hi, numbers=True), out)
    return _result(Clamp.apply(x, lo, hi, numbers=False), out)


_NUMBERS = (int, float, type(None))


def _check_bounds(bounds, npd):
    """torch's conversion of number bounds to the result dtype `npd`: a Python int beyond 64
    bits is an OverflowError, a value outside the dtype's range a RuntimeError."""
    for b in bounds:
        if type(b) is int and not -2 ** 63 <= b < 2 ** 64:
            raise OverflowError("int too big to convert" if b > 0
                                else "can't convert negative int to unsigned")
        if b is not None and not is_tensor(b):
            _check_scalar(b, npd)


def _bound(b, rd):
    """A bound in the result dtype: tensors cast, numbers as NumPy combines them without
    widening (integers out of range wrap, as torch's cast of the scalar does)."""
    if b is None:
        return None
    if is_tensor(b):
        return to_dtype(b, rd)
    if rd.np.kind in "iub":
        return _asarray(_scalar_for(b, rd), dtype=rd.np)
    return _asarray(b, dtype=rd.np) if rd.np.itemsize < 4 else _scalar_for(b, rd)


clip = clamp


def _one_bound(r, name, bound, out):
    """clamp_min/clamp_max with a number bound (and no out=) record torch's own node."""
    return r if out is not None or is_tensor(bound) else rename_result(r, name)


def clamp_min(input, min, *, out=None):
    return _one_bound(clamp(input, min=min, out=out), "ClampMinBackward0", min, out)


def clamp_max(input, max, *, out=None):
    return _one_bound(clamp(input, max=max, out=out), "ClampMaxBackward0", max, out)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """NaN -> nan, inf -> posinf (default: the dtype's max), -inf -> neginf (its lowest)."""
    if not is_tensor(input):
        raise not_a_tensor(input)
    if out is not None and out.dtype is not input.dtype:
        raise RuntimeError(f"nan_to_num: dtype of out: {out.dtype._legacy} should be same as "
                           f"input: {input.dtype._legacy}")
    return _result(NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf), out)


# ---------------------------------------------------------------------------------------------
# Tensor methods, in-place variants and torch.<name>_ functions

def _inplace_of(fn):
    def method(self, *args, **kwargs):
        return inplace(self, fn(self, *args, **kwargs))
    method.__name__ = fn.__name__ + "_"
    return method


def _no_inplace_derivative(fn, base):
    """torch has no derivative for the in-place acosh_, asinh_, atanh_: it refuses them on a
    tensor that requires grad (after the leaf checks)."""
    def method(self):
        if self._requires_grad and _grad_state.enabled:
            check_inplace(self)
            raise NotImplementedError(f"the derivative for 'inplace version of {base}' is not "
                                      f"implemented.")
        return inplace(self, fn(self))
    method.__name__ = fn.__name__ + "_"
    return method


def _clamp_inplace(fn, complex_kernel=None):
    """clamp_ and friends: the promoted result must cast back into self (with number bounds
    torch's own check, before the memory's, naming self's dtype in C++); with a tensor bound
    clamp_min_/clamp_max_ run torch's maximum/minimum kernels (no complex version)."""
    def method(self, *args, **kwargs):
        if complex_kernel and self._data.dtype.kind == "c" and _any_tensor(args, kwargs):
            raise NotImplementedError(f"\"{complex_kernel}\" not implemented for "
                                      f"'{self.dtype._legacy}'")
        r = fn(self, *args, **kwargs)
        if r._data.dtype != self._data.dtype and not _dtype.can_cast(r.dtype, self.dtype) \
                and not _any_tensor(args, kwargs):
            raise RuntimeError(f"result type {r.dtype._legacy} can't be cast to the desired "
                               f"output type {c_name(self.dtype)}")
        return inplace(self, r)
    method.__name__ = fn.__name__ + "_"
    return method


def _any_tensor(args, kwargs):
    return any(is_tensor(b) for b in args) or any(is_tensor(b) for b in kwargs.values())


_SPECIAL_INPLACE = {"acosh": "acosh", "arccosh": "acosh", "asinh": "asinh", "arcsinh": "asinh",
                    "atanh": "atanh", "arctanh": "atanh"}


# name: (function, torch has torch.<name>_)
_UNARY = {
    "abs": (abs, True), "absolute": (absolute, False), "sign": (sign, False),
    "sgn": (sgn, False), "sqrt": (sqrt, True), "rsqrt": (rsqrt, True),
    "square": (square, True), "reciprocal": (reciprocal, True), "exp": (exp, True),
    "exp2": (exp2, True), "expm1": (expm1, True), "log": (log, True), "log2": (log2, True),
    "log10": (log10, True), "log1p": (log1p, True), "sin": (sin, True), "cos": (cos, True),
    "tan": (tan, True), "asin": (asin, True), "acos": (acos, True), "atan": (atan, True),
    "arcsin": (arcsin, True), "arccos": (arccos, True), "arctan": (arctan, True),
    "sinh": (sinh, True), "cosh": (cosh, True), "tanh": (tanh, True), "asinh": (asinh, True),
    "acosh": (acosh, True), "atanh": (atanh, True), "arcsinh": (arcsinh, True),
    "arccosh": (arccosh, True), "arctanh": (arctanh, True), "sigmoid": (sigmoid, True),
    "relu": (relu, True), "logit": (logit, True), "erf": (erf, True), "erfc": (erfc, True),
    "erfinv": (erfinv, False), "lgamma": (lgamma, False), "digamma": (digamma, False),
    "i0": (i0, True), "floor": (floor, True), "ceil": (ceil, True), "trunc": (trunc, True),
    "fix": (fix, True), "round": (round, True), "frac": (frac, True),
    "clamp": (clamp, True), "clip": (clip, True), "clamp_min": (clamp_min, True),
    "clamp_max": (clamp_max, True), "nan_to_num": (nan_to_num, True),
    "positive": (positive, False),
}

def _abs_(self):
    if self._data.dtype.kind == "c":   # |z| is real: it cannot be written back
        raise RuntimeError("In-place abs is not supported for complex tensors.")
    return inplace(self, abs(self))


for _name, (_fn, _top) in _UNARY.items():
    __all__.append(_name)
    setattr(Tensor, _name, _fn)
    if _name != "positive":
        if _name in ("abs", "absolute"):
            _ip = _abs_
        elif _name in _SPECIAL_INPLACE:
            _ip = _no_inplace_derivative(_fn, _SPECIAL_INPLACE[_name])
        elif _name.startswith(("clamp", "clip")):
            _ip = _clamp_inplace(_fn, {"clamp_min": "maximum_cpu",
                                       "clamp_max": "minimum_cpu"}.get(_name))
        else:
            _ip = _inplace_of(_fn)
        setattr(Tensor, _name + "_", _ip)
        if _top:
            globals()[_name + "_"] = _ip
            __all__.append(_name + "_")

__all__ += ["polygamma", "mvlgamma"]


def _polygamma_method(self, n):
    return polygamma(n, self)


Tensor.polygamma = _polygamma_method
Tensor.polygamma_ = lambda self, n: inplace(self, polygamma(n, self))
Tensor.mvlgamma = mvlgamma
Tensor.mvlgamma_ = _mvlgamma_
Tensor.__abs__ = abs
Tensor.__pos__ = positive
