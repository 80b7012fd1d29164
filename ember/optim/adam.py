"""Adam (and AdamW through `decoupled_weight_decay=True`), with AMSGrad and `maximize`.

    g = -grad if maximize else grad
    if weight_decay: decoupled: p *= 1 - lr * weight_decay;  else: g += weight_decay * p
    m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
    v_max = max(v_max, v) (amsgrad)
    p -= lr / (1 - beta1^t) * m / (sqrt(v or v_max) / sqrt(1 - beta2^t) + eps)
      (computed as lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps * sqrt(1 - beta2^t)))

State: `step` (0-d float tensor), `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq` (amsgrad).
"""
import numpy as np

from ember._ops._helpers import is_half
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, Tensor, _addcmul_, _check_betas,
                                   _check_differentiable, _check_lr, _check_nonneg, _grads,
                                   _half_moments,
                                   _lerp_, _real, _scalar, _step_tensor, _zeros_like)

__all__ = ["Adam"]


def _check_adam_betas(betas):
    if isinstance(betas[0], Tensor) != isinstance(betas[1], Tensor):
        raise ValueError("betas must be either both floats or both Tensors")
    for i in (0, 1):
        if isinstance(betas[i], Tensor) and betas[i].numel() != 1:
            raise ValueError(f"Tensor betas[{i}] must be 1-element")
    _check_betas(betas)


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        _check_adam_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        _check_differentiable(defaults)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("decoupled_weight_decay", False)

    def step(self, closure=None):
        """One Adam update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, eps = _scalar(group["lr"]), group["eps"]
            beta1, beta2 = _scalar(group["betas"][0]), _scalar(group["betas"][1])
            wd, amsgrad = group["weight_decay"], group["amsgrad"]
            decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
            items = []   # state is created here, in parameter order, as torch orders it
            for p, g in _grads(group, "Adam does not support sparse gradients, please consider "
                                      "SparseAdam instead"):
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_like(p)
                items.append((p, g, state))

            def update(items, buf):
                for p, g, state in items:
                    step_t = state["step"]._data
                    np.add(step_t, 1, out=step_t)
                    step = float(step_t)
                    if is_half(p._data.dtype):
                        _half_update(p, g, state, step, lr, eps, beta1, beta2, wd, amsgrad,
                                     decoupled, maximize)
                        continue
                    d, g = _real(p._data), _real(g)
                    if wd != 0 and decoupled:
                        np.multiply(d, 1 - lr * wd, out=d)
                    g = self._grad(g, d, maximize, 0 if decoupled else wd, buf)
                    m, v = _real(state["exp_avg"]._data), _real(state["exp_avg_sq"]._data)
                    t, u = buf(d, 1), buf(d, 2)
                    _lerp_(m, g, 1 - beta1, t)                 # m = lerp(m, g, 1 - beta1)
                    np.multiply(v, beta2, out=v)               # v = beta2 * v + (1 - beta2) g^2
                    _addcmul_(v, g, g, 1 - beta2, t)
                    step_size = lr / (1 - beta1 ** step)
                    bc2_sqrt = (1 - beta2 ** step) ** 0.5
                    if amsgrad:
                        vmax = _real(state["max_exp_avg_sq"]._data)
                        v = np.maximum(vmax, v, out=vmax)
                    # p -= step_size * m / (sqrt(v) / bc2_sqrt + eps), with bc2_sqrt moved out
                    # of the denominator: one pass fewer than torch's form (the same value up
                    # to rounding)
                    denom = np.sqrt(v, out=t)
                    np.add(denom, eps * bc2_sqrt, out=denom)
                    np.divide(m, denom, out=u)
                    np.multiply(u, -step_size * bc2_sqrt, out=u)
                    np.add(d, u, out=d)
                    p._vc.value += 1

            self._update_all(update, items, passes=12)
        return loss


def _half_update(p, g, state, step, lr, eps, beta1, beta2, wd, amsgrad, decoupled, maximize):
    """Adam's update of a float16/bfloat16 parameter as torch's single-tensor Adam runs it:
    one Tensor op at a time, each rounding to the half type as torch's kernel does (the
    array path's reordered formula, exact in float32, is off by an ulp there)."""
    with no_grad():
        g, m, v = _half_moments(p, g, state, lr, beta1, beta2, wd, decoupled, maximize)
        if amsgrad:
            v = state["max_exp_avg_sq"].copy_(state["max_exp_avg_sq"].maximum(v))
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        denom = (v.sqrt() / bias_correction2_sqrt).add_(eps)
        p.addcdiv_(m, denom, value=-(lr / (1 - beta1 ** step)))
