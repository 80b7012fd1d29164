"""Tensor manipulation: joining (cat, stack, *stack), splitting (split, chunk, tensor_split),
reordering (flip, roll, rot90), triangles and diagonals (tril, triu, diag, diag_embed, diagflat,
trace), repetition (repeat, tile, repeat_interleave), broadcasting helpers, atleast_*d, meshgrid,
structured matrices (block_diag, cartesian_prod, combinations, vander), scatters into views
(diagonal_scatter, select_scatter, slice_scatter, fill_diagonal_), ravel and the is_* predicates.

Joins and reorderings copy; splits, broadcast_to/broadcast_tensors, atleast_*d and meshgrid give
views, as in torch; ravel is a view of a contiguous input.
"""
import itertools
import math
import operator

import numpy as np

from ember import _dtype
from ember._ops._helpers import check_inplace, in_opmath, inplace, to_dtype, write, write_out
from ember._ops.indexing import Index, IndexFill0, IndexPutAccumulate
from ember._ops.shape import (_basic_view, _diagonal_view, _is_dense, _overlaps, _select_key,
                              contiguous, diagonal, expand, reshape, view)
from ember._tensor import _root
from ember._tensor import Size, Tensor, _int_tuple, _wrap_dim
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack",
           "column_stack", "split", "chunk", "tensor_split", "hsplit", "vsplit", "dsplit",
           "flip", "fliplr", "flipud", "roll", "rot90", "tril", "triu", "diag", "diag_embed",
           "diagflat", "trace", "tile", "repeat_interleave", "broadcast_to",
           "broadcast_tensors", "broadcast_shapes", "atleast_1d", "atleast_2d", "atleast_3d",
           "meshgrid", "ravel", "block_diag", "cartesian_prod", "combinations", "vander",
           "diagonal_scatter", "select_scatter", "slice_scatter", "is_nonzero", "is_same_size",
           "is_signed", "split_with_sizes", "unsafe_split", "unsafe_chunk",
           "unsafe_split_with_sizes", "as_strided_scatter"]


def _int_arg(x, fn, name, pos):
    """torch's TypeError for a float (or other non-int) where an int argument goes."""
    if type(x) is not int and (isinstance(x, bool) or not isinstance(x, (int, np.integer))):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be int, not "
                        f"{type(x).__name__}")
    return x


def _tensor_list(tensors, fn):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fn}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return tensors


def _promoted(tensors):
    """torch's common dtype of a list of tensors (cat and stack ignore the 0-d category)."""
    dt = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype is not dt:
            dt = _dtype.promote_types(dt, t.dtype)
    return dt


# ---------------------------------------------------------------------------------------------
# Joining

class Cat(ArrayFunction):
    """Concatenate along dim; backward hands each input its slice of the gradient."""

    def forward(ctx, *arrays, dim, npd, skip):
        ctx.dim, ctx.skip = dim, skip
        ctx.sizes = [a.shape[dim] if not s else 0 for a, s in zip(arrays, skip)]
        kept = [a for a, s in zip(arrays, skip) if not s]
        return np.concatenate(kept, axis=dim, dtype=npd, casting="unsafe")

    def backward(ctx, grad):
        out, start = [], 0
        for n, s in zip(ctx.sizes, ctx.skip):
            if s:   # a legacy 1-D empty input took no part: its gradient is empty
                out.append(Tensor._make(np.zeros((0,), grad._data.dtype)))
                continue
            out.append(grad.narrow(ctx.dim, start, n))
            start += n
        return tuple(out)


def cat(tensors, dim=0, *, out=None):
    """Concatenate along an existing dim. Dtypes promote; 1-D empty tensors of shape (0,) are
    skipped whatever the others' shapes (torch's legacy rule); 0-d tensors are rejected."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    _cat_out_check(tensors, out)
    skip = [t._data.shape == (0,) for t in tensors]
    ref = next((t for t, s in zip(tensors, skip) if not s), None)
    if ref is None:   # everything is legacy-empty
        ref, skip = tensors[0], [False] * len(tensors)
    nd = ref._data.ndim
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               f"concatenated")
    d = _wrap_dim(dim, nd)
    for i, (t, s) in enumerate(zip(tensors, skip)):
        if s:
            continue
        sh = t._data.shape
        if len(sh) != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and "
                               f"{len(sh)}")
        for k in range(nd):
            if k != d and sh[k] != ref._data.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref._data.shape[k]} but got size {sh[k]} "
                                   f"for tensor number {i} in the list.")
    dt = _promoted(tensors)
    if out is not None and any(np.shares_memory(out._data, t._data) for t in tensors):
        raise RuntimeError("unsupported operation: some elements of the input tensor and the "
                           "written-to tensor refer to a single memory location. Please clone() "
                           "the tensor before performing the operation.")
    r = Cat.apply(*tensors, dim=d, npd=dt.np, skip=skip)
    return r if out is None else write_out(out, r)


def _cat_out_check(tensors, out):
    """cat's (and stack's, which torch runs as a cat) check that the inputs cast into out=."""
    if out is not None and not _dtype.can_cast(_promoted(tensors), out.dtype):
        raise TypeError(f"torch.cat(): input types can't be cast to the desired output type "
                        f"{out.dtype._legacy}")


def concat(tensors, dim=0, *, out=None):
    return cat(tensors, dim, out=out)


def concatenate(tensors, axis=0, out=None):
    return cat(tensors, axis, out=out)


class Stack(ArrayFunction):
    def forward(ctx, *arrays, dim, npd):
        ctx.dim = dim
        return np.stack([a.astype(npd, copy=False) for a in arrays], axis=dim)

    def backward(ctx, grad):
        return grad.unbind(ctx.dim)


def stack(tensors, dim=0, *, out=None):
    """Join along a new dim; every tensor must have the same shape (dtypes promote)."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    sh = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != sh:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(sh)} at entry 0 and {list(t._data.shape)} at entry {i}")
    d = _wrap_dim(dim, len(sh) + 1)
    _cat_out_check(tensors, out)
    r = Stack.apply(*tensors, dim=d, npd=_promoted(tensors).np)
    return r if out is None else write_out(out, r)


def hstack(tensors, *, out=None):
    """cat along dim 1, or dim 0 when the (at least 1-D) inputs are all 1-D."""
    ts = atleast_1d(*_tensor_list(tensors, "hstack"))
    ts = (ts,) if isinstance(ts, Tensor) else ts
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    ts = atleast_2d(*_tensor_list(tensors, "vstack"))
    return cat((ts,) if isinstance(ts, Tensor) else ts, 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    ts = atleast_3d(*_tensor_list(tensors, "dstack"))
    return cat((ts,) if isinstance(ts, Tensor) else ts, 2, out=out)


def column_stack(tensors, *, out=None):
    """0-d and 1-D inputs become columns (n, 1); then cat along dim 1."""
    ts = [t.reshape(t._data.size, 1) if t._data.ndim <= 1 else t
          for t in _tensor_list(tensors, "column_stack")]
    return cat(ts, 1, out=out)


# ---------------------------------------------------------------------------------------------
# Splitting (views)

def _slices(input, d, bounds, name):
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        key = (slice(None),) * d + (slice(a, b),)
        out.append(_basic_view(input, lambda x, key=key: x[key], name))
    return tuple(out)


def split(tensor, split_size_or_sections, dim=0):
    """Views of `split_size` along dim (the last may be smaller), or of the given sizes."""
    a = tensor._data
    if a.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, a.ndim)
    n = a.shape[d]
    s = split_size_or_sections
    if isinstance(s, Tensor):
        s = s.tolist()
    if isinstance(s, (list, tuple)):
        sizes = list(_int_tuple((s,), "split_with_sizes", "split_sizes", 2))
        if any(v < 0 for v in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
        bounds = [0] + list(np.cumsum(sizes, dtype=np.int64).tolist())
        return _slices(tensor, d, bounds, "SplitWithSizesBackward0")
    if type(s) is not int and (isinstance(s, bool) or not isinstance(s, (int, np.integer))):
        raise TypeError(f"split_with_sizes(): argument 'split_sizes' (position 2) must be tuple "
                        f"of ints, not {type(s).__name__}")
    s = int(s)
    if s < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
    if s == 0:
        if n != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        return _slices(tensor, d, [0, 0], "SplitBackward0")
    bounds = list(range(0, n, s)) + [n] if n else [0, 0]
    return _slices(tensor, d, bounds, "SplitBackward0")


def chunk(input, chunks, dim=0):
    """`chunks` views of ceil(n / chunks) along dim (possibly fewer chunks than asked)."""
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)):
        raise TypeError(f"chunk(): argument 'chunks' (position 1) must be int, not "
                        f"{type(chunks).__name__}")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input._data.shape[_wrap_dim(dim, input._data.ndim)]
    if n == 0:
        return split(input, [0] * chunks, dim)
    return split(input, -(-n // chunks), dim)


def tensor_split(input, indices_or_sections, dim=0):
    """Views split into `sections` nearly equal parts (the first n % sections one longer), or
    at the given indices (like Python slices: clamped, possibly empty)."""
    a = input._data
    if a.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = _wrap_dim(dim, a.ndim)
    n = a.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios._data.dtype.kind not in "iu":
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have "
                               f"integer dtype, but got {ios.dtype}")
        if ios._data.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {ios._data.ndim} dims")
        ios = int(ios._data) if ios._data.ndim == 0 else ios._data.tolist()
    if isinstance(ios, (list, tuple)) or not isinstance(ios, (int, np.integer)) or isinstance(
            ios, bool):
        if not isinstance(ios, (list, tuple)) or not all(
                isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in ios):
            raise TypeError(f"tensor_split() received an invalid combination of arguments - got "
                            f"({type(ios).__name__}), but expected one of: (int sections), "
                            f"(tuple of ints indices) or (Tensor tensor_indices_or_sections)")
        idx = [min(max(int(i) + n if int(i) < 0 else int(i), 0), n) for i in ios]
        starts = [0] + idx
        stops = idx + [n]
        out = []
        for s0, s1 in zip(starts, stops):
            key = (slice(None),) * d + (slice(s0, max(s0, s1)),)
            out.append(_basic_view(input, lambda x, key=key: x[key], "SliceBackward0"))
        return tuple(out)
    k = int(ios)
    if k <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {k}")
    q, r = divmod(n, k)
    sizes = [q + 1] * r + [q] * (k - r)
    bounds = [0] + np.cumsum(sizes, dtype=np.int64).tolist()
    return _slices(input, d, bounds, "SliceBackward0")


def _dim_split(input, ios, dim, name, need):
    if input._data.ndim < need:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {need} dimension, "
                           f"but got a tensor with {input._data.ndim} dimensions!")
    if isinstance(ios, int) and input._data.shape[dim] % ios:
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                           f"size of the dimension {input._data.shape[dim]} is not divisible "
                           f"by the split_size {ios}!")
    return tensor_split(input, ios, dim)


def hsplit(input, indices_or_sections):
    return _dim_split(input, indices_or_sections, 1 if input._data.ndim > 1 else 0, "hsplit", 1)


def vsplit(input, indices_or_sections):
    return _dim_split(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input, indices_or_sections):
    return _dim_split(input, indices_or_sections, 2, "dsplit", 3)


def _int_sizes(sizes, fn, pos):
    if not isinstance(sizes, (list, tuple, Size)):
        raise TypeError(f"{fn}(): argument 'split_sizes' (position {pos}) must be tuple of ints, "
                        f"not {type(sizes).__name__}")
    return [operator.index(v) for v in sizes]


def split_with_sizes(input, split_sizes, dim=0):
    """Views of the given sizes along dim (they must add up to its length)."""
    return split(input, _int_sizes(split_sizes, "split_with_sizes", 2), dim)


def _split_int(input, split_size, dim=0):
    """split() with an int size only (split_copy's and unsafe_split's signature)."""
    if isinstance(split_size, bool) or not isinstance(split_size, (int, np.integer)):
        raise TypeError(f"split(): argument 'split_size' (position 2) must be int, not "
                        f"{type(split_size).__name__}")
    return split(input, split_size, dim)


class UnsafeSplit(ArrayFunction):
    """Pieces along dim that share input's memory without being tracked as its views (own
    version counters, no _base): torch's unsafe_split family. Backward concatenates."""

    def forward(ctx, a, *, bounds, dim, name):
        ctx.dim, ctx._name = dim, name
        return tuple(a[(slice(None),) * dim + (slice(lo, hi),)]
                     for lo, hi in zip(bounds[:-1], bounds[1:]))

    def backward(ctx, *grads):
        return cat(grads, ctx.dim)

    def name(self):
        return self._name


def _unsafe(input, parts, dim, name):
    d = _wrap_dim(dim, input._data.ndim)
    bounds = [0]
    for p in parts:
        bounds.append(bounds[-1] + p._data.shape[d])
    return UnsafeSplit.apply(input, bounds=bounds, dim=d, name=name)


def unsafe_split(input, split_size, dim=0):
    """split() whose pieces are not tracked as views (in-place writes to them are not
    checked against the input's other uses)."""
    if isinstance(split_size, bool) or not isinstance(split_size, (int, np.integer)):
        raise TypeError(f"unsafe_split(): argument 'split_size' (position 2) must be int, not "
                        f"{type(split_size).__name__}")
    return _unsafe(input, split(input.detach(), split_size, dim), dim, "UnsafeSplitBackward0")


def unsafe_chunk(input, chunks, dim=0):
    return _unsafe(input, chunk(input.detach(), chunks, dim), dim, "UnsafeSplitBackward0")


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    sizes = _int_sizes(split_sizes, "unsafe_split_with_sizes", 2)
    return _unsafe(input, split(input.detach(), sizes, dim), dim,
                   "UnsafeSplitWithSizesBackward0")


# ---------------------------------------------------------------------------------------------
# Reordering (copies)

def _dims_list(dims, ndim, fn):
    if isinstance(dims, int):
        raise TypeError(f"{fn}(): argument 'dims' (position 2) must be tuple of ints, not int")
    ds = [_wrap_dim(d, ndim) for d in dims]
    for d in ds:
        if ds.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return tuple(ds)


class Flip(ArrayFunction):
    def forward(ctx, a, *, dims):
        ctx.dims = dims
        # order="K" keeps the input's layout, as torch's flip does
        return np.array(np.flip(a, dims), order="K", copy=True)

    def backward(ctx, grad):
        return Flip.apply(grad, dims=ctx.dims)


def flip(input, dims):
    """Reverse the order along each of dims (a copy, unlike NumPy's view)."""
    ds = _dims_list(dims, input._data.ndim, "flip")
    if not ds or input._data.ndim == 0:   # (a 0-d tensor's dim 0 / -1 is itself)
        return Flip.apply(input, dims=())
    return Flip.apply(input, dims=ds)


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class Roll(ArrayFunction):
    def forward(ctx, a, *, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        if dims is None:
            return np.roll(a.reshape(-1), shifts).reshape(a.shape)
        return np.ascontiguousarray(np.roll(a, shifts, dims))

    def backward(ctx, grad):
        return Roll.apply(grad, shifts=tuple(-s for s in ctx.shifts) if ctx.dims is not None
                          else -ctx.shifts, dims=ctx.dims)


def roll(input, shifts, dims=None):
    """Shift elements cyclically; with dims=None the flattened tensor is rolled."""
    a = input._data
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               f"dims:0")
        return Roll.apply(input, shifts=shifts[0], dims=None)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    return Roll.apply(input, shifts=shifts, dims=tuple(_wrap_dim(d, a.ndim) for d in dims))


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times, from the first towards the second of dims."""
    dims = list(dims)
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = _wrap_dim(dims[0], nd), _wrap_dim(dims[1], nd)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    return Rot90.apply(input, k=k % 4, dims=(d0, d1))


class Rot90(ArrayFunction):
    """rot90 as one node (Rot90Backward0), as torch. The result is a flipped copy, transposed
    for odd k, so that its strides are torch's (a transposed, non-contiguous result); the
    gradient rotates back."""

    def forward(ctx, a, *, k, dims):
        ctx.k, ctx.dims = k, dims
        d0, d1 = dims
        if k % 2 == 0:
            return np.flip(a, dims).copy() if k else a.copy()
        return np.flip(a, d1 if k == 1 else d0).copy().swapaxes(d0, d1)

    def backward(ctx, grad):
        return Rot90.apply(grad, k=-ctx.k % 4, dims=ctx.dims)


# ---------------------------------------------------------------------------------------------
# Triangles and diagonals

class Tril(ArrayFunction):
    def forward(ctx, a, *, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        return (np.triu if upper else np.tril)(a, diagonal)

    def backward(ctx, grad):
        return Tril.apply(grad, diagonal=ctx.diagonal, upper=ctx.upper)

    def name(self):
        return "TriuBackward0" if self.upper else "TrilBackward0"


def _tri(input, diagonal, upper):
    if input._data.ndim < 2:
        raise RuntimeError(f"{'triu' if upper else 'tril'}: input tensor must have at least 2 "
                           f"dimensions")
    return Tril.apply(input, diagonal=int(diagonal), upper=upper)


def tril(input, diagonal=0, *, out=None):
    """The lower triangle of the last two dims (elements with col - row <= diagonal)."""
    _int_arg(diagonal, "tril", "diagonal", 1)
    r = _tri(input, diagonal, False)
    return r if out is None else write_out(out, r, exact=True)


def triu(input, diagonal=0, *, out=None):
    """The upper triangle of the last two dims (elements with col - row >= diagonal)."""
    _int_arg(diagonal, "triu", "diagonal", 1)
    r = _tri(input, diagonal, True)
    return r if out is None else write_out(out, r, exact=True)


class DiagScatter(ArrayFunction):
    """zeros(shape) with its (offset, d1, d2) diagonal set to the input; backward reads it."""

    def forward(ctx, a, *, shape, offset, d1, d2):
        ctx.offset, ctx.d1, ctx.d2 = offset, d1, d2
        z = np.zeros(shape, a.dtype)
        _diagonal_view(z, offset, d1, d2)[...] = a
        return z

    def backward(ctx, grad):
        return diagonal(grad, ctx.offset, ctx.d1, ctx.d2)

    def name(self):
        return "DiagEmbedBackward0"   # diag, diag_embed and diagflat all record torch's diag_embed


class DiagonalCopy(ArrayFunction):
    """A fresh contiguous copy of a matrix's `offset`-th diagonal (torch's diagonal_copy, one
    node); backward puts the gradient on that diagonal of zeros."""

    def forward(ctx, a, *, offset):
        ctx.shape, ctx.offset = a.shape, offset
        return np.diagonal(a, offset).copy()

    def backward(ctx, grad):
        return DiagScatter.apply(grad, shape=ctx.shape, offset=ctx.offset, d1=0, d2=1)

    def name(self):
        return "DiagonalBackward0_copy"


def diag(input, diagonal=0, *, out=None):
    """1-D input: a square matrix with it on the `diagonal`-th diagonal. 2-D input: a copy of
    that diagonal."""
    a = input._data
    if a.ndim == 1:
        n = a.shape[0] + abs(diagonal)
        r = DiagScatter.apply(input, shape=(n, n), offset=diagonal, d1=0, d2=1)
    elif a.ndim == 2:
        r = DiagonalCopy.apply(input, offset=diagonal)
    else:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {a.ndim}D")
    if out is None:
        return r
    if a.ndim == 1 and not _dtype.can_cast(r.dtype, out.dtype):
        raise RuntimeError(f"diag: result type {r.dtype._legacy} can't be cast to the desired "
                           f"out= type {out.dtype._legacy}")
    # (torch's out= kernels: diag_embed for a vector, diagonal_copy for a matrix)
    return write_out(out, r, exact=True,
                     grad="aten::diag_embed" if a.ndim == 1 else "aten::diagonal_copy")


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Put the last dim of input on the (offset, dim1, dim2) diagonal of a new tensor with one
    more dim, zeros elsewhere."""
    a = input._data
    nd = a.ndim + 1
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (a.shape[-1] if a.ndim else 1) + abs(offset)
    shape = list(a.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    return DiagScatter.apply(input, shape=tuple(shape), offset=offset, d1=d1, d2=d2)


def diagflat(input, offset=0):
    """The flattened input on the `offset`-th diagonal of a square matrix."""
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)):
        raise TypeError(f"diagflat(): argument 'offset' (position 2) must be int, not "
                        f"{type(offset).__name__}")
    flat = reshape(input, -1)
    n = flat._data.shape[0] + abs(offset)
    return DiagScatter.apply(flat, shape=(n, n), offset=offset, d1=0, d2=1)


class Trace(ArrayFunction):
    def forward(ctx, a, *, npd):
        ctx.shape = a.shape
        return in_opmath(lambda x: np.asarray(np.trace(x, dtype=npd)), a)   # (half: float32)

    def backward(ctx, grad):
        k = min(ctx.shape)
        return DiagScatter.apply(grad.expand(k), shape=ctx.shape, offset=0, d1=0, d2=1)


def trace(input):
    """Sum of the main diagonal of a matrix (integer inputs sum to int64)."""
    a = input._data
    if a.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {a.ndim}")
    if a.dtype == np.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return Trace.apply(input, npd=np.int64 if a.dtype.kind in "iu" else None)


# ---------------------------------------------------------------------------------------------
# Repetition

class Repeat(ArrayFunction):
    """np.tile; backward folds each repeated dim into (repeats, size) and sums the repeats."""

    def forward(ctx, a, *, reps):
        ctx.in_shape, ctx.reps = a.shape, reps
        return np.tile(a, reps)

    def backward(ctx, grad):
        reps = ctx.reps
        shape = (1,) * (len(reps) - len(ctx.in_shape)) + tuple(ctx.in_shape)
        folded = []
        for r, s in zip(reps, shape):
            folded += [r, s]
        g = grad.reshape(folded).sum(tuple(range(0, 2 * len(reps), 2)))
        return g.reshape(ctx.in_shape)


def repeat(self, *sizes):
    """Tile the tensor `sizes[i]` times along each dim (sizes may add leading dims)."""
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    sizes = _int_tuple(sizes, "repeat", "repeats")
    a = self._data
    if len(sizes) < a.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    if any(s < 0 for s in sizes):
        shape = (1,) * (len(sizes) - a.ndim) + a.shape
        out = [r * s for r, s in zip(sizes, shape)]
        bad = next(v for v in out if v < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {out}")
    return Repeat.apply(self, reps=sizes)


def tile(input, dims):
    """repeat() with dims padded by leading ones when shorter than the tensor's dims."""
    if isinstance(dims, (int, np.integer)):
        raise TypeError("tile(): argument 'dims' (position 2) must be tuple of ints, not int")
    dims = tuple(dims)
    nd = input._data.ndim
    if len(dims) < nd:
        dims = (1,) * (nd - len(dims)) + dims
    return repeat(input, dims)


class RepeatInterleave(ArrayFunction):
    """np.repeat along dim; backward sums each element's copies (np.add.reduceat)."""

    def forward(ctx, a, *, reps, dim):
        ctx.dim, ctx.reps, ctx.in_shape = dim, reps, a.shape
        return np.repeat(a, reps, axis=dim)

    def backward(ctx, grad):
        return RepeatInterleaveBackward.apply(grad, reps=ctx.reps, dim=ctx.dim,
                                              shape=ctx.in_shape)


class RepeatInterleaveBackward(ArrayFunction):
    def forward(ctx, g, *, reps, dim, shape):
        ctx.reps, ctx.dim = reps, dim
        owner = np.repeat(np.arange(shape[dim]), reps)   # which input element each copy is of
        out = np.zeros(shape, g.dtype)
        idx = [slice(None)] * g.ndim
        idx[dim] = owner
        np.add.at(out, tuple(idx), g)
        return out

    def backward(ctx, grad):
        return RepeatInterleave.apply(grad, reps=ctx.reps, dim=ctx.dim)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element `repeats` times along dim (flattened when dim is None). With only a
    tensor of counts, returns the indices 0..n-1 each repeated its count times."""
    if repeats is None:   # torch.repeat_interleave(counts)
        r = input._data
        if r.ndim > 1 or r.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if (r < 0).any():
            raise RuntimeError("repeats can not be negative")
        return Tensor._make(np.repeat(np.arange(r.shape[0] if r.ndim else 1, dtype=r.dtype),
                                      r.reshape(-1)))
    if dim is None:
        input = reshape(input, -1)
        d = 0
    else:
        d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if input._data.ndim == 0:
        input = reshape(input, 1)
    if isinstance(repeats, Tensor):
        r = repeats._data
        if r.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if r.dtype.kind not in "iu":
            raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for "
                                      f"'{repeats.dtype._legacy}'")
        r = r.reshape(-1).astype(np.int64)
        if r.size == 1:
            r = np.full(n, r[0], np.int64)
        elif r.size != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {r.size} and input.size({d}) = {n}")
        if (r < 0).any():
            raise RuntimeError("repeats can not be negative")
    else:
        _int_arg(repeats, "repeat_interleave", "repeats", 1)
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        r = np.full(n, int(repeats), np.int64)
    return RepeatInterleave.apply(input, reps=r, dim=d)


# ---------------------------------------------------------------------------------------------
# Broadcasting helpers

def broadcast_shapes(*shapes):
    """The shape all `shapes` broadcast to (ints count as 1-D shapes)."""
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    nd = max((len(s) for s in shapes), default=0)
    out = [1] * nd
    for i, s in enumerate(shapes):
        for k, v in enumerate(s):
            j = nd - len(s) + k
            if v < 0:
                raise ValueError("Attempting to broadcast a dimension with negative length!")
            if v != 1 and out[j] != 1 and out[j] != v:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {v} at "
                                   f"{j - nd}! Mismatching argument at index {i} had {s}; but "
                                   f"expected shape should be broadcastable to {out}")
            if v != 1:
                out[j] = v
    return Size(out)


def broadcast_to(input, size):
    """A view of input expanded to `size` (-1 keeps a dim)."""
    return expand(input, *tuple(size))


def broadcast_tensors(*tensors):
    """Views of all tensors expanded to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shapes = [t._data.shape for t in tensors]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        # torch names the first pair that disagrees
        acc = shapes[0]
        for s in shapes[1:]:
            nd = max(len(acc), len(s))
            pa, ps = (1,) * (nd - len(acc)) + tuple(acc), (1,) * (nd - len(s)) + tuple(s)
            for k in range(nd - 1, -1, -1):
                if pa[k] != ps[k] and pa[k] != 1 and ps[k] != 1:
                    raise RuntimeError(f"The size of tensor a ({pa[k]}) must match the size of "
                                       f"tensor b ({ps[k]}) at non-singleton dimension "
                                       f"{k}") from None
            acc = np.broadcast_shapes(acc, s)
        raise
    return tuple(t if t._data.shape == shape else expand(t, *shape) for t in tensors)


# ---------------------------------------------------------------------------------------------
# atleast_*d and meshgrid (views)

def _atleast(tensors, fn):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(fn(t) for t in tensors[0])
    if len(tensors) == 1:
        return fn(tensors[0])
    return tuple(fn(t) for t in tensors)


def _check_tensor(t, fn):
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}() received an invalid combination of arguments - got "
                        f"({type(t).__name__}), but expected one of: (Tensor input) or (tuple "
                        f"of Tensors tensors)")
    return t


def _at1(t):
    return reshape(t, 1) if t._data.ndim == 0 else t


def _at2(t):
    nd = t._data.ndim
    return reshape(t, 1, 1) if nd == 0 else t.unsqueeze(0) if nd == 1 else t


def _at3(t):
    nd = t._data.ndim
    if nd == 0:
        return reshape(t, 1, 1, 1)
    if nd == 1:
        return t.unsqueeze(0).unsqueeze(-1)
    if nd == 2:
        return t.unsqueeze(-1)
    return t


def atleast_1d(*tensors):
    """Each tensor viewed with at least 1 dim (one tensor in, one out; several: a tuple)."""
    return _atleast(tensors, lambda t: _at1(_check_tensor(t, "atleast_1d")))


def atleast_2d(*tensors):
    """0-d -> (1, 1); 1-D (n) -> (1, n)."""
    return _atleast(tensors, lambda t: _at2(_check_tensor(t, "atleast_2d")))


def atleast_3d(*tensors):
    """0-d -> (1, 1, 1); 1-D (n) -> (1, n, 1); 2-D (m, n) -> (m, n, 1)."""
    return _atleast(tensors, lambda t: _at3(_check_tensor(t, "atleast_3d")))


def meshgrid(*tensors, indexing=None):
    """Coordinate grids (expanded views) from 0-D/1-D tensors; indexing 'ij' (the default, with
    torch's warning when not given) or 'xy' (the first two dims swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        import warnings
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
    dt = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype is not dt:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    sizes = [t._data.size for t in tensors]
    swap = indexing == "xy" and len(tensors) >= 2
    order = list(range(len(tensors)))
    if swap:
        order[0], order[1] = 1, 0
    grid_shape = [sizes[i] for i in order]
    out = []
    for i, t in enumerate(tensors):
        pos = order.index(i)
        view_shape = [1] * len(tensors)
        view_shape[pos] = sizes[i]
        out.append(expand(reshape(t, *view_shape), *grid_shape))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# ravel

def _tensor_arg(x, fn, name, pos):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def ravel(input):
    """The elements as 1-D: a view of a contiguous input, else a contiguous copy (torch's
    contiguous().view(-1), so a strided 1-D input is copied too)."""
    _tensor_arg(input, "ravel", "input", 1)
    return view(contiguous(input), -1)


# ---------------------------------------------------------------------------------------------
# Structured matrices: block_diag, cartesian_prod, combinations, vander

def _tensor_args(tensors):
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return tensors


class BlockDiag(ArrayFunction):
    """Blocks on the diagonal of a zero matrix (0-d -> 1x1, 1-D (n) -> 1xn); backward hands
    each input its block of the gradient. Inputs arrive already cast to one dtype."""

    def forward(ctx, *arrays):
        ctx.shapes = [a.shape for a in arrays]
        blocks = [a.reshape(1, -1) if a.ndim < 2 else a for a in arrays]
        ctx.corners = []
        out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)),
                       arrays[0].dtype)
        r = c = 0
        for b in blocks:
            h, w = b.shape
            out[r:r + h, c:c + w] = b
            ctx.corners.append((r, c, h, w))
            r, c = r + h, c + w
        return out

    def backward(ctx, grad):
        return tuple(grad.narrow(0, r, h).narrow(1, c, w).reshape(shape) if need else None
                     for (r, c, h, w), shape, need in zip(ctx.corners, ctx.shapes,
                                                          ctx.needs_input_grad))


def block_diag(*tensors):
    """A block-diagonal matrix of the inputs (each at most 2-D; 0-d is 1x1, 1-D (n) is 1xn),
    in their result_type (so a 0-d input promotes like a scalar: int8 with a 0-d uint8 stays
    int8). No inputs give an empty (1, 0) matrix."""
    _tensor_args(tensors)
    if not tensors:
        return Tensor._make(np.empty((1, 0), _dtype.get_default_dtype().np))
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t._data.ndim} dimensions")
    dt = _dtype.result_type_of(tensors)
    return BlockDiag.apply(*[to_dtype(t, dt) for t in tensors])


def _check_1d(t):
    if t._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")


def cartesian_prod(*tensors):
    """All tuples (a, b, ...) of elements of the 1-D inputs, as rows of an (n_a * n_b * ..., k)
    matrix in lexicographic order. One input is returned as it is; dtypes must agree."""
    for t in _tensor_args(tensors):
        _check_1d(t)
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    """The r-length combinations of the elements of a 1-D tensor (itertools' order), as rows
    of a (count, r) matrix; r == 0 gives an empty 1-D tensor. Gradients add up per element."""
    _tensor_arg(input, "combinations", "input", 1)
    _check_1d(input)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._make(np.empty((0,), input._data.dtype))
    n = input._data.shape[0]
    if with_replacement:
        count, pick = math.comb(n + r - 1, r), itertools.combinations_with_replacement
    else:
        count, pick = math.comb(n, r), itertools.combinations
    idx = np.fromiter(itertools.chain.from_iterable(pick(range(n), r)), np.int64,
                      count=count * r).reshape(count, r)
    return Index.apply(input, key=(idx,))


class Vander(ArrayFunction):
    """Columns x^0, x^1, ... (by a running product, as torch computes them), reversed unless
    increasing. d/dx x^k = k x^(k-1), read from the saved output's previous column."""

    def forward(ctx, x, *, n, increasing, npd):
        ctx.increasing = increasing
        acc = np.float32 if npd in (np.float16, _dtype.bfloat16.np) else npd
        out = np.empty((x.shape[0], n), acc)
        out[:, 0] = 1
        out[:, 1:] = x[:, None]
        np.multiply.accumulate(out[:, 1:], axis=1, out=out[:, 1:])
        out = out.astype(npd, copy=False)
        if not increasing:
            out = np.ascontiguousarray(out[:, ::-1])
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (v,) = ctx.saved_tensors
        if not ctx.increasing:
            v, grad = v.flip((1,)), grad.flip((1,))
        k = Tensor._make(np.arange(1, v._data.shape[1]).astype(v._data.dtype))
        return (grad[:, 1:] * (v[:, :-1] * k).conj()).sum(1)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D x with N columns (default len(x)): x^(N-1) ... x^0, or
    x^0 ... x^(N-1) when increasing. Integer and bool inputs give int64 (wrapping on overflow).
    With N <= 1 the result is constant (ones) and carries no gradient, as in torch."""
    _tensor_arg(x, "vander", "x", 1)
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x._data.shape[0] if N is None else operator.index(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dt = _dtype.promote_types(x.dtype, _dtype.int64)
    if n <= 1:
        return Tensor._make(np.ones((x._data.shape[0], n), dt.np))
    return Vander.apply(x, n=n, increasing=bool(increasing), npd=dt.np)


# ---------------------------------------------------------------------------------------------
# Scatters into views: a copy of input with one view of it (a diagonal, a select, a slice)
# overwritten by src

def _clone_preserve_strides(a):
    """A copy with a's strides (torch's *_scatter outputs keep them, gaps included); inputs
    whose elements overlap (expanded) or run backwards get a contiguous copy."""
    if _is_dense(a):
        return np.array(a, order="K", copy=True)
    item = a.itemsize
    strides = [s // item for s in a.strides]
    if a.size == 0 or min(strides, default=0) < 0 or _overlaps(a.shape, strides):
        return np.array(a, order="C", copy=True)
    extent = 1 + sum((n - 1) * s for n, s in zip(a.shape, strides))
    out = np.lib.stride_tricks.as_strided(np.zeros(extent, a.dtype), a.shape, a.strides)
    out[...] = a
    return out


class ScatterInto(ArrayFunction):
    """out = input (copied) with the view fn(out) set to src, cast to input's dtype. Backward:
    input gets the gradient with that view zeroed, src gets the view of the gradient."""

    def forward(ctx, a, s, *, fn, name):
        ctx.fn, ctx._name, ctx.src_shape = fn, name, s.shape
        out = _clone_preserve_strides(a)
        np.copyto(fn(out), s, casting="unsafe")
        return out

    def backward(ctx, grad):
        gi = gs = None
        if ctx.needs_input_grad[0]:
            zero = Tensor._make(np.zeros(ctx.src_shape, grad._data.dtype))
            gi = ScatterInto.apply(grad, zero, fn=ctx.fn, name=ctx._name)
        if ctx.needs_input_grad[1]:
            gs = _basic_view(grad, ctx.fn, ctx._name)
        return gi, gs

    def name(self):
        return self._name


def _scatter(input, src, fn, op):
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}(): argument 'src' (position 2) must be Tensor, not "
                        f"{type(src).__name__}")
    slice_shape = fn(input._data).shape
    if slice_shape != src._data.shape:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src._data.shape)}, slice size = {list(slice_shape)}")
    if (_grad_state.enabled and src._requires_grad and input._data.dtype.kind not in "fc"
            and input.dtype is not _dtype.bfloat16):
        raise RuntimeError(f"Autograd not support dtype: {input.dtype._legacy}")
    name = "".join(w.capitalize() for w in op.split("_")) + "Backward0"
    return ScatterInto.apply(input, src, fn=fn, name=name)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """input with its (offset, dim1, dim2) diagonal replaced by src (which has that diagonal's
    shape: the other dims, then the diagonal's length)."""
    _tensor_arg(input, "diagonal_scatter", "input", 1)
    nd = input._data.ndim
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _scatter(input, src, lambda x: _diagonal_view(x, offset, d1, d2), "diagonal_scatter")


def select_scatter(input, src, dim, index):
    """input with input.select(dim, index) replaced by src."""
    _tensor_arg(input, "select_scatter", "input", 1)
    key = _select_key(input._data, dim, index.__index__())
    return _scatter(input, src, lambda x: x[key], "select_scatter")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1, *, out=None):
    """input with input[..., start:end:step, ...] (along dim; bounds clamp as Python's do)
    replaced by src."""
    _tensor_arg(input, "slice_scatter", "input", 1)
    a = input._data
    if a.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, a.ndim)
    step = step.__index__()
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    start = None if start is None else start.__index__()
    end = None if end is None else end.__index__()
    key = (slice(None),) * d + (slice(start, end, step),)
    r = _scatter(input, src, lambda x: x[key], "slice_scatter")
    return r if out is None else write_out(out, r, exact=True, grad="aten::slice_scatter")


class AsStridedScatter(ArrayFunction):
    """out = input (copied with its strides) with the elements an as_strided view of out's
    memory reaches set from src. `key` addresses those elements in input's logical order;
    `keep` marks the src positions that land on an element (not in a gap of the layout)."""

    def forward(ctx, a, s, *, key, keep):
        ctx.key, ctx.keep, ctx.src_shape = key, keep, s.shape
        out = _clone_preserve_strides(a)
        out[key] = s[keep]   # overlapping positions: the last write wins
        return out

    def backward(ctx, grad):
        gi = IndexFill0.apply(grad, key=ctx.key) if ctx.needs_input_grad[0] else None
        gs = None
        if ctx.needs_input_grad[1]:
            picked = Index.apply(grad, key=ctx.key)
            keep = ctx.keep
            if keep.all():
                gs = picked.reshape(ctx.src_shape)
            else:
                gs = IndexPutAccumulate.apply(picked, key=np.nonzero(keep), shape=ctx.src_shape)
        return gi, gs


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A fresh copy of input (same strides) with input.as_strided(size, stride,
    storage_offset) overwritten by src; storage offsets count from input's storage start."""
    _tensor_arg(input, "as_strided_scatter", "input", 1)
    a = input._data
    size, stride = tuple(operator.index(n) for n in size), tuple(operator.index(x) for x in
                                                                 stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    base_off = input.storage_offset()
    offset = base_off if storage_offset is None else operator.index(storage_offset)
    item = a.itemsize
    storage = _root(a).nbytes
    span = 1 + sum((n - 1) * x for n, x in zip(size, stride)) if all(size) else 0
    if (offset + span) * item > storage:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{(offset + span) * item} are out of bounds for storage of size "
                           f"{storage}")
    if tuple(src._data.shape) != size:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src._data.shape)}, slice size = {list(size)}")
    # where each element of the copy lies in its memory (the copy keeps input's strides)
    out_strides = _preserved_strides(a)
    extent = 1 + sum((n - 1) * x for n, x in zip(a.shape, out_strides)) if a.size else 0
    logical = np.full(max(extent, 1), -1, np.int64)
    if a.size:
        mem = np.lib.stride_tricks.as_strided(np.arange(extent), a.shape,
                                              [x * 8 for x in out_strides])
        logical[mem.reshape(-1)] = np.arange(a.size)
    pos = offset - base_off + np.lib.stride_tricks.as_strided(
        np.arange(max(span, 1)), size, [x * 8 for x in stride]) if all(size) else \
        np.zeros(size, np.int64)
    inside = (pos >= 0) & (pos < extent)
    target = np.where(inside, logical[np.clip(pos, 0, max(extent - 1, 0))], -1)
    keep = target >= 0
    key = np.unravel_index(target[keep], a.shape)
    s = src if src._data.dtype == a.dtype else to_dtype(src, input.dtype)
    r = AsStridedScatter.apply(input, s, key=key, keep=keep)
    return r


def _preserved_strides(a):
    """Element strides of _clone_preserve_strides(a), without copying."""
    if _is_dense(a):
        return list(np.empty_like(a, dtype=np.int8, order="K").strides)
    strides = [x // a.itemsize for x in a.strides]
    if a.size == 0 or min(strides, default=0) < 0 or _overlaps(a.shape, strides):
        return [x for x in np.empty(a.shape, np.int8).strides]
    return strides


class FillDiagonal(ArrayFunction):
    """A copy with the positions `key` set to value; the gradient is zero there."""

    def forward(ctx, a, *, key, value):
        ctx.key = key
        out = np.array(a, copy=True)
        out[key] = value
        return out

    def backward(ctx, grad):
        return FillDiagonal.apply(grad, key=ctx.key, value=0)

    def name(self):
        return "FillBackward0"


_C_TYPE = {"float32": "float", "float64": "double", "float16": "c10::Half",
           "bfloat16": "c10::BFloat16", "int8": "int8_t", "int16": "int16_t", "int32": "int",
           "int64": "int64_t", "uint8": "uint8_t", "complex64": "c10::complex<float>",
           "complex128": "c10::complex<double>"}


def _fill_scalar(value, npd):
    """value converted to dtype npd with torch's overflow check for fill values: bool takes
    any value; ints and floats must fit the type's range (an unsigned type also takes
    negatives down to -max, which wrap); complex values fit a real type only when real."""
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise TypeError("fill_diagonal_(): argument 'fill_value' (position 1) must be "
                            "Number, not Tensor")
        value = value.item()
    if isinstance(value, int) and not -2 ** 63 <= value < 2 ** 64:
        raise OverflowError("int too big to convert")
    if npd.kind == "b":
        return bool(value)
    bad = RuntimeError(f"value cannot be converted to type {_C_TYPE.get(npd.name, npd.name)} "
                       f"without overflow")
    if npd.kind == "c":
        parts = (value.real, value.imag) if isinstance(value, complex) else (value,)
        top = float(np.finfo(np.float32 if npd == np.complex64 else np.float64).max)
        if any(math.isfinite(p) and not -top <= p <= top for p in parts):
            raise bad
        return value
    if isinstance(value, complex):
        if value.imag != 0:
            raise bad
        value = value.real
    if npd.kind in "iu":
        info = np.iinfo(npd)
        if isinstance(value, float):
            if not (math.isfinite(value) and info.min <= value <= info.max):
                raise bad
            return int(value)   # truncates toward zero, as a C cast does
        lowest = -int(info.max) if npd.kind == "u" else int(info.min)
        if not lowest <= value <= info.max:
            raise bad
        return value % (int(info.max) + 1) if npd.kind == "u" else value
    top = 3.3895313892515355e38 if npd.name == "bfloat16" else float(np.finfo(npd).max)
    if math.isfinite(value) and not -top <= value <= top:
        raise bad
    return value


def fill_diagonal_(self, fill_value, wrap=False):
    """Set the main diagonal (all indices equal) to fill_value, in place. Every dim must have
    the same length beyond 2-D; a tall matrix with wrap=True restarts the diagonal every
    cols + 1 rows (numpy.fill_diagonal's rule)."""
    a = self._data
    nd = a.ndim
    if nd < 2:
        raise RuntimeError("dimensions must larger than 1")
    if nd > 2 and any(s != a.shape[0] for s in a.shape):
        raise RuntimeError("all dimensions of input must be of equal length")
    value = _fill_scalar(fill_value, a.dtype)
    if nd == 2:
        rows, cols = a.shape
        if wrap and rows > cols:   # every (cols + 1)-th element of the row-major order
            flat = np.arange(0, rows * cols, cols + 1)
            key = (flat // cols, flat % cols)
        else:
            key = (np.arange(min(rows, cols)),) * 2
    else:
        key = (np.arange(a.shape[0]),) * nd
    # (torch fills the wrapped part of a tall matrix with a second write)
    extra = int(wrap and nd == 2 and a.shape[0] > a.shape[1] + 1)
    if _grad_state.enabled and self._requires_grad:
        if self.grad_fn is None:   # torch fills through a view, hence its wording
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        self._vc.value += extra
        return inplace(self, FillDiagonal.apply(self, key=key, value=value))
    check_inplace(self)
    if not a.flags.writeable:   # an expanded tensor: torch fills through its diagonal view
        from ember._ops.indexing import _writable_alias
        a = _writable_alias(a)
        if a is None:
            write(self, self._data)   # raises torch's error for overlapping memory
    a[key] = value
    self._vc.value += 1 + extra
    return self


# ---------------------------------------------------------------------------------------------
# Predicates

def is_nonzero(input):
    """Whether a one-element tensor is nonzero (NaN counts as nonzero)."""
    _tensor_arg(input, "is_nonzero", "input", 1)
    a = input._data
    if a.size == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if a.size > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(a.reshape(-1)[0] != 0)


def is_same_size(input, other):
    """Whether the two tensors have the same shape (dtypes may differ)."""
    _tensor_arg(input, "is_same_size", "input", 1)
    _tensor_arg(other, "is_same_size", "other", 2)
    return input._data.shape == other._data.shape


def is_signed(input):
    """Whether the dtype is signed: False for bool and unsigned ints, True otherwise."""
    _tensor_arg(input, "is_signed", "input", 1)
    return input.dtype.is_signed


# ---------------------------------------------------------------------------------------------
# Tensor methods

def _inplace_tri(upper):
    def method(self, diagonal=0):
        return inplace(self, _tri(self, diagonal, upper))
    method.__name__ = "triu_" if upper else "tril_"
    return method


def _varargs_method(fn):
    """The method form taking the dims as varargs too: x.flip(0, 1), x.tile(2)."""
    def method(self, *dims):
        if len(dims) == 1 and not isinstance(dims[0], (int, np.integer)):
            dims = dims[0]
        return fn(self, tuple(dims))
    method.__name__ = method.__qualname__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


Tensor.flip, Tensor.tile = _varargs_method(flip), _varargs_method(tile)
Tensor.fliplr, Tensor.flipud, Tensor.roll, Tensor.rot90 = fliplr, flipud, roll, rot90
Tensor.tril, Tensor.triu = tril, triu
Tensor.tril_, Tensor.triu_ = _inplace_tri(False), _inplace_tri(True)
Tensor.diag, Tensor.diag_embed, Tensor.diagflat, Tensor.trace = diag, diag_embed, diagflat, trace
Tensor.repeat, Tensor.repeat_interleave = repeat, repeat_interleave
Tensor.broadcast_to = broadcast_to
Tensor.split, Tensor.chunk, Tensor.tensor_split = split, chunk, tensor_split
Tensor.hsplit, Tensor.vsplit, Tensor.dsplit = hsplit, vsplit, dsplit
Tensor.ravel = ravel
Tensor.diagonal_scatter, Tensor.select_scatter = diagonal_scatter, select_scatter
Tensor.slice_scatter, Tensor.fill_diagonal_ = slice_scatter, fill_diagonal_
Tensor.is_nonzero, Tensor.is_same_size = is_nonzero, is_same_size


def _split_with_sizes_method(self, split_sizes, dim=0):
    return split(self, _int_sizes(split_sizes, "split_with_sizes", 1), dim)


def _unsafe_split_with_sizes_method(self, split_sizes, dim=0):
    return unsafe_split_with_sizes(self, _int_sizes(split_sizes, "unsafe_split_with_sizes", 1),
                                   dim)


Tensor.split_with_sizes = _split_with_sizes_method
Tensor.unsafe_split, Tensor.unsafe_chunk = unsafe_split, unsafe_chunk
Tensor.unsafe_split_with_sizes = _unsafe_split_with_sizes_method
Tensor.as_strided_scatter = as_strided_scatter
