"""Random sampling against torch: shapes, dtypes, errors, autograd, determinism and loose
statistics. ember's streams differ from torch's (different bit generator), so values are compared
only through statistics with fixed seeds, never element by element."""
import copy
import pickle

import numpy as np
import pytest
import torch

import ember
from oracle import check_raises, dtype_name, same_message

T, E = torch, ember


def meta(fn):
    """fn(torch) and fn(ember) give results of the same shape, dtype and requires_grad."""
    t_out, e_out = fn(T), fn(E)
    assert isinstance(e_out, E.Tensor)
    assert tuple(e_out.shape) == tuple(t_out.shape)
    assert dtype_name(e_out.dtype) == dtype_name(t_out.dtype)
    assert e_out.requires_grad == t_out.requires_grad
    return t_out, e_out


def arr(x):
    a = x.detach().numpy()
    return a.astype(np.float64) if a.dtype.name == "bfloat16" else a


# ---------------------------------------------------------------------------------------------
# Factories: shapes and dtypes

FACTORY_CASES = [
    lambda t: t.rand(2, 3),
    lambda t: t.rand((2, 3)),
    lambda t: t.rand([4]),
    lambda t: t.rand(size=(2, 1)),
    lambda t: t.rand(()),
    lambda t: t.rand(0, 3),
    lambda t: t.rand(2, dtype=t.float64),
    lambda t: t.rand(2, dtype=t.float16),
    lambda t: t.rand(2, dtype=t.bfloat16),
    lambda t: t.rand(3, dtype=t.complex64),
    lambda t: t.rand(3, requires_grad=True),
    lambda t: t.rand(t.Size([2, 2])),
    lambda t: t.randn(4, 5),
    lambda t: t.randn(2, dtype=t.float64, requires_grad=True),
    lambda t: t.randn(2, dtype=t.complex128),
    lambda t: t.randn(3, dtype=t.float16),
    lambda t: t.randint(5, (3,)),
    lambda t: t.randint(2, 5, (3, 2)),
    lambda t: t.randint(high=5, size=(3,)),
    lambda t: t.randint(low=1, high=5, size=(3,)),
    lambda t: t.randint(0, 3, []),
    lambda t: t.randint(0, 256, (4,), dtype=t.uint8),
    lambda t: t.randint(-128, 128, (4,), dtype=t.int8),
    lambda t: t.randint(0, 2, (3,), dtype=t.bool),
    lambda t: t.randint(0, 9, (3,), dtype=t.float32),
    lambda t: t.randint(0, 9, (3,), dtype=t.int32),
    lambda t: t.randint(3, t.Size([2])),
    lambda t: t.randperm(5),
    lambda t: t.randperm(0),
    lambda t: t.randperm(5, dtype=t.float32),
    lambda t: t.randperm(5, dtype=t.int16),
    lambda t: t.randperm(2049, dtype=t.float16),
    lambda t: t.rand_like(t.zeros(2, 3)),
    lambda t: t.rand_like(t.zeros(2, 3, dtype=t.float64)),
    lambda t: t.rand_like(t.zeros(2, 3, dtype=t.int64), dtype=t.float32),
    lambda t: t.randn_like(t.zeros(2, 3), requires_grad=True),
    lambda t: t.randn_like(t.zeros((), dtype=t.complex64)),
    lambda t: t.randint_like(t.zeros(2, 3), 5),
    lambda t: t.randint_like(t.zeros(2, dtype=t.int32), 2, 7),
    lambda t: t.randint_like(t.zeros(2), low=1, high=4),
    lambda t: t.normal(t.zeros(2, 3), t.ones(3)),
    lambda t: t.normal(t.zeros(1, 2), t.ones(3, 1)),
    lambda t: t.normal(t.zeros(2, dtype=t.float64), t.ones(2)),
    lambda t: t.normal(t.zeros(2), t.ones(2, dtype=t.float64)),
    lambda t: t.normal(t.zeros(2), t.ones(2, dtype=t.int64)),
    lambda t: t.normal(t.zeros(2, 3), 2.0),
    lambda t: t.normal(t.zeros(2, dtype=t.float16), 1.0),
    lambda t: t.normal(t.zeros(2, dtype=t.complex64), 1.0),
    lambda t: t.normal(t.zeros(4)),
    lambda t: t.normal(0.0, t.ones(2, 2)),
    lambda t: t.normal(0.0, t.ones(2, dtype=t.float64)),
    lambda t: t.normal(0.0, 1.0, (2, 3)),
    lambda t: t.normal(0, 1, (2,)),
    lambda t: t.normal(1.0, 2.0, size=(3,), dtype=t.float64),
    lambda t: t.normal(t.zeros(2), t.zeros(2)),
    lambda t: t.bernoulli(t.full((3, 2), 0.5)),
    lambda t: t.bernoulli(t.zeros(2, dtype=t.float64)),
    lambda t: t.bernoulli(t.zeros(2, dtype=t.float16)),
    lambda t: t.bernoulli(t.zeros(3), 0.5),
    lambda t: t.bernoulli(t.zeros(3, dtype=t.int64), 0.5),
    lambda t: t.bernoulli(t.zeros(3, dtype=t.bool), p=0.3),
    lambda t: t.bernoulli(t.zeros(0)),
    lambda t: t.multinomial(t.tensor([1.0, 2.0, 3.0]), 2),
    lambda t: t.multinomial(t.tensor([1.0, 2.0, 3.0]), 5, True),
    lambda t: t.multinomial(t.ones(4, 3), 2),
    lambda t: t.multinomial(t.ones(4, 3, dtype=t.float64), 7, replacement=True),
    lambda t: t.multinomial(t.ones(0, 3), 1),
    lambda t: t.multinomial(t.ones(3, dtype=t.float16), 3),
    lambda t: t.poisson(t.tensor([1.0, 2.0])),
    lambda t: t.poisson(t.tensor(3.0)),
    lambda t: t.poisson(t.zeros(2, 2, dtype=t.float64)),
    lambda t: t.poisson(t.zeros(2, dtype=t.bfloat16)),
    lambda t: t.ones(3, 4).bernoulli(),
    lambda t: t.ones(3, 4).bernoulli(0.3),
    lambda t: t.ones(3, 4).multinomial(2),
    lambda t: t.zeros(3).bernoulli_(t.full((3,), 0.5, requires_grad=True)),
    lambda t: t.zeros(()).uniform_(),
    lambda t: t.zeros(3).random_(t.tensor(2), t.tensor(5)),
    lambda t: t.normal(t.zeros(()), t.ones(3)),
    lambda t: t.normal(0.0, 1.0, (2,), requires_grad=True),
    lambda t: t.randperm(5, dtype=t.float32, requires_grad=True),
    lambda t: t.randint(3, (2,), dtype=t.float32, requires_grad=True),
    lambda t: t.randint(0, 2 ** 63 - 1, (2,)),
    lambda t: t.randint(-2 ** 63, 0, (2,)),
    lambda t: t.normal(t.zeros(2), t.ones(2), out=t.zeros(0)),
    lambda t: t.normal(t.zeros(2), 1.0, out=t.zeros(2, dtype=t.float64)),
    lambda t: t.multinomial(t.ones(3), 2, True, out=t.zeros(5, dtype=t.int64)),
    lambda t: t.poisson(t.ones(3), t.Generator()),
    lambda t: t.bernoulli(t.full((3, 4), 0.5).t()),          # non-contiguous inputs
    lambda t: t.multinomial(t.ones(3, 4).t(), 2),
    lambda t: t.poisson(t.ones(3, 4).t()[1:]),
    lambda t: t.normal(t.zeros(4, 3).t(), t.ones(3, 4)[:, :1]),
    lambda t: t.randn_like(t.zeros(4, 3)[::2]),
]


@pytest.mark.parametrize("fn", FACTORY_CASES)
def test_factory_meta(fn):
    meta(fn)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8"])
def test_out_argument(dtype):
    if dtype in ("float32", "float64"):
        for f in (lambda t, o: t.rand(3, 2, out=o), lambda t, o: t.randn(3, 2, out=o),
                  lambda t, o: t.normal(0.0, 1.0, (3, 2), out=o)):
            o = E.zeros(3, 2, dtype=getattr(E, dtype))
            r = f(E, o)
            assert r is o and r.dtype is getattr(E, dtype) and r._version > 0
    o = E.zeros(3, 2, dtype=getattr(E, dtype))
    r = E.randint(0, 5, (3, 2), out=o)
    assert r is o and r.dtype is getattr(E, dtype)
    assert ((arr(o) >= 0) & (arr(o) < 5)).all()
    o = E.zeros(0, dtype=getattr(E, dtype))   # an empty out is resized silently
    E.randperm(6, out=o)
    assert tuple(o.shape) == (6,) and sorted(arr(o).tolist()) == list(range(6))


def test_out_bernoulli_multinomial():
    o = E.zeros(4, dtype=E.int64)
    assert E.bernoulli(E.full((4,), 1.0), out=o) is o and arr(o).tolist() == [1, 1, 1, 1]
    o = E.zeros(2, dtype=E.int64)
    assert E.multinomial(E.tensor([0.0, 1.0]), 2, True, out=o) is o
    assert arr(o).tolist() == [1, 1]


def test_default_dtype_respected():
    prev = E.get_default_dtype()
    try:
        E.set_default_dtype(E.float64)
        assert E.rand(2).dtype is E.float64
        assert E.randn(2).dtype is E.float64
        assert E.normal(0.0, 1.0, (2,)).dtype is E.float64
        assert E.randint(3, (2,)).dtype is E.int64
    finally:
        E.set_default_dtype(prev)


def test_rand_like_preserves_layout():
    meta(lambda t: t.rand_like(t.zeros(3, 4).t()))
    x = E.zeros(3, 4).t()
    assert E.rand_like(x).stride() == T.rand_like(T.zeros(3, 4).t()).stride()


# ---------------------------------------------------------------------------------------------
# Errors: the same exception types (and messages where torch's are meaningful)

ERROR_CASES = [
    lambda t: t.rand(-1),
    lambda t: t.rand(2, -3),
    lambda t: t.rand(2, 3.5),
    lambda t: t.rand(),
    lambda t: t.rand(2, dtype=t.int64),
    lambda t: t.rand(2, dtype=t.bool),
    lambda t: t.rand(2, generator=1),
    lambda t: t.randn(2, dtype=t.int32),
    lambda t: t.rand(3, out=t.zeros(3), dtype=t.float64),
    lambda t: t.rand(3, out=t.zeros(3, dtype=t.int64)),
    lambda t: t.randint(3, (3,), requires_grad=True),
    lambda t: t.randint(5, 5, (3,)),
    lambda t: t.randint(5, 2, (3,)),
    lambda t: t.randint(5, 3),
    lambda t: t.randint(3, size=5),
    lambda t: t.randint(5.5, (3,)),
    lambda t: t.randint(300, (3,), dtype=t.uint8),
    lambda t: t.randint(-1, 2, (3,), dtype=t.uint8),
    lambda t: t.randint(0, 3, (3,), dtype=t.bool),
    lambda t: t.randint(0, 2, (-1,)),
    lambda t: t.randperm(-1),
    lambda t: t.randperm(3.0),
    lambda t: t.randperm(5, dtype=t.bool),
    lambda t: t.randperm(300, dtype=t.uint8),
    lambda t: t.randperm(3000, dtype=t.float16),
    lambda t: t.rand_like(t.zeros(2, dtype=t.int64)),
    lambda t: t.randn_like(t.zeros(2, dtype=t.int64)),
    lambda t: t.randint_like(t.zeros(2, dtype=t.bool), 5),
    lambda t: t.randint_like(t.zeros(2, dtype=t.uint8), 300),
    lambda t: t.randint_like(t.zeros(2), 4, 2),
    lambda t: t.normal(t.zeros(2, 3), t.ones(4)),
    lambda t: t.normal(t.zeros(2), -1.0),
    lambda t: t.normal(0.0, -1.0, (2,)),
    lambda t: t.normal(t.zeros(2), -t.ones(2)),
    lambda t: t.normal(0.0, -t.ones(2)),
    lambda t: t.normal(t.zeros(2, dtype=t.int64), 1.0),
    lambda t: t.normal(0.0, t.ones(2, dtype=t.int64)),
    lambda t: t.normal(0.0, 1.0),
    lambda t: t.normal(0.0, 1.0, 2),
    lambda t: t.normal(0.0, t.ones(2), (2,)),
    lambda t: t.bernoulli(t.tensor([0.0, 1.5])),
    lambda t: t.bernoulli(t.tensor([-0.1])),
    lambda t: t.bernoulli(t.tensor([float("nan")])),
    lambda t: t.bernoulli(t.tensor([0, 1])),
    lambda t: t.bernoulli(t.tensor([True])),
    lambda t: t.bernoulli(t.zeros(3), 1.5),
    lambda t: t.bernoulli(t.zeros(3), -0.5),
    lambda t: t.multinomial(t.tensor([1.0, 2.0, 3.0]), 4),
    lambda t: t.multinomial(t.tensor([1.0, -2.0, 3.0]), 1),
    lambda t: t.multinomial(t.tensor([1.0, float("inf")]), 1),
    lambda t: t.multinomial(t.tensor([1.0, float("nan")]), 1),
    lambda t: t.multinomial(t.tensor([0.0, 0.0]), 1),
    lambda t: t.multinomial(t.tensor([[1.0, 0.0], [0.0, 0.0]]), 1, True),
    lambda t: t.multinomial(t.tensor([1, 2]), 1),
    lambda t: t.multinomial(t.ones(2, 2, 3), 2),
    lambda t: t.multinomial(t.tensor(1.0), 1),
    lambda t: t.multinomial(t.ones(3), 0),
    lambda t: t.multinomial(t.ones(3), -1, True),
    lambda t: t.multinomial(t.ones(3), 2.0),
    lambda t: t.multinomial(t.ones(3), 2, out=t.zeros(2, dtype=t.int32)),
    lambda t: t.poisson(t.tensor([-1.0])),
    lambda t: t.poisson(t.tensor([1, 2])),
    lambda t: t.Generator("cuda"),
    lambda t: t.Generator().manual_seed(1.5),
    lambda t: t.Generator().manual_seed("a"),
    lambda t: t.Generator().manual_seed(True),
    lambda t: t.Generator().manual_seed(2 ** 64),
    lambda t: t.Generator().manual_seed(-2 ** 63 - 1),
    lambda t: t.manual_seed(2 ** 64),
    lambda t: t.Generator().set_state(t.zeros(3, dtype=t.uint8)),
    lambda t: t.Generator().set_state(t.zeros(3)),
    lambda t: t.Generator().set_state([1]),
    lambda t: t.set_rng_state(t.zeros(3, dtype=t.uint8)),
    lambda t: t.randn(3, device="cuda"),
    lambda t: t.randint(0, 2 ** 63, (2,)),
    lambda t: t.rand(2, out=t.zeros(2, requires_grad=True)),
    lambda t: t.randint(0, 70000, (2,), dtype=t.uint16),
]


@pytest.mark.parametrize("fn", ERROR_CASES)
def test_errors(fn):
    check_raises(fn)


INPLACE_ERROR_CASES = [
    lambda x: x.uniform_(5, 2),
    lambda x: x.uniform_(0, float("inf")),
    lambda x: x.double().uniform_(-1e308, 1e308),
    lambda x: x.uniform_(-3.4e38, 3.4e38),          # to - from past float32's max
    lambda x: x.uniform_(0, 1e39),                  # a bound past the dtype's range
    lambda x: x.half().uniform_(-4e4, 4e4),
    lambda x: x.half().uniform_(-7e4, 0),
    lambda x: x.bfloat16().uniform_(-3.4e38, 3.4e38),
    lambda x: x.cfloat().uniform_(-3.4e38, 3.4e38),
    lambda x: x.cfloat().uniform_(-1e308, 1e308),
    lambda x: x.long().uniform_(),
    lambda x: x.normal_(1, -2),
    lambda x: x.int().normal_(),
    lambda x: x.random_(10, 3),
    lambda x: x.byte().random_(300),
    lambda x: x.random_(0, 2.5),
    lambda x: x.random_(1.5),
    lambda x: x.cfloat().random_(),
    lambda x: x.bernoulli_(1.2),
    lambda x: x.bernoulli_(torch_or_ember(x).full((10,), 0.5)),
    lambda x: x.bernoulli_(torch_or_ember(x).full((1000,), 1.5)),
    lambda x: x.exponential_(-1),
    lambda x: x.exponential_(0),
    lambda x: x.long().exponential_(),
    lambda x: x.geometric_(0),
    lambda x: x.geometric_(1),
    lambda x: x.geometric_(1.5),
    lambda x: x.bool().geometric_(0.5),
    lambda x: x.cauchy_(0, -1),
    lambda x: x.long().cauchy_(),
    lambda x: x.log_normal_(1, -2),
    lambda x: x.log_normal_(1, 0),
    lambda x: x.long().log_normal_(),
    lambda x: x.uniform_(a=1),
    lambda x: x.cfloat().bernoulli_(),
    lambda x: x.short().random_(0, 2 ** 16),
    lambda x: x.random_(0, 2 ** 64),
    lambda x: x.long().random_(0, 2 ** 63 - 1).float().random_(-1, 1.5),
]


def torch_or_ember(x):
    return T if isinstance(x, T.Tensor) else E


@pytest.mark.parametrize("fn", INPLACE_ERROR_CASES)
def test_inplace_errors(fn):
    t_exc, e_exc = check_raises(lambda t: fn(t.zeros(1000)))
    if isinstance(t_exc, (RuntimeError, NotImplementedError)) and "improved" not in str(t_exc):
        assert same_message(t_exc, e_exc), (str(e_exc), str(t_exc))


def test_leaf_requiring_grad_inplace_raises():
    check_raises(lambda t: t.zeros(3, requires_grad=True).uniform_())
    check_raises(lambda t: t.zeros(3, requires_grad=True)[:2].normal_())


@pytest.mark.parametrize("i", [0, 1, 11, 12, 16, 20, 24, 31, 33, 47, 52, 56, 59, 60, 61, 75, 76])
def test_error_messages(i):
    t_exc, e_exc = check_raises(ERROR_CASES[i])
    assert same_message(t_exc, e_exc), (str(e_exc), str(t_exc))


# ---------------------------------------------------------------------------------------------
# In-place fills: dtypes, views, versions, ranges

INPLACE_CASES = [
    ("uniform_", (), "float32"), ("uniform_", (2, 5), "float64"), ("uniform_", (), "float16"),
    ("uniform_", (), "bfloat16"), ("uniform_", (-1, 1), "complex64"),
    ("normal_", (), "float32"), ("normal_", (1, 2), "float64"), ("normal_", (), "complex128"),
    ("random_", (), "float32"), ("random_", (), "int64"), ("random_", (), "uint8"),
    ("random_", (), "bool"), ("random_", (10,), "float32"), ("random_", (3, 10), "int32"),
    ("bernoulli_", (), "float32"), ("bernoulli_", (0.2,), "int64"), ("bernoulli_", (0.5,), "bool"),
    ("exponential_", (2.0,), "float32"), ("exponential_", (), "float16"),
    ("geometric_", (0.5,), "float32"), ("geometric_", (0.3,), "int64"),
    ("cauchy_", (), "float64"), ("log_normal_", (), "float32"),
]


@pytest.mark.parametrize("name,args,dtype", INPLACE_CASES)
def test_inplace_meta_and_views(name, args, dtype):
    base = E.zeros(6, 4, dtype=getattr(E, dtype))
    view = base[:, 1]                     # a non-contiguous view
    before = base._version
    r = getattr(view, name)(*args)
    assert r is view and view.dtype is getattr(E, dtype)
    assert base._version > before         # the shared version counter bumped
    b = arr(base)
    assert (b[:, 0] == 0).all() and (b[:, 2:] == 0).all()   # only the view's column written
    assert np.array_equal(arr(view), b[:, 1])
    t_view = T.zeros(6, 4, dtype=getattr(T, dtype))[:, 1]
    assert dtype_name(getattr(t_view, name)(*args).dtype) == dtype


@pytest.mark.parametrize("dtype,hi", [("float32", 2 ** 24), ("float64", 2 ** 53),
                                      ("float16", 2 ** 11), ("bfloat16", 2 ** 8),
                                      ("uint8", 255), ("int8", 127), ("int16", 2 ** 15 - 1),
                                      ("int64", 2 ** 63 - 1), ("bool", 1)])
def test_random_full_range(dtype, hi):
    x = E.zeros(4000, dtype=getattr(E, dtype)).random_(generator=E.Generator().manual_seed(0))
    a = arr(x).astype(np.float64)
    assert a.min() >= 0 and a.max() <= hi
    assert a.max() > hi * 0.9 and np.all(a == np.round(a))


@pytest.mark.parametrize("fn", [lambda t: t.zeros(3, dtype=t.float16).random_(0, 5000),
                                lambda t: t.zeros(3).random_(-2 ** 25, 0),
                                lambda t: t.randint(0, 2 ** 25, (2,), dtype=t.float32)])
def test_float_precision_warning(fn):
    for t in (T, E):
        with pytest.warns(UserWarning, match="out of bounds"):
            fn(t)


def test_random_forms():
    g = E.Generator().manual_seed(1)
    x = E.zeros(2000)
    assert set(arr(x.random_(5, generator=g)).tolist()) == {0, 1, 2, 3, 4}
    assert set(arr(x.random_(3, 6, generator=g)).tolist()) == {3, 4, 5}
    assert set(arr(x.random_(to=2, generator=g)).tolist()) == {0, 1}
    a = arr(E.zeros(2000, dtype=E.int8).random_(-5, None, generator=g))
    assert a.min() >= -5 and a.max() == 127
    a = arr(x.random_(**{"from": 7, "to": 9}, generator=g))
    assert set(a.tolist()) == {7, 8}


def test_nonleaf_inplace_gets_zero_grad():
    for t in (T, E):
        x = t.ones(3, requires_grad=True)
        for name, args in (("uniform_", ()), ("normal_", ()), ("bernoulli_", (0.5,)),
                           ("exponential_", ()), ("random_", (3,))):
            y = x * 2
            getattr(y, name)(*args)
            assert y.grad_fn is not None and y.requires_grad
            (y * 3).sum().backward()
            assert not np.any(x.grad.numpy())
        with t.no_grad():
            x.uniform_()   # allowed on a leaf under no_grad
        assert x.grad_fn is None


def test_sample_grads_are_zero_like_torch():
    cases = [lambda t, m, s: t.normal(m, s), lambda t, m, s: t.normal(m, 1.5),
             lambda t, m, s: t.normal(0.0, s), lambda t, m, s: t.bernoulli(s.sigmoid() if
                                                                          hasattr(s, "sigmoid")
                                                                          else s * 0.5),
             lambda t, m, s: t.poisson(s)]
    for fn in cases:
        results = []
        for t in (T, E):
            m = t.tensor([[0.1, 0.2, 0.3]], requires_grad=True)
            s = t.tensor([[0.5], [0.4]], requires_grad=True)
            out = fn(t, m, s)
            assert out.requires_grad and out.grad_fn is not None
            out.backward(t.ones(tuple(out.shape)))
            results.append((tuple(out.shape), [None if g is None else tuple(g.shape)
                                               for g in (m.grad, s.grad)],
                            [g is None or not np.any(g.numpy()) for g in (m.grad, s.grad)]))
        assert results[0] == results[1]


def test_inplace_grad_fn_names():
    for name, args in (("uniform_", ()), ("normal_", ()), ("random_", ()), ("random_", (3,)),
                       ("random_", (1, 3)), ("bernoulli_", (0.5,)), ("exponential_", ()),
                       ("geometric_", (0.5,)), ("cauchy_", ()), ("log_normal_", ())):
        names = [type(getattr(t.ones(2, requires_grad=True) * 2, name)(*args).grad_fn).__name__
                 if t is T else getattr(t.ones(2, requires_grad=True) * 2, name)(
                     *args).grad_fn.name() for t in (T, E)]
        assert names[0] == names[1], (name, args, names)


def test_bernoulli_scalar_p_has_no_derivative():
    for t in (T, E):
        m = t.ones(3, requires_grad=True)
        out = t.bernoulli(m, 0.3)
        with pytest.raises(RuntimeError, match="derivative for aten::bernoulli"):
            out.sum().backward()


def test_no_graph_without_grad():
    m = E.zeros(3, requires_grad=True)
    with E.no_grad():
        assert E.normal(m, 1.0).grad_fn is None
    assert E.normal(E.zeros(3), 1.0).grad_fn is None
    assert not E.multinomial(E.rand(3, requires_grad=True), 2).requires_grad


# ---------------------------------------------------------------------------------------------
# Generators, seeding and state

def test_manual_seed_determinism():
    draws = []
    for _ in range(2):
        g = E.manual_seed(123)
        assert g is E.default_generator
        draws.append([arr(E.rand(5)), arr(E.randn(3, 2)), arr(E.randint(0, 100, (4,))),
                      arr(E.randperm(7)), arr(E.normal(E.zeros(3), 2.0)),
                      arr(E.bernoulli(E.full((6,), 0.5))), arr(E.multinomial(E.ones(5), 3)),
                      arr(E.poisson(E.full((4,), 3.0))), arr(E.zeros(5).uniform_(-1, 1)),
                      arr(E.zeros(5).random_())])
    for a, b in zip(*draws):
        assert np.array_equal(a, b)
    assert E.initial_seed() == 123
    assert not np.array_equal(arr(E.rand(5)), draws[0][0])   # the stream moved on


def test_generator_independent_of_default():
    g1, g2 = E.Generator().manual_seed(7), E.Generator(device="cpu").manual_seed(7)
    a = arr(E.rand(4, generator=g1))
    E.rand(10)                                     # default stream does not disturb g2
    assert np.array_equal(a, arr(E.rand(4, generator=g2)))
    x, y = E.zeros(3), E.zeros(3)
    x.normal_(generator=g1)
    y.normal_(generator=g2)
    assert np.array_equal(arr(x), arr(y))
    assert g1.device == E.device("cpu") and str(g1.device) == "cpu"
    assert g1.manual_seed(3) is g1 and g1.initial_seed() == 3


def test_generator_defaults_and_seed_values():
    assert E.Generator().initial_seed() == T.Generator().initial_seed() == 67280421310721
    assert E.Generator().manual_seed(-1).initial_seed() == T.Generator().manual_seed(
        -1).initial_seed()
    assert E.manual_seed(E.tensor(3)).initial_seed() == 3
    assert E.manual_seed(2.0).initial_seed() == 2
    s = E.seed()
    assert isinstance(s, int) and 0 <= s < 2 ** 64 and E.initial_seed() == s
    g = E.Generator()
    s = g.seed()
    assert g.initial_seed() == s


def test_state_round_trip():
    g = E.Generator().manual_seed(11)
    E.rand(3, generator=g)
    st = g.get_state()
    assert st.dtype is E.uint8 and st.dim() == 1
    a = arr(E.randn(8, generator=g))
    g.manual_seed(99)
    assert g.set_state(st) is g
    assert g.initial_seed() == 11
    assert np.array_equal(a, arr(E.randn(8, generator=g)))
    # an odd number of 32-bit draws leaves a buffered half word: it is part of the state
    E.randint(0, 10, (3,), dtype=E.int32, generator=g)
    st = g.get_state()
    b = arr(E.randint(0, 10, (5,), dtype=E.int32, generator=g))
    g.set_state(st)
    assert np.array_equal(b, arr(E.randint(0, 10, (5,), dtype=E.int32, generator=g)))
    # the default generator through the module-level functions
    E.manual_seed(5)
    st = E.get_rng_state()
    a = arr(E.rand(4))
    E.set_rng_state(st)
    assert np.array_equal(a, arr(E.rand(4)))
    assert np.array_equal(arr(E.random.get_rng_state()), arr(E.get_rng_state()))


def test_clone_pickle_deepcopy():
    g = E.Generator().manual_seed(5)
    E.rand(2, generator=g)
    for h in (g.clone_state(), pickle.loads(pickle.dumps(g)), copy.deepcopy(g)):
        assert h is not g and h.initial_seed() == 5
        expected = arr(E.rand(3, generator=g.clone_state()))
        assert np.array_equal(arr(E.rand(3, generator=h)), expected)


def test_fork_rng():
    E.manual_seed(0)
    st = arr(E.get_rng_state())
    with E.random.fork_rng():
        E.rand(10)
        E.manual_seed(99)
    assert np.array_equal(arr(E.get_rng_state()), st) and E.initial_seed() == 0
    with E.random.fork_rng(enabled=False):
        E.rand(3)
    assert not np.array_equal(arr(E.get_rng_state()), st)
    E.manual_seed(0)
    with pytest.raises(ValueError):
        with E.random.fork_rng(devices=[]):
            E.rand(4)
            raise ValueError
    assert np.array_equal(arr(E.get_rng_state()), st)   # restored on exceptions too


def test_random_module_api():
    for name in ("manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
                 "fork_rng", "default_generator", "Generator"):
        assert hasattr(T.random, name) and hasattr(E.random, name)
    assert E.random.default_generator is E.default_generator
    assert E.random.manual_seed(4) is E.default_generator


# ---------------------------------------------------------------------------------------------
# Loose statistics with fixed seeds (thresholds far outside sampling noise)

N = 20000


def gen(seed=0):
    return E.Generator().manual_seed(seed)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_rand_stats(dtype):
    a = arr(E.rand(N, dtype=getattr(E, dtype), generator=gen()))
    assert a.min() >= 0 and a.max() < 1
    assert abs(a.mean() - 0.5) < 0.02 and abs(a.var() - 1 / 12) < 0.01


def test_complex_stats():
    a = arr(E.randn(N, dtype=E.complex64, generator=gen()))
    assert abs(a.real.var() - 0.5) < 0.03 and abs(a.imag.var() - 0.5) < 0.03
    assert abs(np.mean(np.abs(a) ** 2) - 1) < 0.05
    u = arr(E.rand(N, dtype=E.complex128, generator=gen()))
    assert 0 <= u.real.min() and u.real.max() < 1 and abs(u.imag.mean() - 0.5) < 0.02


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_randn_stats(dtype):
    a = arr(E.randn(N, dtype=getattr(E, dtype), generator=gen(1))).astype(np.float64)
    assert abs(a.mean()) < 0.03 and abs(a.std() - 1) < 0.03


def test_normal_overload_stats():
    g = gen(2)
    a = arr(E.normal(E.full((N,), 3.0), E.full((N,), 2.0), generator=g))
    assert abs(a.mean() - 3) < 0.1 and abs(a.std() - 2) < 0.1
    a = arr(E.normal(E.full((N,), -1.0), 0.5, generator=g))
    assert abs(a.mean() + 1) < 0.03 and abs(a.std() - 0.5) < 0.03
    a = arr(E.normal(4.0, E.full((N,), 0.1), generator=g))
    assert abs(a.mean() - 4) < 0.01 and abs(a.std() - 0.1) < 0.01
    a = arr(E.normal(-2.0, 3.0, (N,), generator=g))
    assert abs(a.mean() + 2) < 0.1 and abs(a.std() - 3) < 0.1
    a = arr(E.normal(E.tensor([0.0, 100.0]), E.tensor([[0.0], [1.0]])))   # broadcast
    assert a[0].tolist() == [0.0, 100.0] and abs(a[1, 1] - 100) < 10


def test_randint_randperm_stats():
    a = arr(E.randint(-3, 4, (N,), generator=gen()))
    assert set(a.tolist()) == set(range(-3, 4))
    counts = np.bincount(a + 3)
    assert counts.min() > N / 7 * 0.85
    big = arr(E.randint(0, 2 ** 62, (100,), generator=gen()))
    assert big.max() > 2 ** 60
    p = arr(E.randperm(1000, generator=gen()))
    assert sorted(p.tolist()) == list(range(1000)) and not np.array_equal(p, np.arange(1000))


def test_randint_like_values():
    a = arr(E.randint_like(E.zeros(N, dtype=E.int16), 2, 9, generator=gen()))
    assert a.dtype == np.int16 and set(a.tolist()) == set(range(2, 9))


def test_bernoulli_stats():
    g = gen(3)
    p = np.linspace(0, 1, 5)
    a = arr(E.bernoulli(E.tensor(np.tile(p, (N // 5, 1))), generator=g))
    m = a.mean(axis=0)
    assert m[0] == 0 and m[-1] == 1 and np.allclose(m, p, atol=0.03)
    assert abs(arr(E.bernoulli(E.zeros(N), 0.3, generator=g)).mean() - 0.3) < 0.02
    assert abs(arr(E.zeros(N).bernoulli_(generator=g)).mean() - 0.5) < 0.02
    x = E.zeros(N // 4, 4).bernoulli_(E.tensor([0.0, 0.25, 0.75, 1.0]), generator=g)
    assert np.allclose(arr(x).mean(axis=0), [0, 0.25, 0.75, 1], atol=0.04)


def test_multinomial_stats():
    g = gen(4)
    w = E.tensor([1.0, 0.0, 3.0, 4.0])
    a = arr(E.multinomial(w, N, replacement=True, generator=g))
    freq = np.bincount(a, minlength=4) / N
    assert freq[1] == 0 and np.allclose(freq, [0.125, 0, 0.375, 0.5], atol=0.02)
    rows = E.tensor([[0.0, 0.0, 1.0], [5.0, 5.0, 0.0]], dtype=E.float64)
    a = arr(E.multinomial(rows, 1000, True, generator=g))
    assert (a[0] == 2).all() and set(a[1].tolist()) == {0, 1}
    # without replacement: distinct per row; zero-weight categories only after the others
    a = arr(E.multinomial(E.ones(50, 6), 6, generator=g))
    assert all(sorted(r) == list(range(6)) for r in a.tolist())
    a = arr(E.multinomial(E.tensor([1.0, 0.0, 0.0, 2.0]), 3, generator=g))
    assert sorted(a[:2].tolist()) == [0, 3] and a[2] in (1, 2)
    first = arr(E.multinomial(E.tensor([[1.0, 9.0]] * N), 1, generator=g))
    assert abs(first.mean() - 0.9) < 0.02


def test_poisson_stats():
    a = arr(E.poisson(E.full((N,), 4.0), generator=gen()))
    assert abs(a.mean() - 4) < 0.1 and abs(a.var() - 4) < 0.3 and (a == np.round(a)).all()
    assert (arr(E.poisson(E.zeros(10))) == 0).all()


def test_inplace_distribution_stats():
    g = gen(5)
    x = E.zeros(N)
    a = arr(x.uniform_(-2, 6, generator=g))
    assert a.min() >= -2 and a.max() < 6 and abs(a.mean() - 2) < 0.1
    a = arr(x.normal_(5, 0.5, generator=g))
    assert abs(a.mean() - 5) < 0.02 and abs(a.std() - 0.5) < 0.02
    a = arr(x.exponential_(4.0, generator=g))
    assert a.min() >= 0 and abs(a.mean() - 0.25) < 0.01
    a = arr(x.geometric_(0.25, generator=g))
    assert a.min() >= 1 and abs(a.mean() - 4) < 0.15
    a = arr(x.cauchy_(3.0, 2.0, generator=g))
    assert abs(np.median(a) - 3) < 0.1 and abs(np.subtract(*np.percentile(a, [75, 25])) - 4) < 0.3
    a = arr(x.log_normal_(0.5, 0.25, generator=g))
    assert a.min() > 0 and abs(np.log(a).mean() - 0.5) < 0.01 and abs(np.log(a).std() - 0.25) < 0.01
    a = arr(E.zeros(N, dtype=E.complex64).normal_(1.0, 2.0, generator=g))
    assert abs(a.real.mean() - 1) < 0.05 and abs(a.real.std() - 2 / np.sqrt(2)) < 0.05
