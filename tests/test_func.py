"""ember.func (torch.func) and ember.vmap against torch.func: values, dtypes, shapes, result
structure, requires_grad of results, and the exceptions for bad input."""
import numpy as np
import pytest
import torch
import torch.func

import ember
import ember.func
from oracle import assert_close, assert_raised_alike, same_message

LIBS = ((torch, torch.func), (ember, ember.func))


def arrays(*shapes, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def both(fn, *arrs, requires_grad=False):
    """fn(lib, F, *tensors) on torch (F = torch.func) and ember (F = ember.func)."""
    out = []
    for lib, F in LIBS:
        xs = [lib.tensor(a).requires_grad_(requires_grad) for a in arrs]
        out.append(fn(lib, F, *xs))
    return out


def compare(t, e, what="result", rtol=None, atol=None, grad_flags=True):
    """Same pytree structure, and per tensor: shape, dtype, values, requires_grad."""
    if isinstance(t, torch.Tensor):
        assert_close(t, e, what=what, rtol=rtol, atol=atol)
        if grad_flags:
            assert e.requires_grad == t.requires_grad, f"{what}: requires_grad {e.requires_grad}"
        return
    if isinstance(t, (tuple, list)):
        assert type(e) is type(t), f"{what}: {type(e).__name__} != torch {type(t).__name__}"
        assert len(e) == len(t), f"{what}: length {len(e)} != torch {len(t)}"
        for i, (a, b) in enumerate(zip(t, e)):
            compare(a, b, f"{what}[{i}]", rtol, atol, grad_flags)
        return
    if isinstance(t, dict):
        assert isinstance(e, dict) and list(e) == list(t), f"{what}: keys {list(e)} != {list(t)}"
        for k in t:
            compare(t[k], e[k], f"{what}[{k!r}]", rtol, atol, grad_flags)
        return
    assert t == e, f"{what}: {e!r} != torch {t!r}"


def check(fn, *arrs, requires_grad=False, **kw):
    t, e = both(fn, *arrs, requires_grad=requires_grad)
    compare(t, e, **kw)
    return t, e


def raises(fn, *arrs, message=True):
    """Both raise the same exception type (and by default the same message)."""
    excs = []
    for lib, F in LIBS:
        xs = [lib.tensor(a) for a in arrs]
        try:
            fn(lib, F, *xs)
        except Exception as exc:   # noqa: BLE001 - the type is what we compare
            excs.append(exc)
        else:
            excs.append(None)
    t_exc, e_exc = excs
    assert_raised_alike(t_exc, e_exc, lambda t, e: type(e) is type(t))
    if message:
        assert same_message(t_exc, e_exc), f"message {str(e_exc)!r} != torch {str(t_exc)!r}"
    return t_exc, e_exc


def test_namespace():
    assert ember.vmap is ember.func.vmap
    for name in ember.func.__all__:
        assert hasattr(torch.func, name), name
    for name in ("vmap", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian",
                 "functional_call", "stack_module_state", "linearize"):
        assert callable(getattr(ember.func, name)), name


# --- vmap -------------------------------------------------------------------------------------

X34, Y34, X43, V4 = arrays((3, 4), (3, 4), (4, 3), (4,))


@pytest.mark.parametrize("in_dims,out_dims,fn,arrs", [
    (0, 0, lambda t, a: t.sin(a) * 2, (X34,)),
    (1, 0, lambda t, a: a.sum(), (X43,)),
    (-1, 0, lambda t, a: a * a, (X43,)),
    (0, 1, lambda t, a: t.outer(a, a), (X34,)),
    (0, -1, lambda t, a: a.exp(), (X34,)),
    ((0, None), 0, lambda t, a, b: a @ b, (X34, X43)),
    ((1, 0), 0, lambda t, a, b: a * b, (X43, X34)),
    ((None, 0), 1, lambda t, a, b: a + b, (V4, X34)),
    (0, 0, lambda t, a: a.argmax(), (X34,)),           # int64 results
    (0, 0, lambda t, a: a > 0, (X34,)),                # bool results
    (0, 0, lambda t, a: a.double().sum(), (X34,)),     # dtype change
    (0, 0, lambda t, a: t.ones(2), (X34,)),            # independent of the input
])
def test_vmap_values(in_dims, out_dims, fn, arrs):
    check(lambda t, F, *xs: F.vmap(lambda *a: fn(t, *a), in_dims, out_dims)(*xs), *arrs)


def test_vmap_is_a_per_element_map():
    # the ground truth without torch: stacking func over the rows
    x = ember.tensor(X34)
    out = ember.vmap(lambda a: (a ** 2).cumsum(0))(x)
    ref = np.stack([np.cumsum(r ** 2) for r in X34])
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6)


def test_vmap_pytree_inputs_and_outputs():
    check(lambda t, F, a, b: F.vmap(lambda d: d["p"] * d["q"], in_dims=({"p": 0, "q": 1},))(
        {"p": a, "q": b}), X34, X43)
    check(lambda t, F, a, b: F.vmap(lambda s: s[0] - s[1], in_dims=((0, None),))(
        (a, b[0])), X34, Y34)
    check(lambda t, F, a, b: F.vmap(lambda s: s[0] - s[1], in_dims=([0, 0],))([a, b]), X34, Y34)
    check(lambda t, F, a, b: F.vmap(lambda s: s[0] * s[1])([a, b]), X34, Y34)
    check(lambda t, F, a: F.vmap(lambda a: {"x": a, "y": (a.sum(), [a * 2])})(a), X34)
    check(lambda t, F, a: F.vmap(lambda a: (a, {"k": a.sum()}), out_dims=(1, {"k": 0}))(a), X34)
    check(lambda t, F, a: F.vmap(lambda a: (a, a * 2), out_dims=1)(a), X34)
    check(lambda t, F, a: F.vmap(lambda a: a, out_dims=(1,))(a), X34)   # 1-tuple, one output
    check(lambda t, F, a: F.vmap(lambda a: [a, a + 1])(a), X34)
    check(lambda t, F, a: tuple(F.vmap(lambda a: a.max(0))(a)), X34)   # a torch.return_types
    assert type(ember.func.vmap(lambda a: a.max(0))(ember.ones(2, 3))).__name__ == "max"


def test_vmap_unmapped_outputs_and_arguments():
    check(lambda t, F, a: F.vmap(lambda a: (a * 2, t.ones(2)), out_dims=(0, None))(a), X34)
    t_out, e_out = both(lambda t, F, a: F.vmap(lambda a: (a, 3), out_dims=(0, None))(a), X34)
    assert t_out[1] == e_out[1] == 3
    check(lambda t, F, a: F.vmap(lambda a, s: a * s, in_dims=(0, None))(a, 2.5), X34)
    check(lambda t, F, a, b: F.vmap(lambda a, b: a + b)(a, b=b), X34, V4)   # kwargs unmapped
    check(lambda t, F, a, b: F.vmap(lambda a, b: a + b)(a, b=b), X34, X34)


def test_vmap_nested_and_empty_batch():
    check(lambda t, F, a, b: F.vmap(F.vmap(lambda u, v: u * v, in_dims=(0, None)),
                                    in_dims=(None, 0))(a, b), V4, X34)
    check(lambda t, F, a: F.vmap(F.vmap(lambda u: u.sum()), in_dims=1)(a), X34)
    check(lambda t, F, a: F.vmap(F.vmap(t.sin, in_dims=1, out_dims=1), out_dims=2)(a),
          arrays((2, 3, 4))[0])
    check(lambda t, F, a: F.vmap(lambda a: (a.sum(), a), out_dims=(0, 1))(a),
          np.zeros((0, 3), np.float32))


def test_vmap_autograd_flows_through():
    def run(t, F, a, w):
        out = F.vmap(lambda r, w: (r * w).tanh().sum(), in_dims=(0, None))(a, w)
        out.backward(t.arange(3.0))
        return out, a.grad, w.grad
    check(run, X34, V4, requires_grad=True)
    with_no_grad = []
    for lib, F in LIBS:
        x = lib.tensor(X34).requires_grad_()
        with lib.no_grad():
            with_no_grad.append(F.vmap(lambda r: r * 2)(x).requires_grad)
    assert with_no_grad == [False, False]


def test_vmap_inplace_on_mapped_input_writes_through():
    def run(t, F, a):
        a = a.clone()
        F.vmap(lambda r: r.mul_(2))(a)
        return a
    check(run, X34)


@pytest.mark.parametrize("fn,arrs", [
    (lambda t, F, a, b: F.vmap(t.add)(a, b), (X34, X43)),                 # batch sizes differ
    (lambda t, F, a: F.vmap(t.sin, in_dims=2)(a), (X34,)),                # in_dim out of range
    (lambda t, F, a: F.vmap(t.sin, in_dims=-3)(a), (X34,)),
    (lambda t, F, a: F.vmap(t.sin)(a[0, 0]), (X34,)),                     # 0-d input
    (lambda t, F, a: F.vmap(t.sin, in_dims=None)(a), (X34,)),             # in_dims type
    (lambda t, F, a: F.vmap(t.sin, in_dims=[0])(a), (X34,)),
    (lambda t, F, a: F.vmap(t.sin, in_dims=0.5)(a), (X34,)),
    (lambda t, F, a: F.vmap(lambda u: u, in_dims=(None,))(a), (X34,)),   # nothing mapped
    (lambda t, F: F.vmap(lambda: t.ones(2))(), ()),                       # no inputs
    (lambda t, F, a: F.vmap(lambda u, v: u, in_dims=(0,))(a, a), (X34,)),   # structure
    (lambda t, F, a: F.vmap(lambda d: d["a"], in_dims=({"b": 0},))({"a": a}), (X34,)),
    (lambda t, F, a: F.vmap(lambda u: u, in_dims=(0.5,))(a), (X34,)),
    (lambda t, F, a: F.vmap(lambda u, s: u * s, in_dims=(0, 0))(a, 3), (X34,)),   # non-tensor
    (lambda t, F, a: F.vmap(lambda u: 3)(a), (X34,)),                     # non-tensor output
    (lambda t, F, a: F.vmap(lambda u: None)(a), (X34,)),
    (lambda t, F, a: F.vmap(lambda u: (u, 3))(a), (X34,)),
    (lambda t, F, a: F.vmap(lambda u: u, out_dims=None)(a), (X34,)),      # batched, out_dim None
    (lambda t, F, a: F.vmap(lambda u: u.sum(), out_dims=1)(a), (X34,)),   # out_dim out of range
    (lambda t, F, a: F.vmap(lambda u: (u, u), out_dims=(0, 0, 0))(a), (X34,)),
    (lambda t, F, a: F.vmap(lambda u: (u, u), out_dims=[0, 0])(a), (X34,)),
    (lambda t, F, a: F.vmap(lambda u: u, out_dims=1.0)(a), (X34,)),
    (lambda t, F, a: F.vmap(lambda u: u, out_dims=(0.5,))(a), (X34,)),
    (lambda t, F, a: F.vmap(t.sin, randomness="foo"), (X34,)),
    (lambda t, F, a: F.vmap(t.sin, chunk_size=0), (X34,)),
    (lambda t, F, a: F.vmap(3)(a), (X34,)),
])
def test_vmap_errors(fn, arrs):
    raises(fn, *arrs)


def test_vmap_randomness():
    for fn in (lambda t, F, a: F.vmap(lambda r: r + t.rand(4))(a),
               lambda t, F, a: F.vmap(lambda r: t.randn_like(r))(a),
               lambda t, F, a: F.vmap(lambda r: t.nn.functional.dropout(r, 0.5))(a),
               lambda t, F, a: F.jacfwd(lambda r: r * t.rand(4))(a[0])):
        raises(fn, X34)
    for lib, F in LIBS:
        x = lib.zeros(5, 4)
        same = F.vmap(lambda r: r + lib.rand(4), randomness="same")(x)
        assert (same == same[0]).all() and same.shape == (5, 4)
        inplace = F.vmap(lambda r: r.uniform_(), randomness="same")(x.clone())
        assert (inplace == inplace[0]).all()
        diff = F.vmap(lambda r: r + lib.rand(4), randomness="different")(x)
        assert not (diff == diff[0]).all()
        # 'same' draws as one call outside vmap would, and advances the generator once
        lib.manual_seed(0)
        one, after = lib.rand(4), lib.rand(4)
        lib.manual_seed(0)
        same = F.vmap(lambda r: lib.rand(4), randomness="same")(x)
        assert (same == one).all() and (lib.rand(4) == after).all()
        F.jacfwd(lambda r: r * lib.rand(4), randomness="same")(x[0])


def test_vmap_chunk_size_gives_same_result():
    check(lambda t, F, a: F.vmap(t.sin, chunk_size=2)(a), X34)


# --- grad, grad_and_value ---------------------------------------------------------------------

A3, B3, C2 = arrays((3,), (3,), (2,), seed=1)


def f_ab(t, a, b):
    return (a.sin() * b).sum() + (a ** 2).mean()


@pytest.mark.parametrize("argnums", [0, 1, -1, (0, 1), (1, 0), (-2,)])
def test_grad_argnums(argnums):
    check(lambda t, F, a, b: F.grad(lambda a, b: f_ab(t, a, b), argnums=argnums)(a, b), A3, B3)
    check(lambda t, F, a, b: F.grad_and_value(lambda a, b: f_ab(t, a, b), argnums)(a, b), A3, B3)


def test_grad_has_aux_and_pytrees():
    check(lambda t, F, a: F.grad(lambda a: ((a ** 3).sum(), (a.cos(), {"n": a.sum()})),
                                 has_aux=True)(a), A3)
    check(lambda t, F, a: F.grad_and_value(lambda a: ((a ** 3).sum(), a * 2), has_aux=True)(a),
          A3)
    check(lambda t, F, a, b: F.grad(lambda d: (d["x"] * d["y"][0]).sum())(
        {"x": a, "y": [b]}), A3, B3)
    check(lambda t, F, a, b: F.grad(lambda p, q: (p[0] * p[1] * q).sum(), argnums=(0, 1))(
        (a, b), a), A3, B3)


def test_grad_special_outputs():
    check(lambda t, F, a, b: F.grad(lambda a, b: b.sum())(a, b), A3, B3)       # unused: zeros
    check(lambda t, F, a: F.grad(lambda a: a.sum().long())(a), A3)              # int: zeros
    check(lambda t, F, a: F.grad(lambda a: a.double().sum() * 3)(a), A3)        # input dtype
    check(lambda t, F, a: F.grad(lambda a: a[0])(a), A3)
    check(lambda t, F, a: F.grad(lambda s, a: a.sum() * s, argnums=1)(3.0, a), A3)  # non-tensor

    def inner_no_grad(t, a):
        with t.no_grad():
            c = a * 2
        return (a * c).sum()
    check(lambda t, F, a: F.grad(lambda a: inner_no_grad(t, a))(a), A3)


def test_grad_results_require_grad_like_torch():
    # plain inputs: plain results; an input or captured tensor the caller tracks: a graph
    check(lambda t, F, a: F.grad_and_value(lambda a: (a ** 3).sum())(a), A3)
    check(lambda t, F, a: F.grad_and_value(lambda a: (a ** 3).sum())(a), A3,
          requires_grad=True)

    def captured(t, F, a, w):
        w.requires_grad_()
        g = F.grad(lambda a: (a * w).sum())(a)
        g.sum().backward()
        return g, w.grad
    check(captured, A3, B3)

    def backward_through(t, F, a):
        g = F.grad(lambda a: (a ** 3).sum())(a)
        (g * g).sum().backward()
        return a.grad
    check(backward_through, A3, requires_grad=True)


def test_transforms_under_no_grad():
    def run(t, F, a, b):
        w = b.clone().requires_grad_()
        with t.no_grad():
            return (F.grad(lambda a: (a ** 2 * w).sum())(a),
                    F.jacrev(F.jacrev(lambda a: (a ** 3).sum()))(a),
                    F.vjp(t.sin, a)[1](b),
                    F.jvp(t.sin, (a,), (b,)),
                    F.vmap(F.grad(lambda r: (r ** 2).sum()))(a.reshape(3, 1)))
    check(run, A3, B3, requires_grad=True)


@pytest.mark.parametrize("fn", [
    lambda t, F, a: F.grad(lambda u: u)(a),                                   # not scalar
    lambda t, F, a: F.grad(lambda u: 3.0)(a),                                 # not a tensor
    lambda t, F, a: F.grad(lambda u: (u.sum(), u))(a),
    lambda t, F, a: F.grad(lambda u: u.sum(), has_aux=True)(a),               # aux structure
    lambda t, F, a: F.grad(lambda u: (u.sum(), 1, 2), has_aux=True)(a),
    lambda t, F, a: F.grad(lambda u: [u.sum(), u], has_aux=True)(a),
    lambda t, F, a: F.grad(lambda u: (u.sum(), 1), has_aux=True)(a),          # aux not tensor
    lambda t, F, a: F.grad(lambda u: u.sum(), argnums=1)(a),                  # argnums
    lambda t, F, a: F.grad(lambda u, v: u.sum(), argnums=-3)(a, a),
    lambda t, F, a: F.grad(lambda u: u.sum(), argnums=0.0)(a),
    lambda t, F, a: F.grad(lambda u: u.sum(), argnums=())(a),
    lambda t, F, a: F.grad(lambda u, v: u.sum(), argnums=(0, 0))(a, a),
    lambda t, F, a: F.grad(lambda u, v: u.sum(), argnums=[0, 1])(a, a),
    lambda t, F, a: F.grad(lambda: a.sum())(),
    lambda t, F, a: F.grad(lambda u: u.sum())(3.0),                           # not a tensor
    lambda t, F, a: F.grad(lambda u: u.sum())(t.arange(3)),                   # integer input
    lambda t, F, a: F.grad(lambda u: (u * u).sum())(a.to(t.complex64)),       # complex output
    lambda t, F, a: F.grad(3)(a),
])
def test_grad_errors(fn):
    raises(fn, A3)


# --- vjp, jvp, linearize ----------------------------------------------------------------------

def test_vjp():
    def run(t, F, a, b, c):
        out, fn = F.vjp(lambda a, b: (a * b, (a + b).exp()), a, b)
        return out, fn((c, c * 2)), fn((c, c))   # vjp_fn can be called again
    check(run, A3, B3, np.ones(3, np.float32))

    def aux(t, F, a, b):
        out, fn, aux = F.vjp(lambda a: (a.sin(), {"a": a * 3}), a, has_aux=True)
        return out, fn(b), aux
    check(aux, A3, B3)
    check(lambda t, F, a, b: F.vjp(lambda d: d["u"] * 2, {"u": a})[1](b), A3, B3)
    check(lambda t, F, a, b: F.vjp(lambda a: a * 2, a)[1](b.double()), A3, B3)   # cotangent dtype
    check(lambda t, F, a, b: F.vjp(lambda a, c: a * 2, a, b)[1](b), A3, B3)       # unused primal
    check(lambda t, F, a, b: F.vjp(lambda a: (a, a), a)[1]((b, b)), A3, B3)
    check(lambda t, F, a, b: F.vjp(t.sin, a)[0], A3, B3, requires_grad=True)
    check(lambda t, F, a, b: F.vjp(t.sin, a)[1](b), A3, B3, requires_grad=True)


@pytest.mark.parametrize("fn", [
    lambda t, F, a: F.vjp(lambda u: u, 3.0),
    lambda t, F, a: F.vjp(lambda u: 3, a),
    lambda t, F, a: F.vjp(lambda u: u.long(), a),
    lambda t, F, a: F.vjp(lambda u: u * 2, a, has_aux=True),
    lambda t, F, a: F.vjp(lambda u: u * 2, a)[1](t.ones(4)),
    lambda t, F, a: F.vjp(lambda u: u * 2, a)[1]((t.ones(3),)),
    lambda t, F, a: F.vjp(lambda u: u * 2, a)[1]([t.ones(3)]),
    lambda t, F, a: F.vjp(lambda u: (u, u), a)[1](t.ones(3)),
    lambda t, F, a: F.vjp(lambda u: (u, u), a)[1]((t.ones(3), None)),
])
def test_vjp_errors(fn):
    raises(fn, A3, message=False)


def test_jvp():
    check(lambda t, F, a, b: F.jvp(lambda u: u.sin() * u, (a,), (b,)), A3, B3)
    check(lambda t, F, a, b: F.jvp(lambda u, v: (u * v, (u / v.exp()).sum()), (a, b), (b, a)),
          A3, B3)
    check(lambda t, F, a, b: F.jvp(lambda d: {"s": d["x"] @ d["y"]}, ({"x": a, "y": b},),
                                   ({"x": b, "y": a},)), A3, B3)
    check(lambda t, F, a, b: F.jvp(lambda u: (u.exp(), u * 2), (a,), (b,), has_aux=True),
          A3, B3)
    check(lambda t, F, a, b: F.jvp(lambda u: t.ones(3), (a,), (b,)), A3, B3)   # independent
    check(lambda t, F, a, b: F.jvp(lambda u: (u * 2).long(), (a,), (b,)), A3, B3)   # int output
    check(lambda t, F, a, b: F.jvp(lambda u: u.double() * 2, (a,), (b,)), A3, B3)
    check(lambda t, F, a, b: F.jvp(t.sin, (a,), (b,)), A3, B3, requires_grad=True)
    check(lambda t, F, a, b: F.jvp(t.sin, (a,), (b,), strict=True), A3, B3)


@pytest.mark.parametrize("fn", [
    lambda t, F, a: F.jvp(lambda u: u, a, (a,)),                       # primals not a tuple
    lambda t, F, a: F.jvp(lambda u: u, [a], [a]),
    lambda t, F, a: F.jvp(lambda u: u, (a,), a),                       # structures differ
    lambda t, F, a: F.jvp(lambda u: u, (a,), (a, a)),
    lambda t, F, a: F.jvp(lambda: a, (), ()),                          # empty
    lambda t, F, a: F.jvp(lambda u: u, (3.0,), (1.0,)),                # not tensors
    lambda t, F, a: F.jvp(lambda u: u, (a,), (1.0,)),
    lambda t, F, a: F.jvp(lambda u: u, (a,), (t.ones(4),)),            # shapes differ
    lambda t, F, a: F.jvp(lambda u: u * 2, (t.arange(3),), (t.arange(3),)),   # integer primal
    lambda t, F, a: F.jvp(lambda u: 3, (a,), (a,)),
    lambda t, F, a: F.jvp(lambda u: u * 2, (a,), (a,), has_aux=True),
])
def test_jvp_errors(fn):
    raises(fn, A3)


def test_linearize():
    def run(t, F, a, b):
        out, fn = F.linearize(lambda u, v: (u.sin() * v, u.exp()), a, b)
        return out, fn(b, a), fn(a, a)
    check(run, A3, B3)
    raises(lambda t, F, a: F.linearize(t.sin, a)[1]((a,)), A3)
    raises(lambda t, F, a: F.linearize(t.sin, a)[1](t.ones(4)), A3, message=False)


# --- jacrev, jacfwd, hessian ------------------------------------------------------------------

@pytest.mark.parametrize("which", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("fn,argnums", [
    (lambda t, a, b: a.sin(), 0),
    (lambda t, a, b: a.reshape(3, 1) * b, 0),
    (lambda t, a, b: a.reshape(3, 1) * b, 1),
    (lambda t, a, b: a.sum() * b, (0, 1)),
    (lambda t, a, b: (a * 2, b.sum()), (0, 1)),
    (lambda t, a, b: {"p": a.exp(), "q": (a[:2] * b).sum()}, 0),
    (lambda t, a, b: (a ** 2).sum(), 0),
    (lambda t, a, b: b * 3, 0),                       # independent of the argument
    (lambda t, a, b: a.double() * 2, 0),              # output dtype differs from input's
])
def test_jacobians(which, fn, argnums):
    check(lambda t, F, a, b: getattr(F, which)(lambda a, b: fn(t, a, b), argnums)(a, b), A3, C2)


@pytest.mark.parametrize("which", ["jacrev", "jacfwd"])
def test_jacobian_pytrees_aux_and_scalars(which):
    check(lambda t, F, a, b: getattr(F, which)(lambda d: d["a"] * 2)({"a": a, "b": b}), A3, C2)
    check(lambda t, F, a: getattr(F, which)(lambda u: (u.exp(), u * 2), has_aux=True)(a), A3)
    check(lambda t, F, a: getattr(F, which)(lambda u: u * a)(a[0]), A3)
    check(lambda t, F, a: getattr(F, which)(t.sin)(a), A3, requires_grad=True)


def test_jacobian_integer_outputs():
    check(lambda t, F, a: F.jacfwd(lambda u: u.long())(a), A3)
    raises(lambda t, F, a: F.jacrev(lambda u: u.long())(a), A3)
    raises(lambda t, F, a: F.jacfwd(lambda u: u * 2)(t.arange(3)), A3)
    raises(lambda t, F, a: F.jacrev(lambda u: u * 2)(t.arange(3)), A3)


@pytest.mark.parametrize("fn", [
    lambda t, F, a: F.jacrev(lambda u: u * 2, has_aux=True)(a),
    lambda t, F, a: F.jacfwd(lambda u: u * 2, has_aux=True)(a),
    lambda t, F, a: F.jacrev(lambda u: 3)(a),
    lambda t, F, a: F.jacfwd(lambda u: 3)(a),
    lambda t, F, a: F.jacrev(lambda u: u, chunk_size=0),
    lambda t, F, a: F.jacrev(lambda u: u, argnums=1)(a),
    lambda t, F, a: F.jacfwd(lambda u: u, argnums=1.0)(a),
    lambda t, F, a: F.jacfwd(t.sin, randomness="foo")(a),
    lambda t, F, a: F.hessian(lambda u: u.sum(), argnums=1.0)(a),
])
def test_jacobian_errors(fn):
    raises(fn, A3)


def test_jacrev_chunk_size_and_random_under_jacrev():
    check(lambda t, F, a: F.jacrev(t.sin, chunk_size=1)(a), A3)
    for lib, F in LIBS:   # reverse mode does not police randomness
        assert F.jacrev(lambda u: u * lib.rand(3))(lib.tensor(A3)).shape == (3, 3)


def test_hessian():
    check(lambda t, F, a: F.hessian(lambda u: (u ** 3).sum() * u.sin().sum())(a), A3)
    check(lambda t, F, a, b: F.hessian(lambda u, v: (u ** 3 * v.sum()).sum(), argnums=(0, 1))(
        a, b), A3, C2)
    check(lambda t, F, a: F.hessian(lambda u: u ** 3)(a), A3)


def test_compositions():
    x53 = arrays((5, 3), seed=3)[0]
    check(lambda t, F, a: F.vmap(F.grad(lambda u: (u.sin() ** 2).sum()))(a), x53)
    check(lambda t, F, a: F.vmap(F.jacrev(t.tanh))(a), x53)
    check(lambda t, F, a: F.vmap(F.hessian(lambda u: (u ** 4).sum()))(a), x53)
    check(lambda t, F, a: F.grad(lambda u: F.vmap(t.sin)(u).sum())(a), x53)
    check(lambda t, F, a: F.jacrev(F.jacrev(lambda u: (u ** 3).prod()))(a), A3)
    check(lambda t, F, a: F.jacfwd(F.jacrev(lambda u: u.exp().sum() * u[0]))(a), A3)
    check(lambda t, F, a: F.grad(F.grad(lambda u: u.sin() * u ** 2))(a[0]), A3)
    check(lambda t, F, a: F.grad(lambda u: F.grad(lambda v: (u * v ** 2).sum())(u).sum())(a), A3)
    check(lambda t, F, a, b: F.jvp(F.grad(lambda u: (u ** 3).sum()), (a,), (b,)), A3, B3)
    check(lambda t, F, a, b: F.grad(lambda u: F.jvp(t.sin, (u,), (b,))[1].sum())(a), A3, B3)
    check(lambda t, F, a, b: F.vmap(lambda u: F.vjp(t.exp, u)[1](u))(a), x53, B3)
    check(lambda t, F, a: F.jacrev(F.jacrev(t.sin))(a), A3, requires_grad=True)


# --- functional_call, stack_module_state ------------------------------------------------------

def twin_modules(make):
    """The same module in torch and ember, ember's weights copied from torch's."""
    torch.manual_seed(0)
    tm = make(torch)
    em = make(ember)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, em


def linear(t):
    return t.nn.Linear(3, 2)


def mlp(t):
    return t.nn.Sequential(t.nn.Linear(3, 4), t.nn.Tanh(), t.nn.Linear(4, 2))


def states(module, lib, seed=5):
    rng = np.random.default_rng(seed)
    return {k: lib.tensor(rng.standard_normal(tuple(v.shape)).astype(np.float32))
            for k, v in module.state_dict().items()}


@pytest.mark.parametrize("make", [linear, mlp])
def test_functional_call(make):
    tm, em = twin_modules(make)
    x = arrays((4, 3), seed=7)[0]
    outs = []
    for lib, F, m in ((torch, torch.func, tm), (ember, ember.func, em)):
        p = states(m, lib)
        xt = lib.tensor(x)
        first = next(iter(p))
        outs.append((F.functional_call(m, p, xt), F.functional_call(m, p, (xt,)),
                     F.functional_call(m, p, (), {"input": xt}),
                     F.functional_call(m, {first: p[first]}, xt),      # others keep own values
                     F.functional_call(m, ({first: p[first]},
                                           {k: v for k, v in p.items() if k != first}), xt),
                     m(xt)))                                           # restored afterwards
    compare(*outs, grad_flags=False)
    assert all(isinstance(p, ember.nn.Parameter) for p in em.parameters())


def test_functional_call_gradients():
    tm, em = twin_modules(mlp)
    x = arrays((4, 3), seed=7)[0]
    res = []
    for lib, F, m in ((torch, torch.func, tm), (ember, ember.func, em)):
        p = {k: v.requires_grad_() for k, v in states(m, lib).items()}
        xt = lib.tensor(x)
        loss = lambda params: F.functional_call(m, params, xt).pow(2).mean()
        g = F.grad(loss)(p)
        loss(p).backward()
        res.append((g, {k: v.grad for k, v in p.items()}))
    compare(*res)
    assert all(p.grad is None for p in em.parameters())


def test_functional_call_errors_and_restore():
    for make in (linear,):
        tm, em = twin_modules(make)
        x = arrays((4, 3))[0]
        for kw in ({"strict": True},):
            for bad in ({"weight": None}, {"foo": None}):
                def run(t, F, a, bad=bad):
                    m = tm if t is torch else em
                    p = states(m, t)
                    values = {"weight": p["weight"]} if "weight" in bad else \
                        {**p, "foo": t.ones(1)}
                    return F.functional_call(m, values, a, **kw)
                raises(run, x)
        raises(lambda t, F, a: F.functional_call(tm if t is torch else em, 3, a), x)
        raises(lambda t, F, a: F.functional_call(tm if t is torch else em, [{}, 3], a), x)
        raises(lambda t, F, a: F.functional_call(
            tm if t is torch else em,
            ({"weight": t.ones(2, 3)}, {"weight": t.zeros(2, 3)}), a), x)

    class Boom(ember.nn.Linear):
        def forward(self, x):
            raise ValueError("boom")
    m = Boom(3, 2)
    w, b = m.weight, m.bias
    with pytest.raises(ValueError):
        ember.func.functional_call(m, {"weight": ember.ones(2, 3), "bias": ember.ones(2)},
                                   ember.ones(1, 3))
    assert m.weight is w and m.bias is b and m._parameters["weight"] is w


def test_functional_call_buffers_unexpected_keys_and_ties():
    def bn(t):
        return t.nn.BatchNorm1d(3).eval()
    tm, em = twin_modules(bn)
    x = arrays((4, 3))[0]
    outs = []
    for lib, F, m in ((torch, torch.func, tm), (ember, ember.func, em)):
        outs.append(F.functional_call(m, {"running_mean": lib.ones(3),
                                          "running_var": lib.ones(3) * 4}, lib.tensor(x)))
    compare(*outs, grad_flags=False)
    assert (em.running_mean == 0).all()

    def scaled(t):
        class Scaled(t.nn.Module):
            def forward(self, x):
                return x * self.scale
        return Scaled()
    check(lambda t, F, a: F.functional_call(scaled(t), {"scale": t.ones(3) * 2}, a), x)

    def tied(t):
        class Tied(t.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = t.nn.Linear(3, 3, bias=False)
                self.b = t.nn.Linear(3, 3, bias=False)
                self.b.weight = self.a.weight

            def forward(self, x):
                return self.b(self.a(x))
        return Tied()
    tm, em = twin_modules(tied)
    for kw in ({}, {"tie_weights": False}):
        outs = [F.functional_call(m, {"a.weight": lib.eye(3) * 2}, lib.tensor(x), **kw)
                for lib, F, m in ((torch, torch.func, tm), (ember, ember.func, em))]
        compare(*outs, grad_flags=False)
    raises(lambda t, F, a: F.functional_call(tm if t is torch else em,
                                             {"a.weight": t.eye(3), "b.weight": t.eye(3)}, a), x)


def test_stack_module_state_and_ensemble_vmap():
    torch.manual_seed(0)
    tms = [torch.nn.Linear(3, 2) for _ in range(4)]
    ems = [ember.nn.Linear(3, 2) for _ in range(4)]
    for tm, em in zip(tms, ems):
        em.load_state_dict({k: ember.tensor(v.detach().numpy())
                            for k, v in tm.state_dict().items()})
    x = arrays((5, 3))[0]
    res = []
    for lib, F, ms in ((torch, torch.func, tms), (ember, ember.func, ems)):
        params, buffers = F.stack_module_state(ms)
        assert all(p.is_leaf and p.requires_grad for p in params.values())
        out = F.vmap(lambda p, b, x: F.functional_call(ms[0], (p, b), (x,)),
                     in_dims=(0, 0, None))(params, buffers, lib.tensor(x))
        out.sum().backward()
        res.append((params, buffers, out, params["weight"].grad))
    compare(*res, grad_flags=False)
    assert ems[0].weight.grad is None

    tb = [torch.nn.BatchNorm1d(3) for _ in range(2)]
    eb = [ember.nn.BatchNorm1d(3) for _ in range(2)]
    compare(torch.func.stack_module_state(tb), ember.func.stack_module_state(eb))


@pytest.mark.parametrize("models", [
    lambda t: [],
    lambda t: [t.nn.Linear(3, 2), t.nn.Linear(3, 2).eval()],
    lambda t: [t.nn.Linear(3, 2), t.nn.Tanh()],
    lambda t: [t.nn.Linear(3, 2), t.nn.Linear(3, 3)],
    lambda t: [t.nn.Linear(3, 2), t.nn.Linear(3, 2).requires_grad_(False)],
])
def test_stack_module_state_errors(models):
    raises(lambda t, F: F.stack_module_state(models(t)), message=False)


def test_replace_all_batch_norm_modules_():
    for lib, F in LIBS:
        m = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.BatchNorm1d(3))
        assert F.replace_all_batch_norm_modules_(m) is m
        assert m[1].running_mean is None and m[1].running_var is None
        assert not m[1].track_running_stats


def test_functionalize_and_debug_unwrap():
    def mutate(t, F, a):
        a = a.clone()
        out = F.functionalize(lambda u: u.add_(1) * 2)(a)
        return out, a, F.debug_unwrap(a)
    check(mutate, X34)
    raises(lambda t, F, a: F.functionalize(t.sin, remove="x"), X34)
