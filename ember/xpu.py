"""`ember.xpu` (Intel GPUs) on a machine without one: answers as a torch build without XPU
does - nothing available, no devices, no memory in use - and raises its AssertionError where
a device would be needed. Device-selection code (`if torch.xpu.is_available(): ...`) runs
unchanged."""
from collections import OrderedDict

# what answers the same for every absent device (no devices, nothing to seed, no memory used)
from ember.cuda import (device_count, empty_cache, is_available, is_bf16_supported,
                        is_initialized, manual_seed, manual_seed_all, max_memory_allocated,
                        max_memory_reserved, memory_allocated, memory_reserved, seed, seed_all)

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


def is_tf32_supported():
    return False


current_device = get_device_name = get_device_properties = get_device_capability = \
    synchronize = set_device = init = initial_seed = get_rng_state = mem_get_info = \
    set_per_process_memory_fraction = get_per_process_memory_fraction = _not_compiled


def set_rng_state(new_state, device="xpu"):
    """torch queues the call until XPU initialises, which never happens here."""


def get_rng_state_all():
    return []


def memory_stats(device=None):
    return OrderedDict()


def memory_snapshot():
    return []


def get_arch_list():
    return []


def get_gencode_flags():
    return ""
