"""torch.linalg: decompositions, solvers, inverses, determinants and norms (batched over leading
dims like torch), with the gradients torch defines.

Each decomposition is one ArrayFunction whose forward is one NumPy LAPACK call and whose
backward is written in Tensor ops (so double backward works). Gradients of svd/eigh assume
distinct singular values/eigenvalues, as torch's do.
"""
import numpy as np

from ember._tensor import Tensor, _wrap_dim
from ember.autograd.function import ArrayFunction
from ember._ops.manipulation import cat as _cat
from ember import return_types as _rt

__all__ = ["LinAlgError", "inv", "det", "slogdet", "solve", "cholesky", "qr", "eigh", "eigvalsh",
           "eig", "eigvals", "svd", "svdvals", "pinv", "matrix_rank", "matrix_power", "lstsq",
           "multi_dot", "vecdot", "vector_norm", "matrix_norm", "norm", "cross", "inv_ex",
           "cholesky_ex", "solve_ex", "diagonal", "matmul"]


class LinAlgError(RuntimeError):
    """Raised for singular or non-positive-definite inputs (torch.linalg.LinAlgError)."""


# torch prints these return types as torch.return_types.linalg_*
linalg_slogdet = _rt._make("linalg_slogdet", ("sign", "logabsdet"))
linalg_qr = _rt._make("linalg_qr", ("Q", "R"))
linalg_svd = _rt._make("linalg_svd", ("U", "S", "Vh"))
linalg_eig = _rt._make("linalg_eig", ("eigenvalues", "eigenvectors"))
linalg_eigh = _rt._make("linalg_eigh", ("eigenvalues", "eigenvectors"))
linalg_lstsq = _rt._make("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
linalg_inv_ex = _rt._make("linalg_inv_ex", ("inverse", "info"))
linalg_cholesky_ex = _rt._make("linalg_cholesky_ex", ("L", "info"))
linalg_solve_ex = _rt._make("linalg_solve_ex", ("result", "info"))


# ---------------------------------------------------------------------------------------------
# argument checks shared by the ops

def _check_float(A, fname, arg="input"):
    if A._data.dtype.kind not in "fc" or A._data.dtype.itemsize < 4:
        if A._data.dtype.kind in "fc":   # half precision: LAPACK has none
            raise RuntimeError(f"\"{fname}_cpu\" not implemented for '{A.dtype._legacy}'")
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as {arg}. "
                           f"Got {A.dtype._legacy}")


def _check_square(A, fname, name="A"):
    _check_float(A, fname)
    if A._data.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor {name} must have at least 2 dimensions.")
    m, n = A._data.shape[-2:]
    if m != n:
        raise RuntimeError(f"{fname}: {name} must be batches of square matrices, but they are "
                           f"{m} by {n} matrices")


def _matrix(A, fname, name="A"):
    _check_float(A, fname)
    if A._data.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor {name} must have at least 2 dimensions.")


def _batch_prefix(a, idx):
    return f"(Batch element {idx}): " if a.ndim > 2 else ""


def _singular_error(a, fname):
    """torch's message naming the first zero pivot of LU (1-based) and the batch element."""
    sla = _scipy_linalg()
    flat = a.reshape((-1,) + a.shape[-2:])
    for idx, m in enumerate(flat):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                lu, _ = sla.lu_factor(m, check_finite=False)
            except ValueError:
                continue
        zero = np.nonzero(np.diagonal(lu) == 0)[0]
        if zero.size:
            return LinAlgError(f"{fname}: {_batch_prefix(a, idx)}The diagonal element "
                               f"{zero[0] + 1} is zero, the inversion could not be completed "
                               f"because the input matrix is singular.")
    return LinAlgError(f"{fname}: The input matrix is singular.")


def _scipy_linalg():
    from ember._backend import scipy_linalg
    return scipy_linalg()


def _finite_check(a, fname):
    if not np.all(np.isfinite(a)):
        raise LinAlgError(f"{fname}: The algorithm failed to converge because the input matrix "
                          f"contained non-finite values.")


# ---------------------------------------------------------------------------------------------
# inverse, determinant, solve

class Inv(ArrayFunction):
    """A^{-1}; grad -A^{-H} g A^{-H}."""

    def forward(ctx, a):
        try:
            r = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise _singular_error(a, "linalg.inv") from None
        ctx.save_for_backward(r)
        return r

    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        rh = r.mH
        return -(rh @ g @ rh)

    def name(self):
        return "LinalgInvExBackward0"


def inv(A, *, out=None):
    """Inverse of each square matrix; singular input raises LinAlgError with the zero pivot."""
    _check_square(A, "linalg.inv")
    return _out(Inv.apply(A), out)


def inv_ex(A, *, check_errors=False, out=None):
    _check_square(A, "linalg.inv")
    try:
        r = Inv.apply(A)
        info = np.zeros(A._data.shape[:-2], np.int32)
    except LinAlgError:
        if check_errors:
            raise
        r = Tensor._make(np.full(A._data.shape, np.nan, A._data.dtype))
        info = np.ones(A._data.shape[:-2], np.int32)
    return linalg_inv_ex((r, Tensor._make(info)))


def _out(r, out):
    if out is None:
        return r
    from ember._ops._helpers import write_out
    if isinstance(r, tuple):
        return type(r)(write_out(o, x) for o, x in zip(out, r))
    return write_out(out, r)


class Det(ArrayFunction):
    """det(A); grad g * adj(A)^H = g * conj(det) * A^{-H} (an SVD adjugate when A is singular)."""

    def forward(ctx, a):
        d = np.asarray(np.linalg.det(a))
        ctx.save_for_backward(a, d)
        return d

    def backward(ctx, g):
        a, d = ctx.saved_tensors
        gd = (g * d.conj()).unsqueeze(-1).unsqueeze(-1)
        if np.all(d._data != 0):
            return gd * inv(a).mH
        # singular: adj(A) = det(U) det(Vh) V diag(prod_{j != i} S_j) U^H
        U, S, Vh = svd(a)
        n = S.shape[-1]
        if n == 0:
            return g.unsqueeze(-1).unsqueeze(-1) * a
        eye = Tensor._make(np.eye(n, dtype=S._data.dtype).astype(bool))
        prods = S.unsqueeze(-2).expand(*S.shape[:-1], n, n).masked_fill(eye, 1).prod(-1)
        phase = det(U) * det(Vh)
        adj = phase.unsqueeze(-1).unsqueeze(-1) * (Vh.mH * prods.unsqueeze(-2)) @ U.mH
        return g.unsqueeze(-1).unsqueeze(-1) * adj.mH

    def name(self):
        return "LinalgDetBackward0"


def det(A, *, out=None):
    """Determinant of each square matrix."""
    _check_square(A, "linalg.det")
    return _out(Det.apply(A), out)


class Slogdet(ArrayFunction):
    """(sign, log|det|); grad (g_logabs + i Im(conj(sign) g_sign)) * A^{-H}; real sign has none."""

    def forward(ctx, a):
        sign, logabs = np.linalg.slogdet(a)
        sign, logabs = np.asarray(sign), np.asarray(logabs)
        ctx.save_for_backward(a, sign)
        return sign, logabs   # torch lets a real sign require grad too (its gradient is 0)

    def backward(ctx, g_sign, g_logabs):
        a, sign = ctx.saved_tensors
        c = g_logabs
        if a.is_complex():
            c = c + 1j * (sign.conj() * g_sign).imag
        return c.unsqueeze(-1).unsqueeze(-1) * inv(a).mH

    def name(self):
        return "LinalgSlogdetBackward0"


def slogdet(A, *, out=None):
    """(sign, logabsdet) of each square matrix; sign 0 and logabsdet -inf when singular."""
    _check_square(A, "linalg.slogdet")
    return _out(linalg_slogdet(Slogdet.apply(A)), out)


class Solve(ArrayFunction):
    """X with A X = B (B a batch of matrices); grads gB = A^{-H} g, gA = -gB X^H."""

    def forward(ctx, a, b):
        try:
            x = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix "
                              "is singular.") from None
        ctx.save_for_backward(a, x)
        return x

    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = Solve.apply(a.mH, g)
        ga = -(gb @ x.mH) if ctx.needs_input_grad[0] else None
        return ga, gb

    def name(self):
        return "LinalgSolveExBackward0"


def solve(A, B, *, left=True, out=None):
    """X with A X = B (left) or X A = B. B is a batch of vectors when it is 1-D or has A's shape
    minus the last dim (torch's rule); batch dims broadcast."""
    _check_square(A, "linalg.solve")
    _check_float(B, "linalg.solve")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A "
                           f"of type {A.dtype._legacy} and B of type {B.dtype._legacy} instead")
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and
                                   B._data.shape == A._data.shape[:-1])
    Bm = B.unsqueeze(-1) if vector else B
    n = A._data.shape[-1]
    if (Bm._data.shape[-2] if left else Bm._data.shape[-1]) != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({_shp(A)} and {_shp(Bm)})")
    try:
        np.broadcast_shapes(A._data.shape[:-2], Bm._data.shape[:-2])
    except ValueError:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({_shp(A)} and {_shp(Bm)})") from None
    if left:
        X = Solve.apply(A, Bm)
    else:
        X = Solve.apply(A.mT, Bm.mT).mT
    return _out(X.squeeze(-1) if vector else X, out)


def _shp(t):
    return "x".join(map(str, t._data.shape[-2:]))


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    X = solve(A, B, left=left)
    return linalg_solve_ex((X, Tensor._make(np.zeros(A._data.shape[:-2], np.int32))))


# ---------------------------------------------------------------------------------------------
# factorizations: cholesky, qr

class Cholesky(ArrayFunction):
    """L with A = L L^H (or U = L^H with upper=True); grad
    A_bar = L^{-H} sym(tril(L^H L_bar) with halved diagonal) L^{-1}."""

    def forward(ctx, a, *, upper):
        ctx.upper = upper
        try:
            L = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise _not_pd_error(a) from None
        r = np.ascontiguousarray(np.conj(np.swapaxes(L, -1, -2))) if upper else L
        ctx.save_for_backward(r)
        return r

    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        L, gL = (r.mH, g.mH) if ctx.upper else (r, g)
        P = (L.mH @ gL).tril()
        M = 0.5 * (P + P.tril(-1).mH)
        Linv = inv(L)
        return Linv.mH @ M @ Linv

    def name(self):
        return "LinalgCholeskyExBackward0"


def _not_pd_error(a):
    flat = a.reshape((-1,) + a.shape[-2:])
    for idx, m in enumerate(flat):
        for k in range(1, m.shape[0] + 1):
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                return LinAlgError(f"linalg.cholesky: {_batch_prefix(a, idx)}The factorization "
                                   f"could not be completed because the input is not "
                                   f"positive-definite (the leading minor of order {k} is not "
                                   f"positive-definite).")
    return LinAlgError("linalg.cholesky: The factorization could not be completed because the "
                       "input is not positive-definite.")


def cholesky(A, *, upper=False, out=None):
    """Cholesky factor of each Hermitian positive-definite matrix (only the lower triangle is
    read, as torch does)."""
    _check_square(A, "linalg.cholesky")
    a = A.tril()   # torch reads the lower triangle only
    a = a + a.tril(-1).mH
    return _out(Cholesky.apply(a, upper=upper), out)


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    _check_square(A, "linalg.cholesky")
    try:
        L = cholesky(A, upper=upper)
        info = np.zeros(A._data.shape[:-2], np.int32)
    except LinAlgError:
        if check_errors:
            raise
        L = Tensor._make(np.zeros(A._data.shape, A._data.dtype))
        info = np.ones(A._data.shape[:-2], np.int32)
    return linalg_cholesky_ex((L, Tensor._make(info)))


class QR(ArrayFunction):
    """A = Q R. Gradient for full-rank A in mode 'reduced' (or 'complete' unless m > n): see
    `_qr_backward_tall`; a wide A is split into its square left block and the rest."""

    def forward(ctx, a, *, mode):
        ctx.mode = mode
        if mode == "r":
            r = np.linalg.qr(a, mode="r")
            q = np.zeros((0,), a.dtype)
        else:
            q, r = np.linalg.qr(a, mode=mode)
        ctx.save_for_backward(q, r)
        return q, r

    def backward(ctx, gq, gr):
        q, r = ctx.saved_tensors
        m, n = q.shape[-2], r.shape[-1] if ctx.mode != "r" else (0, 0)
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        if m >= n:
            return _qr_backward_tall(q, r, gq, gr)
        # Wide A = [X | Y] with R = [U | V]: X = Q U is a square QR and Y = Q V, so
        # V = Q^H Y sends V_bar to Y (as Q V_bar) and to Q (as Y V_bar^H).
        u, v = r[..., :m], r[..., m:]
        gu, gv = gr[..., :m], gr[..., m:]
        gx = _qr_backward_tall(q, u, gq + (q @ v) @ gv.mH, gu)
        return _cat([gx, q @ gv], -1)


def _qr_backward_tall(q, r, gq, gr):
    """A_bar for A = Q R with m >= n (Q m x n): with M = Q^H Q_bar - R_bar R^H and
    N = tril(M - M^H, -1) + i Im(diag M), A_bar = [Q_bar + Q (N - M)] R^{-H}."""
    M = q.mH @ gq - gr @ r.mH
    low = (M - M.mH).tril(-1)
    N = low + (1j * M.diagonal(0, -2, -1).imag).diag_embed() if M.is_complex() else low
    Y = gq + q @ (N - M)
    return Solve.apply(r, Y.mH).mH


def qr(A, mode="reduced", *, out=None):
    """QR decomposition; mode 'reduced', 'complete' or 'r' (Q is then an empty tensor)."""
    _matrix(A, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    return _out(linalg_qr(QR.apply(A, mode=mode)), out)


# ---------------------------------------------------------------------------------------------
# eigen- and singular value decompositions

class Eigh(ArrayFunction):
    """Hermitian eigendecomposition (ascending eigenvalues); grad
    A_bar = V (diag(w_bar) + (V^H V_bar) / E) V^H, E_ij = w_j - w_i (off-diagonal)."""

    def forward(ctx, a, *, UPLO):
        w, v = np.linalg.eigh(a, UPLO=UPLO)
        ctx.save_for_backward(w, v)
        return w, v

    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        inner = gw.diag_embed().to(v.dtype) if v.is_complex() else gw.diag_embed()
        if gv is not None and bool((gv._data != 0).any()):
            E = w.unsqueeze(-2) - w.unsqueeze(-1)
            n = w.shape[-1]
            off = Tensor._make(~np.eye(n, dtype=bool))
            F = E.masked_fill(~off, 1).reciprocal().masked_fill(~off, 0)
            inner = inner + (v.mH @ gv) * F
        return v @ inner @ v.mH

    def name(self):
        return "LinalgEighBackward0"


def eigh(A, UPLO="L", *, out=None):
    """(eigenvalues ascending, eigenvectors) of Hermitian matrices; UPLO picks the triangle read."""
    _check_square(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return _out(linalg_eigh(Eigh.apply(A, UPLO=UPLO)), out)


def eigvalsh(A, UPLO="L", *, out=None):
    """Eigenvalues of Hermitian matrices, ascending (real dtype)."""
    _check_square(A, "linalg.eigvalsh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return _out(Eigh.apply(A, UPLO=UPLO)[0], out)


def _complex_of(dt):
    return np.complex64 if dt in (np.float32, np.complex64) else np.complex128


class Eig(ArrayFunction):
    """General eigendecomposition, always complex; eigenvectors of unit norm (LAPACK geev).
    grad A_bar = V^{-H} (diag(w_bar) + (V^H V_bar - V^H V Re(diag(V^H V_bar))) / conj(E)) V^H."""

    def forward(ctx, a):
        w, v = np.linalg.eig(a)
        cd = _complex_of(a.dtype.type)
        w, v = w.astype(cd, copy=False), v.astype(cd, copy=False)
        ctx.save_for_backward(w, v)
        return w, v

    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        inner = gw.diag_embed()
        if gv is not None and bool((gv._data != 0).any()):
            n = w.shape[-1]
            off = Tensor._make(~np.eye(n, dtype=bool))
            E = (w.unsqueeze(-2) - w.unsqueeze(-1)).conj()
            vhgv = v.mH @ gv
            vhgv = vhgv - (v.mH @ v) * vhgv.diagonal(0, -2, -1).real.unsqueeze(-2)
            inner = inner + (vhgv / E.masked_fill(~off, 1)).masked_fill(~off, 0)
        return Solve.apply(v.mH, inner @ v.mH)

    def name(self):
        return "LinalgEigBackward0"


def eig(A, *, out=None):
    """(eigenvalues, eigenvectors) of square matrices, complex even for real input."""
    _check_square(A, "linalg.eig")
    _finite_check(A._data, "linalg.eig")
    return _out(linalg_eig(Eig.apply(A)), out)


def eigvals(A, *, out=None):
    """Eigenvalues of square matrices, complex."""
    _check_square(A, "linalg.eigvals")
    _finite_check(A._data, "linalg.eigvals")
    return _out(Eig.apply(A)[0], out)


class SVD(ArrayFunction):
    """A = U diag(S) Vh (S descending). Gradient for distinct singular values (torch's formula):
    A_bar = U [skew(U^H U_bar) S / E + S skew(V^H V_bar) / E + diag(S_bar)] Vh
            + (I - U U^H) U_bar S^{-1} Vh + U S^{-1} Vh_bar (I - V V^H),
    E_jk = S_k^2 - S_j^2 (diagonal dropped); complex inputs add i Im(diag(U^H U_bar)) / S on
    the diagonal (gauge-invariant losses only, as in torch).
    With full_matrices the extra columns of U / rows of Vh get no gradient (as in torch)."""

    def forward(ctx, a, *, full_matrices, compute_uv=True):
        ctx.full = full_matrices
        if not compute_uv:
            s = np.linalg.svd(a, compute_uv=False)
            ctx.save_for_backward(None, s, None)
            ctx.uv = False
            return s
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        ctx.uv = True
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    def backward(ctx, *grads):
        u, s, vh = ctx.saved_tensors
        if not ctx.uv:
            raise RuntimeError("svd backward needs the singular vectors")
        gu, gs, gvh = grads
        k = s.shape[-1]
        m, n = u.shape[-2], vh.shape[-1]
        if ctx.full:
            u, vh = u[..., :, :k], vh[..., :k, :]
            gu = gu[..., :, :k] if gu is not None else None
            gvh = gvh[..., :k, :] if gvh is not None else None
        has_u = gu is not None and bool((gu._data != 0).any())
        has_v = gvh is not None and bool((gvh._data != 0).any())
        cplx = u.is_complex()
        sd = s.to(u.dtype) if cplx else s
        if gs is None:
            gs = s * 0
        if not has_u and not has_v:
            return (u * gs.to(u.dtype).unsqueeze(-2) if cplx else u * gs.unsqueeze(-2)) @ vh
        v = vh.mH
        eye = Tensor._make(np.eye(k, dtype=bool))
        s2 = s * s
        E = (s2.unsqueeze(-2) - s2.unsqueeze(-1)).masked_fill(eye, 1)
        inner = gs.diag_embed().to(u.dtype) if cplx else gs.diag_embed()
        if has_u:
            uhgu = u.mH @ gu
            inner = inner + ((uhgu - uhgu.mH) / E).masked_fill(eye, 0) * sd.unsqueeze(-2)
            if cplx:   # the phase gauge: the diagonal of V^H dV taken as 0
                inner = inner + (1j * uhgu.diagonal(0, -2, -1).imag / s).diag_embed()
        if has_v:
            gv = gvh.mH
            vhgv = v.mH @ gv
            inner = inner + sd.unsqueeze(-1) * ((vhgv - vhgv.mH) / E).masked_fill(eye, 0)
        ga = u @ inner @ vh
        if has_u and m > k:
            ga = ga + ((gu - u @ (u.mH @ gu)) / sd.unsqueeze(-2)) @ vh
        if has_v and n > k:
            ga = ga + (u / sd.unsqueeze(-2)) @ (gvh - (gvh @ v) @ vh)
        return ga

    def name(self):
        return "LinalgSvdBackward0"


def svd(A, full_matrices=True, *, driver=None, out=None):
    """(U, S, Vh) with A = U diag(S) Vh and S descending; full_matrices gives square U, Vh."""
    _matrix(A, "linalg.svd")
    _finite_check(A._data, "linalg.svd")
    return _out(linalg_svd(SVD.apply(A, full_matrices=full_matrices)), out)


def svdvals(A, *, driver=None, out=None):
    """Singular values, descending (real dtype); differentiable through the singular vectors."""
    _matrix(A, "linalg.svdvals")
    _finite_check(A._data, "linalg.svdvals")
    if A.requires_grad:
        return _out(SVD.apply(A, full_matrices=False)[1], out)
    return _out(Tensor._make(np.asarray(np.linalg.svd(A._data, compute_uv=False))), out)


def _tolerances(A, atol, rtol, smax):
    """torch's tolerance: max(atol, rtol * smax); rtol defaults to eps * max(m, n) when neither
    atol nor rtol is given, and to 0 when only atol is."""
    real = np.finfo(np.zeros((), A._data.dtype).real.dtype)
    if isinstance(atol, Tensor):
        atol = atol._data
    if isinstance(rtol, Tensor):
        rtol = rtol._data
    if rtol is None:
        rtol = real.eps * max(A._data.shape[-2:]) if atol is None or np.all(
            np.asarray(atol) <= 0) else 0.0
    atol = 0.0 if atol is None else atol
    return np.maximum(np.asarray(atol), np.asarray(rtol) * smax)


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """Moore-Penrose pseudo-inverse through the SVD (eigh when hermitian), zeroing singular
    values at or below max(atol, rtol * largest)."""
    _matrix(A, "linalg.pinv")
    if hermitian:
        w, V = eigh(A)
        a = w.abs()
        smax = a.amax(-1, keepdim=True)._data if a.shape[-1] else np.zeros(a.shape[:-1] + (1,))
        keep = Tensor._make(a._data > _tolerances(A, atol, rtol, smax))
        winv = w.masked_fill(~keep, 1).reciprocal().masked_fill(~keep, 0)
        winv = winv.to(V.dtype) if V.is_complex() else winv
        return _out((V * winv.unsqueeze(-2)) @ V.mH, out)
    U, S, Vh = svd(A, full_matrices=False)
    smax = S[..., :1]._data if S.shape[-1] else np.zeros(S.shape[:-1] + (1,), S._data.dtype)
    keep = Tensor._make(S._data > _tolerances(A, atol, rtol, smax))
    sinv = S.masked_fill(~keep, 1).reciprocal().masked_fill(~keep, 0)
    sinv = sinv.to(U.dtype) if U.is_complex() else sinv
    return _out((Vh.mH * sinv.unsqueeze(-2)) @ U.mH, out)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    """Number of singular values (|eigenvalues| when hermitian) above the tolerance; int64."""
    _matrix(A, "linalg.matrix_rank")
    if tol is not None:
        atol, rtol = tol, 0.0
    a = A._data
    if hermitian:
        s = np.abs(np.linalg.eigvalsh(a))
        s = -np.sort(-s, axis=-1)
    else:
        s = np.linalg.svd(a, compute_uv=False)
    smax = s[..., :1] if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    r = np.asarray(np.sum(s > _tolerances(A, atol, rtol, smax), axis=-1), np.int64)
    return _out(Tensor._make(r), out)


def matrix_power(A, n, *, out=None):
    """A^n by repeated squaring; n=0 gives identities, negative n powers of the inverse."""
    if A._data.ndim < 2 or A._data.shape[-1] != A._data.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {A._data.shape[-2] if A._data.ndim >= 2 else 1} by "
                           f"{A._data.shape[-1] if A._data.ndim >= 1 else 1} matrices")
    if not isinstance(n, int):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        # identities that stay in the graph with a zero gradient (as torch's do)
        eye = Tensor._make(np.eye(A._data.shape[-1], dtype=bool))
        return _out(A.masked_fill(eye, 1).masked_fill(~eye, 0), out)
    if n < 0:
        A = inv(A)
        n = -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    if result is A:
        result = A.clone()
    return _out(result, out)


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of A X = B, with torch's result fields: residuals (for m > n,
    full-rank inputs and drivers other than gelsy), rank (not for gels), singular_values (gelsd
    and gelss). The solution is pinv(A) @ B (what gelsy computes for the rank found)."""
    _matrix(A, "linalg.lstsq")
    drivers = ("gels", "gelsy", "gelsd", "gelss")
    if driver is None:
        driver = "gelsy"
    if driver not in drivers:
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of "
                           f"(gels, gelsy, gelsd, gelss)")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype,"
                           f" but got input's dtype {A.dtype._legacy} and other's dtype "
                           f"{B.dtype._legacy}")
    vector = B._data.ndim == A._data.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    m, n = A._data.shape[-2:]
    if Bm._data.shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    real = np.zeros((), A._data.dtype).real.dtype
    rtol = np.finfo(real).eps * max(m, n) if rcond is None or rcond < 0 else rcond
    X = pinv(A, rtol=rtol) @ Bm
    empty = Tensor._make(np.zeros((0,), real))
    rank = matrix_rank(A, rtol=rtol) if driver != "gels" else Tensor._make(
        np.zeros((0,), np.int64))
    # singular values come without a graph in torch; residuals are part of it even when empty
    sv = svdvals(A.detach()) if driver in ("gelsd", "gelss") else empty
    res = X.reshape(-1)[:0]
    res = res.abs() if res.is_complex() else res
    if m > n and driver != "gelsy":
        full = driver == "gels" or bool(np.all(rank._data == n))
        if full:
            r = A @ X - Bm
            res = (r.abs() ** 2 if r.is_complex() else r * r).sum(-2)
            res = res.squeeze(-1) if vector else res
    return linalg_lstsq((X.squeeze(-1) if vector else X, res, rank, sv))


def multi_dot(tensors, *, out=None):
    """Product of a chain of matrices; the first may be 1-D (a row), the last 1-D (a column)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        nd = t._data.ndim
        if i in (0, len(tensors) - 1):
            if nd not in (1, 2):
                which = "first" if i == 0 else "last"
                raise RuntimeError(f"multi_dot(): the {which} tensor must be 1D or 2D but got "
                                   f"{nd}D")
        elif nd != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {nd}D")
    for t in tensors[1:]:
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor "
                               f"0 is {tensors[0].dtype._legacy} and tensor {tensors.index(t)} "
                               f"is {t.dtype._legacy}")
    first_vec, last_vec = tensors[0]._data.ndim == 1, tensors[-1]._data.ndim == 1
    ts = [tensors[0].unsqueeze(0) if first_vec else tensors[0]] + tensors[1:-1] + \
        [tensors[-1].unsqueeze(-1) if last_vec else tensors[-1]]
    for i in range(len(ts) - 1):
        if ts[i]._data.shape[1] != ts[i + 1]._data.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(ts[i]._data.shape)} and {list(ts[i + 1]._data.shape)} "
                               f"cannot be multiplied")
    r = ts[0]
    for t in ts[1:]:
        r = r @ t
    if first_vec:
        r = r.squeeze(0)
    if last_vec:
        r = r.squeeze(-1)
    return _out(r, out)


def vecdot(x, y, *, dim=-1, out=None):
    """sum(conj(x) * y) over `dim`, broadcasting the other dims."""
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x "
                           f"of type {x.dtype._legacy} and y of type {y.dtype._legacy} instead")
    xc = x.conj() if x.is_complex() else x
    return _out((xc * y).sum(dim), out)


def _cross(a, b, dim, fname, out=None):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected scalar type {a.dtype._legacy} but found {b.dtype._legacy}")
    if a._data.ndim != b._data.ndim:
        raise RuntimeError(f"{fname}: inputs must have the same number of dimensions.")
    shape = np.broadcast_shapes(a._data.shape, b._data.shape)
    d = _wrap_dim(dim, len(shape))
    if a._data.shape[d] != 3 or b._data.shape[d] != 3:
        raise RuntimeError(f"{fname}: inputs dimension {dim} must have length 3. Got "
                           f"{a._data.shape[d]} and {b._data.shape[d]}")
    # c_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}: rolling left by 1 and 2 lines these up
    c = a.roll(-1, d) * b.roll(-2, d) - a.roll(-2, d) * b.roll(-1, d)
    return _out(c, out)


def cross(input, other, *, dim=-1, out=None):
    """Cross product of 3-vectors along `dim` (default -1); other dims broadcast."""
    return _cross(input, other, dim, "linalg.cross", out)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


def matmul(input, other, *, out=None):
    from ember._ops.linalg import matmul as _mm
    return _mm(input, other, out=out)


# ---------------------------------------------------------------------------------------------
# norms

class VectorNorm(ArrayFunction):
    """(sum |x|^p)^(1/p) over dims. Subgradients as torch's: 0 where the norm is 0 (p=2 and
    general p), ties of the inf/-inf norm share the gradient evenly, ord=0 has zero gradient."""

    def forward(ctx, x, *, ord, dims, keepdim):
        ctx.ord, ctx.dims, ctx.keepdim = ord, dims, keepdim
        a = np.abs(x)
        if ord == 2:
            r = np.sqrt(np.sum(a * a, axis=dims, keepdims=keepdim))
        elif ord == 1:
            r = np.sum(a, axis=dims, keepdims=keepdim)
        elif ord == np.inf:
            r = np.max(a, axis=dims, keepdims=keepdim)
        elif ord == -np.inf:
            r = np.min(a, axis=dims, keepdims=keepdim)
        elif ord == 0:
            r = np.sum(a != 0, axis=dims, keepdims=keepdim).astype(a.dtype)
        else:
            r = np.sum(a ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)
        r = np.asarray(r, a.dtype)
        ctx.save_for_backward(x, r)
        return r

    def backward(ctx, g):
        x, r = ctx.saved_tensors
        p = ctx.ord
        if not ctx.keepdim:
            for d in ctx.dims:
                g = g.unsqueeze(d)
                r = r.unsqueeze(d)
        if p == 0:
            return x * 0
        if p == 1:
            return x.sgn() * g
        if p == 2:
            return x * (g / r).masked_fill(r == 0, 0)
        if p in (np.inf, -np.inf):
            mask = (x.abs() == r)
            w = mask / mask.sum(ctx.dims, keepdim=True)
            return x.sgn() * (g * w)
        scale = (g / r.pow(p - 1)).masked_fill(r == 0, 0)
        return x.sgn() * x.abs().pow(p - 1) * scale

    def name(self):
        return "LinalgVectorNormBackward0"


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """Vector p-norm over `dim` (all elements when None); real result for complex input."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg_vector_norm(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(x).__name__}")
    if x._data.dtype.kind not in "fc" and x.dtype._legacy not in ("Half", "BFloat16"):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {x.dtype._legacy}")
    if isinstance(ord, complex) or isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: Expected a non-complex scalar as the order of "
                           f"norm.")
    if dtype is not None:
        if x.is_complex() and not dtype.is_complex:
            raise RuntimeError(f"linalg.vector_norm: dtype should be complex when input is "
                               f"complex, but got {dtype._legacy}")
        from ember._ops._helpers import to_dtype
        x = to_dtype(x, dtype)
    dims = tuple(sorted(_wrap_dim(d, max(x._data.ndim, 1)) for d in
                        ((dim,) if isinstance(dim, int) else dim))) if dim is not None and \
        (isinstance(dim, int) or len(dim)) else tuple(range(x._data.ndim))
    if x._data.ndim == 0:
        dims = ()
    ord = float(ord)
    if ord < 0 or ord == np.inf:
        empty = [d for d in dims if x._data.shape[d] == 0] or (
            [] if dims or x._data.size else [0])
        if empty or (x._data.size == 0 and not dims):
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on an empty "
                               f"tensor because the operation does not have an identity"
                               .replace("inf norm", "inf norm"))
    return _out(VectorNorm.apply(x, ord=ord, dims=dims, keepdim=keepdim), out)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norms over the two dims `dim`: 'fro', 'nuc', inf, -inf, 1, -1, 2, -2."""
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    _check_float(A, "linalg.matrix_norm")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(map(str, dim))}")
    d0, d1 = (_wrap_dim(d, A._data.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    if dtype is not None:
        from ember._ops._helpers import to_dtype
        A = to_dtype(A, dtype)
    if ord == "fro":
        return _out(vector_norm(A, 2, (d0, d1), keepdim), out)
    if ord in ("nuc", 2, -2):
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        if ord == "nuc":
            r = s.sum(-1)
        elif s.shape[-1] == 0:
            raise RuntimeError("linalg.matrix_norm: the operation does not have an identity")
        else:
            r = s.amax(-1) if ord == 2 else s.amin(-1)
        if keepdim:
            for d in sorted((d0, d1)):
                r = r.unsqueeze(d)
        return _out(r, out)
    if isinstance(ord, str) or ord not in (1, -1, np.inf, -np.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    # 1-norms sum down columns (over d0) then take max over d1; inf-norms the other way
    sum_dim, red_dim = (d0, d1) if abs(ord) == 1 else (d1, d0)
    s = vector_norm(A, 1, sum_dim, keepdim=True)
    r = s.amax(red_dim, keepdim=True) if ord > 0 else s.amin(red_dim, keepdim=True)
    if not keepdim:
        r = r.squeeze((d0, d1))
    return _out(r, out)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """Vector or matrix norm: a string ord or a 2-tuple dim means a matrix norm; ord=None is the
    2-norm of the flattened input (or Frobenius over a 2-tuple dim)."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype,
                               out=out)
        if isinstance(ord, str):
            raise RuntimeError(f"linalg.norm: If dim is specified, it mut be of length 1 or 2. "
                               f"Got {list(dim)}")
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype, out=out)
    if A._data.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype, out=out)
    if A._data.ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype, out=out)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D "
                       f"or 2D. Got {A._data.ndim}D.")
