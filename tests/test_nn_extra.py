"""Lazy modules, fractional max pooling and AdaptiveLogSoftmaxWithLoss against torch.

Lazy modules: reprs and state_dicts before and after the first forward, the class they become,
parameter shapes and initialisation, loading a state_dict into an uninitialized module (then
outputs and gradients match torch's with the loaded parameters). Fractional max pooling: the
same `_random_samples` in both libraries gives the same values and indices exactly, gradients
reach the maxima. Adaptive softmax: torch's parameters loaded through state_dict, then output,
loss, gradients, log_prob and predict compared. Errors: the exception types torch raises."""
import copy
import io

import numpy as np
import pytest
import torch

import ember
from nn_helpers import copy_state, same_repr
from oracle import assert_close, check_raises, make_array, same_message, to_ember, to_torch


# =============================================================================================
# Lazy modules

# (id, constructor, input shape, the class it becomes)
LAZY = [
    ("Linear", lambda nn: nn.LazyLinear(3), (2, 5), "Linear"),
    ("Linear-3d-nobias", lambda nn: nn.LazyLinear(4, bias=False), (2, 3, 5), "Linear"),
    ("Conv1d", lambda nn: nn.LazyConv1d(4, 3, stride=2), (2, 3, 9), "Conv1d"),
    ("Conv1d-unbatched", lambda nn: nn.LazyConv1d(4, 3), (3, 7), "Conv1d"),
    ("Conv2d-groups", lambda nn: nn.LazyConv2d(4, 3, padding=1, groups=2), (2, 4, 5, 5),
     "Conv2d"),
    ("Conv2d-reflect", lambda nn: nn.LazyConv2d(3, 2, padding=1, bias=False,
                                                padding_mode="reflect"), (1, 2, 4, 4),
     "Conv2d"),
    ("Conv3d", lambda nn: nn.LazyConv3d(2, 2, dilation=(1, 2, 1)), (1, 3, 4, 5, 4), "Conv3d"),
    ("ConvTranspose1d", lambda nn: nn.LazyConvTranspose1d(4, 3, stride=2, output_padding=1),
     (2, 3, 5), "ConvTranspose1d"),
    ("ConvTranspose2d", lambda nn: nn.LazyConvTranspose2d(4, 3, groups=2, dilation=2),
     (2, 2, 4, 4), "ConvTranspose2d"),
    ("ConvTranspose3d", lambda nn: nn.LazyConvTranspose3d(2, 2, bias=False), (1, 3, 3, 3, 3),
     "ConvTranspose3d"),
    ("BatchNorm1d", lambda nn: nn.LazyBatchNorm1d(), (6, 3), "BatchNorm1d"),
    ("BatchNorm2d", lambda nn: nn.LazyBatchNorm2d(momentum=None), (4, 3, 2, 2), "BatchNorm2d"),
    ("BatchNorm3d-noaffine", lambda nn: nn.LazyBatchNorm3d(affine=False), (2, 2, 2, 2, 3),
     "BatchNorm3d"),
    ("BatchNorm2d-nobias", lambda nn: nn.LazyBatchNorm2d(bias=False), (4, 3, 2, 2),
     "BatchNorm2d"),
    ("InstanceNorm1d", lambda nn: nn.LazyInstanceNorm1d(), (2, 3, 5), "InstanceNorm1d"),
    ("InstanceNorm2d", lambda nn: nn.LazyInstanceNorm2d(eps=1e-3), (2, 3, 4, 4),
     "InstanceNorm2d"),
    ("InstanceNorm3d-nostats", lambda nn: nn.LazyInstanceNorm3d(track_running_stats=False),
     (2, 2, 3, 3, 3), "InstanceNorm3d"),
]
LAZY_IDS = [c[0] for c in LAZY]


def _state_summary(m):
    """Key -> repr for uninitialized entries, shape for the others."""
    return {k: repr(v) if "Uninitialized" in type(v).__name__ else tuple(v.shape)
            for k, v in m.state_dict().items()}


@pytest.mark.parametrize("name,ctor,shape,becomes", LAZY, ids=LAZY_IDS)
def test_lazy_before_and_after_first_forward(name, ctor, shape, becomes):
    tm, em = ctor(torch.nn), ctor(ember.nn)
    same_repr(tm, em)
    assert _state_summary(em) == _state_summary(tm)
    assert em.has_uninitialized_params()
    x = make_array(shape)
    tm(to_torch(x))
    em(to_ember(x))
    assert type(em) is getattr(ember.nn, becomes)
    same_repr(tm, em)
    assert _state_summary(em) == _state_summary(tm)
    assert [(k, type(v).__name__) for k, v in em.named_parameters()] == \
        [(k, type(v).__name__) for k, v in tm.named_parameters()]
    # the initialisation hooks are gone: later calls take the plain path
    assert not em._forward_pre_hooks and not em._load_state_dict_pre_hooks
    assert not hasattr(em, "_initialize_hook")


@pytest.mark.parametrize("name,ctor,shape,becomes", LAZY, ids=LAZY_IDS)
def test_lazy_loaded_from_torch_matches(name, ctor, shape, becomes):
    """An initialised module's state loaded into an uninitialized lazy module of each library:
    the load materializes the tensors (the class changes only at the first forward, and the
    inferred size stays 0, as in torch); then outputs, gradients and running statistics
    match."""
    rng = np.random.default_rng(1)
    x = make_array(shape, rng=rng)
    ref = ctor(torch.nn)
    ref(to_torch(x))
    with torch.no_grad():   # non-trivial affine parameters
        for p in ref.parameters():
            p.copy_(torch.from_numpy(make_array(tuple(p.shape), rng=rng)))
    tm, em = ctor(torch.nn), ctor(ember.nn)
    tm.load_state_dict(ref.state_dict())
    copy_state(ref, em)
    assert type(em).__name__ == "Lazy" + becomes
    assert em.has_uninitialized_params() == tm.has_uninitialized_params()
    assert _state_summary(em) == _state_summary(tm)
    same_repr(tm, em)
    tx, ex = to_torch(x, True), to_ember(x, True)
    try:
        to = tm(tx)
    except ValueError:   # torch's lazy instance norms keep num_features=0 after a load
        with pytest.raises(ValueError, match="num_features"):
            em(ex)
        return
    eo = em(ex)
    assert type(em) is getattr(ember.nn, becomes)
    same_repr(tm, em)
    assert_close(to, eo, rtol=1e-5, atol=1e-5)
    up = make_array(tuple(to.shape), rng=rng)
    to.backward(to_torch(up))
    eo.backward(to_ember(up))
    assert_close(tx.grad, ex.grad, rtol=1e-4, atol=1e-5, what="input grad")
    ep = dict(em.named_parameters())
    for k, p in tm.named_parameters():
        assert_close(p.grad, ep[k].grad, rtol=1e-4, atol=1e-5, what=f"grad of {k}")
    for (k, tv), (k2, ev) in zip(tm.state_dict().items(), em.state_dict().items()):
        assert k == k2
        assert_close(tv, ev, rtol=1e-5, atol=1e-6, what=k)


def test_lazy_initialisation_is_the_regular_modules():
    """After the first forward the parameters hold the regular class's initialisation: the
    same values as the regular module built from the same seed."""
    for lazy, regular, shape in [
            (lambda: ember.nn.LazyLinear(6), lambda: ember.nn.Linear(5, 6), (2, 5)),
            (lambda: ember.nn.LazyConv2d(4, 3), lambda: ember.nn.Conv2d(2, 4, 3), (1, 2, 5, 5)),
            (lambda: ember.nn.LazyConvTranspose1d(4, 3, groups=2),
             lambda: ember.nn.ConvTranspose1d(2, 4, 3, groups=2), (1, 2, 5))]:
        ember.manual_seed(3)
        m = lazy()
        m(ember.ones(*shape))
        ember.manual_seed(3)
        r = regular()
        for (k, a), (_, b) in zip(m.state_dict().items(), r.state_dict().items()):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    m = ember.nn.LazyBatchNorm1d().eval()
    m(ember.randn(4, 3))
    assert m.weight.tolist() == [1.0] * 3 and m.bias.tolist() == [0.0] * 3
    assert m.running_mean.tolist() == [0.0] * 3 and m.running_var.tolist() == [1.0] * 3


def test_lazy_state_dict_values_and_lazy_to_lazy_load():
    for lib in (torch, ember):
        m = lib.nn.LazyLinear(3)
        sd = m.state_dict()
        assert [type(v) for v in sd.values()] == [lib.nn.UninitializedParameter] * 2
        assert list(m.state_dict(keep_vars=True).values())[0] is m.weight
        b = lib.nn.LazyBatchNorm1d().state_dict()
        assert [type(v).__name__ for v in b.values()] == [
            "UninitializedParameter", "UninitializedParameter", "UninitializedBuffer",
            "UninitializedBuffer", "Tensor"]
        other = lib.nn.LazyLinear(3)   # uninitialized into uninitialized: nothing to copy
        assert not other.load_state_dict(m.state_dict()).missing_keys
        assert type(other.weight) is lib.nn.UninitializedParameter
        # a partial load materializes what it names; forward then fills in the rest
        part = lib.nn.LazyLinear(3)
        part.load_state_dict({"weight": lib.ones(3, 4)}, strict=False)
        assert type(part.weight) is lib.nn.Parameter and \
            type(part.bias) is lib.nn.UninitializedParameter
        assert part.weight.tolist() == [[1.0] * 4] * 3


def test_lazy_load_then_forward_keeps_loaded_values_and_checks_features():
    tm, em = torch.nn.LazyLinear(3), ember.nn.LazyLinear(3)
    src = torch.nn.Linear(4, 3)
    tm.load_state_dict(src.state_dict())
    copy_state(src, em)
    same_repr(tm, em)   # in_features stays 0 until the first forward
    x = make_array((2, 4))
    assert_close(tm(to_torch(x)), em(to_ember(x)))
    same_repr(tm, em)
    np.testing.assert_array_equal(em.weight.detach().numpy(), src.weight.detach().numpy())
    for lib in (torch, ember):   # the loaded weight disagrees with the input's features
        m = lib.nn.LazyLinear(3)
        m.load_state_dict({k: lib.tensor(v.numpy()) for k, v in src.state_dict().items()})
        with pytest.raises(AssertionError, match="in_features inferred from input: 5"):
            m(lib.ones(1, 5))


def test_lazy_dtype_conversion_deepcopy_and_pickle_before_forward():
    for lib in (torch, ember):
        m = lib.nn.LazyLinear(3).double()
        assert type(m.weight) is lib.nn.UninitializedParameter and m.weight.dtype == lib.float64
        assert m(lib.ones(2, 4, dtype=lib.float64)).dtype == lib.float64
        assert m.weight.dtype == lib.float64 and tuple(m.weight.shape) == (3, 4)
        bn = lib.nn.LazyBatchNorm1d().double()
        assert type(bn.running_mean) is lib.nn.UninitializedBuffer
        assert bn.running_mean.dtype == lib.float64
        bn(lib.ones(3, 2, dtype=lib.float64))
        assert bn.running_var.dtype == lib.float64 and type(bn).__name__ == "BatchNorm1d"
        m = lib.nn.LazyLinear(3, dtype=lib.float64)
        assert m.weight.dtype == lib.float64
        c = lib.nn.LazyConv1d(2, 2)
        d = copy.deepcopy(c)
        assert repr(d) == repr(c) and type(d.weight) is lib.nn.UninitializedParameter
        d(lib.ones(1, 3, 4))
        assert type(d).__name__ == "Conv1d" and type(c).__name__ == "LazyConv1d"
        c(lib.ones(1, 5, 4))   # the copy's initialisation left the original lazy
        assert repr(c) == "Conv1d(5, 2, kernel_size=(2,), stride=(1,))"
        buf = io.BytesIO()
        lib.save(lib.nn.LazyBatchNorm1d(), buf)
        buf.seek(0)
        m = lib.load(buf, weights_only=False)
        assert type(m).__name__ == "LazyBatchNorm1d" and type(m.weight).__name__ == \
            "UninitializedParameter"
        m(lib.ones(2, 3))
        assert repr(m) == "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, " \
            "track_running_stats=True)"


def test_lazy_sequential_network():
    def net(nn):
        return nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(),
                             nn.LazyLinear(5))
    tm, em = net(torch.nn), net(ember.nn)
    same_repr(tm, em)
    assert _state_summary(em) == _state_summary(tm)
    x = make_array((2, 3, 6, 6))
    tm(to_torch(x))
    assert em(to_ember(x)).shape == (2, 5)
    same_repr(tm, em)
    assert _state_summary(em) == _state_summary(tm)


def test_uninitialized_parameter_and_buffer():
    for lib in (torch, ember):
        p = lib.nn.UninitializedParameter()
        assert repr(p) == "<UninitializedParameter>" and p.requires_grad
        assert p.dtype == lib.float32 and lib.nn.parameter.is_lazy(p)
        b = lib.nn.UninitializedBuffer()
        assert repr(b) == "<UninitializedBuffer>" and not b.requires_grad and b.persistent
        b.materialize((2, 3), dtype=lib.float64)
        assert type(b) is lib.Tensor and tuple(b.shape) == (2, 3) and b.dtype == lib.float64
        assert not lib.nn.parameter.is_lazy(b)

        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.kept = lib.nn.UninitializedBuffer()
                self.scratch = lib.nn.UninitializedBuffer(persistent=False)

        m = M()
        assert list(m._buffers) == ["kept", "scratch"]
        assert m._non_persistent_buffers_set == {"scratch"}
        m.kept.materialize((2,))
        m.scratch.materialize((2,))
        assert list(m.state_dict()) == ["kept"]


LAZY_ERRORS = [
    lambda t: t.nn.LazyConv2d(4, 3, groups=2)(t.ones(1, 3, 5, 5)),
    lambda t: t.nn.LazyConv2d(4, 3)(t.ones(3, 5, 5, 5, 5)),
    lambda t: t.nn.LazyConv1d(4, 3)(t.ones(3)),
    lambda t: t.nn.LazyConvTranspose2d(4, 3, padding_mode="reflect"),
    lambda t: t.nn.LazyBatchNorm2d()(t.ones(2, 3)),
    lambda t: t.nn.LazyInstanceNorm2d()(t.ones(2, 3)),
    lambda t: t.nn.Linear(4, 3).load_state_dict(t.nn.LazyLinear(3).state_dict()),
    lambda t: t.nn.LazyLinear(3).load_state_dict({"weight": t.ones(3, 5)}),
    lambda t: t.nn.LazyLinear(3).weight.shape,
    lambda t: t.nn.LazyLinear(3).weight + 1,
    lambda t: 2 * t.nn.LazyLinear(3).weight,
    lambda t: t.nn.LazyLinear(3).weight.detach(),
    lambda t: t.nn.LazyLinear(3).weight.view(-1),
    lambda t: t.nn.LazyLinear(3).weight.numpy(),
    lambda t: t.nn.LazyLinear(3).requires_grad_(False),
    lambda t: t.nn.LazyLinear(3).weight.share_memory_(),
    lambda t: t.nn.LazyLinear(3).forward(t.ones(2, 4)),
]


@pytest.mark.parametrize("fn", LAZY_ERRORS, ids=range(len(LAZY_ERRORS)))
def test_lazy_errors(fn):
    check_raises(fn)


# =============================================================================================
# Fractional max pooling

FMP = [
    # (D, input shape, kernel, output_size, output_ratio, dtype)
    (2, (2, 3, 9, 11), 3, (4, 5), None, "float32"),
    (2, (2, 3, 10, 10), (2, 3), None, (0.5, 0.7), "float64"),
    (2, (3, 8, 7), 2, 4, None, "float32"),                    # unbatched
    (2, (1, 2, 33, 29), 2, (20, 27), None, "float32"),        # overlapping windows
    (2, (1, 1, 6, 6), 2, (1, 5), None, "float32"),            # one output along H
    (3, (2, 2, 7, 6, 8), 2, (3, 4, 5), None, "float32"),
    (3, (2, 5, 6, 7), (1, 2, 3), None, (0.5, 0.5, 0.5), "float64"),   # unbatched
    (3, (1, 2, 9, 9, 9), 3, 6, None, "float32"),
]


def _fmp_args(D, shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = make_array(shape, dtype, rng)
    n = 1 if len(shape) == D + 1 else shape[0]
    c = shape[-D - 1]
    return x, rng.random((n, c, D)).astype(dtype)


@pytest.mark.parametrize("D,shape,k,out,ratio,dtype", FMP)
@pytest.mark.parametrize("ties", [False, True])
def test_fractional_max_pool_matches_torch(D, shape, k, out, ratio, dtype, ties):
    x, s = _fmp_args(D, shape, dtype)
    if ties:   # few distinct values: the first maximum in each window must win
        x = np.round(x).astype(dtype)
    tx, ex = to_torch(x, True), to_ember(x, True)
    tf = getattr(torch.nn.functional, f"fractional_max_pool{D}d")
    ef = getattr(ember.nn.functional, f"fractional_max_pool{D}d")
    tv, ti = tf(tx, k, output_size=out, output_ratio=ratio, return_indices=True,
                _random_samples=to_torch(s))
    ev, ei = ef(ex, k, output_size=out, output_ratio=ratio, return_indices=True,
                _random_samples=to_ember(s))
    assert_close(tv, ev, rtol=0, atol=0)
    assert_close(ti, ei, what="indices")
    assert ev.grad_fn.name() == tv.grad_fn.name()
    up = make_array(tuple(tv.shape), dtype, np.random.default_rng(2))
    tv.backward(to_torch(up))
    ev.backward(to_ember(up))
    assert_close(tx.grad, ex.grad, rtol=1e-5, atol=1e-6, what="input grad")
    # without return_indices, and the _with_indices spelling
    assert_close(tv, ef(ex, k, out, ratio, _random_samples=to_ember(s)))
    wi = getattr(ember.nn.functional, f"fractional_max_pool{D}d_with_indices")
    assert_close(ti, wi(ex, k, out, ratio, _random_samples=to_ember(s))[1])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_fractional_max_pool_half_types(dtype):
    """The window starts are computed in the input's dtype, as torch does."""
    for D, shape, k, out in [(2, (2, 3, 40, 37), 2, (23, 30)), (3, (1, 2, 12, 11, 13), 2, 7)]:
        x, s = _fmp_args(D, shape, "float32", seed=D)
        tx, ts = to_torch(x).to(getattr(torch, dtype)), to_torch(s).to(getattr(torch, dtype))
        ex, es = ember.tensor(x).to(getattr(ember, dtype)), \
            ember.tensor(s).to(getattr(ember, dtype))
        tf = getattr(torch.nn.functional, f"fractional_max_pool{D}d")
        ef = getattr(ember.nn.functional, f"fractional_max_pool{D}d")
        tv, ti = tf(tx, k, out, return_indices=True, _random_samples=ts)
        ev, ei = ef(ex, k, out, return_indices=True, _random_samples=es)
        assert_close(tv, ev, rtol=0, atol=0)
        assert_close(ti, ei, what="indices")


def test_fractional_max_pool_nan_and_empty_kernel():
    x = make_array((1, 2, 7, 7), "float64", np.random.default_rng(4))
    x[0, 0, 1, 2] = x[0, 1, 3, 3] = x[0, 1, 3, 4] = np.nan
    s = np.random.default_rng(5).random((1, 2, 2))
    for k in (3, 0):   # an empty window gives -inf at its start
        t = torch.nn.functional.fractional_max_pool2d(to_torch(x), k, 3, return_indices=True,
                                                      _random_samples=to_torch(s))
        e = ember.nn.functional.fractional_max_pool2d(to_ember(x), k, 3, return_indices=True,
                                                      _random_samples=to_ember(s))
        assert_close(t[0], e[0])
        assert_close(t[1], e[1], what="indices")


@pytest.mark.parametrize("D,shape,out,samples", [
    (2, (0, 3, 6, 6), 3, (0, 3, 2)), (2, (1, 1, 6, 6), 0, (1, 1, 2)),
    (2, (0, 6, 6), 3, (1, 0, 2)), (2, (1, 1, 6, 6), (0, 3), (1, 1, 2)),
    (3, (0, 2, 5, 5, 5), 2, (0, 2, 3))])
def test_fractional_max_pool_empty(D, shape, out, samples):
    """An empty batch, output or (unbatched) channel dim gives empty results and gradients."""
    x, s = make_array(shape), np.full(samples, 0.5, np.float32)
    results = []
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        xt = conv(x, True)
        v, i = getattr(lib.nn.functional, f"fractional_max_pool{D}d")(
            xt, 2, out, return_indices=True, _random_samples=conv(s))
        v.sum().backward()
        results.append((tuple(v.shape), tuple(i.shape), tuple(xt.grad.shape)))
    assert results[0] == results[1]


def test_fractional_max_pool_random_samples_drawn_when_absent():
    x = ember.randn(2, 3, 12, 12)
    v1, i1 = ember.nn.functional.fractional_max_pool2d(x, 2, output_ratio=(0.5, 0.5),
                                                        return_indices=True)
    assert v1.shape == (2, 3, 6, 6) and i1.dtype == ember.int64
    # the values are those at the returned indices, and lie in windows of size 2
    np.testing.assert_array_equal(
        v1.numpy(), np.take_along_axis(x.numpy().reshape(2, 3, -1),
                                       i1.numpy().reshape(2, 3, -1), 2).reshape(v1.shape))
    draws = {tuple(ember.nn.functional.fractional_max_pool2d(
        x, 2, output_size=7, return_indices=True)[1].flatten().tolist()) for _ in range(8)}
    assert len(draws) > 1   # fresh samples each call
    v = ember.nn.functional.fractional_max_pool3d(ember.randn(3, 8, 8, 8), 2, output_size=4)
    assert v.shape == (3, 4, 4, 4)


@pytest.mark.parametrize("D", [2, 3])
def test_fractional_max_pool_modules(D):
    shape = (2, 3, 9, 10) if D == 2 else (2, 3, 7, 8, 9)
    x, s = _fmp_args(D, shape, "float32", seed=7)
    kw = {"output_size": 4, "return_indices": True}

    def ctor(nn, samples):
        return getattr(nn, f"FractionalMaxPool{D}d")(2, _random_samples=samples, **kw)
    tm, em = ctor(torch.nn, to_torch(s)), ctor(ember.nn, to_ember(s))
    same_repr(tm, em)
    assert list(em.state_dict()) == list(tm.state_dict()) == ["_random_samples"]
    tx, ex = to_torch(x, True), to_ember(x, True)
    (tv, ti), (ev, ei) = tm(tx), em(ex)
    assert_close(tv, ev)
    assert_close(ti, ei, what="indices")
    tv.sum().backward()
    ev.sum().backward()
    assert_close(tx.grad, ex.grad)
    same_repr(getattr(torch.nn, f"FractionalMaxPool{D}d")(3, output_ratio=0.5),
              getattr(ember.nn, f"FractionalMaxPool{D}d")(3, output_ratio=0.5))
    m = getattr(ember.nn, f"FractionalMaxPool{D}d")(2, output_ratio=0.5)
    assert list(m.state_dict()) == [] and m(ex).shape == tv.shape[:2] + (shape[2] // 2,) + \
        tuple(n // 2 for n in shape[3:])


def test_fractional_max_pool_double_backward():
    x = ember.randn(1, 2, 7, 7, dtype=ember.float64, requires_grad=True)
    s = ember.rand(1, 2, 2, dtype=ember.float64)
    assert ember.autograd.gradcheck(
        lambda t: ember.nn.functional.fractional_max_pool2d(t, 2, 4, _random_samples=s), (x,))
    assert ember.autograd.gradgradcheck(
        lambda t: ember.nn.functional.fractional_max_pool2d(t, 2, 4, _random_samples=s) ** 2,
        (x,))


def _fmp2(*args, **kw):
    return lambda t, x: t.nn.functional.fractional_max_pool2d(x, *args, **kw)


def _fmp3(*args, **kw):
    return lambda t, x: t.nn.functional.fractional_max_pool3d(x, *args, **kw)


def _samples(shape, dtype="float32"):
    return lambda t: t.tensor(np.full(shape, 0.3, dtype))


FMP_ERRORS = [
    ((1, 1, 10, 10), lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, 3, output_size=9, _random_samples=_samples((1, 1, 2))(t))),
    ((1, 1, 6, 6), lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, (2, 4), output_size=(3, 4), _random_samples=_samples((1, 1, 2))(t))),
    ((1, 2, 10, 10), lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, 3, output_size=8, _random_samples=_samples((1, 1, 2))(t))),
    ((2, 1, 6, 6), lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, 2, output_size=3, _random_samples=_samples((1, 1, 2))(t))),
    ((1, 1, 6, 6), lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, 2, output_size=3, _random_samples=_samples((1, 1, 3))(t))),
    ((1, 1, 6, 6), lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, 2, output_size=3, _random_samples=_samples((1, 1, 2), "float64")(t))),
    ((1, 1, 6, 6), lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, 2, output_size=3, _random_samples=_samples((1, 2))(t))),
    ((1, 1, 6, 6), lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, (2, 2, 2), output_size=3, _random_samples=_samples((1, 1, 2))(t))),
    ((1, 1, 6, 6), lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, 2, output_size=(3, 3, 3), _random_samples=_samples((1, 1, 2))(t))),
    ((1, 1, 6, 6), lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, 2.0, output_size=3, _random_samples=_samples((1, 1, 2))(t))),
    ((1, 1, 6, 6), lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, 2, output_size=(3.0, 3), _random_samples=_samples((1, 1, 2))(t))),
    ((1, 1, 1, 6, 6), lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, 2, output_size=3, _random_samples=_samples((1, 1, 2))(t))),
    ((1, 1, 6, 0), lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, 2, output_size=3, _random_samples=_samples((1, 1, 2))(t))),
    ((6, 6), _fmp2(2, output_size=3)),
    ((1, 1, 6, 6), _fmp2(2)),
    ((1, 1, 6, 6), _fmp2(2, output_ratio=(0.5, 0.5, 0.5))),
    ((1, 1, 6, 6), _fmp2(2, output_ratio=0.5)),
    ((1, 1, 8, 8, 8), _fmp3(3, output_size=6)),
    ((1, 1, 6, 6, 6), _fmp3(2, output_size=(3, 6, 3))),
    ((1, 1, 6, 6, 6), _fmp3(2, output_size=(3, 3), _random_samples=None)),
    ((1, 1, 6, 6, 6), _fmp3((2, 2), output_size=3)),
    ((1, 1, 6, 6, 6), _fmp3(2, output_ratio=(0.5, 0.5))),
    ((1, 1, 6, 6, 6), lambda t, x: t.nn.functional.fractional_max_pool3d(
        x, 2, output_size=3, _random_samples=_samples((1, 1, 2))(t))),
    ((1, 1, 6, 6), lambda t, x: t.nn.FractionalMaxPool2d(3)),
    ((1, 1, 6, 6), lambda t, x: t.nn.FractionalMaxPool2d(3, output_size=2, output_ratio=0.5)),
    ((1, 1, 6, 6), lambda t, x: t.nn.FractionalMaxPool2d(3, output_ratio=1)),
    ((1, 1, 6, 6), lambda t, x: t.nn.FractionalMaxPool3d(0, output_ratio=0.5)),
    ((1, 1, 6, 6), lambda t, x: t.nn.FractionalMaxPool3d((2, 0, 2), output_size=2)),
]


@pytest.mark.parametrize("shape,fn", FMP_ERRORS, ids=range(len(FMP_ERRORS)))
def test_fractional_max_pool_errors(shape, fn):
    t_exc, e_exc = check_raises(fn, [shape])
    if not isinstance(t_exc, TypeError):   # Python's own TypeErrors word things their way
        assert same_message(t_exc, e_exc), f"{e_exc} != {t_exc}"


def test_fractional_max_pool_integer_input():
    x = np.arange(36).reshape(1, 1, 6, 6)
    check_raises(lambda t, a: t.nn.functional.fractional_max_pool2d(
        a, 2, 3, _random_samples=t.ones(1, 1, 2, dtype=t.int64)), inputs=[x])


# =============================================================================================
# AdaptiveLogSoftmaxWithLoss

ASM = [
    ("three-clusters", dict(in_features=8, n_classes=20, cutoffs=[4, 10, 15], div_value=2.0,
                            head_bias=True)),
    ("one-cluster", dict(in_features=6, n_classes=10, cutoffs=(3,))),
    ("tuple-cutoffs", dict(in_features=16, n_classes=30, cutoffs=(5, 12), div_value=1.5)),
]


def _asm_pair(kwargs, seed=0):
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(**kwargs)
    em = ember.nn.AdaptiveLogSoftmaxWithLoss(**kwargs)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in tm.parameters():
            p.copy_(torch.from_numpy(make_array(tuple(p.shape), rng=rng)))
    copy_state(tm, em)
    return tm, em


@pytest.mark.parametrize("name,kwargs", ASM, ids=[a[0] for a in ASM])
def test_adaptive_log_softmax_matches_torch(name, kwargs):
    tm, em = _asm_pair(kwargs)
    same_repr(tm, em)
    assert [(k, tuple(v.shape)) for k, v in em.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    for attr in ("in_features", "n_classes", "cutoffs", "div_value", "head_bias",
                 "shortlist_size", "n_clusters", "head_size"):
        assert getattr(em, attr) == getattr(tm, attr), attr
    rng = np.random.default_rng(1)
    n = 9
    x = make_array((n, kwargs["in_features"]), rng=rng)
    target = rng.integers(0, kwargs["n_classes"], n)
    target[:3] = [0, kwargs["n_classes"] - 1, kwargs["cutoffs"][0]]   # every kind of row
    tx, ex = to_torch(x, True), to_ember(x, True)
    to = tm(tx, torch.from_numpy(target))
    eo = em(ex, ember.tensor(target))
    assert type(eo).__name__ == "_ASMoutput" and eo._fields == ("output", "loss")
    assert_close(to.output, eo.output, rtol=1e-5, atol=1e-5)
    assert_close(to.loss, eo.loss, rtol=1e-5, atol=1e-5)
    w = make_array((n,), rng=rng)
    (to.loss + (to.output * to_torch(w)).sum()).backward()
    (eo.loss + (eo.output * to_ember(w)).sum()).backward()
    assert_close(tx.grad, ex.grad, rtol=1e-4, atol=1e-5, what="input grad")
    ep = dict(em.named_parameters())
    for k, p in tm.named_parameters():
        assert_close(p.grad, ep[k].grad, rtol=1e-4, atol=1e-5, what=f"grad of {k}")
    assert_close(tm.log_prob(to_torch(x)), em.log_prob(to_ember(x)), rtol=1e-5, atol=1e-5)
    assert_close(tm.predict(to_torch(x)), em.predict(to_ember(x)))
    # one example: 1-D input and a 0-d target
    to1 = tm(to_torch(x[0]), torch.tensor(int(target[1])))
    eo1 = em(to_ember(x[0]), ember.tensor(int(target[1])))
    assert_close(to1.output, eo1.output, rtol=1e-5, atol=1e-5)
    assert_close(to1.loss, eo1.loss, rtol=1e-5, atol=1e-5)


def test_adaptive_log_softmax_log_prob_normalised_and_predict_branches():
    kwargs = dict(in_features=5, n_classes=12, cutoffs=[3, 7], head_bias=True)
    tm, em = _asm_pair(kwargs, seed=3)
    x = make_array((6, 5), rng=np.random.default_rng(4))
    lp = em.log_prob(to_ember(x))
    np.testing.assert_allclose(lp.exp().sum(1).detach().numpy(), np.ones(6), rtol=1e-5)
    # head biases that put every argmax in the shortlist, in the tail clusters, or a mix
    for bias in ([50, 0, 0, 0, 0], [0, 0, 0, 50, 50], [0, 0, 0, 0, 0]):
        b = np.array(bias, np.float32)
        with torch.no_grad():
            tm.head.bias.copy_(torch.from_numpy(b))
        em.head.bias.data = ember.tensor(b)
        tp, ep = tm.predict(to_torch(x)), em.predict(to_ember(x))
        assert_close(tp, ep)
        np.testing.assert_array_equal(ep.numpy(),
                                      em.log_prob(to_ember(x)).argmax(1).numpy())
    assert ember.nn.AdaptiveLogSoftmaxWithLoss(4, 8, [2]).head.bias is None


ASM_ERRORS = [
    lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 10, []),
    lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3]),
    lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [0, 3]),
    lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 10]),
    lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 3]),
    lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [2.5]),
    lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3])(t.ones(4, 8), t.tensor([0, 1, 10, 2])),
    lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3])(t.ones(4, 8), t.tensor([0, -1, 2, 2])),
    lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3])(t.ones(4, 8), t.tensor([0, 1, 2])),
    lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3])(t.ones(2, 4, 8), t.tensor([0, 1])),
    lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3])(t.ones(4, 8), t.tensor(1)),
    lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3])(t.ones(4, 8), t.tensor([[0, 1]])),
]


@pytest.mark.parametrize("fn", ASM_ERRORS, ids=range(len(ASM_ERRORS)))
def test_adaptive_log_softmax_errors(fn):
    t_exc, e_exc = check_raises(fn)
    assert same_message(t_exc, e_exc), f"{e_exc} != {t_exc}"


def test_exports():
    for name in ("LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
                 "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyInstanceNorm1d",
                 "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyBatchNorm1d",
                 "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyLinear", "UninitializedBuffer",
                 "UninitializedParameter", "FractionalMaxPool2d", "FractionalMaxPool3d",
                 "AdaptiveLogSoftmaxWithLoss"):
        assert hasattr(torch.nn, name) and hasattr(ember.nn, name), name
        assert name in ember.nn.modules.__all__ or name.startswith("Uninit"), name
    for name in ("fractional_max_pool2d", "fractional_max_pool3d",
                 "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices"):
        assert callable(getattr(ember.nn.functional, name)), name
    # one mixin, as torch's torch.nn.modules.lazy
    from ember.nn.modules.lazy import LazyModuleMixin
    for name in ("LazyLinear", "LazyConv2d", "LazyConvTranspose3d", "LazyBatchNorm1d",
                 "LazyInstanceNorm3d"):
        assert issubclass(getattr(ember.nn, name), LazyModuleMixin), name
        assert [c.__name__ for c in getattr(ember.nn, name).__mro__][:1] == [name]
    assert not isinstance(ember.nn.LazyBatchNorm2d(), ember.nn.BatchNorm2d)
    assert isinstance(ember.nn.LazyConv2d(2, 2), ember.nn.Conv2d)
