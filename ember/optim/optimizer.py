"""`Optimizer`: parameter groups, per-parameter state, state dicts and step hooks.

Every optimizer subclass updates its parameters in place on their NumPy arrays (`p._data`) with
`out=` arguments, outside the autograd graph, and bumps each parameter's version counter as torch's
in-place ops do. State tensors are ember Tensors under torch's keys (`step` is a 0-d tensor of the
default float dtype, `exp_avg`, `momentum_buffer` ...), so `state_dict()` has torch's layout:

    {"state": {0: {"step": tensor(3.), "exp_avg": ...}, ...},
     "param_groups": [{"lr": 0.001, ..., "params": [0, 1]}, ...]}

Adam, AdamW and SGD hand their per-parameter update to `Optimizer._update_all`, which runs a big
step as two halves of the parameter list on two threads (bit-identical to the serial loop).
"""
import functools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from ember import _dtype, _threads
from ember._tensor import Tensor
from ember.autograd.graph import RemovableHandle
from ember.autograd.grad_mode import enable_grad

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Singleton class representing a required parameter for an Optimizer."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """A hook `hook(optimizer, args, kwargs) -> None or (args, kwargs)` run before every step."""
    return RemovableHandle(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """A hook `hook(optimizer, args, kwargs)` run after every optimizer's step."""
    return RemovableHandle(_global_optimizer_post_hooks, hook)


def _register(hooks, hook, prepend=False):
    handle = RemovableHandle(hooks, hook)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _hooked_step(step):
    """Wrap a subclass's `step`: pre hooks (which may rewrite the arguments), step, post hooks."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        for pre_hook in chain(_global_optimizer_pre_hooks.values(),
                              self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(f"{step} must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result}.")
        out = step(self, *args, **kwargs)
        for post_hook in chain(self._optimizer_step_post_hooks.values(),
                               _global_optimizer_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out

    wrapper._ember_hooked = True
    return wrapper


class Optimizer:
    """Base class: holds `param_groups` (a list of dicts; a group's options override
    `defaults`) and `state` (a dict keyed by parameter).

    Traps kept from torch: a parameter may appear in only one group; a set of parameters is
    refused (its order changes between runs); `state_dict()` names parameters by their position
    across all groups, and `load_state_dict` shares (does not copy) tensors of the right dtype.
    """

    _tensor_step = True   # `step` state is a 0-d tensor (SparseAdam and LBFGS keep ints)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_ember_hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        self._scratch = {}
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + params.type())
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # -----------------------------------------------------------------------------------------
    # Pickling and printing

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.__dict__.setdefault("_scratch", {})
        self.defaults.setdefault("differentiable", False)
        if self._tensor_step:   # checkpoints from before torch 1.12 hold `step` as a number
            for p_state in self.state.values():
                if isinstance(p_state, dict) and "step" in p_state and not isinstance(
                        p_state["step"], Tensor):
                    p_state["step"] = _step_tensor(float(p_state["step"]))

    def __repr__(self):
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # -----------------------------------------------------------------------------------------
    # Parameter groups

    def add_param_group(self, param_group):
        """Add a dict with a "params" entry (tensors, or (name, tensor) pairs) and options."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)
        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(tensors) != len(set(tensors)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        param_set = set()
        for group in self.param_groups:
            param_set.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if not param_set.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -----------------------------------------------------------------------------------------
    # Gradients and steps

    def zero_grad(self, set_to_none=True):
        """Drop every parameter's `.grad` (default) or fill it with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g._data[...] = 0
                    g._vc.value += 1

    def step(self, closure=None):
        raise NotImplementedError

    def _closure_loss(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _buf(self, like, slot=0, dtype=None, worker=0):
        """A scratch array shaped (and typed, unless `dtype`) like `like`: a view into one flat
        buffer per (worker, dtype, slot) that every parameter reuses, so a step allocates
        nothing. Each worker thread of `_update_all` has buffers of its own."""
        dtype = like.dtype if dtype is None else np.dtype(dtype)
        key = (worker, dtype, slot)
        flat = self._scratch.get(key)
        n = like.size
        if flat is None or flat.size < n:
            flat = np.empty(max(n, 1), dtype)
            self._scratch[key] = flat
        return flat[:n].reshape(like.shape)

    def _grad(self, g, d, maximize, weight_decay, buf=None):
        """The gradient the update uses: negated for `maximize`, plus `weight_decay * param`
        (torch's `grad.add(param, alpha=weight_decay)`); the caller's grad is never written.
        `buf` is the scratch getter to use (`self._buf` unless given)."""
        buf = self._buf if buf is None else buf
        if maximize:
            g = np.negative(g, out=buf(g, 0))
        if weight_decay != 0:
            t = np.multiply(d, weight_decay, out=buf(g, 1))
            g = np.add(g, t, out=buf(g, 0))
        return g

    def _update_all(self, update, items, passes):
        """Call `update(part, buf)` on the list `items` (tuples whose first entry is a parameter),
        where `buf(like, slot, dtype=None)` hands out scratch arrays as `self._buf` does;
        `passes` is about how many NumPy sweeps `update` makes over each parameter.

        For a big step (elements x passes at least `_PARALLEL_MIN`, two threads allowed by
        `ember.set_num_threads`) the list is cut in two halves of about equal size, the second
        updated on a helper thread while this one does the first. NumPy releases the GIL inside
        its ufuncs, so the two halves run on two cores, much as torch's kernels split each
        tensor over its threads. Every element goes through the same ufunc calls in either
        case, so the result is bit-identical to the serial loop. Each half has scratch buffers of
        its own; parameters that share memory (or appear twice) keep the serial loop."""
        cut = _halfway(items, passes) if _two_threads_allowed() else None
        if cut is None:
            update(items, self._buf)
            return
        second = _threads.helper().submit(update, items[cut:], functools.partial(self._buf, worker=1))
        try:
            update(items[:cut], self._buf)
        finally:
            second.result()   # waits for the helper thread, and re-raises its error if any

    # -----------------------------------------------------------------------------------------
    # Hooks

    def register_step_pre_hook(self, hook):
        """`hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)` before `step`."""
        return RemovableHandle(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """`hook(optimizer, args, kwargs)` after `step`."""
        return RemovableHandle(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return _register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return _register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return _register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return _register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # -----------------------------------------------------------------------------------------
    # State dicts

    def state_dict(self):
        """`{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}`; indices
        count parameters across groups in order. State tensors are shared, not copied."""
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        mapping = {}
        start = 0
        param_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            param_groups.append(packed)
        packed_state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Load torch's layout: groups must match in number and sizes; floating state tensors are
        cast to their parameter's dtype (`step` kept as is); options come from the saved groups."""
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, key=None):
            if isinstance(value, Tensor):
                if key == "step":
                    return value
                if param.is_floating_point() and value._data.dtype != param._data.dtype:
                    return Tensor._make(value._data.astype(param._data.dtype))
                return value
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v)
            else:
                state[k] = v
        param_groups = []
        for group, new_group in zip(groups, saved_groups):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            param_groups.append(new_group)
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)


# ---------------------------------------------------------------------------------------------
# Two threads for big steps (see Optimizer._update_all)

# Handing half a step to the helper thread and waiting for it costs ~50-100 us, which pays off
# from about 4M element-passes: ~300k elements for Adam's 13 passes, ~1M for SGD's 4.
_PARALLEL_MIN = 1 << 22


def _two_threads_allowed():
    return _threads.num_threads() >= 2


def _halfway(items, passes=1):
    """The index that cuts `items` (first entry of each: a parameter) into two halves of about
    equal element counts, or None when the step is too small to split (elements x `passes` under
    `_PARALLEL_MIN`) or when two parameters share memory (they must then be updated one after
    the other, as the serial loop does), or when they are not NumPy arrays."""
    if len(items) < 2:
        return None
    sizes, roots = [], set()
    for item in items:
        a = item[0]._data
        if not isinstance(a, np.ndarray):   # CuPy: kernels run asynchronously on the GPU anyway
            return None
        roots.add(id(a if a.base is None else a.base))   # a view's base is the array it views
        sizes.append(a.size)
    total = sum(sizes)
    if total * passes < _PARALLEL_MIN or len(roots) < len(items):
        return None
    done = 0
    for i, n in enumerate(sizes):
        done += n
        if 2 * done >= total:
            return max(1, min(i + 1, len(items) - 1))   # both halves non-empty
    return None


# ---------------------------------------------------------------------------------------------
# Helpers shared by the optimizer files


def _lerp_(a, end, weight, tmp):
    """a.lerp_(end, weight) in place, with torch's two formulas (the one for |weight| < 0.5 and
    the one from the far end), so that rounding matches."""
    np.subtract(end, a, out=tmp)
    if abs(weight) < 0.5:
        np.multiply(tmp, weight, out=tmp)
        np.add(a, tmp, out=a)
    else:
        np.multiply(tmp, 1 - weight, out=tmp)
        np.subtract(end, tmp, out=a)
    return a


def _addcmul_(a, t1, t2, value, tmp):
    """a += value * t1 * t2 (torch multiplies value * t1 first)."""
    np.multiply(t1, value, out=tmp)
    np.multiply(tmp, t2, out=tmp)
    return np.add(a, tmp, out=a)


def _addcdiv_(a, t1, t2, value, tmp):
    """a += value * t1 / t2 (torch's order: (value * t1) / t2)."""
    np.multiply(t1, value, out=tmp)
    np.divide(tmp, t2, out=tmp)
    return np.add(a, tmp, out=a)


def _typename(obj):
    return obj.type() if isinstance(obj, Tensor) else type(obj).__name__


def _check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_betas(betas):
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _check_nonneg(name, value):
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value}")


def _check_differentiable(defaults):
    if defaults.get("differentiable"):
        raise NotImplementedError("ember optimizers do not support differentiable=True (the "
                                  "update is done in place on arrays, outside autograd)")


def _scalar(x):
    """A Python float from a float or a 1-element tensor (a Tensor lr, beta...)."""
    return float(x._data) if isinstance(x, Tensor) else x


def _step_tensor(value=0.0):
    """A 0-d `step`-like state tensor of torch's scalar dtype (float32 unless the default dtype
    is float64)."""
    dt = np.float64 if _dtype.get_default_dtype() is _dtype.float64 else np.float32
    return Tensor._make(np.asarray(value, dt))


def _zeros_like(p):
    return Tensor._make(np.zeros_like(p._data))


def _full_like(p, value):
    if p._data.dtype.kind == "c":
        value = complex(value, value)
    return Tensor._make(np.full_like(p._data, value))


def _real(a):
    """A complex array seen as (..., 2) reals, as torch.view_as_real: the optimizers treat the
    real and imaginary parts as separate parameters."""
    if a.dtype.kind != "c":
        return a
    try:
        return a[..., None].view(a.real.dtype)
    except ValueError:
        raise NotImplementedError("ember optimizers need complex parameters and gradients whose "
                                  "last dimension is contiguous") from None


def _grads(group, error=None):
    """(param, grad array) for every parameter of the group that has a gradient."""
    out = []
    for p in group["params"]:
        g = p._grad
        if g is not None:
            if error is not None and getattr(g, "is_sparse", False):
                raise RuntimeError(error)
            out.append((p, g._data))
    return out


def _half_grad(p, g, maximize, weight_decay):
    """The gradient a float16/bfloat16 parameter's update uses, formed as torch's single-tensor
    optimizers form it (Tensor ops, each rounding as torch's kernel): negated for `maximize`,
    plus `weight_decay * p` (grad.add(p, alpha=weight_decay)). Those updates run in Tensor ops
    under no_grad (see e.g. adam._half_update): torch rounds after every op, which the
    reordered array formulas of float32 would not reproduce."""
    g = Tensor._make(g)
    g = -g if maximize else g
    return g.add(p, alpha=weight_decay) if weight_decay != 0 else g


def _half_moments(p, g, state, lr, beta1, beta2, wd, decoupled, maximize):
    """The common start of Adam, NAdam and RAdam's half-type updates (under no_grad): decoupled
    decay of p, the gradient (`_half_grad`), then exp_avg.lerp_(g, 1 - beta1) and
    exp_avg_sq = beta2 exp_avg_sq + (1 - beta2) g g. Returns (g, exp_avg, exp_avg_sq)."""
    if wd != 0 and decoupled:
        p.mul_(1 - lr * wd)
    g = _half_grad(p, g, maximize, 0 if decoupled else wd)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m.lerp_(g, 1 - beta1)
    v.mul_(beta2).addcmul_(g, g.conj(), value=1 - beta2)
    return g, m, v
