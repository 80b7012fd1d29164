"""Pooling against torch: max/avg/adaptive/lp pooling, max_unpool, indices, gradients, double
backward, dtypes and errors."""
import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check, check_raises, make_array, to_ember, to_torch


def F(t):
    return t.nn.functional


MAX = [
    ("max_pool1d", (2, 3, 11), dict(kernel_size=3, stride=2, padding=1, dilation=2)),
    ("max_pool1d", (3, 10), dict(kernel_size=4, ceil_mode=True)),
    ("max_pool2d", (2, 3, 8, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", (2, 3, 8, 8), dict(kernel_size=2)),
    ("max_pool2d", (3, 7, 9), dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1))),
    ("max_pool3d", (2, 3, 5, 5, 4), dict(kernel_size=2, stride=(1, 2, 1), ceil_mode=True)),
    ("max_pool3d", (1, 2, 4, 6, 6), dict(kernel_size=3, padding=1, stride=2)),
]


@pytest.mark.parametrize("fn,shape,kw", MAX)
@pytest.mark.parametrize("indices", [False, True])
def test_max_pool(fn, shape, kw, indices):
    check(lambda t, x: getattr(F(t), fn)(x, return_indices=indices, **kw), [shape])


def test_max_pool_ties_nan_and_dtypes():
    a = np.zeros((1, 1, 4, 4), np.float32)
    a[0, 0, 1, 1] = np.nan
    check(lambda t, x: F(t).max_pool2d(x, 2, return_indices=True), inputs=[a])
    # several NaNs in one window: torch keeps the last one; ties (ReLU zeros): the first
    b = np.zeros((1, 1, 2, 8), np.float32)
    b[0, 0, 0, [0, 2]] = np.nan
    b[0, 0, 1, 5] = np.nan
    check(lambda t, x: F(t).max_pool2d(x, (2, 4), return_indices=True), inputs=[b])
    check(lambda t, x: F(t).max_pool2d(x, (1, 3), 1, return_indices=True), inputs=[b])
    # overlapping windows share maxima: their gradients add up
    c = np.zeros((1, 2, 5, 5), np.float32)
    c[0, :, 2, 2] = 1.0
    check(lambda t, x: F(t).max_pool2d(x, 3, 1, 1), inputs=[c])
    check(lambda t, x: F(t).max_pool2d(x, 3, 1, 1), [(1, 2, 5, 5)], dtypes="float16")
    for dt in ("float64", "int64", "float16", "bfloat16"):
        check(lambda t, x: F(t).max_pool2d(x, 3, 2, 1, return_indices=True), [(2, 2, 6, 6)],
              dtypes=dt, grad=dt != "int64")


AVG = [
    ("avg_pool1d", (2, 3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool1d", (3, 10), dict(kernel_size=3, count_include_pad=False, padding=1)),
    ("avg_pool2d", (2, 3, 8, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                      count_include_pad=False)),
    ("avg_pool2d", (2, 3, 8, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 8, 9), dict(kernel_size=(3, 2), padding=1, divisor_override=5)),
    ("avg_pool3d", (2, 3, 5, 5, 4), dict(kernel_size=2, ceil_mode=True)),
    ("avg_pool3d", (1, 2, 5, 6, 4), dict(kernel_size=3, padding=1, stride=2,
                                         count_include_pad=False)),
]


@pytest.mark.parametrize("fn,shape,kw", AVG)
def test_avg_pool(fn, shape, kw):
    check(lambda t, x: getattr(F(t), fn)(x, **kw), [shape])


def test_avg_pool_dtypes():
    check(lambda t, x: F(t).avg_pool2d(x, 2), [(2, 2, 6, 6)], dtypes="float64")
    check(lambda t, x: F(t).avg_pool2d(x, 2), [(2, 2, 6, 6)], dtypes="float16", grad=False)


@pytest.mark.parametrize("D,shape,size", [(1, (2, 3, 8), 3), (1, (3, 7), 7),
                                          (2, (2, 3, 8, 9), (3, None)), (2, (3, 7, 5), 4),
                                          (3, (1, 2, 5, 6, 7), (2, 3, 4))])
def test_adaptive(D, shape, size):
    check(lambda t, x: getattr(F(t), f"adaptive_avg_pool{D}d")(x, size), [shape])
    if D < 3 or True:
        check(lambda t, x: getattr(F(t), f"adaptive_max_pool{D}d")(x, size, return_indices=True),
              [shape])


def test_lp_pool():
    check(lambda t, x: F(t).lp_pool2d(x, 2, 3, 2), [(2, 3, 8, 9)], low=0.1, high=2)
    check(lambda t, x: F(t).lp_pool1d(x, 3, 2), [(2, 3, 8)], low=0.1, high=2)


@pytest.mark.parametrize("size,shape", [(None, (2, 3, 8, 8)), ((9, 9), (2, 3, 9, 9)),
                                        ((2, 3, 9, 8), (2, 3, 8, 9))])
def test_max_unpool(size, shape):
    def unpool(t, x):
        v, i = F(t).max_pool2d(x, 2, return_indices=True)
        return F(t).max_unpool2d(v, i, 2, output_size=size)
    check(unpool, [shape])

    def unpool1(t, x):
        v, i = F(t).max_pool1d(x, 2, return_indices=True)
        return F(t).max_unpool1d(v, i, 2)
    check(unpool1, [(2, 3, 8)])


@pytest.mark.parametrize("fn", ["max", "avg", "adaptive_max"])
def test_pool_double_backward(fn):
    rng = np.random.default_rng(3)
    xa = make_array((2, 2, 7, 6), "float64", rng)
    res = []
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        x = conv(xa, True)
        f = lib.nn.functional
        y = {"max": lambda: f.max_pool2d(x, 3, 2, 1), "avg": lambda: f.avg_pool2d(x, 3, 2, 1),
             "adaptive_max": lambda: f.adaptive_max_pool2d(x, 4)}[fn]()
        (gx,) = lib.autograd.grad((y * y).sum(), (x,), create_graph=True)
        (gx * gx).sum().backward()
        res.append((y, gx, x.grad))
    for i, (t, e) in enumerate(zip(*res)):
        assert_close(t, e, what=f"result {i}")


@pytest.mark.parametrize("call,shape", [
    (lambda t, x: F(t).max_pool2d(x, 3, padding=2), (2, 3, 8, 8)),
    (lambda t, x: F(t).max_pool2d(x, 2, stride=0), (2, 3, 8, 8)),
    (lambda t, x: F(t).max_pool2d(x, 2), (8, 8)),
    (lambda t, x: F(t).max_pool2d(x, 2), (2, 3, 1, 1)),
    (lambda t, x: F(t).avg_pool2d(x, 3, padding=2), (2, 3, 8, 8)),
    (lambda t, x: F(t).avg_pool2d(x, 2, divisor_override=0), (2, 3, 8, 8)),
    (lambda t, x: F(t).adaptive_avg_pool2d(x.long(), 3), (2, 3, 8, 8)),
    (lambda t, x: F(t).adaptive_max_pool2d(x, 3), (2, 0, 8, 8)),
])
def test_pool_errors(call, shape):
    check_raises(call, [shape])


# ---------------------------------------------------------------------------------------------
# Modules

from module_oracle import check_module  # noqa: E402


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("MaxPool1d", (3,), dict(stride=2, padding=1), (2, 3, 9)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 8)),
    ("MaxPool2d", (3, 2, 1), dict(ceil_mode=True, dilation=1), (2, 3, 7, 8)),
    ("MaxPool3d", (2,), dict(stride=1), (1, 2, 3, 4, 4)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 9)),
    ("AvgPool2d", (3, 2, 1), dict(ceil_mode=True), (2, 3, 7, 8)),
    ("AvgPool3d", (2,), dict(divisor_override=3), (1, 2, 4, 4, 4)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 8)),
    ("AdaptiveAvgPool3d", (2,), {}, (1, 2, 5, 4, 4)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool2d", (3,), dict(return_indices=True), (2, 3, 7, 8)),
    ("LPPool2d", (2, 2), {}, (2, 3, 6, 8)),
])
def test_pool_modules(name, args, kwargs, shape):
    check_module("pooling", name, args, kwargs, [shape])


def test_max_unpool_module():
    from module_oracle import ember_class
    x = make_array((2, 3, 6, 8), "float32")
    tv, ti = torch.nn.MaxPool2d(2, return_indices=True)(to_torch(x))
    ev, ei = ember_class("pooling", "MaxPool2d")(2, return_indices=True)(to_ember(x))
    tu, eu = torch.nn.MaxUnpool2d(2), ember_class("pooling", "MaxUnpool2d")(2)
    assert repr(tu) == repr(eu)
    assert_close(tu(tv, ti), eu(ev, ei))


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)])
def test_max_pool_nonfinite_upstream_gradient(kw):
    # a NaN/inf upstream gradient reaches only the window's maximum; other positions stay 0
    a = make_array((1, 2, 4, 4), "float32", np.random.default_rng(0))
    g = np.ones((1, 2, 4, 4) if kw.get("stride") == 1 else (1, 2, 2, 2), np.float32)
    g[0, 0, 0, 0], g[0, 1, 1, 1] = np.nan, np.inf
    grads = []
    for t in (torch, ember):
        x = t.tensor(a, requires_grad=True)
        F(t).max_pool2d(x, **kw).backward(t.tensor(g))
        grads.append(x.grad)
    assert_close(grads[0], grads[1], what="grad")


def test_window_ops_with_infinities_and_nan():
    """Averaging pools and interpolation on inputs holding inf, -inf and NaN: each output sees
    only its own window (the separable matmul would spread 0 * inf = NaN everywhere)."""
    x = np.random.default_rng(3).standard_normal((2, 2, 8, 8)).astype(np.float32)
    x[0, 0, 3, 3], x[0, 0, 4, 5], x[1, 1, 5, 2] = np.inf, -np.inf, np.nan
    x[0, 1, 3, 4] = x[0, 1, 3, 5] = np.inf
    for call in (lambda t, v: t.nn.functional.avg_pool2d(v, 2),
                 lambda t, v: t.nn.functional.avg_pool2d(v, 3, 1, 1),
                 lambda t, v: t.nn.functional.adaptive_avg_pool2d(v, (3, 5)),
                 lambda t, v: t.nn.functional.lp_pool2d(v, 2, 2),
                 lambda t, v: t.nn.functional.interpolate(v, scale_factor=2),
                 lambda t, v: t.nn.functional.interpolate(v, scale_factor=2, mode="bilinear",
                                                          align_corners=False)):
        check(call, inputs=[x], grad=False)
