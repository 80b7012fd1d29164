"""Indexing and assignment: `x[key]`, `x[key] = v`, copy_, fill_, zero_ (the indexing
functions - gather/scatter, index_*, masked_*, nonzero - are in indexing_ops.py).

Basic keys (ints, slices with positive steps, None, Ellipsis) give views; keys with integer or
bool tensors, lists or arrays ("advanced" indexing) give copies, with torch's (= NumPy's) rules
for where the indexed dims land. Index backward accumulates repeated indices.
"""
import numpy as np

from ember import _dtype
from ember._ops._helpers import add_at, check_inplace, inplace, is_half, write, zeros_of
from ember._ops.shape import ViewFn
from ember._tensor import Tensor, _check_scalar
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = []   # x[key], x[key] = v, copy_/fill_/zero_: Tensor methods only

_BASIC = (int, slice, type(None), type(Ellipsis))
_INDEX_TYPES = (np.int64, np.int32, np.uint8, np.bool_)


def _convert_key(key, shape):
    """(numpy key, is_basic, none_positions) from a torch-style key."""
    if type(key) is not tuple:
        if type(key) is list and _sequence_as_tuple(key):
            import warnings
            warnings.warn("Using a non-tuple sequence for multidimensional indexing is "
                          "deprecated and will be changed in pytorch 2.9; use x[tuple(seq)] "
                          "instead of x[seq].", UserWarning, stacklevel=3)
            key = tuple(key)
        else:
            key = (key,)
    out = []
    basic = True
    for k in key:
        if isinstance(k, bool):       # x[True] adds a dim like None; x[False] selects nothing
            out.append(np.array(k))
            basic = False
        elif isinstance(k, int):
            out.append(k)
        elif isinstance(k, slice):
            out.append(_convert_slice(k))
        elif k is None or k is Ellipsis:
            if k is Ellipsis and any(o is Ellipsis for o in out):   # see _one_ellipsis
                return _convert_key(_one_ellipsis(key, len(shape)), shape)
            out.append(k)
        elif isinstance(k, Tensor):
            a = k._data
            if a.dtype.type not in _INDEX_TYPES:
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            if a.dtype.type is np.uint8:   # byte tensors are (deprecated) masks in torch
                import warnings
                warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a "
                              "dtype torch.bool instead.", UserWarning, stacklevel=3)
                a = a.astype(np.bool_)
            if a.ndim == 0 and a.dtype.kind in "iu":
                out.append(int(a))     # a 0-d integer tensor indexes like an int
            else:
                out.append(a)
                basic = False
        elif isinstance(k, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(k).__name__}'")
        elif isinstance(k, (np.integer,)):
            out.append(int(k))
        elif isinstance(k, (list, np.ndarray)) or hasattr(k, "__index__") is False and \
                hasattr(k, "__len__") and not isinstance(k, (dict, set, frozenset)):
            a = np.asarray([x.item() if isinstance(x, Tensor) else x for x in k] if isinstance(
                k, list) else k)
            if a.size == 0 and a.dtype.kind == "f":
                a = a.astype(np.int64)
            elif a.dtype.kind == "f":
                a = a.astype(np.int64)   # torch truncates floats in index lists (legacy)
            if a.dtype.kind == "f" or a.dtype == object:
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            out.append(a if a.size or a.dtype.kind == "b" else a.astype(np.int64))
            basic = False
        elif hasattr(k, "__index__"):
            out.append(k.__index__())
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                             "byte Variables are valid indices (got "
                             f"{type(k).__name__})")
    if not basic:
        arrays = [k for k in out if isinstance(k, np.ndarray) and k.ndim]
        if len(arrays) > 1:
            _check_broadcast(arrays)
    _check_bounds(out, shape)
    return tuple(out), basic


def _one_ellipsis(key, ndim):
    """torch lets every Ellipsis of a key skip the dims the first one skips; what follows a
    second one then lies past the last dim. Extra ellipses that skip nothing, or end the key,
    are dropped; others leave too many indices."""
    first = next(i for i, k in enumerate(key) if k is Ellipsis)
    skipped = ndim - sum(1 for k in key if k is not None and k is not Ellipsis and not (
        isinstance(k, bool)))
    rest = [k for k in key[first + 1:] if k is not Ellipsis]
    tail = key[next(i for i, k in enumerate(key) if k is Ellipsis and i > first) + 1:]
    if skipped > 0 and any(k is not Ellipsis for k in tail):
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    return key[:first + 1] + tuple(rest)


def _sequence_as_tuple(key):
    """torch's legacy rule: a short list holding sequences, tensors, slices, None or Ellipsis
    indexes like a tuple (x[[[0, 1], [1, 2]]] == x[[0, 1], [1, 2]])."""
    if len(key) >= 32:
        return False
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, (list, tuple, slice, Tensor, np.ndarray)):
            return True
    return False


def _split_ints(npkey):
    """(basic key, advanced key) for a key mixing ints with advanced indices: torch applies
    ints first, as select(), so they never join the advanced indices (where the advanced
    dims land then differs from NumPy's rule)."""
    k1, k2 = [], []
    for k in npkey:
        if type(k) is int:
            k1.append(k)
        elif k is None:
            k1.append(None)
            k2.append(slice(None))
        elif k is Ellipsis:
            k1.append(k)
            k2.append(k)
        elif isinstance(k, slice):
            k1.append(k)
            k2.append(slice(None))
        elif k.dtype == np.bool_ and k.ndim == 0:
            k1.append(None)
            k2.append(slice(None) if k else slice(0, 0))
        else:
            k1.extend([slice(None)] * (k.ndim if k.dtype == np.bool_ else 1))
            k2.append(k)
    return tuple(k1), tuple(k2)


def _convert_slice(s):
    try:
        start, stop, step = (x.__index__() if x is not None and not isinstance(x, int) else x
                             for x in (s.start, s.stop, s.step))
    except AttributeError:
        raise TypeError("slice indices must be integers or None or have an __index__ "
                        "method") from None
    if step is not None and step <= 0:
        raise ValueError("slice step cannot be zero" if step == 0 else
                         "step must be greater than zero")
    return slice(start, stop, step)


def _check_bounds(key, shape):
    """torch's IndexError wording for ints out of range (NumPy says 'axis')."""
    n_consumed = sum(1 for k in key if k is not None and k is not Ellipsis and not (
        isinstance(k, np.ndarray) and k.dtype == np.bool_ and k.ndim == 0)) + sum(
        k.ndim - 1 for k in key if isinstance(k, np.ndarray) and k.dtype == np.bool_ and k.ndim)
    if n_consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    dim = 0
    for i, k in enumerate(key):
        if k is Ellipsis:
            dim = len(shape) - sum(1 for kk in key[i + 1:] if kk is not None and
                                   kk is not Ellipsis)
            continue
        if k is None:
            continue
        if isinstance(k, int):
            size = shape[dim]
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size "
                                 f"{size}")
        elif isinstance(k, np.ndarray) and k.dtype.kind in "iu" and k.size:
            size = shape[dim]
            # two SIMD reductions; the mask that finds the culprit only when one is out of range
            if k.max() < size and (k.dtype.kind == "u" or k.min() >= -size):
                dim += 1
                continue
            bad = k[(k >= size) | (k < -size)]
            if bad.size:
                raise IndexError(f"index {bad.flat[0]} is out of bounds for dimension {dim} "
                                 f"with size {size}")
        elif isinstance(k, np.ndarray) and k.dtype == np.bool_ and k.ndim:
            if k.shape != tuple(shape[dim:dim + k.ndim]):
                raise IndexError(f"The shape of the mask {list(k.shape)} at index {i} does not "
                                 f"match the shape of the indexed tensor "
                                 f"{list(shape[dim:dim + k.ndim])} at index {i}")
            dim += k.ndim
            continue
        dim += 1


def _check_broadcast(arrays):
    """Index arrays must broadcast together (torch's wording; a mask counts as its nonzero
    positions, one 1-D index per dim)."""
    shapes = []
    for k in arrays:
        shapes += [(int(np.count_nonzero(k)),)] * k.ndim if k.dtype == np.bool_ else [k.shape]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together "
                         f"with shapes {', '.join(str(list(s)) for s in shapes)}") from None


def _basic_fn(key):
    """fn(array) -> the view x[key], with torch's strides for dims added by None."""
    if Ellipsis not in key:
        key = key + (Ellipsis,)   # ints for every dim: a 0-d view, not a NumPy scalar
    if not any(k is None for k in key):
        if not any(k is Ellipsis for k in key):
            key = key + (Ellipsis,)   # keeps an all-int result a 0-d array, not a scalar
        return lambda x: x[key]
    plain = tuple(k for k in key if k is not None)

    def fn(x):
        # torch applies the key left to right: a None becomes unsqueeze() of the tensor as it is
        # then, so its stride comes from the next, not yet indexed, input dim.
        v = x[plain]
        consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
        shape, strides = list(v.shape), list(v.strides)
        pos = in_dim = 0   # output dims produced so far, input dims consumed so far
        for k in key:
            if k is None:
                st = x.shape[in_dim] * x.strides[in_dim] if in_dim < x.ndim else x.itemsize
                shape.insert(pos, 1)
                strides.insert(pos, st)
                pos += 1
            elif k is Ellipsis:
                pos += x.ndim - consumed
                in_dim += x.ndim - consumed
            elif isinstance(k, slice):
                pos += 1
                in_dim += 1
            else:
                in_dim += 1
        return np.lib.stride_tricks.as_strided(v, shape, strides, writeable=v.flags.writeable)
    return fn


class Index(ArrayFunction):
    """Advanced indexing (a copy); backward adds the gradient at the indexed positions."""

    def forward(ctx, a, *, key, name="IndexBackward0", checked=False, along=False):
        ctx.key, ctx.in_shape, ctx._name, ctx.along = key, a.shape, name, along
        if checked:
            # x[idx] with one integer array whose bounds were checked: np.take's 'wrap' mode
            # reads negative indices as torch does and skips NumPy's own bounds pass (~2x
            # faster than a[key] on large indices)
            return np.take(a, key[0], axis=0, mode="wrap")
        return a[key]

    def backward(ctx, grad):
        return IndexPutAccumulate.apply(grad, key=ctx.key, shape=ctx.in_shape, along=ctx.along)

    def name(self):
        return self._name


class IndexPutAccumulate(ArrayFunction):
    def forward(ctx, grad, *, key, shape, along=False):
        ctx.key, ctx.along = key, along
        z = np.zeros(shape, grad.dtype)
        if along:   # key from _along() (gather): torch's scatter_add
            scatter_at(np.add, z, key, grad)
        else:
            add_at(z, key, grad)
        return z

    def backward(ctx, grad):
        return Index.apply(grad, key=ctx.key, along=ctx.along)


def _plain_slice(s):
    """A slice NumPy and torch read alike: int or None bounds, positive step or none."""
    st = s.step
    return ((st is None or (type(st) is int and st > 0)) and
            (s.start is None or type(s.start) is int) and (s.stop is None or type(s.stop) is int))


def _view_name(key):
    """torch applies a basic key as a chain of views; grad_fn is the last one's node."""
    for k in reversed(key if type(key) is tuple else (key,)):
        if isinstance(k, (int, np.integer)) or (isinstance(k, Tensor) and k.dim() == 0 and
                                                k._data.dtype.kind in "iu"):
            return "SelectBackward0"   # (a 0-d integer tensor indexes as an int)
        if k is None:
            return "UnsqueezeBackward0"
        if isinstance(k, slice) and k != slice(None):
            return "SliceBackward0"
    return "AliasBackward0"


def getitem(self, key):
    a = self._data
    # Hot path (x[1:3], x[0], x[:, 1], x[..., 0]): NumPy's view is torch's view. Keys with
    # None, tensors, lists, bools or out-of-range ints take the general path below.
    npkey = None
    tk = type(key)
    if tk is slice:
        if a.ndim and _plain_slice(key):
            npkey = key
    elif tk is int:
        if a.ndim and -a.shape[0] <= key < a.shape[0]:
            npkey = (key, Ellipsis)   # "..." keeps a 0-d result an array, not a scalar
    elif tk is tuple and len(key) <= a.ndim + 1:
        shape = a.shape
        shift = 0   # after an Ellipsis, key position i addresses dim i + shift
        ell = False
        for i, k in enumerate(key):
            tk = type(k)
            if tk is slice:
                if not _plain_slice(k):
                    break
            elif tk is int:
                j = i + shift
                if j >= len(shape) or not -shape[j] <= k < shape[j]:
                    break
            elif k is Ellipsis and not ell:
                ell = True
                shift = a.ndim - len(key)
            else:
                break
        else:
            if ell or len(key) <= a.ndim:   # (too many indices: the general path raises)
                npkey = key if ell else key + (Ellipsis,)
    if npkey is not None:
        if not (self._requires_grad and _grad_state.enabled):
            return self._view_of(a[npkey])
        return ViewFn.apply(self, fn=lambda x: x[npkey], name=_view_name(key))
    if a.ndim == 0:
        _check_0d_key(key)
    npkey, basic = _convert_key(key, a.shape)
    if basic:
        return ViewFn.apply(self, fn=_basic_fn(npkey), name=_view_name(key))
    if any(type(k) is int for k in npkey):
        k1, k2 = _split_ints(npkey)
        return getitem(getitem(self, k1), k2)
    if len(npkey) == 1 and npkey[0].dtype.kind in "iu" and a.ndim:
        return Index.apply(self, key=npkey, checked=True)
    return Index.apply(self, key=npkey)


def _check_0d_key(key):
    """torch's IndexErrors for a key a 0-d tensor cannot take (an int, a slice, or any other
    index that consumes a dim); None, Ellipsis and bools are fine."""
    k = key[0] if type(key) is tuple and len(key) == 1 else key
    if k is None or k is Ellipsis or isinstance(k, (Tensor, bool)) or (
            type(k) is tuple and all(x is None or x is Ellipsis or isinstance(x, bool)
                                     for x in k)):
        return
    if isinstance(k, (int, np.integer)):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                         "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    if isinstance(k, slice):
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    raise IndexError("too many indices for tensor of dimension 0")


class IndexPut(ArrayFunction):
    """out = a with out[key] = v; grads: a's gradient with the key zeroed, v's gathered."""

    def forward(ctx, a, v=None, *, key, name="IndexPutBackward0", value=None):
        ctx.key, ctx._name = key, name
        out = np.array(a, copy=True)
        out[key] = v if value is None else value   # value=: a number, no edge (as torch's)
        return out

    def name(self):
        return self._name

    def backward(ctx, grad):
        ga = None
        if ctx.needs_input_grad[0]:
            ga = IndexFill0.apply(grad, key=ctx.key)
        if len(ctx.needs_input_grad) == 1:
            return ga
        gv = Index.apply(grad, key=ctx.key) if ctx.needs_input_grad[1] else None
        return ga, gv


class IndexFill0(ArrayFunction):
    def forward(ctx, grad, *, key):
        ctx.key = key
        out = np.array(grad, copy=True)
        out[key] = 0
        return out

    def backward(ctx, grad):
        return IndexFill0.apply(grad, key=ctx.key)


def setitem(self, key, value):
    a = self._data
    tv = type(value)
    if tv is float or tv is int:
        _check_scalar(value, a.dtype)
    elif tv is not Tensor and not isinstance(value, Tensor):
        _check_assigned(self, value)
    if a.ndim == 0:
        _check_0d_key(key)
    npkey, basic = _convert_key(key, a.shape)
    if not basic:
        if any(type(k) is int for k in npkey):
            k1, k2 = _split_ints(npkey)
            return setitem(getitem(self, k1), k2, value)
        if isinstance(value, Tensor) and value._data.dtype != a.dtype and not (
                value._data.ndim == 0 and _is_single_mask(npkey)):
            raise RuntimeError(f"Index put requires the source and destination dtypes match, "
                               f"got {_legacy(a.dtype)} for the destination and "
                               f"{_legacy(value._data.dtype)} for the source.")
    record = _grad_state.enabled and (self._requires_grad or (
        isinstance(value, Tensor) and value._requires_grad))
    if not record:
        check_inplace(self)
        v = value._data if isinstance(value, Tensor) else np.asarray(value)
        if not a.flags.writeable:   # an expanded tensor: torch writes unless x[key] overlaps
            w = _writable_alias(a)
            if w is None or basic and _overlapping(np.empty(a.shape, np.bool_)[npkey].shape,
                                                   a[npkey].strides):
                write(self, a)   # raises torch's error for overlapping memory
            a = w
        try:
            a[npkey] = v
        except ValueError:
            _value_shape_error(self, npkey, basic, v.shape)
        self._vc.value += 1
        return
    if basic and self._requires_grad and self.grad_fn is None and not all(
            k is Ellipsis or k == slice(None) for k in npkey):   # a write through a view
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    if not isinstance(value, Tensor):
        value = Tensor._make(np.asarray(value, dtype=a.dtype))
    elif value._data.dtype != a.dtype:
        value = value.to(self.dtype)
    dst = np.empty(a.shape, np.bool_)[npkey].shape   # (no element read)
    try:
        np.broadcast_to(np.empty(value._data.shape, np.bool_), dst)
    except ValueError:
        _value_shape_error(self, npkey, basic, value._data.shape)
    # (torch records a write through basic indexing as CopySlices, advanced as IndexPut)
    inplace(self, IndexPut.apply(self, value, key=npkey,
                                 name="torch::autograd::CopySlices" if basic else
                                 "IndexPutBackward0"))


_ASSIGNABLE = (bool, int, float, complex, np.integer, np.bool_)
_NUMBERS = _ASSIGNABLE + (np.number,)


def _check_assigned(self, value):
    """x[k] = value takes a tensor or a number (torch: no sequences, arrays or NumPy floats
    other than float64); a number must fit x's dtype."""
    if not isinstance(value, _ASSIGNABLE):
        t = type(value)
        name = t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"
        raise TypeError(f"can't assign a {name} to a torch.{self.dtype._legacy}Tensor")
    _check_scalar(value, self._data.dtype)


def _value_shape_error(self, npkey, basic, src_shape):
    """Raise torch's error for a value that does not broadcast to x[key]: a basic key copies
    (copy_/expand's wording), an advanced one puts (index_put's wording)."""
    dst = np.empty(self._data.shape, np.bool_)[npkey].shape
    if basic:
        from ember._ops.shape import expand
        src = tuple(src_shape)
        while len(src) > len(dst) and src[0] == 1:   # torch drops leading 1s of the value
            src = src[1:]
        expand(Tensor._make(np.empty(src, self._data.dtype)), *dst)
    raise RuntimeError(_setitem_message(dst, src_shape)) from None


def _is_single_mask(npkey):
    ks = [k for k in npkey if k is not Ellipsis]
    return len(ks) == 1 and isinstance(ks[0], np.ndarray) and ks[0].dtype == np.bool_


def _legacy(npd):
    return _dtype.from_numpy_dtype(npd)._legacy


def _setitem_message(dst_shape, src_shape):
    return (f"shape mismatch: value tensor of shape [{', '.join(map(str, src_shape))}] cannot be "
            f"broadcast to indexing result of shape [{', '.join(map(str, dst_shape))}]")


# ---------------------------------------------------------------------------------------------
# copy_, fill_, zero_

class CopyFrom(ArrayFunction):
    """The values of src broadcast to self's shape and cast to self's dtype (self's old values
    get no gradient: they are overwritten)."""

    def forward(ctx, dst, src):
        out = np.empty_like(dst)
        src = src.real if src.dtype.kind == "c" and dst.dtype.kind != "c" else src
        np.copyto(out, _dtype.cast(src, dst.dtype, copy=False), casting="unsafe")
        return out

    def backward(ctx, grad):
        zero = zeros_of(grad) if ctx.needs_input_grad[0] else None
        return zero, grad

    def name(self):
        return "CopyBackwards"


class FillFrom(CopyFrom):
    """fill_ with a 0-d tensor: CopyFrom as torch names it."""

    def name(self):
        return "FillBackward3"


class Fill(ArrayFunction):
    """fill_(number) / zero_() on a tensor that requires grad: the old values get no gradient."""

    def forward(ctx, dst, *, value, label):
        ctx.label = label
        return np.full_like(dst, _dtype.scalar_as(value, dst.dtype))

    def backward(ctx, grad):
        return zeros_of(grad)

    def name(self):
        return self.label


_warned = set()


def _complex_to_real_warning():
    """torch warns once per process (TORCH_WARN_ONCE) when copy_ drops imaginary parts."""
    if "complex" not in _warned:
        _warned.add("complex")
        import warnings
        warnings.warn("Casting complex values to real discards the imaginary part", UserWarning,
                      stacklevel=3)


def copy_(self, src, non_blocking=False):
    """Copy src's values into self (broadcasting, casting); gradients flow to src."""
    if not isinstance(src, Tensor):
        if not isinstance(src, _NUMBERS):
            raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not "
                            f"{type(src).__name__}")
        src = Tensor._make(np.asarray(src))   # torch copies a number as a 0-d tensor
    a = self._data
    if src._data.shape != a.shape:
        _check_inplace_broadcast(a.shape, src._data.shape)
    b = src._data
    if b.dtype.kind == "c" and a.dtype.kind != "c":
        _complex_to_real_warning()
        b = b.real
    if _grad_state.enabled and (self._requires_grad or src._requires_grad):
        return inplace(self, CopyFrom.apply(self, src))
    check_inplace(self)
    if not a.flags.writeable:
        write(self, a)
    np.copyto(a, _dtype.cast(b, a.dtype, copy=False), casting="unsafe")
    self._vc.value += 1
    return self


def fill_(self, value, *, _label="FillBackward2"):
    tv = type(value)
    if tv is float or tv is int:
        _check_scalar(value, self._data.dtype)
    elif not isinstance(value, Tensor):
        if not isinstance(value, _NUMBERS):
            raise TypeError(f"fill_() received an invalid combination of arguments - got "
                            f"({type(value).__name__}), but expected one of: (Tensor value) or "
                            f"(Number value)")
        _check_scalar(value, self._data.dtype)
    else:
        if value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value._data.ndim} dimensions.")
        if _grad_state.enabled and (self._requires_grad or value._requires_grad):
            return inplace(self, FillFrom.apply(self, value))
        value = value._data
    check_inplace(self)
    if _grad_state.enabled and self._requires_grad:
        return inplace(self, Fill.apply(self, value=value, label=_label))
    a = self._data
    if not a.flags.writeable:   # an expanded tensor: torch fills it with a number all the same
        if isinstance(value, np.ndarray):
            write(self, a)   # (but not with a tensor: torch's copy refuses the overlap)
        a = _writable_alias(a)
        if a is None:
            write(self, self._data)   # raises
    a.fill(_dtype.scalar_as(value, a.dtype))
    self._vc.value += 1
    return self


def _writable_alias(a):
    """A writable array over a read-only (expanded) array's memory, with its strides: torch
    writes through expanded tensors in fill_, masked_fill_ and x[key] = v. None when the
    memory itself is read-only."""
    from ember._tensor import _address, _root
    root = _root(a)
    if not root.flags.writeable or not root.flags.c_contiguous:
        return None
    return np.ndarray(a.shape, a.dtype, buffer=root, offset=_address(a) - _address(root),
                      strides=a.strides)


def _overlapping(shape, strides):
    from ember._ops.shape import _overlaps
    return _overlaps(shape, strides)


def zero_(self):
    return fill_(self, 0, _label="ZeroBackward0")


def scatter_at(ufunc, out, key, v, along=True):
    """ufunc.at(out, key, v) in place, as torch's scatter kernels (scatter_add, scatter with
    reduce=, scatter_reduce, gather's gradient) accumulate: half types in float32, rounded
    once at the end (index_add, index_put and put accumulate in the half type itself, as
    ufunc.at does). `along`: key is `_along`'s form (see `_flat_at`)."""
    at = _flat_at if along else _plain_at
    if not is_half(out.dtype):
        at(ufunc, out, key, v)
        return
    wide = out.astype(np.float32)
    at(ufunc, wide, key, np.asarray(v).astype(np.float32))
    out[...] = wide


def _plain_at(ufunc, out, key, v):
    ufunc.at(out, key, v)


def _flat_at(ufunc, out, key, v):
    """ufunc.at(out, key, v) for a key of non-negative integer arrays (gather/scatter's
    `_along` form): on a C-contiguous `out` the key becomes one array of flat offsets, and
    ufunc.at with a single 1-D index is several times faster than with broadcast index arrays."""
    if len(key) == 1 or not out.flags.c_contiguous:
        ufunc.at(out, key, v)
        return
    flat = None
    for k, n in zip(key, out.strides):
        term = k.astype(np.intp, copy=False) * (n // out.itemsize)
        flat = term if flat is None else flat + term
    shape = np.broadcast_shapes(*(k.shape for k in key))
    if flat.shape != shape:
        flat = np.array(np.broadcast_to(flat, shape))
    if v.shape != shape:
        v = np.broadcast_to(v, shape)
    # (a fresh flat index array: ufunc.at's fast path rejects read-only broadcast views)
    ufunc.at(out.reshape(-1), flat.reshape(-1), np.ascontiguousarray(v).reshape(-1))


def _check_inplace_broadcast(shape, other):
    """An in-place op's operand must broadcast to self's shape (torch's two errors)."""
    try:
        full = np.broadcast_shapes(shape, other)
    except ValueError:
        n = max(len(shape), len(other))
        pa, pb = (1,) * (n - len(shape)) + tuple(shape), (1,) * (n - len(other)) + tuple(other)
        k = next(k for k in range(n - 1, -1, -1) if pa[k] != pb[k] and 1 not in (pa[k], pb[k]))
        raise RuntimeError(f"The size of tensor a ({pa[k]}) must match the size of tensor b "
                           f"({pb[k]}) at non-singleton dimension {k}") from None
    if full != tuple(shape):
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(full)}")


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem
Tensor.copy_, Tensor.fill_, Tensor.zero_ = copy_, fill_, zero_
