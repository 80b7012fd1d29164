"""logsumexp, softmax and log_softmax, with torch's values: over the last dim of contiguous
float32/float64 input in place NumPy passes with BLAS row sums; float16/bfloat16 as torch's
kernels round (see each helper). The plumbing (dims, out=, labels) is reduction.py's."""
import builtins

import numpy as np

from ember._ops._helpers import is_half, not_a_tensor, opmath_tensors, round_through as _rounded
from ember._ops.pointwise_unary import _via64
from ember._ops.reduction import (_BLAS_FLOATS, _Labelled, _dims, _expand_back, _keep, _name,
                                  _out, _row_sums, _to_float)
from ember._tensor import Tensor, _wrap_dim
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["logsumexp", "softmax", "log_softmax"]



class LogSumExp(_Labelled):
    """log(sum(exp(x))) over dims, shifted by the max for stability; backward
    grad * exp(x - result)."""

    label = "LogsumexpBackward0"

    def forward(ctx, a, *, dims, keepdim):
        ctx.dims, ctx.keepdim, ctx.shape = dims, keepdim, a.shape
        x = a.astype(np.float32) if is_half(a.dtype) else a
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if a.size:
                m = np.max(x.real if x.dtype.kind == "c" else x, axis=dims, keepdims=True)
                m = np.where(np.isfinite(m), m, 0).astype(x.dtype)   # all -inf / inf slices
            else:
                m = np.zeros([1 if i in dims else n for i, n in enumerate(a.shape)], x.dtype)
            if is_half(a.dtype):   # torch's ops one by one, each rounded to the half type
                e = _rounded(_via64(np.exp, _rounded(x - m, a.dtype)), a.dtype)
                total = _rounded(np.sum(e, axis=dims, keepdims=True), a.dtype)
                out = _rounded(_via64(np.log, total), a.dtype) + m
            else:
                out = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
        out = _keep(np.asarray(out, a.dtype), dims, keepdim)
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        g = _expand_back(grad, ctx.shape, ctx.dims, ctx.keepdim)
        return g * (a - _expand_back(out, ctx.shape, ctx.dims, ctx.keepdim)).exp()


def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(input))) over dim, computed stably; integer inputs give the default float."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    if out is not None and not (out.dtype.is_floating_point or out.dtype.is_complex):
        raise RuntimeError(f"logsumexp(): Expected floating point type for result tensor, but "
                           f"got: {_name(out.dtype)}")
    input = _to_float(input)
    dims = _dims(input, dim)
    return _out(LogSumExp.apply(input, dims=dims, keepdim=keepdim), out)


def _by_rows(fn, dim, *arrays):
    """fn(out, *2-D row views) over rows of `dim` (the last axis) of C-contiguous float arrays
    of one shape, into a fresh array; None when the layout does not allow it. (One thread: the
    row sums' BLAS calls use both cores already; splitting rows over two threads measured
    20-30% slower.)"""
    a = arrays[0]
    if (dim != a.ndim - 1 or a.size == 0 or a.dtype not in _BLAS_FLOATS
            or builtins.any(x.shape != a.shape or x.dtype != a.dtype
                            or not x.flags.c_contiguous for x in arrays)):
        return None
    n = a.shape[-1]
    out = np.empty(a.shape, a.dtype)
    fn(out.reshape(-1, n), *(x.reshape(-1, n) for x in arrays))
    return out


def _softmax_rows(out, a):
    """out = softmax of each row of a (2-D blocks), in place after one subtraction; the row
    sums by BLAS."""
    np.subtract(a, np.max(a, axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    np.divide(out, _row_sums(out)[:, None], out=out)


def _softmax_grad_rows(out, g, y):
    """out = y (g - sum(g y)) for 2-D row blocks: the row dot products by BLAS."""
    np.subtract(g, _row_sums(g, y)[:, None], out=out)
    out *= y


class Softmax(ArrayFunction):
    """exp(x - max) / sum along dim; backward from the saved output y * (g - sum(g * y)).
    safe=True (attention's softmax in torch's SDPA) gives 0 instead of NaN for a slice that is
    entirely -inf (a query with every key masked); its gradient is then 0 too. Over the last
    dim of contiguous float32/float64 input (attention, classifiers) the rows go through
    in-place NumPy passes with BLAS row sums; float16/bfloat16 follow torch's float32 kernels
    (_half_softmax)."""

    def forward(ctx, a, *, dim, safe=False):
        ctx.dim = dim
        if a.size == 0:
            out = a.copy()
            ctx.save_for_backward(out)
            return out
        if is_half(a.dtype) and not safe:
            out = _half_softmax(a, dim, log=False)
            ctx.save_for_backward(out)
            return out
        dt = a.dtype
        if is_half(dt):   # half types: in float32 (torch's opmath), rounded once
            a = a.astype(np.float32)
        with np.errstate(invalid="ignore", over="ignore"):
            out = None if safe else _by_rows(_softmax_rows, dim, a)
            if out is None:
                top = np.max(a, axis=dim, keepdims=True)
                if safe:
                    dead = top == -np.inf
                    if dead.any():
                        top = np.where(dead, 0, top)   # exp(-inf - 0) = 0 in the slice
                e = np.exp(a - top)
                total = np.sum(e, axis=dim, keepdims=True)
                if safe:
                    total[total == 0] = 1
                out = np.asarray(e / total)
            out = out.astype(dt, copy=False)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        return _softmax_backward(grad, *ctx.saved_tensors, ctx.dim, log=False)


def _softmax_backward(grad, y, dim, log):
    """The gradient of softmax (log_softmax when `log`) from its output y: torch's float32
    kernels for the half types; NumPy row passes for a first-order backward over contiguous
    rows; else Tensor ops, differentiable again."""
    if is_half(y._data.dtype):
        return _half_softmax_grad(grad, y, dim, log=log)
    if not _grad_state.enabled:   # first order: in NumPy
        with np.errstate(invalid="ignore", over="ignore"):
            gx = _by_rows(_log_softmax_grad_rows if log else _softmax_grad_rows, dim,
                          grad._data, y._data)
        if gx is not None:
            return Tensor._make(gx)
    if log:
        return grad - y.exp() * grad.sum(dim, keepdim=True)
    gy = grad * y
    return gy - y * gy.sum(dim, keepdim=True)


def _log_softmax_rows(out, a):
    """out = log_softmax of each row of a (2-D blocks): one exp into a scratch array, the
    row sums by BLAS."""
    np.subtract(a, np.max(a, axis=1, keepdims=True), out=out)
    total = _row_sums(np.exp(out))
    out -= np.log(total)[:, None]


def _log_softmax_grad_rows(out, g, y):
    """out = g - exp(y) sum(g) for 2-D row blocks."""
    np.exp(y, out=out)
    out *= -_row_sums(g)[:, None]
    out += g


class LogSoftmax(ArrayFunction):
    """x - max - log(sum(exp(x - max))) along dim; backward g - exp(y) * sum(g). Over the last
    dim of contiguous float32/float64 input, in-place row passes with BLAS row sums (as
    Softmax)."""

    def forward(ctx, a, *, dim):
        ctx.dim = dim
        if a.size == 0:
            out = a.copy()
        elif is_half(a.dtype):
            out = _half_softmax(a, dim, log=True)
        else:
            with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
                out = _by_rows(_log_softmax_rows, dim, a)
                if out is None:
                    shifted = a - np.max(a, axis=dim, keepdims=True)
                    out = np.asarray(shifted - np.log(np.sum(np.exp(shifted), axis=dim,
                                                             keepdims=True)))
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        return _softmax_backward(grad, *ctx.saved_tensors, ctx.dim, log=True)


# torch's float16/bfloat16 softmax kernels (SoftMaxKernel.cpp) compute in float32 and round once.
# Along the last dim their sums run in 16-lane AVX-512 vectors, whose order shows in the last
# bit of a float32 sum and so, now and then, in the rounded result; the helpers below add in
# that order. Along other dims torch adds the slices one after the other. exp and log go through
# float64 (_via64), which lands on SLEEF's float32 results more often than NumPy's float32 loops.

def _half_softmax(a, dim, log):
    """softmax (log_softmax with log=True) of a float16/bfloat16 array as torch's kernels."""
    if dim is None:   # a 0-d tensor: a row of one
        return _half_softmax(a.reshape(1), 0, log).reshape(())
    x = a.astype(np.float32)
    last = dim == a.ndim - 1
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        top = np.max(x, axis=dim, keepdims=True)
        shifted = x - top
        e = _via64(np.exp, shifted)
        if not last:
            total = _ordered_sum(e, dim)
            if log:
                out = shifted - _via64(np.log, total)
            else:   # torch's scalar loop, for the inner positions past the last whole 32,
                # divides exp(x - max) already rounded to the half type (a tensor large
                # enough for torch to split among threads has such tails at the splits too)
                out = e / total
                inner = int(np.prod(a.shape[dim + 1:]))
                tail = np.arange(inner).reshape(a.shape[dim + 1:]) >= inner - inner % 32
                out = np.where(tail, _rounded(e, a.dtype) / total, out)
        elif log:   # torch keeps the sum, then its log, in the half type
            lg = _rounded(_via64(np.log, _rounded(_rows(_lane_sum, e), a.dtype)), a.dtype)
            out = shifted - lg
        else:   # (times the reciprocal of the sum)
            out = e * (np.float32(1) / _rows(_softmax_lane_sum, e))
    return out.astype(a.dtype)


def _half_softmax_grad(grad, y, dim, log):
    """Softmax's (log_softmax's) backward for float16/bfloat16: y (g - sum(g y)) (g - exp(y)
    sum(g)) in float32, rounded once. Under create_graph in Tensor ops, so that it can be
    differentiated again."""
    if _grad_state.enabled:
        g, yf = opmath_tensors(grad, y)
        if log:
            return (g - yf.exp() * g.sum(dim, keepdim=True)).to(y.dtype)
        return ((g - (g * yf).sum(dim, keepdim=True)) * yf).to(y.dtype)
    g, yf = grad._data.astype(np.float32), y._data.astype(np.float32)
    if dim is None:   # a 0-d tensor: a row of one
        g, yf, dim = g.reshape(1), yf.reshape(1), 0
    terms = g if log else g * yf
    if dim == terms.ndim - 1:
        total = _rows(_lane_sum, terms)
    else:
        total = _ordered_sum(terms, dim)
    with np.errstate(invalid="ignore", over="ignore"):
        gx = g - _via64(np.exp, yf) * total if log else (g - total) * yf
    return Tensor._make(gx.reshape(y._data.shape).astype(y._data.dtype))


def _rows(fn, x):
    """fn (a sum of each row of a 2-D array) over the last axis of x, keeping that axis."""
    return fn(x.reshape(-1, x.shape[-1])).reshape(x.shape[:-1] + (1,))


def _ordered_sum(x, dim):
    """The sum along dim, adding the slices in order (torch's non-last-dim softmax loops)."""
    total = x.take(0, axis=dim)
    for i in range(1, x.shape[dim]):
        total = total + x.take(i, axis=dim)
    return np.expand_dims(total, dim)


def _butterfly(v):
    """Lane 0 of a horizontal sum of 16-lane vectors (the rows of v): lanes i and i + 8 are
    added, then i and i + 4, i + 2, i + 1."""
    while v.shape[1] > 1:
        k = v.shape[1] // 2
        v = v[:, :k] + v[:, k:]
    return v[:, 0]


def _in_order(v):
    """Lane 0 of v's rows plus the other lanes one by one."""
    total = v[:, 0]
    for j in range(1, v.shape[1]):
        total = total + v[:, j]
    return total


def _lane_sum(x):
    """Row sums of a 2-D float32 array as torch's reduce_all / map_reduce_all over half data:
    two 16-lane accumulators take 32 elements a step (a short tail goes into their first
    lanes), are added together and summed across lanes; a row shorter than 32 is folded once
    and summed lane by lane."""
    rows, n = x.shape
    if n < 32:
        if n <= 16:
            return _in_order(x)
        low = x[:, :16].copy()
        low[:, :n - 16] += x[:, 16:]
        return _in_order(low)
    acc0, acc1 = x[:, :16].copy(), x[:, 16:32].copy()
    d = 32
    while d + 32 <= n:
        acc0 += x[:, d:d + 16]
        acc1 += x[:, d + 16:d + 32]
        d += 32
    rest = n - d
    if rest > 16:
        acc0 += x[:, d:d + 16]
        acc1[:, :rest - 16] += x[:, d + 16:]
    elif rest:
        acc0[:, :rest] += x[:, d:]
    return _butterfly(acc0 + acc1)


def _softmax_lane_sum(x):
    """Row sums as torch's half softmax forward adds exp(x - max): one 16-lane accumulator over
    whole chunks of 16, summed across lanes, then the tail elements one by one."""
    rows, n = x.shape
    whole = n - n % 16
    total = np.zeros(rows, np.float32)
    if whole:
        acc = x[:, :16].copy()
        for d in range(16, whole, 16):
            acc += x[:, d:d + 16]
        total = _butterfly(acc)
    for d in range(whole, n):
        total = total + x[:, d]
    return total


def _softmax_args(input, dim, dtype, name):
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    d = _wrap_dim(dim, input._data.ndim)
    if dtype is not None:
        input = input.to(dtype)
    dt = input.dtype
    if not dt.is_floating_point:
        last = "lastdim_" if input._data.ndim == 0 or d == input._data.ndim - 1 else ""
        raise NotImplementedError(f'"{name}_{last}kernel_impl" not implemented for '
                                  f"'{_name(dt)}'")
    return input, (d if input._data.ndim else None)


def softmax(input, dim, dtype=None, *, out=None):
    """exp(x) / sum(exp(x)) along dim (stable form); `dtype=` casts the input first.
    Integer inputs need dtype= (torch raises NotImplementedError otherwise). out= must have the
    result's dtype; torch has no derivative for it."""
    x, d = _softmax_args(input, dim, dtype, "softmax")
    return _out(Softmax.apply(x, dim=d), out, exact=True, grad="aten::softmax")


def log_softmax(input, dim, dtype=None, *, out=None):
    """log(softmax(x)) along dim, computed as x - logsumexp(x) (stable)."""
    x, d = _softmax_args(input, dim, dtype, "log_softmax")
    return _out(LogSoftmax.apply(x, dim=d), out, exact=True, grad="aten::log_softmax")


for _f in (logsumexp, softmax, log_softmax):
    setattr(Tensor, _f.__name__, _f)
