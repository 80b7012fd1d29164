"""parameters_to_vector / vector_to_parameters."""
import numpy as np

from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["parameters_to_vector", "vector_to_parameters"]


class _Cat(ArrayFunction):
    """Concatenate along dim 0 (a private stand-in for torch.cat); backward narrows."""

    def forward(ctx, *arrays):
        ctx.sizes = [a.shape[0] for a in arrays]
        return np.concatenate(arrays, axis=0)

    def backward(ctx, grad):
        out, start = [], 0
        for n in ctx.sizes:
            out.append(grad.narrow(0, start, n))
            start += n
        return tuple(out)

    def name(self):
        return "CatBackward0"


def _cat(tensors):
    import ember
    if hasattr(ember, "cat"):
        return ember.cat(list(tensors), 0)
    return _Cat.apply(*tensors)


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated (differentiable)."""
    return _cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of vec into the parameters (replacing their .data)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for p in parameters:
        n = p.numel()
        p.data = Tensor._make(vec._data[pointer:pointer + n].reshape(p.shape))
        pointer += n
