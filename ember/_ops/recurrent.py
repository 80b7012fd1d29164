"""Recurrent layers as one op per layer and direction.

A sequence of T steps recorded op by op leaves ~15 graph nodes per step, each with its own
bookkeeping, and every step's slice of the precomputed input projections gets its own
zero-filled gradient. `LSTMLayer`, `GRULayer` and `RNNLayer` run the whole time loop inside
one op instead: forward on arrays, backward as the reverse loop on arrays with the weight
gradient as one GEMM over all steps. With create_graph=True, backward replays the forward in
Tensor ops (`*_sequence`) and differentiates that, so double backward stays exact; that path
is as slow as the unfused one, and rare. Half types are computed in float32.
"""
from ember._backend import np
from ember._ops.pointwise_unary import _masked_array
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = []


def _sigmoid_(a):
    """In-place logistic function of a float array, as 0.5 + 0.5 tanh(x / 2): NumPy's tanh is
    vectorised and ~10x faster than SciPy's expit on gate-sized arrays. For very negative x
    it gives 0 where the exact value is below float precision (|error| < 3e-8 in float32)."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5


def _computed(ctx, arrays, masks):
    """The layer's input arrays (and masks) in the dtype the loop runs in: float16/bfloat16 are
    computed in float32 and rounded once at the end (ctx.dtype keeps the caller's dtype)."""
    ctx.dtype = arrays[0].dtype
    if ctx.dtype.itemsize != 2:
        return arrays, masks
    return ([None if a is None else a.astype(np.float32) for a in arrays],
            None if masks is None else masks.astype(np.float32))


def _grad_arrays(ctx, *tensors):
    """Backward's Tensors (weights, incoming gradients) as arrays in the loop's dtype."""
    half = ctx.dtype.itemsize == 2
    return [None if t is None else
            t._data.astype(np.float32 if half else t._data.dtype, copy=False) for t in tensors]


def _unmask(g, gy_t, m):
    """The gradient G of a step's new state, and the part that skips the step: with a packed
    batch's mask m, h' = h + m (hn - h) and y = h' m, so m routes G to hn and 1 - m past it."""
    g += gy_t * m
    keep = g * (1 - m)
    g *= m
    return keep


def _step_output(h, hn, masks, t, y):
    """The state after step t (a packed batch's finished sequences keep h: h + m (hn - h)),
    with the step's output written to y[t] (zero for finished sequences)."""
    if masks is None:
        y[t] = hn
        return hn
    m = masks[t]
    hn = h + m * (hn - h)
    np.multiply(hn, m, out=y[t])
    return hn


def _outputs(ctx, *arrays):
    """forward's / backward's arrays rounded to the caller's dtype (Tensors for backward)."""
    return tuple(None if a is None else np.asarray(a).astype(ctx.dtype, copy=False)
                 for a in arrays)


def _hidden(h, w_hh, b_hh):
    """h W_hh^T + b_hh as one linear (one rounding for the half types, as torch's)."""
    from ember._ops.linear import linear
    return linear(h, w_hh, b_hh)


def lstm_step(xw, h, c, w_hh, b_hh, w_hr=None):
    """One LSTM step in Tensor ops (gates i, f, g, o as torch lays them out), in torch's
    order of operations: (h', c'). With a projection w_hr (proj_size > 0),
    h' = (o * tanh(c')) w_hr^T."""
    gates = _hidden(h, w_hh, b_hh) + xw
    i, f, g, o = gates.chunk(4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    return (h if w_hr is None else h.matmul(w_hr.t())), c


def _scan(step, xw, h, c, reverse, masks):
    """The time loop in Tensor ops shared by the three layers: step(x_t, h, c) -> (h', c')
    (c is None but for the LSTM). `masks` (T, B, 1) of 0/1 freezes each finished sequence's
    state and zeroes its outputs (packed batches). Returns (y (T, B, H), h_T, c_T)."""
    import ember
    ys = [None] * xw.shape[0]
    for t in (range(len(ys) - 1, -1, -1) if reverse else range(len(ys))):
        hn, cn = step(xw[t], h, c)
        if masks is not None:
            m = masks[t]
            hn = h + m * (hn - h)
            cn = None if c is None else c + m * (cn - c)
            ys[t] = hn * m
        else:
            ys[t] = hn
        h, c = hn, cn
    return ember.stack(ys, 0), h, c


def lstm_sequence(xw, h, c, w_hh, b_hh, w_hr=None, reverse=False, masks=None):
    """The LSTM layer in Tensor ops, step by step: (y, h_T, c_T)."""
    return _scan(lambda x, h, c: lstm_step(x, h, c, w_hh, b_hh, w_hr), xw, h, c, reverse, masks)


class LSTMLayer(ArrayFunction):
    sequence = staticmethod(lstm_sequence)   # the Tensor-op form, replayed for create_graph

    """One LSTM layer in one direction over a whole sequence.

    xw (T, B, 4H) holds x_t W_ih^T + b_ih for every step (one GEMM, done by the caller);
    h0 (B, P), c0 (B, H); w_hh (4H, P); b_hh (4H,) or None; w_hr (P, H) projects the hidden
    state when proj_size > 0 (else None, P = H); masks (T, B, 1) or None as in
    `lstm_sequence`. Returns (y (T, B, P), h_T, c_T). Saves the gate activations, tanh(c_t)
    and the state entering each step: backward needs no recomputation.
    """

    def forward(ctx, xw, h0, c0, w_hh, b_hh=None, w_hr=None, *, reverse=False, masks=None):
        ctx.save_for_backward(xw, h0, c0, w_hh, b_hh, w_hr)
        ctx.onednn = xw.dtype == np.float32   # (the kernel torch's CPU LSTM runs, see name)
        (xw, h0, c0, w_hh, b_hh, w_hr), masks = _computed(ctx, (xw, h0, c0, w_hh, b_hh, w_hr),
                                                          masks)
        T, B, H4 = xw.shape
        H, P = H4 // 4, h0.shape[-1]
        acts = xw + b_hh if b_hh is not None else xw.copy()   # becomes the gate activations
        tanh_c = np.empty((T, B, H), xw.dtype)       # tanh of each step's new cell
        h_in = np.empty((T, B, P), xw.dtype)         # the state entering each step
        c_in = np.empty((T, B, H), xw.dtype)
        y = np.empty((T, B, P), xw.dtype)
        h, c = h0, c0
        w_t = np.ascontiguousarray(w_hh.T)   # BLAS is ~1.4x faster on it than on the view
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            h_in[t], c_in[t] = h, c
            gates = acts[t]
            gates += np.matmul(h, w_t)
            _sigmoid_(gates[:, :2 * H])
            np.tanh(gates[:, 2 * H:3 * H], out=gates[:, 2 * H:3 * H])
            _sigmoid_(gates[:, 3 * H:])
            i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
            cn = f * c
            cn += i * g
            np.tanh(cn, out=tanh_c[t])
            hn = o * tanh_c[t]
            if w_hr is not None:
                hn = np.matmul(hn, w_hr.T)
            if masks is not None:
                cn = c + masks[t] * (cn - c)
            h, c = _step_output(h, hn, masks, t, y), cn
        ctx.reverse, ctx.masks = reverse, masks
        ctx.acts, ctx.tanh_c, ctx.h_in, ctx.c_in = acts, tanh_c, h_in, c_in
        return _outputs(ctx, y, h, c)

    def backward(ctx, gy, gh, gc):
        saved = ctx.saved_tensors
        if _grad_state.enabled:   # create_graph: differentiate a Tensor-op replay
            return _replay_grads(ctx, (gy, gh, gc), saved)
        w_hh, b_hh, w_hr = saved[3:]
        acts, tanh_c, c_in, masks = ctx.acts, ctx.tanh_c, ctx.c_in, ctx.masks
        T, B, H = tanh_c.shape
        i, f, g, o = (acts[..., k * H:(k + 1) * H] for k in range(4))
        # c' = f c + i g, h' = o tanh(c'). Every factor that does not depend on the incoming
        # gradient is computed for all steps at once, leaving a few ops per step in the loop:
        #   dc += dh * o (1 - tanh(c')^2)
        #   d(i, f, g pre-activations) = dc * (g i (1-i), c f (1-f), i (1-g^2))
        #   d(o pre-activation) = dh * tanh(c') o (1-o)
        to_c = o * (1 - tanh_c * tanh_c)
        ifg = np.stack((g * i * (1 - i), c_in * f * (1 - f), i * (1 - g * g)), 2)  # (T,B,3,H)
        o_factor = tanh_c * o * (1 - o)
        w, proj, gy, gh, gc = _grad_arrays(ctx, w_hh, w_hr, gy, gh, gc)
        gh, gc = gh.copy(), gc.copy()   # updated in place below
        dgates = np.empty((T, B, 4, H), acts.dtype)   # gate by gate: (i, f, g) then o
        g_out = None if proj is None else np.empty((T,) + gh.shape, gh.dtype)  # d projected h
        for t in (range(T) if ctx.reverse else range(T - 1, -1, -1)):
            if masks is not None:   # the cell state is frozen by the same mask
                keep_h = _unmask(gh, gy[t], masks[t])
                keep_c = gc * (1 - masks[t])
                gc *= masks[t]
            else:
                gh += gy[t]
            if proj is not None:   # h' = (o tanh(c')) w_hr^T
                g_out[t] = gh
                gh = np.matmul(gh, proj)
            d = dgates[t]
            gc += gh * to_c[t]
            np.multiply(gc[:, None, :], ifg[t], out=d[:, :3])
            np.multiply(gh, o_factor[t], out=d[:, 3])
            gh = np.matmul(d.reshape(B, 4 * H), w)
            gc *= f[t]
            if masks is not None:
                gh += keep_h
                gc += keep_c
        dgates = dgates.reshape(T, B, 4 * H)
        flat = dgates.reshape(T * B, 4 * H)
        h_in = ctx.h_in   # explicit widths: a -1 is ambiguous for an empty batch
        g_w = (np.matmul(flat.T, h_in.reshape(T * B, h_in.shape[-1])) if ctx.needs_input_grad[3]
               else None)
        g_b = flat.sum(0) if b_hh is not None and ctx.needs_input_grad[4] else None
        g_hr = None
        if proj is not None and ctx.needs_input_grad[5]:
            g_hr = np.matmul(g_out.reshape(T * B, g_out.shape[-1]).T,
                             (o * tanh_c).reshape(T * B, H))
        return tuple(None if a is None else Tensor._make(a)
                     for a in _outputs(ctx, dgates, gh, gc, g_w, g_b, g_hr))

    def name(self):   # torch's CPU LSTM runs oneDNN's layer in float32, else stacks the steps
        return "MkldnnRnnLayerBackward0" if self.onednn else "StackBackward0"


def _replay_grads(ctx, grads, args):
    """Gradients of the layer as a differentiable graph (for create_graph=True): the forward
    replayed in Tensor ops on the inputs themselves, so higher-order gradients reach whatever
    those inputs were computed from."""
    import ember
    wanted = [t for t in args if t is not None and t.requires_grad]
    masks = None if ctx.masks is None else Tensor._make(ctx.masks)
    outs = ctx.sequence(*args, reverse=ctx.reverse, masks=masks)
    got = iter(ember.autograd.grad(outs, wanted, grads, create_graph=True, allow_unused=True))
    return tuple(next(got) if t is not None and t.requires_grad else None for t in args)


def rnn_step(xw, h, w_hh, b_hh, relu=False):
    """One Elman RNN step in Tensor ops: h' = tanh (or relu) of (h W_hh^T + b_hh) + xw."""
    pre = _hidden(h, w_hh, b_hh) + xw
    return pre.relu() if relu else pre.tanh()


def rnn_sequence(xw, h, w_hh, b_hh, reverse=False, masks=None, relu=False):
    """The RNN layer in Tensor ops, step by step: (y, h_T)."""
    y, h, _ = _scan(lambda x, h, c: (rnn_step(x, h, w_hh, b_hh, relu), None), xw, h, None,
                    reverse, masks)
    return y, h


class RNNLayer(ArrayFunction):
    """One Elman RNN layer (tanh or relu) in one direction over a whole sequence, as
    `LSTMLayer`: xw (T, B, H) is x_t W_ih^T + b_ih; h0 (B, H); w_hh (H, H); b_hh (H,) or None.
    Returns (y, h_T). Saves each step's new state (the activation's derivative comes from it)."""

    def forward(ctx, xw, h0, w_hh, b_hh=None, *, reverse=False, masks=None, relu=False):
        ctx.save_for_backward(xw, h0, w_hh, b_hh)
        (xw, h0, w_hh, b_hh), masks = _computed(ctx, (xw, h0, w_hh, b_hh), masks)
        T = xw.shape[0]
        acts = xw + b_hh if b_hh is not None else xw.copy()   # becomes each step's new state
        h_in = np.empty(xw.shape, xw.dtype)
        y = np.empty(xw.shape, xw.dtype)
        h = h0
        w_t = np.ascontiguousarray(w_hh.T)
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            h_in[t] = h
            a = acts[t]
            a += np.matmul(h, w_t)
            if relu:
                np.maximum(a, 0, out=a)
            else:
                np.tanh(a, out=a)
            h = _step_output(h, a, masks, t, y)
        ctx.reverse, ctx.masks, ctx.relu = reverse, masks, relu
        ctx.acts, ctx.h_in = acts, h_in
        return _outputs(ctx, y, h)

    def sequence(self, *args, **kwargs):   # the Tensor-op form, replayed for create_graph
        return rnn_sequence(*args, relu=self.relu, **kwargs)

    def backward(ctx, gy, gh):
        saved = ctx.saved_tensors
        if _grad_state.enabled:   # create_graph: differentiate a Tensor-op replay
            return _replay_grads(ctx, (gy, gh), saved)
        w_hh, b_hh = saved[2:]
        acts, h_in, masks = ctx.acts, ctx.h_in, ctx.masks
        T, B, H = acts.shape
        # d pre-activation = G * (1 - h'^2) for tanh; relu passes G where h' > 0 (torch's
        # threshold_backward: +0 elsewhere, even for NaN G)
        slope = None if ctx.relu else 1 - acts * acts
        w, gy, gh = _grad_arrays(ctx, w_hh, gy, gh)
        gh = gh.copy()   # updated in place below
        dpre = np.empty(acts.shape, acts.dtype)
        for t in (range(T) if ctx.reverse else range(T - 1, -1, -1)):
            if masks is not None:
                keep = _unmask(gh, gy[t], masks[t])
            else:
                gh += gy[t]
            if ctx.relu:
                dpre[t] = _masked_array(gh, acts[t] > 0)
            else:
                np.multiply(gh, slope[t], out=dpre[t])
            gh = np.matmul(dpre[t], w)
            if masks is not None:
                gh += keep
        flat = dpre.reshape(T * B, H)
        g_w = np.matmul(flat.T, h_in.reshape(T * B, H)) if ctx.needs_input_grad[2] else None
        g_b = flat.sum(0) if b_hh is not None and ctx.needs_input_grad[3] else None
        return tuple(None if a is None else Tensor._make(a)
                     for a in _outputs(ctx, *(dpre, gh, g_w, g_b)))

    def name(self):   # torch's output: the stacked steps
        return "StackBackward0"


def _mask_tensor(masks, like):
    """A packed batch's (T, B, 1) 0/1 mask array as a Tensor of like's dtype (or None)."""
    return None if masks is None else Tensor._make(np.asarray(masks).astype(like._data.dtype))


def _stepwise(xw):
    """Whether a layer runs as its Tensor-op sequence: float16, where torch's CPU layers
    round every op of each step (bfloat16 goes through oneDNN, nearer float32 throughout)."""
    return xw._data.dtype == np.float16


def rnn_layer(xw, h0, w_hh, b_hh=None, reverse=False, masks=None, relu=False):
    """(y, h_T) of one Elman RNN layer and direction (see `RNNLayer`)."""
    if _stepwise(xw):
        return rnn_sequence(xw, h0, w_hh, b_hh, reverse, _mask_tensor(masks, xw), relu)
    return RNNLayer.apply(xw, h0, w_hh, b_hh, reverse=reverse, masks=masks, relu=relu)


def gru_step(xw, h, w_hh, b_hh):
    """One GRU step in Tensor ops (gates r, z, n as torch lays them out), in torch's order of
    operations: n = tanh(x_n + (W_hn h + b_hn) r), h' = (h - n) z + n."""
    xr, xz, xn = xw.chunk(3, 1)
    hr, hz, hn = _hidden(h, w_hh, b_hh).chunk(3, 1)
    r = (hr + xr).sigmoid()
    z = (hz + xz).sigmoid()
    n = (xn + hn * r).tanh()
    return (h - n) * z + n


def gru_sequence(xw, h, w_hh, b_hh, reverse=False, masks=None):
    """The GRU layer in Tensor ops, step by step: (y, h_T)."""
    y, h, _ = _scan(lambda x, h, c: (gru_step(x, h, w_hh, b_hh), None), xw, h, None, reverse,
                    masks)
    return y, h


class GRULayer(ArrayFunction):
    """One GRU layer in one direction over a whole sequence, as `LSTMLayer`: xw (T, B, 3H) is
    x_t W_ih^T + b_ih; h0 (B, H); w_hh (3H, H); b_hh (3H,) or None. Returns (y, h_T). Saves
    the gates and W_hn h + b_hn per step."""
    sequence = staticmethod(gru_sequence)

    def forward(ctx, xw, h0, w_hh, b_hh=None, *, reverse=False, masks=None):
        ctx.save_for_backward(xw, h0, w_hh, b_hh)
        (xw, h0, w_hh, b_hh), masks = _computed(ctx, (xw, h0, w_hh, b_hh), masks)
        T, B, H3 = xw.shape
        H = H3 // 3
        acts = np.empty(xw.shape, xw.dtype)          # r, z, n after their nonlinearity
        hn_lin = np.empty((T, B, H), xw.dtype)       # W_hn h + b_hn
        h_in = np.empty((T, B, H), xw.dtype)
        y = np.empty((T, B, H), xw.dtype)
        h = h0
        w_t = np.ascontiguousarray(w_hh.T)
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            h_in[t] = h
            hw = np.matmul(h, w_t)
            if b_hh is not None:
                hw += b_hh
            a = acts[t]
            np.add(xw[t, :, :2 * H], hw[:, :2 * H], out=a[:, :2 * H])
            _sigmoid_(a[:, :2 * H])
            r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
            hn_lin[t] = hw[:, 2 * H:]
            np.multiply(r, hw[:, 2 * H:], out=n)
            n += xw[t, :, 2 * H:]
            np.tanh(n, out=n)
            hn = h - n
            hn *= z
            hn += n
            h = _step_output(h, hn, masks, t, y)
        ctx.reverse, ctx.masks = reverse, masks
        ctx.acts, ctx.hn_lin, ctx.h_in = acts, hn_lin, h_in
        return _outputs(ctx, y, h)

    def backward(ctx, gy, gh):
        saved = ctx.saved_tensors
        if _grad_state.enabled:   # create_graph: differentiate a Tensor-op replay
            return _replay_grads(ctx, (gy, gh), saved)
        w_hh, b_hh = saved[2:]
        acts, hn_lin, h_in, masks = ctx.acts, ctx.hn_lin, ctx.h_in, ctx.masks
        T, B, H = h_in.shape
        r, z, n = (acts[..., k * H:(k + 1) * H] for k in range(3))
        # h' = (1 - z) n + z h, n = tanh(x_n + r hn_lin): the factors that do not depend on
        # the incoming gradient G, for all steps at once:
        #   d n_pre = G (1 - z)(1 - n^2),  d z_pre = G z (1 - z)(h - n),
        #   d r_pre = d n_pre * hn_lin r (1 - r),  d hn_lin = d n_pre * r,  dh += G z
        n_factor = (1 - z) * (1 - n * n)
        z_factor = z * (1 - z) * (h_in - n)
        r_factor = hn_lin * r * (1 - r)
        w, gy, gh = _grad_arrays(ctx, w_hh, gy, gh)
        gh = gh.copy()   # updated in place below
        dxw = np.empty((T, B, 3, H), acts.dtype)      # d(x_r, x_z, x_n) pre-activations
        dhw = np.empty((T, B, 3, H), acts.dtype)      # d(W_h h + b_h) for r, z, n
        for t in (range(T) if ctx.reverse else range(T - 1, -1, -1)):
            if masks is not None:
                keep = _unmask(gh, gy[t], masks[t])
            else:
                gh += gy[t]
            dx, dh = dxw[t], dhw[t]
            np.multiply(gh, n_factor[t], out=dx[:, 2])
            np.multiply(gh, z_factor[t], out=dx[:, 1])
            np.multiply(dx[:, 2], r_factor[t], out=dx[:, 0])
            dh[:, :2] = dx[:, :2]
            np.multiply(dx[:, 2], r[t], out=dh[:, 2])
            gh = gh * z[t]
            gh += np.matmul(dh.reshape(B, 3 * H), w)
            if masks is not None:
                gh += keep
        flat = dhw.reshape(T * B, 3 * H)
        g_w = np.matmul(flat.T, h_in.reshape(T * B, H)) if ctx.needs_input_grad[2] else None
        g_b = flat.sum(0) if b_hh is not None and ctx.needs_input_grad[3] else None
        return tuple(None if a is None else Tensor._make(a)
                     for a in _outputs(ctx, *(dxw.reshape(T, B, 3 * H), gh, g_w, g_b)))

    def name(self):   # torch's output: the stacked steps
        return "StackBackward0"


def gru_layer(xw, h0, w_hh, b_hh=None, reverse=False, masks=None):
    """(y, h_T) of one GRU layer and direction (see `GRULayer`)."""
    if _stepwise(xw):
        return gru_sequence(xw, h0, w_hh, b_hh, reverse, _mask_tensor(masks, xw))
    return GRULayer.apply(xw, h0, w_hh, b_hh, reverse=reverse, masks=masks)


def lstm_layer(xw, h0, c0, w_hh, b_hh=None, w_hr=None, reverse=False, masks=None):
    """(y, h_T, c_T) of one LSTM layer and direction (see `LSTMLayer`)."""
    if _stepwise(xw):
        return lstm_sequence(xw, h0, c0, w_hh, b_hh, w_hr, reverse, _mask_tensor(masks, xw))
    return LSTMLayer.apply(xw, h0, c0, w_hh, b_hh, w_hr, reverse=reverse, masks=masks)
