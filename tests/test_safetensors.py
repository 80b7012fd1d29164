"""ember.safetensors against safetensors.torch: files cross both ways, byte for byte."""
import numpy as np
import pytest
import torch
from safetensors import torch as st_torch

import ember
from ember import safetensors as est

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64")


def _pair(dtype, shape=(2, 3)):
    t = torch.arange(int(np.prod(shape)), dtype=torch.float64).reshape(shape)
    t = (t * 0.37 - 1).to(getattr(torch, dtype)) if dtype != "bool" else t.remainder(2) == 1
    e = ember.tensor(t.to(torch.float32 if dtype == "bfloat16" else t.dtype).numpy())
    return (e.bfloat16() if dtype == "bfloat16" else e), t


def _raw(x):
    """Raw bytes of a torch or ember tensor (bit-for-bit comparison, bfloat16 included)."""
    if isinstance(x, torch.Tensor):
        return x.contiguous().view(-1).view(torch.uint8).numpy().tobytes() if x.numel() else b""
    return np.ascontiguousarray(x._data).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_bytes_both_directions(dtype):
    e, t = _pair(dtype)
    data = st_torch.save({"x": t, "s": t[0].clone()})
    assert est.save({"x": e, "s": e[0].clone()}) == data       # identical files
    got = est.load(data)
    assert str(got["x"].dtype) == "ember." + dtype and tuple(got["x"].shape) == (2, 3)
    assert _raw(got["x"]) == _raw(t)
    back = st_torch.load(est.save({"x": e}))
    assert back["x"].dtype == t.dtype and _raw(back["x"]) == _raw(t)


def test_files_and_metadata(tmp_path):
    e, t = _pair("bfloat16", (4, 5))
    p1, p2 = tmp_path / "t.safetensors", tmp_path / "e.safetensors"
    st_torch.save_file({"w": t, "empty": torch.zeros(0), "scalar": torch.tensor(2.5)}, p1,
                       metadata={"format": "pt"})
    got = est.load_file(p1)
    assert _raw(got["w"]) == _raw(t) and got["empty"].shape == (0,)
    assert got["scalar"].shape == () and got["scalar"].item() == 2.5
    est.save_file({"w": e, "empty": ember.zeros(0), "scalar": ember.tensor(2.5)}, p2,
                  metadata={"format": "pt"})
    assert p1.read_bytes() == p2.read_bytes()
    back = st_torch.load_file(p2)
    assert _raw(back["w"]) == _raw(t)
    got["w"][0, 0] = 1.0          # loaded tensors are writable and own their memory


def test_errors_match_safetensors_torch():
    base_e, base_t = ember.arange(6.).reshape(2, 3), torch.arange(6.).reshape(2, 3)
    for e_arg, t_arg, exc in [({"a": base_e.t()}, {"a": base_t.t()}, ValueError),
                              ({"a": base_e, "b": base_e[0]}, {"a": base_t, "b": base_t[0]},
                               RuntimeError)]:
        with pytest.raises(exc):
            st_torch.save(t_arg)
        with pytest.raises(exc):
            est.save(e_arg)
    with pytest.raises(ValueError):
        est.save({"a": ember.zeros(2, dtype=ember.complex128)})
    with pytest.raises(ValueError):
        est.save({"a": ember.zeros(2)}, metadata={"k": 1})
    with pytest.raises(NotImplementedError):
        est.load_file("whatever", device="cuda")
