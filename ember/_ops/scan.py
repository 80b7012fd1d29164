"""Scans along one dim: cumsum cumprod cummax cummin logcumsumexp.

Integer and bool inputs cumsum/cumprod to int64 as in torch. Backwards: the reversed running
sum of the gradient (cumsum), a zero-safe form for cumprod, the gradient scattered to the
running extreme's index (cummax/cummin), and for logcumsumexp a reversed logcumsumexp of the
gradient (in Tensor ops under create_graph, so that every order exists).
"""
import numpy as np

from ember import return_types
from ember import _dtype
from ember._ops.reduction import (_Labelled, _ScatterAlong, _cast_complex, _const, _dim1,
                                  _int_to_long, _name, _out, _out_dtype)
from ember._ops._helpers import is_half, not_a_tensor
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]

# torch's CPU scans accumulate floats one step wider (acc_type): half types in float32,
# float32 in float64, complex64 in complex128
_ACC = {np.dtype(np.float16): np.float32, np.dtype(np.float32): np.float64,
        np.dtype(np.complex64): np.complex128}


def _accumulate(ufunc, a, axis, npd):
    """ufunc.accumulate along axis in npd (the input's dtype when None), through torch's wider
    accumulator."""
    dt = np.dtype(npd) if npd is not None else a.dtype
    acc = _ACC.get(dt) or (np.float32 if dt.kind == "V" else None)
    if acc is None:
        return ufunc.accumulate(a, axis=axis, dtype=npd)
    with np.errstate(over="ignore", invalid="ignore"):   # (cast to dt first, as torch does)
        return ufunc.accumulate(a.astype(dt, copy=False).astype(acc), axis=axis).astype(dt)


class Cumsum(ArrayFunction):
    """Running sum along dim; backward: the reversed running sum of the gradient."""

    def forward(ctx, a, *, dim, npd, reverse=False):
        ctx.dim, ctx.reverse = dim, reverse
        if dim is None:
            return np.array(a, dtype=npd or a.dtype)
        if reverse:
            out = np.flip(_accumulate(np.add, np.flip(a, dim), dim, npd), dim).copy()
        else:
            out = _accumulate(np.add, a, dim, npd)
        if out.dtype.kind in "fcV":
            out += 0   # torch's running sum starts from +0: a leading -0 sums to +0
        return out

    def backward(ctx, grad):
        return Cumsum.apply(grad, dim=ctx.dim, npd=None, reverse=not ctx.reverse)


def _scan_dtype(input, dtype):
    return _int_to_long(input, dtype)


def _bool_scan(input, dtype, fn):
    """torch has no bool scan kernel (for a scan with more than one element)."""
    if dtype is _dtype.bool and input._data.ndim and input._data.size:
        raise NotImplementedError(f"\"{fn}_out_cpu\" not implemented for 'Bool'")


def _accumulating_scan(cls, name, input, dim, dtype, out):
    """cumsum/cumprod: integer and bool inputs accumulate in int64; out= without dtype= gives
    the dtype to accumulate in, with dtype= it must have it."""
    d = _dim1(input, dim)
    exact = dtype is not None
    if out is not None:
        dtype = _out_dtype(dtype, out)
        input = _cast_complex(input, dtype)
        _bool_scan(input, dtype, name)
    return _out(cls.apply(input, dim=d, npd=_scan_dtype(input, dtype)), out, exact=exact)


def cumsum(input, dim, *, dtype=None, out=None):
    """Running sum along dim (see _accumulating_scan for dtypes)."""
    return _accumulating_scan(Cumsum, "cumsum", input, dim, dtype, out)


def _cumprod_grad(a, y, g, dim):
    """d/dx_i of sum_j g_j * prod_{k<=j} x_k, exact where x has zeros (NumPy arrays).

    With z the first zero of a slice: for i < z it is revcumsum(g * y)_i / x_i (y_j = 0 past z);
    for i == z it is revcumsum(g * y')_z with y' the running product that skips x_z; past z, 0.
    """
    pos = np.arange(a.shape[dim]).reshape([-1 if i == dim else 1 for i in range(a.ndim)])
    zero = a == 0
    z = np.where(np.any(zero, axis=dim, keepdims=True), np.argmax(zero, axis=dim, keepdims=True),
                 a.shape[dim])

    def revcumsum(v):
        return np.flip(np.cumsum(np.flip(v, dim), axis=dim), dim)
    with np.errstate(divide="ignore", invalid="ignore"):
        before = revcumsum(g * y) / np.where(zero, 1, a)
    at = revcumsum(g * np.cumprod(np.where(pos == z, 1, a), axis=dim))
    return np.where(pos < z, before, np.where(pos == z, at, 0))


class Cumprod(ArrayFunction):
    """Running product; backward revcumsum(g * y) / x, exact (first order) where x has zeros."""

    def forward(ctx, a, *, dim, npd):
        ctx.dim = dim
        out = np.array(a, dtype=npd or a.dtype) if dim is None else _accumulate(
            np.multiply, a, dim, npd)
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        if ctx.dim is None:
            return grad
        if not np.any(x._data == 0):
            return Cumsum.apply(grad * y.conj(), dim=ctx.dim, npd=None, reverse=True) / x.conj()
        if _grad_state.enabled:   # the zero-safe form below is first order only
            raise NotImplementedError("ember: double backward of cumprod over an input that "
                                      "holds zeros is not implemented")
        a = x._data
        return _const(np.conj(_cumprod_grad(a, y._data, grad._data.conj(), ctx.dim)))


def cumprod(input, dim, *, dtype=None, out=None):
    """Running product along dim (see _accumulating_scan for dtypes)."""
    return _accumulating_scan(Cumprod, "cumprod", input, dim, dtype, out)


class CumExtreme(_Labelled):
    """cummax/cummin -> (values, indices); indices point at the latest extreme (ties go to the
    later element) and NaN sticks; the gradient goes to those indices (accumulating)."""

    def forward(ctx, a, *, dim, fn):
        ctx.dim, ctx.shape = dim, a.shape
        ctx.label = "CummaxBackward0" if fn is np.maximum else "CumminBackward0"
        if dim is None:
            ctx.idx = None
            return a.copy(), np.zeros((), np.int64)
        vals = fn.accumulate(a, axis=dim) if a.size else a.copy()
        rec = a == vals
        if a.dtype.kind in "fcV":
            rec |= np.isnan(a)
        pos = np.arange(a.shape[dim]).reshape([-1 if i == dim else 1 for i in range(a.ndim)])
        idx = np.maximum.accumulate(np.where(rec, pos, 0), axis=dim) if a.size else \
            np.zeros(a.shape, np.int64)
        ctx.idx = idx
        if a.size:   # the value at the index: of two equal zeros, the later one (torch's >=)
            vals = np.take_along_axis(a, idx, axis=dim)
        return vals, idx.astype(np.int64, copy=False)

    def backward(ctx, grad, _):
        return _ScatterAlong.apply(grad, idx=ctx.idx, dim=ctx.dim, shape=ctx.shape)


def _cum_extreme(input, dim, out, fn, name):
    d = _dim1(input, dim)
    a = input._data
    if out is not None:
        for o, dt in ((out[0], input.dtype), (out[1], _dtype.int64)):
            if o.dtype is not dt:
                raise RuntimeError(f"expected scalar_type {_name(dt)} but found {_name(o.dtype)}")
    if a.dtype.kind == "c" and a.ndim and a.size:   # (torch dispatches only then)
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_name(input.dtype)}'")
    vals, idx = CumExtreme.apply(input, dim=d, fn=fn)
    return _out(getattr(return_types, name)((vals, idx)), out)


def cummax(input, dim, *, out=None):
    """(values, indices) of the running maximum along dim."""
    return _cum_extreme(input, dim, out, np.maximum, "cummax")


def cummin(input, dim, *, out=None):
    """(values, indices) of the running minimum along dim."""
    return _cum_extreme(input, dim, out, np.minimum, "cummin")


def _logcumsumexp(a, axis):
    """log(cumsum(exp(a))) along axis, never overflowing: NumPy's logaddexp scan for real
    arrays, in torch's wider accumulator (float32 for the half types, float64 for float32),
    rounded once per element; `_complex_logcumsumexp` for complex ones."""
    if a.dtype.kind == "c":
        return _complex_logcumsumexp(a, axis)
    acc = _ACC.get(a.dtype) or (np.float32 if is_half(a.dtype) else None)
    if acc is None:
        return np.logaddexp.accumulate(a, axis=axis)
    return np.logaddexp.accumulate(a.astype(acc), axis=axis).astype(a.dtype)


def _complex_logcumsumexp(a, axis):
    """The complex scan, with torch's imaginary parts. The sum of exp(r + i t) is split into
    four sums of positive terms, e^r max(+-cos t, 0) and e^r max(+-sin t, 0), each a real
    logaddexp scan; with L the largest of the four logs, log|S| = L + log|S / e^L| and
    the angle of S follow. torch's scan adds each term to the operand with the larger real
    part, so its imaginary part is not the principal angle: it is the angle's value nearest
    the new term's (where that term's real part reaches the running one's: a reset), and moves
    on continuously (by less than pi/2 a step) until the next reset."""
    r, t = a.real, a.imag
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logs = [np.logaddexp.accumulate(r + np.log(np.maximum(f, 0)), axis=axis)
                for f in (np.cos(t), -np.cos(t), np.sin(t), -np.sin(t))]
        top = np.maximum(np.maximum(logs[0], logs[1]), np.maximum(logs[2], logs[3]))
        finite = np.isfinite(top)
        shift = np.where(finite, top, 0)
        p, n, q, m = (np.exp(lg - shift) for lg in logs)
        s = (p - n) + 1j * (q - m)
        real = shift + np.log(np.abs(s))
        angle = np.where(finite, np.angle(s), 0)
    n_ax = a.shape[axis]
    before = np.concatenate([np.full_like(real.take([0], axis), -np.inf),
                             real.take(range(n_ax - 1), axis)], axis=axis)
    reset = r >= before                     # the new term anchors this step
    shape = [1] * a.ndim
    shape[axis] = n_ax
    last_reset = np.maximum.accumulate(
        np.where(reset, np.arange(n_ax).reshape(shape), 0), axis=axis)
    phase = np.unwrap(angle, axis=axis)
    turns = np.where(reset, np.round((t - phase) / (2 * np.pi)), 0)
    imag = phase + 2 * np.pi * np.take_along_axis(turns, last_reset, axis)
    out = np.asarray(real + 1j * imag, a.dtype)
    out[np.isneginf(top)] = complex(-np.inf, 0)            # nothing summed yet: log 0
    inf = np.maximum.accumulate(r, axis=axis) == np.inf   # +inf absorbs: its own angle stays
    out[inf] = np.inf + 1j * np.take_along_axis(t, last_reset, axis)[inf]
    out[np.logical_or.accumulate(np.isnan(a), axis=axis)] = complex(np.nan, np.nan)
    first = (slice(None),) * axis + (slice(0, 1),)
    keep = np.isfinite(r[first])
    out[first] = np.where(keep, a[first], out[first])      # torch starts from the first term
    return out


class LogCumSumExp(_Labelled):
    """log(cumsum(exp(x))) along dim, computed stably. The gradient
    dx_i = sum_{j>=i} g_j conj(exp(x_i - y_j)) is itself a reversed logcumsumexp: of
    log(g_j) - conj(y_j), with g split by sign for real tensors so that every log is of a
    positive number (torch's formula). In Tensor ops when a graph is built (double backward),
    else on arrays."""
    label = "LogcumsumexpBackward0"

    def forward(ctx, a, *, dim):
        ctx.dim = dim
        out = a.copy() if dim is None or a.size == 0 else _logcumsumexp(a, dim)
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        if ctx.dim is None:
            return grad
        if _grad_state.enabled or is_half(x._data.dtype):   # (half: torch's ops, each rounded)
            return _logcumsumexp_grad_tensors(x, y, grad, ctx.dim)
        # in double precision: exp(x_i + ...) of large x_i and a log near -x_i cancel, and
        # float32 would lose digits to the cancellation that torch keeps
        wide = np.complex128 if x._data.dtype.kind == "c" else np.float64
        a, o, g = (v._data.astype(wide, copy=False) for v in (x, y, grad))
        d = ctx.dim

        def rev_scan(log_terms):   # log sum_{j>=i} exp(log_terms_j)
            return np.flip(_logcumsumexp(np.flip(log_terms, d), d), d)

        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if a.dtype.kind == "c":
                res = np.exp(np.conj(a) + rev_scan(np.log(g) - np.conj(o)))
            else:
                res = (np.exp(rev_scan(np.log(np.where(g > 0, g, 0)) - o) + a)
                       - np.exp(rev_scan(np.log(np.where(g < 0, -g, 0)) - o) + a))
        return _const(np.asarray(res, x._data.dtype))


def _logcumsumexp_grad_tensors(x, y, g, d):
    """LogCumSumExp's gradient in differentiable Tensor ops."""
    from ember._ops.pointwise import where

    # log(v) where keep, else the lowest finite number rather than -inf: a -inf would reach
    # the inner scans' own gradients as -inf - -inf = NaN (the terms are exp(lowest) = 0 anyway)
    lowest = _dtype.finfo(g.dtype).min

    def log_of(v, keep):
        return where(keep, where(keep, v, 1).log(), lowest)

    def rev_scan(v):
        return v.flip((d,)).logcumsumexp(d).flip((d,))

    with np.errstate(over="ignore", invalid="ignore"):   # (lowest - y: -inf in a half type)
        if x.is_complex():
            return (x.conj() + rev_scan(log_of(g, g != 0) - y.conj())).exp()
        return ((rev_scan(log_of(g, g > 0) - y) + x).exp()
                - (rev_scan(log_of(-g, g < 0) - y) + x).exp())


def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(x))) along dim (floating and complex inputs)."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    d = _dim1(input, dim)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for '
                                  f"'{_name(input.dtype)}'")
    return _out(LogCumSumExp.apply(input, dim=d), out,
                msg="expected scalar_type {want} but found {got}")


for _f in (cumsum, cumprod, cummax, cummin, logcumsumexp):
    setattr(Tensor, _f.__name__, _f)


def _cum_inplace(fn):
    def m(self, dim, *, dtype=None):
        """In place: the scan runs in self's dtype (bool has no kernel)."""
        from ember._ops._helpers import inplace
        _bool_scan(self, self.dtype, fn.__name__)
        return inplace(self, fn(self, dim, dtype=dtype or self.dtype))
    m.__name__ = fn.__name__ + "_"
    return m


Tensor.cumsum_, Tensor.cumprod_ = _cum_inplace(cumsum), _cum_inplace(cumprod)
