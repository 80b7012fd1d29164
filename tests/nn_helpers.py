"""Helpers for the nn tests: build the same module in torch and ember, copy torch's state into
ember through state_dict, and compare outputs and gradients."""
import numpy as np
import torch

import ember
from oracle import assert_close, make_array, to_ember, to_torch


def copy_state(t_mod, e_mod):
    """Load torch's state_dict into the ember module (strict)."""
    sd = {k: ember.tensor(v.detach().numpy().copy()) for k, v in t_mod.state_dict().items()}
    return e_mod.load_state_dict(sd)


def same_repr(t_obj, e_obj):
    t = repr(t_obj)
    e = repr(e_obj).replace("ember.", "torch.")
    assert e == t, f"\nember:\n{e}\ntorch:\n{t}"


def run_pair(ctor, shapes, *, dtypes="float32", train=True, inputs=None, seed=0, rtol=None,
             atol=None, grad=True, call=None):
    """ctor(nn) builds the module. Runs both on the same inputs in train or eval mode and
    compares outputs, input gradients and parameter gradients."""
    rng = np.random.default_rng(seed)
    if inputs is None:
        if isinstance(dtypes, str):
            dtypes = [dtypes] * len(shapes)
        inputs = [make_array(s, d, rng) for s, d in zip(shapes, dtypes)]
    torch.manual_seed(seed)
    tm = ctor(torch.nn)
    em = ctor(ember.nn)
    copy_state(tm, em)
    tm.train(train)
    em.train(train)
    diff = [grad and isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in inputs]
    ti = [to_torch(a, d) for a, d in zip(inputs, diff)]
    ei = [to_ember(a, d) for a, d in zip(inputs, diff)]
    call = call or (lambda m, *xs: m(*xs))
    to = call(tm, *ti)
    eo = call(em, *ei)
    assert_close(to, eo, rtol=rtol, atol=atol)
    if grad and to.requires_grad:
        up = make_array(tuple(to.shape), str(to.dtype).split(".")[-1], rng)
        to.backward(to_torch(up))
        eo.backward(to_ember(up))
        for i, (a, b, d) in enumerate(zip(ti, ei, diff)):
            if d:
                assert_close(a.grad, b.grad, rtol=rtol, atol=atol, what=f"grad of input {i}")
        tp = dict(tm.named_parameters())
        for name, p in em.named_parameters():
            if tp[name].grad is None:
                assert p.grad is None, name
            else:
                assert_close(tp[name].grad, p.grad, rtol=rtol, atol=atol, what=f"grad of {name}")
    for (k, tv), (k2, ev) in zip(tm.state_dict().items(), em.state_dict().items()):
        assert k == k2
        assert_close(tv, ev, rtol=rtol, atol=atol, what=f"state {k}")
    return tm, em, to, eo
