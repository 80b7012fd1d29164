"""The oracle: run the same call on torch and ember and compare everything observable.

    check(lambda t, x, y: t.add(x, y, alpha=2), [(3, 4), (4,)])

draws inputs of the given shapes (and dtypes), runs the lambda with `t` = torch and with
`t` = ember, compares outputs (values within dtype tolerances, dtype, shape, optionally strides),
then back-propagates the same random upstream gradient through both and compares every input's
gradient. `check_raises` asserts both libraries raise the same exception type.
"""
import numpy as np
import torch

import ember

_TOL = {  # (rtol, atol) per dtype name
    "float16": (1e-2, 1e-2), "bfloat16": (5e-2, 5e-2), "float32": (1e-5, 1e-5),
    "float64": (1e-10, 1e-12), "complex64": (1e-5, 1e-5), "complex128": (1e-10, 1e-12),
}

FLOAT_DTYPES = ("float32", "float64")
INT_DTYPES = ("uint8", "int8", "int16", "int32", "int64")
ALL_DTYPES = ("bool",) + INT_DTYPES + ("float16", "float32", "float64", "complex64",
                                       "complex128")


def dtype_name(dt):
    return str(dt).split(".")[-1]


def torch_dtype(name):
    return getattr(torch, name)


def ember_dtype(name):
    return getattr(ember, name)


def make_array(shape, dtype="float32", rng=None, low=None, high=None):
    """Random NumPy data for `dtype` (by name): normals for floats, small ints, random bools."""
    rng = rng if rng is not None else np.random.default_rng(0)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype in INT_DTYPES or dtype.startswith("uint"):
        lo = 0 if dtype.startswith("uint") else -5 if low is None else low
        return rng.integers(lo if low is None else low, 10 if high is None else high,
                            size=shape).astype(dtype)
    if dtype.startswith("complex"):
        return np.asarray((rng.standard_normal(shape) + 1j * rng.standard_normal(shape))
                          .astype(dtype))
    a = rng.standard_normal(shape)
    if low is not None or high is not None:
        lo, hi = (low if low is not None else -1), (high if high is not None else 1)
        a = rng.uniform(lo, hi, size=shape)
    if dtype == "bfloat16":
        import ml_dtypes
        return a.astype(ml_dtypes.bfloat16)
    return np.asarray(a).astype(dtype)


def to_torch(a, requires_grad=False):
    if isinstance(a, np.ndarray):
        if a.dtype.name == "bfloat16":
            t = torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16)
        else:
            t = torch.from_numpy(a.copy())
        return t.requires_grad_(requires_grad)
    return a


def to_ember(a, requires_grad=False):
    if isinstance(a, np.ndarray):
        return ember.tensor(a.copy()).requires_grad_(requires_grad)
    return a


def to_numpy(x):
    """A NumPy array from a torch or ember tensor (bfloat16 widened to float32)."""
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.resolve_conj().resolve_neg().numpy(force=True)
    if isinstance(x, ember.Tensor):
        a = x.detach().numpy()
        return a.astype(np.float32) if a.dtype.name == "bfloat16" else a
    return np.asarray(x)


def assert_close(t_out, e_out, rtol=None, atol=None, check_stride=False, check_dtype=True,
                 what="output"):
    """Shape, dtype name and values (NaNs equal) of a torch and an ember tensor agree."""
    assert isinstance(e_out, ember.Tensor), f"{what}: ember returned {type(e_out).__name__}"
    assert tuple(t_out.shape) == tuple(e_out.shape), \
        f"{what}: shape {tuple(e_out.shape)} != torch {tuple(t_out.shape)}"
    tn, en = dtype_name(t_out.dtype), dtype_name(e_out.dtype)
    if check_dtype:
        assert tn == en, f"{what}: dtype {en} != torch {tn}"
    if check_stride:
        assert tuple(t_out.stride()) == tuple(e_out.stride()), \
            f"{what}: stride {e_out.stride()} != torch {t_out.stride()}"
    r, a = _TOL.get(tn, (0, 0))
    r = r if rtol is None else rtol
    a = a if atol is None else atol
    tv, ev = to_numpy(t_out), to_numpy(e_out)
    if tv.dtype.kind in "fc":
        np.testing.assert_allclose(ev, tv, rtol=r, atol=a, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(ev, tv, err_msg=what)


def _flatten(out):
    if isinstance(out, (tuple, list)):
        flat = []
        for o in out:
            flat.extend(_flatten(o))
        return flat
    return [out]


def compare_outputs(t_out, e_out, **kw):
    t_flat, e_flat = _flatten(t_out), _flatten(e_out)
    assert len(t_flat) == len(e_flat), f"{len(e_flat)} outputs != torch {len(t_flat)}"
    for i, (t, e) in enumerate(zip(t_flat, e_flat)):
        if isinstance(t, torch.Tensor):
            assert_close(t, e, what=f"output {i}", **kw)
        elif isinstance(t, float) and np.isnan(t):
            assert np.isnan(e)
        else:
            assert t == e or (isinstance(t, torch.dtype) and dtype_name(t) == dtype_name(e)), \
                f"output {i}: {e!r} != torch {t!r}"


def check(fn, shapes=(), dtypes="float32", *, inputs=None, grad=True, rtol=None, atol=None,
          check_stride=False, seed=0, low=None, high=None, grad_rtol=None, grad_atol=None):
    """Compare fn(torch, *xs) with fn(ember, *xs) on the same random inputs, then gradients.

    shapes: one shape per tensor input; dtypes: one name or one per input; inputs: explicit NumPy
    arrays (or Python values) instead of random ones. Float inputs require grad when grad=True.
    Returns (torch_result, ember_result).
    """
    rng = np.random.default_rng(seed)
    if inputs is None:
        if isinstance(dtypes, str):
            dtypes = [dtypes] * len(shapes)
        inputs = [make_array(s, d, rng, low, high) for s, d in zip(shapes, dtypes)]
    diff = [grad and isinstance(a, np.ndarray) and a.dtype.kind in "fc" or (
        grad and isinstance(a, np.ndarray) and a.dtype.name == "bfloat16") for a in inputs]
    t_in = [to_torch(a, d) for a, d in zip(inputs, diff)]
    e_in = [to_ember(a, d) for a, d in zip(inputs, diff)]
    t_out = fn(torch, *t_in)
    e_out = fn(ember, *e_in)
    compare_outputs(t_out, e_out, rtol=rtol, atol=atol, check_stride=check_stride)
    if not any(diff):
        return t_out, e_out
    t_flat = [o for o in _flatten(t_out) if isinstance(o, torch.Tensor) and o.requires_grad]
    e_flat = [o for o in _flatten(e_out) if isinstance(o, ember.Tensor) and o.requires_grad]
    assert len(t_flat) == len(e_flat), "a different number of outputs require grad"
    if not t_flat:
        return t_out, e_out
    ups = [make_array(tuple(o.shape), dtype_name(o.dtype), rng) for o in t_flat]
    torch.autograd.backward(t_flat, [to_torch(u) for u in ups])
    ember.autograd.backward(e_flat, [to_ember(u) for u in ups])
    for i, (t, e, d) in enumerate(zip(t_in, e_in, diff)):
        if not d:
            continue
        if t.grad is None:
            assert e.grad is None or not np.any(to_numpy(e.grad)), f"grad of input {i}"
            continue
        assert e.grad is not None, f"ember computed no gradient for input {i}"
        assert_close(t.grad, e.grad, rtol=grad_rtol or rtol, atol=grad_atol or atol,
                     what=f"grad of input {i}")
    return t_out, e_out


def check_raises(fn, shapes=(), dtypes="float32", *, inputs=None, match=None):
    """Both libraries raise, and the same exception type; returns (torch_exc, ember_exc)."""
    rng = np.random.default_rng(0)
    if inputs is None:
        if isinstance(dtypes, str):
            dtypes = [dtypes] * len(shapes)
        inputs = [make_array(s, d, rng) for s, d in zip(shapes, dtypes)]
    t_exc = e_exc = None
    try:
        fn(torch, *[to_torch(a) for a in inputs])
    except Exception as exc:   # noqa: BLE001 - the type is what we compare
        t_exc = exc
    try:
        fn(ember, *[to_ember(a) for a in inputs])
    except Exception as exc:   # noqa: BLE001
        e_exc = exc
    assert_raised_alike(t_exc, e_exc)
    if match is not None:
        import re
        assert re.search(match, str(e_exc)), f"ember's message {str(e_exc)!r} lacks {match!r}"
    return t_exc, e_exc


def assert_raised_alike(t_exc, e_exc, same_kind=None):
    """Both raised (the exceptions, or None where a library did not), ember an exception of
    torch's type (`same_kind(t_exc, e_exc)` decides instead where given)."""
    assert t_exc is not None, "torch did not raise"
    assert e_exc is not None, f"ember did not raise (torch raised {type(t_exc).__name__}: {t_exc})"
    alike = same_kind(t_exc, e_exc) if same_kind else isinstance(e_exc, type(t_exc))
    assert alike, (f"ember raised {type(e_exc).__name__}: {e_exc}; torch raised "
                   f"{type(t_exc).__name__}: {t_exc}")


def same_message(t_exc, e_exc):
    """torch's message with 'torch' spelled 'ember' where a module name appears."""
    return str(e_exc) == str(t_exc) or str(e_exc) == str(t_exc).replace("torch.", "ember.")
