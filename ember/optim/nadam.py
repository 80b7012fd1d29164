"""NAdam: Adam with Nesterov momentum and a momentum schedule (`momentum_decay`).

    g = -grad if maximize else grad
    weight decay: decoupled: p *= 1 - lr * weight_decay;  else: g += weight_decay * p
    mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay));  mu_product *= mu_t
    m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
    denom = sqrt(v / (1 - beta2^t)) + eps
    p -= lr * (1 - mu_t) / (1 - mu_product) * g / denom
    p -= lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom

State: `step`, `mu_product` (0-d float tensors), `exp_avg`, `exp_avg_sq`.
"""
import numpy as np

from ember._ops._helpers import is_half
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, _addcdiv_, _addcmul_, _check_betas,
                                   _check_differentiable, _check_lr, _check_nonneg, _grads,
                                   _half_moments, _lerp_, _real, _scalar, _step_tensor,
                                   _zeros_like)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        _check_nonneg("momentum_decay", momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        _check_differentiable(defaults)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, eps, wd = _scalar(group["lr"]), group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            mdecay, decoupled = group["momentum_decay"], group["decoupled_weight_decay"]
            for p, g in _grads(group, "NAdam does not support sparse gradients"):
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["mu_product"] = _step_tensor(1.0)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                st, mu_prod = state["step"]._data, state["mu_product"]._data
                d, g = _real(p._data), _real(g)
                np.add(st, 1, out=st)
                step = float(st)
                bc2 = 1 - beta2 ** step
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * mdecay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * mdecay)))
                if is_half(d.dtype):
                    np.multiply(mu_prod, mu, out=mu_prod)
                    _half_update(p, g, state, lr, eps, beta1, beta2, bc2, mu, mu_next,
                                 group["maximize"], wd, decoupled)
                    continue
                if wd != 0 and decoupled:
                    np.multiply(d, 1 - lr * wd, out=d)
                g = self._grad(g, d, group["maximize"], 0 if decoupled else wd)
                np.multiply(mu_prod, mu, out=mu_prod)
                m, v = _real(state["exp_avg"]._data), _real(state["exp_avg_sq"]._data)
                t, denom = self._buf(d, 1), self._buf(d, 2)
                _lerp_(m, g, 1 - beta1, t)
                np.multiply(v, beta2, out=v)
                _addcmul_(v, g, g, 1 - beta2, t)
                np.sqrt(np.divide(v, bc2, out=denom), out=denom)
                mu_product = float(mu_prod)
                np.add(denom, eps, out=denom)
                _addcdiv_(d, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product), t)
                _addcdiv_(d, m, denom, (-lr * mu_next) / (1.0 - mu_product * mu_next), t)
                p._vc.value += 1
        return loss


def _half_update(p, g, state, lr, eps, beta1, beta2, bc2, mu, mu_next, maximize, wd,
                 decoupled):
    """NAdam's update of a float16/bfloat16 parameter, torch's single-tensor sequence (see
    optimizer._half_grad); the step's mu is already in state's mu_product."""
    with no_grad():
        g, m, v = _half_moments(p, g, state, lr, beta1, beta2, wd, decoupled, maximize)
        denom = v.div(bc2).sqrt().add_(eps)
        mu_product = float(state["mu_product"]._data)
        p.addcdiv_(g, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
        p.addcdiv_(m, denom, value=(-lr * mu_next) / (1.0 - mu_product * mu_next))
