"""`nn.utils.skip_init`: build a module whose parameters and buffers are left uninitialized."""
import inspect

from ember.nn.modules.module import Module

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """module_cls(*args, **kwargs) with its parameters and buffers replaced by uninitialized
    memory (torch.empty). The class must take a `device` argument, as in torch. ember has no
    meta device, so the constructor runs and the tensors are then re-allocated; as with torch's
    meta-device construction, the random generator's state is left untouched."""
    import ember
    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    device = kwargs.pop("device", "cpu")
    kwargs["device"] = device
    state = ember.get_rng_state()
    try:
        module = module_cls(*args, **kwargs)
    finally:
        ember.set_rng_state(state)
    return module.to_empty(device=device)
