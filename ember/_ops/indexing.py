"""Indexing and assignment: `x[key]`, `x[key] = v`, copy_, fill_, zero_.

Basic keys (ints, slices with positive steps, None, Ellipsis) give views; keys with integer or
bool tensors, lists or arrays ("advanced" indexing) give copies, with torch's (= NumPy's) rules
for where the indexed dims land. Index backward accumulates repeated indices.
"""
import numpy as np

from ember._ops._helpers import check_inplace, inplace, write
from ember._ops.shape import ViewFn
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = []

_BASIC = (int, slice, type(None), type(Ellipsis))


def _convert_key(key, shape):
    """(numpy key, is_basic, none_positions) from a torch-style key."""
    if not isinstance(key, tuple):
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
            out.append(k)
        elif isinstance(k, Tensor):
            a = k._data
            if a.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            if a.ndim == 0 and a.dtype.kind in "iu":
                out.append(int(a))     # a 0-d integer tensor indexes like an int
            else:
                out.append(a)
                basic = False
        elif isinstance(k, (np.integer,)):
            out.append(int(k))
        elif isinstance(k, (list, np.ndarray)) or hasattr(k, "__index__") is False and \
                hasattr(k, "__len__"):
            a = np.asarray([x.item() if isinstance(x, Tensor) else x for x in k] if isinstance(
                k, list) else k)
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
    _check_bounds(out, shape)
    return tuple(out), basic


def _convert_slice(s):
    start, stop, step = (x.__index__() if x is not None and not isinstance(x, int) else x
                         for x in (s.start, s.stop, s.step))
    if step is not None and step <= 0:
        raise ValueError("step must be greater than zero")
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


def _basic_fn(key):
    """fn(array) -> the view x[key], with torch's strides for dims added by None."""
    if Ellipsis not in key:
        key = key + (Ellipsis,)   # ints for every dim: a 0-d view, not a NumPy scalar
    if not any(k is None for k in key):
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

    def forward(ctx, a, *, key, name="IndexBackward0"):
        ctx.key, ctx.in_shape, ctx._name = key, a.shape, name
        return a[key]

    def backward(ctx, grad):
        return IndexPutAccumulate.apply(grad, key=ctx.key, shape=ctx.in_shape)

    def name(self):
        return self._name


class IndexPutAccumulate(ArrayFunction):
    def forward(ctx, grad, *, key, shape):
        ctx.key = key
        z = np.zeros(shape, grad.dtype)
        np.add.at(z, key, grad)
        return z

    def backward(ctx, grad):
        return Index.apply(grad, key=ctx.key)


def getitem(self, key):
    a = self._data
    if a.ndim == 0 and key is not None and key is not Ellipsis and not (
            isinstance(key, tuple) and all(k is None or k is Ellipsis for k in key)):
        if not isinstance(key, (Tensor, bool)):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    npkey, basic = _convert_key(key, a.shape)
    if basic:
        if isinstance(key, int) or (type(key) is tuple and all(type(k) is int for k in key)):
            name = "SelectBackward0"
        else:
            name = "SliceBackward0"
        return ViewFn.apply(self, fn=_basic_fn(npkey), name=name)
    return Index.apply(self, key=npkey)


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
    npkey, _ = _convert_key(key, a.shape)
    record = _grad_state.enabled and (self._requires_grad or (
        isinstance(value, Tensor) and value._requires_grad))
    if not record:
        check_inplace(self)
        v = value._data if isinstance(value, Tensor) else np.asarray(value)
        if not a.flags.writeable:
            write(self, a)   # raises torch's error for broadcast (overlapping) tensors
        try:
            a[npkey] = v
        except ValueError as e:
            raise RuntimeError(_setitem_message(a[npkey].shape, v.shape)) from e
        self._vc.value += 1
        return
    if not isinstance(value, Tensor):
        value = Tensor._make(np.asarray(value, dtype=a.dtype))
    elif value._data.dtype != a.dtype:
        value = value.to(self.dtype)
    inplace(self, IndexPut.apply(self, value, key=npkey))


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
        return None, grad

    def name(self):
        return "CopyBackwards"


def copy_(self, src, non_blocking=False):
    """Copy src's values into self (broadcasting, casting); gradients flow to src."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(src).__name__}")
    a = self._data
    try:
        np.broadcast_shapes(src._data.shape, a.shape)
        if len(src._data.shape) > len(a.shape) and np.broadcast_shapes(src._data.shape,
                                                                         a.shape) != a.shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({a.shape[-1] if a.ndim else 1}) must match "
                           f"the size of tensor b ({src._data.shape[-1]}) at non-singleton "
                           f"dimension {max(a.ndim - 1, 0)}") from None
    if _grad_state.enabled and (self._requires_grad or src._requires_grad):
        return inplace(self, CopyFrom.apply(self, src))
    check_inplace(self)
    if not a.flags.writeable:
        write(self, a)
    np.copyto(a, src._data, casting="unsafe")
    self._vc.value += 1
    return self


def fill_(self, value):
    if isinstance(value, Tensor):
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
    self._data.fill(value) if self._data.flags.writeable else write(self, self._data)
    self._vc.value += 1
    return self


def zero_(self):
    return fill_(self, 0)


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem
Tensor.copy_, Tensor.fill_, Tensor.zero_ = copy_, fill_, zero_
