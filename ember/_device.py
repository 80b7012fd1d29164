"""`ember.device`: a device type and optional index, parsed and compared like torch's."""

__all__ = ["device"]

_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
          "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device:
    """`device('cpu')`, `device('cuda:1')`, `device('cuda', 1)`; `cuda` and `cuda:0` differ."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        elif isinstance(type, str):
            type, index = _parse(type, index)
        else:
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({type.__class__.__name__})")
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'ember.device' objects is not writable")

    def __eq__(self, other):
        return (isinstance(other, device) and self.type == other.type
                and self.index == other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (device, (self.type,) if self.index is None else (self.type, self.index))


def _parse(s, index):
    if not s:
        raise RuntimeError("Device string must not be empty")
    name, sep, idx = s.partition(":")
    if name not in _TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device "
                           f"string: {s}")
    if sep:
        if not idx.isdigit() or index is not None:
            raise RuntimeError(f"Invalid device string: '{s}'")
        index = int(idx)
    if index is not None and (not isinstance(index, int) or index < 0):
        raise RuntimeError(f"Device index must not be negative")
    return name, index


CPU = device("cpu")


def as_device(d):
    """A device from a device, string, int or None (None means the CPU)."""
    if d is None or d is CPU:
        return CPU
    if isinstance(d, device):
        return d
    return device(d)
