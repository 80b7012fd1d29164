"""nn.Transformer and its encoder/decoder layers and stacks against torch: parameters copied
through state_dict, outputs, input and parameter gradients in train (dropout=0) and eval mode,
masks, batch_first, norm_first, reprs, state_dict keys, warnings and errors."""
import contextlib
import copy
import math
import warnings

import numpy as np
import pytest
import torch

import ember
from module_oracle import check_module, copy_state
from oracle import assert_close, check_raises, make_array, to_ember, to_torch

E, H, FF = 8, 2, 16


pytestmark = pytest.mark.usefixtures("one_torch_thread")   # (conftest.py)


@pytest.fixture(autouse=True)
def _seeded():
    """Each test draws its modules' weights from a fixed seed: otherwise they depend on which
    tests ran before it on the same worker, and float32 attention, summed in other orders by
    torch's flash kernel and ember's composite, drifts past 1e-5 on some draws."""
    torch.manual_seed(0)
    ember.manual_seed(0)

S, T, N = 5, 4, 3


def _t(m, a):
    """The NumPy array `a` as a tensor of m's framework (a constant mask)."""
    if a is None:
        return None
    return to_torch(a) if isinstance(m, torch.nn.Module) else to_ember(a)


def _bool_mask(shape, seed=1):
    m = np.random.default_rng(seed).random(shape) < 0.3
    m[..., 0] = False       # every query keeps one key: no all -inf rows
    return m


def _pad_mask(n, s):
    """Right-padding key mask (True = pad) with lengths s, s-1, s-2, ..."""
    lengths = [max(1, s - i) for i in range(n)]
    return np.arange(s)[None, :] >= np.array(lengths)[:, None]


def _float_mask(shape, seed=2):
    return np.where(_bool_mask(shape, seed), -np.inf, 0).astype(np.float32)


def _causal(n):
    return np.triu(np.full((n, n), -np.inf, np.float32), 1)


def _shape(batch_first, s, n=N, e=E):
    return (n, s, e) if batch_first else (s, n, e)


@contextlib.contextmanager
def _quiet():
    """Drops torch's (and ember's) enable_nested_tensor warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


# ---------------------------------------------------------------------------------------------
# encoder layer
# ---------------------------------------------------------------------------------------------

ENC_MASKS = {
    "none": (None, None, False),
    "bool_src_mask": (_bool_mask((S, S)), None, False),
    "float_src_mask": (_float_mask((S, S)), None, False),
    "3d_src_mask": (_float_mask((N * H, S, S)), None, False),
    "padding": (None, _pad_mask(N, S), False),
    "float_padding": (None, np.where(_pad_mask(N, S), -np.inf, 0).astype(np.float32), False),
    "both": (_float_mask((S, S)), np.where(_pad_mask(N, S), -np.inf, 0).astype(np.float32),
             False),
    "causal": (_causal(S), None, True),
    "causal_padding": (_causal(S), _pad_mask(N, S), True),
    "bool_causal": (np.triu(np.ones((S, S), bool), 1), None, False),
}


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("masks", list(ENC_MASKS))
def test_encoder_layer(batch_first, norm_first, masks):
    src_mask, kpm, is_causal = ENC_MASKS[masks]

    def call(m, x):
        return m(x, src_mask=_t(m, src_mask), src_key_padding_mask=_t(m, kpm),
                 is_causal=is_causal)

    check_module("transformer", "TransformerEncoderLayer", (E, H, FF, 0.0),
                 {"batch_first": batch_first, "norm_first": norm_first},
                 shapes=[_shape(batch_first, S)], call=call)


@pytest.mark.parametrize("masks", list(ENC_MASKS))
def test_encoder_layer_inference(masks):
    """eval + no_grad + batch_first is torch's fused fast path; same values."""
    src_mask, kpm, is_causal = ENC_MASKS[masks]
    tm = torch.nn.TransformerEncoderLayer(E, H, FF, batch_first=True)
    em = ember.nn.TransformerEncoderLayer(E, H, FF, batch_first=True)
    copy_state(tm, em)
    tm.eval()
    em.eval()
    x = make_array((N, S, E), "float32", np.random.default_rng(3))
    with torch.no_grad(), ember.no_grad():
        outs = [m(_t(m, x), src_mask=_t(m, src_mask), src_key_padding_mask=_t(m, kpm),
                  is_causal=is_causal) for m in (tm, em)]
    assert_close(*outs)


@pytest.mark.parametrize("kwargs", [
    {"activation": "gelu"}, {"activation": "relu"}, {"bias": False},
    {"layer_norm_eps": 1e-3, "dim_feedforward": 7}, {"nhead": 1}, {"nhead": 4},
])
def test_encoder_layer_options(kwargs):
    kw = dict(kwargs)
    nhead = kw.pop("nhead", H)
    check_module("transformer", "TransformerEncoderLayer", (E, nhead),
                 {"dim_feedforward": FF, "dropout": 0.0, **kw}, shapes=[(S, N, E)])


def test_encoder_layer_float64_and_unbatched():
    check_module("transformer", "TransformerEncoderLayer", (E, H, FF, 0.0), shapes=[(S, N, E)],
                 dtype="float64", rtol=1e-10, atol=1e-10)
    pad = _pad_mask(1, S)[0]
    check_module("transformer", "TransformerEncoderLayer", (E, H, FF, 0.0),
                 {"batch_first": True}, shapes=[(S, E)],
                 call=lambda m, x: m(x, src_key_padding_mask=_t(m, pad)))


@pytest.mark.parametrize("which", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
def test_module_and_callable_activations(which):
    """A Module activation is a registered child (in repr, state_dict unchanged); any callable
    works."""
    rng = np.random.default_rng(0)
    shapes = [(S, N, E)] if which.startswith("TransformerEncoder") else [(T, N, E), (S, N, E)]
    xs = [make_array(s, "float32", rng) for s in shapes]
    for make in (lambda lib: lib.nn.GELU(approximate="tanh"), lambda lib: lib.nn.Tanh(),
                 lambda lib: lib.sigmoid):
        tm = getattr(torch.nn, which)(E, H, FF, 0.0, activation=make(torch))
        em = getattr(ember.nn, which)(E, H, FF, 0.0, activation=make(ember))
        assert repr(em) == repr(tm)
        assert list(em.state_dict()) == list(tm.state_dict())
        copy_state(tm, em)
        t_in = [to_torch(x, True) for x in xs]
        e_in = [to_ember(x, True) for x in xs]
        to, eo = tm(*t_in), em(*e_in)
        assert_close(to, eo)
        up = make_array(tuple(to.shape), "float32", rng)
        to.backward(to_torch(up))
        eo.backward(to_ember(up))
        for t, e in zip(t_in, e_in):
            assert_close(t.grad, e.grad, what="input grad")
        ep = dict(em.named_parameters())
        for k, p in tm.named_parameters():
            assert_close(p.grad, ep[k].grad, what=k)


def test_activation_relu_or_gelu_flag():
    for act, flag in [("relu", 1), ("gelu", 2), (ember.nn.functional.relu, 1),
                      (ember.nn.ReLU(), 1), (ember.nn.GELU(), 2), (ember.tanh, 0)]:
        layer = ember.nn.TransformerEncoderLayer(E, H, FF, activation=act)
        assert layer.activation_relu_or_gelu == flag


# ---------------------------------------------------------------------------------------------
# decoder layer
# ---------------------------------------------------------------------------------------------

DEC_MASKS = {
    "none": {},
    "tgt_causal": {"tgt_mask": _causal(T), "tgt_is_causal": True},
    "tgt_bool": {"tgt_mask": _bool_mask((T, T))},
    "memory_mask": {"memory_mask": _float_mask((T, S))},
    "padding": {"tgt_key_padding_mask": _pad_mask(N, T),
                "memory_key_padding_mask": _pad_mask(N, S)},
    "all": {"tgt_mask": _causal(T), "memory_mask": _bool_mask((T, S)),
            "tgt_key_padding_mask": _pad_mask(N, T),
            "memory_key_padding_mask": _pad_mask(N, S)},
}


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("masks", list(DEC_MASKS))
def test_decoder_layer(batch_first, norm_first, masks):
    kw = DEC_MASKS[masks]

    def call(m, tgt, mem):
        return m(tgt, mem, **{k: (_t(m, v) if isinstance(v, np.ndarray) else v)
                              for k, v in kw.items()})

    check_module("transformer", "TransformerDecoderLayer", (E, H, FF, 0.0),
                 {"batch_first": batch_first, "norm_first": norm_first},
                 shapes=[_shape(batch_first, T), _shape(batch_first, S)], call=call)


def test_decoder_layer_options():
    check_module("transformer", "TransformerDecoderLayer", (E, 4),
                 {"dim_feedforward": 12, "dropout": 0.0, "activation": "gelu", "bias": False,
                  "layer_norm_eps": 1e-4}, shapes=[(T, N, E), (S, N, E)])
    check_module("transformer", "TransformerDecoderLayer", (E, H, FF, 0.0), shapes=[(T, E), (S, E)])


# ---------------------------------------------------------------------------------------------
# stacks
# ---------------------------------------------------------------------------------------------

def _encoder(lib, batch_first=False, norm_first=False, num_layers=2, norm=True, **kw):
    layer = lib.nn.TransformerEncoderLayer(E, H, FF, 0.0, batch_first=batch_first,
                                           norm_first=norm_first)
    return lib.nn.TransformerEncoder(layer, num_layers, lib.nn.LayerNorm(E) if norm else None,
                                     **kw)


def _decoder(lib, batch_first=False, norm_first=False, num_layers=2, norm=True):
    layer = lib.nn.TransformerDecoderLayer(E, H, FF, 0.0, batch_first=batch_first,
                                           norm_first=norm_first)
    return lib.nn.TransformerDecoder(layer, num_layers, lib.nn.LayerNorm(E) if norm else None)


def _check_pair(tm, em, inputs, call, modes=("train", "eval"), rtol=1e-5, atol=1e-5):
    """check_module's comparison for modules built by hand in both libraries."""
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    copy_state(tm, em)
    rng = np.random.default_rng(5)
    for mode in modes:
        getattr(tm, mode)()
        getattr(em, mode)()
        tm.zero_grad()
        em.zero_grad()
        t_in = [to_torch(a, True) for a in inputs]
        e_in = [to_ember(a, True) for a in inputs]
        to, eo = call(tm, *t_in), call(em, *e_in)
        assert_close(to, eo, rtol=rtol, atol=atol, what=f"{mode} output")
        up = make_array(tuple(to.shape), "float32", rng)
        to.backward(to_torch(up))
        eo.backward(to_ember(up))
        for i, (t, e) in enumerate(zip(t_in, e_in)):
            assert_close(t.grad, e.grad, rtol=rtol, atol=atol, what=f"{mode} input {i} grad")
        ep = dict(em.named_parameters())
        for k, p in tm.named_parameters():
            assert_close(p.grad, ep[k].grad, rtol=rtol, atol=atol, what=f"{mode} grad {k}")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "both", "causal", "causal_padding", "bool_causal"])
def test_encoder_stack(batch_first, norm_first, masks):
    src_mask, kpm, _ = ENC_MASKS[masks]
    with _quiet():
        tm = _encoder(torch, batch_first, norm_first)
        em = _encoder(ember, batch_first, norm_first)
    x = make_array(_shape(batch_first, S), "float32", np.random.default_rng(3))
    # is_causal left to None: the stack detects the causal mask itself
    _check_pair(tm, em, [x], lambda m, x: m(x, mask=_t(m, src_mask),
                                            src_key_padding_mask=_t(m, kpm)))


def test_encoder_stack_layers_are_independent_copies():
    with _quiet():
        em = _encoder(ember, num_layers=3)
    ps = [layer.linear1.weight for layer in em.layers]
    assert len({id(p) for p in ps}) == 3
    assert all(np.array_equal(p.detach().numpy(), ps[0].detach().numpy()) for p in ps)
    assert len(list(em.parameters())) == 3 * 12 + 2


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "all", "tgt_causal"])
def test_decoder_stack(batch_first, norm_first, masks):
    kw = {k: v for k, v in DEC_MASKS[masks].items() if k != "tgt_is_causal"}
    tm = _decoder(torch, batch_first, norm_first)
    em = _decoder(ember, batch_first, norm_first)
    rng = np.random.default_rng(4)
    xs = [make_array(_shape(batch_first, T), "float32", rng),
          make_array(_shape(batch_first, S), "float32", rng)]
    _check_pair(tm, em, xs, lambda m, t, s: m(t, s, **{k: _t(m, v) for k, v in kw.items()}))


def test_encoder_nested_tensor_path_zeroes_padding():
    """eval + no grad + batch_first + left-aligned padding: torch pads its nested output with 0
    before the final norm; ember matches (also without norm)."""
    for norm in (True, False):
        tm = _encoder(torch, batch_first=True, norm=norm)
        em = _encoder(ember, batch_first=True, norm=norm)
        assert tm.use_nested_tensor and em.use_nested_tensor
        copy_state(tm, em)
        tm.eval()
        em.eval()
        x = make_array((N, S, E), "float32", np.random.default_rng(6))
        pad = _pad_mask(N, S)
        with torch.no_grad(), ember.no_grad():
            to = tm(to_torch(x), src_key_padding_mask=to_torch(pad))
            eo = em(to_ember(x), src_key_padding_mask=to_ember(pad))
        assert_close(to, eo)
        if not norm:
            assert not np.any(eo.numpy()[pad])
        # not left-aligned (padding first): the ordinary path, no zeroing, still equal
        lpad = pad[:, ::-1].copy()
        with torch.no_grad(), ember.no_grad():
            to = tm(to_torch(x), src_key_padding_mask=to_torch(lpad))
            eo = em(to_ember(x), src_key_padding_mask=to_ember(lpad))
        assert_close(to, eo)
        # a fully padded row: zeros on the nested path (no NaN)
        fpad = pad.copy()
        fpad[1] = True
        with torch.no_grad(), ember.no_grad():
            to = tm(to_torch(x), src_key_padding_mask=to_torch(fpad))
            eo = em(to_ember(x), src_key_padding_mask=to_ember(fpad))
        assert_close(to, eo)


def test_encoder_nested_path_without_mask_check():
    """mask_check=False: torch takes each row's first (unpadded count) tokens, wherever the
    padding sits, and zeroes the rest."""
    with _quiet():
        tm = _encoder(torch, batch_first=True, norm=False, mask_check=False)
        em = _encoder(ember, batch_first=True, norm=False, mask_check=False)
    copy_state(tm, em)
    tm.eval()
    em.eval()
    x = make_array((2, 4, E), "float32", np.random.default_rng(8))
    pad = np.array([[True, False, False, False], [False, True, False, True]])
    with torch.no_grad(), ember.no_grad():
        to = tm(to_torch(x), src_key_padding_mask=to_torch(pad))
        eo = em(to_ember(x), src_key_padding_mask=to_ember(pad))
    assert_close(to, eo)


# ---------------------------------------------------------------------------------------------
# Transformer
# ---------------------------------------------------------------------------------------------

TF_ARGS = (E, H, 2, 1, FF, 0.0)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer(batch_first, norm_first):
    with _quiet():
        check_module("transformer", "Transformer", TF_ARGS,
                     {"batch_first": batch_first, "norm_first": norm_first},
                     shapes=[_shape(batch_first, S), _shape(batch_first, T)], rtol=2e-5,
                     atol=2e-5)


def test_transformer_with_masks():
    masks = dict(src_mask=_float_mask((S, S)), tgt_mask=_causal(T),
                 memory_mask=_bool_mask((T, S)), src_key_padding_mask=_pad_mask(N, S),
                 tgt_key_padding_mask=_pad_mask(N, T), memory_key_padding_mask=_pad_mask(N, S))

    def call(m, src, tgt):
        return m(src, tgt, **{k: _t(m, v) for k, v in masks.items()})

    with _quiet():
        check_module("transformer", "Transformer", TF_ARGS, {"activation": "gelu"},
                     shapes=[(S, N, E), (T, N, E)], call=call, rtol=2e-5, atol=2e-5)
        # explicit causal hints
        check_module("transformer", "Transformer", TF_ARGS, {"batch_first": True},
                     shapes=[(N, S, E), (N, T, E)], rtol=2e-5, atol=2e-5,
                     call=lambda m, s, t: m(s, t, src_mask=_t(m, _causal(S)),
                                            tgt_mask=_t(m, _causal(T)), src_is_causal=True,
                                            tgt_is_causal=True))


def test_transformer_unbatched_and_float64():
    with _quiet():
        check_module("transformer", "Transformer", TF_ARGS, shapes=[(S, E), (T, E)],
                     rtol=2e-5, atol=2e-5)
        check_module("transformer", "Transformer", TF_ARGS, {"bias": False},
                     shapes=[(S, N, E), (T, N, E)], dtype="float64", rtol=1e-9, atol=1e-9)


def test_transformer_custom_encoder_decoder():
    with _quiet():
        tm = torch.nn.Transformer(E, H, dim_feedforward=FF, dropout=0.0,
                                  custom_encoder=_encoder(torch, num_layers=1, norm=False),
                                  custom_decoder=_decoder(torch, num_layers=3))
        em = ember.nn.Transformer(E, H, dim_feedforward=FF, dropout=0.0,
                                  custom_encoder=_encoder(ember, num_layers=1, norm=False),
                                  custom_decoder=_decoder(ember, num_layers=3))
    rng = np.random.default_rng(7)
    xs = [make_array((S, N, E), "float32", rng), make_array((T, N, E), "float32", rng)]
    _check_pair(tm, em, xs, lambda m, s, t: m(s, t, tgt_mask=_t(m, _causal(T))),
                rtol=2e-5, atol=2e-5)


def test_transformer_default_repr_and_state_dict():
    with _quiet():
        tm = torch.nn.Transformer()
        em = ember.nn.Transformer()
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    for (k, tv), ev in zip(tm.state_dict().items(), em.state_dict().values()):
        assert tuple(tv.shape) == tuple(ev.shape), k
    assert (em.d_model, em.nhead, em.batch_first) == (512, 8, False)


def test_transformer_init_distribution():
    """Every parameter with dim > 1 is xavier-uniform; 1-d ones keep their layer's init."""
    ember.manual_seed(0)
    with _quiet():
        em = ember.nn.Transformer(16, 2, 1, 1, 32)
    for name, p in em.named_parameters():
        a = p.detach().numpy()
        if p.dim() > 1:
            fan_out, fan_in = a.shape
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            assert np.abs(a).max() <= bound and np.abs(a).max() > 0.8 * bound, name
        elif "norm" in name:
            assert np.all(a == (1.0 if name.endswith("weight") else 0.0)), name


def test_generate_square_subsequent_mask():
    for sz in (0, 1, 4):
        assert_close(torch.nn.Transformer.generate_square_subsequent_mask(sz),
                     ember.nn.Transformer.generate_square_subsequent_mask(sz))
    assert_close(torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64),
                 ember.nn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64))
    em = ember.nn.Transformer.generate_square_subsequent_mask(3, device="cpu")
    assert em.device.type == "cpu"


def test_dropout_in_train_mode():
    ember.manual_seed(0)
    em = ember.nn.TransformerEncoderLayer(E, H, FF, dropout=0.5)
    x = ember.randn(S, N, E)
    a, b = em(x).detach(), em(x).detach()
    assert a.shape == (S, N, E) and not np.allclose(a.numpy(), b.numpy())
    em.eval()
    assert np.array_equal(em(x).detach().numpy(), em(x).detach().numpy())


# ---------------------------------------------------------------------------------------------
# warnings and errors
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {}, {"batch_first": True}, {"batch_first": True, "norm_first": True},
    {"batch_first": True, "bias": False}, {"batch_first": True, "activation": "gelu"},
    {"batch_first": True, "activation": "tanh"}, {"batch_first": True, "nhead": 1},
])
def test_nested_tensor_warning(kwargs):
    def run(lib):
        kw = dict(kwargs)
        nhead = kw.pop("nhead", H)
        if kw.get("activation") == "tanh":
            kw["activation"] = lib.tanh
        layer = lib.nn.TransformerEncoderLayer(E, nhead, FF, **kw)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            enc = lib.nn.TransformerEncoder(layer, 1)
        return [str(x.message) for x in w], enc.use_nested_tensor
    assert run(ember) == run(torch)


def test_errors():
    with _quiet():
        check_raises(lambda t, s, g: t.nn.Transformer(E, H, 1, 1, FF)(s, g),
                     inputs=[make_array((S, N, E)), make_array((T, N + 1, E))],
                     match="the batch number of src and tgt must be equal")
        check_raises(lambda t, s, g: t.nn.Transformer(E, H, 1, 1, FF, batch_first=True)(s, g),
                     inputs=[make_array((N, S, E)), make_array((N + 1, T, E))],
                     match="the batch number")
        check_raises(lambda t, s, g: t.nn.Transformer(E, H, 1, 1, FF)(s, g),
                     inputs=[make_array((S, N, E)), make_array((T, N, E + 1))],
                     match="the feature number of src and tgt must be equal to d_model")
    check_raises(lambda t: t.nn.TransformerEncoderLayer(E, H, activation="tanh"), inputs=[],
                 match="activation should be relu/gelu, not tanh")
    check_raises(lambda t: t.nn.TransformerDecoderLayer(E, H, activation="swish"), inputs=[],
                 match="activation should be relu/gelu, not swish")
    check_raises(lambda t: t.nn.TransformerEncoderLayer(E, 3), inputs=[])
    # integer masks are rejected
    check_raises(lambda t, x, m: t.nn.TransformerEncoderLayer(E, H, FF)(x, src_mask=m),
                 inputs=[make_array((S, N, E)), np.zeros((S, S), np.int64)],
                 match="only bool and floating types of src_mask are supported")
    check_raises(lambda t, x, m: t.nn.TransformerEncoderLayer(E, H, FF)(x, src_key_padding_mask=m),
                 inputs=[make_array((S, N, E)), np.zeros((N, S), np.int64)],
                 match="only bool and floating types of src_key_padding_mask")
    # is_causal needs a mask
    check_raises(lambda t, x: t.nn.TransformerEncoderLayer(E, H, FF)(x, is_causal=True),
                 inputs=[make_array((S, N, E))], match="Need attn_mask")


def test_mismatched_mask_types_warn():
    def run(lib):
        layer = lib.nn.TransformerEncoderLayer(E, H, FF, 0.0)
        x = _t(layer, make_array((S, N, E)))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            layer(x, src_mask=_t(layer, _float_mask((S, S))),
                  src_key_padding_mask=_t(layer, _pad_mask(N, S)))
        return [str(x.message) for x in w if "mismatched" in str(x.message)]
    got = run(ember)
    assert got == run(torch) and got


def test_deepcopy_and_state_dict_roundtrip():
    """A torch checkpoint loads into ember and ember's own state_dict round-trips."""
    with _quiet():
        tm = torch.nn.Transformer(E, H, 1, 2, FF, 0.0)
        em = ember.nn.Transformer(E, H, 1, 2, FF, 0.0)
    copy_state(tm, em)
    em2 = copy.deepcopy(em)
    for (k, a), b in zip(em.state_dict().items(), em2.state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy()), k
        assert_close(tm.state_dict()[k], a, what=k)


def test_decoder_stack_detects_bool_causal_mask():
    tm = _decoder(torch, num_layers=1)
    em = _decoder(ember, num_layers=1)
    rng = np.random.default_rng(9)
    xs = [make_array((T, N, E), "float32", rng), make_array((S, N, E), "float32", rng)]
    causal = np.triu(np.ones((T, T), bool), 1)
    _check_pair(tm, em, xs, lambda m, t, s: m(t, s, tgt_mask=_t(m, causal)))


def test_torch_checkpoint_file_and_pickle():
    import io
    import pickle
    with _quiet():
        tm = torch.nn.Transformer(E, H, 1, 1, FF, 0.0)
        em = ember.nn.Transformer(E, H, 1, 1, FF, 0.0)
    buf = io.BytesIO()
    torch.save(tm.state_dict(), buf)
    buf.seek(0)
    res = em.load_state_dict(ember.load(buf))
    assert not res.missing_keys and not res.unexpected_keys
    em2 = pickle.loads(pickle.dumps(em))
    assert em2.encoder.layers[0].activation is ember.nn.functional.relu
    tm.eval()
    em2.eval()
    rng = np.random.default_rng(10)
    src, tgt = make_array((S, N, E), "float32", rng), make_array((T, N, E), "float32", rng)
    with torch.no_grad(), ember.no_grad():
        assert_close(tm(to_torch(src), to_torch(tgt)), em2(to_ember(src), to_ember(tgt)))


def test_fully_padded_row_outside_nested_path():
    pad = _pad_mask(N, S)
    pad[1] = True
    check_module("transformer", "TransformerEncoderLayer", (E, H, FF, 0.0), shapes=[(S, N, E)],
                 call=lambda m, x: m(x, src_key_padding_mask=_t(m, pad)))
