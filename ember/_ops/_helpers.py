"""Shared plumbing for op families: operand promotion, in-place writes, `out=`, dims."""
import sys

import numpy as np

from ember import _dtype
from ember._tensor import Tensor, _wrap_dim
from ember._threads import _ELEMENTWISE_MIN as _BIG, elementwise
from ember.autograd.function import ArrayFunction, _broadcast_error, record_binary
from ember.autograd.grad_mode import state as _grad_state

_SCALARS = (int, float, bool, complex)


def is_tensor(x):
    return isinstance(x, Tensor)


def to_dtype(t, dt):
    """`t` cast to dtype `dt` (recorded for autograd); `t` itself when it already is."""
    if t._data.dtype == dt.np:
        return t
    from ember._ops.pointwise import _to_dtype
    return _to_dtype(t, dt)


def promote(a, b):
    """Operands of a binary op cast to torch's result dtype, and that dtype.

    Tensors come back as Tensors (casts are recorded, so gradients flow to the original dtype);
    Python scalars come back as scalars NumPy combines weakly, or as 0-d arrays of the result
    dtype where NumPy would otherwise widen or reject them (bfloat16, out-of-range ints).
    """
    if isinstance(a, Tensor):
        ad = a._data.dtype
        if isinstance(b, Tensor):
            if ad == b._data.dtype:
                return a, b, None
            rd = _dtype.result_type_of((a, b))
            return to_dtype(a, rd), to_dtype(b, rd), rd
        tb = type(b)
        if (tb is float or tb is int) and ad.kind in "fc":
            return a, b, None   # a real scalar keeps a float tensor's dtype (NumPy agrees)
        rd = _dtype.result_type_of((a, b))
        return to_dtype(a, rd), _scalar_for(b, rd), rd
    if isinstance(b, Tensor):
        rd = _dtype.result_type_of((a, b))
        return _scalar_for(a, rd), to_dtype(b, rd), rd
    raise TypeError("expected at least one Tensor operand")


def binary_lane(op, kinds, other_path):
    """`lane(input, other)` for an arithmetic op (Add, Sub, Mul, Div), `input` a tensor: the
    commonest operands, which need no promotion, take a short path; `other_path(input,
    other)` serves the rest. The common operands are two tensors of one dtype (of a NumPy kind
    in `kinds`), or a floating/complex tensor and a Python float or int (which keeps the
    tensor's dtype). The node is recorded when grad mode is on and an operand requires grad;
    else the op's `fast` NumPy function runs alone. This is the path of `x + y` in every
    training step, so it is one Python frame."""
    fast = op.fast
    # NumPy's own dtype objects of those kinds: an identity test and a set lookup are the
    # cheapest checks (an equal dtype that is another object takes other_path, as correct)
    dtypes = frozenset(np.dtype(c) for c in np.typecodes["All"] if np.dtype(c).kind in kinds)

    def lane(input, other):
        a = input._data
        if isinstance(other, Tensor):
            b = other._data
            da = a.dtype
            if da is not b.dtype or da not in dtypes:
                return other_path(input, other)
            if (input._requires_grad or other._requires_grad) and _grad_state.enabled:
                return record_binary(op, input, other, a, b)
        elif (type(other) is float or type(other) is int) and a.dtype.kind in "fc" \
                and a.dtype.itemsize > 2:   # (float16 and a number: torch's float32 opmath)
            if input._requires_grad and _grad_state.enabled:
                return record_binary(op, input, other, a, other)
            b = other
        else:
            return other_path(input, other)
        try:
            out = fast(a, b) if a.size < _BIG else elementwise(fast, a, b)
        except ValueError as exc:
            raise _broadcast_error(exc, (input, other)) from None
        return Tensor._make(out if type(out) is np.ndarray else np.asarray(out))
    return lane


def _scalar_for(s, rd):
    """A Python scalar in a form NumPy combines with an array of dtype rd without widening."""
    if isinstance(s, np.generic):   # (np.float64 is a float subclass NumPy treats as float64)
        s = s.item()
    elif not isinstance(s, _SCALARS):
        raise TypeError(f"unsupported operand type: '{type(s).__name__}'")
    npd = rd.np
    k = npd.kind
    if k == "f" or k == "c":
        return s
    if k in "iu":
        if isinstance(s, int) and not (-2 ** 63 <= s < 2 ** 64):
            raise RuntimeError("Overflow when unpacking long")
        info = np.iinfo(npd)
        if info.min <= s <= info.max:
            return s
        return np.array(s, dtype=np.int64 if s < 2 ** 63 else np.uint64).astype(npd)
    return np.array(s).astype(npd)   # bool results, bfloat16 and other ml_dtypes


def check_inplace(t):
    """torch's errors for writing into a leaf (or a view of one) that requires grad."""
    if _grad_state.enabled:
        if t._requires_grad and t.grad_fn is None:
            if t._base is not None:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used "
                                   "in an in-place operation.")
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        base = t._base
        if base is not None and base._requires_grad and base.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")


def inplace(t, result):
    """Write `result` (computed out of place) into `t`'s memory and give `t` its history."""
    check_inplace(t)
    rd = result._data
    if rd.dtype != t._data.dtype and not _can_cast_result(rd.dtype, t._data.dtype):
        if not t._data.flags.writeable:   # (torch checks the memory before the dtypes)
            write(t, rd)
        raise RuntimeError(f"result type {_dtype.from_numpy_dtype(rd.dtype)._legacy} can't be "
                           f"cast to the desired output type "
                           f"{_dtype.from_numpy_dtype(t._data.dtype)._legacy}")
    if rd.shape != t._data.shape:
        raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the broadcast "
                           f"shape {list(rd.shape)}")
    if result._requires_grad:
        node = result.grad_fn
        _save_original(t, node)
        what = getattr(node, "what", None)
        if isinstance(what, str) and what.startswith("aten::"):   # a node without derivative
            node.what = what + "_"   # (torch names the in-place kernel: aten::floor_divide_)
        from ember._ops.shape import rebase_history
        rebase_history(t, result)
    write(t, rd)
    return t


def _save_original(t, node):
    """If the op computing t's new value saved t itself, keep a copy of t's old values: the write
    is about to overwrite them (torch saves "original self" for in-place ops likewise)."""
    saved = getattr(node, "_saved", None)
    if not saved:
        return
    for s in saved:
        if getattr(s, "tensor", None) is t:
            orig = Tensor._make(np.array(t._data, copy=True))
            orig.grad_fn, orig._output_nr, orig._requires_grad = (t.grad_fn, t._output_nr,
                                                                  t._requires_grad)
            s.tensor, s.data, s.vc, s.version = orig, orig._data, orig._vc, 0


def write(t, array):
    """Copy values into t's memory (seen by every view) and bump its version."""
    dst = t._data
    if not dst.flags.writeable:
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the tensor "
                           "before performing the operation.")
    if array is not dst:
        np.copyto(dst, array, casting="unsafe")
    t._vc.value += 1


def _can_cast_result(src, dst):
    s, d = _dtype.from_numpy_dtype(src), _dtype.from_numpy_dtype(dst)
    return _dtype.can_cast(s, d)


C_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int",
           "int32": "int", "int64": "long int", "uint16": "short unsigned int",
           "uint32": "unsigned int", "uint64": "long unsigned int", "float16": "c10::Half",
           "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double",
           "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def c_name(dt):
    """The C++ type name torch's kernel messages use for a dtype ('float', 'long int',
    'c10::Half'); dt an ember dtype or a NumPy one."""
    name = dt.name if isinstance(dt, np.dtype) else str(dt).split(".")[-1]
    return C_NAMES.get(name, name)


_EXACT = "Expected out tensor to have dtype {want_c}, but got {got_c} instead"


def check_out_exact(out, dt, msg=_EXACT):
    """torch's check of an out= tensor that must have exactly dtype dt (structured kernels:
    mm, gather, sort's values and indices, the linear-algebra solvers...: nothing casts on the
    way out). `msg` is the op's own wording, formatted with the wanted and the given dtype's
    names: {want}/{got} as torch's legacy names (Float), {want_c}/{got_c} as C++ ones (float)."""
    if out is None:
        return
    want = dt if isinstance(dt, np.dtype) else dt.np
    got = out._data.dtype
    if got != want:
        w, g = _dtype.from_numpy_dtype(want), _dtype.from_numpy_dtype(got)
        raise RuntimeError(msg.format(want=w._legacy, got=g._legacy, want_c=c_name(want),
                                      got_c=c_name(got)))


def check_out_castable(out, dt, fn, what="result"):
    """torch's linear-algebra check of an out= tensor the result's dtype must cast to safely
    (`cholesky: Expected result to be safely castable from Float dtype, but got result with
    dtype Int`)."""
    if out is not None and not _can_cast_result(dt if isinstance(dt, np.dtype) else dt.np,
                                                out._data.dtype):
        src = _dtype.from_numpy_dtype(dt) if isinstance(dt, np.dtype) else dt
        raise RuntimeError(f"{fn}: Expected {what} to be safely castable from {src._legacy} "
                           f"dtype, but got {what} with dtype {out.dtype._legacy}")


def write_out(out, result, exact=False, warn=True, grad=True):
    """The `out=` argument: resize `out` if needed, copy the result in, return `out`.

    exact: out must have the result's dtype (check_out_exact; a string is the op's own message
    for it), else the result casts into out's dtype where torch's promotion allows.
    warn=False: a wrong non-empty shape is resized silently (kernels that resize with resize_,
    not resize_output). grad: True for torch's
    autograd check (no out= while an input or out requires grad); False for ops torch has no
    derivative for (nothing checked, nothing recorded); "copy" for torch's composite ops, which
    compute out of place and then `out.copy_(result)` (so out joins the graph, and a leaf out that
    requires grad is refused as in-place); "aten::<name>" for kernels without a derivative for
    out=: out that requires grad is refused, inputs that do give out a NotImplemented node.
    """
    rd = result._data
    if _grad_state.enabled and (result._requires_grad or out._requires_grad):
        if grad is True or (out._requires_grad and isinstance(grad, str) and grad != "copy"):
            raise out_grad_error(_out_fn_name(grad))
    if exact:
        check_out_exact(out, rd.dtype, exact if isinstance(exact, str) else _EXACT)
    if out._data.shape != rd.shape:
        if warn and out._data.size != 0:
            resize_warning(out._data.shape, rd.shape)
        out._data = np.empty(rd.shape, out._data.dtype)
    if not _can_cast_result(rd.dtype, out._data.dtype):
        raise RuntimeError(f"result type {_dtype.from_numpy_dtype(rd.dtype)._legacy} can't be "
                           f"cast to the desired output type "
                           f"{_dtype.from_numpy_dtype(out._data.dtype)._legacy}")
    if result._requires_grad and _grad_state.enabled and isinstance(grad, str):
        if grad == "copy":
            return out.copy_(result)
        write(out, rd)
        from ember._ops.shape import rebase_history
        rebase_history(out, NotImplementedNode.apply(result, what=grad))
        return out
    if grad == "copy" and out._requires_grad and _grad_state.enabled:
        check_inplace(out)
    write(out, rd)
    return out


def check_no_overlap(out, *inputs):
    """torch's error for an out= that shares memory with an input of a kernel that reads
    inputs after it has started writing (cross, index_select)."""
    for x in inputs:
        if isinstance(x, Tensor) and np.shares_memory(out._data, x._data):
            raise RuntimeError("unsupported operation: some elements of the input tensor and the "
                               "written-to tensor refer to a single memory location. Please "
                               "clone() the tensor before performing the operation.")


def out_grad_error(name):
    return RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                        f"differentiation, but one of the arguments requires grad.")


def resize_warning(old, new):
    import warnings
    warnings.warn(f"An output with one or more elements was resized since it had shape "
                  f"{list(old)}, which does not match the required output shape {list(new)}. "
                  f"This behavior is deprecated, and in a future PyTorch release outputs will "
                  f"not be resized unless they have zero elements. You can explicitly reuse an "
                  f"out tensor t by resizing it, inplace, to zero elements with t.resize_(0).",
                  UserWarning, stacklevel=4)


class NotImplementedNode(ArrayFunction):
    """torch's node for an op without a derivative (`out=` of t_copy, floor_divide, a
    gradient torch cannot differentiate again...): the values of `a` pass through, with edges
    to it and to the other inputs given; backward raises."""

    def forward(ctx, a, *inputs, what):
        ctx.what = what
        return a

    def backward(ctx, grad):
        raise RuntimeError(f"derivative for {ctx.what} is not implemented")

    def name(self):
        return "torch::autograd::NotImplemented"


def write_outs(out, result, **kw):
    """`out=` for an op's result, a tensor or a tuple of them (written into out's tensors, in
    order); a torch.return_types result comes back as its `_out` twin (`max_out`, ...), as
    torch's does. Without out= the result itself. Keywords as write_out's."""
    if out is None:
        return result
    if not isinstance(result, tuple):
        return write_out(out, result, **kw)
    outs = tuple(write_out(o, x, **kw) for o, x in zip(out, result))
    if type(result) is tuple:
        return outs
    return (getattr(type(result), "_out_type", None) or type(result))(outs)


def not_a_tensor(x, name=None, arg="input", pos=1):
    """torch's TypeError for a non-Tensor passed where a Tensor is required. Raised from an
    `except AttributeError` around the op's first use of the argument (free until it fires);
    without `name` the public ember function is found on the stack."""
    if name is None:
        f = sys._getframe(1)
        while f is not None and (f.f_code.co_name.startswith("_") or
                                 f.f_globals.get("__name__", "").startswith("ember._ops._")):
            f = f.f_back
        name = f.f_code.co_name if f is not None else "op"
    return TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not "
                     f"{type(x).__name__}")


def check_out_same(out, dt):
    """torch's check for ops whose out= must have exactly the result dtype (abs, floor, neg,
    clamp... compute without promotion, so nothing casts on the way out)."""
    if out is not None and out.dtype is not dt:
        raise RuntimeError(f"Found dtype {out.dtype._legacy} but expected {dt._legacy}")


def check_cast_back(t, operands, promote_with_out=True):
    """torch's error for an in-place op (or out=) whose promoted dtype cannot be written back
    into `t` (`float16.add_(1j)` is complex); called only once the op has failed, so it costs
    nothing on the success path."""
    xs = [x for x in operands if isinstance(x, (Tensor,) + _SCALARS)]
    if promote_with_out:
        xs.insert(0, t)
    try:
        rd = _dtype.result_type_of(xs)
    except Exception:   # noqa: BLE001 - operands that do not promote: keep the op's own error
        return
    if rd is not None and not _dtype.can_cast(rd, t.dtype):
        raise RuntimeError(f"result type {rd._legacy} can't be cast to the desired output type "
                           f"{t.dtype._legacy}")


def out_cast_first(fn):
    """fn with torch's order of checks for out=: an out= tensor the result type cannot be cast
    to is reported before a dtype the kernel lacks (`erf(complex, out=bool)` is a cast error,
    not NotImplementedError). Costs nothing unless fn raises NotImplementedError."""
    def op(*args, out=None, **kwargs):
        try:
            return fn(*args, out=out, **kwargs)
        except NotImplementedError:
            if out is not None:
                check_cast_back(out, args, promote_with_out=False)
            raise
    op.__name__ = op.__qualname__ = fn.__name__
    op.__doc__, op.__wrapped__ = fn.__doc__, fn
    return op


def _out_fn_name(kernel=None):
    """The op torch names in its out= autograd error: the kernel's (`aten::t_copy`), else the
    public ember function's found on the stack."""
    if isinstance(kernel, str) and kernel != "copy":
        return kernel
    f = sys._getframe(2)
    while f is not None and (f.f_code.co_name.startswith("_") or
                             f.f_globals.get("__name__", "").startswith("ember._ops._")):
        f = f.f_back
    return f.f_code.co_name if f is not None else "op"


def dims_of(dim, ndim):
    """A sorted tuple of non-negative dims from None (all), an int, or a sequence."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return tuple(range(ndim))
        ds = tuple(_wrap_dim(d, ndim) for d in dim)
        if len(set(ds)) != len(ds):
            d = next(d for d in ds if ds.count(d) > 1)
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        return tuple(sorted(ds))
    return (_wrap_dim(dim, ndim),)


def wrap_scalar(x, like=None):
    """A Python number as a 0-d tensor of its torch dtype (or `like`'s dtype)."""
    if isinstance(x, Tensor):
        return x
    dt = like if like is not None else _dtype.scalar_dtype(x)
    return Tensor._make(np.array(x, dtype=dt.np))


_CHANNEL_RUN_MAX = 4096   # per-channel runs up to this long: NumPy's broadcast loop is slow


def channel_op(ufunc, x, v, out=None):
    """ufunc(x, v) for an array x (N, C, *spatial) and v one value per channel (C values, in
    any shape), broadcast over the other dims, as batch norm's and conv's per-channel scales,
    shifts and biases. NumPy broadcasts v as (1, C, 1, ...) with an inner loop only one
    channel's run of S spatial values long; for short runs its per-run cost makes that 1.5-2.5x
    slower than a plain elementwise op (measured for S = 16 to 4096). So for a C-contiguous x
    with several samples, v is spread to one row of C * S values (each repeated S times, 1/N
    of x's size) and combined with x as (N, C * S): N long runs."""
    N, C = x.shape[0], x.shape[1]
    S = x.size // (N * C) if N * C else 0
    if (N >= 4 and 1 < S <= _CHANNEL_RUN_MAX and x.flags.c_contiguous
            and (out is None or out.flags.c_contiguous)):
        row = np.repeat(np.asarray(v).reshape(C), S)
        y = ufunc(x.reshape(N, C * S), row, out=None if out is None else out.reshape(N, C * S))
        return y.reshape(x.shape)
    return ufunc(x, np.asarray(v).reshape((1, C) + (1,) * (x.ndim - 2)), out=out)


# ---------------------------------------------------------------------------------------------
# Reduced precision. torch's CPU kernels compute float16 and bfloat16 in float32 (its "opmath"
# type: a number such as a slope or an alpha is taken as a float32, not rounded to the half
# type first) and round once, at the end of each kernel. Rounding after every NumPy step
# instead leaves a third of the elements of a silu or a layer_norm an ulp or two away.

_F32 = np.dtype(np.float32)


def is_half(npd):
    """Whether a NumPy dtype is float16 or bfloat16 (ml_dtypes' bfloat16 has kind 'V')."""
    return npd.itemsize == 2 and npd.kind in "fV"


def opmath(npd):
    """The dtype torch computes npd in: float32 for the half types, npd itself otherwise."""
    return _F32 if is_half(npd) else npd


def in_opmath(fn, *arrays):
    """fn(*arrays) computed as torch's kernels compute it: when the first array is of a half
    type, every half-type array goes in as float32 and the result is rounded once to the
    first's dtype; other dtypes run as they are."""
    dt = arrays[0].dtype
    if not is_half(dt):
        return fn(*arrays)
    up = [a.astype(_F32) if isinstance(a, np.ndarray) and is_half(a.dtype) else a
          for a in arrays]
    r = np.asarray(fn(*up))
    with np.errstate(over="ignore"):   # (beyond the half type's range: inf, as in torch)
        return r.astype(dt)


def opmath_tensors(*tensors):
    """The tensors a backward formula written in Tensor ops should compute with: half-type
    tensors as float32 (a differentiable cast, so double backward still works), others as
    they are. Cast the formula's result back (`.to(grad.dtype)`) to round once, as torch's
    fused backward kernels do."""
    return tuple(t.float() if isinstance(t, Tensor) and is_half(t._data.dtype) else t
                 for t in tensors)


def fma32(a, b, c):
    """a * b + c on float32 values, rounded once to float32 (a fused multiply-add, as torch's
    compiled kernels contract them): float64 holds the product of two float32 exactly."""
    return (np.multiply(a, b, dtype=np.float64) + c).astype(_F32)


def round_through(a, dt):
    """float32 values as a tensor of the half type dt stores them (rounded), given back as
    float32: the rounding a half-type kernel makes after one of its steps."""
    return np.asarray(a, _F32).astype(dt).astype(_F32)


VECTOR_BLOCK = 32   # elements per step of torch's vectorised loops over the half types


def vectorised_count(a):
    """How many leading elements of a half-type elementwise op on `a` torch's vectorised
    loop computes: whole blocks of VECTOR_BLOCK of a C-contiguous array, none of a strided
    one; its scalar loop, which some kernels round differently, does the rest. (A permuted
    contiguous array, torch walks in memory order: see `in_memory_order`.)"""
    if not a.flags.c_contiguous:
        return 0
    return a.size - a.size % VECTOR_BLOCK


def in_memory_order(a):
    """(a with its axes sorted by decreasing stride, the permutation that undoes it): a
    C-contiguous view when a is a permuted contiguous array (a transposed matrix...)."""
    order = sorted(range(a.ndim), key=lambda i: -a.strides[i])
    return a.transpose(order), np.argsort(order)


# A transposing copy (the last axis read with a stride of at least a page, the one before it
# contiguous: x.t().contiguous(), NCHW -> NHWC) is slow in NumPy's own copy loop, which walks
# the destination in order: the source elements it reads one after another lie a page or more
# apart, so they compete for the same few cache sets. Copying the last axis in strips of
# _STRIP elements instead reads _STRIP rows of the source together, each cache line used for
# all of its elements before it leaves: measured 3-4.5x faster for float32 matrices of 512
# rows and more (torch's transposing copy is blocked as well).
_STRIP = 8
_STRIDE_MIN = 2048   # bytes: below this NumPy's own loop is as fast (measured)
_SLAB = 1 << 16      # elements: a 2-D slab this big is copied slab by slab, to stay in cache


def transposing(src):
    """Whether copying src into C order is the transposing copy `assign` does in strips."""
    return (src.ndim >= 2 and src.shape[-1] >= 2 * _STRIP and src.shape[-2] >= 16
            and src.size >= 1 << 14 and src.strides[-2] == src.itemsize
            and abs(src.strides[-1]) >= _STRIDE_MIN)


def assign(dst, src):
    """dst[...] = src for arrays of one shape, in strips when that is a transposing copy
    into a destination whose last axis is contiguous."""
    nd = src.ndim
    if not transposing(src) or dst.strides[-1] != dst.itemsize:
        dst[...] = src
        return dst
    n = src.shape[-1]
    slabs = (np.ndindex(*src.shape[:-2]) if nd > 2 and src.shape[-1] * src.shape[-2] >= _SLAB
             else [Ellipsis])
    for i in slabs:
        d, s = dst[i], src[i]
        for j in range(0, n, _STRIP):
            d[..., j:j + _STRIP] = s[..., j:j + _STRIP]
    return dst


def c_copy(a):
    """A C-contiguous copy of a (np.array(a, order="C", copy=True), faster for transposes)."""
    return assign(np.empty(a.shape, a.dtype), a)


def moved_last(a, axis):
    """a with `axis` moved last, for work along rows: a view, or a strip-wise copy where the
    moved array would be read transposed (NumPy's row kernels copy it themselves, slowly)."""
    moved = np.moveaxis(a, axis, -1)
    return c_copy(moved) if transposing(moved) else moved


# np.where walks its arrays with a branch per element: on the random masks that activations,
# clamps and losses make (half true, half false) the branch predictor fails half the time and
# the loop runs ~8x slower than on a sorted mask (512x1024 float32: 1.9 ms). `select` picks
# bits instead: the mask widened to words of all ones or all zeros, then b ^ ((a ^ b) & words),
# which every element runs the same way (0.25 ms), with exactly np.where's values.
_WORDS = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}
_SELECT_MIN = 1 << 12   # elements: below this np.where's one call is cheaper


def select(cond, a, b):
    """np.where(cond, a, b) for a bool cond, an array a and an array or number b of a's
    dtype: a branch-free bit select for large inputs of real dtypes (a b of +0: one AND)."""
    big = type(b) is np.ndarray and b.size >= _SELECT_MIN
    if (type(a) is not np.ndarray or type(cond) is not np.ndarray
            or not (big or a.size >= _SELECT_MIN or cond.size >= _SELECT_MIN)
            or cond.dtype != np.bool_ or a.dtype.kind not in "biufV"):
        return np.where(cond, a, b)   # (small inputs first: select is on hot paths)
    dt = a.dtype
    if type(b) in _SCALARS and dt.kind != "V":   # (np.where's weak number)
        b = np.asarray(b, np.result_type(a, b))
    words = _WORDS.get(dt.itemsize)
    if words is None or type(b) is not np.ndarray or b.dtype != dt:
        return np.where(cond, a, b)
    shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
    out = np.broadcast_to(cond, shape).view(np.int8).astype(words, order="C")
    np.negative(out, out=out)   # True -> all ones, False -> 0
    ab = a.view(words)
    if b.ndim == 0 and not b.view(words):   # b is +0: a & words
        return np.bitwise_and(ab, out, out=out).view(dt)
    bb = b.view(words)
    np.bitwise_and(out, np.bitwise_xor(ab, bb), out=out)
    return np.bitwise_xor(out, bb, out=out).view(dt)


# Zero gradients. torch writes them as zeros (zeros_like, where(mask, grad, 0), masked_fill),
# never as grad * 0, which would pass NaN and infinity in grad through.

def zero_of(grad):
    """A 0-d zero of grad's dtype: the masked-out branch of a where (broadcasts for free)."""
    return Tensor._make(np.zeros((), grad._data.dtype))


def zeros_of(grad):
    """torch's zeros_like(grad): the gradient of a piecewise-constant op."""
    return Tensor._make(np.zeros(grad._data.shape, grad._data.dtype))


def run_ranks(keys):
    """Each element's place in its run of equal neighbours of the 1-D array `keys` (0 for a
    run's first element): with sorted keys, an element's count of earlier equal ones."""
    new = np.concatenate(([True], keys[1:] != keys[:-1]))
    return np.arange(keys.size) - np.flatnonzero(new)[np.cumsum(new) - 1]


_ADD_AT_LAYERS = 32   # most repeats of one index for which add_at adds layer by layer


def add_at(out, key, v):
    """np.add.at(out, key, v) (repeated indices accumulate, in their order). Rows picked by
    one 1-D index array (an embedding's or x[idx]'s gradient) are added in layers instead:
    every index's first occurrence at once, then every second occurrence, ... each layer one
    fancy-indexed += without repeats. np.add.at walks every element on its own, ~10x slower
    (4,096 rows of 256: 9 ms); the sums are the same, in the same order."""
    idx = key[0] if type(key) is tuple and len(key) == 1 else key
    if (type(idx) is not np.ndarray or idx.ndim != 1 or idx.dtype.kind not in "iu"
            or v.shape != idx.shape + out.shape[1:] or v.dtype != out.dtype
            or v.size < 4096 or v.size < 8 * idx.size or idx.size < 2):
        np.add.at(out, key, v)
        return out
    if idx.dtype.kind == "i" and idx.min() < 0:
        idx = np.where(idx < 0, idx + out.shape[0], idx)
    order = np.argsort(idx, kind="stable")
    repeat = run_ranks(idx[order])   # 0 for an index's first occurrence, 1 its second...
    if repeat.max() >= _ADD_AT_LAYERS:
        np.add.at(out, key, v)
        return out
    for r in range(repeat.max() + 1):
        rows = order[repeat == r]
        out[idx[rows]] += v[rows]
    return out
