"""Statistics, distances and finite differences: diff, gradient, dist, cdist's kernels, pdist,
pairwise_distance, cosine_similarity, cov, corrcoef, trapezoid (trapz), cumulative_trapezoid,
renorm.

dist, cdist and renorm are nodes of their own as in torch (DistBackward0; CdistBackward0 or
EuclideanDistBackward0; RenormBackward0), with backwards in Tensor ops; the rest are
compositions of differentiable Tensor ops (as torch writes them), so every order of gradient
comes from the ops they are built of; this file holds torch's argument checks and dtype rules.
"""
import math

import numpy as np

from ember import _dtype
from ember._ops.linalg_decomp import _pnorm, vector_norm_grad
from ember._ops.pointwise import scalar_overload
from ember._ops.reduction import _const, _name, _norm_backward, _out
from ember._ops._helpers import is_half, not_a_tensor
from ember._tensor import Tensor, _wrap_dim
from ember.autograd.function import ArrayFunction, rename_result
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["diff", "gradient", "dist", "cov", "corrcoef", "trapezoid", "trapz",
           "cumulative_trapezoid", "renorm", "cosine_similarity", "pairwise_distance", "pdist"]


# comes from the ops they are built of.

def _int_arg(fn, name, value, pos=None):
    """torch's parser for an `int` argument: bool, float and tuples are TypeErrors."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        where = f" (position {pos})" if pos else ""
        raise TypeError(f"{fn}(): argument '{name}'{where} must be int, not "
                        f"{type(value).__name__}")
    return int(value)


def _number_arg(fn, name, value, pos):
    """A Scalar argument: a Python number or a one-element tensor, as a Python number."""
    if isinstance(value, Tensor) and value._data.size == 1:
        return value.item()
    if isinstance(value, (bool, int, float, complex, np.number, np.bool_)):
        return value
    raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Number, not "
                    f"{type(value).__name__}")


def _along(t, d, start, stop=None):
    """t[..., start:stop, ...] on dim d (a view; Python's clamping, as torch's slice)."""
    return t[(slice(None),) * d + (slice(start, stop),)]


def _diff_check(input, other, d, name):
    if other is None:
        return
    if not isinstance(other, Tensor):
        raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(other).__name__}")
    if other._data.ndim != input._data.ndim:
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    for i, (a, b) in enumerate(zip(input._data.shape, other._data.shape)):
        if i != d and a != b:
            raise RuntimeError(f"diff expects the shape of tensor to prepend or append to match "
                               f"that of input except along the differencing dimension; "
                               f"input.size({i}) = {a}, but got tensor.size({i}) = {b}")


def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """n-th forward difference along dim, out[i] = x[i+1] - x[i] applied n times, after
    concatenating prepend and append to the input along dim (with cat's type promotion).
    Bool inputs difference with logical_xor; once dim's size reaches 0 it stays 0. n=0 gives a
    copy of input (without prepend/append)."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    n, dim = _int_arg("diff", "n", n), _int_arg("diff", "dim", dim)
    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _wrap_dim(dim, input._data.ndim)
    _diff_check(input, prepend, d, "prepend")
    _diff_check(input, append, d, "append")
    if n == 0:     # torch checks prepend and append, then ignores them
        return _out(input.clone(), out)
    x = input
    if prepend is not None or append is not None:
        import ember
        x = ember.cat([t for t in (prepend, input, append) if t is not None], d)
    for _ in range(n):
        size = x._data.shape[d]
        if size == 0:
            break
        hi, lo = x.narrow(d, 1, size - 1), x.narrow(d, 0, size - 1)
        x = hi.logical_xor(lo) if x._data.dtype == np.bool_ else hi - lo
    return _out(x, out)


# ---------------------------------------------------------------------------------------------
# dist, cdist: p-norm distances, one node each as in torch

class Dist(ArrayFunction):
    """||a - b||_p over all elements (a, b broadcast), one node (DistBackward0) as torch: the
    value and subgradients of vector_norm of the difference (0 where the distance is 0, ties of
    the inf-norm share the gradient), and no gradient at all for p = 0, as torch."""

    def forward(ctx, a, b, *, p, dtype):
        ctx.p = p
        x = a.astype(dtype, copy=False) - b.astype(dtype, copy=False)
        if is_half(x.dtype):   # torch's norm accumulates the half types in float32
            r = _pnorm(x.astype(np.float32), p, tuple(range(x.ndim))).astype(x.dtype)
        else:
            r = _pnorm(x, p, tuple(range(x.ndim)))
        ctx.save_for_backward(a, b, r)
        return r

    def backward(ctx, g):
        if ctx.p == 0:
            return None, None
        a, b, r = ctx.saved_tensors
        x = a - b
        dims = tuple(range(x.dim()))
        if is_half(x._data.dtype):   # torch's norm_backward op by op (each rounded)
            gx = _norm_backward(x, r, g, ctx.p, dims)
        else:
            gx = vector_norm_grad(x, r, g, ctx.p, dims, False)
        return (gx if ctx.needs_input_grad[0] else None,
                -gx if ctx.needs_input_grad[1] else None)


def dist(input, other, p=2):
    """p-norm of input - other (broadcast): vector_norm's values and gradients (zero where the
    distance is zero); integer differences are refused as torch.norm refuses them."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input, "dist")
    if not isinstance(other, Tensor):
        raise not_a_tensor(other, "dist", "other", 2)
    p = _number_arg("dist", "p", p, 3)
    dt = _dtype.result_type_of((input, other))
    if not (dt.is_floating_point or dt.is_complex):
        input - other   # (bool operands: subtraction's own error first, as in torch)
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. "
                           f"Got {_name(dt)} instead.")
    if isinstance(p, (complex, np.complexfloating)):
        raise RuntimeError("linalg.vector_norm: Expected a non-complex scalar as the order of "
                           "norm.")
    p = float(p)
    if (p < 0 or p == np.inf) and not (input._data.size and other._data.size):
        try:
            empty = not math.prod(np.broadcast_shapes(input._data.shape, other._data.shape))
        except ValueError:   # (Dist.apply raises torch's broadcast error)
            empty = False
        if empty:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {p:g} norm on an empty "
                               f"tensor because the operation does not have an identity")
    return Dist.apply(input, other, p=p, dtype=dt.np)


def _cdist_rows(x1, x2, p):
    """The p-norms of x1[..., i, :] - x2[..., j, :] as an (..., P, R) array, batch dims
    broadcast; row blocks bound the (block, R, M) differences held at once."""
    batch = np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    P, R, M = x1.shape[-2], x2.shape[-2], x1.shape[-1]
    out = np.empty(batch + (P, R), x1.dtype)
    step = max(1, (1 << 21) // max(1, R * M * math.prod(batch)))
    b2 = x2[..., None, :, :]
    for i in range(0, P, step):
        d = x1[..., i:i + step, None, :] - b2
        if p in (1, 2):   # (in place: no more temporaries)
            d = np.multiply(d, d, out=d) if p == 2 else np.abs(d, out=d)
            s = d.sum(-1)
            out[..., i:i + step, :] = np.sqrt(s, out=s) if p == 2 else s
        else:
            out[..., i:i + step, :] = _pnorm(d, p, -1)
    return out


class Cdist(ArrayFunction):
    """cdist's differencing path, one node (CdistBackward0) as torch's _cdist_forward: the
    p-norms of the differences of the rows of x1 (..., P, M) and x2 (..., R, M), batch dims
    broadcast. Subgradients as torch's (pdist's): 0 where a distance is 0, 0 for a zero
    difference when p < 1, every element tying the inf-norm gets the whole gradient, none for
    p = 0 (zeros)."""

    def forward(ctx, x1, x2, *, p):
        ctx.p = p
        r = _cdist_rows(x1, x2, p)
        ctx.save_for_backward(x1, x2, r)
        return r

    def backward(ctx, g):
        x1, x2, r = ctx.saved_tensors
        if ctx.p == 0:
            return x1.new_zeros(x1.shape), x2.new_zeros(x2.shape)
        w = _row_norm_grad(x1.unsqueeze(-2) - x2.unsqueeze(-3), r, g, ctx.p)   # (.., P, R, M)
        return (w.sum(-2) if ctx.needs_input_grad[0] else None,
                -w.sum(-3) if ctx.needs_input_grad[1] else None)


class EuclideanDist(ArrayFunction):
    """cdist's matrix-product path for p = 2, one node (EuclideanDistBackward0) as torch's
    _euclidean_dist: sqrt(max(|x1_i|^2 + |x2_j|^2 - 2 x1_i . x2_j, 0)) for the rows of x1
    (..., P, M) and x2 (..., R, M) with the same batch dims; one GEMM, faster than differencing
    and less accurate for nearby rows. With s = g / d (0 where d = 0) the gradients are
    x1 * rowsum(s) - s @ x2 and x2 * colsum(s) - s^T @ x1."""

    def forward(ctx, x1, x2):
        dt = x1.dtype
        a, b = (x1, x2) if dt.itemsize > 2 else (x1.astype(np.float32), x2.astype(np.float32))
        r = np.matmul(a, np.swapaxes(b, -1, -2))    # (half types: in float32, rounded once)
        r *= -2
        r += np.einsum("...ij,...ij->...i", a, a)[..., :, None]
        r += np.einsum("...ij,...ij->...i", b, b)[..., None, :]
        np.maximum(r, 0, out=r)
        r = np.sqrt(r, out=r).astype(dt, copy=False)
        ctx.save_for_backward(x1, x2, r)
        return r

    def backward(ctx, g):
        x1, x2, r = ctx.saved_tensors
        zero = r == 0
        s = (g / r.masked_fill(zero, 1)).masked_fill(zero, 0)
        return (x1 * s.sum(-1, keepdim=True) - s @ x2 if ctx.needs_input_grad[0] else None,
                x2 * s.sum(-2).unsqueeze(-1) - s.mT @ x1 if ctx.needs_input_grad[1] else None)


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M) -> (..., P, R),
    batch dims broadcast.

    torch's two graphs: p = 2 with compute_mode 'use_mm_for_euclid_dist' (or the default
    '..._if_necessary' with P or R > 25), all sizes non-zero, takes the matrix-product path
    (EuclideanDistBackward0 then a view to the result's shape; batched inputs are first expanded
    to the common batch, made contiguous and viewed as (B, P, M)); anything else is one
    CdistBackward0 node straight on the inputs.
    """
    _cdist_checks(x1, x2, p, compute_mode)
    s1, s2 = x1._data.shape, x2._data.shape
    P, R, M = s1[-2], s2[-2], s1[-1]
    batch = _batch_shape(s1[:-2], s2[:-2])
    use_mm = p == 2 and (compute_mode == _CDIST_MODES[1] or
                         compute_mode == _CDIST_MODES[0] and (P > 25 or R > 25))
    if not use_mm or not (P and R and M and math.prod(batch)):
        if x1._data.dtype.itemsize == 2:   # (torch's differencing kernel has no half types)
            raise NotImplementedError(f"\"cdist\" not implemented for '{x1.dtype._legacy}'")
        return Cdist.apply(x1, x2, p=float(p))
    if len(s1) == 2 and len(s2) == 2:
        return EuclideanDist.apply(x1, x2).view(P, R)
    B = math.prod(batch)
    a = x1.expand(batch + (P, M)).contiguous().view(B, P, M)
    b = x2.expand(batch + (R, M)).contiguous().view(B, R, M)
    return EuclideanDist.apply(a, b).view(batch + (P, R))


def _batch_shape(a, b):
    """The broadcast of batch shapes a and b, with torch's message where they differ."""
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for i in range(n):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor "
                               f"b ({pb[i]}) at non-singleton dimension {i}")
    return tuple(max(x, y) if min(x, y) else 0 for x, y in zip(pa, pb))


def _cdist_checks(x1, x2, p, compute_mode):
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{t._data.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1._data.shape[-1]} X2: {x2._data.shape[-1]}")
    float1, float2 = (t.dtype.is_floating_point for t in (x1, x2))
    if x1._data.dtype != x2._data.dtype and float1 and float2:
        raise RuntimeError(f"expected scalar type {x1.dtype._legacy} but found "
                           f"{x2.dtype._legacy}")
    if not (float1 and float2):
        bad = x2 if float1 else x1
        raise RuntimeError(f"cdist only supports floating-point dtypes, "
                           f"{'X1' if bad is x1 else 'X2'} got: {bad.dtype._legacy}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")


def _cov_weights(w, kind, nobs):
    if w._data.ndim > 1:
        raise RuntimeError(f"cov(): expected {kind} to have one or fewer dimensions but got "
                           f"{kind} with {w._data.ndim} dimensions")
    if kind == "fweights" and w._data.dtype.kind not in "iu":
        raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights "
                           f"with {_name(w.dtype)} dtype")
    if kind == "aweights" and not w.dtype.is_floating_point:
        raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got "
                           f"aweights with {_name(w.dtype)} dtype")
    if w._data.size != nobs:
        raise RuntimeError(f"cov(): expected {kind} to have the same numel as there are "
                           f"observations in the input but got {w._data.size} != {nobs}")
    if np.any(w._data < 0):
        raise RuntimeError(f"cov(): {kind} cannot be negative")


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the variables in input's rows (observations in columns; a 1-D input is
    one variable). Weights w = fweights * aweights; the mean is sum(x * w) / sum(w) and the
    normaliser sum(w) - correction * sum(w * aweights) / sum(w) (N - correction unweighted),
    clamped at 0 with a warning. Integer inputs give the default float dtype; the result is
    squeezed, so one variable gives a 0-d tensor. (n, N) -> (n, n)."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {nd} dimensions")
    if input._data.dtype == np.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    correction = _int_arg("cov", "correction", correction)
    x = input.reshape(1, -1) if nd < 2 else input
    nobs = x._data.shape[1]
    w = None
    if fweights is not None:
        _cov_weights(fweights, "fweights", nobs)
        w = fweights
    if aweights is not None:
        _cov_weights(aweights, "aweights", nobs)
        w = aweights if w is None else w * aweights
    if w is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            avg = x.sum(1) / nobs
        norm_factor = nobs - correction
    else:
        w_sum = w.sum()
        if w_sum.item() == 0:
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
        avg = (x * w).sum(1) / w_sum
        if correction == 0:
            norm_factor = w_sum
        elif aweights is None:
            norm_factor = w_sum - correction
        else:
            norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
    if norm_factor <= 0:
        import warnings
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        # torch zeroes it in place: no gradient flows through the clamped normaliser
        norm_factor = 0 if w is None else _const(np.zeros_like(norm_factor._data))
    with np.errstate(divide="ignore", invalid="ignore"):   # NaN/inf silently, as torch
        xm = x - avg.unsqueeze(1)
        c = (xm if w is None else xm * w).mm(xm.t().conj())
        return (c / norm_factor).squeeze()


def corrcoef(input):
    """Pearson correlation coefficients of input's rows: cov(x) divided by the outer product of
    the standard deviations, clipped to [-1, 1] (real and imaginary parts separately for
    complex). A single variable gives cov / cov (1, or NaN for zero variance)."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got "
                           f"an input with {nd} dimensions")
    c = cov(input)
    with np.errstate(divide="ignore", invalid="ignore"):
        if c._data.ndim == 0:
            return c / c
        d = c.diagonal()
        sd = (d.real if d.is_complex() else d).sqrt()
        c = c / sd.unsqueeze(1)
        c = c / sd.unsqueeze(0)
    if c.is_complex():
        import ember
        return ember.complex(c.real.clip(-1, 1), c.imag.clip(-1, 1))
    return c.clip(-1, 1)


def _trapz_args(fn, y, x, dx, dim):
    """Overload resolution of (y, x, *, dim) and (y, *, dx, dim): torch's TypeErrors."""
    if x is not None and (not isinstance(x, Tensor) or dx is not None):
        got = ", ".join(["Tensor", type(x).__name__] + (
            [f"dx={type(dx).__name__}"] if dx is not None else []))
        raise TypeError(f"{fn}() received an invalid combination of arguments - got ({got}), "
                        f"but expected one of:\n (Tensor y, Tensor x, *, int dim = -1)\n "
                        f"(Tensor y, *, Number dx = 1, int dim = -1)")
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{fn}() received an invalid combination of arguments - got (Tensor, "
                        f"dim={type(dim).__name__})")
    if dx is None:
        return 1
    if isinstance(dx, Tensor) and dx._data.ndim == 0:
        dx = dx.item()
    if not isinstance(dx, (bool, int, float, complex, np.number, np.bool_)):
        raise TypeError(f"{fn}() received an invalid combination of arguments - got (Tensor, "
                        f"dx={type(dx).__name__})")
    if isinstance(dx, (bool, complex, np.bool_, np.complexfloating)):
        raise RuntimeError(f"{fn}: Currently, we only support dx as a real number.")
    return dx


def _dim_of_nonscalar(y, dim):
    if y._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return _wrap_dim(dim, y._data.ndim)


def _sample_spacing(fn, y, x, d):
    """x[i+1] - x[i] along d, shaped to broadcast against y's pairs: a 1-D x runs along d, a
    lower-dimensional x gains leading dims (differences are taken before broadcasting, as in
    NumPy)."""
    if x._data.dtype == np.bool_:
        raise RuntimeError(f"{fn}: received a bool input for `x` or `y`, but bool is not "
                           f"supported")
    nd = y._data.ndim
    if x._data.ndim == 1:
        if x._data.shape[0] != y._data.shape[d]:
            raise RuntimeError(f"{fn}: There must be one `x` value for each sample point")
        x = x.reshape([x._data.shape[0] if i == d else 1 for i in range(nd)])
    elif x._data.ndim < nd:
        x = x.reshape((1,) * (nd - x._data.ndim) + x._data.shape)
    return _along(x, d, 1) - _along(x, d, 0, -1)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Trapezoidal rule along dim: samples y spaced by dx (default 1) or at points x (1-D along
    dim, or broadcastable). Integer y gives the default float dtype; an empty dim gives zeros of
    y's dtype; bool is refused. Accepts (y, x, *, dim) or (y, *, dx, dim)."""
    return _trapezoid("trapezoid", y, x, dx, dim)


def trapz(y, x=None, *, dx=None, dim=-1):
    """Alias of trapezoid; dx is converted to float (so bool dx is 1.0, complex refused)."""
    if isinstance(dx, (complex, np.complexfloating)):
        raise TypeError("trapz() received an invalid combination of arguments - got (Tensor, "
                        "dx=complex)")
    if isinstance(dx, (bool, np.bool_)):
        dx = float(dx)
    return _trapezoid("trapz", y, x, dx, dim)


def _trapezoid(fn, y, x, dx, dim):
    if not isinstance(y, Tensor):
        raise not_a_tensor(y, fn, "y")
    dx = _trapz_args(fn, y, x, dx, dim)
    d = _dim_of_nonscalar(y, dim)
    if y._data.shape[d] == 0:       # NumPy's answer: an integral over no samples is 0
        import ember
        return ember.zeros([n for i, n in enumerate(y._data.shape) if i != d], dtype=y.dtype)
    if x is None:
        if y._data.dtype == np.bool_:
            raise RuntimeError("trapezoid: received a bool input for `y`, but bool is not "
                               "supported")
        # equal spacing: every sample counts once, the two ends half (torch's nodes)
        ends = y.select(d, 0) + y.select(d, -1)
        return scalar_overload(y.sum(d) - scalar_overload(ends, "mul", 0.5), "mul", dx)
    if y._data.dtype == np.bool_:
        raise RuntimeError("trapezoid: received a bool input for `x` or `y`, but bool is not "
                           "supported")
    spacing = _sample_spacing("trapezoid", y, x, d)
    return scalar_overload(((_along(y, d, 1) + _along(y, d, 0, -1)) * spacing).sum(d), "div", 2)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """Running trapezoidal rule along dim: dim's size shrinks by one (the first partial
    integral is over the first two samples). Spacing, dtypes and errors as trapezoid's."""
    fn = "cumulative_trapezoid"
    if not isinstance(y, Tensor):
        raise not_a_tensor(y, fn, "y")
    dx = _trapz_args(fn, y, x, dx, dim)
    if y._data.dtype == np.bool_:
        which = "`y`" if x is None else "`x` or `y`"
        raise RuntimeError(f"{fn}: received a bool input for {which}, but bool is not supported")
    if x is None:
        if y._data.ndim == 0:
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        d = _wrap_dim(dim, y._data.ndim)
        return scalar_overload(_along(y, d, 0, -1) + _along(y, d, 1), "mul", dx / 2.).cumsum(d)
    d = _dim_of_nonscalar(y, dim)
    spacing = _sample_spacing(fn, y, x, d)
    return (spacing * (_along(y, d, 0, -1) + _along(y, d, 1)) / 2.).cumsum(d)


def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice input.select(dim, i) whose p-norm exceeds maxnorm is scaled by
    maxnorm / (norm + 1e-7); the others are kept. The gradient flows through the norm too.
    Half inputs take their norms in float32."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input)
    dim = _int_arg("renorm", "dim", dim, 3)
    p = _number_arg("renorm", "p", p, 2)
    maxnorm = _number_arg("renorm", "maxnorm", maxnorm, 4)
    if isinstance(p, (complex, np.complexfloating)):
        raise RuntimeError("renorm: p must be real-valued")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if isinstance(maxnorm, (complex, np.complexfloating)):
        raise RuntimeError("renorm: maxnorm must be real-valued")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {nd} dimensions")
    d = _wrap_dim(dim, nd)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):   # (its norm's error)
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_name(input.dtype)}")
    return _out(Renorm.apply(input, p=float(p), dims=tuple(i for i in range(nd) if i != d),
                             maxnorm=float(maxnorm)), out, exact=True)


class Renorm(ArrayFunction):
    """x times maxnorm / (norm + 1e-7) where the slice's p-norm exceeds maxnorm, one node
    (RenormBackward0) as torch; the half types take their norms and factors in float32 (the
    factor rounded to the half type), and the gradient in float32 too, rounded once. Backward
    is torch's renorm_backward in Tensor ops."""

    def forward(ctx, a, *, p, dims, maxnorm):
        ctx.p, ctx.dims, ctx.maxnorm = p, dims, maxnorm
        ctx.save_for_backward(a)
        x = a.astype(np.float32) if is_half(a.dtype) else a
        norm = _pnorm(x, p, dims, keepdim=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1).astype(norm.dtype)
        return np.asarray(a * factor.astype(a.dtype))

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        from ember._ops.linalg_decomp import vector_norm
        from ember._ops.pointwise import where
        dims, maxnorm = ctx.dims, ctx.maxnorm
        acc = _dtype.float32 if is_half(x._data.dtype) else None
        norm = vector_norm(x, ctx.p, dims, keepdim=True, dtype=acc)
        gout = (x.conj() * grad)
        if gout.is_complex():
            gout = gout.real
        gout = gout.sum(dims, keepdim=True, dtype=norm.dtype)
        nb = _norm_backward(x, norm, gout, ctx.p, dims)
        inv = (norm + 1e-7).reciprocal()
        factor = inv * maxnorm
        g = where(norm > maxnorm, factor * grad - (factor * inv) * nb, grad)
        return g.to(x.dtype) if acc is not None else g


for _f in (diff, dist, cov, corrcoef, renorm):
    setattr(Tensor, _f.__name__, _f)


def _renorm_(self, p, dim, maxnorm):
    """In-place renorm."""
    from ember._ops._helpers import inplace
    # (renorm's graph saves its input in several nodes: compute from a copy when recording, so
    # that overwriting self leaves them intact)
    src = self.clone() if self._requires_grad and _grad_state.enabled else self
    return inplace(self, renorm(src, p, dim, maxnorm))


_renorm_.__name__ = "renorm_"
Tensor.renorm_ = _renorm_


# ---------------------------------------------------------------------------------------------
# gradient: numerical derivatives along dims (NumPy's formulas, in Tensor ops: differentiable)

def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimates of d input / d x_k along each dim k, one tensor per dim: central differences
    inside, one-sided ones (first or second order: edge_order) at the ends. spacing: one
    number for all dims, one per dim, or one 1-D tensor of coordinates per dim (uneven
    steps use the second-order formula for uneven grids, as NumPy's gradient)."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    nd = input.dim()
    given = dim is not None
    dims = (list(range(nd)) if dim is None else [dim] if isinstance(dim, int) else list(dim))
    dims = [_wrap_dim(d, nd) for d in dims]
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            if given:
                raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a "
                                   f"scalar or it's spacing and dim arguments to have the same "
                                   f"length, but got a spacing argument of length "
                                   f"{len(spacing)} and a dim argument of length {len(dims)}.")
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, "
                               f"or a list of length equal to 'self.dim() = {nd}', since dim "
                               f"argument was not given, but got a list of length "
                               f"{len(spacing)}")
        for s in spacing:
            if isinstance(s, Tensor) and s.dim() != 1:
                raise RuntimeError(f"torch.gradient expected each element of spacing to have "
                                   f"one dimension, but got an element with {s.dim()} "
                                   f"dimensions!")
        steps = list(spacing)
    else:
        steps = [spacing] * len(dims)
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    # (no cast up front: integer inputs become the default float dtype, or the coordinates'
    # dtype, through the arithmetic's promotion, as in torch)
    return tuple(_gradient_along(input, d, s, edge_order) for d, s in zip(dims, steps))


def _gradient_along(f, d, step, edge_order):
    from ember._ops.manipulation import cat
    n = f.shape[d]
    at = lambda i, k=1: f.narrow(d, i % n, k)   # (k slices from index i, negative from the end)
    if not isinstance(step, Tensor):   # an even step h
        h = step
        inner = (at(2, n - 2) - at(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first, last = (at(1) - at(0)) / h, (at(-1) - at(-2)) / h
        else:
            first = (at(0) * -1.5 + at(1) * 2 - at(2) * 0.5) / h
            last = (at(-3) * 0.5 - at(-2) * 2 + at(-1) * 1.5) / h
        return cat([first, inner, last], d)
    shape = [1] * f.dim()
    shape[d] = -1
    dx = step[1:] - step[:-1]
    col = lambda v: v.reshape(shape)   # coefficients along d, broadcast over the other dims
    h1, h2 = dx[:-1], dx[1:]
    inner = (at(0, n - 2) * col(-h2 / (h1 * (h1 + h2))) + at(1, n - 2) * col((h2 - h1) / (h1 * h2))
             + at(2, n - 2) * col(h1 / (h2 * (h1 + h2))))
    if edge_order == 1:
        first, last = (at(1) - at(0)) / col(dx[:1]), (at(-1) - at(-2)) / col(dx[-1:])
    else:
        a, b = dx[:1], dx[1:2]
        first = (at(0) * col(-(2 * a + b) / (a * (a + b))) + at(1) * col((a + b) / (a * b))
                 + at(2) * col(-a / (b * (a + b))))
        a, b = dx[-2:-1], dx[-1:]
        last = (at(-3) * col(b / (a * (a + b))) + at(-2) * col(-(a + b) / (a * b))
                + at(-1) * col((2 * b + a) / (b * (a + b))))
    return cat([first, inner, last], d)


# ---------------------------------------------------------------------------------------------
# distances: cosine_similarity, pairwise_distance, pdist

def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum over dim of (x1 / max(||x1||, eps)) * (x2 / max(||x2||, eps)) (broadcasting);
    integer inputs are cast to the common floating dtype first (their norms are not
    truncated)."""
    from ember._dtype import result_type
    from ember._ops._helpers import to_dtype
    from ember._ops.linalg_decomp import vector_norm
    from ember.autograd.grad_mode import no_grad
    dt = result_type(x1, x2)
    if not (dt.is_floating_point or dt.is_complex):
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{dt._legacy}")
    from ember._ops.manipulation import broadcast_tensors
    x1, x2 = (x if x.dtype == dt else to_dtype(x, dt) for x in (x1, x2))
    if x1.shape != x2.shape:   # the norms run along dim of the broadcast inputs
        x1, x2 = broadcast_tensors(x1, x2)
    # torch's kernel: the norms cloned, then clamped at eps outside autograd (so the gradient
    # goes through the clamp as if it were not there)
    n1, n2 = vector_norm(x1, 2, dim, True).clone(), vector_norm(x2, 2, dim, True).clone()
    with no_grad():
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim (batch dims broadcast)."""
    from ember._ops.linalg_decomp import vector_norm
    # (torch's C++ nodes: add(Tensor, Scalar), norm(x, p, dim))
    d = scalar_overload(x1 - x2, "add", eps)
    return rename_result(vector_norm(d, p, -1, keepdim), "NormBackward1")


class PdistNorm(ArrayFunction):
    """p-norms of the rows of d = x[i] - x[j], with pdist's subgradients (torch's): 0 where a
    distance is 0, 0 for an element of d that is 0 when p < 1, p = 0 has none, and for p = inf
    every element tying the maximum gets the whole gradient (no split, unlike vector_norm)."""

    def forward(ctx, d, *, p):
        from ember._ops.linalg_decomp import _pnorm
        ctx.p = p
        r = _pnorm(d, p, -1)
        ctx.save_for_backward(d, r)
        return r

    def backward(ctx, g):
        d, r = ctx.saved_tensors
        return _row_norm_grad(d, r, g, ctx.p)

    def name(self):
        return "PdistBackward0"


def _row_norm_grad(d, r, g, p):
    """The gradient for d of r = the p-norms of d's rows (its last dim) given r's gradient g,
    with pdist's and cdist's subgradients (Tensor ops: differentiable again)."""
    g, r = g.unsqueeze(-1), r.unsqueeze(-1)
    if p == 0:
        return d * 0
    if p == 1:
        return d.sign() * g
    if p == np.inf:
        return d.sign() * (d.abs() == r) * g
    zero = r == 0
    r = r.masked_fill(zero, 1)   # no inf/NaN (nor NumPy warnings) where it is masked anyway
    if p == 2:
        return d * (g / r).masked_fill(zero, 0)
    drop = zero | (d == 0) if p < 1 else zero
    a = d.abs().masked_fill(drop, 1)
    return (d.sign() * a.pow(p - 1) * (g / r.pow(p - 1))).masked_fill(drop, 0)


def pdist(input, p=2):
    """p-norm distances between all pairs of rows i < j of an (N, M) input, in row-major
    order of the pairs: N (N - 1) / 2 values."""
    if input._data.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input._data.ndim}D")
    if input._data.dtype.kind != "f" or input._data.dtype.itemsize < 4:
        if input._data.dtype.kind in "fV":
            raise NotImplementedError(f"\"pdist\" not implemented for '{input.dtype._legacy}'")
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    i, j = np.triu_indices(input._data.shape[0], 1)
    d = input[Tensor._make(i)] - input[Tensor._make(j)]
    return PdistNorm.apply(d, p=float(p))
