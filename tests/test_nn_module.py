"""nn.Module machinery and containers against torch: routing, errors, traversal, state_dict
order, load_state_dict results and errors, reprs, hooks, modes and conversions."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from nn_helpers import copy_state, same_repr
from oracle import assert_close


def both(fn):
    return fn(torch), fn(ember)


def model(t):
    nn = t.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("scale", t.ones(3))
            self.register_buffer("tmp", t.zeros(2), persistent=False)
            self.features = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.BatchNorm1d(3))
            self.head = nn.Linear(3, 2, bias=False)
            self.shared = self.head            # the same module twice
            self.alpha = nn.Parameter(t.zeros(1))
            self.register_parameter("unused", None)

        def forward(self, x):
            return self.head(self.features(x) * self.scale) + self.alpha
    return Net()


def test_state_dict_keys_and_order():
    tm, em = both(model)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert list(em.state_dict(prefix="m.")) == list(tm.state_dict(prefix="m."))
    assert dict(em.state_dict()._metadata) == dict(tm.state_dict()._metadata)
    sd = em.state_dict(keep_vars=True)
    assert sd["alpha"] is em.alpha
    assert em.state_dict()["alpha"] is not em.alpha and not em.state_dict()["alpha"].requires_grad


def test_traversal_names():
    tm, em = both(model)
    for fn in (lambda m: [n for n, _ in m.named_parameters()],
               lambda m: [n for n, _ in m.named_parameters(recurse=False)],
               lambda m: [n for n, _ in m.named_buffers()],
               lambda m: [n for n, _ in m.named_modules()],
               lambda m: [n for n, _ in m.named_modules(remove_duplicate=False)],
               lambda m: [n for n, _ in m.named_children()],
               lambda m: [n for n, _ in m.named_parameters(remove_duplicate=False)],
               lambda m: len(list(m.parameters())), lambda m: len(list(m.modules())),
               lambda m: len(list(m.buffers()))):
        assert fn(em) == fn(tm)
    assert em.get_submodule("features.0") is em.features[0]
    assert em.get_parameter("features.0.weight") is em.features[0].weight
    assert em.get_buffer("features.2.running_mean") is em.features[2].running_mean


def test_routing_and_delattr():
    m = ember.nn.Module()
    p = ember.nn.Parameter(ember.ones(2))
    m.w = p
    assert m._parameters["w"] is p and "w" not in m.__dict__
    m.register_buffer("b", ember.zeros(2))
    m.b = ember.ones(2)                    # a tensor assigned to a buffer name stays a buffer
    assert "b" in m._buffers and m.b.tolist() == [1.0, 1.0]
    m.sub = ember.nn.Linear(2, 2)
    assert "sub" in m._modules
    m.w = None
    assert m._parameters["w"] is None and m.w is None
    m.x = 3
    assert m.__dict__["x"] == 3
    del m.sub, m.b, m.x
    assert "sub" not in m._modules and "b" not in m._buffers and not hasattr(m, "x")
    m.b2 = ember.nn.Buffer(ember.ones(1), persistent=False)
    assert "b2" in m._buffers and "b2" in m._non_persistent_buffers_set
    # re-assigning a module name with a Parameter moves it
    m.sub = ember.nn.Linear(2, 2)
    m.sub = ember.nn.Parameter(ember.ones(1))
    assert "sub" not in m._modules and "sub" in m._parameters


ERRORS = [
    lambda t: setattr(t.nn.Linear(2, 2), "weight", t.ones(2, 2)),
    lambda t: t.nn.Linear(2, 2).register_buffer("a.b", None),
    lambda t: t.nn.Linear(2, 2).register_buffer("", None),
    lambda t: t.nn.Linear(2, 2).register_buffer("weight", t.ones(1)),
    lambda t: t.nn.Linear(2, 2).register_buffer("x", 3),
    lambda t: t.nn.Linear(2, 2).register_parameter("x", t.ones(1)),
    lambda t: t.nn.Linear(2, 2).register_parameter("a.b", None),
    lambda t: t.nn.Linear(2, 2).add_module("x", 3),
    lambda t: t.nn.Linear(2, 2).add_module("a.b", t.nn.ReLU()),
    lambda t: t.nn.Linear(2, 2).add_module("weight", t.nn.ReLU()),
    lambda t: t.nn.Linear(2, 2).foo,
    lambda t: setattr(t.nn.Sequential(t.nn.ReLU()), "0", 3),
    lambda t: t.nn.Module().train("yes"),
    lambda t: t.nn.Linear(2, 2).to(t.int64),
    lambda t: t.nn.Sequential(t.nn.ReLU())[3],
    lambda t: t.nn.ModuleList([t.nn.ReLU()])[-2],
    lambda t: t.nn.Module()(1),
    lambda t: t.nn.Module().load_state_dict([1]),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    t_exc = e_exc = None
    try:
        ERRORS[i](torch)
    except Exception as exc:   # noqa: BLE001
        t_exc = exc
    try:
        ERRORS[i](ember)
    except Exception as exc:   # noqa: BLE001
        e_exc = exc
    assert t_exc is not None and e_exc is not None
    assert type(e_exc) is type(t_exc), (e_exc, t_exc)
    assert str(e_exc).replace("ember.", "torch.") == str(t_exc), (str(e_exc), str(t_exc))


def test_assign_before_init():
    class Bad(ember.nn.Module):
        def __init__(self):
            self.w = ember.nn.Parameter(ember.ones(1))
    with pytest.raises(AttributeError, match="cannot assign parameters before Module"):
        Bad()

    class Bad2(ember.nn.Module):
        def __init__(self):
            self.m = ember.nn.ReLU()
    with pytest.raises(AttributeError, match="cannot assign module before Module"):
        Bad2()


def test_load_state_dict_results_and_errors():
    tm, em = both(model)
    copy_state(tm, em)
    sd_t = tm.state_dict()
    sd_e = em.state_dict()
    assert repr(em.load_state_dict(sd_e)) == repr(tm.load_state_dict(sd_t))
    bad_t = OrderedDict(sd_t)
    bad_e = OrderedDict(sd_e)
    for d, lib in ((bad_t, torch), (bad_e, ember)):
        del d["head.weight"]
        d["foo"] = lib.ones(1)
        d["features.9.bar"] = lib.ones(1)
    r_t = tm.load_state_dict(bad_t, strict=False)
    r_e = em.load_state_dict(bad_e, strict=False)
    assert r_e.missing_keys == r_t.missing_keys and r_e.unexpected_keys == r_t.unexpected_keys
    with pytest.raises(RuntimeError) as te:
        tm.load_state_dict(bad_t)
    with pytest.raises(RuntimeError) as ee:
        em.load_state_dict(bad_e)
    assert str(ee.value) == str(te.value)
    sd_t = OrderedDict(tm.state_dict())
    sd_e = OrderedDict(em.state_dict())
    sd_t["head.weight"] = torch.ones(5, 5)
    sd_e["head.weight"] = ember.ones(5, 5)
    with pytest.raises(RuntimeError) as te:
        tm.load_state_dict(sd_t)
    with pytest.raises(RuntimeError) as ee:
        em.load_state_dict(sd_e)
    assert str(ee.value).replace("ember.", "torch.") == str(te.value)


def test_load_copies_values_in_place():
    tm, em = both(model)
    w = em.head.weight
    copy_state(tm, em)
    assert em.head.weight is w
    assert_close(tm.head.weight.detach(), em.head.weight)
    assert_close(tm.features[2].num_batches_tracked, em.features[2].num_batches_tracked)


def test_reprs():
    for build in (model,
                  lambda t: t.nn.ModuleList([t.nn.Linear(2, 2) for _ in range(3)] +
                                            [t.nn.ReLU(), t.nn.ReLU(), t.nn.Tanh()]),
                  lambda t: t.nn.ModuleDict({"a": t.nn.ReLU(), "b": t.nn.Sequential()}),
                  lambda t: t.nn.ParameterList([t.nn.Parameter(t.ones(2)),
                                                t.nn.Parameter(t.ones(2, 3).double())]),
                  lambda t: t.nn.ParameterDict({"a": t.nn.Parameter(t.ones(2))}),
                  lambda t: t.nn.Sequential(OrderedDict(conv=t.nn.Identity(),
                                                        act=t.nn.GELU("tanh"))),
                  lambda t: t.nn.Sequential(), lambda t: t.nn.ModuleList()):
        same_repr(*both(build))


def test_sequential_ops():
    def ops(t):
        nn = t.nn
        s = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid())
        out = [repr(s[1:]), repr(s[-1]), len(s)]
        s.append(nn.ELU())
        s.insert(1, nn.GELU())
        s.extend([nn.SiLU()])
        del s[0]
        out.append(repr(s))
        out.append(repr(s.pop(1)))
        s[0] = nn.Softplus()
        out.append(repr(s))
        out.append(repr(s + nn.Sequential(nn.ReLU())))
        out.append(repr(nn.Sequential(nn.ReLU()) * 2))
        out.append([type(m).__name__ for m in s])
        ml = nn.ModuleList([nn.ReLU()])
        ml.append(nn.Tanh())
        ml.insert(0, nn.ELU())
        ml.extend([nn.GELU()])
        ml += [nn.SiLU()]
        del ml[1]
        out.append(repr(ml))
        out.append(repr(ml[1:3]))
        md = nn.ModuleDict([("x", nn.ReLU())])
        md["y"] = nn.Tanh()
        md.update({"z": nn.ELU()})
        out.append((list(md.keys()), "y" in md, len(md), repr(md.pop("x"))))
        pl = nn.ParameterList([t.ones(2)])
        pl.append(t.zeros(3))
        out.append((len(pl), [type(p).__name__ for p in pl], [n for n, _ in pl.named_parameters()]))
        pd = nn.ParameterDict({"b": t.ones(1), "a": t.ones(2)})
        out.append((list(pd.keys()), [n for n, _ in pd.named_parameters()]))
        return out
    t_out, e_out = both(ops)
    assert e_out == t_out


def test_sequential_forward_and_dataparallel():
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    em = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.Tanh(), ember.nn.Linear(3, 1))
    copy_state(tm, em)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    assert_close(tm(torch.from_numpy(x)), em(ember.tensor(x)))
    tdp, edp = torch.nn.DataParallel(tm), ember.nn.DataParallel(em)
    assert list(edp.state_dict()) == list(tdp.state_dict())
    assert edp.module is em
    assert_close(tdp(torch.from_numpy(x)), edp(ember.tensor(x)))


def test_forward_hooks_order_and_removal():
    def run(t):
        calls = []
        m = t.nn.Linear(2, 2)
        h1 = m.register_forward_pre_hook(lambda mod, args: calls.append("pre1"))
        m.register_forward_pre_hook(lambda mod, args: calls.append("pre0"), prepend=True)
        m.register_forward_pre_hook(lambda mod, args, kw: calls.append(("prekw", sorted(kw))),
                                    with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: calls.append("post1"))
        m.register_forward_hook(lambda mod, args, out: calls.append("post0"), prepend=True)
        m.register_forward_hook(lambda mod, args, kw, out: calls.append("postkw"),
                                with_kwargs=True)
        m(t.ones(1, 2))
        h1.remove()
        m(t.ones(1, 2))
        # a pre-hook may replace args, a hook may replace the output
        m2 = t.nn.Identity()
        m2.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        m2.register_forward_hook(lambda mod, args, out: out + 1)
        calls.append(m2(t.ones(1)).tolist())
        with m2.register_forward_hook(lambda mod, args, out: out * 10):
            calls.append(m2(t.ones(1)).tolist())
        calls.append(m2(t.ones(1)).tolist())
        return calls
    t_calls, e_calls = both(run)
    assert e_calls == t_calls


def test_always_call_hook():
    def run(t):
        calls = []

        class Boom(t.nn.Module):
            def forward(self, x):
                raise ValueError("boom")
        m = Boom()
        m.register_forward_hook(lambda mod, a, o: calls.append("always"), always_call=True)
        m.register_forward_hook(lambda mod, a, o: calls.append("normal"))
        with pytest.raises(ValueError):
            m(t.ones(1))
        return calls
    t_calls, e_calls = both(run)
    assert e_calls == t_calls


def test_full_backward_hooks():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    up = rng.standard_normal((3, 2)).astype(np.float32)

    def run(t, tensor):
        record = []
        m = t.nn.Linear(4, 2)
        inner = t.nn.Tanh()

        def hook(mod, gin, gout):
            record.append(("hook", [g.detach().numpy().copy() if g is not None else None
                                    for g in gin], [g.detach().numpy().copy() for g in gout]))
            return (gin[0] * 2,)

        def pre(mod, gout):
            record.append(("pre", [g.detach().numpy().copy() for g in gout]))
        seq = t.nn.Sequential(m, inner)
        inner.register_full_backward_hook(hook)
        inner.register_full_backward_pre_hook(pre)
        xi = tensor(x).requires_grad_()
        out = seq(xi)
        out.backward(tensor(up))
        return record, xi.grad.numpy(), m.weight.grad.numpy()

    torch.manual_seed(0)
    tr, tg, tw = run(torch, torch.from_numpy)
    er, eg, ew = run(ember, ember.tensor)
    # weights differ (independent init): compare the structure and the doubling effect only
    assert [r[0] for r in er] == [r[0] for r in tr]
    assert len(er[1][1]) == len(tr[1][1]) and len(er[1][2]) == len(tr[1][2])
    np.testing.assert_allclose(er[0][1][0], up, rtol=1e-6)


def test_full_backward_hook_values_match():
    tm = torch.nn.Linear(4, 2)
    em = ember.nn.Linear(4, 2)
    copy_state(tm, em)
    got = {}
    for lib, m, key in ((torch, tm, "t"), (ember, em, "e")):
        m.register_full_backward_hook(
            lambda mod, gin, gout, key=key: got.__setitem__(key, (gin[0], gout[0])))
        x = (torch.from_numpy if lib is torch else ember.tensor)(
            np.arange(12, dtype=np.float32).reshape(3, 4)).requires_grad_()
        m(x).sum().backward()
    assert_close(got["t"][0], got["e"][0])
    assert_close(got["t"][1], got["e"][1])


def test_modes_grad_and_conversion():
    tm, em = both(model)
    copy_state(tm, em)
    em.eval()
    assert not em.training and not em.features[2].training
    em.train()
    assert em.features[0].training
    em.requires_grad_(False)
    assert not any(p.requires_grad for p in em.parameters())
    em.requires_grad_(True)
    x = ember.ones(5, 4)
    em(x).sum().backward()
    assert em.head.weight.grad is not None
    em.zero_grad(set_to_none=False)
    assert float(em.head.weight.grad.sum()) == 0.0
    em.zero_grad()
    assert em.head.weight.grad is None
    w = em.head.weight
    em.double()
    assert em.head.weight is w and em.head.weight.dtype == ember.float64
    assert em.features[2].num_batches_tracked.dtype == ember.int64
    assert em.scale.dtype == ember.float64
    em.to(ember.float32)
    assert em.head.weight.dtype == ember.float32
    em.half()
    assert em.head.weight.dtype == ember.float16
    em.float()
    order = []
    em.apply(lambda m: order.append(type(m).__name__))
    t_order = []
    tm.apply(lambda m: t_order.append(type(m).__name__))
    assert order == t_order


def test_deepcopy_and_shared_params():
    import copy
    m = ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.BatchNorm1d(2))
    m[0].weight.grad = ember.ones(2, 2)
    c = copy.deepcopy(m)
    assert isinstance(c[0].weight, ember.nn.Parameter) and c[0].weight is not m[0].weight
    np.testing.assert_array_equal(c[0].weight.detach().numpy(), m[0].weight.detach().numpy())
    assert c[0].weight.grad is not None
    assert list(c.state_dict()) == list(m.state_dict())
    shared = ember.nn.Linear(2, 2)
    s = ember.nn.Sequential(shared, shared)
    assert len(list(s.parameters())) == 2
    assert len(list(s.named_parameters(remove_duplicate=False))) == 4


def test_extra_state_and_state_dict_hooks():
    def run(t):
        class M(t.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = t.nn.Linear(1, 1)
                self.value = 0

            def get_extra_state(self):
                return {"value": self.value}

            def set_extra_state(self, state):
                self.value = state["value"]
        m = M()
        m.value = 7
        sd = m.state_dict()
        m2 = M()
        res = m2.load_state_dict(sd)
        calls = []
        m2.register_state_dict_pre_hook(lambda mod, prefix, keep: calls.append(("pre", prefix)))
        m2.register_load_state_dict_post_hook(
            lambda mod, keys: calls.append(("post", list(keys.missing_keys))))
        m2.state_dict(prefix="p.")
        m2.load_state_dict(sd)
        return list(sd), m2.value, repr(res), calls
    assert run(ember) == run(torch)


def test_global_module_hooks():
    def run(t):
        calls = []
        mm = t.nn.modules.module
        h1 = mm.register_module_forward_pre_hook(lambda m, a: calls.append(
            ("pre", type(m).__name__)))
        h2 = mm.register_module_forward_hook(lambda m, a, o: calls.append(
            ("post", type(m).__name__)))
        try:
            t.nn.Sequential(t.nn.ReLU(), t.nn.Tanh())(t.ones(2))
        finally:
            h1.remove()
            h2.remove()
        t.nn.ReLU()(t.ones(1))
        return calls
    assert run(ember) == run(torch)
