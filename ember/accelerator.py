"""`ember.accelerator`: no accelerator on a CPU-only install."""
__all__ = ["is_available", "device_count", "current_accelerator", "current_device_index",
           "synchronize", "empty_cache"]


def is_available():
    return False


def device_count():
    return 0


def current_accelerator(check_available=False):
    return None


def current_device_index():
    raise RuntimeError("Cannot access accelerator device when none is available.")


current_device_idx = current_device_index


def set_device_index(device):
    raise RuntimeError("Cannot access accelerator device when none is available.")


set_device_idx = set_device_index


def synchronize(device=None):
    raise RuntimeError("Cannot access accelerator device when none is available.")


def empty_cache():
    pass
