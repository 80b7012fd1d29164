"""Shape ops and views: view, reshape, transpose, permute, expand, squeeze, narrow, select,
diagonal, unfold, as_strided, contiguous, clone; and the history rewrite for in-place ops on views.

A view op's forward returns a NumPy view of its input (`_view = True`), so the output shares
memory and the version counter with its base, as in torch. Stride values follow torch's rules
(NumPy picks other strides for size-1 dims in a few places; those are mended with as_strided).
"""
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided as _np_as_strided

from ember._ops._helpers import c_copy
from ember._tensor import (Tensor, _is_contiguous, _root, _address, _wrap_dim,
                           _int_tuple)
from ember.autograd.function import ArrayFunction, rename_node, rename_result
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose", "swapaxes",
           "swapdims", "permute", "t", "narrow", "select", "diagonal", "as_strided", "clone",
           "unbind", "movedim", "moveaxis", "adjoint", "expand_copy", "alias_copy",
           "as_strided_copy", "detach_copy", "diagonal_copy", "narrow_copy", "permute_copy",
           "select_copy", "slice_copy", "split_copy", "split_with_sizes_copy", "squeeze_copy",
           "t_copy", "transpose_copy", "unbind_copy", "unfold_copy", "unsqueeze_copy",
           "view_as_real_copy", "view_as_complex_copy", "view_copy", "as_strided_"]


def _shape_arg(shape, fn="view", name="size"):
    """Sizes given as varargs `view(2, 3)` or one sequence `view((2, 3))`; anything but ints
    (and integer-likes) is torch's TypeError."""
    seq = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    for s in seq:
        if type(s) is not int:
            return _int_tuple(shape, fn, name)
    return tuple(seq)


def _infer_size(shape, numel):
    """Resolve one -1 in `shape` for `numel` elements, with torch's errors."""
    shape = list(shape)
    infer = None
    known = 1
    for i, s in enumerate(shape):
        if type(s) is not int:
            shape = list(_shape_arg(tuple(shape)))   # raises for a float; converts tensors
            s = shape[i]
        if s == -1:
            if infer is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {shape}")
        else:
            known *= s
    if infer is not None:
        if known == 0 or numel % known:
            if known == 0 and numel == 0:
                raise RuntimeError(f"cannot reshape tensor of {numel} elements into shape "
                                   f"{list(shape)} because the unspecified dimension size -1 "
                                   f"can be any value and is ambiguous")
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[infer] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def _torch_view_strides(a, shape):
    """The strides (bytes) torch's computeStride gives a view of `a` with `shape`, or None."""
    old_shape, old_strides = a.shape, a.strides
    item = a.itemsize
    if a.size == 0 or not shape:
        return _contiguous_strides(shape, item) if a.size == 0 or not shape else None
    new_strides = [0] * len(shape)
    view_d = len(shape) - 1
    chunk_base_stride = old_strides[-1] if old_strides else item
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


def _contiguous_strides(shape, item):
    strides = []
    acc = item
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(strides))


def _restride(a, shape, strides):
    """A view of `a` with exactly these shape and (byte) strides, starting at a's first element."""
    if a.shape == tuple(shape) and a.strides == tuple(strides):
        return a
    try:
        v = np.reshape(a, shape, copy=False)
        if v.strides == tuple(strides):
            return v
    except ValueError:
        pass
    return _np_as_strided(a, shape, strides, writeable=a.flags.writeable)


# ---------------------------------------------------------------------------------------------
# View ops

class View(ArrayFunction):
    _view = True

    def forward(ctx, a, *, shape):
        ctx.in_shape = a.shape   # needed by backward only, but cheaper than testing
        if a.flags.c_contiguous:
            return a.reshape(shape)   # NumPy's strides for a contiguous reshape are torch's
        strides = _torch_view_strides(a, shape)
        if strides is None:
            raise RuntimeError("view size is not compatible with input tensor's size and stride "
                               "(at least one dimension spans across two contiguous subspaces). "
                               "Use .reshape(...) instead.")
        return _restride(a, shape, strides)

    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class UnsafeView(ArrayFunction):
    """reshape's copying path: a contiguous copy viewed with the new shape."""

    def forward(ctx, a, *, shape):
        ctx.in_shape = a.shape
        return (a if a.flags.c_contiguous else c_copy(a)).reshape(shape)

    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


def view(self, *shape):
    if len(shape) == 1 and not isinstance(shape[0], int):
        if isinstance(shape[0], _dtype_cls()):
            return _view_dtype(self, shape[0])
        shape = _shape_arg(shape)
    try:
        infer = shape and min(shape) < 0
    except TypeError:   # (None, a string...): torch's TypeError
        shape = _shape_arg(shape)
        infer = shape and min(shape) < 0
    if infer:
        shape = _infer_size(shape, self._data.size)
    elif type(n := math.prod(shape)) is not int:   # a float, a tensor...: parse or raise
        return view(self, *_shape_arg(shape))
    elif n != self._data.size:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size "
                           f"{self._data.size}")
    a = self._data
    if a.flags.c_contiguous and not (self._requires_grad and _grad_state.enabled):
        return self._view_of(a.reshape(shape))   # the hot path: nothing to record
    return View.apply(self, shape=shape)


def _dtype_cls():
    from ember._dtype import dtype
    return dtype


def _view_dtype(self, dt):
    a = self._data
    if dt.itemsize != a.itemsize:
        _check_view_dtype(self, dt)
    return self._view_of(a.view(dt.np))


def _check_view_dtype(self, dt):
    """torch's conditions for viewing a tensor as a dtype of another element size."""
    a = self._data
    what = f"to view {self.dtype._legacy} as {dt._legacy} (different element sizes)"
    if a.ndim == 0:
        raise RuntimeError(f"self.dim() cannot be 0 {what}")
    if dt.itemsize > a.itemsize:
        ratio = dt.itemsize // a.itemsize
        if a.shape[-1] % ratio:
            raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but got "
                               f"{a.shape[-1]}")
    if self.stride(-1) != 1:
        raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {self.stride(-1)}")
    if dt.itemsize > a.itemsize:
        if self.storage_offset() % ratio:
            raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {what}, "
                               f"but got {self.storage_offset()}")
        for d, st in enumerate(self.stride()[:-1]):
            if st % ratio:
                raise RuntimeError(f"self.stride({d}) must be divisible by {ratio} {what}, "
                                   f"but got {st}")


def reshape(input, *shape):
    """A view when the layout allows it (as `view`), else a copy. torch's nodes: a view of a
    contiguous tensor (ViewBackward0), of another viewable one (ReshapeAliasBackward0), or a
    contiguous copy (CloneBackward0) viewed (UnsafeViewBackward0)."""
    shape = _infer_size(_shape_arg(shape, "reshape", "shape"), input._data.size)
    a = input._data
    if a.flags.c_contiguous:
        if not (input._requires_grad and _grad_state.enabled):
            return input._view_of(a.reshape(shape))   # the hot path: nothing to record
        return View.apply(input, shape=shape)
    if _torch_view_strides(a, shape) is not None:
        return rename_result(View.apply(input, shape=shape), "ReshapeAliasBackward0")
    if not (input._requires_grad and _grad_state.enabled):
        return UnsafeView.apply(input, shape=shape)   # (one copy, nothing to record)
    return UnsafeView.apply(input.contiguous(), shape=shape)


def view_as(self, other):
    return view(self, other.shape)


def reshape_as(self, other):
    return reshape(self, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    nd = input._data.ndim
    s, e = _wrap_dim(start_dim, nd), _wrap_dim(end_dim, nd)
    if nd == 0:
        return reshape(input, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input._data.shape
    return reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim, sizes):
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape))
    sizes = _int_tuple((sizes,), "unflatten", "sizes", 2)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if not shape:
        raise RuntimeError("unflatten got an unexpected error:\nDimension specified as 0 but "
                           "tensor has no dimensions")
    if -1 in sizes or min(sizes) < 0:
        try:
            sizes = _infer_size(sizes, shape[d])
        except RuntimeError as e:
            if "is invalid for input" not in str(e):   # (else: the message below)
                raise RuntimeError(f"unflatten got an unexpected error:\n{e}") from None
    if math.prod(sizes) != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[d]}) in the input tensor")
    return view(input, shape[:d] + sizes + shape[d + 1:])


class Transpose(ArrayFunction):
    _view = True
    _name = "TransposeBackward0"   # t() records torch's TBackward0

    def forward(ctx, a, *, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return np.swapaxes(a, dim0, dim1)

    def backward(ctx, grad):
        if not _grad_state.enabled:   # first order: the swapped view, no op to dispatch
            return Tensor._make(np.swapaxes(grad._data, *ctx.dims))
        return grad.transpose(*ctx.dims)

    def name(self):
        return self._name


def transpose(input, dim0, dim1):
    nd = input._data.ndim
    d0, d1 = _wrap_dim(dim0, nd), _wrap_dim(dim1, nd)
    if nd == 0:   # dims 0 / -1 of a 0-d tensor: itself
        return _alias(input, "TransposeBackward0")
    return Transpose.apply(input, dim0=d0, dim1=d1)


swapaxes = swapdims = transpose


def t(input):
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    if nd < 2:   # a view of the same shape, recorded as torch's t()
        return _alias(input, "TBackward0")
    return rename_result(Transpose.apply(input, dim0=0, dim1=1), "TBackward0")


class Permute(ArrayFunction):
    _view = True

    def forward(ctx, a, *, dims):
        ctx.dims = dims
        return np.transpose(a, dims)

    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return grad.permute(inverse)


def permute(input, *dims):
    dims = _shape_arg(dims, "permute", "dims")
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(): number of dimensions in the tensor input does not match "
                           f"the length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{nd} is not equal to len(dims) = {len(dims)}")
    wrapped = tuple(_wrap_dim(d, nd) for d in dims)
    if len(set(wrapped)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims=wrapped)


def movedim(input, source, destination):
    nd = input._data.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    wsrc = [_wrap_dim(d, nd) for d in src]
    wdst = [_wrap_dim(d, nd) for d in dst]
    for what, given, wrapped in (("source", src, wsrc), ("destination", dst, wdst)):
        if len(set(wrapped)) != len(wrapped):
            raise RuntimeError(f"movedim: repeated dim in `{what}` ({list(given)})")
    src, dst = wsrc, wdst
    if nd == 0:
        return _alias(input, "PermuteBackward0")
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return Permute.apply(input, dims=tuple(order))


moveaxis = movedim


class Expand(ArrayFunction):
    """Broadcast to a larger shape (stride 0); backward is the engine's sum back to size."""
    _view = True

    def forward(ctx, a, *, shape):
        out = np.broadcast_to(a, shape)
        lead = len(shape) - a.ndim
        strides = out.strides[:lead] + tuple(
            st if n == m else 0 for st, n, m in zip(a.strides, a.shape, shape[lead:]))
        if strides != out.strides:   # torch keeps the stride of a size-1 dim it doesn't expand
            out = _np_as_strided(a, shape, strides, writeable=False)
        return out

    def backward(ctx, grad):
        return grad


def expand(self, *sizes):
    sizes = _shape_arg(sizes, "expand")
    shape = self._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand(torch.{self.dtype._legacy}Tensor"
                           f"{{[{', '.join(map(str, shape))}]}}, "
                           f"size=[{', '.join(map(str, sizes))}]): the number of sizes provided "
                           f"({len(sizes)}) must be greater or equal to the number of dimensions "
                           f"in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s == -1:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            target.append(s)
        else:
            old = shape[i - lead]
            if s == -1:
                s = old
            elif old != 1 and s != old:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the "
                                   f"existing size ({old}) at non-singleton dimension {i}.  "
                                   f"Target sizes: [{', '.join(map(str, sizes))}].  Tensor "
                                   f"sizes: [{', '.join(map(str, shape))}]")
            target.append(s)
    target = tuple(target)
    if target == shape:
        return Expand.apply(self, shape=target) if self._requires_grad else self._view_of(
            self._data)
    return Expand.apply(self, shape=target)


def expand_as(self, other):
    return expand(self, other.shape)


class Reshape(ArrayFunction):
    """Squeeze / unsqueeze: a view that only adds or drops size-1 dims."""
    _view = True
    _name = "ViewBackward0"   # squeeze()/unsqueeze() set torch's name on the node

    def forward(ctx, a, *, shape, strides):
        ctx.in_shape = a.shape
        return _restride(a, shape, strides)

    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)

    def name(self):
        return self._name


def squeeze(input, dim=None):
    a = input._data
    if dim is None:
        dims = [i for i, s in enumerate(a.shape) if s == 1]
    else:
        dims = [_wrap_dim(d, a.ndim) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        if len(set(dims)) != len(dims):
            d = next(d for i, d in enumerate(dims) if d in dims[:i])
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        dims = [d for d in dims if a.ndim and a.shape[d] == 1]
    # torch's overloads: squeeze(), squeeze(dim), squeeze(dims)
    name = "SqueezeBackward" + ("0" if dim is None else "2" if isinstance(dim, (tuple, list))
                                else "1")
    if not dims:
        return _alias(input, name)
    keep = [i for i in range(a.ndim) if i not in dims]
    r = _reshape_view(input, tuple(a.shape[i] for i in keep), tuple(a.strides[i] for i in keep))
    rename_result(r, name)
    return r


def unsqueeze(input, dim):
    a = input._data
    d = _wrap_dim(dim, a.ndim + 1)
    stride = a.itemsize if d >= a.ndim else a.shape[d] * a.strides[d]
    r = _reshape_view(input, a.shape[:d] + (1,) + a.shape[d:],
                      a.strides[:d] + (stride,) + a.strides[d:])
    rename_result(r, "UnsqueezeBackward0")
    return r


def _reshape_view(input, shape, strides):
    return Reshape.apply(input, shape=shape, strides=strides)


def _alias(input, name):
    if input._requires_grad:
        r = Reshape.apply(input, shape=input._data.shape, strides=input._data.strides)
        rename_result(r, name)
        return r
    return input._view_of(input._data)


# --- views defined by a function of the array (slicing, select, diagonal, unfold, as_strided) ---

class ViewFn(ArrayFunction):
    """Output = fn(input array), a view. Backward scatters the gradient into zeros of the input's
    shape through the same fn (adding where windows overlap)."""
    _view = True

    def forward(ctx, a, *, fn, name, overlapping=False):
        if ctx.needs_input_grad[0]:   # only a recorded node needs to remember
            ctx.fn, ctx.in_shape, ctx._name, ctx.overlapping = fn, a.shape, name, overlapping
        return fn(a)

    def backward(ctx, grad):
        return ViewFnBackward.apply(grad, fn=ctx.fn, shape=ctx.in_shape,
                                    overlapping=ctx.overlapping)

    def name(self):
        return self._name


class ViewFnBackward(ArrayFunction):
    def forward(ctx, grad, *, fn, shape, overlapping):
        ctx.fn = fn
        z = np.zeros(shape, grad.dtype)
        if overlapping:
            idx = fn(np.arange(z.size).reshape(shape))
            np.add.at(z.reshape(-1), idx, grad)
        else:
            fn(z)[...] = grad
        return z

    def backward(ctx, grad):
        return ViewFn.apply(grad, fn=ctx.fn, name="ViewFnBackwardBackward0")


def _basic_view(input, fn, name, overlapping=False):
    return ViewFn.apply(input, fn=fn, name=name, overlapping=overlapping)


def narrow(input, dim, start, length):
    a = input._data
    if a.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, a.ndim)
    if isinstance(start, Tensor):
        if start._data.ndim or start._data.dtype.kind not in "iu":
            raise RuntimeError("start must be an 0-dim integral Tensor.")
        start = int(start)
    for name, v in (("start", start), ("length", length)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"narrow(): argument '{name}' must be int, not {type(v).__name__}")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    size = a.shape[d]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    key = (slice(None),) * d + (slice(start, start + length),)
    return _basic_view(input, lambda x: x[key], "SliceBackward0")


def _select_key(a, dim, index):
    """The index tuple of a.select(dim, index), with torch's IndexErrors (the trailing
    Ellipsis keeps a 0-d result a view)."""
    if type(index) is not int:
        from ember._tensor import _index_arg
        index = _index_arg(index, "index")
    if a.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, a.ndim)
    size = a.shape[d]
    if not (-size <= index < size):
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(a.shape)} at dimension {dim}")
    return (slice(None),) * d + (index, Ellipsis)


def select(input, dim, index):
    key = _select_key(input._data, dim, index)
    return _basic_view(input, lambda x: x[key], "SelectBackward0")


class Unbind(ArrayFunction):
    """The slices along dim, views of the input and all outputs of this one node (as torch
    records them). Backward stacks the gradients, zeros standing in for outputs unused."""
    _view = True

    def forward(ctx, a, *, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim   # (the trailing Ellipsis keeps a 0-d slice a view)
        return tuple(a[lead + (i, Ellipsis)] for i in range(a.shape[dim]))

    def backward(ctx, *grads):
        from ember._ops.manipulation import stack
        return stack(grads, ctx.dim)


def unbind(input, dim=0):
    a = input._data
    d = _wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
    return Unbind.apply(input, dim=d)


def _diagonal_view(x, offset, d1, d2):
    """Writable diagonal view (np.diagonal's is read-only)."""
    shape, strides = list(x.shape), list(x.strides)
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        length = max(0, min(n1, n2 - offset))
        start = offset * strides[d2] if length else 0
    else:
        length = max(0, min(n1 + offset, n2))
        start = -offset * strides[d1] if length else 0
    diag_stride = strides[d1] + strides[d2]
    new_shape = [s for i, s in enumerate(shape) if i not in (d1, d2)] + [length]
    new_strides = [s for i, s in enumerate(strides) if i not in (d1, d2)] + [diag_stride]
    base = x.reshape(-1)[start // x.itemsize:] if x.flags.c_contiguous and x.size else x
    if base is not x:
        return _np_as_strided(base, new_shape, new_strides, writeable=x.flags.writeable)
    # non-contiguous input: offset through a byte view of the first element
    return np.ndarray(new_shape, x.dtype, buffer=_buffer_of(x), offset=_offset_in_buffer(x) +
                      start, strides=new_strides) if length and x.size else np.zeros(
        new_shape, x.dtype)


def _buffer_of(x):
    return _root(x)


def _offset_in_buffer(x):
    return _address(x) - _address(_root(x))


def diagonal(input, offset=0, dim1=0, dim2=1):
    a = input._data
    d1, d2 = _wrap_dim(dim1, a.ndim), _wrap_dim(dim2, a.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _basic_view(input, lambda x: _diagonal_view(x, offset, d1, d2), "DiagonalBackward0")


def unfold(self, dimension, size, step):
    """All windows of `size` along `dimension`, `step` apart, as a new last dim (a view)."""
    a = self._data
    d = _wrap_dim(dimension, a.ndim) if a.ndim else 0
    length = a.shape[d] if a.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is "
                           f"{size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")

    def fn(x):
        if x.ndim == 0:
            return x.reshape(1)
        shape, strides = list(x.shape), list(x.strides)
        n = (shape[d] - size) // step + 1
        new_shape = shape[:d] + [n] + shape[d + 1:] + [size]
        new_strides = strides[:d] + [strides[d] * step] + strides[d + 1:] + [strides[d]]
        return _np_as_strided(x, new_shape, new_strides, writeable=x.flags.writeable)
    return _basic_view(self, fn, "UnfoldBackward0", overlapping=step < size)


def as_strided(input, size, stride, storage_offset=None):
    """A view with the given sizes and element strides over the tensor's storage."""
    a = input._data
    root = _root(a)
    item = a.itemsize
    offset = input.storage_offset() if storage_offset is None else storage_offset
    size = _int_tuple((size,), "as_strided", "size")
    stride = _int_tuple((stride,), "as_strided", "stride")
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if size and min(size) < 0:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    extent = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
    storage_len = root.nbytes // item
    if extent > storage_len:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{extent * item} are out of bounds for storage of size "
                           f"{storage_len * item}")
    if not root.flags.c_contiguous:
        raise NotImplementedError("as_strided over a non-contiguous NumPy storage")
    rel = offset - input.storage_offset()   # where the view starts, from the input's start
    overlapping = _overlaps(size, stride)

    def fn(x):
        # forward: the real storage; backward: a contiguous array standing in for the input
        buf, start = (root, offset) if x is a else (x, rel)
        return np.ndarray(size, x.dtype, buffer=buf, offset=start * x.itemsize,
                          strides=tuple(s * x.itemsize for s in stride))
    return _basic_view(input, fn, "AsStridedBackward0", overlapping=overlapping)


def _overlaps(size, stride):
    """Whether two indices of a (size, stride) view can reach the same element."""
    extent = 1
    for n, st in sorted(((n, st) for n, st in zip(size, stride) if n > 1), key=lambda p: p[1]):
        if st < extent:
            return True
        extent = st * (n - 1) + extent
    return False


# ---------------------------------------------------------------------------------------------
# Copies

class Clone(ArrayFunction):
    def forward(ctx, a, *, order):
        return c_copy(a) if order == "C" else np.array(a, order=order, copy=True)

    def backward(ctx, grad):
        return grad


def clone(input, *, memory_format=None):
    """A copy with the same strides (preserve_format), or contiguous / channels-last."""
    from ember import channels_last, contiguous_format
    order = "C" if memory_format is contiguous_format else "K"
    if memory_format is channels_last:
        return _to_channels_last(input)
    return Clone.apply(input, order=order)


def contiguous(self, memory_format=None):
    from ember import channels_last
    if memory_format is channels_last:
        return self if self.is_contiguous(memory_format=channels_last) else _to_channels_last(
            self)
    if _is_contiguous(self._data):
        return self
    return Clone.apply(self, order="C")


def _to_channels_last(t):
    a = t._data
    if a.ndim != 4:
        raise RuntimeError("required rank 4 tensor to use channels_last format")
    return permute(Clone.apply(permute(t, 0, 2, 3, 1), order="C"), 0, 3, 1, 2)


# ---------------------------------------------------------------------------------------------
# The *_copy variants: the view op, then a fresh contiguous copy (no memory shared). Their
# gradient is the view's; the copy's node carries torch's name, the view's with "_copy".

class CopyOf(ArrayFunction):
    """A contiguous copy of a view, recorded under the name of torch's fused node. Once
    `_fuse_view` gave it the view's node (`_inner`), it stands for both, as torch's node does:
    its edges are the view's, and its backward the view's."""
    _inner = None

    def forward(ctx, a, *, name):
        ctx._name = name
        return c_copy(a)

    def backward(ctx, grad):
        return grad if ctx._inner is None else ctx._inner._apply([grad])

    def name(self):
        return self._name


def _fuse_view(copy, view):
    """torch's `*_copy` node leads to the input itself: the copy's node takes over the edges
    of the view's node (a single-output view recorded as one node) and runs its backward."""
    node, inner = copy.grad_fn, view.grad_fn
    if node is None or inner is None or inner._output_meta is not None:
        return
    node.next_functions, node._input_meta = inner.next_functions, inner._input_meta
    node._inner = inner


def _copy_variant(fn_name, node, view, **out_kw):
    """torch.<fn_name>(input, *args, out=None): view(input, *args) copied; `node` is the
    recorded name (a callable of the arguments where it depends on them). out= must have the
    result's dtype; `out_kw` are write_out's options where torch differs (by default no
    derivative for out=: inputs that require grad give out a NotImplemented node)."""
    out_kw = dict(dict(exact=True, grad="aten::" + fn_name), **out_kw)

    def fn(input, *args, out=None, **kwargs):
        if out is not None and fn_name == "view_as_complex_copy":
            from ember._ops.pointwise_complex import view_as_complex
            v = view_as_complex(input)   # (out= has no autograd to refuse)
        else:
            v = view()(input, *args, **kwargs)
        name = node(*args, **kwargs) if callable(node) else node
        if isinstance(v, tuple):
            r = tuple(CopyOf.apply(x, name=name) for x in v)
            if out is None:
                return r
            _copies_out(fn_name, out, r)
            return None   # (torch's multi-output copies return None with out=)
        r = CopyOf.apply(v, name=name)
        _fuse_view(r, v)
        if out is None:
            return r
        from ember._ops._helpers import write_out
        return write_out(out, r, **out_kw)
    fn.__name__ = fn.__qualname__ = fn_name
    fn.__doc__ = (f"torch.{fn_name}: {fn_name[:-5]}() as a fresh contiguous tensor (no memory "
                  f"shared with input); gradients as {fn_name[:-5]}'s.")
    return fn


def _copies_out(fn_name, out, r):
    """out= of split_copy (copy_ into each out as it is: broadcast and cast, no resize),
    split_with_sizes_copy and unbind_copy (resized, of the result's dtype); none of them records
    autograd history, and only unbind_copy refuses out= tensors that require grad."""
    from ember._ops._helpers import out_grad_error, write_out
    if fn_name == "unbind_copy" and _grad_state.enabled and any(o._requires_grad for o in out):
        raise out_grad_error(fn_name)
    for o, x in zip(out, r):
        if fn_name == "split_copy":
            from ember.autograd.grad_mode import no_grad
            with no_grad():
                o.copy_(x)
        else:
            write_out(o, x.detach(), exact=True, grad=False)


def _manip(name):
    def get():
        from ember._ops import manipulation
        return getattr(manipulation, name)
    return get


def _pointwise_complex(name):
    def get():
        from ember._ops import pointwise_complex
        return getattr(pointwise_complex, name)
    return get


def _slice_view(input, dim=0, start=None, end=None, step=1):
    """input[..., start:end:step] along dim (torch's aten::slice)."""
    if input._data.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, input._data.ndim)
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    key = (slice(None),) * d + (slice(start, end, step),)
    return _basic_view(input, lambda x: x[key], "SliceBackward0")


def _squeeze_node(dim=None):
    return "SqueezeBackward" + ("0" if dim is None else "2" if isinstance(
        dim, (tuple, list)) else "1") + "_copy"


def _view_as_complex_checked(input):
    if _grad_state.enabled and input._requires_grad:
        raise RuntimeError("view_as_complex_copy does not support automatic differentiation "
                           "for outputs with complex dtype.")
    from ember._ops.pointwise_complex import view_as_complex
    return view_as_complex(input)


alias_copy = _copy_variant("alias_copy", "AliasBackward0_copy",
                           lambda: lambda x: _alias(x, "AliasBackward0"))
as_strided_copy = _copy_variant("as_strided_copy", "AsStridedBackward0_copy",
                                lambda: as_strided)
diagonal_copy = _copy_variant("diagonal_copy", "DiagonalBackward0_copy", lambda: diagonal)
expand_copy = _copy_variant("expand_copy", "ExpandBackward0_copy", lambda: expand)
narrow_copy = _copy_variant(
    "narrow_copy", "NarrowCopyBackward0", lambda: narrow, warn=False, grad=True,
    exact="Expected self.dtype() == output.dtype() to be true, but got false.  (Could this error "
    "message be improved?  If so, please report an enhancement request to PyTorch.)")
permute_copy = _copy_variant("permute_copy", "PermuteBackward0_copy", lambda: permute)
select_copy = _copy_variant("select_copy", "SelectBackward0_copy", lambda: select)
slice_copy = _copy_variant("slice_copy", "SliceBackward0_copy", lambda: _slice_view)
split_copy = _copy_variant("split_copy", "SplitBackward0_copy", _manip("_split_int"))
split_with_sizes_copy = _copy_variant("split_with_sizes_copy", "SplitWithSizesBackward0_copy",
                                      _manip("split_with_sizes"))
squeeze_copy = _copy_variant("squeeze_copy", _squeeze_node, lambda: squeeze)
t_copy = _copy_variant("t_copy", "TBackward0_copy", lambda: t)
transpose_copy = _copy_variant("transpose_copy", "TransposeBackward0_copy", lambda: transpose)
unbind_copy = _copy_variant("unbind_copy", "UnbindBackward0_copy", lambda: unbind)
unfold_copy = _copy_variant("unfold_copy", "UnfoldBackward0_copy", lambda: unfold)
unsqueeze_copy = _copy_variant("unsqueeze_copy", "UnsqueezeBackward0_copy", lambda: unsqueeze)
view_as_real_copy = _copy_variant("view_as_real_copy", "ViewAsRealBackward0_copy",
                                  _pointwise_complex("view_as_real"))
view_as_complex_copy = _copy_variant("view_as_complex_copy", "ViewAsComplexBackward0_copy",
                                     lambda: _view_as_complex_checked)
view_copy = _copy_variant("view_copy", "ViewBackward0_copy", lambda: view)


class _NoDerivative(ArrayFunction):
    def forward(ctx, a, *, what):
        ctx.what = what
        return c_copy(a)

    def backward(ctx, grad):
        raise RuntimeError(f"derivative for {ctx.what} is not implemented")

    def name(self):
        return "torch::autograd::NotImplemented"


def detach_copy(input, *, out=None):
    """A fresh copy of input's values. torch records it without a derivative: the result
    requires grad when input does, and backward through it raises."""
    r = _NoDerivative.apply(input, what="aten::detach_copy")
    if out is None:
        return r
    from ember._ops._helpers import write_out
    return write_out(out, r, exact=True, grad="aten::detach_copy")


def as_strided_(self, size, stride, storage_offset=None):
    """self becomes as_strided(self, size, stride, storage_offset), in place."""
    from ember._ops._helpers import check_inplace
    check_inplace(self)
    _inplace_view(self, as_strided(self, size, stride, storage_offset))
    self._vc.value += 1
    return self


# ---------------------------------------------------------------------------------------------
# In-place ops on views: the base's history passes through CopySlices

class TakeFlat(ArrayFunction):
    """input.reshape(-1)[idx]: how a view's values are re-read from its base's new history."""

    def forward(ctx, a, *, idx):
        ctx.in_shape, ctx.idx = a.shape, idx
        return a.reshape(-1)[idx]

    def backward(ctx, grad):
        return PutFlat.apply(grad, idx=ctx.idx, shape=ctx.in_shape)

    def name(self):
        return "AsStridedBackward0"


class PutFlat(ArrayFunction):
    def forward(ctx, grad, *, idx, shape):
        ctx.idx = idx
        z = np.zeros(math.prod(shape), grad.dtype)
        np.add.at(z, idx, grad)
        return z.reshape(shape)

    def backward(ctx, grad):
        return TakeFlat.apply(grad, idx=ctx.idx)


class CopySlices(ArrayFunction):
    """base with the view region replaced by `src`. The values are already in memory (the
    in-place write does it); this node only routes gradients: the region's to `src`, the rest to
    the base's old history."""

    def forward(ctx, base, src, *, idx):
        ctx.idx = idx
        return base

    def name(self):
        return "torch::autograd::CopySlices"

    def backward(ctx, grad):
        return (MaskFlat.apply(grad, idx=ctx.idx) if ctx.needs_input_grad[0] else None,
                TakeFlat.apply(grad, idx=ctx.idx)
                if ctx.needs_input_grad[1] else None)


class MaskFlat(ArrayFunction):
    """A copy with the elements at flat positions idx set to zero (its own adjoint)."""

    def forward(ctx, grad, *, idx):
        ctx.idx = idx
        out = np.array(grad, copy=True)
        out.reshape(-1)[idx] = 0
        return out

    def backward(ctx, grad):
        return MaskFlat.apply(grad, idx=ctx.idx)


def _flat_index_in_base(view, base):
    """For each element of `view`, its logical flat index in `base` (views share memory)."""
    b, v = base._data, view._data
    if not _is_dense(b):
        raise NotImplementedError("in-place autograd through a view of a non-dense NumPy array")
    logical = np.empty_like(b, dtype=np.int64)   # b's memory layout, 8-byte items
    logical[...] = np.arange(b.size).reshape(b.shape)
    memory = logical.ravel(order="K")            # a view, in memory order
    start = (_address(v) - _address(b)) // b.itemsize
    strides = tuple(s // b.itemsize * 8 for s in v.strides)
    return _np_as_strided(memory[start:], v.shape, strides).copy()


def _is_dense(a):
    """No gaps and no overlap: some permutation of the dims is C-contiguous."""
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return True
    expected = a.itemsize
    for size, st in sorted(zip(a.shape, a.strides), key=lambda p: p[1]):
        if size != 1 and st != expected:
            return False
        expected *= size
    return True


def rebase_history(t, result):
    """After writing `result` into `t` in place, make autograd see it (torch's CopySlices)."""
    base = t._base
    if base is None:
        t.grad_fn, t._output_nr, t._requires_grad = result.grad_fn, result._output_nr, True
        return
    idx = _flat_index_in_base(t, base)
    new_base = CopySlices.apply(base, result, idx=idx)
    base.grad_fn, base._output_nr, base._requires_grad = new_base.grad_fn, 0, True
    fresh = TakeFlat.apply(base, idx=idx)
    t.grad_fn, t._output_nr, t._requires_grad = fresh.grad_fn, fresh._output_nr, True


# ---------------------------------------------------------------------------------------------
# Tensor methods

Tensor.view, Tensor.view_as, Tensor.reshape, Tensor.reshape_as = view, view_as, reshape, reshape_as
Tensor.flatten, Tensor.unflatten = flatten, unflatten
Tensor.transpose, Tensor.swapaxes, Tensor.swapdims, Tensor.t = transpose, swapaxes, swapdims, t
Tensor.permute, Tensor.movedim, Tensor.moveaxis = permute, movedim, moveaxis
Tensor.expand, Tensor.expand_as = expand, expand_as
Tensor.squeeze, Tensor.unsqueeze = squeeze, unsqueeze
Tensor.narrow, Tensor.select, Tensor.unbind = narrow, select, unbind
Tensor.diagonal, Tensor.unfold, Tensor.as_strided = diagonal, unfold, as_strided
Tensor.clone, Tensor.contiguous = clone, contiguous
Tensor.narrow_copy, Tensor.as_strided_ = narrow_copy, as_strided_


def _t_inplace(self):
    return _inplace_view(self, t(self), True)


def _transpose_inplace(self, d0, d1):
    return _inplace_view(self, transpose(self, d0, d1), True)


def _squeeze_inplace(self, dim=None):
    return _inplace_view(self, squeeze(self, dim), True)


def _unsqueeze_inplace(self, dim):
    return _inplace_view(self, unsqueeze(self, dim), True)


# the in-place overloads' nodes in torch: the out-of-place node's name, numbered after it
_INPLACE_NODE = {"TBackward0": "TBackward1", "TransposeBackward0": "TransposeBackward1",
                 "SqueezeBackward0": "SqueezeBackward3", "SqueezeBackward1": "SqueezeBackward4",
                 "SqueezeBackward2": "SqueezeBackward5", "UnsqueezeBackward0": "UnsqueezeBackward1",
                 "AsStridedBackward0": "AsStridedBackward1"}


def _inplace_view(self, v, write=False):
    """t_(), squeeze_() ...: self takes the view's geometry (its data stays where it is) and
    the view's node, named as torch's in-place overload. write: torch counts it as a write
    (t_, transpose_, squeeze_, unsqueeze_): a leaf that requires grad (or a view of one) is
    refused and the version goes up."""
    if write:
        from ember._ops._helpers import check_inplace
        check_inplace(self)
        self._vc.value += 1
    self._data = v._data
    node = v.grad_fn
    if node is not None:
        name = _INPLACE_NODE.get(node.name())
        if name is not None:
            rename_node(node, name)
        self.grad_fn = node
    return self


Tensor.t_, Tensor.transpose_ = _t_inplace, _transpose_inplace
Tensor.swapaxes_ = Tensor.swapdims_ = _transpose_inplace
Tensor.squeeze_, Tensor.unsqueeze_ = _squeeze_inplace, _unsqueeze_inplace


def _T(self):
    nd = self._data.ndim
    if nd != 2 and nd != 0:
        import warnings
        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their "
                      "shape is deprecated and it will throw an error in a future release. "
                      "Consider `x.mT` to transpose batches of matrices or `x.permute(*torch."
                      "arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
                      UserWarning, stacklevel=2)
    return Permute.apply(self, dims=tuple(range(nd - 1, -1, -1)))


def _mT(self):
    if self._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self._data.ndim}-D tensor.")
    return Transpose.apply(self, dim0=self._data.ndim - 2, dim1=self._data.ndim - 1)


def adjoint(input):
    return _mT(input).conj()


Tensor.T = property(_T)
Tensor.mT = property(_mT)
Tensor.H = property(lambda self: (self.transpose(0, 1) if self._data.ndim == 2 else _T(self))
                    .conj())   # torch: a matrix's H is a transpose (TransposeBackward0)
Tensor.mH = property(adjoint)
Tensor.adjoint = adjoint
