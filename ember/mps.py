"""`ember.mps` (Apple GPUs) on a machine without one: `is_available()` is False and
`device_count()` 0, as in a torch without the MPS backend; everything that would touch the
device raises torch's RuntimeError naming the backend call it cannot make."""

__all__ = ["is_available", "device_count", "synchronize", "empty_cache", "manual_seed", "seed",
           "get_rng_state", "set_rng_state", "current_allocated_memory",
           "driver_allocated_memory", "recommended_max_memory",
           "set_per_process_memory_fraction"]


def _no_backend(call):
    def fn(*args, **kwargs):
        raise RuntimeError(f"Cannot execute {call}() without MPS backend.")
    return fn


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Seeds the MPS generator in torch only where the backend exists: a no-op here."""


synchronize = _no_backend("deviceSynchronize")
empty_cache = _no_backend("emptyCache")
seed = get_rng_state = set_rng_state = _no_backend("getDefaultGenerator")
current_allocated_memory = _no_backend("getCurrentAllocatedMemory")
driver_allocated_memory = _no_backend("getDriverAllocatedMemory")
recommended_max_memory = _no_backend("getRecommendedMaxMemory")
set_per_process_memory_fraction = _no_backend("setMemoryFraction")
