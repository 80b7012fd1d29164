"""Randomized and iterative partial decompositions: svd_lowrank, pca_lowrank (Halko, Martinsson
and Tropp's randomized range finder) and lobpcg (Knyazev's locally optimal block conjugate
gradient eigensolver).

svd_lowrank and pca_lowrank are compositions of differentiable ops (matmul, qr, svd) on a
random Gaussian sketch drawn from ember's generator, so their gradients come from those ops, as
in torch. lobpcg iterates on arrays and has its own backward: that of the k eigenpairs of a
symmetric A (torch's, for B = I).
"""
import numpy as np

from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["svd_lowrank", "pca_lowrank", "lobpcg"]


# ---------------------------------------------------------------------------------------------
# svd_lowrank, pca_lowrank

def _range_basis(A, q, niter):
    """Q with orthonormal columns approximately spanning the range of A (m >= n): a Gaussian
    sketch A R (R n x q), sharpened by `niter` power iterations, each re-orthonormalized."""
    from ember import randn, float32
    from ember._ops.linalg_decomp import qr
    dt = A.dtype if A.is_floating_point() or A.is_complex() else float32
    R = randn(A.shape[-1], q, dtype=dt)
    Q = qr(A @ R).Q
    for _ in range(niter):
        Q = qr(A.mH @ Q).Q
        Q = qr(A @ Q).Q
    return Q


def _svd_tall(A, q, niter):
    from ember._ops.linalg_decomp import svd
    Q = _range_basis(A, q, niter)
    Ub, S, Vh = svd(Q.mH @ A, full_matrices=False)
    return Q @ Ub, S, Vh.mH


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) with A - M ~ U diag(S) V^H of rank at most q (m x q, q, n x q; fewer columns
    when min(m, n) < q): randomized, so results vary with the generator's state but are exact
    for a matrix of rank <= q. V, not V^H, as torch.svd. M broadcasts to A's shape."""
    m, n = A.shape[-2:]
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    if A.dtype._legacy in ("Half", "BFloat16"):
        raise NotImplementedError(f"\"geqrf_cpu\" not implemented for '{A.dtype._legacy}'")
    if M is not None:
        if M.dtype != A.dtype:   # torch multiplies M by the sketch: matmul's error
            from ember._ops.linalg import _cname
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{_cname(M)} != {_cname(A)}")
        A = A - M.expand(*A.shape)
    if m < n:   # sketch the smaller side: A^H = V S U^H
        V, S, U = _svd_tall(A.mH, q, niter)
        return U, S, V
    return _svd_tall(A, q, niter)


def pca_lowrank(A, q=None, center=True, niter=2):
    """(U, S, V) of svd_lowrank on A with its column means removed (center=True): the
    principal directions are V's columns, S**2 / (m - 1) the variances along them. q defaults
    to min(6, m, n) and may not exceed min(m, n)."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if center:
        A = A - A.mean(-2, keepdim=True)
    return svd_lowrank(A, q, niter)


# ---------------------------------------------------------------------------------------------
# lobpcg

def _b_orthonormalize(S, B):
    """Columns spanning what S spans, B-orthonormal, dropping numerically dependent directions:
    columns scaled to unit B-norm, then whitened by the eigendecomposition of the Gram matrix
    (twice, which restores orthogonality lost to rounding)."""
    for _ in range(2):
        BS = S if B is None else B @ S
        norms = np.sqrt(np.maximum(np.einsum("ij,ij->j", S, BS), 0))
        keep = norms > 0
        S, BS = S[:, keep] / norms[keep], BS[:, keep] / norms[keep]
        d, V = np.linalg.eigh(S.T @ BS)
        good = d > d.max(initial=0) * 1e-13
        S = S @ (V[:, good] / np.sqrt(d[good]))
    return S


def _lobpcg_one(A, B, iK, X, k, largest, niter, tol):
    """The n = X.shape[1] extreme eigenpairs of A x = lambda B x (float64 arrays) by LOBPCG:
    Rayleigh-Ritz on span[X, W, P] with W the preconditioned residuals and P the last update
    direction, W and P B-orthogonalized against X. Stops when the first k relative residuals
    ||A x - lambda B x|| / ((||A|| + |lambda| ||B||) ||x||) are below tol."""
    sign = -1.0 if largest else 1.0   # eigh sorts ascending: search -A for the largest
    anorm = np.linalg.norm(A, 2)
    bnorm = 1.0 if B is None else np.linalg.norm(B, 2)

    def rayleigh_ritz(Q, n):
        theta, Z = np.linalg.eigh(sign * (Q.T @ (A @ Q)))
        return sign * theta[:n], Z[:, :n]

    n = X.shape[1]
    X = _b_orthonormalize(X, B)
    E, Z = rayleigh_ritz(X, n)
    X = X @ Z
    P = None
    step = 0
    while niter < 0 or step < niter:
        BX = X if B is None else B @ X
        R = A @ X - BX * E
        err = np.linalg.norm(R, axis=0) / ((anorm + np.abs(E) * bnorm) *
                                           np.linalg.norm(X, axis=0))
        if np.all(err[:k] < tol):
            break
        step += 1
        W = R if iK is None else iK @ R
        S = W if P is None else np.concatenate([W, P], 1)
        for _ in range(2):              # B-orthogonal to X (X is B-orthonormal), twice
            S = _b_orthonormalize(S - X @ (BX.T @ S), B)
        if S.shape[1] == 0:
            break
        Q = np.concatenate([X, S], 1)
        E, Z = rayleigh_ritz(Q, n)
        P = S @ Z[n:]
        X = Q @ Z
    return E, X


class Lobpcg(ArrayFunction):
    """k extreme eigenpairs (E, X) of a symmetric A (B = I), or of A x = lambda B x. Backward
    (B = I only, as torch): with y_i = (A - E_i I)^+ (I - x_i x_i^T) gX_i, the solution of the
    bordered system [[A - E_i I, x_i], [x_i^T, 0]] [y_i; 0] = [(I - x_i x_i^T) gX_i; 0],
    gA = X diag(gE) X^T - sum_i y_i x_i^T: the gradient of the k eigenpairs of eigh."""

    def forward(ctx, a, *b, x0, ik, k, largest, niter, tol):
        ctx.generalized = bool(b)
        batch, m = a.shape[:-2], a.shape[-1]
        E = np.empty(batch + (k,), a.dtype)
        X = np.empty(batch + (m, k), a.dtype)
        for idx in np.ndindex(*batch):
            bi = b[0][idx].astype(np.float64) if b else None
            iki = ik[idx].astype(np.float64) if ik is not None else None
            e, x = _lobpcg_one(a[idx].astype(np.float64), bi, iki, x0[idx].astype(np.float64),
                               k, largest, niter, tol)
            E[idx], X[idx] = e[:k], x[:, :k]
        ctx.save_for_backward(a, E, X)
        return E, X

    def backward(ctx, gE, gX):
        if ctx.generalized:
            raise ValueError("lobpcg.backward does not support backward with B != I yet.")
        from ember._ops.manipulation import cat
        from ember._ops.linalg_decomp import solve
        a, E, X = ctx.saved_tensors
        gA = (X * gE.unsqueeze(-2)) @ X.mT
        if gX is None or not bool((gX._data != 0).any()):
            return gA
        m, dt = a.shape[-1], a._data.dtype
        eye = Tensor._make(np.eye(m, dtype=dt))
        corner = Tensor._make(np.zeros(a.shape[:-2] + (1, 1), dt))
        for i in range(X.shape[-1]):
            x = X[..., :, i:i + 1]
            g = gX[..., :, i:i + 1]
            g = g - x @ (x.mT @ g)
            top = cat([a - E[..., i, None, None] * eye, x], -1)
            bordered = cat([top, cat([x.mT, corner], -1)], -2)
            y = solve(bordered, cat([g, corner], -2))[..., :m, :]
            gA = gA - y @ x.mT
        return gA

    def name(self):
        return "LOBPCGAutogradFunctionBackward"


def lobpcg(A, k=None, B=None, X=None, n=None, iK=None, niter=None, tol=None, largest=None,
           method=None, tracker=None, ortho_iparams=None, ortho_fparams=None,
           ortho_bparams=None):
    """(E, X): the k largest (largest=True, the default; descending) or smallest (ascending)
    eigenvalues of the symmetric A x = lambda B x (B = I when None) and their B-orthonormal
    eigenvectors, by LOBPCG with n >= k search vectors (X's columns, else random ones from
    ember's generator) and preconditioner iK. A must have at least 3 n rows. niter caps the
    iterations (-1: until converged; default 1000); tol bounds the relative residual (default
    eps ** 0.5 of A's dtype). When A requires grad it is symmetrized, (A + A^T) / 2, and the
    gradient is that of the eigenpairs of eigh (B = I only). method ('ortho', 'basic') and the
    ortho_* parameters are accepted; one robust orthogonalizing iteration serves both. Dense
    real inputs only; `tracker` is not supported."""
    if tracker is not None:
        raise NotImplementedError("ember: lobpcg's tracker argument is not supported")
    if A.shape[-2] != A.shape[-1]:
        raise AssertionError(f"A must be square, got shape {A.shape}")
    if not A.is_floating_point() or A.dtype._legacy in ("Half", "BFloat16"):
        from ember._ops.linalg import _cname
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_cname(A)} != "
                           f"float")
    m = A.shape[-1]
    if X is not None:
        n = X.shape[-1]
        k = n if k is None else k
    else:
        k = 1 if k is None else k
        n = k if n is None else n
    if m < 3 * n:
        raise ValueError(f"LOBPCG algorithm is not applicable when the number of A rows (={m}) "
                         f"is smaller than 3 x the number of requested eigenpairs (={n})")
    k = min(k, n)
    if X is None:
        from ember import randn
        X = randn(*A.shape[:-1], n, dtype=A.dtype)
    x0 = np.broadcast_to(X._data, A.shape[:-2] + (m, n))
    ik = None if iK is None else np.broadcast_to(iK._data, A.shape)
    niter = 1000 if niter is None else int(niter)
    tol = float(np.finfo(A._data.dtype).eps ** 0.5) if tol is None else float(tol)
    largest = True if largest is None else bool(largest)
    from ember.autograd.grad_mode import is_grad_enabled
    if A.requires_grad and is_grad_enabled():
        A = (A + A.mT) / 2
    extra = () if B is None else (B.expand(*A.shape),)
    E, V = Lobpcg.apply(A, *extra, x0=x0, ik=ik, k=k, largest=largest, niter=niter, tol=tol)
    return E, V
