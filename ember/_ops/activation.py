"""Activations used by `nn`: relu and friends, sigmoid/tanh forms, gelu, silu, softplus ...

Each is an ArrayFunction: forward on arrays with torch's formula, backward in Tensor ops (so
double backward works). Masks of piecewise functions are computed once in forward and saved as
constants. Traps copied from torch's behaviour (not its code): relu's gradient at 0 is 0;
hardtanh/relu6 pass the gradient only strictly inside (min_val, max_val); softplus is linear
where beta * x > threshold; gelu(approximate='tanh') is the tanh formula, not erf.

Half types (float16, bfloat16) follow torch's kernels bit for bit: forward and fused backward
formulas in float32 with number parameters as float32, rounded once (`in_opmath`,
`_opmath_grad`; exp/tanh/erf as torch's float32 ones, see pointwise_unary). Where torch's
kernel takes a parameter in the half type (hardshrink's lambd, softshrink's in backward) or
keeps a rounded intermediate (logsigmoid's exp(-|x|), glu's sigmoid), so does ember.
torch's bfloat16 gelu (erf) on CPUs with AVX512-BF16 goes through oneDNN, whose own
approximations are not reproduced: ember matches torch's native kernel.
"""
import math

import numpy as np

from ember._dtype import finfo
from ember._ops._helpers import (in_opmath, inplace as _write_inplace, is_half, opmath, select,
                                 zero_of)
from ember._ops.pointwise_unary import (_F32, Erf, Sigmoid, Tanh, _erf32, _exp32, _log1p32,
                                        _mask_grad, _opmath_grad, _scipy, _tanh32, _via64,
                                        erf32, exp32, log1p32, relu as _relu, tanh32)
from ember._ops.softmax import LogSoftmax, Softmax
from ember._tensor import Tensor
from ember._threads import two_way
from ember.autograd.function import ArrayFunction, rename_result
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["selu", "celu", "rrelu", "threshold", "prelu", "hardshrink"]

_SQRT2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _where(mask, a, b):
    from ember._ops.pointwise import Where
    return Where.apply(a, b, cond=mask)


def _const(array):
    return Tensor._make(np.asarray(array))


def _dtype_name(x):
    """torch's scalar-type name of a tensor's dtype: Float, Long, Bool ..."""
    return x.dtype._legacy


def _check_float(name, x, complex_ok=False):
    k = x._data.dtype.kind
    if k not in ("fcV" if complex_ok else "fV"):   # torch's dtype dispatch: NotImplementedError
        raise NotImplementedError(f'"{name}" not implemented for \'{_dtype_name(x)}\'')


def _check_not_complex_clamp(x):
    """relu/relu6/hardtanh run torch's clamp kernel, which has no complex version."""
    if x._data.dtype.kind == "c":
        raise NotImplementedError("clamp is not supported for complex types")


def _check_not_bool(name, x):
    if x._data.dtype == np.bool_:
        raise NotImplementedError(f'"{name}" not implemented for \'Bool\'')


def _apply_inplace(x, result, inplace):
    return _write_inplace(x, result) if inplace else result


# ---------------------------------------------------------------------------------------------
# Smooth building blocks (also used by losses and normalisation)

def _np_sigmoid(a):
    if a.dtype.kind == "c":   # (no sign to branch on: the plain formula)
        return (1 / (1 + np.exp(-a))).astype(a.dtype, copy=False)
    # exp(-|x|) never overflows; pick the branch by sign
    e = np.exp(-np.abs(a))
    return select(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


def _sigmoid(x):
    return Sigmoid.apply(x)


def _tanh(x):
    return Tanh.apply(x)


# ---------------------------------------------------------------------------------------------
# Piecewise-linear activations (masks saved as constants)

class LeakyRelu(ArrayFunction):
    def forward(ctx, a, *, negative_slope):
        mask = a > 0
        ctx.mask = mask
        ctx.slope = negative_slope
        if is_half(a.dtype):   # the float32 slope, the product rounded once
            neg = (a.astype(_F32) * _F32(negative_slope)).astype(a.dtype)
        else:
            neg = a * np.asarray(negative_slope, a.dtype)
        return np.asarray(select(mask, a, neg))

    def backward(ctx, grad):
        return _where(_const(ctx.mask), grad, grad * ctx.slope)


class Hardtanh(ArrayFunction):
    """clamp(x, min_val, max_val); gradient only strictly inside (min_val, max_val)."""

    def forward(ctx, a, *, min_val, max_val):
        ctx.save_for_backward(a)   # the mask's source (see MaskedGrad)
        if is_half(a.dtype):   # (compared with the float32 bounds)
            min_val, max_val = _F32(min_val), _F32(max_val)
        ctx.mask = (a > min_val) & (a < max_val)
        return np.asarray(np.clip(a, np.asarray(min_val, a.dtype), np.asarray(max_val, a.dtype))
                          .astype(a.dtype, copy=False))   # (NumPy's clip widens bfloat16)

    def backward(ctx, grad):
        return _mask_grad(grad, ctx.mask, *ctx.saved_tensors)


class Threshold(ArrayFunction):
    """value where x <= threshold, else x (NaN is not <= anything: it passes, as in torch).
    Half types compare with the float32 threshold: one just below a half value keeps x."""

    def forward(ctx, a, *, threshold, value):
        ctx.save_for_backward(a)   # the mask's source (see MaskedGrad)
        ctx.mask = ~(a <= (_F32(threshold) if is_half(a.dtype) else threshold))
        return np.asarray(select(ctx.mask, a, np.asarray(value, a.dtype)))

    def backward(ctx, grad):
        return _mask_grad(grad, ctx.mask, *ctx.saved_tensors)


class Shrink(ArrayFunction):
    """hardshrink (x where |x| > lambd, else 0) and softshrink (x -+ lambd outside). torch
    takes lambd in x's dtype, except softshrink's forward, which (for the half types) compares
    and subtracts it in float32."""

    def forward(ctx, a, *, lambd, soft):
        ctx.save_for_backward(a)   # the mask's source (see MaskedGrad)
        half = is_half(a.dtype)
        lam = np.asarray(lambd, a.dtype) if half else lambd
        # outside [-lambd, lambd], NaN included (torch tests the inside), as is the gradient
        ctx.mask = ~((a >= -lam) & (a <= lam))
        if soft and half:
            lam, x = _F32(lambd), a.astype(_F32)
            return select(x < -lam, x + lam, select(x <= lam, 0, x - lam)).astype(a.dtype)
        if soft:
            lam = np.asarray(lambd, a.dtype)
            return select(a < -lambd, a + lam, select(ctx.mask, a - lam, 0)).astype(
                a.dtype, copy=False)
        return np.asarray(select(ctx.mask, a, 0).astype(a.dtype, copy=False))

    def backward(ctx, grad):
        return _mask_grad(grad, ctx.mask, *ctx.saved_tensors)


_SIXTH = float(np.float32(1.0 / 6))   # torch's hardsigmoid slope is a float32 constant


def _relu6_of_x_plus_3(x):
    """min(max(x + 3, 0), 6) of a float32 array: the common part of torch's hardsigmoid and
    hardswish kernels (the half types' formula)."""
    return np.minimum(np.maximum(x + 3, 0), 6)


class Hardsigmoid(ArrayFunction):
    """relu6(x + 3) / 6; the gradient 1/6 strictly inside (-3, 3)."""

    def forward(ctx, a):
        ctx.mask = (a > -3) & (a < 3)
        if is_half(a.dtype):
            return in_opmath(lambda x: _relu6_of_x_plus_3(x) / 6, a)
        return np.asarray(np.clip(a / np.asarray(6, a.dtype) + np.asarray(0.5, a.dtype), 0, 1).astype(
            a.dtype, copy=False))

    def backward(ctx, grad):
        return _where(_const(ctx.mask), grad * _SIXTH, zero_of(grad))


class Hardswish(ArrayFunction):
    """x * relu6(x + 3) / 6; gradient 0 at and below -3, x/3 + 1/2 inside, 1 from 3 on."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        if is_half(a.dtype):
            return in_opmath(lambda x: x * _relu6_of_x_plus_3(x) / 6, a)
        return np.asarray((a * np.clip(a + np.asarray(3, a.dtype), 0, 6) / np.asarray(6, a.dtype)).astype(
            a.dtype, copy=False))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        d = a._data
        mid = _opmath_grad(lambda g, x: g * (x / 3 + 0.5), grad, a)
        # torch: 0 for x <= -3, x/3 + 1/2 strictly inside, 1 for x >= 3
        return _where(_const(d <= -3), zero_of(grad), _where(_const(d < 3), mid, grad))


# ---------------------------------------------------------------------------------------------
# Exponential family

class Elu(ArrayFunction):
    """scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1)) (elu, selu, celu).
    Half types: torch's expm1(x * input_scale) * (alpha * scale) or x * scale in float32, and
    its fused backward; in place (`from_result`), the gradient comes from the result, as
    torch's elu_ computes it: grad * input_scale * (y + alpha * scale) where y <= 0."""

    def forward(ctx, a, *, alpha, scale, input_scale, grad_input_scale=None,
                from_result=False):
        # (celu's derivative in torch takes 1 / alpha from alpha rounded to float32)
        ctx.params = (alpha, scale, input_scale if grad_input_scale is None else
                      grad_input_scale)
        ctx.from_result = from_result
        dt = a.dtype
        if is_half(dt):
            x = a.astype(_F32)
            neg = _via64(np.expm1, x * _F32(input_scale)) * (_F32(alpha) * _F32(scale))
            out = select(x <= 0, neg, x * _F32(scale)).astype(dt)
        else:
            neg = np.asarray(alpha, dt) * np.expm1(np.minimum(a, 0) * np.asarray(input_scale,
                                                                                 dt))
            out = np.asarray((select(a > 0, a, neg) * np.asarray(scale, dt)).astype(
                dt, copy=False))
        ctx.save_for_backward(out if from_result else a)
        return out

    def backward(ctx, grad):
        (s,) = ctx.saved_tensors   # the input, or the result (from_result)
        alpha, scale, input_scale = ctx.params
        pos = _const(s._data > 0)
        if not (ctx.from_result or is_half(s._data.dtype)):
            neg = grad * (alpha * scale * input_scale) * (s * input_scale).exp()
            return _where(pos, grad * scale, neg)
        ct = opmath(s._data.dtype)
        negcoef = float(np.asarray(alpha, ct) * np.asarray(scale, ct))   # (as torch rounds it)
        if ctx.from_result:
            return _opmath_grad(lambda g, y: _where(pos, g * scale, g * input_scale * (
                y + negcoef)), grad, s)
        return _opmath_grad(lambda g, x: _where(pos, g * scale, g * input_scale * negcoef
                                                * exp32(x * input_scale)), grad, s)


def _elu_family(input, kind, inplace, **params):
    """elu, selu or celu as one Elu op, its node named as torch's (kind 'Elu' or 'Celu'; in
    place, the *Backward1 overload)."""
    y = Elu.apply(input, from_result=inplace, **params)
    if inplace or kind != "Elu":
        rename_result(y, f"{kind}Backward{1 if inplace else 0}")
    return _apply_inplace(input, y, inplace)


class Softplus(ArrayFunction):
    """log(1 + exp(beta x)) / beta, linear where beta * x > threshold. Half types: torch's
    log1p(exp(beta x)) / beta in float32, and its z / (z + 1), z = exp(beta x), backward."""

    def forward(ctx, a, *, beta, threshold):
        ctx.save_for_backward(a)
        ctx.beta, ctx.threshold = beta, threshold
        if is_half(a.dtype):
            b, th = _F32(beta), _F32(threshold)
            return in_opmath(lambda x: select(x * b > th, x, _log1p32(_exp32(x * b)) / b), a)
        bx = a * np.asarray(beta, a.dtype)
        soft = np.logaddexp(0, bx) / np.asarray(beta, a.dtype)
        return np.asarray(select(bx > threshold, a, soft).astype(a.dtype, copy=False))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        beta, threshold = ctx.beta, ctx.threshold
        if is_half(a._data.dtype):
            lin = _const(a._data * _F32(beta) > _F32(threshold))

            def fused(g, x):
                z = exp32(x * beta)
                return _where(lin, g, g * z / (z + 1))
            return _opmath_grad(fused, grad, a)
        lin = _const(a._data * beta > threshold)
        return _where(lin, grad, grad * _sigmoid(a * beta))


# Phi(x), the normal CDF, for float32 GELU. SciPy's ndtr evaluates one element at a time
# (~15 ns each: 9 ms for a transformer block's 1M activations on two threads); this is the same
# function in ~35 NumPy passes over blocks (~1.3 ms on two threads), by the identity
#     Phi(-|x|) = erfc(z) / 2,  z = |x| / sqrt 2,  erfc(z) = t exp(P(t) - z^2),  t = 1 / (1 + z/2)
# with P the degree-9 Chebyshev fit of Numerical Recipes (erfcc: fractional error < 1.2e-7 for
# every z >= 0). The tail x < 0 is computed directly, so it keeps its relative precision.
# Measured against float64 ndtr: 2.5e-7 absolute error, 1.3e-6 relative for x > -5 (torch's
# own float32 gelu: 1.2e-6 absolute).
_ERFC_P = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
           -1.13520398, 1.48851587, -0.82215223, 0.17087277)
_ERFC_P32 = tuple(np.float32(c) for c in _ERFC_P)
# elements per block: bigger than L2 would suggest, because two threads contend for the GIL
# around every NumPy call (measured best on 1M and 4M elements; 64k blocks: 1.4-1.6x slower)
_BLOCK = 1 << 18
_SPLIT_MIN = 1 << 15


def _normal_cdf_block(x, out, z, t, p):
    """out = Phi(x) for one block of float32 x; z, t, p: scratch of x's size."""
    f32 = np.float32
    np.abs(x, out=z)
    z *= f32(1 / _SQRT2)
    np.multiply(z, f32(0.5), out=t)
    t += 1
    np.divide(1, t, out=t)                   # t = 1 / (1 + z/2)
    np.multiply(t, _ERFC_P32[9], out=p)
    for c in _ERFC_P32[8:0:-1]:              # Horner: p = P(t) - P[0]
        p += c
        p *= t
    p += _ERFC_P32[0]
    np.multiply(z, z, out=z)
    p -= z                                   # P(t) - z^2
    np.exp(p, out=p)
    p *= t
    p *= f32(0.5)                            # h = Phi(-|x|)
    np.multiply(p, -2, out=z)
    z += 1                                   # 1 - 2h = Phi(|x|) - Phi(-|x|)
    # ... kept where x's sign bit is clear, else zeroed: bit masks are several times faster
    # than np.copysign/np.maximum
    ti = t.view(np.int32)
    np.right_shift(x.view(np.int32), 31, out=ti)   # -1 where the sign bit is set, else 0
    np.invert(ti, out=ti)
    np.bitwise_and(z.view(np.int32), ti, out=z.view(np.int32))
    np.add(p, z, out=out)


def _in_blocks(n, n_scratch, body):
    """body(s, e, *scratch) for the blocks [s, e) of range(n), each thread with its own
    float32 scratch arrays (cut to the block), the two halves of a large n on two threads."""
    def run(lo, hi):
        scratch = [np.empty(min(_BLOCK, hi - lo), np.float32) for _ in range(n_scratch)]
        for s in range(lo, hi, _BLOCK):
            e = min(s + _BLOCK, hi)
            body(s, e, *(b[:e - s] for b in scratch))
    two_way(run, n, n, _SPLIT_MIN)


def _gelu_f32(a):
    """(x * Phi(x), Phi(x)) for a float32 array, in blocks on two threads."""
    flat = np.ascontiguousarray(a).reshape(-1)
    cdf = np.empty_like(flat)
    y = np.empty_like(flat)

    def block(s, e, z, t, p):
        x = flat[s:e]
        _normal_cdf_block(x, cdf[s:e], z, t, p)
        np.multiply(x, cdf[s:e], out=y[s:e])
    _in_blocks(flat.size, 3, block)
    return y.reshape(a.shape), cdf.reshape(a.shape)


_LOG_SQRT_2PI = np.float32(0.5 * math.log(2 * math.pi))


def _gelu_grad_f32(g, a, cdf):
    """g * (Phi(x) + x phi(x)) for float32 arrays of one shape, phi(x) = exp(-x^2/2 -
    log sqrt(2 pi)): in blocks on two threads, as the forward."""
    gf, xf, cf = (np.ascontiguousarray(v).reshape(-1) for v in (g, a, cdf))
    out = np.empty_like(xf)

    def block(s, e, u):
        x = xf[s:e]
        np.multiply(x, x, out=u)
        u *= np.float32(-0.5)
        u -= _LOG_SQRT_2PI
        np.exp(u, out=u)                 # phi(x)
        u *= x
        u += cf[s:e]
        np.multiply(u, gf[s:e], out=out[s:e])
    _in_blocks(xf.size, 1, block)
    return out.reshape(a.shape)


# torch's float32 constants of the half types' gelu kernels
_HALF32 = _F32(0.5)
_SQRT1_2_32 = _F32(math.sqrt(0.5))
_PDF_SCALE_32 = _F32(2 / math.sqrt(math.pi) * math.sqrt(0.5) * 0.5)   # 1 / sqrt(2 pi)
_TANH_BETA_32 = _F32(math.sqrt(2) * 2 / math.sqrt(math.pi) * 0.5)     # sqrt(2 / pi)
_TANH_KAPPA_32 = _F32(0.044715)


def _gelu_half(x, tanh):
    """gelu of a float32 array (half-type values) as torch's float32 kernels compute it."""
    if tanh:
        inner = _TANH_BETA_32 * (x + _TANH_KAPPA_32 * (x * x * x))
        return _HALF32 * x * (1 + _tanh32(inner))
    return x * _HALF32 * (1 + _erf32(x * _SQRT1_2_32))


def _gelu_half_grad(g, x, tanh):
    """Its fused backward, on float32 Tensors (torch's order of operations)."""
    if tanh:
        x_sq = x * x
        t = tanh32((x + x_sq * x * float(_TANH_KAPPA_32)) * float(_TANH_BETA_32))
        left = x * 0.5
        inner_d = (x_sq * float(_F32(3) * _TANH_KAPPA_32) + 1) * float(_TANH_BETA_32)
        return g * ((t + 1) * 0.5 + left * (1 - t * t) * inner_d)
    cdf = (erf32(x * float(_SQRT1_2_32)) + 1) * 0.5
    return g * (cdf + x * (exp32(x * x * -0.5) * float(_PDF_SCALE_32)))


class Gelu(ArrayFunction):
    """x * Phi(x) (exact, erf) or the tanh approximation."""

    def forward(ctx, a, *, approximate):
        ctx.save_for_backward(a)
        ctx.approximate = approximate
        dt = a.dtype
        if is_half(dt):
            return in_opmath(lambda x: _gelu_half(x, approximate == "tanh"), a)
        if approximate == "tanh":
            inner = np.asarray(_SQRT_2_OVER_PI, dt) * (a + np.asarray(0.044715, dt) * a * a * a)
            return (np.asarray(0.5, dt) * a * (1 + np.tanh(inner))).astype(dt, copy=False)
        # Phi(x) = (1 + erf(x / sqrt 2)) / 2 in one ufunc; half types keep it in float32 so
        # that the product is rounded once, as torch's float32 opmath does
        if dt == np.float64:
            cdf = _scipy("ndtr", a)
            y = a * cdf
        else:
            y, cdf = _gelu_f32(a.astype(np.float32, copy=False))
        ctx.cdf = cdf   # reused by a first-order backward (Phi is the costly part)
        return np.asarray(y.astype(dt, copy=False))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        if is_half(a._data.dtype):
            return _opmath_grad(lambda g, x: _gelu_half_grad(g, x, ctx.approximate == "tanh"),
                                grad, a)
        if ctx.approximate == "tanh":
            inner = (a + a * a * a * 0.044715) * _SQRT_2_OVER_PI
            t = _tanh(inner)
            dinner = (a * a * (3 * 0.044715) + 1) * _SQRT_2_OVER_PI
            return grad * ((t + 1) * 0.5 + a * 0.5 * (1 - t * t) * dinner)
        if not _grad_state.enabled:   # first order: all in NumPy, erf from forward
            x, g = a._data, grad._data
            if x.dtype == np.float32 and g.dtype == np.float32 and g.shape == x.shape:
                return Tensor._make(_gelu_grad_f32(g, x, ctx.cdf))
            pdf = np.exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))
            return Tensor._make(np.asarray(g * (ctx.cdf + x * pdf), x.dtype))
        cdf = (Erf.apply(a / _SQRT2) + 1) * 0.5
        pdf = (a * a * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
        return grad * (cdf + a * pdf)


class Silu(ArrayFunction):
    """x sigmoid(x); half types: torch's x / (1 + exp(-x)) in float32 and its fused backward."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        ctx.sig = None
        if is_half(a.dtype):
            return in_opmath(lambda x: x / (1 + _exp32(-x)), a)
        with np.errstate(over="ignore"):
            ctx.sig = _np_sigmoid(a)   # (kept for a first-order backward)
            return (a * ctx.sig).astype(a.dtype, copy=False)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        if is_half(a._data.dtype):
            def fused(g, x):
                s = 1 / (exp32(-x) + 1)
                return g * s * (1 + x * (1 - s))
            return _opmath_grad(fused, grad, a)
        if not _grad_state.enabled and ctx.sig is not None:   # first order: in NumPy
            s, x = ctx.sig, a._data
            d = 1 - s
            d *= x
            d += 1
            d *= s
            d *= grad._data
            return Tensor._make(d.astype(grad._data.dtype, copy=False))
        s = _sigmoid(a)
        return grad * s * (1 + a * (1 - s))


class Mish(ArrayFunction):
    """x * tanh(softplus(x)); half types: torch's x tanh(log1p(exp(x))) in float32 and its
    fused backward."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        if is_half(a.dtype):
            return in_opmath(lambda x: x * _tanh32(_log1p32(_exp32(x))), a)
        return np.asarray((a * np.tanh(np.logaddexp(0, a))).astype(a.dtype, copy=False))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        if is_half(a._data.dtype):
            def fused(g, x):
                s = 1 / (exp32(-x) + 1)
                t = tanh32(log1p32(exp32(x)))
                return g * (t + x * s * (1 - t * t))
            return _opmath_grad(fused, grad, a)
        t = _tanh(Softplus.apply(a, beta=1, threshold=20))
        return grad * (t + a * (1 - t * t) * _sigmoid(a))


class LogSigmoid(ArrayFunction):
    """-softplus(-x), computed as min(x, 0) - log1p(exp(-|x|)). Half types: in float32, and
    the backward from z = exp(-|x|) rounded to the half type, which torch's forward keeps
    (its `buffer`): (1 - z / (1 + z) where x < 0, else z / (1 + z)) * grad, in float32."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        if is_half(a.dtype):
            x = a.astype(_F32)
            z = _exp32(-np.abs(x))
            ctx.buffer = z.astype(a.dtype)
            return (np.minimum(x, 0) - _log1p32(z)).astype(a.dtype)
        return np.asarray((np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a)))).astype(a.dtype, copy=False))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        if is_half(a._data.dtype):
            neg = _const(a._data < 0)

            def fused(g, z):
                s = z / (z + 1)
                return _where(neg, 1 - s, s) * g
            return _opmath_grad(fused, grad, _const(ctx.buffer))
        return grad * _sigmoid(-a)


# ---------------------------------------------------------------------------------------------
# Public functions (torch.* spellings that nn.functional re-exports)

def relu(input, inplace=False):
    return _apply_inplace(input, _relu(input), inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _check_float("leaky_relu_cpu", input)
    y = LeakyRelu.apply(input, negative_slope=negative_slope)
    return _apply_inplace(input, rename_result(y, "LeakyReluBackward1") if inplace else y, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if input._data.dtype == np.bool_:
        raise RuntimeError("Bool inputs not supported for hardtanh")
    _check_not_complex_clamp(input)
    return _apply_inplace(input, Hardtanh.apply(input, min_val=min_val, max_val=max_val),
                          inplace)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def threshold(input, threshold, value, inplace=False):
    _check_not_bool("threshold_cpu", input)
    if input._data.dtype.kind == "c":
        _check_float("threshold_cpu", input)
    y = Threshold.apply(input, threshold=threshold, value=value)
    return _apply_inplace(input, rename_result(y, "ThresholdBackward1") if inplace else y, inplace)


def hardshrink(input, lambd=0.5):
    _check_float("hardshrink_cpu", input)
    return rename_result(Shrink.apply(input, lambd=lambd, soft=False), "HardshrinkBackward0")


def softshrink(input, lambd=0.5):
    _check_float("softshrink_check", input)
    top = float(finfo(input.dtype).max)
    if not 0 <= lambd <= top:   # torch prints both bounds as C++ streams print doubles
        raise RuntimeError(f"lambda must be in range [0, {top:g}] for input dtype "
                           f"{_dtype_name(input)}, but found {lambd:g}")
    return rename_result(Shrink.apply(input, lambd=lambd, soft=True), "SoftshrinkBackward0")


def hardsigmoid(input, inplace=False):
    _check_float("hardsigmoid_cpu", input)
    return _apply_inplace(input, Hardsigmoid.apply(input), inplace)


def hardswish(input, inplace=False):
    _check_float("hardswish_cpu", input)
    return _apply_inplace(input, Hardswish.apply(input), inplace)


def elu(input, alpha=1.0, inplace=False):
    _check_float("elu_cpu", input)
    return _elu_family(input, "Elu", inplace, alpha=alpha, scale=1.0, input_scale=1.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    _check_float("elu_cpu", input)
    return _elu_family(input, "Elu", inplace, alpha=_SELU_ALPHA, scale=_SELU_SCALE,
                       input_scale=1.0)


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    _check_float("elu_cpu", input)
    return _elu_family(input, "Celu", inplace, alpha=alpha, scale=1.0, input_scale=1.0 / alpha,
                       grad_input_scale=1.0 / float(np.float32(alpha)))


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _check_float("GeluKernelImpl", input)
    return Gelu.apply(input, approximate=approximate)


def silu(input, inplace=False):
    _check_float("silu_cpu", input, complex_ok=True)
    if input._data.dtype.kind == "c" and input.requires_grad and _grad_state.enabled:
        raise RuntimeError("silu does not support automatic differentiation for outputs with "
                           "complex dtype.")
    return _apply_inplace(input, Silu.apply(input), inplace)


def mish(input, inplace=False):
    _check_float("mish_cpu", input)
    return _apply_inplace(input, Mish.apply(input), inplace)


def softplus(input, beta=1.0, threshold=20.0):
    _check_float("softplus_cpu", input)
    return Softplus.apply(input, beta=beta, threshold=threshold)


def logsigmoid(input):
    _check_float("log_sigmoid_cpu", input)
    return LogSigmoid.apply(input)


def softsign(input):
    """x / (|x| + 1), composed as torch's softsign is (its graph: DivBackward0, AddBackward0,
    AbsBackward0)."""
    _check_not_bool("abs_cpu", input)
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - _tanh(input if input.is_floating_point() else input.float())


def sigmoid(input):
    return Sigmoid.apply(input if input.is_floating_point() else input.float())


def tanh(input):
    return Tanh.apply(input if input.is_floating_point() else input.float())


def glu(input, dim=-1):
    """a * sigmoid(b) for the two halves of `dim`."""
    from ember._tensor import _wrap_dim
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = _wrap_dim(dim, input.dim())
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension "
                           f"{dim} is size {n}")
    _check_float("glu_cpu", input)
    return Glu.apply(input, dim=dim)


class Glu(ArrayFunction):
    """a sigmoid(b) for the halves a, b of `dim`: one node with one edge (GluBackward0), as
    torch. Gradients g sigmoid(b) for a and g a sigmoid(b) (1 - sigmoid(b)) for b, side by
    side. Half types as torch: forward a / (1 + exp(-b)) in float32, rounded once; backward
    from sigmoid(b) rounded to the half type, (1 - s) s a g in float32 for b."""

    def forward(ctx, x, *, dim):
        ctx.dim = dim
        ctx.save_for_backward(x)
        if is_half(x.dtype):
            a, b = np.split(x.astype(_F32), 2, axis=dim)
            return (a * (1 / (1 + _exp32(-b)))).astype(x.dtype)
        a, b = np.split(x, 2, axis=dim)
        return np.asarray((a * _np_sigmoid(b)).astype(x.dtype, copy=False))

    def backward(ctx, grad):
        from ember._ops.manipulation import cat
        (x,) = ctx.saved_tensors
        h = x.shape[ctx.dim] // 2
        a, s = x.narrow(ctx.dim, 0, h), _sigmoid(x.narrow(ctx.dim, h, h))
        if is_half(x._data.dtype):
            gb = _opmath_grad(lambda g, s, a: (1 - s) * s * a * g, grad, s, a)
        else:
            gb = grad * a * s * (1 - s)
        return cat([grad * s, gb], ctx.dim)


def prelu(input, weight):
    """x where x > 0 else weight * x; weight has 1 or C (= input.shape[1]) entries."""
    if weight.dim() != 1 and weight.dim() != 0:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.dim()}")
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {_dtype_name(input)} and "
                           f"{_dtype_name(weight)}")
    if input._data.dtype.kind == "c":
        _check_float("prelu_cpu", input)
    n = weight.numel()
    if n != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        if input.dim() < 2 or input.shape[1] != n:
            channels = input.shape[1] if input.dim() >= 2 else 1
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {n} and channel size = {channels}.")
        wshape = (n,) + (1,) * (input.dim() - 2)
    else:
        wshape = ()
    # (torch views the weight first: the ViewBackward0 on its edge)
    return PreluKernel.apply(input, weight.view(-1), wshape=wshape)


class PreluKernel(ArrayFunction):
    """x where x > 0 else w x, w one value or one per channel (dim 1): one node with edges
    to input and weight (PreluKernelBackward0), as torch. Gradients: g where x > 0 else w g;
    for w, the sum of x g where x <= 0 (per channel)."""

    def forward(ctx, x, w, *, wshape):
        ctx.wshape = wshape
        ctx.save_for_backward(x, w)
        return np.asarray(select(x > 0, x, w.reshape(wshape) * x).astype(x.dtype, copy=False))

    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        pos = _const(x._data > 0)
        gx = gw = None
        if ctx.needs_input_grad[0]:
            gx = _where(pos, grad, w.reshape(ctx.wshape) * grad)
        if ctx.needs_input_grad[1]:
            per = _where(pos, _const(np.zeros((), x._data.dtype)), x * grad)
            dims = tuple(i for i in range(per.dim()) if not (ctx.wshape and i == 1))
            gw = per.sum(dims).reshape(w.shape) if dims else per.reshape(w.shape)
        return gx, gw


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomised leaky relu: slopes ~ U(lower, upper) on negatives in training, else their
    mean."""
    node = f"RreluWithNoiseBackward{1 if inplace else 0}"   # (torch's node either way)
    if not training:
        return _apply_inplace(input, rename_result(leaky_relu(input, (lower + upper) / 2), node),
                              inplace)
    _check_float("rrelu_with_noise_out_cpu", input)
    if input._data.dtype == np.float16:   # (torch has no float16 kernel; bfloat16 it has)
        raise NotImplementedError("\"rrelu_with_noise_out_cpu\" not implemented for 'Half'")
    y = RreluWithNoise.apply(input, lower=lower, upper=upper)
    return _apply_inplace(input, rename_result(y, node) if inplace else y, inplace)


class RreluWithNoise(ArrayFunction):
    """x where x >= 0, else x r with r ~ U(lower, upper) drawn per element in x's compute
    dtype (float32 for bfloat16); the gradient is grad * noise, noise being r rounded to x's
    dtype (1 where x >= 0). As in torch, bfloat16's forward uses the unrounded r."""

    def forward(ctx, a, *, lower, upper):
        from ember.nn.init import _rng
        r = _rng().uniform(lower, upper, size=a.shape).astype(opmath(a.dtype))
        keep = a >= 0
        ctx.noise = select(keep, 1, r).astype(a.dtype)
        return np.asarray(select(keep, a, in_opmath(lambda x, r: x * r, a, r)))

    def backward(ctx, grad):
        return grad * _const(ctx.noise)


# ---------------------------------------------------------------------------------------------
# softmax family (nn.functional's forms; dim is required there, implicit dim warns)

# (Softmax and LogSoftmax are softmax.py's ops; nn's forms below only parse dim.)

def _softmax_dim(ndim, name):
    import warnings
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(input, dim, dtype, name):
    from ember._tensor import _wrap_dim
    if dim is None:
        dim = _softmax_dim(input.dim(), name)
    dim = _wrap_dim(dim, input.dim())
    if dtype is not None:
        input = input.to(dtype)
    elif not input.is_floating_point():
        if name == "softmin":   # torch's softmin is softmax(-x): bool fails at the negation
            if input._data.dtype == np.bool_:
                raise RuntimeError("Negation, the `-` operator, on a bool tensor is not "
                                   "supported. If you are trying to invert a mask, use the `~` "
                                   "or `logical_not()` operator instead.")
            name = "softmax"
        kernel = "lastdim_kernel_impl" if dim == input.dim() - 1 or input.dim() == 0 \
            else "kernel_impl"
        raise NotImplementedError(f'"{name}_{kernel}" not implemented for '
                                  f"'{_dtype_name(input)}'")
    return input, dim


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    x, d = _softmax_input(input, dim, dtype, "softmax")
    return Softmax.apply(x, dim=d if x.dim() else None)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    x, d = _softmax_input(input, dim, dtype, "log_softmax")
    return LogSoftmax.apply(x, dim=d if x.dim() else None)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    x, d = _softmax_input(input, dim, dtype, "softmin")
    return Softmax.apply(-x, dim=d if x.dim() else None)
