"""The tutorial oracle: run one program on torch and on ember and compare what it prints and
returns (used by test_tutorials.py).

A program is a function `program(torch, print, **kwargs)`. `run_both` calls it with the real
torch and with ember as `torch`, collecting its printed text, its warnings and the numbers it
returns. The texts must match once torch's is read with `torch` as `ember` and object addresses
are masked; a number in them may differ within float32 tolerance (or by one unit in the last
place shown) but must be shown in the same format. Returned numbers (nested dicts and lists of
floats and tensors) must agree within float32 tolerance.
"""
import math
import re
import warnings

import numpy as np
import torch

import ember

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def _run(lib, program, kwargs):
    lines = []

    def collect(*args, sep=" ", end="\n", file=None, flush=False):
        lines.append(sep.join(str(a) for a in args) + end)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = program(lib, collect, **kwargs)
    warned = [f"{w.category.__name__}: {w.message}" for w in caught]
    return "".join(lines), result, warned


def _decimals(token):
    mantissa = re.split("[eE]", token)[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else None


def _same_number(e, t, rtol, atol):
    """Equal printed numbers, or two floats shown in the same format within tolerance (one unit
    in the last shown place, since a tiny difference may round either way)."""
    if e == t:
        return True
    if ("e" in e.lower()) != ("e" in t.lower()) or ("." in e) != ("." in t) or "." not in t:
        return False
    de, dt = _decimals(e), _decimals(t)
    if de != dt and min(de, dt) <= 4:   # a tensor's or an f-string's fixed precision
        return False
    if dt == 0:   # a tensor's integer-valued float ("2.") is exact
        return False
    ev, tv = float(e), float(t)
    exp = math.floor(math.log10(abs(tv))) if tv and "e" in t.lower() else 0
    ulp = 10.0 ** (exp - min(de, dt))
    return abs(ev - tv) <= max(atol + rtol * abs(tv), 1.01 * ulp)


def assert_same_text(e_text, t_text, rtol=1e-4, atol=1e-5):
    t_text = _ADDRESS.sub("0x?", t_text.replace("torch", "ember"))
    e_text = _ADDRESS.sub("0x?", e_text)
    if e_text == t_text:
        return
    e_nums, t_nums = _NUMBER.findall(e_text), _NUMBER.findall(t_text)
    same = (_NUMBER.split(e_text) == _NUMBER.split(t_text) and len(e_nums) == len(t_nums)
            and all(_same_number(e, t, rtol, atol) for e, t in zip(e_nums, t_nums)))
    assert same, f"printed text differs\n--- ember ---\n{e_text}\n--- torch ---\n{t_text}"


def _as_array(x):
    if isinstance(x, (torch.Tensor, ember.Tensor)):
        return x.detach().numpy()
    return np.asarray(x)


def assert_same_numbers(e, t, rtol, atol, where="result"):
    if isinstance(t, dict):
        assert list(e) == list(t), f"{where}: keys {list(e)} != {list(t)}"
        for k in t:
            assert_same_numbers(e[k], t[k], rtol, atol, f"{where}[{k!r}]")
    elif isinstance(t, (list, tuple)) and not all(isinstance(v, (int, float)) for v in t):
        assert len(e) == len(t), f"{where}: length {len(e)} != {len(t)}"
        for i, (ev, tv) in enumerate(zip(e, t)):
            assert_same_numbers(ev, tv, rtol, atol, f"{where}[{i}]")
    elif t is None or isinstance(t, (str, bool)):
        assert e == t, f"{where}: {e!r} != {t!r}"
    else:
        ea, ta = _as_array(e), _as_array(t)
        assert ea.shape == ta.shape, f"{where}: shape {ea.shape} != {ta.shape}"
        np.testing.assert_allclose(ea, ta, rtol=rtol, atol=atol, err_msg=where)


def run_both(program, rtol=1e-4, atol=1e-5, **kwargs):
    """Run `program` on torch and on ember; compare printed text, warnings and results."""
    t_text, t_result, t_warned = _run(torch, program, kwargs)
    e_text, e_result, e_warned = _run(ember, program, kwargs)
    assert_same_text(e_text, t_text, rtol, atol)
    assert [w.replace("torch", "ember") for w in t_warned] == e_warned
    assert_same_numbers(e_result, t_result, rtol, atol)
    return e_text, e_result


def numpy_init(torch, model, seed):
    """Give every parameter of `model` NumPy-drawn values (uniform in +-1/sqrt(fan_in)) through
    load_state_dict; buffers keep the values the model computed itself."""
    rng = np.random.default_rng(seed)
    params = dict(model.named_parameters())
    state = {}
    for name, value in model.state_dict().items():
        if name in params:
            shape = tuple(value.shape)
            fan_in = int(np.prod(shape[1:] if len(shape) > 1 else shape))
            bound = 1 / math.sqrt(fan_in)
            state[name] = torch.from_numpy(rng.uniform(-bound, bound, shape).astype(np.float32))
        else:
            state[name] = value
    return model.load_state_dict(state)


def randn(torch, rng, *shape, **kwargs):
    """torch.randn's stand-in: normals from the NumPy generator `rng`, as float32."""
    return torch.tensor(rng.standard_normal(shape).astype(np.float32), **kwargs)


def rand(torch, rng, *shape, **kwargs):
    return torch.tensor(rng.random(shape).astype(np.float32), **kwargs)
