"""Creation ops: tensor, as_tensor, from_numpy, zeros/ones/empty/full (+ _like), arange,
linspace, logspace, eye, tril_indices/triu_indices, the legacy constructors (FloatTensor ...) and Tensor.new_*.

dtype inference follows torch: Python floats give the default dtype, ints int64, bools bool,
complex the default complex dtype; NumPy arrays and scalars keep their dtype.
"""
import math

import numpy as np

from ember import _dtype
from ember._device import as_device
from ember._tensor import Size, Tensor, _check_scalar, _device_unavailable, _int_tuple
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "from_dlpack", "to_dlpack",
           "zeros", "ones", "empty", "full",
           "zeros_like", "ones_like", "empty_like", "full_like", "arange", "range", "linspace",
           "logspace", "eye", "tril_indices", "triu_indices", "empty_strided", "scalar_tensor",
           "frombuffer", "bartlett_window",
           "blackman_window", "hamming_window", "hann_window", "kaiser_window",
           "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "ByteTensor",
           "CharTensor", "ShortTensor", "IntTensor", "LongTensor", "BoolTensor"]

_builtin_range = range


def _check_device(device):
    if device is not None and as_device(device).type != "cpu":
        _device_unavailable(device, creating=True)


def _finish(array, requires_grad):
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_dtype(array):
    """Map NumPy's inference over Python data to torch's."""
    k = array.dtype.kind
    if k == "f":
        return _dtype.get_default_dtype()
    if k == "c":
        return _dtype.default_complex_dtype()
    if k == "b":
        return _dtype.bool
    if k in "iu":
        return _dtype.int64
    raise TypeError(f"new(): invalid data type '{array.dtype.name}'")


def _ragged_error(data, dim=0):
    """torch's message for nested sequences of unequal lengths."""
    if isinstance(data, (list, tuple)) and data:
        first = data[0]
        first_len = len(first) if isinstance(first, (list, tuple)) else None
        for item in data:
            is_seq = isinstance(item, (list, tuple))
            if first_len is not None and not is_seq:
                raise TypeError("not a sequence")
            if first_len is None and is_seq:   # a number first: the rest must be numbers
                if isinstance(first, (bool, int, np.integer)):
                    raise TypeError(f"'{type(item).__name__}' object cannot be interpreted as "
                                    f"an integer")
                raise TypeError(f"must be real number, not {type(item).__name__}")
            if first_len is not None and len(item) != first_len:
                raise ValueError(f"expected sequence of length {first_len} at dim {dim + 1} "
                                 f"(got {len(item)})")
        for item in data:
            _ragged_error(item, dim + 1)


def _from_data(data, dtype):
    """A NumPy array holding `data` with torch's dtype (copying)."""
    if isinstance(data, Tensor):
        a = data._data
        return np.array(a, copy=True) if dtype is None else _dtype.cast(a, dtype.np)
    if isinstance(data, (np.ndarray, np.generic)):
        a = np.array(data, copy=True)
        if dtype is None:
            _dtype.from_numpy_dtype(a.dtype)   # rejects types torch has no name for
        return a if dtype is None else _dtype.cast(a, dtype.np, copy=False)   # (a: a copy)
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    try:
        a = np.array(data)
    except ValueError:
        _ragged_error(data)
        raise
    except OverflowError:
        raise RuntimeError("Overflow when unpacking long long") from None
    if a.dtype == object:
        if isinstance(data, (list, tuple)):
            _ragged_error(data)
        leaves = [data] if not isinstance(data, (list, tuple)) else list(np.ravel(a))
        for x in leaves:
            if not isinstance(x, (int, float, complex, bool, np.generic, Tensor)):
                raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")
        if isinstance(data, int) or any(isinstance(x, int) for x in np.ravel(a)):
            raise ValueError("Overflow when unpacking long long")
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if a.dtype.kind == "u" and a.dtype.itemsize == 8:
        raise ValueError("Overflow when unpacking long long")
    if a.dtype.kind in "US":
        if isinstance(_first_leaf(data), str):   # torch reads a string as one more dim
            raise ValueError("too many dimensions 'str'")
        raise TypeError("new(): invalid data type 'str'")
    if a.dtype.kind not in "biufc":
        raise TypeError(f"new(): invalid data type '{a.dtype.name}'")
    if dtype is not None and a.dtype.kind != "b" and a.size and dtype.np.kind in "iuf" and (
            dtype.np.kind != "f" or a.dtype.kind == "c") and not np.can_cast(a.dtype, dtype.np):
        _check_fits(a, dtype)
    if _contains_tensor(data):
        dt = dtype or _dtype.from_numpy_dtype(a.dtype)
    elif dtype is None and isinstance(data, (list, tuple)) and (
            isinstance(_first_leaf(data), np.generic) or a.dtype not in _PYTHON_KINDS):
        dt = _element_dtype(data)   # NumPy scalars inside: each keeps its own dtype
    else:
        dt = dtype or _infer_dtype(a)
    return _dtype.cast(a, dt.np, copy=False)


# what np.array makes of Python numbers alone (anything else means NumPy scalars are inside)
_PYTHON_KINDS = frozenset(np.dtype(c) for c in ("int64", "float64", "complex128", "bool"))


def _check_fits(a, dtype):
    """torch.tensor(data, dtype=...) of Python numbers: each must fit the integer dtype (for
    unsigned ones down to -max), and no complex number may become a real one."""
    if a.dtype.kind == "c":
        raise TypeError("must be real number, not complex")
    if dtype.np.kind not in "iu":
        return
    info = np.iinfo(dtype.np)
    lo = -info.max if dtype.np.kind == "u" else info.min
    bad = ~((a >= lo) & (a <= info.max))   # (NaN fails too)
    if bad.any():
        raise RuntimeError(f"value cannot be converted to type {dtype.np.name} without "
                           f"overflow")


def _first_leaf(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data


def _element_dtype(data):
    """torch's inference for a sequence holding NumPy scalars: the promotion of every
    element's type, a NumPy scalar counting as its dtype and a Python number as torch's
    default for it ([np.int16(3)] is int16, [np.float32(1), 2] float32, [1, np.int16(3)]
    int64)."""
    dt = None
    for kind in {type(x) for x in np.array(data, dtype=object).ravel()}:
        if issubclass(kind, np.generic):
            d = _dtype.from_numpy_dtype(np.dtype(kind))
        else:
            d = _infer_dtype(np.array(kind()))
        dt = d if dt is None else _dtype.promote_types(dt, d)
    return dt


def _contains_tensor(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return isinstance(data, Tensor)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor copying `data` (nested sequences, NumPy arrays, scalars or tensors)."""
    _check_device(device)
    if isinstance(data, Tensor):
        import warnings
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    return _finish(_from_data(data, dtype), requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    if isinstance(s, Tensor) or not isinstance(s, (int, float, complex, np.number, np.bool_)):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not "
                        f"{type(s).__name__}")
    dt = dtype or _dtype.get_default_dtype()
    return _finish(np.array(_dtype.scalar_as(s, dt.np), dtype=dt.np), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but shares memory with NumPy arrays and tensors when dtype allows."""
    _check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype is dtype else data.to(dtype)
    if isinstance(data, np.ndarray):
        t = from_numpy(data)
        return t if dtype is None or t.dtype is dtype else t.to(dtype)
    return Tensor._make(_from_data(data, dtype))


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    _check_device(device)
    if copy:
        t = Tensor._make(_from_data(obj, dtype))
    elif isinstance(obj, (Tensor, np.ndarray)):
        t = as_tensor(obj, dtype=dtype)
        if copy is False and (t is not obj and not isinstance(obj, np.ndarray)):
            raise ValueError("can't satisfy copy=False")
    elif hasattr(obj, "__array__") or hasattr(obj, "__array_interface__"):
        t = as_tensor(np.asarray(obj), dtype=dtype)
    else:
        t = Tensor._make(_from_data(obj, dtype))
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(ndarray):
    """A tensor sharing memory with `ndarray` (writes are seen by both)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if any(s < 0 for s in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors "
                         "with negative strides are not currently supported. (You can probably "
                         "work around this by making a copy of your array  with array.copy().) ")
    _dtype.from_numpy_dtype(ndarray.dtype)
    if not ndarray.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte "
                         "order. Conversion between byte orders is currently not supported.")
    if not ndarray.flags.writeable:
        import warnings
        warnings.warn("The given NumPy array is not writable, and PyTorch does not support "
                      "non-writable tensors. This means writing to this tensor will result in "
                      "undefined behavior. You may want to copy the array to protect its data or "
                      "make it writable before converting it to a tensor. This type of warning "
                      "will be suppressed for the rest of this program.", UserWarning,
                      stacklevel=2)
    from ember._storage import _mark_not_resizable
    _mark_not_resizable(ndarray)   # torch's storage over NumPy memory cannot be resized
    return Tensor._make(ndarray)


class _Capsule:
    """A bare DLPack capsule (torch.utils.dlpack.to_dlpack's) as the producer NumPy reads."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)   # (kDLCPU, 0): a capsule of another device fails when it is read


def from_dlpack(ext_tensor):
    """A tensor sharing memory with another library's CPU array or tensor through DLPack: an
    object with __dlpack__ (torch, NumPy, JAX...) or a DLPack capsule (used up once read)."""
    producer = ext_tensor if hasattr(ext_tensor, "__dlpack__") else _Capsule(ext_tensor)
    try:
        array = np.from_dlpack(producer)
    except (TypeError, ValueError):
        if producer is ext_tensor:
            raise
        raise RuntimeError("from_dlpack received an invalid capsule. Note that DLTensor "
                           "capsules can be consumed only once, so you might have already "
                           "constructed a tensor from it once.") from None
    from ember._storage import _mark_not_resizable
    _mark_not_resizable(array)   # (the memory belongs to the producer)
    return Tensor._make(array)


def to_dlpack(tensor):
    """A DLPack capsule of the tensor's memory, for another library's from_dlpack."""
    return tensor._data.__dlpack__()


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the bytes of a buffer-protocol object (sharing its memory): `count`
    elements of dtype (-1: all the rest) after skipping `offset` bytes. A read-only buffer
    warns, as in torch; ember keeps such a tensor read-only (torch would write through)."""
    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    if not view.c_contiguous:
        raise RuntimeError("could not retrieve buffer from object")
    n, item = view.nbytes, dtype.itemsize
    if n == 0 or count == 0:
        raise ValueError(f"both buffer length ({n}) and count ({count}) must not be 0")
    if not 0 <= offset < n:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({n} bytes) minus 1")
    if count < 0:
        if (n - offset) % item:
            raise ValueError(f"buffer length ({n - offset} bytes) after offset ({offset} bytes) "
                             f"must be a multiple of element size ({item})")
        count = (n - offset) // item
    elif offset + count * item > n:
        raise ValueError(f"requested buffer length ({count} * {item} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({n} bytes)")
    if view.readonly:
        import warnings
        warnings.warn("The given buffer is not writable, and PyTorch does not support "
                      "non-writable tensors. This means you can write to the underlying "
                      "(supposedly non-writable) buffer using the tensor. You may want to copy "
                      "the buffer to protect its data or make it writable before converting it "
                      "to a tensor. This type of warning will be suppressed for the rest of "
                      "this program.", UserWarning, stacklevel=2)
    a = np.frombuffer(view.cast("B"), dtype=dtype.np, count=count, offset=offset)
    from ember._storage import _mark_not_resizable
    _mark_not_resizable(a)
    return _finish(a, requires_grad)


# ---------------------------------------------------------------------------------------------
# Filled tensors

def _size(size, fn, name="size"):
    """A shape from varargs or one sequence, with torch's errors (TypeError for a non-int)."""
    size = _int_tuple(size, fn, name)
    if size and min(size) < 0:
        if fn == "zeros":
            raise RuntimeError("zeros: Dimension size must be non-negative.")
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: "
                           f"{list(size)}")
    return size


def _dt(dtype):
    if dtype is not None and not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"argument 'dtype' must be torch.dtype, not {type(dtype).__name__}")
    return (dtype or _dtype.get_default_dtype()).np


def _check_out(dtype, out):
    """dtype= and out= together must agree (torch's factory check)."""
    if out is not None and dtype is not None and dtype is not out.dtype:
        raise RuntimeError(f"dtype {dtype._legacy} does not match dtype of out parameter "
                           f"({out.dtype._legacy})")


def _out_or_finish(a, out, requires_grad, flat=None):
    """A factory's result: into out= (whose dtype it was computed in; torch's factories
    resize out= silently), else a new tensor. flat: a 1-D range (arange, range, linspace,
    logspace) fills an out= with as many elements in its own shape; "arange" also warns when
    it resizes one of another size."""
    if out is None:
        return _finish(a, requires_grad)
    if flat is not None and out._data.size == a.size:
        a = a.reshape(out._data.shape)
    elif flat == "arange" and out._data.size:
        import warnings
        warnings.warn(f"The number of elements in the out tensor of shape "
                      f"{list(out._data.shape)} is {out._data.size} which does not match the "
                      f"computed number of elements {a.size}. Note that this may occur as a "
                      f"result of rounding error. The out tensor will be resized to a tensor of "
                      f"shape ({a.size},).", UserWarning, stacklevel=3)
    from ember._ops._helpers import write_out
    return write_out(out, Tensor._make(a), warn=False)


_NUMBER_TYPES = (bool, int, float, complex, np.number, np.bool_, Tensor)


def _number(value, fn, name, pos):
    """A fill value must be a number (a 1-element tensor counts as one)."""
    if type(value) is float or type(value) is int or isinstance(value, _NUMBER_TYPES):
        return
    raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Number, not "
                    f"{type(value).__name__}")


def _filled(fill, fn, size, out, dtype, device, requires_grad):
    _check_device(device)
    shape = _size(size, fn)
    if isinstance(fill, Tensor):
        fill = fill.item()
    if fn.endswith("full"):   # (zeros, ones and empty need no value check)
        _check_scalar(fill, _dt(dtype if out is None else out.dtype))
    if out is not None:
        _check_out(dtype, out)
        if fill is None and out._requires_grad and _grad_state.enabled:
            raise RuntimeError("cannot resize variables that require grad")   # (empty's resize_)
        npd = out._data.dtype
        src = np.empty(shape, npd) if fill is None else np.full(shape,
                                                                 _dtype.scalar_as(fill, npd), npd)
        return _out_or_finish(src, out, requires_grad)
    npd = _dt(dtype)
    a = np.empty(shape, npd) if fill is None else (np.zeros(shape, npd) if fill == 0 else
                                                    np.full(shape, _dtype.scalar_as(fill, npd),
                                                            npd))
    return _finish(a, requires_grad)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    return _filled(0, "zeros", size, out, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, memory_format=None):
    return _filled(1, "ones", size, out, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    return _filled(None, "empty", size, out, dtype, device, requires_grad)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    npd = _dt(dtype)
    size = _int_tuple((size,), "empty_strided", "size")
    stride = _int_tuple((stride,), "empty_strided", "stride")
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of "
                           f"strides ({len(stride)})")
    if size and min(size) < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: "
                           f"{list(size)}")
    if stride and min(stride) < 0:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    n = 1 + sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    buf = np.empty(max(n, 1), npd)
    a = np.lib.stride_tricks.as_strided(buf, tuple(size), tuple(s * npd.itemsize for s in stride))
    return _finish(a, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """A tensor of `fill_value`; the dtype is inferred from it (int64, bool, float, complex)."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    _number(fill_value, "full", "fill_value", 2)
    if dtype is None and out is None:
        if isinstance(fill_value, Tensor):
            fill_value = fill_value.item()
        dtype = _dtype.scalar_dtype(fill_value)
    return _filled(fill_value, "full", (size,), out, dtype, device, requires_grad)


def _like(input, fill, dtype, requires_grad, memory_format=None, fn="empty_like"):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    npd = _dt(dtype) if dtype is not None else input._data.dtype
    if fill is not None and fill != 0:
        _number(fill, fn, "fill_value", 2)
        _check_scalar(fill.item() if isinstance(fill, Tensor) else fill, npd)
    a = input._data
    order = "C" if memory_format is not None and memory_format is _contig() else "K"
    if fill is None:
        r = np.empty_like(a, dtype=npd, order=order)
    elif fill == 0:
        r = np.zeros_like(a, dtype=npd, order=order)
    else:
        r = np.full_like(a, _dtype.scalar_as(fill, npd), dtype=npd, order=order)
    if not r.flags.writeable or r.strides != a.strides and order == "K" and 0 in a.strides:
        r = np.array(r, copy=True)   # broadcast inputs give plain dense results
    return _finish(r, requires_grad)


def _contig():
    from ember import contiguous_format
    return contiguous_format


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    _check_device(device)
    return _like(input, 0, dtype, requires_grad, memory_format, "zeros_like")


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    _check_device(device)
    return _like(input, 1, dtype, requires_grad, memory_format, "ones_like")


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    _check_device(device)
    return _like(input, None, dtype, requires_grad, memory_format, "empty_like")


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    _check_device(device)
    return _like(input, fill_value, dtype, requires_grad, memory_format, "full_like")


# ---------------------------------------------------------------------------------------------
# Ranges

def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False):
    """Values start, start+step, ... < end. Integer arguments give int64, else the default
    float dtype. Values are computed as start + i*step in double precision, then cast (for an
    integer dtype, start, end and step are truncated to integers first, as torch does)."""
    _check_device(device)
    if end is None:
        start, end = 0, start
        _number(end, "arange", "end", 1)
    start, end, step = _num(start), _num(end), _num(step)
    dtype = dtype or (out.dtype if out is not None else None)
    _check_range("arange", start, end, step, dtype, out)
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) or
                     isinstance(v, bool) for v in (start, end, step))
        dtype = _dtype.int64 if is_int else _dtype.get_default_dtype()
    if dtype.np.kind in "iu":   # torch truncates the arguments to the integer type first
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise ValueError("step must be nonzero")
    n = max(0, math.ceil((end - start) / step))
    if n >= 1 << 60:
        raise RuntimeError("invalid size, possible overflow?")
    if dtype.np.kind in "iu":
        a = np.arange(start, start + n * step, step, dtype=np.int64)[:n].astype(dtype.np)
    else:
        a = _arange_values(start, step, n, dtype.np)
    return _out_or_finish(a, out, requires_grad, "arange")


# The values of arange and linspace, as torch's CPU kernels compute them (measured against
# torch: the same formula in another precision or order differs in most float results). Its
# compiled kernels fuse each multiply-add (an FMA: one rounding), emulated by `_fma`.

def _fma(a, b, c):
    """a * b + c on float64 values with one rounding (as a fused multiply-add): the product
    split exactly into p + e (Dekker's two-product), then p + c and its rounding error
    (Knuth's two-sum) summed with e. Correctly rounded but for rare double-rounding ties;
    where that is not finite, the plain a * b + c."""
    a, b, c = np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(c, np.float64)
    p = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    e = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    s = p + c
    bb = s - p
    with np.errstate(invalid="ignore", over="ignore"):
        r = s + (((p - (s - bb)) + (c - bb)) + e)
    return np.where(np.isfinite(r), r, s)   # (infinities, NaN, or a split overflowing)


def _split(x):
    """x = hi + lo with hi holding the upper 26 bits of the significand (Veltkamp)."""
    t = 134217729.0 * x   # 2 ** 27 + 1
    hi = t - (t - x)
    return hi, x - hi


def _arange_values(start, step, n, npd):
    """arange's values for a floating dtype: start + i * step fused in double (from float32
    start and step for the half types: their accumulate type), rounded to the dtype. torch
    fills vectors of 32 bytes: each starts from a base value rounded to the dtype (at its
    first index), to which lane * step is added; the loop takes two vectors a step, and the
    last n % (2 * width) values come from their own index."""
    s, st = float(start), float(step)
    if npd.itemsize == 2:
        s, st = float(np.float32(s)), float(np.float32(st))
    idx = np.arange(n, dtype=np.float64)
    width = 32 // npd.itemsize
    lane = idx % width
    base = _round(_fma(st, idx - lane, s), npd).astype(np.float64)
    values = np.where(idx < n - n % (2 * width), _fma(lane, st, base), _fma(st, idx, s))
    return _round(values, npd)


def _round(values, npd):
    """float64 values rounded to npd (through float32 for the half types, whose kernels
    compute in float32)."""
    return (values.astype(np.float32) if npd.itemsize == 2 else values).astype(npd)


def _check_range(fn, start, end, step, dtype, out):
    """torch's checks of arange/range arguments: numbers, a non-zero step pointing from start
    to end, finite bounds, a real non-bool dtype agreeing with out's."""
    if type(start) is not int or type(end) is not int or type(step) is not int:
        for name, v in (("start", start), ("end", end), ("step", step)):
            if not isinstance(v, (bool, int, float, np.number, np.bool_)):
                raise TypeError(f"{fn}(): argument '{name}' must be Number, not "
                                f"{type(v).__name__}")
    if dtype is not None:
        _dt(dtype)
        if dtype.is_complex or dtype is _dtype.bool:
            raise NotImplementedError(f"\"{fn}_cpu\" not implemented for '{dtype._legacy}'")
        _check_out(dtype, out)
    if step == 0 or step != step:
        raise RuntimeError("step must be nonzero")
    if type(start) is not int and not math.isfinite(start) or (
            type(end) is not int and not math.isfinite(end)):
        fmt = (lambda v: f"{v:g}" if isinstance(v, float) else str(v))
        raise RuntimeError(f"unsupported range: {fmt(start)} -> {fmt(end)}")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
          requires_grad=False):
    """Deprecated inclusive range (end included); default float dtype."""
    import warnings
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    start, end, step = _num(start), _num(end), _num(step)
    dtype = dtype or (out.dtype if out is not None else _dtype.get_default_dtype())
    _check_range("range", start, end, step, dtype, out)
    n = int(math.floor((end - start) / step)) + 1
    a = (start + np.arange(n, dtype=np.float64) * step).astype(dtype.np)
    return _out_or_finish(a, out, requires_grad, "range")


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """`steps` evenly spaced values from start to end inclusive (torch fills from both ends)."""
    _check_device(device)
    dtype = dtype or (out.dtype if out is not None else None)
    start, end, steps = _space_args("linspace", start, end, steps, dtype, out)
    dtype = dtype or (_dtype.default_complex_dtype() if isinstance(start, complex) or
                      isinstance(end, complex) else _dtype.get_default_dtype())
    return _out_or_finish(_linspace_values(start, end, steps, dtype.np), out, requires_grad,
                          "linspace")


def _space_args(fn, start, end, steps, dtype, out):
    """linspace/logspace: (start, end, steps) as Python numbers, with torch's checks."""
    for name, v in (("start", start), ("end", end)):
        if isinstance(v, Tensor) and v._data.ndim:
            raise RuntimeError(f"{fn} only supports 0-dimensional start and end tensors, but "
                               f"got {name} with {v._data.ndim} dimension(s).")
        if not isinstance(v, (bool, int, float, complex, np.number, np.bool_, Tensor)):
            raise TypeError(f"{fn}(): argument '{name}' must be Number, not {type(v).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) and not (
            isinstance(steps, Tensor) and steps._data.ndim == 0 and
            steps._data.dtype.kind in "iu"):
        raise TypeError(f"{fn}(): argument 'steps' must be int, not {type(steps).__name__}")
    steps = int(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    _dt(dtype)
    if dtype is _dtype.bool:
        raise NotImplementedError(f"\"{fn}_cpu\" not implemented for 'Bool'")
    _check_out(dtype, out)
    return _num(start), _num(end), steps


def _linspace_values(start, end, steps, npd):
    """linspace's values as torch's kernel computes them: start and end cast to the dtype,
    step = (end - start) / (steps - 1) in the dtype, start + step * i below steps // 2 and
    end - step * (steps - 1 - i) from there. Half types round every operation (their C++
    arithmetic); float32, float64 and integer dtypes fuse the multiply-add (integers in double
    from the truncated start and end, truncated at the end). Complex values come from
    complex128 arithmetic on the given numbers (torch's complex kernel is not reproduced)."""
    if steps == 1:
        return np.array([start]).astype(npd)
    i = np.arange(steps)
    first_half = i < steps // 2
    if npd.kind == "c":
        step = (end - start) / (steps - 1)
        values = np.where(first_half, start + step * i, end - step * (steps - 1 - i))
        return values.astype(npd)
    if npd.kind in "iu":
        lo, hi = float(npd.type(start)), float(npd.type(end))
        step = (hi - lo) / (steps - 1)
    else:
        t = npd.type
        lo, hi = t(start), t(end)
        with np.errstate(over="ignore", invalid="ignore"):
            step = (hi - lo) / t(steps - 1)
        if npd.itemsize == 2:
            with np.errstate(invalid="ignore", over="ignore"):
                return np.where(first_half, lo + step * i.astype(t),
                                hi - step * (steps - 1 - i).astype(t))
    lo, hi, step = float(lo), float(hi), float(step)
    with np.errstate(invalid="ignore", over="ignore"):
        values = np.where(first_half, _fma(step, i, lo), _fma(-step, steps - 1 - i, hi))
    return (np.trunc(values) if npd.kind in "iu" else values).astype(npd)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    _check_device(device)
    dtype = dtype or (out.dtype if out is not None else _dtype.get_default_dtype())
    start, end, steps = _space_args("logspace", start, end, steps, dtype, out)
    return _out_or_finish(_logspace_values(start, end, steps, base, dtype.np), out,
                          requires_grad, "logspace")


def _logspace_values(start, end, steps, base, npd):
    """base ** linspace's exponents as torch's kernel computes them: start and end cast to
    the dtype (their difference taken there), the exponents and the power in double, then
    cast (integers truncated, half types through float32). Complex exponents as complex128."""
    if npd.kind == "c":
        return np.power(base, _linspace_values(start, end, steps, np.dtype(np.complex128))
                        ).astype(npd)
    t = npd.type
    lo, hi = t(start), t(end)
    step = float(hi - lo) / (steps - 1) if steps > 1 else 0.0
    i = np.arange(steps)
    lo, hi = float(lo), float(hi)
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.power(float(base), np.where(i < steps // 2, lo + step * i,
                                                hi - step * (steps - 1 - i)))
    return np.trunc(values).astype(npd) if npd.kind in "iu" else _round(values, npd)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
        pin_memory=False):
    _check_device(device)
    for name, v, pos in (("n", n, 1), ("m", m, 2)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))):
            raise TypeError(f"eye(): argument '{name}' (position {pos}) must be int, not "
                            f"{type(v).__name__}")
    _check_out(dtype, out)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    a = np.eye(n, n if m is None else m, dtype=_dt(dtype or (out.dtype if out is not None
                                                              else None)))
    return _out_or_finish(a, out, requires_grad)


def _tri_indices(fn, row, col, offset, dtype, device, requires_grad, upper):
    _check_device(device)
    for name, v, pos in (("row", row, 1), ("col", col, 2), ("offset", offset, 3)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be int, not "
                            f"{type(v).__name__}")
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    dtype = _dtype.int64 if dtype is None else dtype
    if dtype not in (_dtype.int64, _dtype.int32):
        raise NotImplementedError(f"\"{fn}\" not implemented for '{dtype._legacy}'")
    if requires_grad:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    rows, cols = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
    return Tensor._make(np.stack([rows, cols]).astype(dtype.np))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None,
                 requires_grad=False, pin_memory=False):
    """The (row, col) coordinates of the lower triangle of a row x col matrix (elements with
    col - row <= offset), as a 2 x N tensor in row-major order; int64 or int32 only."""
    return _tri_indices("tril_indices", row, col, offset, dtype, device, requires_grad, False)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None,
                 requires_grad=False, pin_memory=False):
    """The (row, col) coordinates of the upper triangle (col - row >= offset), as tril_indices."""
    return _tri_indices("triu_indices", row, col, offset, dtype, device, requires_grad, True)


# ---------------------------------------------------------------------------------------------
# Window functions. periodic=True (torch's default) computes a window of length N + 1 and drops
# the last sample, the form spectral analysis (stft) wants.

def _window(name, window_length, periodic, dtype, requires_grad, values):
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    dtype = dtype or _dtype.get_default_dtype()
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    if window_length <= 1:
        return _finish(np.ones(window_length, dtype.np), requires_grad)
    n = window_length + 1 if periodic else window_length
    w = values(np.arange(n, dtype=np.float64), n)[:window_length]
    return _finish(w.astype(dtype.np), requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False):
    """0.5 - 0.5 cos(2 pi k / (N - 1))."""
    return _window("hann_window", window_length, periodic, dtype, requires_grad,
                   lambda k, n: 0.5 - 0.5 * np.cos(2 * math.pi * k / (n - 1)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False):
    """alpha - beta cos(2 pi k / (N - 1))."""
    return _window("hamming_window", window_length, periodic, dtype, requires_grad,
                   lambda k, n: alpha - beta * np.cos(2 * math.pi * k / (n - 1)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """0.42 - 0.5 cos(2 pi k / (N - 1)) + 0.08 cos(4 pi k / (N - 1))."""
    return _window("blackman_window", window_length, periodic, dtype, requires_grad,
                   lambda k, n: 0.42 - 0.5 * np.cos(2 * math.pi * k / (n - 1))
                   + 0.08 * np.cos(4 * math.pi * k / (n - 1)))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """The triangle 1 - |2k / (N - 1) - 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad,
                   lambda k, n: 1 - np.abs(2 * k / (n - 1) - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, requires_grad=False):
    """I0(beta sqrt(1 - (2k / (N - 1) - 1)^2)) / I0(beta)."""
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad,
                   lambda k, n: np.i0(beta * np.sqrt(np.clip(1 - (2 * k / (n - 1) - 1) ** 2,
                                                             0, None))) / np.i0(beta))


# ---------------------------------------------------------------------------------------------
# Legacy constructors: FloatTensor(2, 3) (uninitialised) or FloatTensor([1, 2]) (data)

def _legacy_new(dt, args, kwargs):
    if kwargs.get("device") is not None:
        _check_device(kwargs["device"])
    if not args:
        return Tensor._make(np.empty((0,), dt.np))
    if len(args) == 1 and isinstance(args[0], Tensor):
        if args[0]._data.dtype != dt.np:
            raise TypeError(f"expected {dt._legacy} (got {args[0].dtype._legacy})")
        return args[0]._view_of(args[0]._data)
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args) or (
            len(args) == 1 and isinstance(args[0], Size)):
        return Tensor._make(np.empty(_size(args, "empty"), dt.np))
    if len(args) == 1:
        data = args[0]
        if not isinstance(data, (list, tuple, np.ndarray, Size)):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        a = data if isinstance(data, np.ndarray) else _from_data(data, None)
        return Tensor._make(np.array(a, dtype=dt.np, copy=True))
    raise TypeError("new() received an invalid combination of arguments")


class _LegacyTensorType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls._ember_dtype

    def __call__(cls, *args, **kwargs):
        return _legacy_new(cls._ember_dtype, args, kwargs)

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


def _legacy(name, dt):
    return _LegacyTensorType(name, (), {"_ember_dtype": dt, "dtype": dt})


FloatTensor = _legacy("FloatTensor", _dtype.float32)
DoubleTensor = _legacy("DoubleTensor", _dtype.float64)
HalfTensor = _legacy("HalfTensor", _dtype.float16)
BFloat16Tensor = _legacy("BFloat16Tensor", _dtype.bfloat16)
ByteTensor = _legacy("ByteTensor", _dtype.uint8)
CharTensor = _legacy("CharTensor", _dtype.int8)
ShortTensor = _legacy("ShortTensor", _dtype.int16)
IntTensor = _legacy("IntTensor", _dtype.int32)
LongTensor = _legacy("LongTensor", _dtype.int64)
BoolTensor = _legacy("BoolTensor", _dtype.bool)


# ---------------------------------------------------------------------------------------------
# Tensor methods

def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    if isinstance(data, Tensor):
        a = np.array(data._data, dtype=(dtype or data.dtype).np, copy=True)
    else:
        a = _from_data(data, dtype or self.dtype)
    return _finish(a, requires_grad)


def _new_filled(fill, fn):
    def method(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
        return _filled(fill, "new_" + fn, size, None, dtype or self.dtype, device,
                       requires_grad)
    method.__name__ = "new_" + fn
    return method


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
              layout=None, pin_memory=False):
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    _number(fill_value, "new_full", "fill_value", 2)
    return _filled(fill_value, "full", (size,), None, dtype or self.dtype, device, requires_grad)


Tensor.new_tensor = _new_tensor
Tensor.new_zeros = _new_filled(0, "zeros")
Tensor.new_ones = _new_filled(1, "ones")
Tensor.new_empty = _new_filled(None, "empty")
Tensor.new_full = _new_full


def _new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None,
                       requires_grad=False, pin_memory=False):
    """empty_strided in self's dtype (unless dtype is given)."""
    _check_device(device)
    return empty_strided(size, stride, dtype=dtype or self.dtype, requires_grad=requires_grad)


Tensor.new_empty_strided = _new_empty_strided
