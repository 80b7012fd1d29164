"""RAdam: Adam whose adaptive term is switched on (and rectified) once the variance of the
adaptive learning rate is tractable (rho_t > 5); before that it is SGD with momentum.

    g = -grad if maximize else grad
    weight decay: decoupled: p *= 1 - lr * weight_decay;  else: g += weight_decay * p
    m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
    rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
    rho_t > 5: p -= m / (1 - beta1^t) * lr * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t
    else:      p -= m / (1 - beta1^t) * lr

State: `step`, `exp_avg`, `exp_avg_sq`.
"""
import numpy as np

from ember._ops._helpers import is_half
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, _addcmul_, _check_betas, _check_differentiable,
                                   _check_lr, _check_nonneg, _grads, _half_moments, _lerp_, _real,
                                   _scalar, _step_tensor, _zeros_like)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        _check_differentiable(defaults)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, eps, wd = _scalar(group["lr"]), group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            decoupled = group["decoupled_weight_decay"]
            for p, g in _grads(group, "RAdam does not support sparse gradients"):
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                st = state["step"]._data
                np.add(st, 1, out=st)
                step = float(st)
                if is_half(p._data.dtype):
                    _half_update(p, g, state, step, lr, eps, beta1, beta2, wd, decoupled,
                                 group["maximize"])
                    continue
                d, g = _real(p._data), _real(g)
                if wd != 0 and decoupled:
                    np.multiply(d, 1 - lr * wd, out=d)
                g = self._grad(g, d, group["maximize"], 0 if decoupled else wd)
                m, v = _real(state["exp_avg"]._data), _real(state["exp_avg_sq"]._data)
                t, u = self._buf(d, 1), self._buf(d, 2)
                _lerp_(m, g, 1 - beta1, t)
                np.multiply(v, beta2, out=v)
                _addcmul_(v, g, g, 1 - beta2, t)
                bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
                np.divide(m, bc1, out=u)
                np.multiply(u, lr, out=u)
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    # torch computes `float / tensor` as reciprocal(tensor) * float
                    np.add(np.sqrt(v, out=t), eps, out=t)
                    np.reciprocal(t, out=t)
                    np.multiply(t, bc2 ** 0.5, out=t)
                    np.multiply(u, t, out=u)
                    np.multiply(u, rect, out=u)
                np.subtract(d, u, out=d)
                p._vc.value += 1
        return loss


def _half_update(p, g, state, step, lr, eps, beta1, beta2, wd, decoupled, maximize):
    """RAdam's update of a float16/bfloat16 parameter, torch's single-tensor sequence (see
    optimizer._half_grad)."""
    with no_grad():
        g, m, v = _half_moments(p, g, state, lr, beta1, beta2, wd, decoupled, maximize)
        bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
        corrected = m / bc1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = (bc2 ** 0.5) / v.sqrt().add_(eps)
            p.add_(corrected * lr * adaptive * rect, alpha=-1.0)
        else:
            p.add_(corrected * lr, alpha=-1.0)
