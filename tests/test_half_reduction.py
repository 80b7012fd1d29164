"""float16/bfloat16 reductions, softmax family, scans and losses bit for bit as torch's CPU
kernels compute them: sums in a float32 accumulator rounded once, var/std in float64, products
rounded every multiply in torch's vectorised order, softmax sums in torch's lane order, losses
with torch's kernels' (measured) roundings and nll_loss's cascade of half partial sums (see
tests/half_oracle.py). A scalar loss is compared as a 1-element tensor (`one`): the oracle
sends the upstream gradient as an array of at least one dimension."""
import numpy as np
import pytest
import torch

import ember
from half_oracle import HALF_DTYPES, assert_same_values, compare, sample

_M = sample(4096, 0, 3.0).reshape(64, 64)          # rows of 64: torch's lane order shows
_T = sample(4096, 5, 3.0).reshape(64, 64)
_M3 = sample(4 * 8 * 16, 9, 2.0).reshape(4, 8, 16)   # a middle dim, inner size 16 (< 32)
_ODD = sample(64 * 45, 3).reshape(64, 45)          # a tail past whole lanes
_POS = (np.abs(sample(256, 3, 1.0)) + 0.01).reshape(16, 16)
_PROB = 1 / (1 + np.exp(-sample(256, 4, 2.0).reshape(16, 16)))
_X37, _Y37 = sample(37, 20), sample(37, 21)          # 32 vectorised elements and a tail
_SIGN = np.sign(sample(256, 7)).reshape(16, 16).astype(np.float32)
_IDX = np.random.default_rng(8).integers(0, 64, 64)
_IDX_IGNORED = np.where(np.arange(64) % 5 == 0, -100, _IDX)
_rng = np.random.default_rng(11)
_BATCH = _rng.integers(0, 7, 5000)                   # nll_loss's cascade over 5000 targets
_BATCH[_rng.random(5000) < 0.2] = -100
_SPATIAL = sample(3 * 5 * 6 * 7, 12).reshape(3, 5, 6, 7)
_SPATIAL_IDX = _rng.integers(0, 5, (3, 6, 7))
_SPATIAL_IDX[1, 2] = -100


def one(y):
    return y.reshape(1)


def F(t):
    return t.nn.functional


def _w(t, x, values):
    return t.from_numpy(np.ascontiguousarray(values, np.float32)).to(x.dtype)


# name: (fn, inputs[, dtypes]); every input gets a gradient. (A case that one dtype already
# matched before, such as float16 means, which NumPy ran in float32, tests the other alone.)
_BF16, _F16 = ("bfloat16",), ("float16",)
CASES = {
    # sums and means: a float32 accumulator, rounded once (a mean after dividing)
    "sum dim 0": (lambda t, x: x.sum(0), [_M]),
    "sum dims (0, 2)": (lambda t, x: x.sum((0, 2)), [_M3]),
    "sum of a transpose": (lambda t, x: x.t().sum(1), [_M]),
    "sum dtype= from float32": (lambda t, x: (x.float() * 1.001).sum(0, dtype=x.dtype), [_M]),
    "mean dim 0": (lambda t, x: x.mean(0), [_M], _BF16),
    "mean keepdim": (lambda t, x: x.mean((1, 2), keepdim=True), [_M3], _BF16),
    "mean dtype= from float32":   # torch: the float32 sum of the float32 input, divided
        (lambda t, x: (x.float() * 1.001).mean(1, dtype=x.dtype), [_M]),
    "nansum": (lambda t, x: t.nansum(x, 0), [np.where(_M > 4, np.nan, _M * 300)]),
    "nanmean": (lambda t, x: t.nanmean(x, 0), [np.where(_M > 4, np.nan, _M * 300)]),
    # products: every multiply rounded, in torch's vectorised order
    "prod dim 1 of 100": (lambda t, x: (1 + x / 60).prod(1), [sample(6400, 3).reshape(64, 100)]),
    "prod dim 1 of 200": (lambda t, x: (1 + x / 60).prod(1), [sample(12800, 3).reshape(64, 200)]),
    "prod with zeros": (lambda t, x: x.prod(1), [np.where(np.abs(_M) < 0.3, 0, 1 + _M / 40)]),
    "prod of all": (lambda t, x: one(x.prod()), [1 + sample(300, 4, 0.02)]),
    # var/std: float64 (torch's Welford); their gradients in torch's order of ops
    "var dim 1": (lambda t, x: x.var(1), [_M + 2]),
    "var dims (0, 2)": (lambda t, x: x.var((0, 2)), [_M3]),
    "std dim 0 correction 0": (lambda t, x: x.std(0, correction=0), [_M + 2]),
    "std of all": (lambda t, x: one(x.std()), [_M]),
    "var_mean": (lambda t, x: sum(t.var_mean(x, 1)), [_M]),
    "std_mean": (lambda t, x: sum(t.std_mean(x, (0, 2), keepdim=True)), [_M3]),
    # torch.norm: its gradient one op at a time
    "norm p=3": (lambda t, x: x.norm(p=3, dim=1), [_M]),
    "norm p=1.5 zero rows": (lambda t, x: x.norm(p=1.5, dim=1), [np.where(_M > 2, 0, _M)]),
    "norm p=0.5": (lambda t, x: x.norm(p=0.5, dim=1), [_M]),
    "norm p=4 of all": (lambda t, x: one(x.norm(p=4)), [_M]),
    "dist p=2": (lambda t, x, y: one(t.dist(x, y)), [_M[:16, :8], _T[:16, :8]]),
    "dist p=3": (lambda t, x, y: one(t.dist(x, y, 3)), [_M[:16, :8], _T[:16, :8]], _F16),
    # renorm: norms, factors and gradient in float32 (torch's renorm_backward)
    "renorm": (lambda t, x: t.renorm(x, 2, 0, 3.0), [_M[:16, :8]]),
    "renorm p=1 dim 1": (lambda t, x: t.renorm(x, 1, 1, 20.0), [_M[:16, :8]]),
    # logsumexp: torch's ops, each rounded to the half type
    "logsumexp dim 1": (lambda t, x: t.logsumexp(x, 1), [_M]),
    "logsumexp dims (0, 2)": (lambda t, x: t.logsumexp(x, (0, 2)), [_M3]),
    # softmax family: float32 kernels, rounded once
    "softmax dim 1": (lambda t, x: t.softmax(x, 1), [_M]),
    "softmax dim 0": (lambda t, x: t.softmax(x, 0), [_M]),
    "softmax middle dim": (lambda t, x: t.softmax(x, 1), [_M3]),
    "softmax width 45": (lambda t, x: t.softmax(x, 1), [_ODD]),
    "softmax width 20": (lambda t, x: t.softmax(x, 1), [_M[:, :20]]),
    "softmax of -inf": (lambda t, x: t.softmax(x, 1), [np.where(_M > 3, -np.inf, _M)]),
    "softmin": (lambda t, x: F(t).softmin(x, 1), [_M]),
    "log_softmax dim 1": (lambda t, x: t.log_softmax(x, 1), [_M]),
    "log_softmax dim 0": (lambda t, x: t.log_softmax(x, 0), [_M * 10]),
    "log_softmax middle dim": (lambda t, x: t.log_softmax(x, 1), [_M3]),
    "log_softmax width 45": (lambda t, x: t.log_softmax(x, 1), [_ODD]),
    # logcumsumexp: a float32 running value; its gradient torch's ops one by one
    "logcumsumexp dim 1": (lambda t, x: x.logcumsumexp(1), [_M]),
    "logcumsumexp dim 0": (lambda t, x: x.logcumsumexp(0), [_M * 2]),
    # losses
    "mse_loss mean": (lambda t, x, y: one(F(t).mse_loss(x, y)), [_M, _T]),
    "mse_loss 37": (lambda t, x, y: one(F(t).mse_loss(x, y)), [_X37 * 30, _Y37]),
    "l1_loss mean": (lambda t, x, y: one(F(t).l1_loss(x, y)), [_M, _T], _BF16),
    "smooth_l1_loss beta 0.3": (lambda t, x, y: F(t).smooth_l1_loss(x, y, beta=0.3,
                                                                   reduction="none"), [_M, _T]),
    "smooth_l1_loss mean": (lambda t, x, y: one(F(t).smooth_l1_loss(x, y)), [_M, _T]),
    "smooth_l1_loss 37": (lambda t, x, y: one(F(t).smooth_l1_loss(x, y, beta=0.7)),
                          [_X37 * 3, _Y37]),
    "huber_loss delta 0.7": (lambda t, x, y: F(t).huber_loss(x, y, delta=0.7, reduction="none"),
                             [_M, _T]),
    "huber_loss mean": (lambda t, x, y: one(F(t).huber_loss(x, y, delta=0.7)), [_M, _T]),
    "huber_loss 37": (lambda t, x, y: one(F(t).huber_loss(x, y, delta=0.37)), [_X37, _Y37]),
    "cross_entropy": (lambda t, x: one(F(t).cross_entropy(x, t.from_numpy(_IDX))), [_M]),
    "cross_entropy sum": (lambda t, x: one(F(t).cross_entropy(x, t.from_numpy(_IDX),
                                                             reduction="sum")), [_M]),
    "cross_entropy weight ignore smoothing": (lambda t, x: one(F(t).cross_entropy(
        x, t.from_numpy(_IDX_IGNORED), weight=_w(t, x, np.abs(_M[0]) + 0.1),
        label_smoothing=0.05)), [_M]),
    "cross_entropy spatial": (lambda t, x: one(F(t).cross_entropy(
        x, t.from_numpy(_SPATIAL_IDX), weight=_w(t, x, [0.3, 1, 2, 0.7, 1.4]),
        label_smoothing=0.15)), [_SPATIAL]),
    "cross_entropy probabilities": (lambda t, x: one(F(t).cross_entropy(
        x, _w(t, x, np.abs(_T) / np.abs(_T).sum(1, keepdims=True)), label_smoothing=0.1)),
        [_M]),
    "nll_loss 5000": (lambda t, x: one(F(t).nll_loss(x, t.from_numpy(_BATCH))),
                      [sample(35000, 15).reshape(5000, 7)]),
    "nll_loss 5000 weight": (lambda t, x: one(F(t).nll_loss(
        x, t.from_numpy(_BATCH), weight=_w(t, x, [0.3, 1, 2, 0.7, 1.4, 0.9, 1.1]))),
        [sample(35000, 15).reshape(5000, 7)]),
    "binary_cross_entropy": (lambda t, x, y: one(F(t).binary_cross_entropy(x, y)),
                             [_PROB, _PROB.T]),
    "binary_cross_entropy weight": (lambda t, x, y: F(t).binary_cross_entropy(
        x, y, weight=_w(t, x, _POS), reduction="none"), [_PROB, _PROB.T]),
    "binary_cross_entropy_with_logits": (lambda t, x, y: one(
        F(t).binary_cross_entropy_with_logits(x, y)), [_M, (_T > 0).astype(np.float32)]),
    "binary_cross_entropy_with_logits pos_weight": (lambda t, x, y: F(
        t).binary_cross_entropy_with_logits(x, y, weight=_w(t, x, _POS),
                                            pos_weight=_w(t, x, _POS[0] * 3),
                                            reduction="none"), [_M[:16, :16], _PROB]),
    "soft_margin_loss": (lambda t, x: F(t).soft_margin_loss(x, _w(t, x, _SIGN),
                                                            reduction="none"), [_M[:16, :16]]),
    "soft_margin_loss mean": (lambda t, x: one(F(t).soft_margin_loss(x, _w(t, x, _SIGN))),
                              [_M[:16, :16]]),
    "gaussian_nll_loss full": (lambda t, x, y, v: one(F(t).gaussian_nll_loss(x, y, v,
                                                                            full=True)),
                               [_T[:16, :16] / 3, _M[:16, :16], _POS]),
    "cosine_embedding_loss": (lambda t, x, y: F(t).cosine_embedding_loss(
        x, y, _w(t, x, np.sign(sample(64, 7))), margin=0.1, reduction="none"), [_M / 4, _T / 4]),
}


@pytest.mark.parametrize("case, dtype", [(case, dtype) for case, spec in CASES.items()
                                         for dtype in (spec[2:] or (HALF_DTYPES,))[0]])
def test_bit_identical(case, dtype):
    fn, inputs = CASES[case][:2]
    compare(fn, dtype, inputs, grad=True)


@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_out_and_dtype_arguments(dtype):
    """out= of a half type makes sum/mean/nansum/var compute as the half dtype= would; sums
    of another dtype cast the input first, means divide the float32 sum (torch's order)."""
    x = sample(4096, 0, 3.0).reshape(64, 64) * np.float32(1.001)
    results = {}
    for lib in (torch, ember):
        t = lib.from_numpy(x)
        half = getattr(lib, dtype)
        got = []
        for fn in (lib.sum, lib.mean, lib.nansum, lib.var, lib.std):
            out = lib.empty(64, dtype=half)
            fn(t, 1, out=out)
            got.append(out.float().numpy())
        got.append(lib.cumsum(t, 1, dtype=half).float().numpy())
        got.append(lib.prod(t[:, :8], 1, dtype=half).float().numpy())
        results[lib] = got
    for a, b in zip(results[torch], results[ember]):
        assert_same_values(a, b, dtype)


@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("loss", ["multi_margin_loss", "multilabel_margin_loss", "ctc_loss"])
def test_float32_64_only_losses_refuse_half_types(dtype, loss):
    """torch has no half-type kernel for these: its NotImplementedError, word for word."""
    messages = []
    for lib in (torch, ember):
        x = lib.ones(4, 5, dtype=getattr(lib, dtype))
        call = {"multi_margin_loss": lambda: F(lib).multi_margin_loss(x, lib.tensor([0, 1, 2, 3])),
                "multilabel_margin_loss": lambda: F(lib).multilabel_margin_loss(
                    x, lib.zeros(4, 5, dtype=lib.int64)),
                "ctc_loss": lambda: F(lib).ctc_loss(x.reshape(4, 1, 5), lib.tensor([[1, 2]]),
                                                    [4], [2])}[loss]
        with pytest.raises(NotImplementedError) as err:
            call()
        messages.append(str(err.value))
    assert messages[0] == messages[1]


def test_float32_logcumsumexp_accumulates_in_float64():
    """torch's CPU scan runs float32 in a float64 accumulator (and rounds each element once):
    a float32 running value differed from it in about half the elements."""
    x = sample(4096, 0, 3.0).reshape(64, 64)
    for dim in (0, 1):
        want = torch.logcumsumexp(torch.from_numpy(x), dim).numpy()
        got = ember.logcumsumexp(ember.from_numpy(x), dim).numpy()
        np.testing.assert_array_equal(got, want)


def test_soft_margin_loss_overflows_as_torch():
    """torch computes log1p(exp(-y x)): inf past float32's exp range, and a NaN gradient."""
    values = []
    for lib in (torch, ember):
        x = lib.tensor([-100.0, 100.0, 3.0], requires_grad=True)
        loss = F(lib).soft_margin_loss(x, lib.tensor([1.0, 1.0, -1.0]), reduction="none")
        loss.sum().backward()
        values.append((loss.detach().numpy(), x.grad.numpy()))
    # (exp(-100) is subnormal in float32, where NumPy's and SLEEF's exp differ in the last bits)
    np.testing.assert_allclose(values[1][0], values[0][0], rtol=1e-6, atol=1e-43)
    np.testing.assert_allclose(values[1][1], values[0][1], rtol=1e-6, atol=1e-43,
                               equal_nan=True)


def test_renorm_is_one_node():
    names = []
    for lib in (torch, ember):
        x = lib.ones(3, 4, requires_grad=True)
        fn = lib.renorm(x, 2, 0, 1.0).grad_fn
        names.append([fn.name(), [n.name() for n, _ in fn.next_functions]])
    assert names[0] == names[1]


_NORMS = {
    "vector_norm": lambda t, x: t.linalg.vector_norm(x.reshape(64, 64), dim=1),
    "vector_norm all": lambda t, x: t.linalg.vector_norm(x).reshape(1),
    "vector_norm 3": lambda t, x: t.linalg.vector_norm(x.reshape(64, 64), ord=3, dim=1),
    "matrix_norm": lambda t, x: t.linalg.matrix_norm(x.reshape(4, 32, 32)),
    "normalize": lambda t, x: t.nn.functional.normalize(x.reshape(64, 64)),
    "cosine_similarity": lambda t, x: t.nn.functional.cosine_similarity(
        x.reshape(64, 64), x.flip(0).reshape(64, 64)),
    "pairwise_distance": lambda t, x: t.nn.functional.pairwise_distance(
        x.reshape(64, 64), x.flip(0).reshape(64, 64)),
}


@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("name", sorted(_NORMS))
def test_vector_norms_accumulate_in_float32(dtype, name):
    """linalg's p-norms add half types in float32; the 2-norm's gradient is (x / r) * g."""
    compare(_NORMS[name], dtype, grad=True)
