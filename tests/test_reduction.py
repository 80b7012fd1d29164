"""Reductions, softmax/logsumexp and scans against torch (values, dtypes, gradients, errors)."""
import numpy as np
import pytest
import torch

import ember
from oracle import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, check, check_raises

NUMERIC = ("bool",) + INT_DTYPES + FLOAT_DTYPES


# ---------------------------------------------------------------------------------------------
# softmax, log_softmax, logsumexp

@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax(fn, dim):
    check(lambda t, x: getattr(t, fn)(x, dim), [(3, 4)])
    check(lambda t, x: getattr(x, fn)(dim), [(3, 4)], dtypes="float64")
    check(lambda t, x: getattr(t, fn)(x, dim=dim, dtype=t.float64), [(2, 5)])


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_edges(fn):
    check(lambda t, x: getattr(t, fn)(x, 0), [()])
    check(lambda t, x: getattr(t, fn)(x, -1), [(0, 3)])
    check(lambda t, x: getattr(t, fn)(x.t(), 1), [(4, 3)])   # non-contiguous
    big = np.array([[1000.0, 0.0, -1000.0], [-np.inf, 0.0, 1.0]], np.float32)
    check(lambda t, x: getattr(t, fn)(x, 1), inputs=[big], grad=False)
    check(lambda t, x: getattr(t, fn)(x, 0, dtype=t.float32), [(4,)], dtypes="int64")
    check_raises(lambda t, x: getattr(t, fn)(x, 0), [(3,)], dtypes="int64")
    check_raises(lambda t, x: getattr(t, fn)(x, 2), [(3, 2)])
    t_out = getattr(torch, fn)(torch.ones(2, requires_grad=True), 0)
    e_out = getattr(ember, fn)(ember.ones(2, requires_grad=True), 0)
    assert e_out.grad_fn.name() == t_out.grad_fn.name()


@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), ((0, 1), False), (-1, False)])
def test_logsumexp(dim, keepdim):
    check(lambda t, x: t.logsumexp(x, dim, keepdim), [(3, 4)])
    check(lambda t, x: x.logsumexp(dim, keepdim=keepdim), [(3, 4)], dtypes="float64")


def test_logsumexp_edges():
    check(lambda t, x: t.logsumexp(x, 0), [(4,)], dtypes="int64")
    check(lambda t, x: t.logsumexp(x, 0), [(4,)], dtypes="bool")
    check(lambda t, x: t.logsumexp(x, 0), [()])
    check(lambda t, x: t.logsumexp(x, 0), [(0, 3)])
    inf = np.array([[np.inf, 1.0], [-np.inf, -np.inf], [1e4, 1e4]], np.float64)
    check(lambda t, x: t.logsumexp(x, 1), inputs=[inf], grad=False)
    check(lambda t, x: t.logsumexp(x, 1), [(3, 2)], dtypes="float16")
    check_raises(lambda t, x: t.logsumexp(x, 3), [(3, 2)])
    check_raises(lambda t, x: t.logsumexp(x), [(3, 2)])


# ---------------------------------------------------------------------------------------------
# sum, mean, prod, nansum, nanmean

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_sum_prod_dtypes(dtype):
    # (full reductions of complex inputs: the oracle cannot draw 0-d complex upstream grads)
    check(lambda t, x: t.sum(x, (0, 1), keepdim="complex" in dtype), [(3, 4)], dtypes=dtype)
    check(lambda t, x: x.sum((0, -1), keepdim=True), [(2, 3, 2)], dtypes=dtype)
    check(lambda t, x: t.prod(x, 1), [(3, 4)], dtypes=dtype)
    check(lambda t, x: t.nansum(x, 0), [(3, 4)], dtypes=dtype) if "complex" not in dtype else None


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
def test_mean(dtype):
    check(lambda t, x: t.mean(x, None, keepdim=True), [(3, 4)], dtypes=dtype)
    check(lambda t, x: t.mean(x), [(3, 4)], dtypes=dtype, grad="complex" not in dtype)
    check(lambda t, x: x.mean([0, 2]), [(2, 3, 4)], dtypes=dtype)
    check(lambda t, x: x.mean(-1, True), [(2, 3)], dtypes=dtype)


def test_sum_mean_args():
    check(lambda t, x: t.sum(x, 0), [()])
    check(lambda t, x: t.sum(x, ()), [(2, 3)])
    check(lambda t, x: t.sum(x, 1), [(0, 3)])
    check(lambda t, x: t.mean(x, 0), [(0, 3)])
    check(lambda t, x: t.sum(x, dtype=t.float64), [(2, 3)])
    check(lambda t, x: t.sum(x, dtype=t.uint8), [(2, 3)], dtypes="uint8")
    check(lambda t, x: t.mean(x, dtype=t.float64), [(2, 3)], dtypes="int32")
    check(lambda t, x: t.sum(x.t(), 0), [(3, 4)])
    check_raises(lambda t, x: t.mean(x), [(2,)], dtypes="int64")
    check_raises(lambda t, x: t.mean(x, dtype=t.int64), [(2,)])
    check_raises(lambda t, x: t.sum(x, 2), [(2, 3)])
    check_raises(lambda t, x: t.sum(x, 1), [()])
    check_raises(lambda t, x: t.mean(x, (0, 0)), [(2, 3)])


@pytest.mark.parametrize("shape,dim", [((64, 1024), 1), ((8, 16, 1000), (1, 2)),
                                       ((2, 8192), None), ((512, 17), -1), ((40, 300), 1),
                                       ((20, 20, 131), -1), ((128, 128), 0)])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_sum_mean_large(shape, dim, dtype):
    # large float inputs take the blocked BLAS path (trailing dims of C-contiguous arrays)
    check(lambda t, x: t.sum(x, dim) if dim is not None else t.sum(x), [shape], dtypes=dtype)
    check(lambda t, x: t.mean(x, dim, keepdim=True) if dim is not None else t.mean(x),
          [shape], dtypes=dtype)
    check(lambda t, x: t.sum(x.transpose(0, 1), -1), [shape], dtypes=dtype, grad=False)


def test_sum_large_specials():
    a = np.random.default_rng(0).standard_normal((16, 1024)).astype(np.float32)
    a[0, 5], a[1, 7], a[2, 3], a[2, 900], a[3] = np.nan, np.inf, np.inf, -np.inf, -0.0
    check(lambda t, x: t.sum(x, 1), inputs=[a], grad=False)
    check(lambda t, x: t.mean(x, 1), inputs=[a], grad=False)


def test_prod_grad_with_zeros():
    for a in ([1.0, 0.0, 2.0, 3.0], [1.0, 0.0, 2.0, 0.0], [[0.0, 2.0], [3.0, 4.0]],
              [[0.0, 2.0, 5.0], [3.0, 0.0, 0.0]]):
        arr = np.array(a)
        check(lambda t, x: t.prod(x), inputs=[arr])
        check(lambda t, x: t.prod(x, -1), inputs=[arr])
        check(lambda t, x: t.prod(x, 0, keepdim=True), inputs=[arr])
    check(lambda t, x: t.prod(x, 0), [(0, 3)])
    check(lambda t, x: t.prod(x), [()])
    check_raises(lambda t, x: t.prod(x, (0, 1)), [(2, 3)])


def test_nansum_nanmean():
    a = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, np.nan]])
    check(lambda t, x: t.nansum(x), inputs=[a])
    check(lambda t, x: t.nansum(x, 1), inputs=[a])
    check(lambda t, x: t.nanmean(x, 1), inputs=[a])
    check(lambda t, x: x.nanmean(), inputs=[a])
    check(lambda t, x: t.nansum(x, 0), [(3,)], dtypes="int8")
    check_raises(lambda t, x: t.nanmean(x), [(3,)], dtypes="int64")


# ---------------------------------------------------------------------------------------------
# var, std

@pytest.mark.parametrize("fn", ["var", "std"])
def test_var_std(fn):
    check(lambda t, x: getattr(t, fn)(x), [(3, 4)])
    check(lambda t, x: getattr(t, fn)(x, 1), [(3, 4)], dtypes="float64")
    check(lambda t, x: getattr(t, fn)(x, 1, True, True), [(3, 4)])
    check(lambda t, x: getattr(t, fn)(x, False), [(5,)])
    check(lambda t, x: getattr(t, fn)(x, (0, 2), correction=0), [(2, 3, 4)])
    check(lambda t, x: getattr(x, fn)(dim=0, unbiased=False, keepdim=True), [(3, 2)])
    check(lambda t, x: getattr(t, fn)(x, correction=2.5), [(6,)])
    check(lambda t, x: getattr(t, fn)(x, 0), [(3, 2)], dtypes="complex64")
    check(lambda t, x: getattr(t, fn)(x.t(), 0), [(3, 2)])
    const = np.ones((2, 3))
    check(lambda t, x: getattr(t, fn)(x, 1), inputs=[const])
    check_raises(lambda t, x: getattr(t, fn)(x), [(3,)], dtypes="int64")
    check_raises(lambda t, x: getattr(t, fn)(x, 3), [(3,)])


def test_var_std_degenerate():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda t, x: t.var(x), [(1,)], grad=False)
        check(lambda t, x: t.std(x, 0), [(0, 2)], grad=False)


@pytest.mark.parametrize("fn", ["var_mean", "std_mean"])
def test_var_std_mean(fn):
    check(lambda t, x: getattr(t, fn)(x), [(3, 4)])
    check(lambda t, x: getattr(t, fn)(x, 1, keepdim=True, correction=0), [(3, 4)])
    check(lambda t, x: getattr(t, fn)(x, [0], True), [(3, 4)])


# ---------------------------------------------------------------------------------------------
# max, min, amax, amin, aminmax, argmax, argmin

@pytest.mark.parametrize("dtype", NUMERIC)
def test_max_min_dtypes(dtype):
    for fn in ("max", "min"):
        check(lambda t, x: getattr(t, fn)(x), [(3, 4)], dtypes=dtype)
        check(lambda t, x: tuple(getattr(t, fn)(x, 1)), [(3, 4)], dtypes=dtype)
        check(lambda t, x: tuple(getattr(x, fn)(dim=0, keepdim=True)), [(3, 4)], dtypes=dtype)
    for fn in ("amax", "amin"):
        check(lambda t, x: getattr(t, fn)(x, (0, 1)), [(2, 3, 2)], dtypes=dtype)
    if dtype != "bool":
        for fn in ("argmax", "argmin"):
            check(lambda t, x: getattr(t, fn)(x), [(3, 4)], dtypes=dtype)
            check(lambda t, x: getattr(t, fn)(x, 1, True), [(3, 4)], dtypes=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "uint8"])
def test_amax_amin_rows(dtype):
    # the last-axis path seeds the reduction with -inf/+inf (or the integer limits)
    a = np.random.default_rng(1).standard_normal((6, 130)) * 100
    if dtype.startswith("float"):
        a[1, 7], a[2, 0] = np.nan, np.inf
    for fn in ("amax", "amin"):
        check(lambda t, x: getattr(t, fn)(x, -1), inputs=[a.astype(dtype)],
              grad=dtype.startswith("float"))
        check(lambda t, x: getattr(t, fn)(x, (0, 1), keepdim=True), inputs=[a.astype(dtype)],
              grad=dtype.startswith("float"))


def test_max_ties_and_nan():
    a = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0], [1.0, np.nan, 2.0, np.nan]])
    for fn in ("max", "min"):
        check(lambda t, x: tuple(getattr(t, fn)(x, 1)), inputs=[a])
        check(lambda t, x: getattr(t, fn)(x[:2]), inputs=[a])
        check(lambda t, x: getattr(t, fn)(x), inputs=[a])
    for fn in ("amax", "amin"):
        check(lambda t, x: getattr(t, fn)(x, 1), inputs=[a])
        check(lambda t, x: getattr(t, fn)(x, 0, True), inputs=[a])
    for fn in ("argmax", "argmin"):
        check(lambda t, x: getattr(t, fn)(x, 1), inputs=[a])
        check(lambda t, x: getattr(t, fn)(x), inputs=[a])
    check(lambda t, x: t.aminmax(x, dim=1), inputs=[a[:2]])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_max_dim_and_argmax_nan_half_types(dtype):
    """The first NaN wins in max/min(dim) and argmax/argmin of half types too (NumPy's
    argmax does it for every float dtype ember uses, bfloat16 included)."""
    a = np.array([[1.0, 3.0, 3.0, 2.0], [1.0, np.nan, 2.0, np.nan], [np.nan, 0.5, 9.0, 1.0]])
    for fn in ("max", "min"):
        check(lambda t, x: tuple(getattr(t, fn)(x.to(getattr(t, dtype)), 1)), inputs=[a])
    for fn in ("argmax", "argmin"):
        check(lambda t, x: getattr(t, fn)(x.to(getattr(t, dtype)), 1), inputs=[a], grad=False)
        check(lambda t, x: getattr(t, fn)(x.to(getattr(t, dtype))), inputs=[a], grad=False)


def test_max_forms():
    check(lambda t, x, y: t.max(x, y), [(2, 3), (3,)])
    check(lambda t, x, y: t.min(x, y), [(2, 3), (2, 1)])
    tie = np.array([1.0, 2.0, 3.0])
    check(lambda t, x, y: t.max(x, y), inputs=[tie, tie.copy()])
    check(lambda t, x: tuple(t.max(x, 0)), [()])
    check(lambda t, x: tuple(t.min(x, 1)), [(0, 3)])
    check(lambda t, x: t.amax(x, 1), [(0, 3)])
    check(lambda t, x: tuple(t.max(x.t(), 1)), [(4, 3)])
    check(lambda t, x: t.aminmax(x), [(3, 4)])
    check(lambda t, x: tuple(t.aminmax(x, dim=0, keepdim=True)), [(3, 4)])
    check(lambda t, x: t.argmax(x, keepdim=True), [(3, 4)])
    check(lambda t, x: t.argmax(x, 0), [()])
    vals, idx = ember.tensor([[1.0, 5.0], [7.0, 2.0]]).max(dim=1)
    r = ember.tensor([[1.0, 5.0], [7.0, 2.0]]).max(1)
    assert r.values is r[0] and r.indices is r[1] and idx.tolist() == [1, 0]
    assert repr(r) == repr(torch.tensor([[1.0, 5.0], [7.0, 2.0]]).max(1)).replace("torch.",
                                                                                 "ember.")
    x = ember.ones(2, 3, requires_grad=True)
    t = torch.ones(2, 3, requires_grad=True)
    for e_out, t_out in ((x.max(1).values, t.max(1).values), (x.max(), t.max()),
                         (x.amin(1), t.amin(1)), (ember.maximum(x, x), torch.maximum(t, t))):
        assert e_out.grad_fn.name() == t_out.grad_fn.name()


def test_max_errors():
    for fn in ("max", "min", "amax", "amin", "argmax", "argmin", "aminmax"):
        check_raises(lambda t, x: getattr(t, fn)(x), [(0, 3)])
    for fn in ("max", "amax", "argmax"):
        check_raises(lambda t, x: getattr(t, fn)(x, 0), [(0, 3)])
        check_raises(lambda t, x: getattr(t, fn)(x, 2), [(2, 3)])
    check_raises(lambda t, x: t.argmax(x), [(3,)], dtypes="bool")
    check_raises(lambda t, x: t.amax(x, (0, 0)), [(2, 3)])
    check_raises(lambda t, x: t.max(x, (0, 1)), [(2, 3)])


# ---------------------------------------------------------------------------------------------
# all, any, count_nonzero, norm

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_all_any(dtype):
    for fn in ("all", "any"):
        check(lambda t, x: getattr(t, fn)(x), [(3, 4)], dtypes=dtype, grad=False)
        check(lambda t, x: getattr(t, fn)(x, 1, True), [(3, 4)], dtypes=dtype, grad=False)
        check(lambda t, x: getattr(x, fn)((0, 1)), [(3, 4)], dtypes=dtype, grad=False)
    check(lambda t, x: t.count_nonzero(x), [(3, 4)], dtypes=dtype)
    check(lambda t, x: t.count_nonzero(x, (0, 1)), [(3, 4)], dtypes=dtype)
    check(lambda t, x: x.count_nonzero(dim=-1), [(3, 4)], dtypes=dtype)


def test_all_any_edges():
    check(lambda t, x: (t.all(x), t.any(x)), [(0,)])
    check(lambda t, x: (t.all(x, 0), t.any(x, 0)), [(0, 2)])
    check(lambda t, x: (t.all(x, 0), t.any(x, -1)), [()])


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 0, float("inf"), float("-inf"), "fro"])
def test_norm(p):
    check(lambda t, x: t.norm(x, p), [(3, 4)])
    check(lambda t, x: x.norm(p, dim=1, keepdim=True), [(3, 4)], dtypes="float64")
    if p not in (float("inf"), float("-inf")):
        check(lambda t, x: t.norm(x, p, dim=(0, 1)), [(3, 4)])


def test_norm_edges():
    check(lambda t, x: t.norm(x), [(3, 4)], dtypes="complex64")
    check(lambda t, x: t.norm(x), [(3, 4)], dtypes="float16")
    check(lambda t, x: t.norm(x, dtype=t.float64), [(3, 4)])
    check(lambda t, x: t.norm(x), [(0, 3)])
    check(lambda t, x: t.norm(x, 2, 1), inputs=[np.zeros((2, 3))])
    check(lambda t, x: t.norm(x, float("inf")), inputs=[np.array([1.0, -3.0, 3.0])])
    check_raises(lambda t, x: t.norm(x), [(3,)], dtypes="int64")
    check_raises(lambda t, x: t.norm(x, "fro", (0, 1, 2)), [(2, 2, 2)])


# ---------------------------------------------------------------------------------------------
# scans

@pytest.mark.parametrize("dtype", NUMERIC)
def test_scan_dtypes(dtype):
    check(lambda t, x: t.cumsum(x, 1), [(3, 4)], dtypes=dtype)
    check(lambda t, x: t.cumprod(x, 0), [(3, 4)], dtypes=dtype)
    check(lambda t, x: tuple(t.cummax(x, 1)), [(3, 4)], dtypes=dtype)
    check(lambda t, x: tuple(x.cummin(0)), [(3, 4)], dtypes=dtype)


def test_scans():
    check(lambda t, x: t.cumsum(x, -1, dtype=t.float64), [(3, 4)])
    check(lambda t, x: t.cumsum(x, 0), [()])
    check(lambda t, x: t.cumsum(x, 1), [(0, 3)])
    check(lambda t, x: t.cumprod(x, 0), [()])
    check(lambda t, x: t.cumsum(x.t(), 1), [(4, 3)])
    check(lambda t, x: t.logcumsumexp(x, 1), [(3, 4)])
    check(lambda t, x: t.logcumsumexp(x, 0), [(5,)], dtypes="float64")
    check(lambda t, x: t.logcumsumexp(x, 0), [()])
    check(lambda t, x: tuple(t.cummax(x, 0)), [()])
    check(lambda t, x: tuple(t.cummax(x, 0)), [(0, 2)])
    a = np.array([[1.0, 3.0, 3.0, 2.0], [1.0, np.nan, 3.0, np.nan]])
    check(lambda t, x: tuple(t.cummax(x, 1)), inputs=[a])
    check(lambda t, x: tuple(t.cummin(x, 1)), inputs=[a])
    check_raises(lambda t, x: t.cumsum(x, 2), [(2, 3)])
    check_raises(lambda t, x: t.logcumsumexp(x, 0), [(3,)], dtypes="int64")


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_logcumsumexp(dtype):
    """torch's complex scan keeps the imaginary part near the operand with the larger real
    part (not the principal angle): values, dtype and the gradient against torch, along each
    dim and through a transposed view, with phases wide enough to cross pi."""
    rng = np.random.default_rng(3)
    a = (rng.standard_normal((6, 40)) * 3 + 1j * rng.standard_normal((6, 40)) * 4).astype(dtype)
    check(lambda t, x: t.logcumsumexp(x, 1), inputs=[a])
    check(lambda t, x: t.logcumsumexp(x.t(), 0), inputs=[a])
    check(lambda t, x: x.logcumsumexp(-2), inputs=[a])
    # magnitudes of 1000 (float32 keeps 1e-4 of them: its gradients differ at that level)
    check(lambda t, x: t.logcumsumexp(x, 0), inputs=[np.array([1000 + 1j, -1000 + 2j,
                                                               1000 - 1j, 3 + 3j], dtype)],
          grad=dtype == "complex128")


def test_complex_logcumsumexp_edges():
    """Ties of real parts, -inf (zero) terms, +inf and NaN give torch's values."""
    inf, nan = np.inf, np.nan
    for row in ([1 + 3j, 1 - 3j, 1 + 3j], [complex(-inf, 5), complex(-inf, 2), 1 + 3j,
                                           complex(-inf, 5)],
                [1 + 3j, 2 + 1j, complex(inf, 2), 1 + 3j], [1 + 3j, complex(nan, 2), 3 + 1j],
                [1 + 3j, complex(2, nan), 3 + 1j]):
        x = np.array(row, np.complex128)
        np.testing.assert_allclose(ember.logcumsumexp(ember.tensor(x), 0).numpy(),
                                   torch.logcumsumexp(torch.tensor(x), 0).numpy(), rtol=1e-12,
                                   equal_nan=True)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_logcumsumexp_double_backward(dtype):
    """The gradient is built from Tensor ops under create_graph, so second derivatives match
    torch's (also where the upstream gradient has zeros and both signs)."""
    rng = np.random.default_rng(4)
    x0 = rng.standard_normal((3, 7)) * 3
    g0 = rng.standard_normal((3, 7))
    g0[0, 2] = 0
    if dtype == "complex128":
        x0 = x0 + 1j * rng.standard_normal((3, 7)) * 3
        g0 = g0 + 1j * rng.standard_normal((3, 7))
    results = []
    for t in (torch, ember):
        x = t.tensor(x0, requires_grad=True)
        y = t.logcumsumexp(x, 1)
        gx, = t.autograd.grad(y, x, t.tensor(g0), create_graph=True)
        loss = (gx * gx.conj()).real.sum() + (y * y.conj()).real.sum()
        ggx, = t.autograd.grad(loss, x)
        results.append((gx.detach().resolve_conj().numpy(), ggx.resolve_conj().numpy()))
    for e, r in zip(results[1], results[0]):
        np.testing.assert_allclose(e, r, rtol=1e-10, atol=1e-12)
    x = ember.tensor(x0[:2, :4].copy(), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda v: ember.logcumsumexp(v, 1), (x,))


def test_cumprod_grad_with_zeros():
    for a in ([2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 0.0, 5.0], [[1.0, 2.0, 0.0], [0.0, 0.0, 3.0]]):
        check(lambda t, x: t.cumprod(x, -1), inputs=[np.array(a)])
        check(lambda t, x: t.cumprod(x, 0), inputs=[np.array(a)])


def test_cumsum_inplace():
    check(lambda t, x: x.clone().cumsum_(0), [(3, 2)])
    check(lambda t, x: x.clone().cumprod_(1), [(3, 2)])


def test_double_backward():
    for fn in (lambda t, x: t.softmax(x, 1), lambda t, x: t.logsumexp(x, 1),
               lambda t, x: t.var(x, 1), lambda t, x: x.max(1).values,
               lambda t, x: t.cumsum(x, 1), lambda t, x: t.log_softmax(x, 0)):
        outs = []
        for lib in (torch, ember):
            x = lib.tensor(np.random.default_rng(1).standard_normal((2, 3)),
                           requires_grad=True)
            y = fn(lib, x)
            (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
            (gg,) = lib.autograd.grad((g * g).sum(), x)
            outs.append(gg.detach().numpy())
        np.testing.assert_allclose(outs[1], outs[0], rtol=1e-8, atol=1e-10)
