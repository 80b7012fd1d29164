"""Adamax: Adam with the infinity norm in place of the second moment.

    g = -grad if maximize else grad;  g += weight_decay * p
    m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps)
    p -= lr / (1 - beta1^t) * m / u

State: `step`, `exp_avg` (m), `exp_inf` (u).
"""
import numpy as np

from ember._ops._helpers import is_half
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, _addcdiv_, _check_betas, _check_differentiable,
                                   _check_lr, _check_nonneg, _grads, _half_grad, _lerp_, _real,
                                   _scalar, _step_tensor, _zeros_like)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        _check_differentiable(defaults)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, eps = _scalar(group["lr"]), group["eps"]
            beta1, beta2 = group["betas"]
            for p, g in _grads(group, "Adamax does not support sparse gradients"):
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_inf"] = _zeros_like(p)
                st = state["step"]._data
                np.add(st, 1, out=st)
                if is_half(p._data.dtype):
                    _half_update(p, g, state, lr / (1 - beta1 ** float(st)), eps, beta1, beta2,
                                 group["maximize"], group["weight_decay"])
                    continue
                d, g = _real(p._data), _real(g)
                g = self._grad(g, d, group["maximize"], group["weight_decay"])
                m, u = _real(state["exp_avg"]._data), _real(state["exp_inf"]._data)
                t = self._buf(d, 1)
                _lerp_(m, g, 1 - beta1, t)
                np.multiply(u, beta2, out=u)
                np.add(np.abs(g, out=t), eps, out=t)
                np.maximum(u, t, out=u)
                clr = lr / (1 - beta1 ** float(st))
                _addcdiv_(d, m, u, -clr, t)
                p._vc.value += 1
        return loss


def _half_update(p, g, state, clr, eps, beta1, beta2, maximize, wd):
    """Adamax's update of a float16/bfloat16 parameter, torch's single-tensor sequence (see
    optimizer._half_grad)."""
    with no_grad():
        g = _half_grad(p, g, maximize, wd)
        m, u = state["exp_avg"], state["exp_inf"]
        m.lerp_(g, 1 - beta1)
        u.copy_(u.mul_(beta2).maximum(g.abs().add_(eps)))
        p.addcdiv_(m, u, value=-clr)
