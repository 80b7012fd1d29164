"""ember.linalg: torch.linalg's functions (implemented in ember/_ops/linalg_decomp.py)."""
from ember._ops.linalg_decomp import (  # noqa: F401
    LinAlgError, inv, inv_ex, det, slogdet, solve, solve_ex, cholesky, cholesky_ex, qr, eigh,
    eigvalsh, eig, eigvals, svd, svdvals, pinv, matrix_rank, matrix_power, lstsq, multi_dot,
    vecdot, vector_norm, matrix_norm, norm, cross, diagonal, matmul, solve_triangular,
    matrix_exp, lu, lu_factor, lu_factor_ex, lu_solve)

__all__ = ["LinAlgError", "inv", "inv_ex", "det", "slogdet", "solve", "solve_ex", "cholesky",
           "cholesky_ex", "qr", "eigh", "eigvalsh", "eig", "eigvals", "svd", "svdvals", "pinv",
           "matrix_rank", "matrix_power", "lstsq", "multi_dot", "vecdot", "vector_norm",
           "matrix_norm", "norm", "cross", "diagonal", "matmul", "solve_triangular", "matrix_exp",
           "lu", "lu_factor", "lu_factor_ex", "lu_solve"]
