"""Differential tests for ember/_ops/indexing.py: __getitem__/__setitem__ (views, strides,
memory sharing, advanced indexing, gradients), copy_/fill_/zero_, and the gather/scatter,
index_*, masked_*, take/put and nonzero families."""

import numpy as np
import pytest
import torch

import ember
from oracle import ALL_DTYPES, check, check_raises, make_array


def arr(shape, dtype="float32", seed=0):
    return make_array(shape, dtype, np.random.default_rng(seed))


# --- __getitem__: basic keys are views with torch's strides -----------------------------------

BASIC_KEYS = [
    1, -1, slice(None), slice(1, 3), slice(None, None, 2), slice(-3, None, 2), slice(5, 1),
    (1, 2), (slice(None), 1), (Ellipsis, 1), (1, Ellipsis), (None,), (None, 1), (1, None),
    (slice(None), None, 2), (Ellipsis, None), (None, Ellipsis, None), (slice(1, None), None),
    (1, slice(None, None, 3), None), Ellipsis, (), (slice(0, 0),),
]


@pytest.mark.parametrize("key", BASIC_KEYS, ids=repr)
def test_getitem_basic(key):
    # (empty results: ember reports contiguous strides, NumPy keeps none for empty arrays)
    check(lambda t, x: x[key], [(4, 5, 3)], check_stride=key not in ((slice(0, 0),),
                                                                     slice(5, 1)))
    check(lambda t, x: x.transpose(0, 2)[key], [(4, 5, 3)], check_stride=key not in (
        (slice(0, 0),), slice(5, 1)))


@pytest.mark.parametrize("key", BASIC_KEYS[:10], ids=repr)
def test_getitem_basic_shares_memory(key):
    x = ember.zeros(4, 5, 3)
    v = x[key]
    tx = torch.zeros(4, 5, 3)
    assert v._base is x
    if v.numel():   # (an empty view's pointer means nothing)
        assert v.data_ptr() - x.data_ptr() == tx[key].data_ptr() - tx.data_ptr()
    v.fill_(7)
    tx[key].fill_(7)
    np.testing.assert_array_equal(x.numpy(), tx.numpy())


def test_getitem_storage_offset_and_grad_fn():
    x = ember.arange(24.).reshape(4, 6)
    tx = torch.arange(24.).reshape(4, 6)
    for key in [(1, slice(2, 5)), (slice(1, 3), slice(None, None, 2)), (2,), (Ellipsis, 3)]:
        assert x[key].storage_offset() == tx[key].storage_offset()
    xr = ember.zeros(3, 4, 2, requires_grad=True)
    tr = torch.zeros(3, 4, 2, requires_grad=True)
    for key in [1, slice(1, 3), (slice(None), 1), (1, slice(1, 3)), (None,), (slice(1, 2), None),
                Ellipsis, (1, None, slice(None)), [0, 1]]:
        assert xr[key].grad_fn.name() == tr[key].grad_fn.name(), key


def test_double_backward_through_indexing():
    """Backwards are written in Tensor ops, so create_graph=True gives second derivatives."""
    def f(t, x, i):
        y = t.gather(x, 1, i) * x[:, :2] * t.cat([x[:, :1], x[:, 1:2]], 1)
        (g,) = t.autograd.grad(y.sum(), x, create_graph=True)
        return g[[0, 2]] * x[:2]
    check(f, inputs=[arr((3, 4)), np.array([[0, 1], [2, 0], [1, 1]])])


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_getitem_dtypes(dtype):
    check(lambda t, x: x[1:, None, 0], [(3, 4)], dtype, check_stride=True)
    check(lambda t, x: x[[0, 2, 2]], [(3, 4)], dtype)
    check(lambda t, x: x[x != x[0, 0]] if x.dtype != t.bool else x[x], [(3, 4)], dtype)


@pytest.mark.parametrize("key", [(1, 2), (-1, 0), 2, (Ellipsis, 1), (1, Ellipsis, 2),
                                 (0, slice(None))], ids=repr)
def test_getitem_fast_path_keys(key):
    """The no-graph fast path and the recorded path agree with torch (0-d results included)."""
    check(lambda t, x: x[key], [(3, 4)], check_stride=True)
    check(lambda t, x: x[key], [(3, 4)], check_stride=True, grad=False)
    check(lambda t, x: x[key], [(4,)] if not isinstance(key, tuple) else [(3, 4)], "int64")


def test_getitem_0d_tensor_and_int_like():
    check(lambda t, x: x[t.tensor(1)], [(3, 4)], check_stride=True)
    check(lambda t, x: x[t.tensor(1), t.tensor(-1)], [(3, 4)])
    check(lambda t, x: x[np.int64(2)], [(3, 4)], check_stride=True)
    check(lambda t, x: x[...], [()])
    check(lambda t, x: x[None], [()])


ADV_KEYS = [
    [0, 2, 0], [[0, 1], [2, 2]], ([0, 1], [1, 2]), (slice(None), [0, 0, 3]),
    (slice(None), [1, 0], slice(None)), (Ellipsis, [2, 0]), ([0, 1], slice(None), [1, 2]),
    ([[0], [1]], slice(1, 3), [0, 2]), (None, [1, 0], None), (1, [0, 3], slice(None)),
    ([0, 2], None, [1, 1]), ([-1, 0],), ([],), (slice(None), []), ([True, False, True, False],),
    (slice(None), [True, False, True, True, False]), (1, slice(None), [False, True, True]),
    True, False, (None, True), ([0, 1], Ellipsis, [0, 1]),
]


@pytest.mark.parametrize("key", ADV_KEYS, ids=repr)
def test_getitem_advanced(key):
    check(lambda t, x: x[key], [(4, 5, 3)])


@pytest.mark.parametrize("key", ADV_KEYS[:8], ids=repr)
def test_getitem_advanced_tensors(key):
    def tkey(t):
        k = key if isinstance(key, tuple) else (key,)
        return tuple(t.tensor(i) if isinstance(i, list) else i for i in k)
    check(lambda t, x: x[tkey(t)], [(4, 5, 3)])


def test_getitem_masks():
    x = arr((3, 4))
    m = x > 0
    check(lambda t, x, m: x[m], inputs=[x, m])
    check(lambda t, x, m: x[m[0]], inputs=[arr((4, 3)), m[:, 0].copy()])
    check(lambda t, x, m: x[:, m[0]], inputs=[x, m[0].copy()])
    check(lambda t, x, m: x[m, None], inputs=[x, m])
    check(lambda t, x, m: x[t.tensor(0) < 1], inputs=[x, m])   # 0-d bool tensor
    check(lambda t, x: x[x > 5], [(2, 2)])                       # selects nothing
    check(lambda t, x, m: x[m.to(t.uint8).bool()], inputs=[x, m])


def test_getitem_repeated_indices_accumulate():
    check(lambda t, x: x[[0, 0, 1, 0]], [(3, 2)])
    check(lambda t, x: x[[1, 1], [2, 2]], [(3, 4)])
    check(lambda t, x: x[1:][[0, 0]] * 2, [(3, 4)])


def test_getitem_is_copy_for_advanced():
    x = ember.zeros(3, 4)
    y = x[[0, 1]]
    y.fill_(1)
    assert x.sum().item() == 0


def test_getitem_errors():
    check_raises(lambda t, x: x[3], [(3, 4)], match="index 3 is out of bounds for dimension 0 "
                                                    "with size 3")
    check_raises(lambda t, x: x[:, -5], [(3, 4)])
    check_raises(lambda t, x: x[0, 0, 0], [(3, 4)])
    check_raises(lambda t, x: x[[0, 5]], [(3, 4)])
    check_raises(lambda t, x: x[0], [()])
    check_raises(lambda t, x: x[::-1], [(3, 4)])
    check_raises(lambda t, x: x[::0], [(3, 4)])
    check_raises(lambda t, x: x[1.5], [(3, 4)])
    check_raises(lambda t, x: x[t.tensor([0.5])], [(3, 4)])
    check_raises(lambda t, x: x[t.tensor([True, False])], [(3, 4)])
    check_raises(lambda t, x: x["a"], [(3, 4)])


@pytest.mark.parametrize("shape,idx", [((5,), [-1, 0, 4, -5, 0]), ((4, 3), [[-1, 0], [2, 2]]),
                                       ((3, 2, 2), []), ((0, 2), []), ((6,), [[5]])])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_getitem_single_index_tensor(shape, idx, dtype):
    # one integer index tensor takes np.take(mode="wrap") after torch's bounds check
    ix = np.array(idx, dtype=dtype)
    check(lambda t, x, i: x[i], inputs=[arr(shape), ix])
    check(lambda t, x, i: x.transpose(0, -1)[i], inputs=[arr(shape), ix], grad=False)
    check_raises(lambda t, x, i: x[i + shape[0]], inputs=[arr(shape), np.array([0], dtype)])
    check_raises(lambda t, x, i: x[i - shape[0] - 1], inputs=[arr(shape), np.array([0], dtype)])


def test_getitem_index_dtypes():
    x = arr((3, 4))
    with pytest.warns(UserWarning):   # uint8 tensors index as (deprecated) masks
        check(lambda t, x, m: x[m], inputs=[x, np.array([1, 0, 1], np.uint8)])
    for dtype in ("int8", "int16"):
        check_raises(lambda t, x, i: x[i], inputs=[x, np.array([0, 1], dtype)])


# --- __setitem__ ------------------------------------------------------------------------------

SET_KEYS = [1, slice(1, 3), (slice(None), 2), (Ellipsis, 0), (None, 1), [0, 2], ([0, 1], [1, 3]),
            (slice(None), [3, 0]), (1, slice(None, None, 2))]


@pytest.mark.parametrize("key", SET_KEYS, ids=repr)
def test_setitem_tensor_grads(key):
    """x[key] = v on a non-leaf: gradients flow to x (zeroed at key) and to v."""
    def f(t, x, v):
        y = x * 1
        target = y[key]
        y[key] = v.expand(target.shape) if v.dim() <= target.dim() else v
        return y
    check(lambda t, x, v: f(t, x, v), [(3, 4), ()])
    check(lambda t, x: (lambda y: (y.__setitem__(key, 2.5), y)[1])(x * 1), [(3, 4)])


@pytest.mark.parametrize("key", SET_KEYS, ids=repr)
def test_setitem_broadcast_value(key):
    def f(t, x, v):
        y = x * 1
        y[key] = v
        return y
    x = arr((3, 4))
    shape = torch.zeros(3, 4)[key].shape
    v = arr(tuple(shape)[-1:] if len(shape) else (), seed=1)
    check(f, inputs=[x, v])


@pytest.mark.parametrize("dst,src", [("float32", "float64"), ("int32", "float32"),
                                     ("float32", "int64"), ("bool", "int32"),
                                     ("uint8", "int64"), ("float16", "float32")])
def test_setitem_casts(dst, src):
    def f(t, x, v):
        y = x.clone()
        y[1:] = v
        y[0, [0, 1]] = 1.0   # (a tensor of another dtype is an error with advanced keys)
        y[y == 0] = v[0]     # ... except a 0-d one with a mask
        return y
    check(f, [(3, 4), (4,)], [dst, src], grad=False)

    def adv(t, x, v):
        x[[0, 1]] = v
    check_raises(adv, [(3, 4), (4,)], [dst, src], match="Index put requires the source and "
                                                        "destination dtypes match")


def test_setitem_masks_and_scalars():
    def f(t, x):
        y = x * 1
        y[y > 0] = 0.5
        y[:, t.tensor([True, False, True, False])] = -1
        y[t.tensor(1)] = 3
        return y
    check(f, [(3, 4)])


def test_setitem_through_view_autograd():
    def f(t, x, v):
        y = x * 2
        row = y[1]          # a view; writing into it updates y's history (CopySlices)
        row[1:3] = v
        return y, row
    check(f, [(3, 4), (2,)])


def test_setitem_errors():
    def mismatch(t, x):
        x[0:2] = t.zeros(3)
    # a basic key copies into the view: torch words the mismatch as expand() does
    check_raises(mismatch, [(3, 4)], match=r"The expanded size of the tensor \(4\) must match "
                                          r"the existing size \(3\) at non-singleton dimension "
                                          r"1.  Target sizes: \[2, 4\].  Tensor sizes: \[3\]")

    def leaf(t, x):
        x.requires_grad_()
        x[0] = 1
    check_raises(leaf, [(3, 4)])

    def oob(t, x):
        x[5] = 1
    check_raises(oob, [(3, 4)])


def test_setitem_bumps_version_and_writes_shared_memory():
    x = ember.zeros(3, 4)
    v = x[1]
    before = x._version
    x[1, 2] = 5
    assert x._version == before + 1 and v[2].item() == 5


# --- copy_, fill_, zero_ ----------------------------------------------------------------------

def test_copy_fill_zero():
    check(lambda t, x, y: (x * 1).copy_(y), [(3, 4), (4,)])
    check(lambda t, x, y: (x * 1)[1:].copy_(y), [(3, 4), (2, 1)])
    check(lambda t, x, y: x.clone().copy_(y), [(3, 4), (3, 4)], ["int32", "float64"])
    check(lambda t, x: (x * 1).fill_(2), [(3, 4)])
    check(lambda t, x, v: (x * 1).fill_(v), [(3, 4), ()])
    check(lambda t, x: (x * 1)[:, 1].zero_(), [(3, 4)])
    check_raises(lambda t, x, y: x.copy_(y), [(3, 4), (3, 5)])
    check_raises(lambda t, x, y: x.fill_(y), [(3, 4), (2,)])


# --- gather / scatter / scatter_add / scatter_reduce ------------------------------------------

IDX = np.array([[0, 1, 3], [2, 0, 0]])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(dim):
    idx = IDX if dim == 1 or dim == -1 else np.array([[0, 2, 1, 0], [2, 2, 0, 1]])
    check(lambda t, x, i: t.gather(x, dim, i), inputs=[arr((3, 4)), idx])
    check(lambda t, x, i: x.gather(dim, i.int()), inputs=[arr((3, 4)), idx])
    check(lambda t, x, i: t.gather(x.t(), dim, i), inputs=[arr((4, 3)), idx])


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_gather_scatter_dtypes(dtype):
    x, s = arr((3, 4), dtype), arr((2, 3), dtype, 1)
    check(lambda t, x, i: t.gather(x, 1, i), inputs=[x, IDX])
    check(lambda t, x, i, s: t.scatter(x, 1, i, s), inputs=[x, np.array([[0, 1, 3],
                                                                           [2, 0, 1]]), s])
    if dtype != "bool":
        check(lambda t, x, i, s: t.scatter_add(x, 1, i, s), inputs=[x, IDX, s])


def test_gather_edge_cases():
    check(lambda t, x, i: t.gather(x, 1, i), inputs=[arr((3, 4)), np.zeros((3, 0), np.int64)])
    check(lambda t, x, i: t.gather(x, 0, i), inputs=[arr(()), np.array(0)])
    check(lambda t, x, i: t.gather(x, 0, i), inputs=[arr(()), np.array([0, 0])])


def test_gather_errors():
    x = arr((3, 4))
    check_raises(lambda t, x, i: t.gather(x, 1, i), inputs=[x, np.array([[5]])],
                 match="index 5 is out of bounds for dimension 1 with size 4")
    check_raises(lambda t, x, i: t.gather(x, 1, i), inputs=[x, np.array([0])])
    check_raises(lambda t, x, i: t.gather(x, 1, i), inputs=[x, np.zeros((4, 1), np.int64)])
    check_raises(lambda t, x, i: t.gather(x, 1, i), inputs=[x, np.zeros((1, 1), np.float32)])


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_src_and_value(dim):
    idx = np.array([[0, 1, 3], [2, 0, 1]]) if dim == 1 else np.array([[0, 1, 2], [1, 2, 0]])
    check(lambda t, x, i, s: t.scatter(x, dim, i, s), inputs=[arr((3, 4)), idx, arr((2, 3), seed=1)])
    # (a src larger than index: torch's own backward fails on it, so compare values only)
    check(lambda t, x, i, s: t.scatter(x, dim, i, s), inputs=[arr((3, 4)), idx, arr((3, 5), seed=1)],
          grad=False)
    check(lambda t, x, i: t.scatter(x, dim, i, 2.5), inputs=[arr((3, 4)), idx])
    check(lambda t, x, i: x.scatter(dim, i, value=-1), inputs=[arr((3, 4)), idx])
    check(lambda t, x, i, s: (x * 1).scatter_(dim, i, s), inputs=[arr((3, 4)), idx,
                                                                  arr((2, 3), seed=1)])


def test_scatter_reduce_arg_and_one_hot():
    idx = np.array([[0, 1, 1], [2, 0, 0]])
    for red in ("add", "multiply"):
        check(lambda t, x, i: t.scatter(x, 1, i, 2.0, reduce=red), inputs=[arr((3, 4)), idx],
              grad=False)
        check(lambda t, x, i, s: x.clone().scatter_(1, i, s, reduce=red),
              inputs=[arr((3, 4)), idx, arr((2, 3), seed=1)], grad=False)
    check_raises(lambda t, x, i: t.scatter(x, 1, i, 2.0, reduce="mean"), inputs=[arr((3, 4)),
                                                                                 idx])
    labels = np.array([2, 0, 1, 2])
    check(lambda t, y: t.zeros(4, 3).scatter_(1, y.unsqueeze(1), 1), inputs=[labels])
    check(lambda t, y: t.zeros(4, 3, dtype=t.long).scatter_(1, y.unsqueeze(1), 1),
          inputs=[labels])


@pytest.mark.parametrize("shape,d", [((4, 5), 1), ((4, 5), 0), ((3, 4, 5), 2), ((3, 4, 5), 1),
                                     ((3, 4, 5), 0)])
def test_scatter_add_nd(shape, d):
    # n-d scatter_add adds at flat offsets on a contiguous copy; other layouts use add.at
    rng = np.random.default_rng(0)
    ishape = [7 if i == d else max(1, n - 1) for i, n in enumerate(shape)]
    idx = rng.integers(0, shape[d], size=ishape)
    src = rng.standard_normal(ishape).astype(np.float32)
    check(lambda t, x, i, s: t.scatter_add(x, d, i, s), inputs=[arr(shape), idx, src])
    check(lambda t, x, i, s: t.scatter_add(x.transpose(0, -1), d, i, s),
          inputs=[arr(shape[::-1]), idx, src])
    check(lambda t, x, i, s: t.scatter_add(x, d, i.int(), s.mT.contiguous().mT),
          inputs=[arr(shape, "float64"), idx, src.astype(np.float64)])
    check(lambda t, x, i, s: t.scatter_add(x, d, i, s),
          inputs=[rng.integers(0, 9, shape), idx, rng.integers(0, 9, ishape)])


def test_scatter_add_repeats_and_inplace():
    idx = np.array([[0, 0, 0], [1, 1, 3]])
    check(lambda t, x, i, s: t.scatter_add(x, 1, i, s), inputs=[arr((3, 4)), idx,
                                                               arr((2, 3), seed=1)])
    check(lambda t, x, i, s: (x * 1).scatter_add_(0, i, s), inputs=[arr((4, 4)), idx,
                                                                    arr((2, 3), seed=1)])


def test_scatter_errors():
    x = arr((3, 4))
    check_raises(lambda t, x, i, s: t.scatter(x, 1, i, s), inputs=[x, IDX, arr((2, 3),
                                                                               "float64")])
    check_raises(lambda t, x, i, s: t.scatter(x, 1, i, s), inputs=[x, IDX, arr((1, 1))])
    check_raises(lambda t, x, i, s: t.scatter(x, 1, i * 3, s), inputs=[x, IDX, arr((2, 3))])
    check_raises(lambda t, x, i, s: t.scatter(x, 1, i[0], s), inputs=[x, IDX, arr((2, 3))])
    check_raises(lambda t, x, i, s: t.scatter_reduce(x, 1, i, s, "foo"),
                 inputs=[x, IDX, arr((2, 3))])

    def no_grad_for_reduce(t, x, i, s):
        x.requires_grad_()
        t.scatter(x, 1, i, s, reduce="add").sum().backward()
    check_raises(no_grad_for_reduce, inputs=[x, IDX, arr((2, 3))])


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    idx = np.array([[0, 0, 2], [1, 1, 1], [3, 0, 3]])
    x, s = arr((3, 4)), arr((3, 3), seed=1)
    check(lambda t, x, i, s: t.scatter_reduce(x, 1, i, s, reduce, include_self=include_self),
          inputs=[x, idx, s])
    check(lambda t, x, i, s: (x * 1).scatter_reduce_(0, i[:, :2], s[:, :2], reduce,
                                                     include_self=include_self),
          inputs=[x, idx % 3, s])


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float64", "bool"])
def test_scatter_reduce_dtypes(reduce, dtype):
    idx = np.array([0, 0, 1, 3, 3, 3])
    x = np.array([-3, 1, 2, 7], dtype=dtype if dtype != "uint8" else "int64").astype(dtype)
    s = np.array([3, -4, 4, 5, 0, 9], dtype="int64").astype(dtype)
    for inc in (True, False):
        if dtype == "bool" and reduce == "mean":   # torch has no bool mean kernel
            check_raises(lambda t, x, i, s: t.scatter_reduce(x, 0, i, s, reduce,
                                                             include_self=inc),
                         inputs=[x, idx, s])
            continue
        check(lambda t, x, i, s: t.scatter_reduce(x, 0, i, s, reduce, include_self=inc),
              inputs=[x, idx, s])


def test_scatter_reduce_ties_and_zeros_grads():
    x = np.array([1.0, 0.0, 2.0, 5.0], np.float32)
    s = np.array([1.0, 3.0, 0.0, 2.0, 2.0], np.float32)
    idx = np.array([0, 1, 1, 2, 2])
    for red in ("amax", "amin", "prod"):
        for inc in (True, False):
            check(lambda t, x, i, s: t.scatter_reduce(x, 0, i, s, red, include_self=inc),
                  inputs=[x, idx, s])


# --- index_* ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_select(dim):
    check(lambda t, x, i: t.index_select(x, dim, i), inputs=[arr((3, 4)), np.array([2, 0, 2])])
    check(lambda t, x, i: x.t().index_select(dim, i.int()), inputs=[arr((4, 3)),
                                                                     np.array([1, 1])])
    check(lambda t, x, i: t.index_select(x, dim, i), inputs=[arr((3, 4)), np.array(1)])
    check(lambda t, x, i: t.index_select(x, dim, i), inputs=[arr((3, 4)),
                                                             np.zeros(0, np.int64)])


def test_index_select_errors():
    x = arr((3, 4))
    check_raises(lambda t, x, i: t.index_select(x, 0, i), inputs=[x, np.array([[0]])])
    check_raises(lambda t, x, i: t.index_select(x, 0, i), inputs=[x, np.array([5])])
    check_raises(lambda t, x, i: t.index_select(x, 0, i), inputs=[x, np.array([1.0])])


@pytest.mark.parametrize("dim", [0, 1])
def test_index_add_copy_fill(dim):
    idx = np.array([2, 0, 2])
    src = arr((3, 4) if dim == 0 else (3, 3), seed=1)
    x = arr((3, 4))
    check(lambda t, x, i, s: t.index_add(x, dim, i, s), inputs=[x, idx, src])
    check(lambda t, x, i, s: x.index_add(dim, i, s, alpha=-2), inputs=[x, idx, src])
    check(lambda t, x, i, s: (x * 1).index_add_(dim, i, s), inputs=[x, idx, src])
    uniq = np.array([2, 0, 1])
    check(lambda t, x, i, s: t.index_copy(x, dim, i, s), inputs=[x, uniq, src])
    check(lambda t, x, i, s: (x * 1).index_copy_(dim, i, s), inputs=[x, uniq, src])
    check(lambda t, x, i: t.index_fill(x, dim, i, 2.5), inputs=[x, idx])
    check(lambda t, x, i, v: x.index_fill(dim, i, v), inputs=[x, idx, arr((), seed=2)])
    check(lambda t, x, i: (x * 1).index_fill_(dim, i, -1), inputs=[x, idx])


def test_index_family_dtypes_and_errors():
    x = arr((3, 4), "int32")
    check(lambda t, x, i: t.index_fill(x, 1, i, 7), inputs=[x, np.array([0])])
    check(lambda t, x, i, s: t.index_add(x, 0, i, s), inputs=[x, np.array([1, 1]),
                                                             arr((2, 4), "int32", 1)])
    xf = arr((3, 4))
    check_raises(lambda t, x, i, s: t.index_add(x, 0, i, s), inputs=[xf, np.array([1, 1]),
                                                                    arr((2, 3))])
    check_raises(lambda t, x, i, s: t.index_copy(x, 0, i, s), inputs=[xf, np.array([1]),
                                                                     arr((1, 4), "float64")])
    check_raises(lambda t, x, i, v: t.index_fill(x, 0, i, v), inputs=[xf, np.array([1]),
                                                                     arr((1,))])


def test_index_put():
    x = arr((3, 4))
    i0, i1 = np.array([0, 2, 0]), np.array([1, 1, 1])
    check(lambda t, x, a, b, v: t.index_put(x, (a, b), v), inputs=[x, i0, np.array([1, 3, 2]),
                                                                   arr((3,), seed=1)])
    check(lambda t, x, a, b, v: t.index_put(x, (a, b), v, accumulate=True),
          inputs=[x, i0, i1, arr((3,), seed=1)])
    check(lambda t, x, a, v: (x * 1).index_put_((a,), v, accumulate=True),
          inputs=[x, i0, arr((4,), seed=1)])
    check(lambda t, x, a, v: x.index_put((a,), v), inputs=[x, np.array([0, 2]), arr(())])
    check(lambda t, x, m, v: x.index_put((m,), v), inputs=[x, x > 0, arr(())])
    check_raises(lambda t, x, a, v: t.index_put(x, (a,), v), inputs=[x, i0, arr((4,),
                                                                                  "float64")])


# --- take / put / take_along_dim --------------------------------------------------------------

def test_take_put():
    x = arr((3, 4))
    check(lambda t, x, i: t.take(x, i), inputs=[x, np.array([[0, 11], [5, -1]])])
    check(lambda t, x, i: x.t().take(i), inputs=[x, np.array([3, 3, 2])])
    check(lambda t, x, i, s: x.put(i, s), inputs=[x, np.array([0, 5, -2]), arr((3,), seed=1)])
    check(lambda t, x, i, s: x.put(i, s, accumulate=True),
          inputs=[x, np.array([0, 5, 0]), arr((3,), seed=1)])
    check(lambda t, x, i, s: (x * 1).put_(i, s, True),
          inputs=[x, np.array([[0], [0]]), arr((2,), seed=1)])
    check_raises(lambda t, x, i: t.take(x, i), inputs=[x, np.array([12])])
    check_raises(lambda t, x, i: t.take(x, i), inputs=[x, np.array([1.0])])
    check_raises(lambda t, x, i, s: x.put_(i, s), inputs=[x, np.array([1]), arr((2,))])


def test_take_along_dim():
    x = arr((3, 4))
    check(lambda t, x, i: t.take_along_dim(x, i, 1), inputs=[x, np.array([[0], [3], [2]])])
    check(lambda t, x, i: t.take_along_dim(x, i, 1), inputs=[x, np.array([[0, 1]])])
    check(lambda t, x, i: t.take_along_dim(x, i, 0), inputs=[arr((3, 1)), np.array([[0, 2]])])
    check(lambda t, x, i: t.take_along_dim(x, i), inputs=[x, np.array([0, 5, 11])])
    check_raises(lambda t, x, i: t.take_along_dim(x, i, 1), inputs=[x, np.zeros((1, 1, 1),
                                                                                np.int64)])


# --- masked_fill / masked_select / masked_scatter ---------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_masked_fill_dtypes(dtype):
    x, m = arr((3, 4), dtype), arr((3, 4), "bool", 1)
    check(lambda t, x, m: t.masked_fill(x, m, 1), inputs=[x, m])
    check(lambda t, x, m: x.masked_select(m), inputs=[x, m])
    check(lambda t, x, m: x.clone().masked_fill_(m, 0), inputs=[x, m])


def test_masked_fill_broadcast_value_and_grads():
    x, m = arr((3, 4)), arr((4,), "bool", 1)
    check(lambda t, x, m: t.masked_fill(x, m, 1.5), inputs=[x, m])
    check(lambda t, x, m, v: x.masked_fill(m, v), inputs=[x, m, arr(())])
    check(lambda t, x, m: t.masked_fill(x[0], m, -2.0), inputs=[x, arr((3, 4), "bool", 1)])
    check(lambda t, x, m: (x * 1).masked_fill_(m, float("-inf")), inputs=[x, m])
    check(lambda t, x, m, v: (x * 1).masked_fill_(m, v), inputs=[x, m, arr(())])
    check(lambda t, x, m: t.masked_fill(x, m, 1.5), inputs=[arr((3, 4), "int64"), m])
    check_raises(lambda t, x, m: t.masked_fill(x, m, 1.5), inputs=[x, m.astype(np.int32)])
    check_raises(lambda t, x, m, v: t.masked_fill(x, m, v), inputs=[x, m, arr((1,))])
    check_raises(lambda t, x, m: x.masked_fill_(m, 0.0), inputs=[x[0].copy(),
                                                                arr((3, 4), "bool", 1)])


def test_masked_select_scatter():
    x, m = arr((3, 4)), arr((3, 4), "bool", 1)
    check(lambda t, x, m: t.masked_select(x, m), inputs=[x, m])
    check(lambda t, x, m: t.masked_select(x[0], m), inputs=[x, m])
    check(lambda t, x, m: t.masked_select(x, m[0]), inputs=[x, m])
    check(lambda t, x, m, s: t.masked_scatter(x, m, s), inputs=[x, m, arr((12,), seed=2)])
    check(lambda t, x, m, s: x.masked_scatter(m, s), inputs=[x, m, arr((4, 4), seed=2)])
    check(lambda t, x, m, s: (x * 1).masked_scatter_(m[0], s), inputs=[x, m, arr((20,), seed=2)])
    check_raises(lambda t, x, m, s: t.masked_scatter(x, m, s), inputs=[x, m, arr((2,))])


# --- nonzero / argwhere -----------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 0), (2, 3, 2)])
@pytest.mark.parametrize("dtype", ["bool", "int32", "float32"])
def test_nonzero(shape, dtype):
    x = np.asarray(arr(shape, dtype))
    if dtype != "bool":
        x = np.asarray(x * arr(shape, "bool", 3))
    check(lambda t, x: t.nonzero(x), inputs=[x], grad=False)
    check(lambda t, x: x.nonzero(as_tuple=True), inputs=[x], grad=False)
    check(lambda t, x: t.argwhere(x), inputs=[x], grad=False)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 0), (2, 3, 2)])
@pytest.mark.parametrize("size", [0, 2, 9])
def test_nonzero_static(shape, size):
    x = np.asarray(arr(shape, "float32") * arr(shape, "bool", 3))
    check(lambda t, x: t.nonzero_static(x, size=size), inputs=[x], grad=False, check_stride=True)
    check(lambda t, x: x.nonzero_static(size=size, fill_value=7), inputs=[x], grad=False)


def test_nonzero_static_errors():
    x = arr((3, 4))
    check_raises(lambda t, x: t.nonzero_static(x, size=-1), inputs=[x])
    check_raises(lambda t, x: t.nonzero_static(x, size=2.5), inputs=[x])
    check_raises(lambda t, x: t.nonzero_static(x, 2), inputs=[x])


# --- index_reduce -----------------------------------------------------------------------------

@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce(reduce, include_self):
    idx = np.array([0, 2, 0, 3, 0])
    check(lambda t, x, s, i: t.index_reduce(x, 1, i, s, reduce, include_self=include_self),
          inputs=[arr((3, 4), "float64"), arr((3, 5), "float64", 1), idx])
    check(lambda t, x, s, i: x.index_reduce(0, i, s, reduce, include_self=include_self),
          inputs=[arr((4, 2)), arr((5, 2), seed=1), idx])
    # ties and zeros: amax/amin share the gradient among equal values; prod's zero factors
    x = np.array([[1., 2, 2], [0, 3, 2]])
    s = np.array([[2., 0, 2], [2, 3, 5], [0, 1, 1]])
    check(lambda t, x, s, i: t.index_reduce(x, 0, i, s, reduce, include_self=include_self),
          inputs=[x, s, np.array([0, 0, 1])])
    # integer means round down (negative ones included)
    check(lambda t, x, s, i: x.index_reduce(0, i, s, reduce, include_self=include_self),
          inputs=[arr((2, 3), "int64"), arr((3, 3), "int64", 1), np.array([1, 1, 0])])


def test_index_reduce_in_place_and_0d():
    idx = np.array([1, 1, 0])
    check(lambda t, x, s, i: (x * 1).index_reduce_(0, i, s, "amax"),
          inputs=[arr((2, 3)), arr((3, 3), seed=1), idx])
    check(lambda t, x, s, i: t.index_reduce(x, 0, i, s, "prod"),
          inputs=[arr(()), arr(()), np.array(0)])
    x = ember.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.index_reduce_(1, ember.tensor([1]), ember.ones(2, 1), "prod")
    assert (ember.ones(2, 3, requires_grad=True) * 1).index_reduce(
        0, ember.tensor([0]), ember.ones(1, 3), "mean").grad_fn.name() == "IndexReduceBackward0"


@pytest.mark.parametrize("call", [
    lambda t, x, s: x.index_reduce(0, t.tensor([0, 2, 0]), s, "sum"),          # bad reduce
    lambda t, x, s: x.index_reduce(0, t.tensor([0, 9, 0]), s, "prod"),         # out of range
    lambda t, x, s: x.index_reduce(0, t.tensor([0, -1, 0]), s, "prod"),        # negative
    lambda t, x, s: x.index_reduce(0, t.tensor([0., 1, 0]), s, "prod"),        # float index
    lambda t, x, s: x.index_reduce(0, t.tensor([0, 1, 0]).short(), s, "prod"),
    lambda t, x, s: x.index_reduce(0, t.tensor([0, 1]), s, "prod"),            # count
    lambda t, x, s: x.index_reduce(0, t.tensor([[0], [1], [0]]), s, "prod"),   # not a vector
    lambda t, x, s: x.index_reduce(0, t.tensor([0, 1, 0]), s.double(), "prod"),
    lambda t, x, s: x.index_reduce(0, t.tensor([0, 1, 0]), s[:, :2], "prod"),
    lambda t, x, s: x.index_reduce(2, t.tensor([0, 1, 0]), s, "prod"),
    lambda t, x, s: x[:, 0].bool().index_reduce(0, t.tensor([0, 1, 0]), s[:, 0].bool(), "amax"),
])
def test_index_reduce_errors(call):
    check_raises(call, [(4, 3), (3, 3)])


def test_fill_and_zero_nodes_as_torch():
    def names(t):
        x = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
        v = t.tensor(3.0, requires_grad=True)
        outs = [x.clone().fill_(2.0), x.clone().fill_(v), x.clone().zero_(), t.zeros(3).fill_(v)]
        w = t.tensor([1.0, 2.0, 3.0])
        sum(((o * w).sum() for o in outs)).backward()
        return ([o.grad_fn.name() for o in outs],
                [[None if n is None else type(n).__name__ for n, _ in o.grad_fn.next_functions]
                 for o in outs], x.grad.tolist(), v.grad.item(),
                repr(outs[1].grad_fn.next_functions[1][0]).split(" at ")[0])
    t_names, e_names = names(torch), names(ember)
    assert e_names[0] == t_names[0]          # FillBackward2, FillBackward3, ZeroBackward0
    assert e_names[2:] == t_names[2:]        # gradients, and AccumulateGrad's repr
    assert [len(n) for n in e_names[1]] == [len(n) for n in t_names[1]]
    assert e_names[1][3][0] is None and t_names[1][3][0] is None


@pytest.mark.parametrize("key", [0, (Ellipsis, slice(1, None)), (slice(None), 1), "mask",
                                 ([0, 1], [1, 2])])
def test_setitem_node_names_as_torch(key):
    """Writes through basic indexing are CopySlices (printed grad_fn=<CopySlices>), advanced
    ones IndexPutBackward0."""
    def run(t):
        x = t.ones(2, 3, requires_grad=True) * 1
        x[x > 0.5 if key == "mask" else key] = 2.0
        return x.grad_fn.name(), repr(x.grad_fn).split(" at ")[0], repr(x)
    assert run(ember) == tuple(s.replace("torch.", "ember.") for s in run(torch))


@pytest.mark.parametrize("write", ["mul_", "zero_", "iadd", "mixed"])
def test_inplace_through_a_view_is_copyslices(write):
    def run(t):
        x = t.ones(2, 3, requires_grad=True) * 1
        if write == "mul_":
            x[0].mul_(2)
        elif write == "zero_":
            x[:, 1].zero_()
        elif write == "iadd":
            x[0] += 1
        else:
            x[0, [1]] = 2.0
        x.backward(t.arange(6.0).reshape(2, 3))
        return x.grad_fn.name(), repr(x)
    assert run(ember) == tuple(s.replace("torch.", "ember.") for s in run(torch))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_row_scatters_with_repeats(dtype):
    """Gradients and ops that add rows at repeated indices (ember adds them layer by layer,
    a layer per repeat): embedding, x[idx], index_add, index_put(accumulate) against torch,
    and bit for bit against np.add.at."""
    rng = np.random.default_rng(11)
    idx = rng.integers(-40, 40, 700)            # ~9 repeats each, negative indices too
    idx[:30] = 3                                # one index repeated 30+ times
    w = rng.standard_normal((40, 16)).astype(dtype)
    pos = np.where(idx < 0, idx + 40, idx)
    check(lambda t, a: t.nn.functional.embedding(t.from_numpy(pos), a), inputs=[w])
    check(lambda t, a: a[t.from_numpy(idx)], inputs=[w])
    src = rng.standard_normal((700, 16)).astype(dtype)
    check(lambda t, a, s: a.index_add(0, t.from_numpy(pos), s, alpha=2), inputs=[w, src])
    check(lambda t, a, s: a.index_put((t.from_numpy(idx),), s, accumulate=True),
          inputs=[w, src], grad=False)
    from ember._ops._helpers import add_at
    for reps in (1, 5, 40):                      # (40: past the layers, np.add.at itself)
        i = np.repeat(np.arange(700 // reps), reps)[rng.permutation(700 // reps * reps)]
        v = rng.standard_normal((i.size, 16)).astype(dtype)
        want, got = np.zeros((700, 16), dtype), np.zeros((700, 16), dtype)
        np.add.at(want, i, v)
        assert add_at(got, i, v).tobytes() == want.tobytes()
