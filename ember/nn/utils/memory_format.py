"""`nn.utils.convert_conv{2,3}d_weight_memory_format`: re-lay the weights of the (transposed)
conv layers of a module in a memory format (channels_last...); the values do not change."""
__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert(module, memory_format, names):
    from ember.nn.modules import conv
    classes = tuple(getattr(conv, n) for n in names if hasattr(conv, n))
    for m in module.modules():
        if classes and isinstance(m, classes):
            m.weight.data = m.weight.detach().clone(memory_format=memory_format)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """Every Conv2d / ConvTranspose2d weight in `module` (recursively) takes `memory_format`;
    returns the module."""
    return _convert(module, memory_format, ("Conv2d", "ConvTranspose2d"))


def convert_conv3d_weight_memory_format(module, memory_format):
    """Every Conv3d / ConvTranspose3d weight in `module` (recursively) takes `memory_format`;
    returns the module."""
    return _convert(module, memory_format, ("Conv3d", "ConvTranspose3d"))
