"""Pooling: max/avg/adaptive/lp/fractional max pooling and max_unpool, 1-D to 3-D.

Two building blocks carry everything:

- Max pooling picks one input element per output: forward scans the kernel positions over
  strided views of the windows (no copy; first maximum wins ties, NaN wins, as in torch) and
  keeps each window's chosen kernel position; flat indices into each (h*W + w) plane - torch's
  `return_indices` - are built from those only when asked for. The gradient writes each output
  gradient back at its window's chosen position (`WindowScatter`, one masked pass per kernel
  position), whose gradient is a gather by flat index (`GatherFlat`): closed under double
  backward. `max_unpool` scatters by flat index (`UnpoolScatter`), adaptive and fractional
  max pooling (windows of varying sizes or at pseudo-random starts) gather by flat index and
  scatter their gradient back with one `bincount` (`ScatterFlat`).
- Average pooling (and adaptive average pooling, and the separable interpolation modes in
  sampling.py) is linear and separable: along each spatial dim it is one small matrix
  A (out, in). `Separable` applies the matrices with one matmul per dim on a reshaped view (no
  transposes); its gradient applies the transposed matrices. count_include_pad, ceil_mode and
  divisor_override only change the matrices' entries. Past about a million entries (long
  signals: 16k audio samples upsampled would need a 2 GB matrix) a matrix is a SciPy sparse
  matrix, applied in time proportional to its few taps per row.

Half types (float16, bfloat16) follow torch's kernels instead (see "Half types" below):
windowed sums in float32 rounded once, and backward passes that accumulate in the half type.
"""
import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ember._backend import scipy_sparse
from ember._ops._helpers import is_half, round_through as _round, select
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
           "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d",
           "lp_pool1d", "lp_pool2d", "lp_pool3d", "fractional_max_pool2d",
           "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices"]


def _float_dtype(dt):
    """Half types compute in float32 (NumPy's half matmul is slow); ints in float64."""
    if dt == np.float16 or dt.name == "bfloat16":
        return np.dtype(np.float32)
    if dt.kind in "biu":
        return np.dtype(np.float64)
    return dt


# ---------------------------------------------------------------------------------------------
# Linear separable maps: one matrix per trailing spatial dim

_DENSE_MAX = 1 << 20   # entries: a bigger weight matrix is stored sparse


def _weights(out, L, rows, cols, vals):
    """The (out, L) matrix with vals at (rows, cols), repeated positions summed: dense (one
    BLAS matmul applies it) unless it is large, then a SciPy CSR matrix."""
    if out * L <= _DENSE_MAX:
        A = np.zeros((out, L))
        np.add.at(A, (rows, cols), vals)
        return A
    return scipy_sparse().csr_matrix((vals, (rows, cols)), shape=(out, L))


def _ranges(out, L, lo, hi, vals):
    """`_weights` with row o holding vals[o] at columns lo[o] .. hi[o] - 1 (windows)."""
    lengths = np.maximum(hi - lo, 0)
    rows = np.repeat(np.arange(out), lengths)
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return _weights(out, L, rows, starts + np.arange(rows.size), np.repeat(vals, lengths))


def _dense(A):
    return A if isinstance(A, np.ndarray) else A.toarray()


def _apply_mats(x, mats):
    """x (..., *L) with mats[i] (out_i, L_i) applied along the last len(mats) dims."""
    D = len(mats)
    for i, A in enumerate(mats):
        if A is None:
            continue
        ax = x.ndim - D + i
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            x = _along_nonfinite(A, x, ax)
        else:
            x = _along(A, x, ax)
    return x


def _along(A, x, ax):
    """A (out, L) applied to x along axis ax (one matmul)."""
    if not isinstance(A, np.ndarray):   # sparse: rows of x along the axis, A @ x
        y = A @ np.moveaxis(x, ax, 0).reshape(x.shape[ax], -1)
        y = np.asarray(y).reshape((A.shape[0],) + x.shape[:ax] + x.shape[ax + 1:])
        return np.moveaxis(y, 0, ax)
    pre, L = x.shape[:ax], x.shape[ax]
    post = math.prod(x.shape[ax + 1:])
    y = np.matmul(A, x.reshape(pre + (L, post))) if post != 1 or ax != x.ndim - 1 else \
        np.matmul(x.reshape(pre + (L,)), A.T)
    return y.reshape(pre + (A.shape[0],) + x.shape[ax + 1:])


def _along_nonfinite(A, x, ax):
    """`_along` for an x holding inf or NaN: each output sees only the inputs its weights
    reach, as torch's windowed kernels do (the matmul would add 0 * inf = NaN from every
    input). Finite values are combined as usual; an output is NaN where a NaN is reached or
    +inf and -inf meet, else +-inf where an infinity is reached (its sign times its
    weight's)."""
    dt = x.dtype
    y = _along(A, select(np.isfinite(x), x, 0), ax)
    pos, neg = (A > 0).astype(dt), (A < 0).astype(dt)

    def reached(W, mask):
        return _along(W, mask.astype(dt), ax) > 0

    up = reached(pos, x == np.inf) | reached(neg, x == -np.inf)
    down = reached(pos, x == -np.inf) | reached(neg, x == np.inf)
    nan = reached((A != 0).astype(dt), np.isnan(x)) | (up & down)
    return select(nan, np.nan, select(up, np.inf, select(down, -np.inf, y))).astype(dt)


class Separable(ArrayFunction):
    """y = x contracted with one matrix per spatial dim (pooling and interpolation weights);
    the gradient applies the transposes (and is itself a Separable)."""

    def forward(ctx, x, *, mats, name="Separable"):
        ctx.mats = mats
        ctx.op_name = name
        dt = x.dtype
        cdt = _float_dtype(dt)
        m = [None if A is None else A.astype(cdt, copy=False) for A in mats]
        y = _apply_mats(x.astype(cdt, copy=False), m)
        if dt.kind in "biu":
            y = np.round(y) if name.startswith("Upsample") else np.trunc(y)
        return np.ascontiguousarray(y).astype(dt, copy=False)

    def backward(ctx, gy):
        return Separable.apply(gy, mats=[None if A is None else A.T for A in ctx.mats],
                               name=ctx.op_name)

    def name(self):
        return self.op_name + "Backward0"


# ---------------------------------------------------------------------------------------------
# Half types (float16, bfloat16): torch's average pools sum each window in float32 and divide
# once (adaptive pools: once per dim); their backward kernels, and max pooling's, accumulate
# the gradient in the half type itself, rounding after each addition, in output order.

_F32 = np.float32


def ordered_steps(targets):
    """Contributions to `targets` (one index per contribution) applied one at a time in the
    order given, as NumPy steps: yields (contribution indices, their targets) rank by rank —
    each target's first contribution, then its second... — so that a step writes distinct
    targets and every target sees its contributions in order."""
    order = np.argsort(targets, kind="stable")
    t = targets[order]
    if not t.size:
        return
    new = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    rank = np.arange(t.size) - np.repeat(new, np.diff(np.r_[new, t.size]))
    for r in range(int(rank.max()) + 1):
        sel = rank == r
        yield order[sel], t[sel]


def _ordered_add_half(targets, values, size, dt):
    """(size,) array of dt: values added at their targets one at a time, in the order given,
    each sum rounded to dt."""
    v = values.astype(_F32)
    out = np.zeros(size, _F32)
    for k, t in ordered_steps(targets):
        out[t] = _round(out[t] + v[k], dt)
    return out.astype(dt)


def _window_steps(lo, hi):
    """One dim's windows [lo[o], hi[o]) (lo nondecreasing) as the steps of a half-type
    backward: (outputs, inputs) pairs, output o feeding input lo[o] + j, ordered so that
    every input receives its outputs in increasing order (offset j decreasing, and among
    outputs sharing a window start, increasing), with distinct inputs within a step."""
    length = hi - lo
    rank = np.zeros(lo.size, np.int64)
    for o in range(1, lo.size):   # (a repeated start: adaptive windows wider than the input)
        rank[o] = rank[o - 1] + 1 if lo[o] == lo[o - 1] else 0
    steps = []
    for j in range(int(length.max(initial=0)) - 1, -1, -1):
        for r in range(int(rank.max(initial=0)) + 1):
            o = np.flatnonzero((length > j) & (rank == r))
            if o.size:
                steps.append((o, lo[o] + j))
    return steps


class HalfWindowMean(ArrayFunction):
    """Average pooling of a half-type x over the windows [lo, hi) of each of its last D dims
    (lo, hi: per dim, per output), as torch's kernels compute it: the window summed in
    float32 in row-major order, then divided by each of `divs` in turn (arrays broadcasting
    to the output: avg_pool's divisor, or an adaptive pool's window size per dim) and rounded
    once. `half_divs`: the backward kernel divides the gradient in the half type by divisors
    rounded to it (a mean divides in float32). `half_sum` (adaptive_avg_pool3d): the forward
    sums and divides in the half type too, rounding each step. Its gradient is
    `HalfWindowScatter`."""

    def forward(ctx, x, *, lo, hi, divs, half_divs=True, half_sum=False, name):
        ctx.lo, ctx.hi, ctx.divs, ctx.half_divs, ctx.op_name = lo, hi, divs, half_divs, name
        ctx.half_sum = half_sum
        ctx.in_shape = x.shape[x.ndim - len(lo):]
        return _window_mean_half(x, lo, hi, divs, half_sum)

    def backward(ctx, g):
        return HalfWindowScatter.apply(g, lo=ctx.lo, hi=ctx.hi, divs=ctx.divs,
                                       half_divs=ctx.half_divs, half_sum=ctx.half_sum,
                                       in_shape=ctx.in_shape, name=ctx.op_name)

    def name(self):
        return self.op_name + "Backward0"


class HalfWindowScatter(ArrayFunction):
    """HalfWindowMean's gradient: each output's gradient divided (in the half type), then
    added to every input of its window in the half type, in output order."""

    def forward(ctx, g, *, lo, hi, divs, half_divs, half_sum, in_shape, name):
        ctx.lo, ctx.hi, ctx.divs, ctx.half_divs, ctx.op_name = lo, hi, divs, half_divs, name
        ctx.half_sum = half_sum
        dt = g.dtype
        delta = g.astype(_F32)
        for div in divs:
            delta = _round(delta / (_round(div, dt) if half_divs else _F32(div)), dt)
        D = len(lo)
        lead = g.shape[:g.ndim - D]
        gx = np.zeros(lead + tuple(in_shape), _F32)
        pre = (slice(None),) * len(lead)
        for combo in itertools.product(*(_window_steps(lo[i], hi[i]) for i in range(D))):
            outs = np.ix_(*(c[0] for c in combo))
            ins = np.ix_(*(c[1] for c in combo))
            gx[pre + ins] = _round(gx[pre + ins] + delta[pre + outs], dt)
        return gx.astype(dt)

    def backward(ctx, gg):
        return HalfWindowMean.apply(gg, lo=ctx.lo, hi=ctx.hi, divs=ctx.divs,
                                    half_divs=ctx.half_divs, half_sum=ctx.half_sum,
                                    name=ctx.op_name)

    def name(self):
        return self.op_name + "BackwardBackward0"


def _window_mean_half(x, lo, hi, divs, half_sum):
    """The forward of HalfWindowMean (see there): in float32, rounded once, or (half_sum)
    rounded to x's dtype after each step."""
    dt = x.dtype
    r = (lambda v: _round(v, dt)) if half_sum else (lambda v: v)   # noqa: E731
    D = len(lo)
    lead = x.shape[:x.ndim - D]
    pre = (slice(None),) * len(lead)
    xf = x.astype(_F32)
    acc = np.zeros(lead + tuple(a.size for a in lo), _F32)
    for js in np.ndindex(*(int((hi[i] - lo[i]).max(initial=0)) for i in range(D))):
        pos = [np.minimum(lo[i] + js[i], x.shape[len(lead) + i] - 1) for i in range(D)]
        inside = np.ones((1,) * D, bool)
        for i in range(D):   # (an outer product of each dim's mask)
            inside = inside & (lo[i] + js[i] < hi[i]).reshape((-1,) + (1,) * (D - 1 - i))
        acc = r(acc + select(inside, xf[pre + np.ix_(*pos)], _F32(0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        for div in divs:
            acc = r(acc / r(_F32(div)))
    return acc.astype(dt)


# ---------------------------------------------------------------------------------------------
# Scatter/gather by flat index within each (N, C) plane

class ScatterFlat(ArrayFunction):
    """out (N, C, *plane): src (N, C, ...) added at its per-plane flat indices (the max pool
    gradient, max_unpool) with one bincount; the gradient gathers."""

    def forward(ctx, src, *, idx, plane):
        ctx.idx = idx
        N, C = src.shape[:2]
        P = math.prod(plane)
        flat = (np.arange(N * C, dtype=np.int64).reshape(N, C, *([1] * (idx.ndim - 2))) * P
                + idx).ravel()
        if is_half(src.dtype):   # (torch's kernels add in the half type, in output order)
            out = _ordered_add_half(flat, src.ravel(), N * C * P, src.dtype)
        else:
            out = np.bincount(flat, weights=src.ravel().astype(np.float64),
                              minlength=N * C * P)
        return out.astype(src.dtype).reshape((N, C) + tuple(plane))

    def backward(ctx, g):
        return GatherFlat.apply(g, idx=ctx.idx)


class UnpoolScatter(ArrayFunction):
    """max_unpool: out (N, C, *plane) zero but for src written at its per-plane flat indices;
    a repeated index keeps the value written last (torch assigns, it does not add). The
    gradient gathers at the indices (every writer gets it, as in torch)."""

    def forward(ctx, src, *, idx, plane):
        ctx.idx, ctx.dims = idx, len(plane)
        N, C = src.shape[:2]
        P = math.prod(plane)
        flat = (np.arange(N * C, dtype=np.int64).reshape(N, C, *([1] * (idx.ndim - 2))) * P
                + idx).ravel()
        out = np.zeros(N * C * P, src.dtype)
        out[flat] = src.ravel()
        return out.reshape((N, C) + tuple(plane))

    def backward(ctx, g):
        return GatherFlat.apply(g, idx=ctx.idx)

    def name(self):
        return f"MaxUnpool{max(self.dims, 2)}DBackward0"


class GatherFlat(ArrayFunction):
    """out[n, c, ...] = x[n, c].flat[idx[n, c, ...]] (max pooling's selection); the gradient
    scatters."""

    def forward(ctx, x, *, idx):
        ctx.idx = idx
        ctx.plane = x.shape[2:]
        N, C = x.shape[:2]
        out = np.take_along_axis(x.reshape(N, C, math.prod(x.shape[2:])),
                                 idx.reshape(N, C, idx[0, 0].size if idx.size else 0), axis=2)
        return out.reshape(idx.shape)

    def backward(ctx, g):
        return ScatterFlat.apply(g, idx=ctx.idx, plane=ctx.plane)


# ---------------------------------------------------------------------------------------------
# Geometry and torch's argument checks

_WORDS = {1: "one", 2: "two", 3: "three"}


def _tuple(v, D, name, fn):
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return (int(v[0]),) * D
        if len(v) != D:
            if fn == "max_pool1d":
                raise RuntimeError(f"max_pool1d() {name} must be an int, list of ints or tuple "
                                   f"of ints of size 1 but got size {len(v)}")
            either = "" if fn == "avg_pool3d" and name == "kernel_size" else "either "
            raise RuntimeError(f"{fn}: {name} must {either}be a single int, or a tuple of "
                               f"{_WORDS[D]} ints")
        return tuple(int(i) for i in v)
    return (int(v),) * D


def _pool_out(L, k, s, p, d, ceil_mode):
    num = L + 2 * p - d * (k - 1) - 1
    o = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (o - 1) * s >= L + p:
        o -= 1   # the last window must start inside the input or the left padding
    return o


def _batched(input, D, fn):
    """(unbatched, 4-D/5-D input) with torch's rank and empty-dim errors, which differ by
    function: max_pool1d has its own kernel, the 2-D kernels share one message."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    rank_ok = input.dim() in (D + 1, D + 2)
    empty = rank_ok and (any(s == 0 for s in input.shape[-D:]) or (
        input.dim() == D + 2 and input.shape[1] == 0))
    if not rank_ok or empty:
        kinds = {1: "2D or 3D", 2: "3D or 4D", 3: "4D or 5D"}[D]
        got = f"tensor with optional 0 dim batch size for input, but got:{list(input.shape)}"
        if fn == "max_pool1d":
            raise RuntimeError(f"max_pool1d: Expected {kinds} (batch mode) {got}")
        if D == 2 and (empty or fn == "avg_pool2d"):
            raise RuntimeError(f"Expected {kinds} (batch mode) {got}")
        if D == 3 and empty:   # torch names dimension 0 whichever is empty
            where = "avg_pool3d" if fn == "avg_pool3d" else \
                "max_pool3d_with_indices_out_cpu_template"
            raise RuntimeError(f"{where}(): Expected input's non-batch dimensions to have "
                               f"positive length, but input has a shape of "
                               f"{list(input.shape)} and non-batch dimension 0 has length zero!")
        raise RuntimeError(f"non-empty {kinds} (batch mode) tensor expected for input")
    if input.dim() == D + 1:
        return True, input.unsqueeze(0)
    return False, input


def _geometry(x, D, kernel_size, stride, padding, dilation, ceil_mode, fn):
    k = _tuple(kernel_size, D, "kernel_size", fn)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _tuple(stride, D, "stride", fn)
    p = _tuple(padding, D, "padding", fn)
    d = _tuple(dilation, D, "dilation", fn)
    if fn == "max_pool1d":   # its own kernel, its own messages
        for what, v, ok in (("kernel_size", k[0], k[0] > 0), ("stride", s[0], s[0] > 0),
                            ("padding", p[0], p[0] >= 0), ("dilation", d[0], d[0] > 0)):
            if not ok:
                rule = "non-negative" if what == "padding" else "greater than zero"
                raise RuntimeError(f"max_pool1d() {what} must be {rule}, but got {v}")
        if p[0] > k[0] // 2:
            raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, "
                               f"but got padding={p[0]} and kernel_size={k[0]}")
        out = (_pool_out(x.shape[2], k[0], s[0], p[0], d[0], ceil_mode),)
        if out[0] <= 0:
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {out[0]}")
        return k, s, p, d, out
    names = "THW"[3 - D:]
    if any(i == 0 for i in s):
        raise RuntimeError("stride should not be zero")
    if any(i <= 0 for i in k):
        raise RuntimeError("kernel size should be greater than zero, but got " +
                           " ".join(f"k{n}: {v}" for n, v in zip(names, k)))
    if any(i < 0 for i in s):
        raise RuntimeError("stride should be greater than zero, but got " +
                           " ".join(f"d{n}: {v}" for n, v in zip(names, s)))
    if any(i <= 0 for i in d):
        raise RuntimeError("dilation should be greater than zero, but got " +
                           " ".join(f"dilation{n}: {v}" for n, v in zip(names, d)))
    for i in range(D):
        if p[i] < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p[i]}")
        if p[i] * 2 > d[i] * (k[i] - 1) + 1:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p[i]}, kernel_size={k[i]} and dilation={d[i]}")
    L = x.shape[2:]
    if fn == "avg_pool3d" and any(L[i] + 2 * p[i] < k[i] for i in range(D)):
        raise RuntimeError(f"input image (T: {L[0]} H: {L[1]} W: {L[2]}) smaller than kernel "
                           f"size (kT: {k[0]} kH: {k[1]} kW: {k[2]})")
    out = tuple(_pool_out(L[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(D))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated "
                           f"output size: ({'x'.join(map(str, (x.shape[1],) + out))}). Output "
                           f"size is too small")
    return k, s, p, d, out


# ---------------------------------------------------------------------------------------------
# Max pooling

def _pool_pads(L, k, s, p, d, out):
    """(lo, hi) padding per spatial dim: `p` each side, more on the right for ceil_mode
    windows that hang over the edge."""
    return tuple((p[i], max(p[i], (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - L[i] - p[i]))
                 for i in range(len(k)))


def _window_view(xp, k, s, d, out, writeable=False):
    """Strided view (N, C, *out, *k) of every window of the padded xp: no copy."""
    D = len(k)
    st = xp.strides
    return as_strided(xp, xp.shape[:2] + out + k,
                      st[:2] + tuple(st[2 + i] * s[i] for i in range(D))
                      + tuple(st[2 + i] * d[i] for i in range(D)), writeable=writeable)


def _window_max(x, k, s, p, d, out):
    """Window maxima (N, C, *out) and the kernel position (0..K-1, row-major) of each, as
    torch picks it: the first maximum wins ties, a NaN wins (the last NaN, as torch's
    `val > max || isnan(val)` scan). One pass per kernel position over output-sized strided
    views - never a copy of the (N, C, *out, K) windows. The scan's last update is its largest
    position, so the index is a running maximum of j where tap j updates (no masked writes).
    NaN-aware updates cost two more passes per tap: they run only when a maximum is NaN."""
    fill = -np.inf if x.dtype.kind == "f" or x.dtype.name == "bfloat16" else (
        np.iinfo(x.dtype).min if x.dtype.kind in "iu" else False)
    pads = _pool_pads(x.shape[2:], k, s, p, d, out)
    xp = np.pad(x, ((0, 0), (0, 0)) + pads, constant_values=fill) if any(map(any, pads)) else x
    win = _window_view(xp, k, s, d, out)
    kdt = np.int8 if math.prod(k) <= 127 else np.int32

    def scan(nan_aware):
        best = kidx = upd = None
        for j, kpos in enumerate(np.ndindex(*k)):
            v = win[(Ellipsis,) + kpos]
            if best is None:
                best, kidx, upd = v.copy(), np.zeros(v.shape, kdt), np.empty(v.shape, kdt)
                continue
            np.greater(v, best, out=upd)
            if nan_aware:
                upd |= np.isnan(v)
            np.maximum(best, v, out=best)   # NaN propagates, as the scan keeps a NaN
            upd *= kdt(j)
            np.maximum(kidx, upd, out=kidx)
        return best, kidx

    best, kidx = scan(False)
    if (x.dtype.kind == "f" or x.dtype.name == "bfloat16") and np.isnan(best).any():
        best, kidx = scan(True)
    return best, kidx


def _flat_indices(kidx, plane, k, s, p, d):
    """Per-plane flat input index (h*W + w) of each window's chosen kernel position:
    the window's corner index plus the kernel position's offset (a small lookup table)."""
    D = len(k)
    out = kidx.shape[2:]
    corner = np.zeros(out, np.int64)
    offset = np.zeros(k, np.int64)
    for i in range(D):
        shape = [1] * D
        shape[i] = out[i]
        corner = corner * plane[i] + (np.arange(out[i], dtype=np.int64) * s[i] - p[i]).reshape(shape)
        shape[i] = k[i]
        offset = offset * plane[i] + (np.arange(k[i], dtype=np.int64) * d[i]).reshape(shape)
    return corner + offset.ravel().take(kidx)


class MaxPool(ArrayFunction):
    """Window maxima, and their flat indices when asked for (`indices`, torch's
    return_indices); the gradient puts each output gradient back at its window's maximum
    (`WindowScatter`)."""

    def forward(ctx, x, *, k, s, p, d, out, name, indices):
        # torch's kernels take an unbatched (C, *spatial) input as it is (one node)
        ctx.unbatched = x.ndim == len(k) + 1
        if ctx.unbatched:
            x = x[None]
        vals, kidx = _window_max(x, k, s, p, d, out)
        ctx.geom, ctx.kidx = (k, s, p, d, x.shape[2:]), kidx
        ctx.op_name = name
        if not indices:
            return vals[0] if ctx.unbatched else vals
        idx = _flat_indices(kidx, x.shape[2:], k, s, p, d)
        ctx.mark_non_differentiable(idx)
        return (vals[0], idx[0]) if ctx.unbatched else (vals, idx)

    def backward(ctx, g, _=None):
        if ctx.unbatched:
            return WindowScatter.apply(g.unsqueeze(0), kidx=ctx.kidx, geom=ctx.geom).squeeze(0)
        return WindowScatter.apply(g, kidx=ctx.kidx, geom=ctx.geom)

    def name(self):
        return self.op_name + "Backward0"


class WindowScatter(ArrayFunction):
    """gx: each g[n, c, o] added at its window's kernel position kidx[n, c, o] - one masked add
    per kernel position into strided views of the padded gradient (windows may overlap). The
    gradient is a gather at the same positions, as flat indices."""

    def forward(ctx, g, *, kidx, geom):
        k, s, p, d, plane = geom
        ctx.kidx, ctx.geom = kidx, geom
        if is_half(g.dtype):
            return _window_scatter_half(g, kidx, geom)
        out = g.shape[2:]
        acc = _float_dtype(g.dtype)   # half types accumulate overlapping windows in float32
        gc = g.astype(acc, copy=False)
        pads = _pool_pads(plane, k, s, p, d, out)
        gxp = np.zeros(g.shape[:2] + tuple(plane[i] + sum(pads[i]) for i in range(len(k))), acc)
        win = _window_view(gxp, k, s, d, out, writeable=True)
        # g * mask is exact only for finite g (NaN * 0 is NaN): else a masked add
        finite = gc.dtype.kind != "f" or bool(np.isfinite(gc).all())
        overlap = any(s[i] < d[i] * (k[i] - 1) + 1 for i in range(len(k)))
        for j, kpos in enumerate(np.ndindex(*k)):
            dst = win[(Ellipsis,) + kpos]
            mask = kidx == j
            if not finite:
                np.add(dst, gc, out=dst, where=mask)
            elif overlap:
                dst += gc * mask
            else:   # each position belongs to one window: write, no accumulation
                np.multiply(gc, mask, out=dst)
        gx = gxp[(slice(None), slice(None)) + tuple(slice(p[i], p[i] + plane[i])
                                                     for i in range(len(k)))]
        return np.ascontiguousarray(gx).astype(g.dtype, copy=False)

    def backward(ctx, gg):
        k, s, p, d, plane = ctx.geom
        return GatherFlat.apply(gg, idx=_flat_indices(ctx.kidx, plane, k, s, p, d))


def _window_scatter_half(g, kidx, geom):
    """WindowScatter for half types, as torch's backward kernel: each output's gradient added
    at its window's maximum in the half type, rounding each sum, outputs in order (for one
    input position, the order of the kernel positions reversed)."""
    k, s, p, d, plane = geom
    dt, out = g.dtype, g.shape[2:]
    gf = g.astype(_F32)
    pads = _pool_pads(plane, k, s, p, d, out)
    gxp = np.zeros(g.shape[:2] + tuple(plane[i] + sum(pads[i]) for i in range(len(k))), _F32)
    win = _window_view(gxp, k, s, d, out, writeable=True)
    for j, kpos in reversed(list(enumerate(np.ndindex(*k)))):
        mask = kidx == j
        if mask.any():
            dst = win[(Ellipsis,) + kpos]
            np.copyto(dst, _round(dst + gf, dt), where=mask)
    gx = gxp[(slice(None), slice(None)) + tuple(slice(p[i], p[i] + plane[i])
                                                 for i in range(len(k)))]
    return gx.astype(dt)


def _max_pool(D, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    # torch's max_pool1d without indices is a kernel of its own (own messages, floats only)
    fn = f"max_pool{D}d" if D > 1 or not return_indices else "max_pool1d_with_indices"
    _, x = _batched(input, D, fn)   # (x: batched, for the geometry checks)
    k, s, p, d, out = _geometry(x, D, kernel_size, stride, padding, dilation, ceil_mode, fn)
    if fn == "max_pool1d" and not (x.is_floating_point() or x.is_complex()):
        raise NotImplementedError(f'"max_pool1d_impl" not implemented for '
                                  f"'{_scalar_name(x)}'")
    if x._data.dtype == np.bool_:
        raise NotImplementedError(f'"max_pool{max(D, 2)}d" not implemented for \'Bool\'')
    if D == 1:   # as torch: the 2-D kernel over (N, C, 1, L) or (C, 1, L), between
        # unsqueeze and squeeze
        res = MaxPool.apply(input.unsqueeze(-2), k=(1,) + k, s=(1,) + s, p=(0,) + p,
                            d=(1,) + d, out=(1,) + out,
                            name="MaxPool2DWithIndices", indices=return_indices)
        return tuple(r.squeeze(-2) for r in res) if return_indices else res.squeeze(-2)
    # (an unbatched (C, *spatial) input goes to the kernel as it is: one node, as in torch)
    return MaxPool.apply(input, k=k, s=s, p=p, d=d, out=out, name=f"MaxPool{D}DWithIndices",
                         indices=return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, L); return_indices gives flat positions in L."""
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of (N, C, H, W); padding (at most half the kernel) is -inf; with
    ceil_mode the last window may hang over the edge but must start inside. Indices are h*W+w."""
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of (N, C, D, H, W)."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---------------------------------------------------------------------------------------------
# Fractional max pooling: k-sized windows whose starts advance by a pseudo-random step

def _fractional_starts(u, L, out, k):
    """Window starts (N, C, out) along one dim from the per-plane samples u (N, C) in [0, 1):
    start_i = int((i + u) * a) - int(u * a) with a = (L - k) / (out - 1), the last one L - k.
    Computed in u's dtype one rounding per operation as torch's kernel does: the truncations
    depend on it. int() truncates toward zero."""
    dt = u.dtype.type
    starts = np.empty(u.shape + (out,), np.int64)
    if out > 1:
        a = dt(L - k) / dt(out - 1)
        i = np.arange(out - 1).astype(u.dtype)
        starts[..., :-1] = ((i + u[..., None]) * a).astype(np.int64) - \
            (u * a).astype(np.int64)[..., None]
    if out > 0:
        starts[..., -1] = L - k
    return starts


class FractionalMaxPool(ArrayFunction):
    """Max over windows (N, C, *out) of size k starting at `starts` (one (N, C, out_i) array per
    dim): one gather per kernel position. Ties keep the first maximum, a NaN replaces the
    running maximum (so the last NaN wins); an empty window (k <= 0) gives -inf at its start.
    The gradient goes back to the chosen flat indices (ScatterFlat)."""

    def forward(ctx, x, *, starts, k, name):
        ctx.unbatched = x.ndim == len(k) + 1   # (C, *L): one plane set, no squeeze node after
        if ctx.unbatched:
            x = x[None]
        N, C = x.shape[:2]
        plane = x.shape[2:]
        D = len(k)
        out = tuple(st.shape[2] for st in starts)
        corner = np.zeros((N, C) + out, np.int64)   # flat index of each window's first element
        for i in range(D):
            shape = [N, C] + [1] * D
            shape[2 + i] = out[i]
            corner = corner * plane[i] + starts[i].reshape(shape)
        xf = x.reshape(N, C, math.prod(plane))
        best = np.full((N, C) + out, -np.inf, x.dtype)
        idx = corner.copy()
        floating = x.dtype.kind == "f" or x.dtype.name == "bfloat16"
        for kpos in np.ndindex(*(max(j, 0) for j in k)):
            off = 0
            for i in range(D):
                off = off * plane[i] + kpos[i]
            pos = corner + off
            v = np.take_along_axis(xf, pos.reshape(N, C, math.prod(out)), axis=2).reshape(
                pos.shape)
            upd = v > best
            if floating:
                upd |= np.isnan(v)
            best = select(upd, v, best)
            idx = select(upd, pos, idx)
        ctx.idx, ctx.plane, ctx.op_name = idx, plane, name
        if ctx.unbatched:
            best, idx = best[0], idx[0]
        ctx.mark_non_differentiable(idx)
        return best, idx

    def backward(ctx, g, _):
        if ctx.unbatched:
            return ScatterFlat.apply(g.unsqueeze(0), idx=ctx.idx, plane=ctx.plane).squeeze(0)
        return ScatterFlat.apply(g, idx=ctx.idx, plane=ctx.plane)

    def name(self):
        return self.op_name + "Backward0"


def _int_list(v, D, arg, pos, fn, what):
    """torch's int[D] argument: an int repeats; a sequence must hold exactly D ints."""
    if isinstance(v, bool) or not isinstance(v, (int, list, tuple)):
        raise TypeError(f"{fn}(): argument '{arg}' (position {pos}) must be tuple of ints, not "
                        f"{type(v).__name__}")
    if isinstance(v, int):
        return (v,) * D
    for j, e in enumerate(v):
        if not isinstance(e, int) or isinstance(e, bool):
            raise TypeError(f"{fn}(): argument '{arg}' (position {pos}) must be tuple of ints, "
                            f"but found element of type {type(e).__name__} at pos {j}")
    if len(v) != D:
        raise RuntimeError(f"{fn}: {arg} must either be a single Int or tuple of {what}")
    return tuple(v)


_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _fractional_max_pool(D, input, kernel_size, output_size, output_ratio, return_indices,
                         _random_samples):
    fn = f"fractional_max_pool{D}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{fn} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if D == 2 and len(output_ratio) > 2:
            raise ValueError(f"{fn} requires output_ratio to either be a single Int or tuple of "
                             "Ints.")
        ratio = output_ratio if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * D
        output_size = [int(input.size(-D + i) * ratio[i]) for i in range(D)]
    if _random_samples is None:
        from ember._ops.random import rand
        n_batch = 1 if input.dim() == D + 1 else input.size(0)
        _random_samples = rand(n_batch, input.size(-D - 1), D, dtype=input.dtype)
    what = "Ints" if D == 2 else "three Ints"
    k = _int_list(kernel_size, D, "kernel_size", 2, fn, what)
    out = _int_list(output_size, D, "output_size", 3, fn, what)
    where = f"{fn}()" if D == 2 else f"{fn}_out()"
    if input.dim() not in (D + 1, D + 2):
        raise RuntimeError(f"{where}: Expected {D + 1}D or {D + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    for i in range(1, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(f"{where}: Expected input to have non-zero size for non-batch "
                               f"dimensions, but got{list(input.shape)} with dimension {i} being "
                               "empty.")
    for i, dim_name in enumerate(_DIM_NAMES[D]):
        L = input.shape[input.dim() - D + i]
        # torch's 3-D check is strict (a window may not end on the last element): kept
        if out[i] + k[i] - 1 > L - (D == 3):
            raise RuntimeError(f"{where}: pool {dim_name} {k[i]} too large relative to input "
                               f"{dim_name} {L}")
    samples = _random_samples
    if samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.dim() != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.dim()}")
    N, C = (1,) + input.shape[:1] if input.dim() == D + 1 else input.shape[:2]
    if samples.shape[0] < N:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != C:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.shape[2] != D:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {D}; got "
                           f"{samples.shape[2]}.")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{fn}_out_frame" not implemented for '
                                  f"'{_scalar_name(input)}'")
    u = samples._data[:N]
    # sample d sizes the windows along dim D-1-d for 2-D (width first), dim d for 3-D
    order = (1, 0) if D == 2 else (0, 1, 2)
    spatial = input.shape[-D:]
    starts = [_fractional_starts(u[:, :, order[i]], spatial[i], out[i], k[i])
              for i in range(D)]
    vals, idx = FractionalMaxPool.apply(input, starts=starts, k=k,
                                        name=f"FractionalMaxPool{D}D")
    return (vals, idx) if return_indices else vals


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Max over k x k windows of (N, C, H, W) placed at pseudo-random fractional strides so
    that the output is output_size (or output_ratio * input size). `_random_samples`
    (N, C, 2) in [0, 1), input's dtype, fixes the placement: [..., 0] for the width, [..., 1]
    for the height. Indices are flat h*W+w per plane."""
    return _fractional_max_pool(2, input, kernel_size, output_size, output_ratio,
                                return_indices, _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Fractional max pooling of (N, C, T, H, W); `_random_samples` (N, C, 3) places the
    windows along T, H, W in that order."""
    return _fractional_max_pool(3, input, kernel_size, output_size, output_ratio,
                                return_indices, _random_samples)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional_max_pool(2, input, kernel_size, output_size, output_ratio, True,
                                _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional_max_pool(3, input, kernel_size, output_size, output_ratio, True,
                                _random_samples)


# ---------------------------------------------------------------------------------------------
# Average pooling

def _avg_matrix(L, k, s, p, out, count_include_pad, divisor_override):
    """A (out, L): row o averages input positions [o*s - p, o*s - p + k) inside the input."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, L + p)
    lo, hi = np.maximum(start, 0), np.minimum(end, L)
    if divisor_override:
        vals = np.ones(out)
    else:
        vals = 1.0 / (end - start if count_include_pad else hi - lo)
    return _ranges(out, L, lo, hi, vals)


def _avg_pool(D, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    """An unbatched (C, *spatial) input goes to the kernel as it is: one node, as in torch."""
    fn = f"avg_pool{D}d"
    _, x = _batched(input, D, fn)   # (x: batched, for the geometry checks)
    k, s, p, _, out = _geometry(x, D, kernel_size, stride, padding, 1, ceil_mode, fn)
    # torch's kernels: floats and int64 (avg_pool3d: no half types either)
    dt = x._data.dtype
    if dt != np.int64 and (dt.kind not in "fV" or (D == 3 and dt.itemsize == 2)):
        kernel = "avg_pool3d_out_frame" if D == 3 else "avg_pool2d"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_scalar_name(x)}\'')
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if is_half(dt):
        return _avg_pool_half(input, x.shape[2:], k, s, p, out, count_include_pad,
                              divisor_override, f"AvgPool{max(D, 2)}D")
    mats = [_avg_matrix(x.shape[2 + i], k[i], s[i], p[i], out[i], count_include_pad,
                        divisor_override) for i in range(D)]
    if divisor_override:
        mats[0] = mats[0] / divisor_override
    return Separable.apply(input, mats=mats, name=f"AvgPool{max(D, 2)}D")


def _avg_pool_half(input, L, k, s, p, out, count_include_pad, divisor_override, name):
    """avg_pool for half types (HalfWindowMean): torch's windows, clipped to the input, and
    its divisor (the override, or the window's size within input and padding, or within the
    input alone)."""
    lo, hi, size = [], [], None
    for i in range(len(k)):
        start = np.arange(out[i]) * s[i] - p[i]
        end = np.minimum(start + k[i], L[i] + p[i])
        lo.append(np.maximum(start, 0))
        hi.append(np.minimum(end, L[i]))
        n = end - start if count_include_pad else hi[i] - lo[i]
        size = n if size is None else np.multiply.outer(size, n)
    div = size if divisor_override is None else np.int64(divisor_override)
    return HalfWindowMean.apply(input, lo=lo, hi=hi, divs=[div], name=name)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over windows of (N, C, L); count_include_pad counts zero padding in the divisor.
    Runs as avg_pool2d over (N, C, 1, L), as torch does (so its errors name that shape)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"avg_pool1d(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor "
                           "for argument #1 'self' (while checking arguments for avg_pool1d)")

    def one(v, name):
        if isinstance(v, (list, tuple)):
            if len(v) != 1:
                raise RuntimeError(f"avg_pool1d() argument '{name}' should contain one int (got "
                                   f"{len(v)})")
            return int(v[0])
        return int(v)
    k = one(kernel_size, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        one(stride, "stride")
    y = _avg_pool(2, input.unsqueeze(-2), (1, k), (1, s), (0, one(padding, "padding")),
                  ceil_mode, count_include_pad, None)
    return y.squeeze(-2)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over windows of (N, C, H, W). With ceil_mode, windows hanging past the padded edge
    divide by their size inside input+padding; divisor_override replaces the divisor."""
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over windows of (N, C, D, H, W)."""
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# ---------------------------------------------------------------------------------------------
# Adaptive pooling: window i covers [floor(i*L/out), ceil((i+1)*L/out))

def _adaptive_bounds(L, out):
    i = np.arange(out)
    return (i * L) // out, -((-(i + 1) * L) // out)


def _adaptive_matrix(L, out):
    lo, hi = _adaptive_bounds(L, out)
    return _ranges(out, L, lo, hi, 1.0 / (hi - lo))


def _adaptive_size(x, D, output_size, fn):
    """The output size, None entries keeping the input's size (not for the 1-D forms, whose
    argument is a tuple of ints), with torch's errors."""
    if D == 1:
        arg = f"{fn}(): argument 'output_size' (position 2) must be tuple of ints"
        if isinstance(output_size, (list, tuple)):
            for i, sz in enumerate(output_size):
                if not isinstance(sz, int):
                    raise TypeError(f"{arg}, but found element of type {type(sz).__name__} at "
                                    f"pos {i}")
            sizes = output_size
        elif isinstance(output_size, int):
            sizes = (output_size,)
        else:
            raise TypeError(f"{arg}, not {type(output_size).__name__}")
        if len(sizes) != 1:
            raise RuntimeError(f"{fn}() argument 'output_size' should contain one int (got "
                               f"{len(sizes)})")
    else:
        sizes = output_size if isinstance(output_size, (list, tuple)) else \
            (output_size,) * D if isinstance(output_size, int) else None
        if sizes is None:   # torch takes len() of anything but an int
            raise TypeError(f"object of type '{type(output_size).__name__}' has no len()")
        if len(sizes) != D:
            raise RuntimeError(f"{fn}: output_size must be {D}" if "avg" in fn else
                               f"{fn}(): internal error: output_size.size() must be {D}")
    out = tuple(x.shape[-D + i] if sz is None else int(sz) for i, sz in enumerate(sizes))
    if any(o < 0 for o in out):
        if "avg" in fn:
            listed = (f"1, {out[0]}" if D == 1 else ", ".join(map(str, out)) if D == 2 else
                      f"{out[0]}, {out[1]},{out[2]}")   # 1-D runs as 2-D; torch's spacing
            raise RuntimeError(f"adaptive_avg_pool{max(D, 2)}d: elements of output_size must be "
                               f"greater than or equal to 0 but received {{{listed}}}")
        lead = list(x.shape[:-D]) if x.dim() == D + 2 else [1] + list(x.shape[:-D])
        shape = lead + ([1] if D == 1 else []) + list(out)
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(out)}: {shape}")
    return out


def _check_adaptive(input, D, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dim() not in (D + 1, D + 2):
        if D == 1:
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional "
                               f"tensor for argument #1 'self' (while checking arguments for "
                               f"{fn})")
        colon = ":" if "max" in fn else ""
        raise RuntimeError(f"{fn}(): Expected {D + 1}D or {D + 2}D tensor, but got{colon} "
                           f"{list(input.shape)}")
    # torch's adaptive average pools of 1-D/2-D accept empty channels; the others do not
    first = input.dim() - D if "avg" in fn and D < 3 else 1
    for i in range(first, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {i} being empty")
    if input.dtype.is_floating_point is False:
        kernel = fn.replace("1d", "2d") + ("_cpu" if D == 3 else "")
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_scalar_name(input)}'")


def _scalar_name(t):
    return t.dtype._legacy   # torch's scalar-type name: Float, Long, Byte ...


def _adaptive_avg(D, input, output_size):
    fn = f"adaptive_avg_pool{D}d"
    _check_adaptive(input, D, fn)
    out = _adaptive_size(input, D, output_size, fn)
    if all(o == 1 for o in out) and input.numel():   # torch: a mean over the window dims
        x = input.unsqueeze(-2) if D == 1 else input
        dims = tuple(range(x.dim() - max(D, 2), x.dim()))
        y = x.mean(dims, keepdim=True)
        return y.squeeze(-2) if D == 1 else y
    if is_half(input._data.dtype):
        return _adaptive_avg_half(input, D, out)
    mats = [_adaptive_matrix(input.shape[-D + i], out[i]) for i in range(D)]
    if D == 1:   # as torch: the 2-D kernel over (.., 1, L), between unsqueeze and squeeze
        return Separable.apply(input.unsqueeze(-2), mats=[None] + mats,
                               name="AdaptiveAvgPool2D").squeeze(-2)
    return Separable.apply(input, mats=mats, name=f"AdaptiveAvgPool{D}D")


def _adaptive_avg_half(input, D, out):
    """adaptive_avg_pool for half types (HalfWindowMean): the window sum divided by its size
    along each dim in turn; torch's 2-D pool to a 1 x 1 output is a mean (one division, in
    float32 for the gradient too); the 3-D pool sums in the half type. 1-D runs as 2-D
    over (.., 1, L), as in torch."""
    x = input.unsqueeze(-2) if D == 1 else input
    L = x.shape[-max(D, 2):]
    out = (1,) + tuple(out) if D == 1 else tuple(out)
    bounds = [_adaptive_bounds(L[i], out[i]) for i in range(len(out))]
    lo, hi = [b[0] for b in bounds], [b[1] for b in bounds]
    sizes = [(h - l).reshape((-1,) + (1,) * (len(out) - 1 - i))
             for i, (l, h) in enumerate(bounds)]
    mean = len(out) == 2 and out == (1, 1)
    y = HalfWindowMean.apply(x, lo=lo, hi=hi, divs=[math.prod(L)] if mean else sizes,
                             half_divs=not mean, half_sum=D == 3,
                             name=f"AdaptiveAvgPool{max(D, 2)}D")
    return y.squeeze(-2) if D == 1 else y


def adaptive_avg_pool1d(input, output_size):
    """Mean over L split into output_size nearly equal (possibly overlapping) windows."""
    return _adaptive_avg(1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Adaptive mean pooling of (N, C, H, W) or (C, H, W); None in output_size keeps a dim."""
    return _adaptive_avg(2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg(3, input, output_size)


class AdaptiveMaxPool(ArrayFunction):
    """Max over adaptive windows: windows padded to the largest size by repeating their last
    element (the max is unchanged), gathered with one fancy index, then argmax."""

    def forward(ctx, x, *, out, name):
        D = len(out)
        ctx.unbatched = x.ndim == D + 1   # (C, *spatial): one node, as torch's kernel
        if ctx.unbatched:
            x = x[None]
        L = x.shape[2:]
        N, C = x.shape[:2]
        flat = np.zeros((N, C) + out, np.int64)
        kmax = []
        grids = []
        for i in range(D):
            lo, hi = _adaptive_bounds(L[i], out[i])
            km = int((hi - lo).max())
            pos = np.minimum(lo[:, None] + np.arange(km)[None, :], hi[:, None] - 1)  # (o, km)
            grids.append(pos)
            kmax.append(km)
        # positions (o_1.., k_1..) -> flat per-plane index
        pos_flat = np.zeros(tuple(out) + tuple(kmax), np.int64)
        for i in range(D):
            shape = [1] * (2 * D)
            shape[i], shape[D + i] = out[i], kmax[i]
            pos_flat = pos_flat * L[i] + grids[i].reshape(shape)
        pos_flat = pos_flat.reshape(tuple(out) + (-1,))
        xf = x.reshape(N, C, -1)
        win = xf[:, :, pos_flat]                              # (N, C, *out, K)
        kidx = np.argmax(win, axis=-1)
        flat = np.take_along_axis(np.broadcast_to(pos_flat, (N, C) + pos_flat.shape),
                                  kidx[..., None], axis=-1)[..., 0]
        vals = np.take_along_axis(win, kidx[..., None], axis=-1)[..., 0]
        ctx.idx, ctx.plane, ctx.op_name = flat, L, name
        if ctx.unbatched:
            vals, flat = vals[0], flat[0]
        ctx.mark_non_differentiable(flat)
        return vals, flat

    def backward(ctx, g, _):
        if ctx.unbatched:
            return ScatterFlat.apply(g.unsqueeze(0), idx=ctx.idx, plane=ctx.plane).squeeze(0)
        return ScatterFlat.apply(g, idx=ctx.idx, plane=ctx.plane)

    def name(self):
        return self.op_name + "Backward0"


def _adaptive_max(D, input, output_size, return_indices):
    fn = f"adaptive_max_pool{D}d"
    _check_adaptive(input, D, fn)
    out = _adaptive_size(input, D, output_size, fn)
    if D == 1:   # as torch: the 2-D kernel over (N, C, 1, L) or (C, 1, L), between unsqueeze
        # and squeeze
        vals, idx = AdaptiveMaxPool.apply(input.unsqueeze(-2), out=(1,) + tuple(out),
                                          name="AdaptiveMaxPool2D")
        vals, idx = vals.squeeze(-2), idx.squeeze(-2)
    else:   # (an unbatched input goes to the kernel as it is: one node, as in torch)
        vals, idx = AdaptiveMaxPool.apply(input, out=out, name=f"AdaptiveMaxPool{D}D")
    return (vals, idx) if return_indices else vals


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max(1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Adaptive max pooling; indices are flat positions h*W+w in each plane."""
    return _adaptive_max(2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max(3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return _adaptive_max(1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return _adaptive_max(2, input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return _adaptive_max(3, input, output_size, True)


# ---------------------------------------------------------------------------------------------
# Max unpooling and power-average pooling

def _max_unpool(D, input, indices, kernel_size, stride, padding, output_size):
    fn = f"max_unpool{D}d"
    k = _tuple(kernel_size, D, "kernel_size", fn)
    s = k if stride is None else _tuple(stride, D, "stride", fn)
    p = _tuple(padding, D, "padding", fn)
    unbatched = input.dim() == D + 1
    x = input.unsqueeze(0) if unbatched else input
    idx = indices.unsqueeze(0) if unbatched else indices
    default = tuple((x.shape[2 + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(D))
    if output_size is None:
        out = default
    else:
        out = tuple(int(o) for o in output_size)[-D:]
        for i in range(D):
            lo, hi = default[i] - s[i], default[i] + s[i]
            if not lo < out[i] < hi:
                raise ValueError(f"invalid output_size \"{list(output_size)}\" (dim {i} must be "
                                 f"between {lo} and {hi})")
    if idx.shape != x.shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(x.shape)}) but got indices tensor with shape: "
                           f"{list(idx.shape)}")
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f'"max_unpool{max(D, 2)}d" not implemented for '
                                  f"'{_scalar_name(x)}'")
    ia = idx._data
    P = math.prod(out)
    bad = (ia < 0) | (ia >= P)
    if bad.any():   # the first bad index in memory order; 1-D runs as 2-D (L x 1)
        dims = out + (1,) if D == 1 else out
        raise RuntimeError(f"Found an invalid max index: {int(ia[bad].reshape(-1)[0])} (output "
                           f"volumes are of size {'x'.join(map(str, dims))})")
    y = UnpoolScatter.apply(x, idx=ia, plane=out)
    return y.squeeze(0) if unbatched else y


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool2d: values written at their flat indices, zeros elsewhere."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


def _lp_pool(D, input, norm_type, kernel_size, stride, ceil_mode):
    k = _tuple(kernel_size, D, "kernel_size", f"lp_pool{D}d")
    avg = (avg_pool1d, avg_pool2d, avg_pool3d)[D - 1]
    if stride is not None:
        out = avg(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = avg(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    # torch: (sign(out) * relu(|out|)) * K, then the 1/p power
    return (out.sign() * out.abs().relu()).mul(math.prod(k)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over windows of x^p)^(1/p)."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)
