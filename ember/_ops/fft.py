"""Discrete Fourier transforms (torch.fft) on SciPy's pocketfft (scipy.fft, imported on first
use, run on ember's intra-op threads), with gradients.

Three Functions carry everything: C2C (complex-to-complex, forward or inverse), R2C (real input,
one-sided output along the last transformed dim) and C2R (its inverse), plus Resize for the
`n`/`s` arguments (zero-pad or trim). Gradients are adjoints:
- C2C: the inverse transform with the dual norm ("backward" <-> "forward", "ortho" stays);
- R2C: zero-pad the one-sided gradient to full length, inverse C2C with the dual norm, real part;
- C2R: R2C of the gradient with the dual norm, the bins that stand for two (their mirror image
  was dropped) doubled - torch's Hermitian-symmetry weighting.
Dtypes as torch: float32/complex64 -> complex64, float64/complex128 -> complex128; integer and
bool inputs are first converted to the default float dtype; half precision is an error on CPU.
"""
import numpy as np

from ember import _dtype
from ember._backend import scipy_fft
from ember._tensor import Tensor, _wrap_dim
from ember._threads import num_threads
from ember.autograd.function import ArrayFunction

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
           "hfft2", "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift"]

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


class Resize(ArrayFunction):
    """Zero-pad (at the end) or trim dims to the sizes in `sizes` ((dim, n) pairs); grad: the
    inverse resize."""

    def forward(ctx, x, *, sizes):
        ctx.orig = tuple((d, x.shape[d]) for d, _ in sizes)
        trim = [slice(None)] * x.ndim
        pad = [(0, 0)] * x.ndim
        for d, n in sizes:
            if n < x.shape[d]:
                trim[d] = slice(0, n)
            else:
                pad[d] = (0, n - x.shape[d])
        r = x[tuple(trim)]
        return np.pad(r, pad) if any(p != (0, 0) for p in pad) else np.array(r)

    def backward(ctx, g):
        return Resize.apply(g, sizes=ctx.orig)


class C2C(ArrayFunction):
    """Complex-to-complex DFT over `dims` (inverse when not `forward`)."""

    def forward(ctx, x, *, dims, norm, forward):
        ctx.dims, ctx.norm, ctx.fwd = dims, norm, forward
        fft = scipy_fft(x)
        f = fft.fftn if forward else fft.ifftn
        return np.asarray(f(x, axes=dims, norm=norm, workers=num_threads()), x.dtype)

    def backward(ctx, g):
        return C2C.apply(g, dims=ctx.dims, norm=_DUAL[ctx.norm], forward=not ctx.fwd)

    def name(self):
        return "FftC2CBackward0"


class R2C(ArrayFunction):
    """Real-to-complex DFT over `dims`, keeping n//2 + 1 bins of the last one."""

    def forward(ctx, x, *, dims, norm):
        ctx.dims, ctx.norm, ctx.n = dims, norm, x.shape[dims[-1]]
        out = scipy_fft(x).rfftn(x, axes=dims, norm=norm, workers=num_threads())
        return np.asarray(out, _complex_np(x.dtype))

    def backward(ctx, g):
        full = Resize.apply(g, sizes=((ctx.dims[-1], ctx.n),))
        return C2C.apply(full, dims=ctx.dims, norm=_DUAL[ctx.norm], forward=False).real

    def name(self):
        return "FftR2CBackward0"


class C2R(ArrayFunction):
    """Complex (one-sided, n//2 + 1 bins on the last dim) to real inverse DFT of length n."""

    def forward(ctx, x, *, dims, norm, n):
        ctx.dims, ctx.norm, ctx.n = dims, norm, n
        s = [x.shape[d] for d in dims[:-1]] + [n]
        out = scipy_fft(x).irfftn(x, s=s, axes=dims, norm=norm, workers=num_threads())
        return np.asarray(out, _real_np(x.dtype))

    def backward(ctx, g):
        gx = R2C.apply(g, dims=ctx.dims, norm=_DUAL[ctx.norm])
        n, last = ctx.n, ctx.dims[-1]
        m = gx.shape[last]
        doubled = n - m   # bins 1..doubled stand for themselves and their dropped mirror
        w = np.ones(m, _real_np(gx._data.dtype))
        w[1:1 + doubled] = 2
        w = w.reshape((m,) + (1,) * (gx.ndim - 1 - last))
        return gx * Tensor._make(w)

    def name(self):
        return "FftC2RBackward0"


# ---------------------------------------------------------------------------------------------
# argument handling

def _complex_np(dt):
    return np.complex64 if dt in (np.float32, np.complex64) else np.complex128


def _real_np(dt):
    return np.float32 if dt in (np.float32, np.complex64) else np.float64


def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in _DUAL:
        raise RuntimeError(f"Invalid normalization mode: \"{norm}\"")
    return norm


def _float_input(x, complex_ok=True, fname="fft"):
    """Integer/bool inputs as the default float dtype; half precision is unsupported."""
    if not isinstance(x, Tensor):
        raise TypeError(f"fft_{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    k = x._data.dtype
    if x.dtype in (_dtype.float16, _dtype.bfloat16) or k.kind == "c" and k.itemsize < 8:
        raise RuntimeError(f"Unsupported dtype {x.dtype._legacy}")
    if k.kind in "biu":
        from ember._ops._helpers import to_dtype
        x = to_dtype(x, _dtype.get_default_dtype())
    if not complex_ok and x._data.dtype.kind == "c":
        raise RuntimeError(f"{fname} expects a real input tensor, but got {x.dtype._legacy}")
    return x


def _to_complex(x):
    if x._data.dtype.kind == "c":
        return x
    from ember._ops._helpers import to_dtype
    return to_dtype(x, _dtype.from_numpy_dtype(np.dtype(_complex_np(x._data.dtype))))


def _dims(x, s, dim):
    """torch's rules: s without dim means the last len(s) dims; neither means all dims."""
    nd = x._data.ndim
    if dim is None:
        dims = list(range(nd - len(s), nd)) if s is not None else list(range(nd))
        if s is not None and len(s) > nd:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {nd} "
                               f"dimensions.")
    else:
        dim = [dim] if isinstance(dim, int) else list(dim)
        if nd == 0:
            raise IndexError(f"Dimension specified as {dim[0]} but tensor has no dimensions")
        dims = [_wrap_dim(d, nd) for d in dim]
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    if s is None:
        s = [x._data.shape[d] for d in dims]
    else:
        s = [x._data.shape[d] if n == -1 else n for n, d in zip(s, dims)]
    for n in s:
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return tuple(dims), tuple(s)


def _resize(x, dims, s):
    sizes = tuple((d, n) for d, n in zip(dims, s) if x._data.shape[d] != n)
    return Resize.apply(x, sizes=sizes) if sizes else x


def _finish(r, out, fname=None, grad=True):
    """Write `r` into `out` when given. `fname` names the transform in torch's error for an
    `out` of the wrong kind: complex results need a complex `out`, real ones a floating one."""
    if out is None:
        return r
    if fname is not None:
        k = out._data.dtype.kind
        if r._data.dtype.kind == "c" and k != "c":
            raise RuntimeError(f"{fname} expects a complex output tensor, but got "
                               f"{out.dtype._legacy}")
        if r._data.dtype.kind == "f" and not out.dtype.is_floating_point:
            raise RuntimeError(f"{fname} expects a floating point output tensor, but got "
                               f"{out.dtype._legacy}")
    from ember._ops._helpers import write_out
    return write_out(out, r, grad=grad)


def _one(n, dim):
    return (None if n is None else (n,)), (dim,)


# ---------------------------------------------------------------------------------------------
# complex-to-complex

def _c2c(input, s, dim, norm, forward, out, fname):
    x = _float_input(input)
    dims, s = _dims(x, s, dim)
    x = _resize(_to_complex(x), dims, s)
    if not dims:
        return _finish(x.clone(), out, fname)
    return _finish(C2C.apply(x, dims=dims, norm=_norm(norm), forward=forward), out, fname)


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    """N-dimensional DFT over `dim` (all dims by default); `s` pads or trims each dim first."""
    return _c2c(input, s, dim, norm, True, out, "fftn")


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    """N-dimensional inverse DFT (scaled by 1/n with the default norm="backward")."""
    return _c2c(input, s, dim, norm, False, out, "fftn")   # torch's out= error says fftn too


def fft(input, n=None, dim=-1, norm=None, *, out=None):
    """1-D DFT along `dim`; `n` zero-pads or trims the input first."""
    s, d = _one(n, dim)
    return _c2c(input, s, d, norm, True, out, "fft")


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    """1-D inverse DFT along `dim`."""
    s, d = _one(n, dim)
    if out is None:
        return _c2c(input, s, d, norm, False, out, "ifft")
    # (torch's 1-D inverse writes out= through conj_physical, which has no derivative)
    return _finish(_c2c(input, s, d, norm, False, None, "ifft"), out, "ifft",
                   grad="aten::conj_physical")


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return fftn(input, s, dim, norm, out=out)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return ifftn(input, s, dim, norm, out=out)


# ---------------------------------------------------------------------------------------------
# real-to-complex and back; the Hermitian pair hfft/ihfft is the same with conj and the dual norm

def _r2c(x, s, dim, norm, fname):
    """One-sided DFT of the real `x` (n//2 + 1 bins on the last transformed dim)."""
    dims, s = _dims(x, s, dim)
    if not dims:
        raise RuntimeError(f"{fname} must transform at least one axis")
    return R2C.apply(_resize(x, dims, s), dims=dims, norm=_norm(norm))


def _c2r(x, s, dim, norm, fname):
    """Real inverse of a one-sided spectrum: the last transformed dim gets length s[-1] (default
    2 * (m - 1) for m bins); imaginary parts of the DC (and Nyquist) bins are ignored, as torch
    does."""
    dims, s_ = _dims(x, s, dim)
    if not dims:
        raise RuntimeError(f"{fname} must transform at least one axis")
    n = s_[-1] if s is not None and s[-1] != -1 else 2 * (x._data.shape[dims[-1]] - 1)
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    x = _resize(x, dims, s_[:-1] + (n // 2 + 1,))
    return C2R.apply(x, dims=dims, norm=_norm(norm), n=n)


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    """DFT of a real input; the last transformed dim keeps its n//2 + 1 non-negative bins."""
    x = _float_input(input, complex_ok=False, fname="rfftn")
    return _finish(_r2c(x, s, dim, norm, "rfftn"), out, "rfftn")


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    """One-sided DFT of a real input along `dim`: n//2 + 1 bins."""
    x = _float_input(input, complex_ok=False, fname="rfft")
    s, d = _one(n, dim)
    return _finish(_r2c(x, s, d, norm, "rfft"), out, "rfft")


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return rfftn(input, s, dim, norm, out=out)


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    """Inverse of rfftn: a real output whose last transformed dim has length s[-1]."""
    x = _to_complex(_float_input(input))
    return _finish(_c2r(x, s, dim, norm, "irfftn"), out, "irfftn")


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    """Inverse of rfft along `dim`; output length n (default 2 * (m - 1))."""
    x = _to_complex(_float_input(input))
    s, d = _one(n, dim)
    return _finish(_c2r(x, s, d, norm, "irfft"), out, "irfft")


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return irfftn(input, s, dim, norm, out=out)


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    """N-D DFT of a signal Hermitian-symmetric over `dim`, given by its one-sided half on the
    last of them: a real output, last dim of length s[-1] (default 2 * (m - 1)). Equals
    irfftn(conj(input)) with the dual normalization."""
    x = _to_complex(_float_input(input))
    return _finish(_c2r(x.conj(), s, dim, _DUAL[_norm(norm)], "hfftn"), out, "hfftn")


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    """1-D hfftn along `dim`: a real output of length n (default 2 * (m - 1))."""
    x = _to_complex(_float_input(input))
    s, d = _one(n, dim)
    return _finish(_c2r(x.conj(), s, d, _DUAL[_norm(norm)], "hfft"), out, "hfft")


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return hfftn(input, s, dim, norm, out=out)


def _real_only(x):
    if x._data.dtype.kind == "c":
        raise RuntimeError(f"Only supports floating-point dtypes, but found: {x.dtype._legacy}")
    return x


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    """Inverse of hfftn for a real input: conj(rfftn(input)) with the dual normalization; the
    last transformed dim keeps n//2 + 1 bins."""
    x = _real_only(_float_input(input))
    r = _r2c(x, s, dim, _DUAL[_norm(norm)], "ihfftn").conj().resolve_conj()
    return _finish(r, out, "ihfftn")


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    """Inverse of hfft for a real input along `dim`: n//2 + 1 bins."""
    x = _float_input(input, complex_ok=False, fname="ihfft")
    s, d = _one(n, dim)
    r = _r2c(x, s, d, _DUAL[_norm(norm)], "ihfft").conj()
    return _finish(r.resolve_conj(), out, "ihfft", grad="aten::conj_physical")


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return ihfftn(input, s, dim, norm, out=out)


# ---------------------------------------------------------------------------------------------
# helpers: sample frequencies and shifts

def _freq(values, dtype, requires_grad, out, fname):
    if out is not None:   # torch: arange(n, out=out) (its checks, resize and warning), scaled
        if not (out.dtype.is_floating_point or out.dtype.is_complex):
            raise RuntimeError(f"{fname} requires a floating point or complex dtype")
        from ember._ops.creation import arange
        from ember._ops._helpers import write
        arange(len(values), out=out)
        write(out, np.asarray(values, out._data.dtype).reshape(out._data.shape))
        return out
    dt = dtype if dtype is not None else _dtype.get_default_dtype()
    r = Tensor._make(np.asarray(values, dt.np))
    if requires_grad:
        r.requires_grad_(True)
    return r


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Sample frequencies [0, 1, ..., n/2 - 1, -n/2, ..., -1] / (d * n) of an n-point DFT."""
    return _freq(np.fft.fftfreq(n, d), dtype, requires_grad, out, "fftfreq")


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Non-negative sample frequencies [0, 1, ..., n//2] / (d * n) of an n-point rfft."""
    return _freq(np.fft.rfftfreq(n, d), dtype, requires_grad, out, "rfftfreq")


def _shift(input, dim, sign):
    nd = input._data.ndim
    if dim is None:
        dims = tuple(range(nd))
    else:
        dims = tuple(_wrap_dim(d, nd) for d in ((dim,) if isinstance(dim, int) else dim))
    if not dims:
        return input.clone()
    shifts = tuple(sign * (input._data.shape[d] // 2) for d in dims)
    return input.roll(shifts, dims)


def fftshift(input, dim=None):
    """Move the zero-frequency bin to the centre (roll by n // 2 along each dim)."""
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    """Inverse of fftshift (roll by -(n // 2))."""
    return _shift(input, dim, -1)
