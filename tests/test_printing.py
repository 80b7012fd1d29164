"""Tensor printing against torch: repr and str must be torch's text with "torch." -> "ember."."""
import math

import ml_dtypes
import numpy as np
import pytest
import torch

import ember

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128")
FLOATS = ("float16", "bfloat16", "float32", "float64")
COMPLEX = ("complex64", "complex128")


@pytest.fixture(autouse=True)
def _reset_options():
    yield
    torch.set_printoptions(profile="default")
    ember.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    ember.set_default_dtype(ember.float32)


# ---------------------------------------------------------------------------------------------
# Helpers

def np_array(values, dtype):
    """`values` (array-like, float64 or complex) as a NumPy array of `dtype` (ml_dtypes bf16)."""
    a = np.asarray(values)
    if dtype == "bfloat16":
        return a.real.astype(ml_dtypes.bfloat16)
    if dtype == "bool":
        return np.asarray(a.real != 0)
    if dtype in ("uint8",) or dtype.startswith("int"):
        with np.errstate(invalid="ignore"):   # nan to int: whatever NumPy gives, both get it
            return np.asarray(a.real).astype(dtype)
    if not dtype.startswith("complex"):
        a = a.real
    with np.errstate(over="ignore", invalid="ignore"):   # inf in float16, nan in ints: kept
        return a.astype(dtype)


def pair(a):
    """The same NumPy data as a torch and an ember tensor."""
    if a.dtype == ml_dtypes.bfloat16:
        t = torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16)
    else:
        t = torch.from_numpy(a.copy())
    return t, ember.tensor(a.copy())


def assert_prints_same(t, e):
    expected_repr = repr(t).replace("torch.", "ember.")
    assert repr(e) == expected_repr
    assert str(e) == str(t).replace("torch.", "ember.")
    if t.dim():   # a 0-d tensor formats its item(), not its repr
        assert f"{e}" == f"{t}".replace("torch.", "ember.")


def check_print(values, dtype="float32", transform=None):
    t, e = pair(np_array(values, dtype))
    if transform is not None:
        t, e = transform(torch, t), transform(ember, e)
    assert_prints_same(t, e)


def random_values(shape, scale=1.0, seed=0, kind="normal"):
    rng = np.random.default_rng(seed)
    if kind == "int":
        return rng.integers(-50, 50, size=shape).astype(np.float64)
    a = rng.standard_normal(shape) * scale
    b = rng.standard_normal(shape) * scale
    return a + 1j * b


# ---------------------------------------------------------------------------------------------
# dtypes x shapes

SHAPES = [(), (1,), (5,), (3, 4), (2, 3, 4), (1, 1, 1), (2, 1, 3, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_dtypes_and_shapes(dtype, shape):
    check_print(random_values(shape, scale=3.0, seed=len(shape)), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5,), (3, 4)])
def test_integer_valued(dtype, shape):
    check_print(random_values(shape, kind="int"), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 3), (3, 0)])
def test_empty(dtype, shape):
    check_print(np.zeros(shape), dtype)


@pytest.mark.parametrize("default", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_default_dtype_decides_suffix(default, dtype):
    torch.set_default_dtype(getattr(torch, default))
    ember.set_default_dtype(getattr(ember, default))
    check_print([1.5, -2.0, 3.25], dtype)
    check_print(np.zeros((0,)), dtype)
    check_print(np.zeros((2, 0)), dtype)


# ---------------------------------------------------------------------------------------------
# Notation: integer mode, fixed, scientific

SCALES = [1e-12, 1e-6, 1e-4, 1e-3, 0.1, 1.0, 10.0, 999.0, 1e4, 1e7, 1e8, 1e9, 1e20, 1e30]


@pytest.mark.parametrize("dtype", FLOATS + COMPLEX)
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("shape", [(), (7,), (3, 5)])
def test_magnitudes(dtype, scale, shape):
    if dtype == "float16" and scale > 6e4:
        scale = 6e4   # beyond float16's range everything is inf
    check_print(random_values(shape, scale=scale, seed=int(math.log10(scale) + 20)), dtype)


@pytest.mark.parametrize("dtype", ("float32", "float64", "bfloat16", "float16", "complex64"))
@pytest.mark.parametrize("values", [
    [1.0, 2.0, 3.0], [0.0, -0.0], [0.0], [-0.0, 1.0], [1e8, 1.0], [1e8 + 1, 1.0], [1e9, 2.0],
    [1000.0, 1.0], [1001.0, 1.0], [1e-4, 1.0], [9.9e-5, 1.0], [0.1, 100.0], [0.1, 100.1],
    [1e-4, 0.1], [0.5, 1000.0], [123456.0, 0.5], [99999.0, 100.0], [1.0, -1.0, 0.5],
    [9.99995, 1.0], [0.99999, 2.0], [-1e-5], [1e10], [-1e10], [12345678.0], [-7.0],
    [float("nan")], [float("inf"), float("-inf")], [float("nan"), 1.0, float("-inf"), 0.0],
    [float("nan"), 1.5, float("inf")], [float("inf"), 1e-6], [float("nan"), -1e9, 0.0],
    [0.0, 0.0, 0.0], [-0.0, float("nan")],
])
def test_special_values(dtype, values):
    check_print(values, dtype)
    check_print(values[:1], dtype, transform=lambda m, x: x.reshape(()))


@pytest.mark.parametrize("values", [
    [1 + 1j, 2 - 3j], [0.5 - 0.25j, 1e-5j], [complex("nan+1j"), complex(1, float("inf"))],
    [1e9 + 1j, 1 - 1j], [-0.0 - 0.0j, 1j], [complex(1, float("nan")), 3 + 0j], [1 + 1e-7j, 1j],
])
@pytest.mark.parametrize("dtype", COMPLEX)
def test_complex_parts(values, dtype):
    check_print(values, dtype)


@pytest.mark.parametrize("dtype", ("int64", "int32", "uint8", "int8", "int16"))
def test_integer_extremes(dtype):
    info = np.iinfo(dtype)
    for values in ([info.min, 0, info.max], [info.max], [info.min, 1], [0, 1, 10]):
        t, e = pair(np.array(values, dtype=dtype))
        assert_prints_same(t, e)


# ---------------------------------------------------------------------------------------------
# Summarising and line wrapping

@pytest.mark.parametrize("dtype", ("float32", "int64", "complex64", "bool", "bfloat16"))
@pytest.mark.parametrize("shape", [(1001,), (2000,), (40, 50), (10, 10, 11), (3, 400), (400, 3),
                                   (2, 3, 200), (1, 1001), (7, 7, 7, 7)])
def test_summarised(dtype, shape):
    check_print(random_values(shape, scale=5.0, seed=3), dtype)


@pytest.mark.parametrize("n", [1, 10, 11, 12, 13, 20, 40, 81, 100, 333])
@pytest.mark.parametrize("dtype", ("float32", "int64", "complex128", "bool", "int8"))
def test_wrapping_1d(n, dtype):
    check_print(random_values((n,), scale=50.0, seed=n), dtype)


@pytest.mark.parametrize("shape", [(2, 30), (3, 2, 25), (2, 2, 2, 17)])
@pytest.mark.parametrize("scale", [1.0, 1e-6, 1e6])
def test_wrapping_nd(shape, scale):
    check_print(random_values(shape, scale=scale), "float64")
    check_print(random_values(shape, scale=scale), "complex64")


def test_summarised_values_decide_the_format():
    # the hidden middle holds a huge value and a fraction: only the shown ends count
    a = np.ones(2001)
    a[1000], a[1001] = 1e12, 0.5
    check_print(a)
    b = np.ones((50, 50))
    b[25, 25] = 1e-9
    check_print(b)


# ---------------------------------------------------------------------------------------------
# Non-contiguous tensors

@pytest.mark.parametrize("dtype", ("float32", "int32", "complex64", "float16"))
@pytest.mark.parametrize("view", [
    lambda m, x: x.t(),
    lambda m, x: x[::2],
    lambda m, x: x[:, 1::3],
    lambda m, x: x.transpose(0, 1)[1:],
    lambda m, x: x[1],
    lambda m, x: x[:, 2],
    lambda m, x: x[0:1].flip((1,)),
    lambda m, x: x.unsqueeze(1).expand(5, 3, 7),
])
def test_non_contiguous(dtype, view):
    check_print(random_values((5, 7), scale=10.0, seed=11), dtype, transform=view)


def test_large_expanded_view():
    check_print(random_values((1, 40)), transform=lambda m, x: x.expand(50, 40))


# ---------------------------------------------------------------------------------------------
# Autograd suffixes

@pytest.mark.parametrize("dtype", ("float32", "float64", "float16", "complex64"))
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (12,), (3, 9), (0,), (2, 0)])
def test_requires_grad(dtype, shape):
    check_print(random_values(shape, seed=5), dtype, transform=lambda m, x: x.requires_grad_())


@pytest.mark.parametrize("op", [
    lambda x: x + 1, lambda x: x * 2, lambda x: x.sum(), lambda x: x.exp(), lambda x: x[0],
    lambda x: x.view(-1), lambda x: x.mean(),
])
@pytest.mark.parametrize("shape", [(2, 3), (3, 9), (2, 13)])
@pytest.mark.parametrize("dtype", ("float32", "float64"))
def test_grad_fn(op, shape, dtype):
    t, e = pair(np_array(random_values(shape, seed=9), dtype))
    assert_prints_same(op(t.requires_grad_()), op(e.requires_grad_()))


def test_suffix_wraps_to_new_line():
    # the last line is long enough that dtype= and grad_fn= each move to a new line
    for n in range(1, 12):
        t, e = pair(np.linspace(-1, 1, n).astype(np.float64))
        assert_prints_same(t.requires_grad_() * 1, e.requires_grad_() * 1)
        t, e = pair(np.linspace(-1000, 1000, n * 3).reshape(3, n).astype(np.float16))
        assert_prints_same(t.requires_grad_() + 0, e.requires_grad_() + 0)


def test_detached_and_no_grad():
    t, e = pair(np.array([1.0, 2.0], np.float32))
    t.requires_grad_()
    e.requires_grad_()
    assert_prints_same(t.detach(), e.detach())
    with torch.no_grad():
        tt = t * 2
    with ember.no_grad():
        ee = e * 2
    assert_prints_same(tt, ee)


# ---------------------------------------------------------------------------------------------
# Parameter and subclasses

@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (0,), (20, 30)])
@pytest.mark.parametrize("requires_grad", [True, False])
def test_parameter(shape, requires_grad):
    a = np_array(random_values(shape, seed=2), "float32")
    t, e = pair(a)
    pt = torch.nn.Parameter(t, requires_grad=requires_grad)
    pe = ember.nn.Parameter(e, requires_grad=requires_grad)
    assert_prints_same(pt, pe)
    assert repr(pe).startswith("Parameter containing:\n")


def test_parameter_dtype():
    t, e = pair(np.array([1.5, 2.5], np.float64))
    assert_prints_same(torch.nn.Parameter(t), ember.nn.Parameter(e))


def test_subclass_prefix():
    class MyTensor(torch.Tensor):
        pass

    class MyEmber(ember.Tensor):
        __slots__ = ()

    MyEmber.__name__ = "MyTensor"
    t, e = MyTensor([1.5, 2.0]), MyEmber([1.5, 2.0])
    assert type(e) is MyEmber
    assert repr(e) == repr(t)


def test_tensor_contents():
    t, e = pair(np.array([[1.0, 2.0]], np.float64))
    assert e.__repr__(tensor_contents="[...]") == t.__repr__(tensor_contents="[...]").replace(
        "torch.", "ember.")


# ---------------------------------------------------------------------------------------------
# set_printoptions

OPTIONS = [
    dict(precision=2), dict(precision=0), dict(precision=8), dict(precision=12),
    dict(threshold=5), dict(threshold=0), dict(threshold=20, edgeitems=1),
    dict(threshold=5, edgeitems=0), dict(edgeitems=0), dict(edgeitems=5, threshold=10),
    dict(linewidth=20), dict(linewidth=1), dict(linewidth=200), dict(linewidth=40, precision=2),
    dict(profile="short"), dict(profile="full"), dict(profile="default"),
    dict(profile="short", precision=6), dict(profile="full", linewidth=120),
    dict(sci_mode=True), dict(sci_mode=False), dict(sci_mode=True, precision=2),
    dict(profile="unknown"),
]
CASES = [
    ("float32", (7,), 1.0), ("float64", (4, 6), 1e-6), ("float32", (3, 5), 1e9),
    ("int64", (12,), 1.0), ("complex64", (2, 5), 1.0), ("bool", (9,), 1.0),
    ("float64", (30, 40), 1.0), ("float32", (3, 4, 50), 100.0), ("bfloat16", (25,), 1.0),
    ("float32", (), 1.0), ("float64", (), 1e-9),
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("case", CASES)
def test_printoptions(options, case):
    dtype, shape, scale = case
    torch.set_printoptions(**options)
    ember.set_printoptions(**options)
    check_print(random_values(shape, scale=scale, seed=len(shape)), dtype)
    check_print([1.0, 2.0, float("nan"), 0.0], dtype)
    check_print(np.zeros((0, 2)), dtype)


@pytest.mark.parametrize("options", OPTIONS)
def test_printoptions_state(options):
    from ember._printing import get_printoptions
    from torch._tensor_str import get_printoptions as torch_get_printoptions
    torch.set_printoptions(**options)
    ember.set_printoptions(**options)
    assert get_printoptions() == torch_get_printoptions()


def test_sci_mode_resets_on_every_call():
    ember.set_printoptions(sci_mode=True)
    torch.set_printoptions(sci_mode=True)
    ember.set_printoptions(precision=3)
    torch.set_printoptions(precision=3)
    check_print([1.5, 2.25])


def test_printoptions_context():
    from ember._printing import get_printoptions, printoptions
    before = get_printoptions()
    with printoptions(precision=1, sci_mode=True):
        assert repr(ember.tensor([1.25, 3.5])) == "tensor([1.2e+00, 3.5e+00])"
    assert get_printoptions() == before


def test_set_printoptions_returns_none():
    assert ember.set_printoptions(precision=4) is None
