"""`ember.backends`: the flags scripts set (cudnn.benchmark ...) and truthful availability."""
import contextlib
import enum
from types import SimpleNamespace
import warnings

__all__ = ["cudnn", "cuda", "mps", "mkldnn", "mkl", "openmp", "opt_einsum", "cpu"]


class _Cudnn:
    """torch.backends.cudnn: flags are stored (they change nothing on the CPU)."""
    enabled = True
    benchmark = False
    deterministic = False
    allow_tf32 = True
    benchmark_limit = 10

    @staticmethod
    def is_available():
        return False

    @staticmethod
    def version():
        return None

    def flags(self, enabled=False, benchmark=False, deterministic=False, allow_tf32=True):
        import contextlib
        return contextlib.nullcontext()


# ---------------------------------------------------------------------------------------------
# Scaled dot product attention backends. ember has one SDPA implementation (the math one); the
# flags are kept as torch keeps them so that sdpa_kernel / sdp_kernel save and restore state,
# and SDPA refuses to run when every backend that can run on the CPU is off.


class SDPBackend(enum.Enum):
    """The backends of scaled_dot_product_attention (torch.nn.attention.SDPBackend)."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self):
        return self.value

    __index__ = __int__


SDPBackend.__module__ = "ember.nn.attention"

# flag name (as in torch.backends.cuda.<name>_sdp_enabled) -> backend
_SDP_FLAG_BACKENDS = {"cudnn": SDPBackend.CUDNN_ATTENTION, "flash": SDPBackend.FLASH_ATTENTION,
                      "mem_efficient": SDPBackend.EFFICIENT_ATTENTION, "math": SDPBackend.MATH,
                      "overrideable": SDPBackend.OVERRIDEABLE}
_sdp_enabled = dict.fromkeys(_SDP_FLAG_BACKENDS, True)
_sdp_priority = [1, 2, 0, 3, 4]   # torch's default order, as ints
_sdp_math_reduction = [False]


def _set_sdp_flag(name, enabled):
    if not isinstance(enabled, bool):
        raise RuntimeError(f"set_sdp_use_{name} expects a bool, but got "
                           f"{type(enabled).__name__}")
    _sdp_enabled[name] = enabled


def _check_sdp_backends():
    """SDPA calls this first: on the CPU torch runs the math or the flash kernel, and raises
    when both are disabled."""
    if not (_sdp_enabled["math"] or _sdp_enabled["flash"]):
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This "
                           "is likely due to turning off both the math kernel and the fused "
                           "kernels.")


def _sdp_enabled_backends(with_priority=False):
    backends = [b for name, b in _SDP_FLAG_BACKENDS.items() if _sdp_enabled[name]]
    if with_priority:
        backends.sort(key=lambda b: _sdp_priority.index(b.value))
    return backends


def _sdp_set_backends(backends, set_priority=False):
    for name, b in _SDP_FLAG_BACKENDS.items():
        _sdp_enabled[name] = b in backends
    if set_priority:
        order = [int(b) for b in backends]
        order += [b for b in _sdp_priority if b not in order]
        _sdp_priority[:] = order


@contextlib.contextmanager
def _sdpa_kernel(backends, set_priority=False):
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend "
                             f"instances, got {type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(dict.fromkeys(backends))
    previous = _sdp_enabled_backends(with_priority=set_priority)
    try:
        _sdp_set_backends(backends, set_priority)
        yield {}
    finally:
        _sdp_set_backends(previous, set_priority)


class _Cuda:
    matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                             allow_bf16_reduced_precision_reduction=True)

    SDPBackend = SDPBackend

    @staticmethod
    def flash_sdp_enabled():
        return _sdp_enabled["flash"]

    @staticmethod
    def enable_flash_sdp(enabled):
        _set_sdp_flag("flash", enabled)

    @staticmethod
    def mem_efficient_sdp_enabled():
        return _sdp_enabled["mem_efficient"]

    @staticmethod
    def enable_mem_efficient_sdp(enabled):
        _set_sdp_flag("mem_efficient", enabled)

    @staticmethod
    def math_sdp_enabled():
        return _sdp_enabled["math"]

    @staticmethod
    def enable_math_sdp(enabled):
        _set_sdp_flag("math", enabled)

    @staticmethod
    def cudnn_sdp_enabled():
        return _sdp_enabled["cudnn"]

    @staticmethod
    def enable_cudnn_sdp(enabled):
        _set_sdp_flag("cudnn", enabled)

    @staticmethod
    def allow_fp16_bf16_reduction_math_sdp(enabled):
        if not isinstance(enabled, bool):
            raise RuntimeError("set_sdp_use_math expects a bool, but got "
                               f"{type(enabled).__name__}")
        _sdp_math_reduction[0] = enabled

    @staticmethod
    def fp16_bf16_reduction_math_sdp_allowed():
        return _sdp_math_reduction[0]

    @staticmethod
    def is_ck_sdpa_available():
        return False

    @staticmethod
    def can_use_flash_attention(params, debug=False):
        return False

    @staticmethod
    def can_use_efficient_attention(params, debug=False):
        return False

    @staticmethod
    def can_use_cudnn_attention(params, debug=False):
        return False

    @staticmethod
    def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True,
                   enable_cudnn=True):
        """Deprecated: sdpa_kernel with the backends whose flag is True."""
        warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this "
                      "context manager will be removed. Please see "
                      "`torch.nn.attention.sdpa_kernel()` for the new context manager, with "
                      "updated signature.", FutureWarning, stacklevel=2)
        chosen = [(enable_flash, SDPBackend.FLASH_ATTENTION),
                  (enable_mem_efficient, SDPBackend.EFFICIENT_ATTENTION),
                  (enable_math, SDPBackend.MATH), (enable_cudnn, SDPBackend.CUDNN_ATTENTION)]
        return _sdpa_kernel([b for on, b in chosen if on])

    @staticmethod
    def is_built():
        return False

    @staticmethod
    def is_flash_attention_available():
        return False


class _Mps:
    @staticmethod
    def is_available():
        return False

    @staticmethod
    def is_built():
        return False


class _Available:
    def __init__(self, available):
        self._available = available

    def is_available(self):
        return self._available


class _OptEinsum(_Available):
    """torch.backends.opt_einsum: torch uses the opt_einsum package for contraction order when
    installed; ember's einsum leaves the order to NumPy, so this reports what torch does
    without the package."""
    enabled = False
    strategy = None


class _Cpu:
    @staticmethod
    def get_cpu_capability():
        """The widest SIMD level NumPy's kernels use on this CPU, in torch's words: "AVX512",
        "AVX2" or "DEFAULT" ("NO AVX" and others on other architectures are not told apart)."""
        try:
            from numpy._core._multiarray_umath import __cpu_features__ as f
        except ImportError:   # NumPy < 2
            from numpy.core._multiarray_umath import __cpu_features__ as f
        if all(f.get(k) for k in ("AVX512F", "AVX512CD", "AVX512BW", "AVX512DQ", "AVX512VL")):
            return "AVX512"
        return "AVX2" if f.get("AVX2") else "DEFAULT"


cudnn = _Cudnn()
cuda = _Cuda()
mps = _Mps()
mkldnn = _Available(False)
mkl = _Available(False)
openmp = _Available(False)
opt_einsum = _OptEinsum(False)
cpu = _Cpu()
