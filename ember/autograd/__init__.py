"""`ember.autograd`: reverse-mode differentiation (see graph.py for the engine)."""
from ember._tensor import Tensor
from ember.autograd import graph
from ember.autograd.anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from ember.autograd.function import Function, FunctionCtx, InplaceFunction, once_differentiable
from ember.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                      is_inference_mode_enabled, no_grad, set_grad_enabled)
from ember.autograd.gradcheck import gradcheck, gradgradcheck

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "detect_anomaly", "set_detect_anomaly", "gradcheck", "gradgradcheck", "Variable",
           "graph", "functional"]

Variable = Tensor   # the legacy name: Variable(t) is t


def _tensors(x):
    return (x,) if isinstance(x, (Tensor, graph.GradientEdge)) else tuple(x)


def _make_grads(outputs, grads, create_graph):
    """Fill in implicit gradients (ones for scalars) and check the given ones' shapes."""
    from ember._ops.creation import ones_like
    out = []
    for i, (o, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if o._requires_grad and o._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not o._requires_grad:
                raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                                   f"have a grad_fn")
            g = ones_like(o)
        elif not isinstance(g, Tensor):
            from ember._ops.creation import tensor
            g = tensor(g, dtype=o.dtype)
        elif g._data.shape != o._data.shape:
            if g._data.size == o._data.size == 1:
                g = g.reshape(o.shape)
            else:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{g.shape} and output[{i}] has a shape of {o.shape}.")
        out.append(g)
    return out


def _normalize(tensors, grad_tensors):
    tensors = _tensors(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    else:
        grad_tensors = list(_tensors(grad_tensors)) if not isinstance(grad_tensors, (list, tuple)) \
            else list(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"grad_tensors should have the same length as tensors (got "
                           f"{len(grad_tensors)} and {len(tensors)})")
    return tensors, grad_tensors


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """Accumulate gradients of `tensors` (weighted by `grad_tensors`) into the leaves' .grad."""
    if grad_variables is not None:
        grad_tensors = grad_variables
    tensors, grad_tensors = _normalize(tensors, grad_tensors)
    if inputs is not None:
        inputs = _tensors(inputs)
        if len(inputs) == 0:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    grads = _make_grads(tensors, grad_tensors, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    graph.run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs`, returned (nothing accumulates)."""
    outputs, grad_outputs = _normalize(outputs, grad_outputs)
    single = isinstance(inputs, (Tensor, graph.GradientEdge))
    inputs = _tensors(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and any(isinstance(i, graph.GradientEdge) for i in inputs):
        raise RuntimeError("materialize_grads cannot be used when the given input is a "
                           "GradientEdge")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(outputs, grad_outputs, create_graph)
    result = graph.run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                                accumulate=False, allow_unused=allow_unused)
    if materialize_grads:
        from ember._ops.creation import zeros_like
        result = [zeros_like(i) if g is None else g for i, g in zip(inputs, result)]
    return tuple(result)


def __getattr__(name):
    if name == "functional":
        import importlib
        return importlib.import_module("ember.autograd.functional")
    raise AttributeError(f"module 'ember.autograd' has no attribute '{name}'")
