"""torch.signal.windows: SciPy-style window functions of `M` points.

Every window takes `sym=True` (symmetric, for filter design) or `sym=False` (periodic, for
spectral analysis: the symmetric window of M + 1 points with its last point dropped), and
torch's factory keywords `dtype` (float32 or float64 only), `layout`, `device`,
`requires_grad`.

Traps worth knowing, all torch's:
- Checks run in the order M >= 0, layout, dtype, then the window's own parameters; a bad
  parameter raises even for M = 0.
- M = 0 gives an empty leaf; M = 1 gives a leaf `ones(1)` for bartlett, kaiser and the cosine
  sums, but cosine, gaussian and exponential compute their single point (so with
  requires_grad=True it is a non-leaf, and exponential's `center` still moves it).
- torch computes in the requested dtype, float32 included: the sample points come from its
  linspace (fused multiply-adds from both ends) and each step rounds to the dtype. We follow
  the same steps in NumPy so float32 windows agree to an ulp or two.
- With requires_grad=True the result's grad_fn is torch's (RsubBackward1, SumBackward1,
  SinBackward0, ExpBackward0, DivBackward0): the last step runs as an ember op on a leaf that
  requires grad and that the caller never sees, as in torch.
"""
import math
import operator
from collections.abc import Iterable

import numpy as np

from ember import _dtype, strided
from ember._ops.creation import _check_device, _finish, tensor
from ember._tensor import Tensor

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


# ---------------------------------------------------------------------------------------------
# Shared helpers

def _check(name, M, dtype, layout):
    """torch's common checks, in its order (M, layout, dtype); returns the ember dtype."""
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype is None:
        dtype = _dtype.get_default_dtype()
    if not any(dtype is d for d in (_dtype.float32, _dtype.float64)):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _constant(value, npd, device, requires_grad):
    """The leaf torch returns for M = 0 (empty) or M = 1 (ones)."""
    _check_device(device)
    return _finish(np.full(int(value == 1), 1, npd), requires_grad)


def _steps(M):
    """M as linspace's integer step count (a float M fails there, as in torch)."""
    try:
        return operator.index(M)
    except TypeError:
        raise TypeError(f"linspace(): argument 'steps' must be int, not "
                        f"{type(M).__name__}") from None


def _extended(n, sym):
    """SciPy's length L: a periodic window is the first n points of a symmetric one of
    n + 1 points (one point stays one point)."""
    return n + 1 if not sym and n > 1 else n


def _linspace(start, end, n, npd):
    """torch's CPU linspace with its rounding: step = (end - start) / (n - 1) in the dtype;
    the first n // 2 points are fma(step, i, start), the rest fma(-step, n - 1 - i, end).
    The fused multiply-add runs in float64: for float32 that is one rounding, as in torch
    (float64 rounds twice, an ulp off at worst)."""
    if n == 1:
        return np.array([start], npd)
    s, e = npd.type(float(start)), npd.type(float(end))
    step = (e - s) / npd.type(n - 1)
    i = np.arange(n, dtype=np.float64)
    up = np.float64(s) + np.float64(step) * i
    down = np.float64(e) - np.float64(step) * (n - 1 - i)
    return np.where(i < n // 2, up, down).astype(npd)


def _leaf(array, requires_grad):
    """A tensor over `array`; with requires_grad it is the hidden leaf of torch's graph."""
    return _finish(array, requires_grad)


def _positive(value, what):
    if value <= 0:
        raise ValueError(f"{what} must be positive, got: {value} instead.")


# ---------------------------------------------------------------------------------------------
# Windows with their own formula

def bartlett(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
             requires_grad: bool = False) -> Tensor:
    """The triangle w_n = 1 - |2n / (L - 1) - 1|, L = M (M + 1 when periodic)."""
    npd = _check("bartlett", M, dtype, layout).np
    if M == 0 or M == 1:
        return _constant(M, npd, device, requires_grad)
    _check_device(device)
    n = _steps(M)
    step = 2.0 / (_extended(n, sym) - 1)
    k = _leaf(_linspace(-1, -1 + (n - 1) * step, n, npd), requires_grad)
    return 1 - k.abs()


def cosine(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
           requires_grad: bool = False) -> Tensor:
    """The sine window w_n = sin(pi (n + 1/2) / L), L = M (M + 1 when periodic)."""
    npd = _check("cosine", M, dtype, layout).np
    if M == 0:
        return _constant(M, npd, device, requires_grad)
    _check_device(device)
    n = _steps(M)
    step = math.pi / _extended(n, sym)
    k = _linspace(0.5 * step, (0.5 + n - 1) * step, n, npd)
    return _leaf(k, requires_grad).sin()


def exponential(M: int, *, center=None, tau: float = 1.0, sym: bool = True, dtype=None,
                layout=strided, device=None, requires_grad: bool = False) -> Tensor:
    """The Poisson window w_n = exp(-|n - center| / tau); center defaults to (L - 1) / 2,
    L = M (M + 1 when periodic), and may only be given for a periodic window."""
    npd = _check("exponential", M, dtype, layout).np
    _positive(tau, "Tau")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M == 0:
        return _constant(M, npd, device, requires_grad)
    _check_device(device)
    n = _steps(M)
    if center is None:
        center = (_extended(n, sym) - 1) / 2.0
    scale = 1 / tau
    k = _linspace(-center * scale, (-center + n - 1) * scale, n, npd)
    return _leaf(-np.abs(k), requires_grad).exp()


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None, layout=strided,
             device=None, requires_grad: bool = False) -> Tensor:
    """w_n = exp(-(n - (L - 1) / 2)^2 / (2 std^2)), L = M (M + 1 when periodic)."""
    npd = _check("gaussian", M, dtype, layout).np
    _positive(std, "Standard deviation")
    if M == 0:
        return _constant(M, npd, device, requires_grad)
    _check_device(device)
    n = _steps(M)
    start = -(_extended(n, sym) - 1) / 2.0
    scale = 1 / (std * math.sqrt(2))   # k = (n - center) / (std sqrt 2), w = exp(-k^2)
    k = _linspace(start * scale, (start + n - 1) * scale, n, npd)
    return _leaf(-(k * k), requires_grad).exp()


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None, layout=strided,
           device=None, requires_grad: bool = False) -> Tensor:
    """w_n = I0(beta sqrt(1 - (2n / (L - 1) - 1)^2)) / I0(beta), L = M (M + 1 when
    periodic), written as I0(sqrt(beta^2 - k^2)) / I0(beta) for k from -beta in steps of
    2 beta / (L - 1). A beta so large that I0 overflows gives nan (inf / inf), as in torch."""
    npd = _check("kaiser", M, dtype, layout).np
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M == 0 or M == 1:
        return _constant(M, npd, device, requires_grad)
    _check_device(device)
    n = _steps(M)
    with np.errstate(all="ignore"):   # (an infinite or huge beta: nan and inf, silently)
        # torch keeps beta as a tensor of the dtype: the end point is rounded arithmetic too
        b = npd.type(float(beta))
        step = npd.type(2.0) * b / npd.type(_extended(n, sym) - 1)
        end = np.minimum(b, -b + npd.type(n - 1) * step)
        k = _linspace(-b, end, n, npd)
        top = np.i0(np.sqrt(b * b - k * k)).astype(npd)
        bottom = np.i0(np.array([b])).astype(npd)
        return _leaf(top, requires_grad) / _leaf(bottom, False)


# ---------------------------------------------------------------------------------------------
# Sums of cosines: general_cosine and the named windows built on it

def general_cosine(M, *, a: Iterable, sym: bool = True, dtype=None, layout=strided,
                   device=None, requires_grad: bool = False) -> Tensor:
    """w_n = sum_i (-1)^i a_i cos(2 pi i n / (L - 1)), L = M (M + 1 when periodic).

    The coefficients become a tensor of the dtype (the leaf that requires grad), and the sum
    runs over them in order in that dtype: blackman's ends are 0.42 - 0.5 + 0.08 rounded,
    not 0."""
    dtype = _check("general_cosine", M, dtype, layout)
    npd = dtype.np
    if M == 0 or M == 1:
        return _constant(M, npd, device, requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    _check_device(device)
    n = _steps(M)
    step = 2 * math.pi / (_extended(n, sym) - 1)
    z = _linspace(0, (n - 1) * step, n, npd)
    coeffs = tensor([(-1) ** i * w for i, w in enumerate(a)], dtype=dtype,
                    requires_grad=requires_grad)
    order = np.arange(coeffs.shape[0], dtype=npd)
    # cos of the rounded angle, itself rounded once (float32 torch agrees with that most often)
    waves = np.cos((order[:, None] * z).astype(np.float64)).astype(npd)
    return (coeffs.unsqueeze(-1) * _leaf(waves, False)).sum(0)


def general_hamming(M, *, alpha: float = 0.54, sym: bool = True, dtype=None, layout=strided,
                    device=None, requires_grad: bool = False) -> Tensor:
    """w_n = alpha - (1 - alpha) cos(2 pi n / (L - 1)): general_cosine with a = [alpha,
    1 - alpha] (its errors name general_cosine, as torch's do)."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def hamming(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
            requires_grad: bool = False) -> Tensor:
    """w_n = 0.54 - 0.46 cos(2 pi n / (L - 1)): general_hamming with alpha = 0.54."""
    return general_hamming(M, alpha=0.54, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
         requires_grad: bool = False) -> Tensor:
    """w_n = 0.5 - 0.5 cos(2 pi n / (L - 1)) = sin^2(pi n / (L - 1)): general_hamming with
    alpha = 0.5."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
             requires_grad: bool = False) -> Tensor:
    """w_n = 0.42 - 0.5 cos(2 pi n / (L - 1)) + 0.08 cos(4 pi n / (L - 1)). Unlike the other
    cosine sums its errors name blackman itself."""
    _check("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.50, 0.08], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def nuttall(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
            requires_grad: bool = False) -> Tensor:
    """Nuttall's minimum 4-term Blackman-Harris window: general_cosine with
    a = [0.3635819, 0.4891775, 0.1365995, 0.0106411]."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)
