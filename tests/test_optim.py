"""ember.optim against torch.optim: 50-step trajectories with identical gradients, state after
every step, state_dict layout and round trips, hooks, argument errors, LBFGS on Rosenbrock."""
import copy
import warnings

import numpy as np
import pytest
import torch

import ember

TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), decoupled_weight_decay=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True, maximize=True)),
    ("Adadelta", dict(weight_decay=0.1)),
    ("Adadelta", dict(lr=0.5, rho=0.8, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.1,
                     maximize=True)),
    ("Adamax", dict(weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, maximize=True)),
    ("ASGD", dict(t0=10, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, lambd=1e-3, alpha=0.5, maximize=True)),
    ("NAdam", dict(weight_decay=0.1)),
    ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.01)),
    ("RAdam", dict(weight_decay=0.1)),
    ("RAdam", dict(decoupled_weight_decay=True, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(centered=True, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(centered=True, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
]
SHAPES = [(3, 4), (5,), ()]


def _ids(case):
    return case[0] + "-" + ",".join(f"{k}={v}" for k, v in case[1].items())


def _pair(name, kw, dt, rng, groups=False):
    """torch and ember optimizers over the same parameters (one with requires_grad=False)."""
    arrays = [rng.standard_normal(s).astype(dt) for s in SHAPES]
    tp = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    ep = [ember.nn.Parameter(ember.tensor(a)) for a in arrays]
    frozen = rng.standard_normal((2,)).astype(dt)
    tp.append(torch.nn.Parameter(torch.tensor(frozen), requires_grad=False))
    ep.append(ember.nn.Parameter(ember.tensor(frozen), requires_grad=False))
    if groups:
        lr2 = kw.get("lr", 0.01) * 0.5
        tg = [{"params": tp[:2]}, {"params": tp[2:], "lr": lr2}]
        eg = [{"params": ep[:2]}, {"params": ep[2:], "lr": lr2}]
    else:
        tg, eg = tp, ep
    return tp, ep, getattr(torch.optim, name)(tg, **kw), getattr(ember.optim, name)(eg, **kw)


def _feed(tp, ep, rng, dt, skip=None):
    for i, (a, b) in enumerate(zip(tp, ep)):
        if not a.requires_grad:
            continue
        if i == skip:
            a.grad, b.grad = None, None
            continue
        g = rng.standard_normal(tuple(a.shape)).astype(dt)
        a.grad, b.grad = torch.tensor(g), ember.tensor(g)


def _compare(tp, ep, to, eo, dt):
    for a, b in zip(tp, ep):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), **TOL[dt])
    for a, b in zip(tp, ep):
        ts, es = to.state.get(a, {}), eo.state.get(b, {})
        assert list(ts) == list(es)
        for k, v in ts.items():
            w = es[k]
            if isinstance(v, torch.Tensor):
                assert str(v.dtype) == str(w.dtype).replace("ember", "torch"), k
                assert tuple(v.shape) == tuple(w.shape), k
                np.testing.assert_allclose(w.numpy(), v.numpy(), **TOL[dt], err_msg=k)
            else:
                assert v == w, k


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_trajectory(case, dt):
    name, kw = case
    rng = np.random.default_rng(0)
    tp, ep, to, eo = _pair(name, kw, dt, rng, groups=True)
    versions = [p._version for p in ep]
    for step in range(50):
        # parameter 1 has no gradient on some steps: it must be left alone
        _feed(tp, ep, rng, dt, skip=1 if step % 7 == 3 else None)
        to.step()
        eo.step()
        _compare(tp, ep, to, eo, dt)
    assert ep[0]._version > versions[0]
    assert ep[-1]._version == versions[-1]   # requires_grad=False: untouched


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_state_dict_round_trip(case):
    """Stop at step 20, rebuild both optimizers from (deep-copied) state_dicts, continue: the
    trajectories stay equal (load_state_dict casts state such as ASGD's eta as torch does)."""
    name, kw = case
    dt = "float64"
    rng = np.random.default_rng(1)
    tp, ep, to, eo = _pair(name, kw, dt, rng, groups=True)
    for step in range(40):
        if step == 20:
            sd = copy.deepcopy(eo.state_dict())
            tsd = to.state_dict()
            assert sd["param_groups"] == [
                {k: (list(v) if isinstance(v, tuple) else v) if k != "params" else v
                 for k, v in g.items()} | {k: v for k, v in g.items() if isinstance(v, tuple)}
                for g in tsd["param_groups"]]
            assert sorted(sd["state"]) == sorted(tsd["state"])
            for i in tsd["state"]:
                assert list(sd["state"][i]) == list(tsd["state"][i])
            eo = getattr(ember.optim, name)([{"params": ep[:2]}, {"params": ep[2:]}], **kw)
            eo.load_state_dict(sd)
            to = getattr(torch.optim, name)([{"params": tp[:2]}, {"params": tp[2:]}], **kw)
            to.load_state_dict(copy.deepcopy(tsd))
        _feed(tp, ep, rng, dt)
        to.step()
        eo.step()
        _compare(tp, ep, to, eo, dt)


def test_state_dict_layout_and_step_dtype():
    p = ember.nn.Parameter(ember.ones(3))
    q = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.Adam([{"params": [p]}, {"params": [q], "lr": 1e-2}], lr=1e-3)
    p.grad = ember.ones(3)
    opt.step()
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert list(sd["state"]) == [0]
    assert sd["state"][0]["step"].dtype == ember.float32 and sd["state"][0]["step"].dim() == 0
    assert float(sd["state"][0]["step"]) == 1.0
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert [g["lr"] for g in sd["param_groups"]] == [1e-3, 1e-2]
    tp = torch.nn.Parameter(torch.ones(3))
    tsd = torch.optim.Adam([tp]).state_dict()
    assert set(tsd["param_groups"][0]) == set(sd["param_groups"][0])


def test_load_state_dict_errors():
    p, q = ember.nn.Parameter(ember.ones(3)), ember.nn.Parameter(ember.ones(2))
    sd = ember.optim.SGD([p, q], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        ember.optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        ember.optim.SGD([p], lr=0.1).load_state_dict(sd)


def test_lr_change_between_steps():
    rng = np.random.default_rng(2)
    tp, ep, to, eo = _pair("SGD", dict(lr=0.1, momentum=0.5), "float64", rng)
    for step in range(10):
        for g1, g2 in zip(to.param_groups, eo.param_groups):
            g1["lr"] = g2["lr"] = 0.1 / (step + 1)
        _feed(tp, ep, rng, "float64")
        to.step()
        eo.step()
        _compare(tp, ep, to, eo, "float64")


def test_per_group_options():
    a = ember.nn.Parameter(ember.ones(2))
    b = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([{"params": [a], "lr": 1e-5}, {"params": [b]}], lr=1e-2,
                          momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [1e-5, 1e-2]
    assert opt.param_groups[0]["momentum"] == 0.9
    a.grad, b.grad = ember.ones(2), ember.ones(2)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), 1 - 1e-5, rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), 1 - 1e-2, rtol=1e-6)


def test_add_param_group_errors_match_torch():
    for lib in (torch, ember):
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p], lr=0.1)
        with pytest.raises(ValueError, match="more than one parameter group"):
            opt.add_param_group({"params": [p]})
        with pytest.raises(TypeError, match="sets will change"):
            opt.add_param_group({"params": {lib.nn.Parameter(lib.ones(1))}})
        with pytest.raises(TypeError, match="should be an iterable"):
            lib.optim.SGD(p, lr=0.1)
        with pytest.raises(ValueError, match="empty parameter list"):
            lib.optim.SGD([], lr=0.1)
        with pytest.raises(TypeError, match="can only optimize Tensors"):
            lib.optim.SGD([1.0], lr=0.1)
        x = lib.ones(2, requires_grad=True) * 2
        with pytest.raises(ValueError, match="non-leaf"):
            lib.optim.SGD([x], lr=0.1)
        with pytest.warns(UserWarning, match="duplicate parameters"):
            lib.optim.SGD([p, p], lr=0.1)
        opt.add_param_group({"params": lib.nn.Parameter(lib.ones(3)), "lr": 0.5})
        assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0


@pytest.mark.parametrize("name,kw,msg", [
    ("SGD", dict(lr=-1), "Invalid learning rate"),
    ("SGD", dict(momentum=-1), "Invalid momentum value"),
    ("SGD", dict(nesterov=True), "Nesterov momentum requires"),
    ("Adam", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
    ("Adam", dict(eps=-1), "Invalid epsilon value"),
    ("AdamW", dict(weight_decay=-1), "Invalid weight_decay value"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value"),
    ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value"),
    ("RMSprop", dict(alpha=-1), "Invalid alpha value"),
    ("Rprop", dict(etas=(1.5, 1.2)), "Invalid eta values"),
    ("SparseAdam", dict(lr=0.0), "Invalid learning rate"),
    ("SparseAdam", dict(eps=0.0), "Invalid epsilon value"),
])
def test_argument_errors(name, kw, msg):
    for lib in (torch, ember):
        with pytest.raises(ValueError, match=msg):
            getattr(lib.optim, name)([lib.nn.Parameter(lib.ones(2))], **kw)


def test_sparse_adam_refuses_dense_gradients():
    for lib in (torch, ember):
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SparseAdam([p])
        p.grad = lib.ones(2)
        with pytest.raises(RuntimeError, match="does not support dense gradients"):
            opt.step()
        with pytest.raises(ValueError, match="Complex params"):
            lib.optim.SparseAdam([lib.zeros(2, dtype=lib.complex64, requires_grad=True)])


def test_zero_grad():
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=0.1)
    p.grad = ember.ones(2)
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and g.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    opt.step()   # no gradient: nothing happens
    assert p.tolist() == [1.0, 1.0]


def test_step_closure_and_hooks():
    p = ember.nn.Parameter(ember.tensor([1.0, 2.0]))
    opt = ember.optim.SGD([p], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, a, k: calls.append(("post", o is opt)))
    gh = ember.optim.optimizer.register_optimizer_step_pre_hook(
        lambda o, a, k: calls.append(("global", True)))
    loss = opt.step(closure)
    assert float(loss) == 5.0
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 1.6], rtol=1e-6)
    assert calls == [("global", True), ("pre", True), ("post", True)]
    h1.remove(), h2.remove(), gh.remove()
    opt.step(closure)
    assert len(calls) == 3


def test_state_dict_hooks():
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=0.1)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    assert opt.state_dict()["extra"] == 1
    seen = []
    opt.register_load_state_dict_pre_hook(lambda o, sd: seen.append("pre"))
    opt.register_load_state_dict_post_hook(lambda o: seen.append("post"))
    opt.load_state_dict(opt.state_dict())
    assert seen == ["pre", "post"]


def test_gradient_accumulation():
    """Two backward calls before one step: the step sees the summed gradient, as in torch."""
    x = np.array([0.5, -1.0, 2.0])
    out = []
    for lib in (torch, ember):
        p = lib.nn.Parameter(lib.tensor(x))
        opt = lib.optim.Adam([p], lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            (p * p).sum().backward()
            (p * 3).sum().backward()
            opt.step()
        out.append(p.detach().numpy().copy())
    np.testing.assert_allclose(out[1], out[0], rtol=1e-12)


def test_complex_parameters():
    rng = np.random.default_rng(3)
    a = (rng.standard_normal(4) + 1j * rng.standard_normal(4)).astype(np.complex128)
    for name in ("Adam", "RMSprop", "SGD"):
        tp = torch.nn.Parameter(torch.tensor(a))
        ep = ember.nn.Parameter(ember.tensor(a))
        to, eo = getattr(torch.optim, name)([tp], lr=0.01), getattr(ember.optim, name)([ep],
                                                                                      lr=0.01)
        for _ in range(5):
            g = (rng.standard_normal(4) + 1j * rng.standard_normal(4)).astype(np.complex128)
            tp.grad, ep.grad = torch.tensor(g), ember.tensor(g)
            to.step()
            eo.step()
        np.testing.assert_allclose(ep.detach().numpy(), tp.detach().numpy(), rtol=1e-10)


def _rosenbrock(lib, x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


# Without a line search, fixed unit steps on Rosenbrock amplify last-ulp differences (torch's
# dot and add-with-alpha kernels fuse multiply-adds, NumPy rounds twice) to ~1e-4 mid-run before
# both converge; with strong Wolfe the trajectories agree to ~1e-13.
@pytest.mark.parametrize("kw,rtol,atol", [
    (dict(), 1e-3, 1e-4),
    (dict(lr=0.5, history_size=2, max_iter=7, tolerance_grad=1e-5, tolerance_change=1e-7),
     1e-3, 1e-4),
    (dict(line_search_fn="strong_wolfe"), 1e-9, 1e-12),
    (dict(history_size=3, max_iter=5, line_search_fn="strong_wolfe"), 1e-5, 1e-7),
])
def test_lbfgs_rosenbrock(kw, rtol, atol):
    x0 = np.array([-1.5, 2.0])
    tx = torch.nn.Parameter(torch.tensor(x0))
    ex = ember.nn.Parameter(ember.tensor(x0))
    to, eo = torch.optim.LBFGS([tx], **kw), ember.optim.LBFGS([ex], **kw)

    def closure(lib, x, opt):
        def f():
            opt.zero_grad()
            loss = _rosenbrock(lib, x)
            loss.backward()
            return loss
        return f

    for _ in range(50):
        lt = to.step(closure(torch, tx, to))
        le = eo.step(closure(ember, ex, eo))
        np.testing.assert_allclose(float(le), float(lt.detach()), rtol=rtol, atol=atol)
        np.testing.assert_allclose(ex.detach().numpy(), tx.detach().numpy(), rtol=rtol,
                                   atol=atol)
        ts, es = to.state[tx], eo.state[ex]
        assert ts["func_evals"] == es["func_evals"] and ts["n_iter"] == es["n_iter"]
        assert len(ts["old_dirs"]) == len(es["old_dirs"])
    np.testing.assert_allclose(ex.detach().numpy(), [1.0, 1.0], atol=1e-3)


def test_lbfgs_one_group_only():
    for lib in (torch, ember):
        with pytest.raises(ValueError, match="per-parameter options"):
            lib.optim.LBFGS([{"params": [lib.nn.Parameter(lib.ones(1))]},
                             {"params": [lib.nn.Parameter(lib.ones(1))]}])


def test_differentiable_not_implemented():
    with pytest.raises(NotImplementedError):
        ember.optim.Adam([ember.nn.Parameter(ember.ones(2))], differentiable=True)


def test_step_allocates_no_new_state_arrays():
    p = ember.nn.Parameter(ember.ones(1000))
    opt = ember.optim.Adam([p], lr=0.1)
    p.grad = ember.ones(1000)
    opt.step()
    data, ids = p._data, {k: id(v._data) for k, v in opt.state[p].items()}
    scratch = {k: id(v) for k, v in opt._scratch.items()}
    opt.step()
    assert p._data is data
    assert ids == {k: id(v._data) for k, v in opt.state[p].items()}
    assert scratch == {k: id(v) for k, v in opt._scratch.items()}
