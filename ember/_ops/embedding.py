"""Embedding lookups: embedding, embedding_bag, one_hot.

`Embedding` gathers rows of the weight; its backward scatters the gradient back with
`add_at` (repeated indices accumulate, in order), zeroes the padding_idx row and, with
scale_grad_by_freq, divides each row's gradient by how often its index occurs in the batch.
"""
import numpy as np

from ember._ops._helpers import add_at, is_half, round_through
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = []


def _check_indices(idx, n):
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"{Tensor._make(idx).type()} instead (while checking "
                           "arguments for embedding)")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError("index out of range in self")


class Embedding(ArrayFunction):
    """weight[idx]; the indices (an int array) are a parameter: torch's node has one edge."""

    def forward(ctx, weight, *, idx, padding_idx, scale_grad_by_freq):
        _check_indices(idx, weight.shape[0])
        ctx.idx, ctx.n, ctx.dim = idx, weight.shape[0], weight.shape[1]
        ctx.padding_idx, ctx.scale = padding_idx, scale_grad_by_freq
        return weight[idx]

    def backward(ctx, grad):
        return EmbeddingScatter.apply(grad, src=ctx)


class EmbeddingScatter(ArrayFunction):
    """The weight gradient: rows of grad added at their indices (linear in grad)."""

    def forward(ctx, grad, *, src):
        ctx.src = src
        idx = src.idx.reshape(-1)
        g = grad.reshape(idx.shape[0], src.dim)
        if src.scale:
            counts = np.bincount(idx, minlength=src.n)
            g = g / counts[idx][:, None]
        if src.padding_idx is not None:
            g = np.where((idx == src.padding_idx)[:, None], 0, g)
        out = np.zeros((src.n, g.shape[1]), grad.dtype)
        add_at(out, idx, g)
        return out

    def backward(ctx, gg):
        src = ctx.src
        idx = src.idx.reshape(-1)
        rows = gg._data[idx]
        if src.scale:
            counts = np.bincount(idx, minlength=src.n)
            rows = rows / counts[idx][:, None]
        if src.padding_idx is not None:
            rows = np.where((idx == src.padding_idx)[:, None], 0, rows)
        return Tensor._make(rows.reshape(src.idx.shape + (src.dim,)).astype(gg._data.dtype))


def _renorm_rows(weight, idx, max_norm, norm_type):
    """Rescale (in place, no graph) the looked-up rows whose norm exceeds max_norm. Half
    types as torch: the norm computed in float32 and rounded to the half type, the scale
    max_norm / (norm + 1e-7) rounded to it too (its in-place multiply takes the number in
    the tensor's dtype), the row times it in float32, rounded."""
    w = weight._data
    rows = np.unique(idx.reshape(-1))
    sel = w[rows]
    if is_half(w.dtype):
        sel = sel.astype(np.float32)
        norms = np.linalg.norm(sel, ord=norm_type, axis=1).astype(w.dtype).astype(np.float64)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        scale = scale.astype(w.dtype).astype(np.float32)
    else:
        norms = np.linalg.norm(sel, ord=norm_type, axis=1)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] = (sel * scale[:, None]).astype(w.dtype)
    weight._vc.value += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """weight[input]; padding_idx rows get no gradient."""
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    n = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0 and padding_idx >= n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            if padding_idx < -n:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = n + padding_idx
    if sparse:
        raise NotImplementedError("ember: sparse embedding gradients are not implemented")
    idx = input._data
    if max_norm is not None:
        _check_indices(idx, n)
        _renorm_rows(weight, idx, max_norm, norm_type)
    return Embedding.apply(weight, idx=idx, padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)


class BagMax(ArrayFunction):
    """Max over each bag's rows (bags given by a segment id per row); empty bags give 0."""

    def forward(ctx, rows, *, seg, n_bags):
        D = rows.shape[1]
        out = np.full((n_bags, D), -np.inf, rows.dtype)
        np.maximum.at(out, seg, rows)
        # the winning row per (bag, column): the first row equal to the max
        arg = np.full((n_bags, D), -1, np.int64)
        order = np.arange(rows.shape[0])[::-1]
        hit = rows[order] == out[seg[order]]
        r, c = np.nonzero(hit)
        arg[seg[order][r], c] = order[r]
        out[np.isinf(out) & (arg < 0)] = 0
        ctx.arg, ctx.n_rows = arg, rows.shape[0]
        return out

    def backward(ctx, grad):
        g = np.zeros((ctx.n_rows, grad.shape[1]), grad._data.dtype)
        bag, col = np.nonzero(ctx.arg >= 0)
        g[ctx.arg[bag, col], col] = grad._data[bag, col]
        return Tensor._make(g)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sum, mean or max of embeddings per bag. 2-D input: one bag per row; 1-D input: bags
    start at `offsets`. padding_idx entries are left out (also from the mean's count)."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    idx = input._data
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        B, L = idx.shape
        seg = np.repeat(np.arange(B), L)
        flat = idx.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        off = offsets._data.astype(np.int64)
        end = idx.shape[0]
        if include_last_offset:   # the last offset ends the last bag: later indices are unused
            end, off = min(int(off[-1]), end), off[:-1]
        B = off.shape[0]
        flat = idx[:end]
        seg = np.searchsorted(off, np.arange(end), side="right") - 1
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    n = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    keep = np.ones(flat.shape, bool) if padding_idx is None else flat != padding_idx
    flat_t = Tensor._make(np.ascontiguousarray(flat[keep]))
    seg = seg[keep]
    if is_half(weight._data.dtype) and mode != "max" and not scale_grad_by_freq:
        if max_norm is not None:
            _check_indices(flat_t._data, n)
            _renorm_rows(weight, flat_t._data, max_norm, norm_type)
        psw = None if per_sample_weights is None else per_sample_weights.reshape(-1)
        args = (weight,) if psw is None else (weight, psw)
        return HalfEmbeddingBag.apply(*args, idx=flat_t._data, seg=seg, n_bags=B, mode=mode,
                                      keep=np.nonzero(keep)[0], fast=padding_idx is None)
    rows = embedding(flat_t, weight, None, max_norm, norm_type, scale_grad_by_freq)
    if per_sample_weights is not None:
        psw = per_sample_weights.reshape(-1)
        rows = rows * _gather_rows(psw, np.nonzero(keep)[0]).unsqueeze(1)
    if mode == "max":
        return BagMax.apply(rows, seg=seg, n_bags=B)
    out = Tensor._make(np.zeros((B, rows.shape[1]), rows._data.dtype)).index_add(
        0, Tensor._make(seg), rows)   # each row added into its bag
    if mode == "mean":
        counts = np.bincount(seg, minlength=B).astype(rows._data.dtype)
        out = out / Tensor._make(np.maximum(counts, 1)[:, None])
    return out


class HalfEmbeddingBag(ArrayFunction):
    """embedding_bag's sum and mean (with per-sample weights) for half types, as torch's CPU
    kernels: each bag's rows (times their weights, fused) summed in float32 in order, rounded
    (bfloat16 without padding_idx: half away from zero, as the fast kernel converts), a mean
    then divides that rounded sum by the bag's size. Backward, per occurrence in index
    order: the bag's gradient times the scale (1, the weight or 1 / size, rounded to the half
    type) in the half type, added to the weight's row in the half type (torch orders equal
    indices with an unstable sort: past 16 indices a row fed by several bags may round in
    another order); the per-sample weights' gradient: the dot of the bag's gradient and the
    row, in float32."""

    def forward(ctx, weight, psw=None, *, idx, seg, n_bags, mode, keep, fast):
        dt = weight.dtype
        rows = weight[idx].astype(np.float32)
        acc = np.zeros((n_bags, weight.shape[1]), np.float32)
        starts = np.r_[0, np.flatnonzero(seg[1:] != seg[:-1]) + 1]
        rank = np.arange(seg.size) - np.repeat(starts, np.diff(np.r_[starts, seg.size]))
        w = None if psw is None else psw[keep].astype(np.float32)
        for r in range(int(rank.max()) + 1 if seg.size else 0):
            sel = rank == r   # one row per bag: its r-th
            if w is None:
                acc[seg[sel]] += rows[sel]
            else:
                acc[seg[sel]] = (np.multiply(rows[sel], w[sel, None], dtype=np.float64)
                                 + acc[seg[sel]]).astype(np.float32)
        out = _round_half_away(acc) if fast and dt.name == "bfloat16" else acc.astype(dt)
        counts = np.bincount(seg, minlength=n_bags)
        if mode == "mean":
            out = (out.astype(np.float32) / np.maximum(counts, 1)[:, None]).astype(dt)
        ctx.idx, ctx.seg, ctx.n, ctx.mode, ctx.keep = idx, seg, weight.shape[0], mode, keep
        ctx.counts, ctx.psw_len = counts, None if psw is None else psw.shape[0]
        ctx.save_for_backward(weight if psw is not None else None, psw)
        return out

    def backward(ctx, grad):
        weight, psw = ctx.saved_tensors
        g = grad._data
        dt = g.dtype
        idx, seg = ctx.idx, ctx.seg
        gw = gp = None
        r = lambda v: round_through(v, dt)   # noqa: E731
        if ctx.needs_input_grad[0]:
            if psw is not None:
                scale = psw._data[ctx.keep].astype(np.float32)
            elif ctx.mode == "mean":
                scale = r(1.0 / np.maximum(ctx.counts[seg], 1))
            else:
                scale = np.ones(seg.size, np.float32)
            terms = r(scale[:, None] * g[seg].astype(np.float32))
            out = np.zeros((ctx.n, g.shape[1]), dt)
            np.add.at(out, idx, terms.astype(dt))   # (in order, each sum rounded)
            gw = Tensor._make(out)
        if psw is not None and ctx.needs_input_grad[1]:
            dots = np.einsum("ij,ij->i", g[seg].astype(np.float64),
                             weight._data[idx].astype(np.float64)).astype(np.float32)
            gp = np.zeros(ctx.psw_len, dt)
            gp[ctx.keep] = dots.astype(dt)
            gp = Tensor._make(gp)
        return (gw,) if psw is None else (gw, gp)

    def name(self):
        return "EmbeddingBagBackward0"


def _round_half_away(a):
    """float32 values to bfloat16, ties away from zero (fbgemm's conversion)."""
    import ml_dtypes
    bits = np.ascontiguousarray(a, np.float32).view(np.uint32)
    up = ((bits.astype(np.uint64) + 0x8000) & 0xFFFF0000).astype(np.uint32)
    out = np.where(np.isnan(a), a, up.view(np.float32))
    return out.astype(ml_dtypes.bfloat16)


def _gather_rows(t, positions):
    """t[positions] for a 1-D tensor (gradient scattered back)."""
    return Embedding.apply(t.unsqueeze(1), idx=positions, padding_idx=None,
                           scale_grad_by_freq=False).reshape(-1)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding in a new last dim; num_classes=-1 infers max + 1."""
    a = tensor._data
    if a.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    elif a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(a.shape + (num_classes,), np.int64)
    np.put_along_axis(out, a[..., None].astype(np.int64), 1, axis=-1)
    return Tensor._make(out)
