"""`ember.cuda` on a machine without CUDA: answers truthfully, as a CPU-only torch does."""
__all__ = ["is_available", "device_count", "current_device", "get_device_name", "synchronize",
           "empty_cache", "manual_seed", "manual_seed_all", "seed", "seed_all",
           "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats", "is_initialized", "set_device", "get_device_capability",
           "device", "init", "is_bf16_supported"]


def _not_compiled(*args, **kwargs):
    raise AssertionError("Torch not compiled with CUDA enabled")


def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


def is_bf16_supported(including_emulation=True):
    return False


current_device = get_device_name = get_device_properties = synchronize = set_device = \
    get_device_capability = init = _not_compiled


def empty_cache():
    pass


def manual_seed(seed):
    pass


manual_seed_all = manual_seed


def seed():
    pass


seed_all = seed


def memory_allocated(device=None):
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


def reset_peak_memory_stats(device=None):
    pass


class device:
    """Context manager selecting a CUDA device; unusable without CUDA."""

    def __init__(self, device):
        self.idx = device

    def __enter__(self):
        _not_compiled()

    def __exit__(self, *exc):
        return False
