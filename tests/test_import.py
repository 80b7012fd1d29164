"""`import ember` stays light: no torch, no SciPy, no optional extras at import time."""
import subprocess
import sys


def test_import_pulls_in_nothing_heavy():
    code = ("import sys, ember; heavy = [m for m in ('torch', 'scipy', 'ml_dtypes', "
            "'safetensors', 'cupy', 'tqdm', 'PIL', 'mpi4py') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"import ember imported: {out}"


def test_ember_never_imports_torch():
    import pathlib
    import re
    root = pathlib.Path(__file__).resolve().parent.parent / "ember"
    pattern = re.compile(r"^\s*(import torch|from torch)\b", re.M)
    offenders = [str(p) for p in root.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_lazy_submodules_and_missing_attributes():
    """Subpackages load on first use; a name ember does not have (or a subpackage not written
    yet) is an AttributeError, so hasattr() answers False as it does on torch."""
    import types

    import ember
    assert isinstance(ember.nn, types.ModuleType) and isinstance(ember.fft, types.ModuleType)
    assert hasattr(ember, "linalg") and not hasattr(ember, "no_such_thing")
    for name in sorted(ember._LAZY_MODULES):
        try:
            assert isinstance(getattr(ember, name), types.ModuleType)
        except AttributeError as exc:
            assert f"'{name}'" in str(exc)
            assert not hasattr(ember, name)
