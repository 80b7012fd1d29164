"""`nn.Parameter`: a leaf tensor that a Module registers as a parameter."""
import weakref

import numpy as np

from ember._tensor import Tensor, _init_from

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy"]


class Parameter(Tensor):
    """A Tensor subclass whose instances Modules register as parameters (requires_grad=True by
    default). Shares memory with the data it wraps, as torch's does."""

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = Tensor._make(np.empty((0,), np.float32))
        self = object.__new__(cls)
        alias = data._view_of(data._data) if data._base is None else data.detach()
        alias._base = None
        _init_from(self, alias)
        self._vc = data._vc
        self.requires_grad_(requires_grad)
        return self

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        from ember.serialization import _reduce_parameter
        return _reduce_parameter(self)


# ---------------------------------------------------------------------------------------------
# Uninitialized tensors (lazy modules): no shape until `materialize(shape)`

_UNINIT_MSG = ("Attempted to use an uninitialized parameter in {}. This error happens when you "
               "are using a `LazyModule` or explicitly manipulating "
               "`torch.nn.parameter.{}` objects. When using LazyModules Call `forward` with a "
               "dummy batch to initialize the parameters before calling torch functions")

# what torch lets through on an uninitialized tensor: metadata, conversions, copy_, size()
_UNINIT_ALLOWED = frozenset({
    "materialize", "size", "copy_", "is_complex", "is_floating_point", "half", "float",
    "double", "char", "short", "int", "long", "cuda", "cpu", "to", "get_device", "dtype",
    "device", "requires_grad", "grad", "grad_fn", "is_leaf", "data", "ndim", "is_cuda",
    "layout", "names", "cls_to_become", "persistent", "share_memory_", "shape", "is_sparse",
    "is_quantized", "is_meta", "retains_grad", "output_nr"})
_tensor_callables = None


def _blocked(name):
    """True for the public Tensor methods torch refuses on an uninitialized tensor."""
    global _tensor_callables
    if _tensor_callables is None:
        _tensor_callables = frozenset(n for n in dir(Tensor) if not n.startswith("_")
                                      and callable(getattr(Tensor, n, None)))
    return name in _tensor_callables and name not in _UNINIT_ALLOWED


class _UninitializedTensorMixin:
    """Shared by UninitializedParameter and UninitializedBuffer: the shape is unknown, so
    `.shape` and every op except conversions and `copy_` raise as torch's do; `materialize`
    gives the tensor its (uninitialised) data and turns it into `cls_to_become` in place."""

    __slots__ = ()

    def __getattribute__(self, name):
        # only uninitialized instances pay for this; materialize() changes the class
        if name[0] != "_" and _blocked(name):
            raise ValueError(_UNINIT_MSG.format(f"<method '{name}' of 'torch._C.TensorBase' "
                                                f"objects>", type(self).__name__))
        return object.__getattribute__(self, name)

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor `shape` (uninitialised values), on its own device and dtype unless
        `device`/`dtype` say otherwise."""
        from ember._ops.creation import empty
        data = empty(tuple(shape), dtype=dtype if dtype is not None else self.dtype,
                     device=device if device is not None else self.device)
        self._data = data._data
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. "
                           "This error usually happens in `load_state_dict` when trying to load "
                           "an uninitialized parameter into an initialized one. Call `forward` "
                           "to initialize the parameters before accessing their attributes.")

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call "
                           "`forward` to initialize the parameters before calling "
                           "`module.share_memory()`.")

    def __repr__(self):
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (type(self), (self.requires_grad,))

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, None, self.dtype)
        return memo[id(self)]


def _refuse(op_name, torch_name):
    def op(self, *args, **kwargs):
        raise ValueError(_UNINIT_MSG.format(f"<method '{torch_name}' of 'torch._C.TensorBase' "
                                            "objects>", type(self).__name__))
    op.__name__ = op_name
    return op


# operators are looked up on the type, past __getattribute__ (torch names the method: 1 + p
# reports 'add')
_OPS = ("add", "radd", "iadd", "sub", "rsub", "isub", "mul", "rmul", "imul", "truediv",
        "rtruediv", "itruediv", "floordiv", "rfloordiv", "mod", "rmod", "pow", "rpow", "matmul",
        "rmatmul", "neg", "pos", "abs", "invert", "and", "or", "xor", "lt", "le", "gt", "ge",
        "getitem", "setitem", "len", "iter", "array", "float", "int", "index")
for _name in _OPS:
    _base = _name[1:] if _name[0] in "ri" and _name[1:] in _OPS else _name
    setattr(_UninitializedTensorMixin, f"__{_name}__", _refuse(f"__{_name}__", _base))
del _name, _base


class UninitializedParameter(_UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet (lazy modules). `materialize(shape)` turns it
    into a Parameter of that shape in place; until then only dtype/device conversions work.
    `device`/`dtype` set what it materializes as."""

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from ember._ops.creation import empty
        self = Parameter(empty(0, dtype=dtype, device=device), requires_grad)
        self.__class__ = cls
        return self

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


_non_persistent = {}   # id -> False for UninitializedBuffers made with persistent=False


def _forget(key):
    _non_persistent.pop(key, None)


class UninitializedBuffer(_UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (lazy norm layers' running statistics):
    `materialize(shape)` turns it into a plain Tensor in place. Assigning one to a module
    attribute registers a buffer (persistent unless made with persistent=False)."""

    __slots__ = ()   # no new slots: materialize() must be able to change the class to Tensor
    cls_to_become = Tensor
    _is_buffer = True

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        from ember._ops.creation import empty
        self = object.__new__(cls)
        _init_from(self, empty(0, dtype=dtype, device=device))
        self._requires_grad = bool(requires_grad)
        if not persistent:
            _non_persistent[id(self)] = False
            weakref.finalize(self, _forget, id(self))
        return self

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass

    @property
    def persistent(self):
        return _non_persistent.get(id(self), True)

    def to(self, *args, **kwargs):
        """A dtype conversion stays uninitialized (module.double() before the first forward)."""
        out = Tensor.to(self, *args, **kwargs)
        if out is self:
            return self
        return UninitializedBuffer(self.requires_grad, None, out.dtype, self.persistent)

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = UninitializedBuffer(self.requires_grad, None, self.dtype,
                                                 self.persistent)
        return memo[id(self)]


def is_lazy(param):
    """True for an UninitializedParameter or UninitializedBuffer."""
    return isinstance(param, _UninitializedTensorMixin)


class Buffer(Tensor):
    """`nn.Buffer(tensor, persistent=True)`: marks a tensor to be registered as a buffer."""

    __slots__ = ("persistent",)

    def __new__(cls, data=None, *, persistent=True):
        self = object.__new__(cls)
        _init_from(self, data if data is not None else Tensor._make(np.empty((0,), np.float32)))
        self.persistent = persistent
        return self

    def __init__(self, data=None, *, persistent=True):
        pass
