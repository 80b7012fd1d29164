"""nn's linear layer as one op: y = x W^T + b over any leading dims.

The input is flattened to a 2-D (rows, in) matrix first, so every product is one plain BLAS
GEMM: NumPy's matmul on stacked or transposed 3-D operands falls back to a loop far slower
than BLAS (15x measured for (128, 8, 256) @ (256, 768)). Backward: dx = g W, dW = g^T x,
db = sum of g over rows; written in Tensor ops when a graph is being built (double backward),
in NumPy otherwise.
"""
import math

import numpy as np

from ember._ops._helpers import round_through
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction, _edge_of
from ember.autograd.grad_mode import state as _grad_state
from ember.autograd.graph import Node, next_seq

_new = object.__new__

__all__ = []


def _wide(a):
    """float16/bfloat16 operands are multiplied in float32 (torch's CPU kernels accumulate in
    float32 too); other dtypes as they are."""
    return a.astype(np.float32) if a.dtype.itemsize == 2 else a


class Linear(ArrayFunction):
    """One node whatever the input's rank; it carries the name of the node torch's `linear`
    leaves last (see _node_name). Its inputs are torch's addmm's: (b, x, W^T) with a bias
    (so that `grad_fn.next_functions[0]` is the bias's edge), else (x, W^T); W^T is
    `weight.t()`, a TBackward0 node between this one and the weight's AccumulateGrad when the
    weight requires grad, as in torch's graph."""

    _name = "AddmmBackward0"   # 2-D input with a bias, the common case

    def forward(ctx, *arrays):
        b, x, wt = arrays if len(arrays) == 3 else (None,) + arrays
        if ctx.needs_input_grad and (b is None or x.ndim != 2):   # (empty when not recording)
            ctx._name = _node_name(x, b)
        dt = x.dtype
        half = dt.itemsize == 2
        # torch fuses the bias into the product (addmm: one rounding of the half types) but
        # for an input of 3 or more dims that is not contiguous: matmul, then the bias added
        split = half and b is not None and x.ndim > 2 and not x.flags.c_contiguous
        if half:
            x, wt, b = _wide(x), _wide(wt), None if b is None else _wide(b)
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        out = np.dot(x2, wt)
        if split:
            out = round_through(out, dt)
        if b is not None and b.ndim <= 1:
            out += b
        if ctx.needs_input_grad:   # recording: keep what backward needs (in torch's order:
            ctx.x2 = (x, x2)       # addmm saves mat1 then mat2, mm mat2 then mat1)
            ctx.save_for_backward(*((x, wt) if b is not None else (wt, x)))
        if x.ndim != 2:
            out = out.reshape(x.shape[:-1] + wt.shape[1:])
        if b is not None and b.ndim > 1:   # a bias of the output's trailing shape (rare)
            out += b
        return out.astype(dt) if half else out

    def backward(ctx, grad):
        saved = ctx.saved_tensors   # (x, W^T) with a bias, else (W^T, x): see forward
        x, wt = saved if len(ctx.needs_input_grad) == 3 else saved[::-1]
        wa = wt._data
        n_out = wa.shape[-1] if wa.ndim == 2 else 1
        rows = math.prod(x.shape[:-1])   # (not -1: out_features may be 0)
        need = ctx.needs_input_grad
        biased = len(need) == 3
        need_b, need_x, need_w = need if biased else (False,) + tuple(need)
        # (the engine sums a >1-D bias's broadcast away: its gradient is grad itself)
        flat_bias = need_b and len(ctx._input_meta[0][0]) <= 1
        if _grad_state.enabled:   # create_graph: Tensor ops so the result is differentiable
            g2 = grad.reshape(rows, n_out)
            x2 = x.reshape(rows, x.shape[-1])
            w = wt.reshape(wa.shape[0], n_out).t()
            gx = (g2 @ w).reshape(x.shape) if need_x else None
            gw = (g2.t() @ x2).t().reshape(wa.shape) if need_w else None
            gb = (g2.sum(0) if flat_bias else grad) if need_b else None
        else:
            dt = grad._data.dtype
            g2 = _wide(grad._data.reshape(rows, n_out))
            w = wa.reshape(wa.shape[0], n_out).T
            gx = gw = gb = None
            if need_x:
                gx = Tensor._make(np.dot(g2, _wide(w)).reshape(x.shape).astype(dt, copy=False))
            if need_w:   # (W's gradient, contiguous, seen transposed: TBackward0 turns it back)
                xa, x2 = ctx.x2
                if x._data is not xa:   # (saved-tensor hooks gave another tensor back)
                    x2 = _wide(x._data).reshape(rows, x.shape[-1])
                gw = np.dot(g2.T, x2).astype(dt, copy=False).T
                gw = Tensor._make(gw if gw.ndim == wa.ndim else gw.reshape(wa.shape))
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
    return apply_linear(input, weight, bias)


class _WeightT(Node):
    """weight.t() as linear records it: the TBackward0 node between Linear and the weight's
    AccumulateGrad, built directly (it is on every layer's path, and holds nothing)."""

    __slots__ = ()

    def name(self):
        return "TBackward0"

    def _apply(self, grads):
        g = grads[0]
        if not _grad_state.enabled:
            return (Tensor._make(g._data.T),)
        return (g.t(),)


_WeightT.__name__ = _WeightT.__qualname__ = "TBackward0"   # (type(node).__name__, as torch)


def _transposed_weight(weight):
    """weight.t(): a transposed view sharing weight's version, recorded as a _WeightT node."""
    wt = weight._view_of(weight._data.T)
    node = _new(_WeightT)
    node._seq = next_seq()
    node.next_functions = (_edge_of(weight),)
    a = weight._data
    node._input_meta = ((a.shape, a.dtype),)
    node._output_meta = None
    node._saved = None
    wt._requires_grad = True
    wt.grad_fn = node
    return wt


def apply_linear(input, weight, bias):
    """The Linear node on checked arguments, the weight entering as weight.t() (torch's addmm
    and mm take it so): through a TBackward0 node when the weight requires grad, else a plain
    transposed view (sharing the weight's version, for backward's check), or its bare array
    when nothing is recorded."""
    if not _grad_state.enabled:
        wt = weight._data.T
    elif weight._requires_grad and weight._data.ndim == 2:
        wt = _transposed_weight(weight)
    else:
        wt = weight._view_of(weight._data.T)
    return Linear.apply(input, wt) if bias is None else Linear.apply(bias, input, wt)


_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}


def _c_name(dt):
    name = str(dt).split(".")[-1]
    return _C_NAMES.get(name, name)
