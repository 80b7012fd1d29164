"""RNN/LSTM/GRU and their cells against torch: parameters copied through state_dict, outputs,
final states, input and parameter gradients, reprs; packed sequences."""
import numpy as np
import pytest
import torch

import ember
from module_oracle import check_module, ember_class
from oracle import assert_close, check_raises, make_array, to_ember, to_torch


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kwargs,shape", [
    ({}, (5, 3, 4)),
    (dict(num_layers=2, bidirectional=True), (4, 2, 4)),
    (dict(batch_first=True, bias=False), (3, 5, 4)),
    (dict(num_layers=2), (6, 4)),                     # unbatched
])
def test_rnn_layers(name, kwargs, shape):
    check_module("rnn", name, (4, 6), kwargs, [shape], rtol=1e-4, atol=1e-5)


def test_rnn_relu_and_initial_state():
    check_module("rnn", "RNN", (4, 6), dict(nonlinearity="relu", num_layers=2),
                 [(5, 3, 4), (2, 3, 6)], call=lambda m, x, h: m(x, h), rtol=1e-4, atol=1e-5)
    check_module("rnn", "LSTM", (4, 6), dict(bidirectional=True),
                 [(5, 3, 4), (2, 3, 6), (2, 3, 6)], call=lambda m, x, h, c: m(x, (h, c)),
                 rtol=1e-4, atol=1e-5)


def test_rnn_dropout_eval_and_repr():
    check_module("rnn", "GRU", (4, 6), dict(num_layers=2, dropout=0.5), [(5, 3, 4)],
                 modes=("eval",), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,args,kwargs,shapes", [
    ("RNNCell", (4, 6), {}, [(3, 4), (3, 6)]),
    ("RNNCell", (4, 6), dict(nonlinearity="relu", bias=False), [(4,), (6,)]),
    ("GRUCell", (4, 6), {}, [(3, 4), (3, 6)]),
])
def test_cells(name, args, kwargs, shapes):
    check_module("rnn", name, args, kwargs, shapes, rtol=1e-4, atol=1e-5)
    check_module("rnn", name, args, kwargs, shapes[:1], rtol=1e-4, atol=1e-5)


def test_lstm_cell():
    check_module("rnn", "LSTMCell", (4, 6), {}, [(3, 4), (3, 6), (3, 6)],
                 call=lambda m, x, h, c: m(x, (h, c)), rtol=1e-4, atol=1e-5)
    check_module("rnn", "LSTMCell", (4, 6), {}, [(3, 4)], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_packed_sequence(name):
    lengths = [5, 2, 4]

    def call(m, x):
        lib = torch if isinstance(x, torch.Tensor) else ember
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, lib.tensor(lengths), batch_first=True,
                                                       enforce_sorted=False)
        out, h = m(packed)
        padded, lens = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        return padded, h
    check_module("rnn", name, (4, 3), dict(batch_first=True, bidirectional=True), [(3, 5, 4)],
                 call=call, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs,shape", [
    (dict(proj_size=3), (5, 2, 4)),
    (dict(proj_size=2, num_layers=2, bidirectional=True), (4, 3, 4)),
    (dict(proj_size=3, batch_first=True, bias=False), (2, 5, 4)),
])
def test_lstm_proj_size(kwargs, shape):
    check_module("rnn", "LSTM", (4, 6), kwargs, [shape], rtol=1e-4, atol=1e-5)


def test_lstm_proj_size_initial_state_and_errors():
    check_module("rnn", "LSTM", (4, 6), dict(proj_size=3, num_layers=2),
                 [(5, 2, 4), (2, 2, 3), (2, 2, 6)], call=lambda m, x, h, c: m(x, (h, c)),
                 rtol=1e-4, atol=1e-5)
    for hc in [((2, 2, 6), (2, 2, 6)), ((2, 2, 3), (2, 2, 3))]:
        check_raises(lambda t, x, h, c: t.nn.LSTM(4, 6, 2, proj_size=3)(x, (h, c)),
                     [(5, 2, 4), *hc])
    check_raises(lambda t: t.nn.GRU(4, 6, proj_size=2), [])


def test_rnn_errors():
    m = ember_class("rnn", "LSTM")(4, 6)
    with pytest.raises(RuntimeError):
        m(ember.randn(5, 3, 5))
    with pytest.raises(ValueError):
        ember_class("rnn", "RNN")(4, 6, nonlinearity="sigmoid")
    with pytest.raises(ValueError):
        ember_class("rnn", "GRU")(4, 6, dropout=1.5)


@pytest.mark.parametrize("name,kwargs", [("LSTM", {}), ("LSTM", dict(num_layers=2,
                                                                      bidirectional=True)),
                                         ("LSTM", dict(proj_size=2)), ("GRU", {}),
                                         ("GRU", dict(num_layers=2, bidirectional=True)),
                                         ("RNN", {}), ("RNN", dict(nonlinearity="relu",
                                                                   bidirectional=True))])
def test_fused_rnn_double_backward(name, kwargs):
    """create_graph=True through the fused LSTM/GRU layers: the gradient of an input-gradient
    norm reaches the weights as torch's does."""
    rng = np.random.default_rng(3)
    tm = getattr(torch.nn, name)(3, 4, **kwargs).double()
    em = ember_class("rnn", name)(3, 4, **kwargs).double()
    em.load_state_dict({k: to_ember(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = make_array((5, 2, 3), "float64", rng)
    up = make_array(tuple(tm(to_torch(x))[0].shape), "float64", rng)
    grads = []
    for lib, m, tx in ((torch, tm, to_torch(x, True)), (ember, em, to_ember(x, True))):
        with torch.backends.mkldnn.flags(enabled=False):   # torch's differentiable path
            out = m(tx)[0]
            (gx,) = lib.autograd.grad(out, tx, lib.from_numpy(up), create_graph=True)
            (gx * gx).sum().backward()
        grads.append([p.grad for p in m.parameters()])
    for t, e in zip(*grads):
        assert_close(t, e, rtol=1e-8, atol=1e-10)


def test_lstm_grad_fn_and_partial_grads():
    """Only some outputs used, inputs without grad: gradients still match torch."""
    rng = np.random.default_rng(4)
    tm = torch.nn.LSTM(3, 4, num_layers=2)
    em = ember_class("rnn", "LSTM")(3, 4, num_layers=2)
    em.load_state_dict({k: to_ember(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = make_array((6, 2, 3), "float32", rng)
    for lib, m, tx in ((torch, tm, to_torch(x)), (ember, em, to_ember(x))):
        out, (h, c) = m(tx)
        (c[1].sum() + out[2].pow(2).sum()).backward()
    for (k, t), e in zip(tm.named_parameters(), em.parameters()):
        assert_close(t.grad, e.grad, rtol=1e-4, atol=1e-5, what=k)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_fused_rnn_half_dtypes(dtype, name):
    """Half-precision LSTM/GRU (computed in float32 inside the fused layers) keep their dtype
    in outputs and gradients and stay close to torch's."""
    rng = np.random.default_rng(5)
    kw = dict(num_layers=2, proj_size=3) if name == "LSTM" else dict(num_layers=2)
    tm = getattr(torch.nn, name)(4, 6, **kw)
    em = ember_class("rnn", name)(4, 6, **kw)
    em.load_state_dict({k: to_ember(v.detach().numpy()) for k, v in tm.state_dict().items()})
    tm, em = tm.to(getattr(torch, dtype)), em.to(getattr(ember, dtype))
    x = make_array((5, 2, 4), "float32", rng)
    outs = []
    for lib, m in ((torch, tm), (ember, em)):
        out, hc = m(lib.tensor(x).to(getattr(lib, dtype)))
        c = hc[1] if name == "LSTM" else hc
        assert out.dtype == getattr(lib, dtype) and c.dtype == getattr(lib, dtype)
        (out.float().sum() + c.float().pow(2).sum()).backward()
        outs.append([out.float().detach().numpy()] +
                    [p.grad.float().numpy() for p in m.parameters()])
    for t, e in zip(*outs):
        np.testing.assert_allclose(e, t, rtol=5e-2, atol=5e-2)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_output_node_names_as_torch(mode, dtype):
    """torch's CPU LSTM output comes from oneDNN's layer in float32 (MkldnnRnnLayerBackward0),
    else from stacking the steps (StackBackward0), as GRU's and RNN's do."""
    def names(t):
        m = getattr(t.nn, mode)(3, 4).to(getattr(t, dtype))
        out, h = m(t.ones(5, 2, 3, dtype=getattr(t, dtype)))
        h = h[0] if mode == "LSTM" else h
        return out.grad_fn.name(), h.grad_fn.name()
    assert names(ember) == names(torch)
