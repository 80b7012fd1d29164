"""Reductions into bins and segments: histogramdd (counts of points in an N-d grid of bins) and
segment_reduce (sum/mean/max/min/prod over consecutive runs of given lengths).

histogramdd has no gradient (a node that raises, as torch's NotImplemented); segment_reduce's
first derivative is written on arrays, and its own derivative raises, as in torch.
"""
import operator

import numpy as np

from ember import _dtype, return_types
from ember._tensor import Tensor, _wrap_dim
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["histogramdd", "segment_reduce"]


_C_NAME = {"float32": "float", "float64": "double"}


class _NoDerivative(ArrayFunction):
    """Outputs recorded when an input requires grad; backward raises (torch's NotImplemented)."""

    def forward(ctx, *arrays, results, what):
        ctx.what = what
        return results

    def backward(ctx, *grads):
        raise RuntimeError(f"derivative for {ctx.what} is not implemented")

    def name(self):
        return "torch::autograd::NotImplemented"


# ---------------------------------------------------------------------------------------------
# histogramdd

def _linspace(lo, hi, steps, npd):
    """torch.linspace's values, bit-equal: the step in the dtype, each value a fused
    multiply-add (one rounding, emulated in a wider type), filled from both ends."""
    t = npd.type
    lo, hi = t(lo), t(hi)
    if steps == 1:
        return np.array([lo], npd)
    step = (hi - lo) / t(steps - 1)
    wide = np.float64 if npd == np.float32 else np.longdouble
    lo_w, hi_w, step_w = wide(lo), wide(hi), wide(step)
    i = np.arange(steps)
    front = lo_w + step_w * i.astype(wide)
    back = hi_w - step_w * (steps - 1 - i).astype(wide)
    return np.where(i < steps // 2, front, back).astype(npd)


def _bin_counts(x, edges, w, npd):
    """Counts (or weight sums) of the points x (N, D) in the grid of `edges`. A point outside
    [first edge, last edge] in any dim (or NaN) is left out; the last bin includes its right
    edge."""
    shape = tuple(len(e) - 1 for e in edges)
    keep = np.ones(x.shape[0], bool)
    flat = np.zeros(x.shape[0], np.int64)
    for d, e in enumerate(edges):
        v = x[:, d]
        keep &= (v >= e[0]) & (v <= e[-1])
        pos = np.searchsorted(e, v, side="right") - 1
        pos = np.clip(pos, 0, shape[d] - 1)   # the right edge belongs to the last bin
        flat = flat * shape[d] + pos
    hist = np.zeros(int(np.prod(shape)), npd)
    np.add.at(hist, flat[keep], 1 if w is None else w[keep])
    return hist.reshape(shape)


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges) of the points input[..., :] (the innermost dim holds the D
    coordinates). bins: an int (for every dim), D ints, or D 1-D tensors of edges (then range
    is ignored). Without range each dim spans its data's min..max (widened by 0.5 each way when
    they agree; [0, 1] for no points). weight gives each point's contribution; density divides
    by the total and the bin volumes. No gradient."""
    a = input._data
    if not isinstance(input, Tensor):
        raise TypeError(f"histogramdd(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if a.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{input.dtype._legacy}'")
    if a.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    n_dim = a.shape[-1]
    x = a.reshape(-1, n_dim)
    if isinstance(bins, (int, np.integer)):
        bins = [int(bins)] * n_dim
    bins = list(bins)
    if len(bins) != n_dim:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                           "dimension of the input.")
    w = None
    if weight is not None:
        if tuple(weight.shape) != a.shape[:-1]:
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have "
                               f"the same shape as the input tensor excluding its innermost "
                               f"dimension, but got input with shape {list(a.shape)} and "
                               f"weight with shape {list(weight.shape)}")
        if weight._data.dtype != a.dtype:
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided, input tensor "
                               f"and weight tensor should have the same dtype, but got "
                               f"input({_C_NAME[a.dtype.name]}), and "
                               f"weight({_C_NAME.get(weight._data.dtype.name, '?')})")
        w = weight._data.reshape(-1)
    if all(isinstance(b, Tensor) for b in bins):
        for d, b in enumerate(bins):
            if b._data.dtype != a.dtype:
                raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should "
                                   f"have the same dtype, but got input with dtype "
                                   f"{_C_NAME[a.dtype.name]} and bins for dimension {d} with "
                                   f"dtype {_C_NAME.get(b._data.dtype.name, '?')}")
        edge_tensors = list(bins)
        edges = [b._data.reshape(-1) for b in bins]
    else:
        edges = _uniform_edges(x, [operator.index(b) for b in bins], range, a.dtype)
        edge_tensors = None
    hist = _bin_counts(x, edges, w, a.dtype)
    if density:
        volume = np.ones((), np.float64)
        for e in edges:
            volume = np.multiply.outer(volume, np.diff(e).astype(np.float64))
        hist = (hist / (hist.sum(dtype=np.float64) * volume)).astype(a.dtype)
    results = [hist] + ([] if edge_tensors is not None else [e for e in edges])
    inputs = [t for t in (input, weight) if t is not None]
    if _grad_state.enabled and any(t._requires_grad for t in inputs):
        outs = _NoDerivative.apply(*inputs, results=tuple(results), what="aten::histogramdd")
        outs = outs if isinstance(outs, tuple) else (outs,)
    else:
        outs = tuple(Tensor._make(r) for r in results)
    bin_edges = tuple(edge_tensors) if edge_tensors is not None else tuple(outs[1:])
    return return_types.histogramdd((outs[0], bin_edges))   # bin_edges: a tuple of 1-D tensors


def _uniform_edges(x, counts, range, npd):
    n_dim = x.shape[1]
    for d, n in enumerate(counts):
        if n <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {n} for dimension "
                               f"{d}")
    if range is not None:
        range = [float(r) for r in range]
        if len(range) != 2 * n_dim:
            raise RuntimeError(f"torch.histogramdd: for a {n_dim}-dimensional histogram range "
                               f"should have {2 * n_dim} elements, but got {len(range)}")
    edges = []
    for d, n in enumerate(counts):
        if range is not None:
            lo, hi = range[2 * d], range[2 * d + 1]
        elif x.shape[0]:
            lo, hi = float(x[:, d].min()), float(x[:, d].max())
        else:
            lo, hi = 0.0, 1.0
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{_fmt(lo)}, "
                               f"{_fmt(hi)}] is not finite")
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min "
                               f"{_fmt(lo)} max {_fmt(hi)} for dimension {d}")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges.append(_linspace(lo, hi, n + 1, npd))
    return edges


def _fmt(v):
    return f"{v:g}"


# ---------------------------------------------------------------------------------------------
# segment_reduce

_SEGMENT_REDUCE = {"sum": "sum", "mean": "mean", "max": "max", "amax": "max", "min": "min",
                   "amin": "min", "prod": "prod"}
_START = {"sum": 0.0, "mean": 0.0, "max": -np.inf, "min": np.inf, "prod": 1.0}
_UFUNC = {"sum": np.add, "mean": np.add, "max": np.maximum, "min": np.minimum,
          "prod": np.multiply}


class SegmentReduce(ArrayFunction):
    """Reduce runs of data along `axis`, seen as (B, N, ...) with B the dims before axis: the
    K entries (rows[k], pos[k]) go to segment seg[k] of their row. Output: data's shape with
    N replaced by the number of segments."""

    def forward(ctx, data, *, rows, pos, seg, lens, n_seg, reduce, initial, axis):
        work = np.float64 if data.dtype == np.float64 else np.float32
        b = lens.shape[0]
        x = data.reshape((b,) + data.shape[axis:]).astype(work, copy=False)
        start = _START[reduce] if initial is None else initial
        out = np.full((b, n_seg) + x.shape[2:], start, work)
        vals = x[rows, pos]
        _UFUNC[reduce].at(out, (rows, seg), vals)
        if reduce == "mean":
            count = lens.reshape(lens.shape + (1,) * (x.ndim - 2)).astype(work)
            with np.errstate(divide="ignore", invalid="ignore"):
                mean = out / count
            empty = np.nan if initial is None else initial
            out = np.where(count > 0, mean, work(empty))
        ctx.rows, ctx.pos, ctx.seg, ctx.lens, ctx.reduce = rows, pos, seg, lens, reduce
        ctx.initial, ctx.in_shape, ctx.x_shape, ctx.axis = initial, data.shape, x.shape, axis
        if reduce in ("max", "min", "prod"):
            ctx.x, ctx.out = x, out
        ctx.save_for_backward(data)   # (torch's backward reads it: a second derivative raises)
        shape = data.shape[:axis] + (n_seg,) + data.shape[axis + 1:]
        return out.astype(data.dtype, copy=False).reshape(shape)

    def backward(ctx, grad):
        (data,) = ctx.saved_tensors
        return SegmentReduceBackward.apply(grad, data, node=ctx)

    def name(self):
        return "SegmentReduceBackward0"


class SegmentReduceBackward(ArrayFunction):
    """The gradient of SegmentReduce (torch has no second derivative: it raises)."""

    def forward(ctx, grad, data, *, node):
        rows, pos, seg, reduce = node.rows, node.pos, node.seg, node.reduce
        g = grad.astype(np.float64 if grad.dtype == np.float64 else np.float32, copy=False)
        g = g.reshape((node.lens.shape[0],) + g.shape[node.axis:])
        out = np.zeros(node.x_shape, g.dtype)
        gs = g[rows, seg]   # each element's segment gradient (K, T)
        if reduce == "sum":
            contrib = gs
        elif reduce == "mean":
            n = node.lens[rows, seg].astype(g.dtype)
            contrib = gs / n.reshape(n.shape + (1,) * (gs.ndim - 1))
        elif reduce in ("max", "min"):
            # ties share the gradient evenly; a NaN result goes to the NaN elements
            x, res = node.x[rows, pos], node.out[rows, seg]
            hit = (x == res) | (np.isnan(x) & np.isnan(res))
            count = np.zeros(node.out.shape, np.int64)
            np.add.at(count, (rows, seg), hit)
            contrib = np.where(hit, gs / np.maximum(count[rows, seg], 1), 0)
        else:
            contrib = gs * _others_product(node)
        np.add.at(out, (rows, pos), contrib)
        return out.astype(grad.dtype, copy=False).reshape(node.in_shape)

    def backward(ctx, *grads):
        raise RuntimeError("derivative for aten::_segment_reduce_backward is not implemented")

    def name(self):
        return "torch::autograd::NotImplemented"


def _others_product(node):
    """For each element, the product of the other factors of its segment (initial included),
    as exclusive prefix times suffix products: exact for zeros, and a NaN or inf only spoils
    the other elements' gradients."""
    rows, seg = node.rows, node.seg
    x = node.x[rows, node.pos]
    lens = node.lens.reshape(-1)
    group = rows * node.lens.shape[1] + seg
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    within = np.arange(x.shape[0]) - starts[group]
    width = int(lens.max()) if lens.size else 0
    pad = np.ones((lens.size, width) + x.shape[1:], x.dtype)
    pad[group, within] = x
    ones = np.ones((lens.size, 1) + x.shape[1:], x.dtype)
    before = np.concatenate([ones, np.cumprod(pad, axis=1)[:, :-1]], axis=1)
    after = np.concatenate([np.cumprod(pad[:, ::-1], axis=1)[:, -2::-1], ones], axis=1) \
        if width else pad
    init = 1.0 if node.initial is None else node.initial
    return before[group, within] * after[group, within] * x.dtype.type(init)


def _lengths_from(lengths, offsets):
    if lengths is not None:
        a = lengths._data
        if a.dtype not in (np.int32, np.int64):
            raise NotImplementedError(f"\"_segment_reduce_lengths_cpu_kernel1\" not implemented "
                                      f"for '{lengths.dtype._legacy}'")
        return a.astype(np.int64), None
    a = offsets._data
    if a.dtype not in (np.int32, np.int64):
        raise NotImplementedError(f"\"_segment_reduce_offsets_cpu_kernel1\" not implemented for "
                                  f"'{offsets.dtype._legacy}'")
    a = a.astype(np.int64)
    return np.diff(a, axis=-1), a[..., :1]


def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0,
                   unsafe=False, initial=None):
    """Reduce consecutive segments of data along axis. lengths (or offsets, one more than the
    segments) has data's leading dims up to axis, then one entry per segment. reduce: 'sum',
    'mean', 'max' ('amax'), 'min' ('amin'), 'prod'; initial joins every segment's reduction
    (an empty segment gives initial, else 0 / NaN / -inf / inf / 1). Floating data only."""
    if reduce not in _SEGMENT_REDUCE:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    reduce = _SEGMENT_REDUCE[reduce]
    if indices is not None and lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    a = data._data
    if a.dtype.kind != "f" and data.dtype is not _dtype.bfloat16:
        raise NotImplementedError(f"\"_segment_reduce_cpu\" not implemented for "
                                  f"'{data.dtype._legacy}'")
    lens, starts = _lengths_from(lengths, offsets)
    ax = _wrap_dim(axis, a.ndim)
    if a.ndim < lens.ndim:
        raise RuntimeError("Expected data.dim() >= lengths_value.dim() to be true, but got "
                           "false.")
    if ax != lens.ndim - 1:
        raise RuntimeError(f"segment_reduce(): Expected axis to be the last dimension of "
                           f"lengths but got {ax}.")
    if lens.shape[:-1] != a.shape[:ax]:
        raise RuntimeError(f"segment_reduce(): lengths of shape {list(lens.shape)} do not match "
                           f"data of shape {list(a.shape)} before axis {ax}")
    if lens.size and lens.min() < 0:
        raise RuntimeError("lengths contains negative value!" if starts is None else
                           "Expected segment_length >= 0 to be true, but got false.")
    n = a.shape[ax]
    if not unsafe and starts is None and lens.size and (lens.sum(-1) != n).any():
        raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to sum to "
                           "data.size(lengths.dim()-1) when !unsafe.")
    # rows (B), the N data entries along axis, trailing dims T
    b = int(np.prod(a.shape[:ax], dtype=np.int64))
    lens2 = lens.reshape(b, -1)
    n_seg = lens2.shape[1]
    flat_lens = lens2.reshape(-1)
    seg = np.repeat(np.tile(np.arange(n_seg), b), flat_lens)
    rows = np.repeat(np.repeat(np.arange(b), n_seg), flat_lens)
    first = np.zeros(b, np.int64) if starts is None else starts.reshape(b)
    row_start = np.concatenate([[0], np.cumsum(lens2.sum(1))[:-1]]).astype(np.int64)
    pos = np.arange(seg.size) - np.repeat(row_start, lens2.sum(1)) + np.repeat(
        first, lens2.sum(1))
    if seg.size and (pos.max() >= n or pos.min() < 0):
        raise RuntimeError(f"segment_reduce(): segments reach past the {n} entries of data "
                           f"along axis {ax}")
    init = None if initial is None else float(initial)
    r = SegmentReduce.apply(data, rows=rows, pos=pos, seg=seg, lens=lens2, n_seg=n_seg,
                            reduce=reduce, initial=init, axis=ax)
    return r   # (torch.segment_reduce takes no out=)
