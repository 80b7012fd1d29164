"""Differential tests of stft / istft against torch: values, dtypes and shapes over the option
grid, round trips, gradients (signal and window, random upstream gradients; double backward),
torch's warnings (once per process) and errors, message for message."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember._ops import spectral
from oracle import check, check_raises, make_array

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

RNG = np.random.default_rng(0)


def _signal(shape, dt="float64", seed=0):
    return make_array(shape, dt, np.random.default_rng(seed))


def _window(n, dt="float64", seed=1):
    # positive and well away from zero: istft divides by its overlap-added square
    return (np.random.default_rng(seed).uniform(0.5, 1.5, n)).astype(dt)


def _same(fn, inputs, **kw):
    """check(), or where torch raises (a NOLA failure, say), the same error and message."""
    try:
        fn(torch, *[torch.tensor(a) for a in inputs])
    except RuntimeError:
        te, ee = check_raises(fn, inputs=inputs)
        assert str(te) == str(ee)
        return "raised"
    check(fn, inputs=inputs, **kw)
    return "ok"


# ---------------------------------------------------------------------------------------------
# stft

@pytest.mark.parametrize("shape", [(37,), (3, 37)])
@pytest.mark.parametrize("n_fft,hop,win", [(8, None, None), (16, 5, 8), (9, 3, 4), (12, 12, 11),
                                           (6, 7, None)])
@pytest.mark.parametrize("center,pad_mode", [(True, "reflect"), (True, "constant"),
                                             (True, "replicate"), (True, "circular"),
                                             (False, "reflect")])
def test_stft_grid(shape, n_fft, hop, win, center, pad_mode):
    x, w = _signal(shape), _window(n_fft if win is None else win)
    check(lambda t, x, w: t.stft(x, n_fft, hop_length=hop, win_length=win, window=w,
                                 center=center, pad_mode=pad_mode, return_complex=True),
          inputs=[x, w], check_stride=True)


@pytest.mark.parametrize("normalized", (False, True))
@pytest.mark.parametrize("onesided", (None, True, False))
@pytest.mark.parametrize("return_complex", (True, False))
def test_stft_flags(normalized, onesided, return_complex):
    x, w = _signal((2, 30), "float32"), _window(10, "float32")
    check(lambda t, x, w: t.stft(x, 10, 3, window=w, normalized=normalized, onesided=onesided,
                                 return_complex=return_complex), inputs=[x, w], check_stride=True)


@pytest.mark.parametrize("win,hop", [(8, 3), (5, 2), (4, 3)])
@pytest.mark.parametrize("align", (None, False, True))
def test_stft_align_to_window(win, hop, align):
    # L = 27: torch pads (n_fft - win) // 2 zeros on each side, one short of the last frame when
    # n_fft - win is odd and the last window ends near L (L = 25 or 26 fail in torch)
    x, w = _signal((2, 27)), _window(win)
    check(lambda t, x, w: t.stft(x, 9, hop, win, window=w, center=False, align_to_window=align,
                                 return_complex=True), inputs=[x, w])


def test_stft_without_window():
    x = _signal((2, 30))
    check(lambda t, x: t.stft(x, 8, return_complex=True), inputs=[x])
    check(lambda t, x: t.stft(x, 8, 3, win_length=5, return_complex=True), inputs=[x])
    check(lambda t, x: t.stft(x, 8, 3, win_length=5, center=False, align_to_window=True,
                              return_complex=True), inputs=[x])


@pytest.mark.parametrize("xdt,wdt", [("complex128", "float64"), ("complex64", "float32"),
                                     ("float64", "complex128"), ("complex64", "complex128"),
                                     ("float32", "float64"), ("float64", "float32")])
def test_stft_dtypes_and_complex(xdt, wdt):
    x, w = _signal((2, 24), xdt), make_array((8,), wdt, np.random.default_rng(3))
    # complex input or window: two-sided, and return_complex may be left out
    rc = None if "complex" in xdt + wdt else True
    check(lambda t, x, w: t.stft(x, 8, window=w, return_complex=rc), inputs=[x, w])
    check(lambda t, x, w: t.stft(x, 8, window=w, onesided=False, return_complex=False),
          inputs=[x, w])


def test_stft_window_and_input_promotion():
    x = _signal((20,), "float32")
    for w in (np.ones(8, np.int64), np.ones(8, bool), np.ones(8, np.float16)):
        check(lambda t, x, w: t.stft(x, 8, window=w, return_complex=True), inputs=[x, w])
    # a half input is fine once a float window promotes it
    check(lambda t, x, w: t.stft(x, 8, window=w, return_complex=True),
          inputs=[x.astype(np.float16), _window(8, "float32")], grad=False)


def test_stft_short_input_and_method():
    x, w = _signal((5,)), _window(8)
    check(lambda t, x, w: t.stft(x, 8, window=w, pad_mode="constant", return_complex=True),
          inputs=[x, w])
    check(lambda t, x, w: t.stft(x, 8, window=w, pad_mode="replicate", return_complex=True),
          inputs=[x, w])   # pads longer than the signal
    check(lambda t, x, w: t.stft(x[:4], 8, window=w, pad_mode="circular", return_complex=True),
          inputs=[x, w])   # pad == L
    check(lambda t, x, w: x.stft(8, 2, window=w, return_complex=True), inputs=[x, w])
    check(lambda t, x, w: t.stft(x, 5, 1, window=w[:5], center=False, return_complex=True),
          inputs=[x, w])   # n_fft == L: one frame


def test_stft_matches_definition():
    """X[w, m] = sum_k window[k] x[m hop + k] exp(-2 pi i w k / n_fft) (center=False)."""
    x, w = _signal((40,)), _window(16)
    X = ember.stft(ember.tensor(x), 16, 5, window=ember.tensor(w), center=False,
                   return_complex=True).numpy()
    k = np.arange(16)
    for m in range(X.shape[1]):
        ref = np.fft.rfft(x[m * 5:m * 5 + 16] * w)
        np.testing.assert_allclose(X[:, m], ref, rtol=1e-12, atol=1e-12)
    assert np.allclose(X[2, 0], np.sum(w * x[:16] * np.exp(-2j * np.pi * 2 * k / 16)))


# ---------------------------------------------------------------------------------------------
# istft

def _spectrum(x, n_fft, hop=None, win=None, w=None, **kw):
    return torch.stft(torch.tensor(x), n_fft, hop, win,
                      None if w is None else torch.tensor(w), return_complex=True,
                      **kw).numpy()


@pytest.mark.parametrize("shape", [(40,), (3, 40)])
@pytest.mark.parametrize("n_fft,hop,win", [(8, None, None), (16, 4, 12), (10, 3, 7), (9, 9, 9)])
@pytest.mark.parametrize("center", (True, False))
@pytest.mark.parametrize("length", (None, 30, 45))
def test_istft_grid(shape, n_fft, hop, win, center, length):
    x, w = _signal(shape), _window(n_fft if win is None else win)
    Y = _spectrum(x, n_fft, hop, win, w, center=center)
    _same(lambda t, Y, w: t.istft(Y, n_fft, hop, win, w, center=center, length=length),
          inputs=[Y, w], check_stride=True)


@pytest.mark.parametrize("normalized", (False, True))
@pytest.mark.parametrize("onesided,return_complex", [(None, False), (True, False), (False, False),
                                                     (False, True), (None, True)])
def test_istft_flags(normalized, onesided, return_complex):
    # two-sided spectra come from random data: not Hermitian, so the three ways differ
    n_freq = 5 if onesided is True or onesided is None and not return_complex else 8
    Y, w = make_array((2, n_freq, 7), "complex64", RNG), _window(8, "float32")
    check(lambda t, Y, w: t.istft(Y, 8, 2, window=w, normalized=normalized, onesided=onesided,
                                  return_complex=return_complex), inputs=[Y, w])


def test_istft_windows_and_dtypes():
    Y = make_array((9, 6), "complex128", RNG)
    check(lambda t, Y: t.istft(Y, 16, 4), inputs=[Y])                    # no window
    check(lambda t, Y: t.istft(Y, 16, 4, win_length=12), inputs=[Y])     # padded ones
    w = _window(16, "float32")
    # c128 + f32 -> f64; the squared window is summed in float32: float32 tolerances
    check(lambda t, Y, w: t.istft(Y, 16, 4, window=w), inputs=[Y, w], rtol=1e-5, atol=1e-6)
    Yc = make_array((8, 6), "complex64", RNG)
    # -> f64, but the inverse DFT ran in float32: float32 tolerances
    check(lambda t, Y, w: t.istft(Y, 8, 2, window=w), inputs=[Yc, _window(8)], rtol=1e-5,
          atol=1e-6)
    check(lambda t, Y, w: t.istft(Y, 8, 2, window=w), inputs=[Yc, np.ones(8, np.int16)])
    cw = make_array((8,), "complex64", RNG) + 2
    check(lambda t, Y, w: t.istft(Y, 8, 2, window=w, return_complex=True, length=11),
          inputs=[Yc, cw])


def test_istft_slicing_edge_lengths():
    Y, w = _spectrum(_signal((20,)), 8, 2, w=_window(8)), _window(8)
    for length in (1, 5, 20, 28, 29, -10):   # negative: torch's end index wraps as in Python
        check(lambda t, Y, w: t.istft(Y, 8, 2, window=w, length=length), inputs=[Y, w])
    check(lambda t, Y, w: t.istft(Y, 8, 2, window=w, center=False, length=-3), inputs=[Y, w])


@pytest.mark.parametrize("center", (True, False))
def test_round_trip(center):
    x, w = np.random.default_rng(4).standard_normal((2, 50)), np.hanning(18)[1:-1]
    ex = ember.tensor(x)
    Y = ember.stft(ex, 16, 4, window=ember.tensor(w), center=center, return_complex=True)
    y = ember.istft(Y, 16, 4, window=ember.tensor(w), center=center,
                    length=50 if center else None)
    n = y.shape[-1]
    np.testing.assert_allclose(y.numpy(), x[:, :n], atol=1e-12)
    # the complex pair: complex signal, two-sided spectrum, complex output
    xc = x + 1j * x[::-1]
    Y = ember.stft(ember.tensor(xc), 16, 4, window=ember.tensor(w), return_complex=True)
    y = Y.istft(16, 4, window=ember.tensor(w), return_complex=True, length=50)
    np.testing.assert_allclose(y.numpy(), xc, atol=1e-12)


def test_stft_istft_chain_gradient():
    x, w = _signal((2, 33)), _window(12)
    check(lambda t, x, w: t.istft(t.stft(x, 12, 3, window=w * w, return_complex=True), 12, 3,
                                  window=w, length=33).pow(2), inputs=[x, w])


def test_double_backward():
    x, w = _signal((30,)), _window(8)
    res = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        wt = lib.tensor(w, requires_grad=True)
        S = lib.stft(xt, 8, 3, window=wt, return_complex=True)
        y = lib.istft(S * S.abs(), 8, 3, window=wt, length=30)
        loss = (S.abs() ** 2).sum() + (y * y.flip(0)).sum()
        gx, gw = lib.autograd.grad(loss, (xt, wt), create_graph=True)
        ggx, ggw = lib.autograd.grad((gx * gx).sum() + gw.sum(), (xt, wt))
        res.append([a.detach().numpy() for a in (gx, gw, ggx, ggw)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# warnings: torch gives each once per process

def _warnings(fn):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fn()
    return [str(r.message) for r in rec if r.category is UserWarning]


def test_warnings_once():
    spectral._WARNED.clear()
    x = ember.randn(20)
    msgs = _warnings(lambda: ember.stft(x, 8, return_complex=True))
    assert len(msgs) == 1 and msgs[0].startswith("A window was not provided. A rectangular "
                                                 "window will be applied,which is known")
    assert not _warnings(lambda: ember.stft(x, 8, return_complex=True))
    msgs = _warnings(lambda: ember.stft(x, 8, window=ember.ones(8), return_complex=False))
    assert len(msgs) == 1 and msgs[0].startswith("stft with return_complex=False is deprecated")
    assert not _warnings(lambda: ember.stft(x, 8, window=ember.ones(8), return_complex=False))
    Y = ember.stft(x, 8, window=ember.hann_window(8), return_complex=True)
    msgs = _warnings(lambda: ember.istft(Y, 8))
    assert len(msgs) == 1 and "Please provide the same window used by stft" in msgs[0]
    msgs = _warnings(lambda: ember.istft(Y, 8, window=ember.hann_window(8), length=25))
    assert len(msgs) == 1 and msgs[0].startswith("The length of signal is shorter than the "
                                                 "length parameter.")
    assert not _warnings(lambda: ember.istft(Y, 8, window=ember.hann_window(8), length=25))
    assert not _warnings(lambda: ember.stft(x, 8, window=ember.ones(8), return_complex=True))


# ---------------------------------------------------------------------------------------------
# errors

_X = np.random.default_rng(5).standard_normal(20)
_Y = torch.stft(torch.tensor(_X), 8, window=torch.hann_window(8, dtype=torch.float64),
                return_complex=True).numpy()


def _w(n, dt=np.float64):
    return np.ones(n, dt)


@pytest.mark.parametrize("fn,inputs", [
    (lambda t, x: t.stft(x, 8), [_X]),                                        # return_complex
    (lambda t, x: t.stft(x, 8, window=t.ones(8)), [_X]),
    (lambda t, x: t.stft(x[:4], 8), [_X]),                                    # pad error first
    (lambda t, x: t.stft(x, 8, align_to_window=True, return_complex=True), [_X]),
    (lambda t, x: t.stft(x, 8, align_to_window=False, return_complex=True), [_X]),
    (lambda t, x: t.stft(x.reshape(2, 1, 10), 8, return_complex=True), [_X]),  # 3-D
    (lambda t, x: t.stft(x.reshape(1, 2, 1, 10), 8, return_complex=True), [_X]),  # 4-D
    (lambda t, x: t.stft(x[:5], 12, pad_mode="circular", return_complex=True), [_X]),
    (lambda t, x: t.stft(x[0], 8, center=False, return_complex=True), [_X]),  # 0-D
    (lambda t, x: t.stft(x[0], 8, pad_mode="constant", return_complex=True), [_X]),
    (lambda t, x: t.stft(x, 8, pad_mode="foo", return_complex=True), [_X]),
    (lambda t, x: t.stft(x, 50, window=t.ones(50), return_complex=True), [_X]),
    (lambda t, x: t.stft(x, 50, center=False, return_complex=True), [_X]),
    (lambda t, x: t.stft(x[:6], 8, 2, 4, center=False, return_complex=True), [_X]),
    (lambda t, x: t.stft(x[:6], 8, 2, 4, center=False, align_to_window=True,
                         return_complex=True), [_X]),
    (lambda t, x: t.stft(x, 0, return_complex=True), [_X]),
    (lambda t, x: t.stft(x, 8, hop_length=0, return_complex=True), [_X]),
    (lambda t, x: t.stft(x, 8, win_length=0, return_complex=True), [_X]),
    (lambda t, x: t.stft(x, 8, win_length=9, window=t.ones(9), return_complex=True), [_X]),
    (lambda t, x, w: t.stft(x, 8, window=w, return_complex=True), [_X, _w(7)]),
    (lambda t, x, w: t.stft(x, 8, window=w.reshape(2, 4), return_complex=True), [_X, _w(8)]),
    (lambda t, x, w: t.stft(x, 8, win_length=6, window=w, return_complex=True), [_X, _w(8)]),
    (lambda t, x, w: t.stft(x, 8, window=w, return_complex=True), [_X, _w(3, bool)]),
    (lambda t, x: t.stft(x.to(t.complex64), 8, onesided=True, return_complex=True), [_X]),
    (lambda t, x, w: t.stft(x, 8, window=w, onesided=True, return_complex=True),
     [_X, _w(8, np.complex64)]),
    (lambda t, x: t.stft(x.to(t.complex64), 80, center=False), [_X]),
    (lambda t, x: t.stft(x.to(t.int32), 80, center=False, return_complex=True), [_X]),
    (lambda t, x: t.stft(x.to(t.int64), 8, return_complex=True), [_X]),
    (lambda t, x: t.stft(x.to(t.float16), 8, return_complex=True), [_X]),
    (lambda t, x: t.stft(x.half(), 8, window=t.ones(8).half(), pad_mode="constant",
                         return_complex=True), [_X]),
    (lambda t, x: t.stft(x.reshape(2, 10).to(t.complex128), 8, center=False,
                         window=t.ones(3, dtype=t.complex64)), [_X]),
])
def test_stft_errors(fn, inputs):
    te, ee = check_raises(fn, inputs=inputs)
    assert str(te) == str(ee)


@pytest.mark.parametrize("fn", [
    lambda t, x: t.stft(x, 8.0, return_complex=True),
    lambda t, x: t.stft(x, True, return_complex=True),
    lambda t, x: t.stft(x, 8, hop_length=2.0, return_complex=True),
    lambda t, x: t.stft(x, 8, window=[1.0] * 8, return_complex=True),
    lambda t, x: t.stft(x, 8, normalized=None, return_complex=True),
    lambda t, x: t.istft(x, 8.0),
])
def test_argument_types(fn):
    check_raises(fn, inputs=[_X])


@pytest.mark.parametrize("fn,inputs", [
    (lambda t, Y: t.istft(Y.real, 8), [_Y]),
    (lambda t, Y: t.istft(t.view_as_real(Y), 8), [_Y]),
    (lambda t, Y: t.istft(Y[0, 0], 8), [_Y]),                      # 0-D: IndexError
    (lambda t, Y: t.istft(Y[0], 8), [_Y]),                         # 1-D: IndexError
    (lambda t, Y: t.istft(Y[:, :0], 8), [_Y]),
    (lambda t, Y: t.istft(Y[None, None], 8), [_Y]),
    (lambda t, Y: t.istft(Y[None, None, :0], 8), [_Y]),
    (lambda t, Y: t.istft(Y, 10), [_Y]),
    (lambda t, Y: t.istft(Y, 0), [_Y]),
    (lambda t, Y: t.istft(Y, 8, onesided=False), [_Y]),
    (lambda t, Y: t.istft(Y, 8, onesided=True, return_complex=True), [_Y]),
    (lambda t, Y: t.istft(Y, 8, return_complex=True), [_Y]),
    (lambda t, Y: t.istft(Y, 8, hop_length=0), [_Y]),
    (lambda t, Y: t.istft(Y, 8, hop_length=9), [_Y]),
    (lambda t, Y: t.istft(Y, 8, win_length=0), [_Y]),
    (lambda t, Y: t.istft(Y, 8, win_length=9), [_Y]),
    (lambda t, Y: t.istft(Y, 8, window=t.ones(7)), [_Y]),
    (lambda t, Y: t.istft(Y, 8, window=t.ones(1, 8)), [_Y]),
    (lambda t, Y: t.istft(Y, 8, window=t.ones(7, dtype=t.complex64)), [_Y]),
    (lambda t, Y: t.istft(Y, 8, window=t.ones(8, dtype=t.complex64)), [_Y]),
    (lambda t, Y: t.istft(Y, 8, window=t.zeros(8)), [_Y]),               # NOLA
    (lambda t, Y: t.istft(Y, 8, window=t.hann_window(8), center=False), [_Y]),
    (lambda t, Y: t.istft(Y, 8, window=t.hann_window(8), center=False, length=30), [_Y]),
    (lambda t, Y: t.istft(Y, 8, window=t.hann_window(8), length=0), [_Y]),
    (lambda t, Y: t.istft(Y[:, :1], 8, window=t.ones(8)), [_Y]),
    (lambda t, Y: t.istft(Y.to(t.complex64), 8, normalized=True, center=False, length=3,
                          onesided=False), [_Y]),
])
def test_istft_errors(fn, inputs):
    te, ee = check_raises(fn, inputs=inputs)
    assert str(te) == str(ee)
