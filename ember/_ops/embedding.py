"""Embedding lookups: embedding, embedding_bag, one_hot.

`Embedding` gathers rows of the weight; its backward scatters the gradient back with
`add_at` (repeated indices accumulate, in order), zeroes the padding_idx row and, with
scale_grad_by_freq, divides each row's gradient by how often its index occurs in the batch.
`EmbeddingBag` is one node as torch's (EmbeddingBagBackward0): the bags' sums, means or maxes
in forward; the weight's gradient scattered with `add_at` by a node of its own.
"""
import warnings

import numpy as np

from ember._backend import scipy_sparse
from ember._ops._helpers import add_at, is_half, round_through, run_ranks
from ember._ops.sorting import _NoDerivative
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


# ---------------------------------------------------------------------------------------------
# embedding_bag

def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sum, mean or max of embeddings per bag. 2-D input: one bag per row; 1-D input: bags
    start at `offsets`. padding_idx entries are left out (also from the mean's count). One
    node, EmbeddingBagBackward0, with torch's two edges: the weight and per_sample_weights
    (which 2-D input flattens by a reshape, as torch does). torch's checks, in its order."""
    if weight._data.dtype == np.int64 and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=2)
        weight, input = input, weight
    psw = per_sample_weights
    if psw is not None and tuple(input.shape) != tuple(psw.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({_size(psw)}) is not None, "
                         f"then it must have the same shape as the input ({_size(input)})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.dim()}")
    idx = input._data
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        if idx.shape[1] == 0:   # (torch's arange of the bag starts: step 0)
            raise RuntimeError("step must be nonzero")
        starts, include_last_offset = np.arange(0, idx.size, idx.shape[1]), False
        idx = idx.reshape(-1)
        psw = None if psw is None else psw.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = offsets._data
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode not in ("sum", "mean"):
        raise ValueError("mode has to be one of sum, mean or max")
    if max_norm is not None:   # every looked-up row, padding_idx's too
        _check_indices(idx, weight.shape[0])
        _renorm_rows(weight, idx, max_norm, norm_type)
    if psw is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    return _bag(idx, weight, starts, psw, mode, scale_grad_by_freq, include_last_offset,
                padding_idx)


def _size(t):
    return f"torch.Size([{', '.join(map(str, t.shape))}])"


def _bag(idx, weight, starts, psw, mode, scale_grad_by_freq, include_last_offset,
         padding_idx):
    """torch.embedding_bag's kernel: its checks, the bags of the looked-up entries, the node."""
    n = weight.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, {-n} "
                               f"through {n - 1}, but got {padding_idx}")
        padding_idx %= n
    for a in (idx, starts):
        if a.dtype.kind not in "iu":
            raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                               "following scalar types: Long, Int; but got "
                               f"{Tensor._make(a).type()} instead (while checking arguments "
                               "for embedding_bag)")
    if not (weight.is_floating_point() and weight._data.dtype.kind != "c"):
        raise RuntimeError("Expected tensor for argument #1 'weight' to have one of the "
                           "following scalar types: Half, BFloat16, Float, Double; but got "
                           f"{weight.type()} instead (while checking arguments for embedding_bag)")
    if psw is not None and psw._data.dtype != weight._data.dtype:
        raise RuntimeError("Expected tensor for argument #1 'weight' to have the same type as "
                           "tensor for argument #1 'per_sample_weights'; but type "
                           f"{weight.type()} does not equal {psw.type()} (while checking "
                           "arguments for embedding_bag)")
    off = starts.astype(np.int64)
    if off.size and off[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {off[0]}\n"
                           f"[ {Tensor._make(idx[:0]).type()}{{}} ]")
    if off.size and off[-1] > idx.size:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {idx.size} but "
                           f"got offsets[-1] of {off[-1]}")
    end = idx.size
    if include_last_offset:   # the last offset ends the last bag: later indices are unused
        if not off.size:
            raise RuntimeError("include_last_offset: number of offset should be at least 1")
        end, off = int(off[-1]), off[:-1]
    flat = idx[:end] if off.size else idx[:0]
    bad = (flat < 0) | (flat >= n)
    if bad.any():
        raise RuntimeError(f"embedding_bag: Expected idx >= 0 && idx < num_embeddings but found "
                           f"idx to be {flat[np.argmax(bad)]}")
    seg = np.searchsorted(off, np.arange(flat.size), side="right") - 1
    pos = np.arange(flat.size) if padding_idx is None else np.flatnonzero(flat != padding_idx)
    freq = _freq_divisors(idx, flat[pos]) if scale_grad_by_freq else None
    return EmbeddingBag.apply(weight, psw, idx=flat[pos].astype(np.int64), pos=pos,
                              seg=seg[pos], n_bags=off.size, mode=mode, freq=freq,
                              fast=padding_idx is None)


def _freq_divisors(indices, looked_up):
    """scale_grad_by_freq's divisor for each looked-up index, as torch's CPU kernel gives it:
    the row of the k-th smallest distinct index has its gradient divided by the count of
    the index at position k of all the indices sorted (the count of its own value only
    while the first k sorted indices are distinct: a quirk of torch's, measured)."""
    srt = np.sort(indices.astype(np.int64))
    uniq, counts = np.unique(srt, return_counts=True)
    k = np.searchsorted(uniq, looked_up)
    return counts[np.searchsorted(uniq, srt[k])].astype(np.float64)


class EmbeddingBag(ArrayFunction):
    """Per bag (its entries: `idx` rows of the weight, at `pos` in the input, in bag `seg`):
    the sum of the rows (times their per-sample weights), their mean, or their max per column
    (the first row wins a tie; an empty bag gives 0). float16/bfloat16 sums as torch's CPU
    kernels: each bag's rows (times their weights, fused) summed in float32 in order, rounded
    (bfloat16 without padding_idx: half away from zero, as the fast kernel converts); a mean
    then divides that rounded sum by the bag's size. The weight's gradient is a node of its
    own (EmbeddingBagBackwardBackward0, which torch cannot differentiate); the per-sample
    weights' gradient: the dot of the bag's gradient and the row."""

    def forward(ctx, weight, psw, *, idx, pos, seg, n_bags, mode, freq, fast):
        dt = weight.dtype
        counts = np.bincount(seg, minlength=n_bags)
        w = None if psw is None else psw[pos]
        ctx.arg = None
        if mode == "max":
            out, ctx.arg = _bag_max(weight[idx], seg, n_bags, ctx.needs_input_grad[0])
        elif is_half(dt):
            out = _half_bag_sum(weight[idx], seg, n_bags, w, fast and dt.name == "bfloat16")
            if mode == "mean":
                out = (out.astype(np.float32) / np.maximum(counts, 1)[:, None]).astype(dt)
        else:
            out = _bag_sum(weight, idx, seg, n_bags, w)
            if mode == "mean":
                out /= np.maximum(counts, 1)[:, None]
        ctx.idx, ctx.pos, ctx.seg, ctx.n, ctx.mode = idx, pos, seg, weight.shape[0], mode
        ctx.counts, ctx.freq, ctx.psw_len = counts, freq, None if psw is None else psw.shape[0]
        ctx.save_for_backward(weight if psw is not None else None, psw)
        return out

    def backward(ctx, grad):
        weight, psw = ctx.saved_tensors
        gw = gp = None
        if ctx.needs_input_grad[0]:
            gw = EmbeddingBagBackward.apply(grad, psw, bag=ctx)
        if psw is not None and ctx.needs_input_grad[1]:   # (create_graph: torch's node
            # without a derivative, edges to the upstream gradient and the weight)
            gp = _NoDerivative.apply(*[t for t in (grad, weight) if t._requires_grad],
                                     results=(_psw_grad(ctx, grad._data, weight._data),),
                                     label=_NOT_IMPLEMENTED,
                                     what="aten::_embedding_bag_per_sample_weights_backward")
        return gw, gp


_NOT_IMPLEMENTED = "torch::autograd::NotImplemented"


class EmbeddingBagBackward(ArrayFunction):
    """embedding_bag's weight gradient (torch's _embedding_bag_backward; edges: the upstream
    gradient and the per-sample weights): per looked-up entry, the bag's gradient times its
    scale (1, its per-sample weight; divided by the bag's size for a mean and, with
    scale_grad_by_freq, by _freq_divisors), added to the entry's row in index order; max: the
    gradient of each (bag, column) to the row that won it. Half types: the scale rounded to
    the half type, each term rounded, the sums in the half type (torch orders equal indices
    with an unstable sort: past 16 indices a row fed by several bags may round in another
    order). Not differentiable again."""

    def forward(ctx, grad, psw, *, bag):
        dt = grad.dtype
        out = np.zeros((bag.n, grad.shape[1]), dt)
        if bag.mode == "max":
            rows = np.zeros((bag.idx.size, grad.shape[1]), dt)
            b, c = np.nonzero(bag.arg >= 0)
            rows[bag.arg[b, c], c] = grad[b, c]
            return add_at(out, bag.idx, rows)
        scale = np.ones(bag.seg.size) if psw is None else psw[bag.pos].astype(np.float64)
        if bag.freq is not None:
            scale = scale / bag.freq
        if bag.mode == "mean":
            scale = scale / np.maximum(bag.counts[bag.seg], 1)
        if is_half(dt):
            terms = round_through(round_through(scale, dt)[:, None]
                                  * grad[bag.seg].astype(np.float32), dt)
            np.add.at(out, bag.idx, terms.astype(dt))   # (in order, each sum rounded)
            return out
        terms = grad[bag.seg]
        if psw is not None or bag.freq is not None or bag.mode == "mean":
            terms *= scale.astype(dt)[:, None]
        return add_at(out, bag.idx, terms)

    def backward(ctx, *grads):
        raise NotImplementedError("the derivative for '_embedding_bag_backward' is not "
                                  "implemented.")


def _psw_grad(bag, g, weight):
    """The per-sample weights' gradient: the bag's gradient dotted with the entry's row (half
    types: in float64, then float32, then the half type); 0 for padding_idx entries."""
    dt = g.dtype
    if is_half(dt):
        dots = np.einsum("ij,ij->i", g[bag.seg].astype(np.float64),
                         weight[bag.idx].astype(np.float64)).astype(np.float32)
    else:
        dots = np.einsum("ij,ij->i", g[bag.seg], weight[bag.idx])
    out = np.zeros(bag.psw_len, dt)
    out[bag.pos] = dots.astype(dt)
    return out


def _bag_max(rows, seg, n_bags, need_arg):
    """(max over each bag's rows per column, and where need_arg the position of the row that
    gives it: the first equal to the max; -1 for an empty bag, whose max is 0). seg is
    sorted: bags are runs."""
    out = np.zeros((n_bags, rows.shape[1]), rows.dtype)
    arg = np.full(out.shape, -1, np.int64) if need_arg else None
    if seg.size:
        starts = _run_starts(seg)
        best = np.maximum.reduceat(rows, starts, axis=0)
        out[seg[starts]] = best
        if need_arg:
            run = np.cumsum(np.r_[False, seg[1:] != seg[:-1]])
            r, c = np.nonzero(rows == best[run])   # (r ascending)
            keys, first = np.unique(seg[r] * rows.shape[1] + c, return_index=True)
            arg.reshape(-1)[keys] = r[first]
    return out, arg


def _bag_sum(weight, idx, seg, n_bags, w):
    """Each bag's rows of the weight (times w) summed in order, as one sparse (bags x rows)
    product: SciPy's CSR kernel adds each bag's terms in their order; empty bags give 0."""
    indptr = np.r_[0, np.cumsum(np.bincount(seg, minlength=n_bags))]
    data = np.ones(idx.size, weight.dtype) if w is None else w
    m = scipy_sparse().csr_matrix((data, idx, indptr), shape=(n_bags, weight.shape[0]))
    return np.asarray(m @ weight, weight.dtype)


def _run_starts(seg):
    return np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])


def _half_bag_sum(rows, seg, n_bags, w, away):
    """Each bag's rows (times w, fused into one rounding) summed in float32 in order, then
    rounded to the rows' half type (away: ties away from zero)."""
    dt = rows.dtype
    acc = np.zeros((n_bags, rows.shape[1]), np.float32)
    rows = rows.astype(np.float32)
    rank = run_ranks(seg)
    w = None if w is None else w.astype(np.float32)
    for r in range(int(rank.max()) + 1 if seg.size else 0):
        sel = rank == r   # one row per bag: its r-th
        if w is None:
            acc[seg[sel]] += rows[sel]
        else:
            acc[seg[sel]] = (np.multiply(rows[sel], w[sel, None], dtype=np.float64)
                             + acc[seg[sel]]).astype(np.float32)
    return _round_half_away(acc) if away else acc.astype(dt)


def _round_half_away(a):
    """float32 values to bfloat16, ties away from zero (fbgemm's conversion)."""
    import ml_dtypes
    bits = np.ascontiguousarray(a, np.float32).view(np.uint32)
    up = ((bits.astype(np.uint64) + 0x8000) & 0xFFFF0000).astype(np.uint32)
    out = np.where(np.isnan(a), a, up.view(np.float32))
    return out.astype(ml_dtypes.bfloat16)


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
