"""Differential tests for ember/_ops/manipulation.py: joins, splits, flips, triangles,
diagonals, repetition, broadcasting helpers, atleast_*d and meshgrid."""
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import ALL_DTYPES, check, check_raises, make_array


def arr(shape, dtype="float32", seed=0):
    return make_array(shape, dtype, np.random.default_rng(seed))


# --- cat / stack ------------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_values_and_grads(dim):
    check(lambda t, x, y, z: t.cat([x, y, z], dim), [(2, 3), (2, 3), (2, 3)])


def test_cat_sizes_differ_along_dim():
    check(lambda t, x, y: t.cat((x, y), 1), [(2, 3), (2, 5)])
    check(lambda t, x, y: t.concat((x, y), dim=0), [(1, 3), (4, 3)])
    check(lambda t, x, y: t.concatenate((x, y), axis=1), [(2, 1), (2, 2)])


@pytest.mark.parametrize("da,db", [("int32", "float64"), ("bool", "uint8"), ("int8", "int16"),
                                   ("float16", "float32"), ("int64", "complex64")])
def test_cat_promotes(da, db):
    check(lambda t, x, y: t.cat([x, y]), [(2, 2), (3, 2)], [da, db])
    check(lambda t, x, y: t.stack([x, y], 1), [(2, 2), (2, 2)], [da, db])


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_cat_stack_dtypes(dtype):
    check(lambda t, x, y: t.cat([x, y], 1), [(2, 2), (2, 3)], dtype)
    check(lambda t, x, y: t.stack([x, y], -1), [(2, 2), (2, 2)], dtype)


def test_cat_legacy_empty_and_empty():
    check(lambda t, x, y: t.cat([x, y]), [(2, 3), (0,)])
    check(lambda t, x, y: t.cat([x, y], 1), [(2, 0), (2, 3)])
    check(lambda t, x, y: t.cat([x, y]), [(0,), (0,)])


def test_cat_noncontiguous_and_out():
    check(lambda t, x, y: t.cat([x.t(), y[:, ::2]], 1), [(3, 2), (2, 6)])
    check(lambda t, x: t.cat([x, x], 0, out=t.empty(0)), [(2, 3)], grad=False)


def test_cat_errors():
    _, e = check_raises(lambda t, x, y: t.cat([x, y]), [(2, 3), (2, 4)])
    assert str(e) == ("Sizes of tensors must match except in dimension 0. Expected size 3 but "
                      "got size 4 for tensor number 1 in the list.")
    _, e = check_raises(lambda t, x, y: t.cat([x, y], 1), [(3, 3), (4, 3)])
    assert str(e) == ("Sizes of tensors must match except in dimension 1. Expected size 3 but "
                      "got size 4 for tensor number 1 in the list.")
    check_raises(lambda t: t.cat([]))
    check_raises(lambda t, x, y: t.cat([x, y]), [(2, 3), (3,)])
    check_raises(lambda t, x, y: t.cat([x, y], 2), [(2, 3), (2, 3)])
    check_raises(lambda t, x, y: t.cat([x, y]), [(), ()])
    check_raises(lambda t, x: t.cat(x), [(2, 3)])
    check_raises(lambda t, x, y: t.stack([x, y]), [(2, 3), (2, 4)],
                 match=r"stack expects each tensor to be equal size, but got \[2, 3\] at "
                       r"entry 0 and \[2, 4\] at entry 1")
    check_raises(lambda t: t.stack([]))
    check_raises(lambda t, x: t.stack([x, x], 3), [(2, 3)])


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    check(lambda t, x, y: t.stack((x, y), dim), [(2, 3), (2, 3)])
    check(lambda t, x, y: t.stack((x, y)), [(), ()])


@pytest.mark.parametrize("fn", ["hstack", "vstack", "dstack", "column_stack", "row_stack"])
@pytest.mark.parametrize("shapes", [[(), ()], [(3,), (3,)], [(2, 3), (2, 3)],
                                    [(2, 3, 2), (2, 3, 2)]])
def test_xstack(fn, shapes):
    check(lambda t, x, y: getattr(t, fn)([x, y]), shapes)


def test_column_stack_mixed():
    check(lambda t, x, y: t.column_stack([x, y]), [(3,), (3, 2)])
    check(lambda t, x, y: t.hstack([x, y]), [(2, 1), (2, 3)])


# --- split / chunk / tensor_split -------------------------------------------------------------

@pytest.mark.parametrize("size,dim", [(2, 1), (1, 0), (5, 1), ([1, 3, 1], 1), ((2, 1), 0)])
def test_split(size, dim):
    check(lambda t, x: t.split(x, size, dim), [(3, 5)], check_stride=True)
    check(lambda t, x: x.split(size, dim), [(3, 5)])


# (ember's stride() of an empty view is the contiguous one: NumPy zeroes empty arrays' strides)
@pytest.mark.parametrize("chunks,n", [(2, 5), (3, 6), (4, 6), (6, 4), (3, 0)])
def test_chunk(chunks, n):
    check(lambda t, x: t.chunk(x, chunks, 1), [(2, n)], check_stride=n > 0)


@pytest.mark.parametrize("ios", [3, 4, 1, [1, 4], [4, 1], [-2, 10], (0,), []])
def test_tensor_split(ios):
    check(lambda t, x: t.tensor_split(x, ios, 1), [(2, 6)], check_stride=ios in (3, 4, 1))


def test_tensor_split_tensor_and_hvd():
    i = np.array([1, 4])
    check(lambda t, x, i: t.tensor_split(x, i), inputs=[arr((6, 2)), i])
    check(lambda t, x, i: t.tensor_split(x, i), inputs=[arr((6, 2)), np.array(3)])
    check(lambda t, x: t.hsplit(x, 2), [(2, 4, 2)])
    check(lambda t, x: t.vsplit(x, [1]), [(2, 4, 2)])
    check(lambda t, x: t.dsplit(x, 2), [(2, 4, 2)])
    check(lambda t, x: t.hsplit(x, 3), [(6,)])


def test_split_errors():
    check_raises(lambda t, x: t.split(x, [1, 1], 1), [(2, 3)],
                 match="split_with_sizes expects split_sizes to sum exactly to 3")
    check_raises(lambda t, x: t.split(x, 0, 1), [(2, 3)])
    check_raises(lambda t, x: t.chunk(x, 0), [(2, 3)])
    check_raises(lambda t, x: t.tensor_split(x, 0), [(2, 3)])
    check_raises(lambda t, x: t.hsplit(x, 2), [(3, 3)])


def test_split_views_share_memory():
    x = ember.zeros(4, 3)
    a, b = x.split(2)
    b[0, 0] = 5
    assert x[2, 0].item() == 5 and b._base is x


# --- flip / roll / rot90 ----------------------------------------------------------------------

@pytest.mark.parametrize("dims", [(0,), (1,), (0, 1), (-1,), ()])
def test_flip(dims):
    check(lambda t, x: t.flip(x, dims), [(3, 4)], check_stride=True)
    check(lambda t, x: x.t().flip(dims), [(3, 4)], check_stride=True)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_flip_roll_dtypes(dtype):
    check(lambda t, x: t.flip(x, [0]), [(3, 2)], dtype)
    check(lambda t, x: t.roll(x, 1, 0), [(3, 2)], dtype)
    check(lambda t, x: t.rot90(x), [(3, 2)], dtype)


def test_fliplr_flipud():
    check(lambda t, x: t.fliplr(x), [(3, 4, 2)])
    check(lambda t, x: t.flipud(x), [(3,)])
    check_raises(lambda t, x: t.fliplr(x), [(3,)])
    check_raises(lambda t, x: t.flip(x, 0), [(3,)])
    check_raises(lambda t, x: t.flip(x, [0, 0]), [(3,)])


@pytest.mark.parametrize("shifts,dims", [(1, None), (-7, None), (2, 1), ((1, -2), (0, 1)),
                                         ([1], [0]), (5, -1)])
def test_roll(shifts, dims):
    check(lambda t, x: t.roll(x, shifts, dims), [(3, 4)], check_stride=True)
    check(lambda t, x: x.t().roll(shifts, dims), [(4, 3)], check_stride=True)


def test_roll_errors():
    check_raises(lambda t, x: t.roll(x, (1, 2)), [(3, 4)])
    check_raises(lambda t, x: t.roll(x, (1, 2), 0), [(3, 4)])


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4, -1, 5])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (-1, 0), (0, 2)])
def test_rot90(k, dims):
    check(lambda t, x: t.rot90(x, k, dims), [(2, 3, 4)], check_stride=True)


def test_rot90_errors():
    check_raises(lambda t, x: t.rot90(x, 1, [0]), [(2, 3)])
    check_raises(lambda t, x: t.rot90(x, 1, [0, 0]), [(2, 3)])
    check_raises(lambda t, x: t.rot90(x), [(2,)])


# --- tril / triu / diag / trace ---------------------------------------------------------------

@pytest.mark.parametrize("diagonal", [0, 1, -1, 5, -5])
@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (2, 3, 3), (0, 3)])
def test_tril_triu(diagonal, shape):
    check(lambda t, x: t.tril(x, diagonal), [shape])
    check(lambda t, x: x.triu(diagonal), [shape])


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_tril_dtypes(dtype):
    check(lambda t, x: t.tril(x.t()), [(3, 4)], dtype, check_stride=True)
    check(lambda t, x: x.clone().triu_(1), [(3, 4)], dtype)


def test_tril_inplace_grad_and_errors():
    check(lambda t, x: (x * 2).tril_(-1), [(3, 3)])
    check(lambda t, x: (x * 1).triu_(), [(2, 3, 3)])
    check_raises(lambda t, x: t.tril(x), [(3,)])
    check_raises(lambda t, x: t.triu(x), [()])


@pytest.mark.parametrize("d", [0, 1, -2, 4])
def test_diag(d):
    check(lambda t, x: t.diag(x, d), [(3,)])
    check(lambda t, x: t.diag(x, d), [(3, 4)], check_stride=True)
    check(lambda t, x: x.diag(d), [(4, 3)])


def test_diag_embed_diagflat():
    check(lambda t, x: t.diag_embed(x), [(2, 3)])
    check(lambda t, x: t.diag_embed(x, 1, 0, 2), [(2, 3)])
    check(lambda t, x: t.diag_embed(x, -2, 2, 0), [(2, 3)])
    check(lambda t, x: t.diagflat(x), [(2, 2)])
    check(lambda t, x: t.diagflat(x, -1), [(3,)])
    check_raises(lambda t, x: t.diag(x), [(2, 2, 2)])
    check_raises(lambda t, x: t.diag_embed(x, 0, 0, 0), [(2, 2)])


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "uint8", "int64"])
def test_trace(dtype):
    check(lambda t, x: t.trace(x), [(3, 4)], dtype)
    check(lambda t, x: x.trace(), [(4, 2)], dtype)


def test_trace_errors():
    check_raises(lambda t, x: t.trace(x), [(3,)])
    check_raises(lambda t, x: t.trace(x), [(3, 3)], "bool")


# --- repeat / tile / repeat_interleave --------------------------------------------------------

@pytest.mark.parametrize("sizes", [(2, 3), (1, 1), (2, 1, 2), (0, 2), (3, 2, 1, 1)])
def test_repeat(sizes):
    check(lambda t, x: x.repeat(*sizes), [(2, 3)], check_stride=True)
    check(lambda t, x: x.repeat(sizes), [(2, 3)])
    check(lambda t, x: x.t().repeat(sizes), [(3, 2)])


@pytest.mark.parametrize("dims", [(2,), (2, 2), (1, 2, 1), ()])
def test_tile(dims):
    check(lambda t, x: t.tile(x, dims), [(2, 3)])
    check(lambda t, x: x.tile(dims), [()])


def test_repeat_errors():
    check_raises(lambda t, x: x.repeat(2), [(2, 3)])
    check_raises(lambda t, x: x.repeat(-1, 2), [(2, 3)])


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_repeat_interleave_int(dim):
    check(lambda t, x: t.repeat_interleave(x, 2, dim), [(2, 3)])
    check(lambda t, x: x.repeat_interleave(3, dim=dim), [(2, 3)])


def test_repeat_interleave_tensor():
    x = arr((3, 2))
    check(lambda t, x, r: t.repeat_interleave(x, r, dim=0), inputs=[x, np.array([1, 0, 3])])
    check(lambda t, x, r: t.repeat_interleave(x, r, dim=1), inputs=[x, np.array([2, 1])])
    check(lambda t, x, r: t.repeat_interleave(x, r), inputs=[x, np.array([2])])
    check(lambda t, x, r: t.repeat_interleave(x, r, dim=1), inputs=[x, np.array(2)])
    check(lambda t, r: t.repeat_interleave(r), inputs=[np.array([1, 2, 0, 3])])
    check(lambda t, x: t.repeat_interleave(x, 2), [()])
    check_raises(lambda t, x, r: t.repeat_interleave(x, r, dim=0),
                 inputs=[x, np.array([1, 2])])
    check_raises(lambda t, x, r: t.repeat_interleave(x, r, dim=0),
                 inputs=[x, np.array([1, -2, 1])])
    check_raises(lambda t, x: t.repeat_interleave(x, -1), [(2,)])


# --- broadcasting helpers ---------------------------------------------------------------------

def test_broadcast_to_tensors_shapes():
    check(lambda t, x: t.broadcast_to(x, (2, 3, 4)), [(3, 1)], check_stride=True)
    check(lambda t, x: x.broadcast_to((-1, 4)), [(3, 1)], check_stride=True)
    check(lambda t, x, y, z: t.broadcast_tensors(x, y, z), [(3, 1), (4,), (2, 1, 1)],
          check_stride=True)
    assert ember.broadcast_shapes((2, 1), (3,), 1) == torch.broadcast_shapes((2, 1), (3,), 1)
    assert ember.broadcast_shapes() == torch.broadcast_shapes()
    assert isinstance(ember.broadcast_shapes((2,)), ember.Size)
    check_raises(lambda t: t.broadcast_shapes((2, 3), (4, 3)))
    check_raises(lambda t, x: t.broadcast_to(x, (2, 3)), [(3, 4)])
    check_raises(lambda t, x, y: t.broadcast_tensors(x, y), [(3, 4), (2, 4)])


# --- atleast_*d, meshgrid ---------------------------------------------------------------------

@pytest.mark.parametrize("fn", ["atleast_1d", "atleast_2d", "atleast_3d"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 1), (1, 2, 3, 4)])
def test_atleast(fn, shape):
    check(lambda t, x: getattr(t, fn)(x), [shape], check_stride=True)
    check(lambda t, x, y: getattr(t, fn)(x, y), [shape, (2,)], check_stride=True)
    check(lambda t, x, y: getattr(t, fn)([x, y]), [shape, ()])


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing):
    check(lambda t, x, y: t.meshgrid(x, y, indexing=indexing), [(2,), (3,)], check_stride=True)
    check(lambda t, x, y, z: t.meshgrid([x, y, z], indexing=indexing), [(2,), (), (4,)])
    check(lambda t, x: t.meshgrid(x, indexing=indexing), [(3,)])


def test_meshgrid_default_warns_and_errors():
    with pytest.warns(UserWarning, match="indexing argument"):
        ember.meshgrid(ember.zeros(2), ember.zeros(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda t, x, y: t.meshgrid(x, y), [(2,), (3,)], check_stride=True)
    check_raises(lambda t, x, y: t.meshgrid(x, y, indexing="ab"), [(2,), (3,)])
    check_raises(lambda t, x, y: t.meshgrid(x, y, indexing="ij"), [(2, 2), (3,)])
