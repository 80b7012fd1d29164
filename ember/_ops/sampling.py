"""Padding, resampling and rearranging: pad, interpolate, grid_sample, affine_grid, unfold/fold,
pixel_shuffle/unshuffle, channel_shuffle.

Everything separable is a `Separable` op from pooling.py (one small matrix per spatial dim,
applied with a matmul; the gradient applies the transposes): interpolate in every mode
(antialiased too: PIL's normalised filters), and the gradients of reflect/replicate/circular
padding. grid_sample gathers input rows per tap (4 or 8 linear, 16 cubic) and scatters them
back with bincount. Constant padding is its own adjoint with negated pads. unfold/fold are
conv.py's im2col/col2im. Pixel and channel shuffles are one node each, as in torch: a reshape,
a transpose and one copy of the array; each one's gradient is the inverse shuffle.
"""
import itertools
import math
import warnings

import numpy as np

from ember._ops._helpers import fma32 as _fma, is_half, round_through
from ember._ops.conv import _col2im, _cols
from ember._ops.pooling import (Separable, _adaptive_avg_half, _adaptive_matrix, _dense,
                                _weights, ordered_steps)
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
           "grid_sample", "affine_grid", "unfold", "fold", "pixel_shuffle", "pixel_unshuffle",
           "channel_shuffle", "native_channel_shuffle"]


# ---------------------------------------------------------------------------------------------
# pad

class ConstantPad(ArrayFunction):
    """Pad (or crop, for negative pads) the trailing dims with `value`; the gradient is the
    same op with negated pads and value 0."""

    def forward(ctx, x, *, pads, value=0):
        ctx.pads = pads
        D = len(pads)
        lead = x.ndim - D
        shape = x.shape[:lead] + tuple(x.shape[lead + i] + lo + hi for i, (lo, hi) in
                                       enumerate(pads))
        if any(s < 0 for s in shape):
            raise RuntimeError(f"The input size {x.shape[lead + [i for i, s in enumerate(shape[lead:]) if s < 0][0]]}"
                               f", plus negative padding {pads} resulted in a negative output "
                               f"size, which is invalid. Check dimension of your input.")
        out = np.full(shape, value, dtype=x.dtype)
        src = tuple(slice(max(-lo, 0), x.shape[lead + i] - max(-hi, 0))
                    for i, (lo, hi) in enumerate(pads))
        dst = tuple(slice(max(lo, 0), shape[lead + i] - max(hi, 0))
                    for i, (lo, hi) in enumerate(pads))
        out[(Ellipsis,) + dst] = x[(Ellipsis,) + src]
        return out

    def backward(ctx, g):
        return ConstantPad.apply(g, pads=tuple((-lo, -hi) for lo, hi in ctx.pads))

    def name(self):
        return "ConstantPadNdBackward0"


_NP_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _fold_pad(g, axis, L, lo, hi, mode):
    """The adjoint of padding one axis (length L, by lo and hi): the core plus each padded
    copy added back onto the positions it was copied from, one slice-add per side."""
    take = lambda start, stop: g[(slice(None),) * axis + (slice(start, stop),)]
    core = take(lo, lo + L).copy()
    into = lambda start, stop: core[(slice(None),) * axis + (slice(start, stop),)]
    left, right = take(0, lo), take(lo + L, None)
    if mode == "reflect":       # left pad j mirrors input lo - j; right pad k, L - 2 - k
        into(1, lo + 1)[...] += np.flip(left, axis)
        into(L - 1 - hi, L - 1)[...] += np.flip(right, axis)
    elif mode == "replicate":   # every pad copies the edge
        into(0, 1)[...] += left.sum(axis, keepdims=True)
        into(L - 1, L)[...] += right.sum(axis, keepdims=True)
    else:                       # circular: the left pad is the input's tail, the right its head
        into(L - lo, L)[...] += left
        into(0, hi)[...] += right
    return core


class ModePad(ArrayFunction):
    """reflect / replicate / circular padding with np.pad; the gradient (`ModePadAdjoint`)
    adds the padded copies back."""

    def forward(ctx, x, *, pads, mode):
        ctx.pads, ctx.mode, ctx.sizes = pads, mode, x.shape[x.ndim - len(pads):]
        lead = x.ndim - len(pads)
        return np.pad(x, ((0, 0),) * lead + tuple(pads), mode=_NP_MODE[mode])

    def backward(ctx, g):
        return ModePadAdjoint.apply(g, pads=ctx.pads, mode=ctx.mode, sizes=ctx.sizes,
                                    label=ctx.name())

    def name(self):
        return {"reflect": "ReflectionPad", "replicate": "ReplicationPad",
                "circular": "CircularPad"}[self.mode] + f"{max(len(self.pads), 1)}DBackward0"


class ModePadAdjoint(ArrayFunction):
    """The gradient of ModePad (linear in g); its own gradient is ModePad again."""

    def forward(ctx, g, *, pads, mode, sizes, label):
        ctx.pads, ctx.mode, ctx.label = pads, mode, label.replace("Backward0",
                                                                  "BackwardBackward0")
        lead = g.ndim - len(pads)
        for i, (L, (lo, hi)) in enumerate(zip(sizes, pads)):
            g = _fold_pad(g, lead + i, L, lo, hi, mode)
        return g

    def backward(ctx, gg):
        return ModePad.apply(gg, pads=ctx.pads, mode=ctx.mode)

    def name(self):
        return self.label


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims; `pad` lists (left, right) for the last dim first.
    constant mode takes negative pads (cropping) and any number of dims; reflect (pad < size),
    replicate and circular pad the last 1-3 dims of a batched or unbatched input."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    D = len(pad) // 2
    if D > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           "dimension but got padding length " + f"{len(pad)} and input of "
                           f"dimension {input.dim()}")
    pairs = tuple((pad[2 * i], pad[2 * i + 1]) for i in range(D))[::-1]   # first dim first
    if mode == "constant":
        if value is None:
            value = 0
        return ConstantPad.apply(input, pads=pairs, value=value)
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    if mode not in _NP_MODE:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if not (1 <= D <= 3) or input.dim() not in (D + 1, D + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.dim()}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    sizes = input.shape[input.dim() - D:]
    for i in range(D - 1, -1, -1):   # torch checks the last dim first
        (lo, hi), L = pairs[i], sizes[i]
        if mode == "reflect" and (lo >= L or hi >= L):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({lo}, {hi}) at dimension "
                               f"{input.dim() - D + i} of input {list(input.shape)}")
        if mode == "circular" and (lo > L or hi > L):
            raise RuntimeError("Padding value causes wrapping around more than once.")
    if mode != "circular" and input._data.dtype == np.bool_:
        kernel = "reflection" if mode == "reflect" else "replication"
        raise NotImplementedError(f'"{kernel}_pad{D}d" not implemented for \'Bool\'')
    if all(lo >= 0 and hi >= 0 for lo, hi in pairs):
        return ModePad.apply(input, pads=pairs, mode=mode)
    # negative pads crop: circular wraps what is left after cropping; reflect and replicate
    # pad the whole input, then crop
    grow = tuple((max(lo, 0), max(hi, 0)) for lo, hi in pairs)
    crop = tuple((min(lo, 0), min(hi, 0)) for lo, hi in pairs)
    if mode == "circular":
        left = [L + lo + hi for L, (lo, hi) in zip(sizes, crop)]
        if any(g > n for (lo, hi), n in zip(grow, left) for g in (lo, hi)):
            # torch reads past the cropped input here (garbage values); refuse instead
            raise RuntimeError("Padding value causes wrapping around more than once.")
        return ModePad.apply(ConstantPad.apply(input, pads=crop), pads=grow, mode=mode)
    return ConstantPad.apply(ModePad.apply(input, pads=grow, mode=mode), pads=crop)


# dtype names as torch spells them in its "not implemented for" errors
_TORCH_TYPE = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
               "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
               "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


# ---------------------------------------------------------------------------------------------
# interpolate: one matrix per spatial dim

def _source_scale(L, out, align_corners, scale):
    if align_corners:
        return (L - 1) / (out - 1) if out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else L / out


def _cubic_near(x, a):
    """Cubic-convolution kernel for |x| <= 1."""
    return ((a + 2) * x - (a + 3)) * x * x + 1


def _cubic_far(x, a):
    """Cubic-convolution kernel for 1 < |x| < 2."""
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def _cubic(t, a):
    """Cubic-convolution weights of the taps floor(x) - 1 .. floor(x) + 2 at t = x - floor(x)."""
    return _cubic_far(t + 1, a), _cubic_near(t, a), _cubic_near(1 - t, a), _cubic_far(2 - t, a)


def _cubic_grad(t, a):
    """d/dt of the four `_cubic` weights."""
    def dnear(x):
        return (3 * (a + 2) * x - 2 * (a + 3)) * x

    def dfar(x):
        return (3 * a * x - 10 * a) * x + 8 * a

    return dfar(t + 1), dnear(t), -dnear(1 - t), -dfar(2 - t)


def _interp_matrix(L, out, mode, align_corners, scale, coord=np.float64):
    """A (out, L) with the weights torch's upsample kernels give to each input position. The
    source coordinates are computed in `coord`: float32 for all but float64 inputs, as torch's
    kernels do (far from the origin, that rounding moves the weights by ~1e-4)."""
    dst = np.arange(out, dtype=np.float64)
    rows = np.arange(out)
    if mode in ("nearest", "nearest-exact"):
        # torch computes the nearest index in float32
        s = np.float32(1.0 / scale if scale is not None and scale > 0 else L / out)
        d32 = dst.astype(np.float32) + (np.float32(0.5) if mode == "nearest-exact" else 0)
        src = np.minimum(np.floor(d32 * s).astype(np.int64), L - 1)
        return _weights(out, L, rows, src, np.ones(out))
    s = np.float64(coord(_source_scale(L, out, align_corners, scale)))
    # scale * (dst + 0.5) - 0.5 rounded once to `coord`: torch's compiled kernels fuse it into
    # one multiply-add, rounded once (float64 holds the float32 product exactly)
    src = (dst * s if align_corners else (dst + 0.5) * s - 0.5).astype(coord)
    if mode == "linear":
        src = np.maximum(src, 0) if not align_corners else src
        i0 = np.minimum(np.floor(src).astype(np.int64), L - 1)
        lam = (src - i0).astype(np.float64)
        i1 = np.minimum(i0 + 1, L - 1)
        return _weights(out, L, np.concatenate([rows, rows]), np.concatenate([i0, i1]),
                        np.concatenate([1.0 - lam, lam]))
    # cubic convolution with A = -0.75; taps at floor(src) - 1 .. + 2, clamped to the edge
    i = np.floor(src).astype(np.int64)
    w = _cubic(src - i, coord(-0.75))
    return _weights(out, L, np.tile(rows, 4),
                    np.concatenate([np.clip(i - 1 + k, 0, L - 1) for k in range(4)]),
                    np.concatenate(w))


def _aa_filter(kind, x):
    x = np.abs(x)
    if kind == "linear":
        return np.maximum(1 - x, 0.0)
    if kind == "cubic":   # A = -0.5 here (PIL's), not the -0.75 of plain bicubic
        return np.where(x < 1, _cubic_near(x, -0.5), np.where(x < 2, _cubic_far(x, -0.5), 0.0))
    return np.where(x < 3, np.sinc(x) * np.sinc(x / 3), 0.0)   # Lanczos-3


def _aa_matrix(L, out, kind, align_corners, scale):
    """A (out, L) of antialiased resampling (PIL's): output i is centred at s * (i + 0.5) in
    input pixels; downsampling (s > 1) stretches the filter (and its support) by s; the taps
    that fall inside the input are normalised to sum 1, so edges need no clamping. Traps that
    torch has: the centre is s * (i + 0.5) even with align_corners=True (only s changes), and
    the first tap is trunc(centre - support + 0.5)."""
    s = _source_scale(L, out, align_corners, scale)
    half = {"linear": 1, "cubic": 2, "lanczos": 3}[kind]
    support, inv = (half * s, 1.0 / s) if s >= 1 else (half, 1.0)
    width = math.ceil(support) * 2 + 1
    centre = s * (np.arange(out) + 0.5)
    lo = np.maximum(np.trunc(centre - support + 0.5), 0).astype(np.int64)
    hi = np.minimum(np.trunc(centre + support + 0.5).astype(np.int64), L)
    k = np.arange(width)
    j = lo[:, None] + k                                       # (out, width) tap positions
    w = _aa_filter(kind, (j - centre[:, None] + 0.5) * inv) * (k < (hi - lo)[:, None])
    total = w.sum(1, keepdims=True)
    w = w / np.where(total != 0, total, 1.0)
    inside = j < L                                            # (taps past the end weigh 0)
    return _weights(out, L, np.nonzero(inside)[0], j[inside], w[inside])


class ResampleUint8(ArrayFunction):
    """uint8 bilinear / bicubic resampling, antialiased or not, as torch computes it: Pillow's
    fixed point (float-then-round is often 1 off, and wraps negatives). Per dim, the weights
    scaled to int16 at the largest precision p that keeps the biggest below 2^15 (ties away
    from zero), sums rounded by adding 2^(p-1), shifted back and clamped to [0, 255]; the width
    pass runs first and is stored as uint8 before the height pass. Not differentiable."""

    def forward(ctx, x, *, mats):
        for axis, A in ((3, _dense(mats[1])), (2, _dense(mats[0]))):
            if A.shape[0] == A.shape[1]:
                continue   # same size: torch skips the pass (the weights are the identity)
            top = A.max()
            p = 0
            while p < 22 and int(0.5 + top * (1 << (p + 1))) < (1 << 15):
                p += 1
            v = A * (1 << p)
            W = np.where(v < 0, np.trunc(v - 0.5), np.trunc(v + 0.5))
            # exact in float64: |sum| < 255 * 2^15 * taps
            y = np.moveaxis(x, axis, -1).astype(np.float64) @ W.T
            y = (y.astype(np.int64) + (1 << (p - 1))) >> p
            x = np.moveaxis(np.clip(y, 0, 255).astype(np.uint8), -1, axis)
        return np.ascontiguousarray(x)


_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area",
          "lanczos")
_NEED = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3, "lanczos": 2}


def _is_integer(v):
    return isinstance(v, (int, np.integer)) or (isinstance(v, Tensor) and
                                                not v.dtype.is_floating_point)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, *S). Give `size` or `scale_factor` (output size
    floor(S * scale)). Unless recompute_scale_factor=True, the coordinate map uses 1/scale_factor
    (not S/out). align_corners only for linear modes (default False); 'nearest' picks
    floor(dst * scale) (torch's historical choice), 'nearest-exact' rounds.
    antialias=True (bilinear, bicubic, lanczos; 4-D): PIL's resampling, whose filter widens by
    the scale when downsampling; bicubic then uses A = -0.5; upsampling with bilinear and
    align_corners=False equals the plain result. 'lanczos' (Lanczos-3) requires antialias.
    Errors in torch's order: ValueErrors of the arguments first, then mode/dims mismatches."""
    D = input.dim() - 2
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined" if size is not None
                         else "either size or scale_factor should be defined")
    S = input.shape[2:]
    scales = [None] * max(D, 0)
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != D:
                raise ValueError(f"Input and output must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(S)} and output size of {size}. Please provide "
                                 f"input tensor in (N, C, d1, d2, ...,dK) format and output "
                                 f"size in (o1, o2, ...,oK) format.")
            if not all(_is_integer(s) for s in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, "
                                f"int] or Tuple[int, int, int], but got size with types "
                                f"{[type(s) for s in size]}")
            out = tuple(int(s) for s in size)
        else:
            out = (int(size),) * max(D, 0)
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    else:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != D:
                raise ValueError(f"Input and scale_factor must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(S)} and scale_factor of shape {scale_factor}. "
                                 f"Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                                 f"and scale_factor in (s1, s2, ...,sK) format.")
            sf = tuple(float(s) for s in scale_factor)
        else:
            sf = (float(scale_factor),) * max(D, 0)
        out = tuple(int(math.floor(S[i] * sf[i])) for i in range(D))
        if not recompute_scale_factor:
            scales = list(sf)
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if mode not in _MODES or not 1 <= D <= 3 or (mode == "lanczos" and D != 2):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.dim()}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | lanczos | area | nearest-exact (got "
                                  f"{mode})")
    if mode == "lanczos":
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    need = _NEED.get(mode)
    if need is not None and need != D:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                  f"{need + 2}D input")
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({', '.join(map(str, S))}) and output "
                           f"({', '.join(map(str, out))})")
    if is_half(input._data.dtype) and not antialias:
        return _interpolate_half(input, out, mode, align_corners, scales)
    if mode == "area":
        mats = [_adaptive_matrix(S[i], out[i]) for i in range(D)]
        name = f"AdaptiveAvgPool{max(D, 2)}D"
    elif antialias:
        dt = str(input.dtype).split(".")[-1]
        if dt not in ("float32", "float64", "uint8"):
            raise NotImplementedError(f'"compute_index_ranges_weights" not implemented for '
                                      f"'{_TORCH_TYPE.get(dt, dt)}'")
        kind = {"bilinear": "linear", "bicubic": "cubic", "lanczos": "lanczos"}[mode]
        mats = [_aa_matrix(S[i], out[i], kind, align_corners, scales[i]) for i in range(D)]
        if dt == "uint8":
            return ResampleUint8.apply(input, mats=mats)
        name = f"Upsample{mode.capitalize()}2DAa"
    else:
        kind = "linear" if mode in ("linear", "bilinear", "trilinear") else \
            "cubic" if mode == "bicubic" else mode
        coord = np.float64 if input._data.dtype == np.float64 else np.float32
        mats = [_interp_matrix(S[i], out[i], kind, align_corners, scales[i], coord)
                for i in range(D)]
        name = {"nearest": f"UpsampleNearest{D}D", "nearest-exact": f"UpsampleNearestExact{D}D",
                "linear": "UpsampleLinear1D", "bilinear": "UpsampleBilinear2D",
                "bicubic": "UpsampleBicubic2D", "trilinear": "UpsampleTrilinear3D"}[mode]
    uint8 = str(input.dtype) == "ember.uint8"
    if not input.dtype.is_floating_point and not (uint8 and mode in ("nearest",
                                                                     "nearest-exact")):
        if uint8 and mode in ("bilinear", "bicubic"):
            return ResampleUint8.apply(input, mats=mats)
        nearest = "upsample_nearest2d_channels_last" if D == 2 else \
            "compute_indices_weights_nearest"
        kernel = {"area": "adaptive_avg_pool3d_cpu" if D == 3 else "adaptive_avg_pool2d",
                  "bicubic": "compute_indices_weights_cubic", "nearest": nearest,
                  "nearest-exact": nearest,
                  "bilinear": "upsample_bilinear2d_channels_last"}.get(
            mode, "compute_indices_weights_linear")
        dt = str(input.dtype).split(".")[-1]
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_TORCH_TYPE.get(dt, dt)}\'')
    return Separable.apply(input, mats=mats, name=name)


# Half types (float16, bfloat16), as torch's upsample kernels compute them: each output sums
# its taps in float32, nested with the last dim innermost (t0 w0 + t1 w1 + ... per dim; two taps
# as one multiply and one fused multiply-add), with weights rounded to the half type (linear,
# trilinear and bicubic store them so; bilinear keeps float32 weights and sums x times the
# products of its two dims' weights, fused), rounded once. Their backward kernels accumulate
# in float32, in output order, with float32 weights.

_F32 = np.float32


def _half_taps(L, out, kind, align_corners, scale):
    """(index (out, T), weight (out, T) float32) of one dim's taps: T = 1 (nearest), 2
    (linear), 4 (cubic, indices clamped to the edge), computed in float32 as torch does."""
    if kind in ("nearest", "nearest-exact"):
        return (np.nonzero(_dense(_interp_matrix(L, out, kind, False, scale)))[1][:, None],
                np.ones((out, 1), _F32))
    s = np.float64(_F32(_source_scale(L, out, align_corners, scale)))
    dst = np.arange(out, dtype=np.float64)
    src = (dst * s if align_corners else (dst + 0.5) * s - 0.5).astype(_F32)   # (one fma)
    if kind == "linear":
        if not align_corners:
            src = np.maximum(src, _F32(0))
        i0 = np.minimum(np.floor(src).astype(np.int64), L - 1)
        lam = np.clip(src - i0, 0, 1).astype(_F32)
        return (np.stack([i0, np.minimum(i0 + 1, L - 1)], 1),
                np.stack([_F32(1) - lam, lam], 1))
    i = np.floor(src).astype(np.int64)
    w = _cubic((src - i).astype(_F32), _F32(-0.75))
    return np.clip(i[:, None] - 1 + np.arange(4), 0, L - 1), np.stack(w, 1).astype(_F32)


def _rounded_weights(w, dt):
    """Weights as torch's linear and cubic kernels store them for a half type: linear rounds
    lambda and takes 1 - lambda from the rounded value."""
    r = lambda v: round_through(v, dt)   # noqa: E731
    if w.shape[1] == 2:
        lam = r(w[:, 1])
        return np.stack([r(_F32(1) - lam), lam], 1)
    return r(w)


class HalfUpsample(ArrayFunction):
    """interpolate (nearest, linear, bilinear, bicubic, trilinear) of a half-type x, over
    `taps` [(index (O, T), forward weight, backward weight)] per spatial dim; `product`
    (bilinear): the output sums x times the product of the dims' weights. The gradient is
    `HalfUpsampleGrad`."""

    def forward(ctx, x, *, taps, product, name):
        ctx.taps, ctx.product, ctx.op_name = taps, product, name
        ctx.in_shape = x.shape[2:]
        return _upsample_half(x, [(i, w) for i, w, _ in taps], product).astype(x.dtype)

    def backward(ctx, g):
        return HalfUpsampleGrad.apply(g, taps=ctx.taps, product=ctx.product,
                                      in_shape=ctx.in_shape, name=ctx.op_name)

    def name(self):
        return self.op_name + "Backward0"


class HalfUpsampleGrad(ArrayFunction):
    """HalfUpsample's gradient, as torch's backward kernels: in output order, each output's
    taps (the outer dim's first; bicubic: the width's first) add weight * g into a float32
    buffer, fused, rounded to the half type at the end. Its gradient upsamples with the
    backward weights."""

    def forward(ctx, g, *, taps, product, in_shape, name):
        ctx.taps, ctx.product, ctx.op_name = taps, product, name
        D, out = len(taps), g.shape[2:]
        NC = g.shape[0] * g.shape[1]
        bicubic = taps[0][0].shape[1] == 4
        order = list(range(D))[::-1] if bicubic else list(range(D))   # outermost tap loop 1st
        targets, first, second = [], [], []
        for combo in itertools.product(*(range(taps[a][0].shape[1]) for a in order)):
            t = dict(zip(order, combo))
            flat, ws = 0, []
            for a in range(D):
                idx, _, wb = taps[a]
                shape = (-1,) + (1,) * (D - 1 - a)
                flat = flat * in_shape[a] + idx[:, t[a]].reshape(shape)
                ws.append(wb[:, t[a]].reshape(shape))
            targets.append(np.broadcast_to(flat, out))
            if bicubic:   # (torch: g * wy * wx, the last factor fused into the addition)
                first.append(np.broadcast_to(ws[0], out))
                second.append(np.broadcast_to(ws[1], out))
            else:         # (w_1 w_2 ... * g, fused)
                first.append(np.broadcast_to(math.prod(ws[1:], start=ws[0]), out))
        P = math.prod(in_shape)
        tgt = (np.arange(NC, dtype=np.int64) * P).reshape((NC,) + (1,) * (D + 1)) + \
            np.stack(targets, -1)
        gf = g.astype(_F32).reshape((NC,) + out + (1,))
        if bicubic:
            a = gf * np.stack(first, -1)
            b = np.broadcast_to(np.stack(second, -1), a.shape)
        else:
            a = np.broadcast_to(np.stack(first, -1), tgt.shape)
            b = np.broadcast_to(gf, tgt.shape)
        acc = _ordered_fma(tgt.ravel(), a.ravel(), b.ravel(), NC * P)
        return acc.astype(g.dtype).reshape(g.shape[:2] + tuple(in_shape))

    def backward(ctx, gg):
        return HalfUpsample.apply(gg, taps=[(i, wb, wb) for i, _, wb in ctx.taps],
                                  product=ctx.product, name=ctx.op_name)

    def name(self):
        return self.op_name + "BackwardBackward0"


def _ordered_fma(targets, a, b, size):
    """(size,) float32: acc[targets[k]] = a[k] * b[k] + acc[targets[k]] (fused) for k in
    order (see pooling.ordered_steps)."""
    acc = np.zeros(size, _F32)
    for k, t in ordered_steps(targets):
        acc[t] = _fma(a[k], b[k], acc[t])
    return acc


def _upsample_half(x, taps, product):
    """The float32 sums of HalfUpsample's forward (see there)."""
    D = len(taps)
    xf = x.astype(_F32)
    if product:   # out = sum over tap pairs of x * (w_h w_w), fused
        (ih, wh), (iw, ww) = taps
        acc = None
        for a in range(ih.shape[1]):
            rows = xf[:, :, ih[:, a]]
            for b in range(iw.shape[1]):
                w = wh[:, a][:, None] * ww[:, b][None, :]
                term = rows[..., iw[:, b]]
                acc = term * w if acc is None else _fma(term, w, acc)
        return acc
    for a in reversed(range(D)):   # the last dim innermost
        idx, w = taps[a]
        ax = 2 + a
        v = np.moveaxis(xf, ax, -1)
        if idx.shape[1] == 2:   # t0 w0 + t1 w1, the first product fused
            out = _fma(v[..., idx[:, 0]], w[:, 0], v[..., idx[:, 1]] * w[:, 1])
        else:
            out = v[..., idx[:, 0]] * w[:, 0]
            for t in range(1, idx.shape[1]):
                out = out + v[..., idx[:, t]] * w[:, t]
        xf = np.moveaxis(out, -1, ax)
    return xf


def _interpolate_half(input, out, mode, align_corners, scales):
    """interpolate for a half-type input (see HalfUpsample); area is adaptive average
    pooling's half path."""
    D = len(out)
    if mode == "area":
        return _adaptive_avg_half(input, D, out)
    S = input.shape[2:]
    kind = "linear" if mode in ("linear", "bilinear", "trilinear") else \
        "cubic" if mode == "bicubic" else mode
    dt = input._data.dtype
    taps = []
    for i in range(D):
        idx, w = _half_taps(S[i], out[i], kind, align_corners, scales[i])
        wf = w if mode in ("bilinear", "nearest", "nearest-exact") else _rounded_weights(w, dt)
        taps.append((idx, wf, w))
    name = {"nearest": f"UpsampleNearest{D}D", "nearest-exact": f"UpsampleNearestExact{D}D",
            "linear": "UpsampleLinear1D", "bilinear": "UpsampleBilinear2D",
            "bicubic": "UpsampleBicubic2D", "trilinear": "UpsampleTrilinear3D"}[mode]
    return HalfUpsample.apply(input, taps=taps, product=mode == "bilinear", name=name)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------------------------------
# grid_sample and affine_grid

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False "
                  "since 1.3.0. Please specify align_corners=True if the old behavior is desired. "
                  "See the documentation of grid_sample for details.")


def _unnormalize(g, size, align_corners):
    if align_corners:
        return (g + 1) / 2 * (size - 1), (size - 1) / 2
    return ((g + 1) * size - 1) / 2, size / 2


def _reflect(x, lo, hi):
    """Reflect coordinates into [lo, hi] (twice the span is the period); d/dx is +-1."""
    span = hi - lo
    if span <= 0:
        return np.zeros_like(x), np.zeros_like(x)
    xo = np.abs(x - lo)
    extra = np.fmod(xo, span)
    flips = np.floor(xo / span)
    sign_in = np.where(x - lo < 0, -1.0, 1.0)
    even = (flips % 2) == 0
    y = np.where(even, extra + lo, span - extra + lo)
    d = np.where(even, 1.0, -1.0) * sign_in
    return y, d


def _pad_coords(x, size, padding_mode, align_corners):
    """Coordinates moved inside [0, size - 1] by border / reflection padding, and d new / d x
    (0 where clipped); zeros padding leaves them as they are."""
    d = 1.0
    if padding_mode == "reflection":
        x, d = _reflect(x, *((0, size - 1) if align_corners else (-0.5, size - 0.5)))
    if padding_mode != "zeros":
        d = d * ((x > 0) & (x < size - 1))
        x = np.clip(x, 0, size - 1)
    return x, d


def _tap_index(i, size):
    """Integer tap positions from whole-valued floats; -1 marks a tap outside [0, size) (it
    reads zero), NaN included."""
    return np.where((i >= 0) & (i < size), i, -1).astype(np.int64)


def _axis_taps(g, size, mode, padding_mode, align_corners):
    """One spatial axis of grid_sample: [(index, weight, d weight / d grid)] per tap, the
    derivative None for nearest. bilinear and nearest pad the sample point; bicubic pads each
    tap's index instead, so its grid gradient only carries the unnormalising scale (torch)."""
    x, scale = _unnormalize(g, size, align_corners)
    if mode == "bicubic":
        i = np.floor(x)
        t = x - i
        w, dw = _cubic(t, -0.75), _cubic_grad(t, -0.75)
        taps = []
        for k in range(4):
            j, _ = _pad_coords(i + (k - 1), size, padding_mode, align_corners)
            taps.append((_tap_index(j, size), w[k], dw[k] * scale))
        return taps
    x, d = _pad_coords(x, size, padding_mode, align_corners)
    if mode == "nearest":
        return [(_tap_index(np.round(x), size), 1.0, None)]   # round half to even, as nearbyint
    i = np.floor(x)
    t = x - i
    d = d * scale
    return [(_tap_index(i, size), 1 - t, -d), (_tap_index(i + 1, size), t, d)]


class GridSample(ArrayFunction):
    """out[n, c, *p] = input (N, C, *S) sampled at grid[n, *p] = (x, y[, z]) in [-1, 1] (x
    indexes the last dim): a weighted sum over taps (2^D for bilinear/trilinear, 16 for
    bicubic, 1 for nearest), each tap one row gather from input as (N * prod(S), C). Backward
    (input and grid gradients) runs on arrays, or in Tensor ops when it builds a graph
    (create_graph), so that every higher derivative exists as in torch."""

    def forward(ctx, x, grid, *, mode, padding_mode, align_corners):
        N, C, *S = x.shape
        D = len(S)
        cdt = np.float64 if x.dtype == np.float64 else np.float32   # torch's accumulation type
        g = grid.astype(np.float64)
        axes = [_axis_taps(g[..., D - 1 - a], S[a], mode, padding_mode, align_corners)
                for a in range(D)]
        strides = [math.prod(S[a + 1:]) for a in range(D)]
        base = (np.arange(N) * math.prod(S)).reshape((N,) + (1,) * D)
        rows, ws, dws = [], [], []
        for combo in itertools.product(*axes):
            valid = np.logical_and.reduce([i >= 0 for i, _, _ in combo])
            flat = sum(np.where(valid, i, 0) * st for (i, _, _), st in zip(combo, strides))
            rows.append((base + flat).ravel())
            ws.append((math.prod(wt for _, wt, _ in combo) * valid).ravel())
            if mode != "nearest":
                # d weight / d grid along axis a: that axis's derivative times the others' weights
                dws.append([(math.prod(dw if b == a else wt for b, (_, wt, dw) in
                                       enumerate(combo)) * valid).ravel() for a in range(D)])
        xt = np.moveaxis(x, 1, -1).reshape(N * math.prod(S), C).astype(cdt)
        ws = np.array(ws, dtype=cdt)                     # (taps, N * prod(P)), like rows
        out = np.zeros((ws.shape[1], C), dtype=cdt)
        for r, w in zip(rows, ws):
            out += np.take(xt, r, axis=0) * w[:, None]
        ctx.saved = (xt, np.array(rows), ws, np.array(dws, dtype=cdt) if dws else None)
        ctx.shape = x.shape
        ctx.options = (mode, padding_mode, align_corners)
        ctx.save_for_backward(x, grid)
        out = out.reshape(grid.shape[:-1] + (C,))
        return np.ascontiguousarray(np.moveaxis(out, -1, 1)).astype(x.dtype, copy=False)

    def backward(ctx, g):
        if _grad_state.enabled:
            x, grid = ctx.saved_tensors
            return _grid_sample_grads(x, grid, g, *ctx.options, ctx.needs_input_grad[:2])
        return GridSampleBackward.apply(g, fwd=ctx)

    def name(self):
        return f"GridSampler{len(self.shape) - 2}DBackward0"


class GridSampleBackward(ArrayFunction):
    """GridSample's gradients on arrays, when backward builds no graph (with a graph,
    `_grid_sample_grads` computes them in Tensor ops). Input gradient: per channel, one
    bincount of upstream times each tap's weight at the tap's row; grid gradient: per tap,
    upstream . gathered values times the weight's derivatives (zero for nearest)."""

    def forward(ctx, g, *, fwd):
        xt, rows, ws, dws = fwd.saved
        N, C, *S = fwd.shape
        D = len(S)
        P = g.shape[2:]
        gc = g.reshape(N, C, math.prod(P)).astype(xt.dtype, copy=False)
        need_in, need_grid = fwd.needs_input_grad[:2]
        gin = ggrid = None
        if need_in:
            r = rows.ravel()
            gin = np.empty((C, xt.shape[0]), dtype=xt.dtype)
            for c in range(C):
                gin[c] = np.bincount(r, (ws * gc[:, c].ravel()).ravel(), minlength=xt.shape[0])
            gin = np.ascontiguousarray(gin.reshape(C, N, *S).swapaxes(0, 1)).astype(g.dtype)
        if need_grid:
            ggrid = np.zeros((D,) + gc.shape[:1] + gc.shape[2:], dtype=xt.dtype)
            if dws is not None:
                gt = np.ascontiguousarray(gc.swapaxes(1, 2)).reshape(N * math.prod(P), C)
                for k, r in enumerate(rows):
                    gv = np.einsum("mc,mc->m", gt, np.take(xt, r, axis=0))
                    ggrid += (gv * dws[k]).reshape(D, *ggrid.shape[1:])
            ggrid = np.ascontiguousarray(np.moveaxis(ggrid[::-1], 0, -1).reshape(
                (N,) + P + (D,))).astype(g.dtype)
        return gin, ggrid



def _axis_taps_graph(g, size, mode, padding_mode, align_corners):
    """`_axis_taps` with each weight and its derivative as Tensor functions of the grid
    coordinate `g` (a Tensor), differentiable again; the tap indices, and the piecewise
    constant slope of the padding, come from the arrays."""
    taps = _axis_taps(g._data.astype(np.float64), size, mode, padding_mode, align_corners)
    if mode == "nearest":
        return taps
    u, scale = _unnormalize(g, size, align_corners)
    un = u._data.astype(np.float64)
    if mode == "bicubic":
        t = u - _const(np.floor(un), u)
        w, dw = _cubic(t, -0.75), _cubic_grad(t, -0.75)
        return [(i, w[k], dw[k] * scale) for k, (i, _, _) in enumerate(taps)]
    p, d = _pad_coords(un, size, padding_mode, align_corners)
    t = u * _const(d, u) + _const(p - un * d - np.floor(p), u)   # p - floor(p), slope d
    return [(taps[0][0], 1 - t, _const(taps[0][2], u)), (taps[1][0], t, _const(taps[1][2], u))]


def _const(a, like):
    return Tensor._make(np.asarray(a, like._data.dtype))


def _grid_sample_grads(x, grid, g, mode, padding_mode, align_corners, needs):
    """GridSample's input and grid gradients in Tensor ops (the path under create_graph): the
    upstream times each tap's weight, added at the tap's rows (index_add), and upstream .
    gathered values times the weights' derivatives."""
    N, C, *S = x.shape
    D = len(S)
    P = tuple(grid.shape[1:-1])
    axes = [_axis_taps_graph(grid[..., D - 1 - a], S[a], mode, padding_mode, align_corners)
            for a in range(D)]
    strides = [math.prod(S[a + 1:]) for a in range(D)]
    base = (np.arange(N) * math.prod(S)).reshape((N,) + (1,) * D)
    xt = x.movedim(1, -1).reshape(N * math.prod(S), C)
    gt = g.movedim(1, -1).reshape(N * math.prod(P), C)
    gin = x.new_zeros(xt.shape) if needs[0] else None
    ggrid = [0] * D

    def flat(w):
        return w.reshape(-1) if isinstance(w, Tensor) else w

    for combo in itertools.product(*axes):
        valid = np.logical_and.reduce([i >= 0 for i, _, _ in combo])
        rows = Tensor._make((base + sum(np.where(valid, i, 0) * st for (i, _, _), st
                                        in zip(combo, strides))).reshape(-1))
        keep = _const(valid.reshape(-1), xt)
        if needs[0]:
            w = flat(math.prod(wt for _, wt, _ in combo)) * keep
            gin = gin.index_add(0, rows, gt * (w.reshape(-1, 1) if isinstance(w, Tensor) else w))
        if needs[1] and mode != "nearest":
            dot = (gt * xt.index_select(0, rows)).sum(1) * keep
            for a in range(D):
                ggrid[a] = ggrid[a] + dot * flat(math.prod(
                    dw if b == a else wt for b, (_, wt, dw) in enumerate(combo)))
    if gin is not None:
        gin = gin.reshape((N,) + tuple(S) + (C,)).movedim(-1, 1)
    if not needs[1]:
        return gin, None
    if mode == "nearest":
        return gin, grid.new_zeros(grid.shape).to(g.dtype)   # piecewise constant in the grid
    from ember._ops.manipulation import stack
    return gin, stack(ggrid[::-1], -1).reshape(grid.shape)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample input (N, C, H, W) at grid (N, Ho, Wo, 2) of normalised (x, y) in [-1, 1], or
    input (N, C, D, H, W) at grid (N, Do, Ho, Wo, 3) of (x, y, z): (-1, -1) is the centre of
    the top-left pixel with align_corners=True, its outer corner with False (the default).
    mode: bilinear (trilinear on 5-D), nearest, bicubic (4-D only; cubic convolution with
    A = -0.75 over 4x4 taps). padding_mode: zeros, border, reflection; bicubic applies the
    padding to each tap, not to the sample point."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    nd, shapes = input.dim(), (f"input with sizes {list(input.shape)} and grid with sizes "
                               f"{list(grid.shape)}")
    if grid.shape[-1] != nd - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd - 2} in last "
                           f"dimension, but got grid with sizes {list(grid.shape)}")
    if nd not in (4, 5) or grid.dim() != nd:
        raise RuntimeError(f"grid_sampler(): expected {4 if nd == 4 else 5}D input and grid with "
                           f"same number of dimensions, but got {shapes}")
    if grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got {shapes}")
    for i in range(2, nd):
        if input.shape[i] == 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {i} being empty")
    if mode == "bicubic" and nd == 5:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    tin, tgrid = (_TORCH_TYPE.get(str(t.dtype).split(".")[-1], "") for t in (input, grid))
    if input.dtype != grid.dtype:
        raise RuntimeError(f"expected scalar type {tin} but found {tgrid}")
    if not input.dtype.is_floating_point:
        kernel = "grid_sampler_2d_cpu_kernel_impl" if nd == 4 else "grid_sampler3d_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{tin}\'')
    return GridSample.apply(input, grid, mode=mode, padding_mode=padding_mode,
                            align_corners=align_corners)


def affine_grid(theta, size, align_corners=None):
    """Sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) = base coordinates @ theta^T, for
    theta (N, 2, 3) (or (N, 3, 4)). Base coordinates span [-1, 1] (pixel centres when
    align_corners=False, the default)."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {list(theta.shape)}.")
        spatial = size[2:]
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {list(theta.shape)}.")
        spatial = size[2:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")

    if theta.shape[0] != size[0]:   # (torch's bmm of base grids (N, P, k+1) and theta^T)
        k = len(spatial) + 1
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{size[0]}, {k}] but got: [{theta.shape[0]}, {k}].")
    half = theta.dtype if is_half(theta._data.dtype) else None
    return AffineGridGenerator.apply(theta, base=_affine_base(spatial, align_corners, half),
                                     size=(size[0],) + tuple(spatial))


class AffineGridGenerator(ArrayFunction):
    """The grid (N, *spatial, k) = base (P, k + 1) @ theta^T for theta (N, k, k + 1): one node
    (AffineGridGeneratorBackward0) as torch; the gradient for theta is grad^T @ base."""

    def forward(ctx, theta, *, base, size):
        from ember._ops.linalg import _matmul
        ctx.base = base = base.astype(theta.dtype)
        return np.asarray(_matmul(base, np.swapaxes(theta, 1, 2))).reshape(
            size + (theta.shape[1],))

    def backward(ctx, grad):
        N, k = grad.shape[0], grad.shape[-1]
        return grad.reshape(N, -1, k).mT @ Tensor._make(ctx.base)


def _affine_base(spatial, align_corners, dtype=None):
    """The base coordinates (x, y[, z], 1) of every output point, (prod(spatial), k + 1),
    spanning [-1, 1] (pixel centres when align_corners=False). For a half `dtype` (an ember
    dtype) as torch builds them in it: linspace, then * (n - 1) and / n, each rounded."""
    def lin(n):
        if n <= 1:
            return np.zeros(max(n, 1))
        if dtype is not None:
            from ember._ops.creation import linspace
            v = linspace(-1, 1, n, dtype=dtype)
            return (v if align_corners else v * (n - 1) / n)._data
        v = np.linspace(-1.0, 1.0, n)
        return v if align_corners else v * (n - 1) / n

    axes = [lin(n) for n in spatial]          # (D), H, W
    mesh = np.meshgrid(*axes, indexing="ij")
    coords = [m for m in mesh[::-1]]          # x (W), y (H), z (D)
    return np.stack(coords + [np.ones_like(mesh[0])], axis=-1).reshape(-1, len(spatial) + 1)


# ---------------------------------------------------------------------------------------------
# unfold / fold (im2col / col2im)

class Im2Col(ArrayFunction):
    def forward(ctx, x, *, k, d, p, s):
        ctx.args = (x.shape[2:], k, d, p, s)
        cols, out = _cols(x, k, s, tuple((i, i) for i in p), d)
        N, C = x.shape[:2]
        return cols.reshape(N, C * math.prod(k), math.prod(out))

    def backward(ctx, g):
        size, k, d, p, s = ctx.args
        return Col2Im.apply(g, size=size, k=k, d=d, p=p, s=s)


class Col2Im(ArrayFunction):
    def forward(ctx, cols, *, size, k, d, p, s):
        ctx.args = (k, d, p, s)
        D = len(k)
        out = tuple((size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(D))
        N = cols.shape[0]
        C = cols.shape[1] // math.prod(k)
        return _col2im(cols.reshape((N, C) + tuple(k) + out), tuple(size), s,
                       tuple((i, i) for i in p), d)

    def backward(ctx, g):
        k, d, p, s = ctx.args
        return Im2Col.apply(g, k=k, d=d, p=p, s=s)


def _pair(v, name):
    if isinstance(v, (list, tuple)):
        if len(v) != 2:
            raise RuntimeError(f"{name} must be an int or a tuple of two ints")
        return tuple(int(i) for i in v)
    return (int(v), int(v))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) -> (N, C*kh*kw, L) with L the number of windows (4-D input only,
    or 3-D unbatched)."""
    if input.dim() not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                                  f"{input.dim()}D)")
    k, d, p, s = (_pair(kernel_size, "kernel_size"), _pair(dilation, "dilation"),
                  _pair(padding, "padding"), _pair(stride, "stride"))
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    for i in range(2):
        if k[i] <= 0 or s[i] <= 0 or d[i] <= 0 or p[i] < 0:
            raise RuntimeError(f"kernel size, stride and dilation should be greater than zero, "
                               f"padding non-negative, but got kernel_size={list(k)}, "
                               f"stride={list(s)}, dilation={list(d)}, padding={list(p)}")
        if (x.shape[2 + i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 <= 0:
            raise RuntimeError(f"Given input with spatial size ({x.shape[2]}, {x.shape[3]}), "
                               f"kernel_size=({k[0]}, {k[1]}), dilation=({d[0]}, {d[1]}), "
                               f"padding=({p[0]}, {p[1]}), calculated shape of the array of "
                               f"sliding blocks is non-positive.")
    _check_floating(x, "im2col_out_cpu")
    y = Im2Col.apply(x, k=k, d=d, p=p, s=s)
    return y.squeeze(0) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im: (N, C*kh*kw, L) -> (N, C, *output_size), summing overlapping values."""
    if input.dim() not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {input.dim()}D)")
    size = _pair(output_size, "output_size")
    k, d, p, s = (_pair(kernel_size, "kernel_size"), _pair(dilation, "dilation"),
                  _pair(padding, "padding"), _pair(stride, "stride"))
    unbatched = input.dim() == 2
    x = input.unsqueeze(0) if unbatched else input
    K = k[0] * k[1]
    if x.shape[1] % K:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size=({k[0]}, {k[1]})")
    blocks = [(size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2)]
    if blocks[0] * blocks[1] != x.shape[2]:
        raise RuntimeError(f"Given output_size=({size[0]}, {size[1]}), kernel_size=({k[0]}, "
                           f"{k[1]}), dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), "
                           f"stride=({s[0]}, {s[1]}), expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {blocks[0]} * "
                           f"{blocks[1]} = {blocks[0] * blocks[1]}, but got "
                           f"input.size(2)={x.shape[2]}.")
    _check_floating(x, "col2im_out_cpu")
    y = Col2Im.apply(x, size=size, k=k, d=d, p=p, s=s)
    return y.squeeze(0) if unbatched else y


def _check_floating(x, kernel):
    """im2col/col2im take floating types (and bool), no integers."""
    if not x.dtype.is_floating_point and x._data.dtype != np.bool_:
        dt = str(x.dtype).split(".")[-1]
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_TORCH_TYPE.get(dt, dt)}\'')


# ---------------------------------------------------------------------------------------------
# Pixel and channel shuffles (reshape + permute, one copy: a fresh contiguous result as torch's)

class PixelShuffle(ArrayFunction):
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r): out[c, h*r + i, w*r + j] = x[c*r^2 + i*r + j, h, w].
    The gradient is pixel_unshuffle of the grad."""

    def forward(ctx, x, *, r):
        ctx.r = r
        *lead, C, H, W = x.shape
        n = len(lead)
        y = x.reshape(*lead, C // (r * r), r, r, H, W)
        y = y.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2).copy()
        return y.reshape(*lead, C // (r * r), H * r, W * r)

    def backward(ctx, g):
        return PixelUnshuffle.apply(g, r=ctx.r)


class PixelUnshuffle(ArrayFunction):
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W), the inverse of PixelShuffle (and its gradient)."""

    def forward(ctx, x, *, r):
        ctx.r = r
        *lead, C, H, W = x.shape
        n = len(lead)
        y = x.reshape(*lead, C, H // r, r, W // r, r)
        y = y.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3).copy()
        return y.reshape(*lead, C * r * r, H // r, W // r)

    def backward(ctx, g):
        return PixelShuffle.apply(g, r=ctx.r)


class ChannelShuffle(ArrayFunction):
    """(N, C, *) with C = g * k: channels read as a (g, k) grid are written out as (k, g).
    The gradient is the shuffle with k groups (its inverse)."""

    def forward(ctx, x, *, g):
        N, C, *rest = x.shape
        ctx.k = max(C // g, 1)   # (no channels: any grouping; torch's backward raises there)
        return x.reshape(N, g, C // g, *rest).swapaxes(1, 2).copy().reshape(x.shape)

    def backward(ctx, grad):
        return ChannelShuffle.apply(grad, g=ctx.k)


def pixel_shuffle(input, upscale_factor):
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    C = input.shape[-3]
    if C % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={C} "
                           f"is not divisible by {r * r}")
    return PixelShuffle.apply(input, r=r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W)."""
    r = int(downscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    H, W = input.shape[-2:]
    if H % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by "
                           f"downscale_factor, but input.size(-2)={H} is not divisible by {r}")
    if W % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, "
                           f"but input.size(-1)={W} is not divisible by {r}")
    if input.numel() == 0:   # torch gives an empty input back in its own shape (as factor 1)
        r = 1
    return PixelUnshuffle.apply(input, r=r)


def channel_shuffle(input, groups):
    """(N, C, *) with C = g * k: channels reordered as (k, g) instead of (g, k)."""
    g = int(groups)
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{g}")
    if input.dim() < 3:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    C = input.shape[1]
    if C % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {C} channels "
                           f"and {g} groups.")
    return ChannelShuffle.apply(input, g=g)


def native_channel_shuffle(input, groups):
    """channel_shuffle without a derivative: torch records a NotImplemented node whose backward
    raises 'derivative for aten::native_channel_shuffle is not implemented'."""
    from ember._ops.sorting import _wrap_no_grad
    r = channel_shuffle(input.detach(), groups)
    return _wrap_no_grad((input,), (r._data,), "torch::autograd::NotImplemented",
                         "aten::native_channel_shuffle")[0]
