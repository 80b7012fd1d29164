"""Loss functions (nn.functional's losses), as ArrayFunctions or compositions of stable pieces.

Reductions: 'none' | 'mean' | 'sum' ('batchmean' for kl_div); anything else is torch's
ValueError. Class-index losses (nll, cross entropy) skip `ignore_index` targets and, with
'mean', divide by the summed weights of the counted targets (NaN when all are ignored).
Stable forms: cross entropy is log_softmax + nll; BCE-with-logits uses log-sigmoid; BCE clamps
each log at -100 as torch does.
"""
import math
import warnings

import numpy as np

from ember._ops.activation import LogSigmoid, LogSoftmax, _const, _where
from ember._ops.linalg import pairwise_distance
from ember._ops.pointwise_unary import Relu
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

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


class Abs(ArrayFunction):
    """|x|; the gradient at 0 is 0 (sign(0))."""

    def forward(ctx, a):
        ctx.sign = np.asarray(np.sign(a))
        return np.asarray(np.abs(a))

    def backward(ctx, grad):
        return grad * _const(ctx.sign)


def _abs(x):
    return Abs.apply(x)


def _relu(x):
    return Relu.apply(x)


def _clamp_min(x, m):
    """max(x, m) with the gradient passing where x > m."""
    return _relu(x - m) + m if m != 0 else _relu(x)


def _tensor_like(value, like):
    return value if isinstance(value, Tensor) else Tensor._make(
        np.asarray(value, like._data.dtype))


# ---------------------------------------------------------------------------------------------
# Regression losses

def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_size(input, target)
    loss = _abs(input - target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_size(input, target)
    d = input - target
    loss = d * d
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


class SmoothL1(ArrayFunction):
    """Quadratic inside |d| < beta, linear outside; huber=True scales the linear part by beta
    (= delta) instead of dividing the quadratic part by it."""

    def forward(ctx, a, b, *, beta, huber):
        d = a - b
        ad = np.abs(d)
        inside = ad < beta
        ctx.save_for_backward(a, b)
        ctx.inside, ctx.sign, ctx.beta, ctx.huber = inside, np.sign(d), beta, huber
        dt = d.dtype
        if huber:
            out = np.where(inside, 0.5 * d * d, beta * (ad - 0.5 * beta))
        elif beta == 0:
            out = ad
        else:
            out = np.where(inside, 0.5 * d * d / beta, ad - 0.5 * beta)
        return np.asarray(out, dt)

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        d = a - b
        if ctx.huber:
            lin = _const(ctx.sign * ctx.beta)
            g = _where(_const(ctx.inside), d, lin.to(d.dtype))
        else:
            lin = _const(ctx.sign.astype(d._data.dtype))
            g = _where(_const(ctx.inside), d / ctx.beta, lin) if ctx.beta else lin
        g = grad * g
        return (g if ctx.needs_input_grad[0] else None,
                -g if ctx.needs_input_grad[1] else None)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _warn_size(input, target)
    return _reduce(SmoothL1.apply(input, target, beta=beta, huber=False), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _warn_size(input, target)
    loss = SmoothL1.apply(input, target, beta=delta, huber=True)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------
# Class-index losses

def _check_nll_shapes(input, target):
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{target.dtype._legacy.replace('Tensor', '')}")
    if input.dim() == 1:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return
    if input.shape[0] != target.shape[0] if target.dim() else True:
        if target.dim() == 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0]}).")
    if input.dim() == 2 and target.dim() != 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.dim() == 3:
        want = [input.shape[0]] + list(input.shape[2:])
        if list(target.shape) != want:
            raise RuntimeError(f"Expected target size {want}, got {list(target.shape)}")
    elif input.dim() > 3:
        if target.dim() != input.dim() - 1:
            raise RuntimeError(f"only batches of spatial targets supported ({input.dim()}D "
                               f"tensors) but got targets of dimension: {target.dim()}")
        if tuple(target.shape[1:]) != tuple(input.shape[2:]):
            raise RuntimeError(f"size mismatch (got input: {'x'.join(map(str, input.shape))}"
                               f" , target: {'x'.join(map(str, target.shape))}")


def _class_last(a):
    """(M, C) rows from an input of shape (C,), (N, C) or (N, C, d1, ...)."""
    if a.ndim == 2:
        return a
    if a.ndim == 1:
        return a.reshape(1, -1)
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


class NllLoss(ArrayFunction):
    """-weight[t] * x[t] per target; 'mean' divides by the counted weights."""

    def forward(ctx, logp, target, weight, *, ignore_index, reduction):
        C = logp.shape[1] if logp.ndim > 1 else logp.shape[0]
        x = _class_last(logp)
        t = target.reshape(-1).astype(np.int64, copy=False)
        valid = t != ignore_index
        bad = valid & ((t < 0) | (t >= C))
        if bad.any():
            raise IndexError(f"Target {int(t[bad][0])} is out of bounds.")
        ts = np.where(valid, t, 0)
        w = (weight[ts] if weight is not None else np.ones(t.shape, x.dtype)) * valid
        w = w.astype(x.dtype, copy=False)
        rows = np.arange(t.shape[0])
        out = -x[rows, ts] * w
        ctx.rows, ctx.ts, ctx.w, ctx.shape = rows, ts, w, logp.shape
        ctx.reduction = reduction
        if reduction == "none":
            return out.reshape(target.shape)
        if reduction == "sum":
            return np.asarray(out.sum(), x.dtype)
        total = w.sum()
        ctx.total = total
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(out.sum() / total, x.dtype)

    def backward(ctx, grad):
        if ctx.reduction == "mean":
            grad = grad / Tensor._make(np.asarray(ctx.total, ctx.w.dtype))
        return NllGrad.apply(grad, src=ctx), None, None


class NllGrad(ArrayFunction):
    """Scatter -w * grad into the picked entries (linear in grad; backward gathers back)."""

    def forward(ctx, grad, *, src):
        ctx.src = src
        n = src.w.shape[0]
        g = grad.reshape(-1) if grad.ndim else grad   # per target ('none') or one scalar
        shape = src.shape
        C = shape[1] if len(shape) > 1 else shape[0]
        out = np.zeros((n, C), grad.dtype)
        out[src.rows, src.ts] = -src.w * g
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
    _check_nll_shapes(input, target)
    C = input.shape[1] if input.dim() > 1 else input.shape[0]
    if weight is not None and weight.numel() != C:
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no "
                           f"classes but got weight tensor of shape: [{', '.join(map(str, weight.shape))}]")
    return NllLoss.apply(input, target, weight, ignore_index=ignore_index, reduction=reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """log_softmax over dim 1 (dim 0 for unbatched input) + nll; float targets of the input's
    shape are class probabilities. label_smoothing mixes in the uniform distribution."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = 1 if input.dim() > 1 else 0
    logp = LogSoftmax.apply(input, dim=cdim)
    C = input.shape[cdim]
    if target.is_floating_point():
        if tuple(target.shape) != tuple(input.shape):
            if input.dim() == target.dim() + 1:
                raise RuntimeError("expected scalar type Long but found " +
                                   target.dtype._legacy.replace("Tensor", ""))
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / C
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape((C,) + (1,) * (input.dim() - cdim - 1))
        loss = -prod.sum(cdim)
        if reduction == "mean":
            n = input.shape[0] if input.dim() > 1 else 1
            n = loss.numel() if input.dim() > 1 else 1
            return loss.sum() / n
        return _reduce(loss, reduction)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return nll
    # the uniform part: -sum_c w_c logp_c / C per counted target
    wshape = (C,) + (1,) * (input.dim() - cdim - 1)
    lw = logp * weight.reshape(wshape) if weight is not None else logp
    smooth = -lw.sum(cdim)
    valid = _const(target._data != ignore_index)
    smooth = _where(valid, smooth, smooth * 0)
    if reduction == "none":
        s = smooth
    elif reduction == "sum":
        s = smooth.sum()
    else:
        t = np.where(target._data != ignore_index, target._data, 0)
        if weight is not None:
            denom = float((weight._data[t] * (target._data != ignore_index)).sum())
        else:
            denom = float((target._data != ignore_index).sum())
        s = smooth.sum() / denom
    return nll * (1 - label_smoothing) + s * (label_smoothing / C)


# ---------------------------------------------------------------------------------------------
# Binary losses

class BinaryCrossEntropy(ArrayFunction):
    """-w (t log x + (1 - t) log(1 - x)) with each log clamped at -100."""

    def forward(ctx, x, t, w):
        if np.any((x < 0) | (x > 1)):
            raise RuntimeError("all elements of input should be between 0 and 1")
        ctx.save_for_backward(x, t, w)
        with np.errstate(divide="ignore"):
            lx = np.maximum(np.log(x), -100)
            l1x = np.maximum(np.log1p(-x), -100)
        out = -(t * lx + (1 - t) * l1x)
        if w is not None:
            out = out * w
        return np.asarray(out, x.dtype)

    def backward(ctx, grad):
        x, t, w = ctx.saved_tensors
        gx = gt = None
        if ctx.needs_input_grad[0]:
            denom = _const(np.maximum((1 - x._data) * x._data, 1e-12).astype(x._data.dtype))
            gx = grad * (x - t) / denom
            if w is not None:
                gx = gx * w
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                d = np.maximum(np.log1p(-x._data), -100) - np.maximum(np.log(x._data), -100)
            gt = grad * _const(d.astype(x._data.dtype))
            if w is not None:
                gt = gt * w
        return gx, gt, None


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({_size(target)}) that is different to the input "
                         f"size ({_size(input)}) is deprecated. Please ensure they have the same "
                         "size.")
    if weight is not None:
        weight = weight.expand(input.shape)
    return _reduce(BinaryCrossEntropy.apply(input, target, weight), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """(1 - t) x - (1 + (pw - 1) t) log sigmoid(x): stable for any x."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({_size(target)}) must be the same as input size "
                         f"({_size(input)})")
    ls = LogSigmoid.apply(input)
    if pos_weight is not None:
        coef = (pos_weight - 1) * target + 1
        loss = (1 - target) * input - coef * ls
    else:
        loss = (1 - target) * input - ls
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x))."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return _reduce(-LogSigmoid.apply(input * target), reduction)


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

class XlogY(ArrayFunction):
    """x * log(y) with 0 where x == 0 (the xlogy convention kl_div relies on)."""

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(x == 0, 0, x * np.log(y))
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
        loss = XlogY.apply(target, target) - target * input
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
        loss = input - target * (input + eps).log()
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
    clamp = _const((np.maximum(var._data, eps) - var._data).astype(var._data.dtype))
    v = var + clamp
    d = input - target
    loss = (v.log() + d * d / v) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------
# Margin and embedding losses

def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {_size(input1)}, input2: {_size(input2)}, "
                           f"target: {_size(target)} ")
    return _reduce(_relu(-target * (input1 - input2) + margin), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    t = target._data
    zero = input * 0
    margin_part = _where(_const(t != 1), _relu(-input + margin), zero)
    self_part = _where(_const(t != -1), input, zero)
    return _reduce(margin_part + self_part, reduction)


def _cosine(x1, x2, dim, eps_sq):
    num = (x1 * x2).sum(dim)
    den = ((x1 * x1).sum(dim) + eps_sq) * ((x2 * x2).sum(dim) + eps_sq)
    return num / den.pow(0.5)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.dim() != input2.dim() or tuple(input1.shape) != tuple(input2.shape):
        raise RuntimeError(f"cosine_embedding_loss: Input1 and Input2 must have same size, but "
                           f"got {_size(input1)} and {_size(input2)}")
    cos = _cosine(input1, input2, input1.dim() - 1, 1e-12)
    t = target._data
    pos = 1 - cos
    neg = _relu(cos - margin)
    zero = cos * 0
    loss = _where(_const(t == 1), pos, zero) + _where(_const(t == -1), neg, zero)
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


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_pn = pairwise_distance(positive, negative, p, eps)
        use = _const(d_pn._data < d_an._data)
        d_an = _where(use, d_pn, d_an)
    return _reduce(_relu(d_ap - d_an + margin), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    _check_reduction(reduction)
    dist = distance_function if distance_function is not None else pairwise_distance
    d_ap = dist(anchor, positive)
    d_an = dist(anchor, negative)
    if swap:
        d_pn = dist(positive, negative)
        d_an = _where(_const(d_pn._data < d_an._data), d_pn, d_an)
    return _reduce(_relu(d_ap - d_an + margin), reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """sum over i != y of max(0, margin - x[y] + x[i])^p / C (times weight[y])."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = input if input.dim() == 2 else input.reshape(1, -1)
    N, C = x.shape
    t = target._data.reshape(-1)
    if np.any((t < 0) | (t >= C)):
        raise RuntimeError("target out of range")
    onehot = np.zeros((N, C), x._data.dtype)
    onehot[np.arange(N), t] = 1
    xy = (x * _const(onehot)).sum(1, keepdim=True)
    h = _relu(x - xy + margin)
    if p == 2:
        h = h * h
    if weight is not None:
        h = h * _const(weight._data[t].reshape(N, 1))
    h = h * _const(1 - onehot)
    loss = h.sum(1) / C
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j (up to the first -1) and non-target i of
    max(0, 1 - (x[j] - x[i])) / C."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    x = input if input.dim() == 2 else input.reshape(1, -1)
    N, C = x.shape
    t = target._data.reshape(N, C)
    valid = np.cumprod(t >= 0, axis=1).astype(bool)   # entries before the first -1
    is_target = np.zeros((N, C), bool)
    rows = np.repeat(np.arange(N), C)[valid.reshape(-1)]
    is_target[rows, t[valid]] = True
    pair = (is_target[:, :, None] & ~is_target[:, None, :]).astype(x._data.dtype)
    h = _relu(1 - (x.unsqueeze(2) - x.unsqueeze(1)))
    loss = (h * _const(pair)).sum((1, 2)) / C
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


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
        emit = lambda t: np.where(valid, lp[t][rows, labels], ninf)  # noqa: E731

        alpha = np.full((T, N, Lp), ninf, lp.dtype)
        a0 = np.full((N, Lp), ninf, lp.dtype)
        e0 = emit(0)
        a0[:, 0] = e0[:, 0]
        a0[:, 1] = np.where(tgt_lens > 0, e0[:, 1], ninf)
        alpha[0] = a0
        with np.errstate(invalid="ignore"):
            for t in range(1, T):
                p = alpha[t - 1]
                s1 = np.concatenate([np.full((N, 1), ninf, lp.dtype), p[:, :-1]], 1)
                s2 = np.concatenate([np.full((N, 2), ninf, lp.dtype), p[:, :-2]], 1)
                s2 = np.where(prev2, s2, ninf)
                alpha[t] = np.logaddexp(np.logaddexp(p, s1), s2) + emit(t)
            beta = np.full((T, N, Lp), ninf, lp.dtype)
            last = ext_len - 1
            for t in range(T - 1, -1, -1):
                e = emit(t)
                if t < T - 1:
                    nx = beta[t + 1]
                    s1 = np.concatenate([nx[:, 1:], np.full((N, 1), ninf, lp.dtype)], 1)
                    s2 = np.concatenate([nx[:, 2:], np.full((N, 2), ninf, lp.dtype)], 1)
                    nxt_skip = np.zeros((N, Lp), bool)
                    nxt_skip[:, :-2] = prev2[:, 2:]
                    s2 = np.where(nxt_skip, s2, ninf)
                    b = np.logaddexp(np.logaddexp(nx, s1), s2) + e
                else:
                    b = np.full((N, Lp), ninf, lp.dtype)
                start = in_lens - 1 == t   # each sequence's last frame starts its recursion
                init = np.full((N, Lp), ninf, lp.dtype)
                init[np.arange(N), last] = e[np.arange(N), last]
                has = tgt_lens > 0
                init[np.arange(N)[has], last[has] - 1] = e[np.arange(N)[has], last[has] - 1]
                beta[t] = np.where(start[:, None], init, np.where((t < in_lens - 1)[:, None],
                                                                   b, ninf))
        end = alpha[in_lens - 1, np.arange(N)]
        ll = end[np.arange(N), ext_len - 1]
        ll = np.where(tgt_lens > 0, np.logaddexp(ll, end[np.arange(N), ext_len - 2]), ll)
        nll = -ll
        ctx.saved = (lp, alpha, beta, labels, in_lens, nll, zero_infinity)
        if zero_infinity:
            nll = np.where(np.isinf(nll), 0, nll)
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
        g = np.where((np.arange(T)[:, None] < in_lens[None, :])[:, :, None], g, 0)
        if zero_inf:
            g = np.where(np.isinf(nll)[None, :, None], 0, g)
        g = g * grad._data[None, :, None]
        return Tensor._make(np.asarray(g, lp.dtype))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """CTC loss of log_probs (T, N, C) (or unbatched (T, C)) against padded (N, S) or
    concatenated 1-D targets; 'mean' divides each loss by its target length first."""
    _check_reduction(reduction)
    unbatched = log_probs.dim() == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    T, N, C = lp.shape

    def as_array(x):
        return x._data.astype(np.int64).reshape(-1) if isinstance(x, Tensor) else \
            np.asarray(x, np.int64).reshape(-1)
    in_lens, tgt_lens = as_array(input_lengths), as_array(target_lengths)
    tg = targets._data.astype(np.int64)
    if unbatched and tg.ndim == 1 and tgt_lens.size == 1:
        tg = tg.reshape(1, -1)
    S = int(tgt_lens.max()) if tgt_lens.size else 0
    if tg.ndim == 2:
        padded = tg[:, :S] if S else np.zeros((N, 0), np.int64)
    else:   # concatenated targets
        starts = np.concatenate([[0], np.cumsum(tgt_lens)[:-1]])
        pos = np.arange(S)
        padded = np.where(pos[None, :] < tgt_lens[:, None],
                          tg[np.minimum(starts[:, None] + pos[None, :], max(tg.size - 1, 0))],
                          blank) if tg.size else np.full((N, S), blank)
    if np.any(in_lens > T):
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value "
                           f"{int(in_lens.max())} (while checking arguments for ctc_loss_cpu)")
    labels = np.full((N, 2 * S + 1), blank, np.int64)
    labels[:, 1::2] = np.where(np.arange(S)[None, :] < tgt_lens[:, None], padded, blank)
    loss = CTCLoss.apply(lp, labels=labels, in_lens=in_lens, tgt_lens=tgt_lens, blank=blank,
                         zero_infinity=zero_infinity)
    if reduction == "none":
        return loss.squeeze(0) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    div = Tensor._make(np.maximum(tgt_lens, 1).astype(lp._data.dtype))
    return (loss / div).mean()
