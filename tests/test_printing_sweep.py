"""A sweep of printed texts against torch: every dtype x value family x shape, autograd suffixes,
print options, the default dtype, return_types, Size/dtype/device, Parameter and __format__.

Each case builds the same tensor from NumPy data in both libraries (`lambda m, x: ...` gets the
module and the tensor) and asserts that ember prints torch's text with "torch." -> "ember.".
"""
import pickle

import ml_dtypes
import numpy as np
import pytest
import torch

import ember
from ember._printing import PRINT_OPTS, get_printoptions

# the dtypes, and the autouse fixture restoring print options and the default dtype
from test_printing import DTYPES, _reset_options, pair  # noqa: E402,F401

NAN, INF = float("nan"), float("inf")


# ---------------------------------------------------------------------------------------------
# Helpers

def _complex(real, imag):
    out = np.empty(np.shape(real), np.complex128)
    out.real, out.imag = real, imag   # no inf * 1j: that makes a nan real part
    return out


def as_dtype(values, dtype):
    """float64/complex128 `values` as a NumPy array of `dtype`; ints get nan/inf as 0, clipped."""
    a = np.asarray(values)
    if dtype == "bool":
        return np.asarray(a != 0)
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        r = np.nan_to_num(a.real.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = max(info.min, -2 ** 62), min(info.max, 2 ** 62)   # exact in float64
        return np.asarray(np.clip(r, lo, hi).astype(dtype))
    if not dtype.startswith("complex"):
        a = a.real
    np_dtype = ml_dtypes.bfloat16 if dtype == "bfloat16" else dtype
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(a.astype(np_dtype))


def same(expected, actual):
    assert actual == expected.replace("torch.", "ember."), f"\n{expected}\n---\n{actual}"


def assert_prints_same(t, e, format_0d=True):
    same(repr(t), repr(e))
    if t.numel() <= 100:   # str and f"{}" print the same text again: checked where it is cheap
        same(str(t), str(e))
        if format_0d or t.dim():   # a 0-d tensor formats its item(): every digit of the value
            same(f"{t}", f"{e}")


def check(values, dtype="float32", fn=None, format_0d=True):
    t, e = pair(as_dtype(values, dtype))
    if fn is not None:
        t, e = fn(torch, t), fn(ember, e)
    assert_prints_same(t, e, format_0d)


def both(fn):
    """fn(module) evaluated for torch and ember; their reprs (or exceptions) compared."""
    def run(m):
        try:
            return repr(fn(m))
        except Exception as ex:   # the same exception type and message are part of the contract
            return f"{type(ex).__name__}: {ex}"
    same(run(torch), run(ember))


# ---------------------------------------------------------------------------------------------
# dtypes x value families x shapes

FAMILIES = {
    "normal": lambda r, s: r.standard_normal(s) * 3,
    "ints_as_floats": lambda r, s: r.integers(-50, 50, s).astype(np.float64),
    "big_ints": lambda r, s: r.integers(-10**6, 10**6, s).astype(np.float64),
    "mixed_magnitudes": lambda r, s: r.standard_normal(s) * 10.0 ** r.integers(-6, 9, s),
    "tiny": lambda r, s: r.standard_normal(s) * 1e-30,
    "huge": lambda r, s: r.standard_normal(s) * 1e30,
    "near_1e8": lambda r, s: 1e8 + r.integers(0, 3, s),
    "negative_zero": lambda r, s: np.where(r.random(s) < 0.5, -0.0, 1.5),
    "nonfinite_mixed": lambda r, s: r.choice([NAN, INF, -INF, 1.25, -3.0, 0.0], s),
    "all_nan": lambda r, s: np.full(s, NAN),
    "all_inf": lambda r, s: r.choice([INF, -INF], s),
    "complex_special_imag": lambda r, s: _complex(r.standard_normal(s),
                                                  r.choice([NAN, INF, -INF, 2.0, -0.0, 1e-7], s)),
    "complex_special_real": lambda r, s: _complex(r.choice([NAN, INF, 1.0, 0.0], s),
                                                  r.standard_normal(s) * 1e5),
    "complex_ints": lambda r, s: _complex(r.integers(-5, 5, s), r.integers(-5, 5, s)),
}
SHAPES = [(), (0,), (2, 0, 3), (7,), (3, 4), (2, 3, 4), (2, 1, 2, 3), (30,), (3, 25), (1001,),
          (40, 30), (11, 11, 11)]


REAL_FAMILIES = [f for f in FAMILIES if not f.startswith("complex")]
INT_FAMILIES = ["normal", "big_ints", "huge", "nonfinite_mixed"]
FAMILY_CASES = ([("bool", f) for f in ("normal", "negative_zero")]
                + [(d, f) for d in DTYPES[1:6] for f in INT_FAMILIES]
                + [(d, f) for d in DTYPES[6:10] for f in REAL_FAMILIES]
                + [(d, f) for d in DTYPES[10:] for f in FAMILIES])


@pytest.mark.parametrize("dtype, family", FAMILY_CASES)
def test_dtype_family_shapes(dtype, family):
    rng = np.random.default_rng(len(family) + len(dtype))
    for shape in SHAPES:
        check(FAMILIES[family](rng, shape), dtype)


@pytest.mark.parametrize("values", [
    [1e8], [99999999.0], [1e8 + 1, 1.0], [1000.0, 1.0], [1001.0, 1.0], [1e-4, 1.0], [9.9e-5],
    [0.0001, 1000.0], [0.0001, 1000.1], [9.99995, 1.5], [99.99995, 0.5], [0.99995], [-9.99995],
    [65504.0, 1.0], [5e-324, 1.0], [1.7976931348623157e308, -1.0], [-0.0], [0.0, -0.0, NAN],
])
@pytest.mark.parametrize("dtype", ("float16", "bfloat16", "float32", "float64", "complex128"))
def test_boundaries(values, dtype):
    check(values, dtype)
    check(values[:1], dtype, lambda m, x: x.reshape(()))


@pytest.mark.parametrize("dtype", ("uint8", "int8", "int16", "int32", "int64", "uint16", "uint32",
                                   "uint64"))
def test_integer_limits(dtype):
    info = np.iinfo(dtype)
    a = np.array([info.min, 0, info.max], dtype=dtype)
    for x in (a, a[2:].reshape(()), np.resize(a, 3000)):
        assert_prints_same(torch.from_numpy(x.copy()), ember.from_numpy(x.copy()))


@pytest.mark.parametrize("fn", [
    lambda m, x: x.t(), lambda m, x: x[::2, 1::3], lambda m, x: x.flip(0),
    lambda m, x: x[:1].expand(2000, 7), lambda m, x: x.reshape(5, 7, 1).expand(5, 7, 40),
    lambda m, x: x.reshape(35, 1).expand(35, 40).t(),
])
@pytest.mark.parametrize("dtype", ("float32", "int32", "complex64"))
def test_views(dtype, fn):
    check(np.random.default_rng(1).standard_normal((5, 7)) * 10, dtype, fn)


def test_conjugate_and_negative_views():
    check([1 + 2j, 3 - 1.5j], "complex64", lambda m, x: x.conj())
    check([1 + 2j, 3 - 1.5j], "complex64", lambda m, x: x.conj().imag)
    check([1 + 2j, 3 - 1.5j], "complex128", lambda m, x: x.conj().real)


@pytest.mark.parametrize("dtype", ("float8_e4m3fn", "float8_e5m2"))
def test_float8(dtype):
    for values in ([1e-3, 100.0, 0.5, NAN], [1.0, 2.0, 3.0], [3.5], []):
        both(lambda m: m.tensor(values).to(getattr(m, dtype)))
    both(lambda m: m.tensor(3.5).to(getattr(m, dtype)))


# ---------------------------------------------------------------------------------------------
# The default dtype decides which dtypes are named

@pytest.mark.parametrize("dtype", DTYPES)
def test_default_float64(dtype):
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    rng = np.random.default_rng(4)
    for shape in ((), (0,), (3,), (2, 0), (2, 3), (4, 30)):
        check(rng.standard_normal(shape), dtype)
    if dtype.startswith(("float", "complex")) and dtype not in ("float16", "bfloat16"):
        check([1.5, -2.0], dtype, lambda m, x: x.requires_grad_())
        check(np.linspace(-1, 1, 9), dtype, lambda m, x: x.requires_grad_() * 2)
        check([1.5, -2.0], dtype, lambda m, x: m.nn.Parameter(x))


def test_default_float64_inferred():
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    both(lambda m: m.tensor([1.5, 2.0]))
    both(lambda m: m.tensor([1.5j, 2.0]))
    both(lambda m: m.tensor([[1.0, 2.0], [3.0, 0.0]]).max(1))
    both(lambda m: f"{m.tensor(1 / 3):.3f}")


# ---------------------------------------------------------------------------------------------
# Autograd suffixes

@pytest.mark.parametrize("dtype", ("float16", "bfloat16", "float32", "float64", "complex64",
                                   "complex128"))
def test_requires_grad_leaf(dtype):
    rng = np.random.default_rng(6)
    for shape in ((), (0,), (2, 0), (3,), (12,), (3, 9), (2, 2, 20)):
        check(_complex(rng.standard_normal(shape), rng.standard_normal(shape)), dtype,
              lambda m, x: x.requires_grad_())


OPS = {
    "add": lambda m, x: x + 1, "add_tensor": lambda m, x: x + x, "sub": lambda m, x: x - 1,
    "mul": lambda m, x: x * 2, "rmul": lambda m, x: 2 * x, "div": lambda m, x: x / 3,
    "neg": lambda m, x: -x, "pow": lambda m, x: x ** 2, "exp": lambda m, x: x.exp(),
    "log": lambda m, x: x.abs().log(), "sqrt": lambda m, x: x.abs().sqrt(),
    "sum": lambda m, x: x.sum(), "mean": lambda m, x: x.mean(), "matmul": lambda m, x: x @ x.t(),
    "mm": lambda m, x: m.mm(x, x), "bmm": lambda m, x: m.bmm(x[None], x[None]),
    "relu": lambda m, x: x.relu(), "sigmoid": lambda m, x: x.sigmoid(),
    "tanh": lambda m, x: x.tanh(), "softmax": lambda m, x: x.softmax(1),
    "log_softmax": lambda m, x: x.log_softmax(1), "view": lambda m, x: x.view(-1),
    "reshape": lambda m, x: x.reshape(9), "t": lambda m, x: x.t(),
    "transpose": lambda m, x: x.transpose(0, 1), "permute": lambda m, x: x.permute(1, 0),
    "select": lambda m, x: x[0], "slice": lambda m, x: x[:, 1:], "index": lambda m, x: x[[0, 2]],
    "unsqueeze": lambda m, x: x.unsqueeze(0), "expand": lambda m, x: x[:1].expand(3, 3),
    "cat": lambda m, x: m.cat([x, x]), "stack": lambda m, x: m.stack([x, x]),
    "clone": lambda m, x: x.clone(), "max": lambda m, x: x.max(), "abs": lambda m, x: x.abs(),
    "to_float64": lambda m, x: x.to(m.float64), "norm": lambda m, x: x.norm(),
    "cumsum": lambda m, x: x.cumsum(0), "where": lambda m, x: m.where(x > 0, x, 0.0),
    "mul_": lambda m, x: x.clone().mul_(2), "cross_entropy": lambda m, x:
        m.nn.functional.cross_entropy(x, m.tensor([0, 1, 2])),
    "conv2d": lambda m, x: m.nn.functional.conv2d(x[None, None], x[None, None, :2, :2]),
    "addmm": lambda m, x: m.nn.functional.linear(x, x, x[0]),
}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", ("float32", "float64"))
def test_grad_fn(op, dtype):
    # quarters: sums and products are exact, so no last-bit difference decides a rounding
    a = as_dtype(np.random.default_rng(7).integers(-12, 12, (3, 3)) / 4, dtype)
    # the last bits of a reduction depend on the summation order: 0-d results compare the repr
    check(a, dtype, lambda m, x: OPS[op](m, x.requires_grad_()), format_0d=False)


def test_grad_fn_suffix_wraps():
    for n in range(1, 12):
        check(np.linspace(-1, 1, n), "float64", lambda m, x: x.requires_grad_() * 1)
        check(np.linspace(-1000, 1000, 3 * n).reshape(3, n), "float16",
              lambda m, x: x.requires_grad_() + 0)


def test_no_grad_and_detach():
    check([1.5, 2.0], "float32", lambda m, x: x.requires_grad_().detach())
    check([1.5, 2.0], "float64", lambda m, x: x.requires_grad_().exp().detach())

    def under_no_grad(m, x):
        x.requires_grad_()
        with m.no_grad():
            return x * 2
    check([1.5, 2.0], "float32", under_no_grad)

    def accumulated(m, x):
        x.requires_grad_()
        (x * x).sum().backward()
        return x.grad
    check([1.5, 2.0], "float64", accumulated)


# ---------------------------------------------------------------------------------------------
# set_printoptions

OPTIONS = [
    dict(precision=0), dict(precision=1), dict(precision=2), dict(precision=10),
    dict(threshold=0), dict(threshold=5), dict(threshold=100), dict(edgeitems=0),
    dict(edgeitems=1), dict(edgeitems=5), dict(threshold=10, edgeitems=10), dict(linewidth=1),
    dict(linewidth=30), dict(linewidth=120), dict(linewidth=300), dict(profile="short"),
    dict(profile="full"), dict(profile="default"), dict(profile="short", sci_mode=True),
    dict(profile="full", precision=2), dict(sci_mode=True), dict(sci_mode=False),
    dict(sci_mode=True, precision=1), dict(sci_mode=False, precision=8),
    dict(threshold=3, edgeitems=1, linewidth=20), dict(profile="unknown"),
]
OPTION_CASES = [
    ("float32", "normal"), ("float64", "mixed_magnitudes"), ("float32", "nonfinite_mixed"),
    ("float16", "ints_as_floats"), ("bfloat16", "huge"), ("int64", "big_ints"),
    ("uint8", "ints_as_floats"), ("bool", "normal"), ("complex64", "complex_special_imag"),
    ("float64", "all_nan"), ("float32", "near_1e8"),
]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_printoptions(options):
    torch.set_printoptions(**options)
    ember.set_printoptions(**options)
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    rng = np.random.default_rng(8)
    for dtype, family in OPTION_CASES:
        for shape in ((), (0,), (12,), (4, 6), (2, 3, 9)):
            check(FAMILIES[family](rng, shape), dtype)
    for dtype, family in OPTION_CASES[:2] + OPTION_CASES[-3:-1]:   # past the default threshold
        for shape in ((1200,), (20, 60)):
            check(FAMILIES[family](rng, shape), dtype)
    check(np.linspace(-2, 2, 24).reshape(4, 6), "float32", lambda m, x: x.requires_grad_() * 2)


def test_printoptions_restored_by_profile_default():
    ember.set_printoptions(precision=2, threshold=5, edgeitems=1, linewidth=20, sci_mode=True)
    ember.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    check(np.arange(2000.0) / 7)


def test_print_opts_object():
    assert repr(PRINT_OPTS) == repr(torch._tensor_str.PRINT_OPTS)
    ember.set_printoptions(profile="full", sci_mode=True)
    torch.set_printoptions(profile="full", sci_mode=True)
    assert repr(PRINT_OPTS) == repr(torch._tensor_str.PRINT_OPTS)
    # an unhashable profile is compared, found unequal and ignored, as in torch
    ember.set_printoptions(profile=[], precision=3)
    torch.set_printoptions(profile=[], precision=3)
    assert get_printoptions() == torch._tensor_str.get_printoptions()


def test_tensor_str_module_exposes_options():
    import ember._tensor_str as ts
    with ts.printoptions(precision=1):
        assert ts.get_printoptions()["precision"] == 1
        assert repr(ember.tensor([1.25])) == "tensor([1.2])"
    ts.set_printoptions(linewidth=40)
    assert ts.PRINT_OPTS.linewidth == 40


# ---------------------------------------------------------------------------------------------
# return_types

RETURN_TYPES = {
    "max": lambda m, x: x.max(dim=1), "max_keepdim": lambda m, x: m.max(x, 1, keepdim=True),
    "min": lambda m, x: x.min(0), "sort": lambda m, x: x.sort(dim=0),
    "sort_descending": lambda m, x: m.sort(x, descending=True),
    "topk": lambda m, x: x.topk(2, dim=1), "topk_smallest": lambda m, x: x.topk(3, largest=False),
    "median": lambda m, x: x.median(1), "mode": lambda m, x: x.mode(1),
    "cummax": lambda m, x: x.cummax(1), "cummin": lambda m, x: x.cummin(0),
    "aminmax": lambda m, x: m.aminmax(x, dim=1), "frexp": lambda m, x: m.frexp(x.double()),
    "slogdet": lambda m, x: m.linalg.slogdet(x[:3, :3].double()),
    "qr": lambda m, x: m.linalg.qr(m.eye(3, dtype=m.float64)),
    "eigh": lambda m, x: m.linalg.eigh(m.eye(3, dtype=m.float64)),
    "big": lambda m, x: (x.double() * m.ones(300, 1, 4, dtype=m.float64)).max(2),
    "empty": lambda m, x: m.ones(0, 3).max(1),
    "in_a_list": lambda m, x: [x.max(0), x.min(1)],
}


@pytest.mark.parametrize("case", RETURN_TYPES)
@pytest.mark.parametrize("dtype", ("float32", "int64", "float64"))
def test_return_types(case, dtype):
    t, e = pair(as_dtype(np.random.default_rng(9).permutation(12).reshape(3, 4) - 5.5, dtype))
    r_t, r_e = RETURN_TYPES[case](torch, t), RETURN_TYPES[case](ember, e)
    same(repr(r_t), repr(r_e))
    same(str(r_t), str(r_e))


def test_return_types_with_grad():
    for fn in (lambda x: x.max(0), lambda x: x.sort(), lambda x: x.topk(1, 1),
               lambda x: x.cummax(1), lambda x: x.median(0)):
        t, e = pair(np.array([[3.0, 1.0], [2.0, 8.0]]))
        same(repr(fn(t.requires_grad_())), repr(fn(e.requires_grad_())))


def test_return_types_catalogue():
    names = [c.__name__ for c in torch.return_types.all_return_types]
    assert [c.__name__ for c in ember.return_types.all_return_types] == names
    for name in names:
        cls_t, cls_e = getattr(torch.return_types, name), getattr(ember.return_types, name)
        assert cls_e.__match_args__ == cls_t.__match_args__
        assert (cls_e.n_fields, cls_e.n_sequence_fields, cls_e.n_unnamed_fields) == (
            cls_t.n_fields, cls_t.n_sequence_fields, cls_t.n_unnamed_fields)
        same(repr(cls_t), repr(cls_e))
    for name in ("eig", "eigh", "lstsq", "std_mean", "var_mean", "histogramdd_out"):
        assert hasattr(ember.return_types, name) == hasattr(torch.return_types, name)
    assert ember.return_types.max._out_type is ember.return_types.max_out
    # ops that make their own type by name get the module's class back
    assert type(ember.linalg.slogdet(ember.eye(2))) is ember.return_types.linalg_slogdet


@pytest.mark.parametrize("args", [
    ((1, 2),), ([1, [2, 3]],), ((1,),), ((1, 2, 3),), (5,), ([1, 2], [3]), ([1, 2], {}),
    (range(1, 3),), (("a", None),),
], ids=str)
def test_return_types_constructor(args):
    both(lambda m: m.return_types.max(*args))


def test_return_types_fields_are_readonly():
    for m in (torch, ember):
        r = m.return_types.topk((1, 2))
        with pytest.raises(AttributeError, match="readonly attribute"):
            r.values = 3
        with pytest.raises(AttributeError, match=f"'{m.__name__}.return_types.topk' object has "
                                                 "no attribute 'foo'"):
            r.foo = 3
    r = ember.return_types.sort((ember.tensor([1.5]), ember.tensor([0])))
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is ember.return_types.sort and repr(back) == repr(r)
    assert r[:1] == (r.values,) and type(r[:1]) is tuple


# ---------------------------------------------------------------------------------------------
# Size, dtype, device

@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 3), (1, 2, 3, 4)], ids=str)
def test_size(shape):
    both(lambda m: m.Size(shape))
    both(lambda m: str(m.Size(shape)))
    both(lambda m: f"{m.Size(shape)}")
    both(lambda m: m.zeros(shape).shape)
    both(lambda m: m.zeros(shape).size())
    both(lambda m: m.zeros(shape).size()[1:])
    both(lambda m: m.Size(shape) + m.Size([5]))


@pytest.mark.parametrize("name", DTYPES + ("uint16", "uint32", "uint64", "float8_e4m3fn",
                                           "float8_e5m2", "complex32", "half", "double", "long",
                                           "cfloat", "float", "int", "short", "chalf"))
def test_dtype_repr(name):
    both(lambda m: getattr(m, name))
    both(lambda m: str(getattr(m, name)))
    both(lambda m: [getattr(m, name)])


@pytest.mark.parametrize("spec", [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 0), ("meta",),
                                  ("mps",)], ids=str)
def test_device_repr(spec):
    both(lambda m: m.device(*spec))
    both(lambda m: str(m.device(*spec)))
    both(lambda m: f"{m.device(*spec)}")


def test_tensor_device_and_finfo():
    both(lambda m: m.zeros(1).device)
    both(lambda m: m.finfo(m.float32))
    both(lambda m: m.finfo(m.bfloat16))
    both(lambda m: m.iinfo(m.int8))


# ---------------------------------------------------------------------------------------------
# Parameter

@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (0,), (40, 40)], ids=str)
@pytest.mark.parametrize("dtype", ("float32", "float64", "float16"))
def test_parameter(shape, dtype):
    a = as_dtype(np.random.default_rng(2).standard_normal(shape), dtype)
    for requires_grad in (True, False):
        t, e = pair(a)
        pt = torch.nn.Parameter(t, requires_grad=requires_grad)
        pe = ember.nn.Parameter(e, requires_grad=requires_grad)
        same(repr(pt), repr(pe))
        same(str(pt), str(pe))
        same(repr(pt * 2), repr(pe * 2))
        same(repr(pt.detach()), repr(pe.detach()))


def test_parameter_others():
    both(lambda m: m.nn.Parameter())
    both(lambda m: [m.nn.Parameter(m.ones(2))])
    both(lambda m: m.nn.Parameter(m.ones(2, dtype=m.int64), requires_grad=False))
    both(lambda m: m.nn.Parameter(m.linspace(0, 1, 30, dtype=m.float64)))
    both(lambda m: m.nn.Buffer(m.ones(2)))


def test_parameter_subclass_is_wrapped():
    class MyParam(torch.nn.Parameter):
        pass

    class MyEmberParam(ember.nn.Parameter):
        pass

    MyEmberParam.__name__ = "MyParam"
    same(repr(MyParam(torch.ones(2))), repr(MyEmberParam(ember.ones(2))))


# ---------------------------------------------------------------------------------------------
# Tensor.__format__

SPECS = ("", ".3f", ".2e", "10", "<6", "g", ".1%", "+.2f", "d", "x", "s")


@pytest.mark.parametrize("dtype", DTYPES)
def test_format_0d(dtype):
    for value in (1.5, -0.0, 7.0, NAN, INF, 255.0):
        t, e = pair(as_dtype(np.array(value), dtype))
        for spec in SPECS:
            both(lambda m: format(t if m is torch else e, spec))
        if t.is_floating_point() or t.is_complex():
            t, e = t.requires_grad_() * 2, e.requires_grad_() * 2
            same(f"{t:.3f}", f"{e:.3f}")
            same(f"{t}", f"{e}")


@pytest.mark.parametrize("shape", [(1,), (2,), (1, 1), (0,), (2, 3)], ids=str)
def test_format_many_elements(shape):
    for spec in ("", ".3f", "s", "10"):
        both(lambda m: format(m.ones(shape), spec))
        both(lambda m: format(m.ones(shape, requires_grad=True) * 2, spec))
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        f"{ember.ones(shape):.3f}"


def test_format_operators():
    both(lambda m: "%s" % m.tensor(1.5))
    both(lambda m: "%.2f" % m.tensor(1.5))
    both(lambda m: "%d" % m.tensor(3))
    both(lambda m: "%.2f" % m.tensor([1.5]))
    both(lambda m: "{:.1f}".format(m.tensor(2.25)))
    both(lambda m: f"{m.tensor([1.5])!s:>30}")
    both(lambda m: f"{m.tensor(1.5)!r}")



_VI = lambda t: (t.empty(0), t.empty(0, dtype=t.long))   # noqa: E731
_TWO = lambda t: (t.empty(0), t.empty(0))                 # noqa: E731
_INFO = lambda t: (t.empty(0), t.empty(0, dtype=t.int32))  # noqa: E731
_THREE = lambda t: (t.empty(0), t.empty(0), t.empty(0))  # noqa: E731
_OUT_CALLS = {   # name: (the out tuple, the call)
    "max": (_VI, lambda t, x, o: t.max(x, 1, out=o)),
    "sort": (_VI, lambda t, x, o: t.sort(x, 1, out=o)),
    "topk": (_VI, lambda t, x, o: t.topk(x, 2, out=o)),
    "mode": (_VI, lambda t, x, o: t.mode(x, 1, out=o)),
    "median": (_VI, lambda t, x, o: t.median(x, 1, out=o)),
    "cummin": (_VI, lambda t, x, o: t.cummin(x, 1, out=o)),
    "aminmax": (_TWO, lambda t, x, o: t.aminmax(x, dim=1, out=o)),
    "histogram": (_TWO, lambda t, x, o: t.histogram(x.flatten(), 3, out=o)),
    "slogdet": (_TWO, lambda t, x, o: t.linalg.slogdet(x, out=o)),
    "eigh": (_TWO, lambda t, x, o: t.linalg.eigh(x @ x.T, out=o)),
    "svd": (_THREE, lambda t, x, o: t.linalg.svd(x, out=o)),
    "inv_ex": (_INFO, lambda t, x, o: t.linalg.inv_ex(x, out=o)),
    "cholesky_ex": (_INFO, lambda t, x, o: t.linalg.cholesky_ex(x @ x.T + t.eye(4), out=o)),
    "lu_factor": (_INFO, lambda t, x, o: t.linalg.lu_factor(x, out=o)),
    "ldl_factor": (_INFO, lambda t, x, o: t.linalg.ldl_factor(x @ x.T, out=o)),
}


@pytest.mark.parametrize("name", sorted(_OUT_CALLS))
def test_out_results_are_the_out_return_types(name):
    """With out=, torch returns return_types.<name>_out holding the out tensors themselves."""
    x = np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32)
    make_out, call = _OUT_CALLS[name]
    res = []
    for t in (torch, ember):
        out = make_out(t)
        r = call(t, t.tensor(x), out)
        assert all(o is v for o, v in zip(out, r)) and len(r) == len(out)
        np.testing.assert_allclose(out[0].numpy(), call(t, t.tensor(x), make_out(t))[0].numpy())
        res.append((type(r).__name__, repr(r).split("(")[0].replace("torch.", "ember."),
                    [o.shape for o in out]))
    assert res[0][:2] == res[1][:2] and [list(s) for s in res[0][2]] == [list(s) for s in res[1][2]]


def test_public_classes_print_as_torch():
    def names(t):
        x = t.ones(2)
        return [str(c).replace("torch", "ember") for c in (type(x), type(x.shape), type(x.dtype),
                                                           type(x.device), t.finfo, t.iinfo)]
    assert names(ember) == names(torch)
    assert pickle.loads(pickle.dumps(ember.ones(2))).tolist() == [1.0, 1.0]
