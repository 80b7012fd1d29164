"""Anomaly detection: backward raises naming the op whose gradient went NaN."""
import warnings

from ember.autograd.grad_mode import _DecoratorContextManager

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]


class _Anomaly:
    enabled = False
    check_nan = True


_anomaly = _Anomaly()


def is_anomaly_enabled():
    return _anomaly.enabled


class detect_anomaly(_DecoratorContextManager):
    """Inside, backward checks every node's gradients and raises on NaN, naming the node."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self.prev = _anomaly.enabled
        _anomaly.enabled = self.check_nan

    def __exit__(self, *exc):
        _anomaly.enabled = self.prev

    def clone(self):
        return self.__class__(self.check_nan)


class set_detect_anomaly(_DecoratorContextManager):
    """`set_detect_anomaly(mode)` switches at once; as a context it restores on exit."""

    def __init__(self, mode, check_nan=True):
        self.prev = _anomaly.enabled
        self.mode = mode
        _anomaly.enabled = bool(mode) and check_nan

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _anomaly.enabled = self.prev

    def clone(self):
        return self.__class__(self.mode)
