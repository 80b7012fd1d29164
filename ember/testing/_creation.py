"""make_tensor: a random tensor for tests, drawn uniformly from [low, high) with torch's ranges.

Values come from ember's generator (ember.rand / ember.randint), so `ember.manual_seed` makes
them reproducible; they are not torch's numbers for the same seed.
"""
import collections.abc
import math
import warnings

import ember

_INTEGRAL = (ember.uint8, ember.uint16, ember.uint32, ember.uint64,
             ember.int8, ember.int16, ember.int32, ember.int64)
_FLOATING = (ember.float16, ember.bfloat16, ember.float32, ember.float64,
             ember.float8_e4m3fn, ember.float8_e5m2, ember.float8_e4m3fnuz, ember.float8_e5m2fnuz)
_COMPLEX = (ember.complex32, ember.complex64, ember.complex128)
_SUPPORTED = (ember.bool,) + _INTEGRAL + _FLOATING + _COMPLEX


def make_tensor(*shape, dtype: "ember.dtype", device, low: float = None, high: float = None,
                requires_grad: bool = False, noncontiguous: bool = False,
                exclude_zero: bool = False, memory_format=None) -> "ember.Tensor":
    """A tensor of `shape` (ints, or one sequence) with values uniform in [low, high).

    Defaults by dtype: bool [0, 2), unsigned [0, 10), signed integers [-9, 10), floating and
    complex [-9, 9) (each of a complex's parts). Bounds outside the dtype's range are clamped
    to it; integer bounds round up (low=0.5 draws from 1). `noncontiguous` gives every last-dim
    step a stride of 2 (tensors of fewer than 2 elements stay contiguous); `exclude_zero`
    replaces zeros with 1 (bool, integers) or finfo(dtype).tiny (floating; a complex zero becomes
    tiny + 0j, as torch 2.13 does, although its docs promise tiny in both parts). The result is
    a leaf, so requires_grad=True gives a tensor that accumulates .grad.
    """
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got noncontiguous={noncontiguous} and "
                         f"memory_format={memory_format}")
    if requires_grad and (dtype is ember.bool or dtype in _INTEGRAL):
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got dtype={dtype}")
    if not (isinstance(dtype, ember.dtype) and dtype in _SUPPORTED):
        raise TypeError(f"The requested dtype '{dtype}' is not supported by "
                        f"ember.testing.make_tensor(). To request support, file an issue at: "
                        f"https://github.com/pytorch/pytorch/issues")
    low, high = _value_range(dtype, low, high)
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    # ember.empty checks the shape and device and raises torch's errors for them
    shape = tuple(ember.empty(shape, dtype=dtype, device=device).shape)

    noncontiguous = noncontiguous and math.prod(shape) > 1
    draw_shape = shape[:-1] + (2 * shape[-1],) if noncontiguous else shape
    result = _draw(draw_shape, dtype, device, low, high)
    if noncontiguous:
        result = result[..., ::2]
    if exclude_zero:
        inexact = dtype.is_floating_point or dtype.is_complex
        result.masked_fill_(result == 0, ember.finfo(dtype).tiny if inexact else 1)
    if memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if requires_grad:
        result.requires_grad_(True)
    return result


def _draw(shape, dtype, device, low, high):
    """Uniform values of `dtype` in [low, high); the bounds are already valid for the dtype."""
    if not (dtype.is_floating_point or dtype.is_complex):
        return ember.randint(low, high, shape, device=device).to(dtype)
    real = dtype.to_real()
    real_shape = shape + (2,) if dtype.is_complex else shape
    if low == high:
        values = ember.full(real_shape, low, dtype=real, device=device)
    else:
        u = ember.rand(real_shape, dtype=ember.float64, device=device)
        # the weighted mean cannot overflow where high - low would (float64's whole range)
        values = (low * (1 - u) + high * u).to(real)
        # rounding to a narrow dtype can reach `high`; step those values just below it
        below = ember.nextafter(ember.tensor(high, dtype=real, device=device),
                                ember.tensor(low, dtype=real, device=device))
        values = ember.where(values >= high, below, values)
    return ember.view_as_complex(values) if dtype.is_complex else values


def _value_range(dtype, low, high):
    """Validate and clamp (low, high) for `dtype`, in torch's order of checks and messages."""
    if dtype is ember.bool:
        default, supported = (0, 2), (0, 2)
    elif dtype in _INTEGRAL:
        info = ember.iinfo(dtype)
        default = (-9, 10) if dtype.is_signed else (0, 10)
        # the upper bound is exclusive, so max + 1; int64 stops at max, as in torch
        supported = (info.min, info.max if dtype is ember.int64 else info.max + 1)
    else:
        info = ember.finfo(dtype)
        default, supported = (-9, 9), (float(info.min), float(info.max))
    low = default[0] if low is None else low
    high = default[1] if high is None else high
    low, high = (x.item() if isinstance(x, ember.Tensor) else x for x in (low, high))  # 0-d ok
    if _isnan(low) or _isnan(high):
        raise ValueError(f"`low` and `high` cannot be NaN, but got {low=} and {high=}")
    inexact = dtype.is_floating_point or dtype.is_complex
    if inexact and low == high:
        warnings.warn("Passing `low==high` to `ember.testing.make_tensor` for floating or "
                      "complex types is deprecated since 2.1 and will be removed in 2.3. Use "
                      "`ember.full(...)` instead.", FutureWarning, stacklevel=3)
        value = min(max(low, supported[0]), supported[1])
        return value, value
    if low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    if low >= supported[1] or high < supported[0]:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {dtype} only supports [{supported[0]}, {supported[1]})")
    low, high = max(low, supported[0]), min(high, supported[1])
    if not inexact:
        low, high = math.ceil(low), math.ceil(high)
    return low, high


def _isnan(x):
    return isinstance(x, float) and math.isnan(x)
