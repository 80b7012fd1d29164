"""dtypes: `ember.float32 ...` objects, their NumPy dtypes, and PyTorch's type promotion.

torch's promotion differs from NumPy's in ways that programs notice:
- categories bool < integer < floating < complex decide first; within a category the wider wins
  (`int64 + float16 -> float16`, where NumPy says float64);
- `uint8 + int8 -> int16`; `float16 + bfloat16 -> float32`;
- Python scalars and 0-d tensors take part by category only: `int32_tensor + 2.5` is the default
  float dtype, `float16_tensor + float64_0d` stays float16.
"""
import math

import numpy as np

__all__ = [
    "dtype", "bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64",
    "float16", "bfloat16", "float32", "float64", "complex32", "complex64", "complex128",
    "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
    "half", "float", "double", "cfloat", "cdouble", "chalf", "short", "int", "long",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type", "can_cast",
    "finfo", "iinfo",
]

_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type, printed and compared as torch's (`ember.float32 is ember.float`)."""

    __slots__ = ("_name", "_np", "itemsize", "is_floating_point", "is_complex", "is_signed",
                 "_category", "_legacy", "_abbr")

    def __init__(self, name, np_dtype, itemsize, category, is_signed, legacy, abbr):
        self._name = name
        self._np = np_dtype      # a numpy.dtype, a callable that makes one lazily, or None
        self.itemsize = itemsize
        self._category = category
        self.is_floating_point = category == _FLOAT
        self.is_complex = category == _COMPLEX
        self.is_signed = is_signed
        self._legacy = legacy    # the name in 'torch.FloatTensor'
        self._abbr = abbr

    @property
    def np(self):
        """The NumPy dtype that stores this type (bfloat16 and float8 come from ml_dtypes)."""
        npd = self._np
        if isinstance(npd, np.dtype):
            return npd
        if npd is None:   # torch itself implements few ops for ComplexHalf
            raise NotImplementedError(f"not implemented for '{self._legacy}': {self!r} has no "
                                      f"NumPy storage type, so ember cannot compute with it")
        self._np = npd = npd()
        return npd

    @property
    def abbr(self):
        return self._abbr

    def to_complex(self):
        if self._category == _COMPLEX:
            return self
        if self._category != _FLOAT:
            raise RuntimeError(f"Unknown Complex ScalarType for {self._legacy}")
        return {float16: complex32, bfloat16: complex64, float32: complex64,
                float64: complex128}.get(self) or _no_complex(self)

    def to_real(self):
        return {complex32: float16, complex64: float32, complex128: float64}.get(self, self)

    def __repr__(self):
        return "ember." + self._name

    __str__ = __repr__

    def __reduce__(self):  # pickles as the module attribute of the same name, like torch's
        return self._name


def _no_complex(dt):
    raise RuntimeError(f"Unknown Complex ScalarType for {dt._legacy}")


def _ml_dtype(name):
    def load():
        try:
            import ml_dtypes
        except ImportError:
            raise ImportError(f"ember.{name} needs the ml_dtypes package: "
                              "pip install ember[bfloat16]") from None
        return np.dtype(getattr(ml_dtypes, name))
    return load


bool = dtype("bool", np.dtype(np.bool_), 1, _BOOL, False, "Bool", "b8")
uint8 = dtype("uint8", np.dtype(np.uint8), 1, _INT, False, "Byte", "u8")
int8 = dtype("int8", np.dtype(np.int8), 1, _INT, True, "Char", "i8")
int16 = dtype("int16", np.dtype(np.int16), 2, _INT, True, "Short", "i16")
int32 = dtype("int32", np.dtype(np.int32), 4, _INT, True, "Int", "i32")
int64 = dtype("int64", np.dtype(np.int64), 8, _INT, True, "Long", "i64")
uint16 = dtype("uint16", np.dtype(np.uint16), 2, _INT, False, "UInt16", "u16")
uint32 = dtype("uint32", np.dtype(np.uint32), 4, _INT, False, "UInt32", "u32")
uint64 = dtype("uint64", np.dtype(np.uint64), 8, _INT, False, "UInt64", "u64")
float16 = dtype("float16", np.dtype(np.float16), 2, _FLOAT, True, "Half", "f16")
bfloat16 = dtype("bfloat16", _ml_dtype("bfloat16"), 2, _FLOAT, True, "BFloat16", "bf16")
float32 = dtype("float32", np.dtype(np.float32), 4, _FLOAT, True, "Float", "f32")
float64 = dtype("float64", np.dtype(np.float64), 8, _FLOAT, True, "Double", "f64")
complex32 = dtype("complex32", None, 4, _COMPLEX, True, "ComplexHalf", "c32")
complex64 = dtype("complex64", np.dtype(np.complex64), 8, _COMPLEX, True, "ComplexFloat", "c64")
complex128 = dtype("complex128", np.dtype(np.complex128), 16, _COMPLEX, True, "ComplexDouble",
                   "c128")
float8_e4m3fn = dtype("float8_e4m3fn", _ml_dtype("float8_e4m3fn"), 1, _FLOAT, True,
                      "Float8_e4m3fn", "f8e4m3fn")
float8_e5m2 = dtype("float8_e5m2", _ml_dtype("float8_e5m2"), 1, _FLOAT, True, "Float8_e5m2",
                    "f8e5m2")
float8_e4m3fnuz = dtype("float8_e4m3fnuz", _ml_dtype("float8_e4m3fnuz"), 1, _FLOAT, True,
                        "Float8_e4m3fnuz", "f8e4m3fnuz")
float8_e5m2fnuz = dtype("float8_e5m2fnuz", _ml_dtype("float8_e5m2fnuz"), 1, _FLOAT, True,
                        "Float8_e5m2fnuz", "f8e5m2fnuz")

half, float, double = float16, float32, float64
cfloat, cdouble, chalf = complex64, complex128, complex32
short, int, long = int16, int32, int64

ALL = (bool, uint8, int8, int16, int32, int64, uint16, uint32, uint64, float16, bfloat16,
       float32, float64, complex32, complex64, complex128,
       float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz)
_FLOAT8 = frozenset((float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz))
_BIG_UNSIGNED = frozenset((uint16, uint32, uint64))

# NumPy dtype -> ember dtype. Keyed by np.dtype (hashes and compares like its type and its char).
_FROM_NP = {dt._np: dt for dt in ALL if isinstance(dt._np, np.dtype)}


def from_numpy_dtype(npd):
    """The ember dtype that stores like `npd`, or TypeError for types torch has no name for."""
    try:
        return _FROM_NP[npd]
    except KeyError:
        pass
    for dt in (bfloat16, float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz):
        if npd.name == dt._name:
            _FROM_NP[npd] = dt
            return dt
    raise TypeError(f"can't convert np.ndarray of type {npd}. The only supported types are: "
                    "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
                    "uint64, uint32, uint16, uint8, and bool.")


_F16, _F64 = np.dtype(np.float16), np.dtype(np.float64)


def cast(a, npd, copy=True):
    """a.astype(npd), converting as torch does: float64 becomes float16 through float32 (torch
    builds a half from a float). The two roundings differ from NumPy's single one for about
    one value in 10,000."""
    if npd == _F16 and a.dtype == _F64:
        return a.astype(np.float32).astype(npd)
    return a.astype(npd, copy=copy)


def scalar_as(value, npd):
    """A Python number about to fill or be stored in an array of `npd`, as torch converts it
    (a float for float16 goes through float32, see `cast`)."""
    if npd == _F16 and type(value) is _builtins.float:   # (this module shadows float)
        return np.float32(value)
    return value


# ---------------------------------------------------------------------------------------------
# Default dtype (process-wide, as in torch)

_default = [float32]


def get_default_dtype():
    """The floating dtype that Python floats and `ember.tensor([1.5])` become (float32 at start)."""
    return _default[0]


def set_default_dtype(d):
    if not isinstance(d, dtype) or d not in (float16, bfloat16, float32, float64):
        raise TypeError("only floating-point types are supported as the default type")
    _default[0] = d


def default_complex_dtype():
    return {float64: complex128, float16: complex32}.get(_default[0], complex64)


# ---------------------------------------------------------------------------------------------
# Promotion

def _promote_same_category(a, b):
    if a._category == _INT:
        if a.is_signed != b.is_signed:               # uint8 with a signed type
            signed = a if a.is_signed else b
            return int16 if signed.itemsize == 1 else signed
    elif a._category == _FLOAT and {a, b} == {float16, bfloat16}:
        return float32
    elif a._category == _COMPLEX:
        if complex32 in (a, b) and (a.itemsize > 4 or b.itemsize > 4):
            return a if a.itemsize > b.itemsize else b
    return a if a.itemsize >= b.itemsize else b


def promote_types(type1, type2):
    """The smallest dtype to which both may be cast, by torch's lattice (not NumPy's)."""
    if type1 is type2:
        return type1
    if type1 in _FLOAT8 or type2 in _FLOAT8:
        raise RuntimeError("Promotion for Float8 Types is not supported, attempted to promote "
                           f"{type1._legacy} and {type2._legacy}")
    if type1 in _BIG_UNSIGNED or type2 in _BIG_UNSIGNED:
        if not (type1.is_floating_point or type2.is_floating_point):
            raise RuntimeError("Promotion for uint16, uint32, uint64 types is not supported, "
                               f"attempted to promote {type1._legacy} and {type2._legacy}")
    c1, c2 = type1._category, type2._category
    if c1 == c2:
        return _promote_same_category(type1, type2)
    hi, lo = (type1, type2) if c1 > c2 else (type2, type1)
    if hi._category == _COMPLEX and lo._category == _FLOAT:   # complex of the wider real part
        return promote_types(lo, hi.to_real()).to_complex()
    return hi


def _combine_categories(higher, lower):
    """Let a lower-priority participant (0-d tensor, scalar) raise the category, not the width."""
    if higher is None:
        return lower
    if lower is None or higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value):
    """The dtype a Python scalar takes part as (a 'wrapped number' in torch)."""
    t = type(value)
    if t is builtins_float:
        return _default[0]
    if t is builtins_bool:
        return bool
    if t is builtins_int:
        return int64
    if t is builtins_complex:
        return default_complex_dtype()
    # NumPy scalars count as Python numbers of their kind
    if isinstance(value, (np.floating, np.complexfloating, np.integer, np.bool_)):
        return scalar_dtype(value.item())
    raise TypeError(f"expected a number, got {t.__name__}")


def result_type_of(tensors_and_scalars):
    """torch's result type over tensors (by dimensionality class) and Python scalars."""
    dim_t = zero_t = scalar_t = None
    for x in tensors_and_scalars:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            if x.ndim:
                dim_t = d if dim_t is None else promote_types(dim_t, d)
            else:
                zero_t = d if zero_t is None else promote_types(zero_t, d)
        else:
            s = scalar_dtype(x)
            scalar_t = s if scalar_t is None else promote_types(scalar_t, s)
    return _combine_categories(dim_t, _combine_categories(zero_t, scalar_t))


def result_type(tensor1, tensor2):
    """The dtype of an arithmetic op on the two operands (tensors or Python numbers)."""
    return result_type_of((tensor1, tensor2))


def can_cast(from_, to):
    """Whether torch's casting rules allow from_ -> to (no downcast across categories)."""
    if from_._category > to._category:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# finfo / iinfo

def _fmt(v):
    return f"{v:.6g}"


class finfo:
    """Machine limits of a floating dtype (complex gives its real part's)."""

    def __init__(self, type=None):
        type = _default[0] if type is None else type
        if not isinstance(type, dtype) or not (type.is_floating_point or type.is_complex):
            raise TypeError("torch.finfo() requires a floating point input type. "
                            "Use torch.iinfo to handle 'torch.finfo'")
        real = type.to_real()
        if real.np not in (np.float16, np.float32, np.float64):   # bfloat16, float8s: NumPy's
            # finfo does not know them (one float8 even has NumPy's kind "f")
            import ml_dtypes
            info = ml_dtypes.finfo(real.np)
        else:
            info = np.finfo(real.np)
        self.bits = real.itemsize * 8
        # torch's epsilon for float8_e5m2fnuz is 2^-3 where ml_dtypes (and the format's two
        # mantissa bits) say 2^-2; ember answers as torch does
        self.eps = 0.125 if real._name == "float8_e5m2fnuz" else builtins_float(info.eps)
        self.max = builtins_float(info.max)
        self.min = builtins_float(info.min)
        self.tiny = self.smallest_normal = builtins_float(info.smallest_normal)
        # 10^-(decimal digits the mantissa holds), from the format's own epsilon
        self.resolution = 10.0 ** -math.floor(-math.log10(builtins_float(info.eps)))
        self.dtype = real._name

    def __repr__(self):
        return (f"finfo(resolution={_fmt(self.resolution)}, min={_fmt(self.min)}, "
                f"max={_fmt(self.max)}, eps={_fmt(self.eps)}, "
                f"smallest_normal={_fmt(self.smallest_normal)}, tiny={_fmt(self.tiny)}, "
                f"dtype={self.dtype})")


class iinfo:
    """Limits of an integer (or bool) dtype."""

    def __init__(self, type):
        if not isinstance(type, dtype) or type._category > _INT:
            raise TypeError("torch.iinfo() requires an integer input type. "
                            "Use torch.finfo to handle 'torch.iinfo'")
        if type is bool:
            self.bits, self.min, self.max = 8, 0, 1
        else:
            info = np.iinfo(type.np)
            self.bits, self.min, self.max = info.bits, builtins_int(info.min), builtins_int(info.max)
        self.dtype = type._name

    def __repr__(self):
        return f"iinfo(min={_fmt(self.min)}, max={_fmt(self.max)}, dtype={self.dtype})"


import builtins as _builtins  # noqa: E402  (the names bool/int/float above shadow the builtins)

builtins_bool, builtins_int, builtins_float, builtins_complex = (
    _builtins.bool, _builtins.int, _builtins.float, _builtins.complex)
