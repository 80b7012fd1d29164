"""Linear algebra: matmul and its family (the rest of torch.linalg comes with issue #4).

matmul follows torch's dimension rules: 1-D operands are promoted to matrices and the added dim
removed afterwards; batch dims broadcast. Unlike arithmetic, matmul never promotes dtypes.
"""
import numpy as np

from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["matmul"]


class Matmul(ArrayFunction):
    """a @ b for a, b of at least 2 dims; grads: grad @ b^H and a^H @ grad."""
    _name = "MmBackward0"   # matmul() renames it after torch's dispatch (Bmm, Mv, Dot...)

    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return np.matmul(a, b)

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = grad @ b.mT.conj() if ctx.needs_input_grad[0] else None
        gb = a.mT.conj() @ grad if ctx.needs_input_grad[1] else None
        return ga, gb

    def name(self):
        return self._name


def _dims_str(shape):
    return "x".join(map(str, shape))


def _check_matmul(a, b):
    sa, sb = a._data.shape, b._data.shape
    da, db = len(sa), len(sb)
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{da}D and {db}D")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_cname(a)} != {_cname(b)}")
    if da == 1 and db == 1:
        if sa[0] != sb[0]:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{sa[0]}] and src "
                               f"[{sb[0]}] to have the same number of elements, but got {sa[0]} "
                               f"and {sb[0]} elements respectively")
        return
    if db == 1:
        if sa[-1] != sb[0]:
            raise RuntimeError(f"size mismatch, got input ({sa[-2]}), mat ({_dims_str(sa[-2:])}), "
                               f"vec ({sb[0]})")
        return
    k_a = sa[-1]
    k_b = sb[-2]
    if k_a != k_b:
        if da <= 2 and db <= 2 or da == 1:
            rows = sa if da == 2 else (1,) + sa
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_dims_str(rows)} and "
                               f"{_dims_str(sb)})")
        if db == 2:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                               f"({_dims_str((int(np.prod(sa[:-1])), k_a))} and {_dims_str(sb)})")
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{int(np.prod(sb[:-2]))}, {k_a}] but got: [{int(np.prod(sb[:-2]))}, "
                           f"{k_b}].")
    ba, bb = sa[:-2], sb[:-2]
    for i in range(1, min(len(ba), len(bb)) + 1):
        x, y = ba[-i], bb[-i]
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) "
                               f"at non-singleton dimension {max(len(ba), len(bb)) - i}")


def _cname(t):
    return {"Float": "float", "Double": "double", "Int": "int", "Long": "long", "Half": "c10::Half",
            "BFloat16": "c10::BFloat16", "Short": "short", "Char": "signed char",
            "Byte": "unsigned char", "Bool": "bool", "ComplexFloat": "c10::complex<float>",
            "ComplexDouble": "c10::complex<double>"}.get(t.dtype._legacy, t.dtype._legacy)


def matmul(input, other, *, out=None):
    """Matrix product with torch's 1-D promotion and batch broadcasting."""
    _check_matmul(input, other)
    da, db = input._data.ndim, other._data.ndim
    if da >= 2 and db >= 2:
        r = Matmul.apply(input, other)
        name = "MmBackward0" if da == 2 and db == 2 else (
            "BmmBackward0" if da == db == 3 and input.shape[0] == other.shape[0]
            else "UnsafeViewBackward0")
    else:
        a = input.unsqueeze(0) if da == 1 else input
        b = other.unsqueeze(-1) if db == 1 else other
        r = Matmul.apply(a, b)
        if db == 1:
            r = r.squeeze(-1)
        if da == 1:
            r = r.squeeze(-2 if db != 1 else -1)
        name = "DotBackward0" if da == db == 1 else ("MvBackward0" if db == 1 and da == 2 else
                                                   "MmBackward0" if da == 1 and db == 2
                                                   else "UnsafeViewBackward0")
    if r.grad_fn is not None:
        r.grad_fn._name = name
    if out is not None:
        from ember._ops._helpers import write_out
        return write_out(out, r)
    return r


Tensor.matmul = matmul
Tensor.__matmul__ = lambda self, other: matmul(self, other) if isinstance(other, Tensor) \
    else NotImplemented
Tensor.__rmatmul__ = lambda self, other: matmul(other, self) if isinstance(other, Tensor) \
    else NotImplemented
