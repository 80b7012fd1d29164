"""Sorting, order statistics, unique and histograms against torch."""
import ml_dtypes
import numpy as np
import pytest
import torch

import ember
from oracle import FLOAT_DTYPES, INT_DTYPES, check, check_raises

REAL = ("bool",) + INT_DTYPES + FLOAT_DTYPES


def _distinct(shape, dtype="float64", seed=0):
    """Values without ties (kthvalue picks among ties by torch's own quickselect, which ember
    does not replay)."""
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


def _tied(shape, values=4, seed=0):
    return np.random.default_rng(seed).integers(0, values, shape)


@pytest.mark.parametrize("kind", ["int64", "float32", "nan", "bool", "float16", "bfloat16"])
@pytest.mark.parametrize("descending", [False, True])
def test_unstable_sort_orders_ties_as_torch(kind, descending):
    """sort/argsort without stable=True: equal elements in the order torch's std::sort
    (introsort) leaves them, which differs from the stable order past 16 elements."""
    rng = np.random.default_rng(1)
    for shape, dim in [((17,), 0), ((300,), 0), ((4000,), 0), ((7, 40), 1), ((60, 5), 0),
                       ((3, 50, 4), 1)]:
        x = _tied(shape, 3 if kind == "bool" else 4)
        if kind == "bool":
            x = x > 1
        elif kind != "int64":
            x = x.astype(np.float32)
            if kind == "nan":
                x[rng.random(shape) < 0.2] = np.nan

        def run(lib):
            t = lib.from_numpy(x)
            t = t.to(getattr(lib, kind)) if kind in ("float16", "bfloat16") else t
            return [lib.sort(t, dim, descending).indices, t.argsort(dim, descending),
                    lib.sort(t, stable=False, dim=dim, descending=descending).indices]
        want, got = run(torch), run(ember)
        for w, g in zip(want, got):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    # (the stable sort, which the first cases must not be)
    x = _tied((300,))
    assert not np.array_equal(torch.sort(torch.from_numpy(x)).indices.numpy(),
                              np.argsort(x, kind="stable"))


def test_unstable_sort_ties_values_and_gradient():
    x = _tied((6, 70)).astype(np.float64) + np.random.default_rng(2).integers(0, 2, (6, 70)) * .5
    check(lambda t, x: tuple(t.sort(x, 1, True)), inputs=[x])
    check(lambda t, x: t.sort(x.t(), 0).indices, inputs=[x])


def test_sort_and_topk_past_the_depth_limit():
    """Adversarial inputs drive torch's std::sort into its heap sort and std::nth_element into
    its heap select: those fallbacks are replayed too (ties included)."""
    from adversarial_inputs import NTH_ELEMENT_KILLER, SORT_KILLER
    for x in (SORT_KILLER, SORT_KILLER // 2):
        x = x.astype(np.float32)
        for descending in (False, True):
            want = torch.sort(torch.from_numpy(x), descending=descending).indices
            got = ember.sort(ember.from_numpy(x), descending=descending).indices
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    x = NTH_ELEMENT_KILLER.astype(np.float32)
    for k in (150, 100):
        want = torch.topk(torch.from_numpy(x), k, sorted=False).indices
        got = ember.topk(ember.from_numpy(x), k, sorted=False).indices
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_unstable_sort_large_inputs_keep_a_stable_order():
    """Past MAX_REPLAYED elements with ties the replay is skipped (about 1 us an element):
    the stable order, also a correct unstable sort."""
    from ember._ops._stdsort import MAX_REPLAYED
    x = _tied((MAX_REPLAYED + 1,))
    idx = ember.sort(ember.from_numpy(x)).indices.numpy()
    np.testing.assert_array_equal(idx, np.argsort(x, kind="stable"))


def test_pack_padded_sequence_orders_tied_lengths_as_torch():
    lengths = [3, 5, 3, 3, 5, 2, 3, 3, 5, 5, 1, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2]
    got = []
    for lib in (torch, ember):
        x = lib.arange(5.0 * len(lengths)).reshape(5, len(lengths), 1)
        p = lib.nn.utils.rnn.pack_padded_sequence(x, lib.tensor(lengths), enforce_sorted=False)
        got.append((p.sorted_indices.tolist(), p.data.reshape(-1).tolist()))
    assert got[1] == got[0]


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


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("in_order", [True, False])
def test_topk_ties_and_unsorted_order_as_torch(largest, in_order):
    """torch's topk: std::partial_sort when k * 64 <= n, else std::nth_element (and
    std::sort of the first k - 1 when sorted): ties, NaN, and sorted=False's order (which is
    not sorted, even without ties) come out as torch's."""
    rng = np.random.default_rng(3)
    for n, ks in [(5, (1, 3, 5)), (40, (1, 2, 20, 40)), (129, (2, 3, 64)),
                  (1000, (3, 15, 16, 700))]:
        for values in (3, 10 ** 6):
            x = rng.integers(0, values, (3, n)).astype(np.float32)
            x[rng.random(x.shape) < 0.05] = np.nan
            for k in ks:
                for dim in (1, 0):
                    xs = x if dim == 1 else np.ascontiguousarray(x.T)
                    want = torch.topk(torch.from_numpy(xs), k, dim, largest, in_order)
                    got = ember.topk(ember.from_numpy(xs), k, dim, largest, in_order)
                    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
                    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64", "int16", "int64", "uint8", "bfloat16"])
def test_topk_few_of_many(dtype):
    """k < 16 of many (ember's repeated-argmax path): infinities, NaN, the dtype's extremes
    and ties among the best, largest and smallest, sorted or not, along either dim."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 300)) * 1000
    if dtype in ("float32", "float64", "bfloat16"):
        x[0, :5] = [np.inf, np.nan, -np.inf, np.nan, np.inf]
        x[1, :] = -np.inf
        x[1, 7] = 1.0
        x[2, ::7] = np.nan
        x[3, 50:60] = x[3].max() + 1                        # a tie among the best
        x[4, 9] = np.nan                                     # one NaN: largest of all
        x[5, 3], x[5, 100:110] = np.nan, x[5].min() - 1       # ... and tied smallest
    else:
        info = np.iinfo(dtype)
        x = np.clip(x, info.min, info.max)
        x[0, :3] = [info.min, info.max, info.min]
        x[1, :] = info.min
        x[1, 7] = 1
    x = (x.astype(np.float32).astype(ml_dtypes.bfloat16) if dtype == "bfloat16"
         else x.astype(dtype))
    for k in (1, 4, 15):
        for largest in (True, False):
            for in_order in (True, False):
                for dim in (1, 0):
                    xs = x if dim == 1 else np.ascontiguousarray(x.T)
                    check(lambda t, a: tuple(t.topk(a, k, dim, largest, in_order)), inputs=[xs],
                          grad=False)


def test_topk_ties_gradient():
    x = _tied((4, 30)).astype(np.float64)
    check(lambda t, x: tuple(t.topk(x, 7)), inputs=[x])
    check(lambda t, x: tuple(t.topk(x, 25, sorted=False)), inputs=[x])


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_mode_index_among_ties_as_torch(dtype):
    """torch's mode returns the last place of the mode's run in its std::sort."""
    for n, values in [(10, 3), (40, 4), (500, 6)]:
        x = _tied((4, n), values, seed=n).astype(dtype)
        check(lambda t, x: tuple(t.mode(x, 1)), inputs=[x])
        check(lambda t, x: tuple(t.mode(x, 0)), inputs=[x])


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bfloat16"])
def test_kthvalue_ties_as_torch(dtype):
    """Among equal elements kthvalue reports the index torch's own quickselect leaves at the
    k-th place (not a sort's): rows of few distinct values, NaN, every k, either dim."""
    rng = np.random.default_rng(12)
    for n, values in [(2, 2), (3, 2), (17, 3), (40, 4), (129, 5)]:
        x = rng.integers(0, values, (6, n)).astype(np.float64)
        if dtype != "int64":
            x[rng.random(x.shape) < 0.08] = np.nan
        x = x.astype(np.float32).astype(ml_dtypes.bfloat16) if dtype == "bfloat16" \
            else x.astype(dtype)
        for k in sorted({1, 2, (n + 1) // 2, n - 1, n} - {0}):
            check(lambda t, v: tuple(t.kthvalue(v, k, 1)), inputs=[x],
                  grad=dtype == "float64")
            check(lambda t, v: tuple(v.T.kthvalue(min(k, 6), 0, keepdim=True)), inputs=[x],
                  grad=False)


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


@pytest.mark.parametrize("fn", ["median", "nanmedian"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bfloat16"])
def test_median_of_long_rows(fn, dtype):
    """Rows of 64 and more (ember partitions them): distinct values, ties at the median
    (the index a stable sort puts there, as torch), NaN, along either dim."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((9, 130)).astype(np.float32)
    x[1] = rng.integers(0, 4, 130)              # ties everywhere
    x[2, :70] = x[2, 5]                          # the median tied with many others
    x[3, 60:66] = np.sort(x[3])[64]              # ties around the median
    if dtype == "int64":
        x = (x * 10).astype(np.int64)
    else:
        x = x.astype(ml_dtypes.bfloat16 if dtype == "bfloat16" else dtype)
    for dim in (1, 0):
        xs = x if dim == 1 else np.ascontiguousarray(x.T)
        check(lambda t, v: tuple(getattr(t, fn)(v, dim)), inputs=[xs], grad=dtype == "float64")
    check(lambda t, v: getattr(t, fn)(v), inputs=[x], grad=False)
    if dtype != "int64":
        x[4, 3] = np.nan                         # NaN in one row: torch's NaN rules
        check(lambda t, v: tuple(getattr(t, fn)(v, 1)), inputs=[x], grad=False)


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
    check(lambda t, x: x.unique(return_inverse=True), [(3, 7)], dtypes=dtype, grad=False)
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


# ---------------------------------------------------------------------------------------------
# searchsorted, bucketize, isin, unravel_index

from oracle import make_array  # noqa: E402

NAN, INF = float("nan"), float("inf")
SEARCH_DTYPES = INT_DTYPES + ("float16",) + FLOAT_DTYPES
# every way of asking for the left or the right bound, and the int32 result
SIDES = [dict(), dict(right=True), dict(side="right"), dict(side="left"),
         dict(side="right", right=True), dict(side="left", right=False), dict(out_int32=True),
         dict(right=True, out_int32=True)]


@pytest.mark.parametrize("dtype", SEARCH_DTYPES)
def test_searchsorted_1d(dtype):
    seq = np.array([0, 1, 1, 1, 3, 4, 4, 7], dtype)
    vals = np.array([[-1, 0, 1, 2], [3, 4, 5, 9]], dtype) if dtype != "uint8" else \
        np.array([[0, 0, 1, 2], [3, 4, 5, 9]], dtype)
    for kw in SIDES:
        check(lambda t, s, v: t.searchsorted(s, v, **kw), inputs=[seq, vals], grad=False)
    check(lambda t, s, v: t.searchsorted(s, v[0, 2]), inputs=[seq, vals], grad=False)
    check(lambda t, s, v: t.bucketize(v, s, right=True), inputs=[seq, vals], grad=False)


def test_searchsorted_nan_inf():
    seq = np.array([-INF, -1.0, 0.0, 0.0, 2.5, INF, NAN, NAN])
    vals = np.array([-INF, -2.0, -0.0, 0.0, 2.5, 3.0, INF, NAN])
    for kw in SIDES[:3]:
        check(lambda t, s, v: t.searchsorted(s, v, **kw), inputs=[seq, vals], grad=False)
        check(lambda t, s, v: t.searchsorted(s[:6], v, **kw), inputs=[seq, vals], grad=False)
        check(lambda t, s, v: t.searchsorted(s, NAN, **kw), inputs=[seq, vals], grad=False)
    zeros = np.array([0.0, -0.0, 0.0])
    check(lambda t, s: t.searchsorted(s, t.tensor([-0.0, 0.0]), right=True), inputs=[zeros],
          grad=False)


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_unsorted_follows_torch_bisection(right):
    # unsorted sequences and NaNs inside them: the result is torch's bisection, step for step
    rng = np.random.default_rng(1)
    for n in (1, 2, 5, 8, 13, 33):
        seq = rng.integers(-4, 5, n).astype(np.float64)
        seq[rng.random(n) < 0.2] = NAN
        vals = np.concatenate([np.arange(-5.0, 6.0), [NAN, 0.5]])
        check(lambda t, s, v: t.searchsorted(s, v, right=right), inputs=[seq, vals], grad=False)
        check(lambda t, s, v: t.searchsorted(s, v, right=right),
              inputs=[np.nan_to_num(seq, nan=9.0).astype(np.int64), vals[:-2].astype(np.int64)],
              grad=False)
    seq = rng.standard_normal((3, 2, 11))
    seq[0, 1, 4] = NAN
    vals = np.concatenate([seq[..., ::2], rng.standard_normal((3, 2, 3))], -1)
    check(lambda t, s, v: t.searchsorted(s, v, right=right), inputs=[seq, vals], grad=False)


@pytest.mark.parametrize("dtype", ("int32", "float32", "float64"))
def test_searchsorted_batched(dtype):
    seq = np.sort(make_array((2, 3, 6), dtype, np.random.default_rng(2)), -1)
    vals = make_array((2, 3, 4), dtype, np.random.default_rng(3))
    vals[..., 0] = seq[..., 2]                       # an exact tie in every row
    for kw in SIDES:
        check(lambda t, s, v: t.searchsorted(s, v, **kw), inputs=[seq, vals], grad=False)
    check(lambda t, s, v: t.searchsorted(s, v[..., :1]), inputs=[seq, vals], grad=False)
    check(lambda t, s, v: t.searchsorted(s, v[..., :0]), inputs=[seq, vals], grad=False)
    # non-contiguous sequence and values (a transposed batch, a strided last dim)
    check(lambda t, s, v: t.searchsorted(s.transpose(0, 1), v.transpose(0, 1)[..., ::2]),
          inputs=[seq, vals], grad=False)
    check(lambda t, s, v: t.searchsorted(s[..., ::2], v, right=True), inputs=[seq, vals],
          grad=False)
    check(lambda t, s, v: t.searchsorted(s[0, 0], v.transpose(0, 2)), inputs=[seq, vals],
          grad=False)


def test_searchsorted_scalar_and_promotion():
    f = np.array([0.5, 1.0, 1.0, 2.5])
    i = np.array([1, 2, 2, 3])
    for v in (1, 1.0, 1.7, -3, True, 2.5, np.float64(1.0)):
        check(lambda t, s: t.searchsorted(s, v), inputs=[f], grad=False)
        check(lambda t, s: t.searchsorted(s, v, right=True, out_int32=True), inputs=[i],
              grad=False)
        check(lambda t, s: t.bucketize(v, s), inputs=[i], grad=False)
    check(lambda t, s: t.searchsorted(s, t.tensor(2.5)), inputs=[i], grad=False)
    check(lambda t, s: t.searchsorted(s, t.tensor([1.5, 2.5])), inputs=[i], grad=False)
    check(lambda t, s, v: t.searchsorted(s, v), inputs=[f, i], grad=False)
    # the common dtype decides: a 0-d tensor or a scalar is cast to the sequence's dtype
    # (wrapping for ints), a dimensioned tensor widens it
    tenth32 = np.array([0.1], np.float32)
    for right in (False, True):
        check(lambda t, s: t.searchsorted(s, t.tensor([0.1], dtype=t.float64), right=right),
              inputs=[tenth32], grad=False)
        check(lambda t, s: t.searchsorted(s, t.tensor(0.1, dtype=t.float64), right=right),
              inputs=[tenth32], grad=False)
        check(lambda t, s: t.searchsorted(s, 0.1, right=right), inputs=[tenth32], grad=False)
        check(lambda t, s: t.searchsorted(s.double(), t.tensor([0.1]), right=right),
              inputs=[tenth32], grad=False)
    u8 = np.array([1, 2, 200], np.uint8)
    for v in (300, 257, -1, -56):
        check(lambda t, s: t.searchsorted(s, v), inputs=[u8], grad=False)
        check(lambda t, s: t.searchsorted(s, t.tensor(v)), inputs=[u8], grad=False)
        check(lambda t, s: t.searchsorted(s, t.tensor([v])), inputs=[u8], grad=False)
    check(lambda t, s: t.searchsorted(s, t.tensor([-1, 3], dtype=t.int8)), inputs=[u8],
          grad=False)
    check(lambda t, s: t.searchsorted(s.int(), 2 ** 33 + 2), inputs=[i], grad=False)
    check(lambda t, s: t.searchsorted(s.int(), t.tensor([2 ** 33 + 2])), inputs=[i], grad=False)
    check(lambda t, s: t.searchsorted(s > 1, t.tensor([1, 0])), inputs=[i], grad=False)
    check(lambda t, s: t.searchsorted(s.half(), t.tensor([1.0004, 2.4])), inputs=[f], grad=False)
    check(lambda t, s: t.searchsorted(s.bfloat16(), t.tensor([1.0, 2.4])), inputs=[f],
          grad=False)


def test_searchsorted_long_sequence():
    # a sequence long enough that ember searches for the values in sorted order
    rng = np.random.default_rng(7)
    seq = np.sort(rng.integers(0, 5000, 20000)).astype(np.float64)
    vals = rng.integers(-10, 5010, (10, 30)).astype(np.float64)
    vals[0, :3] = [NAN, seq[0], seq[-1]]
    for kw in SIDES[:2] + [dict(out_int32=True)]:
        check(lambda t, s, v: t.searchsorted(s, v, **kw), inputs=[seq, vals], grad=False)
        check(lambda t, s, v: t.bucketize(v.t().long(), s.long(), **kw), inputs=[seq, vals[1:]],
              grad=False)


def test_searchsorted_sorter():
    seq = np.array([3.0, 1.0, 2.0, 1.0, NAN, 0.0])
    order = np.argsort(seq, kind="stable")
    vals = np.array([0.0, 1.0, 1.5, 3.0, 4.0, NAN])
    for kw in SIDES[:4] + [dict(out_int32=True)]:
        check(lambda t, s, o, v: t.searchsorted(s, v, sorter=o, **kw),
              inputs=[seq, order, vals], grad=False)
    check(lambda t, s, o: t.searchsorted(s, 2.0, sorter=o), inputs=[seq, order], grad=False)
    # sorter need not be a permutation; what it picks is what is searched
    check(lambda t, s, v: t.searchsorted(s, v, sorter=t.tensor([5, 5, 1, 0, 0, 4])),
          inputs=[seq, vals], grad=False)
    bseq = np.random.default_rng(4).standard_normal((2, 5))
    bord = np.argsort(bseq, -1)
    bvals = np.random.default_rng(5).standard_normal((2, 3))
    check(lambda t, s, o, v: t.searchsorted(s, v, sorter=o, right=True),
          inputs=[bseq, bord, bvals], grad=False)
    check(lambda t, s, o, v: t.searchsorted(s.t().contiguous().t(), v, sorter=o.t().t()),
          inputs=[bseq, bord, bvals], grad=False)


def test_searchsorted_empty():
    e = np.zeros(0)
    seq = np.array([1.0, 2.0])
    check(lambda t, s, v: t.searchsorted(s, v), inputs=[e, seq], grad=False)
    check(lambda t, s: t.searchsorted(s, 3.0, right=True), inputs=[e], grad=False)
    check(lambda t, s, v: t.searchsorted(s, v), inputs=[seq, e], grad=False)
    check(lambda t, s, v: t.searchsorted(s, v.reshape(2, 0, 3)), inputs=[seq, e], grad=False)
    check(lambda t, s, v: t.searchsorted(s.reshape(2, 0), v.reshape(2, 1).expand(2, 3)),
          inputs=[e, seq], grad=False)
    check(lambda t, s, v: t.searchsorted(s.reshape(0, 2), v.reshape(0, 4)), inputs=[e, e],
          grad=False)
    check(lambda t, s, o: t.searchsorted(s, 1.0, sorter=o), inputs=[e, np.zeros(0, np.int64)],
          grad=False)
    check(lambda t, v: t.bucketize(v, t.tensor([])), inputs=[seq], grad=False)


def test_searchsorted_out():
    seq = np.array([1.0, 2.0, 3.0])
    vals = np.array([[2.0, 0.0], [3.5, 2.0]])

    def run(t, s, v, out_int32, dtype):
        o = t.empty(0, dtype=dtype)
        r = t.searchsorted(s, v, out_int32=out_int32, right=True, out=o)
        return r, o, r is o
    check(lambda t, s, v: run(t, s, v, False, t.int64), inputs=[seq, vals], grad=False)
    check(lambda t, s, v: run(t, s, v, True, t.int32), inputs=[seq, vals], grad=False)

    def run_bucketize(t, s, v):
        o = t.empty(2, 2, dtype=t.int32)
        r = t.bucketize(v, s, out_int32=True, out=o)
        return r, o, r is o
    check(run_bucketize, inputs=[seq, vals], grad=False)
    # no gradient, and out= accepts inputs that require grad
    for lib in (torch, ember):
        s = lib.tensor(seq, requires_grad=True)
        v = lib.tensor(vals, requires_grad=True)
        assert not lib.searchsorted(s, v).requires_grad
        assert not lib.bucketize(v, s).requires_grad
        assert lib.searchsorted(s, v, out=lib.empty(0, dtype=lib.int64)).grad_fn is None


def test_searchsorted_errors():
    seq = np.array([1.0, 2.0, 3.0])
    vals = np.array([2.0])
    m = np.arange(6.0).reshape(2, 3)
    raises = [
        lambda t, s, v: t.searchsorted(s, v, side="left", right=True),
        lambda t, s, v: t.searchsorted(s, v, side="middle"),
        lambda t, s, v: t.searchsorted(s, v, side="middle", right=True),
        lambda t, s, v: t.searchsorted(s[0], v),
        lambda t, s, v: t.searchsorted(s[0], 2.0),
        lambda t, s, v: t.searchsorted(s, v, sorter=t.tensor([0, 1])),
        lambda t, s, v: t.searchsorted(s, v, sorter=t.tensor([[0, 1, 2]])),
        lambda t, s, v: t.searchsorted(s, v, sorter=t.tensor([0.0, 1.0, 2.0])),
        lambda t, s, v: t.searchsorted(s, v, sorter=t.tensor([0, 1, 2], dtype=t.int32)),
        lambda t, s, v: t.searchsorted(s, v, sorter=t.tensor([0, 1, 3])),
        lambda t, s, v: t.searchsorted(s, v, sorter=t.tensor([0, -1, 2])),
        lambda t, s, v: t.searchsorted(s, v, out=t.empty(1, dtype=t.int32)),
        lambda t, s, v: t.searchsorted(s, v, out_int32=True, out=t.empty(1, dtype=t.int64)),
        lambda t, s, v: t.searchsorted(s, v, out=t.empty(1)),
        lambda t, s, v: t.searchsorted(s.int(), v.to(t.uint16)),
        lambda t, s, v: t.searchsorted(s.to(t.uint16), v.to(t.uint16)),
        lambda t, s, v: t.searchsorted(s.to(t.uint16), 1),
        lambda t, s, v: t.searchsorted(s > 1, v > 1),
        lambda t, s, v: t.searchsorted(s > 1, True),
        lambda t, s, v: t.searchsorted(s, v.to(t.complex64)),
        lambda t, s, v: t.searchsorted(s, 1j),
        # wrong argument types
        lambda t, s, v: t.searchsorted(s, [2.0]),
        lambda t, s, v: t.searchsorted([1.0, 2.0], v),
        lambda t, s, v: t.searchsorted(s, v, out_int32=1),
        lambda t, s, v: t.searchsorted(s, v, right=None),
        lambda t, s, v: t.searchsorted(s, v, True),
        lambda t, s, v: t.searchsorted(s, v, side=1),
    ]
    for fn in raises:
        check_raises(fn, inputs=[seq, vals])
    for fn in [lambda t, s: t.searchsorted(s, t.tensor([2.0, 3.0])),
               lambda t, s: t.searchsorted(s, t.tensor([[2.0], [3.0], [4.0]])),
               lambda t, s: t.searchsorted(s, t.tensor([[[2.0]], [[3.0]]])),
               lambda t, s: t.searchsorted(s, 2.0),
               lambda t, s: t.searchsorted(s, t.tensor(2.0)),
               lambda t, s: t.searchsorted(s.t(), t.tensor([[2.0], [3.0]])),
               lambda t, s: t.searchsorted(s, t.tensor([[2.0]]), sorter=t.tensor([[0, 1, 2]])),
               lambda t, s: t.searchsorted(s, t.tensor([[2.0], [1.0]]),
                                           sorter=t.tensor([[0, 1, 2], [0, 1, 3]]))]:
        check_raises(fn, inputs=[m])


def test_bucketize():
    b = np.array([-1.0, 0.0, 0.0, 2.5, INF])
    x = np.array([[-2.0, -1.0, 0.0, 1.0], [2.5, 3.0, INF, NAN]])
    for kw in (dict(), dict(right=True), dict(out_int32=True), dict(right=True, out_int32=True)):
        check(lambda t, x, b: t.bucketize(x, b, **kw), inputs=[x, b], grad=False)
        check(lambda t, x, b: t.bucketize(x.t(), b[::2], **kw), inputs=[x, b], grad=False)
        check(lambda t, x, b: t.bucketize(x[0, 2], b, **kw), inputs=[x, b], grad=False)
        check(lambda t, b: t.bucketize(0.0, b, **kw), inputs=[b], grad=False)
    xi = np.array([[0, 3, 9], [5, 5, 1]])
    for dtype in ("uint8", "int16", "int64", "float32"):
        check(lambda t, x, b: t.bucketize(x, b), inputs=[xi, np.array([1, 3, 5], dtype)],
              grad=False)
        check(lambda t, x, b: t.bucketize(x.to(b.dtype), b, right=True),
              inputs=[xi, np.array([1, 3, 5], dtype)], grad=False)
    check(lambda t, x, b: t.bucketize(x, b), inputs=[xi, np.array([0.5, 3.0])], grad=False)
    check(lambda t, b: t.bucketize(t.tensor(-1), b), inputs=[np.array([1, 2], np.uint8)],
          grad=False)
    check(lambda t, b: t.bucketize(-1, b), inputs=[np.array([1, 2], np.uint8)], grad=False)


def test_bucketize_errors():
    x = np.array([1.0, 2.0])
    for fn in [lambda t, x: t.bucketize(x, x.reshape(1, 2)),
               lambda t, x: t.bucketize(x, x[0]),
               lambda t, x: t.bucketize(x > 1, x > 1),
               lambda t, x: t.bucketize(x, x.to(t.complex64)),
               lambda t, x: t.bucketize(x, x, out=t.empty(2, dtype=t.int32)),
               lambda t, x: t.bucketize(x, 1.0),
               lambda t, x: t.bucketize(x, [1.0]),
               lambda t, x: t.bucketize(x, x, side="left"),
               lambda t, x: t.bucketize(x, x, right=1)]:
        check_raises(fn, inputs=[x])


@pytest.mark.parametrize("dtype", INT_DTYPES + ("float16",) + FLOAT_DTYPES)
def test_isin(dtype):
    e = np.array([[0, 1, 2, 3], [4, 5, 1, 7]], dtype)
    te = np.array([1, 7, 9, 1], dtype)
    for kw in (dict(), dict(invert=True), dict(assume_unique=True),
               dict(assume_unique=True, invert=True)):
        check(lambda t, e, s: t.isin(e, s, **kw), inputs=[e, te], grad=False)
        check_raises(lambda t, e, s: t.isin(e, s.reshape(2, 2).t(), **kw), inputs=[e, te])
        check(lambda t, e, s: t.isin(e, s.reshape(2, 2)[:, ::2], **kw), inputs=[e, te],
              grad=False)
        check(lambda t, e, s: t.isin(e.t(), s[::2], **kw), inputs=[e, te], grad=False)
        check(lambda t, e, s: t.isin(e, 1, **kw), inputs=[e, te], grad=False)
        check(lambda t, e, s: t.isin(7, s, **kw), inputs=[e, te], grad=False)
        check(lambda t, e, s: t.isin(e[0, 1], s, **kw), inputs=[e, te], grad=False)
        check(lambda t, e, s: t.isin(e, s[0], **kw), inputs=[e, te], grad=False)
    check(lambda t, e, s: t.isin(elements=e, test_elements=s), inputs=[e, te], grad=False)


def test_isin_values():
    f = np.array([0.0, -0.0, 1.5, NAN, INF, -INF, 2.0])
    check(lambda t, e: t.isin(e, t.tensor([NAN, -0.0, INF])), inputs=[f], grad=False)
    check(lambda t, e: t.isin(e, t.tensor([NAN, 0.0, -INF]), invert=True), inputs=[f],
          grad=False)
    check(lambda t, e: t.isin(e, NAN), inputs=[f], grad=False)
    check(lambda t, e: t.isin(NAN, e), inputs=[f], grad=False)
    # promotion: ints meet floats as floats; scalars and 0-d tensors take the tensor's dtype
    i = np.array([1, 2, 255, 2 ** 60 + 1])
    check(lambda t, e: t.isin(e, t.tensor([2.5, 1.0])), inputs=[i], grad=False)
    check(lambda t, e: t.isin(e, 1.0), inputs=[i], grad=False)
    check(lambda t, e: t.isin(e, 2.0 ** 60), inputs=[i], grad=False)
    check(lambda t, e: t.isin(e, t.tensor([2 ** 60])), inputs=[i], grad=False)
    check(lambda t, e: t.isin(1.5, e), inputs=[i], grad=False)
    u8 = i[:3].astype(np.uint8)
    for v in (-255, 257, -1):
        check(lambda t, e: t.isin(e, v), inputs=[u8], grad=False)
        check(lambda t, e: t.isin(v, e), inputs=[u8], grad=False)
        check(lambda t, e: t.isin(e, t.tensor(v)), inputs=[u8], grad=False)
        check(lambda t, e: t.isin(e, t.tensor([v])), inputs=[u8], grad=False)
        check(lambda t, e: t.isin(e, t.tensor(v).to(t.int8)), inputs=[u8], grad=False)
        check(lambda t, e: t.isin(e, t.tensor([v]).to(t.int8)), inputs=[u8], grad=False)
    tenth = np.array([0.1, 0.2], np.float32)
    check(lambda t, e: t.isin(e, t.tensor([0.1], dtype=t.float64)), inputs=[tenth], grad=False)
    check(lambda t, e: t.isin(e, t.tensor(0.1, dtype=t.float64)), inputs=[tenth], grad=False)
    check(lambda t, e: t.isin(e, 0.1), inputs=[tenth], grad=False)
    check(lambda t, e: t.isin(e.double(), t.tensor([0.1])), inputs=[tenth], grad=False)
    check(lambda t, e: t.isin(e.to(t.uint16), 255), inputs=[u8], grad=False)


def test_isin_sizes():
    # empty operands, and a test set large enough for torch's sort-based algorithm
    rng = np.random.default_rng(6)
    e = np.concatenate([rng.integers(0, 60, 100).astype(np.float64), [NAN, 0.0, -0.0]])
    te = np.concatenate([np.arange(0.0, 400.0, 2.0), [NAN, -0.0]])
    for kw in (dict(), dict(invert=True)):
        check(lambda t, e, s: t.isin(e, s, **kw), inputs=[e, te], grad=False)
        check(lambda t, e, s: t.isin(s, e, **kw), inputs=[e, te], grad=False)
        check(lambda t, e, s: t.isin(e[:0], s, **kw), inputs=[e, te], grad=False)
        check(lambda t, e, s: t.isin(e, s[:0], **kw), inputs=[e, te], grad=False)
        check(lambda t, e, s: t.isin(e.reshape(0, 3, 0), 1.0, **kw), inputs=[e[:0], te],
              grad=False)
    ue, ut = np.unique(e[:100]), np.unique(te[:200])
    check(lambda t, e, s: t.isin(e, s, assume_unique=True), inputs=[ue, ut], grad=False)
    check(lambda t, e, s: t.isin(e.long(), s.long(), assume_unique=True, invert=True),
          inputs=[ue, ut], grad=False)

    def run_out(t, e, s):
        o = t.empty(0, dtype=t.bool)
        r = t.isin(e, s, out=o)
        return r, o, r is o
    check(run_out, inputs=[e, te], grad=False)
    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        assert not lib.isin(x, x).requires_grad


def test_isin_errors():
    x = np.array([1.0, 2.0])
    for fn in [lambda t, x: t.isin(x > 1, x),
               lambda t, x: t.isin(x, x > 1),
               lambda t, x: t.isin(x, True),
               lambda t, x: t.isin(True, x),
               lambda t, x: t.isin(x.to(t.complex64), x),
               lambda t, x: t.isin(x, x.to(t.complex128)),
               lambda t, x: t.isin(1j, x),
               lambda t, x: t.isin(x.to(t.uint16), x.to(t.uint16)),
               lambda t, x: t.isin(x.to(t.uint16), x.long()),
               lambda t, x: t.isin(x, x, out=t.empty(2, dtype=t.int64)),
               lambda t, x: t.isin(x, x, out=t.empty(2)),
               lambda t, x: t.isin(2, 2),
               lambda t, x: t.isin([1.0], x),
               lambda t, x: t.isin(x, x, True)]:
        check_raises(fn, inputs=[x])
    # torch views a few test elements as 1-D (no copy unless their dtype changes): a layout
    # that cannot be flattened without a copy raises
    m = np.arange(24.0).reshape(4, 6)
    for fn in [lambda t, m: t.isin(m[0], m[:2, :2]),
               lambda t, m: t.isin(m[0].long(), m[:2, :2]),
               lambda t, m: t.isin(m[0].int(), m.int()[:2, :2]),
               lambda t, m: t.isin(m[0].int(), m.long()[:2, :2]),
               lambda t, m: t.isin(1.0, m[:2, :2]),
               lambda t, m: t.isin(1, m[:2, :2]),
               lambda t, m: t.isin(m[0, 0], m[:2, :2]),
               lambda t, m: t.isin(m[0], m[0, :3].expand(2, 3)),
               lambda t, m: t.isin(m, m[:3, :3])]:
        check_raises(fn, inputs=[m])
    for fn in [lambda t, m: t.isin(m[0], m.int()[:2, :2]),
               lambda t, m: t.isin(m[0].long(), m.int()[:2, :2]),
               lambda t, m: t.isin(m[0], m.float()[:2, :2]),
               lambda t, m: t.isin(1.0, m.int()[:2, :2]),
               lambda t, m: t.isin(m[0], m[:2, ::2]),
               lambda t, m: t.isin(m[0], m[:3, :4]),
               lambda t, m: t.isin(m[0, :1], m[:2, :5]),
               lambda t, m: t.isin(m[0, :0], m[:2, :2]),
               lambda t, m: t.isin(m[:2, :2], m[:2, :1]),
               lambda t, m: t.isin(m[:2], m[:, :5])]:
        check(fn, inputs=[m], grad=False)


def test_unravel_index():
    check(lambda t, i: t.unravel_index(i, (3, 2)), inputs=[np.array(4)], grad=False)
    check(lambda t, i: t.unravel_index(i, (3, 2)), inputs=[np.arange(6)], grad=False,
          check_stride=True)
    big = np.array([[1234], [5678]])
    for shape in ((10, 10, 10, 10), [100, 100], (10000,), 10000, (2, 5, 7, 3, 11)):
        check(lambda t, i: t.unravel_index(i, shape), inputs=[big], grad=False,
              check_stride=True)
    check(lambda t, i: t.unravel_index(i, t.Size([10, 1000])), inputs=[big], grad=False)
    check(lambda t, i: t.unravel_index(indices=i, shape=(50, 200)), inputs=[big], grad=False)
    # no range check in torch: negative and too large indices wrap around (floor semantics)
    wild = np.array([-1, -6, -7, 6, 13, -100, 2 ** 40])
    check(lambda t, i: t.unravel_index(i, (3, 2)), inputs=[wild], grad=False)
    check(lambda t, i: t.unravel_index(i, 4), inputs=[wild], grad=False)
    for dtype in ("uint8", "int8", "int16", "int32", "int64"):
        check(lambda t, i: t.unravel_index(i, (4, 3, 2)), inputs=[np.arange(24, dtype=dtype)],
              grad=False)
        check(lambda t, i: t.unravel_index(i, (5, 5)),
              inputs=[np.array([-3, 7, 24, 30]).astype(dtype)], grad=False)
    # non-contiguous indices, empty indices, size-1 and zero-size dims, an empty shape
    idx = np.arange(24).reshape(4, 6)
    check(lambda t, i: t.unravel_index(i.t()[::2], (2, 3, 4)), inputs=[idx], grad=False,
          check_stride=True)
    # the results are views of one tensor laid out after the indices' strides, as in torch
    idx3 = np.arange(24).reshape(2, 3, 4)
    for view in (lambda i: i.permute(2, 0, 1), lambda i: i.permute(1, 2, 0)[:, ::2],
                 lambda i: i[:, :1].transpose(0, 1), lambda i: i[0, :1].expand(5, 4).t(),
                 lambda i: i[:, :1].expand(2, 5, 4).permute(1, 2, 0),
                 lambda i: i.reshape(24, 1).t(), lambda i: i.reshape(1, 24, 1).permute(2, 1, 0)):
        check(lambda t, i: t.unravel_index(view(i), (5, 6)), inputs=[idx3], grad=False,
              check_stride=True)
    check(lambda t, i: t.unravel_index(i[:, :0], (2, 3, 4)), inputs=[idx], grad=False)
    check(lambda t, i: t.unravel_index(i, (1, 24, 1)), inputs=[idx], grad=False)
    check(lambda t, i: t.unravel_index(i[:0], (3, 0)), inputs=[idx], grad=False)
    check(lambda t, i: t.unravel_index(i[:0], (0, 3)), inputs=[idx], grad=False)
    check(lambda t, i: t.unravel_index(i, ()), inputs=[idx], grad=False)
    check(lambda t, i: t.unravel_index(i[0, 0], ()), inputs=[idx], grad=False)
    check(lambda t, i: t.unravel_index(i, (True, 24)), inputs=[idx], grad=False)
    check(lambda t, i: t.unravel_index(i, (2 ** 40, 2 ** 20)), inputs=[idx], grad=False)
    r = ember.unravel_index(ember.tensor([4, 1]), (3, 2))
    assert type(r) is tuple and all(x.dtype == ember.int64 for x in r)


def test_unravel_index_errors():
    idx = np.array([1, 4])
    for fn in [lambda t, i: t.unravel_index(i.float(), (3, 2)),
               lambda t, i: t.unravel_index(i > 1, (3, 2)),
               lambda t, i: t.unravel_index(i.to(t.complex64), (3, 2)),
               lambda t, i: t.unravel_index(i, (3, 2.0)),
               lambda t, i: t.unravel_index(i, (3, None)),
               lambda t, i: t.unravel_index(i, (3, t.tensor(2))),
               lambda t, i: t.unravel_index(i, t.tensor([3, 2])),
               lambda t, i: t.unravel_index(i, 6.0),
               lambda t, i: t.unravel_index(i, "32"),
               lambda t, i: t.unravel_index(i, (3, -2)),
               lambda t, i: t.unravel_index(i, -1),
               lambda t, i: t.unravel_index(i, (3, 0)),
               lambda t, i: t.unravel_index(i, (0, 3)),
               lambda t, i: t.unravel_index(i, 0),
               lambda t, i: t.unravel_index(i, (2 ** 40, 2 ** 40, 2 ** 40)),
               lambda t, i: t.unravel_index(i[:0], (2 ** 40, 2 ** 40, 2 ** 40)),
               lambda t, i: t.unravel_index(i.to(t.uint16), (3, 2)),
               lambda t, i: t.unravel_index(4, (3, 2)),
               lambda t, i: t.unravel_index(i, (3, 2), 1)]:
        check_raises(fn, inputs=[idx])


def test_search_functions_have_no_tensor_methods():
    for name in ("searchsorted", "bucketize", "isin", "unravel_index"):
        assert hasattr(ember, name)
        assert hasattr(ember.Tensor, name) == hasattr(torch.Tensor, name), name


def test_quantile_with_infinities_uses_torchs_lerp():
    """quantile interpolates with torch's lerp (from the nearer end), so infinite neighbours
    give torch's -inf/NaN rather than NaN/inf."""
    x = np.array([[np.inf, -np.inf, 1.0], [np.inf, np.inf, 3.0], [-np.inf, 2.0, 5.0],
                  [0.1, 0.2, 0.3]], np.float32)
    for q in (0.3, 0.5, 0.75, 1.0):
        check(lambda t, v: t.quantile(v, q, 1), inputs=[x], grad=False)
        check(lambda t, v: t.nanquantile(v, q, 1), inputs=[x], grad=False)
    s, e = np.float32([0.1, -np.inf, 1, 3, 0.3]), np.float32([0.3, 1, np.inf, np.inf, 0.1])
    for w in (0.0, 0.3, 0.5, 0.7, 1.0):
        t_out = torch.lerp(torch.tensor(s), torch.tensor(e), w).numpy()
        e_out = ember.lerp(ember.tensor(s), ember.tensor(e), w).numpy()
        np.testing.assert_array_equal(e_out, t_out)   # bit for bit, NaN where torch's is
