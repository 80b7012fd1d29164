"""Layers against torch: parameters copied through state_dict, same inputs in train and eval
mode; outputs, input gradients, parameter gradients and state (running stats) compared; reprs
and default initialisation distributions checked."""
import math

import numpy as np
import pytest
import torch

import ember
from nn_helpers import copy_state, run_pair, same_repr

LAYERS = [
    ("Linear", lambda nn: nn.Linear(5, 3), [(4, 5)]),
    ("Linear-3d", lambda nn: nn.Linear(5, 3), [(2, 4, 5)]),
    ("Linear-nobias", lambda nn: nn.Linear(5, 3, bias=False), [(4, 5)]),
    ("Linear-1d", lambda nn: nn.Linear(5, 3), [(5,)]),
    ("Bilinear", lambda nn: nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    ("Identity", lambda nn: nn.Identity(3, foo=1), [(2, 3)]),
    ("Flatten", lambda nn: nn.Flatten(), [(2, 3, 4)]),
    ("Unflatten", lambda nn: nn.Unflatten(1, (2, 3)), [(4, 6)]),
    ("BatchNorm1d", lambda nn: nn.BatchNorm1d(3), [(6, 3)]),
    ("BatchNorm1d-3d", lambda nn: nn.BatchNorm1d(3), [(4, 3, 5)]),
    ("BatchNorm2d", lambda nn: nn.BatchNorm2d(3), [(4, 3, 2, 2)]),
    ("BatchNorm3d", lambda nn: nn.BatchNorm3d(2), [(2, 2, 2, 2, 3)]),
    ("BatchNorm2d-noaffine", lambda nn: nn.BatchNorm2d(3, affine=False), [(4, 3, 2, 2)]),
    ("BatchNorm2d-nostats", lambda nn: nn.BatchNorm2d(3, track_running_stats=False),
     [(4, 3, 2, 2)]),
    ("BatchNorm2d-cumulative", lambda nn: nn.BatchNorm2d(3, momentum=None), [(4, 3, 2, 2)]),
    ("InstanceNorm1d", lambda nn: nn.InstanceNorm1d(3), [(2, 3, 5)]),
    ("InstanceNorm2d-affine", lambda nn: nn.InstanceNorm2d(3, affine=True,
                                                           track_running_stats=True),
     [(2, 3, 4, 4)]),
    ("InstanceNorm2d-unbatched", lambda nn: nn.InstanceNorm2d(3, affine=True), [(3, 4, 4)]),
    ("LayerNorm", lambda nn: nn.LayerNorm(5), [(3, 5)]),
    ("LayerNorm-2d", lambda nn: nn.LayerNorm((4, 5)), [(2, 4, 5)]),
    ("LayerNorm-nobias", lambda nn: nn.LayerNorm(5, bias=False), [(3, 5)]),
    ("GroupNorm", lambda nn: nn.GroupNorm(2, 4), [(3, 4, 5)]),
    ("GroupNorm-2d", lambda nn: nn.GroupNorm(3, 6, affine=False), [(2, 6, 2, 3)]),
    ("RMSNorm", lambda nn: nn.RMSNorm(5), [(3, 5)]),
    ("LocalResponseNorm", lambda nn: nn.LocalResponseNorm(3), [(2, 5, 3)]),
    ("LocalResponseNorm-even", lambda nn: nn.LocalResponseNorm(2, k=2.0), [(2, 4, 3, 2)]),
    ("PReLU", lambda nn: nn.PReLU(), [(4, 3)]),
    ("PReLU-channels", lambda nn: nn.PReLU(3), [(2, 3, 4)]),
    ("ReLU", lambda nn: nn.ReLU(), [(3, 4)]),
    ("ReLU6", lambda nn: nn.ReLU6(), [(3, 4)]),
    ("LeakyReLU", lambda nn: nn.LeakyReLU(0.2), [(3, 4)]),
    ("ELU", lambda nn: nn.ELU(0.7), [(3, 4)]),
    ("SELU", lambda nn: nn.SELU(), [(3, 4)]),
    ("CELU", lambda nn: nn.CELU(1.5), [(3, 4)]),
    ("GELU", lambda nn: nn.GELU(), [(3, 4)]),
    ("GELU-tanh", lambda nn: nn.GELU("tanh"), [(3, 4)]),
    ("SiLU", lambda nn: nn.SiLU(), [(3, 4)]),
    ("Mish", lambda nn: nn.Mish(), [(3, 4)]),
    ("Sigmoid", lambda nn: nn.Sigmoid(), [(3, 4)]),
    ("Tanh", lambda nn: nn.Tanh(), [(3, 4)]),
    ("Hardtanh", lambda nn: nn.Hardtanh(-0.5, 0.7), [(3, 4)]),
    ("Hardsigmoid", lambda nn: nn.Hardsigmoid(), [(3, 4)]),
    ("Hardswish", lambda nn: nn.Hardswish(), [(3, 4)]),
    ("Softsign", lambda nn: nn.Softsign(), [(3, 4)]),
    ("Softplus", lambda nn: nn.Softplus(2.0, 1.0), [(3, 4)]),
    ("Softshrink", lambda nn: nn.Softshrink(0.3), [(3, 4)]),
    ("Hardshrink", lambda nn: nn.Hardshrink(0.3), [(3, 4)]),
    ("Tanhshrink", lambda nn: nn.Tanhshrink(), [(3, 4)]),
    ("Threshold", lambda nn: nn.Threshold(0.1, -2.0), [(3, 4)]),
    ("LogSigmoid", lambda nn: nn.LogSigmoid(), [(3, 4)]),
    ("Softmax", lambda nn: nn.Softmax(1), [(3, 4)]),
    ("Softmin", lambda nn: nn.Softmin(0), [(3, 4)]),
    ("LogSoftmax", lambda nn: nn.LogSoftmax(-1), [(3, 4)]),
    ("Softmax2d", lambda nn: nn.Softmax2d(), [(2, 3, 2, 2)]),
    ("GLU", lambda nn: nn.GLU(), [(3, 4)]),
    ("RReLU-eval", lambda nn: nn.RReLU(), [(3, 4)]),
    ("Dropout", lambda nn: nn.Dropout(0.3), [(3, 4)]),
    ("CosineSimilarity", lambda nn: nn.CosineSimilarity(), [(3, 4), (3, 4)]),
    ("PairwiseDistance", lambda nn: nn.PairwiseDistance(), [(3, 4), (3, 4)]),
    ("PairwiseDistance-p1", lambda nn: nn.PairwiseDistance(1.0, keepdim=True), [(3, 4), (3, 4)]),
    ("ChannelShuffle", lambda nn: nn.ChannelShuffle(2), [(2, 4, 3)]),
]

TRAIN_RANDOM = {"Dropout", "RReLU-eval"}   # random in training mode: eval only


@pytest.mark.parametrize("name,ctor,shapes", LAYERS, ids=[l[0] for l in LAYERS])
@pytest.mark.parametrize("train", [True, False])
def test_layer_matches_torch(name, ctor, shapes, train):
    if train and name in TRAIN_RANDOM:
        pytest.skip("random in training mode")
    run_pair(ctor, shapes, train=train)
    same_repr(ctor(torch.nn), ctor(ember.nn))


def test_layer_float64():
    run_pair(lambda nn: nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.GELU()).double(),
             [(5, 4)], dtypes="float64")


def test_batchnorm_running_stats_over_steps():
    for momentum in (0.1, None):
        tm = torch.nn.BatchNorm2d(3, momentum=momentum)
        em = ember.nn.BatchNorm2d(3, momentum=momentum)
        rng = np.random.default_rng(1)
        for _ in range(3):
            x = rng.standard_normal((4, 3, 2, 2)).astype(np.float32)
            tm(torch.from_numpy(x))
            em(ember.tensor(x))
        for k, v in tm.state_dict().items():
            np.testing.assert_allclose(em.state_dict()[k].numpy(), v.numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        ember.nn.BatchNorm1d(3)(ember.ones(1, 3))
    with pytest.raises(ValueError, match="expected 4D input"):
        ember.nn.BatchNorm2d(3)(ember.ones(2, 3))


def test_embedding():
    idx = np.array([[0, 2, 4], [4, 3, 0]])
    for kw in ({}, {"padding_idx": 0}, {"scale_grad_by_freq": True}, {"padding_idx": -1}):
        tm, em, _, _ = run_pair(lambda nn: nn.Embedding(5, 3, **kw), None, inputs=[idx])
        same_repr(tm, em)
    with pytest.raises(IndexError):
        ember.nn.Embedding(3, 2)(ember.tensor([3]))
    w = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    e = ember.nn.Embedding.from_pretrained(ember.tensor(w))
    assert not e.weight.requires_grad and e(ember.tensor([1])).tolist() == [w[1].tolist()]


def test_embedding_max_norm():
    w = (np.random.default_rng(0).standard_normal((5, 3)) * 3).astype(np.float32)
    te = torch.nn.Embedding.from_pretrained(torch.from_numpy(w.copy()), max_norm=1.0)
    ee = ember.nn.Embedding.from_pretrained(ember.tensor(w.copy()), max_norm=1.0)
    idx = [0, 2, 2]
    np.testing.assert_allclose(ee(ember.tensor(idx)).numpy(), te(torch.tensor(idx)).numpy(),
                               rtol=1e-5)
    np.testing.assert_allclose(ee.weight.detach().numpy(), te.weight.detach().numpy(),
                               rtol=1e-5)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag(mode):
    idx2 = np.array([[0, 2, 4], [4, 3, 1]])
    run_pair(lambda nn: nn.EmbeddingBag(5, 3, mode=mode), None, inputs=[idx2])
    flat = np.array([1, 2, 4, 4, 3, 0, 2])
    offsets = np.array([0, 2, 2, 5])
    run_pair(lambda nn: nn.EmbeddingBag(5, 3, mode=mode), None, inputs=[flat, offsets])
    run_pair(lambda nn: nn.EmbeddingBag(5, 3, mode=mode, padding_idx=2), None,
             inputs=[flat, offsets])
    same_repr(torch.nn.EmbeddingBag(5, 3, mode=mode), ember.nn.EmbeddingBag(5, 3, mode=mode))


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_many_bags_and_last_offset(mode):
    """Thousands of bags (each row added into its bag, no bags x indices matrix), and
    include_last_offset with the last offset equal to the number of indices."""
    rng = np.random.default_rng(1)
    flat = rng.integers(0, 50, 30000)
    offsets = np.sort(rng.integers(0, 30000, 3000))
    offsets[0] = 0
    run_pair(lambda nn: nn.EmbeddingBag(50, 4, mode=mode), None, inputs=[flat, offsets])
    run_pair(lambda nn: nn.EmbeddingBag(50, 4, mode=mode, include_last_offset=True), None,
             inputs=[flat, np.append(offsets, 30000)])


def test_embedding_bag_per_sample_weights():
    flat = np.array([1, 2, 4, 4, 3, 0, 2])
    offsets = np.array([0, 2, 5])
    psw = np.random.default_rng(0).standard_normal(7).astype(np.float32)
    run_pair(lambda nn: nn.EmbeddingBag(5, 3, mode="sum"), None, inputs=[flat, offsets, psw])


def test_dropout_train_statistics():
    x = ember.ones(200, 200)
    d = ember.nn.Dropout(0.25)
    y = d(x).numpy()
    kept = (y != 0).mean()
    assert abs(kept - 0.75) < 0.02
    np.testing.assert_allclose(y[y != 0], 1 / 0.75, rtol=1e-6)
    d.eval()
    assert d(x) is x
    y2 = ember.nn.Dropout2d(0.5)(ember.ones(50, 40, 3, 3)).numpy()
    assert np.all(y2.min(axis=(2, 3)) == y2.max(axis=(2, 3)))   # whole channels
    a = ember.nn.AlphaDropout(0.2)(ember.tensor(np.random.default_rng(0).standard_normal(
        (400, 400)).astype(np.float32))).numpy()
    assert abs(a.mean()) < 0.02 and abs(a.std() - 1) < 0.03   # keeps zero mean, unit variance
    with pytest.raises(ValueError, match="dropout probability"):
        ember.nn.Dropout(1.5)


def test_default_init_distributions():
    torch_like = ember.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = torch_like.weight.detach().numpy()
    assert w.min() >= -bound and w.max() <= bound and abs(w.std() - bound / math.sqrt(3)) < 1e-3
    b = torch_like.bias.detach().numpy()
    assert b.min() >= -bound and b.max() <= bound
    bl = ember.nn.Bilinear(50, 20, 30)
    bb = 1 / math.sqrt(50)
    assert np.abs(bl.weight.detach().numpy()).max() <= bb
    e = ember.nn.Embedding(300, 100, padding_idx=3).weight.detach().numpy()
    assert abs(e.std() - 1) < 0.02 and not e[3].any()
    ln = ember.nn.LayerNorm(4)
    assert ln.weight.tolist() == [1.0] * 4 and ln.bias.tolist() == [0.0] * 4


def test_lazy_linear():
    m = ember.nn.LazyLinear(3)
    y = m(ember.ones(2, 5))
    assert type(m) is ember.nn.Linear and m.weight.shape == (3, 5) and y.shape == (2, 3)


def test_uninitialized_parameter_repr_and_materialize():
    for lib in (torch, ember):
        m = lib.nn.LazyLinear(3)
        assert repr(m.weight) == "<UninitializedParameter>"
        assert repr(m) == "LazyLinear(in_features=0, out_features=3, bias=True)"
        p = lib.nn.parameter.UninitializedParameter()
        p.materialize((2, 4), dtype=lib.float64)
        assert type(p) is lib.nn.Parameter and tuple(p.shape) == (2, 4)
        assert p.dtype == lib.float64 and p.requires_grad


def test_weight_functional_errors():
    for fn in (lambda t: t.nn.functional.linear(t.ones(2, 3), t.ones(4, 5)),
               lambda t: t.nn.functional.layer_norm(t.ones(2, 3), (4,)),
               lambda t: t.nn.functional.group_norm(t.ones(2, 3, 4), 2),
               lambda t: t.nn.GroupNorm(2, 3),
               lambda t: t.nn.functional.embedding(t.tensor([5]), t.ones(3, 2))):
        t_exc = e_exc = None
        try:
            fn(torch)
        except Exception as exc:   # noqa: BLE001
            t_exc = exc
        try:
            fn(ember)
        except Exception as exc:   # noqa: BLE001
            e_exc = exc
        assert type(e_exc) is type(t_exc), (e_exc, t_exc)


def test_inplace_activations():
    for name in ("ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "SiLU", "Hardtanh",
                 "Hardswish", "Hardsigmoid", "Mish"):
        x_t = torch.randn(3, 4)
        x_e = ember.tensor(x_t.numpy().copy())
        mt = getattr(torch.nn, name)(inplace=True)
        me = getattr(ember.nn, name)(inplace=True)
        yt, ye = mt(x_t), me(x_e)
        assert ye is x_e
        np.testing.assert_allclose(x_e.numpy(), x_t.numpy(), rtol=1e-5, atol=1e-6)
        same_repr(mt, me)
    # in place inside a graph: gradients flow as torch's
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    ta = torch.tensor(a, requires_grad=True)
    ea = ember.tensor(a).requires_grad_()
    (torch.nn.functional.relu(ta * 2, inplace=True) * 3).sum().backward()
    (ember.nn.functional.relu(ea * 2, inplace=True) * 3).sum().backward()
    np.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy())


MHA = [
    ("plain", {}, {}),
    ("batch_first", {"batch_first": True}, {}),
    ("kdim", {"kdim": 6, "vdim": 5}, {}),
    ("bias_kv_zero_attn", {"add_bias_kv": True, "add_zero_attn": True}, {}),
    ("nobias", {"bias": False}, {"average_attn_weights": False}),
    ("masks", {}, {"masks": True}),
    ("float_mask", {}, {"float_mask": True}),
    ("no_weights", {}, {"need_weights": False}),
]


@pytest.mark.parametrize("name,kw,call_kw", MHA, ids=[m[0] for m in MHA])
def test_multihead_attention(name, kw, call_kw):
    E, H, L, S, N = 8, 2, 4, 5, 3
    bf = kw.get("batch_first", False)
    rng = np.random.default_rng(0)
    qs = (N, L, E) if bf else (L, N, E)
    ks = (N, S, kw.get("kdim", E)) if bf else (S, N, kw.get("kdim", E))
    vs = (N, S, kw.get("vdim", E)) if bf else (S, N, kw.get("vdim", E))
    arrays = [rng.standard_normal(s).astype(np.float32) for s in (qs, ks, vs)]
    call_kw = dict(call_kw)
    masks = call_kw.pop("masks", False)
    float_mask = call_kw.pop("float_mask", False)
    kpm = rng.random((N, S)) < 0.3
    kpm[:, 0] = False
    am = rng.random((L, S)) < 0.3
    am[:, 0] = False
    fm = rng.standard_normal((L, S)).astype(np.float32)

    def call(m, q, k, v):
        extra = {}
        lib = torch if isinstance(q, torch.Tensor) else ember
        if masks:
            extra = {"key_padding_mask": lib.tensor(kpm), "attn_mask": lib.tensor(am)}
        if float_mask:
            extra = {"attn_mask": lib.tensor(fm)}
        out, w = m(q, k, v, **extra, **call_kw)
        if w is not None:
            return out * 2 + w.sum() if not call_kw.get("average_attn_weights", True) else \
                out + w.mean()
        return out
    for train in (True, False):
        run_pair(lambda nn: nn.MultiheadAttention(E, H, **kw), None, inputs=arrays, call=call,
                 train=train, rtol=1e-4, atol=1e-5)
    t = torch.nn.MultiheadAttention(E, H, **kw)
    e = ember.nn.MultiheadAttention(E, H, **kw)
    assert list(e.state_dict()) == list(t.state_dict())
    same_repr(t, e)


def test_multihead_attention_weights_and_unbatched():
    E, H = 8, 2
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, E)).astype(np.float32)
    tm = torch.nn.MultiheadAttention(E, H)
    em = ember.nn.MultiheadAttention(E, H)
    copy_state(tm, em)
    to, tw = tm(*(torch.from_numpy(x),) * 3)
    eo, ew = em(*(ember.tensor(x),) * 3)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ew.detach().numpy(), tw.detach().numpy(), rtol=1e-4, atol=1e-6)


def test_lazy_batchnorm_and_syncbatchnorm():
    m = ember.nn.LazyBatchNorm2d()
    y = m(ember.randn(4, 3, 2, 2))
    assert type(m) is ember.nn.BatchNorm2d and m.num_features == 3 and y.shape == (4, 3, 2, 2)
    assert list(m.state_dict()) == list(torch.nn.BatchNorm2d(3).state_dict())
    same_repr(torch.nn.SyncBatchNorm(3), ember.nn.SyncBatchNorm(3))
    run_pair(lambda nn: nn.SyncBatchNorm(3), [(4, 3, 5)])
    same_repr(torch.nn.SyncBatchNorm(3, bias=False), ember.nn.SyncBatchNorm(3, bias=False))
    run_pair(lambda nn: nn.SyncBatchNorm(3, bias=False), [(4, 3, 5)])
    s = ember.nn.SyncBatchNorm.convert_sync_batchnorm(
        ember.nn.Sequential(ember.nn.BatchNorm2d(3)))
    assert type(s[0]) is ember.nn.SyncBatchNorm
