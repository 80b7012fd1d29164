"""The one door to array libraries: NumPy on the CPU, CuPy on CUDA, SciPy lazily.

Every other module gets its array namespace from here (`xp_of(array)`), so the choice of array
library lives in one place. SciPy and CuPy are imported on first use only: `import ember` stays fast.
"""
import numpy as np

__all__ = ["np", "xp_of", "scipy_special", "scipy_linalg", "cupy_or_none"]

_cupy = None


def cupy_or_none():
    """CuPy if it is installed and sees a GPU, else None (checked once)."""
    global _cupy
    if _cupy is None:
        try:
            import cupy
            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
        except Exception:  # not installed, or no driver/GPU: CPU only
            _cupy = False
    return _cupy or None


def xp_of(array):
    """The array namespace an array belongs to (NumPy unless it is a CuPy array)."""
    if type(array) is np.ndarray or _cupy is None or _cupy is False:
        return np
    return _cupy if isinstance(array, _cupy.ndarray) else np


def scipy_special(array=None):
    """`scipy.special`, or `cupyx.scipy.special` for a CuPy array; imported on first use."""
    if array is not None and xp_of(array) is not np:
        import cupyx.scipy.special as special
        return special
    import scipy.special as special
    return special


def scipy_linalg(array=None):
    """`scipy.linalg`, or `cupyx.scipy.linalg` for a CuPy array; imported on first use."""
    if array is not None and xp_of(array) is not np:
        import cupyx.scipy.linalg as linalg
        return linalg
    import scipy.linalg as linalg
    return linalg
