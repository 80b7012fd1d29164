"""Padding modules: Constant/Zero/Reflection/Replication/Circular Pad 1d/2d/3d."""
from ember._ops.sampling import pad as _pad
from ember.nn.modules.module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]


def _ntuple(v, n):
    if isinstance(v, (list, tuple)):
        return tuple(v)
    return (v,) * n


class _PadNd(Module):
    __constants__ = ["padding"]
    _D = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(padding, 2 * self._D)

    def forward(self, input):
        return _pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    __constants__ = ["padding", "value"]

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return _pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    _D = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with `value`; padding (left, right, top, bottom) or an int."""
    _D = 2


class ConstantPad3d(_ConstantPadNd):
    _D = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    _D = 1


class ZeroPad2d(_ZeroPadNd):
    _D = 2


class ZeroPad3d(_ZeroPadNd):
    _D = 3


class ReflectionPad1d(_PadNd):
    _D, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    _D, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    _D, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    _D, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    _D, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    _D, _mode = 3, "replicate"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        if input.dim() not in (self._D + 1, self._D + 2):
            raise ValueError(f"expected {self._D + 1}D or {self._D + 2}D input (got "
                             f"{input.dim()}D input)")
        return _pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    _D = 1


class CircularPad2d(_CircularPadNd):
    _D = 2


class CircularPad3d(_CircularPadNd):
    _D = 3
