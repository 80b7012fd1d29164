"""pad, interpolate, grid_sample, affine_grid, unfold/fold and the shuffles against torch."""
import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check, check_raises, make_array, to_ember, to_torch


def F(t):
    return t.nn.functional


@pytest.mark.parametrize("shape,pads,value", [((2, 3, 4, 5), (1, 2, -1, 3), None),
                                              ((2, 3, 4, 5), (1, 2, 0, 3), 2.5),
                                              ((4,), (0, 2), None), ((2, 3), (1, 1, 1, 1), 1.0),
                                              ((0, 3), (1, 1), None)])
def test_constant_pad(shape, pads, value):
    check(lambda t, x: F(t).pad(x, pads, value=value), [shape])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pads", [((2, 3, 4, 5), (1, 2, 3, 2)), ((3, 4), (2, 1)),
                                        ((2, 3, 4, 5, 3), (1, 2, 3, 2, 1, 1)),
                                        ((3, 4, 5), (2, 3))])
def test_mode_pad(mode, shape, pads):
    check(lambda t, x: F(t).pad(x, pads, mode=mode), [shape])


def test_pad_dtypes_noncontiguous():
    check(lambda t, x: F(t).pad(x, (1, 1)), [(2, 3)], dtypes="int64")
    check(lambda t, x: F(t).pad(x.transpose(1, 2), (1, 1, 2, 0), mode="replicate"),
          [(2, 5, 4)])


MODES = [("nearest", (2, 3, 5, 7)), ("nearest-exact", (2, 3, 5, 7)), ("bilinear", (2, 3, 5, 7)),
         ("bicubic", (2, 3, 5, 7)), ("area", (2, 3, 9, 7)), ("linear", (2, 3, 6)),
         ("nearest", (2, 3, 6)), ("trilinear", (1, 2, 3, 4, 5)), ("nearest", (1, 2, 3, 4, 5))]


@pytest.mark.parametrize("mode,shape", MODES)
@pytest.mark.parametrize("kw", [dict(scale_factor=2.3), dict(size=4), dict(scale_factor=0.6),
                                dict(scale_factor=1.7, recompute_scale_factor=True)])
def test_interpolate(mode, shape, kw):
    acs = [None] if mode in ("nearest", "nearest-exact", "area") else [False, True]
    # torch's nearest 3-d backward with a scale_factor maps indices unlike its forward (a torch
    # bug: the gradient disagrees with the forward), so only the values are compared there
    grad = not (mode == "nearest" and len(shape) == 5 and "scale_factor" in kw)
    for ac in acs:
        check(lambda t, x: F(t).interpolate(x, mode=mode, align_corners=ac, **kw), [shape],
              grad=grad)


def test_interpolate_uint8_and_double():
    check(lambda t, x: F(t).interpolate(x, scale_factor=2, mode="nearest"), [(1, 2, 3, 3)],
          dtypes="uint8")
    check(lambda t, x: F(t).interpolate(x, size=(4, 6), mode="bilinear"), [(1, 2, 3, 3)],
          dtypes="float64")


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample(mode, padding_mode, align_corners):
    check(lambda t, x, g: F(t).grid_sample(x, g * 1.3, mode=mode, padding_mode=padding_mode,
                                           align_corners=align_corners),
          [(2, 3, 5, 6), (2, 4, 3, 2)], dtypes="float64", grad=mode == "bilinear")


def test_affine_grid():
    check(lambda t, th: F(t).affine_grid(th, (2, 3, 4, 5), align_corners=False), [(2, 2, 3)])
    check(lambda t, th: F(t).affine_grid(th, (2, 3, 4, 5, 3), align_corners=True), [(2, 3, 4)])

    def warp(t, x, th):
        return F(t).grid_sample(x, F(t).affine_grid(th, (2, 3, 5, 4), align_corners=False),
                                align_corners=False)
    check(warp, [(2, 3, 6, 6), (2, 2, 3)], dtypes="float64")


def test_unfold_fold():
    check(lambda t, x: F(t).unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
          [(2, 3, 6, 7)])
    check(lambda t, x: F(t).unfold(x, 2), [(3, 4, 4)])
    check(lambda t, x: F(t).fold(x, (5, 6), (2, 3), padding=1, stride=(2, 1)), [(2, 12, 18)])
    check(lambda t, x: F(t).fold(x, 4, 2, stride=2), [(8, 4)])


def test_shuffles():
    check(lambda t, x: F(t).pixel_shuffle(x, 2), [(2, 8, 3, 4)])
    check(lambda t, x: F(t).pixel_shuffle(x, 2), [(2, 1, 8, 3, 4)])
    check(lambda t, x: F(t).pixel_unshuffle(x, 2), [(2, 2, 4, 6)])
    check(lambda t, x: F(t).channel_shuffle(x, 2), [(2, 6, 3, 4)])


def test_double_backward_interpolate_and_pad():
    rng = np.random.default_rng(2)
    xa = make_array((1, 2, 4, 5), "float64", rng)
    res = []
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        x = conv(xa, True)
        f = lib.nn.functional
        y = f.interpolate(f.pad(x, (1, 2, 2, 1), mode="reflect"), scale_factor=1.5,
                          mode="bicubic", align_corners=False)
        (gx,) = lib.autograd.grad((y * y).sum(), (x,), create_graph=True)
        (gx * gx).sum().backward()
        res.append((y, gx, x.grad))
    for i, (t, e) in enumerate(zip(*res)):
        assert_close(t, e, what=f"result {i}")


@pytest.mark.parametrize("call,shape", [
    (lambda t, x: F(t).pad(x, (1, 2, 3)), (2, 3)),
    (lambda t, x: F(t).pad(x, (1, 1), mode="reflect", value=1.0), (2, 3, 4)),
    (lambda t, x: F(t).pad(x, (4, 1), mode="reflect"), (2, 3, 4)),
    (lambda t, x: F(t).pad(x, (1, 1), mode="reflect"), (2, 3, 4, 5, 6)),
    (lambda t, x: F(t).interpolate(x, mode="bilinear"), (2, 3, 4, 5)),
    (lambda t, x: F(t).interpolate(x, size=3, mode="nearest", align_corners=True), (2, 3, 4)),
    (lambda t, x: F(t).interpolate(x, size=3, mode="bilinear"), (2, 3, 4)),
    (lambda t, x: F(t).grid_sample(x, x, mode="foo"), (2, 3, 4, 2)),
    (lambda t, x: F(t).pixel_shuffle(x, 3), (2, 8, 3, 4)),
    (lambda t, x: F(t).pixel_unshuffle(x, 2), (2, 8, 3, 4)),
    (lambda t, x: F(t).channel_shuffle(x, 4), (2, 6, 3, 4)),
    (lambda t, x: F(t).fold(x, 4, 2), (2, 7, 4)),
])
def test_sampling_errors(call, shape):
    check_raises(call, [shape])


# ---------------------------------------------------------------------------------------------
# Modules

from module_oracle import check_module  # noqa: E402


@pytest.mark.parametrize("file,name,args,kwargs,shape", [
    ("padding", "ZeroPad2d", (1,), {}, (2, 3, 4, 5)),
    ("padding", "ZeroPad2d", ((1, 2, 0, 3),), {}, (2, 3, 4, 5)),
    ("padding", "ConstantPad1d", ((1, 2), 3.5), {}, (2, 3, 4)),
    ("padding", "ConstantPad3d", (1, -1.0), {}, (1, 2, 3, 4, 5)),
    ("padding", "ReflectionPad1d", (2,), {}, (2, 3, 4)),
    ("padding", "ReflectionPad2d", ((1, 2, 2, 1),), {}, (2, 3, 4, 5)),
    ("padding", "ReplicationPad1d", (2,), {}, (2, 3, 4)),
    ("padding", "ReplicationPad2d", (2,), {}, (2, 3, 4, 5)),
    ("padding", "ReplicationPad3d", (1,), {}, (1, 2, 3, 4, 5)),
    ("padding", "CircularPad2d", (2,), {}, (2, 3, 4, 5)),
    ("upsampling", "Upsample", (), dict(scale_factor=2, mode="bilinear"), (2, 3, 4, 5)),
    ("upsampling", "Upsample", ((5, 7),), dict(mode="bicubic", align_corners=True), (2, 3, 4, 5)),
    ("upsampling", "UpsamplingNearest2d", (), dict(scale_factor=3), (2, 3, 4, 5)),
    ("upsampling", "UpsamplingBilinear2d", ((6, 7),), {}, (2, 3, 4, 5)),
    ("pixelshuffle", "PixelShuffle", (2,), {}, (2, 8, 3, 4)),
    ("pixelshuffle", "PixelUnshuffle", (2,), {}, (2, 2, 4, 6)),
    ("pixelshuffle", "ChannelShuffle", (3,), {}, (2, 6, 3, 4)),
    ("fold", "Unfold", ((2, 3),), dict(padding=1, stride=2), (2, 3, 6, 7)),
    ("fold", "Fold", ((5, 6), (2, 3)), dict(padding=1, stride=(2, 1)), (2, 12, 18)),
])
def test_sampling_modules(file, name, args, kwargs, shape):
    check_module(file, name, args, kwargs, [shape])
