"""torch.signal: signal-processing helpers. Today it holds one submodule, `windows`."""
from ember.signal import windows

__all__ = ["windows"]
