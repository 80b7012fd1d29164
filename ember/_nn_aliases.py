"""torch.* spellings of nn.functional ops: torch.conv2d, torch.max_pool2d, torch.dropout, ...

torch exposes its native kernels at the top level too, and traced or older code calls them
there. Most take nn.functional's arguments; some keep the native signature, which differs:
`dropout(input, p, train)` (no defaults), `embedding(weight, indices, padding_idx=-1, ...)`
(weight first), `batch_norm`/`instance_norm` with the weight before the running statistics and
every argument positional, `max_pool*d` without `return_indices`. Each wrapper imports its op on
first call, so that `import ember` stays light.
"""

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "max_pool1d", "max_pool2d", "max_pool3d",
           "max_pool1d_with_indices", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
           "dropout", "dropout_", "alpha_dropout", "alpha_dropout_", "feature_dropout",
           "feature_dropout_", "feature_alpha_dropout", "feature_alpha_dropout_", "batch_norm",
           "instance_norm", "layer_norm", "group_norm", "rms_norm", "embedding", "bilinear",
           "celu", "celu_", "selu", "selu_", "threshold", "threshold_", "rrelu", "rrelu_",
           "hardshrink", "prelu", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
           "native_channel_shuffle", "constant_pad_nd"]


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
              "celu_", "selu", "selu_", "threshold", "threshold_", "rrelu", "rrelu_",
              "hardshrink", "prelu", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
              "native_channel_shuffle", "layer_norm", "group_norm", "rms_norm"):
    globals()[_name] = _same(_name)


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
