"""Sorting and order statistics: sort argsort msort topk kthvalue, median nanmedian mode
quantile nanquantile, unique unique_consecutive, bincount histc histogram, searchsorted
bucketize isin unravel_index.

NaN sorts as the largest value (last ascending, first descending), as in torch. Gradients of
the selecting ops (sort, topk, kthvalue, median, mode) go to the selected indices; quantile is
sort + gather + linear interpolation, so its gradient follows. Where several elements tie, torch
picks an implementation-defined index for topk/kthvalue/median; ember picks the first in stable
order (mode: the last occurrence of the smallest most frequent value, as torch does).
"""
from collections.abc import Sequence

import math

import numpy as np

from ember import _dtype, return_types
from ember._ops._helpers import (c_copy, check_out_exact, moved_last, not_a_tensor,
                               out_grad_error, resize_warning)
from ember._ops._stdsort import (MAX_REPLAYED, dense_ranks, quick_select, topk_order,
                                 unstable_order)
from ember._ops.reduction import (_Labelled, _dim1, _expect_out, _expect_pair,
                                  _name, _nonempty, _out, _select_grad)
from ember.autograd.grad_mode import state as _grad_state
from ember._tensor import Tensor, _stride_order, _type_name, _wrap_dim

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode",
           "quantile", "nanquantile", "unique", "unique_consecutive", "bincount", "histc",
           "histogram", "searchsorted", "bucketize", "isin", "unravel_index"]


def _no_complex(input, what="Sort"):
    if input._data.dtype.kind == "c":
        raise RuntimeError(f" {what} does not support complex dtypes on CPU")


def _key(a):
    """What to order `a` by: bfloat16 as float32 (exact; NumPy orders NaN last only in its own
    float types)."""
    return a.astype(np.float32) if a.dtype.kind == "V" else a


def _not_implemented(input, kernel, bool_ok=False):
    """torch's NotImplementedError for the dtypes a sorting kernel lacks (bool, complex)."""
    k = input._data.dtype.kind
    if k == "c" or (k == "b" and not bool_ok):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_name(input.dtype)}'")


def _argsort(a, dim, descending, stable=True):
    """argsort along dim, NaN last (first when descending). Stable: ties in their original
    order. Unstable: ties in the order torch's std::sort leaves them (see _stdsort)."""
    a = _key(a)
    if not descending:
        order = np.argsort(a, axis=dim, kind="stable")
    else:
        n = a.shape[dim]
        order = (n - 1) - np.flip(np.argsort(np.flip(a, dim), axis=dim, kind="stable"), dim)
    if stable or a.ndim == 0 or a.shape[dim] <= 16:
        return order
    rows, same = _rows_and_ties(a, order, dim)
    return _from_rows(unstable_order(rows, same), order.shape, dim)


def _rows_and_ties(a, order, dim):
    """The rows (along dim) of a stable argsort `order` of `a`, and whether neighbours in them
    compare equal."""
    rows = np.moveaxis(order, dim, -1).reshape(-1, a.shape[dim])
    ranked = np.take_along_axis(np.moveaxis(a, dim, -1).reshape(rows.shape), rows, axis=1)
    return rows, _neighbours_equal(ranked)


def _neighbours_equal(ranked):
    """Whether neighbours along each row of sorted values compare equal (NaNs equal to each
    other, as in torch's sorting comparisons)."""
    same = ranked[:, 1:] == ranked[:, :-1]
    if ranked.dtype.kind in "fc":
        nan = np.isnan(ranked)
        same |= nan[:, 1:] & nan[:, :-1]
    return same


def _from_rows(rows, shape, dim):
    """Rows (of any length) back into an array of `shape`'s other sizes, along dim."""
    moved = shape[:dim] + shape[dim + 1:] + (rows.shape[1],)
    return np.moveaxis(rows.reshape(moved), -1, dim)


def _topk_indices(a, dim, k, largest, in_order):
    """torch.topk's indices along dim (see _stdsort.topk_order)."""
    a = _key(a)
    n = a.shape[dim]
    rows = moved_last(a, dim).reshape(-1, n)
    if 0 < k < n // 4 and (in_order or k * 64 <= n):
        picked = _topk_few(rows, k, largest, in_order)
    else:
        picked = _topk_rows(rows, k, largest, in_order)
    return _from_rows(picked, a.shape, dim)


def _topk_rows(rows, k, largest, in_order):
    order = _argsort(rows, 1, largest)
    return topk_order(*_rows_and_ties(rows, order, 1), k, in_order)


_BY_ARGMAX = 16   # up to this many picks per row, repeated argmax beats np.argpartition
# (NumPy's introselect takes ~8 ns an element, one argmax pass ~0.1 ns)


def _best_by_argmax(rows, m, largest):
    """The m best of each row by m rounds of argmax (argmin), each pick then overwritten with
    the worst value of the dtype; None where that does not work: smallest with NaN present
    (NaN is largest in torch's order but argmin's pick too), and bool. (A row whose m best
    include that worst value may repeat a pick; its values tie, so the caller redoes it.)"""
    k = rows.dtype.kind
    if k not in "fiu" or (k == "f" and not largest and np.isnan(rows).any()):
        return None
    worst = (-np.inf if largest else np.inf) if k == "f" else \
        (np.iinfo(rows.dtype).min if largest else np.iinfo(rows.dtype).max)
    work = c_copy(rows)
    at = np.arange(len(work))
    best = np.empty((len(work), m), np.intp)
    for j in range(m):
        best[:, j] = pick = work.argmax(1) if largest else work.argmin(1)
        work[at, pick] = worst
    return best


def _topk_few(rows, k, largest, in_order):
    """A few of many: the k + 1 best of each row by repeated argmax or a partition, sorted;
    the answer unless two of them tie (those rows go the whole way)."""
    n = rows.shape[1]
    best = _best_by_argmax(rows, k + 1, largest) if k < _BY_ARGMAX else None
    if best is None:
        part = np.argpartition(rows, n - k - 1 if largest else k, axis=1)   # (NaN last)
        best = part[:, n - k - 1:] if largest else part[:, :k + 1]
    vals = np.take_along_axis(rows, best, axis=1)
    o = np.argsort(vals, axis=1, kind="stable")
    o = o[:, ::-1] if largest else o
    best, vals = np.take_along_axis(best, o, axis=1), np.take_along_axis(vals, o, axis=1)
    out = np.ascontiguousarray(best[:, :k])
    tied = _neighbours_equal(vals).any(axis=1)
    if tied.any():
        out[tied] = _topk_rows(rows[tied], k, largest, in_order)
    return out


def sort_order(a, descending=False):
    """The indices torch.sort gives a 1-D array (ties as torch's unstable sort leaves them)."""
    return _argsort(a, 0, descending, stable=False)


# ---------------------------------------------------------------------------------------------
# sort, argsort, msort, topk, kthvalue

class Select(_Labelled):
    """Values of `a` picked along dim by indices computed from `a` (sort, topk, kthvalue,
    median(dim), mode); backward scatters the gradient to those indices."""

    def forward(ctx, a, *, dim, idx, keepdim, label, flat=False):
        ctx.label, ctx.dim, ctx.keepdim, ctx.shape = label, dim, keepdim, a.shape
        ctx.flat = flat   # median() of all elements: picked along the flattened a, one node
        if flat:
            a = a.reshape(-1)
        if dim is None:
            ctx.idx = None
            return a.copy(), np.zeros((), np.int64)
        ctx.idx = idx
        vals = np.take_along_axis(a, idx, axis=dim)
        if not keepdim:
            vals, idx = vals.squeeze(dim), idx.squeeze(dim)
        return vals, idx.astype(np.int64, copy=False)

    def backward(ctx, grad, _):
        if ctx.flat:
            n = math.prod(ctx.shape)
            return _select_grad(grad, ctx.idx, 0, False, (n,)).reshape(ctx.shape)
        return _select_grad(grad, ctx.idx, ctx.dim, ctx.keepdim, ctx.shape)


_UNSET = object()


def _sort_args(fn, input, args, dim, descending, stable):
    """torch's two overloads: (input, dim=-1, descending=False) and (input, *, stable, dim=-1,
    descending=False); with stable= given, dim and descending are keyword-only."""
    if args and (stable is not _UNSET or len(args) > 2 or
                 (dim is not _UNSET and len(args) >= 1) or
                 (descending is not _UNSET and len(args) == 2)):
        got = ", ".join(["Tensor"] + [type(a).__name__ for a in args] +
                        [f"stable={type(stable).__name__}"] * (stable is not _UNSET))
        raise TypeError(f"{fn}() received an invalid combination of arguments - got ({got}), "
                        f"but expected one of:\n * (Tensor input, int dim = -1, bool descending "
                        f"= False)\n * (Tensor input, *, bool stable, int dim = -1, bool "
                        f"descending = False)")
    args = list(args) + [_UNSET] * (2 - len(args))
    dim = args[0] if args[0] is not _UNSET else dim
    descending = args[1] if args[1] is not _UNSET else descending
    if isinstance(dim, bool):
        raise TypeError(f"{fn}(): argument 'dim' must be int, not bool")
    return (-1 if dim is _UNSET else dim), (False if descending is _UNSET else descending)


def _stable(stable):
    return stable is not _UNSET and bool(stable)   # (stable=None counts as False, as in torch)


def sort(input, *args, dim=_UNSET, descending=_UNSET, stable=_UNSET, out=None):
    """sort(input, dim=-1, descending=False) or sort(input, *, stable, dim, descending) ->
    (values, indices) along dim. NaN sorts last (first when descending). Unless stable=True,
    equal elements come in the order torch's std::sort leaves them."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    dim, descending = _sort_args("sort", input, args, dim, descending, stable)
    d = _dim1(input, dim)
    _no_complex(input)
    _expect_pair(out, input.dtype)
    idx = None if d is None else _argsort(input._data, d, descending, _stable(stable))
    r = Select.apply(input, dim=d, idx=idx, keepdim=True,
                     label="SortBackward0" if stable is _UNSET else "SortBackward1")
    return _out(return_types.sort(r), out)


def argsort(input, *args, dim=_UNSET, descending=_UNSET, stable=_UNSET, out=None):
    """Indices that sort `input` along dim (int64); the same two overloads as sort (only the
    one with `stable` takes out=, which must be int64)."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    if out is not None and (stable is _UNSET or args):
        got = ", ".join(["Tensor"] + [type(a).__name__ for a in args] + ["out=Tensor"] + [
            f"{k}={type(v).__name__}" for k, v in (("dim", dim), ("descending", descending))
            if v is not _UNSET])
        bad = ", ".join(["out"] + [k for k, v in (("dim", dim), ("descending", descending))
                                   if v is not _UNSET])
        raise TypeError(f"argsort() received an invalid combination of arguments - got ({got}), "
                        f"but expected one of:\n * (Tensor input, *, bool stable, int dim = -1, "
                        f"bool descending = False, Tensor out = None)\n * (Tensor input, int dim "
                        f"= -1, bool descending = False)\n      didn't match because some of the "
                        f"keywords were incorrect: {bad}\n")
    dim, descending = _sort_args("argsort", input, args, dim, descending, stable)
    d = _dim1(input, dim)
    _no_complex(input)
    _expect_out(out, _dtype.int64)
    if out is not None and input._requires_grad and _grad_state.enabled:
        raise out_grad_error("sort")   # (torch's argsort out= is sort's)
    if d is None:
        return _out(Tensor._make(np.zeros((), np.int64)), out)
    idx = _argsort(input._data, d, descending, _stable(stable))
    return _out(Tensor._make(idx.astype(np.int64, copy=False)), out)


def msort(input, *, out=None):
    """sort(input, dim=0).values."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    return _out(sort(input, 0).values, out, exact=True)


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The k largest (or smallest) elements along dim and their indices, sorted."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    d = _dim1(input, dim)
    n = input._data.shape[d] if d is not None else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    _no_complex(input, "topk")
    if input._data.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    _expect_pair(out, input.dtype)
    if d is None:
        idx = None
    else:
        idx = _topk_indices(input._data, d, k, largest, sorted)
    r = Select.apply(input, dim=d, idx=idx, keepdim=True, label="TopkBackward0")
    return _out(return_types.topk(r), out)


def _kth_index(a, d, k):
    """The index (keepdim layout) of the k-th smallest element along d that torch reports:
    the stable order's k-th, unless the k-th value ties with another, where torch's own
    quickselect decides (_stdsort.quick_select)."""
    a = _key(a)
    n = a.shape[d]
    rows = moved_last(a, d).reshape(-1, n)
    order = np.argsort(rows, axis=1, kind="stable")   # (NaN last)
    same = _neighbours_equal(np.take_along_axis(rows, order, axis=1))
    picked = order[:, k - 1].copy()
    tied = np.zeros(len(rows), bool)
    if k > 1:
        tied |= same[:, k - 2]
    if k < n:
        tied |= same[:, k - 1]
    if tied.any() and tied.sum() * n <= MAX_REPLAYED:   # (past that: the stable order)
        picked[tied] = quick_select(dense_ranks(order[tied], same[tied]), k - 1)
    return _from_rows(picked[:, None], a.shape, d)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The k-th smallest element (1-based) along dim and its index."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    d = _dim1(input, dim)
    if d is not None:
        _nonempty(input, (d,), "kthvalue", specify=False)
    n = input._data.shape[d] if d is not None else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension "
                           f"{d if d is not None else 0}")
    _not_implemented(input, "kthvalue_cpu")
    if out is not None and out[0].dtype is not input.dtype:
        raise RuntimeError("output values must be of same type as input")
    if out is not None and out[1].dtype is not _dtype.int64:
        raise RuntimeError("output indices must be of scalar type Long")
    idx = None if d is None else _kth_index(input._data, d, k)
    r = Select.apply(input, dim=d, idx=idx, keepdim=keepdim, label="KthvalueBackward0")
    _keepdim_resize_warning(out, input, d, keepdim)
    return _out(return_types.kthvalue(r), out, warn=False)


# ---------------------------------------------------------------------------------------------
# median, nanmedian, mode

def _median_rows(rows):
    """Index of the lower median of each row of a 2-D array without NaN, by a partition (a
    stable argsort of every row costs ~10x more): the one element equal to the median, or,
    for rows where several are, the one a stable sort puts at the median's place."""
    n = rows.shape[1]
    pos = (n - 1) // 2
    v = np.partition(rows, pos, axis=1)[:, pos:pos + 1]
    eq = rows == v
    idx = np.argmax(eq, axis=1)
    tied = np.count_nonzero(eq, axis=1) > 1
    if tied.any():
        order = np.argsort(rows[tied], axis=1, kind="stable")
        idx[tied] = order[:, pos]
    return idx[:, None]


def _median_idx(a, d, ignore_nan):
    """Index (keepdim layout) of the lower median along d; NaN wins unless ignore_nan."""
    a = _key(a)
    n = a.shape[d]
    if n >= 64 and a.dtype.kind in "fiu" and not (a.dtype.kind == "f" and np.isnan(a).any()):
        return _from_rows(_median_rows(moved_last(a, d).reshape(-1, n)), a.shape, d)
    order = np.argsort(a, axis=d, kind="stable")      # NaNs last
    n = a.shape[d]
    nan = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
    nnan = np.sum(nan, axis=d, keepdims=True)
    if ignore_nan:
        pos = np.maximum((n - nnan - 1) // 2, 0)
    else:
        pos = np.where(nnan > 0, n - nnan, (n - 1) // 2)
    return np.take_along_axis(order, pos, axis=d)


def _median(input, dim, keepdim, out, name, ignore_nan):
    if not isinstance(input, Tensor):
        raise not_a_tensor(input, name)
    a = input._data
    if dim is None:
        if out is not None:   # torch has no median(input, *, out)
            raise TypeError(f"{name}() missing 1 required positional arguments: \"dim\"")
        if a.size == 0:   # NaN, cast as C casts it for integer types
            with np.errstate(invalid="ignore"):
                return Tensor._make(np.array(np.nan).astype(a.dtype))
        _not_implemented(input, "median_cpu")
        idx = _median_idx(a.reshape(-1), 0, ignore_nan)
        vals, _ = Select.apply(input, dim=0, idx=idx, keepdim=False, flat=True,
                               label=name.capitalize() + "Backward0")
        return _out(vals, out)
    d = _dim1(input, dim)
    if d is not None:
        _nonempty(input, (d,), "median", specify=False)
    _not_implemented(input, "median_out")
    if out is not None:
        _median_out_check(out, input)
    idx = None if d is None else _median_idx(a, d, ignore_nan)
    r = Select.apply(input, dim=d, idx=idx, keepdim=keepdim,
                     label=name.capitalize() + "Backward1")
    return _out(getattr(return_types, name)(r), out)


def _median_out_check(out, input):
    if out[0].dtype is not input.dtype:
        raise RuntimeError(f"Expected tensor for 'values' to have the same type as tensor for "
                           f"argument #2 'self'; but type {_type_name(out[0])} does not equal "
                           f"{_type_name(input)} (while checking arguments for median)")
    if out[1].dtype is not _dtype.int64:
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have scalar type Long; "
                           f"but got {_type_name(out[1])} instead (while checking arguments for "
                           f"median)")


def median(input, dim=None, keepdim=False, *, out=None):
    """The lower median (of all elements, or (values, indices) along dim); NaN if any NaN."""
    return _median(input, dim, keepdim, out, "median", False)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """median ignoring NaNs (NaN only where a slice is all NaN)."""
    return _median(input, dim, keepdim, out, "nanmedian", True)


def mode(input, dim=-1, keepdim=False, *, out=None):
    """(values, indices): the most frequent value along dim (the smallest among equally frequent
    ones) and the index of its last element in torch's (unstable) sort."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    d = _dim1(input, dim)
    a = input._data
    for o, dt, what in ((out, input.dtype, "values"), (out, _dtype.int64, "indices")) \
            if out is not None else ():
        o = o[0] if what == "values" else o[1]
        if o.dtype is not dt:
            raise RuntimeError(f"expected scalar type '{_name(dt)}' but got '{_name(o.dtype)}' "
                               f"for {what} output")
    if d is not None and a.size == 0:
        _nonempty(input, (d,), "mode", specify=False)
    if d is not None:
        _not_implemented(input, "mode_cpu", bool_ok=True)
    if d is None:
        idx = None
    elif a.size == 0:
        _nonempty(input, (d,), "mode", specify=False)
        idx = np.zeros([1 if i == d else n for i, n in enumerate(a.shape)], np.int64)
    else:
        order = _argsort(a, d, False, stable=False)   # (torch reads a std::sort)
        s = np.take_along_axis(a, order, axis=d)
        n = a.shape[d]
        shape = [1] * a.ndim
        shape[d] = n
        pos = np.arange(n).reshape(shape)
        first = np.ones(a.shape, bool)      # where a run of equal sorted values starts
        if n > 1:
            prev = np.take(s, np.arange(n - 1), axis=d)
            nxt = np.take(s, np.arange(1, n), axis=d)
            first = np.concatenate([np.take(first, [0], axis=d), nxt != prev], axis=d)
        start = np.maximum.accumulate(np.where(first, pos, 0), axis=d)
        runlen = pos - start + 1
        best = np.max(runlen, axis=d, keepdims=True)
        end = np.argmax(runlen == best, axis=d, keepdims=True)
        # the end of the first longest run: the smallest mode, at its last place in the sort
        idx = np.take_along_axis(order, end, axis=d)
    r = Select.apply(input, dim=d, idx=idx, keepdim=keepdim, label="ModeBackward0")
    _keepdim_resize_warning(out, input, d, keepdim)
    return _out(return_types.mode(r), out, warn=False)


def _keepdim_resize_warning(out, input, d, keepdim):
    """mode and kthvalue resize their out= tensors with the reduced dim kept (an out= of the
    result's rank gets that dim back first), which is what torch's resize warning names."""
    if out is None or d is None:
        return
    want = tuple(1 if i == d else n for i, n in enumerate(input._data.shape))
    for o in out:
        shape = o._data.shape
        if not keepdim and len(shape) == len(want) - 1:
            shape = shape[:d] + (1,) + shape[d:]
        if o._data.size and shape != want:
            resize_warning(shape, want)


# ---------------------------------------------------------------------------------------------
# quantile, nanquantile

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, name, ignore_nan):
    if not isinstance(input, Tensor):
        raise not_a_tensor(input, name)
    name = "quantile"   # torch's messages say quantile() for nanquantile too
    dt = input.dtype
    if input._data.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if dt not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if isinstance(q, Tensor):
        if q.dim() > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype != dt:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        qa, scalar_q = np.asarray(q._data, np.float64).reshape(-1), q.dim() == 0
    else:
        qa, scalar_q = np.array([float(q)]), True
    if np.any((qa < 0) | (qa > 1)):
        bad = qa[(qa < 0) | (qa > 1)][0]
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {bad:g}"
                           if scalar_q else f"{name}() q values must be in the range [0, 1]")
    record = input._requires_grad and _grad_state.enabled
    srt = _quantile_sorted(input, dim, keepdim, record)
    a = srt._data                                     # (*result shape, n): NaN sorted last
    n = a.shape[-1]
    nnan = np.isnan(a).sum(-1, keepdims=True)
    if ignore_nan:   # ranks among the non-NaN values (an all-NaN row picks its NaN at 0)
        rank = qa * np.maximum(n - nnan - 1, 0)
    else:            # a row with a NaN picks its last value, a NaN
        rank = np.where(nnan > 0, n - 1, qa * (n - 1))
    if interpolation == "lower":
        rank = np.floor(rank)
    elif interpolation == "higher":
        rank = np.ceil(rank)
    elif interpolation == "nearest":
        rank = np.round(rank)   # (half to even, as torch.round)
    lo = np.floor(rank).astype(np.int64)
    hi = w = None
    if interpolation in ("linear", "midpoint"):
        hi = np.minimum(np.ceil(rank).astype(np.int64), n - 1)
        w = (rank - lo if interpolation == "linear" else np.where(hi > lo, 0.5, 0.0)).astype(
            a.dtype)
    if not record:   # the same values straight from NumPy, with the strides torch's have
        r = np.take_along_axis(a, lo, -1)
        if hi is not None:
            from ember._ops.pointwise import lerp_values
            r = lerp_values(r, np.take_along_axis(a, hi, -1), w)
        return Tensor._make(r[..., 0] if scalar_q else np.moveaxis(r, -1, 0))
    # torch's graph: gather (both neighbours), lerp, then the q dim squeezed or moved first
    r = srt.gather(-1, Tensor._make(lo))
    if hi is not None:
        from ember._ops.pointwise import lerp
        r = lerp(r, srt.gather(-1, Tensor._make(hi)), Tensor._make(w))
    if scalar_q:
        return r.squeeze_(-1)
    return r.unsqueeze_(0).transpose_(0, -1).squeeze_(-1)


def _quantile_sorted(input, dim, keepdim, record):
    """input sorted along `dim` (all of it when None), moved last and viewed as (*result
    shape, n). Recorded as torch's graph: a view (flattened) or an unsqueeze(-1) +
    transpose(dim, -1) (unless dim is already last) before the sort, a view after it."""
    nd = input.dim()
    shape = list(input.shape)
    d = None if dim is None else _wrap_dim(dim, nd)
    if d is None:
        out = [1] * nd if keepdim else []
    else:
        out = shape[:d] + [1] * (keepdim and nd > 0) + shape[d + 1:]   # (0-d stays 0-d)
    if not record:   # (values only: NaN sorts last in np.sort as in torch)
        a = input._data
        a = a.reshape(-1) if d is None or nd == 0 else np.moveaxis(a, d, -1)
        return Tensor._make(np.sort(a, -1).reshape(out + [a.shape[-1]]))
    if d is None:
        x = input.reshape(-1)
    else:
        x = input if d == nd - 1 else input.unsqueeze(-1).transpose(d, -1)
    srt = sort(x, -1).values
    return srt.view(out + [srt._data.shape[-1]])


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """q-th quantiles along dim (flattened when None); q a float or a 0-D/1-D tensor (a 1-D q
    adds a leading dim). NaN where a slice has a NaN."""
    return _out(_quantile(input, q, dim, keepdim, interpolation, "quantile", False), out,
                msg=_QUANTILE_OUT, grad="copy")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """quantile ignoring NaNs (NaN only where a slice is all NaN)."""
    return _out(_quantile(input, q, dim, keepdim, interpolation, "nanquantile", True), out,
                msg=_QUANTILE_OUT, grad="copy")


_QUANTILE_OUT = "quantile() out tensor must be same dtype as the input tensor"


# ---------------------------------------------------------------------------------------------
# unique, unique_consecutive (no gradient)

class _NoDerivative(_Labelled):
    """Passes precomputed results through so that float outputs require grad as in torch; their
    backward raises torch's NotImplementedError (unique, bincount with weights, histogram)."""

    def forward(ctx, *inputs, results, label, what):
        ctx.label, ctx.what = label, what
        return results if len(results) > 1 else results[0]

    def backward(ctx, *grads):
        if ctx.what.startswith("aten::"):
            raise RuntimeError(f"derivative for {ctx.what} is not implemented")
        raise NotImplementedError(f"the derivative for '{ctx.what}' is not implemented.")


def _wrap_no_grad(inputs, results, label, what):
    """Tensors of `results` (arrays), recorded under a raising node when an input needs grad."""
    from ember.autograd.grad_mode import state
    if state.enabled and any(isinstance(x, Tensor) and x._requires_grad for x in inputs):
        out = _NoDerivative.apply(*inputs, results=tuple(results), label=label, what=what)
        return out if isinstance(out, tuple) else (out,)
    return tuple(Tensor._make(r) for r in results)

def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Sorted unique elements (torch sorts on CPU even for sorted=False); each NaN is unique.
    With dim: unique slices along dim."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    _not_implemented(input, "unique" if dim is None else "unique_dim", bool_ok=True)
    a = input._data
    if a.dtype.kind == "V":   # NumPy orders bfloat16's NaNs wrongly: in float32 (exact)
        r = unique(Tensor._make(a.astype(np.float32)), sorted, return_inverse, return_counts, dim)
        r = list(r) if isinstance(r, tuple) else [r]
        r[0] = Tensor._make(r[0]._data.astype(a.dtype))
        return r[0] if len(r) == 1 else tuple(r)
    if dim is None:   # (only what is asked: the inverse needs a stable argsort, 2-4x slower)
        got = np.unique(a.reshape(-1), return_inverse=return_inverse,
                        return_counts=return_counts, equal_nan=False)
        vals, *rest = got if return_inverse or return_counts else (got,)
        inv = rest.pop(0).reshape(a.shape) if return_inverse else None
        cnt = rest.pop(0) if return_counts else None
    else:
        if a.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = _wrap_dim(dim, a.ndim)
        if a.shape[d] == 0:
            vals, inv, cnt = a.copy(), np.zeros(0, np.int64), np.zeros(0, np.int64)
        else:
            vals, inv, cnt = np.unique(a, return_inverse=True, return_counts=True, axis=d,
                                       equal_nan=False)
            inv = inv.reshape(-1)
    return _unique_result(input, vals, inv, cnt, return_inverse, return_counts,
                          "Unique2Backward0" if dim is None else "UniqueDimBackward0",
                          "_unique2" if dim is None else "unique_dim")


def _unique_result(input, vals, inv, cnt, return_inverse, return_counts, label, what):
    r = [np.ascontiguousarray(vals)]
    if return_inverse:
        r.append(inv.astype(np.int64))
    if return_counts:
        r.append(cnt.astype(np.int64))
    r = _wrap_no_grad((input,), r, label, what)
    return r[0] if len(r) == 1 else r


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along dim)."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    _not_implemented(input, "unique", bool_ok=True)
    a = input._data
    if dim is None:
        flat = a.reshape(-1)
        change = flat[1:] != flat[:-1]
        moved, d = flat, 0
    else:
        d = _wrap_dim(dim, a.ndim)
        moved = np.moveaxis(a, d, 0)
        m = moved.reshape(moved.shape[0], -1)
        change = np.any(m[1:] != m[:-1], axis=1)
    n = moved.shape[0]
    starts = np.flatnonzero(np.concatenate([[True], change])) if n else np.zeros(0, np.int64)
    vals = moved[starts]
    if dim is not None:
        vals = np.moveaxis(vals, 0, d)
    inv = np.cumsum(np.concatenate([[0], change.astype(np.int64)])) if n else starts
    if dim is None:
        inv = inv.reshape(a.shape)
    cnt = np.diff(np.append(starts, n))
    return _unique_result(input, vals, inv, cnt, return_inverse, return_counts,
                          "UniqueConsecutiveBackward0", "unique_consecutive")


# ---------------------------------------------------------------------------------------------
# bincount, histc, histogram (no gradient)

def bincount(input, weights=None, minlength=0):
    """Counts of each non-negative integer (weighted sums with weights: float weights keep their
    dtype, other weights give float64)."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    a = input._data
    if a.dtype.kind not in "iu":
        raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                  f"'{input.dtype._legacy}'")
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return Tensor._make(np.bincount(a, minlength=minlength).astype(np.int64))
    w = weights._data
    if w.shape != a.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    odt = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    r = np.bincount(a, weights=w.astype(np.float64), minlength=minlength).astype(odt)
    return _wrap_no_grad((weights,), (r,), "torch::autograd::NotImplemented", "aten::bincount")[0]


_C_INTS = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
           "int64": "int64_t"}


def _float_only(input, kernel, bounds=()):
    """Floating inputs only; torch first casts the bounds to an integer input's dtype."""
    dt = input.dtype
    if not dt.is_floating_point:
        if dt.np.kind in "iu":
            info = np.iinfo(dt.np)
            if any(not info.min <= b <= info.max for b in bounds):
                raise RuntimeError(f"value cannot be converted to type "
                                   f"{_C_INTS[str(dt).split('.')[-1]]} without overflow")
        raise NotImplementedError(f'"{kernel}" not implemented for \'{dt._legacy}\'')


def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram of `bins` equal bins over [min, max] (the data's range when both are 0);
    elements outside are ignored."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    _float_only(input, "histogram_cpu", (min, max))
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    a = input._data
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    hist, _ = np.histogram(a[~np.isnan(a)], bins=bins, range=(lo, hi))
    return _out(Tensor._make(hist.astype(a.dtype)), out, msg=_HIST_OUT[0], grad=False)


def histogram(input, bins, *, range=None, weight=None, density=False, out=None):
    """(hist, bin_edges): `bins` equal bins over `range` (default the data's), or the bin edges
    given as a tensor; optional weights and density normalisation."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    _float_only(input, "histogramdd", tuple(range) if range is not None else ())
    a = input._data
    w = weight._data if weight is not None else None
    if isinstance(bins, Tensor):
        edges = bins._data
        hist, edges = np.histogram(a, bins=edges, weights=w, density=density)
    else:
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                               f"dimension 0")
        if range is None:
            rng = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
        else:
            rng = (float(range[0]), float(range[1]))
            if rng[0] > rng[1]:
                raise RuntimeError("torch.histogram(): min should not exceed max, but got min "
                                   f"{rng[0]} max {rng[1]} for dimension 0")
        if rng[0] == rng[1]:
            rng = (rng[0] - 0.5, rng[1] + 0.5)
        hist, edges = np.histogram(a, bins=bins, range=rng, weights=w, density=density)
    r = return_types.histogram(_wrap_no_grad(
        [x for x in (input, weight) if x is not None],
        (hist.astype(a.dtype), np.asarray(edges).astype(a.dtype)),
        "torch::autograd::NotImplemented", "aten::histogram"))
    if out is not None:
        for o, m in zip(out, _HIST_OUT):
            check_out_exact(o, a.dtype, m)
    return _out(r, out, grad="aten::histogram")


_HIST_OUT = tuple(f"torch.histogram: input tensor and {w} tensor should have the same dtype, but "
                  f"got input {{want_c}} and {w} {{got_c}}{e}"
                  for w, e in (("hist", ""), ("bin_edges", " for dimension 0")))


# ---------------------------------------------------------------------------------------------
# searchsorted, bucketize, isin, unravel_index (integer/bool results, no gradient)

_NUMBER = (bool, int, float, complex, np.bool_, np.number)


def _search_dtype(values, *others):
    """torch's common dtype of the operands, with every operand cast to it (Python scalars and
    0-d tensors wrap around, as torch's casts do); half types compare as float32, which is exact
    after rounding to the common dtype."""
    common = _dtype.result_type_of((values,) + others)
    cmp = np.dtype(np.float32) if common in (_dtype.float16, _dtype.bfloat16) else common.np

    def cast(x):
        a = x._data if isinstance(x, Tensor) else np.asarray(x)
        return a.astype(common.np, copy=False).astype(cmp, copy=False)
    return common, [cast(x) for x in (values,) + others]


def _bound(seq, vals, right):
    """Per row of seq (B, n) the lower (upper when right) bound of each of vals (B, m), by the
    bisection torch runs: go right while not seq[mid] >= v (> v when right). A NaN compares
    false, so NaN values land at n and NaNs inside seq steer the search as they do in torch."""
    n = seq.shape[1]
    lo = np.zeros(vals.shape, np.int64)
    hi = np.full(vals.shape, n, np.int64)
    base = (np.arange(seq.shape[0], dtype=np.int64) * n)[:, None]
    flat = seq.reshape(-1)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = lo + (hi - lo) // 2
        s = flat[base + np.minimum(mid, n - 1)]
        go_right = ~(s > vals) if right else ~(s >= vals)
        lo = np.where(active & go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)


def _check_flag(fn, name, value, kinds, what):
    if not isinstance(value, kinds):
        raise TypeError(f"{fn}(): argument '{name}' must be {what}, not {type(value).__name__}")


def _searchsorted(fn, sorted_sequence, values, out_int32, right, side, sorter, out):
    where = "torch.searchsorted()"
    _check_flag(fn, "sorted_sequence" if fn == "searchsorted" else "boundaries",
                sorted_sequence, Tensor, "Tensor")
    _check_flag(fn, "input", values, (Tensor,) + _NUMBER, "Tensor or Number")
    _check_flag(fn, "out_int32", out_int32, (bool, np.bool_), "bool")
    _check_flag(fn, "right", right, (bool, np.bool_), "bool")
    _check_flag(fn, "side", side, (str, type(None)), "str")
    _check_flag(fn, "sorter", sorter, (Tensor, type(None)), "Tensor")
    _check_flag(fn, "out", out, (Tensor, type(None)), "Tensor")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"{where}: side can only be 'left' or 'right' but got {side}")
        if side == "left" and right:
            raise RuntimeError(f"{where}: side and right can't be set to opposites, got side of "
                               f"left while right was True")
        right = side == "right"
    seq_shape = list(sorted_sequence._data.shape)
    if sorter is not None:
        if list(sorter._data.shape) != seq_shape:
            raise RuntimeError(f"{where}: boundary and sorter must have the same size, but got "
                               f"boundary tensor {seq_shape}and got sorter tensor "
                               f"{list(sorter._data.shape)}")
        if sorter.dtype is not _dtype.int64:
            raise RuntimeError(f"{where}: sorter must be a tensor of long dtype but got dtype "
                               f"{sorter.dtype._legacy}")
    want = _dtype.int32 if out_int32 else _dtype.int64
    if out is not None and out.dtype is not want:
        raise RuntimeError(f"{where}: output tensor's dtype is wrong, it can only be Int(int32) or "
                           f"Long(int64) depending on whether out_int32 flag is True, but we got "
                           f"output tensor's dtype {out.dtype._legacy} and out_int32 flag is "
                           f"{bool(out_int32)}")
    nd = len(seq_shape)
    if nd == 0:
        raise RuntimeError(f"{where}: boundaries tensor should have positive dimension, but got 0 "
                           f"dimension")
    vshape = values._data.shape if isinstance(values, Tensor) else ()
    if nd > 1:
        if not vshape:
            raise RuntimeError(f"{where}: input value can be a scalar only when boundaries tensor "
                               f"dimension is 1, but we got boundaries tensor dim({nd}) and input "
                               f"value's dim(0) numel(1)")
        if len(vshape) != nd or list(vshape[:-1]) != seq_shape[:-1]:
            raise RuntimeError(f"{where}: boundaries tensor should be 1 dimension or the first N-1 "
                               f"dimensions of boundaries tensor and input value tensor must "
                               f"match, but we got boundaries tensor {seq_shape} and input value "
                               f"tensor {list(vshape)}")
    n = seq_shape[-1]
    if sorter is not None and sorter._data.size and (
            sorter._data.min() < 0 or sorter._data.max() >= n):
        raise RuntimeError(f"{where}: sorter index out of range")
    common, (v, s) = _search_dtype(values, sorted_sequence)
    if common is _dtype.bool or common.is_complex or common in _dtype._BIG_UNSIGNED:
        raise NotImplementedError(f"\"searchsorted_out_cpu\" not implemented for "
                                  f"'{common._legacy}'")
    if sorter is not None:
        s = np.take_along_axis(s, sorter._data, axis=-1)
    if nd == 1 and (n < 2 or np.all(s[1:] >= s[:-1])):
        # sorted and NaN-free (a NaN fails >=): every bisection agrees, so NumPy's does
        side_ = "right" if right else "left"
        if n > 2 ** 14 and v.size > 64:
            # NumPy searches a long sequence about twice as fast for sorted values
            order = np.argsort(v, axis=None)
            r = np.empty(v.size, np.int64)
            r[order] = np.searchsorted(s, v.reshape(-1)[order], side=side_)
            r = r.reshape(vshape)
        else:
            r = np.searchsorted(s, v, side=side_)
    elif nd == 1:
        r = _bound(s[None], v.reshape(1, v.size), right).reshape(vshape)
    else:
        b = int(np.prod(seq_shape[:-1]))
        r = _bound(s.reshape(b, n), v.reshape(b, vshape[-1]), right).reshape(vshape)
    return _out(Tensor._make(np.asarray(r, dtype=want.np)), out)


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side: str = None, out: Tensor = None, sorter: Tensor = None) -> Tensor:
    """Indices at which `input` (a tensor or a scalar) would be inserted into the innermost dim
    of `sorted_sequence` to keep it sorted: the first such index, the last with right=True or
    side='right'. An N-D sequence searches row by row; its leading dims must equal input's
    (no broadcasting). `sorter` holds the indices that sort an unsorted sequence. NaN values
    land at the end; int64 result (int32 with out_int32), shaped like input."""
    return _searchsorted("searchsorted", sorted_sequence, input, out_int32, right, side, sorter,
                         out)


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False,
              out: Tensor = None) -> Tensor:
    """The bucket of each element of `input` (tensor or scalar) among the 1-D sorted
    `boundaries`: i with boundaries[i-1] < x <= boundaries[i] (<= x < with right=True); the
    reverse of numpy.digitize's convention. int64 result (int32 with out_int32)."""
    if isinstance(boundaries, Tensor) and boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.dim()})")
    return _searchsorted("bucketize", boundaries, input, out_int32, right, None, None, out)


def _flat_viewable(a):
    """Whether `a` can be viewed as 1-D without a copy (equal steps through all its elements)."""
    dims = [(n, st) for n, st in zip(a.shape, a.strides) if n != 1]
    return a.size == 0 or all(st == nxt_st * nxt_n
                              for (_, st), (nxt_n, nxt_st) in zip(dims, dims[1:]))


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False,
         out: Tensor = None) -> Tensor:
    """Bool tensor shaped like `elements`: whether each element equals some element of
    `test_elements` (either may be a scalar, not both), compared in their promoted dtype, so
    NaN is never in anything. invert=True negates. assume_unique only lets torch pick a faster
    algorithm; the answer here is exact either way."""
    args = (elements, test_elements)
    if not all(isinstance(a, (Tensor,) + _NUMBER) for a in args) or not any(
            isinstance(a, Tensor) for a in args):
        raise TypeError(f"isin(): expected (Tensor, Tensor), (Tensor, Number) or (Number, Tensor) "
                        f"but got ({type(elements).__name__}, {type(test_elements).__name__})")
    for a in args:
        if isinstance(a, Tensor):
            dt = a.dtype
            if dt is _dtype.bool or dt.is_complex:
                raise RuntimeError(f"Unsupported input type encountered for isin(): {dt._legacy}")
        elif isinstance(a, (bool, np.bool_)):
            raise RuntimeError("Unsupported input type encountered for isin(): Bool")
        elif isinstance(a, (complex, np.complexfloating)):
            raise RuntimeError("Unsupported input type encountered for isin(): ComplexDouble")
    common, (e, t) = _search_dtype(elements, test_elements)
    if all(isinstance(a, Tensor) for a in args) and common in _dtype._BIG_UNSIGNED:
        raise NotImplementedError(f"\"isin_default_cpu\" not implemented for '{common._legacy}'")
    _expect_out(out, _dtype.bool)
    if isinstance(test_elements, Tensor) and test_elements.dtype is common and \
            t.size < int(10 * e.size ** 0.145) and not _flat_viewable(test_elements._data):
        # torch's brute-force path (few test elements) views them as 1-D without copying
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    r = np.isin(e, t.reshape(-1), invert=bool(invert))
    return _out(Tensor._make(np.asarray(r, dtype=np.bool_).reshape(e.shape)), out)


def _layout_order(a):
    """The dims of `a`, innermost first, in the memory order torch gives an elementwise result
    of `a` broadcast against a new last dim (torch's stride order, `_stride_order`)."""
    return _stride_order(a.shape, a.strides)


def unravel_index(indices: Tensor, shape) -> tuple:
    """Coordinates of flat `indices` in a tensor of `shape` (an int or a sequence of ints): one
    int64 tensor per dim, each shaped like indices. As in torch, indices are not range-checked:
    each coordinate is (index // stride) % size with floor semantics, so -1 is the last element
    and out-of-range indices wrap around. The results are views of one (..., len(shape))
    tensor, as torch's are."""
    if not isinstance(indices, Tensor):
        raise AttributeError(f"'{type(indices).__name__}' object has no attribute 'is_complex'")
    dt = indices.dtype
    if dt is _dtype.bool or dt.is_floating_point or dt.is_complex:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {dt}")
    if isinstance(shape, int):
        shape = (int(shape),)
    elif isinstance(shape, Sequence):
        for s in shape:
            if not isinstance(s, int):
                raise TypeError(f"expected 'shape' sequence to only contain ints, but got "
                                f"{type(s)}")
        shape = tuple(int(s) for s in shape)
    else:
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    strides = [1] * max(len(shape), 1)
    for i in range(len(shape) - 2, -1, -1):
        strides[i] = strides[i + 1] * shape[i + 1]
    if any(v > np.iinfo(np.int64).max for v in strides + list(shape)):
        raise ValueError("Overflow when unpacking long long")
    # int64 arithmetic as torch does it (indices promote with an int64 tensor of strides)
    _dtype.promote_types(dt, _dtype.int64)
    a = indices._data
    if a.size and (0 in strides or 0 in shape):
        raise RuntimeError("ZeroDivisionError")
    # peel the dims off from the last: floor divisions compose, so coordinate i ends up as
    # (index // strides[i]) % shape[i]
    outer = _layout_order(a)[::-1]
    coords = np.empty([a.shape[d] for d in outer] + [len(shape)], np.int64).transpose(
        [outer.index(d) for d in range(a.ndim)] + [a.ndim])
    rest = a.astype(np.int64)
    for i in range(len(shape) - 1, 0, -1):
        rest, coords[..., i] = np.divmod(rest, shape[i])
    if shape:
        np.remainder(rest, shape[0], out=coords[..., 0])
    return tuple(Tensor._make(coords[..., i]) for i in range(len(shape)))


# ---------------------------------------------------------------------------------------------
# Tensor methods

for _f in (sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, quantile, nanquantile,
           unique, unique_consecutive, bincount, histc, histogram):
    setattr(Tensor, _f.__name__, _f)
