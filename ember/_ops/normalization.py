"""Normalisation: batch/instance/layer/group/RMS norm, local response norm, F.normalize.

One ArrayFunction, `Normalize`, serves the first four: y = (x - mean) * invstd * w + b, with
mean/invstd either computed over `dims` of this input (training statistics: the gradient flows
through them) or given (eval with running statistics: y is affine in x). The biased variance
normalises; running_var is updated with the unbiased one, as torch does.
"""

import math

import numpy as np

from ember._ops._helpers import channel_op
from ember._ops.activation import _const, _where
from ember._ops.reduction import _BLAS_FLOATS, _row_sums
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = []


def _channel_shape(wshape):
    """Whether statistics or weights of this shape hold one value per channel (dim 1)."""
    return len(wshape) > 2 and wshape[0] == 1 and all(n == 1 for n in wshape[2:])


def _affine_normalize(x, w, b, wshape, mean, invstd, xhat=None, own=False):
    """(x - mean) invstd w + b, a fresh array. With one mean/invstd per channel (batch norm,
    whose statistics have the weight's shape) as y = x alpha + beta for alpha = invstd w,
    beta = b - mean alpha, as torch's kernel computes it: two passes over x (in float32 for the
    half types, as torch's opmath, where x alpha and mean alpha would cancel at half
    precision). Otherwise (layer/group/instance norm: statistics per row) step by step, from
    xhat = (x - mean) invstd if the caller has it: not written (it is kept for backward) unless
    `own` (the caller's scratch, then the result itself)."""
    if invstd.shape == wshape:
        if x.dtype.itemsize == 2:
            x, mean, invstd = (a.astype(np.float32) for a in (x, mean, invstd))
        alpha = invstd if w is None else invstd * w.reshape(wshape)
        beta = -mean * alpha
        if b is not None:
            beta = beta + b.reshape(wshape)
        if not _channel_shape(wshape):
            y = x * alpha
            return np.add(y, beta, out=y if y.dtype == np.result_type(y, beta) else None)
        y = channel_op(np.multiply, x, alpha)
        return channel_op(np.add, y, beta, out=y if y.dtype == np.result_type(y, beta) else None)
    y = (x - mean) * invstd if xhat is None else xhat
    if own:
        xhat = None   # (y may be written and returned)
    if w is not None:
        w = w.reshape(wshape)
        y = y * w if y is xhat or y.dtype != np.result_type(y, w) else np.multiply(y, w, out=y)
    if b is not None:
        b = b.reshape(wshape)
        y = y + b if y is xhat or y.dtype != np.result_type(y, b) else np.add(y, b, out=y)
    return y.copy() if y is xhat else y


class Normalize(ArrayFunction):
    """forward(x, weight, bias; dims, wshape, mean, invstd, batch_stats). What the caller
    computed of batch statistics is kept for backward: the centred input xc = x - mean with
    one invstd per channel (the gradients take invstd out of their sums), else the normalised
    xhat."""

    def forward(ctx, x, w, b, *, dims, wshape, mean, invstd, batch_stats, eps, xc=None,
                xhat=None, label=None):
        y = _affine_normalize(x, w, b, wshape, mean, invstd, xhat)
        ctx.save_for_backward(x, w)
        ctx.xc, ctx.xhat, ctx.mean, ctx.invstd = xc, xhat, mean, invstd
        ctx.dims, ctx.wshape, ctx.batch_stats, ctx.eps = dims, wshape, batch_stats, eps
        ctx.bias_shape = b.shape if b is not None else None
        ctx.label = label
        return np.asarray(y, x.dtype)

    def name(self):   # torch's node of the public function (NativeBatchNormBackward0...)
        return self.label or "NormalizeBackward0"

    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        dims = ctx.dims
        if not _grad_state.enabled:
            return _normalize_grads(ctx, grad._data, None if w is None else w._data,
                                    x._data)
        if ctx.batch_stats:
            # create_graph: rebuild the statistics from x so second derivatives are exact
            mean = x.mean(dims, keepdim=True)
            xc = x - mean
            var = (xc * xc).mean(dims, keepdim=True)
            invstd = (var + ctx.eps).pow(-0.5)
            xhat = xc * invstd
        else:
            invstd = _const(ctx.invstd)
            xhat = (x - _const(ctx.mean)) * invstd
        gx = gw = gb = None
        red = tuple(i for i, s in enumerate(ctx.wshape) if s == 1) if w is not None or \
            ctx.needs_input_grad[2] else ()
        if ctx.needs_input_grad[0]:
            dxhat = grad * w.reshape(ctx.wshape) if w is not None else grad
            if ctx.batch_stats:
                gx = invstd * (dxhat - dxhat.mean(dims, keepdim=True)
                               - xhat * (dxhat * xhat).mean(dims, keepdim=True))
            else:
                gx = dxhat * invstd
        if w is not None and ctx.needs_input_grad[1]:
            gw = (grad * xhat).sum(red).reshape(w.shape)
        if ctx.needs_input_grad[2]:
            gb = grad.sum(red).reshape(ctx.bias_shape)
        return gx, gw, gb


_ROW_MIN = 16   # rows shorter than this: NumPy's reduce over axes is as fast as BLAS


def _sum_over(a, dims, b=None):
    """sum(a * b) (or sum(a)) over `dims`, keepdims. The statistics of the norms run over
    the trailing dims (layer/group/instance norm) or over dim 0 and the trailing dims from 2
    (batch norm); for contiguous arrays both are row sums of a 2-D (rows, S) view, done by
    BLAS (a GEMV with ones, or one dot per row: 3-6x faster than NumPy's reduce over axes
    (0, 2, 3), which walks the array with a short inner loop; `_row_sums` keeps the error of
    a pairwise sum), then a sum over the N blocks of rows for batch norm."""
    nd = a.ndim
    lead = 1 if dims and dims[0] == 0 and len(dims) < nd and dims[1:] == tuple(range(2, nd)) \
        else 0
    k = nd - len(dims) + lead   # dims = (0,)*lead + (k, ..., nd - 1)
    S = math.prod(a.shape[k:])
    if (S < _ROW_MIN or dims[lead:] != tuple(range(k, nd)) or not a.flags.c_contiguous
            or (b is not None and (b.shape != a.shape or not b.flags.c_contiguous))
            or a.dtype not in _BLAS_FLOATS or (b is not None and b.dtype != a.dtype)):
        return np.add.reduce(a if b is None else a * b, axis=dims, keepdims=True)
    r = _row_sums(a.reshape(-1, S), None if b is None else b.reshape(-1, S))
    r = r.reshape(a.shape[:k])
    if lead:
        r = np.add.reduce(r, axis=0)
    return r.reshape((1,) * lead + r.shape + (1,) * (nd - k))


def _normalize_grads(ctx, g, w, x):
    """Normalize's first-order gradients in NumPy (no graph to build). With batch statistics,
    gx = invstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) for dxhat = g w; when the
    statistics run over the dims the weight is broadcast over (batch norm), those means are
    the bias and weight gradients over n, so gx = w invstd (g - gb/n - xhat gw/n). xhat =
    (x - mean) invstd; with one invstd per channel it is taken out of the sums (sum(g xhat) =
    invstd sum(g xc)), so xhat itself is never formed."""
    invstd, dims, wshape = ctx.invstd, ctx.dims, ctx.wshape
    needs = ctx.needs_input_grad
    red = tuple(i for i, s in enumerate(wshape) if s == 1)   # the dims weight is broadcast over
    per_channel = invstd.shape == wshape
    xc = xhat = None
    if per_channel:
        xc = ctx.xc if ctx.xc is not None else x - ctx.mean
    else:
        xhat = ctx.xhat if ctx.xhat is not None else (x - ctx.mean) * invstd
    batch_channel = ctx.batch_stats and dims == red
    gb = _sum_over(g, red) if needs[2] or (batch_channel and needs[0]) else None
    gw = None
    if (w is not None and needs[1]) or (batch_channel and needs[0]):
        gw = _sum_over(g, red, xc) * invstd if per_channel else _sum_over(g, red, xhat)
    gx = None
    if needs[0]:
        wb = None if w is None else w.reshape(wshape)
        if batch_channel:
            n = math.prod(g.shape[d] for d in dims)
            scale = invstd if wb is None else invstd * wb
            # gx = scale * (g - gb/n - xhat gw/n), with per-channel factors first
            gx = channel_op(np.multiply, g, scale)
            gx -= channel_op(np.multiply, xc, gw * (scale * invstd / n))
            channel_op(np.subtract, gx, gb * (scale / n), out=gx)
        elif ctx.batch_stats:   # layer/group norm: statistics over other dims
            n = math.prod(g.shape[d] for d in dims)
            if xhat is None:   # (one instance: its statistics have the weight's shape)
                xhat = xc * invstd
            dxhat = g if wb is None else g * wb
            sg = _sum_over(dxhat, dims)
            sgx = _sum_over(dxhat, dims, xhat)
            # gx = (dxhat - sg/n - xhat sgx/n) invstd, in that order, on one fresh array
            gx = dxhat - sg / n
            gx -= xhat * (sgx / n)
            gx *= invstd
        else:                   # given statistics (eval): y is affine in x
            gx = g * (invstd if wb is None else invstd * wb)
        gx = Tensor._make(np.asarray(gx, g.dtype))
    return (gx,
            Tensor._make(np.asarray(gw.reshape(w.shape), g.dtype))
            if w is not None and needs[1] else None,
            Tensor._make(np.asarray(gb.reshape(ctx.bias_shape), g.dtype)) if needs[2] else None)


def _normalize(x, weight, bias, dims, wshape, eps, mean=None, var=None, label=None):
    """Apply Normalize; statistics from x over dims unless mean/var are given.
    Returns (y, batch_mean, batch_biased_var) (the last two None when given)."""
    a = x._data
    batch = mean is None
    if batch:
        n = math.prod(a.shape[d] for d in dims)
        m = _sum_over(a, dims) / n
        xc = channel_op(np.subtract, a, m) if _channel_shape(m.shape) else a - m
        v = _sum_over(xc, dims, xc) / n
    else:
        m, v = mean, var
    invstd = (1.0 / np.sqrt(v + eps)).astype(a.dtype, copy=False)
    m = np.asarray(m, a.dtype)
    wshape = tuple(wshape)
    xhat = None
    if batch and invstd.shape != wshape and xc.dtype == a.dtype:
        xc *= invstd   # statistics per row: x - mean is at hand, normalise it in place
        xhat, xc = xc, None
    if not (_grad_state.enabled and any(isinstance(t, Tensor) and t.requires_grad
                                        for t in (x, weight, bias))):
        y = _affine_normalize(a, None if weight is None else weight._data,
                              None if bias is None else bias._data, wshape, m, invstd, xhat,
                              own=True)
        return Tensor._make(np.asarray(y, a.dtype)), (m if batch else None), (
            v if batch else None)
    y = Normalize.apply(x, weight, bias, dims=dims, wshape=wshape, mean=m, invstd=invstd,
                        batch_stats=batch, eps=eps, xc=xc if batch else None, xhat=xhat,
                        label=label)
    return y, (m if batch else None), (v if batch else None)


# ---------------------------------------------------------------------------------------------
# Public functions

def _check_floating(input, kernel):
    """The norms run on floating inputs only: torch's kernels are not built for the others."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{input.dtype._legacy}\'')


def _verify_batch_size(size):
    n = size[0]
    for s in size[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"torch.Size([{', '.join(map(str, size))}])")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) over batch and spatial dims. In training the batch
    statistics are used and the running ones updated in place (momentum=None is done by the
    module, which passes the cumulative factor); in eval the running statistics are used."""
    if input.dim() < 2:
        raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")
    C = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):   # (torch's order)
        if t is not None and t.numel() != C:
            raise RuntimeError(f"{name} should contain {C} elements not {t.numel()}")
    _check_floating(input, "batch_norm")
    dims = (0,) + tuple(range(2, input.dim()))
    wshape = (1, C) + (1,) * (input.dim() - 2)
    if training:
        _verify_batch_size(input.shape)
        y, m, v = _normalize(input, weight, bias, dims, wshape, eps,
                             label="NativeBatchNormBackward0")
        n = input.numel() // C
        if running_mean is not None:
            _ema(running_mean, m.reshape(C), momentum)
        if running_var is not None:
            unbiased = v.reshape(C) * (n / max(n - 1, 1)) if n > 1 else v.reshape(C) * np.nan
            _ema(running_var, unbiased, momentum)
        return y
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    rm = running_mean._data.reshape(wshape)
    rv = running_var._data.reshape(wshape)
    return _normalize(input, weight, bias, dims, wshape, eps, rm, rv,
                      label="NativeBatchNormBackward0")[0]


def _ema(buf, stat, momentum):
    """buf = (1 - momentum) * buf + momentum * stat, in place (a version bump, no graph)."""
    d = buf._data
    d *= (1 - momentum)
    d += (momentum * stat).astype(d.dtype, copy=False)
    buf._vc.value += 1


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) over its spatial dims. As torch runs it: a batch norm
    of the input viewed as one sample of N*C channels, weight, bias and running statistics
    repeated N times, the result viewed back (its graph: ViewBackward0, NativeBatchNorm...);
    the running statistics then take the mean of their N updated copies."""
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher input (got {input.dim()}D input)")
    N, C = input.shape[0], input.shape[1]
    _check_floating(input, "batch_norm")   # (torch runs instance norm as a batch norm)
    if use_input_stats:
        if math.prod(input.shape[2:]) == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input "
                             f"size torch.Size([{', '.join(map(str, input.shape))}])")
    elif running_mean is None or running_var is None:
        raise RuntimeError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    rm, rv = (None if t is None else Tensor._make(np.tile(t._data, N))
              for t in (running_mean, running_var))
    y = batch_norm(input.contiguous().view((1, N * C) + tuple(input.shape[2:])), rm, rv,
                   None if weight is None else weight.repeat(N),
                   None if bias is None else bias.repeat(N), use_input_stats, momentum, eps)
    if use_input_stats:
        for t, copies in ((running_mean, rm), (running_var, rv)):
            if t is not None:
                t._data[...] = copies._data.reshape(N, C).mean(0)
                t._vc.value += 1
    return y.view(input.shape)


def _shape_list(normalized_shape):
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(int(s) for s in normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) dims."""
    ns = _shape_list(normalized_shape)
    k = len(ns)
    if tuple(input.shape[input.dim() - k:]) != ns or input.dim() < k:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size"
                           f"{list(input.shape)}".replace("[", "[", 1))
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(t.shape)} and normalized_shape = "
                               f"{list(ns)}")
    _check_floating(input, "LayerNormKernelImpl")
    dims = tuple(range(input.dim() - k, input.dim()))
    wshape = (1,) * (input.dim() - k) + ns
    return _normalize(input, weight, bias, dims, wshape, eps,
                      label="NativeLayerNormBackward0")[0]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each of num_groups channel groups over (channels in group, spatial)."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    C = input.shape[1]
    if C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups,"
                           f" but got input of shape {list(input.shape)} and num_groups="
                           f"{num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != C):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(t.shape)} "
                               f"and input of shape {list(input.shape)}")
    _check_floating(input, "GroupNormKernelImpl")
    return GroupNorm.apply(input, weight, bias, groups=num_groups, eps=eps)


class GroupNorm(ArrayFunction):
    """y = (x - mean) invstd w + b, the statistics per (sample, group) over the group's
    channels and positions, w and b per channel: one node, as torch's native_group_norm
    (NativeGroupNormBackward0, edges to x, weight, bias). Saves x, weight and the (N, G) mean
    and invstd, as torch does. Half types are computed in float32 and rounded once.

    On arrays each full pass over x costs as much as all the small ones together, so both
    directions are written with as few as NumPy allows, with per-(sample, channel) factors:
    forward y = (x - mean) (invstd w) + b (five passes); backward, from the per-(n, c) sums
    db = sum(g) and ds = sum(g x) (torch's kernel uses the same two), gb = sum_n db,
    gw = sum_n (ds - mean db) invstd, and gx = (g w - mean(g w) - xhat mean(g w xhat)) invstd
    = g (w invstd) + x B + C for per-(n, group) B and C (six passes)."""

    def forward(ctx, x, w, b, *, groups, eps):
        dt = x.dtype
        if dt.itemsize == 2:
            x, w, b = (None if a is None else a.astype(np.float32) for a in (x, w, b))
        N, C = x.shape[:2]
        L = math.prod(x.shape[1:]) // groups   # (not -1: N or L may be 0)
        x3 = x.reshape(N, groups, L)
        with np.errstate(invalid="ignore", divide="ignore"):   # (L = 0: NaN statistics)
            mean = _sum_over(x3, (2,)) / L
            y = x3 - mean                                   # centred, then scaled in place
            invstd = (1.0 / np.sqrt(_sum_over(y, (2,), y) / L + eps)).astype(x.dtype)
        if w is None:
            y *= invstd
        else:   # one factor per (sample, channel): invstd of its group times its weight
            scale = (invstd * w.reshape(1, groups, C // groups)).reshape(N, C, 1)
            y4 = y.reshape(N, C, math.prod(x.shape[2:]))
            y4 *= scale
        y = y.reshape(x.shape)
        if b is not None:
            channel_op(np.add, y, b, out=y)
        ctx.groups, ctx.eps = groups, eps
        ctx.save_for_backward(x, w, mean.reshape(N, groups), invstd.reshape(N, groups))
        return y.astype(dt, copy=False)

    def name(self):
        return "NativeGroupNormBackward0"

    def backward(ctx, grad):
        x, w, mean, invstd = ctx.saved_tensors
        needs = ctx.needs_input_grad
        red = (0,) + tuple(range(2, grad.dim()))   # a per-channel sum
        N, G = mean.shape
        L = math.prod(x.shape[1:]) // G
        if _grad_state.enabled:   # create_graph: the same formulas in Tensor ops
            x3 = x.reshape(N, G, L)
            m = x3.mean(2, keepdim=True)
            xc = x3 - m
            inv = ((xc * xc).mean(2, keepdim=True) + ctx.eps).pow(-0.5)
            xhat = (xc * inv).reshape(x.shape)
            wshape = (1, -1) + (1,) * (grad.dim() - 2)
            gb = grad.sum(red) if needs[2] else None
            gw = (grad * xhat).sum(red) if needs[1] else None
            gx = None
            if needs[0]:
                d3 = (grad if w is None else grad * w.reshape(wshape)).reshape(N, G, L)
                xh3 = xhat.reshape(N, G, L)
                gx = (inv * (d3 - d3.mean(2, keepdim=True)
                             - xh3 * (d3 * xh3).mean(2, keepdim=True))).reshape(x.shape)
            return gx, gw, gb
        dt = grad._data.dtype
        wide = np.float32 if dt.itemsize == 2 else dt
        g, xa = grad._data.astype(wide, copy=False), x._data
        C = g.shape[1]
        Cg = C // G
        S = math.prod(g.shape[2:])
        g4, x4 = g.reshape(N, C, S), xa.reshape(N, C, S)
        db = _sum_over(g4, (2,)).reshape(N, G, Cg)        # per (n, c): sum of g
        ds = _sum_over(g4, (2,), x4).reshape(N, G, Cg)    # per (n, c): sum of g x
        m, inv = mean._data.reshape(N, G, 1), invstd._data.reshape(N, G, 1)
        with np.errstate(invalid="ignore"):   # (L = 0: the NaN statistics make NaNs)
            gxhat = (ds - m * db) * inv   # per (n, c): sum of g xhat
        gx = gw = gb = None
        if needs[2]:
            gb = Tensor._make(db.sum(0).reshape(C).astype(dt, copy=False))
        if needs[1]:
            gw = Tensor._make(gxhat.sum(0).reshape(C).astype(dt, copy=False))
        if needs[0]:
            wv = np.ones((1, G, Cg), wide) if w is None else w._data.reshape(1, G, Cg)
            with np.errstate(invalid="ignore", divide="ignore"):   # (L = 0)
                sg = (db * wv).sum(2, keepdims=True) / L      # mean of g w over the group
                sgx = (gxhat * wv).sum(2, keepdims=True) / L  # mean of g w xhat
            B = -sgx * inv * inv
            gx = g4 * (wv * inv).reshape(N, C, 1)
            gx3 = gx.reshape(N, G, L)
            gx3 += xa.reshape(N, G, L) * B
            gx3 += (m * sgx * inv - sg) * inv
            gx = Tensor._make(gx.reshape(g.shape).astype(dt, copy=False))
        return gx, gw, gb


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2 over the last dims) + eps) * weight; eps defaults to finfo.eps."""
    ns = _shape_list(normalized_shape)
    k = len(ns)
    if tuple(input.shape[input.dim() - k:]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*{', '.join(map(str, ns))}], but got input of size"
                           f"{list(input.shape)}")   # (torch's "[*3, 4]", no comma)
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.dim() - k, input.dim()))
    ms = (input * input).mean(dims, keepdim=True)
    y = input * (ms + eps).pow(-0.5)
    return y * weight if weight is not None else y


def _lrn_values(x, size, alpha, beta, k):
    """local_response_norm's values straight from NumPy: each window's sum of squares by one
    shifted add per window position (as the average pool sums it), then torch's order of
    operations."""
    sq = x * x
    C = x.shape[1]
    s = np.zeros_like(sq)
    for o in range(-(size // 2), (size - 1) // 2 + 1):   # channel c + o feeds channel c
        lo, hi = max(0, -o), min(C, C - o)
        if lo < hi:
            s[:, lo:hi] += sq[:, lo + o:hi + o]
    return np.asarray(x / (s / size * alpha + k) ** beta, x.dtype)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta, the window running
    over channels [c - size // 2, c + (size - 1) // 2] (zero padded; the mean divides by size).

    Composed as torch composes it, so the graph is torch's: x * x, a channel dim made the depth
    (3-D input: unsqueeze(1); else a view (N, 1, C, D1, rest)), constant pad, avg_pool2d/3d over
    (size, 1[, 1]) with stride 1, squeeze(1) (and a view back), then mul(alpha), add(k),
    pow(beta) and input / that; every order of gradient comes from those ops.
    """
    from ember._ops.pooling import avg_pool2d, avg_pool3d
    from ember._ops.sampling import pad
    if input.dim() < 3:
        # (torch's message keeps a run of spaces from its source line)
        raise ValueError(f"Expected 3D or higher dimensionality{' ' * 26}input (got "
                         f"{input.dim()} dimensions)")
    if input.numel() == 0:
        return input
    before, after = size // 2, (size - 1) // 2
    if not (input._requires_grad and _grad_state.enabled):   # nothing to record
        return Tensor._make(_lrn_values(input._data, size, alpha, beta, k))
    div = input * input
    if input.dim() == 3:
        div = pad(div.unsqueeze(1), (0, 0, before, after))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        shape = input.shape
        div = div.view(shape[0], 1, shape[1], shape[2], -1)
        div = pad(div, (0, 0, 0, 0, before, after))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1).view(shape)
    return input / div.mul(alpha).add(k).pow(beta)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p over dim, eps)."""
    from ember._ops.linalg_decomp import vector_norm
    n = vector_norm(input, p, dim, True)
    denom = _where(_const(n._data > eps), n, _const(np.asarray(eps, n._data.dtype)) + n * 0)
    r = input / denom
    if out is not None:
        from ember._ops._helpers import write_out
        return write_out(out, r)
    return r
