"""Pointwise ops: arithmetic, comparisons, exp/log and friends.

Each op is an ArrayFunction (forward on arrays, backward in Tensor ops) plus a thin public
function that promotes dtypes the torch way (`_helpers.promote`) and handles `out=`. The engine
sums every gradient back to its input's shape, so backwards here ignore broadcasting.
"""
import numpy as np

from ember import _dtype
from ember._ops._helpers import inplace, is_tensor, promote, write_out
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow",
           "neg", "negative", "conj", "conj_physical", "is_conj", "resolve_conj", "exp", "log", "eq", "ne", "lt", "le", "gt", "ge", "greater",
           "greater_equal", "less", "less_equal", "not_equal", "rsub"]


# ---------------------------------------------------------------------------------------------
# dtype conversion

class ToCopy(ArrayFunction):
    """Cast to another dtype; the gradient is cast back to the input's dtype by the engine."""

    def forward(ctx, a, *, npd):
        return a.astype(npd)

    def backward(ctx, grad):
        return grad

    def name(self):
        return "ToCopyBackward0"


def _to_dtype(t, dt):
    if dt.is_complex and dt.np is None:
        raise TypeError(f"{dt} is not supported by ember")
    return ToCopy.apply(t, npd=dt.np)


# ---------------------------------------------------------------------------------------------
# Arithmetic

class Add(ArrayFunction):
    def forward(ctx, a, b, *, alpha=1):
        ctx.alpha = alpha
        return np.add(a, b) if alpha == 1 else np.add(a, np.multiply(b, alpha))

    def backward(ctx, grad):
        return grad, grad if ctx.alpha == 1 else grad * ctx.alpha


class Sub(ArrayFunction):
    def forward(ctx, a, b, *, alpha=1):
        ctx.alpha = alpha
        return np.subtract(a, b) if alpha == 1 else np.subtract(a, np.multiply(b, alpha))

    def backward(ctx, grad):
        return grad, -grad if ctx.alpha == 1 else grad * -ctx.alpha


class Mul(ArrayFunction):
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return np.multiply(a, b)

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad * _conj(b) if ctx.needs_input_grad[0] else None,
                grad * _conj(a) if ctx.needs_input_grad[1] else None)


class Div(ArrayFunction):
    """True division; with rounding_mode ('trunc', 'floor') the gradient is zero."""

    def forward(ctx, a, b, *, rounding_mode=None):
        ctx.rounding_mode = rounding_mode
        if rounding_mode is None:
            ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
            return np.true_divide(a, b)
        if rounding_mode == "floor":
            return _floor_divide(a, b)
        q = np.true_divide(a, b)
        return np.trunc(q).astype(q.dtype if np.result_type(a, b).kind in "fc"
                                  else np.result_type(a, b), copy=False)

    def backward(ctx, grad):
        if ctx.rounding_mode is not None:
            return grad * 0, None
        a, b = ctx.saved_tensors
        ga = grad / _conj(b) if ctx.needs_input_grad[0] else None
        gb = -grad * _conj(a) / _conj(b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


def _floor_divide(a, b):
    kind = np.result_type(a, b).kind
    if kind in "iub" and np.any(np.asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")
    # torch's floor division of floats: floor of the true quotient (NumPy's // differs at ties)
    return np.floor_divide(a, b) if kind in "iu" else np.floor(np.true_divide(a, b))


class Pow(ArrayFunction):
    """a ** b; d/da = b * a^(b-1), d/db = a^b * log(a) (0 where a == 0 and b >= 0)."""

    def forward(ctx, a, b):
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out if ctx.needs_input_grad[1] else None)
        return out

    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = grad * b * a ** (b - 1) if is_tensor(b) or b != 0 else grad * 0
        if ctx.needs_input_grad[1]:
            la = a.log() if is_tensor(a) else Tensor._make(np.log(np.asarray(a, out.dtype)))
            gb = grad * out * where_mask_zero(la, a, b)
        return ga, gb


def where_mask_zero(log_a, a, b):
    """log(a) with 0 where a == 0 and b >= 0 (torch's convention for d(a^b)/db at a = 0)."""
    mask = (a == 0) & (b >= 0) if is_tensor(a) else None
    if mask is None or not mask._data.any():
        return log_a
    from ember._ops.creation import zeros_like
    return where(mask, zeros_like(log_a), log_a)


def where(condition, input, other):
    return Where.apply(condition, input, other)


class Where(ArrayFunction):
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return np.where(cond, a, b)

    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        zero = grad * 0
        return None, Where.apply(cond, grad, zero), Where.apply(cond, zero, grad)


class Conj(ArrayFunction):
    def forward(ctx, a):
        return np.conj(a)

    def backward(ctx, grad):
        return grad.conj()


def _conj(x):
    """Conjugate of a tensor or a Python number (backward formulas take both)."""
    return conj(x) if is_tensor(x) else x.conjugate()


def conj(input):
    """Complex conjugate; real tensors are returned as they are (torch's conj is lazy)."""
    return Conj.apply(input) if input._data.dtype.kind == "c" else input


def is_conj(input):
    return False


def resolve_conj(input):
    return input


class Neg(ArrayFunction):
    def forward(ctx, a):
        if a.dtype == np.bool_:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return np.negative(a)

    def backward(ctx, grad):
        return -grad


class Exp(ArrayFunction):
    """d/dx exp(x) = exp(x): saves the result, not the input."""

    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (result,) = ctx.saved_tensors
        return grad * result.conj()


class Log(ArrayFunction):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / a.conj()


def _float_input(t):
    """Unary float functions of integer tensors compute in the default float dtype."""
    if t._data.dtype.kind in "iub":
        from ember._ops._helpers import to_dtype
        return to_dtype(t, _dtype.get_default_dtype())
    return t


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
    a, b, rd = promote(input, other)
    if alpha != 1:
        _alpha_check(rd or input.dtype, alpha)
    if not is_tensor(a):
        a, b = b, a    # scalar + tensor: addition commutes (alpha == 1 here)
    r = Add.apply(a, b, alpha=alpha)
    return r if out is None else write_out(out, r)


def sub(input, other, *, alpha=1, out=None):
    a, b, rd = promote(input, other)
    if (rd or input.dtype) is _dtype.bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if alpha != 1:
        _alpha_check(rd or input.dtype, alpha)
    if is_tensor(a):
        r = Sub.apply(a, b, alpha=alpha)
    else:
        r = Add.apply(Neg.apply(b) if alpha == 1 else b * -alpha, a)
    return r if out is None else write_out(out, r)


subtract = sub


def rsub(input, other, *, alpha=1):
    return sub(other, input, alpha=alpha) if is_tensor(other) else add(-input * alpha, other)


def mul(input, other, *, out=None):
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
    a, b, rd = promote(input, other)
    if rounding_mode is None:
        rd = rd or input.dtype
        if not (rd.is_floating_point or rd.is_complex):
            fd = _dtype.get_default_dtype()
            a = _float_input(a) if is_tensor(a) else a
            b = _float_input(b) if is_tensor(b) else b
            if not is_tensor(a):
                a = Tensor._make(np.array(a, fd.np))
    elif not is_tensor(a):
        a = Tensor._make(np.array(a, b._data.dtype))
    r = Div.apply(a, b, rounding_mode=rounding_mode)
    return r if out is None else write_out(out, r)


divide = div


def true_divide(input, other, *, out=None):
    return div(input, other, out=out)


def pow(input, exponent, *, out=None):
    a, b, _ = promote(input, exponent)
    if not is_tensor(a):
        a = Tensor._make(np.array(a, b._data.dtype))
    elif a._data.dtype.kind in "iu" and not is_tensor(b) and b < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    r = Pow.apply(a, b)
    return r if out is None else write_out(out, r)


def neg(input, *, out=None):
    r = Neg.apply(input)
    return r if out is None else write_out(out, r)


negative = neg


def exp(input, *, out=None):
    r = Exp.apply(_float_input(input))
    return r if out is None else write_out(out, r)


def log(input, *, out=None):
    r = Log.apply(_float_input(input))
    return r if out is None else write_out(out, r)


# ---------------------------------------------------------------------------------------------
# Comparisons (bool results, no gradient)

def _comparison(ufunc):
    def compare(input, other, *, out=None):
        a, b, _ = promote(input, other)
        r = Tensor._make(ufunc(a._data if is_tensor(a) else a, b._data if is_tensor(b) else b))
        return r if out is None else write_out(out, r)
    compare.__name__ = ufunc.__name__
    return compare


eq = _comparison(np.equal)
ne = not_equal = _comparison(np.not_equal)
lt = less = _comparison(np.less)
le = less_equal = _comparison(np.less_equal)
gt = greater = _comparison(np.greater)
ge = greater_equal = _comparison(np.greater_equal)
for _f, _n in ((eq, "eq"), (ne, "ne"), (lt, "lt"), (le, "le"), (gt, "gt"), (ge, "ge")):
    _f.__name__ = _n


# ---------------------------------------------------------------------------------------------
# Tensor methods

def _reflected(fn):
    def method(self, other):
        return fn(other, self)
    return method


def _inplace_method(fn):
    def method(self, other, **kwargs):
        return inplace(self, fn(self, other, **kwargs))
    method.__name__ = fn.__name__ + "_"
    return method


def _unary_inplace(fn):
    def method(self):
        return inplace(self, fn(self))
    method.__name__ = fn.__name__ + "_"
    return method


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
        return inplace(self, fn(self, other))
    return method


Tensor.add, Tensor.sub, Tensor.mul, Tensor.div = add, sub, mul, div
Tensor.subtract, Tensor.multiply, Tensor.divide, Tensor.true_divide = sub, mul, div, true_divide
conj_physical = conj
Tensor.conj, Tensor.conj_physical, Tensor.is_conj, Tensor.resolve_conj = (conj, conj, is_conj,
                                                                          resolve_conj)
Tensor.pow, Tensor.neg, Tensor.negative, Tensor.exp, Tensor.log = pow, neg, neg, exp, log
Tensor.add_ = _inplace_method(add)
Tensor.sub_ = Tensor.subtract_ = _inplace_method(sub)
Tensor.mul_ = Tensor.multiply_ = _inplace_method(mul)
Tensor.div_ = Tensor.divide_ = Tensor.true_divide_ = _inplace_method(div)
Tensor.pow_ = _inplace_method(pow)
Tensor.neg_ = Tensor.negative_ = _unary_inplace(neg)
Tensor.exp_, Tensor.log_ = _unary_inplace(exp), _unary_inplace(log)

Tensor.__add__ = _binary_dunder(add)
Tensor.__radd__ = _rdunder(add)
Tensor.__iadd__ = _idunder(add)
Tensor.__sub__ = _binary_dunder(sub)
Tensor.__rsub__ = _rdunder(sub)
Tensor.__isub__ = _idunder(sub)
Tensor.__mul__ = _binary_dunder(mul)
Tensor.__rmul__ = _rdunder(mul)
Tensor.__imul__ = _idunder(mul)
Tensor.__truediv__ = _binary_dunder(div)
Tensor.__rtruediv__ = _rdunder(div)
Tensor.__itruediv__ = _idunder(div)
Tensor.__pow__ = _binary_dunder(pow)
Tensor.__rpow__ = _rdunder(pow)
Tensor.__ipow__ = _idunder(pow)
Tensor.__neg__ = neg
Tensor.__pos__ = lambda self: self

for _name, _fn in (("eq", eq), ("ne", ne), ("lt", lt), ("le", le), ("gt", gt), ("ge", ge)):
    setattr(Tensor, _name, _fn)
    setattr(Tensor, _name + "_", lambda self, other, _fn=_fn: inplace(self, _fn(self, other).to(
        self.dtype)))
Tensor.greater, Tensor.greater_equal, Tensor.less, Tensor.less_equal = gt, ge, lt, le
Tensor.not_equal = ne
Tensor.__eq__ = _binary_dunder(eq)
Tensor.__ne__ = _binary_dunder(ne)
Tensor.__lt__ = _binary_dunder(lt)
Tensor.__le__ = _binary_dunder(le)
Tensor.__gt__ = _binary_dunder(gt)
Tensor.__ge__ = _binary_dunder(ge)
