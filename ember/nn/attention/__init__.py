"""`nn.attention`: choosing the backend of scaled_dot_product_attention. ember has one
implementation (torch's math backend); the flags are kept and restored as in torch, and SDPA
raises torch's error when no backend that runs on the CPU (math, flash) is enabled."""
from ember.backends import SDPBackend, _sdpa_kernel

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


def sdpa_kernel(backends, set_priority=False):
    """Context manager enabling only `backends` (an SDPBackend or a list of them) inside the
    block, in that priority order when set_priority; the previous flags come back on exit.
    Yields {}."""
    return _sdpa_kernel(backends, set_priority)
