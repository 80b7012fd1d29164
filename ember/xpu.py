"""`ember.xpu` (Intel GPUs) on a machine without one: answers as a torch build without XPU
does - nothing available, no devices, no memory in use - and raises its AssertionError where
a device would be needed. Device-selection code (`if torch.xpu.is_available(): ...`) runs
unchanged."""
from collections import OrderedDict

__all__ = ["is_available", "device_count", "is_initialized", "is_bf16_supported",
           "is_tf32_supported", "current_device", "get_device_name", "get_device_properties",
           "get_device_capability", "synchronize", "set_device", "init", "empty_cache",
           "manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed", "get_rng_state",
           "set_rng_state", "get_rng_state_all", "memory_allocated", "max_memory_allocated",
           "memory_reserved", "max_memory_reserved", "memory_stats", "memory_snapshot",
           "get_arch_list", "get_gencode_flags", "mem_get_info", "set_per_process_memory_fraction",
           "get_per_process_memory_fraction"]


def _not_compiled(*args, **kwargs):
    raise AssertionError("Torch not compiled with XPU enabled")


def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


def is_bf16_supported(including_emulation=True):
    return False


def is_tf32_supported():
    return False


current_device = get_device_name = get_device_properties = get_device_capability = \
    synchronize = set_device = init = initial_seed = get_rng_state = mem_get_info = \
    set_per_process_memory_fraction = get_per_process_memory_fraction = _not_compiled


def set_rng_state(new_state, device="xpu"):
    """torch queues the call until XPU initialises, which never happens here."""


def manual_seed(seed):
    """Seeds XPU generators lazily in torch; without a device there is nothing to seed."""


manual_seed_all = manual_seed


def seed():
    pass


seed_all = seed


def empty_cache():
    pass


def get_rng_state_all():
    return []


def memory_allocated(device=None):
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


def memory_stats(device=None):
    return OrderedDict()


def memory_snapshot():
    return []


def get_arch_list():
    return []


def get_gencode_flags():
    return ""
