"""Short-time Fourier transforms: torch.stft and torch.istft.

Both are compositions of differentiable ops, so gradients (to the signal and to the window) and
double backward come from the pieces:
- stft:  pad (center) ->
         Frame (overlapping windows as a strided view) -> * window -> zero-pad each frame to
         n_fft -> rfft / fft along the frame -> (..., freq, frames);
- istft: irfft / ifft of each frame -> * window -> OverlapAdd -> / OverlapAdd(window ** 2)
         (the least-squares inverse) -> trim.
Frame and OverlapAdd are each other's adjoint: each one's backward is the other.

Torch's traps kept here:
- for real input and window, `return_complex` must be given (RuntimeError otherwise);
  return_complex=False returns view_as_real of the complex result, with a deprecation warning.
- the "no window", "return_complex=False" and istft's "padded with zeros" warnings are given
  once per process, as torch does.
- win_length < n_fft: the window sits in the middle of the frame, (n_fft - win_length) // 2
  zeros before it; `align_to_window=True` (center=False only) starts the window, not the
  n_fft frame, at t * hop_length.
- normalized=True scales by n_fft ** -0.5 (stft) and n_fft ** 0.5 (istft): the "ortho" norm.
- a two-sided spectrum given to istft with return_complex=False uses only its first
  n_fft // 2 + 1 bins (irfft).
- istft's NOLA check: the summed squared window must not fall under 1e-11 inside the output;
  `length` cuts with Python slice rules (a negative one counts from the end).
- torch with align_to_window=True reads one sample past the padded signal when n_fft -
  win_length is odd and the last window ends at L (a storage error there); ember computes it.
"""
import warnings

import numpy as np

from ember import _dtype
from ember._ops import fft as _fft
from ember._ops.pointwise_complex import view_as_real
from ember._ops.sampling import pad as _pad
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["stft", "istft"]


# ---------------------------------------------------------------------------------------------
# framing and overlap-add: an adjoint pair

class Frame(ArrayFunction):
    """Frames of `size` samples, `hop` apart, along the last dim: (..., L) -> (..., T, size)
    with T = 1 + (L - size) // hop, as a read-only strided view. Grad: overlap-add back to L."""

    def forward(ctx, x, *, size, hop):
        ctx.hop, ctx.length = hop, x.shape[-1]
        count = 1 + (x.shape[-1] - size) // hop
        shape = x.shape[:-1] + (count, size)
        strides = x.strides[:-1] + (x.strides[-1] * hop, x.strides[-1])
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)

    def backward(ctx, g):
        return OverlapAdd.apply(g, hop=ctx.hop, length=ctx.length)


class OverlapAdd(ArrayFunction):
    """Frames (..., T, n) summed at offsets 0, hop, 2 hop, ... into (..., length); `length` is at
    least n + hop * (T - 1) and less than n + hop * T (zeros past the last frame).
    Grad: the frames of the gradient."""

    def forward(ctx, f, *, hop, length):
        ctx.n, ctx.hop = f.shape[-1], hop
        lead, (count, n) = f.shape[:-2], f.shape[-2:]
        chunks = -(-n // hop)   # a frame is `chunks` runs of hop samples (the last one padded)
        if chunks * hop != n:
            f = np.pad(f, [(0, 0)] * (f.ndim - 1) + [(0, chunks * hop - n)])
        out = np.zeros(lead + (hop * (count + chunks - 1),), f.dtype)
        for c in range(chunks):
            # chunk c of frame t covers [(t + c) hop, (t + c + 1) hop): over t, one contiguous run
            run = f[..., c * hop:(c + 1) * hop].reshape(lead + (count * hop,))
            out[..., c * hop:(c + count) * hop] += run
        if length > out.shape[-1]:
            return np.pad(out, [(0, 0)] * len(lead) + [(0, length - out.shape[-1])])
        return np.ascontiguousarray(out[..., :length])

    def backward(ctx, g):
        return Frame.apply(g, size=ctx.n, hop=ctx.hop)


# ---------------------------------------------------------------------------------------------
# argument checks and torch's message prefixes

def _int_arg(fname, name, v, optional=True):
    if v is None and optional:
        return None
    if isinstance(v, bool) or not hasattr(v, "__index__"):
        raise TypeError(f"{fname}(): argument '{name}' must be int, not {type(v).__name__}")
    return int(v)


def _bool_arg(fname, name, v, optional):
    if v is None and optional:
        return None
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{fname}(): argument '{name}' must be bool, not {type(v).__name__}")
    return bool(v)


def _type_desc(t):
    """How torch names a tensor type in these messages: torch.FloatTensor, CPUComplexFloatType."""
    legacy = t.dtype._legacy
    if t.dtype.is_complex or t.dtype is _dtype.bool:
        return f"CPU{legacy}Type"
    return f"torch.{legacy}Tensor"


def _shape(t):
    return ", ".join(map(str, t.shape))


def _window_desc(window):
    return "None" if window is None else f"{_type_desc(window)}{{[{_shape(window)}]}}"


def _opt(v):
    return "None" if v is None else str(int(v))


_WARNED = set()


def _warn_once(key, message):
    """torch's TORCH_WARN_ONCE: the first time in the process only."""
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(message, UserWarning, stacklevel=3)


def _fft_dtype_check(dt):
    if dt in (_dtype.float16, _dtype.bfloat16):
        raise RuntimeError(f"MKL FFT doesn't support tensors of type: {dt._legacy}")


def _padded_window(window, n_fft, win_length, dtype):
    """The window (ones when None) zero-padded to n_fft with (n_fft - win_length) // 2 zeros
    first; None when there is nothing to multiply by (no window and win_length == n_fft)."""
    left = (n_fft - win_length) // 2
    if window is None:
        if win_length == n_fft:
            return None
        w = np.zeros(n_fft, dtype.np)
        w[left:left + win_length] = 1
        return Tensor._make(w)
    if win_length == n_fft:
        return window
    return _pad(window, (left, n_fft - win_length - left))


# ---------------------------------------------------------------------------------------------
# stft

def stft(input: Tensor, n_fft: int, hop_length: int = None, win_length: int = None,
         window: Tensor = None, center: bool = True, pad_mode: str = "reflect",
         normalized: bool = False, onesided: bool = None, return_complex: bool = None,
         align_to_window: bool = None) -> Tensor:
    """Short-time Fourier transform of a (L,) or (B, L) signal: (B?, N, T) complex, N = n_fft // 2
    + 1 (onesided, the default for real input and window) or n_fft, T = 1 + L // hop_length when
    centered (the input reflect-padded by n_fft // 2 on both sides), else 1 + (L - n_fft) //
    hop_length. return_complex=False gives view_as_real of it, (B?, N, T, 2)."""
    if not isinstance(input, Tensor):
        raise AttributeError(f"'{type(input).__name__}' object has no attribute 'dim'")
    n_fft = _int_arg("stft", "n_fft", n_fft, optional=False)
    hop_length = _int_arg("stft", "hop_length", hop_length)
    win_length = _int_arg("stft", "win_length", win_length)
    if window is not None and not isinstance(window, Tensor):
        raise TypeError(f"stft(): argument 'window' must be Tensor, not {type(window).__name__}")
    normalized = _bool_arg("stft", "normalized", normalized, False)
    onesided = _bool_arg("stft", "onesided", onesided, True)
    return_complex = _bool_arg("stft", "return_complex", return_complex, True)
    align_to_window = _bool_arg("stft", "align_to_window", align_to_window, True)
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if center:
        # torch pads a (1, 1, L) / (1, B, L) view, so pad's own errors and limits apply
        nd = input.dim()
        p = n_fft // 2
        padded = _pad(input.reshape((1,) * (3 - nd) + tuple(input.shape)), (p, p), pad_mode)
        input = padded.reshape(padded.shape[-nd:])   # nd == 0 keeps all three dims, as torch
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    complex_in = input.dtype.is_complex or window is not None and window.dtype.is_complex
    if return_complex is None and not complex_in:
        raise RuntimeError("stft requires the return_complex parameter be given for real inputs, "
                           "and will further require that return_complex=True in a future "
                           "PyTorch release.")
    prefix = (f"stft({_type_desc(input)}[{_shape(input)}], n_fft={n_fft}, hop_length={hop}, "
              f"win_length={win}, window={_window_desc(window)}, normalized={int(normalized)}, "
              f"onesided={_opt(onesided)}, return_complex={_opt(return_complex)}, "
              f"align_to_window={_opt(align_to_window)}) : ")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(prefix + "expected a tensor of floating point or complex values")
    if input.dim() not in (1, 2):
        raise RuntimeError(prefix + "expected a 1D or 2D tensor")
    L = input.shape[-1]
    if not 0 < n_fft <= L:
        # torch's message prints win_length as "n_fft"
        raise RuntimeError(prefix + f"expected 0 < n_fft < {L}, but got n_fft={win}")
    if hop <= 0:
        raise RuntimeError(prefix + f"expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win <= n_fft:
        raise RuntimeError(prefix + f"expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is not None and (window.dim() != 1 or window.shape[0] != win):
        raise RuntimeError(prefix + f"expected a 1D window tensor of size equal to win_length="
                           f"{win}, but got window with size [{_shape(window)}]")
    if onesided is None:
        onesided = not complex_in
    if onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    dt = input.dtype if window is None else _dtype.promote_types(input.dtype, window.dtype)
    _fft_dtype_check(dt)
    if window is None:
        _warn_once("stft_window", "A window was not provided. A rectangular window will be "
                   "applied,which is known to cause spectral leakage. Other windows such as "
                   "torch.hann_window or torch.hamming_window are recommended to reduce spectral "
                   "leakage.To suppress this warning and use a rectangular window, explicitly set "
                   "`window=torch.ones(n_fft, device=<device>)`.")
    if return_complex is None:
        return_complex = True
    elif not return_complex:
        _warn_once("stft_real", "stft with return_complex=False is deprecated. In a future "
                   "pytorch release, stft will return complex tensors for all inputs, and "
                   "return_complex=False will raise an error.\nNote: you can still call "
                   "torch.view_as_real on the complex output to recover the old return format.")

    left = (n_fft - win) // 2
    # frame t holds input[start + t hop : start + t hop + win] (the window's support)
    start, count = (0, 1 + (L - win) // hop) if align_to_window else \
        (left, 1 + (L - n_fft) // hop)
    frames = Frame.apply(input.narrow(-1, start, (count - 1) * hop + win), size=win, hop=hop)
    if window is not None:
        frames = frames * window
    if win < n_fft:
        frames = _pad(frames, (left, n_fft - win - left))
    norm = "ortho" if normalized else "backward"
    spec = _fft.rfft(frames, norm=norm) if onesided else _fft.fft(frames, norm=norm)
    spec = spec.transpose(-1, -2)
    return spec if return_complex else view_as_real(spec)


# ---------------------------------------------------------------------------------------------
# istft

def istft(input: Tensor, n_fft: int, hop_length: int = None, win_length: int = None,
          window: Tensor = None, center: bool = True, normalized: bool = False,
          onesided: bool = None, length: int = None, return_complex: bool = False) -> Tensor:
    """Inverse of stft from a complex (B?, N, T) spectrum: each frame's inverse DFT times the
    window, overlap-added and divided by the overlap-added squared window (the least-squares
    estimate). Output (B?, length), length defaulting to hop_length * (T - 1) when centered
    (n_fft // 2 trimmed from both ends), else n_fft + hop_length * (T - 1)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"istft(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    n_fft = _int_arg("istft", "n_fft", n_fft, optional=False)
    hop_length = _int_arg("istft", "hop_length", hop_length)
    win_length = _int_arg("istft", "win_length", win_length)
    length = _int_arg("istft", "length", length)
    if window is not None and not isinstance(window, Tensor):
        raise TypeError(f"istft(): argument 'window' must be Tensor, not {type(window).__name__}")
    center = _bool_arg("istft", "center", center, False)
    normalized = _bool_arg("istft", "normalized", normalized, False)
    onesided = _bool_arg("istft", "onesided", onesided, True)
    return_complex = _bool_arg("istft", "return_complex", return_complex, False)
    if not input.dtype.is_complex:
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    nd = input.dim() + 1   # torch reads the sizes off view_as_real(input)
    for d in (-2, -3):
        if nd < -d:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                             f"{nd - 1}], but got {d})")
    prefix = (f"istft({_type_desc(input)}[{_shape(input)}], n_fft={n_fft}, hop_length={hop}, "
              f"win_length={win}, window={_window_desc(window)}, center={int(center)}, "
              f"normalized={int(normalized)}, onesided={_opt(onesided)}, length={_opt(length)}, "
              f"return_complex={int(return_complex)})")
    if input.numel() == 0:
        raise RuntimeError(prefix + " : input tensor cannot be empty.")
    if nd not in (3, 4):
        raise RuntimeError(prefix + f" : expected a tensor with 3 or 4 dimensions, but got {nd}")
    n_freq, count = input.shape[-2], input.shape[-1]
    if onesided is None:
        onesided = n_freq != n_fft
    if onesided and n_freq != int(n_fft / 2) + 1:   # C++ division: truncates toward zero
        raise RuntimeError(prefix + " : expected the frequency dimension (3rd to the last) of the "
                           "input tensor to match n_fft / 2 + 1 when onesided=True, but got "
                           f"{n_freq}")
    if not onesided and n_freq != n_fft:
        raise RuntimeError(prefix + " : expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match n_fft when onesided=False, but got {n_freq}")
    if not 0 < hop <= win:
        raise RuntimeError(prefix + " : expected 0 < hop_length <= win_length")
    if not 0 < win <= n_fft:
        raise RuntimeError(prefix + " : expected 0 < win_length <= n_fft")
    if window is not None and (window.dim() != 1 or window.shape[0] != win):
        raise RuntimeError(prefix + " : Invalid window shape. window has to be 1D and length of "
                           "`win_length`")
    if window is not None and window.dtype.is_complex and not return_complex:
        raise RuntimeError("Complex windows are incompatible with return_complex=False")
    if onesided and return_complex:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if window is None:
        _warn_once("istft_window", "A window was not provided. A rectangular window will be "
                   "applied.Please provide the same window used by stft to make the inversion "
                   "lossless.To suppress this warning and use a rectangular window, explicitly "
                   "set `window=torch.ones(n_fft, device=<device>)`.")

    spec = input.transpose(-1, -2)   # (..., T, N): one spectrum per row
    norm = "ortho" if normalized else "backward"
    if return_complex:
        frames = _fft.ifft(spec, norm=norm)
    else:
        if not onesided:
            spec = spec.narrow(-1, 0, n_fft // 2 + 1)
        frames = _fft.irfft(spec, n=n_fft, norm=norm)
    w = _padded_window(window, n_fft, win, input.dtype.to_real())
    if w is not None:
        frames = frames * w
    expected = n_fft + hop * (count - 1)
    y = OverlapAdd.apply(frames, hop=hop, length=expected)
    if w is None:
        w = Tensor._make(np.ones(n_fft, input.dtype.to_real().np))
    envelope = OverlapAdd.apply((w * w).expand(count, n_fft), hop=hop, length=expected)

    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = -(n_fft // 2) if center else expected
    y, envelope = y[..., start:end], envelope[start:end]   # Python slicing, as torch's slice
    if envelope.numel() == 0:
        raise RuntimeError("min(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")
    if np.abs(envelope._data).min() < 1e-11:
        raise RuntimeError(prefix + " window overlap add min: 1\n[ CPUBoolType{} ]")
    y = y / envelope
    if end > expected:
        _warn_once("istft_length", "The length of signal is shorter than the length parameter. "
                   "Result is being padded with zeros in the tail. Please check your center and "
                   "hop_length settings.")
        y = _pad(y, (0, end - expected))
    return y


for _f in (stft, istft):
    setattr(Tensor, _f.__name__, _f)
