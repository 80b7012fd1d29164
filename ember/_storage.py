"""Storages: the flat memory that tensors view (`UntypedStorage`, `TypedStorage`, `FloatStorage`...).

A tensor holds one NumPy array; the array's memory owner (the root of its `.base` chain) is its
storage. `UntypedStorage` is a 1-D uint8 view of that owner's bytes, so two tensors share a
storage exactly when they share the owner. As in torch, every call to `untyped_storage()` makes a
new Python object over the same memory: compare storages with `data_ptr()`, not `is`.

Traps kept from torch: `Tensor.storage()` returns a `TypedStorage` and warns that TypedStorage is
deprecated; a storage's size counts bytes (untyped) or elements (typed); storages always hold the
whole owner, so a slice of a large tensor saves (and pickles) the large buffer.
"""
import warnings

import numpy as np

from ember import _dtype
from ember._device import CPU
from ember._tensor import Tensor, _address, _root

__all__ = ["UntypedStorage", "TypedStorage", "BoolStorage", "ByteStorage", "CharStorage",
           "ShortStorage", "IntStorage", "LongStorage", "HalfStorage", "BFloat16Storage",
           "FloatStorage", "DoubleStorage", "ComplexFloatStorage", "ComplexDoubleStorage"]


def _bytes_of(root):
    """A 1-D uint8 view of an owner array's memory, or None when it is not one block."""
    if root.flags.c_contiguous or root.flags.f_contiguous:
        flat = root.reshape(-1, order="A")
        return flat.view(np.uint8) if flat.dtype != np.uint8 else flat
    return None


class UntypedStorage:
    """Bytes on a device; `UntypedStorage(n)` allocates n bytes (zeroed, unlike torch's)."""

    __slots__ = ("_bytes", "__weakref__")

    def __init__(self, *args, device=None):
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"ember storages live on the CPU, got device={device}")
        if len(args) == 0:
            data = np.empty(0, np.uint8)
        elif len(args) == 1 and isinstance(args[0], (int, np.integer)):
            if args[0] < 0:
                raise RuntimeError(f"Storage size must be non-negative, got {args[0]}")
            data = np.zeros(int(args[0]), np.uint8)
        elif len(args) == 1 and isinstance(args[0], (list, tuple)):
            data = np.array(args[0], dtype=np.uint8).reshape(-1)
        else:
            raise TypeError("UntypedStorage(): expected a size or a sequence of bytes")
        self._bytes = data

    @classmethod
    def _wrap(cls, byte_array):
        s = object.__new__(cls)
        s._bytes = byte_array
        return s

    # metadata
    def nbytes(self):
        return self._bytes.size

    size = nbytes

    def __len__(self):
        return self._bytes.size

    def element_size(self):
        return 1

    def data_ptr(self):
        return _address(self._bytes)

    @property
    def device(self):
        return CPU

    is_cuda = False
    is_sparse = False

    def is_shared(self):
        return False

    def share_memory_(self):
        return self

    def is_pinned(self, device=None):
        return False

    def pin_memory(self, device=None):
        return self

    def untyped(self):
        return self

    def cpu(self):
        return self

    def type(self, dtype=None, non_blocking=False):
        return "torch.storage.UntypedStorage"

    def cuda(self, device=None, non_blocking=False):
        raise AssertionError("Torch not compiled with CUDA enabled")

    # data
    def __getitem__(self, idx):
        r = self._bytes[idx]
        return UntypedStorage._wrap(r) if isinstance(idx, slice) else int(r)

    def __setitem__(self, idx, value):
        self._bytes[idx] = value

    def tolist(self):
        return self._bytes.tolist()

    def __iter__(self):
        return iter(self.tolist())

    def fill_(self, value):
        self._bytes.fill(value)
        return self

    def copy_(self, source, non_blocking=None):
        src = source.untyped()._bytes
        if src.size != self._bytes.size:
            raise RuntimeError(f"size mismatch, expected {self._bytes.size} bytes, got "
                               f"{src.size}")
        self._bytes[...] = src
        return self

    def clone(self):
        return UntypedStorage._wrap(self._bytes.copy())

    def resize_(self, size):
        raise NotImplementedError("ember storages cannot be resized in place: their memory is a "
                                  "NumPy buffer that tensors view")

    def __repr__(self):
        body = "\n".join(f" {v}" for v in self._bytes.tolist())
        return (f"{body}\n" if body else "") + \
            f"[torch.storage.UntypedStorage(device=cpu) of size {self._bytes.size}]"

    def __reduce__(self):
        from ember.serialization import _storage_from_bytes
        return (_storage_from_bytes, (self._bytes.tobytes(), None))

    def __deepcopy__(self, memo):
        return self.clone()

    @staticmethod
    def from_buffer(buffer, byte_order="native", count=-1, offset=0, dtype=None):
        data = np.frombuffer(buffer, np.uint8, count=count, offset=offset).copy()
        return UntypedStorage._wrap(data)

    @staticmethod
    def from_file(filename, shared=False, nbytes=0):
        """Map `nbytes` of `filename` (copy-on-write unless `shared`)."""
        mode = "r+" if shared else "c"
        return UntypedStorage._wrap(np.memmap(filename, np.uint8, mode, shape=(nbytes,)))


class TypedStorage:
    """An `UntypedStorage` read as elements of one dtype (torch's deprecated storage class)."""

    __slots__ = ("_untyped_storage", "_dtype", "__weakref__")
    _fixed_dtype = None      # set by the legacy subclasses (FloatStorage...)

    def __init__(self, *args, dtype=None, device=None, wrap_storage=None, _internal=False):
        dt = self._fixed_dtype or dtype or _dtype.get_default_dtype()
        if dtype is not None and self._fixed_dtype is not None and dtype is not dt:
            raise RuntimeError(f"{type(self).__name__} cannot have dtype {dtype}")
        if wrap_storage is not None:
            if args:
                raise RuntimeError("TypedStorage(): wrap_storage= takes no positional args")
            untyped = wrap_storage.untyped()
        elif len(args) == 1 and isinstance(args[0], (list, tuple)):
            arr = np.asarray(args[0]).astype(dt.np).reshape(-1)
            untyped = UntypedStorage._wrap(arr.view(np.uint8))
        elif len(args) <= 1:
            n = int(args[0]) if args else 0
            untyped = UntypedStorage._wrap(np.zeros(n * dt.itemsize, np.uint8))
        else:
            raise TypeError("TypedStorage(): expected a size, a sequence or wrap_storage=")
        self._untyped_storage = untyped
        self._dtype = dt

    @classmethod
    def _wrap(cls, untyped, dtype):
        s = object.__new__(cls)
        s._untyped_storage = untyped
        s._dtype = dtype
        return s

    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        return CPU

    is_cuda = False
    is_sparse = False

    def _array(self):
        """The bytes as a 1-D array of this dtype (a view, no copy)."""
        b = self._untyped_storage._bytes
        n = b.size // self._dtype.itemsize
        return b[:n * self._dtype.itemsize].view(self._dtype.np)

    def size(self):
        return self._untyped_storage.nbytes() // self._dtype.itemsize

    _size = size
    __len__ = size

    def nbytes(self):
        return self._untyped_storage.nbytes()

    def element_size(self):
        return self._dtype.itemsize

    def data_ptr(self):
        return self._untyped_storage.data_ptr()

    def untyped(self):
        return self._untyped_storage

    def cpu(self):
        return self

    def is_shared(self):
        return False

    def share_memory_(self):
        return self

    def _pickle_storage_type(self):
        return _LEGACY_NAME.get(self._dtype) or _no_legacy_name(self._dtype)

    def __getitem__(self, idx):
        r = self._array()[idx]
        if isinstance(idx, slice):
            return TypedStorage._wrap(UntypedStorage._wrap(r.view(np.uint8)), self._dtype)
        return Tensor._make(np.asarray(r)).item()

    def __setitem__(self, idx, value):
        self._array()[idx] = value

    def tolist(self):
        return Tensor._make(self._array()).tolist()

    def __iter__(self):
        return iter(self.tolist())

    def fill_(self, value):
        self._array().fill(value)
        return self

    def clone(self):
        return TypedStorage._wrap(self._untyped_storage.clone(), self._dtype)

    def copy_(self, source, non_blocking=None):
        self._untyped_storage.copy_(source.untyped())
        return self

    def type(self, dtype=None, non_blocking=False):
        return f"torch.{self._pickle_storage_type()}"

    def __repr__(self):
        body = "\n".join(f" {v}" for v in self.tolist())
        return (f"{body}\n" if body else "") + \
            f"[torch.storage.TypedStorage(dtype={self._dtype}, device=cpu) of size {self.size()}]"

    def __reduce__(self):
        from ember.serialization import _storage_from_bytes
        return (_storage_from_bytes, (self._untyped_storage._bytes.tobytes(), self._dtype))

    def __deepcopy__(self, memo):
        return self.clone()


def _no_legacy_name(dt):
    raise RuntimeError(f"{dt} has no legacy storage class")


def _legacy(name, dt):
    return type(name, (TypedStorage,), {"__slots__": (), "_fixed_dtype": dt,
                                        "__module__": __name__})


# torch's legacy storage classes name a dtype in checkpoints ('torch FloatStorage').
_LEGACY_NAME = {_dtype.bool: "BoolStorage", _dtype.uint8: "ByteStorage",
                _dtype.int8: "CharStorage", _dtype.int16: "ShortStorage",
                _dtype.int32: "IntStorage", _dtype.int64: "LongStorage",
                _dtype.float16: "HalfStorage", _dtype.bfloat16: "BFloat16Storage",
                _dtype.float32: "FloatStorage", _dtype.float64: "DoubleStorage",
                _dtype.complex32: "ComplexHalfStorage",
                _dtype.complex64: "ComplexFloatStorage",
                _dtype.complex128: "ComplexDoubleStorage"}
LEGACY_CLASSES = {name: _legacy(name, dt) for dt, name in _LEGACY_NAME.items()}
globals().update(LEGACY_CLASSES)
STORAGE_DTYPE = {name: dt for dt, name in _LEGACY_NAME.items()}


# ---------------------------------------------------------------------------------------------
# Tensor methods

def _root_bytes(t):
    """(owner array, its bytes) for tensor t; bytes is None when the owner is not one block."""
    root = _root(t._data)
    return root, _bytes_of(root)


def untyped_storage(self):
    """The storage under this tensor (all of its owner's bytes), as an UntypedStorage."""
    root, data = _root_bytes(self)
    if data is None:   # an owner NumPy made with odd strides: torch has no such layout
        raise RuntimeError("this tensor's memory is not one contiguous block; call "
                           ".contiguous() first")
    return UntypedStorage._wrap(data)


def _typed_storage(self):
    return TypedStorage._wrap(untyped_storage(self), self.dtype)


def storage(self):
    warnings.warn("TypedStorage is deprecated. It will be removed in the future and "
                  "UntypedStorage will be the only storage class. This should only matter to "
                  "you if you are using storages directly.  To access UntypedStorage directly, "
                  "use tensor.untyped_storage() instead of tensor.storage()",
                  UserWarning, stacklevel=2)
    return _typed_storage(self)


Tensor.untyped_storage = untyped_storage
Tensor._typed_storage = _typed_storage
Tensor.storage = storage
