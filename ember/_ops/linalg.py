"""Linear algebra: matmul and its family (the rest of torch.linalg comes with issue #4).

matmul follows torch's dimension rules: 1-D operands are promoted to matrices and the added dim
removed afterwards; batch dims broadcast. Unlike arithmetic, matmul never promotes dtypes.
"""
import numpy as np

from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["matmul"]


class Matmul(ArrayFunction):
    """a @ b with NumPy's (= torch's) rules for 1-D operands and batch broadcasting.

    grads: grad @ b^H and a^H @ grad, a 1-D `a` acting as a row and a 1-D `b` as a column whose
    added dim is removed again. The engine sums broadcast batch dims away.
    """
    _name = "MmBackward0"   # matmul() renames it after torch's dispatch (Bmm, Mv, Dot...)

    def forward(ctx, a, b):
        ctx.a_vector, ctx.b_vector = a.ndim == 1, b.ndim == 1
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return np.asarray(np.matmul(a, b))

    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        if ctx.a_vector and ctx.b_vector:   # dot product: grad is 0-d
            return (grad * b.conj() if ctx.needs_input_grad[0] else None,
                    grad * a.conj() if ctx.needs_input_grad[1] else None)
        g = grad.unsqueeze(-2) if ctx.a_vector else grad
        g = g.unsqueeze(-1) if ctx.b_vector else g
        ga = gb = None
        if ctx.needs_input_grad[0]:
            bm = b.unsqueeze(-1) if ctx.b_vector else b
            ga = g @ bm.mT.conj()
            ga = ga.squeeze(-2) if ctx.a_vector else ga
        if ctx.needs_input_grad[1]:
            am = a.unsqueeze(-2) if ctx.a_vector else a
            gb = am.mT.conj() @ g
            gb = gb.squeeze(-1) if ctx.b_vector else gb
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
    r = Matmul.apply(input, other)
    if da == 1 and db == 1:
        name = "DotBackward0"
    elif da == 2 and db == 1:
        name = "MvBackward0"
    elif da <= 2 and db == 2:
        name = "MmBackward0"
    elif da == db == 3 and input._data.shape[0] == other._data.shape[0]:
        name = "BmmBackward0"
    else:
        name = "UnsafeViewBackward0"
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
