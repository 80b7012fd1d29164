"""The autograd engine, grad modes, hooks, custom Functions and errors, against torch."""
import threading

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check, check_raises


def both(fn):
    """Run fn(lib) on torch and ember; return both results."""
    return fn(torch), fn(ember)


def leaves(lib, *shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [lib.tensor(rng.standard_normal(s), dtype=lib.float64, requires_grad=True)
            for s in shapes]


# --- graph structure --------------------------------------------------------------------------

def test_node_names_and_next_functions():
    def names(lib):
        x, w = leaves(lib, (3,), (3,))
        y = ((x * w + 2) / 3).exp().log() - x
        s = (y @ w).sum() + x.sum()
        out = []
        stack = [s.grad_fn]
        while stack:
            node = stack.pop()
            out.append(node.name())
            stack.extend(n for n, _ in node.next_functions if n is not None)
        return out
    t, e = both(names)
    assert [n.replace("torch::", "") for n in e] == [n.replace("torch::", "") for n in t]


def test_grad_fn_repr_and_leaf_flags():
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    assert y.grad_fn.name() == "MulBackward0" and not y.is_leaf and x.is_leaf
    assert y.grad_fn.next_functions[0][0].name() == "torch::autograd::AccumulateGrad"
    assert y.grad_fn.next_functions[0][0].variable is x
    assert (x + 1).grad_fn.next_functions[1] == (None, 0)
    assert y.requires_grad and not (y.detach()).requires_grad
    with ember.no_grad():
        assert (x * 2).grad_fn is None


def test_no_graph_without_requires_grad():
    x = ember.ones(3)
    assert (x * 2).grad_fn is None and not (x * 2).requires_grad


# --- backward semantics -----------------------------------------------------------------------

def test_backward_accumulates_into_leaves():
    def run(lib):
        x, w = leaves(lib, (4,), (4,))
        for _ in range(2):
            ((x * w).sum() + (x ** 2).mean()).backward()
        return x.grad, w.grad
    (tx, tw), (ex, ew) = both(run)
    assert_close(tx, ex)
    assert_close(tw, ew)


def test_gradient_argument_and_shape_errors():
    check(lambda t, x: x * 3, [(2, 3)])   # random upstream gradient through the oracle
    check_raises(lambda t, x: (x.requires_grad_() * 2).backward(), [(3,)])
    check_raises(lambda t, x: (x.requires_grad_() * 2).backward(t.ones(2)), [(3,)])
    t_exc, e_exc = check_raises(lambda t, x: (x.requires_grad_() * 2).backward(), [(3,)])
    assert str(e_exc) == str(t_exc)
    t_exc, e_exc = check_raises(lambda t, x: (x * 2).sum().backward(), [(3,)])
    assert str(e_exc) == str(t_exc)


def test_backward_twice_needs_retain_graph():
    def run(lib):
        x, = leaves(lib, (3,))
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    assert_close(*both(run))

    def twice(t, x):
        y = x.requires_grad_().exp().sum()
        y.backward()
        y.backward()
    t_exc, e_exc = check_raises(twice, [(3,)])
    assert str(e_exc) == str(t_exc)


def test_backward_twice_without_saved_tensors_is_allowed():
    for lib in (torch, ember):
        x, = leaves(lib, (3,))
        y = (x + 1).sum()
        y.backward()
        y.backward()
        assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_inputs_argument():
    def run(lib):
        x, w = leaves(lib, (3,), (3,))
        (x * w).sum().backward(inputs=[w])
        return x.grad, w.grad
    (tx, tw), (ex, ew) = both(run)
    assert tx is None and ex is None
    assert_close(tw, ew)


def test_autograd_grad_and_allow_unused():
    def run(lib):
        x, w, u = leaves(lib, (3,), (3,), (2,))
        y = (x * w).sum()
        gx, gw = lib.autograd.grad(y, [x, w], retain_graph=True)
        gu, = lib.autograd.grad(y, [u], allow_unused=True)
        assert x.grad is None
        return gx, gw, gu
    (tx, tw, tu), (ex, ew, eu) = both(run)
    assert_close(tx, ex)
    assert_close(tw, ew)
    assert tu is None and eu is None

    def unused(t, x, u):
        x.requires_grad_()
        u.requires_grad_()
        t.autograd.grad((x * 2).sum(), [u])
    check_raises(unused, [(3,), (2,)])


def test_grad_of_intermediate():
    def run(lib):
        x, = leaves(lib, (3,))
        h = x.exp()
        y = (h * h).sum()
        return lib.autograd.grad(y, h)[0]
    assert_close(*both(run))


def test_double_backward_gradient_penalty():
    """The gradient of a gradient norm (WGAN-GP style) matches torch."""
    def run(lib):
        x, w = leaves(lib, (4, 3), (3, 2))
        y = (x @ w).exp().sum()
        g, = lib.autograd.grad(y, x, create_graph=True)
        penalty = ((g * g).sum(1) - 1).mean() ** 2 if False else ((g * g).sum() - 1) ** 2
        penalty.backward()
        return w.grad, x.grad
    (tw, tx), (ew, ex) = both(run)
    assert_close(tw, ew)
    assert_close(tx, ex)


def test_third_order():
    def run(lib):
        x, = leaves(lib, (3,))
        y = (x ** 4).sum()
        g1, = lib.autograd.grad(y, x, create_graph=True)
        g2, = lib.autograd.grad(g1.sum(), x, create_graph=True)
        g3, = lib.autograd.grad(g2.sum(), x)
        return g3
    assert_close(*both(run))


def test_long_chain_does_not_recurse():
    x = ember.ones(2, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_mixed_dtype_gradients_take_input_dtypes():
    def run(lib):
        a = lib.ones(3, dtype=lib.float32, requires_grad=True)
        b = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
        (a * b).sum().backward()
        return a.grad, b.grad
    (ta, tb), (ea, eb) = both(run)
    assert_close(ta, ea)
    assert_close(tb, eb)


def test_broadcast_gradients_sum_to_input_shape():
    check(lambda t, x, y, z: x * y + z, [(4, 1, 3), (2, 1), (3,)])


# --- retain_grad and hooks --------------------------------------------------------------------

def test_retain_grad_and_nonleaf_warning():
    def run(lib):
        x, = leaves(lib, (3,))
        h = x * 2
        h.retain_grad()
        (h ** 2).sum().backward()
        return h.grad, h.retains_grad
    (th, tr), (eh, er) = both(run)
    assert_close(th, eh)
    assert tr and er
    x = ember.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert (x * 2).grad is None


def test_tensor_hooks_modify_and_remove():
    def run(lib):
        x, = leaves(lib, (3,))
        calls = []
        h = x * 3
        handle = h.register_hook(lambda g: calls.append("h") or g * 10)
        x.register_hook(lambda g: calls.append("x"))
        h.sum().backward(retain_graph=True)
        handle.remove()
        h.sum().backward()
        return x.grad, calls
    (tg, tc), (eg, ec) = both(run)
    assert_close(tg, eg)
    assert ec == tc


def test_node_hooks():
    def run(lib):
        x, = leaves(lib, (3,))
        y = x.exp()
        seen = []
        y.grad_fn.register_prehook(lambda go: seen.append(("pre", len(go))))
        y.grad_fn.register_hook(lambda gi, go: seen.append(("post", len(gi), len(go))))
        y.sum().backward()
        return seen
    t, e = both(run)
    assert e == t


def test_hook_on_tensor_without_grad_errors():
    check_raises(lambda t, x: x.register_hook(lambda g: g), [(3,)])


# --- grad modes -------------------------------------------------------------------------------

def test_grad_modes_as_context_decorator_and_call():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        with ember.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()

    @ember.no_grad()
    def f():
        return x * 2

    @ember.no_grad
    def g():
        return x * 2
    assert not f().requires_grad and not g().requires_grad

    ember.set_grad_enabled(False)
    assert not ember.is_grad_enabled()
    ember.set_grad_enabled(True)
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()
    with ember.inference_mode():
        assert not (x * 2).requires_grad and ember.is_inference_mode_enabled()

    @ember.inference_mode()
    def h():
        return x * 2
    assert not h().requires_grad

    def gen():
        yield (x * 2).requires_grad
    assert list(ember.no_grad()(gen)()) == [False]


def test_grad_mode_is_thread_local():
    results = []

    def worker():
        results.append(ember.is_grad_enabled())
    with ember.no_grad():
        th = threading.Thread(target=worker)
        th.start()
        th.join()
    assert results == [True]


# --- in-place errors --------------------------------------------------------------------------

def test_saved_tensor_modified_inplace():
    def f(t, x):
        x.requires_grad_()
        y = x * 1
        y.exp()
        y.add_(1)   # exp saved its output, not y: allowed
        w = y * y
        y.mul_(2)   # y was saved by the second mul: backward must refuse
        w.sum().backward()
    t_exc, e_exc = check_raises(f, [(3,)])
    assert str(e_exc) == str(t_exc)

    def g(t, x):
        x.requires_grad_()
        z = x.exp()
        z.add_(1)
        z.sum().backward()
    t_exc, e_exc = check_raises(g, [(3,)])
    assert str(e_exc) == str(t_exc)


def test_inplace_on_nonleaf_rebases_history():
    check(lambda t, x: (x * 2).add_(x).mul_(x), [(3, 2)])
    check(lambda t, x: (x * 1).neg_().exp_(), [(3,)])


def test_requires_grad_flags():
    check_raises(lambda t, x: (x.requires_grad_() * 2).requires_grad_(False), [(2,)])
    check_raises(lambda t: t.ones(2, dtype=t.int64, requires_grad=True))
    x = ember.ones(2)
    x.requires_grad = True
    assert x.requires_grad


# --- custom Functions -------------------------------------------------------------------------

def make_cube(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x ** 3 * scale

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * 3 * x ** 2 * ctx.scale, None
    return Cube


def test_custom_function():
    def run(lib):
        x, = leaves(lib, (3,))
        y = make_cube(lib).apply(x, 2.0)
        name = y.grad_fn.name()
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        g.sum().backward()
        return y, x.grad, name
    (ty, tg, tn), (ey, eg, en) = both(run)
    assert_close(ty, ey)
    assert_close(tg, eg)
    assert en == tn


def test_custom_function_ctx_features():
    def run(lib):
        class Split(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                idx = x.argmax() if hasattr(x, "argmax") else None
                ctx.mark_non_differentiable(*(() if idx is None else (idx,)))
                return x * 2, x.detach() + 1

            @staticmethod
            def backward(ctx, g1, g2):
                assert ctx.needs_input_grad == (True,)
                return g1 * 2 if g2 is None else g1 * 2 + g2

        class AddOne(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g

        x, = leaves(lib, (3,))
        a, b = Split.apply(x)
        a.sum().backward()
        h = x * 1
        out = AddOne.apply(h)
        same = out is h
        (out * 3).sum().backward()
        return x.grad, same, h._version
    (tg, ts, tv), (eg, es, ev) = both(run)
    assert_close(tg, eg)
    assert es == ts


def test_once_differentiable():
    class F(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        @ember.autograd.function.once_differentiable
        def backward(ctx, g):
            assert not ember.is_grad_enabled()
            return g * 2
    x = ember.ones(2, requires_grad=True)
    g, = ember.autograd.grad(F.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == [2.0, 2.0] and not g.requires_grad


def test_custom_function_wrong_number_of_grads():
    def run(t, x):
        class Bad(t.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, g):
                return g
        Bad.apply(x.requires_grad_(), x).sum().backward()
    check_raises(run, [(2,)])


# --- checks -----------------------------------------------------------------------------------

def test_gradcheck_and_gradgradcheck():
    x = ember.tensor(np.random.default_rng(0).standard_normal((3, 2)), dtype=ember.float64,
                     requires_grad=True)
    w = ember.tensor(np.random.default_rng(1).standard_normal((2, 2)), dtype=ember.float64,
                     requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: (a @ b).exp() / (a.sum() + 3), (x, w))
    assert ember.autograd.gradgradcheck(lambda a, b: (a @ b).exp().sum(), (x, w))

    class Wrong(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * a

        @staticmethod
        def backward(ctx, g):
            return g * 3
    assert not ember.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)
    with pytest.raises(RuntimeError):
        ember.autograd.gradcheck(Wrong.apply, (x,))


def test_gradcheck_complex_agrees_with_torch():
    """Complex inputs and outputs are checked as pairs of reals under torch's convention
    (grad = dL/dx + i dL/dy): torch's and ember's verdicts agree, for holomorphic and
    non-holomorphic functions, real-to-complex and complex-to-real maps, and a backward that
    forgets the conjugate fails both."""
    rng = np.random.default_rng(2)
    z0 = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    r0 = rng.standard_normal(3)

    def forgets_conj(t):
        class ExpNoConj(t.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a.exp()

            @staticmethod
            def backward(ctx, g):
                (a,) = ctx.saved_tensors
                return g * a.exp()
        return ExpNoConj.apply

    cases = [(lambda t: lambda v: v.exp() * v, z0), (lambda t: lambda v: v.abs(), z0),
             (lambda t: lambda v: v.conj() * v.sin(), z0), (lambda t: lambda v: v * (1 + 2j), r0),
             (lambda t: lambda v: v.real * v.imag, z0), (forgets_conj, z0)]
    for make, x0 in cases:
        verdicts = []
        for t in (torch, ember):
            x = t.tensor(x0, requires_grad=True)
            verdicts.append((t.autograd.gradcheck(make(t), (x,), raise_exception=False),
                             t.autograd.gradgradcheck(make(t), (x,), raise_exception=False)))
        assert verdicts[0] == verdicts[1]
    assert not verdicts[1][0]   # the forgotten conjugate (its own derivative is right)
    assert ember.autograd.gradcheck(lambda v: v.exp() * v, (ember.tensor(z0, requires_grad=True),))


def test_detect_anomaly_names_the_op():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    with pytest.warns(UserWarning):
        ctx = ember.autograd.detect_anomaly()
    with ctx:
        y = (x.log() * 0).sum()   # d/dx log(x) at 0 is inf; times 0 gives nan
        with pytest.raises(RuntimeError, match="LogBackward0"):
            y.backward()
    z = (x.log() * 0).sum()
    z.backward()   # without anomaly mode: no error
    assert np.isnan(x.grad.numpy()[0])


def test_variable_alias():
    assert ember.autograd.Variable is ember.Tensor


# --- autograd.functional ------------------------------------------------------------------------

def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(3), rng.standard_normal((2, 3))


def test_functional_jacobian_hessian():
    a, b = _data()
    tj = torch.autograd.functional.jacobian(lambda x, w: (w @ x).exp(),
                                            (torch.tensor(a), torch.tensor(b)))
    ej = ember.autograd.functional.jacobian(lambda x, w: (w @ x).exp(),
                                            (ember.tensor(a), ember.tensor(b)))
    for t, e in zip(tj, ej):
        assert_close(t, e)
    assert_close(torch.autograd.functional.jacobian(lambda x: x.exp() * 2, torch.tensor(a)),
                 ember.autograd.functional.jacobian(lambda x: x.exp() * 2, ember.tensor(a)))
    assert_close(torch.autograd.functional.hessian(lambda x: (x ** 3).sum(), torch.tensor(a)),
                 ember.autograd.functional.hessian(lambda x: (x ** 3).sum(), ember.tensor(a)))


@pytest.mark.parametrize("name", ["vjp", "jvp", "hvp", "vhp"])
def test_functional_products(name):
    a, b = _data(1)
    v = np.random.default_rng(2).standard_normal(2 if name == "vjp" else 3)
    if name in ("hvp", "vhp"):
        def f(lib):
            return lambda x: (x ** 3).sum()
    else:
        def f(lib):
            return lambda x: lib.tensor(b) @ x.exp()
    t = getattr(torch.autograd.functional, name)(f(torch), torch.tensor(a), torch.tensor(v))
    e = getattr(ember.autograd.functional, name)(f(ember), ember.tensor(a), ember.tensor(v))
    assert_close(t[0], e[0])
    assert_close(t[1], e[1])


def test_leaf_hooks_run_for_autograd_grad():
    """A leaf's tensor hook sees (and may replace) its gradient in autograd.grad as in
    backward; a post-accumulate hook runs only when .grad is accumulated."""
    seen = {}
    for t in (torch, ember):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        log, post = [], []
        x.register_hook(lambda g: log.append(g.tolist()) or g * 10)
        x.register_post_accumulate_grad_hook(lambda p: post.append(p.grad.tolist()))
        (g,) = t.autograd.grad((x * x).sum(), x)
        (x * 3).sum().backward()
        seen[t.__name__] = (log, post, g.tolist(), x.grad.tolist())
    assert seen["torch"] == seen["ember"]


def test_custom_function_node_prints_as_torch():
    def run(t):
        class Twice(t.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2
        y = Twice.apply(t.ones(2, requires_grad=True))
        return y.grad_fn.name(), repr(y.grad_fn).split(" at ")[0], repr(y)
    names = run(torch)
    assert run(ember) == tuple(s.replace("torch.", "ember.") for s in names)


def test_saved_tensor_attributes_as_torch():
    """grad_fn._saved_self / _saved_other / _saved_result, and torch's error once freed."""
    def probe(t):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = t.tensor([3.0, 4.0], requires_grad=True)
        z, e, s = x * y, x.exp(), x.sin()
        found = [z.grad_fn._saved_self is x, z.grad_fn._saved_other is y,
                 e.grad_fn._saved_result.tolist() == e.tolist(), s.grad_fn._saved_self is x]
        try:
            s.grad_fn._saved_other
        except AttributeError:
            found.append("AttributeError")
        e.sum().backward()
        try:
            e.grad_fn._saved_result
        except RuntimeError as exc:
            found.append(str(exc)[:60])
        return found
    assert probe(ember) == probe(torch)


# --- .grad's memory: the engine's gradient is kept when nothing else holds it -----------------

def _grad_sharing_cases(lib):
    """Scenarios where one gradient array could reach two places: each returns the tensors
    whose values must be independent after the leaves' .grad are written in place."""
    gen = np.random.default_rng(7)
    arr = lambda *s: lib.tensor(gen.standard_normal(s).astype(np.float32))
    out = {}
    a, b, g = arr(3, 4).requires_grad_(), arr(3, 4).requires_grad_(), arr(3, 4)
    (a + b).backward(g)                        # one gradient tensor for both leaves
    out["add"] = (a, b, g)
    a, g = arr(3, 4).requires_grad_(), arr(3, 4)
    a.clone().backward(g)                      # the caller's own gradient passes through
    out["clone"] = (a, None, g)
    a, b = arr(4, 3).requires_grad_(), arr(3, 4).requires_grad_()
    ((a.t() + b) * 2).sum().backward()         # a view of the shared gradient reaches a
    out["transposed"] = (a, b, None)
    a, stored = arr(5).requires_grad_(), []
    a.register_hook(lambda grad: stored.append(grad))
    (a * 3).sum().backward()                   # a hook keeps the gradient it saw
    out["hook"] = (a, None, stored[0])
    a, b = arr(5).requires_grad_(), arr(5).requires_grad_()
    mid = a * b
    mid.sum().backward(inputs=[mid, a])        # a captured gradient given to the caller
    out["inputs"] = (a, None, mid.grad)
    return out


def test_leaf_grad_never_shares_memory_with_other_gradients():
    """Writing into a leaf's .grad (as optimizers and clip_grad_norm_ do) changes nothing
    else: not another leaf's .grad, the caller's gradient, a hook's or a captured gradient."""
    t_cases, e_cases = _grad_sharing_cases(torch), _grad_sharing_cases(ember)
    for name in t_cases:
        for a, other, _ in (t_cases[name], e_cases[name]):
            a.grad.add_(100.0)
            if other is not None:
                other.grad.mul_(-1.0)
        (ta, tother, tseen), (ea, eother, eseen) = t_cases[name], e_cases[name]
        assert_close(ta.grad, ea.grad)
        if tother is not None:
            assert_close(tother.grad, eother.grad)
        if tseen is not None:
            assert_close(tseen, eseen)


def test_leaf_grad_keeps_the_engines_gradient_and_accumulates_in_place(monkeypatch):
    """A gradient nothing else holds becomes .grad without a copy (torch steals it too): a
    linear layer's backward copies none of its parameters' gradients. A second backward adds
    into that same buffer."""
    from ember.autograd import graph
    copies = []
    fresh = graph._fresh
    monkeypatch.setattr(graph, "_fresh", lambda g: copies.append(g) or fresh(g))
    layer = ember.nn.Linear(6, 4)
    x = ember.randn(8, 6, requires_grad=True)
    layer(x).tanh().sum().backward()
    assert copies == []
    w_grad = layer.weight.grad
    first = w_grad.clone()
    layer(x).tanh().sum().backward()
    assert layer.weight.grad is w_grad
    assert_close(w_grad, first * 2)


def test_leaf_grad_has_the_leafs_layout():
    """.grad is laid out as its leaf (torch's contract), whatever layout the gradient arrives
    in: a contiguous leaf reached through a transpose, a transposed leaf reached contiguously
    or through a transpose, and a strided slice (whose gradient is compact)."""
    def grads(lib):
        gen = np.random.default_rng(11)
        arr = lambda *s: lib.tensor(gen.standard_normal(s).astype(np.float32))
        w, x = arr(3, 4).requires_grad_(), arr(4, 3)
        (w.t() * x).sum().backward()
        wt = arr(4, 3).t().detach().requires_grad_()
        (wt * 2).sum().backward()
        y = arr(4, 3).t().detach().requires_grad_()
        (y.t() * x).sum().backward()
        s = arr(6, 8)[::2, ::2].detach().requires_grad_()
        (s * 2).sum().backward()
        return [t.grad for t in (w, wt, y, s)]
    for t_g, e_g in zip(grads(torch), grads(ember)):
        assert_close(t_g, e_g, check_stride=True)
