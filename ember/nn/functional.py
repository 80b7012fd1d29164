"""`nn.functional`: the function form of every layer. Composition only: the math lives in the
op families (`ember/_ops/activation.py`, `loss.py`, `normalization.py`, `embedding.py`, and
`conv.py`, `pooling.py`, `sampling.py` for convolution, pooling, padding and resampling)."""
import math
import warnings

import numpy as np

from ember._ops.activation import (celu, elu, gelu, glu, hardshrink, hardsigmoid, hardswish,
                                   hardtanh, leaky_relu, log_softmax, logsigmoid, mish, prelu,
                                   relu, relu6, rrelu, selu, sigmoid, silu, softmax, softmin,
                                   softplus, softshrink, softsign, tanh, tanhshrink, threshold)
from ember._ops import activation as _act
from ember._ops.activation import _const, _where, Softmax as _Softmax
from ember._ops.conv import *       # noqa: F401,F403
from ember._ops.pooling import *    # noqa: F401,F403
from ember._ops.sampling import *   # noqa: F401,F403
from ember._ops.embedding import embedding, embedding_bag, one_hot
from ember.autograd.function import ArrayFunction, rename_node
from ember.autograd.grad_mode import state as _grad_state
from ember.backends import _check_sdp_backends, _sdp_enabled
from ember._ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,
                             cosine_embedding_loss, cross_entropy, ctc_loss, gaussian_nll_loss,
                             hinge_embedding_loss, huber_loss, kl_div, l1_loss,
                             margin_ranking_loss, mse_loss, multi_margin_loss,
                             multilabel_margin_loss, multilabel_soft_margin_loss, nll_loss,
                             pairwise_distance, poisson_nll_loss, smooth_l1_loss,
                             soft_margin_loss, triplet_margin_loss,
                             triplet_margin_with_distance_loss)
from ember._ops.loss import _sqrt
from ember._ops.linear import apply_linear as _apply_linear, linear as _linear_op
from ember._ops.normalization import (batch_norm, group_norm, instance_norm, layer_norm,
                                      local_response_norm, normalize, rms_norm)
from ember._ops._helpers import (NotImplementedNode, inplace as _write_inplace,
                                 is_half as _is_half, round_through as _round_through, select)
from ember._ops import linalg as _linalg   # (bilinear's products)
from ember._ops._helpers import c_name as _c_name
from ember._tensor import Tensor


def relu_(input):
    return relu(input, inplace=True)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold, value):
    return _act.threshold(input, threshold, value, inplace=True)


def selu_(input):
    return selu(input, inplace=True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


# ---------------------------------------------------------------------------------------------
# Linear layers

def linear(input, weight, bias=None):
    """input @ weight.T + bias; input (*, in), weight (out, in)."""
    a, w = input._data, weight._data
    if (w.ndim == 2 and a.ndim and a.shape[-1] == w.shape[1] and a.dtype == w.dtype
            and (bias is None or bias._data.dtype == a.dtype) and a.dtype.kind != "c"):
        # the common case, checked cheaply (inputs in torch's addmm order: bias first)
        return _apply_linear(input, weight, bias)
    if input.dim() == 0 or weight.dim() not in (1, 2):
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are "
                           f"{input.dim()}D and {weight.dim()}D")
    if input.shape[-1] != weight.shape[-1]:
        a = "x".join(map(str, input.reshape(-1, input.shape[-1]).shape)) if input.dim() > 1 \
            else f"1x{input.shape[0]}"
        wt = weight.shape
        b = f"{wt[1]}x{wt[0]}" if weight.dim() == 2 else f"{wt[0]}x1"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a} and {b})")
    if bias is not None and weight.dim() == 1 and (input.dim() == 2 or bias.dim() == 1 and
                                                   input.is_contiguous()):
        raise RuntimeError("mat2 must be a matrix, got 1-D tensor")   # torch's addmm
    if bias is None and weight.dim() == 2 and a.dtype != w.dtype:   # torch's mm
        from ember._ops.linalg import _cname
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_cname(input)} != {_cname(weight)}")
    if bias is not None and weight.dim() == 2:   # torch's addmm
        if a.dtype != w.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                               f"{input.dtype._legacy} and {weight.dtype._legacy}")
        if bias._data.dtype != w.dtype:
            raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                               f"{bias.dtype._legacy} and {weight.dtype._legacy}")
    if weight.dim() == 2 and (input._data.dtype.kind in "fc" or input.is_floating_point()):
        return _linear_op(input, weight, bias)
    out = input @ weight.t() if weight.dim() == 2 else input @ weight
    return out + bias if bias is not None else out


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = x1 W[o] x2 + b[o]; weight (out, in1, in2). As torch records it: both inputs
    flattened to (N, in) by reshape, one TrilinearBackward0 node (edges: input1, weight,
    input2), its (N, out) result reshaped to the inputs' batch shape, then the bias added."""
    tensors = (input1, input2, weight) + (() if bias is None else (bias,))
    if len({t._data.dtype for t in tensors}) > 1:
        names = ("input1", "input2", "weight", "bias")
        raise RuntimeError("All tensors must have the same dtype, got " + ", ".join(
            f"{n}: {_c_name(t._data.dtype)}" for n, t in zip(names, tensors)))
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and "
                           f"{input2.dim()}")
    for i in range(input1.dim() - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got "
                               f"{input1.shape[i]} and {input2.shape[i]}")
    if input1.size(-1) != weight.size(1):
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {weight.shape[1]}")
    if input2.size(-1) != weight.size(2):
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {weight.shape[2]}")
    if bias is not None and bias.size(0) != weight.size(0):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[0]} but expected {weight.shape[0]}")
    if weight.dim() != 3:
        raise RuntimeError("number of dimensions must match")
    if input1._data.dtype == np.bool_:
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    _, in1, in2 = weight.shape
    y = _Trilinear.apply(input1.reshape(-1, in1), weight, input2.reshape(-1, in2))
    y = y.reshape(tuple(input1.shape[:-1]) + (weight.shape[0],))
    return y + bias if bias is not None else y


class _Trilinear(ArrayFunction):
    """y[n, o] = sum over i, j of x1[n, i] W[o, i, j] x2[n, j] (torch's _trilinear as bilinear
    calls it), in torch's two products: x1 times W laid out as (in1, out * in2), then one
    product per sample with x2 (half types: each rounded once). The gradients are the same
    contraction of the upstream gradient with the other two operands, in Tensor ops (so they
    differentiate again)."""

    def forward(ctx, x1, w, x2):
        out_f, in1, in2 = w.shape
        t = _linalg._matmul(x1, w.transpose(1, 0, 2).reshape(in1, out_f * in2))
        ctx.save_for_backward(x1, w, x2)
        return _linalg._matmul(t.reshape(-1, out_f, in2), x2[:, :, None])[:, :, 0]

    def backward(ctx, grad):
        x1, w, x2 = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (_linalg.einsum("no,oij,nj->ni", grad, w, x2) if need[0] else None,
                _linalg.einsum("no,ni,nj->oij", grad, x1, x2) if need[1] else None,
                _linalg.einsum("no,oij,ni->nj", grad, w, x1) if need[2] else None)

    def name(self):
        return "TrilinearBackward0"


# ---------------------------------------------------------------------------------------------
# Dropout family

def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape, p, dtype):
    """Bernoulli(1 - p) keep mask already scaled by 1 / (1 - p)."""
    from ember.nn.init import _rng
    if p == 1:
        return np.zeros(shape, dtype)
    keep = _rng().random(shape) >= p
    return (keep * (1.0 / (1.0 - p))).astype(dtype)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    _check_p(p)
    if not training or p == 0:
        return input
    r = input * _const(_keep_mask(tuple(input.shape), p, input._data.dtype))
    return _write_inplace(input, r) if inplace else r


def _feature_dropout(input, p, training, inplace, min_dim, name):
    """Zero whole channels: the mask is (N, C, 1, ...). dropout2d reads a 3-D input as
    (N, C, L) (torch's historical behaviour, with a warning); dropout3d reads a 4-D one as
    unbatched (C, D, H, W)."""
    _check_p(p)
    nd = input.dim()
    if nd not in (min_dim, min_dim + 1):
        warnings.warn(f"{name}: Received a {nd}-D input to {name}, which is deprecated "
                      f"and will result in an error in a future release. To retain the behavior "
                      f"and silence this warning, please use dropout instead. Note that "
                      f"{name} exists to provide channel-wise dropout on inputs with "
                      f"{min_dim - 1} spatial dimensions, a channel dimension, and an optional "
                      f"batch dimension (i.e. {min_dim}D or {min_dim + 1}D inputs).",
                      stacklevel=3)
    if name == "dropout2d" and nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape (C, H, "
                      "W). To maintain the 1D channel-wise dropout behavior, please switch to "
                      "using dropout1d instead.", stacklevel=3)
    if not training or p == 0:
        return input
    batched = nd == min_dim + 1 or name == "dropout2d"
    shape = tuple(input.shape[:2] if batched else input.shape[:1]) + \
        (1,) * (nd - (2 if batched else 1))
    r = input * _const(_keep_mask(shape, p, input._data.dtype))
    return _write_inplace(input, r) if inplace else r


def dropout1d(input, p=0.5, training=True, inplace=False):
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a "
                           f"{input.dim()}D input. Note that dropout1d exists to provide "
                           "channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, 2, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 3, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 4, "dropout3d")


_ALPHA_PRIME = -1.7580993408473766   # -selu_scale * selu_alpha


def _alpha_dropout(input, p, training, inplace, feature):
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        r = input * 0
        return _write_inplace(input, r) if inplace else r
    from ember.nn.init import _rng
    shape = tuple(input.shape)
    if feature:
        shape = shape[:2] + (1,) * (len(shape) - 2)
    keep = (_rng().random(shape) >= p).astype(input._data.dtype)
    a = 1.0 / math.sqrt((1 - p) * (1 + p * _ALPHA_PRIME ** 2))
    b = -a * _ALPHA_PRIME * p
    shift = (a * _ALPHA_PRIME * (1 - keep) + b).astype(input._data.dtype)
    r = input * _const(keep * a) + _const(shift)
    return _write_inplace(input, r) if inplace else r


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha_dropout(input, p, training, inplace, False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha_dropout(input, p, training, inplace, True)


# ---------------------------------------------------------------------------------------------
# Distances and similarity

from ember._ops.statistics import cosine_similarity, pdist   # noqa: E402 (one implementation each)


# ---------------------------------------------------------------------------------------------
# Misc

def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + Gumbel noise) / tau); hard=True returns one-hot values with the soft
    gradient (straight-through)."""
    from ember.nn.init import _rng
    g = -np.log(_rng().exponential(size=tuple(logits.shape))).astype(logits._data.dtype)
    y = softmax((logits + _const(g)) / tau, dim)
    if not hard:
        return y
    idx = np.argmax(y._data, axis=dim)
    hard_arr = np.zeros_like(y._data)
    np.put_along_axis(hard_arr, np.expand_dims(idx, dim), 1, axis=dim)
    return _const(hard_arr) - y.detach() + y




def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(q k^T * scale + mask) v. A bool mask keeps True positions; a float mask is
    added. is_causal masks the upper triangle (query i sees keys <= i)."""
    _check_sdp_backends()   # torch's error when sdpa_kernel / the flags leave no CPU kernel
    flash = None   # whether torch would run its CPU flash kernel: only asked when it matters
    if not _sdp_enabled["math"]:
        flash = _takes_flash(query, key, value, attn_mask, dropout_p, enable_gqa)
        if not flash:
            raise RuntimeError("No available kernel.  Aborting execution.")
    q_in, k_in, v_in = query, key, value
    L, S = query.shape[-2], key.shape[-2]
    E = query.shape[-1]   # (E = 0: the scores are all 0 whatever the scale, as in torch)
    scale_factor = (1 / math.sqrt(E) if E else 1.0) if scale is None else scale
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if enable_gqa:
        rep = query.shape[-3] // key.shape[-3]
        if rep > 1:
            key = _repeat_heads(key, rep)
            value = _repeat_heads(value, rep)
    half = query.dtype if _is_half(query._data.dtype) else None
    if S and query._data.size and (flash or flash is None and _takes_flash(
            q_in, k_in, v_in, attn_mask, dropout_p, enable_gqa)):
        mask = () if attn_mask is None else (attn_mask,)
        return _FlashAttention.apply(query, key, value, *mask, scale=scale_factor,
                                     causal=is_causal)
    if half is not None:   # torch's math kernel runs the half types in float32
        query, key, value = query.float(), key.float(), value.float()
        if attn_mask is not None and attn_mask.dtype.is_floating_point:
            attn_mask = attn_mask.float()
    scores = (query @ key.transpose(-2, -1)) * scale_factor
    if is_causal:
        keep = np.tril(np.ones((L, S), bool))
        scores = _masked_fill(scores, ~keep)
    if attn_mask is not None:
        if attn_mask.dtype.is_floating_point:
            scores = scores + attn_mask
        else:
            scores = _masked_fill(scores, ~attn_mask._data)
    attn = _Softmax.apply(scores, dim=scores.dim() - 1, safe=True)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    out = attn @ value
    if half is not None:
        out = out.to(half)   # (rounded once)
    node = out.grad_fn
    if node is not None and (out._data.size == 0 or S == 0):
        # torch's math kernel ends in this same matmul, but empty inputs take a shortcut
        # ending in an add
        rename_node(node, "AddBackward0")
    return out


class _FlashAttention(ArrayFunction):
    """torch's CPU flash attention on 4-D q, k, v (batch, heads, L, E), one node as torch's:
    the scores s = q k^T * scale (+ mask), p = exp(s - row max), out = p v / sum(p).

    The half types compute in float32, round p to the half type before its product with v, and
    round the output once, as torch does. (torch's exp there is a faster approximation, not
    reproduced: about 1% of bfloat16 outputs and 7% of float16 ones are an ulp or so off.)
    The backward is not differentiable again, as torch's is not: under create_graph its
    gradients come from nodes that raise when differentiated."""

    def forward(ctx, q, k, v, mask=None, *, scale, causal):
        dt = q.dtype
        ctx.half = _is_half(dt)
        wt = np.dtype(np.float32) if ctx.half else dt   # the dtype the kernel computes in
        ctx.save_for_backward(q, k, v)
        q, k, v = (a.astype(wt, copy=False) for a in (q, k, v))
        s = np.matmul(q, np.swapaxes(k, -1, -2))
        s *= wt.type(scale)
        L, S = s.shape[-2:]
        if causal:
            s = select(np.tril(np.ones((L, S), bool)), s, wt.type(-np.inf))
        if mask is not None:
            s = s + mask.astype(wt) if mask.dtype != np.bool_ else \
                select(mask, s, wt.type(-np.inf))
        m = s.max(-1, keepdims=True)
        m[np.isneginf(m)] = 0   # (a row with every key masked: zeros)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            s -= m
            p = np.exp(s, out=s)
            total = p.sum(-1, keepdims=True)
            out = np.matmul(_round_through(p, dt) if ctx.half else p, v)
            out /= total
            p /= total
        empty = total == 0
        if empty.any():
            out[np.broadcast_to(empty, out.shape)] = 0
            p[np.broadcast_to(empty, p.shape)] = 0
        ctx.q, ctx.k, ctx.v, ctx.attn, ctx.dt, ctx.scale = q, k, v, p, dt, wt.type(scale)
        out = out.astype(dt, copy=False)
        ctx.out = out.astype(wt)   # (the output as returned: the half types' rounded)
        return out

    def backward(ctx, grad):
        """torch's flash backward: dv = P^T g, dS = P (g v^T - rowsum(g * out)), then
        dq = dS k scale and dk = dS^T q scale. For the half types P and dS are rounded to the
        half type, and each gradient once."""
        g = grad._data.astype(ctx.q.dtype, copy=False)
        P, q, k, v, dt = ctx.attn, ctx.q, ctx.k, ctx.v, ctx.dt
        rounded = (lambda a: _round_through(a, dt)) if ctx.half else (lambda a: a)
        dv = np.matmul(np.swapaxes(rounded(P), -1, -2), g)
        dp = np.matmul(g, np.swapaxes(v, -1, -2))
        dp -= (g * ctx.out).sum(-1, keepdims=True)
        ds = rounded(np.multiply(P, dp, out=dp))
        dq = np.matmul(ds, k)
        dq *= ctx.scale
        dk = np.matmul(np.swapaxes(ds, -1, -2), q)
        dk *= ctx.scale
        needs = ctx.needs_input_grad
        grads = [Tensor._make(a.astype(dt, copy=False)) if n else None
                 for a, n in zip((dq, dk, dv), needs)]
        if _grad_state.enabled:   # create_graph: gradients torch cannot differentiate
            inputs = (grad,) + tuple(ctx.saved_tensors)
            grads = [None if t is None else NotImplementedNode.apply(
                t, *inputs, what="aten::_scaled_dot_product_flash_attention_for_cpu_backward")
                for t in grads]
        return tuple(grads) + (None,) * (len(needs) - 3)

    def name(self):
        return "ScaledDotProductFlashAttentionForCpuBackward0"


def _takes_flash(q, k, v, mask, dropout_p, enable_gqa):
    """Whether torch's SDPA runs its CPU flash kernel on these inputs (else the math one): when
    it is enabled, for 4-D (batch, heads, L, E) floating q, k, v with one batch size, one head
    dim, the same heads (or a multiple of them in q with enable_gqa), unit last-dim strides, no
    dropout, and no mask that requires grad or is not 2-D / 4-D broadcastable to the scores."""
    if not _sdp_enabled["flash"] or dropout_p > 0.0 or not q.is_floating_point():
        return False
    a, b, c = q._data, k._data, v._data
    if a.ndim != 4 or b.ndim != 4 or c.ndim != 4:
        return False
    B, H, L, E = a.shape
    if b.shape[0] != B or c.shape[0] != B or b.shape[3] != E or c.shape[3] != E:
        return False
    hk = b.shape[1]
    if c.shape[1] != hk or not (hk == H or enable_gqa and hk and H % hk == 0):
        return False
    if not (a.strides[3] == b.strides[3] == c.strides[3] == a.itemsize):
        return False
    if mask is not None:
        m = mask._data.shape
        if mask.requires_grad or len(m) not in (2, 4) or m[-2] not in (L, 1) or \
                m[-1] not in (b.shape[2], 1) or len(m) == 4 and (m[0] not in (B, 1) or
                                                                  m[1] not in (H, 1)):
            return False
    return True


def _repeat_heads(t, rep):
    shape = tuple(t.shape)
    x = t.unsqueeze(-3).expand(shape[:-3] + (shape[-3], rep) + shape[-2:])
    return x.reshape(shape[:-3] + (shape[-3] * rep,) + shape[-2:])


def _masked_fill(scores, mask):
    """scores with -inf where mask is True (the gradient there is 0)."""
    mask = np.broadcast_to(mask, tuple(scores.shape))
    neg = _const(np.full(scores.shape, -np.inf, scores._data.dtype))
    return _where(_const(mask), neg, scores)


def _heads(x, static, name, n_heads, head_dim):
    """(S, N, E) -> (N * H, S, hd), or the caller's precomputed `static` keys/values."""
    if static is None:
        return x.reshape(x.shape[0], n_heads, head_dim).transpose(0, 1).contiguous()
    for dim, want in ((0, n_heads), (2, head_dim)):
        if static.shape[dim] != want:
            raise AssertionError(f"expecting {name}.size({dim}) of {want}, but got "
                                 f"{static.shape[dim]}")
    return static


def _mha_mask_to_float(mask, dtype, name):
    """A bool mask (True = not allowed) becomes 0 / -inf in dtype; float masks pass through."""
    if mask is None:
        return None
    if mask._data.dtype == np.bool_:
        return Tensor._make(select(mask._data, -np.inf, 0).astype(dtype))
    if not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the query is batched (3-D) or not (2-D), with torch's errors for the ranks of
    the other arguments."""
    if query.dim() not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.dim()}-D query tensor")
    batched = query.dim() == 3
    nd = query.dim()
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.dim() != nd or value.dim() != nd:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {nd}-D but "
                             f"found {key.dim()}-D and {value.dim()}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.dim() != nd - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
                             f"{nd - 1}-D but found {key_padding_mask.dim()}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.dim() not in (2, 3):
            raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or "
                                 f"3-D but found {attn_mask.dim()}-D tensor instead")
        if not batched and attn_mask.dim() == 3:
            want = (num_heads, query.shape[0], key.shape[0])
            if tuple(attn_mask.shape) != want:
                raise AssertionError(f"Expected `attn_mask` shape to be {want} but got "
                                     f"{attn_mask.shape}")
    return batched


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False,
                                 _native=False):
    """Sequence-first (L, N, E) multi-head attention as torch computes it: project, split
    heads, scaled dot products with the masks (bool True = masked out), softmax, dropout,
    merge heads, output projection. Returns (output, weights averaged over heads or None).
    Without the weights torch runs scaled_dot_product_attention on the heads, unless
    (`_native`: nn.MultiheadAttention's inference fast path) its native kernel, which
    computes as the weights' path does (q scaled first)."""
    from ember.nn.utils.convert_parameters import _cat
    unbatched = not _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    src_len = key.shape[0]
    if attn_mask is not None:
        want = (tgt_len, src_len) if attn_mask.dim() == 2 else (bsz * num_heads, tgt_len, src_len)
        if tuple(attn_mask.shape) != want:
            raise RuntimeError(f"The shape of the {attn_mask.dim()}D attn_mask is "
                               f"{attn_mask.shape}, but should be {want}.")
    if use_separate_proj_weight:
        wq, wk, wv = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        wq = in_proj_weight.narrow(0, 0, embed_dim)
        wk = in_proj_weight.narrow(0, embed_dim, embed_dim)
        wv = in_proj_weight.narrow(0, 2 * embed_dim, embed_dim)
    if in_proj_bias is not None:
        bq = in_proj_bias.narrow(0, 0, embed_dim)
        bk = in_proj_bias.narrow(0, embed_dim, embed_dim)
        bv = in_proj_bias.narrow(0, 2 * embed_dim, embed_dim)
    else:
        bq = bk = bv = None
    q = linear(query, wq, bq)
    k = linear(key, wk, bk)
    v = linear(value, wv, bv)
    dt = q._data.dtype
    attn_mask = _mha_mask_to_float(attn_mask, dt, "attn_mask")
    key_padding_mask = _mha_mask_to_float(key_padding_mask, dt, "key_padding_mask")
    if attn_mask is not None and attn_mask.dim() == 2:
        attn_mask = attn_mask.unsqueeze(0)
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = _cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = _cat([v, bias_v.expand(1, bsz, embed_dim)])
        if attn_mask is not None:
            attn_mask = Tensor._make(np.pad(attn_mask._data, [(0, 0), (0, 0), (0, 1)]))
        if key_padding_mask is not None:
            key_padding_mask = Tensor._make(np.pad(key_padding_mask._data, [(0, 0), (0, 1)]))
    # (L, N, E) -> (N * H, L, hd)
    # contiguous copies: NumPy's batched matmul on these transposed views is far slower
    q = _heads(q, None, "", bsz * num_heads, head_dim)
    k = _heads(k, static_k, "static_k", bsz * num_heads, head_dim)
    v = _heads(v, static_v, "static_v", bsz * num_heads, head_dim)
    if add_zero_attn:
        zeros = Tensor._make(np.zeros((bsz * num_heads, 1, head_dim), dt))
        k = _cat([k.transpose(0, 1), zeros.transpose(0, 1)]).transpose(0, 1)
        v = _cat([v.transpose(0, 1), zeros.transpose(0, 1)]).transpose(0, 1)
        if attn_mask is not None:
            attn_mask = Tensor._make(np.pad(attn_mask._data, [(0, 0), (0, 0), (0, 1)]))
        if key_padding_mask is not None:
            key_padding_mask = Tensor._make(np.pad(key_padding_mask._data, [(0, 0), (0, 1)]))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        for i, want in enumerate((bsz, src_len)):
            if key_padding_mask.shape[i] != want:
                raise AssertionError(f"Expected key_padded_mask.shape[{i}] to be {want}, but got "
                                     f"{key_padding_mask.shape[i]}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            bsz, num_heads, 1, src_len).reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if not need_weights and not _native:   # torch hands the heads to its SDPA
        causal = is_causal and key_padding_mask is None   # (else the mask says it all)
        mask = None if causal else attn_mask
        if mask is not None:
            mask = mask.unsqueeze(0) if mask.shape[0] == 1 else \
                mask.reshape(bsz, num_heads, -1, src_len)
        out = scaled_dot_product_attention(
            *(t.reshape(bsz, num_heads, -1, head_dim) for t in (q, k, v)), mask, dropout_p,
            causal)
        out = out.permute(2, 0, 1, 3).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        return (out.squeeze(1) if unbatched else out), None
    scores = (q * (1.0 / math.sqrt(head_dim))) @ k.transpose(1, 2)
    if attn_mask is not None:
        scores = scores + attn_mask
    weights = _Softmax.apply(scores, dim=2)
    if dropout_p > 0.0:
        weights = dropout(weights, p=dropout_p)
    out = weights @ v                                         # (N * H, L, hd)
    out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if unbatched:
        out = out.squeeze(1)
    w = weights.reshape(bsz, num_heads, tgt_len, src_len)
    if average_attn_weights:
        w = w.mean(1)
    if unbatched:
        w = w.squeeze(0)
    return out, w
