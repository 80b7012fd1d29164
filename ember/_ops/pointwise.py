"""Pointwise arithmetic: add sub mul div (rounding modes) floor_divide remainder fmod pow
float_power, maximum minimum fmax fmin, hypot atan2 copysign, lerp addcmul addcdiv, xlogy; the
arithmetic dunders. Other pointwise families live beside this file and are re-exported here:
`pointwise_unary` (exp, trig, relu/sigmoid/tanh, erf, rounding, clamp), `pointwise_logic`
(where, comparisons, bitwise/logical, predicates), `pointwise_complex` (real/imag views, angle,
complex, polar, view_as_real/complex, conj).

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
from ember._ops._helpers import binary_lane, inplace, is_tensor, promote, write_out
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction
from ember._ops.pointwise_logic import where

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
           "floor_divide", "remainder", "fmod", "pow", "float_power", "neg", "negative",
           "rsub", "maximum", "minimum", "fmax", "fmin", "hypot", "atan2", "arctan2",
           "copysign", "lerp", "addcmul", "addcdiv", "xlogy", "sinc", "neg_", "negative_",
           "xlogy_", "sinc_"]

_asarray = np.asarray
_py_complex = complex   # the builtin: this module re-exports torch.complex below


def _type_name(dt):
    return dt._legacy.replace("Tensor", "")


# ---------------------------------------------------------------------------------------------
# dtype conversion

class ToCopy(ArrayFunction):
    """Cast to another dtype; the gradient is cast back to the input's dtype by the engine."""

    def forward(ctx, a, *, npd):
        if a.dtype.kind == "c" and npd.kind != "c":
            a = a.real   # complex -> real keeps the real part (NumPy would warn)
        return a.astype(npd)

    def backward(ctx, grad):
        return grad

    def name(self):
        return "ToCopyBackward0"


def _to_dtype(t, dt):
    if dt.is_complex and dt.np is None:
        raise TypeError(f"{dt} is not supported by ember")
    return ToCopy.apply(t, npd=dt.np)


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


def _c_name(dt):
    """The C++ scalar name torch's dtype-mismatch messages use (float, double, c10::Half)."""
    return {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}.get(str(dt).split(".")[-1], str(dt))


def _result(r, out):
    return r if out is None else write_out(out, r)


def _zero_division_check(b, kind):
    if kind in "iub" and np.any(_asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")


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
        return _asarray(np.add(a, np.multiply(b, alpha)))

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
        return _asarray(np.subtract(a, np.multiply(b, alpha)))

    def backward(ctx, grad):
        return grad, -grad if ctx.alpha == 1 else grad * -_conj(ctx.alpha)


class Mul(ArrayFunction):
    fast = staticmethod(np.multiply)

    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return _asarray(np.multiply(a, b))

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad * _conj(b) if ctx.needs_input_grad[0] else None,
                grad * _conj(a) if ctx.needs_input_grad[1] else None)


class Div(ArrayFunction):
    """True division; with rounding_mode ('trunc', 'floor') the gradient is zero."""
    fast = staticmethod(np.true_divide)

    def forward(ctx, a, b, *, rounding_mode=None):
        ctx.rounding_mode = rounding_mode
        if rounding_mode is None:
            ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
            return _asarray(np.true_divide(a, b))
        kind = np.result_type(a, b).kind
        _zero_division_check(b, kind)
        if rounding_mode == "floor":
            return _asarray(np.floor_divide(a, b))
        if kind in "iu":
            # truncation toward zero without a float round trip (exact for all int64)
            q = np.floor_divide(a, b)
            fix = (np.remainder(a, b) != 0) & ((_asarray(a) < 0) != (_asarray(b) < 0))
            return _asarray(q + fix.astype(q.dtype))
        return _asarray(np.trunc(np.true_divide(a, b)))

    def backward(ctx, grad):
        if ctx.rounding_mode is not None:
            return grad * 0, None if not ctx.needs_input_grad[1] else grad * 0
        a, b = ctx.saved_tensors
        ga = grad / _conj(b) if ctx.needs_input_grad[0] else None
        gb = -grad * _conj(a) / _conj(b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


class FloorDivide(ArrayFunction):
    """Python-style floor division; torch defines no derivative for it."""

    def forward(ctx, a, b):
        _zero_division_check(b, np.result_type(a, b).kind)
        return _asarray(np.floor_divide(a, b))

    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


class Remainder(ArrayFunction):
    """a - b * floor(a / b) (the divisor's sign); d/db = -floor(a / b)."""

    def forward(ctx, a, b):
        _zero_division_check(b, np.result_type(a, b).kind)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[1] else None)
        return _asarray(np.remainder(a, b))

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        gb = -grad * div(a, b, rounding_mode="floor") if ctx.needs_input_grad[1] else None
        return grad, gb


class RemainderScalarSelf(ArrayFunction):
    """remainder(number, tensor): torch defines no derivative for this overload."""

    def forward(ctx, a, b):
        _zero_division_check(b, np.result_type(a, b).kind)
        return _asarray(np.remainder(a, b))

    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::remainder is not implemented")


class Fmod(ArrayFunction):
    """C's fmod (the dividend's sign); d/db = -trunc(a / b)."""

    def forward(ctx, a, b):
        _zero_division_check(b, np.result_type(a, b).kind)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[1] else None)
        return _asarray(np.fmod(a, b))

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        gb = -grad * div(a, b, rounding_mode="trunc") if ctx.needs_input_grad[1] else None
        return grad, gb


class Pow(ArrayFunction):
    """a ** b; d/da = b * a^(b-1), d/db = a^b * log(a) (0 where a == 0 and b >= 0)."""

    def forward(ctx, a, b):
        out = _asarray(np.power(a, b))
        ctx.save_for_backward(a, b, out if ctx.needs_input_grad[1] else None)
        return out

    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if is_tensor(b):
                ga = grad * _conj(b * a ** (b - 1))
                zero = b._data == 0   # torch: 0 where the exponent is 0 (not 0 * inf)
                if zero.any():
                    ga = where(Tensor._make(zero), 0.0, ga)
            elif b != 0:
                ga = grad * _conj(b * a ** (b - 1))
            else:
                ga = grad * 0
        if ctx.needs_input_grad[1]:
            a = _as_tensor(a, out.dtype)
            la = a.log()
            zero = (a._data == 0) & (_asarray(b._data if is_tensor(b) else b).real >= 0)
            if zero.any():
                la = where(Tensor._make(zero), 0.0, la)
            gb = grad * _conj(out * la)
        return ga, gb


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
        zero = grad * 0
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
        return _asarray(ctx.fn(a, b))

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        x, y = a._data, b._data
        to_a = ((x >= y) if ctx.fn is np.fmax else (x <= y)) | np.isnan(y)
        zero = grad * 0
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
        r2 = a * a + b * b
        return grad * b / r2, grad * -a / r2


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
            ratio = np.where(x == 0, 0, out._data / np.where(x == 0, 1, x)).astype(x.dtype)
        return grad * Tensor._make(_asarray(ratio)), grad * 0


class Lerp(ArrayFunction):
    """start + weight * (end - start)."""

    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        return _asarray(start + weight * (end - start))

    def backward(ctx, grad):
        start, end, weight = ctx.saved_tensors
        w = _conj(weight)
        g_start = grad * (1 - w) if ctx.needs_input_grad[0] else None
        g_end = grad * w if ctx.needs_input_grad[1] else None
        g_w = grad * _conj(end - start) if ctx.needs_input_grad[2] else None
        return g_start, g_end, g_w


class Xlogy(ArrayFunction):
    """x * log(y), 0 where x == 0 (unless y is NaN); d/dx = log(y) (0 there), d/dy = x / y."""

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.multiply(a, np.log(b))
            return _asarray(np.where((_asarray(a) == 0) & ~np.isnan(b), 0, out)
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
    """sin(pi x) / (pi x), 1 at 0; the gradient is (cos(pi x) - sinc(x)) / x, 0 at x = 0."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _asarray(np.sinc(a))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        zero = a._data == 0
        safe = where(Tensor._make(zero), 1.0, a)
        d = ((safe * np.pi).cos() - sinc(safe)) / safe
        return grad * _conj(where(Tensor._make(zero), 0.0, d))


# ---------------------------------------------------------------------------------------------
# Public functions

def _alpha_check(dt, alpha):
    if alpha != 1 and dt is not None:
        if dt.np.kind in "iu" and isinstance(alpha, float):
            raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                               "point number.")
        if dt.np.kind == "b" and not isinstance(alpha, bool):
            raise RuntimeError("Boolean alpha only supported for Boolean results.")


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, with torch's type promotion and broadcasting."""
    if alpha == 1 and out is None and isinstance(input, Tensor):
        return _add_lane(input, other)
    return _add(input, other, alpha, out)


def _add(input, other, alpha=1, out=None):
    a, b, rd = promote(input, other)
    if alpha != 1:
        _alpha_check(rd or input.dtype, alpha)
        r = Add.apply(a, b, alpha=alpha) if is_tensor(a) else Add.apply(b * alpha, a)
    else:
        r = Add.apply(a, b) if is_tensor(a) else Add.apply(b, a)   # scalar + tensor commutes
    return r if out is None else write_out(out, r)


def sub(input, other, *, alpha=1, out=None):
    if alpha == 1 and out is None and isinstance(input, Tensor):
        return _sub_lane(input, other)
    return _sub(input, other, alpha, out)


def _sub(input, other, alpha=1, out=None):
    if (is_tensor(input) and input._data.dtype.kind == "b") or (
            is_tensor(other) and other._data.dtype.kind == "b"):
        _bool_sub_error(_dtype.result_type_of((input, other)) is _dtype.bool)
    a, b, rd = promote(input, other)
    if alpha != 1:
        _alpha_check(rd or input.dtype, alpha)
    if is_tensor(a):
        r = Sub.apply(a, b, alpha=alpha)
    else:
        r = Add.apply(Neg.apply(b) if alpha == 1 else b * -alpha, a)
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
    return sub(other, input, alpha=alpha) if is_tensor(other) else add(-input * alpha, other)


def mul(input, other, *, out=None):
    if out is None and isinstance(input, Tensor):
        return _mul_lane(input, other)
    return _mul(input, other, out)


def _mul(input, other, out=None):
    a, b, _ = promote(input, other)
    if not is_tensor(a):
        a, b = b, a
    r = Mul.apply(a, b)
    return r if out is None else write_out(out, r)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """True division (integers give the default float dtype) or rounded with rounding_mode."""
    if rounding_mode not in (None, "trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    if rounding_mode is None and out is None and isinstance(input, Tensor):
        return _div_lane(input, other)
    return _div(input, other, rounding_mode, out)


def _div(input, other, rounding_mode=None, out=None):
    a, b, rd = promote(input, other)
    rd = rd or (a if is_tensor(a) else b).dtype
    if rounding_mode is None and not (rd.is_floating_point or rd.is_complex):
        rd = _dtype.get_default_dtype()
        a = _float_input(a) if is_tensor(a) else a
        b = _float_input(b) if is_tensor(b) else b
    a = _as_tensor(a, rd)
    return _result(Div.apply(a, b, rounding_mode=rounding_mode), out)


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


def floor_divide(input, other, *, out=None):
    """Python's //: the floor of the exact quotient; integer division by zero raises."""
    a, b, rd = _binary_prepared(input, other)
    if rd.is_complex:
        raise RuntimeError("floor_divide is not supported for complex inputs")
    return _result(FloorDivide.apply(a, b), out)


def remainder(input, other, *, out=None):
    """Python's %: the result has the divisor's sign."""
    a, b, rd = _binary_prepared(input, other)
    if rd.is_complex:
        raise NotImplementedError(f"\"remainder_cpu\" not implemented for '{_type_name(rd)}'")
    if not is_tensor(input):
        return _result(RemainderScalarSelf.apply(a, b), out)
    return _result(Remainder.apply(a, b), out)


def fmod(input, other, *, out=None):
    """C's fmod: the result has the dividend's sign."""
    if not is_tensor(input):
        raise TypeError(f"fmod(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    a, b, rd = _binary_prepared(input, other)
    if rd.is_complex:
        raise NotImplementedError(f"\"fmod_cpu\" not implemented for '{_type_name(rd)}'")
    return _result(Fmod.apply(a, b), out)


def pow(input, exponent, *, out=None):
    """input ** exponent; integers to negative integer powers raise."""
    a, b, rd = _binary_prepared(input, exponent)
    if rd.np.kind in "iu":
        neg = (b._data < 0).any() if is_tensor(b) else b < 0
        if neg:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    return _result(Pow.apply(a, b), out)


def float_power(input, exponent, *, out=None):
    """pow computed in float64 (complex128 when either operand is complex)."""
    cplx = any((is_tensor(x) and x.is_complex()) or isinstance(x, _py_complex)
               for x in (input, exponent))
    dt = _dtype.complex128 if cplx else _dtype.float64
    if out is not None and out.dtype is not dt:
        raise RuntimeError(f"the output given to float_power has dtype {out.dtype} but the "
                           f"operation's result requires dtype {dt}")
    a = _to_dtype(input, dt) if is_tensor(input) else input
    b = _to_dtype(exponent, dt) if is_tensor(exponent) else exponent
    return _result(pow(a, b), out)


def neg(input, *, out=None):
    return _result(Neg.apply(input), out)


negative = neg


def _no_complex(name, rd):
    if rd.is_complex:
        raise RuntimeError(f"{name} not implemented for complex tensors.")


def _selection(cls, name):
    def op(input, other, *, out=None):
        if not is_tensor(other):
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not "
                            f"{type(other).__name__}")
        a, b, rd = promote(input, other)
        _no_complex(name, rd or a.dtype)
        return _result(cls.apply(a, b), out)
    op.__name__ = name
    return op


maximum = _selection(Maximum, "maximum")
minimum = _selection(Minimum, "minimum")
fmax = _selection(Fmax, "fmax")
fmin = _selection(Fmin, "fmin")


def _float_binary(cls, name, int_ok):
    def op(input, other, *, out=None):
        a, b, rd = _binary_prepared(input, other)
        if rd.is_complex:
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_type_name(rd)}'")
        if not rd.is_floating_point:
            if not int_ok:
                raise NotImplementedError(f"\"{name}_cpu\" not implemented for "
                                          f"'{_type_name(rd)}'")
            a = _float_input(a)
            b = _float_input(b) if is_tensor(b) else b
        return _result(cls.apply(a, b), out)
    op.__name__ = name
    return op


hypot = _float_binary(Hypot, "hypot", False)
atan2 = arctan2 = _float_binary(Atan2, "atan2", True)
copysign = _float_binary(Copysign, "copysign", True)
xlogy = _float_binary(Xlogy, "xlogy", True)


def sinc(input, *, out=None):
    """sin(pi x) / (pi x), normalised like NumPy's sinc; 1 at 0."""
    return _result(Sinc.apply(_float_input(input)), out)


def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input); input and end must share a float dtype."""
    if input.dtype is not end.dtype:
        raise RuntimeError(f"expected dtype {_c_name(input.dtype)} for `end` but got dtype "
                           f"{_c_name(end.dtype)}")
    if not (input.is_floating_point() or input.is_complex()):
        raise NotImplementedError(f"\"lerp_kernel_{'tensor' if is_tensor(weight) else 'scalar'}"
                                  f"\" not implemented for '{_type_name(input.dtype)}'")
    if is_tensor(weight) and weight.dtype is not input.dtype:
        raise RuntimeError(f"expected dtype {_c_name(input.dtype)} for `weight` but got dtype "
                           f"{_c_name(weight.dtype)}")
    w = weight if is_tensor(weight) else _asarray(weight, input._data.dtype)
    return _result(Lerp.apply(input, end, w), out)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2 (composed, so gradients come from mul and add)."""
    return _result(add(input, mul(tensor1, tensor2), alpha=value), out)


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
    return _result(add(input, div(tensor1, tensor2), alpha=value), out)




# ---------------------------------------------------------------------------------------------
# Tensor methods, in-place variants and dunders

def _inplace_of(fn):
    def method(self, *args, **kwargs):
        return inplace(self, fn(self, *args, **kwargs))
    method.__name__ = fn.__name__ + "_"
    return method


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
        return inplace(self, fn(self, other))
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
    if _name not in ("maximum", "minimum", "fmax", "fmin"):
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
Tensor.__div__, Tensor.__rdiv__, Tensor.__idiv__ = (Tensor.__truediv__, Tensor.__rtruediv__,
                                                    Tensor.__itruediv__)
Tensor.__neg__ = neg


def _float_power_(self, exponent):
    if self.dtype is not (_dtype.complex128 if self.is_complex() else _dtype.float64):
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype} but the "
                           f"operation's result requires dtype {_dtype.float64}")
    return inplace(self, float_power(self, exponent))


Tensor.float_power_ = _float_power_


# ---------------------------------------------------------------------------------------------
# The rest of the pointwise family, re-exported so `from ember._ops.pointwise import *` has it

from ember._ops.pointwise_unary import *          # noqa: E402,F401,F403
from ember._ops.pointwise_logic import *          # noqa: E402,F401,F403
from ember._ops.pointwise_complex import *        # noqa: E402,F401,F403
from ember._ops.pointwise_logic import Where      # noqa: E402,F401  (used by other families)
from ember._ops import pointwise_unary as _unary, pointwise_logic as _logic  # noqa: E402
from ember._ops import pointwise_complex as _complex  # noqa: E402

__all__ += _unary.__all__ + _logic.__all__ + _complex.__all__
