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
