"""The autograd graph and the engine that runs it backward.

A graph node is the op instance recorded in forward (`MulBackward0`, ...). Its `next_functions`
are edges `(node, output_nr)` to the nodes that produced its inputs, or to an `AccumulateGrad`
node for a leaf that requires grad, or `(None, 0)` for inputs that need no gradient.

The engine (`run_backward`) is iterative: it counts each node's incoming edges, then runs nodes
whose count has dropped to zero, accumulating gradients per output in a buffer. No recursion, so
a chain of 100,000 ops backpropagates. Of the nodes ready to run, it takes the one recorded last
(each node gets a sequence number when recorded, as torch's do), AccumulateGrad nodes before
all others: torch's order, so gradients that meet in one tensor are summed in torch's order and
hooks fire in torch's order.
"""
import contextlib
import heapq
import itertools
import sys
import threading
import weakref
from typing import NamedTuple

import numpy as np

from ember.autograd.grad_mode import state as _grad_state

__all__ = ["Node", "AccumulateGrad", "RemovableHandle", "run_backward", "GradientEdge",
           "get_gradient_edge", "increment_version", "saved_tensors_hooks", "save_on_cpu",
           "disable_saved_tensors_hooks", "register_multi_grad_hook",
           "allow_mutation_on_saved_tensors", "region_activation_memory_budget",
           "set_warn_on_accumulate_grad_stream_mismatch", "set_override_stale_capture_stream"]

_FREED = object()   # stands in for saved tensors released after backward

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")


class RemovableHandle:
    """Returned by hook registrations; `remove()` unregisters the hook."""

    _ids = itertools.count()
    __slots__ = ("_dict_ref", "id")

    def __init__(self, hooks_dict, hook):
        self.id = next(RemovableHandle._ids)
        hooks_dict[self.id] = hook
        self._dict_ref = weakref.ref(hooks_dict) if _weakrefable(hooks_dict) else (
            lambda d=hooks_dict: d)

    def remove(self):
        d = self._dict_ref()
        if d is not None:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _weakrefable(obj):
    try:
        weakref.ref(obj)
        return True
    except TypeError:
        return False


class _HookDict(dict):
    """A dict that can be weakly referenced (plain dicts cannot)."""
    __slots__ = ("__weakref__",)


class Node:
    """A recorded op in the backward graph. Subclasses implement `_apply(grad_outputs)`."""

    __slots__ = ("next_functions", "_input_meta", "_saved", "_output_meta", "_seq", "__weakref__")

    # Hooks are rare: class-level None until a registration stores a dict on the instance.
    _hooks = _pre_hooks = _tensor_hooks = None

    def name(self):
        return type(self).__name__

    def __repr__(self):   # (torch's C++ node names print without their namespace)
        return f"<{self.name().rsplit('::', 1)[-1]} object at {hex(id(self))}>"

    @property
    def metadata(self):
        return {}

    # --- hooks ---------------------------------------------------------------------------------

    def register_hook(self, fn):
        """`fn(grad_inputs, grad_outputs)` after this node ran; a non-None result replaces
        grad_inputs."""
        if self._hooks is None:
            self._hooks = _HookDict()
        return RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn):
        """`fn(grad_outputs)` before this node runs; a non-None result replaces grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = _HookDict()
        return RemovableHandle(self._pre_hooks, fn)

    def _tensor_pre_hook(self, output_nr, fn):
        hooks = self._tensor_hooks
        if hooks is None:
            hooks = self._tensor_hooks = {}
        d = hooks.get(output_nr)
        if d is None:
            d = hooks[output_nr] = _HookDict()
        return RemovableHandle(d, fn)


class AccumulateGrad(Node):
    """The sink for a leaf tensor: adds the incoming gradient into `variable.grad`."""

    __slots__ = ("variable", "__dict__")
    next_functions = ()   # a sink: no edges (class-level, so that creating one is cheap)
    _output_meta = None
    _seq = 1 << 62   # torch's top sequence number: a leaf's gradient is accumulated once ready

    def __lt__(self, other):
        """Between two ready AccumulateGrad nodes (equal numbers) the engine's queue takes
        either: their order changes no value."""
        return id(self) < id(other)

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def _hooked(self, grad):
        """The leaf's gradient after its tensor hooks (each may replace it)."""
        for hook in tuple(self.variable._hooks.values()):
            if type(hook) is not PostAccumulateGradHook:
                result = hook(grad)
                if result is not None:
                    grad = result
        return grad

    def _accumulate(self, grad, create_graph):
        var = self.variable
        hooks = var._hooks
        if hooks:
            grad = self._hooked(grad)
        old = var._grad
        if old is None:
            # The incoming gradient becomes .grad itself when nothing but the engine holds it
            # (torch "steals" it too); else a copy, as other leaves, a hook or the caller may
            # hold it and write into it (or see .grad written into).
            # Either way .grad has the leaf's memory layout, as torch's contract for it says.
            if create_graph or (not hooks and _holders(grad) == _ENGINE_HOLDERS
                                and _owns_memory(grad) and _same_layout(grad._data, var._data)):
                var._grad = grad
            else:
                var._grad = _fresh(grad, var)
        elif create_graph or _grad_state.enabled:
            var._grad = old + grad
        else:
            old._data += grad._data
            old._vc.value += 1
        if hooks:
            for hook in tuple(hooks.values()):
                if type(hook) is PostAccumulateGradHook:
                    hook.fn(var)


class PostAccumulateGradHook:
    """A leaf's hook(tensor) that runs once its .grad has been accumulated (kept in the same
    dict as its gradient hooks, so one handle type removes either)."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


def _fresh(grad, like=None):
    """A copy of a gradient laid out in memory as `like` (a leaf; else the gradient itself)
    is: NumPy's empty_like keeps a dense array's strides and makes others compact in the same
    order."""
    from ember._tensor import Tensor
    out = np.empty_like((grad if like is None else like)._data, dtype=grad._data.dtype)
    np.copyto(out, grad._data)
    return Tensor._make(out)


def _same_layout(a, b):
    """Whether arrays of one shape have the same strides, ignoring dims of size 1."""
    if a.flags.c_contiguous and b.flags.c_contiguous:
        return True
    return all(sa == sb for sa, sb, n in zip(a.strides, b.strides, a.shape) if n > 1)


_refcount = sys.getrefcount


def _holders(grad):
    """(references to a gradient tensor, references to its array), this call's included."""
    return _refcount(grad), _refcount(grad._data)


def _engine_holders():
    """What `_holders` counts, called from `AccumulateGrad._accumulate`, for a gradient that
    only the engine holds: its buffer's list, the parameter of `_accumulate`, and the tensor
    its array. Counted, not assumed, since Python versions differ in the references a call
    takes."""
    class Probe:   # (a tensor's stand-in: counts depend on the frames, not the type)
        __slots__ = ("_data",)

    def accumulate(grad):   # (the same frames as AccumulateGrad._accumulate's call)
        return _holders(grad)
    probe = Probe()
    probe._data = np.empty(1)
    buffer = [probe]
    del probe
    return accumulate(buffer[0])


_ENGINE_HOLDERS = _engine_holders()


def _owns_memory(grad):
    """Whether nothing but a gradient tensor reaches its array's memory: a plain writable
    array (not a read-only broadcast) that owns its memory, or views an array that nothing
    else references (the reshaped or transposed result of a kernel)."""
    a = grad._data
    if type(a) is not np.ndarray or not a.flags.writeable or grad._base is not None \
            or grad.grad_fn is not None:
        return False
    return a.base is None or (type(a.base) is np.ndarray and a.base.base is None
                              and _refcount(a.base) == _ENGINE_HOLDERS[1])


def accumulator_of(tensor):
    """The leaf's AccumulateGrad node, held weakly by the tensor (as torch does: the graph keeps
    it alive), so made anew once the last graph using it is gone."""
    ref = tensor._accumulator
    if ref is not None:
        node = ref()
        if node is not None:
            return node
    node = _new(AccumulateGrad)
    node.variable = tensor
    tensor._accumulator = _weakref(node)
    return node


_new = object.__new__
heappush, heappop = heapq.heappush, heapq.heappop
_weakref = weakref.ref

# A recorded node's `_seq`: the order of recording (torch's sequence_nr). The engine runs the
# ready node with the highest number first; a leaf's AccumulateGrad outranks every op node.
next_seq = itertools.count().__next__


def retain_grad_hook(tensor):
    ref = weakref.ref(tensor)

    def hook(grad):
        t = ref()
        if t is not None:
            if t._grad is None:
                t._grad = grad if _grad_state.enabled else _fresh(grad)
            else:
                t._grad = t._grad + grad
    hook._ember_retain = True
    return hook


# ---------------------------------------------------------------------------------------------
# Edges and versions as values

class GradientEdge(NamedTuple):
    """One edge of the graph: the node a tensor's gradient flows into, and which of its
    outputs the tensor is. `autograd.grad` takes one in place of a tensor input."""
    node: "Node"
    output_nr: int
    ownership_token: object = None


def get_gradient_edge(tensor):
    """The GradientEdge of a tensor that requires grad: its grad_fn (or a leaf's
    AccumulateGrad) and its output number."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does "
                           "not require gradients")
    if tensor.grad_fn is not None:
        return GradientEdge(tensor.grad_fn, tensor._output_nr)
    return GradientEdge(accumulator_of(tensor), 0)


def increment_version(tensor):
    """Count a write autograd did not see (data changed behind its back): each tensor's
    version goes up by one, so backward through a node that saved it raises."""
    from ember._tensor import Tensor
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        t._vc.value += 1


# ---------------------------------------------------------------------------------------------
# Hooks over several tensors

class _GraphTasks(threading.local):
    """Per thread, the backward passes running (innermost last), each a `_GraphTask`."""

    def __init__(self):
        self.stack = []


class _GraphTask:
    """One backward pass: the nodes the engine will run (what `register_multi_grad_hook`
    waits for). Weakly referenceable, so state kept per pass goes with it."""

    __slots__ = ("nodes", "__weakref__")

    def __init__(self, nodes):
        self.nodes = nodes


_graph_tasks = _GraphTasks()


def _current_task():
    if not _graph_tasks.stack:
        raise AssertionError("expected this hook to be called inside a backward call")
    return _graph_tasks.stack[-1]


class _MultiHandle(RemovableHandle):
    """The handle of a hook registered on several tensors: remove() removes it from all."""

    __slots__ = ("handles",)

    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for handle in self.handles:
            handle.remove()


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """A hook over several tensors, once per backward pass. mode="all": `fn(grads)` once
    the gradient of every tensor this pass computes has been computed, with a list holding
    them in order (None for tensors whose gradient the pass does not compute: not in its
    graph, or not needed for its `inputs`). mode="any": `fn(grad)` with the first of their
    gradients the pass computes. Returns a handle whose remove() removes it."""
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    lock = threading.Lock()
    if mode == "any":
        ran = weakref.WeakKeyDictionary()   # graph task -> whether fn ran in it

        def first_only(grad):
            task = _current_task()
            with lock:
                if ran.get(task):
                    return
                ran[task] = True
            fn(grad)
        return _MultiHandle(tuple(t.register_hook(first_only) for t in tensors
                                  if t.requires_grad))

    # where each tensor's gradient comes from: its grad_fn, or a leaf's accumulator (held
    # here, so the leaf's graphs keep using this one)
    sources = [t.grad_fn if t.grad_fn is not None else accumulator_of(t) if t.requires_grad
               else None for t in tensors]
    if None in sources:   # (torch's check, before any hook is registered)
        raise AssertionError("Expected gradient function to be set")
    pending = weakref.WeakKeyDictionary()   # graph task -> [gradients, how many still to come]

    def hook_for(i):
        def hook(grad):
            task = _current_task()
            with lock:
                state = pending.get(task)
                if state is None:
                    expected = sum(1 for n in sources if n in task.nodes)
                    state = pending[task] = [[None] * len(tensors), expected]
                state[0][i] = grad
                state[1] -= 1
                done = state[1] == 0
                if done:
                    del pending[task]
            if done:
                fn(state[0])
        return hook
    return _MultiHandle(tuple(t.register_hook(hook_for(i)) for i, t in enumerate(tensors)))


class _AllowMutationOnSavedContext:
    """One allow_mutation_on_saved_tensors block: `cloned` holds, for each handle its pack
    hook gave out, the copy of the tensor saved (weakly by handle: it goes with the graph)."""

    def __init__(self):
        self.cloned = weakref.WeakKeyDictionary()

    def clear(self):
        self.cloned.clear()


class _SavedHandle:
    __slots__ = ("__weakref__",)


_mutation_block = []   # the open allow_mutation_on_saved_tensors block (in any thread), if any
_OUTSIDE_BLOCK = ("Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
                  "in which the graph was originally recorded.")


@contextlib.contextmanager
def allow_mutation_on_saved_tensors():
    """Within it, a tensor saved for backward may be modified in place afterwards: backward
    uses its values from when it was saved, where it would otherwise raise. Forward and
    backward must both run inside (backward outside raises AssertionError), and blocks do not
    nest. ember copies each tensor when it is saved (torch copies it when it is first
    modified): the same gradients, for the memory of the copies while the graph lives. The
    copy is recorded (clone), so a double backward still reaches the tensor."""
    block = _AllowMutationOnSavedContext()

    def pack(tensor):
        handle = _SavedHandle()
        block.cloned[handle] = tensor.clone()
        return handle

    def unpack(handle):
        if not _mutation_block or handle not in block.cloned:
            raise AssertionError(_OUTSIDE_BLOCK)
        return block.cloned[handle]

    with saved_tensors_hooks(pack, unpack):
        try:
            if _mutation_block:
                raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
            _mutation_block.append(block)
            yield block
        finally:
            block.clear()
            if _mutation_block and _mutation_block[-1] is block:
                _mutation_block.pop()


def region_activation_memory_budget(budget):
    """A budget for the activations a compiled region saves: torch.compile's partitioner
    reads it. ember runs eagerly (its `compile` returns the function as it is), where torch
    refuses it: the same checks and error."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float)):
        raise TypeError(f"torch.autograd.graph.region_activation_memory_budget: expects a "
                        f"float, got {type(budget).__name__}")
    if not 0.0 <= budget <= 1.0:
        raise ValueError(f"torch.autograd.graph.region_activation_memory_budget: must be in "
                         f"[0, 1], got {budget}")
    raise RuntimeError("torch.autograd.graph.region_activation_memory_budget can only be used "
                       "inside a torch.compile region; it has no effect in eager mode.")


_stream_flags = {"warn_on_accumulate_grad_stream_mismatch": True,
                 "override_stale_capture_stream": False}


def set_warn_on_accumulate_grad_stream_mismatch(enabled):
    """Whether to warn when a leaf's gradient arrives on another device stream than its
    AccumulateGrad's: kept, but ember's CPU tensors have no streams to mismatch."""
    _stream_flags["warn_on_accumulate_grad_stream_mismatch"] = bool(enabled)


def set_override_stale_capture_stream(enabled):
    """How autograd treats a stale stream during CUDA graph capture: kept, but ember
    captures no CUDA graphs."""
    _stream_flags["override_stale_capture_stream"] = bool(enabled)


# ---------------------------------------------------------------------------------------------
# Saved-tensor hooks

class _SavedHooks(threading.local):
    """Per thread, as torch's: the (pack, unpack) pairs of the saved_tensors_hooks entered
    (the innermost applies) and the messages of the disable_saved_tensors_hooks entered."""

    def __init__(self):
        self.stack = []
        self.disabled = []


_saved_hooks = _SavedHooks()
_hooks_entered = [0]   # saved_tensors_hooks active in any thread: the recording paths' cheap check


class saved_tensors_hooks:
    """While active, each tensor an op saves for backward is handed to `pack_hook(tensor)`
    and only what it returns is kept; `unpack_hook(packed)` must give a tensor back each time
    backward (or a `_saved_*` attribute) reads it. The innermost pair applies. A packed tensor
    is not checked for in-place changes, as in torch: the hooks own what is kept."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _saved_hooks.disabled:
            raise RuntimeError(_saved_hooks.disabled[-1])
        _saved_hooks.stack.append((self.pack_hook, self.unpack_hook))
        _hooks_entered[0] += 1

    def __exit__(self, *exc):
        _saved_hooks.stack.pop()
        _hooks_entered[0] -= 1


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the CPU (a copy where pin_memory is asked for) and moved
    back to their device when backward reads them."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack_to_cpu(tensor):
            if not pin_memory:
                return tensor.device, tensor.cpu()
            from ember._ops.creation import empty_strided
            packed = empty_strided(tensor.size(), tensor.stride(), dtype=tensor.dtype)
            packed.copy_(tensor)
            return tensor.device, packed

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """Within it saved_tensors_hooks cannot be entered: doing so (or entering this while
    hooks are active) raises RuntimeError(error_message). Also a decorator."""
    if _saved_hooks.stack:
        raise RuntimeError(error_message)
    _saved_hooks.disabled.append(error_message)
    try:
        yield
    finally:
        _saved_hooks.disabled.pop()


# ---------------------------------------------------------------------------------------------
# The engine

def _edge_of(tensor, i):
    if tensor.grad_fn is not None:
        return tensor.grad_fn, tensor._output_nr
    if tensor._requires_grad:
        return accumulator_of(tensor), 0
    raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                       f"grad_fn")


def _dependencies(roots):
    """Every node reachable from roots (in discovery order: iterative DFS) -> the number of
    edges into it from nodes reachable from roots."""
    deps = dict.fromkeys(roots, 0)
    stack = list(roots)
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is not None:
                d = deps.get(nxt)
                if d is None:
                    deps[nxt] = 1
                    stack.append(nxt)
                else:
                    deps[nxt] = d + 1
    return deps


def _needed(order, targets):
    """Nodes from which some target node can be reached (the others need not run)."""
    needed = set(targets)
    # Reverse topological order: children before parents. Kahn's algorithm over `order`.
    indeg = dict.fromkeys(order, 0)
    for node in order:
        for nxt, _ in node.next_functions:
            if nxt is not None:
                indeg[nxt] += 1
    topo = [n for n in order if indeg[n] == 0]
    i = 0
    while i < len(topo):
        for nxt, _ in topo[i].next_functions:
            if nxt is not None:
                indeg[nxt] -= 1
                if indeg[nxt] == 0:
                    topo.append(nxt)
        i += 1
    for node in reversed(topo):
        if node not in needed and any(n in needed for n, _ in node.next_functions
                                      if n is not None):
            needed.add(node)
    return needed


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None,
                 accumulate=True, allow_unused=False):
    """Backpropagate `grad_tensors` from `tensors`.

    accumulate=True (Tensor.backward): add into leaves' .grad (only those in `inputs` if given).
    accumulate=False (autograd.grad): return the gradients of `inputs` without touching .grad.
    """
    from ember.autograd.anomaly_mode import _anomaly

    roots = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        node, nr = _edge_of(t, i)
        roots.append((node, nr, g))
    root_nodes = list(dict.fromkeys(n for n, _, _ in roots))
    deps = _dependencies(root_nodes)

    # Where gradients are captured: (node, output_nr) -> index into inputs
    capture = {}
    if inputs is not None:
        for i, t in enumerate(inputs):
            if type(t) is GradientEdge:
                capture[(t.node, t.output_nr)] = i
            elif t.grad_fn is not None:
                capture[(t.grad_fn, t._output_nr)] = i
            elif t._requires_grad:
                capture[(accumulator_of(t), 0)] = i
            else:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
        needed = _needed(list(deps), {node for node, _ in capture})
        deps = dict.fromkeys((n for n in deps if n in needed), 0)   # recounted among those
        for node in deps:
            for nxt, _ in node.next_functions:
                if nxt in deps:
                    deps[nxt] += 1
    else:
        needed = None

    buffers = {}
    for node, nr, g in roots:
        if needed is not None and node not in needed:
            continue
        _add_to_buffer(buffers, node, nr, g)
    captured = [None] * (len(inputs) if inputs is not None else 0)
    ready = [(-n._seq, n) for n in root_nodes if n in deps and deps[n] == 0]
    heapq.heapify(ready)   # (minus the sequence number: the last recorded node first)

    prev_mode = _grad_state.enabled
    _grad_state.enabled = create_graph
    tasks = _graph_tasks.stack
    tasks.append(_GraphTask(deps))
    try:
        while ready:
            node = heappop(ready)[1]
            grads = buffers.pop(node, None) or []
            if node._tensor_hooks or node._pre_hooks:
                grads = _run_pre_hooks(node, grads)
            if not accumulate and type(node) is AccumulateGrad and node.variable._hooks \
                    and grads and grads[0] is not None:
                grads = [node._hooked(grads[0])]   # autograd.grad runs a leaf's hooks too
            if capture:
                for nr, g in enumerate(grads):
                    idx = capture.get((node, nr))
                    if idx is not None:
                        captured[idx] = g if captured[idx] is None else captured[idx] + g
            if type(node) is AccumulateGrad:
                if accumulate and (inputs is None or (node, 0) in capture) and grads \
                        and grads[0] is not None:
                    node._accumulate(grads[0], create_graph)
                continue
            if needed is not None and not any(n in deps for n, _ in node.next_functions):
                continue   # a captured non-leaf input whose producers lead nowhere needed
            # some gradient reached this node (most nodes have one output: tested first)
            if grads and grads[0] is not None or any(g is not None for g in grads):
                input_grads = _call(node, grads)
            else:   # no gradient reached this node: nothing flows on, as in torch
                input_grads = (None,) * len(node.next_functions)
            if _anomaly.checking:
                _check_nan(node, input_grads)
            if not retain_graph and node._saved is not None:
                node._saved = _FREED   # drop what it saved once it ran
            for (nxt, nr), g in zip(node.next_functions, input_grads):
                left = deps.get(nxt)   # (None for no edge, or a node no gradient needs)
                if left is None:
                    continue
                if g is not None:
                    if nr == 0 and nxt not in buffers:   # (the common case, inline)
                        buffers[nxt] = [g]
                    else:
                        _add_to_buffer(buffers, nxt, nr, g)
                deps[nxt] = left - 1
                if left == 1:
                    heappush(ready, (-nxt._seq, nxt))
            input_grads = g = None   # (held here, a gradient could not become .grad uncopied)
    finally:
        _grad_state.enabled = prev_mode
        tasks.pop()

    if inputs is not None and accumulate:
        for t, g in zip(inputs, captured):   # non-leaf inputs of backward(inputs=) get .grad
            if type(t) is not GradientEdge and t.grad_fn is not None and g is not None:
                t._grad = g if create_graph else _fresh(g)
    if inputs is not None and not accumulate:
        for i, (t, g) in enumerate(zip(inputs, captured)):
            if g is None and not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                                   f"been used in the graph. Set allow_unused=True if this is "
                                   f"the desired behavior.")
        return captured
    return None


def _add_to_buffer(buffers, node, nr, grad):
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = []
    while len(buf) <= nr:
        buf.append(None)
    old = buf[nr]
    buf[nr] = grad if old is None else old + grad


def _run_pre_hooks(node, grads):
    hooks = node._tensor_hooks
    if hooks:
        grads = list(grads)
        for nr, d in hooks.items():
            if nr < len(grads) and grads[nr] is not None and d:
                fns = sorted(d.values(), key=lambda f: getattr(f, "_ember_retain", False))
                for fn in fns:
                    result = fn(grads[nr])
                    if result is not None:
                        grads[nr] = result
    pre = node._pre_hooks
    if pre:
        for fn in tuple(pre.values()):
            result = fn(tuple(grads))
            if result is not None:
                grads = list(result)
    return grads


def _call(node, grads):
    """Run one node's backward and fit each gradient to its input's shape and dtype."""
    n_out = len(node._output_meta) if node._output_meta else 1
    if len(grads) < n_out:
        grads = list(grads) + [None] * (n_out - len(grads))
    input_grads = node._apply(grads)
    if not isinstance(input_grads, tuple):
        input_grads = tuple(input_grads) if isinstance(input_grads, list) else (input_grads,)
    n_in = len(node.next_functions)
    if len(input_grads) != n_in:
        if len(input_grads) > n_in and all(g is None for g in input_grads[n_in:]):
            input_grads = input_grads[:n_in]
        else:
            raise RuntimeError(f"function {node.name()} returned an incorrect number of "
                               f"gradients (expected {n_in}, got {len(input_grads)})")
    out = list(input_grads)
    for i, meta in enumerate(node._input_meta):
        g = out[i]
        if g is None or meta is None:
            continue
        shape, dt = meta
        gd = g._data
        if gd.shape != shape:
            g = out[i] = g.sum_to_size(shape) if _broadcastable_to(gd.shape, shape) else \
                _bad_shape(node, g, shape)
            gd = g._data
        if gd.dtype is not dt and gd.dtype != dt:   # (identity first: NumPy's != is slower)
            out[i] = g.to(_dtype_of(dt))
    hooks = node._hooks
    if hooks:
        for fn in tuple(hooks.values()):
            result = fn(tuple(out), tuple(grads))
            if result is not None:
                out = list(result)
    return out


def _broadcastable_to(src, dst):
    if len(src) < len(dst):
        return False
    for s, d in zip(src[len(src) - len(dst):], dst):
        if d != 1 and s != d:
            return False
    return True


def _bad_shape(node, g, shape):
    raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index 0 - got "
                       f"{list(g.shape)} but expected shape compatible with {list(shape)}")


def _dtype_of(npd):
    from ember._dtype import from_numpy_dtype
    return from_numpy_dtype(npd)


def _check_nan(node, grads):
    for i, g in enumerate(grads):
        if g is not None and g._data.dtype.kind in "fc" and np.isnan(g._data).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               f"output.")
