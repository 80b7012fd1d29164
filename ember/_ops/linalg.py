"""Linear algebra: matmul and its family, einsum, tensordot, kron, cross, cdist, and the torch.*
forms of decompositions (the legacy svd, qr, cholesky, triangular_solve, lu...). The other
distances (pdist, pairwise_distance, cosine_similarity) live beside dist in statistics.py.

matmul follows torch's dimension rules: 1-D operands are promoted to matrices and the added dim
removed afterwards; batch dims broadcast. Unlike arithmetic, matmul never promotes dtypes.
The decompositions (`ember.linalg`, and `inverse det logdet slogdet pinverse` here) live in
`linalg_decomp.py`.
"""
import math

import numpy as np

from ember._ops._helpers import c_copy, c_name, is_half, round_through, write_out
from ember._tensor import Tensor, _wrap_dim
from ember.autograd.function import ArrayFunction, rename_result
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm",
           "addbmm", "baddbmm", "addmv", "addr", "einsum", "tensordot", "kron", "cross", "cdist",
           "inverse", "det", "logdet", "slogdet", "pinverse", "chain_matmul", "matrix_power",
           "matrix_exp", "svd", "qr", "cholesky", "cholesky_solve", "cholesky_inverse",
           "triangular_solve", "lu", "lu_solve", "lu_unpack"]


def _half_safe(fn):
    """fn(*arrays) for float16/bfloat16 operands computed in float32 and rounded once to the
    operands' dtype (torch's CPU kernels accumulate half types in float32; NumPy has no fast
    half GEMM, and ml_dtypes' bfloat16 matmul returns float32 and einsum rejects it)."""
    def run(*arrays, **kwargs):
        dt = arrays[0].dtype
        if dt.itemsize != 2 or dt.kind not in "fV":
            return fn(*arrays, **kwargs)
        wide = [a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in arrays]
        return np.asarray(fn(*wide, **kwargs)).astype(dt)
    return run


def _contract_pair(a, sa, b, sb, keep):
    """Operands a, b with subscripts sa, sb contracted by one matmul, as torch's einsum does:
    letters of one operand that nothing later needs (not in `keep`) are summed first; the
    shared letters are batch dims (kept) or the inner dimension (summed), the others the
    rows of a and the columns of b. Returns (result, its subscripts)."""
    def drop(x, sx, other):
        gone = [i for i, c in enumerate(sx) if c not in other and c not in keep]
        if gone:
            x, sx = x.sum(axis=tuple(gone)), "".join(c for c in sx if c in other or c in keep)
        return x, sx
    a, sa = drop(a, sa, sb)
    b, sb = drop(b, sb, sa)
    batch = [c for c in sa if c in sb and c in keep]
    inner = [c for c in sa if c in sb and c not in keep]
    rows = [c for c in sa if c not in sb]
    cols = [c for c in sb if c not in sa]
    size = dict(zip(sa, a.shape)) | dict(zip(sb, b.shape))
    n = [math.prod(size[c] for c in part) for part in (rows, inner, cols)]
    a = a.transpose([sa.index(c) for c in batch + rows + inner])
    b = b.transpose([sb.index(c) for c in batch + inner + cols])
    batch_shape = tuple(size[c] for c in batch)
    r = np.matmul(a.reshape(batch_shape + (n[0], n[1])), b.reshape(batch_shape + (n[1], n[2])))
    return (r.reshape(batch_shape + tuple(size[c] for c in rows + cols)),
            "".join(batch + rows + cols))


def _contract(eq, *ops):
    """np.einsum(eq, *ops), two or more operands contracted left to right one pair at a time
    by matmul (torch's order without opt_einsum; NumPy's own einsum loops run 10-15x slower
    than BLAS on a batched product). Equations with a letter repeated in one operand (a
    diagonal) go to np.einsum."""
    ins, out = eq.split("->")
    subs = ins.split(",")
    if len(ops) == 1 or any(len(set(x)) != len(x) for x in subs):
        return np.einsum(eq, *ops, optimize=len(ops) > 2)
    r, sr = ops[0], subs[0]
    for k in range(1, len(ops)):
        keep = set(out).union(*subs[k + 1:])
        r, sr = _contract_pair(r, sr, ops[k], subs[k], keep)
    gone = tuple(i for i, c in enumerate(sr) if c not in out)
    if gone:
        r, sr = r.sum(axis=gone), "".join(c for c in sr if c in out)
    r = r.transpose([sr.index(c) for c in out])
    return r if r.flags.c_contiguous else c_copy(r)


_matmul = _half_safe(np.matmul)
_einsum_ops = _half_safe(lambda *ops, eq: _contract(eq, *ops))


def _einsum(eq, *ops):
    return _einsum_ops(*ops, eq=eq)


class Matmul(ArrayFunction):
    """a @ b with NumPy's (= torch's) rules for 1-D operands and batch broadcasting.

    grads: grad @ b^H and a^H @ grad, a 1-D `a` acting as a row and a 1-D `b` as a column whose
    added dim is removed again. The engine sums broadcast batch dims away.
    """
    _name = "MmBackward0"   # matmul() renames it after torch's dispatch (Bmm, Mv, Dot...)
    fast = staticmethod(_matmul)   # no-grad path: one NumPy call

    def forward(ctx, a, b):
        ctx.a_vector, ctx.b_vector = a.ndim == 1, b.ndim == 1
        ctx.save_for_backward(b if ctx.needs_input_grad[0] else None,   # (torch's order)
                              a if ctx.needs_input_grad[1] else None)
        return np.asarray(_matmul(a, b))

    def backward(ctx, grad):
        b, a = ctx.saved_tensors
        if ctx.a_vector and ctx.b_vector:   # dot product: grad is 0-d
            return (grad * b.conj() if ctx.needs_input_grad[0] else None,
                    grad * a.conj() if ctx.needs_input_grad[1] else None)
        g = grad.unsqueeze(-2) if ctx.a_vector else grad
        g = g.unsqueeze(-1) if ctx.b_vector else g
        if is_half(g._data.dtype) and not (ctx.a_vector or ctx.b_vector):
            folded = _folded_grads(ctx, g, a, b)
            if folded is not None:
                return folded
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


def _folded_grads(ctx, g, a, b):
    """Matmul's gradients where torch folds a batch into one matrix product (a batched
    operand times a matrix): the matrix's gradient is then one product over the whole batch,
    rounded once, not a sum of rounded per-batch products (a difference for half types).
    None for the other shapes."""
    ga = gb = None
    if b is not None and b.dim() == 2 and g.dim() > 2 and ctx.needs_input_grad[1]:
        k, n = b.shape
        gb = a.reshape(-1, k).mT @ g.reshape(-1, n)
        if ctx.needs_input_grad[0]:
            ga = g @ b.mT
        return ga, gb
    if a is not None and a.dim() == 2 and g.dim() > 2 and ctx.needs_input_grad[0]:
        m, k = a.shape
        ga = g.mT.reshape(-1, m).mT @ b.mT.reshape(-1, k)
        if ctx.needs_input_grad[1]:
            gb = a.mT @ g
        return ga, gb
    return None


def _dims_str(shape):
    return "x".join(map(str, shape))


def _check_matmul(a, b):
    sa, sb = a._data.shape, b._data.shape
    da, db = len(sa), len(sb)
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{da}D and {db}D")
    if a._data.dtype != b._data.dtype or a._data.dtype == np.bool_:
        _dtype_error(a, b, da, db)
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
    # torch broadcasts batch dims before it compares the inner sizes
    ba, bb = sa[:-2], sb[:-2]
    for i in range(1, min(len(ba), len(bb)) + 1):
        x, y = ba[-i], bb[-i]
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) "
                               f"at non-singleton dimension {max(len(ba), len(bb)) - i}")
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


def _dtype_error(a, b, da, db):
    """torch's error for operands of two dtypes (or bool ones), worded by the kernel its
    dispatch picks for these ranks: dot, addmv (matrix @ vector), addmm (matrices), bmm."""
    la, lb = a.dtype._legacy, b.dtype._legacy
    kernel = ("dot" if da == 1 and db == 1 else "addmv" if db == 1 else
              "addmm" if db == 2 and da <= 2 else "bmm")
    if a._data.dtype == b._data.dtype:   # bool: no kernel takes it
        name = {"dot": "dot", "addmv": "addmv_impl_cpu", "addmm": "addmm_impl_cpu_",
                "bmm": "bmm"}[kernel]
        raise NotImplementedError(f"\"{name}\" not implemented for '{la}'")
    if kernel == "dot":
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {la} and "
                           f"{lb}")
    if kernel == "addmv":
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {lb}, {la}, "
                           f"and {lb}")
    if kernel == "addmm":
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_cname(a)} != {_cname(b)}")
    raise RuntimeError(f"expected scalar type {la} but found {lb}")


def _cname(t):
    return {"Float": "float", "Double": "double", "Int": "int", "Long": "long int",
            "Half": "c10::Half", "BFloat16": "c10::BFloat16", "Short": "short int",
            "Char": "signed char",
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
    elif da == 2 and db == 2:
        name = "MmBackward0"
    elif da == 1 and db == 2:   # torch: unsqueeze(0).mm(other).squeeze_(0)
        name = "SqueezeBackward4"
    elif da == 2 and input._requires_grad and r.grad_fn is not None:
        name = _matrix_by_batch_name(r._data)
    else:   # a batched product (or a folded mm / mv) viewed to the result's shape
        name = "UnsafeViewBackward0"
    rename_result(r, name)
    if out is not None:
        if da == 1 and db == 1:
            _dot_out_check(out, input)
        elif db == 1 and da > 2:   # torch folds the batch into one addmv with out as self
            if out.dtype is not input.dtype:
                raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                                   f"{out.dtype._legacy}, {input.dtype._legacy}, and "
                                   f"{other.dtype._legacy}")
        return write_out(out, r, exact=True)
    return r


def _dot_out_check(out, input):
    if out is not None and out.dtype is not input.dtype:
        raise RuntimeError(f"result dtype {out.dtype._legacy} does not match input dtype "
                           f"{input.dtype._legacy}")


def _matrix_by_batch_name(out):
    """matrix @ batch where the matrix requires grad: torch folds the batch into one mm on
    other.mT, so its result is (...).mT.contiguous(): a copy unless that transpose is already
    contiguous (a size-1 or empty result), which leaves the transpose's node."""
    if out.size == 0 or out.shape[-1] == 1 or out.shape[-2] == 1:
        return "TransposeBackward0"
    return "CloneBackward0"


Tensor.matmul = matmul
Tensor.__matmul__ = lambda self, other: matmul(self, other) if isinstance(other, Tensor) \
    else NotImplemented
Tensor.__rmatmul__ = lambda self, other: matmul(other, self) if isinstance(other, Tensor) \
    else NotImplemented


# ---------------------------------------------------------------------------------------------
# mm, bmm, mv, dot and friends: matmul with torch's stricter argument checks

def _same_dtype(a, b, msg):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(msg.format(a.dtype._legacy, b.dtype._legacy))


def _named(r, name, out, **kw):
    rename_result(r, name)
    if out is not None:
        return write_out(out, r, **kw)
    return r


def mm(input, mat2, *, out=None):
    """Matrix product of two 2-D tensors (no broadcasting, no dtype promotion)."""
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_matmul(input, mat2)
    return _named(Matmul.apply(input, mat2), "MmBackward0", out, exact=True)


def bmm(input, mat2, *, out=None):
    """Batched product of (b, n, m) and (b, m, p) tensors; batch sizes must match exactly."""
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    sa, sb = input._data.shape, mat2._data.shape
    if sb[0] != sa[0] or sb[1] != sa[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{sa[0]}, {sa[2]}] but got: [{sb[0]}, {sb[1]}].")
    _check_matmul(input, mat2)
    return _named(Matmul.apply(input, mat2), "BmmBackward0", out, exact=True)


def mv(input, vec, *, out=None):
    """Matrix (n, m) times vector (m,)."""
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, "
                           f"{vec._data.ndim}")
    _check_matmul(input, vec)
    if out is not None and out._data.shape == input._data.shape[:1] and \
            out.dtype is not input.dtype:   # (an out= that fits becomes addmv's self)
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{out.dtype._legacy}, {input.dtype._legacy}, and {vec.dtype._legacy}")
    return _named(Matmul.apply(input, vec), "MvBackward0", out, exact=True)


def _check_vectors(a, b):
    """dot/vdot's checks, in torch's order: both 1-D, one dtype, equal lengths."""
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._data.ndim}D and "
                           f"{b._data.ndim}D tensors")
    _same_dtype(a, b, "dot : expected both vectors to have same dtype, but found {} and {}")
    _check_matmul(a, b)


def dot(input, tensor, *, out=None):
    """Inner product of two 1-D tensors of the same dtype (no conjugation; see vdot)."""
    _check_vectors(input, tensor)
    _dot_out_check(out, input)
    return _named(Matmul.apply(input, tensor), "DotBackward0", out)


def vdot(input, other, *, out=None):
    """sum(conj(input) * other) of two 1-D tensors: the first argument is conjugated."""
    _check_vectors(input, other)
    _dot_out_check(out, input)
    a = input.conj() if input.is_complex() else input
    return _named(Matmul.apply(a, other), "VdotBackward0", out)


def inner(input, other, *, out=None):
    """Sum over the last dims of both (a scalar operand multiplies); result dims a[:-1] + b[:-1]."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        r = input * other
    else:
        _same_dtype(input, other, "both inputs should have same dtype")
        if input._data.shape[-1] != other._data.shape[-1]:
            raise RuntimeError(f"inner() the last dimension must match on both input tensors "
                               f"but got shapes {list(input._data.shape)} and "
                               f"{list(other._data.shape)}")
        r = tensordot(input, other, dims=([-1], [-1]))
        _tensordot_out_check(out, r)
    return _named(r, r.grad_fn.name() if r.grad_fn is not None else "", out, grad="copy")


def outer(input, vec2, *, out=None):
    """Outer product of two 1-D tensors (dtypes promote, as for `*`)."""
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input._data.ndim}-D"
                           if input._data.ndim != 1 else
                           f"outer: Expected 1-D argument vec2, but got {vec2._data.ndim}-D")
    r = input.reshape(-1, 1) * vec2   # (torch reshapes: a view, ReshapeAlias for a stride)
    return _named(r, "MulBackward0", out)


def ger(input, vec2, *, out=None):
    """Deprecated alias of outer (torch warns on every call with out=, never without)."""
    if out is not None:
        import warnings
        warnings.warn("torch.ger is deprecated and will be removed in a future PyTorch release. "
                      "Use torch.outer instead.", UserWarning, stacklevel=2)
    return outer(input, vec2, out=out)


class AddProduct(ArrayFunction):
    """beta * input + alpha * (a ⊗ b) for the five fused ops; `kind` picks the product:
    mm, bmm (baddbmm), sbmm (addbmm: batch products summed), mv, outer (addr).

    torch's traps: beta=0 ignores input entirely (NaN/inf in it do not propagate), but input
    still gets a (zero) gradient; grads: input beta*g, a alpha*g b^H, b alpha*a^H g.
    """

    def forward(ctx, inp, a, b, *, beta, alpha, kind):
        ctx.beta, ctx.alpha, ctx.kind = beta, alpha, kind
        ctx.save_for_backward(a if ctx.needs_input_grad[2] else None,
                              b if ctx.needs_input_grad[1] else None)
        if is_half(a.dtype):
            return _add_product_half(inp, a, b, beta, alpha, kind)
        if kind == "outer":
            prod = np.multiply.outer(a, b)
        elif kind == "sbmm":
            prod = _matmul(a, b).sum(0)
        else:
            prod = _matmul(a, b)
        if alpha != 1:
            prod = prod * np.asarray(alpha, prod.dtype)
        inp = np.broadcast_to(inp, prod.shape)   # shapes checked by _add_product
        if beta == 0:
            return np.asarray(prod, copy=True) if prod.base is not None else prod
        if beta != 1:
            inp = inp * np.asarray(beta, prod.dtype)
        return np.asarray(prod + inp)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        kind, alpha = ctx.kind, ctx.alpha
        gi = ga = gb = None
        if ctx.needs_input_grad[0]:
            gi = g * ctx.beta if ctx.beta != 1 else g
        # half types as torch: alpha scales the products once they are rounded
        late = is_half(g._data.dtype) and alpha != 1
        g_ = g * alpha if alpha != 1 and not late else g
        g_ = g_.unsqueeze(0) if kind == "sbmm" else g_
        if ctx.needs_input_grad[1]:
            if kind == "outer":
                ga = g_ @ b.conj()
            elif kind == "mv":
                ga = g_.unsqueeze(1) * b.conj()
            else:
                ga = g_ @ b.mT.conj()
        if ctx.needs_input_grad[2]:
            if kind == "outer":
                gb = a.conj() @ g_
            else:
                gb = a.mT.conj() @ g_
        if late:
            ga = None if ga is None else ga * alpha
            gb = None if gb is None else gb * alpha
        return gi, ga, gb

    def name(self):
        return {"mm": "AddmmBackward0", "bmm": "BaddbmmBackward0", "sbmm": "AddbmmBackward0",
                "mv": "AddmvBackward0", "outer": "AddrBackward0"}[self.kind]


def _add_product_half(inp, a, b, beta, alpha, kind):
    """AddProduct's forward for half types, as torch's CPU kernels compute each (the product
    accumulates in float32 throughout):
    - mm, bmm: beta * input + alpha * product in float32 (numbers as float32), rounded once;
    - sbmm (addbmm): one such addmm for the first batch, then each further product added in
      float32 and rounded (result.addmm_ per batch);
    - mv: torch's own gemv takes beta and alpha in the half type and rounds on the way:
      beta * input is rounded first (not by float16's alpha = 1 path), and alpha * product
      too for a column-major matrix. bfloat16 products of more than 16^3 go to oneDNN (on
      CPUs with bfloat16 instructions), which computes them as mm;
    - outer (addr): every step in the half type: beta * input + (alpha * vec1) * vec2, with
      beta and alpha rounded to it."""
    dt = a.dtype
    F32 = np.float32
    r = lambda v: round_through(v, dt)   # noqa: E731
    a32, b32 = a.astype(F32), b.astype(F32)
    if kind == "outer":
        ah, bh = r(alpha), r(beta)
        p = r(r(ah * a32[:, None]) * b32[None, :])
        c = np.broadcast_to(inp, p.shape).astype(F32)
        return (p if beta == 0 else r(r(bh * c) + p)).astype(dt)
    if kind == "sbmm":
        out = F32(alpha) * np.matmul(a32[0], b32[0])
        if beta != 0:
            out = out + F32(beta) * np.broadcast_to(inp, out.shape).astype(F32)
        for i in range(1, a32.shape[0]):
            out = r(r(out) + F32(alpha) * np.matmul(a32[i], b32[i]))
        return out.astype(dt)
    p = np.matmul(a32, b32)
    c = np.broadcast_to(inp, p.shape).astype(F32)
    if kind == "mv" and (dt == np.float16 or a.size <= 16 ** 3):
        ah, bh = r(alpha), r(beta)
        column_major = a.strides[0] == a.itemsize and a.shape[0] > 1 and a.shape[1] > 1
        if beta == 0:
            return (ah * p).astype(dt)
        if column_major:
            return (r(bh * c) + r(ah * p)).astype(dt)
        if alpha == 1 and dt == np.float16:
            return (bh * c + p).astype(dt)
        return (r(bh * c) + ah * p).astype(dt)
    out = F32(alpha) * p
    return (out if beta == 0 else out + F32(beta) * c).astype(dt)


def _add_product(input, a, b, beta, alpha, kind, out):
    if kind == "mv":
        if len({input._data.dtype, a._data.dtype, b._data.dtype}) > 1:
            raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                               f"{input.dtype._legacy}, {a.dtype._legacy}, and "
                               f"{b.dtype._legacy}")
    elif kind == "bmm" and len({input._data.dtype, a._data.dtype, b._data.dtype}) > 1:
        raise RuntimeError(f"Input dtypes must be the same, got: input {c_name(input.dtype)}, "
                           f"batch1: {c_name(a.dtype)}, batch2: {c_name(b.dtype)}")
    elif kind == "outer":   # (addr promotes, as pointwise ops do)
        from ember._ops._helpers import to_dtype
        from ember._dtype import result_type_of
        rd = result_type_of((input, a))
        input, a, b = to_dtype(input, rd), to_dtype(a, rd), to_dtype(b, rd)
    else:
        _same_dtype(input, a, "self and mat2 must have the same dtype, but got {} and {}")
    if input._data.dtype.kind in "biu":   # torch truncates float scalars for int tensors
        beta, alpha = int(beta), int(alpha)
    shape = _product_shape(a, b, kind)
    if kind == "mv" and input._data.shape not in ((), (1,), shape):
        raise RuntimeError(f"size mismatch, got input ({_dims_str(input._data.shape)}), mat "
                           f"({_dims_str(a._data.shape)}), vec ({_dims_str(b._data.shape)})")
    _check_expand(input, shape)
    if out is not None and kind == "sbmm" and out.dtype is not a.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                           f"{out.dtype._legacy} and {a.dtype._legacy}")
    r = AddProduct.apply(input, a, b, beta=beta, alpha=alpha, kind=kind)
    if out is not None:   # (addr casts; the fused matrix products write their dtype only;
        # addbmm's kernel resizes out silently)
        return write_out(out, r, exact=kind != "outer", warn=kind != "sbmm")
    return r


def _product_shape(a, b, kind):
    sa, sb = a._data.shape, b._data.shape
    if kind == "mm":
        return sa[0], sb[1]
    if kind == "bmm":
        return sa[0], sa[1], sb[2]
    if kind == "sbmm":
        return sa[1], sb[2]
    return (sa[0],) if kind == "mv" else (sa[0], sb[0])


def _check_expand(t, shape):
    """torch's errors for expanding `input` to the product's shape."""
    ts = t._data.shape
    if len(ts) > len(shape):
        raise RuntimeError(f"expand(torch.{t.dtype._legacy}Tensor{{{list(ts)}}}, size="
                           f"{list(shape)}): the number of sizes provided ({len(shape)}) must "
                           f"be greater or equal to the number of dimensions in the tensor "
                           f"({len(ts)})")
    for i in range(1, len(ts) + 1):
        if ts[-i] != 1 and ts[-i] != shape[-i]:
            raise RuntimeError(f"The expanded size of the tensor ({shape[-i]}) must match the "
                               f"existing size ({ts[-i]}) at non-singleton dimension "
                               f"{len(shape) - i}.  Target sizes: {list(shape)}.  Tensor sizes: "
                               f"{list(ts)}")


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2); input broadcasts to (n, p)."""
    if mat1._data.ndim != 2:
        raise RuntimeError("mat1 must be a matrix, got " f"{mat1._data.ndim}-D tensor")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix, got " f"{mat2._data.ndim}-D tensor")
    _check_matmul(mat1, mat2)
    return _add_product(input, mat1, mat2, beta, alpha, "mm", out)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * bmm(batch1, batch2)."""
    _bmm_checks(batch1, batch2)
    return _add_product(input, batch1, batch2, beta, alpha, "bmm", out)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum_i batch1[i] @ batch2[i]."""
    _bmm_checks(batch1, batch2, summed=True)
    return _add_product(input, batch1, batch2, beta, alpha, "sbmm", out)


def _bmm_checks(b1, b2, summed=False):
    if b1._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    sa, sb = b1._data.shape, b2._data.shape
    if summed:   # addbmm words its checks its own way
        if sa[0] != sb[0]:
            raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                               f"{sa[0]} and {sb[0]}")
        if sa[2] != sb[1]:
            raise RuntimeError(f"Incompatible matrix sizes for bmm ({sa[1]}x{sa[2]} and "
                               f"{sb[1]}x{sb[2]})")
    if sb[0] != sa[0] or sb[1] != sa[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{sa[0]}, {sa[2]}] but got: [{sb[0]}, {sb[1]}].")
    _check_matmul(b1, b2)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat @ vec)."""
    if mat._data.ndim != 2 or vec._data.ndim != 1 or input._data.ndim > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input._data.ndim}, "
                           f"{mat._data.ndim}, {vec._data.ndim}")
    _check_matmul(mat, vec)
    return _add_product(input, mat, vec, beta, alpha, "mv", out)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2)."""
    if vec1._data.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1._data.ndim}-D")
    if vec2._data.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec2, but got {vec2._data.ndim}-D")
    _same_dtype(vec1, vec2, "expected m1 and m2 to have the same dtype, but got: {} != {}")
    return _add_product(input, vec1, vec2, beta, alpha, "outer", out)


def chain_matmul(*matrices, out=None):
    """Deprecated alias of linalg.multi_dot for 2-D matrices."""
    from ember._ops.linalg_decomp import multi_dot
    _deprecated("chain_matmul", "torch.chain_matmul is "
                "deprecated and will be removed in a future PyTorch release. Use "
                "torch.linalg.multi_dot instead, which accepts a list of two or more tensors "
                "rather than multiple parameters.", out)
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(matrices, out=out)


# ---------------------------------------------------------------------------------------------
# einsum: one NumPy call forward; each operand's gradient is another einsum

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Einsum(ArrayFunction):
    """np.einsum on an equation with explicit output and no ellipsis (einsum() rewrites it).

    Gradient of operand k: einsum(grad, the other operands -> k's subscripts). A subscript
    repeated in operand k (a diagonal) gets a fresh letter tied to it by an identity matrix; a
    subscript found only in operand k (summed away) is broadcast back by the engine-free
    `expand` below.
    """

    def forward(ctx, *ops, eq):
        ctx.eq = eq
        ctx.save_for_backward(*ops)
        return np.asarray(_einsum(eq, *ops))

    def backward(ctx, g):
        ops = ctx.saved_tensors
        ins, out = ctx.eq.split("->")
        subs = ins.split(",")
        sizes = {}
        for s, t in zip(subs, ops):
            sizes.update(zip(s, t.shape))
        grads = []
        for k, sk in enumerate(subs):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            terms, args = [out], [g]
            for j, (s, t) in enumerate(zip(subs, ops)):
                if j != k:
                    terms.append(s)
                    args.append(t.conj() if t.is_complex() else t)
            avail = set("".join(terms))
            target, used = [], set(ctx.eq)
            for c in sk:
                if c in target:   # repeated subscript: a fresh letter tied by eye
                    fresh = next(x for x in _LETTERS if x not in used)
                    used.add(fresh)
                    from ember import eye
                    terms.append(c + fresh)
                    args.append(eye(sizes[c], dtype=g.dtype))
                    sizes[fresh] = sizes[c]
                    target.append(fresh)
                else:
                    target.append(c)
            avail = set("".join(terms))
            keep = "".join(c for c in target if c in avail)
            r = Einsum.apply(*args, eq=",".join(terms) + "->" + keep)
            if len(keep) != len(target):   # letters only in operand k: broadcast back
                for i, c in enumerate(target):
                    if c not in avail:
                        r = r.unsqueeze(i)
                r = r.expand(*[sizes[c] for c in target])
            grads.append(r)
        return tuple(grads)


def _parse_sublist(args):
    """einsum(op, [0, 1], op2, [1, 2], [0, 2]) -> equation string and operands."""
    ops, terms = [], []
    args = list(args)
    out = None
    if len(args) % 2 == 1:
        out = args.pop()

    def letters(sub):
        return "".join("..." if s is Ellipsis else _LETTERS[s] for s in sub)
    for i in range(0, len(args), 2):
        ops.append(args[i])
        terms.append(letters(args[i + 1]))
    eq = ",".join(terms)
    if out is not None:
        eq += "->" + letters(out)
    return eq, ops


def einsum(*args):
    """Einstein summation: 'ij,jk->ik' forms, implicit output, '...' broadcasting, and the
    sublist form. Operands must share one dtype; labelled dims of size 1 broadcast."""
    if not args:
        raise RuntimeError("einsum(): must specify the equation string and at least one operand,"
                           " or at least one operand and its subscripts list")
    if isinstance(args[0], str):
        eq = args[0].replace(" ", "")
        ops = list(args[1][0:]) if len(args) == 2 and isinstance(args[1], (list, tuple)) \
            else list(args[1:])
    else:
        eq, ops = _parse_sublist(args)
    if "->" in eq:
        lhs, rhs = eq.split("->")
        explicit = True
    else:
        lhs, rhs, explicit = eq, None, False
    terms = lhs.split(",")
    if len(terms) > len(ops):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(terms) < len(ops):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    for t in ops[1:]:
        if t._data.dtype != ops[0]._data.dtype:
            raise RuntimeError(f"expected scalar type {ops[0].dtype._legacy} but found "
                               f"{t.dtype._legacy}")
    # replace ellipses by fresh letters, aligned from the right
    used = set(c for c in eq if c.isalpha())
    free = [c for c in _LETTERS if c not in used]
    n_ell = 0
    for t, op in zip(terms, ops):
        if "..." in t:
            n_ell = max(n_ell, op._data.ndim - (len(t) - 3))
    ell = "".join(free[:n_ell])
    new_terms = []
    for k, (t, op) in enumerate(zip(terms, ops)):
        for c in t.replace("...", ""):
            if not c.isalpha():
                raise RuntimeError(f"einsum(): invalid subscript given at index "
                                   f"{lhs.index(c)} in the equation string, subscripts must be "
                                   f"in [a-zA-Z]")
        if "..." in t:
            nd = op._data.ndim - (len(t) - 3)
            if nd < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({len(t) - 3}) is more than the number of dimensions "
                                   f"({op._data.ndim}) for operand {k}")
            t = t.replace("...", ell[n_ell - nd:])
        elif len(t) != op._data.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) "
                               f"does not match the number of dimensions ({op._data.ndim}) for "
                               f"operand {k} and no ellipsis was given")
        new_terms.append(t)
    if explicit:
        if "..." in rhs:
            rhs = rhs.replace("...", ell)
        elif n_ell and any("..." in t for t in terms):
            # torch sums over ellipsis dims absent from an explicit output
            pass
        for c in rhs:
            if c not in "".join(new_terms):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   f"equation for any input operand")
    else:
        counts = {}
        for t in new_terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted((c for c, n in counts.items() if n == 1 and c not in ell),
                                   key=lambda c: (c.isupper(), c)))
    # sizes: labelled dims of size 1 broadcast; others must agree
    sizes = {}
    for k, (t, op) in enumerate(zip(new_terms, ops)):
        seen = {}
        for c, n in zip(t, op._data.shape):
            if c in seen and seen[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but "
                                   f"the sizes don't match, {n} != {seen[c]}")
            seen[c] = n
            if c not in sizes or sizes[c] == 1:
                sizes[c] = n
            elif n != 1 and n != sizes[c]:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which "
                                   f"does not broadcast with previously seen size {sizes[c]}")
    ops = [op.expand(*[sizes[c] for c in t]) if any(sizes[c] != n for c, n in
                                                     zip(t, op._data.shape)) else op
           for t, op in zip(new_terms, ops)]
    eq = ",".join(new_terms) + "->" + rhs
    summed = any(c not in rhs for t in new_terms for c in t)
    if len(ops) == 1:
        return _EinsumSum.apply(ops[0], eq=eq) if summed else _einsum_view(ops[0],
                                                                           new_terms[0], rhs)
    return (_EinsumView if summed else _EinsumMul).apply(*ops, eq=eq)


# torch's einsum permutes its operands, multiplies them pairwise (bmm where a label is summed
# over, mul where none is) and views the result to the output's shape; a single operand is
# summed or only permuted. ember computes it in one node, named after the last one torch's
# decomposition leaves.

class _EinsumView(Einsum):
    def name(self):
        return "ViewBackward0"


class _EinsumMul(Einsum):
    def name(self):
        return "MulBackward0"


class _EinsumSum(Einsum):
    def name(self):
        return "SumBackward1"


def _einsum_view(op, term, rhs):
    """A single operand with nothing summed: its diagonals (repeated labels) permuted into the
    output's order, a view of it as in torch."""
    labels = list(term)
    for c in rhs:
        while labels.count(c) > 1:   # the diagonal of the first two dims labelled c goes last
            i = labels.index(c)
            j = labels.index(c, i + 1)
            op = op.diagonal(0, i, j)
            del labels[j], labels[i]
            labels.append(c)
    return op.permute([labels.index(c) for c in rhs])


def tensordot(a, b, dims=2, out=None):
    """Contract dims of a with dims of b: dims an int (last n of a with first n of b), a pair of
    lists, or a (2, n) tensor."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
        if isinstance(dims, int):
            pass
        elif dims and not isinstance(dims[0], list):
            dims = ([dims[0]], [dims[1]])
    for name, t, pos in (("a", a, 1), ("b", b, 2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"tensordot(): argument '{name}' (position {pos}) must be Tensor, "
                            f"not {type(t).__name__}")
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a._data.ndim or dims > b._data.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got "
                               f"dims={dims}")
        ga = list(range(-dims, 0))
        gb = list(range(dims))
    else:
        ga, gb = dims
        ga = [ga] if isinstance(ga, int) else list(ga)
        gb = [gb] if isinstance(gb, int) else list(gb)
    if len(ga) != len(gb):
        raise RuntimeError("both dimension lists should have same length")
    da = [_wrap_dim(d, a._data.ndim) for d in ga]
    db = [_wrap_dim(d, b._data.ndim) for d in gb]
    # a contracted dim of size 1 on one side broadcasts: the other side is summed over it
    # (torch sums `a` where both are 1)
    sum_a = [x for x, y in zip(da, db) if b._data.shape[y] == 1]
    sum_b = [y for x, y in zip(da, db) if b._data.shape[y] != 1 and a._data.shape[x] == 1]
    for x, y, gx, gy in zip(da, db, ga, gb):
        if a._data.shape[x] != b._data.shape[y] and 1 not in (a._data.shape[x],
                                                              b._data.shape[y]):
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a._data.shape[x]} in dim {gx} and second has size "
                               f"{b._data.shape[y]} in dim {gy}")
    _same_dtype(a, b, "both inputs should have same dtype")
    # torch's graph: (those sums,) permute each operand to (free, contracted) / (contracted,
    # free), reshape to matrices, mm (for a one-element result: dot of the flattened operands,
    # or sum of the squeezed operands' product where one is not contiguous), view to the
    # result's shape
    fa = [i for i in range(a._data.ndim) if i not in da]
    fb = [i for i in range(b._data.ndim) if i not in db]
    csize = math.prod(a._data.shape[x] for x in da if x not in sum_a)
    sa = [a._data.shape[i] for i in fa]
    sb = [b._data.shape[i] for i in fb]
    if a._data.dtype != np.bool_ and not (_grad_state.enabled and (a._requires_grad or
                                                                   b._requires_grad)):
        # nothing to record: the same product straight from NumPy
        am, bm = a._data, b._data
        if sum_a:
            am = am.sum(tuple(sum_a), keepdims=True, dtype=am.dtype)
        if sum_b:
            bm = bm.sum(tuple(sum_b), keepdims=True, dtype=bm.dtype)
        am = np.transpose(am, fa + da).reshape(math.prod(sa), csize)
        bm = np.transpose(bm, db + fb).reshape(csize, math.prod(sb))
        r = Tensor._make(np.asarray(_matmul(am, bm)).reshape(sa + sb))
        return r if out is None else _tensordot_out(out, r)
    for x in sum_a:
        a = a.sum(x, keepdim=True)
    for y in sum_b:
        b = b.sum(y, keepdim=True)
    pa = a.permute(fa + ga)   # (the contracted dims as given, as torch's permute saves them)
    pb = b.permute(gb + fb)
    if math.prod(sa) == 1 and math.prod(sb) == 1:   # one element: a dot product
        if pa.is_contiguous() and pb.is_contiguous():   # (flattened: 1-D as it is)
            r = dot(*[t if t.dim() == 1 else t.view(-1) for t in (pa, pb)])
        else:
            r = (pa.squeeze() * pb.squeeze()).sum()
    else:
        r = mm(pa.reshape(math.prod(sa), csize), pb.reshape(csize, math.prod(sb)))
    r = r.view(sa + sb)
    return r if out is None else _tensordot_out(out, r)


def _tensordot_out(out, r):
    _tensordot_out_check(out, r)
    return write_out(out, r, grad="copy")


def _tensordot_out_check(out, r):
    if out is not None and out.dtype is not r.dtype:
        raise RuntimeError(f"tensordot: Expected the output tensor to have dtype "
                           f"{r.dtype._legacy}, but got an output tensor with dtype "
                           f"{out.dtype._legacy}")


def kron(input, other, *, out=None):
    """Kronecker product: result dim i has size a.shape[i] * b.shape[i] (ranks padded with 1s)."""
    for name, t, pos in (("input", input, 1), ("other", other, 2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"kron(): argument '{name}' (position {pos}) must be Tensor, not "
                            f"{type(t).__name__}")
    from ember._ops.shape import UnsafeView
    nd = max(input._data.ndim, other._data.ndim)
    sa = (1,) * (nd - input._data.ndim) + input._data.shape
    sb = (1,) * (nd - other._data.ndim) + other._data.shape
    # torch's graph: each operand _unsafe_view'ed with its dims interleaved with size-1 dims,
    # one broadcasting mul, the product _unsafe_view'ed to the result's shape
    a = UnsafeView.apply(input, shape=tuple(s for d in sa for s in (d, 1)))
    b = UnsafeView.apply(other, shape=tuple(s for d in sb for s in (1, d)))
    r = UnsafeView.apply(a * b, shape=tuple(x * y for x, y in zip(sa, sb)))
    if out is not None:
        return write_out(out, r)
    return r


def cross(input, other, dim=None, *, out=None):
    """Cross product along `dim`; dim=None (deprecated) picks the first dim of size 3."""
    from ember._ops.linalg_decomp import _cross
    if dim is None:
        import warnings
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross.\n"
                      "The default value of dim will change to agree with that of linalg.cross "
                      "in a future release.", UserWarning, stacklevel=2)
        shape = np.broadcast_shapes(input._data.shape, other._data.shape)
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return _cross(input, other, dim, "linalg.cross", out)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M) -> (..., P, R);
    written beside torch.dist in statistics.py."""
    from ember._ops.statistics import cdist as _cdist
    return _cdist(x1, x2, p, compute_mode)


def inverse(input, *, out=None):
    from ember._ops.linalg_decomp import inv
    return inv(input, out=out)


def det(input):
    from ember._ops.linalg_decomp import det as _det
    return _det(input)


def logdet(input):
    """log(det(A)): NaN for a negative determinant, -inf for a singular matrix."""
    from ember._ops.linalg_decomp import _check_float, slogdet as _slogdet
    _check_float(input, "logdet")
    sign, logabs = _slogdet(input)
    if input.is_complex():
        return logabs + sign.log()
    from ember import where
    return where(sign < 0, float("nan"), logabs)   # torch: NaN (and a zero gradient) for det < 0


def slogdet(input, *, out=None):
    """torch.slogdet: linalg.slogdet's pair as torch.return_types.slogdet."""
    from ember import return_types
    from ember._ops.linalg_decomp import _out, slogdet as _slogdet
    return _out(return_types.slogdet(tuple(_slogdet(input))), out)


def pinverse(input, rcond=1e-15):
    from ember._ops.linalg_decomp import pinv
    return pinv(input, rtol=rcond)


for _n in ("mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addbmm",
           "baddbmm", "addmv", "addr", "kron", "cross", "inverse", "det", "logdet", "slogdet",
           "pinverse"):
    setattr(Tensor, _n, globals()[_n])


def _inplace_variant(fn):
    def method(self, *args, **kwargs):
        from ember._ops._helpers import inplace
        try:
            r = fn(self, *args, **kwargs)
        except RuntimeError as e:
            if "expand" in str(e) and fn.__name__ != "addmv":   # self is not the product's shape
                kind = {"addmm": "mm", "addbmm": "sbmm", "baddbmm": "bmm", "addr": "outer"}
                shape = _product_shape(args[0], args[1], kind[fn.__name__])
                _inplace_shape_error(fn.__name__, self, shape, *args, broadcasts=False)
            raise
        if r._data.shape != self._data.shape:
            if fn.__name__ == "addbmm":   # (torch's addbmm_ resizes self to the product)
                self._data = np.empty(r._data.shape, self._data.dtype)
            else:
                _inplace_shape_error(fn.__name__, self, r._data.shape, *args)
        return inplace(self, r)
    method.__name__ = fn.__name__ + "_"
    return method


def _inplace_shape_error(name, self, shape, a, b, *_, broadcasts=True):
    """torch's errors for addmm_ & co. whose product has another shape than self (those of
    baddbmm_/addbmm_ only where self broadcasts to it; else the expand error stands)."""
    ss, rs = list(self._data.shape), list(shape)
    if name == "addr":
        if self._data.ndim != 2:
            raise RuntimeError(f"2D tensor expected, got {self._data.ndim}D tensor for input")
        raise RuntimeError(f"size mismatch, input: {ss}, v1: {list(a._data.shape)}, v2: "
                           f"{list(b._data.shape)}")
    if broadcasts or name in ("addmm", "addmv"):
        raise RuntimeError(f"Bad in-place call: input tensor size {ss} and output tensor size "
                           f"{rs} should match")


for _n in ("addmm", "addbmm", "baddbmm", "addmv", "addr"):
    setattr(Tensor, _n + "_", _inplace_variant(globals()[_n]))
Tensor.tensordot = lambda self, other, dims=2: tensordot(self, other, dims)


# ---------------------------------------------------------------------------------------------
# torch.* forms of ember.linalg functions, the legacy decompositions among them

_warned = set()


def _deprecated(name, message, out=None):
    """torch warns once per process (TORCH_WARN_ONCE) for each legacy function (and, for most,
    once more for its out= variant, a kernel of its own)."""
    if out is not None:
        name += "_out"
    if name not in _warned:
        _warned.add(name)
        import warnings
        warnings.warn(message, UserWarning, stacklevel=3)


def matrix_power(input, n, *, out=None):
    from ember._ops.linalg_decomp import matrix_power as _mp
    return _mp(input, n, out=out)


def matrix_exp(input):
    """exp(A) of each square matrix (torch.linalg.matrix_exp)."""
    from ember._ops.linalg_decomp import matrix_exp as _me
    return _me(input)


def svd(input, some=True, compute_uv=True, *, out=None):
    """(U, S, V) with input = U diag(S) V^H: V itself, not V^H as linalg.svd returns. some=False
    gives square U and V; compute_uv=False gives zero-filled (m, m) U and (n, n) V."""
    from ember._ops import linalg_decomp as _ld
    from ember import return_types as _rt
    if input._data.ndim < 2:
        raise RuntimeError(f"linalg.svd: input should have at least 2 dimensions, but has "
                           f"{input._data.ndim} dimensions instead")
    if compute_uv:
        U, S, Vh = _ld.svd(input, full_matrices=not some)
        r = _rt.svd((U, S, Vh.mH))
    else:
        _ld._matrix(input, "linalg.svd")
        _ld._finite_check(input._data, "linalg.svd")
        S = _ld.svdvals(input)
        m, n = input._data.shape[-2:]
        batch = input._data.shape[:-2]
        dt = input._data.dtype
        r = _rt.svd((Tensor._make(np.zeros(batch + (m, m), dt)), S,
                     Tensor._make(np.zeros(batch + (n, n), dt))))
    if out is not None:   # (torch.svd copies into out=: a leaf that requires grad is refused)
        from ember._ops._helpers import check_inplace
        for o in out:
            check_inplace(o)
    return _ld._out(r, out)


def qr(input, some=True, *, out=None):
    """(Q, R) as linalg.qr with mode 'reduced' (some=True) or 'complete'."""
    _deprecated("qr", "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in "
                "a future PyTorch release.\nThe boolean parameter 'some' has been replaced with "
                "a string parameter 'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced with\n"
                "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')", out)
    from ember._ops import linalg_decomp as _ld
    from ember import return_types as _rt
    Q, R = _ld.qr(input, "reduced" if some else "complete")
    return _ld._out(_rt.qr((Q, R)), out)


def cholesky(input, upper=False, *, out=None):
    """Cholesky factor L (U = L^H with upper=True, then reading the upper triangle)."""
    _deprecated("cholesky", "torch.cholesky is deprecated in favor of torch.linalg.cholesky and "
                "will be removed in a future PyTorch release.\nL = torch.cholesky(A)\nshould be "
                "replaced with\nL = torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, "
                "upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\nThis "
                "transform will produce equivalent results for all valid (symmetric positive "
                "definite) inputs.", out)
    from ember._ops import linalg_decomp as _ld
    _ld._square(input, "cholesky")
    _ld._kernel_dtype(input, "cholesky_cpu")
    return _ld._out(_ld.Cholesky.apply(input, upper=upper, fname="cholesky"), out, "cholesky")


def cholesky_solve(input, input2, upper=False, *, out=None):
    from ember._ops.linalg_decomp import cholesky_solve as _cs
    return _cs(input, input2, upper, out=out)


def cholesky_inverse(input, upper=False, *, out=None):
    from ember._ops.linalg_decomp import cholesky_inverse as _ci
    return _ci(input, upper, out=out)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """(X, A') with op(A) X = b (op(A) = A^T when transpose) and A' a copy of A broadcast to the
    batch shape (which passes its gradient on to A whole)."""
    _deprecated("triangular_solve", "torch.triangular_solve is deprecated in favor of "
                "torch.linalg.solve_triangularand will be removed in a future PyTorch "
                "release.\ntorch.linalg.solve_triangular has its arguments reversed and does not "
                "return a copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\n"
                "should be replaced with\nX = torch.linalg.solve_triangular(A, B).")
    from ember._ops import linalg_decomp as _ld
    from ember import return_types as _rt
    for name, t in (("b", b), ("A", A)):
        if t._data.ndim < 2:
            raise RuntimeError(f"torch.triangular_solve: Expected {name} to have at least 2 "
                               f"dimensions, but it has {t._data.ndim} dimensions instead")
    if b._data.dtype != A._data.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{b.dtype._legacy} and A of type {A.dtype._legacy} instead.")
    _ld._square(A, "triangular_solve", prefix=False)
    n = A._data.shape[-1]
    if b._data.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is "
                           f"{n} by {n} but each b matrix is {b._data.shape[-2]} by "
                           f"{b._data.shape[-1]}")
    _ld._kernel_dtype(A, "triangular_solve_cpu")
    batch = np.broadcast_shapes(b._data.shape[:-2], A._data.shape[:-2])
    X = _ld.SolveTriangular.apply(A, b, upper=upper, unit=unitriangular, trans=transpose)
    return _ld._out(_rt.triangular_solve((X, A.expand(*batch, n, n).clone())), out)


def lu(A, pivot=True, get_infos=False, out=None):
    """(LU, pivots) of linalg.lu_factor_ex, plus info when get_infos; a plain tuple."""
    _deprecated("lu", "torch.lu is deprecated in favor of torch.linalg.lu_factor / "
                "torch.linalg.lu_factor_ex and will be removed in a future PyTorch release.\n"
                "LU, pivots = torch.lu(A, compute_pivots)\nshould be replaced with\nLU, pivots = "
                "torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, "
                "compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = "
                "torch.linalg.lu_factor_ex(A, compute_pivots)")
    from ember._ops import linalg_decomp as _ld
    r = tuple(_ld.lu_factor_ex(A, pivot=pivot))
    r = r if get_infos else r[:2]
    if out is None:
        return r
    for o, x in zip(out, r):   # (torch.lu resizes and copies: any dtype, no warning)
        o.resize_as_(x).copy_(x)
    return out


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """X with A X = b for A given by lu_factor (linalg.lu_solve with its arguments reversed)."""
    _deprecated("lu_solve", "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand "
                "will be removed in a future PyTorch release.\nNote that torch.linalg.lu_solve "
                "has its arguments reversed.\nX = torch.lu_solve(B, LU, pivots)\nshould be "
                "replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)", out)
    from ember._ops.linalg_decomp import lu_solve as _ls
    return _ls(LU_data, LU_pivots, b, out=out)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    from ember._ops.linalg_decomp import lu_unpack as _lu
    return _lu(LU_data, LU_pivots, unpack_data, unpack_pivots, out=out)


for _n in ("matrix_power", "matrix_exp", "svd", "qr", "cholesky", "cholesky_solve",
           "cholesky_inverse", "triangular_solve", "lu", "lu_solve"):
    setattr(Tensor, _n, globals()[_n])


# ---------------------------------------------------------------------------------------------
# torch.linalg functions composed from others: cond, tensorinv, tensorsolve, vander

def _ord_str(p):
    """A norm order as torch prints it in messages (3.0 -> 3, inf -> inf)."""
    if isinstance(p, float) and p.is_integer():
        return str(int(p))
    return str(p)


def _zeros_real(A):
    """cond of empty matrices: zeros over the batch, of A's real dtype (int stays int)."""
    dt = A._data.dtype
    real = np.zeros((), dt).real.dtype if dt.kind == "c" else dt
    return Tensor._make(np.zeros(A._data.shape[:-2], real))


def _svd_input(A):
    """linalg.svd's dtype errors (cond with ord None, +-2 or 'nuc' reads singular values)."""
    from ember._ops import linalg_decomp as _ld
    if A.dtype._legacy in ("Half", "BFloat16"):
        raise NotImplementedError(f"\"linalg_svd_cpu\" not implemented for '{A.dtype._legacy}'")
    _ld._check_float(A, "linalg.svd")


def cond(A, p=None, *, out=None):
    """Condition number ||A||_p ||A^{-1}||_p. p None, 2, -2: the ratio of extreme singular
    values (any m x n; NaN for a zero matrix). p 'fro', 'nuc', 1, -1, inf, -inf: square A only,
    inf for a singular A (LU finds a zero pivot) and where the product is NaN; for 'nuc' a
    singular A gives NaN (torch returns whatever LAPACK makes of an inf-filled inverse).
    Empty matrices give 0. Real dtype; differentiable (torch 2.13's backward of the inverse
    forms fails on an in-place check; ember's is that of the product)."""
    from ember._ops import linalg_decomp as _ld
    svd_orders = (None, 2, -2)
    valid = svd_orders + ("fro", "nuc", 1, -1, np.inf, -np.inf)
    named = isinstance(p, str)
    ok = named and p in ("fro", "nuc") or not named and p in valid
    where = f"linalg.cond(ord={_ord_str(p)})" if named else "linalg.cond"
    if A._data.ndim < 2:
        raise RuntimeError(f"{where}: The input tensor {'A ' if named else ''}must have at least "
                           f"2 dimensions.")
    if not ok:
        raise RuntimeError(f"linalg.cond got an invalid norm type: {_ord_str(p)}")
    if named:
        _ld._square(A, where, prefix=True)
    if A._data.size == 0:
        return _ld._out(_zeros_real(A), out, "linalg.cond", grad="copy")
    if p in svd_orders and not named:
        _svd_input(A)
        s = _ld.svdvals(A)
        with np.errstate(all="ignore"):   # 0 / 0 for a zero matrix: NaN, as torch
            r = s[..., :1] / s[..., -1:] if p != -2 else s[..., -1:] / s[..., :1]
        return _ld._out(r.squeeze(-1), out, "linalg.cond", grad="copy")
    if not named:
        _ld._square(A, f"linalg.cond(ord={_ord_str(p)})")
    if p == "nuc":
        _svd_input(A)
    elif A.dtype._legacy in ("Half", "BFloat16"):
        raise RuntimeError(f"linalg.inv: Low precision dtypes not supported. Got "
                           f"{A.dtype._legacy}")
    else:
        _ld._check_float(A, "linalg.inv")
    with np.errstate(all="ignore"):   # inf and NaN are expected results here
        return _ld._out(_cond_by_inverse(A, p), out, "linalg.cond", grad="copy")


def _cond_by_inverse(A, p):
    """||A||_p ||A^{-1}||_p for square A, inf where A is singular (NaN for 'nuc')."""
    from ember._ops import linalg_decomp as _ld
    from ember import where, nan_to_num
    # LAPACK's getrf flags a singular matrix by an exactly zero pivot, as torch's inv_ex does;
    # those get an identity in its place (no error, no NaN in the graph) and are masked after
    info = _ld.lu_factor_ex(A.detach()).info._data
    singular = Tensor._make((info > 0)[..., None, None])
    if singular._data.any():
        eye = Tensor._make(np.eye(A._data.shape[-1], dtype=A._data.dtype))
        inverse = _ld.inv(A.masked_fill(singular, 0) + eye * singular)
    else:
        inverse = _ld.inv(A)
    if p == "nuc":
        norm_inv = _ld.matrix_norm(inverse, p)
        nan = Tensor._make(np.asarray(np.nan, norm_inv._data.dtype))
        return _ld.matrix_norm(A, p) * where(singular.squeeze((-2, -1)), nan, norm_inv)
    inverse = inverse.masked_fill(singular, float("inf"))
    r = _ld.matrix_norm(A, p) * _ld.matrix_norm(inverse, p)
    return nan_to_num(r, nan=float("inf"), posinf=float("inf"))


def _int_arg(value, fn, name, pos=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        where = f" (position {pos})" if pos is not None else ""
        raise TypeError(f"{fn}(): argument '{name}'{where} must be int, not "
                        f"{type(value).__name__}")
    return int(value)


def tensorinv(A, ind=2, *, out=None):
    """X with tensordot(A, X, ind) = identity: A viewed as a (prod(shape[:ind]),
    prod(shape[ind:])) square matrix and inverted; X has shape shape[ind:] + shape[:ind]."""
    from ember._ops import linalg_decomp as _ld
    ind = _int_arg(ind, "linalg_tensorinv", "ind", 2)
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = A._data.shape
    rows, cols = int(np.prod(shape[:ind])), int(np.prod(shape[ind:]))
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    try:
        r = _ld.inv(A.reshape(rows, cols))
    except _ld.LinAlgError as exc:   # torch names the op `inv` here
        raise _ld.LinAlgError(str(exc).replace("linalg.inv:", "inv:", 1)) from None
    return _ld._out(r.reshape(shape[ind:] + shape[:ind]), out, "tensorinv", grad="copy")


def tensorsolve(A, B, dims=None, *, out=None):
    """X with tensordot(A, X, X.ndim) = B; X has shape A.shape[B.ndim:], whose product must
    equal B's number of elements. `dims` (a tuple) moves those dims of A to the end first."""
    from ember._ops import linalg_decomp as _ld
    if dims is not None:
        if not isinstance(dims, (tuple, list)):
            raise TypeError(f"linalg_tensorsolve(): argument 'dims' must be tuple of ints, not "
                            f"{type(dims).__name__}")
        nd = A._data.ndim
        A = A.movedim(tuple(dims), tuple(range(nd - len(dims), nd)))
    shape = A._data.shape
    rest = shape[B._data.ndim:]
    n = int(np.prod(rest))
    if n != B._data.size:
        raise RuntimeError(f"Expected self to satisfy the requirement "
                           f"prod(self.shape[other.ndim:]) == prod(self.shape[:other.ndim]), "
                           f"but got {n} != {B._data.size}")
    X = _ld.solve(A.reshape(n, n), B.reshape(n))
    return _ld._out(X.reshape(rest), out, "tensorsolve", grad="copy")


def linalg_vander(x, *, N=None):
    """Vandermonde matrix with increasing powers x^0 ... x^(N-1) along a new last dim (batched;
    a 0-d x counts as one element). N defaults to x.shape[-1] and must exceed 1; integer
    inputs give int64. Differs from torch.vander: increasing powers, batches, N >= 2."""
    legacy = x.dtype._legacy
    if x._data.dtype.kind not in "iufc" or legacy in ("Half", "BFloat16"):
        raise RuntimeError(f"linalg.vander supports floating point, complex, and integer "
                           f"tensors, but got {legacy}")
    if x._data.ndim == 0:
        x = x.reshape(1)
    n = x._data.shape[-1] if N is None else _int_arg(N, "linalg_vander", "N")
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    if x._data.dtype.kind in "iu" and x._data.dtype != np.int64:
        from ember._ops._helpers import to_dtype
        from ember import int64
        x = to_dtype(x, int64)
    powers = x.unsqueeze(-1).expand(*x._data.shape, n - 1).cumprod(-1)
    ones = Tensor._make(np.ones(x._data.shape + (1,), x._data.dtype))
    from ember._ops.manipulation import cat
    return cat([ones, powers], -1)


# ---------------------------------------------------------------------------------------------
# legacy norms, and functions removed since 1.9 that torch keeps to raise a pointer

def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """Deprecated: linalg.matrix_norm(input, 'nuc', dim, keepdim); nuclear_norm(input,
    keepdim) and nuclear_norm(input, dim, keepdim) as torch's overloads (an int dim means
    (dim, dim))."""
    _deprecated("nuclear_norm", "at::nuclear_norm is deprecated and it is just left for JIT "
                "compatibility. It will be removed in a future PyTorch release. Please use "
                "`linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead", out)
    from ember._ops.linalg_decomp import matrix_norm, _out, _MATRIX_NORM_OUT
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    if dim is None:
        dim = (-2, -1)
    elif isinstance(dim, (int, np.integer)):
        dim = (int(dim), int(dim))
    return _out(matrix_norm(input, "nuc", tuple(dim), keepdim), out, **_MATRIX_NORM_OUT)


def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """Deprecated: linalg.vector_norm(input, 2, dim, keepdim) over at most two dims (all
    dims for an empty dim)."""
    _deprecated("frobenius_norm", "at::frobenius_norm is deprecated and it is just left for "
                "JIT compatibility. It will be removed in a future PyTorch release. Please use "
                "`linalg.vector_norm(A, 2., dim, keepdim)` instead", out)
    from ember._ops.linalg_decomp import vector_norm, _out
    dim = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if len(dim) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dim)} dimensions "
                           f"instead.")
    nd = input._data.ndim
    wrapped = [_wrap_dim(d, max(nd, 1)) for d in dim]
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"dim {wrapped[0]} appears multiple times in the list of dims")
    if input._data.dtype.kind not in "fc" and input.dtype._legacy not in ("Half", "BFloat16"):
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. "
                           f"Got {input.dtype._legacy} instead.")
    return _out(vector_norm(input, 2, dim or None, keepdim), out)


_REMOVED = "This function was deprecated since version 1.9 and is now removed."

_MATRIX_RANK_REMOVED = (
    _REMOVED + "\nPlease use the `torch.linalg.matrix_rank` function instead. The parameter "
    "'symmetric' was renamed in `torch.linalg.matrix_rank()` to 'hermitian'.")
_SYMEIG_REMOVED = (
    _REMOVED + " The default behavior has changed from using the upper triangular portion of "
    "the matrix by default to using the lower triangular portion.\n\nL, _ = torch.symeig(A, "
    "upper=upper) should be replaced with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if upper "
    "else 'L')\n\nand\n\nL, V = torch.symeig(A, eigenvectors=True) should be replaced with:\n"
    "L, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')")
_EIG_REMOVED = (
    _REMOVED + " `torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` "
    "rather than real tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be "
    "replaced with:\nL_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, "
    "eigenvectors=True) should be replaced with:\nL_complex, V_complex = torch.linalg.eig(A)")
_LSTSQ_REMOVED = (
    _REMOVED + " `torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n"
    "`torch.linalg.lstsq` has reversed arguments and does not return the QR decomposition in "
    "the returned tuple (although it returns other information about the problem).\n\nTo get "
    "the QR decomposition consider using `torch.linalg.qr`.\n\nThe returned solution in "
    "`torch.lstsq` stored the residuals of the solution in the last m - n columns of the "
    "returned value whenever m > n. In torch.linalg.lstsq, the residuals are in the field "
    "'residuals' of the returned named tuple.\n\nThe unpacking of the solution, as in\n"
    "X, _ = torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\n"
    "X = torch.linalg.lstsq(A, B).solution")
_SOLVE_REMOVED = (
    _REMOVED + " `torch.solve` is deprecated in favor of `torch.linalg.solve`. "
    "`torch.linalg.solve` has its arguments reversed and does not return the LU "
    "factorization.\n\nTo get the LU factorization see `torch.lu`, which can be used with "
    "`torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, A).solution should be replaced "
    "with:\nX = torch.linalg.solve(A, B)")


def matrix_rank(input, tol=None, symmetric=False, *, out=None):
    """Removed in torch 1.9 (use linalg.matrix_rank): raises RuntimeError."""
    raise RuntimeError(_MATRIX_RANK_REMOVED)


def symeig(input, eigenvectors=False, upper=True, *, out=None):
    """Removed in torch 1.9 (use linalg.eigh / eigvalsh): raises RuntimeError."""
    raise RuntimeError(_SYMEIG_REMOVED)


def eig(self, eigenvectors=False, *, e=None, v=None):
    """Removed in torch 1.9 (use linalg.eig / eigvals): raises RuntimeError."""
    raise RuntimeError(_EIG_REMOVED)


def lstsq(input, A, *, out=None):
    """Removed in torch 1.9 (use linalg.lstsq, arguments reversed): raises RuntimeError."""
    raise RuntimeError(_LSTSQ_REMOVED)


def solve(input, A, *, out=None):
    """Removed in torch 1.9 (use linalg.solve, arguments reversed): raises RuntimeError."""
    raise RuntimeError(_SOLVE_REMOVED)


__all__ += ["nuclear_norm", "frobenius_norm", "matrix_rank", "symeig", "eig", "lstsq", "solve"]
Tensor.symeig = lambda self, eigenvectors=False: symeig(self, eigenvectors)
Tensor.eig = lambda self, eigenvectors=False: eig(self, eigenvectors)
Tensor.lstsq = lambda self, other: lstsq(self, other)
Tensor.solve = lambda self, other: solve(self, other)
