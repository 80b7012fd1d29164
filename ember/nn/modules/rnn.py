"""RNN, LSTM, GRU and their cells.

The input projections of all time steps are one GEMM per layer and direction
(x @ W_ih^T + b_ih over (T*B, in)); each layer and direction is then one op whose time loop
runs inside it on arrays (`_ops/recurrent.py`), only the hidden-to-hidden product per step.
Gates follow torch's layouts: LSTM (i, f, g, o), GRU (r, z, n) with
n = tanh(W_in x + b_in + r * (W_hn h + b_hn)). Packed sequences run on the padded batch with
each sequence's state frozen after its length, so reverse directions start at each
sequence's own last element.
"""
import math

import numpy as np

import ember
from ember._ops.creation import empty
from ember._ops.recurrent import (gru_layer, gru_step as _gru_step, lstm_layer,
                                  lstm_step as _lstm_step, rnn_layer, rnn_step as _rnn_step)
from ember.nn import functional as F
from ember.nn import init
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_hx_dims(batched, h0, c0):
    """torch's message when hx's rank does not match the input's (3-D batched, 2-D not)."""
    want = 3 if batched else 2
    kind = "batched 3-D" if batched else "unbatched 2-D"
    if c0 is None:
        if h0.dim() != want:
            raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got "
                               f"{h0.dim()}-D tensor")
    elif h0.dim() != want or c0.dim() != want:
        raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                           f"({h0.dim()}-D, {c0.dim()}-D) tensors")


def _kw(device, dtype):
    return {k: v for k, v in (("device", device), ("dtype", dtype)) if v is not None}


# ---------------------------------------------------------------------------------------------
# One step of each cell (h: (B, H); xw: x @ W_ih^T + b_ih already computed)

def _step_masks(lengths, T, dtype):
    """(T, B, 1) of 0/1 in `dtype`: which time steps each sequence of a packed batch has."""
    steps = np.arange(T)[:, None] < np.asarray(lengths)[None, :]
    return steps[:, :, None].astype(dtype)


def _stack(mode, x, h0, c0, params, has_biases, num_layers, dropout, train, bidirectional,
           masks=None):
    """The layers of an RNN over x (T, B, in) from states h0 (and c0) (layers * directions,
    B, *): (output (T, B, directions * P), h_n, c_n or None). `params` is torch's flat weight
    list, per layer and direction w_ih, w_hh[, b_ih, b_hh][, w_hr] (an LSTM's projection
    weight w_hr is there when the list is long enough for it). Dropout goes between layers
    when training."""
    D = 2 if bidirectional else 1
    lstm = mode == "LSTM"
    per = 2 + 2 * bool(has_biases)
    if lstm and len(params) == num_layers * D * (per + 1):
        per += 1
    if len(params) != num_layers * D * per:
        raise RuntimeError(f"{mode.lower()}: expected {num_layers * D * per} weights "
                           f"({num_layers} layers, {D} directions, {per} each), got {len(params)}")
    h_n, c_n = [], []
    layer_in = x
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            w = params[(layer * D + d) * per:(layer * D + d + 1) * per]
            w_ih, w_hh = w[0], w[1]
            b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
            w_hr = w[-1] if per in (3, 5) else None
            # all time steps' input projections in one linear (torch's rounding for the half
            # types: the bias fused into the product unless layer_in is a strided view)
            xw = F.linear(layer_in, w_ih, b_ih)
            h = h0[layer * D + d]
            if lstm:   # each layer and direction: the whole time loop as one op
                y, h, c = lstm_layer(xw, h, c0[layer * D + d], w_hh, b_hh, w_hr,
                                     reverse=bool(d), masks=masks)
                c_n.append(c)
            elif mode == "GRU":
                y, h = gru_layer(xw, h, w_hh, b_hh, reverse=bool(d), masks=masks)
            else:
                y, h = rnn_layer(xw, h, w_hh, b_hh, reverse=bool(d), masks=masks,
                                 relu=mode == "RNN_RELU")
            outs.append(y)
            h_n.append(h)
        layer_in = outs[0] if D == 1 else ember.cat(outs, 2)
        if dropout and train and layer < num_layers - 1:
            layer_in = F.dropout(layer_in, dropout, True)
    return layer_in, ember.stack(h_n, 0), ember.stack(c_n, 0) if lstm else None


class RNNBase(Module):
    """Parameters weight_ih_l{k}[_reverse], weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} (and
    weight_hr_l{k} for an LSTM with proj_size > 0), all U(-1/sqrt(hidden), 1/sqrt(hidden))."""

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
                     "dropout", "bidirectional", "proj_size"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: "
                            f"{type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if dropout > 0 and num_layers == 1:
            import warnings
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        kw = _kw(device, dtype)
        G = _GATES[mode] * hidden_size
        D = 2 if bidirectional else 1
        P = proj_size or hidden_size   # the size of h (the output) per direction
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(D):
                in_size = input_size if layer == 0 else P * D
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                names = [f"weight_ih{sfx}", f"weight_hh{sfx}"]
                shapes = [(G, in_size), (G, P)]
                if bias:
                    names += [f"bias_ih{sfx}", f"bias_hh{sfx}"]
                    shapes += [(G,), (G,)]
                if proj_size:
                    names.append(f"weight_hr{sfx}")
                    shapes.append((proj_size, hidden_size))
                for n, s in zip(names, shapes):
                    setattr(self, n, Parameter(empty(s, **kw)))
                self._flat_weights_names.extend(names)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    def flatten_parameters(self):
        pass

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def forward(self, input, hx=None):
        from ember.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:
            sorted_indices = input.sorted_indices
            x, lengths_t = pad_packed_sequence(input)
            lengths = lengths_t.numpy()
            batched = True
        else:
            x = input
            batched = x.dim() == 3
            if x.dim() not in (2, 3):
                name = {"LSTM": "LSTM", "GRU": "GRU"}.get(self.mode, "RNN")
                tail = " tensor instead" if name == "RNN" else " instead"
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {x.dim()}D{tail}")
            if not batched:
                x = x.unsqueeze(1)
            elif self.batch_first:
                x = x.transpose(0, 1)
        lstm = self.mode == "LSTM"
        h0 = c0 = None
        if hx is not None:
            if lstm:
                if not isinstance(hx, tuple) or len(hx) != 2:
                    raise RuntimeError("lstm expects hx to be a tuple of (h_0, c_0)")
                h0, c0 = hx
            else:
                h0 = hx
            if not packed:
                _check_hx_dims(batched, h0, c0)
            if not batched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if c0 is not None else None
        # torch's check_forward_args: dtype, then input size, then hidden sizes
        w_dt = self.weight_ih_l0.dtype
        if x.dtype != w_dt:
            raise ValueError(f"RNN input dtype ({x.dtype}) does not match weight dtype ({w_dt}). "
                             f"Convert input: input.to({w_dt}), or convert model: "
                             f"model.to({x.dtype})")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")
        T, B = x.shape[0], x.shape[1]
        D = 2 if self.bidirectional else 1
        L, H = self.num_layers, self.hidden_size
        P = self.proj_size or H
        if h0 is not None:
            expect = (L * D, B, P)
            if tuple(h0.shape) != expect:
                raise RuntimeError(f"Expected hidden size {expect}, got {list(h0.shape)}"
                                   if not lstm else f"Expected hidden[0] size {expect}, got "
                                   f"{list(h0.shape)}")
            if lstm and tuple(c0.shape) != (L * D, B, H):
                raise RuntimeError(f"Expected hidden[1] size {(L * D, B, H)}, got "
                                   f"{list(c0.shape)}")
        if T == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        if h0 is None:
            h0 = ember.zeros(L * D, B, P, dtype=x.dtype)
        if lstm and c0 is None:
            c0 = ember.zeros(L * D, B, H, dtype=x.dtype)
        masks = None   # (T, B, 1) of 0/1 for a packed batch: which steps each sequence has
        if lengths is not None:
            masks = _step_masks(lengths, T, x._data.dtype)
        out, h_n, c_n = _stack(self.mode, x, h0, c0, self._flat_weights, self.bias, L,
                               self.dropout, self.training, self.bidirectional, masks)
        if packed:
            out = pack_padded_sequence(out, lengths_t, enforce_sorted=sorted_indices is None)
        elif not batched:
            out = out.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if lstm else None
        elif self.batch_first:
            out = out.transpose(0, 1)
        return (out, (h_n, c_n)) if lstm else (out, h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity   # torch's repr does not show it


class LSTM(RNNBase):
    """LSTM; forward(input, (h_0, c_0)) -> output, (h_n, c_n). proj_size is not implemented."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Cells

class RNNCellBase(Module):
    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        kw = _kw(device, dtype)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), **kw))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), **kw))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def _prep(self, input, hx, name, n_states):
        """torch's cell checks in its order; returns (batched, x W_ih^T + b_ih, states) with
        the states (zeros when hx is None) batched like the input."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             f"instead")
        states = None if hx is None else (list(hx) if n_states > 1 else [hx])
        for i, h in enumerate(states or ()):
            if h.dim() not in (1, 2):
                what = f"hx[{i}]" if n_states > 1 else "hidden"
                raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {h.dim()}D "
                                 f"instead")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {x.shape[1]} expected "
                               f"{self.input_size}")
        if states is None:
            states = [self._zeros(x)] * n_states
        else:
            states = [h if batched else h.unsqueeze(0) for h in states]
        for i, h in enumerate(states):
            if h.shape[0] != x.shape[0]:
                raise RuntimeError(f"Input batch size {x.shape[0]} doesn't match hidden{i} batch "
                                   f"size {h.shape[0]}")
            if h.dim() < 2 or h.shape[1] != self.hidden_size:
                got = h.shape[1] if h.dim() > 1 else 1
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {got}, "
                                   f"expected {self.hidden_size}")
        w_dt = self.weight_ih.dtype
        for t in [x] + states[:1] if self.bias else ():   # torch's addmm for x and h
            if t.dtype != w_dt:
                raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                                   f"{t.dtype._legacy} and {w_dt._legacy}")
        return batched, F.linear(x, self.weight_ih, self.bias_ih), states

    def _zeros(self, x):
        return ember.zeros(x.shape[0], self.hidden_size, dtype=x.dtype)


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        batched, xw, (h,) = self._prep(input, hx, "RNNCell", 1)
        out = _rnn_step(xw, h, self.weight_hh, self.bias_hh, self.nonlinearity == "relu")
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        batched, xw, (h, c) = self._prep(input, hx, "LSTMCell", 2)
        h, c = _lstm_step(xw, h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        batched, xw, (h,) = self._prep(input, hx, "GRUCell", 1)
        out = _gru_step(xw, h, self.weight_hh, self.bias_hh)
        return out if batched else out.squeeze(0)
