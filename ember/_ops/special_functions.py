"""torch.special's Bessel and Airy functions, orthogonal polynomials and incomplete gamma
functions (`torch.igamma`, `torch.igammac`, `torch.special.gammainc`, `gammaincc`).

Torch's traps kept here:
- None of the Bessel/Airy functions or polynomials is differentiable in torch: their results
  never require grad, so `backward` on them raises "element 0 of tensors does not require
  grad". igamma/igammac have a gradient for `other` only; for `input` backward raises
  NotImplementedError("the derivative for 'igamma: input' is not implemented.").
- Integer and bool inputs compute in the default float dtype, except igamma/igammac, which
  refuse integer results ("igamma_cpu" not implemented for 'Long') and, unlike the rest,
  accept float16/bfloat16 (computed in float32).
- Polynomials take `n` as a tensor or a Python number, promoted with `x` to one float dtype and
  then truncated toward zero; n < 0, NaN, +-inf and |n| >= 2**63 give 0. They are evaluated as
  torch does: exact values at the edges (|x| == 1; x == 0, 1 for the shifted ones), the
  trigonometric closed form for |x| < 1 above a small degree (Chebyshev), else the three-term
  recurrence in the input's dtype (so overflow gives inf, then NaN, as in torch). Where torch
  reads an uninitialised value (x NaN and n >= 2 in some of them) ember returns NaN.
- SciPy's Bessel values are more accurate than torch's float64 ones for j0/j1/y0/y1 on
  5 < |x| < 25 and airy_ai on -10 < x < 0 (torch: ~1e-6 absolute error there).
"""
import math

import numpy as np

from ember import _dtype
from ember._backend import scipy_special, xp_of
from ember._ops._helpers import inplace, is_tensor, promote, write_out
from ember._ops.pointwise_logic import broadcast_errors
from ember._ops.pointwise_unary import _SPLIT_MIN, _scipy, lgamma
from ember._tensor import Tensor
from ember._threads import two_way
from ember.autograd.function import ArrayFunction

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
           "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
           "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "spherical_bessel_j0", "chebyshev_polynomial_t", "chebyshev_polynomial_u",
           "chebyshev_polynomial_v", "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p", "gammainc", "gammaincc", "igamma",
           "igammac"]

_asarray = np.asarray


def _type_name(dt):
    """'Float', 'Half', 'ComplexFloat' ...: the name torch's kernel errors use."""
    return dt._legacy.replace("Tensor", "")


def _not_implemented(kernel, dt):
    return NotImplementedError(f'"{kernel}_cpu" not implemented for \'{_type_name(dt)}\'')


def _float_dtype(dt, kernel):
    """The dtype a non-differentiable special function computes in: the default float dtype
    for integer and bool inputs; half types and complex inputs have no kernel in torch."""
    if dt.is_complex or (dt.is_floating_point and dt.itemsize == 2):
        raise _not_implemented(kernel, dt)
    return dt if dt.is_floating_point else _dtype.get_default_dtype()


def _finish(array, out):
    r = Tensor._make(array)   # (no derivative in torch: out= is not checked for autograd)
    return r if out is None else write_out(out, r, grad=False)


# ---------------------------------------------------------------------------------------------
# Bessel and Airy functions of one argument (no gradient in torch)

def _airy_values(src):
    """SciPy's Ai (it computes Ai, Ai', Bi, Bi' at once), a large input in two halves on two
    threads."""
    airy = scipy_special(src).airy
    if src.size < _SPLIT_MIN or type(src) is not np.ndarray:
        return _asarray(airy(src)[0])
    flat = np.ascontiguousarray(src).reshape(-1)
    outs = tuple(np.empty(flat.shape) for _ in range(4))
    two_way(lambda lo, hi: airy(flat[lo:hi], out=tuple(o[lo:hi] for o in outs)), flat.size,
            flat.size, _SPLIT_MIN)
    return outs[0].reshape(src.shape)


def _airy_ai(x):
    """Ai(x). SciPy gives NaN for |x| >= ~1e8; torch gives 0 on the right and the asymptotic
    oscillation pi^-1/2 |x|^-1/4 sin(2/3 |x|^3/2 + pi/4) on the left."""
    src = x.astype(np.float64)
    out = _airy_values(src)
    lost = np.isnan(out) & np.isfinite(src)
    if lost.any():
        z = np.abs(src[lost])
        tail = np.sin(2.0 / 3.0 * z * np.sqrt(z) + math.pi / 4) / (math.sqrt(math.pi) * z ** 0.25)
        out[lost] = np.where(src[lost] > 0, 0.0, tail)
    out = out.astype(x.dtype, copy=False)
    # torch's kernel computes 2 |x|^3/2, NaN once that overflows; in float32 it underflows
    # to 0 from x = 25.7709
    out[x < -(np.finfo(x.dtype).max / 2.0) ** (2.0 / 3.0)] = np.nan
    if x.dtype == np.float32:
        out[(x > np.float32(25.7708969)) & (x < np.inf)] = 0
    return out


def _i_overflow(fn, odd):
    """I0 or I1; torch's float32 kernel scales by exp(|x|) in float32, so it returns inf once
    that overflows (|x| > 88.7228) although the value itself still fits, and NaN at +-inf."""
    def kernel(x):
        out = _scipy(fn, x)
        if x.dtype == np.float32:
            big = np.abs(x) > np.float32(88.7228164)
            if big.any():
                out[big] = np.copysign(np.inf, x[big]) if odd else np.inf
                out[np.isinf(x)] = np.nan
        return out
    return kernel


def _spherical_j0(x):
    """sin(x) / x: 1 at 0, 0 at +-inf (computed in float64, so float32 is correctly rounded)."""
    src = x.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = _asarray(np.sin(src) / src)
    out[src == 0] = 1.0
    out[np.isinf(src)] = 0.0
    return out.astype(x.dtype, copy=False)


def _bessel(name, kernel, arg, doc):
    def op(input, *, out=None):
        if not is_tensor(input):
            raise TypeError(f"special_{name}(): argument '{arg}' (position 1) must be Tensor, "
                            f"not {type(input).__name__}")
        dt = _float_dtype(input.dtype, name)
        x = input._data if input.dtype is dt else input._data.astype(dt.np)
        with np.errstate(all="ignore"):
            r = _asarray(kernel(x))
        return _finish(r, out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"{doc} Not differentiable (as in torch); integers give the default float "
                  f"dtype, float16/bfloat16 and complex raise NotImplementedError.")
    if arg == "x":   # torch names this argument x (the others input)
        def op_x(x, *, out=None):
            return op(x, out=out)
        op_x.__name__ = op_x.__qualname__ = name
        op_x.__doc__ = op.__doc__
        return op_x
    return op


airy_ai = _bessel("airy_ai", _airy_ai, "x", "The Airy function Ai(x).")
bessel_j0 = _bessel("bessel_j0", lambda x: _scipy("j0", x), "input",
                    "The Bessel function of the first kind J0.")
bessel_j1 = _bessel("bessel_j1", lambda x: _scipy("j1", x), "input",
                    "The Bessel function of the first kind J1.")
bessel_y0 = _bessel("bessel_y0", lambda x: _scipy("y0", x), "input",
                    "The Bessel function of the second kind Y0 (NaN for x < 0).")
bessel_y1 = _bessel("bessel_y1", lambda x: _scipy("y1", x), "input",
                    "The Bessel function of the second kind Y1 (NaN for x < 0).")
modified_bessel_i0 = _bessel("modified_bessel_i0", _i_overflow("i0", False), "input",
                             "The modified Bessel function of the first kind I0.")
modified_bessel_i1 = _bessel("modified_bessel_i1", _i_overflow("i1", True), "input",
                             "The modified Bessel function of the first kind I1.")
modified_bessel_k0 = _bessel("modified_bessel_k0", lambda x: _scipy("k0", x), "input",
                             "The modified Bessel function of the second kind K0.")
modified_bessel_k1 = _bessel("modified_bessel_k1", lambda x: _scipy("k1", x), "input",
                             "The modified Bessel function of the second kind K1.")
scaled_modified_bessel_k0 = _bessel("scaled_modified_bessel_k0", lambda x: _scipy("k0e", x),
                                    "x", "exp(x) K0(x).")
scaled_modified_bessel_k1 = _bessel("scaled_modified_bessel_k1", lambda x: _scipy("k1e", x),
                                    "x", "exp(x) K1(x).")
spherical_bessel_j0 = _bessel("spherical_bessel_j0", _spherical_j0, "x",
                              "The spherical Bessel function of the first kind j0 = sin(x)/x.")


# ---------------------------------------------------------------------------------------------
# Orthogonal polynomials P_n(x) (no gradient in torch)

_TWO63 = 2.0 ** 63


def _degree(n):
    """n (a float array) as torch's int64 degree: truncated toward zero; NaN, +-inf and values
    out of int64's range convert to int64's minimum (x86's conversion), which is negative."""
    ok = np.isfinite(n) & (np.abs(n) < _TWO63)
    if ok.all():
        return n.astype(np.int64)
    return np.where(ok, np.where(ok, n, 0).astype(np.int64), np.int64(-1))


_NAN_CHECK = 64   # steps between checks whether every running element has turned NaN


def _recurrence(x, k, q1, step):
    """P_k(x) for degrees k >= 2 (one int, or an int64 array like x) from P_0 = 1, P_1 = q1 and
    P_{j+1} = step(j, x, P_{j-1}, P_j). NaN stays NaN, so the loop may stop early once every
    element still running is NaN (torch's loop stops on NaN too)."""
    p, q = np.ones_like(x), q1
    if not isinstance(k, np.ndarray):
        for j in range(1, k):
            p, q = q, step(j, x, p, q)
            if j % _NAN_CHECK == 0 and np.isnan(q).all():
                break
        return q
    # degrees differ: sorted by degree, the elements still running are a tail of the arrays
    order = np.argsort(k.astype(np.int16) if k.max() < 2 ** 15 else k, kind="stable")
    k, x, q = k[order], x[order], q[order]
    done = np.empty_like(x)
    start, j = 0, 1
    while True:   # here q holds P_j of the elements order[start:]
        end = int(np.searchsorted(k, j, side="right"))
        if end > start:
            done[start:end] = q[:end - start]
            x, p, q = x[end - start:], p[end - start:], q[end - start:]
            start = end
        if start == k.size:
            break
        if j % _NAN_CHECK == 0 and np.isnan(q).all():
            done[start:] = np.nan
            break
        p, q = q, step(j, x, p, q)
        j += 1
    out = np.empty_like(done)
    out[order] = done
    return out


def _polynomial(x, n, first, step, edges=(), trig=None):
    """P_n(x) elementwise over broadcast float arrays x and n, in x's dtype.

    first(x) is P_1; edges are (mask(x, k), value(x, k)) pairs torch checks in order before
    anything else (for n >= 0); trig = (min_degree, inside(x), value(x, k)) is the closed form
    torch uses for degrees above min_degree where inside(x) holds. One degree for all elements
    (a number n, the common case) takes a path without per-element degrees."""
    shape = np.broadcast_shapes(x.shape, n.shape)
    x = np.broadcast_to(x, shape).reshape(-1)
    if n.size == 1:
        k = int(_degree(n.reshape(-1))[0])
        if k < 0:
            return np.zeros(shape, x.dtype)
        todo = np.ones(x.shape, bool)
    else:
        k = _degree(np.broadcast_to(n, shape).reshape(-1))
        todo = k >= 0                          # n < 0 gives 0
    per_element = isinstance(k, np.ndarray)
    out = np.zeros(x.shape, x.dtype)
    rules = list(edges)
    if trig is not None and (per_element or k > trig[0]):
        low, inside, value = trig
        rules.append((lambda xs, ks: (ks > low) & inside(xs), value))
    for mask, value in rules:
        hit = mask(x, k) & todo
        if hit.any():
            out[hit] = value(x[hit], k[hit] if per_element else k)
            todo &= ~hit
    if not per_element:
        if todo.all():
            return _degree_k(x, k, first, step).reshape(shape)
        if todo.any():
            out[todo] = _degree_k(x[todo], k, first, step)
        return out.reshape(shape)
    for low, high in ((0, 0), (1, 1), (2, None)):
        sel = todo & (k >= low) if high is None else todo & (k == low)
        if sel.any():
            xs = x[sel]
            out[sel] = 1 if low == 0 else first(xs) if low == 1 else \
                _recurrence(xs, k[sel], first(xs), step)
    return out.reshape(shape)


def _degree_k(x, k, first, step):
    """P_k(x) for one degree k >= 0."""
    if k == 0:
        return np.ones_like(x)
    return first(x) if k == 1 else _recurrence(x, k, first(x), step)


def _c(x, v):
    """A constant in x's dtype (NumPy would widen float32 by an int64 array)."""
    return x.dtype.type(v)


def _fma(a, b, c):
    """a * b + c rounded once, as torch's recurrences are compiled (fused multiply-add): the
    product does not overflow or round on its own, which decides where inf turns into NaN.
    float32 is emulated exactly in float64; float64 is computed plainly (equal but for the
    last bit) and only where that overflows while P_j is finite again in long double."""
    if a.dtype == np.float32:
        return (a.astype(np.float64) * b + c).astype(np.float32)
    r = a * b + c
    over = ~np.isfinite(r)
    if over.any():
        over &= np.isfinite(b)
        if over.any():
            wide = np.longdouble
            r[over] = (a[over].astype(wide) * b[over].astype(wide) + c[over]).astype(r.dtype)
    return r


def _rounded(fn, v):
    """fn(v) correctly rounded to float32 (NumPy's own float32 trigonometry is a few ulp off
    the C library's that torch calls, which n * arccos(x) magnifies)."""
    if v.dtype == np.float32:
        return fn(v.astype(np.float64)).astype(np.float32)
    return fn(v)


def _sign_by_parity(k, value):
    """value for even k, -value for odd k."""
    return np.where(k % 2 == 0, value, -value)


def _both_ends(x, k):
    return np.abs(x) == 1


def _chebyshev(kind, shifted):
    """T, U, V, W: P_{j+1} = 2y P_j - P_{j-1} with y = x, or y = 2x - 1 when shifted; they
    differ in P_1 (y, 2y, 2y - 1, 2y + 1), in the values at y = +-1 and in the closed form."""
    def y_of(x):
        return x + x - _c(x, 1) if shifted else x

    firsts = {"t": lambda y: y, "u": lambda y: y + y, "v": lambda y: y + y - _c(y, 1),
              "w": lambda y: y + y + _c(y, 1)}

    def first(x):
        return firsts[kind](y_of(x))

    def step(j, x, p, q):
        y = y_of(x)
        return _fma(y + y, q, -p)

    # P_n(1) and P_n(-1): T 1, (-1)^n; U n+1, (-1)^n (n+1); V 1, (-1)^n (2n+1); W 2n+1, (-1)^n
    def at_plus_one(x, k):
        return {"t": 1, "u": k + 1, "v": 1, "w": k + k + 1}[kind] * np.ones_like(x)

    def at_minus_one(x, k):
        size = {"t": 1, "u": k + 1, "v": k + k + 1, "w": 1}[kind]
        return _sign_by_parity(k, size * np.ones_like(x))

    def edge(x, k):
        plus = x > 0
        return np.where(plus, at_plus_one(x, k), at_minus_one(x, k)).astype(x.dtype)

    if shifted:   # torch checks x == 1 and x == 0 (y = +-1) exactly, before computing y
        edges = ((lambda x, k: x == 1, lambda x, k: at_plus_one(x, k).astype(x.dtype)),
                 (lambda x, k: x == 0, lambda x, k: at_minus_one(x, k).astype(x.dtype)))
    else:
        edges = ((_both_ends, edge),)

    def closed(x, k):
        # T cos(n t), U sin((n+1) t) / sin t, V cos((n+1/2) t) / cos(t/2),
        # W sin((n+1/2) t) / sin(t/2) with t = arccos(y); where the float division is 0/0
        # (y within rounding of -1 for V, of 1 for W) torch returns the edge value instead
        t = _rounded(np.arccos, y_of(x))
        n = np.asarray(k).astype(x.dtype)
        if kind == "t":
            return _rounded(np.cos, n * t)
        if kind == "u":
            s = _rounded(np.sin, t)
            n1 = n + _c(x, 1)
            return np.where(s != 0, _rounded(np.sin, n1 * t) / np.where(s != 0, s, 1),
                            n1 * _rounded(np.cos, n1 * t) / _rounded(np.cos, t))
        half = t / _c(x, 2)
        m = n + _c(x, 0.5)
        if kind == "v":
            flat = _rounded(np.sin, half) == 1
            return np.where(flat, at_minus_one(x, k),
                            _rounded(np.cos, m * t) / _rounded(np.cos, half))
        flat = _rounded(np.cos, half) == 1
        return np.where(flat, edge(x, k), _rounded(np.sin, m * t) / _rounded(np.sin, half))

    # torch switches to the closed form above degree 6 (T, and shifted T, U, V), 8 (U, V, W)
    # or 4 (shifted W)
    low = {(False, "t"): 6, (False, "u"): 8, (False, "v"): 8, (False, "w"): 8,
           (True, "t"): 6, (True, "u"): 6, (True, "v"): 6, (True, "w"): 4}[(shifted, kind)]
    trig = (low, lambda x: np.abs(y_of(x)) < 1, closed)
    return lambda x, n: _polynomial(x, n, first, step, edges, trig)


def _hermite_h_step(j, x, p, q):
    """H_{j+1} = 2x H_j - 2j H_{j-1}."""
    return _fma(x + x, q, -(_c(x, 2 * j) * p))


def _hermite_he_step(j, x, p, q):
    """He_{j+1} = x He_j - j He_{j-1}."""
    return _fma(x, q, -(_c(x, j) * p))


def _laguerre_step(j, x, p, q):
    """L_{j+1} = ((2j + 1 - x) L_j - j L_{j-1}) / (j + 1)."""
    return _fma(_c(x, 2 * j) + (_c(x, 1) - x), q, -(_c(x, j) * p)) / _c(x, j + 1)


def _legendre_step(j, x, p, q):
    """P_{j+1} = ((2j + 1) x P_j - j P_{j-1}) / (j + 1)."""
    return _fma(_c(x, 2 * j + 1) * x, q, -(_c(x, j) * p)) / _c(x, j + 1)


def _legendre_edge(x, k):
    return np.where((x > 0) | (k % 2 == 0), 1, -1).astype(x.dtype)


_KERNELS = {
    "chebyshev_polynomial_t": _chebyshev("t", False),
    "chebyshev_polynomial_u": _chebyshev("u", False),
    "chebyshev_polynomial_v": _chebyshev("v", False),
    "chebyshev_polynomial_w": _chebyshev("w", False),
    "shifted_chebyshev_polynomial_t": _chebyshev("t", True),
    "shifted_chebyshev_polynomial_u": _chebyshev("u", True),
    "shifted_chebyshev_polynomial_v": _chebyshev("v", True),
    "shifted_chebyshev_polynomial_w": _chebyshev("w", True),
    "hermite_polynomial_h": lambda x, n: _polynomial(x, n, lambda x: x + x, _hermite_h_step),
    "hermite_polynomial_he": lambda x, n: _polynomial(x, n, lambda x: x, _hermite_he_step),
    # L_n(0) = 1 is checked first
    "laguerre_polynomial_l": lambda x, n: _polynomial(
        x, n, lambda x: _c(x, 1) - x, _laguerre_step,
        ((lambda x, k: x == 0, lambda x, k: np.ones_like(x)),)),
    "legendre_polynomial_p": lambda x, n: _polynomial(
        x, n, lambda x: x, _legendre_step, ((_both_ends, _legendre_edge),)),
}

_POLY_DOCS = {
    "chebyshev_polynomial_t": "The Chebyshev polynomial of the first kind T_n(x).",
    "chebyshev_polynomial_u": "The Chebyshev polynomial of the second kind U_n(x).",
    "chebyshev_polynomial_v": "The Chebyshev polynomial of the third kind V_n(x).",
    "chebyshev_polynomial_w": "The Chebyshev polynomial of the fourth kind W_n(x).",
    "shifted_chebyshev_polynomial_t": "The shifted Chebyshev polynomial T*_n(x) = T_n(2x - 1).",
    "shifted_chebyshev_polynomial_u": "The shifted Chebyshev polynomial U*_n(x) = U_n(2x - 1).",
    "shifted_chebyshev_polynomial_v": "The shifted Chebyshev polynomial V*_n(x) = V_n(2x - 1).",
    "shifted_chebyshev_polynomial_w": "The shifted Chebyshev polynomial W*_n(x) = W_n(2x - 1).",
    "hermite_polynomial_h": "The physicists' Hermite polynomial H_n(x).",
    "hermite_polynomial_he": "The probabilists' Hermite polynomial He_n(x).",
    "laguerre_polynomial_l": "The Laguerre polynomial L_n(x).",
    "legendre_polynomial_p": "The Legendre polynomial P_n(x).",
}


def _polynomial_op(name):
    kernel = _KERNELS[name]

    @broadcast_errors
    def op(x, n, *, out=None):
        if not is_tensor(x) and not is_tensor(n):
            raise TypeError(
                f"special_{name}() received an invalid combination of arguments - got "
                f"({type(x).__name__}, {type(n).__name__}), but expected one of:\n"
                f" * (Tensor x, Tensor n, *, Tensor out = None)\n"
                f" * (Number x, Tensor n, *, Tensor out = None)\n"
                f" * (Tensor x, Number n, *, Tensor out = None)\n")
        a, b, rd = promote(x, n)
        rd = rd or a.dtype
        dt = _float_dtype(rd, name)
        xa = a._data if is_tensor(a) else a
        na = b._data if is_tensor(b) else b
        xa = _asarray(xa).astype(dt.np, copy=False)
        na = _asarray(na).astype(dt.np, copy=False)
        with np.errstate(all="ignore"):   # inf and NaN are values here, as in torch
            r = _asarray(kernel(xa, na))
        return _finish(r, out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"{_POLY_DOCS[name]} `n` is a tensor or a number, truncated to an integer "
                  f"(n < 0 gives 0); x and n broadcast and promote to one float dtype. Not "
                  f"differentiable (as in torch).")
    return op


chebyshev_polynomial_t = _polynomial_op("chebyshev_polynomial_t")
chebyshev_polynomial_u = _polynomial_op("chebyshev_polynomial_u")
chebyshev_polynomial_v = _polynomial_op("chebyshev_polynomial_v")
chebyshev_polynomial_w = _polynomial_op("chebyshev_polynomial_w")
shifted_chebyshev_polynomial_t = _polynomial_op("shifted_chebyshev_polynomial_t")
shifted_chebyshev_polynomial_u = _polynomial_op("shifted_chebyshev_polynomial_u")
shifted_chebyshev_polynomial_v = _polynomial_op("shifted_chebyshev_polynomial_v")
shifted_chebyshev_polynomial_w = _polynomial_op("shifted_chebyshev_polynomial_w")
hermite_polynomial_h = _polynomial_op("hermite_polynomial_h")
hermite_polynomial_he = _polynomial_op("hermite_polynomial_he")
laguerre_polynomial_l = _polynomial_op("laguerre_polynomial_l")
legendre_polynomial_p = _polynomial_op("legendre_polynomial_p")


# ---------------------------------------------------------------------------------------------
# Regularized incomplete gamma functions

def _incomplete_gamma(a, x, upper):
    """P(a, x) (or Q = 1 - P when upper) on SciPy, in a's dtype (half types computed in
    float32). Where SciPy says NaN for a NaN argument torch has a value: P = 0 at x == 0 and
    P = 1 at x == inf whatever a is, P = 0 at a == inf whatever x is."""
    dt = a.dtype
    if dt.itemsize < 4:
        a, x = a.astype(np.float32), x.astype(np.float32)
    sp = scipy_special(a)
    out = _asarray((sp.gammaincc if upper else sp.gammainc)(a, x))
    xp = xp_of(out)
    nan_a, nan_x = xp.isnan(a), xp.isnan(x)
    if nan_a.any() or nan_x.any():
        a, x = xp.broadcast_arrays(a, x)
        nan_a, nan_x = xp.broadcast_arrays(nan_a, nan_x)
        for mask, p in ((nan_a & (x == 0), 0.0), (nan_a & xp.isposinf(x), 1.0),
                        (nan_x & xp.isposinf(a), 0.0)):
            out[mask] = 1.0 - p if upper else p
    return out.astype(dt, copy=False)


class Igamma(ArrayFunction):
    """P(a, x), the regularized lower incomplete gamma function; d/dx = x^(a-1) e^-x / Gamma(a);
    torch has no derivative for a."""

    upper = False

    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        return _incomplete_gamma(a, x, ctx.upper)

    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(f"the derivative for '{'igammac' if ctx.upper else 'igamma'}"
                                      f": input' is not implemented.")
        density = ((a - 1) * x.log() - x - lgamma(a)).exp()
        return None, (-grad if ctx.upper else grad) * density


class Igammac(Igamma):
    """Q(a, x) = 1 - P(a, x); d/dx = -x^(a-1) e^-x / Gamma(a)."""

    upper = True


def _gamma_op(name, cls, api_name, kernel):
    @broadcast_errors
    def op(input, other, *, out=None):
        for pos, (arg, v) in enumerate((("input", input), ("other", other)), 1):
            if not is_tensor(v):
                raise TypeError(f"{api_name}(): argument '{arg}' (position {pos}) must be "
                                f"Tensor, not {type(v).__name__}")
        a, x, rd = promote(input, other)
        rd = rd or a.dtype
        if not rd.is_floating_point:
            raise _not_implemented(kernel, rd)
        r = cls.apply(a, x)
        return r if out is None else write_out(out, r)
    op.__name__ = op.__qualname__ = name
    return op


gammainc = _gamma_op("gammainc", Igamma, "special_gammainc", "igamma")
gammainc.__doc__ = ("The regularized lower incomplete gamma function P(input, other); gradient "
                    "for other only (as in torch). Both arguments must be tensors.")
gammaincc = _gamma_op("gammaincc", Igammac, "special_gammaincc", "igammac")
gammaincc.__doc__ = ("The regularized upper incomplete gamma function Q(input, other) = 1 - P; "
                     "gradient for other only (as in torch).")
igamma = _gamma_op("igamma", Igamma, "igamma", "igamma")
igamma.__doc__ = "torch.igamma: an alias of torch.special.gammainc."
igammac = _gamma_op("igammac", Igammac, "igammac", "igammac")
igammac.__doc__ = "torch.igammac: an alias of torch.special.gammaincc."


def _igamma_(self, other):
    return inplace(self, igamma(self, other))


def _igammac_(self, other):
    return inplace(self, igammac(self, other))


_igamma_.__name__ = _igamma_.__qualname__ = "igamma_"
_igammac_.__name__ = _igammac_.__qualname__ = "igammac_"

for _name, _fn in (("igamma", igamma), ("igammac", igammac), ("igamma_", _igamma_),
                   ("igammac_", _igammac_)):
    setattr(Tensor, _name, _fn)
