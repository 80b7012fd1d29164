"""nn.utils and nn.init against torch: clipping, parameter/vector conversion, weight and
spectral norm, rnn packing; init distributions, fans and gains."""
import math

import numpy as np
import pytest
import torch

import ember
from nn_helpers import copy_state
from oracle import assert_close, check


def _pair_with_grads(seed=0):
    torch.manual_seed(seed)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    em = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.Tanh(), ember.nn.Linear(3, 2))
    copy_state(tm, em)
    x = np.random.default_rng(seed).standard_normal((5, 4)).astype(np.float32) * 10
    (tm(torch.from_numpy(x)) ** 2).sum().backward()
    (em(ember.tensor(x)) ** 2).sum().backward()
    return tm, em


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm(norm_type, max_norm):
    tm, em = _pair_with_grads()
    tn = torch.nn.utils.clip_grad_norm_(tm.parameters(), max_norm, norm_type)
    en = ember.nn.utils.clip_grad_norm_(em.parameters(), max_norm, norm_type)
    assert_close(tn, en, rtol=1e-5)
    for (n, tp), ep in zip(tm.named_parameters(), em.parameters()):
        assert_close(tp.grad, ep.grad, rtol=1e-5, what=n)


def test_clip_grad_errors_and_value():
    tm, em = _pair_with_grads()
    em[0].weight.grad._data[0, 0] = np.nan
    tm[0].weight.grad[0, 0] = float("nan")
    with pytest.raises(RuntimeError) as te:
        torch.nn.utils.clip_grad_norm_(tm.parameters(), 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as ee:
        ember.nn.utils.clip_grad_norm_(em.parameters(), 1.0, error_if_nonfinite=True)
    assert str(ee.value) == str(te.value)
    tm, em = _pair_with_grads(1)
    torch.nn.utils.clip_grad_value_(tm.parameters(), 0.1)
    ember.nn.utils.clip_grad_value_(em.parameters(), 0.1)
    for tp, ep in zip(tm.parameters(), em.parameters()):
        assert_close(tp.grad, ep.grad)
    assert float(ember.nn.utils.clip_grad_norm_([], 1.0)) == 0.0


def test_parameters_vector_roundtrip():
    tm, em = _pair_with_grads()
    tv = torch.nn.utils.parameters_to_vector(tm.parameters())
    ev = ember.nn.utils.parameters_to_vector(em.parameters())
    assert_close(tv, ev)
    new = np.arange(ev.numel(), dtype=np.float32)
    torch.nn.utils.vector_to_parameters(torch.from_numpy(new.copy()), tm.parameters())
    ember.nn.utils.vector_to_parameters(ember.tensor(new.copy()), em.parameters())
    for tp, ep in zip(tm.parameters(), em.parameters()):
        assert_close(tp.detach(), ep)
    with pytest.raises(TypeError):
        ember.nn.utils.vector_to_parameters([1.0], em.parameters())


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm(dim):
    torch.manual_seed(0)
    tm = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3), dim=dim)
    em = ember.nn.utils.weight_norm(ember.nn.Linear(4, 3), dim=dim)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    copy_state(tm, em)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    to, eo = tm(torch.from_numpy(x)), em(ember.tensor(x))
    assert_close(to, eo)
    to.sum().backward()
    eo.sum().backward()
    assert_close(tm.weight_g.grad, em.weight_g.grad, rtol=1e-4)
    assert_close(tm.weight_v.grad, em.weight_v.grad, rtol=1e-4)
    ember.nn.utils.remove_weight_norm(em)
    torch.nn.utils.remove_weight_norm(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert_close(tm.weight.detach(), em.weight, rtol=1e-5)


def test_spectral_norm():
    torch.manual_seed(0)
    tm = torch.nn.utils.spectral_norm(torch.nn.Linear(5, 4))
    em = ember.nn.utils.spectral_norm(ember.nn.Linear(5, 4))
    assert list(em.state_dict()) == list(tm.state_dict())
    copy_state(tm, em)
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    for train in (True, True, False):
        tm.train(train)
        em.train(train)
        to, eo = tm(torch.from_numpy(x)), em(ember.tensor(x))
        assert_close(to, eo, rtol=1e-4, atol=1e-5)
    to.sum().backward()
    eo.sum().backward()
    assert_close(tm.weight_orig.grad, em.weight_orig.grad, rtol=1e-4, atol=1e-5)
    ember.nn.utils.remove_spectral_norm(em)
    assert "weight" in em._parameters


def test_pad_sequence():
    seqs = [(3, 2), (1, 2), (4, 2)]
    for bf in (False, True):
        for side in ("right", "left"):
            check(lambda t, a, b, c: t.nn.utils.rnn.pad_sequence(
                [a, b, c], batch_first=bf, padding_value=-1.0, padding_side=side), seqs)


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_unpack(enforce_sorted, batch_first):
    lengths = [4, 3, 1] if enforce_sorted else [3, 4, 1]
    shape = (3, 4, 2) if batch_first else (4, 3, 2)

    def fn(t, x):
        p = t.nn.utils.rnn.pack_padded_sequence(x, t.tensor(lengths), batch_first=batch_first,
                                                enforce_sorted=enforce_sorted)
        out, lens = t.nn.utils.rnn.pad_packed_sequence(p, batch_first=batch_first,
                                                       padding_value=0.5, total_length=5)
        extra = [p.sorted_indices, p.unsorted_indices] if not enforce_sorted else []
        return [p.data * 2, p.batch_sizes, out, lens] + extra
    check(fn, [shape])


def test_pack_sequence_roundtrip_and_errors():
    def fn(t, a, b):
        p = t.nn.utils.rnn.pack_sequence([a, b], enforce_sorted=False)
        return t.nn.utils.rnn.unpack_sequence(p)
    check(fn, [(2, 3), (4, 3)])
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        ember.nn.utils.rnn.pack_padded_sequence(ember.ones(3, 2), [1, 3])


# ---------------------------------------------------------------------------------------------
# init

def test_calculate_gain_and_fans():
    for nl, param in (("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                      ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)):
        assert ember.nn.init.calculate_gain(nl, param) == torch.nn.init.calculate_gain(nl, param)
    with pytest.raises(ValueError):
        ember.nn.init.calculate_gain("foo")
    for shape in ((3, 4), (5, 3, 2, 2), (2, 6, 3)):
        assert ember.nn.init._calculate_fan_in_and_fan_out(ember.empty(shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(ValueError):
        ember.nn.init.xavier_uniform_(ember.empty(3))


def _stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.mean(), a.std(), a.min(), a.max()


def test_init_distributions():
    I = ember.nn.init
    w = ember.empty(300, 200)
    m, s, lo, hi = _stats(I.uniform_(w, -2, 3))
    assert -2 <= lo and hi <= 3 and abs(m - 0.5) < 0.03
    m, s, _, _ = _stats(I.normal_(w, 1.0, 2.0))
    assert abs(m - 1) < 0.03 and abs(s - 2) < 0.03
    m, s, lo, hi = _stats(I.trunc_normal_(w, 0, 1, -1, 1.5))
    assert -1 <= lo and hi <= 1.5
    b = math.sqrt(6 / 500)
    _, s, lo, hi = _stats(I.xavier_uniform_(w))
    assert -b <= lo and hi <= b and abs(s - b / math.sqrt(3)) < 2e-3
    _, s, _, _ = _stats(I.xavier_normal_(w, gain=2.0))
    assert abs(s - 2 * math.sqrt(2 / 500)) < 2e-3
    _, s, lo, hi = _stats(I.kaiming_uniform_(w, a=math.sqrt(5)))
    assert hi <= 1 / math.sqrt(200) + 1e-7
    _, s, _, _ = _stats(I.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"))
    assert abs(s - math.sqrt(2 / 300)) < 2e-3
    assert I.constant_(w, 0.3).numpy().max() == np.float32(0.3)
    assert I.ones_(w).numpy().min() == 1 and I.zeros_(w).numpy().max() == 0
    np.testing.assert_array_equal(I.eye_(ember.empty(3, 4)).numpy(), np.eye(3, 4))
    q = I.orthogonal_(ember.empty(4, 6), gain=2.0).numpy()
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(4), atol=1e-5)
    sp = I.sparse_(ember.empty(10, 5), 0.3).numpy()
    assert ((sp == 0).sum(0) >= 3).all()
    np.testing.assert_array_equal(I.dirac_(ember.empty(3, 2, 3)).numpy(),
                                  torch.nn.init.dirac_(torch.empty(3, 2, 3)).numpy())
    np.testing.assert_array_equal(I.dirac_(ember.empty(4, 2, 3, 3), groups=2).numpy(),
                                  torch.nn.init.dirac_(torch.empty(4, 2, 3, 3), 2).numpy())


def test_init_in_place_without_history():
    p = ember.nn.Parameter(ember.empty(3, 4))
    v = p._version
    out = ember.nn.init.normal_(p)
    assert out is p and p.grad_fn is None and p.requires_grad and p._version > v
