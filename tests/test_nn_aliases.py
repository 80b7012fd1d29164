"""torch.* spellings of nn.functional ops (torch.conv2d, torch.dropout(input, p, train), ...)
against torch: values and gradients, and the native signatures where they differ from F's."""
import numpy as np
import pytest
import torch

import ember
from oracle import check, check_raises


@pytest.mark.parametrize("call,shapes", [
    (lambda t, x, w: t.conv1d(x, w, None, 1, 1), [(2, 3, 9), (4, 3, 3)]),
    (lambda t, x, w: t.conv2d(x, w, None, 2, 1, 1, 1), [(2, 3, 7, 7), (4, 3, 3, 3)]),
    (lambda t, x, w: t.conv3d(x, w, padding=1), [(1, 2, 4, 4, 4), (3, 2, 3, 3, 3)]),
    (lambda t, x, w: t.conv_transpose1d(x, w, None, 2, 1, 1), [(2, 3, 5), (3, 4, 3)]),
    (lambda t, x, w: t.conv_transpose2d(x, w, stride=2), [(1, 3, 4, 4), (3, 2, 3, 3)]),
    (lambda t, x, w: t.conv_transpose3d(x, w), [(1, 2, 3, 3, 3), (2, 2, 2, 2, 2)]),
    (lambda t, x, w: t.prelu(x, w), [(2, 3, 4), (3,)]),
    (lambda t, x, w: t.bilinear(x, x, w), [(2, 3), (4, 3, 3)]),
])
def test_same_signature_as_functional(call, shapes):
    check(call, shapes, dtypes="float64")


@pytest.mark.parametrize("call", [
    lambda t, x: t.max_pool1d(x[0], 2),
    lambda t, x: t.max_pool2d(x, 3, [], 1),          # stride=() means the kernel size
    lambda t, x: t.max_pool2d(x, (2, 3), (1, 2), (1, 1), 1, True),
    lambda t, x: t.max_pool3d(x.unsqueeze(0), 2),
    lambda t, x: tuple(t.max_pool1d_with_indices(x[0], 3, 2)),
    lambda t, x: tuple(t.adaptive_max_pool1d(x[0], 3)),   # always (values, indices)
    lambda t, x: t.avg_pool1d(x[0], 3, 2, 1, False, False),
    lambda t, x: t.adaptive_avg_pool1d(x[0], 4),
    lambda t, x: t.layer_norm(x, [6, 7]),
    lambda t, x: t.group_norm(x, 3, None, None, 1e-3),
    lambda t, x: t.rms_norm(x, [7]),
    lambda t, x: t.selu(x), lambda t, x: t.celu(x, 0.5), lambda t, x: t.hardshrink(x, 0.3),
    lambda t, x: t.threshold(x, 0.1, 2.0),
    lambda t, x: t.rrelu(x),                          # eval: a fixed slope
    lambda t, x: t.pixel_shuffle(x[:, :4], 2), lambda t, x: t.pixel_unshuffle(x[..., :6], 2),
    lambda t, x: t.channel_shuffle(x, 3),
    lambda t, x: t.constant_pad_nd(x, [1, 2, 0, 1], 0.5),
    lambda t, x: t.dropout(x, 0.5, False), lambda t, x: t.alpha_dropout(x, 0.3, False),
    lambda t, x: t.feature_dropout(x, 0.3, False),
    lambda t, x: t.feature_alpha_dropout(x, 0.3, False),
])
def test_native_signatures(call):
    check(call, [(2, 6, 6, 7)], dtypes="float64")


def test_native_channel_shuffle():   # torch defines no derivative for it
    check(lambda t, x: t.native_channel_shuffle(x, 3), [(2, 6, 3)], grad=False)


def test_batch_and_instance_norm_native_order():
    """batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
    cudnn_enabled): weight and bias come first; running statistics update in training."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 5))
    for training in (False, True):
        stats = []
        for t in (torch, ember):
            rm, rv = t.zeros(3, dtype=t.float64), t.ones(3, dtype=t.float64)
            w = t.tensor([1.0, 2.0, 0.5], dtype=t.float64)
            b = t.tensor([0.0, 1.0, -1.0], dtype=t.float64)
            y = t.batch_norm(t.tensor(x), w, b, rm, rv, training, 0.2, 1e-5, False)
            z = t.instance_norm(t.tensor(x), w, b, None, None, True, 0.1, 1e-5, False)
            stats.append([v.numpy() for v in (y, z, rm, rv)])
        for e, r in zip(stats[1], stats[0]):
            np.testing.assert_allclose(e, r, rtol=1e-10, atol=1e-12)


def test_embedding_weight_first():
    w = np.random.default_rng(2).standard_normal((5, 3))
    idx = np.array([[0, 2], [4, 2]])
    check(lambda t, w, i: t.embedding(w, i), inputs=[w, idx])
    check(lambda t, w, i: t.embedding(w, i, 2), inputs=[w, idx])   # padding row: no gradient
    check_raises(lambda t, w, i: t.embedding(i, w), inputs=[w, idx])


def test_training_dropouts_zero_whole_slices():
    """In training: dropout zeroes elements and scales the rest by 1/(1-p); feature_dropout
    zeroes whole (sample, channel) slices; the in-place forms write into the input."""
    ember.manual_seed(0)
    x = ember.ones(8, 6, 5, 5)
    y = ember.feature_dropout(x, 0.5, True).numpy()
    per_slice = y.reshape(8, 6, -1)
    assert set(np.unique(per_slice)) <= {0.0, 2.0}
    assert (per_slice.min(-1) == per_slice.max(-1)).all()    # constant over each slice
    assert 0 < (per_slice[..., 0] == 0).sum() < 48
    d = ember.dropout(x, 0.25, True).numpy()
    assert set(np.unique(d)) <= {0.0, np.float32(1 / 0.75)} and (d == 0).any()
    z = ember.ones(4, 3)
    assert ember.dropout_(z, 0.5, True) is z and (z.numpy() != 1).all()
    with pytest.raises(TypeError):
        ember.dropout(x, 0.5)   # train is required, as in torch
    with pytest.raises(TypeError):
        torch.dropout(torch.ones(2), 0.5)
