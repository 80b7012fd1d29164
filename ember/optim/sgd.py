"""SGD with momentum, dampening, Nesterov momentum, weight decay and `maximize`.

    g = -grad if maximize else grad;  g += weight_decay * p
    if momentum:  b = g (first step) else b = momentum * b + (1 - dampening) * g
                  g = g + momentum * b if nesterov else b
    p -= lr * g

State: `momentum_buffer` (only when momentum != 0).
"""
import numpy as np

from ember._ops._helpers import is_half
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, _check_differentiable, _check_lr, _grads, _half_grad,
                                   _scalar, Tensor)

__all__ = ["SGD"]


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_differentiable(defaults)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, momentum = _scalar(group["lr"]), group["momentum"]
            damp, nesterov = group["dampening"], group["nesterov"]
            maximize, wd = group["maximize"], _scalar(group["weight_decay"])
            # state (only kept with momentum) is created here, in parameter order, as torch does
            items = [(p, g, self.state[p] if momentum != 0 else None) for p, g in _grads(group)]

            def update(items, buf):
                for p, g, state in items:
                    d = p._data
                    if is_half(d.dtype):
                        _half_update(p, g, state, lr, momentum, damp, nesterov, maximize, wd)
                        continue
                    g = self._grad(g, d, maximize, wd, buf)
                    if momentum != 0:
                        b = state.get("momentum_buffer")
                        if b is None:                          # first step: b = g
                            state["momentum_buffer"] = Tensor._make(g.copy())
                            b = state["momentum_buffer"]._data
                        else:                                  # b = momentum b + (1 - damp) g
                            b = b._data
                            np.multiply(b, momentum, out=b)
                            if damp != 0:
                                np.add(b, np.multiply(g, 1 - damp, out=buf(g, 1)), out=b)
                            else:
                                np.add(b, g, out=b)
                        if nesterov:
                            t = np.multiply(b, momentum, out=buf(g, 1))
                            g = np.add(g, t, out=t)
                        else:
                            g = b
                    np.add(d, np.multiply(g, -lr, out=buf(g, 1)), out=d)
                    p._vc.value += 1

            self._update_all(update, items, passes=4)
        return loss


def _half_update(p, g, state, lr, momentum, damp, nesterov, maximize, wd):
    """SGD's update of a float16/bfloat16 parameter as torch's single-tensor SGD runs it: one
    Tensor op at a time, each rounding to the half type as torch's kernel does (its numbers
    taken in float32 or in the half type as each kernel takes them)."""
    with no_grad():
        g = _half_grad(p, g, maximize, wd)
        if momentum != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.clone()
            else:
                b.mul_(momentum).add_(g, alpha=1 - damp)
            g = g.add(b, alpha=momentum) if nesterov else b
        p.add_(g, alpha=-lr)
