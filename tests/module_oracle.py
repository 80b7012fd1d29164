"""Differential check of an nn layer: the same torch and ember module (parameters copied
through state_dict), same inputs, compared outputs, input gradients, parameter gradients and
repr, in train and eval mode."""
import importlib

import numpy as np
import torch

import ember
from oracle import assert_close, compare_outputs, make_array, to_ember, to_torch


def ember_class(module_file, name):
    """ember.nn.<name> when the nn package exports it, else ember.nn.modules.<file>.<name>."""
    cls = getattr(ember.nn, name, None)
    if cls is None:
        cls = getattr(importlib.import_module(f"ember.nn.modules.{module_file}"), name)
    return cls


def copy_state(tm, em):
    sd = {k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    em.load_state_dict(sd)


def check_module(module_file, name, args=(), kwargs=None, shapes=(), dtype="float32", *,
                 inputs=None, modes=("train", "eval"), rtol=1e-5, atol=1e-5, call=None,
                 seed=0, grad=True):
    kwargs = kwargs or {}
    rng = np.random.default_rng(seed)
    tm = getattr(torch.nn, name)(*args, **kwargs)
    em = ember_class(module_file, name)(*args, **kwargs)
    if dtype == "float64":
        tm = tm.double()
        em = em.double()
    assert repr(em) == repr(tm), f"repr {em!r} != torch {tm!r}"
    assert list(em.state_dict().keys()) == list(tm.state_dict().keys())
    for (k, tv), (_, ev) in zip(tm.state_dict().items(), em.state_dict().items()):
        assert tuple(tv.shape) == tuple(ev.shape), f"{k} shape"
    copy_state(tm, em)
    if inputs is None:
        inputs = [make_array(s, dtype, rng) for s in shapes]
    call = call or (lambda m, *xs: m(*xs))
    for mode in modes:
        getattr(tm, mode)()
        getattr(em, mode)()
        tm.zero_grad()
        em.zero_grad()
        t_in = [to_torch(a, grad and a.dtype.kind == "f") for a in inputs]
        e_in = [to_ember(a, grad and a.dtype.kind == "f") for a in inputs]
        t_out, e_out = call(tm, *t_in), call(em, *e_in)
        compare_outputs(t_out, e_out, rtol=rtol, atol=atol)
        if not grad:
            continue
        t_flat = [o for o in _flat(t_out) if isinstance(o, torch.Tensor) and o.requires_grad]
        e_flat = [o for o in _flat(e_out) if isinstance(o, ember.Tensor) and o.requires_grad]
        ups = [make_array(tuple(o.shape), dtype, rng) for o in t_flat]
        torch.autograd.backward(t_flat, [to_torch(u) for u in ups])
        ember.autograd.backward(e_flat, [to_ember(u) for u in ups])
        for i, (t, e) in enumerate(zip(t_in, e_in)):
            if t.requires_grad:
                assert_close(t.grad, e.grad, rtol=rtol, atol=atol, what=f"{mode} input {i} grad")
        ep = dict(em.named_parameters())
        for k, p in tm.named_parameters():
            if p.grad is None:
                assert ep[k].grad is None or not np.any(ep[k].grad.numpy()), k
            else:
                assert_close(p.grad, ep[k].grad, rtol=rtol, atol=atol, what=f"{mode} grad {k}")
    return tm, em


def _flat(o):
    if isinstance(o, (tuple, list)):
        return [y for x in o for y in _flat(x)]
    return [o]
