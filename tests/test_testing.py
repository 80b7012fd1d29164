"""ember.testing against torch.testing: assert_close's verdicts and whole failure messages (and
exception types) on the same inputs, assert_allclose likewise, make_tensor's ranges, shapes,
strides, errors and warnings (its values are random, so they are compared as sets or ranges)."""
import inspect
import re
import subprocess
import sys
import warnings
import zlib
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.testing

import ember
import ember.testing

NAN, INF = float("nan"), float("inf")


def _spelled(text):
    """torch's text as ember writes it: `torch.X` (a dtype, layout, memory format, Size...)
    becomes `ember.X`."""
    return re.sub(r"\btorch\.(?=\w)", "ember.", text)


def _outcome(fn, *args, **kwargs):
    """None when fn returns, else (exception type, message)."""
    try:
        fn(*args, **kwargs)
    except Exception as exc:   # noqa: BLE001 - type and message are what we compare
        return type(exc), str(exc)
    return None


def _same_verdict(fails, build, **kwargs):
    """build(lib) gives (actual, expected) made with torch or with ember; both libraries'
    assert_close must pass, or raise the same exception type with the same message."""
    expected = _outcome(torch.testing.assert_close, *build(torch), **kwargs)
    got = _outcome(ember.testing.assert_close, *build(ember), **kwargs)
    assert (expected is not None) == fails, f"the case itself changed: torch gave {expected}"
    if expected is not None:
        expected = (expected[0], _spelled(expected[1]))
    assert got == expected


def _tensor(lib, values, name):
    """values as a tensor of dtype `name`, rounded by NumPy so that both libraries get the same
    bits (their float64 -> float16 conversions can differ in the last place)."""
    if name == "bfloat16":
        return lib.from_numpy(np.asarray(values, np.float32)).to(lib.bfloat16)
    return lib.from_numpy(np.asarray(values, np.dtype(name)))


# ---------------------------------------------------------------------------------------------
# assert_close: tensors of each dtype class

FLOATS = ["float16", "bfloat16", "float32", "float64", "complex64", "complex128"]
DEFAULT_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5),
                      "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7),
                      "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", FLOATS + INTS)
def test_tensor_mismatch_message_per_dtype(name):
    _same_verdict(True, lambda t: (_tensor(t, [1, 2, 3, 7], name),
                                   _tensor(t, [1, 2.5, 5, 7], name)))


@pytest.mark.parametrize("name", FLOATS + INTS + ["bool"])
def test_equal_tensors_pass(name):
    values = [True, False] if name == "bool" else [0, 1, 3]
    _same_verdict(False, lambda t: (_tensor(t, values, name), _tensor(t, values, name)))


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64",
                                  "complex128"])
def test_default_tolerances_edge(name):
    """Just inside and just outside each dtype's default (rtol, atol) from torch's table."""
    rtol, atol = DEFAULT_TOLERANCES[name]
    expected = [1.0, 100.0, 4096.0]
    inside = [x + 0.45 * (atol + rtol * x) for x in expected]
    outside = [x + 3 * (atol + rtol * x) for x in expected]
    _same_verdict(False, lambda t: (_tensor(t, inside, name), _tensor(t, expected, name)))
    _same_verdict(True, lambda t: (_tensor(t, outside, name), _tensor(t, expected, name)))


def test_bool_tensors():
    _same_verdict(True, lambda t: (t.tensor([True, False]), t.tensor([True, True])))
    _same_verdict(True, lambda t: (t.tensor([True, True]), t.tensor([False, True])))  # rel inf


def test_unsigned_difference_does_not_wrap():
    _same_verdict(True, lambda t: (t.tensor([5, 2], dtype=t.uint8),
                                   t.tensor([1, 5], dtype=t.uint8)))


@pytest.mark.parametrize("name", FLOATS + ["int64", "uint8"])
@pytest.mark.parametrize("tolerances", [None, (1e-3, 1e-5), (0.1, 0.0), (0.0, 1e-3),
                                        (0.3, 0.7), (0.01, 0.01)])
def test_boundary_values_match_torch_isclose(name, tolerances):
    """Random values around the tolerance boundary: the mismatch count and the greatest
    differences (in the compared dtype's rounding) agree with torch's to the last digit."""
    rng = np.random.default_rng(zlib.crc32(repr((name, tolerances)).encode()))
    n = 1500
    expected = rng.standard_normal(n) * rng.choice([0.01, 1.0, 100.0], n)
    if name.startswith("complex"):
        expected = expected + 1j * rng.standard_normal(n)
    rtol, atol = tolerances or DEFAULT_TOLERANCES.get(name, (1.3e-6, 1e-5))
    actual = expected + (atol + rtol * np.abs(expected)) * rng.uniform(0.98, 1.02, n) \
        * rng.choice([-1, 1], n)
    if name in ("int64", "uint8"):
        expected = rng.integers(0, 100, n)
        actual = np.clip(expected + rng.integers(-3, 4, n), 0, 255)
    real = "float32" if name == "bfloat16" else name
    actual, expected = np.asarray(actual).astype(real), np.asarray(expected).astype(real)
    kwargs = {} if tolerances is None else dict(rtol=tolerances[0], atol=tolerances[1])
    _same_verdict(True, lambda t: (_tensor(t, actual, name), _tensor(t, expected, name)),
                  **kwargs)


def test_index_in_several_dims_and_percentages():
    def build(t):
        x = t.zeros(3, 4, 5)
        y = x.clone()
        y[1, 2, 3] = 1.0
        return x, y
    _same_verdict(True, build)
    _same_verdict(True, lambda t: (t.zeros(3000),
                                   t.zeros(3000).index_fill_(0, t.tensor([5, 6]), 1.)))
    _same_verdict(True, lambda t: (t.ones(10000), t.zeros(10000).index_fill_(0, t.tensor([5]), 1.)))


def test_greatest_difference_ties_nan_and_inf():
    _same_verdict(True, lambda t: (t.tensor([2., 4.]), t.tensor([1., 2.])))        # first of ties
    _same_verdict(True, lambda t: (t.tensor([1., NAN, 5., NAN]), t.tensor([1., 2., 0., 3.])))
    _same_verdict(True, lambda t: (t.tensor([INF, 1., NAN]), t.tensor([0., 2., 0.])))
    _same_verdict(True, lambda t: (t.tensor([1., INF]), t.tensor([1., -INF])))
    _same_verdict(True, lambda t: (t.tensor([1., INF]), t.tensor([1., 2.])))
    _same_verdict(False, lambda t: (t.tensor([1., INF, -INF]), t.tensor([1., INF, -INF])))
    _same_verdict(True, lambda t: (t.tensor([1.]), t.tensor([INF])), rtol=1, atol=1)
    _same_verdict(True, lambda t: (t.tensor([3e38]), t.tensor([-3e38])))
    _same_verdict(True, lambda t: (t.tensor([1., 0.]), t.tensor([0., 0.])))


def test_equal_nan():
    nan_pair = lambda t: (t.tensor([1., NAN]), t.tensor([1., NAN]))  # noqa: E731
    _same_verdict(True, nan_pair)
    _same_verdict(False, nan_pair, equal_nan=True)
    _same_verdict(True, lambda t: (t.tensor([1., NAN]), t.tensor([1., 2.])), equal_nan=True)
    cnan = [complex(NAN, 0)]
    _same_verdict(True, lambda t: (t.tensor(cnan), t.tensor(cnan)))
    # a complex number is NaN when either part is
    _same_verdict(False, lambda t: (t.tensor(cnan), t.tensor([complex(0, NAN)])), equal_nan=True)


def test_zero_dim_tensors_report_scalars():
    _same_verdict(True, lambda t: (t.tensor(1.1), t.tensor(1.2)))
    _same_verdict(True, lambda t: (t.tensor(1), t.tensor(2)))
    _same_verdict(True, lambda t: (t.tensor(True), t.tensor(False)))
    _same_verdict(True, lambda t: (t.tensor(4, dtype=t.uint8), t.tensor(1, dtype=t.uint8)))
    _same_verdict(True, lambda t: (t.tensor(NAN), t.tensor(1.)))
    _same_verdict(True, lambda t: (t.tensor(1.5 + 1j), t.tensor(1 + 1j)))
    _same_verdict(True, lambda t: (t.tensor(2 ** 40), t.tensor(2 ** 40 + 1)))
    _same_verdict(True, lambda t: (_tensor(t, 1.0, "float16"), _tensor(t, 1.5, "float16")))
    _same_verdict(True, lambda t: (_tensor(t, 1.0, "bfloat16"), _tensor(t, 1.5, "bfloat16")))
    _same_verdict(True, lambda t: (t.tensor(1), t.tensor(1.5)), check_dtype=False)


# ---------------------------------------------------------------------------------------------
# assert_close: attributes, promotion, tolerances, msg

def test_shape_dtype_and_stride_checks():
    _same_verdict(True, lambda t: (t.tensor([1., 2.]), t.tensor([1., 2., 3.])))
    _same_verdict(True, lambda t: (t.tensor([[1., 2.]]), t.tensor([1., 2.])))
    _same_verdict(True, lambda t: (t.tensor([1., 2.]), t.tensor([1., 2.], dtype=t.float64)))
    _same_verdict(True, lambda t: (t.tensor(1), t.tensor(1.)))
    # shape is checked before dtype even with check_dtype=False
    _same_verdict(True, lambda t: (t.tensor([1., 2.]), t.tensor([1., 2., 3.], dtype=t.float64)),
                  check_dtype=False)
    transposed = lambda t: (t.tensor([[1., 2.], [3., 4.]]).t(),  # noqa: E731
                            t.tensor([[1., 3.], [2., 4.]]))
    _same_verdict(False, transposed)
    _same_verdict(True, transposed, check_stride=True)
    # stride is reported before dtype
    _same_verdict(True, lambda t: (t.tensor([[1., 2.], [3., 4.]]).t(),
                                   t.tensor([[1., 3.], [2., 4.]], dtype=t.float64)),
                  check_stride=True)
    _same_verdict(True, lambda t: (t.zeros(3, 1).t(), t.zeros(1, 3)), check_stride=True)


def test_check_dtype_false_promotes_and_takes_larger_tolerances():
    _same_verdict(False, lambda t: (t.tensor([1., 2.]), t.tensor([1., 2.], dtype=t.float64)),
                  check_dtype=False)
    _same_verdict(True, lambda t: (t.tensor([1., 2.]), t.tensor([1., 2.1], dtype=t.float64)),
                  check_dtype=False)
    _same_verdict(False, lambda t: (t.tensor([1., 2.], dtype=t.float16), t.tensor([1., 2.001])),
                  check_dtype=False)
    _same_verdict(True, lambda t: (t.tensor([1., 2.], dtype=t.float16), t.tensor([1., 2.5])),
                  check_dtype=False)
    _same_verdict(True, lambda t: (t.tensor([1, 2]), t.tensor([1., 2.5])), check_dtype=False)
    _same_verdict(True, lambda t: (t.tensor([True, False]), t.tensor([1, 2])), check_dtype=False)
    _same_verdict(True, lambda t: (t.tensor([1., 2. + 0j]), t.tensor([1., 2.5])),
                  check_dtype=False)


def test_values_are_compared_without_autograd_or_layout_concerns():
    _same_verdict(False, lambda t: (t.tensor([1., 2.], requires_grad=True), t.tensor([1., 2.])))
    _same_verdict(True, lambda t: (t.tensor([1., 2.], requires_grad=True) * 2,
                                   t.tensor([2., 5.])))

    def transposed(t):
        x = t.arange(6.).view(2, 3).t()
        y = x.contiguous().clone()
        y[1, 1] += 1
        return x, y
    _same_verdict(True, transposed)
    _same_verdict(False, lambda t: (t.tensor([1 + 1j]).conj(), t.tensor([1 - 1j])))
    _same_verdict(False, lambda t: (t.tensor([]), t.tensor([])))


def test_explicit_tolerances():
    _same_verdict(False, lambda t: (t.tensor([1., 2.]), t.tensor([1., 2.1])), rtol=0.1, atol=0)
    _same_verdict(True, lambda t: (t.tensor([1., 2.]), t.tensor([1., 2.5])), rtol=0.1, atol=0.01)
    _same_verdict(True, lambda t: (t.tensor([1., 2.]), t.tensor([1., 3.])), rtol=0, atol=0)
    _same_verdict(True, lambda t: (t.tensor([1, 2, 3]), t.tensor([1, 2, 10])), rtol=0.1, atol=1)
    _same_verdict(True, lambda t: (t.tensor([1., 2.]), t.tensor([1., 5.])), rtol=0, atol=1)
    # integers with tolerances compare as float32, exactly without
    _same_verdict(False, lambda t: (t.tensor([2 ** 40]), t.tensor([2 ** 40 + 1])), rtol=0, atol=0.5)
    _same_verdict(True, lambda t: (t.tensor([2 ** 40, 1]), t.tensor([2 ** 40 + 1, 1])))
    _same_verdict(False, lambda t: (t.tensor([True]), t.tensor([False])), rtol=1., atol=1.)
    # not symmetric: the tolerance scales with `expected`
    _same_verdict(True, lambda t: (t.tensor([2.]), t.tensor([1.])), rtol=0.5, atol=0)
    _same_verdict(False, lambda t: (t.tensor([1.]), t.tensor([2.])), rtol=0.5, atol=0)


@pytest.mark.parametrize("kwargs", [dict(rtol=1e-3), dict(atol=1e-3), dict(rtol=0),
                                    dict(rtol=1, atol=None)])
def test_rtol_without_atol_is_a_value_error(kwargs):
    _same_verdict(True, lambda t: (t.tensor([1.]), t.tensor([1.])), **kwargs)
    _same_verdict(True, lambda t: (1, 1), **kwargs)
    _same_verdict(True, lambda t: ([[t.tensor([1.])]], [[t.tensor([1.])]]), **kwargs)
    # None and bool pairs take no tolerances, and empty containers have no pairs
    _same_verdict(False, lambda t: ([None, True], [None, True]), **kwargs)


def test_invalid_tolerances_raise_runtime_error_naming_the_pair():
    _same_verdict(True, lambda t: (t.tensor([1., 2.]), t.tensor([1., 2.])), rtol=-1, atol=0)
    _same_verdict(True, lambda t: ({"a": [t.tensor([[1., 2.], [3., 4.]])]},
                                   {"a": [t.tensor([[1., 2.], [3., 4.]])]}), rtol=0, atol=-1)
    _same_verdict(True, lambda t: (t.tensor([NAN]), t.tensor([NAN])), equal_nan="relaxed")
    _same_verdict(True, lambda t: (1., 2.), rtol="a", atol=1)
    _same_verdict(True, lambda t: (1., 2.), rtol=-1., atol=0)  # numbers: no check, a mismatch


def test_msg_string_and_callable():
    pair = lambda t: (t.tensor([1., 2., 3.]), t.tensor([1., 4., 5.]))  # noqa: E731
    _same_verdict(True, pair, msg="Argh, the tensors are not close!")
    _same_verdict(True, pair, msg=lambda m: f"Header\n\n{m}\n\nFooter")
    _same_verdict(True, pair, msg=5)                      # neither: the default message
    _same_verdict(True, pair, msg=lambda m: 5)
    dtype_pair = lambda t: (t.tensor([1.]), t.tensor([1.], dtype=t.float64))  # noqa: E731
    _same_verdict(True, dtype_pair, msg="boom")
    _same_verdict(True, dtype_pair, msg=lambda m: f"<{m}>")
    # a callable sees the item path; a string replaces it
    nested = lambda t: ([t.tensor([1.])], [t.tensor([2.])])  # noqa: E731
    _same_verdict(True, nested, msg=lambda m: f"<{m}>")
    _same_verdict(True, nested, msg="boom")
    _same_verdict(True, lambda t: (True, False), msg=lambda m: f"<{m}>")
    _same_verdict(True, lambda t: (None, 1), msg="boom")
    _same_verdict(True, lambda t: (1, 1.), msg="boom")


def test_msg_does_not_apply_to_structure_errors():
    _same_verdict(True, lambda t: ([1., 2.], [1.]), msg="boom")
    _same_verdict(True, lambda t: ([1., 2.], [1.]), msg=lambda m: f"<{m}>")
    _same_verdict(True, lambda t: ({"a": 1}, {"b": 1}), msg="boom")
    _same_verdict(True, lambda t: ([[1, 2]], [[1]]), msg="boom")
    _same_verdict(True, lambda t: ("a", "a"), msg="boom")


# ---------------------------------------------------------------------------------------------
# assert_close: numbers, containers, input types

def test_python_and_numpy_scalars():
    cases = [
        (1., 2.), (1, 2), (True, False), (1 + 1j, 1 + 2j), (1, 1.), (1, 1 + 0j), (1., 1 + 0j),
        (1.5, 1), (2 ** 70, 2 ** 70 + 1), (NAN, NAN), (NAN, 1.), (INF, -INF), (1., INF),
        (1., 0.), (NAN, 0.), (0., NAN), (complex(NAN, 0), complex(NAN, 0)), (1e-6, 1e-5),
        (np.float32(1.1), np.float32(1.2)), (np.float64(1.), np.float64(1.5)),
        (np.int64(1), np.int64(2)), (np.int8(1), np.int8(3)), (np.uint8(4), np.uint8(1)),
        (np.complex64(1.), np.complex64(1.5)), (np.bool_(True), np.bool_(False)),
        (np.bool_(True), False), (np.float32(1.), 1), (np.complex64(1.), 1.),
        (np.float32(1.), np.float64(1.5)),
    ]
    for actual, expected in cases:
        _same_verdict(True, lambda t: (actual, expected))


def test_python_and_numpy_scalars_that_pass():
    cases = [(1., 1. + 1e-8), (1e10, 1e10 + 1), (INF, INF), (2 ** 70, 2 ** 70), (None, None),
             (np.float64(1.), 1.), (np.float32(1.), 1.), (np.int64(1), 1),
             (np.int32(1), np.int64(1)),
             (np.bool_(True), True), (math_sqrt2 := 2 ** 0.5, 2 / math_sqrt2)]
    for actual, expected in cases:
        _same_verdict(False, lambda t: (actual, expected))
    _same_verdict(False, lambda t: (NAN, NAN), equal_nan=True)
    _same_verdict(False, lambda t: (complex(NAN, 0), complex(0, NAN)), equal_nan=True)
    _same_verdict(False, lambda t: (1, 1.), check_dtype=False)
    _same_verdict(False, lambda t: (1, 1 + 0j), check_dtype=False)
    _same_verdict(False, lambda t: (3, 4), rtol=0, atol=1)
    _same_verdict(True, lambda t: (3, 10), rtol=0.1, atol=1)
    _same_verdict(True, lambda t: (1, 2.5), check_dtype=False)


def test_bool_paired_with_a_number_is_torchs_internal_error():
    _same_verdict(True, lambda t: (1, True))
    _same_verdict(True, lambda t: (True, 1.))
    _same_verdict(True, lambda t: ([1], [True]))


def test_none():
    _same_verdict(True, lambda t: (None, 1))
    _same_verdict(True, lambda t: (1, None))
    _same_verdict(True, lambda t: (None, [1]))


def test_sequences():
    _same_verdict(True, lambda t: ([1, 2], [1, 2, 3]))
    _same_verdict(True, lambda t: ([t.tensor(1.), 2.], [t.tensor(1.), 3.]))
    _same_verdict(True, lambda t: ([[1., 2.], [3., 4.]], [[1., 2.], [3., 5.]]))
    _same_verdict(True, lambda t: ([[1, 2], [3]], [[1, 2], [3, 4]]))
    _same_verdict(True, lambda t: ([(1, 2)], [(1, 3)]))
    _same_verdict(True, lambda t: (range(3), [0, 1, 3]))
    _same_verdict(False, lambda t: ((1., 2.), [1., 2.]))
    _same_verdict(False, lambda t: ([], []))
    _same_verdict(False, lambda t: (b"ab", [97, 98]))
    _same_verdict(False, lambda t: ([t.tensor([1.0]), 2.0, np.array(3.0)],
                                    (t.tensor([1.0]), 2.0, np.array(3.0))))


def test_pairing_errors_come_before_value_mismatches():
    _same_verdict(True, lambda t: ([t.tensor([1.]), [1, 2]], [t.tensor([2.]), [1]]))
    _same_verdict(True, lambda t: ([t.tensor([1.]), "a"], [t.tensor([2.]), "a"]))
    _same_verdict(True, lambda t: ([t.tensor([1.]), 1], [t.tensor([2.]), True]))
    _same_verdict(True, lambda t: ([[1], "a"], [[1], "a"]), rtol=1)
    # comparisons (None, bools, dtype of numbers) happen in order in the second pass
    _same_verdict(True, lambda t: ([t.tensor([1.]), None], [t.tensor([2.]), 1]))
    _same_verdict(True, lambda t: ([1., True], [2., False]))
    _same_verdict(True, lambda t: ([t.tensor([1.]), 1], [t.tensor([2.]), 1.]))
    _same_verdict(True, lambda t: ([t.tensor([1.]), t.tensor([1.])],
                                   [t.tensor([1.], dtype=t.float64), t.tensor([2.])]))


def test_mappings():
    _same_verdict(True, lambda t: ({"a": 1, "b": 2}, {"a": 1, "c": 2}))
    _same_verdict(True, lambda t: ({"a": 1}, {"a": 1, "c": 2, "b": 3}))
    _same_verdict(True, lambda t: ({"a": 1, "z": 2, "y": 3}, {"a": 1}))
    _same_verdict(True, lambda t: ({1: 1, 2: 3}, {1: 1, 3: 3}))
    _same_verdict(True, lambda t: ({"a": 1., "b": 2.}, {"a": 1., "b": 3.}))
    _same_verdict(True, lambda t: ({"b": 1, "a": 1}, {"b": 2, "a": 2}))   # sorted: 'a' first
    _same_verdict(True, lambda t: ({(1, 2): 1, (0, 5): 1}, {(1, 2): 2, (0, 5): 2}))
    _same_verdict(True, lambda t: ({"a": [1., {"x": t.tensor([1., 2.])}]},
                                   {"a": [1., {"x": t.tensor([1., 3.])}]}))
    _same_verdict(True, lambda t: ([{"a": 1}], [{"b": 1}]))
    _same_verdict(True, lambda t: ({1: 1, "a": 2}, {1: 1, "a": 3}))
    _same_verdict(False, lambda t: (OrderedDict([("b", 1), ("a", 2)]), {"a": 2, "b": 1}))
    _same_verdict(False, lambda t: ({1: 1, "a": 2}, {1: 1, "a": 2}))
    _same_verdict(True, lambda t: ({"a": 1}, [1]))


def test_types_that_cannot_be_compared():
    _same_verdict(True, lambda t: (np.array([1., 2.]), t.tensor([1., 2.])))
    _same_verdict(True, lambda t: (t.tensor([1., 2.]), np.array([1., 2.])))
    _same_verdict(True, lambda t: (t.tensor(1.), 1.))
    _same_verdict(True, lambda t: (1., t.tensor(1.)))
    _same_verdict(True, lambda t: (t.tensor([1., 2.]), [1., 2.]))
    _same_verdict(True, lambda t: ("a", "a"))
    _same_verdict(True, lambda t: ({1}, {1}))
    _same_verdict(True, lambda t: (object, object))
    _same_verdict(True, lambda t: ([object], [object]))
    _same_verdict(True, lambda t: (np.array(["a"]), np.array(["a"])))
    _same_verdict(True, lambda t: (np.array(1), 1))
    _same_verdict(True, lambda t: (np.bool_(True), 1))
    _same_verdict(True, lambda t: (1, np.bool_(True)))


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_subclasses():
    param = lambda t: (t.nn.Parameter(t.tensor([1., 2.])), t.tensor([1., 2.]))  # noqa: E731
    _same_verdict(False, param)
    _same_verdict(True, param, allow_subclasses=False)
    _same_verdict(True, lambda t: (t.nn.Parameter(t.tensor([1.])), t.tensor([2.])))
    _same_verdict(False, lambda t: (np.array([1.]), np.array([1.])), allow_subclasses=False)
    _same_verdict(True, lambda t: (np.matrix([[1., 2.]]), np.matrix([[1., 3.]])))
    _same_verdict(True, lambda t: (np.array([[1., 2.]]), np.matrix([[1., 3.]])))
    _same_verdict(True, lambda t: (np.array([[1., 2.]]), np.matrix([[1., 2.]])),
                  allow_subclasses=False)


def test_numpy_arrays():
    _same_verdict(True, lambda t: (np.array([1., 2.]), np.array([1., 2.5])))
    _same_verdict(True, lambda t: (np.array([1., 2.], np.float16), np.array([1., 2.5], np.float16)))
    _same_verdict(True, lambda t: (np.array([1, 2]), np.array([1, 3])))
    _same_verdict(True, lambda t: (np.array([1.], np.float32), np.array([1.])))
    _same_verdict(True, lambda t: (np.array(1.), np.array(2.)))
    _same_verdict(True, lambda t: ([np.array([1., 2.])], [np.array([1., 3.])]))
    _same_verdict(False, lambda t: (np.arccos(np.cos(np.array([1e0, 1e-1, 1e-2]))),
                                    np.array([1e0, 1e-1, 1e-2])))


def test_docstring_examples():
    _same_verdict(False, lambda t: (t.acos(t.cos(t.tensor([1e0, 1e-1, 1e-2]))),
                                    t.tensor([1e0, 1e-1, 1e-2])))
    _same_verdict(True, lambda t: (t.tensor(NAN), t.tensor(NAN)))
    _same_verdict(True, lambda t: (1e-9, 1e-10), rtol=0, atol=0)


# ---------------------------------------------------------------------------------------------
# assert_allclose (deprecated)

def _allclose_outcome(lib, build, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _outcome(lib.testing.assert_allclose, *build(lib), **kwargs)
    return result, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("build, kwargs, fails", [
    (lambda t: (t.tensor([1., 2.]), t.tensor([1., 2.])), {}, False),
    (lambda t: (t.tensor([1., 2.]), t.tensor([1., 2.5])), {}, True),
    (lambda t: (t.tensor([1., 2.]).double(), t.tensor([1., 2.5]).double()), {}, True),
    (lambda t: (t.tensor([1., 2.]).half(), t.tensor([1., 2.5]).half()), {}, True),
    (lambda t: (t.tensor([1., 2.]).bfloat16(), t.tensor([1., 2.5]).bfloat16()), {}, True),
    (lambda t: (t.tensor([1, 2]), t.tensor([1, 3])), {}, True),
    (lambda t: (t.tensor([NAN]), t.tensor([NAN])), {}, False),
    (lambda t: (t.tensor([NAN]), t.tensor([NAN])), dict(equal_nan=False), True),
    (lambda t: (t.tensor([1., 2.]), t.tensor([1., 2.1], dtype=t.float64)), {}, True),
    (lambda t: (t.tensor([1., 2.]), t.tensor([1., 2.00001], dtype=t.float64)), {}, False),
    (lambda t: ([1., 2.], t.tensor([1., 2.])), {}, False),
    (lambda t: (t.tensor([1., 2.]), [1., 3.]), {}, True),
    (lambda t: (t.tensor([1, 2]), [1.5, 2.0]), {}, False),   # expected takes actual's dtype
    (lambda t: ([1.5, 2.0], t.tensor([1, 2])), {}, True),
    (lambda t: (t.tensor([1., 1.]), 1.), {}, True),
    (lambda t: (1., 2.), {}, True),
    (lambda t: (np.array([1., 2.]), np.array([1., 2.5])), {}, True),
    (lambda t: (t.tensor([1., 2.]), t.tensor([1., 2.5])), dict(msg="custom"), True),
    (lambda t: (t.tensor([1.]), t.tensor([2.])), dict(msg=""), True),
    (lambda t: (t.tensor([1.]), t.tensor([1.])), dict(rtol=0.1), True),
    (lambda t: (t.tensor([1.]), t.tensor([1.05])), dict(rtol=0.1, atol=0), False),
    (lambda t: (t.tensor([[1., 2.]]), t.tensor([1., 2.])), {}, True),
    (lambda t: (t.tensor([[1., 2.], [3., 4.]]).t(), t.tensor([[1., 3.], [2., 4.]])), {}, False),
])
def test_assert_allclose(build, kwargs, fails):
    expected, t_warnings = _allclose_outcome(torch, build, **kwargs)
    got, e_warnings = _allclose_outcome(ember, build, **kwargs)
    assert (expected is not None) == fails
    if expected is not None:
        expected = (expected[0], _spelled(expected[1]))
    assert got == expected
    assert e_warnings == [(c, _spelled(m)) for c, m in t_warnings]
    assert e_warnings and e_warnings[0][0] is FutureWarning


# ---------------------------------------------------------------------------------------------
# make_tensor

def _make(lib, *shape, **kwargs):
    kwargs.setdefault("device", "cpu")
    kwargs["dtype"] = getattr(lib, kwargs["dtype"])
    return lib.testing.make_tensor(*shape, **kwargs)


def _values(x):
    x = x.detach()
    if x.dtype in (torch.bfloat16, ember.bfloat16):
        x = x.float()
    return x.numpy()


@pytest.mark.parametrize("name, low, high", [
    ("bool", 0, 2), ("uint8", 0, 10), ("uint16", 0, 10), ("uint32", 0, 10), ("uint64", 0, 10),
    ("int8", -9, 10), ("int16", -9, 10), ("int32", -9, 10), ("int64", -9, 10),
])
def test_make_tensor_integral_default_ranges(name, low, high):
    """4000 draws hit every value of the small default range: the sets equal torch's."""
    t_values, e = _values(_make(torch, 4000, dtype=name)), _make(ember, 4000, dtype=name)
    assert e.dtype is getattr(ember, name) and tuple(e.shape) == (4000,)
    assert set(_values(e).tolist()) == set(t_values.tolist()) == set(
        bool(v) if name == "bool" else v for v in range(low, high))


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64",
                                  "complex128"])
def test_make_tensor_floating_default_ranges(name):
    e = _make(ember, 20000, dtype=name)
    assert e.dtype is getattr(ember, name)
    values = _values(e)
    parts = [values.real, values.imag] if np.iscomplexobj(values) else [values]
    for part in parts:      # uniform in [-9, 9): below 9, and spread over the range
        assert part.min() >= -9 and part.max() < 9
        assert part.min() < -8.9 and part.max() > 8.9
        assert abs(float(part.mean())) < 0.2


@pytest.mark.parametrize("name, low, high", [
    ("float32", -1, 1), ("float64", 0, 1e-3), ("float16", 2, 3), ("bfloat16", 8, 9),
    ("complex64", 5, 6),
])
def test_make_tensor_custom_float_range_excludes_high(name, low, high):
    values = _values(_make(ember, 20000, dtype=name, low=low, high=high))
    for part in ([values.real, values.imag] if np.iscomplexobj(values) else [values]):
        assert part.min() >= low and part.max() < high


@pytest.mark.parametrize("name, low, high", [
    ("uint8", -1e10, 1e10), ("int8", -1000, 1000), ("uint8", 254, 1e10), ("int8", 126, 1000),
    ("int16", 32766, 10 ** 6), ("int32", 2 ** 31 - 2, 10 ** 12), ("int64", 2 ** 63 - 3, 2 ** 70),
    ("int64", 0.5, 3.5), ("int64", -0.5, 1.2), ("uint8", -5, 0.5), ("bool", -5, 5),
    ("bool", 0.5, 1.5), ("bool", 1, 5), ("uint32", 2 ** 32 - 3, 2 ** 40),
])
def test_make_tensor_integral_bounds_clamp_and_round_up(name, low, high):
    t_values = _values(_make(torch, 20000, dtype=name, low=low, high=high))
    e_values = _values(_make(ember, 20000, dtype=name, low=low, high=high))
    assert set(e_values.tolist()) == set(t_values.tolist())


@pytest.mark.parametrize("name, low, high, lo, hi", [
    ("float16", -1e10, 1e10, -65504, 65504), ("float16", 60000, 1e9, 60000, 65504),
    ("float32", -1e300, 1e300, -3.5e38, 3.5e38), ("float32", 0, INF, 0, 3.5e38),
    ("float64", -INF, INF, -np.finfo(np.float64).max, np.finfo(np.float64).max),
])
def test_make_tensor_float_bounds_clamp_to_finite(name, low, high, lo, hi):
    values = _values(_make(ember, 5000, dtype=name, low=low, high=high)).astype(np.float64)
    assert np.isfinite(values).all() and values.min() >= lo and values.max() <= hi
    # spread over the range, not piled on a bound (halved: float64's full span overflows)
    assert values.max() / 2 - values.min() / 2 > (hi / 2 - lo / 2) / 4


@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3), ((2, 3),), ([2, 3],), ((),)])
def test_make_tensor_shapes(shape):
    t, e = _make(torch, *shape, dtype="float32"), _make(ember, *shape, dtype="float32")
    assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
    assert e.device == ember.device("cpu") and not e.requires_grad


def test_make_tensor_size_object():
    assert tuple(ember.testing.make_tensor(ember.Size([2, 3]), dtype=ember.int64,
                                           device="cpu").shape) == (2, 3)


@pytest.mark.parametrize("shape", [(2, 3), (5,), (2, 3, 4), (1,), (), (0, 3), (2, 1), (1, 2)])
@pytest.mark.parametrize("name", ["float32", "int32", "complex64", "bool"])
def test_make_tensor_noncontiguous(shape, name):
    t = _make(torch, *shape, dtype=name, noncontiguous=True)
    e = _make(ember, *shape, dtype=name, noncontiguous=True)
    assert tuple(e.shape) == tuple(t.shape) and e.dtype is getattr(ember, name)
    assert e.stride() == t.stride() and e.is_contiguous() == t.is_contiguous()


@pytest.mark.parametrize("memory_format", ["channels_last", "contiguous_format",
                                           "preserve_format"])
def test_make_tensor_memory_format(memory_format):
    t = _make(torch, 2, 3, 4, 5, dtype="float32", memory_format=getattr(torch, memory_format))
    e = _make(ember, 2, 3, 4, 5, dtype="float32", memory_format=getattr(ember, memory_format))
    assert e.stride() == t.stride() and e.is_contiguous() == t.is_contiguous()


@pytest.mark.parametrize("kwargs", [dict(), dict(noncontiguous=True),
                                    dict(memory_format="channels_last")])
@pytest.mark.parametrize("name", ["float32", "float64", "complex64"])
def test_make_tensor_requires_grad_gives_a_leaf(kwargs, name):
    kwargs = dict(kwargs)
    if "memory_format" in kwargs:
        kwargs["memory_format"] = ember.channels_last
    x = _make(ember, 2, 3, 4, 5, dtype=name, requires_grad=True, **kwargs)
    assert x.requires_grad and x.is_leaf and x.grad_fn is None
    (x.abs() if name.startswith("complex") else x).sum().backward()
    assert x.grad is not None and tuple(x.grad.shape) == (2, 3, 4, 5)


@pytest.mark.parametrize("name, low, high, replacement", [
    ("int64", 0, 2, 1), ("uint8", 0, 1, 1), ("int64", -1, 1, None), ("bool", 0, 2, True),
    ("float32", 0, 1e-44, float(np.finfo(np.float32).tiny)),
    ("float16", 0, 1e-8, float(np.finfo(np.float16).tiny)),
    ("complex64", -1e-45, 1e-45, complex(np.finfo(np.float32).tiny, 0)),
])
def test_make_tensor_exclude_zero(name, low, high, replacement):
    t_values = _values(_make(torch, 4000, dtype=name, low=low, high=high, exclude_zero=True))
    e_values = _values(_make(ember, 4000, dtype=name, low=low, high=high, exclude_zero=True))
    assert not (e_values == 0).any()
    if replacement is not None:     # a range of mostly zeros: the replacement shows up
        assert replacement in e_values.tolist() and replacement in t_values.tolist()
    if name in ("int64", "uint8", "bool"):
        assert set(e_values.tolist()) == set(t_values.tolist())


def _make_outcome(lib, args, kwargs):
    kwargs = {k: (getattr(lib, v[4:]) if isinstance(v, str) and v.startswith("lib.") else v)
              for k, v in kwargs.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = _outcome(lib.testing.make_tensor, *args, **kwargs)
    return outcome, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("args, kwargs", [
    ((2, 3, 4, 5), dict(device="cpu", dtype="lib.float32", noncontiguous=True,
                        memory_format="lib.channels_last")),
    ((2,), dict(device="cpu", dtype="lib.int64", requires_grad=True)),
    ((2,), dict(device="cpu", dtype="lib.bool", requires_grad=True)),
    ((2,), dict(device="cpu", dtype="lib.int64", requires_grad=True, low=5, high=1)),
    ((2,), dict(device="cpu", dtype="lib.float32", low=2, high=1)),
    ((2,), dict(device="cpu", dtype="lib.int64", low=2, high=2)),
    ((2,), dict(device="cpu", dtype="lib.int64", low=20)),
    ((2,), dict(device="cpu", dtype="lib.uint8", low=-1, high=-3)),
    ((2,), dict(device="cpu", dtype="lib.float32", low=NAN)),
    ((2,), dict(device="cpu", dtype="lib.float32", high=NAN)),
    ((2,), dict(device="cpu", dtype="lib.bool", low=NAN)),
    ((2,), dict(device="cpu", dtype="lib.float32", low=NAN, high=NAN)),
    ((2,), dict(device="cpu", dtype="lib.uint8", low=256, high=1e10)),
    ((2,), dict(device="cpu", dtype="lib.uint8", low=-5, high=-1)),
    ((2,), dict(device="cpu", dtype="lib.uint16", low=-5, high=-1)),
    ((2,), dict(device="cpu", dtype="lib.uint32", low=-5, high=-1)),
    ((2,), dict(device="cpu", dtype="lib.uint64", low=-5, high=-1)),
    ((2,), dict(device="cpu", dtype="lib.bool", low=2, high=5)),
    ((2,), dict(device="cpu", dtype="lib.int64", low=2 ** 63 - 1, high=2 ** 64)),
    ((2,), dict(device="cpu", dtype="lib.int64", low=2.0 ** 70, high=2.0 ** 71)),
    ((2,), dict(device="cpu", dtype="lib.float32", low=1e39, high=1e40)),
    ((2,), dict(device="cpu", dtype="lib.float32", low=-INF, high=-1e39)),
    ((2,), dict(device="cpu", dtype="lib.float32", low=float(np.finfo(np.float32).max),
                high=INF)),
    ((2,), dict(device="cpu", dtype="lib.float16", low=-1e10, high=-1e9)),
    ((2,), dict(device="cpu", dtype="lib.bfloat16", low=-1e40, high=-1e39)),
    ((2,), dict(device="cpu", dtype="lib.complex64", low=1e39, high=1e40)),
    ((2,), dict(device="cpu", dtype="lib.uint8", low=-5, high=0)),     # clamped to [0, 0)
    ((2,), dict(device="cpu", dtype="lib.int64", low=1.2, high=1.5)),  # rounded up to [2, 2)
    ((2,), dict(device="cpu", dtype="float32")),
    ((2,), dict(device="cpu", dtype=np.float32)),
    ((2,), dict(dtype="lib.float32", device="cuda")),
    ((-1,), dict(device="cpu", dtype="lib.float32")),
    ((2, 3, 4), dict(device="cpu", dtype="lib.float32", memory_format="lib.channels_last")),
    ((2,), dict(device="cpu")),
    ((2,), dict(dtype="lib.float32")),
    ((2, "lib.float32"), dict(device="cpu")),
])
def test_make_tensor_errors(args, kwargs):
    t_args = tuple(getattr(torch, a[4:]) if isinstance(a, str) else a for a in args)
    e_args = tuple(getattr(ember, a[4:]) if isinstance(a, str) else a for a in args)
    expected, _ = _make_outcome(torch, t_args, kwargs)
    got, _ = _make_outcome(ember, e_args, kwargs)
    assert expected is not None
    assert got == (expected[0], _spelled(expected[1]))


@pytest.mark.parametrize("name, low, fill", [
    ("float32", 2.0, 2.0), ("float16", 1e10, 65504.0), ("float32", -INF, -3.4028234663852886e38),
    ("complex64", 1, 1 + 1j), ("float64", 0.5, 0.5),
])
def test_make_tensor_low_equal_high_is_deprecated(name, low, fill):
    (t_outcome, t_warnings) = _make_outcome(torch, (3,), dict(dtype=f"lib.{name}", device="cpu",
                                                             low=low, high=low))
    (e_outcome, e_warnings) = _make_outcome(ember, (3,), dict(dtype=f"lib.{name}", device="cpu",
                                                             low=low, high=low))
    assert t_outcome is e_outcome is None
    assert e_warnings == [(c, _spelled(m)) for c, m in t_warnings]
    assert e_warnings[0][0] is FutureWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        values = _values(_make(ember, 3, dtype=name, low=low, high=low))
    assert (values == np.asarray(fill, values.dtype)).all()


def test_make_tensor_degenerate_clamped_range_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = _values(_make(ember, 3, dtype="float32", low=-INF,
                               high=float(np.finfo(np.float32).min)))
    assert (values == np.finfo(np.float32).min).all()


def test_make_tensor_follows_embers_seed():
    ember.manual_seed(123)
    a = ember.testing.make_tensor(50, dtype=ember.float32, device="cpu")
    b = ember.testing.make_tensor(50, dtype=ember.int64, device="cpu")
    ember.manual_seed(123)
    assert ember.equal(a, ember.testing.make_tensor(50, dtype=ember.float32, device="cpu"))
    assert ember.equal(b, ember.testing.make_tensor(50, dtype=ember.int64, device="cpu"))
    assert not ember.equal(a, ember.testing.make_tensor(50, dtype=ember.float32, device="cpu"))


def test_make_tensor_output_passes_assert_close_with_itself():
    x = ember.testing.make_tensor(4, 5, dtype=ember.float32, device="cpu", noncontiguous=True)
    ember.testing.assert_close(x, x.clone())
    with pytest.raises(AssertionError, match="Tensor-likes are not close"):
        ember.testing.assert_close(x, x + 1)


# ---------------------------------------------------------------------------------------------
# The module itself

def test_public_names_and_signatures_match_torch():
    skipped = {"FileCheck"}     # TorchScript IR checking: no TorchScript in ember
    public = {n for n in dir(torch.testing) if not n.startswith("_")} - skipped
    assert public <= set(dir(ember.testing))
    for name in public:
        t_params = inspect.signature(getattr(torch.testing, name)).parameters
        e_params = inspect.signature(getattr(ember.testing, name)).parameters
        assert list(e_params) == list(t_params), name
        for p in t_params:
            assert e_params[p].kind == t_params[p].kind, (name, p)
            assert e_params[p].default == t_params[p].default, (name, p)


def test_import_ember_does_not_load_testing():
    code = ("import sys, ember; assert 'ember.testing' not in sys.modules; "
            "ember.testing.assert_close(1, 1); assert 'ember.testing' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
