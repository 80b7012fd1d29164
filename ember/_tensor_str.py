"""Tensor printing: `repr(t)` and `str(t)` write exactly torch's text, with "ember." in place of
"torch." where a module name appears (`dtype=ember.float16`).

How a tensor is written (torch's rules, kept here step by step):
1. A tensor with more than `threshold` elements is summarised: along every dim longer than
   `2 * edgeitems` only the first and last `edgeitems` entries are kept, and a `...` marks the cut.
2. One formatter looks at the kept values and decides, once for the whole tensor, the notation
   (integer mode, scientific or fixed) and a common width. Only the finite non-zero values count:
   zeros, nan and inf neither switch notation nor widen the columns.
3. Each element is right-aligned to that width; rows wrap at `linewidth`, continuation lines
   indented under the first element; n-d blocks are separated by `ndim - 1` newlines.
4. Suffixes (`device=`, `size=`, `dtype=`, `grad_fn=` or `requires_grad=True`) follow, each
   moved to a new line when it would pass `linewidth`.

All of it runs on the backend array: printing records nothing in the autograd graph.
"""
import math

import numpy as np

from ember import _dtype
# torch._tensor_str holds the options too; the same objects are reachable from here
from ember._printing import PRINT_OPTS, get_printoptions, printoptions, set_printoptions  # noqa: F401

__all__ = ["tensor_repr"]


# ---------------------------------------------------------------------------------------------
# The repr: prefix, contents, suffixes

def tensor_repr(t, tensor_contents=None):
    """torch's `Tensor.__repr__` text for `t`; `tensor_contents` replaces the bracketed data."""
    plain = _is_plain(t)
    prefix = "tensor(" if plain else type(t).__name__ + "("
    indent = len(prefix)
    suffixes = []

    device = t.device
    if device.type != "cpu":   # torch names the device only when it is not the default one
        suffixes.append(f"device='{device}'")

    a = _host(t._data)
    dtype = t.dtype
    if a.size == 0:
        if a.ndim != 1:   # NumPy's habit: the shape is spelt out unless it is (0,)
            suffixes.append(f"size={tuple(a.shape)}")
        # no elements to tell int64 from float apart: any non-default dtype is named
        if dtype is not _dtype.get_default_dtype():
            suffixes.append(f"dtype={dtype}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:   # nothing of the data is shown, so the shape is
            suffixes.append(f"size={tuple(a.shape)}")
        if not _dtype_is_implied(dtype):
            suffixes.append(f"dtype={dtype}")
        body = None if tensor_contents is not None else _tensor_str(a, dtype, indent)
    if tensor_contents is not None:
        body = tensor_contents

    grad_fn = t.grad_fn
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn.name().rsplit('::', 1)[-1]}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")

    text = _add_suffixes(prefix + body, suffixes, indent)
    # subclasses of Parameter are wrapped; a plain Parameter's own __repr__ adds its header
    if not plain and _is_parameter(t):
        text = f"Parameter({text})"
    return text


def _is_plain(t):
    """Tensor, Parameter and Buffer print as `tensor(...)`; other subclasses by their name."""
    from ember._tensor import Tensor
    cls = type(t)
    if cls is Tensor:
        return True
    from ember.nn.parameter import Buffer, Parameter
    return cls is Parameter or cls is Buffer   # torch's nn.Buffer returns a plain Tensor


def _is_parameter(t):
    from ember.nn.parameter import Parameter
    return isinstance(t, Parameter)


def _dtype_is_implied(dtype):
    """True for the dtypes that `tensor(data)` infers: the default float dtype, its complex
    counterpart (complex128 only for a float64 default, else complex64), int64 and bool."""
    default = _dtype.get_default_dtype()
    complex_default = _dtype.complex128 if default is _dtype.float64 else _dtype.complex64
    return dtype in (default, complex_default, _dtype.int64, _dtype.bool)


def _add_suffixes(text, suffixes, indent):
    """Append `, suffix` for each suffix, starting a new line (indented to the data) when the
    current line would pass linewidth. torch's line length count is `len - rfind('\\n') + 1`,
    two more than the true length on the first line; kept, since the breaks depend on it."""
    parts = [text]
    line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# The contents: summarise, format, lay out

def _tensor_str(a, dtype, indent):
    """The bracketed data of a non-empty array `a`, its first line starting at column `indent`."""
    summarize = a.size > PRINT_OPTS.threshold
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge and a.ndim > 0:
        return "[...]"   # no edge items: every dim collapses to its ellipsis

    cuts = (False,) * a.ndim
    if summarize:
        a, cuts = _summarize(a, edge)
    a = _widen(a, dtype)   # after summarising: only the shown values are copied

    if a.dtype.kind == "c":
        real, imag = _Formatter(a.real), _Formatter(a.imag)
        strs = [_complex_str(r, i) for r, i in zip(real.strings(), imag.strings())]
        element_len = real.width + 2 + imag.width + 1   # ", " between, "j" after the imag
    else:
        fmt = _Formatter(a)
        strs = fmt.strings()
        element_len = fmt.width + 2

    if a.ndim == 0:
        return strs[0]
    return _block(strs, a.shape, cuts, edge, 0, 0, indent, element_len)


def _host(a):
    """A NumPy array for `a` (a CuPy array is copied to the host; printing is not hot)."""
    return a if isinstance(a, np.ndarray) else np.asarray(a.get() if hasattr(a, "get") else a)


def _widen(a, dtype):
    """Floats as float64 and complex as complex128: exact for every narrower type (float16,
    bfloat16, float8), and Python formats a float64 the way torch formats `item()`."""
    if dtype.is_complex:
        return a.astype(np.complex128, copy=False)
    if dtype.is_floating_point:
        return a.astype(np.float64, copy=False)
    return a


def _summarize(a, edge):
    """The first and last `edge` entries along each dim longer than `2 * edge`, with a flag per
    dim saying where a cut was made (torch's `get_summarized_data`)."""
    cuts = []
    for axis, n in enumerate(a.shape):
        cut = n > 2 * edge
        if cut:
            keep = np.r_[0:edge, n - edge:n]
            a = np.take(a, keep, axis=axis)
        cuts.append(cut)
    return a, tuple(cuts)


def _block(strs, shape, cuts, edge, axis, offset, indent, element_len):
    """Nested brackets over the flat, C-ordered element strings `strs` for dims `axis..`."""
    n = shape[axis]
    if axis == len(shape) - 1:
        row = strs[offset:offset + n]
        if cuts[axis]:
            row = row[:edge] + [" ..."] + row[edge:]
        return _wrap_row(row, indent, element_len)

    step = math.prod(shape[axis + 1:])
    rows = [_block(strs, shape, cuts, edge, axis + 1, offset + i * step, indent + 1, element_len)
            for i in range(n)]
    if cuts[axis]:
        rows = rows[:edge] + ["..."] + rows[edge:]
    sep = "," + "\n" * (len(shape) - axis - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def _wrap_row(row, indent, element_len):
    """One 1-d row in brackets, as many elements per line as fit in linewidth (at least one)."""
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_len))
    lines = [", ".join(row[i:i + per_line]) for i in range(0, len(row), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _complex_str(real, imag):
    """`real+imagj`: the real part keeps its padding, the imaginary part loses it."""
    imag = (imag + "j").lstrip()
    return real + imag if imag[0] in "+-" else real + "+" + imag


# ---------------------------------------------------------------------------------------------
# The formatter: one notation and one width for all the values shown

class _Formatter:
    """Formats the values of an array (float64, integer or bool) with torch's rules.

    Floats take one of three notations, decided from the finite non-zero values only:
    integer mode (`1.`, all of them whole numbers), scientific (`1.0000e+00`) or fixed
    (`1.0000`). With no finite non-zero value at all, integer mode is kept and the `sci_mode`
    print option is ignored (torch returns before reading it): `tensor([0., nan])`.
    """

    def __init__(self, values):
        self.values = values.reshape(-1)
        self.is_float = values.dtype.kind == "f"
        if self.is_float:
            shown = _finite_nonzero(self.values)
            self.int_mode = _int_mode(shown)
            self.sci_mode = _sci_mode(shown)
            self._strs = self._float_strings()
            self.width = _width(self._strs, np.isfinite(self.values) & (self.values != 0))
        else:
            self._strs = list(map(str, self.values.tolist()))
            self.width = _width(self._strs, None)

    def _float_strings(self):
        items = self.values.tolist()
        if self.sci_mode:
            return list(map(f"{{:.{PRINT_OPTS.precision}e}}".format, items))
        if self.int_mode:
            # whole numbers get a trailing point to show a float dtype; nan and inf do not
            return [s + "." if s[-1].isdigit() else s for s in map("{:.0f}".format, items)]
        return list(map(f"{{:.{PRINT_OPTS.precision}f}}".format, items))

    def strings(self):
        """The values' texts, each right-aligned to the common width."""
        w = self.width
        return [s.rjust(w) for s in self._strs]


def _finite_nonzero(values):
    return values[np.isfinite(values) & (values != 0)]


def _int_mode(shown):
    """Integer mode: every finite non-zero value is a whole number (vacuously true)."""
    return bool(np.all(shown == np.ceil(shown)))


def _sci_mode(shown):
    """Scientific notation when the finite non-zero magnitudes span more than 1000x, pass 1e8
    or go below 1e-4 -- unless `set_printoptions(sci_mode=)` forces it. With no such value
    torch never reaches the decision: fixed (in fact integer) mode, whatever the option."""
    if shown.size == 0:
        return False
    if PRINT_OPTS.sci_mode is not None:
        return bool(PRINT_OPTS.sci_mode)
    mags = np.abs(shown)
    lo, hi = mags.min(), mags.max()
    with np.errstate(over="ignore"):   # max / subnormal min overflows to inf: still "> 1000"
        return bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)


def _width(strs, counted):
    """The column width: the longest text among the counted values (all when `counted` is
    None), at least 1. Uncounted texts (zeros, nan, inf) are never cut, only not padded."""
    if counted is None:
        return max(1, max(map(len, strs), default=1))
    lengths = np.fromiter(map(len, strs), dtype=np.intp, count=len(strs))
    lengths = lengths[counted]
    return max(1, int(lengths.max())) if lengths.size else 1
