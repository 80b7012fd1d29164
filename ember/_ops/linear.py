"""nn's linear layer as one op: y = x W^T + b over any leading dims.

The input is flattened to a 2-D (rows, in) matrix first, so every product is one plain BLAS
GEMM: NumPy's matmul on stacked or transposed 3-D operands falls back to a loop far slower
than BLAS (15x measured for (128, 8, 256) @ (256, 768)). Backward: dx = g W, dW = g^T x,
db = sum of g over rows; written in Tensor ops when a graph is being built (double backward),
in NumPy otherwise.
"""
import math

import numpy as np

from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = []


def _wide(a):
    """float16/bfloat16 operands are multiplied in float32 (torch's CPU kernels accumulate in
    float32 too); other dtypes as they are."""
    return a.astype(np.float32) if a.dtype.itemsize == 2 else a


class Linear(ArrayFunction):
    """One node whatever the input's rank; it carries the name of the node torch's `linear`
    leaves last (see _node_name). With a bias its inputs are (b, x, W), torch's addmm order,
    so that `grad_fn.next_functions[0]` is the bias's edge as in torch; else (x, W)."""

    _name = "AddmmBackward0"   # 2-D input with a bias, the common case

    def forward(ctx, *arrays):
        b, x, w = arrays if len(arrays) == 3 else (None,) + arrays
        if ctx.needs_input_grad and (b is None or x.ndim != 2):   # (empty when not recording)
            ctx._name = _node_name(x, b)
        dt = x.dtype
        half = dt.itemsize == 2
        if half:
            x, w, b = _wide(x), _wide(w), None if b is None else _wide(b)
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        out = np.dot(x2, w.T)
        if b is not None and b.ndim <= 1:
            out += b
        if ctx.needs_input_grad:   # recording: keep what backward needs
            ctx.x2 = x2
            ctx.save_for_backward(x, w)
        if x.ndim != 2:
            out = out.reshape(x.shape[:-1] + (w.shape[0],))
        if b is not None and b.ndim > 1:   # a bias of the output's trailing shape (rare)
            out += b
        return out.astype(dt) if half else out

    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        n_out = w.shape[0]
        rows = math.prod(x.shape[:-1])   # (not -1: out_features may be 0)
        need = ctx.needs_input_grad
        biased = len(need) == 3
        need_b, need_x, need_w = need if biased else (False,) + tuple(need)
        # (the engine sums a >1-D bias's broadcast away: its gradient is grad itself)
        flat_bias = need_b and len(ctx._input_meta[0][0]) <= 1
        if _grad_state.enabled:   # create_graph: Tensor ops so the result is differentiable
            g2 = grad.reshape(rows, n_out)
            x2 = x.reshape(rows, x.shape[-1])
            gx = (g2 @ w).reshape(x.shape) if need_x else None
            gw = g2.t() @ x2 if need_w else None
            gb = (g2.sum(0) if flat_bias else grad) if need_b else None
        else:
            dt = grad._data.dtype
            g2 = _wide(grad._data.reshape(rows, n_out))
            gx = gw = gb = None
            if need_x:
                gx = Tensor._make(np.dot(g2, _wide(w._data)).reshape(x.shape)
                                  .astype(dt, copy=False))
            if need_w:
                gw = Tensor._make(np.dot(g2.T, ctx.x2).astype(dt, copy=False))
            if need_b:
                gb = Tensor._make(g2.sum(0).astype(dt, copy=False)) if flat_bias else grad
        return (gb, gx, gw) if biased else (gx, gw)

    def name(self):
        return self._name


def _node_name(x, b):
    """The last node torch's linear records, by its dispatch: mm / addmm for a matrix input;
    otherwise matmul (unsqueeze-mm-squeeze_ for a vector, mm then _unsafe_view for more dims)
    and an in-place add of the bias, except that a contiguous input with a 1-D bias is flattened
    to a matrix for one addmm whose result is viewed back."""
    if b is None:
        return ("SqueezeBackward4", "MmBackward0")[x.ndim - 1] if x.ndim <= 2 \
            else "UnsafeViewBackward0"
    return "ViewBackward0" if b.ndim == 1 and x.flags.c_contiguous else "AddBackward0"


def linear(input, weight, bias=None):
    """input @ weight.T + bias for 2-D weights (input (*, in), weight (out, in))."""
    if input._data.dtype != weight._data.dtype or (bias is not None and
                                                   bias._data.dtype != weight._data.dtype):
        dts = [input.dtype, weight.dtype] + ([bias.dtype] if bias is not None else [])
        bad = next(d for d in dts if d != dts[0])
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_c_name(dts[0])} != {_c_name(bad)}")
    return Linear.apply(input, weight) if bias is None else Linear.apply(bias, input, weight)


_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}


def _c_name(dt):
    name = str(dt).split(".")[-1]
    return _C_NAMES.get(name, name)
