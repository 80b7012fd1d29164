"""ember.signal.windows against torch.signal.windows: values (symmetric and periodic, several
M, each window's own parameters, float32 / float64 / the default dtype), requires_grad and
leaf-ness (grad_fn names included), the module's layout and signatures, and torch's errors
(type and message)."""
import inspect
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, same_message

NAMES = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
         "general_hamming", "hamming", "hann", "kaiser", "nuttall"]
NEEDS = {"general_cosine": {"a": [0.46, 0.23, 0.31]}}   # keywords a window cannot go without

# Each window with its own parameters varied (exponential's center has its own test).
CASES = [
    ("bartlett", {}), ("blackman", {}), ("cosine", {}), ("hamming", {}), ("hann", {}),
    ("nuttall", {}),
    ("exponential", {}), ("exponential", {"tau": 0.3}), ("exponential", {"tau": 3.7}),
    ("gaussian", {}), ("gaussian", {"std": 0.3}), ("gaussian", {"std": 7.5}),
    ("gaussian", {"std": 2}),
    ("general_cosine", {"a": [0.46, 0.23, 0.31]}), ("general_cosine", {"a": (0.5, 0.5)}),
    ("general_cosine", {"a": [1.0]}), ("general_cosine", {"a": [1, 2]}),
    ("general_cosine", {"a": [0.3635819, 0.4891775, 0.1365995, 0.0106411]}),
    ("general_hamming", {}), ("general_hamming", {"alpha": 0.3}),
    ("general_hamming", {"alpha": 0.5}), ("general_hamming", {"alpha": 2}),
    ("kaiser", {}), ("kaiser", {"beta": 0.0}), ("kaiser", {"beta": 0.5}),
    ("kaiser", {"beta": 3.3}), ("kaiser", {"beta": 5}),
]
MS = [0, 1, 2, 7, 16, 51]


def _ids(case):
    name, kw = case
    return name + "".join(f"-{k}={v}" for k, v in kw.items())


def _win(lib, name):
    return getattr(lib.signal.windows, name)


def _tol(name, dtype):
    """float32: within about two ulps (torch rounds each step in float32 and so do we; its
    vectorised exp/sin/cos/sqrt/i0 differ from correctly rounded ones by an ulp now and then).
    kaiser: an ulp of its sqrt argument becomes up to beta ulps of I0."""
    if dtype == "float64":
        return dict(rtol=1e-12, atol=1e-15)
    return dict(rtol=2e-6, atol=2e-7) if name == "kaiser" else dict(rtol=4e-7, atol=1.2e-7)


# ---------------------------------------------------------------------------------------------
# Values

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("M", MS)
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_values(case, M, sym, dtype):
    name, kw = case
    t = _win(torch, name)(M, sym=sym, dtype=getattr(torch, dtype), **kw)
    e = _win(ember, name)(M, sym=sym, dtype=getattr(ember, dtype), **kw)
    assert type(e) is ember.Tensor
    assert_close(t, e, **_tol(name, dtype))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("M", [100, 255])
def test_long_windows_float32(name, M):
    """Long float32 windows: the sample points follow torch's linspace rounding (fused
    multiply-adds from both ends), else gaussian's tails drift by 1e-5."""
    for sym in (True, False):
        t = _win(torch, name)(M, sym=sym, **NEEDS.get(name, {}))
        e = _win(ember, name)(M, sym=sym, **NEEDS.get(name, {}))
        assert_close(t, e, **_tol(name, "float32"))


def test_bartlett_float32_is_bitwise():
    """bartlett is 1 - |linspace|, all exact IEEE steps: any drift in the linspace shows."""
    for M in range(2, 300):
        for sym in (True, False):
            t = torch.signal.windows.bartlett(M, sym=sym).numpy()
            e = ember.signal.windows.bartlett(M, sym=sym).numpy()
            np.testing.assert_array_equal(e, t, err_msg=f"M={M} sym={sym}")


def test_cosine_sums_round_like_torch():
    """The coefficients are rounded to the dtype and summed in order in it: blackman's ends
    are 0.42 - 0.5 + 0.08 in float32 (-1.49e-8), hamming's 0.54 - 0.46 (0.0800000131)."""
    W = ember.signal.windows
    assert W.blackman(3)[0].item() == torch.signal.windows.blackman(3)[0].item() != 0
    assert W.hamming(3)[0].item() == torch.signal.windows.hamming(3)[0].item() != 0.08
    assert (W.blackman(3, dtype=ember.float64)[0].item()
            == torch.signal.windows.blackman(3, dtype=torch.float64)[0].item())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("center", [0, 2.2, -1.5, 20.0, 3])
@pytest.mark.parametrize("M", [1, 2, 7, 16])
def test_exponential_center(M, center, dtype):
    for tau in (1.0, 0.3):
        t = torch.signal.windows.exponential(M, center=center, tau=tau, sym=False,
                                             dtype=getattr(torch, dtype))
        e = ember.signal.windows.exponential(M, center=center, tau=tau, sym=False,
                                             dtype=getattr(ember, dtype))
        assert_close(t, e, **_tol("exponential", dtype))


@pytest.mark.parametrize("name", NAMES)
def test_default_dtype(name):
    """dtype=None is the default dtype, float32 or (after set_default_dtype) float64."""
    kw = NEEDS.get(name, {})
    for M in (0, 1, 7):
        assert_close(_win(torch, name)(M, **kw), _win(ember, name)(M, **kw))
    old_t, old_e = torch.get_default_dtype(), ember.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    try:
        for M in (0, 1, 7):
            t, e = _win(torch, name)(M, **kw), _win(ember, name)(M, **kw)
            assert e.dtype is ember.float64
            assert_close(t, e, **_tol(name, "float64"))
    finally:
        torch.set_default_dtype(old_t)
        ember.set_default_dtype(old_e)


@pytest.mark.parametrize("make", [
    lambda lib: lib.signal.windows.gaussian(6, std=lib.tensor(2.0)),
    lambda lib: lib.signal.windows.kaiser(6, beta=lib.tensor(2.0)),
    lambda lib: lib.signal.windows.exponential(6, center=lib.tensor(1.0), sym=False),
    lambda lib: lib.signal.windows.general_hamming(6, alpha=lib.tensor(0.3)),
    lambda lib: lib.signal.windows.general_cosine(6, a=(w for w in [0.5, 0.5])),
    lambda lib: lib.signal.windows.general_cosine(6, a={0.5}),
    lambda lib: lib.signal.windows.general_cosine(6, a=[True, False]),
    lambda lib: lib.signal.windows.general_cosine(6, a=[[1, 2]]),   # torch broadcasts: 2 x 6
    lambda lib: lib.signal.windows.general_cosine(6, a=[(0.5, 0.25)], sym=False),
    lambda lib: lib.signal.windows.hann(np.int64(6)),
    lambda lib: lib.signal.windows.hann(lib.tensor(6)),
    lambda lib: lib.signal.windows.hann(True),
    lambda lib: lib.signal.windows.hann(6, sym=None),
    lambda lib: lib.signal.windows.hann(6, device="cpu"),
    lambda lib: lib.signal.windows.hann(M=6),
    lambda lib: lib.signal.windows.bartlett(1.0),
    lambda lib: lib.signal.windows.general_cosine(0, a=[]),
    lambda lib: lib.signal.windows.general_cosine(1, a=3),
    lambda lib: lib.signal.windows.gaussian(6, std=float("inf")),
    lambda lib: lib.signal.windows.gaussian(6, std=float("nan")),
    lambda lib: lib.signal.windows.exponential(6, tau=float("inf")),
    lambda lib: lib.signal.windows.kaiser(6, beta=float("nan")),
    lambda lib: lib.signal.windows.kaiser(6, beta=float("inf")),
    lambda lib: lib.signal.windows.kaiser(5, beta=800.0),
    lambda lib: lib.signal.windows.kaiser(5, beta=800.0, dtype=lib.float64),
], ids=lambda f: "")
def test_argument_forms(make):
    """Tensors, NumPy ints, bools, generators and non-finite parameters as torch takes them
    (I0 overflowing to inf / inf gives nan, as in torch)."""
    with torch.no_grad():   # (torch warns when a tensor beta is copy-constructed; harmless)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            t = make(torch)
    assert_close(t, make(ember), rtol=2e-6, atol=2e-7)


# ---------------------------------------------------------------------------------------------
# requires_grad, leaf-ness and the recorded node

def _node_name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("M", [0, 1, 2, 7])
@pytest.mark.parametrize("name", NAMES)
def test_requires_grad(name, M, sym):
    """M = 0 is an empty leaf; M = 1 a leaf of ones except for cosine, gaussian and
    exponential, which compute it; longer windows end in torch's node."""
    kw = NEEDS.get(name, {})
    t = _win(torch, name)(M, sym=sym, requires_grad=True, **kw)
    e = _win(ember, name)(M, sym=sym, requires_grad=True, **kw)
    assert (e.requires_grad, e.is_leaf) == (t.requires_grad, t.is_leaf)
    assert _node_name(e) == _node_name(t)
    assert_close(t, e, **_tol(name, "float32"))
    # the same values as without grad, bit for bit
    plain = _win(ember, name)(M, sym=sym, **kw)
    assert not plain.requires_grad and plain.is_leaf
    np.testing.assert_array_equal(e.detach().numpy(), plain.numpy())
    # backward runs; a leaf result gets its gradient
    if M:
        t.sum().backward()
        e.sum().backward()
        if t.is_leaf:
            assert_close(t.grad, e.grad)


@pytest.mark.parametrize("name", NAMES)
def test_requires_grad_under_no_grad(name):
    """Under no_grad only the leaf results (M = 0, and M = 1 where it is a leaf) keep
    requires_grad."""
    kw = NEEDS.get(name, {})
    for M in (0, 1, 5):
        with torch.no_grad():
            t = _win(torch, name)(M, requires_grad=True, **kw)
        with ember.no_grad():
            e = _win(ember, name)(M, requires_grad=True, **kw)
        assert (e.requires_grad, e.is_leaf, _node_name(e)) == \
            (t.requires_grad, t.is_leaf, _node_name(t))


def test_general_cosine_grad_float64():
    t = torch.signal.windows.general_cosine(4, a=[0.5, 0.5], requires_grad=True,
                                            dtype=torch.float64)
    e = ember.signal.windows.general_cosine(4, a=[0.5, 0.5], requires_grad=True,
                                            dtype=ember.float64)
    assert _node_name(e) == _node_name(t) == "SumBackward1"
    assert_close(t, e)


# ---------------------------------------------------------------------------------------------
# The module itself

def test_module_layout_and_imports():
    import ember.signal.windows as mod
    from ember.signal.windows import hann
    assert mod is ember.signal.windows and hann is mod.hann
    assert list(mod.__all__) == list(torch.signal.windows.__all__)
    assert list(ember.signal.__all__) == ["windows"]
    for name in NAMES:
        assert callable(getattr(mod, name)) and getattr(mod, name).__doc__


@pytest.mark.parametrize("name", NAMES)
def test_signatures(name):
    """Parameter names, kinds and defaults as torch's (defaults that are torch objects, such as
    the layout torch.strided, are ember's object of that name)."""
    ts = inspect.signature(_win(torch, name)).parameters
    es = inspect.signature(_win(ember, name)).parameters
    assert list(es) == list(ts)
    for p in ts:
        assert es[p].kind == ts[p].kind, p
        assert repr(es[p].default) == repr(ts[p].default).replace("torch.", "ember."), p


def test_import_is_lazy_and_torch_free():
    code = ("import sys, ember\n"
            "assert 'ember.signal' not in sys.modules\n"
            "w = ember.signal.windows.kaiser(8)\n"
            "assert 'torch' not in sys.modules and 'scipy' not in sys.modules\n"
            "print(tuple(w.shape))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(8,)"


# ---------------------------------------------------------------------------------------------
# Errors: same type, same message (torch's "torch.int64" read as "ember.int64")

def _both(call):
    """Run call(lib) on torch and ember; return the two exceptions (None where none)."""
    excs = []
    for lib in (torch, ember):
        try:
            call(lib)
        except Exception as exc:   # noqa: BLE001 - the type and message are compared
            excs.append(exc)
        else:
            excs.append(None)
    return excs


def _assert_same_error(call, message=True):
    t_exc, e_exc = _both(call)
    assert t_exc is not None, "torch did not raise"
    assert e_exc is not None, f"ember did not raise (torch: {type(t_exc).__name__}: {t_exc})"
    assert isinstance(e_exc, type(t_exc)), (f"ember raised {type(e_exc).__name__}: {e_exc}; "
                                            f"torch {type(t_exc).__name__}: {t_exc}")
    if message:
        assert same_message(t_exc, e_exc), f"ember: {e_exc!s}\ntorch: {t_exc!s}"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("call", [
    lambda lib, f, kw: f(-1, **kw),
    lambda lib, f, kw: f(-3, dtype=lib.int64, **kw),                # M is checked first
    lambda lib, f, kw: f(5, dtype=lib.int64, **kw),
    lambda lib, f, kw: f(0, dtype=lib.int32, **kw),                 # even for M = 0
    lambda lib, f, kw: f(1, dtype=lib.float16, **kw),
    lambda lib, f, kw: f(5, dtype=lib.bfloat16, **kw),
    lambda lib, f, kw: f(5, dtype=lib.complex64, **kw),
    lambda lib, f, kw: f(5, dtype=lib.bool, **kw),
    lambda lib, f, kw: f(5, layout=lib.sparse_coo, **kw),
    lambda lib, f, kw: f(5, layout=None, **kw),
    lambda lib, f, kw: f(5, dtype=lib.int64, layout=lib.sparse_csr, **kw),   # layout first
    lambda lib, f, kw: f(5, dtype="float32", **kw),
    lambda lib, f, kw: f(5, device="cuda", **kw),
    lambda lib, f, kw: f(0, device="cuda", **kw),
    lambda lib, f, kw: f(None, **kw),
    lambda lib, f, kw: f("5", **kw),
    lambda lib, f, kw: f(5, False, **kw),
    lambda lib, f, kw: f(5, bogus=1, **kw),
], ids=["neg", "neg-int", "int", "int-M0", "half-M1", "bf16", "complex", "bool", "sparse",
        "layout-None", "layout-before-dtype", "dtype-str", "cuda", "cuda-M0", "M-None", "M-str",
        "positional-sym", "bad-keyword"])
def test_common_errors(name, call):
    _assert_same_error(lambda lib: call(lib, _win(lib, name), NEEDS.get(name, {})))


@pytest.mark.parametrize("name", NAMES)
def test_float_M(name):
    """A float M fails in linspace (a TypeError; torch's text lists linspace's overloads)."""
    kw = NEEDS.get(name, {})
    _assert_same_error(lambda lib: _win(lib, name)(2.0, **kw), message=False)
    _assert_same_error(lambda lib: _win(lib, name)(7.5, **kw), message=False)


@pytest.mark.parametrize("call", [
    lambda W: W.gaussian(5, std=0),
    lambda W: W.gaussian(5, std=-1),
    lambda W: W.gaussian(0, std=-1.5),                  # parameters are checked for M = 0 too
    lambda W: W.gaussian(-1, std=-1),                   # ... after M
    lambda W: W.gaussian(5, std=-1, dtype=torch.int32 if W is torch.signal.windows
                         else ember.int32),             # ... and after dtype
    lambda W: W.gaussian(5, std=None),
    lambda W: W.gaussian(5, std="a"),
    lambda W: W.exponential(5, tau=0),
    lambda W: W.exponential(5, tau=-1),
    lambda W: W.exponential(0, tau=-2.5),
    lambda W: W.exponential(5, center=1.0),
    lambda W: W.exponential(5, center=0, sym=True),
    lambda W: W.exponential(0, center=1.0),
    lambda W: W.exponential(5, center=1.0, tau=-1),     # tau before center
    lambda W: W.exponential(5, center="a", sym=False),
    lambda W: W.kaiser(5, beta=-1),
    lambda W: W.kaiser(0, beta=-1),
    lambda W: W.kaiser(1, beta=-0.5),
    lambda W: W.kaiser(5, beta="a"),
    lambda W: W.kaiser(5, beta=None),
    lambda W: W.general_cosine(5, a=[]),
    lambda W: W.general_cosine(5, a=()),
    lambda W: W.general_cosine(5, a=3),
    lambda W: W.general_cosine(5, a=None),
    lambda W: W.general_cosine(5),
    lambda W: W.general_cosine(5, a=np.array([0.5, 0.5])),
    lambda W: W.general_cosine(5, a=[0.5, None]),
    lambda W: W.general_cosine(5, a=[1j]),
    lambda W: W.general_cosine(5, a=["x"]),
    lambda W: W.general_cosine(5, a=[[1, 2], [3, 4]]),   # (-1) * [3, 4] is []: ragged
    lambda W: W.general_cosine(5, a=[0.5, [1, 2]]),
    lambda W: W.general_hamming(5, alpha=None),
    lambda W: W.general_hamming(1, alpha="x"),          # computed before any M shortcut
    lambda W: W.hamming(5, alpha=0.5),
    lambda W: W.hann(5, beta=0.5),
    lambda W: W.blackman(-2),                           # blackman names itself ...
    lambda W: W.nuttall(-2),                            # ... nuttall, hann, hamming do not
    lambda W: W.hann(5, dtype=torch.int64 if W is torch.signal.windows else ember.int64),
], ids=lambda f: "")
def test_parameter_errors(call):
    _assert_same_error(lambda lib: call(lib.signal.windows))


def test_tensor_coefficients_error():
    """`not a` on a many-element tensor is ambiguous, as in torch; one element is fine."""
    _assert_same_error(lambda lib: lib.signal.windows.general_cosine(5, a=lib.tensor([.5, .5])))
    assert_close(torch.signal.windows.general_cosine(5, a=torch.tensor([0.5])),
                 ember.signal.windows.general_cosine(5, a=ember.tensor([0.5])))
