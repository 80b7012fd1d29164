"""gradcheck / gradgradcheck: compare backward with central finite differences.

Inputs should be float64 (finite differences in float32 are too coarse); each input that requires
grad is perturbed element by element, and each output element is back-propagated with a one-hot
gradient to build the analytic Jacobian.

Complex numbers are compared as pairs of reals, as torch does. torch's gradient of a real loss L
with respect to z = x + iy is dL/dx + i dL/dy, so backward with the upstream gradient 1 (or i)
at one output element gives the derivatives of that element's real (or imaginary) part with
respect to every input's real and imaginary parts: the rows of the Jacobian of the real map.
"""
import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    from ember._tensor import Tensor
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _differentiable_outputs(func, inputs):
    from ember._tensor import Tensor
    outs = _as_tuple(func(*inputs))
    return [o for o in outs if isinstance(o, Tensor) and o.requires_grad]


def _units(a):
    """The directions of one element: 1, and i for complex arrays."""
    return (1, 1j) if a.dtype.kind == "c" else (1,)


def _real(v):
    """A flat array as reals: (re, im) pairs for complex values."""
    v = np.asarray(v).reshape(-1)
    return np.stack([v.real, v.imag], -1).reshape(-1) if v.dtype.kind == "c" else v


def _numerical_jacobian(func, inputs, wrt, eps):
    """J[i][j]: d(output j as reals) / d(input wrt[i] as reals), by central differences."""
    from ember.autograd.grad_mode import no_grad
    jac = []
    with no_grad():
        base = [o.detach() for o in _as_tuple(func(*inputs)) if hasattr(o, "_data")]
        for t in wrt:
            flat = t._data.reshape(-1)   # a view of the input's memory (inputs are contiguous)
            cols = []
            for k in range(flat.size):
                orig = flat[k].copy()
                for unit in _units(flat):
                    flat[k] = orig + eps * unit
                    plus = [o._data.copy() for o in _as_tuple(func(*inputs))
                            if hasattr(o, "_data")]
                    flat[k] = orig - eps * unit
                    minus = [o._data.copy() for o in _as_tuple(func(*inputs))
                             if hasattr(o, "_data")]
                    flat[k] = orig
                    cols.append([_real((p - m) / (2 * eps)) for p, m in zip(plus, minus)])
            jac.append([np.stack([c[j] for c in cols], axis=1) if cols else
                        np.zeros((_real(base[j]._data).size, 0)) for j in range(len(base))])
    return jac


def _analytical_jacobian(func, inputs, wrt):
    from ember.autograd import grad as autograd_grad
    from ember._tensor import Tensor
    outs = _differentiable_outputs(func, inputs)
    jac = [[np.zeros((_real(o._data).size, _real(t._data).size)) for o in outs] for t in wrt]
    for j, o in enumerate(outs):
        row = 0
        for r in range(o._data.size):
            for unit in _units(o._data):
                onehot = np.zeros(o._data.size, dtype=o._data.dtype)
                onehot[r] = unit
                g = autograd_grad(o, wrt, Tensor._make(onehot.reshape(o._data.shape)),
                                  retain_graph=True, allow_unused=True)
                for i, gi in enumerate(g):
                    if gi is not None:
                        jac[i][j][row] = _real(gi._data.astype(wrt[i]._data.dtype))
                row += 1
    return jac, outs


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """True when analytic and numerical Jacobians agree within atol + rtol * |numerical|."""
    from ember._tensor import Tensor
    inputs = _as_tuple(inputs)
    wrt = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for t in wrt:
        if t.dtype.itemsize < 8 and t.is_floating_point():
            import warnings
            warnings.warn(f"Input #{inputs.index(t)} requires gradient and is not a double "
                          "precision floating point. This check will likely fail if all the "
                          "inputs are not of double precision floating point.")
    analytical, outs = _analytical_jacobian(func, inputs, wrt)
    numerical = _numerical_jacobian(func, inputs, wrt, eps)
    all_outs = [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor)]
    diff_idx = [k for k, o in enumerate(all_outs) if o.requires_grad]
    for i in range(len(wrt)):
        for j, k in enumerate(diff_idx):
            a, n = analytical[i][j], numerical[i][k]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                if raise_exception:
                    raise GradcheckError(f"Jacobian mismatch for output {k} with respect to "
                                         f"input {i},\nnumerical:{n}\nanalytical:{a}\n")
                return False
    return True


def _random_like(rng, a):
    """Standard normal values of a's shape and dtype (complex: both parts random)."""
    v = rng.standard_normal(a.shape)
    if a.dtype.kind == "c":
        v = v + 1j * rng.standard_normal(a.shape)
    return v.astype(a.dtype)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of the first-order gradients (checks double backward)."""
    from ember._tensor import Tensor
    from ember.autograd import grad as autograd_grad
    inputs = _as_tuple(inputs)
    outs = _differentiable_outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [Tensor._make(_random_like(rng, o._data)).requires_grad_()
                        for o in outs]
    grad_outputs = list(_as_tuple(grad_outputs))
    n_in = len(inputs)
    wrt_pos = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]

    def first_order(*args):
        from ember.autograd.grad_mode import enable_grad
        ins, gos = args[:n_in], args[n_in:]
        with enable_grad():   # also when gradcheck perturbs inputs under no_grad
            outs = _differentiable_outputs(func, ins)
            wrt = [ins[i] for i in wrt_pos]
            g = autograd_grad(outs, wrt, gos, create_graph=True, allow_unused=True)
        return tuple(x for x in g if x is not None)

    return gradcheck(first_order, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
