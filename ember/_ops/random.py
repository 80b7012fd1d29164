"""Random sampling: `Generator`, the default generator and seeding, the sampling functions
(rand, randn, randint, randperm, *_like, normal, bernoulli, multinomial, poisson, binomial) and the
in-place fills (uniform_, normal_, random_, bernoulli_, exponential_, geometric_, cauchy_,
log_normal_).

A `Generator` wraps a NumPy PCG64 bit generator. The same seed gives the same stream in ember;
the streams are not bit-equal to torch's (torch uses a Mersenne Twister with its own transforms).
Draws are generated directly in float32 or float64; float16 and bfloat16 go through float32.

Samples are not differentiable functions of their parameters: like torch, a sample drawn from
tensors that require grad records a node (NormalBackward3, BernoulliBackward0, ...) whose
gradient is zero.
"""
import os
import struct

import numpy as np

from ember import _dtype
from ember._device import as_device
from ember._ops._helpers import check_inplace, inplace, write
from ember._tensor import Tensor, _device_unavailable, _int_tuple
from ember.autograd.function import ArrayFunction
from ember.autograd.grad_mode import state as _grad_state

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "rand", "randn", "randint", "randperm",
           "rand_like", "randn_like", "randint_like", "normal", "bernoulli", "multinomial",
           "poisson", "binomial"]

_DEFAULT_SEED = 67280421310721   # torch's default CPU seed, so initial_seed() reads the same
_U64 = (1 << 64) - 1
_STATE_MAGIC = b"EMBR"
_STATE_FORMAT = "<4sQQQQQQQ"     # magic, seed, state (hi, lo), inc (hi, lo), has_uint32, uinteger
_STATE_SIZE = struct.calcsize(_STATE_FORMAT)


# ---------------------------------------------------------------------------------------------
# Generator

class Generator:
    """A source of random numbers: `Generator(device="cpu")`, seeded with torch's default seed.

    `manual_seed` returns the generator itself; `get_state`/`set_state` move the whole state as a
    uint8 tensor (ember's own layout, not torch's 5056-byte Mersenne Twister state).
    """

    __slots__ = ("_rng", "_bits", "_seed", "__weakref__")

    def __init__(self, device="cpu"):
        dev = as_device(device)
        if dev.type != "cpu":
            raise RuntimeError(f"Cannot get a {dev.type.upper()} generator: ember only has CPU "
                               "generators")
        self._set_seed(_DEFAULT_SEED)

    def _set_seed(self, seed):
        self._seed = seed
        self._bits = np.random.PCG64(seed)
        self._rng = np.random.Generator(self._bits)

    @property
    def device(self):
        return as_device("cpu")

    def manual_seed(self, seed):
        """Seed with an int in [-2**63, 2**64); negatives wrap to seed + 2**64. Returns self."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = int(seed)
        if not -(1 << 63) <= seed <= _U64:
            raise ValueError("Overflow when unpacking long long")
        self._set_seed(seed & _U64)
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the seed used."""
        s = int.from_bytes(os.urandom(8), "little")
        self._set_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The full state as a uint8 tensor (restores seed and stream with set_state)."""
        st = self._bits.state
        state, inc = st["state"]["state"], st["state"]["inc"]
        raw = struct.pack(_STATE_FORMAT, _STATE_MAGIC, self._seed, state >> 64, state & _U64,
                          inc >> 64, inc & _U64, st["has_uint32"], st["uinteger"])
        return Tensor._make(np.frombuffer(raw, np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from get_state(); torch's errors for a wrong type or size."""
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        a = new_state._data
        if a.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        if a.size != _STATE_SIZE:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_SIZE} but found "
                               f"the input RNG state size to be {a.size}")
        magic, seed, s_hi, s_lo, i_hi, i_lo, has32, uint = struct.unpack(
            _STATE_FORMAT, np.ascontiguousarray(a).reshape(-1).tobytes())
        if magic != _STATE_MAGIC:
            raise RuntimeError("RNG state is not an ember generator state")
        self._set_seed(seed)
        self._bits.state = {"bit_generator": "PCG64",
                            "state": {"state": (s_hi << 64) | s_lo, "inc": (i_hi << 64) | i_lo},
                            "has_uint32": has32, "uinteger": uint}
        return self

    def clone_state(self):
        """A new Generator in this one's current state."""
        return Generator().set_state(self.get_state())

    def graphsafe_get_state(self):
        raise NotImplementedError("graphsafe_get_state is not supported in this Generator")

    def graphsafe_set_state(self, state):
        raise NotImplementedError("graphsafe_set_state is not supported in this Generator")

    def __reduce__(self):
        return (_rebuild_generator, (bytes(self.get_state()._data),))

    def __repr__(self):
        return f"<ember.Generator object at {hex(id(self))}>"


def _rebuild_generator(raw):
    return Generator().set_state(Tensor._make(np.frombuffer(raw, np.uint8).copy()))


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (any int-convertible value, like torch); returns it."""
    seed = int(seed)
    import sys
    cuda = sys.modules.get("ember.cuda")
    if cuda is not None and cuda.is_available():
        cuda.manual_seed_all(seed)
    return default_generator.manual_seed(seed)


def seed():
    """Seed the default generator non-deterministically; returns the 64-bit seed."""
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def _rng(generator):
    if generator is None:
        return default_generator._rng
    if not isinstance(generator, Generator):
        raise TypeError(f"expected a torch.Generator as generator, got "
                        f"{type(generator).__name__}")
    return generator._rng


# ---------------------------------------------------------------------------------------------
# Argument helpers

def _shape(sizes, size, fn):
    """A shape from `*size` varargs, one sequence, or the `size=` keyword (torch's errors)."""
    if size is not None:
        if sizes:
            raise TypeError(f"{fn}() got multiple values for argument 'size'")
        sizes = (size,)
    if not sizes:
        raise TypeError(f"{fn}() received an invalid combination of arguments - got (), but "
                        "expected (tuple of ints size, ...)")
    shape = _int_tuple(sizes, fn)
    if shape and min(shape) < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"{list(shape)}")
    return shape


def _fmt(x):
    """A number as C++ streams print it (torch's messages): -1.0 -> '-1', 0.5 -> '0.5'."""
    return f"{x:g}" if isinstance(x, float) else str(x)


def _num(x):
    """A Python number from a number or a one-element tensor."""
    if isinstance(x, Tensor):
        return x.item()
    return x


def _not_implemented(kernel, dt):
    return NotImplementedError(f"\"{kernel}\" not implemented for '{dt._legacy}'")


def _is_float(npd):
    return npd.kind == "f" or npd.name == "bfloat16"


def _out_dtype(dtype, out, default):
    """The result dtype from `dtype=` and `out=` (they must agree, as in torch)."""
    if out is not None:
        if dtype is not None and dtype is not out.dtype:
            raise RuntimeError(f"dtype {dtype._legacy} does not match dtype of out parameter "
                               f"({out.dtype._legacy})")
        return out.dtype
    return dtype if dtype is not None else default


def _factory(a, out, requires_grad, device, fn="rand"):
    """Wrap a fresh sample as a factory result: into `out` (resized) or a new tensor."""
    if device is not None and as_device(device).type != "cpu":
        _device_unavailable(device, creating=True)
    if out is not None:
        if _grad_state.enabled and out._requires_grad:
            if fn == "randn":   # (torch's randn resizes out= first)
                raise RuntimeError("cannot resize variables that require grad")
            raise RuntimeError(f"aten::{fn}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires "
                               "grad.")
        if out._data.shape != a.shape:
            out._data = np.empty(a.shape, out._data.dtype)
        write(out, a)
        return out
    t = Tensor._make(a)
    if requires_grad:
        if a.dtype.kind not in "fc" and a.dtype.name != "bfloat16":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t._requires_grad = True
    return t


def _broadcast(a, b):
    """The broadcast shape of two shapes, with torch's size-mismatch message."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Array kernels: a sample of `shape` in NumPy dtype `npd` from a NumPy Generator

_MANTISSA = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)   # singletons: compared with `is`


def _uniform(rng, shape, npd, low=0.0, high=1.0):
    """U[low, high). float16/bfloat16 draw exact multiples of 2**-mantissa so 1.0 never occurs."""
    if npd.kind == "c":
        part = np.dtype(np.float32 if npd == np.complex64 else np.float64)
        return _uniform(rng, shape + (2,), part, low, high).view(npd).reshape(shape)
    if npd is _F32 or npd is _F64:
        a = rng.random(shape, dtype=npd)
    else:
        m = _MANTISSA[npd.name]
        a = rng.integers(0, 1 << m, shape, dtype=np.int32).astype(np.float32)
        a *= np.float32(2.0 ** -m)
    if low != 0.0 or high != 1.0:
        a *= a.dtype.type(high - low)
        a += a.dtype.type(low)
    return a if a.dtype is npd else a.astype(npd)


def _normal(rng, shape, npd, mean=0.0, std=1.0):
    """N(mean, std**2); complex dtypes get independent parts of variance std**2 / 2."""
    if npd.kind == "c":
        part = np.dtype(np.float32 if npd == np.complex64 else np.float64)
        return _normal(rng, shape + (2,), part, mean, std / np.sqrt(2.0)).view(npd).reshape(
            shape)
    wide = _F64 if npd is _F64 else _F32
    a = rng.standard_normal(shape, dtype=wide)
    if std != 1.0:
        a *= wide.type(std)
    if mean != 0.0:
        a += wide.type(mean)
    return a if a.dtype is npd else a.astype(npd)


def _work_float(npd):
    """The NumPy float dtype samples for a float tensor of dtype npd are computed in."""
    return _F64 if npd == _F64 else _F32


# ---------------------------------------------------------------------------------------------
# Autograd: samples have zero gradient with respect to their parameters

class _Sample(ArrayFunction):
    """Records a sample drawn from tensors that require grad; every input's gradient is zero
    (torch's NormalBackward*, BernoulliBackward*, PoissonBackward0, UniformBackward0, ...)."""

    def forward(ctx, *arrays, sample, label, op="bernoulli"):
        ctx.label, ctx.op = label, op
        return sample

    def backward(ctx, grad):
        if ctx.label == "torch::autograd::NotImplemented":   # (bernoulli(input, p) has none)
            raise RuntimeError(f"derivative for aten::{ctx.op} is not implemented")
        from ember._ops.creation import zeros
        return tuple(None if m is None else zeros(m[0], dtype=_dtype.from_numpy_dtype(m[1]))
                     for m in ctx._input_meta)

    def name(self):
        return self.label


def _sampled(sample, label, *inputs):
    """Wrap `sample`; record a zero-gradient node when an input requires grad."""
    if _grad_state.enabled and any(isinstance(x, Tensor) and x._requires_grad for x in inputs):
        return _Sample.apply(*inputs, sample=sample, label=label)
    return Tensor._make(sample)


# ---------------------------------------------------------------------------------------------
# Factory functions

def rand(*sizes, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False) -> Tensor:
    """Uniform samples on [0, 1) of the given size; floating or complex dtypes only."""
    shape = _shape(sizes, size, "rand")
    dt = _out_dtype(dtype, out, _dtype.get_default_dtype())
    if not (_is_float(dt.np) or dt.is_complex):
        raise _not_implemented("check_uniform_bounds", dt)
    return _factory(_uniform(_rng(generator), shape, dt.np), out, requires_grad, device)


def randn(*sizes, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False) -> Tensor:
    """Standard normal samples; complex dtypes have parts of variance 1/2 each."""
    shape = _shape(sizes, size, "randn")
    dt = _out_dtype(dtype, out, _dtype.get_default_dtype())
    if not (_is_float(dt.np) or dt.is_complex):
        raise _not_implemented("normal_kernel_cpu", dt)
    return _factory(_normal(_rng(generator), shape, dt.np), out, requires_grad, device, "randn")


_CTYPE = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int",
          "int32": "int", "int64": "long int", "uint16": "short unsigned int",
          "uint32": "unsigned int", "uint64": "long unsigned int", "float16": "c10::Half",
          "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double",
          "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _int_arg(x, fn, name, pos):
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        if not -(1 << 63) <= x < (1 << 63):
            raise ValueError("Overflow when unpacking long long")
        return int(x)
    if isinstance(x, Tensor) and x._data.size == 1 and x._data.dtype.kind in "iu":
        return int(x.item())
    raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be int, not "
                    f"{type(x).__name__}")


def _check_range(low, high, dt):
    """torch's checks for a discrete range [low, high) in dtype dt (random_, randint)."""
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    npd = dt.np
    if npd.kind in "iub":
        lo, hi = (0, 1) if npd.kind == "b" else (np.iinfo(npd).min, np.iinfo(npd).max)
        if not lo <= low <= hi:
            raise RuntimeError(f"from is out of bounds for {_CTYPE[npd.name]}")
        if not lo <= high - 1 <= hi:
            raise RuntimeError(f"to - 1 is out of bounds for {_CTYPE[npd.name]}")
    elif dt.is_complex:
        raise RuntimeError("check_random_bounds handles only integral, floating-point and "
                           "boolean types")
    else:   # floats hold every integer only up to 2**mantissa: torch warns beyond it
        m = _MANTISSA[npd.name]
        for what, v in (("from", low), ("to - 1", high - 1)):
            if not -(1 << m) <= v <= 1 << m:
                import warnings
                warnings.warn(f"{what} is out of bounds [-(2^{m}), 2^{m}]. Due to precision "
                              f"limitations {_CTYPE[npd.name]} can support discrete uniform "
                              "distribution only within this range. This warning will become "
                              "an error in version 1.7 release, please fix the code in advance",
                              UserWarning, stacklevel=3)


def _integers(rng, low, high, shape, npd):
    """Integers in [low, high) as dtype npd (drawn directly in npd when it holds the range)."""
    if npd.kind in "iu" and npd.itemsize >= 4:
        return rng.integers(low, high, shape, dtype=npd)
    if npd.kind == "b":
        return rng.integers(low, high, shape, dtype=np.int8).astype(npd)
    draw = np.int32 if -(1 << 31) <= low and high <= (1 << 31) else np.int64
    return rng.integers(low, high, shape, dtype=draw).astype(npd)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """Integers uniform on [low, high): `randint(high, size)` or `randint(low, high, size)`.

    `size` must be a tuple (not an int); the dtype is int64 unless given (floats allowed).
    """
    if isinstance(high, (tuple, list)) and size is None:   # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:                                       # randint(high, size=...)
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size' (pos 3)")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' must be tuple of ints, not "
                        f"{type(size).__name__}")
    low = _int_arg(low, "randint", "low", 1)
    high = _int_arg(high, "randint", "high", 2 if low else 1)
    shape = _shape((size,), None, "randint")
    dt = _out_dtype(dtype, out, _dtype.int64)
    _check_range(low, high, dt)
    return _factory(_integers(_rng(generator), low, high, shape, dt.np), out, requires_grad,
                    device, "randint")


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless dtype says otherwise)."""
    n = _int_arg(n, "randperm", "n", 1)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dt = _out_dtype(dtype, out, _dtype.int64)
    npd = dt.np
    if npd.kind == "b" or dt.is_complex:
        raise _not_implemented("randperm", dt)
    if npd.kind in "iu" and n > 0 and n - 1 > np.iinfo(npd).max:
        raise RuntimeError(f"value cannot be converted to type {npd.name}_t without overflow")
    if _is_float(npd) and n > (1 << _MANTISSA[npd.name]) + 1:
        raise RuntimeError(f"n cannot be greater than {(1 << _MANTISSA[npd.name]) + 1} for "
                           f"{dt._legacy} type.")
    a = _rng(generator).permutation(n)
    return _factory(a.astype(npd, copy=False), out, requires_grad, device, "randperm")


def _like_layout(input, sample):
    """torch's preserve_format: a dense non-contiguous input's strides carry over."""
    a = input._data
    if a.flags.c_contiguous or a.ndim < 2:
        return sample
    r = np.empty_like(a, dtype=sample.dtype, order="K")
    if 0 in r.strides and r.size > 1:
        return sample
    r[...] = sample
    return r


def _like_dtype(input, dtype):
    return dtype if dtype is not None else input.dtype


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None) -> Tensor:
    dt = _like_dtype(input, dtype)
    if not (_is_float(dt.np) or dt.is_complex):
        raise _not_implemented("check_uniform_bounds", dt)
    a = _uniform(_rng(generator), input._data.shape, dt.np)
    return _factory(_like_layout(input, a), None, requires_grad, device)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None) -> Tensor:
    dt = _like_dtype(input, dtype)
    if not (_is_float(dt.np) or dt.is_complex):
        raise _not_implemented("normal_kernel_cpu", dt)
    a = _normal(_rng(generator), input._data.shape, dt.np)
    return _factory(_like_layout(input, a), None, requires_grad, device)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, memory_format=None) -> Tensor:
    """Integers on [low, high) shaped like input, in input's dtype: (input, high) or
    (input, low, high)."""
    if high is None:
        low, high = 0, low
    low = _int_arg(low, "randint_like", "low", 2)
    high = _int_arg(high, "randint_like", "high", 3)
    dt = _like_dtype(input, dtype)
    _check_range(low, high, dt)
    a = _integers(_rng(generator), low, high, input._data.shape, dt.np)
    return _factory(_like_layout(input, a), None, requires_grad, device)


# ---------------------------------------------------------------------------------------------
# Distributions with tensor parameters

def _check_float_tensor(t, kernel):
    if not _is_float(t._data.dtype) and t._data.dtype.kind != "c":
        raise _not_implemented(kernel, t.dtype)


def _check_std_tensor(std):
    if std._data.size and not (std._data >= 0).all():
        raise RuntimeError("normal expects all elements of std >= 0.0")


def _check_std(std):
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(float(std))}")


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, pin_memory=False, requires_grad=False) -> Tensor:
    """Normal samples; four overloads as torch: (Tensor, Tensor) broadcast together,
    (Tensor, float), (float, Tensor), and (float, float, size) like randn.

    With a tensor mean the result has mean's dtype (a float64 std does not promote it); a sample
    drawn from tensors that require grad has zero gradient.
    """
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None or not isinstance(size, (tuple, list)):
            raise TypeError(f"normal() received an invalid combination of arguments - got "
                            f"({type(mean).__name__}, {type(std).__name__}"
                            f"{', ' + type(size).__name__ if size is not None else ''}), but "
                            "expected (float mean, float std, tuple of ints size, ...)")
        _check_std(std)
        shape = _shape((size,), None, "normal")
        dt = _out_dtype(dtype, out, _dtype.get_default_dtype())
        if not (_is_float(dt.np) or dt.is_complex):
            raise _not_implemented("normal_kernel_cpu", dt)
        a = _normal(_rng(generator), shape, dt.np, float(mean), float(std))
        return _factory(a, out, requires_grad, device, "normal")
    if size is not None:
        raise TypeError(f"normal() received an invalid combination of arguments - got "
                        f"({type(mean).__name__}, {type(std).__name__}, "
                        f"{type(size).__name__}), but expected one of (Tensor mean, Tensor std)")
    rng = _rng(generator)
    if mt and st:
        _check_float_tensor(mean, "normal_kernel_cpu")
        _check_std_tensor(std)
        shape = _broadcast(mean._data.shape, std._data.shape)
        npd = mean._data.dtype
        label = "NormalBackward3"
    elif mt:
        _check_float_tensor(mean, "normal_kernel_cpu")
        std = _num(std)
        _check_std(std)
        shape, npd, label = mean._data.shape, mean._data.dtype, "NormalBackward1"
    else:
        _check_float_tensor(std, "normal_kernel_cpu")
        _check_std_tensor(std)
        mean = _num(mean)
        shape, npd, label = std._data.shape, std._data.dtype, "NormalBackward2"
    if out is not None:   # (normal(Tensor, float) samples into out= as it is: no resize)
        if out._data.shape != shape and (out._data.size or label == "NormalBackward1"):
            _broadcast(shape, out._data.shape)
            raise RuntimeError(f"output with shape {list(out._data.shape)} doesn't match the "
                               f"broadcast shape {list(shape)}")
        if not (_is_float(out._data.dtype) or out.dtype.is_complex):
            raise _not_implemented("normal_kernel_cpu", out.dtype)
        _no_grad_out("normal", mean, std)
    # mean + std * z, computed in float32/float64 (complex: the parts of z have variance 1/2)
    work = npd if npd.kind == "c" else _work_float(npd)
    z = _normal(rng, shape, work)
    m = mean._data.astype(work, copy=False) if mt else mean
    s = std._data.astype(work, copy=False) if st else std
    if st or s != 1:
        z *= s
    if mt or m != 0:
        z += m
    a = z.astype(npd, copy=False)
    if out is not None:
        return _factory(a, out, False, None, "normal")
    return _sampled(a, label, *(x for x in (mean, std) if isinstance(x, Tensor)))


def _no_grad_out(fn, *inputs):
    """torch's autograd error for out= with inputs that require grad."""
    if _grad_state.enabled and any(isinstance(x, Tensor) and x._requires_grad for x in inputs):
        from ember._ops._helpers import out_grad_error
        raise out_grad_error(fn)


def _check_probabilities(p):
    if p.size and not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could "
                           "this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")


def _check_p(p):
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_fmt(p)}")


def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 draws: with probabilities `input` (floating dtypes) or, given a float `p`, with
    probability p for every element (any dtype). The result has input's dtype."""
    rng = _rng(generator)
    a = input._data
    if p is None:
        if not _is_float(a.dtype):
            raise _not_implemented("bernoulli_tensor_cpu_p_", input.dtype)
        _check_probabilities(a)
        u = rng.random(a.shape, dtype=_work_float(a.dtype))
        hits, label = u < a, "BernoulliBackward0"
    else:
        if isinstance(p, Tensor):
            raise TypeError("bernoulli(): argument 'p' must be float, not Tensor")
        _check_p(p)
        hits, label = _bernoulli_scalar(rng, a.shape, p), "torch::autograd::NotImplemented"
    if out is not None:
        if out.dtype.is_complex:
            raise _not_implemented("bernoulli_tensor_cpu_self_", out.dtype)
        _no_grad_out("bernoulli", input)
        return _factory(hits.astype(out._data.dtype), out, False, None, "bernoulli")
    return _sampled(hits.astype(a.dtype), label, input)


def _bernoulli_scalar(rng, shape, p):
    if p == 0.5:   # a fair coin: one random bit per element
        return rng.integers(0, 2, shape, dtype=np.int8).astype(bool)
    return rng.random(shape, dtype=np.float64) < p


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None) -> Tensor:
    """Category indices drawn from the (unnormalised) weights in the last dim of a 1-D or 2-D
    input. Without replacement each index appears at most once per row (zero-weight categories
    come last, once the positive ones are used up); int64 result of shape (..., num_samples)."""
    a = input._data
    if not _is_float(a.dtype):
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype._legacy}")
    if a.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    n = _int_arg(num_samples, "multinomial", "num_samples", 2)
    if out is not None and out._data.dtype != np.int64:
        raise RuntimeError(f"multinomial expects Long tensor out, got: {out.dtype._legacy}")
    k = a.shape[-1]
    if not replacement and n > k:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if n <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    p = a.reshape(-1, k).astype(np.float64)
    if p.size and not (np.isfinite(p) & (p >= 0)).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    total = p.sum(axis=1)
    if (total <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _rng(generator)
    rows = p.shape[0]
    if replacement:
        idx = _categorical(rng, p, total, n)
    else:
        # Exponential race: the n smallest Exp(1) / p keys are a draw without replacement.
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential((rows, k)) / p
        idx = np.argsort(keys, axis=1, kind="stable")[:, :n]
    idx = idx.reshape(a.shape[:-1] + (n,)).astype(np.int64, copy=False)
    if out is not None:
        return _factory(idx, out, False, None, "multinomial")
    return Tensor._make(idx)


def _categorical(rng, p, total, n):
    """n draws with replacement per row: one searchsorted over all rows' CDFs laid end to end
    (row r's CDF shifted by r, so it lives in [r, r + 1])."""
    rows, k = p.shape
    cdf = np.cumsum(p, axis=1)
    cdf /= total[:, None]
    offsets = np.arange(rows, dtype=np.float64)[:, None]
    u = rng.random((rows, n)) + offsets
    flat = (cdf + offsets).reshape(-1)
    idx = np.searchsorted(flat, u.reshape(-1), side="right").reshape(rows, n)
    idx -= (np.arange(rows) * k)[:, None]
    # rounding at a row's upper edge may overshoot: clamp to the row's last positive category
    last = k - 1 - np.argmax(p[:, ::-1] > 0, axis=1)
    return np.minimum(idx, last[:, None])


def poisson(input, generator=None) -> Tensor:
    """Poisson counts with rates `input` (non-negative, floating); input's dtype."""
    a = input._data
    if not _is_float(a.dtype):
        raise _not_implemented("poisson_cpu", input.dtype)
    if a.size and not (a >= 0).all():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    counts = _rng(generator).poisson(a.astype(np.float64))
    return _sampled(np.asarray(counts).astype(a.dtype), "PoissonBackward0", input)


def binomial(count, prob, generator=None) -> Tensor:
    """Binomial(count, prob) counts, broadcasting count and prob (one floating dtype, not half
    types). Out-of-range parameters clamp as torch's sampler reads them (prob to [0, 1],
    negative counts to 0, fractional counts round down); a NaN prob or infinite count gives NaN.
    No derivative."""
    for t, name, pos in ((count, "count", 1), (prob, "prob", 2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"binomial(): argument '{name}' (position {pos}) must be Tensor, "
                            f"not {type(t).__name__}")
    c, p = count._data, prob._data
    if not _is_float(c.dtype):
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                         f"{count.dtype._legacy}")
    if p.dtype != c.dtype:
        raise RuntimeError(f"Found dtype {prob.dtype._legacy} but expected "
                           f"{count.dtype._legacy}")
    if c.dtype not in (_F32, _F64):
        raise _not_implemented("binomial_cpu", count.dtype)
    shape = _broadcast(c.shape, p.shape)
    n = np.broadcast_to(c, shape).astype(np.float64)
    q = np.broadcast_to(p, shape).astype(np.float64)
    bad = ~np.isfinite(n) | np.isnan(q)
    trials = np.where(bad, 0, np.floor(np.clip(np.nan_to_num(n), 0, None))).astype(np.int64)
    draws = _rng(generator).binomial(trials, np.clip(np.nan_to_num(q), 0.0, 1.0))
    draws = np.where(bad, np.nan, draws).astype(c.dtype).reshape(shape)
    if _grad_state.enabled and (count._requires_grad or prob._requires_grad):
        return _Sample.apply(count, prob, sample=draws, label="torch::autograd::NotImplemented",
                             op="binomial")
    return Tensor._make(draws)


# ---------------------------------------------------------------------------------------------
# In-place fills (Tensor methods)

def _fill(self, sample, label, *params):
    """Write `sample` into self's memory (views see it, the version bumps). When self (or a
    tensor parameter) requires grad, self gets a zero-gradient node as its new history."""
    if _grad_state.enabled and (self._requires_grad or any(p._requires_grad for p in params)):
        return inplace(self, _Sample.apply(self, *params, sample=sample, label=label))
    check_inplace(self)
    write(self, sample)
    return self


def _from_kw(from_, kwargs, fn):
    """torch's parameter is named `from` (a Python keyword): accept it through **kwargs."""
    if kwargs:
        if set(kwargs) != {"from"}:
            raise TypeError(f"{fn}() got an unexpected keyword argument "
                            f"'{next(k for k in kwargs if k != 'from')}'")
        return kwargs["from"]
    return from_


def _uniform_(self, from_=0.0, to=1.0, *, generator=None, **kwargs):
    """Fill with U[from, to); floating and complex dtypes (complex: both parts)."""
    low, high = float(_num(_from_kw(from_, kwargs, "uniform_"))), float(_num(to))
    npd = self._data.dtype
    if not (_is_float(npd) or npd.kind == "c"):
        raise _not_implemented("check_uniform_bounds", self.dtype)
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={_fmt(low)} > to={_fmt(high)}")
    real = self.dtype.to_real()   # (complex draws each part in its real type)
    big = _dtype.finfo(real).max
    for name, v in (("from", low), ("to", high)):
        if not np.isfinite(v) or abs(v) > big:
            raise RuntimeError(f"{name} is out of bounds for "
                               f"{_CTYPE.get(real.np.name, real.np.name)}")
    if high - low > big:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<"
                           f"{real._legacy}>::max(), but found to={_fmt(high)} and "
                           f"from={_fmt(low)} which result in to-from to exceed the limit")
    a = _uniform(_rng(generator), self._data.shape, npd, low, high)
    return _fill(self, a, "UniformBackward0")


def _normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with N(mean, std**2); complex dtypes get parts of variance std**2 / 2."""
    mean, std = float(_num(mean)), float(_num(std))
    npd = self._data.dtype
    if not (_is_float(npd) or npd.kind == "c"):
        raise _not_implemented("normal_kernel_cpu", self.dtype)
    _check_std(std)
    return _fill(self, _normal(_rng(generator), self._data.shape, npd, mean, std),
                 "NormalBackward0")


def _random_(self, *args, generator=None, **kwargs):
    """Three forms: random_() draws integers on [0, 2**mantissa] (floats; every integer there is
    exact) or [0, max] (ints); random_(to) on [0, to); random_(from, to) on [from, to), where
    to=None means up to the dtype's largest value."""
    npd = self._data.dtype
    if len(args) > 2 or set(kwargs) - {"from", "to"}:
        raise TypeError("random_() received an invalid combination of arguments - expected "
                        "(), (int to) or (int from, int to)")
    if npd.kind == "c" and not args and not kwargs:
        raise _not_implemented("random_kernel_cpu", self.dtype)
    label = f"RandomBackward{2 - min(len(args) + len(kwargs), 2)}"   # torch's overload numbers
    if not args and not kwargs:
        low, high = 0, _full_range(npd) + 1
    else:
        if len(args) == 1 and not kwargs:        # random_(to)
            bounds = {"from": 0, "to": args[0]}
        else:
            bounds = dict(zip(("from", "to"), args))
            for k, v in kwargs.items():
                if k in bounds:
                    raise TypeError(f"random_() got multiple values for argument '{k}'")
                bounds[k] = v
        for name, v in bounds.items():
            if v is not None and (isinstance(v, (bool, float)) or
                                  not isinstance(v, (int, np.integer, Tensor))):
                raise TypeError(f"random_() received an invalid combination of arguments - "
                                f"argument '{name}' must be int, not {type(v).__name__}")
        low = _int_arg(bounds.get("from", 0), "random_", "from", 1)
        to = bounds.get("to")
        if to is None and npd.kind == "c":
            raise RuntimeError("random_from_to_impl handles only integral, floating-point and "
                               "boolean types")
        high = _full_range(npd) + 1 if to is None else _int_arg(to, "random_", "to", 2)
        _check_range(low, high, self.dtype)
    return _fill(self, _integers(_rng(generator), low, high, self._data.shape, npd), label)


def _full_range(npd):
    """The largest value random_() draws by default: 2**mantissa for floats, max for ints."""
    if npd.kind == "b":
        return 1
    if npd.kind in "iu":
        return int(np.iinfo(npd).max)
    return 1 << _MANTISSA[npd.name]


def _bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 draws of probability p (a float, or a tensor broadcastable to self)."""
    rng = _rng(generator)
    shape = self._data.shape
    if self._data.dtype.kind == "c":
        kernel = "bernoulli_tensor_cpu_self_" if isinstance(p, Tensor) else "bernoulli_scalar_cpu_"
        raise _not_implemented(kernel, self.dtype)
    params = ()
    if isinstance(p, Tensor):
        params = (p,)
        pa = p._data
        if not _is_float(pa.dtype):
            raise _not_implemented("bernoulli_tensor_cpu_p_", p.dtype)
        try:
            pa = np.broadcast_to(pa, shape)
        except ValueError:
            raise RuntimeError(_expand_message(p._data.shape, shape)) from None
        _check_probabilities(pa)
        hits, label = rng.random(shape, dtype=_work_float(pa.dtype)) < pa, "BernoulliBackward1"
    else:
        p = float(p)
        _check_p(p)
        hits, label = _bernoulli_scalar(rng, shape, p), "BernoulliBackward2"
    return _fill(self, hits.astype(self._data.dtype), label, *params)


def _expand_message(src, dst):
    n = len(dst)
    src_full = (None,) * (n - len(src)) + tuple(src)
    for i in range(n - 1, -1, -1):
        s = src_full[i]
        if s is not None and s != 1 and s != dst[i]:
            return (f"The expanded size of the tensor ({dst[i]}) must match the existing size "
                    f"({s}) at non-singleton dimension {i}.  Target sizes: {list(dst)}.  "
                    f"Tensor sizes: {list(src)}")
    return f"expand: the number of sizes provided ({n}) must be greater or equal to the number " \
           f"of dimensions in the tensor ({len(src)})"


def _continuous_only(self, dist):
    npd = self._data.dtype
    if not _is_float(npd):
        name = self.dtype._legacy if dist == "Exponential" else _CTYPE.get(npd.name, npd.name)
        raise RuntimeError(f"{dist} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {name}")
    return npd


def _exponential_(self, lambd=1.0, *, generator=None):
    """Fill with Exp(lambd) samples (mean 1/lambd); lambd > 0, floating dtypes."""
    lambd = float(_num(lambd))
    npd = _continuous_only(self, "Exponential")
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_fmt(lambd)}")
    work = _work_float(npd)
    a = _rng(generator).standard_exponential(self._data.shape, dtype=work)
    if lambd != 1.0:
        a /= work.type(lambd)
    return _fill(self, a.astype(npd, copy=False), "ExponentialBackward0")


def _geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success (values >= 1)."""
    p = float(_num(p))
    npd = self._data.dtype
    if npd.kind in "bc":
        raise _not_implemented("geometric_cpu", self.dtype)
    if not 0.0 < p < 1.0:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_fmt(p)}")
    a = _rng(generator).geometric(p, self._data.shape)
    return _fill(self, a.astype(npd), "GeometricBackward0")


def _cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy(median, sigma) samples; sigma > 0, floating dtypes."""
    median, sigma = float(_num(median)), float(_num(sigma))
    npd = _continuous_only(self, "Cauchy")
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_fmt(sigma)}")
    a = _rng(generator).standard_cauchy(self._data.shape)
    if sigma != 1.0:
        a *= sigma
    if median != 0.0:
        a += median
    return _fill(self, a.astype(npd), "CauchyBackward0")


def _log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp(N(mean, std**2)) samples (mean and std of the underlying normal)."""
    mean, std = float(_num(mean)), float(_num(std))
    npd = self._data.dtype
    if not _is_float(npd):
        raise _not_implemented("log_normal_cpu", self.dtype)
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_fmt(std)}")
    a = _normal(_rng(generator), self._data.shape, _work_float(npd), mean, std)
    np.exp(a, out=a)
    return _fill(self, a.astype(npd, copy=False), "LogNormalBackward0")


def _bernoulli_method(self, p=None, *, generator=None):
    return bernoulli(self, p, generator=generator)


def _multinomial_method(self, num_samples, replacement=False, *, generator=None):
    return multinomial(self, num_samples, replacement, generator=generator)


Tensor.uniform_ = _uniform_
Tensor.normal_ = _normal_
Tensor.random_ = _random_
Tensor.bernoulli_ = _bernoulli_
Tensor.exponential_ = _exponential_
Tensor.geometric_ = _geometric_
Tensor.cauchy_ = _cauchy_
Tensor.log_normal_ = _log_normal_
Tensor.bernoulli = _bernoulli_method
Tensor.multinomial = _multinomial_method
