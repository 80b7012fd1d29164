"""LAPACK's compact factorizations: geqrf (Householder QR), the products of its reflectors
(householder_product / orgqr, ormqr) and the LDL^T factorization of symmetric or Hermitian
matrices (ldl_factor, ldl_factor_ex, ldl_solve).

Forwards are one LAPACK call per matrix (SciPy, imported on first use). A product of
Householder reflectors H_i = I - tau_i v_i v_i^H has its gradient from `_reflector_vjp`, a
reverse sweep over the reflectors in Tensor ops (so double backward works). geqrf and the LDL
functions have no derivative in torch: their nodes raise torch's error on backward.
"""
import numpy as np

from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction
from ember._ops.manipulation import cat as _cat
from ember import return_types as _rt

__all__ = ["geqrf", "orgqr", "ormqr", "householder_product", "ldl_factor", "ldl_factor_ex",
           "ldl_solve"]

linalg_ldl_factor = _rt._make("linalg_ldl_factor", ("LD", "pivots"))
linalg_ldl_factor_ex = _rt._make("linalg_ldl_factor_ex", ("LD", "pivots", "info"))


def _lapack(real_name, complex_name, a):
    """The LAPACK routine for a's dtype (the orthogonal-group names differ for complex)."""
    from ember._backend import scipy_linalg
    name = complex_name if a.dtype.kind == "c" else real_name
    return scipy_linalg().get_lapack_funcs(name, (a,))


def _out(r, out, *args, **kw):
    from ember._ops.linalg_decomp import _out as out_
    return out_(r, out, *args, **kw)


def _kernel_dtype(A, kernel):
    from ember._ops.linalg_decomp import _kernel_dtype as check
    check(A, kernel)


def _dim_last(t):
    """torch's IndexError for size(-1) of a 0-d tensor."""
    if t._data.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    return t._data.shape[-1]


# ---------------------------------------------------------------------------------------------
# geqrf

class Geqrf(ArrayFunction):
    """(a, tau) of LAPACK geqrf: R on and above the diagonal of `a`, the Householder vectors
    below it (their unit leading entries implied), tau their scales. No derivative (torch)."""

    def forward(ctx, a):
        k = min(a.shape[-2:])
        qr = np.empty(a.shape, a.dtype)
        tau = np.zeros(a.shape[:-2] + (k,), a.dtype)
        if a.size:
            f = _lapack("geqrf", "geqrf", a)
            for idx in np.ndindex(*a.shape[:-2]):
                qr[idx], tau[idx] = f(a[idx])[:2]
        return qr, tau

    def backward(ctx, ga, gtau):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


def geqrf(input, *, out=None):
    """QR of each matrix in LAPACK's compact form: (a, tau); Q = H_1 ... H_k with
    H_i = I - tau_i v_i v_i^H and v_i the i-th column of `a` below the diagonal, 1 on it."""
    if input._data.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    _kernel_dtype(input, "geqrf_cpu")
    return _out(_rt.geqrf(Geqrf.apply(input)), out, "torch.geqrf", ("a", "tau"))


# ---------------------------------------------------------------------------------------------
# products of Householder reflectors: householder_product (orgqr), ormqr

def _reflectors(a, k):
    """V whose column i is the Householder vector v_i stored in column i of `a`: zeros above
    the diagonal, 1 on it, a's entries below."""
    m = a.shape[-2]
    return a[..., :, :k].tril(-1) + Tensor._make(np.eye(m, k, dtype=a._data.dtype))


def _reflector_vjp(V, tau, X, G):
    """Gradients of Y = H_0 H_1 ... H_{k-1} X (H_i = I - tau_i v_i v_i^H, v_i = V[..., i])
    given G = dL/dY: (gV, gtau, gX). With X_i the input of H_i (X_k = X) and G_i the gradient
    of its output, M_i = v_i v_i^H X_i gives gtau_i = -v_i^H G_i X_i^H v_i,
    gv_i = -conj(tau_i) G_i X_i^H v_i - tau_i X_i G_i^H v_i and G_{i+1} = H_i^H G_i."""
    k = tau.shape[-1]
    if k == 0:
        return V * 0, tau * 0, G
    cols = [V[..., :, i:i + 1] for i in range(k)]
    taus = [tau[..., i:i + 1].unsqueeze(-1) for i in range(k)]
    inputs = [None] * k
    x = X
    for i in reversed(range(k)):   # the input each reflector saw, from the right
        inputs[i] = x
        if i:
            x = x - taus[i] * (cols[i] @ (cols[i].mH @ x))
    gv, gt, g = [], [], G
    for i in range(k):
        v, t, xi = cols[i], taus[i], inputs[i]
        gw = g @ (xi.mH @ v)
        gt.append(-(v.mH @ gw))
        gv.append(-(t.conj() * gw) - t * (xi @ (g.mH @ v)))
        g = g - t.conj() * (v @ (v.mH @ g))
    return _cat(gv, -1), _cat(gt, -1).squeeze(-2), g


def _pad_columns(gV, n):
    """The gradient of `a` from that of V: its strictly lower part, zero columns past k."""
    g = gV.tril(-1)
    k = g.shape[-1]
    if n == k:
        return g
    zeros = Tensor._make(np.zeros(g.shape[:-1] + (n - k,), g._data.dtype))
    return _cat([g, zeros], -1)


class HouseholderProduct(ArrayFunction):
    """The first n columns of H_1 ... H_k (LAPACK orgqr / ungqr). The gradient reaches only the
    strictly lower part of the first k columns of A (the rest is never read) and tau."""

    def forward(ctx, a, tau):
        m, n = a.shape[-2:]
        k = tau.shape[-1]
        ctx.save_for_backward(a, tau)
        q = np.empty(a.shape, a.dtype)
        if k == 0 or a.size == 0:
            q[...] = np.eye(m, n, dtype=a.dtype)
            return q
        f = _lapack("orgqr", "ungqr", a)
        for idx in np.ndindex(*a.shape[:-2]):
            q[idx] = f(a[idx], tau[idx])[0]
        return q

    def backward(ctx, g):
        a, tau = ctx.saved_tensors
        m, n = a.shape[-2:]
        k = tau.shape[-1]
        eye = Tensor._make(np.eye(m, n, dtype=a._data.dtype))
        gV, gtau, _ = _reflector_vjp(_reflectors(a, k), tau, eye, g)
        return _pad_columns(gV, n), gtau

    def name(self):
        return "LinalgHouseholderProductBackward0"


def _check_tau(input, tau, fname):
    if tau._data.ndim != input._data.ndim - 1:
        raise RuntimeError(f"{fname}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {tau._data.ndim} and input.ndim is equal to "
                           f"{input._data.ndim}")
    if tau._data.shape[:-1] != input._data.shape[:-2]:
        raise RuntimeError(f"{fname}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(tau._data.shape[:-1])}")


def householder_product(A, tau, *, out=None):
    """The first n columns of the product of the k Householder reflectors stored in A (m, n),
    m >= n >= k, as geqrf leaves them; Q of a QR when (A, tau) come from geqrf."""
    fname = "torch.linalg.householder_product"
    if A._data.ndim < 2:
        raise RuntimeError(f"{fname}: input must have at least 2 dimensions.")
    m, n = A._data.shape[-2:]
    if m < n:
        raise RuntimeError(f"{fname}: input.shape[-2] must be greater than or equal to "
                           f"input.shape[-1]")
    if n < _dim_last(tau):
        raise RuntimeError(f"{fname}: input.shape[-1] must be greater than or equal to "
                           f"tau.shape[-1]")
    _check_tau(A, tau, fname)
    if tau._data.dtype != A._data.dtype:
        raise RuntimeError(f"{fname}: tau dtype {tau.dtype._legacy} does not match input dtype "
                           f"{A.dtype._legacy}")
    _kernel_dtype(A, "orgqr_cpu")
    return _out(HouseholderProduct.apply(A, tau), out, "torch.linalg.householder_product")


def orgqr(input, tau, *, out=None):
    """Alias of linalg.householder_product."""
    return householder_product(input, tau, out=out)


class Ormqr(ArrayFunction):
    """op(Q) C (left) or C op(Q), Q = H_1 ... H_k from (a, tau) and op(Q) = Q^H when
    transpose (LAPACK ormqr / unmqr). grads from `_reflector_vjp`: C Q is (Q^H C^H)^H and
    Q^H = H_k^H ... H_1^H is a product of the same reflectors reversed, with conj(tau)."""

    def forward(ctx, a, tau, c, *, left, transpose):
        ctx.left, ctx.transpose = left, transpose
        ctx.save_for_backward(a, tau, c)
        k = tau.shape[-1]
        if k == 0 or c.size == 0:
            return c.copy()
        f = _lapack("ormqr", "unmqr", a)
        side = "L" if left else "R"
        trans = ("C" if a.dtype.kind == "c" else "T") if transpose else "N"
        lwork = max(1, c.shape[-1] if left else c.shape[-2]) * 64
        r = np.empty(c.shape, c.dtype)
        for idx in np.ndindex(*a.shape[:-2]):
            r[idx] = f(side, trans, a[idx][:, :k], tau[idx], c[idx], lwork)[0]
        return r

    def backward(ctx, g):
        a, tau, c = ctx.saved_tensors
        k = tau.shape[-1]
        V = _reflectors(a, k)
        x, gy = (c, g) if ctx.left else (c.mH, g.mH)
        if ctx.transpose == ctx.left:    # Q^H from the left: reversed reflectors, conj(tau)
            gV, gtau, gx = _reflector_vjp(V.flip(-1), tau.flip(-1).conj(), x, gy)
            gV, gtau = gV.flip(-1), gtau.flip(-1).conj()
        else:
            gV, gtau, gx = _reflector_vjp(V, tau, x, gy)
        return _pad_columns(gV, a.shape[-1]), gtau, gx if ctx.left else gx.mH


def ormqr(input, tau, other, left=True, transpose=False, *, out=None):
    """Q C (C = other) for Q = H_1 ... H_k given by geqrf's (input, tau); Q^H with transpose,
    and C Q with left=False. Q is m x m (n x n on the right) for C of shape (m, n)."""
    fname = "torch.ormqr"
    if input._data.ndim < 2:
        raise RuntimeError(f"{fname}: input must have at least 2 dimensions.")
    if other._data.ndim < 2:
        raise RuntimeError(f"{fname}: other must have at least 2 dimensions.")
    k = _dim_last(tau)
    side = -2 if left else -1
    nq = other._data.shape[side]
    if nq != input._data.shape[-2]:
        raise RuntimeError(f"{fname}: other.shape[{side}] must be equal to input.shape[-2]")
    if k != min(nq, input._data.shape[-1]):
        raise RuntimeError(f"{fname}: tau.shape[-1] must be equal to min(other.shape[{side}], "
                           f"input.shape[-1])")
    _check_tau(input, tau, fname)
    if other._data.ndim != input._data.ndim:
        raise RuntimeError(f"{fname}: Expected other to have the same number of dimensions as "
                           f"input, but got other.ndim equal to {other._data.ndim} and "
                           f"input.ndim is equal to {input._data.ndim}")
    if other._data.shape[:-2] != input._data.shape[:-2]:
        raise RuntimeError(f"{fname}: Expected batch dimensions of other to be equal to "
                           f"input.shape[:-2], but got {list(other._data.shape[:-2])}")
    for name, t in (("tau", tau), ("other", other)):
        if t._data.dtype != input._data.dtype:
            raise RuntimeError(f"{fname}: Expected input and {name} to have the same dtype, but "
                               f"input has dtype{input.dtype._legacy} and {name} has dtype "
                               f"{t.dtype._legacy}")
    _kernel_dtype(input, "ormqr_cpu")
    return _out(Ormqr.apply(input, tau, other, left=bool(left), transpose=bool(transpose)), out,
                msg="torch.ormqr: Expected input and result to have the same dtype, but input "
                "has dtype{want} and result has dtype {got}")


# ---------------------------------------------------------------------------------------------
# LDL^T: ldl_factor, ldl_factor_ex, ldl_solve

class LDLFactor(ArrayFunction):
    """Bunch-Kaufman A = L D L^T (L D L^H when hermitian) from A's lower triangle (LAPACK
    sytrf / hetrf): L below the diagonal of LD, D's 1x1 and 2x2 blocks on and next to it (the
    upper triangle zeroed), LAPACK's 1-based pivots (a negative pair marks a 2x2 block) and
    info (k > 0: D[k, k] is exactly zero). torch defines no derivative."""

    def forward(ctx, a, *, hermitian):
        n = a.shape[-1]
        ld = np.zeros(a.shape, a.dtype)
        piv = np.empty(a.shape[:-1], np.int32)
        info = np.zeros(a.shape[:-2], np.int32)
        if a.size:
            f = _lapack("sytrf", "hetrf" if hermitian else "sytrf", a)
            for idx in np.ndindex(*a.shape[:-2]):
                lu, p, info[idx] = f(a[idx], lower=1)
                ld[idx], piv[idx] = np.tril(lu), p
        else:
            piv[...] = np.arange(1, n + 1, dtype=np.int32)
        return ld, piv, info

    def backward(ctx, *grads):
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")

    def name(self):
        return "torch::autograd::NotImplemented"


def _ldl_input(A, fname):
    """Square float or complex matrices; half types pass, to fail later in the kernel check
    (ldl_solve checks B before that)."""
    from ember._ops.linalg_decomp import _square, _check_float
    _square(A, fname)
    if A.dtype._legacy not in ("Half", "BFloat16"):
        _check_float(A, fname)


def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """(LD, pivots, info) of LDL^T (LDL^H when hermitian) for symmetric or Hermitian,
    possibly indefinite A; only the lower triangle is read. A zero pivot is reported in info,
    raising only with check_errors."""
    fname = "torch.linalg.ldl_factor_ex"
    _ldl_input(A, fname)
    _kernel_dtype(A, "ldl_factor_kernel_cpu")
    r = linalg_ldl_factor_ex(LDLFactor.apply(A, hermitian=bool(hermitian)))
    if check_errors:
        _raise_info(r.info, fname)
    return _out(r, out, grad="aten::linalg_ldl_factor_ex")


def _raise_info(info, fname):
    flat = info._data.reshape(-1)
    bad = np.nonzero(flat > 0)[0]
    if bad.size:
        i = int(bad[0])
        k = int(flat[i])
        prefix = f"(Batch element {i}): " if info._data.ndim else ""
        raise RuntimeError(f"{fname}: {prefix}The factorization could not be completed because "
                           f"D[{k},{k}] is exactly zero: the matrix is singular.")


def ldl_factor(A, *, hermitian=False, out=None):
    """(LD, pivots) of ldl_factor_ex, raising RuntimeError for a singular A."""
    LD, piv, info = ldl_factor_ex(A, hermitian=hermitian)
    _raise_info(info, "torch.linalg.ldl_factor")
    return _out(linalg_ldl_factor((LD, piv)), out, grad="aten::linalg_ldl_factor_ex")


class LDLSolve(ArrayFunction):
    """X with A X = B for A given by ldl_factor (LAPACK sytrs / hetrs); batch dims broadcast.
    torch defines no derivative."""

    def forward(ctx, ld, piv, b, *, hermitian):
        batch = np.broadcast_shapes(ld.shape[:-2], b.shape[:-2])
        x = np.empty(batch + b.shape[-2:], b.dtype)
        if x.size == 0:
            return x
        f = _lapack("sytrs", "hetrs" if hermitian else "sytrs", ld)
        ld = np.broadcast_to(ld, batch + ld.shape[-2:])
        piv = np.broadcast_to(piv, batch + piv.shape[-1:])
        b = np.broadcast_to(b, batch + b.shape[-2:])
        for idx in np.ndindex(*batch):
            x[idx] = f(ld[idx], piv[idx], b[idx], lower=1)[0]
        return x

    def backward(ctx, g):
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")

    def name(self):
        return "torch::autograd::NotImplemented"


def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """X with A X = B from ldl_factor's (LD, pivots); pass the same `hermitian` as there."""
    fname = "torch.linalg.ldl_solve"
    _ldl_input(LD, fname)
    if B._data.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(B._data.ndim, 1)}, {max(B._data.ndim, 1) - 1}], but got -2)")
    n = LD._data.shape[-1]
    if B._data.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for {fname}: each A matrix is {n} by {n} "
                           f"but each b matrix is {B._data.shape[-2]} by {B._data.shape[-1]}")
    if B._data.dtype != LD._data.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{B.dtype._legacy} and A of type {LD.dtype._legacy} instead.")
    if pivots._data.shape != LD._data.shape[:-1]:
        raise RuntimeError(f"{fname}: Expected LD.shape[:-1] and pivots.shape to be the same, "
                           f"but got pivots with shape {list(pivots._data.shape)} instead")
    if pivots._data.dtype.kind not in "iu":
        raise RuntimeError(f"{fname}: Expected pivots to be integers. Got {pivots.dtype._legacy}")
    _kernel_dtype(LD, "ldl_solve_kernel_cpu")
    p = pivots._data
    if p.size and (np.any(p == 0) or np.abs(p).max() > n):   # LAPACK would read out of bounds
        raise RuntimeError(f"{fname}: pivots must be nonzero and at most {n} in absolute value, "
                           f"as ldl_factor returns them")
    try:
        np.broadcast_shapes(LD._data.shape[:-2], B._data.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{fname}: the batch dimensions of LD {list(LD._data.shape[:-2])} "
                           f"and B {list(B._data.shape[:-2])} do not broadcast") from None
    piv = Tensor._make(pivots._data.astype(np.int32, copy=False))
    return _out(LDLSolve.apply(LD, piv, B, hermitian=bool(hermitian)), out,
                grad="aten::linalg_ldl_solve")


Tensor.geqrf = geqrf
Tensor.orgqr = orgqr
Tensor.ormqr = ormqr
