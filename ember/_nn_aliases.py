"""torch.* spellings of nn.functional ops: torch.conv2d, torch.max_pool2d, torch.dropout, ...

torch exposes its native kernels at the top level too, and traced or older code calls them
there. Most take nn.functional's arguments; some keep the native signature, which differs:
`dropout(input, p, train)` (no defaults), `embedding(weight, indices, padding_idx=-1, ...)`
(weight first), `batch_norm`/`instance_norm` with the weight before the running statistics and
every argument positional, `max_pool*d` without `return_indices`, losses taking `reduction`
as an int (0 none, 1 mean, 2 sum; any other value means none, as ATen reads it; left out, it
is none: torch's Python binding reads the schema's default as 0), grid_sampler
taking its modes as ints, and the native_* ops returning their saved statistics too. Each
wrapper imports its op on first call, so that `import ember` stays light.
"""
import numpy as np

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "max_pool1d", "max_pool2d", "max_pool3d",
           "max_pool1d_with_indices", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
           "dropout", "dropout_", "alpha_dropout", "alpha_dropout_", "feature_dropout",
           "feature_dropout_", "feature_alpha_dropout", "feature_alpha_dropout_", "batch_norm",
           "instance_norm", "layer_norm", "group_norm", "rms_norm", "embedding", "bilinear",
           "celu", "celu_", "selu", "selu_", "threshold", "threshold_", "rrelu", "rrelu_",
           "hardshrink", "prelu", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
           "native_channel_shuffle", "constant_pad_nd", "kl_div",
           "binary_cross_entropy_with_logits", "ctc_loss", "margin_ranking_loss",
           "hinge_embedding_loss", "cosine_embedding_loss",
           "triplet_margin_loss", "poisson_nll_loss", "embedding_bag", "rnn_tanh_cell",
           "rnn_relu_cell", "lstm_cell", "gru_cell", "lstm", "gru", "rnn_tanh", "rnn_relu",
           "conv_tbc", "norm_except_dim", "native_layer_norm", "native_batch_norm",
           "native_dropout", "native_group_norm", "convolution", "grid_sampler",
           "grid_sampler_2d", "grid_sampler_3d", "affine_grid_generator"]


def _F():
    import ember.nn.functional as F
    return F


# --- the same signature as nn.functional's ---------------------------------------------------

def _same(name):
    def fn(*args, **kwargs):
        return getattr(_F(), name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}: nn.functional.{name}."
    return fn


for _name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "avg_pool1d", "adaptive_avg_pool1d", "bilinear", "celu",
              "celu_", "selu", "selu_", "threshold_", "rrelu", "rrelu_", "prelu",
              "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle",
              "layer_norm", "group_norm", "rms_norm"):
    globals()[_name] = _same(_name)


def threshold(input, threshold, value, *, out=None):
    """torch.threshold: nn.functional.threshold; out= takes any dtype the result casts to."""
    r = _F().threshold(input, threshold, value)
    if out is None:
        return r
    from ember._ops._helpers import write_out
    return write_out(out, r)


def hardshrink(input, lambd=0.5, *, out=None):
    """torch.hardshrink: nn.functional.hardshrink; out= must have the result's dtype."""
    r = _F().hardshrink(input, lambd)
    if out is None:
        return r
    from ember._ops._helpers import write_out
    return write_out(out, r, exact="Found dtype {got} but expected {want}")


# --- native signatures ----------------------------------------------------------------------

def _pool(name):
    def fn(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return getattr(_F(), name)(input, kernel_size, stride or None, padding, dilation,
                                   ceil_mode)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}(input, kernel_size, stride=(), ...): no return_indices."
    return fn


max_pool1d, max_pool2d, max_pool3d = (_pool(f"max_pool{d}d") for d in (1, 2, 3))


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    return _F().max_pool1d_with_indices(input, kernel_size, stride or None, padding, dilation,
                                        ceil_mode)


def adaptive_max_pool1d(input, output_size):
    """(values, indices), always."""
    return _F().adaptive_max_pool1d(input, output_size, return_indices=True)


def _dropout(name, inplace):
    def fn(input, p, train):
        return getattr(_F(), name)(input, p, train, inplace)
    fn.__name__ = fn.__qualname__ = name + ("_" if inplace else "")
    fn.__doc__ = f"torch.{fn.__name__}(input, p, train): every argument required."
    return fn


dropout, dropout_ = _dropout("dropout", False), _dropout("dropout", True)
alpha_dropout, alpha_dropout_ = _dropout("alpha_dropout", False), _dropout("alpha_dropout", True)
feature_alpha_dropout, feature_alpha_dropout_ = (_dropout("feature_alpha_dropout", False),
                                                 _dropout("feature_alpha_dropout", True))


def _feature_dropout(input, p, train, inplace):
    """Whole (sample, channel) slices zeroed with probability p, for any input of 2+ dims."""
    F = _F()
    F._check_p(p)
    if not train or p == 0:
        return input
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    r = input * F._const(F._keep_mask(shape, p, input._data.dtype))
    return F._write_inplace(input, r) if inplace else r


def feature_dropout(input, p, train):
    return _feature_dropout(input, p, train, False)


def feature_dropout_(input, p, train):
    return _feature_dropout(input, p, train, True)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """The native order: weight and bias before the running statistics."""
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                           eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                              momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """The native order: weight first; padding_idx -1 means none."""
    return _F().embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                          scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def constant_pad_nd(input, pad, value=0):
    return _F().pad(input, pad, mode="constant", value=value)


# --- losses: reduction as an int enum --------------------------------------------------------

def _reduction(value, fn, pos):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}(): argument 'reduction' (position {pos}) must be int, not "
                        f"{type(value).__name__}")
    return {1: "mean", 2: "sum"}.get(int(value), "none")


def kl_div(input, target, reduction=0, *, log_target=False):
    return _F().kl_div(input, target, reduction=_reduction(reduction, "kl_div", 3),
                       log_target=log_target)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    return _F().binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction, "binary_cross_entropy_with_logits",
                                                    5), pos_weight=pos_weight)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0,
             zero_infinity=False):
    return _F().ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                         _reduction(reduction, "ctc_loss", 6), zero_infinity)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return _F().margin_ranking_loss(input1, input2, target, margin,
                                    reduction=_reduction(reduction, "margin_ranking_loss", 5))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return _F().hinge_embedding_loss(input, target, margin,
                                     reduction=_reduction(reduction, "hinge_embedding_loss", 4))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return _F().cosine_embedding_loss(input1, input2, target, margin,
                                      reduction=_reduction(reduction, "cosine_embedding_loss", 5))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        reduction=0):
    return _F().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                    reduction=_reduction(reduction, "triplet_margin_loss", 8))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """Every argument required (the native signature)."""
    return _F().poisson_nll_loss(input, target, log_input, full, eps=eps,
                                 reduction=_reduction(reduction, "poisson_nll_loss", 6))


# --- embedding_bag: (output, offset2bag, bag_size, max_indices) -------------------------------

_BAG_MODES = ("sum", "mean", "max")


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """The native form: weight first, 1-D indices with bag offsets, mode 0/1/2 for sum/mean/max.
    Returns the bags and ATen's bookkeeping: offset2bag (each index's bag; empty on the float32
    sum path without padding_idx), bag_size (entries per bag but padding; zeros in sum mode,
    one per offset unless the weight requires grad) and max_indices (the weight row of each
    max, per bag and column; bag_size again in mean mode, zeros in sum mode)."""
    from ember._tensor import Tensor
    if mode not in (0, 1, 2):
        raise RuntimeError("`mode` must be sum, mean, or max.")
    if indices.dim() != 1:
        raise NotImplementedError("torch.embedding_bag: ember supports 1-D indices with offsets "
                                  "here (nn.functional.embedding_bag takes 2-D bags)")
    if per_sample_weights is not None and mode != 0:
        raise RuntimeError("embedding_bag: per_sample_weights only supported with mode='sum'")
    out = _F().embedding_bag(indices, weight, offsets, scale_grad_by_freq=scale_grad_by_freq,
                             mode=_BAG_MODES[mode], sparse=sparse,
                             per_sample_weights=per_sample_weights,
                             include_last_offset=include_last_offset, padding_idx=padding_idx)
    idx = indices._data.astype(np.int64)
    off = offsets._data.astype(np.int64).reshape(-1)
    if include_last_offset:
        off = off[:-1]
    n_bags = off.shape[0]
    bag = np.searchsorted(off, np.arange(idx.shape[0]), side="right") - 1
    pad = None if padding_idx is None else padding_idx % weight.shape[0]
    keep = np.ones(idx.shape, bool) if pad is None else idx != pad
    size = np.zeros(n_bags, np.int64)
    if mode != 0:
        np.add.at(size, bag[keep], 1)
    elif not weight.requires_grad:
        size = np.zeros(offsets._data.size, np.int64)
    fast = mode == 0 and pad is None and weight._data.dtype == np.float32
    offset2bag = np.zeros(0, np.int64) if fast else bag
    if mode == 2:
        max_idx = np.zeros((n_bags, weight.shape[1]), np.int64)
        best = np.full((n_bags, weight.shape[1]), -np.inf)
        w = weight._data
        for k in np.nonzero(keep)[0]:   # in order: ties keep the first row (strict >)
            row = w[idx[k]]
            better = row > best[bag[k]]
            best[bag[k]] = np.where(better, row, best[bag[k]])
            max_idx[bag[k]] = np.where(better, idx[k], max_idx[bag[k]])
    else:
        max_idx = size.copy()   # (mean: the sizes again; sum: zeros, as many as bag_size)
    return (out, Tensor._make(np.ascontiguousarray(offset2bag)), Tensor._make(size),
            Tensor._make(max_idx))


# --- recurrent cells -------------------------------------------------------------------------

def _xw(input, hx, w_ih, b_ih, gates):
    if input.dim() != 2:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    if w_ih.shape[0] != gates * hx.shape[-1]:
        raise RuntimeError(f"weight_ih first dim must be {gates} * hidden_size = "
                           f"{gates * hx.shape[-1]}, but got {w_ih.shape[0]}")
    return _F().linear(input, w_ih, b_ih)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) for a batch (2-D input)."""
    from ember._ops.recurrent import rnn_step
    return rnn_step(_xw(input, hx, w_ih, b_ih, 1), hx, w_hh, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    from ember._ops.recurrent import rnn_step
    return rnn_step(_xw(input, hx, w_ih, b_ih, 1), hx, w_hh, b_hh, relu=True)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """(h', c') from hx = (h, c), gates i, f, g, o as torch lays them out."""
    from ember._ops.recurrent import lstm_step
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    h, c = hx
    return lstm_step(_xw(input, h, w_ih, b_ih, 4), h, c, w_hh, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    from ember._ops.recurrent import gru_step
    return gru_step(_xw(input, hx, w_ih, b_ih, 3), hx, w_hh, b_hh)


def conv_tbc(input, weight, bias, pad=0):
    """torch.conv_tbc: a 1-D convolution of input (time, batch, channel)."""
    from ember._ops.conv import conv_tbc as fn
    return fn(input, weight, bias, pad)


def norm_except_dim(v, pow=2, dim=0):
    """The p-norm of each slice of v along `dim` (over all other dims), shaped to broadcast
    against v (the magnitude weight_norm keeps); dim=-1 means the norm of all of v, 0-d. The
    norms are ATen's norm nodes (NormBackward0/1), as torch records them."""
    from ember.autograd.function import rename_result
    if dim == -1:
        return rename_result(v.norm(pow), "NormBackward0")
    if v.dim() == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = dim + v.dim() if dim < 0 else dim
    if not 0 <= d < v.dim():
        raise IndexError(f"Dimension out of range (expected to be in range of [{-v.dim()}, "
                         f"{v.dim() - 1}], but got {dim})")
    ones = [1] * (v.dim() - 1)
    if d == 0:
        n = rename_result(v.contiguous().view(v.shape[0], -1).norm(pow, dim=1), "NormBackward1")
        return n.view(-1, *ones)
    if d == v.dim() - 1:
        n = rename_result(v.contiguous().view(-1, v.shape[-1]).norm(pow, dim=0), "NormBackward1")
        return n.view(*ones, -1)
    return norm_except_dim(v.transpose(0, d), pow, 0).transpose(0, d)


def _recurrent(mode, args):
    """torch.lstm / gru / rnn_tanh / rnn_relu, the kernels nn.LSTM and friends run, in both of
    torch's overloads: (input, hx, params, has_biases, num_layers, dropout, train,
    bidirectional, batch_first) over a padded batch, or (data, batch_sizes, hx, params,
    has_biases, num_layers, dropout, train, bidirectional) over a packed one. hx is [h0, c0]
    for an LSTM, else h0; params is the flat weight list (`module._flat_weights`). Returns
    (output, h_n[, c_n]); a packed input gives packed output data."""
    from ember._tensor import Tensor
    from ember.nn.modules.rnn import _stack, _step_masks
    from ember.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
    name = mode.lower()
    if len(args) != 9:
        raise TypeError(f"{name}() takes 9 positional arguments but {len(args)} were given")
    lstm = mode == "LSTM"
    packed = isinstance(args[1], Tensor) and (lstm or isinstance(args[2], Tensor))
    if packed:
        data, batch_sizes, hx, params, has_biases, layers, dropout, train, bidir = args
        x, lengths = pad_packed_sequence(PackedSequence(data, batch_sizes))
        masks = _step_masks(lengths.numpy(), x.shape[0], x._data.dtype)
        batch_first = False
    else:
        x, hx, params, has_biases, layers, dropout, train, bidir, batch_first = args
        masks = None
        if x.dim() < 3:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(x.dim(), 1)}, {max(x.dim(), 1) - 1}], but got {x.dim()})")
        if x.dim() > 3:
            raise RuntimeError(f"{name}: expected a 3-D input, got {x.dim()}-D")
        if batch_first:
            x = x.transpose(0, 1)
    if lstm:
        if len(hx) != 2:
            raise RuntimeError("lstm expects two hidden states")
        h0, c0 = hx
    else:
        h0, c0 = hx, None
    if h0.shape[0] < layers * (2 if bidir else 1):
        raise RuntimeError("Expected more hidden states in stacked_rnn")
    out, h_n, c_n = _stack(mode, x, h0, c0, list(params), has_biases, layers, dropout, train,
                           bidir, masks)
    if packed:
        out = pack_padded_sequence(out, lengths).data
    elif batch_first:
        out = out.transpose(0, 1)
    return (out, h_n, c_n) if lstm else (out, h_n)


def lstm(*args):
    """torch.lstm: (output, h_n, c_n); see `_recurrent` for the two argument lists."""
    return _recurrent("LSTM", args)


def gru(*args):
    """torch.gru: (output, h_n); see `_recurrent` for the two argument lists."""
    return _recurrent("GRU", args)


def rnn_tanh(*args):
    """torch.rnn_tanh: (output, h_n) of an Elman RNN with tanh; see `_recurrent`."""
    return _recurrent("RNN_TANH", args)


def rnn_relu(*args):
    """torch.rnn_relu: (output, h_n) of an Elman RNN with ReLU; see `_recurrent`."""
    return _recurrent("RNN_RELU", args)


# --- native normalisation and dropout: the result plus saved statistics ----------------------

def _stats(x, axes, eps, dtype):
    """(mean, 1 / sqrt(biased var + eps)) over `axes` of a NumPy array, kept dims, in dtype."""
    from ember._tensor import Tensor
    w = x.astype(np.float64)
    mean = w.mean(axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(((w - mean) ** 2).mean(axis=axes, keepdims=True) + eps)
    return Tensor._make(mean.astype(dtype)), Tensor._make(rstd.astype(dtype))


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """(out, mean, rstd); mean and rstd have input's leading dims and ones for the normalized
    ones (they carry no gradient)."""
    ns = tuple(normalized_shape)
    shape = tuple(input.shape)
    if len(ns) > len(shape) or shape[len(shape) - len(ns):] != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size"
                           f"{list(shape)}")
    out = _F().layer_norm(input, ns, weight, bias, eps)
    axes = tuple(range(len(shape) - len(ns), len(shape)))
    mean, rstd = _stats(input._data, axes, eps, input._data.dtype)
    return out, mean, rstd


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
                      *, out=None):
    """(out, save_mean, save_invstd): the batch statistics per channel when training (running
    stats updated in place), empty tensors otherwise. out=: three tensors of the input's
    dtype, written (and resized) in order."""
    from ember._tensor import Tensor
    y = _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                        eps)
    if not training:
        empty = np.zeros(0, input._data.dtype)
        result = (y, Tensor._make(empty), Tensor._make(empty.copy()))
    else:
        axes = (0,) + tuple(range(2, input.dim()))
        mean, rstd = _stats(input._data, axes, eps, input._data.dtype)
        result = (y, mean.reshape(-1), rstd.reshape(-1))
    if out is None:
        return result
    from ember._ops._helpers import write_outs
    return write_outs(tuple(out), result, exact="expected scalar type {want} but found {got}")


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """(out, mean, rstd), the statistics (N, group) per sample and group (differentiable, as
    in torch)."""
    if input.numel() != N * C * HxW:
        raise RuntimeError("Expected X.numel() == N * C * HxW to be true, but got false.")
    if C % group:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={group}")
    out = _F().group_norm(input, group, weight, bias, eps)
    x = input.reshape(N, group, -1)
    mean = x.mean(-1)
    rstd = ((x - mean.unsqueeze(-1)).square().mean(-1) + eps).rsqrt()
    return out, mean, rstd


def native_dropout(input, p, train):
    """(out, mask): mask (bool) marks the kept elements, out = input * mask / (1 - p). With
    train=False: a copy of input and an all-True mask (train=None means training)."""
    from ember._tensor import Tensor
    F = _F()
    if train is not None and not train:
        return input.clone(), Tensor._make(np.ones(tuple(input.shape), np.bool_))
    if p == 1:
        keep = np.zeros(tuple(input.shape), np.bool_)
    else:
        from ember.nn.init import _rng
        keep = _rng().random(tuple(input.shape)) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    out = input * F._const((keep * scale).astype(input._data.dtype))
    return out, Tensor._make(keep)


# --- convolution and sampling grids -----------------------------------------------------------

def _int_list(value, fn, name, pos, n):
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be tuple of ints, not "
                        f"{type(value).__name__}")
    value = tuple(int(v) for v in value)
    return value * n if len(value) == 1 else value


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    """The generic convolution: N-d from weight's dims, transposed or not."""
    n = weight.dim() - 2
    if n not in (1, 2, 3):
        raise RuntimeError(f"Expected 3D, 4D or 5D weight for convolution, but got "
                           f"{weight.dim()}D weight")
    stride = _int_list(stride, "convolution", "stride", 4, n)
    padding = _int_list(padding, "convolution", "padding", 5, n)
    dilation = _int_list(dilation, "convolution", "dilation", 6, n)
    output_padding = _int_list(output_padding, "convolution", "output_padding", 8, n)
    F = _F()
    if transposed:
        return getattr(F, f"conv_transpose{n}d")(input, weight, bias, stride, padding,
                                                 output_padding, groups, dilation)
    return getattr(F, f"conv{n}d")(input, weight, bias, stride, padding, dilation, groups)


_INTERPOLATION = {0: "bilinear", 1: "nearest", 2: "bicubic"}
_PADDING = {0: "zeros", 1: "border", 2: "reflection"}


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """nn.functional.grid_sample with its modes as ints: interpolation 0 bilinear, 1 nearest,
    2 bicubic; padding 0 zeros, 1 border, 2 reflection."""
    if interpolation_mode not in _INTERPOLATION:
        raise RuntimeError(f"grid_sampler(): unknown interpolation mode {interpolation_mode}")
    if padding_mode not in _PADDING:
        raise RuntimeError(f"grid_sampler(): unknown padding mode {padding_mode}")
    return _F().grid_sample(input, grid, _INTERPOLATION[interpolation_mode],
                            _PADDING[padding_mode], bool(align_corners))


def _grid_sampler_nd(n):
    def fn(input, grid, interpolation_mode, padding_mode, align_corners):
        if input.dim() != n + 2 or grid.dim() != n + 2:
            raise RuntimeError(f"grid_sampler(): expected {n + 2}D input and grid with same "
                               f"number of dimensions, but got input with sizes "
                               f"{list(input.shape)} and grid with sizes {list(grid.shape)}")
        return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)
    fn.__name__ = fn.__qualname__ = f"grid_sampler_{n}d"
    return fn


grid_sampler_2d, grid_sampler_3d = _grid_sampler_nd(2), _grid_sampler_nd(3)


def affine_grid_generator(theta, size, align_corners):
    return _F().affine_grid(theta, list(size), align_corners=bool(align_corners))


# --- Tensor methods --------------------------------------------------------------------------

def _hardshrink_method(self, lambd=0.5):
    return _F().hardshrink(self, lambd)


def _prelu_method(self, weight):
    return _F().prelu(self, weight)


def _install_methods():
    from ember._tensor import Tensor
    Tensor.hardshrink = _hardshrink_method
    Tensor.prelu = _prelu_method


_install_methods()
