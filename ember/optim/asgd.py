"""ASGD: averaged SGD with a decaying step size `eta` and an averaging weight `mu`.

    g = -grad if maximize else grad;  g += weight_decay * p
    p *= 1 - lambd * eta;  p -= eta * g
    ax = p if mu == 1 else ax + (p - ax) * mu
    eta = lr / (1 + lambd * lr * t)^alpha;  mu = 1 / max(1, t - t0)

State: `step`, `eta`, `mu` (0-d float tensors) and `ax` (the average).
"""
import numpy as np

from ember._ops._helpers import is_half
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, _check_differentiable, _check_lr, _check_nonneg,
                                   _grads, _half_grad, _real, _scalar, _step_tensor,
                                   _zeros_like)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        _check_differentiable(defaults)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = _scalar(group["lr"]), group["lambd"], group["alpha"], group["t0"]
            for p, g in _grads(group, "ASGD does not support sparse gradients"):
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["eta"] = _step_tensor(lr)
                    state["mu"] = _step_tensor(1.0)
                    state["ax"] = _zeros_like(p)
                st, eta, mu = state["step"]._data, state["eta"]._data, state["mu"]._data
                np.add(st, 1, out=st)
                if is_half(p._data.dtype):
                    _half_update(p, g, state, lambd, group["maximize"], group["weight_decay"])
                else:
                    d, g = _real(p._data), _real(g)
                    ax = _real(state["ax"]._data)
                    g = self._grad(g, d, group["maximize"], group["weight_decay"])
                    eta_value = float(eta)
                    t = self._buf(d, 1)
                    np.multiply(d, 1 - lambd * eta_value, out=d)
                    np.add(d, np.multiply(g, -eta_value, out=t), out=d)
                    if float(mu) != 1:
                        np.subtract(d, ax, out=t)
                        np.add(ax, np.multiply(t, mu, out=t), out=ax)
                    else:
                        np.copyto(ax, d)
                step = float(st)
                # torch goes through torch.as_tensor(float): rounded to the default dtype first
                eta[...] = _step_tensor(lr / ((1 + lambd * lr * step) ** alpha))._data
                mu[...] = _step_tensor(1 / max(1, step - t0))._data
                p._vc.value += 1
        return loss


def _half_update(p, g, state, lambd, maximize, wd):
    """ASGD's update of a float16/bfloat16 parameter, torch's single-tensor sequence (see
    optimizer._half_grad): the averaged copy ax moves by mu (p - ax), or is p when mu is 1."""
    with no_grad():
        g = _half_grad(p, g, maximize, wd)
        eta, mu, ax = float(state["eta"]._data), float(state["mu"]._data), state["ax"]
        p.mul_(1 - lambd * eta)
        p.add_(g, alpha=-eta)
        if mu != 1:
            ax.add_(p.sub(ax).mul_(mu))
        else:
            ax.copy_(p)
