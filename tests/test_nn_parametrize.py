"""nn.utils.parametrize, nn.utils.parametrizations (orthogonal, weight_norm, spectral_norm),
nn.utils.stateless, skip_init, memory formats and nn.attention against torch: the same
modules (state copied through state_dict), compared outputs, gradients of the originals,
state_dict keys, reprs, type names and the exceptions raised."""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn.attention
from nn_helpers import copy_state, same_repr
from oracle import assert_close

P_T = torch.nn.utils.parametrize
P_E = ember.nn.utils.parametrize


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _pair(ctor, seed=0):
    """ctor(nn) built in both libraries, ember loaded with torch's state."""
    torch.manual_seed(seed)
    tm, em = ctor(torch.nn), ctor(ember.nn)
    copy_state(tm, em)
    return tm, em


def _same_state(tm, em, rtol=1e-5, atol=1e-6):
    ts, es = tm.state_dict(), em.state_dict()
    assert list(es) == list(ts)
    for k in ts:
        assert_close(ts[k], es[k], rtol=rtol, atol=atol, what=k)


def _run(tm, em, x, rtol=1e-5, atol=1e-6):
    """Forward on the same input, backward of sum(out^2); compares outputs and the grads of
    every parameter (the originals of parametrized tensors)."""
    to, eo = tm(torch.from_numpy(x)), em(ember.tensor(x))
    assert_close(to, eo, rtol=rtol, atol=atol)
    (to ** 2).sum().backward()
    (eo ** 2).sum().backward()
    ep = dict(em.named_parameters())
    assert list(ep) == [n for n, _ in tm.named_parameters()]
    for n, p in tm.named_parameters():
        assert_close(p.grad, ep[n].grad, rtol=rtol, atol=atol, what=f"grad {n}")


def _raises_same(fn):
    """fn(torch) and fn(ember) raise the same exception type; returns both exceptions."""
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(Exception) as ee:
        fn(ember)
    assert type(ee.value).__name__ == type(te.value).__name__, (ee.value, te.value)
    return te.value, ee.value


# ---------------------------------------------------------------------------------------------
# Parametrizations used by the tests, defined once per library

def _symmetric(nn):
    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()
    return Symmetric()


def _double(nn):
    class Double(nn.Module):
        def forward(self, X):
            return X * 2
    return Double()


def _split(nn):
    """weight = a + b; right_inverse splits w into (w/2 + 1, w/2 - 1): two originals."""
    class Split(nn.Module):
        def forward(self, a, b):
            return a + b

        def right_inverse(self, w):
            return w / 2 + 1, w / 2 - 1
    return Split()


def _first_row(nn):
    class FirstRow(nn.Module):   # changes the shape
        def forward(self, X):
            return X[:1]
    return FirstRow()


def _to_double(nn):
    class ToDouble(nn.Module):   # changes the dtype
        def forward(self, X):
            return X.double()
    return ToDouble()


# ---------------------------------------------------------------------------------------------
# parametrize

def test_register_parametrization_module_and_values():
    tm, em = _pair(lambda nn: nn.Linear(4, 4))
    for lib, m in ((torch, tm), (ember, em)):
        out = lib.nn.utils.parametrize.register_parametrization(m, "weight", _symmetric(lib.nn))
        assert out is m
    assert type(em).__name__ == type(tm).__name__ == "ParametrizedLinear"
    assert isinstance(em, ember.nn.Linear)
    same_repr(tm, em)
    assert type(em.parametrizations.weight).__name__ == "ParametrizationList"
    assert P_E.is_parametrized(em) and P_E.is_parametrized(em, "weight")
    assert not P_E.is_parametrized(em, "bias")
    assert P_E.type_before_parametrizations(em) is ember.nn.Linear
    assert P_E.type_before_parametrizations(ember.nn.ReLU()) is ember.nn.ReLU
    assert "weight" not in em._parameters
    _same_state(tm, em)
    assert_close(tm.weight.detach(), em.weight)
    w = em.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)
    _run(tm, em, _rand(3, 4))
    # the original keeps its identity: the Parameter the module had before
    e2 = ember.nn.Linear(3, 3)
    w = e2.weight
    P_E.register_parametrization(e2, "weight", _symmetric(ember.nn))
    assert e2.parametrizations.weight.original is w


def test_assign_runs_right_inverse_and_chain():
    tm, em = _pair(lambda nn: nn.Linear(3, 3))
    P_T.register_parametrization(tm, "weight", _symmetric(torch.nn))
    P_E.register_parametrization(em, "weight", _symmetric(ember.nn))
    X = _rand(3, 3, seed=1)
    tm.weight = torch.from_numpy(X)
    em.weight = ember.tensor(X)
    _same_state(tm, em)
    assert_close(tm.weight.detach(), em.weight)
    # a second parametrization is appended; it has no right_inverse so assignment fails
    P_T.register_parametrization(tm, "weight", _double(torch.nn))
    P_E.register_parametrization(em, "weight", _double(ember.nn))
    same_repr(tm, em)
    assert len(em.parametrizations.weight) == 2
    assert_close(tm.weight.detach(), em.weight)
    _run(tm, em, _rand(2, 3))

    def assign(lib):
        m = tm if lib is torch else em
        m.weight = lib.zeros(3, 3)
    _raises_same(assign)


def test_remove_parametrizations():
    for leave in (True, False):
        tm, em = _pair(lambda nn: nn.Linear(3, 3))
        P_T.register_parametrization(tm, "weight", _symmetric(torch.nn))
        P_E.register_parametrization(em, "weight", _symmetric(ember.nn))
        original = em.parametrizations.weight.original
        P_T.remove_parametrizations(tm, "weight", leave_parametrized=leave)
        P_E.remove_parametrizations(em, "weight", leave_parametrized=leave)
        assert type(em) is ember.nn.Linear and type(tm) is torch.nn.Linear
        assert not hasattr(em, "parametrizations")
        assert em.weight is original and isinstance(em.weight, ember.nn.Parameter)
        same_repr(tm, em)
        _same_state(tm, em)
        assert_close(tm.weight.detach(), em.weight)
        _run(tm, em, _rand(2, 3))
    # with two parametrized tensors the class stays until the last one goes
    em = ember.nn.Linear(3, 3)
    P_E.register_parametrization(em, "weight", _double(ember.nn))
    P_E.register_parametrization(em, "bias", _double(ember.nn))
    cls = type(em)
    P_E.remove_parametrizations(em, "weight")
    assert type(em) is cls and P_E.is_parametrized(em, "bias")
    P_E.remove_parametrizations(em, "bias")
    assert type(em) is ember.nn.Linear


def test_right_inverse_returning_tuple():
    tm, em = _pair(lambda nn: nn.Linear(4, 3))
    P_T.register_parametrization(tm, "weight", _split(torch.nn))
    P_E.register_parametrization(em, "weight", _split(ember.nn))
    same_repr(tm, em)
    _same_state(tm, em)
    plist = em.parametrizations.weight
    assert plist.is_tensor is False and plist.ntensors == 2
    assert isinstance(plist.original0, ember.nn.Parameter) and plist.original1.requires_grad
    assert not hasattr(plist, "original")
    assert_close(tm.weight.detach(), em.weight)
    _run(tm, em, _rand(2, 4))
    X = _rand(3, 4, seed=2)
    tm.weight = torch.from_numpy(X)
    em.weight = ember.tensor(X)
    _same_state(tm, em)

    def remove_unparametrized(lib):
        m = tm if lib is torch else em
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    _raises_same(remove_unparametrized)
    P_T.remove_parametrizations(tm, "weight")
    P_E.remove_parametrizations(em, "weight")
    _same_state(tm, em)
    assert isinstance(em.weight, ember.nn.Parameter)


def test_parametrize_buffer():
    tm, em = _pair(lambda nn: nn.BatchNorm1d(3))
    P_T.register_parametrization(tm, "running_var", _double(torch.nn))
    P_E.register_parametrization(em, "running_var", _double(ember.nn))
    _same_state(tm, em)
    assert "original" in em.parametrizations.running_var._buffers
    assert_close(tm.running_var, em.running_var)
    same_repr(tm, em)


def test_state_dict_roundtrip():
    tm, em = _pair(lambda nn: nn.Linear(3, 3))
    P_T.register_parametrization(tm, "weight", _symmetric(torch.nn))
    P_E.register_parametrization(em, "weight", _symmetric(ember.nn))
    torch.nn.init.normal_(tm.parametrizations.weight.original)
    copy_state(tm, em)
    _same_state(tm, em)
    assert_close(tm.weight.detach(), em.weight)
    bad = {k: v for k, v in em.state_dict().items() if k != "bias"}
    with pytest.raises(RuntimeError, match="Missing key"):
        em.load_state_dict(bad)


@pytest.mark.parametrize("case", ["shape", "dtype", "append_shape", "missing", "remove",
                                  "remove_other", "bad_right_inverse"])
def test_parametrize_errors(case):
    class BadInverse:
        @staticmethod
        def make(nn):
            class Bad(nn.Module):
                def forward(self, X):
                    return X

                def right_inverse(self, X):
                    return 3
            return Bad()

    def fn(lib):
        P = lib.nn.utils.parametrize
        m = lib.nn.Linear(3, 3)
        if case == "shape":
            P.register_parametrization(m, "weight", _first_row(lib.nn))
        elif case == "dtype":
            P.register_parametrization(m, "weight", _to_double(lib.nn))
        elif case == "append_shape":
            P.register_parametrization(m, "weight", _double(lib.nn))
            P.register_parametrization(m, "weight", _first_row(lib.nn))
        elif case == "missing":
            P.register_parametrization(m, "nothing", _double(lib.nn))
        elif case == "remove":
            P.remove_parametrizations(m, "weight")
        elif case == "remove_other":
            P.register_parametrization(m, "weight", _double(lib.nn))
            P.remove_parametrizations(m, "bias")
        else:
            P.register_parametrization(m, "weight", BadInverse.make(lib.nn))
    te, ee = _raises_same(fn)
    assert type(ee) is ValueError
    if case in ("shape", "dtype", "append_shape"):
        assert str(ee) == str(te).replace("torch.", "ember.")
    # a failed registration leaves the module unparametrized
    m = ember.nn.Linear(3, 3)
    with pytest.raises(ValueError):
        P_E.register_parametrization(m, "weight", _first_row(ember.nn))
    assert type(m) is ember.nn.Linear and "weight" in m._parameters


def test_unsafe_allows_shape_change():
    tm, em = _pair(lambda nn: nn.Linear(3, 3))
    P_T.register_parametrization(tm, "weight", _first_row(torch.nn), unsafe=True)
    P_E.register_parametrization(em, "weight", _first_row(ember.nn), unsafe=True)
    assert tuple(em.weight.shape) == tuple(tm.weight.shape) == (1, 3)
    assert em.parametrizations.weight.unsafe is True
    assert_close(tm.weight.detach(), em.weight)


def test_cached():
    calls = []

    class Counting(ember.nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 2

    m = ember.nn.Linear(3, 3)
    P_E.register_parametrization(m, "weight", Counting())
    calls.clear()
    with P_E.cached():
        a, b = m.weight, m.weight
        with P_E.cached():
            c = m.weight
        d = m.weight   # the inner block's exit keeps the outer cache
    assert a is b is c is d and len(calls) == 1
    e = m.weight
    assert e is not a and len(calls) == 2
    # torch agrees on the identities
    tm = torch.nn.Linear(3, 3)
    P_T.register_parametrization(tm, "weight", _double(torch.nn))
    with P_T.cached():
        assert tm.weight is tm.weight
    assert tm.weight is not tm.weight


def test_transfer_parametrizations_and_params():
    tm, em = _pair(lambda nn: nn.Linear(3, 3))
    P_T.register_parametrization(tm, "weight", _symmetric(torch.nn))
    P_E.register_parametrization(em, "weight", _symmetric(ember.nn))
    t2, e2 = _pair(lambda nn: nn.Linear(3, 3), seed=1)
    out = P_E.transfer_parametrizations_and_params(em, e2)
    P_T.transfer_parametrizations_and_params(tm, t2)
    assert out is e2 and type(e2).__name__ == "ParametrizedLinear"
    assert e2.parametrizations.weight.original is em.parametrizations.weight.original
    _same_state(t2, e2)
    same_repr(t2, e2)
    # into a module without the tensor: it is created
    for lib, src in ((torch, tm), (ember, em)):
        dst = lib.nn.Module()
        lib.nn.utils.parametrize.transfer_parametrizations_and_params(src, dst, "weight")
        assert type(dst).__name__ == "ParametrizedModule"
        assert list(dst.state_dict()) == ["parametrizations.weight.original"]
    # tuple originals are shared one by one
    tm, em = _pair(lambda nn: nn.Linear(3, 3))
    P_E.register_parametrization(em, "weight", _split(ember.nn))
    e3 = P_E.transfer_parametrizations_and_params(em, ember.nn.Linear(3, 3))
    assert e3.parametrizations.weight.original1 is em.parametrizations.weight.original1


def test_deepcopy_and_pickle():
    tm, em = _pair(lambda nn: nn.Linear(3, 3))
    P_T.register_parametrization(tm, "weight", _double(torch.nn))
    P_E.register_parametrization(em, "weight", _double(ember.nn))
    ec = copy.deepcopy(em)
    assert type(ec).__name__ == "ParametrizedLinear"
    assert ec.parametrizations.weight.original is not em.parametrizations.weight.original
    assert_close(tm.weight.detach(), ec.weight)
    _raises_same(lambda lib: pickle.dumps(tm if lib is torch else em))


def test_parametrization_list_direct():
    _raises_same(lambda lib: P_T.ParametrizationList([], torch.zeros(2)) if lib is torch
                 else P_E.ParametrizationList([], ember.zeros(2)))
    plist = P_E.ParametrizationList([_double(ember.nn)], ember.ones(2))
    assert_close(torch.full((2,), 2.0), plist())


# ---------------------------------------------------------------------------------------------
# orthogonal

def _orth_pair(shape, orth_map, triv, seed=0):
    out, inp = shape
    tm, em = _pair(lambda nn: nn.Linear(inp, out), seed)
    torch.nn.utils.parametrizations.orthogonal(tm, orthogonal_map=orth_map,
                                               use_trivialization=triv)
    ember.nn.utils.parametrizations.orthogonal(em, orthogonal_map=orth_map,
                                               use_trivialization=triv)
    return tm, em


@pytest.mark.parametrize("orth_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("triv", [True, False])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_orthogonal(shape, orth_map, triv):
    tm, em = _orth_pair(shape, orth_map, triv)
    same_repr(tm, em)
    assert list(em.state_dict()) == list(tm.state_dict())
    w = em.weight.detach().numpy().astype(np.float64)
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-5)
    # deterministic initializations agree with torch: square with trivialization (QR of the
    # weight), and without trivialization (geqrf for householder, the weight itself otherwise)
    if shape[0] == shape[1] or not triv:
        _same_state(tm, em, rtol=1e-4, atol=1e-5)
        assert_close(tm.weight.detach(), em.weight, rtol=1e-4, atol=1e-5)
    copy_state(tm, em)   # the base of non-square trivializations is random: take torch's
    _run(tm, em, _rand(2, shape[1]), rtol=1e-4, atol=1e-5)


def test_orthogonal_assign_and_errors():
    tm, em = _orth_pair((4, 4), "matrix_exp", True)
    Q = np.linalg.qr(_rand(4, 4, seed=3))[0].astype(np.float32)
    tm.weight = torch.from_numpy(Q)
    em.weight = ember.tensor(Q)
    _same_state(tm, em, rtol=1e-4, atol=1e-5)
    assert_close(torch.from_numpy(Q), em.weight, rtol=1e-4, atol=1e-5)
    W = _rand(4, 4, seed=4)   # not orthogonal: projected
    tm.weight = torch.from_numpy(W)
    em.weight = ember.tensor(W)
    assert_close(tm.weight.detach(), em.weight, rtol=1e-4, atol=1e-5)

    _raises_same(lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3),
                                                                       "bias"))
    _raises_same(lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3),
                                                                       "nope"))
    _raises_same(lambda lib: lib.nn.utils.parametrizations.orthogonal(
        lib.nn.Linear(3, 3), orthogonal_map="qr"))

    def assign_no_triv(lib):
        m = lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3),
                                                     use_trivialization=False)
        m.weight = lib.eye(3)
    te, ee = _raises_same(assign_no_triv)
    assert type(ee) is NotImplementedError and str(ee) == str(te)

    def assign_wrong_shape(lib):
        m = lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3))
        m.weight = lib.eye(2)
    te, ee = _raises_same(assign_wrong_shape)
    assert str(ee) == str(te).replace("torch.", "ember.")


# ---------------------------------------------------------------------------------------------
# weight_norm

@pytest.mark.parametrize("dim", [0, 1, None, -2])
def test_weight_norm_parametrization(dim):
    tm, em = _pair(lambda nn: nn.Linear(4, 3))
    torch.nn.utils.parametrizations.weight_norm(tm, dim=dim)
    ember.nn.utils.parametrizations.weight_norm(em, dim=dim)
    same_repr(tm, em)
    _same_state(tm, em)
    assert list(em.state_dict()) == ["bias", "parametrizations.weight.original0",
                                     "parametrizations.weight.original1"]
    assert_close(tm.weight.detach(), em.weight)
    _run(tm, em, _rand(5, 4), rtol=1e-4, atol=1e-5)
    torch.nn.utils.parametrize.remove_parametrizations(tm, "weight")
    ember.nn.utils.parametrize.remove_parametrizations(em, "weight")
    _same_state(tm, em, rtol=1e-4, atol=1e-5)


def test_weight_norm_loads_old_checkpoints():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        told = torch.nn.utils.weight_norm(torch.nn.Conv1d(2, 3, 2))
    torch.nn.init.normal_(told.weight_g)
    em = ember.nn.utils.parametrizations.weight_norm(ember.nn.Conv1d(2, 3, 2))
    tm = torch.nn.utils.parametrizations.weight_norm(torch.nn.Conv1d(2, 3, 2))
    tm.load_state_dict(told.state_dict())
    copy_state(told, em)   # keys weight_g / weight_v
    _same_state(tm, em)
    assert_close(told.weight_g.detach(), em.parametrizations.weight.original0)


# ---------------------------------------------------------------------------------------------
# spectral_norm

@pytest.mark.parametrize("ctor,dim", [
    (lambda nn: nn.Linear(5, 4), None),
    (lambda nn: nn.Conv2d(2, 3, 3), None),
    (lambda nn: nn.ConvTranspose2d(3, 2, 2), None),
    (lambda nn: nn.Conv2d(2, 3, 3), 1),
    (lambda nn: nn.Linear(5, 4), -1),
])
def test_spectral_norm_parametrization(ctor, dim):
    tm, em = _pair(ctor)
    kw = {} if dim is None else {"dim": dim}
    torch.nn.utils.parametrizations.spectral_norm(tm, n_power_iterations=2, **kw)
    ember.nn.utils.parametrizations.spectral_norm(em, n_power_iterations=2, **kw)
    same_repr(tm, em)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert "parametrizations.weight.0._u" in em.state_dict()
    assert em.parametrizations.weight[0].dim == tm.parametrizations.weight[0].dim
    # the initial u, v are random: start from torch's buffers
    copy_state(tm, em)
    x = _rand(*((3, 5) if isinstance(tm, torch.nn.Linear) else (1, tm.in_channels, 5, 5)))
    for train in (True, True, False):
        tm.train(train)
        em.train(train)
        assert em.parametrizations.weight[0].training is train
        _run(tm, em, x, rtol=1e-4, atol=1e-5)
        _same_state(tm, em, rtol=1e-4, atol=1e-5)
        tm.zero_grad()
        em.zero_grad()
    # the normalized weight has spectral norm ~1 (the power iteration converged)
    with ember.no_grad():
        mat = em.parametrizations.weight[0]._reshape_weight_to_matrix(em.weight)
    s = np.linalg.svd(mat.numpy(), compute_uv=False)
    assert abs(s[0] - 1) < 0.2


def test_spectral_norm_registration_runs_power_iterations():
    """The 15 initial iterations plus the registration check's forward (training mode)."""
    em = ember.nn.Linear(6, 5)
    w = em.weight.detach().numpy().copy()
    ember.nn.utils.parametrizations.spectral_norm(em)
    sn = em.parametrizations.weight[0]
    u, v = sn._u.numpy(), sn._v.numpy()
    np.testing.assert_allclose(np.linalg.norm(u), 1, rtol=1e-5)
    # u, v are a converged singular pair of the weight
    np.testing.assert_allclose(abs(u @ w @ v), np.linalg.svd(w, compute_uv=False)[0], rtol=1e-2)
    # eval: the buffers do not move; training: they do
    em.eval()
    em(ember.ones(1, 6))
    np.testing.assert_array_equal(sn._u.numpy(), u)


def test_spectral_norm_errors_and_1d():
    _raises_same(lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(3, 3),
                                                                          "nope"))
    te, ee = _raises_same(lambda lib: lib.nn.utils.parametrizations.spectral_norm(
        lib.nn.Linear(3, 3), dim=2))
    assert type(ee) is IndexError and str(ee) == str(te)
    te, ee = _raises_same(lambda lib: lib.nn.utils.parametrizations.spectral_norm(
        lib.nn.Linear(3, 3), n_power_iterations=0))
    assert type(ee) is ValueError and str(ee) == str(te)
    tm, em = _pair(lambda nn: nn.Linear(3, 3))
    torch.nn.utils.parametrizations.spectral_norm(tm, "bias")
    ember.nn.utils.parametrizations.spectral_norm(em, "bias")
    assert list(em.state_dict()) == list(tm.state_dict())
    assert_close(tm.bias.detach(), em.bias)
    _run(tm, em, _rand(2, 3))


# ---------------------------------------------------------------------------------------------
# stateless.functional_call, skip_init, memory formats, norms

def test_functional_call():
    tm, em = _pair(lambda nn: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))
    W = _rand(4, 3, seed=5)
    x = _rand(6, 3, seed=6)
    tw = torch.from_numpy(W).requires_grad_()
    ew = ember.tensor(W).requires_grad_()
    with pytest.warns(FutureWarning) as tr:
        to = torch.nn.utils.stateless.functional_call(tm, {"0.weight": tw}, torch.from_numpy(x))
    with pytest.warns(FutureWarning) as er:
        eo = ember.nn.utils.stateless.functional_call(em, {"0.weight": ew}, (ember.tensor(x),))
    assert str(er[0].message) == str(tr[0].message)
    assert_close(to, eo, rtol=1e-4, atol=1e-5)
    to.sum().backward()
    eo.sum().backward()
    assert_close(tw.grad, ew.grad, rtol=1e-4, atol=1e-5)
    assert em[0].weight.grad is None and isinstance(em[0].weight, ember.nn.Parameter)
    _same_state(tm, em)   # module's own weight back, running stats updated alike
    # kwargs, strict and its message
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)

        def strict(lib):
            m = tm if lib is torch else em
            lib.nn.utils.stateless.functional_call(m, {"0.weight": lib.zeros(4, 3), "x": None},
                                                   (lib.zeros(2, 3),), strict=True)
        te, ee = _raises_same(strict)
        assert str(ee) == str(te)
        # tied weights: one value replaces every name of the tied tensor
        lin = ember.nn.Linear(2, 2, bias=False)
        seq = ember.nn.Sequential(lin, lin)
        out = ember.nn.utils.stateless.functional_call(seq, {"0.weight": ember.eye(2) * 2},
                                                       ember.ones(1, 2))
        np.testing.assert_allclose(out.numpy(), [[4.0, 4.0]])
        out = ember.nn.utils.stateless.functional_call(seq, {"0.weight": ember.eye(2) * 2},
                                                       ember.ones(1, 2), tie_weights=False)
        expect = (torch.ones(1, 2) @ (torch.eye(2) * 2)) @ torch.from_numpy(
            lin.weight.detach().numpy()).T
        assert_close(expect, out, rtol=1e-5)
        with pytest.raises(ValueError, match="tied"):
            ember.nn.utils.stateless.functional_call(
                seq, {"0.weight": ember.eye(2), "1.weight": ember.ones(2, 2)}, ember.ones(1, 2))


def test_skip_init():
    # no initialization ran: the random generator did not move (torch builds on "meta")
    ember.manual_seed(0)
    expect = ember.rand(3)
    ember.manual_seed(0)
    m = ember.nn.utils.skip_init(ember.nn.Linear, 5, out_features=2)
    np.testing.assert_array_equal(ember.rand(3).numpy(), expect.numpy())
    t = torch.nn.utils.skip_init(torch.nn.Linear, 5, out_features=2)
    assert type(m) is ember.nn.Linear and repr(m) == repr(t)
    assert tuple(m.weight.shape) == (2, 5) and m.weight.requires_grad
    assert isinstance(m.weight, ember.nn.Parameter)
    _raises_same(lambda lib: lib.nn.utils.skip_init(int, 2))

    class NoDevice(ember.nn.Module):
        def __init__(self, n):
            super().__init__()

    class TNoDevice(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
    _raises_same(lambda lib: lib.nn.utils.skip_init(NoDevice if lib is ember else TNoDevice, 2))


def test_convert_weight_memory_format():
    tm, em = _pair(lambda nn: nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(
        nn.ConvTranspose2d(4, 2, 2)), nn.Conv3d(1, 1, 1)))
    out = ember.nn.utils.convert_conv2d_weight_memory_format(em, ember.channels_last)
    torch.nn.utils.convert_conv2d_weight_memory_format(tm, torch.channels_last)
    assert out is em
    for (n, tp), ep in zip(tm.named_parameters(), em.parameters()):
        assert tuple(ep.stride()) == tuple(tp.stride()), n
        assert_close(tp.detach(), ep)
    w = em[0].weight
    ember.nn.utils.convert_conv2d_weight_memory_format(em, ember.contiguous_format)
    assert em[0].weight is w and em[0].weight.is_contiguous()
    ember.nn.utils.convert_conv3d_weight_memory_format(em, ember.channels_last_3d)
    torch.nn.utils.convert_conv3d_weight_memory_format(tm, torch.channels_last_3d)
    assert tuple(em[2].weight.stride()) == tuple(tm[2].weight.stride())


def test_total_norm_and_clip_with_norm():
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) for s in ((3, 2), (4,))]
    for p in (2.0, 1.0, float("inf")):
        tn = torch.nn.utils.get_total_norm([torch.from_numpy(g) for g in grads], p)
        en = ember.nn.utils.get_total_norm([ember.tensor(g) for g in grads], p)
        assert_close(tn, en, rtol=1e-5)
    tps = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    eps_ = [ember.nn.Parameter(ember.zeros(*g.shape)) for g in grads]
    for tp, ep, g in zip(tps, eps_, grads):
        tp.grad, ep.grad = torch.from_numpy(g.copy()), ember.tensor(g.copy())
    torch.nn.utils.clip_grads_with_norm_(tps, 1.0, torch.tensor(5.0))
    ember.nn.utils.clip_grads_with_norm_(eps_, 1.0, ember.tensor(5.0))
    for tp, ep in zip(tps, eps_):
        assert_close(tp.grad, ep.grad)


# ---------------------------------------------------------------------------------------------
# nn.attention and backends.cuda sdp flags

_FLAGS = ("flash", "mem_efficient", "math", "cudnn")


def _flags(lib):
    return tuple(getattr(lib.backends.cuda, f"{n}_sdp_enabled")() for n in _FLAGS)


def test_sdp_backend_enum():
    TB, EB = torch.nn.attention.SDPBackend, ember.nn.attention.SDPBackend
    assert list(EB.__members__) == list(TB.__members__)
    for name in TB.__members__:
        tb, eb = getattr(TB, name), getattr(EB, name)
        assert eb.name == tb.name and eb.value == tb.value and int(eb) == int(tb)
        assert repr(eb) == repr(tb) and str(eb) == str(tb)
    assert EB.__name__ == "SDPBackend" and EB.__module__ == "ember.nn.attention"
    assert ember.backends.cuda.SDPBackend is EB
    assert (EB.MATH == 0) is (TB.MATH == 0)
    assert ember.nn.attention.WARN_FOR_UNFUSED_KERNELS is False


@pytest.mark.parametrize("backends", ["MATH", ["FLASH_ATTENTION", "MATH"], [], ["CUDNN_ATTENTION"],
                                      ["MATH", "MATH"]])
def test_sdpa_kernel_flags(backends):
    def conv(lib):
        B = lib.nn.attention.SDPBackend
        return getattr(B, backends) if isinstance(backends, str) else [getattr(B, b)
                                                                       for b in backends]
    before = _flags(ember)
    assert before == _flags(torch)
    with torch.nn.attention.sdpa_kernel(conv(torch)) as tr, \
            ember.nn.attention.sdpa_kernel(conv(ember)) as er:
        assert er == tr == {}
        assert _flags(ember) == _flags(torch)
        assert _flags(ember) != before
        # on the CPU attention runs where torch runs it, and raises the same error elsewhere
        q = np.random.default_rng(0).standard_normal((1, 2, 3, 4)).astype(np.float32)
        outcome = []
        for lib in (torch, ember):
            try:
                outcome.append(lib.nn.functional.scaled_dot_product_attention(
                    *[lib.tensor(q)] * 3).numpy())
            except RuntimeError as e:
                outcome.append(str(e).split(".")[0])
        if isinstance(outcome[0], str):
            assert outcome[1] == outcome[0]
        else:
            np.testing.assert_allclose(outcome[1], outcome[0], rtol=1e-5, atol=1e-6)
    assert _flags(ember) == before == _flags(torch)


def test_sdpa_kernel_errors_restore_and_priority():
    for bad in ((ember.nn.attention.SDPBackend.MATH,), "math"):
        with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend"):
            with ember.nn.attention.sdpa_kernel(bad):
                pass
    with pytest.raises(KeyError):
        with ember.nn.attention.sdpa_kernel(ember.nn.attention.SDPBackend.MATH):
            raise KeyError("inside")
    assert ember.backends.cuda.flash_sdp_enabled()
    B = ember.nn.attention.SDPBackend
    order = list(ember.backends._sdp_priority)
    TB = torch.nn.attention.SDPBackend
    with ember.nn.attention.sdpa_kernel([B.MATH, B.CUDNN_ATTENTION], set_priority=True), \
            torch.nn.attention.sdpa_kernel([TB.MATH, TB.CUDNN_ATTENTION], set_priority=True):
        assert ember.backends._sdp_priority == torch._C._get_sdp_priority_order() == \
            [0, 3, 1, 2, 4]
    assert ember.backends._sdp_priority == order == torch._C._get_sdp_priority_order()
    # SDPA's check: torch runs on the CPU with math or flash, fails with neither
    with ember.nn.attention.sdpa_kernel([B.EFFICIENT_ATTENTION]):
        with pytest.raises(RuntimeError, match="No viable backend"):
            ember.backends._check_sdp_backends()
    with ember.nn.attention.sdpa_kernel([B.FLASH_ATTENTION]):
        ember.backends._check_sdp_backends()


def test_backends_cuda_sdp_switches():
    c = ember.backends.cuda
    for name in _FLAGS:
        enable, enabled = getattr(c, f"enable_{name}_sdp"), getattr(c, f"{name}_sdp_enabled")
        enable(False)
        assert enabled() is False
        enable(True)
        assert enabled() is True
        _raises_same(lambda lib: getattr(lib.backends.cuda, f"enable_{name}_sdp")(1))
    assert c.fp16_bf16_reduction_math_sdp_allowed() is \
        torch.backends.cuda.fp16_bf16_reduction_math_sdp_allowed()
    with pytest.warns(FutureWarning) as tr:
        tcm = torch.backends.cuda.sdp_kernel(enable_flash=False, enable_mem_efficient=False)
    with pytest.warns(FutureWarning) as er:
        ecm = c.sdp_kernel(enable_flash=False, enable_mem_efficient=False)
    assert str(er[0].message) == str(tr[0].message)
    with tcm, ecm:
        assert _flags(ember) == _flags(torch) == (False, False, True, True)
    assert _flags(ember) == _flags(torch) == (True,) * 4
