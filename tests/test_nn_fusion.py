"""nn.utils.fusion against torch: conv/linear + eval BatchNorm folded into one layer."""
import numpy as np
import pytest
import torch

import ember
from nn_helpers import copy_state, same_repr
from oracle import assert_close


def _pair(ctor, seed=0):
    """(layer, bn) in both libraries with the same random weights and running statistics."""
    torch.manual_seed(seed)
    t_layer, t_bn = ctor(torch.nn)
    with torch.no_grad():
        t_bn.running_mean.normal_()
        t_bn.running_var.uniform_(0.5, 2.0)
        if t_bn.weight is not None:
            t_bn.weight.normal_()
            t_bn.bias.normal_()
    e_layer, e_bn = ctor(ember.nn)
    copy_state(t_layer, e_layer)
    copy_state(t_bn, e_bn)
    for m in (t_layer, t_bn, e_layer, e_bn):
        m.eval()
    return t_layer, t_bn, e_layer, e_bn


CASES = {
    "conv2d": (lambda nn: (nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)), (2, 3, 6, 6), False),
    "conv1d_nobias_noaffine": (lambda nn: (nn.Conv1d(2, 3, 2, bias=False),
                                           nn.BatchNorm1d(3, affine=False)), (2, 2, 5), False),
    "convtranspose2d": (lambda nn: (nn.ConvTranspose2d(3, 2, 2, stride=2), nn.BatchNorm2d(2)),
                        (1, 3, 3, 3), True),
    "conv3d_double": (lambda nn: (nn.Conv3d(2, 3, 2).double(), nn.BatchNorm3d(3).double()),
                      (1, 2, 3, 3, 3), False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fuse_conv_bn_eval(case):
    ctor, shape, transpose = CASES[case]
    tl, tb, el, eb = _pair(ctor)
    tf = torch.nn.utils.fuse_conv_bn_eval(tl, tb, transpose=transpose)
    ef = ember.nn.utils.fuse_conv_bn_eval(el, eb, transpose=transpose)
    assert type(ef) is type(el) and ef is not el
    same_repr(tf, ef)
    for name in ("weight", "bias"):
        tp, ep = getattr(tf, name), getattr(ef, name)
        assert isinstance(ep, ember.nn.Parameter) and ep.requires_grad == tp.requires_grad
        assert_close(tp.detach(), ep.detach(), rtol=1e-5, atol=1e-6, what=name)
    # the original layer is untouched, and the fused layer computes bn(layer(x))
    assert_close(tl.weight.detach(), el.weight.detach())
    dt = np.float64 if "double" in case else np.float32
    x = np.random.default_rng(1).standard_normal(shape).astype(dt)
    expect = eb(el(ember.tensor(x)))
    got = ef(ember.tensor(x))
    assert_close(tf(torch.from_numpy(x)), got, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got.detach().numpy(), expect.detach().numpy(), rtol=1e-4,
                               atol=1e-5)


@pytest.mark.parametrize("features", [4, 1])
def test_fuse_linear_bn_eval(features):
    tl, tb, el, eb = _pair(lambda nn: (nn.Linear(3, 4), nn.BatchNorm1d(features)))
    tf = torch.nn.utils.fuse_linear_bn_eval(tl, tb)
    ef = ember.nn.utils.fuse_linear_bn_eval(el, eb)
    same_repr(tf, ef)
    assert_close(tf.weight.detach(), ef.weight.detach(), rtol=1e-5, atol=1e-6)
    assert_close(tf.bias.detach(), ef.bias.detach(), rtol=1e-5, atol=1e-6)
    x = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    assert_close(tf(torch.from_numpy(x)), ef(ember.tensor(x)), rtol=1e-5, atol=1e-5)
    if features == 4:
        np.testing.assert_allclose(ef(ember.tensor(x)).detach().numpy(),
                                   eb(el(ember.tensor(x))).detach().numpy(), rtol=1e-4,
                                   atol=1e-5)


def test_fuse_weights_functions():
    tl, tb, el, eb = _pair(lambda nn: (nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3)))
    tw, tbias = torch.nn.utils.fuse_conv_bn_weights(tl.weight, None, tb.running_mean,
                                                    tb.running_var, 1e-3, None, tb.bias)
    ew, ebias = ember.nn.utils.fuse_conv_bn_weights(el.weight, None, eb.running_mean,
                                                    eb.running_var, 1e-3, None, eb.bias)
    assert_close(tw.detach(), ew.detach(), rtol=1e-5, atol=1e-6)
    assert_close(tbias.detach(), ebias.detach(), rtol=1e-5, atol=1e-6)
    assert ew.requires_grad and not ebias.requires_grad   # zeros_like(running_mean)
    assert ebias.requires_grad == tbias.requires_grad
    tl, tb, el, eb = _pair(lambda nn: (nn.Linear(2, 3), nn.BatchNorm1d(3)))
    args_t = (tl.weight, tl.bias, tb.running_mean, tb.running_var, tb.eps, tb.weight, tb.bias)
    args_e = (el.weight, el.bias, eb.running_mean, eb.running_var, eb.eps, eb.weight, eb.bias)
    for t, e in zip(torch.nn.utils.fuse_linear_bn_weights(*args_t),
                    ember.nn.utils.fuse_linear_bn_weights(*args_e)):
        assert isinstance(e, ember.nn.Parameter) and e.requires_grad == t.requires_grad
        assert_close(t.detach(), e.detach(), rtol=1e-5, atol=1e-6)


def test_fusion_errors():
    for train_layer in (True, False):
        tl, tb, el, eb = _pair(lambda nn: (nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3)))
        (tl if train_layer else tb).train()
        (el if train_layer else eb).train()
        with pytest.raises(AssertionError) as te:
            torch.nn.utils.fuse_conv_bn_eval(tl, tb)
        with pytest.raises(AssertionError) as ee:
            ember.nn.utils.fuse_conv_bn_eval(el, eb)
        assert str(ee.value) == str(te.value) == "Fusion only for eval!"
    tl, tb, el, eb = _pair(lambda nn: (nn.Linear(3, 4), nn.BatchNorm1d(2)))
    with pytest.raises(AssertionError) as te:
        torch.nn.utils.fuse_linear_bn_eval(tl, tb)
    with pytest.raises(AssertionError) as ee:
        ember.nn.utils.fuse_linear_bn_eval(el, eb)
    assert str(ee.value) == str(te.value)
    for lib in (torch, ember):
        bn = lib.nn.BatchNorm2d(3, track_running_stats=False).eval()
        with pytest.raises(AssertionError, match="running_mean and bn.running_var must not"):
            lib.nn.utils.fuse_conv_bn_eval(lib.nn.Conv2d(2, 3, 1).eval(), bn)
