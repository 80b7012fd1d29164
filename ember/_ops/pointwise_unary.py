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
  (sigmoid, sinc, round(decimals=)).
"""
import math

import numpy as np

from ember import _dtype
from ember._backend import scipy_special
from ember._ops._helpers import (_scalar_for, c_name, check_cast_back, check_inplace,
                                 check_out_same, inplace, is_tensor, not_a_tensor,
                                 out_cast_first, to_dtype, write_out)
from ember._tensor import Tensor
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
# Unary ops. `_SavesInput` / `_SavesOutput` give forward = ufunc, saving what backward needs.

class _SavesInput(ArrayFunction):
    fn = None

    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _asarray(ctx.fn(a))


class _SavesOutput(ArrayFunction):
    fn = None

    def forward(ctx, a):
        out = _asarray(ctx.fn(a))
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
        return grad * 0


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
            out = _asarray(np.where(mag == 0, 0, a / mag).astype(a.dtype, copy=False))
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        if not ctx._saved:
            return grad * 0
        a, s = ctx.saved_tensors
        mag = a.abs()
        # remove the radial part of grad, divide by |z|; 0 where z == 0
        g = (grad - (grad * s.conj()).real * s) / mag
        return _where(mag._data == 0, grad * 0, g)


class Sqrt(_SavesOutput):
    fn = np.sqrt

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (2 * y.conj())


class Rsqrt(_SavesOutput):
    def forward(ctx, a):
        with np.errstate(divide="ignore", invalid="ignore"):
            # 1 / z for complex: NumPy's reciprocal gives NaN at 0, torch (and divide) inf
            out = _asarray(np.divide(1, np.sqrt(a)).astype(a.dtype, copy=False)
                           if a.dtype.kind == "c" else np.reciprocal(np.sqrt(a)))
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
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
        return grad * (y * _LN2).conj()


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

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (a + 1).conj()


# --- trigonometric and hyperbolic ------------------------------------------------------------

class Sin(_SavesInput):
    fn = np.sin

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


class Sinh(_SavesInput):
    fn = np.sinh

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * a.cosh().conj()


class Cosh(_SavesInput):
    fn = np.cosh

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * a.sinh().conj()


class Tanh(_SavesOutput):
    """d/dx tanh(x) = 1 - tanh(x)^2, from the saved output."""
    fn = np.tanh

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
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
        return grad * ((a - 1).rsqrt() * (a + 1).rsqrt()).conj()


class Atanh(_SavesInput):
    fn = np.arctanh

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (1 - a * a).conj()


# --- activations ------------------------------------------------------------------------------

_BITS = {2: np.int16, 4: np.int32, 8: np.int64}


def _masked_array(a, mask):
    """a where mask else +0 (NaN and inf outside the mask become 0, as torch's where does).
    For real floats this is a bitwise AND with an all-ones/all-zeros word per element: ~10x
    faster than np.where, whose branchy loop stalls on the random masks activations make.
    The words are made in the result's own buffer (mask as 0/1 integers, negated to 0/-1,
    ANDed with a's bits in place): one allocation."""
    bits = _BITS.get(a.dtype.itemsize)
    if bits is None or a.dtype.kind not in "fV" or mask.shape != a.shape:
        return np.asarray(np.where(mask, a, np.zeros((), a.dtype)))
    out = np.asarray(mask).view(np.int8).astype(bits)
    np.negative(out, out=out)   # True -> all ones, False -> 0
    return np.bitwise_and(a.view(bits), out, out=out).view(a.dtype)


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
            out = _asarray(scipy_special(a).expit(a))   # one stable ufunc
        else:   # half types: in float32 as torch's opmath, rounded once
            out = _asarray(scipy_special(a).expit(a.astype(np.float32)).astype(a.dtype))
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y * (1 - y)).conj()


class Logit(ArrayFunction):
    """log(x / (1 - x)), x first clamped to [eps, 1 - eps] when eps is given; with eps the
    gradient is 0 outside that interval."""

    def forward(ctx, a, *, eps):
        ctx.eps = eps
        ctx.save_for_backward(a)
        if eps is not None:
            a = np.clip(a, eps, 1 - eps).astype(a.dtype, copy=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _asarray(np.log(a / (1 - a)))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        g = grad / (a * (1 - a))
        if ctx.eps is None:
            return g
        x = a._data
        return _where((x < ctx.eps) | (x > 1 - ctx.eps), grad * 0, g)


# --- error and gamma functions (scipy.special) ------------------------------------------------

class Erf(_SavesInput):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _scipy("erf", a)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * _TWO_OVER_SQRT_PI * (-(a * a)).exp()


class Erfc(_SavesInput):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _scipy("erfc", a)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * -_TWO_OVER_SQRT_PI * (-(a * a)).exp()


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
        return grad * _SQRT_PI_OVER_2 * (y * y).exp()


class Lgamma(_SavesInput):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        out = _scipy("gammaln", a)
        out[np.isneginf(a)] = np.inf   # torch: lgamma(-inf) = inf (SciPy: -inf)
        return out

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * digamma(a)


class Digamma(_SavesInput):
    """psi(x): -inf at +0, inf at -0, nan at negative integers (SciPy agrees with torch)."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _scipy("psi", a)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * polygamma(1, a)


class Polygamma(_SavesInput):
    """The n-th derivative of digamma; n = 0 is digamma itself."""

    def forward(ctx, a, *, n):
        ctx.n = n
        ctx.save_for_backward(a)
        if n == 0:
            return _scipy("psi", a)
        return _scipy("polygamma", a, n)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * polygamma(ctx.n + 1, a)


class Mvlgamma(ArrayFunction):
    """log of the multivariate gamma function of order p:
    p (p - 1) / 4 log(pi) + sum_{i < p} lgamma(x - i / 2). Like torch, no domain check
    (SciPy's multigammaln refuses x <= (p - 1) / 2, so it is not used)."""

    def forward(ctx, a, *, p):
        ctx.p = p
        ctx.save_for_backward(a)
        gammaln = scipy_special(a).gammaln
        src = a if a.dtype in (np.float32, np.float64) else a.astype(np.float32)
        total = np.full(a.shape, p * (p - 1) / 4 * math.log(math.pi), src.dtype)
        for i in range(p):   # a loop over the order p, not over elements
            total += gammaln(src - np.asarray(i / 2, src.dtype))
        total[np.isneginf(src)] = np.inf   # torch: lgamma(-inf) = inf (SciPy: -inf)
        return _asarray(total).astype(a.dtype, copy=False)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        total = digamma(a)
        for i in range(1, ctx.p):
            total = total + digamma(a - i / 2)
        return grad * total


class I0(_SavesInput):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        out = _scipy("i0", a)
        out[np.isinf(a)] = np.nan   # torch's i0(+-inf) is nan (SciPy: inf)
        return out

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        from ember.special import i1
        return grad * i1(a)


# --- rounding (zero gradients, except frac) ---------------------------------------------------

class _Rounding(ArrayFunction):
    fn = None

    def forward(ctx, a):
        if a.dtype.kind in "iu":
            return a.copy()
        return _asarray(ctx.fn(a))

    def backward(ctx, grad):
        return grad * 0


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
        return grad * 0


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
        zero = grad * 0
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
        return _where(np.isfinite(a._data), grad, grad * 0)


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
    x = to_dtype(input, rd)
    lo = _bound(min, rd)
    hi = _bound(max, rd)
    if not tensors:
        return _result(Clamp.apply(x, lo=lo, hi=hi, numbers=True), out)
    return _result(Clamp.apply(x, lo, hi, numbers=False), out)


_NUMBERS = (int, float, type(None))


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
