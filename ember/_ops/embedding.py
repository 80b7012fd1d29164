"""Embedding lookups: embedding, embedding_bag, one_hot.

`Embedding` gathers rows of the weight; its backward scatters the gradient back with
np.add.at (repeated indices accumulate), zeroes the padding_idx row and, with
scale_grad_by_freq, divides each row's gradient by how often its index occurs in the batch.
"""
import numpy as np

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
        np.add.at(out, idx, g)
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
    """Rescale (in place, no graph) the looked-up rows whose norm exceeds max_norm."""
    w = weight._data
    rows = np.unique(idx.reshape(-1))
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] = (w[rows] * scale[:, None]).astype(w.dtype)
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
