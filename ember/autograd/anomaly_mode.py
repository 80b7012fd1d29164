"""Anomaly detection: backward raises naming the op whose gradient went NaN."""
import warnings

from ember.autograd.grad_mode import _DecoratorContextManager

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "set_anomaly_enabled"]


class _Anomaly:
    """Anomaly mode (process-wide, as torch's): whether it is on, whether it checks for NaN,
    and `checking`, both at once (what the engine tests after each node)."""
    enabled = False
    check_nan = True
    checking = False


_anomaly = _Anomaly()


def set_anomaly_enabled(enabled, check_nan=True):
    """Anomaly mode on or off; with check_nan, backward raises on a node's NaN gradient."""
    _anomaly.enabled, _anomaly.check_nan = bool(enabled), bool(check_nan)
    _anomaly.checking = _anomaly.enabled and _anomaly.check_nan


def is_anomaly_enabled():
    return _anomaly.enabled


def is_anomaly_check_nan_enabled():
    return _anomaly.check_nan


class detect_anomaly(_DecoratorContextManager):
    """Inside, backward checks every node's gradients and raises on NaN, naming the node."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self.prev = (_anomaly.enabled, _anomaly.check_nan)
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc):
        set_anomaly_enabled(*self.prev)

    def clone(self):
        return self.__class__(self.check_nan)


class set_detect_anomaly(_DecoratorContextManager):
    """`set_detect_anomaly(mode)` switches at once; as a context it restores on exit."""

    def __init__(self, mode, check_nan=True):
        self.prev = (_anomaly.enabled, _anomaly.check_nan)
        self.mode, self.check_nan = mode, check_nan
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        set_anomaly_enabled(*self.prev)

    def clone(self):
        return self.__class__(self.mode, self.check_nan)
