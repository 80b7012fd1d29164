"""torch.linalg: decompositions, solvers, inverses, determinants and norms (batched over leading
dims like torch), with the gradients torch defines.

Each decomposition is one ArrayFunction whose forward is one NumPy LAPACK call and whose
backward is written in Tensor ops (so double backward works). Gradients of svd/eigh assume
distinct singular values/eigenvalues, as torch's do.
"""
import numpy as np

from ember._ops._helpers import is_half, zeros_of
from ember._tensor import Tensor, _wrap_dim
from ember.autograd.function import ArrayFunction
from ember._ops.manipulation import cat as _cat
from ember import return_types as _rt

__all__ = ["LinAlgError", "inv", "det", "slogdet", "solve", "cholesky", "qr", "eigh", "eigvalsh",
           "eig", "eigvals", "svd", "svdvals", "pinv", "matrix_rank", "matrix_power", "lstsq",
           "multi_dot", "vecdot", "vector_norm", "matrix_norm", "norm", "cross", "inv_ex",
           "cholesky_ex", "solve_ex", "diagonal", "matmul", "solve_triangular", "matrix_exp",
           "lu_factor", "lu_factor_ex", "lu", "lu_solve"]


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
linalg_lu = _rt._make("linalg_lu", ("P", "L", "U"))
linalg_lu_factor = _rt._make("linalg_lu_factor", ("LU", "pivots"))
linalg_lu_factor_ex = _rt._make("linalg_lu_factor_ex", ("LU", "pivots", "info"))


# ---------------------------------------------------------------------------------------------
# argument checks shared by the ops

# How torch rejects dtypes LAPACK has no kernel for, per function: the kernel named in its
# NotImplementedError for half precision (bfloat16 too), "low" for its "Low precision dtypes"
# RuntimeError; functions listed in _INT_KERNEL reject integers and bool the first way too.
_HALF_KERNEL = {"linalg.det": "lu_cpu", "linalg.solve": "lu_cpu", "linalg.cholesky":
                "cholesky_cpu", "linalg.qr": "geqrf_cpu", "linalg.eig": "linalg_eig_out_cpu",
                "linalg.eigvals": "linalg_eig_out_cpu", "linalg.eigh": "linalg_eigh_cpu",
                "linalg.eigvalsh": "linalg_eigh_cpu", "linalg.svd": "linalg_svd_cpu",
                "linalg.svdvals": "linalg_svd_cpu", "linalg.inv": "low", "linalg.slogdet": "low",
                "logdet": "low", "linalg.matrix_norm": "low", "linalg.lu_factor": "lu_cpu",
                "linalg.lu": "lu_cpu"}
_INT_KERNEL = ("linalg.eigh", "linalg.eigvalsh")
_FLOAT_DOUBLE_ONLY = ("linalg.matrix_rank", "linalg.lstsq")


def _check_float(A, fname, arg="input"):
    npd = A._data.dtype
    if npd.kind in "fc" and npd.itemsize >= 4:
        return
    legacy = A.dtype._legacy
    if fname in _FLOAT_DOUBLE_ONLY:
        raise RuntimeError("This function doesn't handle types other than float and double")
    if fname == "linalg.pinv":
        raise RuntimeError(f"linalg.pinv({legacy}{{{list(A._data.shape)}}}): expected a tensor "
                           f"with 2 or more dimensions of float, double, cfloat or cdouble types")
    half = npd.kind in "fcV"   # float16, bfloat16 (NumPy kind V), complex32
    kernel = _HALF_KERNEL.get(fname) if half else (
        _HALF_KERNEL[fname] if fname in _INT_KERNEL else None)
    if kernel == "low":
        raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got {legacy}")
    if kernel:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{legacy}'")
    if fname in ("linalg.eig", "linalg.eigvals"):
        raise RuntimeError(f"Unknown Complex ScalarType for {legacy}")
    if half:
        raise NotImplementedError(f"\"{fname}_cpu\" not implemented for '{legacy}'")
    raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as {arg}. "
                       f"Got {legacy}")


def _check_square(A, fname, name="A"):
    _check_float(A, fname)
    _square(A, fname, name)


def _square(A, fname, name="A", prefix=True):
    """torch's errors for an A that is not a batch of square matrices (the message names the
    function unless prefix=False, as some legacy functions word it)."""
    if A._data.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor {name} must have at least 2 dimensions.")
    m, n = A._data.shape[-2:]
    if m != n:
        raise RuntimeError(f"{fname + ': ' if prefix else ''}{name} must be batches of square "
                           f"matrices, but they are {m} by {n} matrices")


def _matrix(A, fname, name="A"):
    if A._data.ndim < 2 and fname in ("linalg.pinv", "linalg.lstsq"):   # their own wording
        if fname == "linalg.lstsq":
            raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
        raise RuntimeError(f"linalg.pinv({A.dtype._legacy}{{{list(A._data.shape)}}}): expected "
                           f"a tensor with 2 or more dimensions of float, double, cfloat or "
                           f"cdouble types")
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

    def forward(ctx, a, *, fname="linalg.inv"):
        try:
            r = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise _singular_error(a, fname) from None
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
        r = Inv.apply(A, fname="linalg.inv_ex")
        info = np.zeros(A._data.shape[:-2], np.int32)
    except LinAlgError:
        if check_errors:
            raise
        r = Tensor._make(np.full(A._data.shape, np.nan, A._data.dtype))
        info = np.ones(A._data.shape[:-2], np.int32)
    return _out(linalg_inv_ex((r, Tensor._make(info))), out)


def _out(r, out, castable=None, what="result", msg=None, **kw):
    """write_outs with torch's out= dtype checks for linear algebra: by default the result's
    dtype exactly; castable="fn": any dtype it casts to safely (torch's "fn: Expected {what}
    to be safely castable..." error; `what` one name or one per result); msg: exact, in the
    op's own words (see check_out_exact)."""
    from ember._ops._helpers import check_out_castable, check_out_exact, write_outs
    if out is not None and (castable or msg):
        rs, outs = (r, out) if isinstance(r, tuple) else ((r,), (out,))
        for i, (x, o) in enumerate(zip(rs, outs)):
            if castable:
                check_out_castable(o, x._data.dtype, castable,
                                   what[i] if isinstance(what, tuple) else what)
            if msg:
                check_out_exact(o, x._data.dtype, msg)
    kw.setdefault("exact", castable is None and msg is None)
    return write_outs(out, r, **kw)


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
    """solve() that reports singular matrices in `info` (LU's first zero pivot, 1-based)
    instead of raising, unless check_errors; their solutions hold LU's infs and NaNs."""
    try:
        X = solve(A, B, left=left)
        info = np.zeros(np.broadcast_shapes(A._data.shape[:-2], X._data.shape[:-2] if
                                            X._data.ndim >= 2 else ()), np.int32)
    except LinAlgError:
        if check_errors:
            raise LinAlgError("torch.linalg.solve_ex: The solver failed because the input "
                              "matrix is singular.") from None
        X, info = _solve_singular(A._data, B._data, left)
    return _out(linalg_solve_ex((X, Tensor._make(info))), out)


def _solve_singular(a, b, left):
    """solve_ex's result where some A is singular: LU solves (scipy's getrf/getrs, as torch's
    LAPACK), each batch element's info from its first zero pivot."""
    import warnings
    sla = _scipy_linalg()
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    bm = b[..., None] if vector else b
    if not left:
        a, bm = np.swapaxes(a, -1, -2), np.swapaxes(bm, -1, -2)
    batch = np.broadcast_shapes(a.shape[:-2], bm.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    bm = np.broadcast_to(bm, batch + bm.shape[-2:])
    x = np.empty(batch + bm.shape[-2:], np.result_type(a, bm))
    info = np.zeros(batch, np.int32)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for idx in np.ndindex(*batch):
            lu, piv = sla.lu_factor(a[idx], check_finite=False)
            zero = np.nonzero(np.diagonal(lu) == 0)[0]
            info[idx] = zero[0] + 1 if zero.size else 0
            x[idx] = sla.lu_solve((lu, piv), bm[idx], check_finite=False)
    if not left:
        x = np.swapaxes(x, -1, -2)
    return Tensor._make(x[..., 0] if vector else x), info


# ---------------------------------------------------------------------------------------------
# factorizations: cholesky, qr

class Cholesky(ArrayFunction):
    """L with A = L L^H (or U = L^H with upper=True), reading only A's lower (upper) triangle as
    torch does; grad A_bar = L^{-H} sym(tril(L^H L_bar) with halved diagonal) L^{-1}, returned
    whole (Hermitian), not folded onto the triangle read: torch's gradient."""

    def forward(ctx, a, *, upper, fname="linalg.cholesky"):
        ctx.upper = upper
        tri = np.triu(a) if upper else np.tril(a)
        h = tri + np.conj(np.swapaxes(np.triu(a, 1) if upper else np.tril(a, -1), -1, -2))
        try:
            L = np.linalg.cholesky(h)
        except np.linalg.LinAlgError:
            raise _not_pd_error(h, fname) from None
        d = np.diagonal(L, 0, -2, -1)
        if not np.isfinite(d).all():   # NaN pivots: LAPACK (torch) fails where NumPy goes on
            flat = ~np.isfinite(d.reshape(-1, d.shape[-1]))
            idx = int(np.nonzero(flat.any(-1))[0][0])
            raise LinAlgError(f"{fname}: {_batch_prefix(h, idx)}The factorization could not be "
                              f"completed because the input is not positive-definite (the "
                              f"leading minor of order {int(np.argmax(flat[idx])) + 1} is not "
                              f"positive-definite).")
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


def _not_pd_error(a, fname="linalg.cholesky"):
    flat = a.reshape((-1,) + a.shape[-2:])
    for idx, m in enumerate(flat):
        for k in range(1, m.shape[0] + 1):
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                return LinAlgError(f"{fname}: {_batch_prefix(a, idx)}The factorization "
                                   f"could not be completed because the input is not "
                                   f"positive-definite (the leading minor of order {k} is not "
                                   f"positive-definite).")
    return LinAlgError(f"{fname}: The factorization could not be completed because the input "
                       f"is not positive-definite.")


def cholesky(A, *, upper=False, out=None, _fname="linalg.cholesky"):
    """Cholesky factor of each Hermitian positive-definite matrix (only the lower triangle is
    read, the upper one with upper=True, as torch does)."""
    _check_square(A, "linalg.cholesky")
    return _out(Cholesky.apply(A, upper=upper, fname=_fname), out)


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    _check_square(A, "linalg.cholesky")
    try:
        L = cholesky(A, upper=upper, _fname="linalg.cholesky_ex")
        info = np.zeros(A._data.shape[:-2], np.int32)
    except LinAlgError:
        if check_errors:
            raise
        L = Tensor._make(np.zeros(A._data.shape, A._data.dtype))
        info = np.ones(A._data.shape[:-2], np.int32)
    return _out(linalg_cholesky_ex((L, Tensor._make(info))), out)


class QR(ArrayFunction):
    """A = Q R. Gradient for full-rank A in mode 'reduced' (or 'complete' unless m > n): see
    `_qr_backward_tall`; a wide A is split into its square left block and the rest."""

    def name(self):   # torch records linalg_qr's node
        return "LinalgQrBackward0"

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
    UPLO = _uplo(UPLO)
    return _out(linalg_eigh(Eigh.apply(A, UPLO=UPLO)), out)


def _uplo(UPLO):
    """'L' or 'U', either case (torch's check)."""
    if not isinstance(UPLO, str) or UPLO.upper() not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO.upper()


def eigvalsh(A, UPLO="L", *, out=None):
    """Eigenvalues of Hermitian matrices, ascending (real dtype)."""
    _check_square(A, "linalg.eigvalsh")
    UPLO = _uplo(UPLO)
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
    if not np.all(np.isfinite(A._data)):
        raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
    return _out(linalg_eig(Eig.apply(A)), out, "torch.linalg.eig",
                ("eigenvalues", "eigenvectors"))


def eigvals(A, *, out=None):
    """Eigenvalues of square matrices, complex."""
    _check_square(A, "linalg.eigvals")
    _finite_check(A._data, "linalg.eigvals")
    return _out(Eig.apply(A)[0], out, "torch.linalg.eigvals", "eigenvalues",
                grad="aten::linalg_eigvals")


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
    _no_driver(driver)
    _finite_check(A._data, "linalg.svd")
    return _out(linalg_svd(SVD.apply(A, full_matrices=full_matrices)), out)


def svdvals(A, *, driver=None, out=None):
    """Singular values, descending (real dtype); differentiable through the singular vectors."""
    _matrix(A, "linalg.svd")
    _no_driver(driver)
    _finite_check(A._data, "linalg.svd")
    if A.requires_grad:
        return _out(SVD.apply(A, full_matrices=False)[1], out)
    return _out(Tensor._make(np.asarray(np.linalg.svd(A._data, compute_uv=False))), out)


def _no_driver(driver):
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on "
                           "CUDA inputs with cuSOLVER backend.")


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
        return _out((V * winv.unsqueeze(-2)) @ V.mH, out, "linalg.pinv")
    U, S, Vh = svd(A, full_matrices=False)
    smax = S[..., :1]._data if S.shape[-1] else np.zeros(S.shape[:-1] + (1,), S._data.dtype)
    keep = Tensor._make(S._data > _tolerances(A, atol, rtol, smax))
    sinv = S.masked_fill(~keep, 1).reciprocal().masked_fill(~keep, 0)
    sinv = sinv.to(U.dtype) if U.is_complex() else sinv
    return _out((Vh.mH * sinv.unsqueeze(-2)) @ U.mH, out, "linalg.pinv")


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
    return _out(Tensor._make(r), out, "torch.linalg.matrix_rank")


def matrix_power(A, n, *, out=None):
    """A^n by repeated squaring; n=0 gives identities, negative n powers of the inverse."""
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 "
                           "dimensions.")
    if A._data.shape[-1] != A._data.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {A._data.shape[-2]} by {A._data.shape[-1]} matrices")
    if not isinstance(n, int):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        # identities that stay in the graph with a zero gradient (as torch's do)
        eye = Tensor._make(np.eye(A._data.shape[-1], dtype=bool))
        return _out(A.masked_fill(eye, 1).masked_fill(~eye, 0), out, "matrix_power",
                    exact=True)
    given = A
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
    if result is given:   # n = 1: a copy of the caller's tensor (the inverse is new already)
        result = given.clone()
    return _out(result, out, "matrix_power", exact=True)


def lstsq(A, B, rcond=None, *, driver=None, out=None):
    """Least-squares solution of A X = B, with torch's result fields: residuals (for m > n,
    full-rank inputs and drivers other than gelsy), rank (not for gels), singular_values (gelsd
    and gelss). The solution is pinv(A) @ B (what gelsy computes for the rank found)."""
    _matrix(A, "linalg.lstsq")
    drivers = ("gels", "gelsy", "gelsd", "gelss")
    if driver is None:
        driver = "gelsy"
    if driver not in drivers:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of "
                           "(gels, gelsy, gelsd, gelss)")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype,"
                           f" but got input's dtype {A.dtype._legacy} and other's dtype "
                           f"{B.dtype._legacy}")
    vector = B._data.ndim == A._data.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    m, n = A._data.shape[-2:]
    if Bm._data.shape[-2] != m:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
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
    return _out(linalg_lstsq((X.squeeze(-1) if vector else X, res, rank, sv)), out,
                "torch.linalg.lstsq", ("solution", "solution", "rank", "singular_values"))


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
    for i, t in enumerate(tensors[1:], 1):
        if t._data.dtype != tensors[0]._data.dtype:
            from ember._ops.linalg import _cname
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor "
                               f"0 is {_cname(tensors[0])} and tensor {i} {_cname(t)}")
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
    return _out(r, out, msg="multi_dot(): expected out tensor to have dtype {want_c} but got "
                "{got_c}")


def vecdot(x, y, *, dim=-1, out=None):
    """sum(conj(x) * y) over `dim`, broadcasting the other dims."""
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x "
                           f"of type {x.dtype._legacy} and y of type {y.dtype._legacy} instead")
    xc = x.conj() if x.is_complex() else x
    return _out((xc * y).sum(dim), out,
                msg="linalg.vecdot: Expected out of dtype{want} but found {got}")


class LinalgCross(ArrayFunction):
    """Cross product of 3-vectors along dim `d`, a and b broadcast against each other:
    c_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1} (each product rounded in half types, as torch's
    kernel does). Gradients as torch's: cross(conj(b), g) for a, cross(g, conj(a)) for b."""

    def forward(ctx, a, b, *, d):
        ctx.d = d
        needs = ctx.needs_input_grad   # a's gradient reads b, b's reads a
        ctx.save_for_backward(b if needs[0] else None, a if needs[1] else None)
        (a0, a1, a2), (b0, b1, b2) = np.split(a, 3, axis=d), np.split(b, 3, axis=d)   # views
        return np.concatenate([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=d)

    def backward(ctx, g):
        b, a = ctx.saved_tensors
        ga = LinalgCross.apply(b.conj(), g, d=ctx.d) if ctx.needs_input_grad[0] else None
        gb = LinalgCross.apply(g, a.conj(), d=ctx.d) if ctx.needs_input_grad[1] else None
        return ga, gb


def _cross(a, b, dim, fname, out=None):
    if a._data.dtype == np.bool_:
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected scalar type {a.dtype._legacy} but found {b.dtype._legacy}")
    if a._data.ndim != b._data.ndim:
        raise RuntimeError(f"{fname}: inputs must have the same number of dimensions.")
    try:
        shape = np.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError as e:
        from ember.autograd.function import _broadcast_error
        raise _broadcast_error(e, (a, b)) from None
    d = _wrap_dim(dim, len(shape))
    if a._data.shape[d] != 3 or b._data.shape[d] != 3:
        raise RuntimeError(f"{fname}: inputs dimension {dim} must have length 3. Got "
                           f"{a._data.shape[d]} and {b._data.shape[d]}")
    if out is not None:
        from ember._ops._helpers import check_no_overlap
        check_no_overlap(out, a, b)
    return _out(LinalgCross.apply(a, b, d=d), out)


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

def _pnorm(x, ord, dims, keepdim=False):
    """(sum |x|^ord)^(1/ord) over dims on arrays, with the special orders 0 (count of
    nonzeros), 1, 2 and +-inf; a real result (for complex x too). LinalgVectorNorm and pdist share
    it; their backwards differ in the subgradients torch picks. Half types accumulate in
    float32 and round once, as torch's."""
    a = np.abs(x)
    dt = a.dtype
    if is_half(dt):
        a = a.astype(np.float32)
    if ord == 2:
        r = np.sqrt(np.sum(a * a, axis=dims, keepdims=keepdim))
    elif ord == 1:
        r = np.sum(a, axis=dims, keepdims=keepdim)
    elif ord == np.inf:
        r = np.max(a, axis=dims, keepdims=keepdim, initial=0)   # |x| >= 0: 0 for no elements
    elif ord == -np.inf:
        r = np.min(a, axis=dims, keepdims=keepdim)
    elif ord == 0:
        r = np.sum(a != 0, axis=dims, keepdims=keepdim)
    else:
        r = np.sum(a ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)
    return np.asarray(r, np.float32 if is_half(dt) else dt).astype(dt, copy=False)


class LinalgVectorNorm(ArrayFunction):
    """(sum |x|^p)^(1/p) over dims. Subgradients as torch's: 0 where the norm is 0 (p=2 and
    general p), ties of the inf/-inf norm share the gradient evenly, ord=0 has zero gradient."""

    def forward(ctx, x, *, ord, dims, keepdim):
        ctx.ord, ctx.dims, ctx.keepdim = ord, dims, keepdim
        r = _pnorm(x, ord, dims, keepdim)
        ctx.save_for_backward(x, r)
        return r

    def backward(ctx, g):
        x, r = ctx.saved_tensors
        return vector_norm_grad(x, r, g, ctx.ord, ctx.dims, ctx.keepdim)


def vector_norm_grad(x, r, g, p, dims, keepdim):
    """The gradient for x of r = its p-norm over dims (r's gradient g), in Tensor ops."""
    if not keepdim:
        for d in dims:
            g = g.unsqueeze(d)
            r = r.unsqueeze(d)
    if p == 0:   # torch's gradient of the 0-"norm" is undefined: none flows
        return None
    if p == 1:
        return x.sgn() * g
    zero = r == 0
    if p == 2:   # (torch's order: x / r first, which shows in the half types' rounding)
        return (x / r.masked_fill(zero, 1)).masked_fill(zero, 0) * g
    if p in (np.inf, -np.inf):
        mask = (x.abs() == r)
        w = mask / mask.sum(dims, keepdim=True)
        return x.sgn() * (g * w)
    scale = (g / r.masked_fill(zero, 1).pow(p - 1)).masked_fill(zero, 0)
    if p < 1:   # |x|^(p-1) is infinite at x = 0, where torch's subgradient is 0
        at0 = x == 0
        return (x.sgn() * x.abs().masked_fill(at0, 1).pow(p - 1) * scale).masked_fill(at0, 0)
    return x.sgn() * x.abs().pow(p - 1) * scale


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """Vector p-norm over `dim` (all elements when None); real result for complex input."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg_vector_norm(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(x).__name__}")
    if x._data.dtype.kind not in "fc" and x.dtype._legacy not in ("Half", "BFloat16"):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {x.dtype._legacy}")
    if isinstance(ord, complex):
        raise RuntimeError("linalg.vector_norm: Expected a non-complex scalar as the order of "
                           "norm.")
    if isinstance(ord, (str, bytes)) or not isinstance(ord, (int, float, np.number, Tensor)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not "
                        f"{type(ord).__name__}")
    if dtype is not None:
        if not (dtype.is_floating_point or dtype.is_complex):
            raise RuntimeError(f"linalg.vector_norm: dtype should be floating point or complex, "
                               f"but got {dtype._legacy}")
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
    return _out(LinalgVectorNorm.apply(x, ord=ord, dims=dims, keepdim=keepdim), out)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norms over the two dims `dim`: 'fro', 'nuc', inf, -inf, 1, -1, 2, -2."""
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if ord in ("nuc", 2, -2) or A._data.dtype.kind not in "fcV":   # (half types: SVD-free norms)
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
        return _out(vector_norm(A, 2, (d0, d1), keepdim), out, **_MATRIX_NORM_OUT)
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
        return _out(r, out, **_MATRIX_NORM_OUT)
    if isinstance(ord, str) or ord not in (1, -1, np.inf, -np.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    # 1-norms sum down columns (over d0) then take max over d1; inf-norms the other way
    sum_dim, red_dim = (d0, d1) if abs(ord) == 1 else (d1, d0)
    s = vector_norm(A, 1, sum_dim, keepdim=keepdim)
    if not keepdim and red_dim > sum_dim:   # (the summed dim is gone)
        red_dim -= 1
    r = s.amax(red_dim, keepdim=keepdim) if ord > 0 else s.amin(red_dim, keepdim=keepdim)
    return _out(r, out, **_MATRIX_NORM_OUT)


# (torch's matrix_norm and norm compute out of place, then copy into out=)
_MATRIX_NORM_OUT = dict(msg="linalg.matrix_norm expected out tensor dtype {want} but got: {got}",
                        grad="copy")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """Vector or matrix norm: a string ord or a 2-tuple dim means a matrix norm; ord=None is the
    2-norm of the flattened input (or Frobenius over a 2-tuple dim)."""
    r = _norm(A, ord, dim, keepdim, dtype)
    return _out(r, out, msg="linalg.norm expected out tensor dtype {want} but got: {got}",
                grad="copy")


def _norm(A, ord, dim, keepdim, dtype, out=None):
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype,
                               out=out)
        if isinstance(ord, str) and len(dim) == 1:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim[0]}")
        if len(dim) != 1:
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {list(dim)}")
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype, out=out)
    if A._data.ndim == 2 or isinstance(ord, str) and A._data.ndim < 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype, out=out)
    if A._data.ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype, out=out)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D "
                       f"or 2D. Got {A._data.ndim}D.")


# ---------------------------------------------------------------------------------------------
# triangular solves, and the solves and inverses built on them (Cholesky, LU)

def _trsm(a, b, *, upper, unit=False, trans=0):
    """op(A) X = B over broadcast batch dims by BLAS trsm (op: A, A^T for trans=1, A^H for 2).
    Only A's upper (lower) triangle is read, its diagonal as ones when unit; a zero pivot gives
    inf/NaN, not an error, as in torch."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    dt = np.result_type(a, b)
    out = np.empty(batch + b.shape[-2:], dt)
    if out.size == 0:
        return out
    trsm = _scipy_linalg().get_blas_funcs("trsm", (out,))
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    for idx in np.ndindex(*batch):
        out[idx] = trsm(1.0, a[idx], b[idx], lower=int(not upper), trans_a=trans,
                        diag=int(unit))
    return out


class SolveTriangular(ArrayFunction):
    """X with op(A) X = B for triangular A (op(A) = A^T with trans), batch dims broadcast.
    grads: gB = op(A)^{-H} g, g_op(A) = -gB X^H, gA kept on the triangle read (the diagonal
    dropped when unitriangular)."""

    def forward(ctx, a, b, *, upper, unit=False, trans=False):
        ctx.upper, ctx.unit, ctx.trans = upper, unit, trans
        x = _trsm(a, b, upper=upper, unit=unit, trans=int(trans))
        ctx.save_for_backward(a, x)
        return x

    def backward(ctx, g):
        a, x = ctx.saved_tensors
        if ctx.trans:   # op(A)^H = conj(A): the same triangle
            gb = SolveTriangular.apply(a.conj() if a.is_complex() else a, g, upper=ctx.upper,
                                       unit=ctx.unit)
        else:           # A^H: the other triangle
            gb = SolveTriangular.apply(a.mH, g, upper=not ctx.upper, unit=ctx.unit)
        ga = None
        if ctx.needs_input_grad[0]:
            ga = -(gb @ x.mH)
            ga = ga.mT if ctx.trans else ga
            ga = ga.triu(int(ctx.unit)) if ctx.upper else ga.tril(-int(ctx.unit))
        return ga, gb

    def name(self):
        return "LinalgSolveTriangularBackward0"


def _tri_solve(A, B, upper, unit=False, left=True):
    """A X = B (X A = B when not left) for triangular A; no argument checks."""
    if left:
        return SolveTriangular.apply(A, B, upper=upper, unit=unit)
    return SolveTriangular.apply(A, B.mT, upper=upper, unit=unit, trans=True).mT


def _kernel_dtype(A, kernel):
    """torch's error for a dtype that the CPU kernel lacks (integers, bool, half types)."""
    if A._data.dtype.kind not in "fc" or A._data.dtype.itemsize < 4:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{A.dtype._legacy}'")


def _promote(*ts):
    from ember._dtype import result_type
    from ember._ops._helpers import to_dtype
    dt = result_type(*ts)
    return [t if t.dtype == dt else to_dtype(t, dt) for t in ts]


def _check_batches(A, B, fname, eq):
    try:
        np.broadcast_shapes(A._data.shape[:-2], B._data.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{fname}: Incompatible shapes of A and B for the equation {eq} "
                           f"({_shp(A)} and {_shp(B)})") from None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B (X A = B when not left) for upper or lower triangular A: only that
    triangle is read (its diagonal as ones when unitriangular). Batch dims broadcast, dtypes
    promote; a zero on the diagonal gives inf/NaN rather than an error."""
    fname = "linalg.solve_triangular"
    _square(A, fname)
    if B._data.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor B must have at least 2 dimensions.")
    n = A._data.shape[-1]
    eq = "AX = B" if left else "XA = B"
    if (B._data.shape[-2] if left else B._data.shape[-1]) != n:
        raise RuntimeError(f"{fname}: Incompatible shapes of A and B for the equation {eq} "
                           f"({_shp(A)} and {_shp(B)})")
    _check_batches(A, B, fname, eq)
    A, B = _promote(A, B)
    _kernel_dtype(A, "triangular_solve_cpu")
    return _out(_tri_solve(A, B, upper, unitriangular, left), out,
                msg="expected scalar type {want} but found {got}")


class CholeskySolve(ArrayFunction):
    """X with A X = B for A = L L^H (U^H U when upper) given the factor, of which only the
    triangle is read. grads: gB = A^{-1} g and, with C = gB X^H + X gB^H, gL = -C L (gU = -U C):
    torch's formula, which gives the unread triangle a gradient too."""

    def forward(ctx, b, f, *, upper):
        ctx.upper = upper
        x = _cholesky_solve(f, b, upper)
        ctx.save_for_backward(f, x)
        return x

    def backward(ctx, g):
        f, x = ctx.saved_tensors
        gb = CholeskySolve.apply(g, f, upper=ctx.upper)
        gf = None
        if ctx.needs_input_grad[1]:
            c = gb @ x.mH
            c = c + c.mH
            gf = -(f @ c) if ctx.upper else -(c @ f)
        return gb, gf


def _cholesky_solve(f, b, upper):
    if upper:   # U^H (U X) = B
        return _trsm(f, _trsm(f, b, upper=True, trans=2), upper=True)
    return _trsm(f, _trsm(f, b, upper=False), upper=False, trans=2)


def cholesky_solve(B, L, upper=False, *, out=None):
    """X with (L L^H) X = B, or (U^H U) X = B with upper=True, from a Cholesky factor; batch
    dims broadcast. B must be a batch of matrices (n, k)."""
    if B._data.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B._data.ndim} "
                           f"dimensions instead")
    if L._data.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {L._data.ndim} "
                           f"dimensions instead")
    if B._data.dtype != L._data.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{B.dtype._legacy} and A of type {L.dtype._legacy} instead.")
    _square(L, "cholesky_solve", prefix=False)
    n = L._data.shape[-1]
    if B._data.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is {n} "
                           f"by {n} but each b matrix is {B._data.shape[-2]} by "
                           f"{B._data.shape[-1]}")
    _kernel_dtype(L, "cholesky_solve_cpu")
    return _out(CholeskySolve.apply(B, L, upper=upper), out, "cholesky_solve")


class CholeskyInverse(ArrayFunction):
    """(L L^H)^{-1} (or (U^H U)^{-1}) from a Cholesky factor, reading its triangle only.
    grad, with R the result: -R (G + G^H) R L (-U R (G + G^H) R), torch's formula."""

    def forward(ctx, f, *, upper):
        ctx.upper = upper
        zero = np.diagonal(f, 0, -2, -1) == 0
        if zero.any():
            flat = zero.reshape(-1, f.shape[-1])
            idx = int(np.nonzero(flat.any(-1))[0][0])
            raise LinAlgError(f"cholesky_inverse: {_batch_prefix(f, idx)}The diagonal element "
                              f"{int(np.argmax(flat[idx])) + 1} is zero, the inversion could "
                              f"not be completed because the input matrix is singular.")
        eye = np.broadcast_to(np.eye(f.shape[-1], dtype=f.dtype), f.shape)
        r = _cholesky_solve(f, eye, upper)
        ctx.save_for_backward(f, r)
        return r

    def backward(ctx, g):
        f, r = ctx.saved_tensors
        c = r @ (g + g.mH) @ r
        return -(f @ c) if ctx.upper else -(c @ f)


def cholesky_inverse(L, upper=False, *, out=None):
    """Inverse of A = L L^H (U^H U with upper=True) from its Cholesky factor."""
    _square(L, "cholesky_inverse")
    _kernel_dtype(L, "cholesky_inverse_out_cpu")
    return _out(CholeskyInverse.apply(L, upper=upper), out, "cholesky_inverse")


# ---------------------------------------------------------------------------------------------
# LU: lu_factor (packed, LAPACK getrf), lu (unpacked), lu_unpack, lu_solve

class LUFactor(ArrayFunction):
    """Partially pivoted A = P L U packed as LAPACK's getrf leaves it: one (m, n) matrix holding
    L's strict lower part and U, 1-based int32 row-swap pivots, and info (the first zero pivot,
    1-based, or 0). The gradient is that of A = P L U (see `_lu_backward`) for the L and U that
    `lu_unpack` reads from the packed matrix."""

    def forward(ctx, a):
        m, n = a.shape[-2:]
        k = min(m, n)
        lu = np.empty(a.shape, a.dtype)
        piv = np.empty(a.shape[:-2] + (k,), np.int32)
        info = np.zeros(a.shape[:-2], np.int32)
        if a.size:
            getrf = _scipy_linalg().get_lapack_funcs("getrf", (a,))
            for idx in np.ndindex(*a.shape[:-2]):
                lu[idx], p, info[idx] = getrf(a[idx])
                piv[idx] = p + 1
        else:
            piv[...] = np.arange(1, k + 1, dtype=np.int32)
        ctx.save_for_backward(lu, piv)
        return lu, piv, info

    def backward(ctx, glu, gpiv, ginfo):
        lu, piv = ctx.saved_tensors
        P, L, U = lu_unpack(lu, piv)
        k = min(lu.shape[-2:])
        return _lu_backward(P, L, U, glu[..., :, :k].tril(-1), glu[..., :k, :].triu())

    def name(self):
        return "LinalgLuFactorExBackward0"


def _lu_backward(P, L, U, gL, gU):
    """A_bar for A = P L U. Square: P L^{-H} [tril(L^H gL, -1) + triu(gU U^H)] U^{-H}. Tall
    (m > n): the rows below n give L2 = A2 U^{-1}, so gA2 = gL2 U^{-H}, and U gets
    -L2^H gA2 more. Wide (m < n): the columns past m give U2 = L^{-1} P^T A2, so
    gA2 = P L^{-H} gU2, and L gets -L^{-H} gU2 U2^H more."""
    m, n = L.shape[-2], U.shape[-1]

    def square(L, U, gL, gU):
        phi = (L.mH @ gL).tril(-1) + (gU @ U.mH).triu()
        x = _tri_solve(L.mH, phi, upper=True, unit=True)
        return _tri_solve(U.mH, x, upper=False, left=False)
    if m == n:
        return P @ square(L, U, gL, gU)
    if m > n:
        gA2 = _tri_solve(U.mH, gL[..., n:, :], upper=False, left=False)
        gA1 = square(L[..., :n, :], U, gL[..., :n, :], gU - L[..., n:, :].mH @ gA2)
        return P @ _cat([gA1, gA2], -2)
    gA2 = _tri_solve(L.mH, gU[..., m:], upper=True, unit=True)
    gA1 = square(L, U[..., :m], gL - gA2 @ U[..., m:].mH, gU[..., :m])
    return P @ _cat([gA1, gA2], -1)


def _lu_input(A, fname, pivot):
    if A._data.ndim < 2:
        raise RuntimeError(f"{fname}: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A._data.shape)} instead")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    _kernel_dtype(A, "lu_cpu")


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """(LU, pivots, info): LU factors packed in one matrix, 1-based int32 pivots and LAPACK's
    info (k > 0: U[k, k] is exactly zero); singular input is no error here."""
    _lu_input(A, "torch.lu_factor", pivot)
    r = linalg_lu_factor_ex(LUFactor.apply(A))
    if check_errors:
        _lu_check(A, r[2], "torch.linalg.lu_factor_ex")
    return _out(r, out)


def _lu_check(A, info, fname):
    bad = np.nonzero(info._data.reshape(-1) > 0)[0]
    if bad.size:
        i = int(bad[0])
        k = int(info._data.reshape(-1)[i])
        raise RuntimeError(f"{fname}: {_batch_prefix(A._data, i)}U[{k},{k}] is zero and using "
                           f"it on lu_solve would result in a division by zero. If you still "
                           f"want to perform the factorization, consider calling "
                           f"linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor(A, *, pivot=True, out=None):
    """(LU, pivots) as lu_factor_ex, raising when some U has a zero on its diagonal."""
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    _lu_check(A, info, "torch.linalg.lu_factor")
    return _out(linalg_lu_factor((LU, piv)), out)


def lu(A, *, pivot=True, out=None):
    """(P, L, U) with A = P L U: P (m, m) permutation, L (m, k) unit lower, U (k, n) upper."""
    _lu_input(A, "linalg.lu", pivot)
    LU, piv, _ = LUFactor.apply(A)
    return _out(linalg_lu(lu_unpack(LU, piv)), out)


def _perm_matrix(piv, m, dtype):
    """P with A = P L U from getrf's 1-based row swaps (row i swapped with row piv[i])."""
    k = piv.shape[-1]
    flat = piv.reshape(-1, k).astype(np.int64) - 1
    perm = np.broadcast_to(np.arange(m), (flat.shape[0], m)).copy()
    rows = np.arange(flat.shape[0])
    for i in range(k):
        j = flat[:, i]
        held = perm[:, i].copy()
        perm[:, i] = perm[rows, j]
        perm[rows, j] = held
    # (P^T A)[i] = A[perm[i]], so P[perm[i], i] = 1
    P = perm[:, None, :] == np.arange(m)[None, :, None]
    return P.reshape(piv.shape[:-1] + (m, m)).astype(dtype)


def _check_pivots(piv, m, k):
    p = piv._data
    if p.shape[-1:] != (k,) or (p.size and (p.min() < 1 or p.max() > m)):
        raise RuntimeError("pivots passed to lu_unpack must be between 1 and LU.size(-2) "
                           "inclusive.Did you properly pass the result of lu_factor?")


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) from lu_factor's packed result: L = tril(LU, -1) + I (m, k), U = triu(LU)
    (k, n), P from the pivots; the parts not asked for come back as empty tensors."""
    if LU_data._data.ndim < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(LU_data._data.shape)} instead")
    if LU_pivots._data.dtype != np.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                           "torch.int32 dtype.\nNote: this function is intended to be used with "
                           "the output produced by torch.linalg.lu_factor")
    m, n = LU_data._data.shape[-2:]
    k = min(m, n)
    dt = LU_data._data.dtype
    empty = Tensor._make(np.zeros((0,), dt))
    P = L = U = empty
    if unpack_data:
        L = LU_data[..., :, :k].tril(-1) + Tensor._make(np.eye(m, k, dtype=dt))
        U = LU_data[..., :k, :].triu()
    if unpack_pivots:
        _check_pivots(LU_pivots, m, k)
        P = Tensor._make(_perm_matrix(LU_pivots._data, m, dt))
    return _out(_rt.lu_unpack((P, L, U)), out)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """X with A X = B (X A = B when not left; A^H in place of A when adjoint) for A = P L U
    given by lu_factor; batch dims broadcast."""
    fname = "linalg.lu_solve"
    if B._data.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor B must have at least 2 dimensions.")
    _square(LU, "torch.linalg.lu_solve")
    if LU._data.dtype != B._data.dtype:
        raise RuntimeError(f"{fname}: Expected LU and B to have the same dtype, but found LU of "
                           f"type {LU.dtype._legacy} and B of type {B.dtype._legacy} instead")
    if pivots._data.dtype != np.int32:
        raise RuntimeError(f"{fname}: pivots should be a Tensor of scalar type torch.int32")
    n = LU._data.shape[-1]
    if pivots._data.shape[-1:] != (n,):
        raise RuntimeError(f"{fname}: Number of pivots per batch should be same as the "
                           f"dimension of the matrix")
    eq = "AX = B" if left else "XA = B"
    if (B._data.shape[-2] if left else B._data.shape[-1]) != n:
        raise RuntimeError(f"{fname}: Incompatible shapes of A and B for the equation {eq} "
                           f"({_shp(LU)} and {_shp(B)})")
    _check_batches(LU, B, fname, eq)
    _kernel_dtype(LU, "lu_solve_cpu")
    P = Tensor._make(_perm_matrix(pivots._data, n, LU._data.dtype))
    if left and not adjoint:     # U^{-1} L^{-1} P^T B
        X = _tri_solve(LU, _tri_solve(LU, P.mT @ B, upper=False, unit=True), upper=True)
    elif left:                   # P L^{-H} U^{-H} B
        LUh = LU.mH
        X = P @ _tri_solve(LUh, _tri_solve(LUh, B, upper=False), upper=True, unit=True)
    elif not adjoint:            # B U^{-1} L^{-1} P^T
        Y = _tri_solve(LU, B, upper=True, left=False)
        X = _tri_solve(LU, Y, upper=False, unit=True, left=False) @ P.mT
    else:                        # B P L^{-H} U^{-H}
        LUh = LU.mH
        Y = _tri_solve(LUh, B @ P, upper=True, unit=True, left=False)
        X = _tri_solve(LUh, Y, upper=False, left=False)
    return _out(X, out)


# ---------------------------------------------------------------------------------------------
# matrix exponential

class MatrixExp(ArrayFunction):
    """exp(A) by scaling and squaring with a Padé approximant (SciPy's expm); half types are
    computed in float32. grad: the top-right block of exp([[A^H, G], [0, A^H]]), i.e. the
    Fréchet derivative of exp at A^H in direction G, as torch computes it."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        if a.size == 0:
            return a.copy()
        wide = a.astype(np.float32) if a.dtype.itemsize == 2 else a
        return np.asarray(_scipy_linalg().expm(wide)).astype(a.dtype, copy=False)

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        n = a.shape[-1]
        ah = a.mH
        zero = zeros_of(g)
        big = _cat([_cat([ah, g], -1), _cat([zero, ah], -1)], -2)
        return MatrixExp.apply(big)[..., :n, n:]

    def name(self):
        return "LinalgMatrixExpBackward0"


def matrix_exp(A):
    """exp(A) = sum_k A^k / k! of each square matrix (float, complex and half types)."""
    fname = "linalg.matrix_exp"
    _square(A, fname)
    dt = A._data.dtype
    if dt.kind not in "fc" and A.dtype._legacy != "BFloat16":
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. "
                           f"Got {A.dtype._legacy}")
    return MatrixExp.apply(A)
