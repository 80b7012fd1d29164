"""ember.linalg: torch.linalg's functions (implemented in ember/_ops/linalg_decomp.py, the
compact factorizations in ember/_ops/linalg_factor.py, compositions in ember/_ops/linalg.py)."""
from ember._ops.linalg_decomp import (  # noqa: F401
    LinAlgError, inv, inv_ex, det, slogdet, solve, solve_ex, cholesky, cholesky_ex, qr, eigh,
    eigvalsh, eig, eigvals, svd, svdvals, pinv, matrix_rank, matrix_power, lstsq, multi_dot,
    vecdot, vector_norm, matrix_norm, norm, cross, diagonal, matmul, solve_triangular,
    matrix_exp, lu, lu_factor, lu_factor_ex, lu_solve)
from ember._ops.linalg_factor import (  # noqa: F401
    householder_product, ldl_factor, ldl_factor_ex, ldl_solve)
from ember._ops.linalg import cond, tensorinv, tensorsolve, linalg_vander as vander  # noqa: F401

__all__ = ["LinAlgError", "inv", "inv_ex", "det", "slogdet", "solve", "solve_ex", "cholesky",
           "cholesky_ex", "qr", "eigh", "eigvalsh", "eig", "eigvals", "svd", "svdvals", "pinv",
           "matrix_rank", "matrix_power", "lstsq", "multi_dot", "vecdot", "vector_norm",
           "matrix_norm", "norm", "cross", "diagonal", "matmul", "solve_triangular", "matrix_exp",
           "lu", "lu_factor", "lu_factor_ex", "lu_solve", "householder_product", "ldl_factor",
           "ldl_factor_ex", "ldl_solve", "cond", "tensorinv", "tensorsolve", "vander"]
