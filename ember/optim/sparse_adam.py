"""SparseAdam: Adam that updates only the entries present in a sparse gradient.

ember has no sparse tensors yet, so every gradient is dense, and a dense gradient is refused
with torch's RuntimeError (torch refuses it too). Arguments are checked as torch checks them.
"""
from ember.optim.optimizer import Optimizer, _check_betas, _check_lr

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    _tensor_step = False   # torch keeps SparseAdam's `step` as a Python int

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        _check_lr(lr)
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, maximize=maximize)
        super().__init__(params, defaults)
        sparse_params, complex_params = [], []
        for index, group in enumerate(self.param_groups):
            if not isinstance(group, dict):
                raise TypeError(f"param_groups must be a list of dicts, but got {type(group)}")
            for d_index, d_param in enumerate(group["params"]):
                if getattr(d_param, "is_sparse", False):
                    sparse_params.append([index, d_index])
                if d_param.is_complex():
                    complex_params.append([index, d_index])
        if sparse_params:
            raise ValueError(f"Sparse params at indices {sparse_params}: SparseAdam requires "
                             "dense parameter tensors")
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not "
                             "support complex parameters")

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is not None:
                    if not getattr(p._grad, "is_sparse", False):
                        raise RuntimeError("SparseAdam does not support dense gradients, please "
                                           "consider Adam instead")
                    raise NotImplementedError("ember has no sparse gradients yet")
        return loss
