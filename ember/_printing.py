"""Print options for tensors: `ember.set_printoptions`, as torch's.

The options live in one module-level object, `PRINT_OPTS`, that `ember/_tensor_str.py` reads on
every repr. Traps kept from torch:
- every call resets `sci_mode` (passing nothing sets it back to automatic, `None`);
- a `profile` is applied first, then the explicit options override it;
- an unknown profile name is ignored silently, and no option is validated.
"""
import contextlib
import math

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "PRINT_OPTS"]


class _PrintOptions:
    """The current options; field names and defaults are torch's."""

    __slots__ = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")

    def __init__(self):
        self.precision = 4
        self.threshold = 1000
        self.edgeitems = 3
        self.linewidth = 80
        self.sci_mode = None

    def __repr__(self):   # torch's object is a dataclass named __PrinterOptions
        fields = ", ".join(f"{k}={v!r}" for k, v in get_printoptions().items())
        return f"__PrinterOptions({fields})"


PRINT_OPTS = _PrintOptions()

# profile name -> (precision, threshold, edgeitems, linewidth)
_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set the options used to print tensors.

    precision: digits after the point (default 4); threshold: element count above which a
    tensor is summarised with `...` (default 1000); edgeitems: items kept at each end of a
    summarised dim (default 3); linewidth: characters per line before wrapping (default 80);
    profile: "default", "short" or "full" (no summarising), applied before the other options;
    sci_mode: True/False forces scientific notation on/off, None lets the formatter decide.
    """
    for name, values in _PROFILES.items():
        if profile == name:   # compared, not looked up: any object is accepted and ignored
            (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
             PRINT_OPTS.linewidth) = values
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode   # torch resets it on every call


def get_printoptions():
    """The current options as a dict that `set_printoptions(**d)` accepts."""
    return {name: getattr(PRINT_OPTS, name) for name in _PrintOptions.__slots__}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change the print options (same arguments as `set_printoptions`)."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)
