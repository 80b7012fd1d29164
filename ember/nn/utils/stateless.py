"""`nn.utils.stateless.functional_call` (deprecated in torch for torch.func.functional_call):
call a module with some of its parameters and buffers replaced by the given tensors, then put
the module's own tensors back."""
from contextlib import contextmanager
import warnings

from ember._tensor import Tensor

__all__ = ["functional_call"]

_MISSING = object()   # marks a name the module did not have before the call


def _tied_names(module):
    """name -> every name (parameter or buffer) bound to the same tensor, for tied tensors."""
    by_tensor = {}
    for name, t in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        by_tensor.setdefault(id(t), set()).add(name)
    return {n: names for names in by_tensor.values() if len(names) > 1 for n in names}


def _untie(module, tensors):
    """Extend `tensors` so that a value given for one of several tied names replaces them all
    (giving different values to tied names is an error)."""
    tied = _tied_names(module)
    given = [n for n in tensors if n in tied]
    for name in given:
        names = tied[name]
        values = {id(tensors[n]) for n in names if n in tensors}
        if len(values) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(names)}, "
                             "which are tied. Consider using tie_weights=False")
    out = dict(tensors)
    for name in given:
        for other in tied[name]:
            out[other] = tensors[name]
    return out


def _swap(module, path, value):
    """Put `value` (a tensor, None or _MISSING) at dotted `path`; return what was there."""
    prefix, _, name = path.rpartition(".")
    owner = module.get_submodule(prefix)
    if not isinstance(value, Tensor) and value is not None and value is not _MISSING:
        raise TypeError(f"{value} is not an instance of torch.Tensor")
    for store in (owner._parameters, owner._buffers):
        if name in store:   # bypasses register_*: a plain tensor may stand in for a Parameter
            old = store[name]
            if value is _MISSING:
                del store[name]
            else:
                store[name] = value
            return old
    old = getattr(owner, name) if hasattr(owner, name) else _MISSING
    if old is not _MISSING and old is not None and not isinstance(old, Tensor):
        raise TypeError(f"attribute `{name}`: {old} is not an instance of torch.Tensor")
    if value is not _MISSING:
        setattr(owner, name, value)   # e.g. a parametrized tensor: runs its right_inverse
    elif hasattr(owner, name):
        delattr(owner, name)
    return old


def _swap_all(module, tensors):
    done = {}
    try:
        for path, value in tensors.items():
            done[path] = _swap(module, path, value)
    except Exception:
        for path, old in done.items():
            _swap(module, path, old)
        raise
    return done


@contextmanager
def _reparametrize_module(module, parameters_and_buffers, tie_weights=False, strict=False):
    tensors = _untie(module, parameters_and_buffers) if tie_weights else parameters_and_buffers
    if strict:
        valid = {n for n, _ in module.named_parameters(remove_duplicate=False)} | \
            {n for n, _ in module.named_buffers(remove_duplicate=False)}
        missing, unexpected = sorted(valid - set(tensors)), sorted(set(tensors) - valid)
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(
                module._get_name(), "\n\t".join(msgs)))
    originals = {}
    try:
        originals = _swap_all(module, tensors)
        yield
    finally:
        final = _swap_all(module, originals)
        # what the call left in the module (a buffer it reassigned) goes back to the caller
        parameters_and_buffers.update({k: final[k] for k in parameters_and_buffers
                                       if k in final})


def _functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                     tie_weights=True, strict=False):
    from ember.nn.parallel import DataParallel
    if isinstance(module, DataParallel):
        raise RuntimeError("The stateless API can't be used with nn.DataParallel module")
    kwargs = {} if kwargs is None else kwargs
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights,
                               strict=strict):
        return module(*args, **kwargs)


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """module(*args, **kwargs) with the parameters and buffers named in
    `parameters_and_buffers` (dotted names, as in named_parameters) replaced for the duration
    of the call. tie_weights: a value given for one of several tied names replaces them all.
    strict: the names must be exactly the module's parameters and buffers."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 "
                  "and will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)
