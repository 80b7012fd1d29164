"""`nn.Parameter`: a leaf tensor that a Module registers as a parameter."""
import numpy as np

from ember._tensor import Tensor, _init_from

__all__ = ["Parameter", "Buffer", "UninitializedParameter"]


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


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (lazy modules): `materialize(shape)` turns it
    into a Parameter of that shape, uninitialised, in place."""

    __slots__ = ()
    cls_to_become = Parameter

    def __repr__(self):
        return "<UninitializedParameter>"

    def materialize(self, shape, device=None, dtype=None):
        from ember._ops.creation import empty
        data = empty(shape, dtype=dtype or self.dtype)
        self._data = data._data
        self._vc = data._vc
        self.__class__ = self.cls_to_become


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
