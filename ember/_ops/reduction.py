"""Reductions: sum mean prod nansum nanmean std var, max min amax amin aminmax argmax argmin,
all any count_nonzero norm. The scans live in scan.py, logsumexp/softmax/log_softmax in
softmax.py, diff/cov/trapezoid and friends in statistics.py; all use the plumbing here (dims,
out=, labels).

dim may be None (all dims), an int, or a sequence; keepdim keeps reduced dims as size 1.
Backward re-expands the gradient over the reduced dims (`_expand_back`). Integer and bool inputs
sum/prod to int64 as in torch; `mean`/`std`/`var` refuse them. out= without dtype= sets the
dtype sum/prod/mean/var compute in (torch casts the input to it); the selecting reductions
(max(dim), amax, argmax, sort...) need out= tensors of exactly their result dtypes.

float16/bfloat16 give torch's CPU results bit for bit: sums and means in a float32 accumulator
rounded once, var/std in float64, products rounded after every multiply in torch's vectorised
order (see each helper).
"""
import builtins
import math

import numpy as np

from ember import _dtype
from ember import return_types
from ember._ops._helpers import (check_out_exact, dims_of, is_half, moved_last, not_a_tensor,
                                 promote, round_through as _rounded, write_out, write_outs)
from ember._ops.indexing import scatter_at
from ember._tensor import Tensor, _wrap_dim
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["sum", "mean", "prod", "nansum", "nanmean", "std", "var", "std_mean", "var_mean",
           "max", "min", "amax", "amin", "aminmax", "argmax", "argmin", "all", "any",
           "count_nonzero", "norm"]

_pysum, _pymax, _pymin, _pyall, _pyany = (builtins.sum, builtins.max, builtins.min,
                                          builtins.all, builtins.any)


# ---------------------------------------------------------------------------------------------
# shared plumbing

def _dims(input, dim):
    """Reduced dims as a sorted tuple; a 0-d tensor accepts dim 0 / -1 and reduces nothing."""
    try:
        nd = input._data.ndim
    except AttributeError:
        raise not_a_tensor(input) from None
    if nd:
        return dims_of(dim, nd)
    if dim is not None:
        for d in (dim if isinstance(dim, (list, tuple)) else (dim,)):
            _wrap_dim(d, 0)
    return ()


def _dim1(input, dim):
    """One dim (int) for ops like max(dim), cumsum; None for a 0-d tensor."""
    if isinstance(dim, (list, tuple)) or dim is None:
        raise TypeError(f"expected an int dim, but got {type(dim).__name__}")
    try:
        nd = input._data.ndim
    except AttributeError:
        raise not_a_tensor(input) from None
    d = _wrap_dim(dim, nd)
    return d if input._data.ndim else None


def _expand_back(grad, in_shape, dims, keepdim):
    """grad of a reduction over `dims`, broadcast back to the input's shape."""
    if not keepdim and dims:
        shape = list(in_shape)
        for d in dims:
            shape[d] = 1
        grad = grad.reshape(shape)
    return grad.expand(in_shape)


def _keep(arr, dims, keepdim):
    """A keepdim=True result reshaped for keepdim=False (or kept)."""
    if keepdim or not dims:
        return arr
    return arr.reshape([n for i, n in enumerate(arr.shape) if i not in dims])


def _keep_dims(arr, in_shape, dims, keepdim):
    """A keepdim=False result (a fresh array) reshaped for keepdim=True where asked."""
    if keepdim:
        shape = list(in_shape)
        for d in dims:
            shape[d] = 1
        return arr.reshape(shape)
    return np.asarray(arr)


def _floating(npd):
    """A real floating NumPy dtype, ml_dtypes' bfloat16 (kind 'V') included."""
    return npd.kind in "fV"


def _const(array):
    """A NumPy array as a constant Tensor (no history) for masks in backward formulas."""
    return Tensor._make(np.asarray(array))


def _name(dt):
    return dt._legacy


def _require_float(input, fn, dtype=None):
    dt = dtype or input.dtype
    if not (dt.is_floating_point or dt.is_complex):
        raise RuntimeError(f"{fn}(): expected input to have floating point or complex dtype but "
                           f"got {_name(dt)}")


def _int_to_long(input, dtype):
    """The NumPy accumulator dtype torch uses: int64 for integer and bool inputs."""
    if dtype is not None:
        return dtype.np
    return np.dtype(np.int64) if input._data.dtype.kind in "biu" else None


def _to_float(input):
    """Integer and bool inputs promoted to the default float dtype (logsumexp, quantile...)."""
    if input._data.dtype.kind in "biu":
        return input.to(_dtype.get_default_dtype())
    return input


def _out(r, out, msg=None, **kw):
    """write_outs; msg: out= must have the result's dtype, in the op's words (check_out_exact)."""
    if msg is not None and out is not None:
        for o, x in zip(out, r) if isinstance(r, tuple) else ((out, r),):
            check_out_exact(o, x._data.dtype, msg)
    return write_outs(out, r, **kw)


# (the values and indices of max(dim), sort, topk...; argmax's indices)
_expect_out = check_out_exact


def _expect_pair(out, dt):
    """(values, indices) out=: values of dtype dt, int64 indices."""
    if out is not None:
        _expect_out(out[0], dt)
        _expect_out(out[1], _dtype.int64)


def _out_dtype(dtype, out, fn=None):
    """The dtype a reduction computes in: dtype=, else out='s (torch casts the input to it)."""
    if out is None or dtype is not None:
        return dtype
    if fn is not None:     # sum(x, out=...) has no overload without dim
        raise TypeError(f"{fn}() received an invalid combination of arguments - got (Tensor, "
                        f"out=Tensor), but expected one of:\n * (Tensor input, *, torch.dtype "
                        f"dtype = None)\n * (Tensor input, tuple of ints dim, bool keepdim = "
                        f"False, *, torch.dtype dtype = None, Tensor out = None)")
    return out.dtype


def _cast_complex(input, dtype):
    """A complex input reduced in a real dtype keeps its real part (torch's cast)."""
    if dtype is not None and input._data.dtype.kind == "c" and not dtype.is_complex:
        from ember._ops.pointwise import _to_dtype
        return _to_dtype(input, dtype)
    return input


def _nonempty(input, dims, fn, specify=True):
    """torch's errors for reductions without an identity (max, amax, argmax...) on empty dims."""
    a = input._data
    if a.size:
        return
    if dims is None or (specify and len(dims) == a.ndim and a.ndim != 1):
        raise RuntimeError(f"{fn}(): Expected reduction dim to be specified for input.numel() "
                           f"== 0. Specify the reduction dim with the 'dim' argument.")
    for d in dims:
        if a.shape[d] == 0:
            raise IndexError(f"{fn}(): Expected reduction dim {d} to have non-zero size.")


class _Labelled(ArrayFunction):
    """A node that prints under the name torch gives it (one class can serve amax and amin);
    a caller's `rename_node` (kept in `_name`) overrides the label."""

    label = _name = None

    def name(self):
        return self._name or self.label or type(self).__name__   # (the class: XBackward0)


# ---------------------------------------------------------------------------------------------
# Gather / scatter along one dim: the backward of max(dim), sort, topk, cummax, ...

class _ScatterAlong(ArrayFunction):
    """zeros(shape) with `grad` added at `idx` along `dim` (duplicates accumulate, half types
    in float32 as torch's scatter_add)."""

    def forward(ctx, grad, *, idx, dim, shape):
        ctx.idx, ctx.dim = idx, dim
        out = np.zeros(shape, grad.dtype)
        if dim is None:      # a 0-d input: the index is 0
            return np.asarray(out + grad)
        if out.size:
            full = list(np.ix_(*[np.arange(n) for n in idx.shape]))
            full[dim] = idx
            scatter_at(np.add, out, tuple(full), grad, along=False)   # (torch's scatter_add)
        return out

    def backward(ctx, g):
        return _GatherAlong.apply(g, idx=ctx.idx, dim=ctx.dim)


class _GatherAlong(ArrayFunction):
    """g[..., idx, ...] along `dim` (np.take_along_axis); backward scatters back."""

    def forward(ctx, g, *, idx, dim):
        ctx.idx, ctx.dim, ctx.shape = idx, dim, g.shape
        if dim is None:
            return g.copy()
        return np.take_along_axis(g, idx, axis=dim)

    def backward(ctx, grad):
        return _ScatterAlong.apply(grad, idx=ctx.idx, dim=ctx.dim, shape=ctx.shape)


def _select_grad(grad, idx, dim, keepdim, shape):
    """Gradient of picking `idx` (keepdim layout) along dim: grad scattered to those indices."""
    if dim is not None and not keepdim:
        grad = grad.unsqueeze(dim)
    return _ScatterAlong.apply(grad, idx=idx, dim=dim, shape=shape)


# ---------------------------------------------------------------------------------------------
# sum, mean, nansum, nanmean, prod

_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_ONES = {}


def _ones(n, dt):
    o = _ONES.get((n, dt))
    if o is None:
        o = _ONES[(n, dt)] = np.ones(n, dt)
        o.flags.writeable = False
    return o


_BLOCKS = {}


def _block_of(n):
    """A divisor of n in [16, 256] (the largest), or None."""
    b = _BLOCKS.get(n, 0)
    if b == 0:
        b = _BLOCKS[n] = next((b for b in range(256, 15, -1) if n % b == 0), None)
    return b


# one dot product per row (NumPy >= 2 has it as a ufunc)
_row_dots = getattr(np, "vecdot", None) or (lambda x, y: np.einsum("ij,ij->i", x, y))


def _row_sums(m, other=None):
    """Sums of the rows of a C-contiguous float32/float64 matrix (or of m * other, without
    forming the product: one dot product per row), via BLAS matrix-vector products with a
    ones vector (both cores, SIMD; NumPy's own pairwise sum is scalar code).

    Accuracy: a BLAS dot over a whole long row accumulates sequentially in a few lanes (worse
    than torch's cascade sum), so rows are cut into blocks of <= 256 elements, each block summed
    by BLAS, and the block sums summed the same way, recursively: an error like NumPy's
    pairwise summation (leaves of 128 with 8 accumulators) and torch's (measured on rows of
    1024: 1.7e-7 of sum |x| at most, as torch; whole rows of 1024 in one dot: 2.8e-7)."""
    r, n = m.shape
    b = n if n <= 256 else _block_of(n)
    if b is None:
        return np.add.reduce(m if other is None else m * other, axis=1)
    blocks = m.reshape(r * (n // b), b)
    partial = (np.dot(blocks, _ones(b, m.dtype)) if other is None
               else _row_dots(blocks, other.reshape(r * (n // b), b)))
    return partial if b == n else _row_sums(partial.reshape(r, n // b))


def _column_sums(m):
    """Sums over axis 1 of a C-contiguous (outer, rows, cols) float32/float64 array, by BLAS
    products with a ones row (NumPy's own reduce over a leading or middle axis is 2-5x
    slower); rows are summed in blocks of <= 256, then the block sums, as in `_row_sums`.
    None when rows > 256 has no such block."""
    outer, rows, cols = m.shape
    b = rows if rows <= 256 else _block_of(rows)
    if b is None:
        return None
    part = np.matmul(_ones(b, m.dtype), m.reshape(outer * (rows // b), b, cols))
    return part.reshape(outer, cols) if b == rows else _column_sums(
        part.reshape(outer, rows // b, cols))


def _fast_sum(a, dims, other=None):
    """sum over `dims` (of a * other, without forming it, when other is given: an array like
    a) with keepdims=False, or None where NumPy's own reduction is the better choice: only
    large C-contiguous float32/float64 arrays reduced over one run of neighbouring dims (the
    trailing ones: row sums; leading or middle ones: column sums, without `other`)."""
    if (a.size < 8192 or not dims or a.dtype not in _BLAS_FLOATS
            or dims != tuple(range(dims[0], dims[0] + len(dims))) or not a.flags.c_contiguous):
        return None
    outer = a.shape[:dims[0]]
    mid = math.prod(a.shape[d] for d in dims)
    cols = math.prod(a.shape[dims[-1] + 1:])
    with np.errstate(invalid="ignore", over="ignore"):   # inf - inf is NaN silently, as torch
        if cols > 1:
            if other is not None or mid < 16:
                return None
            r = _column_sums(a.reshape(-1, mid, cols))
            return None if r is None else r.reshape(outer + a.shape[dims[-1] + 1:])
        if mid < 16:
            return None
        return _row_sums(a.reshape(-1, mid),
                         None if other is None else other.reshape(-1, mid)).reshape(outer)


def _half_sum(a, dims, keepdim, dt, n=None):
    """Sum over dims (divided by n: a mean) as torch reduces a float16/bfloat16 tensor: in a
    float32 accumulator, rounded once to dt."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        r = np.add.reduce(a, axis=dims, keepdims=keepdim, dtype=np.float32)
        if n is not None:
            r = np.true_divide(r, np.float32(n))
    return np.asarray(r).astype(dt)


class Sum(ArrayFunction):
    def forward(ctx, a, *, dims, keepdim, npd, by_dim=False):
        ctx.in_shape, ctx.dims, ctx.keepdim, ctx.by_dim = a.shape, dims, keepdim, by_dim
        dt = a.dtype if npd is None else np.dtype(npd)
        if is_half(dt):   # (an input of another dtype is cast to the half type first, as torch)
            return _half_sum(a if a.dtype == dt else a.astype(dt), dims, keepdim, dt)
        if npd is None or npd == a.dtype:
            r = _fast_sum(a, dims)
            if r is not None:
                return _keep_dims(r, a.shape, dims, keepdim)
        # (the ufunc itself, not np.sum's Python wrapper: NumPy's inf - inf warning would
        # name numpy's frame and escape ember's warning filter; torch is silent)
        return np.asarray(np.add.reduce(a, axis=dims, keepdims=keepdim, dtype=npd))

    def backward(ctx, grad):
        return _expand_back(grad, ctx.in_shape, ctx.dims, ctx.keepdim)

    def name(self):   # torch's sum(x) and sum(x, dim) are two overloads
        return "SumBackward1" if self.by_dim else "SumBackward0"


_SUM_THEN_DIVIDE = (np.float32, np.float64, np.complex64, np.complex128)


class Mean(ArrayFunction):
    def forward(ctx, a, *, dims, keepdim, npd, by_dim=False):
        ctx.in_shape, ctx.dims, ctx.keepdim, ctx.by_dim = a.shape, dims, keepdim, by_dim
        n = 1
        for d in dims:
            n *= a.shape[d]
        ctx.n = n
        dt = a.dtype if npd is None else np.dtype(npd)
        if is_half(dt):   # torch: the float32 sum divided in float32 (no cast to dt first)
            return _half_sum(a, dims, keepdim, dt, n)
        if npd is not None and a.dtype != npd:
            a = a.astype(npd)
        r = _fast_sum(a, dims)
        if r is not None:
            r /= n    # in place: the sum is a fresh array of the input's dtype
            return _keep_dims(r, a.shape, dims, keepdim)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            if a.dtype.type in _SUM_THEN_DIVIDE:
                # what np.mean does for these dtypes, minus its Python wrapper; n == 0 gives
                # NaN without NumPy's "Mean of empty slice" warning
                return np.asarray(np.true_divide(np.add.reduce(a, axis=dims, keepdims=keepdim),
                                                 n))
            if n == 0:
                return np.asarray(np.true_divide(np.sum(a, axis=dims, keepdims=keepdim), 0))
            return np.asarray(np.mean(a, axis=dims, keepdims=keepdim))

    def backward(ctx, grad):
        return _expand_back(grad / ctx.n, ctx.in_shape, ctx.dims, ctx.keepdim)

    def name(self):
        return "MeanBackward1" if self.by_dim else "MeanBackward0"


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum over dim (all dims when None or ()); integer and bool inputs sum to int64; out=
    without dtype= sums in out's dtype."""
    if out is not None:
        dtype = _out_dtype(dtype, out, "sum" if dim is None else None)
        input = _cast_complex(input, dtype)
    r = Sum.apply(input, dims=_dims(input, dim), keepdim=keepdim,
                  npd=_int_to_long(input, dtype), by_dim=dim is not None)
    return r if out is None else write_out(out, r, exact=True)


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Arithmetic mean; integer inputs need an explicit floating `dtype=` (as in torch); a
    floating or complex out= without dtype= gives the dtype to compute in."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    if out is not None and dtype is None and (out.dtype.is_floating_point or out.dtype.is_complex) \
            and (input.dtype.is_floating_point or input.dtype.is_complex):
        dtype = out.dtype
        input = _cast_complex(input, dtype)
    if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(f"mean(): could not infer output dtype. Optional dtype must be either "
                           f"a floating point or complex dtype. Got: {_name(dtype)}")
    dt = dtype or input.dtype
    if not (dt.is_floating_point or dt.is_complex):
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_name(dt)}")
    r = Mean.apply(input, dims=_dims(input, dim), keepdim=keepdim,
                   npd=dtype.np if dtype is not None else None, by_dim=dim is not None)
    return r if out is None else write_out(out, r, exact=dtype is not None)


class NanSum(_Labelled):
    label = "NansumBackward0"

    """Sum treating NaN as zero; the gradient is zero at the NaNs."""

    def forward(ctx, a, *, dims, keepdim, npd):
        ctx.in_shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        if not _floating(a.dtype):
            return np.asarray(np.add.reduce(a, axis=dims, keepdims=keepdim, dtype=npd))
        if ctx.needs_input_grad[0]:
            ctx.mask = ~np.isnan(a)
        a = np.where(np.isnan(a), 0, a)
        dt = a.dtype if npd is None else np.dtype(npd)
        if is_half(dt):
            return _half_sum(a.astype(dt, copy=False), dims, keepdim, dt)
        return np.asarray(np.add.reduce(a, axis=dims, keepdims=keepdim, dtype=npd))

    def backward(ctx, grad):
        return _expand_back(grad, ctx.in_shape, ctx.dims, ctx.keepdim) * _const(ctx.mask)


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum with NaNs counted as zero; integer inputs sum to int64."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    if input._data.dtype.kind == "c":
        raise RuntimeError("nansum on CPU does not support complex inputs")
    dtype = _out_dtype(dtype, out)
    _nansum_kernel(input, dtype)
    r = NanSum.apply(input, dims=_dims(input, dim), keepdim=keepdim,
                     npd=_int_to_long(input, dtype))
    return r if out is None else write_out(out, r)


def _nansum_kernel(input, dtype):
    """torch sums a floating input in the dtype asked for (or out='s): not in integers."""
    if dtype is not None and _floating(input._data.dtype) and not _floating(dtype.np):
        raise NotImplementedError(f"\"nansum_cpu\" not implemented for '{_name(dtype)}'")


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of the non-NaN elements (NaN where a slice has none); floating inputs only."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    if input._data.dtype.kind == "c":
        raise RuntimeError("nansum on CPU does not support complex inputs")
    _require_float(input, "nanmean", dtype)
    _nansum_kernel(input, _out_dtype(dtype, out))
    if dtype is not None:
        input = input.to(dtype)
    dims = _dims(input, dim)
    count = np.sum(~np.isnan(input._data), axis=dims, keepdims=keepdim)
    r = nansum(input, dims if dims else None, keepdim) / _const(count.astype(input._data.dtype))
    return r if out is None else write_out(out, r)


def _prod_of_others(a, axis):
    """For each element, the product of the other elements along `axis` (exact with zeros)."""
    if axis is None:
        return _prod_of_others(a.reshape(-1), 0).reshape(a.shape)
    n = a.shape[axis]
    if n == 0:
        return np.ones_like(a)

    def sl(start, stop):
        s = [slice(None)] * a.ndim
        s[axis] = slice(start, stop)
        return tuple(s)
    left = np.ones_like(a)
    left[sl(1, None)] = np.cumprod(a, axis=axis)[sl(None, -1)]
    right = np.ones_like(a)
    right[sl(None, -1)] = np.flip(np.cumprod(np.flip(a, axis), axis=axis), axis)[sl(1, None)]
    return left * right


class Prod(_Labelled):
    """Product; backward grad * prod / x, or the product of the others where x has zeros."""

    def forward(ctx, a, *, dim, keepdim, npd):
        ctx.label = "ProdBackward0" if dim is None else "ProdBackward1"
        ctx.in_shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        dt = a.dtype if npd is None else np.dtype(npd)
        if is_half(dt):
            out = _half_prod(a.astype(dt, copy=False), dim, keepdim)
        else:
            out = np.asarray(np.multiply.reduce(a, axis=dim, keepdims=keepdim, dtype=npd))
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        dims = (ctx.dim,) if ctx.dim is not None else tuple(range(a.dim()))
        g = _expand_back(grad, ctx.in_shape, dims, ctx.keepdim)
        if not np.any(a._data == 0):
            return g * (_expand_back(out, ctx.in_shape, dims, ctx.keepdim) / a).conj()
        # zeros: the exact product of the others; under create_graph (and for the half types,
        # whose cumprod must round as torch's) as Tensor ops (products of exclusive running
        # products from either end), so second derivatives exist
        if _grad_state.enabled or is_half(a._data.dtype):
            return g * _prod_of_others_tensor(a, ctx.dim).conj()
        return g * _const(np.conj(_prod_of_others(a._data, ctx.dim)))


def _half_prod(a, dim, keepdim):
    """torch's product of float16/bfloat16 values, where every multiply rounds to the half type
    (its kernel has no float32 accumulator). Along a dim of unit stride (and over all elements,
    taken in memory order) torch's vectorized reduction keeps four running 16-lane products per
    block of 64 elements, multiplies the four together, then the 16 lanes one by one, then the
    elements past the last whole block; along any other dim it multiplies in order."""
    dt = a.dtype
    x = a.astype(np.float32)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        if dim is None:
            r = _prod_rows(x.ravel(order="K")[None], dt)[0]
            return np.asarray(r.reshape((1,) * a.ndim) if keepdim else r).astype(dt)
        if a.shape[dim] > 1 and a.strides[dim] == a.itemsize:
            r = _prod_rows(np.moveaxis(x, dim, -1).reshape(-1, a.shape[dim]), dt)
            r = r.reshape(a.shape[:dim] + a.shape[dim + 1:])
        else:
            r = np.ones(a.shape[:dim] + a.shape[dim + 1:], np.float32)
            for i in range(a.shape[dim]):
                r = _rounded(r * x.take(i, axis=dim), dt)
    return np.asarray(np.expand_dims(r, dim) if keepdim else r).astype(dt)


def _prod_rows(m, dt):
    """The products of the rows of a 2-D float32 array in torch's vectorized order (see
    _half_prod), rounding to dt after every multiply."""
    rows, n = m.shape
    whole = n // 64
    out = np.ones(rows, np.float32)
    if whole:
        acc = m[:, :64].reshape(rows, 4, 16)
        for i in range(1, whole):
            acc = _rounded(acc * m[:, 64 * i:64 * (i + 1)].reshape(rows, 4, 16), dt)
        v = _rounded(_rounded(acc[:, 0] * acc[:, 1], dt) * _rounded(acc[:, 2] * acc[:, 3], dt),
                     dt)
        out = v[:, 0]
        for j in range(1, 16):
            out = _rounded(out * v[:, j], dt)
    for i in range(64 * whole, n):
        out = _rounded(out * m[:, i], dt)
    return out


def _prod_of_others_tensor(a, dim):
    """For each element, the product of the others along dim (all elements when None), in
    differentiable Tensor ops."""
    from ember._ops.manipulation import cat
    x = a.reshape(-1) if dim is None else a
    d = 0 if dim is None else dim
    n = x.shape[d]
    one = x.narrow(d, 0, 1) * 0 + 1
    left = cat([one, x.narrow(d, 0, n - 1).cumprod(d)], d)
    right = cat([x.flip((d,)).narrow(d, 0, n - 1).cumprod(d).flip((d,)), one], d)
    return (left * right).reshape(a.shape)


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of all elements, or along one int dim; integer and bool inputs give int64."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    if isinstance(dim, (list, tuple)):
        raise TypeError("prod(): argument 'dim' must be int, not " + type(dim).__name__)
    if out is not None:
        dtype = _out_dtype(dtype, out, "prod" if dim is None else None)
        input = _cast_complex(input, dtype)
    d = _dim1(input, dim) if dim is not None else None
    if dim is None:
        keepdim = False
    r = Prod.apply(input, dim=d, keepdim=keepdim, npd=_int_to_long(input, dtype))
    return r if out is None else write_out(out, r)


# ---------------------------------------------------------------------------------------------
# var, std (correction / unbiased), var_mean, std_mean

def _correction(dim, unbiased, correction, fn):
    """Parse torch's overloads: var(x, unbiased), var(x, dim, unbiased, keepdim),
    var(x, dim, *, correction, keepdim)."""
    if isinstance(dim, bool):             # var(x, True): the legacy (input, unbiased) form
        if unbiased is not None:
            raise TypeError(f"{fn}() received an invalid combination of arguments")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{fn}() received an invalid combination of arguments - got both "
                        "'unbiased' and 'correction'")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


class Var(_Labelled):
    """Variance with `correction` (N - correction in the denominator, clamped at 0);
    backward 2 * (x - mean) / (N - correction). root=True gives std, whose gradient
    grad / (2 std) is zero where std is zero (torch's rule)."""

    def forward(ctx, a, *, dims, keepdim, correction, root=False):
        ctx.dims, ctx.keepdim, ctx.shape, ctx.root = dims, keepdim, a.shape, root
        ctx.label = "StdBackward0" if root else "VarBackward0"
        n = 1
        for d in dims:
            n *= a.shape[d]
        ctx.denom = _pymax(n - correction, 0)
        ctx.save_for_backward(a)
        if is_half(a.dtype):
            out = _half_var(a, dims, keepdim, ctx.denom, root)
            if root:
                ctx.save_for_backward(a, out)
            return out
        with np.errstate(invalid="ignore", divide="ignore"):
            # (an empty reduction needs no mean: NumPy's would warn "Mean of empty slice")
            m = np.mean(a, axis=dims, keepdims=True) if n else 0
            dev = a - m
            sq = (dev * dev.conj()).real if a.dtype.kind == "c" else dev * dev
            s = np.sum(sq, axis=dims, keepdims=keepdim)
            out = np.asarray(np.true_divide(s, ctx.denom)).astype(sq.dtype, copy=False)
        if root:
            if a.dtype == np.float32 and np.isinf(out).any():
                # torch accumulates float32 std in double: a variance past float32's range
                # still has a finite root
                with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                    a64 = a.astype(np.float64)
                    dev = a64 - (np.mean(a64, axis=dims, keepdims=True) if n else 0)
                    out = np.add.reduce(dev * dev, axis=dims, keepdims=keepdim) / ctx.denom
                out = np.asarray(np.sqrt(out).astype(np.float32))
            else:
                out = np.asarray(np.sqrt(out))
            ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        if ctx.root:
            a, out = ctx.saved_tensors
            zero = out._data == 0
            grad = grad / (out * 2 + _const(zero.astype(out._data.dtype))) * _const(~zero)
        else:
            (a,) = ctx.saved_tensors
        g = _expand_back(grad, ctx.shape, ctx.dims, ctx.keepdim)
        with np.errstate(divide="ignore"):
            scale = np.float64(2.0) / np.float64(ctx.denom)
        # torch's order, which the half types' rounding after each op shows
        return (g * float(scale)) * (a - a.mean(ctx.dims, keepdim=True))


def _half_var(a, dims, keepdim, denom, root):
    """var (std with root=True) of a float16/bfloat16 array as torch computes it: in float64
    (its Welford kernel's accumulator), going to the half type through float32."""
    x = a.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.mean(x, axis=dims, keepdims=True) if x.size else 0
        dev = x - m
        out = np.add.reduce(dev * dev, axis=dims, keepdims=keepdim) / denom
    return np.asarray(np.sqrt(out) if root else out).astype(np.float32).astype(a.dtype)


def _var_prep(input, dim, unbiased, correction, fn):
    if not isinstance(input, Tensor):
        raise not_a_tensor(input, fn)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"{fn if fn.endswith('_mean') else 'std and var'} only support "
                           f"floating point and complex dtypes")
    dim, corr = _correction(dim, unbiased, correction, fn)
    dims = _dims(input, dim)
    n = 1
    for d in dims:
        n *= input._data.shape[d]
    if n - corr <= 0:
        import warnings
        warnings.warn(f"{fn.split('_')[0]}(): degrees of freedom is <= 0. Correction should be "
                      "strictly less than the reduction factor (input numel divided by output "
                      "numel).", UserWarning, stacklevel=3)
    return dims, corr


def _var_out_input(input, out):
    """var/std with a floating out= of another dtype compute in out's dtype (real inputs)."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    if out is not None and out.dtype.is_complex and not input.dtype.is_complex:
        raise NotImplementedError(f"\"std_cpu\" not implemented for '{_name(out.dtype)}'")
    if out is not None and out.dtype.is_floating_point:
        want = out.dtype.to_complex() if input.dtype.is_complex else out.dtype
        if (input.dtype.is_floating_point or input.dtype.is_complex) and want is not input.dtype:
            return input.to(want)
    return input


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance over dim with `correction` (default 1, Bessel); `unbiased=False` means 0."""
    input = _var_out_input(input, out)
    dims, corr = _var_prep(input, dim, unbiased, correction, "var")
    r = Var.apply(input, dims=dims, keepdim=keepdim, correction=corr)
    return r if out is None else write_out(out, r)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation; the gradient is zero where the result is zero (torch's rule)."""
    input = _var_out_input(input, out)
    dims, corr = _var_prep(input, dim, unbiased, correction, "std")
    r = Var.apply(input, dims=dims, keepdim=keepdim, correction=corr, root=True)
    return r if out is None else write_out(out, r)


class VarMean(_Labelled):
    """(var, mean), or (std, mean) with root=True, as one node with two outputs
    (VarMeanBackward0 / StdMeanBackward0), as torch: Var's and Mean's forward on the same
    input, and the sum of their gradients."""

    def forward(ctx, a, *, dims, keepdim, correction, root=False):
        spread = Var.forward(ctx, a, dims=dims, keepdim=keepdim, correction=correction,
                             root=root)
        mean = Mean.forward(ctx, a, dims=dims, keepdim=keepdim, npd=None)
        if is_half(a.dtype) and a.size:   # torch's: the float64 mean of its Welford pass
            mean = np.asarray(np.mean(a.astype(np.float64), axis=dims, keepdims=keepdim))
            mean = mean.astype(np.float32).astype(a.dtype)
        ctx.label = "StdMeanBackward0" if root else "VarMeanBackward0"
        return spread, mean

    def backward(ctx, g_spread, g_mean):
        return Var.backward(ctx, g_spread) + Mean.backward(ctx, g_mean)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over the same dims, as a tuple (torch's Python binding takes no out=)."""
    dims, corr = _var_prep(input, dim, unbiased, correction, "var_mean")
    return VarMean.apply(input, dims=dims, keepdim=keepdim, correction=corr)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over the same dims, as a tuple (torch's Python binding takes no out=)."""
    dims, corr = _var_prep(input, dim, unbiased, correction, "std_mean")
    return VarMean.apply(input, dims=dims, keepdim=keepdim, correction=corr, root=True)


# ---------------------------------------------------------------------------------------------
# amax, amin, max, min, aminmax, argmax, argmin

_UFUNC_OF = {np.max: (np.maximum, -np.inf, "min"), np.min: (np.minimum, np.inf, "max")}


def _extreme(fn, a, dims, keepdims=True):
    """np.max/np.min over dims as the bare ufunc reduction (np.max's wrapper costs ~1 us), with
    an explicit initial value: NumPy's SIMD loop then runs over whole rows (without one, NumPy
    seeds each row with its first element and loops over the remaining n-1: ~1.4x slower along
    the last axis). Empty inputs keep NumPy's error (callers raise torch's first)."""
    ufunc, init, attr = _UFUNC_OF[fn]
    k = a.dtype.kind
    if dims and a.size and (k == "f" and a.dtype.type in _NP_FLOATS or k in "iu"):
        if k != "f":
            init = getattr(np.iinfo(a.dtype), attr)
        return ufunc.reduce(a, axis=dims, keepdims=keepdims, initial=init)
    return ufunc.reduce(a, axis=dims, keepdims=keepdims)


_NP_FLOATS = (np.float16, np.float32, np.float64)


class AMax(_Labelled):
    """amax/amin over dims; the gradient is split evenly among tied extremes (torch's rule)."""

    def forward(ctx, a, *, dims, keepdim, fn, label):
        ctx.label = label
        if not ctx.needs_input_grad[0]:
            return np.asarray(_extreme(fn, a, dims, keepdim))
        out = np.asarray(_extreme(fn, a, dims))
        ctx.dims, ctx.keepdim, ctx.shape = dims, keepdim, a.shape
        hit = a == out
        if a.dtype.kind == "f" and label.endswith("1"):
            # max()/min() split among the NaNs of a NaN result; amax/amin match nothing there
            # (0/0: NaN gradients), as torch does
            hit |= np.isnan(a) & np.isnan(out)
        weight = hit.astype(a.dtype)
        count = _fast_sum(weight, dims)    # extremes per slice (BLAS where large)
        if count is None:
            count = np.add.reduce(weight, axis=dims, keepdims=True)
        else:
            count = _keep_dims(count, a.shape, dims, True)
        if not (count == 1).all():   # ties share; a NaN slice counts 0: NaN gradients
            with np.errstate(invalid="ignore", divide="ignore"):
                weight /= count
        ctx.weight = weight
        return _keep(out, dims, keepdim)

    def backward(ctx, grad):
        return _expand_back(grad, ctx.shape, ctx.dims, ctx.keepdim) * _const(ctx.weight)


_COMPLEX_KERNELS = {"amax": "max_values_cpu", "amin": "min_values_cpu", "max": "max_all",
                    "min": "min_all"}


def _amax(input, dim, keepdim, fn, name, out=None):
    if out is not None and out.dtype is not input.dtype:
        raise RuntimeError(f"Expected the dtype for input and out to match, but got "
                           f"{_name(input.dtype)} for input's dtype and {_name(out.dtype)} for "
                           f"out's dtype.")
    dims = _dims(input, dim)
    if dim in (None, (), []):
        _nonempty(input, None, name)
    else:
        _nonempty(input, dims, name, specify=False)
    if input._data.dtype.kind == "c":
        raise NotImplementedError(f"\"{_COMPLEX_KERNELS[name]}\" not implemented for "
                                  f"'{_name(input.dtype)}'")
    return AMax.apply(input, dims=dims, keepdim=keepdim, fn=fn, label=_AMAX_LABEL[name])


_AMAX_LABEL = {n: n.capitalize() + ("Backward0" if n[0] == "a" else "Backward1")
               for n in ("amax", "amin", "max", "min")}


def amax(input, dim=(), keepdim=False, *, out=None):
    """Maximum over dims (all when ()); NaN propagates; ties share the gradient evenly."""
    return _out(_amax(input, dim, keepdim, np.max, "amax", out), out)


def amin(input, dim=(), keepdim=False, *, out=None):
    """Minimum over dims (all when ()); NaN propagates; ties share the gradient evenly."""
    return _out(_amax(input, dim, keepdim, np.min, "amin", out), out)


class MaxDim(_Labelled):
    """max/min along one dim -> (values, indices); the gradient goes to the returned index
    (the first extreme, or the first NaN). The returned indices are what backward saves, as
    in torch (saved-tensor hooks see them; writing into them is caught)."""

    def forward(ctx, a, *, dim, keepdim, arg, label):
        ctx.label = label
        ctx.dim, ctx.keepdim, ctx.shape = dim, keepdim, a.shape
        if dim is None:
            return a.copy(), np.zeros((), np.int64)
        idx = np.expand_dims(arg(a, axis=dim), dim)
        vals = np.take_along_axis(a, idx, axis=dim)
        if not keepdim:
            vals, idx = vals.squeeze(dim), idx.squeeze(dim)
        idx = idx.astype(np.int64, copy=False)
        ctx.save_for_backward(idx)
        return vals, idx

    def backward(ctx, grad, _):
        if ctx.dim is None:
            return _select_grad(grad, None, None, ctx.keepdim, ctx.shape)
        idx = ctx.saved_tensors[0]._data
        if not ctx.keepdim:
            idx = np.expand_dims(idx, ctx.dim)
        return _select_grad(grad, idx, ctx.dim, ctx.keepdim, ctx.shape)


def _along_last(fn):
    """np.argmax/np.argmin(a, axis) with the axis moved last by `moved_last` (NumPy moves it
    there itself, with a copy that runs 3-4x slower on a transposed matrix: argmax(0) of
    512x1024 float32 1.8 -> 0.7 ms)."""
    def arg(a, axis=None):
        if axis is None or axis == a.ndim - 1:
            return fn(a, axis=axis)
        return fn(moved_last(a, axis), axis=-1)
    return arg


# NumPy's argmax/argmin return the first NaN where there is one (for half, bfloat16 and
# complex dtypes too), which is torch's NaN propagation
_argmax, _argmin = _along_last(np.argmax), _along_last(np.argmin)


def _maxmin(input, dim, keepdim, other, out, name, arg, fn, binary):
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    if isinstance(dim, Tensor):
        dim, other = None, dim
    if other is not None:
        return binary(input, other, out=out)
    if dim is None:
        _nonempty(input, None, name)
        if out is not None and not _dtype.can_cast(input.dtype, out.dtype):
            raise RuntimeError("Expected canCast( typeMetaToScalarType(self.dtype()), "
                               "typeMetaToScalarType(out.dtype())) to be true, but got false.  "
                               "(Could this error message be improved?  If so, please report an "
                               "enhancement request to PyTorch.)")
        return _out(_amax(input, None, False, fn, name), out)
    if isinstance(dim, (list, tuple)):
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                        f"dim={type(dim).__name__})")
    d = _dim1(input, dim)
    if d is not None:
        _nonempty(input, (d,), name, specify=False)
    if input._data.dtype.kind == "c":
        raise RuntimeError(f"{name}(): does not support complex input")
    _expect_pair(out, input.dtype)
    vals, idx = MaxDim.apply(input, dim=d, keepdim=keepdim, arg=arg,
                             label=name.capitalize() + "Backward0")
    return _out(getattr(return_types, name)((vals, idx)), out)


def max(input, dim=None, keepdim=False, *, other=None, out=None):
    """max(x): the largest element (ties share the gradient); max(x, dim, keepdim) ->
    (values, indices), gradient to the returned index; max(x, other) = maximum(x, other)."""
    return _maxmin(input, dim, keepdim, other, out, "max", _argmax, np.max, maximum)


def min(input, dim=None, keepdim=False, *, other=None, out=None):
    """min(x) / min(x, dim, keepdim) -> (values, indices) / min(x, other) = minimum."""
    return _maxmin(input, dim, keepdim, other, out, "min", _argmin, np.min, minimum)


class _Maximum(_Labelled):
    """Elementwise max/min propagating NaN; ties send half the gradient to each input."""

    def forward(ctx, a, b, *, fn):
        ctx.label = "MaximumBackward0" if fn is np.maximum else "MinimumBackward0"
        out = fn(a, b)
        eq = a == b
        wa = np.where(eq, 0.5, (out == a) | np.isnan(a) if np.asarray(a).dtype.kind in "fc"
                      else out == a)
        ctx.wa = wa
        return out

    def backward(ctx, grad):
        wa = ctx.wa
        dt = grad._data.dtype
        return grad * _const(wa.astype(dt)), grad * _const((1 - wa).astype(dt))


def _binary_extreme(input, other, out, fn, name):
    import ember
    own = getattr(ember, name, None)
    if own is not None and own not in (maximum, minimum):   # the pointwise family's version
        return own(input, other, out=out)
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' must be Tensor, not {type(other).__name__}")
    a, b, _ = promote(input, other)
    if a._data.dtype.kind == "c":
        raise RuntimeError(f"{name} not implemented for complex tensors.")
    return _out(_Maximum.apply(a, b, fn=fn), out)


def maximum(input, other, *, out=None):
    return _binary_extreme(input, other, out, np.maximum, "maximum")


def minimum(input, other, *, out=None):
    return _binary_extreme(input, other, out, np.minimum, "minimum")


def aminmax(input, *, dim=None, keepdim=False, out=None):
    """(min, max) over dim (all when None) as return_types.aminmax."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    if input._data.size == 0:
        if dim is None:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                               "operation has no identity.")
        d = _wrap_dim(dim, input.dim())
        if input._data.shape[d] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
    if input._data.dtype.kind == "c":
        if input._data.ndim == 0 and dim is not None:
            raise RuntimeError(f"aminmax not implemented for {_name(input.dtype)}")
        raise NotImplementedError(f"\"aminmax_cpu\" not implemented for '{_name(input.dtype)}'")
    if out is not None:
        _expect_out(out[0], input.dtype)
        _expect_out(out[1], input.dtype)
    dims = _dims(input, dim)
    r = (AMax.apply(input, dims=dims, keepdim=keepdim, fn=np.min, label="AminmaxBackward0"),
         AMax.apply(input, dims=dims, keepdim=keepdim, fn=np.max, label="AminmaxBackward0"))
    return _out(return_types.aminmax(r), out)


def _arg(input, dim, keepdim, out, name, arg):
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    a = input._data
    if a.dtype == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")
    if a.dtype.kind == "c":
        raise RuntimeError(f"{name}(): does not support complex input")
    if a.size == 0 and dim is None:
        raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() "
                         f"== 0.")
    if dim is None:
        r = np.asarray(arg(a.reshape(-1), axis=0), np.int64)
        if keepdim:
            r = r.reshape((1,) * a.ndim)
    else:
        d = _dim1(input, dim)
        if d is None:
            r = np.zeros((), np.int64)
        else:
            if a.shape[d] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
            r = np.asarray(arg(a, axis=d), np.int64)
            if keepdim:
                r = np.expand_dims(r, d)
    _expect_out(out, _dtype.int64)
    return _out(Tensor._make(r), out)


def argmax(input, dim=None, keepdim=False, *, out=None):
    """Index of the first maximum (of the flattened input when dim is None), int64."""
    return _arg(input, dim, keepdim, out, "argmax", _argmax)


def argmin(input, dim=None, keepdim=False, *, out=None):
    """Index of the first minimum (of the flattened input when dim is None), int64."""
    return _arg(input, dim, keepdim, out, "argmin", _argmin)


# ---------------------------------------------------------------------------------------------
# all, any, count_nonzero

def _logical(input, dim, keepdim, out, fn):
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    if out is not None and out.dtype not in (_dtype.bool, _dtype.uint8):
        raise RuntimeError(f"{fn.__name__} only supports bool tensor for result, got: "
                           f"{_name(out.dtype)}")
    a = input._data
    dims = _dims(input, dim)
    r = np.asarray(fn(a != 0 if a.dtype != np.bool_ else a, axis=dims, keepdims=keepdim))
    if a.dtype == np.uint8:          # torch keeps uint8 for all/any of uint8 input
        r = r.astype(np.uint8)
    return _out(Tensor._make(r), out)


def all(input, dim=None, keepdim=False, *, out=None):
    """True where every element is nonzero (uint8 input gives uint8, as in torch)."""
    return _logical(input, dim, keepdim, out, np.all)


def any(input, dim=None, keepdim=False, *, out=None):
    """True where some element is nonzero (uint8 input gives uint8, as in torch)."""
    return _logical(input, dim, keepdim, out, np.any)


def count_nonzero(input, dim=None):
    """Number of nonzero elements over dim (int or tuple), int64."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    dims = _dims(input, dim)
    return Tensor._make(np.asarray(np.count_nonzero(input._data, axis=dims), np.int64))


# ---------------------------------------------------------------------------------------------
# norm (torch.norm: vector p-norms, 'fro', 'nuc')

class VectorNorm(_Labelled):
    """sum(|x|^p)^(1/p) over dims; p = inf/-inf: max/min |x| (ties share the gradient);
    p = 0: the count of nonzeros (zero gradient). The gradient at a zero norm is zero."""

    def forward(ctx, a, *, p, dims, keepdim):
        ctx.p, ctx.dims, ctx.keepdim, ctx.shape = p, dims, keepdim, a.shape
        ctx.label = "LinalgVectorNormBackward0"
        ab = np.abs(a)
        dt = ab.dtype
        if is_half(dt):   # half types accumulate in float32, as torch's
            ab = ab.astype(np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            fast = _fast_sum(a, dims, a) if p == 2 and a.dtype.kind == "f" else None
            if fast is not None:   # (one BLAS dot per row block: x * x is never formed)
                r = _keep_dims(np.sqrt(fast), a.shape, dims, True)
            elif p == 2:
                r = np.sqrt(np.sum(ab * ab, axis=dims, keepdims=True))
            elif p == np.inf:
                r = np.max(ab, axis=dims, keepdims=True, initial=0)
            elif p == -np.inf:
                r = np.min(ab, axis=dims, keepdims=True, initial=np.inf)
            elif p == 0:
                r = np.sum(ab != 0, axis=dims, keepdims=True).astype(ab.dtype)
            elif p == 1:
                r = np.sum(ab, axis=dims, keepdims=True)
            else:
                r = np.power(np.sum(np.power(ab, p), axis=dims, keepdims=True), 1.0 / p)
        r = np.asarray(r, dt)
        ctx.r = r
        out = _keep(r, dims, keepdim)
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, grad):
        x, norm = ctx.saved_tensors
        a, r, p = x._data, ctx.r, ctx.p
        if p == 0:   # torch's gradient of the 0-"norm" is undefined: none flows
            return None
        g = _expand_back(grad, ctx.shape, ctx.dims, ctx.keepdim)
        if is_half(a.dtype) or _grad_state.enabled:
            # torch's formula in Tensor ops: each op rounded as torch's (half types), and
            # differentiable again (create_graph), the norm being the saved output
            return _norm_backward(x, norm.reshape(r.shape), g, p, ctx.dims)
        sgn = np.sign(a) if a.dtype.kind != "c" else np.where(a == 0, 0, a / np.where(a == 0, 1,
                                                                                     np.abs(a)))
        ab = np.abs(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 1:
                w = sgn
            elif p in (np.inf, -np.inf):
                hit = ab == r
                w = sgn * hit / np.sum(hit, axis=ctx.dims, keepdims=True)
            else:
                w = sgn * np.power(ab, p - 1) / np.power(r, p - 1)
            w = np.where(r == 0, 0, w).astype(a.dtype)
        return g * _const(w)


def _norm_backward(x, r, g, p, dims):
    """The gradient of r = the p-norm of x over dims as torch's norm_backward writes it, one op
    (for the half types: one rounding) at a time, in Tensor ops; r and g with the reduced dims
    kept (or broadcastable to x). VectorNorm's half types, dist and renorm use it."""
    zero = r == 0
    if p == 1:
        return x.sgn() * g
    if p == 2:
        return g * (x / r).masked_fill(zero, 0)
    if p in (np.inf, -np.inf):   # the gradient shared among the extremes (NaNs count as ones)
        ab = x.abs()
        hit = (ab == r) | ab.isnan()
        return x.sgn() * ((g / hit.sum(dims, keepdim=True)) * hit)
    if p < 1:
        scaled = x.sgn() * x.abs().pow(p - 1).masked_fill(x == 0, 0)
        return scaled * g * r.pow(1 - p)
    scaled = x.sgn() * x.abs().pow(p - 1) if p < 2 else x * x.abs().pow(p - 2)
    return scaled * (g / r.pow(p - 1)).masked_fill(zero, 0)


def _vector_norm(input, p, dims, keepdim, dtype, explicit=True):
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_name(input.dtype)}")
    if dtype is not None:
        input = input.to(dtype)
    if (p < 0 or p == np.inf) and input._data.size == 0:   # max/min/1/x have no identity
        if not explicit:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {float(p):g} norm on an "
                               f"empty tensor because the operation does not have an identity")
        for d in dims:
            if input._data.shape[d] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {float(p):g} norm on "
                                   f"the dimension {d}because this dimension is empty and the "
                                   f"operation does not have an identity")
    return VectorNorm.apply(input, p=float(p), dims=dims, keepdim=keepdim)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm: a vector p-norm over dim (all dims when None); 'fro' is the 2-norm over the
    dims; 'nuc' the nuclear norm of a matrix (sum of singular values). (A non-Tensor input
    is torch's AttributeError: torch.norm is Python code.)"""
    if not isinstance(input, Tensor):
        raise AttributeError(f"'{type(input).__name__}' object has no attribute 'layout'")
    if isinstance(dim, int):
        dim = (dim,)
    if p == "nuc":
        if not (input.dtype.is_floating_point or input.dtype.is_complex):
            raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor "
                               f"as input. Got {_name(input.dtype)}")
        if dim is None:
            if input.dim() != 2:
                raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                                   "dimensions.")
            dim = (0, 1)
        import ember
        return _out(ember.linalg.matrix_norm(input, "nuc", dim, keepdim, dtype=dtype), out)
    if p == "fro":
        if dim is not None and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                               f"{' '.join(map(str, dim))}")
        p = 2
    elif isinstance(p, str):
        raise RuntimeError(f"norm(): invalid p value {p!r}")
    dims = _dims(input, dim)
    r = _vector_norm(input, p if p is not None else 2, dims, keepdim, dtype, dim is not None)
    _expect_out(out, r.dtype)
    return _out(r, out)


# ---------------------------------------------------------------------------------------------
# sum_to_size (the engine's broadcasting undo) and Tensor methods

def sum_to_size(self, *size):
    """Sum broadcast dims away so the result has `size` (the inverse of expand)."""
    if len(size) == 1 and not isinstance(size[0], int):
        size = tuple(size[0])
    shape = self._data.shape
    lead = len(shape) - len(size)
    if lead < 0 or _pyany(s != 1 and s != n for s, n in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and shape[lead + i] != 1)
    if not dims:
        return self
    r = Sum.apply(self, dims=dims, keepdim=True, npd=None)
    return r.reshape(size) if lead else r


def _method(fn):
    def m(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    m.__name__ = fn.__name__
    m.__doc__ = fn.__doc__
    return m


Tensor.sum, Tensor.mean, Tensor.sum_to_size = sum, mean, sum_to_size
for _f in (prod, nansum, nanmean, std, var, amax, amin, aminmax, argmax, argmin, all, any,
           count_nonzero, norm, max, min):
    setattr(Tensor, _f.__name__, _f)
if not hasattr(Tensor, "maximum"):
    Tensor.maximum, Tensor.minimum = maximum, minimum
