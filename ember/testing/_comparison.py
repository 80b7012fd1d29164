"""assert_close: are two tensors, arrays, numbers, or nested sequences and mappings of them close?

The comparison runs in two passes, as torch's does, and the order is observable:
1. *Pairing* walks both inputs together. Sequences (not strings) must have equal lengths and
   mappings equal key sets; each leaf pair must be of a kind that can be compared (None, bools,
   numbers, tensor-likes) and get valid tolerances. The first problem found depth-first raises
   at once (AssertionError, TypeError or ValueError), and `msg` does not apply to it.
2. *Comparing* checks the pairs in order and raises the first mismatch as an AssertionError,
   its message replaced (`msg` a string) or rewritten (`msg` a callable) by the caller's `msg`.
So a length mismatch late in a list is reported before a value mismatch early in it.

Failures inside containers end with "The failure occurred for item [1]['a']", the path to the
leaf. Closeness follows torch.isclose, rounding as torch does for half precision; the report
names the number of mismatches and the greatest absolute and relative differences.
"""
import cmath
import collections.abc
import math
import warnings

import numpy as np

import ember

# torch.testing's default (rtol, atol) per dtype; every other dtype compares exactly.
_DEFAULT_TOLERANCES = {
    ember.float16: (1e-3, 1e-5),
    ember.bfloat16: (1.6e-2, 1e-5),
    ember.float32: (1.3e-6, 1e-5),
    ember.float64: (1e-7, 1e-7),
    ember.complex32: (1e-3, 1e-5),
    ember.complex64: (1.3e-6, 1e-5),
    ember.complex128: (1e-7, 1e-7),
}

# Python numbers compare with the tolerances of the dtype torch.as_tensor would give them.
_NUMBER_DTYPES = {int: ember.int64, float: ember.float64, complex: ember.complex128}

# torch's own words (pointing at its tracker), kept so that the messages are identical
_BUG_NOTE = ("If you are a user and see this message during normal operation please file an "
             "issue at https://github.com/pytorch/pytorch/issues. If you are a developer and "
             "working on the comparison functions, please except the previous error and raise "
             "an expressive `ErrorMeta` instead.")


class _Failure(Exception):
    """A located failure: the exception type to raise, its message, and the path to the leaf."""

    def __init__(self, exc_type, message, path=()):
        super().__init__(message)
        self.exc_type, self.message, self.path = exc_type, message, path

    def to_exception(self, msg=None):
        text = self.message
        if self.path:
            text += f"\n\nThe failure occurred for item {_item(self.path)}"
        if isinstance(msg, str):
            text = msg              # a string replaces the message, item path included
        elif callable(msg):
            text = msg(text)        # a callable rewrites it
        return self.exc_type(text)


def _item(path):
    return "".join(f"[{key!r}]" for key in path)


# ---------------------------------------------------------------------------------------------
# Public functions

def assert_close(actual, expected, *, allow_subclasses: bool = True, rtol: float = None,
                 atol: float = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg=None) -> None:
    """Raise AssertionError unless `actual` and `expected` are close.

    Values are close when |actual - expected| <= atol + rtol * |expected| (not symmetric: the
    tolerance scales with `expected`); infinities must be equal and NaNs match only with
    `equal_nan`. Tensors must also agree in shape, and in device, dtype, layout and stride when
    those checks are on; with check_dtype=False both are promoted (torch.promote_types) and the
    larger default tolerances of the two dtypes apply. Tensors and NumPy arrays compare only with
    their own kind (a Tensor never matches an ndarray or a number); Python numbers compare with
    each other, and numbers of different types need check_dtype=False. rtol and atol come
    together or not at all; without them each dtype has torch's defaults (0 for integers).
    """
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype, check_layout=check_layout,
                   check_stride=check_stride)
    try:
        pairs = _pair_up(actual, expected, (), options)
    except _Failure as failure:
        raise failure.to_exception() from None
    for pair in pairs:
        try:
            message = pair.compare()
        except Exception as exc:    # a bad argument that slipped through, e.g. a negative rtol
            raise RuntimeError(f"Comparing\n\n{pair!r}\n\nresulted in the unexpected exception "
                               f"above. {_BUG_NOTE}") from exc
        if message is not None:
            raise _Failure(AssertionError, message, pair.path).to_exception(msg) from None


# assert_allclose's tolerances before assert_close existed; other dtypes compare exactly.
_LEGACY_TOLERANCES = {ember.float16: (1e-3, 1e-3), ember.float32: (1e-4, 1e-5),
                      ember.float64: (1e-5, 1e-8)}


def assert_allclose(actual, expected, rtol: float = None, atol: float = None,
                    equal_nan: bool = True, msg: str = "") -> None:
    """Deprecated (FutureWarning) forerunner of assert_close, kept for old test suites.

    Differences from assert_close: inputs that are not tensors become tensors first (`expected`
    in `actual`'s dtype, so a list matches a tensor), dtypes may differ, NaNs are equal by
    default, and the default tolerances are the older, looser table (float32: rtol 1e-4).
    """
    warnings.warn("`ember.testing.assert_allclose()` is deprecated since 1.12 and will be "
                  "removed in a future release. Please use `ember.testing.assert_close()` "
                  "instead. You can find detailed upgrade instructions in "
                  "https://github.com/pytorch/pytorch/issues/61844.", FutureWarning, stacklevel=2)
    if not isinstance(actual, ember.Tensor):
        actual = ember.as_tensor(actual)
    if not isinstance(expected, ember.Tensor):
        expected = ember.as_tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = _max_tolerances((actual.dtype, expected.dtype), _LEGACY_TOLERANCES)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)


# ---------------------------------------------------------------------------------------------
# Pass 1: pairing

def _is_sequence(x):
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, str)


def _pair_up(actual, expected, path, options):
    """The leaf pairs of two nested inputs, depth-first; raises _Failure on structural problems."""
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: "
                                           f"{len(actual)} != {len(expected)}", path)
        pairs = []
        for i, (a, e) in enumerate(zip(actual, expected)):
            pairs.extend(_pair_up(a, e, path + (i,), options))
        return pairs
    if isinstance(actual, collections.abc.Mapping) and \
            isinstance(expected, collections.abc.Mapping):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            # sorted() raises TypeError for keys of mixed types, as torch's report does
            missing = sorted(expected_keys - actual_keys)
            extra = sorted(actual_keys - expected_keys)
            raise _Failure(AssertionError, f"The keys of the mappings do not match:\n"
                                           f"Missing keys in the actual mapping: {missing}\n"
                                           f"Additional keys in the actual mapping: {extra}", path)
        try:        # key order does not matter; sorted keys make the first failure predictable
            keys = sorted(actual_keys)
        except TypeError:
            keys = list(actual.keys())
        pairs = []
        for key in keys:
            pairs.extend(_pair_up(actual[key], expected[key], path + (key,), options))
        return pairs
    return [_make_pair(actual, expected, path, options)]


def _is_bool(x):
    return isinstance(x, (bool, np.bool_))


def _is_number(x):
    # Python's bool is an int, so it lands here when paired with a non-bool (and then fails)
    return isinstance(x, (int, float, complex, np.number))


def _make_pair(actual, expected, path, options):
    if actual is None or expected is None:
        return _NonePair(actual, expected, path)
    if _is_bool(actual) and _is_bool(expected):
        return _BooleanPair(actual, expected, path)
    if _is_number(actual) and _is_number(expected):
        return _NumberPair(actual, expected, path, options)
    if _related_tensor_likes(actual, expected, options["allow_subclasses"]):
        pair = _TensorLikePair.make(actual, expected, path, options)
        if pair is not None:
            return pair
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type "
                              f"{type(actual)} and {type(expected)}.", path)


def _related_tensor_likes(actual, expected, allow_subclasses):
    """Both tensors or both arrays, of one type, or (allow_subclasses) one's type a subclass of
    the other's: an ember.nn.Parameter matches a Tensor, a Tensor never matches an ndarray."""
    if not all(isinstance(x, (ember.Tensor, np.ndarray)) for x in (actual, expected)):
        return False
    if type(actual) is type(expected):
        return True
    return allow_subclasses and (isinstance(actual, type(expected)) or
                                 isinstance(expected, type(actual)))


def _tolerances(dtypes, rtol, atol, path):
    """The (rtol, atol) to use: both given, or the larger defaults of the dtypes involved."""
    if (rtol is None) != (atol is None):
        missing = "rtol" if rtol is None else "atol"
        raise _Failure(ValueError, f"Both 'rtol' and 'atol' must be either specified or omitted, "
                                   f"but got no {missing}.", path)
    if rtol is not None:
        return rtol, atol
    return _max_tolerances(dtypes, _DEFAULT_TOLERANCES)


def _max_tolerances(dtypes, table):
    tolerances = [table.get(dt, (0.0, 0.0)) for dt in dtypes]
    return max(r for r, _ in tolerances), max(a for _, a in tolerances)


def _fields_repr(name, fields):
    body = "".join(f"    {key}={str(value)},\n" for key, value in fields.items())
    return f"{name}(\n{body})"


# ---------------------------------------------------------------------------------------------
# Pass 2: the pairs. compare() returns None when close, else the failure message.

class _NonePair:
    """None matches only None."""

    def __init__(self, actual, expected, path):
        self.actual, self.expected, self.path = actual, expected, path

    def compare(self):
        if not (self.actual is None and self.expected is None):
            return f"None mismatch: {self.actual} is not {self.expected}"
        return None

    def __repr__(self):
        return _fields_repr("NonePair", dict(id=self.path, actual=self.actual,
                                             expected=self.expected))


class _BooleanPair:
    """Python and NumPy bools compare by equality, without tolerances."""

    def __init__(self, actual, expected, path):
        self.actual, self.expected, self.path = bool(actual), bool(expected), path

    def compare(self):
        if self.actual != self.expected:
            return f"Booleans mismatch: {self.actual} is not {self.expected}"
        return None

    def __repr__(self):
        return _fields_repr("BooleanPair", dict(id=self.path, actual=self.actual,
                                                expected=self.expected))


def _number_type(x):
    if isinstance(x, np.number):    # NumPy scalars count as the Python number they hold
        return int if isinstance(x, np.integer) else \
            float if isinstance(x, np.floating) else complex
    return type(x)


class _NumberPair:
    """Python (and NumPy) numbers, compared in Python arithmetic: no int64 overflow."""

    def __init__(self, actual, expected, path, options):
        types = (_number_type(actual), _number_type(expected))
        if not all(t in _NUMBER_DTYPES for t in types):
            # torch has no dtype for a bool here (paired with an int, float or complex); its
            # lookup fails with this internal error rather than a comparison message
            bad = next(t for t in types if t not in _NUMBER_DTYPES)
            raise RuntimeError(
                f"Originating a NumberPair() at item {_item(path)} with\n\n"
                f"{type(actual).__name__}(): {actual}\n\nand\n\n"
                f"{type(expected).__name__}(): {expected}\n\nresulted in the unexpected "
                f"exception above. {_BUG_NOTE}") from KeyError(bad)
        self.types = types
        self.actual, self.expected = (x.item() if isinstance(x, np.number) else x
                                      for x in (actual, expected))
        self.path = path
        self.rtol, self.atol = _tolerances([_NUMBER_DTYPES[t] for t in types],
                                           options["rtol"], options["atol"], path)
        self.equal_nan, self.check_dtype = options["equal_nan"], options["check_dtype"]

    def compare(self):
        if self.check_dtype and self.types[0] is not self.types[1]:
            return f"The (d)types do not match: {self.types[0]} != {self.types[1]}."
        a, e = self.actual, self.expected
        if a == e or (self.equal_nan and _isnan(a) and _isnan(e)):
            return None
        if _isfinite(a) and _isfinite(e) and abs(a - e) <= self.atol + self.rtol * abs(e):
            return None
        return _scalar_mismatch(a, e, self.rtol, self.atol)

    def __repr__(self):
        return _fields_repr("NumberPair", dict(
            id=self.path, actual=self.actual, expected=self.expected, rtol=self.rtol,
            atol=self.atol, equal_nan=self.equal_nan, check_dtype=self.check_dtype))


def _isnan(x):
    return isinstance(x, (float, complex)) and cmath.isnan(x)


def _isfinite(x):
    return not isinstance(x, (float, complex)) or cmath.isfinite(x)


class _TensorLikePair:
    """ember Tensors, or NumPy arrays (compared as the tensors ember.as_tensor makes of them)."""

    @classmethod
    def make(cls, actual, expected, path, options):
        """The pair, or None when an array holds something no tensor can (strings, objects)."""
        try:
            # np.asarray: an ndarray subclass (np.matrix) compares as its plain data
            tensors = [x if isinstance(x, ember.Tensor) else ember.as_tensor(np.asarray(x))
                       for x in (actual, expected)]
        except (TypeError, ValueError, RuntimeError):
            return None
        return cls(*tensors, path, options)

    def __init__(self, actual, expected, path, options):
        self.actual, self.expected, self.path = actual, expected, path
        self.rtol, self.atol = _tolerances((actual.dtype, expected.dtype), options["rtol"],
                                           options["atol"], path)
        self.options = options

    def compare(self):
        o = self.options
        a, e = self.actual.detach(), self.expected.detach()
        checks = [("shape", a.shape, e.shape, True),      # torch checks stride before device, dtype
                  ("layout", a.layout, e.layout, o["check_layout"]),
                  ("stride()", a.stride(), e.stride(), o["check_stride"]),
                  ("device", a.device, e.device, o["check_device"]),
                  ("dtype", a.dtype, e.dtype, o["check_dtype"])]
        for name, actual_value, expected_value, enabled in checks:
            if enabled and actual_value != expected_value:
                return (f"The values for attribute '{name}' do not match: "
                        f"{actual_value} != {expected_value}.")
        if a.device != e.device:    # check_device=False: compare on the CPU
            a, e = a.cpu(), e.cpu()
        if a.dtype != e.dtype:      # check_dtype=False: compare in the promoted dtype
            dtype = ember.promote_types(a.dtype, e.dtype)
            a, e = a.to(dtype), e.to(dtype)
        matches = _isclose(a, e, self.rtol, self.atol, o["equal_nan"])
        if matches.all():
            return None
        if a.dim() == 0:
            return _scalar_mismatch(a.item(), e.item(), self.rtol, self.atol)
        return _tensor_mismatch(a, e, matches, self.rtol, self.atol)

    def __repr__(self):
        o = self.options
        return _fields_repr("TensorLikePair", dict(
            id=self.path, actual=self.actual, expected=self.expected, rtol=self.rtol,
            atol=self.atol, equal_nan=o["equal_nan"], check_device=o["check_device"],
            check_dtype=o["check_dtype"], check_layout=o["check_layout"],
            check_stride=o["check_stride"]))


# ---------------------------------------------------------------------------------------------
# Closeness and the mismatch reports

def _isclose(actual, expected, rtol, atol, equal_nan):
    """torch.isclose(actual, expected) as a NumPy bool array; both tensors share one dtype.

    Equal values (infinities included) are close; otherwise only finite differences within
    atol + rtol * |expected| are. Like torch: with rtol = atol = 0 integers compare exactly, with
    tolerances they compare as the default float dtype; half-precision types compute rtol *
    |expected| in float32 and round it, and add atol, in their own precision.
    """
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    if not isinstance(equal_nan, (bool, np.bool_)):
        raise TypeError(f"isclose(): argument 'equal_nan' must be bool, not "
                        f"{type(equal_nan).__name__}")
    dtype = actual.dtype
    inexact = dtype.is_floating_point or dtype.is_complex
    a, e = actual.numpy(), expected.numpy()
    close = np.asarray(a == e)
    if equal_nan and inexact:
        close |= np.isnan(a) & np.isnan(e)     # a complex is NaN when either part is
    if rtol == 0 and atol == 0:
        return close
    if not inexact:
        default = ember.get_default_dtype()
        a, e = actual.to(default).numpy(), expected.to(default).numpy()
    with np.errstate(invalid="ignore", over="ignore"):
        magnitude = _magnitude(e)              # real dtype, also for complex inputs
        real = magnitude.dtype
        opmath = np.float32 if real.itemsize < 4 else real
        allowed = (np.asarray(rtol, opmath) * magnitude.astype(opmath)).astype(real)
        allowed = np.asarray(atol).astype(real) + allowed
        difference = _magnitude(a - e)
        close |= np.isfinite(difference) & (difference <= allowed)
    return close


def _magnitude(x):
    """|x|; for complex numbers as hypot(real, imag), which torch.abs matches bit for bit and
    np.abs (a different algorithm) does not in the last place for about a third of values."""
    return np.hypot(x.real, x.imag) if np.iscomplexobj(x) else np.abs(x)


def _header(kind, rtol, atol):
    return f"{kind} are not {'equal' if rtol == 0 and atol == 0 else 'close'}!\n\n"


def _allowed(tolerance, rtol, atol):
    return "" if rtol == 0 and atol == 0 else f" (up to {tolerance} allowed)"


def _scalar_mismatch(actual, expected, rtol, atol):
    """The report for two Python numbers (or 0-d tensors' items), in Python arithmetic."""
    abs_diff = abs(actual - expected)
    rel_diff = abs_diff / abs(expected) if expected != 0 else math.inf
    return (_header("Scalars", rtol, atol)
            + f"Expected {expected} but got {actual}.\n"
            f"Absolute difference: {abs_diff}{_allowed(atol, rtol, atol)}\n"
            f"Relative difference: {rel_diff}{_allowed(rtol, rtol, atol)}")


def _tensor_mismatch(actual, expected, matches, rtol, atol):
    """The report for tensors: how many elements mismatch, and the greatest differences.

    Differences are taken in the compared dtype (so a float16 report shows float16 rounding);
    integers and bools subtract as int64 (no uint8 wrap-around) and divide into the default float
    dtype. Elements that match count as difference 0; the first greatest (NaN beats everything)
    is reported with its index.
    """
    inexact = actual.dtype.is_floating_point or actual.dtype.is_complex
    if not inexact:
        actual, expected = actual.to(ember.int64), expected.to(ember.int64)
    a, e = actual.numpy().ravel(), expected.numpy().ravel()
    matches = matches.ravel()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        abs_diff = _magnitude(a - e)
        abs_diff[matches] = 0
        magnitude = _magnitude(e)
        if not inexact:
            default = ember.empty(0, dtype=ember.get_default_dtype()).numpy().dtype
            abs_quotient, magnitude = abs_diff.astype(default), magnitude.astype(default)
        else:
            abs_quotient = abs_diff
        rel_diff = abs_quotient / magnitude
        rel_diff[matches] = 0
    shape = tuple(actual.shape)
    total = matches.size
    mismatches = total - int(matches.sum())

    def greatest(diff):
        flat_index = int(np.argmax(diff))
        index = tuple(int(i) for i in np.unravel_index(flat_index, shape))
        return diff[flat_index].item(), index

    max_abs, abs_index = greatest(abs_diff)
    max_rel, rel_index = greatest(rel_diff)
    return (_header("Tensor-likes", rtol, atol)
            + f"Mismatched elements: {mismatches} / {total} ({mismatches / total:.1%})\n"
            f"Greatest absolute difference: {max_abs} at index {abs_index}"
            f"{_allowed(atol, rtol, atol)}\n"
            f"Greatest relative difference: {max_rel} at index {rel_index}"
            f"{_allowed(rtol, rtol, atol)}")
