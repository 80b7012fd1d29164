"""A parity sweep of nn layers, activations and losses against torch.

Each case builds the same module in both libraries (torch's state copied in through
state_dict), checks the repr, runs it on the same inputs and compares outputs, input and
parameter gradients; in-place cases also compare the modified input and whether the output is
the input. Error cases compare the exception type and message. The cases listed under each
family were found by a wider sweep (activations, losses, layers with several options each, in
float32 and float64, batched and unbatched, edge values, bad inputs); the table of module
factories x options keeps that sweep's breadth at a size that runs in a few seconds."""
import warnings

import numpy as np
import pytest
import torch

import ember
from nn_helpers import copy_state, same_repr
from oracle import assert_close, assert_raised_alike, compare_outputs, to_ember, to_torch


# =============================================================================================
# Helpers

def _r(*shape, seed=0, low=None, high=None, dtype="float32"):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) if low is None else rng.uniform(low, high, shape)
    return np.asarray(a, dtype)


def _i(*shape, high=5, low=0, seed=1, dtype="int64"):
    return np.random.default_rng(seed).integers(low, high, size=shape).astype(dtype)


def _lib(x):
    return torch if isinstance(x, (torch.Tensor, torch.nn.Module)) else ember


def _build(ctor):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm, em = ctor(torch.nn), ctor(ember.nn)
    copy_state(tm, em)
    return tm, em


def _flat(o):
    return [y for x in o for y in _flat(x)] if isinstance(o, (tuple, list)) else [o]


def compare(ctor, inputs, call=None, *, dtype=None, train=True, inplace=False, grad=True,
            rtol=None, atol=None):
    """Same module, same inputs: repr, outputs, in-place effects, input/parameter grads."""
    tm, em = _build(ctor)
    same_repr(tm, em)
    if dtype == "float64":
        tm, em = tm.double(), em.double()
        inputs = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                  else a for a in inputs]
    tm.train(train)
    em.train(train)
    diff = [grad and isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in inputs]
    ti = [to_torch(a, d) for a, d in zip(inputs, diff)]
    ei = [to_ember(a, d) for a, d in zip(inputs, diff)]
    # in-place ops need non-leaf inputs
    ta = [x.clone() if inplace and d else x for x, d in zip(ti, diff)]
    ea = [x.clone() if inplace and d else x for x, d in zip(ei, diff)]
    call = call or (lambda m, *xs: m(*xs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to, eo = call(tm, *ta), call(em, *ea)
    compare_outputs(to, eo, rtol=rtol, atol=atol)
    if inplace:
        for a, b in zip(ta, ea):
            if isinstance(a, torch.Tensor):
                assert_close(a, b, rtol=rtol, atol=atol, what="input after the in-place op")
        assert (to is ta[0]) == (eo is ea[0]), "in-place output is (not) its input"
    tg = [o for o in _flat(to) if isinstance(o, torch.Tensor) and o.requires_grad]
    eg = [o for o in _flat(eo) if isinstance(o, ember.Tensor) and o.requires_grad]
    assert len(tg) == len(eg), "a different number of outputs require grad"
    if not tg:
        return tm, em, to, eo
    rng = np.random.default_rng(7)
    ups = [rng.standard_normal(tuple(o.shape)).astype(str(o.dtype).split(".")[-1]) for o in tg]
    torch.autograd.backward(tg, [torch.from_numpy(u) for u in ups])
    ember.autograd.backward(eg, [ember.tensor(u) for u in ups])
    for i, (a, b, d) in enumerate(zip(ti, ei, diff)):
        if d and a.grad is None:   # not differentiable (a target), or unused
            assert b.grad is None or not np.any(b.grad.numpy()), f"grad of input {i}"
        elif d:
            assert_close(a.grad, b.grad, rtol=rtol, atol=atol, what=f"grad of input {i}")
    eparams = dict(em.named_parameters())
    for k, p in tm.named_parameters():
        if p.grad is None:
            assert eparams[k].grad is None or not np.any(eparams[k].grad.numpy()), k
        else:
            assert_close(p.grad, eparams[k].grad, rtol=rtol, atol=atol, what=f"grad of {k}")
    return tm, em, to, eo


def _message(exc):
    return str(exc).split("\n")[0]


def raises_like_torch(ctor, inputs=(), call=None, *, train=True):
    """Both raise (at construction or in the call), the same type and the same message."""
    excs = []
    for nn, conv in ((torch.nn, to_torch), (ember.nn, to_ember)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = ctor(nn)
                m.train(train)
                (call or (lambda m, *xs: m(*xs)))(m, *[conv(a) for a in inputs])
        except Exception as exc:   # noqa: BLE001 - the type is what we compare
            excs.append(exc)
        else:
            excs.append(None)
    t_exc, e_exc = excs
    assert_raised_alike(t_exc, e_exc)
    assert _message(e_exc) in (_message(t_exc), _message(t_exc).replace("torch.", "ember.")), \
        f"\nember: {_message(e_exc)}\ntorch: {_message(t_exc)}"


# =============================================================================================
# The sweep: module factory x options (float32; the '64' cases in float64)

RED = ("mean", "sum", "none")
W5 = (np.arange(5) * 0.3 + 0.4).astype(np.float32)


def _w(nn, a):
    return (torch if nn is torch.nn else ember).tensor(a)


def _tgt_ign(n, C, ign=-100):
    t = _i(n, high=C)
    t[1] = ign
    return t


def _signs(*shape):
    return np.where(_r(*shape, seed=5) > 0, 1.0, -1.0).astype(np.float32)


ACTIVATIONS = [
    ("Threshold", lambda nn: nn.Threshold(0.1, -2.0)), ("ReLU", lambda nn: nn.ReLU()),
    ("Hardtanh", lambda nn: nn.Hardtanh(-2, 3)), ("ReLU6", lambda nn: nn.ReLU6()),
    ("Sigmoid", lambda nn: nn.Sigmoid()), ("Hardsigmoid", lambda nn: nn.Hardsigmoid()),
    ("Tanh", lambda nn: nn.Tanh()), ("SiLU", lambda nn: nn.SiLU()), ("Mish", lambda nn: nn.Mish()),
    ("Hardswish", lambda nn: nn.Hardswish()), ("ELU", lambda nn: nn.ELU(0.5)),
    ("CELU", lambda nn: nn.CELU(2.0)), ("SELU", lambda nn: nn.SELU()),
    ("GLU", lambda nn: nn.GLU(0)), ("GELU", lambda nn: nn.GELU()),
    ("GELU-tanh", lambda nn: nn.GELU("tanh")), ("Hardshrink", lambda nn: nn.Hardshrink(1.0)),
    ("LeakyReLU", lambda nn: nn.LeakyReLU(-0.5)), ("LogSigmoid", lambda nn: nn.LogSigmoid()),
    ("Softplus", lambda nn: nn.Softplus(beta=2, threshold=5)),
    ("Softplus-neg", lambda nn: nn.Softplus(beta=-1.0)),
    ("Softshrink", lambda nn: nn.Softshrink(1)),
    ("PReLU", lambda nn: nn.PReLU(init=0.1)), ("Softsign", lambda nn: nn.Softsign()),
    ("Tanhshrink", lambda nn: nn.Tanhshrink()), ("Softmin", lambda nn: nn.Softmin(dim=1)),
    ("Softmax", lambda nn: nn.Softmax(dim=-1)), ("LogSoftmax", lambda nn: nn.LogSoftmax(dim=0)),
    ("RReLU-eval", lambda nn: nn.RReLU(0.1, 0.3)),
]
INPLACE = [
    ("Threshold", lambda nn: nn.Threshold(0.5, 20, inplace=True)),
    ("ReLU", lambda nn: nn.ReLU(inplace=True)), ("Hardtanh", lambda nn: nn.Hardtanh(-2, 3, True)),
    ("ReLU6", lambda nn: nn.ReLU6(True)), ("Hardsigmoid", lambda nn: nn.Hardsigmoid(True)),
    ("SiLU", lambda nn: nn.SiLU(True)), ("Mish", lambda nn: nn.Mish(True)),
    ("Hardswish", lambda nn: nn.Hardswish(True)), ("ELU", lambda nn: nn.ELU(0.5, True)),
    ("CELU", lambda nn: nn.CELU(2.0, True)), ("SELU", lambda nn: nn.SELU(True)),
    ("LeakyReLU", lambda nn: nn.LeakyReLU(0.2, True)),
    ("RReLU-eval", lambda nn: nn.RReLU(inplace=True)),
]
# values at the kinks, thresholds and saturation points of the activations above
EDGE = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, -6.0, 20.0, -20.0, 0.3, -0.3, 25.0,
                 -100.0, 100.0], np.float32).reshape(4, 4)


@pytest.mark.parametrize("name,ctor", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_sweep(name, ctor):
    train = not name.startswith("RReLU")
    compare(ctor, [EDGE], train=train)
    compare(ctor, [_r(2, 3, 4)], dtype="float64", train=train)
    if name not in ("GLU", "Softmin"):   # (dims 0 and 1 do not exist in a 0-d input)
        compare(ctor, [np.array(0.7, np.float32)], train=train)


@pytest.mark.parametrize("name,ctor", INPLACE, ids=[a[0] for a in INPLACE])
def test_activation_inplace_sweep(name, ctor):
    train = not name.startswith("RReLU")
    compare(ctor, [EDGE], train=train, inplace=True)
    compare(ctor, [_r(3, 4)], train=train, inplace=True, grad=False)
    # a leaf that requires grad cannot be modified in place
    raises_like_torch(ctor, [_r(3, 4)],
                      lambda m, x: m(x.requires_grad_()), train=train)


def _loss_cases():
    c = []
    for red in RED:
        c += [
            (f"L1-{red}", lambda nn, r=red: nn.L1Loss(reduction=r), [_r(3, 4), _r(3, 4, seed=3)]),
            (f"MSE-{red}", lambda nn, r=red: nn.MSELoss(reduction=r), [_r(3, 4), _r(3, 4, seed=3)]),
            (f"SmoothL1-{red}", lambda nn, r=red: nn.SmoothL1Loss(reduction=r, beta=0.5),
             [_r(3, 4), _r(3, 4, seed=3)]),
            (f"Huber-{red}", lambda nn, r=red: nn.HuberLoss(reduction=r, delta=0.5),
             [_r(3, 4), _r(3, 4, seed=3)]),
            (f"NLL-{red}-w-ign", lambda nn, r=red: nn.NLLLoss(_w(nn, W5), reduction=r),
             [_r(4, 5), _tgt_ign(4, 5)]),
            (f"NLL-{red}-spatial", lambda nn, r=red: nn.NLLLoss(_w(nn, W5[:4]), ignore_index=2,
                                                                reduction=r),
             [_r(2, 4, 3, 2), _i(2, 3, 2, high=4)]),
            (f"CE-{red}-ls", lambda nn, r=red: nn.CrossEntropyLoss(_w(nn, W5), reduction=r,
                                                                   label_smoothing=0.2),
             [_r(4, 5), _tgt_ign(4, 5)]),
            (f"CE-{red}-prob", lambda nn, r=red: nn.CrossEntropyLoss(_w(nn, W5), reduction=r,
                                                                     label_smoothing=0.1),
             [_r(4, 5), _r(4, 5, low=0, high=1)]),
            (f"CE-{red}-unbatched", lambda nn, r=red: nn.CrossEntropyLoss(reduction=r),
             [_r(5), np.array(3)]),
            (f"BCE-{red}-w", lambda nn, r=red: nn.BCELoss(_w(nn, W5[:4]), reduction=r),
             [_r(3, 4, low=0.05, high=0.95), _r(3, 4, low=0, high=1, seed=2)]),
            (f"BCEL-{red}-pw", lambda nn, r=red: nn.BCEWithLogitsLoss(
                _w(nn, W5[1:]), reduction=r, pos_weight=_w(nn, W5[:4])),
             [_r(3, 4), _r(3, 4, low=0, high=1, seed=2)]),
            (f"KL-{red}-log", lambda nn, r=red: nn.KLDivLoss(reduction=r, log_target=True),
             [_r(3, 4), _r(3, 4, seed=2)]),
            (f"Poisson-{red}-full", lambda nn, r=red: nn.PoissonNLLLoss(False, True, reduction=r),
             [_r(3, 4, low=0.1, high=3), np.array([[0.0, 1.0, 2.0, 5.0]] * 3, np.float32)]),
            (f"Gauss-{red}", lambda nn, r=red: nn.GaussianNLLLoss(full=True, reduction=r),
             [_r(3, 4), _r(3, 4, seed=2), _r(3, 1, low=0.1, high=2)]),
            (f"Hinge-{red}", lambda nn, r=red: nn.HingeEmbeddingLoss(0.5, reduction=r),
             [_r(3, 4), _signs(3, 4)]),
            (f"SoftMargin-{red}", lambda nn, r=red: nn.SoftMarginLoss(reduction=r),
             [_r(3, 4), _signs(3, 4)]),
            (f"MultiLabelSoft-{red}", lambda nn, r=red: nn.MultiLabelSoftMarginLoss(
                _w(nn, W5), reduction=r), [_r(4, 5), _i(4, 5, high=2).astype(np.float32)]),
            (f"CosEmb-{red}", lambda nn, r=red: nn.CosineEmbeddingLoss(0.3, reduction=r),
             [_r(5, 3), _r(5, 3, seed=2), _signs(5)]),
            (f"MarginRanking-{red}", lambda nn, r=red: nn.MarginRankingLoss(-0.3, reduction=r),
             [_r(5), _r(5, seed=2), _signs(5)]),
            (f"MultiMargin-{red}", lambda nn, r=red: nn.MultiMarginLoss(2, 0.5, _w(nn, W5),
                                                                        reduction=r),
             [_r(4, 5), _i(4, high=5)]),
            (f"MultiLabelMargin-{red}", lambda nn, r=red: nn.MultiLabelMarginLoss(reduction=r),
             [_r(4, 5), np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 1, 2, 3, 4],
                                  [4, 4, -1, 0, 0]])]),
            (f"Triplet-{red}", lambda nn, r=red: nn.TripletMarginLoss(0.5, 3.0, swap=True,
                                                                      reduction=r),
             [_r(4, 3), _r(4, 3, seed=2), _r(4, 3, seed=3)]),
            (f"TripletDist-{red}", lambda nn, r=red: nn.TripletMarginWithDistanceLoss(
                swap=True, reduction=r), [_r(4, 3), _r(4, 3, seed=2), _r(4, 3, seed=3)]),
        ]
    return c


LOSSES = _loss_cases()


@pytest.mark.parametrize("name,ctor,inputs", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_sweep(name, ctor, inputs):
    # torch's soft_margin_loss takes no gradient for its target
    call = (lambda m, x, y: m(x, y.detach())) if name.startswith("SoftMargin") else None
    compare(ctor, inputs, call)
    if name.endswith("mean") or "-mean-" in name:
        compare(ctor, inputs, call, dtype="float64")


def _ctc(T, N, C, S, lens=None, tl=None, concat=False):
    lp = _r(T, N, C)
    lp = (lp - np.log(np.exp(lp).sum(-1, keepdims=True))).astype(np.float32)
    tgt = _i(N, S, low=1, high=C)
    tl = np.array(tl if tl is not None else [S] * N)
    if concat:
        tgt = np.concatenate([tgt[i, :tl[i]] for i in range(N)])
    return [lp, tgt, np.array(lens if lens is not None else [T] * N), tl]


CTC = [
    ("padded", _ctc(8, 3, 5, 3)),
    ("lengths", _ctc(8, 3, 5, 4, lens=[8, 6, 5], tl=[4, 2, 0])),
    ("concat", _ctc(8, 3, 5, 4, lens=[8, 6, 5], tl=[4, 2, 0], concat=True)),
    ("impossible", _ctc(3, 2, 5, 4, tl=[4, 1])),                       # loss inf
    ("empty-targets", _ctc(5, 2, 4, 0, tl=[0, 0])),                  # zero-length targets
    ("no-frames", _ctc(6, 2, 4, 2, lens=[0, 6], tl=[0, 2])),          # zero input length
]


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("name,inputs", CTC, ids=[c[0] for c in CTC])
def test_ctc_sweep(name, inputs, reduction, zero_infinity):
    compare(lambda nn: nn.CTCLoss(reduction=reduction, zero_infinity=zero_infinity), inputs)


def _rnn_cases():
    c = []
    for cls in ("RNN", "LSTM", "GRU"):
        for kw in (dict(num_layers=2, bidirectional=True), dict(batch_first=True, bias=False)):
            c.append((f"{cls}-{kw}", lambda nn, cls=cls, kw=kw: getattr(nn, cls)(3, 4, **kw),
                      [_r(5, 2, 3)]))
        c.append((f"{cls}-unbatched", lambda nn, cls=cls: getattr(nn, cls)(3, 4), [_r(5, 3)]))
    c.append(("LSTM-proj", lambda nn: nn.LSTM(3, 4, proj_size=2, num_layers=2), [_r(5, 2, 3)]))
    c.append(("RNN-relu", lambda nn: nn.RNN(3, 4, nonlinearity="relu"), [_r(5, 2, 3)]))
    for cls in ("RNNCell", "LSTMCell", "GRUCell"):
        c.append((cls, lambda nn, cls=cls: getattr(nn, cls)(3, 4, bias=False), [_r(2, 3)]))
        c.append((f"{cls}-unbatched", lambda nn, cls=cls: getattr(nn, cls)(3, 4), [_r(3)]))
    return c


LAYERS = [
    ("Linear-nobias", lambda nn: nn.Linear(5, 3, bias=False), [_r(2, 3, 5)]),
    ("Linear-empty", lambda nn: nn.Linear(5, 3), [_r(0, 5)]),
    ("Bilinear-unbatched", lambda nn: nn.Bilinear(3, 4, 2), [_r(3), _r(4, seed=2)]),
    ("Conv1d-dil-groups", lambda nn: nn.Conv1d(4, 6, 3, 2, 1, 2, 2), [_r(2, 4, 9)]),
    ("Conv2d-same-circular", lambda nn: nn.Conv2d(4, 6, 3, padding="same", dilation=2,
                                                  padding_mode="circular"), [_r(2, 4, 7, 6)]),
    ("Conv2d-reflect-unbatched", lambda nn: nn.Conv2d(4, 6, 3, padding=1, padding_mode="reflect",
                                                      bias=False), [_r(4, 7, 6)]),
    ("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(4, 6, 3, 3, 2, 1, 2, True, 2),
     [_r(2, 4, 5, 4)]),
    ("MaxPool1d", lambda nn: nn.MaxPool1d(3, 2, 1, ceil_mode=True, return_indices=True),
     [_r(2, 3, 7)]),
    ("MaxPool2d-dilation", lambda nn: nn.MaxPool2d(2, dilation=2), [_r(3, 7, 6)]),
    ("AvgPool1d", lambda nn: nn.AvgPool1d(3, 2, 1, True, False), [_r(2, 3, 7)]),
    ("AvgPool3d-divisor", lambda nn: nn.AvgPool3d(2, divisor_override=3), [_r(2, 3, 4, 4, 3)]),
    ("AdaptiveAvgPool2d-None", lambda nn: nn.AdaptiveAvgPool2d((None, 3)), [_r(2, 3, 7, 6)]),
    ("AdaptiveMaxPool1d", lambda nn: nn.AdaptiveMaxPool1d(4, True), [_r(3, 7)]),
    ("LPPool2d", lambda nn: nn.LPPool2d(3.5, 3, 2, True), [_r(2, 3, 7, 6, low=0.1, high=2)]),
    ("ReflectionPad2d-neg", lambda nn: nn.ReflectionPad2d((-1, 2, 2, -2)), [_r(2, 3, 5, 4)]),
    ("ReplicationPad1d-neg", lambda nn: nn.ReplicationPad1d((3, -2)), [_r(2, 3, 5)]),
    ("CircularPad1d-neg", lambda nn: nn.CircularPad1d((1, -1)), [_r(3, 5)]),
    ("CircularPad3d-neg", lambda nn: nn.CircularPad3d((-1, 1, 1, 0, 0, -1)), [_r(2, 5, 4, 3)]),
    ("ConstantPad2d-neg", lambda nn: nn.ConstantPad2d((-1, 2, 0, 1), 2.5), [_r(2, 3, 5, 4)]),
    ("Upsample-bicubic", lambda nn: nn.Upsample(scale_factor=1.5, mode="bicubic",
                                                align_corners=True), [_r(2, 3, 4, 3)]),
    ("PixelUnshuffle", lambda nn: nn.PixelUnshuffle(2), [_r(3, 4, 6)]),
    ("ChannelShuffle", lambda nn: nn.ChannelShuffle(3), [_r(2, 6, 4)]),
    ("Fold", lambda nn: nn.Fold((5, 6), (2, 3), (1, 2), 1, (2, 1)), [_r(2, 12, 12)]),
    ("Unfold", lambda nn: nn.Unfold((2, 3), (1, 2), 1, (2, 1)), [_r(3, 5, 6)]),
    ("PairwiseDistance-inf", lambda nn: nn.PairwiseDistance(float("inf"), keepdim=True),
     [_r(4, 3), _r(3, seed=2)]),
    ("CosineSimilarity", lambda nn: nn.CosineSimilarity(-1, 0.5), [_r(4, 3), _r(4, 3, seed=2)]),
    ("Dropout2d-p1", lambda nn: nn.Dropout2d(1.0), [_r(2, 3, 4, 5)]),
    ("Embedding-maxnorm", lambda nn: nn.Embedding(5, 3, padding_idx=-1, max_norm=1.0),
     [np.array([[0, 2, 4], [4, 3, 0]])]),
    ("EmbeddingBag-max", lambda nn: nn.EmbeddingBag(5, 3, mode="max", padding_idx=0),
     [np.array([[0, 2, 4], [4, 3, 0]])]),
    ("BatchNorm1d-cumulative", lambda nn: nn.BatchNorm1d(3, momentum=None), [_r(4, 3, 5)]),
    ("InstanceNorm1d-stats", lambda nn: nn.InstanceNorm1d(3, affine=True,
                                                          track_running_stats=True), [_r(3, 6)]),
    ("LayerNorm-noaffine", lambda nn: nn.LayerNorm([3, 4], elementwise_affine=False),
     [_r(2, 3, 4)]),
    ("GroupNorm", lambda nn: nn.GroupNorm(2, 4, affine=False), [_r(3, 4, 2, 3)]),
    ("RMSNorm", lambda nn: nn.RMSNorm([2, 5], eps=None), [_r(3, 2, 5)]),
    ("LocalResponseNorm", lambda nn: nn.LocalResponseNorm(2, 0.1, 0.5, 2.0), [_r(2, 5, 3, 2)]),
    ("MultiheadAttention", lambda nn: nn.MultiheadAttention(8, 2, add_bias_kv=True, kdim=5,
                                                            vdim=6), [_r(4, 2, 8), _r(3, 2, 5),
                                                                      _r(3, 2, 6)]),
] + _rnn_cases()


@pytest.mark.parametrize("name,ctor,inputs", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_sweep(name, ctor, inputs):
    compare(ctor, inputs, train=not name.startswith("MultiheadAttention"))


# =============================================================================================
# Cases the sweep found wrong (each failed before its fix)

def test_threshold_passes_nan_and_its_gradient():
    x = np.array([np.nan, 0.1, 0.5, -1.0], np.float32)
    compare(lambda nn: nn.Threshold(0.1, -2.0), [x])
    compare(lambda nn: nn.Threshold(0.1, 7.0, inplace=True), [x], inplace=True)


def test_loss_grads_at_the_hinge_are_clamp_min_s():
    # equal inputs put every element exactly at the hinge: torch's clamp_min passes the
    # gradient there (margin_ranking, hinge, cosine, triplet); the multi-margin kernels do not
    x = _r(5)
    compare(lambda nn: nn.MarginRankingLoss(), [x, x.copy(), _signs(5)])
    compare(lambda nn: nn.HingeEmbeddingLoss(margin=0.0), [np.zeros((3, 4), np.float32),
                                                           -np.ones((3, 4), np.float32)])
    a = _r(4, 3)
    compare(lambda nn: nn.CosineEmbeddingLoss(margin=1.0), [a, a.copy(), -np.ones(4, np.float32)])
    compare(lambda nn: nn.TripletMarginLoss(margin=1.0, eps=0.0, swap=True),
            [a, a.copy(), a + 1])
    compare(lambda nn: nn.MultiMarginLoss(margin=0.0), [np.zeros((2, 3), np.float32),
                                                        np.array([0, 2])])


def test_nll_cross_entropy_fixes():
    for cls in ("NLLLoss", "CrossEntropyLoss"):
        # every target ignored: NaN loss, zero gradient (not NaN)
        compare(lambda nn: getattr(nn, cls)(), [_r(2, 5), np.array([-100, -100])])
        compare(lambda nn: getattr(nn, cls)(ignore_index=3), [_r(5), np.array(3)])
        compare(lambda nn: getattr(nn, cls)(_w(nn, W5[:4]), reduction="none"),
                [_r(2, 4, 3, 2, 2), _i(2, 3, 2, 2, high=4)])
    # a negative label_smoothing is not smoothing
    compare(lambda nn: nn.CrossEntropyLoss(label_smoothing=-0.1), [_r(4, 5), _i(4, high=5)])
    compare(lambda nn: nn.CrossEntropyLoss(label_smoothing=-0.1), [_r(4, 5), _r(4, 5, seed=3)])


def test_bce_fixes():
    p = np.array([[0.0, 1.0, 0.5, 0.2], [1.0, 0.0, 0.999, 1e-8]], np.float32)
    y = np.array([[0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.3, 1.0]], np.float32)
    # the target's gradient is unclamped (+-inf at 0 and 1); torch's epsilon is a float32 1e-12
    compare(lambda nn: nn.BCELoss(reduction="none"), [p, y])
    compare(lambda nn: nn.BCELoss(reduction="sum"), [p, y], dtype="float64")
    # a float64 weight keeps a float32 loss float32
    compare(lambda nn: nn.BCEWithLogitsLoss(_w(nn, W5[:4].astype(np.float64))),
            [_r(3, 4), _r(3, 4, low=0, high=1)])
    compare(lambda nn: nn.BCELoss(_w(nn, W5[:4].astype(np.float64))),
            [_r(3, 4, low=0, high=1), _r(3, 4, low=0, high=1)])


def test_multilabel_and_multi_margin_fixes():
    # a class listed twice counts twice
    compare(lambda nn: nn.MultiLabelMarginLoss(reduction="none"),
            [_r(2, 5), np.array([[4, 4, -1, 0, 0], [1, 1, 1, -1, 2]])])
    # one sample with a (1,) target keeps that shape
    compare(lambda nn: nn.MultiMarginLoss(reduction="none"), [_r(5), np.array([2])])


def test_ctc_targets_and_lengths_forms():
    lp, tg, _, _ = _ctc(8, 1, 5, 3)
    compare(lambda nn: nn.CTCLoss(), [lp[:, 0], tg[0], np.array(8), np.array(3)])
    compare(lambda nn: nn.CTCLoss(), [lp, tg, (8,), [3]])
    compare(lambda nn: nn.CTCLoss(), [lp, tg.astype(np.int32), np.array([8], np.int32),
                                      np.array([3], np.int32)])


def test_lstm_empty_batch_backward():
    compare(lambda nn: nn.LSTM(3, 4, proj_size=2), [_r(5, 0, 3)])
    compare(lambda nn: nn.GRU(3, 4, bidirectional=True), [_r(5, 0, 3)])


def test_cross_map_lrn2d_is_the_legacy_kernel():
    for size in (2, 3, 4, 5):
        for C in (1, 3, 8):
            compare(lambda nn: nn.CrossMapLRN2d(size, alpha=0.3, beta=0.6, k=1.5),
                    [_r(2, C, 3, 2)])
    compare(lambda nn: nn.CrossMapLRN2d(3), [_r(2, 5, 3, 2)], dtype="float64")


def test_dropout2d_reads_3d_input_as_batched_1d():
    # a (N, C, L) input: whole channels dropped per sample, and torch's warning
    x = np.ones((40, 30, 5), np.float32)
    with pytest.warns(UserWarning) as rec:
        y = ember.nn.Dropout2d(0.5)(ember.tensor(x)).numpy()
    assert (y == y[:, :, :1]).all() and not (y == y[:1]).all()
    with warnings.catch_warnings(record=True) as t_rec:
        warnings.simplefilter("always")
        torch.nn.Dropout2d(0.5)(torch.from_numpy(x))
    assert [str(w.message) for w in rec] == [str(w.message) for w in t_rec]
    with pytest.warns(UserWarning, match="^dropout3d: Received a 3-D input to dropout3d"):
        ember.nn.Dropout3d(0.5)(ember.ones(2, 3, 4))


def test_max_unpool_assigns_repeated_indices():
    # overlapping windows pick the same maximum twice: the value is written, not summed
    def pool_unpool(m, x):
        F = _lib(m).nn.functional
        y, idx = F.max_pool2d(x, 3, stride=1, return_indices=True)
        return m(y, idx, output_size=x.shape[-2:])
    compare(lambda nn: nn.MaxUnpool2d(3, stride=1), [_r(2, 3, 6, 5)], pool_unpool)
    compare(lambda nn: nn.MaxUnpool1d(2), [_r(2, 3, 4), np.array([[[0, 0, 2, 3]] * 3] * 2)])


def test_integer_inputs_the_kernels_take():
    # uint8 upsampling (nearest), int64 average pooling and bool max pooling... as torch
    compare(lambda nn: nn.Upsample(scale_factor=2), [_i(1, 2, 3, 3, high=200, dtype="uint8")])
    compare(lambda nn: nn.AvgPool2d(2), [_i(1, 2, 4, 4, high=50)])
    compare(lambda nn: nn.AvgPool3d(2), [_i(1, 2, 4, 4, 4, high=50)])
    compare(lambda nn: nn.CircularPad1d(1), [np.array([[True, False, True]])])
    compare(lambda nn: nn.Fold((3, 3), 2), [np.ones((2, 8, 4), bool)])


def test_module_reprs():
    for ctor in (lambda nn: nn.NLLLoss2d(), lambda nn: nn.TripletMarginWithDistanceLoss(),
                 lambda nn: nn.CrossMapLRN2d(3), lambda nn: nn.CrossMapLRN2d(5, k=2.0)):
        tm, em = _build(ctor)
        same_repr(tm, em)
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        ember.nn.NLLLoss2d()


# (id, module constructor, inputs, call or None)
ERRORS = [
    # activations: dtypes, arguments
    ("threshold-bool", lambda nn: nn.Threshold(0.1, 1.0), [np.array([True])], None),
    ("hardtanh-bool", lambda nn: nn.ReLU6(), [np.array([True])], None),
    ("glu-int", lambda nn: nn.GLU(), [_i(3, 4)], None),
    ("glu-odd-first", lambda nn: nn.GLU(0), [_i(3, 4)], None),
    ("glu-dim", lambda nn: nn.GLU(3), [_r(3, 4)], None),
    ("prelu-int", lambda nn: nn.PReLU(), [_i(3, 4)], None),
    ("prelu-0d", lambda nn: nn.PReLU(3), [np.array(1.0, np.float32)], None),
    ("softsign-bool", lambda nn: nn.Softsign(), [np.array([True])], None),
    ("silu-int", lambda nn: nn.SiLU(), [_i(3)], None),
    ("mish-int", lambda nn: nn.Mish(), [_i(3)], None),
    ("softplus-int", lambda nn: nn.Softplus(), [_i(3)], None),
    ("logsigmoid-int", lambda nn: nn.LogSigmoid(), [_i(3)], None),
    ("softmin-int", lambda nn: nn.Softmin(1), [_i(3, 4)], None),
    ("softmin-bool", lambda nn: nn.Softmin(1), [np.array([[True]])], None),
    ("logsoftmax-int-dim0", lambda nn: nn.LogSoftmax(0), [_i(3, 4)], None),
    ("softshrink-neg", lambda nn: nn.Softshrink(-1), [_r(3)], None),
    ("softshrink-neg64", lambda nn: nn.Softshrink(-0.5), [_r(3, dtype="float64")], None),
    ("celu-0", lambda nn: nn.CELU(0.0), [_r(3)], None),
    # regression / binary losses
    ("mse-int", lambda nn: nn.MSELoss(), [_i(3, 4), _i(3, 4)], None),
    ("smoothl1-int", lambda nn: nn.SmoothL1Loss(), [_i(3, 4), _i(3, 4)], None),
    ("huber-int", lambda nn: nn.HuberLoss(), [_i(3, 4), _i(3, 4)], None),
    ("softmargin-target-grad", lambda nn: nn.SoftMarginLoss(), [_r(3), _r(3)],
     lambda m, x, y: m(x, y.requires_grad_())),
    ("softmargin-int-input", lambda nn: nn.SoftMarginLoss(), [_i(3), _r(3)], None),
    ("bce-nan", lambda nn: nn.BCELoss(), [np.array([np.nan, 0.5], np.float32),
                                          np.array([1.0, 0.0], np.float32)], None),
    ("bce-int-target", lambda nn: nn.BCELoss(), [_r(3, low=0, high=1), _i(3, high=2)], None),
    ("bce-f64-target", lambda nn: nn.BCELoss(), [_r(3, low=0, high=1),
                                                 _r(3, low=0, high=1, dtype="float64")], None),
    ("bce-int-input", lambda nn: nn.BCELoss(), [_i(3, high=2), _i(3, high=2)], None),
    ("bce-weight-shape", lambda nn: nn.BCELoss(_w(nn, W5[:3])), [_r(3, 4, low=0, high=1),
                                                                 _r(3, 4, low=0, high=1)], None),
    ("bce-weight-grows", lambda nn: nn.BCELoss(_w(nn, np.ones((2, 3, 4), np.float32))),
     [_r(3, 4, low=0, high=1), _r(3, 4, low=0, high=1)], None),
    ("bcel-int-target", lambda nn: nn.BCEWithLogitsLoss(), [_r(3), _i(3, high=2)], None),
    ("bcel-int-input", lambda nn: nn.BCEWithLogitsLoss(), [_i(3), _r(3)], None),
    # class-index losses
    ("nll-int32-target", lambda nn: nn.NLLLoss(), [_r(4, 5), _i(4, dtype="int32")], None),
    ("nll-bool-target", lambda nn: nn.NLLLoss(), [_r(4, 5), np.array([True] * 4)], None),
    ("nll-float-target-2d", lambda nn: nn.NLLLoss(), [_r(4, 5), _r(4, 5)], None),
    ("nll-0d-target", lambda nn: nn.NLLLoss(), [_r(4, 5), np.array(1)], None),
    ("nll-spatial-size", lambda nn: nn.NLLLoss(), [_r(2, 4, 3, 2), _i(2, 3, 3, high=4)], None),
    ("nll-spatial-rank", lambda nn: nn.NLLLoss(), [_r(2, 4, 3, 2), _i(2, 3, high=4)], None),
    ("nll-5d-size", lambda nn: nn.NLLLoss(), [_r(2, 4, 3, 2, 2), _i(2, 3, 2, 3, high=4)], None),
    ("nll-3d-size", lambda nn: nn.NLLLoss(), [_r(2, 4, 3), _i(2, high=4)], None),
    ("nll-2d-weight", lambda nn: nn.NLLLoss(_w(nn, np.ones(3, np.float32))),
     [_r(2, 4, 3, 2), _i(2, 3, 2, high=4)], None),
    ("nll-weight-dtype", lambda nn: nn.NLLLoss(_w(nn, W5)), [_r(4, 5, dtype="float64"),
                                                             _i(4, high=5)], None),
    ("nll-int-input", lambda nn: nn.NLLLoss(), [_i(4, 5), _i(4, high=5)], None),
    ("nll-int-input-spatial", lambda nn: nn.NLLLoss(), [_i(2, 4, 3), _i(2, 3, high=4)], None),
    ("ce-float-target", lambda nn: nn.CrossEntropyLoss(), [_r(4, 5), _r(4)], None),
    ("ce-int-input", lambda nn: nn.CrossEntropyLoss(), [_i(4, 5), _i(4, high=5)], None),
    ("ce-0d-long", lambda nn: nn.CrossEntropyLoss(), [np.array(1.0, np.float32),
                                                      np.array(0)], None),
    ("ce-long-probabilities", lambda nn: nn.CrossEntropyLoss(), [_r(2, 4), _i(2, 4)], None),
    ("ce-prob-weight", lambda nn: nn.CrossEntropyLoss(_w(nn, W5[:3])), [_r(2, 4), _r(2, 4)],
     None),
    # margin losses
    ("multimargin-batch", lambda nn: nn.MultiMarginLoss(), [_r(4, 5), _i(3, high=5)], None),
    ("multimargin-float-target", lambda nn: nn.MultiMarginLoss(), [_r(4, 5), _r(4)], None),
    ("multimargin-3d", lambda nn: nn.MultiMarginLoss(), [_r(2, 4, 5), _i(2, 4, high=5)], None),
    ("multimargin-weight", lambda nn: nn.MultiMarginLoss(weight=_w(nn, W5[:4])),
     [_r(4, 5), _i(4, high=5)], None),
    ("multilabel-range", lambda nn: nn.MultiLabelMarginLoss(),
     [_r(2, 3), np.array([[-1, 3, 7], [1, 2, 0]])], None),
    ("multilabel-size", lambda nn: nn.MultiLabelMarginLoss(), [_r(2, 3), _i(2, 2, high=3)], None),
    ("multilabel-float", lambda nn: nn.MultiLabelMarginLoss(), [_r(2, 3), _r(2, 3)], None),
    ("cosemb-size", lambda nn: nn.CosineEmbeddingLoss(), [_r(5, 3), _r(4, 3), _signs(5)], None),
    ("cosemb-2d-target", lambda nn: nn.CosineEmbeddingLoss(), [_r(2, 5, 3), _r(2, 5, 3),
                                                               _signs(2, 5)], None),
    ("cosemb-0d-target", lambda nn: nn.CosineEmbeddingLoss(), [_r(5, 3), _r(5, 3),
                                                               np.array(1.0, np.float32)], None),
    ("triplet-dims", lambda nn: nn.TripletMarginLoss(), [_r(4, 3), _r(4, 3), _r(3)], None),
    ("tripletdist-dims", lambda nn: nn.TripletMarginWithDistanceLoss(), [_r(4, 3), _r(4, 3),
                                                                         _r(3)], None),
    # CTC
    ("ctc-target-width", lambda nn: nn.CTCLoss(), _ctc(8, 2, 5, 3)[:3] + [np.array([4, 3])],
     None),
    ("ctc-input-lengths-size", lambda nn: nn.CTCLoss(), _ctc(8, 2, 5, 3)[:2] +
     [np.array([8, 8, 8]), np.array([3, 3])], None),
    ("ctc-input-length-big", lambda nn: nn.CTCLoss(), _ctc(8, 2, 5, 3)[:2] +
     [np.array([9, 8]), np.array([3, 3])], None),
    ("ctc-negative-length", lambda nn: nn.CTCLoss(), _ctc(8, 2, 5, 3)[:3] +
     [np.array([3, -1])], None),
    ("ctc-float-lengths", lambda nn: nn.CTCLoss(), _ctc(8, 2, 5, 3)[:2] +
     [np.array([8.0, 8.0]), np.array([3, 3])], None),
    ("ctc-blank", lambda nn: nn.CTCLoss(blank=5), _ctc(8, 2, 5, 3), None),
    ("ctc-4d", lambda nn: nn.CTCLoss(), [_r(8, 2, 5, 1)] + _ctc(8, 2, 5, 3)[1:], None),
    ("ctc-3d-targets", lambda nn: nn.CTCLoss(), [_ctc(8, 2, 5, 3)[0], _i(1, 2, 3, low=1),
                                                 np.array([8, 8]), np.array([3, 3])], None),
    ("ctc-concat-size", lambda nn: nn.CTCLoss(), [_ctc(8, 2, 5, 3)[0], _i(5, low=1),
                                                  np.array([8, 8]), np.array([3, 3])], None),
    ("ctc-int-log-probs", lambda nn: nn.CTCLoss(), [_i(8, 2, 5)] + _ctc(8, 2, 5, 3)[1:], None),
    # recurrent layers
    ("rnn-proj", lambda nn: nn.RNN(3, 4, proj_size=-1), [], None),
    ("gru-proj", lambda nn: nn.GRU(3, 4, proj_size=0), [], None),
    ("rnn-4d", lambda nn: nn.RNN(3, 4), [_r(5, 2, 2, 3)], None),
    ("lstm-4d", lambda nn: nn.LSTM(3, 4), [_r(5, 2, 2, 3)], None),
    ("rnn-dtype", lambda nn: nn.RNN(3, 4), [_r(5, 2, 3, dtype="float64")], None),
    ("lstm-int", lambda nn: nn.LSTM(3, 4), [_i(5, 2, 3)], None),
    ("rnn-empty-seq", lambda nn: nn.RNN(3, 4), [_r(0, 2, 3)], None),
    ("gru-hx-2d", lambda nn: nn.GRU(3, 4), [_r(5, 2, 3), _r(1, 4)], None),
    ("gru-hx-3d-unbatched", lambda nn: nn.GRU(3, 4), [_r(5, 3), _r(1, 1, 4)], None),
    ("lstm-hx-2d", lambda nn: nn.LSTM(3, 4), [_r(5, 2, 3), _r(1, 4), _r(1, 4)],
     lambda m, x, h, c: m(x, (h, c))),
    ("lstm-cx-3d-unbatched", lambda nn: nn.LSTM(3, 4), [_r(5, 3), _r(1, 4), _r(1, 1, 4)],
     lambda m, x, h, c: m(x, (h, c))),
    ("lstm-cx-size", lambda nn: nn.LSTM(3, 4), [_r(5, 2, 3), _r(1, 2, 4), _r(1, 3, 4)],
     lambda m, x, h, c: m(x, (h, c))),
    ("rnncell-batch", lambda nn: nn.RNNCell(3, 4), [_r(2, 3), _r(3, 4)], None),
    ("rnncell-hidden", lambda nn: nn.RNNCell(3, 4), [_r(2, 3), _r(2, 5)], None),
    ("grucell-mixed", lambda nn: nn.GRUCell(3, 4), [_r(3), _r(2, 4)], None),
    ("lstmcell-c-batch", lambda nn: nn.LSTMCell(3, 4), [_r(2, 3), _r(2, 4), _r(3, 4)],
     lambda m, x, h, c: m(x, (h, c))),
    ("lstmcell-hx-3d", lambda nn: nn.LSTMCell(3, 4), [_r(2, 3), _r(2, 4), _r(1, 2, 4)],
     lambda m, x, h, c: m(x, (h, c))),
    ("rnncell-dtype", lambda nn: nn.RNNCell(3, 4), [_r(2, 3, dtype="float64")], None),
    ("grucell-dtype-nobias", lambda nn: nn.GRUCell(3, 4, bias=False),
     [_r(2, 3, dtype="float64")], None),
    # attention
    ("mha-4d", lambda nn: nn.MultiheadAttention(8, 2), [_r(1, 4, 2, 8)],
     lambda m, q: m(q, q, q)),
    ("mha-kv-rank", lambda nn: nn.MultiheadAttention(8, 2), [_r(4, 2, 8), _r(3, 8)],
     lambda m, q, k: m(q, k, k)),
    ("mha-kv-shape", lambda nn: nn.MultiheadAttention(8, 2), [_r(4, 2, 8), _r(3, 2, 8),
                                                              _r(2, 2, 8)], None),
    ("mha-mask-2d", lambda nn: nn.MultiheadAttention(8, 2), [_r(4, 2, 8), _r(4, 4)],
     lambda m, q, a: m(q, q[:3], q[:3], attn_mask=a)),
    ("mha-mask-3d", lambda nn: nn.MultiheadAttention(8, 2), [_r(4, 2, 8), _r(5, 4, 3)],
     lambda m, q, a: m(q, q[:3], q[:3], attn_mask=a)),
    ("mha-mask-4d", lambda nn: nn.MultiheadAttention(8, 2), [_r(4, 2, 8), _r(2, 4, 3, 3)],
     lambda m, q, a: m(q, q[:3], q[:3], attn_mask=a)),
    ("mha-padding-mask", lambda nn: nn.MultiheadAttention(8, 2),
     [_r(4, 2, 8), np.zeros((2, 4), bool)],
     lambda m, q, k: m(q, q[:3], q[:3], key_padding_mask=k)),
    # linear, pooling, padding and the rest
    ("linear-int", lambda nn: nn.Linear(5, 3), [_i(4, 5)], None),
    ("linear-double", lambda nn: nn.Linear(5, 3), [_r(2, 4, 5, dtype="float64")], None),
    ("linear-nobias-double-3d", lambda nn: nn.Linear(5, 3, bias=False),
     [_r(2, 4, 5, dtype="float64")], None),
    ("bilinear-batch", lambda nn: nn.Bilinear(3, 4, 2), [_r(5, 3), _r(4, 4)], None),
    ("unflatten-size", lambda nn: nn.Unflatten(1, 3), [], None),
    ("convtranspose-output-size", lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2),
     [_r(2, 4, 7, 6)], lambda m, x: m(x, output_size=[19, 17])),
    ("maxpool1d-rank", lambda nn: nn.MaxPool1d(2), [_r(3, 3, 3, 3)], None),
    ("maxpool1d-pad", lambda nn: nn.MaxPool1d(2, padding=2), [_r(2, 3, 7)], None),
    ("maxpool1d-small", lambda nn: nn.MaxPool1d(9), [_r(2, 3, 7)], None),
    ("maxpool1d-int", lambda nn: nn.MaxPool1d(2), [_i(2, 3, 7)], None),
    ("maxpool1d-kernel", lambda nn: nn.MaxPool1d((2, 2)), [_r(2, 3, 7)], None),
    ("maxpool2d-dilation", lambda nn: nn.MaxPool2d(2, dilation=0), [_r(2, 3, 7, 6)], None),
    ("maxpool2d-empty", lambda nn: nn.MaxPool2d(2), [_r(2, 0, 7, 6)], None),
    ("maxpool3d-empty", lambda nn: nn.MaxPool3d(2), [_r(2, 3, 0, 6, 5)], None),
    ("maxpool3d-stride", lambda nn: nn.MaxPool3d(2, -1), [_r(2, 3, 7, 6, 5)], None),
    ("avgpool1d-rank", lambda nn: nn.AvgPool1d(2), [_r(3, 3, 3, 3)], None),
    ("avgpool1d-small", lambda nn: nn.AvgPool1d(9), [_r(2, 3, 7)], None),
    ("avgpool1d-kernel", lambda nn: nn.AvgPool1d(0, 1), [_r(2, 3, 7)], None),
    ("avgpool2d-pad", lambda nn: nn.AvgPool2d(2, padding=-1), [_r(2, 3, 7, 6)], None),
    ("avgpool3d-small", lambda nn: nn.AvgPool3d(9), [_r(2, 3, 7, 6, 5)], None),
    ("avgpool3d-kernel", lambda nn: nn.AvgPool3d((2, 2)), [_r(2, 3, 7, 6, 5)], None),
    ("adaptiveavg1d-rank", lambda nn: nn.AdaptiveAvgPool1d(2), [_r(3, 3, 3, 3)], None),
    ("adaptivemax2d-rank", lambda nn: nn.AdaptiveMaxPool2d(2), [_r(3, 3, 3, 3, 3)], None),
    ("adaptiveavg1d-int", lambda nn: nn.AdaptiveAvgPool1d(2), [_i(2, 3, 7)], None),
    ("adaptivemax3d-int", lambda nn: nn.AdaptiveMaxPool3d(2), [_i(2, 3, 4, 4, 4)], None),
    ("adaptiveavg2d-none", lambda nn: nn.AdaptiveAvgPool2d(None), [_r(2, 3, 7, 6)], None),
    ("adaptivemax1d-none", lambda nn: nn.AdaptiveMaxPool1d(None), [_r(2, 3, 7)], None),
    ("adaptiveavg2d-neg", lambda nn: nn.AdaptiveAvgPool2d(-1), [_r(2, 3, 7, 6)], None),
    ("adaptivemax2d-size", lambda nn: nn.AdaptiveMaxPool2d((2, 2, 2)), [_r(2, 3, 7, 6)], None),
    ("adaptivemax1d-empty", lambda nn: nn.AdaptiveMaxPool1d(2), [_r(2, 0, 7)], None),
    ("maxunpool1d-index", lambda nn: nn.MaxUnpool1d(2, stride=1), [_r(1, 1, 2),
                                                                   np.array([[[0, 5]]])], None),
    ("reflectionpad2d-size", lambda nn: nn.ReflectionPad2d(6), [_r(2, 3, 5, 4)], None),
    ("circularpad1d-rank", lambda nn: nn.CircularPad1d(1), [_r(2, 2, 2, 2)], None),
    ("channelshuffle-rank", lambda nn: nn.ChannelShuffle(2), [_r(6)], None),
    ("embedding-float", lambda nn: nn.Embedding(5, 3), [np.array([1.0], np.float32)], None),
    ("instancenorm-stats-channels", lambda nn: nn.InstanceNorm1d(3, track_running_stats=True),
     [_r(2, 4, 5)], None),
    ("groupnorm-groups", lambda nn: nn.GroupNorm(3, 4), [], None),
    ("crossmaplrn-rank", lambda nn: nn.CrossMapLRN2d(3), [_r(5, 3, 2)], None),
    # integer and bool inputs the kernels do not take
    ("upsample-nearest-int", lambda nn: nn.Upsample(scale_factor=2), [_i(1, 2, 3, 3)], None),
    ("upsample-nearest1d-int", lambda nn: nn.Upsample(scale_factor=2), [_i(1, 2, 3)], None),
    ("upsample-area3d-int", lambda nn: nn.Upsample(scale_factor=2, mode="area"),
     [_i(1, 2, 2, 2, 2)], None),
    ("fold-int", lambda nn: nn.Fold((3, 3), 2), [_i(2, 8, 4)], None),
    ("unfold-int", lambda nn: nn.Unfold(2), [_i(2, 2, 3, 3)], None),
    ("maxpool2d-bool", lambda nn: nn.MaxPool2d(2), [np.ones((2, 2, 4, 4), bool)], None),
    ("avgpool2d-int32", lambda nn: nn.AvgPool2d(2), [_i(2, 2, 4, 4, dtype="int32")], None),
    ("avgpool3d-half", lambda nn: nn.AvgPool3d(2), [_r(1, 2, 4, 4, 4, dtype="float16")], None),
    ("maxunpool3d-int", lambda nn: nn.MaxUnpool3d(2), [_i(1, 1, 2, 2, 2),
                                                       np.zeros((1, 1, 2, 2, 2), np.int64)], None),
    ("reflectionpad1d-bool", lambda nn: nn.ReflectionPad1d(1), [np.ones((2, 3), bool)], None),
]


@pytest.mark.parametrize("name,ctor,inputs,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, ctor, inputs, call):
    if call is None and not inputs:
        call = lambda m: None   # noqa: E731 - the constructor raises
    raises_like_torch(ctor, inputs, call)
