"""Differential tests for the smaller torch.* functions and Tensor methods: frombuffer,
resize_/set_ and friends, split_with_sizes and the unsafe_* splits, the *_copy view variants,
as_strided_/as_strided_scatter, histogramdd, segment_reduce, binomial, map2_, dim_order."""
import array
import warnings

import numpy as np
import pytest
import torch

import ember
from ember._ops import binning   # (until ember/__init__.py imports it)
from oracle import check, check_raises, make_array


def arr(shape, dtype="float32", seed=0):
    return make_array(shape, dtype, np.random.default_rng(seed))


def _fn(t, name):
    """torch.<name>, or ember's (from binning until the namespace exports it)."""
    if t is torch:
        return getattr(torch, name)
    return getattr(ember, name, None) or getattr(binning, name)


# --- frombuffer -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,count,offset", [
    ("int32", -1, 0), ("int32", 2, 4), ("int32", 2, 2), ("uint8", 5, 3), ("float32", -1, 8),
    ("int16", 3, 1), ("float64", 1, 0), ("bool", 4, 0)])
def test_frombuffer_values_and_memory(dtype, count, offset):
    tb, eb = bytearray(range(16)), bytearray(range(16))
    t = torch.frombuffer(tb, dtype=getattr(torch, dtype), count=count, offset=offset)
    e = ember.frombuffer(eb, dtype=getattr(ember, dtype), count=count, offset=offset)
    assert tuple(e.shape) == tuple(t.shape) and str(e.dtype)[6:] == str(t.dtype)[6:]
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    e[0] = 1   # the tensor writes through to the buffer
    t[0] = 1
    assert eb == tb


def test_frombuffer_array_module_and_requires_grad():
    a = array.array("i", [1, 2, 3])
    t = ember.frombuffer(a, dtype=ember.int32)
    t[0] = -1
    assert a[0] == -1
    r = ember.frombuffer(bytearray(8), dtype=ember.float32, requires_grad=True)
    assert r.requires_grad and r.is_leaf


def test_frombuffer_readonly_warns():
    with pytest.warns(UserWarning, match="not writable"):
        e = ember.frombuffer(bytes(8), dtype=ember.int32)
    np.testing.assert_array_equal(e.numpy(), [0, 0])


@pytest.mark.parametrize("buf,kw", [
    (bytearray(16), dict(dtype="int32", offset=2)),          # not a multiple of element size
    (bytearray(16), dict(dtype="int32", count=5)),           # count past the end
    (bytearray(16), dict(dtype="int32", count=0)),
    (bytearray(0), dict(dtype="int32")),
    (bytearray(16), dict(dtype="int32", offset=16)),         # offset out of range
    (bytearray(16), dict(dtype="int32", offset=-1)),
    (bytearray(15), dict(dtype="int32")),
    ([1, 2], dict(dtype="int32")),                           # no buffer protocol
    (bytearray(16), dict(dtype="int32", requires_grad=True)),
    (memoryview(bytearray(16))[::2], dict(dtype="uint8")),   # not contiguous
    (bytearray(16), dict()),                                 # dtype is required
])
def test_frombuffer_errors(buf, kw):
    def call(t):
        k = dict(kw)
        if "dtype" in k:
            k["dtype"] = getattr(t, k["dtype"])
        return t.frombuffer(buf, **k)
    check_raises(lambda t: call(t))


# --- resize_, resize_as_, resize, resize_as ---------------------------------------------------

def _both(make):
    return make(torch), make(ember)


def _same_geometry(t, e):
    assert tuple(e.shape) == tuple(t.shape)
    assert e.stride() == t.stride() and e.storage_offset() == t.storage_offset()


@pytest.mark.parametrize("sizes", [(2, 2), (6,), (3, 3), (4, 5), (0,), (2, 0, 3)])
def test_resize_keeps_prefix(sizes):
    t, e = _both(lambda m: m.arange(6.))
    assert e.resize_(*sizes) is e
    t.resize_(*sizes)
    _same_geometry(t, e)
    n = min(6, e.numel())
    np.testing.assert_array_equal(e.reshape(-1)[:n].numpy(), t.reshape(-1)[:n].numpy())
    assert e._version == t._version


def test_resize_geometry_and_version():
    # same shape: strides (and version) unchanged; a new shape gets contiguous strides
    t, e = _both(lambda m: m.arange(6.).reshape(2, 3).t())
    t.resize_(3, 2)
    e.resize_(3, 2)
    _same_geometry(t, e)
    assert e._version == t._version == 0
    t.resize_(2, 3)
    e.resize_(2, 3)
    _same_geometry(t, e)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert e._version == t._version == 1
    # a strided view is resized over its storage, not its elements
    t, e = _both(lambda m: m.arange(24.)[::2])
    t.resize_(3, 2)
    e.resize_(3, 2)
    _same_geometry(t, e)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    # a view keeps its offset and shares memory and version with its base
    (tb, t), (eb, e) = [(b, b[1:4]) for b in _both(lambda m: m.arange(6.))]
    t.resize_(5)
    e.resize_(5)
    _same_geometry(t, e)
    e[0] = 9
    assert eb[1].item() == 9 and eb._version == e._version


def test_resize_memory_format_and_as():
    t, e = _both(lambda m: m.ones(2, 3, 4, 5))
    t.resize_(2, 3, 4, 5, memory_format=torch.channels_last)
    e.resize_(2, 3, 4, 5, memory_format=ember.channels_last)
    _same_geometry(t, e)
    t, e = _both(lambda m: m.ones(2, 3))
    torch.resize_as_(t, torch.ones(4))
    ember.resize_as_(e, ember.ones(4))
    _same_geometry(t, e)
    e.resize_as_(ember.ones(2, 2))
    assert tuple(e.shape) == (2, 2)
    e.resize_((3,))
    assert tuple(e.shape) == (3,)


def test_resize_growing_storage():
    e = ember.arange(4.)
    e.resize_(3, 3)
    assert tuple(e.shape) == (3, 3) and e.stride() == (3, 1)
    np.testing.assert_array_equal(e.reshape(-1)[:4].numpy(), [0, 1, 2, 3])
    e.resize_(0)
    e.resize_(4)   # the storage keeps its values after a shrink
    np.testing.assert_array_equal(e.numpy(), [0, 1, 2, 3])


@pytest.mark.parametrize("call", [
    lambda t: t.ones(2, requires_grad=True).resize_(3),
    lambda t: (t.ones(2, requires_grad=True) * 2).resize_(3),
    lambda t: t.ones(2, 3).resize_(2, 3, memory_format=t.channels_last),
    lambda t: t.ones(2, 3).resize_(2, 3, memory_format=t.preserve_format),
    lambda t: t.from_numpy(np.arange(6.)).resize_(7),       # storage not resizable
    lambda t: t.frombuffer(bytearray(16), dtype=t.float32).resize_(5),
])
def test_resize_errors(call):
    check_raises(call)


def test_resize_no_grad_still_refuses_and_foreign_shrink_ok():
    with ember.no_grad(), pytest.raises(RuntimeError, match="require grad"):
        ember.ones(2, requires_grad=True).resize_(3)
    e = ember.from_numpy(np.arange(6.))
    e.resize_(2, 3)   # within the storage: fine
    assert tuple(e.shape) == (2, 3)


def test_resize_deprecated_out_of_place():
    x = np.arange(6.).reshape(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda t, x: x.resize(3, 2), inputs=[x])
        check(lambda t, x: x.t().resize(6), inputs=[x])
        check(lambda t, x, y: x.resize_as(y), inputs=[x, np.zeros(6)])
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        e = ember.arange(6.).resize(2, 3)
    assert e.grad_fn is None
    r = ember.ones(6, requires_grad=True).resize(2, 3)
    assert r.grad_fn.name() == "ResizeBackward"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_raises(lambda t, x: x.resize(4), inputs=[x])
        check_raises(lambda t, x: x.resize_as(t.ones(4)), inputs=[x])


# --- set_ and is_set_to -----------------------------------------------------------------------

def test_set_to_tensor_shares_memory():
    for src in (lambda m: m.arange(6.), lambda m: m.arange(6.).view(2, 3).t(),
                lambda m: m.arange(6.)[2:]):
        (ts, t), (es, e) = [(src(m), m.zeros(2)) for m in (torch, ember)]
        assert e.set_(es) is e
        t.set_(ts)
        _same_geometry(t, e)
        assert e.is_set_to(es) and es.is_set_to(e) and e._version == t._version == 1
        e[(0,) * e.dim()] = 100
        assert es[(0,) * es.dim()].item() == 100


def test_set_to_storage():
    for args in [(), (1, (2, 2)), (1, (2, 2), (1, 2)), (1, (4,))]:
        (ta, t), (ea, e) = [(m.arange(6.), m.zeros(2)) for m in (torch, ember)]
        t.set_(ta.untyped_storage(), *args)
        e.set_(ea.untyped_storage(), *args)
        _same_geometry(t, e)
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    t, e = _both(lambda m: m.zeros(2))
    t.set_(torch.arange(6, dtype=torch.int32).untyped_storage())   # reinterprets the bytes
    e.set_(ember.arange(6, dtype=ember.int32).untyped_storage())
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    t, e = _both(lambda m: m.zeros(2).set_())
    _same_geometry(t, e)


def test_is_set_to():
    b = ember.arange(6.)
    tb = torch.arange(6.)
    for f in (lambda x: x, lambda x: x.view(2, 3), lambda x: x[1:], lambda x: x.detach(),
              lambda x: x.view(6)):
        assert f(b).is_set_to(b) == f(tb).is_set_to(tb)


def test_set_errors_and_grad():
    check_raises(lambda t: t.zeros(2, dtype=t.int64).set_(t.arange(6.)))
    check_raises(lambda t: t.zeros(2, requires_grad=True).set_(t.arange(6.)))
    r = (ember.zeros(2, requires_grad=True) * 1).set_(ember.arange(6.))
    assert r.requires_grad and r.grad_fn.name() == "torch::autograd::NotImplemented"
    with pytest.raises(RuntimeError, match="not implemented"):
        r.sum().backward()
    with ember.no_grad():
        z = ember.zeros(2, requires_grad=True)
        z.set_(ember.ones(3))
    assert z.requires_grad and z.is_leaf and tuple(z.shape) == (3,)


# --- new_empty_strided, const_data_ptr, dim_order, map2_, hardshrink/prelu methods ------------

def test_new_empty_strided():
    t, e = _both(lambda m: m.ones(2, dtype=m.float64).new_empty_strided((2, 3), (1, 2)))
    _same_geometry(t, e)
    assert e.dtype is ember.float64
    e = ember.ones(2).new_empty_strided((2, 3), (3, 1), dtype=ember.int32, requires_grad=False)
    assert e.dtype is ember.int32 and e.stride() == (3, 1)


def test_const_data_ptr():
    x = ember.arange(6.)[2:]
    assert x.const_data_ptr() == x.data_ptr()


@pytest.mark.parametrize("make", [
    lambda m: m.ones(2, 3, 4), lambda m: m.ones(2, 3, 4).permute(2, 0, 1),
    lambda m: m.ones(2, 3, 4, 5).contiguous(memory_format=m.channels_last),
    lambda m: m.ones(2, 1, 4), lambda m: m.ones(2, 3, 4)[:, :, ::2],
    lambda m: m.ones(2, 3).expand(4, 2, 3), lambda m: m.ones(4, 1).t(), lambda m: m.ones(()),
    lambda m: m.ones(3, 4, 5).transpose(0, 2)[:, ::2],
    lambda m: m.ones(8).as_strided((2, 2, 2), (1, 1, 4))])
def test_dim_order(make):
    t, e = _both(make)
    assert e.dim_order() == t.dim_order()
    for check_arg in (True, [torch.contiguous_format]):
        e_arg = check_arg if check_arg is True else [ember.contiguous_format]
        try:
            want = t.dim_order(ambiguity_check=check_arg)
        except RuntimeError:
            with pytest.raises(RuntimeError):
                e.dim_order(ambiguity_check=e_arg)
        else:
            assert e.dim_order(ambiguity_check=e_arg) == want
    check_raises(lambda m: make(m).dim_order(ambiguity_check="x"))


def test_map2_():
    t, e = _both(lambda m: m.arange(3.))
    for x, m in ((t, torch), (e, ember)):
        r = x.map2_(m.ones(1), m.full((3,), 2.), lambda a, b, c: a + b * c)
        assert r is x
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    check_raises(lambda m: m.arange(3.).map2_(m.ones(2), m.ones(3), lambda a, b, c: a))
    check_raises(lambda m: m.arange(3.).map2_(m.ones(3).double(), m.ones(3), lambda a, b, c: a))
    check_raises(lambda m: m.ones(3, requires_grad=True).map2_(m.ones(3), m.ones(3),
                                                              lambda a, b, c: a))
    check_raises(lambda m: m.ones(3).map2_(m.ones(3, requires_grad=True), m.ones(3),
                                           lambda a, b, c: a))


def test_hardshrink_prelu_methods():
    check(lambda t, x: x.hardshrink(), [(3, 4)])
    check(lambda t, x: x.hardshrink(0.2), [(3, 4)])
    check(lambda t, x, w: x.prelu(w), [(2, 3, 4), (3,)])


# --- split_with_sizes and the unsafe_* splits -------------------------------------------------

def test_split_with_sizes():
    check(lambda t, x: x.split_with_sizes([1, 4], 1), [(3, 5)])
    check(lambda t, x: t.split_with_sizes(x, [2, 0, 1]), [(3, 5)])
    check(lambda t, x: x.split_with_sizes((1, 4), dim=-1), [(3, 5)])
    e = ember.arange(10.)
    assert all(p._base is e for p in e.split_with_sizes([3, 7]))
    check_raises(lambda t, x: t.split_with_sizes(x, [3, 6]), [(10,)])
    check_raises(lambda t, x: t.split_with_sizes(x, 3), [(10,)])
    check_raises(lambda t, x: x.split_with_sizes(3), [(10,)])


@pytest.mark.parametrize("call,node", [
    (lambda t, x: x.unsafe_split(2, 1), "UnsafeSplitBackward0"),
    (lambda t, x: t.unsafe_split(x, 3), "UnsafeSplitBackward0"),
    (lambda t, x: t.unsafe_chunk(x, 2, 1), "UnsafeSplitBackward0"),
    (lambda t, x: x.unsafe_chunk(3), "UnsafeSplitBackward0"),
    (lambda t, x: t.unsafe_split_with_sizes(x, [1, 4], 1), "UnsafeSplitWithSizesBackward0"),
    (lambda t, x: x.unsafe_split_with_sizes([2, 1]), "UnsafeSplitWithSizesBackward0"),
])
def test_unsafe_splits(call, node):
    _, e_out = check(call, [(3, 5)])
    assert all(p.grad_fn.name() == node for p in e_out)
    x = ember.arange(15.).reshape(3, 5)
    parts = call(ember, x)
    for p in parts:   # memory shared, but not tracked as views
        assert p._base is None
    parts[0][0, 0] = 100
    assert x[0, 0].item() == 100


def test_unsafe_split_in_place_gradient():
    """In-place on a piece is allowed (unlike split's views) and seen by the piece's graph."""
    def f(t, x):
        z = x * 1
        p = z.unsafe_split(2)
        p[0].mul_(2)
        return p[0] + 0, p[1] + 0
    check(f, [(4,)])
    check_raises(lambda t, x: t.unsafe_split(x, [1, 3]), [(4,)])


# --- the *_copy variants ----------------------------------------------------------------------

COPY_CASES = [
    ("alias_copy", (3, 4), ()), ("as_strided_copy", (3, 4), ((2, 2), (1, 2), 1)),
    ("diagonal_copy", (3, 4), (1,)), ("diagonal_copy", (2, 3, 4), (0, 2, 1)),
    ("narrow_copy", (3, 4), (1, 1, 2)), ("permute_copy", (2, 3, 4), ((2, 0, 1),)),
    ("select_copy", (3, 4), (1, 2)), ("slice_copy", (3, 4), (1, 1, 4, 2)),
    ("slice_copy", (5, 2), ()), ("slice_copy", (5, 2), (0, -3, None, 2)),
    ("split_copy", (3, 4), (2,)), ("split_copy", (3, 4), (3, 1)),
    ("split_with_sizes_copy", (3, 4), ([1, 2],)), ("squeeze_copy", (3, 1), ()),
    ("squeeze_copy", (3, 1), (1,)), ("squeeze_copy", (1, 3, 1), ((0, 2),)),
    ("t_copy", (3, 4), ()), ("t_copy", (3,), ()), ("transpose_copy", (2, 3, 4), (0, 2)),
    ("unbind_copy", (3, 4), ()), ("unbind_copy", (3, 4), (1,)),
    ("unfold_copy", (3, 4), (1, 2, 1)), ("unsqueeze_copy", (3, 4), (1,)),
    ("view_copy", (3, 4), ((4, 3),)), ("view_copy", (3, 4), ((-1,),)),
    ("expand_copy", (1, 4), ((2, 3, 4),)),
]


@pytest.mark.parametrize("name,shape,args", COPY_CASES, ids=lambda v: str(v))
def test_copy_variants(name, shape, args):
    t_out, e_out = check(lambda t, x: getattr(t, name)(x, *args), [shape], check_stride=True)
    t_out = t_out if isinstance(t_out, tuple) else (t_out,)
    e_out = e_out if isinstance(e_out, tuple) else (e_out,)
    for t, e in zip(t_out, e_out):
        assert e.grad_fn.name() == t.grad_fn.name()
    x = ember.zeros(shape)
    out = getattr(ember, name)(x, *args)
    for o in (out if isinstance(out, tuple) else (out,)):   # fresh memory: no aliasing
        assert o._base is None
        o.fill_(1)
    assert not x.numpy().any()


@pytest.mark.parametrize("name,args", [
    ("permute_copy", ((1, 0),)), ("t_copy", ()), ("select_copy", (0, 1)),
    ("diagonal_copy", ()), ("expand_copy", ((2, 3, 4),)), ("unfold_copy", (0, 2, 1)),
    ("slice_copy", (0, 1, 3)), ("narrow_copy", (1, 1, 2)), ("view_copy", ((12,),))])
def test_copy_variants_record_one_node(name, args):
    """torch's *_copy node leads to the input itself (the view's node is not in the graph),
    and differentiates twice."""
    from test_graph_names import check_double_backward, check_graph
    check_graph(lambda t, x: getattr(t, name)(x, *args), [(3, 4)])
    check_double_backward(lambda t, x: getattr(t, name)(x, *args) ** 2, [(3, 4)])


def test_copy_variants_special():
    check(lambda t, x: t.view_as_real_copy(t.view_as_complex_copy(x)), [(3, 2)], grad=False,
          check_stride=True)
    check(lambda t, x: t.view_as_real_copy(t.view_as_complex(x)), [(3, 2)], "float64")
    check_raises(lambda t, x: t.view_as_complex_copy(x.requires_grad_()), [(3, 2)])
    check(lambda t, x: t.view_copy(x, t.int32), [(3, 4)], grad=False)
    check(lambda t, x: x.narrow_copy(0, t.tensor(1), 2), [(3, 4)])
    check(lambda t, x: t.narrow_copy(x.t(), 1, 1, 2), [(3, 4)], check_stride=True)
    check_raises(lambda t, x: t.narrow_copy(x, 1, 3, 2), [(3, 4)])
    # detach_copy: a copy that requires grad but has no derivative (torch's NotImplemented)
    t_out, e_out = check(lambda t, x: t.detach_copy(x), [(3, 4)], grad=False)
    x = ember.ones(3, requires_grad=True)
    y = ember.detach_copy(x)
    assert y.requires_grad and y.grad_fn.name() == "torch::autograd::NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::detach_copy"):
        y.sum().backward()
    out = ember.empty(0)
    assert ember.t_copy(ember.ones(2, 3), out=out) is out and tuple(out.shape) == (3, 2)


def test_copy_variants_double_backward():
    def f(t, x):
        y = t.permute_copy(x, (1, 0)) * t.select_copy(x, 0, 1)
        (g,) = t.autograd.grad(y.pow(2).sum(), x, create_graph=True)
        return g
    check(f, [(3, 3)], "float64")


# --- as_strided_ and as_strided_scatter -------------------------------------------------------

def test_as_strided_inplace():
    t, e = _both(lambda m: m.arange(12.))
    assert e.as_strided_((2, 2), (1, 2), 1) is e
    t.as_strided_((2, 2), (1, 2), 1)
    _same_geometry(t, e)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert e._version == t._version == 1
    check(lambda t, x: (x * 1).as_strided_((2, 3), (1, 2)), [(8,)])
    _, e = check(lambda t, x: (x * 1).as_strided_((2,), (1,)), [(3,)])
    assert e.grad_fn.name() == "AsStridedBackward1"
    check_raises(lambda t, x: x.requires_grad_().as_strided_((2,), (1,)), [(3,)])


@pytest.mark.parametrize("make,args", [
    (lambda t, a: a, ((2, 2), (1, 2))), (lambda t, a: a, ((2, 2), (1, 2), 1)),
    (lambda t, a: a.t(), ((2, 2), (1, 2))), (lambda t, a: a, ((3,), (4,))),
    (lambda t, a: a, ((2, 1, 2), (3, 5, 1), 2))])
def test_as_strided_scatter(make, args):
    """Values and strides; src's gradient where torch's is right (a contiguous input: for
    another layout torch reads the gradient in the wrong layout, which gradcheck rejects)."""
    a = arr((3, 3), seed=3)
    grad = make(torch, torch.tensor(a)).is_contiguous()
    check(lambda t, s: t.as_strided_scatter(make(t, t.tensor(a)), s, *args),
          [args[0]], check_stride=True, grad=grad)
    check(lambda t, s: make(t, t.tensor(a)).as_strided_scatter(s, *args), [args[0]], grad=grad)


def test_as_strided_scatter_input_gradient():
    """The input's gradient is the upstream one with the scattered region zeroed: checked
    numerically (torch 2.13 returns the complement, which gradcheck rejects)."""
    at = ember.randn(3, 3, dtype=ember.float64).t()
    s = ember.randn(2, 2, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda s: ember.as_strided_scatter(at, s, (2, 2), (1, 2)),
                                    (s,))
    a = ember.randn(3, 3, dtype=ember.float64, requires_grad=True)
    s = ember.randn(2, 2, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, s: ember.as_strided_scatter(a, s, (2, 2), (1, 2)),
                                    (a, s))
    ember.as_strided_scatter(a, s, (2, 2), (1, 2)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[0, 0, 0], [0, 1, 1], [1, 1, 1]])


def test_as_strided_scatter_errors():
    check_raises(lambda t, a, s: t.as_strided_scatter(a, s, (2, 2), (1, 2)), [(3, 3), (3,)])
    check_raises(lambda t, a, s: t.as_strided_scatter(a, s, (2, 2), (5, 5)), [(3, 3), (2, 2)])


# --- histogramdd ------------------------------------------------------------------------------

def _hist(t, *args, **kw):
    if "weight" in kw and kw["weight"] is not None and not isinstance(kw["weight"],
                                                                      (torch.Tensor,
                                                                       ember.Tensor)):
        kw["weight"] = t.tensor(kw["weight"])
    return _fn(t, "histogramdd")(*args, **kw)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bins,kw", [
    ([7, 5], {}), (4, {}), ((3, 6), dict(range=[-1., 1., -2., 2.])),
    ([7, 5], dict(density=True)), ([3, 3], dict(range=[-1., 1., -2., 2.], density=True)),
    ([4, 2], dict(weight=True)), ([4, 2], dict(weight=True, density=True))])
def test_histogramdd(dtype, bins, kw):
    for seed in range(5):   # bin edges are bit-equal to torch's, so the counts agree exactly
        x = arr((40, 2), dtype, seed) * 3
        k = dict(kw)
        if k.get("weight"):
            k["weight"] = np.abs(arr((40,), dtype, seed + 1))
        tr, er = _hist(torch, torch.tensor(x), bins, **k), _hist(ember, ember.tensor(x), bins,
                                                                 **k)
        assert type(er).__name__ == "histogramdd" and isinstance(er.bin_edges, tuple)
        np.testing.assert_allclose(er.hist.numpy(), tr.hist.numpy(), rtol=1e-6)
        assert er.hist.dtype is getattr(ember, dtype)
        for te, ee in zip(tr.bin_edges, er.bin_edges):
            np.testing.assert_array_equal(ee.numpy(), te.numpy())


def test_histogramdd_shapes_and_edges():
    x = np.array([[0., 1.], [1., 0.], [2., 0.], [2., 2.]], np.float32)
    for make in (lambda t: [t.tensor([0., 1, 3]), t.tensor([0., 0.5, 2])],
                 lambda t: [t.tensor([0., 1, 3, 3]), t.tensor([0., 0.5, 2])],
                 lambda t: [t.tensor([3., 1, 0]), t.tensor([0., 0.5, 2])]):   # unsorted
        tb, eb = make(torch), make(ember)
        tr, er = _hist(torch, torch.tensor(x), tb), _hist(ember, ember.tensor(x), eb)
        np.testing.assert_array_equal(er.hist.numpy(), tr.hist.numpy())
        assert er.bin_edges[0] is eb[0]   # tensor bins are returned as given
    for x, bins in [(np.zeros((0, 2), np.float32), 2), (np.ones((3, 2), np.float32), 2),
                    (arr((2, 3, 2)), (2, 3)), (arr((5, 1)), 3),
                    (np.array([[np.nan, 1.]], np.float32), None)]:
        k = dict(range=[0., 1., 0., 1.]) if bins is None else {}
        tr = _hist(torch, torch.tensor(x), bins or 2, **k)
        er = _hist(ember, ember.tensor(x), bins or 2, **k)
        np.testing.assert_array_equal(er.hist.numpy(), tr.hist.numpy())
        for te, ee in zip(tr.bin_edges, er.bin_edges):
            np.testing.assert_array_equal(ee.numpy(), te.numpy())


def test_histogramdd_no_gradient():
    x = ember.randn(5, 2, requires_grad=True)
    r = _hist(ember, x, 2)
    assert r.hist.grad_fn.name() == "torch::autograd::NotImplemented"
    with pytest.raises(RuntimeError, match="not implemented"):
        r.hist.sum().backward()


@pytest.mark.parametrize("call", [
    lambda t, x: _hist(t, x, [2]), lambda t, x: _hist(t, x, [2, 2, 2]),
    lambda t, x: _hist(t, x.long(), 2), lambda t, x: _hist(t, x.half(), 2),
    lambda t, x: _hist(t, x, (0, 2)), lambda t, x: _hist(t, x, 2, range=[0., 1.]),
    lambda t, x: _hist(t, x, 2, range=[1., 0., 0., 1.]),
    lambda t, x: _hist(t, x, 2, weight=t.ones(3)),
    lambda t, x: _hist(t, x, 2, weight=t.ones(4).double()),
    lambda t, x: _hist(t, x[:, 0], 2),
    lambda t, x: _hist(t, x, [t.tensor([0., 1]), t.tensor([0., 1]).double()]),
    lambda t, x: _hist(t, x * float("nan"), 2), lambda t, x: _hist(t, x * float("inf"), 2),
])
def test_histogramdd_errors(call):
    check_raises(call, [(4, 2)])


# --- segment_reduce ---------------------------------------------------------------------------

def _seg(t, *args, **kw):
    return _fn(t, "segment_reduce")(*args, **kw)


REDUCES = ["sum", "mean", "max", "min", "prod", "amax", "amin"]


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("initial", [None, 2.0, 0.0])
def test_segment_reduce(reduce, initial):
    d = np.array([1., 2, -2, 4, 0, 6])
    check(lambda t, x: _seg(t, x, reduce, lengths=t.tensor([2, 0, 3, 1]), initial=initial),
          inputs=[d])
    check(lambda t, x: _seg(t, x, reduce, offsets=t.tensor([0, 2, 2, 5, 6]), initial=initial),
          inputs=[d])
    check(lambda t, x: _seg(t, x, reduce, offsets=t.tensor([1, 2, 2, 5]), initial=initial),
          inputs=[d])
    check(lambda t, x: _seg(t, x, reduce, lengths=t.tensor([1, 2, 0, 1]), initial=initial),
          [(4, 3)])
    check(lambda t, x: _seg(t, x, reduce, lengths=t.tensor([[1, 2], [3, 0]]), axis=1,
                            initial=initial), [(2, 3, 4)], "float64")
    check(lambda t, x: _seg(t, x, reduce, lengths=t.tensor([2, 2]).int(), unsafe=True,
                            initial=initial), [(6,)])


@pytest.mark.parametrize("reduce", ["max", "min", "prod"])
def test_segment_reduce_ties_nan_zeros(reduce):
    """Tied extremes share the gradient evenly, a NaN takes it; prod's zeros. (The upstream
    gradient is positive: torch's kernel skips the sharing for negative ones.)"""
    for d in ([2., 2, 1, 3, 3, 3], [3., 3, 3, 2, 2, 1], [2., np.nan, 1, 3, 0, 0],
              [1., 0, 2, 0, 0, 3]):
        for init in (None, 3.0, 1.0):
            data = np.array(d)
            ups = [1.5, 2.0]
            tx = torch.tensor(data, requires_grad=True)
            ex = ember.tensor(data, requires_grad=True)
            ty = _seg(torch, tx, reduce, lengths=torch.tensor([3, 3]), initial=init)
            ey = _seg(ember, ex, reduce, lengths=ember.tensor([3, 3]), initial=init)
            np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy())
            ty.backward(torch.tensor(ups, dtype=torch.float64))
            ey.backward(ember.tensor(ups, dtype=ember.float64))
            np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_segment_reduce_dtypes_and_names():
    check(lambda t, x: _seg(t, x, "mean", lengths=t.tensor([2, 1])), [(3,)], "float16")
    _, e = check(lambda t, x: _seg(t, x, "sum", lengths=t.tensor([2, 1])), [(3,)])
    assert e.grad_fn.name() == "SegmentReduceBackward0"
    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    (g,) = ember.autograd.grad(_seg(ember, x, "sum", lengths=ember.tensor([2, 1])).sum(), x,
                               create_graph=True)
    assert g.grad_fn.name() == "torch::autograd::NotImplemented"   # torch has no second derivative
    with pytest.raises(RuntimeError, match="_segment_reduce_backward"):
        g.sum().backward()


@pytest.mark.parametrize("call", [
    lambda t, x: _seg(t, x, "sum"),
    lambda t, x: _seg(t, x, "foo", lengths=t.tensor([6])),
    lambda t, x: _seg(t, x, "sum", lengths=t.tensor([2, 2])),
    lambda t, x: _seg(t, x, "sum", lengths=t.tensor([2, -1, 5])),
    lambda t, x: _seg(t, x, "sum", lengths=t.tensor([2., 4])),
    lambda t, x: _seg(t, x, "sum", offsets=t.tensor([0., 2, 6])),
    lambda t, x: _seg(t, x, "sum", offsets=t.tensor([0, 3, 2, 6])),
    lambda t, x: _seg(t, x.long(), "sum", lengths=t.tensor([6])),
    lambda t, x: _seg(t, x, "sum", lengths=t.tensor([[2, 4]])),
    lambda t, x: _seg(t, x.view(2, 3), "sum", lengths=t.tensor([1, 2]), axis=1),
    lambda t, x: _seg(t, x, "sum", indices=t.tensor([0, 0, 1, 1, 1, 2])),
])
def test_segment_reduce_errors(call):
    check_raises(call, [(6,)])


# --- binomial ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binomial_distribution(dtype):
    n, p = 20.0, 0.3
    s = ember.binomial(ember.full((20000,), n, dtype=getattr(ember, dtype)),
                       ember.full((20000,), p, dtype=getattr(ember, dtype)))
    assert s.dtype is getattr(ember, dtype) and tuple(s.shape) == (20000,)
    v = s.numpy()
    assert np.all(v == np.round(v)) and v.min() >= 0 and v.max() <= n
    assert abs(v.mean() - n * p) < 0.05
    assert abs(v.var() - n * p * (1 - p)) < 0.15


def test_binomial_edges_and_broadcast():
    c = ember.tensor([0., 10., -3., 10., 10., float("inf")])
    p = ember.tensor([0.5, 1.0, 0.5, 0.0, 1.5, 0.5])
    r = ember.binomial(c, p).numpy()
    np.testing.assert_array_equal(r[:5], [0, 10, 0, 0, 10])
    assert np.isnan(r[5])
    assert np.isnan(ember.binomial(ember.tensor([5.]), ember.tensor([float("nan")])).item())
    r = ember.binomial(ember.full((3, 1), 4.), ember.full((1, 2), 0.5))
    assert tuple(r.shape) == (3, 2)
    assert tuple(ember.binomial(ember.tensor(10.), ember.tensor(0.5)).shape) == ()


def test_binomial_generator_and_grad():
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    a = ember.binomial(ember.full((50,), 10.), ember.full((50,), .5), generator=g1)
    b = ember.binomial(ember.full((50,), 10.), ember.full((50,), .5), generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    r = ember.binomial(ember.tensor([10., 20], requires_grad=True), ember.tensor([0.5, 0.1]))
    assert r.grad_fn.name() == "torch::autograd::NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::binomial is not implemented"):
        r.sum().backward()


@pytest.mark.parametrize("call", [
    lambda t: t.binomial(t.tensor([10, 20]), t.tensor([0.5, 0.1])),
    lambda t: t.binomial(t.tensor([10., 20]), t.tensor([0.5, 0.1]).double()),
    lambda t: t.binomial(t.tensor([10., 20]).half(), t.tensor([0.5, 0.1]).half()),
    lambda t: t.binomial(t.tensor([10., 20]), 0.5),
])
def test_binomial_errors(call):
    check_raises(call)
