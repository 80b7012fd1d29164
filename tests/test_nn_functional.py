"""nn.functional against torch: activations (dtypes, empty, 0-d, non-contiguous, gradients,
double backward), softmax family, normalisation functions, embedding, one_hot, distances,
attention, dropout arguments."""
import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check, check_raises, same_message

ACTS = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.5}),
    ("selu", {}), ("celu", {"alpha": 2.0}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("silu", {}), ("mish", {}), ("sigmoid", {}), ("tanh", {}), ("hardtanh", {}),
    ("hardsigmoid", {}), ("hardswish", {}), ("softsign", {}), ("softplus", {"beta": 2.0}),
    ("softshrink", {}), ("hardshrink", {}), ("tanhshrink", {}), ("logsigmoid", {}),
    ("glu", {}), ("threshold", {"threshold": 0.2, "value": -1.0}),
]
IDS = [f"{n}-{'-'.join(map(str, k.values()))}" for n, k in ACTS]


def _act(t, name, kw):
    return lambda x: getattr(t.nn.functional, name)(x, **kw)


@pytest.mark.parametrize("name,kw", ACTS, ids=IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activation_values_and_grads(name, kw, dtype):
    check(lambda t, x: _act(t, name, kw)(x), [(3, 4)], dtype)
    # non-contiguous input
    check(lambda t, x: _act(t, name, kw)(x.t()), [(4, 6)], dtype)


@pytest.mark.parametrize("name,kw", ACTS, ids=IDS)
def test_activation_edge_shapes(name, kw):
    check(lambda t, x: _act(t, name, kw)(x), [(0, 4)])
    if name != "glu":
        check(lambda t, x: _act(t, name, kw)(x), [()])


def test_activation_kinks_and_extremes():
    x = np.array([-1e4, -20.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 20.0, 1e4], np.float32)
    for name, kw in ACTS:
        if name == "glu":
            continue
        check(lambda t, a: _act(t, name, kw)(a), inputs=[x], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["gelu", "silu", "mish", "elu", "softplus", "sigmoid",
                                  "tanh", "logsigmoid", "softsign", "hardswish"])
def test_double_backward(name):
    x = np.random.default_rng(0).standard_normal((3, 4))
    xe = ember.tensor(x).requires_grad_()
    xt = torch.tensor(x, requires_grad=True)
    ge, = ember.autograd.grad(getattr(ember.nn.functional, name)(xe).sum(), xe,
                              create_graph=True)
    gt, = torch.autograd.grad(getattr(torch.nn.functional, name)(xt).sum(), xt,
                              create_graph=True)
    gge, = ember.autograd.grad((ge * ge).sum(), xe)
    ggt, = torch.autograd.grad((gt * gt).sum(), xt)
    np.testing.assert_allclose(gge.numpy(), ggt.numpy(), rtol=1e-6, atol=1e-8)


def test_int_inputs_raise_like_torch():
    for name in ("gelu", "elu", "silu", "softplus", "hardswish", "logsigmoid", "mish"):
        check_raises(lambda t, x: getattr(t.nn.functional, name)(x), inputs=[
            np.array([1, 2, 3])])
    check(lambda t, x: t.nn.functional.relu(x), inputs=[np.array([-1, 2, 3])])


def test_prelu_rrelu():
    w = np.array([0.1, 0.2, 0.3], np.float32)
    check(lambda t, x, w_: t.nn.functional.prelu(x, w_), inputs=[
        np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32), w])
    check(lambda t, x: t.nn.functional.rrelu(x, training=False), [(3, 4)])
    x = ember.tensor(-np.ones((100, 100), np.float32))
    y = ember.nn.functional.rrelu(x, 0.1, 0.3, training=True).numpy()
    assert -0.3 <= y.min() and y.max() <= -0.1 and y.std() > 0.03


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
def test_softmax_family(fn):
    for dim in (0, 1, -1):
        check(lambda t, x: getattr(t.nn.functional, fn)(x, dim), [(3, 4)])
    check(lambda t, x: getattr(t.nn.functional, fn)(x, 1, dtype=t.float64), [(3, 4)])
    check(lambda t, x: getattr(t.nn.functional, fn)(x, 0), [(0,)])
    check(lambda t, x: getattr(t.nn.functional, fn)(x, 0), [()])
    with pytest.warns(UserWarning, match="Implicit dimension"):
        check(lambda t, x: getattr(t.nn.functional, fn)(x), [(2, 3, 4)])
    big = np.array([[1000.0, 0.0, -1000.0]], np.float32)
    check(lambda t, x: getattr(t.nn.functional, fn)(x, 1), inputs=[big])


def test_norm_functions():
    rm = np.zeros(3, np.float32)
    rv = np.ones(3, np.float32)
    for training in (True, False):
        check(lambda t, x, w, b: t.nn.functional.batch_norm(
            x, t.tensor(rm), t.tensor(rv), w, b, training=training), [(4, 3, 2), (3,), (3,)])
    check(lambda t, x: t.nn.functional.instance_norm(x), [(2, 3, 4)])
    check(lambda t, x, w, b: t.nn.functional.layer_norm(x, (4,), w, b, 1e-3),
          [(2, 3, 4), (4,), (4,)])
    check(lambda t, x: t.nn.functional.layer_norm(x, (3, 4)), [(2, 3, 4)])
    check(lambda t, x, w, b: t.nn.functional.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)])
    check(lambda t, x, w: t.nn.functional.rms_norm(x, (4,), w), [(2, 3, 4), (4,)])
    check(lambda t, x: t.nn.functional.local_response_norm(x, 3), [(2, 4, 3)])
    for p in (1, 2, 3):
        check(lambda t, x: t.nn.functional.normalize(x, p=p, dim=1), [(3, 4)])
    check(lambda t, x: t.nn.functional.normalize(x), inputs=[np.zeros((2, 3), np.float32)])


@pytest.mark.parametrize("contiguous", [True, False])
def test_batch_norm_with_short_channel_runs(contiguous):
    """Several samples with short per-channel runs: the per-channel scales and shifts go
    through one spread row per op (channel_op); a transposed input through broadcasting."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 5, 7, 9)).astype(np.float32)
    if not contiguous:
        x = x.transpose(0, 1, 3, 2)
    w, b = rng.standard_normal(5).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    rm, rv = rng.standard_normal(5).astype(np.float32), rng.random(5).astype(np.float32) + 0.5
    for training in (True, False):
        check(lambda t, x, w, b: t.nn.functional.batch_norm(
            x, t.tensor(rm), t.tensor(rv), w, b, training=training), inputs=[x, w, b])
    check(lambda t, x: t.nn.functional.batch_norm(x, None, None, training=True), inputs=[x])


@pytest.mark.parametrize("shape,groups", [((6, 8, 5, 7), 4), ((3, 6, 10), 3), ((5, 4), 2),
                                          ((0, 4, 3), 2), ((2, 4, 0), 2)])
def test_group_norm_one_node(shape, groups):
    """group_norm is one NativeGroupNormBackward0 node with edges to input, weight and bias
    (or none for those missing), packs what torch packs, and matches torch's values and
    first and second derivatives, for contiguous and transposed inputs."""
    rng = np.random.default_rng(6)
    x = (3 + rng.standard_normal(shape)).astype(np.float64)
    C = shape[1]
    w, b = rng.standard_normal(C), rng.standard_normal(C)
    check(lambda t, x, w, b: t.nn.functional.group_norm(x, groups, w, b), inputs=[x, w, b])
    check(lambda t, x: t.nn.functional.group_norm(x, groups), inputs=[x])
    if len(shape) == 4:
        xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
        check(lambda t, x, w: t.nn.functional.group_norm(x, groups, w), inputs=[xt, w])
    if 0 in shape:
        return
    for lib in (torch, ember):
        xs = lib.tensor(x, requires_grad=True)
        ws = lib.tensor(w, requires_grad=True)
        packed = []

        def pack(t):
            packed.append(tuple(t.shape))
            return t
        with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            y = lib.nn.functional.group_norm(xs, groups, ws)
        assert y.grad_fn.name() == "NativeGroupNormBackward0"
        assert [e[0] is None for e in y.grad_fn.next_functions] == [False, False, True]
        if lib is torch:
            t_packed = packed
        else:
            assert packed == t_packed
    # second derivatives (create_graph) against torch
    def second(lib):
        xs = lib.tensor(x, requires_grad=True)
        ws = lib.tensor(w, requires_grad=True)
        bs = lib.tensor(b, requires_grad=True)
        y = lib.nn.functional.group_norm(xs, groups, ws, bs)
        g = lib.tensor(np.linspace(-1, 1, y.numel()).reshape(y.shape))
        gx, gw = lib.autograd.grad((y * g).sum() + (y * y).sum(), (xs, ws), create_graph=True)
        (gx.square().sum() + gw.sum()).backward()
        return xs.grad, ws.grad, bs.grad
    for t_g, e_g in zip(second(torch), second(ember)):
        assert_close(t_g, e_g)


def test_group_norm_half():
    """float16 is computed in float32 and rounded once."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 6, 3, 3)).astype(np.float16)
    w = rng.standard_normal(6).astype(np.float16)
    check(lambda t, x, w: t.nn.functional.group_norm(x, 3, w), inputs=[x, w])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_norms_on_long_rows_with_an_offset_mean(dtype):
    """Statistics over long contiguous rows take the BLAS row-sum path (blocks of 128 summed
    recursively); a mean of 50 checks the two-pass variance keeps float32 accurate."""
    rng = np.random.default_rng(4)
    x = (50 + rng.standard_normal((3, 4, 48, 40))).astype(dtype)
    w, b = rng.standard_normal(4).astype(dtype), rng.standard_normal(4).astype(dtype)
    check(lambda t, x, w, b: t.nn.functional.batch_norm(x, None, None, w, b, training=True),
          inputs=[x, w, b])
    check(lambda t, x: t.nn.functional.instance_norm(x), inputs=[x])
    check(lambda t, x: t.nn.functional.group_norm(x, 2), inputs=[x])
    check(lambda t, x: t.nn.functional.layer_norm(x, (48, 40)), inputs=[x])
    check(lambda t, x: t.nn.functional.batch_norm(x, None, None, training=True),
          inputs=[x[:, :, :, :7].copy()])   # rows of 336 = 3 blocks of 112


@pytest.mark.parametrize("call,shape,dtype", [
    (lambda t, x: t.nn.functional.batch_norm(x, t.zeros(3), t.ones(4), t.ones(5)), (2, 4, 3),
     "float32"),   # running_mean is checked first
    (lambda t, x: t.nn.functional.batch_norm(x, None, None, training=True), (2, 4, 3), "int64"),
    (lambda t, x: t.nn.functional.instance_norm(x), (2, 4, 3), "int32"),
    (lambda t, x: t.nn.functional.layer_norm(x, (4,)), (2, 4), "int64"),
    (lambda t, x: t.nn.functional.layer_norm(x, (4,)), (2, 4), "complex64"),
    (lambda t, x: t.nn.functional.group_norm(x, 2), (2, 4), "int64"),
    (lambda t, x: t.nn.functional.group_norm(x, 2, t.ones(3)), (2, 4, 3), "float32"),
    (lambda t, x: t.nn.functional.rms_norm(x, (3, 4)), (2, 3), "float32"),
    (lambda t, x: t.nn.functional.local_response_norm(x, 2), (2,), "float32"),
])
def test_norm_errors(call, shape, dtype):
    check_raises(call, [shape], dtypes=dtype)
    x = np.ones(shape, dtype)
    errors = []
    for t in (torch, ember):
        with pytest.raises(Exception) as e:
            call(t, t.tensor(x))
        errors.append(e.value)
    assert same_message(errors[0], errors[1]), (str(errors[0]), str(errors[1]))


def test_linear_with_no_outputs_backward():
    check(lambda t, x, w, b: t.nn.functional.linear(x, w, b), [(2, 5, 3), (0, 3), (0,)])


@pytest.mark.parametrize("name", ["softplus", "logsigmoid", "mish", "gelu", "elu", "celu",
                                  "selu", "leaky_relu", "hardswish", "hardsigmoid", "relu6",
                                  "hardtanh", "softshrink", "hardshrink", "glu", "log_softmax",
                                  "softmax", "softmin", "rrelu", "threshold", "silu", "relu",
                                  "prelu"])
def test_activations_on_complex_inputs(name):
    """torch's activations have no complex kernels but silu's (and clamp's error for relu)."""
    x = np.array([1 + 1j, -2j, 0.5, 1.0], np.complex64)

    def call(t, a):
        f = getattr(t.nn.functional, name)
        if name == "threshold":
            return f(a, 0.1, 2.0)
        if name in ("softmax", "log_softmax", "softmin", "glu"):
            return f(a, 0)
        return f(a, t.tensor([0.25 + 0j])) if name == "prelu" else f(a)
    if name == "silu":   # values, and torch's refusal to differentiate them
        check(call, inputs=[x], grad=False)
        check_raises(lambda t, a: call(t, a.requires_grad_()), inputs=[x])
    else:
        check_raises(call, inputs=[x])
        msgs = []
        for t in (torch, ember):
            with pytest.raises(NotImplementedError) as e:
                call(t, t.tensor(x))
            msgs.append(str(e.value))
        assert msgs[1] == msgs[0]


def test_norm_node_names():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 5)).astype(np.float32)
    calls = [lambda t, a: t.nn.functional.batch_norm(a, None, None, training=True),
             lambda t, a: t.nn.functional.batch_norm(a, t.zeros(4), t.ones(4)),
             lambda t, a: t.nn.functional.layer_norm(a, (5,))]
    for call in calls:
        names = [call(t, t.tensor(x, requires_grad=True)).grad_fn.name() for t in (torch, ember)]
        assert names[1] == names[0]


@pytest.mark.parametrize("norm", ["layer_norm", "group_norm", "batch_norm", "instance_norm"])
def test_norm_output_written_in_place_leaves_gradients_alone(norm):
    """Without weight and bias the output is still a fresh array: writing into it in place
    cannot reach what backward kept (torch's norms save input and statistics, so the
    gradients are as if nothing happened)."""
    call = {"layer_norm": lambda t, a: t.nn.functional.layer_norm(a, (5,)),
            "group_norm": lambda t, a: t.nn.functional.group_norm(a, 2),
            "batch_norm": lambda t, a: t.nn.functional.batch_norm(a, None, None, training=True),
            "instance_norm": lambda t, a: t.nn.functional.instance_norm(a)}[norm]

    def fn(t, a):
        y = call(t, a)
        y.mul_(3).add_(1)
        return y
    check(fn, [(2, 4, 5)], "float64")


def test_norm_double_backward():
    x = np.random.default_rng(2).standard_normal((4, 3))
    xe = ember.tensor(x).requires_grad_()
    xt = torch.tensor(x, requires_grad=True)
    for fe, ft in ((lambda a: ember.nn.functional.layer_norm(a, (3,)),
                    lambda a: torch.nn.functional.layer_norm(a, (3,))),
                   (lambda a: ember.nn.functional.batch_norm(a, None, None, training=True),
                    lambda a: torch.nn.functional.batch_norm(a, None, None, training=True))):
        w = np.random.default_rng(3).standard_normal((4, 3))
        ge, = ember.autograd.grad((fe(xe) * ember.tensor(w)).sum(), xe, create_graph=True)
        gt, = torch.autograd.grad((ft(xt) * torch.tensor(w)).sum(), xt, create_graph=True)
        np.testing.assert_allclose(ge.detach().numpy(), gt.detach().numpy(), rtol=1e-8,
                                   atol=1e-10)
        gge, = ember.autograd.grad((ge * ge).sum(), xe)
        ggt, = torch.autograd.grad((gt * gt).sum(), xt)
        np.testing.assert_allclose(gge.numpy(), ggt.numpy(), rtol=1e-7, atol=1e-9)


def test_batch_norm_updates_running_stats_in_place():
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    out = []
    for t in (torch, ember):
        rm, rv = t.zeros(3), t.ones(3)
        t.nn.functional.batch_norm(t.tensor(x), rm, rv, training=True, momentum=0.3)
        out.append((rm.numpy().copy(), rv.numpy().copy()))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-6)
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-6)


def test_embedding_and_one_hot():
    idx = np.array([[1, 0], [3, 3]])
    check(lambda t, i, w: t.nn.functional.embedding(i, w), inputs=[
        idx, np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)])
    check(lambda t, i, w: t.nn.functional.embedding(i, w, padding_idx=3), inputs=[
        idx, np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)])
    check(lambda t, i: t.nn.functional.one_hot(i), inputs=[idx])
    check(lambda t, i: t.nn.functional.one_hot(i, 6), inputs=[idx])
    check(lambda t, i: t.nn.functional.one_hot(i, 6), inputs=[np.zeros((0,), np.int64)])
    check_raises(lambda t, i: t.nn.functional.one_hot(i, 2), inputs=[idx])
    check_raises(lambda t, i: t.nn.functional.one_hot(i), inputs=[np.array([-1, 0])])


def test_linear_bilinear_functional():
    check(lambda t, x, w, b: t.nn.functional.linear(x, w, b), [(2, 3, 4), (5, 4), (5,)])
    check(lambda t, x, w: t.nn.functional.linear(x, w), [(3, 4), (4,)])
    check(lambda t, a, b, w, c: t.nn.functional.bilinear(a, b, w, c),
          [(2, 3), (2, 4), (5, 3, 4), (5,)])
    t_exc, e_exc = check_raises(lambda t, x, w: t.nn.functional.linear(x, w),
                                [(2, 3), (4, 5)])
    assert str(e_exc) == str(t_exc)


def test_distances():
    check(lambda t, a, b: t.nn.functional.cosine_similarity(a, b), [(3, 4), (3, 4)])
    check(lambda t, a, b: t.nn.functional.cosine_similarity(a, b, dim=-1), [(3, 4), (4,)])
    check(lambda t, a, b: t.nn.functional.cosine_similarity(a, b), inputs=[
        np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32)])
    for p in (1.0, 2.0, 3.0):
        check(lambda t, a, b: t.nn.functional.pairwise_distance(a, b, p), [(3, 4), (3, 4)])


@pytest.mark.parametrize("causal", [False, True])
def test_scaled_dot_product_attention(causal):
    check(lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(
        q, k, v, is_causal=causal), [(2, 3, 4, 8), (2, 3, 4, 8), (2, 3, 4, 8)])
    mask = np.random.default_rng(0).random((4, 5)) < 0.7
    mask[:, 0] = True
    if not causal:
        check(lambda t, q, k, v, m: t.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=m), inputs=[np.random.default_rng(i).standard_normal(s).astype(
                np.float32) for i, s in enumerate([(2, 4, 8), (2, 5, 8), (2, 5, 6)])] + [mask])
        fm = np.random.default_rng(9).standard_normal((4, 5)).astype(np.float32)
        check(lambda t, q, k, v, m: t.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=m.detach(), scale=0.3), inputs=[
                np.random.default_rng(i).standard_normal(s).astype(np.float32)
                for i, s in enumerate([(2, 4, 8), (2, 5, 8), (2, 5, 6)])] + [fm])


def test_sdpa_fully_masked_query_gives_zero():
    """A query whose keys are all masked gets 0 output and 0 gradient in torch's SDPA (bool
    mask all False, or a float mask of -inf), not softmax's NaN."""
    rng = np.random.default_rng(1)
    qkv = [rng.standard_normal(s).astype(np.float32) for s in [(2, 4, 8), (2, 5, 8), (2, 5, 6)]]
    mask = rng.random((4, 5)) < 0.7
    mask[:, 0] = True
    mask[2] = False
    check(lambda t, q, k, v, m: t.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=m), inputs=qkv + [mask])
    fm = np.where(mask, 0, -np.inf).astype(np.float32)
    check(lambda t, q, k, v, m: t.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=m.detach()), inputs=qkv + [fm])


@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_fully_padded_batch_entry(need_weights):
    """need_weights=False runs torch's SDPA (zeros for a fully padded entry); need_weights=True
    computes the weights explicitly (NaN there, as torch)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    pad = np.zeros((2, 5), bool)
    pad[1] = True
    tm = torch.nn.MultiheadAttention(4, 2, batch_first=True)
    em = ember.nn.MultiheadAttention(4, 2, batch_first=True)
    em.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy())
                        for k, v in tm.state_dict().items()})
    outs = []
    for lib, m in ((torch, tm), (ember, em)):
        tx = lib.tensor(x)
        outs.append(m(tx, tx, tx, key_padding_mask=lib.tensor(pad),
                      need_weights=need_weights)[0].detach().numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-6)
    assert np.isnan(outs[1][1]).all() == need_weights


def test_dropout_functional_args():
    check_raises(lambda t, x: t.nn.functional.dropout(x, 1.5), [(2, 3)])
    check(lambda t, x: t.nn.functional.dropout(x, 0.5, training=False), [(2, 3)])
    check(lambda t, x: t.nn.functional.dropout(x, 1.0), [(2, 3)])
    x = ember.ones(4, 4, requires_grad=True)
    y = ember.nn.functional.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


def test_glu_channel_shuffle_gumbel():
    check(lambda t, x: t.nn.functional.glu(x, 0), [(4, 3)])
    check_raises(lambda t, x: t.nn.functional.glu(x), [(3, 3)])
    check(lambda t, x: t.nn.functional.channel_shuffle(x, 3), [(2, 6, 2)])
    y = ember.nn.functional.gumbel_softmax(ember.zeros(5, 4), hard=True)
    assert y.sum(1).tolist() == [1.0] * 5 and set(y.numpy().ravel().tolist()) <= {0.0, 1.0}


def test_linear_double_backward_and_layouts():
    rng = np.random.default_rng(5)
    x, w, b = (rng.standard_normal(s) for s in ((2, 3, 4), (5, 4), (5,)))
    xe, we, be = (ember.tensor(a).requires_grad_() for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ge = ember.autograd.grad((ember.nn.functional.linear(xe, we, be) ** 2).sum(), [xe, we, be],
                             create_graph=True)
    gt = torch.autograd.grad((torch.nn.functional.linear(xt, wt, bt) ** 2).sum(), [xt, wt, bt],
                             create_graph=True)
    for a, c in zip(ge, gt):
        np.testing.assert_allclose(a.detach().numpy(), c.detach().numpy(), rtol=1e-10)
    gge = ember.autograd.grad(sum((g * g).sum() for g in ge), [xe, we, be])
    ggt = torch.autograd.grad(sum((g * g).sum() for g in gt), [xt, wt, bt])
    for a, c in zip(gge, ggt):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-9)
    # transposed (non-contiguous) 3-D input, as MultiheadAttention's batch_first path gives
    check(lambda t, x, w, b: t.nn.functional.linear(x.transpose(0, 1), w, b),
          [(3, 2, 4), (5, 4), (5,)])
    t_exc, e_exc = check_raises(lambda t, x, w: t.nn.functional.linear(x, w.double()),
                                [(2, 3), (4, 3)])
    assert str(e_exc) == str(t_exc)


def test_pdist():
    for p in (1.0, 2.0, 3.0):
        check(lambda t, x: t.nn.functional.pdist(x, p), [(5, 3)])
    check(lambda t, x: t.nn.functional.pdist(x), [(1, 3)])


HALF_FNS = [
    ("relu", lambda t, x: t.nn.functional.relu(x)),
    ("gelu", lambda t, x: t.nn.functional.gelu(x)),
    ("silu", lambda t, x: t.nn.functional.silu(x)),
    ("softmax", lambda t, x: t.nn.functional.softmax(x, 1)),
    ("log_softmax", lambda t, x: t.nn.functional.log_softmax(x, 1)),
    ("layer_norm", lambda t, x: t.nn.functional.layer_norm(x, (4,))),
    ("batch_norm", lambda t, x: t.nn.functional.batch_norm(x, None, None, training=True)),
    ("mse_loss", lambda t, x: t.nn.functional.mse_loss(x, x * 0.5)),
    ("linear", lambda t, x: t.nn.functional.linear(x, x)),
]


@pytest.mark.parametrize("name,fn", HALF_FNS, ids=[h[0] for h in HALF_FNS])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision(name, fn, dtype):
    check(fn, [(3, 4)], dtype)


@pytest.mark.parametrize("name", ["relu", "hardtanh", "relu6", "threshold"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_piecewise_grad_masks_non_finite_and_double_backward(name, dtype):
    """The masked gradient is torch's where(): NaN/inf upstream values outside the mask become
    +0 (not NaN, not -0), and the double backward masks the same way."""
    fns = {"relu": lambda F, x: F.relu(x), "hardtanh": lambda F, x: F.hardtanh(x, -0.5, 0.5),
           "relu6": lambda F, x: F.relu6(x), "threshold": lambda F, x: F.threshold(x, 0.1, 2.0)}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 50))
    up = rng.standard_normal((4, 50))
    up[0, :10] = np.nan
    up[1, :10] = -np.inf
    up[2, :10] = -1.0
    results = []
    for lib in (torch, ember):
        edt = getattr(lib, str(dtype).split(".")[1])
        tx = lib.tensor(x, dtype=edt, requires_grad=True)
        tu = lib.tensor(up, dtype=edt, requires_grad=True)
        y = fns[name](lib.nn.functional, tx)
        (g,) = lib.autograd.grad(y, tx, tu, create_graph=True)
        # the input is reached too (zero derivative, as torch: zeros, not None)
        gg, gx = lib.autograd.grad((g * g).sum(), (tu, tx))
        results.append((g.detach().numpy().astype(np.float64), gg.detach().numpy(),
                        gx.detach().numpy()))
    (tg, tgg, tgx), (eg, egg, egx) = results
    np.testing.assert_array_equal(tgx, egx)
    np.testing.assert_array_equal(np.signbit(tg), np.signbit(eg))
    np.testing.assert_array_equal(tg, eg)
    np.testing.assert_array_equal(tgg, egg)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_relu_signed_zero_and_nan(dtype):
    """relu is torch's clamp_min(x, 0): -0.0 and NaN (of either sign) pass through, and the
    gradient flows where the output is not <= 0, NaN included; contiguous and strided inputs
    (the contiguous path compares against a cached zeros buffer)."""
    x0 = np.array([np.nan, -np.nan, 1.5, -1.0, 0.0, -0.0, -np.inf, np.inf] * 3, dtype)
    for prep in (lambda v: v, lambda v: v[::2]):
        results = []
        for lib in (torch, ember):
            x = lib.tensor(x0, requires_grad=True)
            y = lib.relu(prep(x))
            y.backward(lib.ones(y.shape, dtype=y.dtype) * 2)
            yv = y.detach().numpy()
            results.append((yv, np.signbit(yv), x.grad.numpy(), repr(y.detach())))
        t, e = results
        np.testing.assert_array_equal(e[0], t[0])
        np.testing.assert_array_equal(e[1], t[1])
        np.testing.assert_array_equal(e[2], t[2])
        assert e[3] == t[3].replace("torch", "ember")


def test_relu_bool_error_and_large_gelu():
    check_raises(lambda t, x: t.nn.functional.relu(x), inputs=[np.array([True, False])])
    check(lambda t, x: t.nn.functional.gelu(x), [(256, 200)])
    check(lambda t, x: t.nn.functional.gelu(x), [(256, 200)], "float16")


def test_float32_gelu_accuracy_over_blocks_and_tails():
    """float32 gelu's normal CDF is a NumPy kernel over blocks (two threads): over
    600k points from -13 to 9 (two blocks per thread) it matches the exact float64 value within 1e-6 absolute and
    3e-6 relative wherever x > -5 (the tail keeps its relative precision), and torch within
    float32 tolerance; the gradient too."""
    from scipy.special import ndtr
    x = np.linspace(-13, 9, 600_000).astype(np.float32)
    out = ember.nn.functional.gelu(ember.tensor(x)).numpy()
    exact = x.astype(np.float64) * ndtr(x.astype(np.float64))
    np.testing.assert_allclose(out, exact, rtol=0, atol=1e-6)
    tail = x > -5
    np.testing.assert_allclose(out[tail], exact[tail], rtol=3e-6, atol=1e-30)
    assert (out[x < -12] < 0).all()   # Phi(x) of -12.x is 1e-33: not rounded to 0
    check(lambda t, x: t.nn.functional.gelu(x), inputs=[x.reshape(3, -1)[:, ::2]])


def test_mha_static_k_v():
    """Precomputed per-head keys/values (static_k/static_v) replace the projected ones, with
    key padding; torch's assertions for wrong sizes and for bias_k with static keys."""
    rng = np.random.default_rng(6)
    tm = torch.nn.MultiheadAttention(8, 2)
    params = [to_np(p) for p in (tm.in_proj_weight, tm.in_proj_bias, tm.out_proj.weight,
                                 tm.out_proj.bias)]
    q = rng.standard_normal((3, 2, 8)).astype(np.float32)
    sk = rng.standard_normal((4, 5, 4)).astype(np.float32)
    sv = rng.standard_normal((4, 5, 4)).astype(np.float32)
    pad = np.zeros((2, 5), bool)
    pad[1, 4] = True
    outs = []
    for lib in (torch, ember):
        w_in, b_in, w_out, b_out = (lib.tensor(p) for p in params)
        tq, tk, tv = (lib.tensor(a, requires_grad=True) for a in (q, sk, sv))
        o, w = lib.nn.functional.multi_head_attention_forward(
            tq, tq, tq, 8, 2, w_in, b_in, None, None, False, 0.0, w_out, b_out,
            key_padding_mask=lib.tensor(pad), static_k=tk, static_v=tv)
        (o.sum() + w.pow(2).sum()).backward()
        outs.append([to_np(x) for x in (o, w, tq.grad, tk.grad, tv.grad)])
        for bad in (np.zeros((3, 5, 4), np.float32), np.zeros((4, 5, 3), np.float32)):
            with pytest.raises(AssertionError, match="static_k.size"):
                lib.nn.functional.multi_head_attention_forward(
                    tq, tq, tq, 8, 2, w_in, b_in, None, None, False, 0.0, w_out, b_out,
                    static_k=lib.tensor(bad), static_v=tv)
        bias = lib.zeros(1, 1, 8)
        with pytest.raises(AssertionError, match="bias cannot be added to static key"):
            lib.nn.functional.multi_head_attention_forward(
                tq, tq, tq, 8, 2, w_in, b_in, bias, bias, False, 0.0, w_out, b_out,
                static_k=tk, static_v=tv)
    for t, e in zip(*outs):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


def to_np(x):
    return x.detach().numpy().copy()


def test_distances_share_one_implementation():
    """F.pdist, F.pairwise_distance and F.cosine_similarity are torch.pdist, ... (one
    implementation each): p = 0 and p < 1 work with torch's subgradients (0 at zero
    elements), and integer inputs to cosine_similarity raise as in torch."""
    x = np.array([[0.0, 1.5, -2.0], [0.0, 1.5, 1.0], [3.0, 0.0, 1.0]])
    y = np.array([[1.0, 1.5, -2.0], [0.0, 0.5, 1.0], [3.0, 0.0, 2.0]])
    for p in (0.0, 0.5, 1.0, 2.0, 3.0, float("inf")):
        check(lambda t, a: t.nn.functional.pdist(a, p), inputs=[x])
        check(lambda t, a, b: t.nn.functional.pairwise_distance(a, b, p), inputs=[x, y])
        check(lambda t, a: t.linalg.vector_norm(a, p, dim=1), inputs=[x])
    ints = np.array([[1, 2, 3], [4, 5, 7]])
    check_raises(lambda t, a, b: t.nn.functional.cosine_similarity(a, b),
                 inputs=[ints, ints[::-1]])   # integers: torch's RuntimeError
    check(lambda t, a, b: t.nn.functional.cosine_similarity(a, b, 0), inputs=[x, y])
    assert ember.nn.functional.pdist is ember.pdist


@pytest.mark.parametrize("name", ["softshrink", "hardshrink"])
def test_shrink_nan_and_inf(name):
    """NaN is outside [-lambd, lambd] for torch (it tests the inside): it passes through, and
    so does the gradient; infinities too."""
    x = np.array([np.nan, 0.3, -0.7, 0.9, np.inf, -np.inf, 0.5, -0.5], np.float32)
    check(lambda t, v: getattr(t.nn.functional, name)(v, 0.5), inputs=[x])


@pytest.mark.parametrize("momentum", [0.1, None])
def test_instance_norm_running_stats(momentum):
    """InstanceNorm with running statistics: three training steps (the statistics are the
    mean of the N per-sample updates), then eval; outputs, gradients and buffers as torch."""
    rng = np.random.default_rng(12)
    xs = [(2 + rng.standard_normal((4, 3, 5, 6))).astype(np.float32) for _ in range(3)]
    results = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        m = lib.nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=momentum)
        outs = []
        for a in xs:
            x = lib.tensor(a, requires_grad=True)
            y = m(x)
            (y * lib.tensor(a)).sum().backward()
            outs += [y, x.grad]
        m.eval()
        outs += [m(lib.tensor(xs[0])), m.running_mean, m.running_var, m.weight.grad,
                 m.bias.grad, m.num_batches_tracked]
        results.append(outs)
    for t_v, e_v in zip(*results):
        assert_close(t_v, e_v, rtol=1e-4, atol=1e-5)
