"""Storages: the flat memory that tensors view (`UntypedStorage`, `TypedStorage`, `FloatStorage`...).

A tensor holds one NumPy array; the array's memory owner (the root of its `.base` chain) is its
storage. `UntypedStorage` is a 1-D uint8 view of that owner's bytes, so two tensors share a
storage exactly when they share the owner. As in torch, every call to `untyped_storage()` makes a
new Python object over the same memory: compare storages with `data_ptr()`, not `is`.

`Tensor.resize_` and `Tensor.set_` live here too: they change which part of a storage a tensor
views. resize_ keeps the storage (and the data's first elements) when it is large enough and
otherwise moves the tensor to a larger copy of it; tensors that viewed the old memory keep
viewing it (torch moves every tensor of the storage along), so growing the storage of a view
raises NotImplementedError.

Traps kept from torch: `Tensor.storage()` returns a `TypedStorage` and warns that TypedStorage is
deprecated; a storage's size counts bytes (untyped) or elements (typed); storages always hold the
whole owner, so a slice of a large tensor saves (and pickles) the large buffer.
"""
import math
import warnings
import weakref

import numpy as np

from ember import _dtype
from ember._device import CPU
from ember._tensor import Tensor, _address, _root

__all__ = ["resize_as_", "UntypedStorage", "TypedStorage", "BoolStorage", "ByteStorage",
           "CharStorage",
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


def _warn_typed_storage():
    warnings.warn("TypedStorage is deprecated. It will be removed in the future and "
                  "UntypedStorage will be the only storage class. This should only matter to "
                  "you if you are using storages directly.  To access UntypedStorage directly, "
                  "use tensor.untyped_storage() instead of tensor.storage()",
                  UserWarning, stacklevel=3)


def storage(self):
    _warn_typed_storage()
    return _typed_storage(self)


def storage_type(self):
    """The legacy storage class of this tensor's dtype (FloatStorage...), with storage()'s
    deprecation warning."""
    _warn_typed_storage()
    return LEGACY_CLASSES[_LEGACY_NAME[self.dtype]]


Tensor.untyped_storage = untyped_storage
Tensor._typed_storage = _typed_storage
Tensor.storage = storage
Tensor.storage_type = storage_type



# ---------------------------------------------------------------------------------------------
# Storages ember does not own (from_numpy, frombuffer): torch's "not resizable" storages

_FOREIGN = {}


def _mark_not_resizable(array):
    """Remember that the memory owner of `array` belongs to someone else (NumPy, a buffer)."""
    root = _root(array)
    key = id(root)
    _FOREIGN[key] = weakref.ref(root, lambda _, key=key: _FOREIGN.pop(key, None))


def _resizable(root):
    ref = _FOREIGN.get(id(root))
    return ref is None or ref() is not root


# ---------------------------------------------------------------------------------------------
# resize_, resize_as_, resize, resize_as

def _sizes(sizes, fn):
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        sizes = sizes[0]
    try:
        sizes = tuple(s.__index__() for s in sizes)
    except AttributeError:
        raise TypeError(f"{fn}(): argument 'size' must be tuple of ints") from None
    for s in sizes:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(sizes)}")
    return sizes


def _format_strides(sizes, memory_format):
    """Element strides of a dense tensor of `sizes` in `memory_format` (None: contiguous)."""
    from ember import channels_last, channels_last_3d, contiguous_format, preserve_format
    if memory_format is None or memory_format is contiguous_format:
        order = tuple(range(len(sizes) - 1, -1, -1))   # innermost first
    elif memory_format is channels_last or memory_format is channels_last_3d:
        rank = 4 if memory_format is channels_last else 5
        if len(sizes) != rank:
            raise RuntimeError(f"required rank {rank} tensor to use "
                               f"{'channels_last' if rank == 4 else 'channels_last_3d'} format")
        order = (1,) + tuple(range(rank - 1, 1, -1)) + (0,)
    elif memory_format is preserve_format:
        raise RuntimeError("Unsupported memory formatPreserve")
    else:
        raise TypeError(f"memory_format must be a torch.memory_format, got {memory_format!r}")
    strides = [0] * len(sizes)
    acc = 1
    for d in order:
        strides[d] = acc
        acc *= max(sizes[d], 1)
    return tuple(strides)


def _view_bytes(data, dtype, sizes, strides, offset):
    """An array of dtype over the byte array `data`: sizes, element strides, element offset."""
    item = dtype.itemsize
    return np.ndarray(sizes, dtype, buffer=data, offset=offset * item,
                      strides=tuple(st * item for st in strides))


def _extent(sizes, strides):
    """Elements a (sizes, strides) view spans from its first element (0 when empty)."""
    if 0 in sizes:
        return 0
    return 1 + sum((n - 1) * st for n, st in zip(sizes, strides))


def resize_(self, *sizes, memory_format=None):
    """Give self a new shape with contiguous strides (or memory_format's), keeping its storage
    and offset: the data's first elements (in storage order) stay, the storage grows when too
    small (new elements uninitialised). A tensor that requires grad cannot be resized."""
    sizes = _sizes(sizes, "resize_")
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    a = self._data
    if sizes == a.shape and memory_format is None:
        return self   # torch leaves the strides and the version as they are
    strides = _format_strides(sizes, memory_format)
    _restorage(self, sizes, strides, self.storage_offset(), "resize_")
    return self


def _restorage(self, sizes, strides, offset, fn):
    a = self._data
    root, data = _root_bytes(self)
    if data is None:
        raise NotImplementedError(f"{fn}: this tensor's memory is not one contiguous block")
    need = (offset + _extent(sizes, strides)) * a.itemsize
    if need > data.size:
        if not _resizable(root):
            raise RuntimeError("Trying to resize storage that is not resizable")
        if self._base is not None:
            raise NotImplementedError(f"{fn}: growing the storage of a view is not supported "
                                      "(torch moves every tensor of the storage to the new "
                                      "memory; NumPy arrays cannot be moved)")
        grown = np.empty(-(-need // a.itemsize), a.dtype)
        gb = grown.view(np.uint8)
        gb[:data.size] = data
        data = gb
    self._data = _view_bytes(data, a.dtype, sizes, strides, offset)
    self._vc.value += 1


def resize_as_(input, the_template, *, memory_format=None):
    return resize_(input, tuple(the_template.shape), memory_format=memory_format)


def _resize_as_method(self, the_template, *, memory_format=None):
    return resize_(self, tuple(the_template.shape), memory_format=memory_format)


def _resize_function():
    from ember.autograd.function import ArrayFunction

    class Resize(ArrayFunction):
        """The deprecated out-of-place resize: a reshape to the same number of elements (a
        contiguous input's memory is shared, another's copied)."""

        def forward(ctx, a, *, sizes):
            ctx.in_shape = a.shape
            return np.ascontiguousarray(a).reshape(sizes)

        def backward(ctx, grad):
            return grad.contiguous().reshape(ctx.in_shape)

        def name(self):
            return "ResizeBackward"
    return Resize


_RESIZE = []


def resize(self, *sizes):
    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    return _resize_out_of_place(self, sizes)


def resize_as(self, tensor):
    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    return _resize_out_of_place(self, tuple(tensor.shape))


def _resize_out_of_place(self, sizes):
    n = math.prod(sizes)
    if not all(isinstance(s, (int, np.integer)) for s in sizes) or n != self._data.size:
        raise RuntimeError(f"requested resize to {'x'.join(map(str, sizes))} ({n} elements in "
                           f"total), but the given tensor has a size of "
                           f"{'x'.join(map(str, self._data.shape))} ({self._data.size} "
                           f"elements). autograd's resize can only change the shape of a given "
                           f"tensor, while preserving the number of elements. ")
    if not _RESIZE:
        _RESIZE.append(_resize_function())
    return _RESIZE[0].apply(self, sizes=tuple(int(s) for s in sizes))


# ---------------------------------------------------------------------------------------------
# set_ and is_set_to

_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def set_(self, source=None, storage_offset=0, size=None, stride=None):
    """Make self view source's memory: a tensor (its storage, sizes, strides and offset), or a
    storage (by default all of it as a 1-D tensor), with storage_offset/size/stride choosing
    the part. set_() with no source makes self an empty tensor. Self keeps its own version
    counter; a recorded set_ has no derivative (as in torch)."""
    from ember._ops._helpers import check_inplace
    from ember.autograd.grad_mode import state
    a = self._data
    grad = state.enabled and (self._requires_grad or isinstance(source, Tensor) and
                              source._requires_grad)
    if grad:
        check_inplace(self)
    if source is None:
        new = np.empty(0, a.dtype)
    elif isinstance(source, Tensor):
        if source._data.dtype != a.dtype:
            raise RuntimeError(f"Could not set tensor of type "   # (source's type first)
                               f"{_C_NAMES.get(source._data.dtype.name, '?')} to a tensor of "
                               f"type {_C_NAMES.get(a.dtype.name, a.dtype.name)}")
        if size is None:
            new = source._data
        else:
            new = _storage_view(_root_bytes(source)[1], a.dtype, storage_offset, size, stride)
    elif isinstance(source, (UntypedStorage, TypedStorage)):
        data = source.untyped()._bytes
        if size is None:
            size = (data.size // a.itemsize,)
        new = _storage_view(data, a.dtype, storage_offset, size, stride)
    else:
        raise TypeError(f"set_(): argument 'source' must be Tensor or Storage, not "
                        f"{type(source).__name__}")
    self._data = new
    self._base = None
    self._vc.value += 1
    if grad:
        node = _set_node().apply(self, *([source] if isinstance(source, Tensor) else []),
                                 array=new)
        self.grad_fn, self._output_nr, self._requires_grad = node.grad_fn, 0, True
    return self


def _storage_view(data, dtype, offset, size, stride):
    if data is None:
        raise NotImplementedError("set_: the source's memory is not one contiguous block")
    size = _sizes((size,), "set_")
    stride = _format_strides(size, None) if stride is None or not len(stride) else tuple(stride)
    if (offset + _extent(size, stride)) * dtype.itemsize > data.size:
        raise NotImplementedError("set_ past the end of the storage: torch grows the storage, "
                                  "which ember cannot do under tensors that view it")
    return _view_bytes(data, dtype, size, stride, offset)


_SET_NODE = []


def _set_node():
    if not _SET_NODE:
        from ember.autograd.function import ArrayFunction

        class SetNode(ArrayFunction):
            def forward(ctx, *arrays, array):
                return array

            def backward(ctx, grad):
                raise RuntimeError("derivative for set_ is not implemented")

            def name(self):
                return "torch::autograd::NotImplemented"
        _SET_NODE.append(SetNode)
    return _SET_NODE[0]


def is_set_to(self, tensor):
    """Whether both tensors view the same storage with the same offset, sizes and strides."""
    a, b = self._data, tensor._data
    return (_address(_root(a)) == _address(_root(b)) and a.shape == b.shape and
            self.storage_offset() == tensor.storage_offset() and
            self.stride() == tensor.stride())


Tensor.resize_, Tensor.resize_as_ = resize_, _resize_as_method
Tensor.resize, Tensor.resize_as = resize, resize_as
Tensor.set_, Tensor.is_set_to = set_, is_set_to
