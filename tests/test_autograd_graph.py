"""torch.autograd.graph: saved-tensor hooks (saved_tensors_hooks, save_on_cpu,
disable_saved_tensors_hooks), gradient edges (GradientEdge, get_gradient_edge, autograd.grad
with an edge as input), increment_version, register_multi_grad_hook and
allow_mutation_on_saved_tensors, each compared with torch."""
import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, assert_raised_alike

X = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
G = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)

# ops whose saved tensors are the ones torch saves (shapes in torch's order)
SAVING = {
    "exp (saves its output)": lambda t, x: x.exp(),
    "sin (saves its input)": lambda t, x: x.sin(),
    "x * x": lambda t, x: x * x,
    "x * 2 (saves nothing)": lambda t, x: x * 2,
    "x + x": lambda t, x: x + x,
    "relu": lambda t, x: t.relu(x),
    "sigmoid": lambda t, x: x.sigmoid(),
    "tanh": lambda t, x: x.tanh(),
    "log of abs": lambda t, x: x.abs().log(),
    "division": lambda t, x: x / (x * x + 1),
    "pow": lambda t, x: x ** 2,
    "sqrt": lambda t, x: (x * x).sqrt(),
    "sum": lambda t, x: x.sum(),
    "softmax": lambda t, x: x.softmax(1),
    "log_softmax": lambda t, x: x.log_softmax(1),
    "mse_loss": lambda t, x: t.nn.functional.mse_loss(x, x.detach() * 0),
    "gelu": lambda t, x: t.nn.functional.gelu(x),
    "views and cat": lambda t, x: t.cat([x[1:3], x.view(2, 6)[:, :3]]),
    "max(dim) (saves its indices)": lambda t, x: x.max(1)[0],
    "min(dim, keepdim)": lambda t, x: x.min(0, keepdim=True)[0],
    "linear (saves input and weight.t())": lambda t, x: t.nn.functional.linear(x, x[:2] * 1),
}


def _run_with_hooks(lib, fn, unpack_scale=1.0):
    """fn(x) under hooks that log what is packed and scale what is unpacked; then backward."""
    x = lib.tensor(X, requires_grad=True)
    log = []

    def pack(t):
        log.append(("pack", tuple(t.shape), t is x))
        return t

    def unpack(t):
        log.append(("unpack", tuple(t.shape)))
        return t * unpack_scale if unpack_scale != 1.0 else t

    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = fn(lib, x)
    y.backward(lib.ones_like(y))
    return log, x.grad


@pytest.mark.parametrize("name", list(SAVING))
def test_pack_and_unpack_calls_as_torch(name):
    t_log, t_grad = _run_with_hooks(torch, SAVING[name])
    e_log, e_grad = _run_with_hooks(ember, SAVING[name])
    assert e_log == t_log
    assert_close(t_grad, e_grad, what="grad")


@pytest.mark.parametrize("name", ["exp (saves its output)", "x * x", "division", "softmax",
                                  "linear (saves input and weight.t())"])
def test_unpacked_values_are_what_backward_uses(name):
    """An unpack hook that changes the value changes the gradient, as in torch."""
    t_log, t_grad = _run_with_hooks(torch, SAVING[name], unpack_scale=2.0)
    e_log, e_grad = _run_with_hooks(ember, SAVING[name], unpack_scale=2.0)
    assert e_log == t_log
    assert_close(t_grad, e_grad, what="grad")


def _custom_function(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x
    return Square


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_hooks_reach_custom_functions_and_each_read_unpacks(lib):
    x = lib.tensor(X, requires_grad=True)
    packed, unpacked = [], []

    def pack(t):
        packed.append(t.shape)
        return t.detach().numpy().copy()        # the hook may keep anything at all

    def unpack(a):
        unpacked.append(a.shape)
        return lib.from_numpy(a)

    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = _custom_function(lib).apply(x).exp()
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    assert [tuple(s) for s in packed] == [(4, 3), (4, 3)]
    assert len(unpacked) == 4                   # two saved tensors, read by two backwards
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * X * np.exp(X * X), rtol=1e-5)


def test_hooks_apply_only_while_recording_and_innermost_wins():
    for lib in (torch, ember):
        x = lib.tensor(X, requires_grad=True)
        order = []
        with lib.autograd.graph.saved_tensors_hooks(lambda t: order.append("outer") or t,
                                                    lambda t: t):
            with lib.autograd.graph.saved_tensors_hooks(lambda t: order.append("inner") or t,
                                                        lambda t: t):
                x.sin()
                with lib.no_grad():
                    x.sin()
                lib.tensor(X).sin()              # nothing requires grad: nothing is saved
            x.cos()
        assert order == ["inner", "outer"], lib.__name__


def test_packed_tensors_skip_the_version_check():
    """torch keeps only what the hook returned: an in-place change after packing is not
    detected (without hooks it raises)."""
    for lib in (torch, ember):
        a = lib.tensor(X, requires_grad=True)
        b = a * 1
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            c = b.sin()
        b.add_(1)
        c.sum().backward()
        assert_close(torch.tensor(np.cos(X)), ember.tensor(a.grad.numpy()), what=lib.__name__)


def test_unpack_hook_must_return_a_tensor():
    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: 1, lambda t: t):
            y = x.sin()
        y.sum().backward()
    assert_raised_alike(lambda: run(torch), lambda: run(ember))


def test_saved_attributes_go_through_the_hooks():
    out = {}
    for lib in (torch, ember):
        x = lib.tensor(X, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t * 3):
            y = x.exp()
            z = x.sin()
        out[lib] = (y.grad_fn._saved_result, z.grad_fn._saved_self)
    for t, e in zip(out[torch], out[ember]):
        assert_close(t, e)


def test_disable_saved_tensors_hooks():
    for lib in (torch, ember):
        graph = lib.autograd.graph
        with graph.disable_saved_tensors_hooks("no hooks in here"):
            with pytest.raises(RuntimeError, match="no hooks in here"):
                with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
            with graph.disable_saved_tensors_hooks("inner"):
                pass
            with pytest.raises(RuntimeError, match="no hooks in here"):   # still disabled
                with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):         # enabled again
            with pytest.raises(RuntimeError, match="hooks are on"):
                with graph.disable_saved_tensors_hooks("hooks are on"):
                    pass

        @graph.disable_saved_tensors_hooks("as a decorator")
        def f():
            with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
        with pytest.raises(RuntimeError, match="as a decorator"):
            f()


@pytest.mark.parametrize("pin_memory", [False, True])
def test_save_on_cpu(pin_memory):
    grads = {}
    for lib in (torch, ember):
        x = lib.tensor(X, requires_grad=True)
        with lib.autograd.graph.save_on_cpu(pin_memory=pin_memory):
            y = (x.exp() * x).tanh()
        y.backward(lib.tensor(G))
        grads[lib] = x.grad
    assert_close(grads[torch], grads[ember], what="grad")


def test_gradient_edges():
    def edges(lib):
        x = lib.tensor(X, requires_grad=True)
        y = x * 2
        ex, ey = lib.autograd.graph.get_gradient_edge(x), lib.autograd.graph.get_gradient_edge(y)
        return (type(ex).__name__, ex.node.name(), ex.output_nr, ey.node.name(), ey.output_nr,
                ey.node is y.grad_fn, ex.ownership_token, len(ey), type(ey)._fields)
    assert edges(ember) == edges(torch)
    assert_raised_alike(lambda: torch.autograd.graph.get_gradient_edge(torch.tensor(X)),
                        lambda: ember.autograd.graph.get_gradient_edge(ember.tensor(X)))


def test_autograd_grad_with_gradient_edge_inputs():
    out = {}
    for lib in (torch, ember):
        x = lib.tensor(X, requires_grad=True)
        y = x.sin()
        z = (y * y).sum()
        edge = lib.autograd.graph.get_gradient_edge(y)
        single = lib.autograd.grad(z, edge, retain_graph=True)
        both = lib.autograd.grad(z, [edge, x])
        out[lib] = (single, both)
    (ts, tb), (es, eb) = out[torch], out[ember]
    assert len(es) == len(ts) == 1 and len(eb) == len(tb) == 2
    for t, e in zip(ts + tb, es + eb):
        assert_close(t, e, what="grad")


def test_gradient_edge_errors():
    def unused(lib):
        x = lib.tensor(X, requires_grad=True)
        w = lib.tensor(X, requires_grad=True)
        return lib.autograd.grad((w * 3).sum(), [w, lib.autograd.graph.get_gradient_edge(x * 2)])

    def materialize(lib):
        x = lib.tensor(X, requires_grad=True)
        return lib.autograd.grad((x * 3).sum(), lib.autograd.graph.get_gradient_edge(x * 2),
                                 materialize_grads=True)
    for case in (unused, materialize):
        with pytest.raises(RuntimeError) as t_err:
            case(torch)
        with pytest.raises(RuntimeError) as e_err:
            case(ember)
        assert str(e_err.value) == str(t_err.value)


def test_writing_into_max_indices_is_caught():
    """max(dim)'s returned indices are what its backward saved, as in torch."""
    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        values, indices = x.max(1)
        indices.zero_()
        values.sum().backward()
    assert_raised_alike(lambda: run(torch), lambda: run(ember))


def test_increment_version():
    for lib in (torch, ember):
        a = lib.tensor(X, requires_grad=True)
        b = a * 1
        c = b.sin()
        lib.autograd.graph.increment_version(b)
        assert b._version == 1
        lib.autograd.graph.increment_version([b, b])
        assert b._version == 3
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            c.sum().backward()


def _multi_hook_log(lib, mode):
    """What a multi-grad hook sees over several backward passes (torch's documented example
    and more): for each call, which gradients it got and their values."""
    gen = np.random.default_rng(3)
    a = lib.tensor(gen.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    b = lib.tensor(gen.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    c = a * b
    d = a * b
    e = (c * 2).sin()
    log = []

    def fn(grads):
        if mode == "all":
            log.append(("all", [None if g is None else g.detach().clone() for g in grads]))
        else:
            log.append(("any", grads.detach().clone()))
    handle = lib.autograd.graph.register_multi_grad_hook((a, b, c, d), fn, mode=mode)
    c.sum().backward(retain_graph=True)                 # d is not in this graph
    c.sum().backward(inputs=(a,), retain_graph=True)    # b's gradient is not computed
    e.sum().backward(retain_graph=True)                 # through c again, to a and b
    (c.sum() + d.sum()).backward(retain_graph=True)     # all four
    handle.remove()
    c.sum().backward(retain_graph=True)                 # removed: no call
    # autograd.grad (torch takes only non-leaf tensors there): c's gradient, not d's
    lib.autograd.graph.register_multi_grad_hook((c, d), fn, mode=mode)
    lib.autograd.grad(e.sum(), (b,))
    return log


@pytest.mark.parametrize("mode", ["all", "any"])
def test_register_multi_grad_hook(mode):
    t_log, e_log = _multi_hook_log(torch, mode), _multi_hook_log(ember, mode)
    assert len(e_log) == len(t_log) == 5
    for (_, t_got), (_, e_got) in zip(t_log, e_log):
        if mode == "any":
            assert_close(t_got, e_got)
            continue
        assert [g is None for g in e_got] == [g is None for g in t_got]
        for t_g, e_g in zip(t_got, e_got):
            if t_g is not None:
                assert_close(t_g, e_g)


def test_register_multi_grad_hook_errors():
    for lib in (torch, ember):
        x = lib.ones(2, requires_grad=True)
        with pytest.raises(ValueError, match="Expects mode to be one of"):
            lib.autograd.graph.register_multi_grad_hook((x,), print, mode="some")
        with pytest.raises(AssertionError, match="Expected gradient function to be set"):
            lib.autograd.graph.register_multi_grad_hook((x, lib.ones(2)), print)
        # mode="any" skips tensors that do not require grad
        lib.autograd.graph.register_multi_grad_hook((x, lib.ones(2)), print, mode="any").remove()


def _mutations_after_saving(lib):
    """Gradients through tensors modified in place after ops saved them, inside
    allow_mutation_on_saved_tensors (torch's documented example and more)."""
    gen = np.random.default_rng(9)
    arr = lambda *s: lib.tensor(gen.standard_normal(s).astype(np.float32))
    grads = []
    with lib.autograd.graph.allow_mutation_on_saved_tensors() as block:
        assert type(block).__name__ == "_AllowMutationOnSavedContext"
        a = arr(2, 3).requires_grad_()
        b = a.clone()
        out = (b ** 2).sum()
        b.sin_()                                  # pow saved b
        out.backward()
        grads.append(a.grad)
        a = arr(4).requires_grad_()
        b = a * 1
        c = b * b
        b[:2].mul_(3)                             # a view of what mul saved
        c.sum().backward()
        grads.append(a.grad)
        a = arr(4).requires_grad_()
        c = (a * 1).exp()
        c.mul_(2)                                 # exp saved its result: c itself
        c.sum().backward()
        grads.append(a.grad)
        a = arr(3).requires_grad_()
        y = a * a * a
        a.data.mul_(5)                            # (behind autograd's back, through .data)
        (g,) = lib.autograd.grad(y.sum(), a, create_graph=True)
        g.sum().backward()                        # double backward through the copies
        grads += [g, a.grad]
        w, x = arr(2, 3).requires_grad_(), arr(4, 3)
        h = lib.nn.functional.linear(x, w)
        x.add_(1)                                 # linear saved its input
        h.sum().backward()
        grads.append(w.grad)
    return grads


def test_allow_mutation_on_saved_tensors():
    for t_g, e_g in zip(_mutations_after_saving(torch), _mutations_after_saving(ember)):
        assert_close(t_g, e_g)


def test_allow_mutation_on_saved_tensors_errors():
    for lib in (torch, ember):
        allow = lib.autograd.graph.allow_mutation_on_saved_tensors
        with allow():
            a = lib.ones(2, requires_grad=True)
            c = (a * 2).exp()
        with pytest.raises(AssertionError, match="backward outside of the 'allow_mutation_on_"):
            c.sum().backward()
        with pytest.raises(RuntimeError, match="contexts cannot be nested"):
            with allow():
                with allow():
                    pass
        with lib.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
            with pytest.raises(RuntimeError, match="no hooks here"):
                with allow():
                    pass


def test_compile_and_stream_settings():
    """The compile-only budget refuses eager use with torch's checks and errors; the stream
    settings are accepted (ember has no device streams for them to act on)."""
    for lib in (torch, ember):
        g = lib.autograd.graph
        with pytest.raises(TypeError, match="expects a float, got bool"):
            g.region_activation_memory_budget(True)
        with pytest.raises(ValueError, match=r"must be in \[0, 1\], got 1.5"):
            g.region_activation_memory_budget(1.5)
        with pytest.raises(RuntimeError, match="inside a torch.compile region"):
            g.region_activation_memory_budget(0.5)
        assert g.set_warn_on_accumulate_grad_stream_mismatch(False) is None
        assert g.set_override_stale_capture_stream(True) is None
        g.set_warn_on_accumulate_grad_stream_mismatch(True)
        g.set_override_stale_capture_stream(False)
