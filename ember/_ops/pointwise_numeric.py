"""Pointwise numeric functions: logaddexp logaddexp2, deg2rad rad2deg, gcd lcm, heaviside, and
the floating-point bit ops nextafter ldexp frexp (re-exported by `pointwise`, as its other
siblings are; `pointwise` also takes its dtype helpers from here, and this file takes `mul`,
`pow` and `_conj` from `pointwise` inside the functions that use them).

All binary ones take two Tensors (a Python number is torch's TypeError) and compute in the
promoted dtype; half and bfloat16 compute in float32 and round once, as torch's opmath does.
"""
import numpy as np

from ember import _dtype
from ember._ops._helpers import (c_name as _c_name, in_opmath, inplace, is_tensor,
                                 out_cast_first, promote, select, write_out, zeros_of)
from ember._ops.pointwise_logic import _inplace_of, _result, _type_name
from ember._ops.pointwise_unary import _float_input
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["logaddexp", "logaddexp2", "deg2rad", "rad2deg", "gcd", "lcm", "heaviside",
           "nextafter", "ldexp", "frexp", "deg2rad_", "rad2deg_", "gcd_", "lcm_", "ldexp_"]

_asarray = np.asarray
_LN2 = float(np.log(2.0))


def _is_bf16(dt):
    return dt.name == "bfloat16"   # by name: ml_dtypes is imported only when bfloat16 is used


def _in_float32(fn, a, *rest):
    """fn(a, *rest) on arrays of one dtype, half types through float32 (`in_opmath`),
    silently (inf - inf inside logaddexp is NaN)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return _asarray(in_opmath(fn, a, *rest))


def _complex_logaddexp(a, b):
    """log(exp(a) + exp(b)) for complex arrays: hi + log1p(exp(lo - hi)), hi the operand with
    the larger real part (b counts as the smaller at ties). Both real parts -inf give the
    smaller operand, both +inf give log(exp(a) + exp(b)); a NaN anywhere gives NaN+NaNj."""
    swap = a.real < b.real
    lo, hi = select(swap, a, b), select(swap, b, a)
    with np.errstate(all="ignore"):
        d = np.exp(lo - hi)
        u, v = d.real, d.imag
        # log1p(d) accurate for small |d|: log|1 + d| = log1p(2u + u^2 + v^2) / 2
        out = hi + (0.5 * np.log1p(2 * u + u * u + v * v) + 1j * np.arctan2(v, 1 + u))
        same_inf = np.isinf(lo.real) & (lo.real == hi.real)
        if same_inf.any():
            out = select(same_inf, select(lo.real < 0, lo, np.log(np.exp(lo) + np.exp(hi))),
                           out)
    nan = np.isnan(a) | np.isnan(b)
    if nan.any():
        out = select(nan, complex(np.nan, np.nan), out)
    return _asarray(out.astype(a.dtype, copy=False))


class Logaddexp(ArrayFunction):
    """log(exp(a) + exp(b)) without overflow; d/da = 1 / (1 + exp(b - a)) (NaN where a and b
    are the same infinity, as in torch)."""

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if a.dtype.kind == "c":
            return _complex_logaddexp(a, b)
        return _in_float32(np.logaddexp, a, b)

    def backward(ctx, grad):
        from ember._ops.pointwise import _conj
        a, b = ctx.saved_tensors
        ga = grad / _conj(1 + (b - a).exp()) if ctx.needs_input_grad[0] else None
        gb = grad / _conj(1 + (a - b).exp()) if ctx.needs_input_grad[1] else None
        return ga, gb


class Logaddexp2(ArrayFunction):
    """log2(2^a + 2^b) without overflow; d/da = 1 / (1 + 2^(b - a))."""

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _in_float32(np.logaddexp2, a, b)

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = grad / (1 + (b - a).exp2()) if ctx.needs_input_grad[0] else None
        gb = grad / (1 + (a - b).exp2()) if ctx.needs_input_grad[1] else None
        return ga, gb


class Deg2Rad(ArrayFunction):
    """input * (pi / 180); a linear map, so the gradient is the same map of grad."""
    scale = np.pi / 180

    def forward(ctx, a):
        if a.dtype == np.float16 or _is_bf16(a.dtype):   # in float32, rounded once (as torch)
            return _asarray(np.multiply(a.astype(np.float32), ctx.scale).astype(a.dtype))
        return _asarray(np.multiply(a, ctx.scale))

    def backward(ctx, grad):
        return type(ctx).apply(grad)


class Rad2Deg(Deg2Rad):
    """input * (180 / pi) (a product, as torch computes it, not a division by pi / 180)."""
    scale = 180 / np.pi


def _torch_gcd(a, b):
    """gcd as torch computes it: Euclid on |a| and |b| with C's truncating remainder. |MIN|
    wraps to MIN for signed types, so a MIN operand can give a negative result
    (gcd(5, -2**63) == -1); NumPy's gcd agrees everywhere else and serves those elements."""
    out = _asarray(np.gcd(a, b))
    if a.dtype.kind != "i":
        return out
    low = np.iinfo(a.dtype).min
    odd = (a == low) | (b == low)
    if not odd.any():
        return out
    x, y = np.broadcast_arrays(a, b)
    out = np.array(np.broadcast_to(out, odd.shape))
    with np.errstate(all="ignore"):
        x, y = np.abs(x[odd]), np.abs(y[odd])
        while (x != 0).any():
            live = x != 0
            r = np.fmod(y, select(live & (x != -1), x, 1))   # MIN % -1 traps in C
            x, y = select(live, r, 0).astype(x.dtype), select(live, x, y)
    out[odd] = y
    return out


class Gcd(ArrayFunction):
    """Greatest common divisor of integers (0 for gcd(0, 0)); no gradient (integer outputs)."""

    def forward(ctx, a, b):
        return _torch_gcd(a, b)


class Lcm(ArrayFunction):
    """|a / gcd(a, b) * b|, 0 when either is 0, wrapping on overflow as torch's C++ does: types
    narrower than int are computed in int and wrap after the abs, int and long before it."""

    def forward(ctx, a, b):
        g = _torch_gcd(a, b)
        zero = g == 0
        wide = np.int32 if g.dtype.itemsize < 4 else g.dtype
        with np.errstate(all="ignore"):
            q = np.floor_divide(a, select(zero, 1, g).astype(g.dtype))   # exact: g | a
            p = np.abs(q.astype(wide) * b.astype(wide))
            return _asarray(select(zero, 0, p).astype(g.dtype, copy=False))


class Heaviside(ArrayFunction):
    """0 where input < 0, `values` where input == 0 (-0.0 included), 1 where input > 0; NaN
    gives 0 (torch tests input > 0). torch defines no derivative: backward raises."""

    what = "aten::heaviside"

    def forward(ctx, a, v):
        return _asarray(select(a == 0, v, (a > 0).astype(a.dtype)).astype(a.dtype, copy=False))

    def backward(ctx, grad):
        raise RuntimeError(f"derivative for {ctx.what} is not implemented")

    def name(self):
        return "torch::autograd::NotImplemented"


class Nextafter(ArrayFunction):
    """The next representable value after input toward other (other itself when equal); torch's
    gradient passes grad to input where input != other (0 where equal), zeros to other."""

    def forward(ctx, a, b):
        if ctx.needs_input_grad[0]:
            ctx.moved = _asarray(np.not_equal(a, b))
        if a.dtype == np.float16:   # other itself where equal (NumPy's float16: input)
            return _asarray(select(a == b, b, np.nextafter(a, b)))
        return _asarray(np.nextafter(a, b))

    def backward(ctx, grad):
        ga = grad * Tensor._make(ctx.moved) if ctx.needs_input_grad[0] else None
        return ga, zeros_of(grad) if ctx.needs_input_grad[1] else None


class Ldexp(ArrayFunction):
    """input * 2**other. A floating input with an integer exponent is exact (C's ldexp; the
    exponent wraps to int32, as torch casts it); otherwise torch's input * pow(2, other), with
    2**other in other's dtype (float16 overflows at 2**16), complex for a complex input, and
    integer inputs in the default float dtype. torch's gradients: d/dinput = 2**other as an
    integer power for an integer exponent (0 for negative ones), d/dother = result * log(2)."""

    def forward(ctx, a, b):
        ctx.save_for_backward(b, None)
        if b.dtype.kind in "iu" and (a.dtype.kind == "f" or _is_bf16(a.dtype)):
            e = b.astype(np.int32, copy=False)
            if _is_bf16(a.dtype):
                return _asarray(np.ldexp(a.astype(np.float32), e).astype(a.dtype))
            return _asarray(np.ldexp(a, e))
        from ember._ops.pointwise import mul, pow
        base = complex(2) if a.dtype.kind == "c" else 2.0
        with np.errstate(over="ignore", under="ignore"):
            out = mul(Tensor._make(a), pow(base, Tensor._make(b)))._data
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(b, out)
        return out

    def backward(ctx, grad):
        from ember._ops.pointwise import _conj, pow
        b, out = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if b.is_floating_point() or b.is_complex():
                ga = grad * _conj(pow(2, b))
            else:
                ga = grad * Tensor._make(_int_pow2(b._data))
        if ctx.needs_input_grad[1]:
            gb = grad * _conj(out) * _LN2
        return ga, gb


def _int_pow2(e):
    """2**e in e's integer dtype as C computes it: 0 for e < 0, wrapping past the width."""
    bits = e.dtype.itemsize * 8
    inside = (e >= 0) & (e < bits)
    with np.errstate(all="ignore"):
        p = np.left_shift(np.ones((), e.dtype), select(inside, e, 0))
    return _asarray(select(inside, p, 0).astype(e.dtype))


class Frexp(ArrayFunction):
    """mantissa (|m| in [0.5, 1), input's sign) and int32 exponent with input = m * 2**exp;
    0, inf and NaN have exponent 0. d(mantissa)/d(input) = 1 / exp2(exponent), the exp2 in
    float32 as torch computes it."""

    def forward(ctx, a):
        if _is_bf16(a.dtype):
            m, e = np.frexp(a.astype(np.float32))
            m = m.astype(a.dtype)
        else:
            m, e = np.frexp(a)
        e = _asarray(e).astype(np.int32, copy=False)
        ctx.save_for_backward(e)
        return _asarray(m), e

    def backward(ctx, grad, _):
        (e,) = ctx.saved_tensors
        return grad / e.exp2()


def _need_tensors(name, input, other, other_name="other"):
    """torch's TypeError when either operand of these Tensor-only ops is not a Tensor."""
    for pos, (arg, x) in enumerate((("input", input), (other_name, other)), 1):
        if not is_tensor(x):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not "
                            f"{type(x).__name__}")


def _not_implemented(name, rd):
    return NotImplementedError(f"\"{name}_cpu\" not implemented for '{_type_name(rd)}'")


def _promoted(name, input, other, floats, complexes=False, ints=False):
    """The operands in torch's result dtype; a dtype class the op rejects raises torch's
    NotImplementedError naming the promoted dtype."""
    _need_tensors(name, input, other)
    a, b, rd = promote(input, other)
    rd = rd or a.dtype
    ok = (floats if rd.is_floating_point else complexes if rd.is_complex else
          ints and rd is not _dtype.bool)
    if not ok:
        raise _not_implemented(name, rd)
    return a, b


@out_cast_first
def logaddexp(input, other, *, out=None):
    """log(exp(input) + exp(other)), computed without overflow; floating and complex only."""
    a, b = _promoted("logaddexp", input, other, True, complexes=True)
    return _result(Logaddexp.apply(a, b), out)


@out_cast_first
def logaddexp2(input, other, *, out=None):
    """log2(2**input + 2**other), computed without overflow; floating only."""
    a, b = _promoted("logaddexp2", input, other, True)
    return _result(Logaddexp2.apply(a, b), out)


def _angle_op(cls, name):
    def op(input, *, out=None):
        if not is_tensor(input):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        if input.is_complex():
            raise RuntimeError(f"{name} is not supported for complex tensors.")
        return _result(cls.apply(_float_input(input)), out)
    op.__name__ = name
    op.__doc__ = (f"{cls.__doc__.split(';')[0]}; integer and bool inputs give the default float "
                  f"dtype, complex inputs raise.")
    return op


deg2rad = _angle_op(Deg2Rad, "deg2rad")
rad2deg = _angle_op(Rad2Deg, "rad2deg")


@out_cast_first
def gcd(input, other, *, out=None):
    """Greatest common divisor, elementwise, of integer tensors (never negative except where
    an operand is the dtype's minimum, as in torch)."""
    a, b = _promoted("gcd", input, other, False, ints=True)
    return _result(Gcd.apply(a, b), out)


@out_cast_first
def lcm(input, other, *, out=None):
    """Least common multiple, elementwise, of integer tensors (wrapping on overflow)."""
    a, b = _promoted("lcm", input, other, False, ints=True)
    return _result(Lcm.apply(a, b), out)


def heaviside(input, values, *, out=None):
    """Step function: 0 below zero, `values` at zero, 1 above; input, values (and out) must
    share one non-complex dtype."""
    _need_tensors("heaviside", input, values, "values")
    if input.is_complex() or values.is_complex() or out is not None and out.is_complex():
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    if input.dtype is not values.dtype or (out is not None and out.dtype is not input.dtype):
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    r = Heaviside.apply(input, values)
    return r if out is None else write_out(out, r, grad="aten::heaviside")


@out_cast_first
def nextafter(input, other, *, out=None):
    """The next floating-point value after input in the direction of other."""
    a, b = _promoted("nextafter", input, other, True)
    return _result(Nextafter.apply(a, b), out)


def ldexp(input, other, *, out=None):
    """input * 2**other: exact for a floating input and an integer exponent, else computed as
    input * pow(2, other) in torch's dtypes (see Ldexp); a float input with a bool exponent
    raises."""
    _need_tensors("ldexp", input, other)
    if out is not None and not (out.is_floating_point() or out.is_complex()):
        raise RuntimeError(f"ldexp can't be cast to the desired output type "
                           f"{_type_name(out.dtype)}")
    if input.is_floating_point() and other.dtype is _dtype.bool:
        raise NotImplementedError("\"ldexp_cpu_exp\" not implemented for 'Bool'")
    return _result(Ldexp.apply(input, other), out)


def frexp(input, *, out=None):
    """(mantissa, exponent) with input = mantissa * 2**exponent, |mantissa| in [0.5, 1) and an
    int32 exponent; floating inputs only. out= takes a (mantissa, exponent) pair."""
    from ember import return_types
    if not is_tensor(input):
        raise TypeError(f"frexp(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if not input.is_floating_point():
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    if out is not None and not (isinstance(out, (tuple, list)) and len(out) == 2
                                and all(is_tensor(o) for o in out)):
        raise TypeError(f"frexp(): argument 'out' must be tuple of Tensors, not "
                        f"{type(out).__name__}")
    if out is not None:
        if out[0].dtype is not input.dtype:
            raise RuntimeError(f"torch.frexp() expects mantissa to have dtype "
                               f"{_c_name(input.dtype)} but got {_c_name(out[0].dtype)}")
        if out[1].dtype is not _dtype.int32:
            raise RuntimeError(f"torch.frexp() expects exponent to have int dtype but got "
                               f"{_c_name(out[1].dtype)}")
    m, e = Frexp.apply(input)
    if out is None:
        return return_types.frexp((m, e))
    return return_types.frexp_out((write_out(out[0], m), write_out(out[1], e)))


def _ldexp_(self, other):
    _need_tensors("ldexp_", self, other)
    if not (self.is_floating_point() or self.is_complex()):
        raise RuntimeError(f"ldexp can't be cast to the desired output type "
                           f"{_type_name(self.dtype)}")
    return inplace(self, ldexp(self, other))


_ldexp_.__name__ = "ldexp_"


# ---------------------------------------------------------------------------------------------
# Tensor methods and in-place variants

deg2rad_ = _inplace_of(deg2rad)
rad2deg_ = _inplace_of(rad2deg)
gcd_ = _inplace_of(gcd)
lcm_ = _inplace_of(lcm)
ldexp_ = Tensor.ldexp_ = _ldexp_

for _name, _fn in (("logaddexp", logaddexp), ("logaddexp2", logaddexp2), ("deg2rad", deg2rad),
                   ("rad2deg", rad2deg), ("gcd", gcd), ("lcm", lcm), ("heaviside", heaviside),
                   ("nextafter", nextafter), ("ldexp", ldexp), ("frexp", frexp)):
    setattr(Tensor, _name, _fn)
for _name, _fn in (("deg2rad_", deg2rad_), ("rad2deg_", rad2deg_), ("gcd_", gcd_),
                   ("lcm_", lcm_), ("nextafter_", _inplace_of(nextafter))):
    setattr(Tensor, _name, _fn)
# (heaviside's own dtype checks come before the cast back)
Tensor.heaviside_ = lambda self, *a: inplace(self, heaviside(self, *a))
