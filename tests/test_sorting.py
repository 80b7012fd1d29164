"""Sorting, order statistics, unique and histograms against torch."""
import numpy as np
import pytest
import torch

import ember
from oracle import FLOAT_DTYPES, INT_DTYPES, check, check_raises

REAL = ("bool",) + INT_DTYPES + FLOAT_DTYPES


def _distinct(shape, dtype="float64", seed=0):
    """Values without ties (tie order is implementation-defined in torch's topk/kthvalue)."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(n).reshape(shape).astype(dtype) - n // 3


# ---------------------------------------------------------------------------------------------
# sort, argsort, msort, topk, kthvalue

@pytest.mark.parametrize("dtype", REAL)
def test_sort_dtypes(dtype):
    check(lambda t, x: tuple(t.sort(x, stable=True)), [(3, 5)], dtypes=dtype)
    check(lambda t, x: tuple(x.sort(dim=0, descending=True, stable=True)), [(4, 3)], dtypes=dtype)
    check(lambda t, x: t.argsort(x, dim=1, stable=True), [(3, 5)], dtypes=dtype)
    check(lambda t, x: t.argsort(x, dim=0, descending=True, stable=True), [(3, 5)], dtypes=dtype)
    check(lambda t, x: t.msort(x), [(4, 2)], dtypes=dtype)


def test_sort_edges():
    a = np.array([[3.0, np.nan, 1.0, 1.0, -np.inf], [np.nan, 2.0, np.nan, 0.0, 0.0]])
    check(lambda t, x: tuple(t.sort(x, stable=True)), inputs=[a])
    check(lambda t, x: tuple(t.sort(x, descending=True, stable=True)), inputs=[a])
    check(lambda t, x: tuple(t.sort(x, 0)), [()])
    check(lambda t, x: tuple(t.sort(x, 1)), [(2, 0)])
    check(lambda t, x: tuple(t.sort(x.t(), 1)), inputs=[_distinct((4, 3))])
    check(lambda t, x: t.argsort(x, 0), [()])
    check_raises(lambda t, x: t.sort(x), [(3,)], dtypes="complex64")
    check_raises(lambda t, x: t.sort(x, 2), [(3, 2)])


@pytest.mark.parametrize("largest", [True, False])
def test_topk(largest):
    x = _distinct((4, 6))
    check(lambda t, x: tuple(t.topk(x, 3, largest=largest)), inputs=[x])
    check(lambda t, x: tuple(x.topk(2, 0, largest)), inputs=[x])
    check(lambda t, x: tuple(t.topk(x, 0)), inputs=[x])
    check(lambda t, x: tuple(t.topk(x, 6, -1, largest)), inputs=[x])
    check(lambda t, x: tuple(t.topk(x, 2)), inputs=[_distinct((5,), "int32")])
    check(lambda t, x: tuple(t.topk(x, 1)), [()])
    check_raises(lambda t, x: t.topk(x, 7), inputs=[x])


def test_kthvalue():
    x = _distinct((4, 5))
    for k in (1, 3, 5):
        check(lambda t, x: tuple(t.kthvalue(x, k)), inputs=[x])
    check(lambda t, x: tuple(x.kthvalue(2, 0, True)), inputs=[x])
    check(lambda t, x: tuple(t.kthvalue(x, 1)), [()])
    check_raises(lambda t, x: t.kthvalue(x, 6), inputs=[x])
    check_raises(lambda t, x: t.kthvalue(x, 0), inputs=[x])


# ---------------------------------------------------------------------------------------------
# median, nanmedian, mode

@pytest.mark.parametrize("fn", ["median", "nanmedian"])
def test_median(fn):
    for shape in ((4, 5), (4, 6)):
        x = _distinct(shape)
        check(lambda t, x: getattr(t, fn)(x), inputs=[x])
        check(lambda t, x: tuple(getattr(t, fn)(x, 1)), inputs=[x])
        check(lambda t, x: tuple(getattr(x, fn)(0, keepdim=True)), inputs=[x])
    check(lambda t, x: getattr(t, fn)(x), inputs=[_distinct((7,), "int64")])
    a = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan, np.nan, np.nan, np.nan],
                  [4.0, 1.0, np.nan, np.nan]])
    # (the index torch returns for an all-NaN row of nanmedian is implementation-defined)
    check(lambda t, x: tuple(getattr(t, fn)(x[[0, 2]], 1)), inputs=[a])
    check(lambda t, x: getattr(t, fn)(x, 1).values, inputs=[a], grad=False)
    check(lambda t, x: getattr(t, fn)(x[0]), inputs=[a])
    check(lambda t, x: getattr(t, fn)(x), [(0,)], grad=False)
    check(lambda t, x: tuple(getattr(t, fn)(x, 0)), [()])
    check(lambda t, x: tuple(getattr(t, fn)(x, 1)), [(0, 3)])
    check_raises(lambda t, x: getattr(t, fn)(x, 1), [(3, 0)])


def test_mode():
    a = np.array([[1, 2, 2, 3, 3], [5, 5, 4, 4, 1], [7, 7, 7, 0, 0]])
    check(lambda t, x: tuple(t.mode(x)), inputs=[a])
    check(lambda t, x: tuple(t.mode(x, 0, keepdim=True)), inputs=[a])
    check(lambda t, x: tuple(t.mode(x)), inputs=[a.astype(np.float64)])
    check(lambda t, x: tuple(x.mode(0)), inputs=[np.array([3.0, 1.0, 2.0])])
    check(lambda t, x: tuple(t.mode(x)), [()])
    check(lambda t, x: tuple(t.mode(x, 1)), [(0, 3)])


# ---------------------------------------------------------------------------------------------
# quantile, nanquantile

@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
def test_quantile(fn, interpolation):
    kw = {"interpolation": interpolation}
    check(lambda t, x: getattr(t, fn)(x, 0.3, **kw), [(3, 5)])
    check(lambda t, x: getattr(t, fn)(x, 0.5, dim=1, keepdim=True, **kw), [(3, 4)],
          dtypes="float64")
    check(lambda t, x: getattr(t, fn)(x, t.tensor([0.0, 0.25, 1.0]), 0, **kw), [(4, 3)])
    check(lambda t, x: getattr(x, fn)(t.tensor([0.2, 0.7]), -1, True, **kw), [(2, 5)])
    check(lambda t, x: getattr(t, fn)(x, 0.4, keepdim=True, **kw), [(2, 3)])
    check(lambda t, x: getattr(t, fn)(x, t.tensor(0.6), **kw), [(5,)])
    a = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan, np.nan, np.nan, np.nan], [4.0, 1, 2, 0]])
    check(lambda t, x: getattr(t, fn)(x, 0.35, 1, **kw), inputs=[a], grad=False)


def test_quantile_errors():
    check_raises(lambda t, x: t.quantile(x, 0.5), [(3,)], dtypes="int64")
    check_raises(lambda t, x: t.quantile(x, 1.5), [(3,)])
    check_raises(lambda t, x: t.quantile(x, 0.5), [(0,)])
    check_raises(lambda t, x: t.quantile(x, 0.5, interpolation="bad"), [(3,)])
    check_raises(lambda t, x: t.quantile(x, t.tensor([[0.5]])), [(3,)])
    check(lambda t, x: t.quantile(x, 0.5, 0), [()])


# ---------------------------------------------------------------------------------------------
# unique, unique_consecutive

def _backward_raises(make):
    """torch and ember both record a node whose backward raises the same exception type."""
    excs = []
    for lib in (torch, ember):
        x = lib.tensor([1.0, 0.0, 1.0, 2.0], requires_grad=True)
        out = make(lib, x)
        assert out.requires_grad
        try:
            out.sum().backward()
        except Exception as exc:   # noqa: BLE001 - the type is what we compare
            excs.append(exc)
    assert len(excs) == 2 and type(excs[0]) is type(excs[1]), excs


def test_no_derivative():
    _backward_raises(lambda t, x: t.unique(x))
    _backward_raises(lambda t, x: t.unique(x, dim=0))
    _backward_raises(lambda t, x: t.unique_consecutive(x))
    _backward_raises(lambda t, x: t.bincount(t.tensor([0, 1, 1, 3]), x))
    _backward_raises(lambda t, x: t.histogram(t.tensor([0.0, 1, 1, 3]), 2, weight=x).hist)


@pytest.mark.parametrize("dtype", REAL)
def test_unique(dtype):
    kw = dict(return_inverse=True, return_counts=True)
    check(lambda t, x: t.unique(x), [(4, 5)], dtypes=dtype, grad=False)
    check(lambda t, x: t.unique(x, sorted=False, **kw), [(4, 5)], dtypes=dtype, grad=False)
    check(lambda t, x: x.unique(return_counts=True), [(7,)], dtypes=dtype, grad=False)
    check(lambda t, x: t.unique_consecutive(x, **kw), [(9,)], dtypes=dtype, grad=False)
    check(lambda t, x: t.unique_consecutive(x, return_counts=True), [(2, 3)], dtypes=dtype,
          grad=False)


def test_unique_dim():
    a = np.array([[1, 2], [1, 2], [0, 5], [1, 2], [0, 5]])
    kw = dict(return_inverse=True, return_counts=True)
    check(lambda t, x: t.unique(x, dim=0, **kw), inputs=[a], grad=False)
    check(lambda t, x: t.unique(x, dim=1, **kw), inputs=[a], grad=False)
    check(lambda t, x: t.unique_consecutive(x, dim=0, **kw), inputs=[a], grad=False)
    check(lambda t, x: t.unique(x, dim=1), [(2, 0)], grad=False)
    check(lambda t, x: t.unique(x), [(0,)], grad=False)
    check(lambda t, x: t.unique(x), inputs=[np.array([2.0, np.nan, np.nan, 1.0])], grad=False)
    check(lambda t, x: t.unique_consecutive(x, return_inverse=True), [(0,)], grad=False)


# ---------------------------------------------------------------------------------------------
# bincount, histc, histogram

def test_bincount():
    a = np.array([0, 1, 1, 3, 5, 1])
    check(lambda t, x: t.bincount(x), inputs=[a], grad=False)
    check(lambda t, x: t.bincount(x, minlength=9), inputs=[a], grad=False)
    check(lambda t, x, w: t.bincount(x, w), inputs=[a, np.linspace(0, 1, 6).astype("float32")],
          grad=False)
    check(lambda t, x, w: x.bincount(w, 2), inputs=[a, np.arange(6)], grad=False)
    check(lambda t, x: t.bincount(x, minlength=3), inputs=[np.zeros(0, np.int64)], grad=False)
    check(lambda t, x: t.bincount(x), inputs=[np.array([2, 0], np.uint8)], grad=False)
    check_raises(lambda t, x: t.bincount(x), inputs=[np.array([-1, 2])])
    check_raises(lambda t, x: t.bincount(x), inputs=[np.array([[1, 2]])])
    check_raises(lambda t, x: t.bincount(x), inputs=[np.array([0.5])])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_histc(dtype):
    check(lambda t, x: t.histc(x), [(50,)], dtypes=dtype, grad=False)
    check(lambda t, x: t.histc(x, bins=4, min=-1, max=1), [(5, 6)], dtypes=dtype, grad=False)
    check(lambda t, x: x.histc(3), inputs=[np.ones(4, dtype)], grad=False)
    a = np.array([0.0, 1, 2, 3, 4, np.nan], dtype)
    check(lambda t, x: t.histc(x, 4, 1, 3), inputs=[a], grad=False)
    check_raises(lambda t, x: t.histc(x), [(3,)], dtypes="int64")
    check_raises(lambda t, x: t.histc(x, 0), [(3,)])
    check_raises(lambda t, x: t.histc(x, 3, 2, 1), [(3,)])


def test_histogram():
    check(lambda t, x: tuple(t.histogram(x, 5)), [(20,)], grad=False)
    check(lambda t, x: tuple(t.histogram(x, 4, range=(0.0, 3.0))), [(3, 4)], grad=False)
    check(lambda t, x, w: tuple(t.histogram(x, 4, weight=w, density=True)), [(10,), (10,)],
          grad=False)
    check(lambda t, x, e: tuple(x.histogram(e)),
          inputs=[np.array([0.5, 1.5, 1.2, 3.0, 9.0]), np.array([0.0, 1.0, 2.0, 3.0])],
          grad=False)
    r = ember.histogram(ember.tensor([1.0, 2.0, 1.0]), 2)
    assert r.hist is r[0] and r.bin_edges is r[1]
    check_raises(lambda t, x: t.histogram(x, 3), [(3,)], dtypes="int64")


def test_return_type_reprs():
    for name, make in (("sort", lambda t: t.tensor([3, 1, 2]).sort()),
                       ("topk", lambda t: t.tensor([3.0, 1.0, 2.0]).topk(2)),
                       ("mode", lambda t: t.tensor([[3, 1], [3, 3]]).mode(1))):
        assert repr(make(ember)) == repr(make(torch)).replace("torch.", "ember."), name
        assert type(make(ember)).__name__ == name
