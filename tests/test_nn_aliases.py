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


# --- losses with reduction as an int (0 none, 1 mean, 2 sum, others none) ---------------------

def _probs(shape, seed):
    return np.random.default_rng(seed).uniform(0.05, 0.95, shape)


def _signs(shape, seed):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1.0, 1.0)


@pytest.mark.parametrize("reduction", [0, 1, 2, 3])
def test_losses_int_reduction(reduction):
    r = reduction
    x, y, z = (np.random.default_rng(s).standard_normal((4, 3)) for s in (0, 1, 2))
    p, sg = _probs((4, 3), 3), _signs((4,), 4)
    check(lambda t, x, p: t.kl_div(x, p, r), inputs=[x, p])
    check(lambda t, x, y: t.kl_div(x, y, r, log_target=True), inputs=[x, y])
    w = _probs((3,), 5)   # (weights take no gradient in torch)
    check(lambda t, x, p: t.binary_cross_entropy_with_logits(x, p, t.tensor(w), None, r),
          inputs=[x, p])
    check(lambda t, x, p: t.binary_cross_entropy_with_logits(x, p, None, t.tensor(w), r),
          inputs=[x, p])
    check(lambda t, a, b, s: t.margin_ranking_loss(a, b, s, 0.3, r),
          inputs=[x[:, 0], y[:, 0], sg])
    check(lambda t, a, s: t.hinge_embedding_loss(a, s, 0.7, r), inputs=[x[:, 0], sg])
    check(lambda t, a, b, s: t.cosine_embedding_loss(a, b, s, 0.1, r), inputs=[x, y, sg])
    check(lambda t, a, b, c: t.triplet_margin_loss(a, b, c, 1.0, 2.0, 1e-6, True, r),
          inputs=[x, y, z])
    check(lambda t, a, p: t.poisson_nll_loss(a, p, True, True, 1e-8, r), inputs=[x, p])
    check(lambda t, a, p: t.poisson_nll_loss(a.exp(), p, False, False, 1e-6, r), inputs=[x, p])


def test_losses_defaults_and_errors():
    """Left out, reduction is none (as torch's binding reads it)."""
    x, p = np.random.default_rng(0).standard_normal((4, 3)), _probs((4, 3), 1)
    s = _signs((4,), 2)
    check(lambda t, x, p: t.kl_div(x, p), inputs=[x, p])
    check(lambda t, x, p: t.binary_cross_entropy_with_logits(x, p), inputs=[x, p])
    check(lambda t, a, b, s: t.margin_ranking_loss(a, b, s), inputs=[x[:, 0], p[:, 0], s])
    check(lambda t, a, s: t.hinge_embedding_loss(a, s), inputs=[x[:, 0], s])
    check(lambda t, a, b, s: t.cosine_embedding_loss(a, b, s), inputs=[x, p, s])
    check(lambda t, a, b, c: t.triplet_margin_loss(a, b, c), inputs=[x, p, x[::-1].copy()])
    lp = np.random.default_rng(0).standard_normal((6, 2, 4))
    check(lambda t, x, y: t.ctc_loss(x.log_softmax(2), y, [6, 5], [2, 2]),
          inputs=[lp, np.array([[1, 2], [3, 3]])])
    check_raises(lambda t, x, p: t.kl_div(x, p, "mean"), inputs=[x, p])
    check_raises(lambda t, x, p: t.poisson_nll_loss(x, p), inputs=[x, p])


@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_ctc_loss_int_reduction(reduction):
    rng = np.random.default_rng(0)
    lp = rng.standard_normal((6, 2, 4))
    tg = np.array([[1, 2], [3, 3]])
    check(lambda t, x, y: t.ctc_loss(x.log_softmax(2), y, [6, 5], [2, 2], 0, reduction),
          inputs=[lp, tg])
    check(lambda t, x, y: t.ctc_loss(x.log_softmax(2), y, t.tensor([6, 6]), t.tensor([2, 1]),
                                     0, reduction, True), inputs=[lp, tg])


# --- embedding_bag: (output, offset2bag, bag_size, max_indices) -------------------------------

@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("extra", [(), (False, None, False, 4), (False, None, True, None)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_bag_native(mode, extra, dtype):
    w = np.random.default_rng(2).standard_normal((10, 3)).astype(dtype)
    idx, off = np.array([1, 2, 4, 5, 4, 3]), np.array([0, 2, 2, 4])
    if extra[2:3] == (True,):
        off = np.array([0, 2, 2, 6])   # include_last_offset: the last offset ends the indices
    for grad in (True, False):
        check(lambda t, w, i, o: tuple(t.embedding_bag(w, i, o, False, mode, *extra)),
              inputs=[w, idx, off], grad=grad)


def test_embedding_bag_native_ties_and_weights():
    w = np.random.default_rng(2).standard_normal((10, 3))
    w[5] = w[2]
    check(lambda t, w, i, o: tuple(t.embedding_bag(w, i, o, False, 2)),
          inputs=[w, np.array([2, 5, 5, 2]), np.array([0, 2])], grad=False)
    check(lambda t, w, i, o, p: tuple(t.embedding_bag(w, i, o, per_sample_weights=p)),
          inputs=[w, np.array([1, 2, 4, 5]), np.array([0, 1]), _probs((4,), 0)])
    check_raises(lambda t, w, i, o: t.embedding_bag(w, i, o, mode=3),
                 inputs=[w, np.array([1, 2]), np.array([0])])
    check_raises(lambda t, w, i, o, p: t.embedding_bag(w, i, o, mode=1, per_sample_weights=p),
                 inputs=[w, np.array([1, 2]), np.array([0]), _probs((2,), 0)])


# --- recurrent cells --------------------------------------------------------------------------

@pytest.mark.parametrize("bias", [True, False])
def test_rnn_cells(bias):
    rng = np.random.default_rng(0)
    x, h, c = rng.standard_normal((3, 4)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))

    def w(g, n):
        return rng.standard_normal((g * 5, n)) * 0.5

    def b(g):
        return rng.standard_normal(g * 5) if bias else None
    for fn, g in (("rnn_tanh_cell", 1), ("rnn_relu_cell", 1), ("gru_cell", 3)):
        args = [x, h, w(g, 4), w(g, 5)] + ([b(g), b(g)] if bias else [])
        check(lambda t, *a: getattr(t, fn)(*a), inputs=args)
    args = [x, h, c, w(4, 4), w(4, 5)] + ([b(4), b(4)] if bias else [])
    check(lambda t, x, h, c, *r: t.lstm_cell(x, (h, c), *r), inputs=args)
    check(lambda t, x, h, c, *r: t.lstm_cell(x, [h, c], *r), inputs=args)
    check_raises(lambda t, x, h, c, *r: t.lstm_cell(x, [h], *r), inputs=args)
    check_raises(lambda t, x, h, a, b: t.rnn_tanh_cell(x, h, a, b),
                 inputs=[x, h, w(1, 4)[:4], w(1, 5)])
    check_raises(lambda t, x, h, a, b: t.rnn_tanh_cell(x[0], h[0], a, b),
                 inputs=[x, h, w(1, 4), w(1, 5)])


# --- whole recurrent layers: torch.lstm / gru / rnn_tanh / rnn_relu -------------------------

def _flat_rnn_weights(rng, mode, inp, hid, layers, bidir, bias, proj=0):
    """Random weights in torch's flat order: per layer and direction w_ih, w_hh[, b_ih, b_hh]
    [, w_hr]."""
    g = {"lstm": 4, "gru": 3}.get(mode, 1) * hid
    D = 2 if bidir else 1
    out = proj or hid
    ws = []
    for layer in range(layers):
        for _ in range(D):
            ws += [rng.standard_normal((g, inp if layer == 0 else out * D)) * 0.4,
                   rng.standard_normal((g, out)) * 0.4]
            if bias:
                ws += [rng.standard_normal(g) * 0.4, rng.standard_normal(g) * 0.4]
            if proj:
                ws.append(rng.standard_normal((proj, hid)) * 0.4)
    return ws


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("layers,bidir,bias,batch_first", [
    (1, False, True, False), (2, True, True, False), (2, False, False, True),
    (1, True, False, True)])
def test_recurrent_layer_functions(mode, layers, bidir, bias, batch_first):
    rng = np.random.default_rng(layers + 2 * bidir + 4 * bias)
    D = 2 if bidir else 1
    x = rng.standard_normal((3, 5, 4) if batch_first else (5, 3, 4))
    h, c = rng.standard_normal((2, layers * D, 3, 6))
    ws = _flat_rnn_weights(rng, mode, 4, 6, layers, bidir, bias)
    if mode == "lstm":
        check(lambda t, x, h, c, *w: t.lstm(x, [h, c], list(w), bias, layers, 0.0, False, bidir,
                                            batch_first), inputs=[x, h, c] + ws)
    else:
        check(lambda t, x, h, *w: getattr(t, mode)(x, h, list(w), bias, layers, 0.0, True, bidir,
                                                   batch_first), inputs=[x, h] + ws)


def test_lstm_function_with_projections_and_packed_data():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 3, 4))
    h, c = rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 3, 6))
    ws = _flat_rnn_weights(rng, "lstm", 4, 6, 1, True, True, proj=2)
    check(lambda t, x, h, c, *w: t.lstm(x, (h, c), w, True, 1, 0.0, False, True, False),
          inputs=[x, h, c] + ws)

    def packed(t, x, h, *w):    # the data overload: sequences of lengths 5, 3, 2
        p = t.nn.utils.rnn.pack_padded_sequence(x, [5, 3, 2])
        return t.gru(p.data, p.batch_sizes, h, list(w), True, 1, 0.0, False, False)
    check(packed, inputs=[x, rng.standard_normal((1, 3, 6))]
          + _flat_rnn_weights(rng, "gru", 4, 6, 1, False, True))


def test_recurrent_layer_function_errors():
    rng = np.random.default_rng(6)
    x, h = rng.standard_normal((5, 3, 4)), rng.standard_normal((1, 3, 6))
    ws = _flat_rnn_weights(rng, "lstm", 4, 6, 1, False, True)
    check_raises(lambda t, x, h, *w: t.lstm(x, [h], list(w), True, 1, 0.0, False, False, False),
                 inputs=[x, h] + ws)
    gw = _flat_rnn_weights(rng, "gru", 4, 6, 2, False, True)
    check_raises(lambda t, x, h, *w: t.gru(x, h, list(w), True, 2, 0.0, False, False, False),
                 inputs=[x, h] + gw)


# --- native normalisation and dropout ---------------------------------------------------------

def test_native_layer_norm():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    w, b = np.random.default_rng(1).standard_normal((2, 4))
    check(lambda t, x, w, b: t.native_layer_norm(x, [4], w, b, 1e-5), inputs=[x, w, b])
    check(lambda t, x: t.native_layer_norm(x, [3, 4], None, None, 1e-3), inputs=[x])
    check(lambda t, x: t.native_layer_norm(x, (4,), None, None, 1e-5), inputs=[x], grad=False)
    check_raises(lambda t, x: t.native_layer_norm(x, [5], None, None, 1e-5), inputs=[x])


@pytest.mark.parametrize("training", [True, False])
def test_native_batch_norm(training):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 3, 5)), rng.standard_normal(3), rng.standard_normal(3)
    stats = []
    for t in (torch, ember):
        rm, rv = t.zeros(3, dtype=t.float64), t.ones(3, dtype=t.float64)
        out = t.native_batch_norm(t.tensor(x), t.tensor(w), t.tensor(b), rm, rv, training, 0.1,
                                  1e-5)
        stats.append([v.numpy() for v in out] + [rm.numpy(), rv.numpy()])
    for e, r in zip(stats[1], stats[0]):
        assert e.shape == r.shape
        np.testing.assert_allclose(e, r, rtol=1e-10, atol=1e-12)
    check(lambda t, x, w, b: t.native_batch_norm(x, w, b, None, None, True, 0.1, 1e-5)[0],
          inputs=[x, w, b])


def test_native_group_norm():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 6, 5)), rng.standard_normal(6), rng.standard_normal(6)
    check(lambda t, x, w, b: t.native_group_norm(x, w, b, 2, 6, 5, 3, 1e-5), inputs=[x, w, b])
    check(lambda t, x: t.native_group_norm(x, None, None, 2, 6, 5, 2, 1e-5), inputs=[x])
    check_raises(lambda t, x: t.native_group_norm(x, None, None, 2, 6, 4, 3, 1e-5), inputs=[x])
    check_raises(lambda t, x: t.native_group_norm(x, None, None, 2, 6, 5, 4, 1e-5), inputs=[x])


def test_native_dropout():
    check(lambda t, x: t.native_dropout(x, 0.5, False), [(3, 4)])
    ember.manual_seed(0)
    x = ember.ones(2000, requires_grad=True)
    out, mask = ember.native_dropout(x, 0.25, True)
    assert mask.dtype is ember.bool and tuple(mask.shape) == (2000,)
    kept = mask.numpy()
    np.testing.assert_allclose(out.detach().numpy(), kept / 0.75, rtol=1e-6)
    assert 0.7 < kept.mean() < 0.8
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75, rtol=1e-6)
    out, mask = ember.native_dropout(ember.ones(100), 0.5, None)   # None: training
    assert not mask.numpy().all()
    out, mask = ember.native_dropout(ember.ones(10), 1.0, True)
    assert not out.numpy().any() and not mask.numpy().any()


# --- convolution, grid sampling ---------------------------------------------------------------

@pytest.mark.parametrize("call,shapes", [
    (lambda t, x, w: t.convolution(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),
     [(1, 2, 5, 5), (3, 2, 3, 3)]),
    (lambda t, x, w, b: t.convolution(x, w, b, [2, 1], [1, 0], [1, 2], False, [0, 0], 1),
     [(2, 4, 6, 7), (2, 4, 3, 2), (2,)]),
    (lambda t, x, w: t.convolution(x, w, None, [1], [0], [1], False, [0], 1),
     [(1, 2, 5, 5), (3, 2, 3, 3)]),
    (lambda t, x, w: t.convolution(x, w, None, (1,), (1,), (1,), False, (0,), 2),
     [(1, 4, 7), (4, 2, 3)]),
    (lambda t, x, w, b: t.convolution(x, w, b, [2, 2], [1, 1], [1, 1], True, [1, 1], 1),
     [(1, 2, 4, 4), (2, 3, 3, 3), (3,)]),
    (lambda t, x, w: t.convolution(x, w, None, [1, 1, 1], [0, 0, 0], [1, 1, 1], False,
                                   [0, 0, 0], 1), [(1, 2, 4, 4, 4), (2, 2, 2, 2, 2)]),
])
def test_convolution(call, shapes):
    check(call, shapes, dtypes="float64")


def test_convolution_errors():
    check_raises(lambda t, x, w: t.convolution(x, w, None, 1, 0, 1, False, 0, 1),
                 [(1, 2, 5, 5), (3, 2, 3, 3)])


@pytest.mark.parametrize("interp", [0, 1, 2])
@pytest.mark.parametrize("pad", [0, 1, 2])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sampler(interp, pad, align):
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((1, 2, 5, 5)), rng.uniform(-1.1, 1.1, (1, 3, 3, 2))
    grad = interp != 1
    check(lambda t, x, g: t.grid_sampler(x, g, interp, pad, align), inputs=[x, g], grad=grad)
    check(lambda t, x, g: t.grid_sampler_2d(x, g, interp, pad, align), inputs=[x, g], grad=grad)
    if interp != 2:   # (bicubic is 2-D only)
        x3, g3 = rng.standard_normal((1, 2, 4, 4, 4)), rng.uniform(-1, 1, (1, 2, 2, 2, 3))
        check(lambda t, x, g: t.grid_sampler_3d(x, g, interp, pad, align), inputs=[x3, g3],
              grad=grad)


def test_affine_grid_generator():
    th = np.random.default_rng(0).standard_normal((2, 2, 3))
    for align in (False, True):
        check(lambda t, th: t.affine_grid_generator(th, [2, 3, 4, 5], align), inputs=[th])
        check(lambda t, th: t.affine_grid_generator(th, (2, 3, 4, 5), align), inputs=[th])
    th3 = np.random.default_rng(1).standard_normal((1, 3, 4))
    check(lambda t, th: t.affine_grid_generator(th, [1, 2, 3, 4, 5], False), inputs=[th3])


# --- conv_tbc and norm_except_dim ---------------------------------------------------------------

def _node_names(fn, depth=3):
    names = []
    for _ in range(depth):
        if fn is None:
            break
        names.append(fn.name() if hasattr(fn, "name") else type(fn).__name__)
        fn = next((f for f, _ in fn.next_functions if f is not None), None)
    return [n.replace("torch::autograd::", "") for n in names]


@pytest.mark.parametrize("shapes,pad", [([(7, 2, 3), (3, 3, 4), (4,)], 1),
                                        ([(5, 1, 2), (2, 2, 3), (3,)], 0),
                                        ([(4, 3, 2), (5, 2, 2), (2,)], 2)])
def test_conv_tbc(shapes, pad):
    check(lambda t, x, w, b: t.conv_tbc(x, w, b, pad), shapes, dtypes="float64")
    check(lambda t, x, w, b: t.conv_tbc(x, w, b, pad), shapes, dtypes="float32", atol=1e-5)
    xs = [np.random.default_rng(1).standard_normal(s) for s in shapes]
    names = [_node_names(lib.conv_tbc(*(lib.tensor(a, requires_grad=True) for a in xs), pad)
                         .grad_fn) for lib in (torch, ember)]
    assert names[0] == names[1]


def test_conv_tbc_double_backward():
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s) for s in ((6, 2, 3), (3, 3, 4), (4,))]
    res = []
    for lib in (torch, ember):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in arrays)
        y = lib.conv_tbc(x, w, b, 1)
        gx, gw = lib.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        ((gx * gx).sum() + (gw ** 3).sum()).backward()
        res.append([v.detach().numpy() for v in (gx, gw, x.grad, w.grad, b.grad)])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shapes", [
    [(6, 2, 3), (3, 3, 4), (3,)],        # bias size
    [(6, 3), (3, 3, 4), (4,)],           # input dims
    [(6, 2, 3), (3, 2, 4), (4,)],        # channels
    [(6, 2, 3), (3, 4), (4,)],           # weight dims
    [(1, 2, 3), (3, 3, 4), (4,)],        # negative length
])
def test_conv_tbc_errors(shapes):
    check_raises(lambda t, x, w, b: t.conv_tbc(x, w, b, 0), shapes)


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("p", [2, 3])
def test_norm_except_dim(dim, p):
    check(lambda t, v: t.norm_except_dim(v, p, dim), [(3, 4, 5)], dtypes="float64")
    v = np.random.default_rng(3).standard_normal((3, 4, 5))
    names = [_node_names(lib.norm_except_dim(lib.tensor(v, requires_grad=True), p, dim).grad_fn)
             for lib in (torch, ember)]
    assert names[0] == names[1]


def test_norm_except_dim_errors():
    check_raises(lambda t, v: t.norm_except_dim(v, 2, 3), [(3, 4, 5)])
    check_raises(lambda t, v: t.norm_except_dim(v[0, 0, 0], 2, 0), [(3, 4, 5)])
