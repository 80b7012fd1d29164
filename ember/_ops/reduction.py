"""Reductions: sum, mean, sum_to_size (and the rest of the family in issue #4).

dim may be None (all dims), an int, or a sequence; keepdim keeps reduced dims as size 1.
Backward re-expands the gradient over the reduced dims.
"""
import numpy as np

from ember import _dtype
from ember._ops._helpers import dims_of, write_out
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["sum", "mean"]


def _expand_back(grad, in_shape, dims, keepdim):
    """grad of a reduction over `dims`, broadcast back to the input's shape."""
    if not keepdim and dims:
        shape = list(in_shape)
        for d in dims:
            shape[d] = 1
        grad = grad.reshape(shape)
    return grad.expand(in_shape)


class Sum(ArrayFunction):
    def forward(ctx, a, *, dims, keepdim, npd):
        ctx.in_shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        return np.asarray(np.sum(a, axis=dims, keepdims=keepdim, dtype=npd))

    def backward(ctx, grad):
        return _expand_back(grad, ctx.in_shape, ctx.dims, ctx.keepdim)


class Mean(ArrayFunction):
    def forward(ctx, a, *, dims, keepdim, npd):
        ctx.in_shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        n = 1
        for d in dims:
            n *= a.shape[d]
        ctx.n = n
        if npd is not None and a.dtype != npd:
            a = a.astype(npd)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.mean(a, axis=dims, keepdims=keepdim))

    def backward(ctx, grad):
        return _expand_back(grad / ctx.n, ctx.in_shape, ctx.dims, ctx.keepdim)


def _sum_dtype(input, dtype):
    if dtype is not None:
        return dtype.np
    k = input._data.dtype.kind
    return np.dtype(np.int64) if k in "biu" else None   # torch sums integers in int64


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum over dim (all dims when None); integer and bool inputs sum to int64."""
    dims = dims_of(dim, input._data.ndim) if input._data.ndim else ()
    r = Sum.apply(input, dims=dims, keepdim=keepdim, npd=_sum_dtype(input, dtype))
    return r if out is None else write_out(out, r)


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Arithmetic mean; integer inputs need an explicit floating `dtype=` (as in torch)."""
    dt = dtype or input.dtype
    if not (dt.is_floating_point or dt.is_complex):
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {dt._legacy}")
    dims = dims_of(dim, input._data.ndim) if input._data.ndim else ()
    r = Mean.apply(input, dims=dims, keepdim=keepdim,
                   npd=dtype.np if dtype is not None else None)
    return r if out is None else write_out(out, r)


def sum_to_size(self, *size):
    """Sum broadcast dims away so the result has `size` (the inverse of expand)."""
    if len(size) == 1 and not isinstance(size[0], int):
        size = tuple(size[0])
    shape = self._data.shape
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != n for s, n in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and shape[lead + i] != 1)
    if not dims:
        return self
    r = Sum.apply(self, dims=dims, keepdim=True, npd=None)
    return r.reshape(size) if lead else r


Tensor.sum, Tensor.mean, Tensor.sum_to_size = sum, mean, sum_to_size
