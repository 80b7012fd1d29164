"""Views: values, strides, storage offsets, memory sharing, version counters and gradients."""
import numpy as np
import pytest
import torch

import ember
from oracle import check, check_raises

VIEWS = [
    ("view", lambda t, x: x.view(6, 4), (2, 3, 4)),
    ("view -1", lambda t, x: x.view(-1, 3), (2, 3, 4)),
    ("view split dim", lambda t, x: x.view(2, 3, 2, 2), (2, 3, 4)),
    ("view of transposed", lambda t, x: x.transpose(0, 1).view(3, 2, 2, 2), (2, 3, 4)),
    ("view_as", lambda t, x: x.view_as(t.ones(4, 6)), (2, 3, 4)),
    ("reshape view", lambda t, x: x.reshape(4, 6), (2, 3, 4)),
    ("transpose", lambda t, x: x.transpose(0, 2), (2, 3, 4)),
    ("swapaxes", lambda t, x: x.swapaxes(-1, 0), (2, 3, 4)),
    ("permute", lambda t, x: x.permute(2, 0, 1), (2, 3, 4)),
    ("permute tuple", lambda t, x: x.permute((1, 2, 0)), (2, 3, 4)),
    ("t", lambda t, x: x.t(), (3, 4)),
    ("T", lambda t, x: x.T, (3, 4)),
    ("mT", lambda t, x: x.mT, (2, 3, 4)),
    ("expand", lambda t, x: x.expand(2, 3, 4), (3, 1)),
    ("expand -1", lambda t, x: x.expand(5, -1, 4), (3, 1)),
    ("expand_as", lambda t, x: x.expand_as(t.ones(2, 3, 4)), (1, 4)),
    ("slice step", lambda t, x: x[::2, 1:], (5, 4)),
    ("slice neg", lambda t, x: x[-3:, :-1], (5, 4)),
    ("int index", lambda t, x: x[1], (5, 4)),
    ("ellipsis none", lambda t, x: x[..., None, 1:3], (2, 3, 4)),
    ("none first", lambda t, x: x[None, :, None], (3, 4)),
    ("squeeze", lambda t, x: x.squeeze(), (1, 3, 1, 4)),
    ("squeeze dim", lambda t, x: x.squeeze(2), (1, 3, 1, 4)),
    ("squeeze dims", lambda t, x: x.squeeze((0, 2)), (1, 3, 1, 4)),
    ("unsqueeze", lambda t, x: x.unsqueeze(1), (3, 4)),
    ("unsqueeze end", lambda t, x: x.t().unsqueeze(-1), (3, 4)),
    ("unsqueeze neg", lambda t, x: x.unsqueeze(-2), (3, 4)),
    ("flatten", lambda t, x: x.flatten(), (2, 3, 4)),
    ("flatten range", lambda t, x: x.flatten(1), (2, 3, 4)),
    ("flatten 0-d", lambda t, x: x.sum().flatten(), (2, 3)),
    ("unflatten", lambda t, x: x.unflatten(1, (2, 2)), (3, 4)),
    ("unfold", lambda t, x: x.unfold(1, 3, 2), (3, 8)),
    ("unfold overlap", lambda t, x: x.unfold(0, 4, 1), (6,)),
    ("narrow", lambda t, x: x.narrow(1, 1, 2), (3, 4)),
    ("narrow neg", lambda t, x: x.narrow(-1, -3, 2), (3, 4)),
    ("select", lambda t, x: x.select(1, 2), (3, 4)),
    ("select neg", lambda t, x: x.select(0, -1), (3, 4)),
    ("diagonal", lambda t, x: x.diagonal(), (3, 4)),
    ("diagonal offset", lambda t, x: x.diagonal(1), (3, 4)),
    ("diagonal neg offset", lambda t, x: x.diagonal(-1), (4, 3)),
    ("diagonal dims", lambda t, x: x.diagonal(0, 0, 2), (3, 2, 3)),
    ("as_strided", lambda t, x: x.as_strided((2, 2), (1, 2)), (3, 4)),
    ("as_strided offset", lambda t, x: x.as_strided((3,), (3,), 1), (3, 4)),
    ("movedim", lambda t, x: x.movedim(0, 2), (2, 3, 4)),
    ("movedim multi", lambda t, x: x.movedim((0, 1), (2, 0)), (2, 3, 4)),
    ("unbind", lambda t, x: x.unbind(1), (2, 3)),
    ("detach", lambda t, x: x.detach(), (2, 3)),
]


@pytest.mark.parametrize("name,fn,shape", VIEWS, ids=[v[0] for v in VIEWS])
def test_view_values_strides_grads(name, fn, shape):
    t_out, e_out = check(fn, [shape], check_stride=True)
    t_outs = t_out if isinstance(t_out, tuple) else (t_out,)
    e_outs = e_out if isinstance(e_out, tuple) else (e_out,)
    for t, e in zip(t_outs, e_outs):
        assert e.storage_offset() == t.storage_offset()
        assert e.is_contiguous() == t.is_contiguous()


NOT_VIEWS_OF_INPUT = ("detach", "flatten 0-d")


@pytest.mark.parametrize("name,fn,shape", [v for v in VIEWS if v[0] not in NOT_VIEWS_OF_INPUT],
                         ids=[v[0] for v in VIEWS if v[0] not in NOT_VIEWS_OF_INPUT])
def test_views_share_memory_and_version(name, fn, shape):
    x = ember.zeros(shape)
    v = fn(ember, x)
    vs = v if isinstance(v, tuple) else (v,)
    for v in vs:
        assert np.shares_memory(v.numpy(), x.numpy()) or v.numel() == 0
        assert v._version == x._version
    before = x._version
    if name not in ("expand", "expand -1", "expand_as", "unfold overlap", "unfold"):
        vs[0].add_(1)   # written through the view, seen by the base
        assert x.sum().item() == vs[0].numel() or name.startswith("as_strided")
        assert x._version == before + 1 == vs[0]._version


def test_overlapping_write_raises():
    check_raises(lambda t, x: x.expand(3, 4).add_(1), [(1, 4)])



def test_reshape_copies_only_when_it_must():
    x = ember.ones(3, 4)
    assert np.shares_memory(x.reshape(12).numpy(), x.numpy())
    y = x.t().reshape(12)
    assert not np.shares_memory(y.numpy(), x.numpy())
    check(lambda t, x: x.t().reshape(-1), [(3, 4)], check_stride=True)
    check(lambda t, x: x.t().contiguous(), [(3, 4)], check_stride=True)
    check(lambda t, x: x.t().clone(), [(3, 4)], check_stride=True)
    check(lambda t, x: x.t().clone(memory_format=t.contiguous_format), [(3, 4)],
          check_stride=True)
    c = ember.ones(3, 4)
    assert c.contiguous() is c


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "bool", "float16"])
@pytest.mark.parametrize("fn,shape", [
    (lambda t, x: x.t().contiguous(), (17, 2050)),
    (lambda t, x: x.t().reshape(-1), (33, 2100)),
    (lambda t, x: x.flip(1).t().contiguous(), (20, 2060)),
    (lambda t, x: x[::2, 3:].t().clone(memory_format=t.contiguous_format), (40, 1100)),
    (lambda t, x: x.transpose(1, 2).contiguous(), (3, 20, 2048)),
    (lambda t, x: x.movedim(1, -1).contiguous(), (2, 20, 48, 48)),
    (lambda t, x: x.transpose(-1, -2).flatten(), (2, 2, 32, 2048)),   # slab by slab
])
def test_transposing_copies(fn, shape, dtype):
    """Transposing copies big enough for ember's strip-wise copy (the source's last axis
    2048 bytes or more apart, for every dtype here) give torch's values and strides."""
    check(fn, [shape], dtype, check_stride=True, grad=dtype == "float32")


@pytest.mark.parametrize("fn,shape", [
    (lambda t, x: x.t().view(12), (3, 4)),
    (lambda t, x: x.view(5), (3, 4)),
    (lambda t, x: x.view(-1, -1), (3, 4)),
    (lambda t, x: x.view(0, -1), (3, 4)),
    (lambda t, x: x.reshape(5, -1), (3, 4)),
    (lambda t, x: x.transpose(0, 2), (3, 4)),
    (lambda t, x: x.permute(0, 0), (3, 4)),
    (lambda t, x: x.permute(0), (3, 4)),
    (lambda t, x: x.expand(3, 5), (3, 4)),
    (lambda t, x: x.expand(4), (3, 4)),
    (lambda t, x: x.squeeze(3), (3, 4)),
    (lambda t, x: x.unsqueeze(3), (3, 4)),
    (lambda t, x: x.narrow(1, 2, 3), (3, 4)),
    (lambda t, x: x.select(1, 4), (3, 4)),
    (lambda t, x: x.diagonal(0, 1, 1), (3, 4)),
    (lambda t, x: x.unfold(1, 5, 1), (3, 4)),
    (lambda t, x: x.unfold(1, 2, 0), (3, 4)),
    (lambda t, x: x.t(), (2, 3, 4)),
    (lambda t, x: x.flatten(2, 1), (2, 3, 4)),
    (lambda t, x: x.as_strided((5, 5), (3, 1)), (3, 4)),
    (lambda t, x: x[::-1], (3, 4)),
    (lambda t, x: x[5], (3, 4)),
    (lambda t, x: x[0, 0, 0], (3, 4)),
    (lambda t, x: x.mT, (3,)),
])
def test_view_errors(fn, shape):
    check_raises(fn, [shape])


def test_view_error_messages():
    t_exc, e_exc = check_raises(lambda t, x: x.t().view(12), [(3, 4)])
    assert str(e_exc) == str(t_exc)
    t_exc, e_exc = check_raises(lambda t, x: x.view(5), [(3, 4)])
    assert str(e_exc) == str(t_exc)
    t_exc, e_exc = check_raises(lambda t, x: x.expand(3, 5), [(3, 4)])
    assert str(e_exc) == str(t_exc)


def test_version_counter_shared_and_bumped():
    for lib in (torch, ember):
        x = lib.zeros(4)
        v = x[1:3]
        assert x._version == 0
        v.add_(1)
        x.mul_(2)
        assert x._version == v._version == 2
        x[0] = 5
        assert v._version == 3
        w = x.view(2, 2)
        w.zero_()
        assert x._version == 4


def test_out_argument_writes_into_existing_storage():
    for lib in (torch, ember):
        base = lib.zeros(2, 3)
        out = base[1]
        r = lib.add(lib.ones(3), lib.ones(3), out=out)
        assert r is out
        assert base.tolist() == [[0, 0, 0], [2, 2, 2]]


def test_inplace_through_views_feeds_autograd():
    """torch's CopySlices: in-place on a view of a non-leaf rewrites the base's history."""
    def f(t, x, w):
        base = x * 1
        base[1:].mul_(w)
        base[0, 0] = 7.0
        col = base[:, 1]
        col.add_(w[0] * 2)
        return base * base
    check(f, [(3, 4), (4,)])


def test_setitem_with_grad():
    def f(t, x, v):
        y = x.clone()
        y[1] = v
        y[:, 0] = v[0]
        return y
    check(f, [(3, 4), (4,)])


def test_inplace_on_leaf_errors():
    check_raises(lambda t, x: x.requires_grad_().add_(1), [(3,)])
    check_raises(lambda t, x: x.requires_grad_()[0].mul_(2), [(3,)])
    x = ember.ones(3, requires_grad=True)
    with ember.no_grad():
        x.add_(1)   # allowed without grad recording
    assert x._version == 1 and x[0].item() == 2


def test_select_of_1d_is_a_0d_view_with_gradient():
    """select (and unbind) on a 1-D tensor give 0-d views: writes reach the base, and
    backward places the gradient (it used to fail on a NumPy scalar)."""
    for t in (torch, ember):
        y = t.tensor([1.0, 2.0])
        s = y.select(0, 0)
        s.add_(5)
        assert y.tolist() == [6.0, 2.0] and s.data_ptr() == y.data_ptr()
    check(lambda t, x: x.select(0, 1), [(3,)])
    check(lambda t, x: x.unbind(0)[2] * 3, [(4,)])
    check(lambda t, x: t.select(x, -1, 0), [(5,)], dtypes="float64")
