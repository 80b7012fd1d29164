"""Sorting and order statistics: sort argsort msort topk kthvalue, median nanmedian mode
quantile nanquantile, unique unique_consecutive, bincount histc histogram.

NaN sorts as the largest value (last ascending, first descending), as in torch. Gradients of
the selecting ops (sort, topk, kthvalue, median, mode) go to the selected indices; quantile is
sort + gather + linear interpolation, so its gradient follows. Where several elements tie, torch
picks an implementation-defined index for topk/kthvalue/median; ember picks the first in stable
order (mode: the last occurrence of the smallest most frequent value, as torch does).
"""
import numpy as np

from ember import _dtype
from ember import return_types
from ember._ops.reduction import (_GatherAlong, _Labelled, _dim1, _nonempty, _out, _ScatterAlong,
                                  _select_grad)
from ember._tensor import Tensor, _wrap_dim

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode",
           "quantile", "nanquantile", "unique", "unique_consecutive", "bincount", "histc",
           "histogram"]


def _no_complex(input, what="Sort"):
    if input._data.dtype.kind == "c":
        raise RuntimeError(f" {what} does not support complex dtypes on CPU")


def _argsort(a, dim, descending):
    """Stable argsort along dim; descending keeps ties in their original order too."""
    if not descending:
        return np.argsort(a, axis=dim, kind="stable")
    n = a.shape[dim]
    r = np.argsort(np.flip(a, dim), axis=dim, kind="stable")
    return (n - 1) - np.flip(r, dim)


# ---------------------------------------------------------------------------------------------
# sort, argsort, msort, topk, kthvalue

class Select(_Labelled):
    """Values of `a` picked along dim by indices computed from `a` (sort, topk, kthvalue,
    median(dim), mode); backward scatters the gradient to those indices."""

    def forward(ctx, a, *, dim, idx, keepdim, label):
        ctx.label, ctx.dim, ctx.keepdim, ctx.shape = label, dim, keepdim, a.shape
        if dim is None:
            ctx.idx = None
            return a.copy(), np.zeros((), np.int64)
        ctx.idx = idx
        vals = np.take_along_axis(a, idx, axis=dim)
        if not keepdim:
            vals, idx = vals.squeeze(dim), idx.squeeze(dim)
        return vals, idx.astype(np.int64, copy=False)

    def backward(ctx, grad, _):
        return _select_grad(grad, ctx.idx, ctx.dim, ctx.keepdim, ctx.shape)


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """(values, indices) sorted along dim; the sort is always stable here (a valid result for
    stable=False too). NaN sorts last (first when descending)."""
    if isinstance(dim, bool):     # sort(x, stable=...) is keyword-only in torch; guard typos
        raise TypeError("sort(): argument 'dim' must be int, not bool")
    _no_complex(input)
    d = _dim1(input, dim)
    idx = None if d is None else _argsort(input._data, d, descending)
    r = Select.apply(input, dim=d, idx=idx, keepdim=True, label="SortBackward0")
    return _out(return_types.sort(r), out)


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort `input` along dim (int64)."""
    _no_complex(input)
    d = _dim1(input, dim)
    if d is None:
        return Tensor._make(np.zeros((), np.int64))
    return Tensor._make(_argsort(input._data, d, descending).astype(np.int64, copy=False))


def msort(input, *, out=None):
    """sort(input, dim=0).values."""
    return _out(sort(input, 0).values, out)


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The k largest (or smallest) elements along dim and their indices, sorted."""
    _no_complex(input, "topk")
    d = _dim1(input, dim)
    n = input._data.shape[d] if d is not None else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if d is None:
        idx = None
    else:
        idx = np.take(_argsort(input._data, d, largest), np.arange(k), axis=d)
    r = Select.apply(input, dim=d, idx=idx, keepdim=True, label="TopkBackward0")
    return _out(return_types.topk(r), out)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The k-th smallest element (1-based) along dim and its index."""
    _no_complex(input, "kthvalue")
    d = _dim1(input, dim)
    n = input._data.shape[d] if d is not None else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension "
                           f"{d if d is not None else 0}")
    idx = None if d is None else np.take(_argsort(input._data, d, False), [k - 1], axis=d)
    r = Select.apply(input, dim=d, idx=idx, keepdim=keepdim, label="KthvalueBackward0")
    return _out(return_types.kthvalue(r), out)


# ---------------------------------------------------------------------------------------------
# median, nanmedian, mode

def _median_idx(a, d, ignore_nan):
    """Index (keepdim layout) of the lower median along d; NaN wins unless ignore_nan."""
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
    _no_complex(input, name)
    a = input._data
    if dim is None:
        if a.size == 0:
            return _out(Tensor._make(np.array(np.nan, a.dtype)), out)
        flat = input.reshape(-1)
        idx = _median_idx(flat._data, 0, ignore_nan)
        vals, _ = Select.apply(flat, dim=0, idx=idx, keepdim=False,
                               label=name.capitalize() + "Backward0")
        return _out(vals, out)
    d = _dim1(input, dim)
    if d is not None:
        _nonempty(input, (d,), name, specify=False)
    idx = None if d is None else _median_idx(a, d, ignore_nan)
    r = Select.apply(input, dim=d, idx=idx, keepdim=keepdim,
                     label=name.capitalize() + "Backward1")
    return _out(getattr(return_types, name)(r), out)


def median(input, dim=None, keepdim=False, *, out=None):
    """The lower median (of all elements, or (values, indices) along dim); NaN if any NaN."""
    return _median(input, dim, keepdim, out, "median", False)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """median ignoring NaNs (NaN only where a slice is all NaN)."""
    return _median(input, dim, keepdim, out, "nanmedian", True)


def mode(input, dim=-1, keepdim=False, *, out=None):
    """(values, indices): the most frequent value along dim (the smallest among equally frequent
    ones) and the index of its last occurrence, as torch returns."""
    _no_complex(input, "mode")
    d = _dim1(input, dim)
    a = input._data
    if d is None:
        idx = None
    elif a.size == 0:
        _nonempty(input, (d,), "mode", specify=False)
        idx = np.zeros([1 if i == d else n for i, n in enumerate(a.shape)], np.int64)
    else:
        order = np.argsort(a, axis=d, kind="stable")
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
        # the end of the first longest run: the smallest mode, at its last (stable) occurrence
        idx = np.take_along_axis(order, end, axis=d)
    r = Select.apply(input, dim=d, idx=idx, keepdim=keepdim, label="ModeBackward0")
    return _out(return_types.mode(r), out)


# ---------------------------------------------------------------------------------------------
# quantile, nanquantile

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, name, ignore_nan):
    dt = input.dtype
    if dt not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if input._data.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
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
    nd = input.dim()
    if dim is None:
        x, d = input.reshape(-1), 0
    else:
        d = _wrap_dim(dim, nd)
        x = input if nd else input.reshape(1)
        d = d if nd else 0
    if x._data.shape[d] == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    # sort (NaN last), then ranks per slice: n - 1 valid positions, or all-NaN/NaN slices
    srt = sort(x, d).values
    a = x._data
    n = a.shape[d]
    nnan = np.sum(np.isnan(a), axis=d, keepdims=True)
    qshape = [-1] + [1] * a.ndim
    qq = qa.reshape(qshape)                                        # (Q, 1, ..., 1)
    if ignore_nan:
        last = np.maximum(n - nnan - 1, 0)
        rank = qq * last
        allnan = nnan == n
    else:
        rank = np.where(nnan > 0, n - 1, qq * (n - 1))
        allnan = nnan > 0
    rank = np.broadcast_to(rank, (len(qa),) + tuple(1 if i == d else s for i, s in
                                                     enumerate(a.shape))).astype(np.float64)
    if interpolation == "lower":
        rank = np.floor(rank)
    elif interpolation == "higher":
        rank = np.ceil(rank)
    elif interpolation == "nearest":
        rank = np.round(rank)
    lo = np.floor(rank).astype(np.int64)
    hi = np.minimum(np.ceil(rank).astype(np.int64), n - 1)
    w = rank - lo
    if interpolation == "midpoint":
        w = np.where(hi > lo, 0.5, 0.0)
    w = np.where(np.broadcast_to(allnan, w.shape), 0.0, w)
    # gather the two neighbours for every q: move q into a leading batch dim of the sorted data
    big = srt.unsqueeze(0).expand((len(qa),) + tuple(srt.shape))
    vlo = _GatherAlong.apply(big, idx=lo, dim=d + 1)
    vhi = _GatherAlong.apply(big, idx=hi, dim=d + 1)
    r = vlo + (vhi - vlo) * Tensor._make(w.astype(a.dtype))
    if ignore_nan:   # all-NaN slices give NaN
        r = r + Tensor._make(np.where(np.broadcast_to(allnan, w.shape), np.nan, 0).astype(
            a.dtype))
    if dim is None:
        r = r.reshape((len(qa),) + ((1,) * nd if keepdim else ()))
    elif keepdim or not nd:
        if not nd:
            r = r.reshape((len(qa),))
    else:
        r = r.squeeze(d + 1)
    return r.squeeze(0) if scalar_q else r


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """q-th quantiles along dim (flattened when None); q a float or a 0-D/1-D tensor (a 1-D q
    adds a leading dim). NaN where a slice has a NaN."""
    return _out(_quantile(input, q, dim, keepdim, interpolation, "quantile", False), out)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """quantile ignoring NaNs (NaN only where a slice is all NaN)."""
    return _out(_quantile(input, q, dim, keepdim, interpolation, "nanquantile", True), out)


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
    a = input._data
    if dim is None:
        vals, inv, cnt = np.unique(a.reshape(-1), return_inverse=True, return_counts=True,
                                   equal_nan=False)
        inv = inv.reshape(a.shape)
    else:
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
    a = input._data
    if a.dtype.kind not in "iu" and a.dtype != np.bool_:
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
    return _wrap_no_grad((weights,), (r,), "NotImplemented", "aten::bincount")[0]


def _float_only(input, kernel):
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{input.dtype._legacy}\'')


def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram of `bins` equal bins over [min, max] (the data's range when both are 0);
    elements outside are ignored."""
    _float_only(input, "histogram_cpu")
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
    return _out(Tensor._make(hist.astype(a.dtype)), out)


def histogram(input, bins, *, range=None, weight=None, density=False, out=None):
    """(hist, bin_edges): `bins` equal bins over `range` (default the data's), or the bin edges
    given as a tensor; optional weights and density normalisation."""
    _float_only(input, "histogramdd")
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
    hist = _wrap_no_grad((weight,), (hist.astype(a.dtype),), "NotImplemented", "aten::histogram")[0]
    r = return_types.histogram((hist, Tensor._make(np.asarray(edges).astype(a.dtype))))
    return _out(r, out)


# ---------------------------------------------------------------------------------------------
# Tensor methods

for _f in (sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, quantile, nanquantile,
           unique, unique_consecutive, bincount, histc, histogram):
    setattr(Tensor, _f.__name__, _f)
