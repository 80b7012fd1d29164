"""torch.testing: `assert_close`, `make_tensor` and the deprecated `assert_allclose`.

Loaded lazily (`ember.testing` is in ember's `_LAZY_MODULES`), so `import ember` pays nothing for
it. torch.testing's other public name, `FileCheck`, checks TorchScript IR and has no meaning
without TorchScript, so ember leaves it out.
"""
from ember.testing._comparison import assert_allclose, assert_close
from ember.testing._creation import make_tensor

__all__ = ["assert_allclose", "assert_close", "make_tensor"]
