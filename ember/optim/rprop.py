"""Rprop: per-element step sizes grown by etas[1] while the gradient keeps its sign and shrunk
by etas[0] when it flips; only the gradient's sign moves the parameter.

    s = sign(g * prev) mapped to etaplus (> 0), etaminus (< 0), 1 (== 0)
    step_size = clamp(step_size * s, *step_sizes)
    g = 0 where the sign flipped;  p -= sign(g) * step_size;  prev = g

State: `step`, `prev`, `step_size` (starts at lr).
"""
import numpy as np

from ember._ops._helpers import is_half
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, _check_differentiable, _check_lr, _full_like,
                                   _grads, _half_grad, _real, _scalar, _step_tensor, _zeros_like)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        _check_differentiable(defaults)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            smin, smax = group["step_sizes"]
            for p, g in _grads(group, "Rprop does not support sparse gradients"):
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["prev"] = _zeros_like(p)
                    state["step_size"] = _full_like(p._grad, _scalar(group["lr"]))
                st = state["step"]._data
                np.add(st, 1, out=st)
                if is_half(p._data.dtype):
                    _half_update(p, g, state, etaminus, etaplus, smin, smax, group["maximize"])
                    continue
                d, g = _real(p._data), _real(g)
                g = self._grad(g, d, group["maximize"], 0)
                prev, size = _real(state["prev"]._data), _real(state["step_size"]._data)
                s, t = self._buf(d, 1), self._buf(d, 2)
                mask = self._buf(d, 0, np.bool_)
                np.sign(np.multiply(g, prev, out=s), out=s)
                # torch assigns in this order; etaplus > 1 and 0 < etaminus < 1 never collide
                np.copyto(s, etaplus, where=np.greater(s, 0, out=mask))
                np.copyto(s, etaminus, where=np.less(s, 0, out=mask))
                np.copyto(s, 1, where=np.equal(s, 0, out=mask))
                np.multiply(size, s, out=size)
                np.clip(size, smin, smax, out=size)
                np.copyto(prev, g)   # prev becomes the gradient with flipped entries zeroed
                np.copyto(prev, 0, where=np.equal(s, np.asarray(etaminus, s.dtype), out=mask))
                np.sign(prev, out=t)
                np.multiply(t, -1, out=t)
                np.add(d, np.multiply(t, size, out=t), out=d)
                p._vc.value += 1
        return loss


def _half_update(p, g, state, etaminus, etaplus, smin, smax, maximize):
    """Rprop's update of a float16/bfloat16 parameter, torch's single-tensor sequence (see
    optimizer._half_grad): the sign factors and the step sizes held in the half type."""
    with no_grad():
        g = _half_grad(p, g, maximize, 0)
        prev, size = state["prev"], state["step_size"]
        s = g.mul(prev).sign()
        pos, neg, zero = s > 0, s < 0, s == 0
        s = s.masked_fill(pos, etaplus).masked_fill(neg, etaminus).masked_fill(zero, 1)
        size.mul_(s).clamp_(smin, smax)
        g = g.masked_fill(neg, 0)   # (where the sign flipped: torch's sign == etaminus)
        p.addcmul_(g.sign(), size, value=-1)
        prev.copy_(g)
