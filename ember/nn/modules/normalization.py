"""LayerNorm, GroupNorm, RMSNorm, LocalResponseNorm, CrossMapLRN2d."""
import numpy as np

from ember._ops.creation import empty
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction
from ember.nn import functional as F
from ember.nn import init
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter

__all__ = ["LocalResponseNorm", "CrossMapLRN2d", "LayerNorm", "GroupNorm", "RMSNorm"]


def _kw(dtype):
    return {"dtype": dtype} if dtype is not None else {}


class LocalResponseNorm(Module):
    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class _CrossMapLRN(ArrayFunction):
    """Lua torch's SpatialCrossMapLRN, which torch keeps for CrossMapLRN2d: the channel
    window is built by a running sum that adds channel c + pre - 1 and drops channel c - pre
    only from c > pre on (so its windows are not LocalResponseNorm's), and the backward is the
    legacy one: scale^-beta * g - 2 alpha beta / size * x * (windowed sum of g * y / scale),
    not the exact derivative of this forward."""

    def forward(ctx, x, *, size, alpha, beta, k):
        C = x.shape[1]
        sq = x * x
        pre = (size - 1) // 2 + 1
        inc = np.zeros_like(sq)                      # the running sum's steps over channels
        inc[:, 0] = sq[:, :min(pre, C)].sum(1)
        if C - pre > 0:
            inc[:, 1:C - pre + 1] += sq[:, pre:]
        if C - 1 - pre > 0:
            inc[:, pre + 1:] -= sq[:, 1:C - pre]
        scale = np.cumsum(inc, axis=1) * np.asarray(alpha / size, x.dtype) + np.asarray(k, x.dtype)
        out = x * scale ** np.asarray(-beta, x.dtype)
        ctx.x, ctx.scale, ctx.out, ctx.params = x, scale, out, (size, alpha, beta)
        return out

    def backward(ctx, grad):
        size, alpha, beta = ctx.params
        x, scale, g = ctx.x, ctx.scale, grad._data
        N, C = x.shape[:2]
        lo = int(size - (size - 1) / 2)             # where the ratios start in the padding
        padded = np.zeros((N, C + size - 1) + x.shape[2:], x.dtype)
        padded[:, lo:lo + C] = g * ctx.out / scale
        cs = np.concatenate([np.zeros_like(padded[:, :1]), np.cumsum(padded, axis=1)], axis=1)
        window = cs[:, size:size + C] - cs[:, :C]   # sum of padded[c .. c + size - 1]
        gx = scale ** np.asarray(-beta, x.dtype) * g - \
            np.asarray(2 * alpha * beta / size, x.dtype) * x * window
        return Tensor._make(gx.astype(x.dtype, copy=False))


class CrossMapLRN2d(Module):
    """Local response normalisation across channels of a 4-D (N, C, H, W) input, computed as
    the legacy cross-map LRN (see `_CrossMapLRN`)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D "
                             f"instead.")
        return _CrossMapLRN.apply(input, size=self.size, alpha=self.alpha, beta=self.beta,
                                  k=self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def _affine(module, shape, affine, bias, dtype):
    """The per-element weight and bias of a normalisation layer, registered as None when
    absent (affine=False, or bias=False for the bias), then reset_parameters() (as torch)."""
    weight = Parameter(empty(shape, **_kw(dtype))) if affine else None
    module.register_parameter("weight", weight)
    module.register_parameter("bias", Parameter(empty(shape, **_kw(dtype)))
                              if affine and bias else None)
    module.reset_parameters()


def _reset_affine(module):
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


def _as_shape(normalized_shape):
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(normalized_shape)


class LayerNorm(Module):
    """Normalise over the trailing normalized_shape dims; weight ones, bias zeros."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine(self, self.normalized_shape, elementwise_affine, bias, dtype)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine(self, (num_channels,), affine, bias, dtype)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(empty(self.normalized_shape, **_kw(dtype)))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
