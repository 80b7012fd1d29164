"""Pointwise arithmetic: add sub mul div (rounding modes) floor_divide remainder fmod pow
float_power, maximum minimum fmax fmin, hypot atan2 copysign, lerp addcmul addcdiv, xlogy; the
arithmetic dunders. Other pointwise families live beside this file and are re-exported here:
`pointwise_unary` (exp, trig, relu/sigmoid/tanh, erf, rounding, clamp), `pointwise_logic`
(where, comparisons, bitwise/logical, predicates), `pointwise_complex` (real/imag views, angle,
complex, polar, view_as_real/complex, conj), `pointwise_numeric` (logaddexp, deg2rad, gcd/lcm,
heaviside, nextafter/ldexp/frexp).

Each op is an ArrayFunction (forward on arrays, backward in Tensor ops) plus a thin public
function that promotes dtypes the torch way (`_helpers.promote`) and handles `out=`. The engine
sums every gradient back to its input's shape, so backwards here ignore broadcasting.

Torch's traps kept here: true division of integers gives the default float dtype; integer
division or remainder by zero raises RuntimeError("ZeroDivisionError"); floor division of floats
is Python's (floor of the exact quotient: 1.0 // 0.1 == 9); remainder takes the divisor's sign,
fmod the dividend's; maximum/minimum split the gradient evenly at ties, fmax/fmin give it to
the first argument; floor_divide has no derivative.
"""
import numpy as np

from ember import _dtype
from ember._ops._helpers import (binary_lane, c_name as _c_name, check_cast_back, check_out_same,
                                 fma32, in_opmath, inplace, is_half, is_tensor, not_a_tensor,
                                 opmath, out_cast_first, promote, select, to_dtype, VECTOR_BLOCK,
                                 write_out, zero_of, zeros_of)
from ember._tensor import Tensor
from ember._threads import _ELEMENTWISE_MIN as _BIG, elementwise
from ember.autograd.function import ArrayFunction, rename_result
from ember.autograd.grad_mode import no_grad as _no_grad, state as _grad_state
from ember._ops.pointwise_logic import where
from ember._ops.pointwise_numeric import _in_float32, _need_tensors, _not_implemented
from ember._ops.pointwise_unary import _via64

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
           "floor_divide", "remainder", "fmod", "pow", "float_power", "neg", "negative",
           "rsub", "maximum", "minimum", "fmax", "fmin", "hypot", "atan2", "arctan2",
           "copysign", "lerp", "addcmul", "addcdiv", "xlogy", "sinc", "neg_", "negative_",
           "xlogy_", "sinc_"]

_asarray = np.asarray
_py_complex = complex   # the builtin: this module re-exports torch.complex below
_py_bool = bool


def _type_name(dt):
    return dt._legacy.replace("Tensor", "")


# ---------------------------------------------------------------------------------------------
# dtype conversion

class ToCopy(ArrayFunction):
    """Cast to another dtype; the gradient is cast back to the input's dtype by the engine."""

    def forward(ctx, a, *, npd):
        if a.dtype.kind == "c" and npd.kind != "c":
            a = a.real   # complex -> real keeps the real part (NumPy would warn)
        return _dtype.cast(a, npd)

    def backward(ctx, grad):
        return grad

    def name(self):
        return "ToCopyBackward0"


def _to_dtype(t, dt):
    return ToCopy.apply(t, npd=dt.np)   # (complex32 has no NumPy type: .np raises)


def _float_input(t):
    """Integer and bool tensors compute float functions in the default float dtype."""
    if t._data.dtype.kind in "iub":
        return _to_dtype(t, _dtype.get_default_dtype())
    return t


def _conj(x):
    """Conjugate of a tensor or a Python number (backward formulas take both)."""
    if is_tensor(x):
        return x.conj() if x._data.dtype.kind == "c" else x
    return x.conjugate() if isinstance(x, _py_complex) else x


def _as_tensor(x, dt):
    """A Python number as a 0-d tensor of dtype dt (for ops whose forward needs two arrays)."""
    return x if is_tensor(x) else Tensor._make(_asarray(x, dt.np))


def _result(r, out):
    return r if out is None else write_out(out, r)


def _zero_division_check(a, b, kind):
    """torch's error for an integer division by zero, where some element is computed."""
    if kind in "iub" and np.any(_asarray(b) == 0) and np.broadcast(a, b).size:
        raise RuntimeError("ZeroDivisionError")


def _axpy(fn, a, b, alpha):
    """fn(a, alpha * b) (fn: np.add or np.subtract) in a's dtype, as torch's add/sub with
    alpha: the product is rounded to the dtype first (half types overflow there, as in torch),
    bool scales by bool(alpha), integers wrap."""
    dt = a.dtype
    if is_half(dt):
        return _half_axpy(fn, a, b, alpha)
    b = _asarray(b, dt)
    with np.errstate(over="ignore", invalid="ignore"):
        if dt.kind == "b":
            return _asarray(fn(a, np.logical_and(b, _py_bool(alpha))))
        scaled = np.multiply(b, alpha).astype(dt, copy=False)
        return _asarray(fn(a, scaled).astype(dt, copy=False))


def _half_axpy(fn, a, b, alpha):
    """fn(a, alpha * b) for float16/bfloat16 as torch's add/sub kernel computes it: alpha
    rounded to the half type; its vectorised loop then rounds once (a fused multiply-add in
    float32), its scalar loop rounds the product, then the sum. The vectorised loop covers
    whole blocks of VECTOR_BLOCK elements of each innermost run (the whole result when both
    operands are contiguous and of its shape, else each last-dim row, if the operands run
    along it contiguously or stay put), the scalar loop the rest."""
    dt = a.dtype
    b = _asarray(b, dt)
    s = dt.type(alpha if fn is np.add else -alpha)
    shape = np.broadcast_shapes(a.shape, b.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        out = fma32(b.astype(np.float32), np.float32(s), a.astype(np.float32)).astype(dt)
        if a.shape == b.shape and a.flags.c_contiguous and b.flags.c_contiguous:
            run = out.size
        else:
            run = shape[-1] if shape else 1
            if not all(x.ndim == 0 or x.shape[-1] == 1 or x.strides[-1] == x.itemsize
                       for x in (a, b)):
                run = 0   # (a strided operand: the scalar loop throughout)
        k = run - run % VECTOR_BLOCK
        if run and k == run:
            return _asarray(out)
        scalar = np.add(a, np.multiply(b, s)).astype(dt)
        if not run:
            return _asarray(scalar)
        lanes = np.arange(run) >= k
        if run == out.size:
            return _asarray(select(lanes, scalar.reshape(-1), out.reshape(-1)).reshape(shape))
        return _asarray(select(lanes, scalar, out))


# ---------------------------------------------------------------------------------------------
# Arithmetic

class Add(ArrayFunction):
    alpha = 1
    fast = staticmethod(np.add)   # forward without a graph and with alpha == 1
    stateless = True

    def forward(ctx, a, b, *, alpha=1):
        if alpha == 1:
            return _asarray(np.add(a, b))
        ctx.alpha = alpha
        return _axpy(np.add, a, b, alpha)

    def backward(ctx, grad):
        return grad, grad if ctx.alpha == 1 else grad * _conj(ctx.alpha)


class Sub(ArrayFunction):
    alpha = 1
    fast = staticmethod(np.subtract)
    stateless = True

    def forward(ctx, a, b, *, alpha=1):
        if alpha == 1:
            return _asarray(np.subtract(a, b))
        ctx.alpha = alpha
        return _axpy(np.subtract, a, b, alpha)

    def backward(ctx, grad):
        return grad, -grad if ctx.alpha == 1 else grad * -_conj(ctx.alpha)


class Rsub(ArrayFunction):
    """other - alpha * input, `other` a Python number: torch's `number - tensor` (one node)."""

    def forward(ctx, b, *, other, alpha=1):
        ctx.alpha = alpha
        if alpha == 1:
            return _asarray(np.subtract(other, b), b.dtype)
        return _axpy(np.subtract, _asarray(other, b.dtype), b, alpha)

    def backward(ctx, grad):
        return -grad if ctx.alpha == 1 else grad * -_conj(ctx.alpha)

    def name(self):
        return "RsubBackward1"


class RsubTensors(Sub):
    """rsub(input, other) = other - alpha * input for two tensors; Sub with the operands
    swapped, recorded in torch's order (input, other)."""

    def forward(ctx, a, b, *, alpha=1):
        return Sub.forward(ctx, b, a, alpha=alpha)

    def backward(ctx, grad):
        return Sub.backward(ctx, grad)[::-1]

    def name(self):
        return "RsubBackward0"


class Mul(ArrayFunction):
    fast = staticmethod(np.multiply)

    def forward(ctx, a, b):   # (other first, as torch saves them)
        ctx.save_for_backward(b if ctx.needs_input_grad[0] else None,
                              a if ctx.needs_input_grad[1] else None)
        return _asarray(np.multiply(a, b))

    def backward(ctx, grad):
        b, a = ctx.saved_tensors
        if not _grad_state.enabled and grad._data.dtype.kind == "f":   # first order: arrays
            return (_times(grad, b) if ctx.needs_input_grad[0] else None,
                    _times(grad, a) if ctx.needs_input_grad[1] else None)
        return (grad * _conj(b) if ctx.needs_input_grad[0] else None,
                grad * _conj(a) if ctx.needs_input_grad[1] else None)


def _times(grad, x):
    """grad * x for a real floating grad and a saved operand x (tensor or Python number): on
    arrays where NumPy's product keeps grad's dtype, else through Tensor ops (torch's rules)."""
    if isinstance(x, Tensor):
        if x._data.dtype != grad._data.dtype:
            return grad * x
        x = x._data
    elif type(x) is not float and type(x) is not int:
        return grad * _conj(x)
    g = grad._data
    return Tensor._make(np.asarray(np.multiply(g, x) if g.size < _BIG
                                   else elementwise(np.multiply, g, x)))


class Div(ArrayFunction):
    """True division; with rounding_mode ('trunc', 'floor') the gradient is zero."""
    fast = staticmethod(np.true_divide)

    def forward(ctx, a, b, *, rounding_mode=None):
        ctx.rounding_mode = rounding_mode
        if rounding_mode is None:
            ctx.save_for_backward(b, a if ctx.needs_input_grad[1] else None)   # (torch's order)
            return _asarray(np.true_divide(a, b))
        _zero_division_check(a, b, np.result_type(a, b).kind)
        return _asarray(_rounded_division(a, b, rounding_mode))

    def backward(ctx, grad):
        if ctx.rounding_mode is not None:
            return zeros_of(grad), None if not ctx.needs_input_grad[1] else zeros_of(grad)
        b, a = ctx.saved_tensors
        ga = grad / _conj(b) if ctx.needs_input_grad[0] else None
        gb = -grad * _conj(a / b / b) if ctx.needs_input_grad[1] else None   # (torch's order)
        return ga, gb


def _trunc_divide(a, b):
    """a / b rounded toward zero; integers without a float round trip (exact for all int64)."""
    if np.result_type(a, b).kind in "iu":
        q = np.floor_divide(a, b)
        fix = (np.remainder(a, b) != 0) & ((_asarray(a) < 0) != (_asarray(b) < 0))
        return q + fix.astype(q.dtype)
    return np.trunc(np.true_divide(a, b))


_ROUNDED_DIVISION = {"floor": np.floor_divide, "trunc": _trunc_divide}


def _rounded_division(a, b, mode):
    """a / b rounded by `mode` ('floor' or 'trunc'). Half types as torch's kernels compute
    them: by a single divisor (a number or one element) in float32, rounded once; by a tensor
    in the half type itself, rounding each step (the quotient before it is truncated, and
    each step of Python's floor division)."""
    if not (is_half(a.dtype) and isinstance(b, np.ndarray) and b.size > 1):
        return in_opmath(_ROUNDED_DIVISION[mode], a, b)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if mode == "trunc":
            return np.trunc(np.true_divide(a, b))
        # Python's floor division: a - fmod(a, b) is a multiple of b; the quotient is rounded
        # to the nearest whole number, stepping down when the rest and b differ in sign
        one = a.dtype.type(1)
        rest = np.fmod(a, b)
        q = np.true_divide(a - rest, b)
        q = select((rest != 0) & ((b < 0) != (rest < 0)), q - one, q)
        fl = np.floor(q)
        fl = select(q - fl > a.dtype.type(0.5), fl + one, fl)
        quotient = np.true_divide(a, b)   # (by zero: the IEEE quotient, inf or NaN)
        fl = select(q != 0, fl, np.copysign(a.dtype.type(0), quotient))
        return select(b == 0, quotient, fl)


class LowPrecisionScalar(ArrayFunction):
    """A float16/bfloat16 tensor times (or over) a real number, as torch computes it: in
    float32 with the number unrounded, rounded once at the end (NumPy would round the number
    to the tensor's dtype first: x * 0.1 differs in a third of the elements). The number is a
    Python one (`scalar`) or a 0-d tensor `b` of another dtype, read in its own dtype as
    torch's kernels read a scalar second operand (`b * x`, the 0-d one first, is plain half
    arithmetic in torch)."""

    def forward(ctx, a, b=None, *, scalar=None, div):
        ctx.div = div
        if b is not None:
            ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
            scalar = b.astype(np.float32)
        ctx.scalar = scalar
        fn = np.true_divide if div else np.multiply
        return in_opmath(lambda x: fn(x, scalar), a)

    def backward(ctx, grad):
        if ctx.scalar is not None and not isinstance(ctx.scalar, np.ndarray):
            return grad / ctx.scalar if ctx.div else grad * ctx.scalar
        a, b = ctx.saved_tensors
        ga = (grad / b if ctx.div else grad * b) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:   # torch's formulas, summed to b's shape by the engine
            gb = -grad * (a / b / b) if ctx.div else grad * a
        return ga, gb

    def name(self):
        return "DivBackward0" if self.div else "MulBackward0"


def _low_precision_scalar(a, b):
    """Whether a (tensor) op b (a number, or a 0-d tensor of another real dtype that leaves
    the result in a's dtype) takes the LowPrecisionScalar route."""
    if not (is_tensor(a) and is_half(a._data.dtype)):
        return False
    if type(b) is float or type(b) is int:
        return True
    return (isinstance(b, Tensor) and b.ndim == 0 and b._data.dtype != a._data.dtype
            and b._data.dtype.kind in "biufV" and a.ndim > 0)


def _low_precision(a, b, div):
    """a * b or a / b by the LowPrecisionScalar route (`_low_precision_scalar(a, b)` holds)."""
    if isinstance(b, Tensor):
        return LowPrecisionScalar.apply(a, b, div=div)
    return LowPrecisionScalar.apply(a, scalar=b, div=div)


class FloorDivide(ArrayFunction):
    """Python-style floor division; torch defines no derivative for it."""
    what = "aten::floor_divide"   # (the in-place form names its own kernel: see inplace())

    def forward(ctx, a, b):
        _zero_division_check(a, b, np.result_type(a, b).kind)
        return _asarray(_rounded_division(a, b, "floor"))

    def backward(ctx, grad):
        raise RuntimeError(f"derivative for {ctx.what} is not implemented")


def _remainder(a, b):
    """np.remainder, except that a zero result keeps the sign of `a` (torch adjusts fmod's
    result only when it is nonzero; NumPy gives zeros the divisor's sign)."""
    out = _asarray(np.remainder(a, b))
    if out.dtype.kind in "fV":
        zero = out == 0
        if zero.any():
            out[zero] = np.copysign(0, np.broadcast_to(a, out.shape)[zero])
    return out


class _Rest(ArrayFunction):
    """The rest of a division, a - b * rounded(a / b), rounded by `rounding`: remainder
    (floor: the divisor's sign) and fmod (trunc: the dividend's sign). d/db = -rounded(a / b).
    A number divisor is a parameter (`other=`), so the node has the one edge torch's
    ...Backward0 has; a tensor divisor is an input (torch's ...Backward1, named by the caller)."""
    rounding = None

    def forward(ctx, a, b=None, *, other=None):
        if b is None:
            b = other
            ctx.save_for_backward(None, None)
        else:
            ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                                  b if ctx.needs_input_grad[1] else None)
        _zero_division_check(a, b, np.result_type(a, b).kind)
        return ctx.kernel(a, b)

    def backward(ctx, grad):
        if len(ctx.needs_input_grad) == 1:
            return grad
        a, b = ctx.saved_tensors
        gb = -grad * div(a, b, rounding_mode=ctx.rounding) if ctx.needs_input_grad[1] else None
        return grad, gb


class Remainder(_Rest):
    rounding = "floor"
    kernel = staticmethod(_remainder)


class Fmod(_Rest):
    rounding = "trunc"
    kernel = staticmethod(lambda a, b: _asarray(np.fmod(a, b)))


class RemainderScalarSelf(ArrayFunction):
    """remainder(number, tensor): torch defines no derivative for this overload."""

    def forward(ctx, a, b):
        _zero_division_check(a, b, np.result_type(a, b).kind)
        return _remainder(a, b)

    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::remainder is not implemented")


class Pow(ArrayFunction):
    """a ** b; d/da = b * a^(b-1), d/db = a^b * log(a) (0 where a == 0 and b >= 0). torch's
    three overloads are three node shapes: Tensor ** Scalar (PowBackward0) and Scalar ** Tensor
    (PowBackward2) take the number as a parameter (`exponent=` / `base=`), so their one edge is
    the tensor's; Tensor ** Tensor (PowBackward1) has both."""

    def forward(ctx, x, y=None, *, base=None, exponent=None):
        if exponent is not None:
            a, b, ctx.overload = x, exponent, 0
        elif base is not None:
            a, b, ctx.overload = base, x, 2
        else:
            a, b, ctx.overload = x, y, 1
        out = _power(a, b, number=ctx.overload == 0)
        need_a, need_b = ctx._needs(ctx.overload)
        ctx.save_for_backward(a, b, out if need_b else None)
        return out

    def _needs(ctx, overload):
        """(a needs a gradient, b needs one) from needs_input_grad and the overload."""
        n = ctx.needs_input_grad
        if overload == 1:
            return n[0], n[1]
        return (n[0], False) if overload == 0 else (False, n[0])

    def name(self):
        return f"PowBackward{self.overload}"

    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx._needs(ctx.overload)
        ga = gb = None
        if need_a:
            if is_tensor(b):
                ga = grad * _conj(b * a ** (b - 1))
                zero = b._data == 0   # torch: 0 where the exponent is 0 (not 0 * inf)
                if zero.any():
                    ga = where(Tensor._make(zero), 0.0, ga)
            elif b != 0:
                ga = grad * _conj(b * a ** (b - 1))
            else:
                ga = zeros_of(grad)
        if need_b:
            a = _as_tensor(a, out.dtype)
            la = a.log()
            zero = (a._data == 0) & (_asarray(b._data if is_tensor(b) else b).real >= 0)
            if zero.any():
                la = where(Tensor._make(zero), 0.0, la)
            gb = grad * _conj(out * la)
        return (ga, gb) if ctx.overload == 1 else (ga if ctx.overload == 0 else gb)


def _rsqrt(x):
    with np.errstate(divide="ignore"):
        return np.divide(1, np.sqrt(x)).astype(x.dtype, copy=False)


def _half_power(a, b, number):
    """a ** b for float16/bfloat16 operands (b an array or a number, rounded to a's dtype)
    as torch computes it: in double precision (as its C++ std::pow calls promote), rounded to
    float32 and then to a's dtype. A bfloat16 cube or inverse square by a `number` exponent
    (Tensor ** Scalar) is multiplied out in bfloat16 instead (x * x rounded, then * x or
    1 / it), as torch's special cases for them do."""
    dt = a.dtype
    b = np.asarray(b).astype(dt)
    if number and dt.kind == "V" and (b == 3 or b == -2):
        square = a * a
        if b == 3:
            return square * a
        with np.errstate(divide="ignore"):
            return np.divide(np.float32(1), square.astype(np.float32)).astype(dt)
    a = a.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.power(a, b.astype(np.float64))
    if b.ndim == 0 and b == 0.5:   # (NumPy takes a lone 0.5 as sqrt: C's pow gives +0, +inf)
        r = select(np.isneginf(a), np.inf, r + 0.0)
    with np.errstate(over="ignore"):
        return r.astype(np.float32).astype(dt)


def _power(a, b, number=False):
    """np.power with torch's special cases: a number exponent of 2, 3 or -2 multiplies (x * x,
    x * x * x, 1 / (x * x)) for float32/float64, +-0.5 is sqrt / 1 / sqrt
    (sqrt(-inf) is NaN, sqrt(-0.0) is -0.0, unlike C's pow; not for float16, which torch
    computes with pow) and -1 of a complex base is 1 / z; an integer base to a negative
    integer tensor exponent is C's integer result (1 and -1 stay +-1, anything else is 0).
    Half types: `_half_power` (`number`: b is a Python number, torch's Tensor ** Scalar)."""
    k = a.dtype.kind
    if not isinstance(b, np.ndarray) or b.ndim == 0 and b.dtype.kind != "b":
        if number and k == "f" and a.dtype.itemsize >= 4 and (b == 2 or b == 3 or b == -2):
            # torch multiplies for these exponents: x * x, x * x * x, 1 / (x * x) (C's pow
            # rounds x^3 and x^-2 differently in 30% of float32 elements; 4x slower for x^2)
            sq = _asarray(np.square(a))
            if b == 2:
                return sq
            with np.errstate(divide="ignore", over="ignore"):
                return _asarray(sq * a if b == 3 else 1 / sq)
        if (b == 0.5 or b == -0.5) and (k == "c" or k in "fV" and a.dtype != np.float16):
            with np.errstate(invalid="ignore"):
                return _asarray(in_opmath(np.sqrt if b > 0 else _rsqrt, a))
        if b == -1 and k == "c":
            with np.errstate(divide="ignore", invalid="ignore"):
                return _asarray(np.divide(1, a).astype(a.dtype, copy=False))
    if isinstance(b, np.ndarray) and k in "iu" and b.dtype.kind in "iu":
        neg = b < 0
        if neg.any():
            with np.errstate(over="ignore"):
                p = np.power(a, select(neg, 0, b).astype(b.dtype, copy=False))
            odd = (b & 1).astype(bool)
            inv = select(a == 1, 1, select(a == -1, select(odd, -1, 1), 0))
            return _asarray(select(neg, inv, p).astype(p.dtype, copy=False))
    if is_half(a.dtype):
        return _asarray(_half_power(a, b, number))
    return _asarray(np.power(a, b))


class Neg(ArrayFunction):
    def forward(ctx, a):
        if a.dtype == np.bool_:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return _asarray(np.negative(a))

    def backward(ctx, grad):
        return -grad


# ---------------------------------------------------------------------------------------------
# Binary functions with a selection or a geometric meaning

class Maximum(ArrayFunction):
    """Elementwise max, NaN-propagating; at ties each input gets half the gradient."""
    fn = np.maximum

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _asarray(ctx.fn(a, b))

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        x, y = a._data, b._data
        # torch: half each at ties; NaN compares false, so both sides get the full gradient
        lose_a, lose_b = (x < y, x > y) if ctx.fn is np.maximum else (x > y, x < y)
        tie = x == y
        g = where(Tensor._make(tie), grad * 0.5, grad) if tie.any() else grad
        zero = zero_of(grad)
        ga = where(Tensor._make(lose_a), zero, g) if ctx.needs_input_grad[0] else None
        gb = where(Tensor._make(lose_b), zero, g) if ctx.needs_input_grad[1] else None
        return ga, gb


class Minimum(Maximum):
    fn = np.minimum


class Fmax(ArrayFunction):
    """Elementwise max ignoring NaN; the gradient goes to `a` where a >= b or b is NaN
    (ties included), else to `b`."""
    fn = np.fmax

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        # operands swapped: NumPy returns the second of equal values, torch the first
        # (fmax(0.0, -0.0) is 0.0); NaN is ignored on either side
        return _asarray(ctx.fn(b, a))

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        x, y = a._data, b._data
        to_a = ((x >= y) if ctx.fn is np.fmax else (x <= y)) | np.isnan(y)
        zero = zero_of(grad)
        mask = Tensor._make(to_a)
        return where(mask, grad, zero), where(mask, zero, grad)


class Fmin(Fmax):
    fn = np.fmin


class Hypot(ArrayFunction):
    """sqrt(a^2 + b^2); d/da = a / result."""

    def forward(ctx, a, b):
        out = _asarray(np.hypot(a, b))
        ctx.save_for_backward(a, b, out)
        return out

    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        return grad * a / out, grad * b / out


class Atan2(ArrayFunction):
    """atan2(a, b), the angle of (b, a); d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2)."""

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _asarray(np.arctan2(a, b))

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        recip = (a * a + b * b).reciprocal()   # (torch's steps: each rounds in half types)
        return grad * b * recip, grad * -a * recip


class Copysign(ArrayFunction):
    """|a| with b's sign; d/da = sign agreement (0 where a == 0), nothing flows to b."""

    def forward(ctx, a, b):
        out = _asarray(np.copysign(a, b))
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        x = a._data
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = select(x == 0, 0, out._data / select(x == 0, 1, x)).astype(x.dtype)
        return grad * Tensor._make(_asarray(ratio)), zeros_of(grad)


def lerp_values(start, end, weight):
    """start + weight * (end - start) on arrays, from the nearer end as torch computes it: for
    |weight| >= 0.5 as end - (end - start) * (1 - weight), exact at weight = 1 (and deciding
    what infinities give)."""
    diff = end - start
    with np.errstate(invalid="ignore", over="ignore"):
        return select(np.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))


def _fused_lerp(start, end, weight):
    """lerp_values on float32 arrays as torch's vectorized kernel computes it for the half
    types: each branch's last multiply-add fused (`fma32`)."""
    diff = end - start
    with np.errstate(invalid="ignore", over="ignore"):
        return select(np.abs(weight) < 0.5, fma32(weight, diff, start),
                        fma32(-diff, 1 - weight, end))


class Lerp(ArrayFunction):
    """start + weight * (end - start), computed from the nearer end as torch does: for
    |weight| >= 0.5 as end - (end - start) * (1 - weight), which is exact at weight = 1 (and
    decides what infinities give). A number weight is a parameter (LerpBackward0, edges to
    start and end), a tensor weight an input (LerpBackward1, three edges), as in torch."""

    def forward(ctx, start, end, weight=None, *, scalar_weight=None):
        ctx.scalar = weight is None
        weight = scalar_weight if ctx.scalar else weight
        ctx.save_for_backward(start, end, weight)
        if is_half(start.dtype):
            return in_opmath(_fused_lerp, start, end, _asarray(weight).astype(np.float32))
        return _asarray(lerp_values(start, end, weight))

    def name(self):
        return "LerpBackward0" if self.scalar else "LerpBackward1"

    def backward(ctx, grad):
        start, end, weight = ctx.saved_tensors
        w = _conj(weight)
        needs = ctx.needs_input_grad
        g_start = grad * (1 - w) if needs[0] else None
        g_end = grad * w if needs[1] else None
        if ctx.scalar:
            return g_start, g_end
        return g_start, g_end, grad * _conj(end - start) if needs[2] else None


class Xlogy(ArrayFunction):
    """x * log(y), 0 where x == 0 (unless y is NaN); d/dx = log(y) (0 there), d/dy = x / y."""

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.multiply(a, np.log(b))
            return _asarray(select((_asarray(a) == 0) & ~np.isnan(b), 0, out)
                            .astype(out.dtype, copy=False))

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = xlogy(grad, b)
            mask = (a._data == 0) & (_asarray(b._data if is_tensor(b) else b) <= 0)
            if mask.any():
                ga = where(Tensor._make(_asarray(mask)), 0.0, ga)
        if ctx.needs_input_grad[1]:
            gb = grad * a / b
        return ga, gb


class Sinc(ArrayFunction):
    """sin(pi x) / (pi x), 1 at 0. The gradient in torch's form, (pi x cos(pi x) - sin(pi x))
    / (pi x^2), 0 where pi x^2 is 0 (the op order shows in the half types' rounding)."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(all="ignore"):   # sinc(inf) is NaN, silently as in torch
            if is_half(a.dtype):   # float32: sin(p) / p, p = pi x (torch's float32 sin)
                p = np.float32(np.pi) * a.astype(np.float32)
                r = _via64(np.sin, p) / p
                return _asarray(select(a == 0, 1, r).astype(a.dtype))
            return _asarray(np.sinc(a))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        zero = Tensor._make(_asarray(a._data * a._data * np.pi == 0))
        x = where(zero, 1.0, a)   # (a finite stand-in where the gradient is 0)
        xp = x * np.pi
        d = (xp * xp.cos() - xp.sin()) / (x * x * np.pi)
        return where(zero, 0.0, grad * _conj(d))


# ---------------------------------------------------------------------------------------------
# Public functions

def _alpha_check(dt, alpha):
    """torch's checks of add/sub's alpha against the result dtype (made even when alpha == 1,
    as torch makes them: add(int, int, alpha=1.0) is an error)."""
    if isinstance(alpha, (bool, np.bool_)):
        if dt is not _dtype.bool:
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif isinstance(alpha, (_py_complex, np.complexfloating)) and not dt.is_complex:
        if dt.is_floating_point:
            raise RuntimeError("For non-complex input tensors, argument alpha must not be a "
                               "complex number.")
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    elif not (dt.is_floating_point or dt.is_complex or isinstance(alpha, (int, np.integer))):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


_ONE = 1   # alpha `is _ONE`: the int 1 (CPython caches it), not True or 1.0, which torch checks


def _is_bool(x):
    return type(x) is _py_bool or (is_tensor(x) and x._data.dtype.kind == "b")


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, with torch's type promotion and broadcasting."""
    if alpha is _ONE and out is None and isinstance(input, Tensor):
        return _add_lane(input, other)
    return _add(input, other, alpha, out)


def _add(input, other, alpha=1, out=None):
    a, b, rd = promote(input, other)
    if alpha is not _ONE:
        _alpha_check(rd or (a if is_tensor(a) else b).dtype, alpha)
    if alpha != 1:
        if not is_tensor(a):
            a = _as_tensor(a, rd or b.dtype)
        r = Add.apply(a, b, alpha=alpha)
    else:
        r = Add.apply(a, b) if is_tensor(a) else Add.apply(b, a)   # scalar + tensor commutes
    return r if out is None else write_out(out, r)


def sub(input, other, *, alpha=1, out=None):
    if alpha is _ONE and out is None and isinstance(input, Tensor):
        return _sub_lane(input, other)
    return _sub(input, other, alpha, out)


def _sub(input, other, alpha=1, out=None):
    ba, bb = _is_bool(input), _is_bool(other)
    if ba or bb:   # a Python bool counts as a bool tensor here, as in torch
        _bool_sub_error(ba and bb)
    a, b, rd = promote(input, other)
    if alpha is not _ONE:
        _alpha_check(rd or (a if is_tensor(a) else b).dtype, alpha)
    if not is_tensor(a):
        r = Rsub.apply(b, other=a, alpha=alpha)   # number - tensor (the reflected `-`)
    elif alpha != 1:
        r = Sub.apply(a, b, alpha=alpha)
    else:
        r = Sub.apply(a, b)
    return _result(r, out)


subtract = sub


def _bool_sub_error(both):
    if both:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If "
                       "you are trying to invert a mask, use the `~` or `logical_not()` "
                       "operator instead.")


def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    if not is_tensor(input):
        raise TypeError(f"rsub() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__}), but expected one "
                        f"of:\n * (Tensor input, Tensor other, *, Number alpha = 1)\n * (Tensor "
                        f"input, Number other, Number alpha = 1)")
    if not is_tensor(other):
        return sub(other, input, alpha=alpha)
    if _is_bool(input) or _is_bool(other):
        _bool_sub_error(_is_bool(input) and _is_bool(other))
    a, b, rd = promote(input, other)
    if alpha is not _ONE:
        _alpha_check(rd or a.dtype, alpha)
    return RsubTensors.apply(a, b, alpha=alpha)


def mul(input, other, *, out=None):
    if out is None and isinstance(input, Tensor):
        return _mul_lane(input, other)
    return _mul(input, other, out)


def _mul(input, other, out=None):
    if not is_tensor(input):
        input, other = other, input
    if _low_precision_scalar(input, other):
        r = _low_precision(input, other, div=False)
    else:
        a, b, _ = promote(input, other)
        if not is_tensor(a):
            a, b = b, a
        r = Mul.apply(a, b)
    return r if out is None else write_out(out, r)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """True division (integers give the default float dtype) or rounded with rounding_mode."""
    if rounding_mode is None and out is None and isinstance(input, Tensor):
        return _div_lane(input, other)
    if rounding_mode not in (None, "trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    return _div(input, other, rounding_mode, out=out)


@out_cast_first
def _div(input, other, rounding_mode=None, out=None):
    if rounding_mode is None:
        if _low_precision_scalar(input, other):
            return _result(_low_precision(input, other, div=True), out)
        a, b = _float_operands("div", input, other, True, True)
        return _result(Div.apply(a, b), out)
    a, b, rd = _binary_prepared(input, other)
    _division_kernel_check(f"div_{rounding_mode}_cpu", rd)
    b = _unrounded_divisor(other, b, rd)
    r = Div.apply(a, b, rounding_mode=rounding_mode)   # torch's node: DivBackward2
    return _result(rename_result(r, "DivBackward2"), out)


divide = div


def true_divide(input, other, *, out=None):
    return div(input, other, out=out)


# The short paths of add/sub/mul/div for operands that need no promotion (binary_lane); the
# full functions serve the rest. Bool subtraction is an error and integer true division gives
# floats, so those dtype kinds always take the full path.
_add_lane = binary_lane(Add, "biufc", _add)
_sub_lane = binary_lane(Sub, "iufc", _sub)
_mul_lane = binary_lane(Mul, "biufc", _mul)
_div_lane = binary_lane(Div, "fc", _div)


def _binary_prepared(input, other):
    """Promoted operands with the first as a tensor, and the result dtype."""
    a, b, rd = promote(input, other)
    rd = rd or (a if is_tensor(a) else b).dtype
    return _as_tensor(a, rd), b, rd


def _as_operand(x, rd):
    """A tensor cast to rd, or a Python number as a 0-d tensor of rd."""
    return to_dtype(x, rd) if is_tensor(x) else Tensor._make(_asarray(x, rd.np))


def _float_operands(name, input, other, int_ok, complex_ok=False):
    """Both operands in torch's result dtype for a floating function: integer and bool results
    compute in the default float dtype (a Python number is not cast to the integer dtype on the
    way: div(uint8, -2) divides by -2). Dtypes the op lacks raise torch's NotImplementedError."""
    if not (is_tensor(input) or is_tensor(other)):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__}), but expected one "
                        f"of:\n * (Tensor input, Tensor other, *, Tensor out = None)\n * "
                        f"(Number self, Tensor other, *, Tensor out = None)\n * (Tensor input, "
                        f"Number other, *, Tensor out = None)")
    rd = _dtype.result_type_of((input, other))
    if rd.is_complex and not complex_ok:
        raise _not_implemented(name, rd)
    if not (rd.is_floating_point or rd.is_complex):
        if not int_ok:
            raise _not_implemented(name, rd)
        rd = _dtype.get_default_dtype()
    return _as_operand(input, rd), _as_operand(other, rd)


def _unrounded_divisor(other, b, rd):
    """The divisor for a rounded division: a Python number as it is when the result is of a
    half type (torch's kernels take it in float32; `promote` rounds it to bfloat16), else b."""
    if (type(other) is float or type(other) is int) and is_half(rd.np):
        return other
    return b


def _division_kernel_check(kernel, rd):
    """Integer-style division kernels (floor, trunc, remainder, fmod) exist for integers and
    real floats only."""
    if rd is _dtype.bool or rd.is_complex:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(rd)}'")


@out_cast_first
def floor_divide(input, other, *, out=None):
    """Python's //: the floor of the exact quotient; integer division by zero raises."""
    a, b, rd = _binary_prepared(input, other)
    _division_kernel_check("div_floor_cpu", rd)
    r = FloorDivide.apply(a, _unrounded_divisor(other, b, rd))
    return r if out is None else write_out(out, r, grad="aten::floor_divide")


class ScalarOverload(ArrayFunction):
    """`tensor OP number` as torch's C++ composites record it (losses, trapezoid...): through
    the Tensor-Scalar overload, the number a parameter and one edge, in a node named
    AddBackward1, SubBackward1, MulBackward1 or DivBackward1. (`x + 2.0` in Python records
    AddBackward0 with an edge for the number.) Values as the operators compute them."""

    def forward(ctx, a, *, op, other):
        ctx.op, ctx.other = op, other
        with _no_grad():
            return _SCALAR_OPS[op](Tensor._make(a), other)._data

    def backward(ctx, grad):
        if ctx.op in ("add", "sub"):
            return grad
        return grad * ctx.other if ctx.op == "mul" else grad / ctx.other

    def name(self):
        return self.op.capitalize() + "Backward1"


def scalar_overload(x, op, number):
    """x OP number (op: "add", "sub", "mul" or "div") recorded as torch's Tensor-Scalar
    overload records it (see ScalarOverload)."""
    return ScalarOverload.apply(x, op=op, other=number)


def _two_overloads(cls, a, b, tensor_name):
    """torch's Tensor-Scalar overload keeps the number as a parameter (one edge); the
    Tensor-Tensor one records both edges under another name."""
    if not is_tensor(b):
        return cls.apply(a, other=b)
    return rename_result(cls.apply(a, b), tensor_name)


@out_cast_first
def remainder(input, other, *, out=None):
    """Python's %: the result has the divisor's sign."""
    a, b, rd = _binary_prepared(input, other)
    _division_kernel_check("remainder_cpu", rd)
    if not is_tensor(input):
        return _result(RemainderScalarSelf.apply(a, b), out)
    return _result(_two_overloads(Remainder, a, b, "RemainderBackward1"), out)


@out_cast_first
def fmod(input, other, *, out=None):
    """C's fmod: the result has the dividend's sign."""
    if not is_tensor(input):
        raise TypeError(f"fmod(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    a, b, rd = _binary_prepared(input, other)
    _division_kernel_check("fmod_cpu", rd)
    return _result(_two_overloads(Fmod, a, b, "FmodBackward1"), out)


_C_TYPES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
            "int64": "int64_t", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "float32": "float", "float64": "double"}


def _pow_scalar_check(base, exponent):
    """pow(tensor, number): torch's errors for an integer base with a negative exponent, and
    for an exponent that does not fit the base's dtype."""
    rd = _dtype.result_type_of((base, exponent))
    if rd.np.kind in "iu" and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if rd is base.dtype and isinstance(exponent, (int, float)) and rd.np.kind in "iuf":
        info = np.iinfo(rd.np) if rd.np.kind in "iu" else np.finfo(rd.np)
        if np.isfinite(exponent) and not info.min <= exponent <= info.max:
            name = _C_TYPES[str(rd).split(".")[-1]]
            raise RuntimeError(f"value cannot be converted to type {name} without overflow")
    return rd


@out_cast_first
def pow(input, exponent, *, out=None):
    """input ** exponent; integers to negative integer powers raise (number exponents only: a
    tensor exponent gives C's integer results, 0 for |base| > 1)."""
    if is_tensor(input) and not is_tensor(exponent) and not isinstance(exponent, _py_complex):
        rd = _pow_scalar_check(input, exponent)
        if rd is _dtype.bool:   # bool ** bool: x ** True is x, x ** False is True
            return _result(input.clone() if exponent else input.logical_not().logical_or(input),
                           out)
    a, b, rd = _binary_prepared(input, exponent)
    if rd is _dtype.bool:
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if not is_tensor(input):     # Scalar ** Tensor: the base (made a 0-d tensor) a parameter
        r = Pow.apply(b, base=a._data)
    elif not is_tensor(b):       # Tensor ** Scalar (a half type keeps the number as it is:
        # its backward multiplies by it in float32, as torch's)
        r = Pow.apply(a, exponent=exponent if is_half(rd.np) and isinstance(
            exponent, (int, float)) else b)
    else:
        r = Pow.apply(a, b)
    return _result(r, out)


def float_power(input, exponent, *, out=None):
    """pow computed in float64 (complex128 when either operand is complex)."""
    cplx = any((is_tensor(x) and x.is_complex()) or isinstance(x, _py_complex)
               for x in (input, exponent))
    dt = _dtype.complex128 if cplx else _dtype.float64
    if out is not None and out.dtype is not dt:
        raise RuntimeError(f"the output given to float_power has dtype {out.dtype._legacy} but "
                           f"the operation's result requires dtype {dt._legacy}")
    a = input.to(dt) if is_tensor(input) else input   # (no cast node when already dt)
    b = exponent.to(dt) if is_tensor(exponent) else exponent
    return _result(pow(a, b), out)


def neg(input, *, out=None):
    if not is_tensor(input):
        raise not_a_tensor(input)
    if out is not None and input._data.dtype.kind != "b":
        check_out_same(out, input.dtype)
    return _result(Neg.apply(input), out)


negative = neg


def _no_complex(name, rd):
    if rd.is_complex:
        raise RuntimeError(f"{name} not implemented for complex tensors.")


def _selection(cls, name):
    def op(input, other, *, out=None):
        _need_tensors(name, input, other)
        if input.is_complex() or other.is_complex():
            raise RuntimeError(f"{name} not implemented for complex tensors.")
        a, b, rd = promote(input, other)
        _no_complex(name, rd or a.dtype)
        return _result(cls.apply(a, b), out)
    op.__name__ = name
    return op


maximum = _selection(Maximum, "maximum")
minimum = _selection(Minimum, "minimum")
fmax = _selection(Fmax, "fmax")
fmin = _selection(Fmin, "fmin")


def _float_binary(cls, name, int_ok, tensors_only=False):
    def op(input, other, *, out=None):
        if tensors_only:
            _need_tensors(name, input, other)
        elif not is_tensor(input) and name == "copysign":
            raise TypeError(f"copysign() received an invalid combination of arguments - got "
                            f"({type(input).__name__}, {type(other).__name__}), but expected "
                            f"one of:\n * (Tensor input, Tensor other, *, Tensor out)\n * "
                            f"(Tensor input, Number other, *, Tensor out)")
        a, b = _float_operands(name, input, other, int_ok)
        return _result(cls.apply(a, b), out)
    op.__name__ = name
    return out_cast_first(op)


hypot = _float_binary(Hypot, "hypot", False, True)
atan2 = arctan2 = _float_binary(Atan2, "atan2", True, True)
copysign = _float_binary(Copysign, "copysign", True)
xlogy = _float_binary(Xlogy, "xlogy", True)


def sinc(input, *, out=None):
    """sin(pi x) / (pi x), normalised like NumPy's sinc; 1 at 0."""
    if not is_tensor(input):
        raise not_a_tensor(input)
    return _result(Sinc.apply(_float_input(input)), out)


def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input); input and end must share a float dtype."""
    if input.dtype is not end.dtype:
        raise RuntimeError(f"expected dtype {_c_name(input.dtype)} for `end` but got dtype "
                           f"{_c_name(end.dtype)}")
    if is_tensor(weight) and weight.dtype is not input.dtype:
        raise RuntimeError(f"expected dtype {_c_name(input.dtype)} for `weight` but got dtype "
                           f"{_c_name(weight.dtype)}")
    if not (input.is_floating_point() or input.is_complex()):
        raise NotImplementedError(f"\"lerp_kernel_{'tensor' if is_tensor(weight) else 'scalar'}"
                                  f"\" not implemented for '{_type_name(input.dtype)}'")
    if is_tensor(weight):   # (the tensor-weight kernel writes out= in the inputs' dtype only)
        check_out_same(out, input.dtype)
        return _result(Lerp.apply(input, end, weight), out)
    # (a number weight in the opmath dtype: float32, not rounded, for the half types)
    return _result(Lerp.apply(input, end, scalar_weight=_asarray(weight,
                                                                 opmath(input._data.dtype))),
                   out)


class _AddcOp(ArrayFunction):
    """input + value * tensor1 (op) tensor2 as one node (torch's AddcmulBackward0 /
    AddcdivBackward0): the three arrays share the result dtype; half types are computed in
    float32 (torch's opmath) and rounded once. torch's order: (value * tensor1) op tensor2
    (it decides complex infinities)."""
    op = None

    def forward(ctx, a, t1, t2, *, value):
        ctx.value = value
        ctx.save_for_backward(t1 if ctx.needs_input_grad[2] else None,
                              t2 if ctx.needs_input_grad[1] or ctx.needs_input_grad[2] else None)
        op = ctx.op
        if op is np.multiply and is_half(a.dtype):
            # torch's vectorized half kernel fuses the last multiply-add (an FMA)
            return in_opmath(lambda a, t1, t2: fma32(np.multiply(t1, value), t2, a), a, t1, t2)
        return _in_float32(lambda a, t1, t2: np.add(a, op(t1 if value == 1 else
                                                          np.multiply(t1, value), t2)), a, t1, t2)


class Addcmul(_AddcOp):
    op = staticmethod(np.multiply)

    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        v = _conj(ctx.value)
        return (grad, grad * _conj(t2 * v) if ctx.needs_input_grad[1] else None,
                grad * _conj(t1 * v) if ctx.needs_input_grad[2] else None)


class Addcdiv(_AddcOp):
    op = staticmethod(np.true_divide)

    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        v = _conj(ctx.value)
        # (C++'s value / tensor2 in torch's formula: div, not Python's reciprocal() * value)
        g1 = grad * _conj(div(v, t2)) if ctx.needs_input_grad[1] else None
        g2 = -grad * _conj(t1 * v / (t2 * t2)) if ctx.needs_input_grad[2] else None
        return grad, g1, g2


def _addc_operands(input, tensor1, tensor2, value):
    """The three tensors in their common dtype, and value as that dtype takes it (an integer
    result truncates a float value, as torch's cast of it does)."""
    rd = _dtype.result_type_of((input, tensor1, tensor2))
    if rd.np.kind in "iu" and isinstance(value, float):
        value = int(value)
    return rd, [to_dtype(t, rd) for t in (input, tensor1, tensor2)], value


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2 in the dtype the three promote to."""
    rd, (a, t1, t2), value = _addc_operands(input, tensor1, tensor2, value)
    if rd is _dtype.bool:
        raise NotImplementedError("\"addcmul_cpu_out\" not implemented for 'Bool'")
    return _result(Addcmul.apply(a, t1, t2, value=value), out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2; two integer tensors are an error (as in torch)."""
    if not (tensor1.is_floating_point() or tensor1.is_complex()) and not (
            tensor2.is_floating_point() or tensor2.is_complex()):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future  release addcdiv will perform a true division of tensor1 and "
                           "tensor2. The historic addcdiv behavior can be implemented as (input "
                           "+ value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer "
                           "inputs and as (input + value * tensor1 / tensor2) for float inputs. "
                           "The future addcdiv behavior is just the latter implementation: "
                           "(input + value * tensor1 / tensor2), for all dtypes.")
    rd, (a, t1, t2), value = _addc_operands(input, tensor1, tensor2, value)
    return _result(Addcdiv.apply(a, t1, t2, value=value), out)




# ---------------------------------------------------------------------------------------------
# Tensor methods, in-place variants and dunders

def _inplace_of(fn):
    def method(self, *args, **kwargs):
        try:
            r = fn(self, *args, **kwargs)
        except RuntimeError as exc:   # torch refuses a result it could not write back first
            _cast_back_first(self, args[:1], exc)
            raise
        return inplace(self, r)
    method.__name__ = fn.__name__ + "_"
    return method


# (the argument checks torch makes before it looks at the result type)
_OWN_ERRORS = ("Subtraction, the `-` operator", "Integers to negative integer powers")


def _cast_back_first(self, operands, exc):
    if not str(exc).startswith(_OWN_ERRORS):
        check_cast_back(self, operands)


_OPERANDS = (Tensor, int, float, bool, _py_complex, np.generic)
_EXACT_OPERANDS = frozenset((Tensor, int, float, bool, _py_complex))


def _binary_dunder(fn):
    """`self OP other` -> fn(self, other); unknown operand types get NotImplemented, so that
    Python tries their reflected method."""
    def method(self, other):
        if type(other) in _EXACT_OPERANDS or isinstance(other, _OPERANDS):
            return fn(self, other)
        return NotImplemented
    return method


def _rdunder(fn):
    def method(self, other):
        if type(other) in _EXACT_OPERANDS or isinstance(other, _OPERANDS[1:]):
            return fn(other, self)
        return NotImplemented
    return method


def _idunder(fn):
    def method(self, other):
        try:
            r = fn(self, other)
        except RuntimeError as exc:
            _cast_back_first(self, (other,), exc)
            raise
        return inplace(self, r)
    return method


neg_ = negative_ = _inplace_of(neg)
xlogy_ = _inplace_of(xlogy)
sinc_ = _inplace_of(sinc)

for _name, _fn in (("add", add), ("sub", sub), ("subtract", sub), ("mul", mul),
                   ("multiply", mul), ("div", div), ("divide", div),
                   ("true_divide", true_divide), ("floor_divide", floor_divide),
                   ("remainder", remainder), ("fmod", fmod), ("pow", pow),
                   ("float_power", float_power), ("neg", neg), ("negative", neg),
                   ("maximum", maximum), ("minimum", minimum), ("fmax", fmax), ("fmin", fmin),
                   ("hypot", hypot), ("atan2", atan2), ("arctan2", arctan2),
                   ("copysign", copysign), ("lerp", lerp), ("addcmul", addcmul),
                   ("addcdiv", addcdiv), ("xlogy", xlogy), ("sinc", sinc)):
    setattr(Tensor, _name, _fn)
    if _name == "lerp":   # (its own dtype checks come before the cast back)
        setattr(Tensor, _name + "_", lambda self, *a, _fn=_fn: inplace(self, _fn(self, *a)))
    elif _name not in ("maximum", "minimum", "fmax", "fmin"):
        setattr(Tensor, _name + "_", _inplace_of(_fn))

# `+ - * /` are their lanes, falling back on the full functions' dunder forms
for _dn, _fn, _method in (
        ("add", add, binary_lane(Add, "biufc", _binary_dunder(_add))),
        ("sub", sub, binary_lane(Sub, "iufc", _binary_dunder(_sub))),
        ("mul", mul, binary_lane(Mul, "biufc", _binary_dunder(_mul))),
        ("truediv", div, binary_lane(Div, "fc", _binary_dunder(_div))),
        ("floordiv", floor_divide, _binary_dunder(floor_divide)),
        ("mod", remainder, _binary_dunder(remainder)), ("pow", pow, _binary_dunder(pow))):
    _method.__name__ = _method.__qualname__ = f"__{_dn}__"
    setattr(Tensor, f"__{_dn}__", _method)
    setattr(Tensor, f"__r{_dn}__", _rdunder(_fn))
    setattr(Tensor, f"__i{_dn}__", _idunder(_fn))


def _rtruediv(self, other):
    """number / tensor, computed as torch does: reciprocal(tensor) * number (so the values
    round as torch's, and the graph is MulBackward0 over ReciprocalBackward0)."""
    if type(other) in _EXACT_OPERANDS or isinstance(other, _OPERANDS[1:]):
        if is_tensor(other):
            return div(other, self)
        return mul(_unary.reciprocal(self), other)
    return NotImplemented


Tensor.__rtruediv__ = _rtruediv
Tensor.__div__, Tensor.__rdiv__, Tensor.__idiv__ = (Tensor.__truediv__, Tensor.__rtruediv__,
                                                    Tensor.__itruediv__)
def _neg_method(self):   # -x: self is a Tensor, so neg's argument checks are not needed
    return Neg.apply(self)


Tensor.__neg__ = _neg_method


def _float_power_(self, exponent):
    cplx = self.is_complex() or isinstance(exponent, _py_complex) or (
        is_tensor(exponent) and exponent.is_complex())
    dt = _dtype.complex128 if cplx else _dtype.float64
    if self.dtype is not dt:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype._legacy} but "
                           f"the operation's result requires dtype {dt._legacy}")
    return inplace(self, float_power(self, exponent))


Tensor.float_power_ = _float_power_


# ---------------------------------------------------------------------------------------------
# The rest of the pointwise family, re-exported so `from ember._ops.pointwise import *` has it

_SCALAR_OPS = {"add": add, "sub": sub, "mul": mul, "div": div}


from ember._ops.pointwise_unary import *          # noqa: E402,F401,F403
from ember._ops.pointwise_logic import *          # noqa: E402,F401,F403
from ember._ops.pointwise_complex import *        # noqa: E402,F401,F403
from ember._ops.pointwise_numeric import *        # noqa: E402,F401,F403
from ember._ops.pointwise_logic import Where      # noqa: E402,F401  (used by other families)
from ember._ops import pointwise_unary as _unary, pointwise_logic as _logic  # noqa: E402
from ember._ops import pointwise_complex as _complex, pointwise_numeric as _numeric  # noqa: E402

__all__ += _unary.__all__ + _logic.__all__ + _complex.__all__ + _numeric.__all__
