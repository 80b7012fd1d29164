"""Adadelta: learning rates from running averages of squared gradients and squared updates.

    g = -grad if maximize else grad;  g += weight_decay * p
    v = rho * v + (1 - rho) * g * g
    delta = sqrt(u + eps) / sqrt(v + eps) * g
    u = rho * u + (1 - rho) * delta * delta
    p -= lr * delta

State: `step`, `square_avg` (v), `acc_delta` (u).
"""
import numpy as np

from ember._ops._helpers import is_half
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, _addcmul_, _check_differentiable, _check_lr,
                                   _check_nonneg, _grads, _half_grad, _real, _scalar,
                                   _step_tensor, _zeros_like)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonneg("epsilon", eps)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        _check_differentiable(defaults)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, rho, eps = _scalar(group["lr"]), group["rho"], group["eps"]
            for p, g in _grads(group, "Adadelta does not support sparse gradients"):
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    state["acc_delta"] = _zeros_like(p)
                st = state["step"]._data
                np.add(st, 1, out=st)
                if is_half(p._data.dtype):
                    _half_update(p, g, state, lr, rho, eps, group["maximize"],
                                 group["weight_decay"])
                    continue
                d, g = _real(p._data), _real(g)
                g = self._grad(g, d, group["maximize"], group["weight_decay"])
                v, u = _real(state["square_avg"]._data), _real(state["acc_delta"]._data)
                t, std, delta = self._buf(d, 1), self._buf(d, 2), self._buf(d, 3)
                np.multiply(v, rho, out=v)
                _addcmul_(v, g, g, 1 - rho, t)
                np.sqrt(np.add(v, eps, out=std), out=std)
                np.sqrt(np.add(u, eps, out=delta), out=delta)
                np.divide(delta, std, out=delta)
                np.multiply(delta, g, out=delta)
                np.multiply(u, rho, out=u)
                _addcmul_(u, delta, delta, 1 - rho, t)
                np.add(d, np.multiply(delta, -lr, out=t), out=d)
                p._vc.value += 1
        return loss


def _half_update(p, g, state, lr, rho, eps, maximize, wd):
    """Adadelta's update of a float16/bfloat16 parameter, torch's single-tensor sequence (see
    optimizer._half_grad)."""
    with no_grad():
        g = _half_grad(p, g, maximize, wd)
        v, u = state["square_avg"], state["acc_delta"]
        v.mul_(rho).addcmul_(g, g, value=1 - rho)
        std = v.add(eps).sqrt_()
        delta = u.add(eps).sqrt_().div_(std).mul_(g)
        u.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-lr)
