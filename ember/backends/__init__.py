"""`ember.backends`: the flags scripts set (cudnn.benchmark ...) and truthful availability."""
from types import SimpleNamespace

__all__ = ["cudnn", "cuda", "mps", "mkldnn", "openmp"]


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


class _Cuda:
    matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                             allow_bf16_reduced_precision_reduction=True)

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


cudnn = _Cudnn()
cuda = _Cuda()
mps = _Mps()
mkldnn = _Available(False)
openmp = _Available(False)
