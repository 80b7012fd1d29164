"""The order in which the autograd engine runs ready nodes, against torch's: of the nodes whose
gradients are complete, the one recorded last runs first, and a leaf's AccumulateGrad before
any op node. The order shows in when hooks fire, and in how the gradients that meet in one
tensor are summed: in float16/bfloat16 each partial sum rounds, so another order gives other
bits."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)
X = RNG.standard_normal(4096)
W = RNG.standard_normal(4096)


def _branches(t, x, w, log):
    """x feeds four branches, recorded in an order unlike the order in which they are
    consumed; w enters late."""
    def tag(y, name):
        if log is not None and y.requires_grad:
            y.register_hook(lambda g: log.append(name))
        return y
    c = tag(x * 3.1, "c")
    b = tag(x * 2.3, "b")
    d = tag(x.exp(), "d")
    e = tag(b.sin(), "e")
    f = tag((e + c) * w, "f")
    h = tag(d.cos() + x.tanh(), "h")
    return tag(f + h, "out").sum()


def _events(t):
    log = []
    x = t.tensor(X[:8], requires_grad=True)
    w = t.tensor(W[:8], requires_grad=True)
    x.register_hook(lambda g: log.append("x"))
    w.register_hook(lambda g: log.append("w"))
    w.register_post_accumulate_grad_hook(lambda p: log.append("w accumulated"))
    loss = _branches(t, x, w, log)
    loss.grad_fn.register_hook(lambda gi, go: log.append("sum node"))
    loss.backward()
    return log


def test_hooks_fire_in_torchs_order():
    expected = _events(torch)
    assert _events(ember) == expected
    # (what the order is: w's accumulation comes as soon as f's node has run, before the
    # older branches)
    assert expected.index("w accumulated") < expected.index("c")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_gradients_meeting_in_one_tensor_sum_in_torchs_order(dtype):
    grads = []
    for t in (torch, ember):
        x = t.tensor(X, dtype=getattr(t, "float32")).to(getattr(t, dtype)).requires_grad_()
        w = t.tensor(W, dtype=getattr(t, "float32")).to(getattr(t, dtype)).requires_grad_()
        _branches(t, x, w, None).backward()
        grads.append((x.grad.float().numpy(), w.grad.float().numpy()))
    (tx, tw), (ex, ew) = grads
    np.testing.assert_array_equal(ex, tx)
    np.testing.assert_array_equal(ew, tw)


def test_multiple_roots_and_autograd_grad_keep_the_order():
    """backward over several roots, and autograd.grad with inputs, use the same queue."""
    def run(t):
        log = []
        x = t.tensor(X[:8], requires_grad=True)
        a = x * 2
        a.register_hook(lambda g: log.append("a"))
        b = x.exp()
        b.register_hook(lambda g: log.append("b"))
        c = a.sin()
        c.register_hook(lambda g: log.append("c"))
        t.autograd.backward([c.sum(), b.sum()], retain_graph=True)
        (g,) = t.autograd.grad((a * b).sum(), x)
        log.append(list(np.round(g.detach().numpy(), 12)))
        return log
    assert run(ember) == run(torch)
