"""Loss functions (nn.functional's losses), as ArrayFunctions or compositions of stable pieces.

Where torch has a loss kernel of its own (mse, smooth L1, huber, BCE, BCE with logits, soft
margin, nll), the loss is one node with torch's name (MseLossBackward0 ...) whose edges lead
straight to the input and target, the reduction done inside it; the rest are compositions, as
in torch. Reductions: 'none' | 'mean' | 'sum' ('batchmean' for kl_div); anything else is
torch's ValueError. Class-index losses (nll, cross entropy) skip `ignore_index` targets and,
with 'mean', divide by the summed weights of the counted targets (NaN when all are ignored).
Stable forms: cross entropy is log_softmax + nll; BCE-with-logits uses log-sigmoid; BCE clamps
each log at -100 as torch does. float16/bfloat16 round where torch's kernels round (measured):
reductions in float32, nll_loss's cascade of half partial sums, each loss's own mix of float32
and half-type steps, and backward formulas in torch's order of ops.
"""
import math
import warnings

import numpy as np

from ember._ops._helpers import is_half, opmath_tensors, round_through, select, zero_of
from ember._ops.activation import (LogSigmoid, _check_float, _const, _sigmoid, _where,
                                   log_softmax as _log_softmax)
from ember._ops.statistics import pairwise_distance
from ember._ops.manipulation import broadcast_tensors
from ember._ops.pointwise import scalar_overload
from ember._ops.pointwise_unary import _exp32, _log1p32
from ember._ops.reduction import _half_sum
from ember._ops.sorting import _NoDerivative
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import no_grad, state as _grad_state

__all__ = []


# ---------------------------------------------------------------------------------------------
# Helpers

def _legacy_reduction(size_average, reduce, reduction):
    """torch's mapping of the deprecated size_average/reduce flags onto reduction."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                  f"{'mean' if reduce and size_average else 'sum' if reduce else 'none'}' "
                  "instead.", UserWarning, stacklevel=3)
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _warn_size(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({_size(target)}) that is different to the input size "
                      f"({_size(input)}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=3)


def _size(t):
    return f"torch.Size([{', '.join(map(str, t.shape))}])"


def _check_float32_64(name, x):
    """torch's kernels dispatched for float32 and float64 only: other dtypes, the half types
    among them, are its NotImplementedError."""
    if x._data.dtype.kind != "f" or is_half(x._data.dtype):
        raise NotImplementedError(f'"{name}" not implemented for \'{_type_name(x)}\'')


def _check_float_pair(name, input, target):
    """The losses whose kernels take only floating types (torch's NotImplementedError names the
    promoted dtype)."""
    if input.is_floating_point() or target.is_floating_point():
        return
    from ember._dtype import result_type_of
    legacy = result_type_of((input, target))._legacy
    raise NotImplementedError(f'"{name}" not implemented for \'{legacy}\'')


class Abs(ArrayFunction):
    """|x|; the gradient at 0 is 0 (sign(0))."""

    def forward(ctx, a):
        ctx.sign = np.asarray(np.sign(a))
        return np.asarray(np.abs(a))

    def backward(ctx, grad):
        return grad * _const(ctx.sign)


def _abs(x):
    return Abs.apply(x)


def _tensor_like(value, like):
    return value if isinstance(value, Tensor) else Tensor._make(
        np.asarray(value, like._data.dtype))


def _result_type(a, b):
    """torch's promoted dtype of two tensors (an ember dtype; `.np` is NumPy's)."""
    from ember._dtype import result_type_of
    return result_type_of((a, b))


def _not_differentiable(fn, arg, t):
    """torch's autograd refuses a gradient for this argument before its kernel runs."""
    if t is not None and t._requires_grad and _grad_state.enabled:
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument "
                           f"'{arg}'. This input cannot have requires_grad True.")


def _broadcast_pair(input, target):
    """torch.broadcast_tensors(input, target) as torch's Python losses call it: a tensor
    already of the common shape passes as is, the other becomes an expand (view)."""
    if input._data.shape == target._data.shape:
        return input, target
    return broadcast_tensors(input, target)


def _broadcast_shape(a, b):
    """The broadcast of shapes a and b, with torch's message where they don't broadcast."""
    n = max(len(a), len(b))
    pa = (1,) * (n - len(a)) + tuple(a)
    pb = (1,) * (n - len(b)) + tuple(b)
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b "
                               f"({pb[i]}) at non-singleton dimension {i}")
    return tuple(np.broadcast_shapes(pa, pb))


def _check_inplace(shape, other):
    """torch's kernel writes a value of shape `other` in place into a tensor of `shape`: the
    two must broadcast, to `shape` itself."""
    full = _broadcast_shape(shape, other)
    if full != tuple(shape):
        raise RuntimeError(f"output with shape {_dims(shape)} doesn't match the broadcast shape "
                           f"{_dims(full)}")


def _reduced(out, reduction):
    """An elementwise loss array reduced as `reduction` says; the mean of nothing is NaN.
    (float16/bfloat16 are summed in float32 and rounded once, as torch's sum and mean.)"""
    if reduction == "none":
        return out if type(out) is np.ndarray else np.asarray(out)   # 0-d: no NumPy scalar
    if is_half(out.dtype):
        return _half_sum(out, None, False, out.dtype, out.size if reduction == "mean" else None)
    s = out.sum(dtype=out.dtype)
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            s = s / out.size
    return np.asarray(s, out.dtype)


def _as_scalar_t(value, npd):
    """A Python float rounded to the dtype npd, as torch's kernels take some of their number
    parameters (scalar_t(delta), norm.to<scalar_t>(): a half type through float32)."""
    return float(np.asarray(value, np.float32 if is_half(npd) else np.float64).astype(npd))


def _per_element(grad, ctx):
    """The upstream gradient of a reduced loss node, per element: 'mean' spreads it over n."""
    return grad / ctx.n if ctx.reduction == "mean" and ctx.n else grad


def _weighted(loss, weight, input, reduction, by_weight):
    """torch's Python path for a per-element weight: loss * weight, then a 'mean' over the
    summed weights (mse, l1) or over the elements (huber)."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                         "'sum'.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if not by_weight:
        return loss.mean()
    with np.errstate(invalid="ignore", divide="ignore"):   # 0/0 for empty inputs: NaN, quietly
        return loss.sum() / weight.sum()


def _check_weight_size(weight, input):
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")


# ---------------------------------------------------------------------------------------------
# Regression losses
#
# torch's order: the size warning, the legacy flags, broadcast_tensors (its shape error), then
# either the weighted composition or the fused kernel with its own dtype checks.

def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target|, a composition in torch too (AbsBackward0 under the reduction)."""
    _warn_size(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _broadcast_pair(input, target)
    if weight is not None:
        _check_weight_size(weight, input)
        return _weighted(_abs(x - y), weight, input, reduction, by_weight=True)
    _check_reduction(reduction)
    return _reduce(_abs(x - y), reduction)


class MseLoss(ArrayFunction):
    """(x - t)^2, reduced inside the node; the gradient is norm (x - t) grad with norm = 2
    (2 / n for 'mean') taken in the loss's dtype, as torch's kernel."""

    def forward(ctx, a, b, *, reduction, dtype):
        ctx.save_for_backward(a, b)
        ctx.reduction, ctx.n = reduction, a.size
        d = a.astype(dtype, copy=False) - b.astype(dtype, copy=False)
        return _reduced(d * d, reduction)

    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        norm = 2.0 / ctx.n if ctx.reduction == "mean" and ctx.n else 2.0
        g = (x - t) * _as_scalar_t(norm, grad._data.dtype) * grad
        return (g if ctx.needs_input_grad[0] else None,
                -g if ctx.needs_input_grad[1] else None)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _warn_size(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _broadcast_pair(input, target)
    if weight is not None:
        _check_weight_size(weight, input)
        return _weighted((x - y).pow(2), weight, input, reduction, by_weight=True)
    _check_reduction(reduction)
    _check_float_pair("mse_cpu", x, y)
    return MseLoss.apply(x, y, reduction=reduction, dtype=_result_type(x, y).np)


class SmoothL1Loss(ArrayFunction):
    """0.5 d^2 / beta inside |d| < beta, |d| - 0.5 beta outside (d = x - t); the gradient is
    d / beta inside, sign(d) outside (the two meet at |d| = beta).

    float16/bfloat16 round as torch's kernels do (measured, see _half_smooth_l1 and
    _half_smooth_l1_grad)."""

    huber = False

    def forward(ctx, a, b, *, beta, reduction, dtype, out_dtype):
        ctx.save_for_backward(a, b)
        ctx.beta, ctx.reduction, ctx.n = beta, reduction, a.size
        if is_half(np.dtype(dtype)):
            out = _half_smooth_l1(a, b, beta, ctx.huber, np.dtype(dtype))
            return _reduced(out.astype(out_dtype), reduction)
        d = a.astype(dtype, copy=False) - b.astype(dtype, copy=False)
        ad = np.abs(d)
        if ctx.huber:
            out = select(ad < beta, 0.5 * d * d, beta * (ad - 0.5 * beta))
        else:
            out = select(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta)
        return _reduced(out.astype(out_dtype, copy=False), reduction)

    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        if is_half(grad._data.dtype):
            g = _half_smooth_l1_grad(ctx, x, t, grad)
        else:
            d = x - t
            dd = d._data
            inside = _const(np.abs(dd) < ctx.beta)
            if ctx.huber:   # d inside, +-delta outside
                g = _where(inside, d, _const((np.sign(dd) * ctx.beta).astype(dd.dtype)))
            else:
                g = _where(inside, d / ctx.beta, _const(np.sign(dd)))
            g = _per_element(grad, ctx) * g
        return (g if ctx.needs_input_grad[0] else None,
                -g if ctx.needs_input_grad[1] else None)


def _scalar_loop(*arrays):
    """Which elements torch's vectorised loss kernels leave to their scalar loop (whose rounding
    can differ): with every operand contiguous (or a 0-d number), those past the last whole 32
    (two 16-lane half vectors) of the flattened tensor; otherwise all of them. (torch also
    splits large tensors among threads, each part with its own tail: not modelled.)"""
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    n = math.prod(shape)
    if all(a.ndim == 0 or (a.shape == shape and a.flags.c_contiguous) for a in arrays):
        return (np.arange(n) >= n - n % 32).reshape(shape)
    return np.ones(shape, bool)


def _half_smooth_l1(a, b, beta, huber, npd):
    """The elementwise smooth L1 (Huber) loss of half-type arrays a, b as float32 values, as
    torch's kernels compute it (measured): smooth L1 on bfloat16 in float64, Huber on float16
    in float32; the other two round to the half type after every op, with beta as a half."""
    f32, half = np.float32, np.float32(0.5)
    if npd.name == ("float16" if huber else "bfloat16"):   # torch's wide kernels
        z = np.abs(a.astype(f32) - b.astype(f32))
        if huber:
            return select(z < f32(beta), half * z * z, f32(beta) * (z - half * f32(beta)))
        z = z.astype(np.float64)
        return select(z < beta, 0.5 * z * z / beta, z - 0.5 * beta).astype(f32)

    def r(v):   # one op's rounding to the half type
        return v.astype(npd).astype(f32)
    z = np.abs(r(a.astype(f32) - b.astype(f32)))
    bh = f32(_as_scalar_t(beta, npd))
    if huber:
        return select(z < bh, r(r(half * z) * z), r(bh * r(z - r(half * bh))))
    return select(z < bh, r(r(r(half * z) * z) / bh), r(z - r(half * bh)))


def _half_smooth_l1_grad(ctx, x, t, grad):
    """torch's (vectorised) smooth L1 / Huber backward for the half types: norm * o * grad, with
    norm = 1/n for 'mean' and o = d / beta or +-1 (float32), or d or +-delta (Huber, in the
    half type with delta and norm rounded to it)."""
    dt = grad._data.dtype
    norm = 1.0 / ctx.n if ctx.reduction == "mean" and ctx.n else 1.0
    if ctx.huber:
        d = x - t
        delta, norm = _as_scalar_t(ctx.beta, dt), _as_scalar_t(norm, dt)
        edge = _const(select(d._data > 0, delta, -delta).astype(dt))
        outside = np.abs(d._data) >= delta
        g = (_where(_const(outside), edge, d) * norm) * grad
        if delta != ctx.beta:   # torch's scalar loop compares with, and multiplies by, the
            # exact delta: norm grad delta outside
            out = (d._data <= -ctx.beta) | (d._data >= ctx.beta)
            edge = _const(select(d._data > 0, norm, -norm).astype(dt))
            g = _where(_const(_scalar_loop(x._data, t._data, grad._data)),
                       _where(_const(out), edge * grad * ctx.beta, (d * norm) * grad), g)
        return g
    xf, tf, gf = opmath_tensors(x, t, grad)
    d = xf - tf
    sign = _const(select(d._data > 0, 1, -1).astype(np.float32))
    o = _where(_const(np.abs(d._data) >= np.float32(ctx.beta)), sign, d / ctx.beta)
    return ((o * norm if norm != 1 else o) * gf).to(grad.dtype)


class HuberLoss(SmoothL1Loss):
    """beta (= delta) times smooth L1: 0.5 d^2 inside |d| < delta, delta (|d| - 0.5 delta)
    outside; the gradient is d inside, delta sign(d) outside."""

    huber = True


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _warn_size(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _broadcast_pair(input, target)
    _check_reduction(reduction)
    if beta == 0:   # torch runs l1_loss then
        return _reduce(_abs(x - y), reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _check_float_pair("smooth_l1_cpu", x, y)
    dt = _result_type(x, y).np
    return SmoothL1Loss.apply(x, y, beta=beta, reduction=reduction, dtype=dt, out_dtype=dt)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """The loss has the input's dtype (torch's kernel writes into a tensor like the input)."""
    _warn_size(input, target)
    x, y = _broadcast_pair(input, target)
    if weight is not None:
        _check_weight_size(weight, input)
        return _weighted(_huber(x, y, "none", delta), weight, input, reduction,
                         by_weight=False)
    _check_reduction(reduction)
    return _huber(x, y, reduction, delta)


def _huber(x, y, reduction, delta):
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _check_float_pair("huber_cpu", x, y)
    rt = _result_type(x, y)
    if not x.is_floating_point():
        raise RuntimeError(f"result type {rt._legacy} can't be cast to the desired output type "
                           f"{_type_name(x)}")
    return HuberLoss.apply(x, y, beta=delta, reduction=reduction, dtype=rt.np,
                           out_dtype=x._data.dtype)


# ---------------------------------------------------------------------------------------------
# Class-index losses

def _dims(shape):
    return f"[{', '.join(map(str, shape))}]"


def _type_name(t):
    return t.dtype._legacy   # torch's scalar-type name: Float, Long ...


def _check_nll(input, target, weight):
    """torch's checks of nll_loss, in its order: batch sizes, then the per-rank shape checks
    (nll_loss for 1-D/2-D input, nll_loss2d for 4-D, a reshape to 4-D otherwise), then the
    dtypes (target Long or Byte, a floating input, a weight of the input's dtype)."""
    nd = input.dim()
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd != 1 and input.shape[0] != (target.shape[0] if target.dim() else 0):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0] if target.dim() else 0}).")
    _not_differentiable("nll_loss_forward", "weight", weight)
    C = input.shape[1] if nd > 1 else input.shape[0]
    spatial = nd > 2
    if nd <= 2:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if weight is not None and (weight.dim() != 1 or weight.numel() != C):
            raise RuntimeError(f"weight tensor should be defined either for all {C} classes or "
                               f"no classes but got weight tensor of shape: "
                               f"{_dims(weight.shape)}")
    else:
        if nd != 4 and tuple(target.shape[1:]) != tuple(input.shape[2:]):
            want = [input.shape[0]] + list(input.shape[2:])
            raise RuntimeError(f"Expected target size {_dims(want)}, got "
                               f"{_dims(target.shape)}")
        if nd == 4 and target.dim() != 3:
            raise RuntimeError("only batches of spatial targets supported (3D tensors) but got "
                               f"targets of dimension: {target.dim()}")
        if weight is not None and weight.numel() != C:
            raise RuntimeError("weight tensor should be defined either for all or no classes")
        if tuple(target.shape[1:]) != tuple(input.shape[2:]):
            raise RuntimeError(f"size mismatch (got input: {_dims(input.shape)} , target: "
                               f"{_dims(target.shape)}")
    if target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_type_name(target)}")
    if input._data.dtype.kind not in "fV":
        kernel = "nll_loss2d_forward_out_frame" if spatial else "nll_loss_out_frame"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_name(input)}\'')
    if weight is not None and weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(input)} but found "
                           f"{_type_name(weight)}")


def _class_last(a):
    """(M, C) rows from an input of shape (C,), (N, C) or (N, C, d1, ...)."""
    if a.ndim == 2:
        return a
    if a.ndim == 1:
        return a.reshape(1, -1)
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


class NllLoss(ArrayFunction):
    """-weight[t] * x[t] per target; 'mean' divides by the counted weights. Target and weight
    are arrays, not inputs: as in torch the node's one edge leads to the log-probabilities."""

    def forward(ctx, logp, *, target, weight, ignore_index, reduction):
        C = logp.shape[1] if logp.ndim > 1 else logp.shape[0]
        x = _class_last(logp)
        t = target.reshape(-1).astype(np.int64, copy=False)
        valid = t != ignore_index
        bad = valid & ((t < 0) | (t >= C))
        if bad.any():
            raise IndexError(f"Target {int(t[bad][0])} is out of bounds.")
        ts = select(valid, t, 0)
        w = (weight[ts] if weight is not None else np.ones(t.shape, x.dtype)) * valid
        w = w.astype(x.dtype, copy=False)
        rows = np.arange(t.shape[0])
        out = -x[rows, ts] * w
        ctx.rows, ctx.ts, ctx.w, ctx.shape, ctx.valid = rows, ts, w, logp.shape, valid
        ctx.reduction = reduction
        if reduction == "none":
            return out.reshape(target.shape)
        if is_half(x.dtype):
            loss = _cascade_sum(out[valid], np.flatnonzero(valid), t.size, x.dtype)
            total = (_cascade_sum(w[valid], np.flatnonzero(valid), t.size, x.dtype)
                     if weight is not None else np.asarray(valid.sum(), x.dtype))
        else:
            loss, total = out.sum(), w.sum()
        if reduction == "sum":
            return np.asarray(loss, x.dtype)
        ctx.total = total
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(loss / total, x.dtype)

    def backward(ctx, grad):
        if ctx.reduction == "mean":
            with np.errstate(divide="ignore", invalid="ignore"):   # nothing counted: 0 weight
                grad = grad / Tensor._make(np.asarray(ctx.total, ctx.w.dtype))
        return NllGrad.apply(grad, src=ctx)


def _cascade_sum(terms, pos, n, npd):
    """torch's nll_loss sum of half-type terms, each add rounded to the half type: eight levels
    of partial sums, level j + 1 taking level j's sum after the term at a position that is a
    multiple of W^(j + 1) (W = 2^max(4, ceil(log2 n) // 8); n counts every target, the
    ignored too), then the eight levels added from the first. pos: the terms' positions."""
    width = 1 << max(4, int(math.ceil(math.log2(n))) // 8 if n > 1 else 0)
    vals, pos = terms.astype(np.float32), np.asarray(pos)
    total = np.float32(0)
    for level in range(8):
        if level == 7 or not vals.size:   # the last level keeps everything it gets
            closing = np.zeros(vals.shape, bool)
        else:
            closing = pos % width ** (level + 1) == 0
        seg = np.concatenate([[0], np.cumsum(closing)[:-1]]) if vals.size else vals
        sums = _segment_sums(vals, seg.astype(np.int64), npd)
        nclosed = int(closing.sum())
        rest = sums[nclosed] if len(sums) > nclosed else np.float32(0)
        total = np.float32(np.asarray(total + rest, np.float32).astype(npd))
        vals, pos = sums[:nclosed], pos[closing]
    return np.asarray(total, npd)


def _segment_sums(vals, seg, npd):
    """Sums of consecutive runs of vals (seg: each value's run, nondecreasing from 0), each
    add rounded to the half type npd; float32 results."""
    if not vals.size:
        return vals
    count = np.bincount(seg)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    grid = np.zeros((count.size, count.max()), np.float32)
    grid[seg, np.arange(vals.size) - first[seg]] = vals
    acc = np.zeros(count.size, np.float32)
    for col in grid.T:
        acc = round_through(acc + col, npd)
    return acc


class NllLoss2D(NllLoss):
    """nll_loss of (N, C, H, W) input and (N, H, W) targets: torch's 2-D kernel and name."""


class NllGrad(ArrayFunction):
    """Scatter -w * grad into the picked entries (linear in grad; backward gathers back)."""

    def forward(ctx, grad, *, src):
        ctx.src = src
        n = src.w.shape[0]
        g = grad.reshape(-1) if grad.ndim else grad   # per target ('none') or one scalar
        shape = src.shape
        C = shape[1] if len(shape) > 1 else shape[0]
        out = np.zeros((n, C), grad.dtype)
        with np.errstate(invalid="ignore"):   # ignored targets get 0 even when 'mean' is 0/0
            out[src.rows, src.ts] = select(src.valid, -src.w * g, 0)
        if len(shape) == 2:
            return out
        if len(shape) == 1:
            return out.reshape(shape)
        moved = out.reshape((shape[0],) + tuple(shape[2:]) + (C,))
        return np.ascontiguousarray(np.moveaxis(moved, -1, 1))

    def backward(ctx, gg):
        src = ctx.src
        picked = _class_last(gg._data)[src.rows, src.ts] * -src.w
        if src.reduction == "none":
            return Tensor._make(picked.reshape(src.shape[:1] + tuple(src.shape[2:]))
                                if len(src.shape) > 1 else picked.reshape(()))
        return Tensor._make(np.asarray(picked.sum(), gg._data.dtype))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class-index targets; input holds log-probabilities."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_nll(input, target, weight)
    w = weight._data if weight is not None else None
    nd = input.dim()
    if nd < 3:
        return NllLoss.apply(input, target=target._data, weight=w, ignore_index=ignore_index,
                             reduction=reduction)
    t = target._data
    if nd != 4:   # torch views other ranks as (N, C, 1, -1) for its 2-D kernel, then back
        n, c = input.shape[:2]
        input = input.contiguous().view(n, c, 1, -1) if input.numel() else \
            input.contiguous().view(n, c, 0, 0)
        t = t.reshape(n, 1, -1) if t.size else t.reshape(n, 0, 0)
    out = NllLoss2D.apply(input, target=t, weight=w, ignore_index=ignore_index,
                          reduction=reduction)
    return out.view(tuple(target.shape)) if nd != 4 and reduction == "none" else out


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """log_softmax over dim 1 (dim 0 for unbatched input) + nll; float targets of the input's
    shape are class probabilities. label_smoothing mixes in the uniform distribution."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not label_smoothing <= 1.0:   # torch bounds it from above only
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = 0 if input.dim() == 1 else 1
    # a target of the input's shape holds class probabilities; any other shape, class indices
    if tuple(target.shape) == tuple(input.shape):
        if not target.is_floating_point():
            raise RuntimeError("Expected floating point type for target with class "
                               f"probabilities, got {_type_name(target)}")
        C = input.shape[cdim] if input.dim() > cdim else 1
        if weight is not None and (weight.dim() != 1 or weight.numel() != C):
            raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                               f"{C} classes or no classes but got weight tensor of shape: "
                               f"{_dims(weight.shape)}")
    logp = _log_softmax(input, cdim)
    C = input.shape[cdim]
    if tuple(target.shape) == tuple(input.shape):
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / C
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape((C,) + (1,) * (input.dim() - cdim - 1))
        if reduction == "none":
            return -prod.sum(cdim)
        total = -prod.sum()   # torch's order: negate the sum, then divide (NegBackward0 first)
        if reduction == "sum":
            return total
        # 'mean' is over the batch and spatial positions
        rows = math.prod(n for i, n in enumerate(input.shape) if i != cdim)
        return scalar_overload(total, "div", rows if input.dim() > 1 else 1)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0:   # torch smooths only for a positive value
        return nll
    # the uniform part: -sum_c w_c logp_c / C per counted target
    wshape = (C,) + (1,) * (input.dim() - cdim - 1)
    lw = logp * weight.reshape(wshape) if weight is not None else logp
    smooth = (-lw.sum(cdim)).masked_fill(_const(target._data == ignore_index), 0.0)
    if reduction == "none":
        s = smooth
    elif reduction == "sum":
        s = smooth.sum()
    else:
        counted = target._data != ignore_index
        if weight is not None:   # the counted targets' weights, summed as torch's sum does
            denom = float(_reduced(weight._data[target._data[counted]], "sum"))
        else:
            denom = float(counted.sum())
        s = smooth.sum() / denom
    return (scalar_overload(nll, "mul", 1 - label_smoothing) +
            scalar_overload(s, "mul", label_smoothing / C))


# ---------------------------------------------------------------------------------------------
# Binary losses

def _infer_size(a, b):
    """The broadcast of shape b against a, with torch's _infer_size message."""
    n = max(len(a), len(b))
    out = []
    for i in range(-n, 0):
        x = a[i] if -i <= len(a) else 1
        y = b[i] if -i <= len(b) else 1
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"Attempting to broadcast a dimension of length {y} at {i}! "
                               f"Mismatching argument at index 1 had torch.Size({list(b)}); but "
                               f"expected shape should be broadcastable to {list(a)}")
        out.append(x if y == 1 else y)
    return tuple(out)


_BCE_EPS = float(np.float32(1e-12))   # torch's EPSILON is a float, then cast to the dtype


class BinaryCrossEntropy(ArrayFunction):
    """-w (t log x + (1 - t) log(1 - x)) with each log clamped at -100, reduced inside the node.
    d/dx = w (x - t) / max(x (1 - x), 1e-12); d/dt = -w logit(x), unclamped (+-inf at x = 0
    or 1, as torch), each in torch's order of ops. The weight is an array: torch gives it no
    gradient."""

    def forward(ctx, x, t, *, weight, reduction):
        if not np.all((x >= 0) & (x <= 1)):   # NaN fails too, as in torch
            raise RuntimeError("all elements of input should be between 0 and 1")
        ctx.save_for_backward(x, t)
        ctx.weight, ctx.reduction, ctx.n = weight, reduction, x.size
        with np.errstate(divide="ignore"):
            lx = np.maximum(np.log(x), -100)
            l1x = np.maximum(np.log1p(-x), -100)
        out = -(t * lx + (1 - t) * l1x)
        if weight is not None:
            out = out * weight
        return _reduced(np.asarray(out, x.dtype), reduction)

    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        gx = gt = None
        if ctx.needs_input_grad[0]:
            eps = _as_scalar_t(_BCE_EPS, x._data.dtype)   # (0 in float16)
            gx = _weighted_mean(ctx, grad * (x - t) / ((1 - x) * x).clamp_min(eps))
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):   # log 0 = -inf here, quietly as in torch
                gt = _weighted_mean(ctx, -x.logit() * grad)
        return gx, gt


def _weighted_mean(ctx, g):
    """A binary loss's elementwise gradient as torch finishes it: times the weight, then
    divided by the number of elements for 'mean' (each a rounding of the half types)."""
    if ctx.weight is not None:
        g = g * _const(ctx.weight)
    return g / ctx.n if ctx.reduction == "mean" and ctx.n else g


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({_size(target)}) that is different to the input "
                         f"size ({_size(input)}) is deprecated. Please ensure they have the same "
                         "size.")
    if weight is not None:
        shape = _infer_size(tuple(target.shape), tuple(weight.shape))
        if shape != tuple(input.shape):
            raise RuntimeError(f"output with shape {_dims(input.shape)} doesn't match the "
                               f"broadcast shape {_dims(shape)}")
    _not_differentiable("binary_cross_entropy", "weight", weight)
    if target._data.dtype != input._data.dtype:   # the kernel checks this before the dtype
        raise RuntimeError(f"Found dtype {_type_name(target)} but expected {_type_name(input)}")
    if not input.is_floating_point():
        raise NotImplementedError(f'"binary_cross_entropy" not implemented for '
                                  f"'{_type_name(input)}'")
    w = None
    if weight is not None:
        w = np.broadcast_to(weight._data.astype(input._data.dtype, copy=False), input.shape)
    return BinaryCrossEntropy.apply(input, target, weight=w, reduction=reduction)


class BinaryCrossEntropyWithLogits(ArrayFunction):
    """(1 - t) x - c log sigmoid(x) with c = 1 + (pw - 1) t (c = 1 without pos_weight), times
    the weight: stable for any x. d/dx = (pw t + 1 - t) sigmoid(x) - pw t (sigmoid(x) - t
    without pw); d/dt = log sigmoid(-x) - pw log sigmoid(x) (-x without pw); both in torch's
    order of ops. Weights are arrays: torch gives them no gradient."""

    def forward(ctx, x, t, *, weight, pos_weight, reduction, dtype, out_dtype):
        ctx.save_for_backward(x, t)
        ctx.weight, ctx.pos_weight, ctx.reduction, ctx.n = weight, pos_weight, reduction, x.size
        xc, tc = x.astype(dtype, copy=False), t.astype(dtype, copy=False)
        if is_half(xc.dtype):   # log_sigmoid's kernel: in float32, rounded once
            xf = xc.astype(np.float32)
            ls = (np.minimum(xf, 0) - _log1p32(_exp32(-np.abs(xf)))).astype(xc.dtype)
        else:
            ls = np.minimum(xc, 0) - np.log1p(np.exp(-np.abs(xc)))
        if pos_weight is not None:
            ls = ls * ((pos_weight - 1) * tc + 1)
        out = (1 - tc) * xc - ls
        if weight is not None:
            out = out * weight
        return _reduced(np.asarray(out, out_dtype), reduction)

    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        pw = _const(ctx.pos_weight) if ctx.pos_weight is not None else None
        gx = gt = None
        if ctx.needs_input_grad[0]:
            if pw is None:
                gx = _sigmoid(x) - t
            else:
                tw = pw * t
                gx = (tw + 1 - t) * _sigmoid(x) - tw
            gx = _weighted_mean(ctx, gx * grad)
        if ctx.needs_input_grad[1]:
            gt = -x * grad if pw is None else \
                (LogSigmoid.apply(-x) - LogSigmoid.apply(x) * pw) * grad
            gt = _weighted_mean(ctx, gt)
        return gx, gt


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Checks in the order of torch's composite kernel: log_sigmoid(input), pos_weight times
    target, (1 - target) times input in place (the loss takes the target's dtype), then the
    weight in place."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({_size(target)}) must be the same as input size "
                         f"({_size(input)})")
    fn = "binary_cross_entropy_with_logits"
    _not_differentiable(fn, "weight", weight)
    _not_differentiable(fn, "pos_weight", pos_weight)
    _check_float("log_sigmoid_cpu", input)
    if pos_weight is not None:
        _check_inplace(tuple(input.shape),
                       _broadcast_shape(tuple(pos_weight.shape), tuple(target.shape)))
    if target._data.dtype == np.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if not target.is_floating_point():
        raise RuntimeError(f"result type {_type_name(input)} can't be cast to the desired "
                           f"output type {_type_name(target)}")
    if weight is not None:
        _check_inplace(tuple(input.shape), tuple(weight.shape))
    dt = _result_type(input, target).np
    w = weight._data.astype(dt, copy=False) if weight is not None else None
    pw = pos_weight._data.astype(dt, copy=False) if pos_weight is not None else None
    return BinaryCrossEntropyWithLogits.apply(input, target, weight=w, pos_weight=pw,
                                              reduction=reduction, dtype=dt,
                                              out_dtype=target._data.dtype)


class SoftMarginLoss(ArrayFunction):
    """log(1 + exp(-y x)), as torch computes it (log1p(exp(-x y)): inf where exp overflows);
    d/dx = -y z / (1 + z) with z = exp(-y x), in torch's order (norm = 1/n for 'mean' first).
    The target is an array of the input's dtype: torch gives it no gradient."""

    def forward(ctx, x, *, y, reduction):
        ctx.save_for_backward(x)
        ctx.y, ctx.reduction, ctx.n = y, reduction, x.size
        with np.errstate(over="ignore"):
            out = np.log1p(np.exp(-x * y))
        return _reduced(np.asarray(out, x.dtype), reduction)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        y = _const(ctx.y)
        norm = 1.0 / ctx.n if ctx.reduction == "mean" and ctx.n else 1.0
        with np.errstate(over="ignore", invalid="ignore"):   # (inf / inf: NaN, as torch)
            z = (-y * x).exp()
            return y * z * -norm / (z + 1) * grad


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x)); the loss has the input's dtype and no gradient for the target."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _not_differentiable("soft_margin_loss", "target", target)
    if input._data.dtype == np.bool_:
        input.neg()   # raises torch's error for negating a bool tensor
    _check_inplace(tuple(input.shape), tuple(target.shape))
    if not input.is_floating_point():   # the loss is written into a tensor of input's dtype
        rt = _result_type(input, target)
        raise RuntimeError(f"result type {rt._legacy if rt.is_floating_point else 'Float'} "
                           f"can't be cast to the desired output type {_type_name(input)}")
    y = target._data.astype(input._data.dtype, copy=False)
    return SoftMarginLoss.apply(input, y=y, reduction=reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    loss = -(target * LogSigmoid.apply(input) + (1 - target) * LogSigmoid.apply(-input))
    if weight is not None:
        loss = loss * weight
    C = input.shape[-1] if input.dim() else 1
    loss = loss.sum(input.dim() - 1) / C if input.dim() else loss
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------
# Distribution losses

class Xlogy(ArrayFunction):
    """x * log(y) with 0 where x == 0 (the xlogy convention kl_div relies on)."""

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = select(x == 0, 0, x * np.log(y))
        return np.asarray(out, np.result_type(x, y))

    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = gy = None
        zero = _const(x._data == 0)
        if ctx.needs_input_grad[0]:
            with np.errstate(divide="ignore"):
                gx = _where(zero, grad * 0, grad * y.log())
        if ctx.needs_input_grad[1]:
            gy = grad * x / y   # 0/0 = NaN at x == y == 0, as torch's xlogy gives
        return gx, gy


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise target * (log target - input); input holds log-probabilities."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = Xlogy.apply(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() else loss.sum()
    _check_reduction(reduction)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * scalar_overload(input, "add", eps).log()
    if full:
        # Stirling's term where target > 1; differentiable in target like torch's (whose
        # masked entries still give NaN gradients at target == 0)
        st = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + _where(_const(target._data > 1), st,
                             _const(np.zeros((), target._data.dtype)))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (input - target)^2 / var); var is clamped at eps with the gradient passing
    through unchanged (as torch does)."""
    if isinstance(var, (int, float)):
        var = Tensor._make(np.full(input.shape, var, input._data.dtype))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if np.any(var._data < 0):
        raise ValueError("var has negative entry/entries")
    v = var.clone()
    with no_grad():   # clamped in place, the gradient passing through the clone unchanged
        v.clamp_(min=eps)
    loss = (v.log() + (input - target).pow(2) / v) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------
# Margin and embedding losses

class ClampMin(ArrayFunction):
    """max(x, 0), the node torch's margin losses end in (clamp_min(0)); the gradient passes
    where x >= 0, at 0 too (NaN gets none)."""

    def forward(ctx, a):
        ctx.keep = a >= 0
        return np.asarray(np.maximum(a, 0), a.dtype)

    def backward(ctx, grad):
        return _where(_const(ctx.keep), grad, zero_of(grad))


def _clamp0(x):
    return ClampMin.apply(x)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {_size(input1)}, input2: {_size(input2)}, "
                           f"target: {_size(target)} ")
    return _reduce(_clamp0(scalar_overload(-target * (input1 - input2), "add", margin)),
                   reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    t = target._data
    zeros = _const(np.zeros(input.shape, input._data.dtype))   # (torch's composite)
    margin_part = _where(_const(t != 1), _clamp0(_const(np.asarray(margin)) - input), zeros)
    self_part = _where(_const(t != -1), input, zeros)
    return _reduce(margin_part + self_part, reduction)


def _cosine(x1, x2, dim, eps_sq):
    num = (x1 * x2).sum(dim)
    den = (scalar_overload((x1 * x1).sum(dim), "add", eps_sq) *
           scalar_overload((x2 * x2).sum(dim), "add", eps_sq))
    return num / den.sqrt()


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos where target == 1, max(0, cos - margin) where target == -1 (0 elsewhere);
    a 1-D target pairs with (N, D) inputs, a 0-D one with (D,) inputs."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    td = target.dim()
    if td > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.dim() != 2 - (td == 0) or input2.dim() != 2 - (td == 0):
        raise RuntimeError(f"{td}D target tensor expects {2 - (td == 0)}D input tensors, but "
                           f"found inputs with sizes {_dims(input1.shape)} and "
                           f"{_dims(input2.shape)}.")
    cos = _cosine(input1, input2, td, 1e-12)
    t = target._data
    # (torch's composite: the number 1 wrapped as a tensor, margin a Scalar, constant zeros)
    pos = _const(np.asarray(1.0)) - cos
    neg = _clamp0(scalar_overload(cos, "sub", margin))
    zeros = _const(np.zeros(cos.shape, cos._data.dtype))
    loss = _where(_const(t == 1), pos, zeros) + _where(_const(t == -1), neg, zeros)
    return _reduce(loss, reduction)


class Sqrt(ArrayFunction):
    def forward(ctx, a):
        out = np.asarray(np.sqrt(a))
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (y * 2)


def _sqrt(x):
    return Sqrt.apply(x)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not a == p == n:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a}D, positive {p}D, "
                           f"and negative {n}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_triplet_dims(anchor, positive, negative)
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:   # torch.minimum: a tie splits the gradient
        d_an = d_an.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce(_clamp0(scalar_overload(d_ap, "add", margin) - d_an), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist = distance_function if distance_function is not None else pairwise_distance
    d_ap = dist(anchor, positive)
    d_an = dist(anchor, negative)
    if swap:
        d_an = d_an.minimum(dist(positive, negative))
    return _reduce(_clamp0(margin + d_ap - d_an), reduction)


def _check_index_target(target):
    if target._data.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {_type_name(target)}")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """sum over i != y of max(0, margin - x[y] + x[i])^p / C (times weight[y]); the gradient
    is 0 where the hinge is exactly 0 (torch's kernel tests z > 0)."""
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _not_differentiable("multi_margin_loss", "weight", weight)
    nd = input.dim()
    if not ((input.numel() > 0 and nd <= 1) or (nd == 2 and input.shape[1] > 0)):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {_dims(input.shape)}")
    C = input.shape[-1] if nd else 1
    N = input.numel() // C
    if target.dim() > 1 or target.numel() != N:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to "
                           f"the number of input samples (batch size). Expected target size "
                           f"[{N}], but got {_dims(target.shape)}. Input has shape "
                           f"{_dims(input.shape)}.")
    if weight is not None and weight.numel() != C:
        raise RuntimeError(f"inconsistent weight size, expected {C} but got "
                           f"{_dims(weight.shape)}")
    _check_index_target(target)
    _check_float32_64("multi_margin_loss_cpu_kernel", input)
    if weight is not None and weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(input)} but found "
                           f"{_type_name(weight)}")
    t = target._data.reshape(-1)
    if np.any((t < 0) | (t >= C)):
        raise RuntimeError("target out of range")
    return MultiMarginLoss.apply(input, target=t, p=p, margin=margin, reduction=reduction,
                                 weight=None if weight is None else weight._data,
                                 shape=tuple(target.shape) if nd < 2 else (N,))


class MultiMarginLoss(ArrayFunction):
    """Per sample (a row of x, target y): sum over i != y of max(0, margin - x[y] + x[i])^p / C
    (times weight[y]), reduced inside the node (MultiMarginLossBackward0, one edge: the input,
    as torch). The gradient for x[i] is p z^(p-1) weight[y] / C where the hinge z is > 0
    (torch's kernel tests z > 0: 0 at the kink), and x[y] gets minus their sum."""

    def forward(ctx, x, *, target, p, margin, reduction, weight, shape):
        C = x.shape[-1] if x.ndim else 1
        X = x.reshape(-1, C)
        rows = np.arange(X.shape[0])
        z = (margin - X[rows, target])[:, None] + X   # (torch's order of operations)
        z[rows, target] = 0                           # (the target's own term is not counted)
        h = np.maximum(z, 0)
        if p == 2:
            h *= h
        if weight is not None:
            h *= weight[target][:, None]
        ctx.save_for_backward(x)
        ctx.target, ctx.p, ctx.margin, ctx.weight = target, p, margin, weight
        ctx.reduction, ctx.n = reduction, X.shape[0]
        loss = np.asarray(h.sum(1) / C, x.dtype)
        return _reduced(loss.reshape(shape) if reduction == "none" else loss, reduction)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        C = x.shape[-1] if x.dim() else 1
        X = x.reshape(-1, C)
        N, t = X.shape[0], ctx.target
        onehot = np.zeros((N, C), bool)
        onehot[np.arange(N), t] = True
        z = X - X.gather(1, Tensor._make(t.reshape(N, 1))) + ctx.margin
        scale = ((z._data > 0) & ~onehot) / np.asarray(C, X._data.dtype)
        if ctx.weight is not None:
            scale = scale * ctx.weight[t][:, None]
        coef = _const(scale.astype(X._data.dtype, copy=False))
        if ctx.p == 2:
            coef = coef * (2 * z)
        g = _per_element(grad, ctx)
        gi = coef * (g.reshape(N, 1) if ctx.reduction == "none" else g)
        gx = gi - _const(onehot.astype(X._data.dtype)) * gi.sum(1, keepdim=True)
        return gx.reshape(x.shape)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j (the entries before the first -1, a repeated class counted
    each time) and non-target classes i of max(0, 1 - x[j] + x[i]) / C; one node."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    nd = input.dim()
    if not ((nd == 2 and input.shape[1] != 0) or (nd == 1 and input.shape[0] != 0) or nd == 0):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {_dims(input.shape)}")
    C = input.shape[-1] if nd else 1
    if (nd <= 1 and (target.dim() > 1 or target.numel() != C)) or \
            (nd == 2 and tuple(target.shape) != tuple(input.shape)):
        raise RuntimeError(f"inconsistent target size: {_dims(target.shape)} for input of size: "
                           f"{_dims(input.shape)}")
    _check_index_target(target)
    _check_float32_64("multilabel_margin_loss_forward_out_frame", input)
    t = target._data.reshape(-1, C)
    if np.any((t < -1) | (t >= C)):
        raise RuntimeError("argument #2 'target' is out of range")
    return MultilabelMarginLoss.apply(input, target=t, reduction=reduction)


class MultilabelMarginLoss(ArrayFunction):
    """Per sample (a row x of C scores; its targets: the entries of its target row before the
    first -1): sum over listed targets j (a repeated class counted each time) and classes i not
    listed of max(0, 1 - x[j] + x[i]) / C, reduced inside the node (torch's one node,
    MultilabelMarginLossBackward0, its one edge the input as given). Sums in float64 (torch's
    accumulator for float32 too); the mean of no samples is 0, as torch's kernel gives. The
    gradient: 1 / C (1 / (N C) for 'mean') for x[i] and minus it for x[j] per pair whose hinge
    is > 0 (0 at the kink); torch cannot differentiate it again."""

    def forward(ctx, x, *, target, reduction):
        C = target.shape[1]
        X = x.reshape(-1, C)
        z, active, valid = _multilabel_hinges(X, target)
        rows = np.where(active, z, 0).sum((1, 2), dtype=np.float64)
        ctx.save_for_backward(x)
        ctx.active, ctx.valid, ctx.target, ctx.reduction = active, valid, target, reduction
        if reduction == "none" and x.ndim == 2:
            return np.asarray(rows / C, x.dtype)
        total = rows.sum() / C
        if reduction == "mean":
            total = total / X.shape[0] if X.shape[0] else 0.0
        return np.asarray(total, x.dtype)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        N, C = ctx.target.shape
        active, valid = ctx.active, ctx.valid
        count = active.sum(1).astype(np.float64)   # hinges each class enters as x[i]...
        listed = np.nonzero(valid)
        np.add.at(count, (listed[0], ctx.target[listed]), -active.sum(2)[listed])   # ...as x[j]
        step = np.asarray(1.0 / (N * C or 1) if ctx.reduction == "mean" else 1.0 / C,
                          x._data.dtype)
        g = (count * step).astype(x._data.dtype)
        up = grad._data
        g = g * (up.reshape(N, 1) if up.ndim == 1 else up)
        # (create_graph: torch's node without a derivative, edges to grad and the input)
        return _NoDerivative.apply(*[t for t in (grad, x) if t._requires_grad],
                                   results=(np.asarray(g.reshape(x.shape), x._data.dtype),),
                                   label="torch::autograd::NotImplemented",
                                   what="aten::multilabel_margin_loss_backward")


def _multilabel_hinges(X, target):
    """(z, active, valid) of multilabel_margin_loss's rows X (N, C): valid (N, C) marks each
    row's listed target slots (those before the first -1), z (N, C slots, C classes) the hinge
    1 - x[target j] + x[i] (torch's order of operations), active its pairs that count: a listed
    slot j, a class i not listed, z > 0."""
    N, C = target.shape
    valid = np.cumprod(target >= 0, axis=1).astype(bool)
    listed = np.zeros((N, C), bool)
    r = np.nonzero(valid)
    listed[r[0], target[r]] = True
    xj = np.where(valid, np.take_along_axis(X, np.where(valid, target, 0), 1), 0)
    z = (1 - xj)[:, :, None] + X[:, None, :]
    return z, valid[:, :, None] & ~listed[:, None, :] & (z > 0), valid


def _shift(a, k, fill):
    """a's columns moved k places right (left for k < 0), `fill` shifted in; shape kept."""
    out = np.full_like(a, fill)
    w = a.shape[1]
    if k > 0:
        out[:, k:] = a[:, :max(w - k, 0)]
    else:
        out[:, :max(w + k, 0)] = a[:, -k:]
    return out


class CTCLoss(ArrayFunction):
    """Connectionist temporal classification: -log p(target | input) summed over alignments,
    by the forward (alpha) and backward (beta) recursions in log space over the extended
    label sequence (blank, l1, blank, l2, ..., blank); the loop runs over time steps, each
    step vectorised over batch and label positions. The gradient is torch's:
    exp(lp) - exp(logsumexp over s with l'_s = c of alpha + beta, + nll - lp), which equals
    the true gradient once it flows through a log_softmax."""

    def forward(ctx, lp, *, labels, in_lens, tgt_lens, blank, zero_infinity):
        T, N, C = lp.shape
        Lp = labels.shape[1]
        ninf = np.asarray(-np.inf, lp.dtype)
        ext_len = 2 * tgt_lens + 1
        valid = np.arange(Lp)[None, :] < ext_len[:, None]
        prev2 = np.zeros((N, Lp), bool)   # may skip from s-2: a label differing from s-2's
        prev2[:, 2:] = (labels[:, 2:] != blank) & (labels[:, 2:] != labels[:, :-2])
        rows = np.arange(N)[:, None]
        emit = lambda t: select(valid, lp[t][rows, labels], ninf)  # noqa: E731

        alpha = np.full((T, N, Lp), ninf, lp.dtype)
        a0 = np.full((N, Lp), ninf, lp.dtype)
        e0 = emit(0)
        a0[:, 0] = e0[:, 0]
        if Lp > 1:
            a0[:, 1] = select(tgt_lens > 0, e0[:, 1], ninf)
        alpha[0] = a0
        with np.errstate(invalid="ignore"):
            for t in range(1, T):
                p = alpha[t - 1]
                s1, s2 = _shift(p, 1, ninf), _shift(p, 2, ninf)
                s2 = select(prev2, s2, ninf)
                alpha[t] = np.logaddexp(np.logaddexp(p, s1), s2) + emit(t)
            beta = np.full((T, N, Lp), ninf, lp.dtype)
            last = ext_len - 1
            for t in range(T - 1, -1, -1):
                e = emit(t)
                if t < T - 1:
                    nx = beta[t + 1]
                    s1, s2 = _shift(nx, -1, ninf), _shift(nx, -2, ninf)
                    nxt_skip = np.zeros((N, Lp), bool)
                    nxt_skip[:, :-2] = prev2[:, 2:]
                    s2 = select(nxt_skip, s2, ninf)
                    b = np.logaddexp(np.logaddexp(nx, s1), s2) + e
                else:
                    b = np.full((N, Lp), ninf, lp.dtype)
                start = in_lens - 1 == t   # each sequence's last frame starts its recursion
                init = np.full((N, Lp), ninf, lp.dtype)
                init[np.arange(N), last] = e[np.arange(N), last]
                has = tgt_lens > 0
                init[np.arange(N)[has], last[has] - 1] = e[np.arange(N)[has], last[has] - 1]
                beta[t] = select(start[:, None], init, select((t < in_lens - 1)[:, None],
                                                                   b, ninf))
        end = alpha[in_lens - 1, np.arange(N)]
        ll = end[np.arange(N), ext_len - 1]
        ll = select(tgt_lens > 0, np.logaddexp(ll, end[np.arange(N), ext_len - 2]), ll)
        # no input frames: only the empty target has an alignment
        ll = select(in_lens == 0, select(tgt_lens == 0, 0, -np.inf), ll)
        nll = -ll
        ctx.saved = (lp, alpha, beta, labels, in_lens, nll, zero_infinity)
        if zero_infinity:
            nll = select(np.isinf(nll), 0, nll)
        return np.asarray(nll, lp.dtype)

    def backward(ctx, grad):
        if _grad_state.enabled:
            raise NotImplementedError("ember: double backward of ctc_loss is not implemented")
        lp, alpha, beta, labels, in_lens, nll, zero_inf = ctx.saved
        T, N, C = lp.shape
        ab = alpha + beta
        lcab = np.full((T, N, C), -np.inf, lp.dtype)
        tt, nn_, ss = np.meshgrid(np.arange(T), np.arange(N), np.arange(labels.shape[1]),
                                  indexing="ij")
        np.logaddexp.at(lcab, (tt, nn_, labels[nn_, ss]), ab)
        with np.errstate(invalid="ignore", over="ignore"):
            g = np.exp(lp) - np.exp(lcab + nll[None, :, None] - lp)
        g = select((np.arange(T)[:, None] < in_lens[None, :])[:, :, None], g, 0)
        if zero_inf:
            g = select(np.isinf(nll)[None, :, None], 0, g)
        g = g * grad._data[None, :, None]
        return Tensor._make(np.asarray(g, lp.dtype))


def _ctc_lengths(x, name):
    if isinstance(x, Tensor):
        if x._data.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be integral")
        return x._data.astype(np.int64).reshape(-1)
    return np.asarray(x, np.int64).reshape(-1)


def _ctc_value_check(lens, name, top=None):
    where = " (while checking arguments for ctc_loss_allocate_outputs)"
    for v in lens:
        if v < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value {v}"
                               + where)
        if top is not None and v > top:
            raise RuntimeError(f"Expected {name} to have value at most {top}, but got value {v}"
                               + where)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """CTC loss of log_probs (T, N, C) (or unbatched (T, C)) against padded (N, S) or
    concatenated 1-D targets; 'mean' divides each loss by its target length first. Checks
    run in torch's order: reduction, integral lengths, dtype, ranks, blank, sizes, values."""
    _check_reduction(reduction)
    in_lens = _ctc_lengths(input_lengths, "input_lengths")
    tgt_lens = _ctc_lengths(target_lengths, "target_lengths")
    _check_float32_64("ctc_loss_cpu", log_probs)
    unbatched = log_probs.dim() != 3
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    where = " (while checking arguments for ctc_loss_allocate_outputs)"
    if lp.dim() != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {lp.dim()}-dimensional tensor "
                           "for argument #1 'log_probs'" + where)
    tg = targets._data.astype(np.int64)   # unbatched: still (S,) concatenated or (1, S)
    if not 1 <= tg.ndim <= 2:
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {tg.ndim}-dimensional tensor "
                           "for argument #2 'targets'" + where)
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    if in_lens.size != N:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tgt_lens.size != N:
        raise RuntimeError("target_lengths must be of size batch_size")
    _ctc_value_check(tgt_lens, "target_lengths")
    S = int(tgt_lens.max()) if tgt_lens.size else 0
    if tg.ndim == 2:
        if tg.shape[0] != N:
            raise RuntimeError(f"Expected tensor to have size {N} at dimension 0, but got size "
                               f"{tg.shape[0]} for argument #2 'targets'" + where)
        if tg.shape[1] < S:
            raise RuntimeError(f"Expected tensor to have size at least {S} at dimension 1, but "
                               f"got size {tg.shape[1]} for argument #2 'targets'" + where)
        padded = tg[:, :S]
    else:   # concatenated targets
        total = int(tgt_lens.sum())
        if tg.shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got "
                               f"size {tg.shape[0]} for argument #2 'targets'" + where)
        starts = np.concatenate([[0], np.cumsum(tgt_lens)[:-1]]).astype(np.int64)
        pos = np.arange(S)
        padded = select(pos[None, :] < tgt_lens[:, None],
                          tg[np.minimum(starts[:, None] + pos[None, :], max(tg.size - 1, 0))],
                          blank) if tg.size else np.full((N, S), blank)
    _ctc_value_check(in_lens, "input_lengths", T)
    labels = np.full((N, 2 * S + 1), blank, np.int64)
    labels[:, 1::2] = select(np.arange(S)[None, :] < tgt_lens[:, None], padded, blank)
    loss = CTCLoss.apply(lp, labels=labels, in_lens=in_lens, tgt_lens=tgt_lens, blank=blank,
                         zero_infinity=zero_infinity)
    if reduction == "none":
        return loss.squeeze(0) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    div = Tensor._make(np.maximum(tgt_lens, 1).astype(lp._data.dtype))
    return (loss / div).mean()
