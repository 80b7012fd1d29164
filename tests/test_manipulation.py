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


# --- ravel ------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda x: x, lambda x: x.t(), lambda x: x[:, ::2],
                                  lambda x: x[1:], lambda x: x.reshape(-1)[::2],
                                  lambda x: x[:1].expand(3, 6)])
def test_ravel(make):
    check(lambda t, x: t.ravel(make(x)), [(4, 6)], check_stride=True)
    check(lambda t, x: make(x).ravel(), [(4, 6)], check_stride=True)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_ravel_dtypes_0d_empty(dtype):
    check(lambda t, x: t.ravel(x.reshape(())), [(1,)], dtype)
    check(lambda t, x: t.ravel(x), [(0, 3)], dtype)
    check(lambda t, x: x.t().ravel(), [(2, 3)], dtype)


def test_non_tensor_arguments():
    check_raises(lambda t: t.ravel([1.0]), match="must be Tensor, not list")
    check_raises(lambda t: t.vander([1.0]))
    check_raises(lambda t, x: t.vander(x, 2.0), [(3,)])
    check_raises(lambda t: t.combinations([1.0, 2.0]))
    check_raises(lambda t, s: t.diagonal_scatter([1.0], s), [(1,)])
    check_raises(lambda t, s: t.select_scatter([1.0], s, 0, 0), [()])
    check_raises(lambda t, s: t.slice_scatter([1.0], s), [(1,)])


def test_ravel_view_semantics():
    # a contiguous input is viewed (writes show through, the base is the input); others copy
    for lib in (torch, ember):
        x = lib.zeros(2, 3)
        r = x.ravel()
        r[4] = 7
        assert x[1, 1].item() == 7 and r._base is x
        y = lib.zeros(3, 2).t()
        r = y.ravel()
        r[0] = 5
        assert y[0, 0].item() == 0
        s = lib.zeros(6)[::2]
        assert s.ravel().data_ptr() != s.data_ptr()
        z = lib.zeros(2, 3, requires_grad=True)
        assert z.ravel().grad_fn.name() == "ViewBackward0"


# --- block_diag -------------------------------------------------------------------------------

@pytest.mark.parametrize("shapes", [[(2, 3), (1, 2)], [(), (3,), (2, 2)], [(2, 2)],
                                    [(0, 2), (3, 0), (0,)], [(1, 1), (), ()]])
def test_block_diag(shapes):
    n = len(shapes)
    if n == 1:
        check(lambda t, x: t.block_diag(x), shapes, check_stride=True)
    elif n == 2:
        check(lambda t, x, y: t.block_diag(x, y), shapes, check_stride=True)
    else:
        check(lambda t, x, y, z: t.block_diag(x, y, z), shapes, check_stride=True)


def test_block_diag_noncontiguous_and_empty():
    check(lambda t, x, y: t.block_diag(x.t(), y[::2]), [(3, 2), (4,)])
    check(lambda t: t.block_diag())


@pytest.mark.parametrize("da,db", [("int8", "uint8"), ("bool", "bool"), ("int32", "float32"),
                                   ("float32", "float64"), ("float32", "complex64"),
                                   ("int64", "float16"), ("bool", "int16")])
def test_block_diag_promotes(da, db):
    check(lambda t, x, y: t.block_diag(x, y), [(2, 2), (1, 3)], [da, db])
    # result_type: a 0-d input has a scalar's lower priority (int8 with 0-d uint8 stays int8)
    check(lambda t, x, y: t.block_diag(x, y.reshape(())), [(2, 2), (1,)], [da, db])
    check(lambda t, x, y: t.block_diag(x.reshape(()), y), [(1,), (1, 3)], [da, db])


def test_block_diag_double_backward():
    x = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    y = ember.randn(2, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a, b: ember.block_diag(a, b) ** 2, (x, y))


def test_block_diag_errors():
    _, e = check_raises(lambda t, x, y: t.block_diag(x, y), [(2, 2), (2, 2, 2)])
    assert str(e) == ("torch.block_diag: Input tensors must have 2 or fewer dimensions. Input 1 "
                      "has 3 dimensions")
    check_raises(lambda t, x: t.block_diag([x]), [(2,)])
    check_raises(lambda t, x: t.block_diag(x, 3), [(2,)])


# --- cartesian_prod / combinations ------------------------------------------------------------

def test_cartesian_prod():
    check(lambda t, x, y: t.cartesian_prod(x, y), [(2,), (3,)], check_stride=True)
    check(lambda t, x, y, z: t.cartesian_prod(x, y, z), [(2,), (1,), (3,)])
    check(lambda t, x, y: t.cartesian_prod(x[::2], y), [(4,), (2,)])
    check(lambda t, x, y: t.cartesian_prod(x, y), [(0,), (2,)])
    check(lambda t, x, y: t.cartesian_prod(x, y), [(2,), (3,)], "int64")
    check(lambda t, x, y: t.cartesian_prod(x, y), [(3,), (2,)], "bool")


def test_cartesian_prod_single_is_input():
    for lib in (torch, ember):
        x = lib.ones(3)
        assert lib.cartesian_prod(x) is x


def test_cartesian_prod_errors():
    _, e = check_raises(lambda t, x, y: t.cartesian_prod(x, y), [(2, 2), (2,)])
    assert str(e) == "Expect a 1D vector, but got shape [2, 2]"
    check_raises(lambda t, x: t.cartesian_prod(x), [()])
    check_raises(lambda t, x, y: t.cartesian_prod(x, y), [(2,), (3,)], ["float32", "int64"],
                 match="meshgrid expects all tensors to have the same dtype")
    check_raises(lambda t: t.cartesian_prod())
    check_raises(lambda t, x: t.cartesian_prod([x, x]), [(2,)])


@pytest.mark.parametrize("r", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("with_replacement", [False, True])
def test_combinations(r, with_replacement):
    check(lambda t, x: t.combinations(x, r, with_replacement), [(4,)], check_stride=r > 0)
    check(lambda t, x: t.combinations(x, r=r, with_replacement=with_replacement), [(4,)],
          "int32")


def test_combinations_defaults_edges():
    check(lambda t, x: t.combinations(x), [(5,)])
    check(lambda t, x: t.combinations(x[::2]), [(7,)])
    check(lambda t, x: t.combinations(x), [(0,)])
    check(lambda t, x: t.combinations(x), [(1,)])
    check(lambda t, x: t.combinations(x, 3, True), [(1,)])
    check(lambda t, x: t.combinations(x, 2, True), [(3,)], "complex64")
    t_out, e_out = check(lambda t, x: t.combinations(x, 0), [(3,)])
    assert not e_out.requires_grad and not t_out.requires_grad


def test_combinations_errors():
    _, e = check_raises(lambda t, x: t.combinations(x), [(2, 2)])
    assert str(e) == "Expect a 1D vector, but got shape [2, 2]"
    check_raises(lambda t, x: t.combinations(x), [()])
    check_raises(lambda t, x: t.combinations(x, -1), [(3,)],
                 match="Expect a non-negative number, but got -1")


# --- tril_indices / triu_indices ---------------------------------------------------------------

@pytest.mark.parametrize("fn", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("row,col", [(3, 3), (3, 5), (5, 2), (0, 3), (3, 0), (1, 1)])
@pytest.mark.parametrize("offset", [0, 1, -1, 3, -4, 10])
def test_tri_indices(fn, row, col, offset):
    check(lambda t: getattr(t, fn)(row, col, offset))
    check(lambda t: getattr(t, fn)(row, col, offset=offset, dtype=t.int32))


def test_tri_indices_defaults_and_errors():
    check(lambda t: t.tril_indices(4, 3))
    check(lambda t: t.triu_indices(4, 3, dtype=t.int64, device="cpu"))
    _, e = check_raises(lambda t: t.tril_indices(-1, 3))
    assert str(e) == "row must be non-negative, got-1"
    _, e = check_raises(lambda t: t.triu_indices(3, -2))
    assert str(e) == "col must be non-negative, got-2"
    for name in ("float32", "int8", "int16", "uint8", "bool", "float16", "complex64"):
        _, e = check_raises(lambda t: t.tril_indices(3, 3, dtype=getattr(t, name)))
        assert str(e) == f"\"tril_indices\" not implemented for '{getattr(ember, name)._legacy}'"
    check_raises(lambda t: t.triu_indices(3, 3, dtype=t.float64))
    check_raises(lambda t: t.tril_indices(3))


# --- vander -------------------------------------------------------------------------------------
# (torch 2.13's vander backward raises "modified by an inplace operation" for every N >= 2, so
#  values are compared with torch.vander and gradients with torch's x ** k)

@pytest.mark.parametrize("N", [None, 0, 1, 2, 3, 5])
@pytest.mark.parametrize("increasing", [False, True])
def test_vander_values(N, increasing):
    check(lambda t, x: t.vander(x, N, increasing), [(4,)], grad=False, check_stride=True)
    check(lambda t, x: t.vander(x, N=N, increasing=increasing), [(3,)], "int32", grad=False)
    check(lambda t, x: t.vander(x[::2], N), [(6,)], grad=False)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_vander_dtypes(dtype):
    # bool and integers give int64, floating and complex keep their dtype
    check(lambda t, x: t.vander(x), [(4,)], dtype, grad=False)
    check(lambda t, x: t.vander(x, 3, True), [(0,)], dtype, grad=False)


def test_vander_int_wraps():
    x = np.array([2 ** 40, -3, 7], np.int64)
    check(lambda t, x: t.vander(x, 4), inputs=[x])


def _vander_ref(x, N, increasing):
    k = torch.arange(N) if increasing else torch.arange(N - 1, -1, -1)
    return x.unsqueeze(1) ** k


@pytest.mark.parametrize("N", [2, 3, 5])
@pytest.mark.parametrize("increasing", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_vander_grad(N, increasing, dtype):
    x = make_array((5,), dtype, np.random.default_rng(1))
    if dtype != "complex128":   # (torch's complex 0 ** 0 is NaN)
        x[2] = 0   # the gradient at zero: d/dx x^1 = 1
    check(lambda t, x: ember.vander(x, N, increasing) if t is ember
          else _vander_ref(x, N, increasing), inputs=[x])


def test_vander_grad_flags_and_double_backward():
    x = ember.randn(4, dtype=ember.float64, requires_grad=True)
    for n in (0, 1):   # constant ones: no graph, as in torch
        assert not ember.vander(x, n).requires_grad
        assert not torch.vander(torch.ones(2, requires_grad=True), n).requires_grad
    assert ember.vander(x, 2).requires_grad
    assert ember.autograd.gradgradcheck(lambda v: ember.vander(v, 4), (x,))
    assert ember.autograd.gradgradcheck(lambda v: ember.vander(v, 3, True), (x,))


def test_vander_errors():
    _, e = check_raises(lambda t, x: t.vander(x), [(2, 2)])
    assert str(e) == "x must be a one-dimensional tensor."
    check_raises(lambda t, x: t.vander(x), [()])
    _, e = check_raises(lambda t, x: t.vander(x, -1), [(3,)])
    assert str(e) == "N must be non-negative."


# --- diagonal_scatter / select_scatter / slice_scatter ------------------------------------------

@pytest.mark.parametrize("offset,shape_src", [(0, (3,)), (1, (3,)), (2, (2,)), (-1, (2,)),
                                              (-3, (0,)), (5, (0,))])
def test_diagonal_scatter(offset, shape_src):
    check(lambda t, x, s: t.diagonal_scatter(x, s, offset), [(3, 4), shape_src],
          check_stride=True)
    check(lambda t, x, s: x.diagonal_scatter(s, offset=offset), [(3, 4), shape_src])


@pytest.mark.parametrize("dims,src", [((0, 1), (4, 2)), ((2, 0), (3, 2)), ((-1, -3), (3, 2)),
                                      ((1, 2), (2, 3))])
def test_diagonal_scatter_dims(dims, src):
    check(lambda t, x, s: t.diagonal_scatter(x, s, 0, *dims), [(2, 3, 4), src])
    check(lambda t, x, s: t.diagonal_scatter(x, s, dim1=dims[0], dim2=dims[1]),
          [(2, 3, 4), src])


def test_diagonal_scatter_noncontiguous_and_dtypes():
    # the output keeps the input's strides (gaps too); an expanded input gives a dense copy
    check(lambda t, x, s: t.diagonal_scatter(x.t(), s), [(4, 3), (3,)], check_stride=True)
    check(lambda t, x, s: t.diagonal_scatter(x[:, ::2], s), [(4, 6), (3,)], check_stride=True)
    check(lambda t, x, s: t.diagonal_scatter(x.expand(4, 3), s), [(3,), (3,)],
          check_stride=True)
    check(lambda t, x, s: t.diagonal_scatter(x, s.t()), [(2, 3, 3), (2, 3)])
    # src is cast to input's dtype; its gradient comes back in its own dtype
    check(lambda t, x, s: t.diagonal_scatter(x, s), [(3, 4), (3,)], ["float32", "float64"])
    check(lambda t, x, s: t.diagonal_scatter(x, s), [(3, 4), (3,)], ["int64", "float32"],
          grad=False)
    check(lambda t, x, s: t.diagonal_scatter(x, s), [(3, 4), (3,)], ["float16", "int64"])
    check(lambda t, x, s: t.diagonal_scatter(x, s), [(2, 2), (2,)], ["complex64", "complex128"])
    for lib in (torch, ember):   # an integer output cannot carry the float src's gradient
        with pytest.raises(RuntimeError, match="Autograd not support dtype: Long"):
            lib.diagonal_scatter(lib.zeros(3, 4, dtype=lib.int64),
                                 lib.ones(3, requires_grad=True))
        with pytest.raises(RuntimeError, match="Autograd not support dtype: Int"):
            lib.slice_scatter(lib.zeros(3, dtype=lib.int32), lib.ones(1, requires_grad=True),
                              0, 0, 1)
    check(lambda t, x, s: t.diagonal_scatter(x, s), [(3, 3), (3,)], ["bool", "bool"])


def test_diagonal_scatter_errors():
    _, e = check_raises(lambda t, x, s: t.diagonal_scatter(x, s), [(3, 4), (2,)])
    assert str(e) == ("expected src to have a size equal to the slice of self. src size = [2], "
                      "slice size = [3]")
    check_raises(lambda t, x, s: t.diagonal_scatter(x, s), [(3, 4), (3, 1)])
    check_raises(lambda t, x, s: t.diagonal_scatter(x, s), [(3, 4), ()])
    check_raises(lambda t, x, s: t.diagonal_scatter(x, s, 5), [(3, 4), (1,)])
    check_raises(lambda t, x, s: t.diagonal_scatter(x, s, 0, 1, 1), [(3, 4), (3,)],
                 match="diagonal dimensions cannot be identical 1, 1")
    check_raises(lambda t, x, s: t.diagonal_scatter(x, s, 0, 2, 0), [(3, 4), (3,)])
    check_raises(lambda t, x, s: t.diagonal_scatter(x, s), [(3,), (3,)])
    check_raises(lambda t, x: t.diagonal_scatter(x, [1.0, 2.0]), [(2, 2)])


@pytest.mark.parametrize("dim,index,src", [(0, 1, (4,)), (1, -1, (3,)), (-2, 0, (4,)),
                                           (1, 3, (3,))])
def test_select_scatter(dim, index, src):
    check(lambda t, x, s: t.select_scatter(x, s, dim, index), [(3, 4), src], check_stride=True)
    check(lambda t, x, s: x.select_scatter(s, dim=dim, index=index), [(3, 4), src])


def test_select_scatter_cases():
    check(lambda t, x, s: t.select_scatter(x, s, 0, 2), [(3,), ()])
    check(lambda t, x, s: t.select_scatter(x.t(), s, 0, 0), [(4, 3), (4,)], check_stride=True)
    check(lambda t, x, s: t.select_scatter(x[1:, 1::2], s, 0, 1), [(4, 6), (3,)],
          check_stride=True)
    check(lambda t, x, s: t.select_scatter(x[:, :, ::2], s, 0, 1), [(4, 1, 3), (1, 2)],
          check_stride=True)
    check(lambda t, x, s: t.select_scatter(x, s, 1, 0), [(2, 3, 2), (2, 2)],
          ["float64", "int32"])
    check(lambda t, x, s: t.select_scatter(x, s, 0, 0), [(2, 3), (3,)], "int16")


def test_select_scatter_errors():
    check_raises(lambda t, x, s: t.select_scatter(x, s, 1, 4), [(3, 4), (3,)],
                 match=r"select\(\): index 4 out of range for tensor of size \[3, 4\] at "
                       r"dimension 1")
    check_raises(lambda t, x, s: t.select_scatter(x, s, 1, -5), [(3, 4), (3,)])
    check_raises(lambda t, x, s: t.select_scatter(x, s, 2, 0), [(3, 4), (3,)])
    check_raises(lambda t, x, s: t.select_scatter(x, s, 0, 0), [(), ()])
    _, e = check_raises(lambda t, x, s: t.select_scatter(x, s, 0, 0), [(3, 4), (1, 4)])
    assert str(e) == ("expected src to have a size equal to the slice of self. src size = "
                      "[1, 4], slice size = [4]")
    check_raises(lambda t, x, s: t.select_scatter(x, s, 0, 0), [(3, 4), (1,)])


@pytest.mark.parametrize("kw,src", [({}, (3, 4)), ({"dim": 1, "start": 1, "end": 3}, (3, 2)),
                                    ({"dim": 1, "step": 2}, (3, 2)),
                                    ({"dim": 1, "start": -2}, (3, 2)),
                                    ({"dim": 1, "start": -2, "end": -1}, (3, 1)),
                                    ({"dim": 1, "start": 2, "end": 100}, (3, 2)),
                                    ({"dim": 1, "start": 3, "end": 1}, (3, 0)),
                                    ({"dim": -1, "start": -100}, (3, 4)),
                                    ({"dim": 0, "start": 0, "end": 4, "step": 2}, (2, 4)),
                                    ({"dim": 0, "start": 1, "end": None, "step": 5}, (1, 4))])
def test_slice_scatter(kw, src):
    check(lambda t, x, s: t.slice_scatter(x, s, **kw), [(3, 4), src], check_stride=True)
    check(lambda t, x, s: x.slice_scatter(s, **kw), [(3, 4), src])


def test_slice_scatter_cases():
    check(lambda t, x, s: t.slice_scatter(x, s, 0, 1, 3), [(4,), (2,)])
    check(lambda t, x, s: t.slice_scatter(x.t(), s, 1, 1, 3), [(4, 3), (3, 2)],
          check_stride=True)
    check(lambda t, x, s: t.slice_scatter(x[:, ::2], s, 0, 1, 3), [(4, 6), (2, 3)],
          check_stride=True)
    check(lambda t, x, s: t.slice_scatter(x, s, 2, 1), [(2, 2, 3), (2, 2, 2)],
          ["float32", "int64"])
    check(lambda t, x, s: t.slice_scatter(x, s, 1, 0, 3, 2), [(2, 4), (2, 2)], "uint8")


def test_slice_scatter_errors():
    _, e = check_raises(lambda t, x, s: t.slice_scatter(x, s), [(3, 4), (3, 2)])
    assert str(e) == ("expected src to have a size equal to the slice of self. src size = "
                      "[3, 2], slice size = [3, 4]")
    check_raises(lambda t, x, s: t.slice_scatter(x, s, 1, 0, 4, 0), [(3, 4), (3, 2)],
                 match="slice step must be positive")
    check_raises(lambda t, x, s: t.slice_scatter(x, s, 1, 0, 4, -1), [(3, 4), (3, 2)])
    check_raises(lambda t, x, s: t.slice_scatter(x, s, 1, 0, 4, 2), [(3, 4), (3, 3)])
    check_raises(lambda t, x, s: t.slice_scatter(x, s), [(3, 4), (4,)])
    check_raises(lambda t, x, s: t.slice_scatter(x, s, 2), [(3, 4), (3, 2)])
    check_raises(lambda t, x, s: t.slice_scatter(x, s), [(), ()])


def test_scatter_ops_double_backward_and_names():
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    s = ember.randn(3, dtype=ember.float64, requires_grad=True)
    r = ember.randn(3, 2, dtype=ember.float64, requires_grad=True)
    gg = ember.autograd.gradgradcheck
    assert gg(lambda x, s: ember.diagonal_scatter(x, s, 1) ** 2, (x, s))
    assert gg(lambda x, s: ember.select_scatter(x, s, 1, 2) ** 2, (x, s))
    assert gg(lambda x, r: ember.slice_scatter(x, r, 1, 0, 4, 2) ** 2, (x, r))
    for lib in (torch, ember):
        a = lib.zeros(3, 4, requires_grad=True)
        b = lib.zeros(3, requires_grad=True)
        assert lib.diagonal_scatter(a, b).grad_fn.name() == "DiagonalScatterBackward0"
        assert lib.select_scatter(a, b, 1, 0).grad_fn.name() == "SelectScatterBackward0"
        c = lib.zeros(3, 2, requires_grad=True)
        assert lib.slice_scatter(a, c, 1, 1, 3).grad_fn.name() == "SliceScatterBackward0"


# --- fill_diagonal_ -----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 3), (7, 3), (8, 3), (4, 1), (1, 4),
                                   (3, 3, 3), (2, 2, 2, 2), (0, 0), (0, 3)])
@pytest.mark.parametrize("wrap", [False, True])
def test_fill_diagonal_(shape, wrap):
    check(lambda t, x: (x * 1).fill_diagonal_(5.0, wrap), [shape])
    check(lambda t, x: x.fill_diagonal_(fill_value=-2, wrap=wrap), [shape], "int32")


def test_fill_diagonal_inplace_semantics():
    for lib in (torch, ember):
        x = lib.zeros(3, 3)
        v = x._version
        assert x.fill_diagonal_(1) is x and x._version > v
    # through views: the base sees the writes, also with a transposed or strided view
    check(lambda t, x: (x.fill_diagonal_(3.0, True), x)[1], [(3, 4)], grad=False)
    check(lambda t, x: (x.t().fill_diagonal_(3.0, True), x)[1], [(3, 5)], grad=False)
    check(lambda t, x: (x[:, ::2].fill_diagonal_(3.0), x)[1], [(4, 6)], grad=False)
    # gradients: zero on the filled positions, also when it reaches a base through a view
    check(lambda t, x: (x * 1).fill_diagonal_(0.5, True), [(5, 2)])

    def through_view(t, x):
        y = x * 2
        y[1:].fill_diagonal_(1.0)
        return y
    check(through_view, [(4, 3)])


@pytest.mark.parametrize("dtype,value", [("int32", 2.7), ("int32", -2.7), ("bool", 2),
                                         ("bool", 0.0), ("uint8", -1), ("uint8", -255),
                                         ("float32", 3 + 0j), ("int32", 1 + 0j),
                                         ("float16", 65504.0), ("float32", float("nan")),
                                         ("float32", float("-inf")), ("complex64", 1 - 2j),
                                         ("int64", 2 ** 63 - 1), ("bfloat16", 3.5),
                                         ("float64", True)])
def test_fill_diagonal_values(dtype, value):
    check(lambda t, x: x.fill_diagonal_(value), [(3, 3)], dtype, grad=False)


def test_fill_diagonal_tensor_value():
    check(lambda t, x: x.fill_diagonal_(t.tensor(2.5, dtype=t.float64)), [(2, 3)], grad=False)
    check(lambda t, x: x.fill_diagonal_(t.tensor(2.5)), [(2, 3)], "int32", grad=False)


@pytest.mark.parametrize("dtype,value", [("uint8", 256), ("uint8", -256), ("int8", 128),
                                         ("int8", 127.9), ("int8", -129), ("uint8", -1.5),
                                         ("int32", float("nan")), ("int32", float("inf")),
                                         ("int32", 1 + 1j), ("float32", 1 + 2j),
                                         ("float16", 65520.0), ("float32", 1e39),
                                         ("bfloat16", 1e39), ("complex64", 1e39),
                                         ("int64", 2 ** 63), ("int64", 2 ** 64)])
def test_fill_diagonal_overflow(dtype, value):
    t_exc, e_exc = check_raises(lambda t, x: x.fill_diagonal_(value), [(2, 2)], dtype)
    assert str(e_exc) == str(t_exc)


def test_fill_diagonal_errors():
    _, e = check_raises(lambda t, x: x.fill_diagonal_(1), [(3,)])
    assert str(e) == "dimensions must larger than 1"
    check_raises(lambda t, x: x.fill_diagonal_(1), [()])
    _, e = check_raises(lambda t, x: x.fill_diagonal_(1), [(3, 3, 4)])
    assert str(e) == "all dimensions of input must be of equal length"
    check_raises(lambda t, x: x.fill_diagonal_(t.tensor([2])), [(2, 2)])
    t_exc, e_exc = check_raises(lambda t, x: x.requires_grad_().fill_diagonal_(1), [(2, 2)])
    assert str(e_exc) == str(t_exc)


# --- is_nonzero / is_same_size / is_signed ----------------------------------------------------

@pytest.mark.parametrize("value", [0.0, -0.0, 1.5, float("nan"), 0, 3, False, True, 0j, 1j])
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_is_nonzero(value, shape):
    x = np.full(shape, value)
    for lib in (torch, ember):
        t = lib.tensor(x)
        assert lib.is_nonzero(t) == t.is_nonzero() == bool(value)


def test_is_nonzero_errors():
    _, e = check_raises(lambda t, x: t.is_nonzero(x), [(2,)])
    assert str(e) == "Boolean value of Tensor with more than one value is ambiguous"
    _, e = check_raises(lambda t, x: x.is_nonzero(), [(0,)])
    assert str(e) == "Boolean value of Tensor with no values is ambiguous"
    check_raises(lambda t: t.is_nonzero(3))


def test_is_same_size():
    check(lambda t, x, y: t.is_same_size(x, y), [(2, 3), (2, 3)], ["float32", "int8"])
    check(lambda t, x, y: x.is_same_size(y), [(2, 3), (3, 2)])
    check(lambda t, x, y: x.is_same_size(y), [(), (1,)])
    check(lambda t, x, y: x.t().is_same_size(y), [(3, 2), (2, 3)])
    check_raises(lambda t, x: t.is_same_size(x, [2, 3]), [(2, 3)])


@pytest.mark.parametrize("dtype", ALL_DTYPES + ("bfloat16",))
def test_is_signed(dtype):
    t_out, e_out = check(lambda t, x: (t.is_signed(x), x.is_signed()), [(2,)], dtype)
    assert e_out == (dtype not in ("bool", "uint8"),) * 2
    check_raises(lambda t: t.is_signed(2))


def test_flip_and_tile_methods_take_varargs():
    """x.flip(0, 1) / x.flip(0) / x.tile(2, 1) as torch's methods accept; torch.flip(x, 0) and
    torch.tile(x, 2) (a bare int) are TypeErrors in both."""
    check(lambda t, x: x.flip(0), [(2, 3)])
    check(lambda t, x: x.flip(0, 1), [(2, 3)])
    check(lambda t, x: x.flip([1]), [(2, 3)])
    check(lambda t, x: x.tile(2), [(2, 3)])
    check(lambda t, x: x.tile(2, 1, 1), [(2, 3)])
    check(lambda t, x: x.tile((1, 2)), [(2, 3)])
    check_raises(lambda t, x: t.flip(x, 0), [(2, 3)])
    check_raises(lambda t, x: t.tile(x, 2), [(2, 3)])


def test_flip_of_a_0d_tensor():
    for dims in ((0,), (-1,)):
        check(lambda t, x: t.flip(x, dims), [()], "float64")
    check(lambda t, x, y: t.dist(x, y, 3), [(), ()], "float64")
    check_raises(lambda t, x: t.flip(x, (1,)), [()])
