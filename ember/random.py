"""`torch.random`: seeding and the state of the default CPU generator, and `fork_rng`."""
import contextlib

from ember._ops.random import (Generator, default_generator, get_rng_state, initial_seed,
                               manual_seed, seed, set_rng_state)

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed",
           "manual_seed", "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type=None):
    """Run the block with the default generator's state saved and restored afterwards, so
    random draws inside it leave the outer stream untouched. ember has CPU generators only;
    `devices` and `device_type` are accepted for torch's signature."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
