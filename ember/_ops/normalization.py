"""Normalisation: batch/instance/layer/group/RMS norm, local response norm, F.normalize.

One ArrayFunction, `Normalize`, serves the first four: y = (x - mean) * invstd * w + b, with
mean/invstd either computed over `dims` of this input (training statistics: the gradient flows
through them) or given (eval with running statistics: y is affine in x). The biased variance
normalises; running_var is updated with the unbiased one, as torch does.
"""

import math

import numpy as np

from ember._ops._helpers import (channel_op, fma32 as _fma, is_half, opmath_tensors,
                                 round_through as _round_to)
from ember._ops.activation import _const
from ember._ops.pointwise import scalar_overload
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
        if not _grad_state.enabled:
            return ctx._array_grads(grad._data, None if w is None else w._data, x._data)
        if is_half(grad._data.dtype):   # create_graph: the formulas in float32, rounded once
            dt = grad.dtype
            return tuple(None if t is None else t.to(dt)
                         for t in _graph_grads(ctx, *opmath_tensors(grad, x, w)))
        return _graph_grads(ctx, grad, x, w)

    def _array_grads(ctx, g, w, x):   # first order: NumPy, no graph
        return _normalize_grads(ctx, g, w, x)


def _graph_grads(ctx, grad, x, w):
    """Normalize's gradients in Tensor ops (create_graph): with batch statistics they are
    rebuilt from x so that second derivatives are exact."""
    dims = ctx.dims
    if ctx.batch_stats:
        mean = x.mean(dims, keepdim=True)
        xc = x - mean
        var = (xc * xc).mean(dims, keepdim=True)
        invstd = (var + ctx.eps).pow(-0.5)
        xhat = xc * invstd
    else:
        dt = x._data.dtype
        invstd = _const(ctx.invstd.astype(dt, copy=False).reshape(ctx.wshape))
        xhat = (x - _const(ctx.mean.astype(dt, copy=False).reshape(ctx.wshape))) * invstd
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
# Half types (float16, bfloat16), step for step as torch's CPU kernels compute them: in float32,
# its vectorised multiply-adds fused, with the statistics it saves for backward (and batch
# norm's running statistics) rounded to the half type, and bfloat16 batch statistics rounded
# at each of the kernel's steps (its accumulators there are bfloat16, float16's float32).

_F32 = np.float32


def _param_dtype(x, w, b):
    """The dtype torch keeps a norm's saved statistics in: float32 when weight or bias is
    float32 with a half-type input (its "mixed type" kernels), else the input's."""
    return np.dtype(_F32) if any(t is not None and t.dtype == _F32 for t in (w, b)) else x.dtype


def _chunked_accumulate(M, n, dt, step):
    """torch's two-pass reduction over rows (layer norm's weight and bias gradients): each
    intra-op thread adds its contiguous chunk of rows into a buffer of the input's half
    type, row by row (`step(buf, i)` gives buf plus row i in float32), rounding each time;
    the buffers are then summed in float32. One pass over the chunks runs them side by
    side."""
    from ember._threads import num_threads
    T = min(num_threads(), M) if M > 1 else 1
    size = -(-M // T) if M else 0
    T = -(-M // size) if M else 1
    buf = np.zeros((T, n), _F32)
    starts = np.arange(T) * size
    for j in range(size):
        live = starts + j < M
        i = (starts + j)[live]
        buf[live] = _round_to(step(buf[live], i), dt)
    return buf.sum(0, dtype=_F32)


_LANES = 8   # float32 lanes of the vectorised kernels torch runs on x86 (AVX2)
_CHUNK = 16  # vectors per Welford chunk in torch's RowwiseMoments


def _add_moments(acc, m0_add, m1_add, m2_add):
    """Merge the moments (count, mean, sum of squared deviations) of a block of vectors into
    acc = [count, mean, m2] (RowwiseMoments' vector merge, unfused)."""
    m0, m1, m2 = acc
    n = m0 + m0_add
    c = _F32(m0_add) / _F32(n) if n else _F32(0)
    d = m1_add - m1
    acc[:] = [n, m1 + c * d, (m2 + m2_add) + d * d * c * _F32(m0)]


def _rowwise_moments(x):
    """Mean and biased variance of each row of a float32 (M, N) array of half-type values,
    bit for bit as torch's RowwiseMoments computes them for layer and group norm: each load
    of 2 * _LANES values feeds two float32 vectors; per lane, a Welford update (fused
    multiply-adds) over chunks of _CHUNK loads, the chunks merged pairwise on a stack; the
    N % (2 * _LANES) leftover values by a scalar Welford; then the lanes merged into it."""
    M, N = x.shape
    per = 2 * _LANES
    n = N // per
    m = -(-n // _CHUNK)
    depth = 1 if m <= 2 else (m - 1).bit_length()
    zero = np.zeros((M, _LANES), _F32)
    stack = [[0, zero, zero] for _ in range(depth)]
    inv = [_F32(1) / _F32(j + 1) for j in range(_CHUNK)]
    for i in range(m):
        m0 = min(_CHUNK, n - i * _CHUNK)
        block = x[:, i * _CHUNK * per:(i * _CHUNK + m0) * per].reshape(M, m0, 2, _LANES)
        m1 = m2 = np.zeros((M, 2, _LANES), _F32)
        for j in range(m0):
            v = block[:, j]
            d = v - m1
            m1 = _fma(d, inv[j], m1)
            m2 = _fma(d, v - m1, m2)
        for p in range(2):
            _add_moments(stack[0], m0, m1[:, p], m2[:, p])
        mask, j = i + 1, 1
        while j < depth and not mask & 1:   # a full pair of blocks moves one level up
            _add_moments(stack[j], *stack[j - 1])
            stack[j - 1] = [0, zero, zero]
            mask >>= 1
            j += 1
    for j in range(1, depth):
        _add_moments(stack[0], *stack[j])
    t0, t1, t2 = 0, np.zeros(M, _F32), np.zeros(M, _F32)
    for i in range(n * per, N):
        v = x[:, i]
        d = v - t1
        t0 += 1
        t1 = t1 + d / _F32(t0)
        t2 = t2 + d * (v - t1)
    add, s1, s2 = n * 2, stack[0][1], stack[0][2]
    for lane in range(_LANES):   # (scalar merges, fused)
        total = t0 + add
        c = _F32(add) / _F32(total) if total else _F32(0)
        d = s1[:, lane] - t1
        t1 = _fma(c, d, t1)
        t2 = t2 + _fma(d * d * c, _F32(t0), s2[:, lane])
        t0 = total
    return t1[:, None], t2[:, None] / _F32(N)


def _layer_norm_half(x, w, b, n, eps):
    """LayerNorm of a half-type x over rows of n values: torch's moments, rstd =
    1 / sqrt(var + eps), y = (x rstd - mean rstd) w + b as two fused multiply-adds, rounded
    once. Returns y and the (M, 1) mean and rstd as torch saves them (in the parameters'
    dtype: x's, or float32 for float32 weight and bias)."""
    dt = x.dtype
    x2 = x.reshape(-1, n).astype(_F32)
    with np.errstate(invalid="ignore", divide="ignore"):   # (n = 0: NaN statistics)
        mean, var = _rowwise_moments(x2)
        rstd = _F32(1) / np.sqrt(var + _F32(eps))
    y = _fma(x2, rstd, -rstd * mean)
    if w is not None or b is not None:
        y = _fma(y, _F32(1) if w is None else w.reshape(-1).astype(_F32),
                 _F32(0) if b is None else b.reshape(-1).astype(_F32))
    pdt = _param_dtype(x, w, b)
    return y.astype(dt).reshape(x.shape), _round_to(mean, pdt), _round_to(rstd, pdt)


def _layer_norm_half_grads(ctx, g, w, x):
    """LayerNorm's backward kernel for half types, from the saved (rounded) mean and rstd a:
    ds = sum(g x w), db = sum(g w) per row, b = (db mean - ds) a^3 / n, c = -b mean - db a / n
    and gx = (a g w + b x) + c; the weight and bias gradients accumulate row by row in the
    half type (see _chunked_accumulate)."""
    needs = ctx.needs_input_grad
    dt, n = g.dtype, ctx.n
    g2, x2 = g.reshape(-1, n).astype(_F32), x.reshape(-1, n).astype(_F32)
    mean, a = ctx.mean, ctx.invstd
    wf = _F32(1) if w is None else w.reshape(-1).astype(_F32)
    gx = gw = gb = None
    if needs[0]:
        gw_ = g2 * wf
        ds = (g2 * x2 * wf).sum(1, dtype=np.float64, keepdims=True).astype(_F32)
        db = gw_.sum(1, dtype=np.float64, keepdims=True).astype(_F32)
        scale = _F32(1) / _F32(n)
        bb = (db * mean - ds) * a * a * a * scale
        c = -bb * mean - db * a * scale
        gx = Tensor._make((_fma(bb, x2, a * gw_) + c).astype(dt).reshape(g.shape))
    if w is not None and needs[1]:
        xhat = _fma(a, x2, -a * mean)
        gw = _chunked_accumulate(len(g2), n, dt, lambda buf, i: _fma(g2[i], xhat[i], buf))
        gw = Tensor._make(gw.astype(w.dtype).reshape(w.shape))
    if needs[2]:
        gb = _chunked_accumulate(len(g2), n, dt, lambda buf, i: buf + g2[i])
        gb = Tensor._make(gb.astype(ctx.bias_dtype).reshape(ctx.bias_shape))
    return gx, gw, gb


def _channels(a):
    """(C, N * S) float32 rows of a (N, C, *spatial) array, one per channel."""
    C = a.shape[1]
    return np.moveaxis(a, 1, 0).reshape(C, -1).astype(_F32)


def _batch_norm_half_stats(x, eps, momentum, rm, rv, pdt):
    """torch's batch statistics of a half-type x (N, C, *): the mean and invstd it saves (in
    the parameters' dtype pdt, as float32 values) and the running statistics' new values
    (rm, rv: float32 values of the old ones, or None). float16 keeps the sums in float32 and
    rounds each saved value once; bfloat16 stores the mean and the sum of squares as
    bfloat16 and runs the division by n and the running update in bfloat16 steps (n and
    momentum rounded); with float32 parameters both keep float32 throughout."""
    xc = _channels(x)
    n = xc.shape[1]
    mean = (xc.sum(1, dtype=np.float64).astype(_F32) / _F32(n)).astype(_F32)
    vs = np.square(xc - mean[:, None]).sum(1, dtype=np.float64).astype(_F32)
    r = lambda v: _round_to(v, pdt)   # noqa: E731
    with np.errstate(invalid="ignore", divide="ignore"):
        if pdt.name != "bfloat16":   # (the variance in float32, eps added as a double)
            invstd = r((1 / np.sqrt((vs / _F32(n)).astype(np.float64) + eps)).astype(_F32))
            mf = _F32(momentum)
            new_rm = None if rm is None else r(mf * mean + (_F32(1) - mf) * rm)
            new_rv = None if rv is None else r(mf * (vs / _F32(n - 1)) + (_F32(1) - mf) * rv)
            return r(mean), invstd, new_rm, new_rv
        mean, vs = r(mean), r(vs)
        var = r(vs / r(_F32(n)))
        invstd = r((1 / np.sqrt(var.astype(np.float64) + eps)).astype(_F32))
        mb = r(_F32(momentum))
        keep = r(_F32(1) - mb)
        new_rm = None if rm is None else r(r(mb * mean) + r(keep * rm))
        new_rv = None if rv is None else r(mb * r(vs / r(_F32(n - 1))) + r(keep * rv))
    return mean, invstd, new_rm, new_rv


def _batch_norm_half_apply(x, w, b, mean, invstd):
    """y = x alpha + beta per channel (alpha = invstd w, beta = b - mean alpha), fused."""
    alpha = invstd if w is None else invstd * w.astype(_F32)
    beta = _fma(-mean, alpha, _F32(0) if b is None else b.astype(_F32))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return _fma(x.astype(_F32), alpha.reshape(shape), beta.reshape(shape)).astype(x.dtype)


def _batch_norm_half_grads(ctx, g, w, x):
    """BatchNorm's backward kernel for half types: per channel s = sum(g) and
    dotp = sum((x - mean) g); in training gx = ((g - s/n) - (x - mean) k) invstd w with
    k = dotp invstd^2 / n, in eval gx = g invstd w; gw = dotp invstd, gb = s."""
    needs = ctx.needs_input_grad
    dt = g.dtype
    mean, invstd = ctx.mean, ctx.invstd
    gc, xc = _channels(g), _channels(x)
    n = gc.shape[1]
    s = gc.sum(1, dtype=np.float64).astype(_F32)
    dotp = ((xc - mean[:, None]) * gc).sum(1, dtype=np.float64).astype(_F32)
    wf = np.ones_like(invstd) if w is None else w.astype(_F32)
    gx = None
    if needs[0]:
        shape = (1, -1) + (1,) * (g.ndim - 2)
        gf = g.astype(_F32)
        if ctx.batch_stats:
            k = dotp * invstd * invstd / _F32(n)
            m = mean.reshape(shape)
            gx = ((gf - (s / _F32(n)).reshape(shape)) - (x.astype(_F32) - m) * k.reshape(shape))
            gx = gx * invstd.reshape(shape) * wf.reshape(shape)
        else:
            gx = gf * invstd.reshape(shape) * wf.reshape(shape)
        gx = Tensor._make(gx.astype(dt))
    return (gx,
            Tensor._make((dotp * invstd).astype(w.dtype)) if w is not None and needs[1] else None,
            Tensor._make(s.astype(ctx.bias_dtype).reshape(ctx.bias_shape)) if needs[2]
            else None)


class HalfNormalize(Normalize):
    """Normalize's node for half types. forward(x, weight, bias; y, mean, invstd, ...) takes
    the result computed by _layer_norm_half or _batch_norm_half_apply (whose statistics also
    feed the running ones) and keeps what backward reads: torch's saved mean and invstd."""

    def forward(ctx, x, w, b, *, y, dims, wshape, mean, invstd, batch_stats, eps, label,
                n=None):
        ctx.save_for_backward(x, w)
        ctx.mean, ctx.invstd, ctx.n = mean, invstd, n
        ctx.dims, ctx.wshape, ctx.batch_stats, ctx.eps = dims, wshape, batch_stats, eps
        ctx.bias_shape = b.shape if b is not None else None
        ctx.bias_dtype = b.dtype if b is not None else None
        ctx.label = label
        return y

    def _array_grads(ctx, g, w, x):
        if ctx.n is not None:   # layer norm: statistics per row of n
            return _layer_norm_half_grads(ctx, g, w, x)
        return _batch_norm_half_grads(ctx, g, w, x)


def _record_half(y, x, weight, bias, **params):
    """y (an array) as the result, recorded as a HalfNormalize node when needed."""
    if _grad_state.enabled and any(isinstance(t, Tensor) and t.requires_grad
                                   for t in (x, weight, bias)):
        return HalfNormalize.apply(x, weight, bias, y=y, **params)
    return Tensor._make(y)


def _data(t):
    return None if t is None else t._data


def _layer_norm_half_op(x, weight, bias, dims, wshape, eps):
    n = math.prod(x.shape[d] for d in dims)
    y, mean, rstd = _layer_norm_half(x._data, _data(weight), _data(bias), n, eps)
    return _record_half(y, x, weight, bias, dims=dims, wshape=wshape, mean=mean, invstd=rstd,
                        batch_stats=True, eps=eps, label="NativeLayerNormBackward0", n=n)


def _batch_norm_half_op(x, running_mean, running_var, weight, bias, training, momentum, eps):
    """batch_norm for a half-type input (see _batch_norm_half_stats); the running statistics
    are updated in place in training."""
    a = x._data
    dims = (0,) + tuple(range(2, a.ndim))
    wshape = (1, a.shape[1]) + (1,) * (a.ndim - 2)
    params = [t._data.dtype for t in (weight, bias, running_mean, running_var) if t is not None]
    pdt = np.dtype(_F32) if _F32 in params else a.dtype   # (torch's "mixed type")
    if training:
        rm, rv = (None if t is None else t._data.astype(_F32) for t in (running_mean,
                                                                         running_var))
        mean, invstd, rm, rv = _batch_norm_half_stats(a, eps, momentum, rm, rv, pdt)
        for t, new in ((running_mean, rm), (running_var, rv)):
            if t is not None:
                t._data[...] = new
                t._vc.value += 1
    else:
        mean = running_mean._data.astype(_F32)
        invstd = _F32(1) / np.sqrt(running_var._data.astype(_F32) + _F32(eps))
    y = _batch_norm_half_apply(a, _data(weight), _data(bias), mean, invstd)
    if not training:   # (the backward kernel takes invstd with eps as a double)
        invstd = (1 / np.sqrt(running_var._data.astype(np.float64) + eps)).astype(_F32)
    return _record_half(y, x, weight, bias, dims=dims, wshape=wshape, mean=mean,
                        invstd=invstd, batch_stats=training, eps=eps,
                        label="NativeBatchNormBackward0")


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
    if is_half(input._data.dtype) and (training or (running_mean is not None
                                                    and running_var is not None)):
        return _batch_norm_half_op(input, running_mean, running_var, weight, bias, training,
                                   momentum, eps)
    if training:
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
                t._data[...] = copies._data.reshape(N, C).mean(
                    0, dtype=_F32 if is_half(t._data.dtype) else None)
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
    if is_half(input._data.dtype):
        return _layer_norm_half_op(input, weight, bias, dims, wshape, eps)
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
    and invstd, as torch does (half types: see _group_norm_half).

    On arrays each full pass over x costs as much as all the small ones together, so both
    directions are written with as few as NumPy allows, with per-(sample, channel) factors:
    forward y = (x - mean) (invstd w) + b (five passes); backward, from the per-(n, c) sums
    db = sum(g) and ds = sum(g x) (torch's kernel uses the same two), gb = sum_n db,
    gw = sum_n (ds - mean db) invstd, and gx = (g w - mean(g w) - xhat mean(g w xhat)) invstd
    = g (w invstd) + x B + C for per-(n, group) B and C (six passes)."""

    def forward(ctx, x, w, b, *, groups, eps):
        ctx.groups, ctx.eps = groups, eps
        ctx.bias_dtype = None if b is None else b.dtype
        if is_half(x.dtype):
            y, mean, invstd = _group_norm_half(x, w, b, groups, eps)
            ctx.save_for_backward(x, w, mean, invstd)
            return y
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
        ctx.save_for_backward(x, w, mean.reshape(N, groups), invstd.reshape(N, groups))
        return y

    def name(self):
        return "NativeGroupNormBackward0"

    def backward(ctx, grad):
        x, w, mean, invstd = ctx.saved_tensors
        needs = ctx.needs_input_grad
        N, G = mean.shape
        L = math.prod(x.shape[1:]) // G
        if _grad_state.enabled and is_half(grad._data.dtype):   # in float32, rounded once
            dt = grad.dtype
            return tuple(None if t is None else t.to(dt) for t in
                         _group_norm_graph_grads(needs, *opmath_tensors(grad, x, w), ctx.eps,
                                                 N, G, L))
        if _grad_state.enabled:
            return _group_norm_graph_grads(needs, grad, x, w, ctx.eps, N, G, L)
        dt = grad._data.dtype
        if is_half(dt):
            return _group_norm_half_grads(needs, grad._data, x._data, _data(w),
                                          mean._data, invstd._data, ctx.bias_dtype)
        wide = dt
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


def _group_norm_half(x, w, b, G, eps):
    """GroupNorm's kernel for a half-type x: torch's moments per (sample, group), rstd =
    1 / sqrt(max(var, 0) + eps) (eps a double), y = x scale + bias per channel, fused, for
    scale = rstd w and bias = b - scale mean (without weight and bias: (x - mean) rstd).
    Returns y and the (N, G) mean and rstd as torch saves them (in the parameters' dtype,
    see _param_dtype)."""
    dt = x.dtype
    N, C = x.shape[:2]
    D = C // G
    x2 = x.reshape(N * G, -1).astype(_F32)
    with np.errstate(invalid="ignore", divide="ignore"):   # (empty groups: NaN statistics)
        mean, var = _rowwise_moments(x2)
        rstd = (1 / np.sqrt(np.maximum(var, 0).astype(np.float64) + eps)).astype(_F32)
    if w is None and b is None:
        y = (x2 - mean) * rstd
    else:
        scale = rstd.reshape(N, G, 1) * (_F32(1) if w is None else
                                         w.astype(_F32).reshape(1, G, D))
        bias = _fma(-scale, mean.reshape(N, G, 1),
                    _F32(0) if b is None else b.astype(_F32).reshape(1, G, D))
        y = _fma(x2.reshape(N, G, D, -1), scale[..., None], bias[..., None])
    pdt = _param_dtype(x, w, b)
    return (y.astype(dt).reshape(x.shape), _round_to(mean, pdt).reshape(N, G),
            _round_to(rstd, pdt).reshape(N, G))


def _group_norm_graph_grads(needs, grad, x, w, eps, N, G, L):
    """GroupNorm's gradients in Tensor ops (create_graph), the statistics rebuilt from x."""
    red = (0,) + tuple(range(2, grad.dim()))   # a per-channel sum
    x3 = x.reshape(N, G, L)
    m = x3.mean(2, keepdim=True)
    xc = x3 - m
    inv = ((xc * xc).mean(2, keepdim=True) + eps).pow(-0.5)
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


def _group_norm_half_grads(needs, g, x, w, mean, rstd, bias_dtype):
    """torch's GroupNorm backward kernel for half types, from its saved (rounded) (N, G)
    mean and rstd r: per (n, c) ds = sum(g x) and db = sum(g); per (n, group)
    c2 = (sum(db w) mean - sum(ds w)) r^3 / L and c3 = -c2 mean - sum(db w) r / L;
    gx = r w g + c2 x + c3, gw = sum over n of (ds - db mean) r, gb = sum over n of db."""
    dt = g.dtype
    N, C = g.shape[:2]
    G = mean.shape[1]
    Cg = C // G
    L = math.prod(g.shape[1:]) // G
    g4, x4 = g.reshape(N, C, -1).astype(_F32), x.reshape(N, C, -1).astype(_F32)
    ds = (g4 * x4).sum(2, dtype=np.float64).astype(_F32).reshape(N, G, Cg)
    db = g4.sum(2, dtype=np.float64).astype(_F32).reshape(N, G, Cg)
    m = mean.astype(_F32).reshape(N, G, 1)
    r = rstd.astype(_F32).reshape(N, G, 1)
    wv = np.ones((1, G, Cg), _F32) if w is None else w.astype(_F32).reshape(1, G, Cg)
    gx = gw = gb = None
    with np.errstate(invalid="ignore", divide="ignore"):   # (L = 0: NaN statistics)
        if needs[0]:
            dsv = (ds * wv).sum(2, keepdims=True)
            dbv = (db * wv).sum(2, keepdims=True)
            s = _F32(1) / _F32(L)
            c2 = (dbv * m - dsv) * r * r * r * s
            c3 = -c2 * m - dbv * r * s
            c1 = np.broadcast_to((r * wv)[..., None], (N, G, Cg, g4.shape[2]))
            gx = _fma(c1.reshape(N, G, L), g4.reshape(N, G, L), c2 * x4.reshape(N, G, L)) + c3
            gx = Tensor._make(gx.astype(dt).reshape(g.shape))
        if needs[1]:
            gw = Tensor._make(((ds - db * m) * r).sum(0).astype(w.dtype).reshape(C))
        if needs[2]:
            gb = Tensor._make(db.sum(0).astype(bias_dtype or dt).reshape(C))
    return gx, gw, gb


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2 over the last dims) + eps) * weight; eps defaults to finfo.eps of
    the computing dtype. A half-type input is computed as torch composes it: in float32,
    weight included, and cast back once at the end (eps then float32's)."""
    ns = _shape_list(normalized_shape)
    k = len(ns)
    if tuple(input.shape[input.dim() - k:]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*{', '.join(map(str, ns))}], but got input of size"
                           f"{list(input.shape)}")   # (torch's "[*3, 4]", no comma)
    dt = input.dtype
    half = is_half(input._data.dtype)
    x = input.float() if half else input
    if eps is None:
        eps = float(np.finfo(x._data.dtype).eps)
    dims = tuple(range(input.dim() - k, input.dim()))
    ms = x.pow(2).mean(dims, keepdim=True)
    y = x * scalar_overload(ms, "add", eps).rsqrt()   # (torch's nodes)
    if weight is not None:
        y = y * weight
    return y.to(dt) if half else y


def _lrn_values(x, size, alpha, beta, k):
    """local_response_norm's values straight from NumPy: each window's sum of squares by one
    shifted add per window position (as the average pool sums it), then torch's order of
    operations. Half types round after each of the composite's ops, computing each in
    float32 (the pool's sum included), as torch's kernels do."""
    dt = x.dtype
    half = is_half(dt)
    r = (lambda v: _round_to(v, dt)) if half else (lambda v: v)   # noqa: E731
    if half:   # (pow takes its exponent in the half type, as torch's pow does)
        x = x.astype(_F32)
        alpha, beta, k = _F32(alpha), _round_to(beta, dt), _F32(k)
    sq = r(x * x)
    C = x.shape[1]
    s = np.zeros_like(sq)
    for o in range(-(size // 2), (size - 1) // 2 + 1):   # channel c + o feeds channel c
        lo, hi = max(0, -o), min(C, C - o)
        if lo < hi:
            s[:, lo:hi] += sq[:, lo + o:hi + o]
    return np.asarray(x / r(r(r(r(s / size) * alpha) + k) ** beta), dt)


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
    if input.dim() > 3 and is_half(input._data.dtype):   # (torch's avg_pool3d has no kernel)
        raise NotImplementedError(f'"avg_pool3d_out_frame" not implemented for '
                                  f"'{input.dtype._legacy}'")
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
    denom = vector_norm(input, p, dim, True).clamp_min(eps).expand_as(input)   # (torch's)
    r = input / denom
    if out is not None:
        from ember._ops._helpers import write_out
        return write_out(out, r)
    return r
