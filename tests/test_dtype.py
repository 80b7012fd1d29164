"""dtypes, promotion and limits against torch: every pair of dtypes, scalars and 0-d tensors."""
import itertools

import numpy as np
import pytest
import torch

import ember
from oracle import dtype_name

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64", "complex64", "complex128"]
ALL_NAMES = NAMES + ["uint16", "uint32", "uint64", "complex32", "float8_e4m3fn", "float8_e5m2",
                     "float8_e4m3fnuz", "float8_e5m2fnuz"]


def outcome(fn):
    try:
        return dtype_name(fn())
    except Exception as e:   # noqa: BLE001
        return type(e).__name__


def test_names_and_aliases():
    for name in ALL_NAMES:
        e, t = getattr(ember, name), getattr(torch, name)
        assert repr(e) == repr(t).replace("torch.", "ember.")
        assert str(e) == str(t).replace("torch.", "ember.")
        assert e.itemsize == t.itemsize
        assert e.is_floating_point == t.is_floating_point
        assert e.is_complex == t.is_complex
        assert e.is_signed == t.is_signed
    for alias, name in [("float", "float32"), ("double", "float64"), ("half", "float16"),
                        ("cfloat", "complex64"), ("cdouble", "complex128"), ("chalf", "complex32"),
                        ("long", "int64"), ("int", "int32"), ("short", "int16")]:
        assert getattr(ember, alias) is getattr(ember, name)
        assert getattr(torch, alias) is getattr(torch, name)


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64",
                                  "complex128", "int32", "bool"])
def test_to_complex_to_real(name):
    e, t = getattr(ember, name), getattr(torch, name)
    assert outcome(lambda: e.to_real()) == outcome(lambda: t.to_real())
    assert outcome(lambda: e.to_complex()) == outcome(lambda: t.to_complex())


def test_promote_types_every_pair():
    for a, b in itertools.product(ALL_NAMES, repeat=2):
        expected = outcome(lambda: torch.promote_types(getattr(torch, a), getattr(torch, b)))
        got = outcome(lambda: ember.promote_types(getattr(ember, a), getattr(ember, b)))
        assert got == expected, (a, b)


def test_can_cast_every_pair():
    for a, b in itertools.product(NAMES, repeat=2):
        assert ember.can_cast(getattr(ember, a), getattr(ember, b)) == \
            torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)


SCALARS = [True, 3, 2.5, 1 + 2j]


def _operand(lib, kind, name):
    """A participant in promotion: a n-d tensor, a 0-d tensor, or a Python scalar."""
    if kind == "scalar":
        return name
    dt = getattr(lib, name)
    return lib.ones((2,) if kind == "dim" else (), dtype=dt)


@pytest.mark.parametrize("kind_a,kind_b", [("dim", "dim"), ("dim", "zero"), ("zero", "dim"),
                                           ("zero", "zero"), ("dim", "scalar"),
                                           ("zero", "scalar")])
def test_result_type_table(kind_a, kind_b):
    bs = SCALARS if kind_b == "scalar" else NAMES
    for a in NAMES:
        for b in bs:
            expected = outcome(lambda: torch.result_type(_operand(torch, kind_a, a),
                                                         _operand(torch, kind_b, b)))
            got = outcome(lambda: ember.result_type(_operand(ember, kind_a, a),
                                                    _operand(ember, kind_b, b)))
            assert got == expected, (kind_a, a, kind_b, b)


def test_result_type_of_two_scalars():
    for a, b in itertools.product(SCALARS, repeat=2):
        assert dtype_name(ember.result_type(a, b)) == dtype_name(torch.result_type(a, b))


@pytest.mark.parametrize("op", ["add", "mul", "sub", "div"])
def test_binary_op_result_dtypes(op):
    """The promotion rules as the arithmetic ops apply them (values are checked elsewhere)."""
    for a in NAMES:
        for b in NAMES + SCALARS:
            for zero_b in (False, True):
                if zero_b and not isinstance(b, str):
                    continue
                ta = torch.ones(3, dtype=getattr(torch, a))
                ea = ember.ones(3, dtype=getattr(ember, a))
                tb = _operand(torch, "zero" if zero_b else "dim", b) if isinstance(b, str) else b
                eb = _operand(ember, "zero" if zero_b else "dim", b) if isinstance(b, str) else b
                expected = outcome(lambda: getattr(torch, op)(ta, tb).dtype)
                got = outcome(lambda: getattr(ember, op)(ea, eb).dtype)
                if expected in ("RuntimeError", "TypeError", "NotImplementedError") or \
                        "complex32" in expected:
                    continue   # torch refuses it, or yields complex32 (no NumPy storage)
                assert got == expected, (op, a, b, zero_b)


def test_promotion_examples_from_the_issue():
    assert (ember.ones(2, dtype=ember.int32) + 2.5).dtype is ember.float32
    assert (ember.ones(2, dtype=ember.float16) + ember.tensor(1.0, dtype=ember.float64)).dtype \
        is ember.float16
    assert (ember.ones(2, dtype=ember.uint8) + ember.ones(2, dtype=ember.int8)).dtype is ember.int16
    assert (ember.ones(2, dtype=ember.int64) / ember.ones(2, dtype=ember.int64)).dtype \
        is ember.float32
    assert (ember.ones(2, dtype=ember.bool) + ember.ones(2, dtype=ember.bool)).dtype is ember.bool


def test_default_dtype():
    assert ember.get_default_dtype() is ember.float32
    try:
        ember.set_default_dtype(ember.float64)
        assert ember.tensor([1.5]).dtype is ember.float64
        assert ember.ones(2).dtype is ember.float64
        assert (ember.ones(2, dtype=ember.int32) + 2.5).dtype is ember.float64
        assert ember.tensor([1j]).dtype is ember.complex128
    finally:
        ember.set_default_dtype(ember.float32)
    with pytest.raises(TypeError, match="only floating-point types"):
        ember.set_default_dtype(ember.int32)
    with pytest.raises(TypeError):
        torch.set_default_dtype(torch.int32)


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64",
                                  "complex128", None, "float8_e4m3fn", "float8_e5m2",
                                  "float8_e4m3fnuz", "float8_e5m2fnuz"])
def test_finfo(name):
    e = ember.finfo(getattr(ember, name)) if name else ember.finfo()
    t = torch.finfo(getattr(torch, name)) if name else torch.finfo()
    assert repr(e) == repr(t)
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(e, attr) == getattr(t, attr), attr


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(name):
    e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert repr(e) == repr(t)
    assert (e.bits, e.min, e.max, e.dtype) == (t.bits, t.min, t.max, t.dtype)


def test_info_errors():
    with pytest.raises(TypeError):
        ember.iinfo(ember.float32)
    with pytest.raises(TypeError):
        ember.finfo(ember.int32)


def test_dtype_pickles_by_name():
    import pickle
    assert pickle.loads(pickle.dumps(ember.float64)) is ember.float64
    assert pickle.loads(pickle.dumps(ember.Size([2, 3]))) == ember.Size([2, 3])


def test_chalf_converts_in_torch_and_says_why_not_in_ember():
    assert torch.ones(2).chalf().dtype == torch.complex32
    with pytest.raises(NotImplementedError, match="complex32 has no NumPy storage type"):
        ember.ones(2).chalf()


@pytest.mark.parametrize("make", [
    lambda t, a, v: t.tensor(a, dtype=t.float16),
    lambda t, a, v: t.tensor(a.tolist(), dtype=t.float16),
    lambda t, a, v: t.as_tensor(a, dtype=t.float16),
    lambda t, a, v: t.tensor(a).half(),
    lambda t, a, v: t.tensor(a).to(t.float16),
    lambda t, a, v: t.zeros(len(a), dtype=t.float16).copy_(t.tensor(a)),
    lambda t, a, v: t.zeros(len(a), dtype=t.float16).copy_(t.tensor(a, requires_grad=True)),
    lambda t, a, v: t.full((2,), v, dtype=t.float16),
    lambda t, a, v: t.zeros(2, dtype=t.float16).fill_(v),
    lambda t, a, v: t.zeros(2, dtype=t.float16, requires_grad=True).clone().fill_(v),
    lambda t, a, v: t.full_like(t.zeros(2, dtype=t.float16), v),
    lambda t, a, v: t.zeros(2, dtype=t.float16).new_full((2,), v),
    lambda t, a, v: t.scalar_tensor(v, dtype=t.float16),
])
def test_float64_to_float16_rounds_through_float32_as_torch(make):
    """torch makes a half from a float: float64 values reach float16 with two roundings, which
    NumPy's direct conversion differs from for about one value in 10,000. The values here are
    exactly such values."""
    a = np.random.default_rng(0).standard_normal(100_000) * 10
    a = a[a.astype(np.float32).astype(np.float16) != a.astype(np.float16)][:50]
    assert len(a) > 5
    v = float(a[0])
    t_out, e_out = make(torch, a, v), make(ember, a, v)
    np.testing.assert_array_equal(e_out.detach().numpy(), t_out.detach().numpy())
