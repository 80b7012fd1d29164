"""`torch.func`: composable function transforms (grad, vjp, jvp, jacrev, jacfwd, hessian,
linearize, vmap) and the stateless module helpers (functional_call, stack_module_state).

How they are built on ember's ordinary autograd, with no second differentiation engine:

- A differentiation transform makes its inputs differentiable (a fresh leaf, or a view of the
  input when the caller's autograd already tracks it), runs `func` under `enable_grad`, and calls
  `ember.autograd.grad`. Nested inside another transform it differentiates with
  `create_graph=True`, so `jacrev(jacrev(f))` differentiates a graph of gradients.
- The outermost transform builds a graph only when the caller's autograd can use it: grad mode is
  on and the result depends on a tensor outside the transform that requires grad. Otherwise its
  results are plain tensors, as torch's are (and under `no_grad` the transforms still work).
- `jvp` uses the double-vjp trick: u -> J^T u is linear in u, so differentiating <J^T u, v> with
  respect to u gives J v. `jacfwd` returns the same Jacobian as `jacrev` (computed by reverse
  mode, with jvp's dtype and error conventions).
- `vmap` runs `func` once per batch element (views of the inputs) and stacks the results, the
  same fallback torch uses for ops without batching rules; gradients flow through both.
"""
import functools

import ember
from ember._tensor import Tensor
from ember.autograd.grad_mode import enable_grad, is_grad_enabled

__all__ = ["vmap", "grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd",
           "hessian", "functional_call", "stack_module_state", "replace_all_batch_norm_modules_",
           "functionalize", "debug_unwrap"]


# ---------------------------------------------------------------------------------------------
# Pytrees: nested tuples, lists and dicts whose leaves are anything else

class _Spec:
    """The structure of a pytree: a leaf (kind None) or a tuple/list/dict node.

    `context` is the dict's key list (None for sequences); repr follows torch's TreeSpec."""

    __slots__ = ("kind", "context", "children", "num_leaves")

    def __init__(self, kind=None, context=None, children=()):
        self.kind, self.context, self.children = kind, context, tuple(children)
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in self.children)

    def __eq__(self, other):
        return (isinstance(other, _Spec) and self.kind is other.kind
                and self.context == other.context and self.children == other.children)

    def __repr__(self):
        return self._text(0)

    def _text(self, indent):
        # torch's layout: the first child inline, each later one on its own line, indented two
        # spaces per nesting level
        if self.kind is None:
            return "*"
        sep = ",\n" + " " * (indent + 2)
        children = sep.join(c._text(indent + 2) for c in self.children)
        return f"TreeSpec({self.kind.__name__}, {self.context}, [{children}])"


_LEAF = _Spec()


def _is_node(x):
    return type(x) in (tuple, list, dict) or (isinstance(x, tuple) and hasattr(x, "_fields"))


def _flatten(tree):
    """(leaves, spec) of a pytree."""
    leaves = []
    return leaves, _flatten_into(tree, leaves)


def _flatten_into(tree, leaves):
    if not _is_node(tree):
        leaves.append(tree)
        return _LEAF
    if isinstance(tree, dict):
        keys = list(tree)
        return _Spec(dict, keys, [_flatten_into(tree[k], leaves) for k in keys])
    return _Spec(type(tree), None, [_flatten_into(x, leaves) for x in tree])


def _unflatten(leaves, spec):
    """The pytree of `spec` holding `leaves` (consumed in order)."""
    return _build(iter(leaves), spec)


def _build(it, spec):
    if spec.kind is None:
        return next(it)
    children = [_build(it, c) for c in spec.children]
    if spec.kind is dict:
        return dict(zip(spec.context, children))
    if spec.kind in (tuple, list) or not hasattr(spec.kind, "_make"):
        return spec.kind(children)   # (torch.return_types take one sequence too)
    return spec.kind(*children)   # a namedtuple


def _broadcast(prefix, spec):
    """One value per leaf of `spec`: a non-container in `prefix` covers its whole subtree.

    Returns None when prefix's containers do not match the tree's."""
    if not _is_node(prefix):
        return [prefix] * spec.num_leaves
    if spec.kind is not type(prefix):
        return None
    if isinstance(prefix, dict):
        if list(prefix) != spec.context:
            return None
        prefix = [prefix[k] for k in spec.context]
    if len(prefix) != len(spec.children):
        return None
    out = []
    for p, child in zip(prefix, spec.children):
        part = _broadcast(p, child)
        if part is None:
            return None
        out.extend(part)
    return out


def _tree_map(fn, tree):
    leaves, spec = _flatten(tree)
    return _unflatten([fn(x) for x in leaves], spec)


# ---------------------------------------------------------------------------------------------
# Differentiation levels

class _Levels:
    """The differentiation transforms now running (they nest: jacrev(jacrev(f)))."""
    depth = 0
    fresh = {}   # id -> leaf made by a running transform; emptied when the outermost one ends


class _Level:
    """One call of a differentiation transform: lifts its inputs, runs under enable_grad, and
    decides whether its gradients need a graph (`create_graph`)."""

    def __init__(self):
        self.outer_grad = is_grad_enabled()
        self.create_graph = False
        self._mode = enable_grad()

    def __enter__(self):
        _Levels.depth += 1
        self._mode.__enter__()
        return self

    def __exit__(self, *exc):
        self._mode.__exit__(*exc)
        _Levels.depth -= 1
        if _Levels.depth == 0:
            _Levels.fresh.clear()

    def lift(self, t):
        """A differentiable stand-in for input `t`: a view when the caller's graph tracks `t`
        (so outer transforms and .backward() see through), else a fresh leaf."""
        if not isinstance(t, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(t)}")
        if self.outer_grad and t.requires_grad:
            return t.view_as(t)
        leaf = t.detach().requires_grad_(True)
        _Levels.fresh[id(leaf)] = leaf
        return leaf

    def decide(self, outputs):
        """Set create_graph from the forward outputs: nested transforms always need the graph;
        the outermost only if the caller's autograd reaches in."""
        self.create_graph = self.outer_grad and (_Levels.depth > 1 or _reaches_outside(outputs))
        return self.create_graph

    def finish(self, tree):
        """Results as the caller sees them: plain tensors unless they carry a useful graph."""
        if self.create_graph:
            return tree
        return _tree_map(lambda x: x.detach() if isinstance(x, Tensor) else x, tree)


def _reaches_outside(tensors):
    """Whether the graph behind `tensors` reaches a leaf requiring grad that no running
    transform made (an input the caller differentiates, or a captured parameter)."""
    from ember.autograd.graph import AccumulateGrad
    fresh = _Levels.fresh
    stack, seen = [], set()
    for t in tensors:
        if not isinstance(t, Tensor) or not t.requires_grad:
            continue
        if t.grad_fn is None:
            if id(t) not in fresh:
                return True
        else:
            stack.append(t.grad_fn)
    while stack:   # iterative walk: graphs may be deep
        node = stack.pop()
        if type(node) is AccumulateGrad:
            if id(node.variable) not in fresh:
                return True
            continue
        for nxt, _ in node.next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _argnums(argnums, nargs):
    """Positional indices selected by `argnums` (int or tuple of ints), torch's checks."""
    single = isinstance(argnums, int)
    if not single and not (isinstance(argnums, tuple)
                           and all(isinstance(a, int) for a in argnums)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    nums = (argnums,) if single else argnums
    if not nums:
        raise RuntimeError("argnums must be non-empty")
    if len(set(nums)) != len(nums):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    for a in nums:
        if not -nargs <= a < nargs:
            raise RuntimeError(f"Got argnum={a}, but only {nargs} positional inputs")
    return [a % nargs for a in nums]


def _lift_args(level, args, nums):
    """Replace args[i] (i in nums, each a pytree) by lifted tensors; return
    (args, leaves, [(start, stop, spec) per selected arg])."""
    args = list(args)
    leaves, parts = [], []
    for i in nums:
        flat, spec = _flatten(args[i])
        lifted = [level.lift(t) for t in flat]
        parts.append((len(leaves), len(leaves) + len(lifted), spec))
        leaves.extend(lifted)
        args[i] = _unflatten(lifted, spec)
    return args, leaves, parts


def _per_arg(values, parts, single):
    """Regroup flat per-leaf values into one pytree per selected argument."""
    trees = tuple(_unflatten(values[a:b], spec) for a, b, spec in parts)
    return trees[0] if single else trees


def _split_aux(output, has_aux, where):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{where}: output of function f should be a tuple: (output, aux) if "
                           f"has_aux is True")
    return output


def _check_aux(aux):
    for x in _flatten(aux)[0]:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")


def _differentiable(t):
    return t.is_floating_point() or t.is_complex()


def _vjp_of(outputs, cotangents, inputs, create_graph, retain_graph):
    """sum_k cotangent_k^T d output_k / d input for each input; zeros where nothing flows."""
    from ember.autograd import grad as autograd_grad
    pairs = [(o, c if c is None or not isinstance(c, Tensor) or c.dtype == o.dtype
              else c.to(o.dtype)) for o, c in zip(outputs, cotangents) if o.requires_grad]
    grads = [None] * len(inputs)
    if pairs:
        grads = autograd_grad([o for o, _ in pairs], inputs, [c for _, c in pairs],
                              retain_graph=retain_graph, create_graph=create_graph,
                              allow_unused=True)
    return [ember.zeros_like(i) if g is None else g for g, i in zip(grads, inputs)]


class _ForwardDerivative:
    """J v for outputs of `inputs` by the double-vjp trick: g(u) = J^T u is built once (with a
    graph, linear in the zero vectors u); J v is then the gradient of <g(u), v> in u."""

    def __init__(self, outputs, inputs):
        from ember.autograd import grad as autograd_grad
        self.outputs = outputs
        self.diff = [i for i, o in enumerate(outputs) if o.requires_grad and _differentiable(o)]
        self.us = [ember.zeros_like(outputs[i]).requires_grad_(True) for i in self.diff]
        self.gs = [None] * len(inputs)
        if self.diff:
            self.gs = autograd_grad([outputs[i] for i in self.diff], inputs, self.us,
                                    create_graph=True, retain_graph=True, allow_unused=True)

    def __call__(self, tangents, create_graph, retain_graph):
        from ember.autograd import grad as autograd_grad
        result = [ember.zeros_like(o) for o in self.outputs]   # int outputs: zero tangents
        pairs = [(g, t) for g, t in zip(self.gs, tangents) if g is not None and g.requires_grad]
        if pairs:
            jv = autograd_grad([g for g, _ in pairs], self.us,
                               [t if t.dtype == g.dtype else t.to(g.dtype) for g, t in pairs],
                               create_graph=create_graph, retain_graph=retain_graph,
                               allow_unused=True)
            for i, j in zip(self.diff, jv):
                if j is not None:
                    result[i] = j
        return result


# ---------------------------------------------------------------------------------------------
# grad, grad_and_value

def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of func's scalar output w.r.t. args[argnums], value).

    The gradient has the structure of the selected argument (a tuple of them for a tuple
    argnums); with has_aux, func returns (output, aux) and the result is (grad, (value, aux)).
    Works under no_grad (the transform enables grad for its own computation)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        where = "grad_and_value(f)(*args)"
        with _Level() as level:
            args, leaves, parts = _lift_args(level, args, nums)
            output, aux = _split_aux(func(*args, **kwargs), has_aux, where)
            if has_aux:
                _check_aux(aux)
            if not isinstance(output, Tensor):
                raise RuntimeError(f"{where}: Expected f(*args) to return a Tensor, got "
                                   f"{type(output)}")
            if output.dim() != 0:
                raise RuntimeError(f"{where}: Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {output.dim()} dims. Maybe you wanted to use "
                                   f"the vjp or jacrev APIs instead?")
            if output.is_complex():
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs "
                                   f"but got {output.dtype}")
            cg = level.decide([output])
            grads = _vjp_of([output], [ember.ones_like(output)], leaves, cg, cg)
        result = _per_arg(grads, parts, isinstance(argnums, int))
        value = level.finish(output)
        return (result, (value, level.finish(aux))) if has_aux else (result, value)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of func's scalar output w.r.t. args[argnums]
    (with has_aux: (grad, aux)). See grad_and_value."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


# ---------------------------------------------------------------------------------------------
# vjp, jvp, linearize

def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) returns a tuple with one gradient per
    primal (each shaped like it); cotangents must have the structure of func's output. vjp_fn
    may be called many times."""
    where = "vjp(f, *primals)"
    with _Level() as level:
        flat, spec = _flatten(primals)
        lifted, outs, out_spec, aux = _run_forward(level, func, flat, spec, has_aux, where)
        output = _unflatten(outs, out_spec)
        for o in outs:
            if not _differentiable(o):
                raise RuntimeError(f"vjp(f, ...): All outputs of f must be floating-point or "
                                   f"complex Tensors, got Tensor with dtype {o.dtype}")
        keep_graph = level.decide(outs)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        cts, ct_spec = _flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as pytree "
                               f"structure of outputs to the function. cotangents: {ct_spec}, "
                               f"primal output: {out_spec}")
        if create_graph is None:   # called inside another transform, or on tracked cotangents
            create_graph = keep_graph or (is_grad_enabled() and (_Levels.depth > 0 or any(
                isinstance(c, Tensor) and c.requires_grad for c in cts)))
        grads = _vjp_of(outs, cts, lifted, create_graph, retain_graph)
        return _unflatten(grads, spec)

    result = (level.finish(output), vjp_fn)
    return result + (level.finish(aux),) if has_aux else result


def _check_tangents(flat_p, flat_t):
    for p in flat_p:
        if not isinstance(p, Tensor):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected primals to only contain "
                               f"Tensors, got {type(p)}")
    for t in flat_t:
        if not isinstance(t, Tensor):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected tangents to only contain "
                               f"Tensors, got {type(t)}")
    for p, t in zip(flat_p, flat_t):
        if not _differentiable(p):
            raise ValueError(f"Expected primal to be floating point or complex, but got: "
                             f"{p.dtype}")
        if t.shape != p.shape:
            raise RuntimeError(f"Trying to set a forward gradient that has a different size than "
                               f"that of the original Tensor, this is not supported. Tensor is of "
                               f"size {list(p.shape)} while the given forward gradient is of size "
                               f"{list(t.shape)}.")


def _outputs(result, has_aux, where):
    """func's result split from its aux and checked: (outs, out_spec, aux), outs all tensors."""
    output, aux = _split_aux(result, has_aux, where)
    if has_aux:
        _check_aux(aux)
    outs, out_spec = _flatten(output)
    for o in outs:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{where}: expected f(*primals) to return only tensors, got "
                               f"unsupported type {type(o)}")
    return outs, out_spec, aux


def _run_forward(level, func, flat_p, spec, has_aux, where):
    """Lift the primals, run func, check its outputs: (lifted, outs, out_spec, aux)."""
    lifted = [level.lift(p) for p in flat_p]
    return (lifted,) + _outputs(func(*_unflatten(lifted, spec)), has_aux, where)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J @ tangents[, aux]): the forward-mode derivative along `tangents`,
    which must have the structure and shapes of `primals` (a tuple). Computed by the double-vjp
    trick; the tangent output has the output's dtype (torch follows the tangent's dtype when
    they differ). `strict` is accepted and, as in torch, has no effect."""
    where = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{where}: Expected primals to be a tuple. E.g. it should be valid to "
                           f"call f(*primals).")
    flat_p, p_spec = _flatten(primals)
    flat_t, t_spec = _flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{where}: Expected primals and tangents to have the same python "
                           f"structure. For example, if primals is a tuple of 3 tensors, tangents "
                           f"also must be. Got primals with structure {p_spec} and tangents with "
                           f"structure {t_spec}")
    if not flat_p:
        raise RuntimeError(f"{where}: Expected primals to contain at least one Tensor.")
    _check_tangents(flat_p, flat_t)
    with _Level() as level:
        lifted, outs, out_spec, aux = _run_forward(level, func, flat_p, p_spec, has_aux, where)
        cg = level.decide(outs)
        jv = _ForwardDerivative(outs, lifted)(flat_t, cg, cg)
    result = (level.finish(_unflatten(outs, out_spec)), _unflatten(jv, out_spec))
    return result + (level.finish(aux),) if has_aux else result


def linearize(func, *primals):
    """(func(*primals), jvp_fn): jvp_fn(*tangents) returns J @ tangents at the primals, reusing
    one recorded graph for every call."""
    with _Level() as level:
        flat_p, p_spec = _flatten(primals)
        lifted, outs, out_spec, _ = _run_forward(level, func, flat_p, p_spec, False,
                                                 "linearize(f, *primals)")
        keep_graph = level.decide(outs)
        derivative = _ForwardDerivative(outs, lifted)

    def jvp_fn(*tangents):
        flat_t, t_spec = _flatten(tangents)
        if t_spec != p_spec:
            raise RuntimeError(f"Expected the tangents {t_spec} to have the same argspec as the "
                               f"primals {p_spec}")
        for i, (t, p) in enumerate(zip(flat_t, flat_p)):
            if not isinstance(t, Tensor) or t.shape != p.shape:
                raise RuntimeError(f"tangent:{i} with shape {getattr(t, 'shape', type(t))} in "
                                   f"flattened pytree doesn't match the shape {p.shape} of the "
                                   f"corresponding primal.")
        create_graph = keep_graph or (is_grad_enabled() and _Levels.depth > 0)
        return _unflatten(derivative(flat_t, create_graph, True), out_spec)

    return level.finish(_unflatten(outs, out_spec)), jvp_fn


# ---------------------------------------------------------------------------------------------
# Jacobians and the Hessian

_RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either "
                 "use the 'same' or 'different' randomness flags on vmap or perform the "
                 "randomness operation out of vmap")
_RANDOMNESS = ("error", "different", "same")


def _check_randomness(randomness):
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")


def _rng_token():
    """The default generator's state, to notice that func drew random numbers."""
    from ember.random import get_rng_state
    return get_rng_state().numpy().tobytes()


def _jacobian_blocks(o, inputs, create_graph, forward):
    """d o / d input for each input, shaped o.shape + input.shape, one reverse pass per element
    of o. forward=True gives jacfwd's dtype (the output's) and zeros for integer outputs."""
    if not (o.requires_grad and _differentiable(o)):
        return [ember.zeros(tuple(o.shape) + tuple(i.shape),
                            dtype=o.dtype if forward else i.dtype) for i in inputs]
    n = o.numel()
    basis = ember.eye(n, dtype=o.dtype)
    rows = [[] for _ in inputs]
    for k in range(n):
        gs = _vjp_of([o], [basis[k].reshape(o.shape)], inputs, create_graph, True)
        for j, g in enumerate(gs):
            rows[j].append(g)
    blocks = []
    for j, inp in enumerate(inputs):
        shape = tuple(o.shape) + tuple(inp.shape)
        block = ember.stack(rows[j]).reshape(shape) if n else ember.zeros(shape, dtype=inp.dtype)
        if forward and block.dtype != o.dtype:
            block = block.to(o.dtype)
        blocks.append(block)
    return blocks


def _jacobian(func, argnums, has_aux, args, kwargs, forward, randomness="different"):
    nums = _argnums(argnums, len(args))
    where = "jvp(f, primals, tangents)" if forward else "vjp(f, *primals)"
    with _Level() as level:
        if forward:
            for i in nums:
                for p in _flatten(args[i])[0]:
                    if isinstance(p, Tensor) and not _differentiable(p):
                        raise ValueError(f"Expected primal to be floating point or complex, but "
                                         f"got: {p.dtype}")
        args, leaves, parts = _lift_args(level, args, nums)
        before = _rng_token() if randomness == "error" else None
        output = func(*args, **kwargs)
        if before is not None and _rng_token() != before:
            raise RuntimeError(_RANDOM_ERROR)
        outs, out_spec, aux = _outputs(output, has_aux, where)
        for o in outs:
            if not forward and not _differentiable(o):
                raise RuntimeError(f"vjp(f, ...): All outputs of f must be floating-point or "
                                   f"complex Tensors, got Tensor with dtype {o.dtype}")
        cg = level.decide(outs)
        per_output = [_per_arg(_jacobian_blocks(o, leaves, cg, forward), parts,
                               isinstance(argnums, int)) for o in outs]
    jac = level.finish(_unflatten(per_output, out_spec))
    return (jac, level.finish(aux)) if has_aux else jac


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """A function returning the Jacobian of func w.r.t. args[argnums] by reverse mode.

    For each output leaf and selected argument leaf the block has shape
    output.shape + input.shape and the input's dtype; the nesting is output structure, then the
    argument (a tuple for a tuple argnums). With has_aux: (jacobian, aux). chunk_size is
    validated; rows are always computed one at a time."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _jacobian(func, argnums, has_aux, args, kwargs, forward=False)
    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """A function returning the Jacobian of func w.r.t. args[argnums], as torch's forward-mode
    jacfwd returns it: same structure as jacrev, blocks in the output's dtype, zeros for integer
    outputs, primals must be floating point. ember computes it in reverse mode (same values).
    randomness='error' raises if func draws from the default generator."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _check_randomness(randomness)
        return _jacobian(func, argnums, has_aux, args, kwargs, forward=True,
                         randomness=randomness)
    return wrapper


def hessian(func, argnums=0):
    """A function returning the Hessian of func w.r.t. args[argnums]: jacfwd(jacrev(func))."""
    return jacfwd(jacrev(func, argnums), argnums)


# ---------------------------------------------------------------------------------------------
# vmap

def _func_name(func):
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_func_name(func.func)}, ...)"
    return repr(func)


def _valid_out_dims(out_dims):
    return all(d is None or isinstance(d, int) for d in _flatten(out_dims)[0])


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Map `func` over dimension `in_dims` of its inputs, stacking results at `out_dims`.

    in_dims: an int for every input, or a tuple with one entry per positional argument, each an
    int, None (not mapped) or a pytree matching that argument. Keyword arguments are not mapped.
    out_dims: an int, None (the output is the same for every element) or a pytree matching the
    outputs. Negative dims count from the end.

    ember runs func once per batch element on views of the inputs and stacks the results, which
    gives torch's values, dtypes and shapes, and lets autograd flow through (and in-place ops on
    mapped inputs write through). Unlike torch it therefore allows .item() and data-dependent
    control flow inside func, does not reject in-place ops on unmapped tensors, and returns
    copies where torch returns expanded views. out_dims=None is checked by value (every element
    must give the same result).

    randomness: 'error' raises when func draws from the default generator (noticed after the
    call; explicit generator= arguments go unnoticed); 'different' gives each element its own
    draws; 'same' replays one draw for every element. chunk_size is validated and otherwise has
    no effect (elements already run one at a time).
    """
    _check_randomness(randomness)
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _vmap_call(func, in_dims, out_dims, randomness, args, kwargs)
    return wrapper


def _vmap_inputs(name, in_dims, args):
    """(flat args, their spec, flat in_dims normalized, batch size) with torch's checks."""
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to "
                         f"be int or a (potentially nested) tuple matching the structure of "
                         f"inputs, got: {type(in_dims)}.")
    if not args:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, "
                         f"or you are trying to vmap over a function with no inputs. The latter "
                         f"is unsupported.")
    flat, spec = _flatten(args)
    dims = _broadcast(in_dims, spec)
    head = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
    if dims is None:
        raise ValueError(f"{head}: in_dims is not compatible with the structure of `inputs`. "
                         f"in_dims has structure {_flatten(in_dims)[1]} but inputs has "
                         f"structure {spec}.")
    sizes = []
    for i, (x, d) in enumerate(zip(flat, dims)):
        if d is None:
            continue
        if not isinstance(d, int):
            raise ValueError(f"{head}: Got in_dim={d} for an input but in_dim must be either an "
                             f"integer dimension or None.")
        if not isinstance(x, Tensor):
            raise ValueError(f"{head}: Got in_dim={d} for an input but the input is of type "
                             f"{type(x)}. We cannot vmap over non-Tensor arguments, please use "
                             f"None as the respective in_dim")
        n = x.dim()
        if not -n <= d < n:
            raise ValueError(f"{head}: Got in_dim={d} for some input, but that input is a Tensor "
                             f"of dimensionality {n} so expected in_dim to satisfy -{n} <= in_dim "
                             f"< {n}.")
        dims[i] = d % n
        sizes.append(x.shape[dims[i]])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    return flat, spec, dims, sizes[0]


def _element(x, d, i):
    """Element i of input x along its mapped dim d (a view); a zero stand-in for empty batches."""
    if d is None:
        return x
    if x.shape[d] == 0:
        return ember.zeros(tuple(s for k, s in enumerate(x.shape) if k != d), dtype=x.dtype)
    return x.select(d, i)


def _vmap_call(func, in_dims, out_dims, randomness, args, kwargs):
    name = _func_name(func)
    flat, spec, dims, size = _vmap_inputs(name, in_dims, args)
    if not _valid_out_dims(out_dims):
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, "
                         f"None or a python collection of ints representing where in the outputs "
                         f"the vmapped dimension should appear.")
    from ember.random import get_rng_state, set_rng_state
    start = get_rng_state() if randomness == "same" else None
    results = []
    for i in range(max(size, 1)):   # an empty batch still runs once, for the output structure
        if start is not None:
            set_rng_state(start)
        before = _rng_token() if randomness == "error" else None
        results.append(func(*_unflatten([_element(x, d, i) for x, d in zip(flat, dims)], spec),
                            **kwargs))
        if before is not None and _rng_token() != before:
            raise RuntimeError(_RANDOM_ERROR)
    return _vmap_outputs(name, results, out_dims, size)


def _vmap_outputs(name, results, out_dims, size):
    """Stack per-element outputs at their out_dims."""
    first, out_spec = _flatten(results[0])
    columns = [[x] for x in first]
    for r in results[1:]:
        leaves, s = _flatten(r)
        if s != out_spec:
            raise RuntimeError(f"vmap({name}, ...): `{name}` returned outputs with different "
                               f"structures for different batch elements ({out_spec} and {s})")
        for col, x in zip(columns, leaves):
            col.append(x)
    dims = _broadcast(out_dims, out_spec)
    if dims is None and out_spec.kind is None and isinstance(out_dims, tuple) \
            and len(out_dims) == 1:
        dims = [out_dims[0]]   # torch accepts out_dims=(d,) for a single output
    if dims is None:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                         f"compatible with the structure of `outputs`. out_dims has structure "
                         f"{_flatten(out_dims)[1]} but outputs has structure {out_spec}.")
    outs = []
    for col, d in zip(columns, dims):
        head = col[0]
        if d is None:
            if isinstance(head, Tensor) and any(
                    x is not head and not (x.shape == head.shape and ember.equal(x, head))
                    for x in col[1:]):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor "
                                 f"when out_dim is None")
            outs.append(head)
            continue
        if not isinstance(head, Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                             f"{type(head)}. Did you mean to set out_dims= to None for output?")
        stacked = ember.stack(col, d)
        if size == 0:
            stacked = stacked.narrow(d % stacked.dim(), 0, 0)
        outs.append(stacked)
    return _unflatten(outs, out_spec)


# ---------------------------------------------------------------------------------------------
# Modules as functions of their state

def _merge_dicts(parameter_and_buffer_dicts):
    if isinstance(parameter_and_buffer_dicts, dict):
        return parameter_and_buffer_dicts
    if not isinstance(parameter_and_buffer_dicts, (list, tuple)):
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(parameter_and_buffer_dicts)}")
    if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
        raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
    seen, repeated, merged = set(), [], {}
    for d in parameter_and_buffer_dicts:
        for k, v in d.items():
            if k in seen and k not in repeated:
                repeated.append(k)
            seen.add(k)
            merged[k] = v
    if repeated:
        raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional "
                         f"call is ambiguous")
    return merged


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """module(*args, **kwargs) with its parameters and buffers replaced by the given tensors
    (one dict, or several with disjoint keys), restored afterwards even on error. Missing names
    keep the module's own tensors unless strict=True; tied names follow each other."""
    from ember.nn.utils.stateless import _functional_call
    return _functional_call(module, _merge_dicts(parameter_and_buffer_dicts), args, kwargs,
                            tie_weights=tie_weights, strict=strict)


def stack_module_state(models):
    """(params, buffers): each model's parameters and buffers stacked along a new leading dim,
    for vmap over an ensemble with functional_call. Stacked parameters are new leaves that
    require grad as the originals do."""
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    params = {}
    for name in all_params[0]:
        tensors = [p[name] for p in all_params]
        requires_grad = tensors[0].requires_grad
        if any(t.requires_grad != requires_grad for t in tensors):
            raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
        params[name] = ember.stack([t.detach() for t in tensors]).requires_grad_(requires_grad)
    all_buffers = [dict(m.named_buffers()) for m in models]
    buffers = {name: ember.stack([b[name] for b in all_buffers]) for name in all_buffers[0]}
    return params, buffers


def replace_all_batch_norm_modules_(root):
    """In place: every batch norm in root stops tracking running statistics (they become None),
    so that it can run under vmap. Returns root."""
    from ember.nn.modules.batchnorm import _BatchNorm
    for m in root.modules():
        if isinstance(m, _BatchNorm):
            m.running_mean = None
            m.running_var = None
            m.num_batches_tracked = None
            m.track_running_stats = False
    return root


# ---------------------------------------------------------------------------------------------
# Program-rewriting helpers that are identities in eager ember

def functionalize(func, *, remove="mutations"):
    """func itself: torch's functionalize rewrites mutations for graph capture, with the same
    observable results in eager mode (inputs still see their mutations), which is all ember
    runs."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}."
            f" Valid options are:\n     remove='mutations': all inplace and out= operators will be"
            f" removed from the program, and replaced with their out-of-place equivalents.\n"
            f"     remove='mutations_and_views': In addition to the above, all aliasing operators "
            f"{{view}} will be replaced with their non-aliasing counterparts, {{view}}_copy.\n")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper


def debug_unwrap(tensor, *, recurse=True):
    """The tensor itself: ember's transforms do not wrap tensors."""
    return tensor
