"""Activations used by `nn`: relu and friends, sigmoid/tanh forms, gelu, silu, softplus ...

Each is an ArrayFunction: forward on arrays with torch's formula, backward in Tensor ops (so
double backward works). Masks of piecewise functions are computed once in forward and saved as
constants. Traps copied from torch's behaviour (not its code): relu's gradient at 0 is 0;
hardtanh/relu6 pass the gradient only strictly inside (min_val, max_val); softplus is linear
where beta * x > threshold; gelu(approximate='tanh') is the tanh formula, not erf.
"""
import math

import numpy as np

from ember._ops._helpers import inplace as _write_inplace
from ember._ops.pointwise_unary import Erf, Sigmoid, Tanh, _mask_grad, _scipy, relu as _relu
from ember._ops.reduction import LogSoftmax, Softmax
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


def _zero_like(grad):
    """A 0-d zero of grad's dtype: the masked-out branch of a where (broadcasts for free)."""
    return Tensor._make(np.zeros((), grad._data.dtype))


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
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


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
        return np.asarray(np.where(mask, a, a * np.asarray(negative_slope, a.dtype)))

    def backward(ctx, grad):
        return _where(_const(ctx.mask), grad, grad * ctx.slope)


class Hardtanh(ArrayFunction):
    """clamp(x, min_val, max_val); gradient only strictly inside (min_val, max_val)."""

    def forward(ctx, a, *, min_val, max_val):
        ctx.save_for_backward(a)   # the mask's source (see MaskedGrad)
        ctx.mask = (a > min_val) & (a < max_val)
        return np.asarray(np.clip(a, np.asarray(min_val, a.dtype), np.asarray(max_val, a.dtype)))

    def backward(ctx, grad):
        return _mask_grad(grad, ctx.mask, *ctx.saved_tensors)


class Threshold(ArrayFunction):
    """value where x <= threshold, else x (NaN is not <= anything: it passes, as in torch)."""

    def forward(ctx, a, *, threshold, value):
        ctx.save_for_backward(a)   # the mask's source (see MaskedGrad)
        ctx.mask = ~(a <= threshold)
        return np.asarray(np.where(ctx.mask, a, np.asarray(value, a.dtype)))

    def backward(ctx, grad):
        return _mask_grad(grad, ctx.mask, *ctx.saved_tensors)


class Shrink(ArrayFunction):
    """hardshrink (x where |x| > lambd, else 0) and softshrink (x -+ lambd outside)."""

    def forward(ctx, a, *, lambd, soft):
        ctx.save_for_backward(a)   # the mask's source (see MaskedGrad)
        # outside [-lambd, lambd], NaN included (torch tests the inside), as is the gradient
        ctx.mask = ~((a >= -lambd) & (a <= lambd))
        if soft:
            lam = np.asarray(lambd, a.dtype)
            return np.where(a < -lambd, a + lam, np.where(ctx.mask, a - lam, 0)).astype(
                a.dtype, copy=False)
        return np.asarray(np.where(ctx.mask, a, 0).astype(a.dtype, copy=False))

    def backward(ctx, grad):
        return _mask_grad(grad, ctx.mask, *ctx.saved_tensors)


_SIXTH = float(np.float32(1.0 / 6))   # torch's hardsigmoid slope is a float32 constant


class Hardsigmoid(ArrayFunction):
    def forward(ctx, a):
        ctx.mask = (a > -3) & (a < 3)
        return np.asarray(np.clip(a / np.asarray(6, a.dtype) + np.asarray(0.5, a.dtype), 0, 1).astype(
            a.dtype, copy=False))

    def backward(ctx, grad):
        return _where(_const(ctx.mask), grad * _SIXTH, _zero_like(grad))


class Hardswish(ArrayFunction):
    """x * relu6(x + 3) / 6; gradient 0 at and below -3, x/3 + 1/2 inside, 1 from 3 on."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.asarray((a * np.clip(a + np.asarray(3, a.dtype), 0, 6) / np.asarray(6, a.dtype)).astype(
            a.dtype, copy=False))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        d = a._data
        mid = grad * (a / 3 + 0.5)
        # torch: 0 for x <= -3, x/3 + 1/2 strictly inside, 1 for x >= 3
        return _where(_const(d <= -3), _zero_like(grad), _where(_const(d < 3), mid, grad))


# ---------------------------------------------------------------------------------------------
# Exponential family

class Elu(ArrayFunction):
    """scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1)) (elu, selu, celu)."""

    def forward(ctx, a, *, alpha, scale, input_scale, grad_input_scale=None):
        ctx.save_for_backward(a)
        # (celu's derivative in torch takes 1 / alpha from alpha rounded to float32)
        ctx.params = (alpha, scale, input_scale if grad_input_scale is None else
                      grad_input_scale)
        dt = a.dtype
        neg = np.asarray(alpha, dt) * np.expm1(np.minimum(a, 0) * np.asarray(input_scale, dt))
        return np.asarray((np.where(a > 0, a, neg) * np.asarray(scale, dt)).astype(dt, copy=False))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.params
        neg = grad * (alpha * scale * input_scale) * (a * input_scale).exp()
        return _where(_const(a._data > 0), grad * scale, neg)


def _elu_family(input, kind, inplace, **params):
    """elu, selu or celu as one Elu op, its node named as torch's (kind 'Elu' or 'Celu'; in
    place, the *Backward1 overload)."""
    y = Elu.apply(input, **params)
    if inplace or kind != "Elu":
        rename_result(y, f"{kind}Backward{1 if inplace else 0}")
    return _apply_inplace(input, y, inplace)


class Softplus(ArrayFunction):
    """log(1 + exp(beta x)) / beta, linear where beta * x > threshold."""

    def forward(ctx, a, *, beta, threshold):
        ctx.save_for_backward(a)
        ctx.beta, ctx.threshold = beta, threshold
        bx = a * np.asarray(beta, a.dtype)
        soft = np.logaddexp(0, bx) / np.asarray(beta, a.dtype)
        return np.asarray(np.where(bx > threshold, a, soft).astype(a.dtype, copy=False))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        lin = _const(a._data * ctx.beta > ctx.threshold)
        return _where(lin, grad, grad * _sigmoid(a * ctx.beta))


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


class Gelu(ArrayFunction):
    """x * Phi(x) (exact, erf) or the tanh approximation."""

    def forward(ctx, a, *, approximate):
        ctx.save_for_backward(a)
        ctx.approximate = approximate
        dt = a.dtype
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
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(over="ignore"):
            return (a * _np_sigmoid(a)).astype(a.dtype, copy=False)

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        s = _sigmoid(a)
        return grad * s * (1 + a * (1 - s))


class Mish(ArrayFunction):
    """x * tanh(softplus(x))."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.asarray((a * np.tanh(np.logaddexp(0, a))).astype(a.dtype, copy=False))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        t = _tanh(Softplus.apply(a, beta=1, threshold=20))
        return grad * (t + a * (1 - t * t) * _sigmoid(a))


class LogSigmoid(ArrayFunction):
    """-softplus(-x), computed as min(x, 0) - log1p(exp(-|x|))."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.asarray((np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a)))).astype(a.dtype, copy=False))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
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
    top = float(np.finfo(input._data.dtype).max)
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
    side. Half types are computed in float32 and rounded once."""

    def forward(ctx, x, *, dim):
        ctx.dim = dim
        ctx.save_for_backward(x)
        xc = x.astype(np.float32) if x.dtype.itemsize == 2 else x
        a, b = np.split(xc, 2, axis=dim)
        return np.asarray((a * _np_sigmoid(b)).astype(x.dtype, copy=False))

    def backward(ctx, grad):
        from ember._ops.manipulation import cat
        (x,) = ctx.saved_tensors
        h = x.shape[ctx.dim] // 2
        a, s = x.narrow(ctx.dim, 0, h), _sigmoid(x.narrow(ctx.dim, h, h))
        return cat([grad * s, grad * a * s * (1 - s)], ctx.dim)


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
        return np.asarray(np.where(x > 0, x, w.reshape(wshape) * x).astype(x.dtype, copy=False))

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
    from ember.nn.init import _rng
    a = input._data
    slopes = _rng().uniform(lower, upper, size=a.shape).astype(a.dtype)
    slopes = np.where(a >= 0, 1, slopes).astype(a.dtype)
    return _apply_inplace(input, rename_result(input * _const(slopes), node), inplace)


# ---------------------------------------------------------------------------------------------
# softmax family (nn.functional's forms; dim is required there, implicit dim warns)

# (Softmax and LogSoftmax are reduction.py's ops; nn's forms below only parse dim.)

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
