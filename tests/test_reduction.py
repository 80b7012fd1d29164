"""Reductions, softmax/logsumexp and scans against torch (values, dtypes, gradients, errors)."""
import os

import numpy as np
import pytest
import torch

import ember
from oracle import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, check, check_raises, to_numpy

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
                                       ((20, 20, 131), -1), ((128, 128), 0),
                                       ((16, 128, 40), 1), ((8, 64, 32), (0, 1)),
                                       ((1024, 40), 0), ((3, 600, 8, 5), (1, 2)),
                                       ((2, 257, 40), 1), ((4, 9, 20, 30), 1)])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_sum_mean_large(shape, dim, dtype):
    # large float inputs take the blocked BLAS paths (C-contiguous arrays reduced over a run
    # of neighbouring dims: row sums for trailing ones, column sums for leading or middle ones)
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


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32", "uint8"])
def test_amax_amin_rows(dtype):
    # the last-axis path seeds the reduction with -inf/+inf (or the integer limits)
    a = np.random.default_rng(1).standard_normal((40, 130)) * 100
    if dtype.startswith("float"):
        a[1, 7], a[2, 0], a[3, 9], a[3, 99] = np.nan, np.inf, np.nan, -np.inf
        a[4, 5:9] = a[4].max()   # ties share the gradient
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


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "float16"])
def test_max_argmax_down_wide_matrices(dtype):
    """max/min(dim) and argmax/argmin down the columns of a wide matrix (ember copies it
    transposed in strips first): ties keep the first index, the first NaN wins."""
    rng = np.random.default_rng(2)
    a = rng.integers(-50, 50, (40, 1100)).astype(np.float64)
    a[10:20, 3] = 60                # tied maxima
    a[[7, 30], 5] = np.nan          # the first NaN wins
    a[:, 6] = -70                   # a column all ties
    x = a.astype(dtype) if dtype != "int32" else np.nan_to_num(a, nan=0).astype(dtype)
    for fn in ("max", "min"):
        check(lambda t, v: tuple(getattr(t, fn)(v, 0)), inputs=[x], grad=dtype == "float64")
        check(lambda t, v: tuple(getattr(t, fn)(v.unsqueeze(0), 1, keepdim=True)), inputs=[x],
              grad=False)
    for fn in ("argmax", "argmin"):
        check(lambda t, v: getattr(t, fn)(v, 0), inputs=[x], grad=False)


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


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_two_norm_of_large_rows(dtype):
    """2-norms over trailing dims of large inputs (ember sums x * x by BLAS dots): values,
    keepdim shapes and gradients, with zero and infinite rows."""
    x = np.random.default_rng(5).standard_normal((64, 300))
    x[3] = 0.0
    x[4, 7] = np.inf
    check(lambda t, v: v.norm(dim=1), inputs=[x.astype(dtype)])
    check(lambda t, v: t.linalg.vector_norm(v, dim=(-2, -1), keepdim=True),
          inputs=[x.reshape(8, 8, 300).astype(dtype)])
    check(lambda t, v: t.nn.functional.normalize(v, dim=-1), inputs=[x[5:].astype(dtype)])
    check(lambda t, v: t.linalg.vector_norm(v), inputs=[x[5:].astype(dtype)])


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


# ---------------------------------------------------------------------------------------------
# diff, dist, cov, corrcoef, trapezoid / trapz, cumulative_trapezoid, renorm

def _double_backward(fn, shapes, seed=0):
    """Second derivatives of fn(lib, *xs) (through a squared-gradient loss) match torch's."""
    outs = []
    for lib in (torch, ember):
        rng = np.random.default_rng(seed)
        xs = [lib.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
        y = fn(lib, *xs)
        up = lib.tensor(np.random.default_rng(seed + 1).standard_normal(tuple(y.shape)))
        gs = lib.autograd.grad((y * up).sum(), xs, create_graph=True)
        ggs = lib.autograd.grad(sum((g * g).sum() for g in gs), xs)
        outs.append([to_numpy(gg) for gg in ggs])
    for e, t in zip(outs[1], outs[0]):
        np.testing.assert_allclose(e, t, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("n,dim", [(1, -1), (2, 0), (1, 1), (3, 1), (5, 0), (0, 0)])
def test_diff(n, dim):
    check(lambda t, x: t.diff(x, n=n, dim=dim), [(4, 5)])
    check(lambda t, x: x.diff(n, dim), [(4, 5)], dtypes="float64")
    check(lambda t, x: t.diff(x.t(), n, dim), [(5, 4)])   # non-contiguous


_COORDS = np.array([0.0, 0.5, 1.5, 3.0, 3.25])


@pytest.mark.parametrize("kw", [
    {}, {"edge_order": 2}, {"dim": 1}, {"dim": -1, "edge_order": 2}, {"dim": (0, 1)},
    {"spacing": 2.5}, {"spacing": [0.5, 3.0]}, {"spacing": [0.5], "dim": 0},
    {"coords": True}, {"coords": True, "edge_order": 2}], ids=lambda kw: str(kw))
def test_gradient(kw):
    """torch.gradient (NumPy's formulas): values and gradients (it is linear in the input),
    even and uneven spacing, both edge orders, one or several dims; an int input gives the
    default float dtype (or the coordinates')."""
    kw = dict(kw)
    if kw.pop("coords", False):
        def fn(t, x):
            return t.gradient(x, spacing=(t.tensor(_COORDS),), dim=1, **kw)
    else:
        def fn(t, x):
            return t.gradient(x, **kw)
    check(fn, [(4, 5)], dtypes="float64")
    check(fn, [(4, 5)], dtypes="int64")


def test_gradient_errors():
    for call in (lambda t, x: t.gradient(x, edge_order=3),
                 lambda t, x: t.gradient(x[:1], dim=0),
                 lambda t, x: t.gradient(x[:2], dim=0, edge_order=2),
                 lambda t, x: t.gradient(x, spacing=[1.0]),
                 lambda t, x: t.gradient(x, spacing=[1.0], dim=(0, 1)),
                 lambda t, x: t.gradient(x, spacing=[t.tensor(2.0)], dim=0)):
        check_raises(call, [(4, 5)], dtypes="float64")


@pytest.mark.parametrize("dtype", NUMERIC + ("float16", "complex64"))
def test_diff_dtypes(dtype):
    check(lambda t, x: t.diff(x), [(3, 6)], dtypes=dtype)
    check(lambda t, x: t.diff(x, n=2, dim=0), [(4, 3)], dtypes=dtype)


def test_diff_prepend_append():
    check(lambda t, x, a, b: t.diff(x, dim=0, prepend=a, append=b), [(3, 4), (2, 4), (1, 4)])
    check(lambda t, x, a: t.diff(x, n=2, append=a), [(3, 4), (3, 2)], dtypes="float64")
    check(lambda t, x, a: t.diff(x, n=0, prepend=a), [(3, 4), (3, 1)])
    # cat's promotion: int with float, float32 with float64, bool with int, bool with bool
    check(lambda t, x, a: t.diff(x, prepend=a), [(3, 4), (3, 2)], dtypes=["int64", "float32"])
    check(lambda t, x, a: t.diff(x, append=a), [(3, 4), (3, 2)], dtypes=["float32", "float64"])
    check(lambda t, x, a: t.diff(x, n=2, prepend=a), [(5,), (2,)], dtypes=["bool", "int32"])
    check(lambda t, x, a: t.diff(x, prepend=a), [(5,), (2,)], dtypes="bool")
    check(lambda t, x, a: t.diff(x, dim=0, prepend=a), [(0, 3), (2, 3)])


def test_diff_edges():
    check(lambda t, x: t.diff(x, dim=0), [(0, 3)])
    check(lambda t, x: t.diff(x, n=2, dim=1), [(0, 3)])
    check(lambda t, x: t.diff(x, n=4), [(3,)])
    for lib in (torch, ember):          # n=0: a copy (writes to it leave x alone)
        x = lib.ones(3)
        lib.diff(x, n=0).add_(1)
        assert x.tolist() == [1.0, 1.0, 1.0]
    check(lambda t, x: t.diff(x, out=t.empty(0)), [(3, 4)], grad=False)
    check(lambda t, x: t.renorm(x, 2, 0, 1.0, out=t.empty(0)), [(3, 4)], grad=False)
    for bad in (lambda t, x: t.diff(x),                                       # 0-d
                lambda t, x: t.diff(x[None], n=-1),
                lambda t, x: t.diff(x[None], dim=1),
                lambda t, x: t.diff(x[None], dim=(0,)),
                lambda t, x: t.diff(x[None], n=1.0),
                lambda t, x: t.diff(x[None], prepend=1.0),
                lambda t, x: t.diff(x[None], prepend=x),                       # 0-d prepend
                lambda t, x: t.diff(x.expand(2, 3), dim=0, append=x.expand(2, 2)),
                lambda t, x: t.diff(x.expand(2, 3), prepend=x.expand(3, 1))):
        check_raises(bad, [()])
    check_raises(lambda t, x: t.diff(x, dim=5, prepend=x), [(2, 3)])


def test_diff_double_backward():
    _double_backward(lambda t, x, a: t.diff(x * x, n=2, dim=0, prepend=a * a), [(4, 3), (1, 3)])


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 0, float("inf"), float("-inf"), -1.5])
def test_dist(p):
    grad = p != 0     # torch's DistBackward0 fails for p=0 (an undefined tensor); ember gives 0
    check(lambda t, x, y: t.dist(x, y, p), [(3, 4), (3, 4)], grad=grad)
    check(lambda t, x, y: x.dist(y, p=p), [(2, 3, 4), (4,)], dtypes="float64", grad=grad)
    check(lambda t, x, y: t.dist(x.t(), y, p), [(4, 3), (1, 4)], grad=grad)


def test_dist_dtypes_and_edges():
    check(lambda t, x, y: t.dist(x, y), [(3,), (3,)], dtypes=["int64", "float32"])
    check(lambda t, x, y: t.dist(x, y), [(3,), (3,)], dtypes=["float32", "float64"])
    check(lambda t, x, y: t.dist(x, y, 3), [(3, 2), (3, 2)], dtypes="complex64")
    check(lambda t, x, y: t.dist(x, y), [(3, 2), (3, 2)], dtypes="float16")
    check(lambda t, x, y: t.dist(x, y), [(), ()])
    check(lambda t, x, y: t.dist(x, y, t.tensor(3.0)), [(3,), (3,)])
    check(lambda t, x, y: t.dist(x, y), [(0, 2), (0, 2)])
    check(lambda t, x: t.dist(x, x.detach()), [(3,)])          # zero distance: zero gradient
    same = np.array([1.0, 2.0, 0.5])
    check(lambda t, x, y: t.dist(x, y, float("inf")), inputs=[same, -same])   # tied maxima
    check_raises(lambda t, x, y: t.dist(x, y), [(3,), (3,)], dtypes="int64")
    check_raises(lambda t, x, y: t.dist(x, y), [(3,), (3,)], dtypes="bool")
    check_raises(lambda t, x, y: t.dist(x, y), [(3,), (4,)])
    check_raises(lambda t, x, y: t.dist(x, y, float("inf")), [(0,), (0,)])
    check_raises(lambda t, x, y: t.dist(x, y, -1), [(0,), (0,)])
    check_raises(lambda t, x: t.dist(x, 2.0), [(3,)])
    check_raises(lambda t, x, y: t.dist(x, y, None), [(3,), (3,)])


@pytest.mark.parametrize("p", [2, 1, 3])
def test_dist_double_backward(p):
    _double_backward(lambda t, x, y: t.dist(x, y, p), [(3, 4), (4,)])


@pytest.mark.parametrize("correction", [1, 0, 2, -1])
def test_cov(correction):
    check(lambda t, x: t.cov(x, correction=correction), [(3, 6)])
    check(lambda t, x: x.cov(correction=correction), [(2, 5)], dtypes="float64")
    check(lambda t, x: t.cov(x.t(), correction=correction), [(6, 3)])
    check(lambda t, x: t.cov(x, correction=correction), [(1, 6)])          # squeezed to 0-d


def test_cov_weights():
    fw = np.array([1, 2, 3, 1, 0, 4])
    check(lambda t, x, f: t.cov(x, fweights=f), inputs=[make((3, 6)), fw])
    check(lambda t, x, f: t.cov(x, fweights=f), inputs=[make((3, 6)), fw.astype(np.uint8)])
    for corr in (0, 1, 3):
        check(lambda t, x, a: t.cov(x, correction=corr, aweights=a),
              inputs=[make((3, 6)), make((6,), high=2.0, low=0.1)])
        check(lambda t, x, f, a: t.cov(x, correction=corr, fweights=f, aweights=a),
              inputs=[make((3, 6), "float64"), fw, make((6,), "float64", low=0.1, high=2.0)])
    check(lambda t, x, a: t.cov(x, aweights=a),            # float32 with float64 weights
          inputs=[make((2, 6)), make((6,), "float64", low=0.1, high=2.0)])
    check(lambda t, x, a: t.cov(x, aweights=a), inputs=[make((6,)), make((6,), low=0.1)])
    # one observation (torch raises an in-place error on a weighted single observation that
    # requires grad: values only)
    check(lambda t, x, f: t.cov(x, fweights=f), inputs=[make((2, 1)), np.array(2)], grad=False)
    check(lambda t, x, f: t.cov(x, fweights=f), inputs=[make((2, 1)), np.array([3])], grad=False)


def test_cov_dtypes_and_edges():
    for dtype in INT_DTYPES + ("float64",):
        check(lambda t, x: t.cov(x), [(3, 5)], dtypes=dtype)
    check(lambda t, x, a: t.cov(x, aweights=a), inputs=[make((3, 5), "int32"),
                                                        make((5,), "float64", low=0.1)])
    check(lambda t, x: t.cov(x), [(3, 5)], dtypes="complex64")
    check(lambda t, x: t.cov(x), [(0, 4)])
    with pytest.warns(UserWarning, match="degrees of freedom"):
        check(lambda t, x: t.cov(x), [(3, 0)])
    with pytest.warns(UserWarning, match="degrees of freedom"):
        check(lambda t, x: t.cov(x), [(3, 1)])
    with pytest.warns(UserWarning, match="degrees of freedom"):
        check(lambda t, x: t.cov(x), [()], grad=False)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        check(lambda t, x: t.cov(x, correction=7), [(2, 5)], grad=False)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        check(lambda t, x, a: t.cov(x, correction=9, aweights=a),
              inputs=[make((2, 5)), make((5,), low=0.1)], grad=False)


def test_cov_errors():
    x = make((3, 4))
    for bad in (lambda t, x: t.cov(x.reshape(1, 3, 4)),
                lambda t, x: t.cov(x > 0),
                lambda t, x: t.cov(x, correction=1.5),
                lambda t, x: t.cov(x, correction=True),
                lambda t, x: t.cov(x, 0),
                lambda t, x: t.cov(x, fweights=t.ones(4)),
                lambda t, x: t.cov(x, fweights=t.ones(4, dtype=t.bool)),
                lambda t, x: t.cov(x, fweights=t.ones(1, 4, dtype=t.long)),
                lambda t, x: t.cov(x, fweights=t.ones(3, dtype=t.long)),
                lambda t, x: t.cov(x, fweights=-t.ones(4, dtype=t.long)),
                lambda t, x: t.cov(x, fweights=t.zeros(4, dtype=t.long)),
                lambda t, x: t.cov(x, aweights=t.ones(4, dtype=t.long)),
                lambda t, x: t.cov(x, aweights=t.ones(4, dtype=t.complex64)),
                lambda t, x: t.cov(x, aweights=t.ones(5)),
                lambda t, x: t.cov(x, aweights=-t.ones(4)),
                lambda t, x: t.cov(x, aweights=t.zeros(4))):
        check_raises(bad, inputs=[x])


def test_corrcoef():
    check(lambda t, x: t.corrcoef(x), [(4, 7)])
    check(lambda t, x: x.corrcoef(), [(3, 6)], dtypes="float64")
    check(lambda t, x: t.corrcoef(x.t()), [(6, 3)])
    check(lambda t, x: t.corrcoef(x), [(6,)])
    check(lambda t, x: t.corrcoef(x), [(3, 5)], dtypes="int64")
    check(lambda t, x: t.corrcoef(x), [(3, 6)], dtypes="complex128")
    check(lambda t, x: t.corrcoef(x), [(0, 4)])
    const = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0], [2.0, 4.0, 8.0]])
    check(lambda t, x: t.corrcoef(x), inputs=[const], grad=False)        # NaNs, clipping
    with pytest.warns(UserWarning, match="degrees of freedom"):
        check(lambda t, x: t.corrcoef(x), [()], grad=False)
    check_raises(lambda t, x: t.corrcoef(x), [(2, 2, 2)])
    check_raises(lambda t, x: t.corrcoef(x), [(2, 3)], dtypes="bool")


def test_cov_corrcoef_double_backward():
    _double_backward(lambda t, x, a: t.cov(x, correction=2, aweights=a * a + 1), [(3, 6), (6,)])
    _double_backward(lambda t, x: t.corrcoef(x), [(3, 6)])


@pytest.mark.parametrize("fn", ["trapezoid", "trapz", "cumulative_trapezoid"])
def test_trapezoid(fn):
    pts = np.array([0.0, 0.5, 2.0, 2.5, 4.0])
    check(lambda t, y: getattr(t, fn)(y), [(3, 5)])
    check(lambda t, y: getattr(t, fn)(y, dim=0), [(3, 5)], dtypes="float64")
    check(lambda t, y: getattr(t, fn)(y, dx=0.5, dim=-2), [(3, 5)])
    check(lambda t, y: getattr(t, fn)(y, dx=2), [(3, 5)])
    check(lambda t, y: getattr(t, fn)(y, dx=t.tensor(0.25)), [(3, 5)])
    check(lambda t, y: getattr(t, fn)(y.t(), dim=0), [(5, 3)])
    check(lambda t, y, x: getattr(t, fn)(y, x), inputs=[make((3, 5)), pts.astype(np.float32)])
    check(lambda t, y, x: getattr(t, fn)(y, x=x, dim=0), [(4, 3), (4,)], dtypes="float64")
    check(lambda t, y, x: getattr(t, fn)(y, x), [(3, 5), (3, 5)])           # same shape
    check(lambda t, y, x: getattr(t, fn)(y, x, dim=0), [(4, 3), (4, 1)])      # broadcast
    check(lambda t, y, x: getattr(t, fn)(y, x, dim=1), [(2, 4, 3), (4, 3)])   # fewer dims
    check(lambda t, y, x: getattr(t, fn)(y, x), [(3, 5), (5,)], dtypes=["float32", "float64"])
    check(lambda t, y: getattr(t, fn)(y), [(3, 5)], dtypes="float16")
    check(lambda t, y: getattr(t, fn)(y), [(3, 5)], dtypes="complex64")


@pytest.mark.parametrize("fn", ["trapezoid", "trapz", "cumulative_trapezoid"])
@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_trapezoid_integer(fn, dtype):
    check(lambda t, y: getattr(t, fn)(y), [(3, 5)], dtypes=dtype)
    check(lambda t, y: getattr(t, fn)(y, dx=3), [(3, 5)], dtypes=dtype)
    check(lambda t, y: getattr(t, fn)(y, dx=0.5), [(3, 5)], dtypes=dtype)
    check(lambda t, y, x: getattr(t, fn)(y, x), [(3, 5), (5,)], dtypes=[dtype, "int16"])
    check(lambda t, y, x: getattr(t, fn)(y, x), [(3, 5), (5,)], dtypes=[dtype, "float64"])


@pytest.mark.parametrize("fn", ["trapezoid", "trapz", "cumulative_trapezoid"])
def test_trapezoid_edges(fn):
    f = lambda t: getattr(t, fn)                                        # noqa: E731
    check(lambda t, y: f(t)(y), [(3, 1)])
    check(lambda t, y, x: f(t)(y, x), [(3, 1), (1,)])
    check(lambda t, y: f(t)(y, dim=0), [(0, 4)])
    check(lambda t, y: f(t)(y), [(4,)])
    check(lambda t, y: f(t)(y), [(3, 0)], dtypes="int64")
    check(lambda t, y, x: f(t)(y, x), [(3, 0), (0,)])
    if fn != "cumulative_trapezoid":     # an empty dim short-cuts to zeros of y's dtype
        check(lambda t, y: f(t)(y), [(3, 0)], dtypes="bool")
        check(lambda t, y, x: f(t)(y, x), [(3, 0), (4,)])
    else:
        check_raises(lambda t, y: f(t)(y), [(3, 0)], dtypes="bool")
        check_raises(lambda t, y, x: f(t)(y, x), [(3, 0), (4,)])
    for bad in (lambda t, y, x: f(t)(y, x[:4]),
                lambda t, y, x: f(t)(y, x.expand(2, 5)),
                lambda t, y, x: f(t)(y, x[0]),
                lambda t, y, x: f(t)(y, x > 0),
                lambda t, y, x: f(t)(y > 0),
                lambda t, y, x: f(t)(y > 0, x),
                lambda t, y, x: f(t)(y > 0, dx=2),
                lambda t, y, x: f(t)(y, dim=2),
                lambda t, y, x: f(t)(y, x, dim=-3),
                lambda t, y, x: f(t)(y, dim=1.0),
                lambda t, y, x: f(t)(y[0, 0]),
                lambda t, y, x: f(t)(y[0, 0], x[:1]),
                lambda t, y, x: f(t)(y, 0.5),
                lambda t, y, x: f(t)(y, x, dx=1.0),
                lambda t, y, x: f(t)(y, dx=1j),
                lambda t, y, x: f(t)(y, dx="a"),
                lambda t, y, x: f(t)(y, dx=t.ones(2)),
                lambda t, y, x: f(t)(y, [0, 1, 2, 3, 4])):
        check_raises(bad, [(3, 5), (5,)])
    assert not hasattr(torch.Tensor, fn) and not hasattr(ember.Tensor, fn)


def test_trapezoid_dx_bool():
    """trapz takes a float dx (True is 1.0); trapezoid and cumulative_trapezoid refuse bool."""
    check(lambda t, y: t.trapz(y, dx=True), [(3, 4)])
    check_raises(lambda t, y: t.trapezoid(y, dx=True), [(3, 4)])
    check_raises(lambda t, y: t.cumulative_trapezoid(y, dx=True), [(3, 4)])


def test_trapezoid_double_backward():
    for fn in ("trapezoid", "cumulative_trapezoid"):
        _double_backward(lambda t, y, x: getattr(t, fn)(y * y, x * x, dim=0), [(4, 3), (4, 1)])
        _double_backward(lambda t, y: getattr(t, fn)(y * y, dx=0.5), [(4, 3)])


@pytest.mark.parametrize("p,dim,maxnorm", [(2, 0, 1.0), (2, 1, 2.0), (1, -1, 1.5),
                                           (3, 0, 0.5), (0.5, 1, 4.0), (float("inf"), 0, 1.0),
                                           (2, 0, 0), (2, 1, 100.0)])
def test_renorm(p, dim, maxnorm):
    check(lambda t, x: t.renorm(x, p, dim, maxnorm), [(4, 3)], high=3, low=-3)
    check(lambda t, x: x.renorm(p, dim, maxnorm), [(2, 3, 4)], dtypes="float64")
    check(lambda t, x: t.renorm(x.t(), p=p, dim=dim, maxnorm=maxnorm), [(3, 4)])


def test_renorm_dtypes_and_edges():
    check(lambda t, x: t.renorm(x, 2, 0, 1), [(3, 4)], dtypes="float16")
    check(lambda t, x: t.renorm(x, 2, 1, 1), [(3, 4)], dtypes="complex64")
    check(lambda t, x: t.renorm(x, 2, 0, 1), [(0, 3)])
    check(lambda t, x: t.renorm(x, 2, 1, 1), [(0, 3)])
    check(lambda t, x: t.renorm(x, t.tensor(2.0), 0, t.tensor(1.0)), [(3, 4)])
    rows = np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0], [0.3, 0.4, 0.0]])
    check(lambda t, x: t.renorm(x, 2, 0, 1), inputs=[rows])          # zero row, small row
    check(lambda t, x: t.renorm(x, 2, 0, 5), inputs=[rows])          # norm == maxnorm: kept
    for bad in (lambda t, x: t.renorm(x, 0, 0, 1),
                lambda t, x: t.renorm(x, -1, 0, 1),
                lambda t, x: t.renorm(x, 2j, 0, 1),
                lambda t, x: t.renorm(x, 2, 0, 1j),
                lambda t, x: t.renorm(x, 2, 0, -1),
                lambda t, x: t.renorm(x, 2, 2, 1),
                lambda t, x: t.renorm(x, 2, (0,), 1),
                lambda t, x: t.renorm(x[0], 2, 0, 1),
                lambda t, x: t.renorm(x[0, 0], 2, 0, 1),
                lambda t, x: t.renorm(x.long(), 2, 0, 1),
                lambda t, x: t.renorm(x > 0, 2, 0, 1),
                lambda t, x: x.long().renorm_(2, 0, 1)):
        check_raises(bad, [(3, 4)])


def test_renorm_inplace():
    # (values only: torch's RenormBackward0 after renorm_ fails its saved-version check)
    check(lambda t, x: x.clone().renorm_(2, 0, 1.0), [(3, 4)], high=3, low=-3, grad=False)
    check(lambda t, x: x.clone().renorm_(1, 1, 0.5), [(3, 4)], dtypes="float64", grad=False)
    for lib in (torch, ember):
        x = lib.tensor([[3.0, 4.0], [0.3, 0.4]])
        assert x.renorm_(2, 0, 1.0) is x
        np.testing.assert_allclose(x.numpy(), [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)
    check_raises(lambda t, x: x.requires_grad_().renorm_(2, 0, 1), [(3, 4)])


@pytest.mark.parametrize("p", [2, 1, 3, 1.5, 0.5, float("inf")])
def test_norm_double_backward(p):
    """torch.norm's gradient is differentiable again (it was a constant-weighted product)."""
    _double_backward(lambda t, x: t.norm(x, p), [(4, 3)])
    _double_backward(lambda t, x: x.norm(p, dim=1), [(4, 3)])


def test_zero_norm_has_no_gradient():
    """torch's 0-"norm" (a count) leaves the gradient undefined: .grad stays None."""
    for lib in (torch, ember):
        for fn in (lambda x: x.norm(p=0), lambda x: lib.linalg.vector_norm(x, 0, dim=1).sum()):
            x = lib.ones(2, 3, requires_grad=True)
            fn(x).backward()
            assert x.grad is None
            with pytest.raises(RuntimeError, match="not have been used"):
                lib.autograd.grad(fn(x), x)


def test_renorm_double_backward():
    for p in (2, 1, 3):
        _double_backward(lambda t, x: t.renorm(x, p, 0, 1.0), [(4, 3)])


def make(shape, dtype="float32", low=None, high=None, seed=3):
    from oracle import make_array
    return make_array(shape, dtype, np.random.default_rng(seed), low, high)


def test_std_var_of_empty_reductions_warn_like_torch():
    """An empty reduction gives NaN with torch's UserWarning only (no NumPy RuntimeWarning)."""
    import warnings
    for fn in (lambda t: t.zeros(0, 2).std(0), lambda t: t.zeros(3, 0).var(1, keepdim=True)):
        for t in (torch, ember):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = fn(t)
            assert np.isnan(out.numpy()).all()
            assert all(w.category is UserWarning for w in caught), [w.message for w in caught]


def test_cumprod_double_backward_with_zeros_is_refused_not_wrong():
    """cumprod's zero-safe gradient is first order only: under create_graph with zeros in the
    input ember raises NotImplementedError instead of a gradient cut from the graph; without
    zeros double backward matches torch."""
    x = ember.tensor([2.0, 0.0, 3.0], requires_grad=True)
    with pytest.raises(NotImplementedError):
        ember.autograd.grad(x.cumprod(0).sum(), x, create_graph=True)
    vals = []
    for t in (torch, ember):
        v = t.tensor([2.0, -1.5, 3.0], dtype=t.float64, requires_grad=True)
        (g,) = t.autograd.grad(v.cumprod(0).sum(), v, create_graph=True)
        (gg,) = t.autograd.grad((g * g).sum(), v)
        vals.append(gg.numpy())
    np.testing.assert_allclose(vals[1], vals[0], rtol=1e-12)


def test_prod_double_backward_with_zeros():
    """The zero-safe gradient of prod is built from Tensor ops under create_graph, so second
    derivatives over inputs with zeros (one zero or several) match torch's."""
    for x0, dim in (([2.0, 0.0, 3.0, -1.5], None), ([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0],
                                                     [1.5, 2.0, -1.0]], 1),
                    ([[2.0, 0.0], [0.0, 4.0]], 0)):
        vals = []
        for t in (torch, ember):
            x = t.tensor(x0, dtype=t.float64, requires_grad=True)
            y = x.prod() if dim is None else x.prod(dim)
            (g,) = t.autograd.grad(y.sum(), x, create_graph=True)
            (gg,) = t.autograd.grad((g * g).sum(), x)
            vals.append((g.detach().numpy(), gg.numpy()))
        for e, r in zip(vals[1], vals[0]):
            np.testing.assert_allclose(e, r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["sum", "prod", "nansum", "mean", "cumsum", "cumprod", "sinc",
                                "logcumsumexp", "std"])
def test_infinities_compute_silently_as_in_torch(op):
    """inf - inf and inf * 0 give NaN silently in torch. ember silences NumPy's
    RuntimeWarnings with a filter on warnings raised from ember's modules (pytest's per-test
    warning capture drops that filter, so this checks where each warning comes from): none may
    come from inside NumPy's Python wrappers (np.sum, np.cumsum...), which the filter misses."""
    x = np.array([np.inf, -np.inf, 0.0, 2.0], np.float32)
    import warnings
    results = []
    for t in (torch, ember):
        with warnings.catch_warnings(record=True) as caught:
            # after the filters in place (ember's own included): anything else is recorded
            warnings.simplefilter("always", append=True)
            f = getattr(t, op)
            r = f(t.tensor(x), 0) if op in ("cumsum", "cumprod", "logcumsumexp") else f(
                t.tensor(x))
        assert [w.filename for w in caught
                if os.sep + "ember" + os.sep not in w.filename] == []
        results.append(np.asarray(r.tolist(), np.float64))
    np.testing.assert_array_equal(results[1], results[0])


def test_cumsum_of_negative_zeros_starts_from_positive_zero():
    x = np.array([[-0.0, -0.0, 1.0], [-0.0, 2.0, -0.0]], np.float32)
    for dim in (0, 1):
        a = torch.cumsum(torch.tensor(x), dim).numpy()
        b = ember.cumsum(ember.tensor(x), dim).numpy()
        np.testing.assert_array_equal(np.signbit(b), np.signbit(a))


def test_float32_std_past_the_float32_variance_range():
    """torch accumulates float32 std in double: the variance overflows, the std does not."""
    x = np.array([[1e20, -1e20, 3e20], [1.0, 2.0, 4.0]], np.float32)
    check(lambda t, a: t.std(a, 1), inputs=[x])
    check(lambda t, a: t.std(a), inputs=[x[:1]])
    check(lambda t, a: t.var(a, 1), inputs=[x], grad=False)


@pytest.mark.parametrize("call", [lambda x: x.sum(), lambda x: x.sum(1), lambda x: x.sum((0, 1)),
                                  lambda x: x.sum(1, keepdim=True), lambda x: x.mean(),
                                  lambda x: x.mean(0), lambda x: x.nansum(1)])
def test_reduction_node_names(call):
    """torch's overloads with and without dim are different nodes (SumBackward0/1...)."""
    names = [call(t.ones(2, 3, requires_grad=True)).grad_fn.name() for t in (torch, ember)]
    assert names[1] == names[0]
