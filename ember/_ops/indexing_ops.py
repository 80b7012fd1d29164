"""The indexing functions: gather/scatter (an index tensor addresses positions along one
dim), index_* (a 1-D index picks whole slices along a dim), masked_* and nonzero, with their
in-place variants. `x[key]` and assignment, and the nodes these share with them (Index,
IndexPut, IndexFill0), are in indexing.py.
"""
import math

import numpy as np

from ember import _dtype
from ember._ops._helpers import (add_at, check_inplace, check_no_overlap, check_out_exact, inplace,
                                 is_half, write, write_out)
from ember._ops.indexing import (Index, IndexFill0, IndexPut, _NUMBERS, _check_inplace_broadcast,
                                 _convert_key, _setitem_message, _writable_alias, scatter_at)
from ember._tensor import _C_NAMES, Tensor, _check_scalar, _wrap_dim
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
           "index_copy", "index_fill", "index_put", "put", "take", "take_along_dim",
           "masked_fill", "masked_select", "masked_scatter", "nonzero", "argwhere",
           "index_reduce", "nonzero_static"]


# ---------------------------------------------------------------------------------------------
# gather / scatter family: an index tensor addresses positions along one dim

def _index_array(index, fn, kinds="iu"):
    if not isinstance(index, Tensor):
        raise TypeError(f"{fn}(): argument 'index' must be Tensor, not {type(index).__name__}")
    a = index._data
    if a.dtype.kind not in "iu" or a.dtype.itemsize < 4:
        raise RuntimeError(f"{fn}(): Expected dtype int32/int64 for index")
    return a


def _along(idx, dim, nd):
    """The NumPy key that addresses x[i0, .., idx[i0, .., ik], .., in] for every position of
    idx (dim `dim` from idx's values, every other dim from its own position)."""
    key = []
    for k in range(nd):
        if k == dim:
            key.append(idx)
        else:
            shape = [1] * nd
            shape[k] = idx.shape[k]
            key.append(np.arange(idx.shape[k]).reshape(shape))
    return tuple(key)


def _check_along(fn, a_shape, idx, dim, src_shape=None, self_name="input"):
    """torch's checks for gather/scatter: same ndim, index no larger than self (and src)
    outside dim, values in range."""
    nd = len(a_shape)
    if idx.ndim != nd and not (nd <= 1 and idx.ndim <= 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as "
                           f"{self_name} tensor")
    for k in range(idx.ndim):
        if k != dim and idx.shape[k] > a_shape[k]:
            if src_shape is None and fn == "gather":
                raise RuntimeError(f"Size does not match at dimension {k} expected index "
                                   f"{list(idx.shape)} to be no larger than self "
                                   f"{list(a_shape)} apart from dimension {dim}")
            if src_shape is None:   # (scatter of a value)
                raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self "
                                   f"{list(a_shape)} apart from dimension {dim}")
        if src_shape is not None and (k != dim and idx.shape[k] > a_shape[k] or
                                      idx.shape[k] > src_shape[k]):
            raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self "
                               f"{list(a_shape)} apart from dimension {dim} and to be no "
                               f"larger size than src {list(src_shape)}")
    if idx.size:
        size = a_shape[dim] if nd else 1
        # one SIMD reduction: seen unsigned, a negative index is larger than any size
        if idx.view(f"u{idx.dtype.itemsize}").max() < size:
            return   # (the mask below only finds the culprit)
        bad = idx[(idx < 0) | (idx >= size)]
        if bad.size:
            raise RuntimeError(f"index {bad.flat[0]} is out of bounds for dimension {dim} with "
                               f"size {size}")


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """out[i][j] = input[i][index[i][j]] (dim=1): values along dim picked by index. index has
    input's number of dims and is no larger than input outside dim; out has index's shape."""
    a = input._data
    idx = _index_array(index, "gather")
    d = _wrap_dim(dim, max(a.ndim, 1))
    _check_along("gather", a.shape if a.ndim else (1,), idx, d)
    if a.ndim == 0:   # a 0-d input acts as a 1-element vector
        r = Index.apply(input.reshape(1), key=(idx,), name="GatherBackward0")
    else:
        r = Index.apply(input, key=_along(idx, d, a.ndim), name="GatherBackward0", along=True)
    return r if out is None else write_out(out, r, exact=True)


def _src_for(src, idx):
    """src cut to index's shape (a differentiable view), as scatter reads it."""
    if src._data.shape == idx.shape:
        return src
    return src[tuple(slice(0, n) for n in idx.shape)]


def _value_array(value, dtype):
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError("scatter(): Expected value to be a scalar")
        value = value.item()
    return np.asarray(value).astype(dtype)


def _scatter_src(src, value, a, fn="scatter"):
    """scatter's source: `src` (a tensor or a number) or `value=` (a number or a 0-d tensor),
    with torch's TypeErrors and overflow check."""
    if src is not None and value is not None:
        raise TypeError(f"{fn}() received an invalid combination of arguments - got both src "
                        f"and value")
    if src is None:
        if isinstance(value, Tensor) and value._data.ndim:
            raise TypeError(f"{fn}() received an invalid combination of arguments - got "
                            f"value=Tensor with {value._data.ndim} dimension(s), but expected "
                            f"a Number")
        src = value.item() if isinstance(value, Tensor) else value
    if not isinstance(src, Tensor):
        if not isinstance(src, _NUMBERS):
            raise TypeError(f"{fn}() received an invalid combination of arguments - got "
                            f"{type(src).__name__} for src, but expected a Tensor or a Number")
        _check_scalar(src, a.dtype)
    return src


class ScatterAccumulate(ArrayFunction):
    """out = a with `src` added (ufunc.at: repeated positions accumulate) at key; index_add's
    `alpha` scales src inside the node, as torch's IndexAddBackward0 takes it."""

    def forward(ctx, a, v, *, key, ufunc=np.add, name="ScatterAddBackward0", along=False,
                alpha=1):
        ctx.key, ctx._name, ctx.alpha = key, name, alpha
        if alpha != 1:   # (alpha in v's dtype first, as torch: NumPy's weak scalars but bf16)
            v = np.multiply(v, np.asarray(alpha).astype(v.dtype)) if is_half(v.dtype) else \
                np.asarray(v * alpha).astype(v.dtype, copy=False)
        out = np.array(a, copy=True)
        if along:   # key from _along() (scatter_add): torch's scatter accumulation
            scatter_at(ufunc, out, key, v)
        elif ufunc is np.add:
            add_at(out, key, v)
        else:
            ufunc.at(out, key, v)
        return out

    def backward(ctx, grad):
        gv = None
        if ctx.needs_input_grad[1]:
            gv = Index.apply(grad, key=ctx.key)
            gv = gv if ctx.alpha == 1 else gv * ctx.alpha
        return grad, gv

    def name(self):
        return self._name


class _NoGrad(ArrayFunction):
    """Forward only: torch has no derivative for this op (scatter with reduce=)."""

    def forward(ctx, a, v, *, fn, what):
        ctx.what = what
        return fn(a, v)

    def backward(ctx, grad):
        raise RuntimeError(f"derivative for {ctx.what} is not implemented")


def scatter(input, dim, index, src=None, *, value=None, reduce=None, out=None):
    """out = input with out[i][index[i][j]] = src[i][j] (dim=1), src a tensor or a number.
    Repeated indices: one of the writes wins (torch leaves it unspecified). reduce='add' or
    'multiply' combines instead (no gradient, as in torch)."""
    a = input._data
    src = _scatter_src(src, value, a)
    idx = _index_array(index, "scatter")
    d = _wrap_dim(dim, max(a.ndim, 1))
    is_t = isinstance(src, Tensor)
    if is_t and src._data.dtype != a.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    _check_along("scatter", a.shape if a.ndim else (1,), idx, d,
                 src._data.shape if is_t else None, "self")
    if a.ndim == 0:   # a 0-d tensor acts as a 1-element vector
        r = scatter(input.reshape(1), 0, index.reshape(-1), src.reshape(-1) if is_t else src,
                    reduce=reduce).reshape(())
        return r if out is None else write_out(out, r, exact=True)
    key = _along(idx, d, a.ndim)
    v = _src_for(src, idx) if is_t else _value_array(src, a.dtype)
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if is_t:
            import warnings
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated "
                          "and will be removed in a future PyTorch release. Use "
                          "torch.scatter_reduce instead for more reduction options.",
                          UserWarning, stacklevel=2)
        uf = np.add if reduce == "add" else np.multiply

        def fn(x, y):
            o = np.array(x, copy=True)
            scatter_at(uf, o, key, y, along=False)
            return o
        r = _NoGrad.apply(input, v, fn=fn, what="aten::scatter")
    elif is_t:
        r = IndexPut.apply(input, v, key=key, name="ScatterBackward0")
    else:   # a number: a parameter of torch's ScatterBackward1, no edge
        r = IndexPut.apply(input, key=key, name="ScatterBackward1", value=v)
    return r if out is None else write_out(out, r, exact=True)


def _scatter_src_args(fn, input, dim, index, src):
    """(index array, dim) of scatter_add / scatter_reduce, after torch's checks of src (a
    tensor of input's dtype) and of the index against both shapes."""
    a = input._data
    _tensor_arg(src, fn, "src", 3)
    idx = _index_array(index, fn)
    d = _wrap_dim(dim, max(a.ndim, 1))
    if src._data.dtype != a.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    _check_along(fn, a.shape if a.ndim else (1,), idx, d, src._data.shape, "self")
    return idx, d


def scatter_add(input, dim, index, src, *, out=None):
    """out = input with src[i][j] added at out[i][index[i][j]] (dim=1); repeats accumulate."""
    a = input._data
    idx, d = _scatter_src_args("scatter_add", input, dim, index, src)
    if a.ndim == 0:   # a 0-d tensor acts as a 1-element vector
        r = scatter_add(input.reshape(1), 0, index.reshape(-1), src.reshape(-1)).reshape(())
    else:
        r = ScatterAccumulate.apply(input, _src_for(src, idx), key=_along(idx, d, a.ndim),
                                    along=True)
    return r if out is None else write_out(out, r, exact=True)


_REDUCE_ALIASES = {"max": "amax", "min": "amin"}   # (torch takes these spellings too)
_REDUCE_UFUNC = {"sum": np.add, "prod": np.multiply, "mean": np.add, "amax": np.maximum,
                 "amin": np.minimum}


class ScatterReduce(ArrayFunction):
    """scatter_reduce: combine src into input at key with sum/prod/mean/amax/amin; without
    include_self the scattered-to positions start from the reduction's identity."""

    def forward(ctx, a, v, *, key, reduce, include_self, name="ScatterReduceBackward0",
                wide=True):
        ctx._name = name
        uf = _REDUCE_UFUNC[reduce]
        out = np.array(a, copy=True)
        hit = None
        if not include_self or reduce == "mean":
            hit = np.zeros(a.shape, np.int64)
            np.add.at(hit, key, 1)
        if not include_self:
            out[hit > 0] = _identity(reduce, a.dtype)
        if wide and is_half(a.dtype) and reduce in ("sum", "prod", "mean"):
            # torch's scatter_reduce accumulates half types in float32 (index_reduce does not)
            wide = out.astype(np.float32)
            uf.at(wide, key, v.astype(np.float32))
            out = wide.astype(a.dtype)
        else:
            uf.at(out, key, v)
        if reduce == "mean":
            count = hit + (1 if include_self else 0)
            count = np.maximum(count, 1)
            if a.dtype.kind in "iu":
                out = np.floor_divide(out, count).astype(a.dtype)
            else:
                out = (out / count).astype(a.dtype)
            out = np.where(hit > 0, out, a) if not include_self else out
            ctx.count = count
        ctx.key, ctx.reduce, ctx.include_self, ctx.hit = key, reduce, include_self, hit
        if reduce in ("prod", "amax", "amin"):
            ctx.save_for_backward(a, v, out)
        return out

    def backward(ctx, grad):
        key, reduce = ctx.key, ctx.reduce
        if reduce == "sum":
            ga = grad if ctx.include_self else _masked_zero(grad, ctx.hit > 0)
            return ga, Index.apply(grad, key=key)
        if reduce == "mean":
            g = grad / Tensor._make(ctx.count.astype(grad._data.dtype))
            ga = g if ctx.include_self else _masked_zero(grad, ctx.hit > 0)
            return ga, Index.apply(g, key=key)
        a, v, out = ctx.saved_tensors
        if reduce == "prod":
            # d out / d x = out / x, written as the product of the others so zeros work
            return _prod_grads(ctx, grad, a, v, out)
        # amax / amin: the gradient is shared evenly by all elements equal to the result
        out_at = Index.apply(out, key=key)
        src_hit = (v._data == out_at._data)
        # (as torch: self counts among the ties even with include_self=False)
        self_hit = (a._data == out._data)
        n = self_hit.astype(np.int64)
        np.add.at(n, key, src_hit.astype(np.int64))
        g = grad / Tensor._make(np.maximum(n, 1).astype(grad._data.dtype))
        ga = g * Tensor._make(self_hit.astype(grad._data.dtype))
        if not ctx.include_self:
            ga = _masked_zero(ga, ctx.hit > 0)
        gv = Index.apply(g, key=key) * Tensor._make(src_hit.astype(grad._data.dtype))
        return ga, gv

    def name(self):
        return self._name


def _identity(reduce, dt):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dt.kind in "fV":   # (bfloat16: kind V)
        return -np.inf if reduce == "amax" else np.inf
    if dt.kind in "iu":
        return np.iinfo(dt).min if reduce == "amax" else np.iinfo(dt).max
    return reduce != "amax"   # bool


def _masked_zero(grad, mask):
    return IndexFill0.apply(grad, key=mask)


def _prod_grads(ctx, grad, a, v, out):
    """prod: each factor's gradient is grad * (product of the other factors). Computed as
    out / x where x != 0; where x == 0, the product of the others is recomputed directly."""
    key = ctx.key
    ad, vd = a._data, v._data
    with np.errstate(divide="ignore", invalid="ignore"):
        # product of all factors except zeros, and the number of zeros, per output position
        nz_prod = np.where(ad == 0, 1, ad) if ctx.include_self else np.ones_like(ad)
        nz_prod = np.array(nz_prod, copy=True)
        np.multiply.at(nz_prod, key, np.where(vd == 0, 1, vd))
        zeros = (ad == 0).astype(np.int64) if ctx.include_self else np.zeros(ad.shape, np.int64)
        np.add.at(zeros, key, (vd == 0).astype(np.int64))
        others_a = np.where(zeros == 0, nz_prod / np.where(ad == 0, 1, ad),
                            np.where((zeros == 1) & (ad == 0), nz_prod, 0))
        nzk, zk = nz_prod[key], zeros[key]
        others_v = np.where(zk == 0, nzk / np.where(vd == 0, 1, vd),
                            np.where((zk == 1) & (vd == 0), nzk, 0))
    dt = grad._data.dtype
    if ctx.include_self:
        ga = grad * Tensor._make(others_a.astype(dt))
    else:   # self took no part where src was scattered, and passes through elsewhere
        ga = _masked_zero(grad, ctx.hit > 0)
    gv = Index.apply(grad, key=key) * Tensor._make(others_v.astype(dt))
    return ga, gv


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    """Reduce src into input at index along dim: 'sum', 'prod', 'mean' (integer means round
    down), 'amax', 'amin'; include_self=False leaves input's own value out where written."""
    reduce = _REDUCE_ALIASES.get(reduce, reduce)
    if reduce not in _REDUCE_UFUNC:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    a = input._data
    idx, d = _scatter_src_args("scatter_reduce", input, dim, index, src)
    if reduce == "mean" and a.dtype == np.bool_:
        raise NotImplementedError("\"scatter_gather_tensor_cpu_reduce_mean\" not implemented "
                                  "for 'Bool'")
    if a.ndim == 0:   # a 0-d tensor acts as a 1-element vector
        r = scatter_reduce(input.reshape(1), 0, index.reshape(-1), src.reshape(-1), reduce,
                           include_self=include_self).reshape(())
        return r if out is None else write_out(out, r, exact=True)
    r = ScatterReduce.apply(input, _src_for(src, idx), key=_along(idx, d, a.ndim),
                            reduce=reduce, include_self=include_self)
    return r if out is None else write_out(out, r, exact=True)


# ---------------------------------------------------------------------------------------------
# index_* family: a 1-D index tensor picks whole slices along dim

def _tensor_arg(x, fn, name, pos):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _vector_index(index, fn, dtype_error=None, vector_error=None, int64_only=False):
    """index's array (1-D) after torch's type checks: a Tensor of int32/int64 (int64 only with
    int64_only) of at most one dim; `dtype_error` / `vector_error` make the op's own
    exception for a failed check (called only then)."""
    _tensor_arg(index, fn, "index", 2)
    a = index._data
    if a.dtype != np.int64 and (int64_only or a.dtype != np.int32):
        raise dtype_error() if dtype_error else RuntimeError(
            f"{fn}(): Expected dtype int32 or int64 for index")
    if a.ndim > 1:
        raise vector_error() if vector_error else IndexError(
            f"{fn}(): Index is supposed to be a vector")
    return a.reshape(-1)


def _out_of_range(idx, size, negative_ok=False):
    """The first index outside [0, size) (or [-size, size)), or None (two SIMD reductions;
    the mask that finds the culprit only on failure)."""
    if not idx.size:
        return None
    lo = -size if negative_ok else 0
    if idx.min() >= lo and idx.max() < size:
        return None
    return int(idx[(idx < lo) | (idx >= size)][0])


def _dim_of(input, dim):
    return _wrap_dim(dim, max(input._data.ndim, 1))


def _slice_key(d, idx):
    return (slice(None),) * d + (idx,)


def index_select(input, dim, index, *, out=None):
    """The slices input[..., index[k], ...] along dim, stacked in index's order (a copy).
    Negative indices are out of range."""
    d = _dim_of(input, dim)
    a = input._data
    if out is not None:
        check_no_overlap(out, input)
        check_out_exact(out, input.dtype, "index_select(): self and result must have the same "
                        "scalar type")
    idx = _vector_index(index, "index_select")
    size = a.shape[d] if a.ndim else 1
    bad = _out_of_range(idx, size)
    if bad is not None:
        if d == 1 and a.ndim >= 2:   # (torch's kernel for dim 1 words it its own way)
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} "
                               f"axis_dim={size}")
        raise IndexError("index out of range in self")
    if a.ndim == 0:
        r = Index.apply(input.reshape(1), key=(idx,), name="IndexSelectBackward0")
        r = r.reshape(()) if index._data.ndim == 0 else r
    else:
        r = Index.apply(input, key=_slice_key(d, idx), name="IndexSelectBackward0")
    return r if out is None else write_out(out, r)


def _check_source(input, d, source):
    a, s = input._data, source._data
    if s.ndim and a.ndim and (s.ndim != a.ndim or any(
            s.shape[k] != a.shape[k] for k in range(a.ndim) if k != d)):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(a.shape)} "
                           f"source.shape = {list(s.shape)}")


def index_add(input, dim, index, source, *, alpha=1, out=None):
    """out = input with alpha * source[k] added to slice index[k] along dim (repeats add).
    Negative indices are out of range."""
    d = _dim_of(input, dim)
    a = input._data
    _tensor_arg(index, "index_add", "index", 2)
    _tensor_arg(source, "index_add", "source", 3)
    ia = index._data
    idx = _vector_index(index, "index_add", lambda: RuntimeError(
        f"index_add_(): Expected dtype int32/int64 for index but got: {index.dtype._legacy}"),
        lambda: IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: "
                           f"{ia.ndim} with type: {index.dtype._legacy} and size: "
                           f"{list(ia.shape)}"))
    if source._data.dtype != a.dtype:
        raise RuntimeError(f"index_add_(): self ({_dtype.from_numpy_dtype(a.dtype)._legacy}) "
                           f"and source ({source.dtype._legacy}) must have the same scalar type")
    n = source._data.shape[d] if source._data.ndim > d else 1
    if n != idx.size:
        raise RuntimeError(f"index_add_(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim): ({n}), for dim: {d}")
    _check_source(input, d, source)
    if isinstance(alpha, str) or not isinstance(alpha, (bool, int, float, complex, np.number,
                                                       Tensor)):
        raise TypeError(f"index_add(): argument 'alpha' must be Number, not "
                        f"{type(alpha).__name__}")
    if not isinstance(alpha, Tensor):
        _check_scalar(alpha, a.dtype)
    size = a.shape[d] if a.ndim else 1
    bad = _out_of_range(idx, size)
    if bad is not None:
        if ia.dtype == np.int64 and a.ndim:
            raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size "
                               f"{size}")
        raise IndexError("index out of range in self")
    key = _slice_key(d, idx) if a.ndim else (Ellipsis,)
    alpha = alpha.item() if isinstance(alpha, Tensor) else alpha
    r = ScatterAccumulate.apply(input, source, key=key, name="IndexAddBackward0", alpha=alpha)
    return r if out is None else write_out(out, r, exact=True)


_INDEX_REDUCE_WARNED = []


def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """Reduce slice source[k] into slice index[k] of input along dim: 'prod', 'mean' (integer
    means round down), 'amax' or 'amin'; include_self=False leaves input's own slice out where
    one is written. Negative indices are out of range here (unlike index_add). Gradients as
    scatter_reduce's: amax/amin share the gradient evenly among the tied values."""
    if not _INDEX_REDUCE_WARNED:   # torch warns once per process
        import warnings
        _INDEX_REDUCE_WARNED.append(True)
        warnings.warn("index_reduce() is in beta and the API may change at any time.",
                      UserWarning, stacklevel=2)
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    d = _dim_of(input, dim)
    a, s = input._data, source._data
    if not isinstance(index, Tensor):
        raise TypeError(f"index_reduce(): argument 'index' must be Tensor, not "
                        f"{type(index).__name__}")
    ia = index._data
    if ia.dtype not in (np.int32, np.int64):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{index.dtype._legacy}")
    if ia.ndim > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: "
                         f"{ia.ndim} with type: {index.dtype._legacy} and size: "
                         f"{list(ia.shape)}")
    if s.dtype != a.dtype:
        raise RuntimeError(f"index_reduce_(): self ({input.dtype._legacy}) and source "
                           f"({source.dtype._legacy}) must have the same scalar type")
    if s.ndim != a.ndim or any(s.shape[k] != a.shape[k] for k in range(a.ndim) if k != d):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(a.shape)} "
                           f"source.shape = {list(s.shape)}")
    idx = ia.reshape(-1)
    n = s.shape[d] if s.ndim else 1
    if idx.size != n:
        raise RuntimeError(f"index_reduce_(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim): ({n}), for dim: {d}")
    size = a.shape[d] if a.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise IndexError("index out of range in self")
    if a.dtype.kind not in "iuf" and a.dtype.name != "bfloat16":
        if a.ndim <= 1:
            raise NotImplementedError(f'"index_func_" not implemented for '
                                      f"'{input.dtype._legacy}'")
        raise NotImplementedError(f"index_reduce of {input.dtype} tensors is not supported by "
                                  f"ember (torch reduces multi-dim ones)")
    if a.ndim == 0:   # a 0-d tensor acts as a 1-element vector
        r = index_reduce(input.reshape(1), 0, index.reshape(-1), source.reshape(1), reduce,
                         include_self=include_self).reshape(())
        return r if out is None else write_out(out, r, exact=True)
    r = ScatterReduce.apply(input, source, key=_slice_key(d, idx), reduce=reduce,
                            include_self=include_self, name="IndexReduceBackward0", wide=False)
    return r if out is None else write_out(out, r, exact=True)


def index_copy(input, dim, index, source, *, out=None):
    """out = input with slice index[k] along dim replaced by source[k] (index int64, no
    negative indices)."""
    d = _dim_of(input, dim)
    a = input._data
    _tensor_arg(index, "index_copy", "index", 2)
    _tensor_arg(source, "index_copy", "source", 3)
    ia, s_ = index._data, source._data
    idx = _vector_index(index, "index_copy", lambda: RuntimeError(
        f"index_copy_(): Expected a long tensor for index, but got {index.dtype._legacy}"),
        lambda: IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got "
                           f"{ia.ndim})"), int64_only=True)
    if a.ndim and s_.ndim and a.ndim != s_.ndim:
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({s_.ndim}), "
                         f"destination dimensionality ({a.ndim})")
    n = s_.shape[d] if s_.ndim else 1
    if n != idx.size:
        raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to "
                         f"source.size(dim) ({n})")
    dst_slice = a.shape[:d] + a.shape[d + 1:]
    src_slice = s_.shape[:d] + s_.shape[d + 1:]
    if a.ndim and dst_slice != src_slice:
        raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice "
                           f"shapes. Destination slice shape: {' '.join(map(str, dst_slice))} "
                           f"at dimension {d} and source slice shape: "
                           f"{' '.join(map(str, src_slice))} at dimension 0.")
    if s_.dtype != a.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {_dtype.from_numpy_dtype(a.dtype)._legacy} and "
                           f"(source) {source.dtype._legacy}")
    size = a.shape[d] if a.ndim else 1
    bad = _out_of_range(idx, size)
    if bad is not None:
        raise IndexError(f"index_copy_(): index {bad} is out of bounds for dimension {d} with "
                         f"size {size}")
    key = _slice_key(d, idx) if a.ndim else (Ellipsis,)
    r = IndexPut.apply(input, source, key=key, name="IndexCopyBackward0")
    return r if out is None else write_out(out, r, exact=True)


def index_fill(input, dim, index, value):
    """out = input with every slice index[k] along dim set to value (a number or 0-d tensor,
    which then gets the sum of the filled positions' gradient). index is int64; negative
    indices count from the end."""
    key = _index_fill_key(input, dim, index, value)
    a = input._data
    if isinstance(value, Tensor):
        v = value if value._data.dtype == a.dtype else value.to(input.dtype)
        return IndexPut.apply(input, v, key=key, name="IndexFillBackward1")
    return IndexPut.apply(input, key=key, name="IndexFillBackward0",   # (a number: no edge)
                          value=_value_array(value, a.dtype))


def _index_fill_key(input, dim, index, value):
    d = _dim_of(input, dim)
    a = input._data
    idx = _vector_index(index, "index_fill", lambda: IndexError(
        "index_fill_(): Expected dtype int64 for index."),
        lambda: RuntimeError("Index has to be a vector/scalar"), int64_only=True)
    size = a.shape[d] if a.ndim else 1
    bad = _out_of_range(idx, size, negative_ok=True)
    if bad is not None:
        raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {size}")
    _check_fill_value(value, a.dtype, "index_fill", "index_fill_(): Converting complex Scalar "
                      "to non-complex type is not supported")
    # unique: a repeated index fills once, so the value's gradient counts it once
    idx = np.unique(idx % max(size, 1))
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value._data.ndim} dimension(s).")
    return _slice_key(d, idx) if a.ndim else (Ellipsis,)


def _check_fill_value(value, npd, fn, complex_message=None):
    """A fill value (fill_, masked_fill, index_fill, scatter's value): a number or a tensor;
    a Python number must fit npd (torch's overflow check); a complex one into a real tensor
    raises `complex_message` where torch words it so."""
    tv = type(value)
    if tv is float or tv is int:
        _check_scalar(value, npd)
        return
    if isinstance(value, Tensor):
        if value._data.dtype.kind == "c" and npd.kind != "c":
            raise RuntimeError(complex_message or f"value cannot be converted to type "
                               f"{_C_NAMES.get(npd.name, npd.name)} without overflow")
        if value._data.ndim == 0 and value._data.dtype.kind in "iuf":   # (torch's item())
            _check_scalar(value.item(), npd)
        return
    if not isinstance(value, _NUMBERS):
        raise TypeError(f"{fn}() received an invalid combination of arguments - got "
                        f"{type(value).__name__} for the value, but expected a Number or a "
                        f"Tensor")
    if complex_message and isinstance(value, (complex, np.complexfloating)) and \
            npd.kind != "c":
        raise RuntimeError(complex_message)
    _check_scalar(value, npd)


def _indices_key(input, indices):
    """A torch indices tuple (tensors or None) as a NumPy key, with getitem's checks."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be tuple of Tensors")
    for i, x in enumerate(indices):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(x).__name__}")
    key = tuple(indices)
    npkey, _ = _convert_key(key, input._data.shape)
    return npkey


def index_put(input, indices, values, accumulate=False):
    """out = input with out[indices] = values (or += with accumulate=True, where repeated
    indices add up). values broadcast to the indexed shape and must share input's dtype."""
    _tensor_arg(values, "index_put", "values", 2)
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{input.dtype._legacy} for the destination and "
                           f"{values.dtype._legacy} for the source.")
    key = _indices_key(input, indices)
    dst_shape = np.empty(input._data.shape, np.bool_)[key].shape
    try:
        np.broadcast_to(np.empty(values._data.shape, np.bool_), dst_shape)
    except ValueError:
        raise RuntimeError(_setitem_message(dst_shape, values._data.shape)) from None
    if accumulate:
        return ScatterAccumulate.apply(input, values, key=key, name="IndexPutBackward0")
    return IndexPut.apply(input, values, key=key)


def _flat_key(index, shape, fn):
    """np.unravel_index of a flat index tensor, with torch's range check."""
    a = index._data
    if a.dtype != np.int64:
        raise RuntimeError(f"{fn}(): Expected a long tensor for index, but got "
                           f"{index.dtype._legacy}")
    n = math.prod(shape)
    if a.size and ((a < -n) | (a >= n)).any():
        bad = a[(a < -n) | (a >= n)].flat[0]
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         f"elements.")
    return np.unravel_index(np.where(a < 0, a + n, a), shape)


def take(input, index, *, out=None):
    """input viewed as 1-D, read at index; the result has index's shape."""
    _tensor_arg(index, "take", "index", 1)
    if input._data.size == 0 and index._data.size:
        raise IndexError("take(): tried to take from an empty tensor")
    key = _flat_key(index, input._data.shape, "take")
    if input._data.ndim == 0:
        r = Index.apply(input.reshape(1), key=(index._data * 0,), name="TakeBackward0")
    else:
        r = Index.apply(input, key=key, name="TakeBackward0")
    return r if out is None else write_out(
        out, r, exact="take(): self and out expected to have the same dtype, but got self.dtype "
        "= {want} and out.dtype = {got}")


def put(input, index, source, accumulate=False):
    """out = input (viewed 1-D) with out[index] = source (+= with accumulate)."""
    _tensor_arg(index, "put", "index", 1)
    _tensor_arg(source, "put", "source", 2)
    if source._data.size != index._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source._data.size}, "
                         f"index.numel() = {index._data.size}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {input.dtype._legacy} and source.dtype = "
                           f"{source.dtype._legacy}")
    shape = input._data.shape
    if input._data.size == 0 and index._data.size:
        raise IndexError("put_(): Tried to put elements into an empty tensor")
    key = _flat_key(index, shape, "put_")
    src = source if source._data.shape == index._data.shape else source.reshape(
        index._data.shape)   # (torch's node reads the source as it is: no view when it fits)
    if input._data.ndim == 0:
        key = (Ellipsis,)
        src = src.reshape(-1).sum() if accumulate else src.reshape(-1)[-1] if \
            src._data.size else None
        if src is None:
            return Index.apply(input, key=(Ellipsis,), name="PutBackward0")
    if accumulate:
        return ScatterAccumulate.apply(input, src, key=key, name="PutBackward0")
    return IndexPut.apply(input, src, key=key, name="PutBackward0")


def take_along_dim(input, indices, dim=None, *, out=None):
    """gather with broadcasting: input and indices broadcast except along dim. dim=None reads
    the flattened input at the flattened indices."""
    idx = indices._data
    if idx.dtype != np.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{indices.dtype._legacy}")
    if dim is None:
        r = gather(input.reshape(-1), 0, indices.reshape(-1))
        return r if out is None else write_out(out, r, exact=True)
    a = input._data
    if a.ndim != idx.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {a.ndim} dimensions for input, and "
                           f"{idx.ndim} dimensions for indices")
    d = _wrap_dim(dim, max(a.ndim, 1))
    shp = list(np.broadcast_shapes(a.shape[:d] + (1,) + a.shape[d + 1:],
                                   idx.shape[:d] + (1,) + idx.shape[d + 1:]))
    in_shape = shp[:d] + [a.shape[d]] + shp[d + 1:]
    ix_shape = shp[:d] + [idx.shape[d]] + shp[d + 1:]
    x = input.expand(*in_shape)   # (always: torch records ExpandBackward0 even for no change)
    ix = indices if list(idx.shape) == ix_shape else indices.expand(*ix_shape)
    r = gather(x, d, ix)
    return r if out is None else write_out(out, r, exact=True)


# ---------------------------------------------------------------------------------------------
# masked_* and nonzero

_C_TYPE = {"Byte": "unsigned char", "Char": "signed char", "Short": "short int",
           "Int": "int", "Long": "long int", "Half": "c10::Half", "BFloat16": "c10::BFloat16",
           "ComplexFloat": "c10::complex<float>", "ComplexDouble": "c10::complex<double>"}


def _bool_mask(mask, fn):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{fn.rstrip('_')}(): argument 'mask' (position 1) must be Tensor, not "
                        f"{type(mask).__name__}")
    if mask._data.dtype != np.bool_:
        legacy = mask.dtype._legacy
        if fn == "masked_select":
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        if fn == "masked_scatter_":   # (torch names the dtype its legacy way here)
            raise RuntimeError(f"{fn} only supports boolean masks, but got mask with dtype "
                               f"{legacy}")
        raise RuntimeError(f"{fn} only supports boolean masks, but got mask with dtype "
                           f"{_C_TYPE.get(legacy, legacy.lower())}")
    return mask._data


def _broadcast_pair(input, m, fn):
    try:
        shape = np.broadcast_shapes(input._data.shape, m.shape)
    except ValueError:
        b, a = input._data.shape, m.shape   # (torch names the mask tensor a)
        nd = max(len(a), len(b))
        pa, pb = (1,) * (nd - len(a)) + a, (1,) * (nd - len(b)) + b
        k = next(k for k in range(nd - 1, -1, -1) if pa[k] != pb[k] and 1 not in (pa[k], pb[k]))
        raise RuntimeError(f"The size of tensor a ({pa[k]}) must match the size of tensor b "
                           f"({pb[k]}) at non-singleton dimension {k}") from None
    x = input if input._data.shape == shape else input.expand(*shape)
    m = m if m.shape == shape else np.broadcast_to(m, shape)
    return x, m


def masked_fill(input, mask, value):
    """out = input with value where mask is True (mask broadcasts; value is cast to input's
    dtype; a 0-d tensor value gets the sum of the filled positions' gradient)."""
    m = _bool_mask(mask, "masked_fill_")
    x, m = _broadcast_pair(input, m, "masked_fill")
    _check_fill_value(value, x._data.dtype, "masked_fill")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value._data.ndim} dimension(s).")
        v = value if value._data.dtype == x._data.dtype else value.to(input.dtype)
        return IndexPut.apply(x, v, key=m, name="MaskedFillBackward1")
    return IndexPut.apply(x, key=m, name="MaskedFillBackward0",
                          value=_value_array(value, x._data.dtype))


def masked_select(input, mask, *, out=None):
    """The elements of input (broadcast with mask) where mask is True, as a 1-D tensor."""
    m = _bool_mask(mask, "masked_select")
    x, m = _broadcast_pair(input, m, "masked_select")
    r = Index.apply(x, key=m, name="MaskedSelectBackward0")
    return r if out is None else write_out(
        out, r, exact="masked_select(): self and result must have the same scalar type")


def masked_scatter(input, mask, source):
    """out = input with the positions where mask is True filled, in row-major order, by the
    first elements of source."""
    m = _bool_mask(mask, "masked_scatter_")
    _tensor_arg(source, "masked_scatter", "source", 2)
    x, m = _broadcast_pair(input, m, "masked_scatter")
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got{input.dtype._legacy} and {source.dtype._legacy}")
    n = int(np.count_nonzero(m))
    if source._data.size < n:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return MaskedScatter.apply(x, source, mask=m, n=n)


class MaskedScatter(ArrayFunction):
    """x with the positions where mask is True taken, in row-major order, from the first n
    elements of source: one node with edges to x and to source itself, as torch's. Gradients:
    x's with those positions zeroed; source's the gradient there, zero past the n-th."""

    def forward(ctx, x, source, *, mask, n):
        ctx.mask, ctx.n, ctx.source_shape = mask, n, source.shape
        out = np.array(x, copy=True)
        out[mask] = source.reshape(-1)[:n]
        return out

    def backward(ctx, grad):
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = IndexFill0.apply(grad, key=ctx.mask)
        if ctx.needs_input_grad[1]:
            from ember._ops.manipulation import cat
            taken = Index.apply(grad, key=ctx.mask)   # (n,), differentiable
            rest = Tensor._make(np.zeros(math.prod(ctx.source_shape) - ctx.n, taken._data.dtype))
            gs = cat([taken, rest]).reshape(ctx.source_shape)
        return gx, gs


def nonzero(input, *, out=None, as_tuple=False):
    """Indices of the non-zero elements: an int64 (n, ndim) tensor, or with as_tuple=True one
    1-D tensor per dim (0-d inputs act as 1-D)."""
    a = input._data
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64, copy=False))
                     for i in np.nonzero(a.reshape(-1) if a.ndim == 0 else a))
    if a.ndim == 0:
        r = Tensor._make(np.zeros((1 if a else 0, 0), np.int64))
    else:
        r = Tensor._make(np.argwhere(a).astype(np.int64, copy=False))
    return r if out is None else write_out(
        out, r, exact="nonzero: Expected out tensor to have scalar type Long but got scalar type"
        "{got}")


def argwhere(input):
    return nonzero(input)


def nonzero_static(input, *, size, fill_value=-1, out=None):
    """nonzero() with a fixed number of rows: the first `size` index rows, padded with rows of
    fill_value when there are fewer non-zeros. A 0-d input gives (size, 0)."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"nonzero_static(): argument 'size' must be int, not "
                        f"{type(size).__name__}")
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    a = input._data
    nd = a.ndim
    found = np.argwhere(a) if nd else np.zeros((1 if a else 0, 0), np.int64)
    r = np.full((size, nd), fill_value, np.int64)
    k = min(size, found.shape[0])
    r[:k] = found[:k]
    r = Tensor._make(r)
    return r if out is None else write_out(
        out, r, exact="nonzero_static: Expected out tensor to have scalar type Long but got "
        "scalar type{got}")


# ---------------------------------------------------------------------------------------------
# In-place variants: compute out of place, then write into self (recording history)

def _expanded_warning(fn, example="tensor[mask] = scalar"):
    import warnings
    warnings.warn(f"Use of {fn} on expanded tensors is deprecated. Please clone() the tensor "
                  f"before performing this operation. This also applies to advanced indexing e.g. "
                  f"{example}", UserWarning, stacklevel=3)


def _make_inplace(fn):
    def method(self, *args, **kwargs):
        return inplace(self, fn(self, *args, **kwargs))
    method.__name__ = fn.__name__ + "_"
    return method


def _masked_fill_(self, mask, value):
    """In place without grad: a direct masked write (the attention-mask hot path)."""
    if not (_grad_state.enabled and (self._requires_grad or isinstance(value, Tensor) and
                                     value._requires_grad)):
        m = _bool_mask(mask, "masked_fill_")
        _check_fill_value(value, self._data.dtype, "masked_fill_")
        if isinstance(value, Tensor):
            if value._data.ndim:
                raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, "
                                   f"but got tensor with {value._data.ndim} dimension(s).")
            value = value._data
        a = self._data
        if m.shape != a.shape:
            _check_inplace_broadcast(a.shape, m.shape)
            m = np.broadcast_to(m, a.shape)
        check_inplace(self)
        if not a.flags.writeable:   # an expanded tensor: torch writes through it
            _expanded_warning("masked_fill_")
            a = _writable_alias(a)
            if a is None:
                write(self, self._data)   # raises
        a[m] = value
        self._vc.value += 1
        return self
    _check_inplace_broadcast(self._data.shape, _bool_mask(mask, "masked_fill_").shape)
    return inplace(self, masked_fill(self, mask, value))


def _scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    src = _scatter_src(src, value, self._data, "scatter_")
    if not (_grad_state.enabled and (self._requires_grad or isinstance(src, Tensor) and
                                     src._requires_grad)):
        # no graph: write straight into self (the one-hot idiom's hot path)
        a = self._data
        if a.ndim and reduce is None:
            idx = _index_array(index, "scatter_")
            d = _wrap_dim(dim, a.ndim)
            is_t = isinstance(src, Tensor)
            if is_t and src._data.dtype != a.dtype:
                raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
            _check_along("scatter", a.shape, idx, d, src._data.shape if is_t else None, "self")
            check_inplace(self)
            if not a.flags.writeable:
                write(self, a)
            key = _along(idx, d, a.ndim)
            a[key] = src._data[tuple(slice(0, n) for n in idx.shape)] if is_t else \
                _value_array(src, a.dtype)
            self._vc.value += 1
            return self
    return inplace(self, scatter(self, dim, index, src, reduce=reduce))




Tensor.gather, Tensor.scatter, Tensor.scatter_ = gather, scatter, _scatter_
Tensor.scatter_add, Tensor.scatter_add_ = scatter_add, _make_inplace(scatter_add)
Tensor.scatter_reduce, Tensor.scatter_reduce_ = scatter_reduce, _make_inplace(scatter_reduce)
Tensor.index_select, Tensor.index_add, Tensor.index_add_ = (index_select, index_add,
                                                           _make_inplace(index_add))
Tensor.index_copy, Tensor.index_copy_ = index_copy, _make_inplace(index_copy)
def _index_fill_(self, dim, index, value):
    if self._data.flags.writeable or _grad_state.enabled and self._requires_grad:
        return inplace(self, index_fill(self, dim, index, value))
    key = _index_fill_key(self, dim, index, value)
    return _expanded_write(self, "index_fill_", key, value._data if isinstance(
        value, Tensor) else _value_array(value, self._data.dtype))


def _index_put_(self, indices, values, accumulate=False):
    if self._data.flags.writeable or _grad_state.enabled and self._requires_grad:
        return inplace(self, index_put(self, indices, values, accumulate))
    index_put(self, indices, values, accumulate)   # (its checks)
    return _expanded_write(self, "index_put_", _indices_key(self, indices), values._data,
                           accumulate)


def _expanded_write(self, fn, key, values, accumulate=False):
    """index_fill_/index_put_ on an expanded tensor: torch warns, then writes (or adds, one
    element after another) through the shared memory."""
    check_inplace(self)
    _expanded_warning(fn, "tensor[indices] = tensor" if fn == "index_put_" else
                      "tensor[mask] = scalar")
    a = _writable_alias(self._data)
    if a is None:
        write(self, self._data)   # raises
    if accumulate:
        np.add.at(a, key, np.broadcast_to(values, a[key].shape))
    else:
        a[key] = values
    self._vc.value += 1
    return self


Tensor.index_fill, Tensor.index_fill_ = index_fill, _index_fill_
Tensor.index_put, Tensor.index_put_ = index_put, _index_put_
Tensor.put, Tensor.put_, Tensor.take = put, _make_inplace(put), take
Tensor.take_along_dim = take_along_dim
Tensor.masked_fill, Tensor.masked_fill_ = masked_fill, _masked_fill_
Tensor.masked_select = masked_select
Tensor.masked_scatter, Tensor.masked_scatter_ = masked_scatter, _make_inplace(masked_scatter)
Tensor.nonzero, Tensor.argwhere, Tensor.nonzero_static = nonzero, argwhere, nonzero_static
Tensor.index_reduce, Tensor.index_reduce_ = index_reduce, _make_inplace(index_reduce)
