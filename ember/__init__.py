"""ember: PyTorch's public API in readable Python on NumPy.

`import ember as torch` gives torch's names, signatures, dtypes, printing and errors. The layers,
bottom-up: `_backend` (NumPy/CuPy/SciPy), `_dtype`/`_device`, `_tensor`, `autograd`, `_ops`
(one file per op family), then this namespace, `nn`, `optim`, `utils` and the rest.
"""
import builtins as _builtins   # the names below shadow max, min, sum, int, float, bool...
import warnings as _warnings
from math import e, inf, nan, pi   # torch.e, torch.inf, torch.nan, torch.pi: Python floats

from ember import _dtype, _threads
from ember._dtype import (bfloat16, bool, cdouble, cfloat, chalf, complex32, complex64, complex128,
                          double, dtype, finfo, float, float8_e4m3fn, float8_e4m3fnuz,
                          float8_e5m2, float8_e5m2fnuz, float16, float32, float64, half, iinfo, int,
                          int8, int16, int32, int64, long, short, uint8, uint16, uint32, uint64,
                          can_cast, get_default_dtype, promote_types, result_type,
                          set_default_dtype)
from ember._device import device
from ember._tensor import Size, Tensor

# print (and pickle) as the public names, as torch's `<class 'torch.Tensor'>` does
for _cls in (Tensor, Size, dtype, device, finfo, iinfo):
    _cls.__module__ = "ember"
del _cls
from ember.autograd.anomaly_mode import (is_anomaly_check_nan_enabled, is_anomaly_enabled,
                                         set_anomaly_enabled)
from ember.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                      is_inference_mode_enabled, no_grad, set_grad_enabled)
from ember._ops.creation import *      # noqa: F401,F403
from ember._ops.pointwise import *     # noqa: F401,F403
from ember._ops.reduction import *     # noqa: F401,F403
from ember._ops.softmax import *       # noqa: F401,F403
from ember._ops.scan import *          # noqa: F401,F403
from ember._ops.statistics import *    # noqa: F401,F403
from ember._ops.shape import *         # noqa: F401,F403
from ember._ops.indexing import *      # noqa: F401,F403
from ember._ops.indexing_ops import *  # noqa: F401,F403
from ember._ops.linalg import *        # noqa: F401,F403
from ember._ops.random import *        # noqa: F401,F403
from ember._ops.manipulation import *  # noqa: F401,F403
from ember._ops.sorting import *       # noqa: F401,F403
from ember._ops.spectral import *      # noqa: F401,F403
from ember._ops.binning import *       # noqa: F401,F403
from ember._ops.linalg_factor import *  # noqa: F401,F403
from ember._ops.lowrank import *       # noqa: F401,F403
from ember._ops.special_functions import igamma, igammac  # noqa: F401
from ember._nn_aliases import *        # noqa: F401,F403  (torch.conv2d, torch.dropout, ...)
from ember._storage import *           # noqa: F401,F403
from ember import _storage
from ember import autograd, backends, cuda, accelerator, version
from ember._printing import set_printoptions
from ember.version import __version__

newaxis = None   # torch.newaxis, as NumPy's: x[:, ember.newaxis]

# NumPy warns on inf/nan arithmetic (log(0), 0/0); torch computes the same values silently.
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember\.")

# Module objects torch exposes at top level: layouts and memory formats (markers only).


class layout:
    __slots__ = ("_name",)

    def __init__(self, name):
        self._name = name

    def __repr__(self):   # as the dtypes print: ember.strided, ember.channels_last
        return "ember." + self._name

    def __reduce__(self):
        return self._name


class memory_format(layout):
    __slots__ = ()


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")


def set_num_threads(n):
    """The intra-op thread count: of ember's own splitting and of OpenBLAS's GEMMs (when
    NumPy's BLAS is OpenBLAS); 1 keeps all work on one thread."""
    if not isinstance(n, _builtins.int) or n < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    _threads.set_num_threads(n)


def get_num_threads():
    return _threads.num_threads()


def set_num_interop_threads(n):
    pass


def get_num_interop_threads():
    return 1


def set_flush_denormal(mode):
    """Whether flushing denormals to zero could be turned on: NumPy gives no control of the
    CPU's FTZ/DAZ modes, so False (torch's answer where it is unsupported) and nothing changes."""
    return False


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_storage(obj):
    return isinstance(obj, (_storage.UntypedStorage, _storage.TypedStorage))


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def numel(input):
    return input.numel()


def typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    return type(obj).__name__


def set_default_tensor_type(t):
    """Legacy: set the default dtype from a tensor type (FloatTensor / DoubleTensor / string)."""
    if isinstance(t, str):
        from ember._tensor import _LEGACY_NAMES
        t = _LEGACY_NAMES[t.replace("ember.", "torch.")]
    else:
        t = t._ember_dtype
    set_default_dtype(t)


def detach(input):
    return input.detach()


def fill(input, value):
    """A new tensor of input's shape and dtype filled with value."""
    return full_like(input, value.item() if isinstance(value, Tensor) else value)


def fill_(input, value):
    return input.fill_(value)


def zero_(input):
    return input.zero_()


def is_inference(input):
    return input.is_inference()


# Global settings scripts touch. ember's kernels are deterministic and compute float32 matmuls
# in float32, so these flags are kept (and reported back) but change nothing.
_settings = {"deterministic": False, "warn_only": False, "matmul_precision": "highest",
             "warn_always": False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    if not isinstance(mode, _builtins.bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be "
                        f"bool, not {type(mode).__name__}")
    _settings["deterministic"], _settings["warn_only"] = mode, _builtins.bool(warn_only)


def are_deterministic_algorithms_enabled():
    return _settings["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _settings["warn_only"]


def set_float32_matmul_precision(precision):
    """'highest', 'high' or 'medium' (a hint for TF32/bfloat16 matmuls torch may use on GPUs;
    ember always multiplies float32 in float32). Anything else warns and changes nothing."""
    if precision not in ("highest", "high", "medium"):
        _warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                       f"setFloat32MatmulPrecision call has no effect.", stacklevel=2)
        return
    _settings["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _settings["matmul_precision"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode):
    """use_deterministic_algorithms as one setting: 'default' (0) off, 'warn' (1) warn only,
    'error' (2) on."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, "
                               f"`warn`, `error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif not isinstance(debug_mode, _builtins.int):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    elif debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    if not _settings["deterministic"]:
        return 0
    return 1 if _settings["warn_only"] else 2


def set_warn_always(b):
    """Whether warnings torch gives once per process are given every time (kept: ember's
    warnings are given every time)."""
    _settings["warn_always"] = _builtins.bool(b)


def is_warn_always_enabled():
    return _settings["warn_always"]


def get_device(input):
    return input.get_device()


def is_distributed(input):
    return False


def is_vulkan_available():
    return False


def init_num_threads():
    """Sets up intra-op threads for the calling thread: ember's helper thread starts when
    first used, so there is nothing to do."""


def get_device_module(device_=None):
    """The module of a device type: ember.cpu (the current accelerator, as none exists, when
    device_ is None), ember.cuda for 'cuda'."""
    kind = "cpu" if device_ is None else device(device_).type
    import importlib
    try:
        return importlib.import_module(f"ember.{kind}")
    except ModuleNotFoundError:
        raise RuntimeError(f"Device '{kind}' does not have a corresponding module registered "
                           f"as 'torch.{kind}'.") from None


def detach_(input):
    return input.detach_()


def addmv_(input, mat, vec, *, beta=1, alpha=1):
    return input.addmv_(mat, vec, beta=beta, alpha=alpha)


def index_put_(input, indices, values, accumulate=False):
    return input.index_put_(indices, values, accumulate)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """An uninitialised tensor of `size` laid out in memory in the order `physical_layout`
    gives (outermost dim first): dense, strides permuted accordingly."""
    size, order = tuple(size), tuple(physical_layout)
    if len(size) != len(order):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {len(size)} is not equal to "
                           f"len(physical_layout) = {len(order)}")
    for i, d in enumerate(order):
        if not 0 <= d < len(size):
            raise RuntimeError(f"Dimension out of range (expected to be between 0 and "
                               f"{len(size) - 1}, but got {d} at index {i}).  NB: negative "
                               f"dims not currently supported; file an issue if you want it.")
    if len(set(order)) != len(order):
        raise RuntimeError("Duplicate dim not allowed")
    t = empty([size[d] for d in order], dtype=dtype, device=device)
    inverse = sorted(_builtins.range(len(order)), key=order.__getitem__)
    return t.permute(inverse).detach().requires_grad_(requires_grad)


def get_default_device():
    return device("cpu")


def set_default_device(device_):
    """Only the CPU exists here: None or 'cpu' are accepted. 'cuda' raises the error a
    CPU-only torch gives when it would first create a tensor there (torch raises it at that
    later point; ember at once, rather than create CPU tensors the script did not ask for)."""
    if device_ is None:
        return
    kind = device(device_).type
    if kind == "cuda":
        from ember.cuda import _not_compiled
        _not_compiled()
    if kind != "cpu":
        raise RuntimeError(f"ember has no '{kind}' device: tensors live on the CPU")


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False, **kwargs):
    """torch.compile without a compiler: the model or function runs eagerly, which computes
    the same values (ember has no graph capture). Works as a call and as a decorator."""
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise RuntimeError("torch.compile() expects a callable or an nn.Module")
    return model


# Subpackages and heavier modules load on first use, so `import ember` stays fast.
_LAZY_MODULES = {"nn", "optim", "utils", "linalg", "fft", "special", "serialization",
                 "safetensors", "distributions", "amp", "testing", "compat", "random",
                 "return_types", "func", "cpu", "xpu", "mps", "jit", "signal"}
_LAZY_FUNCTIONS = {"save": "ember.serialization", "load": "ember.serialization",
                   "vmap": "ember.func"}


def __getattr__(name):
    import importlib
    if name in _LAZY_MODULES:
        try:
            module = importlib.import_module("ember." + name)
        except ModuleNotFoundError as exc:
            if exc.name != "ember." + name:
                raise   # the module exists but lacks a dependency: that error is the news
            # not written yet: an AttributeError, so that hasattr(ember, name) is False
            raise AttributeError(f"module 'ember' has no attribute '{name}' (ember.{name} is "
                                 f"not implemented yet)") from None
        globals()[name] = module
        return module
    if name in _LAZY_FUNCTIONS:
        value = getattr(importlib.import_module(_LAZY_FUNCTIONS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ember' has no attribute '{name}'")
