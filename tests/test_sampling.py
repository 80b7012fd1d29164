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


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pads", [((2, 3, 7), (0, 4)), ((2, 3, 6, 5), (1, 2, 3, 4)),
                                        ((2, 3000), (700, 300))])
def test_mode_pad_gradient_of_the_gradient(mode, shape, pads):
    """The pad's gradient (the padded copies folded back) differentiated again, through the
    upstream gradient; long signals included (the gradient was once a dense L x L matrix)."""
    rng = np.random.default_rng(5)
    xa = make_array(shape, "float64", rng)
    out_shape = torch.nn.functional.pad(torch.tensor(xa), pads, mode=mode).shape
    ga, wa = make_array(tuple(out_shape), "float64", rng), make_array(shape, "float64", rng)
    res = []
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        x, g = conv(xa, True), conv(ga, True)
        (gx,) = lib.autograd.grad(F(lib).pad(x, pads, mode=mode), (x,), g, create_graph=True)
        (gg,) = lib.autograd.grad((gx * conv(wa)).sum(), (g,))
        res.append((gx, gg))
        if mode != "circular":   # (torch composes circular padding from copies)
            res[-1] += (gx.grad_fn.name(),)
    for i, (t, e) in enumerate(zip(*res)):
        if isinstance(t, str):
            assert e == t
        else:
            assert_close(t, e, what=f"result {i}")


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
    # torch's fixed-point uint8 path, exactly (torch's own (1, 1) output trips an assert)
    for mode in ("bilinear", "bicubic"):
        for ac in (False, True):
            for kw in (dict(size=(3, 4)), dict(size=(13, 17)), dict(scale_factor=0.37)):
                check(lambda t, x: F(t).interpolate(x, mode=mode, align_corners=ac, **kw),
                      [(2, 3, 11, 8)], dtypes="uint8", high=256)
    check(lambda t, x: F(t).interpolate(x, size=(4, 6), mode="bilinear"), [(1, 2, 3, 3)],
          dtypes="float64")


PADDINGS = ["zeros", "border", "reflection"]


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample(mode, padding_mode, align_corners):
    # x1.3 puts some points just outside [-1, 1], x3.7 far outside (several reflections)
    for scale in (1.3, 3.7):
        check(lambda t, x, g: F(t).grid_sample(x, g * scale, mode=mode, padding_mode=padding_mode,
                                               align_corners=align_corners),
              [(2, 3, 5, 6), (2, 4, 3, 2)], dtypes="float64")


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_3d(mode, padding_mode, align_corners):
    for scale in (1.3, 3.7):
        check(lambda t, x, g: F(t).grid_sample(x, g * scale, mode=mode, padding_mode=padding_mode,
                                               align_corners=align_corners),
              [(2, 3, 4, 5, 3), (2, 2, 3, 4, 3)], dtypes="float64")


@pytest.mark.parametrize("mode,shapes", [
    ("bicubic", [(2, 3, 6, 5), (2, 3, 4, 2)]), ("bilinear", [(2, 3, 6, 5), (2, 3, 4, 2)]),
    ("bilinear", [(2, 3, 4, 3, 5), (2, 3, 2, 4, 3)]),
    ("nearest", [(2, 3, 4, 3, 5), (2, 3, 2, 4, 3)])])
def test_grid_sample_float32_noncontiguous(mode, shapes):
    # transposed views of input and grid; torch sums bicubic's 16 taps in float32, so its grid
    # gradient is only that accurate
    tol = 1e-4 if mode == "bicubic" else None
    for pm in PADDINGS:
        check(lambda t, x, g: F(t).grid_sample(x.transpose(-1, -2), g.transpose(1, 2) * 1.2,
                                               mode=mode, padding_mode=pm, align_corners=False),
              shapes, grad_rtol=tol, grad_atol=tol)


def test_grid_sample_edge_cases():
    # single-pixel axes (reflection with align_corners=True has no span), empty batch, half
    for pm in PADDINGS:
        for mode in ("bilinear", "nearest", "bicubic"):
            check(lambda t, x, g: F(t).grid_sample(x, g * 2, mode=mode, padding_mode=pm,
                                                   align_corners=True),
                  [(1, 2, 1, 4), (1, 3, 2, 2)], dtypes="float64")
    check(lambda t, x, g: F(t).grid_sample(x, g, align_corners=False),
          [(0, 2, 3, 4, 5), (0, 2, 2, 2, 3)])
    check(lambda t, x, g: F(t).grid_sample(x, g, mode="bicubic", align_corners=False),
          [(1, 2, 3, 4), (1, 2, 2, 2)], dtypes="float16", grad=False, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("D,mode", [(2, "bilinear"), (2, "nearest"), (2, "bicubic"),
                                    (3, "bilinear"), (3, "nearest")])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_double_backward(D, mode, padding_mode, align_corners):
    """Under create_graph the gradients are Tensor ops of input, grid and upstream: the first
    derivatives and the second (of a loss mixing both gradients and the output) equal
    torch's, with grid points outside [-1, 1] for the padding modes."""
    rng = np.random.default_rng(D * 7 + len(mode) + len(padding_mode) + align_corners)
    spatial = (4, 5) if D == 2 else (3, 4, 5)
    points = (3, 4) if D == 2 else (2, 3, 2)
    x0 = rng.standard_normal((2, 3) + spatial)
    g0 = rng.uniform(-1.3, 1.3, (2,) + points + (D,))
    up = rng.standard_normal((2, 3) + points)
    results = []
    for t in (torch, ember):
        x, g = t.tensor(x0, requires_grad=True), t.tensor(g0, requires_grad=True)
        y = t.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                                        align_corners=align_corners)
        gx, gg = t.autograd.grad(y, (x, g), t.tensor(up), create_graph=True)
        loss = (gx * gx).sum() + (gg * gg).sum() + (gx.sum() * y).sum()
        results.append([v.detach().numpy() for v in (gx, gg, *t.autograd.grad(loss, (x, g)))])
    for e, r in zip(results[1], results[0]):
        np.testing.assert_allclose(e, r, rtol=1e-9, atol=1e-10)


def test_grid_sample_gradgradcheck():
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    g = ember.tensor(rng.uniform(-1.2, 1.2, (1, 2, 3, 2)), requires_grad=True)
    for mode in ("bilinear", "bicubic"):
        assert ember.autograd.gradgradcheck(
            lambda a, b: ember.nn.functional.grid_sample(a, b, mode=mode, align_corners=False,
                                                         padding_mode="reflection"), (x, g))


def test_grid_sample_names_and_warning():
    rng = np.random.default_rng(0)
    for shapes, name in (([(1, 2, 3, 4), (1, 2, 2, 2)], "GridSampler2DBackward0"),
                         ([(1, 2, 3, 4, 5), (1, 2, 2, 2, 3)], "GridSampler3DBackward0")):
        x, g = (to_ember(make_array(s, "float32", rng), True) for s in shapes)
        with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
            y = ember.nn.functional.grid_sample(x, g)
        assert y.grad_fn.name() == name
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        ember.nn.functional.affine_grid(ember.zeros(1, 2, 3), (1, 1, 2, 2))


def _gs(**kw):
    return lambda t, x, g: F(t).grid_sample(x, g, align_corners=False, **kw)


@pytest.mark.parametrize("call,shapes,dtypes", [
    (_gs(mode="bicubic"), [(1, 2, 3, 4, 5), (1, 2, 2, 2, 3)], "float32"),   # bicubic is 2-D only
    (_gs(), [(1, 2, 3, 4, 5), (1, 2, 2, 2, 2)], "float32"),
    (_gs(), [(1, 2, 3, 4), (1, 2, 2, 2, 2)], "float32"),
    (_gs(), [(1, 2, 3, 4, 5, 6), (1, 2, 2, 2, 2, 4)], "float32"),
    (_gs(), [(2, 2, 3, 4, 5), (1, 2, 2, 2, 3)], "float32"),
    (_gs(), [(1, 2, 0, 4, 5), (1, 2, 2, 2, 3)], "float32"),
    (_gs(), [(1, 2, 3, 4, 5), (1, 2, 2, 2, 3)], ["float32", "float64"]),
    (_gs(mode="bicubic"), [(1, 2, 3, 4), (1, 2, 2, 2)], "int64"),
    (_gs(), [(1, 2, 3, 4, 5), (1, 2, 2, 2, 3)], "int32"),
    (_gs(padding_mode="wrap"), [(1, 2, 3, 4), (1, 2, 2, 2)], "float32"),
])
def test_grid_sample_errors(call, shapes, dtypes):
    check_raises(call, shapes, dtypes)


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


# torch records one node per shuffle (PixelShuffleBackward0, PixelUnshuffleBackward0,
# ChannelShuffleBackward0), its result a fresh contiguous tensor; the gradient is the inverse
# shuffle (itself one node, so differentiable again)
SHUFFLES = [
    (lambda t, x: F(t).pixel_shuffle(x, 2), (2, 8, 3, 4)),
    (lambda t, x: F(t).pixel_shuffle(x, 3), (9, 2, 1)),          # no batch dim
    (lambda t, x: F(t).pixel_shuffle(x, 2), (2, 3, 4, 2, 3)),    # two batch dims
    (lambda t, x: F(t).pixel_shuffle(x, 1), (2, 3, 2, 2)),
    (lambda t, x: F(t).pixel_unshuffle(x, 2), (2, 2, 4, 6)),
    (lambda t, x: F(t).pixel_unshuffle(x, 3), (1, 6, 3)),
    (lambda t, x: F(t).pixel_unshuffle(x, 2), (2, 3, 1, 4, 2)),
    (lambda t, x: t.pixel_unshuffle(x, 1), (2, 3, 2, 2)),
    (lambda t, x: F(t).channel_shuffle(x, 3), (2, 6, 3)),
    (lambda t, x: F(t).channel_shuffle(x, 2), (2, 4, 3, 2, 2)),
    (lambda t, x: F(t).channel_shuffle(x, 6), (1, 6, 2, 2)),
    (lambda t, x: t.channel_shuffle(x, 1), (3, 4, 2)),
    (lambda t, x: t.nn.ChannelShuffle(2)(x), (2, 4, 5)),
]


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("fn,shape", SHUFFLES)
def test_shuffle_one_node(fn, shape, dt):
    t, e = check(fn, [shape], dt, check_stride=True)
    assert e.grad_fn.name() == t.grad_fn.name()
    assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__
    assert len(e.grad_fn.next_functions) == len(t.grad_fn.next_functions) == 1
    check(fn, [shape], "int64", check_stride=True)


@pytest.mark.parametrize("fn,shape", SHUFFLES)
def test_shuffle_graph_and_double_backward(fn, shape):
    from test_graph_names import check_double_backward, check_graph
    if 0 not in shape:
        check_graph(fn, [shape])
        check_double_backward(fn, [shape], upstream=True)
    # the gradient's own node is the inverse shuffle's, in torch's name
    xa = make_array(shape, "float64")
    names = []
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        x = conv(xa, True)
        y = fn(lib, x)
        (gx,) = lib.autograd.grad(y, (x,), conv(np.ones(tuple(y.shape)), True),
                                  create_graph=True)
        names.append((gx.grad_fn.name(), type(gx.grad_fn).__name__, gx.is_contiguous()))
    assert names[1] == names[0]


@pytest.mark.parametrize("fn", [
    lambda t, x: F(t).pixel_shuffle(x.transpose(-1, -2), 2),
    lambda t, x: F(t).pixel_unshuffle(x.narrow(-1, 1, 2), 2),
    lambda t, x: F(t).channel_shuffle(x.transpose(1, 3), 2)])
def test_shuffle_non_contiguous_input(fn):
    from test_graph_names import check_graph
    check_graph(fn, [(2, 8, 4, 4)], check_stride=True)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("fn,shape", [SHUFFLES[0], SHUFFLES[5], SHUFFLES[10]])
def test_shuffle_half(fn, shape, dtype):
    """Pure data movement: every value and gradient bit for bit."""
    from half_oracle import compare, sample
    n = int(np.prod(shape))
    compare(fn, dtype, [sample(n).reshape(shape)], grad=True)


def test_native_channel_shuffle_has_no_derivative():
    for lib in (torch, ember):
        x = lib.tensor(make_array((2, 6, 3), "float64"), requires_grad=True)
        y = lib.native_channel_shuffle(x, 3)
        assert y.requires_grad and y.grad_fn.name() == "torch::autograd::NotImplemented"
        with pytest.raises(RuntimeError, match="derivative for aten::native_channel_shuffle"):
            y.sum().backward()
    check(lambda t, x: t.native_channel_shuffle(x, 2), [(2, 4, 3, 2)], grad=False)


def test_shuffles_of_empty_inputs():
    # torch's pixel_unshuffle gives an empty input back in its own shape; values only (torch's
    # shuffle nodes return wrongly shaped gradients for empty inputs, or raise: ember's are
    # the empty gradients of the inputs' shapes)
    for fn, shape in [(lambda t, x: t.pixel_shuffle(x, 2), (0, 4, 2, 4)),
                      (lambda t, x: t.pixel_unshuffle(x, 2), (2, 0, 2, 4)),
                      (lambda t, x: t.pixel_unshuffle(x, 2), (0, 4, 2, 4)),
                      (lambda t, x: t.channel_shuffle(x, 2), (2, 0, 3))]:
        check(fn, [shape], grad=False)
        x = ember.zeros(shape, requires_grad=True)
        fn(ember, x).sum().backward()
        assert x.grad.shape == x.shape


AA_SIZES = [dict(size=(3, 4)), dict(size=(9, 2)), dict(size=(13, 17)), dict(scale_factor=0.37),
            dict(scale_factor=(0.5, 1.6)), dict(scale_factor=0.3, recompute_scale_factor=True),
            dict(size=1)]


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
@pytest.mark.parametrize("kw", AA_SIZES)
def test_interpolate_antialias(mode, kw):
    # downsampling widens the filter by the scale; upsampling keeps its width
    for ac in ([False, True] if mode != "lanczos" else [False]):
        check(lambda t, x: F(t).interpolate(x, mode=mode, align_corners=ac, antialias=True, **kw),
              [(2, 3, 11, 8)], dtypes="float64")
    check(lambda t, x: F(t).interpolate(x.transpose(2, 3), mode=mode, antialias=True, **kw),
          [(1, 2, 8, 11)])


def test_interpolate_antialias_upsampling():
    # torch: antialiased bilinear upsampling (align_corners=False) is the plain bilinear result,
    # bicubic (A = -0.5, edge taps renormalised) and align_corners=True are not
    xa = make_array((1, 2, 4, 5), "float64")
    for lib in (torch, ember):
        x = lib.tensor(xa)
        f = lib.nn.functional
        for mode, ac, same in (("bilinear", False, True), ("bilinear", True, False),
                               ("bicubic", False, False)):
            aa = f.interpolate(x, size=(7, 9), mode=mode, align_corners=ac, antialias=True)
            plain = f.interpolate(x, size=(7, 9), mode=mode, align_corners=ac)
            assert np.allclose(aa.numpy(), plain.numpy(), atol=1e-12) == same, (lib, mode, ac)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
def test_interpolate_antialias_uint8(mode):
    # torch's fixed-point path (int16 weights, width pass rounded to uint8 first), exactly
    for kw in (dict(size=(3, 4)), dict(size=(13, 17)), dict(size=(4, 8)), dict(scale_factor=0.37)):
        for shape in ((2, 3, 11, 8), (1, 6, 11, 8)):
            check(lambda t, x: F(t).interpolate(x, mode=mode, antialias=True, **kw), [shape],
                  dtypes="uint8", high=256)


def test_interpolate_antialias_names():
    x = ember.randn(1, 2, 8, 9, requires_grad=True)
    for mode, name in (("bilinear", "UpsampleBilinear2DAaBackward0"),
                       ("bicubic", "UpsampleBicubic2DAaBackward0"),
                       ("lanczos", "UpsampleLanczos2DAaBackward0")):
        y = ember.nn.functional.interpolate(x, size=(3, 4), mode=mode, antialias=True)
        assert y.grad_fn.name() == name


@pytest.mark.parametrize("call,shape,dtype", [
    (lambda t, x: F(t).interpolate(x, size=3, mode="nearest", antialias=True), (1, 2, 5, 5),
     "float32"),
    (lambda t, x: F(t).interpolate(x, size=3, mode="trilinear", antialias=True),
     (1, 2, 5, 5, 5), "float32"),
    (lambda t, x: F(t).interpolate(x, size=3, mode="bilinear", antialias=True), (1, 2, 5),
     "float32"),
    (lambda t, x: F(t).interpolate(x, size=3, mode="lanczos"), (1, 2, 5, 5), "float32"),
    (lambda t, x: F(t).interpolate(x, size=3, mode="lanczos", align_corners=True,
                                   antialias=True), (1, 2, 5, 5), "float32"),
    (lambda t, x: F(t).interpolate(x, size=3, mode="lanczos"), (1, 2, 5), "float32"),
    (lambda t, x: F(t).interpolate(x, size=3, mode="bilinear", antialias=True), (1, 2, 5, 5),
     "int32"),
    (lambda t, x: F(t).interpolate(x, size=3, mode="bicubic", antialias=True), (1, 2, 5, 5),
     "float16"),
    (lambda t, x: F(t).interpolate(x, size=3, mode="bilinear", recompute_scale_factor=True),
     (1, 2, 5, 5), "float32"),
    (lambda t, x: F(t).interpolate(x, size=(3, 2.0), mode="bilinear"), (1, 2, 5, 5), "float32"),
    (lambda t, x: F(t).interpolate(x, mode="foo"), (1, 2, 5, 5), "float32"),
    (lambda t, x: F(t).interpolate(x, size=3, mode="foo"), (1, 2, 5, 5), "float32"),
    (lambda t, x: F(t).interpolate(x, size=3, mode="linear"), (1, 2, 5), "uint8"),
    (lambda t, x: F(t).interpolate(x, size=3, mode="trilinear"), (1, 2, 5, 4, 3), "uint8"),
    (lambda t, x: F(t).interpolate(x, size=3, mode="area"), (1, 2, 5, 4), "uint8"),
    (lambda t, x: F(t).interpolate(x, size=3, mode="bicubic"), (1, 2, 5, 4), "int32"),
])
def test_interpolate_errors(call, shape, dtype):
    check_raises(call, [shape], dtype)


@pytest.mark.parametrize("mode,shape,size", [
    ("linear", (1, 2, 200), (450,)), ("bilinear", (1, 2, 30, 200), (7, 450)),
    ("bicubic", (1, 2, 30, 200), (70, 450)), ("trilinear", (1, 1, 6, 30, 20), (9, 70, 5))])
@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_float32_coordinates_as_torch(mode, shape, size, align_corners):
    """torch computes float32 source coordinates as one fused multiply-add in float32: far
    from the origin the weights move by ~1e-5, which a float64 computation misses. (torch's
    bicubic backward kernel rounds its coordinates differently from its forward: ~3e-5.)"""
    check(lambda t, x: F(t).interpolate(x, size=size, mode=mode, align_corners=align_corners),
          [shape], rtol=1e-6, atol=5e-6, grad_rtol=1e-5, grad_atol=5e-5)


@pytest.mark.parametrize("call", [
    lambda t, x: F(t).interpolate(x, scale_factor=2.5, mode="linear"),
    lambda t, x: F(t).interpolate(x, size=30011, mode="nearest"),
    lambda t, x: F(t).interpolate(x, size=777, mode="area"),
    lambda t, x: F(t).avg_pool1d(x, 4, 3, 1, count_include_pad=False),
    lambda t, x: F(t).adaptive_avg_pool1d(x, 4001)])
def test_resampling_long_signals(call):
    """Weight matrices past a million entries are sparse (a dense (out, L) matrix for 20k
    samples upsampled is 4 GB)."""
    check(call, [(2, 3, 20000)], dtypes="float64")


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
