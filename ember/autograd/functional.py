"""`autograd.functional`: vjp, jvp, jacobian, hessian, hvp, vhp built on reverse mode.

jvp uses the double-vjp trick: for u -> vjp(f, x, u) = J^T u (linear in u), differentiating
<J^T u, v> with respect to u gives J v.
"""
from ember._tensor import Tensor
from ember.autograd.grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _prepare(inputs, create_graph):
    """Fresh leaves that require grad (sharing memory with the inputs)."""
    return tuple(t.detach().requires_grad_(True) if not (create_graph and t.requires_grad)
                 else t.view_as(t) for t in inputs)


def _grad(outputs, inputs, grad_outputs, create_graph, strict):
    from ember.autograd import grad
    outs = [o for o in outputs if o.requires_grad]
    gos = [g for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not outs:
        result = (None,) * len(inputs)
    else:
        result = grad(outs, inputs, gos, create_graph=create_graph, allow_unused=True,
                      retain_graph=True)
    if strict and any(r is None for r in result):
        raise RuntimeError("The output of the user-provided function is independent of input "
                           "0. This is not allowed in strict mode.")
    from ember._ops.creation import zeros_like
    return tuple(zeros_like(i) if r is None else r for r, i in zip(result, inputs))


def _single(x, is_single):
    return x[0] if is_single else x


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J)."""
    single = isinstance(inputs, Tensor)
    inputs = _prepare(_tuple(inputs), create_graph)
    with enable_grad():
        out = func(*inputs)
        outs_single = isinstance(out, Tensor)
        outs = _tuple(out)
        if v is None:
            if any(o.numel() != 1 for o in outs):
                raise RuntimeError("The vector v can only be None if the user-provided function "
                                   "returns a single Tensor with a single element.")
            from ember._ops.creation import ones_like
            v = tuple(ones_like(o) for o in outs)
        g = _grad(outs, inputs, _tuple(v), create_graph, strict)
    outs = tuple(o if create_graph else o.detach() for o in outs)
    return _single(outs, outs_single), _single(g, single)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v), by differentiating a vjp with respect to its vector."""
    single = isinstance(inputs, Tensor)
    inputs = _prepare(_tuple(inputs), create_graph)
    from ember._ops.creation import ones_like, zeros_like
    if v is None:
        if any(i.numel() != 1 for i in inputs):
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        v = tuple(ones_like(i) for i in inputs)
    with enable_grad():
        out = func(*inputs)
        outs_single = isinstance(out, Tensor)
        outs = _tuple(out)
        us = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        g = _grad(outs, inputs, us, True, strict)
        jv = _grad(g, us, _tuple(v), create_graph, strict)
    outs = tuple(o if create_graph else o.detach() for o in outs)
    return _single(outs, outs_single), _single(jv, outs_single)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian d func(inputs) / d inputs: for one input and one output a tensor of shape
    output.shape + input.shape; nested tuples otherwise, as torch."""
    from ember._ops.creation import zeros
    from ember._ops.manipulation import stack
    single_in = isinstance(inputs, Tensor)
    inputs = _prepare(_tuple(inputs), create_graph)
    with enable_grad():
        out = func(*inputs)
        single_out = isinstance(out, Tensor)
        outs = _tuple(out)
        jac = []
        for o in outs:
            rows = [[] for _ in inputs]
            flat = o.reshape(-1)
            for k in range(flat.numel()):
                g = _grad((flat[k],), inputs, (_one_like(flat[k]),), create_graph, strict)
                for i, gi in enumerate(g):
                    rows[i].append(gi)
            per_input = []
            for i, inp in enumerate(inputs):
                if rows[i]:
                    per_input.append(stack(rows[i]).reshape(tuple(o.shape) + tuple(inp.shape)))
                else:
                    per_input.append(zeros(tuple(o.shape) + tuple(inp.shape), dtype=inp.dtype))
            jac.append(tuple(per_input))
    if not create_graph:
        jac = [tuple(j.detach() for j in row) for row in jac]
    if single_out and single_in:
        return jac[0][0]
    if single_out:
        return jac[0]
    if single_in:
        return tuple(row[0] for row in jac)
    return tuple(jac)


def _one_like(t):
    from ember._ops.creation import ones_like
    return ones_like(t)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    single = isinstance(inputs, Tensor)

    def gradient(*xs):
        with enable_grad():
            out = func(*xs)
            if not isinstance(out, Tensor) or out.numel() != 1:
                raise RuntimeError("The function given to hessian should return a single Tensor "
                                   "with a single element.")
            g = _grad((out.reshape(()),), xs, (_one_like(out.reshape(())),), True, strict)
        return g[0] if single else g
    return jacobian(gradient, inputs, create_graph=create_graph, strict=strict)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H)."""
    single = isinstance(inputs, Tensor)
    inputs = _prepare(_tuple(inputs), True)
    with enable_grad():
        out = func(*inputs)
        g = _grad((out,), inputs, (_one_like(out),), True, strict)
        h = _grad(g, inputs, _tuple(v), create_graph, strict)
    return (out if create_graph else out.detach()), _single(h, single)


hvp = vhp   # the Hessian is symmetric for twice-differentiable functions
