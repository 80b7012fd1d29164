"""Adagrad: per-element learning rates from the sum of squared gradients.

    g = -grad if maximize else grad;  g += weight_decay * p
    clr = lr / (1 + (t - 1) * lr_decay)
    s += g * g;  p -= clr * g / (sqrt(s) + eps)

State (created in the constructor, as torch does): `step`, `sum` (filled with
initial_accumulator_value).
"""
import numpy as np

from ember._ops._helpers import is_half
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, _addcdiv_, _check_differentiable, _check_lr,
                                   _check_nonneg, _full_like, _grads, _half_grad, _real, _scalar,
                                   _step_tensor)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        _check_nonneg("lr_decay", lr_decay)
        _check_nonneg("weight_decay", weight_decay)
        _check_nonneg("initial_accumulator_value", initial_accumulator_value)
        _check_nonneg("epsilon", eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        _check_differentiable(defaults)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _step_tensor()
                state["sum"] = _full_like(p, group["initial_accumulator_value"])

    def share_memory(self):
        pass   # one process: nothing to share

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = _scalar(group["lr"]), group["lr_decay"], group["eps"]
            for p, g in _grads(group, "ember's Adagrad does not support sparse gradients yet"):
                state = self.state[p]
                st = state["step"]._data
                np.add(st, 1, out=st)
                step = float(st)
                if is_half(p._data.dtype):
                    _half_update(p, g, state, lr / (1 + (step - 1) * lr_decay), eps,
                                 group["maximize"], group["weight_decay"])
                    continue
                d, g = _real(p._data), _real(g)
                g = self._grad(g, d, group["maximize"], group["weight_decay"])
                clr = lr / (1 + (step - 1) * lr_decay)
                s = _real(state["sum"]._data)
                t, std = self._buf(d, 1), self._buf(d, 2)
                np.add(s, np.multiply(g, g, out=t), out=s)
                np.add(np.sqrt(s, out=std), eps, out=std)
                _addcdiv_(d, g, std, -clr, t)
                p._vc.value += 1
        return loss


def _half_update(p, g, state, clr, eps, maximize, wd):
    """Adagrad's update of a float16/bfloat16 parameter, torch's single-tensor sequence (see
    optimizer._half_grad)."""
    with no_grad():
        g = _half_grad(p, g, maximize, wd)
        state["sum"].addcmul_(g, g, value=1)
        std = state["sum"].sqrt().add_(eps)
        p.addcdiv_(g, std, value=-clr)
