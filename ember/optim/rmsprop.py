"""RMSprop, optionally centered and with momentum.

    g = -grad if maximize else grad;  g += weight_decay * p
    v = alpha * v + (1 - alpha) * g * g
    centered: ga = lerp(ga, g, 1 - alpha);  avg = sqrt(v - ga * ga) + eps;  else sqrt(v) + eps
    momentum > 0: b = momentum * b + g / avg;  p -= lr * b
    else:         p -= lr * g / avg

State: `step`, `square_avg`, `momentum_buffer` (momentum > 0), `grad_avg` (centered).
"""
import numpy as np

from ember._ops._helpers import is_half
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, _addcdiv_, _addcmul_, _check_differentiable,
                                   _check_lr, _check_nonneg, _grads, _half_grad, _lerp_, _real,
                                   _scalar, _step_tensor, _zeros_like)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        _check_nonneg("momentum", momentum)
        _check_nonneg("weight_decay", weight_decay)
        _check_nonneg("alpha", alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        _check_differentiable(defaults)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, alpha, eps = _scalar(group["lr"]), group["alpha"], group["eps"]
            momentum, centered = group["momentum"], group["centered"]
            for p, g in _grads(group, "RMSprop does not support sparse gradients"):
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                st = state["step"]._data
                np.add(st, 1, out=st)
                if is_half(p._data.dtype):
                    _half_update(p, g, state, lr, alpha, eps, momentum, centered,
                                 group["maximize"], group["weight_decay"])
                    continue
                d, g = _real(p._data), _real(g)
                g = self._grad(g, d, group["maximize"], group["weight_decay"])
                v = _real(state["square_avg"]._data)
                t, avg = self._buf(d, 1), self._buf(d, 2)
                np.multiply(v, alpha, out=v)
                _addcmul_(v, g, g, 1 - alpha, t)
                if centered:
                    ga = _real(state["grad_avg"]._data)
                    _lerp_(ga, g, 1 - alpha, t)
                    np.copyto(avg, v)
                    np.sqrt(_addcmul_(avg, ga, ga, -1, t), out=avg)
                else:
                    np.sqrt(v, out=avg)
                np.add(avg, eps, out=avg)
                if momentum > 0:
                    b = _real(state["momentum_buffer"]._data)
                    np.multiply(b, momentum, out=b)
                    _addcdiv_(b, g, avg, 1, t)
                    np.add(d, np.multiply(b, -lr, out=t), out=d)
                else:
                    _addcdiv_(d, g, avg, -lr, t)
                p._vc.value += 1
        return loss


def _half_update(p, g, state, lr, alpha, eps, momentum, centered, maximize, wd):
    """RMSprop's update of a float16/bfloat16 parameter, torch's single-tensor sequence (see
    optimizer._half_grad)."""
    with no_grad():
        g = _half_grad(p, g, maximize, wd)
        v = state["square_avg"]
        v.mul_(alpha).addcmul_(g, g, value=1 - alpha)
        if centered:
            ga = state["grad_avg"]
            ga.lerp_(g, 1 - alpha)
            avg = v.addcmul(ga, ga, value=-1).sqrt_()
        else:
            avg = v.sqrt()
        avg = avg.add_(eps)
        if momentum > 0:
            b = state["momentum_buffer"]
            b.mul_(momentum).addcdiv_(g, avg)
            p.add_(b, alpha=-lr)
        else:
            p.addcdiv_(g, avg, value=-lr)
