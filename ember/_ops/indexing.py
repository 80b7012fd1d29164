"""Indexing and assignment: `x[key]`, `x[key] = v`, copy_, fill_, zero_.

Basic keys (ints, slices with positive steps, None, Ellipsis) give views; keys with integer or
bool tensors, lists or arrays ("advanced" indexing) give copies, with torch's (= NumPy's) rules
for where the indexed dims land. Index backward accumulates repeated indices.
"""
import math

import numpy as np

from ember import _dtype
from ember._ops._helpers import check_inplace, inplace, write, write_out
from ember._ops.shape import ViewFn
from ember._tensor import _C_NAMES, Tensor, _check_scalar, _wrap_dim
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
           "index_copy", "index_fill", "index_put", "put", "take", "take_along_dim",
           "masked_fill", "masked_select", "masked_scatter", "nonzero", "argwhere",
           "index_reduce", "nonzero_static"]

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
        if along:   # key from _along() (gather): flat offsets, one fast 1-D add.at
            _flat_at(np.add, z, key, grad)
        else:
            np.add.at(z, key, grad)
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
        if isinstance(k, int):
            return "SelectBackward0"
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

    def forward(ctx, a, v, *, key, name="IndexPutBackward0"):
        ctx.key, ctx._name = key, name
        out = np.array(a, copy=True)
        out[key] = v
        return out

    def name(self):
        return self._name

    def backward(ctx, grad):
        ga = None
        if ctx.needs_input_grad[0]:
            ga = IndexFill0.apply(grad, key=ctx.key)
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
    inplace(self, IndexPut.apply(self, value, key=npkey))


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
        np.copyto(out, src, casting="unsafe")
        return out

    def backward(ctx, grad):
        zero = Tensor._make(np.zeros_like(grad._data)) if ctx.needs_input_grad[0] else None
        return zero, grad

    def name(self):
        return "CopyBackwards"


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
    if _grad_state.enabled and (self._requires_grad or src._requires_grad):
        return inplace(self, CopyFrom.apply(self, src))
    check_inplace(self)
    if not a.flags.writeable:
        write(self, a)
    np.copyto(a, src._data, casting="unsafe")
    self._vc.value += 1
    return self


def fill_(self, value):
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
            return inplace(self, CopyFrom.apply(self, value))
        value = value._data
    check_inplace(self)
    if _grad_state.enabled and self._requires_grad:
        from ember._ops.creation import full_like
        return inplace(self, CopyFrom.apply(self, full_like(self, value)))
    a = self._data
    if not a.flags.writeable:   # an expanded tensor: torch fills it all the same
        a = _writable_alias(a)
        if a is None:
            write(self, self._data)   # raises
    a.fill(value)
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
    return fill_(self, 0)


# ---------------------------------------------------------------------------------------------
# gather / scatter family: an index tensor addresses positions along one dim

def _index_array(index, fn, kinds="iu"):
    if not isinstance(index, Tensor):
        raise TypeError(f"{fn}(): argument 'index' must be Tensor, not {type(index).__name__}")
    a = index._data
    if a.dtype.kind not in "iu" or a.dtype.itemsize < 4:
        raise RuntimeError(f"{fn}(): Expected dtype int32/int64 for index")
    return a


def _along(idx, dim, nd):
    """The NumPy key that addresses x[i0, .., idx[i0, .., ik], .., in] for every position of
    idx (dim `dim` from idx's values, every other dim from its own position)."""
    key = []
    for k in range(nd):
        if k == dim:
            key.append(idx)
        else:
            shape = [1] * nd
            shape[k] = idx.shape[k]
            key.append(np.arange(idx.shape[k]).reshape(shape))
    return tuple(key)


def _check_along(fn, a_shape, idx, dim, src_shape=None, self_name="input"):
    """torch's checks for gather/scatter: same ndim, index no larger than self (and src)
    outside dim, values in range."""
    nd = len(a_shape)
    if idx.ndim != nd and not (nd <= 1 and idx.ndim <= 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as "
                           f"{self_name} tensor")
    for k in range(idx.ndim):
        if k != dim and idx.shape[k] > a_shape[k]:
            if src_shape is None:
                raise RuntimeError(f"Size does not match at dimension {k} expected index "
                                   f"{list(idx.shape)} to be no larger than self "
                                   f"{list(a_shape)} apart from dimension {dim}")
        if src_shape is not None and (k != dim and idx.shape[k] > a_shape[k] or
                                      idx.shape[k] > src_shape[k]):
            raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self "
                               f"{list(a_shape)} apart from dimension {dim} and to be no "
                               f"larger size than src {list(src_shape)}")
    if idx.size:
        size = a_shape[dim] if nd else 1
        if idx.max() < size and (idx.dtype.kind == "u" or idx.min() >= 0):
            return   # (two SIMD reductions; the mask below only finds the culprit)
        bad = idx[(idx < 0) | (idx >= size)]
        if bad.size:
            raise RuntimeError(f"index {bad.flat[0]} is out of bounds for dimension {dim} with "
                               f"size {size}")


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """out[i][j] = input[i][index[i][j]] (dim=1): values along dim picked by index. index has
    input's number of dims and is no larger than input outside dim; out has index's shape."""
    a = input._data
    idx = _index_array(index, "gather")
    d = _wrap_dim(dim, max(a.ndim, 1))
    _check_along("gather", a.shape if a.ndim else (1,), idx, d)
    if a.ndim == 0:   # a 0-d input acts as a 1-element vector
        r = Index.apply(input.reshape(1), key=(idx,), name="GatherBackward0")
    else:
        r = Index.apply(input, key=_along(idx, d, a.ndim), name="GatherBackward0", along=True)
    return r if out is None else write_out(out, r)


def _src_for(src, idx):
    """src cut to index's shape (a differentiable view), as scatter reads it."""
    if src._data.shape == idx.shape:
        return src
    return src[tuple(slice(0, n) for n in idx.shape)]


def _value_array(value, dtype):
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError("scatter(): Expected value to be a scalar")
        value = value.item()
    return np.asarray(value).astype(dtype)


def _scatter_src(src, value, a, fn="scatter"):
    """scatter's source: `src` (a tensor or a number) or `value=` (a number or a 0-d tensor),
    with torch's TypeErrors and overflow check."""
    if src is not None and value is not None:
        raise TypeError(f"{fn}() received an invalid combination of arguments - got both src "
                        f"and value")
    if src is None:
        if isinstance(value, Tensor) and value._data.ndim:
            raise TypeError(f"{fn}() received an invalid combination of arguments - got "
                            f"value=Tensor with {value._data.ndim} dimension(s), but expected "
                            f"a Number")
        src = value.item() if isinstance(value, Tensor) else value
    if not isinstance(src, Tensor):
        if not isinstance(src, _NUMBERS):
            raise TypeError(f"{fn}() received an invalid combination of arguments - got "
                            f"{type(src).__name__} for src, but expected a Tensor or a Number")
        _check_scalar(src, a.dtype)
    return src


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


class ScatterAccumulate(ArrayFunction):
    """out = a with `src` added (ufunc.at: repeated positions accumulate) at key."""

    def forward(ctx, a, v, *, key, ufunc=np.add, name="ScatterAddBackward0", along=False):
        ctx.key, ctx._name = key, name
        out = np.array(a, copy=True)
        if along:   # key from _along(): checked non-negative integer arrays
            _flat_at(ufunc, out, key, v)
        else:
            ufunc.at(out, key, v)
        return out

    def backward(ctx, grad):
        gv = Index.apply(grad, key=ctx.key) if ctx.needs_input_grad[1] else None
        return grad, gv

    def name(self):
        return self._name


class _NoGrad(ArrayFunction):
    """Forward only: torch has no derivative for this op (scatter with reduce=)."""

    def forward(ctx, a, v, *, fn, what):
        ctx.what = what
        return fn(a, v)

    def backward(ctx, grad):
        raise RuntimeError(f"derivative for {ctx.what} is not implemented")


def scatter(input, dim, index, src=None, *, value=None, reduce=None, out=None):
    """out = input with out[i][index[i][j]] = src[i][j] (dim=1), src a tensor or a number.
    Repeated indices: one of the writes wins (torch leaves it unspecified). reduce='add' or
    'multiply' combines instead (no gradient, as in torch)."""
    a = input._data
    src = _scatter_src(src, value, a)
    idx = _index_array(index, "scatter")
    d = _wrap_dim(dim, max(a.ndim, 1))
    is_t = isinstance(src, Tensor)
    if is_t and src._data.dtype != a.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    _check_along("scatter", a.shape if a.ndim else (1,), idx, d,
                 src._data.shape if is_t else None, "self")
    if a.ndim == 0:   # a 0-d tensor acts as a 1-element vector
        r = scatter(input.reshape(1), 0, index.reshape(-1), src.reshape(-1) if is_t else src,
                    reduce=reduce).reshape(())
        return r if out is None else write_out(out, r)
    key = _along(idx, d, a.ndim)
    v = _src_for(src, idx) if is_t else _value_array(src, a.dtype)
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if is_t:
            import warnings
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated "
                          "and will be removed in a future PyTorch release. Use "
                          "torch.scatter_reduce instead for more reduction options.",
                          UserWarning, stacklevel=2)
        uf = np.add if reduce == "add" else np.multiply

        def fn(x, y):
            o = np.array(x, copy=True)
            uf.at(o, key, y)
            return o
        r = _NoGrad.apply(input, v, fn=fn, what="aten::scatter")
    else:
        r = IndexPut.apply(input, v, key=key, name="ScatterBackward0" if is_t else
                           "ScatterBackward1")
    return r if out is None else write_out(out, r)


def scatter_add(input, dim, index, src, *, out=None):
    """out = input with src[i][j] added at out[i][index[i][j]] (dim=1); repeats accumulate."""
    a = input._data
    _tensor_arg(src, "scatter_add", "src", 3)
    idx = _index_array(index, "scatter_add")
    d = _wrap_dim(dim, max(a.ndim, 1))
    if src._data.dtype != a.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    _check_along("scatter_add", a.shape if a.ndim else (1,), idx, d, src._data.shape, "self")
    if a.ndim == 0:   # a 0-d tensor acts as a 1-element vector
        r = scatter_add(input.reshape(1), 0, index.reshape(-1), src.reshape(-1)).reshape(())
    else:
        r = ScatterAccumulate.apply(input, _src_for(src, idx), key=_along(idx, d, a.ndim),
                                    along=True)
    return r if out is None else write_out(out, r)


_REDUCE_ALIASES = {"max": "amax", "min": "amin"}   # (torch takes these spellings too)
_REDUCE_UFUNC = {"sum": np.add, "prod": np.multiply, "mean": np.add, "amax": np.maximum,
                 "amin": np.minimum}


class ScatterReduce(ArrayFunction):
    """scatter_reduce: combine src into input at key with sum/prod/mean/amax/amin; without
    include_self the scattered-to positions start from the reduction's identity."""

    def forward(ctx, a, v, *, key, reduce, include_self, name="ScatterReduceBackward0"):
        ctx._name = name
        uf = _REDUCE_UFUNC[reduce]
        out = np.array(a, copy=True)
        hit = None
        if not include_self or reduce == "mean":
            hit = np.zeros(a.shape, np.int64)
            np.add.at(hit, key, 1)
        if not include_self:
            out[hit > 0] = _identity(reduce, a.dtype)
        uf.at(out, key, v)
        if reduce == "mean":
            count = hit + (1 if include_self else 0)
            count = np.maximum(count, 1)
            if a.dtype.kind in "iu":
                out = np.floor_divide(out, count).astype(a.dtype)
            else:
                out = (out / count).astype(a.dtype)
            out = np.where(hit > 0, out, a) if not include_self else out
            ctx.count = count
        ctx.key, ctx.reduce, ctx.include_self, ctx.hit = key, reduce, include_self, hit
        if reduce in ("prod", "amax", "amin"):
            ctx.save_for_backward(a, v, out)
        return out

    def backward(ctx, grad):
        key, reduce = ctx.key, ctx.reduce
        if reduce == "sum":
            ga = grad if ctx.include_self else _masked_zero(grad, ctx.hit > 0)
            return ga, Index.apply(grad, key=key)
        if reduce == "mean":
            g = grad / Tensor._make(ctx.count.astype(grad._data.dtype))
            ga = g if ctx.include_self else _masked_zero(grad, ctx.hit > 0)
            return ga, Index.apply(g, key=key)
        a, v, out = ctx.saved_tensors
        if reduce == "prod":
            # d out / d x = out / x, written as the product of the others so zeros work
            return _prod_grads(ctx, grad, a, v, out)
        # amax / amin: the gradient is shared evenly by all elements equal to the result
        out_at = Index.apply(out, key=key)
        src_hit = (v._data == out_at._data)
        # (as torch: self counts among the ties even with include_self=False)
        self_hit = (a._data == out._data)
        n = self_hit.astype(np.int64)
        np.add.at(n, key, src_hit.astype(np.int64))
        g = grad / Tensor._make(np.maximum(n, 1).astype(grad._data.dtype))
        ga = g * Tensor._make(self_hit.astype(grad._data.dtype))
        if not ctx.include_self:
            ga = _masked_zero(ga, ctx.hit > 0)
        gv = Index.apply(g, key=key) * Tensor._make(src_hit.astype(grad._data.dtype))
        return ga, gv

    def name(self):
        return self._name


def _identity(reduce, dt):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = np.finfo(dt).max if dt.kind == "f" else np.iinfo(dt).max if dt.kind in "iu" else 1
    if dt.kind == "f":
        big = np.inf
    return -big if reduce == "amax" and dt.kind == "f" else (
        np.iinfo(dt).min if reduce == "amax" else big)


def _masked_zero(grad, mask):
    return IndexFill0.apply(grad, key=mask)


def _prod_grads(ctx, grad, a, v, out):
    """prod: each factor's gradient is grad * (product of the other factors). Computed as
    out / x where x != 0; where x == 0, the product of the others is recomputed directly."""
    key = ctx.key
    ad, vd = a._data, v._data
    with np.errstate(divide="ignore", invalid="ignore"):
        # product of all factors except zeros, and the number of zeros, per output position
        nz_prod = np.where(ad == 0, 1, ad) if ctx.include_self else np.ones_like(ad)
        nz_prod = np.array(nz_prod, copy=True)
        np.multiply.at(nz_prod, key, np.where(vd == 0, 1, vd))
        zeros = (ad == 0).astype(np.int64) if ctx.include_self else np.zeros(ad.shape, np.int64)
        np.add.at(zeros, key, (vd == 0).astype(np.int64))
        others_a = np.where(zeros == 0, nz_prod / np.where(ad == 0, 1, ad),
                            np.where((zeros == 1) & (ad == 0), nz_prod, 0))
        nzk, zk = nz_prod[key], zeros[key]
        others_v = np.where(zk == 0, nzk / np.where(vd == 0, 1, vd),
                            np.where((zk == 1) & (vd == 0), nzk, 0))
    dt = grad._data.dtype
    if ctx.include_self:
        ga = grad * Tensor._make(others_a.astype(dt))
    else:   # self took no part where src was scattered, and passes through elsewhere
        ga = _masked_zero(grad, ctx.hit > 0)
    gv = Index.apply(grad, key=key) * Tensor._make(others_v.astype(dt))
    return ga, gv


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    """Reduce src into input at index along dim: 'sum', 'prod', 'mean' (integer means round
    down), 'amax', 'amin'; include_self=False leaves input's own value out where written."""
    reduce = _REDUCE_ALIASES.get(reduce, reduce)
    if reduce not in _REDUCE_UFUNC:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    a = input._data
    _tensor_arg(src, "scatter_reduce", "src", 3)
    idx = _index_array(index, "scatter_reduce")
    d = _wrap_dim(dim, max(a.ndim, 1))
    if src._data.dtype != a.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    _check_along("scatter_reduce", a.shape if a.ndim else (1,), idx, d, src._data.shape,
                 "self")
    if a.ndim == 0:   # a 0-d tensor acts as a 1-element vector
        r = scatter_reduce(input.reshape(1), 0, index.reshape(-1), src.reshape(-1), reduce,
                           include_self=include_self).reshape(())
        return r if out is None else write_out(out, r)
    r = ScatterReduce.apply(input, _src_for(src, idx), key=_along(idx, d, a.ndim),
                            reduce=reduce, include_self=include_self)
    return r if out is None else write_out(out, r)


# ---------------------------------------------------------------------------------------------
# index_* family: a 1-D index tensor picks whole slices along dim

def _tensor_arg(x, fn, name, pos):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _vector_index(index, fn, dtype_error=None, vector_error=None, int64_only=False):
    """index's array (1-D) after torch's type checks: a Tensor of int32/int64 (int64 only with
    int64_only) of at most one dim; `dtype_error` / `vector_error` make the op's own
    exception for a failed check (called only then)."""
    _tensor_arg(index, fn, "index", 2)
    a = index._data
    if a.dtype != np.int64 and (int64_only or a.dtype != np.int32):
        raise dtype_error() if dtype_error else RuntimeError(
            f"{fn}(): Expected dtype int32 or int64 for index")
    if a.ndim > 1:
        raise vector_error() if vector_error else IndexError(
            f"{fn}(): Index is supposed to be a vector")
    return a.reshape(-1)


def _out_of_range(idx, size, negative_ok=False):
    """The first index outside [0, size) (or [-size, size)), or None (two SIMD reductions;
    the mask that finds the culprit only on failure)."""
    if not idx.size:
        return None
    lo = -size if negative_ok else 0
    if idx.min() >= lo and idx.max() < size:
        return None
    return int(idx[(idx < lo) | (idx >= size)][0])


def _dim_of(input, dim):
    return _wrap_dim(dim, max(input._data.ndim, 1))


def _slice_key(d, idx):
    return (slice(None),) * d + (idx,)


def index_select(input, dim, index, *, out=None):
    """The slices input[..., index[k], ...] along dim, stacked in index's order (a copy).
    Negative indices are out of range."""
    d = _dim_of(input, dim)
    a = input._data
    idx = _vector_index(index, "index_select")
    size = a.shape[d] if a.ndim else 1
    bad = _out_of_range(idx, size)
    if bad is not None:
        if d == 1 and a.ndim >= 2:   # (torch's kernel for dim 1 words it its own way)
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} "
                               f"axis_dim={size}")
        raise IndexError("index out of range in self")
    if a.ndim == 0:
        r = Index.apply(input.reshape(1), key=(idx,), name="IndexSelectBackward0")
        r = r.reshape(()) if index._data.ndim == 0 else r
    else:
        r = Index.apply(input, key=_slice_key(d, idx), name="IndexSelectBackward0")
    return r if out is None else write_out(out, r)


def _check_source(input, d, source):
    a, s = input._data, source._data
    if s.ndim and a.ndim and (s.ndim != a.ndim or any(
            s.shape[k] != a.shape[k] for k in range(a.ndim) if k != d)):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(a.shape)} "
                           f"source.shape = {list(s.shape)}")


def index_add(input, dim, index, source, *, alpha=1, out=None):
    """out = input with alpha * source[k] added to slice index[k] along dim (repeats add).
    Negative indices are out of range."""
    d = _dim_of(input, dim)
    a = input._data
    _tensor_arg(index, "index_add", "index", 2)
    _tensor_arg(source, "index_add", "source", 3)
    ia = index._data
    idx = _vector_index(index, "index_add", lambda: RuntimeError(
        f"index_add_(): Expected dtype int32/int64 for index but got: {index.dtype._legacy}"),
        lambda: IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: "
                           f"{ia.ndim} with type: {index.dtype._legacy} and size: "
                           f"{list(ia.shape)}"))
    if source._data.dtype != a.dtype:
        raise RuntimeError(f"index_add_(): self ({_dtype.from_numpy_dtype(a.dtype)._legacy}) "
                           f"and source ({source.dtype._legacy}) must have the same scalar type")
    n = source._data.shape[d] if source._data.ndim > d else 1
    if n != idx.size:
        raise RuntimeError(f"index_add_(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim): ({n}), for dim: {d}")
    _check_source(input, d, source)
    if isinstance(alpha, str) or not isinstance(alpha, (bool, int, float, complex, np.number,
                                                       Tensor)):
        raise TypeError(f"index_add(): argument 'alpha' must be Number, not "
                        f"{type(alpha).__name__}")
    if not isinstance(alpha, Tensor):
        _check_scalar(alpha, a.dtype)
    size = a.shape[d] if a.ndim else 1
    bad = _out_of_range(idx, size)
    if bad is not None:
        if ia.dtype == np.int64 and a.ndim:
            raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size "
                               f"{size}")
        raise IndexError("index out of range in self")
    src = source if alpha == 1 else source * alpha
    key = _slice_key(d, idx) if a.ndim else (Ellipsis,)
    r = ScatterAccumulate.apply(input, src, key=key, name="IndexAddBackward0")
    return r if out is None else write_out(out, r)


_INDEX_REDUCE_WARNED = []


def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """Reduce slice source[k] into slice index[k] of input along dim: 'prod', 'mean' (integer
    means round down), 'amax' or 'amin'; include_self=False leaves input's own slice out where
    one is written. Negative indices are out of range here (unlike index_add). Gradients as
    scatter_reduce's: amax/amin share the gradient evenly among the tied values."""
    if not _INDEX_REDUCE_WARNED:   # torch warns once per process
        import warnings
        _INDEX_REDUCE_WARNED.append(True)
        warnings.warn("index_reduce() is in beta and the API may change at any time.",
                      UserWarning, stacklevel=2)
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    d = _dim_of(input, dim)
    a, s = input._data, source._data
    if not isinstance(index, Tensor):
        raise TypeError(f"index_reduce(): argument 'index' must be Tensor, not "
                        f"{type(index).__name__}")
    ia = index._data
    if ia.dtype not in (np.int32, np.int64):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{index.dtype._legacy}")
    if ia.ndim > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: "
                         f"{ia.ndim} with type: {index.dtype._legacy} and size: "
                         f"{list(ia.shape)}")
    if s.dtype != a.dtype:
        raise RuntimeError(f"index_reduce_(): self ({input.dtype._legacy}) and source "
                           f"({source.dtype._legacy}) must have the same scalar type")
    if s.ndim != a.ndim or any(s.shape[k] != a.shape[k] for k in range(a.ndim) if k != d):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(a.shape)} "
                           f"source.shape = {list(s.shape)}")
    idx = ia.reshape(-1)
    n = s.shape[d] if s.ndim else 1
    if idx.size != n:
        raise RuntimeError(f"index_reduce_(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim): ({n}), for dim: {d}")
    size = a.shape[d] if a.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise IndexError("index out of range in self")
    if a.dtype.kind not in "iuf" and a.dtype.name != "bfloat16":
        if a.ndim <= 1:
            raise NotImplementedError(f'"index_func_" not implemented for '
                                      f"'{input.dtype._legacy}'")
        raise NotImplementedError(f"index_reduce of {input.dtype} tensors is not supported by "
                                  f"ember (torch reduces multi-dim ones)")
    if a.ndim == 0:   # a 0-d tensor acts as a 1-element vector
        r = index_reduce(input.reshape(1), 0, index.reshape(-1), source.reshape(1), reduce,
                         include_self=include_self).reshape(())
        return r if out is None else write_out(out, r)
    r = ScatterReduce.apply(input, source, key=_slice_key(d, idx), reduce=reduce,
                            include_self=include_self, name="IndexReduceBackward0")
    return r if out is None else write_out(out, r)


def index_copy(input, dim, index, source, *, out=None):
    """out = input with slice index[k] along dim replaced by source[k] (index int64, no
    negative indices)."""
    d = _dim_of(input, dim)
    a = input._data
    _tensor_arg(index, "index_copy", "index", 2)
    _tensor_arg(source, "index_copy", "source", 3)
    ia, s_ = index._data, source._data
    idx = _vector_index(index, "index_copy", lambda: RuntimeError(
        f"index_copy_(): Expected a long tensor for index, but got {index.dtype._legacy}"),
        lambda: IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got "
                           f"{ia.ndim})"), int64_only=True)
    if a.ndim and s_.ndim and a.ndim != s_.ndim:
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({s_.ndim}), "
                         f"destination dimensionality ({a.ndim})")
    n = s_.shape[d] if s_.ndim else 1
    if n != idx.size:
        raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to "
                         f"source.size(dim) ({n})")
    dst_slice = a.shape[:d] + a.shape[d + 1:]
    src_slice = s_.shape[:d] + s_.shape[d + 1:]
    if a.ndim and dst_slice != src_slice:
        raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice "
                           f"shapes. Destination slice shape: {' '.join(map(str, dst_slice))} "
                           f"at dimension {d} and source slice shape: "
                           f"{' '.join(map(str, src_slice))} at dimension 0.")
    if s_.dtype != a.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {_dtype.from_numpy_dtype(a.dtype)._legacy} and "
                           f"(source) {source.dtype._legacy}")
    size = a.shape[d] if a.ndim else 1
    bad = _out_of_range(idx, size)
    if bad is not None:
        raise IndexError(f"index_copy_(): index {bad} is out of bounds for dimension {d} with "
                         f"size {size}")
    key = _slice_key(d, idx) if a.ndim else (Ellipsis,)
    r = IndexPut.apply(input, source, key=key, name="IndexCopyBackward0")
    return r if out is None else write_out(out, r)


def index_fill(input, dim, index, value):
    """out = input with every slice index[k] along dim set to value (a number or 0-d tensor,
    which then gets the sum of the filled positions' gradient). index is int64; negative
    indices count from the end."""
    d = _dim_of(input, dim)
    a = input._data
    idx = _vector_index(index, "index_fill", lambda: IndexError(
        "index_fill_(): Expected dtype int64 for index."),
        lambda: RuntimeError("Index has to be a vector/scalar"), int64_only=True)
    size = a.shape[d] if a.ndim else 1
    bad = _out_of_range(idx, size, negative_ok=True)
    if bad is not None:
        raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {size}")
    _check_fill_value(value, a.dtype, "index_fill", "index_fill_(): Converting complex Scalar "
                      "to non-complex type is not supported")
    # unique: a repeated index fills once, so the value's gradient counts it once
    idx = np.unique(idx % max(size, 1))
    key = _slice_key(d, idx) if a.ndim else (Ellipsis,)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        v = value if value._data.dtype == a.dtype else value.to(input.dtype)
        return IndexPut.apply(input, v, key=key, name="IndexFillBackward1")
    return IndexPut.apply(input, _value_array(value, a.dtype), key=key,
                          name="IndexFillBackward0")


def _check_fill_value(value, npd, fn, complex_message=None):
    """A fill value (fill_, masked_fill, index_fill, scatter's value): a number or a tensor;
    a Python number must fit npd (torch's overflow check); a complex one into a real tensor
    raises `complex_message` where torch words it so."""
    tv = type(value)
    if tv is float or tv is int:
        _check_scalar(value, npd)
        return
    if isinstance(value, Tensor):
        if value._data.dtype.kind == "c" and npd.kind != "c":
            raise RuntimeError(complex_message or f"value cannot be converted to type "
                               f"{_C_NAMES.get(npd.name, npd.name)} without overflow")
        return
    if not isinstance(value, _NUMBERS):
        raise TypeError(f"{fn}() received an invalid combination of arguments - got "
                        f"{type(value).__name__} for the value, but expected a Number or a "
                        f"Tensor")
    if complex_message and isinstance(value, (complex, np.complexfloating)) and \
            npd.kind != "c":
        raise RuntimeError(complex_message)
    _check_scalar(value, npd)


def _indices_key(input, indices):
    """A torch indices tuple (tensors or None) as a NumPy key, with getitem's checks."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be tuple of Tensors")
    for i, x in enumerate(indices):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(x).__name__}")
    key = tuple(indices)
    npkey, _ = _convert_key(key, input._data.shape)
    return npkey


def index_put(input, indices, values, accumulate=False):
    """out = input with out[indices] = values (or += with accumulate=True, where repeated
    indices add up). values broadcast to the indexed shape and must share input's dtype."""
    _tensor_arg(values, "index_put", "values", 2)
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{input.dtype._legacy} for the destination and "
                           f"{values.dtype._legacy} for the source.")
    key = _indices_key(input, indices)
    dst_shape = np.empty(input._data.shape, np.bool_)[key].shape
    try:
        np.broadcast_to(np.empty(values._data.shape, np.bool_), dst_shape)
    except ValueError:
        raise RuntimeError(_setitem_message(dst_shape, values._data.shape)) from None
    if accumulate:
        return ScatterAccumulate.apply(input, values, key=key, name="IndexPutBackward0")
    return IndexPut.apply(input, values, key=key)


def _flat_key(index, shape, fn):
    """np.unravel_index of a flat index tensor, with torch's range check."""
    a = index._data
    if a.dtype != np.int64:
        raise RuntimeError(f"{fn}(): Expected a long tensor for index, but got "
                           f"{index.dtype._legacy}")
    n = math.prod(shape)
    if a.size and ((a < -n) | (a >= n)).any():
        bad = a[(a < -n) | (a >= n)].flat[0]
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         f"elements.")
    return np.unravel_index(np.where(a < 0, a + n, a), shape)


def take(input, index):
    """input viewed as 1-D, read at index; the result has index's shape."""
    _tensor_arg(index, "take", "index", 1)
    if input._data.size == 0 and index._data.size:
        raise IndexError("take(): tried to take from an empty tensor")
    key = _flat_key(index, input._data.shape, "take")
    if input._data.ndim == 0:
        return Index.apply(input.reshape(1), key=(index._data * 0,), name="TakeBackward0")
    return Index.apply(input, key=key, name="TakeBackward0")


def put(input, index, source, accumulate=False):
    """out = input (viewed 1-D) with out[index] = source (+= with accumulate)."""
    _tensor_arg(index, "put", "index", 1)
    _tensor_arg(source, "put", "source", 2)
    if source._data.size != index._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source._data.size}, "
                         f"index.numel() = {index._data.size}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {input.dtype._legacy} and source.dtype = "
                           f"{source.dtype._legacy}")
    shape = input._data.shape
    if input._data.size == 0 and index._data.size:
        raise IndexError("put_(): Tried to put elements into an empty tensor")
    key = _flat_key(index, shape, "put_")
    src = source.reshape(index._data.shape)
    if input._data.ndim == 0:
        key = (Ellipsis,)
        src = src.reshape(-1).sum() if accumulate else src.reshape(-1)[-1] if \
            src._data.size else None
        if src is None:
            return Index.apply(input, key=(Ellipsis,), name="PutBackward0")
    if accumulate:
        return ScatterAccumulate.apply(input, src, key=key, name="PutBackward0")
    return IndexPut.apply(input, src, key=key, name="PutBackward0")


def take_along_dim(input, indices, dim=None, *, out=None):
    """gather with broadcasting: input and indices broadcast except along dim. dim=None reads
    the flattened input at the flattened indices."""
    idx = indices._data
    if idx.dtype != np.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{indices.dtype._legacy}")
    if dim is None:
        r = gather(input.reshape(-1), 0, indices.reshape(-1))
        return r if out is None else write_out(out, r)
    a = input._data
    if a.ndim != idx.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {a.ndim} dimensions for input, and "
                           f"{idx.ndim} dimensions for indices")
    d = _wrap_dim(dim, max(a.ndim, 1))
    shp = list(np.broadcast_shapes(a.shape[:d] + (1,) + a.shape[d + 1:],
                                   idx.shape[:d] + (1,) + idx.shape[d + 1:]))
    in_shape = shp[:d] + [a.shape[d]] + shp[d + 1:]
    ix_shape = shp[:d] + [idx.shape[d]] + shp[d + 1:]
    x = input if list(a.shape) == in_shape else input.expand(*in_shape)
    ix = indices if list(idx.shape) == ix_shape else indices.expand(*ix_shape)
    r = gather(x, d, ix)
    return r if out is None else write_out(out, r)


# ---------------------------------------------------------------------------------------------
# masked_* and nonzero

_C_TYPE = {"Byte": "unsigned char", "Char": "signed char", "Short": "short int",
           "Int": "int", "Long": "long int", "Half": "c10::Half", "BFloat16": "c10::BFloat16",
           "ComplexFloat": "c10::complex<float>", "ComplexDouble": "c10::complex<double>"}


def _bool_mask(mask, fn):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{fn.rstrip('_')}(): argument 'mask' (position 1) must be Tensor, not "
                        f"{type(mask).__name__}")
    if mask._data.dtype != np.bool_:
        legacy = mask.dtype._legacy
        if fn == "masked_select":
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        if fn == "masked_scatter_":   # (torch names the dtype its legacy way here)
            raise RuntimeError(f"{fn} only supports boolean masks, but got mask with dtype "
                               f"{legacy}")
        raise RuntimeError(f"{fn} only supports boolean masks, but got mask with dtype "
                           f"{_C_TYPE.get(legacy, legacy.lower())}")
    return mask._data


def _broadcast_pair(input, m, fn):
    try:
        shape = np.broadcast_shapes(input._data.shape, m.shape)
    except ValueError:
        b, a = input._data.shape, m.shape   # (torch names the mask tensor a)
        nd = max(len(a), len(b))
        pa, pb = (1,) * (nd - len(a)) + a, (1,) * (nd - len(b)) + b
        k = next(k for k in range(nd - 1, -1, -1) if pa[k] != pb[k] and 1 not in (pa[k], pb[k]))
        raise RuntimeError(f"The size of tensor a ({pa[k]}) must match the size of tensor b "
                           f"({pb[k]}) at non-singleton dimension {k}") from None
    x = input if input._data.shape == shape else input.expand(*shape)
    m = m if m.shape == shape else np.broadcast_to(m, shape)
    return x, m


def masked_fill(input, mask, value):
    """out = input with value where mask is True (mask broadcasts; value is cast to input's
    dtype; a 0-d tensor value gets the sum of the filled positions' gradient)."""
    m = _bool_mask(mask, "masked_fill_")
    x, m = _broadcast_pair(input, m, "masked_fill")
    _check_fill_value(value, x._data.dtype, "masked_fill")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value._data.ndim} dimension(s).")
        v = value if value._data.dtype == x._data.dtype else value.to(input.dtype)
        return IndexPut.apply(x, v, key=m, name="MaskedFillBackward0")
    return IndexPut.apply(x, _value_array(value, x._data.dtype), key=m,
                          name="MaskedFillBackward0")


def masked_select(input, mask, *, out=None):
    """The elements of input (broadcast with mask) where mask is True, as a 1-D tensor."""
    m = _bool_mask(mask, "masked_select")
    x, m = _broadcast_pair(input, m, "masked_select")
    r = Index.apply(x, key=m, name="MaskedSelectBackward0")
    return r if out is None else write_out(out, r)


def masked_scatter(input, mask, source):
    """out = input with the positions where mask is True filled, in row-major order, by the
    first elements of source."""
    m = _bool_mask(mask, "masked_scatter_")
    _tensor_arg(source, "masked_scatter", "source", 2)
    x, m = _broadcast_pair(input, m, "masked_scatter")
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got{input.dtype._legacy} and {source.dtype._legacy}")
    n = int(np.count_nonzero(m))
    if source._data.size < n:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    src = source.reshape(-1)
    if src._data.size != n:
        src = src[:n]
    return IndexPut.apply(x, src, key=m, name="MaskedScatterBackward0")


def nonzero(input, *, out=None, as_tuple=False):
    """Indices of the non-zero elements: an int64 (n, ndim) tensor, or with as_tuple=True one
    1-D tensor per dim (0-d inputs act as 1-D)."""
    a = input._data
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64, copy=False))
                     for i in np.nonzero(a.reshape(-1) if a.ndim == 0 else a))
    if a.ndim == 0:
        r = Tensor._make(np.zeros((1 if a else 0, 0), np.int64))
    else:
        r = Tensor._make(np.argwhere(a).astype(np.int64, copy=False))
    return r if out is None else write_out(out, r)


def argwhere(input):
    return nonzero(input)


def nonzero_static(input, *, size, fill_value=-1, out=None):
    """nonzero() with a fixed number of rows: the first `size` index rows, padded with rows of
    fill_value when there are fewer non-zeros. A 0-d input gives (size, 0)."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"nonzero_static(): argument 'size' must be int, not "
                        f"{type(size).__name__}")
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    a = input._data
    nd = a.ndim
    found = np.argwhere(a) if nd else np.zeros((1 if a else 0, 0), np.int64)
    r = np.full((size, nd), fill_value, np.int64)
    k = min(size, found.shape[0])
    r[:k] = found[:k]
    r = Tensor._make(r)
    return r if out is None else write_out(out, r)


# ---------------------------------------------------------------------------------------------
# In-place variants: compute out of place, then write into self (recording history)

def _make_inplace(fn):
    def method(self, *args, **kwargs):
        return inplace(self, fn(self, *args, **kwargs))
    method.__name__ = fn.__name__ + "_"
    return method


def _masked_fill_(self, mask, value):
    """In place without grad: a direct masked write (the attention-mask hot path)."""
    if not (_grad_state.enabled and (self._requires_grad or isinstance(value, Tensor) and
                                     value._requires_grad)):
        m = _bool_mask(mask, "masked_fill_")
        _check_fill_value(value, self._data.dtype, "masked_fill_")
        if isinstance(value, Tensor):
            if value._data.ndim:
                raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, "
                                   f"but got tensor with {value._data.ndim} dimension(s).")
            value = value._data
        a = self._data
        if m.shape != a.shape:
            _check_inplace_broadcast(a.shape, m.shape)
            m = np.broadcast_to(m, a.shape)
        check_inplace(self)
        if not a.flags.writeable:   # an expanded tensor: torch writes through it
            a = _writable_alias(a)
            if a is None:
                write(self, self._data)   # raises
        a[m] = value
        self._vc.value += 1
        return self
    _check_inplace_broadcast(self._data.shape, _bool_mask(mask, "masked_fill_").shape)
    return inplace(self, masked_fill(self, mask, value))


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


def _scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    src = _scatter_src(src, value, self._data, "scatter_")
    if not (_grad_state.enabled and (self._requires_grad or isinstance(src, Tensor) and
                                     src._requires_grad)):
        # no graph: write straight into self (the one-hot idiom's hot path)
        a = self._data
        if a.ndim and reduce is None:
            idx = _index_array(index, "scatter_")
            d = _wrap_dim(dim, a.ndim)
            is_t = isinstance(src, Tensor)
            if is_t and src._data.dtype != a.dtype:
                raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
            _check_along("scatter", a.shape, idx, d, src._data.shape if is_t else None, "self")
            check_inplace(self)
            if not a.flags.writeable:
                write(self, a)
            key = _along(idx, d, a.ndim)
            a[key] = src._data[tuple(slice(0, n) for n in idx.shape)] if is_t else \
                _value_array(src, a.dtype)
            self._vc.value += 1
            return self
    return inplace(self, scatter(self, dim, index, src, reduce=reduce))




Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem
Tensor.copy_, Tensor.fill_, Tensor.zero_ = copy_, fill_, zero_
Tensor.gather, Tensor.scatter, Tensor.scatter_ = gather, scatter, _scatter_
Tensor.scatter_add, Tensor.scatter_add_ = scatter_add, _make_inplace(scatter_add)
Tensor.scatter_reduce, Tensor.scatter_reduce_ = scatter_reduce, _make_inplace(scatter_reduce)
Tensor.index_select, Tensor.index_add, Tensor.index_add_ = (index_select, index_add,
                                                           _make_inplace(index_add))
Tensor.index_copy, Tensor.index_copy_ = index_copy, _make_inplace(index_copy)
Tensor.index_fill, Tensor.index_fill_ = index_fill, _make_inplace(index_fill)
Tensor.index_put, Tensor.index_put_ = index_put, _make_inplace(index_put)
Tensor.put, Tensor.put_, Tensor.take = put, _make_inplace(put), take
Tensor.take_along_dim = take_along_dim
Tensor.masked_fill, Tensor.masked_fill_ = masked_fill, _masked_fill_
Tensor.masked_select = masked_select
Tensor.masked_scatter, Tensor.masked_scatter_ = masked_scatter, _make_inplace(masked_scatter)
Tensor.nonzero, Tensor.argwhere, Tensor.nonzero_static = nonzero, argwhere, nonzero_static
Tensor.index_reduce, Tensor.index_reduce_ = index_reduce, _make_inplace(index_reduce)
