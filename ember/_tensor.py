"""`Tensor`: one backend array plus autograd state.

The array *is* the storage view: shape, strides and offset come from it, and views made by ops are
backend views of the same memory. A version counter (`_vc`) is shared by a tensor and its views;
in-place ops bump it, and backward compares it with the version a node saved. It is created on
first use (a view, a save for backward, an in-place write): most tensors never need one.

Arithmetic, reductions, views and the rest of the methods are installed by the op families in
`ember/_ops/` (each file ends with its "Tensor methods" section); this file holds what belongs to
the tensor itself: metadata, conversion to Python and NumPy, autograd attributes, `to()`.
"""
import warnings

import numpy as np

from ember import _dtype
from ember._device import CPU, as_device, device as _device_cls

__all__ = ["Tensor", "Size"]


class Size(tuple):
    """A tensor's shape: a tuple of ints printed as `ember.Size([2, 3])`."""

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        for s in sizes:
            if not isinstance(s, (int, np.integer)) and not hasattr(s, "__index__"):
                raise TypeError(f"ember.Size() takes an iterable of 'int' (item {len(sizes)} is "
                                f"'{type(s).__name__}')")
        return tuple.__new__(cls, [s.__index__() for s in sizes])

    def __repr__(self):
        return f"ember.Size([{', '.join(map(str, self))}])"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key):
        r = tuple.__getitem__(self, key)
        return tuple.__new__(Size, r) if isinstance(key, slice) else r

    def __add__(self, other):
        return tuple.__new__(Size, tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return tuple.__new__(Size, tuple(other) + tuple(self))

    def __mul__(self, n):
        return tuple.__new__(Size, tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))


class _Version:
    """A version counter shared by a tensor and all its views."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


_DIFFERENTIABLE = frozenset("fc")   # float and complex kinds; bfloat16 is handled by dtype


class Tensor:
    """A multi-dimensional array with torch's semantics (see the module docstring)."""

    __slots__ = ("_data", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_version_counter",
                 "_base", "_hooks", "_retains_grad", "_accumulator", "__weakref__")

    # NumPy defers to our reflected operators (ndarray + Tensor -> Tensor.__radd__)
    __array_priority__ = 1000

    def __init__(self, *args, **kwargs):
        # `ember.Tensor(2, 3)` (uninitialised float tensor) and `ember.Tensor([1, 2])` (data)
        from ember._ops.creation import _legacy_new
        _init_from(self, _legacy_new(_dtype.get_default_dtype(), args, kwargs))

    # -----------------------------------------------------------------------------------------
    # Construction from an array (the hot path of every op)

    @staticmethod
    def _make(array, requires_grad=False):
        """Wrap a backend array (no copy)."""
        t = _new(Tensor)
        t._data = array
        t._requires_grad = requires_grad
        t._grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._version_counter = None
        t._base = None
        t._hooks = None
        t._retains_grad = False
        t._accumulator = None
        return t

    @property
    def _vc(self):
        """The version counter shared with this tensor's views (created on first use)."""
        vc = self._version_counter
        if vc is None:
            vc = self._version_counter = _Version()
        return vc

    @_vc.setter
    def _vc(self, vc):
        self._version_counter = vc

    def _view_of(self, array):
        """A tensor over `array`, a backend view of this tensor's memory: shares the version."""
        t = _new(Tensor)
        t._data = array
        t._requires_grad = False
        t._grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._version_counter = self._vc
        t._base = self if self._base is None else self._base
        t._hooks = None
        t._retains_grad = False
        t._accumulator = None
        return t

    # -----------------------------------------------------------------------------------------
    # Metadata

    @property
    def shape(self):
        return tuple.__new__(Size, self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return tuple.__new__(Size, self._data.shape)
        a = self._data
        try:
            return a.shape[_wrap_dim(dim, a.ndim)]
        except IndexError:
            if a.ndim == 0:
                _no_dims(dim)
            raise

    def dim(self):
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    @property
    def dtype(self):
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return CPU

    @property
    def is_cuda(self):
        return False

    @property
    def is_cpu(self):
        return True

    is_sparse = False
    is_quantized = False
    is_meta = False
    is_mkldnn = False
    is_nested = False
    # the other backends' predicates, answered for a CPU tensor (code written for them runs)
    is_sparse_csr = is_mps = is_xpu = is_ipu = is_xla = is_vulkan = is_mtia = is_maia = False

    def is_distributed(self):
        return False

    @property
    def volatile(self):
        """Removed from torch long ago: always False, with torch's warning."""
        warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning,
                      stacklevel=2)
        return False

    @property
    def layout(self):
        from ember import strided
        return strided

    def get_device(self):
        return -1

    def stride(self, dim=None):
        a = self._data
        if a.size == 0:   # NumPy zeroes the strides of empty arrays; torch keeps contiguous ones
            st, acc = [], 1
            for n in reversed(a.shape):
                st.append(acc)
                acc *= max(n, 1)
            st = tuple(reversed(st))
        else:
            st = tuple(s // a.itemsize for s in a.strides)
        if dim is None:
            return st
        if a.ndim == 0:
            _no_dims(dim)
        return st[_wrap_dim(dim, a.ndim)]

    def storage_offset(self):
        a = self._data
        root = _root(a)
        return (_address(a) - _address(root)) // a.itemsize if root is not a else 0

    def is_contiguous(self, memory_format=None):
        if memory_format is not None and memory_format is not _contiguous_format():
            return _is_channels_last(self._data, memory_format)
        return _is_contiguous(self._data)

    def data_ptr(self):
        return _address(self._data)

    const_data_ptr = data_ptr

    def dim_order(self, *, ambiguity_check=False):
        """The dims from outermost to innermost in memory (a permutation; (0, 1, ...) for a
        contiguous tensor). Size-1 dims and equal strides make it ambiguous: ambiguity_check=True
        raises then, a list of memory formats accepts a tensor contiguous in exactly one."""
        if not isinstance(ambiguity_check, bool):
            from ember import memory_format
            if not isinstance(ambiguity_check, list) or not all(
                    isinstance(m, memory_format) for m in ambiguity_check):
                raise TypeError("The ambiguity_check argument must be a bool or a list of "
                                "memory formats.")
        shape, strides = self._data.shape, self.stride()
        check = ambiguity_check is True or isinstance(ambiguity_check, list)
        if check and (1 in shape or any(x == y for x, y in zip(strides, strides[1:]))):
            formats = ambiguity_check if isinstance(ambiguity_check, list) else []
            if sum(1 for m in formats if self.is_contiguous(memory_format=m)) != 1:
                raise RuntimeError("The tensor does not have unique dim order, or cannot map to "
                                   "exact one of the given memory formats.")
        return _dim_order(self, shape, strides, check)

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return self.dtype.is_complex

    def is_signed(self):
        return self.dtype.is_signed

    def is_inference(self):
        return False

    @property
    def _version(self):
        return self._vc.value

    # -----------------------------------------------------------------------------------------
    # Conversion to Python and NumPy

    def item(self):
        a = self._data
        if a.size != 1:
            raise RuntimeError(f"a Tensor with {a.size} elements cannot be converted to Scalar")
        return a.reshape(()).item() if a.dtype.kind != "V" else float(a.reshape(()))

    def tolist(self):
        a = self._data
        if a.dtype.kind == "V":   # bfloat16 / float8 from ml_dtypes: Python floats, like torch
            return a.astype(np.float64).tolist()
        return a.tolist()

    def numpy(self, *, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def _scalar(self):
        a = self._data
        if a.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return a.reshape(()).item()

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __complex__(self):
        return complex(self._scalar())

    def __bool__(self):
        a = self._data
        if a.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(a.reshape(()).item())

    def __index__(self):
        a = self._data
        if a.size != 1 or a.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(a.reshape(()).item())

    def __format__(self, spec):
        # a 0-d Tensor formats its number; subclasses (Parameter) format as objects do
        if self._data.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(spec)
        if spec:
            raise TypeError(f"unsupported format string passed to {type(self).__name__}."
                            f"__format__")
        return str(self)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __contains__(self, element):
        """`element in t`: whether any element equals it (a tensor or a number)."""
        if isinstance(element, (Tensor, int, float, complex, np.number, np.bool_)):
            return bool((self == element).any())
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed "
                           f"in a {type(element)}.")

    def __hash__(self):
        return id(self)

    def __repr__(self, *, tensor_contents=None):
        from ember._tensor_str import tensor_repr
        return tensor_repr(self, tensor_contents=tensor_contents)

    def __str__(self):
        return self.__repr__()

    def __reduce_ex__(self, protocol):
        from ember.serialization import _reduce_tensor
        return _reduce_tensor(self)

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        new = type(self).__new__(type(self)) if type(self) is not Tensor else None
        t = Tensor._make(self._data.copy(), self._requires_grad)
        if new is not None:   # subclasses such as Parameter keep their type
            _init_from(new, t)
            t = new
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t

    # -----------------------------------------------------------------------------------------
    # Autograd attributes

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().")
            return self
        if requires_grad and not _can_require_grad(self._data):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed "
                "want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() "
                "on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
                "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 "
                "for more information.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if value._data.shape != self._data.shape:
                raise RuntimeError("assigned grad has data of a different size")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Keep .grad for this non-leaf tensor after backward (a no-op on leaves)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        from ember.autograd.graph import retain_grad_hook
        self.grad_fn._tensor_pre_hook(self._output_nr, retain_grad_hook(self))

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; its result replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from ember.autograd.graph import RemovableHandle
        if self.grad_fn is not None:
            return self.grad_fn._tensor_pre_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call `hook(tensor)` after backward has accumulated this leaf's .grad (e.g. to step
        an optimizer per parameter); its return value is ignored."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        from ember.autograd.graph import PostAccumulateGradHook, RemovableHandle
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle(self._hooks, PostAccumulateGradHook(hook))

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """The DLPack capsule of this tensor's memory (what from_dlpack of torch, NumPy or
        JAX reads, sharing it)."""
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use "
                              "tensor.detach()")
        kwargs = {k: v for k, v in (("max_version", max_version), ("dl_device", dl_device),
                                    ("copy", copy)) if v is not None}
        return self._data.__dlpack__(stream=stream, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def as_subclass(self, cls):
        """This tensor as an instance of `cls`, a Tensor subclass (its __init__ is not called):
        an alias sharing the memory and version, attached to the graph through an
        AliasBackward0 node when it requires grad, as torch."""
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise TypeError("Creating a Tensor subclass from a class that does not inherit from "
                            "Tensor is not possible. Make sure your class inherits from Tensor.")
        from ember._ops.shape import _alias
        out = _new(cls)
        _init_from(out, _alias(self, "AliasBackward0"))
        return out

    def new(self, *args):
        """The legacy constructor, in this tensor's dtype: new() is empty, new(2, 3) or
        new(Size) uninitialised of that shape, new(sequence) the data, new(tensor) an alias
        of a tensor of the same dtype. Never requires grad."""
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = args[0]
            if isinstance(data, Tensor):
                if data.dtype is not self.dtype:
                    raise TypeError(f"expected {self.dtype} (got {data.dtype})")
                return data.detach()
            if isinstance(data, Size):
                return self.new_empty(data)
            if not isinstance(data, (list, tuple, np.ndarray)):
                raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
            return self.new_tensor(data)
        for i, n in enumerate(args):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
                raise TypeError(f"new(): argument 'size' failed to unpack the object at pos "
                                f"{i + 1} with error \"type must be tuple of ints,but got "
                                f"{type(n).__name__}\"")
        return self.new_empty(args if args else (0,))

    def apply_(self, callable):
        """Replace each element x by callable(x), in place (a Python call per element)."""
        self._elementwise_python("apply_", callable)
        return self

    def map_(self, tensor, callable):
        """Replace each element x by callable(x, y), y from `tensor` broadcast to self."""
        if not isinstance(tensor, Tensor) or tensor.dtype is not self.dtype:
            raise TypeError(f"map_: expected {_type_name(self)} for 'other' (got "
                            f"{tensor.type() if isinstance(tensor, Tensor) else type(tensor)})")
        self._elementwise_python("map_", callable, np.broadcast_to(tensor._data, self.shape))
        return self

    def map2_(self, x, y, callable):
        """Replace each element s by callable(s, a, b), a and b from x and y broadcast to self."""
        for t, name in ((x, "x"), (y, "y")):
            if not isinstance(t, Tensor) or t.dtype is not self.dtype:
                got = t.type() if isinstance(t, Tensor) else type(t).__name__
                raise TypeError(f"map2_: expected {_type_name(self)} for argument '{name}' (got "
                                f"{got})")
        if x._requires_grad or y._requires_grad:
            raise RuntimeError("Can't call map2_() on Variable that requires grad. Use "
                               "var.detach().map2_() instead.")
        from ember._ops.shape import expand
        others = [expand(t, self.shape)._data for t in (x, y)]
        self._elementwise_python("map2_", callable, *others)
        return self

    def _elementwise_python(self, name, fn, *others):
        if self._requires_grad:
            raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use "
                               f"var.detach().{name}() instead.")
        a = self._data
        if not a.flags.writeable:   # an expanded tensor: torch calls fn element after element,
            from ember._ops.indexing import _writable_alias   # each seeing the last one's write
            w = _writable_alias(a)
            if w is not None:
                for idx in np.ndindex(a.shape):
                    w[idx] = fn(w[idx].item(), *(o[idx].item() for o in others))
                return
        py = np.frompyfunc(fn, 1 + len(others), 1)
        # values pass through Python numbers (item()), and come back cast to self's dtype
        a[...] = np.asarray(py(a.astype(object), *(o.astype(object) for o in others)),
                            dtype=object).astype(a.dtype) if a.size else a
        # (torch's apply_/map_/map2_ write behind autograd's back: the version stays)

    @property
    def output_nr(self):
        """Which output of its grad_fn this tensor is (0 for leaves)."""
        return self._output_nr

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into each leaf's .grad (see ember.autograd.backward)."""
        from ember.autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """An alias sharing storage and version counter, cut from the graph."""
        t = self._view_of(self._data)
        t._base = self._base
        return t

    def detach_(self):
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead. If you are "
                               "using DistributedDataParallel (DDP) for training, and "
                               "gradient_as_bucket_view is set as True, gradients are views of "
                               "DDP buckets, and hence detach_() cannot be called on these "
                               "gradients. To fix this error, please refer to the "
                               "Optimizer.zero_grad() function in torch/optim/optimizer.py as the "
                               "solution.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        """An alias sharing storage but not the version counter or the graph."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def _is_view(self):
        return self._base is not None

    def _is_view_method(self):
        return self._base is not None

    # -----------------------------------------------------------------------------------------
    # Device and dtype conversion

    def to(self, *args, **kwargs):
        """`to(dtype)`, `to(device)`, `to(device, dtype)`, `to(other)`; self when nothing changes."""
        dev, dt, copy = _parse_to(args, kwargs)
        if dev is not None and dev.type != "cpu":
            _device_unavailable(dev)
        if dt is None or dt.np == self._data.dtype:
            return self.clone() if copy else self
        from ember._ops.pointwise import _to_dtype
        return _to_dtype(self, dt)

    def cpu(self, memory_format=None):
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        _device_unavailable(device)

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """With no argument, the legacy type name ('torch.FloatTensor'); else a cast."""
        if dtype is None:
            return f"torch.{self.dtype._legacy}Tensor"
        if isinstance(dtype, str):
            name, dtype = dtype, _LEGACY_NAMES.get(dtype.replace("ember.", "torch."))
            if dtype is None:
                raise ValueError(f"invalid type: '{name}'")
        elif isinstance(dtype, type) and hasattr(dtype, "_ember_dtype"):
            dtype = dtype._ember_dtype
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self, memory_format=None):
        return self.to(_dtype.float32)

    def double(self, memory_format=None):
        return self.to(_dtype.float64)

    def half(self, memory_format=None):
        return self.to(_dtype.float16)

    def bfloat16(self, memory_format=None):
        return self.to(_dtype.bfloat16)

    def long(self, memory_format=None):
        return self.to(_dtype.int64)

    def int(self, memory_format=None):
        return self.to(_dtype.int32)

    def short(self, memory_format=None):
        return self.to(_dtype.int16)

    def char(self, memory_format=None):
        return self.to(_dtype.int8)

    def byte(self, memory_format=None):
        return self.to(_dtype.uint8)

    def bool(self, memory_format=None):
        return self.to(_dtype.bool)

    def cfloat(self, memory_format=None):
        return self.to(_dtype.complex64)

    def cdouble(self, memory_format=None):
        return self.to(_dtype.complex128)

    def chalf(self, memory_format=None):
        """complex32: NumPy has no such type, so this raises ember's NotImplementedError."""
        return self.to(_dtype.complex32)

    def pin_memory(self, device=None):
        return self

    def is_pinned(self, device=None):
        return False

    def share_memory_(self):
        return self

    def is_shared(self):
        return False


_new = object.__new__


def _type_name(t):
    """The name torch's legacy type checks give a tensor's type ('torch.FloatTensor'; bool and
    complex tensors have no such class: 'CPUBoolType')."""
    if t._data.dtype.kind in "bc":
        return f"CPU{t.dtype._legacy}Type"
    return t.type()


def _outer_first(shape, strides, a, b):
    """1 when dim a lies outside dim b in memory, -1 inside, 0 undecided (a zero stride, or
    equal strides with b at least as large): torch's comparison for stride orders."""
    sa, sb = strides[a], strides[b]
    if sa == 0 or sb == 0:
        return 0
    if sa == sb:
        return 1 if shape[a] > shape[b] else 0
    return 1 if sa > sb else -1


def _stride_order(shape, strides):
    """The dims innermost first, as torch orders them: an insertion sort by `_outer_first`
    from the last dim, where undecided pairs keep their order."""
    perm = list(range(len(shape) - 1, -1, -1))
    for i in range(1, len(shape)):
        j = i
        for k in range(i - 1, -1, -1):
            c = _outer_first(shape, strides, perm[k], perm[j])
            if c > 0:
                perm[k], perm[j] = perm[j], perm[k]
                j = k
            elif c < 0:
                break
    return perm


def _dim_order(t, shape, strides, check):
    """torch's dim order (outermost first): `_stride_order`, with `check` raising where it is
    not unique."""
    nd = len(shape)
    if nd <= 1:
        return tuple(range(nd))
    if _is_contiguous(t._data) and not (nd == 4 and _is_channels_last(t._data, _cl())):
        return tuple(range(nd))
    perm = _stride_order(shape, strides)
    if check and any(_outer_first(shape, strides, perm[i], perm[i + 1]) != -1
                     for i in range(nd - 1)):
        raise RuntimeError("The tensor does not have unique dim order.")
    return tuple(reversed(perm))


def _cl():
    from ember import channels_last
    return channels_last


def _init_from(self, other):
    """Make `self` (a fresh object, e.g. a Parameter) hold `other`'s state."""
    for name in Tensor.__slots__:
        if name != "__weakref__":
            setattr(self, name, getattr(other, name))
    self._vc = other._vc   # one counter for both (created now if other had none yet)


_LEGACY_NAMES = {f"torch.{d._legacy}Tensor": d for d in _dtype.ALL}


def _can_require_grad(array):
    k = array.dtype.kind
    return k in _DIFFERENTIABLE or (k == "V" and array.dtype.name in ("bfloat16",))


def _wrap_dim(dim, ndim):
    """A dim index in range for `ndim` dims, with torch's IndexError text."""
    if type(dim) is not int:
        dim = _index_arg(dim, "dim")   # (NumPy integers, 1-element int tensors; else TypeError)
    n = ndim if ndim > 0 else 1
    if dim < -n or dim >= n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


_C_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
            "int64": "int64_t", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "float32": "float", "float64": "double", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}
_INF = float("inf")
_F32_MAX = 3.4028234663852886e38
# the finite range a Python number must fall in to become an element of each dtype, by dtype
# object (a lookup by name costs more than the check)
_RANGE = {np.dtype(np.float16): (-65504.0, 65504.0), np.dtype(np.float32): (-_F32_MAX, _F32_MAX),
          np.dtype(np.complex64): (-_F32_MAX, _F32_MAX),
          **{np.dtype(t): (-np.iinfo(t).max if np.iinfo(t).min == 0 else int(np.iinfo(t).min),
                           int(np.iinfo(t).max))
             for t in (np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32,
                       np.int64)},
          np.dtype(np.float64): None, np.dtype(np.complex128): None, np.dtype(np.bool_): None}


def _check_scalar(value, npd, name=None):
    """torch's check that a Python number becomes an element of NumPy dtype `npd` without
    overflow (fill_, masked_fill, full, x[k] = v): integers within range (for unsigned types
    down to -max as well, floats from 0), no NaN or infinity into integers, finite floats
    within the float range, complex numbers only into complex types (or with a zero imaginary
    part); bool takes anything. `name` overrides the C type name in the message."""
    bounds = _RANGE.get(npd, ())
    if not bounds:
        if bounds is None or npd.name != "bfloat16":
            return   # bool, float64, complex128 take any Python number
        bounds = (-3.3895313892515355e38, 3.3895313892515355e38)
    lo, hi = bounds
    t = type(value)
    if npd.kind == "u" and isinstance(value, (float, np.floating)):
        lo = 0   # (a float goes into an unsigned type only from [0, max]; an int from -max)
    if t is float or t is int:
        if lo <= value <= hi:
            return
        ok = (value in (_INF, -_INF) or value != value) and npd.kind in "fcV"
    else:
        ok = True
        if isinstance(value, (complex, np.complexfloating)):
            parts = (value.real, value.imag)
            ok = npd.kind == "c" or value.imag == 0
        else:
            parts = (value,)
        for v in parts:
            if not (lo <= v <= hi or (v in (_INF, -_INF) or v != v) and npd.kind in "fcV"):
                ok = False
    if not ok:
        raise RuntimeError(f"value cannot be converted to type "
                           f"{name or _C_NAMES.get(npd.name, npd.name)} without overflow")


def _no_dims(dim):
    """size(dim) / stride(dim) of a 0-d tensor: torch's IndexError (for any dim)."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        dim = _index_arg(dim, "dim")
    raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")


def _index_arg(x, name):
    """An int from an integer-like argument (NumPy integer, 1-element integer tensor); else
    torch's TypeError (a float or None where an int is required)."""
    if not isinstance(x, bool) and hasattr(x, "__index__"):
        try:
            return x.__index__()
        except TypeError:
            pass
    raise TypeError(f"argument '{name}' must be int, not {type(x).__name__}")


def _int_tuple(args, fn, name="size", pos=1):
    """An int-list argument given as varargs `f(2, 3)` or one sequence `f((2, 3))`, as a tuple
    of ints (integer-like elements accepted), with torch's TypeErrors for anything else."""
    packed = len(args) == 1 and isinstance(args[0], (tuple, list))
    seq = args[0] if packed else args
    for s in seq:   # the common case: plain ints
        if type(s) is not int:
            break
    else:
        return tuple(seq)
    try:   # (torch takes a bool for an int anywhere but first)
        return tuple(s if type(s) is int else int(s) if i and type(s) is bool else
                     _index_arg(s, name) for i, s in enumerate(seq))
    except TypeError:
        pass
    if len(args) == 1 and not packed:
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be tuple of ints, "
                        f"not {type(args[0]).__name__}") from None
    i, bad = next((i, s) for i, s in enumerate(seq) if type(s) is not int and not (
        i and type(s) is bool) and not _is_index(s))
    if packed and i == 0:
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be tuple of ints, "
                        f"but found element of type {type(bad).__name__} at pos {i}") from None
    raise TypeError(f"{fn}(): argument '{name}' failed to unpack the object at pos {i + 1} with "
                    f"error \"type must be tuple of ints,but got {type(bad).__name__}\"") from None


def _is_index(x):
    try:
        _index_arg(x, "")
        return True
    except TypeError:
        return False


def _root(a):
    """The ndarray that owns the memory `a` views (the storage)."""
    while True:
        b = a.base
        if isinstance(b, np.ndarray):
            a = b
        elif isinstance(getattr(b, "base", None), np.ndarray):   # as_strided's DummyArray
            a = b.base
        else:
            return a


def _address(a):
    return a.__array_interface__["data"][0]


def _is_contiguous(a):
    """torch's rule: sizes of 1 (and empty tensors) do not constrain strides."""
    if a.flags.c_contiguous or a.size == 0:
        return True
    expected = a.itemsize
    for size, st in zip(reversed(a.shape), reversed(a.strides)):
        if size != 1:
            if st != expected:
                return False
            expected *= size
    return True


def _contiguous_format():
    from ember import contiguous_format
    return contiguous_format


def _is_channels_last(a, memory_format):
    from ember import channels_last, channels_last_3d, preserve_format
    if memory_format is preserve_format:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    order = {channels_last: (1, 3, 2, 0), channels_last_3d: (1, 4, 3, 2, 0)}[memory_format]
    if a.ndim != len(order):
        return False
    expected = a.itemsize
    for d in order:
        if a.shape[d] != 1 and a.strides[d] != expected:
            return False
        expected *= a.shape[d]
    return True


_NOT_COMPILED = {"cuda": "CUDA", "xpu": "XPU"}
_BACKEND_NAMES = {"mps": "MPS", "vulkan": "Vulkan", "ipu": "IPU", "xla": "XLA", "lazy": "Lazy"}
_UNLINKED = frozenset(("mps", "vulkan", "ipu", "xla"))   # .to() says these are not linked


def _device_unavailable(dev=None, creating=False):
    """torch's error, on a CPU-only build, for a tensor put on (`creating` one) or moved to
    another device: CUDA and XPU are "not compiled", MPS and other backends not linked (or
    without the creation kernel). A bare int or None means CUDA, as `.cuda()` reads it. torch
    has meta tensors (shapes without data); ember always holds data, so it says that."""
    kind = "cuda" if dev is None or isinstance(dev, int) else as_device(dev).type
    if kind in _NOT_COMPILED:
        raise AssertionError(f"Torch not compiled with {_NOT_COMPILED[kind]} enabled")
    if kind == "meta":
        raise NotImplementedError("ember has no 'meta' device: every ember tensor holds its "
                                  "data in CPU memory")
    if creating or kind not in _UNLINKED:
        raise NotImplementedError(f"Could not run 'aten::empty.memory_format' with arguments "
                                  f"from the '{_BACKEND_NAMES.get(kind, kind)}' backend.")
    raise RuntimeError(f"PyTorch is not linked with support for {kind} devices")


def _parse_to(args, kwargs):
    """(device, dtype, copy) from the many spellings of Tensor.to()."""
    dev = dt = None
    for a in list(args) + [kwargs.get("device"), kwargs.get("dtype"), kwargs.get("other")]:
        if a is None or isinstance(a, bool):
            continue
        if isinstance(a, _dtype.dtype):
            dt = a
        elif isinstance(a, Tensor):
            dev, dt = a.device, a.dtype
        elif isinstance(a, (str, _device_cls, int)):
            dev = as_device(a) if not isinstance(a, int) else _device_cls("cuda", a)
        else:
            raise TypeError(f"to() received an invalid combination of arguments - got "
                            f"({type(a).__name__})")
    return dev, dt, kwargs.get("copy", False)
