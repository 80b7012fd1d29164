"""LazyModuleMixin: modules whose parameter shapes come from the first input.

A lazy module holds UninitializedParameter/UninitializedBuffer objects until its first call.
Two hooks carry the protocol, as in torch: a forward pre-hook runs `initialize_parameters(*args)`
(which materializes the tensors in place and initialises them), then removes both hooks and
switches the instance's class to `cls_to_become` (LazyLinear -> Linear); a load_state_dict
pre-hook materializes any uninitialized tensor whose checkpoint entry has a shape, so that the
ordinary copy fills it (the class stays lazy until the first forward, as in torch).
"""
import itertools

from ember.autograd.grad_mode import no_grad
from ember.nn.parameter import is_lazy

__all__ = ["LazyModuleMixin"]


class _LazyHookHandle:
    """Removes one of the two lazy hooks by id from the module's hook dicts. It holds the
    module itself (not a weak reference to a dict), so that a lazy module pickles, and a deep
    copy's handle removes the copy's hook."""

    def __init__(self, module, hook_id, *dict_names):
        self.module = module
        self.id = hook_id
        self.dict_names = dict_names

    def remove(self):
        for name in self.dict_names:
            getattr(self.module, name).pop(self.id, None)


class LazyModuleMixin:
    """Mixed in before the regular module class: `class LazyLinear(LazyModuleMixin, Linear)`.
    Subclasses define `initialize_parameters(input, ...)` and set `cls_to_become`."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        h = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._load_hook = _LazyHookHandle(self, h.id, "_load_state_dict_pre_hooks")
        h = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)
        self._initialize_hook = _LazyHookHandle(self, h.id, "_forward_pre_hooks",
                                                "_forward_pre_hooks_with_kwargs")

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        # an uninitialized tensor cannot be detached: it goes into the state_dict as itself
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars or is_lazy(param) else \
                    param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars or is_lazy(buf) else buf.detach()

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys,
                        unexpected_keys, error_msgs):
        """Materialize each uninitialized tensor whose checkpoint entry is initialized, with
        the entry's shape; load_state_dict then copies the values."""
        for name, param in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if param is None or key not in state_dict or not is_lazy(param):
                continue
            incoming = state_dict[key]
            if not is_lazy(incoming):
                with no_grad():
                    param.materialize(incoming.shape)

    def initialize_parameters(self, *args, **kwargs):
        """Materialize and initialise the parameters from the first input batch."""
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{self.__class__.__name__}")

    def has_uninitialized_params(self):
        """Whether any parameter or buffer of this module (not its children) is still lazy."""
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(),
                                                       self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        """The forward pre-hook: initialise from the call's inputs, then become the regular
        class (the hooks are removed, so later calls take the hook-free fast path)."""
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        module._load_hook.remove()
        del module._initialize_hook
        del module._load_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with "
                           "`DataParallel`. Run a dummy forward pass to correctly initialize "
                           "the modules")
