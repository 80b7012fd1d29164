"""`ember.save` / `ember.load`: PyTorch's checkpoint formats, safe by default.

The zip format (torch >= 1.6) is a stored (uncompressed) zip archive whose records sit in one
folder named after the file's stem:

    ckpt/data.pkl                 the object, pickled (protocol 2); every storage is a
                                  persistent id ('storage', FloatStorage, '0', 'cpu', numel)
    ckpt/data/0, ckpt/data/1 ...  raw storage bytes, each aligned to 64 bytes in the file
    ckpt/byteorder, version, .format_version, .storage_alignment, .data/serialization_id

A tensor pickles as `torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, OrderedDict())`; views of one storage share one record. ember writes exactly those
names, so real torch loads ember's files with `weights_only=True`, and ember's own unpickler maps
torch's names back to ember's objects.

Traps kept from torch:
- `weights_only=True` is the default: only tensors, storages, primitive types, containers,
  OrderedDict, Size, dtypes, devices and globals named in `add_safe_globals` load; anything else
  raises `pickle.UnpicklingError` before it runs.
- A storage saved from `cuda:0` needs `map_location` on a machine without CUDA.
- A slice of a big tensor saves the whole storage (clone() it to save only the slice).
- Views of one storage with different dtypes cannot be saved.
"""
import collections
import contextlib
import copyreg
import io
import mmap as _mmap
import os
import pickle
import secrets
import struct
import sys
import types
import weakref
import zipfile
import zlib
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections import OrderedDict

import numpy as np

from ember import _dtype
from ember import _storage
from ember._device import CPU, device as _device_cls
from ember._storage import STORAGE_DTYPE, TypedStorage, UntypedStorage, _bytes_of
from ember._tensor import Size, Tensor, _address, _init_from, _root

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals", "DEFAULT_PROTOCOL", "get_unsafe_globals_in_checkpoint"]

DEFAULT_PROTOCOL = 2
_STORAGE_ALIGNMENT = 64
_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
_LEGACY_PROTOCOL = 1001
_UNSAFE_MESSAGE = ("Re-running `ember.load` with `weights_only` set to `False` will likely "
                   "succeed, but it can result in arbitrary code execution. Do it only if you got "
                   "the file from a trusted source.")


# =============================================================================================
# Rebuilding tensors (the functions a checkpoint's pickle calls)

def _view(data, dt, offset, size, stride):
    """A tensor of dtype `dt` over the byte array `data`, as torch's set_() would make it."""
    try:
        size, stride, offset = tuple(map(int, size)), tuple(map(int, stride)), int(offset)
    except (TypeError, ValueError):
        raise RuntimeError(f"invalid tensor layout in checkpoint: size={size!r}, "
                           f"stride={stride!r}, offset={offset!r}") from None
    item = dt.itemsize
    if len(size) != len(stride) or min(size + stride + (offset,), default=0) < 0:
        raise RuntimeError(f"invalid tensor layout in checkpoint: size={list(size)}, "
                           f"stride={list(stride)}, storage offset {offset}")
    if 0 in size:   # torch allows any offset for an empty tensor: it needs no storage
        byte_offset = min(offset * item, data.size)
    else:
        byte_offset = offset * item
    try:
        a = np.ndarray(size, dt.np, buffer=data, offset=byte_offset,
                       strides=tuple(s * item for s in stride))
    except (TypeError, ValueError):
        need = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{need * item} are out of bounds for storage of size {data.size}"
                           ) from None
    return Tensor._make(a)


def _set_requires_grad(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    if not isinstance(storage, TypedStorage):
        raise RuntimeError(f"_rebuild_tensor expects a typed storage, got {type(storage)}")
    return _view(storage._untyped_storage._bytes, storage.dtype, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    return _set_requires_grad(_rebuild_tensor(storage, storage_offset, size, stride),
                              requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    """torch's form for dtypes without a legacy storage class (uint16, float8...)."""
    if not isinstance(storage, (UntypedStorage, TypedStorage)) or \
            not isinstance(dtype, _dtype.dtype):
        raise RuntimeError("_rebuild_tensor_v3 expects a storage and a dtype")
    t = _view(storage.untyped()._bytes, dtype, storage_offset, size, stride)
    return _set_requires_grad(t, requires_grad)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    from ember.nn.parameter import Parameter
    if not isinstance(data, Tensor):
        raise RuntimeError(f"_rebuild_parameter expects a tensor, got {type(data).__name__}")
    return Parameter(data, bool(requires_grad))


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = _rebuild_parameter(data, requires_grad, backward_hooks)
    _set_state(p, state)
    return p


def _rebuild_from_type_v2(func, new_type, args, state):
    """A tensor subclass (or a tensor with attributes): rebuild the tensor, then retype it."""
    ret = func(*args)
    if not isinstance(new_type, type) or not issubclass(new_type, Tensor):
        raise RuntimeError(f"_rebuild_from_type_v2: {new_type!r} is not a Tensor type")
    if type(ret) is not new_type:
        from ember.nn.parameter import Parameter
        if issubclass(new_type, Parameter):
            ret = new_type(ret, ret.requires_grad)
        else:
            new = object.__new__(new_type)
            _init_from(new, ret)
            ret = new
    _set_state(ret, state)
    return ret


def _set_state(obj, state):
    if not state:
        return
    if isinstance(state, tuple) and len(state) == 2:   # (dict state, slot state)
        for part in state:
            _set_state(obj, part)
        return
    if not isinstance(state, dict):
        raise RuntimeError(f"cannot restore tensor attributes from {type(state).__name__}")
    for k, v in state.items():
        try:
            setattr(obj, k, v)
        except AttributeError:
            raise NotImplementedError(f"ember cannot restore the Python attribute {k!r} on a "
                                      f"{type(obj).__name__}") from None


def _storage_from_bytes(data, dtype):
    """Plain-pickle form of a storage: its bytes (and dtype for a typed storage)."""
    untyped = UntypedStorage._wrap(np.frombuffer(bytearray(data), np.uint8))
    return untyped if dtype is None else TypedStorage._wrap(untyped, dtype)


def _unsupported(what):
    def rebuild(*args, **kwargs):
        raise NotImplementedError(f"this checkpoint holds {what}, which ember does not support")
    rebuild.__name__ = "_rebuild_" + what.replace(" ", "_")
    return rebuild


def _get_layout(name):
    import ember
    value = getattr(ember, name.split(".")[-1], None)
    if value is None:
        raise NotImplementedError(f"ember has no layout {name}")
    return value


# =============================================================================================
# Pickling tensors (Tensor.__reduce_ex__ and Parameter.__reduce_ex__ call these)

def _layout(t):
    """(UntypedStorage, element offset, strides) that describe t in torch's terms.

    The storage is all of t's memory owner; when t's layout is not expressible in elements of
    that owner (negative or odd strides, an owner NumPy made with gaps), t is copied alone."""
    a = t._data
    item = a.itemsize
    if a.base is None and a.flags.c_contiguous and a.size:   # common case: t owns its memory
        return (a.reshape(-1).view(np.uint8), 0, tuple([s // item for s in a.strides]))
    root = _root(a)
    data = _bytes_of(root)
    if data is not None:
        off = _address(a) - _address(data)
        if off % item == 0 and all(s >= 0 and s % item == 0 for s in a.strides) and \
                (a.size == 0 or off + item + sum((n - 1) * s for n, s in
                                                  zip(a.shape, a.strides)) <= data.size):
            stride = tuple(s // item for s in a.strides) if a.size else t.stride()
            return data, off // item, stride
    c = np.ascontiguousarray(a)
    return c.reshape(-1).view(np.uint8), 0, t.stride() if not c.size else \
        tuple(s // item for s in c.strides)


# One storage object per (memory, dtype) while any pickle holds it, so that views pickled together
# (by plain pickle, deepcopy or multiprocessing) are written once and load as views again. A
# storage references its memory, so a key's address cannot be reused while its entry lives.
_storage_objects = weakref.WeakValueDictionary()


def _memory_key(data):
    """Identifies a storage's memory: its owner array, and where it starts when it is a slice."""
    root = _root(data)
    return (id(root), -1 if data.size == root.nbytes else _address(data), data.size)


def _storage_object(data, dt):
    key = (_memory_key(data), dt)
    s = _storage_objects.get(key)
    if s is None:
        untyped = UntypedStorage._wrap(data)
        s = TypedStorage._wrap(untyped, dt) if dt in _storage._LEGACY_NAME else untyped
        _storage_objects[key] = s
    return s


def _tensor_args(t):
    """The callable and arguments that rebuild tensor t (no subclass, no attributes)."""
    data, offset, stride = _layout(t)
    dt = t.dtype
    size = tuple(t._data.shape)
    storage = _storage_object(data, dt)
    if dt in _storage._LEGACY_NAME:
        return _rebuild_tensor_v2, (storage, offset, size, stride, t._requires_grad,
                                    OrderedDict())
    return _rebuild_tensor_v3, (storage, offset, size, stride, t._requires_grad, OrderedDict(),
                                dt)


def _slot_state(t):
    """Values of the extra __slots__ a Tensor subclass declares (None when there are none)."""
    names = [n for cls in type(t).__mro__ if cls is not Tensor and issubclass(cls, Tensor)
             for n in getattr(cls, "__slots__", ()) if n != "__weakref__"]
    state = {n: getattr(t, n) for n in names if hasattr(t, n)}
    return state or None


def _reduce_tensor(t):
    """Tensor.__reduce_ex__: torch's form, a storage plus offset, size and stride."""
    func, args = _tensor_args(t)
    if type(t) is Tensor:
        return func, args
    return _rebuild_from_type_v2, (func, type(t), args, _slot_state(t))


def _reduce_parameter(p):
    """nn.Parameter.__reduce_ex__: the data tensor, requires_grad, and (empty) hooks."""
    data = Tensor._make(p._data)
    return _rebuild_parameter, (data, p._requires_grad, OrderedDict())


# =============================================================================================
# Safe globals (what weights_only=True admits)

_user_globals = {}    # "module.name" -> object


def _global_name(obj):
    return f"{obj.__module__}.{getattr(obj, '__qualname__', obj.__name__)}"


def add_safe_globals(safe_globals):
    """Allow these globals (classes, functions, or `(obj, "module.name")` pairs) in
    `load(weights_only=True)`; a pickle may then call or construct them."""
    for g in safe_globals:
        if isinstance(g, tuple):
            if len(g) != 2 or not isinstance(g[1], str):
                raise ValueError(f"expected (global, 'module.name'), got {g!r}")
            _user_globals[g[1]] = g[0]
        else:
            _user_globals[_global_name(g)] = g


def get_safe_globals():
    return [(obj, name) if _global_name(obj) != name else obj
            for name, obj in _user_globals.items()]


def clear_safe_globals():
    _user_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Context manager: `add_safe_globals` for the duration of the block only."""
    saved = dict(_user_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _user_globals.clear()
        _user_globals.update(saved)


def _allowed_globals():
    """torch's names (and ember's own) that weights_only=True admits, mapped to ember objects."""
    from ember.nn.parameter import Parameter
    import ember
    rc = {"collections.OrderedDict": OrderedDict, "collections.Counter": collections.Counter,
          "builtins.set": set, "builtins.bytearray": bytearray, "builtins.complex": complex,
          "_codecs.encode": __import__("codecs").encode,
          "torch.Size": Size, "torch.device": _device_cls, "torch.Tensor": Tensor,
          "torch._tensor.Tensor": Tensor, "torch.nn.parameter.Parameter": Parameter,
          "torch.serialization._get_layout": _get_layout,
          "torch.storage.UntypedStorage": UntypedStorage,
          "torch.storage.TypedStorage": TypedStorage, "torch.UntypedStorage": UntypedStorage,
          "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2}
    for f in (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
              _rebuild_parameter_with_state):
        rc["torch._utils." + f.__name__] = f
    for what in ("sparse tensor", "sparse csr tensor", "qtensor", "nested tensor",
                 "meta tensor no storage", "wrapper subclass", "device tensor from numpy",
                 "device tensor from cpu tensor", "mkldnn tensor"):
        rc["torch._utils._rebuild_" + what.replace(" ", "_")] = _unsupported(what + "s")
    for dt in _dtype.ALL:
        rc["torch." + dt._name] = dt
    for name, cls in _storage.LEGACY_CLASSES.items():
        rc["torch." + name] = cls
    for lay in ("strided", "sparse_coo", "sparse_csr"):
        rc["torch." + lay] = getattr(ember, lay)
    # the same objects under ember's own names (plain pickles of ember objects)
    for key, obj in list(rc.items()):
        if callable(obj) and str(getattr(obj, "__module__", "")).startswith("ember") and \
                "<locals>" not in getattr(obj, "__qualname__", "<locals>"):
            rc[_global_name(obj)] = obj
    for dt in _dtype.ALL:
        rc["ember._dtype." + dt._name] = dt
    return rc


_ALLOWED = None


def _allowed():
    global _ALLOWED
    if _ALLOWED is None:
        _ALLOWED = _allowed_globals()
    return _ALLOWED


def _unsafe_global_message(full_path):
    return ("Weights only load failed. This file can still be loaded, to do so you have two "
            "options, do those steps only if you trust the source of the checkpoint. "
            f"\n\t(1) {_UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with `weights_only=True` "
            "please check the recommended steps in the following error message.\n\t"
            f"WeightsUnpickler error: Unsupported global: GLOBAL {full_path} was not an allowed "
            "global by default. Please use "
            f"`ember.serialization.add_safe_globals([{full_path}])` or the "
            f"`ember.serialization.safe_globals([{full_path}])` context manager to allowlist "
            "this global if you trust this class/function.")


def _py3_name(module, name):
    """Python 2 names that protocol-2 pickles use (`__builtin__ set`) -> Python 3's."""
    if (module, name) in NAME_MAPPING:
        return NAME_MAPPING[(module, name)]
    return IMPORT_MAPPING.get(module, module), name


class _WeightsUnpickler(pickle.Unpickler):
    """The restricted unpickler: every global a pickle names (GLOBAL, STACK_GLOBAL, INST, OBJ,
    EXT) goes through find_class, which answers only from the allowlist, so a pickle can only
    call or construct what is listed; anything else is refused before it is even imported."""

    def find_class(self, module, name):
        module, name = _py3_name(module, name)
        full = f"{module}.{name}"
        obj = _allowed().get(full)
        if obj is None:
            obj = _user_globals.get(full)
        if obj is None:
            raise pickle.UnpicklingError(_unsafe_global_message(full))
        return obj


class _FullUnpickler(pickle.Unpickler):
    """weights_only=False: any global, with torch's names mapped to ember's where ember has
    them (so a whole torch object pickled with tensors can load when ember has its classes)."""

    def find_class(self, module, name):
        module, name = _py3_name(module, name)
        obj = _allowed().get(f"{module}.{name}")
        if obj is not None:
            return obj
        if module == "torch" or module.startswith("torch."):
            import importlib
            try:
                return getattr(importlib.import_module("ember" + module[5:]), name)
            except (ImportError, AttributeError):
                raise pickle.UnpicklingError(f"{module}.{name} has no ember equivalent") from None
        return super().find_class(module, name)


def _unpickler_class(weights_only, pickle_module):
    if weights_only:
        return _WeightsUnpickler
    if pickle_module is None or pickle_module is pickle:
        return _FullUnpickler

    class _Custom(pickle_module.Unpickler):
        find_class = _FullUnpickler.find_class
    return _Custom


# =============================================================================================
# save

_TYPED_STORAGES = frozenset([TypedStorage, *_storage.LEGACY_CLASSES.values()])


class _StorageRef:
    """A tensor's storage inside one save's pickle: the pickler turns it into a persistent id."""

    __slots__ = ("pid",)

    def __init__(self, pid):
        self.pid = pid


def _reduce_ordered_dict(od):
    """OrderedDict.__reduce__ without its per-call copyreg._slotnames lookup (same bytes)."""
    return OrderedDict, (), vars(od) or None, None, iter(od.items()) if od else None


class _StorageTable:
    """The storages a save has met, in order, keyed by memory (so views share one record).

    It also reduces exact Tensors and Parameters for the save's pickler (through the pickler's
    dispatch_table): each tensor's storage becomes a _StorageRef carrying its persistent id, so
    persistent_id stays a type check for every other object the pickler meets."""

    def __init__(self, legacy=False):
        self.keys = {}       # memory key -> (key, dtype)
        self.records = []    # (key, uint8 array)
        self.itemsize = {}   # key -> element size of the storage's dtype
        self.legacy = legacy
        self.emitted = []    # ember globals met while pickling (see _rename_globals)

    def _pid(self, ident, data, dt, storage_type):
        """The persistent id of storage `data` (uint8 array, or an owner array to view as
        bytes when first recorded) read as dtype dt; `ident` is its _memory_key."""
        known = self.keys.get(ident)
        if known is None:
            key = str(len(self.records))
            self.keys[ident] = (key, dt)
            if data.dtype != np.uint8 or data.ndim != 1:
                data = data.reshape(-1).view(np.uint8)
            self.records.append((key, data))
            self.itemsize[key] = dt.itemsize
        else:
            key, first = known
            if first is not dt:   # torch's loader would read the later ones with the first dtype
                raise RuntimeError("Cannot save multiple tensors or storages that view the same "
                                   "data as different types")
            data = self.records[int(key)][1]
        numel = data.nbytes // dt.itemsize
        if self.legacy:   # the sixth field is view metadata, unused since torch 0.4
            return ("storage", storage_type, key, "cpu", numel, None)
        return ("storage", storage_type, key, "cpu", numel)

    def persistent_id(self, obj):
        # called for every object pickled: one set lookup decides for all but storages and
        # the ember globals that must be renamed
        t = type(obj)
        if t not in _SPECIAL_TYPES:
            return None
        if t is _StorageRef:
            return obj.pid
        if t is UntypedStorage:
            untyped, dt, storage_type = obj, _dtype.uint8, UntypedStorage
        elif t in _TYPED_STORAGES:
            untyped, dt = obj._untyped_storage, obj._dtype
            storage_type = _LEGACY_CLASS.get(dt)
            if storage_type is None:
                raise RuntimeError(f"cannot save a TypedStorage of {dt}; save the tensor")
        else:
            if id(obj) in _CANDIDATE_IDS:      # an ember global whose name must become torch's
                self.emitted.append(obj)
            return None
        data = untyped._bytes     # the records keep every owner alive: ids stay unique
        return self._pid(_memory_key(data), data, dt, storage_type)

    def reduce_tensor(self, t):
        """An exact Tensor as torch pickles it: _rebuild_tensor_v2(storage, offset, size,
        stride, requires_grad, OrderedDict()), or _v3 with the dtype for dtypes that have no
        legacy storage class."""
        a = t._data
        dt = t.dtype
        legacy = _LEGACY_CLASS.get(dt)
        if a.base is None and a.size and a.flags.c_contiguous:   # t owns its memory: common
            item = a.itemsize
            offset, stride = 0, tuple([s // item for s in a.strides])
            ident = (id(a), -1, a.nbytes)
            data = a
        else:
            data, offset, stride = _layout(t)
            ident = _memory_key(data)
        if legacy is not None:
            ref = _StorageRef(self._pid(ident, data, dt, legacy))
            # a fresh OrderedDict per tensor: torch keeps it as the tensor's _backward_hooks
            return _rebuild_tensor_v2, (ref, offset, a.shape, stride, t._requires_grad,
                                        OrderedDict())
        ref = _StorageRef(self._pid(ident, data, _dtype.uint8, UntypedStorage))
        return _rebuild_tensor_v3, (ref, offset, a.shape, stride, t._requires_grad,
                                    OrderedDict(), dt)

    def reduce_parameter(self, p):
        return _rebuild_parameter, (Tensor._make(p._data), p._requires_grad, OrderedDict())

    def dispatch_table(self):
        from ember.nn.parameter import Parameter
        table = dict(copyreg.dispatch_table)
        table[Tensor] = self.reduce_tensor
        table[Parameter] = self.reduce_parameter
        table[OrderedDict] = _reduce_ordered_dict
        return table


_LEGACY_CLASS = {dt: _storage.LEGACY_CLASSES[name] for dt, name in _storage._LEGACY_NAME.items()}


def _torch_names():
    """GLOBAL opcodes the C pickler writes for ember objects -> the ones torch writes."""
    from ember.nn.parameter import Parameter
    pairs = {}
    for dt in _dtype.ALL:
        pairs[dt] = (f"ember._dtype\n{dt._name}", f"torch\n{dt._name}")
    for name, cls in _storage.LEGACY_CLASSES.items():
        pairs[cls] = (f"ember._storage\n{name}", f"torch\n{name}")
    pairs[UntypedStorage] = ("ember._storage\nUntypedStorage", "torch.storage\nUntypedStorage")
    pairs[Size] = ("ember._tensor\nSize", "torch\nSize")
    pairs[Tensor] = ("ember._tensor\nTensor", "torch\nTensor")
    pairs[_device_cls] = ("ember._device\ndevice", "torch\ndevice")
    pairs[Parameter] = ("ember.nn.parameter\nParameter", "torch.nn.parameter\nParameter")
    for f in (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
              _rebuild_parameter_with_state):
        pairs[f] = (f"ember.serialization\n{f.__name__}", f"torch._utils\n{f.__name__}")
    pairs[_rebuild_from_type_v2] = ("ember.serialization\n_rebuild_from_type_v2",
                                    "torch._tensor\n_rebuild_from_type_v2")
    return {obj: (f"c{old}\n".encode(), f"c{new}\n".encode()) for obj, (old, new) in
            pairs.items()}


_TORCH_NAMES = _CANDIDATE_IDS = _SPECIAL_TYPES = None


def _init_names():
    global _TORCH_NAMES, _CANDIDATE_IDS, _SPECIAL_TYPES
    if _TORCH_NAMES is None:
        _TORCH_NAMES = _torch_names()
        _CANDIDATE_IDS = frozenset(map(id, _TORCH_NAMES))   # module-level objects: ids stable
        # the types persistent_id looks at further: storages, and the types of those globals
        _SPECIAL_TYPES = frozenset([_StorageRef, UntypedStorage, *_TYPED_STORAGES,
                                    *map(type, _TORCH_NAMES)])


def _rename_globals(data, emitted):
    """Rewrite ember's GLOBAL opcodes as torch's. Each global is written once (later uses are
    memo gets), so an emitted one must occur exactly once; if user data holds the same bytes,
    give up (None) and let the caller use the slower pickler that writes torch's names itself."""
    for obj in set(emitted):
        old, new = _TORCH_NAMES[obj]
        if data.count(old) != 1:
            return None
        data = data.replace(old, new)
    return data


def _hashable(obj):
    try:
        hash(obj)
        return True
    except TypeError:
        return False


class _TorchNamesPickler(pickle._Pickler):
    """Pure-Python pickler that writes torch's names for ember's globals directly (the fallback
    for protocols >= 4, whose STACK_GLOBAL cannot be patched afterwards, and for odd data)."""

    def save_global(self, obj, name=None):
        names = _TORCH_NAMES.get(obj) if _hashable(obj) else None
        if names is None:
            return super().save_global(obj, name)
        module, qualname = names[1][1:-1].decode().split("\n")
        if self.proto >= 4:
            self.save(module)
            self.save(qualname)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(names[1])
        self.memoize(obj)

    # classes and functions reach save_global through the dispatch table: route them here
    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[type] = dispatch[types.FunctionType] = save_global


def _pickle(obj, table, pickle_module, protocol):
    """Pickle obj with storages as persistent ids, writing torch's global names."""
    _init_names()
    buf = io.BytesIO()
    if pickle_module is pickle and protocol <= 3:
        p = pickle.Pickler(buf, protocol)
        p.persistent_id = table.persistent_id
        p.dispatch_table = table.dispatch_table()
        p.dump(obj)
        data = _rename_globals(buf.getvalue(), table.emitted)
        if data is not None:
            return data
        buf = io.BytesIO()
        table.__init__(table.legacy)
    if pickle_module is pickle:
        p = _TorchNamesPickler(buf, protocol)
        p.persistent_id = table.persistent_id
        p.dump(obj)
        return buf.getvalue()
    p = pickle_module.Pickler(buf, protocol)
    p.persistent_id = table.persistent_id
    p.dump(obj)
    data = _rename_globals(buf.getvalue(), table.emitted)
    if data is None:
        raise RuntimeError("could not write torch's global names with this pickle_module")
    return data


def _is_path(f):
    return isinstance(f, (str, os.PathLike))


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Save `obj` to `f` (a path or a writable binary file) in PyTorch's checkpoint format.

    A path is written through a temporary file in the same folder that replaces `f` only when
    complete, so an interrupted save leaves the previous file intact."""
    if not isinstance(pickle_protocol, int) or pickle_protocol < 2:
        raise ValueError(f"pickle_protocol must be an int >= 2, got {pickle_protocol!r}")
    table = _StorageTable(legacy=not _use_new_zipfile_serialization)
    pkl = _pickle(obj, table, pickle_module, pickle_protocol)
    if _is_path(f):
        path = os.fspath(f)
        if isinstance(path, bytes):
            path = path.decode()
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise RuntimeError(f"Parent directory {folder} does not exist.")
        name = os.path.splitext(os.path.basename(path))[0]
        tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
        replacing = os.path.lexists(path)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with open(fd, "wb") as out:
                _write(out, name, pkl, table, _use_new_zipfile_serialization,
                       _disable_byteorder_record, pickle_protocol,
                       _writeback_starter(fd) if replacing else None)
            # No fsync (torch does none either): the rename is atomic for other processes
            # and for an interrupted save, but a power cut soon after may lose the new file.
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    else:
        if not hasattr(f, "write"):
            raise AttributeError(f"expected a path or a writable file-like object, got "
                                 f"{type(f).__name__}")
        _write(f, "archive", pkl, table, _use_new_zipfile_serialization,
               _disable_byteorder_record, pickle_protocol)
        if hasattr(f, "flush"):
            f.flush()


def _write(out, name, pkl, table, new_format, no_byteorder, protocol, writeback=None):
    if new_format:
        _write_zip(out, name, pkl, table, no_byteorder, writeback)
    else:
        _write_legacy(out, pkl, table, protocol)


_sync_file_range = None


def _writeback_starter(fd):
    """A function (offset, size) that asks the kernel to start writing that byte range of fd
    to disk without waiting for it (Linux's sync_file_range), or None elsewhere.

    save replaces an existing file by renaming the finished temporary file over it, and ext4
    and btrfs (guarding against empty files after a crash) then start writeback of the whole
    new file inside the rename, which for a large checkpoint took about as long as writing it.
    Starting writeback as the records are written moves that work to where the writer would
    otherwise wait for the checksum thread, so the rename finds little left to do."""
    global _sync_file_range
    if _sync_file_range is None:
        _sync_file_range = False
        if sys.platform.startswith("linux"):
            import ctypes
            try:
                fn = ctypes.CDLL(None, use_errno=True).sync_file_range
            except (OSError, AttributeError):
                pass
            else:
                fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
                fn.restype = ctypes.c_int
                _sync_file_range = fn
    if not _sync_file_range:
        return None
    write_now = 2     # SYNC_FILE_RANGE_WRITE: start writeback of dirty pages, do not wait
    return lambda offset, size: _sync_file_range(fd, offset, size, write_now)


class _AlignedZip:
    """A minimal stored-zip writer (no seeking, so pipes work too) that aligns each record's
    data to 64 bytes as torch does, by padding the local header's extra field (id 'FB').

    Small records are gathered and written in one call; a large record's bytes go to the file
    straight from the array's buffer (no copy). With `writeback` (see _writeback_starter), the
    written bytes are handed to the disk as the file grows."""

    _DATE = 33    # 1980-01-01 in DOS format, as torch writes it
    _GATHER = 1 << 16     # records up to this size are copied into the pending batch
    _WRITEBACK_STEP = 1 << 23     # start writeback once this many bytes are written

    def __init__(self, out, writeback=None):
        self.out = out
        self.writeback = writeback    # (offset, size) -> None: start writing a range to disk
        self.written_back = 0         # the bytes before this offset have been handed to it
        self.pos = 0
        self.central = []
        self.pending = []     # headers and small records not yet written
        self.pending_size = 0

    def write(self, name, data, crc=None):
        raw = name.encode()
        view = memoryview(data)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        size = view.nbytes
        if crc is None:
            crc = zlib.crc32(view)
        zip64 = size >= 0xFFFFFFFF
        z64 = struct.pack("<HHQQ", 1, 16, size, size) if zip64 else b""
        pad = -(self.pos + 30 + len(raw) + len(z64)) % _STORAGE_ALIGNMENT
        if pad < 4:
            pad += _STORAGE_ALIGNMENT
        extra = z64 + b"FB" + struct.pack("<H", pad - 4) + b"Z" * (pad - 4)
        small = 0xFFFFFFFF if zip64 else size
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, 0, 0, 0,
                             self._DATE, crc, small, small, len(raw), len(extra))
        record_size = len(header) + len(raw) + len(extra) + size
        self.pending += (header, raw, extra)
        if size <= self._GATHER:
            self.pending.append(view.tobytes())
            self.pending_size += size + 100
            if self.pending_size >= 1 << 20:
                self.flush()
        else:
            self.flush()
            self.out.write(view)
        self.central.append((raw, crc, size, self.pos))
        self.pos += record_size
        if size > self._GATHER:     # everything up to self.pos is in the file now
            self.start_writeback()

    def start_writeback(self):
        """Hand the bytes written since the last hand-over to `writeback`, 8 MB at a time."""
        if self.writeback is not None and self.pos - self.written_back >= self._WRITEBACK_STEP:
            self.out.flush()
            self.writeback(self.written_back, self.pos - self.written_back)
            self.written_back = self.pos

    def flush(self):
        if self.pending:
            self.out.write(b"".join(self.pending))
            self.pending.clear()
            self.pending_size = 0

    def close(self):
        start = self.pos
        for raw, crc, size, offset in self.central:
            big_size, big_off = size >= 0xFFFFFFFF, offset >= 0xFFFFFFFF
            z64 = (struct.pack("<QQ", size, size) if big_size else b"") + \
                (struct.pack("<Q", offset) if big_off else b"")
            extra = struct.pack("<HH", 1, len(z64)) + z64 if z64 else b""
            ver = 45 if z64 else 20
            entry = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, ver, ver, 0, 0, 0, self._DATE,
                                crc, 0xFFFFFFFF if big_size else size,
                                0xFFFFFFFF if big_size else size, len(raw), len(extra), 0, 0, 0,
                                0, 0xFFFFFFFF if big_off else offset)
            self.pending.append(entry + raw + extra)
            self.pos += len(entry) + len(raw) + len(extra)
        n, cd_size = len(self.central), self.pos - start
        if n >= 0xFFFF or start >= 0xFFFFFFFF or cd_size >= 0xFFFFFFFF:
            self.pending.append(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n,
                                            n, cd_size, start))
            self.pending.append(struct.pack("<IIQI", 0x07064B50, 0, self.pos, 1))
            n, cd_size, start = min(n, 0xFFFF), min(cd_size, 0xFFFFFFFF), \
                min(start, 0xFFFFFFFF)
        self.pending.append(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, cd_size, start, 0))
        self.flush()


def _checksums(records):
    """CRC-32 of each record, in order. For large checkpoints a helper thread computes them a
    record ahead of the writer (zlib releases the GIL), so checksumming overlaps writing."""
    total = sum(data.nbytes for _, data in records)
    if total < 1 << 24 or len(records) < 2:
        yield from (None for _ in records)     # small: write() checksums inline
        return
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1, thread_name_prefix="ember-save-crc") as pool:
        futures = [pool.submit(zlib.crc32, data) for _, data in records]
        try:
            for fut in futures:
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()


def _write_zip(out, name, pkl, table, no_byteorder, writeback=None):
    z = _AlignedZip(out, writeback)
    z.write(f"{name}/data.pkl", pkl)
    z.write(f"{name}/.format_version", b"1")
    z.write(f"{name}/.storage_alignment", str(_STORAGE_ALIGNMENT).encode())
    if not no_byteorder:
        z.write(f"{name}/byteorder", sys.byteorder.encode())
    for (key, data), crc in zip(table.records, _checksums(table.records)):
        z.write(f"{name}/data/{key}", data, crc)
    z.write(f"{name}/version", b"3\n")
    z.write(f"{name}/.data/serialization_id",
            str(secrets.randbelow(10 ** 40)).zfill(40).encode())
    z.close()


def _write_legacy(out, pkl, table, protocol):
    """The pre-1.6 format: four pickles, then each storage as an int64 count and raw bytes."""
    sys_info = {"protocol_version": _LEGACY_PROTOCOL, "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": struct.calcsize("=h"), "int": struct.calcsize("=i"),
                               "long": struct.calcsize("=l")}}
    for head in (_LEGACY_MAGIC, _LEGACY_PROTOCOL, sys_info):
        pickle.dump(head, out, protocol=protocol)
    out.write(pkl)
    pickle.dump(sorted(k for k, _ in table.records), out, protocol=protocol)
    for key, data in sorted(table.records):
        out.write(struct.pack("<q", data.size // table.itemsize[key]))
        out.write(memoryview(data))


# =============================================================================================
# load

def _cuda_message():
    return ("Attempting to deserialize object on a CUDA device but ember.cuda.is_available() is "
            "False. If you are running on a CPU-only machine, please use ember.load with "
            "map_location=ember.device('cpu') to map your storages to the CPU.")


def _restore(storage, location):
    """torch's default_restore_location: keep a CPU storage, refuse the rest with torch's text."""
    location = str(location)
    if location == "cpu":
        return storage
    if location.startswith("cuda"):
        from ember import cuda
        if not cuda.is_available():
            raise RuntimeError(_cuda_message())
        raise NotImplementedError("ember loads storages onto the CPU only; use map_location='cpu'")
    raise RuntimeError(f"don't know how to restore data location of "
                       f"torch.storage.UntypedStorage (tagged with {location})")


def _location_mapper(map_location):
    """map_location (None, str, device, dict, callable) -> f(storage, location) -> storage."""
    if map_location is None:
        return _restore
    if isinstance(map_location, (str, _device_cls)):
        target = str(map_location)
        return lambda storage, location: _restore(storage, target)
    if isinstance(map_location, dict):
        return lambda storage, location: _restore(storage, map_location.get(location, location))
    if callable(map_location):
        def call(storage, location):
            result = map_location(storage, location)
            if result is None:
                return _restore(storage, location)
            if isinstance(result, (UntypedStorage, TypedStorage)):
                return result.untyped()
            raise RuntimeError(f"map_location returned {type(result).__name__}; expected a "
                               "storage or None")
        return call
    raise TypeError(f"map_location should be a str, ember.device, dict or callable, got "
                    f"{type(map_location).__name__}")


def _byteswap(data, dt):
    """Swap each element's bytes in place (a checkpoint written on a big-endian machine)."""
    width = dt.itemsize // 2 if dt.is_complex else dt.itemsize
    if width > 1:
        data.view(f"u{width}").byteswap(inplace=True)


def _storage_dtype(storage_type):
    """The dtype a persistent id's storage type names (a legacy class or, since 2.x, a dtype)."""
    if isinstance(storage_type, _dtype.dtype):
        return storage_type
    if storage_type is UntypedStorage:
        return _dtype.uint8
    if isinstance(storage_type, type) and issubclass(storage_type, TypedStorage) and \
            storage_type._fixed_dtype is not None:
        return storage_type._fixed_dtype
    raise pickle.UnpicklingError(f"unknown storage type in checkpoint: {storage_type!r}")


class _Loader:
    """Reads one checkpoint: the pickle, and the storages its persistent ids name."""

    def __init__(self, f, name, map_location, unpickler_cls, pickle_load_args):
        self.f = f
        self.name = name
        self.restore = _location_mapper(map_location)
        self.unpickler_cls = unpickler_cls
        self.args = pickle_load_args
        self.storages = {}    # key -> TypedStorage

    def unpickle(self, stream, persistent_load):
        up = self.unpickler_cls(stream, **self.args)
        up.persistent_load = persistent_load
        try:
            return up.load()
        except pickle.UnpicklingError as e:
            if "Weights only load failed" in str(e):
                raise pickle.UnpicklingError(str(e)) from None
            raise RuntimeError(f"{self.name}: the pickle is corrupt ({e})") from None
        except (EOFError, ValueError, struct.error, IndexError, KeyError, TypeError) as e:
            raise RuntimeError(f"{self.name}: the pickle is corrupt ({type(e).__name__}: "
                               f"{e})") from None

    def typed(self, pid, data):
        """Check the persistent id's fields and wrap the loaded bytes as its storage."""
        typename, storage_type, key, location, numel = pid[:5]
        dt = _storage_dtype(storage_type)
        if not isinstance(numel, int) or data.size != numel * dt.itemsize:
            raise RuntimeError(f"{self.name}: storage {key} holds {data.size} bytes, expected "
                               f"{numel} elements of {dt}")
        untyped = self.restore(UntypedStorage._wrap(data), location)
        return TypedStorage._wrap(untyped, dt)


class _ZipLoader(_Loader):
    def __init__(self, f, name, map_location, unpickler_cls, pickle_load_args, mm):
        super().__init__(f, name, map_location, unpickler_cls, pickle_load_args)
        try:
            self.zf = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
            raise RuntimeError(f"{name}: PytorchStreamReader failed reading zip archive: {e} "
                               "(the file is truncated or corrupt)") from None
        infos = self.zf.infolist()
        first = infos[0].filename if infos else ""
        self.prefix = first.split("/", 1)[0] + "/" if "/" in first else ""
        # Stored storage records keep only (header offset, size): a ZipInfo per record is
        # several hundred bytes, which dominated peak memory for checkpoints of many small
        # tensors. The other records (and any compressed storage) keep their ZipInfo.
        data_dir = self.prefix + "data/"
        self.infos, self.stored = {}, {}
        for i in infos:
            if i.compress_type == zipfile.ZIP_STORED and i.filename.startswith(data_dir):
                self.stored[i.filename] = (i.header_offset, i.file_size)
            else:
                self.infos[i.filename] = i
        del infos
        self.zf.filelist, self.zf.NameToInfo = [], {}   # drop zipfile's references to them
        self.mm = mm
        self.swap = False

    def record(self, rel):
        info = self.infos.get(self.prefix + rel)
        if info is None:
            raise RuntimeError(f"{self.name}: PytorchStreamReader failed locating file {rel}: "
                               "file not found")
        return info

    def read_small(self, rel):
        try:
            return self.zf.read(self.record(rel))
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise RuntimeError(f"{self.name}: record {rel} is corrupt ({e})") from None

    def data_offset(self, header_offset, rel):
        self.f.seek(header_offset)
        head = self.f.read(30)
        if len(head) != 30 or head[:4] != b"PK\x03\x04":
            raise RuntimeError(f"{self.name}: bad local header for record {self.prefix}{rel}")
        n, m = struct.unpack("<HH", head[26:30])
        return header_offset + 30 + n + m

    def read_storage(self, rel):
        """A storage record's bytes: read straight into a NumPy buffer, or mapped (mmap)."""
        entry = self.stored.get(self.prefix + rel)
        if entry is None:      # compressed (repacked by another tool), or missing: raises
            self.record(rel)
            return np.frombuffer(bytearray(self.read_small(rel)), np.uint8)
        header_offset, size = entry
        if self.mm is not None:
            off = self.data_offset(header_offset, rel)
            if off + size > len(self.mm):
                raise RuntimeError(f"{self.name}: record {rel} is truncated")
            data = np.frombuffer(self.mm, np.uint8, count=size, offset=off)
        else:
            off = self.data_offset(header_offset, rel)
            data = np.empty(size, np.uint8)
            self.f.seek(off)
            got = self.f.readinto(memoryview(data)) if size else 0
            while got is not None and got < size:     # short reads from pipes/sockets
                more = self.f.readinto(memoryview(data)[got:])
                if not more:
                    break
                got += more
            if (got or 0) < size:
                raise RuntimeError(f"{self.name}: record {rel} is truncated")
        return data

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id in checkpoint: {pid!r}")
        key = pid[2]
        storage = self.storages.get(key)
        if storage is None:
            if not isinstance(key, str) or "/" in key or ".." in key:
                raise pickle.UnpicklingError(f"bad storage key in checkpoint: {key!r}")
            data = self.read_storage(f"data/{key}")
            dt = _storage_dtype(pid[1])
            if self.swap:
                _byteswap(data, dt)
            storage = self.storages[key] = self.typed(pid, data)
        dt = _storage_dtype(pid[1])   # an UntypedStorage loads as uint8 TypedStorage, as in torch
        if dt is not storage.dtype:
            return TypedStorage._wrap(storage._untyped_storage, dt)
        return storage

    def load(self):
        if self.prefix + "data.pkl" not in self.infos:
            if self.prefix + "constants.pkl" in self.infos:
                raise RuntimeError(f"{self.name} is a TorchScript archive; ember cannot load "
                                   "TorchScript (torch.jit) files")
            self.record("data.pkl")
        if self.prefix + "byteorder" in self.infos:
            order = self.read_small("byteorder").decode(errors="replace")
            if order not in ("little", "big"):
                raise RuntimeError(f"{self.name}: Unknown endianness type: {order!r} in the "
                                   "byteorder record")
            self.swap = order != sys.byteorder
        pkl = self.read_small("data.pkl")
        return self.unpickle(io.BytesIO(pkl), self.persistent_load)


class _LegacyLoader(_Loader):
    """The pre-1.6 format: magic, protocol, sys_info, the object, storage keys, raw storages."""

    def __init__(self, *args):
        super().__init__(*args)
        self.pending = {}     # key -> (uint8 buffer, element size), filled after the pickle

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid:
            raise pickle.UnpicklingError(f"unknown persistent id in checkpoint: {pid!r}")
        if pid[0] == "module":     # ('module', cls, source_file, source): the class itself
            return pid[1]
        if pid[0] != "storage" or len(pid) != 6:
            raise pickle.UnpicklingError(f"unknown persistent id in checkpoint: {pid!r}")
        _, storage_type, key, location, numel, view = pid
        dt = _storage_dtype(storage_type)
        if key not in self.storages:
            if not isinstance(numel, int) or numel < 0:
                raise pickle.UnpicklingError(f"bad storage size in checkpoint: {numel!r}")
            data = np.empty(numel * dt.itemsize, np.uint8)
            self.pending[key] = (data, dt.itemsize)
            self.storages[key] = self.typed(pid, data)
        storage = self.storages[key]
        if view is not None:      # (view_key, offset, size) in elements: a slice of the root
            _, offset, size = view
            b = storage._untyped_storage._bytes[offset * dt.itemsize:(offset + size) * dt.itemsize]
            return TypedStorage._wrap(UntypedStorage._wrap(b), dt)
        if dt is not storage.dtype:
            return TypedStorage._wrap(storage._untyped_storage, dt)
        return storage

    def head(self):
        return self.unpickle(self.f, self._no_persistent)

    @staticmethod
    def _no_persistent(pid):
        raise pickle.UnpicklingError("unexpected persistent id in checkpoint header")

    def load(self):
        try:
            magic = self.head()
        except RuntimeError:
            raise RuntimeError(f"{self.name}: Invalid magic number; corrupt file?") from None
        if magic != _LEGACY_MAGIC:
            raise RuntimeError(f"{self.name}: Invalid magic number; corrupt file?")
        version = self.head()
        if version != _LEGACY_PROTOCOL:
            raise RuntimeError(f"{self.name}: Invalid protocol version: {version}")
        sys_info = self.head()
        little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
        result = self.unpickle(self.f, self.persistent_load)
        keys = self.head()
        for key in keys:
            data, itemsize = self.pending.get(key, (None, 1))
            head = self.f.read(8)
            if len(head) != 8:
                raise RuntimeError(f"{self.name}: the file is truncated (storage {key})")
            numel = struct.unpack("<q", head)[0]
            if data is None or numel * itemsize != data.size:
                raise RuntimeError(f"{self.name}: storage {key} has an unexpected size")
            got = self.f.readinto(memoryview(data)) if data.size else 0
            if got != data.size:
                raise RuntimeError(f"{self.name}: the file is truncated (storage {key})")
            if little != (sys.byteorder == "little"):
                _byteswap(data, self.storages[key].dtype)
        return result


def _describe(f):
    return repr(os.fspath(f)) if _is_path(f) else f"the file object {f!r}"


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Load an object saved with `ember.save` or `torch.save` (zip or legacy format).

    weights_only=True (the default) admits only tensors, storages, primitive types, containers,
    OrderedDict, Size, dtypes, devices and `add_safe_globals` names; map_location is a str,
    device, dict {saved location: new location} or callable(storage, location); mmap=True maps
    the storages from the file (copy-on-write) instead of reading them."""
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    pickle_load_args.setdefault("encoding", "utf-8")
    unpickler_cls = _unpickler_class(weights_only, pickle_module)
    name = _describe(f)
    if mmap and not _is_path(f):
        raise ValueError("f must be a file path in order to use the mmap argument")
    with contextlib.ExitStack() as stack:
        if _is_path(f):
            fobj = stack.enter_context(open(f, "rb", buffering=0))
        else:
            if not (hasattr(f, "read") and hasattr(f, "seek")):
                raise AttributeError(f"expected a path or a readable, seekable file-like object, "
                                     f"got {type(f).__name__}")
            fobj = f
        start = fobj.tell()
        magic = fobj.read(4)
        fobj.seek(start)
        if not magic:
            raise RuntimeError(f"{name}: the file is empty")
        if magic == b"PK\x03\x04":
            mm = None
            if mmap:
                mm = _mmap.mmap(fobj.fileno(), 0, access=_mmap.ACCESS_COPY)
            reader = _ZipLoader(fobj, name, map_location, unpickler_cls, pickle_load_args, mm)
            return reader.load()
        if mmap:
            raise RuntimeError("mmap can only be used with files saved with "
                               "`ember.save(_use_new_zipfile_serialization=True)`, please "
                               "ember.save your checkpoint with this option in order to use "
                               "mmap.")
        if _is_tar(fobj, start):
            raise NotImplementedError(f"{name} is in PyTorch's tar format (before 0.4); ember "
                                      "does not read it. Re-save it with a newer torch.")
        return _LegacyLoader(fobj, name, map_location, unpickler_cls, pickle_load_args).load()


def _is_tar(f, start):
    try:
        f.seek(start + 257)
        return f.read(5) == b"ustar"
    finally:
        f.seek(start)


def get_unsafe_globals_in_checkpoint(f):
    """The globals in a zip checkpoint's pickle that weights_only=True would refuse."""
    import pickletools
    with zipfile.ZipFile(f) as zf:
        name = next(n for n in zf.namelist() if n.endswith("data.pkl"))
        pkl = zf.read(name)
    found, strings = set(), []
    for op, arg, _ in pickletools.genops(pkl):
        if op.name in ("BINUNICODE", "SHORT_BINUNICODE", "UNICODE"):
            strings.append(arg)
        elif op.name == "GLOBAL":
            found.add(arg.replace(" ", "."))
        elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
            found.add(f"{strings[-2]}.{strings[-1]}")
    return sorted(g for g in found if g not in _allowed() and g not in _user_globals)
