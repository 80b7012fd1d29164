"""Pointwise logic: where, comparisons, isclose/allclose/equal, bitwise and logical ops, and the
is* predicates. Only `where` carries gradients; everything else returns bool or integer tensors.

Torch's traps kept here:
- where(cond, x, y) needs a bool condition; scalar branches promote like binary ops
  (where(c, 1.0, 0) is float32); the 1-argument form is nonzero(cond, as_tuple=True).
- shifts past the bit width give 0 (<<) or the sign fill (>>), not NumPy's wrap-around.
- comparisons that order values (lt, le, gt, ge) reject complex; isclose needs equal dtypes.
"""
import numpy as np

from ember import _dtype
from ember._ops._helpers import (check_cast_back, check_out_same, inplace, is_tensor,
                                 not_a_tensor, out_cast_first, promote, select, write, write_out,
                                 zero_of, zeros_of)
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["where", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
           "less_equal", "not_equal", "isclose", "allclose", "equal", "bitwise_and",
           "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
           "bitwise_right_shift", "logical_and", "logical_or", "logical_xor", "logical_not",
           "isnan", "isinf", "isposinf", "isneginf", "isfinite", "isreal", "signbit"]

_asarray = np.asarray


def _type_name(dt):
    return dt._legacy.replace("Tensor", "")


def _result(r, out):
    return r if out is None else write_out(out, r)


def broadcast_errors(fn):
    """Re-raise NumPy's broadcasting ValueError as torch's RuntimeError (costs nothing unless
    an error happens)."""
    def op(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValueError as exc:
            if "broadcast" not in str(exc):
                raise
            shapes = [x.shape for x in args if is_tensor(x)]
            raise RuntimeError(_mismatch_message(*shapes[:2]) if len(shapes) >= 2
                               else str(exc)) from None
    op.__name__, op.__doc__, op.__wrapped__ = fn.__name__, fn.__doc__, fn
    return op


def _mismatch_message(sa, sb):
    n = max(len(sa), len(sb))
    for i in range(1, n + 1):
        a = sa[-i] if i <= len(sa) else 1
        b = sb[-i] if i <= len(sb) else 1
        if a != b and a != 1 and b != 1:
            return (f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                    f"non-singleton dimension {n - i}")
    return f"shapes {list(sa)} and {list(sb)} cannot be broadcast together"


def wrap_broadcast_errors(namespace, names):
    """Apply broadcast_errors to namespace[name] for each name (aliases stay one object)."""
    done = {}
    for n in names:
        f = namespace[n]
        if id(f) not in done:
            done[id(f)] = broadcast_errors(f)
        namespace[n] = done[id(f)]


def _data(x):
    return x._data if is_tensor(x) else x


# ---------------------------------------------------------------------------------------------
# where

class Where(ArrayFunction):
    """cond ? a : b. Each branch gets the gradient where it was chosen, zero elsewhere. The
    condition (a bool tensor or array) is a parameter: torch's node has no edge for it."""

    def forward(ctx, a, b, *, cond):
        ctx.cond = cond = cond._data if isinstance(cond, Tensor) else cond
        return _asarray(select(cond, a, b))

    def backward(ctx, grad):
        cond = ctx.cond
        zero = zero_of(grad)
        return (Where.apply(grad, zero, cond=cond) if ctx.needs_input_grad[0] else None,
                Where.apply(zero, grad, cond=cond) if ctx.needs_input_grad[1] else None)


def where(condition, input=None, other=None, *, out=None):
    """Elements of input where condition holds, else of other (numbers allowed, promoted the
    torch way). where(condition) alone is nonzero(condition, as_tuple=True)."""
    if input is None and other is None:
        from ember._ops.indexing_ops import nonzero
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where() missing required argument: 'input' and 'other' go together")
    if not is_tensor(condition):
        raise TypeError(f"where(): argument 'condition' (position 1) must be Tensor, not "
                        f"{type(condition).__name__}")
    if condition._data.dtype == np.uint8:
        import warnings
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and "
                      "will be removed in a future version of PyTorch. Use a boolean condition "
                      "instead.", UserWarning, stacklevel=2)
        condition = Tensor._make(condition._data != 0)
    if out is not None:   # (only where(Tensor, Tensor, Tensor) takes out=)
        for name, pos, v in (("input", 2, input), ("other", 3, other)):
            if not is_tensor(v):
                raise TypeError(f"where(): argument '{name}' (position {pos}) must be Tensor, "
                                f"not {type(v).__name__}")
    if condition._data.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {_type_name(condition.dtype)}")
    if not is_tensor(input) and not is_tensor(other):
        rd = _dtype.result_type_of((input, other))
        a, b = _asarray(input, rd.np), _asarray(other, rd.np)
    else:
        a, b, rd = promote(input, other)
        if not is_tensor(a):
            a = _asarray(a, (rd or b.dtype).np)
        if not is_tensor(b):
            b = _asarray(b, (rd or a.dtype).np)
    r = Where.apply(a, b, cond=condition)
    return r if out is None else write_out(out, r,
                                           exact="Expected out type to be {want} but got {got}")


# ---------------------------------------------------------------------------------------------
# Comparisons (bool results, no gradient)

def _comparison(ufunc, name, ordered):
    def compare(input, other, *, out=None):
        if not is_tensor(input):   # torch has no (Number, Tensor) overload
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            f"({type(input).__name__}, {type(other).__name__}), but expected "
                            f"one of:\n * (Tensor input, Tensor other, *, Tensor out)\n * "
                            f"(Tensor input, Number other, *, Tensor out)")
        a, b, rd = promote(input, other)
        if ordered and (rd or (a if is_tensor(a) else b).dtype).is_complex:
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for "
                                      f"'{_type_name(rd or (a if is_tensor(a) else b).dtype)}'")
        return _result(Tensor._make(_asarray(ufunc(_data(a), _data(b)))), out)
    compare.__name__ = name
    return compare


eq = _comparison(np.equal, "eq", False)
ne = not_equal = _comparison(np.not_equal, "ne", False)
lt = less = _comparison(np.less, "lt", True)
le = less_equal = _comparison(np.less_equal, "le", True)
gt = greater = _comparison(np.greater, "gt", True)
ge = greater_equal = _comparison(np.greater_equal, "ge", True)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| (both tensors of one dtype)."""
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{_type_name(input.dtype)} did not match {_type_name(other.dtype)}")
    a, b = input._data, other._data
    if a.dtype.kind == "b":
        return Tensor._make(_asarray(a == b))
    with np.errstate(invalid="ignore", over="ignore"):
        if a.dtype.itemsize == 2 and a.dtype.kind != "i" and a.dtype.kind != "u":
            return Tensor._make(_isclose_half(a, b, rtol, atol, equal_nan))
        return Tensor._make(_asarray(np.isclose(a, b, rtol=rtol, atol=atol,
                                                equal_nan=equal_nan)))


def _isclose_half(a, b, rtol, atol, equal_nan):
    """isclose for float16/bfloat16 as torch computes it: each step of atol + |rtol * b| and
    |a - b| in float32 and rounded back to the half type, as its half kernels do. The two
    scalars enter differently: torch's mul takes rtol as a float, its add casts atol to the
    half type first (a number wrapped as a tensor of the common dtype)."""
    dt, f32 = a.dtype, np.float32
    a32, b32 = a.astype(f32), b.astype(f32)
    allowed = np.abs((f32(rtol) * b32).astype(dt)).astype(f32)
    allowed = (np.asarray(atol, dt).astype(f32) + allowed).astype(dt)
    actual = np.abs((a32 - b32).astype(dt))
    close = (a == b) | (np.isfinite(actual) & (actual <= allowed))
    if equal_nan:
        close |= np.isnan(a32) & np.isnan(b32)
    return close


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """isclose everywhere, as a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other):
    """True when both tensors have the same shape and equal values (dtypes may differ)."""
    if input._data.shape != other._data.shape:
        return False
    return bool(np.array_equal(input._data, other._data))


# ---------------------------------------------------------------------------------------------
# Bitwise and logical ops (no gradient)

def _integral_operands(input, other, kernel):
    a, b, rd = promote(input, other)
    dt = rd or (a if is_tensor(a) else b).dtype
    if dt.np.kind not in "iub":
        raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for '{_type_name(dt)}'")
    return _data(a), _data(b), dt


def _bitwise(ufunc, name, kernel):
    def op(input, other, *, out=None):
        a, b, _ = _integral_operands(input, other, kernel)
        return _result(Tensor._make(_asarray(ufunc(a, b))), out)
    op.__name__ = name
    return out_cast_first(op)


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and", "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or", "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor", "bitwise_xor")


def bitwise_not(input, *, out=None):
    if not is_tensor(input):
        raise not_a_tensor(input)
    check_out_same(out, input.dtype)
    if input._data.dtype.kind not in "iub":
        raise NotImplementedError(f"\"bitwise_not_cpu\" not implemented for "
                                  f"'{_type_name(input.dtype)}'")
    return _result(Tensor._make(_asarray(np.invert(input._data))), out)


def _shift(input, other, left):
    kernel = "lshift" if left else "rshift"
    a, b, dt = _integral_operands(input, other, kernel)
    if dt.np.kind == "b":
        raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for 'Bool'")
    a, b = _asarray(a, dt.np), _asarray(b, dt.np)
    bits = dt.np.itemsize * 8
    big = b >= bits   # NumPy (like C) leaves over-wide shifts undefined; torch saturates
    safe = np.where(big, 0, b).astype(dt.np, copy=False)
    if left:
        r = np.where(big, 0, np.left_shift(a, safe))
    else:
        r = np.where(big, np.where(a < 0, -1, 0), np.right_shift(a, safe))
    return Tensor._make(_asarray(r.astype(dt.np, copy=False)))


@out_cast_first
def bitwise_left_shift(input, other, *, out=None):
    return _result(_shift(input, other, True), out)


@out_cast_first
def bitwise_right_shift(input, other, *, out=None):
    return _result(_shift(input, other, False), out)


def _logical(ufunc, name):
    def op(input, other, *, out=None):
        for pos, (arg, x) in enumerate((("input", input), ("other", other)), 1):
            if not is_tensor(x):
                raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, "
                                f"not {type(x).__name__}")
        r = Tensor._make(_asarray(ufunc(_data(input), _data(other))))
        return r if out is None else write_out(out, r.to(out.dtype))
    op.__name__ = name
    return op


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")


def logical_not(input, *, out=None):
    if not is_tensor(input):
        raise not_a_tensor(input)
    r = Tensor._make(_asarray(np.logical_not(input._data)))
    return r if out is None else write_out(out, r.to(out.dtype))


# ---------------------------------------------------------------------------------------------
# Predicates

def _predicate(ufunc, name, integral_value):
    def op(input):   # (torch's isnan/isinf/isfinite take no out=)
        try:
            a = input._data
        except AttributeError:
            raise not_a_tensor(input, name) from None
        if a.dtype.kind in "iub":
            return Tensor._make(np.full(a.shape, integral_value))
        return Tensor._make(_asarray(ufunc(a)))
    op.__name__ = op.__qualname__ = name
    return op


def _bool_out(name, out):
    if out is not None and out.dtype is not _dtype.bool:
        raise RuntimeError(f"{name} does not support non-boolean outputs.")


isnan = _predicate(np.isnan, "isnan", False)
isinf = _predicate(np.isinf, "isinf", False)
isfinite = _predicate(np.isfinite, "isfinite", True)


def _signed_inf(name, sign):
    def op(input, *, out=None):
        try:
            a = input._data
        except AttributeError:
            raise not_a_tensor(input, name) from None
        if a.dtype.kind == "c":
            raise RuntimeError(f"{name} does not support complex inputs.")
        _bool_out(name, out)
        if a.dtype.kind in "iub":
            return _result(Tensor._make(np.zeros(a.shape, bool)), out)
        return _result(Tensor._make(_asarray(a == sign * np.inf)), out)
    op.__name__ = name
    return op


isposinf = _signed_inf("isposinf", 1)
isneginf = _signed_inf("isneginf", -1)


def isreal(input):
    """True where the imaginary part is 0 (always for real dtypes)."""
    try:
        a = input._data
    except AttributeError:
        raise not_a_tensor(input) from None
    if a.dtype.kind != "c":
        return Tensor._make(np.ones(a.shape, bool))
    return Tensor._make(_asarray(a.imag == 0))


def signbit(input, *, out=None):
    try:
        a = input._data
    except AttributeError:
        raise not_a_tensor(input) from None
    if a.dtype.kind == "c":
        raise NotImplementedError("signbit is not implemented for complex tensors.")
    _bool_out("signbit", out)
    if a.dtype.kind in "ub":
        return _result(Tensor._make(np.zeros(a.shape, bool)), out)
    return _result(Tensor._make(_asarray(np.signbit(a))), out)


wrap_broadcast_errors(globals(), [
    "where", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "isclose", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
    "bitwise_right_shift", "logical_and", "logical_or", "logical_xor"])


# ---------------------------------------------------------------------------------------------
# Tensor methods and dunders

def _binary_dunder(fn):
    def method(self, other):
        if not isinstance(other, (Tensor, int, float, bool, complex, np.generic)):
            return NotImplemented
        return fn(self, other)
    return method


def _rdunder(fn):
    def method(self, other):
        if not isinstance(other, (int, float, bool, complex, np.generic)):
            return NotImplemented
        return fn(other, self)
    return method


def _idunder(fn):
    def method(self, other):
        try:
            r = fn(self, other)
        except RuntimeError:   # torch reports a result it cannot write back first
            check_cast_back(self, (other,))
            raise
        return inplace(self, r)
    return method


def _inplace_of(fn):
    def method(self, *args, **kwargs):
        try:
            r = fn(self, *args, **kwargs)
        except RuntimeError:
            check_cast_back(self, args[:1])
            raise
        return inplace(self, r)
    method.__name__ = fn.__name__ + "_"
    return method


class _Compared(ArrayFunction):
    """The 0/1 result of an in-place comparison (x.lt_(y)) on a tensor that requires grad:
    torch records it (LtBackward1...) with zero gradients for both operands."""

    def forward(ctx, a, *others, values, label):
        ctx.label = label
        return values

    def backward(ctx, grad):
        return (zeros_of(grad),) * len(ctx.needs_input_grad)

    def name(self):
        return self.label


def _cmp_inplace(fn, label):
    """x.lt_(y): the comparison's bools written back in x's own dtype."""
    def method(self, other):
        r = fn(self, other).to(self.dtype)
        if self._requires_grad and _grad_state.enabled:
            others = (other,) if is_tensor(other) else ()
            r = _Compared.apply(self, *others, values=r._data,
                                label=f"{label}Backward{1 if others else 0}")
        return inplace(self, r)
    return method


def _logical_inplace(fn):
    """x.logical_and_(y): torch's composite writes the result without autograd (no leaf
    check, x keeps its history)."""
    def method(self, *other):
        r = fn(self, *other)
        write(self, r._data)
        return self
    return method


for _name, _fn in (("eq", eq), ("ne", ne), ("lt", lt), ("le", le), ("gt", gt), ("ge", ge),
                   ("greater", gt), ("greater_equal", ge), ("less", lt), ("less_equal", le),
                   ("not_equal", ne)):
    setattr(Tensor, _name, _fn)
    setattr(Tensor, _name + "_", _cmp_inplace(_fn, _fn.__name__.capitalize()))

for _name, _fn in (("logical_and", logical_and), ("logical_or", logical_or),
                   ("logical_xor", logical_xor), ("logical_not", logical_not)):
    setattr(Tensor, _name, _fn)
    setattr(Tensor, _name + "_", _logical_inplace(_fn))

for _name, _fn in (("bitwise_and", bitwise_and), ("bitwise_or", bitwise_or),
                   ("bitwise_xor", bitwise_xor), ("bitwise_not", bitwise_not),
                   ("bitwise_left_shift", bitwise_left_shift),
                   ("bitwise_right_shift", bitwise_right_shift)):
    setattr(Tensor, _name, _fn)
    setattr(Tensor, _name + "_", _inplace_of(_fn))


def _where_method(self, condition, other):
    return where(condition, self, other)


Tensor.where = _where_method
Tensor.isclose, Tensor.allclose, Tensor.equal = isclose, allclose, equal
Tensor.isnan, Tensor.isinf, Tensor.isposinf, Tensor.isneginf = isnan, isinf, isposinf, isneginf
Tensor.isfinite, Tensor.isreal, Tensor.signbit = isfinite, isreal, signbit

Tensor.__eq__ = _binary_dunder(eq)
Tensor.__ne__ = _binary_dunder(ne)
Tensor.__lt__ = _binary_dunder(lt)
Tensor.__le__ = _binary_dunder(le)
Tensor.__gt__ = _binary_dunder(gt)
Tensor.__ge__ = _binary_dunder(ge)
for _dn, _fn in (("and", bitwise_and), ("or", bitwise_or), ("xor", bitwise_xor),
                 ("lshift", bitwise_left_shift), ("rshift", bitwise_right_shift)):
    setattr(Tensor, f"__{_dn}__", _binary_dunder(_fn))
    setattr(Tensor, f"__r{_dn}__", _rdunder(_fn))
    setattr(Tensor, f"__i{_dn}__", _idunder(_fn))


def _invert(self):
    if self._data.dtype.kind not in "iub":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(self)


Tensor.__invert__ = _invert
