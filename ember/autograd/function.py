"""`Function`: an op with a hand-written backward, and the node it leaves in the graph.

The node *is* the context: `ctx` in `forward(ctx, ...)` and `backward(ctx, ...)` is the instance
recorded as the output's `grad_fn`. Two flavours:

- `Function` is torch's `torch.autograd.Function` for user code: forward receives Tensors.
- `ArrayFunction` is how ember's own ops are written: forward receives backend arrays (NumPy or
  CuPy) and returns arrays; backward receives and returns Tensors, so the same code gives first
  and higher-order gradients. `ctx.save_for_backward` takes arrays here; `ctx.saved_tensors`
  gives them back as Tensors (inputs as the input Tensors, outputs attached to this node).
"""
import functools

from ember._backend import np
from ember._tensor import Tensor, _can_require_grad
from ember.autograd.grad_mode import state as _grad_state
from ember.autograd.graph import (_FREED, _FREED_MESSAGE, Node, _hooks_entered, _saved_hooks,
                                  accumulator_of, next_seq)

__all__ = ["Function", "ArrayFunction", "FunctionCtx", "once_differentiable", "InplaceFunction",
           "rename_node", "rename_result", "match_class"]

_new = object.__new__
_make = Tensor._make


class _NoGrads(tuple):
    """needs_input_grad when nothing is recorded: False at every index."""

    def __getitem__(self, i):
        return False


_NO_GRADS = _NoGrads()


class SavedTensor:
    """One saved value plus the version it had, checked when backward unpacks it."""

    __slots__ = ("data", "vc", "version", "tensor", "output_nr")

    def __init__(self, data, vc, tensor, output_nr):
        self.data = data
        self.vc = vc
        self.version = vc.value if vc is not None else 0
        self.tensor = tensor        # an input (or other) Tensor, kept as is
        self.output_nr = output_nr  # an output of this node: rebuilt on unpack (no cycle)

    def unpack(self, node):
        if self.vc is not None and self.vc.value != self.version:
            _raise_modified(self, node)
        if self.tensor is not None:
            return self.tensor
        t = Tensor._make(self.data)
        if self.output_nr is not None:
            t._vc = self.vc
            t._requires_grad = True
            t.grad_fn = node
            t._output_nr = self.output_nr
        return t


class PackedSaved:
    """A saved tensor that went through saved_tensors_hooks' pack hook when it was saved:
    only what the hook returned is kept, and the unpack hook gives the tensor back on each
    read. `edge` (the input's graph edge) and `output_nr` (for an output) tell `_saved_self`,
    `_saved_other` and `_saved_result` which saved value is which."""

    __slots__ = ("packed", "unpack_hook", "edge", "output_nr")

    def __init__(self, packed, unpack_hook, edge, output_nr):
        self.packed = packed
        self.unpack_hook = unpack_hook
        self.edge = edge
        self.output_nr = output_nr

    def unpack(self, node):
        t = self.unpack_hook(self.packed)
        if not isinstance(t, Tensor):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(t).__name__}")
        return t


_SAVED_TYPES = (SavedTensor, PackedSaved)


def _pack_saved(ctx, result):
    """The values a node just recorded saved, handed to the innermost saved_tensors_hooks'
    pack hook (in this thread; none: kept as they are): inputs as the input tensors, outputs
    as the output tensors, as torch hands them over."""
    if not _saved_hooks.stack:
        return
    pack, unpack = _saved_hooks.stack[-1]
    packed = []
    for s in ctx._saved:
        if type(s) is not SavedTensor:
            packed.append(s)
            continue
        edge = None
        if s.output_nr is not None:
            t = result[s.output_nr] if isinstance(result, (tuple, list)) else result
        elif s.tensor is not None:
            t = s.tensor
            edge = _edge_of(t) if t._requires_grad else None
        else:
            t = Tensor._make(s.data)
        packed.append(PackedSaved(pack(t), unpack, edge, s.output_nr))
    ctx._saved = packed


def _rename_class(cls, name):
    cls.__qualname__ = cls.__qualname__[:-len(cls.__name__)] + name
    cls.__name__ = name


_NAMED = {}   # (node class, name) -> its subclass of that name


def _type_name(name):
    """The type name torch gives a node of this name(): without its C++ namespace
    ('torch::autograd::CopySlices' is of type CopySlices)."""
    return name.rsplit("::", 1)[-1]


def _named_class(cls, name):
    """cls's subclass for nodes whose name() is `name` (made once), so that
    type(node).__name__ is as in torch."""
    sub = _NAMED.get((cls, name))
    if sub is None:
        short = _type_name(name)
        sub = _NAMED[(cls, name)] = type(cls)(short, (cls,), {
            "__module__": cls.__module__, "__qualname__": short, "_named_from": cls})
    return sub


def match_class(node):
    """Move a dynamically named node to the class named as it is (see _named_class): on
    recording, and after anything its name() reads is changed."""
    name = node.name()
    cls = type(node)
    if type(name) is str and _type_name(name) != cls.__name__:
        node.__class__ = _named_class(cls.__dict__.get("_named_from", cls), name)


def rename_node(node, name):
    """Give a recorded node the name torch's dispatch records for this call, and the class of
    that name (kept in its `_name` where its name() reads one)."""
    if type(node)._dynamic_name:
        node._name = name
        match_class(node)
    else:
        cls = type(node)
        node.__class__ = _named_class(cls.__dict__.get("_named_from", cls), name)


def rename_result(t, name):
    """t, its node (when one was recorded) given the name torch's dispatch records."""
    if t.grad_fn is not None:
        rename_node(t.grad_fn, name)
    return t


def _raise_modified(saved, node):
    t = saved.tensor
    data = saved.data if t is None else t._data
    from ember._dtype import from_numpy_dtype
    desc = f"[torch.{from_numpy_dtype(data.dtype)._legacy}Tensor [{', '.join(map(str, data.shape))}]]"
    if saved.output_nr is not None:
        desc += f", which is output {saved.output_nr} of {_op_name(node)},"
    elif t is not None and t.grad_fn is not None:
        desc += f", which is output {t._output_nr} of {_op_name(t.grad_fn)},"
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {desc} is at version {saved.vc.value}; expected version {saved.version} "
        "instead. Hint: enable anomaly detection to find the operation that failed to compute "
        "its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")


def _op_name(node):
    """'ExpBackward0' -> 'Exp', as torch names the forward op in this message."""
    name = node.name()
    i = name.rfind("Backward")
    return name[:i] if i > 0 else name


class FunctionCtx:
    """The ctx methods forward and backward use (mixed into every Function node)."""

    needs_input_grad = _NO_GRADS
    _materialize_grads = True
    _raw_saved = ()
    _dirty = ()
    _non_differentiable = ()

    def save_for_backward(self, *tensors):
        self._raw_saved = tensors

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(_FREED_MESSAGE)
        if saved is None:
            return tuple(self._raw_saved)   # not recorded (e.g. under no_grad)
        return tuple([s.unpack(self) if type(s) in _SAVED_TYPES else s for s in saved])

    saved_variables = saved_tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        self._materialize_grads = bool(value)


class Function(FunctionCtx, Node):
    """torch.autograd.Function: subclass with static `forward(ctx, *args)` and
    `backward(ctx, *grads)` and call `MyFunction.apply(*args)`."""

    def __init__(self, *args, **kwargs):
        pass

    def name(self):
        return type(self).__name__ + "Backward"

    def __repr__(self):   # torch's backward classes for user Functions live in this module
        return f"<ember.autograd.function.{self.name()} object at {hex(id(self))}>"

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is "
                           "deprecated. Please use new-style autograd function with static "
                           "forward method.")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = _new(cls)
        ctx._saved = None
        record = _grad_state.enabled and any(
            isinstance(a, Tensor) and a._requires_grad for a in args)
        if record:
            ctx._seq = next_seq()
            ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad
                                         for a in args)
        prev = _grad_state.enabled
        _grad_state.enabled = False
        try:
            if cls.setup_context is not Function.setup_context:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            _grad_state.enabled = prev
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        if not record:
            return outputs
        tensor_inputs = [a for a in args if isinstance(a, Tensor)]
        _record_inputs(ctx, args)   # before outputs rebase any dirty input's history
        wrapped = []
        dirty = {id(t) for t in ctx._dirty}
        non_diff = {id(t) for t in ctx._non_differentiable}
        for nr, o in enumerate(outs):
            if not isinstance(o, Tensor):
                wrapped.append(o)
                continue
            if id(o) in dirty:
                _check_inplace_leaf(o)
                t = o
            elif any(o is a for a in tensor_inputs):
                t = o.view_as(o)   # an input returned as is becomes a fresh alias (as in torch)
                t._base = o._base
            else:
                t = o
            if id(o) not in non_diff and _can_require_grad(t._data):
                t._requires_grad = True
                t.grad_fn = ctx
                t._output_nr = nr
            wrapped.append(t)
        _record_outputs(ctx, wrapped)
        return wrapped[0] if single else tuple(wrapped)

    def _apply(self, grads):
        if self._materialize_grads:
            grads = [g if g is not None else _zeros_like_meta(meta)
                     for g, meta in zip(grads, self._output_meta)]
        result = type(self).backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        positions = self._tensor_positions
        if len(result) != self._n_args:
            if len(result) > self._n_args and all(g is None for g in
                                                         result[self._n_args:]):
                result = result[:self._n_args]
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                                   f"gradients (expected {self._n_args}, got "
                                   f"{len(result)})")
        return tuple(result[i] for i in positions)


def _zeros_like_meta(meta):
    if meta is None:
        return None
    from ember._backend import np
    shape, dt = meta
    return Tensor._make(np.zeros(shape, dt))


def _check_inplace_leaf(t):
    if t.grad_fn is None and t._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


def _record_inputs(ctx, inputs):
    """Edges from ctx to the nodes that produced its tensor inputs, and their metadata."""
    next_functions = []
    metas = []
    ctx._n_args = len(inputs)
    ctx._tensor_positions = tuple(i for i, x in enumerate(inputs) if isinstance(x, Tensor))
    for x in inputs:
        if isinstance(x, Tensor):
            _, edge, meta = _input_edge(x)
            next_functions.append(edge)
            metas.append(meta)
    ctx.next_functions = tuple(next_functions)
    ctx._input_meta = tuple(metas)


def _record_outputs(ctx, outputs):
    """Output metadata and the saved tensors, resolved now that outputs exist."""
    ctx._output_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None
                             for o in outputs)
    raw = ctx._raw_saved
    if raw:
        saved = []
        for s in raw:
            if s is None:
                saved.append(None)
                continue
            nr = next((i for i, o in enumerate(outputs) if o is s), None)
            if nr is not None and s.grad_fn is ctx:
                saved.append(SavedTensor(s._data, s._vc, None, nr))
            else:
                saved.append(SavedTensor(s._data, s._vc, s, None))
        ctx._saved = saved
        ctx._raw_saved = ()
        if _hooks_entered[0]:
            _pack_saved(ctx, outputs)


def once_differentiable(fn):
    """Decorate a backward that cannot itself be differentiated: runs it without recording."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        prev = _grad_state.enabled
        _grad_state.enabled = False
        try:
            out = fn(ctx, *args)
        finally:
            _grad_state.enabled = prev
        return out
    return wrapper


class InplaceFunction(Function):
    def __init__(self, inplace=False):
        self.inplace = inplace


# ---------------------------------------------------------------------------------------------
# ember's own ops: forward on backend arrays

class ArrayFunction(FunctionCtx, Node):
    """An ember op: `forward(ctx, *arrays, **params) -> array(s)`, `backward(ctx, *grads)`.

    `apply` runs forward, wraps the result, and records this node only when grad mode is on and
    some input requires grad. The engine sums each returned gradient to its input's shape, so
    backward never undoes broadcasting itself. Outputs of integer or bool dtype never require
    grad. Names: `class Mul` is renamed `MulBackward0` when defined (see __init_subclass__),
    so its nodes print and type-name as torch's.
    """

    _materialize_grads = True
    _dynamic_name = False   # name() depends on the call (see __init_subclass__)
    _view = False   # True for ops whose output is a view of input 0 (shares its version counter)
    what = None     # a node without derivative: the aten kernel its backward error names
    # Optional: a NumPy function equal to forward for one or two inputs when no node is recorded
    # and no keyword parameters are given (np.add for Add). It skips creating the node.
    fast = None
    # True where forward(a, b) without keywords is just `fast`, keeps nothing on ctx and backward
    # reads nothing from it, needs_input_grad included (Add, Sub): record_binary then calls
    # `fast` itself and sets nothing on the node but its edges.
    stateless = False

    def name(self):
        return type(self).__name__

    def __init_subclass__(cls, **kwargs):
        """The class takes the name of the node it records, as torch's node classes have it
        (`type(y.grad_fn).__name__` is 'MulBackward0' for class Mul; graph walkers such as
        torchviz name nodes by their type): name()'s answer for a bare instance where it has
        one (a class default: Linear's AddmmBackward0), else the class name + 'Backward0'.
        Classes that override name() are `_dynamic_name`: a node whose name() differs from its
        class's once recorded (or renamed) moves to a subclass of that name (`_named_class`)."""
        super().__init_subclass__(**kwargs)
        if "_named_from" in cls.__dict__:   # a subclass made by _named_class: named already
            return
        cls._dynamic_name = cls.name is not ArrayFunction.name
        _rename_class(cls, cls.__name__ + "Backward0")
        if cls._dynamic_name:
            try:
                default = cls.name(_new(cls))
            except Exception:   # a name built from what forward stores
                return
            if type(default) is str and _type_name(default).isidentifier():
                _rename_class(cls, _type_name(default))

    @classmethod
    def apply(cls, *inputs, **params):
        record = False
        if _grad_state.enabled:
            for x in inputs:
                if isinstance(x, Tensor) and x._requires_grad:
                    record = True
                    break
        ctx = _new(cls)
        if not record:
            # The hot path: unpack the common arities without building a list.
            n = len(inputs)
            fast = cls.fast
            try:
                if fast is not None and not params and n <= 2:
                    if n == 2:
                        x, y = inputs
                        out = fast(x._data if isinstance(x, Tensor) else x,
                                   y._data if isinstance(y, Tensor) else y)
                    else:
                        out = fast(inputs[0]._data)
                    if isinstance(out, np.generic):   # NumPy gives scalars for 0-d results
                        out = np.asarray(out)
                    return Tensor._make(out)
                if n == 1:
                    x = inputs[0]
                    out = ctx.forward(x._data if isinstance(x, Tensor) else x, **params)
                elif n == 2:
                    x, y = inputs
                    out = ctx.forward(x._data if isinstance(x, Tensor) else x,
                                      y._data if isinstance(y, Tensor) else y, **params)
                else:
                    out = ctx.forward(*[x._data if isinstance(x, Tensor) else x
                                        for x in inputs], **params)
            except ValueError as exc:
                raise _broadcast_error(exc, inputs) from None
            if cls._view:
                wrap = inputs[0]._view_of
                return tuple(wrap(o) for o in out) if type(out) is tuple else wrap(out)
            if type(out) is tuple:
                return tuple(Tensor._make(o) for o in out)
            return Tensor._make(out)

        ctx._seq = next_seq()
        if not cls._view:
            if len(inputs) == 1:
                return _record_one(ctx, inputs[0], params)
            if len(inputs) == 2:
                return _record_small(ctx, inputs, params)

        # Recording: one pass over the inputs gives the edges, what backward needs, metadata.
        arrays, edges, metas = zip(*[_input_edge(x) for x in inputs])
        ctx.needs_input_grad = tuple(m is not None for m in metas)
        try:
            out = ctx.forward(*arrays, **params)
        except ValueError as exc:
            raise _broadcast_error(exc, inputs) from None
        ctx.next_functions = edges
        ctx._input_meta = metas
        return _attach(ctx, inputs, out, inputs[0]._view_of if cls._view else Tensor._make)

    def __getattr__(self, name):
        """torch's `_saved_self`, `_saved_other` and `_saved_result` (only looked up when
        ordinary attribute lookup fails: no cost to the ops)."""
        if name in ("_saved_self", "_saved_other", "_saved_result"):
            return _saved_attribute(self, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _apply(self, grads):
        if self._output_meta is not None and self._materialize_grads:
            from ember._backend import np
            grads = [g if g is not None else Tensor._make(np.zeros(*meta))
                     for g, meta in zip(grads, self._output_meta)]
        return self.backward(*grads)


_NO_EDGE = (None, 0)


def _saved_attribute(node, name):
    """The value a node saved as its first input (`_saved_self`), second (`_saved_other`) or
    its output (`_saved_result`), found by the edge it came in on; torch's error once the
    graph's saved values were freed."""
    saved = node._saved
    if saved is _FREED:
        raise RuntimeError(_FREED_MESSAGE)
    for s in saved or ():
        if type(s) not in _SAVED_TYPES:
            continue
        if name == "_saved_result":
            if s.output_nr is not None:
                return s.unpack(node)
            continue
        i = 0 if name == "_saved_self" else 1
        if type(s) is PackedSaved:
            edge = s.edge
        else:
            x = s.tensor
            edge = _edge_of(x) if x is not None and x._requires_grad else None
        if edge is not None and i < len(node.next_functions) and edge == node.next_functions[i]:
            return s.unpack(node)
    raise AttributeError(f"'{node.name()}' object has no attribute '{name}'")


def _input_edge(x):
    """(backend value, graph edge, (shape, dtype) or None) of one op input: the edge leads to
    the node that made x (or its AccumulateGrad); inputs that need no gradient get no edge."""
    if isinstance(x, Tensor):
        a = x._data
        if x._requires_grad:
            fn = x.grad_fn
            return (a, (fn, x._output_nr) if fn is not None else (accumulator_of(x), 0),
                    (a.shape, a.dtype))
        return a, _NO_EDGE, None
    return x, _NO_EDGE, None


_ONE_NEEDED = (True,)


def _record_one(ctx, x, params):
    """ArrayFunction.apply's recording path for one input (then a tensor that requires grad)
    and a non-view result: the general path below without its lists and loops (unary ops and
    reductions, a good part of every training step)."""
    a = x._data
    ctx.next_functions = (_edge_of(x),)
    ctx._input_meta = ((a.shape, a.dtype),)
    ctx.needs_input_grad = _ONE_NEEDED
    try:
        out = ctx.forward(a, **params) if params else ctx.forward(a)
    except ValueError as exc:
        raise _broadcast_error(exc, (x,)) from None
    if type(out) is tuple or ctx._non_differentiable:
        return _attach(ctx, (x,), out, Tensor._make)
    result = Tensor._make(out, _can_require_grad(out))
    if result._requires_grad:
        result.grad_fn = ctx
    if ctx._dynamic_name:
        match_class(ctx)
    ctx._output_meta = None
    raw = ctx._raw_saved
    if not raw:
        ctx._saved = None
        return result
    # _resolve_saved, its two commonest cases first: the input, or the output, saved alone
    if len(raw) == 1 and raw[0] is a:
        ctx._saved = [SavedTensor(a, x._vc, x, None)]
    elif len(raw) == 1 and raw[0] is out and result._requires_grad:
        ctx._saved = [SavedTensor(out, result._vc, None, 0)]
    else:
        ctx._saved = _resolve_saved(raw, (x,), (out,), result)
    ctx._raw_saved = ()
    if _hooks_entered[0]:
        _pack_saved(ctx, result)
    return result


def _record_small(ctx, inputs, params):
    """ArrayFunction.apply's recording path for two inputs and a non-view result: the general
    path below without its lists (binary ops beyond the operators' own lane)."""
    a, ex, mx = _input_edge(inputs[0])
    b, ey, my = _input_edge(inputs[1])
    ctx.needs_input_grad = (mx is not None, my is not None)
    try:
        out = ctx.forward(a, b, **params) if params else ctx.forward(a, b)
    except ValueError as exc:
        raise _broadcast_error(exc, inputs) from None
    ctx.next_functions = (ex, ey)
    ctx._input_meta = (mx, my)
    return _attach(ctx, inputs, out, Tensor._make)


def _attach(ctx, inputs, out, wrap):
    """forward's array(s) wrapped as Tensors (by `wrap`), each one that can require grad
    attached to this node under its output number; the values forward saved resolved."""
    if ctx._dynamic_name:
        match_class(ctx)
    non_diff = ctx._non_differentiable
    if type(out) is tuple:
        outs = []
        for nr, o in enumerate(out):
            t = wrap(o)
            if _can_require_grad(o) and not any(o is n for n in non_diff):
                t._requires_grad = True
                t.grad_fn = ctx
                t._output_nr = nr
            outs.append(t)
        ctx._output_meta = tuple((o.shape, o.dtype) for o in out)
        result = tuple(outs)
        out_arrays = out
    else:
        result = wrap(out)
        if not non_diff and _can_require_grad(out):
            result._requires_grad = True
            result.grad_fn = ctx
        ctx._output_meta = None
        out_arrays = (out,)
    raw = ctx._raw_saved
    if raw:
        ctx._saved = _resolve_saved(raw, inputs, out_arrays, result)
        ctx._raw_saved = ()
        if _hooks_entered[0]:
            _pack_saved(ctx, result)
    else:
        ctx._saved = None
    return result


def _edge_of(x):
    """The graph edge to the node that made a tensor that requires grad (or its accumulator)."""
    fn = x.grad_fn
    return (fn, x._output_nr) if fn is not None else (accumulator_of(x), 0)


def record_binary(op, x, y, a, b):
    """The recorded `op(x, y)` for binary_lane's operands: x a tensor with array `a`, y a
    tensor of the same dtype or a Python number, with array (or number) `b`; one floating
    output that requires grad. _record_small without the cases these operands cannot have
    (the hot path of every training step's arithmetic)."""
    ctx = _new(op)
    ctx._seq = next_seq()
    if x._requires_grad:
        ex, mx = _edge_of(x), (a.shape, a.dtype)
    else:
        ex, mx = _NO_EDGE, None
    if y is x:   # x * x: one edge, looked up once
        ey, my = ex, mx
    elif b is not y and y._requires_grad:   # b is y exactly when y is a Python number
        ey, my = _edge_of(y), (b.shape, b.dtype)
    else:
        ey, my = _NO_EDGE, None
    if op.stateless:   # forward is op.fast, and the node keeps nothing (Add, Sub)
        try:
            out = op.fast(a, b)
        except ValueError as exc:
            raise _broadcast_error(exc, (x, y)) from None
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        ctx.next_functions = (ex, ey)
        ctx._input_meta = (mx, my)
        ctx._output_meta = ctx._saved = None
        result = _make(out, True)
        result.grad_fn = ctx
        return result
    ctx.needs_input_grad = (mx is not None, my is not None)
    try:
        out = ctx.forward(a, b)
    except ValueError as exc:
        raise _broadcast_error(exc, (x, y)) from None
    ctx.next_functions = (ex, ey)
    ctx._input_meta = (mx, my)
    ctx._output_meta = None
    if ctx._dynamic_name:
        match_class(ctx)
    result = _make(out, True)
    result.grad_fn = ctx
    raw = ctx._raw_saved
    if raw:
        ctx._saved = _resolve_saved(raw, (x, y), (out,), result)
        ctx._raw_saved = ()
        if _hooks_entered[0]:
            _pack_saved(ctx, result)
    else:
        ctx._saved = None
    return result


def _broadcast_error(exc, inputs):
    """NumPy's ValueError for shapes that don't broadcast, as torch's RuntimeError (any other
    ValueError passes through). Costs nothing unless an op fails."""
    if "broadcast" not in str(exc):
        return exc
    shapes = [x._data.shape for x in inputs if isinstance(x, Tensor)]
    if len(shapes) < 2:
        return RuntimeError(str(exc))
    sa, sb = shapes[0], shapes[1]
    n = max(len(sa), len(sb))
    for i in range(1, n + 1):
        a = sa[-i] if i <= len(sa) else 1
        b = sb[-i] if i <= len(sb) else 1
        if a != b and a != 1 and b != 1:
            return RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                                f"({b}) at non-singleton dimension {n - i}")
    return RuntimeError(str(exc))


def _resolve_saved(raw, inputs, out_arrays, result):
    """Saved arrays -> SavedTensors: inputs keep their Tensor, outputs are rebuilt on unpack."""
    saved = []
    for a in raw:
        if not isinstance(a, np.ndarray):
            saved.append(a)   # None or a Python scalar
            continue
        for x in inputs:
            if isinstance(x, Tensor) and x._data is a:
                saved.append(SavedTensor(a, x._vc, x, None))
                break
        else:
            for nr, o in enumerate(out_arrays):
                if o is a:
                    t = result[nr] if type(result) is tuple else result
                    if t.grad_fn is not None:
                        saved.append(SavedTensor(a, t._vc, None, nr))
                    else:
                        saved.append(SavedTensor(a, t._vc, t, None))
                    break
            else:
                saved.append(SavedTensor(a, None, None, None))   # an intermediate: a constant
    return saved
