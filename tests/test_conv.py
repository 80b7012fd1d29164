"""Convolutions against torch: conv1d/2d/3d, conv_transpose1d/2d/3d, gradients, double
backward, dtypes, errors (and the Conv* modules when ember.nn has them)."""
import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check, check_raises, make_array, to_ember, to_torch


def F(t):
    return t.nn.functional


CONV = [
    # (fn, x shape, w shape, kwargs)
    ("conv1d", (2, 3, 11), (4, 3, 3), {}),
    ("conv1d", (2, 4, 17), (6, 2, 4), dict(stride=3, padding=2, dilation=2, groups=2)),
    ("conv1d", (3, 10), (5, 3, 3), dict(padding="same")),
    ("conv2d", (2, 3, 7, 8), (5, 3, 3, 3), dict(stride=2, padding=1)),
    ("conv2d", (2, 4, 7, 8), (6, 2, 4, 3), dict(padding="same", dilation=(2, 1), groups=2)),
    ("conv2d", (2, 4, 9, 9), (4, 1, 3, 3), dict(groups=4, padding=(1, 0))),   # depthwise
    ("conv2d", (1, 3, 6, 6), (2, 3, 1, 1), dict(padding="valid")),
    ("conv2d", (3, 6, 6), (2, 3, 2, 2), dict(stride=(2, 1))),                 # unbatched
    ("conv2d", (2, 3, 7, 8), (5, 3, 1, 1), dict(stride=2)),     # strided 1x1 (a shortcut)
    ("conv3d", (2, 3, 5, 4, 4), (2, 3, 1, 1, 1), dict(stride=(2, 1, 3), padding=1)),
    ("conv3d", (2, 3, 5, 6, 4), (5, 3, 2, 3, 3), dict(stride=(1, 2, 1), padding=1)),
    ("conv3d", (1, 4, 4, 5, 5), (4, 2, 3, 2, 2), dict(groups=2, dilation=(1, 2, 2))),
    # stride 1 (input gradient as a full correlation): padding wider than the kernel's reach
    ("conv2d", (2, 3, 5, 6), (4, 3, 1, 1), dict(padding=2)),
    ("conv1d", (2, 3, 7), (4, 3, 3), dict(padding=5, dilation=2)),
    ("conv2d", (2, 2, 4, 4), (3, 2, 2, 2), dict(padding=3, dilation=2)),
    ("conv2d", (2, 3, 6, 7), (4, 3, 4, 2), dict(padding="same", dilation=(1, 2))),
    # stride 1, O >= 2C: the input gradient by column gradients + col2im
    ("conv2d", (2, 2, 6, 7), (5, 2, 3, 3), dict(padding=1)),
    ("conv1d", (2, 1, 9), (4, 1, 3), dict(padding=3, dilation=2)),
    ("conv3d", (1, 1, 4, 5, 4), (3, 1, 2, 3, 2), dict(padding=(1, 0, 1))),
    # C * K >= 150: windows laid out channels-last (one tall GEMM)
    ("conv2d", (2, 20, 6, 7), (5, 20, 3, 3), dict(stride=(2, 1), padding=(1, 2))),
    ("conv2d", (2, 17, 7, 6), (3, 17, 4, 3), dict(padding="same", dilation=(2, 1))),
    ("conv1d", (3, 64, 9), (4, 64, 3), dict(stride=2, dilation=2)),
    ("conv3d", (1, 8, 4, 5, 4), (3, 8, 3, 3, 3), dict(padding=(1, 0, 2))),
    ("conv2d", (16, 4, 4), (2, 16, 3, 3), dict(padding=4, dilation=2)),      # unbatched, wide pad
    # strided, few input channels: the input gradient as one stride-1 gradient per phase
    # (kernel 2 < stride 3: one phase gets no tap; 11 - 2 + 2 not a multiple of 3: uncovered
    # positions at the end)
    ("conv2d", (2, 4, 11, 10), (3, 4, 2, 2), dict(stride=3, padding=1)),
    ("conv1d", (3, 2, 12), (5, 2, 5), dict(stride=2, padding=2)),
    ("conv3d", (1, 3, 6, 5, 7), (2, 3, 3, 2, 3), dict(stride=(2, 3, 2), padding=(1, 0, 1))),
]


@pytest.mark.parametrize("fn,xs,ws,kw", CONV)
@pytest.mark.parametrize("bias", [False, True])
def test_conv(fn, xs, ws, kw, bias):
    if bias:
        check(lambda t, x, w, b: getattr(F(t), fn)(x, w, b, **kw), [xs, ws, (ws[0],)],
              dtypes="float64")
    else:
        check(lambda t, x, w: getattr(F(t), fn)(x, w, **kw), [xs, ws], rtol=1e-4, atol=1e-4)


TRANSPOSED = [
    ("conv_transpose1d", (2, 3, 7), (3, 4, 3), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose1d", (2, 4, 5), (4, 2, 3), dict(groups=2, dilation=3, output_padding=2,
                                                    stride=1)),
    ("conv_transpose2d", (2, 4, 5, 6), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1,
                                                          groups=2)),
    ("conv_transpose2d", (3, 4, 4), (3, 2, 2, 3), dict(stride=(1, 3), padding=(1, 0))),
    ("conv_transpose1d", (2, 3, 5), (3, 2, 3), dict(padding=2, groups=3)),
    ("conv_transpose2d", (2, 3, 5, 4), (3, 2, 3, 3), dict(dilation=2, output_padding=1)),
    ("conv_transpose3d", (2, 3, 3, 4, 2), (3, 2, 2, 3, 3), dict(stride=2, padding=(0, 1, 0),
                                                                 dilation=(1, 2, 1))),
    ("conv_transpose2d", (2, 24, 4, 5), (24, 3, 3, 3), dict(padding=1)),     # channels-last
    ("conv_transpose2d", (2, 5, 4, 5), (5, 20, 3, 3), dict(stride=2, output_padding=1)),
]


@pytest.mark.parametrize("fn,xs,ws,kw", TRANSPOSED)
def test_conv_transpose(fn, xs, ws, kw):
    O = ws[1] * kw.get("groups", 1)
    check(lambda t, x, w, b: getattr(F(t), fn)(x, w, b, **kw), [xs, ws, (O,)], dtypes="float64")
    check(lambda t, x, w: getattr(F(t), fn)(x, w, **kw), [xs, ws], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int64", "float32"])
def test_conv_dtypes(dtype):
    tol = dict(rtol=2e-2, atol=2e-2) if dtype in ("float16", "bfloat16") else {}
    check(lambda t, x, w: F(t).conv2d(x, w, padding=1), [(2, 3, 5, 5), (4, 3, 3, 3)],
          dtypes=dtype, grad=False, **tol)
    check(lambda t, x, w: F(t).conv_transpose2d(x, w, stride=2), [(2, 3, 4, 4), (3, 2, 3, 3)],
          dtypes=dtype, grad=False, **tol)


def test_conv_empty_and_noncontiguous():
    check(lambda t, x, w: F(t).conv2d(x, w), [(0, 3, 5, 5), (4, 3, 3, 3)])
    check(lambda t, x, w: F(t).conv2d(x.transpose(2, 3)[:, :, ::2], w.permute(0, 1, 3, 2)),
          [(2, 3, 6, 10), (4, 3, 2, 3)], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_double_backward(transposed):
    rng = np.random.default_rng(1)
    xa, wa = make_array((2, 4, 6, 5), "float64", rng), make_array((4, 2, 3, 2), "float64", rng)
    ba = make_array((4,), "float64", rng)
    res = []
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        x, w, b = conv(xa, True), conv(wa, True), conv(ba, True)
        f = lib.nn.functional.conv_transpose2d if transposed else lib.nn.functional.conv2d
        kw = dict(stride=2, padding=1, groups=2)
        y = f(x, w, b, **kw)
        gx, gw = lib.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        (gx.pow(2).sum() + (gw * gw).sum()).backward()
        res.append((y, gx, gw, x.grad, w.grad, b.grad))
    for i, (t, e) in enumerate(zip(*res)):
        assert_close(t, e, what=f"result {i}")


def test_conv_grad_fn_name():
    x = ember.randn(1, 2, 4, 4, requires_grad=True)
    assert ember.nn.functional.conv2d(x, ember.randn(3, 2, 3, 3)).grad_fn.name() == \
        "ConvolutionBackward0"


@pytest.mark.parametrize("call,shapes", [
    (lambda t, x, w: F(t).conv2d(x[0, 0], w), [(2, 3, 8, 8), (4, 3, 3, 3)]),
    (lambda t, x, w: F(t).conv2d(x, w), [(2, 4, 8, 8), (4, 3, 3, 3)]),
    (lambda t, x, w: F(t).conv2d(x, w), [(2, 3, 2, 2), (4, 3, 3, 3)]),
    (lambda t, x, w: F(t).conv2d(x.double(), w), [(2, 3, 8, 8), (4, 3, 3, 3)]),
    (lambda t, x, w: F(t).conv2d(x, w, w[:, 0, 0, 0].double()), [(2, 3, 8, 8), (4, 3, 3, 3)]),
    (lambda t, x, w: F(t).conv2d(x, w, padding="same", stride=2), [(2, 3, 8, 8), (4, 3, 3, 3)]),
    (lambda t, x, w: F(t).conv2d(x, w, padding="foo"), [(2, 3, 8, 8), (4, 3, 3, 3)]),
    (lambda t, x, w: F(t).conv2d(x, w, groups=2), [(2, 3, 8, 8), (4, 3, 3, 3)]),
    (lambda t, x, w: F(t).conv2d(x, w, stride=0), [(2, 3, 8, 8), (4, 3, 3, 3)]),
    (lambda t, x, w: F(t).conv2d(x, w, padding=-1), [(2, 3, 8, 8), (4, 3, 3, 3)]),
    (lambda t, x, w: F(t).conv2d(x, w, w[:3, 0, 0, 0]), [(2, 3, 8, 8), (4, 3, 3, 3)]),
    (lambda t, x, w: F(t).conv_transpose2d(x, w, output_padding=1), [(2, 3, 8, 8), (3, 2, 3, 3)]),
    (lambda t, x, w: F(t).conv_transpose2d(x, w, padding="same"), [(2, 3, 8, 8), (3, 2, 3, 3)]),
])
def test_conv_errors(call, shapes):
    check_raises(call, shapes)


@pytest.mark.parametrize("xd,wd,bd", [("float32", "float64", None), ("float32", "float64",
                                      "float32"), ("float32", "float32", "float64"),
                                      ("int64", "float32", None), ("int64", "float32", "float32"),
                                      ("int64", "float32", "int64")])
def test_conv_dtype_mismatch_messages(xd, wd, bd):
    """torch checks the bias dtype first, then the weight's."""
    msgs = []
    for t in (torch, ember):
        with pytest.raises(RuntimeError) as e:
            t.nn.functional.conv2d(t.ones(1, 2, 4, 4, dtype=getattr(t, xd)),
                                   t.ones(3, 2, 3, 3, dtype=getattr(t, wd)),
                                   None if bd is None else t.ones(3, dtype=getattr(t, bd)))
        msgs.append(str(e.value))
    assert msgs[1] == msgs[0]


@pytest.mark.parametrize("D", [1, 2, 3])
def test_conv_transpose_output_padding_message(D):
    msgs = []
    for t in (torch, ember):
        f = getattr(t.nn.functional, f"conv_transpose{D}d")
        with pytest.raises(RuntimeError) as e:
            f(t.ones((1, 2) + (4,) * D), t.ones((2, 3) + (3,) * D), stride=2, output_padding=2)
        msgs.append(str(e.value))
    assert msgs[1] == msgs[0]


# ---------------------------------------------------------------------------------------------
# Modules

from module_oracle import check_module  # noqa: E402


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=1), (2, 3, 9)),
    ("Conv2d", (3, 4, 3), {}, (2, 3, 6, 7)),
    ("Conv2d", (4, 6, (3, 2)), dict(padding="same", groups=2, bias=False, dilation=2), (2, 4, 6, 7)),
    ("Conv2d", (3, 4, 3), dict(padding=(1, 2), padding_mode="reflect"), (2, 3, 6, 7)),
    ("Conv2d", (3, 4, 3), dict(padding=2, padding_mode="circular"), (2, 3, 6, 7)),
    ("Conv2d", (3, 4, 3), dict(padding="same", padding_mode="replicate"), (2, 3, 6, 7)),
    ("Conv3d", (2, 3, 2), dict(stride=(1, 2, 1)), (1, 2, 4, 5, 4)),
    ("ConvTranspose1d", (3, 4, 3), dict(stride=2, output_padding=1), (2, 3, 5)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, groups=2, dilation=1), (2, 4, 4, 5)),
    ("ConvTranspose3d", (2, 3, 2), dict(bias=False), (1, 2, 3, 3, 3)),
])
def test_conv_modules(name, args, kwargs, shape):
    check_module("conv", name, args, kwargs, [shape], rtol=1e-4, atol=1e-5)


def test_conv_transpose_output_size():
    check_module("conv", "ConvTranspose2d", (3, 2, 3), dict(stride=2), [(1, 3, 4, 4)],
                 call=lambda m, x: m(x, output_size=[10, 9]), rtol=1e-4, atol=1e-5)


def test_conv_module_init_distribution():
    from module_oracle import ember_class
    ember.manual_seed(0)
    m = ember_class("conv", "Conv2d")(16, 32, 3)
    bound = 1 / np.sqrt(16 * 9)
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound
    assert np.abs(m.bias.detach().numpy()).max() <= bound


@pytest.mark.parametrize("call,shapes", [
    # stride 1 with at least twice as many output as input channels: the shifted col2im route
    (lambda t, x, w: t.nn.functional.conv1d(x, w, padding=3, dilation=2), [(3, 2, 11), (6, 2, 3)]),
    (lambda t, x, w: t.nn.functional.conv2d(x, w, padding=(1, 2)), [(2, 3, 6, 7), (8, 3, 3, 2)]),
    (lambda t, x, w: t.nn.functional.conv2d(x, w, groups=2, dilation=(2, 1)),
     [(2, 4, 7, 6), (8, 2, 2, 3)]),
    (lambda t, x, w: t.nn.functional.conv3d(x, w, padding=1), [(2, 1, 4, 3, 5), (4, 1, 3, 3, 3)]),
    (lambda t, x, w: t.nn.functional.conv2d(x, w), [(40, 2, 5, 5), (5, 2, 2, 2)]),  # > 1 block
])
def test_stride1_input_grad_shifted_route(call, shapes):
    check(call, shapes, dtypes="float64")
    check(call, shapes)
