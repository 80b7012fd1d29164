"""`ember.safetensors`: the safetensors format (Hugging Face), as `safetensors.torch` offers it.

`save_file(tensors, path, metadata=None)`, `load_file(path, device="cpu")`, `save(tensors,
metadata=None) -> bytes`, `load(bytes)`. Built on the `safetensors` package's core (the optional
extra `ember[safetensors]`); bfloat16 and float8 go through ml_dtypes. The format stores dense,
contiguous, little-endian tensors and nothing executable: loading is always safe.

Traps kept from `safetensors.torch`: tensors that share memory cannot be saved together (save a
clone), non-contiguous tensors are refused (call .contiguous()), metadata must map str to str,
complex128 has no safetensors dtype.
"""
import os

import numpy as np

from ember import _dtype
from ember._storage import _bytes_of
from ember._tensor import Tensor, _address, _root

__all__ = ["save", "save_file", "load", "load_file"]

# safetensors' header names -> ember dtypes
_FROM_CODE = {"BOOL": _dtype.bool, "U8": _dtype.uint8, "I8": _dtype.int8, "I16": _dtype.int16,
              "U16": _dtype.uint16, "I32": _dtype.int32, "U32": _dtype.uint32,
              "I64": _dtype.int64, "U64": _dtype.uint64, "F16": _dtype.float16,
              "BF16": _dtype.bfloat16, "F32": _dtype.float32, "F64": _dtype.float64,
              "C64": _dtype.complex64, "F8_E4M3": _dtype.float8_e4m3fn,
              "F8_E5M2": _dtype.float8_e5m2}
_WRITABLE = frozenset(_FROM_CODE.values())


def _package():
    try:
        import safetensors
    except ImportError:
        raise ImportError("ember.safetensors needs the safetensors package: "
                          "pip install ember[safetensors]") from None
    return safetensors


def _specs(tensors, metadata):
    """TensorSpecs for the package's serializer, after safetensors.torch's checks."""
    st = _package()
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, Tensor] but received {type(tensors)}")
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise ValueError("metadata must be a dict of str to str")
    owners = {}
    specs, keep = {}, []
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise ValueError(f"Key `{name}` is invalid, expected str but received {type(name)}")
        if not isinstance(t, Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected Tensor but received {type(t)}")
        a = t._data
        if t.dtype not in _WRITABLE:
            raise ValueError(f"safetensors cannot store {t.dtype} (tensor `{name}`)")
        if not t.is_contiguous():
            raise ValueError(f"You are trying to save a non contiguous tensor: `{name}` which is "
                             "not allowed. It either means you are trying to save tensors which "
                             "are reference of each other in which case it's recommended to save "
                             "only the full tensors, and reslice at load time, or simply call "
                             "`.contiguous()` on your tensor to pack it before saving.")
        if a.size:
            root = _root(a)
            owners.setdefault((_address(root), root.nbytes), []).append(name)
        if not a.flags.c_contiguous:       # size-1 dims with odd strides: same bytes, repacked
            a = np.ascontiguousarray(a)
        if a.dtype.byteorder == ">":
            a = a.byteswap().view(a.dtype.newbyteorder("<"))
        keep.append(a)
        specs[name] = st.TensorSpec(dtype=t.dtype._name, shape=list(a.shape),
                                    data_ptr=a.ctypes.data if a.size else 0, data_len=a.nbytes)
    shared = [names for names in owners.values() if len(names) > 1]
    if shared:
        raise RuntimeError(f"\n            Some tensors share memory, this will lead to duplicate "
                           f"memory on disk and potential differences when loading them again: "
                           f"{shared}.\n            A potential way to correctly save your model "
                           "is to use `save_model`.\n            More information at "
                           "https://huggingface.co/docs/safetensors/torch_shared_tensors\n"
                           "            ")
    return specs, keep


def save(tensors, metadata=None):
    """The safetensors bytes of a dict {name: tensor}."""
    specs, keep = _specs(tensors, metadata)
    out = bytes(_package().serialize(specs, metadata=metadata))
    del keep
    return out


def save_file(tensors, filename, metadata=None):
    """Write a dict {name: tensor} to `filename` in safetensors format."""
    specs, keep = _specs(tensors, metadata)
    _package().serialize_file(specs, os.fspath(filename), metadata=metadata)
    del keep


def _tensors(entries):
    out = {}
    for name, info in entries:
        dt = _FROM_CODE.get(info["dtype"])
        if dt is None:
            raise ValueError(f"ember cannot load safetensors dtype {info['dtype']} "
                             f"(tensor `{name}`)")
        data = np.frombuffer(info["data"], np.uint8).copy()   # writable, owned
        out[name] = Tensor._make(data.view(dt.np).reshape(info["shape"]))
    return out


def load(data):
    """The dict {name: tensor} that safetensors bytes hold."""
    return _tensors(_package().deserialize(bytes(data)))


def load_file(filename, device="cpu"):
    """The dict {name: tensor} in a safetensors file (device must be the CPU)."""
    if str(device) != "cpu":
        raise NotImplementedError(f"ember.safetensors loads onto the CPU only, got {device}")
    with open(filename, "rb") as f:
        data = f.read()
    return _tensors(_package().deserialize(data))
