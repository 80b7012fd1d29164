"""Convolutions: conv1d/2d/3d and conv_transpose1d/2d/3d.

Three array kernels do all the work, for any number of spatial dims:

- `_conv_fwd(x, w)`: im2col through one strided view (`as_strided`, no copy) laid out as
  (N, C, *kernel, *out), one copy into a contiguous `cols` (N, g, C/g*K, P), then one batched
  GEMM `w (g, O/g, C/g*K) @ cols` that lands directly in torch's (N, O, *out) layout. With
  many input channels the windows are laid out channels-last instead ((N*P, K*C), one tall
  GEMM, see `_channels_last`).
- `_conv_input_grad(gy, w)`: the GEMM `w^T @ gy` gives column gradients, then col2im adds them
  back with one strided slice-add per kernel position (a loop over kernel positions, never over
  elements): channels-last when strided with groups == 1 (with few channels, one stride-1
  gradient per stride phase instead); at stride 1 on the flattened padded grid, with the last
  dim's taps folded into the GEMM (one long add per remaining tap); at stride 1 with
  C >= O/2 it runs as a full correlation (a convolution of gy with the flipped kernel)
  instead. This is also the forward of the transposed convolution.
- `_conv_weight_grad(x, gy)`: `gy @ cols^T` batched over N, summed over N (one GEMM over all
  N * P rows when cols are channels-last).

The autograd ops are closed under differentiation, so double backward works: `Convolution`
(forward or transposed) differentiates into `Convolution` and `ConvWeight`, and `ConvWeight`
into two `Convolution`s. Both forward and transposed convolutions print as
`ConvolutionBackward0`, as in torch.

Both cores come from OpenBLAS, which threads each of these GEMMs itself: splitting the batch
over two Python threads as well oversubscribes the cores (measured slower in training steps).

Half precision (float16, bfloat16) is computed in float32 and rounded once at the end, as
torch's CPU kernels accumulate in float32; float16's gradients and transposed convolution
follow torch's slow kernels, which keep intermediate results in float16 (see `_r16`,
`round_through`).
"""
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ember._ops._helpers import channel_op, round_through
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d"]


# ---------------------------------------------------------------------------------------------
# Array kernels (D spatial dims; pads are (lo, hi) pairs per spatial dim)

def _compute_dtype(dt):
    """The dtype the GEMM runs in: float32 for the half types (NumPy has no fast half GEMM)."""
    if dt == np.float16 or dt.name == "bfloat16":
        return np.dtype(np.float32)
    return dt


def _out_size(size, k, s, p, d):
    return (size + p[0] + p[1] - d * (k - 1) - 1) // s + 1


def _pad_array(x, pads):
    if not any(lo or hi for lo, hi in pads):
        return x
    return np.pad(x, ((0, 0), (0, 0)) + tuple(pads))


def _cols_view(x, ksize, stride, pads, dilation, out=None):
    """im2col as a strided (N, C, *K, *out) view of the padded input (no copy). `out`
    (optional) keeps only the first output positions: the gradient of a transposed
    convolution whose output_padding added positions that no input position reaches."""
    xp = _pad_array(x, pads)
    D = len(ksize)
    if out is None:
        out = tuple(_out_size(x.shape[2 + i], ksize[i], stride[i], pads[i], dilation[i])
                    for i in range(D))
    st = xp.strides
    view = as_strided(xp, xp.shape[:2] + tuple(ksize) + out,
                      st[:2] + tuple(st[2 + i] * dilation[i] for i in range(D))
                      + tuple(st[2 + i] * stride[i] for i in range(D)), writeable=False)
    return view, out


def _cols(x, ksize, stride, pads, dilation, out=None):
    """im2col copied contiguous: (cols (N, C, *K, *out), out)."""
    view, out = _cols_view(x, ksize, stride, pads, dilation, out)
    return np.ascontiguousarray(view), out


def _channels_last(C, ksize, groups):
    """Whether im2col should lay windows out channels-last: rows of (N * P) output positions
    by (K * C) taps, one plain GEMM with the weights. It needs a transposed copy of the input
    but copies each tap as a run of C values and gives BLAS one tall GEMM instead of N short
    ones, which wins once C * K is a few hundred (measured: C=6 K=25, C>=32 K=9)."""
    return groups == 1 and C * math.prod(ksize) >= 150


def _cols_last(x, ksize, stride, pads, dilation, out):
    """Channels-last im2col: a contiguous (N * P, K * C) matrix, row = output position,
    column = (kernel position, channel). Without dilation in the last dim a window row's taps
    and channels are one contiguous run of k_last * C values of the channels-last input, so the
    copy moves runs that long instead of C values at a time."""
    D = len(ksize)
    N, C = x.shape[:2]
    spatial = x.shape[2:]
    xl = np.zeros((N,) + tuple(spatial[i] + pads[i][0] + pads[i][1] for i in range(D)) + (C,),
                  x.dtype)
    inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(pads, spatial))
    xl[(slice(None),) + inner] = np.moveaxis(x, 1, -1)
    st = xl.strides
    shape = (N,) + tuple(out) + tuple(ksize) + (C,)
    strides = ((st[0],) + tuple(st[1 + i] * stride[i] for i in range(D))
               + tuple(st[1 + i] * dilation[i] for i in range(D)) + (st[-1],))
    if dilation[-1] == 1:   # merge the last tap dim with the channels
        shape = shape[:-2] + (ksize[-1] * C,)
        strides = strides[:-2] + (st[-1],)
    view = as_strided(xl, shape, strides, writeable=False)
    return np.ascontiguousarray(view).reshape(N * math.prod(out), math.prod(ksize) * C)


def _conv_fwd(x, w, stride, pads, dilation, groups, out=None):
    """y (N, O, *out) = sum over c, kernel of w[o, c, k] * x_pad[n, c, out * s + k * d]:
    one im2col copy and GEMM; `cols` comes back for the weight gradient (2-D when laid out
    channels-last, see `_channels_last`)."""
    N, C = x.shape[:2]
    O = w.shape[0]
    ksize = w.shape[2:]
    if _channels_last(C, ksize, groups):
        if out is None:
            out = tuple(_out_size(x.shape[2 + i], ksize[i], stride[i], pads[i], dilation[i])
                        for i in range(len(ksize)))
        cols = _cols_last(x, ksize, stride, pads, dilation, out)
        wm = np.moveaxis(w, 1, -1).reshape(O, -1)     # (O, K * C), taps in cols' order
        y = np.dot(cols, wm.T)                        # (N * P, O)
        y = np.moveaxis(y.reshape((N,) + tuple(out) + (O,)), -1, 1)
        return np.ascontiguousarray(y), cols
    view, out = _cols_view(x, ksize, stride, pads, dilation, out)
    cols = np.ascontiguousarray(view)
    P = math.prod(out)
    CgK = (C // groups) * math.prod(ksize)
    y = np.matmul(w.reshape(groups, O // groups, CgK), cols.reshape(N, groups, CgK, P))
    return y.reshape((N, O) + out), cols


def _conv_input_grad(gy, w, in_spatial, stride, pads, dilation, groups):
    """The gradient of `_conv_fwd` with respect to x (spatial size `in_spatial`). Positions no
    window reaches get zero. Five routes, by measured cost. Stride 1 with at least half as
    many input as output channels: a full correlation with the flipped kernel
    (`_full_correlation`, a plain convolution whose im2col has O*K columns), when that im2col
    is channels-last or grouped (16 channels 3x3 run 1.2x faster shifted). Otherwise a GEMM
    into column gradients scattered back by strided adds: on the flattened padded grid at
    stride 1 (`_input_grad_shifted`, one add per tap of the leading dims), channels-last for
    strided convolutions with groups == 1 and a kernel wider than 1x1 (`_input_grad_last`;
    with few input channels, as one stride-1 gradient per stride phase: `_input_grad_phases`),
    else per group in NCHW (`_col2im`), one add per kernel position (a strided 1x1 kernel:
    one strided write, where going channels-last and back would cost 3x more)."""
    N, O = gy.shape[:2]
    C = w.shape[1] * groups
    strided = any(s != 1 for s in stride)
    if not strided and 2 * C > O and (groups > 1 or _channels_last(O, w.shape[2:], groups)):
        return _full_correlation(gy, w, in_spatial, pads, dilation, groups)
    if strided and groups == 1 and math.prod(w.shape[2:]) > 1:
        if C <= _PHASES_MAX_C and all(d == 1 for d in dilation):
            return _input_grad_phases(gy, w, in_spatial, stride, pads)
        return _input_grad_last(gy, w, in_spatial, stride, pads, dilation)
    if not strided:
        return _input_grad_shifted(gy, w, in_spatial, pads, dilation, groups)
    out = gy.shape[2:]
    ksize = w.shape[2:]
    CgK = w.shape[1] * math.prod(ksize)
    # (a contiguous transposed kernel: NumPy's stacked matmul leaves BLAS for strided operands)
    wt = np.ascontiguousarray(w.reshape(groups, O // groups, CgK).transpose(0, 2, 1))
    gcols = np.matmul(wt, gy.reshape(N, groups, O // groups, math.prod(out)))
    return _col2im(gcols.reshape((N, C) + tuple(ksize) + tuple(out)), in_spatial, stride, pads,
                   dilation)


_SHIFT_BLOCK = 16   # samples per GEMM + scatter block: their column gradients stay in cache


def _input_grad_shifted(gy, w, in_spatial, pads, dilation, groups):
    """Stride-1 col2im on the flattened padded input grid. gy is laid on that grid (each
    output row padded to the padded width, zeros beyond), so output position p and kernel tap
    (k_0, ..., k_last) touch input position p + sum_i k_i d_i row_i: a shift of the flat index.
    The taps of the last spatial dim go into the GEMM: `shifts` holds gy shifted by each of
    them ((O * k_last) rows, one contiguous copy), and the kernel matrix (C * K_outer,
    O * k_last) turns them into one partial gradient per outer tap (kernel positions of the
    leading dims), each added back with one long contiguous add at its offset. That is K/k_last
    adds instead of one per tap, and a GEMM with k_last times the inner dimension. Positions
    beyond the input read zeros and land in the padding or past the end (cropped). Blocks of
    samples keep the partial gradients in cache."""
    N, O = gy.shape[:2]
    Cg = w.shape[1]
    C = Cg * groups
    D = len(in_spatial)
    ksize, out = w.shape[2:], gy.shape[2:]
    padded = tuple(in_spatial[i] + pads[i][0] + pads[i][1] for i in range(D))
    row = [math.prod(padded[i + 1:]) for i in range(D)]
    k_last, d_last = ksize[-1], dilation[-1]
    reach = (k_last - 1) * d_last        # the last dim's taps shift by 0..reach
    L = out[0] * row[0] + reach          # flat length of one partial gradient
    outer = [sum(k[i] * dilation[i] * row[i] for i in range(D - 1))
             for k in np.ndindex(*ksize[:-1])]
    total = math.prod(padded)
    # gy on the padded grid, flattened, between `reach` zeros either side
    flat = np.zeros((N, O, 2 * reach + out[0] * row[0]), gy.dtype)
    grid = flat[:, :, reach:reach + out[0] * row[0]].reshape((N, O, out[0]) + padded[1:])
    grid[(slice(None),) * 3 + tuple(slice(0, n) for n in out[1:])] = gy
    # kernel matrix: rows (group, c, outer tap), columns (o, last tap reversed), matching the
    # shifts below (shift j reads gy shifted right by (k_last - 1 - j) * d_last)
    Og = O // groups
    wk = w.reshape((groups, Og, Cg, len(outer), k_last))[..., ::-1]
    wk = np.ascontiguousarray(wk.transpose(0, 2, 3, 1, 4)).reshape(groups, Cg * len(outer),
                                                                   Og * k_last)
    gx = np.zeros((N, C, max(total, outer[-1] + L)), gy.dtype)
    st = flat.strides

    for s in range(0, N, _SHIFT_BLOCK):
        e = min(s + _SHIFT_BLOCK, N)
        shifts = as_strided(flat[s:e], (e - s, O, k_last, L),
                            (st[0], st[1], st[2] * d_last, st[2]), writeable=False)
        shifts = np.ascontiguousarray(shifts).reshape(e - s, groups, Og * k_last, L)
        part_grads = np.matmul(wk, shifts).reshape(e - s, C, len(outer), L)
        dst = gx[s:e]
        for j, off in enumerate(outer):
            dst[:, :, off:off + L] += part_grads[:, :, j]
    gx = gx[:, :, :total].reshape((N, C) + padded)
    return gx[(slice(None), slice(None)) + tuple(slice(lo, lo + n) for (lo, _), n
                                                  in zip(pads, in_spatial))]


def _input_grad_last(gy, w, in_spatial, stride, pads, dilation):
    """The strided input gradient (groups == 1) channels-last: one GEMM gives each output
    position's tap gradients (N*P, K*C), then one strided add per kernel position puts them
    back into a channels-last padded input (runs of C values)."""
    N, O = gy.shape[:2]
    C = w.shape[1]
    D = len(in_spatial)
    ksize, out = w.shape[2:], gy.shape[2:]
    g_rows = np.moveaxis(gy, 1, -1).reshape(-1, O)                    # (N*P, O)
    gcols = np.dot(g_rows, np.moveaxis(w, 1, -1).reshape(O, -1))      # (N*P, K*C)
    gcols = gcols.reshape((N,) + tuple(out) + tuple(ksize) + (C,))
    padded = tuple(in_spatial[i] + pads[i][0] + pads[i][1] for i in range(D))
    gxp = np.zeros((N,) + padded + (C,), gcols.dtype)
    for kpos in np.ndindex(*ksize):
        sl = tuple(slice(kpos[i] * dilation[i], kpos[i] * dilation[i] + stride[i] * (out[i] - 1)
                         + 1, stride[i]) for i in range(D))
        gxp[(slice(None),) + sl] += gcols[(slice(None),) * (1 + D) + kpos]
    inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(pads, in_spatial))
    return np.ascontiguousarray(np.moveaxis(gxp[(slice(None),) + inner], -1, 1))


_PHASES_MAX_C = 16   # measured: phases win for C = 3..16 (1.2-4x), lose from C = 32 (1.2-2.5x)


def _input_grad_phases(gy, w, in_spatial, stride, pads):
    """The strided input gradient as stride-1 ones: the padded input positions r + s*i
    (one phase r per offset below the stride) receive only the taps k = r + s*m, from
    output positions i - m, i.e. the stride-1 input gradient of the sub-kernel w[..., r::s]
    over i < out + K_r - 1. Each phase runs through the stride-1 routes and is written into
    every s-th position; phases no tap reaches stay zero. Channels-last col2im adds runs of
    only C values, slow for few channels."""
    N, D = gy.shape[0], len(in_spatial)
    out = gy.shape[2:]
    padded = tuple(in_spatial[i] + pads[i][0] + pads[i][1] for i in range(D))
    gxp = np.zeros((N, w.shape[1]) + padded, gy.dtype)
    for r in np.ndindex(*stride):
        if any(r[i] >= w.shape[2 + i] for i in range(D)):
            continue
        sub = w[(slice(None), slice(None)) + tuple(slice(r[i], None, stride[i]) for i in range(D))]
        L = tuple(out[i] + sub.shape[2 + i] - 1 for i in range(D))
        gxp[(slice(None), slice(None)) + tuple(slice(r[i], r[i] + stride[i] * L[i], stride[i])
                                               for i in range(D))] = _conv_input_grad(
            gy, np.ascontiguousarray(sub), L, (1,) * D, ((0, 0),) * D, (1,) * D, 1)
    return gxp[(slice(None), slice(None)) + tuple(slice(lo, lo + n) for (lo, _), n
                                                  in zip(pads, in_spatial))]


def _transposed_kernel(w, groups):
    """w (O, C/g, *K) as the kernel of the adjoint stride-1 convolution: (C, O/g, *K), each
    group's in/out channels swapped and the spatial taps reversed."""
    O, Cg = w.shape[:2]
    ksize = w.shape[2:]
    wt = w.reshape((groups, O // groups, Cg) + ksize).swapaxes(1, 2)
    wt = wt[(Ellipsis,) + (slice(None, None, -1),) * len(ksize)]
    return np.ascontiguousarray(wt).reshape((groups * Cg, O // groups) + ksize)


def _full_correlation(gy, w, in_spatial, pads, dilation, groups):
    """Stride-1 input gradient: gx[i] = sum_k gy[i + p_lo - d*k] w[k], i.e. a plain
    convolution of gy, padded by d*(K-1) - p_lo on the left, with the flipped, channel-swapped
    kernel. A negative pad (padding wider than the kernel reach) crops gy instead."""
    D = len(in_spatial)
    ksize = w.shape[2:]
    crop, new_pads = [], []
    for i in range(D):
        lo = dilation[i] * (ksize[i] - 1) - pads[i][0]
        c = max(0, -lo)
        lo = max(0, lo)
        L = gy.shape[2 + i] - c
        need = in_spatial[i] + dilation[i] * (ksize[i] - 1)   # padded length read
        crop.append(slice(c, None))
        new_pads.append((lo, max(0, need - L - lo)))
    if any(c.start for c in crop):
        gy = gy[(slice(None), slice(None)) + tuple(crop)]
    gx, _ = _conv_fwd(gy, _transposed_kernel(w, groups), (1,) * D, tuple(new_pads), dilation,
                      groups, tuple(in_spatial))
    return gx


def _col2im(gcols, in_spatial, stride, pads, dilation):
    """Adds column values (N, C, *K, *out) back to the (unpadded) input positions they were
    read from: one strided slice-add per kernel position."""
    N, C = gcols.shape[:2]
    D = len(in_spatial)
    ksize, out = gcols.shape[2:2 + D], gcols.shape[2 + D:]
    padded = tuple(in_spatial[i] + pads[i][0] + pads[i][1] for i in range(D))
    gxp = np.zeros((N, C) + padded, gcols.dtype)
    for kpos in np.ndindex(*ksize):
        sl = tuple(slice(kpos[i] * dilation[i], kpos[i] * dilation[i] + stride[i] * (out[i] - 1)
                         + 1, stride[i]) for i in range(D))
        gxp[(slice(None), slice(None)) + sl] += gcols[(slice(None), slice(None)) + kpos]
    if any(lo or hi for lo, hi in pads):
        gxp = gxp[(slice(None), slice(None)) + tuple(slice(pads[i][0], pads[i][0] + in_spatial[i])
                                                      for i in range(D))]
    return gxp


def _conv_weight_grad(x, gy, ksize, stride, pads, dilation, groups, cols=None):
    """The gradient of `_conv_fwd` with respect to w: sum over n of gy_n @ cols_n^T."""
    N, O = gy.shape[:2]
    P = math.prod(gy.shape[2:])
    C = x.shape[1]
    K = math.prod(ksize)
    if _channels_last(C, ksize, groups):
        if cols is None:
            cols = _cols_last(x, ksize, stride, pads, dilation, gy.shape[2:])
        g_rows = np.moveaxis(gy, 1, -1).reshape(N * P, O)
        g = np.dot(cols.T, g_rows).T      # (O, K * C); this operand order is faster in BLAS
        return np.moveaxis(g.reshape((O,) + tuple(ksize) + (C,)), -1, 1)
    if cols is None:
        cols, _ = _cols(x, ksize, stride, pads, dilation, gy.shape[2:])
    Cg = C // groups
    gyg = gy.reshape(N, groups, O // groups, P)
    colsg = cols.reshape(N, groups, Cg * K, P)

    # (cols @ gy^T, not gy @ cols^T: measured 2x faster in OpenBLAS)
    g = np.matmul(colsg, gyg.transpose(0, 1, 3, 2)).sum(0)     # (groups, Cg * K, O / groups)
    return g.transpose(0, 2, 1).reshape((O, Cg) + tuple(ksize))


# ---------------------------------------------------------------------------------------------
# float16: torch's CPU kernels for it are the slow im2col ones (oneDNN takes bfloat16 and
# rounds once, as the float32 route here does), which keep intermediate results in float16:
# column gradients (and the transposed convolution's columns) are rounded to float16 and
# added back rounding each sum; the weight gradient is accumulated sample by sample, rounded
# after each sample's GEMM.

def _r16(a):
    return round_through(a, np.float16)


def _input_grad_f16(gy, w, in_spatial, stride, pads, dilation, groups):
    """`_conv_input_grad` for float16 (float32 values of float16 numbers): per sample the
    GEMM w^T gy in float32 rounded to float16, then col2im one kernel position at a time in
    ascending order, each sum rounded."""
    N, O = gy.shape[:2]
    C = w.shape[1] * groups
    ksize, out = w.shape[2:], gy.shape[2:]
    CgK = w.shape[1] * math.prod(ksize)
    wt = w.astype(np.float32).reshape(groups, O // groups, CgK).transpose(0, 2, 1)
    gcols = np.matmul(wt, gy.astype(np.float32).reshape(N, groups, O // groups, math.prod(out)))
    gcols = _r16(gcols).reshape((N, C) + tuple(ksize) + tuple(out))
    D = len(in_spatial)
    padded = tuple(in_spatial[i] + pads[i][0] + pads[i][1] for i in range(D))
    gxp = np.zeros((N, C) + padded, np.float32)
    for kpos in np.ndindex(*ksize):
        sl = (slice(None), slice(None)) + tuple(
            slice(kpos[i] * dilation[i], kpos[i] * dilation[i] + stride[i] * (out[i] - 1) + 1,
                  stride[i]) for i in range(D))
        gxp[sl] = _r16(gxp[sl] + gcols[(slice(None), slice(None)) + kpos])
    return gxp[(slice(None), slice(None)) + tuple(slice(pads[i][0], pads[i][0] + in_spatial[i])
                                                   for i in range(D))]


def _weight_grad_f16(x, gy, ksize, stride, pads, dilation, groups):
    """`_conv_weight_grad` for float16: each sample's gy_n cols_n^T (float32) added to the
    float16 gradient in turn, rounded after each."""
    N, O = gy.shape[:2]
    P = math.prod(gy.shape[2:])
    C = x.shape[1]
    Cg, K = C // groups, math.prod(ksize)
    cols, _ = _cols(x.astype(np.float32), ksize, stride, pads, dilation, gy.shape[2:])
    per = np.matmul(gy.astype(np.float32).reshape(N, groups, O // groups, P),
                    cols.reshape(N, groups, Cg * K, P).transpose(0, 1, 3, 2))
    g = np.zeros(per.shape[1:], np.float32)
    for n in range(N):
        g = _r16(g + per[n])
    return g.reshape((O, Cg) + tuple(ksize)).astype(np.float16)


# ---------------------------------------------------------------------------------------------
# Autograd ops

def _spatial_sum_dims(ndim):
    return (0,) + tuple(range(2, ndim))


class Convolution(ArrayFunction):
    """y = conv(x, w) + b, or the transposed convolution (w as the conv from y-space to
    x-space, output spatial size `out_spatial`). Gradients: conv and conv_transpose swap roles,
    the weight gradient is `ConvWeight`."""

    def forward(ctx, x, w, b=None, *, stride, pads, dilation, groups, transposed=False,
                out_spatial=None):
        ctx.p = (stride, pads, dilation, groups)
        ctx.transposed = transposed
        dt = np.result_type(x, w)
        cdt = _compute_dtype(dt)
        xc, wc = x.astype(cdt, copy=False), w.astype(cdt, copy=False)
        ctx.cols = None
        if transposed and dt == np.float16:   # (torch's slow kernels: see _input_grad_f16;
            # the bias is then added to the rounded result, below)
            y = _input_grad_f16(x, w, out_spatial, stride, pads, dilation, groups)
        elif transposed:
            y = _conv_input_grad(xc, wc, out_spatial, stride, pads, dilation, groups)
        else:
            y, cols = _conv_fwd(xc, wc, stride, pads, dilation, groups, out_spatial)
            if ctx.needs_input_grad[1] and cdt == dt:
                ctx.cols = cols   # reused by the weight gradient (saves a second im2col)
        if b is not None:
            channel_op(np.add, y, b.astype(cdt, copy=False), out=y)
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              w if ctx.needs_input_grad[0] else None)
        ctx.x_spatial = x.shape[2:]
        ctx.ksize = w.shape[2:]
        return y.astype(dt, copy=False)

    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        stride, pads, dilation, groups = ctx.p
        needs = ctx.needs_input_grad
        gx = gw = gb = None
        kw = dict(stride=stride, pads=pads, dilation=dilation, groups=groups)
        if ctx.transposed:
            # y = T(x): x = conv-output space, y = conv-input space
            if needs[0]:
                gx = Convolution.apply(gy, w, None, out_spatial=ctx.x_spatial, **kw)
            if needs[1]:
                gw = ConvWeight.apply(gy, x, ksize=ctx.ksize, **kw)
        else:
            if needs[0]:
                gx = Convolution.apply(gy, w, None, transposed=True, out_spatial=ctx.x_spatial,
                                       **kw)
            if needs[1]:
                gw = ConvWeight.apply(x, gy, ksize=ctx.ksize, cols=ctx.cols, **kw)
        if len(needs) > 2 and needs[2]:
            if (gy._data.dtype == np.float16 and not ctx.transposed
                    and any(d > 1 for d in dilation)):
                # torch's dilated float16 kernels add each sample's (rounded) sum in turn
                per = gy.sum(tuple(range(2, gy.dim())))
                gb = per[0]
                for n in range(1, per.shape[0]):
                    gb = gb + per[n]
            else:
                gb = gy.sum(_spatial_sum_dims(gy.dim()))
        return gx, gw, gb

    def name(self):
        return "ConvolutionBackward0"


class ConvWeight(ArrayFunction):
    """gw = d conv(x, w) / d w contracted with gy (differentiable again in x and gy)."""

    def forward(ctx, x, gy, *, ksize, stride, pads, dilation, groups, cols=None):
        ctx.p = (stride, pads, dilation, groups)
        ctx.x_spatial = x.shape[2:]
        ctx.gy_spatial = gy.shape[2:]
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              gy if ctx.needs_input_grad[0] else None)
        dt = np.result_type(x, gy)
        if dt == np.float16:
            return _weight_grad_f16(x, gy, ksize, stride, pads, dilation, groups)
        cdt = _compute_dtype(dt)
        return _conv_weight_grad(x.astype(cdt, copy=False), gy.astype(cdt, copy=False), ksize,
                                 stride, pads, dilation, groups, cols).astype(dt, copy=False)

    def backward(ctx, ggw):
        x, gy = ctx.saved_tensors
        stride, pads, dilation, groups = ctx.p
        kw = dict(stride=stride, pads=pads, dilation=dilation, groups=groups)
        gx = ggy = None
        if ctx.needs_input_grad[0]:
            gx = Convolution.apply(gy, ggw, None, transposed=True, out_spatial=ctx.x_spatial, **kw)
        if ctx.needs_input_grad[1]:
            ggy = Convolution.apply(x, ggw, None, out_spatial=ctx.gy_spatial, **kw)
        return gx, ggy


class ConvTbc(ArrayFunction):
    """torch.conv_tbc: a 1-D convolution laid out time, batch, channel (fairseq's layout):
    y (T + 2 pad - K + 1, B, O) from x (T, B, C), w (K, C, O), bias (O). Forward is the NCL
    convolution on transposed views; the gradients are convolutions in Tensor ops (so they
    differentiate again): gx the transposed convolution of gy, gw a convolution of x by gy with
    the batch as the contracted channel axis."""

    def forward(ctx, x, w, b, *, pad):
        ctx.pad = pad
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              w if ctx.needs_input_grad[0] else None)
        dt = np.result_type(x, w)
        cdt = _compute_dtype(dt)
        y, _ = _conv_fwd(x.transpose(1, 2, 0).astype(cdt, copy=False),
                         w.transpose(2, 1, 0).astype(cdt, copy=False), (1,), ((pad, pad),), (1,), 1)
        y = np.ascontiguousarray(y.transpose(2, 0, 1))
        y += b.astype(cdt, copy=False)
        return y.astype(dt, copy=False)

    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        g_ncl = gy.permute(1, 2, 0)                      # (B, O, T')
        gx = gw = gb = None
        if needs[0]:
            gx = conv_transpose1d(g_ncl, w.permute(2, 1, 0), padding=ctx.pad).permute(2, 0, 1)
        if needs[1]:   # gw[k, c, o] = sum over t, b of x_pad[t + k, b, c] gy[t, b, o]
            gw = conv1d(x.permute(2, 1, 0), gy.permute(2, 1, 0), padding=ctx.pad)
            gw = gw.permute(2, 0, 1)
        if needs[2]:
            gb = gy.sum((0, 1))
        return gx, gw, gb


def conv_tbc(input, weight, bias, pad=0):
    """torch.conv_tbc(input (T, B, C), weight (K, C, O), bias (O), pad=0) -> (T', B, O)."""
    if input.dim() != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.dim() != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, "
                           "out_channels.")
    if bias.dim() != 1:
        raise RuntimeError("Bias must be 1-D")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if weight.shape[2] != bias.shape[0]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    T = input.shape[0] + 2 * pad - weight.shape[0] + 1
    if T < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {T}: "
                           f"[{T}, {input.shape[1]}, {weight.shape[2]}]")
    return ConvTbc.apply(input, weight, bias, pad=int(pad))


# ---------------------------------------------------------------------------------------------
# Argument parsing and torch's errors

def _tuple(v, D, name):
    if isinstance(v, (list, tuple)):
        v = tuple(int(i) for i in v)
        if len(v) == 1:
            return v * D
        if len(v) != D:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {D} "
                               f"values to match the convolution dimensions, but got "
                               f"{name}={list(v)}")
        return v
    return (int(v),) * D


def _shape_str(shape):
    return "[" + ", ".join(map(str, shape)) + "]"


def _check_common(fn, input, weight, bias, D):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) and 'weight' must be Tensor, "
                        f"not {type(input).__name__}")
    if input.dim() not in (D + 1, D + 2):
        raise RuntimeError(f"Expected {D + 1}D (unbatched) or {D + 2}D (batched) input to {fn}, "
                           f"but got input of size: {_shape_str(input.shape)}")
    if weight.dim() != D + 2:
        raise RuntimeError("weight should have at least three dimensions" if weight.dim() < 3
                           else f"Expected {D + 2}-dimensional input for {D + 2}-dimensional "
                           f"weight {_shape_str(weight.shape)}, but got {weight.dim()}-"
                           f"dimensional input of size {_shape_str(input.shape)} instead")
    if bias is not None and bias.dtype != input.dtype:   # (torch checks the bias first)
        raise RuntimeError(f"Input type ({_type_name(input)}) and bias type ({_type_name(bias)}) "
                           "should be the same")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_name(input)} but found "
                           f"{_scalar_name(weight)}")


def _scalar_name(t):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
            "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "complex64": "ComplexFloat", "complex128": "ComplexDouble",
            "bool": "Bool"}.get(str(t.dtype).split(".")[-1], str(t.dtype))


def _type_name(t):
    return {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int64": "long int"}.get(
        str(t.dtype).split(".")[-1], str(t.dtype).split(".")[-1])


def _check_params(stride, padding, dilation):
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")


def _unbatch(input, D):
    """(squeezed?, batched input): torch accepts one sample without the batch dim."""
    if input.dim() == D + 1:
        return True, input.unsqueeze(0)
    return False, input


def _convnd(fn, D, input, weight, bias, stride, padding, dilation, groups):
    _check_common(fn, input, weight, bias, D)
    unbatched, x = _unbatch(input, D)
    stride = _tuple(stride, D, "stride")
    dilation = _tuple(dilation, D, "dilation")
    ksize = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * D
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            # torch pads the extra element (odd total) on the right
            tot = [dilation[i] * (ksize[i] - 1) for i in range(D)]
            pads = tuple((t // 2, t - t // 2) for t in tot)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        _check_params(stride, (0,), dilation)
    else:
        p = _tuple(padding, D, "padding")
        _check_params(stride, p, dilation)
        pads = tuple((i, i) for i in p)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    C = x.shape[1]
    if weight.shape[1] * groups != C:
        raise RuntimeError(f"Given groups={groups}, weight of size {_shape_str(weight.shape)}, "
                           f"expected input{_shape_str(x.shape)} to have "
                           f"{weight.shape[1] * groups} channels, but got {C} channels instead")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size "
                           f"{_shape_str(weight.shape)} instead")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(f"Given weight of size {_shape_str(weight.shape)}, expected bias to "
                           f"be 1-dimensional with {weight.shape[0]} elements, but got bias of "
                           f"size {_shape_str(bias.shape)} instead")
    padded = [x.shape[2 + i] + pads[i][0] + pads[i][1] for i in range(D)]
    eff = [dilation[i] * (ksize[i] - 1) + 1 for i in range(D)]
    if any(padded[i] < eff[i] for i in range(D)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, eff))}). Kernel size can't be greater than "
                           f"actual input size")
    y = Convolution.apply(x, weight, bias, stride=stride, pads=pads, dilation=dilation,
                          groups=groups)
    return y.squeeze(0) if unbatched else y


def _conv_transposend(fn, D, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    _check_common(fn, input, weight, bias, D)
    if isinstance(padding, str):
        raise TypeError(f"{fn}(): argument 'padding' must be tuple of ints, not str")
    unbatched, x = _unbatch(input, D)
    stride = _tuple(stride, D, "stride")
    dilation = _tuple(dilation, D, "dilation")
    p = _tuple(padding, D, "padding")
    op = _tuple(output_padding, D, "output_padding")
    _check_params(stride, p, dilation)
    if any(o >= s and o >= d for o, s, d in zip(op, stride, dilation)):
        # torch runs 1-D as 2-D with a height of 1: its message lists that height too
        lead = (0,) if D == 1 else ()
        names = ("depth", "height", "width")[3 - D - len(lead):]
        parts = ([f"output_padding_{n}: {o}" for n, o in zip(names, lead + op)]
                 + [f"stride_{n}: {s}" for n, s in zip(names, (1,) * len(lead) + stride)]
                 + [f"dilation_{n}: {d}" for n, d in zip(names, (1,) * len(lead) + dilation)])
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           "got " + " ".join(parts))
    C = x.shape[1]
    if weight.shape[0] != C:
        raise RuntimeError(f"Given transposed=1, weight of size {_shape_str(weight.shape)}, "
                           f"expected input{_shape_str(x.shape)} to have {weight.shape[0]} "
                           f"channels, but got {C} channels instead")
    if C % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size "
                           f"{_shape_str(weight.shape)} instead")
    O = weight.shape[1] * groups
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != O):
        raise RuntimeError(f"Given transposed=1, weight of size {_shape_str(weight.shape)}, "
                           f"expected bias to be 1-dimensional with {O} elements, but got bias "
                           f"of size {_shape_str(bias.shape)} instead")
    ksize = weight.shape[2:]
    out = tuple((x.shape[2 + i] - 1) * stride[i] - 2 * p[i] + dilation[i] * (ksize[i] - 1)
                + op[i] + 1 for i in range(D))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))})"
                           f". Calculated output size per channel: "
                           f"({' x '.join(map(str, out))}). Output size is too small")
    y = Convolution.apply(x, weight, bias, stride=stride, pads=tuple((i, i) for i in p),
                          dilation=dilation, groups=groups, transposed=True, out_spatial=out)
    return y.squeeze(0) if unbatched else y


# ---------------------------------------------------------------------------------------------
# Public functions (torch.nn.functional signatures)

def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) of input (N, C, L) or (C, L) with weight
    (O, C/groups, k). padding: int, tuple, 'valid' or 'same' (stride 1 only; the odd extra
    element goes on the right)."""
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of input (N, C, H, W) or (C, H, W) with weight (O, C/groups, kH, kW)."""
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of input (N, C, D, H, W) or (C, D, H, W)."""
    return _convnd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 1-D convolution; weight (C_in, C_out/groups, k). Output length
    (L-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1."""
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution; weight (C_in, C_out/groups, kH, kW)."""
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 3-D convolution; weight (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transposend("conv_transpose3d", 3, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)
