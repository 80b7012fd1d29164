"""The one door to array libraries: NumPy on the CPU, CuPy on CUDA, SciPy lazily.

Every other module gets its array namespace from here (`xp_of(array)`), so the choice of array
library lives in one place. SciPy and CuPy are imported on first use only: `import ember` stays fast.
"""
import os
import sys

import numpy as np

__all__ = ["np", "xp_of", "scipy_special", "scipy_linalg", "scipy_fft", "cupy_or_none"]


def _keep_freed_memory():
    """Have glibc's malloc keep freed array memory for reuse.

    By default glibc hands each freed block above 128 KiB (rising to at most 32 MiB) back to
    the OS and trims the heap eagerly, so the next array of that size page-faults all of its
    memory in again. A training step frees and re-allocates the same large temporaries every
    step (im2col columns, activations, gradients): measured here, a LeNet step spent 40% of
    its time on that. Arrays up to 32 MiB are therefore served from the heap and up to 256 MiB
    of free heap is kept. Set EMBER_MALLOC=default (or glibc's own MALLOC_MMAP_THRESHOLD_ /
    MALLOC_TRIM_THRESHOLD_) to keep the process's settings."""
    if not sys.platform.startswith("linux") or os.environ.get("EMBER_MALLOC") == "default" or \
            "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return
    import ctypes
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):   # not glibc: nothing to tune
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 << 20)
    mallopt(m_trim_threshold, 256 << 20)


_keep_freed_memory()

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


def scipy_sparse(array=None):
    """`scipy.sparse`, or `cupyx.scipy.sparse` for a CuPy array; imported on first use."""
    if array is not None and xp_of(array) is not np:
        import cupyx.scipy.sparse as sparse
        return sparse
    import scipy.sparse as sparse
    return sparse


def scipy_fft(array=None):
    """`scipy.fft`, or `cupyx.scipy.fft` for a CuPy array; imported on first use. (NumPy's own
    np.fft runs 5x slower on float32 here, and on one thread.)"""
    if array is not None and xp_of(array) is not np:
        import cupyx.scipy.fft as fft
        return fft
    import scipy.fft as fft
    return fft
